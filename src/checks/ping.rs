//! Ping decisions, without sockets: which targets to ping with which settings and tags
//! ([`plan`]), what one check's replies become as metrics ([`metrics`]), and the one-line
//! summary `nocbox status` shows for the `ping` component ([`Board`]). `icmp.rs` does the IO.
//!
//! Metrics follow Datadog's NDM ping (`networkdevice.ping.*`): `avg_rtt` in milliseconds,
//! fractional (Datadog truncates to whole ms), `reachable`/`unreachable` 0 or 1 (reachable = at
//! least one reply), `packet_loss` in percent, tagged `target_host:<ip>`. A name is pinged at
//! every address it resolves to, one series per address, each also tagged `target_name:<name>`
//! and `address_family`, so a name whose IPv6 address is down shows exactly that.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Config, PingConfig};
use crate::event::MetricRecord;

use super::{add_tags, family, gauge, literal};

/// Most addresses of one name that are pinged; the rest are left out of that check (a name
/// that resolves to a whole pool is not one device).
pub const MAX_ADDRESSES: usize = 16;

/// One thing to ping, after merging `ping.targets` with `snmp.devices`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// As written: an address or a name.
    pub host: String,
    /// The address when `host` is one (no lookup then).
    pub literal: Option<IpAddr>,
    pub count: u32,
    pub interval: Duration,
    pub timeout: Duration,
    pub gap: Duration,
    /// Global, section, target and device tags; `target_host` is added per address.
    pub tags: Vec<String>,
}

/// The targets of the `ping` section: `targets` in order, then (with `snmp_devices: true`) the
/// devices of `snmp.devices` not already listed. A target whose address is an SNMP device gets
/// the device's tags, `snmp_device:<ip>` and `device_namespace`, as the device's SNMP metrics
/// have; the same address or name listed twice is pinged once, with the first entry's settings.
pub fn plan(cfg: &Config) -> Vec<Target> {
    let Some(p) = &cfg.ping else {
        return Vec::new();
    };
    let ns = cfg.namespace.clone().unwrap_or_else(|| "default".into());
    let devices = crate::inputs::devices(cfg);
    let mut out: Vec<Target> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let key = |host: &str| match literal(host) {
        Some(ip) => ip.to_string(),
        None => host.trim().to_ascii_lowercase(),
    };
    let device_tags = |ip: IpAddr, tags: &mut Vec<String>| {
        if let Some(d) = devices.get(&ip) {
            add_tags(tags, &d.tags);
            add_tags(
                tags,
                &[
                    format!("snmp_device:{ip}"),
                    format!("device_namespace:{ns}"),
                ],
            );
        }
    };
    for t in &p.targets {
        let k = key(&t.host);
        if seen.contains_key(&k) {
            continue;
        }
        let lit = literal(&t.host);
        let mut tags = base_tags(&cfg.tags, p);
        add_tags(&mut tags, &t.tags);
        if let Some(ip) = lit {
            device_tags(ip, &mut tags);
        }
        seen.insert(k, out.len());
        out.push(Target {
            host: lit.map_or_else(|| t.host.trim().to_string(), |ip| ip.to_string()),
            literal: lit,
            count: t.count.unwrap_or(p.count),
            interval: t.interval.unwrap_or(p.interval),
            timeout: t.timeout.unwrap_or(p.timeout),
            gap: p.packet_interval,
            tags,
        });
    }
    if p.snmp_devices {
        for d in cfg.snmp.iter().flat_map(|s| &s.devices) {
            let ip = d.ip_address;
            if seen.contains_key(&ip.to_string()) {
                continue;
            }
            let mut tags = base_tags(&cfg.tags, p);
            device_tags(ip, &mut tags);
            seen.insert(ip.to_string(), out.len());
            out.push(Target {
                host: ip.to_string(),
                literal: Some(ip),
                count: p.count,
                interval: p.interval,
                timeout: p.timeout,
                gap: p.packet_interval,
                tags,
            });
        }
    }
    out
}

fn base_tags(global: &[String], p: &PingConfig) -> Vec<String> {
    let mut tags = Vec::new();
    add_tags(&mut tags, global);
    add_tags(&mut tags, &p.tags);
    tags
}

/// Why an echo request got no reply, when we know more than "nothing came back".
#[derive(Clone, Debug, PartialEq)]
pub enum Lost {
    /// No reply within the timeout.
    Timeout,
    /// An ICMP error came back instead (raw sockets see these), e.g. `destination unreachable`.
    IcmpError(String),
    /// The kernel refused the send (`Network is unreachable`, no route).
    Send(String),
}

/// The replies of one check to one address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probe {
    pub sent: u32,
    /// Round-trip times of the replies, measured by us from just before each send.
    pub rtts: Vec<Duration>,
    /// Why the first unanswered request was not answered.
    pub lost: Option<Lost>,
}

impl Probe {
    pub fn reachable(&self) -> bool {
        !self.rtts.is_empty()
    }
    /// Percent of requests without a reply (100 when nothing could be sent).
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 100.0;
        }
        let got = self.rtts.len().min(self.sent as usize) as f64;
        (f64::from(self.sent) - got) * 100.0 / f64::from(self.sent)
    }
    /// Mean RTT in milliseconds, `None` without replies.
    pub fn avg_rtt_ms(&self) -> Option<f64> {
        if self.rtts.is_empty() {
            return None;
        }
        let sum: f64 = self.rtts.iter().map(|d| d.as_secs_f64() * 1000.0).sum();
        Some(sum / self.rtts.len() as f64)
    }
    /// `0.052 ms`, `33% loss, 1.2 ms`, `no reply, 100% loss`, `destination unreachable: host`.
    pub fn describe(&self) -> String {
        let loss = self.loss_percent();
        match (self.avg_rtt_ms(), &self.lost) {
            (Some(ms), _) if loss > 0.0 => format!(
                "{loss:.0}% loss, {}",
                super::fmt_ms(Duration::from_secs_f64(ms / 1000.0))
            ),
            (Some(ms), _) => super::fmt_ms(Duration::from_secs_f64(ms / 1000.0)),
            (None, Some(Lost::IcmpError(e))) => e.clone(),
            (None, Some(Lost::Send(e))) => format!("cannot send: {e}"),
            (None, _) => "no reply, 100% loss".into(),
        }
    }
}

/// The metrics of one check of one address. `name` is the configured name when the target is
/// a name. `avg_rtt` is sent only when a reply came (an average of nothing is not 0 ms).
pub fn metrics(
    ip: IpAddr,
    name: Option<&str>,
    probe: &Probe,
    tags: &[String],
    ts: i64,
    host: &str,
) -> Vec<MetricRecord> {
    let mut t = tags.to_vec();
    t.push(format!("target_host:{ip}"));
    if let Some(n) = name {
        t.push(format!("target_name:{n}"));
        t.push(format!("address_family:{}", family(&ip)));
    }
    let up = probe.reachable();
    let mut out = Vec::with_capacity(4);
    if let Some(ms) = probe.avg_rtt_ms() {
        out.push(gauge("networkdevice.ping.avg_rtt", ms, t.clone(), ts, host));
    }
    let b = |v: bool| if v { 1.0 } else { 0.0 };
    out.push(gauge(
        "networkdevice.ping.reachable",
        b(up),
        t.clone(),
        ts,
        host,
    ));
    out.push(gauge(
        "networkdevice.ping.unreachable",
        b(!up),
        t.clone(),
        ts,
        host,
    ));
    out.push(gauge(
        "networkdevice.ping.packet_loss",
        probe.loss_percent(),
        t,
        ts,
        host,
    ));
    out
}

/// A name that did not resolve is unreachable: reachable 0, unreachable 1, loss 100, tagged
/// `target_host:<name>` (there is no address) and `target_name:<name>`, so a monitor on
/// `unreachable` also fires when a device's name vanishes from DNS.
pub fn dns_failure_metrics(name: &str, tags: &[String], ts: i64, host: &str) -> Vec<MetricRecord> {
    let mut t = tags.to_vec();
    t.push(format!("target_host:{name}"));
    t.push(format!("target_name:{name}"));
    vec![
        gauge("networkdevice.ping.reachable", 0.0, t.clone(), ts, host),
        gauge("networkdevice.ping.unreachable", 1.0, t.clone(), ts, host),
        gauge("networkdevice.ping.packet_loss", 100.0, t, ts, host),
    ]
}

/// How one address (or an unresolved name) fared in its latest check: `None` = reachable.
pub type Verdict = (String, Option<String>);

/// The latest verdict of every target, kept up to date one check at a time, summarised for
/// `nocbox status`: `3 of 4 addresses reachable; unreachable: 127.0.0.66 (no reply, 100% loss)`.
#[derive(Debug, Default)]
pub struct Board {
    by_target: HashMap<String, Vec<Verdict>>,
    down: BTreeMap<String, String>,
    total: usize,
}

/// Unreachable addresses named in the summary; the rest are counted.
const NAMED: usize = 5;

impl Board {
    /// Replaces `target`'s verdicts (one per address it resolved to) with this check's.
    pub fn record(&mut self, target: &str, verdicts: Vec<Verdict>) {
        if let Some(old) = self.by_target.remove(target) {
            self.total -= old.len();
            for (label, why) in old {
                if why.is_some() {
                    self.down.remove(&label);
                }
            }
        }
        self.total += verdicts.len();
        for (label, why) in &verdicts {
            if let Some(w) = why {
                self.down.insert(label.clone(), w.clone());
            }
        }
        self.by_target.insert(target.to_string(), verdicts);
    }

    pub fn unreachable(&self) -> usize {
        self.down.len()
    }

    pub fn message(&self) -> String {
        let up = self.total - self.down.len();
        let mut m = format!("{up} of {} addresses reachable", self.total);
        if !self.down.is_empty() {
            let named: Vec<String> = self
                .down
                .iter()
                .take(NAMED)
                .map(|(l, w)| format!("{l} ({w})"))
                .collect();
            m.push_str("; unreachable: ");
            m.push_str(&named.join(", "));
            if self.down.len() > NAMED {
                m.push_str(&format!(" and {} more", self.down.len() - NAMED));
            }
        }
        m
    }
}

/// The label of one address in the summary: `10.0.0.1`, or `sw1.example (2001:db8::1)`.
pub fn label(name: Option<&str>, ip: IpAddr) -> String {
    match name {
        Some(n) => format!("{n} ({ip})"),
        None => ip.to_string(),
    }
}

/// An ICMP error in words, from its type and code (RFC 792, RFC 4443).
pub fn icmp_error_text(v6: bool, ty: u8, code: u8) -> String {
    let unreachable = |what: &str| format!("destination unreachable: {what}");
    match (v6, ty, code) {
        (false, 3, 0) => unreachable("network"),
        (false, 3, 1) => unreachable("host"),
        (false, 3, 3) => unreachable("port"),
        (false, 3, 9 | 10 | 13) => unreachable("administratively prohibited"),
        (false, 3, c) => unreachable(&format!("code {c}")),
        (false, 11, _) | (true, 3, _) => "time exceeded".into(),
        (true, 1, 0) => unreachable("no route"),
        (true, 1, 1) => unreachable("administratively prohibited"),
        (true, 1, 3) => unreachable("address"),
        (true, 1, c) => unreachable(&format!("code {c}")),
        (_, t, c) => format!("ICMP type {t} code {c}"),
    }
}

/// Why no ICMP socket could be opened, and what fixes it: the datagram socket needs the
/// process's group inside `net.ipv4.ping_group_range` (which also covers ICMPv6), the raw socket
/// needs CAP_NET_RAW. `range` is the sysctl's current value, `gid` the process's group.
pub fn explain_socket_failure(
    v6: bool,
    dgram: Option<&std::io::Error>,
    raw: Option<&std::io::Error>,
    gid: u32,
    range: Option<(i64, i64)>,
) -> String {
    let fam = if v6 { "IPv6" } else { "IPv4" };
    if [dgram, raw]
        .iter()
        .flatten()
        .any(|e| e.raw_os_error() == Some(libc::EAFNOSUPPORT))
    {
        return format!("cannot ping {fam} addresses: {fam} is not available on this host");
    }
    let mut parts = Vec::new();
    if let Some(e) = dgram {
        let inside = range.map(|(lo, hi)| (lo..=hi).contains(&i64::from(gid)));
        let why = match (inside, range) {
            (Some(false), Some((lo, hi))) => {
                format!("group {gid} is outside net.ipv4.ping_group_range ({lo} {hi})")
            }
            _ => format!("is group {gid} inside net.ipv4.ping_group_range?"),
        };
        parts.push(format!("unprivileged datagram socket: {e} ({why})"));
    }
    if let Some(e) = raw {
        parts.push(format!("raw socket: {e} (needs CAP_NET_RAW)"));
    }
    format!(
        "cannot open an ICMP socket for {fam}: {}. Fix: allow unprivileged ping with \
         sysctl net.ipv4.ping_group_range=\"0 2147483647\" (per network namespace, also covers \
         ICMPv6; the Terraform module sets it), or give nocbox CAP_NET_RAW (ping.socket: raw or auto)",
        parts.join("; ")
    )
}

/// `net.ipv4.ping_group_range` as two numbers.
pub fn parse_group_range(text: &str) -> Option<(i64, i64)> {
    let mut it = text.split_whitespace().map(|n| n.parse::<i64>());
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(lo)), Some(Ok(hi)), None) => Some((lo, hi)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "ping_tests.rs"]
mod tests;

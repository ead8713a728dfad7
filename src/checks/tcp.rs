//! TCP check decisions, without sockets: which of a name's addresses to check ([`select`]),
//! what a connect error means ([`classify`]), the status line ([`message`]), the metrics
//! ([`metrics`]) and the component state ([`Health`]). `tcp_task.rs` resolves and connects.
//!
//! Datadog's tcp_check semantics, except that every address of the name is checked by default
//! (Datadog keeps only the first, which is IPv6 under glibc's ordering: a service listening only
//! on IPv4 then looks down, IC #12526). `network.tcp.can_connect` (1/0) and
//! `network.tcp.response_time` (seconds, on success, with `collect_response_time`) carry
//! `instance`, `target_host`, `port`, `url:<host>:<port>` and, per address, `address` and
//! `address_family`, plus the check's and the global tags.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use crate::config::TcpCheckConfig;
use crate::event::MetricRecord;

use super::{add_tags, family, fmt_ms, gauge};

/// How a connect to one address ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Connected after this long.
    Open(Duration),
    /// RST: nothing listens there.
    Refused,
    /// No answer within the configured timeout.
    TimedOut(Duration),
    /// The OS gave up first (ETIMEDOUT).
    OsTimedOut,
    /// `host unreachable`, `network unreachable` (ICMP error or no route).
    Unreachable(&'static str),
    /// Anything else, as the OS says it.
    Failed(String),
}

impl Outcome {
    pub fn is_open(&self) -> bool {
        matches!(self, Outcome::Open(_))
    }

    /// `ok in 1.3 ms`, `refused`, `timed out after 1 s`, `unreachable (no route to host)`.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Open(d) => format!("ok in {}", fmt_ms(*d)),
            Outcome::Refused => "refused".into(),
            Outcome::TimedOut(d) => format!("timed out after {}", humantime::format_duration(*d)),
            Outcome::OsTimedOut => "timed out (by the OS, before the configured timeout)".into(),
            Outcome::Unreachable(what) => format!("unreachable ({what})"),
            Outcome::Failed(e) => format!("failed: {e}"),
        }
    }
}

/// What a connect error means to a person.
pub fn classify(e: &io::Error) -> Outcome {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Outcome::Refused,
        Some(libc::ETIMEDOUT) => Outcome::OsTimedOut,
        Some(libc::EHOSTUNREACH) => Outcome::Unreachable("no route to host"),
        Some(libc::ENETUNREACH) => Outcome::Unreachable("network is unreachable"),
        Some(libc::EADDRNOTAVAIL) => Outcome::Unreachable("no local address of that family"),
        Some(libc::EAFNOSUPPORT) => Outcome::Unreachable("address family not supported here"),
        _ => match e.kind() {
            io::ErrorKind::ConnectionRefused => Outcome::Refused,
            io::ErrorKind::TimedOut => Outcome::OsTimedOut,
            _ => Outcome::Failed(e.to_string()),
        },
    }
}

/// The addresses to check, from getaddrinfo's list: duplicates removed, narrowed by
/// `ipv4_only`/`ipv6_only`, and only the first when `multiple_ips: false` (Datadog's behaviour).
pub fn select(resolved: &[IpAddr], c: &TcpCheckConfig) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in resolved {
        let wanted = match ip {
            IpAddr::V4(_) => !c.ipv6_only,
            IpAddr::V6(_) => !c.ipv4_only,
        };
        if wanted && !out.contains(ip) {
            out.push(*ip);
        }
    }
    if !c.multiple_ips {
        out.truncate(1);
    }
    out
}

/// One run of a check.
#[derive(Clone, Debug, PartialEq)]
pub enum Run {
    /// The name did not resolve (getaddrinfo's reason).
    Dns(String),
    /// It resolved, but to no address of the wanted family.
    NoAddress { resolved: Vec<IpAddr> },
    /// One result per checked address, in getaddrinfo's order.
    Checked(Vec<(IpAddr, Outcome)>),
}

/// `host:port` as people write it (`[2001:db8::1]:22` for an IPv6 literal).
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The status line: `sw1.example:22: 10.0.0.1 ok in 1.3 ms; 2001:db8::1 refused`.
pub fn message(c: &TcpCheckConfig, run: &Run) -> String {
    let hp = host_port(&c.host, c.port);
    match run {
        Run::Dns(e) => format!("{hp}: DNS failure: {e}"),
        Run::NoAddress { resolved } => {
            let fam = if c.ipv4_only { "IPv4" } else { "IPv6" };
            let list: Vec<String> = resolved.iter().map(|ip| ip.to_string()).collect();
            format!(
                "{hp}: no {fam} address to check ({} resolves to {})",
                c.host,
                list.join(", ")
            )
        }
        Run::Checked(results) => {
            let parts: Vec<String> = results
                .iter()
                .map(|(ip, o)| format!("{ip} {}", o.describe()))
                .collect();
            format!("{hp}: {}", parts.join("; "))
        }
    }
}

/// The component state of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Every address connected: OK.
    Ok,
    /// Some connected, some did not (one family down): WARNING, still healthy.
    Partial,
    /// Nothing connected, or nothing to connect to: ERROR (unhealthy, `/healthz/<check>` 503).
    Down,
}

pub fn health(run: &Run) -> Health {
    match run {
        Run::Checked(r) if !r.is_empty() => {
            let open = r.iter().filter(|(_, o)| o.is_open()).count();
            if open == r.len() {
                Health::Ok
            } else if open > 0 {
                Health::Partial
            } else {
                Health::Down
            }
        }
        _ => Health::Down,
    }
}

/// The metrics of one run. Without an address (DNS failure, no address of the family),
/// `can_connect` is 0 without `address` tags.
pub fn metrics(
    c: &TcpCheckConfig,
    global_tags: &[String],
    run: &Run,
    ts: i64,
    host: &str,
) -> Vec<MetricRecord> {
    let mut base = Vec::new();
    add_tags(&mut base, global_tags);
    add_tags(&mut base, &c.tags);
    base.push(format!("instance:{}", c.name));
    base.push(format!("target_host:{}", c.host));
    base.push(format!("port:{}", c.port));
    base.push(format!("url:{}:{}", c.host, c.port));
    let Run::Checked(results) = run else {
        return vec![gauge("network.tcp.can_connect", 0.0, base, ts, host)];
    };
    let mut out = Vec::with_capacity(results.len() * 2);
    for (ip, o) in results {
        let mut tags = base.clone();
        tags.push(format!("address:{ip}"));
        tags.push(format!("address_family:{}", family(ip)));
        let up = if o.is_open() { 1.0 } else { 0.0 };
        if let (Outcome::Open(d), true) = (o, c.collect_response_time) {
            out.push(gauge(
                "network.tcp.response_time",
                d.as_secs_f64(),
                tags.clone(),
                ts,
                host,
            ));
        }
        out.push(gauge("network.tcp.can_connect", up, tags, ts, host));
    }
    out
}

/// The component name of a check: `tcp_check:<name>` (also `/healthz/tcp_check:<name>`).
pub fn component_name(c: &TcpCheckConfig) -> String {
    format!("tcp_check:{}", c.name)
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;

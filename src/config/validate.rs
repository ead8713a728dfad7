//! Checks that need the whole typed config: sections this version does not run, empty secrets,
//! unknown Datadog sites, missing certificate files, clashing listeners. Each problem comes back
//! with the key path it concerns; `mod.rs` turns that into a position.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::locate::Seg;
use super::model::*;

/// Datadog sites as users know them from `DD_SITE`.
pub const DATADOG_SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
];

fn p(keys: &[&str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::Key(k.to_string())).collect()
}

fn file_readable(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => None,
        Ok(_) => Some(format!("{} is not a file", path.display())),
        Err(e) => Some(format!("cannot read {}: {e}", path.display())),
    }
}

pub fn check(c: &Config) -> Vec<(Vec<Seg>, String)> {
    let mut out = Vec::new();
    if let Some(t) = &c.traps {
        super::traps::check_traps(t, &mut out);
        let udp = [
            (
                "syslog.udp.listen",
                c.syslog
                    .as_ref()
                    .and_then(|s| s.udp.as_ref())
                    .map(|u| u.listen),
            ),
            ("ntp.listen", c.ntp.as_ref().map(|n| n.listen)),
        ];
        for (key, other) in udp {
            if other.is_some_and(|a| a == t.listen && a.port() != 0) {
                out.push((
                    p(&["traps", "listen"]),
                    format!("{} is also {key}", t.listen),
                ));
            }
        }
    }
    if let Some(s) = &c.syslog {
        check_syslog(s, c.api.as_ref(), &mut out);
    }
    if let Some(n) = &c.ntp {
        super::reach::check_ntp(n, &mut out);
        let syslog_udp = c.syslog.as_ref().and_then(|s| s.udp.as_ref());
        if syslog_udp.is_some_and(|u| u.listen == n.listen && n.listen.port() != 0) {
            out.push((
                p(&["ntp", "listen"]),
                format!("{} is also syslog.udp.listen", n.listen),
            ));
        }
    }
    if let Some(pc) = &c.ping {
        let has_devices = c.snmp.as_ref().is_some_and(|s| !s.devices.is_empty());
        super::reach::check_ping(pc, has_devices, &mut out);
    }
    if let Some(t) = &c.tcp_checks {
        super::reach::check_tcp_checks(t, &mut out);
    }
    let sd = c.shutdown;
    if sd.drain_period + sd.flush_timeout > Duration::from_secs(120) {
        out.push((
            p(&["shutdown"]),
            "drain_period + flush_timeout exceeds 120 s, ECS's longest stop timeout; the task would be killed mid-flush".into(),
        ));
    }
    if let Some(snmp) = &c.snmp {
        super::snmp::check_snmp(snmp, &mut out);
        let mut seen = HashSet::new();
        for (i, d) in snmp.devices.iter().enumerate() {
            // Simulators and port forwards put several agents on one address: the pair is
            // what identifies a device.
            if !seen.insert((d.ip_address, d.port.unwrap_or(161))) {
                out.push((
                    vec![
                        Seg::Key("snmp".into()),
                        Seg::Key("devices".into()),
                        Seg::Index(i),
                        Seg::Key("ip_address".into()),
                    ],
                    format!(
                        "device {}:{} is listed twice",
                        d.ip_address,
                        d.port.unwrap_or(161)
                    ),
                ));
            }
        }
    }
    if let Some(o) = &c.outputs {
        check_outputs(o, &mut out);
    }
    out
}

/// A queue size that fits: at least 1, at most 10 million events.
fn check_queue(size: usize, path: Vec<Seg>, out: &mut Vec<(Vec<Seg>, String)>) {
    if !(1..=10_000_000).contains(&size) {
        out.push((path, "must be between 1 and 10000000 events".into()));
    }
}

fn check_syslog(s: &SyslogConfig, api: Option<&ApiConfig>, out: &mut Vec<(Vec<Seg>, String)>) {
    if s.allowed_sources.as_ref().is_some_and(|l| l.is_empty()) {
        out.push((
            p(&["syslog", "allowed_sources"]),
            "is empty, which would refuse every sender; remove the key to accept everyone (is the variable behind it set?)".into(),
        ));
    }
    if s.udp.is_none() && s.tcp.is_none() {
        out.push((p(&["syslog"]), "set `udp`, `tcp` or both".into()));
    }
    if !(480..=1 << 20).contains(&s.max_message_size) {
        out.push((
            p(&["syslog", "max_message_size"]),
            "must be between 480 and 1048576 bytes (Datadog keeps at most 1 MB per log)".into(),
        ));
    }
    if let Some(t) = &s.tcp {
        let api_listen = api
            .map(|a| a.listen)
            .unwrap_or_else(|| ApiConfig::default().listen);
        if t.listen == api_listen && t.listen.port() != 0 {
            out.push((
                p(&["syslog", "tcp", "listen"]),
                format!("{} is also the API's address", t.listen),
            ));
        }
        if t.max_connections == 0 {
            out.push((
                p(&["syslog", "tcp", "max_connections"]),
                "must be at least 1".into(),
            ));
        }
        if t.max_connections_per_source == 0 {
            out.push((
                p(&["syslog", "tcp", "max_connections_per_source"]),
                "must be at least 1".into(),
            ));
        }
        if t.idle_timeout.as_secs() == 0 {
            out.push((
                p(&["syslog", "tcp", "idle_timeout"]),
                "must be at least 1s".into(),
            ));
        }
        match (&t.trusted_proxies, t.proxy_protocol) {
            (Some(l), _) if l.is_empty() => out.push((
                p(&["syslog", "tcp", "trusted_proxies"]),
                "is empty, which would refuse every connection; remove the key or list the load balancer's networks".into(),
            )),
            (Some(_), false) => out.push((
                p(&["syslog", "tcp", "trusted_proxies"]),
                "has no effect without proxy_protocol: true".into(),
            )),
            _ => {}
        }
        if t.keepalive.as_secs() == 0 || t.keepalive.as_secs() >= 350 {
            out.push((
                p(&["syslog", "tcp", "keepalive"]),
                "must be between 1s and 349s (the AWS NLB drops TCP flows idle for 350 s)".into(),
            ));
        }
        if let Some(tls) = &t.tls {
            for (key, f) in [("cert_file", &tls.cert_file), ("key_file", &tls.key_file)] {
                if let Some(m) = file_readable(f) {
                    out.push((p(&["syslog", "tcp", "tls", key]), m));
                }
            }
        }
    }
}

fn check_outputs(o: &OutputsConfig, out: &mut Vec<(Vec<Seg>, String)>) {
    if let Some(st) = &o.stdout {
        check_queue(st.queue_size, p(&["outputs", "stdout", "queue_size"]), out);
    }
    if let Some(pr) = &o.prometheus {
        check_prometheus(pr, out);
    }
    if let Some(d) = &o.datadog {
        let l = &d.logs;
        check_batching("logs", l.queue_size, l.timeout, l.flush_interval, out);
        let m = &d.metrics;
        check_batching("metrics", m.queue_size, m.timeout, m.flush_interval, out);
        if d.api_key.expose().trim().is_empty() {
            out.push((
                p(&["outputs", "datadog", "api_key"]),
                "is empty (is the environment variable behind it set?)".into(),
            ));
        }
        if !DATADOG_SITES.contains(&d.site.as_str()) {
            out.push((
                p(&["outputs", "datadog", "site"]),
                format!(
                    "unknown Datadog site `{}`; one of: {}",
                    d.site,
                    DATADOG_SITES.join(", ")
                ),
            ));
        } else if d.logs.transport == LogsTransport::Tcp
            && d.logs.endpoint.is_none()
            && !matches!(d.site.as_str(), "datadoghq.com" | "datadoghq.eu")
        {
            out.push((
                p(&["outputs", "datadog", "logs", "transport"]),
                format!(
                    "Datadog has no TCP log intake for site {}; use transport: http",
                    d.site
                ),
            ));
        }
        if let Some(f) = &d.ca_file {
            if let Some(m) = file_readable(f) {
                out.push((p(&["outputs", "datadog", "ca_file"]), m));
            }
        }
        if let Some(e) = &d.endpoint {
            if reqwest::Url::parse(e).is_err() {
                out.push((
                    p(&["outputs", "datadog", "endpoint"]),
                    format!("`{e}` is not a URL"),
                ));
            }
        }
        match (&d.logs.endpoint, d.logs.transport) {
            (Some(e), LogsTransport::Http) if reqwest::Url::parse(e).is_err() => out.push((
                p(&["outputs", "datadog", "logs", "endpoint"]),
                format!("`{e}` is not a URL (the http transport wants https://host[:port])"),
            )),
            (Some(e), LogsTransport::Tcp) if split_host_port(e).is_none() => out.push((
                p(&["outputs", "datadog", "logs", "endpoint"]),
                format!("`{e}` is not host:port (the tcp transport wants e.g. intake.logs.datadoghq.com:10516)"),
            )),
            _ => {}
        }
    }
    for (i, f) in o.syslog_forward.iter().enumerate() {
        let at = |k: &str| {
            vec![
                Seg::Key("outputs".into()),
                Seg::Key("syslog_forward".into()),
                Seg::Index(i),
                Seg::Key(k.into()),
            ]
        };
        check_queue(f.queue_size, at("queue_size"), out);
        if split_host_port(&f.address).is_none() {
            out.push((at("address"), format!("`{}` is not host:port", f.address)));
        }
        if let Some(ca) = &f.ca_file {
            if let Some(m) = file_readable(ca) {
                out.push((at("ca_file"), m));
            }
        }
    }
}

/// `outputs.datadog.<what>`: the keys the batching HTTP outputs share.
fn check_batching(
    what: &str,
    queue_size: usize,
    timeout: Duration,
    flush_interval: Duration,
    out: &mut Vec<(Vec<Seg>, String)>,
) {
    let at = |k: &str| p(&["outputs", "datadog", what, k]);
    check_queue(queue_size, at("queue_size"), out);
    if timeout.as_millis() < 100 {
        out.push((at("timeout"), "must be at least 100ms".into()));
    }
    if flush_interval.as_millis() < 10 {
        out.push((
            at("flush_interval"),
            "must be at least 10ms (0 would send one request per event)".into(),
        ));
    }
}

fn check_prometheus(pr: &PrometheusConfig, out: &mut Vec<(Vec<Seg>, String)>) {
    let at = |k: &str| p(&["outputs", "prometheus", k]);
    check_queue(pr.queue_size, at("queue_size"), out);
    if !(1..=10_000_000).contains(&pr.max_series) {
        out.push((at("max_series"), "must be between 1 and 10000000".into()));
    }
    if pr.stale_after < Duration::from_secs(1) {
        out.push((
            at("stale_after"),
            "must be at least 1s (series would vanish between updates)".into(),
        ));
    }
}

/// `host:port`, `[v6]:port` → (host, port).
pub fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("a.b:10516"), Some(("a.b".into(), 10516)));
        assert_eq!(split_host_port("[::1]:6514"), Some(("::1".into(), 6514)));
        assert_eq!(split_host_port("a.b"), None);
        assert_eq!(split_host_port(":1"), None);
        assert_eq!(split_host_port("h:99999"), None);
    }
}

//! Reachability checks: ICMP ping (`ping.rs` decides, `icmp.rs` sends) and TCP connect checks
//! (`tcp.rs` decides, `tcp_task.rs` connects). The decisions (which addresses, what the metrics
//! and the status message say) are plain functions; the tasks only resolve, send and wait.
//!
//! Checks are telemetry components of kind [`KIND`]: they show in `/status`, `nocbox status`, the
//! status page and `/healthz/<name>`, but never in the overall `/healthz`, because a device
//! being down must not make the load balancer replace nocbox (`api/mod.rs` counts only inputs
//! and outputs).
//!
//! Each check task spreads its first run over its interval ([`spread`]), so thousands of targets
//! do not fire at once, and stops on the `shutdown` token like the inputs.

pub mod icmp;
pub mod ping;
pub mod tcp;
pub mod tcp_task;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::event::{MetricRecord, MetricType};
use crate::inputs::Devices;
use crate::pipeline::Pipeline;
use crate::telemetry::Telemetry;

/// The telemetry kind of every check component.
pub const KIND: &str = "check";

/// What every check task shares.
#[derive(Clone, Debug)]
pub struct CheckContext {
    pub pipeline: Pipeline,
    pub telemetry: Telemetry,
    /// nocbox's own `hostname`: the `host` resource of check metrics, as the Datadog Agent
    /// reports its checks under its own host.
    pub hostname: String,
    /// The global `tags`.
    pub tags: Vec<String>,
    /// `namespace` (`device_namespace` tag of SNMP devices).
    pub namespace: String,
    pub devices: Devices,
    pub shutdown: CancellationToken,
}

impl CheckContext {
    pub fn new(
        cfg: &Config,
        devices: Devices,
        pipeline: Pipeline,
        telemetry: Telemetry,
        hostname: String,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(CheckContext {
            pipeline,
            telemetry,
            hostname,
            tags: cfg.tags.clone(),
            namespace: cfg.namespace.clone().unwrap_or_else(|| "default".into()),
            devices,
            shutdown,
        })
    }
}

/// Spawns the ping task group (when `ping:` is present) into `set`.
pub fn spawn_ping(cfg: &Config, ctx: &Arc<CheckContext>, set: &mut JoinSet<()>) {
    icmp::spawn(cfg, ctx, set);
}

/// Spawns one task per `tcp_checks` entry into `set`.
pub fn spawn_tcp(cfg: &Config, ctx: &Arc<CheckContext>, set: &mut JoinSet<()>) {
    let list = cfg.tcp_checks.as_deref().unwrap_or_default();
    for (i, c) in list.iter().enumerate() {
        tcp_task::spawn(c.clone(), spread(i, list.len(), c.interval), ctx, set);
    }
}

/// When the `index`-th of `total` checks with this `interval` first runs: evenly spread over one
/// interval, so 2000 targets every 15 s send about 133 checks a second instead of 2000 at once.
pub fn spread(index: usize, total: usize, interval: Duration) -> Duration {
    if total <= 1 {
        return Duration::ZERO;
    }
    let step = interval.as_nanos() / total as u128;
    let at = step.saturating_mul((index % total) as u128);
    Duration::from_nanos(u64::try_from(at).unwrap_or(u64::MAX))
}

/// `ipv4` or `ipv6` (the `address_family` tag).
pub fn family(ip: &IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(_) => "ipv6",
    }
}

/// A gauge point of a check.
pub fn gauge(metric: &str, value: f64, tags: Vec<String>, ts: i64, host: &str) -> MetricRecord {
    MetricRecord {
        metric: metric.into(),
        kind: MetricType::Gauge,
        timestamp: ts,
        value,
        tags,
        host: Some(host.to_string()),
        interval: None,
    }
}

/// A duration in milliseconds for status messages: `0.052 ms`, `1.3 ms`, `250 ms`.
pub fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Appends `more` to `tags`, skipping tags already present (the same tag from the global list
/// and a target's own list is sent once).
pub fn add_tags<'a>(tags: &mut Vec<String>, more: impl IntoIterator<Item = &'a String>) {
    for t in more {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
}

/// A host as written in the config, or an address literal (`[::1]` accepted).
pub fn literal(host: &str) -> Option<IpAddr> {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    h.parse().ok()
}

/// Resolves `host` to its addresses, in getaddrinfo's order, without duplicates. An address
/// literal is returned as is, without a lookup. The error is getaddrinfo's reason
/// (`Name or service not known`).
pub async fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    if let Some(ip) = literal(host) {
        return Ok(vec![ip]);
    }
    match tokio::net::lookup_host((host.trim(), 0)).await {
        Ok(addrs) => {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            if out.is_empty() {
                Err("no address".into())
            } else {
                Ok(out)
            }
        }
        Err(e) => Err(dns_reason(&e.to_string())),
    }
}

/// getaddrinfo's words without std's prefix.
fn dns_reason(e: &str) -> String {
    e.trim_start_matches("failed to lookup address information: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_covers_one_interval_evenly() {
        let i = Duration::from_secs(15);
        assert_eq!(spread(0, 1, i), Duration::ZERO);
        assert_eq!(spread(0, 3, i), Duration::ZERO);
        assert_eq!(spread(1, 3, i), Duration::from_secs(5));
        assert_eq!(spread(2, 3, i), Duration::from_secs(10));
        // Thousands of targets: strictly increasing, all inside the interval.
        let n = 5000;
        let offs: Vec<Duration> = (0..n).map(|k| spread(k, n, i)).collect();
        assert!(offs.windows(2).all(|w| w[0] < w[1]));
        assert!(offs[n - 1] < i);
        assert_eq!(spread(7, 0, i), Duration::ZERO);
    }

    #[test]
    fn milliseconds_read_well() {
        assert_eq!(fmt_ms(Duration::from_micros(52)), "0.052 ms");
        assert_eq!(fmt_ms(Duration::from_micros(1300)), "1.3 ms");
        assert_eq!(fmt_ms(Duration::from_millis(250)), "250 ms");
    }

    #[test]
    fn literals_and_tags() {
        assert_eq!(literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(literal(" 10.0.0.1 "), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(literal("sw1.example"), None);
        let mut t = vec!["a:1".to_string()];
        add_tags(&mut t, &["a:1".to_string(), "b:2".to_string()]);
        assert_eq!(t, ["a:1", "b:2"]);
        assert_eq!(
            dns_reason("failed to lookup address information: Name or service not known"),
            "Name or service not known"
        );
    }

    #[tokio::test]
    async fn resolving_garbage_is_an_error_not_a_panic() {
        // Only names that fail before any query leaves the machine; DNS failures of real names
        // are tested inside a private network namespace (tests/e2e/checks.rs).
        for h in ["", "\u{0}", "sw1\u{0}.example"] {
            assert!(resolve(h).await.is_err(), "{h:?}");
        }
        assert_eq!(
            resolve("127.0.0.1").await.unwrap(),
            ["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
    }
}

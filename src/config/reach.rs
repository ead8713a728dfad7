//! The model of the time and reachability sections: `ntp`, `ping`, `tcp_checks`. Same rules as
//! `model.rs`: every field's doc comment is its documentation, unknown keys are errors.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::lists::{list, opt_list};
use super::model::{HealthCheckConfig, Network};

/// A duration as `15s`/`500ms`, or a plain number of seconds as Datadog's check configs write
/// it (`timeout: 10`, `min_collection_interval: 15`).
pub fn secs_or_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) if (0.0..1e9).contains(&s) => Ok(Duration::from_secs_f64(s)),
        Raw::Secs(s) => Err(serde::de::Error::custom(format!(
            "`{s}` is not a usable number of seconds"
        ))),
        Raw::Text(t) => humantime::parse_duration(t.trim()).map_err(|e| {
            serde::de::Error::custom(format!("`{t}` is not a duration (15s, 500ms): {e}"))
        }),
    }
}

fn opt_secs_or_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    secs_or_duration(d).map(Some)
}

// ---------------------------------------------------------------------------------------------
// ntp

/// `ntp.mode:`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NtpMode {
    /// Answer from the local clock; stratum, reference id and dispersion come from tracking the
    /// upstreams.
    #[default]
    Server,
    /// Forward each request to the upstream and its reply back to the client (stone's
    /// behaviour): the upstream's stratum and timestamps, no authentication.
    Relay,
}

/// `ntp:` the NTP service for devices.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtpConfig {
    /// Listen address (UDP). Default `0.0.0.0:5123`.
    #[serde(default = "default_ntp_listen")]
    pub listen: SocketAddr,
    /// `server` (answer from the local clock) or `relay`. Default `server`.
    #[serde(default)]
    pub mode: NtpMode,
    /// Upstream NTP servers as `host:port` (port 123 when absent). Required; on AWS
    /// `169.254.169.123:123`, the Amazon Time Sync Service.
    #[serde(default, deserialize_with = "list")]
    pub upstreams: Vec<String>,
    /// How often each upstream is polled. Default 32s (16–64 s is sensible).
    #[serde(default = "default_ntp_poll", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long an upstream may answer before a poll is given up. Default 2s.
    #[serde(default = "default_ntp_upstream_timeout", with = "humantime_serde")]
    pub upstream_timeout: Duration,
    /// With no good upstream answer for this long, replies say "unsynchronised" (leap indicator
    /// 3, stratum 16) and `/healthz/ntp` fails. Default 300s.
    #[serde(default = "default_unsync_after", with = "humantime_serde")]
    pub unsynchronised_after: Duration,
    /// A sample whose offset (upstream clock minus the local clock) is larger than this is not
    /// used: nocbox serves the local clock, so a clock this far off must not be advertised as
    /// synchronised. Default 1s.
    #[serde(default = "default_max_offset", with = "humantime_serde")]
    pub max_offset: Duration,
    /// Only these source networks get answers; others are ignored and counted. Default: everyone.
    #[serde(default, deserialize_with = "opt_list")]
    pub allowed_sources: Option<Vec<Network>>,
    /// Per-source rate limit (a token bucket per client address).
    #[serde(default)]
    pub rate_limit: NtpRateLimit,
    /// chrony-style key file (`ID TYPE [HEX:|ASCII:]KEY` per line; MD5, SHA1, AES128) for
    /// symmetric-key authentication. Server mode only.
    pub key_file: Option<PathBuf>,
    /// Answer only requests that carry a valid MAC. Default false: unauthenticated requests get
    /// unauthenticated replies, authenticated ones are checked and answered with a MAC.
    #[serde(default)]
    pub require_authentication: bool,
    /// Relay mode: most requests per second forwarded upstream, in total (AWS caps link-local
    /// services at 1024 packets/s, shared with DNS). Default 500.
    #[serde(default = "default_relay_rate")]
    pub relay_max_rate: u32,
    /// Requested SO_RCVBUF in bytes. Default 4 MiB.
    #[serde(default = "default_ntp_rcvbuf")]
    pub receive_buffer: usize,
    /// Optional TCP health-check listener: accepts connections only while NTP is healthy.
    pub health_check: Option<HealthCheckConfig>,
}

/// `ntp.rate_limit:` a token bucket per client address. The defaults never limit a client's
/// `iburst` or a site of dozens of devices behind one NAT address.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtpRateLimit {
    /// Rate limiting on. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Requests one address may send at once. Default 256.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Sustained requests per second per address. Default 16.
    #[serde(default = "default_per_second")]
    pub per_second: f64,
    /// Client addresses tracked at once (the oldest are forgotten). Default 65536.
    #[serde(default = "default_tracked")]
    pub max_sources: usize,
}

impl Default for NtpRateLimit {
    fn default() -> Self {
        NtpRateLimit {
            enabled: true,
            burst: default_burst(),
            per_second: default_per_second(),
            max_sources: default_tracked(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_ntp_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 5123))
}
fn default_ntp_poll() -> Duration {
    Duration::from_secs(32)
}
fn default_ntp_upstream_timeout() -> Duration {
    Duration::from_secs(2)
}
fn default_unsync_after() -> Duration {
    Duration::from_secs(300)
}
fn default_max_offset() -> Duration {
    Duration::from_secs(1)
}
fn default_relay_rate() -> u32 {
    500
}
fn default_ntp_rcvbuf() -> usize {
    4 << 20
}
fn default_burst() -> u32 {
    256
}
fn default_per_second() -> f64 {
    16.0
}
fn default_tracked() -> usize {
    65536
}

// ---------------------------------------------------------------------------------------------
// ping

/// `ping:` ICMP echo to devices.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingConfig {
    /// Addresses or names to ping; each an address/name or `{host, count, interval, timeout,
    /// tags}`. A list or one comma-separated string.
    #[serde(default, deserialize_with = "list")]
    pub targets: Vec<PingTarget>,
    /// Also ping every device in `snmp.devices` (tagged like its SNMP metrics). Default false.
    #[serde(default)]
    pub snmp_devices: bool,
    /// How often each target is checked. Default 15s.
    #[serde(
        default = "default_check_interval",
        deserialize_with = "secs_or_duration"
    )]
    pub interval: Duration,
    /// Echo requests per check. Default 3.
    #[serde(default = "default_ping_count")]
    pub count: u32,
    /// How long to wait for each reply. Default 1s.
    #[serde(
        default = "default_ping_timeout",
        deserialize_with = "secs_or_duration"
    )]
    pub timeout: Duration,
    /// Gap between the echo requests of one check. Default 100ms.
    #[serde(default = "default_packet_gap", with = "humantime_serde")]
    pub packet_interval: Duration,
    /// Socket type: `auto` (unprivileged datagram, then raw), `dgram` or `raw`. Default `auto`.
    #[serde(default)]
    pub socket: PingSocket,
    /// Tags added to every ping metric.
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<String>,
}

/// `ping.socket:`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PingSocket {
    #[default]
    Auto,
    Dgram,
    Raw,
}

/// One ping target: `10.0.0.1`, or `{host: 10.0.0.1, count: 5, interval: 30s, timeout: 2s}`.
#[derive(Clone, Debug, PartialEq)]
pub struct PingTarget {
    pub host: String,
    pub count: Option<u32>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PingTargetMap {
    host: String,
    count: Option<u32>,
    #[serde(default, deserialize_with = "opt_secs_or_duration")]
    interval: Option<Duration>,
    #[serde(default, deserialize_with = "opt_secs_or_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "list")]
    tags: Vec<String>,
}

impl<'de> Deserialize<'de> for PingTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        if let serde_yaml::Value::String(s) = &v {
            return Ok(PingTarget {
                host: s.trim().to_string(),
                count: None,
                interval: None,
                timeout: None,
                tags: Vec::new(),
            });
        }
        // Typed parsing of the map form, so an unknown key gets its own clear message.
        match serde_yaml::from_value::<PingTargetMap>(v) {
            Ok(m) => Ok(PingTarget {
                host: m.host,
                count: m.count,
                interval: m.interval,
                timeout: m.timeout,
                tags: m.tags,
            }),
            Err(e) => Err(serde::de::Error::custom(format!(
                "a ping target is an address, a name, or {{host, count, interval, timeout, tags}}: {e}"
            ))),
        }
    }
}

fn default_check_interval() -> Duration {
    Duration::from_secs(15)
}
fn default_ping_count() -> u32 {
    3
}
fn default_ping_timeout() -> Duration {
    Duration::from_secs(1)
}
fn default_packet_gap() -> Duration {
    Duration::from_millis(100)
}

// ---------------------------------------------------------------------------------------------
// tcp_checks

/// One `tcp_checks:` entry, with Datadog's tcp_check option names. Unlike Datadog's check it
/// connects to every address the name resolves to unless `multiple_ips: false`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpCheckConfig {
    /// The check's name (`instance` tag).
    pub name: String,
    /// Address or DNS name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// How often the check runs. Default 15s. Datadog's `min_collection_interval` is accepted.
    #[serde(
        default = "default_check_interval",
        alias = "min_collection_interval",
        deserialize_with = "secs_or_duration"
    )]
    pub interval: Duration,
    /// Connect timeout per address (`10` or `10s`). Default 10s, as Datadog.
    #[serde(default = "default_tcp_timeout", deserialize_with = "secs_or_duration")]
    pub timeout: Duration,
    /// Check only the IPv4 addresses of `host`.
    #[serde(default)]
    pub ipv4_only: bool,
    /// Check only the IPv6 addresses of `host`.
    #[serde(default)]
    pub ipv6_only: bool,
    /// Check every address the name resolves to. Default true (Datadog's default is false).
    #[serde(default = "yes")]
    pub multiple_ips: bool,
    /// Send `network.tcp.response_time`. Default true (Datadog's default is false).
    #[serde(default = "yes")]
    pub collect_response_time: bool,
    /// Tags for this check's metrics.
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<String>,
}

fn default_tcp_timeout() -> Duration {
    Duration::from_secs(10)
}

// ---------------------------------------------------------------------------------------------
// checks that need the whole section

use super::locate::Seg;

/// An NTP upstream as `(host, port)`: `host:port`, `[v6]:port`, or a bare address or name
/// (port 123).
pub fn upstream_host_port(s: &str) -> Option<(String, u16)> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Some((ip.to_string(), 123));
    }
    if let Some(hp) = super::validate::split_host_port(s) {
        return Some(hp);
    }
    (!s.is_empty() && !s.contains(':') && !s.contains(char::is_whitespace))
        .then(|| (s.to_string(), 123))
}

fn at(keys: &[&str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::Key(k.to_string())).collect()
}

fn at_index(section: &str, i: usize, key: &str) -> Vec<Seg> {
    vec![
        Seg::Key(section.into()),
        Seg::Index(i),
        Seg::Key(key.into()),
    ]
}

pub(super) fn check_ntp(n: &NtpConfig, out: &mut Vec<(Vec<Seg>, String)>) {
    if n.upstreams.is_empty() {
        out.push((
            at(&["ntp", "upstreams"]),
            "list at least one upstream (on AWS: 169.254.169.123:123, the Amazon Time Sync Service)"
                .into(),
        ));
    }
    for (i, u) in n.upstreams.iter().enumerate() {
        if upstream_host_port(u).is_none() {
            out.push((
                vec![
                    Seg::Key("ntp".into()),
                    Seg::Key("upstreams".into()),
                    Seg::Index(i),
                ],
                format!("`{u}` is not host:port"),
            ));
        }
    }
    let secs = |d: Duration| d.as_secs_f64();
    if !(1.0..=1024.0).contains(&secs(n.poll_interval)) {
        out.push((
            at(&["ntp", "poll_interval"]),
            "must be between 1s and 1024s (16s to 64s suits the Amazon Time Sync Service)".into(),
        ));
    }
    if n.upstream_timeout.is_zero() || n.upstream_timeout > n.poll_interval {
        out.push((
            at(&["ntp", "upstream_timeout"]),
            "must be more than 0 and at most poll_interval".into(),
        ));
    }
    if n.unsynchronised_after < n.poll_interval * 2 {
        out.push((
            at(&["ntp", "unsynchronised_after"]),
            "must be at least twice poll_interval, or one lost poll would make the service unsynchronised".into(),
        ));
    }
    if n.max_offset.is_zero() || n.max_offset > Duration::from_secs(3600) {
        out.push((
            at(&["ntp", "max_offset"]),
            "must be more than 0 and at most 1h (0 would refuse every sample)".into(),
        ));
    }
    if n.allowed_sources.as_ref().is_some_and(|l| l.is_empty()) {
        out.push((
            at(&["ntp", "allowed_sources"]),
            "is empty, which would refuse every client; remove the key to answer everyone (is the variable behind it set?)".into(),
        ));
    }
    let r = n.rate_limit;
    if r.enabled {
        if r.burst == 0 {
            out.push((
                at(&["ntp", "rate_limit", "burst"]),
                "must be at least 1".into(),
            ));
        }
        if !(r.per_second.is_finite() && r.per_second > 0.0) {
            out.push((
                at(&["ntp", "rate_limit", "per_second"]),
                "must be a positive number".into(),
            ));
        }
        if r.max_sources == 0 {
            out.push((
                at(&["ntp", "rate_limit", "max_sources"]),
                "must be at least 1".into(),
            ));
        }
    }
    match (&n.key_file, n.mode) {
        (Some(_), NtpMode::Relay) => out.push((
            at(&["ntp", "key_file"]),
            "authentication needs mode: server (a relay cannot sign the upstream's replies)".into(),
        )),
        (None, _) if n.require_authentication => out.push((
            at(&["ntp", "require_authentication"]),
            "needs a key_file".into(),
        )),
        _ => {}
    }
    if n.mode == NtpMode::Relay && n.relay_max_rate == 0 {
        out.push((at(&["ntp", "relay_max_rate"]), "must be at least 1".into()));
    }
}

pub(super) fn check_ping(p: &PingConfig, has_devices: bool, out: &mut Vec<(Vec<Seg>, String)>) {
    if p.targets.is_empty() && !(p.snmp_devices && has_devices) {
        out.push((
            at(&["ping", "targets"]),
            "no targets: list some, or set snmp_devices: true with devices in snmp.devices (is the variable behind it set?)".into(),
        ));
    }
    let fits = |count: u32, interval: Duration, timeout: Duration| -> Option<String> {
        if !(1..=100).contains(&count) {
            return Some("count must be between 1 and 100".into());
        }
        if timeout.is_zero() || interval.is_zero() {
            return Some("interval and timeout must be more than 0".into());
        }
        let busy = p.packet_interval * (count - 1) + timeout;
        (busy > interval).then(|| {
            format!(
                "a check takes up to {} ({} packets {} apart plus the timeout), longer than its interval",
                humantime::format_duration(busy),
                count,
                humantime::format_duration(p.packet_interval)
            )
        })
    };
    if let Some(m) = fits(p.count, p.interval, p.timeout) {
        out.push((at(&["ping"]), m));
    }
    for (i, t) in p.targets.iter().enumerate() {
        let here = || {
            vec![
                Seg::Key("ping".into()),
                Seg::Key("targets".into()),
                Seg::Index(i),
            ]
        };
        if t.host.is_empty() || t.host.contains(char::is_whitespace) {
            out.push((here(), format!("`{}` is not an address or a name", t.host)));
        }
        if t.count.is_some() || t.interval.is_some() || t.timeout.is_some() {
            let m = fits(
                t.count.unwrap_or(p.count),
                t.interval.unwrap_or(p.interval),
                t.timeout.unwrap_or(p.timeout),
            );
            if let Some(m) = m {
                out.push((here(), m));
            }
        }
    }
}

pub(super) fn check_tcp_checks(list: &[TcpCheckConfig], out: &mut Vec<(Vec<Seg>, String)>) {
    let mut names = std::collections::HashSet::new();
    for (i, c) in list.iter().enumerate() {
        if c.name.trim().is_empty() {
            out.push((at_index("tcp_checks", i, "name"), "is empty".into()));
        } else if !names.insert(c.name.as_str()) {
            out.push((
                at_index("tcp_checks", i, "name"),
                format!("`{}` names two checks", c.name),
            ));
        }
        if c.host.trim().is_empty() || c.host.contains(char::is_whitespace) {
            out.push((
                at_index("tcp_checks", i, "host"),
                format!("`{}` is not an address or a name", c.host),
            ));
        }
        if c.port == 0 {
            out.push((at_index("tcp_checks", i, "port"), "must be 1-65535".into()));
        }
        if c.ipv4_only && c.ipv6_only {
            out.push((
                at_index("tcp_checks", i, "ipv6_only"),
                "ipv4_only and ipv6_only together leave nothing to check".into(),
            ));
        }
        if c.timeout.is_zero() {
            out.push((
                at_index("tcp_checks", i, "timeout"),
                "must be more than 0".into(),
            ));
        }
        if c.interval < Duration::from_secs(1) {
            out.push((
                at_index("tcp_checks", i, "interval"),
                "must be at least 1s".into(),
            ));
        }
    }
}

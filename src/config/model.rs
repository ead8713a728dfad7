//! The YAML model. Every field's doc comment is its documentation; README.md lists the same keys
//! with their defaults. Unknown keys are errors (`deny_unknown_fields`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::lists::{list, opt_list};
use super::secret::Secret;

/// The whole file. Every section is optional; with a config file an input runs only when its
/// section is present.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Name of this nocbox instance, used as `hostname` of the records it makes itself.
    /// Default: the machine's host name.
    pub hostname: Option<String>,
    /// Tags added to every record (`key:value`); a list or one comma-separated string.
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<String>,
    /// Datadog device namespace (`device_namespace` tag). Default `default`.
    pub namespace: Option<String>,
    /// The HTTP API (`/healthz`, `/status`, `/metrics`).
    pub api: Option<ApiConfig>,
    /// Syslog inputs.
    pub syslog: Option<SyslogConfig>,
    /// SNMP polling: devices, discovery, profiles.
    pub snmp: Option<super::snmp::SnmpConfig>,
    /// Outputs.
    pub outputs: Option<OutputsConfig>,
    /// What happens on SIGTERM.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// SNMP trap and inform receiver.
    pub traps: Option<super::traps::TrapsConfig>,
    /// NTP service for devices.
    pub ntp: Option<super::reach::NtpConfig>,
    /// ICMP ping of devices.
    pub ping: Option<super::reach::PingConfig>,
    /// TCP port checks.
    pub tcp_checks: Option<Vec<super::reach::TcpCheckConfig>>,
}

/// `api:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address of the HTTP API. Default `0.0.0.0:8080`.
    #[serde(default = "default_api_listen")]
    pub listen: SocketAddr,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: default_api_listen(),
        }
    }
}

fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}

/// `shutdown:` the graceful stop on SIGTERM. The defaults fit ECS's 30 s stop timeout:
/// 10 s of draining plus at most 15 s of flushing.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM, health endpoints fail at once (so the load balancer stops sending new
    /// flows) while inputs keep receiving for this long. Default 10s.
    #[serde(default = "default_drain", with = "humantime_serde")]
    pub drain_period: Duration,
    /// Then inputs stop and outputs get this long to deliver what is queued. Default 15s.
    #[serde(default = "default_flush_timeout", with = "humantime_serde")]
    pub flush_timeout: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_period: default_drain(),
            flush_timeout: default_flush_timeout(),
        }
    }
}

fn default_drain() -> Duration {
    Duration::from_secs(10)
}
fn default_flush_timeout() -> Duration {
    Duration::from_secs(15)
}

/// `syslog:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// UDP listener (RFC 5426); absent = no UDP.
    pub udp: Option<SyslogUdpConfig>,
    /// TCP listener (RFC 6587 LF, CRLF or octet-counted framing; optional TLS, PROXY v2).
    pub tcp: Option<SyslogTcpConfig>,
    /// Longest message kept, in bytes; longer ones are truncated and flagged
    /// (`syslog.truncated: true`). Default 65536.
    #[serde(default = "default_max_message")]
    pub max_message_size: usize,
    /// Only these source networks are accepted (after PROXY v2); others are dropped and counted.
    /// Default: everyone.
    #[serde(default, deserialize_with = "opt_list")]
    pub allowed_sources: Option<Vec<Network>>,
    /// Optional TCP health-check listener: accepts connections only while syslog is healthy.
    pub health_check: Option<HealthCheckConfig>,
}

fn default_max_message() -> usize {
    65536
}

/// A network in CIDR notation; a bare address means that one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network(pub IpNet);

impl Network {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<IpNet>()
            .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
            .map(Network)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{s}` is not an address or a network (10.0.0.0/8)"
                ))
            })
    }
}

/// `syslog.udp:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogUdpConfig {
    /// Listen address. Default `0.0.0.0:5514`.
    #[serde(default = "default_syslog_listen")]
    pub listen: SocketAddr,
    /// Requested SO_RCVBUF in bytes (the kernel caps it at net.core.rmem_max). Default 8 MiB.
    #[serde(default = "default_rcvbuf")]
    pub receive_buffer: usize,
}

impl Default for SyslogUdpConfig {
    fn default() -> Self {
        SyslogUdpConfig {
            listen: default_syslog_listen(),
            receive_buffer: default_rcvbuf(),
        }
    }
}

fn default_syslog_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 5514))
}

fn default_rcvbuf() -> usize {
    8 << 20
}

/// `syslog.tcp:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogTcpConfig {
    /// Listen address. Default `0.0.0.0:5514`.
    #[serde(default = "default_syslog_listen")]
    pub listen: SocketAddr,
    /// Most connections at once; further ones are closed at once and counted. Default 1024.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most connections at once from one client address (after PROXY), so one flooding host
    /// cannot hold every slot. Default 64.
    #[serde(default = "default_per_source")]
    pub max_connections_per_source: usize,
    /// A connection that sends nothing for this long is closed. Default 1h.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// TCP keepalive idle time, kept below the NLB's 350 s idle timeout. Default 60s.
    #[serde(default = "default_keepalive", with = "humantime_serde")]
    pub keepalive: Duration,
    /// Expect a PROXY protocol v2 header on every connection (NLB without client-IP
    /// preservation). Default false.
    #[serde(default)]
    pub proxy_protocol: bool,
    /// With `proxy_protocol`, only these networks (the load balancer's) may send a PROXY
    /// header; a connection from anywhere else is refused, so nobody can claim another
    /// device's address. Default: any peer (set it to the NLB's subnets).
    #[serde(default, deserialize_with = "opt_list")]
    pub trusted_proxies: Option<Vec<Network>>,
    /// Serve TLS (RFC 5425) instead of plain TCP.
    pub tls: Option<ServerTlsConfig>,
    /// While an output that takes logs has a full queue (by events or by bytes), stop reading
    /// TCP and TLS connections until it has room, so the kernel's TCP window slows the senders
    /// instead of their lines being dropped (rsyslog's "delayable sources"). UDP never waits.
    /// Counted in `nocbox.syslog.backpressure_waits` and `.backpressure_microseconds`.
    /// Default false: a slow output never slows a receiver.
    #[serde(default)]
    pub backpressure: bool,
}

impl Default for SyslogTcpConfig {
    fn default() -> Self {
        SyslogTcpConfig {
            listen: default_syslog_listen(),
            max_connections: default_max_connections(),
            max_connections_per_source: default_per_source(),
            idle_timeout: default_idle_timeout(),
            keepalive: default_keepalive(),
            proxy_protocol: false,
            trusted_proxies: None,
            tls: None,
            backpressure: false,
        }
    }
}

fn default_max_connections() -> usize {
    1024
}
fn default_per_source() -> usize {
    64
}
fn default_idle_timeout() -> Duration {
    Duration::from_secs(3600)
}
fn default_keepalive() -> Duration {
    Duration::from_secs(60)
}

/// Server certificate for a TLS listener.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsConfig {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// A TCP health-check listener for load balancers that can only check TCP.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Listen address.
    pub listen: SocketAddr,
}

/// `outputs:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsConfig {
    /// JSON lines on stdout. Default: on when no Datadog API key is set.
    pub stdout: Option<StdoutConfig>,
    /// Datadog logs and metrics.
    pub datadog: Option<DatadogConfig>,
    /// Prometheus exposition on the API's `/metrics`.
    pub prometheus: Option<PrometheusConfig>,
    /// RFC 5425 syslog over TLS (or plain TCP) to collectors.
    #[serde(default)]
    pub syslog_forward: Vec<SyslogForwardConfig>,
}

/// `outputs.stdout:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {
    /// Write records to stdout. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Queue size in events. Default 10000.
    #[serde(default = "default_queue")]
    pub queue_size: usize,
    /// Queue size in (approximate) bytes. Default 64 MiB.
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
}

impl Default for StdoutConfig {
    fn default() -> Self {
        StdoutConfig {
            enabled: true,
            queue_size: default_queue(),
            queue_bytes: default_queue_bytes(),
        }
    }
}

fn default_queue_bytes() -> usize {
    64 << 20
}

/// `outputs.prometheus:` `/metrics` on the API shows nocbox's own metrics and, from the
/// `prometheus` output, the latest value of every metric event's series.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Serve `/metrics` and run the `prometheus` output. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A series not updated for this long (or for 3 of its intervals, if that is longer)
    /// disappears from `/metrics`, so a removed device or interface stops being shown.
    /// Default 5m.
    #[serde(default = "default_stale_after", with = "humantime_serde")]
    pub stale_after: Duration,
    /// Most series kept; points of further new series are dropped and counted
    /// (`nocbox.output.dropped{output="prometheus",reason="max_series"}`). Default 100000.
    #[serde(default = "default_max_series")]
    pub max_series: usize,
    /// Queue size in points. Default 100000.
    #[serde(default = "default_big_queue")]
    pub queue_size: usize,
    /// Queue size in (approximate) bytes. Default 64 MiB.
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            enabled: true,
            stale_after: default_stale_after(),
            max_series: default_max_series(),
            queue_size: default_big_queue(),
            queue_bytes: default_queue_bytes(),
        }
    }
}

fn default_stale_after() -> Duration {
    Duration::from_secs(300)
}
fn default_max_series() -> usize {
    100_000
}

fn yes() -> bool {
    true
}

fn default_queue() -> usize {
    10_000
}

/// `outputs.datadog:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatadogConfig {
    /// API key. Never logged, never shown by `/status`.
    #[serde(alias = "apiKey")]
    pub api_key: Secret,
    /// Datadog site. Default `datadoghq.com`.
    #[serde(default = "default_site")]
    pub site: String,
    /// API base URL (series, validate). Default `https://api.<site>`.
    pub endpoint: Option<String>,
    /// Extra CA certificates (PEM) trusted besides the bundled roots.
    pub ca_file: Option<PathBuf>,
    /// Log forwarding settings.
    #[serde(default)]
    pub logs: DatadogLogsConfig,
    /// Metric forwarding settings (series API v2 at `endpoint`).
    #[serde(default)]
    pub metrics: DatadogMetricsConfig,
}

fn default_site() -> String {
    "datadoghq.com".into()
}

/// How logs reach Datadog.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogsTransport {
    /// HTTP v2 intake: batched, gzip, acknowledged (the only transport that proves delivery).
    #[default]
    Http,
    /// TCP+TLS intake: one API-key-prefixed line per log, marks while idle, re-send after
    /// reconnect (at least once, unproven).
    Tcp,
}

/// `outputs.datadog.logs:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatadogLogsConfig {
    /// `http` or `tcp`. Default `http`.
    #[serde(default)]
    pub transport: LogsTransport,
    /// Intake: a URL for http (default `https://http-intake.logs.<site>`), `host:port` for tcp
    /// (default `intake.logs.datadoghq.com:10516`, EU `tcp-intake.logs.datadoghq.eu:443`).
    pub endpoint: Option<String>,
    /// A heartbeat log (`service: nocbox-mark`) every interval, on either transport. `0s` turns
    /// marks off. Default 20s.
    #[serde(default = "default_mark", with = "humantime_serde")]
    pub mark_interval: Duration,
    /// Longest wait before a partial HTTP batch is sent. Default 1s.
    #[serde(default = "default_flush", with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Queue size in events. Default 100000.
    #[serde(default = "default_big_queue")]
    pub queue_size: usize,
    /// Queue size in (approximate) bytes, so large messages cannot exhaust memory during an
    /// outage. Default 64 MiB.
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
    /// HTTP request timeout. Default 30s.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for DatadogLogsConfig {
    fn default() -> Self {
        DatadogLogsConfig {
            transport: LogsTransport::Http,
            endpoint: None,
            mark_interval: default_mark(),
            flush_interval: default_flush(),
            queue_size: default_big_queue(),
            queue_bytes: default_queue_bytes(),
            timeout: default_timeout(),
        }
    }
}

fn default_mark() -> Duration {
    Duration::from_secs(20)
}
fn default_flush() -> Duration {
    Duration::from_secs(1)
}
fn default_big_queue() -> usize {
    100_000
}
fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// `outputs.datadog.metrics:` metric events to the series API v2 (`POST <endpoint>/api/v2/series`),
/// output `datadog_metrics`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatadogMetricsConfig {
    /// Send metric events to Datadog. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Longest wait before a partial batch of points is sent. Default 15s, the Datadog Agent's
    /// flush period.
    #[serde(default = "default_metrics_flush", with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Queue size in points. Default 100000.
    #[serde(default = "default_big_queue")]
    pub queue_size: usize,
    /// Queue size in (approximate) bytes. Default 64 MiB.
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
    /// HTTP request timeout. Default 30s.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for DatadogMetricsConfig {
    fn default() -> Self {
        DatadogMetricsConfig {
            enabled: true,
            flush_interval: default_metrics_flush(),
            queue_size: default_big_queue(),
            queue_bytes: default_queue_bytes(),
            timeout: default_timeout(),
        }
    }
}

fn default_metrics_flush() -> Duration {
    Duration::from_secs(15)
}

/// `outputs.syslog_forward[]:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogForwardConfig {
    /// Collector `host:port`.
    pub address: String,
    /// TLS (RFC 5425). Default true.
    #[serde(default = "yes")]
    pub tls: bool,
    /// Extra CA certificates (PEM) trusted besides the bundled roots.
    pub ca_file: Option<PathBuf>,
    /// Name to verify in the server certificate. Default: the host part of `address`.
    pub server_name: Option<String>,
    /// Queue size in events. Default 100000.
    #[serde(default = "default_big_queue")]
    pub queue_size: usize,
    /// Queue size in (approximate) bytes. Default 64 MiB.
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
}

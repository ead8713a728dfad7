//! The syslog input: a UDP receiver task, a TCP accept task with one task per connection, and an
//! optional TCP health-check listener. Every message becomes one log record, parsed or raw;
//! nothing is dropped except what the allow-list refuses, and that is counted.

mod record;
mod tcp;
pub mod udp;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::SyslogConfig;
use crate::event::{Event, Tags};
use crate::inputs::{canonical, DeviceInfo, Devices, PerSender};
use crate::pipeline::Pipeline;
use crate::telemetry::{Component, Counter, Telemetry};

pub use record::{build as build_record, namespace_tag, tags as record_tags, Received};

/// Sockets `app.rs` bound for this input.
#[derive(Debug)]
pub struct SyslogSockets {
    pub udp: Option<UdpSocket>,
    pub tcp: Option<TcpListener>,
    pub health_check: Option<TcpListener>,
}

/// State shared by every syslog task.
pub(crate) struct Shared {
    cfg: SyslogConfig,
    pipeline: Pipeline,
    telemetry: Telemetry,
    component: Component,
    devices: Devices,
    tags: Vec<String>,
    /// `device_namespace:<namespace>`, made once.
    namespace_tag: String,
    tls: Option<tokio_rustls::TlsAcceptor>,
    not_allowed: Counter,
    per_source: tcp::PerSource,
    /// `nocbox.syslog.parse_errors{reason}` handles for the parser's reasons, looked up once.
    parse_errors: Vec<(&'static str, Counter)>,
    /// Each sender's tag list (three allocations per line less).
    senders: Mutex<PerSender<IpAddr, Tags>>,
}

/// Per-transport counters, looked up once.
#[derive(Clone)]
pub(crate) struct TransportCounters {
    received: Counter,
    bytes: Counter,
    truncated: Counter,
}

impl Shared {
    fn counters(&self, transport: &'static str) -> TransportCounters {
        let t = &self.telemetry;
        let l = [("transport", transport)];
        TransportCounters {
            received: t.counter("nocbox.syslog.received", &l),
            bytes: t.counter("nocbox.syslog.bytes", &l),
            truncated: t.counter("nocbox.syslog.truncated", &l),
        }
    }

    /// Whether the allow-list (if any) admits `ip`; counts the refusal.
    fn allowed(&self, ip: IpAddr) -> bool {
        let ok = match &self.cfg.allowed_sources {
            None => true,
            Some(nets) => nets.iter().any(|n| n.contains(&canonical(ip))),
        };
        if !ok {
            self.not_allowed.inc();
        }
        ok
    }

    /// Who sent the messages of one read (TCP) or one burst (UDP) and when they arrived: one
    /// clock reading and one directory lookup for all of them, not one per line.
    fn arrival(&self, peer: IpAddr, at: DateTime<Utc>) -> Arrival {
        let peer = canonical(peer);
        let device = self.devices.get(&peer);
        let mut senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        let tags = senders.get(peer, &device, || {
            record::tags(peer, device.as_deref(), &self.tags, &self.namespace_tag)
        });
        Arrival {
            peer,
            at,
            device,
            tags,
        }
    }

    /// Counts one message and parses it into its record, not yet queued. Callers queue a
    /// read's or a burst's records together (`Pipeline::send_all`) and mark the input's success
    /// once per read or burst: per line, the clock reading and the atomic every connection
    /// shares cost 10–15 % of the CPU per line with four TCP connections (docs/PERFORMANCE.md).
    fn record(
        &self,
        a: &Arrival,
        raw: &[u8],
        truncated: bool,
        original_len: usize,
        c: &TransportCounters,
    ) -> Event {
        c.received.inc();
        c.bytes.add(original_len as u64);
        if truncated {
            c.truncated.inc();
        }
        let rx = Received {
            peer: a.peer,
            at: a.at,
            truncated,
            original_len,
        };
        let (rec, parse_error) = record::build(raw, rx, a.device.as_deref(), a.tags.clone());
        if let Some(reason) = parse_error {
            match self.parse_errors.iter().find(|(r, _)| *r == reason) {
                Some((_, c)) => c.inc(),
                None => self
                    .telemetry
                    .counter("nocbox.syslog.parse_errors", &[("reason", reason)])
                    .inc(),
            }
        }
        Event::Log(rec)
    }
}

/// What the messages of one read or burst from one sender share (see [`Shared::arrival`]).
pub(crate) struct Arrival {
    /// The sender, IPv4-mapped addresses shown as IPv4.
    peer: IpAddr,
    at: DateTime<Utc>,
    device: Option<Arc<DeviceInfo>>,
    tags: Tags,
}

/// The configured input, ready to spawn on bound sockets.
pub struct SyslogInput {
    shared: Arc<Shared>,
}

impl SyslogInput {
    pub fn new(
        cfg: SyslogConfig,
        pipeline: Pipeline,
        telemetry: Telemetry,
        devices: Devices,
        tags: Vec<String>,
        namespace: String,
    ) -> anyhow::Result<Self> {
        let tls = match cfg.tcp.as_ref().and_then(|t| t.tls.as_ref()) {
            Some(t) => Some(tokio_rustls::TlsAcceptor::from(
                crate::tls::server_config(&t.cert_file, &t.key_file).context("syslog.tcp.tls")?,
            )),
            None => None,
        };
        let component = telemetry.component("syslog", "input");
        let parse_errors = crate::proto::syslog::ERROR_REASONS
            .iter()
            .map(|r| {
                (
                    *r,
                    telemetry.counter("nocbox.syslog.parse_errors", &[("reason", r)]),
                )
            })
            .collect();
        let not_allowed =
            telemetry.counter("nocbox.syslog.dropped", &[("reason", "source_not_allowed")]);
        Ok(SyslogInput {
            shared: Arc::new(Shared {
                cfg,
                pipeline,
                telemetry,
                component,
                devices,
                tags,
                namespace_tag: record::namespace_tag(&namespace),
                tls,
                not_allowed,
                per_source: Default::default(),
                parse_errors,
                senders: Mutex::default(),
            }),
        })
    }

    /// Spawns the receiver tasks into `set`; they end when `shutdown` is cancelled.
    pub fn spawn(self, sockets: SyslogSockets, set: &mut JoinSet<()>, shutdown: CancellationToken) {
        let s = self.shared;
        s.component.set_healthy(true);
        if let Some(sock) = sockets.udp {
            if let Ok(a) = sock.local_addr() {
                s.component.set_detail("udp", a);
            }
            set.spawn(udp::run(sock, s.clone(), shutdown.clone()));
        }
        if let Some(l) = sockets.tcp {
            if let Ok(a) = l.local_addr() {
                s.component.set_detail("tcp", a);
            }
            set.spawn(tcp::run(l, s.clone(), shutdown.clone()));
        }
        if let Some(hc) = sockets.health_check {
            set.spawn(crate::inputs::health_check::run(
                hc,
                s.component.clone(),
                s.telemetry.clone(),
                "syslog".into(),
                shutdown,
            ));
        }
    }
}

//! The trap input's state, shared by the UDP task and the TCP connections (one lock, taken per
//! UDP burst or per TCP message): the receiver core, the trap DB, counters, per-source rates.
//! `handle` is the whole per-message path: count, decide (`proto::snmp::notify`), build the
//! record, queue it, and hand back the reply for the transport to send.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::warn;

use super::record::{self, Origin};
use super::sources::{Capped, Sources};
use crate::event::{Event, Tags};
use crate::inputs::{Devices, PerSender};
use crate::pipeline::Pipeline;
use crate::proto::snmp::notify::{Handled, Notification, Receiver, DROP_REASONS};
use crate::proto::snmp::trapdb::TrapDb;
use crate::proto::snmp::usm::ReportKind;
use crate::proto::snmp::Oid;
use crate::telemetry::{Component, Counter, Gauge, Telemetry};

/// Distinct `device` and `trap` label values on the per-device and per-trap counters.
pub(super) const MAX_LABELS: usize = 500;
/// Source addresses tracked for rates.
pub(super) const MAX_SOURCES: usize = 65_536;
/// Busiest sources shown in `nocbox status`.
const TOP_SOURCES: usize = 5;

fn report_label(k: ReportKind) -> &'static str {
    match k {
        ReportKind::UnsupportedSecLevel => "unsupported_security_level",
        ReportKind::NotInTimeWindow => "not_in_time_window",
        ReportKind::UnknownUserName => "unknown_user",
        ReportKind::UnknownEngineId => "unknown_engine_id",
        ReportKind::WrongDigest => "wrong_digest",
        ReportKind::DecryptionError => "decryption_error",
    }
}

/// Counter handles, created up front so `/metrics` shows every reason at 0.
pub(super) struct Counters {
    datagrams: Counter,
    bytes: Counter,
    dropped: HashMap<&'static str, Counter>,
    /// `notifications{version, type}`: [version 1, 2c, 3] × [trap, inform].
    notifications: [[Counter; 2]; 3],
    acknowledged: Counter,
    reports: HashMap<ReportKind, Counter>,
    unresolved_traps: Counter,
    unresolved_variables: Counter,
    receive_errors: Counter,
    send_errors: Counter,
    untracked_sources: Counter,
    engines: Gauge,
    relearned: Gauge,
    sources: Gauge,
    top_rate: Gauge,
    kernel_drops: Gauge,
}

impl Counters {
    pub(super) fn new(t: &Telemetry) -> Counters {
        let dropped = DROP_REASONS
            .iter()
            .map(|r| (*r, t.counter("nocbox.traps.dropped", &[("reason", r)])))
            .collect();
        let n = |version: &str, kind: &str| {
            t.counter(
                "nocbox.traps.notifications",
                &[("version", version), ("type", kind)],
            )
        };
        let reports = ReportKind::ALL
            .iter()
            .map(|k| {
                let c = t.counter("nocbox.traps.reports", &[("kind", report_label(*k))]);
                (*k, c)
            })
            .collect();
        let unresolved = |what| t.counter("nocbox.traps.unresolved", &[("what", what)]);
        Counters {
            datagrams: t.counter("nocbox.traps.datagrams", &[]),
            bytes: t.counter("nocbox.traps.bytes", &[]),
            dropped,
            notifications: [
                [n("1", "trap"), n("1", "inform")],
                [n("2c", "trap"), n("2c", "inform")],
                [n("3", "trap"), n("3", "inform")],
            ],
            acknowledged: t.counter("nocbox.traps.informs_acknowledged", &[]),
            reports,
            unresolved_traps: unresolved("trap"),
            unresolved_variables: unresolved("variable"),
            receive_errors: t.counter("nocbox.traps.receive_errors", &[]),
            send_errors: t.counter("nocbox.traps.send_errors", &[]),
            untracked_sources: t.counter("nocbox.traps.untracked_source_datagrams", &[]),
            engines: t.gauge("nocbox.traps.engines", &[]),
            relearned: t.gauge("nocbox.traps.engines_relearned", &[]),
            sources: t.gauge("nocbox.traps.sources", &[]),
            top_rate: t.gauge("nocbox.traps.top_source_rate", &[]),
            kernel_drops: t.gauge("nocbox.traps.udp_kernel_drops", &[]),
        }
    }
}

/// Everything the per-message path needs.
pub(super) struct State {
    pub(super) receiver: Receiver,
    pub(super) db: TrapDb,
    pub(super) devices: Devices,
    pub(super) tags: Vec<String>,
    pub(super) namespace: String,
    pub(super) pipeline: Pipeline,
    pub(super) telemetry: Telemetry,
    pub(super) component: Component,
    pub(super) c: Counters,
    pub(super) sources: Sources,
    pub(super) by_device: Capped<IpAddr>,
    pub(super) by_trap: Capped<Oid>,
    /// Each sender's tag list per SNMP version, made once.
    pub(super) senders: PerSender<(IpAddr, u8), Tags>,
    /// The origin of the receiver's monotonic time (our engine started here).
    pub(super) started: Instant,
    /// When each drop reason was last logged (at most once a minute each).
    pub(super) warned: HashMap<&'static str, Instant>,
}

impl State {
    /// Handles one message from `ip`, received `at`, `since_start` after our engine started
    /// (read once per UDP burst, like `at`); returns what to send back (an inform's
    /// Response or a Report). A Response counts as an acknowledgement once it is produced: a
    /// reply the caller then fails to send is counted by [`State::send_failed`].
    pub(super) fn handle(
        &mut self,
        data: &[u8],
        ip: IpAddr,
        at: DateTime<Utc>,
        since_start: Duration,
    ) -> Option<Vec<u8>> {
        self.c.datagrams.inc();
        self.c.bytes.add(data.len() as u64);
        self.sources.count(ip);
        let out = self.receiver.handle(data, since_start);
        if out.reply.is_some() && out.report.is_none() {
            self.c.acknowledged.inc();
        }
        if let Some(k) = out.report {
            if let Some(c) = self.c.reports.get(&k) {
                c.inc();
            }
        }
        match out.handled {
            Handled::Notification(n) => self.forward(n, ip, at),
            Handled::Discovery => {}
            Handled::Dropped(reason) => self.dropped(reason, ip),
        }
        out.reply
    }

    pub(super) fn send_failed(&self) {
        self.c.send_errors.inc();
    }

    pub(super) fn receive_error(&self, what: &str, e: &std::io::Error) {
        self.c.receive_errors.inc();
        self.component.error(format!("{what} receive error: {e}"));
    }

    fn forward(&mut self, n: Notification, ip: IpAddr, at: DateTime<Utc>) {
        let device = self.devices.get(&ip);
        let origin = Origin {
            peer: ip,
            at,
            device: device.as_deref(),
            tags: &self.tags,
            namespace: &self.namespace,
        };
        let tags = self.senders.get((ip, n.version), &device, || {
            record::tags(n.version, &origin)
        });
        let (rec, unresolved) = record::build(&n, &origin, &self.db, tags);
        let version = match n.version {
            1 => 0,
            2 => 1,
            _ => 2,
        };
        self.c.notifications[version][usize::from(n.inform)].inc();
        if unresolved.trap {
            self.c.unresolved_traps.inc();
        }
        self.c.unresolved_variables.add(unresolved.variables as u64);
        self.by_device.inc(&ip, || {
            device
                .and_then(|d| d.name.clone())
                .unwrap_or_else(|| ip.to_string())
        });
        let db = &self.db;
        self.by_trap
            .inc(&n.trap_oid, || match db.trap(&n.trap_oid) {
                Some(t) => format!("{}::{}", t.mib, t.name),
                None => n.trap_oid.to_string(),
            });
        self.pipeline.send(Event::Log(rec));
        // the burst's receive time: no clock reading per trap
        self.component.success_at(at);
    }

    pub(super) fn dropped(&mut self, reason: &'static str, ip: IpAddr) {
        let t = &self.telemetry;
        self.c
            .dropped
            .entry(reason)
            .or_insert_with(|| t.counter("nocbox.traps.dropped", &[("reason", reason)]))
            .inc();
        // Says which sender to fix; `nocbox status` shows the latest.
        self.component.error(format!("{reason} from {ip}"));
        let now = Instant::now();
        let due = self
            .warned
            .get(reason)
            .is_none_or(|t| now.duration_since(*t) >= Duration::from_secs(60));
        if due {
            self.warned.insert(reason, now);
            warn!(input = "traps", %ip, reason, "dropped a trap or inform (this reason is logged at most once a minute; nocbox.traps.dropped counts them all)");
        }
    }

    /// Publishes the window's busiest sources, the engine table and the kernel's drop count.
    pub(super) fn publish(&mut self, inode: Option<u64>) {
        let busy = self.sources.roll(Instant::now(), TOP_SOURCES);
        let shown: Vec<String> = busy
            .iter()
            .map(|b| {
                let name = self.devices.get(&b.ip).and_then(|d| d.name.clone());
                match name {
                    Some(n) => format!("{} ({n}) {:.1}/s", b.ip, b.rate),
                    None => format!("{} {:.1}/s", b.ip, b.rate),
                }
            })
            .collect();
        let top = if shown.is_empty() {
            "-".to_string()
        } else {
            shown.join(", ")
        };
        self.component.set_detail("top_sources", top);
        self.c
            .top_rate
            .set(busy.first().map_or(0, |b| b.rate.round() as i64));
        self.c.sources.set(self.sources.len() as i64);
        let untracked = self.sources.untracked();
        let counted = self.c.untracked_sources.get();
        self.c
            .untracked_sources
            .add(untracked.saturating_sub(counted));
        let stats = self.receiver.stats();
        self.c.engines.set(stats.engines as i64);
        self.c.relearned.set(stats.relearned as i64);
        if let Some(n) = inode.and_then(crate::inputs::udp::kernel_drops) {
            self.c.kernel_drops.set(n as i64);
        }
    }
}

//! The SNMP trap and inform input: one task owns the UDP socket and drains it in bursts; every
//! decision (who is accepted, which Report or Response goes back) is made by
//! `proto::snmp::notify`, every name by `proto::snmp::trapdb`; this file moves datagrams, keeps
//! the counters and builds records (`record.rs`). Replies are sent with `try_send_to` and
//! records go through `Pipeline::send`, so nothing on the receive path ever waits: a storm is
//! absorbed by the socket's large receive buffer and counted per source (`sources.rs`).
//!
//! Our engine (authoritative for informs): the engine ID from `traps.engine_id`, else derived
//! from the hostname; snmpEngineBoots is the number of seconds from 2020-01-01 to the start, so
//! it grows with every restart without a state file (RFC 3414 asks only that it grow), and
//! snmpEngineTime counts seconds from the start.

mod record;
mod sources;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use chrono::Utc;
use sha2::Digest;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{engine_id_bytes, TrapsConfig};
use crate::event::Event;
use crate::inputs::Devices;
use crate::pipeline::Pipeline;
use crate::proto::snmp::message::Limits;
use crate::proto::snmp::notify::{
    Handled, Notification, Receiver, Settings, TrapUser, DROP_REASONS,
};
use crate::proto::snmp::trapdb::TrapDb;
use crate::proto::snmp::usm::time::MAX_ENGINE_VALUE;
use crate::proto::snmp::usm::{AuthProtocol, LocalEngine, PrivProtocol, ReportKind};
use crate::proto::snmp::Oid;
use crate::telemetry::{Component, Counter, Gauge, Telemetry};
use sources::{Capped, Sources};

pub use record::{build as build_record, Origin, Unresolved};

/// How often per-source rates, the kernel's drop count and the engine table are published.
const WINDOW: Duration = Duration::from_secs(5);
/// Datagrams read in one go before the task yields.
const BURST: usize = 256;
/// Distinct `device` and `trap` label values on the per-device and per-trap counters.
const MAX_LABELS: usize = 500;
/// Source addresses tracked for rates.
const MAX_SOURCES: usize = 65_536;
/// Busiest sources shown in `nocbox status`.
const TOP_SOURCES: usize = 5;
/// 2020-01-01T00:00:00Z, the origin of our snmpEngineBoots.
const BOOTS_EPOCH: u64 = 1_577_836_800;

/// The sockets `app.rs` binds before anything starts.
pub struct TrapsSockets {
    pub udp: UdpSocket,
    pub health_check: Option<TcpListener>,
}

/// The engine ID used when `traps.engine_id` is not set: RFC 3411 format 5 ("octets") under
/// enterprise 0, then the first 12 bytes of SHA-256 of `hostname`.
pub fn default_engine_id(hostname: &str) -> Vec<u8> {
    let mut id = vec![0x80, 0, 0, 0, 5];
    id.extend_from_slice(&sha2::Sha256::digest(hostname.as_bytes())[..12]);
    id
}

/// snmpEngineBoots for a start at `now`: seconds since 2020, at least 1.
fn engine_boots(now: SystemTime) -> u32 {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .saturating_sub(BOOTS_EPOCH);
    secs.clamp(1, u64::from(MAX_ENGINE_VALUE) - 1) as u32
}

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

const REPORT_KINDS: [ReportKind; 6] = [
    ReportKind::UnsupportedSecLevel,
    ReportKind::NotInTimeWindow,
    ReportKind::UnknownUserName,
    ReportKind::UnknownEngineId,
    ReportKind::WrongDigest,
    ReportKind::DecryptionError,
];

/// Counter handles, created up front so `/metrics` shows every reason at 0.
struct Counters {
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
    fn new(t: &Telemetry) -> Counters {
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
        let reports = REPORT_KINDS
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

/// Everything the receive task owns.
struct State {
    receiver: Receiver,
    db: TrapDb,
    devices: Devices,
    tags: Vec<String>,
    namespace: String,
    pipeline: Pipeline,
    telemetry: Telemetry,
    component: Component,
    c: Counters,
    sources: Sources,
    by_device: Capped<IpAddr>,
    by_trap: Capped<Oid>,
    /// The origin of the receiver's monotonic time (our engine started here).
    started: Instant,
    /// When each drop reason was last logged (at most once a minute each).
    warned: HashMap<&'static str, Instant>,
}

/// The configured input, ready to spawn on bound sockets.
pub struct TrapsInput {
    state: State,
}

impl TrapsInput {
    /// Loads the trap DB and derives every user's keys (a few milliseconds per user).
    pub fn new(
        cfg: TrapsConfig,
        pipeline: Pipeline,
        telemetry: Telemetry,
        devices: Devices,
        tags: Vec<String>,
        namespace: String,
        hostname: &str,
    ) -> anyhow::Result<TrapsInput> {
        let db = TrapDb::load(&cfg.trap_db)
            .map_err(|e| anyhow::anyhow!("traps.trap_db: {}", e.join("; ")))?;
        let users = cfg
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| trap_user(u).with_context(|| format!("traps.users[{i}]")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let engine_id = match &cfg.engine_id {
            Some(e) => engine_id_bytes(e).map_err(|m| anyhow::anyhow!("traps.engine_id: {m}"))?,
            None => default_engine_id(hostname),
        };
        let boots = engine_boots(SystemTime::now());
        let communities = cfg
            .community_strings
            .iter()
            .map(|c| c.expose().as_bytes().to_vec())
            .collect();
        let receiver = Receiver::new(Settings {
            communities,
            users,
            engine: LocalEngine {
                engine_id: engine_id.clone(),
                boots,
                started: Duration::ZERO,
            },
            limits: Limits {
                max_varbinds: cfg.max_varbinds,
                ..Limits::default()
            },
            max_engines: cfg.max_engines,
            salt_seed: fastrand::u64(..),
        });
        let component = telemetry.component("traps", "input");
        component.set_detail("engine_id", hex(&engine_id));
        component.set_detail("engine_boots", boots);
        let (traps, vars) = db.len();
        component.set_detail("trap_db", format!("{traps} traps, {vars} variables"));
        component.set_detail(
            "accepts",
            format!(
                "{} communities, {} v3 users",
                cfg.community_strings.len(),
                cfg.users.len()
            ),
        );
        let now = Instant::now();
        let state = State {
            receiver,
            db,
            devices,
            tags,
            namespace: cfg.namespace.clone().unwrap_or(namespace),
            pipeline,
            telemetry: telemetry.clone(),
            component,
            c: Counters::new(&telemetry),
            sources: Sources::new(MAX_SOURCES, now),
            by_device: Capped::new(&telemetry, "nocbox.traps.received", "device", MAX_LABELS),
            by_trap: Capped::new(&telemetry, "nocbox.traps.by_trap", "trap", MAX_LABELS),
            started: now,
            warned: HashMap::new(),
        };
        Ok(TrapsInput { state })
    }

    /// Spawns the receive task and the health-check listener into `set`; they end when
    /// `shutdown` is cancelled.
    pub fn spawn(self, sockets: TrapsSockets, set: &mut JoinSet<()>, shutdown: CancellationToken) {
        let c = self.state.component.clone();
        let telemetry = self.state.telemetry.clone();
        c.set_healthy(true);
        if let Ok(a) = sockets.udp.local_addr() {
            c.set_detail("listen", a);
        }
        info!(
            input = "traps",
            engine_id = %hex(&self.state.receiver.engine().engine_id),
            "SNMP trap receiver ready"
        );
        set.spawn(run(sockets.udp, self.state, shutdown.clone()));
        if let Some(hc) = sockets.health_check {
            set.spawn(crate::inputs::health_check::run(
                hc,
                c,
                telemetry,
                "traps".into(),
                shutdown,
            ));
        }
    }
}

fn trap_user(u: &crate::config::TrapUserConfig) -> anyhow::Result<TrapUser> {
    let auth: AuthProtocol = u
        .auth_protocol
        .as_deref()
        .context("auth_protocol is required")?
        .parse()?;
    let auth_key = u.auth_key.as_ref().context("auth_key is required")?;
    let privacy = match (&u.priv_protocol, &u.priv_key) {
        (Some(p), Some(k)) => Some((p.parse::<PrivProtocol>()?, k.expose().as_bytes())),
        _ => None,
    };
    let engine_ids = u
        .engine_ids
        .as_ref()
        .map(|ids| ids.iter().map(|e| engine_id_bytes(e)).collect())
        .transpose()
        .map_err(|m: String| anyhow::anyhow!("engine_ids: {m}"))?;
    Ok(TrapUser::new(
        &u.user,
        (auth, auth_key.expose().as_bytes()),
        privacy,
        engine_ids,
    )?)
}

/// The receive task: reads until `shutdown`, then takes what the kernel still holds.
async fn run(sock: UdpSocket, mut st: State, shutdown: CancellationToken) {
    let inode = crate::inputs::syslog::udp::socket_inode(&sock);
    let mut tick = tokio::time::interval(WINDOW);
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    st.datagram(&sock, &buf[..n], peer);
                    // Drain what else is queued without going back through the scheduler.
                    for _ in 0..BURST {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, peer)) => st.datagram(&sock, &buf[..n], peer),
                            Err(_) => break,
                        }
                    }
                }
                // ICMP errors from earlier replies and the like are per-datagram: keep going.
                Err(e) => {
                    st.c.receive_errors.inc();
                    st.component.error(format!("UDP receive error: {e}"));
                }
            },
            _ = tick.tick() => st.publish(inode),
            _ = shutdown.cancelled() => break,
        }
    }
    // Datagrams the kernel already holds were accepted by the host: handle them too.
    for _ in 0..1_000_000 {
        match sock.try_recv_from(&mut buf) {
            Ok((n, peer)) => st.datagram(&sock, &buf[..n], peer),
            Err(_) => break,
        }
    }
}

impl State {
    fn datagram(&mut self, sock: &UdpSocket, data: &[u8], peer: SocketAddr) {
        let ip = canonical(peer.ip());
        self.c.datagrams.inc();
        self.c.bytes.add(data.len() as u64);
        self.sources.count(ip);
        let out = self.receiver.handle(data, self.started.elapsed());
        if let Some(reply) = &out.reply {
            // Never wait on a send: a full socket buffer loses this reply, and the sender
            // retries.
            if sock.try_send_to(reply, peer).is_err() {
                self.c.send_errors.inc();
            } else if out.report.is_none() {
                self.c.acknowledged.inc();
            }
        }
        if let Some(k) = out.report {
            if let Some(c) = self.c.reports.get(&k) {
                c.inc();
            }
        }
        match out.handled {
            Handled::Notification(n) => self.forward(n, ip),
            Handled::Discovery => {}
            Handled::Dropped(reason) => self.dropped(reason, ip),
        }
    }

    fn forward(&mut self, n: Notification, ip: IpAddr) {
        let device = self.devices.get(&ip);
        let origin = Origin {
            peer: ip,
            at: Utc::now(),
            device,
            tags: &self.tags,
            namespace: &self.namespace,
        };
        let (rec, unresolved) = record::build(&n, &origin, &self.db);
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
        self.component.success();
    }

    fn dropped(&mut self, reason: &'static str, ip: IpAddr) {
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
    fn publish(&mut self, inode: Option<u64>) {
        let busy = self.sources.roll(Instant::now(), TOP_SOURCES);
        let shown: Vec<String> = busy
            .iter()
            .map(|b| {
                let name = self.devices.get(&b.ip).and_then(|d| d.name.as_deref());
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
        if let Some(n) = inode.and_then(crate::inputs::syslog::udp::kernel_drops) {
            self.c.kernel_drops.set(n as i64);
        }
    }
}

/// IPv4-mapped IPv6 addresses (from dual-stack sockets) shown as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_engine_id_is_stable_and_valid() {
        let a = default_engine_id("nocbox-tokyo-1");
        assert_eq!(a, default_engine_id("nocbox-tokyo-1"));
        assert_ne!(a, default_engine_id("nocbox-tokyo-2"));
        assert_eq!(a.len(), 17);
        assert_eq!(&a[..5], &[0x80, 0, 0, 0, 5]);
    }

    #[test]
    fn boots_grow_with_the_start_time_and_stay_in_range() {
        let at = |s: u64| engine_boots(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), 1);
        assert!(at(BOOTS_EPOCH + 100) < at(BOOTS_EPOCH + 101));
        assert_eq!(at(u64::from(u32::MAX) * 4), MAX_ENGINE_VALUE - 1);
    }
}

//! The SNMP trap and inform input: one task drains the UDP socket in bursts (`udp.rs`), and
//! with `traps.tcp` one task per TCP connection reads BER-framed messages (`tcp.rs`). Both hand
//! each message to the shared `State` (`state.rs`): every decision (who is accepted, which
//! Report or Response goes back) is made by `proto::snmp::notify`, every name by
//! `proto::snmp::trapdb`, records are built by `record.rs`. UDP replies are sent with
//! `try_send_to` and records go through `Pipeline::send`, so nothing on the UDP receive path
//! ever waits: a storm is absorbed by the socket's large receive buffer and counted per source
//! (`sources.rs`).
//!
//! Our engine (authoritative for informs): the engine ID from `traps.engine_id`, else derived
//! from the hostname; snmpEngineBoots is the number of seconds from 2020-01-01 to the start, so
//! it grows with every restart without a state file (RFC 3414 asks only that it grow), and
//! snmpEngineTime counts seconds from the start.

mod record;
mod sources;
mod state;
mod tcp;
mod udp;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sha2::Digest;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::{engine_id_bytes, TrapsConfig};
use crate::inputs::{Devices, PerSender};
use crate::pipeline::Pipeline;
use crate::proto::snmp::message::Limits;
use crate::proto::snmp::notify::{Receiver, Settings, TrapUser};
use crate::proto::snmp::trapdb::TrapDb;
use crate::proto::snmp::usm::time::MAX_ENGINE_VALUE;
use crate::proto::snmp::usm::{AuthProtocol, LocalEngine, PrivProtocol};
use crate::telemetry::Telemetry;
use record::hex;
use sources::{Capped, Sources};
use state::{Counters, State, MAX_LABELS, MAX_SOURCES};

pub use record::{build as build_record, tags as record_tags, Origin, Unresolved};

/// 2020-01-01T00:00:00Z, the origin of our snmpEngineBoots.
const BOOTS_EPOCH: u64 = 1_577_836_800;

/// The state every transport's task uses; one lock per UDP burst or TCP message.
type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    // A panic while handling one message must not stop the input.
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The sockets `app.rs` binds before anything starts.
pub struct TrapsSockets {
    pub udp: UdpSocket,
    pub tcp: Option<TcpListener>,
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

/// The configured input, ready to spawn on bound sockets.
pub struct TrapsInput {
    state: State,
    cfg: TrapsConfig,
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
            senders: PerSender::default(),
            started: now,
            warned: HashMap::new(),
        };
        Ok(TrapsInput { state, cfg })
    }

    /// Spawns the UDP task, the TCP accept task and the health-check listener into `set`; they
    /// end when `shutdown` is cancelled.
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
        let shared: Shared = Arc::new(Mutex::new(self.state));
        if let (Some(l), Some(tcfg)) = (sockets.tcp, self.cfg.tcp.clone()) {
            if let Ok(a) = l.local_addr() {
                c.set_detail("tcp", a);
            }
            let max = Limits::default().max_message_size;
            set.spawn(tcp::run(l, shared.clone(), tcfg, max, shutdown.clone()));
        }
        set.spawn(udp::run(sockets.udp, shared, shutdown.clone()));
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

//! SNMP polling: one task per device, all sharing one [`transport::Transport`] (one UDP socket per
//! address family) and one [`ProfileStore`].
//!
//! - `transport.rs`, `session.rs`: the IO around the sans-IO engine in `proto/snmp/client/`;
//! - `device.rs`: one poll (identify, select the profile, fetch, evaluate, report);
//! - `counters.rs`: counters into rates (wraps, resets, reboots);
//! - `discovery.rs`: subnet scans that add devices;
//! - `cli.rs`: `nocbox snmp get|walk|discover`.
//!
//! Devices are telemetry components of kind `check` named `snmp:<ip>` (like ping and TCP
//! checks they never fail the overall `/healthz`: a device being down must not get nocbox
//! replaced); the `snmp` component sums them up.

pub mod cli;
pub mod counters;
pub mod device;
pub mod discovery;
pub mod session;
pub mod transport;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::checks::{spread, CheckContext, KIND};
use crate::config::{Config, Credentials, SnmpConfig};
use crate::event::Event;
use crate::profiles::ProfileStore;
use crate::proto::snmp::message::Version;
use crate::proto::snmp::usm::UsmUser;
use crate::telemetry::{Component, Counter, Gauge};

use device::{poll_once, DeviceIdentity, DeviceState, PollError};
use session::{Security, Session, SessionConfig};
use transport::Transport;

/// A device to poll, after config or discovery.
#[derive(Clone, Debug)]
pub struct DeviceSpec {
    pub ip: IpAddr,
    pub port: u16,
    pub credentials: Credentials,
    /// The device's own tags (config, discovery entry, `autodiscovery_subnet`).
    pub tags: Vec<String>,
    pub interval: Duration,
    pub profile: Option<String>,
    pub timeout: Duration,
    pub retries: u32,
    pub oid_batch_size: usize,
    pub bulk_max_repetitions: u32,
    pub max_in_flight: usize,
}

/// The engine's security parameters for credentials from the config.
pub fn security(c: &Credentials) -> Result<Security, String> {
    Ok(match c {
        Credentials::Community { version, community } => Security::Community {
            version: if *version == 1 {
                Version::V1
            } else {
                Version::V2c
            },
            community: community.expose().as_bytes().to_vec(),
        },
        Credentials::Usm {
            user,
            auth,
            privacy,
            context_name,
            context_engine_id,
        } => {
            let u = UsmUser::new(
                user,
                auth.as_ref().map(|(p, k)| (*p, k.expose().as_bytes())),
                privacy.as_ref().map(|(p, k)| (*p, k.expose().as_bytes())),
            )
            .map_err(|e| format!("user {user}: {e}"))?;
            Security::Usm {
                user: u,
                context_name: context_name.as_bytes().to_vec(),
                context_engine_id: context_engine_id.clone(),
                engine_id: None,
            }
        }
    })
}

impl DeviceSpec {
    /// `snmp:<ip>`, or `snmp:<ip>:<port>` off port 161.
    pub fn component_name(&self) -> String {
        match self.port {
            161 => format!("snmp:{}", self.ip),
            p => format!("snmp:{}", SocketAddr::new(self.ip, p)),
        }
    }

    pub fn session_config(&self, check_source: bool) -> Result<SessionConfig, String> {
        Ok(SessionConfig {
            target: SocketAddr::new(self.ip, self.port),
            security: security(&self.credentials)?,
            timeout: self.timeout,
            retries: self.retries,
            max_in_flight: self.max_in_flight,
            max_repetitions: self.bulk_max_repetitions,
            oid_batch_size: self.oid_batch_size,
            check_source,
        })
    }
}

/// The devices listed in `snmp.devices` that have credentials, with the section's defaults.
pub fn configured_devices(s: &SnmpConfig) -> Vec<DeviceSpec> {
    s.devices
        .iter()
        .filter_map(|d| {
            Some(DeviceSpec {
                ip: d.ip_address,
                port: d.port.unwrap_or(161),
                credentials: d.credentials()?,
                tags: d.tags.clone(),
                interval: d.interval.unwrap_or(s.interval),
                profile: d.profile.clone(),
                timeout: d.timeout.unwrap_or(s.timeout),
                retries: d.retries.unwrap_or(s.retries),
                oid_batch_size: d.oid_batch_size.unwrap_or(s.oid_batch_size),
                bulk_max_repetitions: d.bulk_max_repetitions.unwrap_or(s.bulk_max_repetitions),
                max_in_flight: d.max_in_flight.unwrap_or(s.max_in_flight),
            })
        })
        .collect()
}

/// Loads the profiles the config uses: the built-in ones plus `snmp.profiles`; checks that every
/// `profile:` named by a device exists.
pub fn load_profiles(s: &SnmpConfig) -> Result<ProfileStore, Vec<String>> {
    let store = ProfileStore::load(&s.profiles).map_err(|errs| {
        errs.into_iter()
            .map(|e| format!("snmp.profiles: {e}"))
            .collect::<Vec<_>>()
    })?;
    let missing: Vec<String> = s
        .devices
        .iter()
        .filter_map(|d| d.profile.as_ref().map(|p| (d, p)))
        .filter(|(_, p)| store.get(p).is_none())
        .map(|(d, p)| {
            format!(
                "snmp.devices ({}): profile `{p}` does not exist",
                d.ip_address
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(store)
    } else {
        Err(missing)
    }
}

/// What every device task shares.
pub struct Poller {
    pub store: ProfileStore,
    pub transport: Transport,
    pub ctx: Arc<CheckContext>,
    pub check_source: bool,
    namespace: String,
    stats: Stats,
}

struct Stats {
    ok: Counter,
    failed: Counter,
    values: Counter,
    metrics: Counter,
    micros: Counter,
    devices: Gauge,
    reachable: Gauge,
    summary: Component,
}

impl Poller {
    pub fn new(
        cfg: &Config,
        s: &SnmpConfig,
        store: ProfileStore,
        ctx: Arc<CheckContext>,
    ) -> Arc<Poller> {
        let t = &ctx.telemetry;
        let summary = t.component("snmp", KIND);
        summary.set_healthy(true);
        summary.set_message("starting");
        let stats = Stats {
            ok: t.counter("nocbox.snmp.polls", &[("result", "ok")]),
            failed: t.counter("nocbox.snmp.polls", &[("result", "failed")]),
            values: t.counter("nocbox.snmp.values", &[]),
            metrics: t.counter("nocbox.snmp.metrics", &[]),
            micros: t.counter("nocbox.snmp.poll_microseconds", &[]),
            devices: t.gauge("nocbox.snmp.devices", &[]),
            reachable: t.gauge("nocbox.snmp.devices_reachable", &[]),
            summary,
        };
        let namespace = s
            .namespace
            .clone()
            .or_else(|| cfg.namespace.clone())
            .unwrap_or_else(|| "default".into());
        Arc::new(Poller {
            store,
            transport: Transport::new(),
            ctx,
            check_source: s.check_reply_source,
            namespace,
            stats,
        })
    }

    /// Tags of every metric of `spec`'s device.
    fn device_tags(&self, spec: &DeviceSpec) -> Vec<String> {
        let mut tags = self.ctx.tags.clone();
        crate::checks::add_tags(
            &mut tags,
            &[
                format!("snmp_device:{}", spec.ip),
                format!("device_namespace:{}", self.namespace),
            ],
        );
        crate::checks::add_tags(&mut tags, &spec.tags);
        tags
    }

    /// Spawns `spec`'s poll task into `set`; it stops on `stop` or at shutdown.
    pub fn spawn_device(
        self: &Arc<Self>,
        spec: DeviceSpec,
        offset: Duration,
        stop: CancellationToken,
        set: &mut JoinSet<()>,
    ) {
        let comp = self.ctx.telemetry.component(&spec.component_name(), KIND);
        comp.set_healthy(true);
        comp.set_detail("target", SocketAddr::new(spec.ip, spec.port));
        comp.set_detail("credentials", spec.credentials.describe());
        comp.set_detail("interval", humantime::format_duration(spec.interval));
        comp.set_message(format!(
            "first poll within {}",
            humantime::format_duration(spec.interval)
        ));
        set.spawn(run_device(self.clone(), spec, offset, comp, stop));
    }
}

/// Keeps the device gauges right however a device task ends (stopped, shut down, aborted).
struct Counted {
    p: Arc<Poller>,
    reachable: bool,
}

impl Counted {
    fn new(p: Arc<Poller>) -> Counted {
        p.stats.devices.add(1);
        Counted {
            p,
            reachable: false,
        }
    }

    fn set_reachable(&mut self, now: bool) {
        if now != self.reachable {
            self.p.stats.reachable.add(if now { 1 } else { -1 });
            self.reachable = now;
        }
        let s = &self.p.stats;
        s.summary.set_message(format!(
            "{} devices polled, {} reachable",
            s.devices.get(),
            s.reachable.get()
        ));
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.reachable {
            self.p.stats.reachable.add(-1);
        }
        self.p.stats.devices.add(-1);
    }
}

async fn run_device(
    p: Arc<Poller>,
    spec: DeviceSpec,
    offset: Duration,
    comp: Component,
    stop: CancellationToken,
) {
    let mut counted = Counted::new(p.clone());
    let session = match spec.session_config(p.check_source) {
        Ok(cfg) => Session::new(p.transport.clone(), cfg),
        Err(e) => {
            // Validation refuses such credentials; should one slip through, say so and idle
            // until the end (a task ending would read as a crashed poller).
            comp.set_healthy(false);
            comp.error(&e);
            comp.set_message(e);
            tokio::select! {
                _ = p.ctx.shutdown.cancelled() => {}
                _ = stop.cancelled() => {}
            }
            return;
        }
    };
    let mut state = DeviceState::new(DeviceIdentity {
        ip: spec.ip,
        tags: p.device_tags(&spec),
        profile: spec.profile.clone(),
    });
    let epoch = Instant::now();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, spec.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = p.ctx.shutdown.cancelled() => break,
            _ = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let started = Instant::now();
        // Fresh each poll: kept between polls, a thousand devices' buffers would hold memory
        // for nothing (docs/PERFORMANCE.md).
        let mut out = Vec::new();
        let poll = poll_once(
            &session,
            &mut state,
            &p.store,
            epoch,
            &p.ctx.hostname,
            &mut out,
        );
        let result = tokio::select! {
            _ = p.ctx.shutdown.cancelled() => break,
            _ = stop.cancelled() => break,
            r = tokio::time::timeout(spec.interval, poll) => r,
        };
        let took = started.elapsed();
        p.stats.micros.add(took.as_micros() as u64);
        let ts = chrono::Utc::now().timestamp();
        let now_reachable = match result {
            Ok(Ok(sum)) => {
                p.stats.ok.inc();
                p.stats.values.add(sum.values as u64);
                p.stats.metrics.add(out.len() as u64);
                comp.set_healthy(true);
                comp.success();
                comp.set_detail("profile", &sum.profile);
                if let Some(n) = &state.sys_name {
                    comp.set_detail("sys_name", n);
                    p.ctx.devices.learn_name(spec.ip, n);
                }
                comp.set_detail("last_poll_duration", crate::checks::fmt_ms(took));
                comp.set_message(format!(
                    "{}: {} values, {} metrics, {} interfaces in {}{}",
                    sum.profile,
                    sum.values,
                    sum.metrics,
                    sum.interfaces,
                    crate::checks::fmt_ms(took),
                    if sum.rebooted {
                        " (rebooted since the last poll)"
                    } else {
                        ""
                    }
                ));
                true
            }
            Ok(Err(e)) => {
                p.stats.failed.inc();
                p.ctx
                    .telemetry
                    .counter("nocbox.snmp.errors", &[("reason", e.reason())])
                    .inc();
                let answered = !matches!(&e, PollError::NoAnswer(_));
                out.extend(state.reachability(answered, ts, &p.ctx.hostname));
                comp.set_healthy(false);
                comp.error(&e);
                comp.set_message(format!("poll failed: {e}"));
                answered
            }
            Err(_) => {
                p.stats.failed.inc();
                p.ctx
                    .telemetry
                    .counter("nocbox.snmp.errors", &[("reason", "poll_too_long")])
                    .inc();
                let m = format!(
                    "the poll took longer than the interval ({}); raise interval or timeout, or lower what the profile polls",
                    humantime::format_duration(spec.interval)
                );
                comp.set_healthy(false);
                comp.error(&m);
                comp.set_message(m);
                // Leave the device a full interval of quiet before the next poll, rather than
                // starting again at once on an agent that is already struggling.
                tick.reset();
                counted.reachable
            }
        };
        counted.set_reachable(now_reachable);
        for m in out.drain(..) {
            p.ctx.pipeline.send(Event::Metric(m));
        }
    }
    if stop.is_cancelled() && !p.ctx.shutdown.is_cancelled() {
        // Discovery dropped the device: it leaves /status rather than stay frozen there.
        p.ctx.telemetry.remove_component(&spec.component_name());
    }
}

/// Spawns the configured devices and the discovery tasks into `set`.
pub fn spawn(cfg: &Config, ctx: &Arc<CheckContext>, set: &mut JoinSet<()>) -> Result<(), String> {
    let Some(s) = &cfg.snmp else { return Ok(()) };
    let store = load_profiles(s).map_err(|e| e.join("; "))?;
    let poller = Poller::new(cfg, s, store, ctx.clone());
    let devices = configured_devices(s);
    let n = devices.len();
    poller.stats.summary.set_message(format!(
        "{n} configured devices, {} discovery subnets",
        s.discovery.len()
    ));
    for (i, d) in devices.into_iter().enumerate() {
        let off = spread(i, n, d.interval);
        poller.spawn_device(d, off, CancellationToken::new(), set);
    }
    for d in &s.discovery {
        discovery::spawn(poller.clone(), s, d.clone(), set);
    }
    Ok(())
}

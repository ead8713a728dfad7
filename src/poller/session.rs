//! [`Session`]: one device's SNMP conversation over the shared [`Transport`]: GET, GETNEXT and
//! walks, with timeouts, retries, at most `max_in_flight` requests outstanding, tooBig
//! splitting, GETNEXT fallback and v3 discovery. The protocol decisions are in
//! `proto::snmp::client`; this file sends, waits and counts (batched GETs in `session/get.rs`,
//! the walk loop in `session/walk.rs`). Use a `Transport` and its sessions within one runtime.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::transport::Transport;
use crate::proto::snmp::client::{AdaptiveSize, Codec, Reply, Walk};
pub use crate::proto::snmp::client::{EndReason, Security, SnmpError, WalkRoot};
use crate::proto::snmp::message::{GenericPdu, Pdu, PduKind, VarBind, Version};
use crate::proto::snmp::Oid;

/// One device's settings.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub target: SocketAddr,
    pub security: Security,
    /// Per request (each try), default 2 s.
    pub timeout: Duration,
    /// Resends after the first try, default 3.
    pub retries: u32,
    /// Requests outstanding to this device at once, default 2.
    pub max_in_flight: usize,
    /// GETBULK max-repetitions, default 10.
    pub max_repetitions: u32,
    /// OIDs per GET, roots per GETBULK/GETNEXT, default 5.
    pub oid_batch_size: usize,
    /// Replies must come from `target` (turn off for agents that answer from another address).
    pub check_source: bool,
}

impl SessionConfig {
    /// The defaults above for `target`.
    pub fn new(target: SocketAddr, security: Security) -> SessionConfig {
        SessionConfig {
            target,
            security,
            timeout: Duration::from_secs(2),
            retries: 3,
            max_in_flight: 2,
            max_repetitions: 10,
            oid_batch_size: 5,
            check_source: true,
        }
    }
}

/// Counters and current sizes, read with [`Session::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub get: u64,
    pub getnext: u64,
    pub getbulk: u64,
    /// Resends after a try timed out.
    pub retries: u64,
    /// Requests that got no answer after every try.
    pub timeouts: u64,
    /// v3 Reports received (discovery and time sync included).
    pub reports: u64,
    pub too_big: u64,
    pub fallback_to_getnext: u64,
    /// Matched replies that failed the checks (bad digest, wrong version, wrong request-id).
    pub discarded: u64,
    /// Walk roots ended by an OID that did not increase.
    pub non_increasing: u64,
    pub oid_batch_size: u32,
    pub max_repetitions: u32,
}

#[derive(Default)]
struct Counters {
    get: AtomicU64,
    getnext: AtomicU64,
    getbulk: AtomicU64,
    retries: AtomicU64,
    timeouts: AtomicU64,
    reports: AtomicU64,
    too_big: AtomicU64,
    fallback: AtomicU64,
    discarded: AtomicU64,
    non_increasing: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

struct Sizes {
    batch: AdaptiveSize,
    reps: AdaptiveSize,
    /// GETBULK failed (an error-status, or silence from a device that answers other requests):
    /// this device gets GETNEXT until then (GETBULK is tried again after `RESET_EVERY`).
    getnext_until: Option<Duration>,
    /// The device has answered some request.
    answered: bool,
    /// The device has answered a GETBULK.
    bulk_ok: bool,
}

/// One device; share it as `Arc<Session>`. Idle, it holds no socket and no task.
pub struct Session {
    transport: Transport,
    cfg: SessionConfig,
    codec: Mutex<Codec>,
    sizes: Mutex<Sizes>,
    slots: Semaphore,
    discovery: tokio::sync::Mutex<()>,
    origin: Instant,
    salt: AtomicU64,
    counters: Counters,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A request in flight: what it carried, and how it ended.
type InFlight<'a, R> = Boxed<'a, (R, Result<GenericPdu, SnmpError>)>;

/// Waits for the first of `futs` to finish and removes it; `None` when there are none.
async fn next_done<T>(futs: &mut Vec<Boxed<'_, T>>) -> Option<T> {
    if futs.is_empty() {
        return None;
    }
    std::future::poll_fn(|cx| {
        for i in 0..futs.len() {
            if let Poll::Ready(out) = futs[i].as_mut().poll(cx) {
                drop(futs.swap_remove(i));
                return Poll::Ready(Some(out));
            }
        }
        Poll::Pending
    })
    .await
}

mod get;
mod walk;

/// How many times one request may be re-encoded after a discovery or time-sync Report.
const MAX_RESENDS: u32 = 3;

impl Session {
    pub fn new(transport: Transport, cfg: SessionConfig) -> Session {
        let origin = Instant::now();
        let now = Duration::ZERO;
        Session {
            codec: Mutex::new(Codec::new(cfg.target, cfg.security.clone(), now)),
            sizes: Mutex::new(Sizes {
                batch: AdaptiveSize::new(cfg.oid_batch_size.clamp(1, 1000) as u32, now),
                reps: AdaptiveSize::new(cfg.max_repetitions.clamp(1, 1000), now),
                getnext_until: None,
                answered: false,
                bulk_ok: false,
            }),
            slots: Semaphore::new(cfg.max_in_flight.max(1)),
            discovery: tokio::sync::Mutex::new(()),
            origin,
            salt: AtomicU64::new(fastrand::u64(..)),
            counters: Counters::default(),
            transport,
            cfg,
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    pub fn stats(&self) -> SessionStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let sizes = lock(&self.sizes);
        SessionStats {
            get: get(&c.get),
            getnext: get(&c.getnext),
            getbulk: get(&c.getbulk),
            retries: get(&c.retries),
            timeouts: get(&c.timeouts),
            reports: get(&c.reports),
            too_big: get(&c.too_big),
            fallback_to_getnext: get(&c.fallback),
            discarded: get(&c.discarded),
            non_increasing: get(&c.non_increasing),
            oid_batch_size: sizes.batch.current(),
            max_repetitions: sizes.reps.current(),
        }
    }

    /// v3: the agent's engine ID, boots and estimated time after discovery (None for v1/v2c).
    pub fn engine(&self) -> Option<(Vec<u8>, u32, u32)> {
        lock(&self.codec).engine(self.now())
    }

    fn is_v1(&self) -> bool {
        matches!(
            self.cfg.security,
            Security::Community {
                version: Version::V1,
                ..
            }
        )
    }

    /// GET in batches of `oid_batch_size` (tooBig → smaller batches). noSuchObject and
    /// noSuchInstance come back as values, in request order; v1 noSuchName removes that OID,
    /// retries the rest and reports it as `Value::NoSuchObject`.
    pub async fn get(&self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        self.batched(PduKind::Get, oids).await
    }

    /// GETNEXT of each OID, batched like [`Session::get`]; v1 noSuchName comes back as
    /// `Value::EndOfMibView`.
    pub async fn get_next(&self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        self.batched(PduKind::GetNext, oids).await
    }

    /// Walks every root's subtree, several roots per request and up to `max_in_flight` requests
    /// at once; each subtree's varbinds in OID order, subtrees in the order of `roots`.
    pub async fn walk(&self, roots: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        Ok(self.run_walk(Walk::new(roots)).await?.into_varbinds())
    }

    /// [`Session::walk`] as `snmpbulkwalk` sees it: the exception varbind that ended a root stays
    /// in when its OID is inside the root, and each root's end reason comes back too.
    pub async fn walk_with_end_markers(
        &self,
        roots: &[WalkRoot],
    ) -> Result<(Vec<VarBind>, Vec<Option<EndReason>>), SnmpError> {
        let walk = self.run_walk(Walk::with_roots(roots, true)).await?;
        let ends = walk.ends();
        Ok((walk.into_varbinds(), ends))
    }

    /// One request, with discovery first (v3), resends after discovery or time-sync Reports,
    /// and `retries` resends on timeout. Holds one of the `max_in_flight` slots throughout.
    async fn request(
        &self,
        make: impl Fn(i32) -> Pdu,
        counter: &AtomicU64,
    ) -> Result<GenericPdu, SnmpError> {
        let _slot = self.slots.acquire().await.map_err(|_| SnmpError::Io {
            target: self.cfg.target,
            message: "session closed".into(),
        })?;
        if lock(&self.codec).needs_discovery() {
            self.discover().await?;
        }
        for _ in 0..=MAX_RESENDS {
            let mut pending = self
                .transport
                .register(self.cfg.target, self.cfg.check_source);
            let id = pending.id();
            let salt = self.salt.fetch_add(1, Ordering::Relaxed);
            let bytes = lock(&self.codec).encode(make(id), self.now(), salt)?;
            bump(counter);
            match self.exchange(&mut pending, &bytes).await? {
                Reply::Response(p) => return Ok(p),
                Reply::Resend => continue,
            }
        }
        Err(SnmpError::Malformed {
            target: self.cfg.target,
            what: "the agent kept answering with Reports".into(),
        })
    }

    /// v3 engine discovery, once for concurrent requests.
    async fn discover(&self) -> Result<(), SnmpError> {
        let _one = self.discovery.lock().await;
        if !lock(&self.codec).needs_discovery() {
            return Ok(());
        }
        let mut pending = self
            .transport
            .register(self.cfg.target, self.cfg.check_source);
        let bytes = lock(&self.codec).discovery_request(pending.id());
        bump(&self.counters.get);
        let reply = self.exchange(&mut pending, &bytes).await?;
        let discovered = !lock(&self.codec).needs_discovery();
        match reply {
            Reply::Resend if discovered => Ok(()),
            _ => Err(SnmpError::Malformed {
                target: self.cfg.target,
                what: "engine discovery got no Report with an engine ID".into(),
            }),
        }
    }

    /// Sends `bytes` and waits for a reply that passes the codec's checks, resending on timeout.
    async fn exchange(
        &self,
        pending: &mut super::transport::Pending,
        bytes: &[u8],
    ) -> Result<Reply, SnmpError> {
        let id = pending.id();
        let tries = self.cfg.retries.saturating_add(1);
        for attempt in 0..tries {
            if attempt > 0 {
                bump(&self.counters.retries);
            }
            self.transport
                .send(self.cfg.target, bytes)
                .await
                .map_err(|e| SnmpError::Io {
                    target: self.cfg.target,
                    message: e.to_string(),
                })?;
            let deadline = tokio::time::Instant::now() + self.cfg.timeout;
            while let Ok(Some(got)) = tokio::time::timeout_at(deadline, pending.recv()).await {
                let now = self.now();
                let reply = lock(&self.codec).decode(&got.raw, got.msg, id, now);
                match reply {
                    Ok(r) => {
                        if matches!(r, Reply::Resend) {
                            bump(&self.counters.reports);
                        }
                        return Ok(r);
                    }
                    Err(SnmpError::Usm { .. } | SnmpError::Malformed { .. }) => {
                        bump(&self.counters.discarded);
                    }
                    Err(e) => {
                        if matches!(e, SnmpError::Report { .. }) {
                            bump(&self.counters.reports);
                        }
                        return Err(e);
                    }
                }
            }
        }
        bump(&self.counters.timeouts);
        Err(SnmpError::Timeout {
            target: self.cfg.target,
            tries,
            each: self.cfg.timeout,
            hint: lock(&self.codec).silence_hint(),
        })
    }
}

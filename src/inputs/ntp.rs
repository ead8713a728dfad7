//! The NTP service's sockets: one task answers (or relays) client requests on the listening
//! UDP socket; one task polls the upstreams and publishes what the replies advertise through a
//! `watch` channel. Every decision is made in `proto::ntp`; this file only moves datagrams and
//! reads the clock.
//!
//! Timestamps are read with `SystemTime::now()` right after `recv_from` returns and by
//! ntp-proto just before the reply is serialised, not from the kernel, so time spent in the
//! socket queue counts as network delay for the client (bench/ntp.sh measured 40 µs minimum and
//! 120 µs median round trip on loopback at 200 requests/s, queueing included).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{upstream_host_port, NtpConfig, NtpMode};
use crate::outputs::backoff::FailureLog;
use crate::proto::ntp::auth::KeySet;
use crate::proto::ntp::client::{poll_request, read_reply};
use crate::proto::ntp::ratelimit::RateLimiter;
use crate::proto::ntp::relay::{Relay, ReplyOutcome};
use crate::proto::ntp::server::{Authentication, Outcome, Responder, DROP_REASONS};
use crate::proto::ntp::sync::{Sample, TimeState, Tracker};
use crate::proto::ntp::{
    timestamp_from_unix, NtpClock, NtpDuration, NtpLeapIndicator, NtpTimestamp,
};
use crate::telemetry::{Component, Counter, Telemetry};

/// The local clock, read-only: nocbox never steers it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

/// Returned by the clock-steering methods nocbox never calls.
#[derive(Debug)]
pub struct ReadOnlyClock;

impl std::fmt::Display for ReadOnlyClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("nocbox does not steer the system clock")
    }
}
impl std::error::Error for ReadOnlyClock {}

/// The current time as an NTP timestamp.
pub fn ntp_now() -> NtpTimestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    timestamp_from_unix(d.as_secs(), d.subsec_nanos())
}

impl NtpClock for SystemClock {
    type Error = ReadOnlyClock;
    fn now(&self) -> Result<NtpTimestamp, Self::Error> {
        Ok(ntp_now())
    }
    fn set_frequency(&self, _: f64) -> Result<NtpTimestamp, Self::Error> {
        Err(ReadOnlyClock)
    }
    fn get_frequency(&self) -> Result<f64, Self::Error> {
        Err(ReadOnlyClock)
    }
    fn step_clock(&self, _: NtpDuration) -> Result<NtpTimestamp, Self::Error> {
        Err(ReadOnlyClock)
    }
    fn disable_ntp_algorithm(&self) -> Result<(), Self::Error> {
        Err(ReadOnlyClock)
    }
    fn error_estimate_update(&self, _: NtpDuration, _: NtpDuration) -> Result<(), Self::Error> {
        Err(ReadOnlyClock)
    }
    fn status_update(&self, _: NtpLeapIndicator) -> Result<(), Self::Error> {
        Err(ReadOnlyClock)
    }
}

/// The sockets `app.rs` binds before anything starts.
pub struct NtpSockets {
    pub udp: UdpSocket,
    pub health_check: Option<TcpListener>,
}

/// What the upstream task publishes.
#[derive(Clone, Copy, Debug)]
struct Published {
    state: TimeState,
    /// Where relay mode sends requests: the best upstream, else the first that resolved.
    relay_to: Option<SocketAddr>,
}

/// Counters of the request path, created up front so `/metrics` shows every reason at 0.
#[derive(Clone)]
struct Counters {
    answered: Counter,
    relayed: Counter,
    untracked: Counter,
    authenticated: Counter,
    dropped: HashMap<&'static str, Counter>,
    bytes_in: Counter,
    bytes_out: Counter,
}

const RELAY_REASONS: &[&str] = &[
    "relay_rate",
    "relay_busy",
    "no_upstream",
    "upstream_reply_malformed",
    "upstream_reply_unmatched",
    "upstream_reply_late",
    "would_amplify",
];

impl Counters {
    fn new(t: &Telemetry, mode: NtpMode) -> Counters {
        let relay_reasons = if mode == NtpMode::Relay {
            RELAY_REASONS
        } else {
            &[]
        };
        let dropped = DROP_REASONS
            .iter()
            .chain(relay_reasons)
            .map(|r| (*r, t.counter("nocbox.ntp.dropped", &[("reason", r)])))
            .collect();
        Counters {
            answered: t.counter("nocbox.ntp.requests", &[("result", "answered")]),
            relayed: t.counter("nocbox.ntp.requests", &[("result", "relayed")]),
            untracked: t.counter("nocbox.ntp.rate_limit_untracked", &[]),
            authenticated: t.counter("nocbox.ntp.authenticated_replies", &[]),
            dropped,
            bytes_in: t.counter("nocbox.ntp.bytes_received", &[]),
            bytes_out: t.counter("nocbox.ntp.bytes_sent", &[]),
        }
    }

    fn drop(&self, reason: &str) {
        if let Some(c) = self.dropped.get(reason) {
            c.inc();
        }
    }
}

pub struct NtpService {
    cfg: NtpConfig,
    keys: Option<KeySet>,
    telemetry: Telemetry,
    component: Component,
    counters: Counters,
}

impl NtpService {
    /// Fails when the key file cannot be read or has errors.
    pub fn new(cfg: NtpConfig, telemetry: Telemetry) -> anyhow::Result<NtpService> {
        let keys = match &cfg.key_file {
            Some(path) => Some(KeySet::load(path).context("ntp.key_file")?),
            None => None,
        };
        let component = telemetry.component("ntp", "input");
        let counters = Counters::new(&telemetry, cfg.mode);
        Ok(NtpService {
            cfg,
            keys,
            telemetry,
            component,
            counters,
        })
    }

    /// Spawns the request task, the upstream task and the health-check listener into `set`;
    /// they end when `shutdown` is cancelled.
    pub fn spawn(self, sockets: NtpSockets, set: &mut JoinSet<()>, shutdown: CancellationToken) {
        let c = &self.component;
        c.set_healthy(true);
        c.set_in_service(false);
        c.error("no upstream sample yet");
        if let Ok(a) = sockets.udp.local_addr() {
            c.set_detail("listen", a);
        }
        c.set_detail("mode", format!("{:?}", self.cfg.mode).to_lowercase());
        let (tx, rx) = watch::channel(Published {
            state: TimeState::unsynchronised(),
            relay_to: None,
        });
        let limiter = self.cfg.rate_limit.enabled.then(|| {
            let r = self.cfg.rate_limit;
            RateLimiter::new(r.burst, r.per_second, r.max_sources)
        });
        let allowed = self
            .cfg
            .allowed_sources
            .as_ref()
            .map(|l| l.iter().map(|n| n.0).collect());
        let mut responder = Responder::new(SystemClock, allowed, limiter);
        if let Some(keys) = self.keys {
            c.set_detail("keys", keys.len());
            responder = responder.with_authentication(Authentication {
                keys,
                required: self.cfg.require_authentication,
            });
        }
        let sock = Arc::new(sockets.udp);
        let requests = Requests {
            sock,
            responder,
            rx,
            counters: self.counters.clone(),
            component: self.component.clone(),
            shutdown: shutdown.clone(),
        };
        match self.cfg.mode {
            NtpMode::Server => set.spawn(requests.serve()),
            NtpMode::Relay => {
                let relay = Relay::new(self.cfg.relay_max_rate, self.cfg.upstream_timeout);
                set.spawn(requests.relay(relay))
            }
        };
        set.spawn(track(
            self.cfg.clone(),
            tx,
            self.component.clone(),
            self.telemetry.clone(),
            shutdown.clone(),
        ));
        if let Some(hc) = sockets.health_check {
            set.spawn(crate::inputs::health_check::run(
                hc,
                self.component.clone(),
                self.telemetry.clone(),
                "ntp".into(),
                shutdown,
            ));
        }
    }
}

/// The request side: the listening socket and the reply rules.
struct Requests {
    sock: Arc<UdpSocket>,
    responder: Responder<SystemClock>,
    rx: watch::Receiver<Published>,
    counters: Counters,
    component: Component,
    shutdown: CancellationToken,
}

impl Requests {
    fn refresh(&mut self) {
        if self.rx.has_changed().unwrap_or(false) {
            let p = *self.rx.borrow_and_update();
            self.responder.set_state(p.state);
        }
    }

    /// Server mode: answer from the local clock.
    async fn serve(mut self) {
        let mut buf = vec![0u8; 2048];
        let mut out = [0u8; 128];
        let mut errors = FailureLog::new(Duration::from_secs(60));
        loop {
            let (n, src) = tokio::select! {
                r = self.sock.recv_from(&mut buf) => match r {
                    Ok(x) => x,
                    Err(e) => {
                        if let Some(suppressed) = errors.failure(Instant::now()) {
                            warn!(error = %e, suppressed, "NTP receive failed");
                        }
                        continue;
                    }
                },
                _ = self.shutdown.cancelled() => return,
            };
            let recv = ntp_now();
            let now = Instant::now();
            self.counters.bytes_in.add(n as u64);
            self.refresh();
            match self
                .responder
                .handle(src.ip(), &buf[..n], recv, now, &mut out)
            {
                Outcome::Reply {
                    len,
                    untracked,
                    authenticated,
                } => {
                    debug_assert!(len <= n);
                    if untracked {
                        self.counters.untracked.inc();
                    }
                    if authenticated {
                        self.counters.authenticated.inc();
                    }
                    match self.sock.send_to(&out[..len], src).await {
                        Ok(sent) => {
                            self.counters.answered.inc();
                            self.counters.bytes_out.add(sent as u64);
                            self.component.success();
                        }
                        Err(e) => {
                            if let Some(suppressed) = errors.failure(Instant::now()) {
                                warn!(error = %e, client = %src, suppressed, "NTP reply not sent");
                            }
                        }
                    }
                }
                Outcome::Drop(reason) => self.counters.drop(reason),
            }
        }
    }

    /// Relay mode: forward admitted requests to the upstream, and its replies back.
    async fn relay(mut self, mut relay: Relay) {
        let up4 = UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0))
            .await
            .ok();
        let up6 = UdpSocket::bind((std::net::Ipv6Addr::UNSPECIFIED, 0))
            .await
            .ok();
        let mut buf = vec![0u8; 2048];
        let mut ubuf4 = vec![0u8; 2048];
        let mut ubuf6 = vec![0u8; 2048];
        let mut errors = FailureLog::new(Duration::from_secs(60));
        let mut sweep = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                r = self.sock.recv_from(&mut buf) => {
                    let Ok((n, src)) = r else { continue };
                    self.counters.bytes_in.add(n as u64);
                    self.refresh();
                    let now = Instant::now();
                    match self.responder.admit(src.ip(), &buf[..n], now) {
                        Ok(untracked) => {
                            if untracked {
                                self.counters.untracked.inc();
                            }
                        }
                        Err(reason) => {
                            self.counters.drop(reason);
                            continue;
                        }
                    }
                    let Some(up) = self.rx.borrow().relay_to else {
                        self.counters.drop("no_upstream");
                        continue;
                    };
                    let sock = if up.is_ipv4() { up4.as_ref() } else { up6.as_ref() };
                    let Some(sock) = sock else {
                        self.counters.drop("no_upstream");
                        continue;
                    };
                    match relay.on_request(src, &buf[..n], up, fastrand::u64(..), now) {
                        Ok(fwd) => {
                            if let Err(e) = sock.send_to(&fwd, up).await {
                                if let Some(suppressed) = errors.failure(Instant::now()) {
                                    warn!(error = %e, upstream = %up, suppressed, "NTP relay cannot reach the upstream");
                                }
                            }
                        }
                        Err(reason) => self.counters.drop(reason),
                    }
                }
                r = recv_opt(up4.as_ref(), &mut ubuf4) => self.relay_reply(&mut relay, r, &ubuf4).await,
                r = recv_opt(up6.as_ref(), &mut ubuf6) => self.relay_reply(&mut relay, r, &ubuf6).await,
                _ = sweep.tick() => { relay.expire(Instant::now()); }
                _ = self.shutdown.cancelled() => return,
            }
        }
    }

    async fn relay_reply(
        &mut self,
        relay: &mut Relay,
        r: std::io::Result<(usize, SocketAddr)>,
        ubuf: &[u8],
    ) {
        // on_reply accepts only 48-byte replies, so ubuf[..48] below is the whole reply.
        let Ok((n, from)) = r else { return };
        match relay.on_reply(from, &ubuf[..n], Instant::now()) {
            ReplyOutcome::Forward(client, origin) => {
                let mut reply = [0u8; 48];
                reply.copy_from_slice(&ubuf[..48]);
                reply[24..32].copy_from_slice(&origin);
                if let Ok(sent) = self.sock.send_to(&reply, client).await {
                    self.counters.relayed.inc();
                    self.counters.bytes_out.add(sent as u64);
                    self.component.success();
                }
            }
            ReplyOutcome::Drop(reason) => self.counters.drop(reason),
        }
    }
}

/// `recv_from` on a socket that may not exist (then never ready).
async fn recv_opt(
    sock: Option<&UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match sock {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// The upstream task: polls every upstream each `poll_interval` (every 4 s at most while
/// unsynchronised, so recovery is quick), keeps the tracker, publishes its state, and keeps
/// the component's in-service flag, details and gauges current.
async fn track(
    cfg: NtpConfig,
    tx: watch::Sender<Published>,
    component: Component,
    telemetry: Telemetry,
    shutdown: CancellationToken,
) {
    let upstreams: Vec<(String, u16)> = cfg
        .upstreams
        .iter()
        .filter_map(|u| upstream_host_port(u))
        .collect();
    let mut tracker = Tracker::new(cfg.unsynchronised_after, cfg.max_offset);
    let synced_gauge = telemetry.gauge("nocbox.ntp.synchronised", &[]);
    let stratum_gauge = telemetry.gauge("nocbox.ntp.stratum", &[]);
    let mut was_synced: Option<bool> = None;
    let mut resolved: HashMap<String, SocketAddr> = HashMap::new();
    loop {
        let mut polls = JoinSet::new();
        for (host, port) in upstreams.clone() {
            let timeout = cfg.upstream_timeout;
            polls.spawn(async move {
                let name = format!("{host}:{port}");
                // The resolver gets the same budget again: a hanging lookup must not hold up
                // the other upstreams' samples.
                let limit = timeout * 2;
                let result =
                    match tokio::time::timeout(limit, poll_once(&host, port, timeout)).await {
                        Ok(r) => r,
                        Err(_) => Err((
                            "timeout",
                            format!(
                                "no sample from {name} within {}",
                                humantime::format_duration(limit)
                            ),
                        )),
                    };
                (name, result)
            });
        }
        while let Some(joined) = polls.join_next().await {
            // A poll task that panicked is one lost sample, not the end of the others.
            let Ok((name, result)) = joined else { continue };
            let outcome = match result {
                Ok((addr, sample)) => {
                    resolved.insert(name.clone(), addr);
                    match tracker.record(sample) {
                        Ok(()) => {
                            let g = |n: &str| telemetry.gauge(n, &[("upstream", &name)]);
                            g("nocbox.ntp.upstream_offset_ns").set((sample.offset * 1e9) as i64);
                            g("nocbox.ntp.upstream_delay_ns").set((sample.delay * 1e9) as i64);
                            g("nocbox.ntp.upstream_stratum").set(i64::from(sample.stratum));
                            "ok"
                        }
                        Err(r) => {
                            component.error(format!(
                                "upstream {name}: sample not used ({})",
                                r.reason()
                            ));
                            r.reason()
                        }
                    }
                }
                Err((reason, message)) => {
                    component.error(format!("upstream {name}: {message}"));
                    reason
                }
            };
            telemetry
                .counter(
                    "nocbox.ntp.upstream_polls",
                    &[("upstream", &name), ("result", outcome)],
                )
                .inc();
        }
        let now = Instant::now();
        let state = tracker.state(now);
        let relay_to = state
            .source
            .and_then(|s| resolved.values().find(|a| a.ip() == s.upstream).copied())
            .or_else(|| {
                upstreams
                    .iter()
                    .find_map(|(h, p)| resolved.get(&format!("{h}:{p}")).copied())
            });
        tx.send_replace(Published { state, relay_to });
        report(&component, &state, &cfg, &mut was_synced);
        synced_gauge.set(i64::from(state.synchronised));
        stratum_gauge.set(i64::from(state.snapshot.stratum));

        let mut wait = if state.synchronised {
            cfg.poll_interval
        } else {
            cfg.poll_interval.min(Duration::from_secs(4))
        };
        if let Some(expiry) = tracker.next_expiry(now) {
            wait = wait.min(expiry.saturating_duration_since(now) + Duration::from_millis(1));
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

fn report(component: &Component, st: &TimeState, cfg: &NtpConfig, was: &mut Option<bool>) {
    component.set_in_service(st.synchronised);
    component.set_detail("synchronised", if st.synchronised { "yes" } else { "no" });
    component.set_detail("stratum", st.snapshot.stratum);
    if let Some(s) = st.source {
        component.success();
        component.set_detail("upstream", s.upstream);
        component.set_detail("offset", format!("{:+.3} ms", s.offset * 1e3));
        component.set_detail("delay", format!("{:.3} ms", s.delay * 1e3));
    }
    if *was != Some(st.synchronised) {
        if st.synchronised {
            let s = st
                .source
                .map(|s| s.upstream.to_string())
                .unwrap_or_default();
            info!(upstream = %s, stratum = st.snapshot.stratum, "NTP synchronised: serving time");
        } else if was.is_some() {
            let after = humantime::format_duration(cfg.unsynchronised_after);
            warn!("NTP unsynchronised: no usable upstream sample for {after}; replies now say leap indicator 3, stratum 16, and /healthz/ntp fails");
            component.error(format!("no usable upstream sample for {after}"));
        }
        *was = Some(st.synchronised);
    }
}

/// One exchange with one upstream: resolves it, sends from a fresh socket (a new source port
/// each time, so an off-path attacker cannot aim forged replies), waits for the reply that
/// echoes our request. Err((counter reason, message)).
async fn poll_once(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(SocketAddr, Sample), (&'static str, String)> {
    // IPv4 first: a name with both families must not fail on a host without IPv6 routes.
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ("dns", format!("cannot resolve {host}: {e}")))?
        .collect();
    addrs.sort_by_key(|a| a.is_ipv6());
    let addr = *addrs
        .first()
        .ok_or(("dns", format!("{host} has no address")))?;
    let local: SocketAddr = match addr.ip() {
        IpAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let io = |e: std::io::Error| ("error", e.to_string());
    let sock = UdpSocket::bind(local).await.map_err(io)?;
    sock.connect(addr).await.map_err(io)?;
    let (req, poll) = poll_request();
    let t1 = ntp_now();
    sock.send(&req).await.map_err(io)?;
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => {
                return Err((
                    "timeout",
                    format!(
                        "no answer from {addr} within {}",
                        humantime::format_duration(timeout)
                    ),
                ))
            }
            Ok(Err(e)) => return Err(io(e)),
            Ok(Ok(n)) => n,
        };
        let t4 = ntp_now();
        match read_reply(&buf[..n], &poll, addr.ip(), t1, t4, Instant::now()) {
            Ok(sample) => return Ok((addr, sample)),
            // A stray or forged datagram: keep waiting for the real reply.
            Err("unmatched_reply") => continue,
            Err(reason) => return Err(("malformed_reply", format!("{addr}: {reason}"))),
        }
    }
}

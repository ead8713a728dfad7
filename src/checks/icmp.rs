//! Ping IO: one ICMP socket per address family, shared by every target (a surge-ping `Client`
//! owns it with one receive task), opened when the first target of that family needs it; one
//! small task per target that resolves, sends and waits. What the replies mean is `ping.rs`.
//!
//! Sockets: `ping.socket: auto` opens an unprivileged datagram socket (needs the process's group
//! inside `net.ipv4.ping_group_range`) and falls back to a raw one (needs CAP_NET_RAW); `dgram`
//! and `raw` open only that type. When neither works the `ping` component is unhealthy with the
//! reason and the fix; that never fails the overall `/healthz` (see `checks/mod.rs`).
//!
//! Matching: on a datagram socket the kernel replaces the ICMP identifier with the socket's own
//! port, so surge-ping 0.9.1 matches replies by (address, sequence) alone there, and by
//! (address, identifier, sequence) on raw sockets. Every echo request on a socket therefore takes
//! the next number of one per-socket sequence counter, which keeps the (address, sequence) of
//! requests in flight unique even when the same address is pinged by two targets.
//!
//! RTT: surge-ping starts its clock after `send_to` returns, so on loopback the reply is often
//! stamped first and its RTT reads 0. We take our own `Instant` just before the request is
//! handed to the socket and read it when the reply is handed to us: the RTT includes the
//! hand-off from the receive task (microseconds), never less than the true round trip.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use surge_ping::{Client, IcmpPacket, PingIdentifier, PingSequence, SurgeError, ICMP};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tracing::{error, info};

use crate::config::{Config, PingSocket};
use crate::telemetry::{Component, Counter};

use super::ping::{self, Board, Lost, Probe, Target, Verdict};
use super::{resolve, spread, CheckContext, KIND};

/// ICMP payload: 56 bytes, as ping(8) and fping send by default.
const PAYLOAD: [u8; 56] = *b"nocbox ping payload, 56 bytes long, as ping(8) sends....";

/// Requested receive buffer of each ICMP socket: replies to a burst of checks must not be
/// dropped by the kernel before the receive task reads them.
const RECEIVE_BUFFER: usize = 1 << 20;

/// One open ICMP socket.
struct Sock {
    client: Client,
    /// `dgram` or `raw`.
    kind: &'static str,
    ident: u16,
    seq: AtomicU16,
}

/// What one echo request came to.
enum Echo {
    Reply(Duration),
    Lost(Lost),
}

impl Sock {
    async fn echo(&self, ip: IpAddr, timeout: Duration) -> Echo {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut pinger = self.client.pinger(ip, PingIdentifier(self.ident)).await;
        pinger.timeout(timeout);
        let t0 = Instant::now();
        match pinger.ping(PingSequence(seq), &PAYLOAD).await {
            Ok((packet, _)) => {
                let rtt = t0.elapsed();
                match error_of(&packet) {
                    None => Echo::Reply(rtt),
                    Some(e) => Echo::Lost(Lost::IcmpError(e)),
                }
            }
            Err(SurgeError::Timeout { .. }) => Echo::Lost(Lost::Timeout),
            Err(SurgeError::IOError(e)) => Echo::Lost(Lost::Send(e.to_string())),
            Err(e) => Echo::Lost(Lost::Send(e.to_string())),
        }
    }
}

/// `None` for an echo reply, else the ICMP error in words.
fn error_of(p: &IcmpPacket) -> Option<String> {
    let (v6, ty, code) = match p {
        IcmpPacket::V4(p) => (false, p.get_icmp_type().0, p.get_icmp_code().0),
        IcmpPacket::V6(p) => (true, p.get_icmpv6_type().0, p.get_icmpv6_code().0),
    };
    let reply = if v6 { 129 } else { 0 };
    (ty != reply).then(|| ping::icmp_error_text(v6, ty, code))
}

/// The two sockets, each opened on first use; a failure is kept (and shown) until restart.
struct Sockets {
    mode: PingSocket,
    ident: u16,
    v4: OnceLock<Result<Arc<Sock>, String>>,
    v6: OnceLock<Result<Arc<Sock>, String>>,
}

impl Sockets {
    /// Whether opening the socket for this family was tried already (it may have failed).
    fn tried(&self, ip: &IpAddr) -> bool {
        match ip {
            IpAddr::V4(_) => self.v4.get().is_some(),
            IpAddr::V6(_) => self.v6.get().is_some(),
        }
    }

    fn get(&self, ip: &IpAddr) -> &Result<Arc<Sock>, String> {
        let (cell, v6) = match ip {
            IpAddr::V4(_) => (&self.v4, false),
            IpAddr::V6(_) => (&self.v6, true),
        };
        cell.get_or_init(|| {
            let r = open(v6, self.mode, self.ident).map(Arc::new);
            let fam = if v6 { "IPv6" } else { "IPv4" };
            match &r {
                Ok(s) => info!(family = fam, socket = s.kind, "ping: ICMP socket open"),
                Err(e) => error!(family = fam, "ping: {e}"),
            }
            r
        })
    }

    /// The first socket that could not be opened, in words.
    fn problem(&self) -> Option<String> {
        [&self.v4, &self.v6]
            .iter()
            .find_map(|c| c.get().and_then(|r| r.as_ref().err().cloned()))
    }

    fn describe(&self, cell: &OnceLock<Result<Arc<Sock>, String>>) -> &'static str {
        match cell.get() {
            None => "not needed yet",
            Some(Ok(s)) => s.kind,
            Some(Err(_)) => "unavailable",
        }
    }
}

fn open(v6: bool, mode: PingSocket, ident: u16) -> Result<Sock, String> {
    let (domain, proto, kind) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6, ICMP::V6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4, ICMP::V4)
    };
    let try_type = |t: Type| Socket::new(domain, t, Some(proto)).map(drop);
    let (dgram, raw) = match mode {
        PingSocket::Dgram => (Some(try_type(Type::DGRAM)), None),
        PingSocket::Raw => (None, Some(try_type(Type::RAW))),
        PingSocket::Auto => {
            let d = try_type(Type::DGRAM);
            let r = if d.is_ok() {
                None
            } else {
                Some(try_type(Type::RAW))
            };
            (Some(d), r)
        }
    };
    let chosen = match (&dgram, &raw) {
        (Some(Ok(())), _) => Type::DGRAM,
        (_, Some(Ok(()))) => Type::RAW,
        _ => {
            let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
                .ok()
                .and_then(|t| ping::parse_group_range(&t));
            // SAFETY: getegid has no preconditions and cannot fail.
            let gid = unsafe { libc::getegid() };
            return Err(ping::explain_socket_failure(
                v6,
                dgram.as_ref().and_then(|r| r.as_ref().err()),
                raw.as_ref().and_then(|r| r.as_ref().err()),
                gid,
                range,
            ));
        }
    };
    let cfg = surge_ping::Config::builder()
        .kind(kind)
        .sock_type_hint(chosen)
        .build();
    let client = Client::new(&cfg).map_err(|e| format!("cannot open the ICMP socket: {e}"))?;
    grow_receive_buffer(client.get_socket().get_native_sock());
    let kind = if client.get_socket().get_type() == Type::RAW {
        "raw"
    } else {
        "dgram"
    };
    Ok(Sock {
        client,
        kind,
        ident,
        seq: AtomicU16::new(fastrand::u16(..)),
    })
}

/// SO_RCVBUFFORCE when permitted (CAP_NET_ADMIN), else SO_RCVBUF (capped at
/// net.core.rmem_max). Best effort: the default buffer still works for spread-out checks.
fn grow_receive_buffer(fd: std::os::fd::RawFd) {
    let value = RECEIVE_BUFFER as libc::c_int;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: `fd` is the open socket the client owns; the pointer is to a c_int that
        // outlives the call, with its exact length.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// What the target tasks share.
struct Shared {
    ctx: Arc<CheckContext>,
    sockets: Sockets,
    board: Mutex<Board>,
    component: Component,
    requests: Counter,
    replies: Counter,
    reachable: Counter,
    unreachable: Counter,
    dns_failures: Counter,
    no_socket: Counter,
}

/// Spawns one task per ping target into `set`; each first runs at its place in the spread.
pub fn spawn(cfg: &Config, ctx: &Arc<CheckContext>, set: &mut JoinSet<()>) {
    let Some(p) = &cfg.ping else { return };
    let targets = ping::plan(cfg);
    let t = &ctx.telemetry;
    let counter = |result: &str| t.counter("nocbox.ping.checks", &[("result", result)]);
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        sockets: Sockets {
            mode: p.socket,
            ident: fastrand::u16(..),
            v4: OnceLock::new(),
            v6: OnceLock::new(),
        },
        board: Mutex::new(Board::default()),
        component: t.component("ping", KIND),
        requests: t.counter("nocbox.ping.requests", &[]),
        replies: t.counter("nocbox.ping.replies", &[]),
        reachable: counter("reachable"),
        unreachable: counter("unreachable"),
        dns_failures: counter("dns_failure"),
        no_socket: counter("no_socket"),
    });
    let c = &shared.component;
    c.set_healthy(true);
    c.set_detail("targets", targets.len());
    c.set_message(format!(
        "{} targets, first results within {}",
        targets.len(),
        humantime::format_duration(p.interval)
    ));
    // Open the sockets the address targets need now, so a missing privilege shows at start.
    for ip in targets.iter().filter_map(|t| t.literal) {
        shared.sockets.get(&ip);
    }
    show_sockets(&shared);
    let n = targets.len();
    for (i, target) in targets.into_iter().enumerate() {
        let offset = spread(i, n, target.interval);
        set.spawn(run_target(target, offset, shared.clone()));
    }
}

fn show_sockets(s: &Shared) {
    let c = &s.component;
    c.set_detail("socket_ipv4", s.sockets.describe(&s.sockets.v4));
    c.set_detail("socket_ipv6", s.sockets.describe(&s.sockets.v6));
    if let Some(p) = s.sockets.problem() {
        c.set_healthy(false);
        c.error(p);
    }
}

async fn run_target(t: Target, offset: Duration, s: Arc<Shared>) {
    let start = tokio::time::Instant::now() + offset;
    let mut tick = tokio::time::interval_at(start, t.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let shutdown = s.ctx.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = check(&t, &s) => {}
        }
    }
}

/// One check of one target: resolve, ping every address, send the metrics, update the board.
async fn check(t: &Target, s: &Shared) {
    let ts = chrono::Utc::now().timestamp();
    let host = &s.ctx.hostname;
    let mut addrs = match resolve(&t.host).await {
        Ok(a) => a,
        Err(e) => {
            s.dns_failures.inc();
            for m in ping::dns_failure_metrics(&t.host, &t.tags, ts, host) {
                s.ctx.pipeline.send(crate::event::Event::Metric(m));
            }
            let why = format!("DNS failure: {e}");
            update(s, &t.host, vec![(t.host.clone(), Some(why))]);
            return;
        }
    };
    addrs.truncate(ping::MAX_ADDRESSES);
    let name = t.literal.is_none().then_some(t.host.as_str());
    let mut socks = Vec::new();
    let mut verdicts = Vec::new();
    for ip in addrs {
        if !s.sockets.tried(&ip) {
            s.sockets.get(&ip);
            show_sockets(s);
        }
        match s.sockets.get(&ip) {
            Ok(sock) => socks.push((ip, sock.clone())),
            Err(_) => {
                s.no_socket.inc();
                verdicts.push((ping::label(name, ip), Some("no ICMP socket".into())));
            }
        }
    }
    let probes = probe_all(&socks, t, s).await;
    for ((ip, _), probe) in socks.iter().zip(&probes) {
        if probe.reachable() {
            s.reachable.inc();
        } else {
            s.unreachable.inc();
        }
        s.replies.add(probe.rtts.len() as u64);
        for m in ping::metrics(*ip, name, probe, &t.tags, ts, host) {
            s.ctx.pipeline.send(crate::event::Event::Metric(m));
        }
        let why = (!probe.reachable()).then(|| probe.describe());
        verdicts.push((ping::label(name, *ip), why));
    }
    update(s, &t.host, verdicts);
}

/// `count` echo requests to every address, `gap` apart, each waiting up to `timeout`.
async fn probe_all(socks: &[(IpAddr, Arc<Sock>)], t: &Target, s: &Shared) -> Vec<Probe> {
    let mut set = JoinSet::new();
    for k in 0..t.count {
        if k > 0 {
            tokio::time::sleep(t.gap).await;
        }
        for (i, (ip, sock)) in socks.iter().enumerate() {
            let (ip, sock, timeout) = (*ip, sock.clone(), t.timeout);
            s.requests.inc();
            set.spawn(async move { (i, sock.echo(ip, timeout).await) });
        }
    }
    let mut probes = vec![Probe::default(); socks.len()];
    while let Some(done) = set.join_next().await {
        let Ok((i, echo)) = done else { continue };
        let p = &mut probes[i];
        p.sent += 1;
        match echo {
            Echo::Reply(rtt) => p.rtts.push(rtt),
            Echo::Lost(l) => {
                if p.lost.is_none() || matches!(p.lost, Some(Lost::Timeout)) {
                    p.lost = Some(l);
                }
            }
        }
    }
    probes
}

fn update(s: &Shared, target: &str, verdicts: Vec<Verdict>) {
    let (message, down) = {
        let mut b = s.board.lock().unwrap_or_else(|e| e.into_inner());
        b.record(target, verdicts);
        (b.message(), b.unreachable())
    };
    let c = &s.component;
    c.set_message(message);
    if let Some(p) = s.sockets.problem() {
        c.set_healthy(false);
        c.error(p);
        return;
    }
    if down == 0 {
        c.success();
    } else {
        c.error(format!(
            "{down} address{} unreachable",
            if down == 1 { "" } else { "es" }
        ));
    }
}

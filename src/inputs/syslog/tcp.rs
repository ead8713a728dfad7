//! The TCP receiver: an accept task with a connection limit, and one task per connection that
//! optionally reads a PROXY header (v2 from an NLB, or v1), optionally does the TLS handshake,
//! then feeds the stream to the framing core and emits every frame. Keepalive keeps NLB flows
//! alive; an idle timeout frees connections a device abandoned; a per-source cap keeps one
//! flooding host from holding every slot. With `backpressure`, a connection stops reading while
//! an output that takes logs is full, so the sender is slowed by TCP instead of losing lines.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use chrono::Utc;
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use super::{Shared, TransportCounters};
use crate::event::Event;
use crate::outputs::backoff::FailureLog;
use crate::proto::framing::{FrameDecoder, FramingEvent};
use crate::proto::proxy::{self, ProxyHeader};
use crate::telemetry::Counter;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection is still read after the service stops.
const STOP_GRACE: Duration = Duration::from_millis(300);

pub(crate) async fn run(listener: TcpListener, s: Arc<Shared>, shutdown: CancellationToken) {
    let Some(tcfg) = s.cfg.tcp.clone() else {
        return;
    };
    let limit = Arc::new(Semaphore::new(tcfg.max_connections));
    let tracker = TaskTracker::new();
    let t = &s.telemetry;
    let accepted = t.counter("nocbox.syslog.connections_accepted", &[]);
    let over_limit = t.counter(
        "nocbox.syslog.connections_rejected",
        &[("reason", "connection_limit")],
    );
    let open = t.gauge("nocbox.syslog.connections_open", &[]);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    s.component.error(format!("TCP accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            over_limit.inc();
            drop(stream);
            continue;
        };
        accepted.inc();
        open.add(1);
        let (s, shutdown, open) = (s.clone(), shutdown.clone(), open.clone());
        let keepalive = tcfg.keepalive;
        tracker.spawn(async move {
            set_keepalive(&stream, keepalive);
            connection(stream, peer, &s, &shutdown).await;
            open.add(-1);
            drop(permit);
        });
    }
    tracker.close();
    tracker.wait().await;
}

fn set_keepalive(stream: &TcpStream, idle: Duration) {
    let ka = TcpKeepalive::new()
        .with_time(idle)
        .with_interval(Duration::from_secs(idle.as_secs().clamp(1, 30)))
        .with_retries(4);
    if let Err(e) = SockRef::from(stream).set_tcp_keepalive(&ka) {
        debug!(error = %e, "cannot set TCP keepalive");
    }
}

/// Connections per client address, released when the guard drops.
#[derive(Default)]
pub(crate) struct PerSource {
    open: Mutex<HashMap<IpAddr, usize>>,
    /// Rate-limits the warning about refused connections (one line a minute).
    warned: Mutex<Option<FailureLog>>,
}

struct SourceSlot<'a> {
    table: &'a PerSource,
    ip: IpAddr,
}

impl PerSource {
    fn take(&self, ip: IpAddr, max: usize) -> Option<SourceSlot<'_>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SourceSlot { table: self, ip })
    }
}

impl Drop for SourceSlot<'_> {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Counts a refused connection and says why in the log, at most once a minute.
fn reject(s: &Shared, peer: SocketAddr, reason: &'static str) {
    s.telemetry
        .counter("nocbox.syslog.connections_rejected", &[("reason", reason)])
        .inc();
    let mut log = s
        .per_source
        .warned
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let log = log.get_or_insert_with(|| FailureLog::new(Duration::from_secs(60)));
    if let Some(suppressed) = log.failure(Instant::now()) {
        warn!(peer = %peer, reason, suppressed, "syslog TCP connection refused");
    }
}

/// Runs `f` unless the handshake deadline passes or the service stops first.
async fn bounded<T>(
    shutdown: &CancellationToken,
    f: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, f) => r.ok(),
        _ = shutdown.cancelled() => None,
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    s: &Shared,
    shutdown: &CancellationToken,
) {
    let Some(tcfg) = s.cfg.tcp.as_ref() else {
        return;
    };
    let mut client = peer.ip();
    if tcfg.proxy_protocol {
        if let Some(trusted) = &tcfg.trusted_proxies {
            if !trusted
                .iter()
                .any(|n| n.contains(&crate::inputs::canonical(peer.ip())))
            {
                return reject(s, peer, "untrusted_proxy");
            }
        }
        match bounded(shutdown, read_proxy_header(&mut stream)).await {
            Some(Ok(ProxyHeader::Proxy { source, .. })) => client = source.ip(),
            Some(Ok(_)) => {} // LOCAL (the NLB's own health check): keep the socket's peer
            Some(Err(reason)) => return reject(s, peer, reason),
            None => return reject(s, peer, "proxy_timeout"),
        }
    }
    if !s.allowed(client) {
        return;
    }
    let Some(_slot) = s.per_source.take(
        crate::inputs::canonical(client),
        tcfg.max_connections_per_source,
    ) else {
        return reject(s, peer, "per_source_limit");
    };
    match &s.tls {
        Some(acceptor) => match bounded(shutdown, acceptor.accept(stream)).await {
            Some(Ok(tls)) => read_frames(tls, client, s, shutdown).await,
            Some(Err(e)) => {
                debug!(peer = %peer, error = %e, "TLS handshake failed");
                reject(s, peer, "tls_handshake")
            }
            None => reject(s, peer, "tls_timeout"),
        },
        None => read_frames(stream, client, s, shutdown).await,
    }
}

/// Reads exactly the PROXY header, v1 or v2, never a byte more (what follows may be a TLS
/// handshake): v2's fixed 16 bytes give its length; v1 is a line of at most 107 bytes, read
/// byte by byte (once per connection).
async fn read_proxy_header(stream: &mut TcpStream) -> Result<ProxyHeader, &'static str> {
    let mut buf = Vec::with_capacity(proxy::MAX_HEADER_LEN);
    let mut byte = [0u8; 1];
    loop {
        let want = match proxy::parse(&buf) {
            Ok(Some((h, _))) => return Ok(h),
            Err(e) => return Err(e.reason()),
            // The first byte tells the version: v1 is text ("PROXY ..."), v2 starts with CR.
            Ok(None) if buf.is_empty() => 1,
            Ok(None) if buf[0] == 0x0D && buf.len() < 16 => 16,
            // A complete v2 fixed part: read the rest in one go.
            Ok(None) if buf[0] == 0x0D => 16 + usize::from(u16::from_be_bytes([buf[14], buf[15]])),
            Ok(None) => buf.len() + 1,
        };
        if want <= buf.len() || want > proxy::MAX_HEADER_LEN {
            return Err("proxy_bad_length");
        }
        let start = buf.len();
        buf.resize(want, 0);
        let res = if want - start == 1 {
            stream
                .read_exact(&mut byte)
                .await
                .map(|_| buf[start] = byte[0])
        } else {
            stream.read_exact(&mut buf[start..]).await.map(|_| ())
        };
        if res.is_err() {
            return Err("proxy_truncated");
        }
    }
}

async fn read_frames<S: AsyncRead + Unpin>(
    mut stream: S,
    client: IpAddr,
    s: &Shared,
    shutdown: &CancellationToken,
) {
    let transport = if s.tls.is_some() { "tls" } else { "tcp" };
    let c: TransportCounters = s.counters(transport);
    let tcfg = s.cfg.tcp.as_ref();
    let idle = tcfg.map_or(Duration::from_secs(3600), |t| t.idle_timeout);
    let pacer = tcfg
        .is_some_and(|t| t.backpressure)
        .then(|| Backpressure::new(s, transport));
    let mut dec = FrameDecoder::new(s.cfg.max_message_size);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut stopping: Option<Instant> = None;
    // One read's records, queued together.
    let mut records = VecDeque::new();
    loop {
        // Once the grace is over, stop even if the peer still has data queued: a sender that
        // backpressure held back has a whole TCP window of it.
        if stopping.is_some_and(|until| Instant::now() >= until) {
            break;
        }
        buf.reserve(16 * 1024);
        // When the service stops, read for a moment longer (a fixed grace, however busy the
        // peer): what the kernel already holds was sent before the stop and is delivered too.
        // The idle timeout covers this read alone, so time spent waiting for room (between
        // reads) is never taken for the peer's silence.
        let wait = match stopping {
            Some(until) => until.saturating_duration_since(Instant::now()),
            None => idle,
        };
        let read = tokio::select! {
            r = tokio::time::timeout(wait, stream.read_buf(&mut buf)) => r,
            _ = shutdown.cancelled(), if stopping.is_none() => {
                stopping = Some(Instant::now() + STOP_GRACE);
                continue;
            }
        };
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                debug!(client = %client, error = %e, "syslog TCP read failed");
                s.telemetry
                    .counter("nocbox.syslog.receive_errors", &[("transport", "tcp")])
                    .inc();
                break;
            }
            Err(_) if stopping.is_some() => break,
            Err(_) => {
                s.telemetry.counter("nocbox.syslog.idle_closed", &[]).inc();
                break;
            }
        }
        // Every line of one read arrived at the same moment, from the same sender.
        let arrival = s.arrival(client, Utc::now());
        let mut frames = false;
        while let Some(f) = dec.decode(&mut buf) {
            frames = true;
            records.push_back(s.record(&arrival, &f.data, f.truncated, f.original_len, &c));
        }
        match &pacer {
            None => s.pipeline.send_all(records.drain(..)),
            Some(p) => p.send_all(s, &mut records, shutdown, &mut stopping).await,
        }
        if frames {
            s.component.success_at(arrival.at);
        }
        count_framing(&mut dec, s);
        // A busy connection always has a read ready, and tokio lets a task go on for 128 ready
        // reads (~10,000 lines here) before it yields: with several busy connections the
        // outputs' tasks then wait tens of milliseconds for a turn while their queues overflow.
        // One read's lines per turn keeps every task moving.
        tokio::task::yield_now().await;
    }
    // A last line without its LF is still a message; if the stop cut it, it is flagged.
    let arrival = s.arrival(client, Utc::now());
    let mut frames = false;
    while let Some(f) = dec.finish(&mut buf) {
        frames = true;
        let cut = f.truncated || stopping.is_some();
        records.push_back(s.record(&arrival, &f.data, cut, f.original_len, &c));
    }
    s.pipeline.send_all(records.drain(..));
    if frames {
        s.component.success_at(arrival.at);
    }
    count_framing(&mut dec, s);
}

/// `syslog.tcp.backpressure`: a connection queues each frame only when there is room for it.
///
/// Checked per frame, not per read: an output's queue is a bounded channel, so frames sent past
/// its room would be dropped, not queued a little over the bound; one read (16 KiB) can hold
/// hundreds of short lines, more than a small queue's room. The check is the queuing itself
/// (`Pipeline::try_send_all`: one lock per output for a read's frames, as `send_all` takes),
/// so it costs nothing extra while there is room. While frames wait the socket is not read:
/// what was read is only ever queued, and the sender is held back by the kernel's TCP window.
struct Backpressure {
    /// `nocbox.syslog.backpressure_waits{transport}`: times a connection paused (once per
    /// read whose lines had to wait, however many waits it took).
    waits: Counter,
    /// `nocbox.syslog.backpressure_microseconds{transport}`: time connections spent paused.
    micros: Counter,
}

impl Backpressure {
    fn new(s: &Shared, transport: &'static str) -> Self {
        let l = [("transport", transport)];
        Backpressure {
            waits: s.telemetry.counter("nocbox.syslog.backpressure_waits", &l),
            micros: s
                .telemetry
                .counter("nocbox.syslog.backpressure_microseconds", &l),
        }
    }

    /// Queues `records` in order, each once every output that takes logs has room for it. A
    /// stop does not end the wait at once: like reading, it goes on for the stop grace; after
    /// that the rest are sent as by `send` (dropped and counted where there is still no room)
    /// and the read loop ends.
    async fn send_all(
        &self,
        s: &Shared,
        records: &mut VecDeque<Event>,
        shutdown: &CancellationToken,
        stopping: &mut Option<Instant>,
    ) {
        let mut paused: Option<Instant> = None;
        loop {
            s.pipeline.try_send_all(records);
            let Some(first) = records.front() else {
                break;
            };
            let now = Instant::now();
            if stopping.is_some_and(|until| now >= until) {
                s.pipeline.send_all(records.drain(..));
                break;
            }
            if paused.is_none() {
                paused = Some(now);
                self.waits.inc();
            }
            let grace_end = stopping.unwrap_or(now);
            tokio::select! {
                _ = s.pipeline.wait_for_room(first) => {}
                _ = shutdown.cancelled(), if stopping.is_none() => {
                    *stopping = Some(Instant::now() + STOP_GRACE);
                }
                _ = tokio::time::sleep_until(grace_end.into()), if stopping.is_some() => {}
            }
        }
        if let Some(since) = paused {
            self.micros
                .add(u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX));
        }
    }
}

fn count_framing(dec: &mut FrameDecoder, s: &Shared) {
    for ev in dec.take_events() {
        let reason = match ev {
            FramingEvent::FellBackToLineFeed => "octet_count_fallback",
        };
        s.telemetry
            .counter("nocbox.syslog.framing_errors", &[("reason", reason)])
            .inc();
    }
}

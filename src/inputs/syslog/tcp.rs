//! The TCP receiver: an accept task with a connection limit, and one task per connection that
//! optionally reads a PROXY v2 header, optionally does the TLS handshake, then feeds the stream
//! to the framing core and emits every frame. Keepalive keeps NLB flows alive; an idle timeout
//! frees connections a device abandoned.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;

use super::{Shared, TransportCounters};
use crate::proto::framing::{FrameDecoder, FramingEvent};
use crate::proto::proxy::{self, ProxyHeader};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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

fn reject(s: &Shared, reason: &'static str) {
    s.telemetry
        .counter("nocbox.syslog.connections_rejected", &[("reason", reason)])
        .inc();
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    s: &Shared,
    shutdown: &CancellationToken,
) {
    let mut client = peer.ip();
    if s.cfg.tcp.as_ref().is_some_and(|t| t.proxy_protocol) {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, read_proxy_header(&mut stream)).await {
            Ok(Ok(ProxyHeader::Proxy { source, .. })) => client = source.ip(),
            Ok(Ok(_)) => {} // LOCAL (the NLB's own health check): keep the socket's peer
            Ok(Err(reason)) => return reject(s, reason),
            Err(_) => return reject(s, "proxy_timeout"),
        }
    }
    if !s.allowed(client) {
        return;
    }
    match &s.tls {
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => read_frames(tls, client, s, shutdown).await,
                Ok(Err(e)) => {
                    debug!(peer = %peer, error = %e, "TLS handshake failed");
                    reject(s, "tls_handshake")
                }
                Err(_) => reject(s, "tls_timeout"),
            }
        }
        None => read_frames(stream, client, s, shutdown).await,
    }
}

/// Reads exactly the PROXY header, v1 or v2, never a byte more (what follows may be a TLS
/// handshake): peek until the header is complete, then consume its length.
async fn read_proxy_header(stream: &mut TcpStream) -> Result<ProxyHeader, &'static str> {
    let mut buf = vec![0u8; proxy::MAX_HEADER_LEN];
    let mut seen = 0;
    loop {
        let n = stream.peek(&mut buf).await.map_err(|_| "proxy_truncated")?;
        match proxy::parse(&buf[..n]) {
            Ok(Some((h, used))) => {
                stream
                    .read_exact(&mut buf[..used])
                    .await
                    .map_err(|_| "proxy_truncated")?;
                return Ok(h);
            }
            Ok(None) if n == seen => {
                // peek returned the same bytes: the peer closed, or is slow; wait a little.
                if n == 0 {
                    return Err("proxy_truncated");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(None) => seen = n,
            Err(e) => return Err(e.reason()),
        }
    }
}

async fn read_frames<S: AsyncRead + Unpin>(
    mut stream: S,
    client: IpAddr,
    s: &Shared,
    shutdown: &CancellationToken,
) {
    let c: TransportCounters = s.counters(if s.tls.is_some() { "tls" } else { "tcp" });
    let idle = s
        .cfg
        .tcp
        .as_ref()
        .map_or(Duration::from_secs(3600), |t| t.idle_timeout);
    let mut dec = FrameDecoder::new(s.cfg.max_message_size);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        buf.reserve(16 * 1024);
        let read = tokio::select! {
            r = tokio::time::timeout(idle, stream.read_buf(&mut buf)) => r,
            _ = shutdown.cancelled() => break,
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
            Err(_) => {
                s.telemetry.counter("nocbox.syslog.idle_closed", &[]).inc();
                break;
            }
        }
        while let Some(f) = dec.decode(&mut buf) {
            s.emit(&f.data, client, f.truncated, f.original_len, &c);
        }
        count_framing(&mut dec, s);
    }
    // A last line without its LF is still a message.
    while let Some(f) = dec.finish(&mut buf) {
        s.emit(&f.data, client, f.truncated, f.original_len, &c);
    }
    count_framing(&mut dec, s);
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

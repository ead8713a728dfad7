//! The UDP receiver: one datagram is one message (RFC 5426). A dedicated task drains the socket
//! in bursts and a second one parses them; the socket gets a large SO_RCVBUF because the kernel
//! drops what does not fit, and those drops (from /proc/net/udp) are exported as
//! `nocbox.syslog.udp_kernel_drops`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chrono::Utc;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tracing::{info, warn};

use super::{Arrival, Shared};

/// Binds with the requested receive buffer. SO_RCVBUFFORCE first (it passes
/// net.core.rmem_max when the process has CAP_NET_ADMIN, as rsyslog's RcvBufSize does), then
/// SO_RCVBUF, which the kernel caps at net.core.rmem_max. The granted size is logged.
/// Binds a UDP listener with a receive buffer of `rcvbuf` bytes (forced past rmem_max when
/// permitted); `what` names it in the log line.
pub fn bind(addr: SocketAddr, rcvbuf: usize, what: &str) -> std::io::Result<UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if !force_recv_buffer(&sock, rcvbuf) {
        if let Err(e) = sock.set_recv_buffer_size(rcvbuf) {
            warn!(error = %e, requested = rcvbuf, "cannot set the {what} UDP receive buffer");
        }
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    let granted = sock.recv_buffer_size().unwrap_or(0);
    info!(requested = rcvbuf, granted, "{what} UDP receive buffer");
    UdpSocket::from_std(sock.into())
}

/// SO_RCVBUFFORCE; false when not permitted (no CAP_NET_ADMIN) or not representable.
fn force_recv_buffer(sock: &Socket, size: usize) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(value) = libc::c_int::try_from(size) else {
        return false;
    };
    // SAFETY: a valid socket descriptor and a pointer to a c_int that outlives the call, with
    // its exact length.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Strips the trailing LF/CR/NUL that some senders (loggen) put in datagrams.
fn trim_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r' | 0] = b {
        b = rest;
    }
    b
}

/// Datagrams taken per wake-up beyond the first.
const BURST: usize = 255;
/// Bursts received and not yet parsed; when the parser is this far behind, the receiver waits
/// and the socket's buffer holds what arrives.
const PARSE_QUEUE: usize = 64;
/// Received datagrams are copied into chunks of this size, shared by the batch.
const ARENA: usize = 256 * 1024;

/// Datagrams received and not yet parsed, with their senders.
type Batch = Vec<(Bytes, SocketAddr)>;

/// Receives on one task and parses on another: on two cores the system calls and copies of one
/// burst overlap the parsing of the previous one. One parser, so each sender's lines keep
/// their order.
pub(crate) async fn run(sock: UdpSocket, s: Arc<Shared>, shutdown: CancellationToken) {
    let (tx, rx) = mpsc::channel::<Batch>(PARSE_QUEUE);
    let parser = AbortOnDropHandle::new(tokio::spawn(parse(rx, s.clone())));
    receive(sock, &s, tx, shutdown).await;
    // The receiver has dropped its sender: the parser ends after the last batch.
    let _ = parser.await;
}

async fn parse(mut rx: mpsc::Receiver<Batch>, s: Arc<Shared>) {
    let c = s.counters("udp");
    let max = s.cfg.max_message_size;
    while let Some(batch) = rx.recv().await {
        // A burst was received at one moment; consecutive datagrams from one sender share
        // its directory lookup.
        let at = Utc::now();
        let mut arrival: Option<(IpAddr, Arrival)> = None;
        for (datagram, peer) in batch {
            let a = match &arrival {
                Some((ip, a)) if *ip == peer.ip() => a,
                _ => &arrival.insert((peer.ip(), s.arrival(peer.ip(), at))).1,
            };
            let msg = trim_end(&datagram);
            let truncated = msg.len() > max;
            let ev = s.record(a, &msg[..msg.len().min(max)], truncated, msg.len(), &c);
            s.pipeline.send(ev);
        }
        s.component.success();
        // Let the outputs have a turn between bursts.
        tokio::task::yield_now().await;
    }
}

async fn receive(
    sock: UdpSocket,
    s: &Shared,
    tx: mpsc::Sender<Batch>,
    shutdown: CancellationToken,
) {
    let drops = s.telemetry.gauge("nocbox.syslog.udp_kernel_drops", &[]);
    let inode = socket_inode(&sock);
    let mut drop_tick = tokio::time::interval(Duration::from_secs(5));
    let mut buf = vec![0u8; 65536];
    let mut arena = BytesMut::new();
    let receive_error = |e: std::io::Error| {
        s.telemetry
            .counter("nocbox.syslog.receive_errors", &[("transport", "udp")])
            .inc();
        s.component.error(format!("UDP receive error: {e}"));
    };
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let mut batch = Batch::with_capacity(16);
                    keep(s, &mut arena, &mut batch, &buf[..n], peer);
                    // Under load more are waiting: take them without a trip through the
                    // select (its timer and token) and hand them over together.
                    for _ in 0..BURST {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, peer)) => keep(s, &mut arena, &mut batch, &buf[..n], peer),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => receive_error(e),
                        }
                    }
                    if !batch.is_empty() && tx.send(batch).await.is_err() {
                        return;
                    }
                }
                // ICMP errors from earlier sends and the like are per-datagram: keep going.
                Err(e) => receive_error(e),
            },
            _ = drop_tick.tick() => {
                if let Some(n) = inode.and_then(kernel_drops) {
                    drops.set(n as i64);
                }
            }
            _ = shutdown.cancelled() => break,
        }
    }
    // Datagrams the kernel already holds were accepted by the host: deliver them too.
    let mut batch = Batch::new();
    for _ in 0..1_000_000 {
        match sock.try_recv_from(&mut buf) {
            Ok((n, peer)) => keep(s, &mut arena, &mut batch, &buf[..n], peer),
            Err(_) => break,
        }
        if batch.len() > BURST && tx.send(std::mem::take(&mut batch)).await.is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(batch).await;
    }
}

/// Copies one datagram into the batch, unless the allow-list refuses its sender.
fn keep(s: &Shared, arena: &mut BytesMut, batch: &mut Batch, datagram: &[u8], peer: SocketAddr) {
    if !s.allowed(peer.ip()) {
        return;
    }
    if arena.capacity() < datagram.len() {
        arena.reserve(ARENA.max(datagram.len()));
    }
    arena.extend_from_slice(datagram);
    batch.push((arena.split().freeze(), peer));
}

pub(crate) fn socket_inode(sock: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/fd/{}", sock.as_raw_fd()))
        .ok()
        .map(|m| m.ino())
}

/// The `drops` column of /proc/net/udp{,6} for the socket with this inode.
pub(crate) fn kernel_drops(inode: u64) -> Option<u64> {
    ["/proc/net/udp", "/proc/net/udp6"].iter().find_map(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        text.lines().skip(1).find_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            (cols.get(9)?.parse::<u64>().ok()? == inode).then(|| cols.last()?.parse().ok())?
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_trailing_terminators_only() {
        assert_eq!(trim_end(b"<13>a\r\n\0"), b"<13>a");
        assert_eq!(trim_end(b"\n"), b"");
        assert_eq!(trim_end(b"a\nb"), b"a\nb");
    }

    #[tokio::test]
    async fn kernel_drop_counter_is_found_for_a_bound_socket() {
        let s = bind("127.0.0.1:0".parse().unwrap(), 1 << 20, "syslog").unwrap();
        let ino = socket_inode(&s).unwrap();
        assert_eq!(kernel_drops(ino), Some(0));
    }
}

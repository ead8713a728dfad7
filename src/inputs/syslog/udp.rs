//! The UDP receiver: one datagram is one message (RFC 5426). A dedicated task drains the socket
//! into a 64 KiB buffer; the socket gets a large SO_RCVBUF because the kernel drops what does
//! not fit, and those drops (from /proc/net/udp) are exported as `nocbox.syslog.udp_kernel_drops`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Shared;

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

pub(crate) async fn run(sock: UdpSocket, s: Arc<Shared>, shutdown: CancellationToken) {
    let c = s.counters("udp");
    let max = s.cfg.max_message_size;
    let drops = s.telemetry.gauge("nocbox.syslog.udp_kernel_drops", &[]);
    let inode = socket_inode(&sock);
    let mut drop_tick = tokio::time::interval(Duration::from_secs(5));
    let mut buf = vec![0u8; 65536];
    let mut burst = Vec::with_capacity(BURST + 1);
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
                    burst.extend(record_datagram(&s, &buf[..n], peer, max, &c));
                    // Under load more are waiting: take them without a trip through the
                    // select (its timer and token), queue them together (one wake-up of each
                    // output instead of one per datagram), then let the outputs have a turn.
                    for _ in 0..BURST {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, peer)) => {
                                burst.extend(record_datagram(&s, &buf[..n], peer, max, &c));
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => receive_error(e),
                        }
                    }
                    for ev in burst.drain(..) {
                        s.pipeline.send(ev);
                    }
                    s.component.success();
                    tokio::task::yield_now().await;
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
    for _ in 0..1_000_000 {
        match sock.try_recv_from(&mut buf) {
            Ok((n, peer)) => emit_datagram(&s, &buf[..n], peer, max, &c),
            Err(_) => break,
        }
    }
}

fn emit_datagram(
    s: &Shared,
    datagram: &[u8],
    peer: std::net::SocketAddr,
    max: usize,
    c: &super::TransportCounters,
) {
    if let Some(ev) = record_datagram(s, datagram, peer, max, c) {
        s.pipeline.send(ev);
        s.component.success();
    }
}

/// The record of one datagram, not yet queued; `None` when the allow-list refuses the sender.
fn record_datagram(
    s: &Shared,
    datagram: &[u8],
    peer: std::net::SocketAddr,
    max: usize,
    c: &super::TransportCounters,
) -> Option<crate::event::Event> {
    if !s.allowed(peer.ip()) {
        return None;
    }
    let msg = trim_end(datagram);
    let truncated = msg.len() > max;
    Some(s.record(
        &msg[..msg.len().min(max)],
        peer.ip(),
        truncated,
        msg.len(),
        c,
    ))
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

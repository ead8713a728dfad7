//! UDP listener plumbing shared by the syslog, trap and NTP inputs: binding with a large
//! receive buffer, the kernel's drop count for a socket, and a receive task that drains a
//! socket in bursts and hands them to another task, so on two cores the system calls and
//! copies of one burst overlap the handling of the previous one.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Binds a UDP listener with a receive buffer of `rcvbuf` bytes; `what` names it in the log
/// line. SO_RCVBUFFORCE first (it passes net.core.rmem_max when the process has CAP_NET_ADMIN,
/// as rsyslog's RcvBufSize does), then SO_RCVBUF, which the kernel caps at net.core.rmem_max.
/// The granted size is logged.
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

/// Datagrams taken per wake-up beyond the first.
const BURST: usize = 255;
/// A burst also ends once it holds this many bytes, so the queue holds at most
/// QUEUE × (BURST_BYTES + one datagram) however large the datagrams.
const BURST_BYTES: usize = 256 * 1024;
/// Bursts received and not yet handled; when the handler is this far behind, the receiver
/// waits and the socket's buffer holds what arrives.
pub(crate) const QUEUE: usize = 64;
/// Received datagrams are copied into chunks of this size, shared by the batch.
const ARENA: usize = 256 * 1024;
/// How often [`Receive::tick`] runs.
const TICK: Duration = Duration::from_secs(5);

/// Datagrams received and not yet handled, with their senders, in arrival order, and when
/// the burst was read (one clock reading for all of them).
pub(crate) struct Batch {
    pub at: DateTime<Utc>,
    pub datagrams: Vec<(Bytes, SocketAddr)>,
    bytes: usize,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            at: Utc::now(),
            datagrams: Vec::with_capacity(16),
            bytes: 0,
        }
    }

    fn full(&self) -> bool {
        self.datagrams.len() > BURST || self.bytes >= BURST_BYTES
    }
}

/// What a receive task is told about its input.
pub(crate) struct Receive<A, E, T> {
    /// Whether a sender's datagrams are kept (an allow-list; refusals are the caller's to count).
    pub admit: A,
    /// A receive error (ICMP errors from earlier sends and the like): counted, and the task
    /// keeps going.
    pub error: E,
    /// Runs every [`TICK`] (publishing rates, the kernel's drop count).
    pub tick: T,
}

/// Drains `sock` into `tx` in bursts until `shutdown`, then takes what the kernel still holds
/// (those datagrams were accepted by the host). Returns when done or when the handler is gone;
/// dropping `tx` then tells the handler that the last batch has come.
pub(crate) async fn receive<A, E, T>(
    sock: &UdpSocket,
    tx: mpsc::Sender<Batch>,
    shutdown: CancellationToken,
    mut on: Receive<A, E, T>,
) where
    A: Fn(IpAddr) -> bool,
    E: Fn(std::io::Error),
    T: FnMut(),
{
    let mut tick = tokio::time::interval(TICK);
    let mut buf = vec![0u8; 65536];
    let mut arena = BytesMut::new();
    let mut keep = |batch: &mut Batch, datagram: &[u8], peer: SocketAddr| {
        if !(on.admit)(peer.ip()) {
            return;
        }
        if arena.capacity() < datagram.len() {
            arena.reserve(ARENA.max(datagram.len()));
        }
        arena.extend_from_slice(datagram);
        batch.bytes += datagram.len();
        batch.datagrams.push((arena.split().freeze(), peer));
    };
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let mut batch = Batch::new();
                    keep(&mut batch, &buf[..n], peer);
                    // Under load more are waiting: take them without a trip through the
                    // select (its timer and token) and hand them over together.
                    while !batch.full() {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, peer)) => keep(&mut batch, &buf[..n], peer),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => (on.error)(e),
                        }
                    }
                    if !batch.datagrams.is_empty() && tx.send(batch).await.is_err() {
                        return;
                    }
                }
                Err(e) => (on.error)(e),
            },
            _ = tick.tick() => (on.tick)(),
            _ = shutdown.cancelled() => break,
        }
    }
    let mut batch = Batch::new();
    for _ in 0..1_000_000 {
        match sock.try_recv_from(&mut buf) {
            Ok((n, peer)) => keep(&mut batch, &buf[..n], peer),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => (on.error)(e),
        }
        if batch.full()
            && tx
                .send(std::mem::replace(&mut batch, Batch::new()))
                .await
                .is_err()
        {
            return;
        }
    }
    if !batch.datagrams.is_empty() {
        let _ = tx.send(batch).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The receive task on `sock`, started: its batches, its stop token and its handle.
    fn start(
        sock: UdpSocket,
    ) -> (
        mpsc::Receiver<Batch>,
        CancellationToken,
        tokio::task::JoinHandle<()>,
    ) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let stop = CancellationToken::new();
        let on = Receive {
            admit: |_| true,
            error: |e: std::io::Error| panic!("{e}"),
            tick: || {},
        };
        let task = tokio::spawn({
            let stop = stop.clone();
            async move { receive(&sock, tx, stop, on).await }
        });
        (rx, stop, task)
    }

    async fn next_batch(rx: &mut mpsc::Receiver<Batch>) -> Batch {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a burst")
            .expect("the receiver is running")
    }

    #[tokio::test]
    async fn bursts_are_cut_by_size_keep_the_order_and_end_with_the_receiver() {
        let sock = bind("127.0.0.1:0".parse().unwrap(), 8 << 20, "test").unwrap();
        let to = sock.local_addr().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let big = 60_000;
        for i in 0..10u8 {
            sender.send_to(&vec![i; big], to).unwrap();
        }
        let (mut rx, stop, task) = start(sock);
        let mut got = Vec::new();
        while got.len() < 10 {
            let b = next_batch(&mut rx).await;
            // 256 KiB of 60 kB datagrams: five at most, never all ten in one burst
            assert!(b.datagrams.len() <= 5, "{} in one burst", b.datagrams.len());
            got.extend(b.datagrams.iter().map(|(d, _)| (d[0], d.len())));
        }
        assert_eq!(got, (0..10).map(|i| (i, big)).collect::<Vec<_>>());
        stop.cancel();
        task.await.unwrap();
        assert!(
            rx.recv().await.is_none(),
            "the channel ends with the receiver"
        );
    }

    #[tokio::test]
    async fn many_datagrams_keep_their_senders_and_order_over_ipv4_and_ipv6() {
        for host in ["127.0.0.1", "[::1]"] {
            let sock = bind(format!("{host}:0").parse().unwrap(), 8 << 20, "test").unwrap();
            let to = sock.local_addr().unwrap();
            let a = std::net::UdpSocket::bind(format!("{host}:0")).unwrap();
            let b = std::net::UdpSocket::bind(format!("{host}:0")).unwrap();
            let sender = |i: usize| if i.is_multiple_of(3) { &b } else { &a };
            // more than one burst
            for i in 0..400 {
                sender(i)
                    .send_to(format!("datagram {i}").as_bytes(), to)
                    .unwrap();
            }
            let (mut rx, stop, task) = start(sock);
            let mut got = Vec::new();
            while got.len() < 400 {
                let batch = next_batch(&mut rx).await;
                got.extend(
                    (batch.datagrams.iter())
                        .map(|(d, p)| (String::from_utf8(d.to_vec()).unwrap(), *p)),
                );
            }
            stop.cancel();
            task.await.unwrap();
            let want: Vec<(String, SocketAddr)> = (0..400)
                .map(|i| (format!("datagram {i}"), sender(i).local_addr().unwrap()))
                .collect();
            assert_eq!(got, want, "{host}");
        }
    }

    #[tokio::test]
    async fn kernel_drop_counter_is_found_for_a_bound_socket() {
        let s = bind("127.0.0.1:0".parse().unwrap(), 1 << 20, "syslog").unwrap();
        let ino = socket_inode(&s).unwrap();
        assert_eq!(kernel_drops(ino), Some(0));
    }
}

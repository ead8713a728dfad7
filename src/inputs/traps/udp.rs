//! The UDP receive task: drains the socket in bursts (one lock of the shared state per burst),
//! answers informs and discovery with `try_send_to` so it never waits, and publishes the
//! per-source rates every few seconds.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::{canonical, lock, Shared, State};

/// How often per-source rates, the kernel's drop count and the engine table are published.
const WINDOW: Duration = Duration::from_secs(5);
/// Datagrams read in one go (under one lock) before the task yields.
const BURST: usize = 256;

/// Reads until `shutdown`, then takes what the kernel still holds.
pub(super) async fn run(sock: UdpSocket, shared: Shared, shutdown: CancellationToken) {
    let inode = crate::inputs::syslog::udp::socket_inode(&sock);
    let mut tick = tokio::time::interval(WINDOW);
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let mut st = lock(&shared);
                    datagram(&mut st, &sock, &buf[..n], peer);
                    // Drain what else is queued without going back through the scheduler.
                    for _ in 0..BURST {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, peer)) => datagram(&mut st, &sock, &buf[..n], peer),
                            Err(_) => break,
                        }
                    }
                }
                // ICMP errors from earlier replies and the like are per-datagram: keep going.
                Err(e) => lock(&shared).receive_error("UDP", &e),
            },
            _ = tick.tick() => lock(&shared).publish(inode),
            _ = shutdown.cancelled() => break,
        }
    }
    // Datagrams the kernel already holds were accepted by the host: handle them too.
    let mut st = lock(&shared);
    for _ in 0..1_000_000 {
        match sock.try_recv_from(&mut buf) {
            Ok((n, peer)) => datagram(&mut st, &sock, &buf[..n], peer),
            Err(_) => break,
        }
    }
}

fn datagram(st: &mut State, sock: &UdpSocket, data: &[u8], peer: SocketAddr) {
    if let Some(reply) = st.handle(data, canonical(peer.ip())) {
        // Never wait on a send: a full socket buffer loses this reply, and the sender retries.
        if sock.try_send_to(&reply, peer).is_err() {
            st.send_failed();
        }
    }
}

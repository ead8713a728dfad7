//! The UDP path: one task drains the socket in bursts (`inputs::udp::receive`) and another
//! handles them, one lock of the shared state per burst, so on two cores the system calls of
//! one burst overlap the decoding of the previous one. Informs and discovery are answered with
//! `try_send_to`, so neither task ever waits on a reply. The receive task publishes the
//! per-source rates every few seconds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use super::{lock, Shared, State};
use crate::inputs::canonical;
use crate::inputs::udp::{self, Batch, Receive};

/// Reads until `shutdown`, then handles what the kernel still holds.
pub(super) async fn run(sock: UdpSocket, shared: Shared, shutdown: CancellationToken) {
    let sock = Arc::new(sock);
    let (tx, rx) = mpsc::channel::<Batch>(udp::QUEUE);
    let handler = AbortOnDropHandle::new(tokio::spawn(handle(rx, sock.clone(), shared.clone())));
    let inode = udp::socket_inode(&sock);
    let on = Receive {
        admit: |_| true,
        error: |e| lock(&shared).receive_error("UDP", &e),
        tick: || lock(&shared).publish(inode),
    };
    udp::receive(&sock, tx, shutdown, on).await;
    // The receiver has dropped its sender: the handler ends after the last batch.
    let _ = handler.await;
}

async fn handle(mut rx: mpsc::Receiver<Batch>, sock: Arc<UdpSocket>, shared: Shared) {
    while let Some(batch) = rx.recv().await {
        {
            let mut st = lock(&shared);
            let since_start = st.started.elapsed();
            for (data, peer) in batch.datagrams {
                datagram(&mut st, &sock, &data, peer, batch.at, since_start);
            }
        }
        // Let the outputs have a turn between bursts.
        tokio::task::yield_now().await;
    }
}

/// `at` and `since_start`: the burst's receive time (see [`State::handle`]).
fn datagram(
    st: &mut State,
    sock: &UdpSocket,
    data: &[u8],
    peer: SocketAddr,
    at: DateTime<Utc>,
    since_start: Duration,
) {
    if let Some(reply) = st.handle(data, canonical(peer.ip()), at, since_start) {
        // Never wait on a send: a full socket buffer loses this reply, and the sender retries.
        if sock.try_send_to(&reply, peer).is_err() {
            st.send_failed();
        }
    }
}

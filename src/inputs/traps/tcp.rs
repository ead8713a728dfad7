//! SNMP over TCP (RFC 3430): each message is one BER SEQUENCE on the stream, framed by its own
//! length; an inform is answered on the same connection. One task per connection, at most
//! `traps.tcp.max_connections`; each message is handled under the shared state's lock, like a
//! UDP burst. A stream that is not BER (or announces a message over the size limit) is closed
//! and counted with the decoder's reason.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{lock, Shared};
use crate::config::TrapsTcpConfig;
use crate::inputs::canonical;

/// A reply that cannot be written within this long closes the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown`, then waits for the connections to finish (they stop
/// at `shutdown` too), so the input has ended only when none of them holds the pipeline.
pub(super) async fn run(
    listener: TcpListener,
    shared: Shared,
    cfg: TrapsTcpConfig,
    max_message: usize,
    shutdown: CancellationToken,
) {
    let (accepted, rejected, open) = {
        let st = lock(&shared);
        let t = &st.telemetry;
        (
            t.counter("nocbox.traps.tcp_connections", &[("result", "accepted")]),
            t.counter("nocbox.traps.tcp_connections", &[("result", "rejected")]),
            t.gauge("nocbox.traps.tcp_connections_open", &[]),
        )
    };
    let limit = Arc::new(Semaphore::new(cfg.max_connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => match limit.clone().try_acquire_owned() {
                    Ok(permit) => {
                        accepted.inc();
                        open.add(1);
                        let (shared, stop, open) = (shared.clone(), shutdown.clone(), open.clone());
                        let idle = cfg.idle_timeout;
                        connections.spawn(async move {
                            connection(stream, peer, &shared, idle, max_message, stop, permit).await;
                            open.add(-1);
                        });
                    }
                    Err(_) => rejected.inc(),
                },
                Err(e) => {
                    lock(&shared).receive_error("TCP accept", &e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.cancelled() => break,
        }
    }
    while connections.join_next().await.is_some() {}
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    idle: Duration,
    max_message: usize,
    shutdown: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let ip = canonical(peer.ip());
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16_384];
    loop {
        loop {
            match frame_len(&buf, max_message) {
                Ok(Some(n)) => {
                    let reply = {
                        let mut st = lock(shared);
                        let since_start = st.started.elapsed();
                        st.handle(&buf[..n], ip, Utc::now(), since_start)
                    };
                    buf.drain(..n);
                    if let Some(r) = reply {
                        let sent = tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&r)).await;
                        if !matches!(sent, Ok(Ok(()))) {
                            lock(shared).send_failed();
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(reason) => {
                    lock(shared).dropped(reason, ip);
                    return;
                }
            }
        }
        let read = tokio::select! {
            r = tokio::time::timeout(idle, stream.read(&mut chunk)) => r,
            _ = shutdown.cancelled() => return,
        };
        match read {
            Ok(Ok(0)) => {
                if !buf.is_empty() {
                    lock(shared).dropped("truncated", ip);
                }
                return;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => {
                lock(shared).receive_error("TCP", &e);
                return;
            }
            // idle for too long
            Err(_) => return,
        }
    }
}

/// The length of the BER message at the start of `buf`, `Ok(None)` while more bytes are
/// needed, or the reason the stream cannot be SNMP.
fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, &'static str> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    if tag != 0x30 {
        return Err("bad_tag");
    }
    let Some(&first) = buf.get(1) else {
        return Ok(None);
    };
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err("bad_length");
        }
        let Some(octets) = buf.get(2..2 + n) else {
            return Ok(None);
        };
        (
            2 + n,
            octets
                .iter()
                .fold(0usize, |l, b| (l << 8) | usize::from(*b)),
        )
    };
    let total = header + len;
    if total > max {
        Err("too_large")
    } else if buf.len() < total {
        Ok(None)
    } else {
        Ok(Some(total))
    }
}

#[cfg(test)]
mod tests {
    use super::frame_len;

    #[test]
    fn frames_by_the_ber_length() {
        assert_eq!(frame_len(b"", 100), Ok(None));
        assert_eq!(frame_len(b"\x30", 100), Ok(None));
        assert_eq!(frame_len(b"\x30\x03\x02\x01", 100), Ok(None));
        assert_eq!(frame_len(b"\x30\x03\x02\x01\x00\x30", 100), Ok(Some(5)));
        assert_eq!(frame_len(b"\x30\x81", 100), Ok(None));
        assert_eq!(frame_len(b"\x30\x81\x05abcde", 100), Ok(Some(8)));
        assert_eq!(frame_len(b"\x30\x82\x01\x00", 100), Err("too_large"));
        assert_eq!(
            frame_len(b"\x30\x84\x7f\xff\xff\xff", 65_507),
            Err("too_large")
        );
        assert_eq!(frame_len(b"\x30\x80", 100), Err("bad_length"));
        assert_eq!(frame_len(b"\x30\x89\x01", 100), Err("bad_length"));
        assert_eq!(frame_len(b"GET / HTTP/1.1", 100), Err("bad_tag"));
    }
}

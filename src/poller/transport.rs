//! [`Transport`]: the poller's UDP sockets, shared by every device session.
//!
//! **Owns:** one socket per address family, bound lazily on the ephemeral wildcard
//! (`0.0.0.0:0`, `[::]:0`), one receive task per socket, and the table of requests waiting for a
//! reply. A reply is matched by its id (v1/v2c request-id, v3 msgID; sessions use one number for
//! both) and, unless a session opts out, by its source address. Undecodable datagrams, unknown ids
//! and wrong sources are counted and dropped.
//!
//! **Must not:** interpret a reply beyond finding its id (the session's `Codec` does that), or
//! block the receive task on a slow session (a full waiter queue drops the datagram).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::proto::snmp::message::{decode, Message};

/// Kernel receive buffer asked for: a poll cycle of many devices answers in bursts.
const RECV_BUFFER: usize = 4 << 20;
/// Replies queued per waiting request before further ones are dropped (duplicates, forgeries).
const WAITER_QUEUE: usize = 4;

/// Plain counters, read with [`Transport::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    pub sent: u64,
    /// Datagrams handed to a waiting request.
    pub received: u64,
    /// Decodable, but no request waits for that id (late, duplicate or stray replies).
    pub unmatched_id: u64,
    /// The id is waited for, but the datagram came from another address or port.
    pub wrong_source: u64,
    pub undecodable: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    unmatched_id: AtomicU64,
    wrong_source: AtomicU64,
    undecodable: AtomicU64,
}

/// A datagram matched to a request.
#[derive(Debug)]
pub struct Received {
    /// The datagram as received, which a v3 MAC covers; empty for v1/v2c, which need only `msg`.
    pub raw: Vec<u8>,
    pub msg: Message,
    pub from: SocketAddr,
}

struct Waiter {
    target: SocketAddr,
    check_source: bool,
    tx: mpsc::Sender<Received>,
}

struct Inner {
    v4: Mutex<Option<Arc<UdpSocket>>>,
    v6: Mutex<Option<Arc<UdpSocket>>>,
    waiters: Mutex<HashMap<i32, Waiter>>,
    next_id: AtomicU32,
    counters: Counters,
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Shared UDP sockets for SNMP requests; cheap to clone.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Transport {
    /// No socket yet: each opens on its family's first send.
    pub fn new() -> Transport {
        Transport {
            inner: Arc::new(Inner {
                v4: Mutex::new(None),
                v6: Mutex::new(None),
                waiters: Mutex::new(HashMap::new()),
                // a random start, so ids do not repeat across restarts of the process
                next_id: AtomicU32::new(fastrand::u32(1..0x7fff_0000)),
                counters: Counters::default(),
                stop: CancellationToken::new(),
            }),
        }
    }

    pub fn stats(&self) -> TransportStats {
        let c = &self.inner.counters;
        TransportStats {
            sent: c.sent.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            unmatched_id: c.unmatched_id.load(Ordering::Relaxed),
            wrong_source: c.wrong_source.load(Ordering::Relaxed),
            undecodable: c.undecodable.load(Ordering::Relaxed),
        }
    }

    /// Reserves a fresh id for a request to `target`; replies to it arrive on the returned
    /// [`Pending`] until it is dropped.
    pub fn register(&self, target: SocketAddr, check_source: bool) -> Pending {
        let (tx, rx) = mpsc::channel(WAITER_QUEUE);
        let mut waiters = lock(&self.inner.waiters);
        let id = loop {
            let id = (self.inner.next_id.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff) as i32;
            if id != 0 && !waiters.contains_key(&id) {
                break id;
            }
        };
        waiters.insert(
            id,
            Waiter {
                target,
                check_source,
                tx,
            },
        );
        Pending {
            id,
            rx,
            inner: self.inner.clone(),
        }
    }

    /// Sends one datagram from the shared socket of `target`'s family.
    pub async fn send(&self, target: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        let socket = self.socket(target)?;
        socket.send_to(bytes, target).await?;
        self.inner.counters.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn socket(&self, target: SocketAddr) -> io::Result<Arc<UdpSocket>> {
        let slot = if target.is_ipv4() {
            &self.inner.v4
        } else {
            &self.inner.v6
        };
        let mut slot = lock(slot);
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let s = Arc::new(bind(target.is_ipv4())?);
        tokio::spawn(receive(
            s.clone(),
            Arc::downgrade(&self.inner),
            self.inner.stop.clone(),
        ));
        *slot = Some(s.clone());
        Ok(s)
    }
}

fn bind(v4: bool) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let (domain, addr) = if v4 {
        (Domain::IPV4, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
    } else {
        (Domain::IPV6, SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)))
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if !v4 {
        s.set_only_v6(true)?;
    }
    // best effort: the kernel caps it at net.core.rmem_max
    let _ = s.set_recv_buffer_size(RECV_BUFFER);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}

/// The receive loop of one socket: decode just enough to find the id, hand the datagram over.
async fn receive(socket: Arc<UdpSocket>, inner: std::sync::Weak<Inner>, stop: CancellationToken) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let got = tokio::select! {
            _ = stop.cancelled() => return,
            r = socket.recv_from(&mut buf) => r,
        };
        let Some(inner) = inner.upgrade() else { return };
        let (n, from) = match got {
            Ok(x) => x,
            // e.g. ICMP errors reported on the socket: nothing to match them to; a short pause
            // keeps a socket that keeps failing from spinning a core
            Err(_) => {
                drop(inner);
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                continue;
            }
        };
        let Some(bytes) = buf.get(..n) else { continue };
        dispatch(&inner, bytes, from);
    }
}

fn dispatch(inner: &Inner, bytes: &[u8], from: SocketAddr) {
    let c = &inner.counters;
    let msg = match decode(bytes) {
        Ok(m) => m,
        Err(_) => {
            c.undecodable.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let id = match &msg {
        Message::Community(m) => m.pdu.request_id(),
        Message::V3(m) => Some(m.msg_id),
    };
    let waiters = lock(&inner.waiters);
    let Some(w) = id.and_then(|id| waiters.get(&id)) else {
        c.unmatched_id.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if w.check_source && from != w.target {
        c.wrong_source.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let raw = match msg {
        Message::V3(_) => bytes.to_vec(),
        Message::Community(_) => Vec::new(),
    };
    let r = Received { raw, msg, from };
    if w.tx.try_send(r).is_ok() {
        c.received.fetch_add(1, Ordering::Relaxed);
    }
}

/// A request waiting for its replies; dropping it releases the id.
pub struct Pending {
    id: i32,
    rx: mpsc::Receiver<Received>,
    inner: Arc<Inner>,
}

impl Pending {
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The next reply matched to this id.
    pub async fn recv(&mut self) -> Option<Received> {
        self.rx.recv().await
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        lock(&self.inner.waiters).remove(&self.id);
    }
}

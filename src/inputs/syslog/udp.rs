//! The UDP receiver: one datagram is one message (RFC 5426). A dedicated task drains the socket
//! in bursts and a second one parses them; the socket gets a large SO_RCVBUF because the kernel
//! drops what does not fit, and those drops (from /proc/net/udp) are exported as
//! `nocbox.syslog.udp_kernel_drops`.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use super::{Arrival, Shared};
use crate::inputs::udp::{self, Batch, Receive};

/// Strips the trailing LF/CR/NUL that some senders (loggen) put in datagrams.
fn trim_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r' | 0] = b {
        b = rest;
    }
    b
}

/// Receives on one task and parses on another: on two cores the system calls and copies of one
/// burst overlap the parsing of the previous one. One parser, so each sender's lines keep
/// their order.
pub(crate) async fn run(sock: UdpSocket, s: Arc<Shared>, shutdown: CancellationToken) {
    let (tx, rx) = mpsc::channel::<Batch>(udp::QUEUE);
    let parser = AbortOnDropHandle::new(tokio::spawn(parse(rx, s.clone())));
    let drops = s.telemetry.gauge("nocbox.syslog.udp_kernel_drops", &[]);
    let inode = udp::socket_inode(&sock);
    let errors = s
        .telemetry
        .counter("nocbox.syslog.receive_errors", &[("transport", "udp")]);
    let on = Receive {
        admit: |ip| s.allowed(ip),
        error: |e| {
            errors.inc();
            s.component.error(format!("UDP receive error: {e}"));
        },
        tick: || {
            if let Some(n) = inode.and_then(udp::kernel_drops) {
                drops.set(n as i64);
            }
        },
    };
    udp::receive(&sock, tx, shutdown, on).await;
    // The receiver has dropped its sender: the parser ends after the last batch.
    let _ = parser.await;
}

async fn parse(mut rx: mpsc::Receiver<Batch>, s: Arc<Shared>) {
    let c = s.counters("udp");
    let max = s.cfg.max_message_size;
    let mut records = Vec::new();
    while let Some(batch) = rx.recv().await {
        // A burst was received at one moment; consecutive datagrams from one sender share
        // its directory lookup.
        let at = batch.at;
        let mut arrival: Option<(IpAddr, Arrival)> = None;
        for (datagram, peer) in batch.datagrams {
            let a = match &arrival {
                Some((ip, a)) if *ip == peer.ip() => a,
                _ => &arrival.insert((peer.ip(), s.arrival(peer.ip(), at))).1,
            };
            let msg = trim_end(&datagram);
            let truncated = msg.len() > max;
            records.push(s.record(a, &msg[..msg.len().min(max)], truncated, msg.len(), &c));
        }
        s.pipeline.send_all(records.drain(..));
        s.component.success_at(at);
        // Let the outputs have a turn between bursts.
        tokio::task::yield_now().await;
    }
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
}

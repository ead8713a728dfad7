//! Writer tests against plain-TCP peers on 127.0.0.1 that close connections on cue.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::*;

fn line(s: &str) -> (Bytes, bool) {
    (Bytes::from(format!("{s}\n")), true)
}

fn writer(port: u16, t: &Telemetry, cancel: CancellationToken) -> StreamWriter {
    let target = Target {
        host: "127.0.0.1".into(),
        port,
        tls: None,
    };
    let mut cfg = StreamConfig::new(target);
    cfg.confirm_after = Duration::from_millis(200);
    cfg.backoff = BackoffPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
    };
    StreamWriter::new(cfg, StreamStats::new(t, "test_out"), cancel)
}

/// Accepts connections one after another; each is read until `close_after` bytes or
/// `idle` without data, then closed; the text read on each is reported.
async fn peer(close_after: Vec<usize>, idle: Duration) -> (u16, mpsc::UnboundedReceiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for n in close_after {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while got.len() < n {
                match tokio::time::timeout(idle, s.read(&mut buf)).await {
                    Ok(Ok(k)) if k > 0 => got.extend_from_slice(&buf[..k]),
                    _ => break,
                }
            }
            drop(s);
            let _ = tx.send(String::from_utf8_lossy(&got).into_owned());
        }
    });
    (port, rx)
}

fn count(t: &Telemetry, name: &str) -> u64 {
    t.counter_sum(name, &[("output", "test_out")])
}

#[tokio::test]
async fn peer_close_within_grace_resends_unconfirmed_lines_in_order() {
    let (port, mut rx) = peer(vec![4, usize::MAX], Duration::from_secs(2)).await;
    let t = Telemetry::new();
    let mut w = writer(port, &t, CancellationToken::new());
    w.send([line("a"), line("b")]).await.unwrap();
    // the peer read "a\nb\n" and closed at once: both lines are still unconfirmed
    assert_eq!(rx.recv().await.unwrap(), "a\nb\n");
    tokio::time::sleep(Duration::from_millis(50)).await;
    w.send([line("c")]).await.unwrap();
    w.finish().await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), "a\nb\nc\n");
    assert_eq!(count(&t, "nocbox.output.sent"), 3);
    assert_eq!(count(&t, "nocbox.output.resent"), 2);
    assert_eq!(count(&t, "nocbox.output.connects"), 2);
    assert_eq!(
        t.counter_sum("nocbox.output.failed", &[("reason", "closed_by_peer")]),
        1
    );
    assert_eq!(w.pending(), 0);
}

#[tokio::test]
async fn idle_close_is_noticed_before_the_next_write() {
    // The peer closes after 800 ms of silence, well after the 200 ms grace.
    let (port, mut rx) = peer(vec![usize::MAX, usize::MAX], Duration::from_millis(800)).await;
    let t = Telemetry::new();
    let mut w = writer(port, &t, CancellationToken::new());
    w.send([line("a")]).await.unwrap();
    for _ in 0..12 {
        tokio::time::sleep(w.tick_every()).await;
        w.maintain().await.unwrap();
    }
    assert_eq!(rx.recv().await.unwrap(), "a\n");
    tokio::time::sleep(Duration::from_millis(50)).await;
    // "a" was confirmed before the close; "b" goes to a fresh connection, nothing is re-sent
    w.send([line("b")]).await.unwrap();
    w.finish().await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), "b\n");
    assert_eq!(count(&t, "nocbox.output.resent"), 0);
    assert_eq!(count(&t, "nocbox.output.sent"), 2);
    assert_eq!(count(&t, "nocbox.output.connects"), 2);
}

#[tokio::test]
async fn hard_stop_while_the_peer_is_down_counts_the_abandoned_lines() {
    // A port with nothing listening: bind, note the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = Telemetry::new();
    let cancel = CancellationToken::new();
    let mut w = writer(port, &t, cancel.clone());
    let stop = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    assert_eq!(w.send([line("a"), line("b")]).await, Err(Cancelled));
    stop.await.unwrap();
    assert_eq!(w.abandon(), 2);
    assert_eq!(
        t.counter_sum("nocbox.output.dropped", &[("reason", "shutdown")]),
        2
    );
    assert!(t.counter_sum("nocbox.output.failed", &[("reason", "connect")]) >= 2);
    assert!(count(&t, "nocbox.output.retries") >= 1);
    let comp = t.find_component("test_out").unwrap();
    assert!(comp
        .last_error()
        .unwrap()
        .contains(&format!("127.0.0.1:{port}")));
}

#[tokio::test]
async fn written_lines_leaving_the_buffer_unconfirmed_are_unprotected_not_dropped() {
    // A peer that reads everything and never closes; a 3-line buffer and a long grace, as at
    // a sustained rate above what the buffer covers.
    let (port, _rx) = peer(vec![usize::MAX], Duration::from_secs(30)).await;
    let t = Telemetry::new();
    let mut w = writer(port, &t, CancellationToken::new());
    w.cfg.max_lines = 3;
    w.cfg.confirm_after = Duration::from_secs(60);
    w.buf = ResendBuffer::new(3, 1 << 20);
    for i in 0..10 {
        w.send([line(&format!("l{i}"))]).await.unwrap();
    }
    assert_eq!(count(&t, "nocbox.output.sent"), 10);
    assert_eq!(count(&t, "nocbox.output.unprotected"), 7);
    assert_eq!(count(&t, "nocbox.output.dropped"), 0);
    // hard stop with 3 written, unconfirmed lines on an open connection: sent, not dropped
    assert_eq!(w.abandon(), 0);
    assert_eq!(count(&t, "nocbox.output.unprotected"), 10);
    assert_eq!(count(&t, "nocbox.output.dropped"), 0);
}

#[tokio::test]
async fn hard_stop_after_the_connection_died_does_not_count_written_lines_twice() {
    // The peer takes "a\n" and closes; the next connection attempts find nothing listening.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let t = Telemetry::new();
    let cancel = CancellationToken::new();
    let mut w = writer(port, &t, cancel.clone());
    let accept = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).await.unwrap();
        // dropping both closes the connection and the listener
    });
    w.send([line("a")]).await.unwrap();
    accept.await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stop = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    // "a" must be re-sent, "b" was never written; no peer comes back before the hard stop
    assert_eq!(w.send([line("b")]).await, Err(Cancelled));
    stop.await.unwrap();
    assert_eq!(w.abandon(), 1);
    assert_eq!(count(&t, "nocbox.output.sent"), 1);
    assert_eq!(count(&t, "nocbox.output.unprotected"), 1);
    assert_eq!(
        t.counter_sum("nocbox.output.dropped", &[("reason", "shutdown")]),
        1
    );
}

#[test]
fn chunks_coalesce_lines_without_splitting_them() {
    let big = Bytes::from(vec![b'x'; CHUNK - 1]);
    let lines = vec![Bytes::from_static(b"a\n"), Bytes::from_static(b"b\n"), big];
    let c = chunks(&lines);
    assert_eq!(c.len(), 2);
    assert_eq!(&c[0][..], b"a\nb\n");
    assert_eq!(c[1].len(), CHUNK - 1);
    assert!(chunks(&[]).is_empty());
}

//! JSON lines on stdout, one record per line: the default output when no Datadog key is set, and
//! the easiest thing to pipe into anything else.
//!
//! Every write also watches `hard_stop`, so a stdout pipe nobody reads can never hold up the
//! shutdown: at hard stop the batches being rendered or written and everything still queued
//! count as `dropped{output="stdout",reason="shutdown"}`.
//!
//! The writes happen on a dedicated OS thread, not through `tokio::io::stdout()`: that one writes
//! on tokio's blocking pool, and dropping the runtime waits for every blocking-pool task, so a
//! write blocked for good would still keep the process from exiting after the hard stop. A
//! plain thread blocked in `write(2)` is simply left behind when `main` returns.
//!
//! Batching: whatever is already queued when a batch starts (up to `BATCH_TEXT` bytes of text or
//! `BATCH_EVENTS` events) goes out in one `write_all` + `flush`. A line never waits for more
//! lines: once the queue is empty the batch goes at once ("flushed per line" as far as a reader
//! can tell), while a busy queue costs one write per batch rather than one per line.
//!
//! Rendering is the expensive part, so the output task only gathers: each batch is rendered by a
//! task of its own, on whichever runtime worker is free, up to [`RENDERING`] at once, and handed
//! to the writer in the order it was gathered. Up to [`IN_FLIGHT`] batches are being written at
//! once. One task rendering every line was the limit behind four busy TCP connections: its queue
//! refused a tenth of the lines while a sixth of the machine was idle (docs/PERFORMANCE.md).

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Write};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{abandon_queue, OutputContext};
use crate::event::Event;
use crate::pipeline::EventRx;

/// A batch is cut once its events' text (`Event::text_len`: messages, not structured data)
/// reaches this many bytes, or at `BATCH_EVENTS` events, whichever comes first. Short syslog
/// lines render to about 256 KiB a batch. Lines that carry their bulk outside the message
/// (RFC 5424 structured data) are bounded by the count alone: 512 lines of the default
/// `max_message_size` (64 KiB) are 32 MiB before JSON escaping, in each of the up to four
/// batches being rendered or written, beside the queue's own `queue_bytes`. Halving the count
/// made the output fall behind four busy TCP connections again (A/B in docs/PERFORMANCE.md).
const BATCH_TEXT: usize = 128 * 1024;
const BATCH_EVENTS: usize = 512;

/// The buffer a batch is rendered into starts this large; one that grew past four times this
/// is not kept for reuse after its write.
const BATCH_BYTES: usize = 256 * 1024;

/// The stdout line for one event: the intake object plus `kind`.
pub fn render(ev: &Event) -> Vec<u8> {
    let mut line = Vec::new();
    render_into(ev, &mut line);
    line
}

/// Appends the line of `ev` to `buf`; `false` (and `buf` unchanged) if it cannot be encoded.
fn render_into(ev: &Event, buf: &mut Vec<u8>) -> bool {
    let mut m = match ev {
        Event::Log(l) => {
            let start = buf.len();
            l.write_json(buf, Some("log"));
            if buf.len() == start {
                return false;
            }
            buf.push(b'\n');
            return true;
        }
        Event::Metric(m) => m.to_json(),
    };
    m.insert("kind".into(), Value::String(ev.kind().into()));
    let start = buf.len();
    // Cannot fail for a `Value` with string keys; never leave half a line behind if it does.
    if serde_json::to_writer(&mut *buf, &Value::Object(m)).is_err() {
        buf.truncate(start);
        return false;
    }
    buf.push(b'\n');
    true
}

/// One batch for the writer thread, and where to report the result (the buffer comes back
/// for reuse).
type Job = (Vec<u8>, oneshot::Sender<(Vec<u8>, io::Result<()>)>);

/// Where the batches go.
enum Out<W> {
    /// The writer thread owning the process's stdout.
    Thread(std_mpsc::Sender<Job>),
    /// Any async writer: tests, and stdout through tokio if the thread cannot be started.
    Async(W),
}

impl Out<tokio::io::Stdout> {
    fn stdout() -> Self {
        thread(io::stdout()).unwrap_or_else(|e| {
            tracing::warn!(output = "stdout", error = %e,
                "cannot start the stdout writer thread; writing through tokio instead");
            Out::Async(tokio::io::stdout())
        })
    }
}

/// A writer thread owning `w`. It ends when the output task is gone (the sender dropped), or
/// never if a write blocks for good: nothing waits for it.
fn thread<W, F: Write + Send + 'static>(mut w: F) -> io::Result<Out<W>> {
    let (tx, jobs) = std_mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("nocbox-stdout".into())
        .spawn(move || {
            for (buf, done) in jobs {
                let r = w.write_all(&buf).and_then(|()| w.flush());
                let _ = done.send((buf, r));
            }
        })?;
    Ok(Out::Thread(tx))
}

/// A write handed over, and where its buffer and result come back.
type Done = oneshot::Receiver<(Vec<u8>, io::Result<()>)>;

/// Batches being written at once: the next batches are rendered while the writer thread writes
/// the previous one, and a rendered batch waits only when both are out.
const IN_FLIGHT: usize = 2;

impl<W: AsyncWrite + Unpin> Out<W> {
    /// Hands `buf` to the writer thread (or, for an async writer, writes and flushes it); the
    /// buffer and the result come back through the receiver.
    async fn submit(&mut self, buf: Vec<u8>) -> Done {
        let (done, result) = oneshot::channel();
        match self {
            Out::Thread(jobs) => {
                if let Err(std_mpsc::SendError((buf, done))) = jobs.send((buf, done)) {
                    let _ = done.send((buf, Err(gone())));
                }
            }
            Out::Async(w) => {
                let r = async {
                    w.write_all(&buf).await?;
                    w.flush().await
                }
                .await;
                let _ = done.send((buf, r));
            }
        }
        result
    }
}

fn gone() -> io::Error {
    io::Error::other("the stdout writer thread has stopped")
}

/// The oldest of `queue` (batches being rendered or written, each with its count) once it is
/// done, with its count; never ready when the queue is empty. Only the oldest is awaited, so
/// batches finish in the order they were gathered.
async fn oldest<F: Future + Unpin>(queue: &mut VecDeque<(F, u64)>) -> (F::Output, u64) {
    let Some((fut, n)) = queue.front_mut() else {
        return std::future::pending().await;
    };
    let out = fut.await;
    let n = *n;
    queue.pop_front();
    (out, n)
}

/// Batches being rendered at once: as many as the machine has cores to spare for it.
const RENDERING: usize = 2;

/// Events taken from the queue at a time while a batch is gathered: taking several at once
/// releases their queue slots in one step (one lock) instead of one each. A batch can pass
/// `BATCH_TEXT` by at most this many events.
const CHUNK: usize = 32;

/// A rendered batch: the lines, how many, and how many events could not be encoded.
struct Rendered {
    buf: Vec<u8>,
    lines: u64,
    unencodable: u64,
}

/// Renders `events` into `buf` (cleared first).
fn render_batch(events: Vec<Arc<Event>>, mut buf: Vec<u8>) -> Rendered {
    buf.clear();
    let (mut lines, mut unencodable) = (0, 0);
    for ev in &events {
        if render_into(ev, &mut buf) {
            lines += 1;
        } else {
            unencodable += 1;
        }
    }
    Rendered {
        buf,
        lines,
        unencodable,
    }
}

pub async fn run(rx: EventRx, ctx: OutputContext) {
    run_with(Out::stdout(), rx, ctx).await;
}

/// The loop, on any writer (tests use an in-memory pipe).
async fn run_with<W: AsyncWrite + Unpin>(mut out: Out<W>, mut rx: EventRx, ctx: OutputContext) {
    let t = &ctx.telemetry;
    let comp = t.component("stdout", "output");
    comp.set_healthy(true);
    let sent = t.counter("nocbox.output.sent", &[("output", "stdout")]);
    let failed = t.counter(
        "nocbox.output.failed",
        &[("output", "stdout"), ("reason", "write_error")],
    );
    let dropped = t.counter(
        "nocbox.output.dropped",
        &[("output", "stdout"), ("reason", "shutdown")],
    );
    // Batches being rendered (with their event counts), then being written (with their line
    // counts), each oldest first; buffers come back from the writes for reuse.
    let mut rendering: VecDeque<(JoinHandle<Rendered>, u64)> = VecDeque::with_capacity(RENDERING);
    let mut in_flight: VecDeque<(Done, u64)> = VecDeque::with_capacity(IN_FLIGHT);
    let mut spare: Vec<Vec<u8>> = Vec::with_capacity(RENDERING + IN_FLIGHT);
    let mut ended = false;
    let mut gathered: Vec<Arc<Event>> = Vec::with_capacity(BATCH_EVENTS);
    // At a hard stop: the batches being rendered (their tasks stopped) or written, `pending`
    // lines not handed over yet and the whole queue count as dropped.
    let give_up = |rx: &mut EventRx,
                   rendering: &VecDeque<(JoinHandle<Rendered>, u64)>,
                   in_flight: &VecDeque<(Done, u64)>,
                   pending: u64| {
        let out: u64 = in_flight.iter().map(|(_, n)| n).sum();
        let unrendered: u64 = rendering.iter().map(|(_, n)| n).sum();
        rendering.iter().for_each(|(task, _)| task.abort());
        dropped.add(out + unrendered + pending + abandon_queue(rx, |_| true) as u64);
    };
    // A buffer back to the spares, unless it is empty or one huge batch made it huge.
    let keep = |buf: Vec<u8>, spare: &mut Vec<Vec<u8>>| {
        if buf.capacity() > 0 && buf.capacity() <= 4 * BATCH_BYTES {
            spare.push(buf);
        }
    };
    // A finished write: its buffer kept, its lines counted.
    let finish = |(buf, r, lines): (Vec<u8>, io::Result<()>, u64), spare: &mut Vec<Vec<u8>>| {
        keep(buf, spare);
        match r {
            Ok(()) => {
                sent.add(lines);
                comp.success();
            }
            Err(e) => {
                failed.add(lines);
                comp.error(format!("cannot write to stdout: {e}"));
            }
        }
    };
    while !(ended && rendering.is_empty() && in_flight.is_empty()) {
        tokio::select! {
            biased;
            _ = ctx.hard_stop.cancelled() => return give_up(&mut rx, &rendering, &in_flight, 0),
            (done, lines) = oldest(&mut in_flight) => {
                let (buf, r) = done.unwrap_or_else(|_| (Vec::new(), Err(gone())));
                finish((buf, r, lines), &mut spare);
            }
            (r, events) = oldest(&mut rendering), if in_flight.len() < IN_FLIGHT => {
                // A render task cannot fail short of a bug; its events count as unencodable.
                let r = r.unwrap_or_else(|_| Rendered {
                    buf: Vec::new(),
                    lines: 0,
                    unencodable: events,
                });
                failed.add(r.unencodable);
                if r.lines == 0 {
                    keep(r.buf, &mut spare);
                    continue;
                }
                tokio::select! {
                    biased;
                    _ = ctx.hard_stop.cancelled() => {
                        return give_up(&mut rx, &rendering, &in_flight, r.lines)
                    }
                    done = out.submit(r.buf) => in_flight.push_back((done, r.lines)),
                }
            }
            n = rx.recv_many(&mut gathered, CHUNK), if !ended && rendering.len() < RENDERING => {
                if n == 0 {
                    ended = true;
                    continue;
                }
                let mut text: usize = gathered.iter().map(|e| e.text_len()).sum();
                while text < BATCH_TEXT && gathered.len() < BATCH_EVENTS && !rx.is_empty() {
                    let from = gathered.len();
                    let room = CHUNK.min(BATCH_EVENTS - from);
                    rx.recv_many(&mut gathered, room).await;
                    text += gathered[from..].iter().map(|e| e.text_len()).sum::<usize>();
                }
                let events =
                    std::mem::replace(&mut gathered, Vec::with_capacity(BATCH_EVENTS));
                let n = events.len() as u64;
                let buf = spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES + 4096));
                let task = tokio::spawn(async move { render_batch(events, buf) });
                rendering.push_back((task, n));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::telemetry::Telemetry;

    use crate::event::samples::{log, metric};

    fn ctx(t: &Telemetry, stop: CancellationToken) -> OutputContext {
        OutputContext {
            telemetry: t.clone(),
            hard_stop: stop,
            hostname: "n".into(),
            tags: vec![],
        }
    }

    fn n(t: &Telemetry, name: &str) -> u64 {
        t.counter_sum(name, &[("output", "stdout")])
    }

    #[test]
    fn one_json_object_per_line_with_kind() {
        let line = render(&log("a\nb"));
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["kind"], "log");
        assert_eq!(v["message"], "a\nb");
        assert_eq!(v["hostname"], "sw1");
        let v: Value = serde_json::from_slice(&render(&metric())).unwrap();
        assert_eq!(v["kind"], "metric");
        assert_eq!(v["metric"], "m");
    }

    #[tokio::test]
    async fn writes_every_event_in_order_then_ends_with_the_queue() {
        let t = Telemetry::new();
        let (tx, rx) = tokio::sync::mpsc::channel(10);
        for ev in [log("a"), metric(), log("b")] {
            tx.send(ev).await.unwrap();
        }
        drop(tx);
        let (w, mut r) = tokio::io::duplex(1 << 20);
        tokio::time::timeout(
            Duration::from_secs(5),
            run_with(Out::Async(w), rx, ctx(&t, CancellationToken::new())),
        )
        .await
        .unwrap();
        let mut text = String::new();
        r.read_to_string(&mut text).await.unwrap();
        let kinds: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].clone())
            .collect();
        assert_eq!(kinds, ["log", "metric", "log"]);
        assert!(text.contains("\"message\":\"b\""));
        assert_eq!(n(&t, "nocbox.output.sent"), 3);
        assert_eq!(n(&t, "nocbox.output.dropped"), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_thread_keeps_up_loses_nothing_and_keeps_the_order() {
        let path = std::env::temp_dir().join(format!("nocbox-stdout-{}.jsonl", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let t = Telemetry::new();
        let (tx, rx) = tokio::sync::mpsc::channel(1000);
        let out: Out<tokio::io::Stdout> = thread(file).unwrap();
        let task = tokio::spawn(run_with(out, rx, ctx(&t, CancellationToken::new())));
        let lines = 50_000;
        for i in 0..lines {
            tx.send(log(&format!("line {i}"))).await.unwrap();
        }
        drop(tx);
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .unwrap()
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(text.lines().count(), lines);
        // Batches are rendered side by side on both workers, and still written in order.
        for (i, line) in text.lines().enumerate() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["message"], format!("line {i}"));
        }
        assert_eq!(n(&t, "nocbox.output.sent"), lines as u64);
    }

    #[tokio::test]
    async fn hard_stop_abandons_a_blocked_write_and_counts_it_with_the_queue() {
        let t = Telemetry::new();
        let stop = CancellationToken::new();
        let (tx, rx) = tokio::sync::mpsc::channel(100);
        for i in 0..5 {
            tx.send(log(&format!("line {i}"))).await.unwrap();
        }
        // A 16-byte pipe nobody reads: the first write blocks forever.
        let (w, _r) = tokio::io::duplex(16);
        let task = tokio::spawn(run_with(Out::Async(w), rx, ctx(&t, stop.clone())));
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..2 {
            tx.send(metric()).await.unwrap();
        }
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("a hard stop ends a blocked write")
            .unwrap();
        assert_eq!(n(&t, "nocbox.output.sent"), 0);
        assert_eq!(
            t.counter_sum(
                "nocbox.output.dropped",
                &[("output", "stdout"), ("reason", "shutdown")]
            ),
            7
        );
        // the queue is closed: the pipeline counts anything later as output_stopped
        assert!(tx.try_send(log("late")).is_err());
    }
}

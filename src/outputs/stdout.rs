//! JSON lines on stdout, one record per line: the default output when no Datadog key is set, and
//! the easiest thing to pipe into anything else.
//!
//! Every write also watches `hard_stop`, so a stdout pipe nobody reads can never hold up the
//! shutdown: at hard stop the batch being written and everything still queued count as
//! `dropped{output="stdout",reason="shutdown"}`.
//!
//! The writes happen on a dedicated OS thread, not through `tokio::io::stdout()`: that one writes
//! on tokio's blocking pool, and dropping the runtime waits for every blocking-pool task, so a
//! write blocked for good would still keep the process from exiting after the hard stop. A
//! plain thread blocked in `write(2)` is simply left behind when `main` returns.
//!
//! Batching: whatever is already queued when a batch starts (up to `BATCH_BYTES`) goes out in one
//! `write_all` + `flush`. A line never waits for more lines: once the queue is empty the buffer
//! is handed to the writer at once ("flushed per line" as far as a reader can tell), while a busy
//! queue costs one write per batch rather than one per line. Up to [`IN_FLIGHT`] batches are out
//! at once, so the next batch is rendered while the writer thread writes the last one: waiting
//! for each write (and for the writer thread to be scheduled on a busy machine) left the output
//! behind four busy TCP connections, its queue overflowing.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc as std_mpsc;

use serde_json::Value;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

use super::{abandon_queue, OutputContext};
use crate::event::Event;
use crate::pipeline::EventRx;

/// A batch is cut after this many bytes (a line is never split).
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

/// Batches being written at once: the output renders the next batch while the writer thread
/// writes the previous one, and waits only when both buffers are out.
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

/// The oldest write's buffer, result and line count; never ready when nothing is in flight.
async fn oldest(in_flight: &mut VecDeque<(Done, u64)>) -> (Vec<u8>, io::Result<()>, u64) {
    let Some((done, lines)) = in_flight.front_mut() else {
        return std::future::pending().await;
    };
    let (buf, r) = done.await.unwrap_or_else(|_| (Vec::new(), Err(gone())));
    let lines = *lines;
    in_flight.pop_front();
    (buf, r, lines)
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
    let mut in_flight: VecDeque<(Done, u64)> = VecDeque::with_capacity(IN_FLIGHT);
    let mut spare: Vec<Vec<u8>> = Vec::with_capacity(IN_FLIGHT + 1);
    // At a hard stop: the writes in flight, `pending` lines not handed over yet and the whole
    // queue count as dropped.
    let give_up = |rx: &mut EventRx, in_flight: &VecDeque<(Done, u64)>, pending: u64| {
        let out: u64 = in_flight.iter().map(|(_, n)| n).sum();
        dropped.add(out + pending + abandon_queue(rx, |_| true) as u64);
    };
    // A finished write: its buffer back to the spares, its lines counted.
    let finish = |(buf, r, lines): (Vec<u8>, io::Result<()>, u64), spare: &mut Vec<Vec<u8>>| {
        if buf.capacity() > 0 {
            spare.push(buf);
        }
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
    loop {
        let first = tokio::select! {
            biased;
            _ = ctx.hard_stop.cancelled() => return give_up(&mut rx, &in_flight, 0),
            done = oldest(&mut in_flight) => {
                finish(done, &mut spare);
                continue;
            }
            ev = rx.recv() => match ev {
                Some(ev) => ev,
                None => break,
            },
        };
        let mut buf = spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES + 4096));
        buf.clear();
        let mut lines = 0u64;
        let mut unencodable = 0u64;
        let mut take = |ev: &Event, buf: &mut Vec<u8>| {
            if render_into(ev, buf) {
                lines += 1;
            } else {
                unencodable += 1;
            }
        };
        take(&first, &mut buf);
        while buf.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(ev) => take(&ev, &mut buf),
                Err(_) => break,
            }
        }
        failed.add(unencodable);
        if lines == 0 {
            spare.push(buf);
            continue;
        }
        while in_flight.len() >= IN_FLIGHT {
            tokio::select! {
                biased;
                _ = ctx.hard_stop.cancelled() => return give_up(&mut rx, &in_flight, lines),
                done = oldest(&mut in_flight) => finish(done, &mut spare),
            }
        }
        tokio::select! {
            biased;
            _ = ctx.hard_stop.cancelled() => return give_up(&mut rx, &in_flight, lines),
            done = out.submit(buf) => in_flight.push_back((done, lines)),
        }
    }
    // The queue has ended: wait for the writes still out.
    while !in_flight.is_empty() {
        tokio::select! {
            biased;
            _ = ctx.hard_stop.cancelled() => return give_up(&mut rx, &in_flight, 0),
            done = oldest(&mut in_flight) => finish(done, &mut spare),
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
    async fn the_writer_thread_keeps_up_and_loses_nothing() {
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
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["message"], format!("line {}", lines - 1));
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

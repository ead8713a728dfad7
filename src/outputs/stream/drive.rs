//! The task loop of a line-per-record stream output (Datadog TCP intake, `syslog_forward`):
//! queue in, lines out through a `StreamWriter`, periodic upkeep, optional marks, drain on
//! close, count on hard stop. The framing of a record is the caller's `LineFormat`.

use std::sync::Arc;

use bytes::Bytes;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::StreamWriter;
use crate::event::{Event, LogRecord};
use crate::outputs::{abandon_queue, is_log};
use crate::pipeline::EventRx;

/// How an output turns records into lines.
pub trait LineFormat {
    /// The framed line for `rec`; `None` if it cannot be sent (the implementor counts why).
    fn line(&mut self, rec: &LogRecord) -> Option<Bytes>;
    /// A mark line, asked for each time the mark ticker fires (and counted by the implementor).
    fn mark(&mut self) -> Option<Bytes> {
        None
    }
}

/// Lines written per flush at most: one burst from the queue, not the whole backlog.
const BURST: usize = 256;

/// Runs until the queue closes (then drains: every line confirmed) or `stop` fires (then
/// counts what is abandoned as `dropped{shutdown}`). Connects at once so `/status` shows the
/// connection state early, but a first event or a closing queue interrupts that first attempt.
pub async fn drive<F: LineFormat>(
    mut w: StreamWriter,
    mut rx: EventRx,
    stop: CancellationToken,
    mut f: F,
    mut marks: Option<Interval>,
) {
    let drained = tokio::select! {
        biased;
        _ = stop.cancelled() => false,
        ev = rx.recv() => match ev {
            // Closed before anything was queued: nothing to drain.
            None => true,
            Some(ev) => run_loop(&mut w, &mut rx, &stop, &mut f, &mut marks, Some(ev)).await,
        },
        r = w.connect() => {
            r.is_ok() && run_loop(&mut w, &mut rx, &stop, &mut f, &mut marks, None).await
        }
    };
    if !drained {
        w.abandon();
        let queued = abandon_queue(&mut rx, is_log);
        w.stats.dropped_shutdown.add(queued as u64);
    }
}

/// `true` when drained, `false` when stopped.
async fn run_loop<F: LineFormat>(
    w: &mut StreamWriter,
    rx: &mut EventRx,
    stop: &CancellationToken,
    f: &mut F,
    marks: &mut Option<Interval>,
    first: Option<Arc<Event>>,
) -> bool {
    if let Some(ev) = first {
        if w.send(burst(&ev, rx, f)).await.is_err() {
            return false;
        }
    }
    let mut upkeep = tokio::time::interval(w.tick_every());
    upkeep.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let res = tokio::select! {
            biased;
            _ = stop.cancelled() => return false,
            _ = upkeep.tick() => w.maintain().await,
            _ = next_tick(marks) => match f.mark() {
                Some(l) => w.send([(l, false)]).await,
                None => Ok(()),
            },
            ev = rx.recv() => match ev {
                None => return w.finish().await.is_ok(),
                Some(ev) => {
                    let lines = burst(&ev, rx, f);
                    w.send(lines).await
                }
            },
        };
        if res.is_err() {
            return false;
        }
    }
}

/// The lines of `first` and of up to `BURST - 1` more events already queued.
fn burst<F: LineFormat>(first: &Event, rx: &mut EventRx, f: &mut F) -> Vec<(Bytes, bool)> {
    let mut lines = Vec::new();
    let mut take = |ev: &Event, f: &mut F| {
        if let Event::Log(r) = ev {
            if let Some(l) = f.line(r) {
                lines.push((l, true));
            }
        }
    };
    take(first, f);
    for _ in 1..BURST {
        match rx.try_recv() {
            Ok(ev) => take(&ev, f),
            Err(_) => break,
        }
    }
    lines
}

async fn next_tick(t: &mut Option<Interval>) {
    match t {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

//! The router: one bounded queue per output, bounded both in events and in (approximate) bytes.
//! `send` never waits: when an output's queue is full the event is dropped for that output only
//! and counted as `nocbox.pipeline.dropped{output, reason="queue_full"|"queue_bytes"}`, so a slow
//! or dead output never stalls a receiver and a flood of large messages cannot exhaust memory.
//! Inputs know only this type, never the outputs.
//!
//! Bytes are tracked on the sending side alone: a queue is FIFO, so of the events sent to it the
//! newest `depth` are the ones still queued; the sizes of those are kept in a ring.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::event::Event;
use crate::telemetry::{Counter, Gauge, Telemetry};

/// What an output's task reads.
pub type EventRx = mpsc::Receiver<Arc<Event>>;

/// Which events an output takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepts {
    All,
    Logs,
    Metrics,
}

impl Accepts {
    fn matches(self, ev: &Event) -> bool {
        matches!(
            (self, ev),
            (Accepts::All, _)
                | (Accepts::Logs, Event::Log(_))
                | (Accepts::Metrics, Event::Metric(_))
        )
    }
}

#[derive(Debug)]
struct Route {
    name: String,
    accepts: Accepts,
    tx: mpsc::Sender<Arc<Event>>,
    capacity: usize,
    max_bytes: usize,
    /// Sizes of the newest sent events, oldest first, and their sum.
    sizes: Mutex<(VecDeque<usize>, usize)>,
    queued: Counter,
    dropped_full: Counter,
    dropped_bytes: Counter,
    dropped_closed: Counter,
    depth: Gauge,
    bytes: Gauge,
}

impl Route {
    /// Queues one event, or counts why not.
    fn offer(&self, ev: &Arc<Event>) {
        let size = ev.approx_size();
        let mut guard = self.sizes.lock().unwrap_or_else(|e| e.into_inner());
        let (sizes, sum) = &mut *guard;
        let depth = self.capacity - self.tx.capacity().min(self.capacity);
        // Everything older than the newest `depth` has been taken by the output.
        while sizes.len() > depth {
            *sum -= sizes.pop_front().unwrap_or(0);
        }
        if *sum + size > self.max_bytes && depth > 0 {
            self.dropped_bytes.inc();
            return;
        }
        match self.tx.try_send(ev.clone()) {
            Ok(()) => {
                sizes.push_back(size);
                *sum += size;
                self.queued.inc();
            }
            Err(mpsc::error::TrySendError::Full(_)) => self.dropped_full.inc(),
            Err(mpsc::error::TrySendError::Closed(_)) => self.dropped_closed.inc(),
        }
        self.depth
            .set((self.capacity - self.tx.capacity().min(self.capacity)) as i64);
        self.bytes.set(*sum as i64);
    }
}

/// Fan-out to every output's queue. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Pipeline {
    routes: Arc<Vec<Route>>,
    received: Counter,
}

/// Builds a pipeline; each `add_output` returns the receiver its output task consumes.
#[derive(Debug)]
pub struct PipelineBuilder {
    telemetry: Telemetry,
    routes: Vec<Route>,
}

impl PipelineBuilder {
    pub fn new(telemetry: &Telemetry) -> Self {
        PipelineBuilder {
            telemetry: telemetry.clone(),
            routes: Vec::new(),
        }
    }

    /// Adds an output with a queue of at most `capacity` events and about `max_bytes` bytes.
    pub fn add_output(
        &mut self,
        name: &str,
        capacity: usize,
        max_bytes: usize,
        accepts: Accepts,
    ) -> EventRx {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let t = &self.telemetry;
        let labels = |reason: &'static str| [("output", name), ("reason", reason)];
        self.routes.push(Route {
            name: name.to_string(),
            accepts,
            tx,
            capacity,
            max_bytes,
            sizes: Mutex::new((VecDeque::new(), 0)),
            queued: t.counter("nocbox.pipeline.queued", &[("output", name)]),
            dropped_full: t.counter("nocbox.pipeline.dropped", &labels("queue_full")),
            dropped_bytes: t.counter("nocbox.pipeline.dropped", &labels("queue_bytes")),
            dropped_closed: t.counter("nocbox.pipeline.dropped", &labels("output_stopped")),
            depth: t.gauge("nocbox.pipeline.queue_depth", &[("output", name)]),
            bytes: t.gauge("nocbox.pipeline.queue_bytes", &[("output", name)]),
        });
        rx
    }

    pub fn build(self) -> Pipeline {
        Pipeline {
            received: self.telemetry.counter("nocbox.pipeline.events", &[]),
            routes: Arc::new(self.routes),
        }
    }
}

impl Pipeline {
    /// Queues `ev` for every output that takes it. Never blocks.
    pub fn send(&self, ev: Event) {
        self.received.inc();
        let ev = Arc::new(ev);
        for r in self.routes.iter().filter(|r| r.accepts.matches(&ev)) {
            r.offer(&ev);
        }
    }

    /// A read-only view of the queues that does not keep them open.
    pub fn view(&self) -> QueueView {
        QueueView {
            routes: self
                .routes
                .iter()
                .map(|r| ViewRoute {
                    name: r.name.clone(),
                    tx: r.tx.downgrade(),
                    capacity: r.capacity,
                    depth: r.depth.clone(),
                    bytes: r.bytes.clone(),
                })
                .collect(),
        }
    }
}

/// Queue depths for `/status` and `/healthz`, holding only weak senders so that a drain at
/// shutdown still sees every queue close.
#[derive(Clone, Debug)]
pub struct QueueView {
    routes: Vec<ViewRoute>,
}

#[derive(Clone, Debug)]
struct ViewRoute {
    name: String,
    tx: mpsc::WeakSender<Arc<Event>>,
    capacity: usize,
    depth: Gauge,
    bytes: Gauge,
}

/// One output's queue as seen now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueState {
    pub output: String,
    pub depth: usize,
    pub capacity: usize,
}

impl QueueState {
    /// An output whose queue is full cannot accept events; overall `/healthz` fails.
    pub fn accepting(&self) -> bool {
        self.depth < self.capacity
    }
}

impl QueueView {
    pub fn queues(&self) -> Vec<QueueState> {
        self.routes
            .iter()
            .map(|r| {
                let depth =
                    r.tx.upgrade()
                        .map_or(0, |tx| r.capacity.saturating_sub(tx.capacity()));
                r.depth.set(depth as i64);
                // Bytes are only recounted on the next send; an empty queue holds none.
                if depth == 0 {
                    r.bytes.set(0);
                }
                QueueState {
                    output: r.name.clone(),
                    depth,
                    capacity: r.capacity,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::LogRecord;

    fn log() -> Event {
        Event::Log(LogRecord::new("m", "h", chrono::Utc::now()))
    }

    #[test]
    fn full_queue_drops_and_counts_without_touching_other_outputs() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut slow = b.add_output("slow", 2, usize::MAX, Accepts::All);
        let mut fast = b.add_output("fast", 10, usize::MAX, Accepts::Logs);
        let p = b.build();
        for _ in 0..5 {
            p.send(log());
        }
        assert_eq!(
            t.counter_sum("nocbox.pipeline.dropped", &[("output", "slow")]),
            3
        );
        assert_eq!(
            t.counter_sum("nocbox.pipeline.dropped", &[("output", "fast")]),
            0
        );
        let q = &p.view().queues()[0];
        assert_eq!((q.depth, q.capacity, q.accepting()), (2, 2, false));
        let mut n = 0;
        while fast.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, 5);
        assert!(slow.try_recv().is_ok());
    }

    #[test]
    fn byte_budget_drops_large_floods_and_recovers_as_the_output_reads() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut rx = b.add_output("o", 1000, 5_000, Accepts::All);
        let p = b.build();
        let big = || Event::Log(LogRecord::new("x".repeat(2000), "h", chrono::Utc::now()));
        for _ in 0..5 {
            p.send(big());
        }
        // About 2.3 kB each: two fit, the rest are dropped for bytes, not count.
        assert_eq!(
            t.counter_sum("nocbox.pipeline.dropped", &[("reason", "queue_bytes")]),
            3
        );
        while rx.try_recv().is_ok() {}
        p.send(big());
        p.send(big());
        assert_eq!(
            t.counter_sum("nocbox.pipeline.dropped", &[("reason", "queue_bytes")]),
            3
        );
        assert_eq!(t.counter_sum("nocbox.pipeline.queued", &[]), 4);
    }

    #[test]
    fn stopped_output_is_counted_separately() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        drop(b.add_output("gone", 2, usize::MAX, Accepts::All));
        let p = b.build();
        p.send(log());
        assert_eq!(
            t.counter_sum("nocbox.pipeline.dropped", &[("reason", "output_stopped")]),
            1
        );
    }
}

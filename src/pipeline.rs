//! The router: one bounded queue per output, bounded both in events and in (approximate) bytes.
//! `send` never waits: when an output's queue is full the event is dropped for that output only
//! and counted as `nocbox.pipeline.dropped{output, reason="queue_full"|"queue_bytes"}`, so a slow
//! or dead output never stalls a receiver and a flood of large messages cannot exhaust memory.
//! Inputs know only this type, never the outputs.
//!
//! The one exception to "never waits" is opt-in and the caller's: `try_send_all` queues events
//! only while every output that takes them has room (each all or none, never a drop), and
//! `wait_for_room` waits until that may be so. TCP syslog with `backpressure: true` uses them to stop reading
//! its sockets instead of dropping; nothing else does, and `send` itself still never blocks.
//!
//! Bytes are tracked on the sending side alone: a queue is FIFO, so of the events sent to it the
//! newest `depth` are the ones still queued; the sizes of those are kept in a ring.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::Event;
use crate::telemetry::{Counter, Gauge, Telemetry};

/// How often `wait_for_room` looks again.
const ROOM_RECHECK: Duration = Duration::from_millis(1);

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
    sizes: Mutex<Sizes>,
    queued: Counter,
    dropped_full: Counter,
    dropped_bytes: Counter,
    dropped_closed: Counter,
    depth: Gauge,
    bytes: Gauge,
}

/// Sizes of the newest sent events, oldest first, and their sum.
type Sizes = (VecDeque<usize>, usize);

impl Route {
    fn sizes(&self) -> MutexGuard<'_, Sizes> {
        self.sizes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The queue's depth now; forgets the sizes of the events the output has taken since.
    fn prune(&self, (sizes, sum): &mut Sizes) -> usize {
        let depth = self.capacity - self.tx.capacity().min(self.capacity);
        // Everything older than the newest `depth` has been taken by the output.
        while sizes.len() > depth {
            *sum -= sizes.pop_front().unwrap_or(0);
        }
        depth
    }

    /// Whether one more event of `size` bytes would be queued rather than dropped for being
    /// full. A stopped output has room: what is sent to it is dropped and counted at once, and
    /// waiting for it would wait forever.
    fn has_room(&self, sizes: &mut Sizes, size: usize) -> bool {
        if self.tx.is_closed() {
            return true;
        }
        let depth = self.prune(sizes);
        self.tx.capacity() > 0 && (depth == 0 || sizes.1 + size <= self.max_bytes)
    }

    /// Queues each of `events` (with its approximate size) that this output takes, in order,
    /// under one lock; the counters and gauges are updated once for all of them.
    fn offer_all(&self, events: &[(Arc<Event>, usize)]) {
        if !events.iter().any(|(ev, _)| self.accepts.matches(ev)) {
            return;
        }
        let mut guard = self.sizes();
        let mut tally = Tally::default();
        for (ev, size) in events {
            if self.accepts.matches(ev) {
                self.offer_locked(&mut guard, ev, *size, &mut tally);
            }
        }
        self.settle(&guard, &tally);
    }

    /// Queues one event, or notes in `tally` why not (`settle` adds the tally to the counters).
    fn offer_locked(&self, guard: &mut Sizes, ev: &Arc<Event>, size: usize, tally: &mut Tally) {
        let depth = self.prune(guard);
        let (sizes, sum) = guard;
        if *sum + size > self.max_bytes && depth > 0 {
            tally.bytes += 1;
            return;
        }
        match self.tx.try_send(ev.clone()) {
            Ok(()) => {
                sizes.push_back(size);
                *sum += size;
                tally.queued += 1;
            }
            Err(mpsc::error::TrySendError::Full(_)) => tally.full += 1,
            Err(mpsc::error::TrySendError::Closed(_)) => tally.closed += 1,
        }
    }

    /// Counts what `offer_locked` did and shows the queue's depth and bytes now.
    fn settle(&self, (_, sum): &Sizes, t: &Tally) {
        for (n, c) in [
            (t.queued, &self.queued),
            (t.full, &self.dropped_full),
            (t.bytes, &self.dropped_bytes),
            (t.closed, &self.dropped_closed),
        ] {
            if n > 0 {
                c.add(n);
            }
        }
        self.depth
            .set((self.capacity - self.tx.capacity().min(self.capacity)) as i64);
        self.bytes.set(*sum as i64);
    }
}

/// Offers counted while an output's lock is held, added to its counters once.
#[derive(Default)]
struct Tally {
    queued: u64,
    full: u64,
    bytes: u64,
    closed: u64,
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
        // `send_all` of one, without its Vec: the trap input sends each trap alone, and an A/B
        // at 140k traps/s measured 9.5-9.6 us per trap through `send_all` against 9.2-9.3.
        self.received.inc();
        let size = ev.approx_size();
        let one = [(Arc::new(ev), size)];
        for r in self.routes.iter() {
            r.offer_all(&one);
        }
    }

    /// `send` for each of `events`, in order (pass `v.drain(..)` to keep a vector's capacity).
    /// One lock per output and one update of each counter per call rather than per event:
    /// with several TCP connections on two cores, those shared atomics and locks moving
    /// between the cores cost more than queuing itself (docs/PERFORMANCE.md).
    pub fn send_all(&self, events: impl IntoIterator<Item = Event>) {
        // Sized once, not per output: for a Junos line it walks every attribute.
        let batch: Vec<(Arc<Event>, usize)> = events
            .into_iter()
            .map(|ev| {
                let size = ev.approx_size();
                (Arc::new(ev), size)
            })
            .collect();
        if batch.is_empty() {
            return;
        }
        self.received.add(batch.len() as u64);
        for r in self.routes.iter() {
            r.offer_all(&batch);
        }
    }

    /// Queues `ev` only if every output that takes it has room for it now (a stopped output
    /// counts as room: its copy is dropped and counted as by `send`); otherwise queues it
    /// nowhere and gives it back, as `mpsc`'s `TrySendError` does. `try_send_all` for one, for
    /// the tests.
    #[cfg(test)]
    #[allow(clippy::result_large_err)]
    pub fn try_send(&self, ev: Event) -> Result<(), Event> {
        let mut one = VecDeque::from([ev]);
        self.try_send_all(&mut one);
        one.pop_front().map_or(Ok(()), Err)
    }

    /// Queues events from the front of `events`, in order, each only if every output that
    /// takes it has room for it (a stopped output counts as room: its copy is dropped and
    /// counted as by `send`), and stops at the first that does not fit; what was queued is
    /// removed, the rest stays for a later try. The checks and the queuing happen under every
    /// such output's lock (taken once for the batch, in one order), so another input cannot
    /// fill the last slot in between.
    pub fn try_send_all(&self, events: &mut VecDeque<Event>) {
        if events.is_empty() {
            return;
        }
        // Sized before the locks are taken: for a Junos line it walks every attribute.
        let sizes: Vec<usize> = events.iter().map(Event::approx_size).collect();
        let mut held: Vec<_> = self
            .routes
            .iter()
            .filter(|r| events.iter().any(|ev| r.accepts.matches(ev)))
            .map(|r| (r, r.sizes(), Tally::default()))
            .collect();
        let mut queued = 0;
        for size in sizes {
            let Some(ev) = events.front() else {
                break;
            };
            let fits = held
                .iter_mut()
                .filter(|(r, _, _)| r.accepts.matches(ev))
                .all(|(r, sizes, _)| r.has_room(sizes, size));
            if !fits {
                break;
            }
            let Some(ev) = events.pop_front() else {
                break;
            };
            let ev = Arc::new(ev);
            for (r, sizes, tally) in held.iter_mut().filter(|(r, _, _)| r.accepts.matches(&ev)) {
                r.offer_locked(sizes, &ev, size, tally);
            }
            queued += 1;
        }
        self.received.add(queued);
        for (r, sizes, tally) in &held {
            r.settle(sizes, tally);
        }
    }

    /// Whether `try_send_all` would queue `ev` now, were it first. Outputs that do not take
    /// `ev` (metric-only outputs, for a log) never count.
    pub fn has_room_for(&self, ev: &Event) -> bool {
        let size = ev.approx_size();
        self.routes
            .iter()
            .filter(|r| r.accepts.matches(ev))
            .all(|r| r.has_room(&mut r.sizes(), size))
    }

    /// Returns once `has_room_for(ev)`; cancel-safe (it holds nothing). A 1 ms re-check rather
    /// than a `Notify`: only the outputs know when they take events, and they read a plain
    /// `mpsc::Receiver`, so a signal would need a wrapper in every output. A waiting caller
    /// costs one timer wake-up and a lock per output a millisecond, and waits only while an
    /// output is already behind.
    pub async fn wait_for_room(&self, ev: &Event) {
        while !self.has_room_for(ev) {
            tokio::time::sleep(ROOM_RECHECK).await;
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
    fn send_all_queues_in_order_and_counts_like_send() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut slow = b.add_output("slow", 3, usize::MAX, Accepts::All);
        let mut logs = b.add_output("logs", 10, usize::MAX, Accepts::Logs);
        let mut metrics = b.add_output("metrics", 10, usize::MAX, Accepts::Metrics);
        let p = b.build();
        let text = |ev: &Event| match ev {
            Event::Log(l) => l.message.clone(),
            Event::Metric(m) => m.metric.clone(),
        };
        let mut batch = vec![
            Event::Log(LogRecord::new("a", "h", chrono::Utc::now())),
            (*crate::event::samples::metric()).clone(),
            Event::Log(LogRecord::new("b", "h", chrono::Utc::now())),
            Event::Log(LogRecord::new("c", "h", chrono::Utc::now())),
            Event::Log(LogRecord::new("d", "h", chrono::Utc::now())),
        ];
        p.send_all(batch.drain(..));
        assert!(batch.is_empty());
        let drain = |rx: &mut EventRx| {
            let mut v = Vec::new();
            while let Ok(ev) = rx.try_recv() {
                v.push(text(&ev));
            }
            v
        };
        assert_eq!(drain(&mut slow), ["a", "m", "b"]);
        assert_eq!(drain(&mut logs), ["a", "b", "c", "d"]);
        assert_eq!(drain(&mut metrics), ["m"]);
        let n = |name, output, reason: Option<&str>| {
            let mut labels = vec![("output", output)];
            labels.extend(reason.map(|r| ("reason", r)));
            t.counter_sum(name, &labels)
        };
        assert_eq!(n("nocbox.pipeline.events", "slow", None), 0);
        assert_eq!(t.counter_sum("nocbox.pipeline.events", &[]), 5);
        assert_eq!(n("nocbox.pipeline.queued", "slow", None), 3);
        assert_eq!(n("nocbox.pipeline.dropped", "slow", Some("queue_full")), 2);
        assert_eq!(n("nocbox.pipeline.queued", "logs", None), 4);
        assert_eq!(n("nocbox.pipeline.dropped", "logs", None), 0);
        assert_eq!(n("nocbox.pipeline.queued", "metrics", None), 1);
        // the slow queue was emptied above: room again
        p.send_all([Event::Log(LogRecord::new("e", "h", chrono::Utc::now()))]);
        assert_eq!(drain(&mut slow), ["e"]);
    }

    #[test]
    fn try_send_all_queues_what_fits_in_order_and_keeps_the_rest() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut logs = b.add_output("logs", 3, usize::MAX, Accepts::Logs);
        let mut metrics = b.add_output("metrics", 10, usize::MAX, Accepts::Metrics);
        let p = b.build();
        let line = |m: &str| Event::Log(LogRecord::new(m, "h", chrono::Utc::now()));
        let metric = (*crate::event::samples::metric()).clone();
        let mut batch: VecDeque<Event> = [
            line("a"),
            metric,
            line("b"),
            line("c"),
            line("d"),
            line("e"),
        ]
        .into();
        p.try_send_all(&mut batch);
        // three lines fit the log queue; the metric went to its own; "d" and "e" wait
        assert_eq!(batch.len(), 2);
        assert!(matches!(&batch[0], Event::Log(l) if l.message == "d"));
        let mut got = Vec::new();
        while let Ok(ev) = logs.try_recv() {
            let Event::Log(l) = &*ev else {
                panic!("a metric in the log queue")
            };
            got.push(l.message.clone());
        }
        assert_eq!(got, ["a", "b", "c"]);
        assert!(metrics.try_recv().is_ok());
        // nothing was dropped, and the rest goes once there is room
        assert_eq!(t.counter_sum("nocbox.pipeline.dropped", &[]), 0);
        p.try_send_all(&mut batch);
        assert!(batch.is_empty());
        assert_eq!(t.counter_sum("nocbox.pipeline.events", &[]), 6);
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

    fn metric() -> Event {
        Arc::unwrap_or_clone(crate::event::samples::metric())
    }

    fn dropped(t: &Telemetry) -> u64 {
        t.counter_sum("nocbox.pipeline.dropped", &[])
    }

    #[test]
    fn a_queue_full_by_count_has_no_room_and_try_send_gives_the_event_back() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut rx = b.add_output("o", 2, usize::MAX, Accepts::All);
        let p = b.build();
        assert!(p.try_send(log()).is_ok());
        assert!(p.has_room_for(&log()));
        assert!(p.try_send(log()).is_ok());
        assert!(!p.has_room_for(&log()));
        assert!(p.try_send(log()).is_err());
        // Given back, not dropped, and not counted as received either.
        assert_eq!(dropped(&t), 0);
        assert_eq!(t.counter_sum("nocbox.pipeline.events", &[]), 2);
        assert!(rx.try_recv().is_ok());
        assert!(p.has_room_for(&log()));
        assert!(p.try_send(log()).is_ok());
        assert_eq!(t.counter_sum("nocbox.pipeline.queued", &[]), 3);
    }

    #[test]
    fn a_queue_full_by_bytes_has_no_room_until_the_output_reads() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut rx = b.add_output("o", 1000, 5_000, Accepts::All);
        let p = b.build();
        let big = || Event::Log(LogRecord::new("x".repeat(2000), "h", chrono::Utc::now()));
        // About 2.3 kB each: two fit in 5 kB, a third does not, though 998 slots are free.
        assert!(p.try_send(big()).is_ok());
        assert!(p.try_send(big()).is_ok());
        assert!(!p.has_room_for(&big()));
        assert!(p.has_room_for(&log()), "a small one still fits");
        assert!(p.try_send(big()).is_err());
        assert_eq!(dropped(&t), 0);
        assert!(rx.try_recv().is_ok());
        assert!(p.try_send(big()).is_ok());
    }

    #[test]
    fn a_stopped_output_never_blocks_and_its_copy_is_counted() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        drop(b.add_output("gone", 1, usize::MAX, Accepts::All));
        let p = b.build();
        for _ in 0..3 {
            assert!(p.has_room_for(&log()));
            assert!(p.try_send(log()).is_ok());
        }
        assert_eq!(
            t.counter_sum("nocbox.pipeline.dropped", &[("reason", "output_stopped")]),
            3
        );
    }

    #[test]
    fn only_outputs_that_take_the_event_count_and_it_goes_to_all_or_none() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut metrics = b.add_output("metrics", 1, usize::MAX, Accepts::Metrics);
        let mut a = b.add_output("a", 10, usize::MAX, Accepts::Logs);
        let mut full = b.add_output("b", 1, usize::MAX, Accepts::All);
        let p = b.build();
        p.send(metric());
        // `b` is full (a metric), `metrics` too; a log has no room because of `b` alone.
        assert!(!p.has_room_for(&log()));
        assert!(p.try_send(log()).is_err());
        assert!(
            a.try_recv().is_err(),
            "no copy went to the output that had room"
        );
        assert!(full.try_recv().is_ok());
        // A full metric-only output does not hold logs back.
        assert!(p.has_room_for(&log()));
        assert!(p.try_send(log()).is_ok());
        assert!(a.try_recv().is_ok());
        assert!(metrics.try_recv().is_ok());
        assert_eq!(dropped(&t), 0);
    }

    #[tokio::test]
    async fn wait_for_room_returns_once_the_output_reads() {
        let t = Telemetry::new();
        let mut b = PipelineBuilder::new(&t);
        let mut rx = b.add_output("o", 1, usize::MAX, Accepts::Logs);
        let p = b.build();
        p.send(log());
        let ev = log();
        let waiting = tokio::time::timeout(Duration::from_millis(50), p.wait_for_room(&ev));
        assert!(waiting.await.is_err(), "no room while the queue is full");
        let reader = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let first = rx.recv().await;
            (first, rx)
        });
        tokio::time::timeout(Duration::from_secs(5), p.wait_for_room(&ev))
            .await
            .expect("room once the output took its event");
        let (first, rx) = reader.await.unwrap();
        assert!(first.is_some());
        // Closing the queue ends a wait too.
        p.send(log());
        drop(rx);
        tokio::time::timeout(Duration::from_secs(5), p.wait_for_room(&ev))
            .await
            .expect("a closed queue does not block");
    }
}

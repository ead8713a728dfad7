//! The batching loop shared by the Datadog HTTP outputs: take events from the output's queue,
//! turn each into an item (`Feed`), collect items into a batch, and hand a batch to the `Sender`
//! when it is full or `flush_interval` after its first item, at the end of the queue (drain), or
//! never (hard stop: the open batch and the queue are counted as `dropped{shutdown}`).
//!
//! The queue is not read while a batch is being delivered, so a slow or dead API backs up into
//! the bounded queue, where the pipeline counts the overflow.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::deliver::{Batch, Sender};
use super::mark;
use crate::event::Event;
use crate::outputs::abandon_queue;
use crate::outputs::stream::Cancelled;
use crate::pipeline::EventRx;

/// What an output puts in its batches, and how a batch grows.
pub(super) trait Feed {
    type Item;
    type Batch: Batch;
    /// The item for one queued event; `None` for an event that is not this output's, or that
    /// cannot be sent (the feed counts it).
    fn item(&mut self, ev: &Event) -> Option<Self::Item>;
    /// An item the output makes itself every `tick` (the logs' marks).
    fn tick(&mut self) -> Option<Self::Item> {
        None
    }
    /// Whether `it` can join the open batch without passing a limit.
    fn fits(&self, it: &Self::Item) -> bool;
    fn push(&mut self, it: Self::Item);
    /// No further item can join.
    fn is_full(&self) -> bool;
    fn is_empty(&self) -> bool;
    /// The open batch, leaving an empty one.
    fn take(&mut self) -> Self::Batch;
    /// Whether an event still queued at a hard stop counts as this output's loss.
    fn counts(ev: &Event) -> bool;
}

/// Timing of the loop.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timing {
    /// Longest wait before a partial batch is sent.
    pub flush_interval: Duration,
    /// `Feed::tick` period; zero for none.
    pub tick: Duration,
}

struct Pump<F: Feed> {
    feed: F,
    sender: Sender,
    flush_interval: Duration,
    /// When the open batch must go.
    due: Option<Instant>,
}

/// Runs until the queue closes (the open batch is sent first) or `hard_stop` fires.
pub(super) async fn run<F: Feed>(
    feed: F,
    sender: Sender,
    mut rx: EventRx,
    timing: Timing,
    hard_stop: CancellationToken,
) {
    let mut ticks = mark::ticker(timing.tick);
    let mut p = Pump {
        feed,
        sender,
        flush_interval: timing.flush_interval,
        due: None,
    };
    loop {
        let item = tokio::select! {
            biased;
            _ = hard_stop.cancelled() => break,
            _ = sleep_opt(p.due) => None,
            _ = mark::tick(&mut ticks) => match p.feed.tick() {
                Some(it) => Some(it),
                None => continue,
            },
            ev = rx.recv() => match ev {
                Some(ev) => match p.feed.item(&ev) {
                    Some(it) => Some(it),
                    None => continue,
                },
                None => {
                    let _ = p.ship().await;
                    break;
                }
            },
        };
        let res = match item {
            Some(it) => p.add(it).await,
            None => p.ship().await,
        };
        if res.is_err() {
            break;
        }
    }
    // Hard stop: what is still open or queued was not delivered.
    let n = p.feed.take().events() + abandon_queue(&mut rx, F::counts);
    p.sender.stats.dropped("shutdown", n);
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

impl<F: Feed> Pump<F> {
    async fn add(&mut self, it: F::Item) -> Result<(), Cancelled> {
        if !self.feed.fits(&it) {
            self.ship().await?;
        }
        self.feed.push(it);
        self.due
            .get_or_insert_with(|| Instant::now() + self.flush_interval);
        if self.feed.is_full() {
            self.ship().await?;
        }
        Ok(())
    }

    async fn ship(&mut self) -> Result<(), Cancelled> {
        self.due = None;
        if self.feed.is_empty() {
            return Ok(());
        }
        let batch = self.feed.take();
        self.sender.deliver(batch).await
    }
}

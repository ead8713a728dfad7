//! The Datadog HTTP v2 log intake: log records become intake objects (`payload.rs`), batched
//! within the intake's limits and delivered by the shared `deliver.rs` (gzip, retry, split,
//! drop or hold), with a mark every `mark_interval`. Owns only what is particular to logs.

use std::time::Duration;

use reqwest::Client;

use super::deliver::{Batch, OnBadKey, Post, Rules, Sender};
use super::mark;
use super::payload::{self, Batcher, Entry};
use super::pump::{self, Feed, Timing};
use crate::event::{Event, LogRecord};
use crate::outputs::{is_log, OutputContext};
use crate::pipeline::EventRx;
use crate::telemetry::Counter;

pub(super) const NAME: &str = "datadog_logs";

/// Posts the log events of `rx` to `post.url` with a mark every `mark_interval` (zero: none).
pub(super) async fn run(
    post: Post,
    mark_interval: Duration,
    client: Client,
    rx: EventRx,
    ctx: OutputContext,
) {
    let timing = Timing {
        flush_interval: post.flush_interval,
        tick: mark_interval,
    };
    let rules = Rules {
        name: NAME,
        noun: "logs",
        // A wrong key is a configuration error: logs stay useful for 18 h, so hold them.
        on_bad_key: OnBadKey::Hold,
        // The intake limits the uncompressed size only (the batcher keeps to it).
        max_compressed: None,
    };
    let sender = Sender::new(post, rules, client, &ctx.telemetry, ctx.hard_stop.clone());
    let feed = LogFeed {
        marks: sender.stats.counter("nocbox.output.marks"),
        dropped_too_large: ctx.telemetry.counter(
            "nocbox.output.dropped",
            &[("output", NAME), ("reason", "too_large")],
        ),
        batch: Batcher::default(),
        hostname: ctx.hostname.clone(),
        tags: ctx.tags.clone(),
    };
    pump::run(feed, sender, rx, timing, ctx.hard_stop.clone()).await;
}

struct LogFeed {
    marks: Counter,
    dropped_too_large: Counter,
    batch: Batcher,
    hostname: String,
    tags: Vec<String>,
}

impl LogFeed {
    /// The intake object of `r`, or `None` (counted) when it cannot be made to fit.
    fn entry(&self, r: &LogRecord, is_mark: bool) -> Option<Entry> {
        match payload::entry(r, is_mark, payload::MAX_ENTRY) {
            Ok(e) => Some(e),
            Err(payload::TooLarge(n)) => {
                self.dropped_too_large.add(u64::from(!is_mark));
                tracing::warn!(
                    output = NAME,
                    bytes = n,
                    "log record too large for Datadog even without its message; dropped"
                );
                None
            }
        }
    }
}

impl Feed for LogFeed {
    type Item = Entry;
    type Batch = Vec<Entry>;

    fn item(&mut self, ev: &Event) -> Option<Entry> {
        match ev {
            Event::Log(r) => self.entry(r, false),
            Event::Metric(_) => None,
        }
    }
    fn tick(&mut self) -> Option<Entry> {
        self.marks.inc();
        let r = mark::record(&self.hostname, &self.tags, NAME, chrono::Utc::now());
        self.entry(&r, true)
    }
    fn fits(&self, e: &Entry) -> bool {
        self.batch.fits(e)
    }
    fn push(&mut self, e: Entry) {
        self.batch.push(e);
    }
    fn is_full(&self) -> bool {
        self.batch.is_full()
    }
    fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }
    fn take(&mut self) -> Vec<Entry> {
        debug_assert!(self.batch.body_len() < payload::MAX_PAYLOAD);
        self.batch.take()
    }
    fn counts(ev: &Event) -> bool {
        is_log(ev)
    }
}

impl Batch for Vec<Entry> {
    fn events(&self) -> usize {
        payload::events(self)
    }
    fn body(&self) -> Vec<u8> {
        payload::json_array(self)
    }
    fn split(mut self) -> Result<(Self, Self), Self> {
        if self.len() <= 1 {
            return Err(self);
        }
        let second = self.split_off(self.len() / 2);
        Ok((self, second))
    }
}

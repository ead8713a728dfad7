//! Metric events to Datadog's series API v2 (`outputs.datadog.metrics`), output and component
//! `datadog_metrics`: points become series elements (`series.rs`), batched within the API's
//! limits and delivered by the shared `deliver.rs`. Counts every point it cannot send by reason.
//!
//! Policy differences from the logs: a refused key (401/403) drops the batch as a permanent
//! failure instead of holding it, since points over 1 h old are refused anyway; and before each
//! retry the points that have aged past that hour are dropped (`dropped{reason="too_old"}`)
//! rather than sent to be silently discarded.

use std::time::Duration;

use reqwest::Client;

use super::deliver::{Batch, OnBadKey, Post, Rules, Sender};
use super::pump::{self, Feed, Timing};
use super::series::{self, Limits, SeriesBatch, SeriesPoint};
use crate::event::Event;
use crate::outputs::OutputContext;
use crate::pipeline::EventRx;
use crate::telemetry::Telemetry;

pub(super) const NAME: &str = "datadog_metrics";

/// Posts the metric events of `rx` to `post.url` in batches within `limits`.
pub(super) async fn run(
    post: Post,
    limits: Limits,
    client: Client,
    rx: EventRx,
    ctx: OutputContext,
) {
    let timing = Timing {
        flush_interval: post.flush_interval,
        tick: Duration::ZERO,
    };
    let rules = Rules {
        name: NAME,
        noun: "points",
        on_bad_key: OnBadKey::Drop,
        max_compressed: Some(limits.max_compressed),
    };
    let sender = Sender::new(post, rules, client, &ctx.telemetry, ctx.hard_stop.clone());
    let feed = MetricsFeed {
        t: ctx.telemetry.clone(),
        limits,
        batch: SeriesBatch::default(),
    };
    pump::run(feed, sender, rx, timing, ctx.hard_stop.clone()).await;
}

struct MetricsFeed {
    t: Telemetry,
    limits: Limits,
    batch: SeriesBatch,
}

impl Feed for MetricsFeed {
    type Item = SeriesPoint;
    type Batch = SeriesBatch;

    fn item(&mut self, ev: &Event) -> Option<SeriesPoint> {
        let Event::Metric(m) = ev else { return None };
        match series::point(m, chrono::Utc::now().timestamp()) {
            Ok(p) => Some(p),
            Err(why) => {
                let reason = why.reason();
                self.t
                    .counter(
                        "nocbox.output.dropped",
                        &[("output", NAME), ("reason", reason)],
                    )
                    .inc();
                tracing::debug!(output = NAME, metric = %m.metric, reason, "point not sent");
                None
            }
        }
    }
    fn fits(&self, p: &SeriesPoint) -> bool {
        self.batch.fits(p, &self.limits)
    }
    fn push(&mut self, p: SeriesPoint) {
        self.batch.push(p);
    }
    fn is_full(&self) -> bool {
        self.batch.is_full(&self.limits)
    }
    fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }
    fn take(&mut self) -> SeriesBatch {
        self.batch.take()
    }
    fn counts(ev: &Event) -> bool {
        matches!(ev, Event::Metric(_))
    }
}

impl Batch for SeriesBatch {
    fn events(&self) -> usize {
        self.points()
    }
    fn body(&self) -> Vec<u8> {
        SeriesBatch::body(self)
    }
    fn split(self) -> Result<(Self, Self), Self> {
        SeriesBatch::split(self)
    }
    fn expire(&mut self, now: i64) -> usize {
        SeriesBatch::expire(self, now)
    }
}

//! The `prometheus` output (`outputs.prometheus`): keeps the latest value of every series seen in
//! metric events (`store.rs` owns the naming, typing, staleness and cap rules) and publishes its
//! text exposition, which the API's `/metrics` appends after nocbox's own metrics.
//!
//! Like every output it reads its own bounded queue, so it never slows the pipeline. The store
//! belongs to this task alone; what the API reads is the last published text behind an `Arc`,
//! so a scrape holds a lock only to clone that `Arc`, never while series are rendered. The text
//! is rendered at most once per `PUBLISH_EVERY`, when something changed and a scrape came since
//! the last rendering (else every `PUBLISH_UNREAD_EVERY`): a scrape sees the series as they were
//! at most a second after the previous scrape, and nobody pays for renderings nobody reads.

mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{abandon_queue, OutputContext};
use crate::config::PrometheusConfig;
use crate::event::Event;
use crate::pipeline::EventRx;
use crate::telemetry::{Component, Counter, Gauge, Telemetry};

pub use store::Store;

pub const NAME: &str = "prometheus";

/// How often changes are rendered and published (when scraped since), and stale series looked
/// for.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Changes are rendered at least this often even when nobody scrapes.
const PUBLISH_UNREAD_EVERY: Duration = Duration::from_secs(15);

/// The published exposition text of metric events, shared with the API. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Exposition {
    text: Arc<Mutex<Arc<String>>>,
    /// A scrape came since the last rendering.
    wanted: Arc<AtomicBool>,
}

impl Exposition {
    /// The latest text (empty before the first point); tells the output someone reads it.
    pub fn text(&self) -> Arc<String> {
        self.wanted.store(true, Ordering::Relaxed);
        self.text.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the text (the `prometheus` output, and tests).
    pub(crate) fn publish(&self, text: String) {
        let text = Arc::new(text);
        *self.text.lock().unwrap_or_else(|e| e.into_inner()) = text;
    }

    /// Whether a scrape came since the last call.
    fn take_wanted(&self) -> bool {
        self.wanted.swap(false, Ordering::Relaxed)
    }
}

struct Stats {
    t: Telemetry,
    comp: Component,
    sent: Counter,
    expired: Counter,
    series: Gauge,
}

impl Stats {
    fn new(t: &Telemetry) -> Self {
        let l = [("output", NAME)];
        Stats {
            t: t.clone(),
            comp: t.component(NAME, "output"),
            sent: t.counter("nocbox.output.sent", &l),
            expired: t.counter("nocbox.output.expired", &l),
            series: t.gauge("nocbox.output.series", &l),
        }
    }
    fn dropped(&self, reason: &str, n: usize) {
        self.t
            .counter(
                "nocbox.output.dropped",
                &[("output", NAME), ("reason", reason)],
            )
            .add(n as u64);
    }
}

/// Consumes metric events until the queue closes or `ctx.hard_stop` fires, publishing into
/// `out`. What it last published stays readable after it ends.
pub async fn run(cfg: PrometheusConfig, out: Exposition, mut rx: EventRx, ctx: OutputContext) {
    let stats = Stats::new(&ctx.telemetry);
    stats.comp.set_detail("series_max", cfg.max_series);
    stats.comp.set_healthy(true);
    let mut store = Store::new(cfg.max_series, cfg.stale_after);
    let mut tick = tokio::time::interval(PUBLISH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = false;
    let mut last = std::time::Instant::now();
    let stop: &CancellationToken = &ctx.hard_stop;
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => {
                stats.dropped("shutdown", abandon_queue(&mut rx, |e| matches!(e, Event::Metric(_))));
                break;
            }
            _ = tick.tick() => {
                let gone = store.expire(std::time::Instant::now());
                stats.expired.add(gone as u64);
                dirty |= gone > 0;
                // Rendering every series is the output's main cost (docs/PERFORMANCE.md):
                // only for a reader, or now and then.
                let due = out.take_wanted() || last.elapsed() >= PUBLISH_UNREAD_EVERY;
                if dirty && due {
                    publish(&store, &out, &stats);
                    dirty = false;
                    last = std::time::Instant::now();
                }
            }
            ev = rx.recv() => match ev.as_deref() {
                Some(Event::Metric(m)) => {
                    match store.apply(m, std::time::Instant::now()) {
                        Ok(()) => stats.sent.inc(),
                        Err(why) => stats.dropped(why.reason(), 1),
                    }
                    dirty = true;
                }
                Some(Event::Log(_)) => {}
                None => break,
            },
        }
    }
    if dirty {
        publish(&store, &out, &stats);
    }
}

fn publish(store: &Store, out: &Exposition, stats: &Stats) {
    out.publish(store.render());
    stats.series.set(store.len() as i64);
    stats.comp.success();
}

#[cfg(test)]
mod tests;

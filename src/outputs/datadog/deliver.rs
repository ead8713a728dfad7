//! Delivery to a Datadog HTTP API, shared by the log intake (`datadog_logs`) and the series API
//! (`datadog_metrics`): gzip the batch, POST it with the key, and act on the answer (retry with
//! back-off and jitter, split on 413, drop on a permanent refusal), counting every outcome under
//! the output's name. Owns the reqwest client and its counters; knows nothing about what a batch
//! holds beyond the `Batch` trait.
//!
//! One batch is in flight at a time and is retried until it is delivered or given up, so a long
//! outage fills the output's bounded queue and the pipeline counts the overflow. A batch answered
//! 2xx is never sent again; a timed-out request may have been accepted and is retried anyway, so
//! a timeout can duplicate a batch (at least once). Never logs or shows the API key: it goes
//! only into the `DD-API-KEY` header, marked sensitive.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Client, Response, Url};
use tokio_util::sync::CancellationToken;

use super::payload::{classify, gzip, Verdict};
use super::transport::{body_snippet, error_chain, transport_reason};
use crate::outputs::backoff::{Backoff, BackoffPolicy, FailureLog};
use crate::outputs::stream::Cancelled;
use crate::telemetry::{Component, Counter, Telemetry};

/// What one request carries. Implemented by the log batch and the series batch.
pub(super) trait Batch: Sized + Send + 'static {
    /// Pipeline events in the batch: what `sent` and `dropped` count (not the output's own marks).
    fn events(&self) -> usize;
    /// The uncompressed request body.
    fn body(&self) -> Vec<u8>;
    /// Two halves in order, for a 413 or a body over the compressed limit; `Err(self)` when the
    /// batch cannot be split any further.
    fn split(self) -> Result<(Self, Self), Self>;
    /// Before a retry: removes what the API would refuse by now (`now` in Unix seconds) and
    /// returns how many events that was.
    fn expire(&mut self, _now: i64) -> usize {
        0
    }
}

/// What to do when Datadog refuses the key (401/403).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OnBadKey {
    /// Keep the batch and retry with the long back-off (logs: they stay useful for 18 h).
    Hold,
    /// Drop it as a permanent failure (metrics: points over 1 h old are refused anyway, and a
    /// held batch would stop every newer point).
    Drop,
}

/// Where an HTTP output posts and how often. Its `Debug` never shows the key.
pub(super) struct Post {
    pub url: Url,
    pub api_key: HeaderValue,
    /// Longest wait before a partial batch is sent.
    pub flush_interval: Duration,
    pub policy: BackoffPolicy,
}

impl std::fmt::Debug for Post {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Post")
            .field("url", &self.url.as_str())
            .field("api_key", &"<redacted>")
            .field("flush_interval", &self.flush_interval)
            .field("policy", &self.policy)
            .finish()
    }
}

/// What differs between the outputs that use the sender.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rules {
    /// Output (and component) name: `datadog_logs`, `datadog_metrics`.
    pub name: &'static str,
    /// What a batch's events are called in messages: `logs`, `points`.
    pub noun: &'static str,
    pub on_bad_key: OnBadKey,
    /// Largest gzip body the API takes; a larger one is split before it is sent.
    pub max_compressed: Option<usize>,
}

/// A client with nocbox's rustls config (bundled roots plus the optional CA file), HTTP/1.1.
pub(super) fn client(tls: &rustls::ClientConfig, timeout: Duration) -> reqwest::Result<Client> {
    Client::builder()
        .tls_backend_preconfigured(tls.clone())
        .user_agent(concat!("nocbox/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        // A redirected POST would be replayed as a GET; Datadog never redirects.
        .redirect(reqwest::redirect::Policy::none())
        // Below the intake's load-balancer idle timeout, so a pooled connection is not reused
        // just as the far end drops it.
        .pool_idle_timeout(Duration::from_secs(30))
        .http1_only()
        .build()
}

/// The output's counters and component.
pub(super) struct Stats {
    t: Telemetry,
    name: &'static str,
    pub comp: Component,
    sent: Counter,
    retries: Counter,
}

impl Stats {
    pub fn new(t: &Telemetry, name: &'static str) -> Self {
        let l = [("output", name)];
        Stats {
            t: t.clone(),
            name,
            comp: t.component(name, "output"),
            sent: t.counter("nocbox.output.sent", &l),
            retries: t.counter("nocbox.output.retries", &l),
        }
    }
    pub fn counter(&self, name: &str) -> Counter {
        self.t.counter(name, &[("output", self.name)])
    }
    pub fn failed(&self, reason: &str) {
        self.t
            .counter(
                "nocbox.output.failed",
                &[("output", self.name), ("reason", reason)],
            )
            .inc();
    }
    pub fn dropped(&self, reason: &str, n: usize) {
        self.t
            .counter(
                "nocbox.output.dropped",
                &[("output", self.name), ("reason", reason)],
            )
            .add(n as u64);
    }
}

enum Outcome {
    Status(Response),
    Transport(reqwest::Error),
}

/// After one answer: done with this batch, or wait and send it again.
enum Next<B> {
    Done,
    Retry(B, Duration),
}

/// Sends batches to one URL.
pub(super) struct Sender {
    post: Post,
    rules: Rules,
    client: Client,
    pub stats: Stats,
    backoff: Backoff,
    flog: FailureLog,
    cancel: CancellationToken,
}

impl Sender {
    /// A sender whose waits and requests end when `cancel` fires. Marks the component healthy.
    pub fn new(
        post: Post,
        rules: Rules,
        client: Client,
        t: &Telemetry,
        cancel: CancellationToken,
    ) -> Self {
        let stats = Stats::new(t, rules.name);
        stats.comp.set_detail("endpoint", &post.url);
        stats.comp.set_healthy(true);
        Sender {
            backoff: Backoff::new(post.policy),
            post,
            rules,
            client,
            stats,
            flog: FailureLog::new(Duration::from_secs(60)),
            cancel,
        }
    }

    /// Sends `batch` until it is delivered or given up; split halves go on a work stack. `Err`
    /// at a hard stop, with everything not delivered counted as `dropped{shutdown}`.
    pub async fn deliver<B: Batch>(&mut self, batch: B) -> Result<(), Cancelled> {
        let mut work = vec![batch];
        while let Some(b) = work.pop() {
            if self.deliver_one(b, &mut work).await.is_err() {
                let rest: usize = work.iter().map(Batch::events).sum();
                self.stats.dropped("shutdown", rest);
                return Err(Cancelled);
            }
        }
        Ok(())
    }

    async fn deliver_one<B: Batch>(&mut self, b: B, work: &mut Vec<B>) -> Result<(), Cancelled> {
        let mut body = encode(&b).await;
        if self
            .rules
            .max_compressed
            .is_some_and(|max| body.len() > max)
        {
            self.split(b, work, "too_large", "is over the compressed size limit");
            return Ok(());
        }
        let mut b = b;
        loop {
            let outcome = match self.attempt(body.clone()).await {
                Ok(o) => o,
                Err(c) => return Err(self.abandon(&b, c)),
            };
            let wait;
            (b, wait) = match self.answer(outcome, b, work).await {
                Next::Done => return Ok(()),
                Next::Retry(b, wait) => (b, wait),
            };
            if let Err(c) = self.pause(wait).await {
                return Err(self.abandon(&b, c));
            }
            let gone = b.expire(chrono::Utc::now().timestamp());
            if gone > 0 {
                self.stats.dropped("too_old", gone);
                if b.events() == 0 {
                    return Ok(());
                }
                body = encode(&b).await;
            }
        }
    }

    /// Acts on one answer: `Done` when the batch is delivered, dropped or split into `work`.
    async fn answer<B: Batch>(&mut self, outcome: Outcome, b: B, work: &mut Vec<B>) -> Next<B> {
        let resp = match outcome {
            Outcome::Status(resp) => resp,
            Outcome::Transport(e) => {
                let msg = format!("POST {} failed: {}", self.post.url, error_chain(&e));
                self.failure(transport_reason(&e), msg, true);
                return Next::Retry(b, self.backoff.next_delay(fastrand::f64()));
            }
        };
        let status = resp.status();
        match classify(status.as_u16()) {
            Verdict::Sent => self.on_sent(&b),
            Verdict::Reject => self.on_reject(&b, resp, "http_400").await,
            Verdict::Split => {
                self.stats.failed("http_413");
                self.split(
                    b,
                    work,
                    "http_413_too_large",
                    "was refused as too large (413)",
                );
            }
            Verdict::BadKey => {
                let code = status.as_u16();
                let reason = if code == 401 { "http_401" } else { "http_403" };
                let msg = format!(
                    "Datadog rejected the API key ({code}) at {}; check outputs.datadog.api_key",
                    self.post.url
                );
                if self.rules.on_bad_key == OnBadKey::Hold {
                    self.failure(reason, msg, true);
                    return Next::Retry(b, self.backoff.config_error_delay(fastrand::f64()));
                }
                let n = b.events();
                self.stats.dropped(reason, n);
                self.failure(
                    reason,
                    format!("{msg}; {n} {} dropped", self.rules.noun),
                    false,
                );
            }
            Verdict::Retry(reason) => {
                self.failure(reason, format!("{} answered {status}", self.post.url), true);
                return Next::Retry(b, self.backoff.next_delay(fastrand::f64()));
            }
        }
        Next::Done
    }

    /// Counts the batch as `dropped{shutdown}` at a hard stop.
    fn abandon<B: Batch>(&self, b: &B, c: Cancelled) -> Cancelled {
        self.stats.dropped("shutdown", b.events());
        c
    }

    /// The wait before a retry (counted as one retry).
    async fn pause(&mut self, wait: Duration) -> Result<(), Cancelled> {
        self.stats.retries.inc();
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            _ = self.cancel.cancelled() => Err(Cancelled),
        }
    }

    async fn attempt(&self, body: Bytes) -> Result<Outcome, Cancelled> {
        let req = self
            .client
            .post(self.post.url.clone())
            .header("DD-API-KEY", self.post.api_key.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(body)
            .send();
        tokio::select! {
            r = req => Ok(match r {
                Ok(resp) => Outcome::Status(resp),
                Err(e) => Outcome::Transport(e),
            }),
            _ = self.cancel.cancelled() => Err(Cancelled),
        }
    }

    fn on_sent<B: Batch>(&mut self, b: &B) {
        self.stats.sent.add(b.events() as u64);
        self.stats.comp.success();
        self.backoff.reset();
        if let Some(d) = self.flog.success(std::time::Instant::now()) {
            let secs = d.as_secs();
            tracing::info!(
                output = self.rules.name,
                endpoint = %self.post.url,
                "delivering again after {secs} s of failures"
            );
        }
    }

    /// A permanent refusal of the payload: the batch is dropped, the reason logged.
    async fn on_reject<B: Batch>(&mut self, b: &B, resp: Response, reason: &str) {
        let n = b.events();
        let status = resp.status();
        let body = body_snippet(resp).await;
        self.stats.failed(reason);
        self.stats.dropped(reason, n);
        let msg = format!(
            "{} refused a batch ({status}); {n} {} dropped: {body}",
            self.post.url, self.rules.noun
        );
        self.stats.comp.error(&msg);
        tracing::warn!(output = self.rules.name, "{msg}");
    }

    /// Halves go on the work stack; a batch that cannot be split is dropped as `reason`.
    fn split<B: Batch>(&mut self, b: B, work: &mut Vec<B>, reason: &str, why: &str) {
        match b.split() {
            Ok((first, second)) => {
                // Popped last-in first-out: the first half goes first, keeping the order.
                work.push(second);
                work.push(first);
            }
            Err(b) => {
                self.stats.dropped(reason, b.events());
                let msg = format!(
                    "a single {} for {} {why}; dropped",
                    self.rules.noun.trim_end_matches('s'),
                    self.post.url
                );
                self.stats.comp.error(&msg);
                tracing::warn!(output = self.rules.name, "{msg}");
            }
        }
    }

    /// A failure that is retried (or, for a refused key on metrics, counted and dropped):
    /// counted, shown in `/status`, logged at most once a minute while it lasts.
    fn failure(&mut self, reason: &str, msg: String, retrying: bool) {
        self.stats.failed(reason);
        self.stats.comp.error(&msg);
        if let Some(suppressed) = self.flog.failure(std::time::Instant::now()) {
            let then = if retrying { "; retrying" } else { "" };
            tracing::warn!(output = self.rules.name, reason, suppressed, "{msg}{then}");
        }
    }
}

/// The gzip body, compressed off the async threads (a full batch is megabytes of JSON).
async fn encode<B: Batch>(b: &B) -> Bytes {
    let raw = b.body();
    match tokio::task::spawn_blocking(move || gzip(&raw)).await {
        Ok(gz) => Bytes::from(gz),
        Err(_) => Bytes::from(gzip(&b.body())),
    }
}

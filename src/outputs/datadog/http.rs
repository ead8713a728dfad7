//! The Datadog HTTP v2 log intake loop: batch, gzip, POST, and act on the answer (retry, split,
//! drop or hold). Owns the reqwest client and the `datadog_logs` counters for this transport.
//! Must not read the queue while a batch is being retried: one batch is in flight at a time, so
//! a long outage fills the bounded queue and the pipeline counts the overflow (honest, bounded
//! memory). A batch answered 2xx is never sent again; a timed-out request may have been accepted
//! and is retried anyway, so a timeout can duplicate a batch (at least once).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Client, Response, Url};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::mark;
use super::payload::{self, classify, Batcher, Entry, Verdict};
use super::transport::{body_snippet, error_chain, transport_reason};
use crate::event::{Event, LogRecord};
use crate::outputs::backoff::{Backoff, BackoffPolicy, FailureLog};
use crate::outputs::stream::Cancelled;
use crate::outputs::{abandon_queue, is_log, OutputContext};
use crate::pipeline::EventRx;
use crate::telemetry::{Component, Counter, Telemetry};

pub(super) const NAME: &str = "datadog_logs";

/// What the HTTP loop needs besides the client. Its `Debug` never shows the key.
pub(super) struct HttpSettings {
    pub url: Url,
    pub api_key: HeaderValue,
    pub flush_interval: Duration,
    pub mark_interval: Duration,
    pub policy: BackoffPolicy,
}

impl std::fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSettings")
            .field("url", &self.url.as_str())
            .field("api_key", &"<redacted>")
            .field("flush_interval", &self.flush_interval)
            .field("mark_interval", &self.mark_interval)
            .field("policy", &self.policy)
            .finish()
    }
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

struct Stats {
    t: Telemetry,
    comp: Component,
    sent: Counter,
    retries: Counter,
    marks: Counter,
}

impl Stats {
    fn new(t: &Telemetry) -> Self {
        let l = [("output", NAME)];
        Stats {
            t: t.clone(),
            comp: t.component(NAME, "output"),
            sent: t.counter("nocbox.output.sent", &l),
            retries: t.counter("nocbox.output.retries", &l),
            marks: t.counter("nocbox.output.marks", &l),
        }
    }
    fn failed(&self, reason: &str) {
        self.t
            .counter(
                "nocbox.output.failed",
                &[("output", NAME), ("reason", reason)],
            )
            .inc();
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

enum Outcome {
    Status(Response),
    Transport(reqwest::Error),
}

struct HttpOutput {
    s: HttpSettings,
    client: Client,
    stats: Stats,
    backoff: Backoff,
    flog: FailureLog,
    cancel: CancellationToken,
    batch: Batcher,
    /// When the current batch must go, `flush_interval` after its first entry.
    due: Option<Instant>,
}

pub(super) async fn run(s: HttpSettings, client: Client, mut rx: EventRx, ctx: OutputContext) {
    let stats = Stats::new(&ctx.telemetry);
    stats.comp.set_detail("endpoint", &s.url);
    stats.comp.set_healthy(true);
    let mut marks = mark::ticker(s.mark_interval);
    let mut out = HttpOutput {
        backoff: Backoff::new(s.policy),
        s,
        client,
        stats,
        flog: FailureLog::new(Duration::from_secs(60)),
        cancel: ctx.hard_stop.clone(),
        batch: Batcher::default(),
        due: None,
    };
    loop {
        let entry = tokio::select! {
            biased;
            _ = ctx.hard_stop.cancelled() => break,
            _ = sleep_opt(out.due) => None,
            _ = mark::tick(&mut marks) => {
                out.stats.marks.inc();
                let r = mark::record(&ctx.hostname, &ctx.tags, NAME, chrono::Utc::now());
                out.entry(&r, true)
            }
            ev = rx.recv() => match ev.as_deref() {
                Some(Event::Log(r)) => match out.entry(r, false) {
                    Some(e) => Some(e),
                    None => continue,
                },
                Some(Event::Metric(_)) => continue,
                None => {
                    let _ = out.ship().await;
                    break;
                }
            },
        };
        let res = match entry {
            Some(e) => out.add(e).await,
            None => out.ship().await,
        };
        if res.is_err() {
            break;
        }
    }
    out.abandon(&mut rx);
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

impl HttpOutput {
    /// The intake object of `r`, or `None` (counted) when it cannot be made to fit.
    fn entry(&self, r: &LogRecord, is_mark: bool) -> Option<Entry> {
        match payload::entry(r, is_mark, payload::MAX_ENTRY) {
            Ok(e) => Some(e),
            Err(payload::TooLarge(n)) => {
                self.stats.dropped("too_large", usize::from(!is_mark));
                tracing::warn!(
                    output = NAME,
                    bytes = n,
                    "log record too large for Datadog even without its message; dropped"
                );
                None
            }
        }
    }

    async fn add(&mut self, e: Entry) -> Result<(), Cancelled> {
        if !self.batch.fits(&e) {
            self.ship().await?;
        }
        self.batch.push(e);
        self.due
            .get_or_insert_with(|| Instant::now() + self.s.flush_interval);
        if self.batch.is_full() {
            self.ship().await?;
        }
        Ok(())
    }

    async fn ship(&mut self) -> Result<(), Cancelled> {
        self.due = None;
        if self.batch.is_empty() {
            return Ok(());
        }
        debug_assert!(self.batch.body_len() < payload::MAX_PAYLOAD);
        let entries = self.batch.take();
        self.deliver(entries).await
    }

    /// Sends a batch until it is delivered or given up; 413 halves go on the work stack.
    async fn deliver(&mut self, batch: Vec<Entry>) -> Result<(), Cancelled> {
        let mut work = vec![batch];
        while let Some(b) = work.pop() {
            let n = payload::events(&b);
            if self.deliver_one(b, &mut work).await.is_err() {
                let rest: usize = work.iter().map(|w| payload::events(w)).sum();
                self.stats.dropped("shutdown", n + rest);
                return Err(Cancelled);
            }
        }
        Ok(())
    }

    async fn deliver_one(
        &mut self,
        b: Vec<Entry>,
        work: &mut Vec<Vec<Entry>>,
    ) -> Result<(), Cancelled> {
        let body = encode(&b).await;
        loop {
            let resp = match self.attempt(body.clone()).await? {
                Outcome::Status(resp) => resp,
                Outcome::Transport(e) => {
                    let msg = format!("POST {} failed: {}", self.s.url, error_chain(&e));
                    self.failure(transport_reason(&e), msg);
                    let wait = self.backoff.next_delay(fastrand::f64());
                    self.pause(wait).await?;
                    continue;
                }
            };
            let status = resp.status();
            let wait = match classify(status.as_u16()) {
                Verdict::Sent => {
                    self.on_sent(&b);
                    return Ok(());
                }
                Verdict::Reject => {
                    self.on_reject(&b, resp).await;
                    return Ok(());
                }
                Verdict::Split => {
                    self.on_split(b, work);
                    return Ok(());
                }
                Verdict::BadKey => {
                    let code = status.as_u16();
                    let msg = format!(
                        "Datadog rejected the API key ({code}) at {}; check outputs.datadog.api_key",
                        self.s.url
                    );
                    self.failure(if code == 401 { "http_401" } else { "http_403" }, msg);
                    self.backoff.config_error_delay(fastrand::f64())
                }
                Verdict::Retry(reason) => {
                    self.failure(reason, format!("{} answered {status}", self.s.url));
                    self.backoff.next_delay(fastrand::f64())
                }
            };
            self.pause(wait).await?;
        }
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
            .post(self.s.url.clone())
            .header("DD-API-KEY", self.s.api_key.clone())
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

    fn on_sent(&mut self, b: &[Entry]) {
        self.stats.sent.add(payload::events(b) as u64);
        self.stats.comp.success();
        self.backoff.reset();
        if let Some(d) = self.flog.success(std::time::Instant::now()) {
            let secs = d.as_secs();
            tracing::info!(
                output = NAME,
                endpoint = %self.s.url,
                "delivering again after {secs} s of failures"
            );
        }
    }

    async fn on_reject(&mut self, b: &[Entry], resp: Response) {
        let n = payload::events(b);
        let status = resp.status();
        let body = body_snippet(resp).await;
        self.stats.failed("http_400");
        self.stats.dropped("http_400", n);
        let msg = format!(
            "{} refused a batch ({status}); {n} logs dropped: {body}",
            self.s.url
        );
        self.stats.comp.error(&msg);
        tracing::warn!(output = NAME, "{msg}");
    }

    fn on_split(&mut self, mut b: Vec<Entry>, work: &mut Vec<Vec<Entry>>) {
        self.stats.failed("http_413");
        if b.len() <= 1 {
            let n = payload::events(&b);
            self.stats.dropped("http_413_too_large", n);
            let msg = format!(
                "{} refused a single log as too large (413); dropped",
                self.s.url
            );
            self.stats.comp.error(&msg);
            tracing::warn!(output = NAME, "{msg}");
            return;
        }
        let second = b.split_off(b.len() / 2);
        // Popped last-in first-out: the first half goes first, keeping the order.
        work.push(second);
        work.push(b);
    }

    fn failure(&mut self, reason: &str, msg: String) {
        self.stats.failed(reason);
        self.stats.comp.error(&msg);
        if let Some(suppressed) = self.flog.failure(std::time::Instant::now()) {
            tracing::warn!(output = NAME, reason, suppressed, "{msg}; retrying");
        }
    }

    /// Hard stop: counts the open batch and whatever is still queued as `dropped{shutdown}`.
    fn abandon(&mut self, rx: &mut EventRx) {
        let n = payload::events(&self.batch.take()) + abandon_queue(rx, is_log);
        self.stats.dropped("shutdown", n);
    }
}

/// The gzip body, compressed off the async threads (a full batch is ~4 MB of JSON).
async fn encode(b: &[Entry]) -> Bytes {
    let raw = payload::json_array(b);
    match tokio::task::spawn_blocking(move || payload::gzip(&raw)).await {
        Ok(gz) => Bytes::from(gz),
        Err(_) => Bytes::from(payload::gzip(&payload::json_array(b))),
    }
}

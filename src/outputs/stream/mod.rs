//! The reconnecting line writer shared by the Datadog TCP intake and `syslog_forward`: one
//! TCP (optionally TLS) connection, dead-peer detection on the read side, reconnect with
//! back-off, and an at-least-once re-send buffer. Owns the connection and its counters
//! (`sent`, `resent`, `connects`, `retries`, `failed{reason}`, `unprotected`,
//! `dropped{resend_buffer_full|shutdown}`); must not know what a line means (framing is the
//! caller's job) and must never block forever: every wait also watches the hard-stop token.
//!
//! **Dead-peer detection.** Neither the Datadog intake nor a syslog collector ever sends data,
//! so a task keeps a read pending on each connection: EOF, an error or any data means the peer
//! is gone. The writer checks that before every write, so a connection the peer closed while
//! idle is replaced *before* a line is written into it (the classic plain-TCP loss, where the
//! first write after a FIN "succeeds" and is answered by RST).
//!
//! **Confirmation rule (why this is at least once, and why it is still unproven).** A line stays
//! in the re-send buffer until it was flushed to the current connection at least
//! `confirm_after` (2 s) ago *and* the read side has still seen no EOF, RST or error. A peer that
//! rejects data answers it with RST within one round trip, so 2 s of silence after the flush
//! rules out the close/reset races; any connection loss before that re-sends every unconfirmed
//! line, in order, on the next connection (counted `resent`), which can duplicate lines but not
//! lose them in those races. What it cannot prove: that the peer application processed a line.
//! A collector that crashes with data in its buffers, or a path that black-holes after the grace
//! (the kernel gives up after `TCP_USER_TIMEOUT`, 30 s), loses confirmed lines silently. Only
//! Datadog's HTTP 2xx proves delivery; the TCP transports are documented as "at least once,
//! unproven".
//!
//! **Counting.** Every event is counted once, so `sent + dropped` never exceeds the events the
//! output took: `sent` when first written to a connection; `dropped{resend_buffer_full}` when
//! the re-send buffer (20,000 lines / 16 MiB) overflows while it was never written (a long
//! outage); `dropped{shutdown}` when still unwritten at hard stop. An event already written that
//! leaves the buffer unconfirmed — pushed out by the limits (sustained rates above ~10,000
//! lines/s fill 2 s of confirmation window), or still waiting at hard stop — was sent, not
//! dropped: it counts in `unprotected` (a subset of `sent`: written, but no longer covered by
//! re-send should the connection turn out to have failed).

mod connect;
mod drive;
mod resend;

use std::io;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

pub use crate::config::split_host_port;
pub use connect::{tls_target, SocketOptions, Target, TlsTarget};
pub use drive::{drive, LineFormat};
pub use resend::{GivenUp, ResendBuffer};

use super::backoff::{Backoff, BackoffPolicy, FailureLog};
use crate::telemetry::{Component, Counter, Telemetry};
use connect::{io_reason, Conn};

/// The hard-stop token fired while the writer was waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// Settings of one writer. Defaults suit production; tests shorten the times.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    pub target: Target,
    pub socket: SocketOptions,
    /// How long a flushed line must go without the peer closing before it is confirmed.
    pub confirm_after: Duration,
    pub backoff: BackoffPolicy,
    pub max_lines: usize,
    pub max_bytes: usize,
}

impl StreamConfig {
    pub fn new(target: Target) -> Self {
        StreamConfig {
            target,
            socket: SocketOptions::default(),
            confirm_after: Duration::from_secs(2),
            backoff: BackoffPolicy::DEFAULT,
            max_lines: 20_000,
            max_bytes: 16 << 20,
        }
    }
}

/// The writer's counters, labelled `output=<name>`.
#[derive(Clone, Debug)]
pub struct StreamStats {
    telemetry: Telemetry,
    name: String,
    pub comp: Component,
    sent: Counter,
    resent: Counter,
    connects: Counter,
    retries: Counter,
    unprotected: Counter,
    dropped_full: Counter,
    pub dropped_shutdown: Counter,
}

impl StreamStats {
    pub fn new(t: &Telemetry, name: &str) -> Self {
        let l = [("output", name)];
        let dropped = |reason| {
            t.counter(
                "nocbox.output.dropped",
                &[("output", name), ("reason", reason)],
            )
        };
        StreamStats {
            telemetry: t.clone(),
            name: name.to_string(),
            comp: t.component(name, "output"),
            sent: t.counter("nocbox.output.sent", &l),
            resent: t.counter("nocbox.output.resent", &l),
            connects: t.counter("nocbox.output.connects", &l),
            retries: t.counter("nocbox.output.retries", &l),
            unprotected: t.counter("nocbox.output.unprotected", &l),
            dropped_full: dropped("resend_buffer_full"),
            dropped_shutdown: dropped("shutdown"),
        }
    }

    fn failed(&self, reason: &str) {
        let l = [("output", self.name.as_str()), ("reason", reason)];
        self.telemetry.counter("nocbox.output.failed", &l).inc();
    }
}

/// Writes are coalesced into chunks of this size: one TLS record per line would be wasteful.
const CHUNK: usize = 64 * 1024;

pub struct StreamWriter {
    cfg: StreamConfig,
    stats: StreamStats,
    cancel: CancellationToken,
    conn: Option<Conn>,
    buf: ResendBuffer,
    backoff: Backoff,
    flog: FailureLog,
    /// The last attempt failed or the last connection died young: wait before dialling.
    delay_next: bool,
    dialled: bool,
}

impl StreamWriter {
    pub fn new(cfg: StreamConfig, stats: StreamStats, cancel: CancellationToken) -> Self {
        stats.comp.set_detail("endpoint", cfg.target.endpoint());
        stats.comp.set_detail("connected", false);
        StreamWriter {
            buf: ResendBuffer::new(cfg.max_lines, cfg.max_bytes),
            backoff: Backoff::new(cfg.backoff),
            flog: FailureLog::new(Duration::from_secs(60)),
            cfg,
            stats,
            cancel,
            conn: None,
            delay_next: false,
            dialled: false,
        }
    }

    /// How often the caller should run `maintain`.
    pub fn tick_every(&self) -> Duration {
        (self.cfg.confirm_after / 2).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }

    /// Lines waiting for confirmation or for a connection.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Connects now (at start, so `/status` shows the state before the first line).
    pub async fn connect(&mut self) -> Result<(), Cancelled> {
        self.ensure_connected().await
    }

    /// Queues `(line, is_event)` pairs and writes everything unwritten. Returns once written
    /// (not confirmed); waits through reconnects and back-off.
    pub async fn send(
        &mut self,
        lines: impl IntoIterator<Item = (Bytes, bool)>,
    ) -> Result<(), Cancelled> {
        for (line, event) in lines {
            let gone = self.buf.push(line, event);
            if gone.lines > 0 {
                self.stats.dropped_full.add(gone.dropped as u64);
                self.stats.unprotected.add(gone.unprotected as u64);
            }
        }
        self.pump().await
    }

    /// Periodic upkeep: confirms old lines if the connection is still open, or notices that it
    /// died and re-sends what is unconfirmed.
    pub async fn maintain(&mut self) -> Result<(), Cancelled> {
        let now = Instant::now();
        if let Some(c) = self.conn.as_mut() {
            match c.check() {
                None => {
                    self.buf.confirm(now, self.cfg.confirm_after);
                    if now.duration_since(c.opened) >= self.cfg.confirm_after {
                        self.backoff.reset();
                    }
                }
                Some(g) => self.lose_connection(g.reason(), &g.describe()),
            }
        }
        self.pump().await
    }

    /// Graceful end: keeps re-sending until every line is confirmed, then closes politely.
    pub async fn finish(&mut self) -> Result<(), Cancelled> {
        loop {
            self.maintain().await?;
            if self.buf.is_empty() {
                break;
            }
            if let Some(at) = self.buf.next_confirm_at(self.cfg.confirm_after) {
                sleep_until(&self.cancel, at).await?;
            }
        }
        if let Some(mut c) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.w.shutdown()).await;
        }
        self.stats.comp.set_detail("connected", false);
        Ok(())
    }

    /// Hard stop: gives up the buffer. Events never written count as `dropped{shutdown}` (the
    /// returned number); events written but unconfirmed were sent (counted `sent` when written,
    /// on this connection or an earlier one) and count as `unprotected`, not as dropped.
    pub fn abandon(&mut self) -> usize {
        let gone = self.buf.abandon();
        self.stats.dropped_shutdown.add(gone.dropped as u64);
        self.stats.unprotected.add(gone.unprotected as u64);
        self.conn = None;
        self.stats.comp.set_detail("connected", false);
        gone.dropped
    }

    async fn pump(&mut self) -> Result<(), Cancelled> {
        while self.buf.has_unwritten() {
            self.ensure_connected().await?;
            let lines: Vec<Bytes> = self.buf.unwritten().cloned().collect();
            match self.write_lines(&lines).await? {
                Ok(()) => {
                    let w = self.buf.mark_written(lines.len(), Instant::now());
                    self.stats.sent.add(w.first_events as u64);
                    self.stats.resent.add(w.resent as u64);
                    self.on_success();
                }
                Err(e) => {
                    let reason = io_reason(&e);
                    self.lose_connection(reason, &format!("write failed: {e}"));
                }
            }
        }
        Ok(())
    }

    async fn write_lines(&mut self, lines: &[Bytes]) -> Result<io::Result<()>, Cancelled> {
        let limit = self.cfg.socket.user_timeout + Duration::from_secs(5);
        let Some(c) = self.conn.as_mut() else {
            return Ok(Err(io::ErrorKind::NotConnected.into()));
        };
        let write = async {
            for chunk in chunks(lines) {
                match tokio::time::timeout(limit, c.w.write_all(&chunk)).await {
                    Ok(r) => r?,
                    Err(_) => return Err(io::ErrorKind::TimedOut.into()),
                }
            }
            match tokio::time::timeout(limit, c.w.flush()).await {
                Ok(r) => r,
                Err(_) => Err(io::ErrorKind::TimedOut.into()),
            }
        };
        tokio::select! {
            r = write => Ok(r),
            _ = self.cancel.cancelled() => Err(Cancelled),
        }
    }

    async fn ensure_connected(&mut self) -> Result<(), Cancelled> {
        if let Some(g) = self.conn.as_mut().map(|c| c.check()) {
            match g {
                None => return Ok(()),
                Some(g) => self.lose_connection(g.reason(), &g.describe()),
            }
        }
        loop {
            if self.delay_next {
                let d = self.backoff.next_delay(fastrand::f64());
                sleep_until(&self.cancel, Instant::now() + d).await?;
            }
            if self.dialled {
                self.stats.retries.inc();
            }
            self.dialled = true;
            let dial = connect::dial(&self.cfg.target, &self.cfg.socket);
            let res = tokio::select! {
                r = dial => r,
                _ = self.cancel.cancelled() => return Err(Cancelled),
            };
            match res {
                Ok(io) => {
                    self.conn = Some(Conn::new(io));
                    self.stats.connects.inc();
                    self.stats.comp.set_detail("connected", true);
                    tracing::debug!(
                        output = %self.stats.name,
                        endpoint = %self.cfg.target.endpoint(),
                        "connected"
                    );
                    return Ok(());
                }
                Err(e) => {
                    self.delay_next = true;
                    self.failure(e.reason(), &e.to_string());
                }
            }
        }
    }

    /// Drops the connection; every unconfirmed line will be re-sent on the next one.
    fn lose_connection(&mut self, reason: &str, what: &str) {
        let Some(c) = self.conn.take() else { return };
        // A connection that lived past the grace was healthy (an idle close, a collector
        // restart): reconnect at once. One that died young means trouble: back off.
        if c.opened.elapsed() >= self.cfg.confirm_after {
            self.backoff.reset();
            self.delay_next = false;
        } else {
            self.delay_next = true;
        }
        self.buf.connection_lost();
        self.stats.comp.set_detail("connected", false);
        let msg = format!("{}: {what}", self.cfg.target.endpoint());
        self.failure(reason, &msg);
    }

    fn failure(&mut self, reason: &str, msg: &str) {
        self.stats.failed(reason);
        self.stats.comp.error(msg);
        if let Some(suppressed) = self.flog.failure(Instant::now()) {
            tracing::warn!(output = %self.stats.name, reason, suppressed, "{msg}");
        }
    }

    fn on_success(&mut self) {
        self.stats.comp.success();
        if let Some(d) = self.flog.success(Instant::now()) {
            tracing::info!(output = %self.stats.name, endpoint = %self.cfg.target.endpoint(),
                "writing again after {} s of failures", d.as_secs());
        }
    }
}

/// Sleeps until `at` unless `cancel` fires first.
async fn sleep_until(cancel: &CancellationToken, at: Instant) -> Result<(), Cancelled> {
    tokio::select! {
        _ = tokio::time::sleep_until(at.into()) => Ok(()),
        _ = cancel.cancelled() => Err(Cancelled),
    }
}

/// Concatenates lines into chunks of about `CHUNK` bytes.
fn chunks(lines: &[Bytes]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut cur = BytesMut::new();
    for l in lines {
        if !cur.is_empty() && cur.len() + l.len() > CHUNK {
            out.push(cur.split().freeze());
        }
        cur.extend_from_slice(l);
    }
    if !cur.is_empty() {
        out.push(cur.freeze());
    }
    out
}

#[cfg(test)]
mod tests;

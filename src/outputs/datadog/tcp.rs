//! The Datadog TCP+TLS log intake: each record as `<API_KEY> <JSON object>\n` through the shared
//! reconnecting writer (`outputs::stream`), with marks keeping the connection from idling.
//! JSON (not raw text) so the intake parses the attributes exactly as on HTTP. Owns only the
//! framing and the marks; connection handling, re-send and the delivery caveats (at least once,
//! unproven) are the stream module's.

use bytes::{BufMut, Bytes, BytesMut};

use super::http::NAME;
use super::{mark, payload};
use crate::event::LogRecord;
use crate::outputs::stream::{self, LineFormat, StreamConfig, StreamStats, StreamWriter};
use crate::outputs::OutputContext;
use crate::pipeline::EventRx;
use crate::telemetry::{Counter, Telemetry};

/// Frames records for the TCP intake.
struct DdLines {
    key: String,
    hostname: String,
    tags: Vec<String>,
    marks: Counter,
    too_large: Counter,
}

/// `<key> <json>\n` (the result holds the key: never log or `Debug` it). serde_json escapes newlines, so the JSON never breaks the line framing.
pub(super) fn frame(key: &str, json: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(key.len() + json.len() + 2);
    b.put_slice(key.as_bytes());
    b.put_u8(b' ');
    b.put_slice(json);
    b.put_u8(b'\n');
    b.freeze()
}

/// Never shows the key: counts and lengths only.
impl std::fmt::Debug for DdLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DdLines")
            .field("key", &"<redacted>")
            .field("hostname", &self.hostname)
            .field("tags", &self.tags.len())
            .finish_non_exhaustive()
    }
}

impl DdLines {
    fn new(key: String, ctx: &OutputContext) -> Self {
        let t: &Telemetry = &ctx.telemetry;
        DdLines {
            key,
            hostname: ctx.hostname.clone(),
            tags: ctx.tags.clone(),
            marks: t.counter("nocbox.output.marks", &[("output", NAME)]),
            too_large: t.counter(
                "nocbox.output.dropped",
                &[("output", NAME), ("reason", "too_large")],
            ),
        }
    }

    fn encode(&self, rec: &LogRecord, is_mark: bool) -> Option<Bytes> {
        match payload::entry(rec, is_mark, payload::MAX_ENTRY) {
            Ok(e) => Some(frame(&self.key, &e.json)),
            Err(payload::TooLarge(n)) => {
                self.too_large.add(u64::from(!is_mark));
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

impl LineFormat for DdLines {
    fn line(&mut self, rec: &LogRecord) -> Option<Bytes> {
        self.encode(rec, false)
    }

    fn mark(&mut self) -> Option<Bytes> {
        self.marks.inc();
        let r = mark::record(&self.hostname, &self.tags, NAME, chrono::Utc::now());
        self.encode(&r, true)
    }
}

pub(super) async fn run(
    cfg: StreamConfig,
    api_key: String,
    mark_interval: std::time::Duration,
    rx: EventRx,
    ctx: OutputContext,
) {
    let stats = StreamStats::new(&ctx.telemetry, NAME);
    stats.comp.set_healthy(true);
    let w = StreamWriter::new(cfg, stats, ctx.hard_stop.clone());
    let lines = DdLines::new(api_key, &ctx);
    stream::drive(
        w,
        rx,
        ctx.hard_stop.clone(),
        lines,
        mark::ticker(mark_interval),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;

    #[test]
    fn frame_and_debug() {
        assert_eq!(&frame("K", b"{}")[..], b"K {}\n");
        let ctx = OutputContext {
            telemetry: Telemetry::new(),
            hard_stop: CancellationToken::new(),
            hostname: "h".into(),
            tags: vec![],
        };
        let d = format!("{:?}", DdLines::new("SECRETKEY".into(), &ctx));
        assert!(!d.contains("SECRETKEY"), "{d}");
        assert!(d.contains("<redacted>"), "{d}");
    }
}

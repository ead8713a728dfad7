//! Pure pieces of the Datadog log intake: one record's JSON (truncated to Datadog's per-log
//! limit), batches within the request limits, the gzip body, and what a response status means.
//! No IO, no clock.
//!
//! Oversized logs: Datadog truncates a log over 1 MB itself and still answers 2xx, but a record
//! that big could push a request over 5 MB. So a record whose JSON exceeds `MAX_ENTRY` has its
//! `message` cut (on a character boundary) until it fits, and gets the attributes
//! `nocbox.truncated: true` and `nocbox.message_bytes: <original length>` so the cut is
//! searchable. Only a record that is too large *without* its message (huge attributes) is
//! dropped, counted as `dropped{reason="too_large"}`.

use std::io::Write;

use serde_json::{Map, Value};

use crate::event::LogRecord;

/// Datadog: at most 1000 logs per request.
pub const MAX_ENTRIES: usize = 1000;
/// Datadog: at most 5,000,000 bytes uncompressed per request.
pub const MAX_PAYLOAD: usize = 5_000_000;
/// Where a batch is cut: a margin under `MAX_PAYLOAD`, as Vector does.
pub const BATCH_GOAL: usize = 4_250_000;
/// Datadog: at most 1 MB per log.
pub const MAX_ENTRY: usize = 1_000_000;

/// One serialised log object.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub json: Vec<u8>,
    /// A mark made by the output itself: counted in `marks`, not in `sent`/`dropped`.
    pub mark: bool,
}

/// The record cannot be made to fit `MAX_ENTRY`.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge(pub usize);

fn to_bytes(m: &Map<String, Value>) -> Vec<u8> {
    // Serialising a `Value` into a Vec cannot fail (string keys, finite numbers).
    serde_json::to_vec(m).unwrap_or_default()
}

/// The intake object of `rec`, cut to at most `max` bytes of JSON.
pub fn entry(rec: &LogRecord, mark: bool, max: usize) -> Result<Entry, TooLarge> {
    let mut json = Vec::with_capacity(512 + rec.message.len());
    rec.write_json(&mut json, None);
    if json.len() <= max {
        return Ok(Entry { json, mark });
    }
    // Too large: rebuild with a cut message (rare, so the copy does not matter here).
    let mut obj = rec.to_json();
    let msg_len = escaped_len(&rec.message);
    // Room for the message once the marker attributes are added (with some slack).
    let rest = json.len() - msg_len + 80;
    let Some(budget) = max.checked_sub(rest) else {
        return Err(TooLarge(json.len()));
    };
    let cut = prefix_within(&rec.message, budget);
    obj.insert("message".into(), Value::String(cut.to_string()));
    let marker = obj
        .entry("nocbox")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = marker {
        m.insert("truncated".into(), Value::Bool(true));
        m.insert("message_bytes".into(), Value::from(rec.message.len()));
    }
    let json = to_bytes(&obj);
    if json.len() > max {
        return Err(TooLarge(json.len()));
    }
    Ok(Entry { json, mark })
}

/// Bytes `c` takes inside a JSON string as serde_json writes it.
fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

fn escaped_len(s: &str) -> usize {
    s.chars().map(escaped_char_len).sum()
}

/// The longest prefix of `s` whose escaped form fits `budget` bytes.
fn prefix_within(s: &str, budget: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += escaped_char_len(c);
        if used > budget {
            return &s[..i];
        }
    }
    s
}

/// Entries collected for one request. `Debug` shows counts only, never the logs.
pub struct Batcher {
    entries: Vec<Entry>,
    /// Sum of the entries' JSON lengths.
    bytes: usize,
    max_entries: usize,
    goal: usize,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("entries", &self.entries.len())
            .field("bytes", &self.bytes)
            .field("max_entries", &self.max_entries)
            .field("goal", &self.goal)
            .finish()
    }
}

impl Default for Batcher {
    fn default() -> Self {
        Batcher::new(MAX_ENTRIES, BATCH_GOAL)
    }
}

impl Batcher {
    pub fn new(max_entries: usize, goal: usize) -> Self {
        Batcher {
            entries: Vec::new(),
            bytes: 0,
            max_entries: max_entries.max(1),
            goal,
        }
    }

    /// Whether `e` can join this batch; an empty batch takes any entry (entries are already
    /// cut to `MAX_ENTRY`, far below the goal).
    pub fn fits(&self, e: &Entry) -> bool {
        let n = self.entries.len();
        n == 0 || (n < self.max_entries && array_len(n + 1, self.bytes + e.json.len()) <= self.goal)
    }

    pub fn push(&mut self, e: Entry) {
        self.bytes += e.json.len();
        self.entries.push(e);
    }

    /// No further entry can be added.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max_entries || self.body_len() >= self.goal
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Length of the JSON array the batch becomes.
    pub fn body_len(&self) -> usize {
        array_len(self.entries.len(), self.bytes)
    }

    pub fn take(&mut self) -> Vec<Entry> {
        self.bytes = 0;
        std::mem::take(&mut self.entries)
    }
}

/// `[a,b,c]`: brackets plus a comma between entries.
fn array_len(n: usize, bytes: usize) -> usize {
    2 + bytes + n.saturating_sub(1)
}

/// Pipeline events (not marks) among `entries`.
pub fn events(entries: &[Entry]) -> usize {
    entries.iter().filter(|e| !e.mark).count()
}

/// The uncompressed request body: a JSON array of the entries.
pub fn json_array(entries: &[Entry]) -> Vec<u8> {
    let total: usize = entries.iter().map(|e| e.json.len()).sum();
    let mut out = Vec::with_capacity(array_len(entries.len(), total));
    out.push(b'[');
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&e.json);
    }
    out.push(b']');
    out
}

pub fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(raw);
    enc.finish().unwrap_or_default()
}

/// What to do after a response (Datadog's documented policy, see reference/datadog.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: delivered; never send this batch again.
    Sent,
    /// Retry the same batch after back-off; the label is the `failed{reason}`.
    Retry(&'static str),
    /// 401/403: the key is wrong; hold the batch and retry with the long back-off.
    BadKey,
    /// 400: the payload itself is refused; drop the batch.
    Reject,
    /// 413: split the batch in halves (a single log is dropped).
    Split,
}

pub fn classify(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Sent,
        400 => Verdict::Reject,
        401 | 403 => Verdict::BadKey,
        408 => Verdict::Retry("http_408"),
        413 => Verdict::Split,
        429 => Verdict::Retry("http_429"),
        500..=599 => Verdict::Retry("http_5xx"),
        s if (400..500).contains(&s) => Verdict::Retry("http_4xx"),
        // 1xx/3xx: nothing Datadog sends (redirects are not followed); retry, it is visible.
        _ => Verdict::Retry("http_other"),
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;

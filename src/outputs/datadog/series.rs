//! Pure pieces of the series API v2 (reference/datadog.md §4): one metric point's series, batches
//! that stay within the request limits, and the JSON body. No IO, no clock (`now` is passed in).
//!
//! Points of the same series (same metric, type, interval, host and tag set) in one batch become
//! one series element with several points, which is what the API is for; every point is sent.
//! A batch is cut before its body would pass `Limits::goal` bytes (a margin under the API's
//! 5,242,880) or `Limits::max_points`; the compressed limit (512,000 bytes) can only be known
//! after gzip, so the sender splits a batch whose gzip body is over it before sending it.
//! A single point whose series element alone cannot fit is dropped and counted `too_large`.

use std::collections::HashMap;
use std::io::Write;

use crate::event::MetricRecord;

/// The API refuses a request body of 5,242,880 bytes or more, uncompressed.
pub const MAX_UNCOMPRESSED: usize = 5_242_880;
/// The API refuses a request body over 512,000 bytes, compressed.
pub const MAX_COMPRESSED: usize = 512_000;
/// The API ignores points more than 1 h in the past ...
pub const MAX_AGE_SECS: i64 = 3600;
/// ... or more than 10 min in the future.
pub const MAX_AHEAD_SECS: i64 = 600;

/// `{"series":[` + `]}`.
const ENVELOPE: usize = 13;

/// Where batches are cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Uncompressed body size a batch stays within.
    pub goal: usize,
    /// Points per request. With a few hundred bytes per point of JSON that compresses about
    /// tenfold, 10,000 points keep a request well under the compressed limit, so splitting
    /// after gzip stays the exception.
    pub max_points: usize,
    /// Largest gzip body sent (the sender splits a larger one).
    pub max_compressed: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            goal: 4_000_000,
            max_points: 10_000,
            max_compressed: MAX_COMPRESSED,
        }
    }
}

/// Why a point is not sent; the `dropped{reason}` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsendable {
    /// NaN or infinite: JSON has no spelling for it (it would become `null` and fail the batch).
    InvalidValue,
    /// An empty metric name.
    InvalidName,
    /// Older than the API accepts.
    TooOld,
    /// Further ahead than the API accepts (a wrong clock).
    TooNew,
    /// Its series element alone is over the size limit (giant tags).
    TooLarge,
}

impl Unsendable {
    pub fn reason(self) -> &'static str {
        match self {
            Unsendable::InvalidValue => "invalid_value",
            Unsendable::InvalidName => "invalid_name",
            Unsendable::TooOld => "too_old",
            Unsendable::TooNew => "too_new",
            Unsendable::TooLarge => "too_large",
        }
    }
}

/// What makes two points the same series.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    metric: String,
    kind: u8,
    interval: Option<u64>,
    host: Option<String>,
    /// Sorted and without repeats: Datadog treats tags as a set.
    tags: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    timestamp: i64,
    value: f64,
}

impl Point {
    fn write(&self, out: &mut Vec<u8>) {
        let _ = write!(out, "{{\"timestamp\":{},\"value\":", self.timestamp);
        // A finite f64 always serialises (checked in `point`).
        let _ = serde_json::to_writer(&mut *out, &self.value);
        out.push(b'}');
    }
    fn len(&self) -> usize {
        let mut v = Vec::with_capacity(48);
        self.write(&mut v);
        v.len()
    }
}

/// One metric event, ready to join a batch.
#[derive(Clone, Debug)]
pub struct SeriesPoint {
    key: Key,
    /// The series element up to its points: `{"metric":…,"points":[`.
    head: Vec<u8>,
    point: Point,
    point_len: usize,
}

/// The point of `m` for a batch, or why it cannot be sent at `now` (Unix seconds).
pub fn point(m: &MetricRecord, now: i64) -> Result<SeriesPoint, Unsendable> {
    if !m.value.is_finite() {
        return Err(Unsendable::InvalidValue);
    }
    if m.metric.is_empty() {
        return Err(Unsendable::InvalidName);
    }
    if m.timestamp < now - MAX_AGE_SECS {
        return Err(Unsendable::TooOld);
    }
    if m.timestamp > now + MAX_AHEAD_SECS {
        return Err(Unsendable::TooNew);
    }
    let mut tags = m.tags.clone();
    tags.sort();
    tags.dedup();
    let key = Key {
        metric: m.metric.clone(),
        kind: m.kind as u8,
        interval: m.interval,
        host: m.host.clone(),
        tags,
    };
    let head = head(&key);
    let point = Point {
        timestamp: m.timestamp,
        value: m.value,
    };
    let point_len = point.len();
    if ENVELOPE + head.len() + point_len + 2 >= MAX_UNCOMPRESSED {
        return Err(Unsendable::TooLarge);
    }
    Ok(SeriesPoint {
        key,
        head,
        point,
        point_len,
    })
}

fn head(k: &Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + k.tags.iter().map(|t| t.len() + 3).sum::<usize>());
    // Serialising strings and string lists into a Vec cannot fail.
    out.extend_from_slice(b"{\"metric\":");
    let _ = serde_json::to_writer(&mut out, &k.metric);
    let _ = write!(out, ",\"type\":{}", k.kind);
    if let Some(i) = k.interval {
        let _ = write!(out, ",\"interval\":{i}");
    }
    out.extend_from_slice(b",\"tags\":");
    let _ = serde_json::to_writer(&mut out, &k.tags);
    if let Some(h) = &k.host {
        out.extend_from_slice(b",\"resources\":[{\"name\":");
        let _ = serde_json::to_writer(&mut out, h);
        out.extend_from_slice(b",\"type\":\"host\"}]");
    }
    out.extend_from_slice(b",\"points\":[");
    out
}

/// One series element being built.
#[derive(Clone, Debug)]
struct Series {
    head: Vec<u8>,
    points: Vec<Point>,
    /// Sum of the points' JSON lengths.
    points_len: usize,
}

impl Series {
    /// Length of the element as JSON: head, points with commas, `]}`.
    fn len(&self) -> usize {
        self.head.len() + self.points_len + self.points.len().saturating_sub(1) + 2
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        for (i, p) in self.points.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            p.write(out);
        }
        out.extend_from_slice(b"]}");
    }
    fn with_points(&self, points: Vec<Point>) -> Series {
        let points_len = points.iter().map(Point::len).sum();
        Series {
            head: self.head.clone(),
            points,
            points_len,
        }
    }
}

/// Points collected for one request. `Debug` shows counts only.
#[derive(Default)]
pub struct SeriesBatch {
    series: Vec<Series>,
    /// Where each series of the open batch is; empty in split halves, which take no more points.
    index: HashMap<Key, usize>,
    /// Sum of the series elements' lengths.
    bytes: usize,
    points: usize,
}

impl std::fmt::Debug for SeriesBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesBatch")
            .field("series", &self.series.len())
            .field("points", &self.points)
            .field("bytes", &self.body_len())
            .finish()
    }
}

impl SeriesBatch {
    fn from_series(series: Vec<Series>) -> SeriesBatch {
        SeriesBatch {
            bytes: series.iter().map(Series::len).sum(),
            points: series.iter().map(|s| s.points.len()).sum(),
            series,
            index: HashMap::new(),
        }
    }

    /// Bytes the series elements grow by when `p` joins: a point and its comma, or a new
    /// element.
    fn element_growth(&self, p: &SeriesPoint) -> usize {
        if self.index.contains_key(&p.key) {
            p.point_len + 1
        } else {
            p.head.len() + p.point_len + 2
        }
    }

    /// Bytes the body grows by when `p` joins (a new element after another needs a comma).
    fn growth(&self, p: &SeriesPoint) -> usize {
        let comma = !self.series.is_empty() && !self.index.contains_key(&p.key);
        self.element_growth(p) + usize::from(comma)
    }

    /// Whether `p` can join without passing `limits` (an empty batch takes any point: `point`
    /// has already refused one that could never fit).
    pub fn fits(&self, p: &SeriesPoint, limits: &Limits) -> bool {
        self.points == 0
            || (self.points < limits.max_points && self.body_len() + self.growth(p) <= limits.goal)
    }

    pub fn push(&mut self, p: SeriesPoint) {
        self.bytes += self.element_growth(&p);
        self.points += 1;
        match self.index.get(&p.key) {
            Some(&i) => {
                let s = &mut self.series[i];
                s.points.push(p.point);
                s.points_len += p.point_len;
            }
            None => {
                self.index.insert(p.key, self.series.len());
                self.series.push(Series {
                    head: p.head,
                    points: vec![p.point],
                    points_len: p.point_len,
                });
            }
        }
    }

    pub fn is_full(&self, limits: &Limits) -> bool {
        self.points >= limits.max_points || self.body_len() >= limits.goal
    }

    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// Points in the batch.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Series elements in the batch.
    #[cfg(test)]
    pub fn series(&self) -> usize {
        self.series.len()
    }

    /// Length of the body this batch becomes.
    pub fn body_len(&self) -> usize {
        ENVELOPE + self.bytes + self.series.len().saturating_sub(1)
    }

    pub fn take(&mut self) -> SeriesBatch {
        std::mem::take(self)
    }

    /// The uncompressed request body: `{"series":[…]}`.
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body_len());
        out.extend_from_slice(b"{\"series\":[");
        for (i, s) in self.series.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            s.write(&mut out);
        }
        out.extend_from_slice(b"]}");
        out
    }

    /// Halves by series; a single series by its points; `Err` for a single point.
    pub fn split(mut self) -> Result<(SeriesBatch, SeriesBatch), SeriesBatch> {
        if self.series.len() > 1 {
            let second = self.series.split_off(self.series.len() / 2);
            return Ok((Self::from_series(self.series), Self::from_series(second)));
        }
        let Some(only) = self.series.first().filter(|s| s.points.len() > 1) else {
            return Err(self);
        };
        let mut first = only.points.clone();
        let second = first.split_off(first.len() / 2);
        let (a, b) = (only.with_points(first), only.with_points(second));
        Ok((Self::from_series(vec![a]), Self::from_series(vec![b])))
    }

    /// Removes the points older than the API accepts at `now`; returns how many. For a batch
    /// being retried: the result takes no more points.
    pub fn expire(&mut self, now: i64) -> usize {
        let oldest = now - MAX_AGE_SECS;
        let old = |p: &Point| p.timestamp < oldest;
        if !self.series.iter().any(|s| s.points.iter().any(old)) {
            return 0;
        }
        let before = self.points;
        let mut series = std::mem::take(&mut self.series);
        for s in &mut series {
            s.points.retain(|p| !old(p));
            s.points_len = s.points.iter().map(Point::len).sum();
        }
        series.retain(|s| !s.points.is_empty());
        *self = Self::from_series(series);
        before - self.points
    }
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;

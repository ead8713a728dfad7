//! The latest value of every series seen in metric events, under Prometheus naming rules, and
//! its text exposition. Pure: the caller passes the clock reading; no IO, no locks.
//!
//! Mapping (the README's "Prometheus" section says the same):
//! - name: the metric name with every character outside `[a-zA-Z0-9_:]` replaced by `_`
//!   (`networkdevice.ping.avg_rtt` → `networkdevice_ping_avg_rtt`), `_` in front of a leading
//!   digit. Names starting `nocbox_` belong to nocbox's own metrics and are refused.
//! - type: a Datadog gauge is a Prometheus `gauge`. A rate (a per-second value over the interval)
//!   is also a `gauge`: Prometheus has no rate type. A count (the number of events in one
//!   interval) is accumulated into a Prometheus `counter` named `<name>_total`, so
//!   `rate()`/`increase()` work and no interval is lost between scrapes; it starts at zero
//!   when nocbox starts or when the series comes back after being stale, which Prometheus
//!   treats as a counter reset.
//! - labels: a `key:value` tag becomes the label `key="value"` (split at the first `:`, the key
//!   made a valid label name); a tag without `:` such as `critical` becomes `critical="true"`
//!   (an empty value would be the same as no label to Prometheus); the host resource becomes `host`. Tags with the same
//!   key (Datadog allows them) become one label with the values sorted and joined by `,`.
//! - staleness: a series not updated for `max(stale_after, 3 × its interval)` is removed.
//! - cap: at most `max_series` series; a point of a further new series is refused.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use crate::event::{MetricRecord, MetricType};
use crate::telemetry::prometheus::{escape, label_name, sanitize};

/// Why a point was not taken; the `dropped{reason}` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The store holds `max_series` series already.
    MaxSeries,
    /// The family exists with the other type (a count and a gauge with clashing names).
    TypeConflict,
    /// The name is one of nocbox's own (`nocbox_*`), shown from telemetry.
    ReservedName,
    /// Nothing is left of the name (empty).
    InvalidName,
}

impl Refused {
    pub fn reason(self) -> &'static str {
        match self {
            Refused::MaxSeries => "max_series",
            Refused::TypeConflict => "type_conflict",
            Refused::ReservedName => "reserved_name",
            Refused::InvalidName => "invalid_name",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

#[derive(Clone, Debug)]
struct Sample {
    value: f64,
    updated: Instant,
    /// How long the series lives without an update.
    keep_for: Duration,
}

#[derive(Clone, Debug)]
struct Family {
    kind: Kind,
    /// Keyed by the rendered label set (`{a="1",b="2"}`, sorted by label name).
    series: BTreeMap<String, Sample>,
}

/// Every series, by family name.
#[derive(Debug)]
pub struct Store {
    families: BTreeMap<String, Family>,
    len: usize,
    max_series: usize,
    stale_after: Duration,
    /// A held series' family name, type and rendered labels, by a hash of its point's name,
    /// type, tags and host: the same series arrives every poll, and rendering its labels (split,
    /// sanitize, sort, escape) was most of the output's CPU with SNMP polling
    /// (docs/PERFORMANCE.md). Holds only series the store holds (`expire` prunes it).
    names: HashMap<u64, (String, Kind, String)>,
    /// Series refused for the cap, by the same hash, until something expires.
    refused: HashSet<u64>,
}

/// A point's series identity, hashed without allocating.
fn series_hash(m: &MetricRecord) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.metric.hash(&mut h);
    (m.kind as u8).hash(&mut h);
    m.tags.hash(&mut h);
    m.host.hash(&mut h);
    h.finish()
}

/// The family name and type of a metric.
fn family_of(m: &MetricRecord) -> Result<(String, Kind), Refused> {
    let base = sanitize(&m.metric);
    if base.is_empty() {
        return Err(Refused::InvalidName);
    }
    if base.starts_with("nocbox_") {
        return Err(Refused::ReservedName);
    }
    Ok(match m.kind {
        MetricType::Gauge | MetricType::Rate => (base, Kind::Gauge),
        MetricType::Count if base.ends_with("_total") => (base, Kind::Counter),
        MetricType::Count => (format!("{base}_total"), Kind::Counter),
    })
}

/// The label set of a point, rendered: `{host="sw1",interface="Gi1/0/1"}`, or empty.
pub fn labels(tags: &[String], host: Option<&str>) -> String {
    let mut by_name: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for t in tags {
        let (k, v) = t.split_once(':').unwrap_or((t.as_str(), "true"));
        by_name.entry(label_name(k)).or_default().push(v);
    }
    if let Some(h) = host {
        by_name.entry("host".into()).or_default().push(h);
    }
    if by_name.is_empty() {
        return String::new();
    }
    let mut out = String::from("{");
    for (i, (k, mut vs)) in by_name.into_iter().enumerate() {
        vs.sort_unstable();
        vs.dedup();
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{}\"", escape(&vs.join(",")));
    }
    out.push('}');
    out
}

/// A sample value as Prometheus writes it: `1`, `0.002`, `1e+300`, `NaN`, `+Inf`, `-Inf`.
#[cfg(test)]
pub fn value(v: f64) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// [`value`], appended to `out` without allocating.
fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == v.trunc() && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        // Shortest round-trip form; exponent for very large or small values.
        match serde_json::to_string(&v) {
            Ok(t) => out.push_str(&t),
            Err(_) => out.push_str("NaN"),
        }
    }
}

impl Store {
    pub fn new(max_series: usize, stale_after: Duration) -> Self {
        Store {
            families: BTreeMap::new(),
            len: 0,
            max_series,
            stale_after,
            names: HashMap::new(),
            refused: HashSet::new(),
        }
    }

    /// Series held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes one point received at `now`.
    pub fn apply(&mut self, m: &MetricRecord, now: Instant) -> Result<(), Refused> {
        let key = series_hash(m);
        if self.refused.contains(&key) {
            return Err(Refused::MaxSeries);
        }
        if !self.names.contains_key(&key) {
            let (name, kind) = family_of(m)?;
            let labels = labels(&m.tags, m.host.as_deref());
            let exists = match self.families.get(&name) {
                Some(f) if f.kind != kind => return Err(Refused::TypeConflict),
                Some(f) => f.series.contains_key(&labels),
                None => false,
            };
            if !exists && self.len >= self.max_series {
                // Remembered, so the next point of this series is refused without rendering
                // its labels again (bounded: past that, refusals just cost more).
                if self.refused.len() < self.max_series.saturating_mul(4) {
                    self.refused.insert(key);
                }
                return Err(Refused::MaxSeries);
            }
            self.names.insert(key, (name, kind, labels));
        }
        let Some((name, kind, labels)) = self.names.get(&key) else {
            return Err(Refused::InvalidName);
        };
        let kind = *kind;
        let keep_for = m.interval.map_or(self.stale_after, |i| {
            self.stale_after
                .max(Duration::from_secs(i.saturating_mul(3)))
        });
        let full = self.len >= self.max_series;
        let fam = match self.families.get_mut(name.as_str()) {
            Some(f) if f.kind != kind => return Err(Refused::TypeConflict),
            Some(f) => f,
            None if full => return Err(Refused::MaxSeries),
            None => self.families.entry(name.clone()).or_insert_with(|| Family {
                kind,
                series: BTreeMap::new(),
            }),
        };
        match fam.series.get_mut(labels.as_str()) {
            Some(s) => {
                s.value = match kind {
                    Kind::Counter => s.value + m.value,
                    Kind::Gauge => m.value,
                };
                s.updated = now;
                s.keep_for = keep_for;
            }
            None if full => return Err(Refused::MaxSeries),
            None => {
                fam.series.insert(
                    labels.clone(),
                    Sample {
                        value: m.value,
                        updated: now,
                        keep_for,
                    },
                );
                self.len += 1;
            }
        }
        Ok(())
    }

    /// Removes the series not updated in time; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.len;
        self.families.retain(|_, f| {
            f.series
                .retain(|_, s| now.saturating_duration_since(s.updated) < s.keep_for);
            !f.series.is_empty()
        });
        self.len = self.families.values().map(|f| f.series.len()).sum();
        let gone = before - self.len;
        if gone > 0 {
            // The cache names only series that exist; refused series may fit now.
            let families = &self.families;
            self.names.retain(|_, (name, _, labels)| {
                families
                    .get(name.as_str())
                    .is_some_and(|f| f.series.contains_key(labels.as_str()))
            });
            self.refused.clear();
        }
        gone
    }

    /// The text exposition: per family a `# TYPE` line, then its series.
    pub fn render(&self) -> String {
        let size: usize = self
            .families
            .iter()
            .map(|(name, f)| {
                32 + name.len()
                    + f.series
                        .keys()
                        .map(|l| name.len() + l.len() + 26)
                        .sum::<usize>()
            })
            .sum();
        let mut out = String::with_capacity(size);
        for (name, f) in &self.families {
            let _ = writeln!(out, "# TYPE {name} {}", f.kind.as_str());
            for (labels, s) in &f.series {
                out.push_str(name);
                out.push_str(labels);
                out.push(' ');
                write_value(&mut out, s.value);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;

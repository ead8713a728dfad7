//! The one pipeline item. Inputs build `Event`s; outputs serialise them. Nothing here does IO.
//!
//! A log record serialises to exactly the JSON object that is sent to the Datadog log intake
//! (and, with `"kind": "log"` added, written by the stdout output). Dotted attribute names from
//! PRODUCT.md (`network.client.ip`, `syslog.hostname`, ...) are nested objects, which is how
//! Datadog names attribute paths.

use std::borrow::Cow;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::json;
use crate::proto::syslog::{StructuredData, Vendor};
use crate::small_str::SmallStr;

/// Datadog's status words, in syslog severity order (0 = emerg).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Emerg,
    Alert,
    Critical,
    Error,
    Warn,
    Notice,
    Info,
    Debug,
}

impl Status {
    /// Maps a syslog severity (0..=7); anything else is `Info`.
    pub fn from_severity(sev: u8) -> Status {
        match sev {
            0 => Status::Emerg,
            1 => Status::Alert,
            2 => Status::Critical,
            3 => Status::Error,
            4 => Status::Warn,
            5 => Status::Notice,
            6 => Status::Info,
            _ => Status::Debug,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Emerg => "emerg",
            Status::Alert => "alert",
            Status::Critical => "critical",
            Status::Error => "error",
            Status::Warn => "warn",
            Status::Notice => "notice",
            Status::Info => "info",
            Status::Debug => "debug",
        }
    }

    /// Syslog severity number of this status.
    pub fn severity(self) -> u8 {
        self as u8
    }
}

/// A log record: syslog lines, traps, marks, the service's own notices.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    pub message: String,
    pub hostname: SmallStr,
    pub ddsource: Cow<'static, str>,
    pub service: SmallStr,
    pub status: Status,
    /// Tags as `key:value` strings; serialised comma-joined as `ddtags`.
    pub tags: Tags,
    pub timestamp: DateTime<Utc>,
    /// The sender's address (`network.client.ip`); `None` for records nocbox makes itself.
    pub client_ip: Option<IpAddr>,
    /// The `syslog` attribute object of a received syslog line, kept typed: it is written
    /// straight to JSON, and outputs that speak syslog read its fields. Wins over an attribute
    /// named `syslog`.
    pub syslog: Option<SyslogFields>,
    /// The vendor object of a received syslog line (`cisco` or `junos`), kept typed like
    /// `syslog` and written at its key's place. Wins over an attribute of the same name.
    pub vendor: Vendor,
    /// Further attributes (the `nocbox` object of mark records, ...), merged into the top-level
    /// object.
    pub attributes: Map<String, Value>,
    /// More attributes, already serialized as the members of a JSON object (`"a":1,"b":[2]`,
    /// without braces), for inputs whose records carry many small values (traps): written
    /// as they are, which saves the many small allocations of a `Map`. Their keys must differ
    /// from each other, from `attributes`' and from the fixed fields (`network`, `syslog` and
    /// `kind` included). A `String`, not shrunk to fit, which spares a `realloc` per record: the
    /// queue's byte limit counts its length, not its spare capacity (the trap input reserves
    /// 256 bytes plus 96 per variable up front).
    pub attributes_json: Option<String>,
}

/// A record's tags (`key:value`). Shared, not copied: every record from one device carries
/// the same list, so the syslog input makes it once per device and each record holds a
/// reference. Read it as a slice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tags(Option<Arc<[String]>>);

impl Deref for Tags {
    type Target = [String];
    fn deref(&self) -> &[String] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl From<Vec<String>> for Tags {
    fn from(v: Vec<String>) -> Self {
        Tags((!v.is_empty()).then(|| v.into()))
    }
}

/// The `syslog` object of a syslog record (PRODUCT.md's `syslog.*` attributes). Absent fields
/// are omitted from the JSON; keys are written in alphabetical order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyslogFields {
    pub appname: Option<SmallStr>,
    pub facility: Option<u8>,
    pub hostname: Option<SmallStr>,
    /// The line was not valid UTF-8 and was decoded lossily.
    pub invalid_utf8: bool,
    pub msgid: Option<SmallStr>,
    /// The size of a truncated message as sent.
    pub original_size: Option<usize>,
    pub parse_error: Option<&'static str>,
    pub procid: Option<SmallStr>,
    pub severity: Option<u8>,
    /// SD-ID with its parameters, in the order sent (RFC 5424).
    pub structured_data: StructuredData,
    pub timestamp: Option<DateTime<FixedOffset>>,
    pub truncated: bool,
    /// RFC 5424 VERSION.
    pub version: Option<u32>,
}

impl SyslogFields {
    /// Appends the object as JSON.
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        let mut sep = Separator::new(buf);
        if let Some(v) = &self.appname {
            sep.key(buf, "appname");
            json::push_str(buf, v);
        }
        if let Some(v) = self.facility {
            sep.key(buf, "facility");
            json::push_u64(buf, v.into());
        }
        if let Some(v) = &self.hostname {
            sep.key(buf, "hostname");
            json::push_str(buf, v);
        }
        if self.invalid_utf8 {
            sep.key(buf, "invalid_utf8");
            buf.extend_from_slice(b"true");
        }
        if let Some(v) = &self.msgid {
            sep.key(buf, "msgid");
            json::push_str(buf, v);
        }
        if let Some(v) = self.original_size {
            sep.key(buf, "original_size");
            json::push_u64(buf, v as u64);
        }
        if let Some(v) = self.parse_error {
            sep.key(buf, "parse_error");
            json::push_str(buf, v);
        }
        if let Some(v) = &self.procid {
            sep.key(buf, "procid");
            json::push_str(buf, v);
        }
        if let Some(v) = self.severity {
            sep.key(buf, "severity");
            json::push_u64(buf, v.into());
        }
        if !self.structured_data.is_empty() {
            sep.key(buf, "structured_data");
            write_structured_data(buf, &self.structured_data);
        }
        if let Some(ts) = &self.timestamp {
            sep.key(buf, "timestamp");
            json::push_rfc3339(buf, ts, json::Fraction::Auto, false);
        }
        if self.truncated {
            sep.key(buf, "truncated");
            buf.extend_from_slice(b"true");
        }
        if let Some(v) = self.version {
            sep.key(buf, "version");
            json::push_u64(buf, v.into());
        }
        sep.end(buf);
    }

    /// The object as a JSON value (tests, and the rare slow paths).
    pub fn to_value(&self) -> Value {
        let mut buf = Vec::new();
        self.write_json(&mut buf);
        serde_json::from_slice(&buf).unwrap_or(Value::Null)
    }
}

/// Writes `sd` as `{"SD-ID":{"param":"value",...},...}`, keys sorted and, where an SD-ID or a
/// parameter repeats, the last value kept: what a `serde_json::Map` of it would give, without
/// its allocation per key and value (a Junos RT_FLOW line has about 25 parameters).
fn write_structured_data(buf: &mut Vec<u8>, sd: &StructuredData) {
    let mut ids: Vec<&str> = sd.iter().map(|(id, _)| id.as_str()).collect();
    json::as_map(&mut ids, |id| *id);
    let mut params: Vec<(&str, &str, &str)> = sd
        .iter()
        .flat_map(|(id, ps)| {
            ps.iter()
                .map(move |(k, v)| (id.as_str(), k.as_str(), v.as_str()))
        })
        .collect();
    json::as_map(&mut params, |p| (p.0, p.1));
    buf.push(b'{');
    let mut rest = &params[..];
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        json::push_str(buf, id);
        buf.extend_from_slice(b":{");
        let n = rest.iter().take_while(|p| p.0 == id).count();
        for (j, (_, k, v)) in rest[..n].iter().enumerate() {
            if j > 0 {
                buf.push(b',');
            }
            json::push_str(buf, k);
            buf.push(b':');
            json::push_str(buf, v);
        }
        rest = &rest[n..];
        buf.push(b'}');
    }
    buf.push(b'}');
}

impl SyslogFields {
    /// Approximate heap bytes, for [`Event::approx_size`].
    fn approx_size(&self) -> usize {
        let text = |v: &Option<SmallStr>| v.as_ref().map_or(0, |s| s.heap_len());
        let sd: usize = self
            .structured_data
            .iter()
            .map(|(id, params)| {
                id.len()
                    + 48
                    + params
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 96)
                        .sum::<usize>()
            })
            .sum();
        std::mem::size_of::<Self>()
            + text(&self.appname)
            + text(&self.hostname)
            + text(&self.msgid)
            + text(&self.procid)
            + sd
    }
}

/// The record, its `Arc`, the queue slot and the allocator's rounding, for a log event.
const LOG_RECORD_OVERHEAD: usize = 320;

/// Approximate heap bytes of an attribute value: a `Map` entry costs its key, its share of a
/// B-tree node (nodes hold up to 11 entries) and its value.
fn approx_value_size(v: &Value) -> usize {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| k.len() + 160 + approx_value_size(v))
            .sum(),
        Value::Array(a) => 24 + a.iter().map(approx_value_size).sum::<usize>(),
        Value::String(s) => s.len() + 16,
        _ => 8,
    }
}

/// Writes `{`, then `,` before every member but the first, then `}`.
struct Separator {
    first: bool,
}

impl Separator {
    fn new(buf: &mut Vec<u8>) -> Self {
        buf.push(b'{');
        Separator { first: true }
    }

    /// The separator and `"key":` (the key must not need escaping).
    fn key(&mut self, buf: &mut Vec<u8>, key: &str) {
        self.next(buf);
        json::push_key(buf, key);
    }

    fn next(&mut self, buf: &mut Vec<u8>) {
        if !std::mem::take(&mut self.first) {
            buf.push(b',');
        }
    }

    fn end(self, buf: &mut Vec<u8>) {
        buf.push(b'}');
    }
}

impl LogRecord {
    /// A record with no attributes, stamped `timestamp`.
    pub fn new(
        message: impl Into<String>,
        hostname: impl Into<SmallStr>,
        timestamp: DateTime<Utc>,
    ) -> Self {
        LogRecord {
            message: message.into(),
            hostname: hostname.into(),
            ddsource: Cow::Borrowed(""),
            service: SmallStr::default(),
            status: Status::Info,
            tags: Tags::default(),
            timestamp,
            client_ip: None,
            syslog: None,
            vendor: Vendor::default(),
            attributes: Map::new(),
            attributes_json: None,
        }
    }

    /// The Datadog intake object. The fixed fields win over attributes of the same name.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = self.attributes.clone();
        if let Some(raw) = &self.attributes_json {
            if let Ok(Value::Object(more)) = serde_json::from_str(&format!("{{{raw}}}")) {
                m.extend(more);
            }
        }
        if let Some(fields) = &self.syslog {
            m.insert("syslog".into(), fields.to_value());
        }
        if !self.vendor.is_empty() {
            m.insert(self.vendor.name.into(), self.vendor.to_value());
        }
        m.insert("message".into(), Value::String(self.message.clone()));
        m.insert("hostname".into(), Value::String(self.hostname.to_string()));
        m.insert("ddsource".into(), Value::String(self.ddsource.to_string()));
        m.insert("service".into(), Value::String(self.service.to_string()));
        m.insert("status".into(), Value::String(self.status.as_str().into()));
        m.insert("ddtags".into(), Value::String(self.tags.join(",")));
        m.insert(
            "timestamp".into(),
            Value::String(self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
        if let Some(ip) = self.client_ip {
            let network = m
                .entry("network")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(net) = network {
                net.insert("client".into(), serde_json::json!({ "ip": ip.to_string() }));
            }
        }
        m
    }

    /// Appends the intake object as JSON to `buf` (plus `"kind"` when given), without the deep
    /// copy `to_json` makes: this is the per-message path of every output. Same object as
    /// `to_json`, and for records without `attributes_json` the same text, key order included.
    pub fn write_json(&self, buf: &mut Vec<u8>, kind: Option<&str>) {
        if self.attributes.contains_key("network") && self.client_ip.is_some() {
            // Rare: an attribute object to merge the client address into. Take the slow path.
            let start = buf.len();
            let mut m = self.to_json();
            if let Some(k) = kind {
                m.insert("kind".into(), Value::String(k.into()));
            }
            if serde_json::to_writer(&mut *buf, &m).is_err() {
                // Cannot happen with string keys; never leave half an object behind.
                buf.truncate(start);
            }
            return;
        }
        let mut sep = Separator::new(buf);
        // The typed objects, in key order (a vendor's name sorts before "syslog"), each
        // written when the attributes reach its key.
        let mut vendor = (!self.vendor.is_empty()).then_some(&self.vendor);
        let mut syslog = self.syslog.as_ref();
        for (k, v) in &self.attributes {
            let owned = RECORD_FIELDS.contains(&k.as_str())
                || (k == "network" && self.client_ip.is_some())
                || (k == "kind" && kind.is_some())
                || (k == "syslog" && self.syslog.is_some())
                || vendor.is_some_and(|x| x.name == k);
            if owned {
                continue;
            }
            if let Some(x) = vendor.filter(|x| k.as_str() > x.name) {
                sep.key(buf, x.name);
                x.write_json(buf);
                vendor = None;
            }
            if k.as_str() > "syslog" {
                if let Some(fields) = syslog.take() {
                    sep.key(buf, "syslog");
                    fields.write_json(buf);
                }
            }
            sep.next(buf);
            json::push_str(buf, k);
            buf.push(b':');
            // Cannot fail: string keys. (Only records nocbox makes itself carry such attributes
            // now; the per-line objects are typed.)
            let _ = serde_json::to_writer(&mut *buf, v);
        }
        if let Some(x) = vendor {
            sep.key(buf, x.name);
            x.write_json(buf);
        }
        if let Some(fields) = syslog {
            sep.key(buf, "syslog");
            fields.write_json(buf);
        }
        sep.key(buf, "message");
        json::push_str(buf, &self.message);
        sep.key(buf, "hostname");
        json::push_str(buf, &self.hostname);
        sep.key(buf, "ddsource");
        json::push_str(buf, &self.ddsource);
        sep.key(buf, "service");
        json::push_str(buf, &self.service);
        sep.key(buf, "status");
        json::push_str(buf, self.status.as_str());
        sep.key(buf, "ddtags");
        buf.push(b'"');
        for (i, t) in self.tags.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            json::push_escaped(buf, t);
        }
        buf.push(b'"');
        sep.key(buf, "timestamp");
        json::push_utc_millis(buf, &self.timestamp);
        if let Some(ip) = self.client_ip {
            sep.key(buf, "network");
            buf.extend_from_slice(b"{\"client\":{\"ip\":\"");
            json::push_ip(buf, ip);
            buf.extend_from_slice(b"\"}}");
        }
        if let Some(k) = kind {
            sep.key(buf, "kind");
            json::push_str(buf, k);
        }
        if let Some(raw) = self.attributes_json.as_deref().filter(|r| !r.is_empty()) {
            sep.next(buf);
            buf.extend_from_slice(raw.as_bytes());
        }
        sep.end(buf);
    }

    /// Size of the intake object as JSON, in bytes.
    pub fn json_len(&self) -> usize {
        let mut buf = Vec::new();
        self.write_json(&mut buf, None);
        buf.len()
    }
}

/// Keys the record's own fields own; an attribute of the same name is not written.
pub const RECORD_FIELDS: [&str; 7] = [
    "message",
    "hostname",
    "ddsource",
    "service",
    "status",
    "ddtags",
    "timestamp",
];

/// Datadog series metric types (API v2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Count = 1,
    Rate = 2,
    Gauge = 3,
}

/// A metric point as a Datadog v2 series element.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRecord {
    pub metric: String,
    pub kind: MetricType,
    pub timestamp: i64,
    pub value: f64,
    pub tags: Vec<String>,
    /// `resources: [{name, type: host}]`.
    pub host: Option<String>,
    pub interval: Option<u64>,
}

impl MetricRecord {
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("metric".into(), Value::String(self.metric.clone()));
        m.insert("type".into(), Value::from(self.kind as u8));
        m.insert(
            "points".into(),
            serde_json::json!([{ "timestamp": self.timestamp, "value": self.value }]),
        );
        m.insert("tags".into(), serde_json::json!(self.tags));
        let resources = match &self.host {
            Some(h) => serde_json::json!([{ "name": h, "type": "host" }]),
            None => serde_json::json!([]),
        };
        m.insert("resources".into(), resources);
        if let Some(i) = self.interval {
            m.insert("interval".into(), Value::from(i));
        }
        m
    }
}

/// The pipeline item.
#[derive(Clone, Debug, PartialEq)]
// A log record is the common case and goes into an `Arc` as soon as it is queued
// (`Pipeline::send`): boxing it would add an allocation per line, which is what keeping the
// `syslog` fields unboxed saved.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    Log(LogRecord),
    Metric(MetricRecord),
}

impl Event {
    /// Approximate memory an event holds while queued, in bytes: its text, its attributes and
    /// a fixed overhead for the record and the queue slot. Queue byte budgets use it.
    /// Calibrated with `bench/queue-memory.sh` (RSS growth per queued event, stdout blocked).
    pub fn approx_size(&self) -> usize {
        match self {
            Event::Log(l) => {
                let tags: usize = l.tags.iter().map(|t| t.len() + 32).sum();
                let raw = l.attributes_json.as_ref().map_or(0, |r| r.len());
                let syslog = l.syslog.as_ref().map_or(0, |f| f.approx_size());
                let attributes: usize = l
                    .attributes
                    .iter()
                    .map(|(k, v)| k.len() + approx_value_size(v))
                    .sum();
                l.message.len()
                    + l.hostname.heap_len()
                    + l.service.heap_len()
                    + tags
                    + raw
                    + syslog
                    + l.vendor.approx_size()
                    + attributes
                    + LOG_RECORD_OVERHEAD
            }
            Event::Metric(m) => {
                m.metric.len() + m.tags.iter().map(|t| t.len() + 24).sum::<usize>() + 128
            }
        }
    }

    /// The bytes of free text the event carries: a log's message and pre-serialized
    /// attributes (a metric's name). Usually the bulk of a record, read without walking it as
    /// `approx_size` does; structured data, vendor attributes and tags are not counted. The
    /// stdout output bounds its batches with it.
    pub fn text_len(&self) -> usize {
        match self {
            Event::Log(l) => l.message.len() + l.attributes_json.as_ref().map_or(0, |r| r.len()),
            Event::Metric(m) => m.metric.len(),
        }
    }

    /// `"log"` or `"metric"`, the stdout record's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Log(_) => "log",
            Event::Metric(_) => "metric",
        }
    }
}

/// Events for unit tests anywhere in the crate.
#[cfg(test)]
pub(crate) mod samples {
    use std::sync::Arc;

    use super::*;

    /// A log event from `sw1`, stamped now.
    pub fn log(msg: &str) -> Arc<Event> {
        Arc::new(Event::Log(LogRecord::new(msg, "sw1", Utc::now())))
    }

    /// A gauge metric with no tags.
    pub fn metric() -> Arc<Event> {
        Arc::new(Event::Metric(MetricRecord {
            metric: "m".into(),
            kind: MetricType::Gauge,
            timestamp: 0,
            value: 1.0,
            tags: vec![],
            host: None,
            interval: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_data_is_written_as_a_json_map_of_it_would_be() {
        let sd = |v: &[(&str, &[(&str, &str)])]| -> StructuredData {
            v.iter()
                .map(|(id, ps)| {
                    let ps = ps
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    (id.to_string(), ps)
                })
                .collect()
        };
        let cases = [
            sd(&[(
                "junos@2636.1.1.1.2.129",
                &[("source-address", "10.0.0.1"), ("a", "\"q\"")],
            )]),
            // SD-IDs and parameters repeated: the last value wins; an empty element stays.
            sd(&[
                ("z@1", &[("k", "1"), ("b", "x"), ("k", "2")]),
                ("a@1", &[]),
                ("z@1", &[("k", "3"), ("c", "\u{1}")]),
                ("m@1", &[("k", "only")]),
            ]),
            sd(&[("e", &[])]),
        ];
        for sd in &cases {
            let mut map = Map::new();
            for (id, params) in sd {
                let entry = map.entry(id.as_str()).or_insert_with(|| Map::new().into());
                if let Value::Object(obj) = entry {
                    for (k, v) in params {
                        obj.insert(k.clone(), v.as_str().into());
                    }
                }
            }
            let mut buf = Vec::new();
            write_structured_data(&mut buf, sd);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(&map).unwrap()
            );
        }
    }

    #[test]
    fn log_json_nests_client_ip_and_keeps_fixed_fields() {
        let ts = DateTime::parse_from_rfc3339("2026-08-14T09:21:07.118Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut r = LogRecord::new("%LINK-3-UPDOWN: x", "core-sw01", ts);
        r.client_ip = Some("10.1.1.2".parse().unwrap());
        r.status = Status::from_severity(3);
        r.tags = vec!["a:b".to_string(), "c:d".to_string()].into();
        r.attributes
            .insert("message".into(), Value::String("ignored".into()));
        let j = r.to_json();
        assert_eq!(j["message"], "%LINK-3-UPDOWN: x");
        assert_eq!(j["status"], "error");
        assert_eq!(j["ddtags"], "a:b,c:d");
        assert_eq!(j["timestamp"], "2026-08-14T09:21:07.118Z");
        assert_eq!(j["network"]["client"]["ip"], "10.1.1.2");
        // The streaming writer makes the same object.
        let mut buf = Vec::new();
        r.write_json(&mut buf, None);
        let streamed: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(streamed, Value::Object(j));
        r.attributes
            .insert("network".into(), serde_json::json!({"hop": 1}));
        let mut buf = Vec::new();
        r.write_json(&mut buf, Some("log"));
        let merged: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(merged["network"]["hop"], 1);
        assert_eq!(merged["network"]["client"]["ip"], "10.1.1.2");
        assert_eq!(merged["kind"], "log");
    }

    #[test]
    fn serialized_attributes_are_written_as_they_are_and_parsed_by_to_json() {
        let mut r = LogRecord::new("linkDown", "sw1", Utc::now());
        r.client_ip = Some("10.1.1.2".parse().unwrap());
        r.attributes.insert("a".into(), serde_json::json!({"b": 1}));
        r.attributes_json =
            Some(r#""ifOperStatus":"down","variables":[{"oid":"1.3","value":2}]"#.into());
        let j = r.to_json();
        assert_eq!(j["ifOperStatus"], "down");
        assert_eq!(j["variables"][0]["value"], 2);
        assert_eq!(j["a"]["b"], 1);
        for kind in [None, Some("log")] {
            let mut buf = Vec::new();
            r.write_json(&mut buf, kind);
            let mut streamed: Map<String, Value> = serde_json::from_slice(&buf).unwrap();
            if kind.is_some() {
                assert_eq!(streamed.remove("kind").unwrap(), "log");
            }
            assert_eq!(streamed, j);
        }
        // the slow path (an attribute object to merge the client address into) keeps them too
        r.attributes
            .insert("network".into(), serde_json::json!({"hop": 1}));
        let mut buf = Vec::new();
        r.write_json(&mut buf, None);
        let merged: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(merged["ifOperStatus"], "down");
        assert_eq!(merged["network"]["hop"], 1);
    }
}

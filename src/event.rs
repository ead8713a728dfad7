//! The one pipeline item. Inputs build `Event`s; outputs serialise them. Nothing here does IO.
//!
//! A log record serialises to exactly the JSON object that is sent to the Datadog log intake
//! (and, with `"kind": "log"` added, written by the stdout output). Dotted attribute names from
//! PRODUCT.md (`network.client.ip`, `syslog.hostname`, ...) are nested objects, which is how
//! Datadog names attribute paths.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

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
    pub hostname: String,
    pub ddsource: String,
    pub service: String,
    pub status: Status,
    /// Tags as `key:value` strings; serialised comma-joined as `ddtags`.
    pub tags: Vec<String>,
    pub timestamp: DateTime<Utc>,
    /// The sender's address (`network.client.ip`); `None` for records nocbox makes itself.
    pub client_ip: Option<IpAddr>,
    /// Further attributes (`syslog`, `cisco`, `junos`, ...), merged into the top-level object.
    pub attributes: Map<String, Value>,
    /// More attributes, already serialized as the members of a JSON object (`"a":1,"b":[2]`,
    /// without braces), for inputs whose records carry many small values (traps): written
    /// as they are, which saves the many small allocations of a `Map`. Their keys must differ
    /// from each other, from `attributes`' and from the fixed fields (`network` and `kind`
    /// included).
    pub attributes_json: Option<Box<str>>,
}

impl LogRecord {
    /// A record with no attributes, stamped `timestamp`.
    pub fn new(
        message: impl Into<String>,
        hostname: impl Into<String>,
        timestamp: DateTime<Utc>,
    ) -> Self {
        LogRecord {
            message: message.into(),
            hostname: hostname.into(),
            ddsource: String::new(),
            service: String::new(),
            status: Status::Info,
            tags: Vec::new(),
            timestamp,
            client_ip: None,
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
        m.insert("message".into(), Value::String(self.message.clone()));
        m.insert("hostname".into(), Value::String(self.hostname.clone()));
        m.insert("ddsource".into(), Value::String(self.ddsource.clone()));
        m.insert("service".into(), Value::String(self.service.clone()));
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
    /// `to_json`.
    pub fn write_json(&self, buf: &mut Vec<u8>, kind: Option<&str>) {
        let start = buf.len();
        let ok = if self.attributes.contains_key("network") && self.client_ip.is_some() {
            // Rare: an attribute object to merge the client address into. Take the slow path.
            let mut m = self.to_json();
            if let Some(k) = kind {
                m.insert("kind".into(), Value::String(k.into()));
            }
            serde_json::to_writer(&mut *buf, &m).is_ok()
        } else {
            let ok = serde_json::to_writer(&mut *buf, &Wire { rec: self, kind }).is_ok();
            // The object always has members (message, ...): its closing brace becomes a comma.
            if let (true, Some(raw)) = (ok, self.attributes_json.as_deref()) {
                if !raw.is_empty() && buf.last() == Some(&b'}') {
                    buf.pop();
                    buf.push(b',');
                    buf.extend_from_slice(raw.as_bytes());
                    buf.push(b'}');
                }
            }
            ok
        };
        if !ok {
            // Cannot happen with string keys; never leave half an object behind.
            buf.truncate(start);
        }
    }

    /// Size of the intake object as JSON, in bytes.
    pub fn json_len(&self) -> usize {
        serde_json::to_vec(&Value::Object(self.to_json()))
            .map(|v| v.len())
            .unwrap_or(0)
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

/// Serialises a record's intake object straight from its fields.
struct Wire<'a> {
    rec: &'a LogRecord,
    kind: Option<&'a str>,
}

struct ClientIp(IpAddr);

impl serde::Serialize for ClientIp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Ip(IpAddr);
        impl serde::Serialize for Ip {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("ip", &self.0.to_string())?;
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("client", &Ip(self.0))?;
        m.end()
    }
}

impl serde::Serialize for Wire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.rec;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &r.attributes {
            let owned = RECORD_FIELDS.contains(&k.as_str())
                || (k == "network" && r.client_ip.is_some())
                || (k == "kind" && self.kind.is_some());
            if !owned {
                m.serialize_entry(k, v)?;
            }
        }
        m.serialize_entry("message", &r.message)?;
        m.serialize_entry("hostname", &r.hostname)?;
        m.serialize_entry("ddsource", &r.ddsource)?;
        m.serialize_entry("service", &r.service)?;
        m.serialize_entry("status", r.status.as_str())?;
        m.serialize_entry("ddtags", &r.tags.join(","))?;
        m.serialize_entry(
            "timestamp",
            &r.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
        )?;
        if let Some(ip) = r.client_ip {
            m.serialize_entry("network", &ClientIp(ip))?;
        }
        if let Some(k) = self.kind {
            m.serialize_entry("kind", k)?;
        }
        m.end()
    }
}

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
pub enum Event {
    Log(LogRecord),
    Metric(MetricRecord),
}

impl Event {
    /// Approximate memory an event holds while queued, in bytes: its text, the attributes parsed
    /// from it and a fixed overhead for the record, its attribute map and the queue slot.
    /// Calibrated on the syslog benchmark: 73k queued 200-byte lines held about 3 KB each.
    /// Queue byte budgets use it.
    pub fn approx_size(&self) -> usize {
        match self {
            Event::Log(l) => {
                let tags: usize = l.tags.iter().map(|t| t.len() + 24).sum();
                let raw = l.attributes_json.as_ref().map_or(0, |r| r.len());
                3 * l.message.len() + l.hostname.len() + l.service.len() + tags + raw + 2560
            }
            Event::Metric(m) => {
                m.metric.len() + m.tags.iter().map(|t| t.len() + 24).sum::<usize>() + 128
            }
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
    fn log_json_nests_client_ip_and_keeps_fixed_fields() {
        let ts = DateTime::parse_from_rfc3339("2026-08-14T09:21:07.118Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut r = LogRecord::new("%LINK-3-UPDOWN: x", "core-sw01", ts);
        r.client_ip = Some("10.1.1.2".parse().unwrap());
        r.status = Status::from_severity(3);
        r.tags = vec!["a:b".into(), "c:d".into()];
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

//! Fixture tests (syslog.md §3) and robustness tests for the syslog parser.

mod cisco;
mod combos;
mod generic;
mod junos;
mod robust;
mod stamp;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{parse, Parsed};

/// A fixed "now" shortly after the fixtures' August 2026 stamps.
pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 14, 10, 0, 0)
        .single()
        .expect("valid date")
}

pub(super) fn p(line: &str) -> Parsed {
    parse(line.as_bytes(), now())
}

pub(super) fn ts(p: &Parsed) -> Option<String> {
    p.timestamp
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
}

/// The vendor object `key` as JSON, for whole-object comparisons.
pub(super) fn vendor(p: &Parsed, key: &str) -> Value {
    if p.vendor.name == key {
        p.vendor.to_value()
    } else {
        Value::Null
    }
}

pub(super) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// (facility, severity, hostname, appname, procid, msgid)
pub(super) type Header<'a> = (
    Option<u8>,
    Option<u8>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// Header fields in one tuple so a fixture's expectations fit on a few lines.
pub(super) fn header(p: &Parsed) -> Header<'_> {
    (
        p.facility,
        p.severity,
        p.hostname.as_deref(),
        p.appname.as_deref(),
        p.procid.as_deref(),
        p.msgid.as_deref(),
    )
}

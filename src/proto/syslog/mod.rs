//! Sans-IO syslog message parser.
//!
//! **Owns:** turning one syslog payload (framing already removed by the input layer) into a
//! [`Parsed`] record: PRI, header fields, the message text exactly as sent, vendor attributes,
//! and the `ddsource` / `service` / attribute shapes the outputs send to Datadog.
//!
//! **Formats:** RFC 5424 (incl. a BOM before MSG), RFC 3164/BSD (incl. loggen's ISO-stamped
//! legacy header and millisecond stamps), Cisco IOS / IOS-XE / IOS-XR / NX-OS (counters,
//! origin-id, sequence numbers, `*`/`.` clock markers, uptime stamps, zone names, years,
//! NX-OS year-first dates), Cisco ASA/FTD (every `logging timestamp` / `device-id` variant, and
//! no header at all), Juniper Junos (structured data, BSD, explicit priority, logical systems,
//! SRX `RT_FLOW` with and without a host). Anything else still becomes a record, marked
//! [`Format::Unparsed`] with a low-cardinality [`Parsed::error`].
//!
//! **Must not:** do I/O, read the clock (`now` is passed in, which also keeps tests
//! deterministic), panic on any input, drop a line, or pull in regex: this runs once per
//! received line and must sustain over 200k typical lines/s on one core.
//!
//! Order of attempts: PRI, then the Cisco pre-parser (because `syslog_loose` rejects or
//! misreads Cisco headers), then RFC 5424, then BSD; Junos recognition runs on the generic
//! results.

mod cisco;
mod generic;
mod junos;
mod stamp;
mod vendor;
mod year;
mod zone;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Map, Value};

use crate::event::SyslogFields;
use crate::small_str::SmallStr;

pub use vendor::{Member, Vendor};

/// SD-ID with its (unescaped) parameters, in the order sent.
pub type StructuredData = Vec<(String, Vec<(String, String)>)>;

/// One parsed syslog line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// Which parser produced the header.
    pub format: Format,
    /// From the PRI only.
    pub facility: Option<u8>,
    /// From the PRI only.
    pub severity: Option<u8>,
    /// Header time; stamps without a zone or offset are UTC, stamps without a year get the year
    /// closest to `now`.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// Header host (Cisco origin-id, ASA device-id, BSD/5424 host); never `-`, a tag or a
    /// mnemonic.
    pub hostname: Option<SmallStr>,
    pub appname: Option<SmallStr>,
    pub procid: Option<SmallStr>,
    pub msgid: Option<SmallStr>,
    pub structured_data: StructuredData,
    /// Text after the header exactly as sent (lossy UTF-8). Cisco keeps its
    /// `%FAC-SEV-MNEMONIC:` token; trailing CR/LF/NUL and an RFC 5424 BOM are removed.
    pub message: String,
    /// Vendor attributes (`"cisco"` or `"junos"` object), merged at the top level of
    /// [`Parsed::attributes`].
    pub vendor: Vendor,
    /// Why the line could not be parsed: `empty`, `no_pri`, `invalid_pri`, `empty_message`,
    /// `unrecognised_header`. `Some` exactly when `format` is [`Format::Unparsed`].
    pub error: Option<&'static str>,
    /// RFC 5424 VERSION.
    pub version: Option<u32>,
    /// The input was not valid UTF-8 and was decoded lossily.
    pub invalid_utf8: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    Rfc5424,
    Rfc3164,
    CiscoIos,
    CiscoNxos,
    CiscoAsa,
    /// Junos in either structured-data or BSD form (see `version` to tell them apart).
    Junos,
    #[default]
    Unparsed,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rfc5424 => "rfc5424",
            Format::Rfc3164 => "rfc3164",
            Format::CiscoIos => "cisco_ios",
            Format::CiscoNxos => "cisco_nxos",
            Format::CiscoAsa => "cisco_asa",
            Format::Junos => "junos",
            Format::Unparsed => "unparsed",
        }
    }
}

/// Every value `Parsed::error` can take, for callers that count them by reason.
pub const ERROR_REASONS: &[&str] = &[
    "empty",
    "invalid_pri",
    "no_pri",
    "empty_message",
    "unrecognised_header",
];

/// Parses one syslog payload. `now` resolves stamps without a year.
pub fn parse(raw: &[u8], now: DateTime<Utc>) -> Parsed {
    let end = raw
        .iter()
        .rposition(|c| !matches!(c, b'\r' | b'\n' | 0))
        .map_or(0, |i| i + 1);
    // Valid UTF-8 (nearly every line) is checked by the fast validator; only invalid input
    // pays for the lossy decoder.
    let text = match std::str::from_utf8(&raw[..end]) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(&raw[..end]),
    };
    let mut parsed = parse_line(
        text.trim_start_matches(|c: char| c.is_ascii_whitespace()),
        now,
    );
    parsed.invalid_utf8 = matches!(text, Cow::Owned(_));
    parsed
}

fn parse_line(line: &str, now: DateTime<Utc>) -> Parsed {
    if line.is_empty() {
        return unparsed(None, "", "empty");
    }
    let (pri, body) = match pri(line.as_bytes()) {
        Pri::Absent => (None, 0),
        Pri::Invalid => return unparsed(None, line, "invalid_pri"),
        Pri::Valid(value, len) => (Some(value), len),
    };
    let rest = line.get(body..).unwrap_or_default();
    let parsed = cisco::parse(rest, now)
        .or_else(|| {
            let b = rest.as_bytes();
            let version_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let looks_5424 = pri.is_some()
                && (1..=3).contains(&version_digits)
                && b.get(version_digits) == Some(&b' ');
            looks_5424.then(|| generic::rfc5424(line, now)).flatten()
        })
        .or_else(|| generic::rfc3164(line, body, now));
    let Some(mut parsed) = parsed else {
        let reason = if pri.is_none() {
            "no_pri"
        } else if rest.trim().is_empty() {
            "empty_message"
        } else {
            "unrecognised_header"
        };
        return unparsed(pri, rest, reason);
    };
    junos::classify(&mut parsed);
    parsed.facility = pri.map(|v| v >> 3);
    parsed.severity = pri.map(|v| v & 7);
    parsed
}

fn unparsed(pri: Option<u8>, message: &str, reason: &'static str) -> Parsed {
    Parsed {
        format: Format::Unparsed,
        facility: pri.map(|v| v >> 3),
        severity: pri.map(|v| v & 7),
        message: message.to_owned(),
        error: Some(reason),
        ..Parsed::default()
    }
}

enum Pri {
    Absent,
    Invalid,
    /// PRI value and the length of `<N>`.
    Valid(u8, usize),
}

/// `<0>`..`<191>`; anything else starting with `<` is an invalid PRI rather than text, so it is
/// counted as such.
fn pri(b: &[u8]) -> Pri {
    if b.first() != Some(&b'<') {
        return Pri::Absent;
    }
    let digits = b[1..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=3).contains(&digits) || b.get(1 + digits) != Some(&b'>') {
        return Pri::Invalid;
    }
    let value = b[1..1 + digits]
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    match u8::try_from(value) {
        Ok(v) if v <= 191 => Pri::Valid(v, digits + 2),
        _ => Pri::Invalid,
    }
}

/// Byte offset of `inner` within `outer` when `inner` is a sub-slice of it; lets us map
/// `syslog_loose`'s borrowed fields back to positions in the line.
fn offset_in(outer: &str, inner: &str) -> Option<usize> {
    let start = outer.as_ptr() as usize;
    let at = inner.as_ptr() as usize;
    (at >= start && at + inner.len() <= start + outer.len()).then(|| at - start)
}

impl Parsed {
    /// Datadog `ddsource`.
    pub fn ddsource(&self) -> &'static str {
        match self.format {
            Format::CiscoIos => "cisco-ios",
            Format::CiscoNxos => "cisco-nxos",
            Format::CiscoAsa => "cisco-asa",
            Format::Junos => "juniper-junos",
            Format::Rfc5424 | Format::Rfc3164 | Format::Unparsed => "syslog",
        }
    }

    /// Datadog `service`: the app-name, else the Cisco facility (`LINK`, `ASA`), else `syslog`.
    pub fn service(&self) -> SmallStr {
        if let Some(app) = &self.appname {
            return app.clone();
        }
        match (self.vendor.name, self.vendor.get("facility")) {
            ("cisco", Some(Member::Text(f))) => f.clone(),
            _ => SmallStr::new("syslog"),
        }
    }

    /// `{"syslog": {…header…}, <vendor objects>}`; absent fields are omitted.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if !self.vendor.is_empty() {
            out.insert(self.vendor.name.into(), self.vendor.to_value());
        }
        out.insert("syslog".into(), self.header().to_value());
        out
    }

    /// The `syslog` object's fields (a copy).
    pub fn header(&self) -> SyslogFields {
        self.clone().into_parts().1
    }

    /// The message, the `syslog` object's fields and the vendor objects, moved out without
    /// copies (the per-message path of the syslog input).
    pub fn into_parts(self) -> (String, SyslogFields, Vendor) {
        let fields = SyslogFields {
            appname: self.appname,
            facility: self.facility,
            hostname: self.hostname,
            invalid_utf8: self.invalid_utf8,
            msgid: self.msgid,
            original_size: None,
            parse_error: self.error,
            procid: self.procid,
            severity: self.severity,
            structured_data: self.structured_data,
            timestamp: self.timestamp,
            truncated: false,
            version: self.version,
        };
        (self.message, fields, self.vendor)
    }
}

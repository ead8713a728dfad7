//! Turns one accepted notification into a log record with the attributes of Datadog's trap logs
//! (datadog.md §8): `snmpTrapOID`, `snmpTrapName`, `snmpTrapMIB`, `uptime`, `variables` as
//! `{oid, type, value}`, each resolved variable as a top-level attribute, and for v1 traps
//! `enterpriseOID`, `genericTrap`, `specificTrap`. Pure: the receive time is passed in.
//!
//! Choices where Datadog's format leaves room:
//! - `message` names the trap and its resolved variables, so the log list reads without opening
//!   a record: `IF-MIB::linkDown from core-sw01 (10.0.0.1): ifIndex=3 ifOperStatus=down`.
//! - `service` is `snmp-traps`, like `ddsource`; `status` is `info`: a trap carries no
//!   severity, and guessing one per trap name would be wrong as often as right.
//! - An OCTET STRING that is not printable text (a MAC address, a BITS value) is shown as
//!   `0x` and upper-case hex, the form Datadog uses for BITS, rather than mangled UTF-8.
//! - Extras nocbox adds under `snmp`: `pdu` (`trap` or `inform`), and for v3 `user` and
//!   `engine_id` (hex: the value to put in `traps.users[].engine_ids`), for v1 `agent_address`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;

use chrono::{DateTime, Utc};

use crate::event::{LogRecord, Status, Tags};
use crate::inputs::DeviceInfo;
use crate::proto::snmp::notify::Notification;
use crate::proto::snmp::trapdb::{Bit, Label, TrapDb};
use crate::proto::snmp::{Oid, Value, VarBind};
use crate::small_str::SmallStr;

/// Attribute names a trap record uses itself beyond every record's own fields
/// (`event::RECORD_FIELDS`); a MIB object of such a name is not copied to the top level (it
/// stays in `variables`).
const RESERVED: &[&str] = &[
    "network",
    "kind",
    "snmp",
    "snmpTrapOID",
    "snmpTrapName",
    "snmpTrapMIB",
    "uptime",
    "variables",
    "enterpriseOID",
    "genericTrap",
    "specificTrap",
];

/// Variables named in `message`, and the longest value shown there.
const MESSAGE_VARS: usize = 10;
const MESSAGE_VALUE_CHARS: usize = 80;

/// What the record could not name (Datadog's `traps_not_enriched` / `vars_not_enriched`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unresolved {
    pub trap: bool,
    pub variables: usize,
}

/// Where the notification came from and what the config says about it.
pub struct Origin<'a> {
    pub peer: IpAddr,
    pub at: DateTime<Utc>,
    pub device: Option<&'a DeviceInfo>,
    pub tags: &'a [String],
    pub namespace: &'a str,
}

/// A variable's value as the record shows it: borrowed from the notification or the trap DB
/// where it can be (this runs for every variable of every trap).
#[derive(Debug)]
enum Shown<'a> {
    Int(i64),
    Big(u64),
    Text(Cow<'a, str>),
    Null,
    /// A label (or BITS label list) from the trap DB.
    Label(Label<'a>),
}

impl Shown<'_> {
    fn write_json(&self, out: &mut String) {
        match self {
            Shown::Int(i) => crate::json::push_signed(out, *i),
            Shown::Big(n) => crate::json::push_decimal(out, *n),
            Shown::Text(s) => json_str(out, s),
            Shown::Null => out.push_str("null"),
            Shown::Label(Label::Enum(s)) => json_str(out, s),
            Shown::Label(Label::Bits(bits)) => {
                out.push('[');
                for (i, bit) in bits.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match bit {
                        Bit::Named(s) => json_str(out, s),
                        Bit::Position(p) => crate::json::push_decimal(out, p.into()),
                    }
                }
                out.push(']');
            }
        }
    }

    /// As `message` shows it: text unquoted, cut to [`MESSAGE_VALUE_CHARS`].
    fn write_short(&self, out: &mut String) {
        let text = match self {
            Shown::Text(s) => s,
            Shown::Label(Label::Enum(s)) => *s,
            other => {
                other.write_json(out);
                return;
            }
        };
        match text.char_indices().nth(MESSAGE_VALUE_CHARS) {
            Some((i, _)) => {
                out.push_str(&text[..i]);
                out.push('…');
            }
            None => out.push_str(text),
        }
    }
}

/// The members of the record's JSON object, written as they are made (see
/// `LogRecord::attributes_json`), and of the objects nested in it.
struct Members {
    out: String,
    /// The next member is the first of its object: no comma before it.
    first: bool,
}

/// A key that needs no escaping, as its JSON text with the colon: `key!("uptime")` is
/// `"uptime":`.
macro_rules! key {
    ($k:literal) => {
        concat!("\"", $k, "\":")
    };
}

impl Members {
    fn comma(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push(',');
        }
    }

    /// A key from a trap DB, escaped.
    fn key(&mut self, k: &str) {
        self.comma();
        json_str(&mut self.out, k);
        self.out.push(':');
    }

    /// A fixed key, made by [`key!`].
    fn fixed(&mut self, k: &'static str) {
        self.comma();
        self.out.push_str(k);
    }

    fn text(&mut self, k: &'static str, v: &str) {
        self.fixed(k);
        json_str(&mut self.out, v);
    }

    fn number(&mut self, k: &'static str, v: i64) {
        self.fixed(k);
        crate::json::push_signed(&mut self.out, v);
    }

    /// `k` with a string value that `write` appends and that needs no escaping (an OID, hex);
    /// returns where the value's text is in the buffer.
    fn quoted(&mut self, k: &'static str, write: impl FnOnce(&mut String)) -> Range<usize> {
        self.fixed(k);
        self.out.push('"');
        let at = self.out.len();
        write(&mut self.out);
        let end = self.out.len();
        self.out.push('"');
        at..end
    }

    /// Opens an object as the value of `k`; its members follow, then [`Members::close`].
    fn open(&mut self, k: &'static str) {
        self.fixed(k);
        self.out.push('{');
        self.first = true;
    }

    fn close(&mut self) {
        self.out.push('}');
        self.first = false;
    }
}

/// Appends `s` as a JSON string. Most strings here are short keys and labels, for which a
/// byte scan before one copy costs less than `json::push_str`'s eight-byte words (tried under
/// callgrind and not kept; docs/PERFORMANCE.md, traps, 14:00-15:00 UTC).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

/// The record's tags: the configured ones, the device's, then `snmp_version`,
/// `device_namespace` and `snmp_device`. The same for every trap of one sender and version, so
/// the input makes them once per sender ([`crate::inputs::PerSender`]).
pub fn tags(version: u8, o: &Origin<'_>) -> Tags {
    let mut tags = Vec::with_capacity(o.tags.len() + 6);
    tags.extend_from_slice(o.tags);
    if let Some(d) = o.device {
        tags.extend(d.tags.iter().cloned());
    }
    tags.push(format!("snmp_version:{version}"));
    tags.push(format!("device_namespace:{}", o.namespace));
    tags.push(format!("snmp_device:{}", o.peer));
    tags.into()
}

/// The record for `n`, with its [`tags`].
pub fn build(n: &Notification, o: &Origin<'_>, db: &TrapDb, tags: Tags) -> (LogRecord, Unresolved) {
    let mut unresolved = Unresolved::default();
    let mut m = Members {
        out: String::with_capacity(256 + 96 * n.varbinds.len()),
        first: true,
    };
    let mut message = String::with_capacity(96 + 40 * n.varbinds.len().min(MESSAGE_VARS));
    let trap_oid = m.quoted(key!("snmpTrapOID"), |out| push_dotted(out, &n.trap_oid));
    match db.trap(&n.trap_oid) {
        Some(t) => {
            m.text(key!("snmpTrapName"), t.name);
            m.text(key!("snmpTrapMIB"), t.mib);
            message.push_str(t.mib);
            message.push_str("::");
            message.push_str(t.name);
        }
        None => {
            unresolved.trap = true;
            message.push_str(&m.out[trap_oid]);
        }
    }
    if let Some(u) = n.uptime {
        m.number(key!("uptime"), u.into());
    }
    if let Some(v1) = &n.v1 {
        m.quoted(key!("enterpriseOID"), |out| {
            push_dotted(out, &v1.enterprise)
        });
        m.number(key!("genericTrap"), v1.generic_trap.into());
        m.number(key!("specificTrap"), v1.specific_trap.into());
    }
    m.open(key!("snmp"));
    m.text(key!("pdu"), if n.inform { "inform" } else { "trap" });
    if let Some(v1) = &n.v1 {
        m.text(
            key!("agent_address"),
            &SmallStr::from(IpAddr::V4(v1.agent_addr)),
        );
    }
    if let Some(u) = &n.user {
        m.text(key!("user"), u);
    }
    if let Some(e) = &n.engine_id {
        m.quoted(key!("engine_id"), |out| push_hex(out, e));
    }
    m.close();

    let peer = SmallStr::from(o.peer);
    message.push_str(" from ");
    let hostname = match o.device.and_then(|d| d.name.as_deref()) {
        Some(name) => {
            for part in [name, " (", &peer, ")"] {
                message.push_str(part);
            }
            SmallStr::new(name)
        }
        None => {
            message.push_str(&peer);
            peer
        }
    };
    // Resolved variables at the top level: the last of one name wins, as in Datadog's.
    let mut top: Vec<(&str, Shown<'_>)> = Vec::new();
    m.fixed(key!("variables"));
    m.out.push('[');
    for (i, vb) in n.varbinds.iter().enumerate() {
        let (kind, value, named) = variable(vb, db);
        if i > 0 {
            m.out.push(',');
        }
        m.out.push_str("{\"oid\":\"");
        let oid_at = m.out.len();
        push_dotted(&mut m.out, &vb.oid);
        let oid_end = m.out.len();
        m.out.push_str("\",\"type\":\"");
        m.out.push_str(kind);
        m.out.push_str("\",\"value\":");
        value.write_json(&mut m.out);
        m.out.push('}');
        if i < MESSAGE_VARS {
            message.push_str(if i == 0 { ": " } else { " " });
            match &named {
                Some((name, shown)) => {
                    message.push_str(name);
                    message.push('=');
                    shown.as_ref().unwrap_or(&value).write_short(&mut message);
                }
                None => {
                    message.push_str(&m.out[oid_at..oid_end]);
                    message.push('=');
                    value.write_short(&mut message);
                }
            }
        }
        match named {
            Some((name, shown))
                if !RESERVED.contains(&name) && !crate::event::RECORD_FIELDS.contains(&name) =>
            {
                let shown = shown.unwrap_or(value);
                match top.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = shown,
                    None => top.push((name, shown)),
                }
            }
            Some(_) => {}
            None => unresolved.variables += 1,
        }
    }
    m.out.push(']');
    if n.varbinds.len() > MESSAGE_VARS {
        let _ = write!(message, " (+{} more)", n.varbinds.len() - MESSAGE_VARS);
    }
    for (name, shown) in &top {
        m.key(name);
        shown.write_json(&mut m.out);
    }

    let mut rec = LogRecord::new(message, hostname, o.at);
    rec.ddsource = "snmp-traps".into();
    rec.service = "snmp-traps".into();
    rec.status = Status::Info;
    rec.client_ip = Some(o.peer);
    rec.tags = tags;
    rec.attributes_json = Some(m.out);
    (rec, unresolved)
}

/// The type and `variables` value of one varbind and, when the DB names its object, the name
/// and, when the DB also has a label for the value, the label (the enum label or the BITS
/// labels) the top level shows instead of the value.
fn variable<'a>(
    vb: &'a VarBind,
    db: &'a TrapDb,
) -> (
    &'static str,
    Shown<'a>,
    Option<(&'a str, Option<Shown<'a>>)>,
) {
    let (kind, mut value) = type_and_value(&vb.value);
    let Some(var) = db.variable(&vb.oid) else {
        return (kind, value, None);
    };
    let label = db.label(&var, &vb.value);
    if let Some(Label::Bits(_)) = label {
        // BITS: the labels at the top level, the octets as hex in `variables` (Datadog's)
        if let Value::OctetString(b) = &vb.value {
            value = hex_text(b);
        }
    }
    (kind, value, Some((var.name, label.map(Shown::Label))))
}

/// An OID as dotted decimal.
fn dotted(oid: &Oid) -> String {
    let mut s = String::with_capacity(oid.len() * 4);
    push_dotted(&mut s, oid);
    s
}

/// Appends an OID as dotted decimal, without `fmt`'s per-arc overhead (this runs for every
/// variable of every trap).
fn push_dotted(s: &mut String, oid: &Oid) {
    s.reserve(oid.len() * 4);
    for (i, arc) in oid.arcs().iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        crate::json::push_decimal(s, u64::from(*arc));
    }
}

/// Datadog's type names for trap variables (gosnmp's types as the Agent's formatter spells
/// them) and the value.
fn type_and_value(v: &Value) -> (&'static str, Shown<'_>) {
    match v {
        Value::Integer(i) => ("integer", Shown::Int((*i).into())),
        Value::OctetString(b) => ("string", Shown::Text(text_or_hex(b))),
        Value::Null => ("null", Shown::Null),
        Value::Oid(o) => ("oid", Shown::Text(dotted(o).into())),
        Value::IpAddress(a) => ("ip-address", Shown::Text(a.to_string().into())),
        Value::Counter32(n) => ("counter32", Shown::Int((*n).into())),
        Value::Gauge32(n) => ("gauge32", Shown::Int((*n).into())),
        Value::TimeTicks(n) => ("time-ticks", Shown::Int((*n).into())),
        Value::Opaque(b) => ("opaque", hex_text(b)),
        Value::Counter64(n) => ("counter64", Shown::Big(*n)),
        Value::NoSuchObject => ("no-such-object", Shown::Null),
        Value::NoSuchInstance => ("no-such-instance", Shown::Null),
        Value::EndOfMibView => ("end-of-mib-view", Shown::Null),
        Value::Other {
            tag: 0x03,
            contents,
        } => ("string", hex_text(contents)),
        Value::Other {
            tag: 0x45,
            contents,
        } => ("nsap-address", hex_text(contents)),
        Value::Other { contents, .. } => ("other", hex_text(contents)),
    }
}

/// Printable text as it is (trailing NULs dropped: some agents send C strings), anything else
/// as hex.
fn text_or_hex(b: &[u8]) -> Cow<'_, str> {
    let mut trimmed = b;
    while let [rest @ .., 0] = trimmed {
        trimmed = rest;
    }
    match std::str::from_utf8(trimmed) {
        Ok(s)
            if !s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            Cow::Borrowed(s)
        }
        _ => Cow::Owned(upper_hex(b)),
    }
}

/// Bytes shown as `0x` and upper-case hex.
fn hex_text(b: &[u8]) -> Shown<'static> {
    Shown::Text(upper_hex(b).into())
}

fn upper_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        let _ = write!(s, "{x:02X}");
    }
    s
}

/// Appends lower-case hex, as engine IDs are written in the config.
fn push_hex(s: &mut String, b: &[u8]) {
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
}

/// Lower-case hex, as engine IDs are written in the config.
pub(super) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len());
    push_hex(&mut s, b);
    s
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;

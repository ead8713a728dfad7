//! SNMP values as numbers and tag text, the way Datadog reads them, and the row walk over a
//! fetched column.

use std::collections::BTreeMap;

use regex::{Captures, Regex};

use crate::proto::snmp::{Oid, Value};

use super::model::{Format, Symbol};

/// Every `(index, value)` under `column`, in OID order.
pub fn column<'a>(
    values: &'a BTreeMap<Oid, Value>,
    column: &'a Oid,
) -> impl Iterator<Item = (&'a [u32], &'a Value)> + 'a {
    values
        .range(column.clone()..)
        .take_while(move |(k, _)| k.starts_with(column))
        .filter(move |(k, _)| k.len() > column.len())
        .map(move |(k, v)| (&k.arcs()[column.len()..], v))
}

/// `column` + `index`, or None when that would be too long for an OID.
pub fn cell(column: &Oid, index: &[u32]) -> Option<Oid> {
    let mut arcs = column.arcs().to_vec();
    arcs.extend_from_slice(index);
    Oid::from_arcs(&arcs).ok()
}

/// A number: integers and counters as is, strings parsed as a float (Datadog does the same).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(f64::from(*i)),
        Value::Counter32(c) | Value::Gauge32(c) | Value::TimeTicks(c) => Some(f64::from(*c)),
        Value::Counter64(c) => Some(*c as f64),
        Value::OctetString(b) | Value::Opaque(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().trim_end_matches('\0').parse::<f64>().ok())
            .filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Text for tags and metadata: printable strings as they are, other bytes as hex.
pub fn text(v: &Value, format: Option<Format>) -> Option<String> {
    match (v, format) {
        (Value::OctetString(b), Some(Format::MacAddress)) => Some(
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        (Value::OctetString(b), Some(Format::IpAddress)) if b.len() == 4 => {
            Some(format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
        }
        (Value::OctetString(b), _) => {
            let trimmed = b.strip_suffix(&[0]).unwrap_or(b);
            match std::str::from_utf8(trimmed) {
                Ok(s)
                    if !s
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n')) =>
                {
                    Some(s.to_string())
                }
                _ => Some(format!(
                    "0x{}",
                    b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                )),
            }
        }
        (Value::Integer(i), _) => Some(i.to_string()),
        (Value::Counter32(c) | Value::Gauge32(c) | Value::TimeTicks(c), _) => Some(c.to_string()),
        (Value::Counter64(c), _) => Some(c.to_string()),
        (Value::IpAddress(a), _) => Some(a.to_string()),
        (Value::Oid(o), _) => Some(o.to_string()),
        _ => None,
    }
}

/// Fills `\1`/`$1`/`${1}` from the captures.
pub fn expand(template: &str, caps: &Captures<'_>) -> String {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' || c == '$' {
            let braced = c == '$' && chars.peek() == Some(&'{');
            if braced {
                chars.next();
            }
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            if braced && chars.peek() == Some(&'}') {
                chars.next();
            }
            match n.parse::<usize>() {
                Ok(g) => out.push_str(caps.get(g).map(|m| m.as_str()).unwrap_or("")),
                Err(_) => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first capture group of `re` in `s`, as a number.
pub fn extract(re: &Regex, s: &str) -> Option<f64> {
    re.captures(s)?
        .get(1)?
        .as_str()
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
}

/// A symbol's value as text, after `format`, `extract_value` and `match_pattern`/`match_value`.
/// None when a pattern does not match.
pub fn symbol_text(sym: &Symbol, v: &Value) -> Option<String> {
    let mut s = text(v, sym.format)?;
    if let Some(re) = &sym.extract_value {
        s = re.captures(&s)?.get(1)?.as_str().to_string();
    }
    if let Some(re) = &sym.match_pattern {
        let caps = re.captures(&s)?;
        s = match &sym.match_value {
            Some(t) => expand(t, &caps),
            None => caps
                .get(0)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
        };
    }
    Some(s)
}

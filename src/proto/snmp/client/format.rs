//! net-snmp's text for a varbind with `-On` and no MIBs loaded (`snmpget -On`,
//! `snmpbulkwalk -On`), byte for byte, so a CLI's output can be diffed against net-snmp's.

use std::fmt::Write;

use crate::proto::snmp::message::{Value, VarBind};

/// `.1.3.6.1.2.1.1.5.0 = STRING: "name"`.
pub fn format_varbind(vb: &VarBind) -> String {
    let mut out = String::with_capacity(64);
    out.push('.');
    let _ = write!(out, "{} = ", vb.oid);
    format_value(&mut out, &vb.value);
    out
}

/// The part after ` = `.
pub fn format_value(out: &mut String, v: &Value) {
    match v {
        Value::Integer(i) => {
            let _ = write!(out, "INTEGER: {i}");
        }
        Value::OctetString(s) => octet_string(out, s),
        Value::Null => out.push_str("NULL"),
        Value::Oid(o) => {
            let _ = write!(out, "OID: .{o}");
        }
        Value::IpAddress(a) => {
            let _ = write!(out, "IpAddress: {a}");
        }
        Value::Counter32(n) => {
            let _ = write!(out, "Counter32: {n}");
        }
        Value::Gauge32(n) => {
            let _ = write!(out, "Gauge32: {n}");
        }
        Value::TimeTicks(t) => timeticks(out, *t),
        Value::Opaque(b) => opaque(out, b),
        Value::Counter64(n) => {
            let _ = write!(out, "Counter64: {n}");
        }
        Value::NoSuchObject => out.push_str("No Such Object available on this agent at this OID"),
        Value::NoSuchInstance => {
            out.push_str("No Such Instance currently exists at this OID");
        }
        Value::EndOfMibView => out.push_str(
            "No more variables left in this MIB View (It is past the end of the MIB tree)",
        ),
        Value::Other { tag, contents } => {
            let _ = write!(out, "Wrong Type (should be OCTET STRING) 0x{tag:02X}: ");
            hex(out, contents);
        }
    }
}

/// net-snmp prints a string as text when every byte is printable or white space (C locale),
/// else as hex; empty is `""` with no type.
fn octet_string(out: &mut String, s: &[u8]) {
    if s.is_empty() {
        out.push_str("\"\"");
        return;
    }
    let text = s
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || (0x09..=0x0d).contains(&b));
    if text {
        out.push_str("STRING: \"");
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push('\\');
            }
            out.push(char::from(b));
        }
        out.push('"');
    } else {
        out.push_str("Hex-STRING: ");
        hex(out, s);
    }
}

/// `XX ` per byte, a newline after every 16 bytes when more follow.
fn hex(out: &mut String, s: &[u8]) {
    for (i, b) in s.iter().enumerate() {
        if i > 0 && i % 16 == 0 {
            out.push('\n');
        }
        let _ = write!(out, "{b:02X} ");
    }
}

/// `Timeticks: (123456) 0:20:34.56`, with `N day(s), ` in front from one day on.
fn timeticks(out: &mut String, t: u32) {
    let cs = t % 100;
    let secs = t / 100;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let _ = write!(out, "Timeticks: ({t}) ");
    match d {
        0 => {}
        1 => out.push_str("1 day, "),
        _ => {
            let _ = write!(out, "{d} days, ");
        }
    }
    let _ = write!(out, "{h}:{m:02}:{s:02}.{cs:02}");
}

/// Opaque-wrapped float and double (net-snmp's UCD extension: 0x9f 0x78 / 0x79), else hex.
fn opaque(out: &mut String, b: &[u8]) {
    match b {
        [0x9f, 0x78, 4, rest @ ..] if rest.len() == 4 => {
            let f = f32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let _ = write!(out, "Opaque: Float: {f:.6}");
        }
        [0x9f, 0x79, 8, rest @ ..] if rest.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(rest);
            // sic: net-snmp labels doubles "Float" too
            let _ = write!(out, "Opaque: Float: {:.6}", f64::from_be_bytes(a));
        }
        _ => {
            out.push_str("OPAQUE: ");
            hex(out, b);
        }
    }
}

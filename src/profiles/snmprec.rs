//! snmpsim `.snmprec` recordings (`OID|tag|value`, tag `Nx` = hex value) → SNMP values, for the
//! profile tests and `nocbox profiles match --snmprec`. Lines that do not parse are reported by
//! line number and skipped.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::proto::snmp::{Oid, Value};

/// The values of a recording, and the lines that were skipped with why.
pub fn parse(text: &str) -> (BTreeMap<Oid, Value>, Vec<(usize, String)>) {
    let mut values = BTreeMap::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Ok((oid, v)) => {
                values.insert(oid, v);
            }
            Err(e) => bad.push((n + 1, e)),
        }
    }
    (values, bad)
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad hex `{s}`"))
        })
        .collect()
}

fn parse_line(line: &str) -> Result<(Oid, Value), String> {
    let mut parts = line.splitn(3, '|');
    let (Some(oid), Some(tag), Some(raw)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected OID|tag|value".into());
    };
    let oid: Oid = oid.parse().map_err(|e| format!("OID: {e}"))?;
    let (tag, is_hex) = match tag.strip_suffix('x') {
        Some(t) => (t, true),
        None => (tag, false),
    };
    let bytes = || {
        if is_hex {
            hex(raw)
        } else {
            Ok(raw.as_bytes().to_vec())
        }
    };
    let num = |what: &str| -> Result<u64, String> {
        raw.trim()
            .parse::<u64>()
            .map_err(|_| format!("{what}: `{raw}`"))
    };
    let small = |what: &str| -> Result<u32, String> {
        u32::try_from(num(what)?).map_err(|_| format!("{what} out of range"))
    };
    let v = match tag {
        "2" => Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| format!("INTEGER: `{raw}`"))?,
        ),
        "4" => Value::OctetString(bytes()?),
        "5" => Value::Null,
        "6" => Value::Oid(raw.parse().map_err(|e| format!("OID value: {e}"))?),
        "64" => {
            let b = bytes()?;
            match (is_hex, <[u8; 4]>::try_from(b.as_slice())) {
                (true, Ok(a)) => Value::IpAddress(Ipv4Addr::from(a)),
                _ => Value::IpAddress(raw.parse().map_err(|_| format!("IpAddress: `{raw}`"))?),
            }
        }
        "65" => Value::Counter32(small("Counter32")?),
        "66" => Value::Gauge32(small("Gauge32")?),
        "67" => Value::TimeTicks(small("TimeTicks")?),
        "68" => Value::Opaque(bytes()?),
        "70" => Value::Counter64(num("Counter64")?),
        other => return Err(format!("unsupported tag `{other}`")),
    };
    Ok((oid, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_tag_and_reports_bad_lines() {
        let text = "1.3.6.1.2.1.1.1.0|4|Cisco IOS\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.617\n\
                    1.3.6.1.2.1.2.2.1.6.1|4x|0011aabbccdd\n1.3.6.1.2.1.2.2.1.10.1|65|42\n\
                    1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n1.3.6.1.2.1.4.20.1.1.1|64|10.0.0.1\n\
                    1.3.6.1.2.1.1.3.0|67|100\n1.3|2|-5\nbad line\n1.3.6|65|99999999999\n1.3.7|99|x\n";
        let (v, bad) = parse(text);
        assert_eq!(v.len(), 8);
        assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), vec![9, 10, 11]);
        let mac: Oid = "1.3.6.1.2.1.2.2.1.6.1".parse().unwrap();
        assert_eq!(
            v[&mac],
            Value::OctetString(vec![0, 0x11, 0xaa, 0xbb, 0xcc, 0xdd])
        );
    }
}

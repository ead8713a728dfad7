//! Writing JSON text straight into a byte buffer, for the per-message paths (log records on every
//! output). Produces exactly what `serde_json` produces for the same values (same escapes, same
//! number and time formats), without its `Serializer` machinery, `fmt` or intermediate `String`s.
//!
//! Must not: allocate beyond growing `buf`, or emit anything but valid JSON for any `&str`.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc};

/// Per byte: 0 = written as is, else the character after `\` (`u` = `\u00XX`). serde_json's set.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `w` needs escaping (`< 0x20`, `"` or `\`). May not say which.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    (below_space | has_zero(w ^ (ONES * u64::from(b'"'))) | has_zero(w ^ (ONES * u64::from(b'\\'))))
        != 0
}

/// Appends `s` escaped, without quotes.
pub fn push_escaped(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some(chunk) = b.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !word_needs_escape(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        let c = b[i];
        let esc = ESCAPE[usize::from(c)];
        if esc != 0 {
            buf.extend_from_slice(&b[start..i]);
            if esc == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(c >> 4)]);
                buf.push(HEX[usize::from(c & 0xf)]);
            } else {
                buf.push(b'\\');
                buf.push(esc);
            }
            start = i + 1;
        }
        i += 1;
    }
    buf.extend_from_slice(&b[start..]);
}

/// Appends `s` as a JSON string.
pub fn push_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    push_escaped(buf, s);
    buf.push(b'"');
}

/// Reorders `items` (inserts, in the order made) as a JSON object map of them would hold them:
/// sorted by key, one per key, the last inserted winning. The typed attribute writers use it to
/// write exactly what a `serde_json::Map` would, without building one.
pub fn as_map<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    // Stable: among repeats of a key the last inserted stays last...
    items.sort_by_key(&key);
    // ...and is the one kept (dedup_by drops `later` after it has swapped places with the
    // kept `earlier`).
    items.dedup_by(|later, earlier| {
        let same = key(later) == key(earlier);
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
}

/// Appends `"key":` (the key must not need escaping).
pub fn push_key(buf: &mut Vec<u8>, key: &str) {
    buf.push(b'"');
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":");
}

/// `v`'s decimal digits, written into the end of `digits`, without `fmt`.
pub(crate) fn digits(mut v: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &digits[at..]
}

/// Appends an unsigned integer.
pub fn push_u64(buf: &mut Vec<u8>, v: u64) {
    let mut d = [0u8; 20];
    buf.extend_from_slice(digits(v, &mut d));
}

/// Appends an unsigned integer to text; one digit, the usual OID arc, without a copy call.
pub fn push_decimal(s: &mut String, v: u64) {
    if v < 10 {
        s.push(char::from(b'0' + v as u8));
        return;
    }
    let mut d = [0u8; 20];
    for &b in digits(v, &mut d) {
        s.push(char::from(b));
    }
}

/// Appends a signed integer to text.
pub fn push_signed(s: &mut String, v: i64) {
    if v < 0 {
        s.push('-');
    }
    push_decimal(s, v.unsigned_abs());
}

/// Appends `n` as exactly `width` decimal digits (`n` must fit).
fn push_padded(buf: &mut Vec<u8>, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut v = n;
    for d in digits[..width].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    buf.extend_from_slice(&digits[..width]);
}

/// Appends an address as `IpAddr`'s `Display` writes it (no quotes).
pub fn push_ip(buf: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                push_u64(buf, u64::from(o));
            }
        }
        IpAddr::V6(_) => {
            use std::io::Write;
            let _ = write!(buf, "{ip}");
        }
    }
}

/// Fractional seconds in a stamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fraction {
    /// Always three digits (chrono's `SecondsFormat::Millis`).
    Millis,
    /// None, 3, 6 or 9 digits, as few as the value needs (chrono's `SecondsFormat::AutoSi`).
    Auto,
}

/// Appends a quoted RFC 3339 stamp, identical to chrono's `to_rfc3339_opts(fraction, use_z)`.
pub fn push_rfc3339<Tz: TimeZone>(
    buf: &mut Vec<u8>,
    t: &DateTime<Tz>,
    fraction: Fraction,
    use_z: bool,
) where
    Tz::Offset: Offset,
{
    let offset = t.offset().fix().local_minus_utc();
    let local = t.naive_local();
    let year = local.year();
    let nanos = local.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 || offset % 60 != 0 {
        // Years chrono writes with a sign, leap seconds and offsets with seconds: rare, let
        // chrono do them.
        let format = match fraction {
            Fraction::Millis => chrono::SecondsFormat::Millis,
            Fraction::Auto => chrono::SecondsFormat::AutoSi,
        };
        push_str(buf, &t.to_rfc3339_opts(format, use_z));
        return;
    }
    buf.push(b'"');
    push_padded(buf, year as u32, 4);
    buf.push(b'-');
    push_padded(buf, local.month(), 2);
    buf.push(b'-');
    push_padded(buf, local.day(), 2);
    buf.push(b'T');
    push_padded(buf, local.hour(), 2);
    buf.push(b':');
    push_padded(buf, local.minute(), 2);
    buf.push(b':');
    push_padded(buf, local.second(), 2);
    match fraction {
        Fraction::Millis => {
            buf.push(b'.');
            push_padded(buf, nanos / 1_000_000, 3);
        }
        Fraction::Auto if nanos == 0 => {}
        Fraction::Auto if nanos.is_multiple_of(1_000_000) => {
            buf.push(b'.');
            push_padded(buf, nanos / 1_000_000, 3);
        }
        Fraction::Auto if nanos.is_multiple_of(1_000) => {
            buf.push(b'.');
            push_padded(buf, nanos / 1_000, 6);
        }
        Fraction::Auto => {
            buf.push(b'.');
            push_padded(buf, nanos, 9);
        }
    }
    if offset == 0 && use_z {
        buf.push(b'Z');
    } else {
        let (sign, abs) = if offset < 0 {
            (b'-', offset.unsigned_abs())
        } else {
            (b'+', offset.unsigned_abs())
        };
        buf.push(sign);
        push_padded(buf, abs / 3600, 2);
        buf.push(b':');
        push_padded(buf, abs / 60 % 60, 2);
    }
    buf.push(b'"');
}

/// `push_rfc3339` for the UTC record stamp: milliseconds and `Z`.
pub fn push_utc_millis(buf: &mut Vec<u8>, t: &DateTime<Utc>) {
    push_rfc3339(buf, t, Fraction::Millis, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn serde(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    #[test]
    fn as_map_keeps_the_last_insert_of_each_key_in_key_order() {
        let mut v = vec![("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5), ("b", 6)];
        as_map(&mut v, |p| p.0);
        assert_eq!(v, [("a", 5), ("b", 6), ("c", 4)]);
        let mut empty: Vec<(u8, u8)> = vec![];
        as_map(&mut empty, |p| p.0);
        assert!(empty.is_empty());
    }

    #[test]
    fn strings_escape_exactly_as_serde_json() {
        let mut all = String::new();
        for c in (0u8..=0x7f).map(char::from) {
            all.push(c);
        }
        let cases = [
            String::new(),
            "plain text longer than eight bytes".into(),
            "\"".into(),
            "a\\b".into(),
            "tab\there\nnew\rline\u{8}\u{c}\u{1}\u{1f}\u{7f}".into(),
            "héllo wörld — ünïcode 🚀 \"quoted\" end".into(),
            "12345678\"12345678\\1234567\n".into(),
            all,
        ];
        for s in &cases {
            let mut b = Vec::new();
            push_str(&mut b, s);
            assert_eq!(
                String::from_utf8(b).unwrap(),
                String::from_utf8(serde(s)).unwrap()
            );
        }
        // every byte value at every position of a word
        for pos in 0..9 {
            for c in (0u8..0x80).map(char::from) {
                let mut s = "abcdefgh".to_string();
                s.insert(pos, c);
                let mut b = Vec::new();
                push_str(&mut b, &s);
                assert_eq!(b, serde(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn numbers_and_addresses_as_display_writes_them() {
        for v in [0u64, 7, 10, 99, 100, 65535, u64::from(u32::MAX), u64::MAX] {
            let mut b = Vec::new();
            push_u64(&mut b, v);
            assert_eq!(b, v.to_string().into_bytes());
            let mut t = String::from("x");
            push_decimal(&mut t, v);
            assert_eq!(t, format!("x{v}"));
        }
        for v in [0i64, 5, -5, 42, -42, i64::MIN, i64::MAX] {
            let mut t = String::new();
            push_signed(&mut t, v);
            assert_eq!(t, v.to_string());
        }
        for ip in [
            "0.0.0.0",
            "10.1.1.2",
            "255.255.255.255",
            "::1",
            "2001:db8::17",
            "::ffff:1.2.3.4",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut b = Vec::new();
            push_ip(&mut b, ip);
            assert_eq!(b, ip.to_string().into_bytes());
        }
    }

    #[test]
    fn stamps_as_chrono_writes_them() {
        let stamps = [
            "2026-08-14T09:21:07Z",
            "2026-08-14T09:21:07.118Z",
            "2026-08-14T09:21:07.100200Z",
            "2026-08-14T09:21:07.123456789+02:00",
            "2026-08-14T09:21:07.5-05:30",
            "1999-12-31T23:59:59.999-00:01",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59.000001-12:00",
        ];
        for s in stamps {
            let t = DateTime::parse_from_rfc3339(s).unwrap();
            for (fraction, format) in [
                (Fraction::Millis, chrono::SecondsFormat::Millis),
                (Fraction::Auto, chrono::SecondsFormat::AutoSi),
            ] {
                for use_z in [false, true] {
                    let mut b = Vec::new();
                    push_rfc3339(&mut b, &t, fraction, use_z);
                    assert_eq!(b, serde(&t.to_rfc3339_opts(format, use_z)), "{s}");
                    let utc = t.with_timezone(&Utc);
                    let mut b = Vec::new();
                    push_rfc3339(&mut b, &utc, fraction, use_z);
                    assert_eq!(b, serde(&utc.to_rfc3339_opts(format, use_z)), "{s} utc");
                }
            }
        }
        // an offset with seconds, which chrono writes as +HH:MM:SS
        let odd = FixedOffset::east_opt(3600 + 61).unwrap();
        let t = odd.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut b = Vec::new();
        push_rfc3339(&mut b, &t, Fraction::Auto, false);
        assert_eq!(
            b,
            serde(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
        );
    }
}

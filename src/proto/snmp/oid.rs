//! OBJECT IDENTIFIERs: the [`Oid`] type every SNMP module shares (parse `1.3.6.1…` text,
//! display, SNMP ordering, prefixes) and its strict BER contents codec.
//!
//! **Must not:** hold an OID that BER cannot carry (fewer than 2 or more than 128 arcs, a bad
//! first arc), so encoding never fails; or panic on any contents.

use std::fmt;
use std::str::FromStr;

use super::ber::DecodeError;

/// Most arcs an OID may have (RFC 2578 §3.5: "at most 128 sub-identifiers").
pub const MAX_OID_ARCS: usize = 128;

/// An OBJECT IDENTIFIER: 2..=128 arcs of 0..=2^32-1, the first 0..=2, the second 0..=39 unless
/// the first is 2. `Ord` is SNMP's lexicographic order (a prefix sorts first).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(pub(in crate::proto::snmp) Vec<u32>);

/// Why a text or arc list is not an OID.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OidError {
    #[error("an OID needs at least two arcs, like 1.3")]
    TooShort,
    #[error("an OID has at most 128 arcs")]
    TooLong,
    #[error("`{0}` is not an arc (a number from 0 to 4294967295)")]
    BadArc(String),
    #[error("the first arc must be 0, 1 or 2, and the second below 40 unless the first is 2")]
    BadPrefix,
}

impl Oid {
    /// An OID from its arcs, checked.
    pub fn from_arcs(arcs: &[u32]) -> Result<Oid, OidError> {
        match arcs {
            [] | [_] => Err(OidError::TooShort),
            _ if arcs.len() > MAX_OID_ARCS => Err(OidError::TooLong),
            [a, b, ..] if *a > 2 || (*a < 2 && *b >= 40) => Err(OidError::BadPrefix),
            _ => Ok(Oid(arcs.to_vec())),
        }
    }

    pub fn arcs(&self) -> &[u32] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: an OID has at least two arcs. Here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// This OID with one more arc (a table column plus an index), or `TooLong`.
    pub fn child(&self, arc: u32) -> Result<Oid, OidError> {
        if self.0.len() >= MAX_OID_ARCS {
            return Err(OidError::TooLong);
        }
        let mut v = self.0.clone();
        v.push(arc);
        Ok(Oid(v))
    }

    /// The BER contents: 40 × first + second, then each arc in base 128.
    pub fn to_ber_contents(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 4);
        let (a, b) = (self.0.first().copied(), self.0.get(1).copied());
        push_base128(
            &mut out,
            u64::from(a.unwrap_or(0)) * 40 + u64::from(b.unwrap_or(0)),
        );
        for arc in self.0.iter().skip(2) {
            push_base128(&mut out, u64::from(*arc));
        }
        out
    }

    /// Decodes OID contents strictly: no empty contents, no 0x80 padding, no arc over 2^32-1, no
    /// unterminated arc, at most 128 arcs. The first subidentifier is 40 × first + second, so
    /// `2.x` takes every value from 80 up. One pass over the bytes, with a short path for the
    /// one-byte arcs most OIDs are made of: this runs for every variable of every trap.
    pub fn from_ber_contents(contents: &[u8]) -> Result<Oid, DecodeError> {
        let mut arcs = Vec::with_capacity((contents.len() + 1).min(MAX_OID_ARCS));
        let mut rest = contents;
        let (a, b) = match subidentifier(&mut rest)? {
            v @ 0..=39 => (0, v),
            v @ 40..=79 => (1, v - 40),
            v => (2, v - 80),
        };
        arcs.push(a);
        arcs.push(u32::try_from(b).map_err(|_| DecodeError::BadOid)?);
        while let [b, tail @ ..] = rest {
            if arcs.len() == MAX_OID_ARCS {
                // a 129th arc is too many, also when it is too large; a malformed one is malformed
                subidentifier(&mut rest)?;
                return Err(DecodeError::OidTooLong);
            }
            let arc = if *b < 0x80 {
                rest = tail;
                u32::from(*b)
            } else {
                u32::try_from(subidentifier(&mut rest)?).map_err(|_| DecodeError::BadOid)?
            };
            arcs.push(arc);
        }
        Ok(Oid(arcs))
    }
}

/// Takes one subidentifier (base 128, high bit set on all but its last byte) off the front of
/// `rest`. 5 bytes hold 2^32 - 1 + 80 (the first subidentifier); a sixth is too many.
fn subidentifier(rest: &mut &[u8]) -> Result<u64, DecodeError> {
    if rest.first() == Some(&0x80) {
        return Err(DecodeError::BadOid);
    }
    let mut value = 0u64;
    for (i, &b) in rest.iter().enumerate().take(5) {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            *rest = &rest[i + 1..];
            return Ok(value);
        }
    }
    Err(DecodeError::BadOid)
}

fn push_base128(out: &mut Vec<u8>, v: u64) {
    let groups = (64 - v.leading_zeros()).div_ceil(7).max(1);
    for i in (0..groups).rev() {
        let b = ((v >> (7 * i)) & 0x7f) as u8;
        out.push(if i == 0 { b } else { b | 0x80 });
    }
}

impl FromStr for Oid {
    type Err = OidError;

    /// Dotted numbers, with or without a leading dot: `1.3.6.1.2.1.1.1.0`, `.1.3.6.1`.
    fn from_str(s: &str) -> Result<Oid, OidError> {
        let s = s.strip_prefix('.').unwrap_or(s);
        let mut arcs = Vec::new();
        for part in s.split('.') {
            if arcs.len() == MAX_OID_ARCS {
                return Err(OidError::TooLong);
            }
            let ok = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            let arc = ok.then(|| part.parse::<u32>().ok()).flatten();
            arcs.push(arc.ok_or_else(|| OidError::BadArc(part.chars().take(20).collect()))?);
        }
        Oid::from_arcs(&arcs)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arc) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip_through_text_and_ber() {
        for (text, contents) in [
            ("1.3.6.1.2.1.1.1.0", vec![0x2b, 6, 1, 2, 1, 1, 1, 0]),
            ("0.0", vec![0]),
            ("2.999.3", vec![0x88, 0x37, 3]),
            (
                "1.3.6.1.4.1.4294967295",
                vec![0x2b, 6, 1, 4, 1, 0x8f, 0xff, 0xff, 0xff, 0x7f],
            ),
            ("2.4294967215", vec![0x8f, 0xff, 0xff, 0xff, 0x7f]),
        ] {
            let oid: Oid = text.parse().unwrap();
            assert_eq!(oid.to_string(), text);
            assert_eq!(oid.to_ber_contents(), contents, "{text}");
            assert_eq!(Oid::from_ber_contents(&contents).unwrap(), oid);
        }
        assert_eq!(".1.3.6".parse::<Oid>().unwrap().to_string(), "1.3.6");
    }

    #[test]
    fn invalid_oids_are_rejected_cleanly() {
        for bad in [
            "",
            "1",
            "1..3",
            "1.3.",
            "3.1",
            "1.40",
            "1.3.x",
            "1.3.-1",
            "1.3.4294967296",
        ] {
            assert!(bad.parse::<Oid>().is_err(), "{bad:?}");
        }
        let long = vec!["1"; 129].join(".");
        assert_eq!(long.parse::<Oid>(), Err(OidError::TooLong));
        assert!(vec!["1"; 128].join(".").parse::<Oid>().is_ok());
        for bad in [
            &[][..],
            &[0x80, 1],
            &[0x2b, 0x86],
            &[0x2b, 0x80, 1],
            &[0x2b, 0x90, 0x80, 0x80, 0x80, 0],
            &[0x2b, 0x81, 0x80, 0x80, 0x80, 0x80, 0],
        ] {
            assert_eq!(
                Oid::from_ber_contents(bad),
                Err(DecodeError::BadOid),
                "{bad:?}"
            );
        }
        assert_eq!(
            Oid::from_ber_contents(&[1; 200]),
            Err(DecodeError::OidTooLong)
        );
        // 0.1 and 126 more: the most an OID may have
        assert_eq!(Oid::from_ber_contents(&[1; 127]).map(|o| o.len()), Ok(128));
        assert_eq!(
            Oid::from_ber_contents(&[1; 128]),
            Err(DecodeError::OidTooLong)
        );
        // a 129th arc that is also above 2^32 - 1: too long first
        let mut long_and_large = vec![1; 127];
        long_and_large.extend([0x9f, 0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(
            Oid::from_ber_contents(&long_and_large),
            Err(DecodeError::OidTooLong)
        );
        // ...but a 129th arc that is malformed is malformed
        let mut long_and_bad = vec![1; 127];
        long_and_bad.extend([0x80, 1]);
        assert_eq!(
            Oid::from_ber_contents(&long_and_bad),
            Err(DecodeError::BadOid)
        );
    }

    #[test]
    fn oid_order_is_snmp_order() {
        let o = |s: &str| s.parse::<Oid>().unwrap();
        assert!(o("1.3.6.1.2") < o("1.3.6.1.2.1"));
        assert!(o("1.3.6.1.2.1") < o("1.3.6.1.10"));
        assert!(o("1.3.6.1.2.1.1.1.0").starts_with(&o("1.3.6.1.2.1")));
        assert!(!o("1.3.6.1.2").starts_with(&o("1.3.6.1.2.1")));
    }
}

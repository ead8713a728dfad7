//! BER for SNMP: our writer, the TLV reader that `message/decode.rs` is built on, and the decode
//! error.
//!
//! **Owns:** encoding every type SNMP uses (snmp-parser has no encoder, crates.md §6), and reading
//! one TLV at a time: the decoder, and walking to a field by offset (USM's
//! msgAuthenticationParameters).
//!
//! **Must not:** panic on any input, or produce non-minimal lengths (strict agents reject them).
//!
//! **Writing.** [`Writer::constructed`] writes a one-byte length placeholder, the contents, then
//! patches the length; only a long-form length moves the contents, once, by the few extra length
//! bytes. Each byte therefore moves at most once per enclosing SEQUENCE (a handful of levels), not
//! once per sibling: encoding is linear in the message size.

pub use super::oid::{Oid, OidError, MAX_OID_ARCS};

/// Identifier octets SNMP uses (RFC 3416 §3, RFC 2578 §7.1): universal, application and context.
pub mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const IP_ADDRESS: u8 = 0x40;
    pub const COUNTER32: u8 = 0x41;
    pub const GAUGE32: u8 = 0x42;
    pub const TIMETICKS: u8 = 0x43;
    pub const OPAQUE: u8 = 0x44;
    pub const COUNTER64: u8 = 0x46;
    pub const NO_SUCH_OBJECT: u8 = 0x80;
    pub const NO_SUCH_INSTANCE: u8 = 0x81;
    pub const END_OF_MIB_VIEW: u8 = 0x82;
    /// PDU tags are context-specific and constructed: 0xA0 + the PDU number (0 = Get … 8 = Report).
    pub const PDU_BASE: u8 = 0xA0;
}

/// Why bytes could not be decoded. [`DecodeError::reason`] is the low-cardinality label for drop
/// counters; `Display` is for a person reading a debug log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message ends before its declared length")]
    Truncated,
    #[error("invalid or unsupported length encoding")]
    BadLength,
    #[error("unexpected or unsupported tag")]
    BadTag,
    #[error("message is {len} bytes, more than the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("bytes after the end of the message")]
    TrailingData,
    #[error("SNMP version {0} is not supported (0 = v1, 1 = v2c, 3 = v3)")]
    UnsupportedVersion(i64),
    #[error("security model {0} is not supported (only USM, 3)")]
    UnsupportedSecurityModel(i64),
    #[error("unknown PDU type")]
    BadPduType,
    #[error("{count} varbinds, more than the limit of {max}")]
    TooManyVarbinds { count: usize, max: usize },
    #[error("OBJECT IDENTIFIER has more than 128 arcs")]
    OidTooLong,
    #[error("invalid OBJECT IDENTIFIER encoding")]
    BadOid,
    #[error("integer out of range or badly encoded")]
    BadValue,
    #[error("community or user name is not UTF-8")]
    BadString,
    #[error("malformed SNMP message")]
    Malformed,
}

impl DecodeError {
    /// Short snake_case label for counters (`nocbox.snmp.dropped{reason=…}`).
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Truncated => "truncated",
            DecodeError::BadLength => "bad_length",
            DecodeError::BadTag => "bad_tag",
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::TrailingData => "trailing_data",
            DecodeError::UnsupportedVersion(_) => "unsupported_version",
            DecodeError::UnsupportedSecurityModel(_) => "unsupported_security_model",
            DecodeError::BadPduType => "bad_pdu_type",
            DecodeError::TooManyVarbinds { .. } => "too_many_varbinds",
            DecodeError::OidTooLong => "oid_too_long",
            DecodeError::BadOid => "bad_oid",
            DecodeError::BadValue => "bad_value",
            DecodeError::BadString => "bad_string",
            DecodeError::Malformed => "malformed",
        }
    }
}

/// A BER writer for definite-length encodings with minimal lengths.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// A primitive TLV with the given identifier octet and contents.
    pub fn primitive(&mut self, tag: u8, contents: &[u8]) {
        self.buf.push(tag);
        push_length(&mut self.buf, contents.len());
        self.buf.extend_from_slice(contents);
    }

    /// Bytes that are already a complete TLV.
    pub fn raw(&mut self, tlv: &[u8]) {
        self.buf.extend_from_slice(tlv);
    }

    /// A constructed TLV (SEQUENCE, PDU) whose contents `f` writes.
    pub fn constructed(&mut self, tag: u8, f: impl FnOnce(&mut Writer)) {
        self.buf.push(tag);
        let len_at = self.buf.len();
        self.buf.push(0);
        f(self);
        let len = self.buf.len() - len_at - 1;
        if len < 0x80 {
            self.buf[len_at] = len as u8;
        } else {
            let mut long = Vec::with_capacity(5);
            push_length(&mut long, len);
            self.buf.splice(len_at..=len_at, long);
        }
    }

    pub fn sequence(&mut self, f: impl FnOnce(&mut Writer)) {
        self.constructed(tag::SEQUENCE, f)
    }

    /// INTEGER: minimal two's complement.
    pub fn integer(&mut self, v: i64) {
        self.int_with_tag(tag::INTEGER, v)
    }

    /// A signed integer under another tag (application types reuse INTEGER's encoding).
    pub fn int_with_tag(&mut self, tag: u8, v: i64) {
        let bytes = v.to_be_bytes();
        // Drop a leading byte while the next one carries the same sign.
        let mut start = 0;
        while start < 7 {
            let (b, next) = (bytes[start], bytes[start + 1]);
            if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        self.primitive(tag, &bytes[start..]);
    }

    /// An unsigned value (Counter32, Gauge32, TimeTicks, Counter64): minimal, with a leading
    /// 0x00 when the top bit is set so it does not read as negative.
    pub fn unsigned(&mut self, tag: u8, v: u64) {
        let bytes = v.to_be_bytes();
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(7);
        if bytes[start] & 0x80 != 0 {
            let mut c = Vec::with_capacity(9);
            c.push(0);
            c.extend_from_slice(&bytes[start..]);
            self.primitive(tag, &c);
        } else {
            self.primitive(tag, &bytes[start..]);
        }
    }

    pub fn octet_string(&mut self, v: &[u8]) {
        self.primitive(tag::OCTET_STRING, v)
    }

    pub fn null(&mut self) {
        self.primitive(tag::NULL, &[])
    }

    pub fn oid(&mut self, oid: &Oid) {
        self.primitive(tag::OID, &oid.to_ber_contents())
    }
}

fn push_length(buf: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        buf.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(7);
        buf.push(0x80 | (8 - start) as u8);
        buf.extend_from_slice(&bytes[start..]);
    }
}

/// One TLV as read: its identifier octet, where its contents start (relative to the slice it was
/// read from), and its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub header_len: usize,
    pub value: &'a [u8],
}

/// Reads one definite-length TLV and returns it with the bytes after it. Multi-byte tags,
/// indefinite lengths (RFC 3417 §8 requires definite ones) and lengths over 4 bytes are refused.
pub fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DecodeError> {
    let (&tag, rest) = input.split_first().ok_or(DecodeError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(DecodeError::BadTag);
    }
    let (&first, rest) = rest.split_first().ok_or(DecodeError::Truncated)?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(DecodeError::BadLength);
        }
        let bytes = rest.get(..n).ok_or(DecodeError::Truncated)?;
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if len > rest.len() {
        return Err(DecodeError::Truncated);
    }
    let header_len = input.len() - rest.len();
    let (value, after) = rest.split_at(len);
    Ok((
        Tlv {
            tag,
            header_len,
            value,
        },
        after,
    ))
}

/// Reads a TLV that must carry `want`.
pub fn expect_tlv(input: &[u8], want: u8) -> Result<(Tlv<'_>, &[u8]), DecodeError> {
    let (tlv, rest) = read_tlv(input)?;
    if tlv.tag != want {
        return Err(DecodeError::BadTag);
    }
    Ok((tlv, rest))
}

/// Decodes INTEGER contents (two's complement, 1..=8 bytes).
pub fn decode_integer(contents: &[u8]) -> Result<i64, DecodeError> {
    if contents.is_empty() || contents.len() > 8 {
        return Err(DecodeError::BadValue);
    }
    let init = if contents[0] & 0x80 != 0 { -1i64 } else { 0 };
    Ok(contents
        .iter()
        .fold(init, |acc, b| (acc << 8) | i64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Vec<u8> {
        let mut w = Writer::new();
        w.integer(v);
        w.into_bytes()
    }

    #[test]
    fn integers_are_minimal_twos_complement() {
        assert_eq!(int(0), [2, 1, 0]);
        assert_eq!(int(127), [2, 1, 0x7f]);
        assert_eq!(int(128), [2, 2, 0, 0x80]);
        assert_eq!(int(256), [2, 2, 1, 0]);
        assert_eq!(int(-1), [2, 1, 0xff]);
        assert_eq!(int(-128), [2, 1, 0x80]);
        assert_eq!(int(-129), [2, 2, 0xff, 0x7f]);
        assert_eq!(int(i64::MAX)[..3], [2, 8, 0x7f]);
        assert_eq!(int(i64::MIN), [2, 8, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        for v in [
            0,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            65535,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            let b = int(v);
            assert_eq!(decode_integer(&b[2..]), Ok(v), "{v}");
        }
    }

    #[test]
    fn unsigned_values_get_a_leading_zero_when_the_top_bit_is_set() {
        let enc = |v| {
            let mut w = Writer::new();
            w.unsigned(tag::COUNTER64, v);
            w.into_bytes()
        };
        assert_eq!(enc(0), [0x46, 1, 0]);
        assert_eq!(enc(0x7f), [0x46, 1, 0x7f]);
        assert_eq!(enc(0xffff_ffff), [0x46, 5, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(enc(u64::MAX)[..3], [0x46, 9, 0]);
    }

    #[test]
    fn lengths_use_short_and_minimal_long_form() {
        for (n, head) in [
            (0usize, vec![0x04, 0x00]),
            (127, vec![0x04, 0x7f]),
            (128, vec![0x04, 0x81, 0x80]),
            (255, vec![0x04, 0x81, 0xff]),
            (256, vec![0x04, 0x82, 0x01, 0x00]),
            (70_000, vec![0x04, 0x83, 0x01, 0x11, 0x70]),
        ] {
            let mut w = Writer::new();
            w.octet_string(&vec![7u8; n]);
            let b = w.into_bytes();
            assert_eq!(b[..head.len()], head[..], "{n}");
            let (tlv, rest) = read_tlv(&b).unwrap();
            assert_eq!((tlv.value.len(), rest.len()), (n, 0));
        }
    }

    #[test]
    fn nested_sequences_patch_their_lengths() {
        let mut w = Writer::new();
        w.sequence(|w| {
            w.sequence(|w| w.octet_string(&[1u8; 200]));
            w.null();
        });
        let b = w.into_bytes();
        assert_eq!(b[..8], [0x30, 0x81, 0xd0, 0x30, 0x81, 0xcb, 0x04, 0x81]);
        let (outer, rest) = expect_tlv(&b, tag::SEQUENCE).unwrap();
        assert!(rest.is_empty());
        let (inner, after) = expect_tlv(outer.value, tag::SEQUENCE).unwrap();
        assert_eq!(inner.value.len(), 203);
        assert_eq!(after, [5, 0]);
    }

    #[test]
    fn many_varbind_sized_sequences_encode_in_linear_time() {
        // 20k nested-in-one-list items: a quadratic writer would take seconds here.
        let mut w = Writer::new();
        w.sequence(|w| {
            for i in 0..20_000 {
                w.sequence(|w| {
                    w.integer(i);
                    w.null();
                })
            }
        });
        let b = w.into_bytes();
        let (outer, rest) = read_tlv(&b).unwrap();
        assert!(rest.is_empty() && outer.value.len() > 100_000);
    }

    #[test]
    fn reader_refuses_bad_frames() {
        assert_eq!(read_tlv(&[]), Err(DecodeError::Truncated));
        assert_eq!(read_tlv(&[0x30]), Err(DecodeError::Truncated));
        assert_eq!(read_tlv(&[0x30, 0x80, 0, 0]), Err(DecodeError::BadLength));
        assert_eq!(
            read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            Err(DecodeError::BadLength)
        );
        assert_eq!(
            read_tlv(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(read_tlv(&[0x1f, 0x01, 0]), Err(DecodeError::BadTag));
        assert_eq!(read_tlv(&[0x04, 0x03, 1, 2]), Err(DecodeError::Truncated));
        assert_eq!(decode_integer(&[]), Err(DecodeError::BadValue));
    }
}

//! [`decode`]: SNMP messages read straight into our owned model with the TLV reader in `ber.rs`.
//!
//! Why not snmp-parser, which the design names (crates.md §4 lists the reasons, and
//! `docs/PERFORMANCE.md` the measurements):
//! - **It drops traps a receiver should take**: a negative request-id (RFC 3416 allows
//!   -2^31..2^31-1), or a Counter32/Gauge32/TimeTicks whose agent left out the leading zero
//!   byte (`ff ff ff ff`, which net-snmp reads as 4294967295), rejects the whole message.
//! - **It was the trap path's largest cost**: its BER reading and our conversion of its borrowed
//!   types took about a quarter of nocbox's CPU at 150,000 traps/s (`perf`, 2026-11-22).
//!
//! snmp-parser stays as a test oracle: `tests.rs` decodes the same packets, mutations of them
//! and every PDU shape with both and compares (`oracle.rs`).
//!
//! What is checked here: definite lengths and one-byte tags (`read_tlv`), the version, the
//! limits, that every constructed value holds exactly its fields (nothing left over), OID
//! contents, and integer ranges. A varbind value of a type SNMPv2 does not define (BIT STRING,
//! NsapAddress, a SEQUENCE, …) is kept as [`Value::Other`] without looking inside, so nothing
//! here recurses and a deeply nested value costs one TLV read.

use std::net::Ipv4Addr;

use super::super::ber::{decode_integer, expect_tlv, read_tlv, tag, Tlv};
use super::*;

/// Decodes a v1, v2c or v3 message with the default [`Limits`].
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_with(bytes, &Limits::default())
}

/// Decodes a v1, v2c or v3 message. A v3 message with privacy keeps its ScopedPDU encrypted.
pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    let mut r = Fields(outer_frame(bytes, limits)?);
    let version = decode_integer(r.expect(tag::INTEGER)?)?;
    let message = match version {
        0 | 1 => Message::Community(CommunityMessage {
            version: if version == 0 {
                Version::V1
            } else {
                Version::V2c
            },
            community: utf8(r.expect(tag::OCTET_STRING)?)?,
            pdu: pdu(r.next()?, version == 0, limits)?,
        }),
        3 => Message::V3(v3(&mut r, limits)?),
        v => return Err(DecodeError::UnsupportedVersion(v)),
    };
    r.end()?;
    Ok(message)
}

/// Decodes a decrypted ScopedPDU. Bytes after it are allowed: DES pads to 8 bytes (RFC 3414
/// §8.1.1.2).
pub fn decode_scoped_pdu(bytes: &[u8], limits: &Limits) -> Result<ScopedPdu, DecodeError> {
    let (seq, _padding) = expect_tlv(bytes, tag::SEQUENCE)?;
    scoped_pdu(seq.value, limits)
}

/// The contents of the message's one outer SEQUENCE, after the size limit; nothing may follow
/// it.
pub(super) fn outer_frame<'a>(bytes: &'a [u8], limits: &Limits) -> Result<&'a [u8], DecodeError> {
    if bytes.len() > limits.max_message_size {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_message_size,
        });
    }
    let (outer, rest) = expect_tlv(bytes, tag::SEQUENCE)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingData);
    }
    Ok(outer.value)
}

/// msgVersion 3 is read; the rest of the message (RFC 3412 §6).
fn v3(r: &mut Fields<'_>, limits: &Limits) -> Result<V3Message, DecodeError> {
    let mut global = Fields(r.expect(tag::SEQUENCE)?);
    // msgID and msgMaxSize are never negative (RFC 3412 §6)
    let msg_id = int32(global.expect(tag::INTEGER)?)?;
    let max_size = int32(global.expect(tag::INTEGER)?)?;
    if msg_id < 0 || max_size < 0 {
        return Err(DecodeError::BadValue);
    }
    let flags = match global.expect(tag::OCTET_STRING)? {
        [f] => MsgFlags(*f),
        _ => return Err(DecodeError::BadValue),
    };
    let model = decode_integer(global.expect(tag::INTEGER)?)?;
    global.end()?;
    if model != SECURITY_MODEL_USM {
        return Err(DecodeError::UnsupportedSecurityModel(model));
    }
    let (params, after) = expect_tlv(r.expect(tag::OCTET_STRING)?, tag::SEQUENCE)?;
    if !after.is_empty() {
        return Err(DecodeError::Malformed);
    }
    let mut p = Fields(params.value);
    let usm = UsmParams {
        engine_id: p.expect(tag::OCTET_STRING)?.to_vec(),
        engine_boots: non_negative(p.expect(tag::INTEGER)?)?,
        engine_time: non_negative(p.expect(tag::INTEGER)?)?,
        user_name: utf8(p.expect(tag::OCTET_STRING)?)?,
        auth_params: p.expect(tag::OCTET_STRING)?.to_vec(),
        priv_params: p.expect(tag::OCTET_STRING)?.to_vec(),
    };
    p.end()?;
    // msgData is an encryptedPDU exactly when the privacy flag is set (RFC 3412 §7.2 step 2)
    let data = r.next()?;
    let data = match (data.tag, flags.privacy()) {
        (tag::SEQUENCE, false) => ScopedData::Plain(scoped_pdu(data.value, limits)?),
        (tag::OCTET_STRING, true) => ScopedData::Encrypted(data.value.to_vec()),
        _ => return Err(DecodeError::BadTag),
    };
    Ok(V3Message {
        msg_id,
        max_size,
        flags,
        usm,
        data,
    })
}

/// The contents of a ScopedPDU SEQUENCE.
fn scoped_pdu(contents: &[u8], limits: &Limits) -> Result<ScopedPdu, DecodeError> {
    let mut r = Fields(contents);
    let scoped = ScopedPdu {
        context_engine_id: r.expect(tag::OCTET_STRING)?.to_vec(),
        context_name: r.expect(tag::OCTET_STRING)?.to_vec(),
        pdu: pdu(r.next()?, false, limits)?,
    };
    r.end()?;
    Ok(scoped)
}

/// A PDU. A v1 message carries only Get, GetNext, Response, Set and Trap (RFC 1157 §4.1). v2c
/// and v3 messages may carry any of them; RFC 3416 has no Trap-PDU, but a v1 Trap in a v2c
/// message is read rather than refused (as snmp-parser did), and the notification layer
/// decides what to do with it.
fn pdu(t: Tlv<'_>, v1: bool, limits: &Limits) -> Result<Pdu, DecodeError> {
    // PDU tags are context-specific and constructed: 0xA0 + the PDU number.
    if t.tag & 0xe0 != tag::PDU_BASE || (v1 && t.tag > tag::PDU_BASE + 4) {
        return Err(DecodeError::BadPduType);
    }
    let mut r = Fields(t.value);
    let pdu = match t.tag - tag::PDU_BASE {
        4 => Pdu::TrapV1(TrapV1Pdu {
            enterprise: Oid::from_ber_contents(r.expect(tag::OID)?)?,
            agent_addr: ipv4(r.expect(tag::IP_ADDRESS)?).ok_or(DecodeError::BadValue)?,
            generic_trap: int32(r.expect(tag::INTEGER)?)?,
            specific_trap: int32(r.expect(tag::INTEGER)?)?,
            timestamp: unsigned32(r.expect(tag::TIMETICKS)?)?,
            varbinds: varbinds(r.expect(tag::SEQUENCE)?, limits)?,
        }),
        5 => Pdu::GetBulk(BulkPdu {
            request_id: int32(r.expect(tag::INTEGER)?)?,
            non_repeaters: int32(r.expect(tag::INTEGER)?)?,
            max_repetitions: int32(r.expect(tag::INTEGER)?)?,
            varbinds: varbinds(r.expect(tag::SEQUENCE)?, limits)?,
        }),
        n => Pdu::Generic(GenericPdu {
            kind: PduKind::from_number(n.into()).ok_or(DecodeError::BadPduType)?,
            request_id: int32(r.expect(tag::INTEGER)?)?,
            error_status: int32(r.expect(tag::INTEGER)?)?,
            error_index: int32(r.expect(tag::INTEGER)?)?,
            varbinds: varbinds(r.expect(tag::SEQUENCE)?, limits)?,
        }),
    };
    r.end()?;
    Ok(pdu)
}

/// The contents of a VarBindList. The count is checked before a varbind past the limit is
/// decoded; the error then reports the whole list's count.
fn varbinds(list: &[u8], limits: &Limits) -> Result<Vec<VarBind>, DecodeError> {
    let mut out = Vec::with_capacity(8);
    let mut r = Fields(list);
    while !r.0.is_empty() {
        if out.len() == limits.max_varbinds {
            let mut count = out.len();
            while !r.0.is_empty() {
                r.next()?;
                count += 1;
            }
            return Err(DecodeError::TooManyVarbinds {
                count,
                max: limits.max_varbinds,
            });
        }
        let mut vb = Fields(r.expect(tag::SEQUENCE)?);
        let oid = Oid::from_ber_contents(vb.expect(tag::OID)?)?;
        let value = value(vb.next()?)?;
        vb.end()?;
        out.push(VarBind { oid, value });
    }
    Ok(out)
}

fn value(t: Tlv<'_>) -> Result<Value, DecodeError> {
    let c = t.value;
    Ok(match t.tag {
        tag::INTEGER => Value::Integer(int32(c)?),
        tag::OCTET_STRING => Value::OctetString(c.to_vec()),
        tag::NULL if c.is_empty() => Value::Null,
        tag::NULL => return Err(DecodeError::BadValue),
        tag::OID => Value::Oid(Oid::from_ber_contents(c)?),
        tag::COUNTER32 => Value::Counter32(unsigned32(c)?),
        // Gauge32/Unsigned32, and the obsolete UInteger32 (application 7)
        tag::GAUGE32 | 0x47 => Value::Gauge32(unsigned32(c)?),
        tag::TIMETICKS => Value::TimeTicks(unsigned32(c)?),
        tag::OPAQUE => Value::Opaque(c.to_vec()),
        tag::COUNTER64 => Value::Counter64(unsigned(c, 8)?),
        // the exceptions are NULLs under context tags
        tag::NO_SUCH_OBJECT | tag::NO_SUCH_INSTANCE | tag::END_OF_MIB_VIEW if !c.is_empty() => {
            return Err(DecodeError::BadValue)
        }
        tag::NO_SUCH_OBJECT => Value::NoSuchObject,
        tag::NO_SUCH_INSTANCE => Value::NoSuchInstance,
        tag::END_OF_MIB_VIEW => Value::EndOfMibView,
        // An IpAddress of another length is kept as it came rather than dropping the trap.
        tag::IP_ADDRESS => match ipv4(c) {
            Some(a) => Value::IpAddress(a),
            None => other(t),
        },
        _ => other(t),
    })
}

fn other(t: Tlv<'_>) -> Value {
    Value::Other {
        tag: t.tag,
        contents: t.value.to_vec(),
    }
}

fn ipv4(c: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(c).ok().map(Ipv4Addr::from)
}

fn int32(c: &[u8]) -> Result<i32, DecodeError> {
    i32::try_from(decode_integer(c)?).map_err(|_| DecodeError::BadValue)
}

/// An INTEGER that is never negative, such as msgAuthoritativeEngineBoots.
fn non_negative(c: &[u8]) -> Result<u32, DecodeError> {
    u32::try_from(decode_integer(c)?).map_err(|_| DecodeError::BadValue)
}

fn unsigned32(c: &[u8]) -> Result<u32, DecodeError> {
    // at most 4 significant bytes, so the cast cannot truncate
    unsigned(c, 4).map(|v| v as u32)
}

/// An unsigned application value of at most `max_bytes` significant bytes, in at most 9 bytes.
/// Leading zero bytes are skipped, and a value without the zero byte that BER needs before a
/// set top bit is read as unsigned: some agents send Counter32 4294967295 as `ff ff ff ff`,
/// which net-snmp reads the same way (for four bytes; it sign-extends shorter ones).
fn unsigned(c: &[u8], max_bytes: usize) -> Result<u64, DecodeError> {
    if c.is_empty() || c.len() > 9 {
        return Err(DecodeError::BadValue);
    }
    let start = c.iter().position(|b| *b != 0).unwrap_or(c.len());
    let significant = &c[start..];
    if significant.len() > max_bytes {
        return Err(DecodeError::BadValue);
    }
    Ok(significant
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// A community or user name. Neither can match a configured one unless it is UTF-8.
fn utf8(c: &[u8]) -> Result<String, DecodeError> {
    std::str::from_utf8(c)
        .map(str::to_owned)
        .map_err(|_| DecodeError::BadString)
}

/// The fields of one constructed value, read in order.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    /// The next field; a field missing from a complete value is `Malformed`, not `Truncated`.
    fn next(&mut self) -> Result<Tlv<'a>, DecodeError> {
        if self.0.is_empty() {
            return Err(DecodeError::Malformed);
        }
        let (t, rest) = read_tlv(self.0)?;
        self.0 = rest;
        Ok(t)
    }

    /// The next field's contents, which must carry `want`.
    fn expect(&mut self, want: u8) -> Result<&'a [u8], DecodeError> {
        let t = self.next()?;
        if t.tag != want {
            return Err(DecodeError::BadTag);
        }
        Ok(t.value)
    }

    /// Every field has been read.
    fn end(&self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Malformed)
        }
    }
}

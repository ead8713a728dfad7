//! The decoder nocbox used until 2026-11-22, kept as a test oracle for `decode.rs`: snmp-parser
//! 0.11 does the parsing; this converts its borrowed types into our owned model and its errors
//! into [`DecodeError`] reasons, and checks what it does not: the outer frame, the version, the
//! limits, OID contents. `tests.rs` compares the two.

use snmp_parser::{
    NetworkAddress, ObjectSyntax, ScopedPduData, SecurityParameters, SnmpGenericMessage, SnmpPdu,
    SnmpVariable, VarBindValue,
};

use super::super::super::ber::{decode_integer, expect_tlv, tag};
use super::super::*;

/// Decodes a v1, v2c or v3 message. A v3 message with privacy keeps its ScopedPDU encrypted.
pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    // The outer frame (the decoder's own check) and the version, checked here for precise
    // reasons.
    let outer = super::super::decode::outer_frame(bytes, limits)?;
    let (version, _) = expect_tlv(outer, tag::INTEGER)?;
    match decode_integer(version.value)? {
        0 | 1 | 3 => {}
        v => return Err(DecodeError::UnsupportedVersion(v)),
    }
    let (_, msg) = snmp_parser::parse_snmp_generic_message(bytes).map_err(parser_error)?;
    match msg {
        SnmpGenericMessage::V1(m) | SnmpGenericMessage::V2(m) => {
            Ok(Message::Community(CommunityMessage {
                version: if m.version == 0 {
                    Version::V1
                } else {
                    Version::V2c
                },
                community: m.community,
                pdu: convert_pdu(m.pdu, limits)?,
            }))
        }
        SnmpGenericMessage::V3(m) => {
            let model = m.header_data.msg_security_model.0;
            let usm = match m.security_params {
                SecurityParameters::USM(u) if i64::from(model) == SECURITY_MODEL_USM => u,
                _ => return Err(DecodeError::UnsupportedSecurityModel(model.into())),
            };
            let data = match m.data {
                ScopedPduData::Encrypted(c) => ScopedData::Encrypted(c.to_vec()),
                ScopedPduData::Plaintext(s) => ScopedData::Plain(ScopedPdu {
                    context_engine_id: s.ctx_engine_id.to_vec(),
                    context_name: s.ctx_engine_name.to_vec(),
                    pdu: convert_pdu(s.data, limits)?,
                }),
            };
            Ok(Message::V3(V3Message {
                msg_id: to_i32(m.header_data.msg_id)?,
                max_size: to_i32(m.header_data.msg_max_size)?,
                flags: MsgFlags(m.header_data.msg_flags),
                usm: UsmParams {
                    engine_id: usm.msg_authoritative_engine_id.to_vec(),
                    engine_boots: usm.msg_authoritative_engine_boots,
                    engine_time: usm.msg_authoritative_engine_time,
                    user_name: usm.msg_user_name,
                    auth_params: usm.msg_authentication_parameters.to_vec(),
                    priv_params: usm.msg_privacy_parameters.to_vec(),
                },
                data,
            }))
        }
    }
}

fn to_i32(v: u32) -> Result<i32, DecodeError> {
    i32::try_from(v).map_err(|_| DecodeError::BadValue)
}

fn convert_pdu(pdu: SnmpPdu<'_>, limits: &Limits) -> Result<Pdu, DecodeError> {
    Ok(match pdu {
        SnmpPdu::Generic(p) => Pdu::Generic(GenericPdu {
            kind: PduKind::from_number(p.pdu_type.0).ok_or(DecodeError::BadPduType)?,
            request_id: to_i32(p.req_id)?,
            error_status: to_i32(p.err.0)?,
            error_index: to_i32(p.err_index)?,
            varbinds: convert_varbinds(p.var, limits)?,
        }),
        SnmpPdu::Bulk(p) => Pdu::GetBulk(BulkPdu {
            request_id: to_i32(p.req_id)?,
            non_repeaters: to_i32(p.non_repeaters)?,
            max_repetitions: to_i32(p.max_repetitions)?,
            varbinds: convert_varbinds(p.var, limits)?,
        }),
        SnmpPdu::TrapV1(p) => {
            let NetworkAddress::IPv4(agent_addr) = p.agent_addr;
            Pdu::TrapV1(TrapV1Pdu {
                enterprise: convert_oid(&p.enterprise)?,
                agent_addr,
                generic_trap: p.generic_trap.0.into(),
                specific_trap: to_i32(p.specific_trap)?,
                timestamp: p.timestamp,
                varbinds: convert_varbinds(p.var, limits)?,
            })
        }
    })
}

fn convert_varbinds(
    vars: Vec<SnmpVariable<'_>>,
    limits: &Limits,
) -> Result<Vec<VarBind>, DecodeError> {
    if vars.len() > limits.max_varbinds {
        return Err(DecodeError::TooManyVarbinds {
            count: vars.len(),
            max: limits.max_varbinds,
        });
    }
    vars.into_iter()
        .map(|v| {
            Ok(VarBind {
                oid: convert_oid(&v.oid)?,
                value: convert_value(v.val)?,
            })
        })
        .collect()
}

fn convert_oid(oid: &asn1_rs::Oid<'_>) -> Result<Oid, DecodeError> {
    Oid::from_ber_contents(oid.as_bytes())
}

fn convert_value(v: VarBindValue<'_>) -> Result<Value, DecodeError> {
    Ok(match v {
        VarBindValue::Unspecified => Value::Null,
        VarBindValue::NoSuchObject => Value::NoSuchObject,
        VarBindValue::NoSuchInstance => Value::NoSuchInstance,
        VarBindValue::EndOfMibView => Value::EndOfMibView,
        VarBindValue::Value(s) => match s {
            ObjectSyntax::Number(n) => Value::Integer(n),
            ObjectSyntax::String(b) => Value::OctetString(b.to_vec()),
            // snmp-parser reads every zero-length simple value as Empty; in practice it is an
            // empty OCTET STRING (an empty sysContact or ifAlias).
            ObjectSyntax::Empty => Value::OctetString(Vec::new()),
            ObjectSyntax::Object(o) => Value::Oid(convert_oid(&o)?),
            ObjectSyntax::IpAddress(NetworkAddress::IPv4(a)) => Value::IpAddress(a),
            ObjectSyntax::Counter32(n) => Value::Counter32(n),
            ObjectSyntax::Gauge32(n) | ObjectSyntax::UInteger32(n) => Value::Gauge32(n),
            ObjectSyntax::TimeTicks(n) => Value::TimeTicks(n),
            ObjectSyntax::Opaque(b) => Value::Opaque(b.to_vec()),
            ObjectSyntax::Counter64(n) => Value::Counter64(n),
            ObjectSyntax::BitString(b) => {
                let mut contents = vec![b.unused_bits];
                contents.extend_from_slice(&b.data);
                Value::Other {
                    tag: 0x03,
                    contents,
                }
            }
            ObjectSyntax::NsapAddress(b) => Value::Other {
                tag: 0x45,
                contents: b.to_vec(),
            },
            ObjectSyntax::UnknownSimple(a) | ObjectSyntax::UnknownApplication(a) => {
                other_value(&a)?
            }
        },
    })
}

fn other_value(a: &asn1_rs::Any<'_>) -> Result<Value, DecodeError> {
    let number = u8::try_from(a.tag().0)
        .ok()
        .filter(|n| *n < 0x1f)
        .ok_or(DecodeError::BadTag)?;
    let class = (a.class() as u8) << 6;
    let constructed = if a.header.is_constructed() { 0x20 } else { 0 };
    Ok(Value::Other {
        tag: class | constructed | number,
        contents: a.data.to_vec(),
    })
}

fn parser_error(e: asn1_rs::Err<snmp_parser::error::SnmpError>) -> DecodeError {
    use snmp_parser::error::SnmpError as S;
    match e {
        asn1_rs::Err::Incomplete(_) => DecodeError::Truncated,
        asn1_rs::Err::Error(e) | asn1_rs::Err::Failure(e) => match e {
            S::InvalidVersion => DecodeError::UnsupportedVersion(-1),
            S::InvalidPduType => DecodeError::BadPduType,
            S::BerError(e) => asn1_error(&e),
            _ => DecodeError::Malformed,
        },
    }
}

fn asn1_error(e: &asn1_rs::Error) -> DecodeError {
    use asn1_rs::{DerConstraint as D, Error as E};
    match e {
        E::Incomplete(_) => DecodeError::Truncated,
        E::InvalidLength | E::IndefiniteLengthUnexpected => DecodeError::BadLength,
        E::DerConstraintFailed(D::IndefiniteLength) => DecodeError::BadLength,
        E::InvalidTag
        | E::UnknownTag(_)
        | E::UnexpectedTag { .. }
        | E::UnexpectedClass { .. }
        | E::ConstructExpected
        | E::ConstructUnexpected => DecodeError::BadTag,
        E::IntegerTooLarge
        | E::IntegerNegative
        | E::BerValueError
        | E::InvalidValue { .. }
        | E::DerConstraintFailed(_) => DecodeError::BadValue,
        E::StringInvalidCharset => DecodeError::BadString,
        E::BerMaxDepth => DecodeError::Malformed,
        _ => DecodeError::Malformed,
    }
}

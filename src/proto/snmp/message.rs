//! SNMP messages as owned values: v1/v2c (community) and v3 (USM), every PDU, and their codec.
//!
//! **Owns:** the value model ([`Value`], [`VarBind`], [`Pdu`], [`Message`]), [`encode`] with our
//! BER writer, and [`decode`], our own reader (`message/decode.rs` says why it replaced
//! snmp-parser). The USM layer (`usm/`) signs, verifies, encrypts and decrypts around it.
//!
//! **Must not:** panic on input, or let one datagram allocate without bound: [`Limits`] caps the
//! message size and the varbind count, and OIDs are capped at 128 arcs.
//!
//! **Strict and lenient:** besides BER that does not frame and the [`Limits`], a message is
//! refused for, among others, an integer out of its type's range, a zero-length INTEGER or
//! unsigned value, a community or user name that is not UTF-8 (it could not match a configured
//! one), a constructed value with fields missing or left over, and v3 data that disagrees with
//! the privacy flag. It is taken with a negative request-id, an unsigned value of four bytes
//! without BER's leading zero byte, and a variable of a type SNMPv2 does not define (kept as
//! [`Value::Other`]).

use std::net::Ipv4Addr;

use super::ber::{tag, Writer};
use super::oid::Oid;

mod decode;
pub use super::ber::DecodeError;
pub use decode::{decode, decode_scoped_pdu, decode_with};

/// A varbind value (RFC 3416 §3 ObjectSyntax and the three exceptions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    OctetString(Vec<u8>),
    /// `unSpecified`: the value in requests.
    Null,
    Oid(Oid),
    IpAddress(Ipv4Addr),
    Counter32(u32),
    /// Also Unsigned32, and the obsolete UInteger32 (application 7) some old agents send.
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
    /// A type SNMPv2 does not define (BIT STRING, NsapAddress, …), kept as its identifier octet
    /// and contents so a trap that carries one is not dropped.
    Other {
        tag: u8,
        contents: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Oid,
    pub value: Value,
}

impl VarBind {
    pub fn new(oid: Oid, value: Value) -> VarBind {
        VarBind { oid, value }
    }

    /// A varbind for a request: the OID with `unSpecified` (NULL).
    pub fn null(oid: Oid) -> VarBind {
        VarBind::new(oid, Value::Null)
    }
}

/// The PDUs that share the request-id / error-status / error-index layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PduKind {
    Get,
    GetNext,
    Response,
    Set,
    Inform,
    TrapV2,
    Report,
}

impl PduKind {
    fn tag(self) -> u8 {
        tag::PDU_BASE
            + match self {
                PduKind::Get => 0,
                PduKind::GetNext => 1,
                PduKind::Response => 2,
                PduKind::Set => 3,
                PduKind::Inform => 6,
                PduKind::TrapV2 => 7,
                PduKind::Report => 8,
            }
    }

    fn from_number(n: u32) -> Option<PduKind> {
        Some(match n {
            0 => PduKind::Get,
            1 => PduKind::GetNext,
            2 => PduKind::Response,
            3 => PduKind::Set,
            6 => PduKind::Inform,
            7 => PduKind::TrapV2,
            8 => PduKind::Report,
            _ => return None,
        })
    }
}

/// Get, GetNext, Response, Set, InformRequest, SNMPv2-Trap or Report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenericPdu {
    pub kind: PduKind,
    pub request_id: i32,
    /// RFC 3416 error-status: 0 noError, 1 tooBig, 2 noSuchName, … 18 inconsistentName.
    pub error_status: i32,
    pub error_index: i32,
    pub varbinds: Vec<VarBind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkPdu {
    pub request_id: i32,
    pub non_repeaters: i32,
    pub max_repetitions: i32,
    pub varbinds: Vec<VarBind>,
}

/// The SNMPv1 Trap-PDU (RFC 1157 §4.1.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapV1Pdu {
    pub enterprise: Oid,
    pub agent_addr: Ipv4Addr,
    /// 0 coldStart … 5 egpNeighborLoss, 6 enterpriseSpecific.
    pub generic_trap: i32,
    pub specific_trap: i32,
    /// sysUpTime of the sender, in hundredths of a second.
    pub timestamp: u32,
    pub varbinds: Vec<VarBind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pdu {
    Generic(GenericPdu),
    GetBulk(BulkPdu),
    TrapV1(TrapV1Pdu),
}

impl Pdu {
    pub fn varbinds(&self) -> &[VarBind] {
        match self {
            Pdu::Generic(p) => &p.varbinds,
            Pdu::GetBulk(p) => &p.varbinds,
            Pdu::TrapV1(p) => &p.varbinds,
        }
    }

    /// The request-id, which a v1 trap does not have.
    pub fn request_id(&self) -> Option<i32> {
        match self {
            Pdu::Generic(p) => Some(p.request_id),
            Pdu::GetBulk(p) => Some(p.request_id),
            Pdu::TrapV1(_) => None,
        }
    }

    /// The kind of a generic PDU; `None` for GetBulk and v1 traps.
    pub fn kind(&self) -> Option<PduKind> {
        match self {
            Pdu::Generic(p) => Some(p.kind),
            _ => None,
        }
    }
}

/// Community-based versions, with their wire numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1 = 0,
    V2c = 1,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommunityMessage {
    pub version: Version,
    pub community: String,
    pub pdu: Pdu,
}

/// msgFlags (RFC 3412 §6.4): bit 0 auth, bit 1 priv, bit 2 reportable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MsgFlags(pub u8);

impl MsgFlags {
    pub const AUTH: u8 = 0x01;
    pub const PRIV: u8 = 0x02;
    pub const REPORTABLE: u8 = 0x04;

    pub fn new(auth: bool, privacy: bool, reportable: bool) -> MsgFlags {
        MsgFlags(
            (if auth { Self::AUTH } else { 0 })
                | (if privacy { Self::PRIV } else { 0 })
                | (if reportable { Self::REPORTABLE } else { 0 }),
        )
    }
    pub fn auth(self) -> bool {
        self.0 & Self::AUTH != 0
    }
    pub fn privacy(self) -> bool {
        self.0 & Self::PRIV != 0
    }
    pub fn reportable(self) -> bool {
        self.0 & Self::REPORTABLE != 0
    }
}

/// UsmSecurityParameters (RFC 3414 §2.4), carried as an OCTET STRING in the v3 header.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UsmParams {
    pub engine_id: Vec<u8>,
    pub engine_boots: u32,
    pub engine_time: u32,
    pub user_name: String,
    /// The truncated HMAC, or empty without auth; zero-filled while the MAC is computed.
    pub auth_params: Vec<u8>,
    /// The 8-byte salt with privacy, else empty.
    pub priv_params: Vec<u8>,
}

/// The ScopedPDU (RFC 3412 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedPdu {
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
    pub pdu: Pdu,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopedData {
    Plain(ScopedPdu),
    /// encryptedPDU: the ciphertext of a BER ScopedPDU (see `usm::decrypt`).
    Encrypted(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Message {
    pub msg_id: i32,
    pub max_size: i32,
    pub flags: MsgFlags,
    pub usm: UsmParams,
    pub data: ScopedData,
}

/// USM's securityModel number (RFC 3411): the only one we speak.
pub const SECURITY_MODEL_USM: i64 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Community(CommunityMessage),
    V3(V3Message),
}

/// Caps on what one datagram may make us allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted, in bytes. 65,507 is the largest UDP/IPv4 payload.
    pub max_message_size: usize,
    pub max_varbinds: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 65_507,
            max_varbinds: 1000,
        }
    }
}

/// Encodes a message with our BER writer.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut w = Writer::with_capacity(256);
    match msg {
        Message::Community(m) => w.sequence(|w| {
            w.integer(m.version as i64);
            w.octet_string(m.community.as_bytes());
            write_pdu(w, &m.pdu);
        }),
        Message::V3(m) => w.sequence(|w| {
            w.integer(3);
            w.sequence(|w| {
                w.integer(m.msg_id.into());
                w.integer(m.max_size.into());
                w.octet_string(&[m.flags.0]);
                w.integer(SECURITY_MODEL_USM);
            });
            w.octet_string(&encode_usm_params(&m.usm));
            match &m.data {
                ScopedData::Plain(s) => write_scoped_pdu(w, s),
                ScopedData::Encrypted(c) => w.octet_string(c),
            }
        }),
    }
    w.into_bytes()
}

fn encode_usm_params(p: &UsmParams) -> Vec<u8> {
    let mut w = Writer::with_capacity(96);
    w.sequence(|w| {
        w.octet_string(&p.engine_id);
        w.integer(p.engine_boots.into());
        w.integer(p.engine_time.into());
        w.octet_string(p.user_name.as_bytes());
        w.octet_string(&p.auth_params);
        w.octet_string(&p.priv_params);
    });
    w.into_bytes()
}

/// The BER ScopedPDU, the plaintext that privacy encrypts.
pub fn encode_scoped_pdu(s: &ScopedPdu) -> Vec<u8> {
    let mut w = Writer::with_capacity(256);
    write_scoped_pdu(&mut w, s);
    w.into_bytes()
}

fn write_scoped_pdu(w: &mut Writer, s: &ScopedPdu) {
    w.sequence(|w| {
        w.octet_string(&s.context_engine_id);
        w.octet_string(&s.context_name);
        write_pdu(w, &s.pdu);
    })
}

fn write_pdu(w: &mut Writer, pdu: &Pdu) {
    match pdu {
        Pdu::Generic(p) => w.constructed(p.kind.tag(), |w| {
            w.integer(p.request_id.into());
            w.integer(p.error_status.into());
            w.integer(p.error_index.into());
            write_varbinds(w, &p.varbinds);
        }),
        Pdu::GetBulk(p) => w.constructed(tag::PDU_BASE + 5, |w| {
            w.integer(p.request_id.into());
            w.integer(p.non_repeaters.into());
            w.integer(p.max_repetitions.into());
            write_varbinds(w, &p.varbinds);
        }),
        Pdu::TrapV1(p) => w.constructed(tag::PDU_BASE + 4, |w| {
            w.oid(&p.enterprise);
            w.primitive(tag::IP_ADDRESS, &p.agent_addr.octets());
            w.integer(p.generic_trap.into());
            w.integer(p.specific_trap.into());
            w.unsigned(tag::TIMETICKS, p.timestamp.into());
            write_varbinds(w, &p.varbinds);
        }),
    }
}

fn write_varbinds(w: &mut Writer, vbs: &[VarBind]) {
    w.sequence(|w| {
        for vb in vbs {
            w.sequence(|w| {
                w.oid(&vb.oid);
                write_value(w, &vb.value);
            })
        }
    })
}

fn write_value(w: &mut Writer, v: &Value) {
    match v {
        Value::Integer(i) => w.integer((*i).into()),
        Value::OctetString(s) => w.octet_string(s),
        Value::Null => w.null(),
        Value::Oid(o) => w.oid(o),
        Value::IpAddress(a) => w.primitive(tag::IP_ADDRESS, &a.octets()),
        Value::Counter32(n) => w.unsigned(tag::COUNTER32, (*n).into()),
        Value::Gauge32(n) => w.unsigned(tag::GAUGE32, (*n).into()),
        Value::TimeTicks(n) => w.unsigned(tag::TIMETICKS, (*n).into()),
        Value::Opaque(s) => w.primitive(tag::OPAQUE, s),
        Value::Counter64(n) => w.unsigned(tag::COUNTER64, *n),
        Value::NoSuchObject => w.primitive(tag::NO_SUCH_OBJECT, &[]),
        Value::NoSuchInstance => w.primitive(tag::NO_SUCH_INSTANCE, &[]),
        Value::EndOfMibView => w.primitive(tag::END_OF_MIB_VIEW, &[]),
        Value::Other { tag, contents } => w.primitive(*tag, contents),
    }
}

#[cfg(test)]
pub(crate) mod tests;

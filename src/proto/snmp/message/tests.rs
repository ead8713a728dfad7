//! Codec tests: packets captured from net-snmp 5.9.3, round trips, and garbage.
//!
//! Fixtures were captured by sending to a Python UDP socket on 127.0.0.1 and printing the first
//! datagram in hex (`SNMP_PERSISTENT_DIR` pointed at a scratch directory); the command is above
//! each one.

use super::super::ber::read_tlv;
use super::*;

mod oracle;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

/// `snmptrap -v1 -c public 127.0.0.1:PORT 1.3.6.1.4.1.8072.2.3 192.0.2.7 6 17 12345
///  1.3.6.1.4.1.8072.2.3.2.1 i 123456 1.3.6.1.2.1.1.5.0 s hello`
pub(crate) const V1_TRAP: &str = "305102010004067075626c6963a44406092b06010401bf0802034004c0000207\
    0201060201114302303930273012060b2b06010401bf0802030201020301e240301106082b06010201010500040568\
    656c6c6f";

/// `snmptrap -v2c -c public 127.0.0.1:PORT 4242 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.3 i 3
///  1.3.6.1.2.1.2.2.1.8.3 i 2 1.3.6.1.2.1.31.1.1.1.6.3 C 18446744073709551615
///  1.3.6.1.2.1.4.20.1.1.10.0.0.1 a 10.0.0.1 1.3.6.1.2.1.1.2.0 o 1.3.6.1.4.1.9.1.617
///  1.3.6.1.2.1.2.2.1.10.3 c 4294967295 1.3.6.1.2.1.2.2.1.5.3 u 1000000000 1.3.6.1.2.1.1.4.0 s ''`
pub(crate) const V2C_TRAP: &str = "3081e702010104067075626c6963a781d90204351f47a70201000201003081\
    ca300e06082b06010201010300430210923017060a2b06010603010104010006092b0601060301010503300f060a2b\
    060102010202010103020103300f060a2b0601020102020108030201023018060b2b060102011f0101010603460900\
    ffffffffffffffff3015060d2b06010201041401010a00000140040a000001301506082b0601020101020006092b06\
    010401090184693013060a2b060102010202010a03410500ffffffff3012060a2b0601020102020105034204\
    3b9aca00300c06082b060102010104000400";

/// `snmpget -v2c -c public -r 0 -t 1 127.0.0.1:PORT 1.3.6.1.2.1.1.1.0 1.3.6.1.2.1.1.5.0`
const V2C_GET: &str = "303702010104067075626c6963a02a02041aed74c1020100020100301c300c06082b06\
    0102010101000500300c06082b060102010105000500";

/// `snmpbulkget -v2c -c public -r 0 -t 1 -Cn1 -Cr10 127.0.0.1:PORT 1.3.6.1.2.1.1.3.0
///  1.3.6.1.2.1.2.2.1.2`
const V2C_BULK: &str = "303802010104067075626c6963a52b02041c12f68b02010102010a301d300c06082b06\
    0102010103000500300d06092b06010201020201020500";

/// The engine-ID discovery probe of `snmpget -v3 -l authPriv -u authPrivUser -a SHA
/// -A authpass123 -x AES -X privpass123 -r 0 -t 1 127.0.0.1:PORT 1.3.6.1.2.1.1.1.0`
pub(crate) const V3_DISCOVERY: &str = "303e0201033011020454b01f12020300ffe30401040201030410300e04\
    00020100020100040004000400301404000400a00e020463d88c6a0201000201003000";

/// `snmptrap -v3 -e 0x8000000001020304 -u trapuser -l authPriv -a SHA -A authpass123 -x AES
///  -X privpass123 127.0.0.1:PORT 4242 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.3 i 3`
pub(crate) const V3_SHA_AES_TRAP: &str = "3081b1020103301102042a763e0b020300ffe3040103020103043630\
    34040880000000010203040201010203118f8404087472617075736572040c7d7bfb0cf7f1640c62c03ac20408b7f3\
    8483c3ebb6e60461c8eceadd430f1a4739cb0ffb80fa7ff2c467852c52144b423bddec8e58f488d5a08d0d6ebf3cc7\
    c47b5b7248abf01c1f50fe8f14c04866ca3af12cdcd4cde525b91191a870c5bd8bffd8a41e5821aee16691ecb47b43\
    c9788e6f2ac63d0d32ac73";

/// The same trap with `-u md5des -a MD5 -x DES`.
pub(crate) const V3_MD5_DES_TRAP: &str =
    "3081b60201033011020462860bd5020300ffe304010302010304343032\
    040880000000010203040201010203118f9304066d6435646573040ce1f27ed9a5311ff059f59958040800000004f5\
    2cd3ea0468450f89f63c46ce13ed21d874a4295e13a3fb1ddc0a905642e78b956a24ff55021b536aba1eb4c02fb77d\
    08082b089073a9abb92b3df6fd19d3ab344217f15e41e2257f86a40802ff52dea7864404acbfc6dbb1d2672693e8f8\
    707bc6f8b9e57175ae9475888cacea";

/// The same trap with `-u authonly -l authNoPriv -a SHA-256`. net-snmp puts its *own* engine ID
/// (80001f8880…) in contextEngineID, not the `-e` one.
pub(crate) const V3_SHA256_AUTH_TRAP: &str = "3081b3020103301102044485725b020300ffe30401010201030\
    43a3038040880000000010203040201010203118fa80408617574686f6e6c7904186b368b011ed17888de08bd17565d\
    08623254185bc46ed5140400305f041180001f888059be71245ddf016b000000000400a74802046ab3d9f102010002\
    0100303a300e06082b06010201010300430210923017060a2b06010603010104010006092b06010603010105033\
    00f060a2b060102010202010103020103";

const FIXTURES: [&str; 8] = [
    V1_TRAP,
    V2C_TRAP,
    V2C_GET,
    V2C_BULK,
    V3_DISCOVERY,
    V3_SHA_AES_TRAP,
    V3_MD5_DES_TRAP,
    V3_SHA256_AUTH_TRAP,
];

fn community(bytes: &[u8]) -> CommunityMessage {
    match decode(bytes).unwrap() {
        Message::Community(m) => m,
        other => panic!("not v1/v2c: {other:?}"),
    }
}

fn v3(bytes: &[u8]) -> V3Message {
    match decode(bytes).unwrap() {
        Message::V3(m) => m,
        other => panic!("not v3: {other:?}"),
    }
}

#[test]
fn net_snmp_v1_trap_decodes_with_every_field() {
    let m = community(&hex(V1_TRAP));
    assert_eq!((m.version, m.community.as_str()), (Version::V1, "public"));
    let Pdu::TrapV1(t) = m.pdu else {
        panic!("{:?}", m.pdu)
    };
    assert_eq!(t.enterprise, oid("1.3.6.1.4.1.8072.2.3"));
    assert_eq!(t.agent_addr, Ipv4Addr::new(192, 0, 2, 7));
    assert_eq!(
        (t.generic_trap, t.specific_trap, t.timestamp),
        (6, 17, 12345)
    );
    assert_eq!(
        t.varbinds,
        [
            VarBind::new(oid("1.3.6.1.4.1.8072.2.3.2.1"), Value::Integer(123456)),
            VarBind::new(
                oid("1.3.6.1.2.1.1.5.0"),
                Value::OctetString(b"hello".to_vec())
            ),
        ]
    );
}

#[test]
fn net_snmp_v2c_trap_decodes_every_value_type() {
    let m = community(&hex(V2C_TRAP));
    assert_eq!(m.version, Version::V2c);
    let Pdu::Generic(p) = m.pdu else { panic!() };
    assert_eq!(
        (p.kind, p.error_status, p.error_index),
        (PduKind::TrapV2, 0, 0)
    );
    let values: Vec<_> = p
        .varbinds
        .iter()
        .map(|v| (v.oid.to_string(), v.value.clone()))
        .collect();
    assert_eq!(
        values,
        [
            ("1.3.6.1.2.1.1.3.0".into(), Value::TimeTicks(4242)),
            (
                "1.3.6.1.6.3.1.1.4.1.0".into(),
                Value::Oid(oid("1.3.6.1.6.3.1.1.5.3"))
            ),
            ("1.3.6.1.2.1.2.2.1.1.3".into(), Value::Integer(3)),
            ("1.3.6.1.2.1.2.2.1.8.3".into(), Value::Integer(2)),
            (
                "1.3.6.1.2.1.31.1.1.1.6.3".into(),
                Value::Counter64(u64::MAX)
            ),
            (
                "1.3.6.1.2.1.4.20.1.1.10.0.0.1".into(),
                Value::IpAddress(Ipv4Addr::new(10, 0, 0, 1))
            ),
            (
                "1.3.6.1.2.1.1.2.0".into(),
                Value::Oid(oid("1.3.6.1.4.1.9.1.617"))
            ),
            ("1.3.6.1.2.1.2.2.1.10.3".into(), Value::Counter32(u32::MAX)),
            (
                "1.3.6.1.2.1.2.2.1.5.3".into(),
                Value::Gauge32(1_000_000_000)
            ),
            ("1.3.6.1.2.1.1.4.0".into(), Value::OctetString(Vec::new())),
        ]
    );
}

#[test]
fn net_snmp_requests_decode() {
    let m = community(&hex(V2C_GET));
    let Pdu::Generic(p) = &m.pdu else { panic!() };
    assert_eq!(p.kind, PduKind::Get);
    assert_eq!(p.varbinds[1], VarBind::null(oid("1.3.6.1.2.1.1.5.0")));
    let m = community(&hex(V2C_BULK));
    let Pdu::GetBulk(b) = &m.pdu else { panic!() };
    assert_eq!(
        (b.non_repeaters, b.max_repetitions, b.varbinds.len()),
        (1, 10, 2)
    );
}

#[test]
fn net_snmp_v3_messages_decode() {
    let d = v3(&hex(V3_DISCOVERY));
    assert_eq!(d.flags, MsgFlags::new(false, false, true));
    assert_eq!(d.max_size, 65507);
    assert!(d.usm.engine_id.is_empty() && d.usm.user_name.is_empty());
    let ScopedData::Plain(s) = &d.data else {
        panic!()
    };
    assert_eq!(s.pdu.kind(), Some(PduKind::Get));
    assert!(s.pdu.varbinds().is_empty());

    let t = v3(&hex(V3_SHA_AES_TRAP));
    assert_eq!(t.flags, MsgFlags::new(true, true, false));
    assert_eq!(t.usm.engine_id, hex("8000000001020304"));
    assert_eq!(t.usm.user_name, "trapuser");
    assert_eq!((t.usm.auth_params.len(), t.usm.priv_params.len()), (12, 8));
    assert!(matches!(t.data, ScopedData::Encrypted(ref c) if c.len() == 0x61));

    let a = v3(&hex(V3_SHA256_AUTH_TRAP));
    assert_eq!(a.usm.auth_params.len(), 24);
    let ScopedData::Plain(s) = &a.data else {
        panic!()
    };
    assert_eq!(s.pdu.kind(), Some(PduKind::TrapV2));
}

/// Our encoder writes exactly what net-snmp wrote, for every captured message.
#[test]
fn re_encoding_net_snmp_packets_gives_the_same_bytes() {
    for f in FIXTURES {
        let bytes = hex(f);
        assert_eq!(encode(&decode(&bytes).unwrap()), bytes, "{f}");
    }
}

fn sample_varbinds() -> Vec<VarBind> {
    let o = oid("1.3.6.1.4.1.2636.3.1.13.1.7.9.1.0.0");
    [
        Value::Integer(i32::MIN),
        Value::Integer(-1),
        Value::Integer(i32::MAX),
        Value::OctetString(vec![0, 0xff, b'a']),
        Value::OctetString(vec![b'x'; 300]),
        Value::Null,
        Value::Oid(oid("2.999.1")),
        Value::IpAddress(Ipv4Addr::new(255, 0, 128, 1)),
        Value::Counter32(0x8000_0000),
        Value::Gauge32(0),
        Value::TimeTicks(u32::MAX),
        Value::Opaque(vec![0x9f, 0x78, 4, 0x3f, 0x80, 0, 0]),
        Value::Counter64(1 << 63),
        Value::NoSuchObject,
        Value::NoSuchInstance,
        Value::EndOfMibView,
    ]
    .into_iter()
    .map(|v| VarBind::new(o.clone(), v))
    .collect()
}

fn every_pdu() -> Vec<Pdu> {
    let kinds = [
        PduKind::Get,
        PduKind::GetNext,
        PduKind::Response,
        PduKind::Set,
        PduKind::Inform,
        PduKind::TrapV2,
        PduKind::Report,
    ];
    let mut pdus: Vec<Pdu> = kinds
        .into_iter()
        .map(|kind| {
            Pdu::Generic(GenericPdu {
                kind,
                request_id: 0x7fff_fff0,
                error_status: 2,
                error_index: 3,
                varbinds: sample_varbinds(),
            })
        })
        .collect();
    pdus.push(Pdu::GetBulk(BulkPdu {
        request_id: 1,
        non_repeaters: 0,
        max_repetitions: 25,
        varbinds: vec![VarBind::null(oid("1.3.6.1.2.1.31.1.1.1"))],
    }));
    pdus.push(Pdu::TrapV1(TrapV1Pdu {
        enterprise: oid("1.3.6.1.4.1.9"),
        agent_addr: Ipv4Addr::new(10, 1, 2, 3),
        generic_trap: 2,
        specific_trap: 0,
        timestamp: 99,
        varbinds: sample_varbinds(),
    }));
    pdus
}

#[test]
fn every_pdu_and_value_round_trips() {
    for pdu in every_pdu() {
        // v1 has only Get, GetNext, Response, Set and Trap (RFC 1157)
        let v1_ok = matches!(pdu, Pdu::TrapV1(_))
            || matches!(
                pdu.kind(),
                Some(PduKind::Get | PduKind::GetNext | PduKind::Response | PduKind::Set)
            );
        for version in [Version::V1, Version::V2c] {
            if version == Version::V1 && !v1_ok {
                continue;
            }
            let m = Message::Community(CommunityMessage {
                version,
                community: "s3cr3t".into(),
                pdu: pdu.clone(),
            });
            assert_eq!(decode(&encode(&m)), Ok(m.clone()), "{version:?} {pdu:?}");
        }
        let m = Message::V3(V3Message {
            msg_id: 42,
            max_size: 1472,
            flags: MsgFlags::new(false, false, true),
            usm: UsmParams {
                engine_id: hex("80001f8804736e6d70642d74657374"),
                engine_boots: 3,
                engine_time: 86400,
                user_name: "poller".into(),
                ..Default::default()
            },
            data: ScopedData::Plain(ScopedPdu {
                context_engine_id: hex("80001f8804736e6d70642d74657374"),
                context_name: b"vlan-20".to_vec(),
                pdu: pdu.clone(),
            }),
        });
        let bytes = encode(&m);
        assert_eq!(decode(&bytes), Ok(m.clone()), "v3 {pdu:?}");
        let Message::V3(v) = &m else { unreachable!() };
        let ScopedData::Plain(s) = &v.data else {
            unreachable!()
        };
        let scoped = message_encode_scoped(s);
        assert_eq!(
            decode_scoped_pdu(&scoped, &Limits::default()).as_ref(),
            Ok(s)
        );
    }
}

fn message_encode_scoped(s: &ScopedPdu) -> Vec<u8> {
    let mut b = encode_scoped_pdu(s);
    b.extend([0; 5]); // DES padding after the ScopedPDU is ignored
    b
}

#[test]
fn errors_have_precise_reasons() {
    let reason = |b: &[u8]| decode(b).unwrap_err().reason();
    assert_eq!(reason(&[]), "truncated");
    assert_eq!(reason(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), "truncated");
    assert_eq!(reason(&[0x30, 0x80, 2, 1, 1, 0, 0]), "bad_length");
    assert_eq!(reason(&[0x04, 0x00]), "bad_tag");
    assert_eq!(
        reason(&[0x30, 0x03, 0x02, 0x01, 0x02]),
        "unsupported_version"
    );
    let mut trailing = hex(V2C_GET);
    trailing.push(0);
    assert_eq!(reason(&trailing), "trailing_data");
    let mut v = hex(V2C_GET);
    v[13] = 0xa9; // PDU tag 9 does not exist
    assert_eq!(reason(&v), "bad_pdu_type");
    let huge = vec![0u8; 70_000];
    assert_eq!(reason(&huge), "too_large");
}

#[test]
fn limits_cap_varbinds_and_oid_arcs() {
    let many = Message::Community(CommunityMessage {
        version: Version::V2c,
        community: "public".into(),
        pdu: Pdu::Generic(GenericPdu {
            kind: PduKind::TrapV2,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds: vec![VarBind::null(oid("1.3.6.1.2.1.1.1.0")); 1001],
        }),
    });
    let bytes = encode(&many);
    assert_eq!(decode(&bytes).unwrap_err().reason(), "too_many_varbinds");
    let roomy = Limits {
        max_varbinds: 2000,
        ..Limits::default()
    };
    assert!(decode_with(&bytes, &roomy).is_ok());
    let small = Limits {
        max_message_size: 100,
        ..Limits::default()
    };
    assert_eq!(
        decode_with(&bytes, &small).unwrap_err().reason(),
        "too_large"
    );

    // A varbind OID with 129 arcs, written by hand (our Oid type cannot hold one).
    let mut w = Writer::new();
    w.sequence(|w| {
        w.integer(1);
        w.octet_string(b"public");
        w.constructed(0xa7, |w| {
            w.integer(1);
            w.integer(0);
            w.integer(0);
            w.sequence(|w| {
                w.sequence(|w| {
                    let mut c = vec![0x2b];
                    c.extend([1u8; 127]);
                    w.primitive(tag::OID, &c);
                    w.null();
                })
            })
        })
    });
    assert_eq!(
        decode(&w.into_bytes()).unwrap_err().reason(),
        "oid_too_long"
    );
}

#[test]
fn every_truncation_of_real_packets_is_an_error_not_a_panic() {
    for f in FIXTURES {
        let bytes = hex(f);
        for n in 0..bytes.len() {
            let e = decode(&bytes[..n]).unwrap_err();
            assert!(!e.reason().is_empty());
        }
    }
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..20_000 {
        let len = rng.usize(0..300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        let _ = decode(&bytes);
        let _ = decode_scoped_pdu(&bytes, &Limits::default());
    }
    // Flip bytes of real packets: mostly still well-framed, so this reaches deep into the parser.
    for f in FIXTURES {
        let orig = hex(f);
        for _ in 0..3_000 {
            let mut b = orig.clone();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..b.len());
                b[i] = rng.u8(..);
            }
            if let Ok(m) = decode(&b) {
                // whatever decodes must encode and decode to the same thing
                assert_eq!(decode(&encode(&m)), Ok(m));
            }
        }
    }
}

#[test]
fn deeply_nested_sequences_are_refused() {
    let mut b = vec![];
    for _ in 0..10_000 {
        b = [vec![0x30], long_len(b.len()), b].concat();
    }
    assert!(decode(&b).is_err());
    // nested inside a varbind value position
    let mut inner = vec![0x05, 0x00];
    for _ in 0..500 {
        inner = [vec![0x30], long_len(inner.len()), inner].concat();
    }
    let mut w = Writer::new();
    w.sequence(|w| {
        w.integer(1);
        w.octet_string(b"public");
        w.constructed(0xa7, |w| {
            w.integer(1);
            w.integer(0);
            w.integer(0);
            w.sequence(|w| {
                w.sequence(|w| {
                    w.oid(&oid("1.3.6"));
                    w.raw(&inner);
                })
            })
        })
    });
    let _ = decode(&w.into_bytes());
}

fn long_len(n: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.octet_string(&vec![0; n]);
    let b = w.into_bytes();
    let (t, _) = read_tlv(&b).unwrap();
    b[1..t.header_len].to_vec()
}

/// The decoder against the one it replaced (snmp-parser 0.11 and our conversion, `oracle.rs`) on
/// real packets, every PDU shape and 1,999 byte mutations of each. Where both decode, the result
/// is mostly the same; where snmp-parser decodes and ours refuses or differs, snmp-parser had
/// skipped or misread part of the bytes (a zero-length number read as an empty OCTET STRING,
/// fields left over inside a SEQUENCE, a varbind's tag, a PDU's length or an OID's constructed
/// bit not checked), so its result does not encode back to them. Where only ours decodes (a
/// negative request-id, `ff ff ff ff` as a Counter32, a type SNMPv2 does not define), snmp-parser
/// refused a value or a tag, never a frame; and everywhere, what ours decodes encodes to bytes
/// that decode to the same value.
#[test]
fn decodes_as_snmp_parser_did_except_where_documented() {
    let limits = Limits::default();
    let mut packets: Vec<Vec<u8>> = FIXTURES.iter().map(|f| hex(f)).collect();
    for pdu in every_pdu() {
        packets.push(encode(&Message::Community(CommunityMessage {
            version: Version::V2c,
            community: "public".into(),
            pdu,
        })));
    }
    let mut rng = fastrand::Rng::with_seed(0x0dd);
    let (mut same, mut stricter, mut tolerated, mut both_refused) = (0, 0, 0, 0);
    for orig in &packets {
        for round in 0..2_000 {
            let mut b = orig.clone();
            if round > 0 {
                for _ in 0..rng.usize(1..4) {
                    let i = rng.usize(..b.len());
                    b[i] = rng.u8(..);
                }
            }
            let (ours, theirs) = (decode_with(&b, &limits), oracle::decode_with(&b, &limits));
            if let Ok(m) = &ours {
                assert_eq!(decode(&encode(m)).as_ref(), Ok(m), "{}", hexdump(&b));
            }
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) if ours == theirs => same += 1,
                (_, Ok(theirs)) => {
                    // snmp-parser skipped or misread part of the bytes: what it read does not
                    // encode back to them
                    assert_ne!(encode(&theirs), b, "decoded otherwise than snmp-parser");
                    stricter += 1;
                }
                (Ok(_), Err(e)) => {
                    // a value or tag snmp-parser refused, never a frame it could not read
                    assert!(
                        matches!(
                            e,
                            DecodeError::BadValue | DecodeError::BadTag | DecodeError::BadOid
                        ),
                        "took what snmp-parser refused as {e:?}: {}",
                        hexdump(&b)
                    );
                    tolerated += 1
                }
                (Err(_), Err(_)) => both_refused += 1,
            }
        }
    }
    println!(
        "same {same}, stricter {stricter}, tolerated {tolerated}, both refused {both_refused}"
    );
    // the mutations reach every branch
    assert!(same > 1_000 && stricter > 0 && tolerated > 0 && both_refused > 1_000);
}

fn hexdump(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A v2c trap with the given request-id and one varbind whose value is the raw TLV `value`.
fn trap_with(request_id: i32, value: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.sequence(|w| {
        w.integer(1);
        w.octet_string(b"public");
        w.constructed(0xa7, |w| {
            w.integer(request_id.into());
            w.integer(0);
            w.integer(0);
            w.sequence(|w| {
                w.sequence(|w| {
                    w.oid(&oid("1.3.6.1.2.1.2.2.1.10.3"));
                    w.raw(value);
                })
            })
        })
    });
    w.into_bytes()
}

fn only_value(bytes: &[u8]) -> Result<(i32, Value), DecodeError> {
    let Message::Community(m) = decode(bytes)? else {
        panic!("not v2c")
    };
    let Pdu::Generic(p) = m.pdu else {
        panic!("not a generic PDU")
    };
    Ok((p.request_id, p.varbinds[0].value.clone()))
}

#[test]
fn odd_but_readable_traps_are_taken_and_misencoded_ones_refused() {
    // RFC 3416 allows a negative request-id
    let ok = only_value(&trap_with(-5, &[0x02, 0x01, 0x07])).unwrap();
    assert_eq!(ok, (-5, Value::Integer(7)));
    // Counter32 4294967295 without the leading zero byte, as some agents send it, and with
    // redundant zero bytes
    let ok = only_value(&trap_with(1, &[0x41, 0x04, 0xff, 0xff, 0xff, 0xff])).unwrap();
    assert_eq!(ok.1, Value::Counter32(u32::MAX));
    let ok = only_value(&trap_with(1, &[0x43, 0x06, 0, 0, 0, 0, 0x10, 0x92])).unwrap();
    assert_eq!(ok.1, Value::TimeTicks(0x1092));
    // an IpAddress of the wrong length and a BIT STRING are kept as they came
    let ok = only_value(&trap_with(1, &[0x40, 0x03, 10, 0, 1])).unwrap();
    assert_eq!(
        ok.1,
        Value::Other {
            tag: 0x40,
            contents: vec![10, 0, 1]
        }
    );
    let ok = only_value(&trap_with(1, &[0x03, 0x02, 0x07, 0x80])).unwrap();
    assert_eq!(
        ok.1,
        Value::Other {
            tag: 0x03,
            contents: vec![7, 0x80]
        }
    );
    let refused = |value: &[u8]| only_value(&trap_with(1, value)).unwrap_err().reason();
    assert_eq!(refused(&[0x02, 0x00]), "bad_value", "a zero-length INTEGER");
    assert_eq!(
        refused(&[0x41, 0x00]),
        "bad_value",
        "a zero-length Counter32"
    );
    assert_eq!(refused(&[0x41, 0x05, 1, 0, 0, 0, 0]), "bad_value", "2^32");
    assert_eq!(
        refused(&[0x02, 0x05, 0, 0x80, 0, 0, 0]),
        "bad_value",
        "2^31"
    );
    assert_eq!(
        refused(&[0x05, 0x01, 0x00]),
        "bad_value",
        "a NULL with contents"
    );
    assert_eq!(
        refused(&[0x80, 0x01, 0x00]),
        "bad_value",
        "noSuchObject with contents"
    );
    // a field left over inside the varbind
    assert_eq!(refused(&[0x05, 0x00, 0x05, 0x00]), "malformed");
    // a v1 message carries no SNMPv2 PDUs
    let mut v1 = trap_with(1, &[0x05, 0x00]);
    v1[4] = 0; // version 1 → 0
    assert_eq!(decode(&v1).unwrap_err().reason(), "bad_pdu_type");
}

#[test]
fn v3_data_must_match_the_privacy_flag_and_ids_are_not_negative() {
    // msgFlags is the OCTET STRING of one byte after msgMaxSize: 04 01 xx
    let flags_at = |b: &[u8], now: u8| {
        b.windows(3)
            .position(|w| w == [0x04, 0x01, now])
            .expect("msgFlags")
            + 2
    };
    // authNoPriv with the privacy flag set: the ScopedPDU is plain
    let plain = hex(V3_SHA256_AUTH_TRAP);
    assert!(decode(&plain).is_ok());
    let mut b = plain.clone();
    b[flags_at(&plain, 0x01)] = 0x03;
    assert_eq!(decode(&b).unwrap_err().reason(), "bad_tag");
    // authPriv without it: the ScopedPDU is encrypted
    let enc = hex(V3_SHA_AES_TRAP);
    assert!(decode(&enc).is_ok());
    let mut b = enc.clone();
    b[flags_at(&enc, 0x03)] = 0x01;
    assert_eq!(decode(&b).unwrap_err().reason(), "bad_tag");
    // a negative msgID (02 04 2a 76 3e 0b → aa 76 3e 0b)
    let id_at = enc
        .windows(4)
        .position(|w| w == [0x02, 0x04, 0x2a, 0x76])
        .expect("msgID")
        + 2;
    let mut b = enc.clone();
    b[id_at] = 0xaa;
    assert_eq!(decode(&b).unwrap_err().reason(), "bad_value");
}

//! USM tests: published vectors, an independent oracle (pysnmp), and traps captured from
//! net-snmp 5.9.3 (see `message_tests.rs` for the commands).

use super::*;
use crate::proto::snmp::ber::Oid;
use crate::proto::snmp::message::tests::{
    hex, V3_DISCOVERY, V3_MD5_DES_TRAP, V3_SHA256_AUTH_TRAP, V3_SHA_AES_TRAP,
};
use crate::proto::snmp::message::{
    decode, GenericPdu, Message, MsgFlags, Pdu, PduKind, UsmParams, Value, VarBind,
};

const SENDER_ENGINE: &str = "8000000001020304";

fn user(auth: Option<&str>, privacy: Option<&str>) -> UsmUser {
    UsmUser::new(
        "u",
        auth.map(|a| (a.parse().unwrap(), &b"authpass123"[..])),
        privacy.map(|p| (p.parse().unwrap(), &b"privpass123"[..])),
    )
    .unwrap()
}

fn v3(bytes: &[u8]) -> V3Message {
    match decode(bytes).unwrap() {
        Message::V3(m) => m,
        m => panic!("{m:?}"),
    }
}

/// Privacy keys and ciphertexts from pysnmp 7.1.30, an independent implementation with both key
/// extensions (its `AesBlumenthal192/256` = our aes192/aes256, its `Aes192/256` = Reeder =
/// our aes192c/aes256c) and 3DES. Password "privpass123", engine 8000000001020304, boots 1, time
/// 1150852; plaintext 301104000400a00b0201010201000201003000. Made by `oracle.py`:
/// ```text
/// p = cls(); ku = p.hash_passphrase(auth_oid, b"privpass123")
/// kul = p.localize_key(auth_oid, ku, univ.OctetString(hexValue="8000000001020304"))
/// p.local_int = 0x05060708 (des, 3des) or 0x0102030405060708 (aes*)
/// ct, salt = p.encrypt_data(kul, (1, 1150852, None), plain)
/// ```
/// for auth in HmacMd5, HmacSha, HmacSha2 SHA224/SHA256 and cls in Des, Des3, Aes,
/// AesBlumenthal192, AesBlumenthal256, Aes192, Aes256.
const PYSNMP_VECTORS: [(&str, &str, &str, &str, &str); 28] = [
    (
        "md5",
        "des",
        "b4cecbf282693eea696ce80f6d23a72f",
        "0000000105060708",
        "ca12861f2c708391dc690b3eba50cfd2be6d14b4525ee7a6",
    ),
    (
        "md5",
        "3des",
        "b4cecbf282693eea696ce80f6d23a72f9a40850a70f35cf85746ac131652d74e",
        "0000000105060708",
        "c53ac92a436a1428a3620b34435c5d547549bb38cb0a2412",
    ),
    (
        "md5",
        "aes",
        "b4cecbf282693eea696ce80f6d23a72f",
        "0102030405060708",
        "6e6e9ae1f20dec564e6232cabf8a0be28a07fd",
    ),
    (
        "md5",
        "aes192",
        "b4cecbf282693eea696ce80f6d23a72f8d6a8ec4a4571f73",
        "0102030405060708",
        "f57bf9a6d58f0a1cba0b923b65f6ef895004e9",
    ),
    (
        "md5",
        "aes256",
        "b4cecbf282693eea696ce80f6d23a72f8d6a8ec4a4571f73495253a60b8f277f",
        "0102030405060708",
        "2db0e74d147994b34a77ff6e784d213edaa7ac",
    ),
    (
        "md5",
        "aes192c",
        "b4cecbf282693eea696ce80f6d23a72f9a40850a70f35cf8",
        "0102030405060708",
        "bb8e7dfeb34de05b7883695a68714f3eaee385",
    ),
    (
        "md5",
        "aes256c",
        "b4cecbf282693eea696ce80f6d23a72f9a40850a70f35cf85746ac131652d74e",
        "0102030405060708",
        "f46afa802e874bf5f04e48597c6ac05777b232",
    ),
    (
        "sha",
        "des",
        "1af4ac14628905c3cfad0365c3124010",
        "0000000105060708",
        "836decb798b4f42624c7e59d8eb6aac4c97b12ac9a661eae",
    ),
    (
        "sha",
        "3des",
        "1af4ac14628905c3cfad0365c3124010356e37a4d31db136d68647722054c106",
        "0000000105060708",
        "f25f0fc8e4704962f4d0f1a92eaf6e9ef4e794207c5e7188",
    ),
    (
        "sha",
        "aes",
        "1af4ac14628905c3cfad0365c3124010",
        "0102030405060708",
        "2e9983e21818d7127f98b98a6ae95c65957d62",
    ),
    (
        "sha",
        "aes192",
        "1af4ac14628905c3cfad0365c3124010356e37a47c1c13b6",
        "0102030405060708",
        "ca50a6599209dde34544c6676e1eec42d57da2",
    ),
    (
        "sha",
        "aes256",
        "1af4ac14628905c3cfad0365c3124010356e37a47c1c13b624e574893d421346",
        "0102030405060708",
        "44711be803cbde25318d36a194bcc5dae882d4",
    ),
    (
        "sha",
        "aes192c",
        "1af4ac14628905c3cfad0365c3124010356e37a4d31db136",
        "0102030405060708",
        "c94f888e2ac81e4bd1e76368110497bedbd8c7",
    ),
    (
        "sha",
        "aes256c",
        "1af4ac14628905c3cfad0365c3124010356e37a4d31db136d68647722054c106",
        "0102030405060708",
        "2303c48bf7a61149c797df605989e8bf4f68b7",
    ),
    (
        "sha224",
        "des",
        "34bacd201530ce16bf3c2abc00bb077a",
        "0000000105060708",
        "143021221739fecbf5e92bca3fb249dbc4e6ff81275073de",
    ),
    (
        "sha224",
        "3des",
        "34bacd201530ce16bf3c2abc00bb077a33432cbbe3a39b1acb9d0b5cee8cb26d",
        "0000000105060708",
        "74cd0376f98d393914aae4d6f0823ae978ee7b7b1c4b1eea",
    ),
    (
        "sha224",
        "aes",
        "34bacd201530ce16bf3c2abc00bb077a",
        "0102030405060708",
        "a2d222b586af1bbe8862d3b92f927a176e077d",
    ),
    (
        "sha224",
        "aes192",
        "34bacd201530ce16bf3c2abc00bb077a33432cbbe3a39b1a",
        "0102030405060708",
        "c825c994624e69b6d3526c576813a2a5ade351",
    ),
    (
        "sha224",
        "aes256",
        "34bacd201530ce16bf3c2abc00bb077a33432cbbe3a39b1acb9d0b5c85bfd792",
        "0102030405060708",
        "4e07e015ac19679cad935cab7b6d62442c1b78",
    ),
    (
        "sha224",
        "aes192c",
        "34bacd201530ce16bf3c2abc00bb077a33432cbbe3a39b1a",
        "0102030405060708",
        "c825c994624e69b6d3526c576813a2a5ade351",
    ),
    (
        "sha224",
        "aes256c",
        "34bacd201530ce16bf3c2abc00bb077a33432cbbe3a39b1acb9d0b5cee8cb26d",
        "0102030405060708",
        "ae488e0e51e89850ef06ecb72a9de4d8e6e64f",
    ),
    (
        "sha256",
        "des",
        "8d1930d80ffe946be394c78a43a16c57",
        "0000000105060708",
        "a342e58d908b1b5c73c90ae026c797953143bfbc063b2046",
    ),
    (
        "sha256",
        "3des",
        "8d1930d80ffe946be394c78a43a16c572dc7fdd1eda91ddcc7a6cf5114120c3f",
        "0000000105060708",
        "892907b0a970c7f6bcd242e220fce2363369497d4e3c05ab",
    ),
    (
        "sha256",
        "aes",
        "8d1930d80ffe946be394c78a43a16c57",
        "0102030405060708",
        "32c213b3f8c79fa361a873add7dfb502c6a6d0",
    ),
    (
        "sha256",
        "aes192",
        "8d1930d80ffe946be394c78a43a16c572dc7fdd1eda91ddc",
        "0102030405060708",
        "9e7ef4b4649b2a303c3048bf1a4429bbd902a4",
    ),
    (
        "sha256",
        "aes256",
        "8d1930d80ffe946be394c78a43a16c572dc7fdd1eda91ddcc7a6cf5114120c3f",
        "0102030405060708",
        "cecc0b84cef7f2e0d05302d80961c103e897dd",
    ),
    (
        "sha256",
        "aes192c",
        "8d1930d80ffe946be394c78a43a16c572dc7fdd1eda91ddc",
        "0102030405060708",
        "9e7ef4b4649b2a303c3048bf1a4429bbd902a4",
    ),
    (
        "sha256",
        "aes256c",
        "8d1930d80ffe946be394c78a43a16c572dc7fdd1eda91ddcc7a6cf5114120c3f",
        "0102030405060708",
        "cecc0b84cef7f2e0d05302d80961c103e897dd",
    ),
];

#[test]
fn privacy_keys_and_ciphertexts_match_pysnmp() {
    let engine = hex(SENDER_ENGINE);
    let plain = hex("301104000400a00b0201010201000201003000");
    for (a, p, kul, salt, ct) in PYSNMP_VECTORS {
        let (auth, privacy): (AuthProtocol, PrivProtocol) =
            (a.parse().unwrap(), p.parse().unwrap());
        let ku = password_to_key(auth, b"privpass123").unwrap();
        let key = localize_privacy_key(auth, privacy, &ku, &engine).unwrap();
        assert_eq!(key, hex(kul), "key {a}/{p}");
        let salt_in = if privacy == PrivProtocol::Des || privacy == PrivProtocol::TripleDes {
            0x0506_0708
        } else {
            0x0102_0304_0506_0708
        };
        let (c, s) = privacy::encrypt(privacy, &key, 1, 1_150_852, salt_in, &plain).unwrap();
        assert_eq!(
            (c.clone(), s.to_vec()),
            (hex(ct), hex(salt)),
            "cipher {a}/{p}"
        );
        let back = privacy::decrypt(privacy, &key, 1, 1_150_852, &s, &c).unwrap();
        assert_eq!(back[..plain.len()], plain[..], "{a}/{p}");
    }
}

#[test]
fn blumenthal_and_reeder_differ_only_when_the_key_is_extended() {
    let engine = hex(SENDER_ENGINE);
    for auth in AuthProtocol::ALL {
        let ku = password_to_key(auth, b"privpass123").unwrap();
        let b = localize_privacy_key(auth, PrivProtocol::Aes256, &ku, &engine).unwrap();
        let r = localize_privacy_key(auth, PrivProtocol::Aes256Reeder, &ku, &engine).unwrap();
        assert_eq!(b == r, auth.digest_len() >= 32, "{auth}");
        assert_eq!(b[..16], r[..16]);
    }
}

/// Traps captured from net-snmp's snmptrap: verify the MAC over the bytes as received, decrypt,
/// and find the varbinds.
#[test]
fn net_snmp_v3_traps_verify_and_decrypt() {
    let engine = hex(SENDER_ENGINE);
    for (fixture, auth, privacy) in [
        (V3_SHA_AES_TRAP, "sha", Some("aes")),
        (V3_MD5_DES_TRAP, "md5", Some("des")),
        (V3_SHA256_AUTH_TRAP, "SHA-256", None),
    ] {
        let raw = hex(fixture);
        let msg = v3(&raw);
        assert_eq!(msg.usm.engine_id, engine);
        let keys = user(Some(auth), privacy).localize(&engine).unwrap();
        let scoped = unprotect(&raw, &msg, &keys, &Limits::default()).unwrap();
        let vbs = scoped.pdu.varbinds();
        assert_eq!(scoped.pdu.kind(), Some(PduKind::TrapV2), "{auth}");
        assert_eq!(vbs[0].value, Value::TimeTicks(4242));
        assert_eq!(
            vbs[1].value,
            Value::Oid("1.3.6.1.6.3.1.1.5.3".parse().unwrap())
        );
        assert_eq!(
            vbs[2],
            VarBind::new("1.3.6.1.2.1.2.2.1.1.3".parse().unwrap(), Value::Integer(3))
        );

        // a wrong auth password is a wrong digest; a wrong privacy password a decryption error
        let wrong = UsmUser::new("u", Some((auth.parse().unwrap(), &b"wrongpass1"[..])), None)
            .unwrap()
            .localize(&engine)
            .unwrap();
        assert_eq!(
            verify(&raw, wrong.auth.as_ref().unwrap()),
            Err(UsmError::WrongDigest)
        );
        if let Some(p) = privacy {
            let bad = UsmUser::new(
                "u",
                Some((auth.parse().unwrap(), &b"authpass123"[..])),
                Some((p.parse().unwrap(), &b"wrongpass1"[..])),
            )
            .unwrap()
            .localize(&engine)
            .unwrap();
            let e = unprotect(&raw, &msg, &bad, &Limits::default()).unwrap_err();
            assert_eq!(e.reason(), "decryption_error");
        }
        // keys for another engine ID do not verify either (traps are keyed by the sender)
        let other = user(Some(auth), privacy)
            .localize(b"\x80\x00\x00\x00\x01\x02\x03\x05")
            .unwrap();
        assert_eq!(
            unprotect(&raw, &msg, &other, &Limits::default()),
            Err(UsmError::WrongDigest)
        );
    }
}

#[test]
fn every_byte_of_a_signed_message_is_covered_by_the_mac() {
    let raw = hex(V3_SHA_AES_TRAP);
    let keys = user(Some("sha"), Some("aes"))
        .localize(&hex(SENDER_ENGINE))
        .unwrap();
    let key = keys.auth.as_ref().unwrap();
    assert_eq!(verify(&raw, key), Ok(()));
    for i in 0..raw.len() {
        let mut b = raw.clone();
        b[i] ^= 0x01;
        assert!(verify(&b, key).is_err(), "flip at {i}");
    }
}

#[test]
fn auth_params_are_found_in_place() {
    let raw = hex(V3_SHA_AES_TRAP);
    let r = auth_params_range(&raw).unwrap();
    assert_eq!(r.len(), 12);
    assert_eq!(raw[r], v3(&raw).usm.auth_params[..]);
    assert_eq!(auth_params_range(&hex(V3_DISCOVERY)).unwrap().len(), 0);
    assert!(auth_params_range(&[0x30, 0x03, 0x02, 0x01, 0x03]).is_err());
}

fn sample(flags: MsgFlags) -> V3Message {
    V3Message {
        msg_id: 7,
        max_size: 65507,
        flags,
        usm: UsmParams {
            engine_id: hex("80001f8804736e6d70642d74657374"),
            engine_boots: 2,
            engine_time: 3600,
            user_name: "poller".into(),
            ..Default::default()
        },
        data: ScopedData::Plain(ScopedPdu {
            context_engine_id: hex("80001f8804736e6d70642d74657374"),
            context_name: Vec::new(),
            pdu: Pdu::Generic(GenericPdu {
                kind: PduKind::Get,
                request_id: 99,
                error_status: 0,
                error_index: 0,
                varbinds: vec![VarBind::null("1.3.6.1.2.1.1.1.0".parse::<Oid>().unwrap())],
            }),
        }),
    }
}

#[test]
fn protect_then_unprotect_round_trips_every_combination() {
    let engine = hex("80001f8804736e6d70642d74657374");
    for a in AuthProtocol::ALL {
        for p in PrivProtocol::ALL.map(Some).into_iter().chain([None]) {
            let u = UsmUser::new(
                "poller",
                Some((a, &b"authpass123"[..])),
                p.map(|p| (p, &b"privpass123"[..])),
            )
            .unwrap();
            let keys = u.localize(&engine).unwrap();
            let msg = sample(MsgFlags::new(true, p.is_some(), true));
            let raw = protect(msg.clone(), &keys, 0xfeed).unwrap();
            let got = v3(&raw);
            assert_eq!(got.usm.auth_params.len(), a.mac_len());
            assert_eq!(got.usm.priv_params.len(), if p.is_some() { 8 } else { 0 });
            let scoped = unprotect(&raw, &got, &keys, &Limits::default()).unwrap();
            let ScopedData::Plain(want) = msg.data else {
                unreachable!()
            };
            assert_eq!(scoped, want, "{a}/{p:?}");
        }
    }
}

#[test]
fn security_level_must_match_the_keys() {
    let engine = hex("80001f8804736e6d70642d74657374");
    let auth_only = user(Some("sha"), None).localize(&engine).unwrap();
    let none = user(None, None).localize(&engine).unwrap();
    let priv_msg = sample(MsgFlags::new(true, true, true));
    assert_eq!(
        protect(priv_msg, &auth_only, 1),
        Err(UsmError::UnsupportedSecLevel)
    );
    assert_eq!(
        protect(sample(MsgFlags::new(true, false, true)), &none, 1),
        Err(UsmError::UnsupportedSecLevel)
    );
    assert_eq!(
        protect(sample(MsgFlags::new(false, true, true)), &auth_only, 1),
        Err(UsmError::UnsupportedSecLevel)
    );
    // noAuthNoPriv needs no keys
    let raw = protect(sample(MsgFlags::new(false, false, true)), &none, 1).unwrap();
    assert!(unprotect(&raw, &v3(&raw), &none, &Limits::default()).is_ok());
}

#[test]
fn protocol_names_follow_product_md() {
    for (name, want) in [
        ("md5", AuthProtocol::Md5),
        ("SHA", AuthProtocol::Sha1),
        ("sha1", AuthProtocol::Sha1),
        ("SHA-224", AuthProtocol::Sha224),
        ("sha256", AuthProtocol::Sha256),
        ("Sha_384", AuthProtocol::Sha384),
        ("SHA-512", AuthProtocol::Sha512),
    ] {
        assert_eq!(name.parse::<AuthProtocol>(), Ok(want), "{name}");
    }
    for (name, want) in [
        ("des", PrivProtocol::Des),
        ("3DES", PrivProtocol::TripleDes),
        ("AES", PrivProtocol::Aes128),
        ("aes128", PrivProtocol::Aes128),
        ("AES-192", PrivProtocol::Aes192),
        ("aes256", PrivProtocol::Aes256),
        ("AES-192C", PrivProtocol::Aes192Reeder),
        ("aes256c", PrivProtocol::Aes256Reeder),
    ] {
        assert_eq!(name.parse::<PrivProtocol>(), Ok(want), "{name}");
    }
    let e = "sha999".parse::<AuthProtocol>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown auth protocol `sha999`; one of: md5, sha, sha224, sha256, sha384, sha512"
    );
    assert!("aes512".parse::<PrivProtocol>().is_err());
    for p in AuthProtocol::ALL {
        assert_eq!(p.name().parse::<AuthProtocol>(), Ok(p));
    }
    for p in PrivProtocol::ALL {
        assert_eq!(p.name().parse::<PrivProtocol>(), Ok(p));
    }
}

#[test]
fn reports_answer_discovery_and_are_recognised() {
    let probe = v3(&hex(V3_DISCOVERY));
    let ours = hex("8000b98380deadbeef");
    let now = EngineTime {
        boots: 4,
        time: 321,
    };
    let report = build_report(
        &probe,
        0x63d88c6a,
        &ours,
        now,
        ReportKind::UnknownEngineId,
        1,
    );
    let raw = crate::proto::snmp::message::encode(&Message::V3(report.clone()));
    let back = v3(&raw);
    assert_eq!(back, report);
    assert_eq!((back.msg_id, back.flags), (probe.msg_id, MsgFlags(0)));
    assert_eq!((back.usm.engine_boots, back.usm.engine_time), (4, 321));
    let ScopedData::Plain(s) = &back.data else {
        panic!()
    };
    assert_eq!(report_kind(&s.pdu), Some(ReportKind::UnknownEngineId));
    assert_eq!(s.pdu.request_id(), Some(0x63d88c6a));
    assert_eq!(s.pdu.varbinds()[0].value, Value::Counter32(1));
    // NotInTimeWindow goes back authenticated
    let r = build_report(&probe, 1, &ours, now, ReportKind::NotInTimeWindow, 9);
    assert!(r.flags.auth() && !r.flags.privacy());
    assert_eq!(
        UsmError::WrongDigest.report_kind(),
        Some(ReportKind::WrongDigest)
    );
}

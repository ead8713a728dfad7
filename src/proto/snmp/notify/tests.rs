//! The receiver on messages built with our own encoder and USM (net-snmp interop is in
//! tests/e2e/traps.rs): who is accepted, which Reports come back, and garbage.

use std::time::Duration;

use super::*;
use crate::proto::snmp::message::{
    decode, MsgFlags, ScopedData, ScopedPdu, TrapV1Pdu, UsmParams, V3Message,
};
use crate::proto::snmp::usm::{self, report_kind, EngineTime, KeyCache};

const OURS: &[u8] = b"\x80\x00\x00\x00\x04nocbox-unit";
const SENDER_A: &[u8] = b"\x80\x00\x00\x00\x01\x01\x02\x03\x04";
const SENDER_B: &[u8] = b"\x80\x00\x00\x00\x01\x09\x09\x09\x09";
const AUTH: &[u8] = b"authpass123";
const PRIV: &[u8] = b"privpass123";
const S: fn(u64) -> Duration = Duration::from_secs;

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

fn user(name: &str, privacy: bool, engine_ids: Option<Vec<Vec<u8>>>) -> TrapUser {
    TrapUser::new(
        name,
        (AuthProtocol::Sha256, AUTH),
        privacy.then_some((PrivProtocol::Aes256, PRIV)),
        engine_ids,
    )
    .unwrap()
}

fn receiver(users: Vec<TrapUser>) -> Receiver {
    Receiver::new(Settings {
        communities: vec![b"public".to_vec(), b"s3cret".to_vec()],
        users,
        engine: LocalEngine {
            engine_id: OURS.to_vec(),
            boots: 7,
            started: S(0),
        },
        limits: Limits::default(),
        max_engines: 16,
        salt_seed: 99,
    })
}

/// linkDown with ifIndex and ifOperStatus, as a TrapV2 or InformRequest.
fn link_down(kind: PduKind, request_id: i32) -> Pdu {
    Pdu::Generic(GenericPdu {
        kind,
        request_id,
        error_status: 0,
        error_index: 0,
        varbinds: vec![
            VarBind::new(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(4242)),
            VarBind::new(
                oid("1.3.6.1.6.3.1.1.4.1.0"),
                Value::Oid(oid("1.3.6.1.6.3.1.1.5.3")),
            ),
            VarBind::new(oid("1.3.6.1.2.1.2.2.1.1.3"), Value::Integer(3)),
            VarBind::new(oid("1.3.6.1.2.1.2.2.1.8.3"), Value::Integer(2)),
        ],
    })
}

fn community(version: Version, community: &str, pdu: Pdu) -> Vec<u8> {
    encode(&Message::Community(CommunityMessage {
        version,
        community: community.into(),
        pdu,
    }))
}

/// A v3 message from `user_name`, keyed to `engine` with `password`, at the given level.
fn v3(
    engine: &[u8],
    t: EngineTime,
    user_name: &str,
    password: &[u8],
    (auth, privacy, reportable): (bool, bool, bool),
    pdu: Pdu,
) -> Vec<u8> {
    let u = UsmUser::new(
        user_name,
        Some((AuthProtocol::Sha256, password)),
        Some((PrivProtocol::Aes256, PRIV)),
    )
    .unwrap();
    let mut keys = u.localize(engine).unwrap();
    if !privacy {
        keys.privacy = None;
    }
    let msg = V3Message {
        msg_id: 77,
        max_size: 65_507,
        flags: MsgFlags::new(auth, privacy, reportable),
        usm: UsmParams {
            engine_id: engine.to_vec(),
            engine_boots: t.boots,
            engine_time: t.time,
            user_name: user_name.into(),
            ..Default::default()
        },
        data: ScopedData::Plain(ScopedPdu {
            context_engine_id: engine.to_vec(),
            context_name: vec![],
            pdu,
        }),
    };
    usm::protect(msg, &keys, 1).unwrap()
}

fn trap_v3(engine: &[u8], password: &[u8], privacy: bool, time: u32) -> Vec<u8> {
    let t = EngineTime { boots: 1, time };
    let pdu = link_down(PduKind::TrapV2, 1);
    v3(engine, t, "trapuser", password, (true, privacy, false), pdu)
}

fn dropped(o: &Outcome) -> &'static str {
    match o.handled {
        Handled::Dropped(r) => r,
        ref h => panic!("expected a drop, got {h:?}"),
    }
}

fn accepted(o: Outcome) -> Notification {
    match o.handled {
        Handled::Notification(n) => n,
        h => panic!("expected a notification, got {h:?}"),
    }
}

#[test]
fn v2c_traps_need_a_known_community() {
    let mut r = receiver(vec![]);
    let raw = community(Version::V2c, "s3cret", link_down(PduKind::TrapV2, 5));
    let n = accepted(r.handle(&raw, S(1)));
    assert_eq!((n.version, n.inform, n.uptime), (2, false, Some(4242)));
    assert_eq!(n.trap_oid, oid("1.3.6.1.6.3.1.1.5.3"));
    assert_eq!(
        n.varbinds.len(),
        2,
        "sysUpTime.0 and snmpTrapOID.0 are not variables"
    );
    let raw = community(Version::V2c, "public2", link_down(PduKind::TrapV2, 5));
    let o = r.handle(&raw, S(1));
    assert_eq!((dropped(&o), o.reply), ("unknown_community", None));
}

#[test]
fn v2c_informs_are_acknowledged_only_with_a_known_community() {
    let mut r = receiver(vec![]);
    let raw = community(Version::V2c, "public", link_down(PduKind::Inform, 31));
    let o = r.handle(&raw, S(1));
    let reply = o.reply.clone().expect("a Response");
    assert!(accepted(o).inform);
    let Message::Community(m) = decode(&reply).unwrap() else {
        panic!()
    };
    assert_eq!(m.community, "public");
    assert_eq!(m.pdu.kind(), Some(PduKind::Response));
    assert_eq!(m.pdu.request_id(), Some(31));
    assert_eq!(m.pdu.varbinds().len(), 4);

    let raw = community(Version::V2c, "wrong", link_down(PduKind::Inform, 32));
    let o = r.handle(&raw, S(1));
    assert_eq!((dropped(&o), o.reply), ("unknown_community", None));
}

#[test]
fn v1_traps_are_translated() {
    let mut r = receiver(vec![]);
    let pdu = Pdu::TrapV1(TrapV1Pdu {
        enterprise: oid("1.3.6.1.4.1.9.1.516"),
        agent_addr: [10, 0, 0, 1].into(),
        generic_trap: 2,
        specific_trap: 0,
        timestamp: 12,
        varbinds: vec![VarBind::new(
            oid("1.3.6.1.2.1.2.2.1.1.4"),
            Value::Integer(4),
        )],
    });
    let n = accepted(r.handle(&community(Version::V1, "public", pdu), S(1)));
    assert_eq!(n.version, 1);
    assert_eq!(n.trap_oid, oid("1.3.6.1.6.3.1.1.5.3"));
    assert_eq!(n.uptime, Some(12));
    assert_eq!(n.varbinds.len(), 1);
    assert_eq!(n.v1.unwrap().enterprise, oid("1.3.6.1.4.1.9.1.516"));
}

#[test]
fn a_notification_needs_snmp_trap_oid_and_other_pdus_are_refused() {
    let mut r = receiver(vec![]);
    let Pdu::Generic(mut p) = link_down(PduKind::TrapV2, 1) else {
        unreachable!()
    };
    p.varbinds.remove(1);
    let raw = community(Version::V2c, "public", Pdu::Generic(p));
    assert_eq!(dropped(&r.handle(&raw, S(1))), "no_trap_oid");
    let raw = community(Version::V2c, "public", link_down(PduKind::Get, 1));
    assert_eq!(dropped(&r.handle(&raw, S(1))), "not_a_notification");
    // snmpTrapOID.0 first and no sysUpTime.0: forgiven
    let Pdu::Generic(mut p) = link_down(PduKind::TrapV2, 1) else {
        unreachable!()
    };
    p.varbinds.remove(0);
    let raw = community(Version::V2c, "public", Pdu::Generic(p));
    let n = accepted(r.handle(&raw, S(1)));
    assert_eq!((n.uptime, n.varbinds.len()), (None, 2));
}

#[test]
fn v3_traps_are_checked_with_keys_localized_to_each_sender() {
    let mut r = receiver(vec![user("trapuser", true, None)]);
    for engine in [SENDER_A, SENDER_B] {
        let n = accepted(r.handle(&trap_v3(engine, AUTH, true, 1000), S(1)));
        assert_eq!((n.version, n.user.as_deref()), (3, Some("trapuser")));
        assert_eq!(n.engine_id.as_deref(), Some(engine));
        assert_eq!(n.trap_oid, oid("1.3.6.1.6.3.1.1.5.3"));
    }
    assert_eq!(r.stats().engines, 2);
    // authNoPriv from a user that also has a privacy key: authenticated, accepted
    accepted(r.handle(&trap_v3(SENDER_A, AUTH, false, 1001), S(2)));

    let o = r.handle(&trap_v3(SENDER_A, b"wrongpass123", true, 1001), S(2));
    assert_eq!((dropped(&o), o.reply), ("wrong_digest", None));
    let t = EngineTime { boots: 1, time: 1 };
    let pdu = link_down(PduKind::TrapV2, 1);
    let raw = v3(SENDER_A, t, "nobody", AUTH, (true, true, false), pdu);
    assert_eq!(dropped(&r.handle(&raw, S(2))), "unknown_user");
    let pdu = link_down(PduKind::TrapV2, 1);
    let raw = v3(SENDER_A, t, "trapuser", AUTH, (false, false, false), pdu);
    assert_eq!(dropped(&r.handle(&raw, S(2))), "unsupported_security_level");
    // a replay from 200 s before what this sender sent already
    let o = r.handle(&trap_v3(SENDER_A, AUTH, true, 1001 - 200), S(3));
    assert_eq!(dropped(&o), "not_in_time_window");
}

#[test]
fn engine_ids_restrict_a_user_to_those_senders() {
    let mut r = receiver(vec![user("trapuser", true, Some(vec![SENDER_A.to_vec()]))]);
    accepted(r.handle(&trap_v3(SENDER_A, AUTH, true, 5), S(1)));
    let o = r.handle(&trap_v3(SENDER_B, AUTH, true, 5), S(1));
    assert_eq!(dropped(&o), "unknown_engine_id");
    // a privacy message for a user without privacy
    let mut r = receiver(vec![user("trapuser", false, None)]);
    let o = r.handle(&trap_v3(SENDER_A, AUTH, true, 5), S(1));
    assert_eq!(dropped(&o), "unsupported_security_level");
}

#[test]
fn users_sharing_a_name_are_each_tried() {
    let other = TrapUser::new(
        "trapuser",
        (AuthProtocol::Md5, &b"otherpass1"[..]),
        None,
        None,
    )
    .unwrap();
    let mut r = receiver(vec![other, user("trapuser", true, None)]);
    accepted(r.handle(&trap_v3(SENDER_A, AUTH, true, 5), S(1)));
}

/// The inform exchange net-snmp does: probe, Report, then the inform to our engine ID.
#[test]
fn v3_informs_discover_our_engine_then_are_acknowledged_after_authenticating() {
    let mut r = receiver(vec![user("informuser", true, None)]);
    let probe = encode(&Message::V3(V3Message {
        msg_id: 1,
        max_size: 65_507,
        flags: MsgFlags::new(false, false, true),
        usm: UsmParams::default(),
        data: ScopedData::Plain(ScopedPdu {
            context_engine_id: vec![],
            context_name: vec![],
            pdu: Pdu::Generic(GenericPdu {
                kind: PduKind::Get,
                request_id: 9,
                error_status: 0,
                error_index: 0,
                varbinds: vec![],
            }),
        }),
    }));
    let o = r.handle(&probe, S(600));
    assert_eq!(o.handled, Handled::Discovery);
    assert_eq!(o.report, Some(ReportKind::UnknownEngineId));
    let Message::V3(rep) = decode(&o.reply.unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(rep.usm.engine_id, OURS);
    assert_eq!((rep.usm.engine_boots, rep.usm.engine_time), (7, 600));
    let ScopedData::Plain(s) = &rep.data else {
        panic!()
    };
    assert_eq!(report_kind(&s.pdu), Some(ReportKind::UnknownEngineId));
    assert_eq!(s.pdu.request_id(), Some(9));

    // the inform, authPriv, in time
    let now = EngineTime {
        boots: 7,
        time: 601,
    };
    let inform = v3(OURS, now, "informuser", AUTH, (true, true, true), {
        link_down(PduKind::Inform, 44)
    });
    let o = r.handle(&inform, S(601));
    let reply = o.reply.clone().expect("a Response");
    assert!(accepted(o).inform);
    let Message::V3(resp) = decode(&reply).unwrap() else {
        panic!()
    };
    assert!(resp.flags.auth() && resp.flags.privacy() && !resp.flags.reportable());
    let keys = KeyCache::new(2)
        .get(&user("informuser", true, None).full, OURS)
        .unwrap();
    let scoped = usm::unprotect(&reply, &resp, &keys, &Limits::default()).unwrap();
    assert_eq!(scoped.pdu.kind(), Some(PduKind::Response));
    assert_eq!(scoped.pdu.request_id(), Some(44));
}

#[test]
fn v3_informs_that_do_not_authenticate_get_a_report_and_no_response() {
    let mut r = receiver(vec![user("informuser", true, None)]);
    let now = EngineTime {
        boots: 7,
        time: 100,
    };
    let report_of = |o: &Outcome| {
        let Message::V3(m) = decode(o.reply.as_ref().expect("a Report")).unwrap() else {
            panic!()
        };
        m
    };
    let inform = |user: &str, pw: &[u8], t: EngineTime| {
        v3(
            OURS,
            t,
            user,
            pw,
            (true, true, true),
            link_down(PduKind::Inform, 3),
        )
    };

    let o = r.handle(&inform("informuser", b"wrongpass123", now), S(100));
    assert_eq!(dropped(&o), "wrong_digest");
    assert_eq!(o.report, Some(ReportKind::WrongDigest));
    assert!(!report_of(&o).flags.auth());

    let o = r.handle(&inform("stranger", AUTH, now), S(100));
    assert_eq!(dropped(&o), "unknown_user");
    assert_eq!(o.report, Some(ReportKind::UnknownUserName));

    // outside the window: a Report signed with the user's keys, carrying our boots and time
    let stale = EngineTime {
        boots: 7,
        time: 100 + 151,
    };
    let o = r.handle(&inform("informuser", AUTH, stale), S(100));
    assert_eq!(dropped(&o), "not_in_time_window");
    assert_eq!(o.report, Some(ReportKind::NotInTimeWindow));
    let rep = report_of(&o);
    assert!(rep.flags.auth() && !rep.flags.privacy());
    assert_eq!((rep.usm.engine_boots, rep.usm.engine_time), (7, 100));
    let keys = KeyCache::new(2)
        .get(&user("informuser", true, None).full, OURS)
        .unwrap();
    usm::verify(o.reply.as_ref().unwrap(), keys.auth.as_ref().unwrap()).unwrap();
    let old_boots = EngineTime {
        boots: 6,
        time: 100,
    };
    let o = r.handle(&inform("informuser", AUTH, old_boots), S(100));
    assert_eq!(dropped(&o), "not_in_time_window");
}

#[test]
fn garbage_truncation_and_huge_varbind_lists_are_dropped_with_a_reason() {
    let mut r = receiver(vec![user("trapuser", true, None)]);
    let reasons = |r: &mut Receiver, raw: &[u8]| match r.handle(raw, S(1)).handled {
        Handled::Dropped(reason) => {
            assert!(DROP_REASONS.contains(&reason), "{reason} not listed");
            Some(reason)
        }
        _ => None,
    };
    assert_eq!(reasons(&mut r, b""), Some("truncated"));
    assert_eq!(
        reasons(&mut r, b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01"),
        Some("truncated")
    );
    assert_eq!(reasons(&mut r, b"\x04\x02hi"), Some("bad_tag"));

    // every prefix of valid messages, and every single-byte corruption of them
    let valid = [
        community(Version::V2c, "public", link_down(PduKind::TrapV2, 1)),
        community(Version::V2c, "public", link_down(PduKind::Inform, 1)),
        trap_v3(SENDER_A, AUTH, true, 5),
    ];
    for raw in &valid {
        for n in 0..raw.len() {
            assert!(reasons(&mut r, &raw[..n]).is_some(), "prefix {n} accepted");
        }
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x5a;
            let _ = r.handle(&bad, S(1));
        }
    }
    let mut rng = fastrand::Rng::with_seed(4);
    for _ in 0..3000 {
        let len = rng.usize(0..300);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        if rng.bool() && !junk.is_empty() {
            junk[0] = 0x30;
        }
        let _ = r.handle(&junk, S(1));
    }

    let Pdu::Generic(mut p) = link_down(PduKind::TrapV2, 1) else {
        unreachable!()
    };
    p.varbinds
        .extend((0..3000).map(|i| VarBind::new(oid(&format!("1.3.6.1.4.1.1.{i}")), Value::Null)));
    let raw = community(Version::V2c, "public", Pdu::Generic(p));
    assert_eq!(reasons(&mut r, &raw), Some("too_many_varbinds"));
}

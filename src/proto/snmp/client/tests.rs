//! Scripted replies through the walk, the adaptive sizes, the codec and the formatter.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::proto::snmp::message::{
    decode, encode, CommunityMessage, GenericPdu, Message, MsgFlags, ScopedData, Value, Version,
};
use crate::proto::snmp::usm::{
    self, build_report, AuthProtocol, EngineTime, PrivProtocol, ReportKind, UsmUser,
};

fn oid(s: &str) -> Oid {
    s.parse().expect("test OID")
}

fn vb(o: &str, v: u32) -> VarBind {
    VarBind::new(oid(o), Value::Counter32(v))
}

const IF_DESCR: &str = "1.3.6.1.2.1.2.2.1.2";
const IF_IN: &str = "1.3.6.1.2.1.2.2.1.10";
const IF_OUT: &str = "1.3.6.1.2.1.2.2.1.16";

fn oids(w: &[VarBind]) -> Vec<String> {
    w.iter().map(|v| v.oid.to_string()).collect()
}

#[test]
fn truncated_bulk_replies_continue_from_each_columns_last_oid() {
    let roots = [oid(IF_DESCR), oid(IF_IN), oid(IF_OUT)];
    let mut w = Walk::new(&roots);
    let req = w.next_request(5, Some(3)).expect("request");
    assert_eq!(req.oids, roots.to_vec());
    assert_eq!(req.max_repetitions, Some(3));
    // 9 varbinds asked for, 4 came: row 1 complete, row 2 only ifDescr
    let reply = vec![
        vb(&format!("{IF_DESCR}.1"), 1),
        vb(&format!("{IF_IN}.1"), 1),
        vb(&format!("{IF_OUT}.1"), 1),
        vb(&format!("{IF_DESCR}.2"), 2),
    ];
    assert_eq!(w.on_response(&req, reply), Progress::Advanced);
    let req = w.next_request(5, Some(3)).expect("continues");
    assert_eq!(
        req.oids,
        vec![
            oid(&format!("{IF_DESCR}.2")),
            oid(&format!("{IF_IN}.1")),
            oid(&format!("{IF_OUT}.1"))
        ]
    );
    // the rest: ifDescr ends at the next column, the counters at 2
    let reply = vec![
        vb(&format!("{IF_DESCR}.3"), 0),
        vb(&format!("{IF_IN}.2"), 2),
        vb(&format!("{IF_OUT}.2"), 2),
        vb("1.3.6.1.2.1.2.2.1.3.1", 0),
        vb("1.3.6.1.2.1.2.2.1.11.1", 0),
        vb("1.3.6.1.2.1.2.2.1.17.1", 0),
    ];
    assert_eq!(w.on_response(&req, reply), Progress::Advanced);
    assert!(w.is_done());
    assert_eq!(w.ends(), vec![Some(EndReason::LeftSubtree); 3]);
    let out = w.into_varbinds();
    assert_eq!(
        oids(&out),
        [
            "1.3.6.1.2.1.2.2.1.2.1",
            "1.3.6.1.2.1.2.2.1.2.2",
            "1.3.6.1.2.1.2.2.1.2.3",
            "1.3.6.1.2.1.2.2.1.10.1",
            "1.3.6.1.2.1.2.2.1.10.2",
            "1.3.6.1.2.1.2.2.1.16.1",
            "1.3.6.1.2.1.2.2.1.16.2",
        ]
    );
}

#[test]
fn a_finished_column_leaves_the_next_request() {
    let mut w = Walk::new(&[oid(IF_DESCR), oid(IF_IN)]);
    let req = w.next_request(5, Some(2)).expect("request");
    let reply = vec![
        vb(&format!("{IF_DESCR}.1"), 1),
        vb(&format!("{IF_IN}.1"), 1),
        VarBind::new(oid(&format!("{IF_DESCR}.1")), Value::EndOfMibView),
        vb(&format!("{IF_IN}.2"), 1),
    ];
    w.on_response(&req, reply);
    assert_eq!(w.ends(), vec![Some(EndReason::EndOfMibView), None]);
    let req = w.next_request(5, Some(2)).expect("ifIn continues alone");
    assert_eq!(req.columns, vec![1]);
    assert_eq!(req.oids, vec![oid(&format!("{IF_IN}.2"))]);
}

#[test]
fn non_increasing_oids_end_the_column() {
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    let req = w.next_request(5, Some(5)).expect("request");
    let reply = vec![
        vb(&format!("{IF_DESCR}.5"), 1),
        vb(&format!("{IF_DESCR}.6"), 1),
        vb(&format!("{IF_DESCR}.6"), 1),
        vb(&format!("{IF_DESCR}.7"), 1),
    ];
    w.on_response(&req, reply);
    assert!(w.is_done());
    assert_eq!(w.non_increasing(), 1);
    assert_eq!(w.ends(), vec![Some(EndReason::NonIncreasing)]);
    // a reply that goes back before the cursor of the previous request also ends it
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    let req = w.next_request(1, None).expect("request");
    w.on_response(&req, vec![vb(&format!("{IF_DESCR}.9"), 1)]);
    let req = w.next_request(1, None).expect("request");
    w.on_response(&req, vec![vb(&format!("{IF_DESCR}.3"), 1)]);
    assert_eq!(w.ends(), vec![Some(EndReason::NonIncreasing)]);
    assert_eq!(oids(&w.into_varbinds()), ["1.3.6.1.2.1.2.2.1.2.9"]);
}

#[test]
fn v1_no_such_name_ends_one_column_and_releases_the_rest() {
    let mut w = Walk::new(&[oid(IF_DESCR), oid("1.3.6.1.6.3.99")]);
    let req = w.next_request(5, None).expect("getnext");
    assert_eq!(req.max_repetitions, None);
    w.end_column(&req, 1, EndReason::NoSuchName);
    let req = w.next_request(5, None).expect("retry the rest");
    assert_eq!(req.columns, vec![0]);
    w.on_response(&req, vec![vb("1.3.6.1.2.1.2.2.1.3.1", 1)]);
    assert!(w.is_done());
    assert!(w.into_varbinds().is_empty());
}

#[test]
fn an_empty_reply_stalls_and_exceptions_end_columns() {
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    let req = w.next_request(5, Some(10)).expect("request");
    assert_eq!(w.on_response(&req, Vec::new()), Progress::Stalled);
    assert_eq!(w.ready(), 1);
    let req = w.next_request(5, Some(10)).expect("again");
    let reply = vec![VarBind::new(oid(IF_DESCR), Value::NoSuchObject)];
    w.on_response(&req, reply);
    assert_eq!(w.ends(), vec![Some(EndReason::Exception)]);
}

#[test]
fn several_requests_can_be_in_flight_for_different_columns() {
    let roots: Vec<Oid> = (1..=7)
        .map(|c| oid(&format!("1.3.6.1.2.1.2.2.1.{c}")))
        .collect();
    let mut w = Walk::new(&roots);
    let a = w.next_request(3, Some(10)).expect("first");
    let b = w.next_request(3, Some(10)).expect("second");
    let c = w.next_request(3, Some(10)).expect("third");
    assert_eq!(
        (a.columns.len(), b.columns.len(), c.columns.len()),
        (3, 3, 1)
    );
    assert!(
        w.next_request(3, Some(10)).is_none(),
        "everything in flight"
    );
    w.release(&b); // tooBig: back to ready
    let again = w.next_request(1, Some(10)).expect("split");
    assert_eq!(again.columns, vec![b.columns[0]]);
}

#[test]
fn adaptive_size_halves_grows_and_skips_sizes_that_failed_twice() {
    let t0 = Duration::ZERO;
    let mut s = AdaptiveSize::new(10, t0);
    s.failure(10, t0);
    assert_eq!(s.current(), 5);
    for _ in 0..10 {
        s.success(s.current(), t0);
    }
    assert_eq!(s.current(), 10, "one failure: grows back");
    s.failure(10, t0);
    assert_eq!(s.current(), 5);
    for _ in 0..10 {
        s.success(s.current(), t0);
    }
    assert_eq!(s.current(), 9, "10 failed twice: not retried");
    s.failure(1, t0);
    assert_eq!(s.current(), 1, "never below 1");
    let later = RESET_EVERY + Duration::from_secs(1);
    for _ in 0..10 {
        s.success(s.current(), later);
    }
    assert_eq!(s.current(), 10, "failure counts reset after 30 min");
}

fn target() -> SocketAddr {
    "127.0.0.1:161".parse().expect("addr")
}

#[test]
fn v2c_codec_encodes_and_checks_request_ids() {
    let mut c = Codec::new(
        target(),
        Security::Community {
            version: Version::V2c,
            community: b"public".to_vec(),
        },
        Duration::ZERO,
    );
    assert!(!c.needs_discovery());
    let req = c
        .encode(
            generic_pdu(PduKind::Get, 42, &[oid("1.3.6.1.2.1.1.5.0")]),
            Duration::ZERO,
            0,
        )
        .expect("encode");
    let Ok(Message::Community(m)) = decode(&req) else {
        panic!("not v2c")
    };
    assert_eq!((m.version, m.community.as_str()), (Version::V2c, "public"));
    let reply = |id: i32, version| {
        Message::Community(CommunityMessage {
            version,
            community: "public".into(),
            pdu: Pdu::Generic(GenericPdu {
                kind: PduKind::Response,
                request_id: id,
                error_status: 0,
                error_index: 0,
                varbinds: vec![vb("1.3.6.1.2.1.1.5.0", 1)],
            }),
        })
    };
    let ok = c.decode(&[], reply(42, Version::V2c), 42, Duration::ZERO);
    assert!(matches!(ok, Ok(Reply::Response(p)) if p.varbinds.len() == 1));
    let e = c.decode(&[], reply(43, Version::V2c), 42, Duration::ZERO);
    assert!(matches!(e, Err(SnmpError::Malformed { .. })), "{e:?}");
    let e = c.decode(&[], reply(42, Version::V1), 42, Duration::ZERO);
    assert!(matches!(e, Err(SnmpError::Malformed { .. })), "{e:?}");
}

const AGENT: &[u8] = b"\x80\x00\x1f\x88\x04agent-1";

fn v3_codec() -> (Codec, UsmUser) {
    let user = UsmUser::new(
        "u",
        Some((AuthProtocol::Sha256, b"authpass123".as_slice())),
        Some((PrivProtocol::Aes128, b"privpass123".as_slice())),
    )
    .expect("user");
    let c = Codec::new(
        target(),
        Security::Usm {
            user: user.clone(),
            context_name: Vec::new(),
            context_engine_id: None,
            engine_id: None,
        },
        Duration::ZERO,
    );
    (c, user)
}

/// The Report an agent sends for `request`, authenticated with `user`'s keys when `auth`.
fn agent_report(
    request: &[u8],
    kind: ReportKind,
    t: EngineTime,
    user: Option<&UsmUser>,
) -> (Vec<u8>, Message) {
    let Ok(Message::V3(req)) = decode(request) else {
        panic!("not v3")
    };
    let mut report = build_report(&req, 0, AGENT, t, kind, 1);
    let raw = match user {
        Some(u) => usm::protect(report, &u.localize(AGENT).expect("keys"), 1).expect("protect"),
        None => {
            report.flags = MsgFlags::new(false, false, false);
            encode(&Message::V3(report))
        }
    };
    let msg = decode(&raw).expect("decode report");
    (raw, msg)
}

#[test]
fn v3_discovery_resync_and_reports() {
    let (mut c, user) = v3_codec();
    assert!(c.needs_discovery());
    let probe = c.discovery_request(7);
    let t = EngineTime {
        boots: 3,
        time: 1000,
    };
    let (raw, msg) = agent_report(&probe, ReportKind::UnknownEngineId, t, None);
    let r = c.decode(&raw, msg, 7, Duration::ZERO);
    assert!(matches!(r, Ok(Reply::Resend)), "{r:?}");
    assert_eq!(
        c.engine(Duration::from_secs(10)),
        Some((AGENT.to_vec(), 3, 1010))
    );

    // an authenticated, encrypted GET to that engine
    let now = Duration::from_secs(10);
    let req = c
        .encode(
            generic_pdu(PduKind::Get, 8, &[oid("1.3.6.1.2.1.1.5.0")]),
            now,
            99,
        )
        .expect("encode");
    let Ok(Message::V3(m)) = decode(&req) else {
        panic!("v3")
    };
    assert!(m.flags.auth() && m.flags.privacy() && m.flags.reportable());
    assert_eq!((m.msg_id, m.usm.engine_time), (8, 1010));
    assert!(matches!(m.data, ScopedData::Encrypted(_)));

    // an authenticated notInTimeWindow Report moves our clock for that engine
    let rebooted = EngineTime { boots: 4, time: 5 };
    let (raw, msg) = agent_report(&req, ReportKind::NotInTimeWindow, rebooted, Some(&user));
    assert!(matches!(c.decode(&raw, msg, 8, now), Ok(Reply::Resend)));
    assert_eq!(c.engine(now), Some((AGENT.to_vec(), 4, 5)));

    // an unauthenticated one does not; nor do the error Reports
    let (raw, msg) = agent_report(&req, ReportKind::NotInTimeWindow, t, None);
    let e = c.decode(&raw, msg, 8, now);
    assert!(matches!(
        e,
        Err(SnmpError::Report {
            kind: ReportKind::NotInTimeWindow,
            ..
        })
    ));
    assert_eq!(c.engine(now), Some((AGENT.to_vec(), 4, 5)));
    for kind in [ReportKind::WrongDigest, ReportKind::UnknownUserName] {
        let (raw, msg) = agent_report(&req, kind, rebooted, None);
        let e = c
            .decode(&raw, msg, 8, now)
            .expect_err("a Report is an error");
        assert!(matches!(e, SnmpError::Report { kind: k, .. } if k == kind));
        assert!(e.to_string().contains(kind.name()), "{e}");
    }
    let e = SnmpError::Report {
        target: target(),
        kind: ReportKind::WrongDigest,
    };
    assert!(e.to_string().contains("authentication failure"), "{e}");
}

#[test]
fn garbage_and_forged_v3_replies_are_errors_not_panics() {
    let (mut c, _) = v3_codec();
    let probe = c.discovery_request(7);
    let t = EngineTime { boots: 1, time: 1 };
    let (raw, msg) = agent_report(&probe, ReportKind::UnknownEngineId, t, None);
    c.decode(&raw, msg, 7, Duration::ZERO).expect("discovered");
    let req = c
        .encode(
            generic_pdu(PduKind::Get, 9, &[oid("1.3.6.1.2.1.1.5.0")]),
            Duration::ZERO,
            1,
        )
        .expect("encode");
    // signed with another password: wrong digest
    let other = UsmUser::new(
        "u",
        Some((AuthProtocol::Sha256, b"not-the-password".as_slice())),
        None,
    )
    .expect("user");
    let (raw, msg) = agent_report(&req, ReportKind::NotInTimeWindow, t, Some(&other));
    let e = c.decode(&raw, msg, 9, Duration::ZERO);
    assert!(matches!(e, Err(SnmpError::Usm { .. })), "{e:?}");
    // every truncation of a real reply decodes to an error or not at all
    for n in 0..raw.len() {
        if let Ok(m) = decode(&raw[..n]) {
            let _ = c.decode(&raw[..n], m, 9, Duration::ZERO);
        }
    }
}

#[test]
fn net_snmp_text_for_every_type() {
    let f = |v: Value| {
        format::format_varbind(&VarBind::new(oid("1.3.6.1.2.1.1.1.0"), v))
            .trim_start_matches(".1.3.6.1.2.1.1.1.0 = ")
            .to_string()
    };
    assert_eq!(
        f(Value::OctetString(b"a \"q\" \\".to_vec())),
        r#"STRING: "a \"q\" \\""#
    );
    assert_eq!(f(Value::OctetString(Vec::new())), "\"\"");
    assert_eq!(
        f(Value::OctetString(vec![0x80, 0, 0x1f])),
        "Hex-STRING: 80 00 1F "
    );
    let long: Vec<u8> = (0..18).collect();
    assert_eq!(
        f(Value::OctetString(long)),
        "Hex-STRING: 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F \n10 11 "
    );
    assert_eq!(f(Value::Integer(-1)), "INTEGER: -1");
    assert_eq!(
        f(Value::TimeTicks(1_862_038)),
        "Timeticks: (1862038) 5:10:20.38"
    );
    assert_eq!(
        f(Value::TimeTicks(8_640_000)),
        "Timeticks: (8640000) 1 day, 0:00:00.00"
    );
    assert_eq!(
        f(Value::TimeTicks(u32::MAX)),
        "Timeticks: (4294967295) 497 days, 2:27:52.95"
    );
    assert_eq!(f(Value::Oid(oid("1.3.6.1"))), "OID: .1.3.6.1");
    assert_eq!(
        f(Value::IpAddress([192, 0, 2, 1].into())),
        "IpAddress: 192.0.2.1"
    );
    assert_eq!(
        f(Value::Counter64(u64::MAX)),
        "Counter64: 18446744073709551615"
    );
    assert_eq!(f(Value::Gauge32(7)), "Gauge32: 7");
    assert_eq!(f(Value::Counter32(7)), "Counter32: 7");
    assert_eq!(
        f(Value::Opaque(vec![0x9f, 0x78, 4, 0x3f, 0x83, 0, 0])),
        "Opaque: Float: 1.023438"
    );
    assert_eq!(
        f(Value::NoSuchObject),
        "No Such Object available on this agent at this OID"
    );
}

#[test]
fn walk_roots_accept_net_snmps_single_arc_root() {
    let r = WalkRoot::parse(".1").expect("root");
    assert_eq!((r.start.to_string(), r.scope), ("1.0".to_string(), 1));
    let mut w = Walk::with_roots(&[r], true);
    let req = w.next_request(1, Some(2)).expect("request");
    assert_eq!(req.oids, vec![oid("1.0")]);
    let reply = vec![
        vb("1.3.6.1.2.1.1.3.0", 1),
        VarBind::new(oid("1.3.6.1.2.1.1.3.0"), Value::EndOfMibView),
    ];
    w.on_response(&req, reply);
    assert_eq!(w.ends(), vec![Some(EndReason::EndOfMibView)]);
    // the end marker stays, as snmpbulkwalk prints it
    assert_eq!(w.into_varbinds().len(), 2);
    assert_eq!(WalkRoot::parse("1.3.6.1.2.1.2").expect("root").scope, 7);
    assert!(WalkRoot::parse("x").is_err());
}

fn reply(status: i32, index: i32, varbinds: Vec<VarBind>) -> GenericPdu {
    GenericPdu {
        kind: PduKind::Response,
        request_id: 1,
        error_status: status,
        error_index: index,
        varbinds,
    }
}

#[test]
fn replies_decide_the_next_step() {
    // tooBig: shrink, until one root at one repetition, which cannot shrink
    let mut w = Walk::new(&[oid(IF_DESCR), oid(IF_IN)]);
    let req = w.next_request(5, Some(10)).expect("request");
    assert_eq!(w.on_reply(&req, reply(1, 0, vec![]), false), Step::Shrink);
    assert_eq!(w.ready(), 2, "released");
    let req = w.next_request(1, Some(1)).expect("smaller");
    assert_eq!(
        w.on_reply(&req, reply(1, 0, vec![]), false),
        Step::Fail {
            status: 1,
            index: 0
        }
    );
    // an error-status to GETBULK: fall back to GETNEXT; to GETNEXT: fail
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    let req = w.next_request(5, Some(10)).expect("bulk");
    assert_eq!(
        w.on_reply(&req, reply(5, 1, vec![]), false),
        Step::FallBackToGetNext
    );
    let req = w.next_request(5, None).expect("getnext");
    assert_eq!(
        w.on_reply(&req, reply(5, 1, vec![]), false),
        Step::Fail {
            status: 5,
            index: 1
        }
    );
    // v1 noSuchName ends the root it names; a bad index fails
    let mut w = Walk::new(&[oid(IF_DESCR), oid(IF_IN)]);
    let req = w.next_request(5, None).expect("getnext");
    assert_eq!(w.on_reply(&req, reply(2, 2, vec![]), true), Step::Advanced);
    assert_eq!(w.ends(), vec![None, Some(EndReason::NoSuchName)]);
    let req = w.next_request(5, None).expect("getnext");
    assert_eq!(
        w.on_reply(&req, reply(2, 9, vec![]), true),
        Step::Fail {
            status: 2,
            index: 9
        }
    );
    // in v2c noSuchName is just an error
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    let req = w.next_request(5, None).expect("getnext");
    assert!(matches!(
        w.on_reply(&req, reply(2, 1, vec![]), false),
        Step::Fail { .. }
    ));
    // empty replies: shrink three times, then give up
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    for _ in 0..3 {
        let req = w.next_request(5, Some(10)).expect("bulk");
        assert_eq!(w.on_reply(&req, reply(0, 0, vec![]), false), Step::Shrink);
    }
    let req = w.next_request(5, Some(10)).expect("bulk");
    assert_eq!(
        w.on_reply(&req, reply(0, 0, vec![]), false),
        Step::Fail {
            status: 0,
            index: 0
        }
    );
    // a good reply resets the count
    let mut w = Walk::new(&[oid(IF_DESCR)]);
    let req = w.next_request(5, Some(10)).expect("bulk");
    w.on_reply(&req, reply(0, 0, vec![]), false);
    let req = w.next_request(5, Some(10)).expect("bulk");
    let got = vec![vb(&format!("{IF_DESCR}.1"), 1)];
    assert_eq!(w.on_reply(&req, reply(0, 0, got), false), Step::Advanced);
}

#[test]
fn get_batches_split_on_too_big_and_settle_v1_no_such_name() {
    let oids: Vec<Oid> = (1..=5)
        .map(|i| oid(&format!("1.3.6.1.2.1.1.{i}.0")))
        .collect();
    let mut b = Batches::new(PduKind::Get, &oids, 4);
    let first = b.next_request().expect("4");
    let second = b.next_request().expect("1");
    assert_eq!((first.indices.len(), second.indices.len()), (4, 1));
    assert!(b.next_request().is_none());
    // tooBig: two halves, asked next
    assert_eq!(
        b.on_reply(first, reply(1, 0, vec![]), false),
        BatchStep::Split
    );
    let a = b.next_request().expect("half");
    let c = b.next_request().expect("half");
    assert_eq!(
        (a.indices.clone(), c.indices.clone()),
        (vec![0, 1], vec![2, 3])
    );
    let answer = |r: &BatchRequest| {
        r.oids
            .iter()
            .map(|o| VarBind::new(o.clone(), Value::Integer(1)))
            .collect()
    };
    assert_eq!(
        b.on_reply(c.clone(), reply(0, 0, answer(&c)), false),
        BatchStep::Done
    );
    // v1 noSuchName at the second varbind: that one settles, the first is asked again
    assert_eq!(b.on_reply(a, reply(2, 2, vec![]), true), BatchStep::Retry);
    let again = b.next_request().expect("rest");
    assert_eq!(again.indices, vec![0]);
    assert_eq!(
        b.on_reply(again.clone(), reply(0, 0, answer(&again)), true),
        BatchStep::Done
    );
    // a reply with the wrong number of varbinds is malformed
    assert!(matches!(
        b.on_reply(second.clone(), reply(0, 0, vec![]), false),
        BatchStep::Malformed(_)
    ));
    // genErr names its OID
    assert_eq!(
        b.on_reply(second.clone(), reply(5, 1, vec![]), false),
        BatchStep::Fail {
            status: 5,
            index: 1,
            oid: Some(oids[4].clone())
        }
    );
    let out = b.finish();
    assert_eq!(
        out.iter().map(|v| &v.oid).collect::<Vec<_>>(),
        oids.iter().collect::<Vec<_>>()
    );
    assert_eq!(out[1].value, Value::NoSuchObject, "noSuchName");
    assert_eq!(out[0].value, Value::Integer(1));
    assert_eq!(out[4].value, Value::NoSuchObject, "never answered");
    // a single OID that is tooBig cannot be split
    let mut b = Batches::new(PduKind::GetNext, &oids[..1], 4);
    let r = b.next_request().expect("one");
    assert!(matches!(
        b.on_reply(r, reply(1, 0, vec![]), false),
        BatchStep::Fail { status: 1, .. }
    ));
}

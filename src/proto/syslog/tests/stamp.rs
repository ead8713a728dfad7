//! Stamp lexing: every header time form the parsers accept.

use chrono::{DateTime, TimeZone, Utc};

use crate::proto::syslog::stamp::{parse, Kind, Mode};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 14, 10, 0, 0)
        .single()
        .expect("valid")
}

fn date(s: &str, mode: Mode) -> (String, usize, bool) {
    let st = parse(s, 0, mode).expect("stamp");
    match st.kind {
        Kind::Date(d) => (
            d.value(now()).map(|v| v.to_rfc3339()).unwrap_or_default(),
            st.end,
            d.clean,
        ),
        Kind::Uptime(_) => panic!("uptime"),
    }
}

#[test]
fn forms() {
    let c = Mode::Cisco;
    assert_eq!(
        date("Mar  1 00:04:12.345: x", c),
        ("2026-03-01T00:04:12.345+00:00".into(), 19, false)
    );
    assert_eq!(
        date("Aug 14 2026 09:21:07.118 CEST: x", c),
        ("2026-08-14T09:21:07.118+02:00".into(), 29, false)
    );
    assert_eq!(
        date("2026 Aug 14 09:46:57 CET: x", c).0,
        "2026-08-14T09:46:57+01:00"
    );
    assert_eq!(
        date("2026-08-14T09:22:31Z asa", c),
        ("2026-08-14T09:22:31+00:00".into(), 20, true)
    );
    assert_eq!(
        date("2026-11-21T13:59:40 localhost", Mode::Bsd),
        ("2026-11-21T13:59:40+00:00".into(), 19, false)
    );
    assert!(date("Aug 14 09:30:33 srx", Mode::Bsd).2);
    // Zones are a Cisco thing; BSD stops before them.
    assert_eq!(date("Aug 14 09:30:33 UTC: x", Mode::Bsd).1, 15);
}

#[test]
fn unknown_zone_is_utc_and_recorded() {
    let st = parse("Mar 15 10:22:33 NewYork: x", 0, Mode::Cisco).expect("stamp");
    let Kind::Date(d) = st.kind else {
        panic!("date")
    };
    assert_eq!(d.unknown_zone, Some("NewYork"));
    assert_eq!(
        d.value(now()).map(|v| v.to_rfc3339()).as_deref(),
        Some("2026-03-15T10:22:33+00:00")
    );
    // Not zone-shaped: left for the caller (an ASA device-id).
    assert_eq!(
        parse("Aug 14 2026 09:22:31 fw-01: x", 0, Mode::Cisco).map(|s| s.end),
        Some(20)
    );
}

#[test]
fn uptimes() {
    for (s, up) in [
        ("3d04h: x", "3d04h"),
        ("1w2d: x", "1w2d"),
        ("00:01:02: x", "00:01:02"),
    ] {
        match parse(s, 0, Mode::Cisco).map(|st| st.kind) {
            Some(Kind::Uptime(u)) => assert_eq!(u, up),
            _ => panic!("{s}"),
        }
    }
    assert!(parse("3d04h x", 0, Mode::Cisco).is_none());
    assert!(parse("3d04h: x", 0, Mode::Bsd).is_none());
}

#[test]
fn impossible_date_lexes_without_value() {
    let st = parse("Feb 30 10:00:00 host", 0, Mode::Bsd).expect("stamp");
    let Kind::Date(d) = st.kind else {
        panic!("date")
    };
    assert!(d.value(now()).is_none());
}

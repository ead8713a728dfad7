//! RFC 5424 / BSD lines: Arista, MARK, rsyslog and loggen captures, BSD corner cases.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::{header, p, ts};
use crate::proto::syslog::{parse, Format};

pub(crate) const ARISTA: &str = "<187>Mar 15 10:22:33 arista-sw1 Ebra: %LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet1, changed state to down";
pub(crate) const MARK: &str = " -- MARK --";
/// Payload of the octet-framed rsyslog capture `110 <13>1 … round trip one\n`.
pub(crate) const RSYSLOG: &str = "<13>1 2026-11-21T13:40:41.368602+00:00 vm relayed - RT1 [timeQuality tzKnown=\"1\" isSynced=\"0\"] round trip one\n";
pub(crate) const LOGGEN_LEGACY: &str = "<38>2026-11-21T13:59:40 localhost prg00000[1234]: seq: 0000000000, thread: 0000, runid: 1795269580, stamp: 2026-11-21T13:59:40 PADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADD\n";
/// loggen `-P` payload: RFC 5424 with a UTF-8 BOM before MSG.
pub(crate) const LOGGEN_5424: &str = "<38>1 2026-11-21T13:59:40+00:00 localhost prg00000 1234 - - \u{feff}seq: 0000000000, thread: 0000, runid: 1795269580, stamp: 2026-11-21T13:59:40 PADDPADDPADDPADD\n";

pub(crate) const FIXTURES: &[&str] = &[ARISTA, MARK, RSYSLOG, LOGGEN_LEGACY, LOGGEN_5424];

#[test]
fn arista_is_plain_bsd_with_mnemonic_in_message() {
    let r = p(ARISTA);
    assert_eq!(r.format, Format::Rfc3164);
    assert_eq!(
        header(&r),
        (
            Some(23),
            Some(3),
            Some("arista-sw1"),
            Some("Ebra"),
            None,
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-03-15T10:22:33+00:00"));
    assert_eq!(
        r.message,
        "%LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet1, changed state to down"
    );
    assert!(r.vendor.is_empty());
    assert_eq!(r.ddsource(), "syslog");
    assert_eq!(r.service(), "Ebra");
}

#[test]
fn mark_line_keeps_its_text() {
    let r = p(MARK);
    assert_eq!(r.format, Format::Unparsed);
    assert_eq!(r.error, Some("no_pri"));
    assert_eq!(r.message, "-- MARK --");
    assert_eq!(r.timestamp, None);
    assert_eq!(r.attributes()["syslog"], json!({"parse_error": "no_pri"}));
    let r = p("<13>-- MARK --");
    assert_eq!(r.message, "-- MARK --");
    assert_eq!(r.error, Some("unrecognised_header"));
    assert_eq!((r.facility, r.severity), (Some(1), Some(5)));
}

#[test]
fn rsyslog_octet_framed_payload() {
    let r = p(RSYSLOG);
    assert_eq!(r.format, Format::Rfc5424);
    assert_eq!(r.version, Some(1));
    assert_eq!(
        header(&r),
        (
            Some(1),
            Some(5),
            Some("vm"),
            Some("relayed"),
            None,
            Some("RT1")
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-11-21T13:40:41.368602+00:00"));
    assert_eq!(r.message, "round trip one");
    assert_eq!(
        r.structured_data,
        vec![(
            "timeQuality".to_owned(),
            vec![
                ("tzKnown".to_owned(), "1".to_owned()),
                ("isSynced".to_owned(), "0".to_owned())
            ]
        )]
    );
    assert_eq!(
        r.attributes()["syslog"],
        json!({"hostname": "vm", "appname": "relayed", "msgid": "RT1", "severity": 5,
               "facility": 1, "timestamp": "2026-11-21T13:40:41.368602+00:00", "version": 1,
               "structured_data": {"timeQuality": {"tzKnown": "1", "isSynced": "0"}}})
    );
    assert_eq!(r.service(), "relayed");
}

#[test]
fn loggen_legacy_iso_stamp_without_offset() {
    let r = p(LOGGEN_LEGACY);
    assert_eq!(r.format, Format::Rfc3164);
    assert_eq!(
        header(&r),
        (
            Some(4),
            Some(6),
            Some("localhost"),
            Some("prg00000"),
            Some("1234"),
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-11-21T13:59:40+00:00"));
    assert_eq!(
        r.message,
        LOGGEN_LEGACY["<38>2026-11-21T13:59:40 localhost prg00000[1234]: ".len()..].trim_end()
    );
}

#[test]
fn loggen_rfc5424_bom_is_stripped() {
    let r = p(LOGGEN_5424);
    assert_eq!(r.format, Format::Rfc5424);
    assert_eq!(
        header(&r),
        (
            Some(4),
            Some(6),
            Some("localhost"),
            Some("prg00000"),
            Some("1234"),
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-11-21T13:59:40+00:00"));
    assert!(r.structured_data.is_empty());
    assert!(r.message.starts_with("seq: 0000000000, thread: 0000"));
    assert!(r.message.ends_with("PADD"));
}

#[test]
fn clean_bsd_line() {
    let r = p("<38>Mar 15 10:22:33 web01 sshd[1234]: Accepted publickey for root");
    assert_eq!(r.format, Format::Rfc3164);
    assert_eq!(
        header(&r),
        (
            Some(4),
            Some(6),
            Some("web01"),
            Some("sshd"),
            Some("1234"),
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-03-15T10:22:33+00:00"));
    assert_eq!(r.message, "Accepted publickey for root");
}

#[test]
fn bsd_with_milliseconds_uses_the_walker() {
    let r = p("<13>Mar 15 10:22:33.123 host app[1]: hi there");
    assert_eq!(r.format, Format::Rfc3164);
    assert_eq!(
        header(&r),
        (Some(1), Some(5), Some("host"), Some("app"), Some("1"), None)
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-03-15T10:22:33.123+00:00"));
    assert_eq!(r.message, "hi there");
}

#[test]
fn bsd_tag_without_host_and_text_without_tag() {
    let r = p("<13>Oct 11 22:14:15 su: 'su root' failed for lonvick on /dev/pts/8");
    assert_eq!(header(&r), (Some(1), Some(5), None, Some("su"), None, None));
    assert_eq!(r.message, "'su root' failed for lonvick on /dev/pts/8");
    let r = p("<13>Mar 15 10:22:33 router1 Interface eth0 down");
    assert_eq!(
        header(&r),
        (Some(1), Some(5), Some("router1"), None, None, None)
    );
    assert_eq!(r.message, "Interface eth0 down");
    let r = p("<13>Mar 15 10:22:33 %FOO bar");
    assert_eq!(r.hostname, None);
    assert_eq!(r.message, "%FOO bar");
}

#[test]
fn bsd_message_keeps_trailing_blanks_and_inner_spacing() {
    let r = p("<13>Mar 15 10:22:33 host app: a  b\t \r\n");
    assert_eq!(r.message, "a  b\t ");
}

#[test]
fn bsd_structured_data_is_kept() {
    let r = p(r#"<13>Mar 15 10:22:33 host app: [meta@1 k="v"] text"#);
    assert_eq!(
        r.structured_data,
        vec![("meta@1".to_owned(), vec![("k".to_owned(), "v".to_owned())])]
    );
    assert_eq!(r.message, "text");
}

#[test]
fn year_is_closest_to_now() {
    let after_new_year = Utc
        .with_ymd_and_hms(2027, 1, 1, 0, 10, 0)
        .single()
        .expect("date");
    let r = parse(b"<13>Dec 31 23:59:00 host app: x", after_new_year);
    assert_eq!(ts(&r).as_deref(), Some("2026-12-31T23:59:00+00:00"));
    let before_new_year = Utc
        .with_ymd_and_hms(2026, 12, 31, 23, 59, 0)
        .single()
        .expect("date");
    let r = parse(b"<13>Jan  1 00:00:10 host app: x", before_new_year);
    assert_eq!(ts(&r).as_deref(), Some("2027-01-01T00:00:10+00:00"));
    // Same resolver for Cisco stamps.
    let r = parse(
        b"<189>1: Jan  1 00:00:10.5: %SYS-5-CONFIG_I: x",
        before_new_year,
    );
    assert_eq!(ts(&r).as_deref(), Some("2027-01-01T00:00:10.500+00:00"));
}

#[test]
fn rfc5424_nil_fields_and_hostname_never_dash() {
    let r = p("<165>1 2026-08-14T09:00:00Z - - - - - msg");
    assert_eq!(r.format, Format::Rfc5424);
    assert_eq!(header(&r), (Some(20), Some(5), None, None, None, None));
    assert_eq!(r.message, "msg");
    let r = p("<165>1 - host app - ID47 -");
    assert_eq!(r.timestamp, None);
    assert_eq!(r.message, "");
    assert_eq!(r.msgid.as_deref(), Some("ID47"));
}

#[test]
fn no_pri_bsd_is_accepted() {
    let r = p("Mar 15 10:22:33 host app: text");
    assert_eq!(r.format, Format::Rfc3164);
    assert_eq!(
        header(&r),
        (None, None, Some("host"), Some("app"), None, None)
    );
    assert_eq!(r.error, None);
    let r = p("hello world");
    assert_eq!(r.error, Some("no_pri"));
    assert_eq!(r.message, "hello world");
}

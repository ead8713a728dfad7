//! Cisco IOS / IOS-XE / IOS-XR / NX-OS / ASA fixtures C1–C6 and extra variants.

use serde_json::json;

use super::{header, p, ts, vendor};
use crate::proto::syslog::Format;

const C1: &str = "<189>1234: 1230: *Mar  1 00:04:12.345: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.1.5)";
const C2: &str = "<187>5678: core-sw01: 5674: Aug 14 2026 09:21:07.118 CEST: %LINK-3-UPDOWN: Interface GigabitEthernet1/0/12, changed state to down";
const C3: &str =
    "<189>77: 3d04h: %LINEPROTO-5-UPDOWN: Line protocol on Interface Vlan20, changed state to up";
const C4: &str = "<189>: Aug 14 09:21:09.412: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: netops] [Source: 10.1.1.5] [localport: 22] at 09:21:09 UTC Fri Aug 14 2026";
const C5: &str = "<166>Aug 14 2026 09:22:31: %ASA-6-302013: Built outbound TCP connection 884712 for outside:203.0.113.8/443 (203.0.113.8/443) to inside:10.10.1.20/52341 (198.51.100.7/52341)";
const C6: &str = "<166>Aug 14 2026 09:22:31 asa-fw01 : %ASA-6-302014: Teardown TCP connection 884712 for outside:203.0.113.8/443 to inside:10.10.1.20/52341 duration 0:00:31 bytes 5120 TCP FINs";

pub(crate) const FIXTURES: &[&str] = &[C1, C2, C3, C4, C5, C6];

/// The message of a Cisco line is everything from the `%` of its mnemonic.
fn from_mnemonic(line: &str) -> &str {
    &line[line.find('%').expect("mnemonic")..]
}

#[test]
fn c1_counter_seq_unset_clock_msec() {
    let r = p(C1);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(r.error, None);
    assert_eq!(header(&r), (Some(23), Some(5), None, None, None, None));
    assert_eq!(ts(&r).as_deref(), Some("2026-03-01T00:04:12.345+00:00"));
    assert_eq!(r.message, from_mnemonic(C1));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "SYS", "severity": 5, "mnemonic": "CONFIG_I",
               "message_counter": 1234, "sequence": 1230, "clock": "not_set"})
    );
    assert_eq!(r.ddsource(), "cisco-ios");
    assert_eq!(r.service(), "SYS");
}

#[test]
fn c2_counter_origin_seq_year_msec_zone() {
    let r = p(C2);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(
        header(&r),
        (Some(23), Some(3), Some("core-sw01"), None, None, None)
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:21:07.118+02:00"));
    assert_eq!(r.message, from_mnemonic(C2));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "LINK", "severity": 3, "mnemonic": "UPDOWN",
               "message_counter": 5678, "sequence": 5674, "origin_id": "core-sw01"})
    );
    assert_eq!(r.service(), "LINK");
    let attrs = r.attributes();
    assert_eq!(
        attrs["syslog"],
        json!({"hostname": "core-sw01", "severity": 3, "facility": 23,
               "timestamp": "2026-08-14T09:21:07.118+02:00"})
    );
    assert_eq!(attrs["cisco"]["mnemonic"], "UPDOWN");
}

#[test]
fn c3_counter_uptime() {
    let r = p(C3);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(header(&r), (Some(23), Some(5), None, None, None, None));
    assert_eq!(r.timestamp, None);
    assert_eq!(r.message, from_mnemonic(C3));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "LINEPROTO", "severity": 5, "mnemonic": "UPDOWN",
               "message_counter": 77, "uptime": "3d04h"})
    );
}

#[test]
fn c4_counter_off_msec() {
    let r = p(C4);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(header(&r), (Some(23), Some(5), None, None, None, None));
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:21:09.412+00:00"));
    assert_eq!(r.message, from_mnemonic(C4));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "SEC_LOGIN", "severity": 5, "mnemonic": "LOGIN_SUCCESS"})
    );
}

#[test]
fn c5_asa_timestamp_no_host() {
    let r = p(C5);
    assert_eq!(r.format, Format::CiscoAsa);
    assert_eq!(header(&r), (Some(20), Some(6), None, None, None, None));
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:22:31+00:00"));
    assert!(r.message.starts_with("%ASA-6-302013: Built outbound"));
    assert_eq!(r.message, from_mnemonic(C5));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "ASA", "severity": 6, "message_id": "302013"})
    );
    assert_eq!(r.ddsource(), "cisco-asa");
    assert_eq!(r.service(), "ASA");
}

#[test]
fn c6_asa_device_id() {
    let r = p(C6);
    assert_eq!(r.format, Format::CiscoAsa);
    assert_eq!(
        header(&r),
        (Some(20), Some(6), Some("asa-fw01"), None, None, None)
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:22:31+00:00"));
    assert_eq!(r.message, from_mnemonic(C6));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "ASA", "severity": 6, "message_id": "302014"})
    );
}

#[test]
fn ios_no_counters_msec() {
    let line = "<189>Mar  1 10:04:12.345: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.1.5)";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(header(&r), (Some(23), Some(5), None, None, None, None));
    assert_eq!(ts(&r).as_deref(), Some("2026-03-01T10:04:12.345+00:00"));
    assert_eq!(r.message, from_mnemonic(line));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "SYS", "severity": 5, "mnemonic": "CONFIG_I"})
    );
}

#[test]
fn ios_no_counters_mnemonic_is_not_the_host() {
    let line = "<189>Mar  1 10:04:12: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.1.5)";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(r.hostname, None);
    assert_eq!(ts(&r).as_deref(), Some("2026-03-01T10:04:12+00:00"));
    assert_eq!(r.message, from_mnemonic(line));
}

#[test]
fn ios_counter_and_unset_clock() {
    let line = "<189>123: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console by vty0";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(ts(&r).as_deref(), Some("2026-03-01T00:01:02.345+00:00"));
    assert_eq!(
        r.message,
        "%SYS-5-CONFIG_I: Configured from console by vty0"
    );
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "SYS", "severity": 5, "mnemonic": "CONFIG_I",
               "message_counter": 123, "clock": "not_set"})
    );
}

#[test]
fn ios_counter_and_origin() {
    let line = "<187>45678: core-sw1: Mar 15 10:22:33.123 UTC: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(
        header(&r),
        (Some(23), Some(3), Some("core-sw1"), None, None, None)
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-03-15T10:22:33.123+00:00"));
    assert_eq!(r.message, from_mnemonic(line));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "LINK", "severity": 3, "mnemonic": "UPDOWN",
               "message_counter": 45678, "origin_id": "core-sw1"})
    );
}

#[test]
fn nxos_year_first() {
    let line = "<189>: 2026 Aug 14 09:46:57 CET: %ETHPORT-5-SPEED: Interface Ethernet1/1, operational speed changed to 10 Gbps";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoNxos);
    assert_eq!(header(&r), (Some(23), Some(5), None, None, None, None));
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:46:57+01:00"));
    assert_eq!(r.message, from_mnemonic(line));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "ETHPORT", "severity": 5, "mnemonic": "SPEED"})
    );
    assert_eq!(r.ddsource(), "cisco-nxos");
    assert_eq!(r.service(), "ETHPORT");
}

#[test]
fn nxos_vdc_prefix_is_header() {
    let r = p("<189>: 2026 Aug 14 09:46:57.250 UTC: %$ VDC-2 %$ %ETHPORT-5-IF_UP: Interface Ethernet2/1 is up");
    assert_eq!(r.format, Format::CiscoNxos);
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:46:57.250+00:00"));
    assert_eq!(r.message, "%ETHPORT-5-IF_UP: Interface Ethernet2/1 is up");
    assert_eq!(vendor(&r, "cisco")["vdc"], "VDC-2");
}

#[test]
fn asa_without_any_header() {
    let line = "<166>%ASA-6-302013: Built outbound TCP connection 884712 for outside:203.0.113.8/443 (203.0.113.8/443) to inside:10.10.1.20/52341 (198.51.100.7/52341)";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoAsa);
    assert_eq!(header(&r), (Some(20), Some(6), None, None, None, None));
    assert_eq!(r.timestamp, None);
    assert_eq!(r.message, &line[5..]);
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "ASA", "severity": 6, "message_id": "302013"})
    );
}

#[test]
fn asa_rfc5424_timestamp_with_device_id() {
    let line = "<166>2026-08-14T09:22:31Z asa-fw01 : %ASA-6-106100: access-list outside_in permitted tcp outside/203.0.113.8(443) -> inside/10.10.1.20(52341) hit-cnt 1 first hit [0x1a2b3c4d, 0x0]";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoAsa);
    assert_eq!(
        header(&r),
        (Some(20), Some(6), Some("asa-fw01"), None, None, None)
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:22:31+00:00"));
    assert_eq!(r.message, from_mnemonic(line));
    assert_eq!(vendor(&r, "cisco")["message_id"], "106100");
}

#[test]
fn asa_short_device_id_is_not_a_zone() {
    let r = p("<166>Aug 14 2026 09:22:31 fw: %ASA-6-302014: Teardown");
    assert_eq!(r.format, Format::CiscoAsa);
    assert_eq!(r.hostname.as_deref(), Some("fw"));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "ASA", "severity": 6, "message_id": "302014"})
    );
}

#[test]
fn origin_and_seq_with_unknown_zone_new_york() {
    let line = "<189>12: router1: 000045: Mar 15 10:22:33.123 NewYork: %SYS-5-CONFIG_I: Configured from console by vty0";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(r.hostname.as_deref(), Some("router1"));
    // Unknown zone names keep the wall-clock time, read as UTC.
    assert_eq!(ts(&r).as_deref(), Some("2026-03-15T10:22:33.123+00:00"));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "SYS", "severity": 5, "mnemonic": "CONFIG_I", "message_counter": 12,
               "sequence": 45, "origin_id": "router1", "timezone": "NewYork"})
    );
}

#[test]
fn seq_after_bare_colon_is_a_sequence_number() {
    let r = p("<189>: 000045: Aug 14 09:21:09: %SYS-5-CONFIG_I: x");
    assert_eq!(r.format, Format::CiscoIos);
    let c = vendor(&r, "cisco");
    assert_eq!(c["sequence"], 45);
    assert!(c.get("message_counter").is_none());
}

#[test]
fn uptime_forms_and_unsynced_clock() {
    for (line, uptime) in [
        ("<189>9: 1w2d: %SYS-5-CONFIG_I: x", "1w2d"),
        ("<189>9: 00:01:02: %SYS-5-CONFIG_I: x", "00:01:02"),
        ("<189>9: 2y10w: %SYS-5-CONFIG_I: x", "2y10w"),
    ] {
        let r = p(line);
        assert_eq!(r.format, Format::CiscoIos, "{line}");
        assert_eq!(r.timestamp, None);
        assert_eq!(r.message, "%SYS-5-CONFIG_I: x");
        assert_eq!(vendor(&r, "cisco")["uptime"], uptime, "{line}");
    }
    let r = p("<189>10: .Aug 14 09:21:09.412 CEST: %SYS-5-CONFIG_I: x");
    assert_eq!(vendor(&r, "cisco")["clock"], "unsynced");
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:21:09.412+02:00"));
}

#[test]
fn ipv4_and_ipv6_origin_ids() {
    let r = p("<189>12: 10.1.1.1: Aug 14 09:21:09: %SYS-5-CONFIG_I: x");
    assert_eq!(r.hostname.as_deref(), Some("10.1.1.1"));
    let r = p("<189>12: 2001:db8::1: Aug 14 09:21:09: %SYS-5-CONFIG_I: x");
    assert_eq!(r.hostname.as_deref(), Some("2001:db8::1"));
}

#[test]
fn ios_xr_node_and_process() {
    let line = "<187>123: RP/0/RSP0/CPU0:Jun 11 19:03:57.911 UTC: ifmgr[211]: %PKT_INFRA-LINK-3-UPDOWN : Interface GigabitEthernet0/0/0/1, changed state to Down";
    let r = p(line);
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(
        header(&r),
        (Some(23), Some(3), None, Some("ifmgr"), Some("211"), None)
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-06-11T19:03:57.911+00:00"));
    assert_eq!(r.message, from_mnemonic(line));
    assert_eq!(
        vendor(&r, "cisco"),
        json!({"facility": "PKT_INFRA-LINK", "severity": 3, "mnemonic": "UPDOWN",
               "message_counter": 123, "node": "RP/0/RSP0/CPU0"})
    );
    assert_eq!(r.service(), "ifmgr");
    // Without a zone, XR writes ` : ` after the stamp.
    let r = p("<187>RP/0/RP0/CPU0:Jun 11 19:03:57.911 : ifmgr[211]: %PKT_INFRA-LINK-3-UPDOWN : x");
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(r.message, "%PKT_INFRA-LINK-3-UPDOWN : x");
}

#[test]
fn stacked_catalyst_member_stays_in_message() {
    let line = "<187>1234: Aug 14 09:21:07: %LINK-3-UPDOWN: Interface GigabitEthernet2/0/1, changed state to down (sw-stack-2)";
    let r = p(line);
    assert_eq!(r.message, from_mnemonic(line));
    assert!(r.message.ends_with("(sw-stack-2)"));
    assert_eq!(vendor(&r, "cisco")["stack_member"], "sw-stack-2");
}

#[test]
fn cisco_without_pri_and_without_stamp() {
    let r = p("1234: 1230: *Mar  1 00:04:12.345: %SYS-5-CONFIG_I: x");
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!((r.facility, r.severity), (None, None));
    let r = p("<189>42: %SYS-5-CONFIG_I: no service timestamps");
    assert_eq!(r.format, Format::CiscoIos);
    assert_eq!(r.timestamp, None);
    assert_eq!(vendor(&r, "cisco")["message_counter"], 42);
}

#[test]
fn malformed_mnemonics_are_not_cisco() {
    for line in [
        "<189>1: Aug 14 09:21:09: %SYS-9-CONFIG_I: bad severity",
        "<189>1: Aug 14 09:21:09: %SYS-5-: empty name",
        "<189>1: Aug 14 09:21:09: %-5-X: empty facility",
        "<189>1: Aug 14 09:21:09: %SYS-5-X no colon",
    ] {
        let r = p(line);
        assert!(
            !matches!(
                r.format,
                Format::CiscoIos | Format::CiscoAsa | Format::CiscoNxos
            ),
            "{line}"
        );
    }
}

//! Junos fixtures J1–J6 and variants (SRX without host, escaped SD quote, logical system).

use serde_json::json;

use super::{header, obj, p, ts, vendor};
use crate::proto::syslog::Format;

const J1: &str = r#"<14>1 2026-08-14T09:30:01.512+02:00 srx-fw01 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address="10.20.0.15" source-port="51234" destination-address="198.51.100.53" destination-port="53" connection-tag="0" service-name="junos-dns-udp" nat-source-address="203.0.113.10" nat-source-port="40001" nat-destination-address="198.51.100.53" nat-destination-port="53" nat-connection-tag="0" src-nat-rule-type="source rule" src-nat-rule-name="snat-out" dst-nat-rule-type="N/A" dst-nat-rule-name="N/A" protocol-id="17" policy-name="trust-to-untrust" source-zone-name="trust" destination-zone-name="untrust" session-id-32="4100021" username="N/A" roles="N/A" packet-incoming-interface="ge-0/0/1.0" application="DNS" nested-application="UNKNOWN" encrypted="No"] session created 10.20.0.15/51234->198.51.100.53/53 0x0 junos-dns-udp 203.0.113.10/40001->198.51.100.53/53 0x0 source rule snat-out N/A N/A 17 trust-to-untrust trust untrust 4100021 N/A(N/A) ge-0/0/1.0 DNS UNKNOWN No"#;
const J2: &str = r#"<14>1 2026-08-14T09:30:33.004+02:00 srx-fw01 RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 reason="response received" source-address="10.20.0.15" source-port="51234" destination-address="198.51.100.53" destination-port="53" service-name="junos-dns-udp" protocol-id="17" policy-name="trust-to-untrust" source-zone-name="trust" destination-zone-name="untrust" session-id-32="4100021" packets-from-client="1" bytes-from-client="64" packets-from-server="1" bytes-from-server="128" elapsed-time="2" application="DNS"] session closed response received: 10.20.0.15/51234->198.51.100.53/53"#;
const J3: &str = "<14>Aug 14 09:30:33 srx-fw01 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.20.0.15/50122->198.51.100.80/443 junos-https 203.0.113.10/41002->198.51.100.80/443 source rule snat-out N/A N/A 6 trust-to-untrust trust untrust 4100077 14(2321) 12(9876) 31 UNKNOWN UNKNOWN N/A(N/A) ge-0/0/1.0 No";
const J4: &str = "<14>Aug 14 09:30:40 srx-fw01 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 192.0.2.44/4431->10.20.0.9/3389 junos-rdp 6(0) deny-all untrust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 No";
const J5: &str = "<29>Aug 14 09:31:02 mx01 mgd[4122]: UI_COMMIT: User 'netops' requested 'commit' operation (comment: none)";
const J6: &str = "<28>Aug 14 09:31:05 mx01 rpd[2301]: %DAEMON-4-BGP_NEIGHBOR_STATE_CHANGED: BGP peer 192.0.2.1 (External AS 64500) changed state from Established to Idle (event RecvNotify)";
const SRX_NO_HOST: &str = "<14>Dec 17 08:05:30 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 192.0.2.44/4431->10.20.0.9/3389 junos-rdp 6(0) deny-all untrust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 No";
const SD_ESCAPED: &str = r#"<165>1 2024-03-15T10:22:33.123+01:00 mx480-re0 mgd 3456 UI_COMMIT [junos@2636.1.1.1.2.18 username="admin" comment="ticket \"42\""] User 'admin' requested 'commit' operation"#;

pub(crate) const FIXTURES: &[&str] = &[J1, J2, J3, J4, J5, J6, SRX_NO_HOST, SD_ESCAPED];

fn after<'a>(line: &'a str, marker: &str) -> &'a str {
    &line[line.find(marker).expect("marker") + marker.len()..]
}

#[test]
fn j1_structured_data_create() {
    let r = p(J1);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(r.version, Some(1));
    assert_eq!(
        header(&r),
        (
            Some(1),
            Some(6),
            Some("srx-fw01"),
            Some("RT_FLOW"),
            None,
            Some("RT_FLOW_SESSION_CREATE")
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:30:01.512+02:00"));
    assert_eq!(r.message, after(J1, "encrypted=\"No\"] "));
    assert_eq!(r.structured_data.len(), 1);
    let (id, params) = &r.structured_data[0];
    assert_eq!(id, "junos@2636.1.1.1.2.129");
    assert_eq!(params.len(), 26);
    assert_eq!(
        params[0],
        ("source-address".to_owned(), "10.20.0.15".to_owned())
    );
    let junos = obj(vendor(&r, "junos"));
    assert_eq!(junos.len(), 27);
    for (k, v) in params {
        assert_eq!(junos[k.as_str()], v.as_str(), "{k}");
    }
    assert_eq!(junos["tag"], "RT_FLOW_SESSION_CREATE");
    assert_eq!(junos["src-nat-rule-type"], "source rule");
    assert_eq!(junos["nat-source-address"], "203.0.113.10");
    assert_eq!(r.ddsource(), "juniper-junos");
    assert_eq!(r.service(), "RT_FLOW");
    let attrs = r.attributes();
    assert_eq!(
        attrs["syslog"]["structured_data"]["junos@2636.1.1.1.2.129"]["destination-port"],
        "53"
    );
    assert_eq!(attrs["syslog"]["msgid"], "RT_FLOW_SESSION_CREATE");
    assert_eq!(attrs["syslog"]["version"], 1);
    assert_eq!(attrs["junos"]["policy-name"], "trust-to-untrust");
}

#[test]
fn j2_structured_data_close() {
    let r = p(J2);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (
            Some(1),
            Some(6),
            Some("srx-fw01"),
            Some("RT_FLOW"),
            None,
            Some("RT_FLOW_SESSION_CLOSE")
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:30:33.004+02:00"));
    assert_eq!(
        r.message,
        "session closed response received: 10.20.0.15/51234->198.51.100.53/53"
    );
    let junos = obj(vendor(&r, "junos"));
    assert_eq!(junos.len(), 18);
    assert_eq!(junos["reason"], "response received");
    assert_eq!(junos["bytes-from-server"], "128");
    assert_eq!(junos["elapsed-time"], "2");
    assert_eq!(junos["tag"], "RT_FLOW_SESSION_CLOSE");
}

#[test]
fn j3_bsd_close_positional_fields() {
    let r = p(J3);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(r.version, None);
    assert_eq!(
        header(&r),
        (
            Some(1),
            Some(6),
            Some("srx-fw01"),
            Some("RT_FLOW"),
            None,
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:30:33+00:00"));
    assert_eq!(r.message, after(J3, "RT_FLOW: "));
    assert!(r
        .message
        .starts_with("RT_FLOW_SESSION_CLOSE: session closed TCP FIN: "));
    assert_eq!(
        vendor(&r, "junos"),
        json!({
            "tag": "RT_FLOW_SESSION_CLOSE", "reason": "TCP FIN",
            "source-address": "10.20.0.15", "source-port": "50122",
            "destination-address": "198.51.100.80", "destination-port": "443",
            "service-name": "junos-https",
            "nat-source-address": "203.0.113.10", "nat-source-port": "41002",
            "nat-destination-address": "198.51.100.80", "nat-destination-port": "443",
            "src-nat-rule-type": "source rule", "src-nat-rule-name": "snat-out",
            "dst-nat-rule-type": "N/A", "dst-nat-rule-name": "N/A",
            "protocol-id": "6", "policy-name": "trust-to-untrust",
            "source-zone-name": "trust", "destination-zone-name": "untrust",
            "session-id-32": "4100077",
            "packets-from-client": "14", "bytes-from-client": "2321",
            "packets-from-server": "12", "bytes-from-server": "9876", "elapsed-time": "31",
            "application": "UNKNOWN", "nested-application": "UNKNOWN",
            "username": "N/A", "roles": "N/A",
            "packet-incoming-interface": "ge-0/0/1.0", "encrypted": "No"
        })
    );
    assert_eq!(r.ddsource(), "juniper-junos");
}

fn deny_fields() -> serde_json::Value {
    json!({
        "tag": "RT_FLOW_SESSION_DENY",
        "source-address": "192.0.2.44", "source-port": "4431",
        "destination-address": "10.20.0.9", "destination-port": "3389",
        "service-name": "junos-rdp", "protocol-id": "6", "icmp-type": "0",
        "policy-name": "deny-all", "source-zone-name": "untrust", "destination-zone-name": "trust",
        "application": "UNKNOWN", "nested-application": "UNKNOWN",
        "username": "N/A", "roles": "N/A",
        "packet-incoming-interface": "ge-0/0/0.0", "encrypted": "No"
    })
}

#[test]
fn j4_bsd_deny_positional_fields() {
    let r = p(J4);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (
            Some(1),
            Some(6),
            Some("srx-fw01"),
            Some("RT_FLOW"),
            None,
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:30:40+00:00"));
    assert_eq!(r.message, after(J4, "RT_FLOW: "));
    assert_eq!(vendor(&r, "junos"), deny_fields());
}

#[test]
fn j5_bsd_with_pid() {
    let r = p(J5);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (
            Some(3),
            Some(5),
            Some("mx01"),
            Some("mgd"),
            Some("4122"),
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:31:02+00:00"));
    assert_eq!(
        r.message,
        "UI_COMMIT: User 'netops' requested 'commit' operation (comment: none)"
    );
    assert_eq!(vendor(&r, "junos"), json!({"tag": "UI_COMMIT"}));
    assert_eq!(r.service(), "mgd");
}

#[test]
fn j6_explicit_priority() {
    let r = p(J6);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (
            Some(3),
            Some(4),
            Some("mx01"),
            Some("rpd"),
            Some("2301"),
            None
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2026-08-14T09:31:05+00:00"));
    assert_eq!(r.message, after(J6, "rpd[2301]: "));
    assert!(r
        .message
        .starts_with("%DAEMON-4-BGP_NEIGHBOR_STATE_CHANGED: BGP peer"));
    assert_eq!(
        vendor(&r, "junos"),
        json!({"facility": "DAEMON", "severity": 4, "tag": "BGP_NEIGHBOR_STATE_CHANGED"})
    );
}

#[test]
fn srx_stream_mode_without_host() {
    let r = p(SRX_NO_HOST);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (Some(1), Some(6), None, Some("RT_FLOW"), None, None)
    );
    // Four months ahead is closer to now (2026-08-14) than eight months back.
    assert_eq!(ts(&r).as_deref(), Some("2026-12-17T08:05:30+00:00"));
    assert_eq!(r.message, after(SRX_NO_HOST, "RT_FLOW: "));
    assert_eq!(vendor(&r, "junos"), deny_fields());
    assert!(r.attributes()["syslog"].get("hostname").is_none());
}

#[test]
fn structured_data_with_escaped_quote() {
    let r = p(SD_ESCAPED);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (
            Some(20),
            Some(5),
            Some("mx480-re0"),
            Some("mgd"),
            Some("3456"),
            Some("UI_COMMIT")
        )
    );
    assert_eq!(ts(&r).as_deref(), Some("2024-03-15T10:22:33.123+01:00"));
    assert_eq!(r.message, "User 'admin' requested 'commit' operation");
    assert_eq!(
        r.structured_data,
        vec![(
            "junos@2636.1.1.1.2.18".to_owned(),
            vec![
                ("username".to_owned(), "admin".to_owned()),
                ("comment".to_owned(), "ticket \"42\"".to_owned())
            ]
        )]
    );
    assert_eq!(
        vendor(&r, "junos"),
        json!({"username": "admin", "comment": "ticket \"42\"", "tag": "UI_COMMIT"})
    );
}

#[test]
fn logical_system_prefix() {
    let line = "<28>Aug 14 09:31:05 mx01 LS1:rpd[2301]: %DAEMON-4-BGP_NEIGHBOR_STATE_CHANGED: BGP peer 192.0.2.1 changed state";
    let r = p(line);
    assert_eq!(r.format, Format::Junos);
    assert_eq!(
        header(&r),
        (
            Some(3),
            Some(4),
            Some("mx01"),
            Some("LS1:rpd"),
            Some("2301"),
            None
        )
    );
    assert_eq!(r.message, after(line, "]: "));
    assert_eq!(
        vendor(&r, "junos"),
        json!({"facility": "DAEMON", "severity": 4, "tag": "BGP_NEIGHBOR_STATE_CHANGED",
               "logical_system": "LS1"})
    );
    let r = p("<28>Aug 14 09:31:05 mx01 LS1:mgd: UI_COMMIT: User 'x'");
    assert_eq!(header(&r).3, Some("LS1:mgd"));
    assert_eq!(r.message, "UI_COMMIT: User 'x'");
}

#[test]
fn bsd_create_with_connection_tags() {
    let r = p("<14>Aug 14 09:30:01 srx-fw01 RT_FLOW: RT_FLOW_SESSION_CREATE: session created 10.20.0.15/51234->198.51.100.53/53 0x0 junos-dns-udp 203.0.113.10/40001->198.51.100.53/53 0x0 source rule snat-out N/A N/A 17 trust-to-untrust trust untrust 4100021 N/A(N/A) ge-0/0/1.0 DNS UNKNOWN No");
    let junos = obj(vendor(&r, "junos"));
    assert_eq!(junos["connection-tag"], "0x0");
    assert_eq!(junos["nat-connection-tag"], "0x0");
    assert_eq!(junos["session-id-32"], "4100021");
    assert_eq!(junos["application"], "DNS");
    assert_eq!(junos["packet-incoming-interface"], "ge-0/0/1.0");
}

#[test]
fn old_release_layout_and_short_lines_degrade_gracefully() {
    // Junos 10.x: two rule names, no rule types, no trailing application fields.
    let r = p("<14>Aug 14 09:30:33 srx RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.0.0.1/1->10.0.0.2/2 junos-https 10.0.0.1/1->10.0.0.2/2 None None 6 p1 trust untrust 42 1(60) 1(40) 3");
    let junos = obj(vendor(&r, "junos"));
    assert_eq!(junos["src-nat-rule-name"], "None");
    assert_eq!(junos["protocol-id"], "6");
    assert_eq!(junos["elapsed-time"], "3");
    assert!(junos.get("application").is_none());
    let r = p("<14>Aug 14 09:30:33 srx RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed");
    assert_eq!(vendor(&r, "junos"), json!({"tag": "RT_FLOW_SESSION_CLOSE"}));
}

#[test]
fn linux_programs_are_not_junos() {
    let r = p("<38>Aug 14 09:31:02 web01 myapp[1]: UI_COMMIT: looks like a tag");
    assert_eq!(r.format, Format::Rfc3164);
    assert!(r.vendor.is_empty());
    let r = p("<38>Aug 14 09:31:02 web01 sshd[1]: Accepted publickey for root");
    assert_eq!(r.format, Format::Rfc3164);
}

//! The trap record on the notifications the tests build: Datadog's attributes, labels, the
//! message, value types.

use super::*;
use crate::proto::snmp::notify::V1Origin;
use serde_json::{json, Value as Json};

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

fn origin<'a>(device: Option<&'a DeviceInfo>, tags: &'a [String]) -> Origin<'a> {
    Origin {
        peer: "10.0.0.1".parse().unwrap(),
        at: Utc::now(),
        device,
        tags,
        namespace: "ns1",
    }
}

/// The record as the input builds it: with the sender's tags.
fn build(n: &Notification, o: &Origin<'_>, db: &TrapDb) -> (LogRecord, Unresolved) {
    super::build(n, o, db, tags(n.version, o))
}

fn link_down() -> Notification {
    Notification {
        version: 2,
        inform: false,
        uptime: Some(4242),
        trap_oid: oid("1.3.6.1.6.3.1.1.5.3"),
        varbinds: vec![
            VarBind::new(oid("1.3.6.1.2.1.2.2.1.1.3"), Value::Integer(3)),
            VarBind::new(oid("1.3.6.1.2.1.2.2.1.7.3"), Value::Integer(1)),
            VarBind::new(oid("1.3.6.1.2.1.2.2.1.8.3"), Value::Integer(2)),
            VarBind::new(
                oid("1.3.6.1.2.1.2.2.1.2.3"),
                Value::OctetString(b"Gi1/0/3\0".to_vec()),
            ),
            VarBind::new(
                oid("1.3.6.1.4.1.9.9.1.1"),
                Value::OctetString(vec![0, 0x1b, 0x54, 0xff, 0, 1]),
            ),
        ],
        v1: None,
        user: None,
        engine_id: None,
    }
}

#[test]
fn link_down_is_named_with_labels_and_datadog_attributes() {
    let dev = DeviceInfo {
        name: Some("core-sw01".into()),
        tags: vec!["site:dc1".into()],
        ..Default::default()
    };
    let tags = vec!["env:prd".to_string()];
    let (r, un) = build(&link_down(), &origin(Some(&dev), &tags), &TrapDb::builtin());
    assert_eq!(
        un,
        Unresolved {
            trap: false,
            variables: 1
        }
    );
    let j = r.to_json();
    assert_eq!(j["ddsource"], "snmp-traps");
    assert_eq!(j["service"], "snmp-traps");
    assert_eq!(j["hostname"], "core-sw01");
    assert_eq!(j["status"], "info");
    assert_eq!(
        j["ddtags"],
        "env:prd,site:dc1,snmp_version:2,device_namespace:ns1,snmp_device:10.0.0.1"
    );
    assert_eq!(j["network"]["client"]["ip"], "10.0.0.1");
    assert_eq!(j["snmpTrapOID"], "1.3.6.1.6.3.1.1.5.3");
    assert_eq!(
        (&j["snmpTrapName"], &j["snmpTrapMIB"]),
        (&json!("linkDown"), &json!("IF-MIB"))
    );
    assert_eq!(j["uptime"], 4242);
    assert_eq!(j["ifIndex"], 3);
    assert_eq!(j["ifAdminStatus"], "up");
    assert_eq!(j["ifOperStatus"], "down");
    assert_eq!(j["ifDescr"], "Gi1/0/3");
    let vars = j["variables"].as_array().unwrap();
    assert_eq!(
        vars[2],
        json!({"oid": "1.3.6.1.2.1.2.2.1.8.3", "type": "integer", "value": 2})
    );
    assert_eq!(vars[4]["value"], "0x001B54FF0001");
    assert_eq!(vars[4]["type"], "string");
    assert_eq!(j["snmp"]["pdu"], "trap");
    assert_eq!(
        j["message"],
        "IF-MIB::linkDown from core-sw01 (10.0.0.1): ifIndex=3 ifAdminStatus=up \
         ifOperStatus=down ifDescr=Gi1/0/3 1.3.6.1.4.1.9.9.1.1=0x001B54FF0001"
    );
}

#[test]
fn unknown_traps_and_v1_fields() {
    let mut n = link_down();
    n.version = 1;
    n.trap_oid = oid("1.3.6.1.4.1.8072.2.3.0.17");
    n.varbinds.truncate(0);
    n.v1 = Some(V1Origin {
        enterprise: oid("1.3.6.1.4.1.8072.2.3"),
        agent_addr: [192, 0, 2, 7].into(),
        generic_trap: 6,
        specific_trap: 17,
    });
    let (r, un) = build(&n, &origin(None, &[]), &TrapDb::builtin());
    assert!(un.trap);
    let j = r.to_json();
    assert_eq!(j["hostname"], "10.0.0.1");
    assert!(j.get("snmpTrapName").is_none());
    assert_eq!(j["enterpriseOID"], "1.3.6.1.4.1.8072.2.3");
    assert_eq!(
        (&j["genericTrap"], &j["specificTrap"]),
        (&json!(6), &json!(17))
    );
    assert_eq!(j["snmp"]["agent_address"], "192.0.2.7");
    assert_eq!(j["message"], "1.3.6.1.4.1.8072.2.3.0.17 from 10.0.0.1");
    assert!(j["ddtags"].as_str().unwrap().contains("snmp_version:1"));
}

#[test]
fn long_lists_and_values_are_cut_in_the_message_only() {
    let mut n = link_down();
    n.varbinds = (0..25)
        .map(|i| {
            VarBind::new(
                oid(&format!("1.3.6.1.4.1.1.{i}")),
                Value::OctetString("x".repeat(300).into_bytes()),
            )
        })
        .collect();
    let (r, un) = build(&n, &origin(None, &[]), &TrapDb::builtin());
    assert_eq!(un.variables, 25);
    assert!(r.message.ends_with("(+15 more)"));
    assert!(r.message.len() < 1500);
    let j = r.to_json();
    assert_eq!(j["variables"].as_array().unwrap().len(), 25);
    assert_eq!(j["variables"][0]["value"].as_str().unwrap().len(), 300);
}

#[test]
fn oids_are_dotted_decimal() {
    for s in ["1.3", "0.0", "1.3.6.1.4.1.4294967295.0.10", "2.999.1"] {
        assert_eq!(dotted(&oid(s)), s);
    }
}

#[test]
fn values_of_every_type() {
    let cases = [
        (Value::Counter64(1 << 40), "counter64", json!(1u64 << 40)),
        (Value::TimeTicks(5), "time-ticks", json!(5)),
        (
            Value::IpAddress([10, 1, 2, 3].into()),
            "ip-address",
            json!("10.1.2.3"),
        ),
        (Value::Oid(oid("1.3.6.1")), "oid", json!("1.3.6.1")),
        (Value::NoSuchObject, "no-such-object", Json::Null),
        (
            Value::OctetString(vec![0xff, 0xfe]),
            "string",
            json!("0xFFFE"),
        ),
        (
            Value::OctetString(b"a\x01b".to_vec()),
            "string",
            json!("0x610162"),
        ),
        (Value::Integer(-5), "integer", json!(-5)),
        (
            Value::OctetString("q\"\\é\n\t".into()),
            "string",
            json!("q\"\\é\n\t"),
        ),
    ];
    for (v, kind, value) in cases {
        let (k, shown) = type_and_value(&v);
        let mut s = String::new();
        shown.write_json(&mut s);
        let parsed: Json = serde_json::from_str(&s).unwrap();
        assert_eq!((k, parsed), (kind, value), "{s}");
    }
}

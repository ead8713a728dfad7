//! Turns one accepted notification into a log record with the attributes of Datadog's trap logs
//! (datadog.md §8): `snmpTrapOID`, `snmpTrapName`, `snmpTrapMIB`, `uptime`, `variables` as
//! `{oid, type, value}`, each resolved variable as a top-level attribute, and for v1 traps
//! `enterpriseOID`, `genericTrap`, `specificTrap`. Pure: the receive time is passed in.
//!
//! Choices where Datadog's format leaves room:
//! - `message` names the trap and its resolved variables, so the log list reads without opening
//!   a record: `IF-MIB::linkDown from core-sw01 (10.0.0.1): ifIndex=3 ifOperStatus=down`.
//! - `service` is `snmp-traps`, like `ddsource`; `status` is `info`: a trap carries no
//!   severity, and guessing one per trap name would be wrong as often as right.
//! - An OCTET STRING that is not printable text (a MAC address, a BITS value) is shown as
//!   `0x` and upper-case hex, the form Datadog uses for BITS, rather than mangled UTF-8.
//! - Extras nocbox adds under `snmp`: `pdu` (`trap` or `inform`), and for v3 `user` and
//!   `engine_id` (hex: the value to put in `traps.users[].engine_ids`), for v1 `agent_address`.

use std::fmt::Write as _;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as Json};

use crate::event::{LogRecord, Status};
use crate::inputs::DeviceInfo;
use crate::proto::snmp::notify::Notification;
use crate::proto::snmp::trapdb::TrapDb;
use crate::proto::snmp::{Value, VarBind};

/// Attribute names the record uses itself; a MIB object of the same name is not copied to the
/// top level (it stays in `variables`).
const RESERVED: &[&str] = &[
    "message",
    "hostname",
    "ddsource",
    "service",
    "status",
    "ddtags",
    "timestamp",
    "network",
    "kind",
    "snmp",
    "snmpTrapOID",
    "snmpTrapName",
    "snmpTrapMIB",
    "uptime",
    "variables",
    "enterpriseOID",
    "genericTrap",
    "specificTrap",
];

/// Variables named in `message`, and the longest value shown there.
const MESSAGE_VARS: usize = 10;
const MESSAGE_VALUE_CHARS: usize = 80;

/// What the record could not name (Datadog's `traps_not_enriched` / `vars_not_enriched`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unresolved {
    pub trap: bool,
    pub variables: usize,
}

/// Where the notification came from and what the config says about it.
pub struct Origin<'a> {
    pub peer: IpAddr,
    pub at: DateTime<Utc>,
    pub device: Option<&'a DeviceInfo>,
    pub tags: &'a [String],
    pub namespace: &'a str,
}

/// The record for `n`.
pub fn build(n: &Notification, o: &Origin<'_>, db: &TrapDb) -> (LogRecord, Unresolved) {
    let mut unresolved = Unresolved::default();
    let mut attrs = Map::new();
    attrs.insert("snmpTrapOID".into(), Json::String(n.trap_oid.to_string()));
    let trap = db.trap(&n.trap_oid);
    let title = match &trap {
        Some(t) => {
            attrs.insert("snmpTrapName".into(), json!(t.name));
            attrs.insert("snmpTrapMIB".into(), json!(t.mib));
            format!("{}::{}", t.mib, t.name)
        }
        None => {
            unresolved.trap = true;
            n.trap_oid.to_string()
        }
    };
    if let Some(u) = n.uptime {
        attrs.insert("uptime".into(), json!(u));
    }
    let mut snmp = Map::new();
    let pdu = if n.inform { "inform" } else { "trap" };
    snmp.insert("pdu".into(), json!(pdu));
    if let Some(v1) = &n.v1 {
        attrs.insert("enterpriseOID".into(), json!(v1.enterprise.to_string()));
        attrs.insert("genericTrap".into(), json!(v1.generic_trap));
        attrs.insert("specificTrap".into(), json!(v1.specific_trap));
        snmp.insert("agent_address".into(), json!(v1.agent_addr.to_string()));
    }
    if let Some(u) = &n.user {
        snmp.insert("user".into(), json!(u));
    }
    if let Some(e) = &n.engine_id {
        snmp.insert("engine_id".into(), json!(hex(e)));
    }
    attrs.insert("snmp".into(), Json::Object(snmp));

    let hostname = o
        .device
        .and_then(|d| d.name.clone())
        .unwrap_or_else(|| o.peer.to_string());
    let from = if hostname == o.peer.to_string() {
        hostname.clone()
    } else {
        format!("{hostname} ({})", o.peer)
    };
    let mut message = format!("{title} from {from}");
    let mut variables = Vec::with_capacity(n.varbinds.len());
    for (i, vb) in n.varbinds.iter().enumerate() {
        let (entry, named) = variable(vb, db, &mut attrs);
        if named.is_none() {
            unresolved.variables += 1;
        }
        if i < MESSAGE_VARS {
            message.push_str(if i == 0 { ": " } else { " " });
            let name = named.unwrap_or_else(|| vb.oid.to_string());
            let shown = attrs
                .get(&name)
                .filter(|_| !RESERVED.contains(&name.as_str()))
                .unwrap_or(&entry["value"]);
            let _ = write!(message, "{name}={}", short(shown));
        }
        variables.push(entry);
    }
    if n.varbinds.len() > MESSAGE_VARS {
        let _ = write!(message, " (+{} more)", n.varbinds.len() - MESSAGE_VARS);
    }
    attrs.insert("variables".into(), Json::Array(variables));

    let mut rec = LogRecord::new(message, hostname, o.at);
    rec.ddsource = "snmp-traps".into();
    rec.service = "snmp-traps".into();
    rec.status = Status::Info;
    rec.client_ip = Some(o.peer);
    rec.tags = o.tags.to_vec();
    if let Some(d) = o.device {
        rec.tags.extend(d.tags.iter().cloned());
    }
    rec.tags.push(format!("snmp_version:{}", n.version));
    rec.tags.push(format!("device_namespace:{}", o.namespace));
    rec.tags.push(format!("snmp_device:{}", o.peer));
    rec.attributes = attrs;
    (rec, unresolved)
}

/// The `variables` entry of one varbind; when the DB names its object, also the top-level
/// attribute (the enum label, the BITS label list, or the value). Returns the entry and the
/// name.
fn variable(vb: &VarBind, db: &TrapDb, attrs: &mut Map<String, Json>) -> (Json, Option<String>) {
    let (kind, mut value) = type_and_value(&vb.value);
    let Some(var) = db.variable(&vb.oid) else {
        return (entry(&vb.oid.to_string(), kind, value), None);
    };
    let name = var.name.to_string();
    let top = match db.label(&var, &vb.value) {
        Some(Json::Array(bits)) => {
            // BITS: the labels at the top level, the octets as hex in `variables` (Datadog's)
            if let Value::OctetString(b) = &vb.value {
                value = Json::String(upper_hex(b));
            }
            Json::Array(bits)
        }
        Some(label) => label,
        None => value.clone(),
    };
    if !RESERVED.contains(&name.as_str()) {
        attrs.insert(name.clone(), top);
    }
    (entry(&vb.oid.to_string(), kind, value), Some(name))
}

fn entry(oid: &str, kind: &str, value: Json) -> Json {
    json!({ "oid": oid, "type": kind, "value": value })
}

/// Datadog's type names for trap variables (gosnmp's types as the Agent's formatter spells
/// them) and the value as JSON.
fn type_and_value(v: &Value) -> (&'static str, Json) {
    match v {
        Value::Integer(i) => ("integer", json!(i)),
        Value::OctetString(b) => ("string", Json::String(text_or_hex(b))),
        Value::Null => ("null", Json::Null),
        Value::Oid(o) => ("oid", Json::String(o.to_string())),
        Value::IpAddress(a) => ("ip-address", Json::String(a.to_string())),
        Value::Counter32(n) => ("counter32", json!(n)),
        Value::Gauge32(n) => ("gauge32", json!(n)),
        Value::TimeTicks(n) => ("time-ticks", json!(n)),
        Value::Opaque(b) => ("opaque", Json::String(upper_hex(b))),
        Value::Counter64(n) => ("counter64", json!(n)),
        Value::NoSuchObject => ("no-such-object", Json::Null),
        Value::NoSuchInstance => ("no-such-instance", Json::Null),
        Value::EndOfMibView => ("end-of-mib-view", Json::Null),
        Value::Other {
            tag: 0x03,
            contents,
        } => ("string", Json::String(upper_hex(contents))),
        Value::Other {
            tag: 0x45,
            contents,
        } => ("nsap-address", Json::String(upper_hex(contents))),
        Value::Other { contents, .. } => ("other", Json::String(upper_hex(contents))),
    }
}

/// Printable text as it is (trailing NULs dropped: some agents send C strings), anything else
/// as hex.
fn text_or_hex(b: &[u8]) -> String {
    let mut trimmed = b;
    while let [rest @ .., 0] = trimmed {
        trimmed = rest;
    }
    match std::str::from_utf8(trimmed) {
        Ok(s)
            if !s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            s.to_string()
        }
        _ => upper_hex(b),
    }
}

fn upper_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        let _ = write!(s, "{x:02X}");
    }
    s
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// A value as `message` shows it: text unquoted, cut to [`MESSAGE_VALUE_CHARS`].
fn short(v: &Json) -> String {
    let s = match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match s.char_indices().nth(MESSAGE_VALUE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::snmp::notify::V1Origin;
    use crate::proto::snmp::Oid;

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
        ];
        for (v, kind, value) in cases {
            assert_eq!(type_and_value(&v), (kind, value));
        }
    }
}

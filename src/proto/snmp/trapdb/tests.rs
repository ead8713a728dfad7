use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::parse::{parse, Format};
use super::*;

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

fn trap_name(db: &TrapDb, s: &str) -> Option<(String, String)> {
    db.trap(&oid(s))
        .map(|t| (t.name.to_string(), t.mib.to_string()))
}

fn var_name(db: &TrapDb, s: &str) -> Option<(String, String)> {
    db.variable(&oid(s))
        .map(|v| (v.name.to_string(), v.mib.to_string()))
}

/// A fresh, empty directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "nocbox-trapdb-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Tables built from in-memory documents, without the built-in files.
fn db_of(docs: &[(&str, Format)]) -> TrapDb {
    let mut tables = Tables::default();
    for (text, format) in docs {
        let parsed = parse(text.as_bytes(), *format);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        tables.add_file(parsed);
    }
    TrapDb {
        tables: Arc::new(tables),
    }
}

#[test]
fn builtin_files_load_without_problems() {
    let mut tables = Tables::default();
    let problems = builtin::add_all(&mut tables);
    assert!(problems.is_empty(), "{problems:#?}");
    let db = TrapDb::builtin();
    let (traps, vars) = db.len();
    assert!(traps > 0 && vars > 0);
    assert_eq!(db.len(), (tables.traps.len(), tables.vars.len()));
    // every built-in file says which MIB it is and where its facts come from
    for (name, text) in builtin::FILES {
        assert!(text.starts_with("# "), "{name} has no header comment");
        let parsed = parse(text.as_bytes(), Format::Yaml);
        assert!(
            parsed.single_mib.is_some(),
            "{name} has no single `mibs` entry"
        );
        for (oid, t) in &parsed.traps {
            assert!(!t.mib.is_empty(), "{name}: trap {oid:?} has no MIB");
        }
    }
}

#[test]
fn every_builtin_file_is_compiled_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto/snmp/trapdb/builtin");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = builtin::FILES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn builtin_files_do_not_disagree() {
    // the same OID in two built-in files (or twice in one) must say the same thing
    let mut traps: HashMap<Box<[u32]>, (&str, String, String)> = HashMap::new();
    let mut vars: HashMap<Box<[u32]>, (&str, String)> = HashMap::new();
    let mut names: HashMap<(String, String), Box<[u32]>> = HashMap::new();
    for (file, text) in builtin::FILES {
        let parsed = parse(text.as_bytes(), Format::Yaml);
        for (oid, t) in parsed.traps {
            if let Some((other, name, mib)) = traps.get(&oid) {
                assert_eq!(
                    (name, mib),
                    (&t.name, &t.mib),
                    "trap {oid:?} in {file} and {other}"
                );
            }
            traps.insert(oid, (file, t.name, t.mib));
        }
        for (oid, v) in parsed.vars {
            if let Some((other, name)) = vars.get(&oid) {
                assert_eq!(name, &v.name, "var {oid:?} in {file} and {other}");
            }
            // one object name per MIB
            let key = (v.mib.clone(), v.name.clone());
            if let Some(other) = names.get(&key) {
                assert_eq!(other, &oid, "{key:?} at two OIDs ({file})");
            }
            names.insert(key, oid.clone());
            vars.insert(oid, (file, v.name));
        }
    }
    // no built-in var is a node (the parent of another built-in var): it would hide both
    for oid in vars.keys() {
        for n in 2..oid.len() {
            assert!(
                !vars.contains_key(&oid[..n]),
                "{:?} is the parent of {oid:?}",
                &oid[..n]
            );
        }
    }
}

/// Each OID checked against its MIB's text (see the header of each built-in file).
#[test]
fn well_known_oids_resolve() {
    let db = TrapDb::builtin();
    let traps = [
        ("1.3.6.1.6.3.1.1.5.1", "coldStart", "SNMPv2-MIB"),
        ("1.3.6.1.6.3.1.1.5.2", "warmStart", "SNMPv2-MIB"),
        ("1.3.6.1.6.3.1.1.5.3", "linkDown", "IF-MIB"),
        ("1.3.6.1.6.3.1.1.5.4", "linkUp", "IF-MIB"),
        ("1.3.6.1.6.3.1.1.5.5", "authenticationFailure", "SNMPv2-MIB"),
        ("1.3.6.1.2.1.47.2.0.1", "entConfigChange", "ENTITY-MIB"),
        (
            "1.3.6.1.2.1.131.0.2",
            "entStateOperDisabled",
            "ENTITY-STATE-MIB",
        ),
        ("1.3.6.1.2.1.17.0.1", "newRoot", "BRIDGE-MIB"),
        ("1.3.6.1.2.1.17.0.2", "topologyChange", "BRIDGE-MIB"),
        ("1.3.6.1.2.1.16.0.1", "risingAlarm", "RMON-MIB"),
        (
            "1.3.6.1.2.1.15.0.1",
            "bgpEstablishedNotification",
            "BGP4-MIB",
        ),
        (
            "1.3.6.1.2.1.15.0.2",
            "bgpBackwardTransNotification",
            "BGP4-MIB",
        ),
        ("1.3.6.1.2.1.15.7.1", "bgpEstablished", "BGP4-MIB"),
        ("1.3.6.1.2.1.15.7.2", "bgpBackwardTransition", "BGP4-MIB"),
        (
            "1.3.6.1.2.1.14.16.2.2",
            "ospfNbrStateChange",
            "OSPF-TRAP-MIB",
        ),
        (
            "1.3.6.1.2.1.14.16.2.16",
            "ospfIfStateChange",
            "OSPF-TRAP-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.43.2.0.1",
            "ciscoConfigManEvent",
            "CISCO-CONFIG-MAN-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.41.2.0.1",
            "clogMessageGenerated",
            "CISCO-SYSLOG-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.13.3.0.7",
            "ciscoEnvMonTempStatusChangeNotif",
            "CISCO-ENVMON-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.117.2.0.1",
            "cefcModuleStatusChange",
            "CISCO-ENTITY-FRU-CONTROL-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.117.2.0.4",
            "cefcFRURemoved",
            "CISCO-ENTITY-FRU-CONTROL-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.500.0.0.2",
            "cswStackNewMaster",
            "CISCO-STACKWISE-MIB",
        ),
        (
            "1.3.6.1.4.1.2636.4.1.1",
            "jnxPowerSupplyFailure",
            "JUNIPER-MIB",
        ),
        ("1.3.6.1.4.1.2636.4.1.5", "jnxFruRemoval", "JUNIPER-MIB"),
        ("1.3.6.1.4.1.2636.4.2.3", "jnxTemperatureOK", "JUNIPER-MIB"),
        (
            "1.3.6.1.4.1.2636.4.5.0.1",
            "jnxCmCfgChange",
            "JUNIPER-CFGMGMT-MIB",
        ),
        (
            "1.3.6.1.4.1.2636.4.12.0.1",
            "jnxSyslogTrap",
            "JUNIPER-SYSLOG-MIB",
        ),
    ];
    for (o, name, mib) in traps {
        assert_eq!(
            trap_name(&db, o),
            Some((name.into(), mib.into())),
            "trap {o}"
        );
    }
    // instances (sub-identifiers below the column) are dropped
    let vars = [
        ("1.3.6.1.2.1.1.3.0", "sysUpTime", "SNMPv2-MIB"),
        ("1.3.6.1.6.3.1.1.4.1.0", "snmpTrapOID", "SNMPv2-MIB"),
        ("1.3.6.1.2.1.1.5.0", "sysName", "SNMPv2-MIB"),
        (
            "1.3.6.1.6.3.18.1.3.0",
            "snmpTrapAddress",
            "SNMP-COMMUNITY-MIB",
        ),
        ("1.3.6.1.2.1.2.2.1.1.3", "ifIndex", "IF-MIB"),
        ("1.3.6.1.2.1.2.2.1.8.3", "ifOperStatus", "IF-MIB"),
        ("1.3.6.1.2.1.31.1.1.1.1.3", "ifName", "IF-MIB"),
        ("1.3.6.1.2.1.31.1.1.1.18.3", "ifAlias", "IF-MIB"),
        ("1.3.6.1.2.1.15.3.1.2.192.0.2.1", "bgpPeerState", "BGP4-MIB"),
        (
            "1.3.6.1.2.1.15.3.1.14.192.0.2.1",
            "bgpPeerLastError",
            "BGP4-MIB",
        ),
        (
            "1.3.6.1.2.1.14.10.1.6.10.0.0.2.0",
            "ospfNbrState",
            "OSPF-MIB",
        ),
        (
            "1.3.6.1.2.1.14.16.1.2.0",
            "ospfConfigErrorType",
            "OSPF-TRAP-MIB",
        ),
        (
            "1.3.6.1.2.1.17.2.15.1.3.7",
            "dot1dStpPortState",
            "BRIDGE-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.43.1.1.6.1.3.12",
            "ccmHistoryEventCommandSource",
            "CISCO-CONFIG-MAN-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.41.1.2.3.1.3.99",
            "clogHistSeverity",
            "CISCO-SYSLOG-MIB",
        ),
        (
            "1.3.6.1.4.1.9.9.117.1.2.1.1.2.1000",
            "cefcModuleOperStatus",
            "CISCO-ENTITY-FRU-CONTROL-MIB",
        ),
        (
            "1.3.6.1.4.1.2636.3.1.13.1.6.2.1.0.0",
            "jnxOperatingState",
            "JUNIPER-MIB",
        ),
        (
            "1.3.6.1.4.1.2636.3.18.1.7.1.4.5",
            "jnxCmCfgChgEventSource",
            "JUNIPER-CFGMGMT-MIB",
        ),
    ];
    for (o, name, mib) in vars {
        assert_eq!(var_name(&db, o), Some((name.into(), mib.into())), "var {o}");
    }
    // nothing is made up for the rest of a vendor's tree
    assert_eq!(var_name(&db, "1.3.6.1.4.1.9.9.999.1.1"), None);
    assert_eq!(var_name(&db, "1.3.6.1.2.1.2.2.1.99.1"), None);

    let label = |o: &str, v: Value| label(&db, &db.variable(&oid(o)).unwrap(), &v);
    let status = "1.3.6.1.2.1.2.2.1.8.3";
    for (n, want) in [
        (1, "up"),
        (2, "down"),
        (5, "dormant"),
        (7, "lowerLayerDown"),
    ] {
        assert_eq!(label(status, Value::Integer(n)), Some(json!(want)));
    }
    assert_eq!(
        label("1.3.6.1.2.1.2.2.1.3.1", Value::Integer(6)),
        Some(json!("ethernetCsmacd"))
    );
    assert_eq!(
        label("1.3.6.1.2.1.2.2.1.3.1", Value::Integer(161)),
        Some(json!("ieee8023adLag"))
    );
    assert_eq!(
        label("1.3.6.1.2.1.15.3.1.2.192.0.2.1", Value::Integer(6)),
        Some(json!("established"))
    );
    assert_eq!(
        label("1.3.6.1.2.1.14.10.1.6.10.0.0.2.0", Value::Integer(8)),
        Some(json!("full"))
    );
    assert_eq!(
        label("1.3.6.1.4.1.9.9.41.1.2.3.1.3.99", Value::Integer(4)),
        Some(json!("error"))
    );
    assert_eq!(
        label("1.3.6.1.4.1.9.9.13.1.3.1.6.1", Value::Integer(3)),
        Some(json!("critical"))
    );
    assert_eq!(
        label("1.3.6.1.4.1.2636.3.1.13.1.6.2.1.0.0", Value::Integer(6)),
        Some(json!("down"))
    );
    assert_eq!(
        label("1.3.6.1.2.1.131.1.1.1.5.1", Value::OctetString(vec![0x30])),
        Some(json!(["critical", "major"]))
    );
}

#[test]
fn trap_oids_drop_a_trailing_zero_and_accept_the_v1_form() {
    let db = db_of(&[(
        r#"{"traps": {
            "1.3.6.1.4.1.2636.4.1.1": {"name": "jnxPowerSupplyFailure", "mib": "JUNIPER-MIB"},
            "1.3.6.1.4.1.9.9.43.2.0.1": {"name": "ciscoConfigManEvent", "mib": "CISCO-CONFIG-MAN-MIB"}
        }}"#,
        Format::Json,
    )]);
    let jnx = Some((
        "jnxPowerSupplyFailure".to_string(),
        "JUNIPER-MIB".to_string(),
    ));
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.2636.4.1.1"), jnx);
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.2636.4.1.1.0"), jnx);
    // SNMPv1: enterprise 1.3.6.1.4.1.2636.4.1, specific 1 -> 1.3.6.1.4.1.2636.4.1.0.1
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.2636.4.1.0.1"), jnx);
    let ccm = trap_name(&db, "1.3.6.1.4.1.9.9.43.2.0.1").unwrap();
    assert_eq!(ccm.0, "ciscoConfigManEvent");
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.9.9.43.2.0.2"), None);
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.2636.4.1"), None);
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.2636.4.1.1.5"), None);
    assert_eq!(trap_name(&db, "1.3"), None);
    assert_eq!(trap_name(&db, "0.0"), None);
}

#[test]
fn variables_climb_to_the_nearest_object_and_stop_where_datadog_stops() {
    let db = db_of(&[(
        r#"
mibs: [TEST-MIB]
vars:
  1.3.6.1.2.1.2.2.1.8: {name: ifOperStatus}
  .1.3.6.1.4.1.99.1: {name: node}
  1.3.6.1.4.1.99.1.5: {name: belowNode}
  1.3.6.1.4.1.99.2.0: {name: endsInZero}
  1.3.6.1.4.1: {name: enterprises}
  1.3.6: {name: dod}
"#,
        Format::Yaml,
    )]);
    let name = |s: &str| db.variable(&oid(s)).map(|v| v.name.to_string());
    assert_eq!(
        name("1.3.6.1.2.1.2.2.1.8.3").as_deref(),
        Some("ifOperStatus")
    );
    assert_eq!(name("1.3.6.1.2.1.2.2.1.8").as_deref(), Some("ifOperStatus"));
    assert_eq!(
        name("1.3.6.1.2.1.2.2.1.8.0").as_deref(),
        Some("ifOperStatus")
    );
    assert_eq!(
        db.variable(&oid("1.3.6.1.2.1.2.2.1.8.3")).unwrap().mib,
        "TEST-MIB"
    );
    // an object that is the parent of another object of its file never matches, and stops
    // the climb
    assert_eq!(name("1.3.6.1.4.1.99.1.5.7").as_deref(), Some("belowNode"));
    assert_eq!(name("1.3.6.1.4.1.99.1"), None);
    assert_eq!(name("1.3.6.1.4.1.99.1.6"), None);
    // a trailing .0 is dropped first, as in Datadog
    assert_eq!(name("1.3.6.1.4.1.99.2.0"), None);
    // enterprises and above never match, even when a file names them
    assert_eq!(name("1.3.6.1.4.1.12345.1.2"), None);
    assert_eq!(name("1.3.6.1.4.1"), None);
    assert_eq!(name("1.3.6.7"), None);
    assert_eq!(name("1.3.6"), None);
    assert_eq!(name("2.5.4.3"), None);
}

#[test]
fn integers_become_enum_labels_and_bits_become_set_labels() {
    let db = db_of(&[(
        r#"
vars:
  1.3.6.1.2.1.2.2.1.8:
    name: ifOperStatus
    enum: {1: up, 2: down, -1: minusOne}
  1.3.6.1.2.1.131.1.1.1.5:
    name: entStateAlarm
    bits: {0: unknown, 1: underRepair, 2: critical, 9: nine}
  1.3.6.1.4.1.99.3:
    name: both
    enum: {"1": one}
    bits: {"1": one}
  1.3.6.1.4.1.99.4:
    name: plain
"#,
        Format::Yaml,
    )]);
    let var = |s: &str| db.variable(&oid(s)).unwrap();
    let status = var("1.3.6.1.2.1.2.2.1.8.3");
    assert_eq!(label(&db, &status, &Value::Integer(2)), Some(json!("down")));
    assert_eq!(
        label(&db, &status, &Value::Integer(-1)),
        Some(json!("minusOne"))
    );
    assert_eq!(label(&db, &status, &Value::Integer(9)), None);
    assert_eq!(label(&db, &status, &Value::Gauge32(2)), None);
    assert_eq!(label(&db, &status, &Value::OctetString(vec![0x80])), None);

    let alarm = var("1.3.6.1.2.1.131.1.1.1.5.1");
    // bit 0 is the most significant bit of the first octet
    assert_eq!(
        label(&db, &alarm, &Value::OctetString(vec![0x20])),
        Some(json!(["critical"]))
    );
    assert_eq!(
        label(&db, &alarm, &Value::OctetString(vec![0xe0, 0x40])),
        Some(json!(["unknown", "underRepair", "critical", "nine"]))
    );
    // a set bit without a label shows as its position, as Datadog does
    assert_eq!(
        label(&db, &alarm, &Value::OctetString(vec![0x01, 0x01])),
        Some(json!([7, 15]))
    );
    assert_eq!(
        label(&db, &alarm, &Value::OctetString(vec![])),
        Some(json!([]))
    );
    // a BIT STRING (unused-bits octet first) from an SNMPv1 agent
    let bit_string = Value::Other {
        tag: 0x03,
        contents: vec![0x06, 0x40],
    };
    assert_eq!(
        label(&db, &alarm, &bit_string),
        Some(json!(["underRepair"]))
    );
    let empty_bit_string = Value::Other {
        tag: 0x03,
        contents: vec![],
    };
    assert_eq!(label(&db, &alarm, &empty_bit_string), None);
    assert_eq!(label(&db, &alarm, &Value::Integer(1)), None);

    let both = var("1.3.6.1.4.1.99.3.1");
    assert_eq!(label(&db, &both, &Value::Integer(1)), None);
    let plain = var("1.3.6.1.4.1.99.4.1");
    assert_eq!(label(&db, &plain, &Value::Integer(1)), None);
    assert_eq!(label(&db, &plain, &Value::OctetString(b"x".to_vec())), None);
}

#[test]
fn datadog_json_with_extra_keys_loads() {
    let text = r#"{
      "mibs": ["IF-MIB"],
      "generated_by": "ddev",
      "traps": {
        "1.3.6.1.6.3.1.1.5.3": {"name": "linkDown", "mib": "IF-MIB", "descr": "A linkDown trap", "x": [1]}
      },
      "vars": {
        "1.3.6.1.2.1.2.2.1.8": {"name": "ifOperStatus", "descr": "d", "enum": {"1": "up", "2": "down"}, "bits": {}},
        "1.3.6.1.2.1.2.2.1.7": {"name": "ifAdminStatus", "descr": "d", "enum": {}, "bits": null}
      }
    }"#;
    let db = db_of(&[(text, Format::Json)]);
    assert_eq!(db.len(), (1, 2));
    let v = db.variable(&oid("1.3.6.1.2.1.2.2.1.8.1")).unwrap();
    assert_eq!((v.name, v.mib), ("ifOperStatus", "IF-MIB"));
    assert_eq!(label(&db, &v, &Value::Integer(1)), Some(json!("up")));
    let admin = db.variable(&oid("1.3.6.1.2.1.2.2.1.7.1")).unwrap();
    assert_eq!(label(&db, &admin, &Value::Integer(1)), None);
}

/// The shape `ddev meta snmp generate-traps-db` writes per MIB: PyYAML, sorted keys, integer
/// enum keys, wrapped descriptions, no `mibs` list.
#[test]
fn ddev_per_mib_yaml_loads() {
    let text = "traps:
  1.3.6.1.4.1.99999.0.1:
    descr: 'A fan failed. It

      needs replacing: now.'
    mib: ACME-MIB
    name: acmeFanFailure
vars:
  1.3.6.1.4.1.99999.1.1.1.2:
    descr: The fan state.
    enum:
      1: ok
      2: failed
    name: acmeFanState
  1.3.6.1.4.1.99999.1.1.1.3:
    bits:
      0: overSpeed
      1: underSpeed
    descr: ''
    name: acmeFanAlarms
";
    let db = db_of(&[(text, Format::Yaml)]);
    assert_eq!(
        trap_name(&db, "1.3.6.1.4.1.99999.0.1"),
        Some(("acmeFanFailure".into(), "ACME-MIB".into()))
    );
    let state = db.variable(&oid("1.3.6.1.4.1.99999.1.1.1.2.4")).unwrap();
    assert_eq!((state.name, state.mib), ("acmeFanState", ""));
    assert_eq!(
        label(&db, &state, &Value::Integer(2)),
        Some(json!("failed"))
    );
    let alarms = db.variable(&oid("1.3.6.1.4.1.99999.1.1.1.3.4")).unwrap();
    assert_eq!(
        label(&db, &alarms, &Value::OctetString(vec![0xc0])),
        Some(json!(["overSpeed", "underSpeed"]))
    );
}

#[test]
fn a_var_without_a_single_mib_has_an_empty_mib() {
    let db = db_of(&[(
        r#"{"mibs": ["A-MIB", "B-MIB"], "vars": {"1.3.6.1.4.1.99.1": {"name": "x"}},
            "traps": {"1.3.6.1.4.1.99.0.1": {"name": "t"}}}"#,
        Format::Json,
    )]);
    assert_eq!(db.variable(&oid("1.3.6.1.4.1.99.1.0")).unwrap().mib, "");
    assert_eq!(db.trap(&oid("1.3.6.1.4.1.99.0.1")).unwrap().mib, "");
}

#[test]
fn later_files_override_earlier_ones_and_directories_load_in_name_order() {
    let dir = temp_dir("order");
    let sub = dir.join("db");
    std::fs::create_dir(&sub).unwrap();
    // Datadog's own file first, then the rest by name, ignoring case; other files skipped
    write(
        &sub,
        "b.yaml",
        b"traps: {1.3.6.1.4.1.99.0.1: {name: fromB, mib: B}}\nvars: {1.3.6.1.4.1.99.1: {name: varB}}",
    );
    write(
        &sub,
        "A.json",
        br#"{"traps": {"1.3.6.1.4.1.99.0.1": {"name": "fromA", "mib": "A"},
                      "1.3.6.1.4.1.99.0.2": {"name": "onlyA", "mib": "A"}}}"#,
    );
    write(
        &sub,
        "dd_traps_db.json.gz",
        &gzip(br#"{"traps": {"1.3.6.1.4.1.99.0.1": {"name": "fromDatadog", "mib": "DD"}}}"#),
    );
    write(
        &sub,
        "c.yml.gz",
        &gzip(b"vars: {1.3.6.1.4.1.99.1: {name: varC}}"),
    );
    write(&sub, "README.md", b"not a trap db {{{");
    std::fs::create_dir(sub.join("nested.yaml")).unwrap();
    let over = write(
        &dir,
        "override.yaml",
        b"traps: {1.3.6.1.6.3.1.1.5.1: {name: myColdStart, mib: MINE}}",
    );

    let db = TrapDb::load(&[sub.clone(), over]).unwrap();
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.99.0.1").unwrap().0, "fromB");
    assert_eq!(trap_name(&db, "1.3.6.1.4.1.99.0.2").unwrap().0, "onlyA");
    assert_eq!(var_name(&db, "1.3.6.1.4.1.99.1.1").unwrap().0, "varC");
    assert_eq!(
        trap_name(&db, "1.3.6.1.6.3.1.1.5.1"),
        Some(("myColdStart".into(), "MINE".into()))
    );
    // the built-in database is still there underneath
    assert_eq!(
        trap_name(&db, "1.3.6.1.6.3.1.1.5.2").unwrap().0,
        "warmStart"
    );
    let (builtin_traps, _) = TrapDb::builtin().len();
    assert_eq!(db.len().0, builtin_traps + 2);
    assert_eq!(TrapDb::load(&[]).unwrap().len(), TrapDb::builtin().len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_problem_is_reported_with_file_and_entry() {
    let dir = temp_dir("problems");
    let bad = write(
        &dir,
        "bad.yaml",
        br#"
traps:
  1.3.6.x: {name: badOid}
  1.3.6.1.4.1.99.0.1: {mib: NO-NAME}
  1.3.6.1.4.1.99.0.2: "just a string"
  1.3.6.1.4.1.99.0.3: {name: [a, list]}
vars:
  1.3.6.1.4.1.99.1:
    name: badEnum
    enum: {up: 1, 2: down}
  1.3.6.1.4.1.99.2:
    name: badBits
    bits: {-1: neg, 3: [x]}
  1.3.6.1.4.1.99.3:
    name: enumList
    enum: [up, down]
  "": {name: empty}
"#,
    );
    let syntax = write(&dir, "syntax.json", b"{\"traps\": {\"1.3\": }");
    let shape = write(&dir, "shape.yaml", b"traps: [1, 2]\nvars: 3\n");
    let top = write(&dir, "top.json", b"[1, 2, 3]");
    let not_gzip = write(&dir, "x.json.gz", b"plain text");
    let missing = dir.join("missing.yaml");
    let errors = TrapDb::load(&[bad, syntax, shape, top, not_gzip, missing]).unwrap_err();
    let all = errors.join("\n");
    for expected in [
        "bad.yaml: traps entry \"1.3.6.x\": not an OID",
        "bad.yaml: traps entry \"1.3.6.1.4.1.99.0.1\": `name` is missing",
        "bad.yaml: traps entry \"1.3.6.1.4.1.99.0.2\": must be a map with `name`, not a string",
        "bad.yaml: traps entry \"1.3.6.1.4.1.99.0.3\": `name` must be a string, not a list",
        "bad.yaml: vars entry \"1.3.6.1.4.1.99.1\": `enum` key \"up\" is not an integer",
        "bad.yaml: vars entry \"1.3.6.1.4.1.99.2\": `bits` key \"-1\" is not a bit position",
        "bad.yaml: vars entry \"1.3.6.1.4.1.99.2\": `bits` \"3\" must be a label",
        "bad.yaml: vars entry \"1.3.6.1.4.1.99.3\": `enum` must be a map of number to label, not a list",
        "bad.yaml: vars entry \"\": not an OID",
        "syntax.json: expected value at line 1 column",
        "shape.yaml: `traps` must be a map of OID to entry, not a list",
        "shape.yaml: `vars` must be a map of OID to entry, not a number",
        "top.json: invalid type: sequence, expected a trap database",
        "x.json.gz: cannot decompress",
        "missing.yaml: cannot open",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    assert_eq!(errors.len(), 15, "{all}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn problems_are_capped_per_file_and_counted() {
    let mut text = String::from("traps:\n");
    for i in 0..(parse::MAX_PROBLEMS_PER_FILE + 7) {
        text.push_str(&format!("  bad{i}: {{name: x}}\n"));
    }
    let parsed = parse(text.as_bytes(), Format::Yaml);
    assert_eq!(parsed.problems.len(), parse::MAX_PROBLEMS_PER_FILE);
    assert_eq!(parsed.more_problems, 7);
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let dir = temp_dir("size");
    let big = write(&dir, "big.json", &[b' '; 2048]);
    let bomb = write(&dir, "bomb.yaml.gz", &gzip(&[b'#'; 1 << 20]));
    let err = files::read_limited(&big, 1024).unwrap_err();
    assert!(err.contains("larger than the limit"), "{err}");
    let err = files::read_limited(&bomb, 1024).unwrap_err();
    assert!(err.contains("once decompressed"), "{err}");
    assert!(files::read_limited(&bomb, 2 << 20).is_ok());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn garbage_never_panics() {
    let seeds: [&[u8]; 8] = [
        b"",
        b"\xff\xfe\x00garbage",
        b"{\"traps\": {\"1.3.6.1\": {\"name\": \"\xff\"}}}",
        b"traps: &a [*a, *a]",
        b"traps:\n  1.3.6.1: {name: x, enum: {1: [[[[[[[[[[[[]]]]]]]]]]]]}}",
        b"vars: {1.3.6.1.4.1.1: {name: v, bits: {99999999999: x, 4294967295: y}}}",
        b"---\ntraps: {}\n---\nvars: {}\n",
        b"{\"vars\": {\"1.3.6.1.4.1.1\": {\"name\": 1e400, \"enum\": {\"9223372036854775808\": \"x\"}}}}",
    ];
    let deep = "[".repeat(100_000);
    let mut inputs: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
    inputs.push(deep.into_bytes());
    // every prefix of a valid document, and single-byte corruptions of it
    let valid = br#"{"mibs": ["M"], "traps": {"1.3.6.1.4.1.9.0.1": {"name": "t", "mib": "M"}}, "vars": {"1.3.6.1.4.1.9.1": {"name": "v", "enum": {"1": "a"}, "bits": {"0": "b"}}}}"#;
    for cut in 0..valid.len() {
        inputs.push(valid[..cut].to_vec());
        let mut flipped = valid.to_vec();
        flipped[cut] ^= 0x55;
        inputs.push(flipped);
    }
    for input in &inputs {
        for format in [Format::Json, Format::Yaml] {
            let parsed = parse(input, format);
            let mut tables = Tables::default();
            tables.add_file(parsed);
        }
    }
}

#[test]
fn lookups_are_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + fmt::Debug>() {}
    assert_send_sync::<TrapDb>();
    let db = TrapDb::builtin();
    let copy = db.clone();
    let handle = std::thread::spawn(move || copy.len());
    assert_eq!(handle.join().unwrap(), db.len());
    assert!(format!("{db:?}").starts_with("TrapDb { traps: "));
}

/// Only `files.rs` touches the filesystem, and nothing here reads the clock or uses a runtime.
#[test]
fn lookups_and_parsing_do_no_io() {
    let sources = [
        ("mod.rs", include_str!("mod.rs")),
        ("parse.rs", include_str!("parse.rs")),
        ("builtin.rs", include_str!("builtin.rs")),
    ];
    // split so this file does not match itself
    let banned = [
        ["std::", "fs"],
        ["tok", "io"],
        ["::", "now("],
        ["File::", "open"],
    ];
    // none of them holds inline tests, so the whole text is checked
    for (name, src) in sources {
        for [a, b] in banned {
            assert!(!src.contains(&format!("{a}{b}")), "{a}{b} in {name}");
        }
    }
}

/// [`TrapDb::label`] as JSON: a string, or the list of set bits (labels as strings, positions
/// as numbers).
fn label(db: &TrapDb, var: &VarName<'_>, value: &Value) -> Option<serde_json::Value> {
    db.label(var, value).map(|l| match l {
        Label::Enum(s) => s.into(),
        Label::Bits(bits) => bits
            .iter()
            .map(|b| match b {
                Bit::Named(s) => serde_json::Value::from(s),
                Bit::Position(p) => serde_json::Value::from(p),
            })
            .collect(),
    })
}

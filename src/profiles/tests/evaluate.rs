//! Evaluation semantics on small synthetic profiles and values.

use super::*;
use crate::profiles::MetricKind;

fn values(list: &[(&str, Value)]) -> BTreeMap<Oid, Value> {
    list.iter().map(|(o, v)| (oid(o), v.clone())).collect()
}

fn s(x: &str) -> Value {
    Value::OctetString(x.as_bytes().to_vec())
}

fn profile(text: &str) -> std::sync::Arc<Profile> {
    let store = user_store(&[("/u/p.yaml", text)]).unwrap_or_else(|e| panic!("{e:?}"));
    store.get("p").unwrap()
}

#[test]
fn tags_from_columns_other_tables_index_mapping_and_regex() {
    let p = profile(
        "
metric_tags:
  - OID: 1.3.6.1.2.1.1.5.0
    symbol: sysName
    tag: snmp_host
  - symbol: {OID: 1.3.6.1.2.1.1.1.0, name: sysDescr}
    match: 'Version ([0-9]+)\\.([0-9]+)'
    tags: {major: '\\1', version: '\\1.$2'}
static_tags: [env:lab]
device: {vendor: acme}
metrics:
  - table: {OID: 1.3.6.1.4.1.99.1, name: t}
    symbols:
      - {OID: 1.3.6.1.4.1.99.1.1.2, name: load}
    metric_tags:
      - tag: state
        symbol: {OID: 1.3.6.1.4.1.99.1.1.3, name: st}
        mapping: {1: up, 2: down}
      - tag: slot
        index: 2
      - tag: owner
        table: other
        symbol: {OID: 1.3.6.1.4.1.99.2.1.1, name: ownerName}
        index_transform: [{start: 1, end: 1}]
      - symbol: {OID: 1.3.6.1.4.1.99.1.1.4, name: label}
        match: '^(\\w+)-(\\d+)$'
        tags: {kind: '\\1', unit: '\\2'}
",
    );
    let v = values(&[
        ("1.3.6.1.2.1.1.5.0", s("rtr1")),
        ("1.3.6.1.2.1.1.1.0", s("Foo OS Version 12.4, bar")),
        ("1.3.6.1.4.1.99.1.1.2.1.7", Value::Gauge32(40)),
        ("1.3.6.1.4.1.99.1.1.3.1.7", Value::Integer(2)),
        ("1.3.6.1.4.1.99.1.1.4.1.7", s("disk-3")),
        ("1.3.6.1.4.1.99.2.1.1.7", s("alice")),
        ("1.3.6.1.4.1.99.1.1.2.2.8", Value::Gauge32(41)),
        ("1.3.6.1.4.1.99.1.1.3.2.8", Value::Integer(9)),
    ]);
    let ev = p.evaluate(&v);
    assert_eq!(
        ev.device_tags,
        vec![
            "snmp_host:rtr1",
            "major:12",
            "version:12.4",
            "env:lab",
            "device_vendor:acme"
        ]
    );
    let a = find(&ev, "snmp.load", &["slot:7"]);
    assert_eq!(a.len(), 1);
    assert_eq!(
        a[0].tags,
        vec!["state:down", "slot:7", "owner:alice", "kind:disk", "unit:3"]
    );
    assert_eq!(a[0].kind, MetricKind::Gauge);
    // Unmapped value and missing columns: the tags are left out, the sample stays.
    let b = find(&ev, "snmp.load", &["slot:8"]);
    assert_eq!(b[0].tags, vec!["slot:8"]);
    assert_eq!(fetch(&p, &v), v, "the plan covers every OID used");
}

#[test]
fn types_scale_extract_flags_and_constant_one() {
    let p = profile(
        "
metrics:
  - symbol: {OID: 1.3.6.1.4.1.99.3.0, name: c32}
  - symbol: {OID: 1.3.6.1.4.1.99.4.0, name: c64, scale_factor: 8}
  - symbol: {OID: 1.3.6.1.4.1.99.5.0, name: g, scale_factor: 0.5}
  - symbol: {OID: 1.3.6.1.4.1.99.6.0, name: temp, extract_value: '(\\d+)C'}
  - symbol: {OID: 1.3.6.1.4.1.99.3.0, name: both}
    metric_type: monotonic_count_and_rate
  - symbol: {OID: 1.3.6.1.4.1.99.7.0, name: ups}
    metric_type: flag_stream
    options: {placement: 2, metric_suffix: OnBattery}
  - table: {OID: 1.3.6.1.4.1.99.8, name: t}
    symbols:
      - {name: row, constant_value_one: true}
    metric_tags:
      - tag: name
        symbol: {OID: 1.3.6.1.4.1.99.8.1.2, name: n}
",
    );
    let v = values(&[
        ("1.3.6.1.4.1.99.3.0", Value::Counter32(5)),
        ("1.3.6.1.4.1.99.4.0", Value::Counter64(1 << 40)),
        ("1.3.6.1.4.1.99.5.0", Value::Integer(9)),
        ("1.3.6.1.4.1.99.6.0", s("CPU at 47C")),
        ("1.3.6.1.4.1.99.7.0", s("0100")),
        ("1.3.6.1.4.1.99.8.1.2.1", s("a")),
        ("1.3.6.1.4.1.99.8.1.2.2", s("b")),
    ]);
    let ev = p.evaluate(&v);
    let one = |n: &str| find(&ev, n, &[])[0].clone();
    assert_eq!(
        (one("snmp.c32").value, one("snmp.c32").kind),
        (SampleValue::Counter32(5), MetricKind::Rate)
    );
    assert_eq!(
        (one("snmp.c64").value, one("snmp.c64").scale),
        (SampleValue::Counter64(1 << 40), 8.0)
    );
    assert_eq!(
        (one("snmp.g").value, one("snmp.g").scale),
        (SampleValue::Number(4.5), 1.0)
    );
    assert_eq!(one("snmp.temp").value, SampleValue::Number(47.0));
    assert_eq!(one("snmp.both").kind, MetricKind::MonotonicCountAndRate);
    assert_eq!(one("snmp.ups.OnBattery").value, SampleValue::Number(1.0));
    let rows = find(&ev, "snmp.row", &[]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].tags, vec!["name:b"]);
    assert_eq!(fetch(&p, &v), v);
}

#[test]
fn memory_usage_bandwidth_and_fallback_symbols() {
    let p = profile(
        "
metrics:
  - table: {OID: 1.3.6.1.4.1.99.9, name: mem}
    symbols:
      - {OID: 1.3.6.1.4.1.99.9.1.1, name: cpu.usage}
      - {OID: 1.3.6.1.4.1.99.9.1.2, name: cpu.usage}
      - {OID: 1.3.6.1.4.1.99.9.1.5, name: memory.used}
      - {OID: 1.3.6.1.4.1.99.9.1.6, name: memory.free}
    metric_tags: [{tag: pool, index: 1}]
  - table: {OID: 1.3.6.1.2.1.31.1.1, name: ifXTable}
    symbols:
      - {OID: 1.3.6.1.2.1.31.1.1.1.6, name: ifHCInOctets}
    metric_tags: [{tag: interface, symbol: {OID: 1.3.6.1.2.1.31.1.1.1.1, name: ifName}}]
  - table: {OID: 1.3.6.1.2.1.2.2, name: ifTable}
    symbols:
      - {OID: 1.3.6.1.2.1.2.2.1.16, name: ifOutOctets}
",
    );
    let v = values(&[
        ("1.3.6.1.4.1.99.9.1.2.1", Value::Gauge32(12)),
        ("1.3.6.1.4.1.99.9.1.1.2", Value::Gauge32(30)),
        ("1.3.6.1.4.1.99.9.1.2.2", Value::Gauge32(99)),
        ("1.3.6.1.4.1.99.9.1.5.1", Value::Gauge32(300)),
        ("1.3.6.1.4.1.99.9.1.6.1", Value::Gauge32(100)),
        ("1.3.6.1.2.1.31.1.1.1.1.3", s("Gi0/3")),
        ("1.3.6.1.2.1.31.1.1.1.6.3", Value::Counter64(1000)),
        ("1.3.6.1.2.1.31.1.1.1.15.3", Value::Gauge32(1000)),
        ("1.3.6.1.2.1.2.2.1.5.3", Value::Gauge32(4_294_967_295)),
        ("1.3.6.1.2.1.2.2.1.16.3", Value::Counter32(77)),
        ("1.3.6.1.2.1.2.2.1.16.4", Value::Counter32(88)),
        ("1.3.6.1.2.1.2.2.1.5.4", Value::Gauge32(10_000_000)),
    ]);
    let ev = p.evaluate(&v);
    let cpu: Vec<f64> = find(&ev, "snmp.cpu.usage", &[])
        .iter()
        .map(|s| number(s))
        .collect();
    assert_eq!(
        cpu,
        vec![12.0, 30.0],
        "older column only where the first is missing"
    );
    let usage = find(&ev, "snmp.memory.usage", &["pool:1"]);
    assert_eq!(number(usage[0]), 75.0);
    let bw = find(&ev, "snmp.ifBandwidthInUsage.rate", &["interface:Gi0/3"]);
    assert_eq!(bw.len(), 1);
    assert_eq!(bw[0].value, SampleValue::Counter64(1000));
    assert!((bw[0].scale - 800.0 / 1e9).abs() < 1e-18);
    assert_eq!(
        number(find(&ev, "snmp.ifInSpeed", &["speed_source:device"])[0]),
        1e9
    );
    // 32-bit out octets: only row 4 (row 3 has no HC twin fetched here, so it counts too).
    let out = find(&ev, "snmp.ifBandwidthOutUsage.rate", &[]);
    assert_eq!(out.len(), 2);
    assert_eq!(number(find(&ev, "snmp.ifOutSpeed", &[])[1]), 1e7);
    assert_eq!(fetch(&p, &v), v);
}

#[test]
fn weird_values_never_panic() {
    let p = profile(
        "
metrics:
  - table: {OID: 1.3.6.1.4.1.99.1, name: t}
    symbols:
      - {OID: 1.3.6.1.4.1.99.1.1.2, name: a, extract_value: '(x)'}
      - {OID: 1.3.6.1.4.1.99.1.1.3, name: b}
    metric_type: flag_stream
    options: {placement: 4000, metric_suffix: s}
    metric_tags:
      - {tag: i, index: 128}
      - tag: j
        symbol: {OID: 1.3.6.1.4.1.99.2, name: j}
        index_transform: [{start: 0, end: 127}]
",
    );
    let mut v = values(&[
        ("1.3.6.1.4.1.99.1.1.2.1", Value::Null),
        (
            "1.3.6.1.4.1.99.1.1.3.1",
            Value::OctetString(vec![0xff, 0xfe]),
        ),
        ("1.3.6.1.4.1.99.1.1.2", Value::Integer(1)),
    ]);
    let long: Vec<u32> = (0..128).collect();
    v.insert(
        Oid::from_arcs(&long[..]).unwrap_or_else(|_| oid("1.3")),
        Value::EndOfMibView,
    );
    let ev = p.evaluate(&v);
    assert!(ev.samples.is_empty(), "{:?}", ev.samples);
}

//! Parsing, errors with positions, extends, and sysObjectID selection.

use super::*;
use crate::profiles::store::Source;

#[test]
fn builtin_profiles_load_without_errors() {
    let sources: Vec<Source> = crate::profiles::builtin::BUILTIN
        .iter()
        .map(|(n, t)| src(n, t))
        .collect();
    if let Err((_, errors)) = ProfileStore::from_sources(sources, Vec::new()) {
        panic!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let names = ProfileStore::builtin().names();
    for n in [
        "generic",
        "cisco",
        "cisco-catalyst",
        "cisco-nexus",
        "juniper",
        "juniper-mx",
        "juniper-srx",
    ] {
        assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with('_')),
        "mixins are not profiles"
    );
}

#[test]
fn selection_most_specific_wins() {
    let store = ProfileStore::builtin();
    let pick = |o: &str| {
        store
            .select(&oid(o))
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    assert_eq!(pick("1.3.6.1.4.1.9.1.617"), "cisco-catalyst");
    assert_eq!(pick("1.3.6.1.4.1.9.1.516"), "cisco-catalyst");
    assert_eq!(pick("1.3.6.1.4.1.9.12.3.1.3.1084"), "cisco-nexus");
    assert_eq!(pick("1.3.6.1.4.1.9.1.366"), "cisco");
    assert_eq!(pick("1.3.6.1.4.1.2636.1.1.1.2.21"), "juniper-mx");
    assert_eq!(pick("1.3.6.1.4.1.2636.1.1.1.2.26"), "juniper-srx");
    assert_eq!(pick("1.3.6.1.4.1.2636.1.1.1.2.30"), "juniper");
    assert_eq!(pick("1.3.6.1.4.1.8072.3.2.10"), "generic");
    let (_, pattern) = store
        .select_with_pattern(&oid("1.3.6.1.4.1.9.1.617"))
        .unwrap();
    assert_eq!(pattern.as_deref(), Some("1.3.6.1.4.1.9.1.617"));
}

const MINI: &str = "extends: [_base.yaml]\nsysobjectid: 1.3.6.1.4.1.9.1.617\nmetrics:\n  - symbol: {OID: 1.3.6.1.2.1.1.7.0, name: mine}\n";

#[test]
fn user_beats_builtin_on_equal_pattern_and_name() {
    let builtin = crate::profiles::builtin::BUILTIN
        .iter()
        .map(|(n, t)| src(n, t))
        .collect();
    let store = ProfileStore::from_sources(builtin, vec![src("/u/my-3560.yaml", MINI)])
        .map_err(|(_, e)| e)
        .unwrap();
    assert_eq!(
        store.select(&oid("1.3.6.1.4.1.9.1.617")).unwrap().name,
        "my-3560"
    );
    assert_eq!(
        store.select(&oid("1.3.6.1.4.1.9.1.516")).unwrap().name,
        "cisco-catalyst"
    );
    // Same file name replaces the built-in outright.
    let builtin = crate::profiles::builtin::BUILTIN
        .iter()
        .map(|(n, t)| src(n, t))
        .collect();
    let store = ProfileStore::from_sources(
        builtin,
        vec![src(
            "/u/cisco.yaml",
            "extends: [_base.yaml]\nsysobjectid: 1.3.6.1.4.1.9.*\n",
        )],
    )
    .map_err(|(_, e)| e)
    .unwrap();
    assert_eq!(store.get("cisco").unwrap().file, "/u/cisco.yaml");
}

#[test]
fn duplicate_patterns_in_one_origin_are_errors() {
    let errors = user_store(&[
        ("/u/_base.yaml", ""),
        ("/u/a.yaml", MINI),
        ("/u/b.yaml", MINI),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("also claimed by profile `a`"),
        "{}",
        errors[0]
    );
}

#[test]
fn extends_resolves_mixins_and_detects_cycles() {
    let store = user_store(&[
        (
            "/u/_m1.yaml",
            "extends: [_m2.yaml]\nmetrics:\n  - symbol: {OID: 1.3.6.1.2.1.1.3.0, name: up}\n",
        ),
        (
            "/u/_m2.yaml",
            "device: {vendor: acme}\nstatic_tags: [site:x]\n",
        ),
        (
            "/u/p.yaml",
            "extends: [_m1.yaml, _m2.yaml]\nsysobjectid: 1.3.6.1.4.1.99.*\n",
        ),
    ])
    .unwrap();
    let p = store.get("p").unwrap();
    assert_eq!(p.vendor.as_deref(), Some("acme"));
    assert_eq!(p.plan().scalars, vec![oid("1.3.6.1.2.1.1.3.0")]);
    assert_eq!(p.def.static_tags, vec!["site:x".to_string()]);

    let errors = user_store(&[
        ("/u/_a.yaml", "extends: [_b.yaml]\n"),
        ("/u/_b.yaml", "extends: [_a.yaml]\n"),
        (
            "/u/p.yaml",
            "extends: [_a.yaml]\nsysobjectid: 1.3.6.1.4.1.99.*\n",
        ),
        (
            "/u/q.yaml",
            "extends: [_missing.yaml]\nsysobjectid: 1.3.6.1.4.1.98.*\n",
        ),
        (
            "/u/r.yaml",
            "extends: [r.yaml]\nsysobjectid: 1.3.6.1.4.1.97.*\n",
        ),
    ])
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 3, "{text:?}");
    assert!(
        text.iter()
            .any(|e| e.contains("cycle: p -> _a -> _b -> _a")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|e| e.starts_with("/u/q.yaml") && e.contains("_missing.yaml")),
        "{text:?}"
    );
    assert!(text.iter().any(|e| e.contains("cycle: r -> r")), "{text:?}");

    // A mixin with errors: its own error, and a pointer to it from what extends it.
    let errors = user_store(&[
        ("/u/_bad.yaml", "metrics: 3\n"),
        (
            "/u/p.yaml",
            "extends: [_bad.yaml]\nsysobjectid: 1.3.6.1.4.1.99.*\n",
        ),
    ])
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        text,
        vec![
            "/u/_bad.yaml:1:10: metrics: expected a list",
            "/u/p.yaml: extends `_bad.yaml`, which has errors (/u/_bad.yaml)"
        ]
    );

    // A long chain is refused, not recursed into.
    let chain: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("/u/_m{i}.yaml"),
                format!("extends: [_m{}.yaml]\n", i + 1),
            )
        })
        .chain([("/u/_m40.yaml".to_string(), String::new())])
        .chain([("/u/p.yaml".to_string(), "extends: [_m0.yaml]\n".to_string())])
        .collect();
    let refs: Vec<(&str, &str)> = chain
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let errors = user_store(&refs).unwrap_err();
    assert!(
        errors[0].message.contains("nested deeper than 32"),
        "{errors:?}"
    );
}

#[test]
fn unknown_keys_are_accepted() {
    let text = "extends: [_base.yaml]\nsysobjectid: 1.3.6.1.4.1.99.1\nfuture_key: {a: 1}\n\
                metadata: {device: {fields: {type: {value: router}}}, something: 3}\n\
                metrics:\n  - MIB: X\n    new_option: true\n    symbol: {OID: 1.3.6.1.2.1.1.3.0, name: up, chart_meta: {x: 1}}\n";
    user_store(&[("/u/_base.yaml", ""), ("/u/p.yaml", text)]).unwrap();
}

#[test]
fn malformed_known_keys_are_errors_with_positions() {
    let text = "\
sysobjectid: 1.3.6.1.4.1.x
metrics:
  - MIB: IF-MIB
    table: {OID: 1.3.6.1.2.1.2.2, name: ifTable}
    symbols:
      - {OID: 1.3.6.1.2.1.2.2.1.14, name: ifInErrors}
      - {OID: not-an-oid, name: bad}
    metric_type: sometimes
    metric_tags:
      - tag: x
        index: 100000
      - tag: y
        symbol: {OID: 1.3.6.1.2.1.31.1.1.1.1, name: ifName}
        match: '(unclosed'
        tags: {a: '\\1'}
      - tag: z
        index_transform: [{start: 3, end: 1}]
        symbol: {OID: 1.3.6.1.2.1.31.1.1.1.1, name: ifName}
  - symbol: {OID: 1.3.6.1.2.1.1.3.0, name: up, scale_factor: lots}
  - foo: bar
";
    let errors = user_store(&[("/u/bad.yaml", text)]).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let has = |needle: &str| text.iter().any(|e| e.contains(needle));
    assert!(has("/u/bad.yaml:1:14: sysobjectid:"), "{text:#?}");
    assert!(
        has("/u/bad.yaml:7:15: metrics[0].symbols[1].OID: not an OID: `not-an-oid`"),
        "{text:#?}"
    );
    assert!(
        has("/u/bad.yaml:8:18: metrics[0].metric_type: unknown metric_type `sometimes`"),
        "{text:#?}"
    );
    assert!(
        has("metrics[0].metric_tags[0].index: expected an index position from 1 to 128"),
        "{text:#?}"
    );
    assert!(has("/u/bad.yaml:14:16: metrics[0].metric_tags[1].match: regular expression `(unclosed` does not compile: unclosed group"), "{text:#?}");
    assert!(
        has("metrics[0].metric_tags[2].index_transform[0]: index_transform start is after end"),
        "{text:#?}"
    );
    assert!(
        has("metrics[1].symbol.scale_factor: expected a number"),
        "{text:#?}"
    );
    assert!(
        has("/u/bad.yaml:20:5: metrics[2]: a metric needs `symbol` or `table` + `symbols`"),
        "{text:#?}"
    );
    assert_eq!(errors.len(), 8, "{text:#?}");
}

#[test]
fn garbage_never_panics() {
    let cases = [
        "", "~", "[1, 2]", "metrics: 3", "metrics: [3, [], {}]", "sysobjectid: {a: b}",
        "extends: 7", "metric_tags: [{}]", "metadata: [1]", "metadata: {device: {fields: {name: 3}}}",
        "metrics: [{table: {}, symbols: [{OID: 1.3}]}]", "metrics: [{symbol: {OID: 1.3, name: a}, options: 3}]",
        "metrics: [{symbol: {OID: 1.3, name: a}, metric_type: flag_stream}]", "a: [\n", "\u{0}\u{1}",
        "metrics: [{table: x, symbols: [{name: a, constant_value_one: yes}]}]",
        "metric_tags: [{OID: 1.3.6, tag: t, mapping: {[1]: 2}}]",
        "metrics: [{table: t, symbols: [{OID: 1.3.6.1, name: a}], nocbox_row_filter: {index: 0, values: [-1]}}]",
    ];
    for (i, c) in cases.iter().enumerate() {
        let _ = user_store(&[(&format!("/u/p{i}.yaml"), c)]);
    }
    // A huge `index:` is refused, not used.
    let errors = user_store(&[(
        "/u/p.yaml",
        "metric_tags: [{tag: t, index: 18446744073709551615}]",
    )])
    .unwrap_err();
    assert!(errors[0].message.contains("index position"), "{errors:?}");
}

#[test]
fn datadog_format_variants_load() {
    // Shapes found in Datadog's docs and shipped profiles: legacy scalar form with string tags,
    // `column` tags with several index_transform slices, index tags with a mapping, flag_stream
    // options, metadata `symbols` lists with match_pattern/match_value and extract_value, YAML
    // anchors.
    let text = r#"
extends: [_base.yaml]
sysobjectid: ['1.3.6.1.4.1.99.1.*', 1.3.6.1.4.1.99.2]
device: {vendor: "acme"}
metrics:
  - OID: 1.3.6.1.2.1.2.1.0
    name: ifNumber2
    metric_tags: [mytag1, mytag2]
  - MIB: UPS-MIB
    symbol: {OID: 1.3.6.1.4.1.318.1.1.1.11.1.1.0, name: upsState, scale_factor: 10}
    metric_type: flag_stream
    options: {placement: 5, metric_suffix: ReplaceBattery}
  - table: {OID: 1.3.6.1.2.1.4.31.3, name: ipIfStatsTable}
    symbols:
      - {OID: 1.3.6.1.2.1.4.31.3.1.6, name: ipIfStatsHCInOctets, chart_meta: {unit: bit/s}, scale_factor: 8}
    metric_tags: &t
      - tag: ipversion
        index: 1
        mapping: {1: ipv4, 2: ipv6}
      - tag: if_desc
        column: {OID: 1.3.6.1.2.1.2.2.1.2, name: ifDescr}
        table: ifTable
        index_transform:
          - start: 1
            end: 1
          - {start: 2, end: 2}
  - table: {OID: 1.3.6.1.2.1.4.31.3, name: ipIfStatsTable}
    symbols: [{OID: 1.3.6.1.2.1.4.31.3.1.33, name: out}]
    metric_tags: *t
metadata:
  device:
    fields:
      os_name:
        symbols:
          - {OID: 1.3.6.1.2.1.1.1.0, name: sysDescr, match_pattern: 'Cisco NX-OS', match_value: 'NXOS'}
      version:
        symbol: {OID: 1.3.6.1.2.1.1.1.0, name: sysDescr, extract_value: '\sVersion\s+([a-zA-Z0-9.()]+)'}
  interface:
    fields:
      name: {symbol: {OID: 1.3.6.1.2.1.31.1.1.1.1, name: ifName}}
    id_tags:
      - column: {OID: 1.3.6.1.2.1.31.1.1.1.1, name: ifName}
        tag: interface
"#;
    let store = user_store(&[("/u/_base.yaml", ""), ("/u/p.yaml", text)])
        .unwrap_or_else(|e| panic!("{e:#?}"));
    let p = store.get("p").unwrap();
    let v: BTreeMap<Oid, Value> = [
        (
            "1.3.6.1.2.1.1.1.0",
            "Cisco NX-OS(tm) n5000, Version 6.0(2)N2(3), RELEASE",
        ),
        ("1.3.6.1.4.1.318.1.1.1.11.1.1.0", "0000100000"),
        ("1.3.6.1.2.1.2.2.1.2.5.9", "Ethernet9"),
        ("1.3.6.1.2.1.31.1.1.1.1.4", "eth4"),
    ]
    .into_iter()
    .map(|(o, s)| (oid(o), Value::OctetString(s.as_bytes().to_vec())))
    .chain([(oid("1.3.6.1.2.1.4.31.3.1.6.2.5.9"), Value::Counter64(10))])
    .collect();
    let ev = p.evaluate(&v);
    assert_eq!(ev.metadata.get("os_name").map(String::as_str), Some("NXOS"));
    assert_eq!(
        ev.metadata.get("version").map(String::as_str),
        Some("6.0(2)N2(3)")
    );
    assert_eq!(
        number(find(&ev, "snmp.upsState.ReplaceBattery", &[])[0]),
        1.0
    );
    let ip = find(&ev, "snmp.ipIfStatsHCInOctets", &[])[0];
    assert_eq!(ip.tags, vec!["ipversion:ipv6", "if_desc:Ethernet9"]);
    assert_eq!(ip.scale, 8.0);
    assert_eq!(
        ev.interfaces[0].get("id_tags").map(String::as_str),
        Some("interface:eth4")
    );
}

#[test]
fn load_reads_directories_and_the_cli_reports() {
    use std::path::PathBuf;
    let dir = std::env::temp_dir().join(format!("nocbox-profiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("acme.yaml"),
        "extends: [_acme.yaml]\nsysobjectid: 1.3.6.1.4.1.99999.*\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("_acme.yaml"),
        "extends: [_base.yaml]\ndevice: {vendor: acme}\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a profile").unwrap();
    let dirs = vec![dir.clone()];
    let store = ProfileStore::load(&dirs).unwrap_or_else(|e| panic!("{e:?}"));
    let p = store.select(&oid("1.3.6.1.4.1.99999.1")).unwrap();
    assert_eq!(
        (p.name.as_str(), p.vendor.as_deref()),
        ("acme", Some("acme"))
    );
    assert!(store.get("cisco").is_some(), "built-ins stay");
    assert_eq!(crate::profiles::cli::check(&dirs), 0);
    assert_eq!(
        crate::profiles::cli::matches(Some("1.3.6.1.4.1.99999.7"), None, &dirs),
        0
    );
    assert_eq!(
        crate::profiles::cli::matches(Some("not-an-oid"), None, &dirs),
        1
    );

    std::fs::write(
        dir.join("broken.yml"),
        "sysobjectid: [1.3.6.1.4.1.99999.*]\nmetrics: {}\n",
    )
    .unwrap();
    let errors = ProfileStore::load(&dirs).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter()
            .any(|e| e.ends_with("broken.yml:2:10: metrics: expected a list")),
        "{text:?}"
    );
    assert_eq!(crate::profiles::cli::check(&dirs), 1);
    assert_eq!(
        crate::profiles::cli::check(&[PathBuf::from("/nonexistent-nocbox")]),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

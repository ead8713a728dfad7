use super::*;
use std::time::Duration;

fn env(name: &str) -> Option<String> {
    match name {
        "DD_API_KEY" => Some("0123456789abcdef".into()),
        "IP_ADDRESSES" => Some("10.0.0.1, 10.0.0.2".into()),
        _ => None,
    }
}

#[test]
fn contract_sections_parse_with_interpolation_and_aliases() {
    let text = r#"
hostname: nocbox-tokyo-1
tags: ["env:prd"]
syslog:
  udp: { listen: 127.0.0.1:5514 }
  tcp: { listen: 127.0.0.1:5514 }
  allowed_sources: ${IP_ADDRESSES}
snmp:
  devices:
    - { ip_address: 10.0.0.1, name: core-sw01, community_string: 12345 }
    - { ipAddress: 10.0.0.2, user: poller, authProtocol: sha256, authKey: "authpass1" }
outputs:
  datadog:
    api_key: "${DD_API_KEY}"
    logs: { transport: tcp, mark_interval: 20s }
"#;
    let c = parse("t.yaml", text, env).unwrap();
    let s = c.syslog.unwrap();
    assert_eq!(s.allowed_sources.unwrap().len(), 2);
    let snmp = c.snmp.unwrap();
    assert_eq!(
        snmp.devices[0].community_string.as_ref().unwrap().expose(),
        "12345"
    );
    assert_eq!(snmp.devices[1].auth_protocol.as_deref(), Some("sha256"));
    let dd = c.outputs.unwrap().datadog.unwrap();
    assert_eq!(dd.api_key.expose(), "0123456789abcdef");
    assert_eq!(format!("{:?}", dd.api_key), "<redacted>");
    assert_eq!(dd.logs.transport, LogsTransport::Tcp);
}

#[test]
fn syslog_tcp_backpressure_is_off_unless_asked_for() {
    let on = "syslog:\n  tcp: { listen: 127.0.0.1:5514, backpressure: true }\n";
    let off = "syslog:\n  tcp: { listen: 127.0.0.1:5514 }\n";
    let tcp = |text| {
        parse("t.yaml", text, env)
            .unwrap()
            .syslog
            .unwrap()
            .tcp
            .unwrap()
    };
    assert!(tcp(on).backpressure);
    assert!(!tcp(off).backpressure);
    assert!(!SyslogTcpConfig::default().backpressure);
    let errs = parse("t.yaml", "syslog:\n  tcp: { backpressure: maybe }\n", env).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.to_string().contains("syslog.tcp.backpressure")),
        "{errs:?}"
    );
}

#[test]
fn every_error_is_reported_with_line_column_and_path() {
    let text = "\
syslog:
  udp: { listen: 127.0.0.1:5514, recieve_buffer: 5 }
  tcp:
    listen: not-an-address
outputs:
  datadog:
    api_key: k
    site: datadoghq.co
  bogus: 1
";
    let errs = parse("cfg.yaml", text, env).unwrap_err();
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(errs.len(), 4, "{shown:#?}");
    let find = |p: &str| {
        errs.iter()
            .find(|e| e.path == p)
            .unwrap_or_else(|| panic!("{p} in {shown:#?}"))
    };
    let e = find("syslog.udp.recieve_buffer");
    assert_eq!((e.line, e.file.as_str()), (Some(2), "cfg.yaml"));
    assert!(e.message.contains("unknown field"));
    let e = find("syslog.tcp.listen");
    assert_eq!((e.line, e.column), (Some(4), Some(13)));
    let e = find("outputs.bogus");
    assert_eq!(e.line, Some(9));
    let e = find("outputs.datadog.site");
    assert_eq!(e.line, Some(8));
    assert!(e.message.contains("datadoghq.eu"));
}

#[test]
fn missing_variables_are_all_reported() {
    let errs = parse("c.yaml", "a: ${X1}\nb: ${X2}\n", env).unwrap_err();
    assert_eq!(errs.len(), 2);
    assert_eq!(
        errs[1].to_string(),
        "c.yaml:2:4: environment variable X2 is not set: set it, or write ${X2:-default}"
    );
}

#[test]
fn yaml_syntax_error_has_a_position() {
    let errs = parse("c.yaml", "syslog:\n  udp: [\n", env).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].line.is_some());
}

#[test]
fn traps_section_parses_with_datadog_spellings() {
    let text = r#"
traps:
  community_strings: "public, s3cret"
  engine_id: "0x80000000050102030405"
  tcp: { listen: 127.0.0.1:5162, idle_timeout: 30s }
  users:
    - { user: trapuser, auth_protocol: sha, auth_key: authpass123, priv_protocol: aes, priv_key: privpass123 }
    - { username: dduser, authProtocol: SHA-256, authKey: authpass123, privProtocol: AES256C, privKey: privpass123, engine_ids: ["0x8000000001020304"] }
"#;
    let c = parse("t.yaml", text, env).unwrap();
    let t = c.traps.unwrap();
    assert_eq!(t.listen.to_string(), "0.0.0.0:5162");
    assert_eq!(t.community_strings.len(), 2);
    assert_eq!(t.community_strings[1].expose(), "s3cret");
    assert_eq!(t.users[1].user, "dduser");
    assert_eq!(t.users[1].priv_protocol.as_deref(), Some("AES256C"));
    assert_eq!(t.users[1].engine_ids.as_ref().unwrap().len(), 1);
    assert_eq!(t.receive_buffer, 8 << 20);
    let tcp = t.tcp.unwrap();
    assert_eq!(
        (tcp.max_connections, tcp.idle_timeout),
        (256, Duration::from_secs(30))
    );
}

#[test]
fn traps_cross_field_errors_are_all_reported() {
    let text = "\
syslog:
  udp: { listen: 127.0.0.1:5514 }
traps:
  listen: 127.0.0.1:5514
  engine_id: 0x80
  max_varbinds: 1
  users:
    - { user: a, auth_protocol: sha1x, auth_key: x }
    - { user: b, auth_protocol: sha, auth_key: y, priv_key: z }
    - { user: c, auth_key: y, engine_ids: [nothex] }
";
    let errs = parse("t.yaml", text, env).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for p in [
        "traps.listen",
        "traps.engine_id",
        "traps.max_varbinds",
        "traps.users[0].auth_protocol",
        "traps.users[1].priv_protocol",
        "traps.users[2].auth_protocol",
        "traps.users[2].engine_ids",
    ] {
        assert!(paths.contains(&p), "{p} missing in {paths:?}");
    }
    let e = errs.iter().find(|e| e.path == "traps.engine_id").unwrap();
    assert_eq!(e.line, Some(5));
    let errs = parse("t.yaml", "traps: {}\n", env).unwrap_err();
    assert!(errs[0].message.contains("community_strings, users or both"));
}

#[test]
fn time_and_reachability_sections_parse_with_datadog_spellings() {
    let text = "\
ntp:
  upstreams: 169.254.169.123:123, [fd00:ec2::123]:123
  key_file: /dev/null
ping:
  targets: [10.0.0.1, { host: sw2.example, count: 5, timeout: 2 }]
tcp_checks:
  - { name: ssh, host: sw1.example, port: 22, timeout: 3, min_collection_interval: 30 }
";
    let c = parse("c.yaml", text, env).unwrap();
    let n = c.ntp.unwrap();
    assert_eq!(n.listen.port(), 5123);
    assert_eq!(n.mode, NtpMode::Server);
    assert_eq!(n.upstreams.len(), 2);
    assert_eq!(
        upstream_host_port(&n.upstreams[1]),
        Some(("fd00:ec2::123".into(), 123))
    );
    assert_eq!(
        upstream_host_port("fd00:ec2::123"),
        Some(("fd00:ec2::123".into(), 123))
    );
    assert_eq!(
        upstream_host_port("time.example"),
        Some(("time.example".into(), 123))
    );
    let p = c.ping.unwrap();
    assert_eq!(p.targets[0].host, "10.0.0.1");
    assert_eq!(p.targets[1].count, Some(5));
    assert_eq!(p.targets[1].timeout, Some(Duration::from_secs(2)));
    let t = &c.tcp_checks.unwrap()[0];
    assert_eq!(t.timeout, Duration::from_secs(3));
    assert_eq!(t.interval, Duration::from_secs(30));
    assert!(t.multiple_ips && !t.ipv4_only);
}

#[test]
fn time_and_reachability_mistakes_are_reported_together() {
    let text = "\
ntp:
  mode: relay
  key_file: /dev/null
  poll_interval: 10s
  unsynchronised_after: 5s
ping:
  count: 20
  interval: 1s
  targets: [{ host: a, colour: red }]
tcp_checks:
  - { name: x, host: h, port: 1, ipv4_only: true, ipv6_only: true }
  - { name: x, host: h, port: 2 }
";
    let errs = parse("c.yaml", text, env).unwrap_err();
    let all: Vec<String> = errs
        .iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    let has = |path: &str, words: &str| {
        assert!(
            all.iter().any(|e| e.starts_with(path) && e.contains(words)),
            "no `{path}` error with `{words}` in {all:#?}"
        )
    };
    has("ping.targets", "colour");
    has("ntp.upstreams", "at least one upstream");
    has("ntp.key_file", "mode: server");
    has("ntp.unsynchronised_after", "at least twice poll_interval");
    has("tcp_checks[0].ipv6_only", "nothing to check");
    has("tcp_checks[1].name", "names two checks");
}

#[test]
fn empty_file_is_an_empty_config() {
    let c = parse("c.yaml", "", env).unwrap();
    assert!(c.syslog.is_none());
}

#[test]
fn values_that_would_break_at_run_time_are_refused() {
    let text = "\
syslog:
  udp: {}
  tcp: { idle_timeout: 0s, trusted_proxies: 10.0.0.0/8 }
  allowed_sources: ${NETS:-}
snmp:
  devices: [{ ip_address: 10.0.0.1, user: u, auth_key: authpass1, auth_protocol: sha999, priv_key: privpass1, priv_protocol: AES-256C }]
  discovery: [{ network_address: 10.0.1.0/24 }]
outputs:
  datadog: { api_key: k, logs: { queue_size: 0, flush_interval: 0s } }
";
    let errs = parse("c.yaml", text, env).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for want in [
        "syslog.allowed_sources",
        "syslog.tcp.idle_timeout",
        "syslog.tcp.trusted_proxies",
        "snmp.devices[0].auth_protocol",
        "snmp.discovery[0]",
        "outputs.datadog.logs.queue_size",
        "outputs.datadog.logs.flush_interval",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    assert!(
        !paths.contains(&"snmp.devices[0].priv_protocol"),
        "AES-256C is a valid spelling"
    );
}

#[test]
fn metric_outputs_have_defaults_and_checked_limits() {
    let c = parse("c.yaml", "outputs: { datadog: { api_key: k } }\n", env).unwrap();
    let o = c.outputs.unwrap();
    let m = o.datadog.unwrap().metrics;
    assert!(m.enabled);
    assert_eq!(m.flush_interval, Duration::from_secs(15));
    assert_eq!((m.queue_size, m.queue_bytes), (100_000, 64 << 20));
    assert_eq!(m.timeout, Duration::from_secs(30));
    assert!(o.prometheus.is_none(), "absent: on with the defaults");
    let p = PrometheusConfig::default();
    assert!(p.enabled);
    assert_eq!(p.stale_after, Duration::from_secs(300));
    assert_eq!((p.max_series, p.queue_size), (100_000, 100_000));

    let text = "\
outputs:
  datadog:
    api_key: k
    metrics: { enabled: false, flush_interval: 2s, queue_size: 7, queue_bytes: 9, timeout: 5s }
  prometheus: { stale_after: 90s, max_series: 10, queue_size: 3, queue_bytes: 4 }
";
    let o = parse("c.yaml", text, env).unwrap().outputs.unwrap();
    let m = o.datadog.unwrap().metrics;
    assert!(!m.enabled);
    assert_eq!(m.flush_interval, Duration::from_secs(2));
    assert_eq!((m.queue_size, m.queue_bytes), (7, 9));
    assert_eq!(m.timeout, Duration::from_secs(5));
    let p = o.prometheus.unwrap();
    assert!(p.enabled);
    assert_eq!(p.stale_after, Duration::from_secs(90));
    assert_eq!((p.max_series, p.queue_size, p.queue_bytes), (10, 3, 4));

    let text = "\
outputs:
  datadog:
    api_key: k
    metrics: { queue_size: 0, flush_interval: 0s, timeout: 1ms, colour: red }
  prometheus: { stale_after: 0s, max_series: 0, queue_size: 0 }
";
    let errs = parse("c.yaml", text, env).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for want in [
        "outputs.datadog.metrics.queue_size",
        "outputs.datadog.metrics.flush_interval",
        "outputs.datadog.metrics.timeout",
        "outputs.datadog.metrics.colour",
        "outputs.prometheus.stale_after",
        "outputs.prometheus.max_series",
        "outputs.prometheus.queue_size",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
}

#[test]
fn snmp_polling_settings_have_datadog_defaults_and_credentials_are_inferred() {
    let text = r#"
snmp:
  devices:
    - { ip_address: 10.0.0.1, community_string: public }
    - { ip_address: 10.0.0.2, community_string: public, snmp_version: 1, oid_batch_size: 20 }
    - { ipAddress: 10.0.0.3, user: poller, authKey: authpass1, privKey: privpass1, privProtocol: AES256C, contextName: c1 }
    - { ip_address: 10.0.0.4, name: only-a-name }
  discovery:
    - network_address: 10.0.1.0/24
      ignored_ip_addresses: 10.0.1.1, 10.0.1.2
      authentications: [{ community_string: one }, { community_string: two }]
"#;
    let c = parse("s.yaml", text, env).unwrap();
    let s = c.snmp.unwrap();
    assert_eq!(s.interval, Duration::from_secs(60));
    assert_eq!(s.timeout, Duration::from_secs(2));
    assert_eq!(
        (
            s.retries,
            s.oid_batch_size,
            s.bulk_max_repetitions,
            s.max_in_flight
        ),
        (3, 5, 10, 2)
    );
    assert!(s.check_reply_source);
    let creds: Vec<Option<String>> = s
        .devices
        .iter()
        .map(|d| d.credentials().map(|c| c.describe()))
        .collect();
    assert_eq!(
        creds,
        [
            Some("v2c".to_string()),
            Some("v1".to_string()),
            Some("v3 poller (md5/aes256c)".to_string()),
            None
        ]
    );
    assert_eq!(s.devices[1].oid_batch_size, Some(20));
    let d = &s.discovery[0];
    assert_eq!(d.credentials().len(), 2);
    assert_eq!(d.addresses().len(), 252, "254 hosts minus 2 ignored");
    assert_eq!(d.discovery_interval, Duration::from_secs(3600));
}

#[test]
fn snmp_credential_mistakes_are_named() {
    let text = r#"
snmp:
  interval: 0s
  devices:
    - { ip_address: 10.0.0.1, community_string: public, user: x }
    - { ip_address: 10.0.0.2, user: x, priv_key: privpass1 }
    - { ip_address: 10.0.0.3, user: x, auth_key: short }
    - { ip_address: 10.0.0.4, community_string: public, version: 3 }
    - { ip_address: 10.0.0.5, community_string: public, max_in_flight: 0 }
    - { ip_address: 10.0.0.6, community_string: public, interval: 5s, timeout: 2s, retries: 3 }
  discovery:
    - { network_address: 10.0.0.0/8, community_string: public }
    - { network_address: 10.0.1.0/24, community_string: public, discovery_allowed_failures: 0 }
"#;
    let errs = parse("s.yaml", text, env).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for want in [
        "snmp.interval",
        "snmp.devices[0].user",
        "snmp.devices[1].priv_key",
        "snmp.devices[2].auth_key",
        "snmp.devices[3].version",
        "snmp.devices[4].max_in_flight",
        "snmp.devices[5]",
        "snmp.discovery[0].network_address",
        "snmp.discovery[1].discovery_allowed_failures",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
}

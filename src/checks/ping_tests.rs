use super::*;

fn cfg(yaml: &str) -> Config {
    crate::config::parse("t.yaml", yaml, |_| None).expect("config")
}

fn tag<'a>(m: &'a MetricRecord, key: &str) -> Option<&'a str> {
    m.tags
        .iter()
        .find_map(|t| t.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
}

#[test]
fn plan_merges_targets_and_snmp_devices_without_pinging_twice() {
    let c = cfg("
tags: [env:prd]
namespace: lab
snmp:
  devices:
    - { ip_address: 10.0.0.1, name: core, community_string: x, tags: [site:dc1] }
    - { ip_address: 10.0.0.2, community_string: x }
ping:
  snmp_devices: true
  tags: [team:net]
  targets:
    - 10.0.0.1
    - { host: sw9.example, count: 5, timeout: 2, tags: [role:edge] }
    - SW9.example
    - { host: '[::1]', interval: 30s }
");
    let p = plan(&c);
    let hosts: Vec<&str> = p.iter().map(|t| t.host.as_str()).collect();
    assert_eq!(hosts, ["10.0.0.1", "sw9.example", "::1", "10.0.0.2"]);
    // The listed device keeps the target's settings and gains the device's tags.
    assert_eq!(
        p[0].tags,
        [
            "env:prd",
            "team:net",
            "site:dc1",
            "snmp_device:10.0.0.1",
            "device_namespace:lab"
        ]
    );
    assert_eq!((p[1].count, p[1].timeout), (5, Duration::from_secs(2)));
    assert_eq!(p[1].tags, ["env:prd", "team:net", "role:edge"]);
    assert_eq!(p[1].literal, None);
    assert_eq!(p[2].interval, Duration::from_secs(30));
    assert_eq!(p[2].literal, Some("::1".parse().unwrap()));
    assert_eq!(
        p[3].tags,
        [
            "env:prd",
            "team:net",
            "snmp_device:10.0.0.2",
            "device_namespace:lab"
        ]
    );
    assert_eq!(
        (p[3].count, p[3].timeout, p[3].gap),
        (3, Duration::from_secs(1), Duration::from_millis(100))
    );
}

#[test]
fn snmp_devices_are_not_pinged_unless_asked() {
    let c = cfg("
snmp: { devices: [{ ip_address: 10.0.0.2, community_string: x }] }
ping: { targets: [10.0.0.9] }
");
    assert_eq!(plan(&c).len(), 1);
    assert!(plan(&Config::default()).is_empty());
}

#[test]
fn thousands_of_targets_plan_quickly_and_once_each() {
    let list: Vec<String> = (0..4000)
        .map(|i| format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256))
        .collect();
    let c = cfg(&format!(
        "ping: {{ targets: \"{}, 10.0.0.5\" }}",
        list.join(", ")
    ));
    let p = plan(&c);
    assert_eq!(p.len(), 4000);
}

fn probe(sent: u32, rtts_us: &[u64]) -> Probe {
    Probe {
        sent,
        rtts: rtts_us.iter().map(|u| Duration::from_micros(*u)).collect(),
        lost: None,
    }
}

#[test]
fn metrics_have_datadog_names_units_and_tags() {
    let ip: IpAddr = "10.0.0.1".parse().unwrap();
    let tags = vec!["env:prd".to_string()];
    let m = metrics(ip, None, &probe(3, &[52, 71]), &tags, 1700, "nocbox-1");
    let names: Vec<&str> = m.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(
        names,
        [
            "networkdevice.ping.avg_rtt",
            "networkdevice.ping.reachable",
            "networkdevice.ping.unreachable",
            "networkdevice.ping.packet_loss"
        ]
    );
    // Fractional milliseconds, not Datadog's whole ones.
    assert!((m[0].value - 0.0615).abs() < 1e-9, "{}", m[0].value);
    assert_eq!((m[1].value, m[2].value), (1.0, 0.0));
    assert!((m[3].value - 100.0 / 3.0).abs() < 1e-9);
    assert_eq!(m[0].tags, ["env:prd", "target_host:10.0.0.1"]);
    assert_eq!(m[0].host.as_deref(), Some("nocbox-1"));
    assert_eq!(m[0].timestamp, 1700);
    assert!(m.iter().all(|m| m.kind == crate::event::MetricType::Gauge));
}

#[test]
fn no_reply_is_unreachable_with_full_loss_and_no_average() {
    let ip: IpAddr = "2001:db8::1".parse().unwrap();
    let m = metrics(ip, Some("sw1.example"), &probe(3, &[]), &[], 0, "h");
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].metric, "networkdevice.ping.reachable");
    assert_eq!((m[0].value, m[1].value, m[2].value), (0.0, 1.0, 100.0));
    assert_eq!(tag(&m[0], "target_host"), Some("2001:db8::1"));
    assert_eq!(tag(&m[0], "target_name"), Some("sw1.example"));
    assert_eq!(tag(&m[0], "address_family"), Some("ipv6"));
    // Nothing sent at all (no socket, no route) is also full loss.
    assert_eq!(probe(0, &[]).loss_percent(), 100.0);
    // More replies than requests (duplicates) never make loss negative.
    assert_eq!(probe(1, &[5, 6]).loss_percent(), 0.0);
}

#[test]
fn an_unresolved_name_is_unreachable() {
    let m = dns_failure_metrics("gone.example", &["a:b".into()], 5, "h");
    assert_eq!(m.len(), 3);
    assert_eq!(m[1].metric, "networkdevice.ping.unreachable");
    assert_eq!(m[1].value, 1.0);
    assert_eq!(tag(&m[1], "target_host"), Some("gone.example"));
    assert_eq!(tag(&m[1], "target_name"), Some("gone.example"));
}

#[test]
fn probes_describe_themselves() {
    assert_eq!(probe(3, &[52, 52, 52]).describe(), "0.052 ms");
    assert_eq!(probe(3, &[1300]).describe(), "67% loss, 1.3 ms");
    assert_eq!(probe(3, &[]).describe(), "no reply, 100% loss");
    let mut p = probe(1, &[]);
    p.lost = Some(Lost::IcmpError("destination unreachable".into()));
    assert_eq!(p.describe(), "destination unreachable");
    p.lost = Some(Lost::Send("Network is unreachable".into()));
    assert_eq!(p.describe(), "cannot send: Network is unreachable");
}

#[test]
fn board_summarises_the_latest_verdict_of_every_address() {
    let mut b = Board::default();
    b.record("10.0.0.1", vec![("10.0.0.1".into(), None)]);
    b.record(
        "sw1.example",
        vec![
            ("sw1.example (10.0.0.2)".into(), None),
            ("sw1.example (2001:db8::2)".into(), Some("no reply".into())),
        ],
    );
    assert_eq!(
        b.message(),
        "2 of 3 addresses reachable; unreachable: sw1.example (2001:db8::2) (no reply)"
    );
    // The name now resolves to one address only, which answers.
    b.record("sw1.example", vec![("sw1.example (10.0.0.2)".into(), None)]);
    assert_eq!(b.message(), "2 of 2 addresses reachable");
    assert_eq!(b.unreachable(), 0);
    for i in 0..2000 {
        b.record(
            &format!("t{i}"),
            vec![(format!("10.1.{}.{}", i / 256, i % 256), Some("x".into()))],
        );
    }
    assert_eq!(b.unreachable(), 2000);
    assert!(b
        .message()
        .starts_with("2 of 2002 addresses reachable; unreachable: 10.1.0.0 (x), "));
    assert!(b.message().ends_with(" and 1995 more"));
    assert_eq!(label(Some("a"), "::1".parse().unwrap()), "a (::1)");
}

#[test]
fn icmp_errors_read_as_words() {
    assert_eq!(
        icmp_error_text(false, 3, 1),
        "destination unreachable: host"
    );
    assert_eq!(
        icmp_error_text(false, 3, 13),
        "destination unreachable: administratively prohibited"
    );
    assert_eq!(
        icmp_error_text(true, 1, 3),
        "destination unreachable: address"
    );
    assert_eq!(icmp_error_text(false, 11, 0), "time exceeded");
    assert_eq!(icmp_error_text(false, 42, 7), "ICMP type 42 code 7");
}

#[test]
fn socket_failures_say_what_to_change() {
    use std::io::Error;
    let eacces = Error::from_raw_os_error(libc::EACCES);
    let eperm = Error::from_raw_os_error(libc::EPERM);
    let m = explain_socket_failure(false, Some(&eacces), Some(&eperm), 65532, Some((1, 0)));
    assert!(
        m.starts_with(
            "cannot open an ICMP socket for IPv4: unprivileged datagram socket: Permission denied"
        ),
        "{m}"
    );
    assert!(
        m.contains("group 65532 is outside net.ipv4.ping_group_range (1 0)"),
        "{m}"
    );
    assert!(m.contains("raw socket: Operation not permitted"), "{m}");
    assert!(
        m.contains("CAP_NET_RAW") && m.contains("0 2147483647"),
        "{m}"
    );
    // socket: dgram tried only the datagram socket; the range cannot be read.
    let m = explain_socket_failure(true, Some(&eacces), None, 0, None);
    assert!(
        m.contains("for IPv6") && m.contains("is group 0 inside net.ipv4.ping_group_range?"),
        "{m}"
    );
    assert!(!m.contains("raw socket:"), "{m}");
    let noaf = Error::from_raw_os_error(libc::EAFNOSUPPORT);
    assert_eq!(
        explain_socket_failure(true, Some(&noaf), Some(&noaf), 0, None),
        "cannot ping IPv6 addresses: IPv6 is not available on this host"
    );
    assert_eq!(parse_group_range("1\t0\n"), Some((1, 0)));
    assert_eq!(parse_group_range("0 2147483647"), Some((0, 2147483647)));
    assert_eq!(parse_group_range("garbage"), None);
    assert_eq!(parse_group_range("1 2 3"), None);
}

#[test]
fn the_socket_fix_reads_as_one_sentence() {
    let e = std::io::Error::from_raw_os_error(libc::EACCES);
    let m = explain_socket_failure(false, Some(&e), None, 1, Some((1, 0)));
    assert!(!m.contains("  "), "{m}");
    assert!(
        m.ends_with(
            "Fix: allow unprivileged ping with sysctl net.ipv4.ping_group_range=\"0 2147483647\" \
         (per network namespace, also covers ICMPv6; the Terraform module sets it), or give \
         nocbox CAP_NET_RAW (ping.socket: raw or auto)"
        ),
        "{m}"
    );
}

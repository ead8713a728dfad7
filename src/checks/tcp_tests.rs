use super::*;

fn check(extra: &str) -> TcpCheckConfig {
    let yaml = format!("tcp_checks:\n  - {{ name: ssh, host: sw1.example, port: 22{extra} }}\n");
    crate::config::parse("t.yaml", &yaml, |_| None)
        .expect("config")
        .tcp_checks
        .expect("tcp_checks")
        .remove(0)
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn tag<'a>(m: &'a MetricRecord, key: &str) -> Option<&'a str> {
    m.tags
        .iter()
        .find_map(|t| t.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
}

#[test]
fn every_address_by_default_narrowed_on_request() {
    let resolved = ips(&["::1", "127.0.0.1", "::1", "10.0.0.1"]);
    assert_eq!(
        select(&resolved, &check("")),
        ips(&["::1", "127.0.0.1", "10.0.0.1"])
    );
    assert_eq!(
        select(&resolved, &check(", ipv4_only: true")),
        ips(&["127.0.0.1", "10.0.0.1"])
    );
    assert_eq!(
        select(&resolved, &check(", ipv6_only: true")),
        ips(&["::1"])
    );
    // Datadog's own behaviour, on request: the first address only.
    assert_eq!(
        select(&resolved, &check(", multiple_ips: false")),
        ips(&["::1"])
    );
    assert_eq!(
        select(&resolved, &check(", multiple_ips: false, ipv4_only: true")),
        ips(&["127.0.0.1"])
    );
    assert!(select(&ips(&["::1"]), &check(", ipv4_only: true")).is_empty());
    assert!(select(&[], &check("")).is_empty());
}

#[test]
fn connect_errors_are_named() {
    let e = |n| io::Error::from_raw_os_error(n);
    assert_eq!(classify(&e(libc::ECONNREFUSED)), Outcome::Refused);
    assert_eq!(classify(&e(libc::ETIMEDOUT)), Outcome::OsTimedOut);
    assert_eq!(
        classify(&e(libc::EHOSTUNREACH)),
        Outcome::Unreachable("no route to host")
    );
    assert_eq!(
        classify(&e(libc::ENETUNREACH)),
        Outcome::Unreachable("network is unreachable")
    );
    assert_eq!(
        classify(&e(libc::EADDRNOTAVAIL)).describe(),
        "unreachable (no local address of that family)"
    );
    let other = classify(&io::Error::other("strange"));
    assert_eq!(other.describe(), "failed: strange");
    assert_eq!(
        classify(&io::Error::from(io::ErrorKind::ConnectionRefused)),
        Outcome::Refused
    );
}

#[test]
fn the_status_line_says_which_address_failed_and_how() {
    let c = check("");
    let run = Run::Checked(vec![
        (
            "10.0.0.1".parse().unwrap(),
            Outcome::Open(Duration::from_micros(1300)),
        ),
        ("2001:db8::1".parse().unwrap(), Outcome::Refused),
        (
            "10.0.0.2".parse().unwrap(),
            Outcome::TimedOut(Duration::from_secs(10)),
        ),
    ]);
    assert_eq!(
        message(&c, &run),
        "sw1.example:22: 10.0.0.1 ok in 1.3 ms; 2001:db8::1 refused; 10.0.0.2 timed out after 10s"
    );
    assert_eq!(health(&run), Health::Partial);
    assert_eq!(
        message(&c, &Run::Dns("Name or service not known".into())),
        "sw1.example:22: DNS failure: Name or service not known"
    );
    let v6only = check(", ipv6_only: true");
    assert_eq!(
        message(
            &v6only,
            &Run::NoAddress {
                resolved: ips(&["10.0.0.1"])
            }
        ),
        "sw1.example:22: no IPv6 address to check (sw1.example resolves to 10.0.0.1)"
    );
    let mut lit = check("");
    lit.host = "2001:db8::9".into();
    let run = Run::Checked(vec![(
        "2001:db8::9".parse().unwrap(),
        Outcome::Unreachable("no route to host"),
    )]);
    assert_eq!(
        message(&lit, &run),
        "[2001:db8::9]:22: 2001:db8::9 unreachable (no route to host)"
    );
}

#[test]
fn health_is_ok_partial_or_down() {
    let ok = |o| Run::Checked(vec![("10.0.0.1".parse().unwrap(), o)]);
    assert_eq!(health(&ok(Outcome::Open(Duration::ZERO))), Health::Ok);
    assert_eq!(health(&ok(Outcome::Refused)), Health::Down);
    assert_eq!(health(&Run::Dns("x".into())), Health::Down);
    assert_eq!(health(&Run::Checked(vec![])), Health::Down);
    assert_eq!(health(&Run::NoAddress { resolved: vec![] }), Health::Down);
}

#[test]
fn metrics_follow_datadog_with_address_and_family() {
    let c = check(", tags: [role:core]");
    let run = Run::Checked(vec![
        (
            "127.0.0.1".parse().unwrap(),
            Outcome::Open(Duration::from_micros(1500)),
        ),
        ("::1".parse().unwrap(), Outcome::Refused),
    ]);
    let m = metrics(&c, &["env:prd".into()], &run, 1700, "nocbox-1");
    let names: Vec<&str> = m.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(
        names,
        [
            "network.tcp.response_time",
            "network.tcp.can_connect",
            "network.tcp.can_connect"
        ]
    );
    // Seconds, as Datadog.
    assert!((m[0].value - 0.0015).abs() < 1e-12);
    assert_eq!(
        m[1].tags,
        [
            "env:prd",
            "role:core",
            "instance:ssh",
            "target_host:sw1.example",
            "port:22",
            "url:sw1.example:22",
            "address:127.0.0.1",
            "address_family:ipv4"
        ]
    );
    assert_eq!(m[1].value, 1.0);
    assert_eq!(m[2].value, 0.0);
    assert_eq!(tag(&m[2], "address"), Some("::1"));
    assert_eq!(tag(&m[2], "address_family"), Some("ipv6"));
    assert_eq!(m[2].host.as_deref(), Some("nocbox-1"));
    // No response time when not asked for.
    let quiet = check(", collect_response_time: false");
    assert!(metrics(&quiet, &[], &run, 0, "h")
        .iter()
        .all(|m| m.metric == "network.tcp.can_connect"));
}

#[test]
fn a_dns_failure_is_can_connect_zero_without_an_address() {
    let m = metrics(&check(""), &[], &Run::Dns("x".into()), 0, "h");
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].metric.as_str(), m[0].value),
        ("network.tcp.can_connect", 0.0)
    );
    assert_eq!(tag(&m[0], "address"), None);
    assert_eq!(tag(&m[0], "instance"), Some("ssh"));
    assert_eq!(component_name(&check("")), "tcp_check:ssh");
}

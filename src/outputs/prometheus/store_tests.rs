//! Naming, typing, labels, staleness, the cap and the text format.

use super::*;

fn rec(metric: &str, kind: MetricType, value: f64, tags: &[&str]) -> MetricRecord {
    MetricRecord {
        metric: metric.into(),
        kind,
        timestamp: 1_786_700_000,
        value,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        host: None,
        interval: None,
    }
}

fn gauge(metric: &str, value: f64, tags: &[&str]) -> MetricRecord {
    rec(metric, MetricType::Gauge, value, tags)
}

fn store() -> Store {
    Store::new(100, Duration::from_secs(300))
}

fn lines(s: &Store) -> Vec<String> {
    s.render().lines().map(str::to_string).collect()
}

#[test]
fn names_follow_prometheus_rules() {
    let t0 = Instant::now();
    let mut s = store();
    for m in [
        "networkdevice.ping.avg_rtt",
        "snmp.ifHCInOctets",
        "a-b/c d.é",
        "9lives",
        "ns:sub.metric",
    ] {
        s.apply(&gauge(m, 1.0, &[]), t0).unwrap();
    }
    let text = s.render();
    for want in [
        "networkdevice_ping_avg_rtt 1",
        "snmp_ifHCInOctets 1",
        "a_b_c_d__ 1",
        "_9lives 1",
        "ns:sub_metric 1",
    ] {
        assert!(text.lines().any(|l| l == want), "no `{want}` in\n{text}");
    }
}

#[test]
fn gauges_and_rates_are_gauges_and_counts_accumulate_into_counters() {
    let t0 = Instant::now();
    let mut s = store();
    s.apply(&gauge("g", 5.0, &[]), t0).unwrap();
    s.apply(&gauge("g", 3.0, &[]), t0).unwrap();
    s.apply(&rec("r", MetricType::Rate, 2.5, &[]), t0).unwrap();
    s.apply(&rec("r", MetricType::Rate, 1.5, &[]), t0).unwrap();
    s.apply(&rec("snmp.ifHCInOctets", MetricType::Count, 100.0, &[]), t0)
        .unwrap();
    s.apply(&rec("snmp.ifHCInOctets", MetricType::Count, 50.0, &[]), t0)
        .unwrap();
    s.apply(&rec("events_total", MetricType::Count, 1.0, &[]), t0)
        .unwrap();
    assert_eq!(
        lines(&s),
        [
            "# TYPE events_total counter",
            "events_total 1",
            "# TYPE g gauge",
            "g 3",
            "# TYPE r gauge",
            "r 1.5",
            "# TYPE snmp_ifHCInOctets_total counter",
            "snmp_ifHCInOctets_total 150",
        ]
    );
}

#[test]
fn tags_become_labels() {
    let l = |tags: &[&str], host: Option<&str>| {
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        labels(&tags, host)
    };
    assert_eq!(l(&[], None), "");
    assert_eq!(
        l(
            &["snmp_device:10.0.0.1", "interface:Gi1/0/1"],
            Some("core-sw01")
        ),
        r#"{host="core-sw01",interface="Gi1/0/1",snmp_device="10.0.0.1"}"#
    );
    // the value keeps its own colons (the split is at the first one)
    assert_eq!(
        l(&["dd.internal.resource:ndm_device:default:10.0.0.1"], None),
        r#"{dd_internal_resource="ndm_device:default:10.0.0.1"}"#
    );
    // a tag without a value is a label `true`
    assert_eq!(l(&["critical"], None), r#"{critical="true"}"#);
    // repeated keys are one label, values sorted and joined; duplicates once
    assert_eq!(
        l(&["role:spine", "role:leaf", "role:leaf"], None),
        r#"{role="leaf,spine"}"#
    );
    // a host tag and the host resource are the same label
    assert_eq!(l(&["host:a"], Some("a")), r#"{host="a"}"#);
    // invalid key characters, leading digits, reserved `__` and empty keys
    assert_eq!(
        l(&["if-name:x", "1st:y", "__name__:z", ":v"], None),
        r#"{_1st="y",if_name="x",tag="v",tag__name__="z"}"#
    );
    // values are escaped
    assert_eq!(l(&["msg:a\"b\\c\nd"], None), r#"{msg="a\"b\\c\nd"}"#);
    // tag order does not make another series
    assert_eq!(l(&["a:1", "b:2"], None), l(&["b:2", "a:1"], None));
}

#[test]
fn the_e2e_line_shape() {
    let t0 = Instant::now();
    let mut s = store();
    let mut r = gauge(
        "network.tcp.can_connect",
        1.0,
        &["address:127.0.0.1", "address_family:ipv4", "instance:local"],
    );
    r.host = Some("nocbox-test".into());
    s.apply(&r, t0).unwrap();
    assert_eq!(
        lines(&s),
        [
            "# TYPE network_tcp_can_connect gauge",
            "network_tcp_can_connect{address=\"127.0.0.1\",address_family=\"ipv4\",host=\"nocbox-test\",instance=\"local\"} 1",
        ]
    );
}

#[test]
fn values_are_written_as_prometheus_reads_them() {
    assert_eq!(value(1.0), "1");
    assert_eq!(value(-0.0), "0");
    assert_eq!(value(0.002), "0.002");
    assert_eq!(value(-12.5), "-12.5");
    assert_eq!(value(1e300), "1e+300");
    assert_eq!(value(f64::NAN), "NaN");
    assert_eq!(value(f64::INFINITY), "+Inf");
    assert_eq!(value(f64::NEG_INFINITY), "-Inf");
    assert_eq!(value(123456789012.0), "123456789012");
}

#[test]
fn stale_series_vanish_after_stale_after_or_three_intervals() {
    let t0 = Instant::now();
    let s_ = Duration::from_secs;
    let mut s = store();
    s.apply(&gauge("gone", 1.0, &["snmp_device:10.0.0.9"]), t0)
        .unwrap();
    let mut slow = gauge("slow", 1.0, &[]);
    slow.interval = Some(600); // polled every 10 min: kept 30 min
    s.apply(&slow, t0).unwrap();
    s.apply(&gauge("kept", 1.0, &[]), t0).unwrap();
    s.apply(&gauge("kept", 2.0, &[]), t0 + s_(200)).unwrap();
    assert_eq!(s.expire(t0 + s_(299)), 0);
    assert_eq!(s.expire(t0 + s_(300)), 1);
    assert!(!s.render().contains("gone"));
    assert_eq!(s.len(), 2);
    assert_eq!(s.expire(t0 + s_(500)), 1, "kept was updated at 200");
    assert_eq!(s.expire(t0 + s_(1799)), 0);
    assert_eq!(s.expire(t0 + s_(1800)), 1);
    assert!(s.is_empty());
    assert_eq!(s.render(), "");
    // A count that comes back after being stale starts again from zero.
    s.apply(&rec("c", MetricType::Count, 5.0, &[]), t0).unwrap();
    s.expire(t0 + s_(301));
    s.apply(&rec("c", MetricType::Count, 2.0, &[]), t0 + s_(302))
        .unwrap();
    assert!(s.render().contains("c_total 2\n"));
}

#[test]
fn the_cap_refuses_new_series_but_keeps_updating_the_existing() {
    let t0 = Instant::now();
    let mut s = Store::new(2, Duration::from_secs(300));
    s.apply(&gauge("a", 1.0, &["i:1"]), t0).unwrap();
    s.apply(&gauge("a", 1.0, &["i:2"]), t0).unwrap();
    assert_eq!(
        s.apply(&gauge("a", 1.0, &["i:3"]), t0),
        Err(Refused::MaxSeries)
    );
    assert_eq!(s.apply(&gauge("b", 1.0, &[]), t0), Err(Refused::MaxSeries));
    s.apply(&gauge("a", 7.0, &["i:2"]), t0).unwrap();
    assert!(s.render().contains("a{i=\"2\"} 7"));
    assert_eq!(s.len(), 2);
    // room again once a series is stale
    s.apply(&gauge("a", 1.0, &["i:1"]), t0 + Duration::from_secs(100))
        .unwrap();
    s.expire(t0 + Duration::from_secs(300));
    s.apply(&gauge("b", 1.0, &[]), t0 + Duration::from_secs(301))
        .unwrap();
    assert_eq!(s.len(), 2);
}

#[test]
fn clashing_types_and_reserved_or_empty_names_are_refused() {
    let t0 = Instant::now();
    let mut s = store();
    s.apply(&gauge("x_total", 1.0, &[]), t0).unwrap();
    assert_eq!(
        s.apply(&rec("x", MetricType::Count, 1.0, &[]), t0),
        Err(Refused::TypeConflict)
    );
    assert_eq!(
        s.apply(&gauge("nocbox.output.sent", 1.0, &[]), t0),
        Err(Refused::ReservedName)
    );
    assert_eq!(s.apply(&gauge("", 1.0, &[]), t0), Err(Refused::InvalidName));
    assert_eq!(s.len(), 1);
    assert_eq!(Refused::TypeConflict.reason(), "type_conflict");
}

#[test]
fn each_family_has_one_type_line_before_its_series() {
    let t0 = Instant::now();
    let mut s = store();
    for (m, tags) in [
        ("b", ["i:1"]),
        ("a", ["i:1"]),
        ("b", ["i:2"]),
        ("a", ["i:2"]),
    ] {
        s.apply(&gauge(m, 1.0, &tags), t0).unwrap();
    }
    assert_eq!(
        lines(&s),
        [
            "# TYPE a gauge",
            "a{i=\"1\"} 1",
            "a{i=\"2\"} 1",
            "# TYPE b gauge",
            "b{i=\"1\"} 1",
            "b{i=\"2\"} 1",
        ]
    );
}

//! Tests of the pure series pieces: one point's element, merging, exact sizes, limits, splits,
//! expiry, refusals.

use std::io::Read;

use serde_json::{json, Value};

use super::*;
use crate::event::MetricType;

const NOW: i64 = 1_786_700_000;

fn rec(metric: &str, value: f64, tags: &[&str]) -> MetricRecord {
    MetricRecord {
        metric: metric.into(),
        kind: MetricType::Gauge,
        timestamp: NOW,
        value,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        host: Some("core-sw01".into()),
        interval: None,
    }
}

fn pt(r: &MetricRecord) -> SeriesPoint {
    point(r, NOW).unwrap()
}

fn parse(b: &SeriesBatch) -> Value {
    serde_json::from_slice(&b.body()).unwrap()
}

fn batch(points: impl IntoIterator<Item = MetricRecord>) -> SeriesBatch {
    let mut b = SeriesBatch::default();
    for r in points {
        b.push(pt(&r));
    }
    b
}

#[test]
fn a_point_becomes_a_v2_series_element() {
    let mut r = rec(
        "snmp.ifHCInOctets",
        123456.0,
        &["snmp_device:10.1.1.2", "interface:Gi1/0/1"],
    );
    r.kind = MetricType::Count;
    r.interval = Some(60);
    let v = parse(&batch([r]));
    assert_eq!(
        v,
        json!({"series": [{
            "metric": "snmp.ifHCInOctets",
            "type": 1,
            "interval": 60,
            "tags": ["interface:Gi1/0/1", "snmp_device:10.1.1.2"],
            "resources": [{"name": "core-sw01", "type": "host"}],
            "points": [{"timestamp": NOW, "value": 123456.0}],
        }]})
    );
    // No host: no resources; no interval: none sent.
    let mut r = rec("network.tcp.can_connect", 1.0, &["address:127.0.0.1"]);
    r.host = None;
    let v = parse(&batch([r]));
    let s = &v["series"][0];
    assert_eq!(s["type"], 3);
    assert!(
        s.get("resources").is_none() && s.get("interval").is_none(),
        "{s}"
    );
}

#[test]
fn points_of_one_series_share_an_element_and_others_do_not() {
    let a = |v: f64, ts: i64| {
        let mut r = rec("m.a", v, &["x:1", "y:2"]);
        r.timestamp = ts;
        r
    };
    let mut reordered = a(3.0, NOW + 2);
    reordered.tags = vec!["y:2".into(), "x:1".into(), "x:1".into()];
    let mut count = a(4.0, NOW);
    count.kind = MetricType::Count;
    let mut other_host = a(5.0, NOW);
    other_host.host = Some("sw2".into());
    let mut other_interval = a(6.0, NOW);
    other_interval.interval = Some(15);
    let b = batch([
        a(1.0, NOW),
        rec("m.b", 9.0, &["x:1", "y:2"]),
        a(2.0, NOW + 1),
        reordered,
        count,
        other_host,
        other_interval,
        rec("m.a", 7.0, &["x:1"]),
    ]);
    assert_eq!((b.points(), b.series()), (8, 6));
    let v = parse(&b);
    let first = &v["series"][0];
    assert_eq!(first["metric"], "m.a");
    let values: Vec<f64> = first["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(
        values,
        [1.0, 2.0, 3.0],
        "every point kept, in arrival order"
    );
    assert_eq!(v["series"][1]["metric"], "m.b");
}

#[test]
fn the_body_length_is_known_exactly_before_it_is_written() {
    let mut b = SeriesBatch::default();
    assert_eq!(b.body_len(), b.body().len());
    for i in 0..300 {
        let mut r = rec(
            &format!("m.{}", i % 7),
            i as f64 * 0.37 - 5.0,
            &["t:\"quoted\\\""],
        );
        r.timestamp = NOW - i;
        r.interval = (i % 2 == 0).then_some(15);
        r.kind = if i % 3 == 0 {
            MetricType::Rate
        } else {
            MetricType::Gauge
        };
        b.push(pt(&r));
        assert_eq!(b.body_len(), b.body().len(), "after {i}");
    }
    let (x, y) = b.split().unwrap();
    assert_eq!(x.body_len(), x.body().len());
    assert_eq!(y.body_len(), y.body().len());
}

#[test]
fn batches_are_cut_before_a_limit_is_passed() {
    let limits = Limits {
        goal: 2_000,
        max_points: 5,
        max_compressed: MAX_COMPRESSED,
    };
    // Point cap.
    let mut b = SeriesBatch::default();
    let p = pt(&rec("m", 1.0, &[]));
    for _ in 0..5 {
        assert!(b.fits(&p, &limits));
        b.push(p.clone());
    }
    assert!(b.is_full(&limits));
    assert!(!b.fits(&p, &limits));
    // Byte goal: series with long tags until the next would pass it.
    let mut b = SeriesBatch::default();
    let limits = Limits {
        max_points: 1000,
        ..limits
    };
    let mut i = 0;
    loop {
        let p = pt(&rec(&format!("m{i}"), 1.0, &[&"t".repeat(300)]));
        if !b.fits(&p, &limits) {
            assert!(b.body_len() + p.head.len() > limits.goal - 50);
            break;
        }
        b.push(p);
        assert!(b.body_len() <= limits.goal);
        i += 1;
    }
    assert!(i >= 4);
    // An empty batch takes any point.
    let big = pt(&rec("m", 1.0, &[&"t".repeat(5000)]));
    assert!(SeriesBatch::default().fits(&big, &limits));
}

#[test]
fn the_default_limits_are_under_the_apis() {
    let l = Limits::default();
    assert!(l.goal < MAX_UNCOMPRESSED);
    assert_eq!(l.max_compressed, 512_000);
}

#[test]
fn split_halves_by_series_then_by_points_then_gives_up() {
    let b = batch((0..5).map(|i| rec(&format!("m{i}"), 1.0, &[])));
    let (x, y) = b.split().unwrap();
    assert_eq!((x.series(), y.series()), (2, 3));
    let names = |b: &SeriesBatch| -> Vec<String> {
        parse(b)["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["metric"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&x), ["m0", "m1"]);
    assert_eq!(names(&y), ["m2", "m3", "m4"]);

    let one = batch((0..3).map(|i| {
        let mut r = rec("m", i as f64, &["a:b"]);
        r.timestamp = NOW + i;
        r
    }));
    let (x, y) = one.split().unwrap();
    assert_eq!((x.points(), y.points()), (1, 2));
    let v = parse(&y);
    assert_eq!(
        v["series"][0]["tags"],
        json!(["a:b"]),
        "the head goes with each half"
    );
    assert_eq!(v["series"][0]["points"][0]["value"], 1.0);

    let single = batch([rec("m", 1.0, &[])]);
    let back = single.split().unwrap_err();
    assert_eq!(back.points(), 1);
}

#[test]
fn unsendable_points_are_refused_with_a_reason() {
    let r = |f: &dyn Fn(&mut MetricRecord)| {
        let mut r = rec("m", 1.0, &[]);
        f(&mut r);
        point(&r, NOW).map(|_| ()).map_err(Unsendable::reason)
    };
    assert_eq!(r(&|r| r.value = f64::NAN), Err("invalid_value"));
    assert_eq!(r(&|r| r.value = f64::NEG_INFINITY), Err("invalid_value"));
    assert_eq!(r(&|r| r.metric.clear()), Err("invalid_name"));
    assert_eq!(r(&|r| r.timestamp = NOW - 3601), Err("too_old"));
    assert_eq!(r(&|r| r.timestamp = NOW - 3600), Ok(()));
    assert_eq!(r(&|r| r.timestamp = NOW + 601), Err("too_new"));
    // Milliseconds by mistake are far in the future.
    assert_eq!(r(&|r| r.timestamp = NOW * 1000), Err("too_new"));
    assert_eq!(
        r(&|r| r.tags = vec!["t".repeat(MAX_UNCOMPRESSED)]),
        Err("too_large")
    );
    assert_eq!(r(&|r| r.value = -0.5e300), Ok(()));
}

#[test]
fn expire_drops_points_past_the_age_limit() {
    let mut b = batch((0..4).map(|i| {
        let mut r = rec(&format!("m{}", i % 2), 1.0, &[]);
        r.timestamp = NOW + i * 100;
        r
    }));
    assert_eq!(b.expire(NOW + 3600), 0);
    assert_eq!(
        b.expire(NOW + 3600 + 150),
        2,
        "the points at NOW and NOW+100"
    );
    assert_eq!((b.points(), b.series()), (2, 2));
    assert_eq!(b.body_len(), b.body().len());
    assert_eq!(b.expire(NOW + 10_000), 2);
    assert!(b.is_empty());
}

#[test]
fn the_gzip_body_round_trips() {
    let b = batch((0..50).map(|i| {
        rec(
            "networkdevice.ping.avg_rtt",
            i as f64 / 3.0,
            &["target_host:10.0.0.1"],
        )
    }));
    let gz = crate::outputs::datadog::payload::gzip(&b.body());
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw, b.body());
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v["series"][0]["points"].as_array().unwrap().len(), 50);
    assert!(gz.len() < raw.len() / 4, "{} vs {}", gz.len(), raw.len());
}

#[test]
fn debug_shows_counts_not_data() {
    let b = batch([rec("secret.metric", 1.0, &["secret:tag"])]);
    let d = format!("{b:?}");
    assert!(!d.contains("secret"), "{d}");
    assert!(d.contains("points: 1"), "{d}");
}

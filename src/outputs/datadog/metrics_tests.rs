//! The metrics output against the scripted HTTP responder of `tests.rs`: what is sent, and what
//! each answer leads to (retry, split, drop), with the counters that say so.

use super::*;
use crate::event::{MetricRecord, MetricType};
use crate::outputs::datadog::metrics;
use crate::outputs::datadog::series::Limits;

const SERIES: &str = "/api/v2/series";

fn point(metric: &str, value: f64, tags: &[&str]) -> Arc<Event> {
    Arc::new(Event::Metric(MetricRecord {
        metric: metric.into(),
        kind: MetricType::Gauge,
        timestamp: chrono::Utc::now().timestamp(),
        value,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        host: Some("nocbox-test".into()),
        interval: None,
    }))
}

/// The metrics loop over `events`, batches within `limits`.
async fn run_with(script: Vec<u16>, events: Vec<Arc<Event>>, limits: Limits) -> (Telemetry, Log) {
    drive(script, events, |base, client, rx, ctx| {
        metrics::run(post(&base, SERIES), limits, client, rx, ctx)
    })
    .await
}

async fn run_metrics_http(script: Vec<u16>, events: Vec<Arc<Event>>) -> (Telemetry, Log) {
    run_with(script, events, Limits::default()).await
}

fn m(t: &Telemetry, name: &str, reason: Option<&str>) -> u64 {
    let mut f = vec![("output", "datadog_metrics")];
    if let Some(r) = reason {
        f.push(("reason", r));
    }
    t.counter_sum(name, &f)
}

fn series_of(s: &Seen) -> &Vec<Value> {
    s.body["series"].as_array().expect("a series array")
}

#[tokio::test]
async fn points_reach_the_series_api_merged_by_series_with_the_right_headers() {
    let events = vec![
        point("network.tcp.can_connect", 1.0, &["address:127.0.0.1"]),
        log("not mine"),
        point("network.tcp.response_time", 0.002, &["address:127.0.0.1"]),
        point("network.tcp.can_connect", 1.0, &["address:127.0.0.1"]),
    ];
    let (t, seen) = run_metrics_http(vec![202], events).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let h = seen[0].head.to_ascii_lowercase();
    assert!(h.starts_with("post /api/v2/series http/1.1"), "{h}");
    assert!(h.contains("dd-api-key: secret-key"));
    assert!(h.contains("content-type: application/json"));
    assert!(h.contains("content-encoding: gzip"));
    let series = series_of(&seen[0]);
    assert_eq!(series.len(), 2, "two series, three points");
    assert_eq!(series[0]["metric"], "network.tcp.can_connect");
    assert_eq!(series[0]["type"], 3);
    assert_eq!(series[0]["points"].as_array().unwrap().len(), 2);
    assert_eq!(series[0]["tags"], serde_json::json!(["address:127.0.0.1"]));
    assert_eq!(
        series[0]["resources"],
        serde_json::json!([{"name": "nocbox-test", "type": "host"}])
    );
    assert_eq!(series[1]["points"][0]["value"], 0.002);
    assert_eq!(m(&t, "nocbox.output.sent", None), 3);
    assert_eq!(m(&t, "nocbox.output.dropped", None), 0);
    let comp = t.find_component("datadog_metrics").unwrap();
    assert!(comp.is_healthy());
    // the logs output's counters are not touched
    assert_eq!(n(&t, "nocbox.output.sent", None), 0);
}

#[tokio::test]
async fn retries_408_429_5xx_and_transport_answers_with_the_same_body() {
    let events = vec![point("a", 1.0, &[]), point("b", 2.0, &[])];
    let (t, seen) = run_metrics_http(vec![408, 429, 500, 503, 202], events).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|s| s.body == seen[0].body));
    assert_eq!(m(&t, "nocbox.output.failed", Some("http_408")), 1);
    assert_eq!(m(&t, "nocbox.output.failed", Some("http_429")), 1);
    assert_eq!(m(&t, "nocbox.output.failed", Some("http_5xx")), 2);
    assert_eq!(m(&t, "nocbox.output.retries", None), 4);
    assert_eq!(m(&t, "nocbox.output.sent", None), 2);
    assert_eq!(m(&t, "nocbox.output.dropped", None), 0);
}

#[tokio::test]
async fn a_dead_endpoint_is_retried_until_the_hard_stop_counts_the_points() {
    // A port nobody listens on: connection refused, a transport error.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Telemetry::new();
    let stop = CancellationToken::new();
    let (tx, rx) = mpsc::channel(10);
    for i in 0..3 {
        tx.send(point("a", f64::from(i), &[])).await.unwrap();
    }
    let p = post(&format!("http://127.0.0.1:{port}"), SERIES);
    let task = tokio::spawn(metrics::run(
        p,
        Limits::default(),
        test_client(),
        rx,
        ctx(&t, stop.clone()),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.send(point("queued", 1.0, &[])).await.unwrap();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(m(&t, "nocbox.output.failed", Some("connect")) >= 2);
    assert!(m(&t, "nocbox.output.retries", None) >= 2);
    assert_eq!(m(&t, "nocbox.output.dropped", Some("shutdown")), 4);
    assert_eq!(m(&t, "nocbox.output.sent", None), 0);
}

#[tokio::test]
async fn refusals_400_401_403_are_permanent_counted_and_never_show_the_key() {
    for (code, reason) in [(400, "http_400"), (401, "http_401"), (403, "http_403")] {
        let events = vec![point("a", 1.0, &[]), point("b", 1.0, &[])];
        let (t, seen) = run_metrics_http(vec![code, 202], events).await;
        assert_eq!(seen.lock().unwrap().len(), 1, "{code}: not retried");
        assert_eq!(m(&t, "nocbox.output.dropped", Some(reason)), 2, "{code}");
        assert_eq!(m(&t, "nocbox.output.failed", Some(reason)), 1, "{code}");
        assert_eq!(m(&t, "nocbox.output.sent", None), 0);
        let comp = t.find_component("datadog_metrics").unwrap();
        let err = comp.last_error().unwrap();
        assert!(err.contains("2 points dropped"), "{err}");
        assert!(!err.contains("secret-key"), "{err}");
        if code != 400 {
            assert!(err.contains("check outputs.datadog.api_key"), "{err}");
        }
        assert!(comp.is_healthy(), "a refusal is not a reason to restart");
    }
}

#[tokio::test]
async fn status_413_splits_and_a_single_point_still_refused_is_dropped() {
    let events = vec![point("a", 1.0, &[]), point("b", 1.0, &[])];
    let (t, seen) = run_metrics_http(vec![413, 202, 413], events).await;
    let sizes: Vec<usize> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| series_of(s).len())
        .collect();
    assert_eq!(sizes, vec![2, 1, 1]);
    assert_eq!(m(&t, "nocbox.output.sent", None), 1);
    assert_eq!(m(&t, "nocbox.output.failed", Some("http_413")), 2);
    assert_eq!(
        m(&t, "nocbox.output.dropped", Some("http_413_too_large")),
        1
    );
}

#[tokio::test]
async fn a_body_over_the_compressed_limit_is_split_before_it_is_sent() {
    // Tags that do not compress: a few points together pass a 2,000-byte gzip limit.
    let noise = |i: u64| -> String {
        let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    };
    let mut events: Vec<Arc<Event>> = (0..12)
        .map(|i| point(&format!("m{i}"), 1.0, &[&format!("t:{}", noise(i))]))
        .collect();
    // One point that alone is over the limit.
    events.push(point(
        "huge",
        1.0,
        &[&format!("t:{}", (0..20).map(noise).collect::<String>())],
    ));
    let limits = Limits {
        max_compressed: 2_000,
        ..Limits::default()
    };
    let (t, seen) = run_with(vec![202], events, limits).await;
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 3, "{} requests", seen.len());
    assert!(
        seen.iter().all(|s| s.wire <= 2_000),
        "every request within the limit"
    );
    let sent: usize = seen.iter().map(|s| series_of(s).len()).sum();
    assert_eq!(sent, 12);
    assert_eq!(m(&t, "nocbox.output.sent", None), 12);
    assert_eq!(m(&t, "nocbox.output.dropped", Some("too_large")), 1);
    assert_eq!(
        m(&t, "nocbox.output.failed", None),
        0,
        "nothing was refused"
    );
}

#[tokio::test]
async fn points_the_api_would_refuse_are_counted_and_never_sent() {
    let bad = |f: &dyn Fn(&mut MetricRecord)| {
        let mut r = MetricRecord {
            metric: "m".into(),
            kind: MetricType::Gauge,
            timestamp: chrono::Utc::now().timestamp(),
            value: 1.0,
            tags: vec![],
            host: None,
            interval: None,
        };
        f(&mut r);
        Arc::new(Event::Metric(r))
    };
    let events = vec![
        bad(&|r| r.value = f64::NAN),
        bad(&|r| r.timestamp -= 7200),
        bad(&|r| r.timestamp *= 1000),
        bad(&|r| r.metric.clear()),
        metric(), // timestamp 0
    ];
    let (t, seen) = run_metrics_http(vec![202], events).await;
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(m(&t, "nocbox.output.dropped", Some("invalid_value")), 1);
    assert_eq!(m(&t, "nocbox.output.dropped", Some("too_old")), 2);
    assert_eq!(m(&t, "nocbox.output.dropped", Some("too_new")), 1);
    assert_eq!(m(&t, "nocbox.output.dropped", Some("invalid_name")), 1);
}

#[tokio::test]
async fn points_that_age_past_the_hour_while_retried_are_dropped_as_too_old() {
    let mut r = MetricRecord {
        metric: "m".into(),
        kind: MetricType::Gauge,
        timestamp: chrono::Utc::now().timestamp() - 3600,
        value: 1.0,
        tags: vec![],
        host: None,
        interval: None,
    };
    let old = Arc::new(Event::Metric(r.clone()));
    r.timestamp += 3600;
    let fresh = Arc::new(Event::Metric(r));
    // 503 for a few seconds of retries (the old point ages out within one), then 202.
    let mut script = vec![503; 150];
    script.push(202);
    let (t, seen) = run_metrics_http(script, vec![old, fresh]).await;
    assert_eq!(m(&t, "nocbox.output.dropped", Some("too_old")), 1);
    assert_eq!(m(&t, "nocbox.output.sent", None), 1);
    let seen = seen.lock().unwrap();
    let last = series_of(seen.last().unwrap());
    assert_eq!(
        last[0]["points"].as_array().unwrap().len(),
        1,
        "only the fresh point"
    );
}

#[tokio::test]
async fn a_partial_batch_goes_after_the_flush_interval() {
    let (base, seen) = responder(vec![202]).await;
    let t = Telemetry::new();
    let (tx, rx) = mpsc::channel(10);
    let task = tokio::spawn(metrics::run(
        post(&base, SERIES),
        Limits::default(),
        test_client(),
        rx,
        ctx(&t, CancellationToken::new()),
    ));
    tx.send(point("a", 1.0, &[])).await.unwrap();
    let sent = async {
        while seen.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), sent)
        .await
        .expect("sent while the queue is still open");
    drop(tx);
    task.await.unwrap();
    assert_eq!(m(&t, "nocbox.output.sent", None), 1);
}

#[test]
fn series_url_rules() {
    let u = |e: Option<&str>, site: &str| {
        let mut c = dd(None, site, LogsTransport::Http);
        c.endpoint = e.map(str::to_string);
        series_url(&c).map(|u| u.to_string())
    };
    assert_eq!(
        u(None, "datadoghq.eu").unwrap(),
        "https://api.datadoghq.eu/api/v2/series"
    );
    assert_eq!(
        u(Some("https://127.0.0.1:8443"), "").unwrap(),
        "https://127.0.0.1:8443/api/v2/series"
    );
    assert_eq!(
        u(Some("https://proxy/dd/api/v2/series/"), "").unwrap(),
        "https://proxy/dd/api/v2/series/"
    );
    assert!(u(Some("http://127.0.0.1:1"), "").is_ok());
    let e = u(Some("http://10.0.0.1:8080"), "").unwrap_err().to_string();
    assert!(
        e.starts_with("outputs.datadog.endpoint: http:// sends the API key"),
        "{e}"
    );
    assert!(u(Some("https://user:pw@h"), "").is_err());
}

#[test]
fn check_endpoints_covers_the_series_url_unless_metrics_are_off() {
    let mut c = dd(None, "datadoghq.com", LogsTransport::Http);
    c.endpoint = Some("http://10.0.0.1:8080".into());
    let e = check_endpoints(&c).unwrap_err();
    assert!(e.starts_with("outputs.datadog.endpoint: "), "{e}");
    c.metrics.enabled = false;
    assert_eq!(check_endpoints(&c), Ok(()));
}

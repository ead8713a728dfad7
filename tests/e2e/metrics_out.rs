//! Metric events out of the real binary: to the local series API stand-in
//! (tests/peers/dd_intake.py, which checks the v2 wire format and the size limits) and on the
//! API's Prometheus `/metrics`.
//!
//! The producer is a `tcp_checks` entry against a listener the test opens on 127.0.0.1: the check
//! sends `network.tcp.can_connect` = 1 and `network.tcp.response_time` tagged
//! `address:127.0.0.1`.

use std::net::TcpListener;
use std::path::Path;

use serde_json::Value;

use crate::datadog_http::Intake;
use crate::harness::*;

const KEY: &str = "test-api-key-0123";

fn datadog(intake: &Intake, tls: &Path, metrics: &str) -> String {
    format!(
        "  datadog:
    api_key: {KEY}
    ca_file: {}/ca.pem
    endpoint: \"https://127.0.0.1:{}\"
    logs: {{ endpoint: \"https://127.0.0.1:{}\", mark_interval: 0s }}
    metrics: {{ {metrics} }}
",
        tls.display(),
        intake.port,
        intake.port
    )
}

fn tcp_check(port: u16) -> String {
    format!(
        "tcp_checks:
  - {{ name: local, host: 127.0.0.1, port: {port}, interval: 1s, timeout: 2s }}
"
    )
}

fn tagged_local(s: &Value) -> bool {
    s["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "address:127.0.0.1"))
}

#[test]
fn tcp_check_metrics_reach_the_series_api_gzip_with_the_key() {
    let dir = scratch("metrics-dd");
    let tls = certs(&dir);
    let intake = Intake::start(&dir, &tls);
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let yaml = format!(
        "hostname: nocbox-test\napi: {{ listen: 127.0.0.1:0 }}\n{}outputs:\n{}",
        tcp_check(target.local_addr().unwrap().port()),
        datadog(&intake, &tls, "flush_interval: 200ms")
    );
    let nb = Nocbox::start("metrics-dd", &yaml);
    let find = |metric: &str| {
        intake
            .series()
            .into_iter()
            .find(|s| s["metric"] == metric && tagged_local(s))
    };
    let can = wait_for(30, || find("network.tcp.can_connect"))
        .unwrap_or_else(|| panic!("no can_connect series; log:\n{}", nb.log()));
    assert_eq!(can["type"], 3, "a gauge");
    assert_eq!(can["points"][0]["value"], 1.0);
    let rt = wait_for(10, || find("network.tcp.response_time")).expect("response_time series");
    assert!(rt["points"][0]["value"].as_f64().unwrap() >= 0.0);

    let reqs: Vec<Value> = intake
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/api/v2/series")
        .collect();
    assert!(!reqs.is_empty());
    for r in &reqs {
        // 202 means the stand-in found the key, the gzip body, the JSON shape and the limits
        // right; anything else names the problem.
        assert_eq!(r["status"], 202, "{r}");
        assert_eq!(r["headers"]["content-encoding"], "gzip");
        assert_eq!(r["headers"]["content-type"], "application/json");
        assert_eq!(r["headers"]["dd-api-key"], "<redacted>");
        assert!(r["gzip_bytes"].as_u64().unwrap() <= 512_000);
    }
    // the intake records before nocbox reads the 202
    nb.wait_counter(
        "nocbox.output.sent",
        &[("output", "datadog_metrics")],
        2,
        10,
    );
    assert_eq!(
        nb.counter("nocbox.output.dropped", &[("output", "datadog_metrics")]),
        0
    );
    assert!(!nb.log().contains(KEY));
    assert!(!nb.get("/status").1.contains(KEY));
}

#[test]
fn tcp_check_metrics_show_on_prometheus_metrics() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let yaml = format!(
        "hostname: nocbox-test\napi: {{ listen: 127.0.0.1:0 }}\n{}",
        tcp_check(target.local_addr().unwrap().port())
    );
    let nb = Nocbox::start("metrics-prom", &yaml);
    let line = wait_for(30, || {
        let (code, text) = nb.get("/metrics");
        assert_eq!(code, 200);
        text.lines()
            .find(|l| {
                l.starts_with("network_tcp_can_connect{") && l.contains("address=\"127.0.0.1\"")
            })
            .map(str::to_string)
    })
    .unwrap_or_else(|| panic!("no network_tcp_can_connect; log:\n{}", nb.log()));
    assert!(line.ends_with("} 1"), "{line}");
    let text = nb.get("/metrics").1;
    assert!(
        text.contains("# TYPE network_tcp_can_connect gauge\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE network_tcp_response_time gauge\n"),
        "{text}"
    );
    // nocbox's own metrics come first
    let own = text
        .find("nocbox_pipeline_events_total")
        .expect("own metrics");
    assert!(own < text.find("network_tcp_can_connect").unwrap());
    // the stdout output (the default without Datadog) has them as metric records too
    let rec = wait_for(10, || {
        nb.records()
            .into_iter()
            .find(|r| r["kind"] == "metric" && r["metric"] == "network.tcp.can_connect")
    })
    .expect("a metric record on stdout");
    assert!(tagged_local(&rec));
}

/// Runs now: both metric outputs start with their own queues and are healthy, the series URL
/// is the `endpoint` one, and `outputs.datadog.metrics.enabled: false` /
/// `outputs.prometheus.enabled: false` turn them off.
#[test]
fn metric_outputs_are_wired_with_their_own_queues() {
    let dir = scratch("metrics-wiring");
    let tls = certs(&dir);
    let intake = Intake::start(&dir, &tls);
    let yaml = format!(
        "api: {{ listen: 127.0.0.1:0 }}\noutputs:\n{}",
        datadog(&intake, &tls, "queue_size: 123")
    );
    let nb = Nocbox::start("metrics-wiring", &yaml);
    let st = nb.status();
    let comp = &st["components"]["datadog_metrics"];
    assert_eq!(comp["healthy"], true, "{st}");
    assert_eq!(
        comp["detail"]["endpoint"],
        format!("https://127.0.0.1:{}/api/v2/series", intake.port)
    );
    assert_eq!(st["components"]["prometheus"]["healthy"], true, "{st}");
    let queues = st["queues"].as_array().unwrap();
    let cap = |name: &str| {
        queues
            .iter()
            .find(|q| q["output"] == name)
            .map(|q| q["capacity"].as_u64().unwrap())
    };
    assert_eq!(cap("datadog_metrics"), Some(123));
    assert_eq!(cap("prometheus"), Some(100_000));
    assert_eq!(cap("datadog_logs"), Some(100_000));
    let (code, text) = nb.get("/metrics");
    assert_eq!(code, 200);
    assert!(text.contains("nocbox_component_healthy{component=\"prometheus\"} 1"));
    assert_eq!(nb.get("/healthz").0, 200);
    drop(nb);

    let yaml = format!(
        "api: {{ listen: 127.0.0.1:0 }}\noutputs:\n{}  prometheus: {{ enabled: false }}\n",
        datadog(&intake, &tls, "enabled: false")
    );
    let nb = Nocbox::start("metrics-off", &yaml);
    let st = nb.status();
    assert!(st["components"].get("datadog_metrics").is_none(), "{st}");
    assert!(st["components"].get("prometheus").is_none(), "{st}");
    assert_eq!(nb.get("/metrics").0, 404);
}

//! The output task: points through its queue become the published text, refusals are counted,
//! and the end of the queue or a hard stop ends it.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::*;
use crate::event::{MetricRecord, MetricType};

fn point(metric: &str, value: f64, tags: &[&str]) -> Arc<Event> {
    Arc::new(Event::Metric(MetricRecord {
        metric: metric.into(),
        kind: MetricType::Gauge,
        timestamp: 0,
        value,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        host: None,
        interval: None,
    }))
}

fn ctx(t: &Telemetry, stop: CancellationToken) -> OutputContext {
    OutputContext {
        telemetry: t.clone(),
        hard_stop: stop,
        hostname: "nocbox-test".into(),
        tags: vec![],
    }
}

fn cfg(max_series: usize) -> PrometheusConfig {
    PrometheusConfig {
        max_series,
        ..PrometheusConfig::default()
    }
}

fn n(t: &Telemetry, name: &str, reason: Option<&str>) -> u64 {
    let mut f = vec![("output", NAME)];
    if let Some(r) = reason {
        f.push(("reason", r));
    }
    t.counter_sum(name, &f)
}

#[tokio::test]
async fn points_are_published_while_the_queue_is_open_and_refusals_counted() {
    let t = Telemetry::new();
    let out = Exposition::default();
    assert_eq!(*out.text(), "");
    let (tx, rx) = mpsc::channel(100);
    let task = tokio::spawn(run(
        cfg(2),
        out.clone(),
        rx,
        ctx(&t, CancellationToken::new()),
    ));
    tx.send(point(
        "network.tcp.can_connect",
        1.0,
        &["address:127.0.0.1"],
    ))
    .await
    .unwrap();
    tx.send(crate::event::samples::log("ignored"))
        .await
        .unwrap();
    tx.send(point("a", 1.0, &[])).await.unwrap();
    tx.send(point("b", 1.0, &[])).await.unwrap(); // over the cap of 2
    tx.send(point("nocbox.x", 1.0, &[])).await.unwrap();
    let published = async {
        loop {
            if out.text().contains("network_tcp_can_connect") {
                return out.text();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let text = tokio::time::timeout(Duration::from_secs(5), published)
        .await
        .expect("published within the publish period");
    assert!(
        text.contains("network_tcp_can_connect{address=\"127.0.0.1\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("\nb "), "{text}");
    drop(tx);
    task.await.unwrap();
    assert_eq!(n(&t, "nocbox.output.sent", None), 2);
    assert_eq!(n(&t, "nocbox.output.dropped", Some("max_series")), 1);
    assert_eq!(n(&t, "nocbox.output.dropped", Some("reserved_name")), 1);
    assert_eq!(
        t.gauge("nocbox.output.series", &[("output", NAME)]).get(),
        2
    );
    assert!(t.find_component(NAME).unwrap().is_healthy());
}

#[tokio::test]
async fn the_last_points_are_published_when_the_queue_closes() {
    let t = Telemetry::new();
    let out = Exposition::default();
    let (tx, rx) = mpsc::channel(10);
    tx.send(point("late", 2.0, &[])).await.unwrap();
    drop(tx);
    run(cfg(10), out.clone(), rx, ctx(&t, CancellationToken::new())).await;
    assert_eq!(*out.text(), "# TYPE late gauge\nlate 2\n");
}

#[tokio::test]
async fn a_hard_stop_ends_it_and_counts_what_was_queued() {
    let t = Telemetry::new();
    let stop = CancellationToken::new();
    let (tx, rx) = mpsc::channel(10);
    for i in 0..3 {
        tx.send(point("m", f64::from(i), &[])).await.unwrap();
    }
    stop.cancel();
    run(cfg(10), Exposition::default(), rx, ctx(&t, stop)).await;
    assert_eq!(n(&t, "nocbox.output.dropped", Some("shutdown")), 3);
    assert!(tx.is_closed());
}

//! The HTTP API: `/healthz` (overall), `/healthz/<component>`, `/status` (JSON), `/metrics`
//! (Prometheus text) and `/` (a status page). Reads telemetry and queue views; owns nothing else.

pub mod client;
mod page;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::outputs::prometheus::Exposition;
use crate::pipeline::QueueView;
use crate::telemetry::{render_prometheus, Telemetry};

/// Where `nocbox health` and `nocbox status` look by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

#[derive(Clone, Debug)]
pub struct ApiState {
    pub telemetry: Telemetry,
    pub queues: QueueView,
    /// `outputs.prometheus.enabled`.
    pub prometheus: bool,
    /// What the `prometheus` output publishes from metric events; shown after nocbox's own
    /// metrics.
    pub metric_events: Exposition,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(healthz))
        .route("/healthz/{component}", get(healthz_component))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .with_state(state)
}

pub async fn serve(listener: TcpListener, state: ApiState, stop: CancellationToken) {
    let app = router(state);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
    {
        tracing::error!(error = %e, "the HTTP API stopped");
    }
}

/// Overall health: every input listening, every output able to accept events. Components of
/// kind `check` (ping, TCP checks) are left out on purpose: a device being down must not make
/// the load balancer replace nocbox. They answer on `/healthz/<name>` only.
fn health(state: &ApiState) -> (bool, Value) {
    let mut problems = Vec::new();
    if state.telemetry.is_draining() {
        problems.push("stopping: draining after SIGTERM".to_string());
    }
    let mut comps = serde_json::Map::new();
    for (name, c) in state.telemetry.components("input") {
        if !c.is_healthy() {
            problems.push(format!("input {name} is not healthy"));
        }
        comps.insert(name, json!(c.is_healthy()));
    }
    for (name, c) in state.telemetry.components("output") {
        if !c.is_healthy() {
            problems.push(format!("output {name} is not running"));
        }
        comps.insert(name, json!(c.is_healthy()));
    }
    for q in state.queues.queues() {
        if !q.accepting() {
            problems.push(format!(
                "output {} queue is full ({} events)",
                q.output, q.capacity
            ));
        }
    }
    let ok = problems.is_empty();
    (
        ok,
        json!({ "status": if ok { "ok" } else { "unhealthy" }, "components": comps, "problems": problems }),
    )
}

async fn healthz(State(state): State<ApiState>) -> Response {
    let (ok, body) = health(&state);
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn healthz_component(State(state): State<ApiState>, Path(name): Path<String>) -> Response {
    match state.telemetry.find_component(&name) {
        Some(c) => {
            let draining = state.telemetry.is_draining();
            let healthy = c.is_serving() && !draining;
            let code = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let body = json!({
                "component": name,
                "healthy": healthy,
                "draining": draining,
                "last_error": c.last_error(),
            });
            (code, Json(body)).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no input or output named {name} is running") })),
        )
            .into_response(),
    }
}

fn status_doc(state: &ApiState) -> Value {
    let mut doc = state.telemetry.status_json();
    let queues: Vec<Value> = state
        .queues
        .queues()
        .into_iter()
        .map(|q| json!({ "output": q.output, "depth": q.depth, "capacity": q.capacity }))
        .collect();
    doc["queues"] = json!(queues);
    doc["healthy"] = json!(health(state).0);
    doc
}

async fn status(State(state): State<ApiState>) -> Json<Value> {
    Json(status_doc(&state))
}

async fn metrics(State(state): State<ApiState>) -> Response {
    if !state.prometheus {
        return (
            StatusCode::NOT_FOUND,
            "outputs.prometheus.enabled is false\n",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics_text(&state),
    )
        .into_response()
}

/// nocbox's own metrics, then the metric events' series (names never clash: the `prometheus`
/// output refuses `nocbox_*`).
fn metrics_text(state: &ApiState) -> String {
    state.queues.queues();
    let own = render_prometheus(&state.telemetry);
    let events = state.metric_events.text();
    let mut text = String::with_capacity(own.len() + events.len());
    text.push_str(&own);
    text.push_str(&events);
    text
}

async fn status_page(State(state): State<ApiState>) -> Html<String> {
    Html(page::render(&status_doc(&state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(prometheus: bool) -> ApiState {
        let t = Telemetry::new();
        t.counter("nocbox.syslog.received", &[("transport", "udp")])
            .add(2);
        let events = Exposition::default();
        events.publish("# TYPE network_tcp_can_connect gauge\nnetwork_tcp_can_connect 1\n".into());
        ApiState {
            telemetry: t,
            queues: crate::pipeline::PipelineBuilder::new(&Telemetry::new())
                .build()
                .view(),
            prometheus,
            metric_events: events,
        }
    }

    async fn body(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn metrics_shows_own_metrics_then_metric_events() {
        let r = metrics(State(state(true))).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        let text = body(r).await;
        let own = text
            .find("nocbox_syslog_received_total{transport=\"udp\"} 2")
            .expect("own metrics");
        let events = text
            .find("# TYPE network_tcp_can_connect gauge\nnetwork_tcp_can_connect 1\n")
            .expect("metric events");
        assert!(own < events, "{text}");
        assert!(text.ends_with('\n'));
    }

    #[tokio::test]
    async fn metrics_is_404_when_prometheus_is_off() {
        let r = metrics(State(state(false))).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(!body(r).await.contains("network_tcp"));
    }

    #[test]
    fn failing_checks_never_fail_overall_health() {
        let telemetry = Telemetry::new();
        telemetry.component("syslog", "input").set_healthy(true);
        let check = telemetry.component("tcp_check:core-ssh", crate::checks::KIND);
        check.set_healthy(false);
        check.error("sw1:22: 10.0.0.1 refused");
        let ping = telemetry.component("ping", crate::checks::KIND);
        ping.set_healthy(false);
        let state = ApiState {
            telemetry: telemetry.clone(),
            queues: crate::pipeline::PipelineBuilder::new(&telemetry)
                .build()
                .view(),
            prometheus: false,
            metric_events: Exposition::default(),
        };
        let (ok, body) = health(&state);
        assert!(ok, "{body}");
        assert!(body["components"].get("ping").is_none(), "{body}");
        // An input that fails still does.
        telemetry.component("syslog", "input").set_healthy(false);
        assert!(!health(&state).0);
    }
}

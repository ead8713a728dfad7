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
            let healthy = c.is_healthy() && !draining;
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
    state.queues.queues();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render_prometheus(&state.telemetry),
    )
        .into_response()
}

async fn status_page(State(state): State<ApiState>) -> Html<String> {
    Html(page::render(&status_doc(&state)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        let (ok, body) = health(&state);
        assert!(ok, "{body}");
        assert!(body["components"].get("ping").is_none(), "{body}");
        // An input that fails still does.
        telemetry.component("syslog", "input").set_healthy(false);
        assert!(!health(&state).0);
    }
}

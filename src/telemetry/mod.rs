//! The service's own numbers: counters, gauges and per-component state (last success, last
//! error, health). `/metrics`, `/status`, `/healthz` and `nocbox status` all read this one store.
//!
//! Names are `nocbox.<component>.<name>` with low-cardinality labels (`reason`, `transport`,
//! `output`). Hot paths look a counter up once and keep the handle.

pub mod logging;
pub mod prometheus;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

pub use prometheus::render as render_prometheus;

type Labels = Vec<(String, String)>;

/// A monotonically increasing count.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (queue depth, open connections).
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    pub fn add(&self, v: i64) {
        self.0.fetch_add(v, Ordering::Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
struct ComponentInner {
    healthy: AtomicBool,
    /// Running but not fit to serve (NTP without a synchronised upstream): `/healthz/<name>`
    /// and its TCP health-check listener fail, the overall `/healthz` does not.
    out_of_service: AtomicBool,
    /// Milliseconds since the epoch of the last success (0 = never): an atomic, because inputs
    /// record a success per message.
    last_success_ms: AtomicI64,
    state: Mutex<ComponentState>,
}

#[derive(Clone, Debug, Default)]
struct ComponentState {
    kind: String,
    detail: BTreeMap<String, String>,
    last_error: Option<(DateTime<Utc>, String)>,
    /// What the latest run found, in one line (a check's status message).
    message: Option<String>,
}

/// One input, output or check as shown by `/status` and `/healthz/<name>`.
#[derive(Clone, Debug, Default)]
pub struct Component(Arc<ComponentInner>);

impl Component {
    /// Marks the component able (or unable) to do its job; `/healthz` reads this.
    pub fn set_healthy(&self, healthy: bool) {
        self.0.healthy.store(healthy, Ordering::Relaxed);
    }
    pub fn is_healthy(&self) -> bool {
        self.0.healthy.load(Ordering::Relaxed)
    }
    /// Marks a running component fit (or unfit) to serve; see `out_of_service`.
    pub fn set_in_service(&self, in_service: bool) {
        self.0.out_of_service.store(!in_service, Ordering::Relaxed);
    }
    /// Healthy and in service: what the component's own health check reports.
    pub fn is_serving(&self) -> bool {
        self.is_healthy() && !self.0.out_of_service.load(Ordering::Relaxed)
    }
    /// Records a success now.
    pub fn success(&self) {
        self.success_at(Utc::now());
    }
    pub fn success_at(&self, at: DateTime<Utc>) {
        self.0
            .last_success_ms
            .fetch_max(at.timestamp_millis(), Ordering::Relaxed);
    }
    /// Records an error message now. Callers must not put secrets in it.
    pub fn error(&self, message: impl std::fmt::Display) {
        lock(&self.0.state).last_error = Some((Utc::now(), message.to_string()));
    }
    /// A free-form status detail (`listen` address, `endpoint`, `connected`...).
    pub fn set_detail(&self, key: &str, value: impl std::fmt::Display) {
        lock(&self.0.state)
            .detail
            .insert(key.to_string(), value.to_string());
    }
    /// The latest outcome in one line, for people (`sw1:22: 10.0.0.1 ok in 1.3 ms; ...`).
    pub fn set_message(&self, message: impl Into<String>) {
        lock(&self.0.state).message = Some(message.into());
    }
    pub fn message(&self) -> Option<String> {
        lock(&self.0.state).message.clone()
    }
    fn last_success(&self) -> Option<DateTime<Utc>> {
        match self.0.last_success_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    pub fn last_error(&self) -> Option<String> {
        lock(&self.0.state)
            .last_error
            .as_ref()
            .map(|(_, m)| m.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a telemetry lock must not take the whole service's status with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Default)]
struct Inner {
    counters: Mutex<BTreeMap<(String, Labels), Counter>>,
    gauges: Mutex<BTreeMap<(String, Labels), Gauge>>,
    components: Mutex<BTreeMap<String, Component>>,
    started: Mutex<Option<DateTime<Utc>>>,
    draining: AtomicBool,
}

/// The store. Cheap to clone; every clone shares the same numbers.
#[derive(Clone, Debug, Default)]
pub struct Telemetry(Arc<Inner>);

fn key(name: &str, labels: &[(&str, &str)]) -> (String, Labels) {
    let mut l: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    (name.to_string(), l)
}

impl Telemetry {
    pub fn new() -> Self {
        let t = Telemetry::default();
        *lock(&t.0.started) = Some(Utc::now());
        t
    }

    /// Marks the service as stopping: every health check fails from now on.
    pub fn set_draining(&self) {
        self.0.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Relaxed)
    }

    /// The counter `name{labels}`, created at zero on first use.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Counter {
        lock(&self.0.counters)
            .entry(key(name, labels))
            .or_default()
            .clone()
    }

    /// The gauge `name{labels}`, created at zero on first use.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Gauge {
        lock(&self.0.gauges)
            .entry(key(name, labels))
            .or_default()
            .clone()
    }

    /// The component `name` (an input such as `syslog`, an output such as `datadog_logs`).
    pub fn component(&self, name: &str, kind: &str) -> Component {
        let c = lock(&self.0.components)
            .entry(name.to_string())
            .or_default()
            .clone();
        lock(&c.0.state).kind = kind.to_string();
        c
    }

    /// Forgets a component (a discovered device that is no longer polled).
    pub fn remove_component(&self, name: &str) {
        lock(&self.0.components).remove(name);
    }

    /// Components of one kind (`input`, `output`, `check`), by name.
    pub fn components(&self, kind: &str) -> Vec<(String, Component)> {
        lock(&self.0.components)
            .iter()
            .filter(|(_, c)| lock(&c.0.state).kind == kind)
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect()
    }

    pub fn find_component(&self, name: &str) -> Option<Component> {
        lock(&self.0.components).get(name).cloned()
    }

    /// Sum of a counter over all label sets whose labels include `filter`.
    pub fn counter_sum(&self, name: &str, filter: &[(&str, &str)]) -> u64 {
        lock(&self.0.counters)
            .iter()
            .filter(|((n, l), _)| {
                n == name
                    && filter
                        .iter()
                        .all(|(fk, fv)| l.iter().any(|(k, v)| k == fk && v == fv))
            })
            .map(|(_, c)| c.get())
            .sum()
    }

    fn counters_snapshot(&self) -> Vec<(String, Labels, u64)> {
        lock(&self.0.counters)
            .iter()
            .map(|((n, l), c)| (n.clone(), l.clone(), c.get()))
            .collect()
    }

    fn gauges_snapshot(&self) -> Vec<(String, Labels, i64)> {
        lock(&self.0.gauges)
            .iter()
            .map(|((n, l), g)| (n.clone(), l.clone(), g.get()))
            .collect()
    }

    /// The counters that belong to a component: an input `syslog` owns `nocbox.syslog.*`; an
    /// output owns every counter labelled `output=<name>`, a check every counter labelled
    /// `check=<name>`. Keyed `name{labels}`.
    fn component_totals(&self, name: &str, kind: &str) -> BTreeMap<String, u64> {
        let prefix = format!("nocbox.{name}.");
        self.counters_snapshot()
            .into_iter()
            .filter_map(|(n, l, v)| {
                let mine = match kind {
                    "output" => l.iter().any(|(k, val)| k == "output" && val == name),
                    "check" => {
                        n.starts_with(&prefix)
                            || l.iter().any(|(k, val)| k == "check" && val == name)
                    }
                    _ => n.starts_with(&prefix),
                };
                if !mine {
                    return None;
                }
                let short = n.strip_prefix("nocbox.").unwrap_or(&n).to_string();
                let rest: Vec<String> = l
                    .iter()
                    .filter(|(k, _)| k != "output" && k != "check")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let key = if rest.is_empty() {
                    short
                } else {
                    format!("{short}{{{}}}", rest.join(","))
                };
                Some((key, v))
            })
            .collect()
    }

    /// The `/status` document: components with state, and every counter and gauge.
    pub fn status_json(&self) -> Value {
        let mut comps = serde_json::Map::new();
        for (name, c) in lock(&self.0.components).iter() {
            let st = lock(&c.0.state).clone();
            comps.insert(
                name.clone(),
                json!({
                    "kind": st.kind,
                    "state": state_word(c.is_serving(), &st, c.last_success()),
                    "totals": self.component_totals(name, &st.kind),
                    "healthy": c.is_healthy(),
                    "in_service": c.is_serving(),
                    "detail": st.detail,
                    "message": st.message,
                    "last_success": c.last_success().map(fmt_time),
                    "last_error": st.last_error.as_ref().map(|(_, m)| m.clone()),
                    "last_error_at": st.last_error.as_ref().map(|(t, _)| fmt_time(*t)),
                }),
            );
        }
        let counters: Vec<Value> = self
            .counters_snapshot()
            .into_iter()
            .map(|(n, l, v)| json!({"name": n, "labels": labels_map(&l), "value": v}))
            .collect();
        let gauges: Vec<Value> = self
            .gauges_snapshot()
            .into_iter()
            .map(|(n, l, v)| json!({"name": n, "labels": labels_map(&l), "value": v}))
            .collect();
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "started": lock(&self.0.started).map(fmt_time),
            "draining": self.is_draining(),
            "components": comps,
            "counters": counters,
            "gauges": gauges,
        })
    }
}

/// `ERROR` when the component cannot work, `WARNING` when its latest outcome was an error,
/// `OK` otherwise (the words `datadog-agent status` users know).
fn state_word(
    healthy: bool,
    st: &ComponentState,
    last_success: Option<DateTime<Utc>>,
) -> &'static str {
    match (healthy, &st.last_error, last_success) {
        (false, ..) => "ERROR",
        (true, Some((at, _)), Some(ok)) if *at > ok => "WARNING",
        (true, Some(_), None) => "WARNING",
        _ => "OK",
    }
}

fn labels_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter().cloned().collect()
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_the_latest_outcome() {
        let t = Telemetry::new();
        let c = t.component("datadog_logs", "output");
        t.counter("nocbox.output.sent", &[("output", "datadog_logs")])
            .add(3);
        let state = |t: &Telemetry| t.status_json()["components"]["datadog_logs"]["state"].clone();
        assert_eq!(state(&t), "ERROR");
        c.set_healthy(true);
        assert_eq!(state(&t), "OK");
        c.error("503 from the intake");
        assert_eq!(state(&t), "WARNING");
        std::thread::sleep(std::time::Duration::from_millis(2));
        c.success();
        assert_eq!(state(&t), "OK");
        assert_eq!(
            t.status_json()["components"]["datadog_logs"]["totals"]["output.sent"],
            3
        );
    }

    #[test]
    fn counters_are_shared_and_summed_by_label() {
        let t = Telemetry::new();
        t.counter("nocbox.x.dropped", &[("reason", "a"), ("output", "o")])
            .inc();
        t.counter("nocbox.x.dropped", &[("output", "o"), ("reason", "a")])
            .add(2);
        t.counter("nocbox.x.dropped", &[("reason", "b"), ("output", "o")])
            .inc();
        assert_eq!(t.counter_sum("nocbox.x.dropped", &[("reason", "a")]), 3);
        assert_eq!(t.counter_sum("nocbox.x.dropped", &[("output", "o")]), 4);
    }
}

//! Datadog forwarding: logs (`outputs.datadog.logs`, component `datadog_logs`) and metrics
//! (`outputs.datadog.metrics`, component `datadog_metrics`), each an output with its own queue.
//! Owns the choice of transport and endpoints and the setup checks (CA file, URLs, API key;
//! `check_endpoints` runs them without IO for `nocbox validate`).
//!
//! Logs go over `http.rs` (the default: batched, gzip, proof of delivery by 2xx) or `tcp.rs`
//! (one line per log over TLS, at least once but unproven); metrics over `metrics.rs` to the
//! series API. Both HTTP outputs share the batching loop (`pump.rs`) and the delivery with
//! retry (`deliver.rs`). Must never log or show the API key: it goes only into the
//! `DD-API-KEY` header (marked sensitive) or the TCP line prefix.

mod deliver;
mod http;
mod mark;
mod metrics;
mod payload;
mod pump;
mod series;
mod tcp;
mod transport;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use reqwest::header::HeaderValue;
use reqwest::Url;
use rustls::ClientConfig;

use super::backoff::BackoffPolicy;
use super::stream::{self, StreamConfig, Target};
use super::OutputContext;
use crate::config::{DatadogConfig, LogsTransport};
use crate::pipeline::EventRx;

/// A problem found before any event is consumed. Messages never contain the API key.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("outputs.datadog.ca_file: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("outputs.datadog.logs.endpoint: {0}")]
    Endpoint(String),
    #[error("outputs.datadog.endpoint: {0}")]
    ApiEndpoint(String),
    #[error("outputs.datadog.api_key: {0}")]
    ApiKey(&'static str),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What `run_logs` starts, every setup check passed.
enum Plan {
    Http { url: Url, api_key: HeaderValue },
    Tcp { target: Target, api_key: String },
}

/// Every setup check that needs no network IO (the CA file is read): endpoint form, plain http
/// only to loopback, TCP `host:port` and TLS server name, API key usable. `run_logs` fails with
/// exactly these errors; `nocbox validate` and the start call this to fail early.
pub fn check_endpoints(cfg: &DatadogConfig) -> Result<(), String> {
    plan(cfg).map_err(|e| e.to_string())?;
    if cfg.metrics.enabled {
        metrics_plan(cfg).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn plan(cfg: &DatadogConfig) -> Result<(Arc<ClientConfig>, Plan), SetupError> {
    let tls = crate::tls::client_config(cfg.ca_file.as_deref())?;
    let key = api_key(cfg.api_key.expose())?;
    let plan = match cfg.logs.transport {
        LogsTransport::Http => Plan::Http {
            url: http_url(cfg)?,
            api_key: key_header(key)?,
        },
        LogsTransport::Tcp => {
            let (host, port) = tcp_endpoint(cfg)?;
            let t = stream::tls_target(tls.clone(), &host).map_err(SetupError::Endpoint)?;
            let target = Target {
                host,
                port,
                tls: Some(t),
            };
            Plan::Tcp {
                target,
                api_key: key.to_string(),
            }
        }
    };
    Ok((tls, plan))
}

/// The series URL and the key header, for `run_metrics`.
fn metrics_plan(cfg: &DatadogConfig) -> Result<(Url, HeaderValue), SetupError> {
    let key = api_key(cfg.api_key.expose())?;
    Ok((series_url(cfg)?, key_header(key)?))
}

/// The `DD-API-KEY` value, marked sensitive so it never shows in debug output.
fn key_header(key: &str) -> Result<HeaderValue, SetupError> {
    let mut h = HeaderValue::from_str(key)
        .map_err(|_| SetupError::ApiKey("not a valid HTTP header value"))?;
    h.set_sensitive(true);
    Ok(h)
}

/// The key as sent: surrounding whitespace (the newline a secrets file ends with) trimmed;
/// anything else that is not printable ASCII refused, since it would break the header or the
/// TCP line framing (`<key> <json>`).
pub fn api_key(raw: &str) -> Result<&str, SetupError> {
    let key = raw.trim();
    if key.is_empty() {
        return Err(SetupError::ApiKey(
            "is empty (is the environment variable or secret behind it set?)",
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SetupError::ApiKey(
            "contains whitespace, a control character or a non-ASCII character \
             (surrounding whitespace is ignored); a Datadog API key is 32 hex digits",
        ));
    }
    Ok(key)
}

/// Forwards the log events of `rx` to Datadog until the queue closes (drain) or
/// `ctx.hard_stop` fires. `Err` only for setup problems (the same as `check_endpoints`, plus
/// building the HTTP client), returned at once, before any event is consumed.
pub async fn run_logs(cfg: DatadogConfig, rx: EventRx, ctx: OutputContext) -> anyhow::Result<()> {
    let (tls, plan) = plan(&cfg)?;
    match plan {
        Plan::Http { url, api_key } => {
            let l = &cfg.logs;
            let (client, post) = http_setup(&tls, url, api_key, l.timeout, l.flush_interval)?;
            http::run(post, l.mark_interval, client, rx, ctx).await;
        }
        Plan::Tcp { target, api_key } => {
            tcp::run(
                StreamConfig::new(target),
                api_key,
                cfg.logs.mark_interval,
                rx,
                ctx,
            )
            .await;
        }
    }
    Ok(())
}

/// Forwards the metric events of `rx` to the series API until the queue closes (drain) or
/// `ctx.hard_stop` fires. `Err` only for setup problems, returned before any event is consumed.
pub async fn run_metrics(
    cfg: DatadogConfig,
    rx: EventRx,
    ctx: OutputContext,
) -> anyhow::Result<()> {
    let tls = crate::tls::client_config(cfg.ca_file.as_deref()).map_err(SetupError::from)?;
    let (url, api_key) = metrics_plan(&cfg)?;
    let m = &cfg.metrics;
    let (client, post) = http_setup(&tls, url, api_key, m.timeout, m.flush_interval)?;
    metrics::run(post, series::Limits::default(), client, rx, ctx).await;
    Ok(())
}

/// The client of an HTTP output and where it posts, with the default back-off.
fn http_setup(
    tls: &ClientConfig,
    url: Url,
    api_key: HeaderValue,
    timeout: std::time::Duration,
    flush_interval: std::time::Duration,
) -> Result<(reqwest::Client, deliver::Post), SetupError> {
    let client = deliver::client(tls, timeout)?;
    let post = deliver::Post {
        url,
        api_key,
        flush_interval,
        policy: BackoffPolicy::DEFAULT,
    };
    Ok((client, post))
}

const LOGS_PATH: &str = "/api/v2/logs";
const SERIES_PATH: &str = "/api/v2/series";

/// The logs POST URL: `logs.endpoint` (a base URL, or already ending in `/api/v2/logs`), else
/// the site's intake.
pub fn http_url(cfg: &DatadogConfig) -> Result<Url, SetupError> {
    match &cfg.logs.endpoint {
        Some(e) => post_url(e, LOGS_PATH).map_err(SetupError::Endpoint),
        None => post_url(&format!("https://http-intake.logs.{}", cfg.site), LOGS_PATH)
            .map_err(SetupError::Endpoint),
    }
}

/// The series POST URL: `endpoint` (a base URL, or already ending in `/api/v2/series`), else
/// `https://api.<site>`.
pub fn series_url(cfg: &DatadogConfig) -> Result<Url, SetupError> {
    let base = match &cfg.endpoint {
        Some(e) => e.clone(),
        None => format!("https://api.{}", cfg.site),
    };
    post_url(&base, SERIES_PATH).map_err(SetupError::ApiEndpoint)
}

/// `e` with `path` appended unless it already ends in it. Plain `http://` is refused unless the
/// host is loopback: it would send the API key in clear text.
fn post_url(e: &str, path: &str) -> Result<Url, String> {
    let mut url = Url::parse(e).map_err(|err| format!("`{e}` is not a URL: {err}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err(format!("`{e}`: want https://host[:port]"));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err("http:// sends the API key unencrypted; use https:// \
             (plain http is allowed only to loopback, for tests)"
            .into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        // They would show in `/status` and in error messages.
        return Err("credentials in the URL are not supported; remove `user:password@`".into());
    }
    if !url.path().trim_end_matches('/').ends_with(path) {
        let p = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&p);
    }
    Ok(url)
}

/// `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(url: &Url) -> bool {
    // `host_str` is lower-cased, with IPv6 literals in brackets.
    let host = url.host_str().unwrap_or("");
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// `host:port` of the TCP intake: `logs.endpoint`, else the site's (only US1 and EU have one).
pub fn tcp_endpoint(cfg: &DatadogConfig) -> Result<(String, u16), SetupError> {
    if let Some(e) = &cfg.logs.endpoint {
        return stream::split_host_port(e)
            .ok_or_else(|| SetupError::Endpoint(format!("`{e}` is not host:port")));
    }
    match cfg.site.as_str() {
        "datadoghq.com" => Ok(("intake.logs.datadoghq.com".into(), 10516)),
        "datadoghq.eu" => Ok(("tcp-intake.logs.datadoghq.eu".into(), 443)),
        s => Err(SetupError::Endpoint(format!(
            "Datadog has no TCP log intake for site {s}; use transport: http"
        ))),
    }
}

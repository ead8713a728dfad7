//! Datadog log forwarding (`outputs.datadog.logs`), component `datadog_logs`. Owns the choice of
//! transport and endpoint and the setup checks (CA file, URL, API key; `check_endpoints` runs
//! them without IO for `nocbox validate`); the transports
//! live in `http.rs` (the default: batched, gzip, proof of delivery by 2xx) and `tcp.rs` (one
//! line per log over TLS, at least once but unproven). Must never log or show the API key:
//! it goes only into the `DD-API-KEY` header (marked sensitive) or the TCP line prefix.
//!
//! Metric events in the queue are ignored (a later metrics output takes them).

mod http;
mod mark;
mod payload;
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
    plan(cfg).map(|_| ()).map_err(|e| e.to_string())
}

fn plan(cfg: &DatadogConfig) -> Result<(Arc<ClientConfig>, Plan), SetupError> {
    let tls = crate::tls::client_config(cfg.ca_file.as_deref())?;
    let key = api_key(cfg.api_key.expose())?;
    let plan = match cfg.logs.transport {
        LogsTransport::Http => {
            let url = http_url(cfg)?;
            let mut api_key = HeaderValue::from_str(key)
                .map_err(|_| SetupError::ApiKey("not a valid HTTP header value"))?;
            api_key.set_sensitive(true);
            Plan::Http { url, api_key }
        }
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
            let client = http::client(&tls, cfg.logs.timeout).map_err(SetupError::from)?;
            let s = http::HttpSettings {
                url,
                api_key,
                flush_interval: cfg.logs.flush_interval,
                mark_interval: cfg.logs.mark_interval,
                policy: BackoffPolicy::DEFAULT,
            };
            http::run(s, client, rx, ctx).await;
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

const LOGS_PATH: &str = "/api/v2/logs";

/// The POST URL: `logs.endpoint` (a base URL, or already ending in `/api/v2/logs`), else the
/// site's intake. Plain `http://` is refused unless the host is loopback: it would send the API
/// key in clear text.
pub fn http_url(cfg: &DatadogConfig) -> Result<Url, SetupError> {
    let Some(e) = &cfg.logs.endpoint else {
        let u = format!("https://http-intake.logs.{}{LOGS_PATH}", cfg.site);
        return Url::parse(&u).map_err(|err| SetupError::Endpoint(format!("`{u}`: {err}")));
    };
    let mut url =
        Url::parse(e).map_err(|err| SetupError::Endpoint(format!("`{e}` is not a URL: {err}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err(SetupError::Endpoint(format!(
            "`{e}`: want https://host[:port]"
        )));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(SetupError::Endpoint(
            "http:// sends the API key unencrypted; use https:// \
             (plain http is allowed only to loopback, for tests)"
                .into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // They would show in `/status` and in error messages.
        return Err(SetupError::Endpoint(
            "credentials in the URL are not supported; remove `user:password@`".into(),
        ));
    }
    if !url.path().trim_end_matches('/').ends_with(LOGS_PATH) {
        let path = format!("{}{LOGS_PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
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

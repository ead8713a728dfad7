//! Datadog log forwarding (`outputs.datadog.logs`), component `datadog_logs`. Owns the choice of
//! transport and endpoint and the setup checks (CA file, URL, API key header); the transports
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

use reqwest::header::HeaderValue;
use reqwest::Url;

use super::backoff::BackoffPolicy;
use super::stream::{self, StreamConfig, Target};
use super::OutputContext;
use crate::config::{DatadogConfig, LogsTransport};
use crate::pipeline::EventRx;

/// A problem found before any event is consumed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("outputs.datadog.ca_file: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("outputs.datadog.logs.endpoint: {0}")]
    Endpoint(String),
    #[error("outputs.datadog.api_key: not a valid HTTP header value")]
    ApiKey,
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Forwards the log events of `rx` to Datadog until the queue closes (drain) or
/// `ctx.hard_stop` fires. `Err` only for setup problems, before any event is consumed.
pub async fn run_logs(cfg: DatadogConfig, rx: EventRx, ctx: OutputContext) -> anyhow::Result<()> {
    let tls = crate::tls::client_config(cfg.ca_file.as_deref()).map_err(SetupError::from)?;
    match cfg.logs.transport {
        LogsTransport::Http => {
            let url = http_url(&cfg)?;
            warn_if_cleartext(&url);
            let mut api_key =
                HeaderValue::from_str(cfg.api_key.expose()).map_err(|_| SetupError::ApiKey)?;
            api_key.set_sensitive(true);
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
        LogsTransport::Tcp => {
            let (host, port) = tcp_endpoint(&cfg)?;
            let tls = stream::tls_target(tls, &host).map_err(SetupError::Endpoint)?;
            let target = Target {
                host,
                port,
                tls: Some(tls),
            };
            let key = cfg.api_key.expose().to_string();
            tcp::run(
                StreamConfig::new(target),
                key,
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
/// site's intake.
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
    if !url.path().trim_end_matches('/').ends_with(LOGS_PATH) {
        let path = format!("{}{LOGS_PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url)
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

/// Plain http is allowed for local tests; anywhere else it would send the key in clear text.
fn warn_if_cleartext(url: &Url) {
    let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    if url.scheme() == "http" && !loopback {
        tracing::warn!(
            endpoint = %url,
            "Datadog logs endpoint is plain http: the API key travels unencrypted"
        );
    }
}

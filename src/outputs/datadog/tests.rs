//! Datadog output tests: endpoint rules, and both transports against tiny local peers on
//! 127.0.0.1 (a scripted HTTP/1.1 responder, a plain-TCP line sink).

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::{DatadogLogsConfig, Secret};
use crate::event::Event;
use crate::telemetry::Telemetry;

fn dd(endpoint: Option<&str>, site: &str, transport: LogsTransport) -> DatadogConfig {
    DatadogConfig {
        api_key: Secret::new("k"),
        site: site.into(),
        endpoint: None,
        ca_file: None,
        logs: DatadogLogsConfig {
            transport,
            endpoint: endpoint.map(str::to_string),
            ..DatadogLogsConfig::default()
        },
        metrics: Default::default(),
    }
}

#[test]
fn http_url_rules() {
    let u =
        |e: Option<&str>, site| http_url(&dd(e, site, LogsTransport::Http)).map(|u| u.to_string());
    assert_eq!(
        u(None, "datadoghq.eu").unwrap(),
        "https://http-intake.logs.datadoghq.eu/api/v2/logs"
    );
    assert_eq!(
        u(Some("https://127.0.0.1:8443"), "").unwrap(),
        "https://127.0.0.1:8443/api/v2/logs"
    );
    assert_eq!(
        u(Some("http://127.0.0.1:1/proxy/"), "").unwrap(),
        "http://127.0.0.1:1/proxy/api/v2/logs"
    );
    assert!(u(Some("http://localhost:8126"), "").is_ok());
    assert!(u(Some("http://[::1]:8126"), "").is_ok());
    assert_eq!(
        u(Some("https://h/api/v2/logs"), "").unwrap(),
        "https://h/api/v2/logs"
    );
    assert!(u(Some("ftp://h"), "").is_err());
    assert!(u(Some("not a url"), "").is_err());
    assert!(u(Some("https://user:pw@h"), "").is_err());
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    for e in [
        "http://h:1/proxy/",
        "http://http-intake.logs.datadoghq.com",
        "http://10.0.0.1:8080",
        "http://localhost.example.com",
    ] {
        let err = check_endpoints(&dd(Some(e), "datadoghq.com", LogsTransport::Http)).unwrap_err();
        assert_eq!(
            err,
            "outputs.datadog.logs.endpoint: http:// sends the API key unencrypted; use https:// \
             (plain http is allowed only to loopback, for tests)",
            "{e}"
        );
    }
}

#[tokio::test]
async fn plain_http_to_a_remote_host_fails_the_setup_at_once() {
    let c = dd(
        Some("http://192.0.2.1:80"),
        "datadoghq.com",
        LogsTransport::Http,
    );
    let (_tx, rx) = mpsc::channel(1);
    let run = run_logs(c, rx, ctx(&Telemetry::new(), CancellationToken::new()));
    let err = tokio::time::timeout(Duration::from_secs(1), run)
        .await
        .expect("setup errors come back at once")
        .unwrap_err();
    assert!(err.to_string().contains("unencrypted"), "{err}");
}

#[test]
fn check_endpoints_covers_every_setup_check() {
    let ok = |c: &DatadogConfig| check_endpoints(c);
    assert_eq!(ok(&dd(None, "datadoghq.com", LogsTransport::Http)), Ok(()));
    assert_eq!(ok(&dd(None, "datadoghq.eu", LogsTransport::Tcp)), Ok(()));
    assert_eq!(
        ok(&dd(Some("127.0.0.1:10516"), "", LogsTransport::Tcp)),
        Ok(())
    );
    let err = |c: &DatadogConfig| check_endpoints(c).unwrap_err();
    assert!(err(&dd(Some("nope"), "", LogsTransport::Tcp)).contains("not host:port"));
    assert!(err(&dd(None, "us5.datadoghq.com", LogsTransport::Tcp)).contains("no TCP log intake"));
    assert!(err(&dd(Some("bad name!:10516"), "", LogsTransport::Tcp))
        .contains("not a valid TLS server name"));
    assert!(err(&dd(Some("not a url"), "", LogsTransport::Http)).contains("not a URL"));
    let mut c = dd(None, "datadoghq.com", LogsTransport::Tcp);
    c.ca_file = Some("/nonexistent/ca.pem".into());
    let e = err(&c);
    assert!(
        e.starts_with("outputs.datadog.ca_file") && e.contains("/nonexistent/ca.pem"),
        "{e}"
    );
}

#[test]
fn api_key_is_trimmed_and_checked_without_showing_it() {
    assert_eq!(api_key("0123abcd\n").unwrap(), "0123abcd");
    assert_eq!(api_key("  0123abcd \r\n").unwrap(), "0123abcd");
    for bad in [
        "",
        " \n",
        "0123 abcd",
        "0123\tabcd",
        "01\u{7f}23",
        "0123\u{e9}",
        "ab\ncd",
    ] {
        for transport in [LogsTransport::Http, LogsTransport::Tcp] {
            let mut c = dd(None, "datadoghq.com", transport);
            c.api_key = Secret::new(bad);
            let e = check_endpoints(&c).unwrap_err();
            assert!(e.starts_with("outputs.datadog.api_key: "), "{e}");
            if bad.trim().len() > 2 {
                assert!(!e.contains(bad.trim()), "{e}");
            }
        }
    }
    // the trimmed key is the one that is sent
    let mut c = dd(None, "datadoghq.com", LogsTransport::Tcp);
    c.api_key = Secret::new("KEY\n");
    let Ok((_, Plan::Tcp { api_key, .. })) = plan(&c) else {
        panic!("tcp plan")
    };
    assert_eq!(api_key, "KEY");
    c.logs.transport = LogsTransport::Http;
    let Ok((_, Plan::Http { api_key, .. })) = plan(&c) else {
        panic!("http plan")
    };
    assert_eq!(api_key.as_bytes(), b"KEY");
}

#[test]
fn debug_output_never_shows_the_key() {
    let s = format!("{:?}", post("http://127.0.0.1:1", "/api/v2/logs"));
    assert!(!s.contains("secret-key"), "{s}");
    assert!(s.contains("127.0.0.1"), "{s}");
}

#[test]
fn tcp_endpoint_rules() {
    let t = |e: Option<&str>, site| tcp_endpoint(&dd(e, site, LogsTransport::Tcp)).ok();
    assert_eq!(
        t(None, "datadoghq.com"),
        Some(("intake.logs.datadoghq.com".into(), 10516))
    );
    assert_eq!(
        t(None, "datadoghq.eu"),
        Some(("tcp-intake.logs.datadoghq.eu".into(), 443))
    );
    assert_eq!(t(None, "us5.datadoghq.com"), None);
    assert_eq!(
        t(Some("127.0.0.1:10516"), "us5.datadoghq.com"),
        Some(("127.0.0.1".into(), 10516))
    );
}

#[tokio::test]
async fn bad_ca_file_is_a_setup_error() {
    let mut c = dd(None, "datadoghq.com", LogsTransport::Http);
    c.ca_file = Some("/nonexistent/ca.pem".into());
    let (_tx, rx) = mpsc::channel(1);
    let err = run_logs(c, rx, ctx(&Telemetry::new(), CancellationToken::new()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

fn ctx(t: &Telemetry, stop: CancellationToken) -> OutputContext {
    OutputContext {
        telemetry: t.clone(),
        hard_stop: stop,
        hostname: "nocbox-test".into(),
        tags: vec!["env:test".into()],
    }
}

use crate::event::samples::{log, metric};

#[path = "metrics_tests.rs"]
mod metrics_tests;

/// One request as the responder saw it: head (request line + headers) and the gunzipped body.
#[derive(Debug)]
struct Seen {
    head: String,
    body: Value,
    /// Bytes on the wire (gzip).
    wire: usize,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A one-request-per-connection HTTP/1.1 server answering `script[i]` to request `i` (the last
/// code repeats).
async fn responder(script: Vec<u16>) -> (String, Log) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let seen: Log = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        for i in 0.. {
            let Ok((s, _)) = l.accept().await else { return };
            let code = script[i.min(script.len() - 1)];
            serve_one(s, code, &log).await;
        }
    });
    (base, seen)
}

async fn serve_one(mut s: TcpStream, code: u16, log: &Log) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match s.read(&mut chunk).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match s.read(&mut chunk).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    }
    let mut raw = String::new();
    flate2::read::GzDecoder::new(&buf[head_end..head_end + len])
        .read_to_string(&mut raw)
        .unwrap();
    log.lock().unwrap().push(Seen {
        head,
        body: serde_json::from_str(&raw).unwrap(),
        wire: len,
    });
    let resp = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\
         Connection: close\r\n\r\n{{\"errors\":[1]}}"
    );
    let _ = s.write_all(resp.as_bytes()).await;
}

/// Where a test output posts: `base` + `path`, short flush and back-off.
fn post(base: &str, path: &str) -> deliver::Post {
    let mut key = HeaderValue::from_static("secret-key");
    key.set_sensitive(true);
    deliver::Post {
        url: Url::parse(&format!("{base}{path}")).unwrap(),
        api_key: key,
        flush_interval: Duration::from_millis(50),
        policy: BackoffPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(40),
        },
    }
}

fn test_client() -> reqwest::Client {
    crate::tls::install_provider();
    let tls = crate::tls::client_config(None).unwrap();
    deliver::client(&tls, Duration::from_secs(5)).unwrap()
}

/// Runs an output (`run(base URL, client, queue, context)`) against a responder answering
/// `script`, over `events` (the queue then closes); returns the telemetry and what was seen.
async fn drive<F, Fut>(script: Vec<u16>, events: Vec<Arc<Event>>, run: F) -> (Telemetry, Log)
where
    F: FnOnce(String, reqwest::Client, crate::pipeline::EventRx, OutputContext) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (base, seen) = responder(script).await;
    let t = Telemetry::new();
    let (tx, rx) = mpsc::channel(1000);
    for e in events {
        tx.send(e).await.unwrap();
    }
    drop(tx);
    let out = run(base, test_client(), rx, ctx(&t, CancellationToken::new()));
    tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .unwrap();
    (t, seen)
}

/// The logs loop over `events`.
async fn run_http(script: Vec<u16>, events: Vec<Arc<Event>>, marks: Duration) -> (Telemetry, Log) {
    drive(script, events, |base, client, rx, ctx| {
        http::run(post(&base, "/api/v2/logs"), marks, client, rx, ctx)
    })
    .await
}

fn n(t: &Telemetry, name: &str, reason: Option<&str>) -> u64 {
    let mut f = vec![("output", "datadog_logs")];
    if let Some(r) = reason {
        f.push(("reason", r));
    }
    t.counter_sum(name, &f)
}

#[tokio::test]
async fn retries_5xx_with_the_same_batch_and_delivers_exactly_once() {
    let (t, seen) = run_http(
        vec![503, 503, 202],
        vec![log("a"), metric(), log("b")],
        Duration::ZERO,
    )
    .await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for s in seen.iter() {
        assert_eq!(s.body, seen[0].body, "a retry must resend the same batch");
        let h = s.head.to_ascii_lowercase();
        assert!(h.starts_with("post /api/v2/logs http/1.1"), "{h}");
        assert!(h.contains("dd-api-key: secret-key"));
        assert!(h.contains("content-type: application/json"));
        assert!(h.contains("content-encoding: gzip"));
        assert!(h.contains("user-agent: nocbox/"));
    }
    assert_eq!(seen[0].body.as_array().unwrap().len(), 2);
    assert_eq!(seen[0].body[1]["message"], "b");
    assert_eq!(n(&t, "nocbox.output.sent", None), 2);
    assert_eq!(n(&t, "nocbox.output.failed", Some("http_5xx")), 2);
    assert_eq!(n(&t, "nocbox.output.retries", None), 2);
    assert_eq!(n(&t, "nocbox.output.dropped", None), 0);
    let comp = t.find_component("datadog_logs").unwrap();
    assert!(comp.is_healthy());
    assert!(!comp.last_error().unwrap().contains("secret-key"));
}

#[tokio::test]
async fn status_413_splits_and_400_drops() {
    let (t, seen) = run_http(
        vec![413, 202, 400],
        vec![log("a"), log("b")],
        Duration::ZERO,
    )
    .await;
    let sizes: Vec<usize> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.body.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![2, 1, 1]);
    assert_eq!(n(&t, "nocbox.output.sent", None), 1);
    assert_eq!(n(&t, "nocbox.output.dropped", Some("http_400")), 1);
    let err = t
        .find_component("datadog_logs")
        .unwrap()
        .last_error()
        .unwrap();
    assert!(err.contains("{\"errors\":[1]}"), "{err}");

    let (t, _) = run_http(vec![413], vec![log("big")], Duration::ZERO).await;
    assert_eq!(
        n(&t, "nocbox.output.dropped", Some("http_413_too_large")),
        1
    );
    assert_eq!(n(&t, "nocbox.output.sent", None), 0);
}

#[tokio::test]
async fn bad_key_is_held_and_retried_never_dropped() {
    let (t, seen) = run_http(vec![401, 403, 202], vec![log("a")], Duration::ZERO).await;
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(n(&t, "nocbox.output.failed", Some("http_401")), 1);
    assert_eq!(n(&t, "nocbox.output.failed", Some("http_403")), 1);
    assert_eq!(n(&t, "nocbox.output.sent", None), 1);
    assert_eq!(n(&t, "nocbox.output.dropped", None), 0);
    // the refusal is shown in /status (health is left alone: a wrong key must not make the
    // orchestrator restart the task in a loop), without the key
    let comp = t.find_component("datadog_logs").unwrap();
    let err = comp.last_error().unwrap();
    assert!(err.contains("rejected the API key (403)"), "{err}");
    assert!(!err.contains("secret-key"), "{err}");
    assert!(comp.is_healthy());
}

#[tokio::test]
async fn marks_go_into_the_batch_and_are_not_counted_as_sent() {
    let (base, seen) = responder(vec![202]).await;
    let t = Telemetry::new();
    let (tx, rx) = mpsc::channel(10);
    let task = tokio::spawn(http::run(
        post(&base, "/api/v2/logs"),
        Duration::from_millis(40),
        test_client(),
        rx,
        ctx(&t, CancellationToken::new()),
    ));
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(tx);
    task.await.unwrap();
    let seen = seen.lock().unwrap();
    let first = &seen.first().expect("a mark was sent").body[0];
    assert_eq!(first["message"], "-- MARK --");
    assert_eq!(first["service"], "nocbox-mark");
    assert_eq!(first["ddtags"], "env:test,nocbox_mark:true");
    assert_eq!(first["hostname"], "nocbox-test");
    assert!(n(&t, "nocbox.output.marks", None) >= 1);
    assert_eq!(n(&t, "nocbox.output.sent", None), 0);
}

#[tokio::test]
async fn hard_stop_during_retries_counts_the_batch_and_the_queue() {
    let (base, _) = responder(vec![503]).await;
    let t = Telemetry::new();
    let stop = CancellationToken::new();
    let (tx, rx) = mpsc::channel(10);
    for m in ["a", "b", "c"] {
        tx.send(log(m)).await.unwrap();
    }
    let mut p = post(&base, "/api/v2/logs");
    p.flush_interval = Duration::from_millis(1);
    let task = tokio::spawn(http::run(
        p,
        Duration::ZERO,
        test_client(),
        rx,
        ctx(&t, stop.clone()),
    ));
    tokio::time::sleep(Duration::from_millis(150)).await;
    tx.send(log("queued")).await.unwrap();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(n(&t, "nocbox.output.failed", Some("http_5xx")) >= 2);
    assert_eq!(n(&t, "nocbox.output.dropped", Some("shutdown")), 4);
    assert_eq!(n(&t, "nocbox.output.sent", None), 0);
}

#[tokio::test]
async fn tcp_transport_writes_key_prefixed_json_lines_and_marks() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let reader = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    });
    let t = Telemetry::new();
    let (tx, rx) = mpsc::channel(10);
    let mut cfg = StreamConfig::new(Target {
        host: "127.0.0.1".into(),
        port,
        tls: None,
    });
    cfg.confirm_after = Duration::from_millis(50);
    let task = tokio::spawn(tcp::run(
        cfg,
        "KEY".into(),
        Duration::from_millis(30),
        rx,
        ctx(&t, CancellationToken::new()),
    ));
    tx.send(log("hello\nworld")).await.unwrap();
    tx.send(metric()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(tx);
    task.await.unwrap();
    let text = reader.await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l.strip_prefix("KEY ").expect("key prefix")).unwrap())
        .collect();
    let logs: Vec<_> = lines
        .iter()
        .filter(|v| v["service"] != "nocbox-mark")
        .collect();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["message"], "hello\nworld");
    assert!(lines.len() >= 2, "expected marks too: {text}");
    assert_eq!(n(&t, "nocbox.output.sent", None), 1);
    assert_eq!(n(&t, "nocbox.output.connects", None), 1);
    assert!(n(&t, "nocbox.output.marks", None) >= 1);
}

//! Reading reqwest's answers for people: the `failed{reason}` label of a transport error (TLS
//! told apart from connect), the cause chain for messages, and a bounded look at a refusal body.
//! No requests are made here.

use std::time::Duration;

use reqwest::Response;

/// Up to 1 KB of a response body, for the log line of a refused batch.
pub(super) async fn body_snippet(mut resp: Response) -> String {
    let mut out = Vec::new();
    while out.len() < 1024 {
        match tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await {
            Ok(Ok(Some(c))) => out.extend_from_slice(&c),
            _ => break,
        }
    }
    out.truncate(1024);
    String::from_utf8_lossy(&out).into_owned()
}

/// The `failed{reason}` label of a transport error.
pub(super) fn transport_reason(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if is_tls(e) {
        "tls"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if c.is::<rustls::Error>() {
            return true;
        }
        // io::Error::source() skips the error it wraps (hyper nests io errors two deep around
        // the rustls error), so step into it explicitly.
        cur = match c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    false
}

/// The causes of a reqwest error, `cause: root cause`: reqwest's own message only repeats the
/// URL, which the caller already names.
pub(super) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let Some(first) = e.source() else {
        return e.to_string();
    };
    let mut s = first.to_string();
    let mut cur = first.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

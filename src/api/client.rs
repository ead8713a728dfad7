//! `nocbox health` and `nocbox status`: small clients of the running service's API.

use anyhow::Context;
use serde_json::Value;

async fn get(url: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let full = format!("{}{}", url.trim_end_matches('/'), path);
    // Bundled roots, not the system store: the API is usually plain http on loopback, and a
    // minimal image may have no CA bundle at all.
    let tls = crate::tls::client_config(None).context("cannot set up TLS")?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .context("cannot build the HTTP client")?;
    let resp = client
        .get(&full)
        .send()
        .await
        .with_context(|| format!("cannot reach nocbox at {full}"))?;
    let code = resp.status().as_u16();
    Ok((code, resp.text().await.unwrap_or_default()))
}

/// True when `/healthz` answers 200; prints the problems otherwise.
pub async fn health(url: &str) -> anyhow::Result<bool> {
    let (code, body) = get(url, "/healthz").await?;
    if code == 200 {
        return Ok(true);
    }
    let problems = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["problems"].as_array().cloned())
        .unwrap_or_default();
    eprintln!("unhealthy (HTTP {code})");
    for p in problems {
        eprintln!("- {}", p.as_str().unwrap_or_default());
    }
    Ok(false)
}

/// Prints components, queues and counters in a readable table.
pub async fn status(url: &str) -> anyhow::Result<bool> {
    let (_, body) = get(url, "/status").await?;
    let doc: Value = serde_json::from_str(&body).context("the /status answer is not JSON")?;
    print!("{}", render(&doc));
    Ok(doc["healthy"] == Value::Bool(true))
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        o => o.to_string(),
    }
}

pub fn render(doc: &Value) -> String {
    let mut out = format!(
        "nocbox {} (started {}) healthy: {}\n\n",
        s(&doc["version"]),
        s(&doc["started"]),
        s(&doc["healthy"])
    );
    out.push_str(&format!(
        "{:<22} {:<7} {:<9} {:<26} {}\n",
        "COMPONENT", "KIND", "STATE", "LAST SUCCESS", "LAST ERROR"
    ));
    if let Some(comps) = doc["components"].as_object() {
        for (name, c) in comps {
            let state = s(&c["state"]);
            out.push_str(&format!(
                "{:<22} {:<7} {:<9} {:<26} {}\n",
                name,
                s(&c["kind"]),
                &state,
                s(&c["last_success"]),
                s(&c["last_error"])
            ));
            // Details (listen addresses, NTP upstream and offset...) on an indented line.
            let details: Vec<String> = c["detail"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={}", s(v)))
                .collect();
            if !details.is_empty() {
                out.push_str(&format!("{:<22} {}\n", "", details.join("  ")));
            }
            if let Some(m) = c["message"].as_str() {
                out.push_str(&format!("    {m}\n"));
            }
        }
    }
    out.push_str("\nQUEUES\n");
    for q in doc["queues"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:<22} {}/{}\n",
            s(&q["output"]),
            s(&q["depth"]),
            s(&q["capacity"])
        ));
    }
    out.push_str("\nCOUNTERS\n");
    for c in doc["counters"].as_array().into_iter().flatten() {
        let labels: Vec<String> = c["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", s(v)))
            .collect();
        out.push_str(&format!(
            "{:<40} {:<40} {}\n",
            s(&c["name"]),
            labels.join(","),
            s(&c["value"])
        ));
    }
    out
}

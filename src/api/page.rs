//! The status page at `/`: the `/status` document as plain HTML tables that refresh themselves
//! every 5 s. No scripts.

use std::fmt::Write;

use serde_json::Value;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn totals(v: &Value) -> String {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| format!("{}: {}", esc(k), esc(&text(n))))
        .collect::<Vec<_>>()
        .join("<br>")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}\
td,th{border:1px solid #999;padding:.25em .6em;vertical-align:top;text-align:left}\
.ok{background:#c8f0c8}.warning{background:#fbe7a1}.error{background:#f5b5b5}";

pub fn render(doc: &Value) -> String {
    let mut rows = String::new();
    for (name, c) in doc["components"].as_object().into_iter().flatten() {
        let state = text(&c["state"]);
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            esc(&text(&c["kind"])),
            esc(&state.to_lowercase()),
            esc(&state),
            esc(&text(&c["message"])),
            totals(&c["totals"]),
            esc(&text(&c["last_success"])),
            esc(&text(&c["last_error"])),
        );
    }
    let mut queues = String::new();
    for q in doc["queues"].as_array().into_iter().flatten() {
        let _ = writeln!(
            queues,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&text(&q["output"])),
            esc(&text(&q["depth"])),
            esc(&text(&q["capacity"])),
        );
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">\
<title>nocbox status</title><style>{STYLE}</style></head><body>\
<h1>nocbox {}</h1><p>healthy: <b id=\"healthy\">{}</b>{} (refreshes every 5 s; JSON at <a href=\"/status\">/status</a>, \
Prometheus at <a href=\"/metrics\">/metrics</a>)</p>\n\
<h2>Inputs, outputs and checks</h2><table><tr><th>name</th><th>kind</th><th>state</th><th>message</th><th>totals</th>\
<th>last success</th><th>last error</th></tr>\n{rows}</table>\n\
<h2>Queues</h2><table><tr><th>output</th><th>queued</th><th>capacity</th></tr>\n{queues}</table>\n</body></html>\n",
        esc(&text(&doc["version"])),
        text(&doc["healthy"]),
        if doc["draining"] == Value::Bool(true) { " — draining, stopping soon" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_shows_state() {
        let doc = serde_json::json!({
            "version": "0.1.0", "healthy": true,
            "components": {"syslog": {"kind": "input", "state": "OK", "totals": {"syslog.received{transport=udp}": 7},
                "last_success": "t", "last_error": "<script>"}},
            "queues": [{"output": "stdout", "depth": 0, "capacity": 10}]
        });
        let html = render(&doc);
        assert!(html.contains("<td class=\"ok\">OK</td>"));
        assert!(html.contains("syslog.received{transport=udp}: 7"));
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    }
}

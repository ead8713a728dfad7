//! The status page at `/`: the `/status` document as a plain HTML table, no scripts.

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

pub fn render(doc: &Value) -> String {
    let mut rows = String::new();
    if let Some(comps) = doc["components"].as_object() {
        for (name, c) in comps {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(name),
                esc(&text(&c["kind"])),
                if c["healthy"] == Value::Bool(true) {
                    "ok"
                } else {
                    "<b>unhealthy</b>"
                },
                esc(&text(&c["last_success"])),
                esc(&text(&c["last_error"])),
            ));
        }
    }
    let mut counters = String::new();
    if let Some(cs) = doc["counters"].as_array() {
        for c in cs {
            counters.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&text(&c["name"])),
                esc(&c["labels"].to_string()),
                esc(&text(&c["value"])),
            ));
        }
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>nocbox</title></head><body>\
<h1>nocbox {}</h1><p>healthy: {}</p>\
<h2>Inputs and outputs</h2><table border=1><tr><th>name</th><th>kind</th><th>state</th><th>last success</th><th>last error</th></tr>\n{}</table>\
<h2>Counters</h2><table border=1><tr><th>name</th><th>labels</th><th>value</th></tr>\n{}</table></body></html>\n",
        esc(&text(&doc["version"])),
        text(&doc["healthy"]),
        rows,
        counters
    )
}

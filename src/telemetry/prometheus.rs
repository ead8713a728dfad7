//! Prometheus text exposition of the telemetry store: `nocbox.syslog.received{transport}`
//! becomes `nocbox_syslog_received_total{transport="udp"}`. The naming helpers are shared with
//! the `prometheus` output, which exposes metric events the same way.

use std::fmt::Write;

use super::Telemetry;

/// A metric name under Prometheus rules: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// A label name under Prometheus rules: `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__`
/// (reserved for Prometheus itself). An empty name becomes `tag`.
pub fn label_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with("__") {
        s.insert_str(0, "tag");
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// A label value inside double quotes: backslash, quote and newline escaped.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(l: &[(String, String)]) -> String {
    if l.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", label_name(k), escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Renders every counter and gauge, with a `# TYPE` line per family.
pub fn render(t: &Telemetry) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for (name, l, v) in t.counters_snapshot() {
        let n = format!("{}_total", sanitize(&name));
        if n != last {
            let _ = writeln!(out, "# TYPE {n} counter");
            last = n.clone();
        }
        let _ = writeln!(out, "{n}{} {v}", labels(&l));
    }
    for (name, l, v) in t.gauges_snapshot() {
        let n = sanitize(&name);
        if n != last {
            let _ = writeln!(out, "# TYPE {n} gauge");
            last = n.clone();
        }
        let _ = writeln!(out, "{n}{} {v}", labels(&l));
    }
    for (name, c) in t
        .components("input")
        .into_iter()
        .chain(t.components("output"))
    {
        let _ = writeln!(
            out,
            "nocbox_component_healthy{{component=\"{}\"}} {}",
            escape(&name),
            u8::from(c.is_healthy())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counter_with_total_suffix_and_labels() {
        let t = Telemetry::new();
        t.counter("nocbox.syslog.received", &[("transport", "udp")])
            .add(5);
        let text = render(&t);
        assert!(text.contains("# TYPE nocbox_syslog_received_total counter"));
        assert!(text.contains("nocbox_syslog_received_total{transport=\"udp\"} 5"));
    }
}

//! `outputs.syslog_forward[i]`, component `syslog_forward_<i>`: every log record as an RFC 5424
//! message, octet-counted (RFC 6587 §3.4.1, as RFC 5425 requires), over TLS by default or plain
//! TCP. Owns only the message format (a pure function, tested below); the connection, dead-peer
//! detection, re-send buffer and their delivery caveats (at least once, unproven) are
//! `outputs::stream`'s. No marks here: marks are a Datadog-side liveness signal.

use bytes::Bytes;
use chrono::SecondsFormat;
use serde_json::Value;

use super::stream::{self, LineFormat, StreamConfig, StreamStats, StreamWriter, Target};
use super::OutputContext;
use crate::config::SyslogForwardConfig;
use crate::event::LogRecord;
use crate::pipeline::EventRx;

/// A problem found before any event is consumed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("outputs.syslog_forward[{0}].address: `{1}` is not host:port")]
    Address(usize, String),
    #[error("outputs.syslog_forward[{0}].ca_file: {1}")]
    Tls(usize, crate::tls::TlsError),
    #[error("outputs.syslog_forward[{0}].server_name: {1}")]
    ServerName(usize, String),
}

/// Every setup check of `outputs.syslog_forward[index]` that needs no network IO (the CA file
/// is read): `address` is `host:port`, the CA file parses, the TLS server name is valid. `run`
/// fails with exactly these errors; `nocbox validate` and the start call this to fail early.
pub fn check(cfg: &SyslogForwardConfig, index: usize) -> Result<(), String> {
    target(cfg, index).map(|_| ()).map_err(|e| e.to_string())
}

fn target(cfg: &SyslogForwardConfig, index: usize) -> Result<Target, SetupError> {
    let (host, port) = stream::split_host_port(&cfg.address)
        .ok_or_else(|| SetupError::Address(index, cfg.address.clone()))?;
    let tls = if cfg.tls {
        let c = crate::tls::client_config(cfg.ca_file.as_deref())
            .map_err(|e| SetupError::Tls(index, e))?;
        let name = cfg.server_name.as_deref().unwrap_or(&host);
        Some(stream::tls_target(c, name).map_err(|e| SetupError::ServerName(index, e))?)
    } else {
        None
    };
    Ok(Target { host, port, tls })
}

/// Forwards the log events of `rx` until the queue closes (drain) or `ctx.hard_stop` fires.
/// `Err` only for setup problems (those of `check`), returned at once, before any event is
/// consumed.
pub async fn run(
    cfg: SyslogForwardConfig,
    index: usize,
    rx: EventRx,
    ctx: OutputContext,
) -> anyhow::Result<()> {
    let target = target(&cfg, index)?;
    run_with(
        StreamConfig::new(target),
        &format!("syslog_forward_{index}"),
        rx,
        ctx,
    )
    .await;
    Ok(())
}

async fn run_with(cfg: StreamConfig, name: &str, rx: EventRx, ctx: OutputContext) {
    let stats = StreamStats::new(&ctx.telemetry, name);
    stats.comp.set_healthy(true);
    let w = StreamWriter::new(cfg, stats, ctx.hard_stop.clone());
    stream::drive(w, rx, ctx.hard_stop.clone(), Rfc5425, None).await;
}

struct Rfc5425;

impl LineFormat for Rfc5425 {
    fn line(&mut self, rec: &LogRecord) -> Option<Bytes> {
        Some(octet_counted(&rfc5424(rec)))
    }
}

/// `MSG-LEN SP SYSLOG-MSG`, the length in bytes. No trailing LF: the count frames the message.
pub fn octet_counted(msg: &str) -> Bytes {
    Bytes::from(format!("{} {msg}", msg.len()))
}

/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]` for `rec`.
pub fn rfc5424(rec: &LogRecord) -> String {
    let pri = u16::from(facility(rec)) * 8 + u16::from(rec.status.severity());
    let ts = rec.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut s = format!(
        "<{pri}>1 {ts} {} {} {} {} {}",
        header_field(&rec.hostname, 255),
        header_field(&rec.service, 48),
        header_field(&syslog_attr(rec, "procid"), 128),
        header_field(&syslog_attr(rec, "msgid"), 32),
        structured_data(rec),
    );
    // MSG is UTF-8 without a BOM: receivers in the field handle both, and a BOM confuses
    // plain-text tooling downstream.
    if !rec.message.is_empty() {
        s.push(' ');
        s.push_str(&rec.message);
    }
    s
}

/// A header field: printable US-ASCII only (RFC 5424 §6), at most `max` characters, `-` if empty.
fn header_field(v: &str, max: usize) -> String {
    let s: String = v
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// `syslog.<key>` as text (strings and numbers), else empty: from the typed fields of a syslog
/// record, else from an attribute object named `syslog`.
fn syslog_attr(rec: &LogRecord, key: &str) -> String {
    if let Some(f) = &rec.syslog {
        let v = match key {
            "facility" => f.facility.map(|n| n.to_string()),
            "procid" => f.procid.as_deref().map(str::to_owned),
            "msgid" => f.msgid.as_deref().map(str::to_owned),
            _ => None,
        };
        return v.unwrap_or_default();
    }
    match rec.attributes.get("syslog").and_then(|s| s.get(key)) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clockd", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// `syslog.facility` as a number (0..=23) or a name; `user` (1) when absent or unknown.
fn facility(rec: &LogRecord) -> u8 {
    let v = syslog_attr(rec, "facility").to_ascii_lowercase();
    let by_number = v.parse::<u8>().ok().filter(|n| *n < 24);
    let by_name = || FACILITIES.iter().position(|f| *f == v).map(|i| i as u8);
    let alias = || match v.as_str() {
        "security" => Some(4),
        "cron2" | "clock" => Some(15),
        _ => None,
    };
    by_number.or_else(by_name).or_else(alias).unwrap_or(1)
}

/// `[nocbox@32473 source="…" client_ip="…"]`, or `-` when there is nothing to say.
fn structured_data(rec: &LogRecord) -> String {
    let mut params = String::new();
    if !rec.ddsource.is_empty() {
        params.push_str(&format!(" source=\"{}\"", sd_escape(&rec.ddsource)));
    }
    if let Some(ip) = rec.client_ip {
        params.push_str(&format!(" client_ip=\"{ip}\""));
    }
    if params.is_empty() {
        "-".into()
    } else {
        format!("[nocbox@32473{params}]")
    }
}

/// RFC 5424 §6.3.3: `"`, `\` and `]` are escaped with a backslash inside PARAM-VALUE.
fn sd_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use serde_json::json;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::event::{Event, Status, SyslogFields};
    use crate::telemetry::Telemetry;

    fn rec() -> LogRecord {
        let ts = DateTime::parse_from_rfc3339("2026-08-14T09:21:07.118Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut r = LogRecord::new(
            "%LINK-3-UPDOWN: Interface Gi1/0/12, changed state to down",
            "core-sw01",
            ts,
        );
        r.ddsource = "cisco-ios".into();
        r.service = "LINK".into();
        r.status = Status::Error;
        r.client_ip = Some("10.1.1.2".parse().unwrap());
        r.syslog = Some(SyslogFields {
            facility: Some(23),
            procid: Some("42".into()),
            msgid: Some("ID7".into()),
            ..Default::default()
        });
        r
    }

    #[test]
    fn full_record() {
        assert_eq!(
            rfc5424(&rec()),
            "<187>1 2026-08-14T09:21:07.118Z core-sw01 LINK 42 ID7 \
             [nocbox@32473 source=\"cisco-ios\" client_ip=\"10.1.1.2\"] \
             %LINK-3-UPDOWN: Interface Gi1/0/12, changed state to down"
        );
    }

    #[test]
    fn missing_fields_become_nil_and_facility_defaults_to_user() {
        let mut r = LogRecord::new("", "", rec().timestamp);
        r.status = Status::Notice;
        assert_eq!(rfc5424(&r), "<13>1 2026-08-14T09:21:07.118Z - - - - -");
    }

    #[test]
    fn facility_by_name_number_text_or_garbage() {
        let with = |f: serde_json::Value| {
            let mut r = rec();
            r.syslog = None;
            r.attributes
                .insert("syslog".into(), json!({ "facility": f }));
            facility(&r)
        };
        assert_eq!(with(json!("local7")), 23);
        assert_eq!(with(json!("KERN")), 0);
        assert_eq!(with(json!("4")), 4);
        assert_eq!(with(json!(99)), 1);
        assert_eq!(with(json!("nonsense")), 1);
        assert_eq!(with(json!({"x": 1})), 1);
    }

    #[test]
    fn header_fields_are_printable_ascii_and_bounded() {
        let mut r = rec();
        r.hostname = "core sw\u{e9}01".into();
        r.service = "a".repeat(60).into();
        let m = rfc5424(&r);
        let fields: Vec<&str> = m.split(' ').collect();
        assert_eq!(fields[2], "core_sw_01");
        assert_eq!(fields[3].len(), 48);
        assert_eq!(header_field(&"h".repeat(300), 255).len(), 255);
    }

    #[test]
    fn sd_values_are_escaped() {
        assert_eq!(sd_escape(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
        let mut r = rec();
        r.ddsource = "x]\"".into();
        r.client_ip = None;
        assert!(rfc5424(&r).contains(r#"[nocbox@32473 source="x\]\""]"#));
    }

    #[test]
    fn octet_count_is_the_byte_length() {
        assert_eq!(
            &octet_counted("<13>1 - - - - - - h\u{e9}")[..],
            "21 <13>1 - - - - - - h\u{e9}".as_bytes()
        );
        assert_eq!(&octet_counted("")[..], b"0 ");
    }

    /// Splits an octet-counted stream into messages.
    fn frames(mut s: &str) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((len, rest)) = s.split_once(' ') {
            let n: usize = len.parse().unwrap();
            out.push(rest[..n].to_string());
            s = &rest[n..];
        }
        out
    }

    #[tokio::test]
    async fn forwards_octet_counted_messages_over_plain_tcp() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let reader = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        });
        let cfg = SyslogForwardConfig {
            address: format!("127.0.0.1:{port}"),
            tls: false,
            ca_file: None,
            server_name: None,
            queue_size: 10,
            queue_bytes: 1 << 20,
        };
        let t = Telemetry::new();
        let (tx, rx) = tokio::sync::mpsc::channel(10);
        let mut two = rec();
        two.message = "line one\nline two".into();
        for r in [rec(), two] {
            tx.send(Arc::new(Event::Log(r))).await.unwrap();
        }
        drop(tx);
        let ctx = OutputContext {
            telemetry: t.clone(),
            hard_stop: CancellationToken::new(),
            hostname: "n".into(),
            tags: vec![],
        };
        tokio::time::timeout(Duration::from_secs(10), run(cfg, 3, rx, ctx))
            .await
            .unwrap()
            .unwrap();
        let got = frames(&reader.await.unwrap());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], rfc5424(&rec()));
        assert!(got[1].ends_with("line one\nline two"));
        let out = [("output", "syslog_forward_3")];
        assert_eq!(t.counter_sum("nocbox.output.sent", &out), 2);
        assert_eq!(t.counter_sum("nocbox.output.connects", &out), 1);
        assert!(t.find_component("syslog_forward_3").unwrap().is_healthy());
    }

    #[tokio::test]
    async fn bad_address_is_a_setup_error() {
        let cfg = SyslogForwardConfig {
            address: "nohostport".into(),
            tls: true,
            ca_file: None,
            server_name: None,
            queue_size: 10,
            queue_bytes: 1 << 20,
        };
        let (_tx, rx) = tokio::sync::mpsc::channel(1);
        let ctx = OutputContext {
            telemetry: Telemetry::new(),
            hard_stop: CancellationToken::new(),
            hostname: "n".into(),
            tags: vec![],
        };
        let err = run(cfg, 0, rx, ctx).await.unwrap_err();
        assert!(
            err.to_string().contains("syslog_forward[0].address"),
            "{err}"
        );
    }

    #[test]
    fn check_covers_address_ca_file_and_server_name() {
        let cfg = |address: &str, tls, ca: Option<&str>, name: Option<&str>| SyslogForwardConfig {
            address: address.into(),
            tls,
            ca_file: ca.map(Into::into),
            server_name: name.map(Into::into),
            queue_size: 10,
            queue_bytes: 1 << 20,
        };
        assert_eq!(
            check(&cfg("logs.example:6514", true, None, None), 0),
            Ok(())
        );
        assert_eq!(check(&cfg("[::1]:6514", true, None, None), 0), Ok(()));
        assert_eq!(check(&cfg("10.0.0.1:514", false, None, None), 0), Ok(()));
        let e = check(&cfg("nohostport", true, None, None), 2).unwrap_err();
        assert!(e.starts_with("outputs.syslog_forward[2].address"), "{e}");
        let e = check(&cfg("h:6514", true, Some("/nonexistent/ca.pem"), None), 1).unwrap_err();
        assert!(e.starts_with("outputs.syslog_forward[1].ca_file"), "{e}");
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let e = check(&cfg("h:6514", true, None, Some("bad name!")), 0).unwrap_err();
        assert!(
            e.starts_with("outputs.syslog_forward[0].server_name"),
            "{e}"
        );
        // a file that is not PEM
        let dir = std::env::temp_dir().join(format!("nocbox-sf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let e = check(&cfg("h:6514", true, junk.to_str(), None), 0).unwrap_err();
        assert!(e.contains("ca_file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

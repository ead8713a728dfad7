//! Turns one received syslog message into a log record: parse, name the device, tag, flag
//! truncation. Pure: the receive time is passed in.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::event::{LogRecord, Status};
use crate::inputs::DeviceInfo;
use crate::proto::syslog;

/// Facts about one message that the bytes do not carry.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    pub peer: IpAddr,
    pub at: DateTime<Utc>,
    pub truncated: bool,
    pub original_len: usize,
}

/// A header hostname we may show as `hostname`: never empty, `-`, a tag (`RT_FLOW:`) or a
/// mnemonic (`%SYS-5-CONFIG_I`).
fn usable_host(h: &str) -> bool {
    !h.is_empty()
        && h != "-"
        && h.len() <= 255
        && !h.ends_with(':')
        && !h.starts_with('%')
        && !h.contains(char::is_whitespace)
}

/// The record for `raw`. `tags` are the global tags; `device` what the config says about the peer.
pub fn build(
    raw: &[u8],
    rx: Received,
    device: Option<&DeviceInfo>,
    tags: &[String],
    namespace: &str,
) -> (LogRecord, Option<&'static str>) {
    let parsed = syslog::parse(raw, rx.at);
    let hostname = device
        .and_then(|d| d.name.clone())
        .or_else(|| parsed.hostname.clone().filter(|h| usable_host(h)))
        .unwrap_or_else(|| rx.peer.to_string());
    let ddsource = parsed.ddsource().to_string();
    let service = parsed.service();
    let status = parsed.severity.map_or(Status::Info, Status::from_severity);
    let error = parsed.error;
    let (message, attributes) = parsed.into_message_and_attributes();
    let mut rec = LogRecord::new(message, hostname, rx.at);
    rec.ddsource = ddsource;
    rec.service = service;
    rec.status = status;
    rec.client_ip = Some(rx.peer);
    rec.tags = tags.to_vec();
    if let Some(d) = device {
        rec.tags.extend(d.tags.iter().cloned());
    }
    rec.tags.push(format!("device_namespace:{namespace}"));
    rec.tags.push(format!("snmp_device:{}", rx.peer));
    rec.attributes = attributes;
    if rx.truncated {
        let sys = rec
            .attributes
            .entry("syslog")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(m) = sys {
            m.insert("truncated".into(), json!(true));
            m.insert("original_size".into(), json!(rx.original_len));
        }
    }
    (rec, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx(peer: &str) -> Received {
        Received {
            peer: peer.parse().unwrap(),
            at: Utc::now(),
            truncated: false,
            original_len: 0,
        }
    }

    #[test]
    fn configured_name_wins_then_header_then_ip() {
        let line = b"<187>5678: core-sw01: 5674: Aug 14 2026 09:21:07.118 CEST: %LINK-3-UPDOWN: Interface Gi1/0/12, changed state to down";
        let dev = DeviceInfo {
            name: Some("named".into()),
            tags: vec!["site:dc1".into()],
            ..Default::default()
        };
        let (r, _) = build(line, rx("10.1.1.2"), Some(&dev), &[], "default");
        assert_eq!(r.hostname, "named");
        assert!(r.tags.contains(&"site:dc1".to_string()));
        let (r, _) = build(line, rx("10.1.1.2"), None, &[], "default");
        assert_eq!(r.hostname, "core-sw01");
        assert_eq!(r.status, Status::Error);
        let (r, err) = build(b"<13>", rx("10.1.1.3"), None, &[], "default");
        assert_eq!(r.hostname, "10.1.1.3");
        let _ = err;
        let (r, _) = build(
            b"<14>Dec 17 08:05:30 RT_FLOW: RT_FLOW_SESSION_DENY: x",
            rx("10.9.9.9"),
            None,
            &[],
            "ns",
        );
        assert_eq!(r.hostname, "10.9.9.9");
        assert!(r.tags.contains(&"device_namespace:ns".to_string()));
    }
}

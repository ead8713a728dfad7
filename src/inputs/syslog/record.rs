//! Turns one received syslog message into a log record: parse, name the device, tag, flag
//! truncation. Pure: the receive time is passed in.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::event::{LogRecord, Status, Tags};
use crate::inputs::DeviceInfo;
use crate::json;
use crate::proto::syslog;
use crate::small_str::SmallStr;

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

/// The record for `raw`. `tags` are the record's tags (see [`tags`]); `device` what the config
/// says about the peer.
pub fn build(
    raw: &[u8],
    rx: Received,
    device: Option<&DeviceInfo>,
    tags: Tags,
) -> (LogRecord, Option<&'static str>) {
    let parsed = syslog::parse(raw, rx.at);
    let hostname = match device.and_then(|d| d.name.as_deref()) {
        Some(name) => SmallStr::new(name),
        None => match &parsed.hostname {
            Some(h) if usable_host(h) => h.clone(),
            _ => SmallStr::from(rx.peer),
        },
    };
    let ddsource = parsed.ddsource();
    let service = parsed.service();
    let status = parsed.severity.map_or(Status::Info, Status::from_severity);
    let error = parsed.error;
    let (message, mut fields, vendor) = parsed.into_parts();
    let mut rec = LogRecord::new(message, hostname, rx.at);
    rec.ddsource = ddsource.into();
    rec.service = service;
    rec.status = status;
    rec.client_ip = Some(rx.peer);
    rec.tags = tags;
    if rx.truncated {
        fields.truncated = true;
        fields.original_size = Some(rx.original_len);
    }
    rec.syslog = Some(fields);
    rec.vendor = vendor;
    (rec, error)
}

/// The tags of every record from `peer`: the global `tags`, the device's, the
/// `device_namespace` tag (see [`namespace_tag`]) and `snmp_device:<peer>`.
pub fn tags(
    peer: IpAddr,
    device: Option<&DeviceInfo>,
    tags: &[String],
    namespace_tag: &str,
) -> Tags {
    let device_tags = device.map_or(&[][..], |d| &d.tags[..]);
    let mut all = Vec::with_capacity(tags.len() + device_tags.len() + 2);
    all.extend_from_slice(tags);
    all.extend_from_slice(device_tags);
    all.push(namespace_tag.to_owned());
    let mut device_tag = Vec::with_capacity(32);
    device_tag.extend_from_slice(b"snmp_device:");
    json::push_ip(&mut device_tag, peer);
    all.push(
        String::from_utf8(device_tag)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    );
    all.into()
}

/// The `device_namespace` tag of every record, made once per input.
pub fn namespace_tag(namespace: &str) -> String {
    format!("device_namespace:{namespace}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `build` with the tags `tags` would give.
    fn build_tagged(
        raw: &[u8],
        rx: Received,
        device: Option<&DeviceInfo>,
        global: &[String],
        namespace_tag: &str,
    ) -> (LogRecord, Option<&'static str>) {
        build(
            raw,
            rx,
            device,
            tags(rx.peer, device, global, namespace_tag),
        )
    }

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
        let (r, _) = build_tagged(
            line,
            rx("10.1.1.2"),
            Some(&dev),
            &[],
            &namespace_tag("default"),
        );
        assert_eq!(r.hostname, "named");
        assert!(r.tags.contains(&"site:dc1".to_string()));
        let (r, _) = build_tagged(line, rx("10.1.1.2"), None, &[], &namespace_tag("default"));
        assert_eq!(r.hostname, "core-sw01");
        assert_eq!(r.status, Status::Error);
        let (r, err) = build_tagged(
            b"<13>",
            rx("10.1.1.3"),
            None,
            &[],
            &namespace_tag("default"),
        );
        assert_eq!(r.hostname, "10.1.1.3");
        let _ = err;
        let (r, _) = build_tagged(
            b"<14>Dec 17 08:05:30 RT_FLOW: RT_FLOW_SESSION_DENY: x",
            rx("10.9.9.9"),
            None,
            &[],
            &namespace_tag("ns"),
        );
        assert_eq!(r.hostname, "10.9.9.9");
        assert!(r.tags.contains(&"device_namespace:ns".to_string()));
    }

    #[test]
    fn written_line_is_the_intake_object() {
        let lines: [&[u8]; 5] = [
            b"<187>5678: core-sw01: 5674: *Aug 14 2026 09:21:07.118 CEST: %LINK-3-UPDOWN: Interface Gi1/0/12, changed state to \"down\"",
            b"<14>1 2026-08-14T09:21:07.118+02:00 srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address=\"10.0.0.1\" source-port=\"5353\"] session created",
            b"<13>Aug 14 09:21:07 host app[12]: tab\there \xff\xfe bytes",
            b"no header at all\x01",
            b"<13>",
        ];
        for (i, line) in lines.into_iter().enumerate() {
            let mut r = rx("10.1.1.2");
            r.truncated = i == 0;
            r.original_len = 9000;
            let (rec, _) = build_tagged(line, r, None, &["env:prd".into()], &namespace_tag("dc1"));
            let mut buf = Vec::new();
            rec.write_json(&mut buf, Some("log"));
            let mut written: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&buf).unwrap();
            assert_eq!(written.remove("kind").unwrap(), "log");
            assert_eq!(written, rec.to_json(), "{}", String::from_utf8_lossy(line));
            let syslog = &written["syslog"];
            assert_eq!(syslog["truncated"].as_bool(), r.truncated.then_some(true));
            assert_eq!(
                written["ddtags"],
                "env:prd,device_namespace:dc1,snmp_device:10.1.1.2"
            );
        }
    }
}

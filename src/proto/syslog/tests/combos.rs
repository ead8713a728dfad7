//! Every combination of the optional IOS / NX-OS header parts must parse as Cisco, keep the
//! mnemonic text intact and report the parts it saw.

use super::{p, vendor};
use crate::proto::syslog::Format;

#[test]
fn every_combination_of_ios_header_parts() {
    let stamps = [
        ("Mar  1 00:04:12", true),
        ("Mar  1 00:04:12.345", true),
        ("Aug 14 2026 09:21:07.118", true),
        ("2026 Aug 14 09:46:57", true),
        ("3d04h", false),
        ("1w2d", false),
        ("00:01:02", false),
    ];
    let mut checked = 0;
    for counter in ["", "1234: "] {
        for origin in ["", "core-sw01: ", "10.1.1.1: "] {
            for seq in ["", "000045: "] {
                for (stamp, is_date) in stamps {
                    for marker in ["", "*", "."] {
                        for zone in ["", " UTC", " CEST", " NewYork"] {
                            // Uptime stamps carry neither a clock marker nor a zone.
                            let plain = marker.is_empty() && zone.is_empty();
                            if !is_date && !plain {
                                continue;
                            }
                            for text in ["%SYS-5-CONFIG_I: x y", "%LINK-SP-3-UPDOWN: z (sw-2)"] {
                                let bare = if counter.is_empty() { ": " } else { "" };
                                let line = format!(
                                    "<189>{bare}{counter}{origin}{seq}{marker}{stamp}{zone}: {text}"
                                );
                                let r = p(&line);
                                let expected = if stamp.starts_with("2026 ") {
                                    Format::CiscoNxos
                                } else {
                                    Format::CiscoIos
                                };
                                assert_eq!(r.format, expected, "{line}");
                                assert_eq!(r.message, text, "{line}");
                                assert_eq!(
                                    r.hostname.as_deref(),
                                    origin.strip_suffix(": "),
                                    "{line}"
                                );
                                assert_eq!(r.timestamp.is_some(), is_date, "{line}");
                                let c = vendor(&r, "cisco");
                                assert_eq!(c.get("message_counter").is_some(), !counter.is_empty());
                                assert_eq!(c.get("sequence").is_some(), !seq.is_empty(), "{line}");
                                assert_eq!(c.get("uptime").is_some(), !is_date);
                                assert_eq!(c.get("clock").is_some(), !marker.is_empty());
                                assert_eq!(
                                    c.get("timezone").and_then(|v| v.as_str()),
                                    (zone == " NewYork").then_some("NewYork")
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

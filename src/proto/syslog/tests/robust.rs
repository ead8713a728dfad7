//! Robustness: every fixture truncated at every byte, random bytes, invalid UTF-8, PRI edge
//! cases, huge lines, plus a throughput check (ignored by default; run with `--ignored`).

use std::time::Instant;

use super::{now, p};
use crate::proto::syslog::{parse, Format, Parsed};

fn all_fixtures() -> impl Iterator<Item = &'static str> {
    super::cisco::FIXTURES
        .iter()
        .chain(super::junos::FIXTURES)
        .chain(super::generic::FIXTURES)
        .copied()
}

/// Properties every result must have, whatever the input.
fn check(raw: &[u8], r: &Parsed) {
    assert_eq!(r.error.is_some(), r.format == Format::Unparsed, "{r:?}");
    // RFC 5424 hosts are taken as sent (any printable ASCII); BSD and Cisco hosts are checked.
    if let Some(h) = r.hostname.as_ref().filter(|_| r.version.is_none()) {
        assert!(
            h != "-" && !h.starts_with('%') && !h.ends_with(':') && !h.is_empty(),
            "{h} {:?}",
            String::from_utf8_lossy(raw)
        );
    }
    assert!(r.facility.is_none_or(|f| f <= 23));
    assert!(r.severity.is_none_or(|s| s <= 7));
    let text = String::from_utf8_lossy(raw);
    assert!(
        text.contains(r.message.as_str()),
        "message not from input: {r:?}"
    );
    assert!(!r.message.ends_with(['\r', '\n', '\0']));
    let attrs = r.attributes();
    assert!(attrs.contains_key("syslog"));
    let _ = (r.ddsource(), r.service());
}

#[test]
fn truncations_of_every_fixture() {
    for line in all_fixtures() {
        let b = line.as_bytes();
        for end in 0..=b.len() {
            for start in [0, 1, 4] {
                if start <= end {
                    let raw = &b[start..end];
                    check(raw, &parse(raw, now()));
                }
            }
        }
    }
}

/// xorshift64*, so the test needs no extra dependency and is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_bytes_and_mutated_fixtures() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet = b"<>0123456789: *.%-_[]=\"\\ADFJMNOSTadhmwy/T+Z\n\r\t\x00\xff\xc3";
    for _ in 0..20_000 {
        let len = (rng.next() % 96) as usize;
        let raw: Vec<u8> = (0..len)
            .map(|_| {
                let r = rng.next();
                if r.is_multiple_of(4) {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                }
            })
            .collect();
        check(&raw, &parse(&raw, now()));
    }
    let fixtures: Vec<&str> = all_fixtures().collect();
    for _ in 0..20_000 {
        let mut raw = fixtures[(rng.next() as usize) % fixtures.len()]
            .as_bytes()
            .to_vec();
        for _ in 0..(rng.next() % 4 + 1) {
            if raw.is_empty() {
                break;
            }
            let at = (rng.next() as usize) % raw.len();
            match rng.next() % 3 {
                0 => raw[at] = alphabet[(rng.next() as usize) % alphabet.len()],
                1 => {
                    raw.remove(at);
                }
                _ => raw.insert(at, (rng.next() >> 16) as u8),
            }
        }
        check(&raw, &parse(&raw, now()));
    }
}

#[test]
fn pri_edge_cases() {
    let r = p("<13>");
    assert_eq!(r.format, Format::Unparsed);
    assert_eq!((r.facility, r.severity), (Some(1), Some(5)));
    assert_eq!(r.message, "");
    assert_eq!(r.error, Some("empty_message"));
    let r = p("");
    assert_eq!(r.error, Some("empty"));
    let r = p("\r\n\0");
    assert_eq!(r.error, Some("empty"));
    for bad in [
        "<999>x", "<192>x", "<1000>x", "<>x", "<", "<13", "<1a>x", "<-1>x",
    ] {
        let r = p(bad);
        assert_eq!(r.error, Some("invalid_pri"), "{bad}");
        assert_eq!((r.facility, r.severity), (None, None), "{bad}");
        assert_eq!(r.message, bad);
        assert_eq!(r.attributes()["syslog"]["parse_error"], "invalid_pri");
    }
    let r = p("<191>Mar 15 10:22:33 host app: x");
    assert_eq!((r.facility, r.severity), (Some(23), Some(7)));
    let r = p("<0>Mar 15 10:22:33 host app: x");
    assert_eq!((r.facility, r.severity), (Some(0), Some(0)));
    let r = p("<13>hello world");
    assert_eq!(r.error, Some("unrecognised_header"));
    assert_eq!(r.message, "hello world");
}

#[test]
fn invalid_utf8_is_decoded_lossily_and_flagged() {
    let r = parse(b"<13>Mar 15 10:22:33 host app: caf\xe9 \xff\r\n", now());
    assert_eq!(r.format, Format::Rfc3164);
    assert_eq!(r.message, "caf\u{fffd} \u{fffd}");
    assert!(r.invalid_utf8);
    assert_eq!(r.attributes()["syslog"]["invalid_utf8"], true);
    let r = parse(b"<189>1: Aug 14 09:21:09: %SYS-5-CONFIG_I: \xc3\x28", now());
    assert_eq!(r.format, Format::CiscoIos);
    assert!(r.invalid_utf8);
    assert!(!p("<13>Mar 15 10:22:33 host app: café").invalid_utf8);
}

#[test]
fn trailing_cr_lf_nul_are_stripped() {
    let r = p("<189>: Aug 14 09:21:09: %SYS-5-CONFIG_I: x\r\n\0\0");
    assert_eq!(r.message, "%SYS-5-CONFIG_I: x");
}

#[test]
fn hundred_kilobyte_lines() {
    let big = "A".repeat(100 * 1024);
    for prefix in [
        "<13>Mar 15 10:22:33 host app: ",
        "<189>1: Aug 14 09:21:09: %SYS-5-CONFIG_I: ",
        "<14>1 2026-08-14T09:30:01Z h a - - - ",
        "<13>",
        "",
    ] {
        let line = format!("{prefix}{big}");
        let r = p(&line);
        assert!(r.message.ends_with(&big[..1000]));
        check(line.as_bytes(), &r);
    }
    let spaces = format!("<13>Mar 15 10:22:33 {}", " ".repeat(100 * 1024));
    check(spaces.as_bytes(), &p(&spaces));
    let brackets = format!(
        "<13>1 2026-08-14T09:30:01Z h a - - {}",
        "[".repeat(100 * 1024)
    );
    check(brackets.as_bytes(), &p(&brackets));
}

/// `cargo test --release --lib proto::syslog::tests::robust::throughput -- --ignored --nocapture`
#[test]
#[ignore = "a throughput measurement, not a check: run it in release with --ignored"]
fn throughput() {
    let lines: Vec<&str> = all_fixtures().collect();
    let n = 400_000;
    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        let r = parse(lines[i % lines.len()].as_bytes(), now());
        bytes += r.message.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0} lines/s ({bytes} message bytes)", n as f64 / secs);
}

//! Tests of the pure payload pieces: record size limits, batching limits, body, verdicts.

use std::io::Read;

use chrono::Utc;
use serde_json::Value;

use super::*;

fn rec(msg: &str) -> LogRecord {
    let mut r = LogRecord::new(msg, "sw1", Utc::now());
    r.ddsource = "cisco-ios".into();
    r.service = "LINK".into();
    r
}

fn parse(e: &Entry) -> Value {
    serde_json::from_slice(&e.json).unwrap()
}

#[test]
fn small_record_is_the_intake_object() {
    let r = rec("hello \"x\"");
    let e = entry(&r, false, MAX_ENTRY).unwrap();
    assert_eq!(parse(&e), Value::Object(r.to_json()));
    assert!(!e.mark);
    assert_eq!(e.json.len(), r.json_len());
}

#[test]
fn oversize_message_is_cut_to_fit_and_flagged() {
    let big = "é\"\u{1}x".repeat(400_000); // 2.4 MB raw, more once escaped
    let e = entry(&rec(&big), false, MAX_ENTRY).unwrap();
    assert!(e.json.len() <= MAX_ENTRY);
    assert!(
        e.json.len() > MAX_ENTRY - 200,
        "cut far too much: {}",
        e.json.len()
    );
    let v = parse(&e);
    let msg = v["message"].as_str().unwrap();
    assert!(big.starts_with(msg));
    assert_eq!(v["nocbox"]["truncated"], true);
    assert_eq!(v["nocbox"]["message_bytes"], big.len());
    assert_eq!(v["hostname"], "sw1");
}

#[test]
fn record_too_large_without_its_message_is_refused() {
    let mut r = rec("m");
    r.attributes
        .insert("blob".into(), Value::String("y".repeat(2000)));
    assert!(matches!(entry(&r, false, 1000), Err(TooLarge(n)) if n > 2000));
}

#[test]
fn prefix_respects_char_boundaries_and_escapes() {
    assert_eq!(prefix_within("aé", 2), "a");
    assert_eq!(prefix_within("a\"b", 2), "a");
    assert_eq!(prefix_within("a\"b", 3), "a\"");
    assert_eq!(prefix_within("\u{1}", 5), "");
    assert_eq!(prefix_within("abc", 10), "abc");
    assert_eq!(escaped_len("a\n\u{1f}é"), 1 + 2 + 6 + 2);
    assert_eq!(
        escaped_len("x\u{7f}"),
        serde_json::to_string("x\u{7f}").unwrap().len() - 2
    );
}

fn sized(n: usize) -> Entry {
    Entry {
        json: vec![b'x'; n],
        mark: false,
    }
}

#[test]
fn batch_cuts_at_1000_entries() {
    let mut b = Batcher::default();
    for _ in 0..999 {
        assert!(b.fits(&sized(10)));
        b.push(sized(10));
        assert!(!b.is_full());
    }
    b.push(sized(10));
    assert!(b.is_full());
    assert!(!b.fits(&sized(1)));
    assert_eq!(b.body_len(), 2 + 1000 * 10 + 999);
    assert_eq!(b.take().len(), 1000);
    assert!(b.is_empty());
    assert_eq!(b.body_len(), 2);
}

#[test]
fn batch_stays_under_the_byte_goal_and_the_5mb_limit() {
    let mut b = Batcher::default();
    let mut sent = Vec::new();
    for _ in 0..20 {
        let e = sized(MAX_ENTRY);
        if !b.fits(&e) {
            sent.push(b.take());
        }
        b.push(e);
    }
    sent.push(b.take());
    for batch in &sent {
        let body = json_array(batch);
        assert!(body.len() <= BATCH_GOAL && body.len() < MAX_PAYLOAD);
    }
    assert_eq!(sent.iter().map(Vec::len).sum::<usize>(), 20);
    assert_eq!(sent[0].len(), 4);
    // an empty batch takes anything, so an entry is never stuck
    assert!(Batcher::new(10, 5).fits(&sized(100)));
}

#[test]
fn body_is_a_gzipped_json_array() {
    let es = vec![
        entry(&rec("a"), false, MAX_ENTRY).unwrap(),
        entry(&rec("b"), true, MAX_ENTRY).unwrap(),
    ];
    assert_eq!(events(&es), 1);
    let raw = json_array(&es);
    let mut out = String::new();
    flate2::read::GzDecoder::new(&gzip(&raw)[..])
        .read_to_string(&mut out)
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["message"], "a");
    assert_eq!(v[1]["message"], "b");
    assert_eq!(json_array(&[]), b"[]");
}

#[test]
fn every_status_code_has_the_documented_verdict() {
    use Verdict::*;
    for s in [200, 202, 204, 299] {
        assert_eq!(classify(s), Sent, "{s}");
    }
    assert_eq!(classify(400), Reject);
    assert_eq!(classify(401), BadKey);
    assert_eq!(classify(403), BadKey);
    assert_eq!(classify(408), Retry("http_408"));
    assert_eq!(classify(413), Split);
    assert_eq!(classify(429), Retry("http_429"));
    for s in [500, 502, 503, 504, 599] {
        assert_eq!(classify(s), Retry("http_5xx"), "{s}");
    }
    assert_eq!(classify(404), Retry("http_4xx"));
    assert_eq!(classify(301), Retry("http_other"));
    assert_eq!(classify(100), Retry("http_other"));
}

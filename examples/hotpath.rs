//! Per-message CPU cost of nocbox's syslog path, in-process: parse, build the record, render
//! the JSON line. `cargo run --release --example hotpath [LINE]`. Numbers depend on the
//! machine and its load; docs/PERFORMANCE.md says how they were taken.

mod support;

use std::hint::black_box;

use nocbox::event::Event;
use nocbox::inputs::syslog::{build_record, record_tags, Received};

const LOGGEN: &str = "<38>2026-11-21T13:59:40 localhost prg00000[1234]: seq: 0000000000, thread: 0000, runid: 1795269580, stamp: 2026-11-21T13:59:40 PADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADD";

fn main() {
    let line = std::env::args()
        .nth(1)
        .unwrap_or_else(|| LOGGEN.to_string());
    let line = line.as_bytes();
    let n = 200_000;
    let now = chrono::Utc::now();
    let rx = Received {
        peer: "127.0.0.1".parse().expect("address"),
        at: now,
        truncated: false,
        original_len: line.len(),
    };
    let ns = nocbox::inputs::syslog::namespace_tag("default");
    // Made once per sender by the input, so outside the measured loop.
    let tags = record_tags(rx.peer, None, &["env:prd".to_string()], &ns);
    let parse = support::per_op(n, || {
        black_box(nocbox::proto::syslog::parse(line, now));
    });
    let build = support::per_op(n, || {
        black_box(build_record(line, rx, None, tags.clone()));
    });
    let ev = Event::Log(build_record(line, rx, None, tags.clone()).0);
    let mut buf = Vec::with_capacity(4096);
    let render = support::per_op(n, || {
        buf.clear();
        buf.extend_from_slice(&nocbox::outputs::stdout::render(&ev));
        black_box(&buf);
    });
    println!(
        "parse {parse:.0} ns, build record (parse included) {build:.0} ns, render JSON line {render:.0} ns, {} bytes",
        buf.len()
    );
}

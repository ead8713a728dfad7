//! Per-message cost of each stage of nocbox's syslog path, on one core, no sockets:
//!   parse   `proto::syslog::parse`
//!   build   `inputs::syslog::build_record` (parse + the log record the input queues)
//!   render  `outputs::stdout::render` (record -> JSON line, what the stdout output writes)
//!   write   one `write_all` + `flush` per line to a file (a quiet queue: one line per write)
//!   batched the same lines through a 256 KiB buffer (a busy queue: the stdout output writes
//!           whatever is queued, up to 256 KiB, in one write)
//! Inputs: the 12 Cisco/Junos fixture lines and loggen's 200-byte legacy line.
//! Usage: nocbox-bench-stages [FIXTURE_FILE] [OUTPUT_FILE]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use chrono::Utc;
use nocbox::event::Event;
use nocbox::inputs::syslog::{build_record, record_tags, Received};
use nocbox::outputs::stdout::render;
use nocbox::proto::syslog::parse;

const LOGGEN: &str = "<38>2026-11-21T13:59:40 localhost prg00000[1234]: seq: 0000000000, thread: 0000, runid: 1795269580, stamp: 2026-11-21T13:59:40 PADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADD";

fn time<F: FnMut(usize)>(n: usize, mut f: F) -> f64 {
    // warm-up, then the measured loop; returns microseconds per call
    for i in 0..n / 10 {
        f(i);
    }
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn stages(name: &str, lines: &[String], out_path: &str, n: usize) {
    let peer = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let ns = nocbox::inputs::syslog::namespace_tag("default");
    // Made once per sender by the input, so outside the measured loop.
    let tags = record_tags(peer, None, &[], &ns);
    let rx = || Received { peer, at: Utc::now(), truncated: false, original_len: 0 };
    let mut sink = 0usize;

    let parse_us = time(n, |i| {
        let l = &lines[i % lines.len()];
        sink += parse(l.as_bytes(), Utc::now()).message.len();
    });
    let build_us = time(n, |i| {
        let l = &lines[i % lines.len()];
        let (rec, _) = build_record(l.as_bytes(), rx(), None, tags.clone());
        sink += rec.message.len();
    });
    let events: Vec<Event> = lines
        .iter()
        .map(|l| Event::Log(build_record(l.as_bytes(), rx(), None, tags.clone()).0))
        .collect();
    let render_us = time(n, |i| {
        sink += render(&events[i % events.len()]).len();
    });
    let rendered: Vec<Vec<u8>> = events.iter().map(render).collect();
    let avg_json = rendered.iter().map(Vec::len).sum::<usize>() / rendered.len();
    let mut f = std::fs::File::create(out_path).expect("create output file");
    let write_us = time(n, |i| {
        f.write_all(&rendered[i % rendered.len()]).unwrap();
        f.flush().unwrap();
    });
    let f = std::fs::File::create(out_path).expect("create output file");
    let mut bw = std::io::BufWriter::with_capacity(256 * 1024, f);
    let bufwrite_us = time(n, |i| {
        bw.write_all(&rendered[i % rendered.len()]).unwrap();
    });
    bw.flush().unwrap();
    drop(bw);
    let _ = std::fs::remove_file(out_path);
    let total = build_us + render_us + bufwrite_us;
    println!(
        "| {name} | {parse_us:.2} | {:.2} | {render_us:.2} | {write_us:.2} | {bufwrite_us:.2} | {total:.2} | {:.0} | {avg_json} |",
        build_us - parse_us,
        1e6 / total
    );
    std::hint::black_box(sink);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fixture = args.get(1).map(String::as_str).unwrap_or("bench/fixtures/cisco-junos.txt");
    let out = args.get(2).map(String::as_str).unwrap_or("/tmp/nocbox-bench-stages.out");
    let text = std::fs::read_to_string(fixture).expect("read the fixture file");
    let cisco: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(String::from).collect();
    let n = 300_000;
    println!("µs per message on one core ({n} messages per stage)");
    println!();
    println!("| lines | parse | record build (beyond parse) | JSON render | write per line | batched write | parse+build+render+batched write | msg/s on one core | JSON bytes/line |");
    println!("|---|---|---|---|---|---|---|---|---|");
    stages("loggen 200-byte legacy", &[LOGGEN.to_string()], out, n);
    stages("Cisco/Junos fixture (12 lines)", &cisco, out, n);
}

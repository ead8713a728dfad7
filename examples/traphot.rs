//! Per-trap CPU cost of nocbox's trap path, in-process and on one core: decode and accept
//! (`notify::Receiver::handle`), build the record (names from the trap DB), render the JSON
//! line. `cargo run --release --example traphot`. The trap is the one bench/traps.sh sends.

mod support;

/// The service's allocator (src/main.rs), so allocation costs what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::time::Duration;

use nocbox::event::Event;
use nocbox::inputs::traps::{build_record, record_tags, Origin};
use nocbox::proto::snmp::message::Limits;
use nocbox::proto::snmp::notify::{Handled, Receiver, Settings};
use nocbox::proto::snmp::trapdb::TrapDb;
use nocbox::proto::snmp::usm::LocalEngine;

fn main() {
    let trap = support::linkdown_trap("R-0000000001");
    let mut rx = Receiver::new(Settings {
        communities: vec![b"public".to_vec()],
        users: vec![],
        engine: LocalEngine {
            engine_id: b"\x80\x00\x00\x00\x05hotpath".to_vec(),
            boots: 1,
            started: Duration::ZERO,
        },
        limits: Limits::default(),
        max_engines: 16,
        salt_seed: 1,
    });
    let db = TrapDb::builtin();
    let n = 200_000;
    let configured = vec!["env:prd".to_string()];
    let origin = Origin {
        peer: "127.0.0.1".parse().expect("address"),
        at: chrono::Utc::now(),
        device: None,
        tags: &configured,
        namespace: "default",
    };
    // made once per sender by the input
    let tags = record_tags(2, &origin);
    let accept = support::per_op(n, || {
        black_box(rx.handle(&trap, Duration::ZERO));
    });
    let Handled::Notification(note) = rx.handle(&trap, Duration::ZERO).handled else {
        panic!("the trap was not accepted");
    };
    let build = support::per_op(n, || {
        black_box(build_record(&note, &origin, &db, tags.clone()));
    });
    let ev = Event::Log(build_record(&note, &origin, &db, tags.clone()).0);
    let mut buf = Vec::with_capacity(4096);
    let render = support::per_op(n, || {
        buf.clear();
        buf.extend_from_slice(&nocbox::outputs::stdout::render(&ev));
        black_box(&buf);
    });
    println!(
        "decode and accept {accept:.0} ns, build record {build:.0} ns, render JSON line {render:.0} ns, {} bytes",
        buf.len()
    );
}

//! Per-trap CPU cost of nocbox's trap path, in-process and on one core: decode and accept
//! (`notify::Receiver::handle`), build the record (names from the trap DB), render the JSON
//! line. `cargo run --release --example traphot`. The trap is the one bench/traps.sh sends.

use std::hint::black_box;
use std::time::{Duration, Instant};

use nocbox::event::Event;
use nocbox::inputs::traps::{build_record, Origin};
use nocbox::proto::snmp::message::{
    encode, CommunityMessage, GenericPdu, Limits, Message, PduKind, Version,
};
use nocbox::proto::snmp::notify::{Handled, Receiver, Settings};
use nocbox::proto::snmp::trapdb::TrapDb;
use nocbox::proto::snmp::usm::LocalEngine;
use nocbox::proto::snmp::{Oid, Pdu, Value, VarBind};

fn per_op(n: u32, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

fn oid(s: &str) -> Oid {
    s.parse().expect("OID")
}

fn main() {
    let trap = encode(&Message::Community(CommunityMessage {
        version: Version::V2c,
        community: "public".into(),
        pdu: Pdu::Generic(GenericPdu {
            kind: PduKind::TrapV2,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds: vec![
                VarBind::new(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(123_456)),
                VarBind::new(
                    oid("1.3.6.1.6.3.1.1.4.1.0"),
                    Value::Oid(oid("1.3.6.1.6.3.1.1.5.3")),
                ),
                VarBind::new(oid("1.3.6.1.2.1.2.2.1.1.7"), Value::Integer(7)),
                VarBind::new(oid("1.3.6.1.2.1.2.2.1.7.7"), Value::Integer(1)),
                VarBind::new(oid("1.3.6.1.2.1.2.2.1.8.7"), Value::Integer(2)),
                VarBind::new(
                    oid("1.3.6.1.4.1.8072.9999.1.0"),
                    Value::OctetString(b"R-0000000001".to_vec()),
                ),
            ],
        }),
    }));
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
    let tags = vec!["env:prd".to_string()];
    let origin = Origin {
        peer: "127.0.0.1".parse().expect("address"),
        at: chrono::Utc::now(),
        device: None,
        tags: &tags,
        namespace: "default",
    };
    let accept = per_op(n, || {
        black_box(rx.handle(&trap, Duration::ZERO));
    });
    let Handled::Notification(note) = rx.handle(&trap, Duration::ZERO).handled else {
        panic!("the trap was not accepted");
    };
    let build = per_op(n, || {
        black_box(build_record(&note, &origin, &db));
    });
    let ev = Event::Log(build_record(&note, &origin, &db).0);
    let mut buf = Vec::with_capacity(4096);
    let render = per_op(n, || {
        buf.clear();
        buf.extend_from_slice(&nocbox::outputs::stdout::render(&ev));
        black_box(&buf);
    });
    println!(
        "decode and accept {accept:.0} ns, build record {build:.0} ns, render JSON line {render:.0} ns, {} bytes",
        buf.len()
    );
}

//! A bounded SNMP trap load generator for the side-by-side benchmark (bench/traps.sh): sends one
//! pre-encoded SNMPv2c linkDown trap (community `public`, ifIndex, ifAdminStatus,
//! ifOperStatus and a sequence-number variable: 4 variables after sysUpTime.0 and
//! snmpTrapOID.0) at a fixed rate from several source ports, and prints one JSON line with what
//! it sent. Every trap carries `RUN-NNNNNNNNNN` in the OCTET STRING variable
//! 1.3.6.1.4.1.8072.9999.1.0 (RUN names the step), so a receiver's output can be counted per
//! step and checked for gaps.
//!
//! `cargo run --release --example trapload -- ADDR RATE SECONDS [SOCKETS] [RUN]`
//!
//! Pacing: the datagrams due by now (rate × elapsed) are sent in a tight loop, then the sender
//! sleeps 50 µs; a full socket buffer is retried on the next turn, never dropped by the
//! sender. Loopback only: the address must be 127.0.0.0/8 or ::1.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use nocbox::proto::snmp::message::{
    encode, CommunityMessage, GenericPdu, Message, PduKind, Version,
};
use nocbox::proto::snmp::{Oid, Pdu, Value, VarBind};

const SEQ_DIGITS: usize = 10;

fn usage() -> ! {
    eprintln!("usage: trapload ADDR RATE SECONDS [SOCKETS] [RUN]   (ADDR on loopback)");
    std::process::exit(2)
}

fn oid(s: &str) -> Oid {
    s.parse().expect("OID")
}

/// The trap, and where its sequence digits start.
fn trap(run: &str) -> (Vec<u8>, usize) {
    let marker = format!("{run}-{}", "9".repeat(SEQ_DIGITS));
    let varbinds = vec![
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
            Value::OctetString(marker.clone().into_bytes()),
        ),
    ];
    let bytes = encode(&Message::Community(CommunityMessage {
        version: Version::V2c,
        community: "public".into(),
        pdu: Pdu::Generic(GenericPdu {
            kind: PduKind::TrapV2,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds,
        }),
    }));
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("marker in the encoding");
    (bytes, at + run.len() + 1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        usage();
    }
    let addr: SocketAddr = args[0].parse().unwrap_or_else(|_| usage());
    if !addr.ip().is_loopback() {
        eprintln!("trapload: {addr} is not a loopback address");
        std::process::exit(2);
    }
    let rate: f64 = args[1].parse().unwrap_or_else(|_| usage());
    let seconds: f64 = args[2].parse().unwrap_or_else(|_| usage());
    let nsock: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(4);
    let run = args.get(4).cloned().unwrap_or_else(|| "R".into());
    if run.is_empty() || !run.chars().all(|c| c.is_ascii_alphanumeric()) {
        eprintln!("trapload: RUN must be letters and digits");
        std::process::exit(2);
    }
    let bind = if addr.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let socks: Vec<UdpSocket> = (0..nsock.max(1))
        .map(|_| {
            let s = UdpSocket::bind(bind).expect("bind");
            s.connect(addr).expect("connect");
            s.set_nonblocking(true).expect("nonblocking");
            s
        })
        .collect();

    let (mut datagram, seq_at) = trap(&run);
    let mut sent = 0u64;
    let mut blocked = 0u64;
    let start = Instant::now();
    let run_for = Duration::from_secs_f64(seconds);
    let mut next = 0usize;
    loop {
        let now = Instant::now();
        if now >= start + run_for {
            break;
        }
        let due = (rate * now.duration_since(start).as_secs_f64()) as u64;
        while sent < due {
            let digits = format!("{sent:0SEQ_DIGITS$}");
            datagram[seq_at..seq_at + SEQ_DIGITS].copy_from_slice(digits.as_bytes());
            if socks[next].send(&datagram).is_err() {
                blocked += 1;
                break; // socket buffer full: the same trap goes on the next turn
            }
            sent += 1;
            next = (next + 1) % socks.len();
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    let took = start.elapsed().as_secs_f64();
    println!(
        "{{\"target\":\"{addr}\",\"run\":\"{run}\",\"rate\":{rate},\"seconds\":{seconds},\"sent\":{sent},\"achieved_rate\":{:.0},\"send_blocked\":{blocked},\"datagram_bytes\":{},\"cpu_s\":{:.3}}}",
        sent as f64 / took,
        datagram.len(),
        own_cpu_seconds()
    );
}

/// This process's user + system CPU time so far.
fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes one rusage into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(ru.ru_utime) + secs(ru.ru_stime)
}

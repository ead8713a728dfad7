//! A bounded NTP load generator for the side-by-side benchmark (bench/ntp.sh): sends NTPv4 client
//! requests to one server at a fixed rate from several source ports, and prints one JSON line
//! with what came back: replies, loss, reply-size check and round-trip times.
//!
//! `cargo run --release --example ntpload -- ADDR RATE SECONDS [SOCKETS]`
//!
//! Each request's transmit timestamp is the send time; the reply echoes it as its origin, so
//! the round trip is measured per reply without keeping a table. Loopback only: the address
//! must be 127.0.0.0/8 or ::1.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Now as NTP timestamp bits (what nocbox writes on the wire).
fn now_ntp_bits() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::from_be_bytes(nocbox::proto::ntp::timestamp_bytes(
        d.as_secs(),
        d.subsec_nanos(),
    ))
}

fn main() {
    let args = support::LoadArgs::parse("ntpload ADDR RATE SECONDS [SOCKETS]", 8);
    let (addr, rate, seconds) = (args.addr, args.rate, args.seconds);
    let socks = args.connect();

    let mut req = [0u8; 48];
    req[0] = (4 << 3) | 3;
    let mut buf = [0u8; 1024];
    let (mut sent, mut received, mut oversize) = (0u64, 0u64, 0u64);
    let mut rtts: Vec<u32> = Vec::new();
    let start = Instant::now();
    let run = Duration::from_secs_f64(seconds);
    let end = start + run + Duration::from_millis(300);
    let mut next = 0usize;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if now < start + run {
            let due = (rate * now.duration_since(start).as_secs_f64()) as u64;
            while sent < due {
                req[40..48].copy_from_slice(&now_ntp_bits().to_be_bytes());
                if socks[next].send(&req).is_ok() {
                    sent += 1;
                } else {
                    break; // socket buffer full: retry on the next turn
                }
                next = (next + 1) % socks.len();
            }
        }
        let mut idle = true;
        for s in &socks {
            while let Ok(n) = s.recv(&mut buf) {
                idle = false;
                received += 1;
                if n > req.len() {
                    oversize += 1;
                }
                if n >= 48 {
                    let origin = u64::from_be_bytes(buf[24..32].try_into().unwrap());
                    let diff = now_ntp_bits().wrapping_sub(origin);
                    let us = ((diff as u128 * 1_000_000) >> 32) as u64;
                    rtts.push(us.min(u64::from(u32::MAX)) as u32);
                }
            }
        }
        if idle {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    rtts.sort_unstable();
    let pct = |p: f64| -> u32 {
        if rtts.is_empty() {
            return 0;
        }
        rtts[((rtts.len() - 1) as f64 * p) as usize]
    };
    let loss = if sent == 0 {
        0.0
    } else {
        100.0 * (sent.saturating_sub(received)) as f64 / sent as f64
    };
    println!(
        "{{\"target\":\"{addr}\",\"rate\":{rate},\"seconds\":{seconds},\"sent\":{sent},\"received\":{received},\"loss_pct\":{loss:.4},\"replies_longer_than_request\":{oversize},\"rtt_p50_us\":{},\"rtt_p99_us\":{},\"rtt_min_us\":{}}}",
        pct(0.5),
        pct(0.99),
        pct(0.0)
    );
}

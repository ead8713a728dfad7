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

mod support;

use std::time::{Duration, Instant};

const SEQ_DIGITS: usize = 10;

/// The trap, and where its sequence digits start.
fn trap(run: &str) -> (Vec<u8>, usize) {
    let marker = format!("{run}-{}", "9".repeat(SEQ_DIGITS));
    let bytes = support::linkdown_trap(&marker);
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("marker in the encoding");
    (bytes, at + run.len() + 1)
}

fn main() {
    let args = support::LoadArgs::parse("trapload ADDR RATE SECONDS [SOCKETS] [RUN]", 4);
    let (addr, rate, seconds) = (args.addr, args.rate, args.seconds);
    let run = args.rest.first().cloned().unwrap_or_else(|| "R".into());
    if run.is_empty() || !run.chars().all(|c| c.is_ascii_alphanumeric()) {
        eprintln!("trapload: RUN must be letters and digits");
        std::process::exit(2);
    }
    let socks = args.connect();

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

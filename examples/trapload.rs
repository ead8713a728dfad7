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
//! Pacing: the datagrams due by now (rate × elapsed) are sent with `sendmmsg`, up to
//! [`BATCH`] per call and each call from the next source port, then the sender sleeps
//! [`TICK`]; a full socket buffer is retried on the next turn, never dropped by the sender.
//! Batches and the longer tick cut the generator's own CPU by a fifth at 160k/s (a `send` per
//! datagram and a wake-up every 50 µs had cost that), which on 2 cores leaves more for the
//! receiver; a burst is one tick's worth, 40 datagrams at 160k/s. Loopback only: the address
//! must be 127.0.0.0/8 or ::1.

mod support;

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const SEQ_DIGITS: usize = 10;
/// Datagrams per `sendmmsg` call at most.
const BATCH: usize = 64;
/// The sleep between turns.
const TICK: Duration = Duration::from_micros(250);

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

    let (datagram, seq_at) = trap(&run);
    let mut batch = vec![datagram.clone(); BATCH];
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
            let n = ((due - sent) as usize).min(BATCH);
            for (i, d) in batch[..n].iter_mut().enumerate() {
                write_seq(&mut d[seq_at..seq_at + SEQ_DIGITS], sent + i as u64);
            }
            let done = send_batch(&socks[next], &batch[..n]);
            sent += done as u64;
            next = (next + 1) % socks.len();
            if done < n {
                blocked += 1;
                break; // socket buffer full: the rest go on the next turn
            }
        }
        std::thread::sleep(TICK);
    }
    let took = start.elapsed().as_secs_f64();
    println!(
        "{{\"target\":\"{addr}\",\"run\":\"{run}\",\"rate\":{rate},\"seconds\":{seconds},\"sent\":{sent},\"achieved_rate\":{:.0},\"send_blocked\":{blocked},\"datagram_bytes\":{},\"cpu_s\":{:.3}}}",
        sent as f64 / took,
        datagram.len(),
        own_cpu_seconds()
    );
}

/// `seq` as zero-padded decimal digits filling `out`.
fn write_seq(out: &mut [u8], mut seq: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (seq % 10) as u8;
        seq /= 10;
    }
}

/// Sends `datagrams` on the connected, non-blocking `sock` with one `sendmmsg`; returns how
/// many went (0 when the socket buffer is full).
fn send_batch(sock: &UdpSocket, datagrams: &[Vec<u8>]) -> usize {
    let mut iovs: Vec<libc::iovec> = datagrams
        .iter()
        .map(|d| libc::iovec {
            iov_base: d.as_ptr() as *mut libc::c_void,
            iov_len: d.len(),
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: mmsghdr is plain data; all-zero is a valid value (no address, no control).
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            m
        })
        .collect();
    // SAFETY: `msgs` points at `iovs`, which point at `datagrams`; all outlive the call, and the
    // kernel only reads them (and writes each msg_len).
    let n = unsafe {
        libc::sendmmsg(
            sock.as_raw_fd(),
            msgs.as_mut_ptr(),
            msgs.len() as libc::c_uint,
            0,
        )
    };
    usize::try_from(n).unwrap_or(0)
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

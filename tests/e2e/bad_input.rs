//! Bad input is normal: garbage, invalid UTF-8, oversized lines, half-open and flooding TCP
//! clients, senders outside the allow-list. Nothing panics, everything is counted, the service
//! keeps serving, and what was accepted is delivered.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use crate::harness::*;

const CFG: &str = "
syslog:
  udp: { listen: 127.0.0.1:0 }
  tcp: { listen: 127.0.0.1:0, max_connections: 20, idle_timeout: 2s }
  max_message_size: 1000
  health_check: { listen: 127.0.0.1:0 }
api: { listen: 127.0.0.1:0 }
outputs:
  stdout: { enabled: true }
";

#[test]
fn garbage_and_invalid_utf8_become_records_and_nothing_breaks() {
    let mut nb = Nocbox::start("garbage", CFG);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = nb.addr("syslog_udp");
    let mut seed: u32 = 12345;
    for i in 0..300 {
        let len = (i * 7) % 900;
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        udp.send_to(&junk, to).unwrap();
    }
    udp.send_to(b"<13>bad utf8 \xff\xfe\xc3\x28 here", to)
        .unwrap();
    udp.send_to(b"<999>pri out of range", to).unwrap();
    udp.send_to(b"", to).unwrap();
    let mut tcp = TcpStream::connect(nb.addr("syslog_tcp")).unwrap();
    tcp.write_all(b"<13>\xff\xfe binary \x00\x01 tcp\n<13>second line after binary\n")
        .unwrap();
    drop(tcp);
    let r = nb.find("bad utf8", 10);
    assert!(r["message"].as_str().unwrap().contains('\u{fffd}'));
    nb.find("pri out of range", 10);
    nb.find("second line after binary", 10);
    nb.wait_counter("nocbox.syslog.received", &[("transport", "udp")], 303, 10);
    assert!(nb.is_running());
    assert_eq!(nb.get("/healthz").0, 200);
}

#[test]
fn oversized_lines_are_truncated_and_flagged_and_the_stream_goes_on() {
    let nb = Nocbox::start("oversize", CFG);
    let big = format!("<13>big-tcp {}", "x".repeat(50_000));
    let mut tcp = TcpStream::connect(nb.addr("syslog_tcp")).unwrap();
    tcp.write_all(big.as_bytes()).unwrap();
    tcp.write_all(b"\n<13>after the big one\n").unwrap();
    let octet = format!("<13>big-octet {}", "y".repeat(5_000));
    let mut tcp2 = TcpStream::connect(nb.addr("syslog_tcp")).unwrap();
    let tail = "<13>after octet giant";
    tcp2.write_all(format!("{} {}{} {}", octet.len(), octet, tail.len(), tail).as_bytes())
        .unwrap();
    drop((tcp, tcp2));
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        format!("<13>big-udp {}", "z".repeat(30_000)).as_bytes(),
        nb.addr("syslog_udp"),
    )
    .unwrap();

    for (needle, original) in [
        ("big-tcp", big.len()),
        ("big-udp", 30_000 + 12),
        ("big-octet", octet.len()),
    ] {
        let r = nb.find(needle, 10);
        assert_eq!(r["syslog"]["truncated"], true, "{needle}");
        assert_eq!(r["syslog"]["original_size"], original, "{needle}");
        assert!(r["message"].as_str().unwrap().len() <= 1000);
    }
    nb.find("after the big one", 10);
    nb.find("after octet giant", 10);
    assert_eq!(nb.counter("nocbox.syslog.truncated", &[]), 3);
}

#[test]
fn half_open_and_flooding_clients_are_limited_and_counted() {
    let nb = Nocbox::start("flood", CFG);
    let addr = nb.addr("syslog_tcp");
    // 20 clients that connect and say nothing hold every slot...
    let idle: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(addr).unwrap()).collect();
    nb.wait_counter("nocbox.syslog.connections_accepted", &[], 20, 10);
    // ...so 30 more are refused at once and counted...
    for _ in 0..30 {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(b"<13>over the limit\n");
        }
    }
    nb.wait_counter(
        "nocbox.syslog.connections_rejected",
        &[("reason", "connection_limit")],
        30,
        10,
    );
    // ...until the idle timeout (2 s) frees the slots, and a normal sender gets through.
    nb.wait_counter("nocbox.syslog.idle_closed", &[], 20, 15);
    drop(idle);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"<13>after the flood\n").unwrap();
    drop(s);
    nb.find("after the flood", 10);
    // Churn: 200 short-lived senders, each closing its side and waiting for nocbox to close
    // the connection (as a well-behaved sender does): every line arrives.
    for i in 0..200 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(format!("<13>flood line {i}\n").as_bytes())
            .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = std::io::Read::read(&mut s, &mut [0u8; 16]);
    }
    let got = wait_for(15, || {
        let n = nb
            .records()
            .iter()
            .filter(|r| {
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("flood line"))
            })
            .count();
        (n == 200).then_some(n)
    });
    assert_eq!(got, Some(200), "log:\n{}", nb.log());
    assert_eq!(nb.get("/healthz").0, 200);
    // The TCP health-check listener answers while syslog is healthy.
    assert!(TcpStream::connect(nb.addr("syslog_health_check")).is_ok());
    assert_eq!(nb.get("/healthz/syslog").0, 200);
}

#[test]
fn senders_outside_the_allow_list_are_dropped_and_counted() {
    let yaml = CFG.replace(
        "  max_message_size: 1000",
        "  max_message_size: 1000\n  allowed_sources: 127.0.0.5/32,10.0.0.0/8",
    );
    let nb = Nocbox::start("allow", &yaml);
    let ok = UdpSocket::bind("127.0.0.5:0").unwrap();
    let bad = UdpSocket::bind("127.0.0.6:0").unwrap();
    bad.send_to(b"<13>from a stranger", nb.addr("syslog_udp"))
        .unwrap();
    ok.send_to(b"<13>from a friend", nb.addr("syslog_udp"))
        .unwrap();
    nb.find("from a friend", 10);
    nb.wait_counter(
        "nocbox.syslog.dropped",
        &[("reason", "source_not_allowed")],
        1,
        5,
    );
    assert!(!nb.records().iter().any(|r| r["message"]
        .as_str()
        .is_some_and(|m| m.contains("stranger"))));
}

#[test]
fn one_host_cannot_hold_every_connection() {
    let yaml = CFG.replace(
        "max_connections: 20, idle_timeout: 2s",
        "max_connections: 100, max_connections_per_source: 5, idle_timeout: 30s",
    );
    let nb = Nocbox::start("per-source", &yaml);
    let addr = nb.addr("syslog_tcp");
    let hog: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
    nb.wait_counter("nocbox.syslog.connections_accepted", &[], 5, 10);
    for _ in 0..10 {
        let mut s = TcpStream::connect(addr).unwrap();
        let _ = s.write_all(b"<13>hog line\n");
    }
    nb.wait_counter(
        "nocbox.syslog.connections_rejected",
        &[("reason", "per_source_limit")],
        10,
        10,
    );
    // Another device still gets in.
    let other = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    other
        .bind(
            &"127.0.0.2:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    other.connect(&addr.into()).unwrap();
    let mut other: TcpStream = other.into();
    other.write_all(b"<13>from another device\n").unwrap();
    drop(other);
    let r = nb.find("from another device", 10);
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.2");
    assert!(!nb.records().iter().any(|r| r["message"] == "hog line"));
    drop(hog);
}

//! A deploy: SIGTERM makes every health check fail at once, inputs keep receiving through the
//! drain period, everything received is delivered, and the process exits 0.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::harness::*;

const CFG: &str = "
syslog:
  udp: { listen: 127.0.0.1:0 }
  tcp: { listen: 127.0.0.1:0 }
  health_check: { listen: 127.0.0.1:0 }
api: { listen: 127.0.0.1:0 }
shutdown: { drain_period: 3s, flush_timeout: 5s }
";

#[test]
fn lines_sent_during_the_drain_arrive_and_health_fails_at_once() {
    let nb = Nocbox::start("drain", CFG);
    let (udp_to, tcp_to) = (nb.addr("syslog_udp"), nb.addr("syslog_tcp"));
    let hc = nb.addr("syslog_health_check");
    assert_eq!(nb.get("/healthz").0, 200);
    let sending = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(AtomicUsize::new(0));
    let (s2, n2) = (sending.clone(), sent.clone());
    let sender = std::thread::spawn(move || {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut tcp = TcpStream::connect(tcp_to).unwrap();
        let mut i = 0;
        while s2.load(Ordering::Relaxed) {
            udp.send_to(format!("<13>drain-udp {i}").as_bytes(), udp_to)
                .unwrap();
            tcp.write_all(format!("<13>drain-tcp {i}\n").as_bytes())
                .unwrap();
            i += 1;
            n2.store(i, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let before = sent.load(Ordering::Relaxed);
    nb.terminate();
    // Health fails within a moment of SIGTERM, while the inputs still listen.
    wait_for(2, || (nb.get("/healthz").0 == 503).then_some(())).expect("/healthz fails at once");
    assert_eq!(nb.get("/healthz/syslog").0, 503);
    wait_for(2, || TcpStream::connect(hc).is_err().then_some(()))
        .expect("health-check listener closes");
    std::thread::sleep(Duration::from_millis(1500));
    sending.store(false, Ordering::Relaxed);
    sender.join().unwrap();
    let total = sent.load(Ordering::Relaxed);
    assert!(
        total > before + 100,
        "lines were sent during the drain ({before} -> {total})"
    );
    let records = nb.records.clone();
    let status = nb.wait_exit(15);
    assert!(status.success(), "{status:?}");
    let count = |transport: &str| {
        let prefix = format!("drain-{transport} ");
        records
            .lock()
            .unwrap()
            .iter()
            .filter(|r| {
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(&prefix))
            })
            .count()
    };
    // The stdout reader may still be catching up with the pipe after the exit.
    wait_for(5, || {
        (count("udp") >= total && count("tcp") >= total).then_some(())
    });
    for transport in ["udp", "tcp"] {
        assert_eq!(
            count(transport),
            total,
            "{transport}: every line sent before and during the drain arrived"
        );
    }
}

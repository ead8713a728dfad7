//! Logs to a local HTTPS intake that checks Datadog's exact wire format (tests/peers/dd_intake.py):
//! headers, gzip, JSON array, batch limits. The intake answers 503 for a while: every accepted
//! line still arrives exactly once, and the counters say what happened.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::harness::*;

pub struct Intake {
    child: Child,
    pub port: u16,
    pub out: std::path::PathBuf,
}

impl Intake {
    pub fn start(dir: &Path, tls: &Path) -> Intake {
        Self::start_on(dir, tls, 0)
    }

    /// An intake on a given port (0 = any), appending to the same files as before.
    pub fn start_on(dir: &Path, tls: &Path, port: u16) -> Intake {
        let out = dir.join("intake");
        std::fs::create_dir_all(&out).unwrap();
        let mut child = Command::new("python3")
            .arg(peers_dir().join("dd_intake.py"))
            .args(["--cert", &tls.join("server.pem").display().to_string()])
            .args(["--key", &tls.join("server.key").display().to_string()])
            .args(["--port", &port.to_string()])
            .args(["--api-key", "test-api-key-0123", "--max-seconds", "300"])
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dd_intake.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("intake said {line:?}"));
        Intake { child, port, out }
    }

    pub fn set_mode(&self, mode: &str) {
        std::fs::write(self.out.join("mode"), mode).unwrap();
    }

    pub fn logs(&self) -> Vec<Value> {
        read_jsonl(&self.out.join("logs.jsonl"))
    }

    /// Series elements accepted at `/api/v2/series`.
    pub fn series(&self) -> Vec<Value> {
        read_jsonl(&self.out.join("series.jsonl"))
    }

    pub fn requests(&self) -> Vec<Value> {
        read_jsonl(&self.out.join("requests.jsonl"))
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn read_jsonl(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn config(intake: &Intake, tls: &Path, extra: &str) -> String {
    format!(
        "hostname: nocbox-test
syslog:
  udp: {{ listen: 127.0.0.1:0 }}
api: {{ listen: 127.0.0.1:0 }}
outputs:
  datadog:
    api_key: test-api-key-0123
    ca_file: {}/ca.pem
    logs: {{ transport: http, endpoint: \"https://127.0.0.1:{}\", flush_interval: 200ms{extra} }}
",
        tls.display(),
        intake.port
    )
}

fn user_logs(intake: &Intake, prefix: &str) -> Vec<Value> {
    intake
        .logs()
        .into_iter()
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with(prefix)))
        .collect()
}

#[test]
fn logs_reach_the_http_intake_in_datadog_format_exactly_once_across_an_outage() {
    let dir = scratch("dd-http");
    let tls = certs(&dir);
    let intake = Intake::start(&dir, &tls);
    let nb = Nocbox::start("dd-http", &config(&intake, &tls, ", mark_interval: 1s"));
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = nb.addr("syslog_udp");
    for i in 0..2500 {
        udp.send_to(format!("<187>5678: core-sw01: 5674: Aug 14 2026 09:21:07.118 CEST: %LINK-3-UPDOWN: batch-a {i}").as_bytes(), to).unwrap();
        if i % 500 == 499 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let a = wait_for(20, || {
        let l = user_logs(&intake, "%LINK-3-UPDOWN: batch-a");
        (l.len() >= 2500).then_some(l)
    })
    .unwrap_or_else(|| {
        panic!(
            "intake has {} of 2500; log:\n{}",
            user_logs(&intake, "%LINK").len(),
            nb.log()
        )
    });
    assert_eq!(a.len(), 2500);
    let r = &a[0];
    assert_eq!(r["hostname"], "core-sw01");
    assert_eq!(r["ddsource"], "cisco-ios");
    assert_eq!(r["status"], "error");
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.1");
    assert!(r.get("kind").is_none(), "kind is a stdout-only field");
    let reqs = intake.requests();
    assert!(
        reqs.iter().all(|q| q["entries"].as_u64().unwrap() <= 1000),
        "batches within 1000 entries"
    );
    assert!(reqs
        .iter()
        .any(|q| q["headers"]["content-encoding"] == "gzip"));
    assert!(reqs.iter().all(|q| q["headers"]
        .get("dd-api-key")
        .is_none_or(|v| v != "test-api-key-0123")));

    // Outage: the intake answers 503; lines keep arriving and are held, then delivered once.
    intake.set_mode("503");
    for i in 0..300 {
        udp.send_to(format!("<13>outage-b {i}").as_bytes(), to)
            .unwrap();
    }
    nb.wait_counter("nocbox.output.failed", &[("output", "datadog_logs")], 2, 20);
    intake.set_mode("");
    wait_for(60, || {
        (user_logs(&intake, "outage-b").len() >= 300).then_some(())
    })
    .unwrap_or_else(|| panic!("outage lines missing; log:\n{}", nb.log()));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let b = user_logs(&intake, "outage-b");
    let mut seen: Vec<&str> = b.iter().map(|l| l["message"].as_str().unwrap()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!((b.len(), seen.len()), (300, 300), "exactly once");
    assert!(nb.counter("nocbox.output.retries", &[("output", "datadog_logs")]) >= 1);
    assert_eq!(
        nb.counter("nocbox.output.dropped", &[("output", "datadog_logs")]),
        0
    );
    assert_eq!(nb.counter("nocbox.pipeline.dropped", &[]), 0);
    // Heartbeats for "no logs for a while" alerts.
    let marks: Vec<Value> = intake
        .logs()
        .into_iter()
        .filter(|l| l["service"] == "nocbox-mark")
        .collect();
    assert!(!marks.is_empty());
    assert_eq!(marks[0]["hostname"], "nocbox-test");
    // The API key never shows in status or in the log.
    assert!(!nb.get("/status").1.contains("test-api-key-0123"));
    assert!(!nb.log().contains("test-api-key-0123"));
}

#[test]
fn a_permanent_400_is_counted_not_retried_forever() {
    let dir = scratch("dd-400");
    let tls = certs(&dir);
    let intake = Intake::start(&dir, &tls);
    let nb = Nocbox::start("dd-400", &config(&intake, &tls, ", mark_interval: 0s"));
    intake.set_mode("400");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..10 {
        udp.send_to(
            format!("<13>rejected {i}").as_bytes(),
            nb.addr("syslog_udp"),
        )
        .unwrap();
    }
    nb.wait_counter(
        "nocbox.output.dropped",
        &[("output", "datadog_logs"), ("reason", "http_400")],
        10,
        20,
    );
    intake.set_mode("");
    udp.send_to(b"<13>accepted after 400", nb.addr("syslog_udp"))
        .unwrap();
    wait_for(20, || {
        (!user_logs(&intake, "accepted after 400").is_empty()).then_some(())
    })
    .unwrap_or_else(|| panic!("log:\n{}", nb.log()));
    assert!(user_logs(&intake, "rejected").is_empty());
}

#[test]
fn intake_down_and_back_then_sigterm_drains_everything() {
    let dir = scratch("dd-down");
    let tls = certs(&dir);
    let intake = Intake::start(&dir, &tls);
    let port = intake.port;
    let yaml = config(&intake, &tls, ", mark_interval: 0s") + "shutdown: { drain_period: 0s }\n";
    let nb = Nocbox::start("dd-down", &yaml);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let send = |prefix: &str, n: usize| {
        for i in 0..n {
            udp.send_to(
                format!("<13>{prefix} {i}").as_bytes(),
                nb.addr("syslog_udp"),
            )
            .unwrap();
        }
    };
    send("up-a", 50);
    wait_for(20, || {
        (user_logs(&intake, "up-a").len() == 50).then_some(())
    })
    .expect("first lines");
    // The intake process is gone: connections are refused, lines are held and retried.
    drop(intake);
    send("down-b", 200);
    nb.wait_counter("nocbox.output.failed", &[("output", "datadog_logs")], 1, 20);
    let intake = Intake::start_on(&dir, &tls, port);
    wait_for(60, || {
        (user_logs(&intake, "down-b").len() >= 200).then_some(())
    })
    .unwrap_or_else(|| panic!("status: {}\nlog:\n{}", nb.get("/status").1, nb.log()));
    // SIGTERM right after a burst: everything accepted is delivered before exit 0.
    send("at-stop-c", 1000);
    nb.wait_counter("nocbox.syslog.received", &[], 1250, 10);
    let status = nb.stop(30);
    assert!(status.success(), "{status:?}");
    for (prefix, n) in [("up-a", 50), ("down-b", 200), ("at-stop-c", 1000)] {
        let got = user_logs(&intake, prefix);
        let mut uniq: Vec<&str> = got.iter().filter_map(|l| l["message"].as_str()).collect();
        uniq.sort();
        uniq.dedup();
        assert_eq!((got.len(), uniq.len()), (n, n), "{prefix}: exactly once");
    }
}

//! Logs over the TCP+TLS intake format to a socat TLS server standing in for Datadog: API-key
//! prefixed lines, reconnection after the peer closes idle connections, and re-send after the
//! intake was down (at least once).

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use crate::harness::*;

fn start_listener(dir: &Path, tls: &Path, port: u16, name: &str, idle: &str) -> PeerGuard {
    let env = vec![
        ("TLS_DIR".to_string(), tls.display().to_string()),
        ("TLS_LISTEN_PORT".to_string(), port.to_string()),
        ("TLS_LISTEN_IDLE".to_string(), idle.to_string()),
    ];
    let mut c = peer("tls-listen.sh", dir);
    c.args(["start", name])
        .envs(env.iter().map(|(k, v)| (k, v)));
    run(&mut c);
    PeerGuard {
        script: "tls-listen.sh",
        args: vec![name.into()],
        peers: dir.to_path_buf(),
        env,
    }
}

/// Lines received by every capture, as (key, JSON payload).
fn captured(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for name in ["first", "second"] {
        let text =
            std::fs::read_to_string(dir.join(format!("tls-listen/{name}.bin"))).unwrap_or_default();
        for line in text.lines() {
            let (key, json) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line {line:?}"));
            out.push((
                key.to_string(),
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {line}")),
            ));
        }
    }
    out
}

fn count(dir: &Path, prefix: &str) -> usize {
    captured(dir)
        .iter()
        .filter(|(_, v)| v["message"].as_str().is_some_and(|m| m.starts_with(prefix)))
        .map(|(_, v)| v["message"].as_str().unwrap().to_string())
        .collect::<std::collections::HashSet<_>>()
        .len()
}

#[test]
fn tcp_intake_survives_idle_disconnects_and_an_outage() {
    let dir = scratch("dd-tcp");
    let tls = certs(&dir);
    let port = free_port();
    let first = start_listener(&dir, &tls, port, "first", "2");
    let yaml = format!(
        "syslog:\n  udp: {{ listen: 127.0.0.1:0 }}\napi: {{ listen: 127.0.0.1:0 }}\noutputs:\n  datadog:\n    api_key: test-api-key-0123\n    ca_file: {}/ca.pem\n    logs: {{ transport: tcp, endpoint: \"127.0.0.1:{port}\", mark_interval: 0s }}\n",
        tls.display()
    );
    let nb = Nocbox::start("dd-tcp", &yaml);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let send = |prefix: &str| {
        for i in 0..20 {
            udp.send_to(
                format!("<13>{prefix} {i}").as_bytes(),
                nb.addr("syslog_udp"),
            )
            .unwrap();
        }
    };
    send("before-idle");
    wait_for(15, || (count(&dir, "before-idle") == 20).then_some(()))
        .unwrap_or_else(|| panic!("log:\n{}", nb.log()));
    // The listener closes the connection after 2 s of silence; nocbox must notice on the read
    // side and reconnect before writing again.
    std::thread::sleep(Duration::from_secs(4));
    send("after-idle");
    wait_for(15, || (count(&dir, "after-idle") == 20).then_some(()))
        .unwrap_or_else(|| panic!("log:\n{}", nb.log()));
    assert!(nb.counter("nocbox.output.connects", &[("output", "datadog_logs")]) >= 2);

    // Outage: the intake is gone while lines arrive, then comes back on the same port.
    drop(first);
    std::thread::sleep(Duration::from_millis(500));
    send("during-outage");
    std::thread::sleep(Duration::from_secs(2));
    let _second = start_listener(&dir, &tls, port, "second", "30");
    wait_for(60, || (count(&dir, "during-outage") == 20).then_some(()))
        .unwrap_or_else(|| panic!("log:\n{}", nb.log()));
    let all = captured(&dir);
    assert!(
        all.iter().all(|(k, _)| k == "test-api-key-0123"),
        "every line is API-key prefixed"
    );
    assert_eq!(nb.counter("nocbox.pipeline.dropped", &[]), 0);
}

#[test]
fn tcp_marks_flow_while_idle() {
    let dir = scratch("dd-tcp-mark");
    let tls = certs(&dir);
    let port = free_port();
    let _l = start_listener(&dir, &tls, port, "first", "30");
    let yaml = format!(
        "hostname: marker\nsyslog:\n  udp: {{ listen: 127.0.0.1:0 }}\napi: {{ listen: 127.0.0.1:0 }}\noutputs:\n  datadog:\n    api_key: k-123\n    ca_file: {}/ca.pem\n    logs: {{ transport: tcp, endpoint: \"localhost:{port}\", mark_interval: 1s }}\n",
        tls.display()
    );
    let nb = Nocbox::start("dd-tcp-mark", &yaml);
    let marks = wait_for(15, || {
        let m: Vec<_> = captured(&dir)
            .into_iter()
            .filter(|(_, v)| v["service"] == "nocbox-mark")
            .collect();
        (m.len() >= 3).then_some(m)
    })
    .unwrap_or_else(|| panic!("no marks; log:\n{}", nb.log()));
    assert_eq!(marks[0].0, "k-123");
    assert_eq!(marks[0].1["hostname"], "marker");
    assert_eq!(marks[0].1["ddsource"], "nocbox");
}

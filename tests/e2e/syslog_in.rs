//! Syslog in from real senders: logger (UDP, TCP LF, TCP octet-counted), loggen (thousands of
//! lines over UDP and TCP, PROXY v2), rsyslog (TLS, octet-counted and LF), and the Cisco/Junos
//! fixture lines of reference/syslog.md sent as raw datagrams. And `syslog.tcp.backpressure`:
//! one TCP sender against a stalled stdout, lossless with it and counted drops without it.

use std::io::{BufWriter, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use crate::harness::*;

const PLAIN: &str = "
syslog:
  udp: { listen: 127.0.0.1:0 }
  tcp: { listen: 127.0.0.1:0 }
api: { listen: 127.0.0.1:0 }
snmp:
  devices:
    - { ip_address: 127.0.0.9, name: core-sw01 }
outputs:
  stdout: { enabled: true }
";

#[test]
fn logger_udp_and_tcp_in_every_framing() {
    let nb = Nocbox::start("logger", PLAIN);
    let udp = nb.addr("syslog_udp").port().to_string();
    let tcp = nb.addr("syslog_tcp").port().to_string();
    let logger = |args: &[&str]| run(Command::new("logger").args(["-n", "127.0.0.1"]).args(args));
    logger(&[
        "--udp",
        "-P",
        &udp,
        "--rfc3164",
        "-t",
        "myapp",
        "-p",
        "local0.warning",
        "udp 3164 line",
    ]);
    logger(&[
        "--udp",
        "-P",
        &udp,
        "--rfc5424",
        "-t",
        "app5",
        "--msgid",
        "ID47",
        "--sd-id",
        "ex@32473",
        "--sd-param",
        "iut=\"3\"",
        "udp 5424 line",
    ]);
    logger(&[
        "--tcp",
        "-P",
        &tcp,
        "--rfc3164",
        "-t",
        "lfapp",
        "tcp lf line",
    ]);
    logger(&[
        "--tcp",
        "-P",
        &tcp,
        "--rfc5424",
        "--octet-count",
        "-t",
        "occ",
        "tcp octet line",
    ]);

    let r = nb.find("udp 3164 line", 10);
    assert_eq!(r["message"], "udp 3164 line");
    assert_eq!(r["status"], "warn");
    assert_eq!(r["syslog"]["appname"], "myapp");
    assert_eq!(r["syslog"]["facility"], 16);
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.1");
    assert_eq!(r["kind"], "log");
    for key in ["hostname", "ddsource", "service", "ddtags", "timestamp"] {
        assert!(r[key].is_string(), "{key} missing in {r}");
    }

    let r = nb.find("udp 5424 line", 10);
    assert_eq!(r["syslog"]["msgid"], "ID47");
    assert_eq!(r["syslog"]["structured_data"]["ex@32473"]["iut"], "3");
    assert_eq!(r["service"], "app5");

    let r = nb.find("tcp lf line", 10);
    assert_eq!(r["syslog"]["appname"], "lfapp");
    let r = nb.find("tcp octet line", 10);
    assert_eq!(r["message"], "tcp octet line");
    assert_eq!(r["syslog"]["appname"], "occ");
    assert_eq!(
        nb.counter("nocbox.syslog.received", &[("transport", "tcp")]),
        2
    );
    assert_eq!(
        nb.counter("nocbox.syslog.received", &[("transport", "udp")]),
        2
    );
}

/// Every example line of reference/syslog.md §3, as a device would send it.
const FIXTURES: &[(&str, &str, &str, &str)] = &[
    // (line, expected message start, expected ddsource, expected hostname)
    ("<189>1234: 1230: *Mar  1 00:04:12.345: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.1.5)", "%SYS-5-CONFIG_I: Configured", "cisco-ios", "127.0.0.1"),
    ("<187>5678: core-sw01: 5674: Aug 14 2026 09:21:07.118 CEST: %LINK-3-UPDOWN: Interface GigabitEthernet1/0/12, changed state to down", "%LINK-3-UPDOWN: Interface GigabitEthernet1/0/12", "cisco-ios", "core-sw01"),
    ("<189>77: 3d04h: %LINEPROTO-5-UPDOWN: Line protocol on Interface Vlan20, changed state to up", "%LINEPROTO-5-UPDOWN:", "cisco-ios", "127.0.0.1"),
    ("<189>: Aug 14 09:21:09.412: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: netops] [Source: 10.1.1.5] [localport: 22] at 09:21:09 UTC Fri Aug 14 2026", "%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success", "cisco-ios", "127.0.0.1"),
    ("<166>Aug 14 2026 09:22:31: %ASA-6-302013: Built outbound TCP connection 884712 for outside:203.0.113.8/443 (203.0.113.8/443) to inside:10.10.1.20/52341 (198.51.100.7/52341)", "%ASA-6-302013: Built outbound", "cisco-asa", "127.0.0.1"),
    ("<166>Aug 14 2026 09:22:31 asa-fw01 : %ASA-6-302014: Teardown TCP connection 884712 for outside:203.0.113.8/443 to inside:10.10.1.20/52341 duration 0:00:31 bytes 5120 TCP FINs", "%ASA-6-302014: Teardown", "cisco-asa", "asa-fw01"),
    ("<14>1 2026-08-14T09:30:01.512+02:00 srx-fw01 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address=\"10.20.0.15\" source-port=\"51234\" destination-address=\"198.51.100.53\" destination-port=\"53\" service-name=\"junos-dns-udp\" protocol-id=\"17\" policy-name=\"trust-to-untrust\"] session created 10.20.0.15/51234->198.51.100.53/53", "session created 10.20.0.15", "juniper-junos", "srx-fw01"),
    ("<14>Aug 14 09:30:33 srx-fw01 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 10.20.0.15/50122->198.51.100.80/443 junos-https 203.0.113.10/41002->198.51.100.80/443 source rule snat-out N/A N/A 6 trust-to-untrust trust untrust 4100077 14(2321) 12(9876) 31 UNKNOWN UNKNOWN N/A(N/A) ge-0/0/1.0 No", "RT_FLOW_SESSION_CLOSE: session closed", "juniper-junos", "srx-fw01"),
    ("<29>Aug 14 09:31:02 mx01 mgd[4122]: UI_COMMIT: User 'netops' requested 'commit' operation (comment: none)", "UI_COMMIT: User 'netops'", "juniper-junos", "mx01"),
    ("<189>: 2026 Aug 14 09:46:57 CET: %ETHPORT-5-SPEED: Interface Ethernet1/1, operational speed changed to 10 Gbps", "%ETHPORT-5-SPEED:", "cisco-nxos", "127.0.0.1"),
    ("<166>%ASA-6-302013: Built outbound TCP connection 884712", "%ASA-6-302013: Built", "cisco-asa", "127.0.0.1"),
    ("<14>Dec 17 08:05:30 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 192.0.2.44/4431->10.20.0.9/3389 junos-rdp 6(0) deny-all untrust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 No", "RT_FLOW_SESSION_DENY: session denied", "juniper-junos", "127.0.0.1"),
];

#[test]
fn cisco_and_junos_lines_become_the_right_records() {
    let nb = Nocbox::start("fixtures", PLAIN);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (line, ..) in FIXTURES {
        sock.send_to(line.as_bytes(), nb.addr("syslog_udp"))
            .unwrap();
    }
    nb.wait_logs(FIXTURES.len(), 10);
    for (line, msg, source, host) in FIXTURES {
        let r = nb.find(msg, 1);
        assert!(
            r["message"].as_str().unwrap().starts_with(msg),
            "{line}\n=> {r}"
        );
        assert_eq!(r["ddsource"], *source, "{line}\n=> {r}");
        assert_eq!(r["hostname"], *host, "{line}\n=> {r}");
        assert!(r["syslog"]["parse_error"].is_null(), "{line}\n=> {r}");
    }
    let link = nb.find("%LINK-3-UPDOWN", 1);
    assert_eq!(link["status"], "error");
    assert_eq!(link["cisco"]["mnemonic"], "UPDOWN");
    assert_eq!(link["cisco"]["facility"], "LINK");
    assert_eq!(link["cisco"]["sequence"], 5674);
    assert_eq!(link["syslog"]["timestamp"], "2026-08-14T09:21:07.118+02:00");
    let flow = nb.find("session created 10.20.0.15", 1);
    assert_eq!(flow["junos"]["source-address"], "10.20.0.15");
    assert_eq!(flow["junos"]["policy-name"], "trust-to-untrust");
    // A bare PRI and plain garbage still become records, counted as unparsed.
    sock.send_to(b"<13>", nb.addr("syslog_udp")).unwrap();
    sock.send_to(b"hello world", nb.addr("syslog_udp")).unwrap();
    nb.find("hello world", 10);
    nb.wait_logs(FIXTURES.len() + 2, 10);
}

#[test]
fn configured_device_name_names_the_sender() {
    let nb = Nocbox::start("devname", PLAIN);
    let sock = UdpSocket::bind("127.0.0.9:0").unwrap();
    sock.send_to(
        b"<189>77: 3d04h: %SYS-5-CONFIG_I: named by config",
        nb.addr("syslog_udp"),
    )
    .unwrap();
    let r = nb.find("named by config", 10);
    assert_eq!(r["hostname"], "core-sw01");
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.9");
}

fn loggen(args: &[&str]) -> String {
    let peers = scratch("loggen-peers");
    run(peer("loggen.sh", &peers).args(args))
}

#[test]
fn loggen_thousands_over_udp_and_tcp_all_arrive() {
    let nb = Nocbox::start("loggen", PLAIN);
    let udp = nb.addr("syslog_udp").port().to_string();
    let tcp = nb.addr("syslog_tcp").port().to_string();
    // Bounded rates: loopback UDP is lossless at these rates with nocbox's 8 MiB buffer.
    loggen(&[
        "-i",
        "-D",
        "-r",
        "5000",
        "-n",
        "5000",
        "-s",
        "200",
        "127.0.0.1",
        &udp,
    ]);
    loggen(&[
        "-i",
        "-S",
        "-r",
        "5000",
        "-n",
        "5000",
        "-s",
        "200",
        "127.0.0.1",
        &tcp,
    ]);
    loggen(&[
        "-i",
        "-S",
        "-P",
        "-r",
        "5000",
        "-n",
        "3000",
        "-s",
        "300",
        "127.0.0.1",
        &tcp,
    ]);
    nb.wait_counter("nocbox.output.sent", &[("output", "stdout")], 13_000, 30);
    let logs = nb.wait_logs(13_000, 10);
    let parsed = logs
        .iter()
        .filter(|r| r["syslog"]["appname"] == "prg00000")
        .count();
    assert_eq!(
        parsed, 13_000,
        "every loggen line is parsed with its app-name"
    );
    let framed = logs
        .iter()
        .filter(|r| {
            r["syslog"]["procid"] == "1234"
                && r["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("seq: "))
        })
        .count();
    assert_eq!(framed, 13_000, "no line split or merged by framing");
    assert_eq!(nb.counter("nocbox.pipeline.dropped", &[]), 0);
    assert_eq!(nb.counter("nocbox.syslog.framing_errors", &[]), 0);
}

#[test]
fn proxy_headers_give_the_original_client_ip() {
    let yaml = PLAIN.replace(
        "tcp: { listen: 127.0.0.1:0 }",
        "tcp: { listen: 127.0.0.1:0, proxy_protocol: true, trusted_proxies: \"127.0.0.1,127.0.0.2\" }",
    );
    let nb = Nocbox::start("proxy", &yaml);
    let tcp = nb.addr("syslog_tcp");
    // PROXY v1 from loggen.
    let out = loggen(&[
        "-i",
        "-S",
        "-H",
        "--proxy-src-ip",
        "192.0.2.77",
        "--proxy-dst-ip",
        "127.0.0.1",
        "--proxy-src-port",
        "40000",
        "--proxy-dst-port",
        "514",
        "-n",
        "20",
        "-s",
        "200",
        "127.0.0.1",
        &tcp.port().to_string(),
    ]);
    // loggen 3.38 sends one line fewer than -n in PROXY mode; trust its own count.
    let sent: usize = out
        .split("count=")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in loggen output: {out}"));
    assert!(sent >= 19, "{out}");
    let logs = nb.wait_logs(sent, 15);
    assert!(
        logs.iter()
            .all(|r| r["network"]["client"]["ip"] == "192.0.2.77"),
        "{:?}",
        logs[0]
    );

    // PROXY v2 from haproxy, which connects to nocbox from 127.0.0.2 on behalf of logger
    // (127.0.0.1), as an NLB without client-IP preservation would.
    let dir = scratch("haproxy");
    let front = free_port();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n\
             frontend fe\n  bind 127.0.0.1:{front}\n  default_backend be\n\
             backend be\n  server nb {tcp} send-proxy-v2 source 127.0.0.2\n"
        ),
    )
    .unwrap();
    let _haproxy = ChildGuard::spawn(Command::new("haproxy").arg("-db").arg("-f").arg(&cfg));
    wait_for(10, || {
        std::net::TcpStream::connect(("127.0.0.1", front)).ok()
    })
    .expect("haproxy listening");
    run(Command::new("logger").args([
        "--tcp",
        "-n",
        "127.0.0.1",
        "-P",
        &front.to_string(),
        "-t",
        "hap",
        "via haproxy v2",
    ]));
    let r = nb.find("via haproxy v2", 15);
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.1");
    assert_eq!(r["syslog"]["appname"], "hap");

    // An NLB health check: PROXY v2 LOCAL; the socket's own peer is the client.
    let mut local = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    local.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(tcp).unwrap();
    s.write_all(&local).unwrap();
    s.write_all(b"<13>after local header\n").unwrap();
    drop(s);
    let r = nb.find("after local header", 10);
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.1");
    // Without a header the connection is refused and counted.
    let mut s = std::net::TcpStream::connect(tcp).unwrap();
    s.write_all(b"<13>no proxy header here, not accepted at all\n")
        .unwrap();
    drop(s);
    nb.wait_counter(
        "nocbox.syslog.connections_rejected",
        &[("reason", "not_proxy")],
        1,
        10,
    );
    // A header from outside trusted_proxies is refused: nobody can claim a device's address.
    let rogue = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    rogue
        .bind(
            &"127.0.0.3:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    rogue.connect(&tcp.into()).unwrap();
    let mut rogue: std::net::TcpStream = rogue.into();
    rogue
        .write_all(b"PROXY TCP4 10.0.0.1 127.0.0.1 1 514\n<13>spoofed\n")
        .unwrap();
    drop(rogue);
    nb.wait_counter(
        "nocbox.syslog.connections_rejected",
        &[("reason", "untrusted_proxy")],
        1,
        10,
    );
    assert!(!nb.records().iter().any(|r| r["message"]
        .as_str()
        .is_some_and(|m| m.contains("not accepted"))));
}

#[test]
fn rsyslog_forwards_over_tls_octet_counted_and_lf() {
    let dir = scratch("rsyslog-tls");
    let tls = certs(&dir);
    let yaml = format!(
        "syslog:\n  tcp:\n    listen: 127.0.0.1:0\n    tls: {{ cert_file: {0}/server.pem, key_file: {0}/server.key }}\napi: {{ listen: 127.0.0.1:0 }}\n",
        tls.display()
    );
    // Two nocbox TLS listeners: one for each rsyslog action (octet-counted via gtls, LF via ossl).
    let octet = Nocbox::start("rsyslog-octet", &yaml);
    let lf = Nocbox::start("rsyslog-lf", &yaml);
    let send_port = free_port().to_string();
    let env = vec![
        ("TLS_DIR".to_string(), tls.display().to_string()),
        ("RSYSLOG_SEND_UDP_PORT".to_string(), send_port.clone()),
        (
            "RSYSLOG_FWD_OCTET_PORT".to_string(),
            octet.addr("syslog_tcp").port().to_string(),
        ),
        (
            "RSYSLOG_FWD_LF_PORT".to_string(),
            lf.addr("syslog_tcp").port().to_string(),
        ),
    ];
    let mut c = peer("rsyslog.sh", &dir);
    c.args(["start", "send"])
        .envs(env.iter().map(|(k, v)| (k, v)));
    run(&mut c);
    let _guard = PeerGuard {
        script: "rsyslog.sh",
        args: vec!["send".into()],
        peers: dir.clone(),
        env,
    };
    run(Command::new("logger").args([
        "--udp",
        "-n",
        "127.0.0.1",
        "-P",
        &send_port,
        "--rfc5424",
        "-t",
        "relayed",
        "--msgid",
        "RT1",
        "round trip one",
    ]));
    for nb in [&octet, &lf] {
        let r = nb.find("round trip one", 20);
        assert_eq!(r["message"], "round trip one");
        assert_eq!(r["syslog"]["appname"], "relayed");
        assert_eq!(r["syslog"]["msgid"], "RT1");
        assert_eq!(
            nb.counter("nocbox.syslog.received", &[("transport", "tls")]),
            1
        );
    }
}

const FLOOD: usize = 20_000;

/// A small stdout queue, so a stalled stdout fills it at once; a short idle timeout, so a
/// connection closed for "idleness" while nocbox itself stopped reading would show.
fn backpressure_cfg(on: bool) -> String {
    format!(
        "
syslog:
  tcp: {{ listen: 127.0.0.1:0, idle_timeout: 1s, backpressure: {on} }}
api: {{ listen: 127.0.0.1:0 }}
outputs:
  stdout: {{ enabled: true, queue_size: 100 }}
"
    )
}

/// Sends `FLOOD` numbered lines over one TCP connection from a thread (which blocks when TCP
/// holds it back).
fn flood(nb: &Nocbox, tag: &'static str) -> std::thread::JoinHandle<std::io::Result<()>> {
    let to = nb.addr("syslog_tcp");
    std::thread::spawn(move || {
        let mut w = BufWriter::new(TcpStream::connect(to)?);
        for i in 0..FLOOD {
            writeln!(w, "<13>{tag} {i}")?;
        }
        w.flush()
    })
}

/// How many times each line number of `tag` arrived on stdout.
fn arrivals(nb: &Nocbox, tag: &str) -> Vec<usize> {
    let prefix = format!("{tag} ");
    let mut seen = vec![0; FLOOD];
    for r in nb.records.lock().unwrap().iter() {
        let n = r["message"].as_str().and_then(|m| m.strip_prefix(&prefix));
        if let Some(i) = n.and_then(|n| n.parse::<usize>().ok()) {
            seen[i] += 1;
        }
    }
    seen
}

fn wait_arrivals(nb: &Nocbox, tag: &str, total: usize) -> Vec<usize> {
    wait_for(20, || {
        let seen = arrivals(nb, tag);
        (seen.iter().sum::<usize>() >= total).then_some(seen)
    })
    .unwrap_or_else(|| {
        let got: usize = arrivals(nb, tag).iter().sum();
        panic!("{got} of {total} {tag} lines arrived; log:\n{}", nb.log())
    })
}

#[test]
fn tcp_backpressure_slows_the_sender_instead_of_dropping() {
    let nb = Nocbox::start("backpressure-on", &backpressure_cfg(true));
    let tcp = [("transport", "tcp")];
    nb.pause_stdout();
    let sender = flood(&nb, "bp-on");
    nb.wait_counter("nocbox.syslog.backpressure_waits", &tcp, 1, 10);
    // Held back for longer than the idle timeout: nocbox stopped reading, the peer was not idle.
    std::thread::sleep(Duration::from_secs(2));
    let read = nb.counter("nocbox.syslog.received", &tcp) as usize;
    assert!(read < FLOOD / 2, "reading stopped ({read} lines read)");
    nb.resume_stdout();
    sender.join().unwrap().expect("send every line");
    let seen = wait_arrivals(&nb, "bp-on", FLOOD);
    let wrong: Vec<_> = seen.iter().enumerate().filter(|(_, n)| **n != 1).collect();
    assert!(
        wrong.is_empty(),
        "lines not arriving exactly once: {wrong:?}"
    );
    assert_eq!(
        nb.counter("nocbox.pipeline.dropped", &[("output", "stdout")]),
        0
    );
    assert_eq!(nb.counter("nocbox.syslog.idle_closed", &[]), 0);
    assert!(nb.counter("nocbox.syslog.backpressure_microseconds", &tcp) >= 1_000_000);
}

#[test]
fn a_connection_paused_for_room_still_ends_on_sigterm() {
    let cfg = backpressure_cfg(true) + "shutdown: { drain_period: 0s, flush_timeout: 1s }\n";
    let nb = Nocbox::start("backpressure-stop", &cfg);
    nb.pause_stdout();
    let _sender = flood(&nb, "bp-stop");
    nb.wait_counter("nocbox.syslog.backpressure_waits", &[], 1, 10);
    // stdout stays stalled for good: the output is ended by the flush timeout, and the paused
    // connection by the stop grace; the service waits for every input before it flushes, so
    // it could not exit with the connection still waiting.
    let status = nb.stop(10);
    assert!(status.success(), "{status:?}");
}

#[test]
fn without_backpressure_a_stalled_output_drops_and_counts() {
    let nb = Nocbox::start("backpressure-off", &backpressure_cfg(false));
    let tcp = [("transport", "tcp")];
    nb.pause_stdout();
    let sender = flood(&nb, "bp-off");
    // Everything is read while stdout is stalled; what does not fit in the queue is dropped.
    nb.wait_counter("nocbox.syslog.received", &tcp, FLOOD as u64, 15);
    sender.join().unwrap().expect("send every line");
    nb.resume_stdout();
    let dropped = nb.counter("nocbox.pipeline.dropped", &[("output", "stdout")]) as usize;
    assert!(dropped > FLOOD / 2, "{dropped} dropped");
    let seen = wait_arrivals(&nb, "bp-off", FLOOD - dropped);
    assert!(seen.iter().all(|n| *n <= 1));
    assert_eq!(seen.iter().sum::<usize>(), FLOOD - dropped);
    assert_eq!(nb.counter("nocbox.syslog.backpressure_waits", &tcp), 0);
}

//! The trap and inform receiver against net-snmp 5.9.3's `snmptrap` and `snmpinform` (Debian
//! package `snmp`, installed by scripts/test.sh): v1, v2c and v3 at every level, two sender
//! engine IDs for one user, informs acknowledged only when they authenticate, every refusal
//! counted by reason, and garbage from a plain UDP socket. Each net-snmp program gets its own
//! state and config directory (`SNMP_PERSISTENT_DIR`, `SNMPCONFPATH`), so /etc/snmp and
//! /var/lib/snmp are never read or written. Loopback only.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nocbox::proto::snmp::message::{
    encode, CommunityMessage, GenericPdu, Message, PduKind, Version,
};
use nocbox::proto::snmp::{Oid, Pdu, Value, VarBind};
use serde_json::Value as Json;

use crate::harness::*;
use crate::ntp::which;

/// The sender engine IDs net-snmp claims with `-e` (for traps, the sender is authoritative).
const ENGINE_A: &str = "0x8000000001020304";
const ENGINE_B: &str = "0x80000000010a0b0c0d";

const CFG: &str = r#"
api: { listen: 127.0.0.1:0 }
snmp:
  devices:
    - { ip_address: 127.0.0.1, name: lab-switch, tags: ["site:lab"] }
traps:
  listen: 127.0.0.1:0
  community_strings: public
  users:
    - { user: trapuser, auth_protocol: sha, auth_key: authpass123, priv_protocol: aes, priv_key: privpass123 }
    - { username: trapuser256, authProtocol: SHA-256, authKey: authpass123, privProtocol: AES-256, privKey: privpass123 }
    - { user: authonly, auth_protocol: sha, auth_key: authpass123 }
    - { user: pinned, auth_protocol: sha, auth_key: authpass123, priv_protocol: aes, priv_key: privpass123, engine_ids: ["0x8000000001020304"] }
shutdown: { drain_period: 0s }
"#;

/// Runs a net-snmp client program to completion (at most 15 s) with its own state directory
/// under `dir`; returns whether it succeeded and what it printed. `''` in `args` is an empty
/// argument (snmptrap's "use my uptime").
fn net_snmp(dir: &Path, program: &str, args: &str) -> (bool, String) {
    let state = dir.join("net-snmp");
    std::fs::create_dir_all(state.join("persist")).unwrap();
    let args: Vec<&str> = args
        .split_whitespace()
        .map(|a| if a == "''" { "" } else { a })
        .collect();
    let mut child = Command::new(which(program))
        .args(&args)
        .env("SNMP_PERSISTENT_DIR", state.join("persist"))
        .env("SNMPCONFPATH", &state)
        .env("MIBS", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} (Debian package snmp): {e}"));
    let until = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("{program} {} did not finish", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (status.success(), text)
}

/// linkDown (`up` false) or linkUp for interface `index`, admin up, oper down/up, as
/// snmptrap/snmpinform arguments after the address.
fn link_args(up: bool, index: u32) -> String {
    let (trap, oper) = if up { (4, 1) } else { (3, 2) };
    format!(
        "'' 1.3.6.1.6.3.1.1.5.{trap} 1.3.6.1.2.1.2.2.1.1.{index} i {index} \
         1.3.6.1.2.1.2.2.1.7.{index} i 1 1.3.6.1.2.1.2.2.1.8.{index} i {oper}"
    )
}

/// `-v3 ... -l LEVEL` arguments for `user`.
fn v3(user: &str, auth: &str, privacy: Option<&str>, auth_pass: &str) -> String {
    match privacy {
        Some(p) => {
            format!("-v3 -u {user} -l authPriv -a {auth} -A {auth_pass} -x {p} -X privpass123")
        }
        None => format!("-v3 -u {user} -l authNoPriv -a {auth} -A {auth_pass}"),
    }
}

fn target(nb: &Nocbox) -> String {
    nb.addr("traps").to_string()
}

/// Sends a trap that must leave snmptrap successfully (a trap is never answered, so success
/// only means it was sent).
fn snmptrap(nb: &Nocbox, dir: &Path, level: &str, rest: &str) {
    let args = format!("{level} {} {rest}", target(nb));
    let (ok, out) = net_snmp(dir, "snmptrap", &args);
    assert!(ok, "snmptrap {args}: {out}");
}

/// The trap record for interface `index` sent with SNMP version `version` (1, 2 or 3).
fn record(nb: &Nocbox, index: u64, version: u8) -> Json {
    let tag = format!("snmp_version:{version}");
    wait_for(10, || {
        nb.records().into_iter().find(|r| {
            r["ddsource"] == "snmp-traps"
                && r["ifIndex"] == index
                && r["ddtags"]
                    .as_str()
                    .is_some_and(|t| t.split(',').any(|x| x == tag))
        })
    })
    .unwrap_or_else(|| {
        panic!(
            "no v{version} record for ifIndex {index}; log:\n{}",
            nb.log()
        )
    })
}

/// What a user checks in a linkDown/linkUp record.
fn assert_link(r: &Json, up: bool, index: u64) {
    let (name, oper) = if up {
        ("linkUp", "up")
    } else {
        ("linkDown", "down")
    };
    assert_eq!(r["snmpTrapName"], name, "{r}");
    assert_eq!(r["snmpTrapMIB"], "IF-MIB");
    assert_eq!(
        r["snmpTrapOID"],
        format!("1.3.6.1.6.3.1.1.5.{}", if up { 4 } else { 3 })
    );
    assert_eq!(r["ifIndex"], index);
    assert_eq!(r["ifAdminStatus"], "up");
    assert_eq!(r["ifOperStatus"], oper);
    assert_eq!(r["hostname"], "lab-switch");
    assert_eq!(r["service"], "snmp-traps");
    assert_eq!(r["network"]["client"]["ip"], "127.0.0.1");
    assert!(r["uptime"].is_u64(), "{r}");
    let tags = r["ddtags"].as_str().unwrap();
    for t in [
        "site:lab",
        "device_namespace:default",
        "snmp_device:127.0.0.1",
    ] {
        assert!(tags.split(',').any(|x| x == t), "{t} in {tags}");
    }
    let vars = r["variables"].as_array().unwrap();
    let oper_var = vars
        .iter()
        .find(|v| v["oid"] == format!("1.3.6.1.2.1.2.2.1.8.{index}"))
        .unwrap_or_else(|| panic!("ifOperStatus in {r}"));
    assert_eq!(oper_var["type"], "integer");
    assert_eq!(oper_var["value"], if up { 1 } else { 2 });
    let message = r["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("IF-MIB::{name} from lab-switch (127.0.0.1)")),
        "{message}"
    );
}

#[test]
fn traps_of_every_version_and_level_are_forwarded_with_names_and_labels() {
    let dir = scratch("traps-all");
    let nb = Nocbox::start("traps-all", CFG);
    // v1 generic linkDown (2): translated to IF-MIB::linkDown (RFC 3584)
    let v1 = "1.3.6.1.4.1.8072.3.2.10 127.0.0.1 2 0 '' 1.3.6.1.2.1.2.2.1.1.11 i 11 \
              1.3.6.1.2.1.2.2.1.7.11 i 1 1.3.6.1.2.1.2.2.1.8.11 i 2";
    snmptrap(&nb, &dir, "-v1 -c public", v1);
    snmptrap(&nb, &dir, "-v2c -c public", &link_args(false, 12));
    let sha = v3("authonly", "SHA", None, "authpass123");
    snmptrap(
        &nb,
        &dir,
        &format!("{sha} -e {ENGINE_A}"),
        &link_args(true, 13),
    );
    // one user, two sender engine IDs: keys localized to each
    let sha_aes = v3("trapuser", "SHA", Some("AES"), "authpass123");
    snmptrap(
        &nb,
        &dir,
        &format!("{sha_aes} -e {ENGINE_A}"),
        &link_args(false, 14),
    );
    snmptrap(
        &nb,
        &dir,
        &format!("{sha_aes} -e {ENGINE_B}"),
        &link_args(true, 15),
    );
    let sha256 = v3("trapuser256", "SHA-256", Some("AES-256"), "authpass123");
    snmptrap(
        &nb,
        &dir,
        &format!("{sha256} -e {ENGINE_B}"),
        &link_args(false, 16),
    );

    let r = record(&nb, 11, 1);
    assert_link(&r, false, 11);
    assert_eq!(r["enterpriseOID"], "1.3.6.1.4.1.8072.3.2.10");
    assert_eq!(
        (&r["genericTrap"], &r["specificTrap"]),
        (&Json::from(2), &Json::from(0))
    );
    assert_link(&record(&nb, 12, 2), false, 12);
    let r = record(&nb, 13, 3);
    assert_link(&r, true, 13);
    assert_eq!(r["snmp"]["user"], "authonly");
    let a = record(&nb, 14, 3);
    let b = record(&nb, 15, 3);
    assert_link(&a, false, 14);
    assert_link(&b, true, 15);
    assert_eq!(a["snmp"]["engine_id"], ENGINE_A.trim_start_matches("0x"));
    assert_eq!(b["snmp"]["engine_id"], ENGINE_B.trim_start_matches("0x"));
    assert_eq!(b["snmp"]["user"], "trapuser");
    assert_link(&record(&nb, 16, 3), false, 16);

    let n = |v: &str| {
        nb.counter(
            "nocbox.traps.notifications",
            &[("version", v), ("type", "trap")],
        )
    };
    assert_eq!((n("1"), n("2c"), n("3")), (1, 1, 4));
    assert_eq!(
        nb.counter("nocbox.traps.received", &[("device", "lab-switch")]),
        6
    );
    assert_eq!(
        nb.counter("nocbox.traps.by_trap", &[("trap", "IF-MIB::linkDown")]),
        4
    );
    assert_eq!(
        nb.counter("nocbox.traps.by_trap", &[("trap", "IF-MIB::linkUp")]),
        2
    );
    assert_eq!(nb.counter("nocbox.traps.dropped", &[]), 0);
    // Prometheus names on /metrics
    let (_, metrics) = nb.get("/metrics");
    assert!(
        metrics.contains("nocbox_traps_received_total{device=\"lab-switch\"} 6"),
        "{metrics}"
    );
    // both sender engines are remembered (published every 5 s)
    nb.wait_gauge("nocbox.traps.engines", 2, 12);
}

#[test]
fn informs_succeed_only_when_they_authenticate() {
    let dir = scratch("traps-informs");
    let nb = Nocbox::start("traps-informs", CFG);
    let inform = |level: &str, index: u32| {
        let args = format!(
            "-t 1 -r 0 {level} {} {}",
            target(&nb),
            link_args(true, index)
        );
        net_snmp(&dir, "snmpinform", &args)
    };
    let (ok, out) = inform("-v2c -c public", 21);
    assert!(ok, "{out}");
    let r = record(&nb, 21, 2);
    assert_link(&r, true, 21);
    assert_eq!(r["snmp"]["pdu"], "inform");
    let (ok, out) = inform(
        &v3("trapuser256", "SHA-256", Some("AES-256"), "authpass123"),
        22,
    );
    assert!(ok, "{out}");
    assert_link(&record(&nb, 22, 3), true, 22);
    let (ok, out) = inform(&v3("authonly", "SHA", None, "authpass123"), 23);
    assert!(ok, "{out}");
    assert_link(&record(&nb, 23, 3), true, 23);
    assert_eq!(nb.counter("nocbox.traps.informs_acknowledged", &[]), 3);
    // discovery: each v3 snmpinform learned our engine ID from a Report first
    assert_eq!(
        nb.counter("nocbox.traps.reports", &[("kind", "unknown_engine_id")]),
        2
    );

    let (ok, out) = inform("-v2c -c private", 24);
    assert!(!ok, "a wrong community was acknowledged: {out}");
    let (ok, out) = inform(
        &v3("trapuser256", "SHA-256", Some("AES-256"), "wrongpass123"),
        25,
    );
    assert!(!ok && out.contains("Authentication failure"), "{out}");
    let (ok, out) = inform(&v3("nobody", "SHA", Some("AES"), "authpass123"), 26);
    assert!(!ok, "an unknown user was acknowledged: {out}");

    let dropped = |reason| nb.counter("nocbox.traps.dropped", &[("reason", reason)]);
    assert_eq!(dropped("unknown_community"), 1);
    assert_eq!(dropped("wrong_digest"), 1);
    assert_eq!(dropped("unknown_user"), 1);
    assert_eq!(
        nb.counter("nocbox.traps.reports", &[("kind", "wrong_digest")]),
        1
    );
    assert_eq!(nb.counter("nocbox.traps.informs_acknowledged", &[]), 3);
    for index in [24, 25, 26] {
        assert!(
            !nb.records().iter().any(|r| r["ifIndex"] == index),
            "a refused inform was forwarded"
        );
    }
}

#[test]
fn traps_that_do_not_authenticate_are_dropped_and_counted_by_reason() {
    let dir = scratch("traps-refused");
    let nb = Nocbox::start("traps-refused", CFG);
    snmptrap(&nb, &dir, "-v2c -c private", &link_args(false, 31));
    let wrong_auth = v3("trapuser", "SHA", Some("AES"), "wrongpass123");
    snmptrap(
        &nb,
        &dir,
        &format!("{wrong_auth} -e {ENGINE_A}"),
        &link_args(false, 32),
    );
    let wrong_priv = format!(
        "-v3 -u trapuser -l authPriv -a SHA -A authpass123 -x AES -X wrongpriv99 -e {ENGINE_A}"
    );
    snmptrap(&nb, &dir, &wrong_priv, &link_args(false, 33));
    let stranger = v3("stranger", "SHA", Some("AES"), "authpass123");
    snmptrap(
        &nb,
        &dir,
        &format!("{stranger} -e {ENGINE_A}"),
        &link_args(false, 34),
    );
    // `pinned` accepts traps from ENGINE_A only
    let pinned = v3("pinned", "SHA", Some("AES"), "authpass123");
    snmptrap(
        &nb,
        &dir,
        &format!("{pinned} -e {ENGINE_B}"),
        &link_args(false, 35),
    );
    let noauth = format!("-v3 -u trapuser -l noAuthNoPriv -e {ENGINE_A}");
    snmptrap(&nb, &dir, &noauth, &link_args(false, 36));
    snmptrap(
        &nb,
        &dir,
        &format!("{pinned} -e {ENGINE_A}"),
        &link_args(false, 37),
    );

    assert_link(&record(&nb, 37, 3), false, 37);
    for (reason, n) in [
        ("unknown_community", 1),
        ("wrong_digest", 1),
        ("decryption_error", 1),
        ("unknown_user", 1),
        ("unknown_engine_id", 1),
        ("unsupported_security_level", 1),
    ] {
        nb.wait_counter("nocbox.traps.dropped", &[("reason", reason)], n, 10);
    }
    assert_eq!(nb.counter("nocbox.traps.dropped", &[]), 6);
    let forwarded: Vec<Json> = nb
        .records()
        .into_iter()
        .filter(|r| r["ddsource"] == "snmp-traps")
        .collect();
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    // the latest refusal names its sender
    let st = nb.status();
    let err = st["components"]["traps"]["last_error"]
        .as_str()
        .unwrap_or("");
    assert!(err.ends_with("from 127.0.0.1"), "{err}");
}

#[test]
fn traps_and_informs_over_tcp() {
    let dir = scratch("traps-tcp");
    let cfg = CFG.replace(
        "  listen: 127.0.0.1:0\n  community_strings",
        "  listen: 127.0.0.1:0\n  tcp: { listen: 127.0.0.1:0 }\n  community_strings",
    );
    let nb = Nocbox::start("traps-tcp", &cfg);
    let to = format!("tcp:{}", nb.addr("traps_tcp"));
    let (ok, out) = net_snmp(
        &dir,
        "snmptrap",
        &format!("-v2c -c public {to} {}", link_args(false, 61)),
    );
    assert!(ok, "{out}");
    assert_link(&record(&nb, 61, 2), false, 61);
    let level = v3("trapuser256", "SHA-256", Some("AES-256"), "authpass123");
    let (ok, out) = net_snmp(
        &dir,
        "snmpinform",
        &format!("-t 2 -r 0 {level} {to} {}", link_args(true, 62)),
    );
    assert!(ok, "{out}");
    assert_link(&record(&nb, 62, 3), true, 62);
    let (ok, _) = net_snmp(
        &dir,
        "snmpinform",
        &format!("-t 1 -r 0 -v2c -c private {to} {}", link_args(true, 63)),
    );
    assert!(!ok, "a wrong community was acknowledged over TCP");
    // a stream that is not SNMP is closed and counted
    let mut s = std::net::TcpStream::connect(nb.addr("traps_tcp")).unwrap();
    std::io::Write::write_all(&mut s, b"GET / HTTP/1.0\r\n\r\n").unwrap();
    nb.wait_counter("nocbox.traps.dropped", &[("reason", "bad_tag")], 1, 10);
    assert_eq!(nb.counter("nocbox.traps.informs_acknowledged", &[]), 1);
    assert_eq!(
        nb.counter("nocbox.traps.dropped", &[("reason", "unknown_community")]),
        1
    );
    assert!(nb.counter("nocbox.traps.tcp_connections", &[("result", "accepted")]) >= 4);
    // an idle connection does not hold up a stop
    let _idle = std::net::TcpStream::connect(nb.addr("traps_tcp")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let status = nb.stop(10);
    assert!(status.success(), "{status:?}");
}

/// A v2c trap with `extra` more varbinds after linkDown's.
fn v2c_trap(community: &str, index: i32, extra: usize) -> Vec<u8> {
    let oid = |s: &str| s.parse::<Oid>().unwrap();
    let mut varbinds = vec![
        VarBind::new(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(1)),
        VarBind::new(
            oid("1.3.6.1.6.3.1.1.4.1.0"),
            Value::Oid(oid("1.3.6.1.6.3.1.1.5.3")),
        ),
        VarBind::new(
            oid(&format!("1.3.6.1.2.1.2.2.1.1.{index}")),
            Value::Integer(index),
        ),
    ];
    varbinds
        .extend((0..extra).map(|i| VarBind::new(oid(&format!("1.3.6.1.4.1.99.{i}")), Value::Null)));
    encode(&Message::Community(CommunityMessage {
        version: Version::V2c,
        community: community.into(),
        pdu: Pdu::Generic(GenericPdu {
            kind: PduKind::TrapV2,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds,
        }),
    }))
}

#[test]
fn garbage_truncated_absurd_and_huge_datagrams_are_counted_and_nothing_breaks() {
    let mut nb = Nocbox::start("traps-garbage", CFG);
    let to: SocketAddr = nb.addr("traps");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut sent = 0;
    let mut send = |b: &[u8]| {
        udp.send_to(b, to).unwrap();
        sent += 1;
    };
    let mut seed: u32 = 777;
    for i in 0..300 {
        let junk: Vec<u8> = (0..(i * 13) % 1400)
            .map(|_| {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        send(&junk);
    }
    send(b"");
    let good = v2c_trap("public", 41, 0);
    for n in [1, 2, 5, good.len() / 2, good.len() - 1] {
        send(&good[..n]); // truncated BER
    }
    send(b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01\x04\x06public"); // a 2 GB SEQUENCE
    send(b"\x30\x89\x01\x02\x03\x04\x05\x06\x07\x08\x09"); // a length of 9 octets
    send(&v2c_trap("public", 42, 1500)); // more than max_varbinds (1000)
    send(&v2c_trap("public", 43, 0));
    let total = sent;

    assert_eq!(record(&nb, 43, 2)["snmpTrapName"], "linkDown");
    nb.wait_counter("nocbox.traps.datagrams", &[], total, 10);
    let dropped = nb.counter("nocbox.traps.dropped", &[]);
    assert_eq!(
        dropped,
        total - 1,
        "every datagram but the last trap is dropped and counted"
    );
    assert_eq!(
        nb.counter("nocbox.traps.dropped", &[("reason", "too_many_varbinds")]),
        1
    );
    assert!(nb.counter("nocbox.traps.dropped", &[("reason", "truncated")]) >= 6);
    assert!(!nb.records().iter().any(|r| r["ifIndex"] == 42));
    assert!(nb.is_running());
    assert_eq!(nb.get("/healthz/traps").0, 200);
}

#[test]
fn a_chatty_source_shows_in_status_with_its_rate() {
    let nb = Nocbox::start("traps-chatty", CFG);
    let to = nb.addr("traps");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let trap = v2c_trap("public", 51, 0);
    let shown = wait_for(15, || {
        for _ in 0..200 {
            udp.send_to(&trap, to).unwrap();
        }
        let st = nb.status();
        let top = st["components"]["traps"]["detail"]["top_sources"]
            .as_str()?
            .to_string();
        top.starts_with("127.0.0.1 (lab-switch) ").then_some(top)
    });
    let top = shown.unwrap_or_else(|| panic!("no top_sources; log:\n{}", nb.log()));
    assert!(top.ends_with("/s"), "{top}");
    let out = run(Command::new(BIN)
        .arg("status")
        .arg("--url")
        .arg(format!("http://{}", nb.addr("api"))));
    assert!(out.contains("top_sources=127.0.0.1 (lab-switch)"), "{out}");
}

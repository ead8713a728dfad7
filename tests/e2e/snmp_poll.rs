//! SNMP polling by the real service against real agents: net-snmp 5.9.3's `snmpd` over v1, v2c
//! and v3 with every auth/priv combination it offers (one loopback address per user), and
//! snmpsim 1.2.2 serving the recorded Cisco C3560, C3750, Nexus 5000 and Juniper MX960 of
//! snmpsim-data plus the hand-made SRX recording (`tests/fixtures/snmprec/juniper-srx.snmprec`),
//! one port per device, including a v3 user with Cisco-style (Reeder) AES-256 keys. Then the
//! failures a network engineer meets: wrong community, wrong password, unknown user, a device
//! that stops answering, garbage and oversize replies, while the other devices keep being polled.
//! Loopback only; every net-snmp program gets its own state directory.

use std::fs;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nocbox::proto::snmp::message::{
    encode, CommunityMessage, GenericPdu, Message, PduKind, Version,
};
use nocbox::proto::snmp::{Pdu, VarBind};
use serde_json::Value as Json;

use crate::harness::*;

#[path = "../support/snmpd.rs"]
mod snmpd_conf;
use snmpd_conf::{combinations, user_name, Agent, AUTH_PASS, PRIV_PASS};

/// A net-snmp agent answering on 127.0.0.1 … 127.0.0.`addresses`, all on one port.
struct Snmpd {
    _agent: Agent,
    port: u16,
}

impl Snmpd {
    fn start(dir: &Path, addresses: u8) -> Snmpd {
        Self::start_on(
            dir,
            &(1..=addresses).collect::<Vec<_>>(),
            "snmpd-test",
            free_port(),
        )
    }

    /// Answers on 127.0.0.`a` for each of `addrs`, port `port`, as sysName `name`.
    fn start_on(dir: &Path, addrs: &[u8], name: &str, port: u16) -> Snmpd {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        probe
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let get = encode(&Message::Community(CommunityMessage {
            version: Version::V2c,
            community: "public".into(),
            pdu: Pdu::Generic(GenericPdu {
                kind: PduKind::Get,
                request_id: 1,
                error_status: 0,
                error_index: 0,
                varbinds: vec![VarBind::null("1.3.6.1.2.1.1.5.0".parse().unwrap())],
            }),
        }));
        let first = format!("127.0.0.{}", addrs[0]);
        let agent = Agent::start(&dir.join(format!("snmpd-{name}")), port, addrs, name, |a| {
            let mut b = [0u8; 512];
            probe.send_to(&get, (first.as_str(), a.port)).is_ok() && probe.recv_from(&mut b).is_ok()
        });
        Snmpd {
            port: agent.port,
            _agent: agent,
        }
    }
}

/// The newest metric record named `name` whose tags include every one of `tags`.
fn metric(nb: &Nocbox, name: &str, tags: &[&str]) -> Option<Json> {
    nb.records().into_iter().rev().find(|r| {
        r["kind"] == "metric"
            && r["metric"] == name
            && tags.iter().all(|t| {
                r["tags"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == t))
            })
    })
}

fn wait_metric(nb: &Nocbox, name: &str, tags: &[&str], secs: u64) -> Json {
    wait_for(secs, || metric(nb, name, tags)).unwrap_or_else(|| {
        panic!(
            "no {name} with {tags:?} within {secs} s; status:\n{}\nlog:\n{}",
            serde_json::to_string_pretty(&nb.status()["components"]).unwrap(),
            nb.log()
        )
    })
}

fn value(m: &Json) -> f64 {
    m["points"][0]["value"].as_f64().expect("point value")
}

fn component(nb: &Nocbox, name: &str) -> Json {
    nb.status()["components"][name].clone()
}

/// Waits until the device component `name` has a last success (or, with `ok` false, a last
/// error); returns it.
fn wait_component(nb: &Nocbox, name: &str, ok: bool, secs: u64) -> Json {
    wait_for(secs, || {
        let c = component(nb, name);
        let done = if ok {
            !c["last_success"].is_null()
        } else {
            !c["last_error"].is_null()
        };
        done.then_some(c)
    })
    .unwrap_or_else(|| {
        panic!(
            "{name} never {}; status:\n{}\nlog:\n{}",
            if ok { "succeeded" } else { "failed" },
            serde_json::to_string_pretty(&nb.status()["components"]).unwrap(),
            nb.log()
        )
    })
}

#[test]
fn polls_snmpd_over_v1_v2c_and_every_v3_combination() {
    let dir = scratch("snmp-poll-snmpd");
    let users = combinations();
    // .1 v2c, .2 v1, .3 noAuthNoPriv, then one address per auth/priv user.
    let snmpd = Snmpd::start(&dir, 3 + users.len() as u8);
    let port = snmpd.port;
    let mut devices = format!(
        "    - {{ ip_address: 127.0.0.1, port: {port}, community_string: public, tags: [\"lab:v2c\"] }}\n\
         \x20   - {{ ip_address: 127.0.0.2, port: {port}, community_string: public, snmp_version: 1 }}\n\
         \x20   - {{ ip_address: 127.0.0.3, port: {port}, user: noAuthUser }}\n"
    );
    for (i, (a, p)) in users.iter().enumerate() {
        let privacy = p
            .map(|p| format!(", priv_protocol: {p}, priv_key: {PRIV_PASS}"))
            .unwrap_or_default();
        devices += &format!(
            "    - {{ ip_address: 127.0.0.{}, port: {port}, user: {}, auth_protocol: {a}, auth_key: {AUTH_PASS}{privacy} }}\n",
            4 + i,
            user_name(a, *p)
        );
    }
    let cfg = format!(
        "api: {{ listen: 127.0.0.1:0 }}\n\
         syslog: {{ udp: {{ listen: 127.0.0.1:0 }} }}\n\
         snmp:\n  interval: 4s\n  timeout: 1s\n  retries: 2\n  devices:\n{devices}\
         outputs: {{ stdout: {{ enabled: true }}, prometheus: {{ enabled: true }} }}\n\
         shutdown: {{ drain_period: 0s }}\n"
    );
    let nb = Nocbox::start("snmp-poll-snmpd", &cfg);
    let n = 3 + users.len();
    for i in 1..=n {
        let name = format!("snmp:127.0.0.{i}:{port}");
        let c = wait_component(&nb, &name, true, 30);
        assert_eq!(c["detail"]["profile"], "generic", "{name}: {c}");
        assert_eq!(c["detail"]["sys_name"], "snmpd-test", "{name}: {c}");
        let device = format!("snmp_device:127.0.0.{i}");
        let up = wait_metric(&nb, "snmp.device.reachable", &[&device], 10);
        assert_eq!(value(&up), 1.0);
    }
    // Interface metrics with Datadog's names and tags; octet rates need two polls. The
    // loopback interface moves: this test's own SNMP traffic crosses it.
    let tags = [
        "snmp_device:127.0.0.1",
        "device_namespace:default",
        "snmp_profile:generic",
        "interface:lo",
        "lab:v2c",
    ];
    // snmpd caches interface counters for a few seconds, so some polls see no change.
    let rate = wait_for(30, || {
        metric(&nb, "snmp.ifHCInOctets.rate", &tags).filter(|r| value(r) > 0.0)
    })
    .unwrap_or_else(|| panic!("no positive octet rate on lo; log:\n{}", nb.log()));
    assert_eq!(rate["type"], 3, "a per-second rate is a gauge");
    let count = wait_metric(&nb, "snmp.ifHCInOctets", &tags, 5);
    assert_eq!(count["type"], 1, "the delta is a count");
    assert!(
        count["interval"].as_u64().is_some_and(|i| i >= 1),
        "{count}"
    );
    // The same data on Prometheus /metrics, under Prometheus names: counts accumulate into
    // counters, rates and gauges stay gauges.
    let is_lo_rate = |l: &str| {
        l.starts_with("snmp_ifHCInOctets_rate{")
            && l.contains("interface=\"lo\"")
            && l.contains("snmp_device=\"127.0.0.1\"")
    };
    // The output publishes its text at most once a second: wait for this device's line.
    let text = wait_for(10, || {
        let (_, body) = nb.get("/metrics");
        body.lines().any(is_lo_rate).then_some(body)
    })
    .unwrap_or_else(|| panic!("no lo octet rate for 127.0.0.1 on /metrics"));
    let line = text.lines().find(|l| is_lo_rate(l)).unwrap_or_default();
    assert!(line.contains("snmp_profile=\"generic\""), "{line}");
    assert!(
        text.contains("# TYPE snmp_ifHCInOctets_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE snmp_device_reachable gauge"),
        "{text}"
    );
    // SNMPv1 has no Counter64: the v1 device still gets its gauges.
    wait_metric(
        &nb,
        "snmp.ifOperStatus",
        &["snmp_device:127.0.0.2", "interface:lo"],
        10,
    );
    assert_eq!(
        nb.counter("nocbox.snmp.polls", &[("result", "failed")]),
        0,
        "{}",
        nb.log()
    );
    // The polled sysName names the device's syslog: 127.0.0.3 has no name in the config.
    let s = UdpSocket::bind("127.0.0.3:0").unwrap();
    s.send_to(
        b"<13>Nov 21 10:00:00 hdr-host app: hello from a polled device",
        nb.addr("syslog_udp"),
    )
    .unwrap();
    let rec = nb.find("hello from a polled device", 10);
    assert_eq!(rec["hostname"], "snmpd-test", "{rec}");
    drop(snmpd);
}

/// One snmpsim serving one recording on a free port (community `public`, v3 context `public`):
/// `recording` from snmpsim-data, or with `fixture` a file of tests/fixtures/snmprec. One
/// process per device, because snmpsim answers on one core at a few hundred values a second
/// (test-peers.md).
fn start_snmpsim(dir: &Path, name: &str, recording: &str, fixture: bool) -> (PeerGuard, u16) {
    let here = dir.join(name);
    let extra = here.join("extra");
    fs::create_dir_all(&extra).unwrap();
    if fixture {
        fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/snmprec")
                .join(format!("{recording}.snmprec")),
            extra.join(format!("{recording}.snmprec")),
        )
        .unwrap();
    }
    let venv = std::env::var("SNMPSIM_VENV").unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/nocbox-peers/snmpsim-venv")
            .display()
            .to_string()
    });
    let port = free_port();
    let env = vec![
        ("SNMPSIM_VENV".to_string(), venv),
        ("SNMPSIM_MODE".to_string(), "ports".to_string()),
        ("SNMPSIM_PORT".to_string(), port.to_string()),
        (
            "SNMPSIM_RECORDINGS".to_string(),
            if fixture {
                String::new()
            } else {
                recording.to_string()
            },
        ),
        ("SNMPSIM_EXTRA_DIR".to_string(), extra.display().to_string()),
    ];
    let peers = here.join("peers");
    let mut c = peer("snmpsim.sh", &peers);
    c.arg("start");
    for (k, v) in &env {
        c.env(k, v);
    }
    run(&mut c);
    (
        PeerGuard {
            script: "snmpsim.sh",
            args: vec![],
            peers,
            env,
        },
        port,
    )
}

#[test]
fn recorded_cisco_and_juniper_devices_get_their_profiles_and_metrics() {
    let dir = scratch("snmp-poll-sim");
    let v3 = |user: &str, auth: &str, privacy: &str| {
        format!("user: {user}, auth_protocol: {auth}, auth_key: {AUTH_PASS}, priv_protocol: {privacy}, priv_key: {PRIV_PASS}, context_name: public")
    };
    // (recording, credentials, expected profile, vendor, an interface of the recording)
    let devices = [
        (
            "network/switch/cisco-c3560",
            "community_string: public".to_string(),
            "cisco-catalyst",
            "cisco",
            "Gi0/1",
        ),
        // Cisco-style AES-256: the Reeder key extension (aes256c), as Cisco IOS and pysnmp do.
        (
            "network/switch/cisco-c3750",
            v3("simcisco", "sha", "aes256c"),
            "cisco-catalyst",
            "cisco",
            "Vl1",
        ),
        (
            "network/switch/cisco-n5000",
            v3("sim256", "sha256", "aes256"),
            "cisco-nexus",
            "cisco",
            "mgmt0",
        ),
        // Blumenthal AES-256, as net-snmp.
        (
            "network/router/juniper-mx960-12-3r6-6",
            v3("simblmt", "sha", "aes256"),
            "juniper-mx",
            "juniper",
            "fxp0",
        ),
        (
            "juniper-srx",
            v3("simdes", "md5", "des"),
            "juniper-srx",
            "juniper",
            "xe-3/0/0",
        ),
    ];
    let mut sims = Vec::new();
    for (i, (rec, ..)) in devices.iter().enumerate() {
        sims.push(start_snmpsim(&dir, &format!("sim{i}"), rec, i == 4));
    }
    let mut list = String::new();
    for (i, (_, creds, ..)) in devices.iter().enumerate() {
        list += &format!(
            "    - {{ ip_address: 127.0.0.1, port: {}, {creds}, tags: [\"sim:{i}\"] }}\n",
            sims[i].1
        );
    }
    // snmpsim takes about a second for the first GETBULK of a table: a long timeout, so the
    // poller does not pile resends on it.
    let cfg = format!(
        "api: {{ listen: 127.0.0.1:0 }}\n\
         snmp:\n  interval: 120s\n  timeout: 10s\n  retries: 2\n  devices:\n{list}\
         outputs: {{ stdout: {{ enabled: true }} }}\n\
         shutdown: {{ drain_period: 0s }}\n"
    );
    let nb = Nocbox::start("snmp-poll-sim", &cfg);
    for (i, (_, _, profile, vendor, ifname)) in devices.iter().enumerate() {
        let name = format!("snmp:127.0.0.1:{}", sims[i].1);
        let c = wait_component(&nb, &name, true, 120);
        assert_eq!(c["detail"]["profile"], *profile, "{name}: {c}");
        let sim = format!("sim:{i}");
        let p = format!("snmp_profile:{profile}");
        let v = format!("device_vendor:{vendor}");
        let base = [
            sim.as_str(),
            p.as_str(),
            v.as_str(),
            "snmp_device:127.0.0.1",
        ];
        let cpu = wait_metric(&nb, "snmp.cpu.usage", &base, 10);
        assert!((0.0..=100.0).contains(&value(&cpu)), "{cpu}");
        let mem = wait_metric(&nb, "snmp.memory.usage", &base, 10);
        assert!((0.0..=100.0).contains(&value(&mem)), "{mem}");
        for m in ["snmp.memory.used", "snmp.memory.free"] {
            let v = wait_metric(&nb, m, &base, 10);
            assert!(value(&v) > 0.0, "{v}");
        }
        let iface = format!("interface:{ifname}");
        let mut t = base.to_vec();
        t.push(&iface);
        wait_metric(&nb, "snmp.ifOperStatus", &t, 10);
        wait_metric(&nb, "snmp.ifHighSpeed", &t, 10);
    }
    // The SRX's own tables: SPU CPU, memory and sessions, per SPU.
    let srx = ["sim:4", "snmp_profile:juniper-srx"];
    for m in [
        "snmp.jnxJsSPUMonitoringCPUUsage",
        "snmp.jnxJsSPUMonitoringMemoryUsage",
        "snmp.jnxJsSPUMonitoringCurrentFlowSession",
        "snmp.jnxJsSPUMonitoringMaxFlowSession",
        "snmp.jnxJsSPUMonitoringCurrentCPSession",
    ] {
        let mut t = srx.to_vec();
        t.push("spu_index:0");
        wait_metric(&nb, m, &t, 10);
    }
    let flows = wait_metric(
        &nb,
        "snmp.jnxJsSPUMonitoringCurrentFlowSession",
        &["sim:4", "spu_index:1"],
        10,
    );
    assert_eq!(value(&flows), 455120.0);
    assert_eq!(
        nb.counter("nocbox.snmp.polls", &[("result", "failed")]),
        0,
        "{}",
        nb.log()
    );
}

/// A UDP "device" on loopback that answers every request with `reply(request)` (or nothing).
fn fake_agent(
    reply: fn(&[u8]) -> Option<Vec<u8>>,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let port = s.local_addr().unwrap().port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let st = stop.clone();
    std::thread::spawn(move || {
        let mut b = vec![0u8; 65536];
        while !st.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((n, from)) = s.recv_from(&mut b) {
                if let Some(r) = reply(&b[..n]) {
                    let _ = s.send_to(&r, from);
                }
            }
        }
    });
    (port, stop)
}

fn lower_message(nb: &Nocbox, name: &str) -> String {
    let c = wait_component(nb, name, false, 20);
    format!("{} {}", c["message"], c["last_error"]).to_lowercase()
}

#[test]
fn failures_are_named_and_the_other_devices_keep_being_polled() {
    let dir = scratch("snmp-poll-fail");
    let snmpd = Snmpd::start(&dir, 4);
    let port = snmpd.port;
    let other = Snmpd::start(&dir.join("other"), 1);
    let (silent, stop_silent) = fake_agent(|_| None);
    let (garbage, stop_garbage) = fake_agent(|req| {
        // Half the time a short garbage datagram, half the time 60 kB of it.
        if req.len() % 2 == 0 {
            Some(b"\x30\x82\xff\xff garbage".to_vec())
        } else {
            Some(vec![0x30; 60_000])
        }
    });
    let cfg = format!(
        "api: {{ listen: 127.0.0.1:0 }}\n\
         snmp:\n  interval: 2s\n  timeout: 300ms\n  retries: 1\n  devices:\n\
         \x20   - {{ ip_address: 127.0.0.1, port: {port}, community_string: public }}\n\
         \x20   - {{ ip_address: 127.0.0.2, port: {port}, community_string: wrong-community }}\n\
         \x20   - {{ ip_address: 127.0.0.3, port: {port}, user: u_sha_aes, auth_protocol: sha, auth_key: wrongpass1, priv_protocol: aes, priv_key: {PRIV_PASS} }}\n\
         \x20   - {{ ip_address: 127.0.0.4, port: {port}, user: nosuchuser, auth_protocol: sha, auth_key: {AUTH_PASS} }}\n\
         \x20   - {{ ip_address: 127.0.0.1, port: {silent}, community_string: public }}\n\
         \x20   - {{ ip_address: 127.0.0.1, port: {garbage}, community_string: public }}\n\
         \x20   - {{ ip_address: 127.0.0.1, port: {}, community_string: public }}\n\
         outputs: {{ stdout: {{ enabled: true }} }}\n\
         shutdown: {{ drain_period: 0s }}\n",
        other.port
    );
    let nb = Nocbox::start("snmp-poll-fail", &cfg);
    let good = format!("snmp:127.0.0.1:{port}");
    let stopping = format!("snmp:127.0.0.1:{}", other.port);
    wait_component(&nb, &good, true, 20);
    wait_component(&nb, &stopping, true, 20);

    let m = lower_message(&nb, &format!("snmp:127.0.0.2:{port}"));
    assert!(m.contains("no answer"), "wrong community: {m}");
    let m = lower_message(&nb, &format!("snmp:127.0.0.3:{port}"));
    assert!(m.contains("authentication"), "wrong password: {m}");
    let m = lower_message(&nb, &format!("snmp:127.0.0.4:{port}"));
    assert!(m.contains("unknown user"), "unknown user: {m}");
    let m = lower_message(&nb, &format!("snmp:127.0.0.1:{silent}"));
    assert!(m.contains("no answer"), "silent device: {m}");
    let m = lower_message(&nb, &format!("snmp:127.0.0.1:{garbage}"));
    assert!(m.contains("no answer"), "garbage replies: {m}");
    let unreach = wait_metric(
        &nb,
        "snmp.device.unreachable",
        &["snmp_device:127.0.0.2"],
        10,
    );
    assert_eq!(value(&unreach), 1.0);
    for reason in ["timeout", "wrong_digest", "unknown_user_name"] {
        assert!(
            nb.counter("nocbox.snmp.errors", &[("reason", reason)]) > 0,
            "no error counted as {reason}: {}",
            serde_json::to_string_pretty(&nb.status()["counters"]).unwrap()
        );
    }

    // The second agent stops answering: its device turns to an error; the first keeps going.
    drop(other);
    let m = wait_for(20, || {
        let c = component(&nb, &stopping);
        (c["healthy"] == false).then(|| c["message"].to_string().to_lowercase())
    })
    .unwrap_or_else(|| panic!("{stopping} stayed healthy; log:\n{}", nb.log()));
    assert!(m.contains("no answer"), "{m}");
    let before = nb.counter("nocbox.snmp.polls", &[("result", "ok")]);
    wait_for(10, || {
        (nb.counter("nocbox.snmp.polls", &[("result", "ok")]) >= before + 2).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the healthy device stopped being polled; log:\n{}",
            nb.log()
        )
    });
    assert_eq!(component(&nb, &good)["healthy"], true);
    let (code, _) = nb.get("/healthz");
    assert_eq!(
        code, 200,
        "devices being down never fails nocbox's own health"
    );
    assert_eq!(nb.get(&format!("/healthz/{good}")).0, 200);
    assert_eq!(
        nb.get(&format!("/healthz/{stopping}")).0,
        503,
        "the device's own health"
    );
    stop_silent.store(true, std::sync::atomic::Ordering::Relaxed);
    stop_garbage.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(snmpd);
}

#[test]
fn discovery_finds_devices_once_and_polls_them() {
    let dir = scratch("snmp-discover");
    let port = free_port();
    // One agent on four addresses (one device, several addresses), another on .9.
    let a = Snmpd::start_on(&dir, &[1, 2, 3, 4], "multi-homed", port);
    let b = Snmpd::start_on(&dir, &[9], "lonely", port);
    // The CLI: one line per device, the multi-homed one at its lowest address.
    let out = run(Command::new(BIN).args([
        "snmp",
        "discover",
        "-c",
        "public",
        "-t",
        "0.3",
        "-r",
        "0",
        "--port",
        &port.to_string(),
        "127.0.0.0/28",
    ]));
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("127.")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("127.0.0.1\tmulti-homed\t1.3.6.1.4.1.8072.3.2.10\tgeneric"),
        "{out}"
    );
    assert!(lines[1].starts_with("127.0.0.9\tlonely\t"), "{out}");
    assert!(
        out.contains("2 devices in 127.0.0.0/28 (14 addresses asked, 5 answered"),
        "{out}"
    );

    // The service: the same devices are polled, tagged with the subnet.
    let cfg = format!(
        "api: {{ listen: 127.0.0.1:0 }}\n\
         snmp:\n  interval: 2s\n  timeout: 300ms\n  retries: 1\n  discovery:\n\
         \x20   - {{ network_address: 127.0.0.0/28, port: {port}, ignored_ip_addresses: [127.0.0.5], authentications: [{{ community_string: wrong }}, {{ community_string: public }}], tags: [\"found:yes\"] }}\n\
         outputs: {{ stdout: {{ enabled: true }} }}\n\
         shutdown: {{ drain_period: 0s }}\n"
    );
    let nb = Nocbox::start("snmp-discover", &cfg);
    for ip in ["127.0.0.1", "127.0.0.9"] {
        let name = format!("snmp:{ip}:{port}");
        let c = wait_component(&nb, &name, true, 30);
        assert_eq!(c["detail"]["credentials"], "v2c", "{c}");
        let m = wait_metric(
            &nb,
            "snmp.device.reachable",
            &[
                &format!("snmp_device:{ip}"),
                "autodiscovery_subnet:127.0.0.0/28",
                "found:yes",
            ],
            10,
        );
        assert_eq!(value(&m), 1.0);
    }
    let comps = nb.status()["components"].clone();
    for ip in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        assert!(
            comps.get(format!("snmp:{ip}:{port}")).is_none(),
            "{ip} is the same device as 127.0.0.1: {comps}"
        );
    }
    let d = &comps["snmp_discovery:127.0.0.0/28"];
    assert!(
        d["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("2 devices polled"),
        "{d}"
    );
    drop((a, b));
}

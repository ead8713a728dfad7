//! Ping and TCP checks of the real binary, each test inside a network namespace it makes itself
//! (`unshare --net --mount`): loopback only, `net.ipv4.ping_group_range` opened (or closed) inside
//! it, nftables rules that drop ICMP echo and one TCP port to 127.0.0.66 and answer both with
//! ICMP host-unreachable for 127.0.0.68, and a private
//! /etc/hosts (bind-mounted in the private mount namespace) where `dual.test` resolves to both
//! ::1 and 127.0.0.1. The API listens on 0.0.0.0:18080, IPv4 only, so `dual.test:18080` answers
//! on 127.0.0.1 and refuses on ::1. The test process stays outside; it reads nocbox's stdout
//! and runs `nocbox status`/`health` inside the namespace with `nsenter`.

use std::process::Command;

use serde_json::Value;

use crate::harness::{scratch, split_http_response, wait_for, Nocbox, BIN};

const API_PORT: u16 = 18080;

const HOSTS: &str = "127.0.0.1 localhost\n::1 dual.test\n127.0.0.1 dual.test\n";

const NFT: &str = "table ip nocbox_lab {
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr 127.0.0.66 icmp type echo-request drop
    ip daddr 127.0.0.66 tcp dport 18080 drop
    ip daddr 127.0.0.68 icmp type echo-request reject with icmp type host-unreachable
    ip daddr 127.0.0.68 tcp dport 18080 reject with icmp type host-unreachable
  }
}
";

/// How the namespace is set up before nocbox starts in it.
struct Lab {
    /// `net.ipv4.ping_group_range` inside the namespace.
    ping_range: &'static str,
    /// Run nocbox as uid/gid 65534 without capabilities (the image runs as 65532).
    unprivileged: bool,
}

impl Lab {
    fn start(&self, name: &str, yaml: &str) -> Nocbox {
        let dir = scratch(&format!("{name}-lab"));
        std::fs::write(dir.join("hosts"), HOSTS).unwrap();
        std::fs::write(dir.join("lab.nft"), NFT).unwrap();
        let drop_privileges = if self.unprivileged {
            "setpriv --reuid 65534 --regid 65534 --clear-groups --"
        } else {
            ""
        };
        let setup = format!(
            "set -e; ip link set lo up; sysctl -qw net.ipv4.ping_group_range='{range}'; \
             mount --bind {dir}/hosts /etc/hosts; nft -f {dir}/lab.nft; \
             exec {drop_privileges} \"$@\"",
            range = self.ping_range,
            dir = dir.display(),
        );
        Nocbox::start_wrapped(
            name,
            yaml,
            &[],
            &[
                "unshare", "--net", "--mount", "--", "bash", "-c", &setup, "lab",
            ],
        )
    }
}

/// Runs `cmd` inside nocbox's network namespace; stdout+stderr and the exit code.
fn in_ns(nb: &Nocbox, cmd: &[&str]) -> (String, Option<i32>) {
    let out = Command::new("nsenter")
        .args(["--target", &nb.pid().to_string(), "--net", "--"])
        .args(cmd)
        .output()
        .expect("run nsenter");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.code())
}

fn url() -> String {
    format!("http://127.0.0.1:{API_PORT}")
}

/// HTTP GET of the API inside the namespace: status code and body.
fn ns_get(nb: &Nocbox, path: &str) -> (u16, String) {
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{API_PORT}; printf 'GET {path} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3; cat <&3"
    );
    let (resp, _) = in_ns(nb, &["bash", "-c", &script]);
    split_http_response(&resp)
}

fn has_tags(r: &Value, tags: &[&str]) -> bool {
    let have: Vec<&str> = r["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
        .collect();
    tags.iter().all(|t| have.contains(t))
}

fn metrics(nb: &Nocbox, name: &str, tags: &[&str]) -> Vec<Value> {
    nb.records()
        .into_iter()
        .filter(|r| r["kind"] == "metric" && r["metric"] == name && has_tags(r, tags))
        .collect()
}

/// The first metric `name` carrying all `tags`, waiting up to 20 s for it.
fn metric(nb: &Nocbox, name: &str, tags: &[&str]) -> Value {
    wait_for(20, || metrics(nb, name, tags).into_iter().next()).unwrap_or_else(|| {
        panic!(
            "no {name} with {tags:?}; stdout:\n{}\nlog:\n{}",
            nb.records()
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            nb.log()
        )
    })
}

fn value(r: &Value) -> f64 {
    r["points"][0]["value"].as_f64().expect("a point value")
}

/// `nocbox status` inside the namespace, once `needle` shows (checks report after their run).
fn status_showing(nb: &Nocbox, needles: &[&str]) -> String {
    let mut last = String::new();
    let got = wait_for(20, || {
        last = in_ns(nb, &[BIN, "status", "--url", &url()]).0;
        needles
            .iter()
            .all(|n| last.contains(n))
            .then(|| last.clone())
    });
    got.unwrap_or_else(|| panic!("`nocbox status` never showed {needles:?}:\n{last}"))
}

fn check_binaries() {
    for (prog, pkg) in [
        ("unshare", "util-linux"),
        ("nsenter", "util-linux"),
        ("setpriv", "util-linux"),
        ("nft", "nftables"),
        ("ip", "iproute2"),
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {prog}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{prog} is missing: install {pkg} (scripts/test.sh does)"
        );
    }
}

const LAB_CONFIG: &str = "
hostname: lab-nocbox
tags: [env:test]
namespace: lab
api: { listen: 0.0.0.0:18080 }
shutdown: { drain_period: 0s }
snmp:
  devices: [{ ip_address: 127.0.0.67, name: sw67, community_string: x, tags: [site:lab] }]
ping:
  interval: 2s
  count: 3
  timeout: 500ms
  packet_interval: 50ms
  snmp_devices: true
  tags: [team:net]
  targets:
    - { host: 127.0.0.65, tags: [role:edge] }
    - 127.0.0.66
    - dual.test
    - nosuch.invalid
tcp_checks:
  - { name: dual, host: dual.test, port: 18080, interval: 2s, timeout: 1, tags: [svc:api] }
  - { name: dual4, host: dual.test, port: 18080, interval: 2s, timeout: 1, ipv4_only: true }
  - { name: dropped, host: 127.0.0.66, port: 18080, interval: 2s, timeout: 1 }
  - { name: refused, host: 127.0.0.65, port: 18081, interval: 2s, timeout: 1 }
  - { name: nxdomain, host: nosuch.invalid, port: 22, interval: 2s, timeout: 1 }
  - { name: unreachable, host: 127.0.0.68, port: 18080, interval: 2s, timeout: 1 }
";

#[test]
fn ping_reports_rtt_loss_and_reachability_per_address_in_a_private_namespace() {
    check_binaries();
    let lab = Lab {
        ping_range: "0 2147483647",
        unprivileged: false,
    };
    let nb = lab.start("checks-ping", LAB_CONFIG);

    // A reachable address: every packet back, a fractional RTT in milliseconds.
    let ok = ["target_host:127.0.0.65"];
    let rtt = metric(&nb, "networkdevice.ping.avg_rtt", &ok);
    let ms = value(&rtt);
    assert!(ms > 0.0 && ms < 100.0 && ms.fract() != 0.0, "avg_rtt {ms}");
    assert!(
        has_tags(&rtt, &["env:test", "team:net", "role:edge"]),
        "{rtt}"
    );
    assert_eq!(rtt["resources"][0]["name"], "lab-nocbox");
    assert_eq!(rtt["type"], 3, "a gauge");
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.reachable", &ok)),
        1.0
    );
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.unreachable", &ok)),
        0.0
    );
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.packet_loss", &ok)),
        0.0
    );

    // Echo requests dropped by nftables: unreachable, 100 % loss, no average of nothing.
    let dropped = ["target_host:127.0.0.66"];
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.packet_loss", &dropped)),
        100.0
    );
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.reachable", &dropped)),
        0.0
    );
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.unreachable", &dropped)),
        1.0
    );
    assert!(metrics(&nb, "networkdevice.ping.avg_rtt", &dropped).is_empty());

    // A name with an IPv6 and an IPv4 address (private /etc/hosts, seen by getaddrinfo in the
    // binary): one series per address, each tagged with the name and its family.
    for (ip, fam) in [("::1", "ipv6"), ("127.0.0.1", "ipv4")] {
        let th = format!("target_host:{ip}");
        let af = format!("address_family:{fam}");
        let tags = [th.as_str(), "target_name:dual.test", af.as_str()];
        assert_eq!(
            value(&metric(&nb, "networkdevice.ping.reachable", &tags)),
            1.0
        );
        assert!(value(&metric(&nb, "networkdevice.ping.avg_rtt", &tags)) > 0.0);
    }

    // An SNMP device, pinged without being listed under ping.targets, tagged like its SNMP
    // metrics.
    let dev = metric(
        &nb,
        "networkdevice.ping.reachable",
        &["target_host:127.0.0.67"],
    );
    assert!(
        has_tags(
            &dev,
            &["snmp_device:127.0.0.67", "device_namespace:lab", "site:lab"]
        ),
        "{dev}"
    );

    // A name that does not resolve is unreachable, not silently absent.
    let gone = metric(
        &nb,
        "networkdevice.ping.unreachable",
        &["target_host:nosuch.invalid", "target_name:nosuch.invalid"],
    );
    assert_eq!(value(&gone), 1.0);

    // What an operator reads: which address is down and why; nocbox itself stays healthy.
    let st = status_showing(
        &nb,
        &[
            "4 of 6 addresses reachable; unreachable: ",
            "127.0.0.66 (no reply, 100% loss)",
            "nosuch.invalid (DNS failure",
        ],
    );
    let ping_line = st.lines().find(|l| l.starts_with("ping ")).unwrap_or("");
    assert!(
        ping_line.contains("check") && ping_line.contains("WARNING"),
        "{st}"
    );
    let (_, doc) = ns_get(&nb, "/status");
    let doc: Value = serde_json::from_str(&doc).expect("status JSON");
    assert_eq!(doc["components"]["ping"]["detail"]["socket_ipv4"], "dgram");
    assert_eq!(doc["components"]["ping"]["detail"]["socket_ipv6"], "dgram");
    assert_eq!(in_ns(&nb, &[BIN, "health", "--url", &url()]).1, Some(0));
    let st = nb.stop(10);
    assert!(st.success(), "{st:?}");
}

#[test]
fn tcp_checks_check_every_address_and_say_which_failed_and_how() {
    check_binaries();
    let lab = Lab {
        ping_range: "0 2147483647",
        unprivileged: false,
    };
    let nb = lab.start("checks-tcp", LAB_CONFIG);

    // dual.test: 127.0.0.1 listens, ::1 refuses. Both are checked and tagged.
    let base = [
        "instance:dual",
        "target_host:dual.test",
        "port:18080",
        "url:dual.test:18080",
        "env:test",
        "svc:api",
    ];
    let v4: Vec<&str> = base
        .iter()
        .copied()
        .chain(["address:127.0.0.1", "address_family:ipv4"])
        .collect();
    let v6: Vec<&str> = base
        .iter()
        .copied()
        .chain(["address:::1", "address_family:ipv6"])
        .collect();
    assert_eq!(value(&metric(&nb, "network.tcp.can_connect", &v4)), 1.0);
    assert_eq!(value(&metric(&nb, "network.tcp.can_connect", &v6)), 0.0);
    let rt = value(&metric(&nb, "network.tcp.response_time", &v4));
    assert!(rt > 0.0 && rt < 1.0, "response_time in seconds: {rt}");
    assert!(metrics(&nb, "network.tcp.response_time", &v6).is_empty());

    // ipv4_only narrows the same name to its IPv4 address.
    let d4 = metric(
        &nb,
        "network.tcp.can_connect",
        &["instance:dual4", "address:127.0.0.1"],
    );
    assert_eq!(value(&d4), 1.0);
    assert!(metrics(
        &nb,
        "network.tcp.can_connect",
        &["instance:dual4", "address:::1"]
    )
    .is_empty());

    // Refused, dropped (timed out) and a DNS failure: can_connect 0.
    for inst in [
        "instance:refused",
        "instance:dropped",
        "instance:nxdomain",
        "instance:unreachable",
    ] {
        assert_eq!(
            value(&metric(&nb, "network.tcp.can_connect", &[inst])),
            0.0,
            "{inst}"
        );
    }
    let nx = metric(&nb, "network.tcp.can_connect", &["instance:nxdomain"]);
    assert!(
        !nx.to_string().contains("address:"),
        "no address to tag: {nx}"
    );

    // `nocbox status` names the failed address and the reason, per check.
    let st = status_showing(
        &nb,
        &[
            "dual.test:18080: ",
            "::1 refused",
            "127.0.0.66:18080: 127.0.0.66 timed out after 1s",
            "127.0.0.65:18081: 127.0.0.65 refused",
            "nosuch.invalid:22: DNS failure",
            "127.0.0.68:18080: 127.0.0.68 unreachable (no route to host)",
        ],
    );
    let dual = st
        .lines()
        .find(|l| l.contains("dual.test:18080: "))
        .unwrap();
    assert!(
        dual.contains("127.0.0.1 ok in") && dual.contains(" ms"),
        "{st}"
    );
    let row = |name: &str| {
        st.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{st}"))
            .to_string()
    };
    assert!(row("tcp_check:dual ").contains("WARNING"), "{st}");
    assert!(row("tcp_check:dual4 ").contains("OK"), "{st}");
    assert!(row("tcp_check:refused ").contains("ERROR"), "{st}");

    // Failing checks never fail nocbox's own health (the NLB must not replace nocbox because a
    // device is down); each check has its own /healthz/<name>.
    assert_eq!(in_ns(&nb, &[BIN, "health", "--url", &url()]).1, Some(0));
    assert_eq!(ns_get(&nb, "/healthz").0, 200);
    assert_eq!(ns_get(&nb, "/healthz/tcp_check:refused").0, 503);
    assert_eq!(ns_get(&nb, "/healthz/tcp_check:dual4").0, 200);
    let st = nb.stop(10);
    assert!(st.success(), "{st:?}");
}

const UNPRIVILEGED_CONFIG: &str = "
api: { listen: 0.0.0.0:18080 }
shutdown: { drain_period: 0s }
ping:
  interval: 2s
  count: 2
  timeout: 500ms
  targets: [127.0.0.65, '::1']
";

#[test]
fn ping_works_unprivileged_through_the_datagram_socket_alone() {
    check_binaries();
    let lab = Lab {
        ping_range: "0 2147483647",
        unprivileged: true,
    };
    let nb = lab.start("checks-unpriv", UNPRIVILEGED_CONFIG);
    for ip in ["127.0.0.65", "::1"] {
        let th = format!("target_host:{ip}");
        assert_eq!(
            value(&metric(&nb, "networkdevice.ping.reachable", &[&th])),
            1.0,
            "{ip}"
        );
    }
    let (_, doc) = ns_get(&nb, "/status");
    let doc: Value = serde_json::from_str(&doc).expect("status JSON");
    let detail = &doc["components"]["ping"]["detail"];
    assert_eq!(detail["socket_ipv4"], "dgram", "{doc}");
    assert_eq!(detail["socket_ipv6"], "dgram", "{doc}");
    let uid = std::fs::read_to_string(format!("/proc/{}/status", nb.pid())).unwrap_or_default();
    assert!(
        uid.lines()
            .any(|l| l.starts_with("Uid:") && l.contains("65534")),
        "{uid}"
    );
}

#[test]
fn without_any_icmp_socket_ping_is_an_unhealthy_check_with_the_fix_not_an_unhealthy_service() {
    check_binaries();
    // Unprivileged and outside ping_group_range: neither socket type can be opened.
    let lab = Lab {
        ping_range: "1 0",
        unprivileged: true,
    };
    let nb = lab.start("checks-nosock", UNPRIVILEGED_CONFIG);
    let st = status_showing(&nb, &["net.ipv4.ping_group_range", "CAP_NET_RAW"]);
    let row = st.lines().find(|l| l.starts_with("ping ")).unwrap_or("");
    assert!(row.contains("ERROR"), "{st}");
    assert!(
        st.contains("group 65534 is outside net.ipv4.ping_group_range (1 0)"),
        "{st}"
    );
    assert!(
        nb.log().contains("cannot open an ICMP socket for IPv4"),
        "{}",
        nb.log()
    );
    assert_eq!(in_ns(&nb, &[BIN, "health", "--url", &url()]).1, Some(0));
    assert_eq!(ns_get(&nb, "/healthz/ping").0, 503);
    // No metrics that would claim the devices are down.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        metrics(&nb, "networkdevice.ping.unreachable", &[]).is_empty(),
        "{:?}",
        nb.records()
    );
}

#[test]
fn raw_sockets_match_replies_and_report_icmp_errors() {
    check_binaries();
    // Root keeps CAP_NET_RAW; the datagram socket is not allowed here, and not asked for.
    let lab = Lab {
        ping_range: "1 0",
        unprivileged: false,
    };
    let yaml = "
api: { listen: 0.0.0.0:18080 }
shutdown: { drain_period: 0s }
ping:
  socket: raw
  interval: 2s
  count: 2
  timeout: 500ms
  targets: [127.0.0.65, 127.0.0.68, '::1']
";
    let nb = lab.start("checks-raw", yaml);
    for ip in ["127.0.0.65", "::1"] {
        let th = format!("target_host:{ip}");
        assert_eq!(
            value(&metric(&nb, "networkdevice.ping.reachable", &[&th])),
            1.0
        );
        assert!(value(&metric(&nb, "networkdevice.ping.avg_rtt", &[&th])) > 0.0);
    }
    let rejected = ["target_host:127.0.0.68"];
    assert_eq!(
        value(&metric(&nb, "networkdevice.ping.unreachable", &rejected)),
        1.0
    );
    let st = status_showing(&nb, &["127.0.0.68 (destination unreachable: host)"]);
    assert!(st.contains("2 of 3 addresses reachable"), "{st}");
    let (_, doc) = ns_get(&nb, "/status");
    let doc: Value = serde_json::from_str(&doc).expect("status JSON");
    assert_eq!(doc["components"]["ping"]["detail"]["socket_ipv4"], "raw");
    assert_eq!(doc["components"]["ping"]["detail"]["socket_ipv6"], "raw");
}

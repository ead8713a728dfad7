//! The SNMP polling engine (`nocbox::poller`, `nocbox snmp get|walk`) against net-snmp 5.9.3 and
//! against a fake agent, on loopback only:
//! - `nocbox snmp walk` prints the same lines as `snmpbulkwalk -On` (v2c, v3 for every auth/priv
//!   user of tests/peers/snmpd.conf.in) and `snmpwalk -On` (v1); `get` as `snmpget -On`. Values
//!   that move between the two runs (counters, uptimes, gauges) are masked; subtrees whose rows
//!   come and go (processes, TCP/UDP endpoints) are left out.
//! - the error a person sees for a wrong community, auth password, privacy password, user;
//! - a silent device times out after its retries; a fake agent that sends a wrong request-id,
//!   answers from another port, sends garbage, answers tooBig and truncates GETBULK replies is
//!   counted, ignored and split around, and the session still gets every value.
//!
//! scripts/test.sh installs the Debian packages `snmp` and `snmpd`; a missing program fails the
//! test and names its package. Every net-snmp program gets its own state and config directory.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nocbox::poller::session::{Security, Session, SessionConfig, SnmpError};
use nocbox::poller::transport::Transport;
use nocbox::proto::snmp::message::{
    decode, encode, CommunityMessage, GenericPdu, Message, Pdu, PduKind, Value, VarBind, Version,
};
use nocbox::proto::snmp::usm::{AuthProtocol, PrivProtocol, UsmUser};
use nocbox::proto::snmp::Oid;

#[path = "support/snmpd.rs"]
mod snmpd_conf;
use snmpd_conf::{
    program, user_name, Agent, Scratch, AUTH_PASS, NET_SNMP_AUTH, NET_SNMP_PRIV, PRIV_PASS,
};

const ENGINE_HEX: &str = "80001f8804736e6d70642d74657374";

fn oid(s: &str) -> Oid {
    s.parse().expect("test OID")
}

// ---------------------------------------------------------------------------------------------
// snmpd, started as tests/snmp_core.rs does

/// snmpd on 127.0.0.1 with the shared users; its directory goes when it stops.
struct Snmpd {
    agent: Agent,
    _scratch: Scratch,
    port: u16,
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port()
}

impl Snmpd {
    fn start() -> Snmpd {
        let scratch = Scratch::new("snmpd");
        let agent = Agent::start(&scratch.0, free_port(), &[1], "snmpd-test", |a| {
            net_snmp(
                "snmpget",
                &args(&format!(
                    "-v2c -c public -On -t 0.2 -r 0 127.0.0.1:{} 1.3.6.1.2.1.1.5.0",
                    a.port
                )),
            )
            .status
            .success()
        });
        Snmpd {
            port: agent.port,
            agent,
            _scratch: scratch,
        }
    }

    fn log(&self) -> String {
        self.agent.log()
    }

    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Runs a net-snmp client program with its own state directory and no MIBs.
fn net_snmp(name: &str, argv: &[String]) -> Output {
    let scratch = Scratch::new(name);
    Command::new(program(name, "snmp"))
        .args(argv)
        .env("SNMP_PERSISTENT_DIR", scratch.0.join("persist"))
        .env("SNMPCONFPATH", &scratch.0)
        .env("MIBS", "")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn nocbox(argv: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nocbox"))
        .arg("snmp")
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .expect("run nocbox")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Subtrees whose rows appear and disappear between two walks (processes, connections,
/// endpoints: the walking programs themselves show up there).
const UNSTABLE_ROWS: [&str; 8] = [
    ".1.3.6.1.2.1.25.4.",   // hrSWRun
    ".1.3.6.1.2.1.25.5.",   // hrSWRunPerf
    ".1.3.6.1.2.1.6.",      // tcp
    ".1.3.6.1.2.1.7.",      // udp
    ".1.3.6.1.2.1.4.31.",   // ipSystemStats / ipIfStats
    ".1.3.6.1.2.1.4.22.",   // ipNetToMedia (ARP entries come and go)
    ".1.3.6.1.2.1.4.35.",   // ipNetToPhysical
    ".1.3.6.1.4.1.2021.13", // ucdDiskIO and friends
];

/// Subtrees whose values move between two walks even when not counters.
const UNSTABLE_VALUES: [&str; 5] = [
    ".1.3.6.1.2.1.25.",      // host resources: dates, loads, storage in use
    ".1.3.6.1.4.1.2021.",    // UCD: memory, load, CPU
    ".1.3.6.1.6.3.10.2.1.3", // snmpEngineTime
    ".1.3.6.1.4.1.8072.",    // net-snmp agent internals
    ".1.3.6.1.2.1.88.",      // DISMAN-EVENT-MIB
];

/// Walk output with moving values masked and unstable rows left out.
fn normalize(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| !UNSTABLE_ROWS.iter().any(|p| l.starts_with(p)))
        .map(|l| {
            let Some((name, value)) = l.split_once(" = ") else {
                return l.to_string();
            };
            let ty = value.split(':').next().unwrap_or("");
            let moving = ["Counter32", "Counter64", "Timeticks", "Gauge32"].contains(&ty)
                || UNSTABLE_VALUES.iter().any(|p| name.starts_with(p));
            if moving {
                format!("{name} = {ty}: <moving>")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// Runs nocbox and net-snmp with `ours` and `theirs` and compares the normalized walks. A live
/// agent can change between the two runs (an interface or neighbour appears while other tests
/// run), so a difference is checked once more before it fails the test.
fn assert_same_walk(what: &str, ours: &[String], theirs: (&str, &[String])) {
    assert_same_output(what, ours, theirs, 20);
}

fn assert_same_output(what: &str, ours: &[String], theirs: (&str, &[String]), min_lines: usize) {
    let mut last = String::new();
    for _ in 0..2 {
        let o = nocbox(ours);
        let t = net_snmp(theirs.0, theirs.1);
        assert!(
            o.status.success(),
            "{what}: nocbox failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(t.status.success(), "{what}: net-snmp failed");
        let (a, b) = (normalize(&text(&o)), normalize(&text(&t)));
        assert!(
            b.len() >= min_lines,
            "{what}: net-snmp output too short: {b:?}"
        );
        if a == b {
            return;
        }
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        last = format!(
            "{what}: walks differ at line {at} ({} vs {} lines)\nnocbox:   {:?}\nnet-snmp: {:?}",
            a.len(),
            b.len(),
            a.get(at),
            b.get(at)
        );
        eprintln!("{last}");
    }
    panic!("{last}");
}

fn v3_flags(name: &str, auth: Option<&str>, privacy: Option<&str>) -> String {
    match (auth, privacy) {
        (None, _) => format!("-v3 -l noAuthNoPriv -u {name}"),
        (Some(a), None) => format!("-v3 -l authNoPriv -u {name} -a {a} -A {AUTH_PASS}"),
        (Some(a), Some(p)) => {
            format!("-v3 -l authPriv -u {name} -a {a} -A {AUTH_PASS} -x {p} -X {PRIV_PASS}")
        }
    }
}

#[test]
fn walk_and_get_print_what_net_snmp_prints() {
    let snmpd = Snmpd::start();
    let t = snmpd.target();
    // v2c and v1, whole tree
    let ours = nocbox(&args(&format!("walk -v2c -c public -On {t} .1")));
    assert!(text(&ours).lines().count() > 1000);
    let flags = args(&format!("-v2c -c public -On {t} .1"));
    assert_same_walk(
        "v2c .1",
        &args(&format!("walk -v2c -c public -On {t} .1")),
        ("snmpbulkwalk", &flags),
    );
    let flags = args(&format!("-v1 -c public -On {t} .1"));
    assert_same_walk(
        "v1 .1",
        &args(&format!("walk -v1 -c public -On {t} .1")),
        ("snmpwalk", &flags),
    );
    // a smaller max-repetitions, a subtree that ends the MIB, nonexistent subtrees, an instance
    for (flags, root) in [
        ("-Cr3", ".1.3.6.1.2.1.2"),
        ("", ".1.3.6.1.6.3.16.1.5.2"),
        ("", ".1.3.6.1.4.1.99999"),
        ("", ".1.3.6.1.9.9"),
        ("", ".1.3.6.1.2.1.1.5.0"),
    ] {
        let theirs = args(&format!("-v2c -c public -On {flags} {t} {root}"));
        assert_same_output(
            &format!("walk {flags} {root}"),
            &args(&format!("walk -v2c -c public -On {flags} {t} {root}")),
            ("snmpbulkwalk", &theirs),
            1,
        );
    }

    // GET, with values of several types and both exceptions
    let oids = ".1.3.6.1.2.1.1.1.0 .1.3.6.1.2.1.1.2.0 .1.3.6.1.2.1.1.5.0 .1.3.6.1.2.1.1.7.0 \
                .1.3.6.1.2.1.2.2.1.6.1 .1.3.6.1.6.3.10.2.1.1.0 .1.3.6.1.2.1.1.99.0 .1.3.6.1.2.1.1.3";
    for version in ["-v2c -c public", "-v1 -c public"] {
        let ours = nocbox(&args(&format!("get {version} -On {t} {oids}")));
        let theirs = net_snmp("snmpget", &args(&format!("{version} -On {t} {oids}")));
        assert_eq!(text(&ours), text(&theirs), "get {version}");
        assert_eq!(ours.status.code(), theirs.status.code(), "get {version}");
    }
    let v3 = v3_flags("u_sha256_aes256", Some("SHA-256"), Some("AES-256"));
    let ours = nocbox(&args(&format!("get {v3} -On {t} {oids}")));
    let theirs = net_snmp("snmpget", &args(&format!("{v3} -On {t} {oids}")));
    assert_eq!(text(&ours), text(&theirs), "get v3");
    assert!(text(&ours).contains("snmpd-test"));
    // a given engine ID skips discovery; the time syncs from the agent's Report
    let ours = nocbox(&args(&format!(
        "get {v3} -e 0x{ENGINE_HEX} {t} .1.3.6.1.2.1.1.5.0"
    )));
    assert_eq!(
        text(&ours),
        ".1.3.6.1.2.1.1.5.0 = STRING: \"snmpd-test\"\n",
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
}

#[test]
fn v3_walks_match_net_snmp_for_every_user() {
    let snmpd = Snmpd::start();
    let t = snmpd.target();
    let mut users: Vec<(String, Option<&str>, Option<&str>)> = Vec::new();
    for a in NET_SNMP_AUTH {
        for p in NET_SNMP_PRIV {
            users.push((user_name(a, p), Some(a), p));
        }
    }
    users.push(("noAuthUser".into(), None, None));
    for (name, a, p) in &users {
        let flags = v3_flags(name, *a, *p);
        let theirs = args(&format!("{flags} -On {t} .1"));
        assert_same_walk(
            &format!("{name}\n{}", snmpd.log()),
            &args(&format!("walk {flags} -On {t} .1")),
            ("snmpbulkwalk", &theirs),
        );
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let snmpd = Snmpd::start();
    let t = snmpd.target();
    let fail = |flags: &str, expect: &[&str]| {
        let o = nocbox(&args(&format!(
            "get {flags} -t 0.3 -r 1 {t} 1.3.6.1.2.1.1.5.0"
        )));
        let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
        assert_eq!(o.status.code(), Some(1), "{flags}: {err}");
        assert!(o.stdout.is_empty(), "{flags}");
        for e in expect {
            assert!(err.contains(e), "{flags}: `{e}` not in {err}");
        }
    };
    fail(
        "-v2c -c wrong",
        &["no answer from", "after 2 tries", "community"],
    );
    fail("-v1 -c wrong", &["no answer from", "community"]);
    let wrong_auth =
        format!("-v3 -l authPriv -u u_sha_aes -a SHA -A wrong-password -x AES -X {PRIV_PASS}");
    fail(
        &wrong_auth,
        &["authentication failure", "usmstatswrongdigests"],
    );
    let nobody = format!("-v3 -l authNoPriv -u nobody -a SHA -A {AUTH_PASS}");
    fail(&nobody, &["unknown user name", "usmstatsunknownusernames"]);
    let wrong_priv =
        format!("-v3 -l authPriv -u u_sha_aes -a SHA -A {AUTH_PASS} -x AES -X wrong-password");
    fail(&wrong_priv, &["no answer from", "privacy password"]);
    // wrong level for the user: the agent refuses noAuthNoPriv for an auth user
    let o = nocbox(&args(&format!(
        "get -v3 -l noAuthNoPriv -u u_sha_aes -t 0.3 -r 1 {t} 1.3.6.1.2.1.1.5.0"
    )));
    assert_eq!(o.status.code(), Some(1));
    // bad arguments
    let o = nocbox(&args(&format!("get -v 4 {t} 1.3.6.1.2.1.1.5.0")));
    assert_eq!(o.status.code(), Some(1));
    let o = nocbox(&args(&format!("get {t} 1.3.x")));
    assert_eq!(o.status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// library sessions

fn v2c(target: SocketAddr) -> SessionConfig {
    SessionConfig::new(
        target,
        Security::Community {
            version: Version::V2c,
            community: b"public".to_vec(),
        },
    )
}

#[tokio::test]
async fn sessions_poll_snmpd_over_v2c_and_v3() {
    let snmpd = tokio::task::spawn_blocking(Snmpd::start)
        .await
        .expect("snmpd");
    let target: SocketAddr = snmpd.target().parse().expect("addr");
    let transport = Transport::new();
    let roots = [
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.2.2.1.3"),
        oid("1.3.6.1.2.1.1"),
        oid("1.3.6.1.2.1.2.2.1.10"),
        oid("1.3.6.1.2.1.31.1.1.1.1"),
        oid("1.3.6.1.2.1.2.2.1.5"),
        oid("1.3.6.1.2.1.2.2.1.7"),
    ];
    let v2 = Arc::new(Session::new(transport.clone(), v2c(target)));
    // futures a poller can spawn: Send, and the session shareable across tasks
    fn spawnable<T: Send>(t: T) -> T {
        t
    }
    let walked = spawnable(v2.walk(&roots)).await.expect("v2c walk");
    let shared = v2.clone();
    let first = oid("1.3.6.1.2.1.1.5.0");
    let from_task = tokio::spawn(async move { shared.get(&[first]).await })
        .await
        .expect("task")
        .expect("get from a task");
    assert_eq!(
        from_task[0].value,
        Value::OctetString(b"snmpd-test".to_vec())
    );
    // every root's subtree, in root order, each in OID order
    let mut at = 0;
    for r in &roots {
        let n = walked[at..]
            .iter()
            .take_while(|v| v.oid.starts_with(r))
            .count();
        assert!(n > 0, "{r}");
        assert!(walked[at..at + n].windows(2).all(|w| w[0].oid < w[1].oid));
        at += n;
    }
    assert_eq!(at, walked.len());
    // compared with one walk per root
    for r in &roots {
        let one = v2.walk(std::slice::from_ref(r)).await.expect("walk");
        let part: Vec<&VarBind> = walked.iter().filter(|v| v.oid.starts_with(r)).collect();
        assert_eq!(one.len(), part.len(), "{r}");
    }
    let s = v2.stats();
    assert!(s.getbulk > 0 && s.timeouts == 0 && s.too_big == 0, "{s:?}");
    assert_eq!(v2.engine(), None);

    let user = UsmUser::new(
        "u_sha512_aes256",
        Some((AuthProtocol::Sha512, AUTH_PASS.as_bytes())),
        Some((PrivProtocol::Aes256, PRIV_PASS.as_bytes())),
    )
    .expect("user");
    let v3 = Session::new(
        transport.clone(),
        SessionConfig::new(
            target,
            Security::Usm {
                user,
                context_name: Vec::new(),
                context_engine_id: None,
                engine_id: None,
            },
        ),
    );
    let got = v3
        .get(&[oid("1.3.6.1.2.1.1.5.0"), oid("1.3.6.1.2.1.1.99.0")])
        .await
        .expect("v3 get");
    assert_eq!(got[0].value, Value::OctetString(b"snmpd-test".to_vec()));
    assert_eq!(got[1].value, Value::NoSuchObject);
    let (engine, _, _) = v3.engine().expect("discovered");
    assert_eq!(
        engine,
        (0..ENGINE_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&ENGINE_HEX[i..i + 2], 16).expect("hex"))
            .collect::<Vec<u8>>()
    );
    let walked3 = v3.walk(&roots).await.expect("v3 walk");
    assert_eq!(
        walked3.iter().map(|v| &v.oid).collect::<Vec<_>>(),
        walked.iter().map(|v| &v.oid).collect::<Vec<_>>()
    );
    assert!(v3.stats().reports >= 1, "the discovery Report");
    let next = v2
        .get_next(&[oid("1.3.6.1.2.1.1.5"), oid("1.3.6.1.2.1.1.6")])
        .await
        .expect("getnext");
    assert_eq!(next[0].oid, oid("1.3.6.1.2.1.1.5.0"));
    assert_eq!(next[1].oid, oid("1.3.6.1.2.1.1.6.0"));
    let t = transport.stats();
    assert!(t.sent > 0 && t.received > 0 && t.undecodable == 0, "{t:?}");
    drop(snmpd);
}

#[tokio::test]
async fn a_silent_device_times_out_after_its_retries() {
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = silent.local_addr().expect("addr");
    let transport = Transport::new();
    let mut cfg = v2c(target);
    cfg.timeout = Duration::from_millis(150);
    cfg.retries = 2;
    let s = Session::new(transport.clone(), cfg);
    let e = s
        .get(&[oid("1.3.6.1.2.1.1.5.0")])
        .await
        .expect_err("silence");
    assert!(matches!(e, SnmpError::Timeout { tries: 3, .. }), "{e:?}");
    assert_eq!(e.reason(), "timeout");
    assert!(e.to_string().contains(&target.to_string()), "{e}");
    let e = s.walk(&[oid("1.3.6.1.2.1.2")]).await.expect_err("silence");
    assert!(matches!(e, SnmpError::Timeout { .. }));
    let st = s.stats();
    assert_eq!((st.timeouts, st.retries), (2, 4), "{st:?}");
    assert_eq!(transport.stats().sent, 6);
    // v3 discovery times out the same way
    let user = UsmUser::new("u", None, None).expect("user");
    let mut cfg = SessionConfig::new(
        target,
        Security::Usm {
            user,
            context_name: Vec::new(),
            context_engine_id: None,
            engine_id: None,
        },
    );
    cfg.timeout = Duration::from_millis(100);
    cfg.retries = 0;
    let s = Session::new(transport, cfg);
    let e = s
        .get(&[oid("1.3.6.1.2.1.1.5.0")])
        .await
        .expect_err("silence");
    assert!(matches!(e, SnmpError::Timeout { tries: 1, .. }), "{e:?}");
    assert_eq!(s.engine(), None);
}

// ---------------------------------------------------------------------------------------------
// a fake agent that misbehaves in every way a poller must survive

#[derive(Clone, Copy)]
struct Misbehave {
    /// Before each real reply: one with a wrong request-id, one from another port, garbage.
    noise: bool,
    /// GET/GETNEXT with more varbinds than this get tooBig.
    too_big_over: usize,
    /// GETBULK replies hold at most this many varbinds (RFC 3416 truncation).
    truncate_to: usize,
    /// GETBULK is refused with genErr (the session must fall back to GETNEXT).
    no_bulk: bool,
    /// GETBULK is dropped without an answer (the session must fall back to GETNEXT).
    drop_bulk: bool,
    /// GETBULK asking for more varbinds than this (roots × max-repetitions) gets tooBig.
    bulk_too_big_over: usize,
}

fn table() -> BTreeMap<Oid, Value> {
    let mut t = BTreeMap::new();
    t.insert(
        oid("1.3.6.1.2.1.1.5.0"),
        Value::OctetString(b"fake".to_vec()),
    );
    for row in 1..=12u32 {
        t.insert(
            oid(&format!("1.3.6.1.2.1.2.2.1.2.{row}")),
            Value::OctetString(format!("eth{row}").into_bytes()),
        );
        t.insert(
            oid(&format!("1.3.6.1.2.1.2.2.1.10.{row}")),
            Value::Counter32(row * 100),
        );
        if row <= 5 {
            t.insert(
                oid(&format!("1.3.6.1.2.1.2.2.1.16.{row}")),
                Value::Counter32(row),
            );
        }
    }
    for (i, v) in odd_values().into_iter().enumerate() {
        t.insert(oid(&format!("1.3.6.1.4.1.99999.1.{i}")), v);
    }
    t
}

/// Values whose text net-snmp prints in its own way.
fn odd_values() -> Vec<Value> {
    vec![
        Value::OctetString((0..40).collect()),
        Value::OctetString(b"quote \" back \\ tab\tnewline\nend".to_vec()),
        Value::OctetString(b"trailing nul\0".to_vec()),
        Value::OctetString(Vec::new()),
        Value::OctetString(vec![0xc3, 0xa9]),
        Value::Integer(i32::MIN),
        Value::Gauge32(u32::MAX),
        Value::Counter64(u64::MAX),
        Value::TimeTicks(u32::MAX),
        Value::TimeTicks(8_640_000),
        Value::TimeTicks(17_280_001),
        Value::IpAddress([10, 0, 0, 255].into()),
        Value::Oid(oid("0.0")),
        Value::Null,
        Value::Opaque(vec![0x9f, 0x78, 4, 0x40, 0x49, 0x0f, 0xdb]),
        Value::Opaque(vec![
            0x9f, 0x79, 8, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18,
        ]),
    ]
}

fn next_after(t: &BTreeMap<Oid, Value>, o: &Oid) -> VarBind {
    use std::ops::Bound::{Excluded, Unbounded};
    match t.range((Excluded(o.clone()), Unbounded)).next() {
        Some((k, v)) => VarBind::new(k.clone(), v.clone()),
        None => VarBind::new(o.clone(), Value::EndOfMibView),
    }
}

fn respond(t: &BTreeMap<Oid, Value>, pdu: &Pdu, m: Misbehave, v1: bool) -> GenericPdu {
    let mut out = GenericPdu {
        kind: PduKind::Response,
        request_id: pdu.request_id().unwrap_or(0),
        error_status: 0,
        error_index: 0,
        varbinds: Vec::new(),
    };
    match pdu {
        Pdu::Generic(p) if p.varbinds.len() > m.too_big_over => {
            out.error_status = 1;
            out.varbinds = p.varbinds.clone();
        }
        Pdu::Generic(p) if p.kind == PduKind::Get => {
            out.varbinds = p
                .varbinds
                .iter()
                .map(|vb| {
                    let v = t.get(&vb.oid).cloned().unwrap_or(Value::NoSuchObject);
                    VarBind::new(vb.oid.clone(), v)
                })
                .collect();
            let missing = out
                .varbinds
                .iter()
                .position(|v| v.value == Value::NoSuchObject);
            if let (true, Some(i)) = (v1, missing) {
                out.error_status = 2;
                out.error_index = i as i32 + 1;
                out.varbinds = p.varbinds.clone();
            }
        }
        Pdu::Generic(p) => {
            out.varbinds = p.varbinds.iter().map(|vb| next_after(t, &vb.oid)).collect();
            // v1 has no endOfMibView: noSuchName at the first varbind past the end
            let end = out
                .varbinds
                .iter()
                .position(|v| v.value == Value::EndOfMibView);
            if let (true, Some(i)) = (v1, end) {
                out.error_status = 2;
                out.error_index = i as i32 + 1;
                out.varbinds = p.varbinds.clone();
            }
        }
        Pdu::GetBulk(b)
            if b.varbinds.len() * usize::try_from(b.max_repetitions).unwrap_or(0)
                > m.bulk_too_big_over =>
        {
            out.error_status = 1;
        }
        Pdu::GetBulk(_) if m.no_bulk => {
            out.error_status = 5;
            out.error_index = 1;
        }
        Pdu::GetBulk(b) => {
            let mut cursors: Vec<Oid> = b.varbinds.iter().map(|v| v.oid.clone()).collect();
            'rows: for _ in 0..b.max_repetitions {
                for c in cursors.iter_mut() {
                    if out.varbinds.len() >= m.truncate_to {
                        break 'rows;
                    }
                    let vb = next_after(t, c);
                    *c = vb.oid.clone();
                    out.varbinds.push(vb);
                }
            }
        }
        Pdu::TrapV1(_) => {}
    }
    out
}

/// Serves `table()` on 127.0.0.1 until the test ends; returns its address.
async fn fake_agent(m: Misbehave) -> SocketAddr {
    fake_agent_on("127.0.0.1:0", m).await
}

async fn fake_agent_on(bind: &str, m: Misbehave) -> SocketAddr {
    let sock = tokio::net::UdpSocket::bind(bind).await.expect("bind");
    let other = tokio::net::UdpSocket::bind(bind).await.expect("bind");
    let addr = sock.local_addr().expect("addr");
    tokio::spawn(async move {
        let t = table();
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let Ok(Message::Community(req)) = decode(&buf[..n]) else {
                continue;
            };
            if m.drop_bulk && matches!(req.pdu, Pdu::GetBulk(_)) {
                continue;
            }
            let reply = respond(&t, &req.pdu, m, req.version == Version::V1);
            let msg = |p: GenericPdu| {
                encode(&Message::Community(CommunityMessage {
                    version: req.version,
                    community: req.community.clone(),
                    pdu: Pdu::Generic(p),
                }))
            };
            if m.noise {
                let mut wrong = reply.clone();
                wrong.request_id = wrong.request_id.wrapping_add(7777);
                let _ = sock.send_to(&msg(wrong), from).await;
                let _ = other.send_to(&msg(reply.clone()), from).await;
                let _ = sock.send_to(b"\x30\x03\x02\x01garbage", from).await;
            }
            let _ = sock.send_to(&msg(reply), from).await;
        }
    });
    addr
}

fn expected_walk(roots: &[Oid]) -> Vec<VarBind> {
    let t = table();
    roots
        .iter()
        .flat_map(|r| {
            t.iter()
                .filter(|(k, _)| k.starts_with(r))
                .map(|(k, v)| VarBind::new(k.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn a_misbehaving_agent_is_counted_ignored_and_split_around() {
    let agent = fake_agent(Misbehave {
        noise: true,
        too_big_over: 2,
        truncate_to: 7,
        no_bulk: false,
        drop_bulk: false,
        bulk_too_big_over: usize::MAX,
    })
    .await;
    let transport = Transport::new();
    let mut cfg = v2c(agent);
    cfg.timeout = Duration::from_millis(500);
    cfg.retries = 1;
    let s = Session::new(transport.clone(), cfg);
    let oids = [
        oid("1.3.6.1.2.1.1.5.0"),
        oid("1.3.6.1.2.1.2.2.1.2.3"),
        oid("1.3.6.1.2.1.2.2.1.10.4"),
        oid("1.3.6.1.2.1.9.9.0"),
        oid("1.3.6.1.2.1.2.2.1.16.5"),
    ];
    let got = s.get(&oids).await.expect("get despite tooBig");
    assert_eq!(
        got.iter().map(|v| &v.oid).collect::<Vec<_>>(),
        oids.iter().collect::<Vec<_>>()
    );
    assert_eq!(got[0].value, Value::OctetString(b"fake".to_vec()));
    assert_eq!(got[3].value, Value::NoSuchObject);
    assert_eq!(got[4].value, Value::Counter32(5));
    let st = s.stats();
    assert!(st.too_big >= 1 && st.oid_batch_size < 5, "{st:?}");

    let roots = [
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.2.2.1.10"),
        oid("1.3.6.1.2.1.2.2.1.16"),
        oid("1.3.6.1.2.1.1"),
    ];
    let walked = s.walk(&roots).await.expect("walk despite truncation");
    assert_eq!(walked, expected_walk(&roots));
    let t = transport.stats();
    assert!(t.unmatched_id >= 3, "{t:?}");
    assert!(t.wrong_source >= 3, "{t:?}");
    assert!(t.undecodable >= 3, "{t:?}");
    assert_eq!(s.stats().timeouts, 0);

    // an agent answering from another address is accepted when the check is off
    let mut cfg = v2c(agent);
    cfg.check_source = false;
    let loose = Session::new(transport.clone(), cfg);
    loose.get(&oids[..1]).await.expect("get");
}

#[tokio::test]
async fn getbulk_refused_falls_back_to_getnext_and_v1_walks() {
    let agent = fake_agent(Misbehave {
        noise: false,
        too_big_over: 100,
        truncate_to: 100,
        no_bulk: true,
        drop_bulk: false,
        bulk_too_big_over: usize::MAX,
    })
    .await;
    let transport = Transport::new();
    let mut cfg = v2c(agent);
    cfg.max_in_flight = 3;
    cfg.oid_batch_size = 2;
    let s = Session::new(transport.clone(), cfg);
    let roots = [
        oid("1.3.6.1.2.1.2.2.1.16"),
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.2.2.1.10"),
        oid("1.3.6.1.2.1.1"),
    ];
    let walked = s.walk(&roots).await.expect("walk");
    assert_eq!(walked, expected_walk(&roots));
    let st = s.stats();
    assert!(st.fallback_to_getnext >= 1 && st.getnext > 0, "{st:?}");
    // a root past the end of the MIB ends on endOfMibView, not in a loop
    let end = s.walk(&[oid("1.3.6.1.9")]).await.expect("walk");
    assert!(end.is_empty());

    // v1: GETNEXT only, the root at the end of the MIB ends on noSuchName, the others go on
    let mut cfg = v2c(agent);
    cfg.security = Security::Community {
        version: Version::V1,
        community: b"public".to_vec(),
    };
    let v1 = Session::new(transport, cfg);
    let roots = [oid("1.3.6.1.2.1.2.2.1.16"), oid("1.3.6.1.2.1.2.2.1.2")];
    assert_eq!(
        v1.walk(&roots).await.expect("v1 walk"),
        expected_walk(&roots)
    );
    let got = v1
        .get(&[oid("1.3.6.1.2.1.1.5.0"), oid("1.3.6.1.2.1.1.99.0")])
        .await
        .expect("v1 get");
    assert_eq!(got[0].value, Value::OctetString(b"fake".to_vec()));
    assert_eq!(got[1].value, Value::NoSuchObject);
    let st = v1.stats();
    assert_eq!((st.getbulk, st.fallback_to_getnext), (0, 0), "{st:?}");
}

#[tokio::test]
async fn ipv6_targets_use_the_ipv6_socket() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    let m = Misbehave {
        noise: false,
        too_big_over: 100,
        truncate_to: 100,
        no_bulk: false,
        drop_bulk: false,
        bulk_too_big_over: usize::MAX,
    };
    let agent = fake_agent_on("[::1]:0", m).await;
    let transport = Transport::new();
    let s = Session::new(transport.clone(), v2c(agent));
    // three 12-row columns in one GETBULK stream: 10 rows, then the last 2 and the ends
    let roots = [
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.2.2.1.10"),
        oid("1.3.6.1.2.1.2.2.1.16"),
    ];
    assert_eq!(s.walk(&roots).await.expect("walk"), expected_walk(&roots));
    assert_eq!(s.stats().getbulk, 2, "{:?}", s.stats());
    // and the CLI's udp6:[addr]:port form
    let port = agent.port();
    let out = tokio::task::spawn_blocking(move || {
        nocbox(&args(&format!(
            "get -v2c -c public -On udp6:[::1]:{port} 1.3.6.1.2.1.1.5.0"
        )))
    })
    .await
    .expect("cli");
    assert_eq!(text(&out), ".1.3.6.1.2.1.1.5.0 = STRING: \"fake\"\n");
}

#[tokio::test]
async fn getbulk_dropped_silently_falls_back_once_the_device_has_answered() {
    let agent = fake_agent(Misbehave {
        noise: false,
        too_big_over: 100,
        truncate_to: 100,
        no_bulk: false,
        drop_bulk: true,
        bulk_too_big_over: usize::MAX,
    })
    .await;
    let mut cfg = v2c(agent);
    cfg.timeout = Duration::from_millis(100);
    cfg.retries = 0;
    let s = Session::new(Transport::new(), cfg);
    let roots = [oid("1.3.6.1.2.1.2.2.1.2")];
    // nothing answered yet: silence is silence
    let e = s
        .walk(&roots)
        .await
        .expect_err("no fallback for a silent device");
    assert!(matches!(e, SnmpError::Timeout { .. }), "{e:?}");
    // after a GET was answered, silence to GETBULK means "no GETBULK here"
    s.get(&[oid("1.3.6.1.2.1.1.5.0")]).await.expect("get");
    assert_eq!(s.walk(&roots).await.expect("walk"), expected_walk(&roots));
    let st = s.stats();
    assert_eq!(st.fallback_to_getnext, 1, "{st:?}");
    // and later walks go straight to GETNEXT
    let bulk = st.getbulk;
    s.walk(&roots).await.expect("walk");
    assert_eq!(s.stats().getbulk, bulk);
}

#[tokio::test]
async fn odd_values_print_as_net_snmp_prints_them() {
    let m = Misbehave {
        noise: false,
        too_big_over: 100,
        truncate_to: 100,
        no_bulk: false,
        drop_bulk: false,
        bulk_too_big_over: usize::MAX,
    };
    let agent = fake_agent(m).await;
    let oids: Vec<String> = (0..odd_values().len())
        .map(|i| format!(".1.3.6.1.4.1.99999.1.{i}"))
        .collect();
    let target = agent.to_string();
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let get = format!("-v2c -c public -On {target} {}", oids.join(" "));
        let walk = format!("-v2c -c public -On {target} .1.3.6.1.4.1.99999");
        (
            [
                nocbox(&args(&format!("get {get}"))),
                nocbox(&args(&format!("walk {walk}"))),
            ],
            [
                net_snmp("snmpget", &args(&get)),
                net_snmp("snmpbulkwalk", &args(&walk)),
            ],
        )
    })
    .await
    .expect("programs");
    for (o, t) in ours.iter().zip(&theirs) {
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        assert_eq!(text(o), text(t));
    }
    assert!(text(&ours[0]).lines().count() >= odd_values().len());
}

#[tokio::test]
async fn getbulk_too_big_shrinks_repetitions_then_roots() {
    let agent = fake_agent(Misbehave {
        noise: false,
        too_big_over: 100,
        truncate_to: 100,
        no_bulk: false,
        drop_bulk: false,
        bulk_too_big_over: 6,
    })
    .await;
    let s = Session::new(Transport::new(), v2c(agent));
    let roots = [
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.2.2.1.10"),
        oid("1.3.6.1.2.1.2.2.1.16"),
        oid("1.3.6.1.2.1.1"),
    ];
    assert_eq!(s.walk(&roots).await.expect("walk"), expected_walk(&roots));
    let st = s.stats();
    assert!(st.too_big >= 2, "{st:?}");
    assert!(st.max_repetitions < 10, "{st:?}");
    assert_eq!(st.fallback_to_getnext, 0, "{st:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_share_one_socket_and_get_their_own_replies() {
    let quiet = Misbehave {
        noise: false,
        too_big_over: 100,
        truncate_to: 100,
        no_bulk: false,
        drop_bulk: false,
        bulk_too_big_over: usize::MAX,
    };
    let mut agents = Vec::new();
    for _ in 0..4 {
        agents.push(fake_agent(quiet).await);
    }
    let transport = Transport::new();
    let roots = [
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.2.2.1.10"),
        oid("1.3.6.1.2.1.2.2.1.16"),
        oid("1.3.6.1.2.1.1"),
    ];
    let want = expected_walk(&roots);
    let mut tasks = Vec::new();
    for i in 0..400 {
        let s = Arc::new(Session::new(
            transport.clone(),
            v2c(agents[i % agents.len()]),
        ));
        let roots = roots.clone();
        tasks.push(tokio::spawn(async move { s.walk(&roots).await }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("walk"), want);
    }
    let st = transport.stats();
    assert_eq!(
        (st.unmatched_id, st.wrong_source, st.undecodable),
        (0, 0, 0),
        "{st:?}"
    );
    assert!(st.received >= 400, "{st:?}");
}

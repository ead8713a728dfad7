//! Interop of the sans-IO SNMP core (`nocbox::proto::snmp`) with net-snmp 5.9.3, both ways, on
//! loopback only, with plain std UDP sockets:
//! - net-snmp → us: `snmptrap` v1/v2c/v3 to a socket the test opens (we decode, verify, decrypt);
//!   `snmpinform` v2c/v3, answered with our Report (engine-ID discovery) and our signed and
//!   encrypted Response: `snmpinform` exiting 0 proves our encoder and USM right.
//! - us → net-snmp: GETs built by our encoder to a real `snmpd`, v2c and v3 for every auth/priv
//!   combination net-snmp offers, with discovery, time sync and the error Reports.
//!
//! scripts/test.sh installs the Debian packages `snmp`, `snmpd` and `snmptrapd`; a missing
//! program fails the test and names its package. Each net-snmp program gets its own scratch
//! directory for state and config (`SNMP_PERSISTENT_DIR`, `SNMPCONFPATH`), so /etc/snmp and
//! /var/lib/snmp are never read or written.

use std::fs;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nocbox::proto::snmp::message::{
    decode, encode, CommunityMessage, GenericPdu, Limits, Message, MsgFlags, Pdu, PduKind,
    ScopedData, ScopedPdu, UsmParams, V3Message, Value, VarBind, Version,
};
use nocbox::proto::snmp::usm::{
    self, build_report, check_authoritative, report_kind, AuthProtocol, EngineTime, KeyCache,
    LocalEngine, PrivProtocol, RemoteEngine, ReportKind, UsmError, UsmUser,
};
use nocbox::proto::snmp::Oid;

#[path = "support/snmpd.rs"]
mod snmpd_conf;
use snmpd_conf::{
    program, user_name as poll_user_name, Agent, Scratch, AUTH_PASS, NET_SNMP_AUTH, NET_SNMP_PRIV,
    PRIV_PASS,
};

/// The engine ID net-snmp senders claim with `-e` for traps (they are authoritative).
const SENDER_ENGINE: &str = "8000000001020304";
/// Our engine ID as an inform receiver (we are authoritative): enterprise 0, format 4 (text).
const OUR_ENGINE: &[u8] = b"\x80\x00\x00\x00\x04nocbox-test";
/// How long an answer that must come may take: generous, other builds share the two CPUs.
const ANSWER: Duration = Duration::from_secs(3);

fn oid(s: &str) -> Oid {
    s.parse().expect("test OID")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A running net-snmp program; killed on drop so a failing test leaves nothing behind.
struct Tool {
    child: Child,
    scratch: Scratch,
    what: String,
}

impl Tool {
    /// Starts a net-snmp client program with its own state and config directory.
    fn spawn(name: &str, package: &str, args: &[String]) -> Tool {
        let scratch = Scratch::new(name);
        let child = Command::new(program(name, package))
            .args(args)
            .env("SNMP_PERSISTENT_DIR", scratch.0.join("persist"))
            .env("SNMPCONFPATH", &scratch.0)
            .env("MIBS", "")
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                fs::File::create(scratch.0.join("out")).expect("out"),
            ))
            .stderr(Stdio::from(
                fs::File::create(scratch.0.join("err")).expect("err"),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Tool {
            child,
            scratch,
            what: format!("{name} {}", args.join(" ")),
        }
    }

    fn output(&self) -> String {
        let read = |f: &str| fs::read_to_string(self.scratch.0.join(f)).unwrap_or_default();
        format!("stdout: {}\nstderr: {}", read("out"), read("err"))
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("poll child")
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(s) = self.exited() {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not exit in {limit:?}\n{}", self.what, self.output());
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn socket() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    s.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let port = s.local_addr().expect("local addr").port();
    (s, port)
}

fn recv(s: &UdpSocket, limit: Duration) -> Option<(Vec<u8>, SocketAddr)> {
    let until = Instant::now() + limit;
    let mut buf = vec![0u8; 65_535];
    while Instant::now() < until {
        match s.recv_from(&mut buf) {
            Ok((n, from)) => return Some((buf[..n].to_vec(), from)),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("recv: {e}"),
        }
    }
    None
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn v3(msg: Message) -> V3Message {
    match msg {
        Message::V3(m) => m,
        m => panic!("expected v3, got {m:?}"),
    }
}

fn user(name: &str, auth: Option<&str>, privacy: Option<&str>, auth_pass: &str) -> UsmUser {
    UsmUser::new(
        name,
        auth.map(|a| {
            (
                a.parse::<AuthProtocol>().expect("auth name"),
                auth_pass.as_bytes(),
            )
        }),
        privacy.map(|p| {
            (
                p.parse::<PrivProtocol>().expect("priv name"),
                PRIV_PASS.as_bytes(),
            )
        }),
    )
    .expect("user")
}

/// The notification varbinds after sysUpTime.0 and snmpTrapOID.0.
fn assert_link_down(pdu: &Pdu, index: i32) {
    let vbs = pdu.varbinds();
    assert_eq!(vbs[0].oid, oid("1.3.6.1.2.1.1.3.0"));
    assert!(matches!(vbs[0].value, Value::TimeTicks(_)));
    assert_eq!(
        vbs[1],
        VarBind::new(
            oid("1.3.6.1.6.3.1.1.4.1.0"),
            Value::Oid(oid("1.3.6.1.6.3.1.1.5.3"))
        )
    );
    assert_eq!(
        vbs[2],
        VarBind::new(
            oid(&format!("1.3.6.1.2.1.2.2.1.1.{index}")),
            Value::Integer(index)
        )
    );
}

// ---------------------------------------------------------------------------------------------
// net-snmp → us: traps

#[test]
fn v1_and_v2c_traps_from_snmptrap_decode() {
    let (s, port) = socket();
    let mut t = Tool::spawn(
        "snmptrap",
        "snmp",
        &args(&format!(
            "-v1 -c public 127.0.0.1:{port} 1.3.6.1.4.1.8072.2.3 192.0.2.7 6 17 777 \
             1.3.6.1.4.1.8072.2.3.2.1 i 123456"
        )),
    );
    let (raw, _) = recv(&s, ANSWER).unwrap_or_else(|| panic!("no v1 trap\n{}", t.output()));
    assert!(t.wait(ANSWER).success());
    let Message::Community(m) = decode(&raw).expect("decode v1 trap") else {
        panic!()
    };
    assert_eq!((m.version, m.community.as_str()), (Version::V1, "public"));
    let Pdu::TrapV1(trap) = &m.pdu else {
        panic!("{:?}", m.pdu)
    };
    assert_eq!(trap.enterprise, oid("1.3.6.1.4.1.8072.2.3"));
    assert_eq!(trap.agent_addr.to_string(), "192.0.2.7");
    assert_eq!(
        (trap.generic_trap, trap.specific_trap, trap.timestamp),
        (6, 17, 777)
    );
    assert_eq!(
        trap.varbinds,
        [VarBind::new(
            oid("1.3.6.1.4.1.8072.2.3.2.1"),
            Value::Integer(123456)
        )]
    );

    let mut t = Tool::spawn(
        "snmptrap",
        "snmp",
        &args(&format!(
            "-v2c -c s3cret 127.0.0.1:{port} 4242 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.3 i 3"
        )),
    );
    let (raw, _) = recv(&s, ANSWER).unwrap_or_else(|| panic!("no v2c trap\n{}", t.output()));
    assert!(t.wait(ANSWER).success());
    let Message::Community(m) = decode(&raw).expect("decode v2c trap") else {
        panic!()
    };
    assert_eq!((m.version, m.community.as_str()), (Version::V2c, "s3cret"));
    assert_eq!(m.pdu.kind(), Some(PduKind::TrapV2));
    assert_link_down(&m.pdu, 3);
}

/// net-snmp 5.9.3 senders: every auth protocol, and every privacy protocol it has (no 3DES, no
/// Reeder). `-x AES-256` is Blumenthal, which is our `aes256`.
const TRAP_COMBOS: [(&str, Option<&str>, &str, Option<&str>); 8] = [
    ("SHA", Some("AES"), "sha", Some("aes")),
    ("SHA-256", Some("AES-256"), "sha256", Some("aes256")),
    ("MD5", Some("DES"), "md5", Some("des")),
    ("SHA-512", Some("AES-192"), "sha512", Some("aes192")),
    ("SHA-224", Some("AES"), "sha224", Some("aes")),
    ("SHA-384", Some("AES-256"), "sha384", Some("aes256")),
    ("SHA", Some("AES-256"), "sha", Some("aes256")),
    ("MD5", None, "md5", None),
];

/// Runs `snmptrap -v3` as engine SENDER_ENGINE to our port and waits for it to finish.
fn send_v3_trap(port: u16, net_auth: &str, net_priv: Option<&str>, index: i32) -> Tool {
    let level = match net_priv {
        Some(p) => format!("-l authPriv -x {p} -X {PRIV_PASS}"),
        None => "-l authNoPriv".into(),
    };
    let mut t = Tool::spawn(
        "snmptrap",
        "snmp",
        &args(&format!(
            "-v3 -e 0x{SENDER_ENGINE} -u trapuser {level} -a {net_auth} -A {AUTH_PASS} \
             127.0.0.1:{port} 4242 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.{index} i {index}"
        )),
    );
    let status = t.wait(ANSWER);
    assert!(status.success(), "{}\n{}", t.what, t.output());
    t
}

#[test]
fn v3_traps_from_snmptrap_verify_and_decrypt_for_every_combination() {
    let (s, port) = socket();
    let engine = hex(SENDER_ENGINE);
    let mut cache = KeyCache::new(64);
    for (i, (net_auth, net_priv, ours_auth, ours_priv)) in TRAP_COMBOS.into_iter().enumerate() {
        let index = i as i32 + 1;
        let what = format!("{net_auth}/{net_priv:?}");
        let _t = send_v3_trap(port, net_auth, net_priv, index);
        let (raw, _) = recv(&s, ANSWER).unwrap_or_else(|| panic!("no trap for {what}"));
        let msg = v3(decode(&raw).unwrap_or_else(|e| panic!("{what}: {e}")));
        assert_eq!(msg.usm.engine_id, engine, "{what}");
        assert_eq!(msg.usm.user_name, "trapuser");
        assert_eq!(msg.flags.privacy(), net_priv.is_some());

        // keys are localized to the sender's engine ID, once per engine (the cache)
        let good = user("trapuser", Some(ours_auth), ours_priv, AUTH_PASS);
        let keys = cache.get(&good, &msg.usm.engine_id).expect("keys");
        let scoped = usm::unprotect(&raw, &msg, &keys, &Limits::default())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(scoped.pdu.kind(), Some(PduKind::TrapV2), "{what}");
        assert_link_down(&scoped.pdu, index);

        // a wrong auth password: wrong digest
        let bad = user("trapuser", Some(ours_auth), ours_priv, "not-the-password");
        let keys = cache.get(&bad, &msg.usm.engine_id).expect("keys");
        let e = usm::unprotect(&raw, &msg, &keys, &Limits::default()).unwrap_err();
        assert_eq!(e, UsmError::WrongDigest, "{what}");

        // AES-256 with SHA-1 needs key extension: Reeder (Cisco's aes256c) cannot read
        // net-snmp's Blumenthal ciphertext
        if (ours_auth, ours_priv) == ("sha", Some("aes256")) {
            let reeder = user("trapuser", Some("sha"), Some("aes256c"), AUTH_PASS);
            let keys = cache.get(&reeder, &msg.usm.engine_id).expect("keys");
            let e = usm::unprotect(&raw, &msg, &keys, &Limits::default()).unwrap_err();
            assert_eq!(e, UsmError::DecryptionError);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// net-snmp → us: informs, which we must acknowledge

/// An inform receiver made only of core functions: a Report for engine-ID discovery, a signed
/// (and encrypted) Response for an authenticated inform. With `sabotage` it signs the Response
/// with a key from another password, which `snmpinform` must refuse.
struct InformReceiver {
    engine: LocalEngine,
    user: UsmUser,
    cache: KeyCache,
    start: Instant,
    unknown_engine_ids: u32,
    salt: u64,
    informs: Vec<Pdu>,
    sabotage: bool,
}

impl InformReceiver {
    fn new(user: UsmUser, sabotage: bool) -> InformReceiver {
        InformReceiver {
            engine: LocalEngine {
                engine_id: OUR_ENGINE.to_vec(),
                boots: 3,
                started: Duration::ZERO,
            },
            user,
            cache: KeyCache::new(8),
            // as if we had been up for ten minutes
            start: Instant::now() - Duration::from_secs(600),
            unknown_engine_ids: 0,
            salt: 1,
            informs: Vec::new(),
            sabotage,
        }
    }

    fn handle(&mut self, raw: &[u8]) -> Option<Vec<u8>> {
        let now = self.start.elapsed();
        let msg = match decode(raw).expect("decode what snmpinform sent") {
            Message::Community(m) => return self.community(m),
            Message::V3(m) => m,
        };
        let local = self.engine.engine_time(now);
        if msg.usm.engine_id != self.engine.engine_id {
            // RFC 3414 §4: the sender learns our engine ID, boots and time from this Report
            self.unknown_engine_ids += 1;
            let request_id = match &msg.data {
                ScopedData::Plain(s) => s.pdu.request_id().unwrap_or(0),
                ScopedData::Encrypted(_) => 0,
            };
            let kind = ReportKind::UnknownEngineId;
            let report = build_report(
                &msg,
                request_id,
                OUR_ENGINE,
                local,
                kind,
                self.unknown_engine_ids,
            );
            return Some(encode(&Message::V3(report)));
        }
        assert_eq!(msg.usm.user_name, self.user.name);
        let keys = self.cache.get(&self.user, OUR_ENGINE).expect("keys");
        let scoped =
            usm::unprotect(raw, &msg, &keys, &Limits::default()).expect("unprotect inform");
        let sent = EngineTime {
            boots: msg.usm.engine_boots,
            time: msg.usm.engine_time,
        };
        check_authoritative(local, sent).expect("inform inside the time window");
        let Pdu::Generic(inform) = &scoped.pdu else {
            panic!("{:?}", scoped.pdu)
        };
        assert_eq!(inform.kind, PduKind::Inform);
        self.informs.push(scoped.pdu.clone());
        let response = V3Message {
            msg_id: msg.msg_id,
            max_size: 65_507,
            flags: MsgFlags::new(msg.flags.auth(), msg.flags.privacy(), false),
            usm: UsmParams {
                engine_id: OUR_ENGINE.to_vec(),
                engine_boots: local.boots,
                engine_time: local.time,
                user_name: msg.usm.user_name.clone(),
                ..UsmParams::default()
            },
            data: ScopedData::Plain(ScopedPdu {
                context_engine_id: scoped.context_engine_id.clone(),
                context_name: scoped.context_name.clone(),
                pdu: response_to(inform),
            }),
        };
        self.salt += 1;
        let keys = if self.sabotage {
            let wrong = UsmUser::new(
                &self.user.name,
                self.user
                    .auth_protocol()
                    .map(|a| (a, &b"wrong-password"[..])),
                self.user
                    .privacy_protocol()
                    .map(|p| (p, PRIV_PASS.as_bytes())),
            )
            .expect("user");
            self.cache.get(&wrong, OUR_ENGINE).expect("keys")
        } else {
            keys
        };
        Some(usm::protect(response, &keys, self.salt).expect("protect response"))
    }

    fn community(&mut self, m: CommunityMessage) -> Option<Vec<u8>> {
        let Pdu::Generic(inform) = &m.pdu else {
            panic!("{:?}", m.pdu)
        };
        assert_eq!(inform.kind, PduKind::Inform);
        self.informs.push(m.pdu.clone());
        Some(encode(&Message::Community(CommunityMessage {
            pdu: response_to(inform),
            ..m
        })))
    }
}

/// RFC 3416 §4.2.7: the Response to an InformRequest repeats its request-id and varbinds.
fn response_to(inform: &GenericPdu) -> Pdu {
    Pdu::Generic(GenericPdu {
        kind: PduKind::Response,
        error_status: 0,
        error_index: 0,
        ..inform.clone()
    })
}

/// Answers what `snmpinform` sends (when `rx` is given) until it exits.
fn serve(s: &UdpSocket, tool: &mut Tool, mut rx: Option<&mut InformReceiver>) -> ExitStatus {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if let Some((raw, from)) = recv(s, Duration::from_millis(50)) {
            if let Some(reply) = rx.as_deref_mut().and_then(|r| r.handle(&raw)) {
                s.send_to(&reply, from).expect("send reply");
            }
        }
        if let Some(status) = tool.exited() {
            return status;
        }
    }
    panic!("{} still running\n{}", tool.what, tool.output());
}

fn snmpinform(port: u16, level: &str, wait: &str, index: i32) -> Tool {
    Tool::spawn(
        "snmpinform",
        "snmp",
        &args(&format!(
            "{level} {wait} 127.0.0.1:{port} 4242 1.3.6.1.6.3.1.1.5.3 \
             1.3.6.1.2.1.2.2.1.1.{index} i {index}"
        )),
    )
}

#[test]
fn v2c_inform_is_acknowledged_with_our_response() {
    let (s, port) = socket();
    let mut rx = InformReceiver::new(user("unused", None, None, AUTH_PASS), false);
    let mut t = snmpinform(port, "-v2c -c public", "-t 3 -r 1", 7);
    let status = serve(&s, &mut t, Some(&mut rx));
    assert!(status.success(), "{}", t.output());
    assert_eq!(rx.informs.len(), 1);
    assert_link_down(&rx.informs[0], 7);
}

#[test]
fn v3_informs_are_discovered_and_acknowledged_for_every_combination() {
    for (i, (net_auth, net_priv, ours_auth, ours_priv)) in TRAP_COMBOS.into_iter().enumerate() {
        let (s, port) = socket();
        let index = 20 + i as i32;
        let u = user("informuser", Some(ours_auth), ours_priv, AUTH_PASS);
        let mut rx = InformReceiver::new(u, false);
        let level = match net_priv {
            Some(p) => format!("-l authPriv -x {p} -X {PRIV_PASS}"),
            None => "-l authNoPriv".into(),
        };
        let level = format!("-v3 -u informuser {level} -a {net_auth} -A {AUTH_PASS}");
        let mut t = snmpinform(port, &level, "-t 3 -r 1", index);
        let status = serve(&s, &mut t, Some(&mut rx));
        assert!(status.success(), "{net_auth}/{net_priv:?}: {}", t.output());
        assert_eq!(rx.unknown_engine_ids, 1, "one discovery");
        assert_eq!(rx.informs.len(), 1);
        assert_link_down(&rx.informs[0], index);
    }
}

#[test]
fn snmpinform_fails_when_we_do_not_answer_or_answer_wrongly() {
    let level =
        format!("-v3 -u informuser -l authPriv -a SHA -A {AUTH_PASS} -x AES -X {PRIV_PASS}");
    // silence
    let (s, port) = socket();
    let mut t = snmpinform(port, &level, "-t 1 -r 0", 1);
    let status = serve(&s, &mut t, None);
    assert!(!status.success(), "snmpinform succeeded without an answer");

    // a Response signed with the wrong key: net-snmp must reject it and time out
    let (s, port) = socket();
    let mut rx = InformReceiver::new(
        user("informuser", Some("sha"), Some("aes"), AUTH_PASS),
        true,
    );
    let mut t = snmpinform(port, &level, "-t 1 -r 0", 2);
    let status = serve(&s, &mut t, Some(&mut rx));
    assert!(
        !status.success(),
        "snmpinform accepted a wrongly signed Response"
    );
    assert_eq!(
        rx.informs.len(),
        1,
        "the inform itself arrived and verified"
    );
}

// ---------------------------------------------------------------------------------------------
// us → net-snmp: polling a real snmpd

/// A net-snmp agent on 127.0.0.1 with one v3 user per auth/priv combination it supports; its
/// directory goes when it stops.
struct Snmpd {
    agent: Agent,
    _scratch: Scratch,
    port: u16,
}

impl Snmpd {
    fn start() -> Snmpd {
        let scratch = Scratch::new("snmpd");
        let (s, _) = socket();
        // A port that was free a moment ago (its socket is closed at the end of this statement).
        let port = socket().1;
        let agent = Agent::start(&scratch.0, port, &[1], "snmpd-test", |a| {
            get_v2c(&s, a.port, "public", Duration::from_millis(200)).is_some()
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
}

fn sys(n: u32) -> Oid {
    oid(&format!("1.3.6.1.2.1.1.{n}.0"))
}

/// Sends `request` to the agent and returns the next datagram from it.
fn exchange(s: &UdpSocket, port: u16, request: &[u8], wait: Duration) -> Option<Vec<u8>> {
    s.send_to(request, ("127.0.0.1", port)).expect("send");
    let until = Instant::now() + wait;
    while Instant::now() < until {
        match recv(s, until - Instant::now()) {
            Some((raw, from)) if from.port() == port => return Some(raw),
            Some(_) => continue,
            None => return None,
        }
    }
    None
}

fn get_pdu(request_id: i32, oids: &[Oid]) -> Pdu {
    Pdu::Generic(GenericPdu {
        kind: PduKind::Get,
        request_id,
        error_status: 0,
        error_index: 0,
        varbinds: oids.iter().cloned().map(VarBind::null).collect(),
    })
}

fn get_v2c(s: &UdpSocket, port: u16, community: &str, wait: Duration) -> Option<CommunityMessage> {
    let request = Message::Community(CommunityMessage {
        version: Version::V2c,
        community: community.into(),
        pdu: get_pdu(0x1234, &[sys(1), sys(5)]),
    });
    let raw = exchange(s, port, &encode(&request), wait)?;
    match decode(&raw).expect("decode v2c response") {
        Message::Community(m) => Some(m),
        m => panic!("{m:?}"),
    }
}

#[test]
fn poll_snmpd_v2c_with_our_encoder() {
    let snmpd = Snmpd::start();
    let (s, _) = socket();
    let m = get_v2c(&s, snmpd.port, "public", ANSWER).expect("answer");
    let Pdu::Generic(p) = &m.pdu else { panic!() };
    assert_eq!(
        (p.kind, p.request_id, p.error_status),
        (PduKind::Response, 0x1234, 0)
    );
    assert!(matches!(&p.varbinds[0].value, Value::OctetString(d) if !d.is_empty()));
    assert_eq!(
        p.varbinds[1].value,
        Value::OctetString(b"snmpd-test".to_vec())
    );
    // a wrong community is dropped silently (net-snmp behaviour)
    assert!(get_v2c(&s, snmpd.port, "wrong", Duration::from_millis(500)).is_none());
}

/// What a v3 request came back with.
#[derive(Debug)]
enum Outcome {
    Response(V3Message, Pdu),
    Report(V3Message, ReportKind),
    Silent,
}

struct Poller {
    s: UdpSocket,
    port: u16,
    start: Instant,
    msg_id: i32,
    salt: u64,
}

impl Poller {
    fn new(port: u16) -> Poller {
        Poller {
            s: socket().0,
            port,
            start: Instant::now(),
            msg_id: 100,
            salt: 7,
        }
    }

    /// Engine-ID discovery (RFC 3414 §4): noAuthNoPriv, empty engine ID and user, reportable.
    fn discover(&mut self) -> RemoteEngine {
        self.msg_id += 1;
        let probe = V3Message {
            msg_id: self.msg_id,
            max_size: 65_507,
            flags: MsgFlags::new(false, false, true),
            usm: UsmParams::default(),
            data: ScopedData::Plain(ScopedPdu {
                context_engine_id: Vec::new(),
                context_name: Vec::new(),
                pdu: get_pdu(self.msg_id, &[]),
            }),
        };
        let raw =
            exchange(&self.s, self.port, &encode(&Message::V3(probe)), ANSWER).expect("report");
        let report = v3(decode(&raw).expect("decode report"));
        assert_eq!(report.msg_id, self.msg_id);
        let ScopedData::Plain(scoped) = &report.data else {
            panic!()
        };
        assert_eq!(report_kind(&scoped.pdu), Some(ReportKind::UnknownEngineId));
        let t = EngineTime {
            boots: report.usm.engine_boots,
            time: report.usm.engine_time,
        };
        RemoteEngine::discovered(&report.usm.engine_id, t, self.start.elapsed())
    }

    /// An authenticated (and, if the user has privacy, encrypted) GET; `skew` moves the engine
    /// time we claim.
    fn get(
        &mut self,
        remote: &mut RemoteEngine,
        user: &UsmUser,
        skew: u32,
        oids: &[Oid],
    ) -> Outcome {
        let keys = user.localize(&remote.engine_id).expect("keys");
        let t = remote.estimate(self.start.elapsed());
        self.msg_id += 1;
        self.salt += 1;
        let msg = V3Message {
            msg_id: self.msg_id,
            max_size: 65_507,
            flags: MsgFlags::new(keys.auth.is_some(), keys.privacy.is_some(), true),
            usm: UsmParams {
                engine_id: remote.engine_id.clone(),
                engine_boots: t.boots,
                engine_time: t.time + skew,
                user_name: user.name.clone(),
                ..UsmParams::default()
            },
            data: ScopedData::Plain(ScopedPdu {
                context_engine_id: remote.engine_id.clone(),
                context_name: Vec::new(),
                pdu: get_pdu(self.msg_id, oids),
            }),
        };
        let request = usm::protect(msg, &keys, self.salt).expect("protect");
        let Some(raw) = exchange(&self.s, self.port, &request, ANSWER) else {
            return Outcome::Silent;
        };
        let reply = v3(decode(&raw).expect("decode reply"));
        assert_eq!(reply.msg_id, self.msg_id);
        let scoped = usm::unprotect(&raw, &reply, &keys, &Limits::default()).expect("unprotect");
        if let Some(kind) = report_kind(&scoped.pdu) {
            return Outcome::Report(reply, kind);
        }
        let t = EngineTime {
            boots: reply.usm.engine_boots,
            time: reply.usm.engine_time,
        };
        remote
            .check_and_update(t, self.start.elapsed())
            .expect("reply in time window");
        Outcome::Response(reply, scoped.pdu)
    }
}

fn assert_sys_response(outcome: Outcome, what: &str) {
    let Outcome::Response(reply, pdu) = outcome else {
        panic!("{what}: {outcome:?}")
    };
    let Pdu::Generic(p) = &pdu else { panic!() };
    assert_eq!((p.kind, p.error_status), (PduKind::Response, 0), "{what}");
    assert!(
        matches!(&p.varbinds[0].value, Value::OctetString(d) if !d.is_empty()),
        "{what}"
    );
    assert_eq!(
        p.varbinds[1].value,
        Value::OctetString(b"snmpd-test".to_vec()),
        "{what}"
    );
    assert_eq!(reply.usm.engine_id, hex("80001f8804736e6d70642d74657374"));
}

#[test]
fn poll_snmpd_v3_for_every_auth_and_privacy_combination() {
    let snmpd = Snmpd::start();
    let mut poller = Poller::new(snmpd.port);
    let mut remote = poller.discover();
    assert_eq!(remote.engine_id, hex("80001f8804736e6d70642d74657374"));
    for a in NET_SNMP_AUTH {
        for p in NET_SNMP_PRIV {
            // net-snmp's spellings go through our parser: "AES-256" is our Blumenthal aes256
            let u = user(&poll_user_name(a, p), Some(a), p, AUTH_PASS);
            let outcome = poller.get(&mut remote, &u, 0, &[sys(1), sys(5)]);
            assert_sys_response(outcome, &format!("{a}/{p:?}\n{}", snmpd.log()));
        }
    }
    let u = user("noAuthUser", None, None, AUTH_PASS);
    assert_sys_response(
        poller.get(&mut remote, &u, 0, &[sys(1), sys(5)]),
        "noAuthNoPriv",
    );
}

#[test]
fn poll_snmpd_v3_reports_time_sync_and_key_extension() {
    let snmpd = Snmpd::start();
    let mut poller = Poller::new(snmpd.port);
    let mut remote = poller.discover();
    let oids = [sys(1), sys(5)];

    // wrong auth password → usmStatsWrongDigests; unknown user → usmStatsUnknownUserNames
    let bad = user("u_sha_aes", Some("SHA"), Some("AES"), "wrong-password");
    let o = poller.get(&mut remote, &bad, 0, &oids);
    assert!(
        matches!(o, Outcome::Report(_, ReportKind::WrongDigest)),
        "{o:?}"
    );
    let nobody = user("nobody", Some("SHA"), None, AUTH_PASS);
    let o = poller.get(&mut remote, &nobody, 0, &oids);
    assert!(
        matches!(o, Outcome::Report(_, ReportKind::UnknownUserName)),
        "{o:?}"
    );

    // a clock 1000 s ahead → an authenticated usmStatsNotInTimeWindows Report; resync, retry
    let good = user(
        "u_sha256_aes256",
        Some("SHA-256"),
        Some("AES-256"),
        AUTH_PASS,
    );
    let o = poller.get(&mut remote, &good, 1000, &oids);
    let Outcome::Report(report, ReportKind::NotInTimeWindow) = o else {
        panic!("{o:?}")
    };
    assert!(
        report.flags.auth(),
        "RFC 3414 §3.2 7a: sent at authNoPriv (and verified above)"
    );
    let t = EngineTime {
        boots: report.usm.engine_boots,
        time: report.usm.engine_time,
    };
    remote.resync(t, poller.start.elapsed());
    assert_sys_response(poller.get(&mut remote, &good, 0, &oids), "after resync");

    // SHA-1 + AES-256 needs key extension: net-snmp uses Blumenthal, so Reeder (aes256c) keys
    // make ciphertext snmpd cannot decrypt, and it drops the request without a Report
    let reeder = user("u_sha_aes256", Some("SHA"), Some("aes256c"), AUTH_PASS);
    assert!(matches!(
        poller.get(&mut remote, &reeder, 0, &oids),
        Outcome::Silent
    ));
    let blumenthal = user("u_sha_aes256", Some("SHA"), Some("aes256"), AUTH_PASS);
    assert_sys_response(poller.get(&mut remote, &blumenthal, 0, &oids), "blumenthal");
}

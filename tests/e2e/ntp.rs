//! The NTP service against chrony: chronyd (`-x`, never touching the clock) is the upstream on
//! a loopback port, and `chronyd -Q` plus a small client of our own query nocbox.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::*;

const NTP_EPOCH: u64 = 2_208_988_800;

/// chronyd serving its local clock as stratum 3 on a loopback port, stopped when dropped.
pub struct Chrony {
    pub port: u16,
    dir: PathBuf,
    child: Option<ChildGuard>,
}

impl Chrony {
    pub fn start(dir: &Path) -> Chrony {
        let mut c = Chrony {
            port: free_port(),
            dir: dir.join("chrony"),
            child: None,
        };
        std::fs::create_dir_all(&c.dir).unwrap();
        c.restart();
        c
    }

    /// (Re)starts chronyd on the same port.
    pub fn restart(&mut self) {
        self.child = None;
        let conf = self.dir.join("chrony.conf");
        let pid = self.dir.join("chronyd.pid");
        let _ = std::fs::remove_file(&pid);
        // Pair the IPv4 and IPv6 bind addresses: with only one, chronyd also binds the other
        // family's wildcard.
        std::fs::write(
            &conf,
            format!(
                "port {}\nbindaddress 127.0.0.1\nbindaddress ::1\nallow 127.0.0.0/8\nallow ::1\n\
                 local stratum 3\ncmdport 0\nbindcmdaddress /\npidfile {}\n",
                self.port,
                pid.display()
            ),
        )
        .unwrap();
        let chronyd = which("chronyd");
        self.child = Some(ChildGuard::spawn(
            Command::new(chronyd)
                .args(["-d", "-x", "-f"])
                .arg(&conf)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null()),
        ));
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let up = wait_for(10, || query(addr, 4, &[]).filter(|r| r.stratum == 3));
        assert!(up.is_some(), "chronyd did not answer on {addr}");
    }

    pub fn stop(&mut self) {
        self.child = None;
    }
}

/// A program from the Debian packages the test script installs; its absence fails the test.
pub fn which(program: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!("{program} is not installed (scripts/test.sh installs it)");
}

/// What our own client saw in a reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub len: usize,
    pub li: u8,
    pub vn: u8,
    pub mode: u8,
    pub stratum: u8,
    pub refid: [u8; 4],
    pub origin_echoed: bool,
    /// Seconds, server clock minus ours.
    pub offset: f64,
    /// Seconds, the round trip less the server's time between receive and transmit.
    pub delay: f64,
    pub bytes: Vec<u8>,
}

fn now_ntp() -> (f64, [u8; 8]) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (
        d.as_secs_f64(),
        nocbox::proto::ntp::timestamp_bytes(d.as_secs(), d.subsec_nanos()),
    )
}

fn ts_at(b: &[u8]) -> f64 {
    let secs = u32::from_be_bytes(b[..4].try_into().unwrap()) as f64 - NTP_EPOCH as f64;
    secs + u32::from_be_bytes(b[4..8].try_into().unwrap()) as f64 / 4_294_967_296.0
}

/// One client exchange (mode 3, version `vn`, `trailer` appended); None when nothing came back
/// within a second.
pub fn query(server: SocketAddr, vn: u8, trailer: &[u8]) -> Option<Reply> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut req = vec![0u8; 48];
    req[0] = (vn << 3) | 3;
    let (t1, xmt) = now_ntp();
    req[40..48].copy_from_slice(&xmt);
    req.extend_from_slice(trailer);
    sock.send_to(&req, server).unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    let t4 = now_ntp().0;
    let b = &buf[..n];
    if n < 48 {
        return Some(Reply {
            len: n,
            li: 0,
            vn: 0,
            mode: 0,
            stratum: 0,
            refid: [0; 4],
            origin_echoed: false,
            offset: 0.0,
            delay: 0.0,
            bytes: b.to_vec(),
        });
    }
    let (t2, t3) = (ts_at(&b[32..40]), ts_at(&b[40..48]));
    Some(Reply {
        len: n,
        li: b[0] >> 6,
        vn: (b[0] >> 3) & 7,
        mode: b[0] & 7,
        stratum: b[1],
        refid: b[12..16].try_into().unwrap(),
        origin_echoed: b[24..32] == xmt,
        offset: ((t2 - t1) + (t3 - t4)) / 2.0,
        delay: (t4 - t1) - (t3 - t2),
        bytes: b.to_vec(),
    })
}

/// What `chronyd -Q` measured of a server in its one sample.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Seconds, as chronyd printed "System clock wrong by".
    pub offset: f64,
    /// The round trip of that sample, seconds (its measurements log's "Peer del.").
    pub delay: f64,
}

impl Measured {
    /// Server and client share one clock here, so the true offset is zero and all chronyd can
    /// see is the asymmetry of the path: out and back take `d1` and `d2`, the measured offset
    /// is (d1 - d2) / 2 and the delay d1 + d2, so |offset| <= delay / 2. A server or relay that
    /// stamps or passes wrong times breaks that bound; a loaded machine that delays one
    /// direction does not (a fixed 10 ms limit failed in CI with a relay 26 ms off). 0.5 ms
    /// covers timestamp precision.
    pub fn explained_by_its_delay(&self) -> bool {
        self.offset.abs() <= self.delay / 2.0 + 0.000_5
    }
}

/// `chronyd -Q` as a client, optionally authenticating with key `id` from a chrony key file:
/// Ok(what it measured) or Err(its output).
pub fn chronyd_query(server: SocketAddr, key: Option<(&Path, u32)>) -> Result<Measured, String> {
    let logdir = scratch("chronyd-q");
    let mut cmd = Command::new(which("chronyd"));
    // `-u root`: as root chronyd would drop to its own user, which may not reach a scratch dir
    // under a private home (it does nothing when we are not root).
    cmd.args(["-u", "root", "-Q", "-t", "5"])
        .arg(format!("logdir {}", logdir.display()))
        .arg("log measurements");
    let mut server_line = format!(
        "server {} port {} iburst maxsamples 1",
        server.ip(),
        server.port()
    );
    if let Some((file, id)) = key {
        cmd.arg(format!("keyfile {}", file.display()));
        server_line.push_str(&format!(" key {id}"));
    }
    let out = cmd.arg(server_line).output().expect("run chronyd -Q");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let offset = text
        .split("System clock wrong by ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok());
    // The last line of the log is the sample chronyd used; "Peer del." is its 13th column.
    let log = std::fs::read_to_string(logdir.join("measurements.log")).unwrap_or_default();
    let delay = log
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(12))
        .and_then(|v| v.parse::<f64>().ok());
    match (out.status.success(), offset, delay) {
        (true, Some(offset), Some(delay)) => Ok(Measured { offset, delay }),
        _ => Err(format!("{text}\nmeasurements.log:\n{log}")),
    }
}

fn ntp_yaml(upstream_port: u16, extra: &str) -> String {
    format!(
        "api: {{ listen: 127.0.0.1:0 }}\n\
         ntp:\n  listen: 127.0.0.1:0\n  upstreams: [127.0.0.1:{upstream_port}]\n  \
         poll_interval: 1s\n  upstream_timeout: 500ms\n  unsynchronised_after: 3s\n{extra}\
         outputs: {{ stdout: {{ enabled: true }} }}\n"
    )
}

fn wait_ntp_health(nb: &Nocbox, code: u16, secs: u64) {
    let got = wait_for(secs, || (nb.get("/healthz/ntp").0 == code).then_some(()));
    assert!(
        got.is_some(),
        "/healthz/ntp never returned {code}: {:?}\n{}",
        nb.get("/healthz/ntp"),
        nb.log()
    );
}

#[test]
fn ntp_server_tracks_chrony_serves_chrony_and_goes_unsynchronised_without_it() {
    let dir = scratch("ntp-server");
    let mut up = Chrony::start(&dir);
    let nb = Nocbox::start("ntp-server", &ntp_yaml(up.port, ""));
    let addr = nb.addr("ntp");
    wait_ntp_health(&nb, 200, 10);

    // chronyd as a client accepts us and measures (almost) no offset: same clock.
    let m = chronyd_query(addr, None).expect("chronyd -Q against nocbox");
    assert!(m.explained_by_its_delay(), "chronyd measured {m:?}");

    // Our own client, v4 and v3: upstream stratum 3 + 1, upstream address as reference id,
    // origin echoed, leap indicator 0, version of the request.
    for vn in [4, 3] {
        let r = query(addr, vn, &[]).expect("a reply");
        assert_eq!(
            (r.len, r.li, r.vn, r.mode, r.stratum),
            (48, 0, vn, 4, 4),
            "{r:?}"
        );
        assert_eq!(r.refid, [127, 0, 0, 1]);
        assert!(r.origin_echoed);
        // As in Measured::explained_by_its_delay: same clock, so only path asymmetry shows.
        assert!(r.offset.abs() <= r.delay / 2.0 + 0.000_5, "{r:?}");
        // The reference time is the last upstream sample: within the last few seconds.
        let reft = ts_at(&r.bytes[16..24]);
        let now = now_ntp().0;
        assert!(
            (0.0..5.0).contains(&(now - reft)),
            "reference time {reft} vs now {now}"
        );
    }

    // `nocbox status` shows what is advertised and where it comes from.
    let status =
        run(Command::new(BIN).args(["status", "--url", &format!("http://{}", nb.addr("api"))]));
    for needle in [
        "synchronised=yes",
        "stratum=4",
        "upstream=127.0.0.1",
        "offset=",
    ] {
        assert!(status.contains(needle), "no {needle} in:\n{status}");
    }

    // The upstream stops: after unsynchronised_after (3 s) replies say so, /healthz/ntp fails,
    // the overall /healthz does not (nocbox itself is fine), and chronyd no longer accepts us.
    up.stop();
    wait_ntp_health(&nb, 503, 10);
    assert_eq!(
        nb.get("/healthz").0,
        200,
        "NTP sync must not fail the overall health"
    );
    let r = query(addr, 4, &[]).expect("still answering");
    assert_eq!((r.li, r.stratum, r.refid), (3, 16, [0; 4]), "{r:?}");
    assert!(
        chronyd_query(addr, None).is_err(),
        "chronyd must not sync to an unsynchronised server"
    );
    let st = nb.status();
    assert_eq!(st["components"]["ntp"]["in_service"], false, "{st}");
    assert!(
        st["components"]["ntp"]["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("upstream"),
        "{st}"
    );

    // It comes back: so does nocbox, within a few seconds.
    up.restart();
    wait_ntp_health(&nb, 200, 15);
    let r = query(addr, 4, &[]).unwrap();
    assert_eq!((r.li, r.stratum), (0, 4));
    assert!(nb.counter("nocbox.ntp.requests", &[("result", "answered")]) >= 4);
}

#[test]
fn ntp_relay_passes_the_same_client_test() {
    let dir = scratch("ntp-relay");
    let up = Chrony::start(&dir);
    let nb = Nocbox::start("ntp-relay", &ntp_yaml(up.port, "  mode: relay\n"));
    let addr = nb.addr("ntp");
    wait_ntp_health(&nb, 200, 10);
    let m = chronyd_query(addr, None).expect("chronyd -Q through the relay");
    assert!(m.explained_by_its_delay(), "chronyd measured {m:?}");
    for vn in [4, 3] {
        let r = query(addr, vn, &[]).expect("a relayed reply");
        // Relayed: the upstream's own stratum and reference id (chrony's LOCAL refid).
        assert_eq!((r.len, r.li, r.mode, r.stratum), (48, 0, 4, 3), "{r:?}");
        assert_eq!(&r.refid, &[0x7f, 0x7f, 0x01, 0x01]);
        assert!(r.origin_echoed);
    }
    // A monlist request is not relayed.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    sock.send_to(&[0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0], addr)
        .unwrap();
    assert!(sock.recv_from(&mut [0u8; 512]).is_err());
    nb.wait_counter("nocbox.ntp.dropped", &[("reason", "control_mode")], 1, 5);
    assert!(nb.counter("nocbox.ntp.requests", &[("result", "relayed")]) >= 3);
}

#[test]
fn ntp_answers_nothing_bigger_than_asked_and_counts_what_it_drops() {
    let dir = scratch("ntp-abuse");
    let up = Chrony::start(&dir);
    let extra = "  allowed_sources: [127.0.0.0/30]\n  rate_limit: { burst: 20, per_second: 2 }\n";
    let nb = Nocbox::start("ntp-abuse", &ntp_yaml(up.port, extra));
    let addr = nb.addr("ntp");
    wait_ntp_health(&nb, 200, 10);

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut v4 = vec![0u8; 48];
    v4[0] = (4 << 3) | 3;
    let mut v2 = v4.clone();
    v2[0] = (2 << 3) | 3;
    let mut server_mode = v4.clone();
    server_mode[0] = (4 << 3) | 4;
    let mode6 = vec![0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
    let monlist = vec![0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (mode6, "control_mode"),
        (monlist, "control_mode"),
        (v4[..47].to_vec(), "too_short"),
        (vec![0x23], "too_short"),
        (v2, "unsupported_version"),
        (server_mode, "not_a_request"),
    ];
    for (pkt, reason) in &cases {
        sock.send_to(pkt, addr).unwrap();
        assert!(
            sock.recv_from(&mut [0u8; 512]).is_err(),
            "an answer to a {reason} packet"
        );
        nb.wait_counter("nocbox.ntp.dropped", &[("reason", reason)], 1, 5);
    }

    // A source outside allowed_sources gets nothing.
    let outsider = UdpSocket::bind("127.0.0.9:0").unwrap();
    outsider
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    outsider.send_to(&v4, addr).unwrap();
    assert!(outsider.recv_from(&mut [0u8; 512]).is_err());
    nb.wait_counter("nocbox.ntp.dropped", &[("reason", "not_allowed")], 1, 5);

    // A flood from one source (127.0.0.2): 2,000 requests, the bucket lets 20 (+2/s) through; every reply
    // is 48 bytes for a 48-byte request, and the rest are counted as rate limited.
    let flood = UdpSocket::bind("127.0.0.2:0").unwrap();
    flood.set_nonblocking(true).unwrap();
    let mut replies = 0usize;
    let mut buf = [0u8; 512];
    for i in 0..2000u32 {
        let mut p = v4.clone();
        p[40..44].copy_from_slice(&i.to_be_bytes());
        flood.send_to(&p, addr).unwrap();
        while let Ok((n, _)) = flood.recv_from(&mut buf) {
            assert!(n <= 48, "a {n}-byte reply to a 48-byte request");
            replies += 1;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    while let Ok((n, _)) = flood.recv_from(&mut buf) {
        assert!(n <= 48);
        replies += 1;
    }
    assert!((20..=40).contains(&replies), "{replies} replies to a flood");
    let limited = nb.counter("nocbox.ntp.dropped", &[("reason", "rate_limited")]);
    assert!(
        limited + replies as u64 >= 1900,
        "{limited} limited + {replies} answered"
    );
    let (rx, tx) = (
        nb.counter("nocbox.ntp.bytes_received", &[]),
        nb.counter("nocbox.ntp.bytes_sent", &[]),
    );
    assert!(tx < rx / 10, "sent {tx} bytes for {rx} received");

    // Other clients are unaffected by the flooder.
    assert!(query(addr, 4, &[]).is_some());
}

#[test]
fn chrony_clients_with_md5_sha1_and_aes_cmac_keys_authenticate_and_a_wrong_key_does_not() {
    let dir = scratch("ntp-auth");
    let up = Chrony::start(&dir);
    // The same keys as Cisco IOS (`ntp authentication-key 1 md5 ...`) or Junos would carry.
    let server_keys = dir.join("server.keys");
    std::fs::write(
        &server_keys,
        "# nocbox's keys\n\
         1 MD5 cisco-md5-secret\n\
         2 SHA1 HEX:2b7e151628aed2a6abf7158809cf4f3c2b7e1516\n\
         3 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c\n",
    )
    .unwrap();
    let extra = format!("  key_file: {}\n", server_keys.display());
    let nb = Nocbox::start("ntp-auth", &ntp_yaml(up.port, &extra));
    let addr = nb.addr("ntp");
    wait_ntp_health(&nb, 200, 10);

    let client_keys = dir.join("client.keys");
    std::fs::write(
        &client_keys,
        "1 MD5 cisco-md5-secret\n\
         2 SHA1 HEX:2b7e151628aed2a6abf7158809cf4f3c2b7e1516\n\
         3 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c\n",
    )
    .unwrap();
    for id in [1, 2, 3] {
        let m = chronyd_query(addr, Some((&client_keys, id)))
            .unwrap_or_else(|out| panic!("chronyd with key {id} did not authenticate:\n{out}"));
        assert!(m.explained_by_its_delay(), "key {id}: {m:?}");
    }
    // The server's key IDs with the wrong secrets, and an ID the server does not know.
    let wrong_keys = dir.join("wrong.keys");
    std::fs::write(
        &wrong_keys,
        "1 MD5 not-the-secret\n3 AES128 HEX:000102030405060708090a0b0c0d0e0f\n9 SHA1 HEX:00\n",
    )
    .unwrap();
    for id in [1, 3, 9] {
        assert!(
            chronyd_query(addr, Some((&wrong_keys, id))).is_err(),
            "chronyd authenticated with a wrong key {id}"
        );
    }
    nb.wait_counter("nocbox.ntp.authenticated_replies", &[], 3, 5);
    nb.wait_counter("nocbox.ntp.dropped", &[("reason", "bad_mac")], 2, 5);
    nb.wait_counter("nocbox.ntp.dropped", &[("reason", "unknown_key")], 1, 5);
    // Plain requests still get plain answers (require_authentication is off).
    assert_eq!(query(addr, 4, &[]).expect("a plain reply").len, 48);
}

#[test]
fn require_authentication_drops_requests_without_a_mac() {
    let dir = scratch("ntp-auth-required");
    let up = Chrony::start(&dir);
    let keys = dir.join("server.keys");
    std::fs::write(
        &keys,
        "7 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n",
    )
    .unwrap();
    let extra = format!(
        "  key_file: {}\n  require_authentication: true\n",
        keys.display()
    );
    let nb = Nocbox::start("ntp-auth-required", &ntp_yaml(up.port, &extra));
    let addr = nb.addr("ntp");
    wait_ntp_health(&nb, 200, 10);
    assert!(query(addr, 4, &[]).is_none());
    nb.wait_counter("nocbox.ntp.dropped", &[("reason", "unauthenticated")], 1, 5);
    chronyd_query(addr, Some((&keys, 7))).expect("the keyed client is answered");
}

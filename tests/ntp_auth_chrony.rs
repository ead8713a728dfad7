//! Interop of `proto::ntp::auth` with a real chronyd (Debian's chrony 4.3) on loopback: chronyd
//! accepts requests we sign, and we accept the replies chronyd signs, for every key type, both
//! MAC lengths (NTPv4 truncation, NTPv3 whole digests) and both key encodings. Both sides read
//! the same key file, so this also checks that we decode it as chronyd does.
//!
//! scripts/test.sh installs chrony; a missing chronyd fails the tests rather than skipping them.
//! chronyd runs with `-x` (never touches the clock) and reads the root-only key file before it
//! drops privileges to `_chrony`.

use std::fs;
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nocbox::proto::ntp::auth::{KeySet, MalformedMac, Verdict};
use sha2::{Digest, Sha256};

/// Every type and encoding chrony 4.3 and nocbox share; key 6 has a `#` inside (not a comment).
const KEYS: &str = "\
# nocbox interop keys
1 ASCII:cisco-md5
2 SHA1 HEX:0102030405060708090a0b0c0d0e0f1011121314
3 SHA256 HEX:202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
4 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c
5 AES256 HEX:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
6 MD5 junos#key
7 SHA512 HEX:00112233445566778899aabbccddeeff
8 SHA384 sha384-text-key
";

/// How long to wait for an answer that must come: generous, as other builds share the CPUs.
const ANSWER: Duration = Duration::from_secs(2);
/// How long a dropped request must stay unanswered; chronyd answers on loopback within
/// microseconds.
const SILENCE: Duration = Duration::from_millis(500);

/// A chronyd serving NTP on 127.0.0.1 and ::1; killed and cleaned up on drop, even when a test
/// fails.
struct Chronyd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn chronyd_path() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("chronyd"))
        .find(|p| p.is_file())
        .expect("chronyd not found: install the Debian package `chrony` (scripts/test.sh does)")
}

fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a probe socket");
    socket.local_addr().expect("probe address").port()
}

impl Chronyd {
    fn start(name: &str) -> Chronyd {
        let dir = std::env::temp_dir().join(format!("nocbox-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create chronyd dir");
        write_private(&dir.join("keys"), KEYS);
        let port = free_udp_port();
        let conf = format!(
            "port {port}\nbindaddress 127.0.0.1\nbindaddress ::1\nallow 127.0.0.0/8\nallow ::1\n\
             local stratum 3\ncmdport 0\nbindcmdaddress /\nkeyfile {keys}\npidfile {pid}\n",
            keys = dir.join("keys").display(),
            pid = dir.join("chronyd.pid").display(),
        );
        fs::write(dir.join("chrony.conf"), conf).expect("write chrony.conf");
        let log = fs::File::create(dir.join("chronyd.log")).expect("create log");
        let child = Command::new(chronyd_path())
            .args(["-d", "-x", "-f"])
            .arg(dir.join("chrony.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start chronyd");
        let mut chronyd = Chronyd { child, dir, port };
        chronyd.wait_ready();
        chronyd
    }

    /// chronyd binds within a second or so; poll with plain requests rather than sleeping.
    fn wait_ready(&mut self) {
        for _ in 0..50 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chronyd exited with {status}:\n{}", self.log());
            }
            if let Some(reply) = self.query(&request(4), Duration::from_millis(200)) {
                let keys = KeySet::parse(KEYS).expect("keys");
                assert_eq!(keys.verify(&reply), Verdict::NoMac, "plain reply");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "chronyd did not answer on port {}:\n{}",
            self.port,
            self.log()
        );
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("chronyd.log")).unwrap_or_default()
    }

    /// Sends one request; `None` when chronyd stays silent for `wait` (it dropped the request)
    /// or is not listening (yet), which the callers tell apart by asking again with a good
    /// request.
    fn query(&self, request: &[u8], wait: Duration) -> Option<Vec<u8>> {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client");
        socket.connect(("127.0.0.1", self.port)).expect("connect");
        socket.set_read_timeout(Some(wait)).expect("timeout");
        socket.send(request).expect("send");
        let mut buf = [0u8; 1024];
        match socket.recv(&mut buf) {
            Ok(n) => Some(buf[..n].to_vec()),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::ConnectionRefused
                ) =>
            {
                None
            }
            Err(e) => panic!("receive from chronyd: {e}"),
        }
    }
}

fn write_private(path: &Path, text: &str) {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("create key file");
    std::io::Write::write_all(&mut file, text.as_bytes()).expect("write key file");
}

/// A client request (mode 3) of NTP `version` with a random transmit timestamp, which chronyd
/// echoes as the reply's origin timestamp.
fn request(version: u8) -> Vec<u8> {
    let mut p = vec![0u8; 48];
    p[0] = (version << 3) | 3;
    p[2] = 6;
    p[3] = 0xec;
    p[40..].copy_from_slice(&fastrand::u64(..).to_be_bytes());
    p
}

#[test]
fn chronyd_accepts_our_macs_and_we_accept_its_replies() {
    let chronyd = Chronyd::start("ntp-auth-ok");
    let keys = KeySet::parse(KEYS).expect("the interop key file parses");
    // (key ID, NTP version, trailer length): SHA digests are cut to 20 bytes in NTPv4 only.
    let cases = [
        (1, 4, 20),
        (1, 3, 20),
        (2, 4, 24),
        (3, 4, 24),
        (3, 3, 36),
        (4, 4, 20),
        (4, 3, 20),
        (5, 4, 20),
        (6, 4, 20),
        (7, 4, 24),
        (7, 3, 68),
        (8, 3, 52),
    ];
    for (key_id, version, trailer) in cases {
        let case = format!("key {key_id}, NTPv{version}");
        let mut req = request(version);
        keys.sign(key_id, &mut req).expect("sign");
        let reply = chronyd.query(&req, ANSWER).unwrap_or_else(|| {
            panic!(
                "{case}: chronyd did not answer our signed request:\n{}",
                chronyd.log()
            )
        });
        assert_eq!(req.len(), 48 + trailer, "{case}: our trailer length");
        assert_eq!(reply.len(), req.len(), "{case}: same MAC length back");
        assert_eq!(reply[0], (version << 3) | 4, "{case}: mode 4, same version");
        assert_eq!(reply[24..32], req[40..48], "{case}: origin timestamp");
        assert_eq!(reply[48..52], key_id.to_be_bytes(), "{case}: key ID");
        assert_eq!(keys.verify(&reply), Verdict::Valid { key_id }, "{case}");
        assert_eq!(keys.mac_len(key_id, version), Some(trailer), "{case}");
    }
}

/// chronyd 4.3 answers a request whose MAC fails with nothing at all: no crypto-NAK, no
/// unauthenticated reply. Each probe is followed by a good request, so silence is not a dead
/// server.
#[test]
fn chronyd_stays_silent_when_the_mac_is_wrong() {
    let chronyd = Chronyd::start("ntp-auth-bad");
    let keys = KeySet::parse(KEYS).expect("keys");
    let wrong = KeySet::parse(
        "1 ASCII:not-cisco-md5\n\
         4 AES128 HEX:000102030405060708090a0b0c0d0e0f\n\
         99 SHA1 unknown-to-chronyd\n",
    )
    .expect("wrong keys");

    let signed = |set: &KeySet, key_id, version| {
        let mut req = request(version);
        set.sign(key_id, &mut req).expect("sign");
        req
    };
    let mut probes = vec![
        (
            "MD5, wrong secret",
            signed(&wrong, 1, 4),
            Verdict::BadMac(1),
        ),
        (
            "AES128, wrong secret",
            signed(&wrong, 4, 4),
            Verdict::BadMac(4),
        ),
        (
            "unknown key ID",
            signed(&wrong, 99, 4),
            Verdict::UnknownKey(99),
        ),
    ];
    // A correct but whole SHA256 digest in NTPv4: older chrony clients sent these; chronyd 4.3
    // drops them (RFC 7822 caps NTPv4 MACs at 24 bytes), and so do we. The same bytes in NTPv3
    // are answered (checked below), so the silence is about the length.
    let whole_sha256 = |version| {
        let mut req = request(version);
        let key3: Vec<u8> = (0x20..0x40).collect();
        let digest = Sha256::new()
            .chain_update(key3)
            .chain_update(&req)
            .finalize();
        req.extend_from_slice(&3u32.to_be_bytes());
        req.extend_from_slice(&digest);
        req
    };
    let long = whole_sha256(4);
    let long_len = MalformedMac::TrailerLength {
        version: 4,
        len: 36,
    };
    probes.push(("NTPv4, 36-byte MAC", long, Verdict::Malformed(long_len)));
    let mut nak = request(4);
    nak.extend_from_slice(&[0; 4]);
    probes.push(("crypto-NAK", nak, Verdict::CryptoNak));

    for (case, req, verdict) in probes {
        assert_eq!(keys.verify(&req), verdict, "{case}: our verdict");
        let reply = chronyd.query(&req, SILENCE);
        assert_eq!(reply, None, "{case}: chronyd answered:\n{}", chronyd.log());
        let good = signed(&keys, 1, 4);
        let reply = chronyd
            .query(&good, ANSWER)
            .expect("chronyd still answers good requests");
        assert_eq!(keys.verify(&reply), Verdict::Valid { key_id: 1 }, "{case}");
    }
    let v3 = chronyd
        .query(&whole_sha256(3), ANSWER)
        .expect("NTPv3 whole SHA256 answered");
    assert_eq!(keys.verify(&v3), Verdict::Valid { key_id: 3 });
}

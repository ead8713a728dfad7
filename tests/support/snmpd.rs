//! The net-snmp agent the SNMP tests run (`tests/snmp_core.rs`, `tests/snmp_client.rs`,
//! `tests/e2e/snmp_poll.rs` include this file): its v3 users, one per auth/priv combination
//! net-snmp 5.9.3 offers, its config rendered from `tests/peers/snmpd.conf.in`, and the running
//! process ([`Agent`]); each test probes readiness its own way.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const AUTH_PASS: &str = "authpass123";
pub const PRIV_PASS: &str = "privpass123";
pub const NET_SNMP_AUTH: [&str; 6] = ["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"];
pub const NET_SNMP_PRIV: [Option<&str>; 5] = [
    None,
    Some("DES"),
    Some("AES"),
    Some("AES-192"),
    Some("AES-256"),
];

/// `u_sha256_aes192` and the like: the user for one combination.
pub fn user_name(auth: &str, privacy: Option<&str>) -> String {
    let n = |s: &str| s.replace('-', "").to_lowercase();
    format!(
        "u_{}_{}",
        n(auth),
        privacy.map(n).unwrap_or_else(|| "nopriv".into())
    )
}

/// Every (auth, privacy) combination, in the users' order.
pub fn combinations() -> Vec<(&'static str, Option<&'static str>)> {
    NET_SNMP_AUTH
        .iter()
        .flat_map(|a| NET_SNMP_PRIV.iter().map(move |p| (*a, *p)))
        .collect()
}

/// The agent's config: UDP `port` on 127.0.0.`a` for each of `addrs`, state under `dir`,
/// sysName `sys_name`, community `public` from anywhere on loopback, and the users.
pub fn config(port: u16, dir: &Path, addrs: &[u8], sys_name: &str) -> String {
    let mut users = String::new();
    for (a, p) in combinations() {
        let name = user_name(a, p);
        let (privacy, level) = match p {
            Some(p) => (format!(" {p} {PRIV_PASS}"), "priv"),
            None => (String::new(), "auth"),
        };
        users += &format!("createUser {name} {a} {AUTH_PASS}{privacy}\nrouser {name} {level}\n");
    }
    users += "createUser noAuthUser\nrouser noAuthUser noauth\n";
    let listen: Vec<String> = addrs
        .iter()
        .map(|i| format!("udp:127.0.0.{i}:{port}"))
        .collect();
    include_str!("../peers/snmpd.conf.in")
        .replace(
            "agentAddress udp:127.0.0.1:@PORT@",
            &format!("agentAddress {}", listen.join(",")),
        )
        .replace("rocommunity  public  127.0.0.1", "rocommunity  public")
        .replace(
            "sysName        snmpd-test",
            &format!("sysName        {sys_name}"),
        )
        .replace("@DIR@", &dir.display().to_string())
        .replace("@USERS@", &users)
}

/// Finds a net-snmp program, or fails naming the Debian package that has it.
pub fn program(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path.into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} not found: install the Debian package `{package}` (scripts/test.sh does)"
            )
        })
}

/// A scratch directory under the system's temporary directory (with a `persist` directory for
/// net-snmp's state), removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("nocbox-snmp-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("persist")).expect("create scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running snmpd, killed on drop; its config, state and log live in `dir`.
pub struct Agent {
    pub child: Child,
    pub dir: PathBuf,
    pub port: u16,
}

impl Agent {
    /// Starts snmpd on UDP `port` of 127.0.0.`a` for each of `addrs`, as sysName `sys_name`,
    /// and waits until `ready` says it answers (at most 10 s; a snmpd that exits fails at once).
    pub fn start(
        dir: &Path,
        port: u16,
        addrs: &[u8],
        sys_name: &str,
        mut ready: impl FnMut(&Agent) -> bool,
    ) -> Agent {
        fs::create_dir_all(dir.join("persist")).expect("create snmpd dir");
        fs::write(dir.join("snmpd.conf"), config(port, dir, addrs, sys_name))
            .expect("write snmpd.conf");
        let log = fs::File::create(dir.join("snmpd.log")).expect("snmpd log");
        let child = Command::new(program("snmpd", "snmpd"))
            .args(["-f", "-Lo", "-C", "-m", "", "-I", "-smux", "-c"])
            .arg(dir.join("snmpd.conf"))
            .env("SNMPCONFPATH", dir)
            .env("SNMP_PERSISTENT_DIR", dir.join("persist"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("snmpd log"))
            .stderr(log)
            .spawn()
            .expect("start snmpd");
        let mut agent = Agent {
            child,
            dir: dir.to_path_buf(),
            port,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(status)) = agent.child.try_wait() {
                panic!("snmpd exited with {status}:\n{}", agent.log());
            }
            if ready(&agent) {
                return agent;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("snmpd did not answer on {port}:\n{}", agent.log());
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("snmpd.log")).unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

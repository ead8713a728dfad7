//! Runs the real `nocbox` binary with a config, learns its bound ports from its log, collects
//! its stdout records, and talks to its API. Also runs the test peers from tests/peers/.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_nocbox");

/// A fresh directory under target/e2e for one test.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/e2e")
        .join(format!(
            "{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Where scripts/test.sh unpacked loggen.
pub fn loggen_dir() -> PathBuf {
    std::env::var_os("LOGGEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/nocbox-peers/loggen"))
}

/// A loopback port that was free a moment ago (for peers that cannot bind port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Polls `f` until it returns Some or `secs` pass.
pub fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct Nocbox {
    child: Child,
    pub records: Arc<Mutex<Vec<Value>>>,
    /// While set, nobody reads nocbox's stdout: the pipe fills and the stdout output stalls.
    stdout_paused: Arc<AtomicBool>,
    log: Arc<Mutex<String>>,
    addrs: Arc<Mutex<HashMap<String, SocketAddr>>>,
}

impl Nocbox {
    /// Starts `nocbox run --config` with `yaml` (use port 0 everywhere), waits for the API.
    pub fn start(name: &str, yaml: &str) -> Nocbox {
        Self::start_with(name, yaml, &[])
    }

    pub fn start_with(name: &str, yaml: &str, env: &[(&str, &str)]) -> Nocbox {
        Self::start_wrapped(name, yaml, env, &[])
    }

    /// Starts `WRAPPER... nocbox run --config FILE`: the wrapper (e.g. `unshare --net ... bash -c
    /// SETUP` ending in `exec "$@"`) must exec nocbox, so the child is nocbox itself.
    pub fn start_wrapped(name: &str, yaml: &str, env: &[(&str, &str)], wrapper: &[&str]) -> Nocbox {
        let dir = scratch(name);
        let cfg = dir.join("nocbox.yaml");
        std::fs::write(&cfg, yaml).expect("write config");
        let mut cmd = match wrapper.split_first() {
            Some((prog, args)) => {
                let mut c = Command::new(prog);
                c.args(args).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        cmd.arg("run").arg("--config").arg(&cfg);
        cmd.env("NOCBOX_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn nocbox");
        let records = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::new(Mutex::new(String::new()));
        let addrs = Arc::new(Mutex::new(HashMap::new()));
        let out = child.stdout.take().expect("stdout");
        let r = records.clone();
        let stdout_paused = Arc::new(AtomicBool::new(false));
        let paused = stdout_paused.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => r.lock().unwrap().push(v),
                    Err(e) => panic!("stdout line is not JSON ({e}): {line}"),
                }
                while paused.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        });
        let err = child.stderr.take().expect("stderr");
        let (l, a) = (log.clone(), addrs.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    if let (Some(i), Some(ad)) = (field(&line, "input"), field(&line, "address")) {
                        if let Ok(sa) = ad.parse() {
                            a.lock().unwrap().insert(i, sa);
                        }
                    }
                }
                let mut l = l.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let mut nb = Nocbox {
            child,
            records,
            stdout_paused,
            log,
            addrs,
        };
        let up = wait_for(20, || nb.addrs.lock().unwrap().get("api").copied());
        if up.is_none() {
            let status = nb.child.try_wait();
            panic!("nocbox did not start ({status:?}); log:\n{}", nb.log());
        }
        nb
    }

    /// The process id (for `nsenter --target`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The address an input is listening on (`api`, `syslog_udp`, `syslog_tcp`, ...).
    pub fn addr(&self, input: &str) -> SocketAddr {
        wait_for(10, || self.addrs.lock().unwrap().get(input).copied())
            .unwrap_or_else(|| panic!("{input} is not listening; log:\n{}", self.log()))
    }

    /// Stops reading nocbox's stdout (after the line being read), as a stuck consumer would.
    pub fn pause_stdout(&self) {
        self.stdout_paused.store(true, Ordering::Relaxed);
    }

    pub fn resume_stdout(&self) {
        self.stdout_paused.store(false, Ordering::Relaxed);
    }

    pub fn records(&self) -> Vec<Value> {
        self.records.lock().unwrap().clone()
    }

    /// Waits until at least `n` log records have arrived on stdout; returns them all.
    pub fn wait_logs(&self, n: usize, secs: u64) -> Vec<Value> {
        let got = wait_for(secs, || {
            let logs: Vec<Value> = self
                .records()
                .into_iter()
                .filter(|r| r["kind"] == "log")
                .collect();
            (logs.len() >= n).then_some(logs)
        });
        got.unwrap_or_else(|| {
            let have = self.records().len();
            panic!(
                "expected {n} log records, have {have}; log:\n{}",
                self.log()
            )
        })
    }

    /// The record whose message contains `needle`.
    pub fn find(&self, needle: &str, secs: u64) -> Value {
        wait_for(secs, || {
            self.records()
                .into_iter()
                .find(|r| r["message"].as_str().is_some_and(|m| m.contains(needle)))
        })
        .unwrap_or_else(|| panic!("no record with {needle:?}; log:\n{}", self.log()))
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(self.addr("api"), path)
    }

    pub fn status(&self) -> Value {
        let (code, body) = self.get("/status");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("status JSON")
    }

    /// Sum of a counter over label sets that include `labels`.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let st = self.status();
        st["counters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == name)
            .filter(|c| labels.iter().all(|(k, v)| c["labels"][*k] == *v))
            .map(|c| c["value"].as_u64().unwrap_or(0))
            .sum()
    }

    /// A gauge's value (the first label set that includes `labels`).
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<i64> {
        let st = self.status();
        st["gauges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|g| g["name"] == name)
            .find(|g| labels.iter().all(|(k, v)| g["labels"][*k] == *v))
            .and_then(|g| g["value"].as_i64())
    }

    /// Waits until the gauge `name` (no labels) is at least `at_least`.
    pub fn wait_gauge(&self, name: &str, at_least: i64, secs: u64) -> i64 {
        wait_for(secs, || self.gauge(name, &[]).filter(|v| *v >= at_least)).unwrap_or_else(|| {
            panic!(
                "{name} stayed at {:?} (< {at_least}); log:\n{}",
                self.gauge(name, &[]),
                self.log()
            )
        })
    }

    pub fn wait_counter(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        at_least: u64,
        secs: u64,
    ) -> u64 {
        wait_for(secs, || {
            let v = self.counter(name, labels);
            (v >= at_least).then_some(v)
        })
        .unwrap_or_else(|| {
            panic!(
                "{name}{labels:?} stayed at {} (< {at_least}); log:\n{}",
                self.counter(name, labels),
                self.log()
            )
        })
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then the exit status (within `secs`).
    pub fn stop(self, secs: u64) -> std::process::ExitStatus {
        self.terminate();
        self.wait_exit(secs)
    }

    /// Sends SIGTERM without waiting.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    /// The exit status, once the process has ended (within `secs`).
    pub fn wait_exit(mut self, secs: u64) -> std::process::ExitStatus {
        let st = wait_for(secs, || self.child.try_wait().ok().flatten());
        match st {
            Some(s) => s,
            None => {
                let _ = self.child.kill();
                panic!(
                    "nocbox did not exit within {secs}s of SIGTERM; log:\n{}",
                    self.log()
                )
            }
        }
    }
}

impl Drop for Nocbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `key=value` or `key="value"` from a log line.
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let rest = &line[start..];
    let v = match rest.strip_prefix('"') {
        Some(q) => q.split('"').next()?,
        None => rest.split_whitespace().next()?,
    };
    Some(v.to_string())
}

/// A minimal HTTP/1.0 GET (no client crate needed).
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect API");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("write request");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    split_http_response(&resp)
}

/// (status code, body) of a raw HTTP/1.0 response; 0 when there is no status line.
pub fn split_http_response(resp: &str) -> (u16, String) {
    let code = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Runs a command to completion; panics with its output if it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A peer script from tests/peers with its own PEERS_DIR.
pub fn peer(script: &str, peers: &Path) -> Command {
    let mut c = Command::new("bash");
    c.arg(peers_dir().join(script));
    c.env("PEERS_DIR", peers);
    c.env("LOGGEN_DIR", loggen_dir());
    c
}

/// Test certificates (CA, server for localhost/127.0.0.1) in `dir/tls`.
pub fn certs(dir: &Path) -> PathBuf {
    let tls = dir.join("tls");
    run(peer("mkcerts.sh", dir).arg(&tls));
    tls
}

/// Stops a peer script's process when dropped.
pub struct PeerGuard {
    pub script: &'static str,
    pub args: Vec<String>,
    pub peers: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        let mut c = peer(self.script, &self.peers);
        c.arg("stop").args(&self.args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let _ = c.output();
    }
}

/// A child process killed when dropped.
pub struct ChildGuard(Child);

impl ChildGuard {
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        ChildGuard(
            cmd.stdin(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
        )
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

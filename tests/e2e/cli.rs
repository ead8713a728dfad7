//! The command line: `version`, `validate` (every error with file:line:column), `health`,
//! `status`, SIGTERM exit, and `run` on built-in defaults inside a private network namespace.

use std::process::Command;

use crate::harness::*;

#[test]
fn version_prints_the_version() {
    let out = run(Command::new(BIN).arg("version"));
    assert_eq!(out.trim(), format!("nocbox {}", env!("CARGO_PKG_VERSION")));
}

/// `nocbox validate --config FILE`.
fn validate(f: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .arg("validate")
        .arg("--config")
        .arg(f)
        .output()
        .unwrap()
}

#[test]
fn validate_reports_every_error_with_position_and_exits_1() {
    let dir = scratch("validate");
    let f = dir.join("bad.yaml");
    std::fs::write(
        &f,
        "syslog:\n  udp: { listen: 127.0.0.1:5514, recieve_buffer: 5 }\noutputs:\n  datadog:\n    api_key: \"${NOCBOX_TEST_UNSET_KEY}\"\n",
    )
    .unwrap();
    let out = validate(&f);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:5:15: environment variable NOCBOX_TEST_UNSET_KEY is not set",
            f.display()
        )),
        "{err}"
    );
    std::fs::write(&f, "syslog:\n  udp: { listen: 127.0.0.1:5514, recieve_buffer: 5 }\n  tcp: { listen: nowhere }\n").unwrap();
    let out = validate(&f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains(":2:") && err.contains("syslog.udp.recieve_buffer: unknown field"),
        "{err}"
    );
    assert!(
        err.contains(":3:") && err.contains("syslog.tcp.listen"),
        "{err}"
    );
    assert!(err.contains("2 error(s)"), "{err}");
    // Problems only the outputs' setup can see: a CA file that is not PEM, the API key over
    // plain http to a non-loopback host.
    let ca = dir.join("not-a-ca.pem");
    std::fs::write(&ca, "hello\n").unwrap();
    std::fs::write(
        &f,
        format!(
            "outputs:\n  datadog:\n    api_key: k\n    logs: {{ endpoint: \"http://intake.example.com\" }}\n  syslog_forward:\n    - {{ address: \"127.0.0.1:6514\", ca_file: {} }}\n",
            ca.display()
        ),
    )
    .unwrap();
    let out = validate(&f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("outputs.datadog.logs.endpoint: http:// sends the API key unencrypted"),
        "{err}"
    );
    assert!(err.contains("outputs.syslog_forward[0]"), "{err}");
    // `run` refuses to start on the same file.
    let out = Command::new(BIN)
        .arg("run")
        .arg("--config")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The shipped example config is valid.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/nocbox.yaml");
    let out = Command::new(BIN)
        .arg("validate")
        .arg("--config")
        .arg(example)
        .env("DD_API_KEY", "x")
        .env("SNMP_COMMUNITY", "public")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn health_and_status_commands_read_the_running_service() {
    let nb = Nocbox::start(
        "health",
        "syslog:\n  udp: { listen: 127.0.0.1:0 }\napi: { listen: 127.0.0.1:0 }\nshutdown: { drain_period: 0s }\n",
    );
    let url = format!("http://{}", nb.addr("api"));
    run(Command::new(BIN).args(["health", "--url", &url]));
    let status = run(Command::new(BIN).args(["status", "--url", &url]));
    assert!(
        status.contains("syslog") && status.contains("stdout"),
        "{status}"
    );
    let (code, metrics) = nb.get("/metrics");
    assert_eq!(code, 200);
    assert!(
        metrics.contains("nocbox_component_healthy{component=\"syslog\"} 1"),
        "{metrics}"
    );
    let (code, page) = nb.get("/");
    assert_eq!(code, 200);
    assert!(page.contains("<table"));
    assert_eq!(nb.get("/healthz/nosuch").0, 404);
    let st = nb.stop(10);
    assert!(st.success(), "{st:?}");
    // Nothing listens any more: health fails.
    let out = Command::new(BIN)
        .args(["health", "--url", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn run_without_config_serves_syslog_and_api_on_default_ports_in_a_private_namespace() {
    // A throwaway network namespace with only loopback: the default ports cannot clash with
    // anything on the machine, and there is no route anywhere, so the defaults provably need
    // nothing beyond loopback.
    let script = format!(
        "ip link set lo up; {bin} run > out.jsonl 2> err.log & pid=$!; trap 'kill -9 $pid 2>/dev/null' EXIT; \
         for i in $(seq 50); do {bin} health >/dev/null 2>&1 && break; sleep 0.1; done; \
         {bin} health || exit 3; \
         logger --udp -n 127.0.0.1 -P 5514 -t dflt 'default udp'; \
         logger --tcp -n 127.0.0.1 -P 5514 -t dflt 'default tcp'; \
         for i in $(seq 50); do [ $(grep -c default out.jsonl) -ge 2 ] && break; sleep 0.1; done; \
         kill -TERM $pid; sleep 0.3; kill -TERM $pid; wait $pid",
        bin = BIN
    );
    let dir = scratch("defaults");
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", &script])
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = std::fs::read_to_string(dir.join("err.log")).unwrap_or_default();
    assert!(out.status.success(), "{out:?}\n{err}");
    let lines = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        recs.iter().any(|r| r["message"] == "default udp"),
        "{lines}"
    );
    assert!(
        recs.iter().any(|r| r["message"] == "default tcp"),
        "{lines}"
    );
    assert!(
        err.contains("0.0.0.0:5514") && err.contains("0.0.0.0:8080"),
        "{err}"
    );
}

#[test]
fn validate_and_profiles_check_report_broken_profiles_with_position() {
    let dir = scratch("validate-profiles");
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    // A user profile for one switch model, with a regex that does not compile on line 8.
    std::fs::write(
        profiles.join("my-switch.yaml"),
        "extends:\n  - _base.yaml\n  - _generic-if.yaml\nsysobjectid: 1.3.6.1.4.1.9.1.9999\nmetrics:\n  - MIB: X\n    symbol: {OID: 1.3.6.1.4.1.9.9.1.0, name: x}\n    metric_tags: [{ symbol: {OID: 1.3.6.1.2.1.1.5.0, name: sysName}, match: '([', tags: {a: '\\1'} }]\n",
    )
    .unwrap();
    let f = dir.join("c.yaml");
    std::fs::write(
        &f,
        format!(
            "snmp:\n  profiles: [{}]\n  devices:\n    - {{ ip_address: 10.0.0.1, community_string: public, profile: nonexistent }}\n",
            profiles.display()
        ),
    )
    .unwrap();
    let out = validate(&f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("my-switch.yaml:8:"), "{err}");
    assert!(err.contains("snmp.profiles"), "{err}");
    let out = Command::new(BIN)
        .args(["profiles", "check", "--profiles"])
        .arg(&profiles)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("my-switch.yaml:8:"), "{text}");
    // Fixed, the user profile selects its sysObjectID over the built-in vendor-wide one.
    std::fs::write(
        profiles.join("my-switch.yaml"),
        "extends:\n  - _base.yaml\n  - _generic-if.yaml\nsysobjectid: 1.3.6.1.4.1.9.1.9999\n",
    )
    .unwrap();
    let out = validate(&f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profile `nonexistent` does not exist"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["profiles", "match", "1.3.6.1.4.1.9.1.9999", "--profiles"])
        .arg(&profiles)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("profile: my-switch"), "{text}");
    let out = Command::new(BIN)
        .args(["profiles", "match", "1.3.6.1.4.1.9.1.8888"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("profile: cisco\n"));
}

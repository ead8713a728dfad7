//! The model of the `traps:` section, the SNMP trap and inform receiver. Same rules as
//! `model.rs`: every field's doc comment is its documentation, unknown keys are errors, and
//! Datadog's spellings (`username`, `authKey`, `authProtocol`, `privKey`, `privProtocol`) are
//! accepted so a Datadog `snmp_traps` user list can be pasted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::lists::{list, opt_list};
use super::locate::Seg;
use super::model::HealthCheckConfig;
use super::secret::Secret;
use crate::proto::snmp::usm::{AuthProtocol, PrivProtocol};

/// `traps:` receives SNMP v1/v2c/v3 traps and informs and forwards each as a log record.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapsConfig {
    /// Listen address (UDP). Default `0.0.0.0:5162` (the NLB forwards UDP 162 to it).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Community strings accepted from v1/v2c senders; a list or one comma-separated string.
    /// A v1/v2c trap or inform with any other community is dropped and counted
    /// (`unknown_community`), and an inform with one is not acknowledged.
    #[serde(default, deserialize_with = "list")]
    pub community_strings: Vec<Secret>,
    /// SNMPv3 users. Each user's keys are localized to every sender's engine ID (traps) and to
    /// `engine_id` (informs). Several entries may share a name (one per protocol pair).
    #[serde(default)]
    pub users: Vec<TrapUserConfig>,
    /// Our own engine ID, authoritative for informs, as hex (`0x` optional, `:` allowed):
    /// 5 to 32 bytes. Senders of v3 informs discover it, but Cisco IOS needs it configured
    /// (`snmp-server engineID remote`), and every task behind one load balancer must share it:
    /// set it explicitly there. Default: `80000000 05` followed by the first 12 bytes of
    /// SHA-256 of the hostname (`hostname`, else the machine's name), stable across restarts.
    pub engine_id: Option<String>,
    /// Trap database files or directories (Datadog's JSON/YAML trap DB format), loaded after
    /// the built-in names; later files override earlier ones.
    #[serde(default, deserialize_with = "list")]
    pub trap_db: Vec<PathBuf>,
    /// Requested SO_RCVBUF in bytes: a trap storm is absorbed here first. Default 8 MiB.
    #[serde(default = "default_rcvbuf")]
    pub receive_buffer: usize,
    /// Most variable bindings in one message; a message with more is dropped and counted
    /// (`too_many_varbinds`). Default 1000.
    #[serde(default = "default_max_varbinds")]
    pub max_varbinds: usize,
    /// Sender engine IDs whose v3 boots and time are remembered at once (the least recently
    /// seen is forgotten first). Default 10000.
    #[serde(default = "default_max_engines")]
    pub max_engines: usize,
    /// `device_namespace` tag of trap records. Default: the top-level `namespace`.
    pub namespace: Option<String>,
    /// SNMP over TCP (RFC 3430) beside UDP. Absent: UDP only.
    pub tcp: Option<TrapsTcpConfig>,
    /// Optional TCP health-check listener: accepts connections only while traps is healthy.
    pub health_check: Option<HealthCheckConfig>,
}

/// `traps.tcp:` each message is one BER SEQUENCE on the stream; informs are answered on the
/// same connection.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapsTcpConfig {
    /// Listen address. Default `0.0.0.0:5162`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Most connections at once; further ones are closed at once and counted. Default 256.
    #[serde(default = "default_tcp_max")]
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed. Default 10m.
    #[serde(default = "default_tcp_idle", with = "humantime_serde")]
    pub idle_timeout: Duration,
}

/// One `traps.users[]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapUserConfig {
    /// User name (Datadog: `username`).
    #[serde(alias = "username")]
    pub user: String,
    /// `md5`, `sha`, `sha224`, `sha256`, `sha384` or `sha512`. Required: only authenticated
    /// v3 notifications are accepted.
    #[serde(alias = "authProtocol")]
    pub auth_protocol: Option<String>,
    /// Authentication password. Required.
    #[serde(alias = "authKey")]
    pub auth_key: Option<Secret>,
    /// `des`, `3des`, `aes`, `aes192`, `aes256` (Blumenthal, as net-snmp) or `aes192c`,
    /// `aes256c` (Reeder, as Cisco). Absent: authNoPriv only.
    #[serde(alias = "privProtocol")]
    pub priv_protocol: Option<String>,
    /// Privacy password.
    #[serde(alias = "privKey")]
    pub priv_key: Option<Secret>,
    /// Sender engine IDs (hex) this user's traps may come from; traps from any other engine ID
    /// are dropped and counted (`unknown_engine_id`). Absent: any sender whose trap
    /// authenticates is accepted and its engine ID learned.
    #[serde(default, deserialize_with = "opt_list", alias = "engineIDs")]
    pub engine_ids: Option<Vec<String>>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 5162))
}
fn default_tcp_max() -> usize {
    256
}
fn default_tcp_idle() -> Duration {
    Duration::from_secs(600)
}
fn default_rcvbuf() -> usize {
    8 << 20
}
fn default_max_varbinds() -> usize {
    1000
}
fn default_max_engines() -> usize {
    10_000
}

/// An engine ID from hex text: `0x8000000001020304`, `8000000001020304` or
/// `80:00:00:00:01:02:03:04`; 5 to 32 bytes (RFC 3411).
pub fn engine_id_bytes(s: &str) -> Result<Vec<u8>, String> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != ':' && *c != ' ').collect();
    let bad = || format!("`{s}` is not an engine ID in hex (like 0x8000000001020304)");
    if !hex.len().is_multiple_of(2) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if !(5..=32).contains(&bytes.len()) {
        return Err(format!(
            "`{s}` is {} bytes; an engine ID has 5 to 32 (RFC 3411)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn at(keys: &[&str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::Key(k.to_string())).collect()
}

fn file_or_dir(path: &std::path::Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(_) => None,
        Err(e) => Some(format!("cannot read {}: {e}", path.display())),
    }
}

pub(super) fn check_traps(t: &TrapsConfig, out: &mut Vec<(Vec<Seg>, String)>) {
    if t.community_strings.is_empty() && t.users.is_empty() {
        out.push((
            at(&["traps"]),
            "set community_strings, users or both: without either every trap is dropped".into(),
        ));
    }
    for (i, c) in t.community_strings.iter().enumerate() {
        if c.expose().is_empty() {
            out.push((
                vec![
                    Seg::Key("traps".into()),
                    Seg::Key("community_strings".into()),
                    Seg::Index(i),
                ],
                "is empty (is the environment variable behind it set?)".into(),
            ));
        }
    }
    for (i, u) in t.users.iter().enumerate() {
        check_user(u, i, out);
    }
    if let Some(e) = &t.engine_id {
        if let Err(m) = engine_id_bytes(e) {
            out.push((at(&["traps", "engine_id"]), m));
        }
    }
    for (i, p) in t.trap_db.iter().enumerate() {
        if let Some(m) = file_or_dir(p) {
            let path = vec![
                Seg::Key("traps".into()),
                Seg::Key("trap_db".into()),
                Seg::Index(i),
            ];
            out.push((path, m));
        }
    }
    if !(65_536..=1 << 30).contains(&t.receive_buffer) {
        out.push((
            at(&["traps", "receive_buffer"]),
            "must be between 65536 and 1073741824 bytes".into(),
        ));
    }
    if !(2..=10_000).contains(&t.max_varbinds) {
        out.push((
            at(&["traps", "max_varbinds"]),
            "must be between 2 and 10000 (a notification carries sysUpTime.0 and snmpTrapOID.0)"
                .into(),
        ));
    }
    if let Some(tcp) = &t.tcp {
        if !(1..=65_536).contains(&tcp.max_connections) {
            out.push((
                at(&["traps", "tcp", "max_connections"]),
                "must be between 1 and 65536".into(),
            ));
        }
        if tcp.idle_timeout < Duration::from_secs(1) {
            out.push((
                at(&["traps", "tcp", "idle_timeout"]),
                "must be at least 1s".into(),
            ));
        }
    }
    if !(1..=1_000_000).contains(&t.max_engines) {
        out.push((
            at(&["traps", "max_engines"]),
            "must be between 1 and 1000000".into(),
        ));
    }
}

fn check_user(u: &TrapUserConfig, i: usize, out: &mut Vec<(Vec<Seg>, String)>) {
    let here = |k: &str| {
        vec![
            Seg::Key("traps".into()),
            Seg::Key("users".into()),
            Seg::Index(i),
            Seg::Key(k.into()),
        ]
    };
    if u.user.trim().is_empty() {
        out.push((here("user"), "is empty".into()));
    }
    match u.auth_protocol.as_deref().map(str::parse::<AuthProtocol>) {
        None => out.push((
            here("auth_protocol"),
            "is required: nocbox accepts only authenticated v3 notifications (md5, sha, sha224, sha256, sha384, sha512)".into(),
        )),
        Some(Err(e)) => out.push((here("auth_protocol"), e.to_string())),
        Some(Ok(_)) => {}
    }
    if u.auth_key.as_ref().is_none_or(|k| k.is_empty()) {
        out.push((
            here("auth_key"),
            "is required and must not be empty (is the environment variable behind it set?)".into(),
        ));
    }
    match (&u.priv_protocol, &u.priv_key) {
        (Some(p), Some(k)) => {
            if let Err(e) = p.parse::<PrivProtocol>() {
                out.push((here("priv_protocol"), e.to_string()));
            }
            if k.is_empty() {
                out.push((
                    here("priv_key"),
                    "is empty (is the environment variable behind it set?)".into(),
                ));
            }
        }
        (Some(_), None) => out.push((here("priv_key"), "priv_protocol needs a priv_key".into())),
        (None, Some(_)) => out.push((
            here("priv_protocol"),
            "priv_key needs a priv_protocol (des, 3des, aes, aes192, aes256, aes192c, aes256c)"
                .into(),
        )),
        (None, None) => {}
    }
    if let Some(ids) = &u.engine_ids {
        if ids.is_empty() {
            out.push((
                here("engine_ids"),
                "is empty, which would refuse every sender; remove the key to accept any engine ID whose traps authenticate".into(),
            ));
        }
        for id in ids {
            if let Err(m) = engine_id_bytes(id) {
                out.push((here("engine_ids"), m));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::engine_id_bytes;

    #[test]
    fn engine_ids_in_the_usual_spellings() {
        let want = vec![0x80, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(engine_id_bytes("0x8000000001020304"), Ok(want.clone()));
        assert_eq!(engine_id_bytes("8000000001020304"), Ok(want.clone()));
        assert_eq!(engine_id_bytes("80:00:00:00:01:02:03:04"), Ok(want));
        assert!(engine_id_bytes("0x80").unwrap_err().contains("5 to 32"));
        assert!(engine_id_bytes("0x8000000001g20304").is_err());
        assert!(engine_id_bytes("0x800000000102030").is_err());
        assert!(engine_id_bytes(&"ab".repeat(33)).is_err());
    }
}

//! The model of the `snmp:` section: polling settings, devices, discovery. Same rules as
//! `model.rs`: every field's doc comment is its documentation, unknown keys are errors, and
//! Datadog's spellings (`ipAddress`, `communityString`, `authKey`, `authProtocol`, `privKey`,
//! `privProtocol`, `contextName`, `network_address`, `ignored_ip_addresses`, `oid_batch_size`,
//! `bulk_max_repetitions`) are accepted so a Datadog `snmp.d` instance can be pasted.
//!
//! The credential fields repeat in three structs (device, discovery entry, `authentications[]`):
//! `serde(flatten)` cannot be combined with `deny_unknown_fields`, and unknown keys must stay
//! errors. [`CredentialFields`] gathers them for the one place that interprets them.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::lists::list;
use super::locate::Seg;
use super::secret::Secret;
use super::traps::engine_id_bytes;
use crate::proto::snmp::usm::{AuthProtocol, PrivProtocol};

/// `snmp:` polls devices with the profiles in `profiles/` (built in) and `profiles` (yours).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpConfig {
    /// Poll interval; a device's `interval` overrides it. Default 60s (at least 1s).
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// Wait for one answer this long before resending. Default 2s (Datadog's default).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Resends of an unanswered request. Default 3.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// OIDs per GET and columns per GETBULK/GETNEXT at most; halved after a failure and grown back
    /// one by one after successes. Default 5 (Datadog's default).
    #[serde(default = "default_batch")]
    pub oid_batch_size: usize,
    /// GETBULK max-repetitions. Default 10 (Datadog's and net-snmp's default).
    #[serde(default = "default_reps")]
    pub bulk_max_repetitions: u32,
    /// Requests outstanding to one device at once. Default 2: agents have small input queues and
    /// low-priority SNMP processes (reference: Cisco's SNMP FAQ).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// Accept an answer only from the address and port the request went to. Default true; turn
    /// off for multi-homed devices that answer from another address.
    #[serde(default = "yes")]
    pub check_reply_source: bool,
    /// `device_namespace` tag of polled metrics. Default: the top-level `namespace`.
    pub namespace: Option<String>,
    /// Directories of your own profiles (Datadog's format), loaded after the built-in ones; a
    /// profile of yours with the same name or sysObjectID pattern wins.
    #[serde(default, deserialize_with = "list")]
    pub profiles: Vec<PathBuf>,
    /// Devices to poll. A device without credentials is not polled: it only names a sender
    /// (syslog and trap records from `ip_address` get `hostname: name` and its tags).
    #[serde(default)]
    pub devices: Vec<DeviceConfig>,
    /// Subnets to scan for devices, which are then polled like listed ones.
    #[serde(default)]
    pub discovery: Vec<DiscoveryConfig>,
}

impl Default for SnmpConfig {
    fn default() -> Self {
        SnmpConfig {
            interval: default_interval(),
            timeout: default_timeout(),
            retries: default_retries(),
            oid_batch_size: default_batch(),
            bulk_max_repetitions: default_reps(),
            max_in_flight: default_in_flight(),
            check_reply_source: true,
            namespace: None,
            profiles: Vec::new(),
            devices: Vec::new(),
            discovery: Vec::new(),
        }
    }
}

/// One SNMP device. Datadog's camelCase spellings are accepted.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// The device's address.
    #[serde(alias = "ipAddress", alias = "ip")]
    pub ip_address: IpAddr,
    /// SNMP port. Default 161.
    pub port: Option<u16>,
    /// The device's name (`hostname` of its records). Default: its sysName once polled.
    pub name: Option<String>,
    /// v1/v2c community.
    #[serde(alias = "communityString", alias = "community")]
    pub community_string: Option<Secret>,
    /// SNMP version `1`, `2c` (also `2`) or `3`; inferred from the credentials when absent
    /// (`user` → 3, else 2c).
    #[serde(
        default,
        alias = "snmpVersion",
        alias = "snmp_version",
        deserialize_with = "version_text"
    )]
    pub version: Option<String>,
    /// v3 user.
    #[serde(alias = "username")]
    pub user: Option<String>,
    /// `md5`, `sha`, `sha224`, `sha256`, `sha384`, `sha512`. Default `md5` when `auth_key` is set
    /// (as Datadog).
    #[serde(alias = "authProtocol")]
    pub auth_protocol: Option<String>,
    /// Authentication password.
    #[serde(alias = "authKey")]
    pub auth_key: Option<Secret>,
    /// `des`, `3des`, `aes`, `aes192`, `aes256`, `aes192c`, `aes256c`. Default `des` when
    /// `priv_key` is set (as Datadog).
    #[serde(alias = "privProtocol")]
    pub priv_protocol: Option<String>,
    /// Privacy password.
    #[serde(alias = "privKey")]
    pub priv_key: Option<Secret>,
    /// v3 context name.
    #[serde(alias = "contextName")]
    pub context_name: Option<String>,
    /// v3 context engine ID (hex). Default: the agent's engine ID.
    #[serde(alias = "contextEngineId")]
    pub context_engine_id: Option<String>,
    /// Tags for this device's records and metrics.
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<String>,
    /// Poll interval for this device.
    #[serde(default, with = "humantime_serde", alias = "min_collection_interval")]
    pub interval: Option<Duration>,
    /// Profile name to use instead of matching sysObjectID.
    pub profile: Option<String>,
    /// Per-device `timeout`, `retries`, `oid_batch_size`, `bulk_max_repetitions`,
    /// `max_in_flight` (default: the section's).
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub oid_batch_size: Option<usize>,
    pub bulk_max_repetitions: Option<u32>,
    pub max_in_flight: Option<usize>,
}

/// One `snmp.discovery[]` entry: every address of `network_address` is asked for sysObjectID
/// with each credential in turn; an answer makes it a device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// The subnet (CIDR). At most 65,536 addresses (IPv4 /16, IPv6 /112).
    #[serde(alias = "networkAddress", alias = "network")]
    pub network_address: IpNet,
    /// SNMP port. Default 161.
    pub port: Option<u16>,
    /// Addresses of the subnet to leave alone.
    #[serde(default, deserialize_with = "list")]
    pub ignored_ip_addresses: Vec<IpAddr>,
    /// Rescan this often. Default 1h (Datadog's `discovery_interval`).
    #[serde(default = "default_discovery_interval", with = "humantime_serde")]
    pub discovery_interval: Duration,
    /// A discovered device that misses this many scans in a row is no longer polled. Default 3.
    #[serde(default = "default_allowed_failures")]
    pub discovery_allowed_failures: u32,
    /// Addresses probed at once during a scan. Default 64.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Tags for discovered devices (they also get `autodiscovery_subnet:<cidr>`).
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<String>,
    /// Poll interval of discovered devices. Default: the section's.
    #[serde(default, with = "humantime_serde")]
    pub interval: Option<Duration>,
    /// Credentials (as on a device); or several in `authentications`, tried in order.
    #[serde(alias = "communityString", alias = "community")]
    pub community_string: Option<Secret>,
    #[serde(
        default,
        alias = "snmpVersion",
        alias = "snmp_version",
        deserialize_with = "version_text"
    )]
    pub version: Option<String>,
    #[serde(alias = "username")]
    pub user: Option<String>,
    #[serde(alias = "authProtocol")]
    pub auth_protocol: Option<String>,
    #[serde(alias = "authKey")]
    pub auth_key: Option<Secret>,
    #[serde(alias = "privProtocol")]
    pub priv_protocol: Option<String>,
    #[serde(alias = "privKey")]
    pub priv_key: Option<Secret>,
    #[serde(alias = "contextName")]
    pub context_name: Option<String>,
    /// Credentials to try in order; the first that answers is kept for the device.
    #[serde(default)]
    pub authentications: Vec<AuthenticationConfig>,
}

/// One `snmp.discovery[].authentications[]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticationConfig {
    #[serde(alias = "communityString", alias = "community")]
    pub community_string: Option<Secret>,
    #[serde(
        default,
        alias = "snmpVersion",
        alias = "snmp_version",
        deserialize_with = "version_text"
    )]
    pub version: Option<String>,
    #[serde(alias = "username")]
    pub user: Option<String>,
    #[serde(alias = "authProtocol")]
    pub auth_protocol: Option<String>,
    #[serde(alias = "authKey")]
    pub auth_key: Option<Secret>,
    #[serde(alias = "privProtocol")]
    pub priv_protocol: Option<String>,
    #[serde(alias = "privKey")]
    pub priv_key: Option<Secret>,
    #[serde(alias = "contextName")]
    pub context_name: Option<String>,
}

/// The credential fields of a device, discovery entry or authentication, borrowed.
pub struct CredentialFields<'a> {
    pub version: Option<&'a str>,
    pub community_string: Option<&'a Secret>,
    pub user: Option<&'a str>,
    pub auth_protocol: Option<&'a str>,
    pub auth_key: Option<&'a Secret>,
    pub priv_protocol: Option<&'a str>,
    pub priv_key: Option<&'a Secret>,
    pub context_name: Option<&'a str>,
    pub context_engine_id: Option<&'a str>,
}

/// Credentials after defaults and checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    Community {
        /// 1 or 2 (v2c).
        version: u8,
        community: Secret,
    },
    Usm {
        user: String,
        auth: Option<(AuthProtocol, Secret)>,
        privacy: Option<(PrivProtocol, Secret)>,
        context_name: String,
        context_engine_id: Option<Vec<u8>>,
    },
}

impl Credentials {
    /// Short description for status lines and logs: `v2c`, `v3 poller (sha256/aes256c)`.
    pub fn describe(&self) -> String {
        match self {
            Credentials::Community { version: 1, .. } => "v1".into(),
            Credentials::Community { .. } => "v2c".into(),
            Credentials::Usm {
                user,
                auth,
                privacy,
                ..
            } => {
                let a = auth.as_ref().map_or("noauth", |(p, _)| p.name());
                let p = privacy.as_ref().map_or("nopriv", |(p, _)| p.name());
                format!("v3 {user} ({a}/{p})")
            }
        }
    }
}

impl CredentialFields<'_> {
    /// `Ok(None)` when no credential is given at all. Errors name the field.
    pub fn resolve(&self) -> Result<Option<Credentials>, (&'static str, String)> {
        let version = match self.version.map(str::trim) {
            None => None,
            Some("1" | "v1") => Some(1),
            Some("2" | "2c" | "v2c" | "v2") => Some(2),
            Some("3" | "v3") => Some(3),
            Some(v) => {
                return Err((
                    "version",
                    format!("`{v}` is not an SNMP version: use 1, 2c or 3"),
                ))
            }
        };
        let v3_fields = self.auth_key.is_some()
            || self.priv_key.is_some()
            || self.auth_protocol.is_some()
            || self.priv_protocol.is_some();
        match (self.community_string, self.user) {
            (None, None) if v3_fields => Err((
                "user",
                "v3 keys without a user: set user (or remove the keys)".into(),
            )),
            (None, None) => match version {
                Some(_) => Err((
                    "community_string",
                    "a version without credentials: set community_string (v1/v2c) or user (v3)"
                        .into(),
                )),
                None => Ok(None),
            },
            (Some(_), Some(_)) => Err((
                "user",
                "both community_string and user: a device speaks v1/v2c or v3, not both".into(),
            )),
            (Some(c), None) => {
                if v3_fields {
                    return Err((
                        "community_string",
                        "v3 keys with a community: set user for v3 or remove the keys".into(),
                    ));
                }
                if c.is_empty() {
                    return Err((
                        "community_string",
                        "is empty (is the environment variable behind it set?)".into(),
                    ));
                }
                match version.unwrap_or(2) {
                    3 => Err((
                        "version",
                        "version 3 needs user, not community_string".into(),
                    )),
                    v => Ok(Some(Credentials::Community {
                        version: v,
                        community: c.clone(),
                    })),
                }
            }
            (None, Some(user)) => {
                if matches!(version, Some(1 | 2)) {
                    return Err((
                        "version",
                        "user is SNMPv3: set version 3 or leave it out".into(),
                    ));
                }
                if user.is_empty() {
                    return Err(("user", "is empty".into()));
                }
                let auth = match (self.auth_protocol, self.auth_key) {
                    (_, Some(k)) if k.is_empty() => {
                        return Err((
                            "auth_key",
                            "is empty (is the environment variable behind it set?)".into(),
                        ))
                    }
                    (Some(_), None) => {
                        return Err(("auth_key", "auth_protocol without auth_key".into()))
                    }
                    (p, Some(k)) => {
                        let p = p
                            .unwrap_or("md5")
                            .parse::<AuthProtocol>()
                            .map_err(|e| ("auth_protocol", e.to_string()))?;
                        if k.expose().len() < 8 {
                            return Err(("auth_key", "is shorter than 8 characters, which RFC 3414 forbids and agents refuse".into()));
                        }
                        Some((p, k.clone()))
                    }
                    (None, None) => None,
                };
                let privacy = match (self.priv_protocol, self.priv_key) {
                    (_, Some(k)) if k.is_empty() => {
                        return Err((
                            "priv_key",
                            "is empty (is the environment variable behind it set?)".into(),
                        ))
                    }
                    (Some(_), None) => {
                        return Err(("priv_key", "priv_protocol without priv_key".into()))
                    }
                    (p, Some(k)) => {
                        if auth.is_none() {
                            return Err((
                                "priv_key",
                                "privacy needs authentication: set auth_key too".into(),
                            ));
                        }
                        let p = p
                            .unwrap_or("des")
                            .parse::<PrivProtocol>()
                            .map_err(|e| ("priv_protocol", e.to_string()))?;
                        if k.expose().len() < 8 {
                            return Err(("priv_key", "is shorter than 8 characters, which RFC 3414 forbids and agents refuse".into()));
                        }
                        Some((p, k.clone()))
                    }
                    (None, None) => None,
                };
                let context_engine_id = self
                    .context_engine_id
                    .map(engine_id_bytes)
                    .transpose()
                    .map_err(|e| ("context_engine_id", e))?;
                Ok(Some(Credentials::Usm {
                    user: user.to_string(),
                    auth,
                    privacy,
                    context_name: self.context_name.unwrap_or("").to_string(),
                    context_engine_id,
                }))
            }
        }
    }
}

impl DeviceConfig {
    pub fn credential_fields(&self) -> CredentialFields<'_> {
        CredentialFields {
            version: self.version.as_deref(),
            community_string: self.community_string.as_ref(),
            user: self.user.as_deref(),
            auth_protocol: self.auth_protocol.as_deref(),
            auth_key: self.auth_key.as_ref(),
            priv_protocol: self.priv_protocol.as_deref(),
            priv_key: self.priv_key.as_ref(),
            context_name: self.context_name.as_deref(),
            context_engine_id: self.context_engine_id.as_deref(),
        }
    }

    /// The device's credentials; `None` when it has none (it only names a sender).
    pub fn credentials(&self) -> Option<Credentials> {
        self.credential_fields().resolve().ok().flatten()
    }
}

impl DiscoveryConfig {
    /// The credentials to try, in order: the entry's own, then `authentications`.
    pub fn credential_list(&self) -> Vec<CredentialFields<'_>> {
        let own = CredentialFields {
            version: self.version.as_deref(),
            community_string: self.community_string.as_ref(),
            user: self.user.as_deref(),
            auth_protocol: self.auth_protocol.as_deref(),
            auth_key: self.auth_key.as_ref(),
            priv_protocol: self.priv_protocol.as_deref(),
            priv_key: self.priv_key.as_ref(),
            context_name: self.context_name.as_deref(),
            context_engine_id: None,
        };
        std::iter::once(own)
            .chain(self.authentications.iter().map(|a| CredentialFields {
                version: a.version.as_deref(),
                community_string: a.community_string.as_ref(),
                user: a.user.as_deref(),
                auth_protocol: a.auth_protocol.as_deref(),
                auth_key: a.auth_key.as_ref(),
                priv_protocol: a.priv_protocol.as_deref(),
                priv_key: a.priv_key.as_ref(),
                context_name: a.context_name.as_deref(),
                context_engine_id: None,
            }))
            .collect()
    }

    /// Resolved credentials in order (entries without any are skipped).
    pub fn credentials(&self) -> Vec<Credentials> {
        self.credential_list()
            .iter()
            .filter_map(|c| c.resolve().ok().flatten())
            .collect()
    }

    /// Addresses to probe: the subnet's hosts (network and broadcast addresses excluded for IPv4
    /// prefixes shorter than /31), minus `ignored_ip_addresses`.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let ignored: std::collections::HashSet<IpAddr> =
            self.ignored_ip_addresses.iter().copied().collect();
        self.network_address
            .hosts()
            .filter(|a| !ignored.contains(a))
            .collect()
    }
}

/// `version: 2c` or Datadog's `snmp_version: 2` (a number).
fn version_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        N(u64),
        S(String),
    }
    Ok(Option::<V>::deserialize(d)?.map(|v| match v {
        V::N(n) => n.to_string(),
        V::S(s) => s,
    }))
}

fn default_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_timeout() -> Duration {
    Duration::from_secs(2)
}
fn default_retries() -> u32 {
    3
}
fn default_batch() -> usize {
    5
}
fn default_reps() -> u32 {
    10
}
fn default_in_flight() -> usize {
    2
}
fn default_discovery_interval() -> Duration {
    Duration::from_secs(3600)
}
fn default_allowed_failures() -> u32 {
    3
}
fn default_workers() -> usize {
    64
}
fn yes() -> bool {
    true
}

fn key(path: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(k.into()));
    p
}

fn check_poll_settings(
    at: &[Seg],
    timeout: Option<Duration>,
    retries: Option<u32>,
    batch: Option<usize>,
    reps: Option<u32>,
    in_flight: Option<usize>,
    out: &mut Vec<(Vec<Seg>, String)>,
) {
    if timeout.is_some_and(|t| t < Duration::from_millis(10) || t > Duration::from_secs(60)) {
        out.push((key(at, "timeout"), "must be between 10ms and 60s".into()));
    }
    if retries.is_some_and(|r| r > 10) {
        out.push((key(at, "retries"), "must be at most 10".into()));
    }
    if batch.is_some_and(|b| !(1..=128).contains(&b)) {
        out.push((
            key(at, "oid_batch_size"),
            "must be between 1 and 128".into(),
        ));
    }
    if reps.is_some_and(|r| !(1..=1000).contains(&r)) {
        out.push((
            key(at, "bulk_max_repetitions"),
            "must be between 1 and 1000".into(),
        ));
    }
    if in_flight.is_some_and(|n| !(1..=16).contains(&n)) {
        out.push((key(at, "max_in_flight"), "must be between 1 and 16".into()));
    }
}

fn check_credentials(at: &[Seg], c: &CredentialFields<'_>, out: &mut Vec<(Vec<Seg>, String)>) {
    if let Err((field, m)) = c.resolve() {
        out.push((key(at, field), m));
    }
}

pub(super) fn check_snmp(snmp: &SnmpConfig, out: &mut Vec<(Vec<Seg>, String)>) {
    let root = vec![Seg::Key("snmp".into())];
    if snmp.interval < Duration::from_secs(1) {
        out.push((key(&root, "interval"), "must be at least 1s".into()));
    }
    check_poll_settings(
        &root,
        Some(snmp.timeout),
        Some(snmp.retries),
        Some(snmp.oid_batch_size),
        Some(snmp.bulk_max_repetitions),
        Some(snmp.max_in_flight),
        out,
    );
    for (i, p) in snmp.profiles.iter().enumerate() {
        if !p.is_dir() {
            let mut at = key(&root, "profiles");
            at.push(Seg::Index(i));
            out.push((at, format!("{} is not a directory", p.display())));
        }
    }
    for (i, d) in snmp.devices.iter().enumerate() {
        let mut at = key(&root, "devices");
        at.push(Seg::Index(i));
        check_credentials(&at, &d.credential_fields(), out);
        if d.interval.is_some_and(|i| i < Duration::from_secs(1)) {
            out.push((key(&at, "interval"), "must be at least 1s".into()));
        }
        if d.credentials().is_some() {
            check_patience(
                &at,
                d.interval.unwrap_or(snmp.interval),
                d.timeout.unwrap_or(snmp.timeout),
                d.retries.unwrap_or(snmp.retries),
                out,
            );
        }
        check_poll_settings(
            &at,
            d.timeout,
            d.retries,
            d.oid_batch_size,
            d.bulk_max_repetitions,
            d.max_in_flight,
            out,
        );
    }
    for (i, d) in snmp.discovery.iter().enumerate() {
        let mut at = key(&root, "discovery");
        at.push(Seg::Index(i));
        let too_big = match d.network_address {
            IpNet::V4(n) => n.prefix_len() < 16,
            IpNet::V6(n) => n.prefix_len() < 112,
        };
        if too_big {
            out.push((
                key(&at, "network_address"),
                format!(
                    "{} has more than 65,536 addresses; split it into /16 (IPv4) or /112 (IPv6) entries",
                    d.network_address
                ),
            ));
        }
        let list = d.credential_list();
        for (j, c) in list.iter().enumerate() {
            if j == 0 {
                check_credentials(&at, c, out);
            } else {
                let mut a = key(&at, "authentications");
                a.push(Seg::Index(j - 1));
                check_credentials(&a, c, out);
            }
        }
        if d.credentials().is_empty() {
            out.push((
                at.clone(),
                "no credentials: set community_string or user, or authentications".into(),
            ));
        }
        if !(1..=1024).contains(&d.workers) {
            out.push((key(&at, "workers"), "must be between 1 and 1024".into()));
        }
        if d.discovery_interval < Duration::from_secs(60) {
            out.push((
                key(&at, "discovery_interval"),
                "must be at least 60s".into(),
            ));
        }
        if d.interval.is_some_and(|i| i < Duration::from_secs(1)) {
            out.push((key(&at, "interval"), "must be at least 1s".into()));
        }
        if d.discovery_allowed_failures == 0 {
            out.push((
                key(&at, "discovery_allowed_failures"),
                "must be at least 1 (0 would drop every device in the scan that found it)".into(),
            ));
        }
        check_patience(
            &at,
            d.interval.unwrap_or(snmp.interval),
            snmp.timeout,
            snmp.retries,
            out,
        );
    }
}

/// A device that does not answer must be found unreachable within one interval: all the tries
/// of its first request must fit.
fn check_patience(
    at: &[Seg],
    interval: Duration,
    timeout: Duration,
    retries: u32,
    out: &mut Vec<(Vec<Seg>, String)>,
) {
    let worst = timeout * (retries + 1);
    if worst >= interval {
        out.push((
            at.to_vec(),
            format!(
                "timeout × (retries + 1) is {}, not less than the interval {}: a device that does not answer would never be reported unreachable; lower timeout or retries, or raise interval",
                humantime::format_duration(worst),
                humantime::format_duration(interval)
            ),
        ));
    }
}

//! Subnet discovery: every address of a `snmp.discovery` entry is asked for its identity with
//! each credential in turn; answering devices are polled like configured ones, one device that
//! answers on several addresses once (lowest address), and a device that misses
//! `discovery_allowed_failures` scans in a row is dropped. `nocbox snmp discover` runs the
//! same [`scan`] once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::checks::spread;
use crate::config::{DiscoveryConfig, SnmpConfig};
use crate::profiles::ProfileStore;
use crate::proto::snmp::{Oid, Value};

use super::device::{SYS_DESCR, SYS_NAME, SYS_OBJECT_ID, SYS_UPTIME};
use super::session::{Security, Session, SessionConfig};
use super::transport::Transport;
use super::{security, DeviceSpec, Poller};

/// A device that answered a scan.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub ip: IpAddr,
    /// Index of the credential that worked, in the entry's order.
    pub credential: usize,
    pub sys_object_id: Option<Oid>,
    pub sys_name: String,
    pub sys_descr: String,
    /// When the device booted, in Unix seconds (scan time − sysUpTime).
    pub booted: f64,
}

/// How a scan asks each address.
#[derive(Clone, Debug)]
pub struct ScanSettings {
    pub port: u16,
    pub timeout: Duration,
    pub retries: u32,
    pub workers: usize,
    pub check_source: bool,
}

fn text(v: &Value) -> String {
    match v {
        Value::OctetString(s) => String::from_utf8_lossy(s).trim().to_string(),
        _ => String::new(),
    }
}

/// Asks one address with each credential in turn; the first that answers wins.
async fn probe(
    transport: &Transport,
    ip: IpAddr,
    creds: &[Security],
    s: &ScanSettings,
) -> Option<Found> {
    let oids: Vec<Oid> = [SYS_OBJECT_ID, SYS_NAME, SYS_DESCR, SYS_UPTIME]
        .iter()
        .filter_map(|a| Oid::from_arcs(a).ok())
        .collect();
    for (i, security) in creds.iter().enumerate() {
        let session = Session::new(
            transport.clone(),
            SessionConfig {
                target: SocketAddr::new(ip, s.port),
                security: security.clone(),
                timeout: s.timeout,
                retries: s.retries,
                max_in_flight: 1,
                max_repetitions: 10,
                oid_batch_size: 4,
                check_source: s.check_source,
            },
        );
        let Ok(vbs) = session.get(&oids).await else {
            continue;
        };
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let mut f = Found {
            ip,
            credential: i,
            sys_object_id: None,
            sys_name: String::new(),
            sys_descr: String::new(),
            booted: now,
        };
        for vb in vbs {
            match (vb.oid.arcs(), &vb.value) {
                (a, Value::Oid(o)) if a == SYS_OBJECT_ID => f.sys_object_id = Some(o.clone()),
                (a, v) if a == SYS_NAME => f.sys_name = text(v),
                (a, v) if a == SYS_DESCR => f.sys_descr = text(v),
                (a, Value::TimeTicks(t)) if a == SYS_UPTIME => {
                    f.booted = now - f64::from(*t) / 100.0
                }
                _ => {}
            }
        }
        return Some(f);
    }
    None
}

/// Scans `addrs`, `workers` at a time; `progress(done, total, found)` after each address.
pub async fn scan(
    transport: &Transport,
    addrs: Vec<IpAddr>,
    creds: Arc<Vec<Security>>,
    s: &ScanSettings,
    progress: impl Fn(usize, usize, usize),
) -> Vec<Found> {
    let total = addrs.len();
    let gate = Arc::new(Semaphore::new(s.workers.max(1)));
    let found_n = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for ip in addrs {
        let (t, c, s, gate, n) = (
            transport.clone(),
            creds.clone(),
            s.clone(),
            gate.clone(),
            found_n.clone(),
        );
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            let f = probe(&t, ip, &c, &s).await;
            if f.is_some() {
                n.fetch_add(1, Ordering::Relaxed);
            }
            f
        });
    }
    let mut out = Vec::new();
    let mut done = 0;
    while let Some(r) = set.join_next().await {
        done += 1;
        if let Ok(Some(f)) = r {
            out.push(f);
        }
        progress(done, total, found_n.load(Ordering::Relaxed));
    }
    out.sort_by_key(|f| f.ip);
    out
}

/// One device answering on several addresses is kept once, at its lowest address: same
/// sysName, sysObjectID and sysDescr, and boot times within 10 s of each other (as the
/// Datadog Agent's listener decides).
pub fn dedup(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by_key(|f| f.ip);
    let mut kept: Vec<Found> = Vec::new();
    for f in found {
        if !kept.iter().any(|k| same_device(k, &f)) {
            kept.push(f);
        }
    }
    kept
}

/// Whether two answers come from one device: same sysName (not empty), sysObjectID and
/// sysDescr, booted within 10 s of each other.
pub fn same_device(a: &Found, b: &Found) -> bool {
    !a.sys_name.is_empty()
        && a.sys_name == b.sys_name
        && a.sys_object_id == b.sys_object_id
        && a.sys_descr == b.sys_descr
        && (a.booted - b.booted).abs() <= 10.0
}

/// `nocbox snmp discover CIDR`: one scan with the CLI's credentials, progress on stderr, one line
/// per device on stdout: address, sysName, sysObjectID, the profile it would get, sysDescr.
pub async fn cli(a: &super::cli::DiscoverArgs) -> Result<u8, String> {
    let net: ipnet::IpNet = a.cidr.parse().map_err(|_| {
        format!(
            "{}: not a subnet in CIDR notation (like 10.0.1.0/24)",
            a.cidr
        )
    })?;
    let size = match net {
        ipnet::IpNet::V4(n) => n.prefix_len() >= 16,
        ipnet::IpNet::V6(n) => n.prefix_len() >= 112,
    };
    if !size {
        return Err(format!(
            "{net} has more than 65,536 addresses; scan /16 (IPv6 /112) or smaller"
        ));
    }
    let store = ProfileStore::load(&a.profiles).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let settings = ScanSettings {
        port: a.port,
        timeout: super::cli::timeout(&a.sec)?,
        retries: a.sec.retries.min(1),
        workers: a.workers.clamp(1, 1024),
        check_source: true,
    };
    let creds = Arc::new(vec![super::cli::security(&a.sec)?]);
    let addrs: Vec<IpAddr> = net.hosts().collect();
    let total = addrs.len();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let found = scan(
        &Transport::new(),
        addrs,
        creds,
        &settings,
        |done, total, n| {
            if tty {
                eprint!("\rscanned {done}/{total}, {n} answered");
            } else if done % 256 == 0 || done == total {
                eprintln!("scanned {done}/{total}, {n} answered");
            }
        },
    )
    .await;
    if tty {
        eprintln!();
    }
    let all = found.len();
    let found = dedup(found);
    for f in &found {
        let oid = f
            .sys_object_id
            .as_ref()
            .map_or("-".to_string(), |o| o.to_string());
        let profile = f
            .sys_object_id
            .as_ref()
            .and_then(|o| store.select(o))
            .map_or("-".to_string(), |p| p.name.clone());
        let name = if f.sys_name.is_empty() {
            "-"
        } else {
            &f.sys_name
        };
        let descr = f.sys_descr.lines().next().unwrap_or("");
        println!("{}\t{name}\t{oid}\t{profile}\t{descr}", f.ip);
    }
    eprintln!(
        "{} devices in {net} ({total} addresses asked, {all} answered{})",
        found.len(),
        if all > found.len() {
            "; devices answering on several addresses are listed once"
        } else {
            ""
        }
    );
    Ok(0)
}

struct Known {
    stop: CancellationToken,
    misses: u32,
    /// What the device answered when last found, to recognise it at another address.
    seen: Found,
}

/// Spawns the discovery task of one `snmp.discovery` entry into `set`.
pub fn spawn(p: Arc<Poller>, s: &SnmpConfig, d: DiscoveryConfig, set: &mut JoinSet<()>) {
    let settings = ScanSettings {
        port: d.port.unwrap_or(161),
        timeout: s.timeout,
        retries: s.retries.min(1),
        workers: d.workers,
        check_source: s.check_reply_source,
    };
    // Devices the config already polls on this port are left to their own task.
    let configured: Vec<IpAddr> = s
        .devices
        .iter()
        .filter(|x| x.credentials().is_some() && x.port.unwrap_or(161) == settings.port)
        .map(|x| x.ip_address)
        .collect();
    let interval = d.interval.unwrap_or(s.interval);
    let defaults = (
        s.oid_batch_size,
        s.bulk_max_repetitions,
        s.max_in_flight,
        s.retries,
    );
    set.spawn(async move {
        let subnet = d.network_address.to_string();
        let comp = p
            .ctx
            .telemetry
            .component(&format!("snmp_discovery:{subnet}"), crate::checks::KIND);
        comp.set_healthy(true);
        comp.set_message("first scan starting");
        // Credentials and their engine form, index for index.
        let (creds, securities): (Vec<_>, Vec<_>) = d
            .credentials()
            .into_iter()
            .filter_map(|c| security(&c).ok().map(|s| (c, s)))
            .unzip();
        let securities = Arc::new(securities);
        let addrs: Vec<IpAddr> = d
            .addresses()
            .into_iter()
            .filter(|a| !configured.contains(a))
            .collect();
        let mut known: HashMap<IpAddr, Known> = HashMap::new();
        let mut devices = JoinSet::new();
        let mut tick = tokio::time::interval(d.discovery_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = p.ctx.shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let total = addrs.len();
            let c = comp.clone();
            let found = tokio::select! {
                _ = p.ctx.shutdown.cancelled() => break,
                f = scan(&p.transport, addrs.clone(), securities.clone(), &settings, move |done, total, n| {
                    if done % 64 == 0 || done == total {
                        c.set_message(format!("scanning: {done}/{total} addresses, {n} answered"));
                    }
                }) => f,
            };
            let found = dedup(found);
            for k in known.values_mut() {
                k.misses += 1;
            }
            // Found at a polled address, or (a multi-homed device whose lowest address came
            // back) at another address of a polled device: keep polling where it is polled.
            let mut fresh = Vec::new();
            for f in &found {
                if let Some(k) = known.get_mut(&f.ip) {
                    k.misses = 0;
                    k.seen = f.clone();
                } else if let Some(k) = known.values_mut().find(|k| same_device(&k.seen, f)) {
                    k.misses = 0;
                } else {
                    fresh.push(f);
                }
            }
            let n_new = fresh.len();
            let mut new_i = 0;
            for f in fresh {
                let Some(cred) = creds.get(f.credential).cloned() else { continue };
                let mut tags = d.tags.clone();
                tags.push(format!("autodiscovery_subnet:{subnet}"));
                let spec = DeviceSpec {
                    ip: f.ip,
                    port: settings.port,
                    credentials: cred,
                    tags,
                    interval,
                    profile: None,
                    timeout: settings.timeout,
                    retries: defaults.3,
                    oid_batch_size: defaults.0,
                    bulk_max_repetitions: defaults.1,
                    max_in_flight: defaults.2,
                };
                let stop = CancellationToken::new();
                p.spawn_device(spec, spread(new_i, n_new, interval), stop.clone(), &mut devices);
                new_i += 1;
                known.insert(
                    f.ip,
                    Known {
                        stop,
                        misses: 0,
                        seen: f.clone(),
                    },
                );
            }
            known.retain(|_, k| {
                let keep = k.misses < d.discovery_allowed_failures;
                if !keep {
                    k.stop.cancel();
                }
                keep
            });
            while devices.try_join_next().is_some() {}
            comp.success();
            comp.set_message(format!(
                "{} devices polled; last scan: {}/{total} addresses answered",
                known.len(),
                found.len()
            ));
        }
        devices.shutdown().await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(ip: &str, name: &str, booted: f64) -> Found {
        Found {
            ip: ip.parse().unwrap(),
            credential: 0,
            sys_object_id: "1.3.6.1.4.1.9.1.617".parse().ok(),
            sys_name: name.into(),
            sys_descr: "Cisco IOS".into(),
            booted,
        }
    }

    #[test]
    fn one_device_on_several_addresses_is_kept_once_at_its_lowest() {
        let out = dedup(vec![
            f("10.0.0.9", "sw1", 1000.0),
            f("10.0.0.2", "sw1", 1003.0),
            f("10.0.0.3", "sw2", 1000.0),
            // Same name but booted at another time: another device (a cloned config).
            f("10.0.0.4", "sw1", 5000.0),
            // No sysName: never merged.
            f("10.0.0.5", "", 1000.0),
            f("10.0.0.6", "", 1000.0),
        ]);
        let ips: Vec<String> = out.iter().map(|f| f.ip.to_string()).collect();
        assert_eq!(
            ips,
            ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
        );
    }
}

//! One device's poll: identify it (sysObjectID, sysUpTime, sysName), select its profile, fetch
//! the profile's scalars and columns, and turn the values into metric records with rates.
//!
//! The decisions are [`DeviceState`] methods without IO (`identify`, `report`), so they are
//! unit-tested with fabricated values; [`poll_once`] only asks the session and passes answers on.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::{MetricRecord, MetricType};
use crate::profiles::{Evaluation, MetricKind, Plan, Profile, ProfileStore, Sample};
use crate::proto::snmp::{Oid, Value, VarBind};

use super::counters::{Counters, NoRate};
use super::session::{Session, SnmpError};

/// sysDescr.0, sysObjectID.0, sysUpTime.0, sysName.0.
pub const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
pub const SYS_OBJECT_ID: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 2, 0];
pub const SYS_UPTIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
pub const SYS_NAME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 5, 0];

/// The fixed facts of a polled device, after config and discovery.
#[derive(Clone, Debug)]
pub struct DeviceIdentity {
    pub ip: IpAddr,
    /// Tags on every metric of the device: global tags, `snmp_device`, `device_namespace`, the
    /// device's tags (and `autodiscovery_subnet` for discovered ones).
    pub tags: Vec<String>,
    /// `profile:` from the config: used instead of matching sysObjectID.
    pub profile: Option<String>,
}

/// What the identifying GET answered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    pub sys_object_id: Option<Oid>,
    pub uptime: Option<u32>,
    pub sys_name: Option<String>,
}

impl Identity {
    pub fn oids() -> Vec<Oid> {
        [SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME]
            .iter()
            .filter_map(|a| Oid::from_arcs(a).ok())
            .collect()
    }

    pub fn from_varbinds(vbs: &[VarBind]) -> Identity {
        let mut id = Identity::default();
        for vb in vbs {
            match (vb.oid.arcs(), &vb.value) {
                (a, Value::Oid(o)) if a == SYS_OBJECT_ID => id.sys_object_id = Some(o.clone()),
                (a, Value::TimeTicks(t)) if a == SYS_UPTIME => id.uptime = Some(*t),
                (a, Value::OctetString(s)) if a == SYS_NAME => {
                    let n = String::from_utf8_lossy(s).trim().to_string();
                    if !n.is_empty() {
                        id.sys_name = Some(n);
                    }
                }
                _ => {}
            }
        }
        id
    }
}

/// What one poll produced, for status and telemetry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PollSummary {
    pub profile: String,
    pub values: usize,
    pub metrics: usize,
    pub interfaces: usize,
    /// Counter samples that gave no rate this time (first poll, reset).
    pub skipped: usize,
    pub rebooted: bool,
}

/// Why a poll failed.
#[derive(Debug)]
pub enum PollError {
    /// The identifying GET failed: the device is unreachable with these credentials.
    NoAnswer(SnmpError),
    /// The device answered the identifying GET, then fetching the profile's values failed.
    Fetch(SnmpError),
    /// The device answered but no profile applies (no sysObjectID and no `profile:`, or a
    /// `profile:` that does not exist).
    NoProfile(String),
}

impl std::fmt::Display for PollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PollError::NoAnswer(e) => write!(f, "{e}"),
            PollError::Fetch(e) => write!(f, "answered, then: {e}"),
            PollError::NoProfile(m) => write!(f, "{m}"),
        }
    }
}

impl PollError {
    pub fn reason(&self) -> &'static str {
        match self {
            PollError::NoAnswer(e) | PollError::Fetch(e) => e.reason(),
            PollError::NoProfile(_) => "no_profile",
        }
    }
}

/// A device's memory between polls.
pub struct DeviceState {
    pub id: DeviceIdentity,
    profile: Option<(Arc<Profile>, Plan)>,
    sys_object_id: Option<Oid>,
    counters: Counters,
    /// The last sysUpTime and when it was read.
    last_uptime: Option<(u32, Duration)>,
    last_boots: Option<u32>,
    /// The sysName learned by polling.
    pub sys_name: Option<String>,
    /// Scalars and columns of the plan the device did not have at the last full poll: left out
    /// of the polls in between (agents are slowest on what they lack; Datadog's Agent drops
    /// them too), asked again every [`FULL_POLL_EVERY`] polls and after a reboot.
    absent: HashSet<Oid>,
    polls_since_full: u32,
    /// The device-level tags of the last report (profile, vendor, sysName, …), so the
    /// reachability records of a failed poll carry the same tags as those of a good one.
    last_tags: Option<Vec<String>>,
}

/// Every this many polls the whole plan is asked again, absent OIDs included.
pub const FULL_POLL_EVERY: u32 = 10;

impl DeviceState {
    pub fn new(id: DeviceIdentity) -> DeviceState {
        DeviceState {
            id,
            profile: None,
            sys_object_id: None,
            counters: Counters::new(),
            last_uptime: None,
            last_boots: None,
            sys_name: None,
            absent: HashSet::new(),
            polls_since_full: 0,
            last_tags: None,
        }
    }

    /// Takes in the identifying answer: selects the profile (again when sysObjectID changed)
    /// and notices a reboot (sysUpTime went backwards, or snmpEngineBoots changed), after which
    /// no rate is computed across it. Returns whether the device rebooted.
    pub fn identify(
        &mut self,
        ident: &Identity,
        boots: Option<u32>,
        at: Duration,
        store: &ProfileStore,
    ) -> Result<bool, PollError> {
        if let Some(n) = &ident.sys_name {
            self.sys_name = Some(n.clone());
        }
        let mut rebooted = false;
        if let (Some((prev, then)), Some(now)) = (self.last_uptime, ident.uptime) {
            rebooted = uptime_fell(prev, now, at.saturating_sub(then));
        }
        if let (Some(prev), Some(now)) = (self.last_boots, boots) {
            rebooted |= prev != now;
        }
        if let Some(u) = ident.uptime {
            self.last_uptime = Some((u, at));
        }
        if boots.is_some() {
            self.last_boots = boots;
        }
        if rebooted {
            self.counters.clear();
            self.absent.clear();
        }
        let changed = self.sys_object_id != ident.sys_object_id;
        if self.profile.is_none() || changed {
            let p = match (&self.id.profile, &ident.sys_object_id) {
                (Some(name), _) => store.get(name).ok_or_else(|| {
                    PollError::NoProfile(format!("profile `{name}` is not loaded"))
                })?,
                (None, Some(oid)) => store.select(oid).ok_or_else(|| {
                    PollError::NoProfile(format!("no profile matches sysObjectID {oid}"))
                })?,
                (None, None) => {
                    return Err(PollError::NoProfile(
                        "the device did not return sysObjectID.0; set `profile:` for it".into(),
                    ))
                }
            };
            if changed {
                self.counters.clear();
            }
            self.sys_object_id = ident.sys_object_id.clone();
            self.absent.clear();
            self.polls_since_full = 0;
            let plan = p.plan();
            self.profile = Some((p, plan));
        }
        Ok(rebooted)
    }

    pub fn profile(&self) -> Option<&Arc<Profile>> {
        self.profile.as_ref().map(|(p, _)| p)
    }

    pub fn plan(&self) -> Option<&Plan> {
        self.profile.as_ref().map(|(_, p)| p)
    }

    /// What to ask this poll: the plan without what the device lacked at the last full poll,
    /// or the whole plan when a full poll is due. Returns whether this is a full poll.
    pub fn next_fetch(&mut self) -> (Plan, bool) {
        let plan = self.plan().cloned().unwrap_or_default();
        let full = self.absent.is_empty() || self.polls_since_full >= FULL_POLL_EVERY;
        if full {
            // What was absent stays left out until this full poll succeeds (note_absent): if
            // the full poll is what fails, the next polls are lean again.
            self.polls_since_full = 0;
            return (plan, true);
        }
        self.polls_since_full += 1;
        let keep = |o: &Oid| !self.absent.contains(o);
        let scalars = plan.scalars.iter().filter(|o| keep(o)).cloned().collect();
        let columns = plan.columns.iter().filter(|o| keep(o)).cloned().collect();
        (Plan { scalars, columns }, false)
    }

    /// After a full poll: remembers the scalars and columns that returned nothing.
    pub fn note_absent(&mut self, plan: &Plan, values: &BTreeMap<Oid, Value>) {
        self.polls_since_full = 1;
        self.absent.clear();
        for s in &plan.scalars {
            if !values.contains_key(s) {
                self.absent.insert(s.clone());
            }
        }
        for c in &plan.columns {
            let has = values
                .range(c.clone()..)
                .next()
                .is_some_and(|(o, _)| o.starts_with(c));
            if !has {
                self.absent.insert(c.clone());
            }
        }
    }

    /// The metric records of one poll. `at` is the poll's monotonic time (rates use the real
    /// spacing of polls); `ts` its Unix time; `host` the `host` resource.
    pub fn report(
        &mut self,
        eval: &Evaluation,
        ident: &Identity,
        at: Duration,
        ts: i64,
        host: &str,
        out: &mut Vec<MetricRecord>,
    ) -> PollSummary {
        let profile_name = self.profile().map(|p| p.name.clone()).unwrap_or_default();
        let mut tags = self.id.tags.clone();
        push_unique(&mut tags, format!("snmp_profile:{profile_name}"));
        if let Some(v) = self.profile().and_then(|p| p.vendor.clone()) {
            push_unique(&mut tags, format!("device_vendor:{v}"));
        }
        for t in &eval.device_tags {
            push_unique(&mut tags, t.clone());
        }
        self.last_tags = Some(tags.clone());
        let start = out.len();
        let gauge = |name: &str, value: f64, tags: Vec<String>| {
            crate::checks::gauge(name, value, tags, ts, host)
        };
        out.push(gauge("snmp.device.reachable", 1.0, tags.clone()));
        out.push(gauge("snmp.device.unreachable", 0.0, tags.clone()));
        out.push(gauge("snmp.devices_monitored", 1.0, tags.clone()));
        if let Some(u) = ident.uptime {
            if !eval
                .samples
                .iter()
                .any(|s| s.name == "snmp.sysUpTimeInstance")
            {
                out.push(gauge("snmp.sysUpTimeInstance", f64::from(u), tags.clone()));
            }
        }
        self.counters.begin();
        let mut skipped = 0;
        for s in &eval.samples {
            let mut t = tags.clone();
            for x in &s.tags {
                push_unique(&mut t, x.clone());
            }
            match s.kind {
                MetricKind::Gauge => {
                    // Gauges come with their scale applied (profiles/mod.rs).
                    out.push(gauge(&s.name, s.value.as_f64(), t));
                }
                MetricKind::Rate => match self.rate(s, &t, at) {
                    Ok(v) => out.push(gauge(&s.name, v, t)),
                    Err(_) => skipped += 1,
                },
                MetricKind::MonotonicCount | MetricKind::MonotonicCountAndRate => {
                    match self.counters.delta((&s.name, &t), s.value, at) {
                        Ok((d, secs)) => {
                            if s.kind == MetricKind::MonotonicCountAndRate {
                                out.push(gauge(
                                    &format!("{}.rate", s.name),
                                    d * s.scale / secs,
                                    t.clone(),
                                ));
                            }
                            out.push(MetricRecord {
                                metric: s.name.clone(),
                                kind: MetricType::Count,
                                timestamp: ts,
                                value: d * s.scale,
                                tags: t,
                                host: Some(host.to_string()),
                                interval: Some(secs.round().max(1.0) as u64),
                            });
                        }
                        Err(_) => skipped += 1,
                    }
                }
            }
        }
        self.counters.sweep();
        PollSummary {
            profile: profile_name,
            values: 0,
            metrics: out.len() - start,
            interfaces: eval.interfaces.len(),
            skipped,
            rebooted: false,
        }
    }

    fn rate(&mut self, s: &Sample, tags: &[String], at: Duration) -> Result<f64, NoRate> {
        self.counters.rate((&s.name, tags), s.value, s.scale, at)
    }

    /// The reachability records of a poll that failed: `answered` says whether the device
    /// answered its identifying GET (reachable, the rest of the poll failed) or not.
    pub fn reachability(&self, answered: bool, ts: i64, host: &str) -> Vec<MetricRecord> {
        let tags = self.last_tags.clone().unwrap_or_else(|| {
            let mut t = self.id.tags.clone();
            if let Some(p) = self.profile() {
                push_unique(&mut t, format!("snmp_profile:{}", p.name));
            }
            t
        });
        let up = if answered { 1.0 } else { 0.0 };
        [
            ("snmp.device.reachable", up),
            ("snmp.device.unreachable", 1.0 - up),
            ("snmp.devices_monitored", 1.0),
        ]
        .into_iter()
        .map(|(m, v)| crate::checks::gauge(m, v, tags.clone(), ts, host))
        .collect()
    }
}

/// Whether sysUpTime fell from `prev` to `now` because the agent restarted, `elapsed` after the
/// previous reading. TimeTicks wrap after 497 days: a fall is a wrap only when the previous value
/// plus the time that passed went over 2^32 and lands near `now` (within 10 s plus 1 % of the
/// elapsed time, for clock drift and the time a poll takes); any other fall is a restart.
pub fn uptime_fell(prev: u32, now: u32, elapsed: Duration) -> bool {
    if now >= prev {
        return false;
    }
    let ticks = (elapsed.as_millis() / 10) as u64;
    let expected = u64::from(prev) + ticks;
    if expected < 1 << 32 {
        return true;
    }
    let landed = (expected - (1 << 32)) as i64;
    let slack = 1000 + ticks as i64 / 100;
    (landed - i64::from(now)).abs() > slack
}

fn push_unique(tags: &mut Vec<String>, t: String) {
    if !tags.contains(&t) {
        tags.push(t);
    }
}

/// One poll over the network: identify, fetch the plan, evaluate, report.
pub async fn poll_once(
    session: &Session,
    state: &mut DeviceState,
    store: &ProfileStore,
    epoch: Instant,
    host: &str,
    out: &mut Vec<MetricRecord>,
) -> Result<PollSummary, PollError> {
    let answer = session
        .get(&Identity::oids())
        .await
        .map_err(PollError::NoAnswer)?;
    let ident = Identity::from_varbinds(&answer);
    let boots = session.engine().map(|(_, boots, _)| boots);
    let rebooted = state.identify(&ident, boots, epoch.elapsed(), store)?;
    let ts = chrono::Utc::now().timestamp();
    let (plan, full) = state.next_fetch();
    let mut values: BTreeMap<Oid, Value> = BTreeMap::new();
    let mut fetched = 0;
    // The identifying answer already holds sysObjectID, sysUpTime and sysName: not asked twice.
    let scalars: Vec<Oid> = plan
        .scalars
        .iter()
        .filter(|o| !answer.iter().any(|vb| &vb.oid == *o))
        .cloned()
        .collect();
    for vb in answer {
        keep(&mut values, vb, &mut fetched);
    }
    if !scalars.is_empty() {
        for vb in session.get(&scalars).await.map_err(PollError::Fetch)? {
            keep(&mut values, vb, &mut fetched);
        }
    }
    if !plan.columns.is_empty() {
        for vb in session
            .walk(&plan.columns)
            .await
            .map_err(PollError::Fetch)?
        {
            keep(&mut values, vb, &mut fetched);
        }
    }
    if full {
        state.note_absent(&plan, &values);
    }
    let Some(profile) = state.profile().cloned() else {
        return Err(PollError::NoProfile("no profile".into()));
    };
    // Counters were read just now: rates use this moment, not the poll's start (a slow walk or
    // a v3 resync would otherwise skew them).
    let at = epoch.elapsed();
    let eval = profile.evaluate(&values);
    let mut summary = state.report(&eval, &ident, at, ts, host, out);
    summary.values = fetched;
    summary.rebooted = rebooted;
    Ok(summary)
}

fn keep(values: &mut BTreeMap<Oid, Value>, vb: VarBind, n: &mut usize) {
    match vb.value {
        Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView | Value::Null => {}
        v => {
            *n += 1;
            values.insert(vb.oid, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn state() -> DeviceState {
        DeviceState::new(DeviceIdentity {
            ip: "10.0.0.1".parse().unwrap(),
            tags: vec![
                "snmp_device:10.0.0.1".into(),
                "device_namespace:default".into(),
            ],
            profile: None,
        })
    }

    fn ident(sys_object_id: &str, uptime: u32) -> Identity {
        Identity {
            sys_object_id: Some(oid(sys_object_id)),
            uptime: Some(uptime),
            sys_name: Some("core-sw01".into()),
        }
    }

    /// A switch with one interface whose octet counter reads `octets`.
    fn values(octets: u64) -> BTreeMap<Oid, Value> {
        let mut v = BTreeMap::new();
        v.insert(
            oid("1.3.6.1.2.1.31.1.1.1.1.7"),
            Value::OctetString(b"Gi0/7".to_vec()),
        );
        v.insert(
            oid("1.3.6.1.2.1.31.1.1.1.18.7"),
            Value::OctetString(b"uplink".to_vec()),
        );
        v.insert(oid("1.3.6.1.2.1.31.1.1.1.6.7"), Value::Counter64(octets));
        v.insert(oid("1.3.6.1.2.1.31.1.1.1.15.7"), Value::Gauge32(1000));
        v.insert(oid("1.3.6.1.2.1.2.2.1.8.7"), Value::Integer(1));
        v
    }

    fn find<'a>(out: &'a [MetricRecord], name: &str) -> Option<&'a MetricRecord> {
        out.iter().find(|m| m.metric == name)
    }

    #[test]
    fn octets_become_a_rate_and_a_count_over_the_real_poll_spacing() {
        let store = ProfileStore::builtin();
        let mut st = state();
        let c3560 = "1.3.6.1.4.1.9.1.617";
        assert!(!st
            .identify(&ident(c3560, 1000), None, Duration::ZERO, &store)
            .unwrap());
        assert_eq!(st.profile().unwrap().name, "cisco-catalyst");
        let p = st.profile().unwrap().clone();
        let mut out = Vec::new();
        let sum = st.report(
            &p.evaluate(&values(1_000)),
            &ident(c3560, 1000),
            Duration::from_secs(10),
            1,
            "nb",
            &mut out,
        );
        assert!(
            find(&out, "snmp.ifHCInOctets.rate").is_none(),
            "a rate needs two polls"
        );
        assert!(sum.skipped > 0);
        let up = find(&out, "snmp.device.reachable").unwrap();
        assert_eq!(up.value, 1.0);
        for t in [
            "snmp_profile:cisco-catalyst",
            "device_vendor:cisco",
            "snmp_device:10.0.0.1",
        ] {
            assert!(up.tags.iter().any(|x| x == t), "{t} not in {:?}", up.tags);
        }
        let oper = find(&out, "snmp.ifOperStatus").unwrap();
        assert!(
            oper.tags.iter().any(|t| t == "interface:Gi0/7"),
            "{:?}",
            oper.tags
        );
        assert!(
            oper.tags.iter().any(|t| t == "interface_alias:uplink"),
            "{:?}",
            oper.tags
        );

        // 75 s later (not the nominal 60): 75,000 more octets.
        out.clear();
        st.identify(&ident(c3560, 8500), None, Duration::ZERO, &store)
            .unwrap();
        st.report(
            &p.evaluate(&values(76_000)),
            &ident(c3560, 8500),
            Duration::from_secs(85),
            2,
            "nb",
            &mut out,
        );
        let rate = find(&out, "snmp.ifHCInOctets.rate").unwrap();
        assert_eq!(rate.value, 1000.0);
        assert_eq!(rate.kind, MetricType::Gauge);
        let count = find(&out, "snmp.ifHCInOctets").unwrap();
        assert_eq!(
            (count.kind, count.value, count.interval),
            (MetricType::Count, 75_000.0, Some(75))
        );
        // 1000 B/s on a 1 Gb/s port: 8000 / 1e9 × 100 percent.
        let bw = find(&out, "snmp.ifBandwidthInUsage.rate").unwrap();
        assert!((bw.value - 0.0008).abs() < 1e-9, "{}", bw.value);
    }

    #[test]
    fn a_reboot_or_another_sys_object_id_forgets_the_counters() {
        let store = ProfileStore::builtin();
        let mut st = state();
        let c3560 = "1.3.6.1.4.1.9.1.617";
        st.identify(&ident(c3560, 50_000), None, Duration::ZERO, &store)
            .unwrap();
        let p = st.profile().unwrap().clone();
        let mut out = Vec::new();
        st.report(
            &p.evaluate(&values(1_000)),
            &ident(c3560, 50_000),
            Duration::from_secs(0),
            1,
            "nb",
            &mut out,
        );
        // sysUpTime went back: rebooted, no rate across it even though the counter grew.
        assert!(st
            .identify(&ident(c3560, 100), None, Duration::ZERO, &store)
            .unwrap());
        out.clear();
        st.report(
            &p.evaluate(&values(2_000)),
            &ident(c3560, 100),
            Duration::from_secs(60),
            2,
            "nb",
            &mut out,
        );
        assert!(find(&out, "snmp.ifHCInOctets.rate").is_none());
        // snmpEngineBoots changing is a reboot too; a TimeTicks wrap is not.
        assert!(!st
            .identify(&ident(c3560, 200), Some(7), Duration::ZERO, &store)
            .unwrap());
        assert!(st
            .identify(&ident(c3560, 300), Some(8), Duration::ZERO, &store)
            .unwrap());
        let mut w = state();
        let t0 = Duration::from_secs(100);
        w.identify(&ident(c3560, u32::MAX - 10), None, t0, &store)
            .unwrap();
        // 0.6 s later: 60 ticks, over the top and landing at 49 (50 read).
        let t1 = t0 + Duration::from_millis(600);
        assert!(
            !w.identify(&ident(c3560, 50), None, t1, &store).unwrap(),
            "497-day wrap"
        );
        // A Juniper answers now: another profile.
        st.identify(
            &ident("1.3.6.1.4.1.2636.1.1.1.2.21", 400),
            Some(8),
            Duration::ZERO,
            &store,
        )
        .unwrap();
        assert_eq!(st.profile().unwrap().name, "juniper-mx");
    }

    #[test]
    fn sys_up_time_falling_is_a_restart_unless_it_wrapped_on_time() {
        let s = Duration::from_secs;
        assert!(!uptime_fell(100, 6100, s(60)), "went up");
        assert!(uptime_fell(50_000, 100, s(60)), "fell well before the top");
        // 248 days up (over 2^31 ticks), then a restart: still a restart.
        assert!(uptime_fell(1 << 31, 500, s(60)));
        // Near the top, 60 s later, landing where 60 s of ticks say: a wrap.
        assert!(!uptime_fell(u32::MAX - 1000, 5000, s(60)));
        // Near the top, but landing far from where the elapsed time says: a restart.
        assert!(uptime_fell(u32::MAX - 1000, 3_000_000, s(60)));
    }

    #[test]
    fn without_sys_object_id_a_configured_profile_is_needed() {
        let store = ProfileStore::builtin();
        let mut st = state();
        let none = Identity::default();
        let e = st
            .identify(&none, None, Duration::ZERO, &store)
            .unwrap_err();
        assert_eq!(e.reason(), "no_profile");
        let mut named = DeviceState::new(DeviceIdentity {
            profile: Some("juniper-srx".into()),
            ..state().id
        });
        named.identify(&none, None, Duration::ZERO, &store).unwrap();
        assert_eq!(named.profile().unwrap().name, "juniper-srx");
        let mut missing = DeviceState::new(DeviceIdentity {
            profile: Some("nope".into()),
            ..state().id
        });
        assert!(missing
            .identify(&none, None, Duration::ZERO, &store)
            .unwrap_err()
            .to_string()
            .contains("`nope`"));
    }

    #[test]
    fn what_a_device_lacks_is_asked_again_only_every_tenth_poll() {
        let store = ProfileStore::builtin();
        let mut st = state();
        st.identify(
            &ident("1.3.6.1.4.1.9.1.617", 1),
            None,
            Duration::ZERO,
            &store,
        )
        .unwrap();
        let (plan, full) = st.next_fetch();
        assert!(full);
        st.note_absent(&plan, &values(1));
        let (lean, full) = st.next_fetch();
        assert!(!full);
        assert!(
            lean.columns.contains(&oid("1.3.6.1.2.1.31.1.1.1.6")),
            "present column kept"
        );
        assert!(
            lean.columns.len() < plan.columns.len(),
            "absent columns dropped"
        );
        for _ in 2..FULL_POLL_EVERY {
            assert!(!st.next_fetch().1);
        }
        assert!(st.next_fetch().1, "every tenth poll asks everything");
        // That full poll failed (no note_absent): the next polls are lean again.
        assert!(!st.next_fetch().1);
    }
}

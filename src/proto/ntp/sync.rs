//! Tracking the upstreams. nocbox serves the local clock (which the host, or AWS on Fargate,
//! keeps on the Amazon Time Sync Service) and never steers it; polling the upstreams tells it
//! how far the local clock is from them and how good they are, which becomes what the replies
//! advertise: stratum = upstream + 1, reference id = the upstream's address, root delay and
//! dispersion grown from the upstream's by what we measured, increasing at 15 ppm between
//! samples. With no acceptable sample for `unsynchronised_after`, replies say so (leap
//! indicator 3, stratum 16) and the NTP service reports itself out of service.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ntp_proto::{NtpDuration, NtpLeapIndicator, NtpTimestamp, ReferenceId, SystemSnapshot};

/// Dispersion growth between samples: the frequency tolerance RFC 5905 assumes (15 ppm).
const PHI: f64 = 15e-6;

/// One exchange with an upstream, as measured (RFC 5905 §8: t1 our send time, t2 the
/// upstream's receive time, t3 its transmit time, t4 our receive time).
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub upstream: IpAddr,
    /// Upstream clock minus local clock, seconds.
    pub offset: f64,
    /// Round-trip delay, seconds.
    pub delay: f64,
    pub stratum: u8,
    pub leap: NtpLeapIndicator,
    pub root_delay: f64,
    pub root_dispersion: f64,
    /// When the sample was taken (monotonic), and the same moment as an NTP timestamp.
    pub at: Instant,
    pub at_ntp: NtpTimestamp,
}

impl Sample {
    /// Offset and delay from the four timestamps.
    #[allow(clippy::too_many_arguments)]
    pub fn from_exchange(
        upstream: IpAddr,
        t1: NtpTimestamp,
        t2: NtpTimestamp,
        t3: NtpTimestamp,
        t4: NtpTimestamp,
        stratum: u8,
        leap: NtpLeapIndicator,
        root_delay: NtpDuration,
        root_dispersion: NtpDuration,
        at: Instant,
    ) -> Sample {
        let offset = ((t2 - t1) + (t3 - t4)).to_seconds() / 2.0;
        let delay = ((t4 - t1) - (t3 - t2)).to_seconds().max(0.0);
        Sample {
            upstream,
            offset,
            delay,
            stratum,
            leap,
            root_delay: root_delay.to_seconds(),
            root_dispersion: root_dispersion.to_seconds(),
            at,
            at_ntp: t4,
        }
    }

    /// Root distance of our clock through this upstream: what a client adds up to judge us.
    fn distance(&self) -> f64 {
        (self.root_delay + self.delay) / 2.0 + self.dispersion()
    }

    /// Our root dispersion at the time of the sample: the upstream's, plus how far our clock
    /// was from it.
    fn dispersion(&self) -> f64 {
        self.root_dispersion + self.offset.abs()
    }
}

/// Why a sample was not used (a counter label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Stratum 0: a kiss-o'-death (RATE, DENY...).
    Kiss,
    /// The upstream says it is not synchronised (LI 3 or stratum 16).
    UpstreamUnsynchronised,
    /// Our clock is further from the upstream than `max_offset`.
    Offset,
    /// Root distance through this upstream above 1.5 s (RFC 5905's MAXDIST): too far to be
    /// worth advertising.
    Distance,
}

/// RFC 5905's MAXDIST: a source further than this (root delay / 2 + root dispersion) is not
/// used; it also keeps every value inside the 16.16 fields of the header.
const MAX_DISTANCE: f64 = 1.5;

impl Rejected {
    pub fn reason(self) -> &'static str {
        match self {
            Rejected::Kiss => "kiss_of_death",
            Rejected::UpstreamUnsynchronised => "upstream_unsynchronised",
            Rejected::Offset => "offset_too_large",
            Rejected::Distance => "distance_too_large",
        }
    }
}

/// What the replies advertise right now.
#[derive(Clone, Copy, Debug)]
pub struct TimeState {
    pub synchronised: bool,
    pub snapshot: SystemSnapshot,
    /// The reference id on the wire (the snapshot's, or 0 while unsynchronised).
    pub reference_id: [u8; 4],
    /// The NTP timestamp of the last accepted sample (the reply's reference timestamp), or
    /// None while unsynchronised.
    pub reference_time: Option<NtpTimestamp>,
    /// The sample in use.
    pub source: Option<Sample>,
    /// When this state stops being true by itself (the sample in use goes stale): the server
    /// answers as unsynchronised from then on even if no newer state arrives.
    pub valid_until: Option<Instant>,
}

impl TimeState {
    pub fn unsynchronised() -> TimeState {
        let mut snapshot = SystemSnapshot {
            stratum: 16,
            ..Default::default()
        };
        snapshot.time_snapshot.leap_indicator = NtpLeapIndicator::Unsynchronized;
        TimeState {
            synchronised: false,
            snapshot,
            reference_id: [0; 4],
            reference_time: None,
            source: None,
            valid_until: None,
        }
    }
}

#[derive(Debug)]
pub struct Tracker {
    unsynchronised_after: Duration,
    max_offset: f64,
    latest: Vec<Sample>,
}

impl Tracker {
    pub fn new(unsynchronised_after: Duration, max_offset: Duration) -> Tracker {
        Tracker {
            unsynchronised_after,
            max_offset: max_offset.as_secs_f64(),
            latest: Vec::new(),
        }
    }

    /// Takes a sample, or says why not. The newest accepted sample per upstream is kept.
    pub fn record(&mut self, s: Sample) -> Result<(), Rejected> {
        let verdict = Self::judge(&s, self.max_offset);
        // Whatever the verdict, this upstream's older sample no longer describes it; and an
        // offset beyond bounds says our own clock is off, whichever upstream is asked.
        match verdict {
            Err(Rejected::Offset) => self.latest.clear(),
            _ => self.latest.retain(|o| o.upstream != s.upstream),
        }
        // Samples that went stale are dropped, so upstreams that change address (a pool name)
        // cannot grow the list.
        let horizon = self.unsynchronised_after;
        self.latest
            .retain(|o| s.at.saturating_duration_since(o.at) < horizon);
        if verdict.is_ok() {
            self.latest.push(s);
        }
        verdict
    }

    fn judge(s: &Sample, max_offset: f64) -> Result<(), Rejected> {
        if s.stratum == 0 {
            return Err(Rejected::Kiss);
        }
        // Stratum 15 upstream would make us 16, which means "unsynchronised" on the wire.
        if s.stratum >= 15 || !s.leap.is_synchronized() || s.leap == NtpLeapIndicator::Unknown {
            return Err(Rejected::UpstreamUnsynchronised);
        }
        if s.offset.is_nan() || s.offset.abs() > max_offset {
            return Err(Rejected::Offset);
        }
        if s.distance().is_nan() || s.distance() > MAX_DISTANCE {
            return Err(Rejected::Distance);
        }
        Ok(())
    }

    fn fresh(&self, now: Instant) -> impl Iterator<Item = &Sample> {
        self.latest
            .iter()
            .filter(move |s| now.saturating_duration_since(s.at) < self.unsynchronised_after)
    }

    /// The best fresh sample: the lowest root distance.
    pub fn best(&self, now: Instant) -> Option<Sample> {
        self.fresh(now)
            .min_by(|a, b| a.distance().total_cmp(&b.distance()))
            .copied()
    }

    /// When the state will change by itself (the best sample going stale), if ever.
    pub fn next_expiry(&self, now: Instant) -> Option<Instant> {
        self.fresh(now)
            .map(|s| s.at + self.unsynchronised_after)
            .min()
    }

    /// What to advertise at `now`.
    pub fn state(&self, now: Instant) -> TimeState {
        let Some(s) = self.best(now) else {
            return TimeState::unsynchronised();
        };
        let mut snapshot = SystemSnapshot {
            stratum: s.stratum + 1,
            reference_id: ReferenceId::from_ip(s.upstream),
            ..Default::default()
        };
        let t = &mut snapshot.time_snapshot;
        t.root_delay = NtpDuration::from_seconds(s.root_delay + s.delay);
        t.leap_indicator = NtpLeapIndicator::NoWarning;
        // ntp-proto computes dispersion as sqrt(base + linear·t + quadratic·t²) from the base
        // time; (D + φt)² grows it by 15 ppm of the time since the sample.
        let d = s.dispersion();
        t.root_variance_base_time = s.at_ntp;
        t.root_variance_base = d * d;
        t.root_variance_linear = 2.0 * d * PHI;
        t.root_variance_quadratic = PHI * PHI;
        t.root_variance_cubic = 0.0;
        let reference_id = match s.upstream {
            IpAddr::V4(v4) => v4.octets(),
            IpAddr::V6(v6) => ipv6_refid(v6),
        };
        TimeState {
            synchronised: true,
            snapshot,
            reference_id,
            reference_time: Some(s.at_ntp),
            source: Some(s),
            valid_until: Some(s.at + self.unsynchronised_after),
        }
    }
}

/// The reference id of an IPv6 upstream: the first 4 bytes of the MD5 of its address
/// (RFC 5905 §7.3), as ntp-proto's `ReferenceId::from_ip` computes it.
fn ipv6_refid(ip: std::net::Ipv6Addr) -> [u8; 4] {
    use md5::{Digest, Md5};
    let d = Md5::digest(ip.octets());
    [d[0], d[1], d[2], d[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: u32, millis: u32) -> NtpTimestamp {
        NtpTimestamp::from_seconds_nanos_since_ntp_era(secs, millis * 1_000_000)
    }

    fn sample(upstream: &str, offset_ms: u32, delay_ms: u32, at: Instant) -> Sample {
        // t1 = 100.000; the upstream is `offset` ahead; the path is symmetric.
        let half = delay_ms / 2;
        Sample::from_exchange(
            upstream.parse().unwrap(),
            ts(100, 0),
            ts(100, half + offset_ms),
            ts(100, half + offset_ms),
            ts(100, delay_ms),
            3,
            NtpLeapIndicator::NoWarning,
            NtpDuration::from_seconds(0.001),
            NtpDuration::from_seconds(0.002),
            at,
        )
    }

    #[test]
    fn offset_and_delay_come_from_the_four_timestamps() {
        let s = sample("169.254.169.123", 5, 10, Instant::now());
        assert!((s.offset - 0.005).abs() < 1e-6, "{}", s.offset);
        assert!((s.delay - 0.010).abs() < 1e-6, "{}", s.delay);
    }

    #[test]
    fn replies_advertise_upstream_plus_one_and_grow_dispersion() {
        let now = Instant::now();
        let mut t = Tracker::new(Duration::from_secs(300), Duration::from_secs(1));
        assert!(!t.state(now).synchronised);
        t.record(sample("169.254.169.123", 0, 10, now)).unwrap();
        let st = t.state(now);
        assert!(st.synchronised);
        assert_eq!(st.snapshot.stratum, 4);
        assert_eq!(st.reference_id, [169, 254, 169, 123]);
        assert_eq!(
            st.snapshot.time_snapshot.leap_indicator,
            NtpLeapIndicator::NoWarning
        );
        // Root delay = upstream's 1 ms + our 10 ms round trip.
        let rd = st.snapshot.time_snapshot.root_delay.to_seconds();
        assert!((rd - 0.011).abs() < 1e-6, "{rd}");
        // Dispersion = upstream's 2 ms at the sample, + 15 ppm of 1000 s later.
        let at = st.reference_time.unwrap();
        let d0 = st.snapshot.time_snapshot.root_dispersion(at).to_seconds();
        let d1 = st
            .snapshot
            .time_snapshot
            .root_dispersion(at + NtpDuration::from_seconds(1000.0))
            .to_seconds();
        assert!((d0 - 0.002).abs() < 1e-6, "{d0}");
        assert!((d1 - 0.017).abs() < 1e-5, "{d1}");
    }

    #[test]
    fn stale_samples_make_the_service_unsynchronised() {
        let now = Instant::now();
        let mut t = Tracker::new(Duration::from_secs(60), Duration::from_secs(1));
        t.record(sample("10.0.0.1", 0, 1, now)).unwrap();
        assert_eq!(t.next_expiry(now), Some(now + Duration::from_secs(60)));
        let later = now + Duration::from_secs(61);
        let st = t.state(later);
        assert!(!st.synchronised);
        assert_eq!(st.snapshot.stratum, 16);
        assert_eq!(st.reference_id, [0; 4]);
        assert!(!st.snapshot.time_snapshot.leap_indicator.is_synchronized());
    }

    #[test]
    fn bad_samples_are_refused_with_a_reason() {
        let now = Instant::now();
        let mut t = Tracker::new(Duration::from_secs(60), Duration::from_millis(100));
        let mut kiss = sample("10.0.0.1", 0, 1, now);
        kiss.stratum = 0;
        assert_eq!(t.record(kiss), Err(Rejected::Kiss));
        let mut alarm = sample("10.0.0.1", 0, 1, now);
        alarm.leap = NtpLeapIndicator::Unsynchronized;
        assert_eq!(t.record(alarm), Err(Rejected::UpstreamUnsynchronised));
        let mut deep = sample("10.0.0.1", 0, 1, now);
        deep.stratum = 15;
        assert_eq!(t.record(deep), Err(Rejected::UpstreamUnsynchronised));
        assert_eq!(
            t.record(sample("10.0.0.1", 500, 1, now)),
            Err(Rejected::Offset)
        );
        assert!(!t.state(now).synchronised);
        let mut far = sample("10.0.0.1", 0, 1, now);
        far.root_dispersion = 2.0;
        assert_eq!(t.record(far), Err(Rejected::Distance));
    }

    #[test]
    fn a_refused_sample_withdraws_the_upstreams_earlier_one_at_once() {
        let now = Instant::now();
        let mut t = Tracker::new(Duration::from_secs(300), Duration::from_millis(100));
        t.record(sample("10.0.0.1", 0, 1, now)).unwrap();
        t.record(sample("10.0.0.2", 0, 1, now)).unwrap();
        assert!(t.state(now).synchronised);
        // 10.0.0.1 now says it is unsynchronised: only 10.0.0.2 remains.
        let mut alarm = sample("10.0.0.1", 0, 1, now);
        alarm.leap = NtpLeapIndicator::Unsynchronized;
        assert!(t.record(alarm).is_err());
        assert_eq!(
            t.state(now).source.unwrap().upstream.to_string(),
            "10.0.0.2"
        );
        // Our clock is measured 500 ms off: no sample is trusted any more.
        assert_eq!(
            t.record(sample("10.0.0.2", 500, 1, now)),
            Err(Rejected::Offset)
        );
        assert!(!t.state(now).synchronised);
    }

    #[test]
    fn the_closest_upstream_wins_and_ipv6_gets_a_hashed_refid() {
        let now = Instant::now();
        let mut t = Tracker::new(Duration::from_secs(60), Duration::from_secs(1));
        t.record(sample("10.0.0.1", 0, 40, now)).unwrap();
        t.record(sample("fd00:ec2::123", 0, 2, now)).unwrap();
        let st = t.state(now);
        assert_eq!(
            st.source.unwrap().upstream,
            "fd00:ec2::123".parse::<IpAddr>().unwrap()
        );
        assert_ne!(st.reference_id, [0; 4]);
    }
}

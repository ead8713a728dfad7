//! Counters turned into per-second rates and deltas at the poller (sans-IO).
//!
//! **Owns:** the previous reading of every counter series of one device, and the rules for a
//! delta: the real time between the two polls (not the nominal interval), one 32-bit wrap,
//! resets, reboots. **Must not:** read the clock (the poll's time is passed in).
//!
//! Rules (reference: snmp.md §5; Datadog's Agent drops negative rates and first samples too):
//! - the first reading of a series gives nothing: a rate needs two;
//! - Counter64 (and plain numbers): a decrease is a reset, the sample is dropped;
//! - Counter32: a decrease is one wrap when the implied delta is under 2^31 (less than half the
//!   range: the counter went round once), else a reset;
//! - a device reboot (sysUpTime backwards, snmpEngineBoots changed) forgets every series
//!   ([`Counters::clear`]): deltas across a reboot are meaningless;
//! - series not seen in a poll are forgotten at its end ([`Counters::sweep`]), so removed
//!   interfaces do not leak;
//! - a series read twice in one poll (rows a profile's tags do not tell apart) gives no value,
//!   not one row's delta against the other's reading.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use crate::profiles::SampleValue;

#[derive(Clone, Copy, Debug)]
struct Last {
    value: SampleValue,
    at: Duration,
    round: u64,
}

/// Why a counter sample gave no value (counted per device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRate {
    /// First reading of the series.
    First,
    /// The counter went down: reset, or a wrap too large to be one.
    Reset,
    /// No time passed between the readings.
    NoTime,
    /// Two rows of one poll made the same series (a profile whose tags do not tell its rows
    /// apart): no value for either rather than one row's delta against the other's reading.
    Ambiguous,
}

/// Previous readings of one device's counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// By a 64-bit hash of the series (name and tags), not the text: a device has a thousand
    /// series or more, and their text would be most of the poller's memory. Two series of one
    /// device colliding is a 1-in-10^13 event.
    last: HashMap<u64, Last>,
    round: u64,
    /// Keys read twice in one round, given no value from then on.
    ambiguous: HashSet<u64>,
}

fn hashed(key: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

const WRAP32: f64 = 4_294_967_296.0;

impl Counters {
    pub fn new() -> Counters {
        Counters::default()
    }

    /// Starts a poll's round of readings.
    pub fn begin(&mut self) {
        self.round += 1;
    }

    /// Forgets the series not read since [`Counters::begin`].
    pub fn sweep(&mut self) {
        let round = self.round;
        self.last.retain(|_, l| l.round == round);
    }

    /// Forgets everything (device rebooted).
    pub fn clear(&mut self) {
        self.last.clear();
        self.ambiguous.clear();
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// The increase of series `key` since its previous reading, and the seconds between them.
    pub fn delta(
        &mut self,
        key: impl Hash,
        value: SampleValue,
        at: Duration,
    ) -> Result<(f64, f64), NoRate> {
        let key = hashed(key);
        let round = self.round;
        if self.ambiguous.contains(&key) {
            return Err(NoRate::Ambiguous);
        }
        let prev = match self.last.get_mut(&key) {
            Some(l) if l.round == round && round != 0 => {
                self.last.remove(&key);
                self.ambiguous.insert(key);
                return Err(NoRate::Ambiguous);
            }
            Some(l) => std::mem::replace(l, Last { value, at, round }),
            None => {
                self.last.insert(key, Last { value, at, round });
                return Err(NoRate::First);
            }
        };
        let secs = at.saturating_sub(prev.at).as_secs_f64();
        if secs <= 0.0 {
            return Err(NoRate::NoTime);
        }
        let d = match (prev.value, value) {
            (SampleValue::Counter32(a), SampleValue::Counter32(b)) => {
                if b >= a {
                    f64::from(b - a)
                } else {
                    let wrapped = WRAP32 - f64::from(a) + f64::from(b);
                    if wrapped < WRAP32 / 2.0 {
                        wrapped
                    } else {
                        return Err(NoRate::Reset);
                    }
                }
            }
            (SampleValue::Counter64(a), SampleValue::Counter64(b)) => match b.checked_sub(a) {
                Some(d) => d as f64,
                None => return Err(NoRate::Reset),
            },
            (a, b) => {
                // Numbers, or a column whose type changed (32 → 64 bit after an agent upgrade):
                // compare as numbers.
                let d = b.as_f64() - a.as_f64();
                if d < 0.0 {
                    return Err(NoRate::Reset);
                }
                d
            }
        };
        Ok((d, secs))
    }

    /// Per-second rate of series `key`, with `scale` applied to the delta.
    pub fn rate(
        &mut self,
        key: impl Hash,
        value: SampleValue,
        scale: f64,
        at: Duration,
    ) -> Result<f64, NoRate> {
        let (d, secs) = self.delta(key, value, at)?;
        Ok(d * scale / secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_rate_uses_the_real_time_between_polls() {
        let mut c = Counters::new();
        c.begin();
        let k = "snmp.ifHCInOctets|interface:Gi0/1";
        assert_eq!(
            c.rate(k, SampleValue::Counter64(1000), 1.0, s(100)),
            Err(NoRate::First)
        );
        c.begin();
        // Polled 75 s later although the interval is 60 s.
        let r = c
            .rate(k, SampleValue::Counter64(1000 + 75 * 400), 1.0, s(175))
            .unwrap();
        assert_eq!(r, 400.0);
        c.begin();
        let r = c
            .rate(k, SampleValue::Counter64(31_000 + 60 * 10), 8.0, s(235))
            .unwrap();
        assert_eq!(r, 80.0, "scale applies to the delta");
    }

    #[test]
    fn counter32_wraps_once_and_a_big_drop_is_a_reset() {
        let mut c = Counters::new();
        let _ = c.rate("a", SampleValue::Counter32(u32::MAX - 99), 1.0, s(0));
        let r = c
            .rate("a", SampleValue::Counter32(900), 1.0, s(10))
            .unwrap();
        assert_eq!(r, 100.0, "100 to the wrap + 900 after it, over 10 s");
        // From 3e9 down to 5: a 1.3e9 wrap delta is plausible (< 2^31).
        let _ = c.rate("b", SampleValue::Counter32(3_000_000_000), 1.0, s(0));
        assert!(c.rate("b", SampleValue::Counter32(5), 1.0, s(60)).is_ok());
        // From 1e9 down to 5: a wrap would mean 3.3e9 octets; that is a reset.
        let _ = c.rate("c", SampleValue::Counter32(1_000_000_000), 1.0, s(0));
        assert_eq!(
            c.rate("c", SampleValue::Counter32(5), 1.0, s(60)),
            Err(NoRate::Reset)
        );
        // After a reset the next reading counts from the new value.
        assert_eq!(
            c.rate("c", SampleValue::Counter32(65), 1.0, s(120)),
            Ok(1.0)
        );
    }

    #[test]
    fn counter64_and_numbers_going_down_are_resets() {
        let mut c = Counters::new();
        let _ = c.rate("a", SampleValue::Counter64(10_000), 1.0, s(0));
        assert_eq!(
            c.rate("a", SampleValue::Counter64(10), 1.0, s(60)),
            Err(NoRate::Reset)
        );
        let _ = c.rate("n", SampleValue::Number(5.0), 1.0, s(0));
        assert_eq!(
            c.rate("n", SampleValue::Number(4.0), 1.0, s(60)),
            Err(NoRate::Reset)
        );
        assert_eq!(
            c.rate("n", SampleValue::Number(4.0), 1.0, s(60)),
            Err(NoRate::NoTime)
        );
    }

    #[test]
    fn reboots_and_vanished_series_are_forgotten() {
        let mut c = Counters::new();
        c.begin();
        let _ = c.rate("a", SampleValue::Counter64(1), 1.0, s(0));
        let _ = c.rate("b", SampleValue::Counter64(1), 1.0, s(0));
        c.sweep();
        assert_eq!(c.len(), 2);
        c.begin();
        let _ = c.rate("a", SampleValue::Counter64(2), 1.0, s(60));
        c.sweep();
        assert_eq!(c.len(), 1, "b was not polled this round");
        c.clear();
        assert_eq!(
            c.rate("a", SampleValue::Counter64(3), 1.0, s(120)),
            Err(NoRate::First)
        );
    }

    #[test]
    fn two_rows_with_one_series_key_give_no_rate() {
        let mut c = Counters::new();
        for (round, t) in [(0u64, 0u64), (1, 60), (2, 120)] {
            c.begin();
            let a = c.rate("k", SampleValue::Counter64(1000 + round), 1.0, s(t));
            let b = c.rate("k", SampleValue::Counter64(9_000_000 + round), 1.0, s(t));
            assert!(matches!(b, Err(NoRate::Ambiguous)), "{b:?}");
            if round > 0 {
                assert!(a.is_err(), "round {round}: {a:?}");
            }
            c.sweep();
        }
    }

    #[test]
    fn a_counter64_near_its_top_keeps_its_precision() {
        let mut c = Counters::new();
        let big = u64::MAX - 1_000;
        let _ = c.rate("a", SampleValue::Counter64(big), 1.0, s(0));
        assert_eq!(
            c.rate("a", SampleValue::Counter64(big + 600), 1.0, s(60)),
            Ok(10.0)
        );
    }
}

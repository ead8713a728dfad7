//! The sender engines whose v3 traps we accept: their boots and time, learned from the first
//! authenticated trap of each, so later traps are checked against RFC 3414's 150-second window
//! (§3.2 step 7b) and a captured trap cannot be replayed long after.
//!
//! One relief from the letter of the RFC: a sender whose authenticated traps have been outside
//! the window for [`RELEARN_AFTER`] is learned again from its next one. A device that lost its
//! boots counter in a reboot would otherwise be refused until nocbox restarts, and losing a
//! device's traps is worse than accepting one replayed trap. The table is bounded: the engine
//! seen least recently makes room for a new one.

use std::collections::HashMap;
use std::time::Duration;

use crate::proto::snmp::usm::time::TIME_WINDOW_SECS;
use crate::proto::snmp::usm::{EngineTime, RemoteEngine, UsmError};

/// How long a sender's traps may stay outside the window before its time is learned again.
pub const RELEARN_AFTER: Duration = Duration::from_secs(2 * TIME_WINDOW_SECS as u64);

#[derive(Debug)]
struct Entry {
    remote: RemoteEngine,
    rejecting_since: Option<Duration>,
    last_seen: Duration,
}

#[derive(Debug)]
pub(super) struct Engines {
    map: HashMap<Vec<u8>, Entry>,
    max: usize,
    relearned: u64,
}

impl Engines {
    pub fn new(max: usize) -> Engines {
        Engines {
            map: HashMap::new(),
            max: max.max(1),
            relearned: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn relearned(&self) -> u64 {
        self.relearned
    }

    /// Step 7b for an authenticated trap from `engine_id` carrying boots and time `t`.
    pub fn check(
        &mut self,
        engine_id: &[u8],
        t: EngineTime,
        now: Duration,
    ) -> Result<(), UsmError> {
        let Some(e) = self.map.get_mut(engine_id) else {
            self.learn(engine_id, t, now);
            return Ok(());
        };
        e.last_seen = now;
        match e.remote.check_and_update(t, now) {
            Ok(()) => {
                e.rejecting_since = None;
                Ok(())
            }
            Err(err) => {
                let since = *e.rejecting_since.get_or_insert(now);
                if now.saturating_sub(since) < RELEARN_AFTER {
                    return Err(err);
                }
                *e = Entry {
                    remote: RemoteEngine::discovered(engine_id, t, now),
                    rejecting_since: None,
                    last_seen: now,
                };
                self.relearned += 1;
                Ok(())
            }
        }
    }

    fn learn(&mut self, engine_id: &[u8], t: EngineTime, now: Duration) {
        if self.map.len() >= self.max {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, e)| e.last_seen)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.map.remove(&k);
            }
        }
        self.map.insert(
            engine_id.to_vec(),
            Entry {
                remote: RemoteEngine::discovered(engine_id, t, now),
                rejecting_since: None,
                last_seen: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn t(boots: u32, time: u32) -> EngineTime {
        EngineTime { boots, time }
    }

    #[test]
    fn first_trap_teaches_time_then_the_window_applies() {
        let mut e = Engines::new(8);
        assert_eq!(e.check(b"sender-a", t(4, 1000), S(10)), Ok(()));
        assert_eq!(e.check(b"sender-a", t(4, 1030), S(40)), Ok(()));
        // a replay from more than 150 s before the sender's current time
        assert_eq!(
            e.check(b"sender-a", t(4, 800), S(41)),
            Err(UsmError::NotInTimeWindow)
        );
        // another engine is independent
        assert_eq!(e.check(b"sender-b", t(1, 5), S(41)), Ok(()));
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn a_sender_refused_for_long_is_relearned() {
        let mut e = Engines::new(8);
        e.check(b"dev", t(9, 5000), S(0)).unwrap();
        // the device rebooted and lost its boots counter: boots 1 is "before" boots 9
        assert!(e.check(b"dev", t(1, 10), S(100)).is_err());
        assert!(e.check(b"dev", t(1, 300), S(390)).is_err());
        assert_eq!(e.check(b"dev", t(1, 400), S(401)), Ok(()));
        assert_eq!(e.relearned(), 1);
        assert_eq!(e.check(b"dev", t(1, 410), S(411)), Ok(()));
    }

    #[test]
    fn table_is_bounded_by_evicting_the_least_recently_seen() {
        let mut e = Engines::new(2);
        e.check(b"a", t(1, 1), S(1)).unwrap();
        e.check(b"b", t(1, 1), S(2)).unwrap();
        e.check(b"a", t(1, 3), S(3)).unwrap();
        e.check(b"c", t(1, 1), S(4)).unwrap();
        assert_eq!(e.len(), 2);
        assert!(e.map.contains_key(&b"a"[..]));
        assert!(!e.map.contains_key(&b"b"[..]));
    }
}

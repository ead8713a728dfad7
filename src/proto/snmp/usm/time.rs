//! USM timeliness (RFC 3414 §2.2.3, §3.2 step 7), as pure functions of a time the caller passes.
//!
//! `now` is a monotonic [`Duration`] since any origin the caller picks (the time since the
//! process started, say), never wall-clock time: engine time only ever counts seconds since an
//! engine's boot.

use std::time::Duration;

use super::UsmError;

/// A message is outside the window when more than this many seconds from the engine's notion of
/// time (RFC 3414 §3.2 step 7).
pub const TIME_WINDOW_SECS: u32 = 150;

/// snmpEngineBoots and snmpEngineTime stop here (RFC 3414 §2.2.1); at this boots value an engine
/// accepts no authenticated messages until it is re-keyed.
pub const MAX_ENGINE_VALUE: u32 = 2_147_483_647;

/// An engine's snmpEngineBoots and snmpEngineTime (seconds since that boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EngineTime {
    pub boots: u32,
    pub time: u32,
}

/// Our own engine, authoritative for informs we receive (and for Reports we send).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalEngine {
    /// 5..=32 bytes (RFC 3411); keep it stable across restarts so senders' keys stay valid.
    pub engine_id: Vec<u8>,
    /// snmpEngineBoots: the caller persists and increments it on every start.
    pub boots: u32,
    /// `now` at which this boot started.
    pub started: Duration,
}

impl LocalEngine {
    /// Boots and time at `now`. Time saturates at 2^31-1 (68 years) rather than wrapping.
    pub fn engine_time(&self, now: Duration) -> EngineTime {
        let secs = now.saturating_sub(self.started).as_secs();
        EngineTime {
            boots: self.boots,
            time: secs.min(u64::from(MAX_ENGINE_VALUE)) as u32,
        }
    }
}

/// Step 7a, when we are authoritative: the message's boots must equal ours and its time be
/// within 150 s of ours.
pub fn check_authoritative(local: EngineTime, msg: EngineTime) -> Result<(), UsmError> {
    let outside = local.boots == MAX_ENGINE_VALUE
        || msg.boots != local.boots
        || msg.time.abs_diff(local.time) > TIME_WINDOW_SECS;
    if outside {
        Err(UsmError::NotInTimeWindow)
    } else {
        Ok(())
    }
}

/// What a non-authoritative engine (a poller, a trap receiver) knows of a remote authoritative
/// engine: its boots and time when last synchronised, and the latest time received
/// (RFC 3414 §2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteEngine {
    pub engine_id: Vec<u8>,
    boots: u32,
    time: u32,
    latest_received: u32,
    synced_at: Duration,
}

impl RemoteEngine {
    /// From a discovery Report (or the first authenticated message) received at `now`.
    pub fn discovered(engine_id: &[u8], t: EngineTime, now: Duration) -> RemoteEngine {
        RemoteEngine {
            engine_id: engine_id.to_vec(),
            boots: t.boots,
            time: t.time,
            latest_received: t.time,
            synced_at: now,
        }
    }

    /// The remote engine's boots and time at `now`, to put in an outgoing message: the synced
    /// time advanced by our monotonic clock.
    pub fn estimate(&self, now: Duration) -> EngineTime {
        let elapsed = now.saturating_sub(self.synced_at).as_secs();
        let time = (u64::from(self.time) + elapsed).min(u64::from(MAX_ENGINE_VALUE));
        EngineTime {
            boots: self.boots,
            time: time as u32,
        }
    }

    /// Step 7b for an authenticated message from this engine: adopt newer boots/time, then
    /// refuse a message older than our estimate by more than 150 s, or from an earlier boot.
    pub fn check_and_update(&mut self, msg: EngineTime, now: Duration) -> Result<(), UsmError> {
        if msg.boots > self.boots || (msg.boots == self.boots && msg.time > self.latest_received) {
            self.boots = msg.boots;
            self.time = msg.time;
            self.latest_received = msg.time;
            self.synced_at = now;
        }
        let local = self.estimate(now);
        let outside = local.boots == MAX_ENGINE_VALUE
            || msg.boots < local.boots
            || (msg.boots == local.boots
                && u64::from(msg.time) + u64::from(TIME_WINDOW_SECS) < u64::from(local.time));
        if outside {
            Err(UsmError::NotInTimeWindow)
        } else {
            Ok(())
        }
    }

    /// Re-synchronise from a usmStatsNotInTimeWindows Report (authenticated by the caller): take
    /// its boots and time as they are, even if older (the agent may have rebooted).
    pub fn resync(&mut self, t: EngineTime, now: Duration) {
        *self = RemoteEngine::discovered(&self.engine_id, t, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn authoritative_window_is_150_seconds_and_same_boots() {
        let local = EngineTime {
            boots: 3,
            time: 1000,
        };
        let at = |boots, time| check_authoritative(local, EngineTime { boots, time });
        assert_eq!(at(3, 1000), Ok(()));
        assert_eq!(at(3, 850), Ok(()));
        assert_eq!(at(3, 1150), Ok(()));
        assert_eq!(at(3, 849), Err(UsmError::NotInTimeWindow));
        assert_eq!(at(3, 1151), Err(UsmError::NotInTimeWindow));
        assert_eq!(at(2, 1000), Err(UsmError::NotInTimeWindow));
        assert_eq!(at(4, 1000), Err(UsmError::NotInTimeWindow));
        let dead = EngineTime {
            boots: MAX_ENGINE_VALUE,
            time: 5,
        };
        assert!(check_authoritative(dead, dead).is_err());
    }

    #[test]
    fn local_engine_time_counts_from_its_start() {
        let e = LocalEngine {
            engine_id: vec![0x80, 0, 0, 0, 1],
            boots: 7,
            started: S(100),
        };
        assert_eq!(e.engine_time(S(160)), EngineTime { boots: 7, time: 60 });
        assert_eq!(e.engine_time(S(50)).time, 0);
    }

    #[test]
    fn remote_engine_advances_and_checks() {
        let mut r = RemoteEngine::discovered(
            b"agent",
            EngineTime {
                boots: 5,
                time: 1000,
            },
            S(10),
        );
        assert_eq!(
            r.estimate(S(70)),
            EngineTime {
                boots: 5,
                time: 1060
            }
        );
        // a current message is fine and moves latest_received forward
        assert_eq!(
            r.check_and_update(
                EngineTime {
                    boots: 5,
                    time: 1061
                },
                S(70)
            ),
            Ok(())
        );
        // a replay from more than 150 s ago is outside the window
        let old = EngineTime {
            boots: 5,
            time: 1061 - 151,
        };
        assert_eq!(
            r.check_and_update(old, S(70)),
            Err(UsmError::NotInTimeWindow)
        );
        // an earlier boot is outside; a later boot is adopted (the agent rebooted)
        let before = EngineTime {
            boots: 4,
            time: 99_999,
        };
        assert_eq!(
            r.check_and_update(before, S(70)),
            Err(UsmError::NotInTimeWindow)
        );
        assert_eq!(
            r.check_and_update(EngineTime { boots: 6, time: 3 }, S(71)),
            Ok(())
        );
        assert_eq!(r.estimate(S(81)), EngineTime { boots: 6, time: 13 });
        r.resync(EngineTime { boots: 6, time: 1 }, S(90));
        assert_eq!(r.estimate(S(90)), EngineTime { boots: 6, time: 1 });
    }
}

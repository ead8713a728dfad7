//! Retry timing shared by the forwarding outputs: exponential back-off with full jitter, and a
//! rate limiter for "still failing" warnings. Pure: the caller passes the random number and the
//! clock reading, so both are tested without sleeping. Owns no IO and never sleeps itself.

use std::time::{Duration, Instant};

/// Back-off bounds. Not in the YAML on purpose: the defaults suit Datadog and syslog collectors;
/// tests build their own small policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling of the first delay.
    pub base: Duration,
    /// Ceiling of every delay, and the wait used for configuration errors (401/403).
    pub cap: Duration,
}

impl BackoffPolicy {
    /// 500 ms doubling to 30 s, as Vector's 1 s → 30 s but starting lower so a single blip
    /// recovers quickly.
    pub const DEFAULT: BackoffPolicy = BackoffPolicy {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
    };
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy::DEFAULT
    }
}

/// Consecutive-failure state. "Full jitter" (a uniform draw in `0..=ceiling`) spreads many
/// nocbox instances apart after a shared outage instead of having them retry in lock-step.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy) -> Self {
        Backoff { policy, attempt: 0 }
    }

    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// Failures since the last `reset`.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The ceiling for the current attempt: `base * 2^attempt`, at most `cap`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.policy
            .base
            .checked_mul(factor)
            .unwrap_or(self.policy.cap)
            .min(self.policy.cap)
    }

    /// The next delay for a uniform `unit` in `0.0..=1.0` (e.g. `fastrand::f64()`), and counts
    /// the failure.
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let d = self.ceiling().mul_f64(unit.clamp(0.0, 1.0));
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    /// The long wait for a configuration error: between half the cap and the cap, jittered.
    pub fn config_error_delay(&self, unit: f64) -> Duration {
        self.policy.cap.mul_f64(0.5 + unit.clamp(0.0, 1.0) / 2.0)
    }

    /// A success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Decides when a failure is worth a log line: the first failure, then once per `every` while
/// the failure lasts, and one line when it ends. Keeps a dead peer from flooding the log.
#[derive(Clone, Debug)]
pub struct FailureLog {
    every: Duration,
    since: Option<Instant>,
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl FailureLog {
    pub fn new(every: Duration) -> Self {
        FailureLog {
            every,
            since: None,
            last_logged: None,
            suppressed: 0,
        }
    }

    /// Records a failure; `Some(n)` means "log it now", `n` failures having gone unlogged since
    /// the last line.
    pub fn failure(&mut self, now: Instant) -> Option<u64> {
        self.since.get_or_insert(now);
        let due = self
            .last_logged
            .is_none_or(|t| now.saturating_duration_since(t) >= self.every);
        if due {
            self.last_logged = Some(now);
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }

    /// Records a success; `Some(d)` means a failure streak of length `d` just ended.
    pub fn success(&mut self, now: Instant) -> Option<Duration> {
        let since = self.since.take()?;
        self.last_logged = None;
        self.suppressed = 0;
        Some(now.saturating_duration_since(since))
    }

    pub fn is_failing(&self) -> bool {
        self.since.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }

    #[test]
    fn ceilings_double_up_to_the_cap_and_never_overflow() {
        let mut b = Backoff::new(policy());
        let mut seen = Vec::new();
        for _ in 0..70 {
            seen.push(b.ceiling());
            b.next_delay(1.0);
        }
        assert_eq!(seen[0], Duration::from_millis(500));
        assert_eq!(seen[1], Duration::from_secs(1));
        assert_eq!(seen[6], Duration::from_secs(30)); // 32 s capped
        assert!(seen.iter().all(|d| *d <= Duration::from_secs(30)));
        assert_eq!(*seen.last().unwrap(), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_stays_within_zero_and_the_ceiling() {
        let mut b = Backoff::new(policy());
        assert_eq!(b.next_delay(0.0), Duration::ZERO);
        assert_eq!(b.next_delay(1.0), Duration::from_secs(1));
        assert_eq!(b.next_delay(0.5), Duration::from_secs(1));
        // out-of-range random numbers are clamped, never panic
        assert_eq!(b.next_delay(7.0), Duration::from_secs(4));
        assert_eq!(b.next_delay(-1.0), Duration::ZERO);
        for _ in 0..100 {
            let d = b.next_delay(fastrand::f64());
            assert!(d <= policy().cap);
        }
        b.reset();
        assert_eq!(b.attempt(), 0);
        assert!(b.next_delay(1.0) <= Duration::from_millis(500));
    }

    #[test]
    fn config_error_delay_is_long() {
        let b = Backoff::new(policy());
        assert_eq!(b.config_error_delay(0.0), Duration::from_secs(15));
        assert_eq!(b.config_error_delay(1.0), Duration::from_secs(30));
    }

    #[test]
    fn failure_log_logs_first_then_once_per_period_then_recovery() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut f = FailureLog::new(s(60));
        assert_eq!(f.success(t0), None);
        assert_eq!(f.failure(t0), Some(0));
        assert_eq!(f.failure(t0 + s(1)), None);
        assert_eq!(f.failure(t0 + s(59)), None);
        assert_eq!(f.failure(t0 + s(61)), Some(2));
        assert!(f.is_failing());
        assert_eq!(f.success(t0 + s(70)), Some(s(70)));
        assert!(!f.is_failing());
        assert_eq!(f.failure(t0 + s(71)), Some(0));
    }
}

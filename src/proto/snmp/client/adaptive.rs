//! [`AdaptiveSize`]: a request size that adapts to what a device can take, by the Datadog
//! Agent's rule: a failure halves it (at least 1), a success grows it by one up to the configured
//! size, and a size that failed twice is skipped when growing until the failure counts reset
//! (every 30 minutes, so a device that recovers gets its full size back).

use std::time::Duration;

/// How often failure counts are forgotten.
pub const RESET_EVERY: Duration = Duration::from_secs(30 * 60);

#[derive(Clone, Debug)]
pub struct AdaptiveSize {
    configured: u32,
    current: u32,
    /// failures[size - 1]: how often a request of that size failed since the last reset.
    failures: Vec<u8>,
    reset_at: Duration,
}

impl AdaptiveSize {
    pub fn new(configured: u32, now: Duration) -> AdaptiveSize {
        let configured = configured.max(1);
        AdaptiveSize {
            configured,
            current: configured,
            failures: vec![0; configured as usize],
            reset_at: now + RESET_EVERY,
        }
    }

    pub fn current(&self) -> u32 {
        self.current
    }

    pub fn configured(&self) -> u32 {
        self.configured
    }

    fn maybe_reset(&mut self, now: Duration) {
        if now >= self.reset_at {
            self.failures.fill(0);
            self.reset_at = now + RESET_EVERY;
        }
    }

    /// A request of `size` succeeded.
    pub fn success(&mut self, size: u32, now: Duration) {
        self.maybe_reset(now);
        if size < self.current {
            return; // an older, smaller request: says nothing about the current size
        }
        let next = self.current + 1;
        if next <= self.configured && self.failures_at(next) < 2 {
            self.current = next;
        }
    }

    /// A request of `size` failed (tooBig, or it was dropped): halve below it.
    pub fn failure(&mut self, size: u32, now: Duration) {
        self.maybe_reset(now);
        if let Some(f) = self.failures.get_mut(size.max(1) as usize - 1) {
            *f = f.saturating_add(1);
        }
        self.current = self.current.min((size / 2).max(1));
    }

    fn failures_at(&self, size: u32) -> u8 {
        self.failures.get(size as usize - 1).copied().unwrap_or(0)
    }
}

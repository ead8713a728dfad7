//! A token bucket per client address: `burst` requests at once, refilled at `per_second`.
//! ntp-proto's own limiter keeps one last-seen time per address and silently drops anything
//! sooner than its cutoff, which cuts off a client's `iburst`; this one allows bursts, so a
//! client starting up, or dozens of devices behind one NAT address polling at once, are never
//! limited by the defaults.
//!
//! IPv6 clients are keyed by their /64, the unit a host can rotate addresses in. The table is
//! bounded: when it is full, addresses whose bucket has refilled are forgotten; if none has (a
//! flood from many addresses, e.g. one IPv6 /48), new addresses share one overflow bucket of 16
//! times a source's burst and rate, and are counted as untracked: filling the table cannot
//! switch the limit off, and devices already in the table keep their own buckets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The verdict on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// The address is over its rate.
    Limited,
    /// The table is full of active addresses; let through on the shared overflow bucket.
    Untracked,
}

#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    max_sources: usize,
    table: HashMap<IpAddr, Bucket>,
    /// Shared by every source that finds the table full.
    overflow: Bucket,
    last_sweep: Option<Instant>,
}

/// Takes one token from `b` at `now`, refilling at `rate` up to `cap` first.
fn take(b: &mut Bucket, now: Instant, rate: f64, cap: f64) -> bool {
    let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
    b.tokens = (b.tokens + elapsed * rate).min(cap);
    b.last = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        true
    } else {
        false
    }
}

/// How much larger the shared overflow bucket is than one source's.
const OVERFLOW_FACTOR: f64 = 16.0;

impl RateLimiter {
    pub fn new(burst: u32, per_second: f64, max_sources: usize) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            burst,
            per_second: per_second.max(f64::MIN_POSITIVE),
            max_sources: max_sources.max(1),
            table: HashMap::new(),
            overflow: Bucket {
                tokens: burst * OVERFLOW_FACTOR,
                last: Instant::now(),
            },
            last_sweep: None,
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut o = v6.octets();
                    o[8..].fill(0);
                    IpAddr::V6(o.into())
                }
            },
            v4 => v4,
        }
    }

    /// Takes one token for `ip` at `now`.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        let key = Self::key(ip);
        if let Some(b) = self.table.get_mut(&key) {
            return if take(b, now, self.per_second, self.burst) {
                Verdict::Allow
            } else {
                Verdict::Limited
            };
        }
        if self.table.len() >= self.max_sources && !self.sweep(now) {
            let (rate, cap) = (
                self.per_second * OVERFLOW_FACTOR,
                self.burst * OVERFLOW_FACTOR,
            );
            return if take(&mut self.overflow, now, rate, cap) {
                Verdict::Untracked
            } else {
                Verdict::Limited
            };
        }
        self.table.insert(
            key,
            Bucket {
                tokens: self.burst - 1.0,
                last: now,
            },
        );
        Verdict::Allow
    }

    /// Forgets addresses whose bucket has refilled (they would start full anyway). At most one
    /// sweep per second, so a flood cannot make every packet scan the table. True when room
    /// was made.
    fn sweep(&mut self, now: Instant) -> bool {
        if self
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1))
        {
            return false;
        }
        self.last_sweep = Some(now);
        let refill = Duration::from_secs_f64((self.burst / self.per_second).min(1e6));
        self.table
            .retain(|_, b| now.saturating_duration_since(b.last) < refill);
        self.table.len() < self.max_sources
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let mut r = RateLimiter::new(8, 1.0, 100);
        let t0 = Instant::now();
        for _ in 0..8 {
            assert_eq!(r.check(ip("10.0.0.1"), t0), Verdict::Allow);
        }
        assert_eq!(r.check(ip("10.0.0.1"), t0), Verdict::Limited);
        // Another address has its own bucket.
        assert_eq!(r.check(ip("10.0.0.2"), t0), Verdict::Allow);
        // One token per second comes back.
        let t1 = t0 + Duration::from_millis(1100);
        assert_eq!(r.check(ip("10.0.0.1"), t1), Verdict::Allow);
        assert_eq!(r.check(ip("10.0.0.1"), t1), Verdict::Limited);
    }

    #[test]
    fn iburst_and_a_dozen_devices_behind_one_address_pass_the_defaults() {
        // Defaults: burst 256, 16/s. Twelve devices each sending an 8-packet iburst 2 s apart,
        // all at the same moments, from one NAT address.
        let mut r = RateLimiter::new(256, 16.0, 65536);
        let t0 = Instant::now();
        for round in 0..8u64 {
            let t = t0 + Duration::from_secs(2 * round);
            for _ in 0..12 {
                assert_eq!(r.check(ip("192.0.2.7"), t), Verdict::Allow);
            }
        }
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let mut r = RateLimiter::new(2, 0.001, 100);
        let t = Instant::now();
        assert_eq!(r.check(ip("2001:db8::1"), t), Verdict::Allow);
        assert_eq!(r.check(ip("2001:db8::2"), t), Verdict::Allow);
        assert_eq!(r.check(ip("2001:db8::3"), t), Verdict::Limited);
        assert_eq!(r.check(ip("2001:db8:0:1::1"), t), Verdict::Allow);
    }

    #[test]
    fn a_full_table_forgets_idle_addresses_and_never_grows() {
        let mut r = RateLimiter::new(4, 4.0, 3);
        let t0 = Instant::now();
        for i in 1..=3 {
            r.check(ip(&format!("10.0.0.{i}")), t0);
        }
        // Full of active addresses: new ones share the overflow bucket (16 × 4 tokens), then
        // are limited: filling the table does not switch the limit off.
        for i in 0..64 {
            assert_eq!(r.check(ip(&format!("10.1.0.{i}")), t0), Verdict::Untracked);
        }
        assert_eq!(r.check(ip("10.0.0.9"), t0), Verdict::Limited);
        assert_eq!(r.tracked(), 3);
        // Two seconds later the buckets have refilled: the sweep makes room.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(r.check(ip("10.0.0.9"), t1), Verdict::Allow);
        assert!(r.tracked() <= 3);
    }
}

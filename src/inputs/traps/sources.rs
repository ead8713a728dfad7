//! Storm accounting: datagrams per sender address and each sender's rate over the last window,
//! so one chatty device stands out in `nocbox status`; and counters labelled by device or trap
//! name with a cap on distinct label values, so a flood of spoofed sources or unknown trap OIDs
//! cannot blow up `/metrics`.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Instant;

use crate::fast_hash::FastMap;
use crate::telemetry::{Counter, Telemetry};

#[derive(Clone, Copy, Debug, Default)]
struct Source {
    total: u64,
    window: u64,
    rate: f64,
}

/// Datagrams per source address, bounded: beyond `max` addresses new ones are only counted in
/// [`Sources::untracked`] until idle ones are forgotten.
#[derive(Debug)]
pub struct Sources {
    map: HashMap<IpAddr, Source>,
    max: usize,
    untracked: u64,
    window_start: Instant,
}

/// One row of the busiest-sources table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Busy {
    pub ip: IpAddr,
    /// Datagrams per second over the last window.
    pub rate: f64,
    pub total: u64,
}

impl Sources {
    pub fn new(max: usize, now: Instant) -> Sources {
        Sources {
            map: HashMap::new(),
            max: max.max(1),
            untracked: 0,
            window_start: now,
        }
    }

    /// Counts one datagram from `ip` (the per-datagram path: one hash lookup).
    pub fn count(&mut self, ip: IpAddr) {
        if let Some(s) = self.map.get_mut(&ip) {
            s.total += 1;
            s.window += 1;
        } else if self.map.len() < self.max {
            self.map.insert(
                ip,
                Source {
                    total: 1,
                    window: 1,
                    rate: 0.0,
                },
            );
        } else {
            self.untracked += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn untracked(&self) -> u64 {
        self.untracked
    }

    /// Closes the window at `now`: each source's rate becomes its datagrams per second over the
    /// window. When the table is full, sources silent for the whole window are forgotten.
    /// Returns the `n` busiest sources of the window, busiest first.
    pub fn roll(&mut self, now: Instant, n: usize) -> Vec<Busy> {
        let secs = now
            .saturating_duration_since(self.window_start)
            .as_secs_f64()
            .max(1e-3);
        self.window_start = now;
        if self.map.len() >= self.max {
            self.map.retain(|_, s| s.window > 0);
        }
        let mut busy: Vec<Busy> = Vec::new();
        for (ip, s) in self.map.iter_mut() {
            s.rate = s.window as f64 / secs;
            s.window = 0;
            if s.rate > 0.0 {
                busy.push(Busy {
                    ip: *ip,
                    rate: s.rate,
                    total: s.total,
                });
            }
        }
        busy.sort_by(|a, b| b.rate.total_cmp(&a.rate).then(a.ip.cmp(&b.ip)));
        busy.truncate(n);
        busy
    }
}

/// `name{label=...}` counters, one per distinct key up to `max`, then `label="other"`.
#[derive(Debug)]
pub struct Capped<K> {
    telemetry: Telemetry,
    name: &'static str,
    label: &'static str,
    // at most `max` keys, looked up per trap: no need for SipHash's flood resistance
    map: FastMap<K, Counter>,
    other: Counter,
    max: usize,
}

impl<K: Hash + Eq + Clone> Capped<K> {
    pub fn new(telemetry: &Telemetry, name: &'static str, label: &'static str, max: usize) -> Self {
        Capped {
            telemetry: telemetry.clone(),
            name,
            label,
            map: FastMap::default(),
            other: telemetry.counter(name, &[(label, "other")]),
            max,
        }
    }

    /// Counts one for `key`; `value` names the label the first time the key is seen.
    pub fn inc(&mut self, key: &K, value: impl FnOnce() -> String) {
        if let Some(c) = self.map.get(key) {
            c.inc();
        } else if self.map.len() < self.max {
            let c = self.telemetry.counter(self.name, &[(self.label, &value())]);
            c.inc();
            self.map.insert(key.clone(), c);
        } else {
            self.other.inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rates_over_the_window_busiest_first() {
        let t0 = Instant::now();
        let mut s = Sources::new(3, t0);
        for _ in 0..50 {
            s.count(ip("10.0.0.7"));
        }
        for _ in 0..5 {
            s.count(ip("10.0.0.9"));
        }
        s.count(ip("10.0.0.1"));
        s.count(ip("10.0.0.2")); // table full
        assert_eq!(s.untracked(), 1);
        let top = s.roll(t0 + Duration::from_secs(5), 2);
        assert_eq!(top.len(), 2);
        assert_eq!(
            (top[0].ip, top[0].rate, top[0].total),
            (ip("10.0.0.7"), 10.0, 50)
        );
        assert_eq!(top[1].ip, ip("10.0.0.9"));
        // a full table forgets who was silent for a whole window
        s.count(ip("10.0.0.7"));
        s.roll(t0 + Duration::from_secs(10), 2);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn capped_labels_fall_into_other() {
        let t = Telemetry::new();
        let mut c = Capped::new(&t, "nocbox.x.received", "device", 2);
        for d in ["a", "b", "c", "d", "a"] {
            c.inc(&d.to_string(), || d.to_string());
        }
        assert_eq!(t.counter_sum("nocbox.x.received", &[("device", "a")]), 2);
        assert_eq!(
            t.counter_sum("nocbox.x.received", &[("device", "other")]),
            2
        );
        assert_eq!(t.counter_sum("nocbox.x.received", &[]), 5);
    }
}

//! The re-send buffer of a stream output: every line not yet "confirmed", in write order. Pure
//! (the caller passes the clock); owns no socket.
//!
//! Layout: `[written on this connection | not yet written]`. A line is appended unwritten, moves
//! to the written part once it has been flushed to the current connection, and leaves the buffer
//! when it is confirmed (see `stream/mod.rs` for the rule). When a connection is lost every line
//! goes back to "not yet written", so the next connection re-sends them in the original order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

#[derive(Clone, Debug)]
struct Pending {
    line: Bytes,
    /// A pipeline event (counted in `sent`/`dropped`) rather than a mark.
    event: bool,
    /// Flushed to some connection before: a later write is a re-send.
    ever_written: bool,
    /// When it was flushed to the current connection.
    written_at: Option<Instant>,
}

/// Lines pushed out by the size limit: their re-send protection is given up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evicted {
    pub lines: usize,
    pub events: usize,
}

/// What `mark_written` reports for counting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Events written for the first time (`sent`).
    pub first_events: usize,
    /// Lines written again after a reconnect (`resent`).
    pub resent: usize,
}

#[derive(Debug)]
pub struct ResendBuffer {
    q: VecDeque<Pending>,
    /// Index of the first line not written to the current connection.
    written: usize,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
}

impl ResendBuffer {
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        ResendBuffer {
            q: VecDeque::new(),
            written: 0,
            bytes: 0,
            max_lines: max_lines.max(1),
            max_bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.q.len()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends an unwritten line; evicts the oldest lines while over a limit (never the new one).
    pub fn push(&mut self, line: Bytes, event: bool) -> Evicted {
        self.bytes += line.len();
        self.q.push_back(Pending {
            line,
            event,
            ever_written: false,
            written_at: None,
        });
        let mut ev = Evicted::default();
        while self.q.len() > 1 && (self.q.len() > self.max_lines || self.bytes > self.max_bytes) {
            if let Some(p) = self.pop_front() {
                ev.lines += 1;
                ev.events += usize::from(p.event);
            }
        }
        ev
    }

    fn pop_front(&mut self) -> Option<Pending> {
        let p = self.q.pop_front()?;
        self.bytes -= p.line.len();
        self.written = self.written.saturating_sub(1);
        Some(p)
    }

    /// Lines still to write to the current connection, oldest first.
    pub fn unwritten(&self) -> impl Iterator<Item = &Bytes> {
        self.q.iter().skip(self.written).map(|p| &p.line)
    }

    pub fn has_unwritten(&self) -> bool {
        self.written < self.q.len()
    }

    /// The first `n` unwritten lines were flushed to the current connection at `now`.
    pub fn mark_written(&mut self, n: usize, now: Instant) -> Written {
        let end = (self.written + n).min(self.q.len());
        let mut w = Written::default();
        for p in self.q.range_mut(self.written..end) {
            if p.ever_written {
                w.resent += 1;
            } else if p.event {
                w.first_events += 1;
            }
            p.ever_written = true;
            p.written_at = Some(now);
        }
        self.written = end;
        w
    }

    /// Drops the written lines older than `after` at `now`; the caller has just checked that the
    /// connection is still open. Returns how many left.
    pub fn confirm(&mut self, now: Instant, after: Duration) -> usize {
        let mut n = 0;
        while self.written > 0 {
            match self.q.front().and_then(|p| p.written_at) {
                Some(t) if now.saturating_duration_since(t) >= after => {
                    self.pop_front();
                    n += 1;
                }
                _ => break,
            }
        }
        n
    }

    /// When the oldest written line becomes confirmable, if any.
    pub fn next_confirm_at(&self, after: Duration) -> Option<Instant> {
        if self.written == 0 {
            return None;
        }
        self.q.front().and_then(|p| p.written_at).map(|t| t + after)
    }

    /// The connection is gone: everything must be written again.
    pub fn connection_lost(&mut self) {
        self.written = 0;
        for p in &mut self.q {
            p.written_at = None;
        }
    }

    /// Empties the buffer; returns (events never written, events written but unconfirmed).
    pub fn abandon(&mut self) -> (usize, usize) {
        let (mut never, mut unconfirmed) = (0, 0);
        for p in self.q.drain(..).filter(|p| p.event) {
            if p.ever_written {
                unconfirmed += 1;
            } else {
                never += 1;
            }
        }
        self.written = 0;
        self.bytes = 0;
        (never, unconfirmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn unwritten(r: &ResendBuffer) -> Vec<&[u8]> {
        r.unwritten().map(|l| l.as_ref()).collect()
    }

    #[test]
    fn written_lines_confirm_only_after_the_grace_and_in_order() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut r = ResendBuffer::new(100, 1 << 20);
        r.push(b("a"), true);
        r.push(b("b"), true);
        assert_eq!(
            r.mark_written(2, t0),
            Written {
                first_events: 2,
                resent: 0
            }
        );
        r.push(b("c"), true);
        assert_eq!(unwritten(&r), vec![b"c"]);
        r.mark_written(1, t0 + s(1));
        assert_eq!(r.next_confirm_at(s(2)), Some(t0 + s(2)));
        assert_eq!(r.confirm(t0 + s(1), s(2)), 0);
        assert_eq!(r.confirm(t0 + s(2), s(2)), 2);
        assert_eq!(r.len(), 1);
        assert_eq!(r.confirm(t0 + s(3), s(2)), 1);
        assert!(r.is_empty());
        assert_eq!(r.bytes(), 0);
        assert_eq!(r.next_confirm_at(s(2)), None);
    }

    #[test]
    fn lost_connection_resends_everything_unconfirmed_in_order() {
        let t0 = Instant::now();
        let mut r = ResendBuffer::new(100, 1 << 20);
        for l in ["a", "b", "c"] {
            r.push(b(l), true);
        }
        r.push(b("mark"), false);
        r.mark_written(2, t0);
        r.connection_lost();
        assert_eq!(unwritten(&r), vec![&b"a"[..], b"b", b"c", b"mark"]);
        // unwritten lines are never confirmed
        assert_eq!(r.confirm(t0 + Duration::from_secs(99), Duration::ZERO), 0);
        let w = r.mark_written(4, t0);
        assert_eq!(
            w,
            Written {
                first_events: 1,
                resent: 2
            }
        );
        assert!(!r.has_unwritten());
    }

    #[test]
    fn limits_evict_the_oldest_and_count_events() {
        let mut r = ResendBuffer::new(3, 1 << 20);
        r.push(b("m"), false);
        for l in ["a", "b"] {
            assert_eq!(r.push(b(l), true), Evicted::default());
        }
        assert_eq!(
            r.push(b("c"), true),
            Evicted {
                lines: 1,
                events: 0
            }
        );
        assert_eq!(
            r.push(b("d"), true),
            Evicted {
                lines: 1,
                events: 1
            }
        );
        assert_eq!(unwritten(&r), vec![&b"b"[..], b"c", b"d"]);

        let mut r = ResendBuffer::new(100, 10);
        r.push(b("12345"), true);
        r.mark_written(1, Instant::now());
        r.push(b("67890"), true);
        assert_eq!(
            r.push(b("x"), true),
            Evicted {
                lines: 1,
                events: 1
            }
        );
        assert_eq!(r.bytes(), 6);
        // the written index followed the eviction
        assert_eq!(unwritten(&r), vec![&b"67890"[..], b"x"]);
        // a single line over the byte limit is kept: it is the one being sent
        assert_eq!(r.push(Bytes::from(vec![b'z'; 50]), true).lines, 2);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn abandon_splits_never_written_from_unconfirmed() {
        let mut r = ResendBuffer::new(100, 1 << 20);
        for l in ["a", "b", "c"] {
            r.push(b(l), true);
        }
        r.push(b("mark"), false);
        r.mark_written(1, Instant::now());
        assert_eq!(r.abandon(), (2, 1));
        assert!(r.is_empty());
        assert!(!r.has_unwritten());
    }
}

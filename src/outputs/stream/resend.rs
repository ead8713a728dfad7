//! The re-send buffer of a stream output: every line not yet "confirmed", in write order. Pure
//! (the caller passes the clock); owns no socket.
//!
//! Layout: `[written on this connection | not yet written]`. A line is appended unwritten, moves
//! to the written part once it has been flushed to the current connection, and leaves the buffer
//! when it is confirmed (see `stream/mod.rs` for the rule). When a connection is lost every line
//! goes back to "not yet written", so the next connection re-sends them in the original order.
//!
//! Giving lines up (eviction by the size limits, or `abandon` at hard stop) reports events in two
//! kinds, so that `sent + dropped` never exceeds the events pushed: an event never written is
//! lost (`dropped`); one already written (and so already counted `sent`) was sent but has lost
//! its re-send protection (`unprotected`).
//!
//! The lines are `<API_KEY> {json}` for the Datadog TCP intake: the `Debug` impls print counts
//! and lengths only, never a line.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

#[derive(Clone)]
struct Pending {
    line: Bytes,
    /// A pipeline event (counted in `sent`/`dropped`) rather than a mark.
    event: bool,
    /// Flushed to some connection before: a later write is a re-send.
    ever_written: bool,
    /// When it was flushed to the current connection.
    written_at: Option<Instant>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("len", &self.line.len())
            .field("event", &self.event)
            .field("ever_written", &self.ever_written)
            .field("written_at", &self.written_at)
            .finish()
    }
}

/// Lines the buffer gave up (pushed out by a limit, or abandoned), for counting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GivenUp {
    /// Lines, marks included.
    pub lines: usize,
    /// Events never written to any connection: lost.
    pub dropped: usize,
    /// Events written (already counted `sent`) but not confirmed: no longer re-sendable.
    pub unprotected: usize,
}

impl GivenUp {
    fn add(&mut self, p: &Pending) {
        self.lines += 1;
        if p.event {
            if p.ever_written {
                self.unprotected += 1;
            } else {
                self.dropped += 1;
            }
        }
    }
}

/// What `mark_written` reports for counting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Events written for the first time (`sent`).
    pub first_events: usize,
    /// Lines written again after a reconnect (`resent`).
    pub resent: usize,
}

pub struct ResendBuffer {
    q: VecDeque<Pending>,
    /// Index of the first line not written to the current connection.
    written: usize,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
}

impl std::fmt::Debug for ResendBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResendBuffer")
            .field("lines", &self.q.len())
            .field("written", &self.written)
            .field("bytes", &self.bytes)
            .field("max_lines", &self.max_lines)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
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
    pub fn push(&mut self, line: Bytes, event: bool) -> GivenUp {
        self.bytes += line.len();
        self.q.push_back(Pending {
            line,
            event,
            ever_written: false,
            written_at: None,
        });
        let mut gone = GivenUp::default();
        while self.q.len() > 1 && (self.q.len() > self.max_lines || self.bytes > self.max_bytes) {
            if let Some(p) = self.pop_front() {
                gone.add(&p);
            }
        }
        gone
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

    /// Empties the buffer: never-written events are `dropped`, written but unconfirmed ones
    /// `unprotected`.
    pub fn abandon(&mut self) -> GivenUp {
        let mut gone = GivenUp::default();
        for p in self.q.drain(..) {
            gone.add(&p);
        }
        self.written = 0;
        self.bytes = 0;
        gone
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
            assert_eq!(r.push(b(l), true), GivenUp::default());
        }
        // a mark is given up without counting
        assert_eq!(
            r.push(b("c"), true),
            GivenUp {
                lines: 1,
                ..GivenUp::default()
            }
        );
        // an event never written is lost
        assert_eq!(
            r.push(b("d"), true),
            GivenUp {
                lines: 1,
                dropped: 1,
                unprotected: 0
            }
        );
        assert_eq!(unwritten(&r), vec![&b"b"[..], b"c", b"d"]);

        let mut r = ResendBuffer::new(100, 10);
        r.push(b("12345"), true);
        r.mark_written(1, Instant::now());
        r.push(b("67890"), true);
        // an event already written (counted `sent`) is not lost, only unprotected
        assert_eq!(
            r.push(b("x"), true),
            GivenUp {
                lines: 1,
                dropped: 0,
                unprotected: 1
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
    fn written_then_disconnected_lines_stay_unprotected_not_dropped_when_evicted() {
        let t0 = Instant::now();
        let mut r = ResendBuffer::new(2, 1 << 20);
        r.push(b("a"), true);
        r.mark_written(1, t0);
        r.connection_lost();
        // "a" waits for a re-send, but it was written once: evicting it loses no count
        r.push(b("b"), true);
        let g = r.push(b("c"), true);
        assert_eq!((g.dropped, g.unprotected), (0, 1));
        let g = r.push(b("d"), true);
        assert_eq!((g.dropped, g.unprotected), (1, 0));
    }

    #[test]
    fn abandon_splits_never_written_from_unconfirmed() {
        let mut r = ResendBuffer::new(100, 1 << 20);
        for l in ["a", "b", "c"] {
            r.push(b(l), true);
        }
        r.push(b("mark"), false);
        r.mark_written(1, Instant::now());
        assert_eq!(
            r.abandon(),
            GivenUp {
                lines: 4,
                dropped: 2,
                unprotected: 1
            }
        );
        assert!(r.is_empty());
        assert!(!r.has_unwritten());
    }

    #[test]
    fn debug_shows_counts_never_lines() {
        let mut r = ResendBuffer::new(100, 1 << 20);
        r.push(b("SECRETKEY {\"message\":\"x\"}\n"), true);
        let d = format!("{r:?}");
        assert!(!d.contains("SECRETKEY"), "{d}");
        assert!(d.contains("lines: 1"), "{d}");
        let p = format!("{:?}", r.q[0]);
        assert!(!p.contains("SECRETKEY"), "{p}");
    }
}

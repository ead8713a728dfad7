//! Syslog TCP stream framing (RFC 6587), decided once per connection.
//!
//! Owns: cutting a TCP byte stream into syslog frames. The framing is decided from the
//! first bytes of the connection and then kept (`<` → LF framing; `[1-9][0-9]* SP <` →
//! octet counting; anything else → LF framing). Deciding per frame is what breaks
//! Vector (vector#4852): a Cisco line such as `123: *Mar 1 ...` would be read as a
//! length. Oversized frames are truncated to `max_frame` bytes and flagged, never dropped,
//! and the rest of such a frame is discarded without being buffered, so the buffer
//! stays bounded by about `max_frame` plus a short header whatever the peer sends.
//!
//! Must not: do I/O, read clocks, parse the syslog message, validate UTF-8 (framing is
//! byte-level; invalid UTF-8 and a BOM pass through untouched), or panic on any input.
//!
//! Contract with the caller: feed one connection's bytes into one `BytesMut`, only ever
//! append to it between calls, call [`FrameDecoder::decode`] until it returns `None`
//! after each read, and at end of stream call [`FrameDecoder::finish`] until it returns
//! `None`.

use bytes::{Buf, Bytes, BytesMut};

/// Longest MSG-LEN accepted, in digits (up to 999,999,999 bytes). A longer run of digits
/// is not a plausible length: at connection start it means LF framing, later it is a
/// framing violation. Nine digits also keep the arithmetic far from overflow.
const MAX_LEN_DIGITS: usize = 9;

/// One syslog message cut from the stream, without its framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message bytes: no MSG-LEN header, no trailing LF/CRLF/NUL terminator.
    pub data: Bytes,
    /// The message was longer than `max_frame` (or cut short by end of stream) and
    /// `data` holds only its beginning.
    pub truncated: bool,
    /// Length of the message before truncation; equals `data.len()` when not truncated.
    /// Octet counting: the declared MSG-LEN. LF framing: the line's real length; the
    /// truncated head is held until the terminator arrives while the rest is counted and
    /// discarded, so memory stays bounded by `max_frame`.
    pub original_len: usize,
}

impl Frame {
    fn whole(data: Bytes) -> Self {
        let original_len = data.len();
        Frame {
            data,
            truncated: false,
            original_len,
        }
    }
}

/// The framing in force on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Not enough bytes seen yet to decide.
    Undecided,
    /// Non-transparent framing: LF (also CRLF, NUL) terminated lines.
    LineFeed,
    /// RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`.
    OctetCounted,
}

/// Something the caller should count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingEvent {
    /// A frame in octet-counting mode did not start with `MSG-LEN SP <`; the rest of the
    /// connection is LF-framed, starting at the offending bytes (nothing is dropped).
    FellBackToLineFeed,
}

/// What is being discarded after a truncated frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
    Nothing,
    /// The tail of an oversized line, up to and including its terminator.
    ToTerminator,
    /// The undelivered remainder of an oversized octet-counted frame.
    Bytes(usize),
}

/// Result of looking for `MSG-LEN SP <` at the front of the buffer.
enum Header {
    /// A prefix of a valid header; more bytes are needed.
    Incomplete,
    /// `header_len` covers the digits and the space; the message starts with `<`.
    Valid {
        header_len: usize,
        msg_len: usize,
    },
    Invalid,
}

fn parse_header(buf: &[u8]) -> Header {
    let mut len: u64 = 0;
    let mut digits = 0;
    loop {
        let Some(&b) = buf.get(digits) else {
            return Header::Incomplete;
        };
        match b {
            // RFC 6587: NONZERO-DIGIT first, so no leading zero and no zero length.
            b'0' if digits == 0 => return Header::Invalid,
            b'0'..=b'9' if digits < MAX_LEN_DIGITS => {
                len = len * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b' ' if digits > 0 => break,
            _ => return Header::Invalid,
        }
    }
    // Requiring `<` after the space is what tells a length from a line that merely
    // starts with a number followed by a space.
    match buf.get(digits + 1) {
        None => Header::Incomplete,
        Some(b'<') => match usize::try_from(len) {
            Ok(msg_len) => Header::Valid {
                header_len: digits + 1,
                msg_len,
            },
            Err(_) => Header::Invalid,
        },
        Some(_) => Header::Invalid,
    }
}

/// Position of the first terminator (LF or NUL): the per-line scan, so vectorised.
fn find_terminator(b: &[u8]) -> Option<usize> {
    memchr::memchr2(b'\n', 0, b)
}

/// Per-connection syslog frame decoder. Sans-IO: it only looks at the buffer it is given.
#[derive(Debug)]
pub struct FrameDecoder {
    max_frame: usize,
    framing: Framing,
    skip: Skip,
    /// LF mode: the first `scanned` bytes of the buffer are known to hold no terminator,
    /// so a line trickling in is not rescanned from the start on every call (which
    /// would be quadratic in the line length).
    scanned: usize,
    /// LF mode: the truncated head of an oversized line, held until its terminator is
    /// seen so that `original_len` is the line's real length.
    held: Option<Held>,
    events: Vec<FramingEvent>,
}

/// A truncated line waiting for its end.
#[derive(Debug)]
struct Held {
    data: Bytes,
    /// Bytes of the line seen so far (terminator excluded).
    seen: usize,
    /// Whether the last byte seen was a CR (which a following LF turns into a terminator).
    last_cr: bool,
}

impl Held {
    fn into_frame(self) -> Frame {
        Frame {
            data: self.data,
            truncated: true,
            original_len: self.seen - usize::from(self.last_cr),
        }
    }
}

impl FrameDecoder {
    /// A decoder that decides the framing from the first bytes. `max_frame` is the
    /// largest message delivered whole (a value of 0 is treated as 1).
    pub fn new(max_frame: usize) -> Self {
        Self::with_framing(max_frame, Framing::Undecided)
    }

    /// A decoder with the framing fixed by configuration; `Framing::Undecided` means
    /// auto-detect, as [`FrameDecoder::new`]. A forced `OctetCounted` still falls back
    /// to LF framing on a bad header.
    pub fn with_framing(max_frame: usize, framing: Framing) -> Self {
        FrameDecoder {
            max_frame: max_frame.max(1),
            framing,
            skip: Skip::Nothing,
            scanned: 0,
            held: None,
            events: Vec::new(),
        }
    }

    /// The framing in force (or `Undecided` until enough bytes have arrived).
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The configured maximum frame size.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Events since the last call. A fallback happens at most once per connection, so
    /// this never accumulates more than a handful of entries.
    pub fn take_events(&mut self) -> Vec<FramingEvent> {
        std::mem::take(&mut self.events)
    }

    /// The next complete frame at the front of `buf`, consuming the bytes it used, or
    /// `None` if more bytes are needed. Bytes of oversized frames beyond `max_frame` are
    /// consumed and discarded as they arrive.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        loop {
            if !self.discard(buf) {
                return None;
            }
            if let Some(held) = self.held.take() {
                return Some(held.into_frame());
            }
            match self.framing {
                Framing::Undecided => match parse_header(buf) {
                    Header::Incomplete => return None,
                    Header::Valid { .. } => self.framing = Framing::OctetCounted,
                    Header::Invalid => self.framing = Framing::LineFeed,
                },
                Framing::LineFeed => return self.decode_line(buf),
                Framing::OctetCounted => {
                    // Tolerate LF/CR/NUL between frames: some senders add an uncounted
                    // LF after each frame. These bytes can never start a valid header,
                    // so skipping them loses nothing and avoids a needless fallback.
                    let stray = buf
                        .iter()
                        .position(|&b| !matches!(b, b'\n' | b'\r' | 0))
                        .unwrap_or(buf.len());
                    buf.advance(stray);
                    match parse_header(buf) {
                        Header::Incomplete => return None,
                        Header::Valid {
                            header_len,
                            msg_len,
                        } => return self.decode_counted(buf, header_len, msg_len),
                        Header::Invalid => {
                            // Guessing again frame by frame is how streams get split
                            // mid-message; LF framing for the rest is the safe bet.
                            self.events.push(FramingEvent::FellBackToLineFeed);
                            self.framing = Framing::LineFeed;
                            self.scanned = 0;
                        }
                    }
                }
            }
        }
    }

    /// At end of stream: the next remaining frame, treating the end as a terminator.
    /// Call until it returns `None`. A last line without LF is a normal message; a
    /// partial octet-counted frame (or a lone partial header) comes back with
    /// `truncated = true`.
    pub fn finish(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if let Some(frame) = self.decode(buf) {
            return Some(frame);
        }
        // The end of the stream ends a held oversized line too.
        self.skip = Skip::Nothing;
        if let Some(held) = self.held.take() {
            return Some(held.into_frame());
        }
        self.scanned = 0;
        if buf.is_empty() {
            return None;
        }
        match self.framing {
            // Only a prefix like `12` or `12 ` can be left undecided; it is not a frame
            // header with a body, so deliver it as the line it might be.
            Framing::Undecided | Framing::LineFeed => self.tail_line(buf),
            Framing::OctetCounted => match parse_header(buf) {
                Header::Valid {
                    header_len,
                    msg_len,
                } => {
                    buf.advance(header_len);
                    // decode() has already delivered anything reaching max_frame, so
                    // what is left is shorter; the min() is only a safety net.
                    let mut data = buf.split_to(buf.len().min(self.max_frame));
                    buf.clear();
                    // A short frame at EOF usually means an overstated count; its last
                    // LF is then the real end of line, so strip it as for whole frames.
                    strip_counted_lf(&mut data);
                    Some(Frame {
                        data: data.freeze(),
                        truncated: true,
                        original_len: msg_len,
                    })
                }
                Header::Incomplete | Header::Invalid => {
                    let original_len = buf.len();
                    let data = buf.split_to(original_len.min(self.max_frame)).freeze();
                    buf.clear();
                    Some(Frame {
                        data,
                        truncated: true,
                        original_len,
                    })
                }
            },
        }
    }

    /// Discards bytes owed to an oversized frame. Returns true once nothing is owed.
    fn discard(&mut self, buf: &mut BytesMut) -> bool {
        match self.skip {
            Skip::Nothing => true,
            Skip::Bytes(remaining) => {
                let n = remaining.min(buf.len());
                buf.advance(n);
                if n == remaining {
                    self.skip = Skip::Nothing;
                    true
                } else {
                    self.skip = Skip::Bytes(remaining - n);
                    false
                }
            }
            Skip::ToTerminator => {
                let found = find_terminator(buf);
                let upto = found.unwrap_or(buf.len());
                if let Some(h) = &mut self.held {
                    if upto > 0 {
                        h.seen += upto;
                        h.last_cr = buf[upto - 1] == b'\r';
                    }
                }
                match found {
                    Some(end) => {
                        buf.advance(end + 1);
                        self.skip = Skip::Nothing;
                        true
                    }
                    None => {
                        buf.clear();
                        false
                    }
                }
            }
        }
    }

    fn decode_line(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        loop {
            let start = self.scanned.min(buf.len());
            let Some(offset) = find_terminator(&buf[start..]) else {
                return self.truncate_unterminated(buf);
            };
            self.scanned = 0;
            let end = start + offset;
            let mut line = buf.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if line.is_empty() {
                // Blank lines (CRLF CRLF, keepalive newlines) are not messages.
                continue;
            }
            let original_len = line.len();
            if original_len > self.max_frame {
                line.truncate(self.max_frame);
                return Some(Frame {
                    data: line.freeze(),
                    truncated: true,
                    original_len,
                });
            }
            return Some(Frame::whole(line.freeze()));
        }
    }

    /// No terminator in the buffer: wait for more, or, once the line certainly exceeds
    /// `max_frame`, deliver its first `max_frame` bytes and discard the rest unseen.
    fn truncate_unterminated(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        let n = buf.len();
        self.scanned = n;
        // With exactly max_frame + 1 bytes and a CR last, a LF may still follow and
        // make it a line of exactly max_frame bytes; only then is it too early to tell.
        let limit = self.max_frame.saturating_add(1);
        let oversized = n > limit || (n == limit && buf.last() != Some(&b'\r'));
        if !oversized {
            return None;
        }
        let last_cr = buf.last() == Some(&b'\r');
        let data = buf.split_to(self.max_frame).freeze();
        buf.clear();
        self.scanned = 0;
        self.skip = Skip::ToTerminator;
        // Delivered once the line's end is seen (or at end of stream), with its real length.
        self.held = Some(Held {
            data,
            seen: n,
            last_cr,
        });
        None
    }

    fn decode_counted(
        &mut self,
        buf: &mut BytesMut,
        header_len: usize,
        msg_len: usize,
    ) -> Option<Frame> {
        if msg_len <= self.max_frame {
            if buf.len() < header_len.saturating_add(msg_len) {
                return None;
            }
            buf.advance(header_len);
            let mut msg = buf.split_to(msg_len);
            strip_counted_lf(&mut msg);
            return Some(Frame::whole(msg.freeze()));
        }
        // Oversized: deliver as soon as max_frame bytes are here rather than buffering
        // the declared length, which the peer controls.
        if buf.len() < header_len.saturating_add(self.max_frame) {
            return None;
        }
        buf.advance(header_len);
        let data = buf.split_to(self.max_frame).freeze();
        self.skip = Skip::Bytes(msg_len - self.max_frame);
        self.discard(buf);
        Some(Frame {
            data,
            truncated: true,
            original_len: msg_len,
        })
    }

    fn tail_line(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        let mut line = buf.split();
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        if line.is_empty() {
            return None;
        }
        let original_len = line.len();
        if original_len > self.max_frame {
            line.truncate(self.max_frame);
            return Some(Frame {
                data: line.freeze(),
                truncated: true,
                original_len,
            });
        }
        Some(Frame::whole(line.freeze()))
    }
}

/// rsyslog and loggen count the template's trailing LF inside the frame; it is a line
/// end, not message content. Strips one LF and a CR before it.
fn strip_counted_lf(msg: &mut BytesMut) {
    if msg.last() == Some(&b'\n') {
        let mut len = msg.len() - 1;
        if len > 0 && msg[len - 1] == b'\r' {
            len -= 1;
        }
        msg.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSYSLOG_FRAME: &[u8] = b"110 <13>1 2026-11-21T13:40:41.368602+00:00 vm relayed - RT1 [timeQuality tzKnown=\"1\" isSynced=\"0\"] round trip one\n";
    const LOGGER_MSG: &[u8] = b"<13>1 2026-11-21T13:39:30.650410+00:00 vm-01 myapp - - [timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"12345\"] m";
    const CISCO: &[u8] = b"123: *Mar  1 00:01:02: %SYS-5-CONFIG_I: x\n";

    #[derive(Debug, PartialEq, Eq)]
    struct Outcome {
        frames: Vec<Frame>,
        events: Vec<FramingEvent>,
        framing: Framing,
        max_buf: usize,
    }

    /// Feeds `chunks` one after another, draining frames after each, then finishes.
    fn run(max_frame: usize, chunks: &[&[u8]]) -> Outcome {
        run_with(FrameDecoder::new(max_frame), chunks)
    }

    fn run_with(mut dec: FrameDecoder, chunks: &[&[u8]]) -> Outcome {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        let mut events = Vec::new();
        let mut max_buf = 0;
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(f) = dec.decode(&mut buf) {
                frames.push(f);
            }
            max_buf = max_buf.max(buf.len());
            events.extend(dec.take_events());
        }
        let framing = dec.framing();
        while let Some(f) = dec.finish(&mut buf) {
            frames.push(f);
        }
        events.extend(dec.take_events());
        assert!(buf.is_empty(), "finish must drain the buffer");
        Outcome {
            frames,
            events,
            framing,
            max_buf,
        }
    }

    fn datas(o: &Outcome) -> Vec<&[u8]> {
        o.frames.iter().map(|f| &f.data[..]).collect()
    }

    fn octet(msg: &[u8]) -> Vec<u8> {
        let mut v = format!("{} ", msg.len()).into_bytes();
        v.extend_from_slice(msg);
        v
    }

    /// Same outcome (frames, events, framing) whole, byte by byte, and split in two at
    /// every point.
    fn assert_split_invariant(max_frame: usize, input: &[u8]) -> Outcome {
        let whole = run(max_frame, &[input]);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let one = run(max_frame, &bytes);
        assert_eq!(whole.frames, one.frames, "byte by byte");
        assert_eq!(whole.events, one.events, "byte by byte");
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            let two = run(max_frame, &[a, b]);
            assert_eq!(whole.frames, two.frames, "split at {i}");
            assert_eq!(whole.events, two.events, "split at {i}");
        }
        whole
    }

    #[test]
    fn lf_lines() {
        let o = run(1024, &[b"<13>first line\n<14>second\n"]);
        assert_eq!(datas(&o), [&b"<13>first line"[..], b"<14>second"]);
        assert!(o
            .frames
            .iter()
            .all(|f| !f.truncated && f.original_len == f.data.len()));
        assert_eq!(o.framing, Framing::LineFeed);
        assert!(o.events.is_empty());
    }

    #[test]
    fn crlf_and_blank_lines() {
        let o = run(1024, &[b"<13>a\r\n\r\n\r\n<14>b\r\n\n\r\n"]);
        assert_eq!(datas(&o), [&b"<13>a"[..], b"<14>b"]);
    }

    #[test]
    fn nul_terminates_lines() {
        let o = run(1024, &[b"<13>a\0<14>b\r\0\0<15>c\n"]);
        assert_eq!(datas(&o), [&b"<13>a"[..], b"<14>b", b"<15>c"]);
    }

    #[test]
    fn octet_counted_from_logger_without_lf() {
        assert_eq!(LOGGER_MSG.len(), 116);
        let mut input = octet(LOGGER_MSG);
        assert!(input.starts_with(b"116 <13>1 "));
        input.extend_from_slice(&octet(b"<13>1 - - - - - second"));
        let o = assert_split_invariant(1024, &input);
        assert_eq!(o.framing, Framing::OctetCounted);
        assert_eq!(datas(&o), [LOGGER_MSG, b"<13>1 - - - - - second"]);
        assert!(o.events.is_empty());
    }

    #[test]
    fn octet_counted_from_rsyslog_counts_the_lf() {
        let mut input = RSYSLOG_FRAME.to_vec();
        input.extend_from_slice(RSYSLOG_FRAME);
        let o = assert_split_invariant(1024, &input);
        let expected = &RSYSLOG_FRAME[4..RSYSLOG_FRAME.len() - 1];
        assert_eq!(datas(&o), [expected, expected]);
        assert_eq!(o.frames[0].original_len, 109);
        assert!(o.events.is_empty());
    }

    #[test]
    fn octet_counted_from_loggen_with_bom_and_crlf() {
        let msg = b"<38>1 2026-11-21T13:41:00+00:00 localhost prg00000 1234 - - \xef\xbb\xbfseq: 0000000000, thread: 0000\n";
        let crlf = b"<38>1 - - - - - crlf\r\n";
        let mut input = octet(msg);
        input.extend_from_slice(&octet(crlf));
        let o = assert_split_invariant(1024, &input);
        assert_eq!(
            datas(&o),
            [&msg[..msg.len() - 1], &crlf[..crlf.len() - 2]],
            "one LF (and its CR) stripped, BOM untouched"
        );
    }

    #[test]
    fn only_one_counted_lf_is_stripped() {
        let o = run(1024, &[&octet(b"<13>two\n\n")]);
        assert_eq!(datas(&o), [&b"<13>two\n"[..]]);
    }

    #[test]
    fn split_invariance_lf_mixed() {
        let input = b"<13>a\r\n\r\n<14>bb\n\0<15>ccc\r\n";
        let o = assert_split_invariant(1024, input);
        assert_eq!(datas(&o), [&b"<13>a"[..], b"<14>bb", b"<15>ccc"]);
    }

    #[test]
    fn split_invariance_with_octet_truncation_and_fallback() {
        let mut input = octet(b"<13>short\n");
        input.extend_from_slice(&octet(b"<13>this one is longer than sixteen bytes"));
        input.extend_from_slice(b"\n");
        input.extend_from_slice(&octet(b"<13>ok"));
        input.extend_from_slice(b"oops not a header\r\n<14>as a line\n");
        let o = assert_split_invariant(16, &input);
        assert_eq!(
            datas(&o),
            [
                &b"<13>short"[..],
                b"<13>this one is ",
                b"<13>ok",
                b"oops not a heade",
                b"<14>as a line"
            ]
        );
        assert_eq!(o.frames[1].original_len, 41);
        assert!(o.frames[1].truncated);
        assert!(o.frames[3].truncated);
        assert_eq!(o.frames[3].original_len, 17);
        assert_eq!(o.events, [FramingEvent::FellBackToLineFeed]);
    }

    #[test]
    fn cisco_line_with_leading_digits_is_lf() {
        let mut input = CISCO.to_vec();
        input.extend_from_slice(b"124: *Mar  1 00:01:03: %SYS-5-CONFIG_I: y\n");
        let o = assert_split_invariant(1024, &input);
        assert_eq!(o.framing, Framing::LineFeed);
        assert_eq!(
            datas(&o),
            [
                &CISCO[..CISCO.len() - 1],
                b"124: *Mar  1 00:01:03: %SYS-5-CONFIG_I: y"
            ]
        );
        assert!(o.events.is_empty());
    }

    #[test]
    fn digits_then_space_without_pri_is_lf() {
        let o = run(1024, &[b"2026 Nov 21 something\n", b"12 <13>x\n"]);
        assert_eq!(o.framing, Framing::LineFeed);
        assert_eq!(datas(&o), [&b"2026 Nov 21 something"[..], b"12 <13>x"]);
    }

    #[test]
    fn waits_for_enough_bytes_to_decide() {
        let mut dec = FrameDecoder::new(1024);
        let mut buf = BytesMut::from(&b"12"[..]);
        assert_eq!(dec.decode(&mut buf), None);
        assert_eq!(dec.framing(), Framing::Undecided);
        buf.extend_from_slice(b" ");
        assert_eq!(dec.decode(&mut buf), None);
        assert_eq!(dec.framing(), Framing::Undecided);
        buf.extend_from_slice(b"<13>x");
        assert_eq!(dec.decode(&mut buf), None);
        assert_eq!(dec.framing(), Framing::OctetCounted);
        buf.extend_from_slice(b"yzzzzzz");
        let f = dec.decode(&mut buf).expect("frame");
        assert_eq!(&f.data[..], b"<13>xyzzzzzz");
        assert!(buf.is_empty());
    }

    #[test]
    fn decides_without_waiting_forever() {
        for (input, framing) in [
            (&b"123456789"[..], Framing::Undecided),
            (b"1234567890", Framing::LineFeed),
            (b"12:", Framing::LineFeed),
            (b"0 <", Framing::LineFeed),
            (b"012 <1>", Framing::LineFeed),
            (b"12  <", Framing::LineFeed),
            (b"hello", Framing::LineFeed),
            (b"<", Framing::LineFeed),
            (b" 12 <1>", Framing::LineFeed),
        ] {
            let mut dec = FrameDecoder::new(1024);
            let mut buf = BytesMut::from(input);
            assert_eq!(dec.decode(&mut buf), None, "{input:?}");
            assert_eq!(dec.framing(), framing, "{input:?}");
        }
    }

    #[test]
    fn octet_mode_bad_header_falls_back_and_keeps_text() {
        let mut input = octet(b"<13>counted");
        input.extend_from_slice(b"hello world\r\n123: *Mar  1 cisco\n13 <13>not counted\n");
        let o = assert_split_invariant(1024, &input);
        assert_eq!(o.events, [FramingEvent::FellBackToLineFeed]);
        assert_eq!(
            datas(&o),
            [
                &b"<13>counted"[..],
                b"hello world",
                b"123: *Mar  1 cisco",
                b"13 <13>not counted"
            ]
        );
    }

    #[test]
    fn fallback_event_is_drained_once() {
        let mut dec = FrameDecoder::new(1024);
        let mut buf = BytesMut::from(&b"3 <1>05 <1>ab\n"[..]);
        assert_eq!(&dec.decode(&mut buf).unwrap().data[..], b"<1>");
        assert_eq!(&dec.decode(&mut buf).unwrap().data[..], b"05 <1>ab");
        assert_eq!(dec.framing(), Framing::LineFeed);
        assert_eq!(dec.take_events(), [FramingEvent::FellBackToLineFeed]);
        assert!(dec.take_events().is_empty());
    }

    #[test]
    fn octet_mode_tolerates_uncounted_lf_between_frames() {
        let mut input = octet(b"<1>ab");
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(&octet(b"<1>cd"));
        input.extend_from_slice(b"\n");
        let o = assert_split_invariant(1024, &input);
        assert_eq!(datas(&o), [&b"<1>ab"[..], b"<1>cd"]);
        assert!(o.events.is_empty());
        assert_eq!(o.framing, Framing::OctetCounted);
    }

    #[test]
    fn oversize_line_is_truncated_and_next_frame_intact() {
        let long = [b'x'; 40];
        let mut input = b"<13>".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\r\n<14>next\n");
        let o = run(16, &[&input]);
        assert_eq!(o.frames.len(), 2);
        assert!(o.frames[0].truncated);
        assert_eq!(&o.frames[0].data[..], &input[..16]);
        assert_eq!(
            o.frames[0].original_len, 44,
            "exact when the LF was buffered"
        );
        assert_eq!(o.frames[1], Frame::whole(Bytes::from_static(b"<14>next")));

        // Streamed: the head is held (never more than max_frame bytes) until the line
        // ends, so the reported length is still exact.
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let o = run(16, &bytes);
        assert_eq!(datas(&o), [&input[..16], b"<14>next"]);
        assert!(o.frames[0].truncated);
        assert_eq!(o.frames[0].original_len, 44);
        assert!(o.max_buf <= 17);
    }

    #[test]
    fn line_of_exactly_max_frame_is_whole() {
        // Byte by byte, max_frame bytes + CR must wait for the LF rather than truncate.
        let input = b"<13>456789abcdef\r\n<13>456789abcdefg\n";
        let o = assert_split_invariant(16, input);
        assert_eq!(
            o.frames[0],
            Frame::whole(Bytes::from_static(b"<13>456789abcdef"))
        );
        assert!(o.frames[1].truncated);
        assert_eq!(&o.frames[1].data[..], b"<13>456789abcdef");
    }

    #[test]
    fn octet_frame_at_and_over_max_frame() {
        let mut input = octet(b"<13>456789abcdef");
        input.extend_from_slice(&octet(b"<13>456789abcdefg"));
        input.extend_from_slice(&octet(b"<13>456789abcdef\n"));
        input.extend_from_slice(&octet(b"<1>z"));
        let o = assert_split_invariant(16, &input);
        let f = &o.frames;
        assert_eq!(f[0], Frame::whole(Bytes::from_static(b"<13>456789abcdef")));
        assert_eq!(
            f[1],
            Frame {
                data: Bytes::from_static(b"<13>456789abcdef"),
                truncated: true,
                original_len: 17
            }
        );
        assert!(
            f[2].truncated,
            "the counted LF still counts towards the size"
        );
        assert_eq!(f[3], Frame::whole(Bytes::from_static(b"<1>z")));
    }

    const TEN_MB: usize = 10 * 1024 * 1024;
    const CHUNK: usize = 4096;

    /// Streams `head`, then 10 MB of filler in small chunks, then `tail`, checking the
    /// buffer after every chunk.
    fn stream_huge(dec: &mut FrameDecoder, head: &[u8], tail: &[u8]) -> (Vec<Frame>, usize) {
        let filler = [b'a'; CHUNK];
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        let mut max_buf = 0;
        let mut feed = |buf: &mut BytesMut, bytes: &[u8]| {
            buf.extend_from_slice(bytes);
            while let Some(f) = dec.decode(buf) {
                frames.push(f);
            }
            max_buf = max_buf.max(buf.len());
        };
        feed(&mut buf, head);
        for _ in 0..TEN_MB / CHUNK {
            feed(&mut buf, &filler);
        }
        feed(&mut buf, tail);
        while let Some(f) = dec.finish(&mut buf) {
            frames.push(f);
        }
        (frames, max_buf)
    }

    #[test]
    fn ten_mb_line_keeps_buffer_bounded() {
        let max = 64 * 1024;
        let mut dec = FrameDecoder::new(max);
        let (frames, max_buf) = stream_huge(&mut dec, b"<13>", b"\n<14>after\n");
        assert!(max_buf <= max + 2 + CHUNK, "buffer grew to {max_buf}");
        assert_eq!(frames.len(), 2);
        assert!(frames[0].truncated);
        assert_eq!(frames[0].data.len(), max);
        assert!(frames[0].original_len > max);
        assert_eq!(frames[1], Frame::whole(Bytes::from_static(b"<14>after")));
    }

    #[test]
    fn ten_mb_octet_frame_keeps_buffer_bounded() {
        let max = 64 * 1024;
        let mut dec = FrameDecoder::new(max);
        let head = format!("{} <13>", TEN_MB + 4);
        let (frames, max_buf) = stream_huge(&mut dec, head.as_bytes(), b"9 <14>after");
        assert!(max_buf <= max + 10 + CHUNK, "buffer grew to {max_buf}");
        assert_eq!(frames.len(), 2);
        assert!(frames[0].truncated);
        assert_eq!(frames[0].original_len, TEN_MB + 4);
        assert_eq!(&frames[0].data[..4], b"<13>");
        assert_eq!(frames[0].data.len(), max);
        assert_eq!(frames[1], Frame::whole(Bytes::from_static(b"<14>after")));
        assert!(dec.take_events().is_empty());
    }

    #[test]
    fn finish_returns_trailing_partial_line() {
        let o = run(1024, &[b"<13>a\n<13>partial\r"]);
        assert_eq!(datas(&o), [&b"<13>a"[..], b"<13>partial"]);
        assert!(!o.frames[1].truncated);
    }

    #[test]
    fn finish_returns_partial_octet_frame_truncated() {
        let o = run(1024, &[b"50 <13>abc\n"]);
        assert_eq!(
            o.frames,
            [Frame {
                data: Bytes::from_static(b"<13>abc"),
                truncated: true,
                original_len: 50
            }]
        );
        let mut input = octet(b"<1>a");
        input.extend_from_slice(b"12");
        let o = run(1024, &[&input]);
        assert_eq!(datas(&o), [&b"<1>a"[..], b"12"]);
        assert!(o.frames[1].truncated, "a lone partial header is incomplete");
    }

    #[test]
    fn finish_with_undecided_prefix_delivers_it() {
        let o = run(1024, &[b"12 "]);
        assert_eq!(o.framing, Framing::Undecided);
        assert_eq!(datas(&o), [&b"12 "[..]]);
    }

    #[test]
    fn finish_while_discarding_oversize_delivers_nothing_more() {
        let o = run(4, &[b"<13>abcdefgh"]);
        assert_eq!(datas(&o), [&b"<13>"[..]]);
        let o = run(4, &[b"100 <13>abcdefgh"]);
        assert_eq!(datas(&o), [&b"<13>"[..]]);
        assert_eq!(o.frames[0].original_len, 100);
    }

    #[test]
    fn empty_input() {
        let mut dec = FrameDecoder::new(1024);
        let mut buf = BytesMut::new();
        assert_eq!(dec.decode(&mut buf), None);
        assert_eq!(dec.finish(&mut buf), None);
        assert_eq!(dec.finish(&mut buf), None);
        assert_eq!(dec.framing(), Framing::Undecided);
        assert!(dec.take_events().is_empty());
        let o = run(1024, &[b"\r\n\n\r\n"]);
        assert!(o.frames.is_empty());
    }

    #[test]
    fn invalid_utf8_passes_through() {
        let input = b"<13>\xff\xfe\xc3(bad\x80\n";
        let o = run(1024, &[input]);
        assert_eq!(datas(&o), [&input[..input.len() - 1]]);
        let msg = b"<13>\xff\xfe\n";
        let o = run(1024, &[&octet(msg)]);
        assert_eq!(datas(&o), [&b"<13>\xff\xfe"[..]]);
    }

    #[test]
    fn forced_framing() {
        let o = run_with(
            FrameDecoder::with_framing(1024, Framing::LineFeed),
            &[b"12 <13>x\n"],
        );
        assert_eq!(datas(&o), [&b"12 <13>x"[..]]);
        let o = run_with(
            FrameDecoder::with_framing(1024, Framing::OctetCounted),
            &[b"<13>x\n"],
        );
        assert_eq!(datas(&o), [&b"<13>x"[..]]);
        assert_eq!(o.events, [FramingEvent::FellBackToLineFeed]);
        assert_eq!(FrameDecoder::new(0).max_frame(), 1);
    }

    /// Deterministic xorshift so the garbage test needs no extra crate.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn garbage_never_panics_and_respects_invariants() {
        // Biased alphabet so headers, PRIs, terminators and digits all show up often.
        const ALPHABET: &[u8] = b"0123456789 <>\n\r\0abc\xff";
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let len = (rng(&mut seed) % 64) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng(&mut seed);
                    if r.is_multiple_of(4) {
                        r as u8
                    } else {
                        ALPHABET[(r % ALPHABET.len() as u64) as usize]
                    }
                })
                .collect();
            let max_frame = 1 + (rng(&mut seed) % 20) as usize;
            let chunk = 1 + (rng(&mut seed) % 8) as usize;
            let chunks: Vec<&[u8]> = input.chunks(chunk).collect();
            let o = run(max_frame, &chunks);
            assert!(o.events.len() <= 1);
            for f in &o.frames {
                assert!(!f.data.is_empty(), "{input:?}");
                assert!(f.data.len() <= max_frame, "{input:?}");
                assert!(f.original_len >= f.data.len());
                if !f.truncated {
                    assert_eq!(f.original_len, f.data.len());
                }
            }
            assert!(o.max_buf <= max_frame + 10 + chunk, "{input:?}");
            let total: usize = o.frames.iter().map(|f| f.data.len()).sum();
            assert!(total <= input.len());
        }
    }
}

//! Header timestamp lexing shared by the Cisco pre-parser and the BSD path.
//!
//! Lexing is separated from conversion so that a header whose shape is recognised but whose
//! date is impossible (`Feb 30`) still parses, with the timestamp left out, and so that a failed
//! Cisco attempt does not pay for a chrono conversion.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use super::{year, zone};

/// Which header grammar is asking: Cisco allows uptime stamps and `ZONE:` suffixes, BSD does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Cisco,
    Bsd,
}

pub(crate) struct Stamp<'a> {
    /// Byte index just past the stamp (and its zone, if any).
    pub end: usize,
    pub kind: Kind<'a>,
}

pub(crate) enum Kind<'a> {
    Date(Date<'a>),
    /// Cisco `service timestamps log uptime`: `3d04h`, `1w2d`, `00:01:02`.
    Uptime(&'a str),
}

pub(crate) struct Date<'a> {
    year: Option<i32>,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Seconds east of UTC; `None` means the sender gave no zone, which we read as UTC.
    offset: Option<i32>,
    /// A `show-timezone` name we cannot map (`NewYork`); the time is then taken as UTC.
    pub unknown_zone: Option<&'a str>,
    /// NX-OS writes `2026 Aug 14 ...`.
    pub year_first: bool,
    /// `syslog_loose` reads this stamp exactly as we do (no fraction, no zone name, no
    /// offset-less ISO form), so the BSD path may hand the line to it.
    pub clean: bool,
}

impl Date<'_> {
    pub(crate) fn value(&self, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        let year = match self.year {
            Some(y) => y,
            None => year::resolve(
                now,
                self.month,
                self.day,
                self.hour,
                self.minute,
                self.second,
            ),
        };
        let naive = NaiveDate::from_ymd_opt(year, self.month, self.day)?.and_hms_nano_opt(
            self.hour,
            self.minute,
            self.second,
            self.nanos,
        )?;
        let offset = FixedOffset::east_opt(self.offset.unwrap_or(0))?;
        offset.from_local_datetime(&naive).single()
    }
}

/// Lexes a stamp starting at byte `i` of `s`.
pub(crate) fn parse(s: &str, i: usize, mode: Mode) -> Option<Stamp<'_>> {
    let b = s.as_bytes();
    let first = *b.get(i)?;
    if first.is_ascii_alphabetic() {
        return month_first(s, i, mode);
    }
    if !first.is_ascii_digit() {
        return None;
    }
    match (digits(b, i, 4, 4), b.get(i + 4)) {
        (Some((y, _)), Some(b'-')) => iso(b, i, y as i32),
        (Some((y, j)), Some(b' ')) => year_first(s, j + 1, y as i32, mode),
        _ if mode == Mode::Cisco => uptime(s, i),
        _ => None,
    }
}

/// `Mmm dd [yyyy ]hh:mm:ss[.fff][ ZONE]`
fn month_first(s: &str, i: usize, mode: Mode) -> Option<Stamp<'_>> {
    let b = s.as_bytes();
    let (month, j) = month(b, i)?;
    let j = spaces1(b, j)?;
    let (day, j) = digits(b, j, 1, 2)?;
    let j = spaces1(b, j)?;
    let (year, j) = match clock(b, j) {
        Some(_) => (None, j),
        None => {
            let (y, k) = digits(b, j, 4, 4)?;
            (Some(y as i32), spaces1(b, k)?)
        }
    };
    date_tail(s, j, year, month, day, false, mode)
}

/// NX-OS: `yyyy Mmm dd hh:mm:ss[.fff][ ZONE]` (`j` points at the month).
fn year_first(s: &str, j: usize, year: i32, mode: Mode) -> Option<Stamp<'_>> {
    let b = s.as_bytes();
    let (month, j) = month(b, j)?;
    let j = spaces1(b, j)?;
    let (day, j) = digits(b, j, 1, 2)?;
    let j = spaces1(b, j)?;
    date_tail(s, j, Some(year), month, day, true, mode)
}

fn date_tail(
    s: &str,
    j: usize,
    year: Option<i32>,
    month: u32,
    day: u32,
    year_first: bool,
    mode: Mode,
) -> Option<Stamp<'_>> {
    let b = s.as_bytes();
    let c = clock(b, j)?;
    let mut date = Date {
        year,
        month,
        day,
        hour: c.hour,
        minute: c.minute,
        second: c.second,
        nanos: c.nanos,
        offset: None,
        unknown_zone: None,
        year_first,
        clean: !c.fraction && !year_first,
    };
    let mut end = c.end;
    if mode == Mode::Cisco {
        if let Some((offset, name, k)) = zone::parse(s, end) {
            date.offset = offset;
            date.unknown_zone = if offset.is_none() { Some(name) } else { None };
            date.clean = false;
            end = k;
        }
    }
    Some(Stamp {
        end,
        kind: Kind::Date(date),
    })
}

/// `yyyy-mm-ddThh:mm:ss[.f][Z|±hh:mm|±hhmm]`; without an offset (loggen's legacy header) UTC.
fn iso(b: &[u8], i: usize, year: i32) -> Option<Stamp<'static>> {
    let (month, j) = digits(b, i + 5, 2, 2)?;
    let j = expect(b, j, b'-')?;
    let (day, j) = digits(b, j, 2, 2)?;
    let j = match b.get(j) {
        Some(b'T') | Some(b't') => j + 1,
        _ => return None,
    };
    let c = clock(b, j)?;
    let (offset, end) = match b.get(c.end) {
        Some(b'Z') | Some(b'z') => (Some(0), c.end + 1),
        Some(&sign @ (b'+' | b'-')) => {
            let (hh, k) = digits(b, c.end + 1, 2, 2)?;
            let k = if b.get(k) == Some(&b':') { k + 1 } else { k };
            let (mm, k) = digits(b, k, 2, 2)?;
            let secs = (hh * 3600 + mm * 60) as i32;
            (Some(if sign == b'-' { -secs } else { secs }), k)
        }
        _ => (None, c.end),
    };
    Some(Stamp {
        end,
        kind: Kind::Date(Date {
            year: Some(year),
            month,
            day,
            hour: c.hour,
            minute: c.minute,
            second: c.second,
            nanos: c.nanos,
            offset,
            unknown_zone: None,
            year_first: false,
            // syslog_loose insists on RFC 3339, which needs the offset.
            clean: offset.is_some(),
        }),
    })
}

/// Uptime stamps only count when a `:` follows, as in `77: 3d04h: %LINEPROTO-...`; otherwise a
/// number followed by letters is just text.
fn uptime(s: &str, i: usize) -> Option<Stamp<'_>> {
    let b = s.as_bytes();
    let end = if let Some(c) = clock(b, i) {
        (c.hour < 100 && c.end - i >= 8).then_some(c.end)?
    } else {
        let (_, j) = digits(b, i, 1, 4)?;
        let j = one_of(b, j, b"ywd")?;
        let (_, j) = digits(b, j, 1, 2)?;
        one_of(b, j, b"wdh")?
    };
    (b.get(end) == Some(&b':')).then_some(())?;
    Some(Stamp {
        end,
        kind: Kind::Uptime(s.get(i..end)?),
    })
}

struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    fraction: bool,
    end: usize,
}

fn clock(b: &[u8], i: usize) -> Option<Clock> {
    let (hour, j) = digits(b, i, 1, 2)?;
    let j = expect(b, j, b':')?;
    let (minute, j) = digits(b, j, 2, 2)?;
    let j = expect(b, j, b':')?;
    let (second, mut end) = digits(b, j, 2, 2)?;
    let mut nanos = 0;
    let mut fraction = false;
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        fraction = true;
        end += 1;
        let mut scale = 100_000_000;
        while let Some(d) = b.get(end).filter(|d| d.is_ascii_digit()) {
            nanos += u32::from(d - b'0') * scale;
            scale /= 10;
            end += 1;
        }
    }
    Some(Clock {
        hour,
        minute,
        second,
        nanos,
        fraction,
        end,
    })
}

fn month(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let m = b.get(i..i + 3)?;
    if b.get(i + 3).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    let n = match &lower {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    };
    Some((n, i + 3))
}

/// Between `min` and `max` ASCII digits (`max` <= 9 so the value fits); more digits fail.
pub(crate) fn digits(b: &[u8], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut j = i;
    let mut value: u32 = 0;
    while let Some(d) = b.get(j).filter(|d| d.is_ascii_digit()) {
        if j - i == max {
            return None;
        }
        value = value * 10 + u32::from(d - b'0');
        j += 1;
    }
    (j - i >= min).then_some((value, j))
}

fn spaces1(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while b.get(j) == Some(&b' ') {
        j += 1;
    }
    (j > i).then_some(j)
}

fn expect(b: &[u8], i: usize, c: u8) -> Option<usize> {
    (b.get(i) == Some(&c)).then_some(i + 1)
}

fn one_of(b: &[u8], i: usize, set: &[u8]) -> Option<usize> {
    b.get(i).filter(|c| set.contains(c)).map(|_| i + 1)
}

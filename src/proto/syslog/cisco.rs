//! Cisco IOS / IOS-XE / IOS-XR / NX-OS / ASA header pre-parser.
//!
//! Runs before the generic parsers because `syslog_loose` rejects or mangles every IOS line with
//! a counter, sequence number, `*`/`.` clock marker, uptime stamp, milliseconds or NX-OS date,
//! and takes the mnemonic or `%ASA-…` tag as the host name. The grammar (after the PRI) is
//!
//! ```text
//! [: ][counter: ][origin-id: ][seq: ][node:][*|.]stamp[ ZONE][ device-id ]: [proc[pid]: ]%FAC-SEV-MNEMONIC: text
//! ```
//!
//! and a line only counts as Cisco when it ends in a well-formed `%FAC-SEV-MNEMONIC` token, so a
//! BSD line such as `Mar 15 10:22:33 web01 sshd[1234]: …` falls through untouched.

use chrono::{DateTime, Utc};

use crate::small_str::SmallStr;

use super::stamp::{self, Kind as StampKind, Mode};
use super::{Format, Member, Parsed, Vendor};

/// `%FAC-SEV-NAME` as found at the start of a Cisco, Arista or Junos explicit-priority text.
pub(crate) struct Mnemonic<'a> {
    pub facility: &'a str,
    pub severity: u8,
    pub name: &'a str,
}

/// Parses `%FAC[-SUB]-SEV-NAME:` (or ` :`, as IOS-XR writes it) at byte `i`.
pub(crate) fn mnemonic(s: &str, i: usize) -> Option<Mnemonic<'_>> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'%') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    {
        j += 1;
    }
    let terminated =
        b.get(j) == Some(&b':') || (b.get(j) == Some(&b' ') && b.get(j + 1) == Some(&b':'));
    if !terminated {
        return None;
    }
    let token = s.get(start..j)?;
    let (head, name) = token.rsplit_once('-')?;
    let (facility, sev) = head.rsplit_once('-')?;
    let severity = match sev.as_bytes() {
        [d @ b'0'..=b'7'] => d - b'0',
        _ => return None,
    };
    let well_formed = !name.is_empty()
        && facility
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
        && !facility.split('-').any(str::is_empty);
    well_formed.then_some(Mnemonic {
        facility,
        severity,
        name,
    })
}

#[derive(Default)]
struct Header<'a> {
    counter: Option<u64>,
    sequence: Option<u64>,
    origin: Option<&'a str>,
    device_id: Option<&'a str>,
    node: Option<&'a str>,
    clock: Option<&'static str>,
    date: Option<stamp::Date<'a>>,
    uptime: Option<&'a str>,
    timezone: Option<&'a str>,
    year_first: bool,
    process: Option<(&'a str, &'a str)>,
    vdc: Option<&'a str>,
}

/// Tries the Cisco grammar on `s` (the line after its PRI). `None` means "not Cisco".
pub(crate) fn parse(s: &str, now: DateTime<Utc>) -> Option<Parsed> {
    let b = s.as_bytes();
    let mut h = Header::default();
    let mut i = 0;
    // `no logging message-counter syslog` leaves a bare `: ` (C4, NX-OS).
    let counter_off = b.first() == Some(&b':');
    if counter_off {
        i = skip_spaces(b, 1);
    }
    let mut numbers = 0;
    for _ in 0..6 {
        match *b.get(i)? {
            b'%' => return finish(s, i, h, now),
            marker @ (b'*' | b'.') => {
                h.clock = Some(if marker == b'*' {
                    "not_set"
                } else {
                    "unsynced"
                });
                let st = stamp::parse(s, i + 1, Mode::Cisco)?;
                return after_stamp(s, st, h, now);
            }
            _ => {}
        }
        if let Some(st) = stamp::parse(s, i, Mode::Cisco) {
            return after_stamp(s, st, h, now);
        }
        if let Some((n, j)) = number_field(b, i) {
            // The first number is the message counter unless the counter is off or an
            // origin-id already went by; any later number is the sequence number.
            if numbers == 0 && !counter_off && h.origin.is_none() {
                h.counter = n;
            } else if h.sequence.is_none() {
                h.sequence = n;
            }
            numbers += 1;
            i = j;
        } else if let Some((node, j)) = xr_node(s, i) {
            h.node = Some(node);
            i = j;
        } else if let Some((origin, j)) = origin_field(s, i).filter(|_| h.origin.is_none()) {
            h.origin = Some(origin);
            i = j;
        } else {
            return None;
        }
    }
    None
}

fn after_stamp<'a>(
    s: &'a str,
    st: stamp::Stamp<'a>,
    mut h: Header<'a>,
    now: DateTime<Utc>,
) -> Option<Parsed> {
    let b = s.as_bytes();
    match st.kind {
        StampKind::Date(d) => {
            h.timezone = d.unknown_zone;
            h.year_first = d.year_first;
            h.date = Some(d);
        }
        StampKind::Uptime(u) => h.uptime = Some(u),
    }
    let mut j = st.end;
    match (b.get(j), b.get(j + 1)) {
        (Some(b':'), _) => j = skip_spaces(b, j + 1),
        (Some(b' '), Some(b':')) => j = skip_spaces(b, j + 2),
        (Some(b' '), Some(_)) => {
            // ASA `logging device-id`: `stamp HOST : %ASA-…`.
            let start = j + 1;
            let mut k = start;
            while b.get(k).is_some_and(|c| is_host_byte(*c) && *c != b':') {
                k += 1;
            }
            if k == start {
                return None;
            }
            h.device_id = Some(s.get(start..k)?);
            j = match (b.get(k), b.get(k + 1)) {
                (Some(b' '), Some(b':')) => skip_spaces(b, k + 2),
                (Some(b':'), _) => skip_spaces(b, k + 1),
                _ => return None,
            };
        }
        _ => return None,
    }
    if b.get(j) != Some(&b'%') {
        // IOS-XR puts `process[pid]: ` between the stamp and the mnemonic.
        let (name, pid, k) = xr_process(s, j)?;
        h.process = Some((name, pid));
        j = k;
    }
    finish(s, j, h, now)
}

fn finish<'a>(s: &'a str, mut i: usize, mut h: Header<'a>, now: DateTime<Utc>) -> Option<Parsed> {
    // NX-OS on a non-default VDC: `%$ VDC-2 %$ %ETHPORT-5-SPEED: …`.
    if let Some(after) = s.get(i..).and_then(|r| r.strip_prefix("%$ ")) {
        let (vdc, _) = after.split_once(" %$ ")?;
        h.vdc = Some(vdc);
        i += 3 + vdc.len() + 4;
    }
    let m = mnemonic(s, i)?;
    let message = s.get(i..)?;
    let asa = matches!(m.facility, "ASA" | "FTD" | "PIX" | "FWSM");
    if asa && h.device_id.is_none() {
        // A short letters-only device-id before `:` reads like an IOS zone name.
        if let Some(zone) = h.timezone.take() {
            h.device_id = Some(zone);
        }
    }
    let format = if asa {
        Format::CiscoAsa
    } else if h.year_first {
        Format::CiscoNxos
    } else {
        Format::CiscoIos
    };

    let mut vendor = Vendor::new("cisco");
    vendor.insert("facility", m.facility);
    vendor.insert("severity", m.severity);
    if asa {
        vendor.insert("message_id", m.name);
    } else {
        vendor.insert("mnemonic", m.name);
    }
    let optional: [(&str, Option<Member>); 9] = [
        ("message_counter", h.counter.map(Member::from)),
        ("sequence", h.sequence.map(Member::from)),
        ("clock", h.clock.map(Member::from)),
        ("uptime", h.uptime.map(Member::from)),
        ("timezone", h.timezone.map(Member::from)),
        ("node", h.node.map(Member::from)),
        ("vdc", h.vdc.map(Member::from)),
        ("origin_id", h.origin.map(Member::from)),
        (
            "stack_member",
            (!asa)
                .then(|| stack_member(message))
                .flatten()
                .map(Member::from),
        ),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            vendor.insert(key, v);
        }
    }

    Some(Parsed {
        format,
        // Converted only now that the line is known to be Cisco.
        timestamp: h.date.and_then(|d| d.value(now)),
        hostname: h.origin.or(h.device_id).map(SmallStr::new),
        appname: h.process.map(|(name, _)| SmallStr::new(name)),
        procid: h.process.map(|(_, pid)| SmallStr::new(pid)),
        message: message.to_owned(),
        vendor,
        ..Parsed::default()
    })
}

/// `digits: ` (a counter or sequence number). The value is `None` when it overflows u64: still a
/// number field, just not one worth reporting.
fn number_field(b: &[u8], i: usize) -> Option<(Option<u64>, usize)> {
    let mut j = i;
    let mut value: Option<u64> = Some(0);
    while let Some(d) = b.get(j).filter(|d| d.is_ascii_digit()) {
        value = value
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(u64::from(d - b'0')));
        j += 1;
    }
    if j == i || b.get(j) != Some(&b':') || b.get(j + 1) != Some(&b' ') {
        return None;
    }
    Some((value, skip_spaces(b, j + 1)))
}

/// IOS-XR node id such as `RP/0/RSP0/CPU0:` (no space before the stamp).
fn xr_node(s: &str, i: usize) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    let mut j = i;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'/')
    {
        j += 1;
    }
    let node = s.get(i..j)?;
    (b.get(j) == Some(&b':') && node.contains('/')).then(|| (node, skip_spaces(b, j + 1)))
}

/// `logging origin-id`: a host name or address followed by `: `. Inner colons (IPv6) are fine
/// because only `: ` ends the field.
fn origin_field(s: &str, i: usize) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    if !b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut j = i;
    loop {
        match b.get(j) {
            Some(b':') if b.get(j + 1) == Some(&b' ') => break,
            Some(c) if is_host_byte(*c) => j += 1,
            _ => return None,
        }
    }
    let origin = s.get(i..j)?;
    if origin.ends_with(':') || origin.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((origin, skip_spaces(b, j + 1)))
}

/// IOS-XR `ifmgr[211]: `.
fn xr_process(s: &str, i: usize) -> Option<(&str, &str, usize)> {
    let b = s.as_bytes();
    let mut j = i;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
    {
        j += 1;
    }
    let name = s.get(i..j).filter(|n| !n.is_empty())?;
    if b.get(j) != Some(&b'[') {
        return None;
    }
    let pid_start = j + 1;
    let mut k = pid_start;
    while b.get(k).is_some_and(u8::is_ascii_digit) {
        k += 1;
    }
    let pid = s.get(pid_start..k).filter(|p| !p.is_empty())?;
    if b.get(k) != Some(&b']') || b.get(k + 1) != Some(&b':') {
        return None;
    }
    Some((name, pid, skip_spaces(b, k + 2)))
}

/// Stacked Catalyst switches end the text with ` (hostname-n)`; the brief keeps it in the
/// message and we only report it.
fn stack_member(message: &str) -> Option<&str> {
    let inner = message.strip_suffix(')')?;
    let member = inner.get(inner.rfind(" (")? + 2..)?;
    let (name, n) = member.rsplit_once('-')?;
    let ok = name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
        && (1..=2).contains(&n.len())
        && n.bytes().all(|c| c.is_ascii_digit());
    ok.then_some(member)
}

pub(crate) fn is_host_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"._-:".contains(&c)
}

pub(crate) fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

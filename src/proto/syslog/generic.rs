//! RFC 5424 and BSD (RFC 3164) headers.
//!
//! `syslog_loose` does the work for RFC 5424 and for BSD lines whose stamp it reads correctly
//! ("clean" stamps); its known BSD mistakes are then corrected from byte positions in the line:
//! a tag taken for a host (`Dec 17 08:05:30 RT_FLOW: …`), a mnemonic taken for a host, a first
//! word of free text taken for an app-name, and Junos logical-system tags (`LS:rpd[2301]:`) cut
//! at the colon. Stamps it cannot read (milliseconds, loggen's offset-less ISO stamp) go through
//! the small header walker here, which applies the same rules.

use chrono::{DateTime, FixedOffset, Utc};
use syslog_loose::{Message, Protocol, StructuredElement, Variant};

use crate::small_str::SmallStr;

use super::cisco::{is_host_byte, skip_spaces};
use super::stamp::{self, Kind as StampKind, Mode};
use super::{offset_in, year, Format, Parsed, StructuredData};

/// `line` starts at the PRI. `None` when it is not RFC 5424.
pub(crate) fn rfc5424(line: &str, now: DateTime<Utc>) -> Option<Parsed> {
    let m = syslog_loose::parse_message_with_year_exact_tz(
        line,
        year::resolver(now),
        Some(Utc),
        Variant::RFC5424,
    )
    .ok()?;
    let Protocol::RFC5424(version) = m.protocol else {
        return None;
    };
    let message = tail_from(line, m.msg);
    Some(Parsed {
        format: Format::Rfc5424,
        version: Some(version),
        timestamp: m.timestamp,
        hostname: m.hostname.map(SmallStr::new),
        appname: m.appname.map(SmallStr::new),
        procid: m.procid.map(|p| SmallStr::from(p.to_string())),
        msgid: m.msgid.map(SmallStr::new),
        structured_data: structured(&m.structured_data),
        message: message
            .strip_prefix('\u{feff}')
            .unwrap_or(message)
            .to_owned(),
        ..Parsed::default()
    })
}

/// `line` starts at the PRI (or at the stamp when there is none); `body` is where the header
/// after the PRI begins. `None` when no BSD stamp is found there.
pub(crate) fn rfc3164(line: &str, body: usize, now: DateTime<Utc>) -> Option<Parsed> {
    let b = line.as_bytes();
    let st = stamp::parse(line, skip_spaces(b, body), Mode::Bsd)?;
    let StampKind::Date(date) = &st.kind else {
        return None;
    };
    if !matches!(b.get(st.end), None | Some(b' ' | b'\t' | b':')) {
        return None;
    }
    if date.clean {
        let loose = syslog_loose::parse_message_with_year_exact_tz(
            line,
            year::resolver(now),
            Some(Utc),
            Variant::RFC3164,
        );
        if let Some(p) = loose.ok().and_then(|m| from_loose(line, st.end, m)) {
            return Some(p);
        }
    }
    Some(walk(line, st.end, date.value(now)))
}

/// Applies the corrections to a `syslog_loose` BSD result. `None` when its fields do not sit
/// where we expect them, in which case the caller walks the header itself.
fn from_loose(line: &str, stamp_end: usize, m: Message<&str>) -> Option<Parsed> {
    let b = line.as_bytes();
    let mut msg_at = offset_in(line, m.msg)?;
    let mut sd = m.structured_data;
    let mut host = None;
    let mut tag_at = None;
    if let Some(h) = m.hostname {
        let at = offset_in(line, h).filter(|at| *at >= stamp_end)?;
        if m.appname.is_none() && b.get(at + h.len()) == Some(&b':') {
            // A host is never followed by a colon; a tag is (SRX stream mode, `su:`).
            tag_at = Some(at);
        } else if valid_host(h) {
            host = Some(h);
        } else {
            // A mnemonic or other text: the header ends before it.
            return Some(bsd(m.timestamp, None, None, Vec::new(), line, at));
        }
    }
    if let Some(a) = m.appname {
        tag_at = Some(offset_in(line, a)?);
    }
    let mut tag_name = None;
    let mut pid = None;
    if let Some(at) = tag_at {
        match tag(line, at) {
            Some(t) => {
                tag_name = Some(t.name);
                pid = t.pid;
                if t.msg > msg_at {
                    // syslog_loose stopped early (`LS:rpd`); anything it took as SD was tag.
                    msg_at = t.msg;
                    sd.clear();
                }
            }
            None => {
                msg_at = at;
                sd.clear();
            }
        }
    }
    Some(bsd(
        m.timestamp,
        host,
        tag_name.map(|n| (n, pid)),
        sd,
        line,
        msg_at,
    ))
}

/// Header walker for stamps `syslog_loose` cannot read: `stamp [host ][tag[pid]: ]text`.
fn walk(line: &str, stamp_end: usize, timestamp: Option<DateTime<FixedOffset>>) -> Parsed {
    let b = line.as_bytes();
    let mut j = stamp_end;
    if b.get(j) == Some(&b':') {
        j += 1;
    }
    let j = skip_ws(b, j);
    if let Some(t) = tag(line, j) {
        return bsd(
            timestamp,
            None,
            Some((t.name, t.pid)),
            Vec::new(),
            line,
            t.msg,
        );
    }
    let mut end = j;
    while b.get(end).is_some_and(|c| !c.is_ascii_whitespace()) {
        end += 1;
    }
    match line.get(j..end).filter(|h| valid_host(h)) {
        Some(host) => {
            let k = skip_ws(b, end);
            match tag(line, k) {
                Some(t) => bsd(
                    timestamp,
                    Some(host),
                    Some((t.name, t.pid)),
                    Vec::new(),
                    line,
                    t.msg,
                ),
                None => bsd(timestamp, Some(host), None, Vec::new(), line, k),
            }
        }
        None => bsd(timestamp, None, None, Vec::new(), line, j),
    }
}

fn bsd(
    timestamp: Option<DateTime<FixedOffset>>,
    host: Option<&str>,
    tag: Option<(&str, Option<&str>)>,
    sd: Vec<StructuredElement<&str>>,
    line: &str,
    msg_at: usize,
) -> Parsed {
    Parsed {
        format: Format::Rfc3164,
        timestamp,
        hostname: host.map(SmallStr::new),
        appname: tag.map(|(name, _)| SmallStr::new(name)),
        procid: tag.and_then(|(_, pid)| pid).map(SmallStr::new),
        structured_data: structured(&sd),
        message: line.get(msg_at..).unwrap_or_default().to_owned(),
        ..Parsed::default()
    }
}

struct Tag<'a> {
    name: &'a str,
    pid: Option<&'a str>,
    /// Where the text after the tag starts.
    msg: usize,
}

/// `name[pid]:`, `name[pid]` or `name:` at byte `at`, followed by whitespace or the end. A
/// colon inside the name is kept when text follows it directly (Junos `LS:rpd`).
fn tag(line: &str, at: usize) -> Option<Tag<'_>> {
    let b = line.as_bytes();
    let mut j = at;
    while let Some(&c) = b.get(j) {
        let ends_name = c.is_ascii_whitespace()
            || c == b'['
            || (c == b':' && b.get(j + 1).is_none_or(u8::is_ascii_whitespace));
        if ends_name {
            break;
        }
        j += 1;
    }
    let name = line
        .get(at..j)
        .filter(|n| !n.is_empty() && !n.starts_with('%'))?;
    let mut pid = None;
    if b.get(j) == Some(&b'[') {
        let close = j + 1 + b.get(j + 1..)?.iter().position(|c| *c == b']')?;
        pid = Some(
            line.get(j + 1..close)
                .filter(|p| !p.contains(char::is_whitespace))?,
        );
        j = close + 1;
    }
    if b.get(j) == Some(&b':') {
        j += 1;
    } else if pid.is_none() {
        return None;
    }
    if !b.get(j).is_none_or(u8::is_ascii_whitespace) {
        return None;
    }
    Some(Tag {
        name,
        pid,
        msg: skip_ws(b, j),
    })
}

fn valid_host(h: &str) -> bool {
    let b = h.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && (b[0].is_ascii_alphanumeric() || b[0] == b':')
        && b[b.len() - 1] != b':'
        && b.iter().all(|c| is_host_byte(*c))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
        i += 1;
    }
    i
}

/// The rest of `line` from where `msg` starts, so trailing blanks that `syslog_loose` trimmed
/// are kept ("exactly as sent").
fn tail_from<'a>(line: &'a str, msg: &'a str) -> &'a str {
    offset_in(line, msg)
        .and_then(|at| line.get(at..))
        .unwrap_or(msg)
}

fn structured(sd: &[StructuredElement<&str>]) -> StructuredData {
    sd.iter()
        .map(|e| {
            let params = e
                .params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), unescape(v)))
                .collect();
            (e.id.to_owned(), params)
        })
        .collect()
}

/// RFC 5424 §6.3.3 PARAM-VALUE unescaping: `\"`, `\\` and `\]` lose the backslash, any other
/// backslash is literal. Done here rather than with `StructuredElement::params()`, which
/// allocates char by char and also turns `\n` into a newline.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\' | ']')) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn unescapes_only_what_rfc5424_escapes() {
        assert_eq!(unescape(r#"ticket \"42\""#), r#"ticket "42""#);
        assert_eq!(unescape(r"a\\b\]c"), r"a\b]c");
        assert_eq!(unescape(r"C:\temp\n"), r"C:\temp\n");
        assert_eq!(unescape("trailing\\"), "trailing\\");
        assert_eq!(unescape("plain"), "plain");
    }
}

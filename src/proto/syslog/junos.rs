//! Junos recognition and vendor attributes, applied to what the generic parsers produced.
//!
//! A line is Junos when its structured data carries a `junos@2636…` SD-ID, when its app-name is
//! an SRX security log (`RT_FLOW`, `RT_IDP`, …), or when a known Junos daemon (optionally behind a
//! logical-system prefix, `LS:rpd`) starts its text with a Junos tag (`UI_COMMIT:`) or an
//! explicit-priority token (`%DAEMON-4-BGP_NEIGHBOR_STATE_CHANGED:`). The daemon list keeps
//! Arista (`Ebra: %LINEPROTO-5-UPDOWN:`) and ordinary Linux programs out.

use super::cisco::mnemonic;
use super::{Format, Parsed, Vendor};

const SD_PREFIX: &str = "junos@2636";

/// Junos daemons that log tagged events; matched after any `LS:` prefix.
const DAEMONS: &[&str] = &[
    "alarmd",
    "appidd",
    "authd",
    "bfdd",
    "chassisd",
    "cli",
    "cosd",
    "craftd",
    "dcd",
    "dfwd",
    "dhcpd",
    "eventd",
    "flowd",
    "idpd",
    "inetd",
    "init",
    "jdhcpd",
    "jddosd",
    "jlaunchd",
    "jsrpd",
    "kernel",
    "/kernel",
    "kmd",
    "l2ald",
    "l2cpd",
    "lacpd",
    "license-check",
    "lldpd",
    "login",
    "mgd",
    "mgd-api",
    "mib2d",
    "nsd",
    "ntpd",
    "pfed",
    "ppmd",
    "rmopd",
    "rpd",
    "sampled",
    "smid",
    "snmpd",
    "spd",
    "sshd",
    "utmd",
    "vrrpd",
    "xntpd",
];

/// Facility names Junos writes in explicit-priority tokens.
const FACILITIES: &[&str] = &[
    "KERN", "USER", "MAIL", "DAEMON", "AUTH", "SYSLOG", "LPR", "NEWS", "UUCP", "CRON", "AUTHPRIV",
    "FTP", "NTP", "SECURITY", "CONSOLE", "INTERACT", "CHANGE", "CONFLICT", "DFC", "EXTERNAL",
    "FIREWALL", "PFE", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6",
    "LOCAL7",
];

/// Marks `p` as Junos and fills `vendor["junos"]` when it is one.
pub(crate) fn classify(p: &mut Parsed) {
    match p.format {
        Format::Rfc5424 => classify_sd(p),
        Format::Rfc3164 => classify_bsd(p),
        _ => {}
    }
}

fn classify_sd(p: &mut Parsed) {
    if !p
        .structured_data
        .iter()
        .any(|(id, _)| id.starts_with(SD_PREFIX))
    {
        return;
    }
    let mut junos = Vendor::new("junos");
    for (_, params) in p
        .structured_data
        .iter()
        .filter(|(id, _)| id.starts_with(SD_PREFIX))
    {
        for (k, v) in params {
            junos.insert(k.as_str(), v.as_str());
        }
    }
    if let Some(tag) = &p.msgid {
        junos.insert("tag", tag.as_str());
    }
    p.format = Format::Junos;
    p.vendor = junos;
}

fn classify_bsd(p: &mut Parsed) {
    let Some(app) = p.appname.as_deref() else {
        return;
    };
    let (logical_system, daemon) = match app.rsplit_once(':') {
        Some((ls, d)) if !ls.is_empty() && !d.is_empty() => (Some(ls), d),
        _ => (None, app),
    };
    let security_log = daemon.starts_with("RT_");
    let known_daemon = DAEMONS.contains(&daemon);
    if !security_log && !known_daemon {
        return;
    }
    let explicit =
        mnemonic(&p.message, 0).filter(|m| FACILITIES.contains(&m.facility) && is_tag(m.name));
    let (tag, text_at) = match &explicit {
        Some(m) => (Some(m.name), None),
        None => match leading_tag(&p.message) {
            Some((tag, at)) => (Some(tag), Some(at)),
            None => (None, None),
        },
    };
    if !security_log && tag.is_none() {
        return;
    }
    let mut junos = Vendor::new("junos");
    if let Some(m) = &explicit {
        junos.insert("facility", m.facility);
        junos.insert("severity", m.severity);
    }
    if let Some(ls) = logical_system {
        junos.insert("logical_system", ls);
    }
    if let (Some(tag), Some(at)) = (tag, text_at) {
        if let Some(text) = p.message.get(at..) {
            rt_flow(tag, text, &mut junos);
        }
    }
    if let Some(tag) = tag {
        junos.insert("tag", tag);
    }
    p.format = Format::Junos;
    p.vendor = junos;
}

/// Junos tags are upper-case words joined by `_`: `UI_COMMIT`, `RT_FLOW_SESSION_CLOSE`.
fn is_tag(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && s.contains('_')
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// `TAG: text` at the start of the message: the tag and where its text starts.
fn leading_tag(message: &str) -> Option<(&str, usize)> {
    let colon = message.find(':')?;
    let tag = &message[..colon];
    if !is_tag(tag) {
        return None;
    }
    let rest = &message[colon + 1..];
    Some((
        tag,
        colon + 1 + (rest.len() - rest.trim_start_matches(' ').len()),
    ))
}

/// Positional fields of BSD-format `RT_FLOW_SESSION_*` texts (J3/J4), named as in the
/// structured-data form so both formats facet alike. Fields are only taken while the tokens have
/// the expected shape; Junos releases differ in what they append.
fn rt_flow(tag: &str, text: &str, out: &mut Vendor) {
    if !tag.starts_with("RT_FLOW_SESSION_") {
        return;
    }
    let (rest, event) = if let Some(r) = text.strip_prefix("session created ") {
        (r, Event::Create)
    } else if let Some(r) = text.strip_prefix("session closed ") {
        let Some((reason, r)) = r.split_once(": ") else {
            return;
        };
        put(out, "reason", reason);
        (r, Event::Close)
    } else if let Some(r) = text.strip_prefix("session denied ") {
        (r, Event::Deny)
    } else {
        return;
    };
    let mut t = rest.split_ascii_whitespace().peekable();
    let Some(tuple) = t.next().and_then(five_tuple) else {
        return;
    };
    put_tuple(out, PLAIN, tuple);
    if let Some(tag) = t.next_if(|s| s.starts_with("0x")) {
        put(out, "connection-tag", tag);
    }
    let Some(service) = t.next() else { return };
    put(out, "service-name", service);
    let tokens: Vec<&str> = t.collect();
    let tail = match event {
        Event::Deny => deny(&tokens, out),
        Event::Create | Event::Close => session(&tokens, event, out),
    };
    // The tail (application … encrypted) is only read when exactly its five fields remain.
    let fields = match (event, tail) {
        (Event::Create, Some([u, i, a, n, e])) => Some((*a, *n, *u, *i, *e)),
        (Event::Close | Event::Deny, Some([a, n, u, i, e])) => Some((*a, *n, *u, *i, *e)),
        _ => None,
    };
    if let Some((application, nested, user, interface, encrypted)) = fields {
        if let Some((u, r)) = paren_pair(user) {
            put(out, "application", application);
            put(out, "nested-application", nested);
            put(out, "username", u);
            put(out, "roles", r);
            put(out, "packet-incoming-interface", interface);
            put(out, "encrypted", encrypted);
        }
    }
}

#[derive(Clone, Copy)]
enum Event {
    Create,
    Close,
    Deny,
}

/// DENY after the service: `proto(icmp-type) policy from-zone to-zone …tail`.
fn deny<'t>(t: &'t [&'t str], out: &mut Vendor) -> Option<&'t [&'t str]> {
    let (proto, icmp) = paren_pair(t.first()?).filter(|(p, _)| is_number(p))?;
    put(out, "protocol-id", proto);
    put(out, "icmp-type", icmp);
    let [policy, from, to, ..] = t.get(1..)? else {
        return None;
    };
    put(out, "policy-name", policy);
    put(out, "source-zone-name", from);
    put(out, "destination-zone-name", to);
    t.get(4..)
}

/// CREATE/CLOSE after the service: NAT tuple, NAT rules, protocol, policy, zones, session id,
/// and for CLOSE the counters and elapsed time.
fn session<'t>(t: &'t [&'t str], event: Event, out: &mut Vendor) -> Option<&'t [&'t str]> {
    put_tuple(out, NAT, five_tuple(t.first()?)?);
    let mut i = 1;
    if let Some(tag) = t.get(i).filter(|s| s.starts_with("0x")) {
        put(out, "nat-connection-tag", tag);
        i += 1;
    }
    i = nat_rules(t, i, out)?;
    let [proto, policy, from, to, session_id, ..] = t.get(i..)? else {
        return None;
    };
    if !is_number(proto) || !is_number(session_id) {
        return None;
    }
    put(out, "protocol-id", proto);
    put(out, "policy-name", policy);
    put(out, "source-zone-name", from);
    put(out, "destination-zone-name", to);
    put(out, "session-id-32", session_id);
    i += 5;
    if let Event::Close = event {
        let [client, server, elapsed, ..] = t.get(i..)? else {
            return None;
        };
        let (pc, bc) = paren_pair(client)?;
        let (ps, bs) = paren_pair(server)?;
        if !is_number(elapsed) {
            return None;
        }
        put(out, "packets-from-client", pc);
        put(out, "bytes-from-client", bc);
        put(out, "packets-from-server", ps);
        put(out, "bytes-from-server", bs);
        put(out, "elapsed-time", elapsed);
        i += 3;
    }
    t.get(i..)
}

/// Current releases write `type name type name` where a type is `N/A`, `None` or two words
/// ending in `rule` (`source rule`); old ones write just the two rule names. The layout is
/// chosen by where the numeric protocol id lands.
fn nat_rules(t: &[&str], i: usize, out: &mut Vendor) -> Option<usize> {
    let rule_type = |k: usize| -> Option<(String, usize)> {
        let first = t.get(k)?;
        match t.get(k + 1) {
            Some(&"rule") => Some((format!("{first} rule"), k + 2)),
            _ => Some(((*first).to_owned(), k + 1)),
        }
    };
    let current = (|| {
        let (src_type, k) = rule_type(i)?;
        let src_name = t.get(k)?;
        let (dst_type, k) = rule_type(k + 1)?;
        let dst_name = t.get(k)?;
        t.get(k + 1)
            .filter(|p| is_number(p))
            .map(|_| (src_type, *src_name, dst_type, *dst_name, k + 1))
    })();
    if let Some((src_type, src_name, dst_type, dst_name, next)) = current {
        out.insert("src-nat-rule-type", src_type);
        put(out, "src-nat-rule-name", src_name);
        out.insert("dst-nat-rule-type", dst_type);
        put(out, "dst-nat-rule-name", dst_name);
        return Some(next);
    }
    let [src_name, dst_name, proto, ..] = t.get(i..)? else {
        return None;
    };
    is_number(proto).then_some(())?;
    put(out, "src-nat-rule-name", src_name);
    put(out, "dst-nat-rule-name", dst_name);
    Some(i + 2)
}

/// `10.20.0.15/50122->198.51.100.80/443`
fn five_tuple(s: &str) -> Option<[&str; 4]> {
    let (src, dst) = s.split_once("->")?;
    let (sa, sp) = src.rsplit_once('/')?;
    let (da, dp) = dst.rsplit_once('/')?;
    Some([sa, sp, da, dp])
}

const PLAIN: [&str; 4] = [
    "source-address",
    "source-port",
    "destination-address",
    "destination-port",
];
const NAT: [&str; 4] = [
    "nat-source-address",
    "nat-source-port",
    "nat-destination-address",
    "nat-destination-port",
];

fn put_tuple(out: &mut Vendor, keys: [&str; 4], values: [&str; 4]) {
    for (key, value) in keys.into_iter().zip(values) {
        put(out, key, value);
    }
}

/// `14(2321)` -> (`14`, `2321`); `N/A(N/A)` -> (`N/A`, `N/A`).
fn paren_pair(s: &str) -> Option<(&str, &str)> {
    let (a, b) = s.strip_suffix(')')?.split_once('(')?;
    Some((a, b))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

fn put(out: &mut Vendor, key: &str, value: &str) {
    out.insert(key, value);
}

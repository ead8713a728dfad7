//! The trap and inform receiver, sans-IO: one datagram and the time in, an [`Outcome`] out: the
//! notification to forward, the datagram to send back (an inform's Response or a USM Report),
//! or the reason the datagram was dropped.
//!
//! **Owns:** who is accepted (community strings for v1/v2c; v3 users, whose keys are localized
//! to each sender's engine ID for traps and to our own engine ID for informs), the order of the
//! USM checks and the Reports they produce (RFC 3414 §3.2), acknowledging an inform only after
//! it authenticated, RFC 3584's v1 → v2 translation ([`v1`]), and the shape of a notification:
//! sysUpTime.0, snmpTrapOID.0, then its variables (RFC 3416 §4.2.6).
//!
//! **Must not:** read a clock or a random source (`now` and the salt seed are passed in), or
//! grow without bound: the table of learned sender engines and the key cache are bounded.
//!
//! Who is authoritative decides the path of a v3 message (RFC 3412 §6.4, RFC 3414 §3.2):
//! - reportable flag set (an inform, or the discovery probe before it) and not our engine ID:
//!   a `usmStatsUnknownEngineIDs` Report tells the sender our engine ID, boots and time;
//! - our engine ID: we are authoritative (informs): unknown user, unsupported level, wrong
//!   digest, time window and decryption are checked in RFC 3414's order, each failure answered
//!   with its Report when the sender asked for one; an inform that passes gets its Response;
//! - any other engine ID, not reportable (traps): the sender is authoritative, so the user's
//!   keys are localized to the sender's engine ID, which the user's `engine_ids` may restrict,
//!   and the sender's boots and time are learned from its first authenticated trap
//!   ([`engines`]).

mod engines;
pub mod v1;
mod v3;

use std::net::Ipv4Addr;
use std::time::Duration;

use super::message::{
    decode_with, encode, CommunityMessage, GenericPdu, Limits, Message, Pdu, PduKind, Version,
};
use super::oid::Oid;
use super::usm::{
    AuthProtocol, KeyCache, LocalEngine, PrivProtocol, ReportKind, UsmError, UsmUser,
};
use super::{Value, VarBind};

/// sysUpTime.0
const SYS_UPTIME_0: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
/// snmpTrapOID.0
const SNMP_TRAP_OID_0: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// Every reason [`Handled::Dropped`] can carry, so counters can exist (at zero) before the
/// first drop: who was refused, what was not a notification, then the decoder's reasons.
pub const DROP_REASONS: &[&str] = &[
    "unknown_community",
    "unknown_user",
    "unknown_engine_id",
    "wrong_digest",
    "decryption_error",
    "not_in_time_window",
    "unsupported_security_level",
    "not_a_notification",
    "no_trap_oid",
    "bad_v1_trap",
    "key_error",
    "truncated",
    "bad_length",
    "bad_tag",
    "too_large",
    "trailing_data",
    "unsupported_version",
    "unsupported_security_model",
    "bad_pdu_type",
    "too_many_varbinds",
    "oid_too_long",
    "bad_oid",
    "bad_value",
    "bad_string",
    "malformed",
];

/// A v1 trap's own fields, kept beside the translated notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1Origin {
    pub enterprise: Oid,
    pub agent_addr: Ipv4Addr,
    pub generic_trap: i32,
    pub specific_trap: i32,
}

/// A trap or inform that was accepted, in SNMPv2 shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// 1, 2 (v2c) or 3: Datadog's `snmp_version` tag.
    pub version: u8,
    /// An InformRequest (acknowledged) rather than a trap.
    pub inform: bool,
    /// sysUpTime.0 (the v1 time-stamp), in hundredths of a second.
    pub uptime: Option<u32>,
    /// snmpTrapOID.0, or its RFC 3584 translation for v1.
    pub trap_oid: Oid,
    /// The variables after sysUpTime.0 and snmpTrapOID.0 (all of a v1 trap's).
    pub varbinds: Vec<VarBind>,
    pub v1: Option<V1Origin>,
    /// v3: the user, and the authoritative engine ID its keys were localized to.
    pub user: Option<String>,
    pub engine_id: Option<Vec<u8>>,
}

/// What became of a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    Notification(Notification),
    /// An engine-ID discovery probe (or an inform to an engine ID not ours), answered with a
    /// `usmStatsUnknownEngineIDs` Report.
    Discovery,
    /// Refused or unreadable; the reason is a counter label from [`DROP_REASONS`].
    Dropped(&'static str),
}

/// The result of [`Receiver::handle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub handled: Handled,
    /// What to send back to the sender: an inform's Response, or a Report.
    pub reply: Option<Vec<u8>>,
    /// The Report in `reply`, if it is one.
    pub report: Option<ReportKind>,
}

impl Outcome {
    fn dropped(reason: &'static str) -> Outcome {
        Outcome {
            handled: Handled::Dropped(reason),
            reply: None,
            report: None,
        }
    }

    /// An accepted message: its notification, or why its contents are unusable. An
    /// authenticated inform is acknowledged (`reply`) either way: the sender did its part, and
    /// a retry would not be any better.
    fn accepted(
        notification: Result<Notification, &'static str>,
        reply: Option<Vec<u8>>,
    ) -> Outcome {
        match notification {
            Ok(n) => Outcome {
                handled: Handled::Notification(n),
                reply,
                report: None,
            },
            Err(reason) => Outcome {
                reply,
                ..Outcome::dropped(reason)
            },
        }
    }
}

/// A configured v3 user. Traps from any sender engine ID are checked with its keys localized
/// to that engine ID (only to those in `engine_ids` when given); informs with its keys
/// localized to our engine ID.
#[derive(Clone, Debug)]
pub struct TrapUser {
    pub name: String,
    full: UsmUser,
    /// The same user without privacy: a MAC is checked with these keys first, so a message
    /// that does not authenticate never costs a privacy-key localization (Reeder's key
    /// extension hashes a megabyte per engine ID).
    auth_only: UsmUser,
    engine_ids: Option<Vec<Vec<u8>>>,
}

impl TrapUser {
    /// A user at authNoPriv or authPriv: nocbox accepts only authenticated v3 notifications.
    pub fn new(
        name: &str,
        auth: (AuthProtocol, &[u8]),
        privacy: Option<(PrivProtocol, &[u8])>,
        engine_ids: Option<Vec<Vec<u8>>>,
    ) -> Result<TrapUser, UsmError> {
        Ok(TrapUser {
            name: name.to_string(),
            full: UsmUser::new(name, Some(auth), privacy)?,
            auth_only: UsmUser::new(name, Some(auth), None)?,
            engine_ids,
        })
    }

    fn has_privacy(&self) -> bool {
        self.full.privacy_protocol().is_some()
    }

    fn accepts_engine(&self, engine_id: &[u8]) -> bool {
        self.engine_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|e| e == engine_id))
    }
}

/// What the receiver accepts, and its own engine.
#[derive(Clone, Debug)]
pub struct Settings {
    pub communities: Vec<Vec<u8>>,
    pub users: Vec<TrapUser>,
    /// Our engine: authoritative for the informs we receive.
    pub engine: LocalEngine,
    pub limits: Limits,
    /// Sender engines whose boots and time are remembered at once (the least recently seen goes
    /// first).
    pub max_engines: usize,
    /// Start of the privacy salt counter; pass a random value so salts do not repeat across
    /// restarts under the same key.
    pub salt_seed: u64,
}

/// Counts the receiver keeps itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sender engines whose boots and time are known.
    pub engines: usize,
    /// Engines relearned after their traps stayed outside the time window (see [`engines`]).
    pub relearned: u64,
}

/// The receiver's state: settings, localized keys, learned sender engines, Report counters.
#[derive(Debug)]
pub struct Receiver {
    communities: Vec<Vec<u8>>,
    users: Vec<TrapUser>,
    engine: LocalEngine,
    limits: Limits,
    keys: KeyCache,
    engines: engines::Engines,
    salt: u64,
    /// usmStats counters our Reports carry, indexed by `ReportKind as usize`.
    report_counts: [u32; 7],
}

impl Receiver {
    pub fn new(s: Settings) -> Receiver {
        let max_engines = s.max_engines.max(1);
        Receiver {
            communities: s.communities,
            // every user's keys for a few engines each, auth-only and full
            keys: KeyCache::new(
                max_engines
                    .saturating_mul(2)
                    .min(1 << 16)
                    .max(s.users.len() * 4),
            ),
            users: s.users,
            engine: s.engine,
            limits: s.limits,
            engines: engines::Engines::new(max_engines),
            salt: s.salt_seed,
            report_counts: [0; 7],
        }
    }

    pub fn engine(&self) -> &LocalEngine {
        &self.engine
    }

    pub fn stats(&self) -> Stats {
        Stats {
            engines: self.engines.len(),
            relearned: self.engines.relearned(),
        }
    }

    /// Handles one datagram received at `now` (monotonic, the same origin as the engine's
    /// `started`).
    pub fn handle(&mut self, raw: &[u8], now: Duration) -> Outcome {
        match decode_with(raw, &self.limits) {
            Ok(Message::Community(m)) => self.community(m),
            Ok(Message::V3(m)) => self.v3(raw, m, now),
            Err(e) => Outcome::dropped(e.reason()),
        }
    }

    fn community(&mut self, m: CommunityMessage) -> Outcome {
        let known = self
            .communities
            .iter()
            .any(|c| same_secret(c, m.community.as_bytes()));
        if !known {
            return Outcome::dropped("unknown_community");
        }
        let version = match m.version {
            Version::V1 => 1,
            Version::V2c => 2,
        };
        let reply = match &m.pdu {
            Pdu::Generic(p) if p.kind == PduKind::Inform => {
                Some(encode(&Message::Community(CommunityMessage {
                    version: m.version,
                    community: m.community.clone(),
                    pdu: response_to(p),
                })))
            }
            _ => None,
        };
        let notification = match m.pdu {
            Pdu::TrapV1(t) => v1::translate(t),
            pdu => notification(pdu, version),
        };
        Outcome::accepted(notification, reply)
    }

    fn next_salt(&mut self) -> u64 {
        self.salt = self.salt.wrapping_add(1);
        self.salt
    }

    /// The counter value for the next Report of `kind`.
    fn count_report(&mut self, kind: ReportKind) -> u32 {
        let c = &mut self.report_counts[kind as usize];
        *c = c.wrapping_add(1);
        *c
    }
}

/// A notification from a v2c or v3 PDU: a TrapV2 or an InformRequest whose variables start with
/// sysUpTime.0 and snmpTrapOID.0. Senders that put those two elsewhere in the list are
/// forgiven; a missing snmpTrapOID.0 is not.
fn notification(pdu: Pdu, version: u8) -> Result<Notification, &'static str> {
    let p = match pdu {
        Pdu::Generic(p) if matches!(p.kind, PduKind::TrapV2 | PduKind::Inform) => p,
        _ => return Err("not_a_notification"),
    };
    let inform = p.kind == PduKind::Inform;
    let mut varbinds = p.varbinds;
    let at = varbinds
        .iter()
        .position(|vb| vb.oid.arcs() == SNMP_TRAP_OID_0 && matches!(vb.value, Value::Oid(_)))
        .ok_or("no_trap_oid")?;
    let Value::Oid(trap_oid) = varbinds.remove(at).value else {
        return Err("no_trap_oid");
    };
    let uptime = varbinds
        .iter()
        .position(|vb| vb.oid.arcs() == SYS_UPTIME_0)
        .and_then(|i| match varbinds.remove(i).value {
            Value::TimeTicks(t) => Some(t),
            _ => None,
        });
    Ok(Notification {
        version,
        inform,
        uptime,
        trap_oid,
        varbinds,
        v1: None,
        user: None,
        engine_id: None,
    })
}

/// RFC 3416 §4.2.7: the Response to an InformRequest repeats its request-id and varbinds.
fn response_to(inform: &GenericPdu) -> Pdu {
    Pdu::Generic(GenericPdu {
        kind: PduKind::Response,
        error_status: 0,
        error_index: 0,
        ..inform.clone()
    })
}

/// Compares secrets without stopping at the first difference.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;

//! The v3 paths of [`Receiver`]: discovery, informs (we are authoritative) and traps (the
//! sender is). See the module above for which path a message takes.
//!
//! A user's MAC is checked with its auth-only keys first; the privacy key is localized only for
//! a message that authenticated. Several users may share a name (Datadog allows it, e.g. one
//! per protocol pair): each is tried until one verifies.

use std::sync::Arc;
use std::time::Duration;

use super::{notification, response_to, Handled, Outcome, Receiver};
use crate::proto::snmp::message::{
    encode, Limits, Message, MsgFlags, Pdu, PduKind, ScopedData, ScopedPdu, UsmParams, V3Message,
};
use crate::proto::snmp::usm::{
    self, build_report, check_authoritative, EngineTime, LocalizedKeys, ReportKind, UsmError,
};

/// RFC 3411: an engine ID has 5 to 32 octets.
const ENGINE_ID_LEN: std::ops::RangeInclusive<usize> = 5..=32;

/// Why no user verified a message. Among several users of one name the worst miss is told: a
/// MAC that did not match says more than a level the user lacks, which says more than an
/// engine ID the user does not accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Miss {
    EngineNotAllowed,
    Level,
    Digest,
    UnknownUser,
    /// A key could not be localized (cannot happen with the non-empty passwords the config
    /// requires).
    Key,
}

impl Miss {
    fn reason(self) -> &'static str {
        match self {
            Miss::EngineNotAllowed => "unknown_engine_id",
            Miss::Level => "unsupported_security_level",
            Miss::Digest => "wrong_digest",
            Miss::UnknownUser => "unknown_user",
            Miss::Key => "key_error",
        }
    }

    fn report(self) -> ReportKind {
        match self {
            Miss::EngineNotAllowed | Miss::Key => ReportKind::UnknownEngineId,
            Miss::Level => ReportKind::UnsupportedSecLevel,
            Miss::Digest => ReportKind::WrongDigest,
            Miss::UnknownUser => ReportKind::UnknownUserName,
        }
    }
}

impl Receiver {
    pub(super) fn v3(&mut self, raw: &[u8], m: V3Message, now: Duration) -> Outcome {
        if m.usm.engine_id == self.engine.engine_id {
            return self.authoritative(raw, m, now);
        }
        if m.flags.reportable() {
            // A confirmed-class message (an inform, or the probe before one) must name us as
            // the authoritative engine: tell the sender who we are (RFC 3414 §4).
            let kind = ReportKind::UnknownEngineId;
            let reply = self.report(&m, kind, now, None);
            return Outcome {
                handled: Handled::Discovery,
                reply,
                report: Some(kind),
            };
        }
        self.trap(raw, m, now)
    }

    /// A trap: keys localized to the sender's engine ID.
    fn trap(&mut self, raw: &[u8], m: V3Message, now: Duration) -> Outcome {
        let engine_id = m.usm.engine_id.clone();
        let (user, keys) = match self.find_user(raw, &m, &engine_id) {
            Ok(found) => found,
            Err(miss) => return Outcome::dropped(miss.reason()),
        };
        let sent = EngineTime {
            boots: m.usm.engine_boots,
            time: m.usm.engine_time,
        };
        if self.engines.check(&engine_id, sent, now).is_err() {
            return Outcome::dropped("not_in_time_window");
        }
        let scoped = match open(m, &keys, &self.limits) {
            Ok(s) => s,
            Err(_) => return Outcome::dropped("decryption_error"),
        };
        match notification(scoped.pdu, 3) {
            Ok(mut n) => {
                n.user = Some(user);
                n.engine_id = Some(engine_id);
                Outcome {
                    handled: Handled::Notification(n),
                    reply: None,
                    report: None,
                }
            }
            Err(reason) => Outcome::dropped(reason),
        }
    }

    /// The user whose MAC verifies the message under `engine_id`, with its full keys.
    fn find_user(
        &mut self,
        raw: &[u8],
        m: &V3Message,
        engine_id: &[u8],
    ) -> Result<(String, Arc<LocalizedKeys>), Miss> {
        let candidates: Vec<usize> = (0..self.users.len())
            .filter(|i| self.users[*i].name == m.usm.user_name)
            .collect();
        if candidates.is_empty() {
            return Err(Miss::UnknownUser);
        }
        if !m.flags.auth() {
            return Err(Miss::Level);
        }
        let authoritative = engine_id == self.engine.engine_id.as_slice();
        if !ENGINE_ID_LEN.contains(&engine_id.len()) {
            return Err(Miss::EngineNotAllowed);
        }
        let mut miss = Miss::EngineNotAllowed;
        for i in candidates {
            let u = &self.users[i];
            if !authoritative && !u.accepts_engine(engine_id) {
                continue;
            }
            if m.flags.privacy() && !u.has_privacy() {
                miss = miss.max(Miss::Level);
                continue;
            }
            let auth = self
                .keys
                .get(&u.auth_only, engine_id)
                .map_err(|_| Miss::Key)?;
            let verified = auth
                .auth
                .as_ref()
                .is_some_and(|k| usm::verify(raw, k).is_ok());
            if !verified {
                miss = Miss::Digest;
                continue;
            }
            let full = self.keys.get(&u.full, engine_id).map_err(|_| Miss::Key)?;
            return Ok((u.name.clone(), full));
        }
        Err(miss)
    }

    /// A message to our engine ID: an inform (or a trap a sender addressed to us).
    fn authoritative(&mut self, raw: &[u8], m: V3Message, now: Duration) -> Outcome {
        let engine_id = self.engine.engine_id.clone();
        let (user, keys) = match self.find_user(raw, &m, &engine_id) {
            Ok(found) => found,
            Err(miss) => return self.refuse(&m, miss.reason(), miss.report(), now, None),
        };
        let local = self.engine.engine_time(now);
        let sent = EngineTime {
            boots: m.usm.engine_boots,
            time: m.usm.engine_time,
        };
        if check_authoritative(local, sent).is_err() {
            // The sender re-synchronises from this Report (signed, RFC 3414 §3.2 step 7a) and
            // sends again.
            let kind = ReportKind::NotInTimeWindow;
            return self.refuse(&m, "not_in_time_window", kind, now, Some(&keys));
        }
        let head = header_only(&m);
        let scoped = match open(m, &keys, &self.limits) {
            Ok(s) => s,
            Err(_) => {
                let kind = ReportKind::DecryptionError;
                return self.refuse(&head, "decryption_error", kind, now, None);
            }
        };
        let reply = match &scoped.pdu {
            Pdu::Generic(p) if p.kind == PduKind::Inform => {
                let response = V3Message {
                    msg_id: head.msg_id,
                    max_size: 65_507,
                    flags: MsgFlags::new(true, head.flags.privacy(), false),
                    usm: UsmParams {
                        engine_id,
                        engine_boots: local.boots,
                        engine_time: local.time,
                        user_name: user.clone(),
                        ..UsmParams::default()
                    },
                    data: ScopedData::Plain(ScopedPdu {
                        context_engine_id: scoped.context_engine_id.clone(),
                        context_name: scoped.context_name.clone(),
                        pdu: response_to(p),
                    }),
                };
                let salt = self.next_salt();
                usm::protect(response, &keys, salt).ok()
            }
            _ => None,
        };
        let n = notification(scoped.pdu, 3).map(|mut n| {
            n.user = Some(user);
            n.engine_id = Some(self.engine.engine_id.clone());
            n
        });
        Outcome::accepted(n, reply)
    }

    /// Drops a message for `reason`, answering with a Report of `kind` when the sender asked
    /// for Reports (the reportable flag).
    fn refuse(
        &mut self,
        m: &V3Message,
        reason: &'static str,
        kind: ReportKind,
        now: Duration,
        keys: Option<&LocalizedKeys>,
    ) -> Outcome {
        let reply = if m.flags.reportable() {
            self.report(m, kind, now, keys)
        } else {
            None
        };
        Outcome {
            handled: Handled::Dropped(reason),
            report: reply.as_ref().map(|_| kind),
            reply,
        }
    }

    /// The encoded Report of `kind` answering `m`; signed with `keys` when the Report must be
    /// authenticated (not-in-time-window), and `None` if it must be but cannot.
    fn report(
        &mut self,
        m: &V3Message,
        kind: ReportKind,
        now: Duration,
        keys: Option<&LocalizedKeys>,
    ) -> Option<Vec<u8>> {
        let request_id = match &m.data {
            ScopedData::Plain(s) => s.pdu.request_id().unwrap_or(0),
            ScopedData::Encrypted(_) => 0,
        };
        let counter = self.count_report(kind);
        let now = self.engine.engine_time(now);
        let report = build_report(m, request_id, &self.engine.engine_id, now, kind, counter);
        if report.flags.auth() {
            let salt = self.next_salt();
            usm::protect(report, keys?, salt).ok()
        } else {
            Some(encode(&Message::V3(report)))
        }
    }
}

/// The message without its (possibly large) scoped data, for answers built after the data was
/// consumed.
fn header_only(m: &V3Message) -> V3Message {
    V3Message {
        msg_id: m.msg_id,
        max_size: m.max_size,
        flags: m.flags,
        usm: m.usm.clone(),
        data: ScopedData::Encrypted(Vec::new()),
    }
}

/// The ScopedPDU of an authenticated message: decrypted when the privacy flag is set.
fn open(m: V3Message, keys: &LocalizedKeys, limits: &Limits) -> Result<ScopedPdu, UsmError> {
    match (m.data, &keys.privacy) {
        (ScopedData::Encrypted(c), Some(pk)) => usm::decrypt_scoped(&c, pk, &m.usm, limits),
        (ScopedData::Plain(s), _) if !m.flags.privacy() => Ok(s),
        _ => Err(UsmError::DecryptionError),
    }
}

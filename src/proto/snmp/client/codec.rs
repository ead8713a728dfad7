//! [`Codec`]: request encoding and reply checking for one device at one security setting.
//! v1/v2c carry the community; v3 discovers the agent's engine (RFC 3414 §4), keeps its time
//! window with [`RemoteEngine`], resyncs on an authenticated notInTimeWindow Report and keeps
//! the user's localized keys per engine ID in a [`KeyCache`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::error::SnmpError;
use crate::proto::snmp::message::{
    CommunityMessage, GenericPdu, Limits, Message, MsgFlags, Pdu, PduKind, ScopedData, ScopedPdu,
    UsmParams, V3Message, Version,
};
use crate::proto::snmp::usm::{
    self, report_kind, EngineTime, KeyCache, LocalizedKeys, RemoteEngine, ReportKind, UsmUser,
};

/// How to talk to one device.
#[derive(Clone, Debug)]
pub enum Security {
    Community {
        version: Version,
        community: Vec<u8>,
    },
    Usm {
        user: UsmUser,
        context_name: Vec<u8>,
        /// The ScopedPDU's contextEngineID; the agent's engine ID when `None`.
        context_engine_id: Option<Vec<u8>>,
        /// The agent's engine ID: given, discovery is skipped (time syncs on the first Report).
        engine_id: Option<Vec<u8>>,
    },
}

/// What a matched reply means for the request that is waiting for it.
#[derive(Debug)]
pub enum Reply {
    Response(GenericPdu),
    /// A discovery or time-window Report updated the engine state: encode and send again.
    Resend,
}

/// The largest message we tell a v3 agent we accept (the UDP/IPv4 maximum).
const MAX_SIZE: i32 = 65_507;

/// Request encoding and reply checking for one device. Sans-IO: the time (a monotonic duration
/// since any origin) and the privacy salt are passed in.
#[derive(Debug)]
pub struct Codec {
    target: SocketAddr,
    security: Security,
    engine: Option<RemoteEngine>,
    keys: Arc<LocalizedKeys>,
    cache: KeyCache,
    limits: Limits,
}

impl Codec {
    /// With a configured engine ID the keys are localized now; if that fails, discovery runs.
    pub fn new(target: SocketAddr, security: Security, now: Duration) -> Codec {
        let mut c = Codec {
            target,
            security,
            engine: None,
            keys: Arc::default(),
            cache: KeyCache::new(4),
            limits: Limits::default(),
        };
        if let Security::Usm {
            engine_id: Some(id),
            ..
        } = &c.security
        {
            let id = id.clone();
            if c.adopt_engine(&id, EngineTime::default(), now).is_err() {
                c.engine = None;
            }
        }
        c
    }

    pub fn security(&self) -> &Security {
        &self.security
    }

    /// True for v3 before the agent's engine ID is known.
    pub fn needs_discovery(&self) -> bool {
        matches!(self.security, Security::Usm { .. }) && self.engine.is_none()
    }

    /// The agent's engine ID, boots and estimated time (v3 after discovery).
    pub fn engine(&self, now: Duration) -> Option<(Vec<u8>, u32, u32)> {
        self.engine.as_ref().map(|e| {
            let t = e.estimate(now);
            (e.engine_id.clone(), t.boots, t.time)
        })
    }

    /// The RFC 3414 §4 probe: noAuthNoPriv, reportable, no engine ID, no user, no varbinds.
    pub fn discovery_request(&self, msg_id: i32) -> Vec<u8> {
        let probe = V3Message {
            msg_id,
            max_size: MAX_SIZE,
            flags: MsgFlags::new(false, false, true),
            usm: UsmParams::default(),
            data: ScopedData::Plain(ScopedPdu {
                context_engine_id: Vec::new(),
                context_name: Vec::new(),
                pdu: Pdu::Generic(GenericPdu {
                    kind: PduKind::Get,
                    request_id: msg_id,
                    error_status: 0,
                    error_index: 0,
                    varbinds: Vec::new(),
                }),
            }),
        };
        crate::proto::snmp::message::encode(&Message::V3(probe))
    }

    /// Encodes `pdu`; its request-id is also the v3 msgID, so one number matches the reply.
    pub fn encode(&self, pdu: Pdu, now: Duration, salt: u64) -> Result<Vec<u8>, SnmpError> {
        match &self.security {
            Security::Community { version, community } => {
                let msg = Message::Community(CommunityMessage {
                    version: *version,
                    community: String::from_utf8_lossy(community).into_owned(),
                    pdu,
                });
                Ok(crate::proto::snmp::message::encode(&msg))
            }
            Security::Usm {
                user,
                context_name,
                context_engine_id,
                ..
            } => {
                let engine = self.engine.as_ref().ok_or_else(|| SnmpError::Malformed {
                    target: self.target,
                    what: "v3 request before engine discovery".into(),
                })?;
                let t = engine.estimate(now);
                let msg_id = pdu.request_id().unwrap_or(0);
                let msg = V3Message {
                    msg_id,
                    max_size: MAX_SIZE,
                    flags: MsgFlags::new(
                        user.auth_protocol().is_some(),
                        user.privacy_protocol().is_some(),
                        true,
                    ),
                    usm: UsmParams {
                        engine_id: engine.engine_id.clone(),
                        engine_boots: t.boots,
                        engine_time: t.time,
                        user_name: user.name.clone(),
                        ..UsmParams::default()
                    },
                    data: ScopedData::Plain(ScopedPdu {
                        context_engine_id: context_engine_id
                            .clone()
                            .unwrap_or_else(|| engine.engine_id.clone()),
                        context_name: context_name.clone(),
                        pdu,
                    }),
                };
                usm::protect(msg, &self.keys, salt).map_err(|error| SnmpError::Usm {
                    target: self.target,
                    error,
                })
            }
        }
    }

    /// Checks a reply the transport matched to request `id` (`raw` as received, `msg` its
    /// decoding). An error here is final for the request, except [`SnmpError::Usm`] and
    /// [`SnmpError::Malformed`], which the caller may count and ignore (a forged or garbled
    /// datagram must not end a request the real agent is still answering).
    pub fn decode(
        &mut self,
        raw: &[u8],
        msg: Message,
        id: i32,
        now: Duration,
    ) -> Result<Reply, SnmpError> {
        match msg {
            Message::Community(m) => {
                let want = match &self.security {
                    Security::Community { version, .. } => *version,
                    Security::Usm { .. } => return Err(self.malformed("a v1/v2c reply to v3")),
                };
                if m.version != want {
                    return Err(self.malformed("a reply in another SNMP version"));
                }
                self.response(m.pdu, id)
            }
            Message::V3(m) => self.decode_v3(raw, m, id, now),
        }
    }

    fn decode_v3(
        &mut self,
        raw: &[u8],
        m: V3Message,
        id: i32,
        now: Duration,
    ) -> Result<Reply, SnmpError> {
        let Security::Usm { user, .. } = &self.security else {
            return Err(self.malformed("a v3 reply to v1/v2c"));
        };
        let want_auth = user.auth_protocol().is_some();
        let scoped =
            usm::unprotect(raw, &m, &self.keys, &self.limits).map_err(|error| SnmpError::Usm {
                target: self.target,
                error,
            })?;
        let t = EngineTime {
            boots: m.usm.engine_boots,
            time: m.usm.engine_time,
        };
        if let Some(kind) = report_kind(&scoped.pdu) {
            return self.report(kind, &m, t, now);
        }
        if want_auth && !m.flags.auth() {
            return Err(self.malformed("an unauthenticated response to an authenticated request"));
        }
        if m.flags.auth() {
            let same = self
                .engine
                .as_ref()
                .is_some_and(|e| e.engine_id == m.usm.engine_id);
            if !same {
                return Err(self.malformed("a response from another engine ID"));
            }
            if let Some(e) = self.engine.as_mut() {
                e.check_and_update(t, now).map_err(|error| SnmpError::Usm {
                    target: self.target,
                    error,
                })?;
            }
        }
        self.response(scoped.pdu, id)
    }

    fn report(
        &mut self,
        kind: ReportKind,
        m: &V3Message,
        t: EngineTime,
        now: Duration,
    ) -> Result<Reply, SnmpError> {
        let engine_id = &m.usm.engine_id;
        let known = self.engine.as_ref().map(|e| e.engine_id.as_slice());
        let report = Err(SnmpError::Report {
            target: self.target,
            kind,
        });
        match kind {
            // discovery; or the agent's engine ID changed (a replaced device)
            ReportKind::UnknownEngineId if !engine_id.is_empty() && known != Some(engine_id) => {
                self.adopt_engine(&engine_id.clone(), t, now)?;
                Ok(Reply::Resend)
            }
            // some agents answer discovery with unknownUserName (gosnmp accepts it too)
            ReportKind::UnknownUserName if known.is_none() && !engine_id.is_empty() => {
                self.adopt_engine(&engine_id.clone(), t, now)?;
                Ok(Reply::Resend)
            }
            // RFC 3414 §4: only an authenticated Report may move our notion of its time
            ReportKind::NotInTimeWindow if m.flags.auth() && known == Some(engine_id) => {
                if let Some(e) = self.engine.as_mut() {
                    e.resync(t, now);
                }
                Ok(Reply::Resend)
            }
            _ => report,
        }
    }

    fn adopt_engine(
        &mut self,
        engine_id: &[u8],
        t: EngineTime,
        now: Duration,
    ) -> Result<(), SnmpError> {
        let Security::Usm { user, .. } = &self.security else {
            return Ok(());
        };
        self.keys = self
            .cache
            .get(user, engine_id)
            .map_err(|error| SnmpError::Usm {
                target: self.target,
                error,
            })?;
        self.engine = Some(RemoteEngine::discovered(engine_id, t, now));
        Ok(())
    }

    fn response(&self, pdu: Pdu, id: i32) -> Result<Reply, SnmpError> {
        match pdu {
            Pdu::Generic(p) if p.kind == PduKind::Response && p.request_id == id => {
                Ok(Reply::Response(p))
            }
            Pdu::Generic(p) if p.kind == PduKind::Response => {
                Err(self.malformed("a response with another request-id"))
            }
            _ => Err(self.malformed("a PDU that is not a Response")),
        }
    }

    fn malformed(&self, what: &str) -> SnmpError {
        SnmpError::Malformed {
            target: self.target,
            what: what.into(),
        }
    }

    /// What to tell a person when the device stays silent at this security level.
    pub fn silence_hint(&self) -> &'static str {
        match &self.security {
            Security::Community { .. } => "wrong community, ACL, or device down",
            Security::Usm { user, .. } if user.privacy_protocol().is_some() => {
                "device down, or wrong privacy password or protocol (agents drop what they cannot decrypt)"
            }
            Security::Usm { .. } => "device down, or SNMPv3 not enabled",
        }
    }
}

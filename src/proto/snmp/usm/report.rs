//! USM Report PDUs (RFC 3414 §3.2, RFC 3412 §7.1.3): building the ones we send as an
//! authoritative engine (engine-ID discovery and time sync for informs), and recognising the ones
//! agents send us.

use super::super::ber::Oid;
use super::super::message::{
    GenericPdu, MsgFlags, Pdu, PduKind, ScopedData, ScopedPdu, UsmParams, V3Message, Value, VarBind,
};
use super::time::EngineTime;

/// The usmStats counters a Report carries, 1.3.6.1.6.3.15.1.1.x.0 (RFC 3414 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportKind {
    UnsupportedSecLevel = 1,
    NotInTimeWindow = 2,
    UnknownUserName = 3,
    UnknownEngineId = 4,
    WrongDigest = 5,
    DecryptionError = 6,
}

const USM_STATS: [u32; 9] = [1, 3, 6, 1, 6, 3, 15, 1, 1];

impl ReportKind {
    /// Every kind, in RFC 3414's order of checks.
    pub const ALL: [ReportKind; 6] = [
        ReportKind::UnsupportedSecLevel,
        ReportKind::NotInTimeWindow,
        ReportKind::UnknownUserName,
        ReportKind::UnknownEngineId,
        ReportKind::WrongDigest,
        ReportKind::DecryptionError,
    ];

    pub fn oid(self) -> Oid {
        let mut arcs = USM_STATS.to_vec();
        arcs.extend([self as u32, 0]);
        Oid(arcs)
    }

    pub fn from_oid(oid: &Oid) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.oid() == *oid)
    }

    /// The counter's name, for errors a person can act on.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::UnsupportedSecLevel => "usmStatsUnsupportedSecLevels",
            ReportKind::NotInTimeWindow => "usmStatsNotInTimeWindows",
            ReportKind::UnknownUserName => "usmStatsUnknownUserNames",
            ReportKind::UnknownEngineId => "usmStatsUnknownEngineIDs",
            ReportKind::WrongDigest => "usmStatsWrongDigests",
            ReportKind::DecryptionError => "usmStatsDecryptionErrors",
        }
    }
}

/// The usmStats counter a Report PDU carries, if it is one (the first varbind names it).
pub fn report_kind(pdu: &Pdu) -> Option<ReportKind> {
    match pdu {
        Pdu::Generic(p) if p.kind == PduKind::Report => p
            .varbinds
            .first()
            .and_then(|vb| ReportKind::from_oid(&vb.oid)),
        _ => None,
    }
}

/// The Report that answers `request` when our USM refused it with `kind`. The caller encodes it
/// with `message::encode`, except for `NotInTimeWindow`, which RFC 3414 §3.2 step 7a requires at
/// authNoPriv: the message comes back with the auth flag set, for `usm::protect` with the user's
/// keys. `request_id` is the refused PDU's, or 0 when it could not be read (encrypted).
pub fn build_report(
    request: &V3Message,
    request_id: i32,
    engine_id: &[u8],
    now: EngineTime,
    kind: ReportKind,
    counter: u32,
) -> V3Message {
    let context_name = match &request.data {
        ScopedData::Plain(s) => s.context_name.clone(),
        ScopedData::Encrypted(_) => Vec::new(),
    };
    let authenticated = kind == ReportKind::NotInTimeWindow;
    V3Message {
        msg_id: request.msg_id,
        max_size: 65_507,
        flags: MsgFlags::new(authenticated, false, false),
        usm: UsmParams {
            engine_id: engine_id.to_vec(),
            engine_boots: now.boots,
            engine_time: now.time,
            user_name: request.usm.user_name.clone(),
            auth_params: Vec::new(),
            priv_params: Vec::new(),
        },
        data: ScopedData::Plain(ScopedPdu {
            context_engine_id: engine_id.to_vec(),
            context_name,
            pdu: Pdu::Generic(GenericPdu {
                kind: PduKind::Report,
                request_id,
                error_status: 0,
                error_index: 0,
                varbinds: vec![VarBind::new(kind.oid(), Value::Counter32(counter))],
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_oids_are_the_usm_stats_counters() {
        assert_eq!(
            ReportKind::UnknownEngineId.oid().to_string(),
            "1.3.6.1.6.3.15.1.1.4.0"
        );
        assert_eq!(
            ReportKind::NotInTimeWindow.oid().to_string(),
            "1.3.6.1.6.3.15.1.1.2.0"
        );
        for k in ReportKind::ALL {
            assert_eq!(ReportKind::from_oid(&k.oid()), Some(k));
        }
        let other: Oid = "1.3.6.1.6.3.15.1.1.7.0".parse().unwrap();
        assert_eq!(ReportKind::from_oid(&other), None);
    }
}

//! The SNMP manager side, sans-IO: what the poller sends and how it reads the answers.
//!
//! **Owns:** [`Codec`] (v1/v2c/v3 request encoding, reply checks, v3 engine discovery, time
//! window and localized keys), [`Walk`] (the multi-column GETBULK/GETNEXT walk), [`Batches`]
//! (GET/GETNEXT of many OIDs, split on tooBig),
//! [`AdaptiveSize`] (request sizes that shrink on failure and grow back), [`SnmpError`], and
//! net-snmp's `-On` text ([`format`]).
//!
//! **Must not:** open sockets, read a clock or draw random numbers: `now` (a monotonic duration
//! since an origin the caller picks), request ids and privacy salts come in as arguments. The IO
//! side is `crate::poller::{transport, session}`.

mod adaptive;
mod batch;
mod codec;
mod error;
pub mod format;
mod walk;

pub use adaptive::{AdaptiveSize, RESET_EVERY};
pub use batch::{BatchRequest, BatchStep, Batches};
pub use codec::{Codec, Reply, Security};
pub use error::{status_name, SnmpError};
pub use walk::{EndReason, Progress, Step, Walk, WalkRequest, WalkRoot};

use crate::proto::snmp::message::{BulkPdu, GenericPdu, Pdu, PduKind, VarBind};
use crate::proto::snmp::Oid;

/// RFC 3416 error-status values the client acts on.
pub mod status {
    pub const NO_ERROR: i32 = 0;
    pub const TOO_BIG: i32 = 1;
    pub const NO_SUCH_NAME: i32 = 2;
}

/// A GET or GETNEXT PDU for `oids`.
pub fn generic_pdu(kind: PduKind, request_id: i32, oids: &[Oid]) -> Pdu {
    Pdu::Generic(GenericPdu {
        kind,
        request_id,
        error_status: 0,
        error_index: 0,
        varbinds: oids.iter().cloned().map(VarBind::null).collect(),
    })
}

/// The PDU for a walk step: GETBULK (no non-repeaters) or GETNEXT.
pub fn walk_pdu(req: &WalkRequest, request_id: i32) -> Pdu {
    match req.max_repetitions {
        Some(m) => Pdu::GetBulk(BulkPdu {
            request_id,
            non_repeaters: 0,
            max_repetitions: i32::try_from(m).unwrap_or(i32::MAX),
            varbinds: req.oids.iter().cloned().map(VarBind::null).collect(),
        }),
        None => generic_pdu(PduKind::GetNext, request_id, &req.oids),
    }
}

#[cfg(test)]
mod tests;

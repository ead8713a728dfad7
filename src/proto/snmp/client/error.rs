//! [`SnmpError`]: why a request to one device failed, worded for the person who has to fix it.

use std::net::SocketAddr;
use std::time::Duration;

use crate::proto::snmp::usm::{ReportKind, UsmError};
use crate::proto::snmp::Oid;

/// Why a get or walk failed. `Display` names the device and what to check; [`SnmpError::reason`]
/// is the stable counter label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnmpError {
    #[error("no answer from {target} after {tries} tries ({each:?} each): {hint}")]
    Timeout {
        target: SocketAddr,
        tries: u32,
        each: Duration,
        /// What usually causes silence at this security level.
        hint: &'static str,
    },
    #[error("{target} refused the request: {} ({})", report_text(*.kind), .kind.name())]
    Report {
        target: SocketAddr,
        kind: ReportKind,
    },
    #[error("{target} answered {} (error-status {status}) at varbind {index}{}", status_name(*.status), .oid.as_ref().map(|o| format!(" ({o})")).unwrap_or_default())]
    ErrorStatus {
        target: SocketAddr,
        status: i32,
        index: u32,
        oid: Option<Oid>,
    },
    #[error("{target}: {error}")]
    Usm {
        target: SocketAddr,
        #[source]
        error: UsmError,
    },
    #[error("cannot send to {target}: {message}")]
    Io { target: SocketAddr, message: String },
    #[error("{target} sent a reply we cannot use: {what}")]
    Malformed { target: SocketAddr, what: String },
}

impl SnmpError {
    /// Stable snake_case label for counters.
    pub fn reason(&self) -> &'static str {
        match self {
            SnmpError::Timeout { .. } => "timeout",
            SnmpError::Report { kind, .. } => match kind {
                ReportKind::UnsupportedSecLevel => "unsupported_sec_level",
                ReportKind::NotInTimeWindow => "not_in_time_window",
                ReportKind::UnknownUserName => "unknown_user_name",
                ReportKind::UnknownEngineId => "unknown_engine_id",
                ReportKind::WrongDigest => "wrong_digest",
                ReportKind::DecryptionError => "decryption_error",
            },
            SnmpError::ErrorStatus { .. } => "error_status",
            SnmpError::Usm { .. } => "usm",
            SnmpError::Io { .. } => "io",
            SnmpError::Malformed { .. } => "malformed",
        }
    }
}

fn report_text(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::UnsupportedSecLevel => {
            "unsupported security level: the user is not configured for this auth/priv level"
        }
        ReportKind::NotInTimeWindow => "not in time window: engine boots/time out of sync",
        ReportKind::UnknownUserName => "unknown user name: the device has no such v3 user",
        ReportKind::UnknownEngineId => "unknown engine ID: wrong or stale engine ID",
        ReportKind::WrongDigest => {
            "authentication failure (wrong digest): wrong auth password or protocol"
        }
        ReportKind::DecryptionError => "decryption error: wrong privacy password or protocol",
    }
}

/// RFC 3416 error-status names.
pub fn status_name(status: i32) -> &'static str {
    match status {
        0 => "noError",
        1 => "tooBig",
        2 => "noSuchName",
        3 => "badValue",
        4 => "readOnly",
        5 => "genErr",
        6 => "noAccess",
        7 => "wrongType",
        8 => "wrongLength",
        9 => "wrongEncoding",
        10 => "wrongValue",
        11 => "noCreation",
        12 => "inconsistentValue",
        13 => "resourceUnavailable",
        14 => "commitFailed",
        15 => "undoFailed",
        16 => "authorizationError",
        17 => "notWritable",
        18 => "inconsistentName",
        _ => "unknown error-status",
    }
}

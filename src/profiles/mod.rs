//! Device profiles in Datadog's format: which OIDs to poll for a device and how fetched values
//! become samples, tags and metadata. Sans-IO except [`ProfileStore::load`], which reads the
//! profile directories: the poller fetches the [`Plan`] and hands the values to
//! [`Profile::evaluate`].
//!
//! - [`parse`](parse::parse): YAML → a definition, every error with file, line:column and key;
//! - [`store`]: built-ins + user dirs, `extends`, sysObjectID selection ([`glob`] for the rule);
//! - [`eval`]: plan and evaluate (tags, mapping, regex, type inference, derived metrics);
//! - [`snmprec`]: reads snmpsim `.snmprec` recordings (tests and `profiles match --snmprec`).
//!
//! **Must not:** do network IO, read the clock, or panic on any profile or value.

pub mod builtin;
pub mod cli;
mod derived;
mod error;
pub mod eval;
pub mod glob;
mod locate;
pub mod model;
pub mod parse;
pub mod snmprec;
pub mod store;
mod values;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use error::ProfileError;
pub use store::ProfileStore;

use crate::proto::snmp::Oid;

/// A resolved profile: its own file with every `extends` applied.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub vendor: Option<String>,
    /// The file it came from (`<built-in>/cisco.yaml` for built-ins).
    pub file: String,
    /// Its own sysobjectid patterns.
    pub sysobjectids: Vec<String>,
    pub(crate) def: model::Definition,
}

/// What to fetch: scalars by GET, table columns by walk (each column OID as a walk root).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub scalars: Vec<Oid>,
    pub columns: Vec<Oid>,
}

/// What one poll's values turned into.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub samples: Vec<Sample>,
    /// Global metric_tags (`snmp_host:…`), static_tags, `device_vendor:…`.
    pub device_tags: Vec<String>,
    /// Device metadata fields that answered (name, serial_number, version, model, os_name, …).
    pub metadata: BTreeMap<String, String>,
    /// Interface metadata per ifIndex (`index`, `name`, `alias`, `admin_status`, …).
    pub interfaces: Vec<BTreeMap<String, String>>,
}

/// One metric value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Full Datadog name: `snmp.ifHCInOctets`, `snmp.cpu.usage`, `snmp.ifBandwidthInUsage.rate`.
    pub name: String,
    pub value: SampleValue,
    /// Multiplier the rate stage applies to the delta (scale_factor; 800/speed for bandwidth).
    /// Gauges carry it already applied and 1.0 here.
    pub scale: f64,
    pub kind: MetricKind,
    /// Row tags only (`interface:Gi0/1`, `cpu:1`); the integrator adds the device tags.
    pub tags: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SampleValue {
    Number(f64),
    Counter32(u32),
    Counter64(u64),
}

impl SampleValue {
    pub fn as_f64(self) -> f64 {
        match self {
            SampleValue::Number(n) => n,
            SampleValue::Counter32(n) => f64::from(n),
            SampleValue::Counter64(n) => n as f64,
        }
    }
}

/// How the value is submitted; `flag_stream` is expanded to gauges by evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Gauge,
    Rate,
    MonotonicCount,
    MonotonicCountAndRate,
}

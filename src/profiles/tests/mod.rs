//! Profile tests: parsing and its errors, extends and selection, and evaluation against
//! recorded devices (snmpsim-data cuts and the hand-made SRX in tests/fixtures/snmprec).

mod devices;
mod evaluate;
mod load;

use std::collections::BTreeMap;

use crate::proto::snmp::{Oid, Value};

use super::store::Source;
use super::{Evaluation, Profile, ProfileError, ProfileStore, Sample, SampleValue};

pub(super) fn oid(s: &str) -> Oid {
    s.parse().expect("test OID")
}

pub(super) fn src(path: &str, text: &str) -> Source {
    Source {
        path: path.to_string(),
        text: text.to_string(),
    }
}

/// A store from user files only (no built-ins), or its errors.
pub(super) fn user_store(files: &[(&str, &str)]) -> Result<ProfileStore, Vec<ProfileError>> {
    let user = files.iter().map(|(p, t)| src(p, t)).collect();
    ProfileStore::from_sources(Vec::new(), user).map_err(|(_, e)| e)
}

/// The values a poller would fetch for `plan`: scalars by exact OID, columns by subtree.
pub(super) fn fetch(profile: &Profile, all: &BTreeMap<Oid, Value>) -> BTreeMap<Oid, Value> {
    let plan = profile.plan();
    all.iter()
        .filter(|(k, _)| plan.scalars.contains(k) || plan.columns.iter().any(|c| k.starts_with(c)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn find<'a>(ev: &'a Evaluation, name: &str, tags: &[&str]) -> Vec<&'a Sample> {
    ev.samples
        .iter()
        .filter(|s| s.name == name && tags.iter().all(|t| s.tags.iter().any(|x| x == t)))
        .collect()
}

pub(super) fn number(s: &Sample) -> f64 {
    match s.value {
        SampleValue::Number(n) => n,
        SampleValue::Counter32(c) => f64::from(c),
        SampleValue::Counter64(c) => c as f64,
    }
}

/// The core stays sans-IO: only `store.rs` reads files (the profile directories).
#[test]
fn core_does_no_io() {
    let sources = [
        include_str!("../eval.rs"),
        include_str!("../derived.rs"),
        include_str!("../parse/mod.rs"),
        include_str!("../parse/metrics.rs"),
        include_str!("../parse/tags.rs"),
        include_str!("../glob.rs"),
        include_str!("../values.rs"),
        include_str!("../model.rs"),
        include_str!("../snmprec.rs"),
        include_str!("../locate.rs"),
    ];
    // split so this file does not match itself
    let banned = [
        ["tok", "io"],
        ["Udp", "Socket"],
        ["::", "now("],
        ["std::", "fs"],
    ];
    for src in sources {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        for [a, b] in banned {
            assert!(
                !code.contains(&format!("{a}{b}")),
                "{a}{b} in the profile core"
            );
        }
    }
}

//! PLACEHOLDER: replaced at merge by the wt-trapdb branch's real trap database.
//!
//! Only the agreed API, over a hard-coded table of the standard names the trap receiver's tests
//! rely on (SNMPv2-MIB coldStart, warmStart, authenticationFailure; IF-MIB linkDown, linkUp,
//! ifIndex, ifDescr, ifAdminStatus, ifOperStatus). `load` checks that the files exist and
//! otherwise ignores them.

use std::path::PathBuf;

use serde_json::Value as Json;

use super::{Oid, Value};

type Enum = &'static [(i64, &'static str)];

const IF_STATUS: Enum = &[
    (1, "up"),
    (2, "down"),
    (3, "testing"),
    (4, "unknown"),
    (5, "dormant"),
    (6, "notPresent"),
    (7, "lowerLayerDown"),
];

const TRAPS: &[(&[u32], &str, &str)] = &[
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 1], "coldStart", "SNMPv2-MIB"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 2], "warmStart", "SNMPv2-MIB"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 3], "linkDown", "IF-MIB"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 4], "linkUp", "IF-MIB"),
    (
        &[1, 3, 6, 1, 6, 3, 1, 1, 5, 5],
        "authenticationFailure",
        "SNMPv2-MIB",
    ),
];

const VARS: &[(&[u32], &str, &str, Enum)] = &[
    (&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1], "ifIndex", "IF-MIB", &[]),
    (&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2], "ifDescr", "IF-MIB", &[]),
    (
        &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7],
        "ifAdminStatus",
        "IF-MIB",
        IF_STATUS,
    ),
    (
        &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8],
        "ifOperStatus",
        "IF-MIB",
        IF_STATUS,
    ),
];

/// Trap and variable names by OID.
#[derive(Clone, Debug)]
pub struct TrapDb {
    _private: (),
}

/// A notification's name and MIB.
pub struct TrapName<'a> {
    pub name: &'a str,
    pub mib: &'a str,
}

/// A variable's object name and MIB.
pub struct VarName<'a> {
    pub name: &'a str,
    pub mib: &'a str,
    enums: &'a [(i64, &'a str)],
}

impl TrapDb {
    pub fn builtin() -> TrapDb {
        TrapDb { _private: () }
    }

    /// The builtin names; each path must exist.
    pub fn load(paths: &[PathBuf]) -> Result<TrapDb, Vec<String>> {
        let missing: Vec<String> = paths
            .iter()
            .filter(|p| !p.exists())
            .map(|p| format!("{}: no such file or directory", p.display()))
            .collect();
        if missing.is_empty() {
            Ok(TrapDb::builtin())
        } else {
            Err(missing)
        }
    }

    /// The trap named by `oid` (a trailing `.0` is ignored).
    pub fn trap(&self, oid: &Oid) -> Option<TrapName<'_>> {
        let arcs = oid.arcs();
        let arcs = match arcs {
            [rest @ .., 0] if rest.len() >= 2 => rest,
            _ => arcs,
        };
        TRAPS
            .iter()
            .find(|(o, _, _)| *o == arcs)
            .map(|(_, name, mib)| TrapName { name, mib })
    }

    /// The object `oid` is an instance of: the nearest known ancestor.
    pub fn variable(&self, oid: &Oid) -> Option<VarName<'_>> {
        let arcs = oid.arcs();
        (2..=arcs.len()).rev().find_map(|n| {
            VARS.iter()
                .find(|(o, ..)| *o == &arcs[..n])
                .map(|(_, name, mib, enums)| VarName { name, mib, enums })
        })
    }

    /// The enumeration label of an INTEGER value, if the object has one for it.
    pub fn label(&self, var: &VarName<'_>, value: &Value) -> Option<Json> {
        let Value::Integer(i) = value else {
            return None;
        };
        var.enums
            .iter()
            .find(|(n, _)| *n == i64::from(*i))
            .map(|(_, l)| Json::String((*l).to_string()))
    }

    /// (traps, variables) known.
    pub fn len(&self) -> (usize, usize) {
        (TRAPS.len(), VARS.len())
    }
}

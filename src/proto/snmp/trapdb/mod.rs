//! The trap database: notification OIDs to names and MIBs, variable OIDs to object names,
//! integers to enum labels and BITS to the labels of the set bits. Datadog's trap-DB format
//! (JSON or YAML, gzip accepted; see `docs/trap-db.md`), with a built-in database of the
//! standard, Cisco and Juniper notifications compiled in.
//!
//! - `parse.rs`: one document into checked entries (sans-IO); `files.rs`: paths, directories,
//!   gzip and size limits, the only file reading (once, at start-up); `builtin.rs`: the embedded
//!   YAML files under `builtin/`.
//! - Lookups are hash probes on OID arcs, with no allocation; the tables sit behind an `Arc`,
//!   so a clone for each receiver task is cheap.
//!
//! Resolution follows the Datadog Agent's resolver (DDA `comp/snmptraps/oidresolver`): a trailing
//! `.0` on a trap OID is ignored; a variable OID climbs to its parents until an object matches,
//! stopping at an object that is the parent of another object of the same file and never
//! matching `1.3.6.1.4.1` or anything above it; later files override earlier ones. Two
//! differences: variables are looked up in the merged database rather than only in the file that
//! defined the trap (so the variables of an unknown trap still resolve), and a trap OID of the
//! SNMPv1-translated form `<enterprise>.0.<n>` that is not known falls back to `<enterprise>.<n>`
//! (RFC 3584 §3.1 reversed), so v1 traps of notifications such as Juniper's
//! `jnxPowerSupplyFailure` resolve.
//!
//! **Must not:** panic on any file or value, or allocate per lookup.

mod builtin;
mod files;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::message::Value;
use super::oid::Oid;
use crate::fast_hash::FastMap;

/// The merged database. `Clone` shares the tables.
#[derive(Clone)]
pub struct TrapDb {
    tables: Arc<Tables>,
}

/// A notification's name and MIB, e.g. `linkDown` in `IF-MIB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapName<'a> {
    pub name: &'a str,
    pub mib: &'a str,
}

/// The object a variable binding belongs to, e.g. `ifOperStatus` in `IF-MIB`.
#[derive(Clone, Copy, Debug)]
pub struct VarName<'a> {
    pub name: &'a str,
    /// The entry's `mib`, else the MIB of its file's `mibs` when that lists exactly one, else "".
    pub mib: &'a str,
    entry: &'a VarEntry,
}

#[derive(Debug, Default)]
struct Tables {
    mibs: Vec<Box<str>>,
    mib_ids: HashMap<Box<str>, u32>,
    // looked up for every trap and (climbing) several times per variable
    traps: FastMap<Box<[u32]>, TrapEntry>,
    vars: FastMap<Box<[u32]>, VarEntry>,
}

#[derive(Debug)]
struct TrapEntry {
    name: Box<str>,
    mib: u32,
}

#[derive(Debug)]
struct VarEntry {
    name: Box<str>,
    mib: u32,
    /// Sorted by value.
    enums: Box<[(i64, Box<str>)]>,
    /// Sorted by bit position.
    bits: Box<[(u32, Box<str>)]>,
    /// Its file also defines an object below it: never a match, and the climb stops here.
    node: bool,
}

/// `1.3.6.1.4.1` (enterprises) and everything above it never name a variable.
const NEVER_MATCH: [u32; 6] = [1, 3, 6, 1, 4, 1];

impl TrapDb {
    /// The built-in database only.
    pub fn builtin() -> TrapDb {
        static BUILTIN: OnceLock<TrapDb> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut tables = Tables::default();
                // the built-in files are checked by tests; a problem here cannot happen at run time
                let _ = builtin::add_all(&mut tables);
                TrapDb {
                    tables: Arc::new(tables),
                }
            })
            .clone()
    }

    /// Built-in first, then each path in order: a JSON or YAML file (`.gz` accepted), or a
    /// directory whose *.json / *.yaml / *.yml (and .gz of them) files load in name order.
    /// Later entries override earlier ones. Every problem is reported (file, and entry/line
    /// where possible), not just the first.
    pub fn load(paths: &[PathBuf]) -> Result<TrapDb, Vec<String>> {
        let mut tables = Tables::default();
        let mut errors = builtin::add_all(&mut tables);
        for path in paths {
            for file in files::expand(path, &mut errors) {
                match files::read(&file) {
                    Ok((bytes, format)) => {
                        let parsed = parse::parse(&bytes, format);
                        let shown = file.display();
                        errors.extend(parsed.problems.iter().map(|p| format!("{shown}: {p}")));
                        if parsed.more_problems > 0 {
                            errors.push(format!(
                                "{shown}: {} more problems not listed",
                                parsed.more_problems
                            ));
                        }
                        tables.add_file(parsed);
                    }
                    Err(e) => errors.push(format!("{}: {e}", file.display())),
                }
            }
        }
        if errors.is_empty() {
            Ok(TrapDb {
                tables: Arc::new(tables),
            })
        } else {
            Err(errors)
        }
    }

    /// Name and MIB of a notification OID (a trailing `.0` is ignored, as Datadog does).
    pub fn trap(&self, oid: &Oid) -> Option<TrapName<'_>> {
        let arcs = oid.arcs();
        let get = |arcs: &[u32]| self.tables.traps.get(arcs);
        let found = match arcs {
            [head @ .., 0] if head.len() >= 2 => get(head).or_else(|| get(arcs)),
            _ => get(arcs),
        };
        // `<enterprise>.0.<n>` from an SNMPv1 trap whose notification is `<enterprise>.<n>`
        let found = found.or_else(|| match arcs {
            [head @ .., 0, n] if head.len() >= 2 => {
                let mut buf = [0u32; super::oid::MAX_OID_ARCS];
                let len = head.len() + 1;
                buf[..head.len()].copy_from_slice(head);
                buf[head.len()] = *n;
                get(&buf[..len])
            }
            _ => None,
        })?;
        Some(TrapName {
            name: &found.name,
            mib: self.tables.mib(found.mib),
        })
    }

    /// The nearest known object at or above `oid` (instance sub-identifiers dropped), e.g.
    /// ifOperStatus for 1.3.6.1.2.1.2.2.1.8.3; never matches 1.3.6.1.4.1 or anything above it.
    pub fn variable(&self, oid: &Oid) -> Option<VarName<'_>> {
        let mut arcs = oid.arcs();
        // Datadog drops a trailing `.0` (a scalar's instance) before climbing
        if let [head @ .., 0] = arcs {
            if head.len() >= 2 {
                arcs = head;
            }
        }
        for len in (2..=arcs.len()).rev() {
            let prefix = &arcs[..len];
            if NEVER_MATCH.starts_with(prefix) {
                return None;
            }
            if let Some(entry) = self.tables.vars.get(prefix) {
                if entry.node {
                    return None;
                }
                return Some(VarName {
                    name: &entry.name,
                    mib: self.tables.mib(entry.mib),
                    entry,
                });
            }
        }
        None
    }

    /// How the record shows `value` of `var`: an enum label for an INTEGER with an enum entry,
    /// the set bits' labels for BITS (an OCTET STRING whose var has `bits`), None when there is
    /// nothing to resolve (the caller shows the raw value). Borrows, never copies: this runs for
    /// every named variable of every trap.
    ///
    /// BITS follow SNMP (RFC 2578 §7.1.4): bit 0 is the most significant bit of the first octet.
    /// A set bit without a label shows as its position (a number), as Datadog does. A var with
    /// both `enum` and `bits` resolves to nothing, as in Datadog.
    pub fn label<'a>(&'a self, var: &VarName<'a>, value: &'a Value) -> Option<Label<'a>> {
        let e = var.entry;
        match (value, e.enums.is_empty(), e.bits.is_empty()) {
            (Value::Integer(i), false, true) => {
                let i = i64::from(*i);
                let at = e.enums.binary_search_by_key(&i, |(k, _)| *k).ok()?;
                Some(Label::Enum(&e.enums[at].1))
            }
            (Value::OctetString(bytes), true, false) => Some(Label::Bits(SetBits {
                labels: &e.bits,
                bytes,
            })),
            // an SMIv1 agent may send BITS as a BIT STRING: an unused-bits octet, then the bits
            (
                Value::Other {
                    tag: 0x03,
                    contents,
                },
                true,
                false,
            ) => {
                let (_unused, bytes) = contents.split_first()?;
                Some(Label::Bits(SetBits {
                    labels: &e.bits,
                    bytes,
                }))
            }
            _ => None,
        }
    }

    /// (number of traps, number of variables).
    pub fn len(&self) -> (usize, usize) {
        (self.tables.traps.len(), self.tables.vars.len())
    }

    /// True when the database has neither traps nor variables.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

/// What [`TrapDb::label`] resolved a value to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Label<'a> {
    /// An INTEGER's enum label.
    Enum(&'a str),
    /// The set bits of a BITS value.
    Bits(SetBits<'a>),
}

/// The set bits of a BITS value, each named by the var's `bits` entry where it has one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SetBits<'a> {
    /// Sorted by bit position.
    labels: &'a [(u32, Box<str>)],
    bytes: &'a [u8],
}

/// One set bit: its label, or its position when the var names no such bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bit<'a> {
    Named(&'a str),
    Position(u32),
}

impl<'a> SetBits<'a> {
    /// The set bits in order, bit 0 first.
    pub fn iter(&self) -> impl Iterator<Item = Bit<'a>> + '_ {
        let labels = self.labels;
        (0u32..)
            .zip(self.bytes)
            .flat_map(|(i, byte)| (0..8u32).map(move |j| (i, byte, j)))
            .filter(|(_, byte, j)| *byte & (0x80 >> j) != 0)
            // an octet index at or above 2^29 has no bit position in a u32; such a value cannot
            // fit in a datagram anyway
            .filter_map(|(i, _, j)| i.checked_mul(8).map(|p| p + j))
            .map(
                move |pos| match labels.binary_search_by_key(&pos, |(k, _)| *k) {
                    Ok(at) => Bit::Named(&labels[at].1),
                    Err(_) => Bit::Position(pos),
                },
            )
    }
}

impl fmt::Debug for TrapDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (traps, vars) = self.len();
        f.debug_struct("TrapDb")
            .field("traps", &traps)
            .field("vars", &vars)
            .field("mibs", &self.tables.mibs.len())
            .finish()
    }
}

impl Tables {
    fn mib(&self, id: u32) -> &str {
        self.mibs.get(id as usize).map_or("", |m| m)
    }

    fn mib_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.mib_ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.mibs.len()).unwrap_or(u32::MAX);
        self.mibs.push(name.into());
        self.mib_ids.insert(name.into(), id);
        id
    }

    /// Adds one file's entries, overriding what earlier files defined at the same OIDs.
    fn add_file(&mut self, file: parse::ParsedFile) {
        // a var that is the parent of another var of the same file is a node, as in Datadog
        let nodes: HashSet<&[u32]> = {
            let own: HashSet<&[u32]> = file.vars.iter().map(|(oid, _)| &oid[..]).collect();
            own.iter()
                .flat_map(|oid| (2..oid.len()).map(move |n| &oid[..n]))
                .filter(|prefix| own.contains(prefix))
                .collect()
        };
        let nodes: HashSet<Box<[u32]>> = nodes.into_iter().map(Box::from).collect();
        for (oid, t) in file.traps {
            let mib = self.mib_id(&t.mib);
            let entry = TrapEntry {
                name: t.name.into(),
                mib,
            };
            self.traps.insert(oid, entry);
        }
        for (oid, v) in file.vars {
            let mib = self.mib_id(&v.mib);
            let entry = VarEntry {
                name: v.name.into(),
                mib,
                enums: v.enums.into_iter().map(|(k, l)| (k, l.into())).collect(),
                bits: v.bits.into_iter().map(|(k, l)| (k, l.into())).collect(),
                node: nodes.contains(&oid),
            };
            self.vars.insert(oid, entry);
        }
    }
}

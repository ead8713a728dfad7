//! One trap-DB document (Datadog's format, JSON or YAML) into checked entries, sans-IO: bytes in,
//! entries and every problem out.
//!
//! The document is streamed: each `traps`/`vars` entry is read into a small [`Loose`] value,
//! checked and kept in compact form before the next one is read, so a file of hundreds of
//! megabytes never exists as a whole tree (descriptions are dropped). An entry's problems do not
//! stop the others being checked; only broken syntax or a wrong shape at the top stops a file.
//!
//! **Must not:** panic on any input, or read files (see `files.rs`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::proto::snmp::oid::Oid;

/// At most this many problems are listed per file; the rest are counted.
pub(super) const MAX_PROBLEMS_PER_FILE: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Yaml,
}

/// One file's entries, in file order, with every problem found.
#[derive(Debug, Default)]
pub(super) struct ParsedFile {
    pub traps: Vec<(Box<[u32]>, RawTrap)>,
    pub vars: Vec<(Box<[u32]>, RawVar)>,
    pub problems: Vec<String>,
    /// Problems beyond [`MAX_PROBLEMS_PER_FILE`].
    pub more_problems: usize,
    /// The file's `mibs` list when it names exactly one MIB: the MIB of entries without `mib`.
    pub single_mib: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct RawTrap {
    pub name: String,
    /// `mib`, else the file's single MIB, else "".
    pub mib: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct RawVar {
    pub name: String,
    /// `mib` (a nocbox extension; Datadog's files have none), else the file's single MIB, else "".
    pub mib: String,
    /// Sorted by value, one label per value.
    pub enums: Vec<(i64, String)>,
    /// Sorted by bit position, one label per position.
    pub bits: Vec<(u32, String)>,
}

impl ParsedFile {
    fn problem(&mut self, msg: String) {
        if self.problems.len() < MAX_PROBLEMS_PER_FILE {
            self.problems.push(msg);
        } else {
            self.more_problems += 1;
        }
    }
}

/// Parses one document. Syntax errors carry the line and column.
pub(super) fn parse(bytes: &[u8], format: Format) -> ParsedFile {
    let mut out = ParsedFile::default();
    let mut mibs = None;
    let result = match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            FileSeed {
                out: &mut out,
                mibs: &mut mibs,
            }
            .deserialize(&mut de)
            .and_then(|()| de.end())
            .map_err(|e| e.to_string())
        }
        Format::Yaml => {
            let de = serde_yaml::Deserializer::from_slice(bytes);
            FileSeed {
                out: &mut out,
                mibs: &mut mibs,
            }
            .deserialize(de)
            .map_err(|e| e.to_string())
        }
    };
    if let Err(e) = result {
        out.problem(e);
    }
    out.single_mib = match mibs {
        Some(Loose::Seq(list)) if list.len() == 1 => match list.into_iter().next() {
            Some(Loose::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        },
        _ => None,
    };
    if let Some(mib) = &out.single_mib {
        for (_, t) in &mut out.traps {
            if t.mib.is_empty() {
                t.mib.clone_from(mib);
            }
        }
        for (_, v) in &mut out.vars {
            if v.mib.is_empty() {
                v.mib.clone_from(mib);
            }
        }
    }
    out
}

/// Any YAML/JSON value, kept only for the length of one entry.
#[derive(Debug, Clone, PartialEq)]
enum Loose {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Loose>),
    Map(Vec<(String, Loose)>),
}

impl Loose {
    fn kind(&self) -> &'static str {
        match self {
            Loose::Null => "null",
            Loose::Bool(_) => "a boolean",
            Loose::Int(_) | Loose::Float(_) => "a number",
            Loose::Str(_) => "a string",
            Loose::Seq(_) => "a list",
            Loose::Map(_) => "a map",
        }
    }

    /// A scalar as text (YAML may read `name: 123` or `3: true` as non-strings).
    fn text(&self) -> Option<String> {
        match self {
            Loose::Str(s) => Some(s.clone()),
            Loose::Int(i) => Some(i.to_string()),
            Loose::Float(f) => Some(f.to_string()),
            Loose::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

struct LooseVisitor;

impl<'de> de::Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Loose, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Loose, E> {
        Ok(Loose::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Loose, E> {
        Ok(Loose::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Loose, E> {
        Ok(i128::try_from(v).map_or(Loose::Float(v as f64), Loose::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Loose, E> {
        Ok(Loose::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Loose, E> {
        Ok(Loose::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Loose::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        let mut items = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "descr" {
                // descriptions are the bulk of Datadog's database and nothing here shows them
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            items.push((key, map.next_value()?));
        }
        Ok(Loose::Map(items))
    }
}

/// The top level: a map with `traps`, `vars` and `mibs`; other keys are ignored, as Datadog does.
struct FileSeed<'a> {
    out: &'a mut ParsedFile,
    mibs: &'a mut Option<Loose>,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a trap database: a map with `traps` and `vars`")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(()) // an empty YAML file
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "traps" => map.next_value_seed(SectionSeed {
                    out: &mut *self.out,
                    section: Section::Traps,
                })?,
                "vars" => map.next_value_seed(SectionSeed {
                    out: &mut *self.out,
                    section: Section::Vars,
                })?,
                "mibs" => *self.mibs = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Section {
    Traps,
    Vars,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Traps => "traps",
            Section::Vars => "vars",
        }
    }
}

/// `traps` or `vars`: a map of OID to entry, each checked as it is read.
struct SectionSeed<'a> {
    out: &'a mut ParsedFile,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for SectionSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl SectionSeed<'_> {
    fn wrong_shape(self, kind: &str) {
        let key = self.section.key();
        self.out
            .problem(format!("`{key}` must be a map of OID to entry, not {kind}"));
    }
}

impl<'de> Visitor<'de> for SectionSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of OID to entry")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(()) // `traps:` with nothing under it
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.wrong_shape("a boolean");
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.wrong_shape("a number");
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.wrong_shape("a number");
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.wrong_shape("a number");
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.wrong_shape("a string");
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.wrong_shape("a list");
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let section = self.section;
        while let Some(key) = map.next_key::<String>()? {
            let value: Loose = map.next_value()?;
            let mut problems = Vec::new();
            let oid = parse_oid(&key).map_err(|e| problems.push(format!("not an OID: {e}")));
            match section {
                Section::Traps => {
                    let trap = trap_entry(value, &mut problems);
                    if let (Ok(oid), Some(trap)) = (oid, trap) {
                        self.out.traps.push((oid, trap));
                    }
                }
                Section::Vars => {
                    let var = var_entry(value, &mut problems);
                    if let (Ok(oid), Some(var)) = (oid, var) {
                        self.out.vars.push((oid, var));
                    }
                }
            }
            for p in problems {
                let shown: String = key.chars().take(60).collect();
                self.out
                    .problem(format!("{} entry \"{shown}\": {p}", section.key()));
            }
        }
        Ok(())
    }
}

/// An OID key: dotted numbers, leading dots allowed (Datadog strips them).
fn parse_oid(key: &str) -> Result<Box<[u32]>, String> {
    let oid: Oid = key
        .trim_start_matches('.')
        .parse()
        .map_err(|e| format!("{e}"))?;
    Ok(oid.arcs().into())
}

fn fields(value: Loose, problems: &mut Vec<String>) -> Option<Vec<(String, Loose)>> {
    match value {
        Loose::Map(fields) => Some(fields),
        other => {
            problems.push(format!("must be a map with `name`, not {}", other.kind()));
            None
        }
    }
}

fn name_field(name: Option<Loose>, problems: &mut Vec<String>) -> Option<String> {
    match name.as_ref().map(|n| (n, n.text())) {
        Some((_, Some(text))) if !text.trim().is_empty() => Some(text),
        Some((_, Some(_))) => {
            problems.push("`name` is empty".into());
            None
        }
        Some((n, None)) if *n != Loose::Null => {
            problems.push(format!("`name` must be a string, not {}", n.kind()));
            None
        }
        _ => {
            problems.push("`name` is missing".into());
            None
        }
    }
}

fn mib_field(mib: Option<Loose>, problems: &mut Vec<String>) -> String {
    match mib {
        None | Some(Loose::Null) => String::new(),
        Some(m) => m.text().unwrap_or_else(|| {
            problems.push(format!("`mib` must be a string, not {}", m.kind()));
            String::new()
        }),
    }
}

fn trap_entry(value: Loose, problems: &mut Vec<String>) -> Option<RawTrap> {
    let (mut name, mut mib) = (None, None);
    for (k, v) in fields(value, problems)? {
        match k.as_str() {
            "name" => name = Some(v),
            "mib" => mib = Some(v),
            _ => {}
        }
    }
    let mib = mib_field(mib, problems);
    let name = name_field(name, problems)?;
    Some(RawTrap { name, mib })
}

fn var_entry(value: Loose, problems: &mut Vec<String>) -> Option<RawVar> {
    let (mut name, mut mib, mut enums, mut bits) = (None, None, Vec::new(), Vec::new());
    for (k, v) in fields(value, problems)? {
        match k.as_str() {
            "name" => name = Some(v),
            "mib" => mib = Some(v),
            "enum" => enums = labels(v, "enum", |s| s.parse::<i64>().ok(), problems),
            "bits" => bits = labels(v, "bits", |s| s.parse::<u32>().ok(), problems),
            _ => {}
        }
    }
    let mib = mib_field(mib, problems);
    let name = name_field(name, problems)?;
    Some(RawVar {
        name,
        mib,
        enums,
        bits,
    })
}

/// An `enum` (integer → label) or `bits` (bit position → label) map, sorted by key.
fn labels<K: Ord + Copy>(
    value: Loose,
    field: &str,
    key: impl Fn(&str) -> Option<K>,
    problems: &mut Vec<String>,
) -> Vec<(K, String)> {
    let entries = match value {
        Loose::Map(entries) => entries,
        Loose::Null => return Vec::new(),
        other => {
            problems.push(format!(
                "`{field}` must be a map of number to label, not {}",
                other.kind()
            ));
            return Vec::new();
        }
    };
    let mut out: Vec<(K, String)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let shown: String = k.chars().take(30).collect();
        let Some(n) = key(k.trim()) else {
            let what = if field == "bits" {
                "a bit position (0 or more)"
            } else {
                "an integer"
            };
            problems.push(format!("`{field}` key \"{shown}\" is not {what}"));
            continue;
        };
        match v.text() {
            Some(label) => out.push((n, label)),
            None => problems.push(format!(
                "`{field}` \"{shown}\" must be a label (a string), not {}",
                v.kind()
            )),
        }
    }
    // a repeated key keeps its last label, as a map would
    out.reverse();
    out.sort_by_key(|(n, _)| *n);
    out.dedup_by_key(|(n, _)| *n);
    out
}

//! YAML text → [`Definition`], collecting every error with its key path. Unknown keys are
//! ignored (Datadog's format grows; a profile written for a newer agent must still load); a
//! known key with the wrong shape is an error.
//!
//! This file: the entry point, the top level and the typed accessors; [`metrics`] parses
//! `metrics` entries and symbols, [`tags`] `metric_tags` entries and `metadata`.

mod metrics;
mod tags;

use regex::Regex;
use serde_yaml::Value;

use super::glob::Pattern;
use super::locate::{display, locate, Seg};
use super::model::*;
use super::ProfileError;
use crate::proto::snmp::Oid;

/// Most sub-identifiers an `index:` or `index_transform` may name (an OID has at most 128).
const MAX_INDEX: usize = 128;

/// Parses one profile file's text.
pub fn parse(file: &str, text: &str) -> Result<Definition, Vec<ProfileError>> {
    let tree: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unzip();
            return Err(vec![ProfileError {
                file: file.to_string(),
                line,
                column,
                key: String::new(),
                message: format!("not valid YAML: {e}"),
            }]);
        }
    };
    let mut p = Parser::default();
    let def = p.definition(&tree);
    if p.errors.is_empty() {
        return Ok(def);
    }
    Err(p
        .errors
        .into_iter()
        .map(|(path, message)| {
            let (line, column) = locate(text, &path).unzip();
            ProfileError {
                file: file.to_string(),
                line,
                column,
                key: display(&path),
                message,
            }
        })
        .collect())
}

#[derive(Default)]
pub(super) struct Parser {
    errors: Vec<(Vec<Seg>, String)>,
}

pub(super) fn at(path: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(k.to_string()));
    p
}

pub(super) fn idx(path: &[Seg], i: usize) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Index(i));
    p
}

/// A scalar as text: strings as they are, numbers and booleans printed (mapping keys like `1:`).
pub(super) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Parser {
    pub(super) fn err(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.errors.push((path, msg.into()));
    }

    pub(super) fn map<'v>(
        &mut self,
        v: &'v Value,
        path: &[Seg],
    ) -> Option<&'v serde_yaml::Mapping> {
        match v {
            Value::Mapping(m) => Some(m),
            Value::Null => None,
            _ => {
                self.err(path.to_vec(), "expected a mapping");
                None
            }
        }
    }

    pub(super) fn seq<'v>(&mut self, v: &'v Value, path: &[Seg]) -> &'v [Value] {
        match v {
            Value::Sequence(s) => s,
            Value::Null => &[],
            _ => {
                self.err(path.to_vec(), "expected a list");
                &[]
            }
        }
    }

    pub(super) fn text(&mut self, v: &Value, path: &[Seg]) -> Option<String> {
        let t = scalar_text(v);
        if t.is_none() {
            self.err(path.to_vec(), "expected a string");
        }
        t
    }

    pub(super) fn opt_text(
        &mut self,
        m: &serde_yaml::Mapping,
        path: &[Seg],
        k: &str,
    ) -> Option<String> {
        m.get(k).and_then(|v| self.text(v, &at(path, k)))
    }

    pub(super) fn oid(&mut self, v: &Value, path: &[Seg]) -> Option<Oid> {
        let t = self.text(v, path)?;
        match t.trim().parse::<Oid>() {
            Ok(o) => Some(o),
            Err(e) => {
                self.err(path.to_vec(), format!("not an OID: {e}"));
                None
            }
        }
    }

    pub(super) fn regex(&mut self, v: &Value, path: &[Seg]) -> Option<Regex> {
        let t = self.text(v, path)?;
        match regex::RegexBuilder::new(&t).size_limit(1 << 20).build() {
            Ok(r) => Some(r),
            Err(e) => {
                // The regex crate's message spans lines with a caret; keep its last line.
                let msg = e.to_string();
                let short = msg
                    .lines()
                    .rev()
                    .find_map(|l| l.strip_prefix("error: "))
                    .unwrap_or(&msg)
                    .to_string();
                self.err(
                    path.to_vec(),
                    format!("regular expression `{t}` does not compile: {short}"),
                );
                None
            }
        }
    }

    pub(super) fn bool(&mut self, v: &Value, path: &[Seg]) -> bool {
        match v {
            Value::Bool(b) => *b,
            _ => {
                self.err(path.to_vec(), "expected true or false");
                false
            }
        }
    }

    pub(super) fn index_number(&mut self, v: &Value, path: &[Seg], min: usize) -> Option<usize> {
        match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if (min..=MAX_INDEX).contains(&n) => Some(n),
            _ => {
                self.err(
                    path.to_vec(),
                    format!("expected an index position from {min} to {MAX_INDEX}"),
                );
                None
            }
        }
    }

    pub(super) fn strings(&mut self, v: &Value, path: &[Seg]) -> Vec<String> {
        let items = self.seq(v, path);
        items
            .iter()
            .enumerate()
            .filter_map(|(i, x)| self.text(x, &idx(path, i)))
            .collect()
    }

    fn definition(&mut self, tree: &Value) -> Definition {
        let mut d = Definition::default();
        let root: &[Seg] = &[];
        let Some(m) = self.map(tree, root) else {
            return d;
        };
        if let Some(v) = m.get("extends") {
            d.extends = self.strings(v, &at(root, "extends"));
        }
        if let Some(v) = m.get("sysobjectid") {
            let path = at(root, "sysobjectid");
            let list = match v {
                Value::Sequence(_) => self.strings(v, &path),
                other => self.text(other, &path).into_iter().collect(),
            };
            for (i, s) in list.iter().enumerate() {
                match Pattern::parse(s) {
                    Ok(p) => d.sysobjectids.push(p),
                    Err(e) => self.err(
                        if matches!(v, Value::Sequence(_)) {
                            idx(&path, i)
                        } else {
                            path.clone()
                        },
                        e,
                    ),
                }
            }
        }
        if let Some(dev) = m.get("device") {
            let path = at(root, "device");
            if let Some(dm) = self.map(dev, &path) {
                d.vendor = self.opt_text(dm, &path, "vendor");
            }
        }
        if let Some(v) = m.get("static_tags") {
            d.static_tags = self.strings(v, &at(root, "static_tags"));
        }
        if let Some(v) = m.get("metric_tags") {
            let path = at(root, "metric_tags");
            for (i, t) in self.seq(v, &path).iter().enumerate() {
                if let Some(t) = self.tag(t, &idx(&path, i)) {
                    d.metric_tags.push(t);
                }
            }
        }
        if let Some(v) = m.get("metrics") {
            let path = at(root, "metrics");
            for (i, x) in self.seq(v, &path).iter().enumerate() {
                if let Some(metric) = self.metric(x, &idx(&path, i)) {
                    d.metrics.push(metric);
                }
            }
        }
        if let Some(v) = m.get("metadata") {
            self.metadata(v, &at(root, "metadata"), &mut d);
        }
        d
    }
}

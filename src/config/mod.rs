//! Loading and checking the YAML config. Owns: environment interpolation, typed parsing, and
//! validation that reports every error at once, each with file, line, column and key path.
//!
//! How "every error at once" works: the interpolated text is parsed to a YAML tree, then typed
//! parsing is repeated on that tree; after each failure the offending key is removed and parsing
//! retried, so one run finds every bad key. Positions are recovered by walking the original text
//! to the key's path with a seeking deserializer (`locate.rs`).

mod env;
mod lists;
pub(crate) mod locate;
mod model;
mod reach;
mod secret;
mod snmp;
mod traps;
mod validate;

use std::fmt;
use std::path::Path;

pub use env::interpolate;
pub use model::*;
pub use reach::*;
pub use secret::Secret;
pub use snmp::*;
pub use traps::*;
pub use validate::split_host_port;

use locate::{locate, Seg};

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Key path such as `outputs.datadog.logs.transport` or `snmp.devices[1].ip_address`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

/// Reads, interpolates, parses and validates `path`.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: file.clone(),
            line: None,
            column: None,
            path: String::new(),
            message: format!("cannot read the config file: {e}"),
        }]
    })?;
    parse(&file, &text, |k| std::env::var(k).ok())
}

/// Parses and validates config text; `lookup` reads environment variables.
pub fn parse(
    file: &str,
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    let err = |line, column, path: String, message: String| ConfigError {
        file: file.to_string(),
        line,
        column,
        path,
        message,
    };
    let text = interpolate(text, lookup).map_err(|es| {
        es.into_iter()
            .map(|e| err(Some(e.line), Some(e.column), String::new(), e.message))
            .collect::<Vec<_>>()
    })?;
    let mut tree: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
        let (l, c) = e.location().map(|l| (l.line(), l.column())).unzip();
        vec![err(l, c, String::new(), format!("not valid YAML: {e}"))]
    })?;
    if tree.is_null() {
        tree = serde_yaml::Value::Mapping(Default::default());
    }
    let positioned = |path: Vec<Seg>, message: String| {
        let (l, c) = locate(&text, &path).unzip();
        err(l, c, locate::display(&path), message)
    };
    let mut errors = Vec::new();
    let mut removed: Vec<Vec<Seg>> = Vec::new();
    let config = loop {
        match serde_path_to_error::deserialize::<_, Config>(tree.clone()) {
            Ok(c) => break Some(c),
            Err(e) => {
                let mut path = locate::from_serde_path(e.path());
                let message = e.inner().to_string();
                if let Some(field) = backticked(&message, "unknown field `") {
                    if path.last() != Some(&Seg::Key(field.clone())) {
                        path.push(Seg::Key(field));
                    }
                } else if let Some(field) = backticked(&message, "missing field `") {
                    let mut child = path.clone();
                    child.push(Seg::Key(field));
                    if removed.contains(&child) {
                        // Fallout of removing a bad required key: drop the parent silently.
                        if !remove(&mut tree, &path) {
                            break None;
                        }
                        removed.push(path);
                        continue;
                    }
                }
                errors.push(positioned(path.clone(), explain(&message)));
                if errors.len() > 100 || !remove(&mut tree, &path) {
                    break None;
                }
                removed.push(path);
            }
        }
    };
    if let Some(c) = &config {
        for (path, message) in validate::check(c) {
            errors.push(positioned(path, message));
        }
    }
    match config {
        Some(c) if errors.is_empty() => Ok(c),
        _ => Err(errors),
    }
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_string)
}

fn explain(message: &str) -> String {
    if message.starts_with("unknown field") {
        format!("{message} (check the spelling; README.md lists every key)")
    } else {
        message.to_string()
    }
}

/// Removes the node at `path`; false if there is nothing to remove (the root).
fn remove(tree: &mut serde_yaml::Value, path: &[Seg]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut node = tree;
    for seg in parent {
        let next = match (seg, node) {
            (Seg::Key(k), serde_yaml::Value::Mapping(m)) => m.get_mut(k.as_str()),
            (Seg::Index(i), serde_yaml::Value::Sequence(s)) => s.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, node) {
        (Seg::Key(k), serde_yaml::Value::Mapping(m)) => m.remove(k.as_str()).is_some(),
        (Seg::Index(i), serde_yaml::Value::Sequence(s)) if *i < s.len() => {
            // Replace rather than remove so later indexes keep pointing at the same items.
            s[*i] = serde_yaml::Value::Null;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;

//! The profile store: built-in profiles (embedded) plus user directories, `extends` resolved,
//! and sysObjectID selection.
//!
//! Rules: files are known by file name (`cisco.yaml`); a user file with the same name as a
//! built-in replaces it, for profiles and mixins alike, so `extends` resolves user files first and
//! built-ins second. Files starting with `_` are mixins: only used through `extends`. A user
//! pattern beats an equal built-in pattern; two profiles of the same origin with the same pattern
//! are an error. Among matching patterns the most specific wins (see [`super::glob`]), a user
//! profile winning a tie; with no match the `generic` profile is chosen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::proto::snmp::Oid;

use super::builtin::BUILTIN;
use super::glob::Pattern;
use super::model::Definition;
use super::parse::parse;
use super::{Profile, ProfileError};

/// Where a file came from; user beats built-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Builtin,
    User,
}

/// One profile file to load: its shown path, file name and text.
pub struct Source {
    pub path: String,
    pub text: String,
}

struct Parsed {
    path: String,
    origin: Origin,
    def: Definition,
    /// False when the file had errors: it still hides a built-in of the same name, and what
    /// extends it fails with a pointer to it rather than "not found".
    ok: bool,
}

/// Deepest `extends` chain accepted; deeper is surely a mistake and would only grow the stack.
const MAX_EXTENDS_DEPTH: usize = 32;

/// All profiles, resolved, with their patterns.
#[derive(Clone, Debug, Default)]
pub struct ProfileStore {
    profiles: BTreeMap<String, Arc<Profile>>,
    patterns: Vec<(Pattern, String, Origin)>,
}

/// `cisco.yaml` → `cisco`; also accepts `cisco` and `dir/cisco.yml`.
fn stem(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.strip_suffix(".yaml")
        .or_else(|| base.strip_suffix(".yml"))
        .unwrap_or(base)
        .to_string()
}

impl ProfileStore {
    /// The profiles compiled into the binary. A built-in that fails to load is left out (a unit
    /// test keeps them all loading).
    pub fn builtin() -> ProfileStore {
        match Self::from_sources(builtin_sources(), Vec::new()) {
            Ok(s) => s,
            Err((s, _)) => s,
        }
    }

    /// Built-ins plus every `*.yaml`/`*.yml` in `dirs`; every error at once.
    pub fn load(dirs: &[PathBuf]) -> Result<ProfileStore, Vec<ProfileError>> {
        let mut user = Vec::new();
        let mut errors = Vec::new();
        for dir in dirs {
            read_dir(dir, &mut user, &mut errors);
        }
        match Self::from_sources(builtin_sources(), user) {
            Ok(s) if errors.is_empty() => Ok(s),
            Ok(_) => Err(errors),
            Err((_, mut e)) => {
                errors.append(&mut e);
                Err(errors)
            }
        }
    }

    /// The IO-free core of [`load`](Self::load). On error, also returns the store built from
    /// what did load.
    #[allow(clippy::result_large_err)]
    pub fn from_sources(
        builtin: Vec<Source>,
        user: Vec<Source>,
    ) -> Result<ProfileStore, (ProfileStore, Vec<ProfileError>)> {
        let mut errors = Vec::new();
        let mut files: BTreeMap<String, Parsed> = BTreeMap::new();
        for (origin, sources) in [(Origin::Builtin, builtin), (Origin::User, user)] {
            for src in sources {
                let name = stem(&src.path);
                let (def, ok) = match parse(&src.path, &src.text) {
                    Ok(def) => (def, true),
                    Err(mut e) => {
                        errors.append(&mut e);
                        (Definition::default(), false)
                    }
                };
                if let Some(prev) = files.get(&name) {
                    if prev.origin == origin {
                        errors.push(ProfileError::file(
                            &src.path,
                            format!("profile `{name}` is also defined in {}", prev.path),
                        ));
                        continue;
                    }
                }
                let path = src.path;
                files.insert(
                    name,
                    Parsed {
                        path,
                        origin,
                        def,
                        ok,
                    },
                );
            }
        }
        let mut store = ProfileStore::default();
        for (name, parsed) in &files {
            if name.starts_with('_') || !parsed.ok {
                continue;
            }
            match resolve(name, &files) {
                Ok(profile) => {
                    for p in &parsed.def.sysobjectids {
                        store
                            .patterns
                            .push((p.clone(), name.clone(), parsed.origin));
                    }
                    store.profiles.insert(name.clone(), Arc::new(profile));
                }
                Err(e) => errors.push(e),
            }
        }
        store.check_patterns(&mut errors);
        if errors.is_empty() {
            Ok(store)
        } else {
            Err((store, errors))
        }
    }

    /// Duplicates within one origin are errors; a user pattern hides the same built-in pattern.
    fn check_patterns(&mut self, errors: &mut Vec<ProfileError>) {
        let mut seen: BTreeMap<(String, Origin), String> = BTreeMap::new();
        for (p, name, origin) in &self.patterns {
            let key = (p.as_str().to_string(), *origin);
            if let Some(other) = seen.get(&key) {
                if other != name {
                    errors.push(ProfileError::file(
                        &self
                            .profiles
                            .get(name)
                            .map(|x| x.file.clone())
                            .unwrap_or_default(),
                        format!(
                            "sysobjectid `{}` is also claimed by profile `{other}`",
                            p.as_str()
                        ),
                    ));
                }
            } else {
                seen.insert(key, name.clone());
            }
        }
        let user: BTreeSet<String> = self
            .patterns
            .iter()
            .filter(|(_, _, o)| *o == Origin::User)
            .map(|(p, _, _)| p.as_str().to_string())
            .collect();
        self.patterns
            .retain(|(p, _, o)| *o == Origin::User || !user.contains(p.as_str()));
    }

    /// The most specific matching profile (or `generic`).
    pub fn select(&self, sys_object_id: &Oid) -> Option<Arc<Profile>> {
        self.select_with_pattern(sys_object_id).map(|(p, _)| p)
    }

    /// The selected profile and the pattern that matched (None when `generic` was the fallback).
    pub fn select_with_pattern(
        &self,
        sys_object_id: &Oid,
    ) -> Option<(Arc<Profile>, Option<String>)> {
        let text = sys_object_id.to_string();
        let best = self
            .patterns
            .iter()
            .filter(|(p, _, _)| p.matches(&text))
            .max_by(|a, b| {
                a.0.specificity_cmp(&b.0)
                    .then(a.2.cmp(&b.2))
                    .then(b.1.cmp(&a.1))
            });
        match best {
            Some((p, name, _)) => self
                .profiles
                .get(name)
                .map(|x| (x.clone(), Some(p.as_str().to_string()))),
            None => self.profiles.get("generic").map(|x| (x.clone(), None)),
        }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Profile>> {
        self.profiles.get(&stem(name)).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.profiles.keys().cloned().collect()
    }
}

fn builtin_sources() -> Vec<Source> {
    BUILTIN
        .iter()
        .map(|(name, text)| Source {
            path: format!("<built-in>/{name}"),
            text: (*text).to_string(),
        })
        .collect()
}

fn read_dir(dir: &Path, out: &mut Vec<Source>, errors: &mut Vec<ProfileError>) {
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ProfileError::file(
                &shown,
                format!("cannot read the directory: {e}"),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
        .collect();
    paths.sort();
    for p in paths {
        let shown = p.display().to_string();
        match std::fs::read_to_string(&p) {
            Ok(text) => out.push(Source { path: shown, text }),
            Err(e) => errors.push(ProfileError::file(&shown, format!("cannot read: {e}"))),
        }
    }
}

/// Applies `extends` depth-first: each file once (a diamond is fine), a file on the current
/// chain again is a cycle.
fn resolve(name: &str, files: &BTreeMap<String, Parsed>) -> Result<Profile, ProfileError> {
    let Some(top) = files.get(name) else {
        return Err(ProfileError::file(name, "profile not found"));
    };
    let mut profile = Profile {
        name: name.to_string(),
        vendor: None,
        file: top.path.clone(),
        sysobjectids: top
            .def
            .sysobjectids
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        def: Definition::default(),
    };
    let mut done = BTreeSet::new();
    let mut chain = Vec::new();
    apply(name, files, &mut profile.def, &mut done, &mut chain)?;
    profile.vendor = profile.def.vendor.clone();
    Ok(profile)
}

fn apply(
    name: &str,
    files: &BTreeMap<String, Parsed>,
    into: &mut Definition,
    done: &mut BTreeSet<String>,
    chain: &mut Vec<String>,
) -> Result<(), ProfileError> {
    if chain.iter().any(|c| c == name) {
        let first = chain.first().cloned().unwrap_or_default();
        let file = files.get(&first).map(|p| p.path.clone()).unwrap_or(first);
        return Err(ProfileError::file(
            &file,
            format!("extends cycle: {} -> {name}", chain.join(" -> ")),
        ));
    }
    if !done.insert(name.to_string()) {
        return Ok(());
    }
    let from = || {
        chain
            .last()
            .and_then(|c| files.get(c))
            .map(|p| p.path.clone())
            .unwrap_or_default()
    };
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(ProfileError::file(
            &from(),
            format!("extends is nested deeper than {MAX_EXTENDS_DEPTH} files"),
        ));
    }
    if let Some(p) = files.get(name).filter(|p| !p.ok) {
        return Err(ProfileError::file(
            &from(),
            format!("extends `{name}.yaml`, which has errors ({})", p.path),
        ));
    }
    let Some(parsed) = files.get(name) else {
        return Err(ProfileError::file(
            &from(),
            format!(
                "extends `{name}.yaml`, which is neither in the profile directories nor built in"
            ),
        ));
    };
    let d = &parsed.def;
    // Own definitions first so they win over what the mixins say.
    if into.vendor.is_none() {
        into.vendor = d.vendor.clone();
    }
    for m in &d.metrics {
        let dup = into.metrics.iter().any(|x| {
            x.table == m.table
                && x.symbols.len() == m.symbols.len()
                && x.symbols
                    .iter()
                    .zip(&m.symbols)
                    .all(|(a, b)| a.oid == b.oid && a.name == b.name)
        });
        if !dup {
            into.metrics.push(m.clone());
        }
    }
    into.metric_tags.extend(d.metric_tags.iter().cloned());
    for t in &d.static_tags {
        if !into.static_tags.contains(t) {
            into.static_tags.push(t.clone());
        }
    }
    for (k, v) in &d.device_fields {
        into.device_fields
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
    for (k, v) in &d.interface_fields {
        into.interface_fields
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
    into.interface_id_tags
        .extend(d.interface_id_tags.iter().cloned());
    chain.push(name.to_string());
    for e in &d.extends {
        apply(&stem(e), files, into, done, chain)?;
    }
    chain.pop();
    Ok(())
}

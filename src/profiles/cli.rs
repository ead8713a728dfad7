//! `nocbox profiles check|match`: validate the built-in and user profiles, or show which profile
//! a sysObjectID selects and what it makes of a recording. Returns the process exit code; prints
//! to stdout/stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::proto::snmp::{Oid, Value};

use super::{snmprec, Evaluation, ProfileStore, SampleValue};

/// `profiles check`: 0 when every profile loads, 1 with every error printed otherwise.
pub fn check(dirs: &[PathBuf]) -> u8 {
    match ProfileStore::load(dirs) {
        Ok(store) => {
            println!(
                "{} profiles ok: {}",
                store.names().len(),
                store.names().join(", ")
            );
            0
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} error(s)", errors.len());
            1
        }
    }
}

/// `profiles match [SYSOBJECTID] [--snmprec FILE]`: prints the profile, its file and the pattern
/// that matched. With a recording (snmpsim `.snmprec`, e.g. from `snmpwalk` converted), also
/// evaluates the profile against it and prints every sample, the device tags and the metadata;
/// the sysObjectID then defaults to the recording's.
pub fn matches(sys_object_id: Option<&str>, snmprec: Option<&Path>, dirs: &[PathBuf]) -> u8 {
    let recording = match snmprec.map(read_recording).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let oid = match (sys_object_id, &recording) {
        (Some(text), _) => match text.trim().parse::<Oid>() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("`{text}` is not an OID: {e}");
                return 1;
            }
        },
        (None, Some(values)) => match Oid::from_arcs(&SYS_OBJECT_ID)
            .ok()
            .and_then(|o| values.get(&o))
        {
            Some(Value::Oid(o)) => o.clone(),
            _ => {
                eprintln!("the recording has no sysObjectID (1.3.6.1.2.1.1.2.0); give one");
                return 1;
            }
        },
        (None, None) => {
            eprintln!("give a sysObjectID or --snmprec FILE");
            return 1;
        }
    };
    let store = match ProfileStore::load(dirs) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} error(s)", errors.len());
            return 1;
        }
    };
    let Some((p, pattern)) = store.select_with_pattern(&oid) else {
        eprintln!("no profile matches {oid} and there is no generic profile");
        return 1;
    };
    let mut out = format!("profile: {}\nfile: {}\n", p.name, p.file);
    match pattern {
        Some(pat) => out.push_str(&format!("pattern: {pat}\n")),
        None => out.push_str("pattern: none matched; generic fallback\n"),
    }
    if let Some(v) = &p.vendor {
        out.push_str(&format!("vendor: {v}\n"));
    }
    let plan = p.plan();
    out.push_str(&format!(
        "plan: {} scalars, {} columns\n",
        plan.scalars.len(),
        plan.columns.len()
    ));
    if let Some(values) = recording {
        write_evaluation(&mut out, &p.evaluate(&values));
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    0
}

/// sysObjectID.0
const SYS_OBJECT_ID: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 2, 0];

fn read_recording(path: &Path) -> Result<BTreeMap<Oid, Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let (values, bad) = snmprec::parse(&text);
    for (line, why) in bad.iter().take(10) {
        eprintln!("{}:{line}: skipped: {why}", path.display());
    }
    Ok(values)
}

fn write_evaluation(out: &mut String, ev: &Evaluation) {
    out.push_str(&format!("device tags: {}\n", ev.device_tags.join(",")));
    for (k, v) in &ev.metadata {
        out.push_str(&format!("metadata {k}: {v}\n"));
    }
    for s in &ev.samples {
        let value = match s.value {
            SampleValue::Number(n) => n.to_string(),
            SampleValue::Counter32(c) => format!("{c} (counter32)"),
            SampleValue::Counter64(c) => format!("{c} (counter64)"),
        };
        let scale = if s.scale == 1.0 {
            String::new()
        } else {
            format!(" scale={}", s.scale)
        };
        let tags = s.tags.join(",");
        out.push_str(&format!(
            "{} {:?} {value}{scale} [{tags}]\n",
            s.name, s.kind
        ));
    }
    out.push_str(&format!(
        "{} samples, {} interfaces\n",
        ev.samples.len(),
        ev.interfaces.len()
    ));
}

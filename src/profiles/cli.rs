//! `nocbox profiles check|match`: validate the built-in and user profiles, or show which profile
//! a sysObjectID selects. Returns the process exit code; prints to stdout/stderr.

use std::path::PathBuf;

use crate::proto::snmp::Oid;

use super::ProfileStore;

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

/// `profiles match SYSOBJECTID`: prints the profile, its file and the pattern that matched.
pub fn matches(sys_object_id: &str, dirs: &[PathBuf]) -> u8 {
    let oid: Oid = match sys_object_id.trim().parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("`{sys_object_id}` is not an OID: {e}");
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
    match store.select_with_pattern(&oid) {
        Some((p, pattern)) => {
            println!("profile: {}", p.name);
            println!("file: {}", p.file);
            match pattern {
                Some(pat) => println!("pattern: {pat}"),
                None => println!("pattern: none matched; generic fallback"),
            }
            if let Some(v) = &p.vendor {
                println!("vendor: {v}");
            }
            let plan = p.plan();
            println!(
                "plan: {} scalars, {} columns",
                plan.scalars.len(),
                plan.columns.len()
            );
            0
        }
        None => {
            eprintln!("no profile matches {oid} and there is no generic profile");
            1
        }
    }
}

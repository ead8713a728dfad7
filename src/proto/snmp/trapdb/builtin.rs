//! The built-in database: one YAML file per MIB under `builtin/`, compiled in. Each file names
//! its MIB and sources at the top. Loaded in this order, before any user file.

use super::parse::{self, Format};
use super::Tables;

/// (file name, contents), in load order.
pub(super) const FILES: &[(&str, &str)] =
    &[("snmpv2-mib.yaml", include_str!("builtin/snmpv2-mib.yaml"))];

/// Adds every built-in file to `tables`; returns the problems (none: a test checks it).
pub(super) fn add_all(tables: &mut Tables) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, text) in FILES {
        let parsed = parse::parse(text.as_bytes(), Format::Yaml);
        problems.extend(
            parsed
                .problems
                .iter()
                .map(|p| format!("built-in {name}: {p}")),
        );
        tables.add_file(parsed);
    }
    problems
}

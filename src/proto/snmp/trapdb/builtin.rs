//! The built-in database: one YAML file per MIB under `builtin/`, compiled in. Each file names
//! its MIB and sources at the top. Loaded in this order, before any user file.

use super::parse::{self, Format};
use super::Tables;

/// (file name, contents), in load order.
pub(super) const FILES: &[(&str, &str)] = &[
    ("snmpv2-mib.yaml", include_str!("builtin/snmpv2-mib.yaml")),
    ("if-mib.yaml", include_str!("builtin/if-mib.yaml")),
    ("entity-mib.yaml", include_str!("builtin/entity-mib.yaml")),
    (
        "entity-state-mib.yaml",
        include_str!("builtin/entity-state-mib.yaml"),
    ),
    ("bridge-mib.yaml", include_str!("builtin/bridge-mib.yaml")),
    ("rmon-mib.yaml", include_str!("builtin/rmon-mib.yaml")),
    ("bgp4-mib.yaml", include_str!("builtin/bgp4-mib.yaml")),
    ("ospf-mib.yaml", include_str!("builtin/ospf-mib.yaml")),
    (
        "ospf-trap-mib.yaml",
        include_str!("builtin/ospf-trap-mib.yaml"),
    ),
    (
        "cisco-config-man-mib.yaml",
        include_str!("builtin/cisco-config-man-mib.yaml"),
    ),
    (
        "cisco-syslog-mib.yaml",
        include_str!("builtin/cisco-syslog-mib.yaml"),
    ),
    (
        "cisco-envmon-mib.yaml",
        include_str!("builtin/cisco-envmon-mib.yaml"),
    ),
    (
        "cisco-entity-fru-control-mib.yaml",
        include_str!("builtin/cisco-entity-fru-control-mib.yaml"),
    ),
    (
        "cisco-stackwise-mib.yaml",
        include_str!("builtin/cisco-stackwise-mib.yaml"),
    ),
    ("juniper-mib.yaml", include_str!("builtin/juniper-mib.yaml")),
    (
        "juniper-cfgmgmt-mib.yaml",
        include_str!("builtin/juniper-cfgmgmt-mib.yaml"),
    ),
    (
        "juniper-syslog-mib.yaml",
        include_str!("builtin/juniper-syslog-mib.yaml"),
    ),
];

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

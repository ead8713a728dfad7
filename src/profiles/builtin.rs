//! The profiles shipped in `profiles/`, compiled in so the binary works without files.

/// (file name, text) of every built-in profile and mixin.
pub const BUILTIN: &[(&str, &str)] = &[
    ("_base.yaml", include_str!("../../profiles/_base.yaml")),
    (
        "_generic-if.yaml",
        include_str!("../../profiles/_generic-if.yaml"),
    ),
    (
        "_generic-host-resources.yaml",
        include_str!("../../profiles/_generic-host-resources.yaml"),
    ),
    (
        "_generic-entity-sensor.yaml",
        include_str!("../../profiles/_generic-entity-sensor.yaml"),
    ),
    (
        "_cisco-generic.yaml",
        include_str!("../../profiles/_cisco-generic.yaml"),
    ),
    (
        "_cisco-cpu-memory.yaml",
        include_str!("../../profiles/_cisco-cpu-memory.yaml"),
    ),
    (
        "_cisco-envmon.yaml",
        include_str!("../../profiles/_cisco-envmon.yaml"),
    ),
    (
        "_juniper-generic.yaml",
        include_str!("../../profiles/_juniper-generic.yaml"),
    ),
    ("generic.yaml", include_str!("../../profiles/generic.yaml")),
    ("cisco.yaml", include_str!("../../profiles/cisco.yaml")),
    (
        "cisco-catalyst.yaml",
        include_str!("../../profiles/cisco-catalyst.yaml"),
    ),
    (
        "cisco-nexus.yaml",
        include_str!("../../profiles/cisco-nexus.yaml"),
    ),
    ("juniper.yaml", include_str!("../../profiles/juniper.yaml")),
    (
        "juniper-mx.yaml",
        include_str!("../../profiles/juniper-mx.yaml"),
    ),
    (
        "juniper-srx.yaml",
        include_str!("../../profiles/juniper-srx.yaml"),
    ),
];

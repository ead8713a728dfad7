//! Recorded devices: select the profile by the recording's sysObjectID, fetch only what the plan
//! asks for, evaluate, and check the metrics and tags users look at.

use std::sync::Arc;

use super::*;
use crate::profiles::{snmprec, MetricKind};

struct Device {
    profile: Arc<Profile>,
    ev: Evaluation,
}

fn device(text: &str) -> Device {
    let (all, bad) = snmprec::parse(text);
    assert!(bad.is_empty(), "unreadable fixture lines: {bad:?}");
    let Some(Value::Oid(sys)) = all.get(&oid("1.3.6.1.2.1.1.2.0")) else {
        panic!("no sysObjectID in the recording");
    };
    let profile = ProfileStore::builtin().select(sys).expect("a profile");
    let fetched = fetch(&profile, &all);
    let ev = profile.evaluate(&fetched);
    // Every OID evaluation reads is in the plan: more values change nothing.
    assert_eq!(
        ev,
        profile.evaluate(&all),
        "evaluation used OIDs outside the plan"
    );
    Device { profile, ev }
}

fn one<'a>(d: &'a Device, name: &str, tags: &[&str]) -> &'a Sample {
    let found = find(&d.ev, name, tags);
    assert_eq!(found.len(), 1, "{name} {tags:?}: {found:?}");
    found[0]
}

fn has_cpu_and_memory(d: &Device) {
    assert!(
        !find(&d.ev, "snmp.cpu.usage", &[]).is_empty(),
        "{}: no cpu.usage",
        d.profile.name
    );
    assert!(
        !find(&d.ev, "snmp.memory.usage", &[]).is_empty(),
        "{}: no memory.usage",
        d.profile.name
    );
}

#[test]
fn cisco_c3560() {
    let d = device(include_str!(
        "../../../tests/fixtures/snmprec/cisco-c3560.snmprec"
    ));
    assert_eq!(d.profile.name, "cisco-catalyst");
    let s = one(
        &d,
        "snmp.ifHCInOctets",
        &[
            "interface:Gi0/1",
            "interface_alias:",
            "interface_index:10101",
        ],
    );
    assert_eq!(
        (s.value, s.kind),
        (SampleValue::Counter64(0), MetricKind::MonotonicCountAndRate)
    );
    assert_eq!(number(one(&d, "snmp.cpu.usage", &["cpu:1"])), 58.0);
    let used = number(one(&d, "snmp.memory.used", &["mem_pool_name:Processor"]));
    let free = number(one(&d, "snmp.memory.free", &["mem_pool_name:Processor"]));
    assert_eq!((used, free), (22188980.0, 53499780.0));
    let usage = number(one(&d, "snmp.memory.usage", &["mem_pool_name:Processor"]));
    assert!((usage - 22188980.0 / 75688760.0 * 100.0).abs() < 1e-9);
    assert_eq!(
        number(one(
            &d,
            "snmp.ciscoEnvMonTemperatureStatusValue",
            &["temp_index:1005"]
        )),
        61.0
    );
    assert!(d
        .ev
        .device_tags
        .contains(&"snmp_host:DUMSYS-04".to_string()));
    assert!(d
        .ev
        .device_tags
        .contains(&"device_vendor:cisco".to_string()));
    assert_eq!(
        d.ev.metadata.get("os_name").map(String::as_str),
        Some("IOS")
    );
    assert_eq!(
        d.ev.metadata.get("version").map(String::as_str),
        Some("12.2(55)SE3")
    );
    let gi01 =
        d.ev.interfaces
            .iter()
            .find(|i| i.get("index").map(String::as_str) == Some("10101"));
    assert_eq!(
        gi01.and_then(|i| i.get("name")).map(String::as_str),
        Some("Gi0/1")
    );
}

#[test]
fn cisco_c3750() {
    let d = device(include_str!(
        "../../../tests/fixtures/snmprec/cisco-c3750.snmprec"
    ));
    assert_eq!(d.profile.name, "cisco-catalyst");
    let tags = ["interface:Gi1/0/1", "interface_alias:DJ_200_POE"];
    assert_eq!(
        one(&d, "snmp.ifHCInOctets", &tags).value,
        SampleValue::Counter64(4377757100764)
    );
    assert_eq!(
        one(&d, "snmp.ifHCOutOctets", &tags).value,
        SampleValue::Counter64(37940036623733)
    );
    let bw = one(&d, "snmp.ifBandwidthInUsage.rate", &tags);
    assert!((bw.scale - 800.0 / 1e9).abs() < 1e-18);
    assert_eq!(number(one(&d, "snmp.ifInSpeed", &tags)), 1e9);
    assert_eq!(number(one(&d, "snmp.cpu.usage", &["cpu:1"])), 64.0);
    assert_eq!(
        number(one(&d, "snmp.memory.used", &["mem_pool_name:Processor"])),
        33385580.0
    );
    has_cpu_and_memory(&d);
    assert_eq!(
        number(one(&d, "snmp.cswSwitchState", &["switch_number:1"])),
        4.0
    );
    assert_eq!(
        number(one(&d, "snmp.cswSwitchInfo", &["switch_state:ready"])),
        1.0
    );
    assert_eq!(
        number(one(&d, "snmp.ciscoEnvMonFanState", &["fan_index:1004"])),
        1.0
    );
    assert!(!find(&d.ev, "snmp.entSensorValue", &["sensor_type:celsius"]).is_empty());
}

#[test]
fn cisco_nexus_5000() {
    let d = device(include_str!(
        "../../../tests/fixtures/snmprec/cisco-n5000.snmprec"
    ));
    assert_eq!(d.profile.name, "cisco-nexus");
    let tags = ["interface:Ethernet1/1", "interface_alias:H3C-1:25"];
    assert_eq!(
        one(&d, "snmp.ifHCInOctets", &tags).value,
        SampleValue::Counter64(85856583072626)
    );
    assert_eq!(number(one(&d, "snmp.ifInSpeed", &tags)), 1e10);
    assert_eq!(number(one(&d, "snmp.cpu.usage", &["cpu:1"])), 25.0);
    assert_eq!(
        number(one(&d, "snmp.memory.used", &["cpu:1"])),
        2429964.0 * 1024.0
    );
    let usage = number(one(&d, "snmp.memory.usage", &["cpu:1"]));
    assert!((usage - 2429964.0 / (2429964.0 + 5823892.0) * 100.0).abs() < 1e-9);
    assert_eq!(
        d.ev.metadata.get("os_name").map(String::as_str),
        Some("NX-OS")
    );
    assert_eq!(
        d.ev.metadata.get("version").map(String::as_str),
        Some("6.0(2)N2(3)")
    );
    let sensors = find(&d.ev, "snmp.entSensorValue", &[]);
    assert!(sensors
        .iter()
        .any(|s| s.tags.iter().any(|t| t.starts_with("sensor_name:"))));
}

#[test]
fn juniper_mx960() {
    let d = device(include_str!(
        "../../../tests/fixtures/snmprec/juniper-mx960.snmprec"
    ));
    assert_eq!(d.profile.name, "juniper-mx");
    let tags = ["interface:ge-0/0/0", "interface_alias:SNNU-YT-TianJiaBin"];
    assert_eq!(
        one(&d, "snmp.ifHCInOctets", &tags).value,
        SampleValue::Counter64(6250110845486)
    );
    assert_eq!(
        one(&d, "snmp.ifHCOutOctets", &tags).value,
        SampleValue::Counter64(29716439959981)
    );
    let re0 = ["cpu:Routing Engine 0"];
    assert_eq!(number(one(&d, "snmp.cpu.usage", &re0)), 29.0);
    assert_eq!(number(one(&d, "snmp.memory.usage", &re0)), 8.0);
    assert_eq!(
        number(one(
            &d,
            "snmp.jnxOperatingTemp",
            &["component:Routing Engine 0"]
        )),
        24.0
    );
    // Only Routing Engines and FPCs report CPU: 2 REs + 3 FPCs.
    assert_eq!(find(&d.ev, "snmp.cpu.usage", &[]).len(), 5);
    has_cpu_and_memory(&d);
    assert_eq!(number(one(&d, "snmp.jnxRedAlarmState", &[])), 2.0);
    assert_eq!(
        d.ev.metadata.get("serial_number").map(String::as_str),
        Some("JN11FCEC5AFA")
    );
    assert_eq!(
        d.ev.metadata.get("version").map(String::as_str),
        Some("12.3R6.6")
    );
    assert!(d
        .ev
        .device_tags
        .contains(&"device_vendor:juniper".to_string()));
}

#[test]
fn juniper_srx_hand_made() {
    let d = device(include_str!(
        "../../../tests/fixtures/snmprec/juniper-srx.snmprec"
    ));
    assert_eq!(d.profile.name, "juniper-srx");
    let tags = ["interface:xe-3/0/0", "interface_alias:uplink-core-a"];
    assert_eq!(
        one(&d, "snmp.ifHCInOctets", &tags).value,
        SampleValue::Counter64(918273645501234)
    );
    assert_eq!(number(one(&d, "snmp.ifInSpeed", &tags)), 1e10);
    assert!(
        find(&d.ev, "snmp.ifBandwidthInUsage.rate", &["interface:lo0"]).is_empty(),
        "no speed, no usage"
    );
    // jnxOperating per component.
    assert_eq!(
        number(one(&d, "snmp.cpu.usage", &["cpu:Routing Engine 0"])),
        7.0
    );
    assert_eq!(
        number(one(
            &d,
            "snmp.cpu.usage",
            &["cpu:FPC: SRX5k SPC II @ 0/*/*"]
        )),
        18.0
    );
    assert_eq!(
        number(one(&d, "snmp.memory.usage", &["cpu:Routing Engine 0"])),
        34.0
    );
    assert_eq!(
        number(one(
            &d,
            "snmp.memory.total",
            &["component:Routing Engine 0"]
        )),
        16384.0 * 1048576.0
    );
    // Used and free follow from the size and the buffer percentage (34 %).
    let used = number(one(&d, "snmp.memory.used", &["component:Routing Engine 0"]));
    let free = number(one(&d, "snmp.memory.free", &["component:Routing Engine 0"]));
    assert!((used - 0.34 * 16384.0 * 1048576.0).abs() < 1.0, "{used}");
    assert!((used + free - 16384.0 * 1048576.0).abs() < 1.0, "{free}");
    assert_eq!(
        number(one(
            &d,
            "snmp.jnxOperatingTemp",
            &["component:PIC: SPU Cp-Flow @ 0/0/*"]
        )),
        52.0
    );
    assert_eq!(
        number(one(&d, "snmp.jnxOperatingState", &["component:PEM 1"])),
        2.0
    );
    // SPUs.
    let spu0 = ["spu_index:0", "fpc:0", "spu:0", "node:single"];
    assert_eq!(
        number(one(&d, "snmp.jnxJsSPUMonitoringCPUUsage", &spu0)),
        23.0
    );
    assert_eq!(
        number(one(&d, "snmp.jnxJsSPUMonitoringMemoryUsage", &spu0)),
        61.0
    );
    assert_eq!(
        number(one(&d, "snmp.jnxJsSPUMonitoringCurrentFlowSession", &spu0)),
        412305.0
    );
    assert_eq!(
        number(one(&d, "snmp.jnxJsSPUMonitoringMaxFlowSession", &spu0)),
        13500000.0
    );
    assert_eq!(
        number(one(&d, "snmp.jnxJsSPUMonitoringCurrentCPSession", &spu0)),
        1648923.0
    );
    assert_eq!(find(&d.ev, "snmp.jnxJsSPUMonitoringCPUUsage", &[]).len(), 4);
    assert_eq!(
        number(one(&d, "snmp.jnxJsSPUMonitoringCurrentTotalSession", &[])),
        1769304.0
    );
    assert_eq!(number(one(&d, "snmp.jnxYellowAlarmState", &[])), 3.0);
    assert_eq!(
        number(one(&d, "snmp.jnxFruState", &["fru:Routing Engine 0"])),
        6.0
    );
    for t in [
        "snmp_host:srx-fw-01",
        "device_vendor:juniper",
        "device_type:firewall",
    ] {
        assert!(
            d.ev.device_tags.contains(&t.to_string()),
            "{t}: {:?}",
            d.ev.device_tags
        );
    }
    assert_eq!(
        d.ev.metadata.get("model").map(String::as_str),
        Some("Juniper SRX5800 Internet Router")
    );
    assert_eq!(
        d.ev.metadata.get("version").map(String::as_str),
        Some("21.4R3-S5.4")
    );
    assert_eq!(d.ev.interfaces.len(), 6);
}

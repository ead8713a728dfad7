//! Metrics nocbox derives the way the Datadog Agent does: bandwidth usage and interface speeds
//! from the IF-MIB octet counters, and `snmp.memory.usage` from used/free/total.

use std::collections::BTreeMap;

use crate::proto::snmp::{Oid, Value};

use super::values::number;
use super::{MetricKind, Sample, SampleValue};

pub(super) const IF_HC_IN_OCTETS: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6];
pub(super) const IF_HC_OUT_OCTETS: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10];
pub(super) const IF_IN_OCTETS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 10];
pub(super) const IF_OUT_OCTETS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 16];
pub(super) const IF_HIGH_SPEED: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15];
pub(super) const IF_SPEED: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 5];

/// Which direction an octet column feeds, and its 64-bit twin for the 32-bit columns.
pub(super) fn octets(col: &Oid) -> Option<(&'static str, Option<&'static [u32]>)> {
    match col.arcs() {
        IF_HC_IN_OCTETS => Some(("In", None)),
        IF_HC_OUT_OCTETS => Some(("Out", None)),
        IF_IN_OCTETS => Some(("In", Some(IF_HC_IN_OCTETS))),
        IF_OUT_OCTETS => Some(("Out", Some(IF_HC_OUT_OCTETS))),
        _ => None,
    }
}

/// The value at `column` + `row`.
pub(super) fn at<'v>(
    values: &'v BTreeMap<Oid, Value>,
    column: &[u32],
    row: &[u32],
) -> Option<&'v Value> {
    let mut arcs = column.to_vec();
    arcs.extend_from_slice(row);
    values.get(&Oid::from_arcs(&arcs).ok()?)
}

/// `snmp.ifBandwidth{In,Out}Usage.rate` and `snmp.if{In,Out}Speed` for one octet counter.
pub(super) fn bandwidth(
    dir: &str,
    v: &Value,
    row: &[u32],
    values: &BTreeMap<Oid, Value>,
    tags: &[String],
    out: &mut Vec<Sample>,
) {
    let get = |c: &[u32]| at(values, c, row).and_then(number);
    let speed = match get(IF_HIGH_SPEED) {
        Some(h) if h > 0.0 => h * 1e6,
        _ => match get(IF_SPEED) {
            Some(s) if s > 0.0 => s,
            _ => return,
        },
    };
    let value = match v {
        Value::Counter64(c) => SampleValue::Counter64(*c),
        Value::Counter32(c) => SampleValue::Counter32(*c),
        _ => return,
    };
    out.push(Sample {
        name: format!("snmp.ifBandwidth{dir}Usage.rate"),
        value,
        scale: 8.0 * 100.0 / speed,
        kind: MetricKind::Rate,
        tags: tags.to_vec(),
    });
    let mut t = tags.to_vec();
    t.push("speed_source:device".to_string());
    out.push(Sample {
        name: format!("snmp.if{dir}Speed"),
        value: SampleValue::Number(speed),
        scale: 1.0,
        kind: MetricKind::Gauge,
        tags: t,
    });
}

/// `snmp.memory.usage` per row from used/free/total where the profile does not give it.
pub(super) fn memory_usage(samples: &mut Vec<Sample>) {
    let mut rows: BTreeMap<Vec<String>, [Option<f64>; 4]> = BTreeMap::new();
    for s in samples.iter() {
        let slot = match s.name.as_str() {
            "snmp.memory.used" => 0,
            "snmp.memory.free" => 1,
            "snmp.memory.total" => 2,
            "snmp.memory.usage" => 3,
            _ => continue,
        };
        if let SampleValue::Number(v) = s.value {
            let mut key = s.tags.clone();
            key.sort();
            rows.entry(key).or_default()[slot] = Some(v);
        }
    }
    for (tags, [used, free, total, usage]) in rows {
        if let (Some(pct), Some(t), None, None) = (usage, total, used, free) {
            // A percentage and a size (Junos: jnxOperatingBuffer and jnxOperatingMemory): the
            // bytes used and free follow, so every vendor has memory.used/free.
            if t > 0.0 {
                let u = t * pct / 100.0;
                for (name, v) in [("snmp.memory.used", u), ("snmp.memory.free", t - u)] {
                    samples.push(Sample {
                        name: name.to_string(),
                        value: SampleValue::Number(v),
                        scale: 1.0,
                        kind: MetricKind::Gauge,
                        tags: tags.clone(),
                    });
                }
            }
            continue;
        }
        if usage.is_some() {
            continue;
        }
        let pct = match (used, free, total) {
            (Some(u), Some(f), _) if u + f > 0.0 => u / (u + f) * 100.0,
            (Some(u), _, Some(t)) if t > 0.0 => u / t * 100.0,
            (_, Some(f), Some(t)) if t > 0.0 => (t - f) / t * 100.0,
            _ => continue,
        };
        samples.push(Sample {
            name: "snmp.memory.usage".to_string(),
            value: SampleValue::Number(pct),
            scale: 1.0,
            kind: MetricKind::Gauge,
            tags,
        });
    }
}

//! Plan and evaluate a resolved profile: which OIDs to fetch, and fetched values → samples,
//! tags and metadata, with Datadog's semantics (type inference, `snmp.` names, mapping, regex
//! tags, scale factors, flag streams, the remapped `cpu.usage`/`memory.*` names and the derived
//! bandwidth and speed metrics).

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::snmp::{Oid, Value};

use super::derived::{at, bandwidth, memory_usage, octets, IF_HIGH_SPEED, IF_SPEED};
use super::model::{FieldDef, MetricDef, MetricType, Symbol, TagDef, TagSource};
use super::values::{cell, column, expand, extract, number, symbol_text, text};
use super::{Evaluation, MetricKind, Plan, Profile, Sample, SampleValue};

impl Profile {
    /// What to fetch: scalars by GET, table columns by walk.
    pub fn plan(&self) -> Plan {
        let d = &self.def;
        let mut scalars = BTreeSet::new();
        let mut columns = BTreeSet::new();
        for m in &d.metrics {
            let is_table = m.table.is_some();
            let mut wanted: Vec<Oid> = m.symbols.iter().filter_map(|s| s.oid.clone()).collect();
            for t in &m.metric_tags {
                if let TagSource::Symbol { symbol, .. } = &t.source {
                    wanted.extend(symbol.oid.clone());
                }
            }
            if is_table
                && m.symbols
                    .iter()
                    .any(|s| s.oid.as_ref().is_some_and(|o| octets(o).is_some()))
            {
                wanted.extend(Oid::from_arcs(IF_HIGH_SPEED).ok());
                wanted.extend(Oid::from_arcs(IF_SPEED).ok());
            }
            if is_table {
                columns.extend(wanted);
            } else {
                scalars.extend(wanted);
            }
        }
        for t in &d.metric_tags {
            if let TagSource::Symbol { symbol, .. } = &t.source {
                scalars.extend(symbol.oid.clone());
            }
        }
        for f in d.device_fields.values() {
            if let FieldDef::Symbols(list) = f {
                scalars.extend(list.iter().filter_map(|s| s.oid.clone()));
            }
        }
        for f in d.interface_fields.values() {
            if let FieldDef::Symbols(list) = f {
                columns.extend(list.iter().filter_map(|s| s.oid.clone()));
            }
        }
        for t in &d.interface_id_tags {
            if let TagSource::Symbol { symbol, .. } = &t.source {
                columns.extend(symbol.oid.clone());
            }
        }
        // A column under another planned column is fetched by that walk already.
        let all: Vec<Oid> = columns.iter().cloned().collect();
        columns.retain(|c| !all.iter().any(|p| p != c && c.starts_with(p)));
        Plan {
            scalars: scalars.into_iter().collect(),
            columns: columns.into_iter().collect(),
        }
    }

    /// Turns fetched values into samples, device tags and metadata.
    pub fn evaluate(&self, values: &BTreeMap<Oid, Value>) -> Evaluation {
        let d = &self.def;
        let mut ev = Evaluation::default();
        for m in &d.metrics {
            if m.table.is_some() {
                table(m, values, &mut ev.samples);
            } else {
                scalar(m, values, &mut ev.samples);
            }
        }
        memory_usage(&mut ev.samples);
        for t in &d.metric_tags {
            for tag in tag_values(t, None, values) {
                push_unique(&mut ev.device_tags, tag);
            }
        }
        for t in &d.static_tags {
            push_unique(&mut ev.device_tags, t.clone());
        }
        if let Some(v) = &self.vendor {
            push_unique(&mut ev.device_tags, format!("device_vendor:{v}"));
        }
        for (name, f) in &d.device_fields {
            let got = match f {
                FieldDef::Value(v) => Some(v.clone()),
                FieldDef::Symbols(list) => list.iter().find_map(|s| {
                    let v = values.get(s.oid.as_ref()?)?;
                    symbol_text(s, v).filter(|t| !t.is_empty())
                }),
            };
            if let Some(v) = got {
                ev.metadata.insert(name.clone(), v);
            }
        }
        ev.interfaces = interfaces(self, values);
        ev
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

fn scalar(m: &MetricDef, values: &BTreeMap<Oid, Value>, out: &mut Vec<Sample>) {
    let mut tags = m.static_tags.clone();
    for t in &m.metric_tags {
        tags.extend(tag_values(t, None, values));
    }
    for s in &m.symbols {
        if let Some(v) = s.oid.as_ref().and_then(|o| values.get(o)) {
            out.extend(sample(m, s, v, &tags));
        }
    }
}

fn table(m: &MetricDef, values: &BTreeMap<Oid, Value>, out: &mut Vec<Sample>) {
    let mut rows: BTreeSet<Vec<u32>> = BTreeSet::new();
    for s in &m.symbols {
        if let Some(col) = &s.oid {
            rows.extend(column(values, col).map(|(i, _)| i.to_vec()));
        }
    }
    if m.symbols.iter().any(|s| s.constant_value_one) {
        // Rows come from the same-table tag columns.
        for t in &m.metric_tags {
            if let TagSource::Symbol { symbol, table } = &t.source {
                let same = table.is_none() || *table == m.table;
                if let (true, true, Some(col)) = (same, t.index_transform.is_empty(), &symbol.oid) {
                    rows.extend(column(values, col).map(|(i, _)| i.to_vec()));
                }
            }
        }
    }
    if let Some(f) = &m.row_filter {
        rows.retain(|r| r.get(f.index - 1).is_some_and(|x| f.values.contains(x)));
    }
    for row in &rows {
        let mut tags = m.static_tags.clone();
        for t in &m.metric_tags {
            tags.extend(tag_values(t, Some(row), values));
        }
        // Symbols sharing a name in one table are fallbacks: the first that answers wins.
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for s in &m.symbols {
            if named.contains(s.name.as_str()) {
                continue;
            }
            if s.constant_value_one {
                out.push(Sample {
                    name: format!("snmp.{}", s.name),
                    value: SampleValue::Number(1.0),
                    scale: 1.0,
                    kind: MetricKind::Gauge,
                    tags: tags.clone(),
                });
                continue;
            }
            let Some(col) = &s.oid else { continue };
            let Some(v) = cell(col, row).and_then(|c| values.get(&c)) else {
                continue;
            };
            let got = sample(m, s, v, &tags);
            if !got.is_empty() {
                named.insert(&s.name);
            }
            out.extend(got);
            if let Some((dir, twin)) = octets(col) {
                let hc_present = twin.is_some_and(|t| at(values, t, row).is_some());
                if !hc_present {
                    bandwidth(dir, v, row, values, &tags, out);
                }
            }
        }
    }
}

/// One symbol value → its sample(s), or none when the value is not a number.
fn sample(m: &MetricDef, s: &Symbol, v: &Value, tags: &[String]) -> Vec<Sample> {
    let declared = s.metric_type.or(m.metric_type);
    if declared == Some(MetricType::FlagStream) {
        let (Some(opts), Some(t)) = (&m.options, text(v, None)) else {
            return Vec::new();
        };
        let Some(ch) = t.chars().nth(opts.placement - 1) else {
            return Vec::new();
        };
        return vec![Sample {
            name: format!("snmp.{}.{}", s.name, opts.metric_suffix),
            value: SampleValue::Number(if ch == '1' { 1.0 } else { 0.0 }),
            scale: 1.0,
            kind: MetricKind::Gauge,
            tags: tags.to_vec(),
        }];
    }
    let num = match &s.extract_value {
        Some(re) => text(v, None).and_then(|t| extract(re, &t)),
        None => number(v),
    };
    let Some(num) = num else { return Vec::new() };
    let kind = match declared {
        Some(MetricType::Gauge) => MetricKind::Gauge,
        Some(MetricType::Rate) => MetricKind::Rate,
        Some(MetricType::MonotonicCount) => MetricKind::MonotonicCount,
        Some(MetricType::MonotonicCountAndRate) => MetricKind::MonotonicCountAndRate,
        Some(MetricType::FlagStream) | None => match v {
            Value::Counter32(_) | Value::Counter64(_) => MetricKind::Rate,
            _ => MetricKind::Gauge,
        },
    };
    let factor = s.scale_factor.unwrap_or(1.0);
    let (value, scale) = match (kind, v) {
        (MetricKind::Gauge, _) => (SampleValue::Number(num * factor), 1.0),
        (_, Value::Counter32(c)) if s.extract_value.is_none() => {
            (SampleValue::Counter32(*c), factor)
        }
        (_, Value::Counter64(c)) if s.extract_value.is_none() => {
            (SampleValue::Counter64(*c), factor)
        }
        _ => (SampleValue::Number(num), factor),
    };
    vec![Sample {
        name: format!("snmp.{}", s.name),
        value,
        scale,
        kind,
        tags: tags.to_vec(),
    }]
}

/// The tags one `metric_tags` entry gives for a row (`None` = global, scalar OIDs).
fn tag_values(t: &TagDef, row: Option<&[u32]>, values: &BTreeMap<Oid, Value>) -> Vec<String> {
    let raw = match (&t.source, row) {
        (TagSource::Index(n), Some(row)) => row.get(n - 1).map(|x| x.to_string()),
        (TagSource::Index(_), None) => None,
        (TagSource::Symbol { symbol, .. }, None) => symbol
            .oid
            .as_ref()
            .and_then(|o| values.get(o))
            .and_then(|v| symbol_text(symbol, v)),
        (TagSource::Symbol { symbol, .. }, Some(row)) => {
            let index: Vec<u32> = if t.index_transform.is_empty() {
                row.to_vec()
            } else {
                let mut out = Vec::new();
                for &(s, e) in &t.index_transform {
                    match row.get(s..=e) {
                        Some(part) => out.extend_from_slice(part),
                        None => return Vec::new(),
                    }
                }
                out
            };
            symbol
                .oid
                .as_ref()
                .and_then(|c| cell(c, &index))
                .and_then(|c| values.get(&c))
                .and_then(|v| symbol_text(symbol, v))
        }
    };
    let Some(mut raw) = raw else {
        return Vec::new();
    };
    if !t.mapping.is_empty() {
        match t.mapping.get(&raw) {
            Some(m) => raw = m.clone(),
            None => return Vec::new(),
        }
    }
    if let Some((re, templates)) = &t.pattern {
        let Some(caps) = re.captures(&raw) else {
            return Vec::new();
        };
        return templates
            .iter()
            .map(|(k, tpl)| format!("{k}:{}", expand(tpl, &caps)))
            .collect();
    }
    match &t.tag {
        Some(name) => vec![format!("{name}:{raw}")],
        None => Vec::new(),
    }
}

fn interfaces(p: &Profile, values: &BTreeMap<Oid, Value>) -> Vec<BTreeMap<String, String>> {
    let d = &p.def;
    let mut rows: BTreeMap<Vec<u32>, BTreeMap<String, String>> = BTreeMap::new();
    for (name, f) in &d.interface_fields {
        let FieldDef::Symbols(list) = f else { continue };
        for s in list {
            let Some(col) = &s.oid else { continue };
            for (index, v) in column(values, col) {
                let row = rows.entry(index.to_vec()).or_default();
                if !row.contains_key(name) {
                    if let Some(t) = symbol_text(s, v) {
                        row.insert(name.clone(), t);
                    }
                }
            }
        }
    }
    rows.into_iter()
        .map(|(index, mut row)| {
            for (name, f) in &d.interface_fields {
                if let FieldDef::Value(v) = f {
                    row.insert(name.clone(), v.clone());
                }
            }
            let ids: Vec<String> = d
                .interface_id_tags
                .iter()
                .flat_map(|t| tag_values(t, Some(&index), values))
                .collect();
            if !ids.is_empty() {
                row.insert("id_tags".to_string(), ids.join(","));
            }
            let idx: Vec<String> = index.iter().map(|x| x.to_string()).collect();
            row.insert("index".to_string(), idx.join("."));
            row
        })
        .collect()
}

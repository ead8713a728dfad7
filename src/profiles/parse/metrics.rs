//! `metrics` entries: scalar and table metrics, symbols and their options.

use serde_yaml::Value;

use super::{at, idx, Parser};
use crate::profiles::locate::Seg;
use crate::profiles::model::*;

impl Parser {
    pub(super) fn metric_type(&mut self, v: &Value, path: &[Seg]) -> Option<MetricType> {
        let t = self.text(v, path)?;
        Some(match t.as_str() {
            "gauge" | "percent" => MetricType::Gauge,
            "rate" | "counter" => MetricType::Rate,
            "monotonic_count" => MetricType::MonotonicCount,
            "monotonic_count_and_rate" => MetricType::MonotonicCountAndRate,
            "flag_stream" => MetricType::FlagStream,
            _ => {
                self.err(
                    path.to_vec(),
                    format!("unknown metric_type `{t}` (gauge, rate, monotonic_count, monotonic_count_and_rate, flag_stream)"),
                );
                return None;
            }
        })
    }

    /// `metric_type`, or the legacy `forced_type`.
    pub(super) fn type_of(&mut self, m: &serde_yaml::Mapping, path: &[Seg]) -> Option<MetricType> {
        for k in ["metric_type", "forced_type"] {
            if let Some(v) = m.get(k) {
                return self.metric_type(v, &at(path, k));
            }
        }
        None
    }

    /// A symbol mapping (`OID`, `name` and options). `need_oid` is false where an OID may be
    /// absent (constant_value_one).
    pub(super) fn symbol(&mut self, v: &Value, path: &[Seg]) -> Option<Symbol> {
        let m = self.map(v, path)?;
        let mut s = Symbol {
            name: self.opt_text(m, path, "name").unwrap_or_default(),
            ..Symbol::default()
        };
        if let Some(o) = m.get("OID") {
            s.oid = self.oid(o, &at(path, "OID"));
        }
        if let Some(x) = m.get("extract_value") {
            s.extract_value = self.regex(x, &at(path, "extract_value"));
        }
        if let Some(x) = m.get("match_pattern") {
            s.match_pattern = self.regex(x, &at(path, "match_pattern"));
        }
        s.match_value = self.opt_text(m, path, "match_value");
        if let Some(x) = m.get("scale_factor") {
            match x.as_f64() {
                Some(f) if f.is_finite() => s.scale_factor = Some(f),
                _ => self.err(at(path, "scale_factor"), "expected a number"),
            }
        }
        if let Some(f) = m.get("format") {
            s.format = match self.text(f, &at(path, "format")).as_deref() {
                Some("mac_address") => Some(Format::MacAddress),
                Some("ip_address") => Some(Format::IpAddress),
                Some(other) => {
                    self.err(
                        at(path, "format"),
                        format!("unknown format `{other}` (mac_address, ip_address)"),
                    );
                    None
                }
                None => None,
            };
        }
        if let Some(c) = m.get("constant_value_one") {
            s.constant_value_one = self.bool(c, &at(path, "constant_value_one"));
        }
        s.metric_type = self.type_of(m, path);
        if s.oid.is_none() && !s.constant_value_one && m.get("OID").is_none() {
            self.err(
                path.to_vec(),
                "a symbol needs an OID (or constant_value_one: true)",
            );
            return None;
        }
        if s.name.is_empty() && m.get("name").is_none() {
            self.err(path.to_vec(), "a symbol needs a name");
            return None;
        }
        Some(s)
    }

    pub(super) fn metric(&mut self, v: &Value, path: &[Seg]) -> Option<MetricDef> {
        let m = self.map(v, path)?;
        let mut metric = MetricDef {
            mib: self.opt_text(m, path, "MIB"),
            table: None,
            symbols: Vec::new(),
            metric_tags: Vec::new(),
            static_tags: Vec::new(),
            metric_type: self.type_of(m, path),
            options: None,
            row_filter: None,
        };
        if let Some(t) = m.get("table") {
            let tp = at(path, "table");
            metric.table = match t {
                Value::Mapping(tm) => Some(
                    self.opt_text(tm, &tp, "name")
                        .unwrap_or_else(|| "table".to_string()),
                ),
                other => self.text(other, &tp),
            };
            let sp = at(path, "symbols");
            match m.get("symbols") {
                Some(list) => {
                    for (i, s) in self.seq(list, &sp).iter().enumerate() {
                        if let Some(s) = self.symbol(s, &idx(&sp, i)) {
                            metric.symbols.push(s);
                        }
                    }
                }
                None => self.err(path.to_vec(), "a table metric needs `symbols`"),
            }
        } else if let Some(s) = m.get("symbol") {
            metric.symbols.extend(self.symbol(s, &at(path, "symbol")));
        } else if m.get("OID").is_some() {
            // Legacy scalar form: `- OID: …, name: …` directly in the metric.
            metric.symbols.extend(self.symbol(v, path));
        } else {
            self.err(
                path.to_vec(),
                "a metric needs `symbol` or `table` + `symbols`",
            );
            return None;
        }
        if let Some(t) = m.get("metric_tags") {
            let tp = at(path, "metric_tags");
            for (i, x) in self.seq(t, &tp).iter().enumerate() {
                metric.metric_tags.extend(self.tag(x, &idx(&tp, i)));
            }
        }
        if let Some(t) = m.get("static_tags") {
            metric.static_tags = self.strings(t, &at(path, "static_tags"));
        }
        if let Some(o) = m.get("options") {
            metric.options = self.flag_options(o, &at(path, "options"));
        }
        let flags = metric.metric_type == Some(MetricType::FlagStream)
            || metric
                .symbols
                .iter()
                .any(|s| s.metric_type == Some(MetricType::FlagStream));
        if flags && metric.options.is_none() {
            self.err(
                path.to_vec(),
                "flag_stream needs options: {placement, metric_suffix}",
            );
        }
        if let Some(f) = m.get("nocbox_row_filter") {
            metric.row_filter = self.row_filter(f, &at(path, "nocbox_row_filter"));
        }
        Some(metric)
    }

    pub(super) fn flag_options(&mut self, v: &Value, path: &[Seg]) -> Option<FlagOptions> {
        let m = self.map(v, path)?;
        let placement = m.get("placement")?;
        let placement = match placement.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if (1..=4096).contains(&n) => n,
            _ => {
                self.err(at(path, "placement"), "expected a position from 1 to 4096");
                return None;
            }
        };
        let metric_suffix = self.opt_text(m, path, "metric_suffix").unwrap_or_default();
        if metric_suffix.is_empty() {
            self.err(path.to_vec(), "flag_stream options need metric_suffix");
            return None;
        }
        Some(FlagOptions {
            placement,
            metric_suffix,
        })
    }

    pub(super) fn row_filter(&mut self, v: &Value, path: &[Seg]) -> Option<RowFilter> {
        let m = self.map(v, path)?;
        let index = self.index_number(m.get("index")?, &at(path, "index"), 1)?;
        let vp = at(path, "values");
        let mut values = Vec::new();
        for (i, x) in self.seq(m.get("values")?, &vp).iter().enumerate() {
            match x.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => values.push(n),
                None => self.err(idx(&vp, i), "expected a sub-identifier (0..4294967295)"),
            }
        }
        Some(RowFilter { index, values })
    }
}

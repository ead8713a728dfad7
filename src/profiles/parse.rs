//! YAML text → [`Definition`], collecting every error with its key path. Unknown keys are
//! ignored (Datadog's format grows; a profile written for a newer agent must still load); a
//! known key with the wrong shape is an error.

use std::collections::BTreeMap;

use regex::Regex;
use serde_yaml::Value;

use super::glob::Pattern;
use super::locate::{display, locate, Seg};
use super::model::*;
use super::ProfileError;
use crate::proto::snmp::Oid;

/// Most sub-identifiers an `index:` or `index_transform` may name (an OID has at most 128).
const MAX_INDEX: usize = 128;

/// Parses one profile file's text.
pub fn parse(file: &str, text: &str) -> Result<Definition, Vec<ProfileError>> {
    let tree: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unzip();
            return Err(vec![ProfileError {
                file: file.to_string(),
                line,
                column,
                key: String::new(),
                message: format!("not valid YAML: {e}"),
            }]);
        }
    };
    let mut p = Parser::default();
    let def = p.definition(&tree);
    if p.errors.is_empty() {
        return Ok(def);
    }
    Err(p
        .errors
        .into_iter()
        .map(|(path, message)| {
            let (line, column) = locate(text, &path).unzip();
            ProfileError {
                file: file.to_string(),
                line,
                column,
                key: display(&path),
                message,
            }
        })
        .collect())
}

#[derive(Default)]
struct Parser {
    errors: Vec<(Vec<Seg>, String)>,
}

fn at(path: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(k.to_string()));
    p
}

fn idx(path: &[Seg], i: usize) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Index(i));
    p
}

/// A scalar as text: strings as they are, numbers and booleans printed (mapping keys like `1:`).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Parser {
    fn err(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.errors.push((path, msg.into()));
    }

    fn map<'v>(&mut self, v: &'v Value, path: &[Seg]) -> Option<&'v serde_yaml::Mapping> {
        match v {
            Value::Mapping(m) => Some(m),
            Value::Null => None,
            _ => {
                self.err(path.to_vec(), "expected a mapping");
                None
            }
        }
    }

    fn seq<'v>(&mut self, v: &'v Value, path: &[Seg]) -> &'v [Value] {
        match v {
            Value::Sequence(s) => s,
            Value::Null => &[],
            _ => {
                self.err(path.to_vec(), "expected a list");
                &[]
            }
        }
    }

    fn text(&mut self, v: &Value, path: &[Seg]) -> Option<String> {
        let t = scalar_text(v);
        if t.is_none() {
            self.err(path.to_vec(), "expected a string");
        }
        t
    }

    fn opt_text(&mut self, m: &serde_yaml::Mapping, path: &[Seg], k: &str) -> Option<String> {
        m.get(k).and_then(|v| self.text(v, &at(path, k)))
    }

    fn oid(&mut self, v: &Value, path: &[Seg]) -> Option<Oid> {
        let t = self.text(v, path)?;
        match t.trim().parse::<Oid>() {
            Ok(o) => Some(o),
            Err(e) => {
                self.err(path.to_vec(), format!("not an OID: {e}"));
                None
            }
        }
    }

    fn regex(&mut self, v: &Value, path: &[Seg]) -> Option<Regex> {
        let t = self.text(v, path)?;
        match regex::RegexBuilder::new(&t).size_limit(1 << 20).build() {
            Ok(r) => Some(r),
            Err(e) => {
                // The regex crate's message spans lines with a caret; keep its last line.
                let msg = e.to_string();
                let short = msg
                    .lines()
                    .rev()
                    .find_map(|l| l.strip_prefix("error: "))
                    .unwrap_or(&msg)
                    .to_string();
                self.err(
                    path.to_vec(),
                    format!("regular expression `{t}` does not compile: {short}"),
                );
                None
            }
        }
    }

    fn bool(&mut self, v: &Value, path: &[Seg]) -> bool {
        match v {
            Value::Bool(b) => *b,
            _ => {
                self.err(path.to_vec(), "expected true or false");
                false
            }
        }
    }

    fn index_number(&mut self, v: &Value, path: &[Seg], min: usize) -> Option<usize> {
        match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if (min..=MAX_INDEX).contains(&n) => Some(n),
            _ => {
                self.err(
                    path.to_vec(),
                    format!("expected an index position from {min} to {MAX_INDEX}"),
                );
                None
            }
        }
    }

    fn strings(&mut self, v: &Value, path: &[Seg]) -> Vec<String> {
        let items = self.seq(v, path);
        items
            .iter()
            .enumerate()
            .filter_map(|(i, x)| self.text(x, &idx(path, i)))
            .collect()
    }

    fn definition(&mut self, tree: &Value) -> Definition {
        let mut d = Definition::default();
        let root: &[Seg] = &[];
        let Some(m) = self.map(tree, root) else {
            return d;
        };
        if let Some(v) = m.get("extends") {
            d.extends = self.strings(v, &at(root, "extends"));
        }
        if let Some(v) = m.get("sysobjectid") {
            let path = at(root, "sysobjectid");
            let list = match v {
                Value::Sequence(_) => self.strings(v, &path),
                other => self.text(other, &path).into_iter().collect(),
            };
            for (i, s) in list.iter().enumerate() {
                match Pattern::parse(s) {
                    Ok(p) => d.sysobjectids.push(p),
                    Err(e) => self.err(
                        if matches!(v, Value::Sequence(_)) {
                            idx(&path, i)
                        } else {
                            path.clone()
                        },
                        e,
                    ),
                }
            }
        }
        if let Some(dev) = m.get("device") {
            let path = at(root, "device");
            if let Some(dm) = self.map(dev, &path) {
                d.vendor = self.opt_text(dm, &path, "vendor");
            }
        }
        if let Some(v) = m.get("static_tags") {
            d.static_tags = self.strings(v, &at(root, "static_tags"));
        }
        if let Some(v) = m.get("metric_tags") {
            let path = at(root, "metric_tags");
            for (i, t) in self.seq(v, &path).iter().enumerate() {
                if let Some(t) = self.tag(t, &idx(&path, i)) {
                    d.metric_tags.push(t);
                }
            }
        }
        if let Some(v) = m.get("metrics") {
            let path = at(root, "metrics");
            for (i, x) in self.seq(v, &path).iter().enumerate() {
                if let Some(metric) = self.metric(x, &idx(&path, i)) {
                    d.metrics.push(metric);
                }
            }
        }
        if let Some(v) = m.get("metadata") {
            self.metadata(v, &at(root, "metadata"), &mut d);
        }
        d
    }

    fn metric_type(&mut self, v: &Value, path: &[Seg]) -> Option<MetricType> {
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
    fn type_of(&mut self, m: &serde_yaml::Mapping, path: &[Seg]) -> Option<MetricType> {
        for k in ["metric_type", "forced_type"] {
            if let Some(v) = m.get(k) {
                return self.metric_type(v, &at(path, k));
            }
        }
        None
    }

    /// A symbol mapping (`OID`, `name` and options). `need_oid` is false where an OID may be
    /// absent (constant_value_one).
    fn symbol(&mut self, v: &Value, path: &[Seg]) -> Option<Symbol> {
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

    fn metric(&mut self, v: &Value, path: &[Seg]) -> Option<MetricDef> {
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

    fn flag_options(&mut self, v: &Value, path: &[Seg]) -> Option<FlagOptions> {
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

    fn row_filter(&mut self, v: &Value, path: &[Seg]) -> Option<RowFilter> {
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

    /// One `metric_tags` entry (global or table).
    fn tag(&mut self, v: &Value, path: &[Seg]) -> Option<TagDef> {
        if v.is_string() {
            // Legacy Python-check form (`metric_tags: [name]`, resolved through MIBs): accepted
            // so such profiles load, but it names no OID, so there is nothing to evaluate.
            return None;
        }
        let m = self.map(v, path)?;
        let tag = self.opt_text(m, path, "tag");
        let mut source = None;
        if let Some(i) = m.get("index") {
            source = self
                .index_number(i, &at(path, "index"), 1)
                .map(TagSource::Index);
        } else {
            let table = self.opt_text(m, path, "table");
            // `symbol`/`column` as a mapping, or the legacy `OID` + `symbol: name` form.
            let sym = ["symbol", "column"]
                .into_iter()
                .find_map(|k| m.get(k).filter(|x| x.is_mapping()).map(|x| (k, x)));
            let symbol = match (sym, m.get("OID")) {
                (Some((k, x)), _) => self.symbol(x, &at(path, k)),
                (None, Some(o)) => {
                    let name = m.get("symbol").and_then(scalar_text).unwrap_or_default();
                    self.oid(o, &at(path, "OID")).map(|oid| Symbol {
                        oid: Some(oid),
                        name,
                        ..Symbol::default()
                    })
                }
                (None, None) => {
                    self.err(
                        path.to_vec(),
                        "a metric tag needs `symbol` (or `column`/`OID`) or `index`",
                    );
                    None
                }
            };
            if let Some(s) = symbol {
                if s.oid.is_none() {
                    self.err(path.to_vec(), "a tag symbol needs an OID");
                } else {
                    source = Some(TagSource::Symbol { symbol: s, table });
                }
            }
        }
        let mut mapping = BTreeMap::new();
        if let Some(mv) = m.get("mapping") {
            let mp = at(path, "mapping");
            if let Some(mm) = self.map(mv, &mp) {
                for (k, val) in mm {
                    match (scalar_text(k), scalar_text(val)) {
                        (Some(k), Some(val)) => {
                            mapping.insert(k, val);
                        }
                        _ => self.err(mp.clone(), "mapping keys and values must be scalars"),
                    }
                }
            }
        }
        let mut pattern = None;
        if let Some(r) = m.get("match") {
            let re = self.regex(r, &at(path, "match"));
            let tp = at(path, "tags");
            let mut tags = Vec::new();
            match m.get("tags") {
                Some(tv) => {
                    if let Some(tm) = self.map(tv, &tp) {
                        for (k, val) in tm {
                            match (scalar_text(k), scalar_text(val)) {
                                (Some(k), Some(val)) => tags.push((k, val)),
                                _ => self.err(tp.clone(), "tags keys and values must be strings"),
                            }
                        }
                    }
                }
                None => self.err(path.to_vec(), "`match` needs `tags`"),
            }
            pattern = re.map(|r| (r, tags));
        }
        let mut index_transform = Vec::new();
        if let Some(t) = m.get("index_transform") {
            let tp = at(path, "index_transform");
            for (i, x) in self.seq(t, &tp).iter().enumerate() {
                let xp = idx(&tp, i);
                let Some(xm) = self.map(x, &xp) else { continue };
                let (Some(s), Some(e)) = (xm.get("start"), xm.get("end")) else {
                    self.err(xp, "index_transform needs start and end");
                    continue;
                };
                let s = self.index_number(s, &at(&xp, "start"), 0);
                let e = self.index_number(e, &at(&xp, "end"), 0);
                if let (Some(s), Some(e)) = (s, e) {
                    if s > e {
                        self.err(xp, "index_transform start is after end");
                    } else {
                        index_transform.push((s, e));
                    }
                }
            }
        }
        if tag.is_none() && pattern.is_none() {
            self.err(
                path.to_vec(),
                "a metric tag needs `tag` (or `match` + `tags`)",
            );
            return None;
        }
        Some(TagDef {
            tag,
            source: source?,
            mapping,
            pattern,
            index_transform,
        })
    }

    fn fields(&mut self, v: &Value, path: &[Seg]) -> BTreeMap<String, FieldDef> {
        let mut out = BTreeMap::new();
        let Some(m) = self.map(v, path) else {
            return out;
        };
        for (k, fv) in m {
            let Some(name) = scalar_text(k) else { continue };
            let fp = at(path, &name);
            let Some(fm) = self.map(fv, &fp) else {
                continue;
            };
            if let Some(val) = fm.get("value") {
                if let Some(t) = self.text(val, &at(&fp, "value")) {
                    out.insert(name, FieldDef::Value(t));
                }
                continue;
            }
            let mut symbols = Vec::new();
            if let Some(s) = fm.get("symbol") {
                symbols.extend(self.symbol(s, &at(&fp, "symbol")));
            }
            if let Some(list) = fm.get("symbols") {
                let lp = at(&fp, "symbols");
                for (i, s) in self.seq(list, &lp).iter().enumerate() {
                    symbols.extend(self.symbol(s, &idx(&lp, i)));
                }
            }
            if !symbols.is_empty() {
                out.insert(name, FieldDef::Symbols(symbols));
            }
        }
        out
    }

    fn metadata(&mut self, v: &Value, path: &[Seg], d: &mut Definition) {
        let Some(m) = self.map(v, path) else { return };
        if let Some(dev) = m.get("device") {
            let dp = at(path, "device");
            if let Some(dm) = self.map(dev, &dp) {
                if let Some(f) = dm.get("fields") {
                    d.device_fields = self.fields(f, &at(&dp, "fields"));
                }
            }
        }
        if let Some(intf) = m.get("interface") {
            let ip = at(path, "interface");
            if let Some(im) = self.map(intf, &ip) {
                if let Some(f) = im.get("fields") {
                    d.interface_fields = self.fields(f, &at(&ip, "fields"));
                }
                if let Some(t) = im.get("id_tags") {
                    let tp = at(&ip, "id_tags");
                    for (i, x) in self.seq(t, &tp).iter().enumerate() {
                        d.interface_id_tags.extend(self.tag(x, &idx(&tp, i)));
                    }
                }
            }
        }
    }
}

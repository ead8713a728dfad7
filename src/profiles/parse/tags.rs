//! `metric_tags` entries (global, table and interface id tags) and `metadata` fields.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::{at, idx, scalar_text, Parser};
use crate::profiles::locate::Seg;
use crate::profiles::model::*;

impl Parser {
    /// One `metric_tags` entry (global or table).
    pub(super) fn tag(&mut self, v: &Value, path: &[Seg]) -> Option<TagDef> {
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

    pub(super) fn fields(&mut self, v: &Value, path: &[Seg]) -> BTreeMap<String, FieldDef> {
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

    pub(super) fn metadata(&mut self, v: &Value, path: &[Seg], d: &mut Definition) {
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

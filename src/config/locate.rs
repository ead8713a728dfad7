//! Key paths and their positions in the config text. `locate` walks the YAML text to a path with
//! a seeking deserializer that fails on purpose at the target node; the YAML parser stamps that
//! failure with the node's line and column.

use std::fmt::{self, Write};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// `outputs.datadog.api_key`, `snmp.devices[1].ip_address`.
pub fn display(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                let _ = write!(s, ".{k}");
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

pub fn from_serde_path(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

const HERE: &str = "nocbox-locate-target";

/// Line and column (1-based) of the node at `path`, or of the deepest ancestor found.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let mut path = path;
    loop {
        let de = serde_yaml::Deserializer::from_str(text);
        if let Err(e) = (Seek { path }).deserialize(de) {
            if e.to_string().contains(HERE) {
                return e.location().map(|l| (l.line(), l.column()));
            }
        }
        // Not found (a removed or defaulted key): try the parent.
        path = path.split_last()?.1;
        if path.is_empty() {
            return None;
        }
    }
}

struct Seek<'a> {
    path: &'a [Seg],
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            // Fail while reading the target node itself, so the parser stamps its position.
            return d.deserialize_any(Fail);
        }
        d.deserialize_any(self)
    }
}

/// Refuses whatever node it is given.
struct Fail;

impl<'de> Visitor<'de> for Fail {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(HERE)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(HERE))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(HERE))
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<serde_yaml::Value>()? {
            let hit = match (&self.path[0], &k) {
                (Seg::Key(want), serde_yaml::Value::String(s)) => want == s,
                (Seg::Key(want), other) => serde_yaml::to_string(other)
                    .map(|s| s.trim() == want)
                    .unwrap_or(false),
                _ => false,
            };
            if hit {
                return map.next_value_seed(Seek {
                    path: &self.path[1..],
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            if self.path[0] == Seg::Index(i) {
                seq.next_element_seed(Seek {
                    path: &self.path[1..],
                })?;
                return Ok(());
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

//! Lists that may also be given as one comma-separated string, so a single environment variable
//! (`targets: ${IP_ADDRESSES}`) can carry a whole list, as the seed deployment did. An element
//! that itself contains commas is split too: none of these lists (addresses, networks, tags,
//! paths) has a legitimate comma inside an element.

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

fn split(s: &str) -> impl Iterator<Item = Value> + '_ {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Value::String(p.to_string()))
}

fn items<T: DeserializeOwned, E: Error>(v: Value) -> Result<Vec<T>, E> {
    let flat: Vec<Value> = match v {
        Value::Null => Vec::new(),
        Value::String(s) => split(&s).collect(),
        Value::Sequence(seq) => seq
            .into_iter()
            .flat_map(|e| match e {
                Value::String(s) if s.contains(',') => split(&s).collect(),
                other => vec![other],
            })
            .collect(),
        other => vec![other],
    };
    flat.into_iter()
        .map(|e| serde_yaml::from_value(e).map_err(E::custom))
        .collect()
}

/// A list, or a comma-separated string.
pub fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    items(Value::deserialize(d)?)
}

/// An optional list, or a comma-separated string.
pub fn opt_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    items(Value::deserialize(d)?).map(Some)
}

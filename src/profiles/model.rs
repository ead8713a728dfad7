//! One profile file as parsed, before `extends` is applied: the subset of Datadog's profile
//! format that nocbox evaluates. Keys Datadog knows and we do not evaluate are accepted and
//! ignored by the parser.

use std::collections::BTreeMap;

use regex::Regex;

use crate::proto::snmp::Oid;

use super::glob::Pattern;

/// `metric_type` / legacy `forced_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Gauge,
    Rate,
    MonotonicCount,
    MonotonicCountAndRate,
    FlagStream,
}

/// `format:` of a symbol or tag value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    MacAddress,
    IpAddress,
}

/// A `symbol` (scalar or column) with its value options.
#[derive(Clone, Debug, Default)]
pub struct Symbol {
    /// None only with `constant_value_one` or a metadata `value`.
    pub oid: Option<Oid>,
    pub name: String,
    pub extract_value: Option<Regex>,
    pub match_pattern: Option<Regex>,
    pub match_value: Option<String>,
    pub scale_factor: Option<f64>,
    pub format: Option<Format>,
    pub constant_value_one: bool,
    pub metric_type: Option<MetricType>,
}

/// `options:` of a `flag_stream` metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagOptions {
    /// 1-based character position in the string value.
    pub placement: usize,
    pub metric_suffix: String,
}

/// Where a tag value comes from.
#[derive(Clone, Debug)]
pub enum TagSource {
    /// A scalar (global tags) or a column (table tags); `table` names another table.
    Symbol {
        symbol: Symbol,
        table: Option<String>,
    },
    /// The Nth (1-based) sub-identifier of the row index.
    Index(usize),
}

/// One `metric_tags` entry.
#[derive(Clone, Debug)]
pub struct TagDef {
    /// The tag name; None when `match` + `tags` produce the tags.
    pub tag: Option<String>,
    pub source: TagSource,
    pub mapping: BTreeMap<String, String>,
    /// `match` regex and the `tags` templates (`\1` back-references).
    pub pattern: Option<(Regex, Vec<(String, String)>)>,
    /// `index_transform`: inclusive 0-based slices of the row index, concatenated.
    pub index_transform: Vec<(usize, usize)>,
}

/// nocbox extension `nocbox_row_filter`: keep rows whose Nth index sub-identifier is listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFilter {
    pub index: usize,
    pub values: Vec<u32>,
}

/// One `metrics` entry: a scalar (`table` is None, one symbol) or a table.
#[derive(Clone, Debug)]
pub struct MetricDef {
    pub mib: Option<String>,
    pub table: Option<String>,
    pub symbols: Vec<Symbol>,
    pub metric_tags: Vec<TagDef>,
    pub static_tags: Vec<String>,
    pub metric_type: Option<MetricType>,
    pub options: Option<FlagOptions>,
    pub row_filter: Option<RowFilter>,
}

/// A device metadata field: a fixed value or the first symbol that answers.
#[derive(Clone, Debug)]
pub enum FieldDef {
    Value(String),
    Symbols(Vec<Symbol>),
}

/// A profile file as written.
#[derive(Clone, Debug, Default)]
pub struct Definition {
    pub extends: Vec<String>,
    pub sysobjectids: Vec<Pattern>,
    pub vendor: Option<String>,
    pub metrics: Vec<MetricDef>,
    pub metric_tags: Vec<TagDef>,
    pub static_tags: Vec<String>,
    pub device_fields: BTreeMap<String, FieldDef>,
    pub interface_fields: BTreeMap<String, FieldDef>,
    pub interface_id_tags: Vec<TagDef>,
}

//! A string that never shows itself in `Debug`, logs or `/status`.

use serde::{Deserialize, Deserializer};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Numeric communities (`community_string: 12345`) are common: take any scalar as text.
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => Ok(Secret(s)),
            serde_yaml::Value::Number(n) => Ok(Secret(n.to_string())),
            serde_yaml::Value::Bool(b) => Ok(Secret(b.to_string())),
            _ => Err(serde::de::Error::custom("expected a string")),
        }
    }
}

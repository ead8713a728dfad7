//! The one error type of the profile loader: which file, where in it, which key, what is wrong.

use std::fmt;

/// A problem in one profile file. `line`/`column` are 1-based and present when the YAML parser
/// could place the node; `key` is the path inside the file (`metrics[3].symbols[0].OID`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ProfileError {}

impl ProfileError {
    /// An error about a whole file (not found, duplicate pattern, cycle, …).
    pub fn file(file: &str, message: impl Into<String>) -> ProfileError {
        ProfileError {
            file: file.to_string(),
            line: None,
            column: None,
            key: String::new(),
            message: message.into(),
        }
    }
}

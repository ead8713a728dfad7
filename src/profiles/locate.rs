//! Key paths and their line and column in a profile's text: the config's locator
//! (`config/locate.rs`), which walks YAML text to a path the same way for both.

pub(crate) use crate::config::locate::{display, locate, Seg};

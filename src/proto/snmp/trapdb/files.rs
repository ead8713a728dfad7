//! Which files a configured path means, and their bytes: directories in name order, gzip, and a
//! size limit. Read once at start-up, never per trap.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::parse::Format;

/// Largest file, after decompression, that is loaded. Datadog's full database (11,000+ MIBs) is
/// far below this; a larger file is most likely a mistake or a gzip bomb.
pub(super) const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Datadog's own database files load before the other files of a directory, as in the Agent.
const DATADOG_DB_PREFIX: &str = "dd_traps_db";

/// The files a path stands for: itself, or a directory's trap-DB files in load order.
pub(super) fn expand(path: &Path, errors: &mut Vec<String>) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(format!(
                "{}: cannot list the directory: {e}",
                path.display()
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<(bool, String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(format!(
                    "{}: cannot list the directory: {e}",
                    path.display()
                ));
                continue;
            }
        };
        let file = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if file.is_dir() || format_of(&name).is_none() {
            continue;
        }
        let lower = name.to_lowercase();
        files.push((!lower.starts_with(DATADOG_DB_PREFIX), lower, file));
    }
    files.sort();
    files.into_iter().map(|(_, _, file)| file).collect()
}

/// The format by file name: `.json` (or `.json.gz`) is JSON; `.yaml`/`.yml` (or `.gz`) is YAML.
pub(super) fn format_of(name: &str) -> Option<Format> {
    let lower = name.to_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if base.ends_with(".json") {
        Some(Format::Json)
    } else if base.ends_with(".yaml") || base.ends_with(".yml") {
        Some(Format::Yaml)
    } else {
        None
    }
}

/// A file's (decompressed) bytes and format. A named file with another extension is read as
/// YAML, as the Datadog Agent does (JSON is YAML too, mostly).
pub(super) fn read(path: &Path) -> Result<(Vec<u8>, Format), String> {
    read_limited(path, MAX_FILE_BYTES)
}

pub(super) fn read_limited(path: &Path, limit: u64) -> Result<(Vec<u8>, Format), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = format_of(&name).unwrap_or(Format::Yaml);
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let gzip = name.to_lowercase().ends_with(".gz");
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut bytes = Vec::new();
    (&mut reader)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            if gzip {
                format!("cannot decompress (is it gzip?): {e}")
            } else {
                format!("cannot read: {e}")
            }
        })?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "larger than the limit of {limit} bytes{}; split it into several files",
            if gzip { " once decompressed" } else { "" }
        ));
    }
    Ok((bytes, format))
}

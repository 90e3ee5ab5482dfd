//! The liberty cell library of the `asic` target: where it is, its hash for
//! cache keys, and which of its cells are flip-flops and latches.

use super::SynthError;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where Debian's `qflow-tech-osu018` puts the OSU 0.18 um standard cells.
pub const DEFAULT_LIBERTY: &str = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

/// `$ACCGEN_LIBERTY` if set, else [`DEFAULT_LIBERTY`].
pub fn default_liberty() -> PathBuf {
    std::env::var_os("ACCGEN_LIBERTY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_LIBERTY))
}

/// A liberty file as synthesis needs it.
#[derive(Clone, Debug)]
pub struct Liberty {
    pub path: PathBuf,
    /// sha256 of the file's bytes: a changed library is a new cache key.
    pub hash: String,
    /// Cells with an `ff` group.
    pub flops: BTreeSet<String>,
    /// Cells with a `latch` group.
    pub latches: BTreeSet<String>,
}

impl Liberty {
    pub fn load(path: &Path) -> Result<Liberty, SynthError> {
        let text = std::fs::read_to_string(path).map_err(|e| SynthError::LibertyMissing {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let (flops, latches) = sequential_cells(&text);
        if flops.is_empty() {
            return Err(SynthError::LibertyMissing {
                path: path.to_path_buf(),
                message: "it is not a liberty file with flip-flop cells".into(),
            });
        }
        Ok(Liberty {
            path: path.to_path_buf(),
            hash: super::cache::hex(&Sha256::digest(text.as_bytes())),
            flops,
            latches,
        })
    }
}

/// Names of the cells holding an `ff (...)` group and a `latch (...)` group.
/// A line scan is enough: liberty writes one group header per line.
fn sequential_cells(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut flops, mut latches) = (BTreeSet::new(), BTreeSet::new());
    let mut cell: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(name) = group_arg(line, "cell") {
            cell = Some(name.to_string());
        } else if let Some(c) = &cell {
            if group_arg(line, "ff").is_some() {
                flops.insert(c.clone());
            } else if group_arg(line, "latch").is_some() {
                latches.insert(c.clone());
            }
        }
    }
    (flops, latches)
}

/// `keyword (arg) {` or `keyword("arg"){`: the argument, unquoted.
fn group_arg<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(keyword)?.trim_start().strip_prefix('(')?;
    let arg = &rest[..rest.find(')')?];
    Some(arg.trim().trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_flops_and_latches() {
        let text = "library(x) {\n cell (AND2X1) {\n  area : 32;\n }\n cell(\"DFFPOSX1\") {\n  ff (DS0000,P0002) {\n  }\n }\n\
                    cell (LATCH) {\n  latch (DS0000,P0000) {\n }\n }\n cell (BUFX2) { }\n}\n";
        let (flops, latches) = sequential_cells(text);
        assert_eq!(flops.into_iter().collect::<Vec<_>>(), ["DFFPOSX1"]);
        assert_eq!(latches.into_iter().collect::<Vec<_>>(), ["LATCH"]);
    }
}

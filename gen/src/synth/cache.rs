//! The result cache: one JSON file per synthesis run, named by a hash of
//! everything that decides the result.

use super::{SynthError, SynthResult};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Changes whenever the result format or the way results are derived does.
const CACHE_FORMAT: &str = "accgen-synth-cache 1";

/// `$ACCGEN_SYNTH_CACHE` if set, else `accgen-synth-cache` beside the
/// co-simulation cache (in the Cargo target directory; see
/// [`accgen_sim::cache_root`]).
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("ACCGEN_SYNTH_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    accgen_sim::cache_root()
        .parent()
        .map(|p| p.join("accgen-synth-cache"))
        .unwrap_or_else(|| std::env::temp_dir().join("accgen-synth-cache"))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The cache key: sha256 over length-prefixed parts (so no two part lists
/// collide by concatenation).
pub(crate) fn key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    h.update(CACHE_FORMAT.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// Verilog text without its comments, for the cache key: file headers name
/// the command and the generator version, which do not change what Yosys
/// makes. Comments that are tool pragmas (`// synopsys ...`, `// synthesis
/// ...`, `// pragma ...`) are kept, and string literals are left alone.
pub(crate) fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['"', '/']) {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        if from.starts_with('"') {
            let end = string_end(from);
            out.push_str(&from[..end]);
            rest = &from[end..];
        } else if let Some(body) = from.strip_prefix("//") {
            let end = body.find('\n').unwrap_or(body.len());
            if is_pragma(&body[..end]) {
                out.push_str(&from[..end + 2]);
            }
            rest = &body[end..];
        } else if let Some(body) = from.strip_prefix("/*") {
            let end = body.find("*/").map_or(body.len(), |e| e + 2);
            if is_pragma(&body[..end]) {
                out.push_str(&from[..end + 2]);
            } else {
                out.push(' ');
            }
            rest = &body[end..];
        } else {
            out.push('/');
            rest = &from[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The length of the string literal at the start of `s`, quotes included.
fn string_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i + 1,
            '\n' => return i,
            _ => escaped = false,
        }
    }
    s.len()
}

fn is_pragma(comment: &str) -> bool {
    let word = comment.trim_start();
    ["synopsys", "synthesis", "pragma", "translate_"]
        .iter()
        .any(|p| word.starts_with(p))
}

/// A cached result for `key`, marked `cached`; `None` if there is none or
/// it cannot be read (it is then synthesized again and overwritten).
pub(crate) fn load(dir: &Path, key: &str) -> Option<SynthResult> {
    let text = fs::read_to_string(dir.join(format!("{key}.json"))).ok()?;
    let mut result: SynthResult = serde_json::from_str(&text).ok()?;
    if result.key != key {
        return None;
    }
    result.cached = true;
    Some(result)
}

/// Store `result` under its key: written to a private temporary file and
/// renamed, so a concurrent reader sees the whole file or none.
pub(crate) fn store(dir: &Path, result: &SynthResult) -> Result<(), SynthError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let context = || {
        format!(
            "writing to the synthesis cache {} (set ACCGEN_SYNTH_CACHE to use another directory)",
            dir.display()
        )
    };
    fs::create_dir_all(dir).map_err(|e| SynthError::io(context(), e))?;
    let mut stored = result.clone();
    stored.cached = false;
    let text = serde_json::to_string_pretty(&stored).map_err(|e| SynthError::Io {
        context: context(),
        message: e.to_string(),
    })? + "\n";
    let path = dir.join(format!("{}.json", result.key));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{}.json.tmp-{}-{n}", result.key, std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
        .and_then(|_| fs::rename(&tmp, &path));
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        SynthError::io(context(), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_strings_and_pragmas_stay() {
        let v = "// header\nmodule m; /* block\n comment */ wire a; // tail\n\
                 initial $display(\"// not a comment \\\" /* either */\");\n// synopsys translate_off\nendmodule\n";
        assert_eq!(
            without_comments(v),
            "\nmodule m;   wire a; \ninitial $display(\"// not a comment \\\" /* either */\");\n\
             // synopsys translate_off\nendmodule\n"
        );
        assert_eq!(without_comments("a / b /"), "a / b /");
    }

    #[test]
    fn keys_separate_parts() {
        assert_ne!(key([b"ab".as_slice(), b"c"]), key([b"a".as_slice(), b"bc"]));
    }
}

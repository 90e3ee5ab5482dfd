//! Running Yosys: its version, the script, the process (with a time limit)
//! and reading back `stat`.

use super::{SynthError, Target};
use accgen_hdl::Design;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The files a run writes in its work folder.
const SCRIPT: &str = "synth.ys";
pub(crate) const LOG: &str = "yosys.log";
pub(crate) const STAT_JSON: &str = "stat.json";
const STAT_TEXT: &str = "stat.txt";

/// Lines of the log quoted in an error.
const TAIL_LINES: usize = 30;

/// `yosys -V`, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`; asked once per
/// program path and process.
pub fn version(yosys: &Path) -> Result<String, SynthError> {
    static SEEN: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    if let Some(v) = SEEN.lock().ok().and_then(|m| m.as_ref()?.get(yosys).cloned()) {
        return Ok(v);
    }
    let missing = |message: String| SynthError::ToolMissing {
        program: yosys.to_path_buf(),
        message,
    };
    let out = Command::new(yosys)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            missing(if e.kind() == ErrorKind::NotFound {
                "not found".into()
            } else {
                e.to_string()
            })
        })?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !v.starts_with("Yosys") {
        return Err(missing(format!("`-V` printed `{v}`, not a Yosys version")));
    }
    if let Ok(mut m) = SEEN.lock() {
        m.get_or_insert_with(HashMap::new)
            .insert(yosys.to_path_buf(), v.clone());
    }
    Ok(v)
}

/// A plain Verilog identifier, safe to put in a script and a file name.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A path as a quoted script argument.
fn quoted(path: &Path) -> Result<String, String> {
    let s = path.to_string_lossy();
    if s.contains(['"', '\n', '\r']) {
        return Err(format!(
            "the path {s} cannot be passed to Yosys (it holds a quote or a line break)"
        ));
    }
    Ok(format!("\"{s}\""))
}

/// The Yosys script for `design` on `target`: read every file, check the
/// hierarchy, map, and write `stat` to files (stdout is not parsed: some
/// Yosys builds cut it short).
pub fn script(design: &Design, target: Target, liberty: Option<&Path>) -> Result<String, SynthError> {
    let bad = |message: String| SynthError::BadDesign {
        top: design.top.clone(),
        message,
    };
    if design.files.is_empty() {
        return Err(bad("the design has no Verilog files".into()));
    }
    for name in design.files.iter().map(|f| &f.module).chain([&design.top]) {
        if !is_identifier(name) {
            return Err(bad(format!("module name `{name}` is not a plain Verilog identifier")));
        }
    }
    if !design.files.iter().any(|f| f.module == design.top) {
        return Err(bad(format!("no file holds the top module {}", design.top)));
    }
    let lib = match liberty {
        Some(p) => quoted(p).map_err(bad)?,
        None => String::new(),
    };
    let top = &design.top;
    let mut s = format!("# accgen synthesis of {top} for {target}\n");
    for f in &design.files {
        s += &format!("read_verilog {}\n", f.file_name());
    }
    s += &format!("hierarchy -check -top {top}\n");
    for c in target.synth_commands(top, &lib) {
        s += &c;
        s.push('\n');
    }
    if liberty.is_some() {
        s += &format!("tee -q -o {STAT_JSON} stat -json -liberty {lib}\n");
        // Yosys 0.23's JSON statistics lack the area; the text has it.
        s += &format!("tee -q -o {STAT_TEXT} stat -liberty {lib}\n");
    } else {
        s += &format!("tee -q -o {STAT_JSON} stat -json\n");
    }
    Ok(s)
}

/// What a finished run left behind.
pub struct Output {
    pub stat_json: String,
    pub stat_text: Option<String>,
    pub seconds: f64,
}

/// A private folder for one run.
fn work_dir(top: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let short: String = top.chars().take(48).collect();
    std::env::temp_dir().join(format!("accgen-synth-{short}-{}-{n}", std::process::id()))
}

/// Run `script` on `design` in a fresh folder; the folder is removed when
/// the run succeeds and kept (and named in the error) when it does not.
pub fn run(
    yosys: &Path,
    design: &Design,
    target: Target,
    script: &str,
    timeout: Duration,
) -> Result<Output, SynthError> {
    let dir = work_dir(&design.top);
    let seconds = run_in(yosys, &dir, design, target, script, timeout)?;
    let read = |name: &str| fs::read_to_string(dir.join(name));
    let stat_json = read(STAT_JSON).map_err(|e| SynthError::BadOutput {
        target,
        top: design.top.clone(),
        message: format!("{STAT_JSON} in {}: {e}", dir.display()),
    })?;
    let stat_text = if script.contains(STAT_TEXT) {
        Some(read(STAT_TEXT).map_err(|e| SynthError::BadOutput {
            target,
            top: design.top.clone(),
            message: format!("{STAT_TEXT} in {}: {e}", dir.display()),
        })?)
    } else {
        None
    };
    let _ = fs::remove_dir_all(&dir);
    Ok(Output {
        stat_json,
        stat_text,
        seconds,
    })
}

/// Run `script` on `design` in `dir` (emptied first), leaving the Verilog,
/// the script, `yosys.log` and whatever the script writes there; returns
/// the wall-clock seconds. The FPGA flows use this to keep the netlist.
pub(crate) fn run_in(
    yosys: &Path,
    dir: &Path,
    design: &Design,
    target: Target,
    script: &str,
    timeout: Duration,
) -> Result<f64, SynthError> {
    let io = |what: &str| {
        let context = format!("{what} in {}", dir.display());
        move |e| SynthError::io(context, e)
    };
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(io("creating the synthesis folder"))?;
    for f in &design.files {
        fs::write(dir.join(f.file_name()), &f.text).map_err(io("writing the Verilog"))?;
    }
    fs::write(dir.join(SCRIPT), script).map_err(io("writing the Yosys script"))?;
    let stdout = fs::File::create(dir.join("stdout.txt")).map_err(io("creating stdout.txt"))?;
    let stderr = fs::File::create(dir.join("stderr.txt")).map_err(io("creating stderr.txt"))?;

    let start = Instant::now();
    let child = Command::new(yosys)
        .args(["-q", "-l", LOG, "-s", SCRIPT])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| SynthError::ToolMissing {
            program: yosys.to_path_buf(),
            message: if e.kind() == ErrorKind::NotFound {
                "not found".into()
            } else {
                e.to_string()
            },
        })?;
    let status = match wait_with_timeout(child, timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            return Err(SynthError::Timeout {
                target,
                top: design.top.clone(),
                seconds: timeout.as_secs_f64(),
                work_dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(SynthError::io(format!("waiting for yosys in {}", dir.display()), e)),
    };
    if !status.success() {
        return Err(SynthError::Failed {
            target,
            top: design.top.clone(),
            status: status.to_string(),
            log_tail: log_tail(dir),
            work_dir: dir.to_path_buf(),
        });
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Wait for `child` at most `timeout`; past it, stop the child and every
/// process it started and return `None`.
pub(crate) fn wait_with_timeout(mut child: Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) if start.elapsed() >= timeout => {
                stop(&mut child);
                return Ok(None);
            }
            Ok(None) => std::thread::sleep(timeout.saturating_sub(start.elapsed()).min(Duration::from_millis(20))),
            Err(e) => {
                stop(&mut child);
                return Err(e);
            }
        }
    }
}

/// The end of Yosys' log (or of its stderr, when it wrote no log).
pub(crate) fn log_tail(dir: &Path) -> String {
    let log = fs::read_to_string(dir.join(LOG)).unwrap_or_default();
    let text = if log.trim().is_empty() {
        fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
    } else {
        log
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Stop a run: Yosys and the programs it started (ABC, through a shell),
/// which would otherwise run on after it.
fn stop(child: &mut Child) {
    let descendants = descendants(child.id());
    let _ = child.kill();
    if !descendants.is_empty() {
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(descendants.iter().map(u32::to_string))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.wait();
}

/// Every process below `pid`, from Linux's `/proc/PID/task/TID/children`
/// (empty elsewhere).
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        let Ok(tasks) = fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children = fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()) {
                if !found.contains(&c) {
                    found.push(c);
                    queue.push(c);
                }
            }
        }
    }
    found
}

/// Cells by type of the whole (flattened) design from `stat -json`.
pub fn cells(stat_json: &str, top: &str) -> Result<BTreeMap<String, u64>, String> {
    let json: serde_json::Value = serde_json::from_str(stat_json).map_err(|e| format!("{STAT_JSON}: {e}"))?;
    let by_type = |v: &serde_json::Value| -> Option<BTreeMap<String, u64>> {
        v.get("num_cells_by_type")?
            .as_object()?
            .iter()
            .map(|(k, n)| Some((k.clone(), n.as_u64()?)))
            .collect()
    };
    // `design` sums the hierarchy below the top; a flattened design has
    // one module, which older Yosys versions list alone.
    if let Some(cells) = json.get("design").and_then(by_type) {
        return Ok(cells);
    }
    let modules = json.get("modules").and_then(|m| m.as_object());
    let module = modules.and_then(|m| m.get(&format!("\\{top}")).or_else(|| m.get(top)));
    module
        .and_then(by_type)
        .ok_or_else(|| format!("{STAT_JSON} has no cell counts for module {top}"))
}

/// The chip area from `stat -liberty`'s text.
pub fn area(stat_text: &str, top: &str) -> Result<f64, String> {
    let value = |line: &str| line.rsplit(':').next().and_then(|v| v.trim().parse::<f64>().ok());
    let module_line = format!("Chip area for module '\\{top}':");
    stat_text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Chip area for top module"))
        .or_else(|| stat_text.lines().map(str::trim).find(|l| l.starts_with(&module_line)))
        .and_then(value)
        .ok_or_else(|| format!("{STAT_TEXT} has no chip area for module {top}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yosys_0_23_statistics() {
        let json = r#"{ "creator": "Yosys 0.23", "modules": { "\\t": { "num_cells": 3,
            "num_cells_by_type": { "LUT2": 2, "FDRE": 1 } } },
            "design": { "num_cells": 3, "num_cells_by_type": { "LUT2": 2, "FDRE": 1 } } }"#;
        let c = cells(json, "t").unwrap_or_default();
        assert_eq!(c.get("LUT2"), Some(&2));
        let text = "   Number of cells: 3\n\n   Chip area for module '\\t': 34860.000000\n";
        assert_eq!(area(text, "t").ok(), Some(34860.0));
        assert!(area("nothing", "t").is_err());
    }
}

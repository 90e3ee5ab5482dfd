//! Writing a generated design to disk: Verilog, test bench, vectors and a
//! JSON manifest, each file written under a temporary name and renamed.

use crate::config::{Config, canonical};
use accgen_hdl::{Design, Dir};
use accgen_sim::testbench::Testbench;
use std::fs;
use std::io::Write;
use std::path::Path;

/// What `write_design` wrote, relative to the output folder.
pub struct Written {
    pub files: Vec<String>,
}

/// Write `bytes` beside `path` under a temporary name, flushed; returns the
/// temporary path, to be renamed over `path`.
fn stage(path: &Path, bytes: &[u8]) -> Result<std::path::PathBuf, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    result.map(|_| tmp.clone()).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("error: writing {}: {e}", path.display())
    })
}

/// Write `bytes` to `path` atomically: a temporary file, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = stage(path, bytes)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("error: writing {}: {e}", path.display())
    })
}

/// The files an earlier `manifest.json` in `out` lists.
fn previous_files(out: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(out.join("manifest.json")) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    json["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The manifest: files, top module, ports, timing and the configuration.
pub fn manifest(config: &Config, design: &Design, tb: &Testbench, init: &[(String, String)]) -> serde_json::Value {
    let mut files: Vec<serde_json::Value> = design
        .files
        .iter()
        .map(|f| serde_json::json!({ "path": f.file_name(), "module": f.module, "role": "rtl" }))
        .collect();
    files.push(serde_json::json!({ "path": tb.file_name(), "module": tb.module, "role": "testbench" }));
    files.push(serde_json::json!({ "path": tb.vectors_file, "role": "vectors", "cycles": tb.cycles }));
    files.push(serde_json::json!({ "path": core_file(config), "role": "fusesoc" }));
    for (name, _) in init {
        files.push(serde_json::json!({ "path": name, "role": "memory init ($readmemh)" }));
    }
    let ports: Vec<serde_json::Value> = design
        .ports
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "direction": if p.dir == Dir::In { "input" } else { "output" },
                "width": p.width,
                "signed": p.signed,
                "doc": p.doc,
            })
        })
        .collect();
    serde_json::json!({
        "generator": format!("accgen {}", env!("CARGO_PKG_VERSION")),
        "name": config.name,
        "config": config.origin,
        "config_hash": config.hash,
        "top": design.top,
        "files": files,
        "ports": ports,
        "clock": design.clock,
        "timing": config.timing(),
        "parameters": canonical(&config.block),
    })
}

/// The FuseSoC core's file name: `<configuration name>.core`.
pub fn core_file(config: &Config) -> String {
    format!("{}.core", config.name)
}

/// The FuseSoC core of a generated folder: the Verilog (`default`, and
/// `lint` with Verilator -Wall) and the test bench (`sim`, with Icarus).
pub fn core(config: &Config, design: &Design, tb: &Testbench) -> String {
    let tb_file = tb.file_name();
    crate::flow::fusesoc::core(
        &config.name,
        design,
        "",
        &crate::flow::fusesoc::CoreExtras {
            testbench: Some((&tb_file, &tb.module, &tb.vectors_file)),
            constraints: Vec::new(),
            fpga: None,
        },
    )
}

/// Write the design's files, its test bench and vectors, its memory
/// initialisation files, its FuseSoC core and `manifest.json` into `out`.
pub fn write_design(
    config: &Config,
    design: &Design,
    tb: &Testbench,
    init: &[(String, String)],
    out: &Path,
) -> Result<Written, String> {
    let manifest = serde_json::to_string_pretty(&manifest(config, design, tb, init))
        .map_err(|e| format!("error: manifest: {e}"))?
        + "\n";
    let mut files: Vec<(String, &str)> = design.files.iter().map(|f| (f.file_name(), f.text.as_str())).collect();
    files.push((tb.file_name(), &tb.text));
    files.push((tb.vectors_file.clone(), &tb.vectors));
    for (name, text) in init {
        files.push((name.clone(), text));
    }
    let core = core(config, design, tb);
    files.push((core_file(config), &core));
    files.push(("manifest.json".into(), &manifest));
    fs::create_dir_all(out).map_err(|e| format!("error: creating {}: {e}", out.display()))?;
    let previous = previous_files(out);
    // All files go to temporary names first and are renamed only when every
    // one is written, so a failure leaves the folder as it was.
    let mut staged = Vec::new();
    for (name, text) in &files {
        match stage(&out.join(name), text.as_bytes()) {
            Ok(tmp) => staged.push((tmp, out.join(name))),
            Err(e) => {
                for (tmp, _) in &staged {
                    let _ = fs::remove_file(tmp);
                }
                return Err(e);
            }
        }
    }
    for (tmp, path) in &staged {
        fs::rename(tmp, path).map_err(|e| format!("error: writing {}: {e}", path.display()))?;
    }
    // Files an earlier configuration wrote here and this one does not.
    for old in previous {
        if !files.iter().any(|(n, _)| *n == old) && !old.contains('/') {
            let _ = fs::remove_file(out.join(old));
        }
    }
    Ok(Written {
        files: files.into_iter().map(|(n, _)| n).collect(),
    })
}

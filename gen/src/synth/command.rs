//! `accgen synth`: synthesize a configuration's design for one or more
//! targets, print a table of the summary counts and write the full results
//! as JSON.

use super::{Progress, SynthError, SynthOptions, SynthResult, Target, synth_all};
use crate::{Failure, config, output, tools};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// `accgen synth`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Configuration file (YAML)
    pub config: PathBuf,
    /// Target, repeatable or comma-separated: xc7, xc7-nodsp, ice40, ice40-nodsp, ecp5, ecp5-nodsp, asic
    /// (bare FPGA names use the hard multipliers, `-nodsp` keeps them in LUTs; ice40 is the UltraPlus)
    #[arg(short, long = "target", value_delimiter = ',', required = true)]
    pub targets: Vec<String>,
    /// Write the results (summary and every cell type, per target) as JSON to this file
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Yosys processes at once [default: the available cores]
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Seconds a Yosys run may take before it is stopped
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

/// The Yosys command and its Debian package, for [`tools::ensure`].
const YOSYS: tools::Tool = tools::Tool {
    command: "yosys",
    package: "yosys",
};

/// Target names in the order given, each once.
fn parse_targets(names: &[String]) -> Result<Vec<Target>, Failure> {
    let mut targets = Vec::new();
    for name in names {
        let t: Target = name
            .parse()
            .map_err(|e: SynthError| Failure::Input(format!("error: {e}")))?;
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    Ok(targets)
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let targets = parse_targets(&args.targets)?;
    if args.jobs == Some(0) {
        return Err(Failure::Input(
            "error: --jobs 0: at least one Yosys process is needed".into(),
        ));
    }
    if args.timeout == 0 {
        return Err(Failure::Input(
            "error: --timeout 0: allow Yosys at least one second".into(),
        ));
    }
    let config = config::load(&args.config)?;
    tools::ensure(&[YOSYS]).map_err(Failure::Run)?;
    // Like `accgen sim`, the header names the configuration but not the
    // flags; the cache key ignores comments anyway.
    let design = config.design(&format!("accgen synth {}", config.origin));
    let defaults = SynthOptions::default();
    let options = SynthOptions {
        timeout: Duration::from_secs(args.timeout),
        threads: args.jobs.unwrap_or(defaults.threads),
        ..defaults
    };
    println!("accgen synth: {} from {}", design.top, config.origin);
    let jobs: Vec<_> = targets.iter().map(|&t| (design.clone(), t)).collect();
    let live = std::io::stderr().is_terminal();
    let results = synth_all(&jobs, &options, &|p: &Progress| {
        if live {
            eprint!(
                "\rsynth: {}/{} done ({} cached, {} synthesized, {} failed)",
                p.done, p.total, p.cached, p.synthesized, p.failed
            );
            if p.done == p.total {
                eprint!("\r{:70}\r", "");
            }
            let _ = std::io::stderr().flush();
        }
    });

    let ok: Vec<&SynthResult> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let tools: BTreeSet<&str> = ok.iter().map(|r| r.tool.as_str()).collect();
    for tool in tools {
        println!("tool: {tool}");
    }
    if !ok.is_empty() {
        println!();
        print!("{}", table(&ok));
    }
    if let Some(path) = &args.json {
        let doc = json(&config, &design.top, &targets, &results);
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Failure::Run(format!("error: JSON: {e}")))? + "\n";
        output::write_atomic(path, text.as_bytes()).map_err(Failure::Run)?;
        println!("wrote {}", path.display());
    }
    let failures: Vec<String> = targets
        .iter()
        .zip(&results)
        .filter_map(|(t, r)| r.as_ref().err().map(|e| format!("error: {t}: {e}")))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::Run(failures.join("\n")))
    }
}

/// One column per result, one row per count.
fn table(results: &[&SynthResult]) -> String {
    let asic = |r: &SynthResult| r.target == Target::Asic;
    let fpga = |r: &SynthResult, n: u64| if asic(r) { "-".to_string() } else { n.to_string() };
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, cell: &dyn Fn(&SynthResult) -> String| {
        rows.push((label.to_string(), results.iter().map(|r| cell(r)).collect()));
    };
    row("", &|r| r.target.name().to_string());
    row("LUTs", &|r| fpga(r, r.summary.luts));
    let sizes: BTreeSet<u8> = results
        .iter()
        .flat_map(|r| r.summary.luts_by_size.keys().copied())
        .collect();
    if sizes.len() > 1 {
        for size in sizes.iter().rev() {
            row(&format!("  LUT{size}"), &|r| {
                fpga(r, r.summary.luts_by_size.get(size).copied().unwrap_or(0))
            });
        }
    }
    row("FFs", &|r| r.summary.ffs.to_string());
    row("carry", &|r| fpga(r, r.summary.carry));
    row("DSP", &|r| fpga(r, r.summary.dsp));
    row("BRAM", &|r| fpga(r, r.summary.bram));
    row("LUTRAM", &|r| fpga(r, r.summary.lutram));
    row("wide mux", &|r| fpga(r, r.summary.wide_muxes));
    let any = |f: &dyn Fn(&SynthResult) -> u64| results.iter().any(|r| f(r) > 0);
    if any(&|r| r.summary.latches) {
        row("latches", &|r| r.summary.latches.to_string());
    }
    if any(&|r| r.summary.io) {
        row("I/O", &|r| fpga(r, r.summary.io));
    }
    if any(&|r| r.summary.logic) {
        row("logic cells", &|r| {
            if asic(r) {
                r.summary.logic.to_string()
            } else {
                "-".into()
            }
        });
    }
    if any(&|r| r.summary.other) {
        row("other", &|r| r.summary.other.to_string());
    }
    row("cells", &|r| r.summary.cells.to_string());
    if results.iter().any(|r| r.summary.area_um2.is_some()) {
        row("area um^2", &|r| {
            r.summary.area_um2.map_or("-".into(), |a| format!("{a:.0}"))
        });
    }
    row("yosys s", &|r| format!("{:.1}", r.seconds));
    row("cached", &|r| if r.cached { "yes" } else { "no" }.to_string());

    let label_width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..results.len())
        .map(|c| rows.iter().map(|(_, cells)| cells[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (label, cells) in &rows {
        let mut line = format!("{label:label_width$}");
        for (cell, w) in cells.iter().zip(&widths) {
            line += &format!("  {cell:>w$}");
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

/// The `--json` document: every target's full result or its error.
fn json(
    config: &config::Config,
    top: &str,
    targets: &[Target],
    results: &[Result<SynthResult, SynthError>],
) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = targets
        .iter()
        .zip(results)
        .map(|(t, r)| match r {
            Ok(r) => serde_json::to_value(r).unwrap_or_else(
                |e| serde_json::json!({ "target": t.name(), "error": format!("cannot write the result: {e}") }),
            ),
            Err(e) => serde_json::json!({ "target": t.name(), "error": e.to_string() }),
        })
        .collect();
    serde_json::json!({
        "generator": format!("accgen {}", env!("CARGO_PKG_VERSION")),
        "config": config.origin,
        "config_hash": config.hash,
        "top": top,
        "results": entries,
    })
}

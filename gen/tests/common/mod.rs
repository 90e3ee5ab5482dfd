//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod uart;

use accgen_hdl::Design;
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::mac::vectors::{ArrayVectors, Traffic};
use accgen_hdl::mac::{MacArrayParams, MacArraySpec, MulImpl, Overflow};
use accgen_hdl::stimulus::Stimulus;
use accgen_sim::{BuildOptions, CheckReport, Model, SimError};
use std::path::PathBuf;
use std::process::Command;

pub fn prov() -> Provenance {
    Provenance {
        generator: "accgen test".into(),
        config_hash: "sha256:test".into(),
        command: "cargo test".into(),
    }
}

/// A spec with the given shape and formats and defaults elsewhere.
pub fn spec(rows: u64, cols: u64, k: u64, act: &str, wgt: &str) -> MacArraySpec {
    MacArraySpec {
        rows,
        cols,
        dot_length: k,
        activations: act.into(),
        weights: wgt.into(),
        acc_width: None,
        overflow: None,
        multiplier: MulImpl::Dsp,
        reset: ResetStyle::SyncHigh,
        output: None,
        pipeline: 0,
        output_pipeline: 0,
    }
}

pub fn params(rows: u64, cols: u64, k: u64, act: &str, wgt: &str) -> MacArrayParams {
    spec(rows, cols, k, act, wgt).validate().expect("valid spec")
}

pub fn with(mut p: MacArrayParams, f: impl FnOnce(&mut MacArrayParams)) -> MacArrayParams {
    f(&mut p);
    p
}

pub fn narrow(p: MacArrayParams, width: u32, overflow: Overflow) -> MacArrayParams {
    with(p, |p| {
        p.acc_width = width;
        p.overflow = overflow;
    })
}

pub fn build(design: &Design) -> Model {
    Model::build(design, &BuildOptions::default()).unwrap_or_else(|e| panic!("building {}: {e}", design.top))
}

/// Every operand pair through a lone PE (with `seed`'s enable and valid
/// drops); asserts that all pairs were compared and returns the count.
pub fn exhaustive_pe(seed: u64, p: &MacArrayParams) -> u64 {
    let design = accgen_hdl::mac::pe_design(p, &prov());
    lint(&design);
    let report = check(&design, || {
        accgen_hdl::mac::vectors::PeExhaustive::new(&design, p, seed)
    });
    let pairs = 1u64 << (p.act.width() + p.wgt.width());
    assert!(
        report.compared >= pairs,
        "{} compared {} of {pairs} pairs",
        design.top,
        report.compared
    );
    report.compared
}

/// Co-simulate `design` with stimulus from `make`, panicking with the
/// simulator's report on any mismatch.
pub fn check<S: Stimulus>(design: &Design, make: impl Fn() -> S) -> CheckReport {
    let model = build(design);
    try_check(&model, design, make).unwrap_or_else(|e| panic!("{e}"))
}

pub fn try_check<S: Stimulus>(model: &Model, design: &Design, make: impl Fn() -> S) -> Result<CheckReport, SimError> {
    model.check(|| accgen::cosim::Source::new(design, model.layout(), make()))
}

/// Co-simulate random tiles through an array; panics unless result rows
/// (not only handshakes) were compared. Returns the report and the rows.
pub fn check_array(
    design: &Design,
    p: &MacArrayParams,
    seed: u64,
    cycles: u64,
    traffic: Traffic,
) -> (CheckReport, u64) {
    let cycles = cycles.max(ArrayVectors::min_cycles(p, traffic));
    let counter = std::cell::Cell::new(None);
    let report = check(design, || {
        let v = ArrayVectors::new(design, p, seed, cycles, traffic);
        counter.set(Some(v.rows_checked()));
        v
    });
    let rows = counter.take().map(|c| c.get()).unwrap_or(0);
    assert!(
        rows > 0,
        "{}: no result row was compared in {cycles} cycles",
        design.top
    );
    (report, rows)
}

/// A fresh scratch folder under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `accgen gen FILE -o out EXTRA...` on `yaml` in a fresh scratch folder
/// `scratch_name`: the exit code, stderr then stdout, and the folder.
pub fn run_gen(scratch_name: &str, file: &str, yaml: &str, extra: &[&str]) -> (i32, String, PathBuf) {
    let dir = scratch(scratch_name);
    std::fs::write(dir.join(file), yaml).expect("write config");
    let run = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .current_dir(&dir)
        .args(["gen", file, "-o", "out"])
        .args(extra)
        .output()
        .expect("run accgen");
    (
        run.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&run.stderr).to_string() + &String::from_utf8_lossy(&run.stdout),
        dir,
    )
}

/// A bad configuration: exit code 2, exactly `first_line` first, a source
/// snippet pointing into `file`, no panic, and no output folder.
pub fn assert_config_error(scratch_name: &str, file: &str, yaml: &str, first_line: &str) {
    let (code, out, dir) = run_gen(scratch_name, file, yaml, &[]);
    assert_eq!(code, 2, "{scratch_name}: exit code, output:\n{out}");
    assert_eq!(
        out.lines().next().unwrap_or(""),
        first_line,
        "{scratch_name}: full output:\n{out}"
    );
    assert!(
        out.contains(&format!(" --> {file}:")),
        "{scratch_name}: no source location:\n{out}"
    );
    assert!(!out.contains("panicked"), "{scratch_name}: panic:\n{out}");
    assert!(
        !dir.join("out").exists(),
        "{scratch_name}: output folder written for a bad configuration"
    );
}

/// `design` with every `from` replaced by `to` in the file of the first
/// module whose name contains `module` and whose text contains `from`: a
/// deliberately broken RTL for mutation tests. Returns the design and how
/// many sites were changed (at least one).
pub fn mutate(design: &Design, module: &str, from: &str, to: &str) -> (Design, usize) {
    let mut broken = design.clone();
    let file = broken
        .files
        .iter_mut()
        .find(|f| f.module.contains(module) && f.text.contains(from))
        .unwrap_or_else(|| panic!("mutation site `{from}` missing from {module} in {}", design.top));
    let sites = file.text.matches(from).count();
    file.text = file.text.replace(from, to);
    (broken, sites)
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (run scripts/test.sh to install the tools)"));
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Lint `design` with Verilator -Wall, Icarus -Wall and Yosys `check
/// -assert`; panics with the tool output on any warning.
pub fn lint(design: &Design) {
    let dir = scratch(&format!("lint/{}", design.top));
    let mut files = Vec::new();
    for f in &design.files {
        let path = dir.join(f.file_name());
        std::fs::write(&path, &f.text).expect("write");
        files.push(path);
    }
    let (ok, text) = run(Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", &design.top])
        .args(&files));
    assert!(
        ok && text.trim().is_empty(),
        "verilator -Wall on {}:\n{text}",
        design.top
    );
    let (ok, text) = run(Command::new("iverilog")
        .args(["-g2005", "-Wall", "-o"])
        .arg(dir.join("lint.vvp"))
        .arg("-s")
        .arg(&design.top)
        .args(&files));
    assert!(
        ok && text.trim().is_empty(),
        "iverilog -Wall on {}:\n{text}",
        design.top
    );
    let script = format!(
        "read_verilog {}; hierarchy -check -top {}; proc; check -assert",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        design.top
    );
    let (ok, text) = run(Command::new("yosys").args(["-q", "-p", &script]));
    assert!(
        ok && !text.contains("Warning"),
        "yosys check on {}:\n{text}",
        design.top
    );
}

/// One row of a committed calibration points CSV (`reports/calibration/*_points.csv`):
/// design, target, whether it is held out, and every numeric column by name.
pub struct CsvRow {
    pub design: String,
    pub target: String,
    pub held_out: bool,
    pub values: std::collections::HashMap<String, f64>,
}

/// The rows of a calibration points CSV.
pub fn calibration_points(csv: &str) -> Vec<CsvRow> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let values = header
                .iter()
                .zip(&cells)
                .filter_map(|(h, c)| c.parse::<f64>().ok().map(|v| (h.to_string(), v)))
                .collect();
            CsvRow {
                design: cells[0].to_string(),
                target: cells[1].to_string(),
                held_out: cells[2] == "true",
                values,
            }
        })
        .collect()
}

/// A random spiking-neuron word: width `lo..=hi`, saturating or wrapping.
pub fn random_word(rng: &mut rand::rngs::StdRng, lo: u32, hi: u32) -> accgen_hdl::spiking::params::Word {
    use rand::RngExt;
    accgen_hdl::spiking::params::Word {
        width: rng.random_range(lo..=hi),
        overflow: if rng.random_bool(0.5) {
            accgen_hdl::spiking::params::Overflow::Saturate
        } else {
            accgen_hdl::spiking::params::Overflow::Wrap
        },
    }
}

/// A random decay of a `width`-bit value: none, a shift (k below the
/// width) or a multiply by `d / 4096` with `d` in `0..=max_d`.
pub fn random_decay(rng: &mut rand::rngs::StdRng, width: u32, max_d: u32) -> accgen_hdl::spiking::params::Decay {
    use accgen_hdl::spiking::params::Decay;
    use rand::RngExt;
    match rng.random_range(0..3) {
        0 => Decay::None,
        1 => Decay::Shift {
            k: rng.random_range(1..width),
            min_decrement: rng.random_bool(0.5),
        },
        _ => Decay::Multiply {
            d: rng.random_range(0..=max_d),
        },
    }
}

/// Each mutant of a MAC array (`(module, from, to)`: `from` replaced by `to`
/// in the module's Verilog) must fail co-simulation with a mismatch on
/// 20,000 bursty cycles of `p`, and the unbroken `good` must pass them.
/// Returns each mutant's number of replaced sites and its mismatch.
pub fn array_mutants_are_caught(
    good: &Design,
    p: &MacArrayParams,
    mutants: &[(&str, &str, &str)],
) -> Vec<(usize, Box<accgen_sim::Mismatch>)> {
    let caught = mutants
        .iter()
        .map(|&(module, from, to)| {
            let (bad, sites) = mutate(good, module, from, to);
            let model = build(&bad);
            match try_check(&model, &bad, || ArrayVectors::new(&bad, p, 1, 20_000, Traffic::BURSTY)) {
                Err(SimError::Mismatch(m)) => (sites, m),
                other => panic!("mutant `{to}` was not caught: {other:?}"),
            }
        })
        .collect();
    let report = check(good, || ArrayVectors::new(good, p, 1, 20_000, Traffic::BURSTY));
    assert!(report.compared > 0);
    caught
}

//! The `accgen` command's library: configurations, commands, co-simulation
//! glue, output writing and benchmarks. `main.rs` only parses arguments.

pub mod accuracy;
pub mod bench;
pub mod config;
pub mod cosim;
pub mod cost;
pub mod explore;
pub mod flow;
pub mod hashgrid_fit;
pub mod mulbench;
pub mod output;
pub mod spiking_config;
pub mod synth;
pub mod tools;
pub mod uart_host;
pub mod uart_stream;

use config::Config;
use cosim::TrafficKind;
use std::path::Path;

/// A failure, with the exit code it maps to.
pub enum Failure {
    /// Bad input (a configuration or argument): exit code 2.
    Input(String),
    /// The run itself failed (a mismatch, a tool error): exit code 1.
    Run(String),
}

impl From<config::ConfigError> for Failure {
    fn from(e: config::ConfigError) -> Failure {
        Failure::Input(e.message)
    }
}

impl From<accgen_sim::SimError> for Failure {
    fn from(e: accgen_sim::SimError) -> Failure {
        Failure::Run(format!("error: {e}"))
    }
}

/// The command line as typed, for file headers.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    command_line_of(&args)
}

fn command_line_of(args: &[String]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| {
            if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect();
    format!("accgen {}", quoted.join(" "))
}

/// The command line for file headers, without the output folder: the same
/// configuration gives the same bytes wherever it is written.
pub fn header_command() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut kept = vec![args.first().cloned().unwrap_or_default()];
    let mut skip = false;
    for a in args.iter().skip(1) {
        if skip {
            skip = false;
        } else if a == "-o" || a == "--out" {
            skip = true;
        } else if !(a.starts_with("--out=") || (a.starts_with("-o") && a.len() > 2)) {
            kept.push(a.clone());
        }
    }
    command_line_of(&kept[1..])
}

/// `accgen gen`: everything is produced in memory first, then each file is
/// written under a temporary name and renamed, so a failure leaves no
/// half-written file.
pub fn generate(config: &Config, out: &Path, tb_cycles: Option<u64>, seed: u64) -> Result<output::Written, Failure> {
    let min = cosim::min_cycles(config, TrafficKind::Bursty);
    let tb_cycles = tb_cycles.unwrap_or(match config.block {
        config::Block::MacArray(_) => 2000,
        config::Block::HashGrid(_) | config::Block::SpikingCore(_) | config::Block::SpikingChain(..) => min + 2000,
    });
    if tb_cycles < min {
        return Err(Failure::Input(format!(
            "error: --tb-cycles {tb_cycles} is too few: the test bench needs at least {min} cycles to check one result (a tile, an encoded point or a time step) of {}",
            config.name
        )));
    }
    let design = config.design(&header_command());
    let layout = accgen_sim::Layout::new(&design)?;
    let stimulus = cosim::testbench_vectors(config, &design, seed, tb_cycles, TrafficKind::Bursty);
    let frames = accgen_sim::Frames::record(&layout, cosim::Source::new(&design, &layout, stimulus))?;
    let tb = accgen_sim::testbench::write(&design, &frames)?;
    let init = cosim::init_files(config, &design, seed);
    let written = output::write_design(config, &design, &tb, &init, out).map_err(Failure::Run)?;
    if let Some(line) = reference_distance(config) {
        println!("{line}");
    }
    println!(
        "wrote {} files for {} to {}",
        written.files.len(),
        design.top,
        out.display()
    );
    for f in &written.files {
        println!("  {}", out.join(f).display());
    }
    Ok(written)
}

/// For a hash grid: how far the hardware model's features are from
/// tiny-cuda-nn's encoding on the same tables, with f32 and with fp16
/// parameters, one line.
pub fn reference_distance(config: &Config) -> Option<String> {
    use accgen_hdl::hashgrid::model::distance_to;
    use accgen_hdl::hashgrid::reference::Precision;
    let config::Block::HashGrid(p) = &config.block else {
        return None;
    };
    let f32 = distance_to(p, Precision::F32, 1, 10_000, 2);
    let f16 = distance_to(p, Precision::F16, 1, 10_000, 2);
    Some(format!(
        "hardware model vs tiny-cuda-nn on {} points, same tables: f32 tables max |diff| {:.3e}, RMS {:.3e}; fp16 tables max |diff| {:.3e}, RMS {:.3e} (features' RMS {:.3e})",
        f32.points, f32.max_abs, f32.rms, f16.max_abs, f16.rms, f32.reference_rms
    ))
}

/// `accgen sim`.
pub fn simulate(config: &Config, vectors: u64, seed: u64, traffic: TrafficKind) -> Result<(), Failure> {
    let min = cosim::min_cycles(config, traffic);
    if vectors < min {
        return Err(Failure::Input(format!(
            "error: --vectors {vectors} is too few: at least {min} cycles are needed to check one result of {} (a MAC tile of K beats, a hash grid's table load and pipeline, or a spiking core's time step)",
            config.name
        )));
    }
    tools::ensure(&[tools::VERILATOR]).map_err(Failure::Run)?;
    // The header names the configuration but not the run's flags, so every
    // `accgen sim` of one configuration shares one cached Verilator model.
    let design = config.design(&format!("accgen sim {}", config.origin));
    let model = accgen_sim::Model::build(&design, &accgen_sim::BuildOptions::default())?;
    println!(
        "model of {}: {} in {:.1} s",
        design.top,
        if model.was_cached() { "cached" } else { "built" },
        model.build_time().as_secs_f64()
    );
    let rows = std::cell::Cell::new(None);
    let what = std::cell::Cell::new("results");
    let report = model.check(|| {
        let stimulus = cosim::vectors(config, &design, seed, vectors, traffic);
        rows.set(Some(stimulus.results_checked()));
        what.set(stimulus.result_name());
        cosim::Source::new(&design, model.layout(), stimulus)
    })?;
    let rows = rows.take().map(|r| r.get()).unwrap_or(0);
    let what = what.get();
    if rows == 0 {
        return Err(Failure::Run(format!(
            "error: {}: no {what} were compared in {} cycles; run more --vectors",
            design.top, report.cycles
        )));
    }
    if let Some(line) = reference_distance(config) {
        println!("{line}");
    }
    println!(
        "PASS {}: {} cycles, {} values compared ({rows} {what}), 0 mismatches, {:.2} M cycles/s",
        design.top,
        report.cycles,
        report.compared,
        report.vectors_per_second() / 1e6
    );
    Ok(())
}

/// `accgen demo`: the quick start's main job.
pub fn demo(out: &Path) -> Result<(), Failure> {
    let config = config::parse(config::DEFAULT_CONFIG, config::DEFAULT_CONFIG_NAME)?;
    println!("accgen demo: {} from {}", config.name, config.origin);
    generate(&config, out, Some(2000), 1)?;
    simulate(&config, 100_000, 1, TrafficKind::Bursty)?;
    println!("Open {} to read the Verilog; rerun its test bench with:", out.display());
    println!("  cd {} && iverilog -g2005 -o tb.vvp *.v && vvp tb.vvp", out.display());
    Ok(())
}

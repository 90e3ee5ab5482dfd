//! `accgen`: generate verified neural-network accelerator hardware.

mod bench;
mod config;
mod cosim;
mod output;
mod tools;

use clap::{Parser, Subcommand};
use config::Config;
use cosim::TrafficKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "accgen", version, about = "Generate verified accelerator hardware from a YAML configuration")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the Verilog, a self-checking test bench with its vectors, and a manifest
    Gen {
        /// Configuration file (YAML)
        config: PathBuf,
        /// Output folder (created if missing)
        #[arg(short, long)]
        out: PathBuf,
        /// Cycles of test-bench vectors to write
        #[arg(long, default_value_t = 2000)]
        tb_cycles: u64,
        /// Seed of the test-bench vectors
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Co-simulate the design in Verilator against its golden model
    Sim {
        /// Configuration file (YAML)
        config: PathBuf,
        /// Cycles of random vectors to run
        #[arg(long, default_value_t = 100_000)]
        vectors: u64,
        /// Seed of the random vectors
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Input/output traffic pattern
        #[arg(long, value_enum, default_value_t = TrafficKind::Bursty)]
        traffic: TrafficKind,
    },
    /// Quick start: generate and co-simulate the embedded default design (a 4 x 4 int8 array)
    Demo {
        /// Output folder
        #[arg(short, long, default_value = "out/demo")]
        out: PathBuf,
    },
    /// Measure co-simulation throughput, cached start-up and generation time
    Bench {
        /// Cycles per throughput run
        #[arg(long, default_value_t = 1_000_000)]
        vectors: u64,
    },
}

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
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen {
            config,
            out,
            tb_cycles,
            seed,
        } => config::load(&config)
            .map_err(Failure::from)
            .and_then(|c| generate(&c, &out, tb_cycles, seed).map(|_| ())),
        Command::Sim {
            config,
            vectors,
            seed,
            traffic,
        } => config::load(&config)
            .map_err(Failure::from)
            .and_then(|c| simulate(&c, vectors, seed, traffic)),
        Command::Demo { out } => demo(&out),
        Command::Bench { vectors } => bench::run(vectors),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("{m}");
            ExitCode::from(2)
        }
        Err(Failure::Run(m)) => {
            eprintln!("{m}");
            ExitCode::from(1)
        }
    }
}

/// `accgen gen`: everything is produced in memory first, then each file is
/// written under a temporary name and renamed, so a failure leaves no
/// half-written file.
fn generate(config: &Config, out: &Path, tb_cycles: u64, seed: u64) -> Result<output::Written, Failure> {
    if tb_cycles == 0 {
        return Err(Failure::Input("error: --tb-cycles must be at least 1".into()));
    }
    let design = config.design(&command_line());
    let layout = accgen_sim::Layout::new(&design)?;
    let stimulus = cosim::vectors(config, &design, seed, tb_cycles, TrafficKind::Bursty);
    let frames = accgen_sim::Frames::record(&layout, cosim::Source::new(&design, &layout, stimulus))?;
    let tb = accgen_sim::testbench::write(&design, &frames)?;
    let written = output::write_design(config, &design, &tb, out).map_err(Failure::Run)?;
    println!("wrote {} files for {} to {}", written.files.len(), design.top, out.display());
    for f in &written.files {
        println!("  {}", out.join(f).display());
    }
    Ok(written)
}

/// `accgen sim`.
fn simulate(config: &Config, vectors: u64, seed: u64, traffic: TrafficKind) -> Result<(), Failure> {
    if vectors == 0 {
        return Err(Failure::Input("error: --vectors must be at least 1".into()));
    }
    tools::ensure(&[tools::VERILATOR]).map_err(Failure::Run)?;
    let design = config.design(&command_line());
    let model = accgen_sim::Model::build(&design, &accgen_sim::BuildOptions::default())?;
    println!(
        "model of {}: {} in {:.1} s",
        design.top,
        if model.was_cached() { "cached" } else { "built" },
        model.build_time().as_secs_f64()
    );
    let report = model.check(|| cosim::Source::new(&design, model.layout(), cosim::vectors(config, &design, seed, vectors, traffic)))?;
    println!(
        "PASS {}: {} cycles, {} values compared, 0 mismatches, {:.2} M cycles/s",
        design.top,
        report.cycles,
        report.compared,
        report.vectors_per_second() / 1e6
    );
    Ok(())
}

/// `accgen demo`: the quick start's main job.
fn demo(out: &Path) -> Result<(), Failure> {
    let config = config::parse(config::DEFAULT_CONFIG, config::DEFAULT_CONFIG_NAME)?;
    println!("accgen demo: {} from {}", config.name, config.origin);
    generate(&config, out, 2000, 1)?;
    simulate(&config, 100_000, 1, TrafficKind::Bursty)?;
    println!("Open {} to read the Verilog; rerun its test bench with:", out.display());
    println!("  cd {} && iverilog -g2005 -o tb.vvp *.v && vvp tb.vvp", out.display());
    Ok(())
}

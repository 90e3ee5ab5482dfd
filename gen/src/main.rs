//! `accgen`: generate verified neural-network accelerator hardware.

use accgen::cosim::TrafficKind;
use accgen::{Failure, bench, config};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "accgen",
    version,
    about = "Generate verified accelerator hardware from a YAML configuration"
)]
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
        /// Cycles of test-bench vectors to write [default: 2000 for a MAC array; for a
        /// hash grid or spiking core, the fewest that check one result, plus 2000]
        #[arg(long)]
        tb_cycles: Option<u64>,
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
    /// Post-training quantization of a digits classifier: test accuracy and SQNR
    /// for every (weights, activations) format pair, computed through the MAC
    /// golden model; `--hardware` also checks the first layer on the generated
    /// array in Verilator
    Accuracy(accgen::accuracy::Args),
    /// The digits MLP converted to a spiking network: test accuracy and synaptic operations per
    /// inference for every (time steps, weight bits, membrane bits), through the spiking core's golden model
    SnnDigits(accgen::accuracy::snn::SnnArgs),
    /// Synthesize the design with Yosys for FPGA families or standard cells and
    /// print LUTs, FFs, carry cells, DSPs, block RAM and ASIC area (cached)
    Synth(accgen::synth::Args),
    /// Synthesize, place and route, and pack a design into an FPGA bitstream (Yosys, nextpnr,
    /// icepack/ecppack), writing the bitstream, logs, utilisation and Fmax under bitstreams/
    Flow(accgen::flow::Args),
    /// Send random tiles (MAC arrays), random points after random tables (hash grids) or random
    /// events after random weights (spiking cores and chains of two) to a board running the flow's UART wrapper and
    /// check every result against the golden model
    RunUart(accgen::uart_host::Args),
    /// Estimate a design's resources with the calibrated cost model (microseconds, no tools)
    Cost {
        /// Configuration file (YAML)
        config: PathBuf,
        /// Targets (xc7, xc7-nodsp, ice40, ice40-nodsp, ecp5, ecp5-nodsp, asic); all when omitted
        #[arg(short, long, value_delimiter = ',')]
        target: Vec<String>,
        /// Also synthesize with Yosys and print the measured figures beside the estimate
        #[arg(long)]
        synth: bool,
    },
    /// Synthesize the cost model's calibration set on every target, fit the model and publish its error
    Calibrate {
        /// Where mac.json, mac_points.csv and README.md go
        #[arg(short, long, default_value = "reports/calibration")]
        out: PathBuf,
        /// Parallel Yosys runs [default: the available cores]
        #[arg(long)]
        jobs: Option<usize>,
        /// Block family to calibrate: mac, spiking, hashgrid or all
        #[arg(long, default_value = "mac")]
        family: accgen::cost::Family,
        /// Use only the first N designs of the spiking or hash-grid set (a quick look
        /// while the rest synthesizes; the committed calibration uses them all)
        #[arg(long)]
        points: Option<usize>,
    },
    /// Sweep configurations (the embedded default without a file): cost on every
    /// target, accuracy on the block's workload, Pareto fronts, plots and a report
    Explore(accgen::explore::Args),
    /// Fit hash grids with a small decoder to a generated 256 x 256 image and a torus SDF,
    /// and report PSNR / mean absolute SDF error per table format with the hardware encoding
    HashgridFit(accgen::hashgrid_fit::Args),
    /// Measure co-simulation throughput, cached start-up and generation time
    Bench {
        /// Cycles per throughput run
        #[arg(long, default_value_t = 1_000_000)]
        vectors: u64,
        /// Run only the exploration benchmarks (a 200-point model-only sweep;
        /// a 20-point synthesized sweep, cold and cached)
        #[arg(long)]
        explore: bool,
        /// Run only the multiplier table: LUT multipliers against a plain `*`
        /// at 2..8 bits on every LUT target, written to reports/multipliers/
        #[arg(long, conflicts_with = "explore")]
        multipliers: bool,
        /// Run only the cost models' estimates per second
        #[arg(long, conflicts_with_all = ["explore", "multipliers"])]
        cost: bool,
    },
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
            .and_then(|c| accgen::generate(&c, &out, tb_cycles, seed).map(|_| ())),
        Command::Sim {
            config,
            vectors,
            seed,
            traffic,
        } => config::load(&config)
            .map_err(Failure::from)
            .and_then(|c| accgen::simulate(&c, vectors, seed, traffic)),
        Command::Demo { out } => accgen::demo(&out),
        Command::Accuracy(args) => accgen::accuracy::run(&args),
        Command::SnnDigits(args) => accgen::accuracy::snn::run(&args),
        Command::Synth(args) => accgen::synth::run(&args),
        Command::Flow(args) => accgen::flow::run(&args),
        Command::RunUart(args) => accgen::uart_host::run(&args),
        Command::Cost { config, target, synth } => config::load(&config)
            .map_err(Failure::from)
            .and_then(|c| accgen::cost::run(&c, &target, synth)),
        Command::Calibrate {
            out,
            jobs,
            family,
            points,
        } => accgen::cost::calibrate_family(
            family,
            points,
            &out,
            jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        ),
        Command::HashgridFit(args) => accgen::hashgrid_fit::run(&args),
        Command::Explore(args) => accgen::explore::run(&args),
        Command::Bench { multipliers: true, .. } => accgen::mulbench::run(std::path::Path::new("reports/multipliers")),
        Command::Bench { explore: true, .. } => bench::explore(),
        Command::Bench { cost: true, .. } => bench::cost_model(),
        Command::Bench { vectors, .. } => bench::run(vectors),
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

//! `accgen bench`: co-simulation throughput next to a plain C++ loop driving
//! the same Verilator model with the same vectors, the start-up time of a
//! cached model, and the time to generate a 64 x 64 array.
//!
//! The machine is shared and noisy, so each figure is printed beside its
//! baseline from the same run; compare ratios, not absolute numbers.

use crate::Failure;
use crate::config::{self, Block};
use crate::cosim::{self, Source, TrafficKind};
use accgen_hdl::mac::vectors::PeExhaustive;
use accgen_sim::{BuildOptions, Model};
use std::time::Instant;

fn build(design: &accgen_hdl::Design) -> Result<Model, Failure> {
    Ok(Model::build(design, &BuildOptions::default())?)
}

/// The exploration benchmarks: a 200-point model-only sweep end to end
/// (parse, cost, accuracy, fronts, report), and a 20-point synthesized
/// sweep with an empty cache, then again from the cache.
pub fn explore() -> Result<(), Failure> {
    use crate::explore::{self, Options, report, sweep};
    use crate::synth::SynthOptions;
    const MODEL_200: &str = include_str!("../../examples/explore/bench_model_200.yaml");
    const SYNTH_20: &str = include_str!("../../examples/explore/bench_synth_20.yaml");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scratch = std::env::temp_dir().join(format!("accgen-bench-explore-{}", std::process::id()));
    let run = |text: &str, name: &str, cache: Option<std::path::PathBuf>| -> Result<(f64, explore::Results), Failure> {
        let start = Instant::now();
        let s = sweep::parse(text, name).map_err(Failure::Input)?;
        let options = Options {
            synthesize: s.synthesize,
            threads,
            synth: SynthOptions {
                threads,
                cache_dir: cache,
                ..SynthOptions::default()
            },
            seed: 1,
            progress: false,
            flow_dir: scratch.join("flows"),
        };
        let results = explore::evaluate(&s, &options)?;
        report::write(&results, &scratch.join(&s.name)).map_err(|e| Failure::Run(format!("error: {e}")))?;
        Ok((start.elapsed().as_secs_f64(), results))
    };
    println!("== exploration: model-only sweep, end to end (parse, cost, accuracy, fronts, report and plots)");
    let (secs, r) = run(MODEL_200, "examples/explore/bench_model_200.yaml", None)?;
    println!(
        "{} points x {} targets = {} rows, {} accuracy evaluations: {secs:.2} s ({:.0} points/s)",
        r.stats.points,
        r.sweep.targets.len(),
        r.stats.rows,
        r.stats.accuracy_evaluations,
        r.stats.points as f64 / secs
    );
    println!("== exploration: synthesized sweep on {threads} cores, cold (empty cache) then cached");
    let cache = scratch.join("synth-cache");
    for pass in ["cold", "cached"] {
        let (secs, r) = run(SYNTH_20, "examples/explore/bench_synth_20.yaml", Some(cache.clone()))?;
        let s = &r.stats;
        println!(
            "{pass:>6}: {} points, {} Yosys jobs ({} synthesized, {} cached, {} failed) in {secs:.1} s",
            s.points, s.synth_jobs, s.synthesized, s.synth_cached, s.synth_failed
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

pub fn run(vectors: u64) -> Result<(), Failure> {
    crate::tools::ensure(&[crate::tools::VERILATOR]).map_err(Failure::Run)?;
    let base = config::parse(config::DEFAULT_CONFIG, config::DEFAULT_CONFIG_NAME)?;
    let Block::MacArray(int8) = base.block else {
        unreachable!("the default configuration is a MAC array")
    };

    println!("== co-simulation throughput (checked vs raw C++ loop, same model, same vectors)");
    // The int8 PE: every operand pair, as many passes as needed.
    let pe = accgen_hdl::mac::pe_design(&int8, &base.provenance("accgen bench"));
    let model = build(&pe)?;
    let passes = vectors.div_ceil(1 << 16);
    let t = model.throughput(|| Source::new(&pe, model.layout(), PeExhaustive::new(&pe, &int8, 1).passes(passes)))?;
    println!("int8 PE:        {t}");
    {
        let p = accgen_hdl::mac::MacArrayParams {
            rows: 16,
            cols: 16,
            dot_length: 32,
            ..int8
        };
        let c = config::Config {
            block: Block::MacArray(p),
            ..base.clone()
        };
        let design = c.design("accgen bench");
        let model = build(&design)?;
        let t = model.throughput(|| {
            Source::new(
                &design,
                model.layout(),
                cosim::vectors(&c, &design, 1, vectors, TrafficKind::Full),
            )
        })?;
        println!("16x16 array:     {t}");
    }

    println!("== cached start-up: model lookup, harness start and the first vector");
    let design = base.design("accgen bench");
    build(&design)?;
    let start = Instant::now();
    let model = build(&design)?;
    let report = model.check(|| {
        Source::new(
            &design,
            model.layout(),
            cosim::vectors(&base, &design, 1, 3, TrafficKind::Full),
        )
    })?;
    let elapsed = start.elapsed();
    println!(
        "{}: {} (cached: {}), {:.3} s to the first vectors ({} cycles checked)",
        design.top,
        if model.was_cached() { "cache hit" } else { "rebuilt" },
        model.was_cached(),
        elapsed.as_secs_f64(),
        report.cycles
    );

    println!("== minifloats");
    let e4m3 = accgen_hdl::mac::params::MacArraySpec {
        rows: 1,
        cols: 1,
        dot_length: 64,
        activations: "e4m3fn".into(),
        weights: "e4m3fn".into(),
        acc_width: None,
        overflow: None,
        multiplier: accgen_hdl::mac::MulImpl::Dsp,
        reset: accgen_hdl::ir::ResetStyle::SyncHigh,
        output: None,
        pipeline: 0,
        output_pipeline: 0,
    }
    .validate()
    .map_err(|e| Failure::Run(format!("error: {e}")))?;
    let pe = accgen_hdl::mac::pe_design(&e4m3, &base.provenance("accgen bench"));
    let model = build(&pe)?;
    for (what, products) in [("products", true), ("MAC steps", false)] {
        let start = Instant::now();
        let report = model.check(|| {
            let v = PeExhaustive::new(&pe, &e4m3, 1);
            Source::new(&pe, model.layout(), if products { v.products_only() } else { v })
        })?;
        println!(
            "E4M3 x E4M3 exhaustive ({what}): {} pairs, {} values compared in {:.3} s after the build",
            1 << 16,
            report.compared,
            start.elapsed().as_secs_f64()
        );
    }
    let f = accgen_hdl::minifloat::FloatFormat::preset("e4m3fn").unwrap_or_else(|| unreachable!("a preset"));
    let inputs: Vec<f64> = (0..1_000_000u64)
        .map(|i| f64::from_bits(0x3f00_0000_0000_0000 ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4) - 1.0)
        .collect();
    let start = Instant::now();
    let mut acc = 0u64;
    for &x in &inputs {
        acc = acc.wrapping_add(f.encode(x, accgen_hdl::minifloat::OnOverflow::Saturate));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "golden-model encode to e4m3fn (RNE, saturating): {:.1} M values/s ({} values, checksum {acc:#x})",
        inputs.len() as f64 / secs / 1e6,
        inputs.len()
    );

    println!("== accuracy workload: train the digits MLP and evaluate the full default PTQ table");
    let settings = crate::accuracy::Settings::resolve(&crate::accuracy::Args::default())?;
    let start = Instant::now();
    let work = crate::accuracy::Workload::prepare(settings.seed, settings.calibration)?;
    let trained = start.elapsed().as_secs_f64();
    let table = work.table(&settings.weights, &settings.activations, settings.threads)?;
    println!(
        "trained in {trained:.2} s; {} format pairs through the golden model in {:.2} s ({} threads)",
        table.len(),
        start.elapsed().as_secs_f64() - trained,
        settings.threads
    );

    cost_model()?;

    println!("== generation time of a 64 x 64 array (embedded HDL to Verilog text)");
    let big = config::Config {
        block: Block::MacArray(accgen_hdl::mac::MacArrayParams {
            rows: 64,
            cols: 64,
            dot_length: 64,
            ..int8
        }),
        ..base.clone()
    };
    let start = Instant::now();
    let d = big.design("accgen bench");
    let elapsed = start.elapsed();
    let bytes: usize = d.files.iter().map(|f| f.text.len()).sum();
    println!(
        "{}: {} files, {} bytes in {:.3} s",
        d.top,
        d.files.len(),
        bytes,
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// `accgen bench --cost`: estimates per second of each family's cost
/// model, over its calibration set with every target per design point.
pub fn cost_model() -> Result<(), Failure> {
    let mac = crate::cost::Calibration::builtin().map_err(Failure::Run)?;
    let points: Vec<accgen_hdl::mac::MacArrayParams> =
        crate::cost::calibrate::points().into_iter().map(|p| p.params).collect();
    estimates_per_second("MAC array", || {
        let (mut n, mut checksum) = (0, 0.0);
        for p in &points {
            for model in &mac.targets {
                let e = crate::cost::estimate(p, model);
                checksum += e.luts + e.ffs;
                n += 1;
            }
        }
        (n, checksum)
    });
    let spiking = crate::cost::spiking::builtin().map_err(Failure::Run)?;
    let designs: Vec<crate::cost::spiking::Spiking> =
        crate::cost::spiking::points().into_iter().map(|p| p.design).collect();
    let models: Vec<(crate::synth::Target, &crate::cost::families::FamilyTargetModel)> = crate::synth::Target::ALL
        .into_iter()
        .filter_map(|t| spiking.model(t).map(|m| (t, m)))
        .collect();
    estimates_per_second("spiking-core", || {
        let (mut n, mut checksum) = (0, 0.0);
        for d in &designs {
            for &(target, model) in &models {
                let e = crate::cost::spiking::estimate(d, target, model);
                checksum += e.luts + e.ffs;
                n += 1;
            }
        }
        (n, checksum)
    });
    let hashgrid = crate::cost::hashgrid::builtin().map_err(Failure::Run)?;
    let encoders: Vec<accgen_hdl::hashgrid::HashGridParams> =
        crate::cost::hashgrid::points().into_iter().map(|p| p.params).collect();
    let models: Vec<(crate::synth::Target, &crate::cost::families::FamilyTargetModel)> = crate::synth::Target::ALL
        .into_iter()
        .filter_map(|t| hashgrid.model(t).map(|m| (t, m)))
        .collect();
    estimates_per_second("hash-grid", || {
        let (mut n, mut checksum) = (0, 0.0);
        for p in &encoders {
            for &(target, model) in &models {
                let e = crate::cost::hashgrid::estimate(p, target, model);
                checksum += e.luts + e.ffs;
                n += 1;
            }
        }
        (n, checksum)
    });
    Ok(())
}

/// Repeat `pass` (which returns how many estimates it made and a checksum
/// that keeps them from being optimised away) for one second.
fn estimates_per_second(family: &str, mut pass: impl FnMut() -> (u64, f64)) {
    println!("== {family} cost model: estimates per second (all seven targets per design point)");
    let start = Instant::now();
    let (mut evaluations, mut checksum) = (0u64, 0.0);
    while start.elapsed().as_secs_f64() < 1.0 {
        let (n, sum) = pass();
        evaluations += n;
        checksum += sum;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.2} M estimates/s ({evaluations} estimates in {secs:.2} s, checksum {checksum:.0})",
        evaluations as f64 / secs / 1e6
    );
}

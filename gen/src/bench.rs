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

pub fn run(vectors: u64) -> Result<(), Failure> {
    crate::tools::ensure(&[crate::tools::VERILATOR]).map_err(Failure::Run)?;
    let base = config::parse(config::DEFAULT_CONFIG, config::DEFAULT_CONFIG_NAME)?;
    let Block::MacArray(int8) = base.block;

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

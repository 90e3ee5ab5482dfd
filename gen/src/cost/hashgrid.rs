//! The hash-grid encoder's calibration set, for a cost model to come:
//! register bits from the generated structure
//! ([`accgen_hdl::hashgrid::cost::registers`]), block RAM and DSP blocks by
//! rule, LUTs, carry cells and ASIC area fitted per target like the
//! spiking cores' ([`super::spiking`]).

use super::spiking::Walk;
use accgen_hdl::hashgrid::{HashGridParams, HashGridSpec};
use accgen_hdl::mac::params::FormatSpec;

/// One calibration design.
#[derive(Clone, Debug)]
pub struct Point {
    pub name: String,
    pub params: HashGridParams,
    /// Kept out of the fit; the published error is measured on these.
    pub held_out: bool,
}

/// Points in the calibration set.
pub const POINTS: usize = 16;

/// Largest memory (all tables, replicas included) of a point synthesized on
/// `asic`, where tables become flip-flops and larger ones take minutes.
pub const ASIC_MAX_MEMORY_BITS: u64 = 16384;

/// The calibration set: 16 small encoders (synthesis of a level takes tens
/// of seconds) drawn deterministically across D, L, log2 T, F, base
/// resolution and scale (dense and hashed levels) and entry formats. Every
/// fourth is held out.
pub fn points() -> Vec<Point> {
    const LEVELS: [u64; 5] = [1, 1, 1, 2, 3];
    const LOG2_T: [u64; 4] = [8, 9, 10, 11];
    const FEATURES: [u64; 4] = [1, 2, 2, 4];
    const FORMATS: [&str; 7] = ["fp16", "bf16", "e4m3fn", "e5m2", "int8", "int4", "int12"];
    const BASE: [u64; 5] = [2, 4, 8, 16, 40];
    const SCALE: [f64; 3] = [1.5, 2.0, 1.38191];
    let mut walk = Walk::new(0x4a5b_6c7d_8e9f_0a1b);
    let mut out: Vec<Point> = Vec::new();
    while out.len() < POINTS {
        let dims = if walk.pick(3) == 0 { 3 } else { 2 };
        let levels = LEVELS[walk.pick(LEVELS.len())].min(if dims == 3 { 1 } else { 3 });
        let spec = HashGridSpec {
            dims,
            levels,
            features: FEATURES[walk.pick(FEATURES.len())],
            log2_table_size: LOG2_T[walk.pick(LOG2_T.len())],
            base_resolution: BASE[walk.pick(BASE.len())],
            per_level_scale: SCALE[walk.pick(SCALE.len())],
            table: FormatSpec::Name(FORMATS[walk.pick(FORMATS.len())].into()),
            ..HashGridSpec::default()
        };
        let Ok(params) = spec.validate() else { continue };
        let name = accgen_hdl::hashgrid::engine::name(&params);
        if out.iter().any(|p| p.name == name) {
            continue;
        }
        let i = out.len();
        out.push(Point {
            name,
            params,
            held_out: i % 4 == 3,
        });
    }
    out
}

/// Provenance of calibration designs (comments only: the synthesis cache
/// ignores them).
pub(crate) fn provenance() -> accgen_hdl::ir::verilog::Provenance {
    accgen_hdl::ir::verilog::Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "calibration".into(),
        command: "accgen calibrate".into(),
    }
}

/// `accgen calibrate --family hashgrid`: synthesize the calibration set on
/// every target (filling the synthesis cache) and print each measurement
/// as a JSON line. The fit of a hash-grid model is not written yet: the
/// set takes hours to synthesize on two cores (a level of 2^D corners of
/// F products takes minutes without DSP blocks).
pub fn calibrate(limit: Option<usize>, out: &std::path::Path, threads: usize) -> Result<(), crate::Failure> {
    let _ = out;
    let mut points = points();
    points.truncate(limit.unwrap_or(points.len()));
    let designs: Vec<_> = points
        .iter()
        .map(|p| accgen_hdl::hashgrid::design(&p.params, &provenance()))
        .collect();
    let on_asic: Vec<bool> = points
        .iter()
        .map(|p| p.params.memory_bits() <= ASIC_MAX_MEMORY_BITS)
        .collect();
    let measured = super::families::synthesize("hashgrid", &designs, &on_asic, threads)?;
    for (t, rs) in measured.iter().enumerate() {
        for (i, r) in rs.iter().enumerate() {
            let Some(r) = r else { continue };
            println!(
                "{}",
                serde_json::json!({"target": crate::synth::Target::ALL[t].name(), "point": i, "name": points[i].name, "held_out": points[i].held_out, "summary": r.summary, "cells": r.cells, "seconds": r.seconds})
            );
        }
    }
    Ok(())
}

//! Calibration: synthesize every multiplier structure alone on a grid of
//! operand shapes and fit its cost formula per target; then synthesize a
//! fixed set of MAC arrays on every target, fit the array model's weights
//! on three quarters of them, and publish the error on the quarter the fit
//! never saw.

use super::fit::nnls;
use super::{
    Calibration, DspPacking, DspRule, Estimate, FEATURE_NAMES, Figure, MUL_TERMS, MulCost, TargetModel, estimate,
    mul_terms,
};
use crate::Failure;
use crate::synth::{SynthResult, Target};
use accgen_hdl::Design;
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::mac::cost::registers;
use accgen_hdl::mac::params::FormatSpec;
use accgen_hdl::mac::{MacArrayParams, MacArraySpec, MulImpl};
use accgen_hdl::minifloat::OnOverflow;
use accgen_hdl::params::IntFormat;
use std::fmt::Write;
use std::path::Path;

/// One calibration design.
#[derive(Clone, Debug)]
pub struct Point {
    pub name: String,
    pub params: MacArrayParams,
    /// Kept out of the fit; the published error is measured on these.
    pub held_out: bool,
    /// Synthesized on the ECP5 targets only (the second walk, see
    /// [`ecp5_walk_points`]).
    pub ecp5_only: bool,
}

impl Point {
    /// Whether the calibration synthesizes this design on `target`.
    pub fn on(&self, target: Target) -> bool {
        !self.ecp5_only || target.family() == crate::synth::Family::Ecp5
    }
}

/// Designs the random walk draws (the calibration set adds [`INTEGER_POINTS`]).
pub const POINTS: usize = 64;

/// What the calibration walks draw from: array shapes (rows, cols),
/// operand formats, dot lengths and output formats (None: the exact sum;
/// listed twice so half the arrays keep it).
const SHAPES: [(u64, u64); 10] = [
    (1, 1),
    (1, 2),
    (2, 2),
    (2, 3),
    (3, 2),
    (3, 3),
    (1, 4),
    (2, 4),
    (4, 2),
    (4, 4),
];
const FORMATS: [&str; 19] = [
    "int2", "int3", "int4", "int5", "int6", "int8", "int10", "int12", "int16", "uint4", "uint8", "e4m3fn", "e5m2",
    "e4m3fnuz", "e3m4", "e2m3fn", "e3m2fn", "e2m1fn", "e4m3",
];
const KS: [u64; 5] = [1, 4, 16, 64, 256];
const OUTPUTS: [Option<&str>; 4] = [None, None, Some("fp16"), Some("bf16")];

/// The calibration set: 64 arrays of up to 4 x 4 PEs drawn deterministically across
/// shapes, integer and minifloat formats, dot lengths, multipliers and
/// output rounding. Every fourth is held out. The first 48 draw the `dsp`
/// and `lut` multipliers only (the set before `lut4` existed, kept so its
/// synthesis stays cached); the rest draw all three structures.
pub fn points() -> Vec<Point> {
    // Deterministic and independent of any crate's random number algorithm.
    let mut walk = super::families::Walk::new(0x2545_f491_4f6c_dd1d);
    let mut pick = |n: usize| walk.pick(n);
    let mut out = Vec::new();
    while out.len() < POINTS {
        let (rows, cols) = SHAPES[pick(SHAPES.len())];
        let spec = MacArraySpec {
            rows,
            cols,
            dot_length: KS[pick(KS.len())],
            activations: FORMATS[pick(FORMATS.len())].into(),
            weights: FORMATS[pick(FORMATS.len())].into(),
            acc_width: None,
            overflow: None,
            multiplier: match (pick(3), out.len() < 48) {
                (0, _) => MulImpl::Lut,
                (1, false) => MulImpl::Lut4,
                _ => MulImpl::Dsp,
            },
            reset: ResetStyle::SyncHigh,
            output: OUTPUTS[pick(OUTPUTS.len())].map(|f| (FormatSpec::Name(f.into()), OnOverflow::Saturate)),
            pipeline: 0,
            output_pipeline: 0,
        };
        if let Ok(params) = spec.validate() {
            let i = out.len();
            out.push(Point {
                name: accgen_hdl::mac::array::name(&params),
                params,
                held_out: i % 4 == 3,
                ecp5_only: false,
            });
        }
    }
    out.extend(accumulating_integer_points(&out));
    let more = ecp5_walk_points(&out, 0x3c6e_f372_fe94_f82b, SECOND_WALK_POINTS);
    out.extend(more);
    let more = ecp5_walk_points(&out, 0xa54f_f53a_5f1d_36f1, THIRD_WALK_POINTS);
    out.extend(more);
    let more = ecp5_walk_points(&out, 0x510e_527f_ade6_82d1, FOURTH_WALK_POINTS);
    out.extend(more);
    let more = ecp5_walk_points(&out, 0x9b05_688c_2b3e_6c1f, FIFTH_WALK_POINTS);
    out.extend(more);
    let more = pipelined_walk_points(&out, 0x1f83_d9ab_fb41_bd6b, PIPELINED_POINTS, false);
    out.extend(more);
    let more = pipelined_walk_points(&out, 0x5be0_cd19_137e_2179, PIPELINED_ECP5_POINTS, true);
    out.extend(more);
    out
}

/// Pipelined designs synthesized on every target, drawn after the five
/// walks (see [`pipelined_walk_points`]).
pub const PIPELINED_POINTS: usize = 24;

/// Pipelined designs synthesized on the ECP5 targets only, drawn after
/// [`PIPELINED_POINTS`]: ECP5's LUT4 count depends the most on which logic
/// is deepest, which register stages change.
pub const PIPELINED_ECP5_POINTS: usize = 32;

/// PE pipeline depths the pipelined walks draw (1 twice: the depth a user
/// reaches for first; 0 with a pipelined rounder).
const PIPELINES: [u64; 5] = [0, 1, 1, 2, 3];

/// A deterministic walk over the first walk's shapes, formats, dot
/// lengths, multiplier structures and output formats that also draws the
/// PE pipeline depth (0 to 3) and, with an output format, the rounders'
/// register stages (0 to 2), keeping only designs with at least one
/// register stage (and not drawn before). The five walks before it have
/// none: register stages cut the logic paths ABC maps for depth (on
/// ECP5-nodsp one PE stage takes a 4 x 4 uint4 x uint8 `*`-in-logic array
/// from 3,487 to 1,602 LUT4s) and keep the `*` apart from the
/// accumulator's sum. Every fourth is held out, a rule fixed before any
/// of them was synthesized.
fn pipelined_walk_points(first: &[Point], seed: u64, count: usize, ecp5_only: bool) -> Vec<Point> {
    let mut walk = super::families::Walk::new(seed);
    let mut pick = |n: usize| walk.pick(n);
    let mut out: Vec<Point> = Vec::new();
    while out.len() < count {
        let (rows, cols) = SHAPES[pick(SHAPES.len())];
        let output = OUTPUTS[pick(OUTPUTS.len())].map(|f| (FormatSpec::Name(f.into()), OnOverflow::Saturate));
        let output_pipeline = if output.is_some() { pick(3) as u64 } else { 0 };
        let spec = MacArraySpec {
            rows,
            cols,
            dot_length: KS[pick(KS.len())],
            activations: FORMATS[pick(FORMATS.len())].into(),
            weights: FORMATS[pick(FORMATS.len())].into(),
            acc_width: None,
            overflow: None,
            multiplier: match pick(3) {
                0 => MulImpl::Lut,
                1 => MulImpl::Lut4,
                _ => MulImpl::Dsp,
            },
            reset: ResetStyle::SyncHigh,
            output,
            pipeline: PIPELINES[pick(PIPELINES.len())],
            output_pipeline,
        };
        if spec.pipeline == 0 && spec.output_pipeline == 0 {
            continue;
        }
        if let Ok(params) = spec.validate() {
            let name = accgen_hdl::mac::array::name(&params);
            if !first.iter().chain(&out).any(|p| p.name == name) {
                let i = out.len();
                out.push(Point {
                    name,
                    params,
                    held_out: i % 4 == 3,
                    ecp5_only,
                });
            }
        }
    }
    out
}

/// Designs of the second walk, added after the integer points.
pub const SECOND_WALK_POINTS: usize = 16;

/// Designs of the third walk, added after the second: more ECP5-only
/// designs, drawn the same way with another seed (every fourth held out).
/// Refitting ECP5-nodsp on random subsets of the 72 training designs before
/// this walk, the error on the designs left out still fell as designs were
/// added (14% with 36, 12% with 60), and an ECP5 design synthesizes in
/// about 3 s (ECP5 with DSP blocks stayed near 11% from 36 designs on: its
/// error is in the features, not in the fit's variance).
pub const THIRD_WALK_POINTS: usize = 32;

/// Designs of the fourth walk, added after the third: 32 more ECP5-only
/// designs (every fourth held out, the rule of the earlier walks, fixed
/// before any of them was synthesized), so that the fit sees more designs
/// with and without an output rounder, whose logic depth decides how much
/// of the PEs' logic ABC maps into wide LUTs (see
/// [`accgen_hdl::mac::cost::LogicFeatures`]).
pub const FOURTH_WALK_POINTS: usize = 32;

/// Designs of the fifth walk, drawn after the ECP5 features were chosen on
/// the training designs of the walks before it (the same rule: every
/// fourth held out), so that the published ECP5 figures rest on more
/// designs than the choice was made on.
pub const FIFTH_WALK_POINTS: usize = 32;

/// A further deterministic walk (the second to fifth) over the same
/// shapes, formats, dot lengths, multiplier structures and output formats
/// as the first (the designs drawn before excluded), synthesized on the
/// ECP5 targets only: they were added when ECP5 was synthesized with wide
/// LUTs, whose counts varied more from design to design than the other
/// targets' (ABC built wide functions from LUT4 and PFUMX/L6MUX muxes, so a
/// few more inputs to one function could double its cost); since
/// `-nowidelut` they stay, so the ECP5 fit and its held-out check rest on
/// more designs. Every fourth is held out.
fn ecp5_walk_points(first: &[Point], seed: u64, count: usize) -> Vec<Point> {
    let mut walk = super::families::Walk::new(seed);
    let mut pick = |n: usize| walk.pick(n);
    let mut out: Vec<Point> = Vec::new();
    while out.len() < count {
        let (rows, cols) = SHAPES[pick(SHAPES.len())];
        let spec = MacArraySpec {
            rows,
            cols,
            dot_length: KS[pick(KS.len())],
            activations: FORMATS[pick(FORMATS.len())].into(),
            weights: FORMATS[pick(FORMATS.len())].into(),
            acc_width: None,
            overflow: None,
            multiplier: match pick(3) {
                0 => MulImpl::Lut,
                1 => MulImpl::Lut4,
                _ => MulImpl::Dsp,
            },
            reset: ResetStyle::SyncHigh,
            output: OUTPUTS[pick(OUTPUTS.len())].map(|f| (FormatSpec::Name(f.into()), OnOverflow::Saturate)),
            pipeline: 0,
            output_pipeline: 0,
        };
        if let Ok(params) = spec.validate() {
            let name = accgen_hdl::mac::array::name(&params);
            if !first.iter().chain(&out).any(|p| p.name == name) {
                let i = out.len();
                out.push(Point {
                    name,
                    params,
                    held_out: i % 4 == 3,
                    ecp5_only: true,
                });
            }
        }
    }
    out
}

/// Training designs added after the walk's 64 (never held out, so the
/// published held-out set is unchanged).
pub const INTEGER_POINTS: usize = 12;

/// Integer arrays with the plain `*` multiplier that accumulate (K > 1):
/// without DSP blocks Yosys' `alumacc` merges such a product and the
/// accumulator's sum into one `$macc`, whose partial products and
/// accumulator are summed by one adder tree (measured: one carry chain per
/// PE instead of two). The walk drew three of them for training; these
/// cover operand widths, signedness and accumulator widths.
fn accumulating_integer_points(first: &[Point]) -> Vec<Point> {
    const SHAPES: [(u64, u64); 4] = [(1, 1), (1, 2), (2, 2), (2, 1)];
    const FORMATS: [&str; 10] = [
        "int2", "int3", "int4", "int6", "int8", "int12", "uint3", "uint4", "uint6", "uint8",
    ];
    const KS: [u64; 4] = [4, 16, 64, 256];
    let mut walk = super::families::Walk::new(0x6a09_e667_f3bc_c908);
    let mut pick = |n: usize| walk.pick(n);
    let mut out: Vec<Point> = Vec::new();
    while out.len() < INTEGER_POINTS {
        let (rows, cols) = SHAPES[pick(SHAPES.len())];
        let spec = MacArraySpec {
            rows,
            cols,
            dot_length: KS[pick(KS.len())],
            activations: FORMATS[pick(FORMATS.len())].into(),
            weights: FORMATS[pick(FORMATS.len())].into(),
            acc_width: None,
            overflow: None,
            multiplier: MulImpl::Dsp,
            reset: ResetStyle::SyncHigh,
            output: None,
            pipeline: 0,
            output_pipeline: 0,
        };
        if let Ok(params) = spec.validate() {
            let name = accgen_hdl::mac::array::name(&params);
            if !first.iter().chain(&out).any(|p| p.name == name) {
                out.push(Point {
                    name,
                    params,
                    held_out: false,
                    ecp5_only: false,
                });
            }
        }
    }
    out
}

/// Measured and estimated figures of one point on one target.
#[derive(Clone, Debug)]
pub struct Row {
    pub point: usize,
    pub target: Target,
    pub measured: SynthResult,
    pub estimate: Estimate,
}

/// Mean absolute percentage error of `(measured, estimated)` pairs.
pub fn mape(pairs: &[(f64, f64)]) -> f64 {
    let terms: Vec<f64> = pairs
        .iter()
        .filter(|(m, _)| *m > 0.0)
        .map(|(m, e)| ((e - m) / m).abs())
        .collect();
    if terms.is_empty() {
        0.0
    } else {
        100.0 * terms.iter().sum::<f64>() / terms.len() as f64
    }
}

/// Yosys' `shregmap` for Xilinx maps delay chains of 3 or more stages
/// (without resets on the stages) to SRL16E.
const SRL_MIN_LENGTH: u32 = 3;

/// Flip-flops DSP blocks absorb beyond their input registers, per DSP,
/// over the training points that use DSPs: what the structural count (less
/// shift registers and absorbed input registers) has beyond the measured
/// count.
fn ffs_per_dsp(model: &TargetModel, points: &[Point], results: &[&SynthResult], train: &[usize]) -> f64 {
    let mut per_dsp: Vec<f64> = Vec::new();
    for &i in train {
        let p = &points[i].params;
        let dsp = super::dsp_per_pe(p, model) * p.rows * p.cols;
        if dsp == 0 {
            continue;
        }
        let structural = registers(p).total()
            - model
                .shift_register_min_length
                .map_or(0, |m| accgen_hdl::mac::cost::shift_register_bits(p, m));
        let absorbed = model.dsp_packing.absorbed(p);
        per_dsp.push((structural as f64 - absorbed as f64 - results[i].summary.ffs as f64) / dsp as f64);
    }
    // The median: a few designs where a DSP absorbs a whole operand
    // register would pull a mean away from the typical design.
    per_dsp.sort_by(f64::total_cmp);
    match per_dsp.len() {
        0 => 0.0,
        n if n % 2 == 1 => per_dsp[n / 2].max(0.0),
        n => ((per_dsp[n / 2 - 1] + per_dsp[n / 2]) / 2.0).max(0.0),
    }
}

/// The targets the lone multipliers are synthesized on: a multiplier that
/// stays in logic costs the same with DSP blocks enabled, so each DSP
/// target borrows its family's `-nodsp` figures.
pub const MUL_TARGETS: [Target; 4] = [
    Target::Xc7 { dsp: false },
    Target::Ice40 { dsp: false },
    Target::Ecp5 { dsp: false },
    Target::Asic,
];

/// The multiplier structures costed.
pub const MUL_STRUCTURES: [MulImpl; 5] = [
    MulImpl::Dsp,
    MulImpl::Lut,
    MulImpl::Lut4,
    MulImpl::Booth,
    MulImpl::BoothTree,
];

/// The operand shapes each multiplier structure is synthesized at: squares
/// signed and unsigned, and rectangles both ways round, signed and mixed,
/// spanning the significands of 2- to 12-bit formats (a small grid: on
/// Xilinx every lone synthesis costs seconds of fixed overhead).
pub fn mul_shapes() -> Vec<(IntFormat, IntFormat)> {
    let int = |bits: u32, signed: bool| IntFormat { bits, signed };
    let mut out = Vec::new();
    for n in [2, 3, 4, 5, 6, 8, 12] {
        out.push((int(n, true), int(n, true)));
    }
    for n in [2, 4, 8] {
        out.push((int(n, false), int(n, false)));
    }
    for (a, b) in [(3, 8), (8, 3), (5, 12), (12, 5)] {
        out.push((int(a, true), int(b, true)));
    }
    out.push((int(5, false), int(12, true)));
    out.push((int(12, true), int(5, false)));
    out
}

/// One lone multiplier as a design of its own.
pub fn mul_design(a: IntFormat, b: IntFormat, imp: MulImpl) -> Design {
    let prov = Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "calibration".into(),
        command: format!("accgen calibrate ({a} x {b}, {})", imp.tag()),
    };
    Design::assemble(&accgen_hdl::mac::mul::multiplier(a, b, imp), &prov)
}

/// Fit one structure's formulas on its lone synthesis results.
fn fit_mul(imp: MulImpl, shapes: &[(IntFormat, IntFormat)], results: &[&SynthResult], asic: bool) -> MulCost {
    let rows: Vec<Vec<f64>> = shapes.iter().map(|&(a, b)| mul_terms(a, b).to_vec()).collect();
    // Relative error: each shape's equation is divided by its measured
    // figure, so small multipliers weigh as much as large ones, but not
    // below 16 (LUTs, cells, um^2 / 16): a few LUTs more or less on a 2 x 2
    // multiplier do not matter in an array, and tiny shapes would
    // otherwise steer the fit.
    let solve = |y: &dyn Fn(&SynthResult) -> f64, floor: f64| {
        let b: Vec<f64> = results.iter().map(|r| y(r)).collect();
        let w: Vec<f64> = b.iter().map(|&y| 1.0 / y.max(floor)).collect();
        let a: Vec<Vec<f64>> = rows
            .iter()
            .zip(&w)
            .map(|(r, w)| r.iter().map(|x| x * w).collect())
            .collect();
        let b: Vec<f64> = b.iter().zip(&w).map(|(b, w)| b * w).collect();
        nnls(&a, &b)
    };
    MulCost {
        structure: imp.tag().to_string(),
        luts: solve(
            &|r: &SynthResult| {
                if asic {
                    r.summary.logic as f64
                } else {
                    r.summary.luts as f64
                }
            },
            16.0,
        ),
        carry: solve(&|r: &SynthResult| r.summary.carry as f64, 16.0),
        area: if asic {
            // About 16 cells' worth of OSU 0.18 um area.
            solve(&|r: &SynthResult| r.summary.area_um2.unwrap_or(0.0), 16.0 * 250.0)
        } else {
            vec![0.0; MUL_TERMS.len()]
        },
    }
}

/// Fit one target's weights on the training points.
fn fit_target(target: Target, multipliers: Vec<MulCost>, points: &[Point], results: &[&SynthResult]) -> TargetModel {
    let train: Vec<usize> = (0..points.len()).filter(|&i| !points[i].held_out).collect();
    let mut model = TargetModel {
        target: target.name().to_string(),
        lut_intercept: 0.0,
        lut_weights: vec![0.0; FEATURE_NAMES.len()],
        carry_intercept: 0.0,
        carry_weights: vec![0.0; FEATURE_NAMES.len()],
        dsp: DspRule::of(target),
        multipliers,
        shift_register_min_length: (target.family() == crate::synth::Family::Xc7).then_some(SRL_MIN_LENGTH),
        dsp_packing: DspPacking::of(target),
        ffs_per_dsp: 0.0,
        area_intercept: 0.0,
        area_per_ff: 0.0,
        area_weights: vec![0.0; FEATURE_NAMES.len()],
    };
    model.ffs_per_dsp = ffs_per_dsp(&model, points, results, &train);
    let rows = |figure: Figure| -> Vec<Vec<f64>> {
        train
            .iter()
            .map(|&i| {
                let mut f = super::features(&points[i].params, &model, figure).to_vec();
                f.push(1.0);
                f
            })
            .collect()
    };
    let (lut_rows, carry_rows, area_rows) = (rows(Figure::Luts), rows(Figure::Carry), rows(Figure::Area));
    let n = FEATURE_NAMES.len();
    // LUTs are fitted for relative error, the error that is published:
    // each design's equation is divided by its measured count, so small
    // designs weigh as much as large ones. Carry cells, a few per adder,
    // are fitted in absolute terms: their relative error on designs with
    // a handful of carries would dominate the fit.
    let solve = |rows: &[Vec<f64>], y: &dyn Fn(&SynthResult) -> f64, relative: bool| {
        let b: Vec<f64> = train.iter().map(|&i| y(results[i])).collect();
        let w: Vec<f64> = b
            .iter()
            .map(|&y| if relative { 1.0 / y.max(1.0) } else { 1.0 })
            .collect();
        let scaled: Vec<Vec<f64>> = rows
            .iter()
            .zip(&w)
            .map(|(r, w)| r.iter().map(|x| x * w).collect())
            .collect();
        let b: Vec<f64> = b.iter().zip(&w).map(|(b, w)| b * w).collect();
        let x = nnls(&scaled, &b);
        (x[n], x[..n].to_vec())
    };
    let luts = |r: &SynthResult| {
        if target == Target::Asic {
            r.summary.logic as f64
        } else {
            r.summary.luts as f64
        }
    };
    (model.lut_intercept, model.lut_weights) = solve(&lut_rows, &luts, true);
    (model.carry_intercept, model.carry_weights) = solve(&carry_rows, &|r: &SynthResult| r.summary.carry as f64, false);
    if target == Target::Asic {
        let rows_ff: Vec<Vec<f64>> = train
            .iter()
            .zip(area_rows)
            .map(|(&i, mut f)| {
                f.push(registers(&points[i].params).total() as f64);
                f
            })
            .collect();
        let b: Vec<f64> = train
            .iter()
            .map(|&i| results[i].summary.area_um2.unwrap_or(0.0))
            .collect();
        let w: Vec<f64> = b.iter().map(|&y| 1.0 / y.max(1.0)).collect();
        let scaled: Vec<Vec<f64>> = rows_ff
            .iter()
            .zip(&w)
            .map(|(r, w)| r.iter().map(|x| x * w).collect())
            .collect();
        let b: Vec<f64> = b.iter().zip(&w).map(|(b, w)| b * w).collect();
        let x = nnls(&scaled, &b);
        model.area_weights = x[..n].to_vec();
        model.area_intercept = x[n];
        model.area_per_ff = x[n + 1];
    }
    model
}

/// Synthesize the lone multipliers and the calibration set on every
/// target, fit, and write `mac.json`, `mac_points.csv`,
/// `multipliers.csv` and `README.md` into `out`.
pub fn run(out: &Path, threads: usize) -> Result<(), Failure> {
    let points = points();
    let shapes = mul_shapes();
    let prov = Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "calibration".into(),
        command: "accgen calibrate".into(),
    };
    let mut jobs = Vec::new();
    for target in MUL_TARGETS {
        for imp in MUL_STRUCTURES {
            for &(a, b) in &shapes {
                jobs.push((mul_design(a, b, imp), target));
            }
        }
    }
    let mul_jobs = jobs.len();
    for target in Target::ALL {
        for p in points.iter().filter(|p| p.on(target)) {
            jobs.push((accgen_hdl::mac::design(&p.params, &prov), target));
        }
    }
    let measured = super::families::synthesize_jobs("calibration", &jobs, threads)?;
    let (mul_measured, measured) = measured.split_at(mul_jobs);
    // Lone multipliers: one formula per structure and target.
    let per_target = MUL_STRUCTURES.len() * shapes.len();
    let mut mul_costs = Vec::new();
    let mut mul_rows = Vec::new();
    for (t, target) in MUL_TARGETS.into_iter().enumerate() {
        let mut costs = Vec::new();
        for (s, imp) in MUL_STRUCTURES.into_iter().enumerate() {
            let from = t * per_target + s * shapes.len();
            let slice: Vec<&SynthResult> = mul_measured[from..from + shapes.len()].iter().collect();
            let cost = fit_mul(imp, &shapes, &slice, target == Target::Asic);
            for (&(a, b), r) in shapes.iter().zip(&slice) {
                mul_rows.push((target, imp, a, b, (*r).clone(), cost.clone()));
            }
            costs.push(cost);
        }
        mul_costs.push((target, costs));
    }
    let mul_cost_of = |target: Target| -> Vec<MulCost> {
        let sibling = match target {
            Target::Xc7 { .. } => Target::Xc7 { dsp: false },
            Target::Ice40 { .. } => Target::Ice40 { dsp: false },
            Target::Ecp5 { .. } => Target::Ecp5 { dsp: false },
            Target::Asic => Target::Asic,
        };
        mul_costs
            .iter()
            .find(|(t, _)| *t == sibling)
            .map(|(_, c)| c.clone())
            .unwrap_or_default()
    };
    let tool = measured.first().map(|r| r.tool.clone()).unwrap_or_default();
    let mut models = Vec::new();
    let mut rows = Vec::new();
    let mut loo = Vec::new();
    let mut rest = measured;
    for target in Target::ALL {
        // The points synthesized on this target, in the order of the jobs.
        let on: Vec<usize> = (0..points.len()).filter(|&i| points[i].on(target)).collect();
        let (mine, tail) = rest.split_at(on.len());
        rest = tail;
        let own: Vec<Point> = on.iter().map(|&i| points[i].clone()).collect();
        let slice: Vec<&SynthResult> = mine.iter().collect();
        let model = fit_target(target, mul_cost_of(target), &own, &slice);
        loo.push((target, leave_one_out(target, &mul_cost_of(target), &own, &slice)));
        if let Some(path) = std::env::var_os("ACCGEN_MAC_FEATURES") {
            dump_features(Path::new(&path), target, &model, &own, &slice)?;
        }
        for (&i, r) in on.iter().zip(&slice) {
            rows.push(Row {
                point: i,
                target,
                measured: (*r).clone(),
                estimate: estimate(&points[i].params, &model),
            });
        }
        models.push(model);
    }
    let calibration = Calibration {
        tool,
        features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        multiplier_terms: MUL_TERMS.iter().map(|s| s.to_string()).collect(),
        targets: models,
    };
    std::fs::create_dir_all(out).map_err(|e| Failure::Run(format!("error: creating {}: {e}", out.display())))?;
    let json = serde_json::to_string_pretty(&calibration).map_err(|e| Failure::Run(e.to_string()))? + "\n";
    crate::output::write_atomic(&out.join("mac.json"), json.as_bytes()).map_err(Failure::Run)?;
    crate::output::write_atomic(&out.join("mac_points.csv"), points_csv(&points, &rows).as_bytes())
        .map_err(Failure::Run)?;
    crate::output::write_atomic(&out.join("multipliers.csv"), mul_csv(&mul_rows).as_bytes()).map_err(Failure::Run)?;
    let report = error_report(&calibration, &points, &rows, &loo) + &mul_report(&mul_rows);
    crate::output::write_atomic(&out.join("README.md"), report.as_bytes()).map_err(Failure::Run)?;
    println!("{report}");
    Ok(())
}

/// Leave-one-out LUT error on `target`'s training designs (a fraction):
/// each is estimated by a fit on the others, the figure features are
/// chosen by (the held-out designs stay out of it).
fn leave_one_out(target: Target, multipliers: &[MulCost], points: &[Point], results: &[&SynthResult]) -> f64 {
    let training = (0..points.len()).filter(|&i| !points[i].held_out);
    super::families::leave_one_out_lut_error(target, training, results, |i| {
        let mut without = points.to_vec();
        without[i].held_out = true;
        let model = fit_target(target, multipliers.to_vec(), &without, results);
        estimate(&points[i].params, &model).luts
    })
}

/// Append every design's parameters, measured LUTs and carry cells and
/// fitted features on `model`'s target to the CSV at `path`
/// (`ACCGEN_MAC_FEATURES`): the data to choose features on by
/// leave-one-out without rebuilding.
fn dump_features(
    path: &Path,
    target: Target,
    model: &TargetModel,
    points: &[Point],
    results: &[&SynthResult],
) -> Result<(), Failure> {
    use std::io::Write;
    let mut f = super::families::open_to_append(path)?;
    for (p, r) in points.iter().zip(results) {
        let q = &p.params;
        let (a, b) = accgen_hdl::mac::cost::multiplier_operands(q);
        let features = super::features(q, model, Figure::Luts);
        let line = format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            p.name,
            model.target,
            p.held_out,
            super::families::measured_luts(target, &r.summary),
            r.summary.carry,
            q.rows,
            q.cols,
            q.dot_length,
            q.act.tag(),
            q.wgt.tag(),
            q.acc_width,
            q.multiplier.tag(),
            q.output.map_or("-".to_string(), |o| o.format.tag()),
            a,
            b,
            q.sig_product_width(),
            q.product_width(),
            q.act.max_shift() + q.wgt.max_shift(),
            u8::from(q.has_specials()),
            u8::from(q.can_overflow()),
            super::dsp_per_pe(q, model),
            features.map(|x| format!("{x}")).join(","),
        );
        f.write_all(line.as_bytes())
            .map_err(|e| Failure::Run(format!("error: {}: {e}", path.display())))?;
    }
    Ok(())
}

/// One lone multiplier: target, structure, operands, measured, fitted formula.
type MulRow = (Target, MulImpl, IntFormat, IntFormat, SynthResult, MulCost);

fn mul_estimate(r: &MulRow) -> (f64, f64, f64) {
    let t = mul_terms(r.2, r.3);
    (
        MulCost::eval(&r.5.luts, &t),
        MulCost::eval(&r.5.carry, &t),
        MulCost::eval(&r.5.area, &t),
    )
}

fn mul_luts(r: &MulRow) -> f64 {
    if r.0 == Target::Asic {
        r.4.summary.logic as f64
    } else {
        r.4.summary.luts as f64
    }
}

fn mul_csv(rows: &[MulRow]) -> String {
    let mut s = String::from("target,structure,a,b,luts,luts_est,carry,carry_est,area_um2,area_est\n");
    for r in rows {
        let (luts, carry, area) = mul_estimate(r);
        let m = &r.4.summary;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{:.1},{},{:.1},{},{}",
            r.0.name(),
            r.1.tag(),
            r.2,
            r.3,
            mul_luts(r),
            luts,
            m.carry,
            carry,
            m.area_um2.map(|a| format!("{a:.1}")).unwrap_or_default(),
            if r.0 == Target::Asic {
                format!("{area:.1}")
            } else {
                String::new()
            },
        );
    }
    s
}

/// How well the per-structure formulas fit their lone multipliers.
fn mul_report(rows: &[MulRow]) -> String {
    let mut s = format!(
        "\n## Multipliers in logic\n\nEach multiplier structure was synthesized alone at {} operand shapes per target (`multipliers.csv`); the array model's multiplier feature is a formula in the operand widths ({}) fitted to them per structure and target (non-negative least squares on relative error, small shapes weighted as 16 LUTs). A DSP target uses its family's `-nodsp` formula for multipliers that stay in logic. Error of the formula on the shapes it was fitted to (LUT MAPE; logic cells on `asic`; `dsp` is the plain `*`):\n\n| target | {} |\n|---|{}\n",
        mul_shapes().len(),
        MUL_TERMS.join(", "),
        MUL_STRUCTURES.map(MulImpl::tag).join(" | "),
        "---|".repeat(MUL_STRUCTURES.len())
    );
    for target in MUL_TARGETS {
        let cells: Vec<String> = MUL_STRUCTURES
            .iter()
            .map(|&imp| {
                let pairs: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.0 == target && r.1 == imp)
                    .map(|r| (mul_luts(r), mul_estimate(r).0))
                    .collect();
                format!("{:.1}%", mape(&pairs))
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", target.name(), cells.join(" | "));
    }
    s
}

fn points_csv(points: &[Point], rows: &[Row]) -> String {
    let mut s = String::from(
        "design,target,held_out,luts,luts_est,ffs,ffs_est,carry,carry_est,dsp,dsp_est,area_um2,area_est\n",
    );
    for r in rows {
        let m = &r.measured.summary;
        let luts = super::families::measured_luts(r.target, m);
        let _ = writeln!(
            s,
            "{},{},{},{},{:.1},{},{:.0},{},{:.1},{},{:.0},{},{}",
            points[r.point].name,
            r.target.name(),
            points[r.point].held_out,
            luts,
            r.estimate.luts,
            m.ffs,
            r.estimate.ffs,
            m.carry,
            r.estimate.carry,
            m.dsp,
            r.estimate.dsp,
            m.area_um2.map(|a| format!("{a:.1}")).unwrap_or_default(),
            r.estimate.area_um2.map(|a| format!("{a:.1}")).unwrap_or_default(),
        );
    }
    s
}

/// The published error: per target, on held-out points only.
pub fn error_report(c: &Calibration, points: &[Point], rows: &[Row], loo: &[(Target, f64)]) -> String {
    let first = points.iter().filter(|p| !p.ecp5_only).count();
    let held = points.iter().filter(|p| p.held_out && !p.ecp5_only).count();
    let held_ecp5 = points.iter().filter(|p| p.held_out).count();
    let mut s = format!(
        "# Cost model calibration: MAC arrays\n\nGenerated by `accgen calibrate` with {}. {} designs were synthesized on every target (a deterministic walk's {POINTS}, every fourth held out, {INTEGER_POINTS} training-only accumulating integer arrays, and a pipelined walk's {PIPELINED_POINTS}, every fourth held out, which draws the PE pipeline depth (0 to 3) and the output rounders' register stages (0 to 2) with at least one stage per design: the walks before it have none) and {} more on the two ECP5 targets only (a second walk's {SECOND_WALK_POINTS}, a third's {THIRD_WALK_POINTS}, a fourth's {FOURTH_WALK_POINTS}, a fifth's {FIFTH_WALK_POINTS} and a second pipelined walk's {PIPELINED_ECP5_POINTS}, every fourth held out: ECP5's LUT counts vary the most from design to design); the weights were fitted (non-negative least squares) per target on the training designs ({} on most targets, {} on ECP5) and the errors below are measured on the held-out designs the fit never saw ({held} on most targets, {held_ecp5} on ECP5). The LUT, carry and area estimates are weighted sums of a multiplier term (each PE's multiplier structure synthesized alone and fitted per target, see below) and of the accumulator, shifter, decode, drain and rounder sizes, plus the adder tree of a signed integer product that synthesis merges with the accumulator's sum (`$macc`: its partial products are sign-extended to the accumulator's width, see `merged_accumulator_bits`), the accumulators' restart gates (a LUT in front of ECP5's CCU2C, which Yosys drives on A/B only), the output stage's AND-OR tree over the rows, the rounders' work linear in the sum's width, the PEs that track special values, and the beat counter that ABC builds from wide LUTs on ECP5 when it has 5 or 6 bits (see `LogicFeatures`); on `asic` also the PE pipeline and rounder stage registers (`stage_register_bits`: the OSU library has no flip-flop with an enable, so each stage bit adds a multiplexer cell). ECP5 is synthesized with `synth_ecp5 -nowidelut`, so ABC maps to LUT4s as on iCE40. With the default `abc -lut 4:7` it built 5- to 7-input functions from 2 to 8 LUT4s joined by PFUMX/L6MUX21 on the deepest logic, how wide did not follow the configuration, and the held-out LUT error on ECP5 was 9.4% (ecp5) and 10.4% (ecp5-nodsp) with ECP5-only features for it; the same designs take 26% and 28% fewer LUT4s with `-nowidelut`. 7-series is synthesized with `synth_xilinx -nowidelut` likewise (ABC maps to LUT6s, not to 7- and 8-input functions joined by MUXF7/MUXF8 with a LUT1 buffer on every MUXF input that is not a LUT output): these designs take 7.9% (xc7) and 7.6% (xc7-nodsp) fewer LUTs, and the held-out LUT error with the wide functions was 6.5% and 6.6%. Those ECP5-only features were chosen by leave-one-out under the wide-LUT script and are kept, refitted: the products of arrays without an output rounder (`unrounded_*`) and a `*` merged with the sum costed `a*b*log2(a*b)` per PE (`merged_product_tree`, in place of the lone multiplier; see `ecp5_critical_path_features`) now fit at or near zero, and the special-value PEs of arrays with PE pipeline stages (`pipelined_special_pes`) keep a weight; carry and area keep the shared features. The features were chosen by leave-one-out error on the training designs (on ECP5 those of the first four walks; the fifth was drawn afterwards; the two pipeline features on all training designs, the pipelined walks' included), not on the held-out figures; the last column is that error on all training designs, each estimated by a fit on the others. FFs come from the generated structure, less what synthesis packs elsewhere: delay chains of 3 or more stages on Xilinx (SRL16E: the skew triangles, and the product and special-value flags of a 3-stage PE pipeline), the operand registers that feed only a DSP block (its input registers; integer operands, see `DspPacking`), the PE pipeline stages that carry a DSP block's product unchanged (DSP48E1's MREG and, unless it accumulates, PREG; SB_MAC16's pipeline register), and on Xilinx a fitted median number of further registers per DSP48E1. Carry MAPE on DSP targets is large because integer products accumulate inside the DSP block, leaving designs with 0 to 4 carry cells whose relative error the absolute carry fit does not aim at. DSP blocks are not fitted: they follow the rule of Yosys' `mul2dsp` mapping (minimum and maximum operand and product widths of each target's synthesis script). Data: `mac_points.csv` (every design and target, `held_out` marks the published ones); weights: `mac.json`. Reproduce with `cargo run --release -- calibrate` (synthesis is cached by design, target and Yosys version; `ACCGEN_MAC_FEATURES=file.csv` appends every design's parameters, measured LUTs and features per target, the data features are chosen on). Spiking cores have their own calibration in `spiking.md` (`accgen calibrate --family spiking`).\n\n",
        c.tool,
        first,
        points.len() - first,
        first - held,
        points.len() - held_ecp5,
    );
    s.push_str(
        "| target | LUT MAPE (held-out) | FF MAPE | carry MAPE | DSP exact | area MAPE | LUT leave-one-out (training) |\n|---|---|---|---|---|---|---|\n",
    );
    for target in Target::ALL {
        let mine: Vec<&Row> = rows
            .iter()
            .filter(|r| r.target == target && points[r.point].held_out)
            .collect();
        let luts: Vec<(f64, f64)> = mine
            .iter()
            .map(|r| {
                (
                    super::families::measured_luts(target, &r.measured.summary),
                    r.estimate.luts,
                )
            })
            .collect();
        let ffs: Vec<(f64, f64)> = mine
            .iter()
            .map(|r| (r.measured.summary.ffs as f64, r.estimate.ffs))
            .collect();
        let carry: Vec<(f64, f64)> = mine
            .iter()
            .map(|r| (r.measured.summary.carry as f64, r.estimate.carry))
            .collect();
        let dsp_ok = mine
            .iter()
            .filter(|r| r.measured.summary.dsp as f64 == r.estimate.dsp)
            .count();
        let area: Vec<(f64, f64)> = mine
            .iter()
            .filter_map(|r| Some((r.measured.summary.area_um2?, r.estimate.area_um2?)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {:.1}% | {:.1}% | {} | {}/{} | {} | {} |",
            target.name(),
            mape(&luts),
            mape(&ffs),
            if target == Target::Asic {
                "-".to_string()
            } else {
                format!("{:.1}%", mape(&carry))
            },
            dsp_ok,
            mine.len(),
            if area.is_empty() {
                "-".to_string()
            } else {
                format!("{:.1}%", mape(&area))
            },
            loo.iter()
                .find(|(t, _)| *t == target)
                .map_or("-".to_string(), |(_, e)| format!("{:.1}%", 100.0 * e)),
        );
    }
    // The pipelined designs apart: the walks before the pipelined ones
    // drew none, so their share of the error is worth seeing.
    let staged = |p: &Point| p.params.pipeline > 0 || p.params.output_stages() > 0;
    let _ = write!(
        s,
        "\nHeld-out LUT MAPE of the designs with register stages (PE pipeline or rounder stages) and of those without:"
    );
    for target in Target::ALL {
        let part = |pipelined: bool| {
            let pairs: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.target == target && points[r.point].held_out && staged(&points[r.point]) == pipelined)
                .map(|r| {
                    (
                        super::families::measured_luts(target, &r.measured.summary),
                        r.estimate.luts,
                    )
                })
                .collect();
            format!("{:.1}% of {}", mape(&pairs), pairs.len())
        };
        let _ = write!(s, " {} {} / {};", target.name(), part(true), part(false));
    }
    s.pop();
    s.push_str(".\n");
    s
}

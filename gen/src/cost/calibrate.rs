//! Calibration: synthesize a fixed set of MAC arrays on every target, fit
//! the model's weights on three quarters of them, and publish the error on
//! the quarter the fit never saw.

use super::fit::nnls;
use super::{Calibration, Estimate, TargetModel, estimate};
use crate::Failure;
use crate::synth::{Progress, SynthOptions, SynthResult, Target, synth_all};
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::mac::cost::{LogicFeatures, registers};
use accgen_hdl::mac::params::FormatSpec;
use accgen_hdl::mac::{MacArrayParams, MacArraySpec, MulImpl};
use accgen_hdl::minifloat::OnOverflow;
use std::fmt::Write;
use std::path::Path;

/// One calibration design.
#[derive(Clone, Debug)]
pub struct Point {
    pub name: String,
    pub params: MacArrayParams,
    /// Kept out of the fit; the published error is measured on these.
    pub held_out: bool,
}

/// The calibration set: 48 arrays of up to 4 x 4 PEs drawn deterministically across
/// shapes, integer and minifloat formats, dot lengths, multipliers and
/// output rounding. Every fourth is held out.
pub fn points() -> Vec<Point> {
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
    // A small linear congruential walk: deterministic and independent of
    // any crate's random number algorithm.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut pick = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut out = Vec::new();
    while out.len() < 48 {
        let (rows, cols) = SHAPES[pick(SHAPES.len())];
        let spec = MacArraySpec {
            rows,
            cols,
            dot_length: KS[pick(KS.len())],
            activations: FORMATS[pick(FORMATS.len())].into(),
            weights: FORMATS[pick(FORMATS.len())].into(),
            acc_width: None,
            overflow: None,
            multiplier: if pick(3) == 0 { MulImpl::Lut } else { MulImpl::Dsp },
            reset: ResetStyle::SyncHigh,
            output: OUTPUTS[pick(OUTPUTS.len())].map(|f| (FormatSpec::Name(f.into()), OnOverflow::Saturate)),
            pipeline: 0,
        };
        if let Ok(params) = spec.validate() {
            let i = out.len();
            out.push(Point {
                name: accgen_hdl::mac::array::name(&params),
                params,
                held_out: i % 4 == 3,
            });
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

/// The smallest significand product that Yosys put in a DSP block, if any.
fn dsp_threshold(points: &[Point], results: &[&SynthResult]) -> Option<u32> {
    points
        .iter()
        .zip(results)
        .filter(|(p, r)| p.params.multiplier == MulImpl::Dsp && r.summary.dsp > 0)
        .map(|(p, _)| p.params.act.sig_ty().width * p.params.wgt.sig_ty().width)
        .min()
}

/// Yosys' `shregmap` for Xilinx maps delay chains of 3 or more stages
/// (without resets on the stages) to SRL16E.
const SRL_MIN_LENGTH: u32 = 3;

/// Flip-flops DSP blocks absorb, per DSP, over the training points that
/// use DSPs: what the structural count (less shift registers) has beyond
/// the measured count.
fn ffs_per_dsp(model: &TargetModel, points: &[Point], results: &[&SynthResult], train: &[usize]) -> f64 {
    let mut per_dsp: Vec<f64> = Vec::new();
    for &i in train {
        let p = &points[i].params;
        if !super::uses_dsp(p, model) {
            continue;
        }
        let structural = registers(p).total()
            - model
                .shift_register_min_length
                .map_or(0, |m| accgen_hdl::mac::cost::shift_register_bits(p, m));
        per_dsp.push((structural as f64 - results[i].summary.ffs as f64) / (p.rows * p.cols) as f64);
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

/// Fit one target's weights on the training points.
fn fit_target(target: Target, points: &[Point], results: &[&SynthResult]) -> TargetModel {
    let train: Vec<usize> = (0..points.len()).filter(|&i| !points[i].held_out).collect();
    let mut model = TargetModel {
        target: target.name().to_string(),
        lut_intercept: 0.0,
        lut_weights: vec![0.0; 6],
        carry_intercept: 0.0,
        carry_weights: vec![0.0; 6],
        dsp_min_bits: if target.has_dsp() {
            dsp_threshold(
                &train.iter().map(|&i| points[i].clone()).collect::<Vec<_>>(),
                &train.iter().map(|&i| results[i]).collect::<Vec<_>>(),
            )
        } else {
            None
        },
        shift_register_min_length: (target.family() == crate::synth::Family::Xc7).then_some(SRL_MIN_LENGTH),
        ffs_per_dsp: 0.0,
        area_intercept: 0.0,
        area_per_ff: 0.0,
        area_weights: vec![0.0; 6],
    };
    model.ffs_per_dsp = ffs_per_dsp(&model, points, results, &train);
    let rows: Vec<Vec<f64>> = train
        .iter()
        .map(|&i| {
            let mut f = super::features(&points[i].params, &model).to_vec();
            f.push(1.0);
            f
        })
        .collect();
    // LUTs are fitted for relative error, the error that is published:
    // each design's equation is divided by its measured count, so small
    // designs weigh as much as large ones. Carry cells, a few per adder,
    // are fitted in absolute terms: their relative error on designs with
    // a handful of carries would dominate the fit.
    let solve = |y: &dyn Fn(&SynthResult) -> f64, relative: bool| {
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
        (x[6], x[..6].to_vec())
    };
    let luts = |r: &SynthResult| {
        if target == Target::Asic {
            r.summary.logic as f64
        } else {
            r.summary.luts as f64
        }
    };
    (model.lut_intercept, model.lut_weights) = solve(&luts, true);
    (model.carry_intercept, model.carry_weights) = solve(&|r: &SynthResult| r.summary.carry as f64, false);
    if target == Target::Asic {
        let rows_ff: Vec<Vec<f64>> = train
            .iter()
            .zip(&rows)
            .map(|(&i, f)| {
                let mut f = f.clone();
                f.push(registers(&points[i].params).total() as f64);
                f
            })
            .collect();
        let b: Vec<f64> = train
            .iter()
            .map(|&i| results[i].summary.area_um2.unwrap_or(0.0))
            .collect();
        let x = nnls(&rows_ff, &b);
        model.area_weights = x[..6].to_vec();
        model.area_intercept = x[6];
        model.area_per_ff = x[7];
    }
    model
}

/// Synthesize the calibration set on every target, fit, and write
/// `mac.json`, `mac_points.csv` and `README.md` into `out`.
pub fn run(out: &Path, threads: usize) -> Result<(), Failure> {
    let points = points();
    let prov = Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "calibration".into(),
        command: "accgen calibrate".into(),
    };
    let mut jobs = Vec::new();
    for target in Target::ALL {
        for p in &points {
            jobs.push((accgen_hdl::mac::design(&p.params, &prov), target));
        }
    }
    let options = SynthOptions {
        threads,
        ..SynthOptions::default()
    };
    let progress = |p: &Progress| {
        eprint!(
            "\rcalibration: {}/{} synthesized ({} cached, {} failed)   ",
            p.done, p.total, p.cached, p.failed
        );
    };
    let results = synth_all(&jobs, &options, &progress);
    eprintln!();
    let mut measured: Vec<SynthResult> = Vec::new();
    for (r, (design, target)) in results.into_iter().zip(&jobs) {
        measured.push(r.map_err(|e| {
            Failure::Run(format!(
                "error: calibration of {} on {}: {e}",
                design.top,
                target.name()
            ))
        })?);
    }
    let n = points.len();
    let tool = measured.first().map(|r| r.tool.clone()).unwrap_or_default();
    let mut models = Vec::new();
    let mut rows = Vec::new();
    for (t, target) in Target::ALL.into_iter().enumerate() {
        let slice: Vec<&SynthResult> = measured[t * n..(t + 1) * n].iter().collect();
        let model = fit_target(target, &points, &slice);
        for (i, p) in points.iter().enumerate() {
            rows.push(Row {
                point: i,
                target,
                measured: slice[i].clone(),
                estimate: estimate(&p.params, &model),
            });
        }
        models.push(model);
    }
    let calibration = Calibration {
        tool,
        features: LogicFeatures::NAMES.iter().map(|s| s.to_string()).collect(),
        targets: models,
    };
    std::fs::create_dir_all(out).map_err(|e| Failure::Run(format!("error: creating {}: {e}", out.display())))?;
    let json = serde_json::to_string_pretty(&calibration).map_err(|e| Failure::Run(e.to_string()))? + "\n";
    crate::output::write_atomic(&out.join("mac.json"), json.as_bytes()).map_err(Failure::Run)?;
    crate::output::write_atomic(&out.join("mac_points.csv"), points_csv(&points, &rows).as_bytes())
        .map_err(Failure::Run)?;
    let report = error_report(&calibration, &points, &rows);
    crate::output::write_atomic(&out.join("README.md"), report.as_bytes()).map_err(Failure::Run)?;
    println!("{report}");
    Ok(())
}

fn points_csv(points: &[Point], rows: &[Row]) -> String {
    let mut s = String::from(
        "design,target,held_out,luts,luts_est,ffs,ffs_est,carry,carry_est,dsp,dsp_est,area_um2,area_est\n",
    );
    for r in rows {
        let m = &r.measured.summary;
        let luts = if r.target == Target::Asic { m.logic } else { m.luts };
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
pub fn error_report(c: &Calibration, points: &[Point], rows: &[Row]) -> String {
    let held = points.iter().filter(|p| p.held_out).count();
    let mut s = format!(
        "# Cost model calibration: MAC arrays\n\nGenerated by `accgen calibrate` with {}. {} designs were synthesized on every target; the weights were fitted (non-negative least squares) on {} of them and the errors below are measured on the {held} held-out designs the fit never saw. FFs are not fitted: they come from the generated structure. Data: `mac_points.csv`; weights: `mac.json`.\n\n",
        c.tool,
        points.len(),
        points.len() - held
    );
    s.push_str(
        "| target | LUT MAPE (held-out) | FF MAPE | carry MAPE | DSP exact | area MAPE |\n|---|---|---|---|---|---|\n",
    );
    for target in Target::ALL {
        let mine: Vec<&Row> = rows
            .iter()
            .filter(|r| r.target == target && points[r.point].held_out)
            .collect();
        let luts: Vec<(f64, f64)> = mine
            .iter()
            .map(|r| {
                let m = &r.measured.summary;
                (
                    if target == Target::Asic { m.logic } else { m.luts } as f64,
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
            "| {} | {:.1}% | {:.1}% | {} | {}/{} | {} |",
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
        );
    }
    s
}

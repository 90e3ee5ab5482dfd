//! Calibration machinery shared by the spiking-core and hash-grid models:
//! synthesize a family's calibration set on every target (cached, in
//! parallel) and fit relative-error non-negative least squares.

use super::Estimate;
use super::calibrate::mape;
use super::fit::nnls;
use crate::Failure;
use crate::synth::Summary;
use crate::synth::{Family, Progress, SynthError, SynthOptions, SynthResult, Target, synth_all};
use accgen_hdl::Design;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// A deterministic linear congruential walk (independent of any crate's
/// random number algorithm, so the set never changes under an upgrade).
pub(crate) struct Walk(u64);

impl Walk {
    pub(crate) fn new(seed: u64) -> Walk {
        Walk(seed)
    }
    pub(crate) fn pick(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Opens the feature dump at `path` (`ACCGEN_*_FEATURES`) to append to,
/// creating it: each family and target appends its rows.
pub fn open_to_append(path: &std::path::Path) -> Result<std::fs::File, Failure> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Failure::Run(format!("error: {}: {e}", path.display())))
}

/// Synthesize `designs` on every target (`asic` only where `on_asic`
/// says so); `result[t][i]` is design `i` on `Target::ALL[t]`, `None` where
/// it was not synthesized.
pub fn synthesize(
    family: &str,
    designs: &[Design],
    on_asic: &[bool],
    threads: usize,
) -> Result<Vec<Vec<Option<SynthResult>>>, Failure> {
    synthesize_where(
        family,
        designs,
        &|i, target| target != Target::Asic || on_asic[i],
        threads,
    )
}

/// Synthesize design `i` of `designs` on each target `on(i, target)`
/// accepts; `result[t][i]` is design `i` on `Target::ALL[t]`, `None` where
/// it was not synthesized.
pub fn synthesize_where(
    family: &str,
    designs: &[Design],
    on: &dyn Fn(usize, Target) -> bool,
    threads: usize,
) -> Result<Vec<Vec<Option<SynthResult>>>, Failure> {
    let mut jobs = Vec::new();
    let mut slots = Vec::new();
    // Design by design, every target of one before the next: an
    // interrupted run leaves complete points in the cache.
    for (i, d) in designs.iter().enumerate() {
        for (t, target) in Target::ALL.into_iter().enumerate() {
            if on(i, target) {
                jobs.push((d.clone(), target));
                slots.push((t, i));
            }
        }
    }
    let results = synthesize_jobs(&format!("calibration of {family}"), &jobs, threads)?;
    let mut out: Vec<Vec<Option<SynthResult>>> = vec![vec![None; designs.len()]; Target::ALL.len()];
    for (r, &(t, i)) in results.into_iter().zip(&slots) {
        out[t][i] = Some(r);
    }
    Ok(out)
}

/// Synthesize `jobs` (cached, `threads` at a time) with a progress line
/// headed `label`; each job's result or error.
pub fn synthesize_each(label: &str, jobs: &[(Design, Target)], threads: usize) -> Vec<Result<SynthResult, SynthError>> {
    let options = SynthOptions {
        threads,
        ..SynthOptions::default()
    };
    let progress = |p: &Progress| {
        eprint!(
            "\r{label}: {}/{} synthesized ({} cached, {} failed)   ",
            p.done, p.total, p.cached, p.failed
        );
    };
    let results = synth_all(jobs, &options, &progress);
    eprintln!();
    results
}

/// [`synthesize_each`], with the first failure as the error.
pub fn synthesize_jobs(label: &str, jobs: &[(Design, Target)], threads: usize) -> Result<Vec<SynthResult>, Failure> {
    synthesize_each(label, jobs, threads)
        .into_iter()
        .zip(jobs)
        .map(|(r, (design, target))| {
            r.map_err(|e| {
                Failure::Run(format!(
                    "error: calibration of {} on {}: {e}",
                    design.top,
                    target.name()
                ))
            })
        })
        .collect()
}

/// Fitted weights of one family on one target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FamilyTargetModel {
    pub target: String,
    /// LUTs (`asic`: combinational cells) = intercept + sum(weights[i] * feature[i]).
    pub lut_intercept: f64,
    pub lut_weights: Vec<f64>,
    pub carry_intercept: f64,
    pub carry_weights: Vec<f64>,
    /// How products map to DSP blocks; `None` when the target has none.
    pub dsp: Option<DspShape>,
    /// Flip-flops synthesis adds around a memory in block RAM, per memory,
    /// as weights of (word width, address bits, 1): zero where the read
    /// register goes into the RAM, about a word and an address on iCE40,
    /// where Yosys emulates the read-first behaviour with registers.
    #[serde(default)]
    pub block_memory_ffs: Vec<f64>,
    /// The same for memories in LUT RAM (7-series adds a few address
    /// registers to a LUT RAM read port).
    #[serde(default)]
    pub lut_memory_ffs: Vec<f64>,
    /// ASIC area (um^2) = intercept + per_ff * FFs + sum(weights * features), `asic` only.
    pub area_intercept: f64,
    pub area_per_ff: f64,
    pub area_weights: Vec<f64>,
}

/// A family's calibration file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FamilyCalibration {
    pub tool: String,
    pub family: String,
    pub features: Vec<String>,
    pub targets: Vec<FamilyTargetModel>,
}

impl FamilyCalibration {
    pub fn model(&self, target: Target) -> Option<&FamilyTargetModel> {
        self.targets.iter().find(|m| m.target == target.name())
    }
}

impl FamilyTargetModel {
    /// An unfitted model of `features` weights.
    pub fn empty(target: Target, features: usize) -> FamilyTargetModel {
        FamilyTargetModel {
            target: target.name().to_string(),
            lut_intercept: 0.0,
            lut_weights: vec![0.0; features],
            carry_intercept: 0.0,
            carry_weights: vec![0.0; features],
            dsp: None,
            block_memory_ffs: vec![0.0; 3],
            lut_memory_ffs: vec![0.0; 3],
            area_intercept: 0.0,
            area_per_ff: 0.0,
            area_weights: vec![0.0; features],
        }
    }

    /// LUTs, carry cells and area from `features` and the FF count.
    pub fn logic(&self, features: &[f64], ffs: f64) -> (f64, f64, Option<f64>) {
        let dot = |w: &[f64]| w.iter().zip(features).map(|(a, b)| a * b).sum::<f64>();
        (
            self.lut_intercept + dot(&self.lut_weights),
            self.carry_intercept + dot(&self.carry_weights),
            (self.target == "asic").then(|| self.area_intercept + self.area_per_ff * ffs + dot(&self.area_weights)),
        )
    }

    /// Flip-flops added around memories of `(width, address bits)` in
    /// block RAM and in LUT RAM.
    pub fn memory_ffs(&self, block: &[(u32, u32)], lut: &[(u32, u32)]) -> f64 {
        let sum = |w: &[f64], ms: &[(u32, u32)]| {
            let w = |i: usize| w.get(i).copied().unwrap_or(0.0);
            ms.iter()
                .map(|&(width, abits)| w(0) * width as f64 + w(1) * abits as f64 + w(2))
                .sum::<f64>()
        };
        sum(&self.block_memory_ffs, block) + sum(&self.lut_memory_ffs, lut)
    }

    /// DSP blocks a `wa` x `wb` product takes.
    pub fn dsp_blocks(&self, wa: u32, wb: u32) -> u64 {
        self.dsp.map_or(0, |d| d.blocks(wa, wb))
    }
}

/// The measured LUT figure: LUTs, or combinational cells on `asic`.
pub fn measured_luts(target: Target, s: &Summary) -> f64 {
    (if target == Target::Asic { s.logic } else { s.luts }) as f64
}

/// Mean absolute relative LUT error (cells on `asic`) of each `training`
/// design estimated by a model fitted on the other training designs: what
/// a family's features are chosen on. `luts_without(i)` refits without
/// design `i` and estimates it.
pub fn leave_one_out_lut_error(
    target: Target,
    training: impl Iterator<Item = usize>,
    measured: &[&SynthResult],
    luts_without: impl Fn(usize) -> f64,
) -> f64 {
    let errors: Vec<f64> = training
        .map(|i| {
            let m = measured_luts(target, &measured[i].summary);
            (luts_without(i) - m).abs() / m.max(1.0)
        })
        .collect();
    errors.iter().sum::<f64>() / errors.len().max(1) as f64
}

/// Fit LUT, carry and area weights of `model` on training rows: `features`
/// of each training design and its measured summary and estimated FFs.
/// LUTs are fitted for relative error (the published one); carry cells in
/// absolute terms; area against features and FFs.
pub fn fit_logic(model: &mut FamilyTargetModel, target: Target, rows: &[(Vec<f64>, &Summary, f64)]) {
    let n = rows.first().map_or(0, |r| r.0.len());
    let with_one = |f: &[f64]| {
        let mut v = f.to_vec();
        v.push(1.0);
        v
    };
    let solve = |y: &dyn Fn(&Summary) -> f64, relative: bool| {
        let a: Vec<Vec<f64>> = rows
            .iter()
            .map(|(f, s, _)| {
                let w = if relative { 1.0 / y(s).max(1.0) } else { 1.0 };
                with_one(f).iter().map(|x| x * w).collect()
            })
            .collect();
        let b: Vec<f64> = rows
            .iter()
            .map(|(_, s, _)| if relative { y(s) / y(s).max(1.0) } else { y(s) })
            .collect();
        let x = nnls(&a, &b);
        (x[n], x[..n].to_vec())
    };
    (model.lut_intercept, model.lut_weights) = solve(&|s| measured_luts(target, s), true);
    (model.carry_intercept, model.carry_weights) = solve(&|s| s.carry as f64, false);
    if target == Target::Asic {
        let a: Vec<Vec<f64>> = rows
            .iter()
            .map(|(f, s, ffs)| {
                let w = 1.0 / s.area_um2.unwrap_or(1.0).max(1.0);
                let mut v = with_one(f);
                v.push(*ffs);
                v.iter().map(|x| x * w).collect()
            })
            .collect();
        let b: Vec<f64> = rows.iter().map(|_| 1.0).collect();
        let x = nnls(&a, &b);
        model.area_weights = x[..n].to_vec();
        model.area_intercept = x[n];
        model.area_per_ff = x[n + 1];
    }
}

/// Measured and estimated figures of one design on one target.
#[derive(Clone, Debug)]
pub struct Row {
    pub design: String,
    pub target: Target,
    pub held_out: bool,
    pub measured: Summary,
    pub estimate: Estimate,
}

/// The points CSV: one line per design and target.
pub fn points_csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "design,target,held_out,luts,luts_est,ffs,ffs_est,carry,carry_est,dsp,dsp_est,bram,bram_est,area_um2,area_est\n",
    );
    for r in rows {
        let m = &r.measured;
        let _ = writeln!(
            s,
            "{},{},{},{},{:.1},{},{:.0},{},{:.1},{},{:.0},{},{:.0},{},{}",
            r.design,
            r.target.name(),
            r.held_out,
            measured_luts(r.target, m),
            r.estimate.luts,
            m.ffs,
            r.estimate.ffs,
            m.carry,
            r.estimate.carry,
            m.dsp,
            r.estimate.dsp,
            m.bram,
            r.estimate.bram,
            m.area_um2.map(|a| format!("{a:.1}")).unwrap_or_default(),
            r.estimate.area_um2.map(|a| format!("{a:.1}")).unwrap_or_default(),
        );
    }
    s
}

/// Held-out errors of one target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetErrors {
    pub designs: usize,
    pub lut_mape: f64,
    pub ff_mape: f64,
    pub carry_mape: f64,
    pub dsp_exact: usize,
    pub bram_exact: usize,
    pub area_mape: Option<f64>,
}

/// The errors on the held-out rows of `target`.
pub fn held_out_errors(rows: &[Row], target: Target) -> TargetErrors {
    let mine: Vec<&Row> = rows.iter().filter(|r| r.target == target && r.held_out).collect();
    let pairs = |m: &dyn Fn(&Row) -> (f64, f64)| mine.iter().map(|r| m(r)).collect::<Vec<_>>();
    let area: Vec<(f64, f64)> = mine
        .iter()
        .filter_map(|r| Some((r.measured.area_um2?, r.estimate.area_um2?)))
        .collect();
    TargetErrors {
        designs: mine.len(),
        lut_mape: mape(&pairs(&|r| (measured_luts(target, &r.measured), r.estimate.luts))),
        ff_mape: mape(&pairs(&|r| (r.measured.ffs as f64, r.estimate.ffs))),
        carry_mape: mape(&pairs(&|r| (r.measured.carry as f64, r.estimate.carry))),
        dsp_exact: mine.iter().filter(|r| r.measured.dsp as f64 == r.estimate.dsp).count(),
        bram_exact: mine
            .iter()
            .filter(|r| r.measured.bram as f64 == r.estimate.bram)
            .count(),
        area_mape: (!area.is_empty()).then(|| mape(&area)),
    }
}

/// The published error table of a family (Markdown), held-out rows only.
pub fn error_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| target | designs | LUT MAPE | FF MAPE | carry MAPE | DSP exact | BRAM exact | area MAPE |\n|---|---|---|---|---|---|---|---|\n",
    );
    for target in Target::ALL {
        let e = held_out_errors(rows, target);
        if e.designs == 0 {
            continue;
        }
        let _ = writeln!(
            s,
            "| {} | {} | {:.1}% | {:.1}% | {} | {}/{} | {}/{} | {} |",
            target.name(),
            e.designs,
            e.lut_mape,
            e.ff_mape,
            if target == Target::Asic {
                "-".to_string()
            } else {
                format!("{:.1}%", e.carry_mape)
            },
            e.dsp_exact,
            e.designs,
            e.bram_exact,
            e.designs,
            e.area_mape.map_or("-".to_string(), |a| format!("{a:.1}%")),
        );
    }
    s
}

/// Write `<family>.json`, `<family>_points.csv` and `<family>.md` into `out`.
pub fn write_outputs(
    out: &std::path::Path,
    calibration: &FamilyCalibration,
    rows: &[Row],
    intro: &str,
) -> Result<String, Failure> {
    std::fs::create_dir_all(out).map_err(|e| Failure::Run(format!("error: creating {}: {e}", out.display())))?;
    let family = &calibration.family;
    let json = serde_json::to_string_pretty(calibration).map_err(|e| Failure::Run(e.to_string()))? + "\n";
    crate::output::write_atomic(&out.join(format!("{family}.json")), json.as_bytes()).map_err(Failure::Run)?;
    crate::output::write_atomic(&out.join(format!("{family}_points.csv")), points_csv(rows).as_bytes())
        .map_err(Failure::Run)?;
    let report = format!("{intro}\n\n{}", error_table(rows));
    crate::output::write_atomic(&out.join(format!("{family}.md")), report.as_bytes()).map_err(Failure::Run)?;
    Ok(report)
}

/// How Yosys' `mul2dsp` splits a product over DSP blocks: operand `a` in
/// pieces of at most `a` bits (the last one the remainder), each piece
/// times `b` one block, unless the piece's product has fewer than
/// `min_product` bits (those stay in LUTs).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DspShape {
    pub a: u32,
    pub b: u32,
    pub min_product: u32,
}

impl DspShape {
    /// Blocks for a `wa` x `wb` product (either order).
    pub fn blocks(&self, wa: u32, wb: u32) -> u64 {
        let (wa, wb) = (wa.max(wb), wa.min(wb));
        let pieces_b = wb.div_ceil(self.b) as u64;
        let mut n = 0;
        let mut left = wa;
        while left > 0 {
            let piece = left.min(self.a);
            if piece + wb.min(self.b) >= self.min_product {
                n += pieces_b;
            }
            left -= piece;
        }
        n
    }
}

/// The DSP block of each FPGA family: operand widths of 7-series DSP48E1
/// (25 x 18), iCE40 SB_MAC16 (16 x 16) and ECP5 MULT18X18D (18 x 18);
/// the smallest product Yosys gives a block is fitted.
pub fn dsp_operands(target: Target) -> (u32, u32) {
    match target.family() {
        Family::Xc7 => (25, 18),
        Family::Ice40 => (16, 16),
        _ => (18, 18),
    }
}

/// The DSP shape that makes the most training designs exact: `products`
/// per design lists the (wa, wb) of its products, `measured` its DSP count.
pub fn fit_dsp_shape(target: Target, products: &[Vec<(u32, u32)>], measured: &[u64]) -> DspShape {
    let (a, b) = dsp_operands(target);
    // A signed operand split into pieces spends a bit on the sign: try the
    // block's width and one less.
    [a, a - 1]
        .into_iter()
        .flat_map(|a| (2..=16).map(move |min_product| DspShape { a, b, min_product }))
        .max_by_key(|shape| {
            products
                .iter()
                .zip(measured)
                .filter(|(ps, d)| ps.iter().map(|&(x, y)| shape.blocks(x, y)).sum::<u64>() == **d)
                .count()
        })
        .unwrap_or(DspShape { a, b, min_product: 9 })
}

/// Memories of a design as (word width, address bits).
pub type Memories = Vec<(u32, u32)>;

/// Fit the memory FF weights: `memories` holds each training design's
/// (block-RAM, LUT-RAM) memories as (width, address bits), `residual` its
/// measured FFs minus the structural count (read registers absorbed by
/// block RAMs, kept by LUT RAMs). Returns (block weights, LUT weights).
pub fn fit_memory_ffs(memories: &[(Memories, Memories)], residual: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let rows: Vec<Vec<f64>> = memories
        .iter()
        .map(|(block, lut)| {
            let mut f = vec![0.0; 6];
            for (k, ms) in [block, lut].into_iter().enumerate() {
                for &(w, a) in ms {
                    f[3 * k] += w as f64;
                    f[3 * k + 1] += a as f64;
                    f[3 * k + 2] += 1.0;
                }
            }
            f
        })
        .collect();
    // Columns no design exercises stay zero.
    let x = nnls(&rows, residual);
    (x[..3].to_vec(), x[3..].to_vec())
}

/// What the shared fit reads of one training design: its structural
/// flip-flops, memories (block RAM, LUT RAM) and logic features.
pub struct Structural {
    pub ffs: u64,
    pub block_memories: Memories,
    pub lut_memories: Memories,
    pub features: Vec<f64>,
}

/// Fit a family model's memory flip-flops to what the structure leaves
/// unexplained, then its LUT, carry and area weights, on the training
/// designs with their measured summaries.
pub fn fit_ffs_and_logic(model: &mut FamilyTargetModel, target: Target, train: &[(Structural, &Summary)]) {
    (model.block_memory_ffs, model.lut_memory_ffs) = fit_memory_ffs(
        &train
            .iter()
            .map(|(c, _)| (c.block_memories.clone(), c.lut_memories.clone()))
            .collect::<Vec<_>>(),
        &train
            .iter()
            .map(|(c, m)| m.ffs as f64 - c.ffs as f64)
            .collect::<Vec<_>>(),
    );
    let rows: Vec<(Vec<f64>, &Summary, f64)> = train
        .iter()
        .map(|(c, m)| {
            let ffs = c.ffs as f64 + model.memory_ffs(&c.block_memories, &c.lut_memories);
            (c.features.clone(), *m, ffs)
        })
        .collect();
    fit_logic(model, target, &rows);
}

/// Parse `--target` names (all targets when empty).
pub fn parse_targets(targets: &[String]) -> Result<Vec<Target>, Failure> {
    if targets.is_empty() {
        return Ok(Target::ALL.to_vec());
    }
    targets
        .iter()
        .map(|t| t.parse::<Target>().map_err(|e| Failure::Input(format!("error: {e}"))))
        .collect()
}

/// Print estimates per target, each with Yosys' figures below it when
/// `design` is given (`accgen cost --synth`).
pub fn print_estimates(
    targets: &[Target],
    estimate: &dyn Fn(Target) -> Result<Estimate, Failure>,
    design: Option<&Design>,
) -> Result<(), Failure> {
    let measured = match design {
        Some(d) => {
            let jobs: Vec<_> = targets.iter().map(|&t| (d.clone(), t)).collect();
            synth_all(&jobs, &SynthOptions::default(), &|_| {})
        }
        None => Vec::new(),
    };
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>5} {:>5} {:>12}",
        "target", "LUTs", "FFs", "carry", "DSP", "BRAM", "area um^2"
    );
    let area = |a: Option<f64>| a.map(|a| format!("{a:.0}")).unwrap_or_else(|| "-".into());
    for (i, &target) in targets.iter().enumerate() {
        let e = estimate(target)?;
        println!(
            "{:<12} {:>9.0} {:>9.0} {:>9.0} {:>5.0} {:>5.0} {:>12}",
            target.name(),
            e.luts,
            e.ffs,
            e.carry,
            e.dsp,
            e.bram,
            area(e.area_um2)
        );
        match measured.get(i) {
            Some(Ok(r)) => {
                let s = &r.summary;
                println!(
                    "{:<12} {:>9} {:>9} {:>9} {:>5} {:>5} {:>12}  ({}{})",
                    "  synth",
                    measured_luts(target, s),
                    s.ffs,
                    s.carry,
                    s.dsp,
                    s.bram,
                    area(s.area_um2),
                    r.tool,
                    if r.cached { ", cached" } else { "" }
                );
            }
            Some(Err(e)) => println!("  synth failed: {e}"),
            None => {}
        }
    }
    Ok(())
}

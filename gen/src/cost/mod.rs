//! The cost model: estimates of a MAC array's resources on each synthesis
//! target, from its configuration alone, calibrated against Yosys.
//!
//! - Flip-flops come from the generated structure
//!   ([`accgen_hdl::mac::cost::registers`]), not from a fit.
//! - LUTs and carry cells are non-negative weighted sums of logic features
//!   ([`accgen_hdl::mac::cost::logic_features`]) plus a constant, with
//!   weights fitted per target on a calibration set ([`calibrate`]).
//! - DSP blocks: one per PE multiplier when the target maps it to a DSP,
//!   which Yosys does from a per-target minimum product size, also found by
//!   calibration.
//!
//! The fitted weights are committed in `reports/calibration/mac.json` and
//! compiled in, so estimating needs no tools and takes microseconds.

pub mod calibrate;
pub mod families;
pub mod fit;
pub mod hashgrid;
pub mod memory;
pub mod spiking;

use crate::synth::Target;
use accgen_hdl::mac::cost::{logic_features, registers, shift_register_bits};
use accgen_hdl::mac::{MacArrayParams, MulImpl};
use serde::{Deserialize, Serialize};

/// The committed calibration.
pub const CALIBRATION: &str = include_str!("../../../reports/calibration/mac.json");

/// Fitted weights of one target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TargetModel {
    pub target: String,
    /// LUTs = intercept + sum(weights[i] * feature[i]).
    pub lut_intercept: f64,
    pub lut_weights: Vec<f64>,
    pub carry_intercept: f64,
    pub carry_weights: Vec<f64>,
    /// Products of at least this many significand bits (`sig_a * sig_b`)
    /// go to a DSP block; `None` when the target has none.
    pub dsp_min_bits: Option<u32>,
    /// Delay chains of at least this many stages become shift-register
    /// LUTs, not flip-flops (Xilinx); `None` where synthesis keeps them.
    #[serde(default)]
    pub shift_register_min_length: Option<u32>,
    /// Flip-flops a DSP block absorbs into its own pipeline registers, on
    /// average (fitted; zero without DSPs).
    #[serde(default)]
    pub ffs_per_dsp: f64,
    /// ASIC area (um^2) = intercept + per_ff * FFs + sum(weights * features), `asic` only.
    pub area_intercept: f64,
    pub area_per_ff: f64,
    pub area_weights: Vec<f64>,
}

/// The calibration file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    pub tool: String,
    pub features: Vec<String>,
    pub targets: Vec<TargetModel>,
}

/// Estimated resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub luts: f64,
    pub ffs: f64,
    pub carry: f64,
    pub dsp: f64,
    pub bram: f64,
    pub area_um2: Option<f64>,
}

impl Calibration {
    /// The compiled-in calibration.
    pub fn builtin() -> Result<Calibration, String> {
        serde_json::from_str(CALIBRATION).map_err(|e| format!("error: the built-in calibration is unreadable: {e}"))
    }

    pub fn model(&self, target: Target) -> Option<&TargetModel> {
        self.targets.iter().find(|m| m.target == target.name())
    }
}

/// Whether a PE's multiplier lands in a DSP block on `target`.
pub fn uses_dsp(p: &MacArrayParams, model: &TargetModel) -> bool {
    let bits = p.act.sig_ty().width * p.wgt.sig_ty().width;
    p.multiplier == MulImpl::Dsp && model.dsp_min_bits.is_some_and(|min| bits >= min)
}

/// The features the fitted weights multiply: logic features, with the
/// multiplier's share moved out when it goes to a DSP.
pub fn features(p: &MacArrayParams, model: &TargetModel) -> [f64; 6] {
    let mut f = logic_features(p).as_array();
    if uses_dsp(p, model) {
        f[0] = 0.0;
    }
    f
}

/// Estimate a MAC array's resources on one target.
pub fn estimate(p: &MacArrayParams, model: &TargetModel) -> Estimate {
    let f = features(p, model);
    let dot = |w: &[f64]| w.iter().zip(f).map(|(a, b)| a * b).sum::<f64>();
    let luts = model.lut_intercept + dot(&model.lut_weights);
    let dsp = if uses_dsp(p, model) {
        (p.rows * p.cols) as f64
    } else {
        0.0
    };
    let shift_registers = model
        .shift_register_min_length
        .map_or(0, |min| shift_register_bits(p, min));
    let ffs = (registers(p).total() - shift_registers) as f64 - model.ffs_per_dsp * dsp;
    Estimate {
        luts,
        ffs,
        carry: model.carry_intercept + dot(&model.carry_weights),
        dsp,
        bram: 0.0,
        area_um2: (model.target == "asic")
            .then(|| model.area_intercept + model.area_per_ff * ffs + dot(&model.area_weights)),
    }
}

/// `accgen cost`: the estimate on each target, and with `synth` the
/// synthesized figures beside it.
pub fn run(config: &crate::config::Config, targets: &[String], synth: bool) -> Result<(), crate::Failure> {
    use crate::Failure;
    let p = match &config.block {
        crate::config::Block::MacArray(p) => p,
        crate::config::Block::HashGrid(p) => return hash_grid(config, p, targets, synth),
        crate::config::Block::SpikingCore(_) | crate::config::Block::SpikingChain(..) => {
            let d = spiking::of_block(&config.block).unwrap_or_else(|| unreachable!("a spiking block"));
            return spiking::run_cost(config, &d, targets, synth);
        }
    };
    let targets: Vec<Target> = if targets.is_empty() {
        Target::ALL.to_vec()
    } else {
        targets
            .iter()
            .map(|t| t.parse::<Target>().map_err(|e| Failure::Input(format!("error: {e}"))))
            .collect::<Result<_, _>>()?
    };
    let calibration = Calibration::builtin().map_err(Failure::Run)?;
    let design = synth.then(|| config.design(&format!("accgen cost {}", config.origin)));
    let measured = match &design {
        Some(d) => {
            let jobs: Vec<_> = targets.iter().map(|&t| (d.clone(), t)).collect();
            crate::synth::synth_all(&jobs, &crate::synth::SynthOptions::default(), &|_| {})
        }
        None => Vec::new(),
    };
    println!(
        "{} ({}), cost model calibrated with {}",
        config.name,
        accgen_hdl::mac::array::name(p),
        calibration.tool
    );
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>5} {:>12}",
        "target", "LUTs", "FFs", "carry", "DSP", "area um^2"
    );
    for (i, target) in targets.iter().enumerate() {
        let Some(model) = calibration.model(*target) else {
            return Err(Failure::Run(format!(
                "error: no calibration for target {}",
                target.name()
            )));
        };
        let e = estimate(p, model);
        let area = |a: Option<f64>| a.map(|a| format!("{a:.0}")).unwrap_or_else(|| "-".into());
        println!(
            "{:<12} {:>9.0} {:>9.0} {:>9.0} {:>5.0} {:>12}",
            target.name(),
            e.luts,
            e.ffs,
            e.carry,
            e.dsp,
            area(e.area_um2)
        );
        if let Some(result) = measured.get(i) {
            match result {
                Ok(r) => {
                    let s = &r.summary;
                    let luts = if *target == Target::Asic { s.logic } else { s.luts };
                    println!(
                        "{:<12} {:>9} {:>9} {:>9} {:>5} {:>12}  ({}{})",
                        "  synth",
                        luts,
                        s.ffs,
                        s.carry,
                        s.dsp,
                        area(s.area_um2),
                        r.tool,
                        if r.cached { ", cached" } else { "" }
                    );
                }
                Err(e) => println!("  synth failed: {e}"),
            }
        }
    }
    Ok(())
}

/// `accgen cost` for a hash grid: memory bits and block-RAM primitives from
/// the configuration; with `synth`, Yosys' figures on the given targets
/// (default ice40 and xc7).
fn hash_grid(
    config: &crate::config::Config,
    p: &accgen_hdl::hashgrid::HashGridParams,
    targets: &[String],
    synth: bool,
) -> Result<(), crate::Failure> {
    use crate::Failure;
    let m = accgen_hdl::hashgrid::cost::memory(p);
    println!("accgen cost: {} from {}", config.name, config.origin);
    println!(
        "throughput: 1 point per cycle, {} table entries read per cycle (L x 2^D), latency {} cycles",
        m.entries_per_cycle,
        accgen_hdl::hashgrid::engine::LATENCY
    );
    println!(
        "memory: {} bits in {} banks ({} replica(s) of an even/odd bank pair per level)",
        m.bits,
        m.banks,
        p.replicas()
    );
    for (name, n) in &m.primitives {
        println!("  {name:<20} {n}");
    }
    if synth {
        let targets: Vec<Target> = if targets.is_empty() {
            vec![Target::Ice40 { dsp: true }, Target::Xc7 { dsp: true }]
        } else {
            targets
                .iter()
                .map(|t| t.parse::<Target>().map_err(|e| Failure::Input(format!("error: {e}"))))
                .collect::<Result<_, _>>()?
        };
        let design = config.design(&format!("accgen cost {}", config.origin));
        let jobs: Vec<_> = targets.iter().map(|&t| (design.clone(), t)).collect();
        for r in crate::synth::synth_all(&jobs, &crate::synth::SynthOptions::default(), &|_| {}) {
            let r = r.map_err(|e| Failure::Run(format!("error: {e}")))?;
            println!(
                "Yosys {:?}: {} block RAM, {} LUT RAM, {} LUTs, {} FFs, {} DSPs",
                r.target, r.summary.bram, r.summary.lutram, r.summary.luts, r.summary.ffs, r.summary.dsp
            );
        }
    }
    Ok(())
}

/// The block families `accgen calibrate --family` covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    Mac,
    Spiking,
    Hashgrid,
    All,
}

/// `accgen calibrate --family F`: synthesize the family's calibration set,
/// fit its model and publish the held-out error (all three with `all`).
pub fn calibrate_family(
    family: Family,
    points: Option<usize>,
    out: &std::path::Path,
    threads: usize,
) -> Result<(), crate::Failure> {
    if matches!(family, Family::Mac | Family::All) {
        calibrate::run(out, threads)?;
    }
    if matches!(family, Family::Spiking | Family::All) {
        spiking::calibrate(points, out, threads)?;
    }
    if matches!(family, Family::Hashgrid | Family::All) {
        hashgrid::calibrate(points, out, threads)?;
    }
    Ok(())
}

//! What exploration needs of each block family, in one place: how a point
//! is described, its cost model estimate, and the workload that scores it.
//! A new family adds an arm to each function here.

use super::Kind;
use crate::accuracy::quant::QFormat;
use crate::config::{Block, Config};
use crate::cost::{Calibration, Estimate, estimate as mac_estimate};
use crate::synth::Target;
use accgen_hdl::mac::operand::Operand;
use accgen_hdl::mac::params::FormatSpec;

/// A point as the report shows it.
pub struct Described {
    /// The top module.
    pub design: String,
    /// Integer, minifloat or mixed arithmetic, where the family has a choice.
    pub kind: Option<Kind>,
    /// The number formats, e.g. `int8 x uint8` (weights x activations) or a
    /// hash grid's table format.
    pub formats: Option<String>,
}

fn kind(act: &Operand, wgt: &Operand) -> Kind {
    match (act, wgt) {
        (Operand::Int(_), Operand::Int(_)) => Kind::Integer,
        (Operand::Float(_), Operand::Float(_)) => Kind::Minifloat,
        _ => Kind::Mixed,
    }
}

/// A MAC operand as a workload format.
pub fn qformat(op: &Operand) -> QFormat {
    let spec = match op {
        Operand::Int(i) => FormatSpec::Name(i.to_string()),
        Operand::Float(f) => FormatSpec::Float {
            exponent: f.exp_bits.into(),
            mantissa: f.man_bits.into(),
            bias: Some(f.bias.into()),
            specials: f.specials,
            subnormals: f.subnormals,
        },
    };
    QFormat { spec, operand: *op }
}

pub fn describe(config: &Config) -> Described {
    match &config.block {
        Block::MacArray(p) => Described {
            design: accgen_hdl::mac::array::name(p),
            kind: Some(kind(&p.act, &p.wgt)),
            formats: Some(format!("{} x {}", qformat(&p.wgt), qformat(&p.act))),
        },
        Block::HashGrid(p) => Described {
            design: accgen_hdl::hashgrid::engine::name(p),
            kind: None,
            formats: Some(p.entry.tag()),
        },
        Block::SpikingCore(p) | Block::SpikingChain(p, _) => Described {
            design: match &config.block {
                Block::SpikingChain(a, b) => accgen_hdl::spiking::core::chain_name(a, b),
                _ => p.top_name(),
            },
            kind: None,
            formats: Some(format!("w{} v{}", p.weight_width, p.neuron.membrane.width)),
        },
    }
}

/// The cost model's estimate on `target`, or why there is none: the MAC
/// model, or the hash-grid and spiking families' calibrated models.
pub fn estimate(config: &Config, target: Target, calibration: &Calibration) -> Result<Estimate, String> {
    match &config.block {
        Block::MacArray(p) => calibration
            .model(target)
            .map(|m| mac_estimate(p, m))
            .ok_or_else(|| format!("no cost model for target {}", target.name())),
        Block::HashGrid(p) => crate::cost::hashgrid::estimate_builtin(p, target),
        Block::SpikingCore(_) | Block::SpikingChain(..) => {
            let d = crate::cost::spiking::of_block(&config.block).unwrap_or_else(|| unreachable!("a spiking block"));
            crate::cost::spiking::estimate_builtin(&d, target)
        }
    }
}

/// Block RAM primitives for memories of `(depth, width)`, each in the shape
/// that needs the fewest; on 7-series a RAMB18 or a RAMB36, whichever
/// takes fewer cells. `None` on `asic`. Synthesis may put a small memory in
/// LUT RAM or flip-flops instead: the estimate is an upper bound there.
pub fn block_rams(memories: &[(u32, u32)], target: Target) -> Option<f64> {
    use crate::synth::Family;
    use accgen_hdl::hashgrid::cost::{ECP5_DP16KD, ICE40_4K, RAMB18, RAMB36};
    let count = |d: u32, w: u32| match target.family() {
        Family::Xc7 => Some(RAMB36.count(d, w).min(RAMB18.count(d, w))),
        Family::Ice40 => Some(ICE40_4K.count(d, w)),
        Family::Ecp5 => Some(ECP5_DP16KD.count(d, w)),
        Family::Asic => None,
    };
    memories
        .iter()
        .map(|&(d, w)| count(d, w))
        .sum::<Option<u64>>()
        .map(|n| n as f64)
}

/// What the estimate leaves out, for the report's notes: nothing today
/// (every family has a calibrated model).
pub fn model_note(config: &Config) -> Option<&'static str> {
    match &config.block {
        Block::MacArray(_) | Block::SpikingCore(_) | Block::SpikingChain(..) | Block::HashGrid(_) => None,
    }
}

/// The workload evaluation a point needs; points with equal jobs share one
/// evaluation.
#[derive(Clone, Debug)]
pub enum Job {
    /// The digits classifier quantized to (weights, activations).
    Digits(QFormat, QFormat),
    /// The hash grid's features against tiny-cuda-nn's reference encoding
    /// (f32) on the same tables: their SQNR.
    HashGridFidelity(Box<accgen_hdl::hashgrid::HashGridParams>),
    /// The digits classifier converted to a two-layer spiking network with
    /// the core's weight and membrane widths, run for the study's time
    /// steps (`vary: {steps: [...]}`, default [`SPIKING_STEPS`]) through
    /// the cores' golden model.
    SpikingDigits(crate::accuracy::snn::Budget),
}

/// Time steps of the spiking digits workload when a study does not vary them.
pub const SPIKING_STEPS: u32 = 16;

impl Job {
    /// Equal keys, equal results.
    pub fn key(&self) -> String {
        match self {
            Job::Digits(w, a) => format!("digits {} {}", w.label(), a.label()),
            Job::HashGridFidelity(p) => format!("hashgrid {}", p.tag()),
            Job::SpikingDigits(b) => format!("snn {} {} {}", b.steps, b.weight_bits, b.membrane_bits),
        }
    }
}

/// The job of a point; `steps` are a spiking study's time steps, when it
/// varies them (else [`SPIKING_STEPS`]).
pub fn job(config: &Config, steps: Option<u32>) -> Option<Job> {
    match &config.block {
        Block::MacArray(p) => Some(Job::Digits(qformat(&p.wgt), qformat(&p.act))),
        Block::HashGrid(p) => Some(Job::HashGridFidelity(p.clone())),
        Block::SpikingCore(p) | Block::SpikingChain(p, _) => Some(Job::SpikingDigits(crate::accuracy::snn::Budget {
            steps: steps.unwrap_or(SPIKING_STEPS),
            weight_bits: p.weight_width,
            membrane_bits: p.neuron.membrane.width,
        })),
    }
}

/// Random points per hash-grid fidelity measurement (plus the corners).
pub const HASH_GRID_POINTS: u64 = 4096;

/// A job's score: (accuracy, SQNR in dB).
pub fn hash_grid_fidelity(p: &accgen_hdl::hashgrid::HashGridParams) -> (Option<f64>, Option<f64>) {
    let d = accgen_hdl::hashgrid::model::distance(p, 1, HASH_GRID_POINTS, 2);
    let sqnr = if d.rms > 0.0 {
        20.0 * (d.reference_rms / d.rms).log10()
    } else {
        f64::INFINITY
    };
    (None, Some(sqnr))
}

//! The cost model: estimates of a MAC array's resources on each synthesis
//! target, from its configuration alone, calibrated against Yosys.
//!
//! - Flip-flops come from the generated structure
//!   ([`accgen_hdl::mac::cost::registers`]), not from a fit.
//! - DSP blocks come from Yosys' own rule for mapping a `$mul` to DSP
//!   blocks ([`DspRule`]: the minimum and maximum operand and product
//!   widths its `mul2dsp` pass is given per target), not from a fit.
//! - Multipliers that stay in logic are costed component-wise: every
//!   multiplier structure ([`MulImpl`]) is synthesized alone on a grid of
//!   operand shapes and a per-target formula in the operand widths is fitted
//!   to it ([`MulCost`]), so a change to a multiplier structure is absorbed
//!   by re-running `accgen calibrate`.
//! - LUTs, carry cells and ASIC area of the whole array are non-negative
//!   weighted sums of that multiplier estimate and the other logic features
//!   ([`accgen_hdl::mac::cost::logic_features`]) plus a constant, with
//!   weights fitted per target on a calibration set ([`calibrate`]).
//!
//! The fitted weights are committed in `reports/calibration/mac.json` and
//! compiled in, so estimating needs no tools and takes well under a
//! microsecond.

pub mod calibrate;
pub mod families;
pub mod fit;
pub mod hashgrid;
pub mod memory;
pub mod spiking;

use crate::synth::Target;
use accgen_hdl::mac::cost::{logic_features, multiplier_operands, registers, shift_register_bits, stage_register_bits};
use accgen_hdl::mac::{MacArrayParams, MulImpl};
use accgen_hdl::params::IntFormat;
use serde::{Deserialize, Serialize};

/// The committed calibration.
pub const CALIBRATION: &str = include_str!("../../../reports/calibration/mac.json");

/// How Yosys 0.23 maps a multiplier to DSP blocks on a target: the macros
/// its synthesis script passes to `techmap -map +/mul2dsp.v`. A `$mul`
/// whose operands (after `wreduce`) or product are narrower than the
/// minimums stays in logic; one wider than the maximums is split into
/// several blocks.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DspRule {
    pub a_max: u32,
    pub b_max: u32,
    /// Width of each slice when A is split (`DSP_A_MAXWIDTH_PARTIAL`).
    pub a_max_partial: u32,
    pub a_min: u32,
    pub b_min: u32,
    /// Minimum product width (`DSP_Y_MINWIDTH`; 0 when unset).
    pub y_min: u32,
    /// The block multiplies signed operands only (`DSP_SIGNEDONLY`): an
    /// unsigned product gets a zero sign bit on each operand.
    pub signed_only: bool,
}

impl DspRule {
    /// The rule of a target's synthesis script; `None` without DSP blocks.
    pub fn of(target: Target) -> Option<DspRule> {
        match target {
            // synth_xilinx -family xc7: $__MUL25X18 (DSP48E1).
            Target::Xc7 { dsp: true } => Some(DspRule {
                a_max: 25,
                b_max: 18,
                a_max_partial: 18,
                a_min: 2,
                b_min: 2,
                y_min: 9,
                signed_only: true,
            }),
            // synth_ice40 -dsp: $__MUL16X16 (SB_MAC16).
            Target::Ice40 { dsp: true } => Some(DspRule {
                a_max: 16,
                b_max: 16,
                a_max_partial: 16,
                a_min: 2,
                b_min: 2,
                y_min: 11,
                signed_only: false,
            }),
            // synth_ecp5: $__MUL18X18 (MULT18X18D).
            Target::Ecp5 { dsp: true } => Some(DspRule {
                a_max: 18,
                b_max: 18,
                a_max_partial: 18,
                a_min: 2,
                b_min: 2,
                y_min: 0,
                signed_only: false,
            }),
            _ => None,
        }
    }

    /// DSP blocks of one exact `a x b` multiplier as the generator writes
    /// it (both operands extended to the product width, signed when either
    /// is): `wreduce` leaves a signed operand at its width and an unsigned
    /// one beside a signed one one bit wider.
    pub fn blocks(&self, a: IntFormat, b: IntFormat) -> u32 {
        let signed = a.signed || b.signed;
        let width = |f: IntFormat| f.bits + u32::from(signed && !f.signed);
        self.cell(width(a), signed, width(b), signed, a.bits + b.bits, true)
    }

    /// DSP blocks of one `$mul` as Yosys sees it after `wreduce`: `aw` x
    /// `bw` operands (both signed or both unsigned), `y` product bits.
    pub fn product_blocks(&self, aw: u32, bw: u32, signed: bool, y: u32) -> u32 {
        self.cell(aw, signed, bw, signed, y, true)
    }

    /// Adder bits `mul2dsp` adds to sum the partial products of one `$mul`
    /// wider than a block (0 when it fits one block or stays in logic).
    pub fn split_adder_bits(&self, aw: u32, bw: u32, signed: bool, y: u32) -> u32 {
        self.cell_adders(aw, signed, bw, signed, y, true)
    }

    /// The partial-product sums of [`Self::cell`]: slice `i` (1..=n) of a
    /// split is added shifted left by `i * step`, so its adder keeps the
    /// `y - i * step` bits above the shift (`opt_expr -fine` drops the
    /// constant-zero low bits).
    fn cell_adders(&self, aw: u32, a_signed: bool, bw: u32, b_signed: bool, y: u32, top: bool) -> u32 {
        if aw < self.a_min || bw < self.b_min || y < self.y_min {
            return 0;
        }
        if self.signed_only && top && !a_signed && !b_signed {
            return self.cell_adders(aw + 1, true, bw + 1, true, y, true);
        }
        if top && aw < bw {
            return self.cell_adders(bw, b_signed, aw, a_signed, y, true);
        }
        let headroom = u32::from(self.signed_only);
        let split =
            |wide: u32, max: u32, partial: u32, other: u32, other_signed: bool, wide_signed: bool, a_side: bool| {
                let step = partial - headroom;
                let n = (wide - max).div_ceil(step);
                let last = wide - n * step;
                let partial_y = y.min(other + partial);
                let adders: u32 = (1..=n).map(|i| y.saturating_sub(i * step)).sum();
                let inner = if a_side {
                    n * self.cell_adders(partial, headroom == 1, other, other_signed, partial_y, false)
                        + self.cell_adders(last, wide_signed, other, other_signed, last + other, false)
                } else {
                    n * self.cell_adders(other, other_signed, partial, headroom == 1, partial_y, false)
                        + self.cell_adders(other, other_signed, last, wide_signed, other + last, false)
                };
                adders + inner
            };
        if aw > self.a_max {
            return split(aw, self.a_max, self.a_max_partial, bw, b_signed, a_signed, true);
        }
        if bw > self.b_max {
            return split(bw, self.b_max, self.b_max, aw, a_signed, b_signed, false);
        }
        0
    }

    /// `mul2dsp.v`'s `_80_mul` on one cell: fail (stay in logic), rewrite,
    /// split, or map to one block. `top` is a `$mul` (not a `$__mul` slice).
    fn cell(&self, aw: u32, a_signed: bool, bw: u32, b_signed: bool, y: u32, top: bool) -> u32 {
        if aw < self.a_min || bw < self.b_min || y < self.y_min {
            return 0;
        }
        if self.signed_only && top && !a_signed && !b_signed {
            return self.cell(aw + 1, true, bw + 1, true, y, true);
        }
        if top && aw < bw {
            return self.cell(bw, b_signed, aw, a_signed, y, true);
        }
        let headroom = u32::from(self.signed_only);
        if aw > self.a_max {
            let step = self.a_max_partial - headroom;
            let n = (aw - self.a_max).div_ceil(step);
            let last = aw - n * step;
            let partial_y = y.min(bw + self.a_max_partial);
            return n * self.cell(self.a_max_partial, headroom == 1, bw, b_signed, partial_y, false)
                + self.cell(last, a_signed, bw, b_signed, last + bw, false);
        }
        if bw > self.b_max {
            let step = self.b_max - headroom;
            let n = (bw - self.b_max).div_ceil(step);
            let last = bw - n * step;
            let partial_y = y.min(aw + self.b_max);
            return n * self.cell(aw, a_signed, self.b_max, headroom == 1, partial_y, false)
                + self.cell(aw, a_signed, last, b_signed, aw + last, false);
        }
        1
    }
}

/// Terms of the multiplier formula, from the operand widths the logic
/// multiplies (an unsigned operand beside a signed one counts one bit
/// wider, as Yosys and the row structures extend it).
pub const MUL_TERMS: [&str; 7] = [
    "a*b",
    "a*b*log2(a*b)",
    "a",
    "b",
    "signed*a*b",
    "1",
    "b*(a of 3 bits: 4-bit row adders)",
];

/// The formula's terms for one multiplier shape.
///
/// The last term counts the rows of a multiplier whose `a` operand has 3
/// bits: each row adds `a` into an `a + 1`-bit sum, and ECP5's adder
/// mapping (`ecp5/arith_map.v` in Yosys 0.23) leaves adders of 4 bits or
/// fewer to ABC instead of the CCU2C carry chain. With the `lut4` row's
/// keep-multiplexer the top sum bit of a 4-bit row is a function of 9
/// inputs, which ABC builds from LUT4s and PFUMX/L6MUX: 19 LUT4 per row
/// measured, against 5 for a 3-bit row and 5 to 6 beside 3 CCU2Cs for a
/// 5-bit one. The other targets map adders from 3 bits on to their carry
/// chains and fit the term at or near zero.
pub fn mul_terms(a: IntFormat, b: IntFormat) -> [f64; 7] {
    let signed = a.signed || b.signed;
    let width = |f: IntFormat| (f.bits + u32::from(signed && !f.signed)) as f64;
    let (x, y) = (width(a), width(b));
    let ab = x * y;
    let narrow_rows = if a.bits == 3 { y } else { 0.0 };
    [
        ab,
        ab * ab.log2(),
        x,
        y,
        if signed { ab } else { 0.0 },
        1.0,
        narrow_rows,
    ]
}

/// Cost of one multiplier structure in logic on one target: LUTs (logic
/// cells on `asic`), carry cells and area as formulas in [`mul_terms`],
/// fitted to the structure synthesized alone on a grid of shapes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MulCost {
    pub structure: String,
    pub luts: Vec<f64>,
    pub carry: Vec<f64>,
    /// Area in um^2 (`asic` only; zeros elsewhere).
    pub area: Vec<f64>,
}

impl MulCost {
    fn eval(w: &[f64], t: &[f64; 7]) -> f64 {
        w.iter().zip(t).map(|(w, t)| w * t).sum::<f64>().max(0.0)
    }
}

/// Which operand registers Yosys packs into a DSP block's input registers
/// (AREG/BREG of DSP48E1, the A/B holding registers of SB_MAC16). Only the
/// register that feeds a multiplier and nothing else can go: the operand
/// register of the last PE of each row (activations) and of each column
/// (weights), R activation and C weight registers in all. It stays a
/// flip-flop when the operand is a minifloat (its decode sits between
/// register and multiplier) or when the other operand can be infinite (inf
/// x 0 needs this operand's zero test beside the multiplier).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum DspPacking {
    /// No operand register is absorbed (ECP5's MULT18X18D, or no DSPs).
    #[default]
    None,
    /// Signed integer operands only (iCE40: an unsigned operand reaches the
    /// signed multiplier through a zero-extension the packer does not see
    /// through).
    SignedIntegers,
    /// Signed and unsigned integer operands (Xilinx).
    Integers,
}

impl DspPacking {
    /// The rule Yosys 0.23 follows on a target.
    pub fn of(target: Target) -> DspPacking {
        match target {
            Target::Xc7 { dsp: true } => DspPacking::Integers,
            Target::Ice40 { dsp: true } => DspPacking::SignedIntegers,
            _ => DspPacking::None,
        }
    }

    /// Whether each PE's accumulator adder goes into its DSP block (the
    /// DSP48E1 post-adder, the SB_MAC16 accumulator): when the product
    /// feeds it directly (two integer operands, no alignment shifter), the
    /// block takes both operands' registers, the sum cannot overflow (no
    /// saturation logic) and it fits the block's accumulator (48 bits on
    /// Xilinx, 32 on iCE40). Measured: such designs keep 0 to 4 carry cells.
    pub fn absorbs_accumulator(self, p: &MacArrayParams) -> bool {
        use accgen_hdl::mac::operand::Operand;
        let int = |op: &Operand| match (op, self) {
            (Operand::Int(_), DspPacking::Integers) => true,
            (Operand::Int(f), DspPacking::SignedIntegers) => f.signed,
            _ => false,
        };
        let width = match self {
            DspPacking::None => 0,
            DspPacking::SignedIntegers => 32,
            DspPacking::Integers => 48,
        };
        p.dot_length > 1 && int(&p.act) && int(&p.wgt) && !p.can_overflow() && p.acc_width <= width
    }

    /// Flip-flop bits absorbed in an array whose multipliers map to DSPs.
    pub fn absorbed(self, p: &MacArrayParams) -> u64 {
        use accgen_hdl::mac::operand::Operand;
        let takes = |op: &Operand, other: &Operand| {
            let int = match op {
                Operand::Int(f) => match self {
                    DspPacking::None => false,
                    DspPacking::SignedIntegers => f.signed,
                    DspPacking::Integers => true,
                },
                Operand::Float(_) => false,
            };
            int && !other.has_inf()
        };
        let act = if takes(&p.act, &p.wgt) {
            p.rows as u64 * p.act.width() as u64
        } else {
            0
        };
        let wgt = if takes(&p.wgt, &p.act) {
            p.cols as u64 * p.wgt.width() as u64
        } else {
            0
        };
        act + wgt + self.absorbed_pipeline(p)
    }

    /// PE pipeline register bits a DSP block absorbs, over all PEs: the
    /// stages right after the multiplier that carry its product unchanged
    /// (the after-multiplier stages, and for integers the post-alignment
    /// copy too, as no shift sits between them). DSP48E1 takes two of them
    /// (MREG, then PREG unless its post-adder accumulates), SB_MAC16 one
    /// (its pipeline register after the multiplier). Measured on the
    /// pipelined calibration designs (Yosys 0.23): 9 to 20 bits per PE at
    /// one stage on both, twice that on Xilinx at two.
    pub fn absorbed_pipeline(self, p: &MacArrayParams) -> u64 {
        let (after_mul, after_align) = p.pipeline_stages();
        let floats = p.product_width() != p.sig_product_width();
        let chain = after_mul + if floats { 0 } else { after_align };
        let stages = match self {
            DspPacking::None => 0,
            DspPacking::SignedIntegers => chain.min(1),
            DspPacking::Integers => chain.min(2 - u32::from(self.absorbs_accumulator(p))),
        };
        let mul_out = if floats {
            p.sig_product_width()
        } else {
            p.product_width()
        };
        (p.rows * p.cols) as u64 * stages as u64 * mul_out as u64
    }
}

/// Fitted weights of one target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TargetModel {
    pub target: String,
    /// LUTs = intercept + sum(weights[i] * feature[i]) ([`features`]).
    pub lut_intercept: f64,
    pub lut_weights: Vec<f64>,
    pub carry_intercept: f64,
    pub carry_weights: Vec<f64>,
    /// Yosys' DSP mapping rule; `None` when the target has no DSP blocks
    /// or they are disabled.
    pub dsp: Option<DspRule>,
    /// Multipliers in logic, one entry per structure.
    pub multipliers: Vec<MulCost>,
    /// Delay chains of at least this many stages become shift-register
    /// LUTs, not flip-flops (Xilinx); `None` where synthesis keeps them.
    #[serde(default)]
    pub shift_register_min_length: Option<u32>,
    /// Which operand registers and accumulators DSP blocks absorb
    /// (structural, from the calibration set's flip-flop and carry counts).
    #[serde(default)]
    pub dsp_packing: DspPacking,
    /// Flip-flops a DSP block absorbs beyond its input registers, the
    /// median over the training designs (fitted; zero without DSPs).
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
    pub multiplier_terms: Vec<String>,
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

/// The names of the features the fitted weights multiply.
pub const FEATURE_NAMES: [&str; 18] = [
    "multiplier (lone-multiplier fit, per PE in logic)",
    "accumulator_bits",
    "shifter_bits",
    "decode_bits",
    "drain_bits",
    "rounder_bits",
    "merged_accumulator_bits (signed `*` in logic merged with the sum: ACC_W per PE)",
    "restart_bits",
    "drain_tree_luts",
    "beat_counter_luts",
    "rounder_linear_bits",
    "special_pes",
    "merged_product_tree (ECP5 LUTs: a*b*log2(a*b) per PE of a `*` merged with the sum, in place of the lone multiplier)",
    "unrounded_multiplier (ECP5 LUTs: the multiplier feature of arrays without an output rounder)",
    "unrounded_merged_accumulator_bits (ECP5 LUTs: merged_accumulator_bits of arrays without an output rounder)",
    "unrounded_product_tree (ECP5 LUTs: merged_product_tree of arrays without an output rounder)",
    "pipelined_special_pes (ECP5 LUTs: special_pes of arrays with PE pipeline stages, in place of special_pes)",
    "stage_register_bits (asic: PE pipeline and rounder stage flip-flops, each behind an enable multiplexer)",
];

/// How many features the fitted weights multiply.
pub const FEATURES: usize = FEATURE_NAMES.len();

/// Whether a `*` in logic is merged with the accumulator's sum into one
/// `$macc` (see [`merged_accumulator_bits`]): integer operands, no DSP
/// block, K > 1 and no pipeline register between product and sum.
pub fn merges_with_accumulator(p: &MacArrayParams, model: &TargetModel) -> bool {
    use accgen_hdl::mac::operand::Operand;
    matches!((&p.act, &p.wgt), (Operand::Int(_), Operand::Int(_)))
        && p.multiplier == MulImpl::Dsp
        && dsp_per_pe(p, model) == 0
        && p.dot_length > 1
        && p.pipeline == 0
}

/// The partial-product tree of a `*` merged with the accumulator's sum,
/// over all PEs: `a * b * log2(a * b)` (the partial-product bits times
/// the order of the tree's depth), zero for other arrays.
///
/// On ECP5 this replaces the lone-multiplier feature for such arrays
/// (see [`ecp5_critical_path_features`]): `maccmap` sums the partial
/// products and the accumulator in one tree of full adders that stays in
/// LUT4s up to the final CCU2C adder, and when that tree is the deepest
/// logic of the design ABC maps it for depth into wide LUTs. Measured
/// (`abc -lut 4:7` output of 32 calibration designs, `ecp5-nodsp`): LUT4s
/// per ABC LUT 2.3 to 2.8 in small merged integer arrays, against 1.0 to
/// 1.3 in integer arrays whose adders are CCU2C rows (`lut`, `lut4`) and
/// 1.3 to 2.0 for minifloat PEs. The lone `*` (no accumulator in its
/// tree) is a poor guide to it: on ECP5-nodsp's 120 training designs this
/// term in place of the lone multiplier lowers the leave-one-out LUT error
/// from 13.4% to 12.5%.
pub fn merged_product_tree(p: &MacArrayParams, model: &TargetModel) -> f64 {
    if !merges_with_accumulator(p, model) {
        return 0.0;
    }
    let (a, b) = multiplier_operands(p);
    let ab = (a.bits * b.bits) as f64;
    (p.rows * p.cols) as f64 * ab * ab.log2()
}

/// Adder-tree bits a signed integer product adds when synthesis merges it
/// with the accumulator's sum, over all PEs: `ACC_W` per PE.
///
/// Where the plain `*` stays in logic and feeds the accumulator's adder
/// directly (integer operands, K > 1, no pipeline register between them),
/// Yosys' `alumacc` merges product and sum into one `$macc` and `maccmap`
/// sums its partial products together with the accumulator (measured: one
/// carry chain per PE, not two). Signed partial products are then
/// sign-extended to the accumulator's width, so each of the narrower
/// operand's rows costs ACC_W bits of adder tree instead of the lone
/// product's a + b. Measured on the calibration set: signed arrays with
/// both operands of 3 to 6 bits cost 6 to 9 LUT4 per accumulator bit more
/// on ECP5 than the lone multiplier predicts, whatever the number of rows
/// (so the feature is ACC_W, not rows x ACC_W: choosing by leave-one-out
/// error on the training designs, ACC_W is as good or better on every
/// target); unsigned operands (zero extension is free) and 2-bit signed
/// operands (two partial products, a sum and a difference) do not.
pub fn merged_accumulator_bits(p: &MacArrayParams, model: &TargetModel) -> f64 {
    use accgen_hdl::mac::operand::Operand;
    let (Operand::Int(a), Operand::Int(b)) = (&p.act, &p.wgt) else {
        return 0.0;
    };
    let rows = a.bits.min(b.bits);
    if merges_with_accumulator(p, model) && a.signed && b.signed && rows >= 3 {
        (p.rows * p.cols) as f64 * p.acc_width as f64
    } else {
        0.0
    }
}

/// DSP blocks of each PE's multiplier on `model`'s target (zero when it
/// stays in logic).
pub fn dsp_per_pe(p: &MacArrayParams, model: &TargetModel) -> u32 {
    match (p.multiplier, model.dsp) {
        (MulImpl::Dsp, Some(rule)) => {
            let (a, b) = multiplier_operands(p);
            rule.blocks(a, b)
        }
        _ => 0,
    }
}

/// Which figure a feature vector is for: the multiplier feature is that
/// figure of the lone multiplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    Luts,
    Carry,
    Area,
}

/// The features the fitted weights multiply: the multipliers' estimated
/// cost in logic (zero when they go to DSP blocks), then the other logic
/// features of [`logic_features`].
pub fn features(p: &MacArrayParams, model: &TargetModel, figure: Figure) -> [f64; FEATURES] {
    let logic = logic_features(p).as_array();
    let mut f = [0.0; FEATURES];
    f[..6].copy_from_slice(&logic[..6]);
    f[6] = merged_accumulator_bits(p, model);
    f[7..12].copy_from_slice(&logic[6..]);
    let dsp = dsp_per_pe(p, model) > 0;
    if dsp && model.dsp_packing.absorbs_accumulator(p) {
        // The accumulator, its restart gate included, is inside the block.
        f[1] = 0.0;
        f[7] = 0.0;
    }
    f[0] = if dsp {
        0.0
    } else {
        let (a, b) = multiplier_operands(p);
        let t = mul_terms(a, b);
        model
            .multipliers
            .iter()
            .find(|m| m.structure == p.multiplier.tag())
            .map_or(0.0, |m| {
                let w = match figure {
                    Figure::Luts => &m.luts,
                    Figure::Carry => &m.carry,
                    Figure::Area => &m.area,
                };
                MulCost::eval(w, &t)
            })
            * (p.rows * p.cols) as f64
    };
    if figure == Figure::Luts && model.target.starts_with("ecp5") {
        ecp5_critical_path_features(p, model, &mut f);
        // Chosen by leave-one-out LUT error on the training designs, with
        // the pipelined walks' designs among them: a PE whose special-value
        // flags travel down its pipeline (registered beside the product,
        // combined into the sticky flags after it) costs ECP5 a different
        // number of LUT4s than one whose flag logic ABC maps together with
        // the product's; 10.99% -> 10.67% on ECP5-nodsp's 176 training
        // designs, 10.47% -> 10.07% on ECP5's. On the other targets it
        // raised the error (xc7 8.69% -> 8.84%), so they keep one feature.
        if p.pipeline > 0 {
            f[16] = f[11];
            f[11] = 0.0;
        }
    }
    if model.target == "asic" {
        // The OSU library has no flip-flop with an enable: each stage
        // register bit costs a multiplexer cell (logic and area). Chosen by
        // leave-one-out error on asic's 78 training designs: 7.5% -> 4.5%
        // (pipelined designs 12.7% -> 4.3%); on the FPGA targets, whose
        // flip-flops take the enable, it lowered no error by a tenth of a
        // point except iCE40-nodsp's (5.2% -> 5.0%), so it stays an ASIC
        // feature.
        f[17] = stage_register_bits(p) as f64;
    }
    f
}

/// ECP5's LUT features for the depth ABC maps for.
///
/// Chosen when ECP5 was synthesized with wide LUTs (`abc -lut 4:7`, the
/// `synth_ecp5` default, described below). Since it is synthesized with
/// `-nowidelut` (ABC maps to LUT4s) the refitted weights of the
/// `unrounded_*` features are zero and `merged_product_tree`'s is small:
/// kept so that the fit may use them, as the calibration report states.
///
/// `synth_ecp5` maps logic with `abc -lut 4:7`: ABC maps for the least
/// depth first, building functions of 5 to 7 inputs as 2, 4 or 8 LUT4s
/// joined by PFUMX/L6MUX, then recovers area only where a path has slack.
/// How many LUT4s a block costs therefore depends on whether it lies on
/// the design's deepest logic (CCU2C carry chains and flip-flops cut the
/// logic ABC sees). Without an output rounder the PEs' product logic is
/// the deepest; a rounder (leading-one search, normalization shifter,
/// rounding) is deeper and gives the PEs slack. Measured on a 4 x 4 uint4
/// x uint8 array (K = 256, `*` in logic, `ecp5-nodsp`): 3487 LUT4 without
/// a rounder, 2550 with a bf16 rounder per column, whose own logic is
/// several hundred LUT4. So the product features of arrays without a
/// rounder are separate features (`unrounded_*`), and the merged `*`'s
/// tree replaces the lone-multiplier feature ([`merged_product_tree`]).
/// Chosen by leave-one-out LUT error on ECP5-nodsp's 120 training
/// designs: 13.4% with the shared features, 12.5% with the product tree,
/// 11.2% with the three `unrounded_*` features too (on the 96 training
/// designs before the fourth walk: 12.1% -> 10.6%; 10.9% on the 144 with
/// the fifth walk, drawn after the choice); an output-format term
/// (bf16 rounders cost more than fp16 ones), unsigned merged products and
/// the shifter, decode and special-value features of unrounded arrays
/// lowered it by less than 0.1 point or raised it. ECP5 with MULT18X18D
/// blocks fits the four at zero (9.8% either way on its 120). Carry cells and area
/// keep the features the other targets use.
fn ecp5_critical_path_features(p: &MacArrayParams, model: &TargetModel, f: &mut [f64; FEATURES]) {
    let tree = merged_product_tree(p, model);
    if tree > 0.0 {
        f[0] = 0.0;
    }
    f[12] = tree;
    if p.output.is_none() {
        f[13] = f[0];
        f[14] = f[6];
        f[15] = tree;
    }
}

/// Estimate a MAC array's resources on one target.
pub fn estimate(p: &MacArrayParams, model: &TargetModel) -> Estimate {
    let dot = |w: &[f64], f: [f64; FEATURES]| w.iter().zip(f).map(|(a, b)| a * b).sum::<f64>();
    let luts = model.lut_intercept + dot(&model.lut_weights, features(p, model, Figure::Luts));
    let dsp = (dsp_per_pe(p, model) * p.rows * p.cols) as f64;
    let shift_registers = model
        .shift_register_min_length
        .map_or(0, |min| shift_register_bits(p, min));
    let absorbed = if dsp > 0.0 {
        model.dsp_packing.absorbed(p) as f64 + model.ffs_per_dsp * dsp
    } else {
        0.0
    };
    let ffs = (registers(p).total() - shift_registers) as f64 - absorbed;
    let asic = model.target == "asic";
    Estimate {
        luts,
        ffs,
        carry: model.carry_intercept + dot(&model.carry_weights, features(p, model, Figure::Carry)),
        dsp,
        bram: 0.0,
        area_um2: asic.then(|| {
            model.area_intercept + model.area_per_ff * ffs + dot(&model.area_weights, features(p, model, Figure::Area))
        }),
    }
}

/// `accgen cost`: the estimate on each target, and with `synth` the
/// synthesized figures beside it.
pub fn run(config: &crate::config::Config, targets: &[String], synth: bool) -> Result<(), crate::Failure> {
    use crate::Failure;
    let p = match &config.block {
        crate::config::Block::MacArray(p) => p,
        crate::config::Block::HashGrid(p) => return hashgrid::run_cost(config, p, targets, synth),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn int(bits: u32, signed: bool) -> IntFormat {
        IntFormat { bits, signed }
    }

    /// The DSP counts Yosys 0.23 gave the calibration set's multipliers:
    /// iCE40 needs an 11-bit product, Xilinx a 9-bit one, ECP5 any 2 x 2.
    #[test]
    fn dsp_rule_follows_the_minimum_widths() {
        let ice40 = DspRule::of(Target::Ice40 { dsp: true }).expect("ice40 rule");
        let xc7 = DspRule::of(Target::Xc7 { dsp: true }).expect("xc7 rule");
        let ecp5 = DspRule::of(Target::Ecp5 { dsp: true }).expect("ecp5 rule");
        // e4m3fn x e2m3fn: s5 x s5, a 10-bit product.
        assert_eq!(ice40.blocks(int(5, true), int(5, true)), 0);
        assert_eq!(ice40.blocks(int(5, true), int(6, true)), 1);
        // int2 x int8: 10 bits, 25 partial products (the old product-size
        // threshold of 16 said DSP).
        assert_eq!(ice40.blocks(int(2, true), int(8, true)), 0);
        assert_eq!(xc7.blocks(int(2, true), int(8, true)), 1);
        assert_eq!(xc7.blocks(int(5, true), int(3, true)), 0);
        assert_eq!(xc7.blocks(int(5, true), int(4, true)), 1);
        assert_eq!(ecp5.blocks(int(2, true), int(2, true)), 1);
        assert!(DspRule::of(Target::Ecp5 { dsp: false }).is_none());
    }

    /// DSP blocks absorb the operand registers and the PE pipeline stage
    /// after the multiplier: a 3 x 3 int4 x int16 array with one stage
    /// (K = 16, bf16 rounders with one stage) has 240 flip-flops fewer on
    /// xc7 and ice40 than without DSP blocks (Yosys 0.23): 3 x 4 + 3 x 16
    /// operand bits and 9 x 20 product bits.
    #[test]
    fn dsp_blocks_absorb_the_product_stage() {
        use accgen_hdl::ir::ResetStyle;
        use accgen_hdl::mac::MacArraySpec;
        use accgen_hdl::mac::params::FormatSpec;
        use accgen_hdl::minifloat::OnOverflow;
        let p = MacArraySpec {
            rows: 3,
            cols: 3,
            dot_length: 16,
            activations: "int4".into(),
            weights: "int16".into(),
            acc_width: None,
            overflow: None,
            multiplier: MulImpl::Dsp,
            reset: ResetStyle::SyncHigh,
            output: Some((FormatSpec::Name("bf16".into()), OnOverflow::Saturate)),
            pipeline: 1,
            output_pipeline: 1,
        }
        .validate()
        .expect("valid");
        for packing in [DspPacking::Integers, DspPacking::SignedIntegers] {
            assert_eq!(packing.absorbed_pipeline(&p), 180, "{packing:?}");
            assert_eq!(packing.absorbed(&p), 240, "{packing:?}");
        }
        assert_eq!(DspPacking::None.absorbed(&p), 0);
        // An unpipelined array keeps no product register to absorb.
        let flat = MacArrayParams { pipeline: 0, ..p };
        assert_eq!(DspPacking::Integers.absorbed_pipeline(&flat), 0);
    }

    /// Operands wider than a block are split into slices, one block each.
    #[test]
    fn dsp_rule_splits_wide_operands() {
        let ice40 = DspRule::of(Target::Ice40 { dsp: true }).expect("ice40 rule");
        let xc7 = DspRule::of(Target::Xc7 { dsp: true }).expect("xc7 rule");
        assert_eq!(ice40.blocks(int(16, true), int(16, true)), 1);
        // uint16 beside int16: the unsigned operand is 17 bits signed, one
        // more than a block takes; the 1-bit remainder slice is narrower
        // than the minimum and stays in logic.
        assert_eq!(ice40.blocks(int(16, false), int(16, true)), 1);
        // A 40-bit operand on Xilinx: one 17-bit slice (18 less the sign
        // headroom) and a 23-bit last slice, one block each; 60 bits take
        // three 17-bit slices and a 9-bit one.
        assert_eq!(xc7.cell(40, true, 16, true, 56, true), 2);
        assert_eq!(xc7.cell(60, true, 16, true, 76, true), 4);
        // Two unsigned 16-bit operands fit a signed-only 25 x 18 block once
        // each gains a sign bit.
        assert_eq!(xc7.blocks(int(16, false), int(16, false)), 1);
    }

    /// The adders that sum a split product's slices, as `mul2dsp.v` writes
    /// them: slice i is added shifted by i x step, above the shift only.
    #[test]
    fn split_products_add_their_slices_above_the_shift() {
        let ice40 = DspRule::of(Target::Ice40 { dsp: true }).expect("ice40 rule");
        let xc7 = DspRule::of(Target::Xc7 { dsp: true }).expect("xc7 rule");
        // A 17 x 10 signed product of 28 bits on iCE40: a 16-bit slice and
        // a 1-bit one (in logic), added 16 bits up: a 12-bit adder.
        assert_eq!(ice40.split_adder_bits(17, 10, true, 28), 12);
        // It fits one DSP48E1; so does a 16 x 16 product on iCE40.
        assert_eq!(xc7.split_adder_bits(17, 10, true, 28), 0);
        assert_eq!(ice40.split_adder_bits(16, 16, true, 32), 0);
        // Below the minimum product width it stays in logic: no adders.
        assert_eq!(ice40.split_adder_bits(17, 10, true, 10), 0);
        // 40 x 16 on Xilinx: slices at 0 and 17, one adder of 56 - 17 bits;
        // 60 x 16: slices at 0, 17, 34 and 51, adders of 59, 42 and 25 bits.
        assert_eq!(xc7.split_adder_bits(40, 16, true, 56), 39);
        assert_eq!(xc7.split_adder_bits(60, 16, true, 76), 59 + 42 + 25);
    }
}

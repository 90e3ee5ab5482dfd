//! The MAC array's cost model: quantities derived from the configuration
//! alone, evaluated in nanoseconds.
//!
//! Flip-flops are counted from the structure the generator emits, after
//! the merging every synthesis tool performs: the valid/first/last tokens
//! of all rows and columns are copies of one token at different delays, so
//! they collapse into a single delay line of R + C - 1 stages. The count is
//! exact for the designs Yosys synthesises (see the tests). LUT, carry and
//! DSP estimates come from per-target coefficients fitted against synthesis
//! (the calibration lives with the synthesis flow).

use super::params::MacArrayParams;
use crate::params::{IntFormat, bits_for};

/// Register bits of every part of the array.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Registers {
    /// Input skew of activations and weights (triangles of shift registers).
    pub skew: u64,
    /// Operand forwarding between neighbouring PEs.
    pub forwarding: u64,
    /// Accumulator and result registers (and special-value flags) of all PEs.
    pub pes: u64,
    /// The token delay line, row-done flags and the beat and gap counters.
    pub control: u64,
    /// The output register.
    pub output: u64,
    /// PE pipeline registers between multiplier and accumulator (products,
    /// shift amounts and special-value flags); their delayed tokens are in
    /// `control`.
    pub pipeline: u64,
}

impl Registers {
    pub fn total(&self) -> u64 {
        self.skew + self.forwarding + self.pes + self.control + self.output + self.pipeline
    }
}

/// Flip-flop bits of a MAC array, part by part.
pub fn registers(p: &MacArrayParams) -> Registers {
    let (r, c, k) = (p.rows as u64, p.cols as u64, p.dot_length as u64);
    let (aw, ww) = (p.act.width() as u64, p.wgt.width() as u64);
    let acc = p.acc_width as u64;
    let tri = |n: u64| n * (n + 1) / 2;
    // Sticky special-value flags, a running and a finished copy of each:
    // NaN whenever specials exist, +inf and -inf when an operand has inf.
    let flags = match (p.has_specials(), p.act.has_inf() || p.wgt.has_inf()) {
        (false, _) => 0,
        (true, false) => 2,
        (true, true) => 6,
    };
    let beat = if k > 1 { bits_for(k - 1) as u64 } else { 0 };
    let spacing = p.tile_spacing() as u64;
    let gap = if k < spacing { bits_for(spacing - 1) as u64 } else { 0 };
    let raw_specials = p.has_specials() && p.output.is_none();
    // (A rounded unsigned sum's sign bit is a constant 0, which synthesis
    // does not register.)
    // valid, first and last; with K = 1 first and last are the same signal.
    let token_bits = if k == 1 { 2 } else { 3 };
    let depth = p.pipeline as u64;
    let (after_mul, after_align) = p.pipeline_stages();
    // Per PE: the multiplier's output (significand product and, for
    // minifloats, the shift amount) after the multiplier, the fixed-point
    // product after the alignment; the product's NaN/inf flags at each stage.
    let product_flags = product_flag_bits(p);
    let floats = p.product_width() != p.sig_product_width();
    let shift_bits = if floats {
        bits_for((p.act.max_shift() + p.wgt.max_shift()) as u64) as u64
    } else {
        0
    };
    let mul_out = if floats {
        p.sig_product_width() as u64
    } else {
        p.product_width() as u64
    };
    let per_pe = after_mul as u64 * (mul_out + shift_bits + product_flags)
        + after_align as u64 * (p.product_width() as u64 + product_flags);
    Registers {
        skew: aw * tri(r) + ww * tri(c),
        forwarding: r * (c - 1) * aw + c * (r - 1) * ww,
        pes: r * c * (2 * acc + flags),
        // The PEs' delayed tokens extend the shared token delay line by the
        // pipeline depth; each row's done flag gets a delay line as deep.
        control: token_bits * (r + c - 1 + depth) + r * (1 + depth) + beat + gap,
        output: 2
            + c * (p.result_width() as u64 - u64::from(p.output.is_some() && !p.signed()))
            + if raw_specials { 2 * c } else { 0 }
            + rounder_stage_bits(p, c),
        pipeline: r * c * per_pe,
    }
}

/// Flip-flops of the register stages a user adds: the PE pipeline
/// registers and the output rounders' stages (0 for an unpipelined array).
/// Each advances with the array's enable, which an FPGA flip-flop takes on
/// its clock-enable pin but a library without enable flip-flops (the ASIC
/// target's) builds as a multiplexer in front of every bit.
pub fn stage_register_bits(p: &MacArrayParams) -> u64 {
    registers(p).pipeline + rounder_stage_bits(p, p.cols as u64)
}

/// The product's special-value flags each PE pipeline stage carries: NaN
/// whenever specials exist, +inf and -inf too when an operand has inf.
fn product_flag_bits(p: &MacArrayParams) -> u64 {
    match (p.has_specials(), p.act.has_inf() || p.wgt.has_inf()) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => 3,
    }
}

/// The output rounders' pipeline registers, with the {valid, last} delay
/// line beside them. Without infinities the special-value code's top bit
/// is constant (only NaN can occur), and synthesis drops its registers.
fn rounder_stage_bits(p: &MacArrayParams, cols: u64) -> u64 {
    let special_live = if p.act.has_inf() || p.wgt.has_inf() { 2 } else { 1 };
    match p.output {
        Some(o) if o.pipeline > 0 => {
            2 * o.pipeline as u64
                + cols
                    * crate::minifloat::round::stage_register_bits(&p.round_input(), o.format, o.pipeline, special_live)
        }
        _ => 0,
    }
}

/// Skew register bits that sit in delay chains of at least `min_length`
/// stages: synthesis for Xilinx (`shregmap`) turns each such chain into
/// one shift-register LUT (SRL16E) per bit, so they are not flip-flops
/// there. Row `i` of activations is delayed by `i + 1` stages, column `j`
/// of weights by `j + 1`.
///
/// Each PE's pipeline registers are such chains too: an integer product
/// passes unchanged through all `pipeline` stages (the post-alignment stage
/// is a copy), a minifloat's significand product and shift amount through
/// the after-multiplier stages, and the product's special-value flags
/// through every stage (measured on the pipelined calibration designs:
/// a 2 x 4 int6 x int3 array at depth 3 keeps none of its 216 product
/// register bits as flip-flops on `xc7-nodsp`).
pub fn shift_register_bits(p: &MacArrayParams, min_length: u32) -> u64 {
    let chains = |n: u32, width: u64| -> u64 { (1..=n).filter(|&d| d >= min_length).map(|d| d as u64 * width).sum() };
    let chain = |length: u32, width: u64| if length >= min_length { length as u64 * width } else { 0 };
    let (after_mul, after_align) = p.pipeline_stages();
    let floats = p.product_width() != p.sig_product_width();
    let product_flags = product_flag_bits(p);
    let per_pe = if floats {
        let shift_bits = bits_for((p.act.max_shift() + p.wgt.max_shift()) as u64) as u64;
        chain(after_mul, p.sig_product_width() as u64 + shift_bits)
            + chain(after_align, p.product_width() as u64)
            + chain(p.pipeline, product_flags)
    } else {
        chain(p.pipeline, p.product_width() as u64)
    };
    chains(p.rows, p.act.width() as u64) + chains(p.cols, p.wgt.width() as u64) + (p.rows * p.cols) as u64 * per_pe
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ResetStyle;
    use crate::mac::params::{FormatSpec, MacArraySpec, MulImpl};
    use crate::minifloat::OnOverflow;

    fn params(r: u64, c: u64, k: u64, a: &str, w: &str, output: Option<&str>) -> MacArrayParams {
        MacArraySpec {
            rows: r,
            cols: c,
            dot_length: k,
            activations: a.into(),
            weights: w.into(),
            acc_width: None,
            overflow: None,
            multiplier: MulImpl::Dsp,
            reset: ResetStyle::SyncHigh,
            output: output.map(|f| (FormatSpec::Name(f.into()), OnOverflow::Saturate)),
            pipeline: 0,
            output_pipeline: 0,
        }
        .validate()
        .unwrap()
    }

    /// How many skew bits Yosys 0.23's `synth_xilinx -nodsp` turned into
    /// SRL16E in the calibration set (flip-flops measured against
    /// [`registers`]): chains of 3 and 4 stages.
    #[test]
    fn shift_register_bits_match_yosys() {
        assert_eq!(shift_register_bits(&params(4, 4, 1, "uint8", "int3", None), 3), 77);
        assert_eq!(shift_register_bits(&params(4, 2, 1, "uint8", "int12", None), 3), 56);
        assert_eq!(shift_register_bits(&params(3, 3, 1, "uint8", "e3m2fn", None), 3), 42);
        assert_eq!(shift_register_bits(&params(2, 2, 1, "uint8", "e3m2fn", None), 3), 0);
    }

    /// Flip-flop counts Yosys 0.23 reports after `synth -flatten` of the
    /// example configurations (every `$_*DFF*_` cell is one bit).
    #[test]
    fn register_bits_match_yosys() {
        assert_eq!(registers(&params(4, 4, 16, "int8", "int8", None)).total(), 1103);
        assert_eq!(
            registers(&params(4, 4, 32, "e4m3fn", "e4m3fn", Some("fp16"))).total(),
            1856
        );
        assert_eq!(registers(&params(8, 4, 64, "int8", "e2m1fn", None)).total(), 1973);
        // Specials with infinities and a raw special-value port, K < max(R, C).
        assert_eq!(registers(&params(2, 3, 2, "e5m2", "e4m3fn", None)).total(), 984);
        // K = 1: constant first/last tokens.
        assert_eq!(registers(&params(5, 2, 1, "int4", "uint3", None)).total(), 289);
        assert_eq!(registers(&params(3, 3, 7, "e5m2", "int8", Some("fp16"))).total(), 1109);
        assert_eq!(registers(&params(1, 6, 4, "e2m1fn", "e3m2fn", None)).total(), 482);
    }

    /// The same count with PE pipeline registers (Yosys 0.23, `synth
    /// -flatten`): product, shift amount and flags per stage, the tokens'
    /// delay line and each row's done line one stage longer per stage; and
    /// with output rounder stages.
    #[test]
    fn pipeline_register_bits_match_yosys() {
        let piped = |p: MacArrayParams, depth: u32| MacArrayParams { pipeline: depth, ..p };
        let int8 = params(4, 4, 16, "int8", "int8", None);
        let e4m3 = params(4, 4, 32, "e4m3fn", "e4m3fn", Some("fp16"));
        for (depth, int8_bits, e4m3_bits) in [(1, 1366, 2119), (2, 1629, 2750), (3, 1892, 3013)] {
            assert_eq!(registers(&piped(int8, depth)).total(), int8_bits, "int8, depth {depth}");
            assert_eq!(registers(&piped(e4m3, depth)).total(), e4m3_bits, "e4m3, depth {depth}");
        }
        // Output rounder stages: e4m3fn sums (NaN only), and unsigned sums
        // (a constant sign) rounded to e2m1fn.
        let rounded = |p: MacArrayParams, stages: u32| MacArrayParams {
            output: p
                .output
                .map(|o| crate::mac::params::OutputRounding { pipeline: stages, ..o }),
            ..p
        };
        let uint = params(2, 3, 8, "uint8", "uint4", Some("e2m1fn"));
        for (stages, e4m3_bits, uint_bits) in [(0, 1856, 300), (1, 2066, 362), (2, 2152, 388)] {
            assert_eq!(
                registers(&rounded(e4m3, stages)).total(),
                e4m3_bits,
                "e4m3, {stages} stages"
            );
            assert_eq!(
                registers(&rounded(uint, stages)).total(),
                uint_bits,
                "uint, {stages} stages"
            );
        }
        // Infinities (three flags per stage), K < max(R, C).
        assert_eq!(
            registers(&piped(params(2, 3, 2, "e5m2", "int8", None), 3)).total(),
            1338
        );
    }

    /// Pipelined calibration designs, flip-flops as Yosys 0.23 counts them
    /// on ECP5, iCE40 and asic, and the bits `synth_xilinx -nodsp` turns
    /// into SRL16E: a 3-deep integer PE pipeline is a chain of three copies
    /// of the product (8 PEs x 9 bits x 3 stages = 216 bits).
    #[test]
    fn pipelined_register_bits_match_yosys() {
        let staged = |p: MacArrayParams, depth: u32, round_stages: u32| MacArrayParams {
            pipeline: depth,
            output: p.output.map(|o| crate::mac::params::OutputRounding {
                pipeline: round_stages,
                ..o
            }),
            ..p
        };
        let int_p3 = staged(params(2, 4, 16, "int6", "int3", None), 3, 0);
        assert_eq!(registers(&int_p3).total(), 610);
        assert_eq!(shift_register_bits(&int_p3, 3), 610 - 373);
        assert_eq!(stage_register_bits(&int_p3), 216);
        let wide = staged(params(3, 3, 16, "int4", "int16", Some("bf16")), 1, 1);
        assert_eq!(registers(&wide).total(), 1025);
        // An 11-bit sum rounded to fp16 in two stages: its zero padding
        // makes stage 2's guard and sticky bits constant (Yosys keeps 187:
        // 2 more bits it drops are not modelled).
        let narrow = staged(params(1, 2, 64, "int3", "int2", Some("fp16")), 1, 2);
        assert_eq!(registers(&narrow).total(), 189);
    }
}

/// What drives logic (LUT) cost, one number per structure, each scaled by
/// how many copies the array has. A target's LUT estimate is a weighted sum
/// of these with coefficients fitted against synthesis.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LogicFeatures {
    /// Bit products of the significand multipliers (`sig_a * sig_b` per PE):
    /// the partial products a LUT multiplier must sum.
    pub multiplier_bits: f64,
    /// Accumulator bits over all PEs (adder, restart multiplexer, saturation).
    /// K = 1 keeps them: measured carry counts show the adder stays.
    pub accumulator_bits: f64,
    /// Alignment shifter bits over all PEs: the output bits of each stage
    /// of a logarithmic shifter (at most `PROD_W * log2(shift range)`).
    pub shifter_bits: f64,
    /// Operand decode bits over all PEs (minifloat fields, special codes).
    pub decode_bits: f64,
    /// Result bits the output stage selects from (`R * C` entries).
    pub drain_bits: f64,
    /// Output rounder bits (`C * ACC_W * log2(ACC_W)`), zero without rounding.
    pub rounder_bits: f64,
    /// Accumulator bits over all PEs that restart with each tile (K > 1):
    /// `first ? product : acc + product` gates the accumulator's operand of
    /// the adder. Where a carry cell takes only its adder's two operands
    /// (Yosys 0.23 drives ECP5's CCU2C on A/B only) the gate is a LUT of
    /// its own in front of the carry chain; with K = 1 the gate is constant
    /// and synthesis removes it.
    pub restart_bits: f64,
    /// LUT4s of the output stage's AND-OR selection: each of a column's
    /// result bits is an OR over the R rows of `done_r & result_r`, a
    /// function of 2R inputs, which takes `ceil((2R - 1) / 3)` LUT4s as a
    /// tree (`drain_bits` counts R per bit, which overstates tall columns).
    pub drain_tree_luts: f64,
    /// LUT4s of the beat counter when ABC folds its wrap test into every
    /// counter bit: the next value of each of the W = log2(K) bits is a
    /// function of all W bits (through `beat == K - 1`), the accept and the
    /// reset. On ECP5 with wide LUTs (`abc -lut 4:7`; accgen now synthesizes
    /// with `-nowidelut`, where the fit weighs this term near zero) ABC maps such a function of up to 7
    /// inputs as one wide LUT, 2^(inputs - 4) LUT4s joined by PFUMX/L6MUX;
    /// for W = 5 and 6 that is about W * 2^(W - 3) LUT4s (measured on 1 x 1
    /// to 3 x 3 int4 arrays: +20 and +50 LUT4 over K = 16 and K = 128, every
    /// array alike). Narrower counters fit LUT4s and wider ones are built
    /// from a shared comparator and the carry chain, so the term is zero.
    pub beat_counter_luts: f64,
    /// The output rounders' work linear in the sum's width (`C * ACC_W`,
    /// zero without rounding): the magnitude of a signed sum, the leading
    /// one's search and the sticky bit below the kept significand all look
    /// at every bit once; `rounder_bits` is the normalization shifter.
    pub rounder_linear_bits: f64,
    /// PEs that track special values (NaN or infinite operands): each
    /// decodes both operands' special codes, combines them into the
    /// product's flags (inf x 0 is NaN) and keeps sticky flags beside its
    /// sum, a handful of LUTs whatever the widths.
    pub special_pes: f64,
}

impl LogicFeatures {
    pub const NAMES: [&str; 11] = [
        "multiplier_bits",
        "accumulator_bits",
        "shifter_bits",
        "decode_bits",
        "drain_bits",
        "rounder_bits",
        "restart_bits",
        "drain_tree_luts",
        "beat_counter_luts",
        "rounder_linear_bits",
        "special_pes",
    ];

    pub fn as_array(&self) -> [f64; 11] {
        [
            self.multiplier_bits,
            self.accumulator_bits,
            self.shifter_bits,
            self.decode_bits,
            self.drain_bits,
            self.rounder_bits,
            self.restart_bits,
            self.drain_tree_luts,
            self.beat_counter_luts,
            self.rounder_linear_bits,
            self.special_pes,
        ]
    }
}

/// The operands of every PE's significand multiplier (`a` the activation's
/// significand, `b` the weight's): the shape a multiplier cost table is
/// looked up with.
pub fn multiplier_operands(p: &MacArrayParams) -> (IntFormat, IntFormat) {
    let int = |t: crate::ir::Ty| IntFormat {
        bits: t.width,
        signed: t.signed,
    };
    (int(p.act.sig_ty()), int(p.wgt.sig_ty()))
}

/// The logic features of a MAC array.
pub fn logic_features(p: &MacArrayParams) -> LogicFeatures {
    let pes = (p.rows * p.cols) as f64;
    let (sa, sb) = (p.act.sig_ty().width as f64, p.wgt.sig_ty().width as f64);
    let shift_range = (p.act.max_shift() + p.wgt.max_shift()) as u64;
    // A logarithmic shifter: stage k shifts by 2^k, and its output is only
    // as wide as the significand product plus the largest shift so far
    // (capped at the product width), so early stages are narrow.
    let stages = if shift_range == 0 { 0 } else { bits_for(shift_range) };
    let shifter: f64 = (0..stages)
        .map(|k| (p.sig_product_width() as u64 + (2u64 << k) - 1).min(p.product_width() as u64) as f64)
        .sum();
    let decode = |op: &super::operand::Operand| match op {
        super::operand::Operand::Int(_) => 0.0,
        super::operand::Operand::Float(f) => f.width() as f64,
    };
    let entry = p.acc_width as f64 + if p.has_specials() { 2.0 } else { 0.0 };
    let acc = p.acc_width as f64;
    let beat_w = if p.dot_length > 1 {
        bits_for(p.dot_length as u64 - 1)
    } else {
        0
    };
    LogicFeatures {
        multiplier_bits: pes * sa * sb,
        accumulator_bits: pes * acc,
        shifter_bits: pes * shifter,
        decode_bits: pes * (decode(&p.act) + decode(&p.wgt)),
        drain_bits: pes * entry,
        rounder_bits: if p.output.is_some() {
            p.cols as f64 * acc * (bits_for(p.acc_width as u64) as f64)
        } else {
            0.0
        },
        restart_bits: if p.dot_length > 1 { pes * acc } else { 0.0 },
        drain_tree_luts: p.cols as f64 * entry * (2 * p.rows - 1).div_ceil(3) as f64,
        beat_counter_luts: if (5..=6).contains(&beat_w) {
            (beat_w << (beat_w - 3)) as f64
        } else {
            0.0
        },
        rounder_linear_bits: if p.output.is_some() { p.cols as f64 * acc } else { 0.0 },
        special_pes: if p.has_specials() { pes } else { 0.0 },
    }
}

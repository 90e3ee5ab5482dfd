//! Parameters of integer MAC arrays and their validation.

use super::operand::Operand;
use crate::ir::ResetStyle;
use crate::minifloat::format::{MAX_MAN_BITS, MAX_OPERAND_MAN_BITS};
use crate::minifloat::{FloatFormat, OnOverflow, Specials};
use crate::params::{ParamError, check_range, clog2};
use serde::{Deserialize, Serialize};

/// What happens when the accumulator cannot hold a sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// Keep the low bits (two's complement wrap-around).
    #[default]
    Wrap,
    /// Clamp to the largest or smallest representable value, at every step.
    Saturate,
}

/// How the PE multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MulImpl {
    /// A plain `*`, which synthesis maps to DSP blocks (or its own LUT multiplier).
    #[default]
    Dsp,
    /// Partial-product rows accumulated on the carry chain, each row gated
    /// by its bit of b before the adder (`s + (a & b_i)`): one LUT per
    /// partial-product bit on LUT6 fabrics (Xilinx CARRY4) and on ECP5.
    Lut,
    /// The same rows gated after the adder (`b_i ? s + a : s`), each row
    /// adder a module of its own that synthesis keeps: one LUT4 per
    /// partial-product bit on iCE40 (SB_CARRY), whose carry needs both
    /// addends as plain signals. Unsigned 8 x 8 adds three bits of each half
    /// of b as two rows of four-input bits in one adder, so it takes three
    /// adder levels instead of five; see `mul_np`.
    Lut4,
    /// Radix-4 (modified) Booth rows, half as many as `lut`: each LUT6
    /// computes one Booth partial-product bit (three bits of b, two of a)
    /// and its sum with the running sum (Xilinx CARRY4), so a row is
    /// generated and added in one LUT per bit. Each row adder is a module
    /// of its own that synthesis keeps.
    Booth,
    /// Radix-4 Booth rows generated in LUTs and summed in a balanced tree
    /// of two-input carry-chain adders (`(r0 + r1) + (r2 + r3)` at 8 x 8
    /// signed): fewer routing hops into and out of carry chains than any
    /// other structure, for ECP5 and iCE40 speed. Every `+1` of a negative
    /// row and every sign-extension constant sits in a free addend slot;
    /// see `mul_tree`. Unsigned 8 x 8 splits off b's low bit instead of
    /// adding a fifth row, so it keeps two adder levels; see `mul_split`.
    #[serde(rename = "booth_tree")]
    BoothTree,
}

impl MulImpl {
    pub fn tag(self) -> &'static str {
        match self {
            MulImpl::Dsp => "dsp",
            MulImpl::Lut => "lut",
            MulImpl::Lut4 => "lut4",
            MulImpl::Booth => "booth",
            MulImpl::BoothTree => "booth_tree",
        }
    }
}

/// A number format as the user writes it: a name (`int8`, `e4m3fn`) or a
/// minifloat spelled out field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatSpec {
    Name(String),
    Float {
        exponent: u64,
        mantissa: u64,
        /// Default: `2^(E-1) - 1`, or `2^(E-1)` for fnuz.
        bias: Option<i64>,
        specials: Specials,
        subnormals: bool,
    },
}

impl From<&str> for FormatSpec {
    fn from(s: &str) -> FormatSpec {
        FormatSpec::Name(s.to_string())
    }
}

impl FormatSpec {
    fn float(&self, key: &str, max_man: u32) -> Result<Option<FloatFormat>, ParamError> {
        let FormatSpec::Float {
            exponent,
            mantissa,
            bias,
            specials,
            subnormals,
        } = self
        else {
            return Ok(None);
        };
        check_range(&format!("{key}.exponent"), *exponent, 1, 8, "exponent bits")?;
        check_range(
            &format!("{key}.mantissa"),
            *mantissa,
            0,
            max_man as u64,
            "mantissa bits",
        )?;
        let e = *exponent as u32;
        let f = FloatFormat {
            exp_bits: e,
            man_bits: *mantissa as u32,
            bias: match bias {
                Some(b) => {
                    i32::try_from(*b).map_err(|_| ParamError::new(format!("{key}.bias"), b, "a small integer"))?
                }
                None => FloatFormat::default_bias(e, *specials),
            },
            specials: *specials,
            subnormals: *subnormals,
        };
        f.validate(key, max_man)?;
        Ok(Some(f))
    }

    /// An operand format.
    pub fn operand(&self, key: &str) -> Result<Operand, ParamError> {
        match self {
            FormatSpec::Name(n) => Operand::parse(key, n),
            _ => Ok(Operand::Float(
                self.float(key, MAX_OPERAND_MAN_BITS)?.unwrap_or_else(|| unreachable!()),
            )),
        }
    }

    /// A format results are rounded to: a minifloat, fp16, bf16 or fp32.
    pub fn output(&self, key: &str) -> Result<FloatFormat, ParamError> {
        match self {
            FormatSpec::Name(n) => FloatFormat::preset(n).ok_or_else(|| {
                ParamError::new(
                    key,
                    format!("`{n}`"),
                    format!(
                        "a float format to round results to: {} or one spelled out",
                        crate::minifloat::PRESETS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }),
            _ => Ok(self.float(key, MAX_MAN_BITS)?.unwrap_or_else(|| unreachable!())),
        }
    }
}

/// Rounding of finished sums to a float format at the array's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutputRounding {
    pub format: FloatFormat,
    pub overflow: OnOverflow,
    /// Register stages inside each column's rounder (at most
    /// [`crate::minifloat::round::MAX_STAGES`]); 0 rounds combinationally.
    pub pipeline: u32,
}

/// A MAC array as the user describes it, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacArraySpec {
    pub rows: u64,
    pub cols: u64,
    /// K: the number of products summed into each result.
    pub dot_length: u64,
    pub activations: FormatSpec,
    pub weights: FormatSpec,
    /// Accumulator width; `None` derives the exact width.
    pub acc_width: Option<u64>,
    /// Required when `acc_width` is narrower than the exact width.
    pub overflow: Option<Overflow>,
    pub multiplier: MulImpl,
    pub reset: ResetStyle,
    /// Round results to this format (`None`: the exact fixed-point sum).
    pub output: Option<(FormatSpec, OnOverflow)>,
    /// Register stages inside the output rounders (needs `output`).
    pub output_pipeline: u64,
    /// Register stages between each PE's multiplier and its accumulator.
    pub pipeline: u64,
}

/// A validated MAC array: every field is in range and consistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacArrayParams {
    pub rows: u32,
    pub cols: u32,
    pub dot_length: u32,
    pub act: Operand,
    pub wgt: Operand,
    pub acc_width: u32,
    pub overflow: Overflow,
    pub multiplier: MulImpl,
    pub reset: ResetStyle,
    pub output: Option<OutputRounding>,
    /// Register stages between each PE's multiplier and its accumulator
    /// (see [`MacArrayParams::pipeline_stages`]); 0 is the unpipelined PE.
    pub pipeline: u32,
}

pub const MAX_DIM: u64 = 256;
pub const MAX_DOT_LENGTH: u64 = 1 << 20;
/// Wide enough for the exact sums of E8 minifloats (about 540 bits).
pub const MAX_ACC_WIDTH: u64 = 1024;
/// Deepest PE pipeline: one register after the multiplier, one after the
/// alignment shift, and a second after the multiplier (room for a DSP
/// block's pipeline register, or for a tool that retimes).
pub const MAX_PIPELINE: u64 = 3;

impl MacArraySpec {
    /// Check every field; keys in errors are relative to the `mac_array` section.
    pub fn validate(&self) -> Result<MacArrayParams, ParamError> {
        check_range("rows", self.rows, 1, MAX_DIM, "the number of PE rows")?;
        check_range("cols", self.cols, 1, MAX_DIM, "the number of PE columns")?;
        check_range(
            "dot_length",
            self.dot_length,
            1,
            MAX_DOT_LENGTH,
            "the dot-product length K",
        )?;
        check_range(
            "pipeline",
            self.pipeline,
            0,
            MAX_PIPELINE,
            "register stages between each PE's multiplier and its accumulator",
        )?;
        let act = self.activations.operand("activations")?;
        let wgt = self.weights.operand("weights")?;
        let product = fixed_product_width(act, wgt) as u64;
        let exact = exact_acc_width(act, wgt, self.dot_length as u32) as u64;
        if exact > MAX_ACC_WIDTH {
            return Err(ParamError::new(
                "weights",
                wgt,
                format!(
                    "exact sums of {act} x {wgt} products (K = {}) need a {exact}-bit accumulator, beyond accgen's {MAX_ACC_WIDTH} bits: use formats with fewer exponent bits (or a bias nearer the default)",
                    self.dot_length
                ),
            ));
        }
        let (acc_width, overflow) = match self.acc_width {
            None => (exact, self.overflow.unwrap_or_default()),
            Some(w) => {
                check_range(
                    "accumulator.width",
                    w,
                    product,
                    MAX_ACC_WIDTH,
                    &format!("the accumulator width (at least the {product}-bit exact product of {act} x {wgt})"),
                )?;
                match self.overflow {
                    Some(o) => (w, o),
                    None if w >= exact => (w, Overflow::Wrap),
                    None => {
                        return Err(ParamError::new(
                            "accumulator.width",
                            w,
                            format!(
                                "{w} bits can overflow when summing K = {} products of {act} x {wgt} (exact width: {exact}); \
                                 set `accumulator.overflow: wrap` or `saturate`, or widen it to {exact}",
                                self.dot_length
                            ),
                        ));
                    }
                }
            }
        };
        let output = match &self.output {
            None if self.output_pipeline > 0 => {
                return Err(ParamError::new(
                    "output.pipeline",
                    self.output_pipeline,
                    "0: without an `output` format the array emits exact sums and has no rounder to pipeline"
                        .to_string(),
                ));
            }
            None => None,
            Some((spec, overflow)) => {
                let format = spec.output("output.format")?;
                if (act.has_nan() || wgt.has_nan() || act.has_inf() && wgt.has_inf()) && format.nan_code().is_none() {
                    return Err(ParamError::new(
                        "output.format",
                        format,
                        format!(
                            "{act} x {wgt} sums can be NaN, which {format} cannot represent: choose an output format with NaN"
                        ),
                    ));
                }
                check_range(
                    "output.pipeline",
                    self.output_pipeline,
                    0,
                    crate::minifloat::round::MAX_STAGES as u64,
                    "register stages inside each output rounder",
                )?;
                Some(OutputRounding {
                    format,
                    overflow: *overflow,
                    pipeline: self.output_pipeline as u32,
                })
            }
        };
        Ok(MacArrayParams {
            output,
            rows: self.rows as u32,
            cols: self.cols as u32,
            dot_length: self.dot_length as u32,
            act,
            wgt,
            acc_width: acc_width as u32,
            overflow,
            multiplier: self.multiplier,
            reset: self.reset,
            pipeline: self.pipeline as u32,
        })
    }
}

/// Width of the exact product as a fixed-point word: the significand
/// product plus room for both operands' largest shifts.
pub fn fixed_product_width(act: Operand, wgt: Operand) -> u32 {
    act.sig_ty().width + wgt.sig_ty().width + act.max_shift() + wgt.max_shift()
}

/// The accumulator width that never overflows: the product width plus
/// ceil(log2 K) bits of growth (`2N + ceil(log2 K)` for two intN).
pub fn exact_acc_width(act: Operand, wgt: Operand, dot_length: u32) -> u32 {
    fixed_product_width(act, wgt) + clog2(dot_length as u64)
}

impl MacArrayParams {
    /// Width of the product of the two significands.
    pub fn sig_product_width(&self) -> u32 {
        self.act.sig_ty().width + self.wgt.sig_ty().width
    }

    /// Width of the exact product in fixed point.
    pub fn product_width(&self) -> u32 {
        fixed_product_width(self.act, self.wgt)
    }

    /// Exponent of the accumulator's least significant bit.
    pub fn lsb_exp(&self) -> i32 {
        self.act.lsb_exp() + self.wgt.lsb_exp()
    }

    /// Products and sums are signed when either significand is.
    pub fn signed(&self) -> bool {
        self.act.sig_ty().signed || self.wgt.sig_ty().signed
    }

    /// Either operand can be NaN or infinite, so PEs track special values.
    pub fn has_specials(&self) -> bool {
        self.act.has_nan() || self.wgt.has_nan() || self.act.has_inf() || self.wgt.has_inf()
    }

    /// Width of one result on the output port.
    pub fn result_width(&self) -> u32 {
        self.output.map(|o| o.format.width()).unwrap_or(self.acc_width)
    }

    /// True when the accumulator can overflow, so `overflow` matters.
    pub fn can_overflow(&self) -> bool {
        self.acc_width < exact_acc_width(self.act, self.wgt, self.dot_length)
    }

    /// Cycles between the last beat of one tile and the last beat of the next
    /// that the array needs: max(R, C).
    pub fn tile_spacing(&self) -> u32 {
        self.rows.max(self.cols)
    }

    /// Cycles from accepting a tile's last beat to its row `r` on the output.
    pub fn row_latency(&self, r: u32) -> u32 {
        r + self.cols + 2 + self.pipeline + self.output_stages()
    }

    /// What each column's output rounder reads: the column's exact sum.
    pub fn round_input(&self) -> crate::minifloat::round::RoundInput {
        crate::minifloat::round::RoundInput {
            width: self.acc_width,
            signed: self.signed(),
            lsb_exp: self.lsb_exp(),
            special: self.has_specials(),
        }
    }

    /// Register stages inside the output rounders (0 without rounding).
    pub fn output_stages(&self) -> u32 {
        self.output.map_or(0, |o| o.pipeline)
    }

    /// Where the PE's pipeline registers sit: `(after_multiplier,
    /// after_align)` stages. The first stage cuts after the multiplier, the
    /// second after the alignment shift (for integers, where there is no
    /// shift, a second copy of the product), the third after the multiplier
    /// again.
    pub fn pipeline_stages(&self) -> (u32, u32) {
        let aligned = u32::from(self.pipeline >= 2);
        (self.pipeline - aligned, aligned)
    }

    /// The part of module names that identifies the arithmetic.
    pub fn arith_tag(&self) -> String {
        format!(
            "a{}_w{}_acc{}{}_{}{}",
            self.act.tag(),
            self.wgt.tag(),
            self.acc_width,
            match self.overflow {
                Overflow::Wrap => "w",
                Overflow::Saturate => "s",
            },
            self.multiplier.tag(),
            if self.pipeline > 0 {
                format!("_p{}", self.pipeline)
            } else {
                String::new()
            },
        )
    }

    /// The part of the array's name that identifies output rounding.
    pub fn output_tag(&self) -> String {
        match self.output {
            None => String::new(),
            Some(o) => format!(
                "_to_{}{}{}",
                o.format.tag(),
                if o.overflow == OnOverflow::Special { "_ovs" } else { "" },
                if o.pipeline > 0 {
                    format!("_rp{}", o.pipeline)
                } else {
                    String::new()
                }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MacArraySpec {
        MacArraySpec {
            rows: 4,
            cols: 4,
            dot_length: 16,
            activations: "int8".into(),
            weights: "int8".into(),
            acc_width: None,
            overflow: None,
            multiplier: MulImpl::Dsp,
            reset: ResetStyle::SyncHigh,
            output: None,
            pipeline: 0,
            output_pipeline: 0,
        }
    }

    #[test]
    fn pipeline_depth_is_validated_and_named() {
        let mut s = spec();
        assert!(!s.validate().unwrap().arith_tag().contains("_p"));
        s.pipeline = 2;
        let p = s.validate().unwrap();
        assert_eq!(p.pipeline_stages(), (1, 1));
        assert!(p.arith_tag().ends_with("_dsp_p2"), "{}", p.arith_tag());
        assert_eq!(p.row_latency(0), 4 + 2 + 2);
        s.pipeline = 4;
        let e = s.validate().unwrap_err();
        assert_eq!(e.key, "pipeline");
        assert!(e.allowed.contains("0..=3"), "{e}");
    }

    #[test]
    fn derives_the_exact_accumulator() {
        let p = spec().validate().unwrap();
        assert_eq!(p.acc_width, 20);
        assert!(!p.can_overflow());
    }

    #[test]
    fn narrow_accumulator_needs_an_overflow_choice() {
        let mut s = spec();
        s.acc_width = Some(18);
        let e = s.validate().unwrap_err();
        assert_eq!(e.key, "accumulator.width");
        assert!(e.allowed.contains("saturate"), "{e}");
        s.overflow = Some(Overflow::Saturate);
        assert!(s.validate().unwrap().can_overflow());
        s.acc_width = Some(15);
        assert!(s.validate().unwrap_err().allowed.contains("16-bit exact product"));
    }

    #[test]
    fn out_of_range_dimensions_are_rejected() {
        for (f, key) in [
            (
                Box::new(|s: &mut MacArraySpec| s.rows = 0) as Box<dyn Fn(&mut MacArraySpec)>,
                "rows",
            ),
            (Box::new(|s: &mut MacArraySpec| s.cols = 257), "cols"),
            (Box::new(|s: &mut MacArraySpec| s.dot_length = 0), "dot_length"),
            (Box::new(|s: &mut MacArraySpec| s.weights = "int1".into()), "weights"),
            (
                Box::new(|s: &mut MacArraySpec| s.activations = "int65".into()),
                "activations",
            ),
        ] {
            let mut s = spec();
            f(&mut s);
            assert_eq!(s.validate().unwrap_err().key, key);
        }
    }
}

//! Parameters of integer MAC arrays and their validation.

use crate::ir::ResetStyle;
use crate::params::{IntFormat, ParamError, check_range, clog2};
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
    /// Partial-product rows summed by a balanced adder tree, built by accgen.
    Lut,
}

impl MulImpl {
    pub fn tag(self) -> &'static str {
        match self {
            MulImpl::Dsp => "dsp",
            MulImpl::Lut => "lut",
        }
    }
}

/// A MAC array as the user describes it, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacArraySpec {
    pub rows: u64,
    pub cols: u64,
    /// K: the number of products summed into each result.
    pub dot_length: u64,
    pub activations: String,
    pub weights: String,
    /// Accumulator width; `None` derives the exact width.
    pub acc_width: Option<u64>,
    /// Required when `acc_width` is narrower than the exact width.
    pub overflow: Option<Overflow>,
    pub multiplier: MulImpl,
    pub reset: ResetStyle,
}

/// A validated MAC array: every field is in range and consistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacArrayParams {
    pub rows: u32,
    pub cols: u32,
    pub dot_length: u32,
    pub act: IntFormat,
    pub wgt: IntFormat,
    pub acc_width: u32,
    pub overflow: Overflow,
    pub multiplier: MulImpl,
    pub reset: ResetStyle,
}

pub const MAX_DIM: u64 = 256;
pub const MAX_DOT_LENGTH: u64 = 1 << 20;
pub const MAX_ACC_WIDTH: u64 = 64;

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
        let act = IntFormat::parse("activations", &self.activations)?;
        let wgt = IntFormat::parse("weights", &self.weights)?;
        let product = (act.bits + wgt.bits) as u64;
        let exact = exact_acc_width(act, wgt, self.dot_length as u32) as u64;
        let (acc_width, overflow) = match self.acc_width {
            None => (exact, self.overflow.unwrap_or_default()),
            Some(w) => {
                check_range(
                    "accumulator.width",
                    w,
                    product,
                    MAX_ACC_WIDTH,
                    &format!("the accumulator width (at least the {product}-bit product of {act} x {wgt})"),
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
        Ok(MacArrayParams {
            rows: self.rows as u32,
            cols: self.cols as u32,
            dot_length: self.dot_length as u32,
            act,
            wgt,
            acc_width: acc_width as u32,
            overflow,
            multiplier: self.multiplier,
            reset: self.reset,
        })
    }
}

/// The accumulator width that never overflows: the product width plus
/// ceil(log2 K) bits of growth (`2N + ceil(log2 K)` for equal widths).
pub fn exact_acc_width(act: IntFormat, wgt: IntFormat, dot_length: u32) -> u32 {
    act.bits + wgt.bits + clog2(dot_length as u64)
}

impl MacArrayParams {
    /// Width of the exact product.
    pub fn product_width(&self) -> u32 {
        self.act.bits + self.wgt.bits
    }

    /// Products and sums are signed when either operand is.
    pub fn signed(&self) -> bool {
        self.act.signed || self.wgt.signed
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
        r + self.cols + 2
    }

    /// The part of module names that identifies the arithmetic.
    pub fn arith_tag(&self) -> String {
        format!(
            "a{}_w{}_acc{}{}_{}",
            self.act.tag(),
            self.wgt.tag(),
            self.acc_width,
            match self.overflow {
                Overflow::Wrap => "w",
                Overflow::Saturate => "s",
            },
            self.multiplier.tag()
        )
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
        }
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
        assert!(s.validate().unwrap_err().allowed.contains("16-bit product"));
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

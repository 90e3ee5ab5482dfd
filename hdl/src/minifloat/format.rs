//! Minifloat formats: parameters, validation, presets, and the exact
//! decode and round-to-nearest-even encode every other part relies on.
//!
//! A format `ExMy` has a sign bit, E exponent bits and M mantissa bits. A
//! finite code with exponent field `e` and mantissa field `m` is worth
//! `(-1)^s * 2^(e - bias) * (1 + m/2^M)` when `e > 0` and
//! `(-1)^s * 2^(1 - bias) * (m/2^M)` when `e == 0` (zero when subnormals are
//! off). Which codes are NaN or infinity depends on [`Specials`].

use crate::params::ParamError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which codes are reserved for special values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Specials {
    /// Top exponent field: mantissa 0 is +-inf, anything else NaN (IEEE 754, OCP E5M2).
    Ieee,
    /// Only `S.11..1.11..1` is NaN; no infinities (OCP E4M3).
    Fn,
    /// Only the negative-zero code `1.00..0.00..0` is NaN; no -0, no infinities.
    Fnuz,
    /// Every code is a finite number (OCP MX FP6/FP4).
    Finite,
}

impl Specials {
    pub fn name(self) -> &'static str {
        match self {
            Specials::Ieee => "ieee",
            Specials::Fn => "fn",
            Specials::Fnuz => "fnuz",
            Specials::Finite => "finite",
        }
    }
}

/// What encoding does with a finite value beyond the largest finite one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnOverflow {
    /// Clamp to +-max, as ML quantizers (Brevitas, OCP MX) do.
    #[default]
    Saturate,
    /// Infinity where the format has it, else NaN where it has that, else +-max
    /// (what ml_dtypes' `astype` does).
    Special,
}

/// A minifloat format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FloatFormat {
    pub exp_bits: u32,
    pub man_bits: u32,
    pub bias: i32,
    pub specials: Specials,
    pub subnormals: bool,
}

/// A decoded code: `(-1)^neg * sig * 2^exp`, or a special value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Finite { neg: bool, sig: u64, exp: i32 },
    Inf { neg: bool },
    NaN,
}

impl Value {
    pub fn to_f64(self) -> f64 {
        match self {
            Value::NaN => f64::NAN,
            Value::Inf { neg } => {
                if neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            Value::Finite { neg, sig, exp } => {
                let v = sig as f64 * 2f64.powi(exp);
                if neg { -v } else { v }
            }
        }
    }
}

/// The named formats: ml_dtypes' names, plus IEEE half, bfloat16 and single.
pub const PRESETS: [(&str, FloatFormat); 12] = [
    ("e4m3fn", FloatFormat::new(4, 3, 7, Specials::Fn)),
    ("e4m3fnuz", FloatFormat::new(4, 3, 8, Specials::Fnuz)),
    ("e5m2", FloatFormat::new(5, 2, 15, Specials::Ieee)),
    ("e5m2fnuz", FloatFormat::new(5, 2, 16, Specials::Fnuz)),
    ("e4m3", FloatFormat::new(4, 3, 7, Specials::Ieee)),
    ("e3m4", FloatFormat::new(3, 4, 3, Specials::Ieee)),
    ("e2m3fn", FloatFormat::new(2, 3, 1, Specials::Finite)),
    ("e3m2fn", FloatFormat::new(3, 2, 3, Specials::Finite)),
    ("e2m1fn", FloatFormat::new(2, 1, 1, Specials::Finite)),
    ("fp16", FloatFormat::new(5, 10, 15, Specials::Ieee)),
    ("bf16", FloatFormat::new(8, 7, 127, Specials::Ieee)),
    ("fp32", FloatFormat::new(8, 23, 127, Specials::Ieee)),
];

/// Limits of formats accgen accepts as MAC operands; output formats may
/// have mantissas up to fp32's 23 bits.
pub const MAX_EXP_BITS: u32 = 8;
pub const MAX_OPERAND_MAN_BITS: u32 = 10;
pub const MAX_MAN_BITS: u32 = 23;

impl FloatFormat {
    pub const fn new(exp_bits: u32, man_bits: u32, bias: i32, specials: Specials) -> FloatFormat {
        FloatFormat {
            exp_bits,
            man_bits,
            bias,
            specials,
            subnormals: true,
        }
    }

    /// The default bias: `2^(E-1) - 1`, or `2^(E-1)` for fnuz.
    pub fn default_bias(exp_bits: u32, specials: Specials) -> i32 {
        let half = 1i32 << (exp_bits.clamp(1, 30) - 1);
        if specials == Specials::Fnuz { half } else { half - 1 }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<FloatFormat> {
        PRESETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The preset's name, if this format is one.
    pub fn preset_name(&self) -> Option<&'static str> {
        PRESETS.iter().find(|(_, f)| f == self).map(|(n, _)| *n)
    }

    /// Check the fields; `key` prefixes the error keys. `max_man` is
    /// [`MAX_OPERAND_MAN_BITS`] for operands.
    pub fn validate(&self, key: &str, max_man: u32) -> Result<(), ParamError> {
        let e = self.exp_bits;
        if !(1..=MAX_EXP_BITS).contains(&e) {
            return Err(ParamError::new(
                format!("{key}.exponent"),
                e,
                format!("exponent bits must be 1..={MAX_EXP_BITS}"),
            ));
        }
        if self.man_bits > max_man {
            return Err(ParamError::new(
                format!("{key}.mantissa"),
                self.man_bits,
                format!("mantissa bits must be 0..={max_man}"),
            ));
        }
        match self.specials {
            Specials::Ieee if e < 2 => {
                return Err(ParamError::new(
                    format!("{key}.specials"),
                    "ieee",
                    format!(
                        "with E = {e} the ieee mode reserves every normal exponent for inf/NaN: use E >= 2 or fn, fnuz, finite"
                    ),
                ));
            }
            Specials::Fn if self.man_bits == 0 && e == 1 => {
                return Err(ParamError::new(
                    format!("{key}.specials"),
                    "fn",
                    "with E = 1 and M = 0 the fn NaN code would be the only nonzero code: use M >= 1 or another mode",
                ));
            }
            Specials::Fn if self.man_bits == 0 => {
                return Err(ParamError::new(
                    format!("{key}.specials"),
                    "fn",
                    "with M = 0 the fn NaN code would be the only code of the top exponent: use M >= 1, or ieee or finite",
                ));
            }
            _ => {}
        }
        let limit = 1i32 << (e + 1);
        if !(-limit..=limit).contains(&self.bias) {
            return Err(ParamError::new(
                format!("{key}.bias"),
                self.bias,
                format!("the bias must be {}..={limit}", -limit),
            ));
        }
        Ok(())
    }

    pub fn width(&self) -> u32 {
        1 + self.exp_bits + self.man_bits
    }

    fn exp_mask(&self) -> u64 {
        (1u64 << self.exp_bits) - 1
    }

    fn man_mask(&self) -> u64 {
        (1u64 << self.man_bits) - 1
    }

    /// The largest exponent field that holds finite values.
    pub fn max_exp_field(&self) -> u32 {
        match self.specials {
            Specials::Ieee => (1 << self.exp_bits) - 2,
            _ => (1 << self.exp_bits) - 1,
        }
    }

    /// The largest mantissa field at the largest finite exponent.
    fn max_man_field(&self) -> u64 {
        match self.specials {
            Specials::Fn => self.man_mask() - 1,
            _ => self.man_mask(),
        }
    }

    /// Code of the largest finite value.
    pub fn max_code(&self) -> u64 {
        ((self.max_exp_field() as u64) << self.man_bits) | self.max_man_field()
    }

    pub fn max_value(&self) -> f64 {
        self.decode(self.max_code()).to_f64()
    }

    pub fn sign_bit(&self) -> u64 {
        1 << (self.exp_bits + self.man_bits)
    }

    /// The canonical NaN code, if the format has NaN.
    pub fn nan_code(&self) -> Option<u64> {
        match self.specials {
            // The quiet NaN (top mantissa bit set); with M = 0 the top exponent holds only infinities.
            Specials::Ieee if self.man_bits == 0 => None,
            Specials::Ieee => Some((self.exp_mask() << self.man_bits) | (1 << (self.man_bits - 1))),
            Specials::Fn => Some((self.exp_mask() << self.man_bits) | self.man_mask()),
            Specials::Fnuz => Some(self.sign_bit()),
            Specials::Finite => None,
        }
    }

    pub fn has_inf(&self) -> bool {
        self.specials == Specials::Ieee
    }

    pub fn inf_code(&self, neg: bool) -> Option<u64> {
        self.has_inf()
            .then(|| (self.exp_mask() << self.man_bits) | if neg { self.sign_bit() } else { 0 })
    }

    /// Exponent of the least significant bit of a subnormal (and of the smallest normal).
    pub fn min_exp(&self) -> i32 {
        1 - self.bias - self.man_bits as i32
    }

    /// Decode a code (the low `width()` bits are used).
    pub fn decode(&self, code: u64) -> Value {
        let m_bits = self.man_bits;
        let code = code & ((1u64 << self.width()) - 1);
        let neg = code & self.sign_bit() != 0;
        let e = (code >> m_bits) & self.exp_mask();
        let m = code & self.man_mask();
        match self.specials {
            Specials::Ieee if e == self.exp_mask() => {
                return if m == 0 { Value::Inf { neg } } else { Value::NaN };
            }
            Specials::Fn if e == self.exp_mask() && m == self.man_mask() => return Value::NaN,
            Specials::Fnuz if code == self.sign_bit() => return Value::NaN,
            _ => {}
        }
        if e == 0 {
            let sig = if self.subnormals { m } else { 0 };
            Value::Finite {
                neg,
                sig,
                exp: self.min_exp(),
            }
        } else {
            Value::Finite {
                neg,
                sig: (1 << m_bits) | m,
                exp: e as i32 - self.bias - m_bits as i32,
            }
        }
    }

    pub fn to_f64(&self, code: u64) -> f64 {
        self.decode(code).to_f64()
    }

    /// Round `(-1)^neg * mag * 2^exp` to the nearest code, ties to even.
    /// Results below the smallest normal flush to zero when subnormals are off.
    pub fn encode_exact(&self, neg: bool, mag: u128, exp: i32, overflow: OnOverflow) -> u64 {
        let m_bits = self.man_bits as i32;
        let sign = if neg { self.sign_bit() } else { 0 };
        let zero = if self.specials == Specials::Fnuz { 0 } else { sign };
        if mag == 0 {
            return zero;
        }
        let top = 127 - mag.leading_zeros() as i32 + exp; // floor(log2 |x|)
        let emin = 1 - self.bias; // exponent of the smallest normal
        // The quantum: the weight of the mantissa's last bit in x's binade.
        let q = if top >= emin { top - m_bits } else { emin - m_bits };
        let n = round_shift(mag, q - exp);
        let (mut n, mut q) = (n, q);
        if n >> (m_bits + 1) != 0 {
            // Rounding carried into the next binade.
            n >>= 1;
            q += 1;
        }
        let (e_field, m_field) = if n >> m_bits != 0 {
            ((q + m_bits + self.bias) as i64, (n as u64) & self.man_mask())
        } else {
            (0, n as u64)
        };
        if e_field == 0 && !self.subnormals {
            return zero;
        }
        if n == 0 {
            return zero;
        }
        let too_big = e_field > self.max_exp_field() as i64
            || (e_field == self.max_exp_field() as i64 && m_field > self.max_man_field());
        if too_big {
            return self.overflow_code(neg, overflow);
        }
        sign | ((e_field as u64) << self.man_bits) | m_field
    }

    /// What a finite value beyond the range becomes.
    pub fn overflow_code(&self, neg: bool, overflow: OnOverflow) -> u64 {
        let sign = if neg { self.sign_bit() } else { 0 };
        match overflow {
            OnOverflow::Saturate => sign | self.max_code(),
            OnOverflow::Special => match (self.inf_code(neg), self.nan_code()) {
                (Some(inf), _) => inf,
                (None, Some(nan)) => nan,
                (None, None) => sign | self.max_code(),
            },
        }
    }

    /// Round an f64 to the nearest code, ties to even. Infinities become
    /// infinities where the format has them, else they overflow like any
    /// large value; NaN becomes the NaN code (zero in a format without NaN).
    pub fn encode(&self, x: f64, overflow: OnOverflow) -> u64 {
        if x.is_nan() {
            return self.nan_code().unwrap_or(0);
        }
        let neg = x.is_sign_negative();
        if x.is_infinite() {
            return match (overflow, self.inf_code(neg)) {
                (OnOverflow::Special, Some(inf)) => inf,
                _ => self.overflow_code(neg, overflow),
            };
        }
        let bits = x.abs().to_bits();
        let raw_exp = (bits >> 52) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (mag, exp) = if raw_exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), raw_exp - 1075)
        };
        self.encode_exact(neg, mag as u128, exp, overflow)
    }

    /// Short name for module names: the preset name, or `e4m3b7fn` style.
    pub fn tag(&self) -> String {
        match self.preset_name() {
            Some(n) => n.to_string(),
            None => format!(
                "e{}m{}b{}{}{}",
                self.exp_bits,
                self.man_bits,
                if self.bias < 0 {
                    format!("n{}", -self.bias)
                } else {
                    self.bias.to_string()
                },
                self.specials.name(),
                if self.subnormals { "" } else { "ftz" }
            ),
        }
    }
}

/// `round_to_nearest_even(mag / 2^shift)`; a negative shift multiplies.
fn round_shift(mag: u128, shift: i32) -> u128 {
    if shift <= 0 {
        return mag << (-shift) as u32;
    }
    if shift >= 128 {
        return 0;
    }
    let s = shift as u32;
    let kept = mag >> s;
    let rest = mag & ((1u128 << s) - 1);
    let half = 1u128 << (s - 1);
    if rest > half || (rest == half && kept & 1 == 1) {
        kept + 1
    } else {
        kept
    }
}

impl fmt::Display for FloatFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.preset_name() {
            Some(n) => f.write_str(n),
            None => write!(
                f,
                "e{}m{} (bias {}, {}{})",
                self.exp_bits,
                self.man_bits,
                self.bias,
                self.specials.name(),
                if self.subnormals { "" } else { ", no subnormals" }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str) -> FloatFormat {
        FloatFormat::preset(name).unwrap()
    }

    #[test]
    fn reference_maxima_and_minima() {
        for (name, max, min_sub) in [
            ("e4m3fn", 448.0, 2f64.powi(-9)),
            ("e4m3fnuz", 240.0, 2f64.powi(-10)),
            ("e5m2", 57344.0, 2f64.powi(-16)),
            ("e5m2fnuz", 57344.0, 2f64.powi(-17)),
            ("e4m3", 240.0, 2f64.powi(-9)),
            ("e3m4", 15.5, 2f64.powi(-6)),
            ("e2m3fn", 7.5, 0.125),
            ("e3m2fn", 28.0, 2f64.powi(-4)),
            ("e2m1fn", 6.0, 0.5),
        ] {
            assert_eq!(f(name).max_value(), max, "{name}");
            assert_eq!(f(name).to_f64(1), min_sub, "{name}");
        }
    }

    #[test]
    fn rounding_ties_to_even_and_saturation() {
        let e4m3 = f("e4m3fn");
        assert_eq!(e4m3.encode(464.0, OnOverflow::Saturate), 0x7e);
        assert_eq!(e4m3.encode(500.0, OnOverflow::Special), 0x7f);
        assert_eq!(e4m3.encode(-1e9, OnOverflow::Saturate), 0xfe);
        assert_eq!(f("e2m1fn").encode(2.5, OnOverflow::Saturate), 0b0100);
        assert_eq!(f("e5m2").encode(1e6, OnOverflow::Special), 0x7c);
        assert_eq!(f("e4m3fnuz").encode(-0.0, OnOverflow::Saturate), 0);
        // Half the smallest subnormal ties to zero (even); a hair above rounds up.
        let tiny = 2f64.powi(-10);
        assert_eq!(e4m3.encode(tiny, OnOverflow::Saturate), 0);
        assert_eq!(e4m3.encode(tiny * 1.0001, OnOverflow::Saturate), 1);
    }

    #[test]
    fn every_code_round_trips() {
        for (name, fmt) in PRESETS.iter().filter(|(_, f)| f.width() <= 16) {
            for code in 0..1u64 << fmt.width() {
                let v = fmt.to_f64(code);
                if v.is_nan() {
                    continue;
                }
                let back = fmt.encode(v, OnOverflow::Special);
                let same = back == code || (v == 0.0 && fmt.to_f64(back) == 0.0);
                assert!(same, "{name} code {code:#x} = {v} encodes back to {back:#x}");
            }
        }
    }

    #[test]
    fn flush_to_zero_without_subnormals() {
        let ftz = FloatFormat {
            subnormals: false,
            ..f("e4m3fn")
        };
        assert_eq!(ftz.to_f64(1), 0.0);
        assert_eq!(ftz.encode(2f64.powi(-7), OnOverflow::Saturate), 0);
        assert_eq!(ftz.encode(2f64.powi(-6), OnOverflow::Saturate), 0x08);
    }

    #[test]
    fn impossible_formats_are_rejected() {
        let bad = |e, m, s| FloatFormat::new(e, m, FloatFormat::default_bias(e, s), s).validate("w", 10);
        assert_eq!(bad(0, 3, Specials::Finite).unwrap_err().key, "w.exponent");
        assert_eq!(bad(9, 3, Specials::Finite).unwrap_err().key, "w.exponent");
        assert_eq!(bad(4, 11, Specials::Finite).unwrap_err().key, "w.mantissa");
        assert_eq!(bad(4, 0, Specials::Fn).unwrap_err().key, "w.specials");
        assert_eq!(bad(1, 2, Specials::Ieee).unwrap_err().key, "w.specials");
        assert!(bad(1, 0, Specials::Finite).is_ok());
    }
}

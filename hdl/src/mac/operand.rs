//! MAC operands of any number format, reduced to one form: a signed
//! integer significand, a left shift and a special-value class. The value
//! of a finite operand is `sig * 2^(shift + lsb_exp)`. An exact product of
//! two operands is then an integer product shifted into one fixed-point
//! word, whatever the formats: integers have no shift, minifloats shift by
//! their exponent. This is what makes one PE generator serve every format.

use crate::ir::{Expr, ModuleBuilder, Signal, Ty, concat, mux};
use crate::minifloat::{FloatFormat, Specials, Value};
use crate::params::{IntFormat, ParamError, bits_for};
use std::fmt;

/// The number format of a MAC operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    Int(IntFormat),
    Float(FloatFormat),
}

/// What an operand code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Finite,
    NaN,
    Inf { neg: bool },
}

/// A decoded operand: `sig * 2^(shift + lsb_exp)` when finite. Special
/// codes decode to `sig = 0` so they never disturb the accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub sig: i64,
    pub shift: u32,
    pub class: Class,
    /// The sign bit (for infinities and signed zeros).
    pub neg: bool,
}

impl Operand {
    /// Parse a format name: `int8`, `uint4`, or a minifloat preset such as `e4m3fn`.
    pub fn parse(key: &str, text: &str) -> Result<Operand, ParamError> {
        if let Some(f) = FloatFormat::preset(text) {
            f.validate(key, crate::minifloat::format::MAX_OPERAND_MAN_BITS)?;
            return Ok(Operand::Float(f));
        }
        IntFormat::parse(key, text).map(Operand::Int).map_err(|mut e| {
            let presets: Vec<&str> = crate::minifloat::PRESETS
                .iter()
                .filter(|(_, f)| f.man_bits <= crate::minifloat::format::MAX_OPERAND_MAN_BITS)
                .map(|(n, _)| *n)
                .collect();
            e.allowed = format!(
                "an integer format int2..int16 (signed) or uint2..uint16 (unsigned), a minifloat preset ({}), or a minifloat spelled out as {{exponent, mantissa, bias, specials, subnormals}}",
                presets.join(", ")
            );
            e
        })
    }

    /// Bits of a code.
    pub fn width(&self) -> u32 {
        match self {
            Operand::Int(f) => f.bits,
            Operand::Float(f) => f.width(),
        }
    }

    /// Width and signedness of the significand.
    pub fn sig_ty(&self) -> Ty {
        match self {
            Operand::Int(f) => Ty::new(f.bits, f.signed),
            Operand::Float(f) => Ty::s(f.man_bits + 2),
        }
    }

    /// The largest shift: the exponent field range of finite codes, minus one.
    pub fn max_shift(&self) -> u32 {
        match self {
            Operand::Int(_) => 0,
            Operand::Float(f) => f.max_exp_field() - 1,
        }
    }

    /// Exponent of the significand's least significant bit at shift 0.
    pub fn lsb_exp(&self) -> i32 {
        match self {
            Operand::Int(_) => 0,
            Operand::Float(f) => f.min_exp(),
        }
    }

    pub fn has_nan(&self) -> bool {
        matches!(self, Operand::Float(f) if f.nan_code().is_some())
    }

    pub fn has_inf(&self) -> bool {
        matches!(self, Operand::Float(f) if f.has_inf())
    }

    /// Short tag for module names.
    pub fn tag(&self) -> String {
        match self {
            Operand::Int(f) => f.tag(),
            Operand::Float(f) => f.tag(),
        }
    }

    /// Decode a code (its low `width()` bits).
    pub fn decode(&self, code: u64) -> Decoded {
        match self {
            Operand::Int(f) => {
                let sig = f.decode(code);
                Decoded {
                    sig,
                    shift: 0,
                    class: Class::Finite,
                    neg: sig < 0,
                }
            }
            Operand::Float(f) => {
                let neg = code & f.sign_bit() != 0;
                match f.decode(code) {
                    Value::NaN => Decoded {
                        sig: 0,
                        shift: 0,
                        class: Class::NaN,
                        neg,
                    },
                    Value::Inf { neg } => Decoded {
                        sig: 0,
                        shift: 0,
                        class: Class::Inf { neg },
                        neg,
                    },
                    Value::Finite { neg, sig, exp } => Decoded {
                        sig: if neg { -(sig as i64) } else { sig as i64 },
                        shift: if sig == 0 { 0 } else { (exp - f.min_exp()) as u32 },
                        class: Class::Finite,
                        neg,
                    },
                }
            }
        }
    }

    /// The raw code of a random-test corner: zeros, extremes, specials.
    pub fn corner_codes(&self) -> Vec<u64> {
        match self {
            Operand::Int(f) => {
                let mut v = vec![f.encode(f.min()), f.encode(f.max()), 0, 1, f.encode(f.min() + 1)];
                if f.signed {
                    v.push(f.encode(-1));
                }
                v
            }
            Operand::Float(f) => {
                let s = f.sign_bit();
                let mut v = vec![
                    0,
                    s,
                    1,
                    s | 1,
                    f.max_code(),
                    s | f.max_code(),
                    1 << f.man_bits,
                    (1 << f.man_bits) - 1,
                ];
                v.extend(f.nan_code());
                v.extend(f.inf_code(false));
                v.extend(f.inf_code(true));
                v
            }
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Int(i) => write!(f, "{i}"),
            Operand::Float(x) => write!(f, "{x}"),
        }
    }
}

/// The decoder's outputs inside a PE.
pub struct DecodedSignals {
    /// Signed (or, for unsigned integers, unsigned) significand.
    pub sig: Expr,
    /// Left shift; `None` for integers.
    pub shift: Option<Signal>,
    pub nan: Option<Signal>,
    pub inf: Option<Signal>,
    /// Sign bit, for the sign of infinite products.
    pub neg: Option<Expr>,
    /// The value is zero (for inf x 0 = NaN).
    pub zero: Option<Signal>,
}

/// Build the decoder of operand `code` (named `prefix_*`) inside a PE.
pub fn decode_hw(m: &mut ModuleBuilder, prefix: &str, op: &Operand, code: &Signal, need_zero: bool) -> DecodedSignals {
    let f = match op {
        Operand::Int(i) => {
            let zero = need_zero.then(|| {
                m.wire_of(
                    &format!("{prefix}_zero"),
                    code.e().eq(code.ty().zero()),
                    "operand is zero",
                )
            });
            return DecodedSignals {
                sig: code.e(),
                shift: None,
                nan: None,
                inf: None,
                // Only needed for the sign of int x inf.
                neg: (need_zero && i.signed).then(|| code.e().msb()),
                zero,
            };
        }
        Operand::Float(f) => *f,
    };
    let (eb, mb) = (f.exp_bits, f.man_bits);
    let w = f.width();
    let neg = code.bit(w - 1);
    let exp = m.wire_of(&format!("{prefix}_exp"), code.select(mb, eb), "exponent field");
    let man = (mb > 0).then(|| m.wire_of(&format!("{prefix}_man"), code.select(0u32, mb), "mantissa field"));
    let exp_zero = exp.e().eq(Ty::u(eb).zero());
    let exp_top = exp.e().eq(Ty::u(eb).ones());
    let man_all = |v: Expr| man.as_ref().map(|s| s.e().eq(v)).unwrap_or_else(|| Ty::BIT.lit(1));
    let (nan, inf): (Option<Expr>, Option<Expr>) = match f.specials {
        Specials::Ieee => {
            let man_zero = man_all(Ty::u(mb.max(1)).zero());
            (
                (mb > 0).then(|| exp_top.clone() & !man_zero.clone()),
                Some(exp_top.clone() & man_zero),
            )
        }
        Specials::Fn => (Some(exp_top.clone() & man_all(Ty::u(mb.max(1)).ones())), None),
        Specials::Fnuz => (Some(code.e().eq(Ty::u(w).pattern(1 << (w - 1)))), None),
        Specials::Finite => (None, None),
    };
    let nan = nan.map(|e| m.wire_of(&format!("{prefix}_nan"), e, "NaN code"));
    let inf = inf.map(|e| m.wire_of(&format!("{prefix}_inf"), e, "infinity code"));
    // The hidden bit is 1 for normal codes; subnormals read as zero when flushed.
    let hidden = m.wire_of(
        &format!("{prefix}_hidden"),
        !exp_zero.clone(),
        "normal: implicit leading one",
    );
    let mag_parts = |h: Expr| match &man {
        Some(mn) => concat(vec![h, mn.e()]),
        None => h,
    };
    let special = match (&nan, &inf) {
        (Some(n), Some(i)) => Some(n.e() | i.e()),
        (Some(n), None) => Some(n.e()),
        (None, Some(i)) => Some(i.e()),
        (None, None) => None,
    };
    let mut mag = mag_parts(hidden.e());
    if !f.subnormals {
        mag = mux(exp_zero.clone(), Ty::u(mb + 1).zero(), mag);
    }
    // Zero means a finite zero: special codes are not zero (inf x 0 is NaN,
    // inf x inf is inf).
    let zero = need_zero.then(|| {
        let finite_zero = mag.clone().eq(Ty::u(mb + 1).zero());
        let e = match &special {
            Some(s) => finite_zero & !s.clone(),
            None => finite_zero,
        };
        m.wire_of(&format!("{prefix}_zero"), e, "operand is a finite zero")
    });
    if let Some(s) = &special {
        // Special codes contribute nothing to the sum; their flags carry them.
        mag = mux(s.clone(), Ty::u(mb + 1).zero(), mag);
    }
    let mag = m.wire_of(
        &format!("{prefix}_mag"),
        mag,
        "significand magnitude, hidden bit on top",
    );
    let mag_s = concat(vec![Ty::BIT.zero(), mag.e()]).cast(true);
    let sig = m.wire_of(
        &format!("{prefix}_sig"),
        mux(neg.clone(), -mag_s.clone(), mag_s),
        "signed significand",
    );
    let shift_w = bits_for(op.max_shift() as u64);
    let shift = if op.max_shift() == 0 {
        None
    } else {
        // A subnormal code sits at the same scale as exponent field 1. The
        // shift is taken modulo 2^shift_w: only special codes (whose
        // significand is forced to zero) have exponents beyond that.
        let t = Ty::u(shift_w);
        let low = exp.e().trunc(shift_w);
        Some(m.wire_of(
            &format!("{prefix}_shift"),
            mux(exp_zero, t.zero(), low - t.lit(1)),
            "left shift of the significand: exponent field - 1, 0 for subnormals",
        ))
    };
    DecodedSignals {
        sig: sig.e(),
        shift,
        nan,
        inf,
        neg: Some(neg),
        zero,
    }
}

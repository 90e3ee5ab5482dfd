//! Typed expressions. Every constructor checks widths and signedness when the
//! expression is built, so a width bug in block code stops generation with a
//! message naming the call site instead of becoming a Verilator warning.
//!
//! The rules are stricter than Verilog's, on purpose: Verilog sizes operands
//! from their context, which is where silent truncation and sign-extension
//! bugs come from. Here every binary operator takes operands of one width and
//! one signedness, and the block code extends or truncates explicitly. The
//! emitted Verilog is then self-determined everywhere and lint-clean.

use super::{Genvar, Signal};
use crate::Bits;
use std::sync::Arc;

/// Width and signedness of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ty {
    pub width: u32,
    pub signed: bool,
}

impl Ty {
    pub const BIT: Ty = Ty {
        width: 1,
        signed: false,
    };

    /// Unsigned, `width` bits.
    pub fn u(width: u32) -> Ty {
        assert!(width > 0, "zero-width type: validate widths before building hardware");
        Ty { width, signed: false }
    }

    /// Signed (two's complement), `width` bits.
    pub fn s(width: u32) -> Ty {
        assert!(width > 0, "zero-width type: validate widths before building hardware");
        Ty { width, signed: true }
    }

    pub fn new(width: u32, signed: bool) -> Ty {
        if signed { Ty::s(width) } else { Ty::u(width) }
    }

    /// A constant of this type from an integer (two's complement, low bits kept).
    #[track_caller]
    pub fn lit(self, value: i128) -> Expr {
        let fits = if self.signed {
            self.width >= 128 || {
                let half = 1i128 << (self.width - 1);
                (-half..half).contains(&value)
            }
        } else {
            value >= 0 && (self.width >= 127 || value < (1i128 << self.width))
        };
        assert!(fits, "constant {value} does not fit {self:?}");
        Expr::Const {
            value: Bits::from_i128(self.width, value),
            signed: self.signed,
        }
    }

    /// An unsigned bit pattern (a float code, a mask), printed in hex.
    #[track_caller]
    pub fn pattern(self, value: u64) -> Expr {
        assert!(!self.signed, "bit patterns are unsigned");
        assert!(
            self.width >= 64 || value >> self.width == 0,
            "pattern {value:#x} does not fit {self:?}"
        );
        Expr::Pattern(Bits::from_u64(self.width, value))
    }

    pub fn zero(self) -> Expr {
        Expr::Const {
            value: Bits::zero(self.width),
            signed: self.signed,
        }
    }

    /// All bits one (-1 when signed).
    pub fn ones(self) -> Expr {
        Expr::Const {
            value: Bits::ones(self.width),
            signed: self.signed,
        }
    }

    /// The largest value of the type.
    pub fn max_value(self) -> Expr {
        let mut v = Bits::ones(self.width);
        if self.signed {
            v.set_bit(self.width - 1, false);
        }
        Expr::Const {
            value: v,
            signed: self.signed,
        }
    }

    /// The smallest value of the type.
    pub fn min_value(self) -> Expr {
        let mut v = Bits::zero(self.width);
        if self.signed {
            v.set_bit(self.width - 1, true);
        }
        Expr::Const {
            value: v,
            signed: self.signed,
        }
    }
}

/// A bit offset that may depend on generate-loop variables: `constant +
/// sum(coeff * genvar)`. Lets one generate block address its slice of a
/// flat bus, with bounds checked over every loop iteration at build time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Index {
    pub constant: i64,
    pub terms: Vec<(Genvar, i64)>,
    /// How to print it, e.g. `(r*COLS + c)*ACT_W`; arithmetic drops it.
    pub text: Option<Arc<str>>,
}

impl Index {
    pub fn lit(constant: i64) -> Index {
        Index {
            constant,
            terms: Vec::new(),
            text: None,
        }
    }

    /// Print this index as `text` (a Verilog constant expression over the
    /// genvars and localparams that equals it).
    pub fn named(mut self, text: impl Into<String>) -> Index {
        self.text = Some(Arc::from(text.into()));
        self
    }

    /// Smallest and largest value over every iteration of the loops.
    pub fn range(&self) -> (i64, i64) {
        let mut lo = self.constant;
        let mut hi = self.constant;
        for (g, c) in &self.terms {
            let a = c * g.first as i64;
            let b = c * (g.end as i64 - 1);
            lo += a.min(b);
            hi += a.max(b);
        }
        (lo, hi)
    }

    pub fn as_const(&self) -> Option<i64> {
        if self.terms.is_empty() {
            Some(self.constant)
        } else {
            None
        }
    }

    pub fn plus(mut self, k: i64) -> Index {
        self.text = None;
        self.constant += k;
        self
    }
}

impl From<i64> for Index {
    fn from(v: i64) -> Index {
        Index::lit(v)
    }
}

impl From<u32> for Index {
    fn from(v: u32) -> Index {
        Index::lit(v as i64)
    }
}

impl From<&Genvar> for Index {
    fn from(g: &Genvar) -> Index {
        Index {
            constant: 0,
            terms: vec![(g.clone(), 1)],
            text: None,
        }
    }
}

impl std::ops::Mul<i64> for &Genvar {
    type Output = Index;
    fn mul(self, k: i64) -> Index {
        Index {
            constant: 0,
            terms: vec![(self.clone(), k)],
            text: None,
        }
    }
}

impl std::ops::Mul<i64> for Index {
    type Output = Index;
    fn mul(mut self, k: i64) -> Index {
        self.text = None;
        self.constant *= k;
        for (_, c) in &mut self.terms {
            *c *= k;
        }
        self.terms.retain(|(_, c)| *c != 0);
        self
    }
}

impl std::ops::Add for Index {
    type Output = Index;
    fn add(mut self, rhs: Index) -> Index {
        self.text = None;
        self.constant += rhs.constant;
        for (g, c) in rhs.terms {
            match self.terms.iter_mut().find(|(h, _)| h.name == g.name) {
                Some((_, k)) => *k += c,
                None => self.terms.push((g, c)),
            }
        }
        self.terms.retain(|(_, c)| *c != 0);
        self
    }
}

impl std::ops::Add<i64> for Index {
    type Output = Index;
    fn add(self, k: i64) -> Index {
        self.plus(k)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// Bitwise `~`.
    Not,
    /// Two's complement `-`.
    Neg,
    /// Reductions to one bit.
    ReduceOr,
    ReduceAnd,
    ReduceXor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn is_compare(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

/// An expression with a known type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    Sig(Signal),
    Const {
        value: Bits,
        signed: bool,
    },
    /// An unsigned bit pattern (a float code, a mask), printed in hex.
    Pattern(Bits),
    /// `sig[lo +: width]`; Verilog-2005 selects only from names, so the base is a signal.
    Select {
        base: Signal,
        lo: Index,
        width: u32,
        /// The localparam that names the width, if any.
        width_name: Option<Arc<str>>,
    },
    /// `{a, b, ...}`, most significant first; unsigned.
    Concat(Vec<Expr>),
    /// `{n{e}}`; unsigned.
    Repeat(u32, Arc<Expr>),
    Unary(UnOp, Arc<Expr>),
    Binary(BinOp, Arc<Expr>, Arc<Expr>),
    /// `cond ? a : b`.
    Mux(Arc<Expr>, Arc<Expr>, Arc<Expr>),
    /// `$signed(e)` / `$unsigned(e)`: same bits, other signedness.
    Cast(bool, Arc<Expr>),
    /// `e << k` / `e >>> k` / `e >> k` by a constant amount; width unchanged.
    ShiftLeft(Arc<Expr>, u32),
    ShiftRight(Arc<Expr>, u32),
    /// `e << amount` by an unsigned signal; width unchanged.
    ShiftLeftBy(Arc<Expr>, Arc<Expr>),
    /// `mem[addr]`: one word of a memory (unsigned).
    MemRead(Signal, Arc<Expr>),
}

impl Expr {
    pub fn ty(&self) -> Ty {
        match self {
            Expr::Sig(s) => s.ty(),
            Expr::Const { value, signed } => Ty {
                width: value.width(),
                signed: *signed,
            },
            Expr::Select { width, .. } => Ty::u(*width),
            Expr::Pattern(value) => Ty::u(value.width()),
            Expr::Concat(parts) => Ty::u(parts.iter().map(|p| p.ty().width).sum()),
            Expr::Repeat(n, e) => Ty::u(n * e.ty().width),
            Expr::Unary(op, e) => match op {
                UnOp::Not | UnOp::Neg => e.ty(),
                _ => Ty::BIT,
            },
            Expr::Binary(op, a, _) => {
                if op.is_compare() {
                    Ty::BIT
                } else {
                    a.ty()
                }
            }
            Expr::Mux(_, a, _) => a.ty(),
            Expr::Cast(signed, e) => Ty {
                width: e.ty().width,
                signed: *signed,
            },
            Expr::ShiftLeft(e, _) | Expr::ShiftRight(e, _) | Expr::ShiftLeftBy(e, _) => e.ty(),
            Expr::MemRead(mem, _) => Ty::u(mem.width()),
        }
    }

    pub fn width(&self) -> u32 {
        self.ty().width
    }

    #[track_caller]
    fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
        let (ta, tb) = (a.ty(), b.ty());
        assert!(
            ta == tb,
            "operands of {op:?} differ: {ta:?} vs {tb:?}; extend or cast one explicitly"
        );
        Expr::Binary(op, Arc::new(a), Arc::new(b))
    }

    /// The signal this expression names, for operations Verilog-2005 allows on names only.
    #[track_caller]
    fn as_signal(&self, what: &str) -> &Signal {
        match self {
            Expr::Sig(s) => s,
            _ => panic!("{what} needs a named signal: assign the expression to a wire first"),
        }
    }

    /// Bits `[lo +: width]` of a signal (unsigned).
    #[track_caller]
    pub fn select(&self, lo: impl Into<Index>, width: impl Into<super::Width>) -> Expr {
        let base = self.as_signal("a part-select").clone();
        let lo = lo.into();
        let super::Width { value: width, name } = width.into();
        let (min, max) = lo.range();
        assert!(
            width > 0 && min >= 0 && max + width as i64 <= base.ty().width as i64,
            "select [{min}..{max} +: {width}] outside {} ({} bits)",
            base.name(),
            base.ty().width
        );
        Expr::Select {
            base,
            lo,
            width,
            width_name: name.map(Arc::from),
        }
    }

    /// One bit of a signal.
    #[track_caller]
    pub fn bit(&self, i: impl Into<Index>) -> Expr {
        self.select(i, 1)
    }

    /// The most significant bit.
    #[track_caller]
    pub fn msb(&self) -> Expr {
        self.bit(self.width() - 1)
    }

    /// Zero-extend to `width` bits; the result is unsigned.
    #[track_caller]
    pub fn zext(&self, width: u32) -> Expr {
        let w = self.width();
        assert!(width >= w, "zext to {width} bits would narrow a {w}-bit value");
        let e = if self.ty().signed {
            Expr::Cast(false, Arc::new(self.clone()))
        } else {
            self.clone()
        };
        if width == w {
            e
        } else {
            concat(vec![Ty::u(width - w).zero(), e])
        }
    }

    /// Sign-extend a signed signal to `width` bits; the result is signed.
    #[track_caller]
    pub fn sext(&self, width: u32) -> Expr {
        let w = self.width();
        assert!(self.ty().signed, "sext of an unsigned value; use zext or cast first");
        assert!(width >= w, "sext to {width} bits would narrow a {w}-bit value");
        if width == w {
            return self.clone();
        }
        let sign = self.msb();
        concat(vec![repeat(width - w, sign), self.clone()]).cast(true)
    }

    /// Extend to `width` bits according to the value's own signedness.
    #[track_caller]
    pub fn extend(&self, width: u32) -> Expr {
        if self.ty().signed {
            self.sext(width)
        } else {
            self.zext(width)
        }
    }

    /// The low `width` bits of a signal, keeping its signedness.
    #[track_caller]
    pub fn trunc(&self, width: u32) -> Expr {
        let t = self.ty();
        assert!(
            width <= t.width,
            "trunc to {width} bits would widen a {}-bit value",
            t.width
        );
        if width == t.width {
            return self.clone();
        }
        let low = self.select(0u32, width);
        if t.signed { low.cast(true) } else { low }
    }

    /// Same bits, other signedness (`$signed` / `$unsigned`).
    pub fn cast(&self, signed: bool) -> Expr {
        if self.ty().signed == signed {
            return self.clone();
        }
        if let Expr::Cast(_, inner) = self {
            return inner.cast(signed);
        }
        Expr::Cast(signed, Arc::new(self.clone()))
    }

    /// Equal-width comparison helpers; the result is one unsigned bit.
    #[track_caller]
    pub fn eq(&self, b: impl Into<Expr>) -> Expr {
        Expr::binary(BinOp::Eq, self.clone(), b.into())
    }
    #[track_caller]
    pub fn ne(&self, b: impl Into<Expr>) -> Expr {
        Expr::binary(BinOp::Ne, self.clone(), b.into())
    }
    #[track_caller]
    pub fn lt(&self, b: impl Into<Expr>) -> Expr {
        Expr::binary(BinOp::Lt, self.clone(), b.into())
    }
    #[track_caller]
    pub fn le(&self, b: impl Into<Expr>) -> Expr {
        Expr::binary(BinOp::Le, self.clone(), b.into())
    }
    #[track_caller]
    pub fn gt(&self, b: impl Into<Expr>) -> Expr {
        Expr::binary(BinOp::Gt, self.clone(), b.into())
    }
    #[track_caller]
    pub fn ge(&self, b: impl Into<Expr>) -> Expr {
        Expr::binary(BinOp::Ge, self.clone(), b.into())
    }

    /// `self << k` within the same width (bits shifted out are lost).
    pub fn shl(&self, k: u32) -> Expr {
        Expr::ShiftLeft(Arc::new(self.clone()), k)
    }

    /// `self << amount` within the same width, by an unsigned amount.
    #[track_caller]
    pub fn shl_by(&self, amount: impl Into<Expr>) -> Expr {
        let amount = amount.into();
        assert!(!amount.ty().signed, "shift amounts are unsigned");
        Expr::ShiftLeftBy(Arc::new(self.clone()), Arc::new(amount))
    }

    /// `self >> k` (arithmetic when signed) within the same width.
    pub fn shr(&self, k: u32) -> Expr {
        Expr::ShiftRight(Arc::new(self.clone()), k)
    }

    pub fn reduce_or(&self) -> Expr {
        Expr::Unary(UnOp::ReduceOr, Arc::new(self.clone()))
    }

    pub fn reduce_and(&self) -> Expr {
        Expr::Unary(UnOp::ReduceAnd, Arc::new(self.clone()))
    }

    pub fn reduce_xor(&self) -> Expr {
        Expr::Unary(UnOp::ReduceXor, Arc::new(self.clone()))
    }
}

/// `{parts...}`, most significant first.
#[track_caller]
pub fn concat(parts: Vec<Expr>) -> Expr {
    assert!(!parts.is_empty(), "empty concatenation");
    if parts.len() == 1 && !parts[0].ty().signed {
        return parts.into_iter().next().unwrap_or_else(|| unreachable!());
    }
    Expr::Concat(parts)
}

/// `{n{e}}`.
#[track_caller]
pub fn repeat(n: u32, e: Expr) -> Expr {
    assert!(n > 0, "zero-count replication");
    if n == 1 && !e.ty().signed {
        return e;
    }
    Expr::Repeat(n, Arc::new(e))
}

/// `cond ? a : b`.
#[track_caller]
pub fn mux(cond: impl Into<Expr>, a: impl Into<Expr>, b: impl Into<Expr>) -> Expr {
    let (c, a, b) = (cond.into(), a.into(), b.into());
    assert!(c.ty().width == 1, "mux condition is {} bits, not 1", c.ty().width);
    assert!(a.ty() == b.ty(), "mux arms differ: {:?} vs {:?}", a.ty(), b.ty());
    Expr::Mux(Arc::new(c), Arc::new(a), Arc::new(b))
}

/// Logical AND of one-bit values.
#[track_caller]
pub fn all(bits: impl IntoIterator<Item = Expr>) -> Expr {
    bits.into_iter().reduce(|a, b| a & b).unwrap_or_else(|| Ty::BIT.lit(1))
}

/// Logical OR of one-bit values.
#[track_caller]
pub fn any(bits: impl IntoIterator<Item = Expr>) -> Expr {
    bits.into_iter().reduce(|a, b| a | b).unwrap_or_else(|| Ty::BIT.lit(0))
}

macro_rules! binop {
    ($trait:ident, $method:ident, $op:expr) => {
        impl std::ops::$trait for Expr {
            type Output = Expr;
            #[track_caller]
            fn $method(self, rhs: Expr) -> Expr {
                Expr::binary($op, self, rhs)
            }
        }
        impl std::ops::$trait<&Signal> for Expr {
            type Output = Expr;
            #[track_caller]
            fn $method(self, rhs: &Signal) -> Expr {
                Expr::binary($op, self, rhs.e())
            }
        }
        impl std::ops::$trait<Expr> for &Signal {
            type Output = Expr;
            #[track_caller]
            fn $method(self, rhs: Expr) -> Expr {
                Expr::binary($op, self.e(), rhs)
            }
        }
        impl std::ops::$trait<&Signal> for &Signal {
            type Output = Expr;
            #[track_caller]
            fn $method(self, rhs: &Signal) -> Expr {
                Expr::binary($op, self.e(), rhs.e())
            }
        }
    };
}

binop!(Add, add, BinOp::Add);
binop!(Sub, sub, BinOp::Sub);
binop!(Mul, mul, BinOp::Mul);
binop!(BitAnd, bitand, BinOp::And);
binop!(BitOr, bitor, BinOp::Or);
binop!(BitXor, bitxor, BinOp::Xor);

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Unary(UnOp::Not, Arc::new(self))
    }
}

impl std::ops::Not for &Signal {
    type Output = Expr;
    fn not(self) -> Expr {
        !self.e()
    }
}

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Unary(UnOp::Neg, Arc::new(self))
    }
}

impl From<&Signal> for Expr {
    fn from(s: &Signal) -> Expr {
        s.e()
    }
}

impl From<Signal> for Expr {
    fn from(s: Signal) -> Expr {
        Expr::Sig(s)
    }
}

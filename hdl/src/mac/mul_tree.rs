//! [`MulImpl::BoothTree`]: radix-4 Booth rows generated in LUTs and summed
//! in a balanced tree of two-input carry-chain adders, with no adder inside
//! a row.
//!
//! Why: on ECP5 and iCE40 the time of a LUT multiplier goes into the routing
//! hops into and out of each carry chain (about 1.5 ns each on ECP5), not
//! into the chains themselves. Four Booth rows of an 8 x 8 product summed as
//! `(r0 + r1) + (r2 + r3)` cross two chains, where a tree of the eight AND
//! rows of `lut` crosses three.
//!
//! Exactness is the hard part. Row j is `d_j * a` for a digit `d_j` in
//! -2..2: the LUTs compute `pp = |d_j| * a`, inverted when `d_j < 0`, and
//! the row is `pp + neg_j`: each negative row needs a `+1` at its lowest
//! column, and two's complement rows need their sign handled. With
//! two-input adders only, every such bit must sit in a *free slot*: a
//! column where one addend of some adder has no bit. The tree is built
//! first; then, in this order:
//!
//! 1. each `neg_j` goes into a free slot at column 2j (the empty low
//!    columns of a higher row, or below a sum that starts higher);
//! 2. every row is unsigned (`{~s, pp}` minus `2^top`, see [`Row`]), and the
//!    constants of all rows add up to one constant `K` modulo the product;
//!    each set bit of `K` goes into a free slot (a constant addend bit costs
//!    no LUT), or, where there is none, is absorbed by the row whose sign
//!    bit is on that column (`{~s, s}` minus `2^(top + 1)`: the row grows
//!    by one column and that bit of `K` clears);
//! 3. a `neg_j` with no slot at 2j: the low `k` bits of `pp + neg_j` are
//!    computed exactly in LUTs (`-m mod 2^k` is `m` with every bit above
//!    the lowest set one inverted), which leaves one carry,
//!    `neg_j & (m mod 2^k == 0)`, at column `2j + k`; `k` is the smallest
//!    with a free slot there (for 8 x 8 signed: row 3, k = 5, column 11,
//!    beside a constant bit above row 0's top);
//! 4. anything still without a slot is added by one more adder after the
//!    tree (small shapes only: a one-row multiplier has no other slot);
//! 5. an adder whose top columns hold one bit each (a row's `~s`, constant
//!    bits) hands them to the adder above, beside its other addend where that
//!    one has no bit (above a sum that ends lower), when that narrows the
//!    adders in total: the lower adder ends earlier, the upper one spanned
//!    those columns for its carries anyway (8 x 8 signed: `r2 + r3` ends a
//!    column earlier, 101 -> 99 LUTs on iCE40).
//!
//! Among free slots, a bit goes where it widens the adders the least in
//! total (a column an adder spans already costs no carry cell). Unsigned operands are one bit wider signed
//! operands: an unsigned b of m bits has `m/2 + 1` digits (its top digit
//! is never negative), so an 8 x 8 unsigned product has five rows and three
//! adder levels here; `u8 x u8` is built by [`super::mul_split`] instead,
//! with `b`'s low bit split off, in two.

use super::mul::chain_adder;
use crate::ir::{Expr, Module, ModuleBuilder, Signal, Ty, concat, drive, repeat, sink};
use crate::params::IntFormat;
use std::collections::BTreeMap;

/// One bit of an addend.
#[derive(Clone)]
enum Src {
    /// A constant 1 (part of `K`).
    One,
    /// Bit `i` of a signal.
    Bit(Signal, u32),
    /// Bit `i` of a signal, inverted (a row's `~s`).
    Inv(Signal, u32),
}

/// Addend bits by column (absent: zero).
type Bits = BTreeMap<u32, Src>;

/// One Booth row as an unsigned addend: `pp`'s low bits from column 2j and
/// `~s` on column `top`, standing for the signed row plus `2^top`, which
/// `K` takes back.
#[derive(Clone)]
struct Row {
    bits: Bits,
    /// The sign `s` (a signal bit) and the column of `~s`, while the row
    /// still has a sign bit inside the product.
    sign: Option<((Signal, u32), u32)>,
}

/// An addend of a tree adder.
#[derive(Clone, Copy)]
enum Input {
    Row(usize),
    Sum(usize),
}

/// A two-input adder of the tree; bits placed beside a sum input sit below
/// that sum's lowest column.
#[derive(Clone)]
struct Adder {
    x: Input,
    y: Input,
    extra: [Bits; 2],
}

/// Columns `[lo, top)` an addend or sum covers, and its largest value.
#[derive(Clone, Copy)]
struct Span {
    lo: u32,
    top: u32,
    max: u128,
}

#[derive(Clone)]
struct Tree {
    rows: Vec<Row>,
    adders: Vec<Adder>,
    root: Input,
    /// Product width: every sum is taken modulo 2^pw.
    pw: u32,
}

fn bit_len(v: u128) -> u32 {
    128 - v.leading_zeros()
}

impl Tree {
    fn bits_span(&self, bits: &Bits) -> Option<Span> {
        let lo = *bits.keys().next()?;
        let top = *bits.keys().last()? + 1;
        Some(Span {
            lo,
            top,
            max: bits.keys().map(|&c| 1u128 << c).sum(),
        })
    }

    /// The span of an addend: a row's bits, or a sum with the bits placed beside it.
    fn operand_span(&self, adder: usize, side: usize) -> Span {
        let a = &self.adders[adder];
        let input = if side == 0 { a.x } else { a.y };
        let base = self.span(input);
        match self.bits_span(&a.extra[side]) {
            None => base,
            Some(e) => Span {
                lo: base.lo.min(e.lo),
                top: base.top.max(e.top),
                max: base.max + e.max,
            },
        }
    }

    fn span(&self, input: Input) -> Span {
        match input {
            Input::Row(r) => self
                .bits_span(&self.rows[r].bits)
                .unwrap_or_else(|| unreachable!("a Booth row has bits")),
            Input::Sum(k) => {
                let (x, y) = (self.operand_span(k, 0), self.operand_span(k, 1));
                let max = (x.max + y.max).min((1u128 << self.pw) - 1);
                Span {
                    lo: x.lo.min(y.lo),
                    top: bit_len(x.max + y.max).min(self.pw),
                    max,
                }
            }
        }
    }

    /// Whether side `side` of adder `k` has no bit on column `c`.
    fn free(&self, k: usize, side: usize, c: u32) -> bool {
        let a = &self.adders[k];
        match if side == 0 { a.x } else { a.y } {
            Input::Row(r) => !self.rows[r].bits.contains_key(&c),
            // Only below the sum: above it, a later bit could widen it onto the slot.
            Input::Sum(s) => c < self.span(Input::Sum(s)).lo && !a.extra[side].contains_key(&c),
        }
    }

    /// The columns all adders span together: one carry cell (and, on
    /// iCE40, one LUT) each.
    fn adder_columns(&self) -> u32 {
        (0..self.adders.len())
            .map(|k| {
                let top = self.span(Input::Sum(k)).top;
                top - self.operand_span(k, 0).lo.max(self.operand_span(k, 1).lo)
            })
            .sum()
    }

    /// A free slot on column `c`, where the bit widens the adders the least
    /// (a bit on a column its adder spans already costs nothing; one below
    /// it can widen the adders above).
    fn find_slot(&self, c: u32) -> Option<(usize, usize)> {
        if c >= self.pw {
            return None;
        }
        let before = self.adder_columns();
        let mut best: Option<((usize, usize), u32)> = None;
        for k in 0..self.adders.len() {
            for side in 0..2 {
                if !self.free(k, side, c) {
                    continue;
                }
                let mut trial = self.clone();
                trial.place((k, side), c, Src::One);
                let cost = trial.adder_columns().saturating_sub(before);
                if best.is_none_or(|(_, b)| cost < b) {
                    best = Some(((k, side), cost));
                }
            }
        }
        best.map(|(slot, _)| slot)
    }

    fn place(&mut self, (k, side): (usize, usize), c: u32, bit: Src) {
        let input = if side == 0 { self.adders[k].x } else { self.adders[k].y };
        match input {
            Input::Row(r) => self.rows[r].bits.insert(c, bit),
            Input::Sum(_) => self.adders[k].extra[side].insert(c, bit),
        };
    }
}

/// The bits of `bits` from column `from` to `to` (exclusive) as one
/// expression, zeros where there is no bit; runs of one signal are one
/// part-select.
fn operand_expr(bits: &Bits, from: u32, to: u32) -> Expr {
    let mut parts: Vec<Expr> = Vec::new();
    let mut c = to;
    while c > from {
        let col = c - 1;
        match bits.get(&col) {
            None => {
                let mut n = 1;
                while col >= from + n && !bits.contains_key(&(col - n)) {
                    n += 1;
                }
                parts.push(Ty::u(n).zero());
                c -= n;
            }
            Some(Src::Bit(sig, i)) => {
                // A run of consecutive bits of the same signal, top down.
                let mut n = 1;
                while col >= from + n
                    && *i >= n
                    && matches!(bits.get(&(col - n)), Some(Src::Bit(s2, i2)) if s2.name() == sig.name() && *i2 == i - n)
                {
                    n += 1;
                }
                parts.push(sig.select(i + 1 - n, n));
                c -= n;
            }
            Some(Src::Inv(sig, i)) => {
                parts.push(!sig.bit(*i));
                c -= 1;
            }
            Some(Src::One) => {
                parts.push(Ty::u(1).ones());
                c -= 1;
            }
        }
    }
    concat(parts)
}

/// `|d| == 1` for a Booth group `[b[2j-1], b[2j], b[2j+1]]` (`None`: a
/// known zero, folded here so the Verilog reads without constant terms).
pub(super) fn digit_one(g: &[Option<Expr>; 3]) -> Expr {
    match (&g[1], &g[0]) {
        (Some(x), Some(y)) => x.clone() ^ y.clone(),
        (Some(x), None) | (None, Some(x)) => x.clone(),
        (None, None) => Ty::u(1).zero(),
    }
}

/// `|d| == 2`: the group is 100 or 011 (known zeros folded).
pub(super) fn digit_two(g: &[Option<Expr>; 3]) -> Expr {
    let not = |e: &Option<Expr>| e.clone().map(|x| !x);
    // 100: b[2j+1] and neither lower bit.
    let high = g[2]
        .clone()
        .map(|top| [not(&g[1]), not(&g[0])].into_iter().flatten().fold(top, |t, x| t & x));
    // 011: both lower bits and not b[2j+1].
    let low = match (&g[1], &g[0]) {
        (Some(x), Some(y)) => Some(not(&g[2]).into_iter().fold(x.clone() & y.clone(), |t, n| n & t)),
        _ => None,
    };
    match (high, low) {
        (Some(h), Some(l)) => h | l,
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => Ty::u(1).zero(),
    }
}

/// Digits of the radix-4 recoding of `b` read as a signed number one bit
/// wider when unsigned (so the top digit of an unsigned b is never negative).
pub fn digits(b: IntFormat) -> u32 {
    (b.bits + u32::from(!b.signed)).div_ceil(2)
}

/// Builds the [`MulImpl::BoothTree`](super::MulImpl::BoothTree) rows and tree
/// in `m`; returns the `a.bits + b.bits`-bit product (unsigned bits).
pub fn booth_tree(
    m: &mut ModuleBuilder,
    deps: &mut Vec<Module>,
    ai: &Signal,
    bi: &Signal,
    a: IntFormat,
    b: IntFormat,
) -> Expr {
    // Which rows compute low bits exactly (and how many) is known only once
    // the slots are taken, but their pp wires are written before: plan the
    // tree once on a scratch module, then build it for real.
    let mut scratch = ModuleBuilder::new(
        "scratch".to_string(),
        crate::ir::ModuleDoc {
            title: String::new(),
            description: vec![],
            params: vec![],
            timing: vec![],
        },
    );
    let sa = scratch.input("a_i", Ty::new(a.bits, a.signed), "");
    let sb = scratch.input("b_i", Ty::new(b.bits, b.signed), "");
    let (_, exact) = build(&mut scratch, &sa, &sb, a, b, &BTreeMap::new());
    let (tree, again) = build(m, ai, bi, a, b, &exact);
    assert_eq!(again, exact, "the second pass places bits like the first");
    emit(m, deps, &tree, tree.root)
}

/// The rows and the tree with every bit placed; `exact` maps the rows that
/// compute their low bits exactly to how many. Returns the tree and the
/// rows that need exact low bits (equal to `exact` when it was right).
fn build(
    m: &mut ModuleBuilder,
    ai: &Signal,
    bi: &Signal,
    a: IntFormat,
    b: IntFormat,
    exact: &BTreeMap<u32, u32>,
) -> (Tree, BTreeMap<u32, u32>) {
    let n = a.bits;
    let pw = a.bits + b.bits;
    let na = n + u32::from(!a.signed); // a as a signed number
    let d = digits(b);
    // b's bit i as a signed number sign- or zero-extended; bit -1 is 0.
    let b_bit = |i: i64| -> Option<Expr> {
        if i < 0 {
            None
        } else if i < b.bits as i64 {
            Some(bi.bit(i as u32))
        } else if b.signed {
            Some(bi.bit(b.bits - 1))
        } else {
            None
        }
    };
    let zero = || Ty::u(1).zero();
    m.section(
        "Booth rows",
        &[
            &format!(
                "b_i is recoded into {d} radix-4 digits d_j = -2 b[2j+1] + b[2j] + b[2j-1] (b[-1] = 0, b {}), so b = sum d_j 4^j. Row j is d_j * a_i from column 2j: m_j = |d_j| * a_i ({} bits), pp_j = m_j inverted when d_j < 0, and the row is pp_j + neg_j.",
                if b.signed { "sign-extended" } else { "zero-extended by one bit, so its top digit is never negative" },
                na + 1
            ),
            "Each row is added as an unsigned addend {~s, pp low bits} (s its sign), which is the signed row plus 2^top; the constants of all rows add up to one constant, whose bits sit in free addend slots (no LUT). Each neg_j sits in a free slot on column 2j; a row whose neg has none computes its low bits exactly (see b<j>_low) and leaves one carry higher up.",
        ],
    );
    // a_i and 2 * a_i extended like a_i, cut to `w` bits.
    let times_one = |w: u32| -> Expr {
        if w > n {
            ai.e().extend(w).cast(false)
        } else {
            ai.select(0u32, w)
        }
    };
    let times_two = |w: u32| -> Expr {
        if w == 1 {
            zero()
        } else {
            concat(vec![times_one(w - 1), zero()])
        }
    };
    let mut rows = Vec::new();
    let mut negs: Vec<(u32, Signal)> = Vec::new();
    let mut carries: BTreeMap<u32, Signal> = BTreeMap::new();
    let mut k_const: u128 = 0;
    let modulus = 1u128 << pw;
    for j in 0..d {
        let g = [b_bit(2 * j as i64 - 1), b_bit(2 * j as i64), b_bit(2 * j as i64 + 1)];
        let one = m.wire(
            &format!("b{j}_one"),
            1,
            false,
            &format!("digit {j} is +-1: b[{}] != b[{}]", 2 * j, 2 * j as i64 - 1),
        );
        m.assign(&one, digit_one(&g));
        let two = m.wire(
            &format!("b{j}_two"),
            1,
            false,
            &format!("digit {j} is +-2: b[{}:{}] is 100 or 011", 2 * j + 1, 2 * j as i64 - 1),
        );
        m.assign(&two, digit_two(&g));
        let off = 2 * j;
        // The bits of m (and pp) the product uses: na low bits and the
        // sign, cut at the product's top; a row that is never negative has
        // no sign when a is unsigned.
        let used = if g[2].is_none() && !a.signed {
            na.min(pw - off)
        } else {
            (na + 1).min(pw - off)
        };
        let mag = m.wire(
            &format!("b{j}_m"),
            used,
            false,
            &format!(
                "|d_{j}| * a_i{}",
                if used < na + 1 {
                    ", cut at the product's top"
                } else {
                    ""
                }
            ),
        );
        m.assign(
            &mag,
            (times_one(used) & repeat(used, one.e())) | (times_two(used) & repeat(used, two.e())),
        );
        let mut bits = Bits::new();
        let sign;
        match &g[2] {
            // Never negative (the top digit of an unsigned b): pp = m, whose
            // top bit is a's sign when a is signed and zero otherwise.
            None => {
                for i in 0..na {
                    if off + i < pw {
                        bits.insert(off + i, Src::Bit(mag.clone(), i));
                    }
                }
                sign = (a.signed && used > na).then(|| (mag.clone(), na));
            }
            Some(negb) => {
                let neg = m.wire(
                    &format!("b{j}_neg"),
                    1,
                    false,
                    &format!("digit {j} is negative: b[{}]", 2 * j + 1),
                );
                m.assign(&neg, negb.clone());
                let pp = match exact.get(&j) {
                    None => {
                        let pp = m.wire(
                            &format!("b{j}_pp"),
                            used,
                            false,
                            &format!("m_{j}, inverted when digit {j} is negative"),
                        );
                        m.assign(&pp, mag.e() ^ repeat(used, neg.e()));
                        pp
                    }
                    Some(&k) => {
                        let pp = m.wire(
                            &format!("b{j}_pp"),
                            used,
                            false,
                            &format!(
                                "m_{j} inverted when digit {j} is negative, except its low {k} bits: those are m_{j} + neg_{j} computed exactly (no free slot for neg_{j}), bit i of -m being m[i] ^ |m[i-1:0]"
                            ),
                        );
                        let mut parts = vec![mag.select(k, used - k) ^ repeat(used - k, neg.e())];
                        for i in (0..k).rev() {
                            parts.push(if i == 0 {
                                mag.bit(0u32)
                            } else {
                                mag.bit(i) ^ (neg.e() & mag.select(0u32, i).reduce_or())
                            });
                        }
                        m.assign(&pp, concat(parts));
                        let carry = m.wire(
                            &format!("b{j}_carry"),
                            1,
                            false,
                            &format!(
                                "row {j}'s carry out of its exact low {k} bits, on column {}: negative and m_{j}[{}:0] == 0",
                                2 * j + k,
                                k - 1
                            ),
                        );
                        m.assign(&carry, neg.e() & !mag.select(0u32, k).reduce_or());
                        carries.insert(j, carry);
                        pp
                    }
                };
                for i in 0..na {
                    if off + i < pw {
                        bits.insert(off + i, Src::Bit(pp.clone(), i));
                    }
                }
                // (An unsigned a's m has a zero top bit: the sign is neg itself.)
                sign = (used > na).then(|| (pp.clone(), na));
                negs.push((j, neg));
            }
        }
        let top = off + na;
        let sign = match sign {
            Some(s) if top < pw => {
                bits.insert(top, Src::Inv(s.0.clone(), s.1));
                k_const = (k_const + modulus - (1u128 << top)) % modulus;
                Some((s, top))
            }
            _ => None,
        };
        rows.push(Row { bits, sign });
    }
    // The balanced tree of adders over the rows, low rows first.
    let mut tree = Tree {
        rows,
        adders: Vec::new(),
        root: Input::Row(0),
        pw,
    };
    let mut level: Vec<Input> = (0..d as usize).map(Input::Row).collect();
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            match pair {
                [x, y] => {
                    tree.adders.push(Adder {
                        x: *x,
                        y: *y,
                        extra: [Bits::new(), Bits::new()],
                    });
                    next.push(Input::Sum(tree.adders.len() - 1));
                }
                [one] => next.push(*one),
                _ => unreachable!("chunks of two"),
            }
        }
        level = next;
    }
    tree.root = level[0];
    // 1. Each neg_j on column 2j.
    let mut unplaced = Vec::new();
    for (j, neg) in negs {
        match tree.find_slot(2 * j) {
            Some(slot) => tree.place(slot, 2 * j, Src::Bit(neg, 0)),
            None => unplaced.push((j, neg)),
        }
    }
    // 2. The constant, bit by bit from the bottom.
    let mut leftover: Vec<(u32, Src)> = Vec::new();
    for c in 0..pw {
        if k_const >> c & 1 == 0 {
            continue;
        }
        // Bit c is accounted for whichever way it goes below.
        k_const -= 1u128 << c;
        if let Some(slot) = tree.find_slot(c) {
            tree.place(slot, c, Src::One);
            continue;
        }
        // The row whose ~s is on column c grows: {~s, s} minus 2^(c+1) is
        // ~s minus 2^c, so bit c of the constant clears.
        let grow = tree.rows.iter().position(|r| {
            r.sign.as_ref().is_some_and(|(_, t)| *t == c) && (c + 1 >= pw || !r.bits.contains_key(&(c + 1)))
        });
        match grow {
            Some(r) => {
                let row = &mut tree.rows[r];
                let Some(((sig, i), _)) = row.sign.take() else {
                    unreachable!("the row has a sign")
                };
                row.bits.insert(c, Src::Bit(sig.clone(), i));
                if c + 1 < pw {
                    row.bits.insert(c + 1, Src::Inv(sig.clone(), i));
                    row.sign = Some(((sig, i), c + 1));
                }
            }
            None => leftover.push((c, Src::One)),
        }
    }
    // 3. The negs without a slot: exact low bits, one carry higher up.
    let mut needed = BTreeMap::new();
    for (j, neg) in unplaced {
        let off = 2 * j;
        let Some(k) = (1..na).find(|&k| tree.find_slot(off + k).is_some()) else {
            leftover.push((off, Src::Bit(neg, 0)));
            continue;
        };
        needed.insert(j, k);
        // The first pass has no carry yet: the slot is taken all the same.
        let carry = carries.get(&j).map_or(Src::One, |c| Src::Bit(c.clone(), 0));
        let slot = tree
            .find_slot(off + k)
            .unwrap_or_else(|| unreachable!("the slot was found above"));
        tree.place(slot, off + k, carry);
    }
    // 4. Anything left: one more adder per column clash, after the tree.
    while !leftover.is_empty() {
        let mut bits = Bits::new();
        let mut rest = Vec::new();
        for (c, s) in leftover {
            if let std::collections::btree_map::Entry::Vacant(e) = bits.entry(c) {
                e.insert(s);
            } else {
                rest.push((c, s));
            }
        }
        tree.rows.push(Row { bits, sign: None });
        tree.adders.push(Adder {
            x: tree.root,
            y: Input::Row(tree.rows.len() - 1),
            extra: [Bits::new(), Bits::new()],
        });
        tree.root = Input::Sum(tree.adders.len() - 1);
        leftover = rest;
    }
    assert_eq!(k_const, 0, "every constant bit is placed");
    // 5. Top bits moved up a level where that narrows an adder.
    tree.hoist();
    (tree, needed)
}

impl Tree {
    /// The adder that takes `Sum(k)` as an addend, and on which side.
    fn parent(&self, k: usize) -> Option<(usize, usize)> {
        self.adders.iter().enumerate().find_map(|(p, a)| match (a.x, a.y) {
            (Input::Sum(s), _) if s == k => Some((p, 0)),
            (_, Input::Sum(s)) if s == k => Some((p, 1)),
            _ => None,
        })
    }

    /// Whether every bit placed beside a sum stays off the sum's own columns.
    fn consistent(&self) -> bool {
        self.adders.iter().all(|a| {
            [a.x, a.y].iter().zip(&a.extra).all(|(input, extra)| match input {
                Input::Row(_) => true,
                Input::Sum(s) => {
                    let span = self.span(Input::Sum(*s));
                    extra.keys().all(|&c| c < span.lo || c >= span.top)
                }
            })
        })
    }

    /// Step 5: an adder's top columns often hold only a row's `~s` and
    /// constant bits, one addend each, and the adder spans them only to carry
    /// into them. Where the sibling of that adder's sum has free slots on those
    /// columns (above a sum that ends lower, or where a row has no bit), the
    /// bits move there, one level up: the lower adder ends earlier (one carry
    /// cell and, on iCE40, one LUT less per column) and the upper one, which
    /// spans those columns for its own carries anyway, stays as wide. For
    /// 8 x 8 signed, row 3's `~s` and the constant's top bit go beside
    /// `r0 + r1`, so `r2 + r3` ends at column 15 instead of 16 (101 -> 99
    /// LUTs on iCE40). Exactness is untouched: the same bits are added, by
    /// the adder above instead of the one below.
    fn hoist(&mut self) {
        loop {
            let before = self.adder_columns();
            let mut best: Option<(Tree, u32)> = None;
            for k in 0..self.adders.len() {
                let Some((p, side)) = self.parent(k) else { continue };
                let other = 1 - side;
                let start = self.operand_span(k, 0).lo.max(self.operand_span(k, 1).lo);
                let top = self.span(Input::Sum(k)).top;
                for cut in (start + 1..top).rev() {
                    if let Some(trial) = self.hoisted(k, (p, other), cut) {
                        let cost = trial.adder_columns();
                        if cost < before && best.as_ref().is_none_or(|(_, b)| cost < *b) {
                            best = Some((trial, cost));
                        }
                    }
                }
            }
            match best {
                Some((trial, _)) => *self = trial,
                None => return,
            }
        }
    }

    /// The tree with every bit of adder `k`'s addends on columns `cut` and
    /// above moved to side `to` of its parent, if they can all move: no
    /// column has a bit in both addends, none is a sum's own bit, and each
    /// lands on a free slot without overlapping a sum.
    fn hoisted(&self, k: usize, to: (usize, usize), cut: u32) -> Option<Tree> {
        let mut trial = self.clone();
        let mut moved: Bits = Bits::new();
        for side in 0..2 {
            let input = if side == 0 { self.adders[k].x } else { self.adders[k].y };
            let bits = match input {
                Input::Row(r) => &mut trial.rows[r].bits,
                Input::Sum(s) => {
                    if self.span(Input::Sum(s)).top > cut {
                        return None;
                    }
                    &mut trial.adders[k].extra[side]
                }
            };
            for (c, bit) in bits.split_off(&cut) {
                if moved.insert(c, bit).is_some() {
                    return None;
                }
            }
        }
        if moved.is_empty() {
            return None;
        }
        let (p, side) = to;
        let target = if side == 0 { self.adders[p].x } else { self.adders[p].y };
        for (c, bit) in moved {
            let taken = match target {
                Input::Row(r) => trial.rows[r].bits.contains_key(&c),
                Input::Sum(s) => {
                    let span = trial.span(Input::Sum(s));
                    (span.lo..span.top).contains(&c) || trial.adders[p].extra[side].contains_key(&c)
                }
            };
            if taken {
                return None;
            }
            trial.place(to, c, bit);
        }
        trial.consistent().then_some(trial)
    }
}

/// The operand bits of side `side` of adder `k`, as a column map.
fn operand_bits(tree: &Tree, sums: &BTreeMap<usize, Signal>, k: usize, side: usize) -> Bits {
    let a = &tree.adders[k];
    let input = if side == 0 { a.x } else { a.y };
    match input {
        Input::Row(r) => tree.rows[r].bits.clone(),
        Input::Sum(s) => {
            let span = tree.span(input);
            let sig = &sums[&s];
            let mut bits = a.extra[side].clone();
            for c in span.lo..span.top {
                let clash = bits.insert(c, Src::Bit(sig.clone(), c - span.lo));
                assert!(clash.is_none(), "a bit placed on a sum's column");
            }
            bits
        }
    }
}

/// Emits the adders under `root` (children first) and returns the product.
fn emit(m: &mut ModuleBuilder, deps: &mut Vec<Module>, tree: &Tree, root: Input) -> Expr {
    let mut sums: BTreeMap<usize, Signal> = BTreeMap::new();
    // Adders are pushed level by level, so children come before parents.
    let mut order: Vec<usize> = Vec::new();
    let mut stack = vec![root];
    while let Some(i) = stack.pop() {
        if let Input::Sum(k) = i {
            order.push(k);
            stack.push(tree.adders[k].x);
            stack.push(tree.adders[k].y);
        }
    }
    order.sort_unstable();
    if !order.is_empty() {
        m.section(
            "Adder tree",
            &["Each adder sums two addends from the column where both have bits (the lower addend's bits below it are final) to one carry above the larger, cut at the product's top. Addend bits that belong to no row are the negs and the constant placed in free slots, and a lower adder's top bits (a row's ~s, constant bits) moved up beside a sum that ends below them, so the lower adder ends earlier."],
        );
    }
    for k in order {
        let span = tree.span(Input::Sum(k));
        let xb = operand_bits(tree, &sums, k, 0);
        let yb = operand_bits(tree, &sums, k, 1);
        let (xs, ys) = (tree.operand_span(k, 0), tree.operand_span(k, 1));
        let from = xs.lo.max(ys.lo);
        let w = span.top - from;
        let name = format!("sum_{k}");
        let x_w = (xs.top.min(span.top)) - from;
        let y_w = (ys.top.min(span.top)) - from;
        let x = m.wire(
            &format!("{name}_x"),
            x_w,
            false,
            &format!("first addend from column {from}"),
        );
        m.assign(&x, operand_expr(&xb, from, from + x_w));
        let y = m.wire(
            &format!("{name}_y"),
            y_w,
            false,
            &format!("second addend from column {from}"),
        );
        m.assign(&y, operand_expr(&yb, from, from + y_w));
        let add = m.wire(
            &format!("{name}_add"),
            w,
            false,
            &format!("{name}_x + {name}_y, on the carry chain"),
        );
        let adder = chain_adder(x_w, y_w, w);
        m.instance(
            &adder,
            &format!("u_{name}"),
            vec![("x_i", drive(&x)), ("y_i", drive(&y)), ("s_o", sink(&add))],
        );
        if !deps.iter().any(|d: &Module| d.name == adder.name) {
            deps.push(adder);
        }
        let sum = m.wire(
            &name,
            span.top - span.lo,
            false,
            &format!(
                "sum from column {}: the lower addend's bits below column {from}, then the adder",
                span.lo
            ),
        );
        let low = if xs.lo < from { &xb } else { &yb };
        m.assign(
            &sum,
            if from > span.lo {
                concat(vec![add.e(), operand_expr(low, span.lo, from)])
            } else {
                add.e()
            },
        );
        sums.insert(k, sum);
    }
    let pw = tree.pw;
    let (bits, span) = match root {
        Input::Row(r) => (tree.rows[r].bits.clone(), tree.span(root)),
        Input::Sum(k) => {
            let span = tree.span(root);
            let sig = &sums[&k];
            (
                (span.lo..span.top)
                    .map(|c| (c, Src::Bit(sig.clone(), c - span.lo)))
                    .collect(),
                span,
            )
        }
    };
    debug_assert_eq!(span.lo, 0, "row 0 starts the product");
    operand_expr(&bits, 0, pw)
}

#[cfg(test)]
mod tests {
    use crate::mac::MulImpl;
    use crate::mac::mul::multiplier;
    use crate::params::IntFormat;

    /// Every shape up to 24 x 24 builds: each bit finds its place without
    /// landing on another (the placement's invariants are assertions).
    /// Bit-exactness is co-simulated in `gen/tests/mul_cosim.rs`.
    #[test]
    fn every_shape_up_to_24x24_places_every_bit() {
        for a in 2..=24 {
            for b in 2..=24 {
                for (sa, sb) in [(false, false), (true, true), (false, true), (true, false)] {
                    let fa = IntFormat { bits: a, signed: sa };
                    let fb = IntFormat { bits: b, signed: sb };
                    let modules = multiplier(fa, fb, MulImpl::BoothTree);
                    assert!(!modules.is_empty());
                }
            }
        }
    }
}

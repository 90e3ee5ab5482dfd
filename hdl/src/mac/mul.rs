//! Integer multipliers: the PE's multiplier is a parameter, so the same PE
//! can use a plain `*` (mapped to DSP blocks) or a LUT structure built here.
//!
//! Both LUT structures are array multipliers that accumulate one
//! partial-product row per bit of `b_i` on the carry chain: the running sum
//! is shifted right one bit per row, the bit that falls out is final (it is
//! one bit of the product), so every row adder is only `A_W + 1` bits wide
//! and costs one LUT per partial-product bit when the row's gating folds
//! into the adder's LUT. Where the gating goes depends on the fabric:
//!
//! - [`MulImpl::Lut`]: `s + (a & b_i)`. On Xilinx the CARRY4 takes the
//!   propagate `s ^ (a & b_i)` from a LUT and `s` itself as the generate
//!   input, so the AND folds into the LUT; ECP5's CCU2C does the same.
//! - [`MulImpl::Lut4`]: `b_i ? s + a : s`. iCE40's SB_CARRY takes both
//!   addends as plain signals, so the gating must come after the adder,
//!   where it folds into the sum LUT (`s ^ (b_i & (a ^ carry))`). Yosys
//!   would otherwise merge the rows back into one multiplier and lose the
//!   carry chain, so each row adder is a module synthesis keeps.
//!
//! Signed operands: a signed `a_i` sign-extends the running sum and every
//! row; a signed `b_i` weighs its top bit `-2^(n-1)`, so the last row is
//! subtracted. The range of every running sum is proven in the comments of
//! [`rows`].

use super::params::MulImpl;
use crate::ir::{Expr, Module, ModuleBuilder, ModuleDoc, Signal, Ty, concat, drive, repeat, sink};
use crate::params::IntFormat;

/// Module name, e.g. `accgen_mul_lut_s8xu4`.
pub fn name(a: IntFormat, b: IntFormat, imp: MulImpl) -> String {
    format!("accgen_mul_{}_{}x{}", imp.tag(), a.tag(), b.tag())
}

/// A combinational multiplier `p_o = a_i * b_i`, exact: the product has
/// `a.bits + b.bits` bits and is signed when either operand is. Returns the
/// modules it needs, dependencies first; the multiplier is the last.
pub fn multiplier(a: IntFormat, b: IntFormat, imp: MulImpl) -> Vec<Module> {
    let pw = a.bits + b.bits;
    let signed = a.signed || b.signed;
    let sub_note = if b.signed {
        " b_i is two's complement, so its top row weighs -2^(n-1) and is subtracted."
    } else {
        ""
    };
    let how = match imp {
        MulImpl::Dsp => "Both operands are extended to the product width and multiplied with a plain `*`, which synthesis maps to a DSP block (or its own LUT multiplier when DSPs are disabled).".to_string(),
        MulImpl::Lut => format!(
            "An array multiplier on the carry chain: one row per bit of b_i ({} rows), each a_i AND b_i[i], added to the running sum shifted right by one; the bit shifted out is a final product bit, so each row adder is A_W + 1 bits. Gating the row before the adder lets a LUT6 (Xilinx CARRY4) or LUT4 (ECP5 CCU2C) compute the propagate s ^ (a & b) in one LUT per partial-product bit.{sub_note}",
            b.bits
        ),
        MulImpl::Lut4 => format!(
            "An array multiplier on the carry chain: one row per bit of b_i ({} rows), each adding a_i to the running sum shifted right by one and keeping the sum only when b_i[i] is set; the bit shifted out is a final product bit, so each row adder is A_W + 1 bits. Gating after the adder suits iCE40, whose SB_CARRY takes both addends as plain signals: the gating folds into the sum LUT, one LUT4 per partial-product bit. Row adders are modules of their own that synthesis keeps, so Yosys does not merge the rows back into one multiplier.{sub_note}",
            b.bits
        ),
    };
    let mut deps = Vec::new();
    let mut m = ModuleBuilder::new(
        name(a, b, imp),
        ModuleDoc {
            title: format!("Exact {a} x {b} multiplier ({} structure)", imp.tag()),
            description: vec![how],
            params: vec![
                ("a_i".into(), a.to_string(), "first operand (activation)".into()),
                ("b_i".into(), b.to_string(), "second operand (weight)".into()),
                (
                    "p_o".into(),
                    format!("{}int{pw}", if signed { "" } else { "u" }),
                    "exact product".into(),
                ),
            ],
            timing: vec!["Combinational: no clock, zero latency.".into()],
        },
    );
    let ai = m.input("a_i", Ty::new(a.bits, a.signed), "first operand (activation)");
    let bi = m.input("b_i", Ty::new(b.bits, b.signed), "second operand (weight)");
    let po = m.output("p_o", Ty::new(pw, signed), "exact product");
    let prod_w = m.localparam(
        "PROD_W",
        pw as i64,
        &format!(
            "{} + {}: the product of the two operand widths never overflows",
            a.bits, b.bits
        ),
    );
    match imp {
        MulImpl::Dsp => {
            m.section(
                "Inferred multiplier",
                &["Operands are extended to PROD_W first, so the `*` is self-determined at the product width."],
            );
            let ax = m.wire("a_ext", &prod_w, signed, "a_i extended to PROD_W");
            let bx = m.wire("b_ext", &prod_w, signed, "b_i extended to PROD_W");
            m.assign(&ax, ai.e().extend(pw).cast(signed));
            m.assign(&bx, bi.e().extend(pw).cast(signed));
            m.assign(&po, &ax * &bx);
        }
        MulImpl::Lut | MulImpl::Lut4 => {
            let bits = rows(&mut m, &mut deps, &ai, &bi, a, b, imp);
            let product = m.wire(
                "product",
                &prod_w,
                false,
                "the product's bits, low to high as the rows produced them",
            );
            m.assign(&product, bits);
            m.assign(&po, product.e().cast(signed));
        }
    }
    deps.push(m.finish());
    deps
}

/// The shift-and-add rows of [`MulImpl::Lut`] and [`MulImpl::Lut4`]; returns
/// the product as an unsigned `a.bits + b.bits`-bit expression.
///
/// Row `i`'s running sum `s_i` is `A_W + 1` bits, read as signed when a_i is
/// signed (unsigned otherwise), and holds `sum_{k<=i} a * b_k * 2^(k-i)`
/// rounded down, the `i` bits below having left as product bits. Ranges,
/// with n = A_W:
/// - unsigned a_i: `s_i < 2^(n+1)` because `floor(s/2) < 2^n` and a row `< 2^n`;
/// - signed a_i: `s_i` in `[-2^n, 2^n - 2]` because `floor(s/2)` and a row
///   are both in `[-2^(n-1), 2^(n-1) - 1]`;
/// - the subtracted last row of a signed b_i: `floor(s/2) - a*b` lies in
///   `[-2^n + 1, 2^n - 1]`, which is `A_W + 1` bits signed.
fn rows(
    m: &mut ModuleBuilder,
    deps: &mut Vec<Module>,
    ai: &Signal,
    bi: &Signal,
    a: IntFormat,
    b: IntFormat,
    imp: MulImpl,
) -> Expr {
    let n = a.bits;
    let row_w = m.localparam(
        "ROW_W",
        (n + 1) as i64,
        &format!("{n} + 1: a_i plus the carry out of each row sum"),
    );
    let why = match imp {
        MulImpl::Lut4 => {
            "Each row adder is a kept module (see its header): its carry chain adds s and a_i unconditionally and b_i[i] picks the sum or s after it."
        }
        _ => {
            "The running sum is the first addend, so on Xilinx it is the carry chain's generate input (DI) and needs no LUT of its own; the AND folds into the propagate LUT."
        }
    };
    m.section(
        "Rows",
        &[
            "acc_i = (acc_{i-1} >> 1) + b_i[i] * a_i, ROW_W bits; acc_{i-1}[0] is product bit i-1.",
            why,
        ],
    );
    // Modified Baugh-Wooley for a signed a_i on the LUT6 structure: every
    // row stays unsigned (sign extension made Yosys swap the adder's operands
    // and spend a LUT per bit on the carry chain's generate input).
    let baugh_wooley = imp == MulImpl::Lut && a.signed && n >= 2 && b.bits >= 2;
    let (ax, a_low) = if baugh_wooley {
        m.section(
            "Baugh-Wooley rows",
            &[
                "a_i is signed: a_i[n-1] weighs -2^(n-1), so each row's top bit a_i[n-1] & b_i[i] is negative. -x = ~x - 1, so every row keeps the inverted top bit and the -1s add up to a constant, 2^(n-1) (folded into row 0 as {~x, x}) plus 2^(n+m-1) (the product's top bit inverted).",
                "For a signed b_i the last row is subtracted as acc - Z with Z = {~(a_i[n-1] & b_i[m-1]), a_i[n-2:0] & b_i[m-1]}: subtracting adds the 2^(m-1) constant of b_i's negative row and flips the same top bit again, so no inversion is left.",
            ],
        );
        let low = m.wire("a_low", n - 1, false, "a_i without its sign bit");
        m.assign(&low, ai.select(0u32, n - 1));
        (None, Some(low))
    } else {
        let ax = m.wire(
            "a_ext",
            &row_w,
            false,
            &format!("a_i {}-extended to ROW_W", if a.signed { "sign" } else { "zero" }),
        );
        m.assign(&ax, ai.e().extend(n + 1).cast(false));
        (Some(ax), None)
    };
    // Baugh-Wooley row i, n bits: {~(a_i[n-1] & b_i[i]), a_i[n-2:0] & b_i[i]}.
    let bw_row = |i: u32| -> Expr {
        let low = a_low.as_ref().unwrap_or_else(|| unreachable!("Baugh-Wooley rows"));
        concat(vec![!(ai.bit(n - 1) & bi.bit(i)), low.e() & repeat(n - 1, bi.bit(i))])
    };
    let acc0 = m.wire("acc_0", &row_w, false, "row 0: a_i AND b_i[0]");
    match (&ax, baugh_wooley) {
        (Some(ax), false) => m.assign(&acc0, ax.e() & repeat(n + 1, bi.bit(0u32))),
        _ => {
            let low = a_low.as_ref().unwrap_or_else(|| unreachable!("Baugh-Wooley rows"));
            let top = ai.bit(n - 1) & bi.bit(0u32);
            // Row 0 plus the 2^(n-1) constant: {~x, x, low bits}.
            m.assign(
                &acc0,
                concat(vec![!top.clone(), top, low.e() & repeat(n - 1, bi.bit(0u32))]),
            );
        }
    }
    let mut accs = vec![acc0];
    for i in 1..b.bits {
        let prev = accs[i as usize - 1].clone();
        let subtract = b.signed && i == b.bits - 1;
        let sign = if subtract { " (subtracted: b_i's sign bit)" } else { "" };
        let acc = m.wire(&format!("acc_{i}"), &row_w, false, &format!("after row {i}{sign}"));
        match imp {
            MulImpl::Lut => {
                // The previous sum shifted right, extended like a_i (Baugh-Wooley: unsigned).
                let ext = if a.signed && !baugh_wooley {
                    prev.bit(n)
                } else {
                    Ty::u(1).zero()
                };
                let shifted = concat(vec![ext, prev.select(1u32, n)]);
                let row = match &ax {
                    Some(ax) => ax.e() & repeat(n + 1, bi.bit(i)),
                    None => concat(vec![Ty::u(1).zero(), bw_row(i)]),
                };
                m.assign(&acc, if subtract { shifted - row } else { shifted + row });
            }
            MulImpl::Lut4 => {
                // Yosys 0.23 asserts on `$signed(...)` in a port connection: name it.
                let shifted = m.wire(
                    &format!("acc_{}_shr", i - 1),
                    n,
                    a.signed,
                    &format!("acc_{} >> 1", i - 1),
                );
                m.assign(&shifted, prev.select(1u32, n).cast(a.signed));
                let adder = row_adder(a, subtract);
                m.instance(
                    &adder,
                    &format!("u_row_{i}"),
                    vec![
                        ("s_i", drive(&shifted)),
                        ("a_i", drive(ai)),
                        ("b_i", drive(bi.bit(i))),
                        ("s_o", sink(&acc)),
                    ],
                );
                if !deps.iter().any(|d: &Module| d.name == adder.name) {
                    deps.push(adder);
                }
            }
            MulImpl::Dsp => unreachable!("a plain `*` has no rows"),
        }
        accs.push(acc);
    }
    m.section(
        "Product",
        &["The last sum on top of the bits each earlier row shifted out."],
    );
    let last = accs.pop().unwrap_or_else(|| unreachable!("b_i has at least one bit"));
    // Baugh-Wooley with an unsigned b_i leaves the 2^(n+m-1) constant: invert the top bit.
    let mut parts = if baugh_wooley && !b.signed {
        vec![!last.bit(n), last.select(0u32, n)]
    } else {
        vec![last.e()]
    };
    parts.extend(accs.iter().rev().map(|s| s.bit(0u32)));
    concat(parts)
}

/// Module name of a [`MulImpl::Lut4`] row adder, e.g. `accgen_mul_row_s8_sub`.
pub fn row_adder_name(a: IntFormat, subtract: bool) -> String {
    format!("accgen_mul_row_{}_{}", a.tag(), if subtract { "sub" } else { "add" })
}

/// One row of [`MulImpl::Lut4`]: `s_o = b_i ? s_i +- a_i : s_i`, operands
/// extended like `a`, `a.bits + 1` bits out.
pub fn row_adder(a: IntFormat, subtract: bool) -> Module {
    let n = a.bits;
    let op = if subtract { "-" } else { "+" };
    let ext = if a.signed { "sign" } else { "zero" };
    let mut m = ModuleBuilder::new(
        row_adder_name(a, subtract),
        ModuleDoc {
            title: format!("One row of a LUT4 array multiplier: s_o = b_i ? s_i {op} a_i : s_i"),
            description: vec![
                format!("Both operands are {ext}-extended by one bit, so the {}-bit result is exact.", n + 1),
                "The adder's carry chain takes s_i and a_i as plain signals (iCE40's SB_CARRY needs both addends), and the choice on b_i after it folds into each sum bit's LUT4. The module is kept apart in synthesis (keep_hierarchy) so Yosys maps it this way instead of merging every row into one multiplier.".into(),
            ],
            params: vec![
                ("s_i, a_i".into(), a.to_string(), "addends".into()),
                ("operation".into(), if subtract { "subtract" } else { "add" }.into(), String::new()),
            ],
            timing: vec!["Combinational: no clock, zero latency.".into()],
        },
    );
    m.attribute(
        "keep_hierarchy",
        "Kept apart in synthesis: flattened, Yosys merges the rows into one multiplier and loses the carry chain.",
    );
    let s = m.input("s_i", Ty::new(n, a.signed), "running sum, shifted right by one");
    let ai = m.input("a_i", Ty::new(n, a.signed), "multiplicand");
    let bi = m.input("b_i", Ty::BIT, "this row's bit of the multiplier");
    let so = m.output("s_o", Ty::u(n + 1), "new running sum");
    let sum_w = m.localparam("SUM_W", (n + 1) as i64, &format!("{n} + 1: one bit of growth"));
    let widen = |x: &Signal| x.e().extend(n + 1).cast(false);
    let sx = m.wire("s_ext", &sum_w, false, &format!("s_i {ext}-extended to SUM_W"));
    m.assign(&sx, widen(&s));
    let ax = m.wire("a_ext", &sum_w, false, &format!("a_i {ext}-extended to SUM_W"));
    m.assign(&ax, widen(&ai));
    let t = m.wire("sum", &sum_w, false, &format!("s_i {op} a_i, on the carry chain"));
    m.assign(&t, if subtract { &sx - &ax } else { &sx + &ax });
    m.assign(&so, crate::ir::mux(&bi, &t, &sx));
    m.finish()
}

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
    let how = if imp != MulImpl::Dsp && b.bits >= SPLIT_MIN_ROWS {
        format!(
            "{how} With {} rows, two chains of rows run side by side and one adder joins them, so the LUT depth is halved.",
            b.bits
        )
    } else {
        how
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
            m.section(
                "Product",
                &["The last sum on top of the bits each earlier row shifted out."],
            );
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

/// Multipliers with at least this many rows (bits of b_i) run two chains of
/// rows side by side and add them at the end: one extra adder, but half
/// the LUT depth (a chain of m rows is m LUTs deep), which measured 67 ->
/// 109 MHz on iCE40 for 8 x 8.
pub const SPLIT_MIN_ROWS: u32 = 6;

/// What every chain of rows shares.
struct RowCtx<'a> {
    ai: &'a Signal,
    bi: &'a Signal,
    a: IntFormat,
    imp: MulImpl,
    row_w: crate::ir::Param,
    /// a_i extended to ROW_W (sign-extension rows).
    a_ext: Option<Signal>,
    /// a_i without its sign bit (Baugh-Wooley rows).
    a_low: Option<Signal>,
}

/// The shift-and-add rows of [`MulImpl::Lut`] and [`MulImpl::Lut4`]; returns
/// the product as an unsigned `a.bits + b.bits`-bit expression.
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
    let mb = b.bits;
    let split = mb >= SPLIT_MIN_ROWS;
    let low_rows = if split { mb.div_ceil(2) } else { mb };
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
    let mut lines = vec![
        "acc_i = (acc_{i-1} >> 1) + b_i[i] * a_i, ROW_W bits; acc_{i-1}[0] is product bit i-1.".to_string(),
        why.to_string(),
    ];
    if split {
        lines.push(format!(
            "Two chains side by side, rows 0..{} (b_i's low bits, unsigned) and rows {low_rows}..{} (b_i's high bits), added at the end: a chain is as many LUTs deep as it has rows, so this halves the depth for one adder.",
            low_rows - 1,
            mb - 1
        ));
    }
    let line_refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    m.section("Rows", &line_refs);
    // Modified Baugh-Wooley for a signed a_i on the LUT6 structure: every
    // row stays unsigned (sign extension made Yosys swap the adder's operands
    // and spend a LUT per bit on the carry chain's generate input).
    let baugh_wooley = imp == MulImpl::Lut && a.signed && n >= 2 && mb >= 2;
    let mut ctx = RowCtx {
        ai,
        bi,
        a,
        imp,
        row_w,
        a_ext: None,
        a_low: None,
    };
    if baugh_wooley {
        m.section(
            "Baugh-Wooley rows",
            &[
                "a_i is signed: a_i[n-1] weighs -2^(n-1), so each row's top bit a_i[n-1] & b_i[i] is negative. -x = ~x - 1, so every row keeps the inverted top bit and the -1s of a chain of k rows add up to a constant, 2^(n-1) (folded into its first row as {~x, x}) plus 2^(n+k-1) (the chain's top bit inverted).",
                "When the chain's last row is b_i's sign bit it is subtracted as acc - Z with Z = {~(a_i[n-1] & b_i[m-1]), a_i[n-2:0] & b_i[m-1]}: subtracting adds the 2^(k-1) constant of that negative row and flips the same top bit again, so no inversion is left.",
            ],
        );
        let low = m.wire("a_low", n - 1, false, "a_i without its sign bit");
        m.assign(&low, ai.select(0u32, n - 1));
        ctx.a_low = Some(low);
    } else {
        let ax = m.wire(
            "a_ext",
            &ctx.row_w,
            false,
            &format!("a_i {}-extended to ROW_W", if a.signed { "sign" } else { "zero" }),
        );
        m.assign(&ax, ai.e().extend(n + 1).cast(false));
        ctx.a_ext = Some(ax);
    }
    if !split {
        let bits = chain(m, deps, &ctx, 0, mb, b.signed, baugh_wooley);
        return bits;
    }
    let lo_w = n + low_rows;
    let hi_w = n + mb - low_rows;
    let lo_bits = chain(m, deps, &ctx, 0, low_rows, false, baugh_wooley);
    let lo = m.wire(
        "prod_lo",
        lo_w,
        false,
        &format!(
            "a_i * b_i[{}:0], {}",
            low_rows - 1,
            if a.signed { "signed" } else { "unsigned" }
        ),
    );
    m.assign(&lo, lo_bits);
    let hi_bits = chain(m, deps, &ctx, low_rows, mb - low_rows, b.signed, baugh_wooley);
    let hi = m.wire(
        "prod_hi",
        hi_w,
        false,
        &format!(
            "a_i * b_i[{}:{low_rows}], {}",
            mb - 1,
            if a.signed || b.signed { "signed" } else { "unsigned" }
        ),
    );
    m.assign(&hi, hi_bits);
    m.section(
        "Chains added",
        &["prod_hi weighs 2^(rows of the low chain): the low chain's low bits are final, its upper bits (extended like a_i) are added to prod_hi."],
    );
    let lo_upper = m.wire(
        "prod_lo_upper",
        hi_w,
        false,
        &format!(
            "prod_lo >> {low_rows}, {}-extended",
            if a.signed { "sign" } else { "zero" }
        ),
    );
    let fill = if a.signed {
        repeat(hi_w - n, lo.bit(lo_w - 1))
    } else {
        Ty::u(hi_w - n).zero()
    };
    m.assign(&lo_upper, concat(vec![fill, lo.select(low_rows, n)]));
    let top = m.wire("prod_top", hi_w, false, "prod_hi + prod_lo_upper, on the carry chain");
    match imp {
        MulImpl::Lut4 => {
            let adder = chain_adder(hi_w);
            m.instance(
                &adder,
                "u_chains",
                vec![("x_i", drive(&hi)), ("y_i", drive(&lo_upper)), ("s_o", sink(&top))],
            );
            if !deps.iter().any(|d: &Module| d.name == adder.name) {
                deps.push(adder);
            }
        }
        _ => m.assign(&top, &hi + &lo_upper),
    }
    concat(vec![top.e(), lo.select(0u32, low_rows)])
}

/// A chain of `count` rows for bits `first..first + count` of b_i, the top
/// one negative when `negative_top`; returns its product with a_i,
/// `a.bits + count` bits, two's complement when a_i or the top is signed.
///
/// Row `i`'s running sum `s_i` is `A_W + 1` bits, read as signed when a_i is
/// signed (unsigned otherwise; Baugh-Wooley rows are always unsigned), and
/// holds `sum_{k<=i} a * b_k * 2^(k-i)` rounded down, the bits below having
/// left as product bits. Ranges, with n = A_W:
/// - unsigned a_i: `s_i < 2^(n+1)` because `floor(s/2) < 2^n` and a row `< 2^n`;
/// - signed a_i: `s_i` in `[-2^n, 2^n - 2]` because `floor(s/2)` and a row
///   are both in `[-2^(n-1), 2^(n-1) - 1]`;
/// - the subtracted last row of a signed b_i: `floor(s/2) - a*b` lies in
///   `[-2^n + 1, 2^n - 1]`, which is `A_W + 1` bits signed.
fn chain(
    m: &mut ModuleBuilder,
    deps: &mut Vec<Module>,
    ctx: &RowCtx<'_>,
    first: u32,
    count: u32,
    negative_top: bool,
    baugh_wooley: bool,
) -> Expr {
    let (ai, bi, a, imp) = (ctx.ai, ctx.bi, ctx.a, ctx.imp);
    let n = a.bits;
    let last_row = first + count - 1;
    // Baugh-Wooley row i, n bits: {~(a_i[n-1] & b_i[i]), a_i[n-2:0] & b_i[i]}.
    let bw_row = |i: u32| -> Expr {
        let low = ctx.a_low.as_ref().unwrap_or_else(|| unreachable!("Baugh-Wooley rows"));
        concat(vec![!(ai.bit(n - 1) & bi.bit(i)), low.e() & repeat(n - 1, bi.bit(i))])
    };
    let acc0 = m.wire(
        &format!("acc_{first}"),
        &ctx.row_w,
        false,
        &format!(
            "row {first}: a_i AND b_i[{first}]{}",
            if baugh_wooley { ", plus 2^(n-1)" } else { "" }
        ),
    );
    match (&ctx.a_ext, baugh_wooley) {
        (Some(ax), false) => m.assign(&acc0, ax.e() & repeat(n + 1, bi.bit(first))),
        _ => {
            let low = ctx.a_low.as_ref().unwrap_or_else(|| unreachable!("Baugh-Wooley rows"));
            let top = ai.bit(n - 1) & bi.bit(first);
            // The first row plus the 2^(n-1) constant: {~x, x, low bits}.
            m.assign(
                &acc0,
                concat(vec![!top.clone(), top, low.e() & repeat(n - 1, bi.bit(first))]),
            );
        }
    }
    let mut accs = vec![acc0];
    for i in first + 1..=last_row {
        let prev = accs[(i - first) as usize - 1].clone();
        let subtract = negative_top && i == last_row;
        let sign = if subtract { " (subtracted: b_i's sign bit)" } else { "" };
        let acc = m.wire(&format!("acc_{i}"), &ctx.row_w, false, &format!("after row {i}{sign}"));
        match imp {
            MulImpl::Lut => {
                // The previous sum shifted right, extended like a_i (Baugh-Wooley: unsigned).
                let ext = if a.signed && !baugh_wooley {
                    prev.bit(n)
                } else {
                    Ty::u(1).zero()
                };
                let shifted = concat(vec![ext, prev.select(1u32, n)]);
                let row = match &ctx.a_ext {
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
    let last = accs
        .pop()
        .unwrap_or_else(|| unreachable!("a chain has at least one row"));
    // Baugh-Wooley with a non-negative top row leaves the 2^(n+k-1) constant: invert the top bit.
    let mut parts = if baugh_wooley && !negative_top {
        vec![!last.bit(n), last.select(0u32, n)]
    } else {
        vec![last.e()]
    };
    parts.extend(accs.iter().rev().map(|s| s.bit(0u32)));
    concat(parts)
}

/// Module name of the [`MulImpl::Lut4`] adder that joins two chains of rows.
pub fn chain_adder_name(width: u32) -> String {
    format!("accgen_mul_add_w{width}")
}

/// `s_o = x_i + y_i` modulo `2^width`, kept apart in synthesis like the row
/// adders, so it stays on the carry chain.
pub fn chain_adder(width: u32) -> Module {
    let mut m = ModuleBuilder::new(
        chain_adder_name(width),
        ModuleDoc {
            title: format!("{width}-bit adder joining two chains of a LUT4 array multiplier"),
            description: vec!["Kept apart in synthesis (keep_hierarchy), like the row adders, so Yosys maps it to the carry chain instead of merging it with the rows.".into()],
            params: vec![("width".into(), width.to_string(), "modulo 2^width".into())],
            timing: vec!["Combinational: no clock, zero latency.".into()],
        },
    );
    m.attribute(
        "keep_hierarchy",
        "Kept apart in synthesis: flattened, Yosys merges it with the rows into one multiplier.",
    );
    let x = m.input("x_i", Ty::u(width), "first addend");
    let y = m.input("y_i", Ty::u(width), "second addend");
    let s = m.output("s_o", Ty::u(width), "sum modulo 2^width");
    m.assign(&s, &x + &y);
    m.finish()
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

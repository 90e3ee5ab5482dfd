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
//!   input, so the AND folds into the LUT. ECP5's CCU2C does not fold it:
//!   Yosys 0.23 maps each CCU2C using only its A/B inputs (the LUT4 inside
//!   computes A ^ B), so `a & b_i` is a LUT4 of its own, one LUT level
//!   before the adder (one LUT per partial-product bit, the CCU2Cs on top).
//! - [`MulImpl::Lut4`]: `b_i ? s + a : s`. iCE40's SB_CARRY takes both
//!   addends as plain signals, so the gating must come after the adder,
//!   where it folds into the sum LUT (`s ^ (b_i & (a ^ carry))`). Yosys
//!   would otherwise merge the rows back into one multiplier and lose the
//!   carry chain, so each row adder is a module synthesis keeps. At
//!   `u8 x u8`, [`super::mul_np`] covers three bits of each half of `b_i`
//!   with two rows of four-input bits in one adder, three levels in all.
//!
//! - [`MulImpl::Booth`]: radix-4 (modified) Booth rows, about half as many:
//!   each partial-product bit is a function of three bits of `b_i` and two
//!   of `a_i`, so a LUT6 computes it and its sum with the running sum for
//!   the CARRY4; see [`booth`].
//! - [`MulImpl::BoothTree`]: the same digits, but every row is generated
//!   in LUTs and the rows are summed in one balanced tree of two-input
//!   adders (no chains), the fewest carry chains on any path: for speed on
//!   ECP5 and iCE40, where the routing into and out of each chain dominates.
//!   See [`super::mul_tree`], and [`super::mul_split`] for `u8 x u8`.
//!
//! Rows are summed in short chains (the generation of a row folds into its
//! chain adder), and the chains in a balanced tree of adders ([`tree`]): a
//! chain of k rows is k LUT levels deep, a tree of c chains log2(c) more, so
//! the depth stays logarithmic where one long chain lost up to a quarter of
//! the plain `*`'s Fmax.
//!
//! Signed operands: a signed `a_i` sign-extends the running sum and every
//! row; a signed `b_i` weighs its top bit `-2^(n-1)`, so the last row is
//! subtracted. The range of every running sum is proven in the comments of
//! [`chain`].

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
            "An array multiplier on the carry chain: one row per bit of b_i ({} rows), each a_i AND b_i[i], added to the running sum shifted right by one; the bit shifted out is a final product bit, so each row adder is A_W + 1 bits. Gating the row before the adder lets a Xilinx LUT6 compute the carry chain's propagate s ^ (a & b) in one LUT per partial-product bit (on ECP5 the AND is a LUT4 of its own before the CCU2C).{sub_note}",
            b.bits
        ),
        MulImpl::Lut4 if super::mul_np::applies(a, b) => "Each half of b_i (b_i[3:0], b_i[7:4]) is one adder of two rows whose every bit is one LUT4, and one gated row: b_i[i+2:i] = (b_i[i] - 2 b_i[i+1]) + 4 (b_i[i+1] + b_i[i+2]), an N row (digit -2..1, inverted when negative, its +1 the adder's carry-in) and a P row (digit 0..2), each bit a choice of a_i or 2 a_i by two bits of b_i; their sum is below 2^11, so the N row's sign extends by two plain bits and no constant is added. b_i[i+3] is a row gated after its adder (b ? s + a : s) on top, and one adder sums the halves: three adder levels instead of the five of two chains of four gated rows.".to_string(),
        MulImpl::Lut4 => format!(
            "An array multiplier on the carry chain: one row per bit of b_i ({} rows), each adding a_i to the running sum shifted right by one and keeping the sum only when b_i[i] is set; the bit shifted out is a final product bit, so each row adder is A_W + 1 bits. Gating after the adder suits iCE40, whose SB_CARRY takes both addends as plain signals: the gating folds into the sum LUT, one LUT4 per partial-product bit. Row adders are modules of their own that synthesis keeps, so Yosys does not merge the rows back into one multiplier.{sub_note}",
            b.bits
        ),
        MulImpl::Booth => format!(
            "Radix-4 (modified) Booth: b_i is recoded into {} digits in -2..2, each from three of its bits, and each digit times a_i is one row; a LUT6 computes a row's bit (two bits of a_i, the three of b_i) and its sum with the running sum, which drives the CARRY4's generate input, so a row costs one LUT per bit. Rows are unsigned with a constant folded into their top bits (the sign-extension trick), and the +1 that completes a negative row is the next row adder's carry-in; each row adder is a kept module, so ABC cannot merge the rows back into one multiplier.{}",
            booth_digits(b),
            if b.signed {
                " b_i is two's complement: its low bits are recoded, and its sign bit's row -2^(m-1) * a_i is subtracted last."
            } else {
                ""
            }
        ),
        MulImpl::BoothTree if super::mul_split::applies(a, b) => "Radix-4 (modified) Booth rows generated in LUTs, no adder inside a row, summed in two levels of two-input carry-chain adders. b_i's low bit is split off: b_i = 2 * b_i[7:1] + b_i[0], and the 7-bit b_i[7:1] has four digits whose top one is never negative, so four Booth rows (columns 1, 3, 5, 7) and the row b_i[0] * a_i (columns 0..7) make the product. The +1 of each negative row is an adder's carry-in; row 0's top bits and sign and the other row's bit 7 are one six-input addend (a LUT6 per bit), which frees the one column that would otherwise need a third adder level.".to_string(),
        MulImpl::BoothTree => format!(
            "Radix-4 (modified) Booth rows generated in LUTs, no adder inside a row: b_i is recoded into {} digits in -2..2, row j is digit j times a_i, and the rows are summed in a balanced tree of two-input carry-chain adders, which crosses fewer carry chains (each a routing hop in and out) than any other structure. The +1 that completes each negative row and the rows' sign-extension constant sit in free addend slots (columns where one addend has no bit), so the tree stays exact without a further adder; a row whose +1 has no slot computes its low bits exactly and carries once, higher up. Top bits of a lower adder (a row's sign, constant bits) that sit alone on their columns move up to the next adder, beside a sum that ends below them, so the lower adder ends earlier.",
            super::mul_tree::digits(b)
        ),
    };
    let how = match imp {
        MulImpl::Dsp | MulImpl::BoothTree => how,
        _ => {
            let rows = row_count(b, imp);
            let sizes = chains(b, imp);
            if sizes.len() > 1 {
                format!(
                    "{how} The {rows} rows are summed in {} chains ({} rows each, low rows first), and the chains in a balanced tree of adders, so the LUT depth grows with log2 of the rows rather than with the rows.",
                    sizes.len(),
                    sizes.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                )
            } else {
                how
            }
        }
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
        MulImpl::Lut | MulImpl::Lut4 | MulImpl::Booth | MulImpl::BoothTree => {
            let bits = if imp == MulImpl::Booth {
                booth(&mut m, &mut deps, &ai, &bi, a, b)
            } else if imp == MulImpl::BoothTree && super::mul_split::applies(a, b) {
                super::mul_split::low_split(&mut m, &mut deps, &ai, &bi)
            } else if imp == MulImpl::Lut4 && super::mul_np::applies(a, b) {
                super::mul_np::halves(&mut m, &mut deps, &ai, &bi)
            } else if imp == MulImpl::BoothTree {
                super::mul_tree::booth_tree(&mut m, &mut deps, &ai, &bi, a, b)
            } else {
                rows(&mut m, &mut deps, &ai, &bi, a, b, imp)
            };
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

/// Rows per chain before the chains are summed in a tree. A chain of k
/// rows costs no adder beyond its rows but is k LUT levels deep; every extra
/// chain costs one tree adder. Measured on 8 x 8 (nextpnr, seeds 1..3):
/// `lut` as a pure tree of rows reaches 121-123 MHz on ECP5, signed or
/// not, with the same LUTs as chains of 2 (110-122 MHz) and far above
/// chains of 4 (93-100); `lut4` stays at about 3 (chains of 4 for 8 rows,
/// 101-109 MHz on iCE40 like the plain `*`) because there a tree adder
/// costs a LUT per bit (chains of 2: 100 LUTs instead of 82; unsigned
/// 8 x 8 is now built by [`super::mul_np`], 86 LUTs in three levels); `booth` in
/// chains of 2 (8 x 8: 2 + 3 rows, 120-122 MHz on ECP5) keeps the row
/// generation inside the row adders, which a lone row cannot.
pub fn rows_per_chain(imp: MulImpl) -> u32 {
    match imp {
        MulImpl::Lut => 1,
        MulImpl::Lut4 => 3,
        MulImpl::Booth => 2,
        MulImpl::BoothTree => 1,
        MulImpl::Dsp => unreachable!("a plain `*` has no rows"),
    }
}

/// How many rows a multiplier with operand `b` has.
pub fn row_count(b: IntFormat, imp: MulImpl) -> u32 {
    match imp {
        MulImpl::Booth => booth_digits(b) + u32::from(b.signed),
        MulImpl::BoothTree => super::mul_tree::digits(b),
        _ => b.bits,
    }
}

/// `rows` rows split into chains of about `per_chain` (at least that many,
/// so no chain is a lone row), low rows first, the longer chains on top.
pub fn chain_sizes(rows: u32, per_chain: u32) -> Vec<u32> {
    let chains = (rows / per_chain).max(1);
    (0..chains)
        .map(|c| rows / chains + u32::from(c >= chains - rows % chains))
        .collect()
}

/// The chains of a multiplier with operand `b`: [`chain_sizes`], except
/// that a signed b_i's row, subtracted by its chain's last adder, never
/// stands alone.
pub fn chains(b: IntFormat, imp: MulImpl) -> Vec<u32> {
    let mut sizes = chain_sizes(row_count(b, imp), rows_per_chain(imp));
    if b.signed && sizes.len() > 1 && sizes.last() == Some(&1) {
        sizes.pop();
        if let Some(last) = sizes.last_mut() {
            *last += 1;
        }
    }
    sizes
}

/// A partial sum of the product: `width` bits of `sig` weighing
/// `2^offset` and up, two's complement when `signed`.
#[derive(Clone)]
struct Partial {
    sig: Signal,
    offset: u32,
    width: u32,
    signed: bool,
}

/// Bits `lo..lo + width` of `sig`, extended (by their top bit when `signed`) to `to` bits.
fn widen(sig: &Signal, lo: u32, width: u32, signed: bool, to: u32) -> Expr {
    let part = sig.select(lo, width);
    if to == width {
        return part;
    }
    let fill = if signed {
        repeat(to - width, sig.bit(lo + width - 1))
    } else {
        Ty::u(to - width).zero()
    };
    concat(vec![fill, part])
}

/// Sum `partials` (low columns first) in a balanced tree of adders, each
/// only as wide as the columns its operands share plus a carry; returns the
/// `product_w`-bit product. `lut` adds with a plain `+`, the other
/// structures through [`chain_adder`] modules synthesis keeps.
fn tree(m: &mut ModuleBuilder, deps: &mut Vec<Module>, partials: Vec<Partial>, product_w: u32, imp: MulImpl) -> Expr {
    let mut level = partials;
    let mut depth = 0;
    if level.len() > 1 {
        m.section(
            "Adder tree",
            &["Neighbouring partial sums are added pairwise, level by level: the low columns of the lower one are final, its upper columns (extended like it) are added to the higher one."],
        );
    }
    while level.len() > 1 {
        let mut next = Vec::new();
        for (k, pair) in level.chunks(2).enumerate() {
            match pair {
                [lo, hi] => next.push(add_partials(
                    m,
                    deps,
                    lo,
                    hi,
                    product_w,
                    imp,
                    &format!("sum_{depth}_{k}"),
                )),
                [one] => next.push(one.clone()),
                _ => unreachable!("chunks of two"),
            }
        }
        level = next;
        depth += 1;
    }
    let root = level
        .pop()
        .unwrap_or_else(|| unreachable!("a multiplier has at least one row"));
    debug_assert_eq!(root.offset, 0);
    widen(&root.sig, 0, root.width, root.signed, product_w)
}

/// `lo + hi`, `hi` weighing at least as much; see [`tree`].
fn add_partials(
    m: &mut ModuleBuilder,
    deps: &mut Vec<Module>,
    lo: &Partial,
    hi: &Partial,
    product_w: u32,
    imp: MulImpl,
    name: &str,
) -> Partial {
    let shift = hi.offset - lo.offset;
    assert!(lo.width > shift, "partial sums {name} do not overlap");
    // One carry above the wider operand, but never above the product.
    let top = ((lo.offset + lo.width).max(hi.offset + hi.width) + 1).min(product_w);
    let w = top - hi.offset;
    let signed = lo.signed || hi.signed;
    // Signed addends are sign-extended here; unsigned ones keep their width
    // and are zero-extended where they are added.
    let x_w = if lo.signed { w } else { lo.width - shift };
    let y_w = if hi.signed { w } else { hi.width };
    let x = m.wire(
        &format!("{name}_lo"),
        x_w,
        false,
        &format!(
            "{} >> {shift}{}",
            lo.sig.name(),
            if lo.signed && x_w > lo.width - shift {
                ", sign-extended"
            } else {
                ""
            }
        ),
    );
    m.assign(&x, widen(&lo.sig, shift, lo.width - shift, lo.signed, x_w));
    let y = m.wire(
        &format!("{name}_hi"),
        y_w,
        false,
        &format!(
            "{}{}",
            hi.sig.name(),
            if hi.signed && y_w > hi.width {
                ", sign-extended"
            } else {
                ""
            }
        ),
    );
    m.assign(&y, widen(&hi.sig, 0, hi.width, hi.signed, y_w));
    let sum = m.wire(
        &format!("{name}_add"),
        w,
        false,
        &format!("{name}_lo + {name}_hi, on the carry chain"),
    );
    match imp {
        MulImpl::Lut => m.assign(&sum, x.e().zext(w) + y.e().zext(w)),
        _ => {
            let adder = chain_adder(x_w, y_w, w);
            m.instance(
                &adder,
                &format!("u_{name}"),
                vec![("x_i", drive(&x)), ("y_i", drive(&y)), ("s_o", sink(&sum))],
            );
            if !deps.iter().any(|d: &Module| d.name == adder.name) {
                deps.push(adder);
            }
        }
    }
    let all = m.wire(
        name,
        top - lo.offset,
        false,
        &format!(
            "{} + {}, weighing 2^{} and up{}",
            lo.sig.name(),
            hi.sig.name(),
            lo.offset,
            if signed { ", two's complement" } else { "" }
        ),
    );
    let bits = if shift > 0 {
        concat(vec![sum.e(), lo.sig.select(0u32, shift)])
    } else {
        sum.e()
    };
    m.assign(&all, bits);
    Partial {
        sig: all,
        offset: lo.offset,
        width: top - lo.offset,
        signed,
    }
}

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

/// The shift-and-add rows of [`MulImpl::Lut`] and [`MulImpl::Lut4`] in
/// chains summed by [`tree`]; returns the product as an unsigned
/// `a.bits + b.bits`-bit expression.
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
    let sizes = chains(b, imp);
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
    if sizes.len() > 1 {
        lines.push(format!(
            "{} chains of rows ({} rows each, low bits of b_i first), each the exact product of a_i and its bits of b_i, summed in the adder tree below.",
            sizes.len(),
            sizes.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
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
    let mut partials = Vec::new();
    let mut first = 0;
    for (c, &count) in sizes.iter().enumerate() {
        let top = first + count == mb;
        let negative_top = b.signed && top;
        let bits = chain(m, deps, &ctx, first, count, negative_top, baugh_wooley);
        if sizes.len() == 1 {
            return bits;
        }
        let signed = a.signed || negative_top;
        let prod = m.wire(
            &format!("chain_{c}"),
            n + count,
            false,
            &format!(
                "a_i * b_i[{}:{first}]{}",
                first + count - 1,
                if signed { ", two's complement" } else { ", unsigned" }
            ),
        );
        m.assign(&prod, bits);
        partials.push(Partial {
            sig: prod,
            offset: first,
            width: n + count,
            signed,
        });
        first += count;
    }
    tree(m, deps, partials, n + mb, imp)
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
            MulImpl::Dsp | MulImpl::Booth | MulImpl::BoothTree => {
                unreachable!("a plain `*` has no rows, Booth rows are built by `booth` and `booth_tree`")
            }
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

/// Module name of the adder of two partial sums in [`tree`]: addends of
/// `x_w` and `y_w` bits, a `width`-bit sum.
pub fn chain_adder_name(x_w: u32, y_w: u32, width: u32) -> String {
    format!("accgen_mul_add_{x_w}x{y_w}_w{width}")
}

/// `s_o = x_i + y_i` modulo `2^width`, both zero-extended, kept apart in
/// synthesis like the row adders, so it stays on the carry chain. Addends
/// narrower than the sum keep their known-zero top bits inside the module,
/// where synthesis sees them (a LUT less per such bit).
pub fn chain_adder(x_w: u32, y_w: u32, width: u32) -> Module {
    two_addend_adder(x_w, y_w, width, false)
}

/// Module name of a [`chain_adder_ci`], e.g. `accgen_mul_addc_9x10_w11`.
pub fn chain_adder_ci_name(x_w: u32, y_w: u32, width: u32) -> String {
    format!("accgen_mul_addc_{x_w}x{y_w}_w{width}")
}

/// `s_o = x_i + y_i + c_i` modulo `2^width`: a [`chain_adder`] whose
/// carry-in is one more addend bit on its lowest column. Yosys 0.23 maps the
/// 1-bit third addend to the chain's carry-in (one chain, no second adder:
/// 8 + 8 + 1 bits is five CCU2C on ECP5, eight SB_CARRY on iCE40, like
/// 8 + 8), so the slot costs no LUT and no extra level.
pub fn chain_adder_ci(x_w: u32, y_w: u32, width: u32) -> Module {
    two_addend_adder(x_w, y_w, width, true)
}

/// [`chain_adder`], with a carry-in `c_i` when `carry_in` ([`chain_adder_ci`]).
fn two_addend_adder(x_w: u32, y_w: u32, width: u32, carry_in: bool) -> Module {
    let kept = "Kept apart in synthesis (keep_hierarchy), like the row adders, so Yosys maps it to the carry chain instead of merging it with the rows.";
    let mut params = vec![(
        "x_i, y_i".into(),
        format!("{x_w}, {y_w} bits"),
        "unsigned addends".into(),
    )];
    if carry_in {
        params.push(("c_i".into(), "1 bit".into(), "carry-in, weight 1".into()));
    }
    params.push(("s_o".into(), format!("{width} bits"), "modulo 2^width".into()));
    let doc = if carry_in {
        ModuleDoc {
            title: format!("{width}-bit adder with a carry-in, of two partial sums of a LUT multiplier"),
            description: vec![format!(
                "The carry-in c_i is one more addend bit on the lowest column: synthesis feeds it to the carry chain's carry-in. {kept}"
            )],
            params,
            timing: vec!["Combinational: no clock, zero latency.".into()],
        }
    } else {
        ModuleDoc {
            title: format!("{width}-bit adder of two partial sums of a LUT multiplier"),
            description: vec![kept.into()],
            params,
            timing: vec!["Combinational: no clock, zero latency.".into()],
        }
    };
    let name = if carry_in {
        chain_adder_ci_name(x_w, y_w, width)
    } else {
        chain_adder_name(x_w, y_w, width)
    };
    let mut m = ModuleBuilder::new(name, doc);
    m.attribute(
        "keep_hierarchy",
        "Kept apart in synthesis: flattened, Yosys merges it with the rows into one multiplier.",
    );
    let x = m.input("x_i", Ty::u(x_w), "first addend");
    let y = m.input("y_i", Ty::u(y_w), "second addend");
    let c = carry_in.then(|| m.input("c_i", Ty::BIT, "carry-in"));
    let s = m.output("s_o", Ty::u(width), "sum modulo 2^width");
    let sum_w = m.localparam(
        "SUM_W",
        width as i64,
        "the wider addend plus a carry, cut at the product's top",
    );
    let xe = m.wire("x_ext", &sum_w, false, "x_i zero-extended to SUM_W");
    m.assign(&xe, x.e().zext(width));
    let ye = m.wire("y_ext", &sum_w, false, "y_i zero-extended to SUM_W");
    m.assign(&ye, y.e().zext(width));
    match c {
        Some(c) => {
            let ce = m.wire("c_ext", &sum_w, false, "c_i zero-extended to SUM_W");
            m.assign(&ce, c.e().zext(width));
            m.assign(&s, (&xe + &ye) + &ce);
        }
        None => m.assign(&s, &xe + &ye),
    }
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

/// Radix-4 Booth digits of `b`: its magnitude bits (all of an unsigned `b`,
/// all but the sign of a signed one) zero-extended to an even count with at
/// least one leading zero, two bits per digit, so the top digit is never
/// negative.
pub fn booth_digits(b: IntFormat) -> u32 {
    let magnitude = b.bits - u32::from(b.signed);
    (magnitude + 2) / 2
}

/// The bits of Booth row `j` as an unsigned term of `width` bits (the row's
/// full term cut at the product's top), built in `m` from `a_i` and the
/// row's group `g` = {b[2j+1], b[2j], b[2j-1]}; `prefix` names its wires.
///
/// The digit is d = -2 g[2] + g[1] + g[0]; `pp` = |d| * a_i, inverted when
/// d < 0 (`neg`), is the row as an (n+2)-bit two's complement value minus
/// `neg`, with sign `s`. Two's complement rows are made unsigned by
/// inverting their sign bit, which subtracts 2^(n+1) per row: row 0 is
/// written {~s, s, s, pp} and every other row {1, ~s, pp}, and those
/// constants add up to 2^(n+1+2G), above the product, so they vanish. The
/// `neg` of row j-1 is added in the two-bit gap under row j, which is why
/// row j (j >= 1) starts at column 2j - 2: {1, ~s, pp, 0, g[0]} (in a row
/// adder {1, ~s, pp, 0, 0}, g[0] being its carry-in: see [`BoothTerm`]).
/// A term that ends on the product's top column may drop or restore the
/// constant in its top bit, as `term.top` says (see [`TopBit`]).
fn booth_term(m: &mut ModuleBuilder, ai: &Signal, a: IntFormat, g: &Signal, term: BoothTerm, prefix: &str) -> Expr {
    let BoothTerm { j, width, top, .. } = term;
    let n = a.bits;
    let gap = if j == 0 { 0 } else { 2 };
    // pp is n + 1 bits unless the product's top cuts it (the top row of an unsigned b).
    let pp_w = (n + 1).min(width - gap);
    let one = m.wire(
        &format!("{prefix}one"),
        1,
        false,
        "digit is +-1: b[2j] differs from b[2j-1]",
    );
    m.assign(&one, g.bit(1u32) ^ g.bit(0u32));
    let two = m.wire(&format!("{prefix}two"), 1, false, "digit is +-2: 100 or 011");
    m.assign(
        &two,
        (g.bit(2u32) & !g.bit(1u32) & !g.bit(0u32)) | (!g.bit(2u32) & g.bit(1u32) & g.bit(0u32)),
    );
    let neg = m.wire(&format!("{prefix}neg"), 1, false, "digit is negative: b[2j+1]");
    m.assign(&neg, g.bit(2u32));
    // a_i and 2 * a_i, extended like a_i, cut to pp_w bits.
    let times_one = if pp_w > n {
        ai.e().extend(pp_w).cast(false)
    } else {
        ai.select(0u32, pp_w)
    };
    let times_two = concat(vec![ai.select(0u32, pp_w - 1), Ty::u(1).zero()]);
    let pp = m.wire(
        &format!("{prefix}pp"),
        pp_w,
        false,
        "|digit| * a_i, inverted when the digit is negative",
    );
    m.assign(
        &pp,
        ((times_one & repeat(pp_w, one.e())) | (times_two & repeat(pp_w, two.e()))) ^ repeat(pp_w, neg.e()),
    );
    // The row's sign: a signed row's is pp's top bit, an unsigned a_i's only the digit's.
    let sign = if a.signed && pp_w == n + 1 { pp.bit(n) } else { neg.e() };
    let mut bits: Vec<Expr> = Vec::new();
    if j > 0 {
        // A row adder takes the +1 as its carry-in instead (see `BoothTerm::carry_in`).
        bits.push(if term.carry_in { Ty::u(1).zero() } else { g.bit(0u32) });
        bits.push(Ty::u(1).zero());
    }
    bits.push(pp.e());
    if j == 0 {
        bits.extend([sign.clone(), sign.clone(), !sign.clone()]);
    } else {
        bits.extend([!sign.clone(), Ty::u(1).ones()]);
    }
    // Cut at `width`, whole parts only (pp is already cut).
    let mut kept = Vec::new();
    let mut w = 0;
    for b in bits {
        if w >= width {
            break;
        }
        w += b.width();
        kept.push(b);
    }
    debug_assert_eq!(w, width);
    match top {
        TopBit::Keep => {}
        // The top part is the 1-bit ~s or 1 (see `top_constant`): s or 0 instead.
        TopBit::Plain => {
            let last = kept.len() - 1;
            kept[last] = if j > 0 && width == gap + pp_w + 2 {
                Ty::u(1).zero()
            } else {
                sign.clone()
            };
        }
        TopBit::Toggle => {
            let last = kept.len() - 1;
            kept[last] = kept[last].clone() ^ top_bit_mask(kept[last].width());
        }
    }
    kept.reverse();
    concat(kept)
}

/// Which Booth term [`booth_term`] builds: digit `j`, `width` bits, and
/// what happens to its top bit.
#[derive(Clone, Copy)]
struct BoothTerm {
    j: u32,
    width: u32,
    top: TopBit,
    /// Row j >= 1 in a row adder: the +1 that completes row j-1's negation
    /// is the adder's carry-in (the carry chain's CYINIT on Xilinx, free)
    /// instead of the term's lowest bit, so the adder's lowest column adds
    /// nothing to the running sum and needs no LUT.
    carry_in: bool,
}

/// What [`booth_term`] does to a row's top bit when it is the product's top
/// column, where every bit only flips the product's top bit (2^(pw-1) and
/// -2^(pw-1) are the same modulo 2^pw).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TopBit {
    /// As [`booth_term`] describes it.
    Keep,
    /// A constant-carrying top bit (~s or 1) written without its constant
    /// (s or 0): that flips the product's top bit, which the last row undoes.
    /// ~s alone in a column costs a LUT (an inverter on the carry chain's
    /// propagate input); s is a plain wire.
    Plain,
    /// The top bit inverted, undoing an odd number of [`TopBit::Plain`]
    /// rows; the inversion folds into the LUT that already computes that bit.
    Toggle,
}

/// A `width`-bit constant with only its top bit set.
fn top_bit_mask(width: u32) -> Expr {
    if width == 1 {
        Ty::u(1).ones()
    } else {
        concat(vec![Ty::u(1).ones(), Ty::u(width - 1).zero()])
    }
}

/// Whether Booth row `j`'s term, `width` bits from column `offset`, ends on
/// the product's top column (`pw - 1`) with a bit that carries a constant
/// (~s or the 1 of rows j >= 1, not pp), so [`TopBit::Plain`] applies.
fn top_constant(a: IntFormat, j: u32, offset: u32, width: u32, pw: u32) -> bool {
    let n = a.bits;
    if offset + width != pw {
        return false;
    }
    // Row 0 is {~s, s, s, pp}: only its very top ~s carries the constant.
    // Row j >= 1 is {1, ~s, pp, 0, g[0]}: both of its top two bits do.
    match j {
        0 => width == n + 4,
        _ => width == n + 4 || width == n + 5,
    }
}

/// One Booth row of the [`booth`] terms: where it sits and how wide it is.
struct BoothRow {
    /// Digit index, or `None` for the subtracted sign row of a signed b_i.
    digit: Option<u32>,
    offset: u32,
    width: u32,
    /// What happens to its top bit; see [`TopBit`].
    top: TopBit,
}

/// Module name of Booth row `row` of an `a` x `b` multiplier.
pub fn booth_row_name(a: IntFormat, b: IntFormat, row: &str) -> String {
    format!("accgen_mul_booth_{}x{}_{row}", a.tag(), b.tag())
}

/// The [`MulImpl::Booth`] rows in chains summed by [`tree`]; returns the
/// product as an unsigned `a.bits + b.bits`-bit expression. Every term and
/// partial sum is unsigned and the sum is taken modulo 2^(n+m), where the
/// exact product fits.
fn booth(m: &mut ModuleBuilder, deps: &mut Vec<Module>, ai: &Signal, bi: &Signal, a: IntFormat, b: IntFormat) -> Expr {
    let n = a.bits;
    let mb = b.bits;
    let pw = n + mb;
    let digits = booth_digits(b);
    let magnitude = mb - u32::from(b.signed);
    let b_bit = |i: i64| -> Expr {
        if i < 0 || i >= magnitude as i64 {
            Ty::u(1).zero()
        } else {
            bi.bit(i as u32)
        }
    };
    let mut rows: Vec<BoothRow> = (0..digits)
        .map(|j| {
            let offset = if j == 0 { 0 } else { 2 * j - 2 };
            let full = if j == 0 { n + 4 } else { n + 5 };
            let width = full.min(pw - offset);
            BoothRow {
                digit: Some(j),
                offset,
                width,
                top: if top_constant(a, j, offset, width, pw) {
                    TopBit::Plain
                } else {
                    TopBit::Keep
                },
            }
        })
        .collect();
    if b.signed {
        rows.push(BoothRow {
            digit: None,
            offset: mb - 1,
            width: n,
            top: TopBit::Keep,
        });
    }
    // The last row reaches the product's top column (an unsigned b's top
    // digit row is cut there, the sign row runs to it) and its top bit is
    // a LUT output: it undoes the flips of the other rows' plain top bits.
    // The last row itself keeps its own top bit as described.
    let last = rows.len() - 1;
    rows[last].top = TopBit::Keep;
    let flips = rows.iter().filter(|r| r.top == TopBit::Plain).count();
    if flips % 2 == 1 {
        rows[last].top = TopBit::Toggle;
    }
    let sizes = chains(b, MulImpl::Booth);
    debug_assert_eq!(sizes.iter().sum::<u32>() as usize, rows.len());
    let plain: Vec<String> = rows
        .iter()
        .filter(|r| r.top == TopBit::Plain)
        .filter_map(|r| r.digit.map(|j| j.to_string()))
        .collect();
    let top_note = if plain.is_empty() {
        String::new()
    } else {
        format!(
            " Row {} ends on the product's top column, where +2^{top} and -2^{top} are the same modulo 2^{pw}: its top bit is written without its constant (s for ~s, 0 for 1), a plain wire instead of an inverter, and the last row inverts its own top bit {}.",
            plain.join(", "),
            if plain.len() % 2 == 1 {
                "to make up for it"
            } else {
                "no more (an even count of flips cancels)"
            },
            top = pw - 1
        )
    };
    m.section(
        "Booth rows",
        &[
            &format!(
                "b_i{} is recoded into {digits} radix-4 digits d_j = -2 b[2j+1] + b[2j] + b[2j-1] (b[-1] = 0, bits above {} zero), so b = sum d_j 4^j and each row is d_j * a_i at column 2j.",
                if b.signed { "'s magnitude bits" } else { "" },
                magnitude.saturating_sub(1)
            ),
            &format!("Row j >= 1 sits at column 2j - 2: its two low bits hold the +1 that completes row j-1's negation. Each row after a chain's first is added in a kept module that generates the row inside the adder and takes that +1 as the adder's carry-in instead.{top_note}"),
            &format!(
                "{} chains ({} rows each) summed in the adder tree below.",
                sizes.len(),
                sizes.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
        ],
    );
    let group = |m: &mut ModuleBuilder, j: u32| -> Signal {
        let g = m.wire(
            &format!("g_{j}"),
            3,
            false,
            &format!(
                "Booth group {j}: bits {}, {}, {} of b_i's magnitude (zero outside it)",
                2 * j + 1,
                2 * j,
                2 * j as i64 - 1
            ),
        );
        let j = j as i64;
        m.assign(&g, concat(vec![b_bit(2 * j + 1), b_bit(2 * j), b_bit(2 * j - 1)]));
        g
    };
    let mut partials = Vec::new();
    let mut next = 0usize;
    for &count in &sizes {
        let head = &rows[next];
        let Some(j0) = head.digit else {
            unreachable!("the sign row is never first in a chain")
        };
        let g = group(m, j0);
        let term = booth_term(
            m,
            ai,
            a,
            &g,
            BoothTerm {
                j: j0,
                width: head.width,
                top: head.top,
                carry_in: false,
            },
            &format!("r{j0}_"),
        );
        let row = m.wire(
            &format!("row_{j0}"),
            head.width,
            false,
            &format!("Booth row {j0}, from column {}", head.offset),
        );
        m.assign(&row, term);
        let mut acc = Partial {
            sig: row,
            offset: head.offset,
            width: head.width,
            signed: false,
        };
        for r in &rows[next + 1..next + count as usize] {
            // Subtracting wraps below zero, so the sign row's sum runs to the product's top.
            let top = match r.digit {
                None => pw,
                Some(_) => ((acc.offset + acc.width).max(r.offset + r.width) + 1).min(pw),
            };
            let w = top - r.offset;
            let xw = acc.offset + acc.width - r.offset;
            let (module, label) = match r.digit {
                Some(j) => (
                    booth_row_adder(
                        a,
                        b,
                        BoothTerm {
                            j,
                            width: r.width,
                            top: r.top,
                            carry_in: true,
                        },
                        xw,
                        w,
                    ),
                    format!("row_{j}"),
                ),
                None => (booth_sign_adder(a, b, r.top, xw, w), "row_sign".to_string()),
            };
            let s = m.wire(
                &format!("{label}_sum"),
                w,
                false,
                &format!("{} >> {} plus {label}", acc.sig.name(), r.offset - acc.offset),
            );
            let mut connect = vec![
                ("x_i", drive(acc.sig.select(r.offset - acc.offset, xw))),
                ("a_i", drive(ai)),
                ("s_o", sink(&s)),
            ];
            match r.digit {
                Some(j) => {
                    let g = group(m, j);
                    connect.push(("g_i", drive(&g)));
                }
                None => connect.push(("b_i", drive(bi.bit(mb - 1)))),
            }
            m.instance(&module, &format!("u_{label}"), connect);
            deps.push(module);
            let sum = m.wire(
                &format!("acc_{}", label.trim_start_matches("row_")),
                top - acc.offset,
                false,
                &format!("running sum through {label}, from column {}", acc.offset),
            );
            let shift = r.offset - acc.offset;
            m.assign(
                &sum,
                if shift > 0 {
                    concat(vec![s.e(), acc.sig.select(0u32, shift)])
                } else {
                    s.e()
                },
            );
            acc = Partial {
                sig: sum,
                offset: acc.offset,
                width: top - acc.offset,
                signed: false,
            };
        }
        partials.push(acc);
        next += count as usize;
    }
    tree(m, deps, partials, pw, MulImpl::Booth)
}

/// The header shared by the Booth row adders.
fn booth_doc(title: String, description: String) -> ModuleDoc {
    ModuleDoc {
        title,
        description: vec![
            description,
            "Kept apart in synthesis (keep_hierarchy): flattened, ABC merges the rows into one multiplier and no longer folds each row bit into the LUT that feeds the carry chain.".into(),
        ],
        params: vec![],
        timing: vec!["Combinational: no clock, zero latency.".into()],
    }
}

/// The module header's note on a [`TopBit`] other than `Keep`.
fn top_doc(top: TopBit) -> &'static str {
    match top {
        TopBit::Keep => "",
        TopBit::Plain => {
            " Its top bit, on the product's top column, is written without its constant; the last row makes up for it."
        }
        TopBit::Toggle => {
            " Its top bit, on the product's top column, is inverted: that adds 2^(PROD_W-1) modulo 2^PROD_W, the constant that earlier rows left out of their top bits, and the inversion folds into the LUT that computes the bit anyway."
        }
    }
}

/// `s_o = x_i + row j` for Booth digit `j` (see [`booth_term`]), `w` bits.
fn booth_row_adder(a: IntFormat, b: IntFormat, term: BoothTerm, xw: u32, w: u32) -> Module {
    let BoothTerm { j, width: term_w, .. } = term;
    let mut m = ModuleBuilder::new(
        booth_row_name(a, b, &format!("row{j}")),
        booth_doc(
            format!("Booth row {j} of an {a} x {b} multiplier, added to the running sum"),
            format!(
                "Generates row {j} = d_{j} * a_i (digit d_{j} from g_i = b[{}:{}]) as an unsigned term and adds it to the running sum: each sum bit's propagate is one LUT6 of two bits of a_i, the three of g_i and the running-sum bit, which also drives the carry chain's generate input.{}",
                2 * j + 1,
                2 * j - 1,
                top_doc(term.top)
            ),
        ),
    );
    m.attribute(
        "keep_hierarchy",
        "Kept apart in synthesis, so the row stays one LUT6 per bit on the carry chain.",
    );
    let x = m.input("x_i", Ty::u(xw), "running sum from this row's column up");
    let ai = m.input("a_i", Ty::new(a.bits, a.signed), "multiplicand");
    let g = m.input("g_i", Ty::u(3), "Booth group: b[2j+1], b[2j], b[2j-1]");
    let s = m.output("s_o", Ty::u(w), "new running sum from this row's column up");
    let sum_w = m.localparam(
        "SUM_W",
        w as i64,
        "one carry above the wider addend, cut at the product's top",
    );
    let bits = booth_term(&mut m, &ai, a, &g, term, "");
    let row = m.wire("row", term_w, false, "this row as an unsigned term");
    m.assign(&row, bits);
    let xe = m.wire("x_ext", &sum_w, false, "x_i zero-extended to SUM_W");
    m.assign(&xe, x.e().zext(w));
    let re = m.wire("row_ext", &sum_w, false, "row zero-extended to SUM_W");
    m.assign(&re, row.e().zext(w));
    // Row j-1's +1 (g_i[0]) enters as the carry-in, see `BoothTerm::carry_in`.
    let cin = m.wire(
        "carry_in",
        1,
        false,
        "g_i[0]: the +1 completing row j-1's negation, as the carry chain's carry-in (free, CYINIT on Xilinx) rather than a bit of row, so the lowest column needs no LUT",
    );
    m.assign(&cin, g.bit(0u32));
    m.assign(&s, &xe + &re + cin.e().zext(w));
    m.finish()
}

/// `s_o = x_i - a_i * b_i` (`b_i` being b's sign bit), `w` bits: the row of
/// a signed b's sign bit, which weighs -2^(m-1).
fn booth_sign_adder(a: IntFormat, b: IntFormat, top: TopBit, xw: u32, w: u32) -> Module {
    let ext = if a.signed { "sign" } else { "zero" };
    let mut m = ModuleBuilder::new(
        booth_row_name(a, b, "sign"),
        booth_doc(
            format!("Sign row of an {a} x {b} Booth multiplier, subtracted from the running sum"),
            format!(
                "b's sign bit weighs -2^{}, so a_i AND it is subtracted: x_i + ~row + 1 on the carry chain, the AND folded into the propagate LUT.{}",
                b.bits - 1,
                top_doc(top)
            ),
        ),
    );
    m.attribute(
        "keep_hierarchy",
        "Kept apart in synthesis, so the row stays one LUT per bit on the carry chain.",
    );
    let x = m.input("x_i", Ty::u(xw), "running sum from this row's column up");
    let ai = m.input("a_i", Ty::new(a.bits, a.signed), "multiplicand");
    let bi = m.input("b_i", Ty::BIT, "b's sign bit");
    let s = m.output("s_o", Ty::u(w), "new running sum, modulo 2^SUM_W");
    let sum_w = m.localparam("SUM_W", w as i64, "from this row's column to the product's top");
    let row = m.wire("row", a.bits, a.signed, "a_i AND b_i");
    m.assign(&row, ai.e() & repeat(a.bits, bi.e()).cast(a.signed));
    let xe = m.wire("x_ext", &sum_w, false, "x_i zero-extended to SUM_W");
    m.assign(&xe, x.e().zext(w));
    let re = m.wire("row_ext", &sum_w, false, &format!("row {ext}-extended to SUM_W"));
    match top {
        TopBit::Toggle => {
            // x - (r ^ 2^(w-1)) = x - r + 2^(w-1) modulo 2^w: the product's
            // top bit inverted inside the LUT that computes it anyway.
            m.assign(&re, row.e().extend(w).cast(false) ^ top_bit_mask(w));
        }
        _ => m.assign(&re, row.e().extend(w).cast(false)),
    }
    m.assign(&s, &xe - &re);
    m.finish()
}

//! Integer multipliers: the PE's multiplier is a parameter, so the same PE
//! can use a plain `*` (mapped to DSP blocks) or a LUT structure built here.

use super::params::MulImpl;
use crate::ir::{Expr, Module, ModuleBuilder, ModuleDoc, Signal, Ty};
use crate::params::IntFormat;

/// Module name, e.g. `accgen_mul_lut_s8xu4`.
pub fn name(a: IntFormat, b: IntFormat, imp: MulImpl) -> String {
    format!("accgen_mul_{}_{}x{}", imp.tag(), a.tag(), b.tag())
}

/// A combinational multiplier `p_o = a_i * b_i`, exact: the product has
/// `a.bits + b.bits` bits and is signed when either operand is.
pub fn multiplier(a: IntFormat, b: IntFormat, imp: MulImpl) -> Module {
    let pw = a.bits + b.bits;
    let signed = a.signed || b.signed;
    let how = match imp {
        MulImpl::Dsp => "Both operands are extended to the product width and multiplied with a plain `*`, which synthesis maps to a DSP block (or its own LUT multiplier when DSPs are disabled).".to_string(),
        MulImpl::Lut => format!(
            "One partial-product row per bit of b_i ({} rows), each the extended a_i shifted by the bit's weight, summed by a balanced tree of product-width adders modulo 2^{pw}.{}",
            b.bits,
            if b.signed { " b_i is two's complement, so its top row has weight -2^(n-1) and is subtracted." } else { "" }
        ),
    };
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
        MulImpl::Lut => {
            m.section(
                "Partial products",
                &["Row i is (b_i[i] ? a_ext << i : 0), all PROD_W bits wide; arithmetic is modulo 2^PROD_W, which is exact because the product fits."],
            );
            let ax = m.wire("a_ext", &prod_w, false, "a_i extended to PROD_W");
            m.assign(&ax, ai.e().extend(pw).cast(false));
            let mut rows = Vec::new();
            for i in 0..b.bits {
                let row = m.wire(
                    &format!("pp_{i}"),
                    &prod_w,
                    false,
                    &format!("partial product of b_i[{i}]"),
                );
                let picked = crate::ir::repeat(pw, bi.bit(i)) & ax.e().shl(i);
                let negative = b.signed && i == b.bits - 1;
                m.assign(&row, if negative { -picked } else { picked });
                rows.push(row);
            }
            m.section("Adder tree", &["Balanced, so the depth is ceil(log2(rows)) adders."]);
            let sum = adder_tree(&mut m, "sum", rows);
            m.assign(&po, sum.e().cast(signed));
        }
    }
    m.finish()
}

/// Sum `terms` pairwise, level by level, naming each partial sum.
pub fn adder_tree(m: &mut ModuleBuilder, prefix: &str, mut terms: Vec<Signal>) -> Signal {
    let mut level = 0;
    while terms.len() > 1 {
        level += 1;
        let mut next = Vec::new();
        for (k, pair) in terms.chunks(2).enumerate() {
            match pair {
                [x, y] => {
                    let e: Expr = x + y;
                    next.push(m.wire_of(&format!("{prefix}_l{level}_{k}"), e, ""));
                }
                [x] => next.push(x.clone()),
                _ => unreachable!("chunks(2) yields one or two items"),
            }
        }
        terms = next;
    }
    terms
        .pop()
        .unwrap_or_else(|| unreachable!("a multiplier has at least two partial-product rows"))
}

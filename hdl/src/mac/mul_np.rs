//! [`MulImpl::Lut4`](super::MulImpl::Lut4) for an unsigned 8 x 8 product:
//! each half of `b` is one adder of two four-input rows and one gated row,
//! so the product takes three adder levels where the general `lut4` (two
//! chains of four gated rows and an adder) takes five.
//!
//! Why: a `lut4` row costs no LUT to generate (`b_i ? s + a : s`, the choice
//! folds into the sum LUT), but a chain of k rows is k LUT levels deep, and
//! each level on iCE40 is a carry-out LUT and a routing hop (109 MHz against
//! 110.9 for `a * b`). A radix-4 Booth row halves the rows but each of its
//! bits is a function of five inputs (two of `a`, three of `b`), two LUT4s.
//! Here every generated row bit has four inputs, by splitting each group of
//! three bits of `b` into two digits that share the middle bit:
//!
//! `b_i + 2 b_{i+1} + 4 b_{i+2} = (b_i - 2 b_{i+1}) + 4 (b_{i+1} + b_{i+2})`.
//!
//! The N row `(b_i - 2 b_{i+1}) * a` (digit -2..1) and the P row
//! `(b_{i+1} + b_{i+2}) * a` (digit 0..2) are each a magnitude of `a` or
//! `2 a` chosen by two bits of `b`, so each bit is one LUT4 of
//! `a_k, a_{k-1}` and those two bits; the N row is inverted when negative
//! (`b_{i+1}`) and its `+1` is the adder's carry-in. Their sum is in
//! `0..7 * 255 < 2^11`, so it is computed modulo `2^11` with the N row's sign
//! extended by two plain bits (`b_{i+1}` itself, no LUT), and no constant.
//! On the two lowest columns the N row has no partner, so the adder starts
//! two columns up: those two bits and the carry into the adder are each one
//! LUT4 of `a_1, a_0, b_i, b_{i+1}`, one LUT fewer than two adder bits and
//! their two row bits. The fourth bit of the half, `b_{i+3}`, is a `lut4`
//! gated row on top (`b_{i+3} ? s + 8 a : s`, no generation LUT). The two
//! halves (`b[3:0]`, `b[7:4]`) are exact, three levels deep, and one adder
//! sums them.
//!
//! Measured (Yosys 0.23, nextpnr, median / best of seeds 1..5, `cargo run
//! --release -- bench --multipliers`): 86 SB_LUT4 on iCE40 (0.54x those of
//! `a * b`), 123.1 / 128.1 MHz on HX8K against 110.9 / 116.3 for `a * b`; the
//! general `lut4` layout it replaces at this shape had 82 LUTs and 109.0 MHz.
//! It is smaller elsewhere too (xc7: 98 LUTs instead of 126; ECP5: 56
//! instead of 70, 108.4 MHz instead of 79.8, below `a * b`'s 120.5 with
//! `synth_ecp5 -nowidelut`, 128.7 with the earlier wide-LUT script).
//!
//! Other shapes keep the general rows: the bounds above are for 8 x 8.

use super::mul::{chain_adder, chain_adder_ci, row_adder};
use crate::ir::{Expr, Module, ModuleBuilder, Signal, Ty, concat, drive, repeat, sink};
use crate::params::IntFormat;

/// Operand width the layout is built for: its bounds (above) hold for
/// 8 x 8 only; other shapes use the general rows.
const BITS: u32 = 8;

/// Whether `a x b` uses this layout: both unsigned 8-bit.
pub fn applies(a: IntFormat, b: IntFormat) -> bool {
    !a.signed && !b.signed && a.bits == BITS && b.bits == BITS
}

/// Adds `module` to `deps` unless a module of that name is there.
fn add_dep(deps: &mut Vec<Module>, module: Module) {
    if !deps.iter().any(|d| d.name == module.name) {
        deps.push(module);
    }
}

/// `a_i * b_i[i+3:i]` (12 bits, exact): the N and P rows of `b_i[i+2:i]`
/// in one adder, then the gated row of `b_i[i+3]`.
fn half(m: &mut ModuleBuilder, deps: &mut Vec<Module>, ai: &Signal, bi: &Signal, i: u32, name: &str) -> Signal {
    let n = BITS;
    let (b0, b1, b2, b3) = (bi.bit(i), bi.bit(i + 1), bi.bit(i + 2), bi.bit(i + 3));
    m.section(
        &format!("a_i * b_i[{}:{i}] (columns {i} and up)", i + 3),
        &[&format!(
            "b_i[{}:{i}] = (b_i[{i}] - 2 b_i[{}]) + 4 (b_i[{}] + b_i[{}]) + 8 b_i[{}]: the N row, the P row and a gated row. Each N and P row bit is one LUT4 of a_i[k], a_i[k-1] and two bits of b_i.",
            i + 2,
            i + 1,
            i + 1,
            i + 2,
            i + 3
        )],
    );
    let times_one = ai.e().zext(n + 1);
    let times_two = concat(vec![ai.e(), Ty::u(1).zero()]);
    let neg = m.wire(
        &format!("{name}_neg"),
        1,
        false,
        &format!("the N row is negative: b_i[{}]", i + 1),
    );
    m.assign(&neg, b1.clone());
    let n_two = m.wire(
        &format!("{name}_n_two"),
        1,
        false,
        &format!("the N row's digit is -2: b_i[{}:{i}] = 2'b10", i + 1),
    );
    m.assign(&n_two, !b0.clone() & b1.clone());
    let n_row = m.wire(
        &format!("{name}_n"),
        n + 1,
        false,
        &format!(
            "N row: |b_i[{i}] - 2 b_i[{}]| * a_i, inverted when negative; the row is {name}_n + {name}_neg - 2^9 {name}_neg",
            i + 1
        ),
    );
    m.assign(
        &n_row,
        ((times_one.clone() & repeat(n + 1, b0.clone())) | (times_two.clone() & repeat(n + 1, n_two.e())))
            ^ repeat(n + 1, neg.e()),
    );
    let p_one = m.wire(
        &format!("{name}_p_one"),
        1,
        false,
        &format!("the P row's digit is 1: b_i[{}] != b_i[{}]", i + 2, i + 1),
    );
    m.assign(&p_one, b1.clone() ^ b2.clone());
    let p_two = m.wire(
        &format!("{name}_p_two"),
        1,
        false,
        &format!("the P row's digit is 2: b_i[{}:{}] = 2'b11", i + 2, i + 1),
    );
    m.assign(&p_two, b1 & b2);
    let p_row = m.wire(
        &format!("{name}_p"),
        n + 1,
        false,
        &format!("P row: (b_i[{}] + b_i[{}]) * a_i, from column {}", i + 1, i + 2, i + 2),
    );
    m.assign(
        &p_row,
        (times_one & repeat(n + 1, p_one.e())) | (times_two & repeat(n + 1, p_two.e())),
    );
    // Columns i, i+1: the N row plus its +1, with nothing beside them.
    let low = m.wire(
        &format!("{name}_low"),
        3,
        false,
        &format!(
            "{name}_n[1:0] + {name}_neg: columns {i}, {} and the carry into column {}, each one LUT4 of a_i[1:0] and b_i[{}:{i}]",
            i + 1,
            i + 2,
            i + 1
        ),
    );
    let (n0, n1) = (n_row.bit(0u32), n_row.bit(1u32));
    m.assign(
        &low,
        concat(vec![
            n1.clone() & n0.clone() & neg.e(),
            n1 ^ (n0.clone() & neg.e()),
            n0 ^ neg.e(),
        ]),
    );
    let x = m.wire(
        &format!("{name}_sum_x"),
        n + 1,
        false,
        &format!(
            "{name}_n[8:2] with its sign extended by two bits, columns {}..{}",
            i + 2,
            i + 10
        ),
    );
    m.assign(&x, concat(vec![neg.e(), neg.e(), n_row.select(2u32, n - 1)]));
    let add = m.wire(
        &format!("{name}_sum_add"),
        n + 1,
        false,
        &format!("{name}_sum_x + {name}_p + the carry, modulo 2^9: the sum is in 0..7 * 255, below 2^11"),
    );
    let adder = chain_adder_ci(n + 1, n + 1, n + 1);
    m.instance(
        &adder,
        &format!("u_{name}_sum"),
        vec![
            ("x_i", drive(&x)),
            ("y_i", drive(&p_row)),
            ("c_i", drive(low.bit(2u32))),
            ("s_o", sink(&add)),
        ],
    );
    add_dep(deps, adder);
    let sum = m.wire(
        &format!("{name}_sum"),
        n + 3,
        false,
        &format!("a_i * b_i[{}:{i}], columns {i}..{}", i + 2, i + 10),
    );
    m.assign(&sum, concat(vec![add.e(), low.select(0u32, 2)]));
    // b_i[i+3]: a lut4 row on columns i+3.. (s_i is the sum shifted down by 3).
    let shifted = m.wire(
        &format!("{name}_sum_shr"),
        n,
        false,
        &format!("{name}_sum >> 3, columns {}..{}", i + 3, i + 10),
    );
    m.assign(&shifted, sum.select(3u32, n));
    let top = m.wire(
        &format!("{name}_row"),
        n + 1,
        false,
        &format!(
            "b_i[{}] ? {name}_sum_shr + a_i : {name}_sum_shr, columns {}..{}",
            i + 3,
            i + 3,
            i + 11
        ),
    );
    let row = row_adder(IntFormat { bits: n, signed: false }, false);
    m.instance(
        &row,
        &format!("u_{name}_row"),
        vec![
            ("s_i", drive(&shifted)),
            ("a_i", drive(ai)),
            ("b_i", drive(b3)),
            ("s_o", sink(&top)),
        ],
    );
    add_dep(deps, row);
    let result = m.wire(
        name,
        n + 4,
        false,
        &format!("a_i * b_i[{}:{i}], columns {i}..{}", i + 3, i + 11),
    );
    m.assign(&result, concat(vec![top.e(), sum.select(0u32, 3)]));
    result
}

/// Builds the two halves and their sum in `m`; returns the 16-bit product.
pub fn halves(m: &mut ModuleBuilder, deps: &mut Vec<Module>, ai: &Signal, bi: &Signal) -> Expr {
    let n = BITS;
    let lo = half(m, deps, ai, bi, 0, "lo");
    let hi = half(m, deps, ai, bi, 4, "hi");
    m.section(
        "Sum of the halves",
        &["product = lo + 16 * hi: one adder from column 4 (lo's columns 0..3 are final)."],
    );
    let add = m.wire("halves_add", n + 4, false, "lo[11:4] + hi, columns 4..15");
    let adder = chain_adder(n, n + 4, n + 4);
    m.instance(
        &adder,
        "u_halves",
        vec![
            ("x_i", drive(lo.select(4u32, n))),
            ("y_i", drive(&hi)),
            ("s_o", sink(&add)),
        ],
    );
    add_dep(deps, adder);
    concat(vec![add.e(), lo.select(0u32, 4)])
}

#[cfg(test)]
mod tests {
    /// The layout's arithmetic, bit for bit as the Verilog adds it, for
    /// every operand pair (the RTL itself is co-simulated exhaustively in
    /// `gen/tests/mul_cosim.rs`).
    #[test]
    fn halves_sum_to_the_product() {
        let bit = |v: u32, i: u32| v >> i & 1;
        let half = |a: u32, b: u32| -> u32 {
            let (b0, b1, b2, b3) = (bit(b, 0), bit(b, 1), bit(b, 2), bit(b, 3));
            let n_two = (1 - b0) & b1;
            let n_row = (b0 * a + n_two * 2 * a) ^ (0x1ff * b1);
            let p_row = (b1 ^ b2) * a + (b1 & b2) * 2 * a;
            let (n0, n1) = (bit(n_row, 0), bit(n_row, 1));
            let low = (n1 & n0 & b1) << 2 | (n1 ^ (n0 & b1)) << 1 | (n0 ^ b1);
            let x = b1 << 8 | b1 << 7 | n_row >> 2;
            let add = (x + p_row + (low >> 2)) & 0x1ff;
            let sum = add << 2 | (low & 3);
            let shifted = sum >> 3 & 0xff;
            let top = if b3 == 1 { shifted + a } else { shifted };
            top << 3 | (sum & 7)
        };
        for a in 0..256u32 {
            for b in 0..256u32 {
                let (lo, hi) = (half(a, b & 15), half(a, b >> 4));
                assert_eq!(lo, a * (b & 15), "{a} x {}", b & 15);
                let add = ((lo >> 4) + hi) & 0xfff;
                assert_eq!(add << 4 | (lo & 15), a * b, "{a} x {b}");
            }
        }
    }
}

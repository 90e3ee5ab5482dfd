//! [`MulImpl::BoothTree`](super::MulImpl::BoothTree) for an unsigned 8 x 8
//! product: the low bit of `b` split off, so four Booth rows and two adder
//! levels suffice where the general tree ([`super::mul_tree`]) needs five
//! rows and three levels.
//!
//! Why: four radix-4 digits cover only -170..170, so an unsigned 8-bit `b`
//! needs a fifth digit (`b7`, a row on columns 8..15 that overlaps every
//! other row) and a third carry chain, which costs a routing hop in and out
//! (115 MHz on ECP5 against 129 for `a * b`). Here `b = 2 * b[7:1] + b0`:
//! `b[7:1]` is 7-bit unsigned, so its four digits (rows on columns 1, 3, 5,
//! 7) have a top digit `b6 + b7` in 0..2 that is never negative, and the
//! rest, `e = b0 * a`, sits on columns 0..7.
//!
//! Exactness, by counting the bits on each column: three two-input adders
//! in two levels take at most 4 addend bits on a column (one per leaf),
//! plus one on the lowest column of each adder, its carry-in (Yosys maps
//! `x + y + c` with a 1-bit `c` to the chain's carry-in: no LUT, no level).
//! A column takes at most 1 + (adders spanning it) + (carry-ins on it). The
//! rows, `e` and the three `+1`s of negative rows (columns 1, 3, 5) need 1,
//! 3, 2, 4, 3, 5, 4, 5 bits on columns 0..7: column 5 needs all three
//! adders and a carry-in there, so no adder starts at column 7, which holds
//! 5 bits (four rows and `e7`) where it can take 4, whatever the tree (and
//! column 10, row 0's `~s`, three rows and a constant bit, is one over
//! too). So row 0's top bits (`pp0[8:6]`, columns
//! 7..9), its sign (`-2^10 * b2`), `e7` and a constant 4096 are folded into
//! one 6-bit addend on columns 7..12 (`blk`): its value depends only on
//! `a[7:5]` and `b[2:0]`, six inputs, so each bit is one LUT6 of the
//! registers (ECP5: with the earlier wide-LUT script four LUT4s and
//! PFUMX/L6MUX inside one PFU, no routing hop; with `synth_ecp5 -nowidelut`
//! a small LUT4 network). That leaves 4 bits on every column from 6 up,
//! with the carry-ins at columns 1, 3 and 5 taking the `+1`s:
//!
//! - `sum_0 = {K15, blk, pp0[5:0], e0} + {m3, e[6:1]} + neg0`, from column 1;
//! - `sum_1 = {K13, ~s1, pp1} + {~s2, pp2} + neg2`, from column 5 (row 1's
//!   bits on columns 3 and 4 pass below it);
//! - `sum_2 = sum_0 + sum_1 + neg1`, from column 3.
//!
//! `K = -(4096 + 2^12 + 2^14) mod 2^16` takes back the constants of `blk`
//! and of rows 1 and 2 (each added as `{~s, pp}`, its signed value plus
//! `2^top`); it has bits 13 and 15 only, on columns where one addend is
//! empty. Measured (nextpnr, median / best of seeds 1..5, `cargo run
//! --release -- bench --multipliers`): 135.7 / 137.9 MHz on ECP5 with
//! `synth_ecp5 -nowidelut` (68 LUTs, 0.46x those of `a * b`, which reaches
//! 120.5 / 124.5; with the earlier wide-LUT script 149.9 / 152.4 against
//! 128.7 / 132.0) and 140.4 / 142.8 on iCE40 (106 LUTs, 0.67x; `a * b`
//! 110.9 / 116.3); the five-row tree it replaces reached 115.2 (ECP5,
//! wide-LUT script) and 113.5.
//!
//! Other shapes keep the general tree: the count above is for 8 x 8.

use super::mul::chain_adder_ci;
use super::mul_tree::{digit_one, digit_two};
use crate::ir::{Expr, Module, ModuleBuilder, Signal, Ty, concat, drive, repeat, sink};
use crate::params::IntFormat;

/// Operand width the layout is built for: its column count (above) holds
/// for 8 x 8 only; other shapes use the general tree.
const BITS: u32 = 8;

/// Whether `a x b` uses this layout: both unsigned 8-bit.
pub fn applies(a: IntFormat, b: IntFormat) -> bool {
    !a.signed && !b.signed && a.bits == BITS && b.bits == BITS
}

/// Value of `blk` (columns 7..12, in units of 2^7) for one combination of
/// its inputs: row 0's top bits `pp0[8:6]` at columns 7..9, `e7` at column
/// 7, row 0's sign `-2^10 * b2` and the constant 4096, which makes it
/// non-negative (row 0 is `d0 * a` with `d0 = b1 - 2 * b2`, from column 1).
fn block_value(a7: bool, a6: bool, a5: bool, b2: bool, b1: bool, b0: bool) -> u32 {
    let (one, two, neg) = (b1, b2 && !b1, b2);
    // |d0| * a, bits 6..8: a shifted by one when |d0| = 2.
    let m6 = (one && a6) || (two && a5);
    let m7 = (one && a7) || (two && a6);
    let m8 = two && a7;
    let (p6, p7, p8) = (m6 ^ neg, m7 ^ neg, m8 ^ neg);
    let e7 = a7 && b0;
    let value = 4096 + 128 * (i32::from(e7) + i32::from(p6)) + 256 * i32::from(p7) + 512 * i32::from(p8)
        - 1024 * i32::from(neg);
    // -1024..512 plus 4096: six bits from column 7, never negative.
    assert!((0..1 << 13).contains(&value) && value % 128 == 0, "blk out of range");
    (value / 128) as u32
}

/// Truth table of `blk` bit `k` over the index `{a7, a6, a5, b2, b1, b0}`.
fn block_table(k: u32) -> u64 {
    (0..64u32)
        .filter(|&idx| {
            let bit = |i: u32| idx >> i & 1 == 1;
            block_value(bit(5), bit(4), bit(3), bit(2), bit(1), bit(0)) >> k & 1 == 1
        })
        .map(|idx| 1u64 << idx)
        .sum()
}

/// Builds the rows and the two-level tree in `m`; returns the 16-bit product.
pub fn low_split(m: &mut ModuleBuilder, deps: &mut Vec<Module>, ai: &Signal, bi: &Signal) -> Expr {
    let n = BITS;
    m.section(
        "Booth rows of b_i[7:1]",
        &[
            "b_i = 2 * b_i[7:1] + b_i[0]. b_i[7:1] (7 bits, unsigned) is recoded into 4 radix-4 digits d_j = -2 b'[2j+1] + b'[2j] + b'[2j-1] (b' = b_i[7:1], b'[-1] = b'[7] = 0), so the top digit b6 + b7 is never negative. Row j is d_j * a_i from column 2j + 1: m_j = |d_j| * a_i (9 bits), pp_j = m_j inverted when d_j < 0, and the row is pp_j + neg_j.",
            "Each neg_j is the carry-in of one adder (columns 1, 3, 5). Rows 1 and 2 are added as {~s, pp} (s their sign), their signed value plus 2^top; row 0's top bits and sign are in blk below.",
        ],
    );
    // Bit i of b' = b_i[7:1]; known zeros outside 0..6.
    let b_bit = |i: i64| -> Option<Expr> { (0..n as i64 - 1).contains(&i).then(|| bi.bit(i as u32 + 1)) };
    let zero = || Ty::u(1).zero();
    let mut mags = Vec::new();
    let mut pps = Vec::new();
    let mut negs = Vec::new();
    for j in 0..4u32 {
        let lo = 2 * j as i64;
        let g = [b_bit(lo - 1), b_bit(lo), b_bit(lo + 1)];
        let one = m.wire(
            &format!("b{j}_one"),
            1,
            false,
            &format!("digit {j} is +-1: b_i[{}] != b_i[{}]", lo + 1, lo),
        );
        m.assign(&one, digit_one(&g));
        let two = m.wire(
            &format!("b{j}_two"),
            1,
            false,
            &format!("digit {j} is +-2: b_i[{}:{}] is 100 or 011", lo + 2, lo),
        );
        m.assign(&two, digit_two(&g));
        // Row 0 keeps its low 6 bits (columns 1..6); its top is in blk.
        let w = if j == 0 { n - 2 } else { n + 1 };
        let mag = m.wire(
            &format!("b{j}_m"),
            w,
            false,
            &format!("|d_{j}| * a_i{}", if j == 0 { ", bits 0..5" } else { "" }),
        );
        // a_i and 2 * a_i cut to w bits.
        let times_one = |w: u32| if w > n { ai.e().zext(w) } else { ai.select(0u32, w) };
        let (times_one, times_two) = (times_one(w), concat(vec![times_one(w - 1), zero()]));
        m.assign(
            &mag,
            (times_one & repeat(w, one.e())) | (times_two & repeat(w, two.e())),
        );
        mags.push(mag.clone());
        // The top digit (b6 + b7) is never negative: no neg, no pp.
        if let Some(negb) = &g[2] {
            let neg = m.wire(
                &format!("b{j}_neg"),
                1,
                false,
                &format!("digit {j} is negative: b_i[{}]", lo + 2),
            );
            m.assign(&neg, negb.clone());
            let pp = m.wire(
                &format!("b{j}_pp"),
                w,
                false,
                &format!("m_{j}, inverted when digit {j} is negative"),
            );
            m.assign(&pp, mag.e() ^ repeat(w, neg.e()));
            pps.push(pp);
            negs.push(neg);
        }
    }
    let e = m.wire("e", n - 1, false, "b_i[0] * a_i[6:0], columns 0..6 (bit 7 is in blk)");
    m.assign(&e, ai.select(0u32, n - 1) & repeat(n - 1, bi.bit(0u32)));

    m.section(
        "Row 0's top (blk)",
        &[
            "Column 7 holds a bit of each of the four rows and e's bit 7: one more than two adder levels take. So row 0's bits 6..8 (columns 7..9), its sign (-2^10 * b_i[2]), e's bit 7 and the constant 4096 are one addend on columns 7..12, blk = (4096 + 2^7 (e7 + pp_0[6]) + 2^8 pp_0[7] + 2^9 pp_0[8] - 2^10 b_i[2]) / 2^7, in 24..36. It depends on six bits, {a_i[7:5], b_i[2:0]}: each bit is one LUT6, read from its truth table (bit idx of blk<k>_table is bit k of blk for that index), and nothing ripples.",
        ],
    );
    let idx = m.wire("blk_idx", 6, false, "blk's inputs: {a_i[7:5], b_i[2:0]}");
    m.assign(&idx, concat(vec![ai.select(n - 3, 3), bi.select(0u32, 3)]));
    let mut blk_bits = Vec::new();
    for k in 0..6u32 {
        let table = m.wire(
            &format!("blk{k}_table"),
            64,
            false,
            &format!("bit {k} of blk (column {}) for each blk_idx", 7 + k),
        );
        m.assign(&table, Ty::u(64).pattern(block_table(k)));
        // Entry blk_idx of the table: its bit shifted down to bit 0.
        blk_bits.push((table.e().shr_by(idx.e()) & Ty::u(64).lit(1)).reduce_or());
    }
    blk_bits.reverse();
    let blk = m.wire("blk", 6, false, "row 0's top, its sign, e7 and 4096, columns 7..12");
    m.assign(&blk, concat(blk_bits));

    m.section(
        "Adder tree",
        &[
            "sum_0 = {1 (K, column 15), blk, pp_0[5:0], e[0]} + {m_3, e[6:1]} + neg_0, from column 1. sum_1 = {1 (K, column 13), ~s_1, pp_1} + {~s_2, pp_2} + neg_2, from column 5 (row 1's bits on columns 3 and 4 pass below it). product = sum_0 + sum_1 + neg_1, from column 3. K = -(4096 + 2^12 + 2^14) mod 2^16 takes back blk's constant and rows 1 and 2's 2^top.",
        ],
    );
    let (pp0, pp1, pp2) = (&pps[0], &pps[1], &pps[2]);
    let one = || Ty::u(1).ones();
    let adder = |m: &mut ModuleBuilder,
                 deps: &mut Vec<Module>,
                 name: &str,
                 from: u32,
                 x: Expr,
                 y: Expr,
                 c: &Signal,
                 w: u32|
     -> Signal {
        let (x_w, y_w) = (x.width(), y.width());
        let xs = m.wire(
            &format!("{name}_x"),
            x_w,
            false,
            &format!("first addend from column {from}"),
        );
        m.assign(&xs, x);
        let ys = m.wire(
            &format!("{name}_y"),
            y_w,
            false,
            &format!("second addend from column {from}"),
        );
        m.assign(&ys, y);
        let add = m.wire(
            &format!("{name}_add"),
            w,
            false,
            &format!(
                "{name}_x + {name}_y + {}, on the carry chain, columns {from}..15",
                c.name()
            ),
        );
        let module = chain_adder_ci(x_w, y_w, w);
        m.instance(
            &module,
            &format!("u_{name}"),
            vec![
                ("x_i", drive(&xs)),
                ("y_i", drive(&ys)),
                ("c_i", drive(c)),
                ("s_o", sink(&add)),
            ],
        );
        if !deps.iter().any(|d| d.name == module.name) {
            deps.push(module);
        }
        add
    };
    // sum_0: rows 0 (low bits and blk) and 3 with e beside them; neg_0 on column 1.
    let s0 = adder(
        m,
        deps,
        "sum_0",
        1,
        concat(vec![one(), Ty::u(2).zero(), blk.e(), pp0.select(0u32, 6)]),
        concat(vec![mags[3].e(), e.select(1u32, n - 2)]),
        &negs[0],
        2 * n - 1,
    );
    let sum0 = m.wire("sum_0", 2 * n, false, "e[0] below column 1, then the adder");
    m.assign(&sum0, concat(vec![s0.e(), e.bit(0u32)]));
    // sum_1: rows 1 and 2; neg_2 on column 5.
    let s1 = adder(
        m,
        deps,
        "sum_1",
        5,
        concat(vec![one(), !negs[1].e(), pp1.select(2u32, n - 1)]),
        concat(vec![!negs[2].e(), pp2.e()]),
        &negs[2],
        2 * n - 5,
    );
    let sum1 = m.wire(
        "sum_1",
        2 * n - 3,
        false,
        "columns 3..15: row 1's bits 0 and 1, then the adder",
    );
    m.assign(&sum1, concat(vec![s1.e(), pp1.select(0u32, 2)]));
    // The root: neg_1 on column 3.
    let s2 = adder(
        m,
        deps,
        "sum_2",
        3,
        sum0.select(3u32, 2 * n - 3),
        sum1.e(),
        &negs[1],
        2 * n - 3,
    );
    concat(vec![s2.e(), sum0.select(0u32, 3)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout's arithmetic, bit for bit as the Verilog adds it, for
    /// every operand pair (the RTL itself is co-simulated exhaustively in
    /// `gen/tests/mul_cosim.rs`).
    #[test]
    fn low_split_sums_to_the_product() {
        for a in 0..256u32 {
            for b in 0..256u32 {
                let bit = |v: u32, i: u32| v >> i & 1;
                let bp = |i: i64| if (0..7).contains(&i) { bit(b >> 1, i as u32) } else { 0 };
                let mut mags = [0u32; 4];
                let mut negs = [0u32; 3];
                let mut pps = [0u32; 3];
                for j in 0..4usize {
                    let lo = 2 * j as i64;
                    let (g0, g1, g2) = (bp(lo - 1), bp(lo), bp(lo + 1));
                    let one = g1 ^ g0;
                    let two = (g2 & !g1 & !g0 & 1) | (!g2 & 1 & g1 & g0);
                    mags[j] = one * a + two * 2 * a;
                    if j < 3 {
                        negs[j] = g2;
                        pps[j] = mags[j] ^ (0x1ff * g2);
                    }
                }
                let e = (a & 0x7f) * (b & 1);
                let blk = block_value(
                    bit(a, 7) == 1,
                    bit(a, 6) == 1,
                    bit(a, 5) == 1,
                    bit(b, 2) == 1,
                    bit(b, 1) == 1,
                    bit(b, 0) == 1,
                );
                let mask = |w: u32| (1u32 << w) - 1;
                let x0 = (1 << 14) | (blk << 6) | (pps[0] & 0x3f);
                let y0 = (mags[3] << 6) | (e >> 1);
                let sum0 = (((x0 + y0 + negs[0]) & mask(15)) << 1) | (e & 1);
                let x1 = (1 << 8) | ((1 - negs[1]) << 7) | (pps[1] >> 2);
                let y1 = ((1 - negs[2]) << 9) | pps[2];
                let sum1 = (((x1 + y1 + negs[2]) & mask(11)) << 2) | (pps[1] & 3);
                let top = ((sum0 >> 3) + sum1 + negs[1]) & mask(13);
                assert_eq!((top << 3) | (sum0 & 7), a * b, "{a} x {b}");
            }
        }
    }
}

//! Bit-exact co-simulation of the LUT multipliers on their own: every
//! operand pair of every signed, unsigned and mixed multiplier up to 8 x 8,
//! seeded random pairs and corner cases up to 24 x 24 (minifloat
//! significands), and mutations that must be caught.

mod common;

use accgen_hdl::mac::MulImpl;
use accgen_hdl::mac::mul_check::{MulVectors, harness};
use accgen_hdl::params::IntFormat;
use common::*;

const LUT_STRUCTURES: [MulImpl; 4] = [MulImpl::Lut, MulImpl::Lut4, MulImpl::Booth, MulImpl::BoothTree];

/// Applies the one-site mutation `from` -> `to` in `module` of `design` and
/// checks that exhaustive co-simulation fails with a mismatch on `port`.
fn assert_mutant_caught(
    design: &accgen_hdl::Design,
    pairs: &[(IntFormat, IntFormat)],
    module: &str,
    from: &str,
    to: &str,
    port: &str,
) {
    let (broken, sites) = common::mutate(design, module, from, to);
    assert_eq!(sites, 1, "`{from}` is not a single site in {module}");
    let model = build(&broken);
    match try_check(&model, &broken, || MulVectors::exhaustive(&broken, pairs)) {
        Err(e) if e.mismatch().is_some() => assert!(e.to_string().contains(port), "{e}"),
        Err(e) => panic!("{module} with `{from}` -> `{to}` failed without a mismatch: {e}"),
        Ok(r) => panic!(
            "{module} with `{from}` -> `{to}` was not caught: {} values compared",
            r.compared
        ),
    }
}

fn int(bits: u32, signed: bool) -> IntFormat {
    IntFormat { bits, signed }
}

/// Every sign combination of an `a` x `b` bit multiplier.
fn signs(a: u32, b: u32) -> [(IntFormat, IntFormat); 4] {
    [
        (int(a, false), int(b, false)),
        (int(a, true), int(b, true)),
        (int(a, false), int(b, true)),
        (int(a, true), int(b, false)),
    ]
}

/// Every width pair 2..8 x 2..8 in every sign combination: 196 multipliers.
fn up_to_8x8() -> Vec<(IntFormat, IntFormat)> {
    (2..=8).flat_map(|a| (2..=8).flat_map(move |b| signs(a, b))).collect()
}

fn exhaustive(imp: MulImpl) {
    let pairs = up_to_8x8();
    let design = harness(&format!("accgen_mul_harness_{}_8x8", imp.tag()), &pairs, imp, &prov());
    lint(&design);
    let report = check(&design, || MulVectors::exhaustive(&design, &pairs));
    // Every 8 x 8 bus pair, one product per multiplier each.
    assert_eq!(report.compared, 65_536 * pairs.len() as u64, "{}", design.top);
}

#[test]
fn lut_multipliers_exhaustive_up_to_8x8() {
    for imp in LUT_STRUCTURES {
        exhaustive(imp);
    }
}

#[test]
fn lut_multipliers_random_up_to_24x24() {
    let mut pairs: Vec<(IntFormat, IntFormat)> = Vec::new();
    for (a, b) in [
        (16, 16),
        (24, 24),
        (12, 12),
        (9, 16),
        (16, 9),
        (24, 11),
        (3, 24),
        (24, 2),
        (13, 7),
    ] {
        pairs.extend(signs(a, b));
    }
    for imp in LUT_STRUCTURES {
        let design = harness(&format!("accgen_mul_harness_{}_24x24", imp.tag()), &pairs, imp, &prov());
        lint(&design);
        let vectors = MulVectors::random(&design, &pairs, 200_000, 24);
        let total = vectors.total();
        let report = check(&design, || MulVectors::random(&design, &pairs, 200_000, 24));
        assert_eq!(report.compared, total * pairs.len() as u64, "{}", design.top);
    }
}

#[test]
fn broken_multipliers_fail() {
    // Two multipliers, 5 and 6 rows: lut sums lone rows and a last chain of two, lut4 runs one
    // chain of 5 and two of 3, booth has 2 or 3 digits and the sign row.
    let pairs = [(int(6, true), int(5, true)), (int(5, true), int(6, true))];
    let cases = [
        // The sign row added instead of subtracted.
        (
            MulImpl::Lut,
            "accgen_mul_lut_s6xs5",
            "acc_3[6:1]} - {",
            "acc_3[6:1]} + {",
        ),
        // A running sum shifted by the wrong amount.
        (
            MulImpl::Lut,
            "accgen_mul_lut_s6xs5",
            "{1'b0, acc_3[6:1]}",
            "{1'b0, acc_3[5:1], 1'b0}",
        ),
        // The Baugh-Wooley constant left out of row 0.
        (
            MulImpl::Lut,
            "accgen_mul_lut_s6xs5",
            "{!(a_i[5] && b_i[0]), a_i[5]",
            "{1'b0, a_i[5]",
        ),
        // The row choice inverted.
        (
            MulImpl::Lut4,
            "accgen_mul_row_s6_add",
            "b_i ? sum : s_ext",
            "b_i ? s_ext : sum",
        ),
        // Sign extension replaced by zero extension.
        (MulImpl::Lut4, "accgen_mul_row_s6_sub", "{s_i[5], s_i}", "{1'b0, s_i}"),
        // The low chain zero-extended where it is signed, in the adder tree.
        (
            MulImpl::Lut,
            "accgen_mul_lut_s5xs6",
            "{{2{chain_0[5]}}, chain_0[5:1]}",
            "{2'd0, chain_0[5:1]}",
        ),
        (
            MulImpl::Lut4,
            "accgen_mul_lut4_s5xs6",
            "{{3{chain_0[7]}}, chain_0[7:3]}",
            "{3'd0, chain_0[7:3]}",
        ),
        // Booth: row 0's negation left incomplete (the +1, row 1's carry-in, dropped).
        (
            MulImpl::Booth,
            "accgen_mul_booth_s6xs5_row1",
            "assign carry_in = g_i[0];",
            "assign carry_in = 1'b0;",
        ),
        // Booth: the product's top bit not restored by the last row (see `TopBit::Toggle`).
        (MulImpl::Booth, "accgen_mul_booth_s6xs5_sign", "^ {1'b1,", "^ {1'b0,"),
        // Booth: a digit of 2 (group 011) read as 0.
        (
            MulImpl::Booth,
            "accgen_mul_booth_s6xs5_row1",
            "(!g_i[2] && g_i[1] && g_i[0])",
            "(!g_i[2] && g_i[1] && !g_i[0])",
        ),
        // Booth: the sign row of a signed b added instead of subtracted.
        (
            MulImpl::Booth,
            "accgen_mul_booth_s6xs5_sign",
            "x_ext - row_ext",
            "x_ext + row_ext",
        ),
        // Booth tree (s6 x s5: three rows, (r0 + r1) + r2). Row 2's +1 has no free slot: its low
        // bits are exact and its carry goes to column 9. The carry dropped...
        (
            MulImpl::BoothTree,
            "accgen_mul_booth_tree_s6xs5",
            "assign b2_carry = b2_neg && ",
            "assign b2_carry = 1'b0 && ",
        ),
        // ...and an exact low bit computed as a plain inversion (the neg left out of it).
        (
            MulImpl::BoothTree,
            "accgen_mul_booth_tree_s6xs5",
            "b2_m[1] ^ (b2_neg && |b2_m[0])",
            "b2_m[1] ^ b2_neg",
        ),
        // Booth tree: row 1's +1, in the free slot below row 2, dropped.
        (
            MulImpl::BoothTree,
            "accgen_mul_booth_tree_s6xs5",
            "1'b0, b1_neg}",
            "1'b0, 1'b0}",
        ),
        // Booth tree: a bit of the rows' sign-extension constant, in a free slot, dropped.
        (
            MulImpl::BoothTree,
            "accgen_mul_booth_tree_s6xs5",
            "assign sum_0_x = {1'b1,",
            "assign sum_0_x = {1'b0,",
        ),
        // Booth tree: row 0 grown to absorb a constant bit ({~s, s}), with ~s in both.
        (
            MulImpl::BoothTree,
            "accgen_mul_booth_tree_s6xs5",
            "!b0_pp[6], b0_pp[6], b0_pp}",
            "!b0_pp[6], !b0_pp[6], b0_pp}",
        ),
    ];
    for (imp, module, from, to) in cases {
        let design = harness(
            &format!("accgen_mul_harness_{}_mutant", imp.tag()),
            &pairs,
            imp,
            &prov(),
        );
        // The intact harness passes...
        let report = check(&design, || MulVectors::exhaustive(&design, &pairs));
        // 6-bit buses: 4,096 pairs, two products each.
        assert_eq!(report.compared, 2 << 12);
        // ...and the mutant is caught with a mismatch.
        // The broken multiplier's product is the one named.
        let port = if module.contains("s5xs6") {
            "p_s5xs6_o"
        } else {
            "p_s6xs5_o"
        };
        assert_mutant_caught(&design, &pairs, module, from, to, port);
    }
}

/// Booth tree, step 5 of `mul_tree`: at s4 x s8 (four rows, (r0 + r1) + (r2 + r3)) row 3's ~s and
/// the constant's top bit move from `r2 + r3` up beside `r0 + r1`, which ends two columns lower.
/// Either hoisted bit broken must be caught, exhaustively (4,096 operand pairs).
#[test]
fn booth_tree_hoisted_bits_broken_fail() {
    let pairs = [(int(4, true), int(8, true))];
    let module = "accgen_mul_booth_tree_s4xs8";
    let design = harness(
        "accgen_mul_harness_booth_tree_hoist",
        &pairs,
        MulImpl::BoothTree,
        &prov(),
    );
    let report = check(&design, || MulVectors::exhaustive(&design, &pairs));
    assert_eq!(report.compared, 1 << 12);
    for (from, to) in [
        // The hoisted ~s of row 3 not inverted.
        (
            "assign sum_2_x = {1'b1, !b3_pp[4], 1'b0, sum_0",
            "assign sum_2_x = {1'b1, b3_pp[4], 1'b0, sum_0",
        ),
        // The hoisted constant bit dropped.
        ("assign sum_2_x = {1'b1, !b3_pp[4]", "assign sum_2_x = {1'b0, !b3_pp[4]"),
    ] {
        assert_mutant_caught(&design, &pairs, module, from, to, "p_s4xs8_o");
    }
}

/// Booth tree at u8 x u8 (`mul_split`: b's low bit split off, four Booth rows in two adder levels).
/// Each of its tricks broken must be caught, exhaustively (65,536 operand pairs).
#[test]
fn booth_tree_low_split_broken_fail() {
    let pairs = [(int(8, false), int(8, false))];
    let module = "accgen_mul_booth_tree_u8xu8";
    let design = harness(
        "accgen_mul_harness_booth_tree_split",
        &pairs,
        MulImpl::BoothTree,
        &prov(),
    );
    let report = check(&design, || MulVectors::exhaustive(&design, &pairs));
    assert_eq!(report.compared, 1 << 16);
    for (module, from, to) in [
        // Row 1's +1, the root adder's carry-in, dropped.
        (module, ".c_i (b1_neg),", ".c_i (1'b0),"),
        // The carry-in ignored inside the adder.
        (
            "accgen_mul_addc_13x13_w13",
            "assign s_o = x_ext + y_ext + c_ext;",
            "assign s_o = x_ext + y_ext;",
        ),
        // One entry of blk's truth table wrong (bit 0 at a_i[7:5] = 0, b_i[2:0] = 0).
        (module, "64'ha6966a5a0c3cc0f0", "64'ha6966a5a0c3cc0f1"),
        // The constant's bit 15, beside row 0's top, dropped.
        (module, "assign sum_0_x = {1'b1, 2'd0,", "assign sum_0_x = {1'b0, 2'd0,"),
        // Row 2's sign bit not inverted.
        (module, "assign sum_1_y = {!b2_neg,", "assign sum_1_y = {b2_neg,"),
        // e's bit 0, below every adder, dropped.
        (
            module,
            "assign sum_0 = {sum_0_add, e[0]};",
            "assign sum_0 = {sum_0_add, 1'b0};",
        ),
    ] {
        assert_mutant_caught(&design, &pairs, module, from, to, "p_u8xu8_o");
    }
}

/// `lut4` at u8 x u8 (`mul_np`: each half of b is an N row and a P row in one adder, then a gated
/// row; one adder sums the halves). Each of its tricks broken must be caught, exhaustively
/// (65,536 operand pairs).
#[test]
fn lut4_halves_broken_fail() {
    let pairs = [(int(8, false), int(8, false))];
    let module = "accgen_mul_lut4_u8xu8";
    let design = harness("accgen_mul_harness_lut4_halves", &pairs, MulImpl::Lut4, &prov());
    let report = check(&design, || MulVectors::exhaustive(&design, &pairs));
    assert_eq!(report.compared, 1 << 16);
    for (from, to) in [
        // The low half's carry out of its two lowest columns, the adder's carry-in, dropped.
        (".c_i (lo_low[2]),", ".c_i (1'b0),"),
        // That carry without the N row's +1.
        ("{lo_n[1] && lo_n[0] && lo_neg,", "{lo_n[1] && lo_n[0],"),
        // The high N row's sign extended by one bit instead of two.
        (
            "assign hi_sum_x = {hi_neg, hi_neg, hi_n[8:2]};",
            "assign hi_sum_x = {1'b0, hi_neg, hi_n[8:2]};",
        ),
        // The low N row not inverted when negative.
        ("^ {9{lo_neg}};", "^ {9{1'b0}};"),
        // The high P row's digit 2 lost.
        ("assign hi_p_two = b_i[5] && b_i[6];", "assign hi_p_two = 1'b0;"),
        // The high half's gated row on the wrong bit of b.
        (".b_i (b_i[7]),", ".b_i (b_i[6]),"),
    ] {
        assert_mutant_caught(&design, &pairs, module, from, to, "p_u8xu8_o");
    }
}

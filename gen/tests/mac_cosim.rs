//! Bit-exact co-simulation of integer MAC designs against the golden model.

mod common;

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac::vectors::Traffic;
use accgen_hdl::mac::{self, MacArrayParams, MulImpl, Overflow};
use common::*;

#[test]
fn int4_pes_exhaustive() {
    for (a, w, m) in [
        ("int4", "int4", MulImpl::Dsp),
        ("uint4", "uint4", MulImpl::Dsp),
        ("uint4", "int4", MulImpl::Dsp),
        ("int4", "int4", MulImpl::Lut),
        ("int4", "uint4", MulImpl::Lut),
        ("uint4", "int4", MulImpl::Lut4),
        ("int4", "uint4", MulImpl::Booth),
    ] {
        exhaustive_pe(7, &with(params(1, 1, 16, a, w), |p| p.multiplier = m));
    }
}

#[test]
fn int8_pes_exhaustive() {
    for (a, w, m) in [
        ("int8", "int8", MulImpl::Dsp),
        ("uint8", "uint8", MulImpl::Dsp),
        ("int8", "uint8", MulImpl::Dsp),
        ("int8", "int8", MulImpl::Lut),
        ("uint8", "uint8", MulImpl::Lut),
        ("int8", "int8", MulImpl::Lut4),
        ("uint8", "uint8", MulImpl::Lut4),
        ("int8", "int8", MulImpl::Booth),
        ("uint8", "int8", MulImpl::Booth),
        ("int8", "int8", MulImpl::BoothTree),
        ("uint8", "uint8", MulImpl::BoothTree),
    ] {
        exhaustive_pe(7, &with(params(1, 1, 256, a, w), |p| p.multiplier = m));
    }
}

#[test]
fn narrow_accumulators_wrap_and_saturate_exhaustively() {
    // 17 bits hold one int8 product but not a running sum: both modes are exercised.
    for overflow in [Overflow::Wrap, Overflow::Saturate] {
        exhaustive_pe(7, &narrow(params(1, 1, 1024, "int8", "int8"), 17, overflow));
        exhaustive_pe(7, &narrow(params(1, 1, 1024, "uint8", "uint8"), 16, overflow));
    }
}

fn random_array(p: &MacArrayParams, cycles: u64, traffic: Traffic, seed: u64) -> u64 {
    let design = mac::design(p, &prov());
    let (report, rows) = check_array(&design, p, seed, cycles, traffic);
    assert_eq!(report.cycles, cycles);
    // A tile of R rows every max(K, R, C) beats at full rate; at least an
    // eighth of that under bursty traffic.
    let period = p.dot_length.max(p.tile_spacing()) as u64;
    assert!(
        rows >= cycles * p.rows as u64 / period / 8,
        "{}: only {rows} rows compared",
        design.top
    );
    report.compared
}

#[test]
fn array_1x1_random() {
    random_array(&params(1, 1, 1, "int8", "int8"), 100_000, Traffic::BURSTY, 1);
    random_array(&params(1, 1, 5, "uint16", "int16"), 100_000, Traffic::BURSTY, 2);
}

#[test]
fn array_4x4_random() {
    random_array(&params(4, 4, 16, "int8", "int8"), 100_000, Traffic::BURSTY, 3);
    random_array(&params(4, 4, 16, "int8", "int8"), 100_000, Traffic::FULL, 4);
}

#[test]
fn array_16x16_random() {
    random_array(&params(16, 16, 32, "int8", "int8"), 100_000, Traffic::BURSTY, 5);
}

#[test]
fn non_square_arrays_random() {
    // K below max(R, C) exercises the tile spacing; K = 1 the single-beat tiles.
    random_array(&params(3, 7, 4, "uint4", "int4"), 100_000, Traffic::BURSTY, 6);
    random_array(
        &with(params(16, 4, 1, "int2", "uint3"), |p| p.multiplier = MulImpl::Lut),
        100_000,
        Traffic::FULL,
        7,
    );
    random_array(
        &with(params(2, 9, 40, "int12", "uint5"), |p| p.multiplier = MulImpl::Booth),
        100_000,
        Traffic::BURSTY,
        8,
    );
}

#[test]
fn saturating_array_with_async_reset() {
    let p = with(
        narrow(params(2, 3, 64, "int16", "int16"), 32, Overflow::Saturate),
        |p| p.reset = ResetStyle::AsyncLow,
    );
    random_array(&p, 100_000, Traffic::BURSTY, 9);
}

/// Co-simulation that cannot fail proves nothing: break the RTL and watch it fail.
#[test]
fn broken_rtl_is_caught() {
    // K < max(R, C), so the tile-spacing logic exists and can be broken.
    let p = params(3, 3, 2, "int8", "int8");
    let good = mac::design(&p, &prov());
    let mutants: [(&str, &str, &str); 3] = [
        (
            "accgen_mac_pe",
            "assign sum = acc_base + prod_ext;",
            "assign sum = acc_base - prod_ext;",
        ),
        (
            "accgen_mac_array",
            "assign in_ready_o = advance && (!beat_last || may_finish);",
            "assign in_ready_o = advance;",
        ),
        (
            "accgen_mac_array",
            "out_last_q <= row_done[2];",
            "out_last_q <= row_done[1];",
        ),
    ];
    for (_, m) in common::array_mutants_are_caught(&good, &p, &mutants) {
        let vcd = m.vcd_path.as_ref().expect("a failure waveform");
        assert!(vcd.exists(), "VCD {} missing", vcd.display());
    }
}

//! Bit-exact co-simulation of minifloat MAC hardware: every operand pair of
//! every preset and of every small ExMy, minifloat x integer, wide formats,
//! arrays with output rounding, and the Icarus test bench.

mod common;

use accgen_hdl::mac::params::{FormatSpec, OutputRounding};
use accgen_hdl::mac::vectors::{PeExhaustive, Traffic};
use accgen_hdl::mac::{self, MacArrayParams};
use accgen_hdl::minifloat::{FloatFormat, OnOverflow, PRESETS, Specials};
use common::*;

const OPERAND_PRESETS: [&str; 9] = [
    "e4m3fn", "e4m3fnuz", "e5m2", "e5m2fnuz", "e4m3", "e3m4", "e2m3fn", "e3m2fn", "e2m1fn",
];

fn params_of(act: FormatSpec, wgt: FormatSpec, rows: u64, cols: u64, k: u64) -> MacArrayParams {
    let mut s = spec(rows, cols, k, "int8", "int8");
    s.activations = act;
    s.weights = wgt;
    s.validate().unwrap_or_else(|e| panic!("{e}"))
}

/// Every operand pair through a lone PE, twice: each product alone (the
/// multiplier), then running sums (the MAC step). Returns values compared.
fn exhaustive_pe(p: &MacArrayParams) -> u64 {
    let design = mac::pe_design(p, &prov());
    lint(&design);
    let model = build(&design);
    let pairs = 1u64 << (p.act.width() + p.wgt.width());
    let mut compared = 0;
    for products in [true, false] {
        let report = try_check(&model, &design, || {
            let v = PeExhaustive::new(&design, p, 11);
            if products { v.products_only() } else { v }
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.compared >= pairs,
            "{}: {} compared of {pairs} pairs",
            design.top,
            report.compared
        );
        compared += report.compared;
    }
    compared
}

#[test]
fn every_preset_pair_exhaustive() {
    for name in OPERAND_PRESETS {
        exhaustive_pe(&params_of(name.into(), name.into(), 1, 1, 64));
    }
}

/// The significand product on the LUT multipliers: FP8, FP4 and FP8 x int8
/// (signed, narrow and mixed significands), every operand pair.
#[test]
fn lut_multiplier_pes_exhaustive() {
    use accgen_hdl::mac::MulImpl;
    for imp in [MulImpl::Lut, MulImpl::Lut4, MulImpl::Booth] {
        for (a, w) in [("e4m3fn", "e5m2"), ("e2m1fn", "e2m1fn"), ("e4m3fn", "int8")] {
            let mut p = params_of(a.into(), w.into(), 1, 1, 64);
            p.multiplier = imp;
            exhaustive_pe(&p);
        }
    }
}

/// Every (E, M) with 1 + E + M <= 8, in the `finite` and `ieee` modes,
/// with and without subnormals.
#[test]
fn every_small_exmy_exhaustive() {
    let mut formats = 0;
    for e in 1..=7u64 {
        for m in 0..=(7 - e) {
            for specials in [Specials::Finite, Specials::Ieee] {
                for subnormals in [true, false] {
                    let f = FormatSpec::Float {
                        exponent: e,
                        mantissa: m,
                        bias: None,
                        specials,
                        subnormals,
                    };
                    if specials == Specials::Ieee && e < 2 {
                        // Not a format: every normal exponent would be inf/NaN.
                        assert!(f.operand("w").is_err());
                        continue;
                    }
                    exhaustive_pe(&params_of(f.clone(), f, 1, 1, 16));
                    formats += 1;
                }
            }
        }
    }
    assert_eq!(formats, 28 * 2 + 21 * 2);
}

#[test]
fn minifloat_times_integer_exhaustive() {
    for (a, w) in [
        ("int8", "e4m3fn"),
        ("e4m3fn", "int8"),
        ("uint4", "e2m1fn"),
        ("e5m2", "uint8"),
        ("int4", "e3m2fn"),
    ] {
        exhaustive_pe(&params_of(a.into(), w.into(), 1, 1, 32));
    }
}

fn rounding(p: MacArrayParams, format: &str, overflow: OnOverflow) -> MacArrayParams {
    with(p, |p| {
        p.output = Some(OutputRounding {
            format: FloatFormat::preset(format).expect("preset"),
            overflow,
            pipeline: 0,
        })
    })
}

/// At least a million seeded random cycles (a quarter of operands are
/// corners: zeros, extremes, subnormals, NaN, infinities) per array.
#[test]
fn arrays_with_output_rounding_random() {
    let cases = [
        rounding(
            params_of("e4m3fn".into(), "e4m3fn".into(), 4, 4, 32),
            "fp16",
            OnOverflow::Saturate,
        ),
        rounding(
            params_of("e5m2".into(), "e4m3".into(), 3, 5, 16),
            "e5m2",
            OnOverflow::Special,
        ),
        rounding(
            params_of("e2m1fn".into(), "int4".into(), 2, 2, 8),
            "e2m1fn",
            OnOverflow::Saturate,
        ),
        rounding(
            params_of("e4m3fnuz".into(), "e5m2fnuz".into(), 2, 3, 64),
            "bf16",
            OnOverflow::Saturate,
        ),
    ];
    for (i, p) in cases.iter().enumerate() {
        let design = mac::design(p, &prov());
        lint(&design);
        let (report, rows) = check_array(
            &design,
            p,
            100 + i as u64,
            1_000_000,
            if i % 2 == 0 { Traffic::BURSTY } else { Traffic::FULL },
        );
        assert!(report.cycles >= 1_000_000 && rows > 10_000, "{report}, {rows} rows");
    }
}

/// Wide formats: fp16 operands (a 100-bit Kulisch accumulator) and bf16 ones
/// (over 520 bits, beyond 128-bit integers in the golden model), a million
/// random cycles each.
#[test]
fn wide_formats_random() {
    let fp16 = params_of("fp16".into(), "fp16".into(), 2, 2, 16);
    let design = mac::design(&fp16, &prov());
    lint(&design);
    check_array(&design, &fp16, 21, 1_000_000, Traffic::FULL);
    let bf16 = rounding(
        params_of("bf16".into(), "bf16".into(), 1, 2, 8),
        "fp32",
        OnOverflow::Saturate,
    );
    assert!(bf16.acc_width > 500, "{}", bf16.acc_width);
    let design = mac::design(&bf16, &prov());
    lint(&design);
    check_array(&design, &bf16, 22, 1_000_000, Traffic::BURSTY);
}

#[test]
fn rounders_to_every_preset() {
    // One small array per output format. Formats without NaN take operands
    // that cannot make one (validation rejects the other combinations).
    for (name, f) in PRESETS {
        let (a, w) = if f.nan_code().is_some() {
            ("e4m3fn", "e3m4")
        } else {
            ("e2m3fn", "e3m2fn")
        };
        let p = rounding(params_of(a.into(), w.into(), 1, 2, 4), name, OnOverflow::Saturate);
        assert_eq!(p.output.map(|o| o.format), Some(f));
        let design = mac::design(&p, &prov());
        check_array(&design, &p, 31, 50_000, Traffic::FULL);
    }
}

/// The test bench `accgen gen` writes, run under Icarus Verilog for an array
/// of every preset, agrees with Verilator on the same vectors.
#[test]
fn preset_testbenches_pass_under_icarus() {
    use accgen_sim::testbench::{IcarusOptions, run_icarus};
    for name in OPERAND_PRESETS {
        let p = params_of(name.into(), name.into(), 2, 2, 4);
        let design = mac::design(&p, &prov());
        let layout = accgen_sim::Layout::new(&design).expect("layout");
        let stim = accgen_hdl::mac::vectors::ArrayVectors::new(&design, &p, 5, 3000, Traffic::BURSTY);
        let rows = stim.rows_checked();
        let frames =
            accgen_sim::Frames::record(&layout, accgen::cosim::Source::new(&design, &layout, stim)).expect("frames");
        assert!(rows.get() > 100, "{name}: {} rows", rows.get());
        let tb = accgen_sim::testbench::write(&design, &frames).expect("testbench");
        let icarus = run_icarus(&design, &tb, &IcarusOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(icarus.warnings.is_empty(), "{name}: {:?}", icarus.warnings);
        let verilator = build(&design).check_frames(&frames).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(icarus.compared, verilator.compared, "{name}");
    }
}

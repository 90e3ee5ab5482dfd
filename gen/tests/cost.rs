//! The cost model against its committed calibration and against a fresh
//! synthesis run.

mod common;

use accgen::cost::calibrate::{mape, points};
use accgen::cost::{Calibration, estimate};
use accgen::synth::{SynthOptions, Target, synthesize};
use common::prov;

fn calibration() -> Calibration {
    Calibration::builtin().unwrap_or_else(|e| panic!("{e}"))
}

/// The committed points table was produced by this model's code: a change
/// to the features or the estimate without recalibrating fails here.
#[test]
fn committed_estimates_match_the_code() {
    let c = calibration();
    let csv = include_str!("../../reports/calibration/mac_points.csv");
    let pts = points();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let point = pts
            .iter()
            .find(|p| p.name == f[0])
            .unwrap_or_else(|| panic!("unknown design {}", f[0]));
        let target: Target = f[1].parse().unwrap_or_else(|e| panic!("{e}"));
        let model = c.model(target).unwrap_or_else(|| panic!("no model for {}", f[1]));
        let e = estimate(&point.params, model);
        let luts: f64 = f[4].parse().expect("luts_est");
        assert!(
            (e.luts - luts).abs() < 0.06,
            "{} on {}: {} vs committed {luts}",
            f[0],
            f[1],
            e.luts
        );
        assert_eq!(format!("{:.0}", e.ffs), f[6], "{} on {}", f[0], f[1]);
        checked += 1;
    }
    let synthesized: usize = Target::ALL
        .iter()
        .map(|&t| pts.iter().filter(|p| p.on(t)).count())
        .sum();
    assert_eq!(checked, synthesized);
}

/// Flip-flops come from the structure, not a fit. They are within 1% on
/// every target but xc7: where synthesis keeps every register a flip-flop,
/// and on ice40, where SB_MAC16 blocks absorb exactly the operand registers
/// [`accgen::cost::DspPacking`] names. On xc7 DSP48E1 blocks absorb more
/// (a fitted median per block) and SRL16E cells absorb shift registers.
/// On xc7-nodsp SRL16E also take 2 to 4 chains per design of the registers
/// inside two-stage output rounders and beside them (6 to 18 flip-flops in
/// the calibration set), which the count does not model; those designs are
/// held to 18 bits.
#[test]
fn flip_flops_are_within_one_percent_except_on_xc7() {
    let csv = include_str!("../../reports/calibration/mac_points.csv");
    let pts = points();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] != "xc7" {
            let (m, e): (f64, f64) = (f[5].parse().expect("ffs"), f[6].parse().expect("ffs_est"));
            let two_stage_rounders = pts
                .iter()
                .find(|p| p.name == f[0])
                .is_some_and(|p| p.params.output_stages() == 2);
            let unmodelled = if f[1] == "xc7-nodsp" && two_stage_rounders {
                18.0
            } else {
                0.0
            };
            // Within 1% (or 3 bits): synthesis occasionally merges a few more registers
            // (flags that coincide for a pair of formats).
            assert!(
                (m - e).abs() <= (0.01 * m).max(3.0).max(unmodelled),
                "{} on {}: FFs measured {m} vs estimated {e}",
                f[0],
                f[1]
            );
        }
    }
}

/// The published held-out errors meet the goals: LUTs (logic
/// cells on `asic`) within 10% MAPE on every target, FFs within 5%, and
/// DSP counts exact on every design of the set, held out or not: they
/// follow Yosys' own mapping rule, not a fit.
#[test]
fn held_out_errors_are_published_and_meet_the_goals() {
    let readme = include_str!("../../reports/calibration/README.md");
    assert!(readme.contains("held-out"), "{readme}");
    let csv = include_str!("../../reports/calibration/mac_points.csv");
    for target in Target::ALL {
        let all: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[1] == target.name())
            .collect();
        let rows: Vec<&Vec<&str>> = all.iter().filter(|f| f[2] == "true").collect();
        assert!(rows.len() >= 16, "{}: {} held-out rows", target.name(), rows.len());
        let pairs = |m: usize, e: usize| -> Vec<(f64, f64)> {
            rows.iter()
                .map(|f| (f[m].parse().unwrap_or(0.0), f[e].parse().unwrap_or(0.0)))
                .collect()
        };
        let lut = mape(&pairs(3, 4));
        assert!(lut <= 10.0, "{}: LUT MAPE {lut:.1}% > 10%", target.name());
        let ff = mape(&pairs(5, 6));
        assert!(ff <= 5.0, "{}: FF MAPE {ff:.1}%", target.name());
        for f in &all {
            assert_eq!(
                f[9].parse::<f64>().ok(),
                f[10].parse::<f64>().ok(),
                "{} on {}: DSP blocks measured vs estimated",
                f[0],
                f[1]
            );
        }
    }
}

/// Yosys' DSP mapping on lone multipliers matches the rule the model
/// follows, including the shapes next to each target's minimum product
/// width and an operand too wide for one iCE40 block.
#[test]
fn dsp_rule_matches_yosys_on_lone_multipliers() {
    use accgen::cost::DspRule;
    use accgen::cost::calibrate::mul_design;
    use accgen_hdl::mac::MulImpl;
    use accgen_hdl::params::IntFormat;
    let int = |bits: u32, signed: bool| IntFormat { bits, signed };
    let cases = [
        (Target::Ice40 { dsp: true }, int(5, true), int(5, true)),
        (Target::Ice40 { dsp: true }, int(5, true), int(6, true)),
        (Target::Ice40 { dsp: true }, int(16, false), int(16, true)),
        (Target::Ecp5 { dsp: true }, int(2, true), int(3, false)),
        (Target::Xc7 { dsp: true }, int(4, false), int(4, false)),
        (Target::Xc7 { dsp: true }, int(4, false), int(5, false)),
    ];
    let mut mapped = 0;
    for (target, a, b) in cases {
        let design = mul_design(a, b, MulImpl::Dsp);
        let r = synthesize(&design, target, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let rule = DspRule::of(target).expect("a DSP target");
        assert_eq!(
            r.summary.dsp,
            rule.blocks(a, b) as u64,
            "{a} x {b} on {target}: Yosys vs the rule"
        );
        mapped += r.summary.dsp;
    }
    // The cases are not all one-sided.
    assert!(mapped >= 3, "{mapped}");
}

/// A fresh synthesis of a held-out design lands near the estimate.
#[test]
fn estimate_tracks_a_fresh_synthesis() {
    let c = calibration();
    let point = points()
        .into_iter()
        .find(|p| p.held_out && p.params.rows * p.params.cols >= 2)
        .expect("a held-out point");
    let design = accgen_hdl::mac::design(&point.params, &prov());
    let target = Target::Ice40 { dsp: false };
    let r = synthesize(&design, target, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let e = estimate(&point.params, c.model(target).expect("model"));
    assert!(
        (r.summary.ffs as f64 - e.ffs).abs() <= 0.01 * e.ffs,
        "{}: {} FFs vs {}",
        point.name,
        r.summary.ffs,
        e.ffs
    );
    let err = (e.luts - r.summary.luts as f64).abs() / r.summary.luts as f64;
    assert!(
        err < 0.3,
        "{}: {} LUTs estimated, {} synthesized",
        point.name,
        e.luts,
        r.summary.luts
    );
}

/// ECP5's LUT features for the logic ABC maps for depth: a `*` merged
/// with the accumulator's sum is costed by its product tree in place of the
/// lone multiplier, and the product features of arrays without an output
/// rounder are features of their own. Other targets, and ECP5's carry
/// cells, keep the shared features.
#[test]
fn ecp5_costs_merged_products_and_unrounded_arrays_apart() {
    use accgen::cost::{Figure, features};
    let c = calibration();
    let find = |name: &str| {
        points()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} is not a calibration design"))
            .params
    };
    let unrounded = find("accgen_mac_array_1x2_k256_au4_wu8_acc20w_dsp");
    let rounded = find("accgen_mac_array_4x4_k256_au4_wu8_acc20w_dsp_to_bf16");
    let ecp5 = c.model(Target::Ecp5 { dsp: false }).expect("ecp5-nodsp model");
    let ice40 = c.model(Target::Ice40 { dsp: false }).expect("ice40-nodsp model");
    let f = features(&unrounded, ecp5, Figure::Luts);
    // 2 PEs of a 4 x 8 product tree: 2 * 32 * log2(32).
    assert_eq!(f[12], 320.0, "{f:?}");
    assert_eq!((f[0], f[13], f[15]), (0.0, 0.0, 320.0), "{f:?}");
    let f = features(&rounded, ecp5, Figure::Luts);
    assert_eq!(f[12], 16.0 * 160.0, "{f:?}");
    assert!(f[13..].iter().all(|&x| x == 0.0), "{f:?}");
    for (model, figure) in [(ice40, Figure::Luts), (ecp5, Figure::Carry)] {
        let f = features(&unrounded, model, figure);
        assert!(f[0] > 0.0, "{}: {f:?}", model.target);
        assert!(f[12..].iter().all(|&x| x == 0.0), "{}: {f:?}", model.target);
    }
    // The lone multiplier of a float array without a rounder (e4m3 x e4m3,
    // `lut` rows) is ECP5's unrounded multiplier feature too.
    let float = find("accgen_mac_array_2x2_k16_ae4m3fnuz_we4m3fn_acc42w_lut");
    let f = features(&float, ecp5, Figure::Luts);
    assert!(f[0] > 0.0 && f[13] == f[0] && f[12] == 0.0, "{f:?}");
}

//! Seeded property tests over the configuration space: random valid
//! configurations are lint-clean and co-simulate bit-exact; random invalid
//! ones are rejected with an error, never a panic.
//!
//! `ACCGEN_SWEEP=N` draws N valid configurations instead of the default.

mod common;

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac::params::{FormatSpec, exact_acc_width, fixed_product_width};
use accgen_hdl::mac::vectors::Traffic;
use accgen_hdl::mac::{self, MacArraySpec, MulImpl, Overflow};
use accgen_hdl::minifloat::{FloatFormat, OnOverflow, Specials};
use accgen_hdl::params::IntFormat;
use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn random_int(rng: &mut StdRng) -> FormatSpec {
    let f = IntFormat {
        bits: rng.random_range(2..=16),
        signed: rng.random_bool(0.5),
    };
    FormatSpec::Name(f.to_string())
}

/// A minifloat of at most 10 bits, any mode, default or shifted bias.
fn random_float(rng: &mut StdRng, max_width: u32) -> FormatSpec {
    loop {
        let exponent = rng.random_range(1..=5u32);
        let mantissa = rng.random_range(0..=(max_width - 1 - exponent).min(6));
        let specials = [Specials::Ieee, Specials::Fn, Specials::Fnuz, Specials::Finite][rng.random_range(0..4)];
        let spec = FormatSpec::Float {
            exponent: exponent as u64,
            mantissa: mantissa as u64,
            bias: rng
                .random_bool(0.3)
                .then(|| FloatFormat::default_bias(exponent, specials) as i64 + rng.random_range(-2..=2)),
            specials,
            subnormals: rng.random_bool(0.7),
        };
        if spec.operand("x").is_ok() {
            return spec;
        }
    }
}

fn random_operand(rng: &mut StdRng) -> FormatSpec {
    match rng.random_range(0..5) {
        0 | 1 => random_int(rng),
        2 => {
            let presets = [
                "e4m3fn", "e4m3fnuz", "e5m2", "e5m2fnuz", "e4m3", "e3m4", "e2m3fn", "e3m2fn", "e2m1fn",
            ];
            FormatSpec::Name(presets[rng.random_range(0..presets.len())].into())
        }
        _ => random_float(rng, 10),
    }
}

/// A random valid specification: arrays up to 6 x 6 keep builds quick.
fn random_spec(rng: &mut StdRng) -> MacArraySpec {
    let (act, wgt) = (random_operand(rng), random_operand(rng));
    let (a, w) = (act.operand("a").expect("valid"), wgt.operand("w").expect("valid"));
    let k: u64 = match rng.random_range(0..4) {
        0 => rng.random_range(1..=8),
        1 => rng.random_range(9..=300),
        2 => 1 << rng.random_range(9..=12),
        _ => 1 << rng.random_range(13..=20),
    };
    let product = fixed_product_width(a, w) as u64;
    let exact = exact_acc_width(a, w, k as u32) as u64;
    let (acc_width, overflow) = match rng.random_range(0..4) {
        0 | 1 => (None, None),
        // Narrow enough to overflow often, so wrap and saturate are exercised.
        2 => (
            Some((product + rng.random_range(0..=2)).min(126)),
            Some(if rng.random_bool(0.5) {
                Overflow::Wrap
            } else {
                Overflow::Saturate
            }),
        ),
        _ => (Some(rng.random_range(exact.min(126)..=126)), None),
    };
    let output = rng.random_bool(0.4).then(|| {
        let names = ["e4m3fn", "e5m2", "e4m3fnuz", "e3m4", "fp16", "bf16", "fp32"];
        let spec = if rng.random_bool(0.7) {
            FormatSpec::Name(names[rng.random_range(0..names.len())].into())
        } else {
            random_float(rng, 12)
        };
        (
            spec,
            if rng.random_bool(0.7) {
                OnOverflow::Saturate
            } else {
                OnOverflow::Special
            },
        )
    });
    let rounds = output.is_some();
    MacArraySpec {
        rows: rng.random_range(1..=6),
        cols: rng.random_range(1..=6),
        dot_length: k,
        activations: act,
        weights: wgt,
        acc_width,
        overflow,
        // Booth rows summed in chains or in a tree: which one follows the dot
        // length (the parity of its trailing zero bits) rather than a new
        // draw, so every other field of every draw stays as it was.
        multiplier: match [MulImpl::Dsp, MulImpl::Lut, MulImpl::Lut4, MulImpl::Booth][rng.random_range(0..4usize)] {
            MulImpl::Booth if k.trailing_zeros().is_multiple_of(2) => MulImpl::BoothTree,
            imp => imp,
        },
        reset: if rng.random_bool(0.5) {
            ResetStyle::SyncHigh
        } else {
            ResetStyle::AsyncLow
        },
        output,
        // Drawn last, so within a draw the other fields keep their order.
        pipeline: rng.random_range(0..=3),
        output_pipeline: if rounds { rng.random_range(0..=2) } else { 0 },
    }
}

#[test]
fn random_valid_configs_lint_and_cosimulate() {
    let count: u64 = std::env::var("ACCGEN_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut rng = StdRng::seed_from_u64(2026);
    let mut done = 0;
    let mut drawn = 0;
    while done < count {
        drawn += 1;
        assert!(drawn < count * 50, "too few valid draws");
        let spec = random_spec(&mut rng);
        // Some draws are invalid on purpose-free grounds (an accumulator
        // beyond 126 bits, an output format without NaN for NaN-capable
        // inputs): those must be clean errors, and are skipped here.
        let p = match spec.validate() {
            Ok(p) => p,
            Err(e) => {
                assert!(!e.allowed.is_empty());
                continue;
            }
        };
        let design = mac::design(&p, &prov());
        lint(&design);
        let traffic = if done % 2 == 0 { Traffic::BURSTY } else { Traffic::FULL };
        let (report, rows) = check_array(&design, &p, done, 20_000, traffic);
        eprintln!("config {done}: {} ok, {report}, {rows} rows", design.top);
        done += 1;
    }
}

/// Mutate one field of a valid YAML configuration into something invalid.
fn random_invalid_yaml(rng: &mut StdRng) -> String {
    let fields = [
        ("rows", "2"),
        ("cols", "3"),
        ("dot_length", "16"),
        ("activations", "int8"),
        ("weights", "uint4"),
    ];
    let bad_values = [
        "0",
        "-1",
        "257",
        "99999999999999999999",
        "1.5",
        "abc",
        "int1",
        "int17",
        "uint0",
        "''",
        "[1, 2]",
        "{a: 1}",
        "null",
        "true",
        "int",
        "e4m3",
        "2048576",
    ];
    let (victim, _) = fields[rng.random_range(0..fields.len())];
    let mut yaml = String::from("mac_array:\n");
    for (k, v) in fields {
        let v = if k == victim {
            bad_values[rng.random_range(0..bad_values.len())]
        } else {
            v
        };
        yaml.push_str(&format!("  {k}: {v}\n"));
    }
    match rng.random_range(0..6) {
        0 => yaml.push_str("  accumulator:\n    width: 5\n"),
        1 => yaml.push_str("  surprise: 1\n"),
        2 => yaml.push_str("reset: maybe\n"),
        3 => yaml = yaml.replace("  weights", "weights"),
        _ => {}
    }
    yaml
}

#[test]
fn random_invalid_configs_are_rejected_without_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut rejected = 0;
    for _ in 0..2000 {
        let yaml = random_invalid_yaml(&mut rng);
        match accgen::config::parse(&yaml, "random.yaml") {
            Err(e) => {
                assert!(
                    e.message.starts_with("error: random.yaml"),
                    "unlocated error for\n{yaml}\n{e}"
                );
                rejected += 1;
            }
            // Some mutations are harmless (an in-range value); they must then generate.
            Ok(c) => {
                let _ = c.design("test");
            }
        }
    }
    assert!(rejected > 1500, "only {rejected} of 2000 mutations were invalid");
}

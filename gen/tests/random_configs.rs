//! Seeded property tests over the configuration space: random valid
//! configurations are lint-clean and co-simulate bit-exact; random invalid
//! ones are rejected with an error, never a panic.
//!
//! `ACCGEN_SWEEP=N` draws N valid configurations instead of the default.

mod common;

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac::vectors::{ArrayVectors, Traffic};
use accgen_hdl::mac::{self, MacArraySpec, MulImpl, Overflow, params::exact_acc_width};
use accgen_hdl::params::IntFormat;
use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn random_format(rng: &mut StdRng) -> IntFormat {
    IntFormat {
        bits: rng.random_range(2..=16),
        signed: rng.random_bool(0.5),
    }
}

/// A random valid specification: arrays up to 6 x 6 keep builds quick.
fn random_spec(rng: &mut StdRng) -> MacArraySpec {
    let (act, wgt) = (random_format(rng), random_format(rng));
    let k: u64 = match rng.random_range(0..3) {
        0 => rng.random_range(1..=8),
        1 => rng.random_range(9..=300),
        _ => 1 << rng.random_range(0..=20),
    };
    let product = (act.bits + wgt.bits) as u64;
    let exact = exact_acc_width(act, wgt, k as u32) as u64;
    let (acc_width, overflow) = match rng.random_range(0..3) {
        0 => (None, None),
        1 => (
            Some(rng.random_range(product..=exact.min(64))),
            Some(if rng.random_bool(0.5) {
                Overflow::Wrap
            } else {
                Overflow::Saturate
            }),
        ),
        _ => (Some(rng.random_range(exact.min(64)..=64)), None),
    };
    MacArraySpec {
        rows: rng.random_range(1..=6),
        cols: rng.random_range(1..=6),
        dot_length: k,
        activations: act.to_string(),
        weights: wgt.to_string(),
        acc_width,
        overflow,
        multiplier: if rng.random_bool(0.5) {
            MulImpl::Dsp
        } else {
            MulImpl::Lut
        },
        reset: if rng.random_bool(0.5) {
            ResetStyle::SyncHigh
        } else {
            ResetStyle::AsyncLow
        },
    }
}

#[test]
fn random_valid_configs_lint_and_cosimulate() {
    let count: u64 = std::env::var("ACCGEN_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let mut rng = StdRng::seed_from_u64(2026);
    for i in 0..count {
        let spec = random_spec(&mut rng);
        let p = spec
            .validate()
            .unwrap_or_else(|e| panic!("config {i} {spec:?} should be valid: {e}"));
        let design = mac::design(&p, &prov());
        lint(&design);
        let traffic = if i % 2 == 0 { Traffic::BURSTY } else { Traffic::FULL };
        let report = check(&design, || ArrayVectors::new(&design, &p, i, 20_000, traffic));
        assert!(report.compared > 0);
        eprintln!("config {i}: {} ok, {report}", design.top);
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

//! Bad `spiking_core:` configurations: a clear error naming file, line,
//! column, key, value and what is allowed; exit code 2; nothing written.

mod common;

use std::process::Command;

/// `accgen gen` on `yaml`: (exit code, output); the output folder must not be written.
fn run_gen(case: &str, yaml: &str) -> (i32, String) {
    let (code, out, dir) = common::run_gen(&format!("spiking_config_errors/{case}"), "bad.yaml", yaml, &[]);
    assert!(
        !dir.join("out").exists(),
        "{case}: output folder written for a bad configuration"
    );
    (code, out)
}

fn assert_error(case: &str, extra: &str, first_line: &str) {
    let yaml = format!("{BASE}{extra}");
    common::assert_config_error(&format!("spiking_config_errors/{case}"), "bad.yaml", &yaml, first_line);
}

const BASE: &str = "\
spiking_core:
  neurons: 16
  inputs: 8
  units: 4
  preset: snntorch-leaky
";

#[test]
fn the_base_case_generates() {
    let dir = common::scratch("spiking_config_errors/valid");
    std::fs::write(dir.join("ok.yaml"), BASE).expect("write");
    let run = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .current_dir(&dir)
        .args(["gen", "ok.yaml", "-o", "out"])
        .output()
        .expect("run accgen");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn threshold_wider_than_the_membrane() {
    assert_error(
        "threshold",
        "  membrane: {width: 8}\n  threshold: 200\n",
        "error: bad.yaml:7:14: `spiking_core.threshold` = 200 is not allowed: the threshold must be 1..=127 to fit the 8-bit signed membrane (widen `membrane.width`)",
    );
}

#[test]
fn preset_threshold_wider_than_a_narrowed_membrane_points_at_the_preset() {
    assert_error(
        "preset_threshold",
        "  membrane: {width: 8}\n",
        "error: bad.yaml:5:11: `spiking_core.threshold` = 256 is not allowed: the threshold must be 1..=127 to fit the 8-bit signed membrane (widen `membrane.width`)",
    );
}

#[test]
fn decay_shift_wider_than_the_membrane() {
    assert_error(
        "decay_shift",
        "  decay: {shift: 16}\n",
        "error: bad.yaml:6:10: `spiking_core.decay.shift` = 16 is not allowed: a decay shift must be 1..=15 (below the 16-bit width it decays)",
    );
}

#[test]
fn zero_neurons() {
    let (code, stderr) = run_gen("zero", "spiking_core:\n  neurons: 0\n  inputs: 8\n");
    assert_eq!(code, 2);
    assert_eq!(
        stderr.lines().next().unwrap_or(""),
        "error: bad.yaml:2:12: `spiking_core.neurons` = 0 is not allowed: the number of neurons N must be 1..=4096"
    );
}

#[test]
fn units_that_do_not_divide_the_neurons() {
    let (code, stderr) = run_gen("units", "spiking_core:\n  neurons: 10\n  inputs: 8\n  units: 4\n");
    assert_eq!(code, 2);
    assert_eq!(
        stderr.lines().next().unwrap_or(""),
        "error: bad.yaml:4:10: `spiking_core.units` = 4 is not allowed: P must divide N = 10 (each unit serves N/P neurons); divisors up to 64: 1, 2, 5, 10"
    );
}

#[test]
fn synapse_memory_larger_than_the_target() {
    assert_error(
        "memory",
        "  max_synapse_bits: 1000\n",
        "error: bad.yaml:3:11: `spiking_core.inputs` = 8 is not allowed: the synapse memory N_in x N x weight bits = 8 x 16 x 8 = 1024 bits exceeds the target's 1000 bits of block RAM; use fewer inputs, neurons or weight bits",
    );
}

#[test]
fn other_bad_values() {
    assert_error(
        "decay_kind",
        "  decay: fast\n",
        "error: bad.yaml:6:10: `spiking_core.decay` = \"fast\" is not allowed: `none`, `{shift: K}` (v -= v >>> K), `{shift: K, min_decrement: true}` or `{multiply: D}` (v * (4096 - D) / 4096)",
    );
    assert_error(
        "multiply",
        "  decay: {multiply: 5000}\n",
        "error: bad.yaml:6:10: `spiking_core.decay.multiply` = 5000 is not allowed: the decay d of v * (4096 - d) / 4096 must be 0..=4096",
    );
    assert_error(
        "refractory_order",
        "  refractory: 2\n",
        "error: bad.yaml:6:15: `spiking_core.refractory` = 2 is not allowed: a refractory period needs `order: integrate-then-fire` (with reset-from-previous the reset happens a step after the spike)",
    );
    let (code, stderr) = run_gen("preset", "spiking_core:\n  neurons: 4\n  inputs: 8\n  preset: loihi\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: bad.yaml:4:"), "{stderr}");
    assert!(stderr.contains("lava-loihi"), "{stderr}");
}

#[test]
fn bad_next_layers() {
    assert_error(
        "next_inputs",
        "  next_layer:\n    neurons: 4\n    inputs: 8\n",
        "error: bad.yaml:8:13: `spiking_core.next_layer.inputs` = 8 is not allowed: a next layer's inputs are the first layer's 16 neurons (leave it out)",
    );
    assert_error(
        "next_units",
        "  next_layer:\n    neurons: 4\n    units: 3\n",
        "error: bad.yaml:8:12: `spiking_core.next_layer.units` = 3 is not allowed: P must divide N = 4 (each unit serves N/P neurons); divisors up to 64: 1, 2, 4",
    );
    assert_error(
        "third_layer",
        "  next_layer:\n    neurons: 4\n    next_layer:\n      neurons: 2\n",
        "error: bad.yaml:7:5: `spiking_core.next_layer.next_layer` is not allowed: accgen chains two layers at most",
    );
    let (code, stderr) = run_gen("no_inputs", "spiking_core:\n  neurons: 4\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: bad.yaml:2:3: `spiking_core.inputs` is missing"),
        "{stderr}"
    );
}

/// One field of a valid `spiking_core:` section replaced by a bad (or
/// sometimes harmless) value: a located error or a design, never a panic.
#[test]
fn random_invalid_spiking_configs_are_rejected_without_panic() {
    use rand::{RngExt, SeedableRng};
    let fields = [
        ("neurons", "12"),
        ("inputs", "6"),
        ("units", "3"),
        ("preset", "lava-loihi"),
        ("threshold", "640"),
        ("decay", "{multiply: 100}"),
        ("membrane", "{width: 24}"),
        ("accumulator", "{width: 16, overflow: wrap}"),
        ("current", "{width: 24, decay: {shift: 3}}"),
        ("input_shift", "6"),
        ("bias", "-5"),
        ("refractory", "1"),
        ("weights", "{width: 8}"),
        ("next_layer", "{neurons: 4, units: 2}"),
    ];
    let bad_values = [
        "0",
        "-1",
        "33",
        "4097",
        "99999999999999999999",
        "1.5",
        "abc",
        "''",
        "[1, 2]",
        "{a: 1}",
        "null",
        "true",
        "{shift: 0}",
        "{shift: 40}",
        "{multiply: -3}",
        "{multiply: 5000}",
        "{width: 1}",
        "{width: 33}",
        "{width: 8, overflow: wrap}",
        "{neurons: 5, units: 2}",
        "{neurons: 4, inputs: 3}",
        "snntorch-leaky",
        "none",
        "{shift: 2, multiply: 3}",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let mut rejected = 0;
    for _ in 0..2000 {
        let (victim, _) = fields[rng.random_range(0..fields.len())];
        let mut yaml = String::from("spiking_core:\n");
        for (k, v) in fields {
            let v = if k == victim {
                bad_values[rng.random_range(0..bad_values.len())]
            } else {
                v
            };
            yaml.push_str(&format!("  {k}: {v}\n"));
        }
        match accgen::config::parse(&yaml, "random.yaml") {
            Err(e) => {
                assert!(
                    e.message.starts_with("error: random.yaml"),
                    "unlocated error for\n{yaml}\n{e}"
                );
                rejected += 1;
            }
            Ok(c) => {
                let _ = c.design("test");
            }
        }
    }
    assert!(rejected > 1000, "only {rejected} of 2000 mutations were invalid");
}

#[test]
fn pipeline_depth_out_of_range() {
    assert_error(
        "pipeline",
        "  pipeline: 4\n",
        "error: bad.yaml:6:13: `spiking_core.pipeline` = 4 is not allowed: register stages in the neuron update (1: after the decays, 2: also after the membrane sum, 3: also inside the decays) must be 0..=3",
    );
    assert_error(
        "pipeline_negative",
        "  pipeline: -1\n",
        "error: bad.yaml:6:13: `spiking_core.pipeline` = -1 is not allowed: it cannot be negative",
    );
    assert_error(
        "pipeline_next_layer",
        "  next_layer:\n    neurons: 4\n    pipeline: 7\n",
        "error: bad.yaml:8:15: `spiking_core.next_layer.pipeline` = 7 is not allowed: register stages in the neuron update (1: after the decays, 2: also after the membrane sum, 3: also inside the decays) must be 0..=3",
    );
}

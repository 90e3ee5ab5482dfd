//! Bad configurations get a clear error (file, line, column, key, value,
//! what is allowed), exit code 2, no panic, and nothing written.

mod common;

use std::path::Path;
use std::process::Command;

/// `accgen gen` on `yaml`: (exit code, output); the output folder must not be written.
fn run_gen(case: &str, yaml: &str) -> (i32, String) {
    let (code, out, dir) = common::run_gen(&format!("config_errors/{case}"), "bad.yaml", yaml, &[]);
    assert!(
        !dir.join("out").exists(),
        "{case}: output folder written for a bad configuration"
    );
    (code, out)
}

fn assert_error(case: &str, yaml: &str, first_line: &str) {
    common::assert_config_error(&format!("config_errors/{case}"), "bad.yaml", yaml, first_line);
}

const VALID: &str = "\
name: ok
mac_array:
  rows: 2
  cols: 3
  dot_length: 8
  activations: int8
  weights: uint4
";

const FORMATS: &str = "an integer format int2..int16 (signed) or uint2..uint16 (unsigned), a minifloat preset (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz, e4m3, e3m4, e2m3fn, e3m2fn, e2m1fn, fp16, bf16), or a minifloat spelled out as {exponent, mantissa, bias, specials, subnormals}";

#[test]
fn the_valid_base_case_generates() {
    let dir = common::scratch("config_errors/valid");
    std::fs::write(dir.join("ok.yaml"), VALID).expect("write");
    let run = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .current_dir(&dir)
        .args(["gen", "ok.yaml", "-o", "out", "--tb-cycles", "300"])
        .output()
        .expect("run accgen");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(dir.join("out/manifest.json").exists());
}

#[test]
fn pipeline_depth_out_of_range() {
    assert_error(
        "pipeline_depth",
        &format!("{VALID}  pipeline: 4\n"),
        "error: bad.yaml:8:13: `mac_array.pipeline` = 4 is not allowed: register stages between each PE's multiplier and its accumulator must be 0..=3",
    );
    assert_error(
        "pipeline_negative",
        &format!("{VALID}  pipeline: -1\n"),
        "error: bad.yaml:8:13: `mac_array.pipeline` = -1 is not allowed: the PE pipeline depth cannot be negative",
    );
}

#[test]
fn output_pipeline_out_of_range() {
    assert_error(
        "output_pipeline_depth",
        &format!("{VALID}  output: {{ format: fp16, pipeline: 3 }}\n"),
        "error: bad.yaml:8:37: `mac_array.output.pipeline` = 3 is not allowed: register stages inside each output rounder must be 0..=2",
    );
    assert_error(
        "output_pipeline_negative",
        &format!("{VALID}  output: {{ format: fp16, pipeline: -2 }}\n"),
        "error: bad.yaml:8:37: `mac_array.output.pipeline` = -2 is not allowed: the output rounder's pipeline depth cannot be negative",
    );
}

#[test]
fn unknown_key() {
    assert_error(
        "unknown_key",
        &VALID.replace("cols:", "columns:"),
        "error: bad.yaml:4:3: unknown field `columns`, expected one of rows, cols, dot_length, activations, weights, accumulator, multiplier, pipeline, output",
    );
    assert_error(
        "unknown_top_key",
        &format!("{VALID}colour: blue\n"),
        "error: bad.yaml:8:1: unknown field `colour`, expected one of name, reset, mac_array, hash_grid, spiking_core",
    );
}

#[test]
fn wrong_types() {
    assert_error(
        "rows_text",
        &VALID.replace("rows: 2", "rows: two"),
        "error: bad.yaml:3:3: `rows` = two is not allowed: invalid value: string \"two\", expected a whole number",
    );
    assert_error(
        "rows_float",
        &VALID.replace("rows: 2", "rows: 2.5"),
        "error: bad.yaml:3:3: `rows` = 2.5 is not allowed: invalid value: floating point `2.5`, expected a whole number",
    );
    assert_error(
        "reset_variant",
        &format!("reset: sideways\n{VALID}"),
        "error: bad.yaml:1:8: `reset` = sideways is not allowed: unknown variant `sideways`, expected one of sync, async",
    );
    assert_error(
        "multiplier_variant",
        &format!("{VALID}  multiplier: wallace\n"),
        "error: bad.yaml:8:15: `multiplier` = wallace is not allowed: unknown variant `wallace`, expected one of dsp, lut, lut4, booth, booth_tree",
    );
}

#[test]
fn out_of_range_widths() {
    for (case, fmt, col) in [
        ("int0", "int0", 16),
        ("int1", "int1", 16),
        ("int65", "int65", 16),
        ("uint17", "uint17", 16),
    ] {
        assert_error(
            case,
            &VALID.replace("activations: int8", &format!("activations: {fmt}")),
            &format!("error: bad.yaml:6:{col}: `mac_array.activations` = `{fmt}` is not allowed: {FORMATS}"),
        );
    }
    assert_error(
        "weights_float",
        &VALID.replace("weights: uint4", "weights: float8"),
        &format!("error: bad.yaml:7:12: `mac_array.weights` = `float8` is not allowed: {FORMATS}"),
    );
}

#[test]
fn empty_or_negative_dimensions() {
    assert_error(
        "rows0",
        &VALID.replace("rows: 2", "rows: 0"),
        "error: bad.yaml:3:9: `mac_array.rows` = 0 is not allowed: the number of PE rows must be 1..=256",
    );
    assert_error(
        "cols_neg",
        &VALID.replace("cols: 3", "cols: -3"),
        "error: bad.yaml:4:9: `mac_array.cols` = -3 is not allowed: the number of PE columns cannot be negative",
    );
    assert_error(
        "k0",
        &VALID.replace("dot_length: 8", "dot_length: 0"),
        "error: bad.yaml:5:15: `mac_array.dot_length` = 0 is not allowed: the dot-product length K must be 1..=1048576",
    );
}

#[test]
fn accumulator_too_narrow() {
    let narrow = format!("{VALID}  accumulator:\n    width: 13\n");
    assert_error(
        "acc_narrow",
        &narrow,
        "error: bad.yaml:9:12: `mac_array.accumulator.width` = 13 is not allowed: 13 bits can overflow when summing K = 8 products of int8 x uint4 (exact width: 15); set `accumulator.overflow: wrap` or `saturate`, or widen it to 15",
    );
    assert_error(
        "acc_below_product",
        &format!("{VALID}  accumulator:\n    width: 11\n    overflow: wrap\n"),
        "error: bad.yaml:9:12: `mac_array.accumulator.width` = 11 is not allowed: the accumulator width (at least the 12-bit exact product of int8 x uint4) must be 12..=1024",
    );
    // With an overflow choice, the narrow accumulator is fine.
    let ok = accgen::config::parse(&format!("{narrow}    overflow: saturate\n"), "ok.yaml");
    assert!(ok.is_ok(), "{:?}", ok.err());
}

#[test]
fn missing_pieces() {
    let (code, stderr) = run_gen("missing_field", &VALID.replace("  weights: uint4\n", ""));
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: bad.yaml:") && stderr.contains("missing field `weights`"),
        "{stderr}"
    );
    let (code, stderr) = run_gen("no_block", "name: nothing\n");
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "error: bad.yaml: no block to generate: add a `mac_array:`, `hash_grid:` or `spiking_core:` section (see examples/int8_4x4.yaml, examples/hashgrid_image_2d.yaml, examples/snn_snntorch_256.yaml)"
    );
    let (code, stderr) = run_gen("not_yaml", "mac_array: [\n");
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: bad.yaml:1:12:"), "{stderr}");
    let (code, stderr) = run_gen("bad_name", &VALID.replace("name: ok", "name: \"a b\""));
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: bad.yaml:1:7: `name` = \"a b\" is not allowed"),
        "{stderr}"
    );
}

#[test]
fn missing_file_is_an_input_error() {
    let dir = common::scratch("config_errors/missing_file");
    let run = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .current_dir(&dir)
        .args(["gen", "nope.yaml", "-o", "out"])
        .output()
        .expect("run accgen");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).starts_with("error: cannot read configuration nope.yaml"));
    assert!(!Path::new(&dir.join("out")).exists());
}

fn float_weights(fields: &str) -> String {
    VALID.replace("weights: uint4", &format!("weights: {{{fields}}}"))
}

#[test]
fn impossible_minifloats() {
    assert_error(
        "e0",
        &float_weights("exponent: 0, mantissa: 3, specials: finite"),
        "error: bad.yaml:7:12: `mac_array.weights.exponent` = 0 is not allowed: exponent bits must be 1..=8",
    );
    assert_error(
        "m11",
        &float_weights("exponent: 4, mantissa: 11, specials: ieee"),
        "error: bad.yaml:7:12: `mac_array.weights.mantissa` = 11 is not allowed: mantissa bits must be 0..=10",
    );
    assert_error(
        "fn_m0",
        &float_weights("exponent: 4, mantissa: 0, specials: fn"),
        "error: bad.yaml:7:12: `mac_array.weights.specials` = fn is not allowed: with M = 0 the fn NaN code would be the only code of the top exponent: use M >= 1, or ieee or finite",
    );
    assert_error(
        "ieee_e1",
        &float_weights("exponent: 1, mantissa: 2, specials: ieee"),
        "error: bad.yaml:7:12: `mac_array.weights.specials` = ieee is not allowed: with E = 1 the ieee mode reserves every normal exponent for inf/NaN: use E >= 2 or fn, fnuz, finite",
    );
    assert_error(
        "bias",
        &float_weights("exponent: 4, mantissa: 3, bias: 99, specials: fn"),
        "error: bad.yaml:7:12: `mac_array.weights.bias` = 99 is not allowed: the bias must be -32..=32",
    );
    assert_error(
        "specials_variant",
        &float_weights("exponent: 4, mantissa: 3, specials: nan"),
        "error: bad.yaml:7:49: `weights` = {exponent: 4, mantissa: 3, specials: nan} is not allowed: unknown variant `nan`, expected one of ieee, fn, fnuz, finite",
    );
    assert_error(
        "output_without_nan",
        &format!(
            "{}  output:\n    format: e2m1fn\n",
            VALID.replace("weights: uint4", "weights: e4m3fn")
        ),
        "error: bad.yaml:9:13: `mac_array.output.format` = e2m1fn is not allowed: int8 x e4m3fn sums can be NaN, which e2m1fn cannot represent: choose an output format with NaN",
    );
    assert_error(
        "output_unknown",
        &format!("{VALID}  output:\n    format: int8\n"),
        "error: bad.yaml:9:13: `mac_array.output.format` = `int8` is not allowed: a float format to round results to: e4m3fn, e4m3fnuz, e5m2, e5m2fnuz, e4m3, e3m4, e2m3fn, e3m2fn, e2m1fn, fp16, bf16, fp32 or one spelled out",
    );
    // Spelled out, a minifloat is fine, and so is rounding to fp16.
    let ok = accgen::config::parse(
        &format!(
            "{}  output:\n    format: fp16\n",
            float_weights("exponent: 3, mantissa: 2, specials: fnuz, subnormals: false")
        ),
        "ok.yaml",
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
}

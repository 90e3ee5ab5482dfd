//! The accuracy workload: training, post-training quantization through the
//! golden model, and the first layer on the generated MAC array.

use accgen::Failure;
use accgen::accuracy::config::{self, Role};
use accgen::accuracy::hardware::{self, HardwareOptions, HardwareReport};
use accgen::accuracy::mlp::{self, TrainOptions};
use accgen::accuracy::quant::{Calibration, QFormat, QuantMlp};
use accgen::accuracy::{Workload, digits};
use accgen_hdl::mac::operand::Operand;
use std::process::Command;
use std::sync::OnceLock;

fn ok<T>(r: Result<T, Failure>) -> T {
    match r {
        Ok(v) => v,
        Err(Failure::Input(m) | Failure::Run(m)) => panic!("{m}"),
    }
}

/// The network trained from seed 1, shared by the tests of this file.
fn work() -> &'static Workload {
    static WORK: OnceLock<Workload> = OnceLock::new();
    WORK.get_or_init(|| ok(Workload::prepare(1, Calibration::Max)))
}

fn w(name: &str) -> QFormat {
    config::parse_format("test", Role::Weights, name).unwrap()
}

fn a(name: &str) -> QFormat {
    config::parse_format("test", Role::Activations, name).unwrap()
}

fn quantize(wf: &str, af: &str) -> QuantMlp {
    ok(work().quantize(&w(wf), &a(af)))
}

#[test]
fn training_is_deterministic_and_accurate() {
    let split = digits::split(&digits::load().unwrap());
    let first = mlp::train(&split.train, &TrainOptions::default());
    let again = mlp::train(&split.train, &TrainOptions::default());
    assert_eq!(first, again, "the same seed must give bit-identical weights");
    assert_eq!(first.accuracy(&split.test), work().float_accuracy);
    let other = mlp::train(
        &split.train,
        &TrainOptions {
            seed: 2,
            ..TrainOptions::default()
        },
    );
    assert_ne!(first.hidden.weights, other.hidden.weights);
    for net in [&first, &other] {
        let acc = net.accuracy(&split.test);
        assert!(acc > 0.95, "float test accuracy {acc}");
    }
}

#[test]
fn ptq_accuracy_and_sqnr_order_as_the_formats_do() {
    let work = work();
    let names = ["int2", "int4", "int8", "e2m1fn", "e4m3fn"];
    let (ws, acts): (Vec<QFormat>, Vec<QFormat>) = (names.map(w).into(), names.map(a).into());
    let table = ok(work.table(&ws, &acts, 2));
    assert_eq!(table.len(), 25);
    let get = |wf: &str, af: &str| {
        let i =
            names.iter().position(|n| *n == wf).unwrap() * names.len() + names.iter().position(|n| *n == af).unwrap();
        let r = &table[i];
        assert_eq!((r.weights.as_str(), r.activations.as_str()), (wf, af), "table order");
        assert_eq!(r.total, work.split.test.len());
        r
    };
    let float = work.float_accuracy;
    for (wf, af) in [("int8", "int8"), ("e4m3fn", "e4m3fn")] {
        let r = get(wf, af);
        assert!(
            (r.accuracy() - float).abs() <= 0.02,
            "{wf} x {af}: {} vs float {float}",
            r.accuracy()
        );
        assert!(r.sqnr_logits_db > 25.0, "{wf} x {af}: {} dB", r.sqnr_logits_db);
    }
    // Two-bit integers are ternary weights and binary activations.
    assert!(get("int2", "int2").accuracy() < float - 0.3);
    assert!(get("int2", "int8").accuracy() < float - 0.1);
    assert!(get("int8", "int2").accuracy() < float - 0.1);
    // About 6 dB a bit: each halving of the integer width costs well over 6 dB.
    let sqnr = |wf, af| get(wf, af).sqnr_logits_db;
    assert!(sqnr("int8", "int8") > sqnr("int4", "int4") + 12.0);
    assert!(sqnr("int4", "int4") > sqnr("int2", "int2") + 6.0);
    // FP4 keeps this easy task's accuracy within a few points, but its
    // outputs are far noisier than FP8's.
    assert!(sqnr("e4m3fn", "e4m3fn") > sqnr("e2m1fn", "e2m1fn") + 6.0);
    assert!(get("e4m3fn", "e4m3fn").sqnr_hidden_db > get("e2m1fn", "e2m1fn").sqnr_hidden_db + 6.0);
    assert!(get("e2m1fn", "e2m1fn").accuracy() <= float + 0.01);
}

#[test]
fn int8_layer_equals_exact_integer_arithmetic() {
    let q = quantize("int8", "int8");
    let l = &q.hidden;
    let int = |f: &QFormat| match f.operand {
        Operand::Int(i) => i,
        _ => unreachable!(),
    };
    let (wi, ai) = (int(&l.weights), int(&l.activations));
    // Weights: each channel's largest magnitude lands on +-127, and the
    // asymmetric code -128 is never used.
    for c in 0..l.outputs {
        let values: Vec<i64> = l.channel_codes(c).iter().map(|&code| wi.decode(code)).collect();
        assert_eq!(values.iter().map(|v| v.abs()).max(), Some(127), "channel {c}");
        assert!(values.iter().all(|&v| v >= -127));
    }
    let test = &work().split.test;
    for i in [0, 1, test.len() - 1] {
        let x = test.image(i);
        let codes = l.quantize_input(x);
        for (xi, &code) in x.iter().zip(&codes) {
            let expect = (xi / l.act_scale).round_ties_even().clamp(-127.0, 127.0) as i64;
            assert_eq!(ai.decode(code), expect);
        }
        let sums = l.accumulate(&codes);
        let y = l.dequantize(&sums);
        for c in 0..l.outputs {
            let exact: i64 = codes
                .iter()
                .zip(l.channel_codes(c))
                .map(|(&a, &w)| ai.decode(a) * wi.decode(w))
                .sum();
            assert_eq!(sums[c].to_f64(&l.params), exact as f64, "image {i} channel {c}");
            assert_eq!(y[c], exact as f64 * l.act_scale * l.weight_scales[c] + l.bias[c]);
        }
    }
}

#[test]
fn e4m3fn_layers_equal_exact_f64_sums_of_decoded_codes() {
    let q = quantize("e4m3fn", "e4m3fn");
    let float = |f: &QFormat| match f.operand {
        Operand::Float(x) => x,
        _ => unreachable!(),
    };
    let test = &work().split.test;
    for l in [&q.hidden, &q.output] {
        let (wf, af) = (float(&l.weights), float(&l.activations));
        if std::ptr::eq(l, &q.hidden) {
            // Pixels 16/16 and 8/16 at a scale of 1/448: 448 (max, 0x7e) and 224 (0x76).
            assert_eq!(l.quantize_input(&[1.0, 0.5]), vec![0x7e, 0x76]);
        }
        for i in [0, 7] {
            let x = if std::ptr::eq(l, &q.hidden) {
                test.image(i).to_vec()
            } else {
                mlp::relu(&q.forward(test.image(i)).hidden_pre)
            };
            let codes = l.quantize_input(&x);
            let sums = l.accumulate(&codes);
            for (c, sum) in sums.iter().enumerate() {
                // Every e4m3fn x e4m3fn product is a multiple of 2^-18 below
                // 2^18, so a sum of up to 64 of them has at most 42
                // significant bits: exact in f64, whatever the order.
                let exact: f64 = codes
                    .iter()
                    .zip(l.channel_codes(c))
                    .map(|(&a, &w)| af.to_f64(a) * wf.to_f64(w))
                    .sum();
                assert_eq!(sum.to_f64(&l.params), exact, "image {i} channel {c}");
                assert_eq!(sum.special(), 0);
            }
        }
    }
}

#[test]
fn percentile_calibration_clips_the_hidden_range() {
    let work = work();
    let p = ok(Workload::prepare(1, Calibration::Percentile(99.0)));
    assert_eq!(p.float_accuracy, work.float_accuracy);
    assert!(
        p.ranges.hidden < work.ranges.hidden,
        "{:?} vs {:?}",
        p.ranges,
        work.ranges
    );
}

fn check_hardware(wf: &str, af: &str) -> HardwareReport {
    let q = quantize(wf, af);
    let test = &work().split.test;
    let h = ok(hardware::check_first_layer(&q, test, &HardwareOptions::default()));
    let rows = test.len().div_ceil(4) as u64 * 4;
    assert!(h.images >= 50 && h.images == test.len());
    assert_eq!((h.rows, h.cols), (4, 32));
    assert_eq!(h.result_rows, rows);
    assert_eq!(h.results, rows * 32);
    // Every post-reset cycle compares in_ready_o and out_valid_o; every
    // valid output cycle compares the result ports (data, last, special).
    assert_eq!(h.compared, h.handshakes + h.data_values);
    let ports = if h.weights.starts_with('e') { 3 } else { 2 };
    assert!(h.data_values >= rows * ports, "{h:?}");
    assert_eq!(h.handshakes, 2 * (h.cycles - 2));
    h
}

#[test]
fn first_layer_on_the_int8_array_is_bit_exact() {
    check_hardware("int8", "int8");
}

#[test]
fn first_layer_on_the_e4m3fn_array_is_bit_exact() {
    check_hardware("e4m3fn", "e4m3fn");
}

#[test]
fn a_broken_array_fails_the_hardware_check() {
    let q = quantize("int8", "int8");
    let mut design = hardware::design(&ok(hardware::array_params(&q, 4)));
    // Flip the first addition of the PE (its accumulation) into a subtraction.
    let pe = design
        .files
        .iter_mut()
        .find(|f| f.module.contains("_pe_"))
        .expect("the array has a PE module");
    let line = pe
        .text
        .lines()
        .find(|l| l.trim_start().starts_with("assign ") && l.contains(" + "))
        .expect("the PE adds")
        .to_string();
    pe.text = pe.text.replace(&line, &line.replacen(" + ", " - ", 1));
    let o = HardwareOptions {
        images: 8,
        ..HardwareOptions::default()
    };
    match hardware::check_design(&design, &q, &work().split.test, &o) {
        Err(Failure::Run(m)) => assert!(m.contains("mismatch") || m.contains("Mismatch"), "{m}"),
        Err(Failure::Input(m)) => panic!("unexpected input error: {m}"),
        Ok(h) => panic!("a subtracting PE passed: {h:?}"),
    }
    let none = HardwareOptions {
        images: 0,
        ..HardwareOptions::default()
    };
    assert!(matches!(
        hardware::check_first_layer(&q, &work().split.test, &none),
        Err(Failure::Input(_))
    ));
}

fn accgen(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .args(args)
        .output()
        .expect("run accgen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_runs_a_config_and_writes_csv_and_json() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("accuracy_cli");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("ptq.yaml");
    std::fs::write(
        &cfg,
        "accuracy:\n  weights: [int8, e3m3b3finite]\n  activations: [uint8, {exponent: 4, mantissa: 3, specials: fn}]\n  seed: 1\n",
    )
    .unwrap();
    let out = dir.join("report");
    let (code, stdout, stderr) = accgen(&["accuracy", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("float test accuracy") && stdout.contains("e3m3b3finite"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("digits_ptq.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    assert!(csv.contains("\ne3m3b3finite,e4m3fn,355,"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("digits_ptq.json")).unwrap()).unwrap();
    assert_eq!(json["results"].as_array().map(Vec::len), Some(4));
    assert_eq!(json["float_accuracy"].as_f64(), Some(work().float_accuracy));
}

#[test]
fn bad_formats_are_input_errors_naming_the_value() {
    let (code, _, stderr) = accgen(&["accuracy", "--weights", "int8,int9x"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`--weights` = `int9x` is not allowed") && stderr.contains("e4m3fn"),
        "{stderr}"
    );
    let (code, _, stderr) = accgen(&["accuracy", "--weights", "uint8"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("signed"), "{stderr}");

    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("accuracy_errors");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("bad.yaml");
    std::fs::write(
        &cfg,
        "accuracy:\n  weights: [int8, e4m3fn]\n  activations: [int8, e9m3ieee]\n",
    )
    .unwrap();
    let (code, _, stderr) = accgen(&["accuracy", cfg.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bad.yaml:3:")
            && stderr.contains("accuracy.activations[1].exponent")
            && stderr.contains("1..=8"),
        "{stderr}"
    );
    std::fs::write(&cfg, "mac_array:\n  rows: 1\n").unwrap();
    let (code, _, stderr) = accgen(&["accuracy", cfg.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
}

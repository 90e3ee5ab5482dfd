//! `accgen explore`: sweeps expand to the right points, every point gets a
//! cost and an accuracy, fronts hold exactly the non-dominated points, the
//! report is written whole, bad sweeps are located input errors, and a
//! failing point is recorded while the others are kept.

mod common;

use accgen::explore::metric::Metric;
use accgen::explore::sweep::{self, DEFAULT_SWEEP, DEFAULT_SWEEP_NAME};
use accgen::explore::{self, Kind, Options, Results, Row, report};
use accgen::synth::{SynthOptions, Target};
use std::process::Command;
use std::time::Duration;

fn options(synthesize: bool) -> Options {
    Options {
        synthesize,
        threads: 2,
        synth: SynthOptions {
            threads: 2,
            ..SynthOptions::default()
        },
        seed: 1,
        progress: false,
        flow_dir: common::scratch("explore/flows"),
    }
}

fn run(text: &str, opts: &Options) -> Results {
    let s = sweep::parse(text, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    explore::evaluate(&s, opts).unwrap_or_else(|_| panic!("evaluate failed"))
}

/// Brute force: no candidate is at least as good everywhere and better
/// somewhere than a front point, and every non-front candidate has one.
fn check_front(rows: &[Row], f: &explore::Front) {
    let v = |r: usize| -> Vec<f64> {
        f.metrics
            .iter()
            .map(|&m| {
                let x = rows[r].metric(m).expect("candidate has every metric");
                if m.maximize() { -x } else { x }
            })
            .collect()
    };
    let dominated = |r: usize| {
        f.candidates.iter().any(|&q| {
            let (a, b) = (v(q), v(r));
            a.iter().zip(&b).all(|(x, y)| x <= y) && a != b
        })
    };
    assert!(
        !f.rows.is_empty(),
        "an empty front over {} candidates",
        f.candidates.len()
    );
    for &c in &f.candidates {
        assert_eq!(
            f.rows.contains(&c),
            !dominated(c),
            "row {c} ({}) on {} front membership",
            rows[c].label,
            f.target.name()
        );
    }
}

#[test]
fn the_default_sweep_answers_integer_or_minifloat() {
    let results = run(DEFAULT_SWEEP, &options(false));
    let s = &results.sweep;
    // One study per block family.
    assert_eq!(s.studies.len(), 3);
    assert_eq!(s.points(), 10 * 6 * 2 + 3 * 3 * 2 + 4 * 4 * 2);
    assert_eq!(results.rows.len(), s.points() * Target::ALL.len());
    for r in &results.rows {
        assert!(
            r.errors.is_empty(),
            "{} on {}: {:?}",
            r.label,
            r.target.name(),
            r.errors
        );
        let e = r.model.expect("every row has an estimate");
        match r.study.as_str() {
            "digits_mac" => {
                assert!(e.ffs > 0.0);
                let acc = r.accuracy.expect("every MAC row has an accuracy");
                assert!((0.5..=1.0).contains(&acc), "{}: accuracy {acc}", r.label);
            }
            "hashgrid_fixed_point" => {
                // The calibrated model on every target; fidelity to tiny-cuda-nn as SQNR.
                assert_eq!(r.metric(Metric::Bram).is_some(), r.target != Target::Asic);
                assert_eq!(
                    r.metric(Metric::Luts).is_some(),
                    r.target != Target::Asic,
                    "hash grids have a LUT model"
                );
                assert!(r.notes.is_empty(), "{}: {:?}", r.label, r.notes);
                assert!(r.sqnr_db.expect("SQNR") > 20.0, "{}", r.label);
            }
            "spiking_digits" => {
                let acc = r.accuracy.expect("every spiking row has an accuracy");
                assert!(r.settings[0].0 == "steps", "time steps are a workload axis");
                assert!((0.5..=1.0).contains(&acc), "{}: accuracy {acc}", r.label);
                assert_eq!(
                    r.metric(Metric::Luts).is_some(),
                    r.target != Target::Asic,
                    "spiking cores have a LUT model"
                );
                assert!(r.notes.is_empty(), "{}: {:?}", r.label, r.notes);
            }
            other => panic!("unexpected study {other}"),
        }
    }
    // More time steps carry more bits of activation (Shen et al.).
    let spiking = |label: &str| {
        results
            .rows
            .iter()
            .find(|r| r.study == "spiking_digits" && r.label == label)
            .and_then(|r| r.accuracy)
            .unwrap_or(f64::NAN)
    };
    assert!(
        spiking("steps=32 weights.width=8 membrane.width=16")
            > spiking("steps=4 weights.width=8 membrane.width=16") + 0.05
    );
    // Finer interpolation weights are closer to the reference.
    let sqnr = |label: &str| {
        results
            .rows
            .iter()
            .find(|r| r.study == "hashgrid_fixed_point" && r.label == label)
            .and_then(|r| r.sqnr_db)
            .unwrap_or(f64::NAN)
    };
    assert!(
        sqnr("table=fp16 weight_frac_bits=12 log2_table_size=12")
            > sqnr("table=fp16 weight_frac_bits=6 log2_table_size=12") + 6.0
    );
    // Accuracy depends on the formats only; cost also on the multiplier.
    let acc = |w: &str, a: &str| {
        let r = results
            .rows
            .iter()
            .find(|r| r.settings.iter().any(|s| s == &("weights".into(), w.into())) && r.settings[1].1 == a)
            .expect("point");
        r.accuracy.unwrap_or(0.0)
    };
    assert!(acc("int8", "uint8") > acc("int3", "uint4"));
    assert!(acc("int8", "uint8") > 0.95, "int8 x uint8 is near float accuracy");
    // MAC fronts: (luts, accuracy) on the six FPGA targets, (area, accuracy)
    // on asic, (luts, dsp, accuracy) on the six FPGA targets; hash grid:
    // (luts, quality) and (bram, quality) on the six FPGA targets and
    // (area, quality) on asic; spiking: (bram, accuracy) on the six FPGA
    // targets, (luts, accuracy) on them and (area, accuracy) on asic.
    assert_eq!(results.fronts.len(), 6 + 1 + 6 + 13 + 6 + 7);
    for f in &results.fronts {
        check_front(&results.rows, f);
    }
    let md = report::markdown(&results, false);
    assert!(md.contains("### Integer or minifloat?"), "{md}");
    assert!(md.contains("Are integers Pareto-optimal on xc7?"), "{md}");
    // The answer names designs of both kinds.
    let table = report::integer_or_minifloat(&results);
    assert!(
        table.contains("int4 x uint4") && table.contains("e2m1fn x e2m1fn"),
        "{table}"
    );
    assert!(results.rows.iter().any(|r| r.kind == Some(Kind::Minifloat)));
}

#[test]
fn the_report_is_written_whole_and_stale_plots_go() {
    let results = run(DEFAULT_SWEEP, &options(false));
    let dir = common::scratch("explore/report");
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).expect("mkdir");
    std::fs::write(plots.join("old_study_xc7_luts-accuracy.svg"), "stale").expect("write");
    let written = report::write(&results, &dir).expect("write report");
    assert!(
        !plots.join("old_study_xc7_luts-accuracy.svg").exists(),
        "stale plot kept"
    );
    // 7 + 13 + 6 + 7 two-metric fronts, SVG and PNG each, and 4 reports.
    assert_eq!(written.len(), 33 * 2 + 4);
    let svg = std::fs::read_to_string(plots.join("digits_mac_ice40_luts-accuracy.svg")).expect("svg");
    // Front points are labelled weights/activations/multiplier (which
    // points are on the front depends on the calibrated cost model).
    let labelled = svg
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '/'))
        .any(|w| matches!(w.split('/').collect::<Vec<_>>()[..], [_, _, "dsp" | "lut" | "lut4"]));
    assert!(
        svg.starts_with("<svg") && svg.contains("Pareto front") && labelled,
        "{svg}"
    );
    let png = std::fs::read(plots.join("digits_mac_asic_area-accuracy.png")).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a blank PNG is small");
    let csv = std::fs::read_to_string(dir.join("results.csv")).expect("csv");
    assert_eq!(csv.lines().count(), results.rows.len() + 1);
    assert!(csv.lines().nth(1).expect("row").starts_with("digits_mac,1,"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).expect("json")).expect("parse");
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(results.rows.len()));
    assert_eq!(json["rows"][0]["settings"]["weights"], "int3");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    assert_eq!(html.matches("<svg").count(), 33, "every plot inline");
    assert!(html.contains("<table>") && html.ends_with("</html>\n"));
    // Nothing left staged.
    for entry in std::fs::read_dir(&plots).expect("ls").flatten() {
        assert!(
            !entry.file_name().to_string_lossy().starts_with('.'),
            "{:?}",
            entry.path()
        );
    }
    // The same sweep writes the same bytes.
    let again = common::scratch("explore/report_again");
    report::write(&run(DEFAULT_SWEEP, &options(false)), &again).expect("write report");
    for name in [
        "results.csv",
        "results.json",
        "report.md",
        "report.html",
        "plots/digits_mac_xc7_luts-accuracy.svg",
    ] {
        assert_eq!(
            std::fs::read(dir.join(name)).expect("first"),
            std::fs::read(again.join(name)).expect("second"),
            "{name} differs between runs"
        );
    }
}

const SMALL: &str = "\
name: small
targets: [ice40, asic]
fronts:
  - [luts, accuracy]
  - [area, accuracy]
studies:
  - name: tiny
    mac_array: { rows: 2, cols: 2, dot_length: 4, activations: uint4, weights: int4 }
    vary:
      weights: [int4, e2m1fn]
";

#[test]
fn synthesis_in_the_loop_is_cached_and_failures_are_kept() {
    let cache = common::scratch("explore/synth_cache");
    let mut opts = options(true);
    opts.synth.cache_dir = Some(cache.clone());
    let cold = run(SMALL, &opts);
    assert_eq!(cold.stats.synth_jobs, 4);
    assert_eq!(cold.stats.synth_failed, 0);
    for r in &cold.rows {
        let s = r
            .synth
            .as_ref()
            .unwrap_or_else(|| panic!("{}: {:?}", r.label, r.errors));
        assert!(s.ffs > 0);
        // Synthesized figures win over the model's.
        match r.target {
            Target::Asic => assert_eq!(r.metric(Metric::Area), s.area_um2),
            _ => assert_eq!(r.metric(Metric::Luts), Some(s.luts as f64)),
        }
    }
    let warm = run(SMALL, &opts);
    assert_eq!((warm.stats.synth_cached, warm.stats.synthesized), (4, 0));

    // A run that times out is recorded on its rows; costs from the model,
    // accuracy and the other rows stay.
    let mut slow = options(true);
    slow.synth.cache_dir = None;
    slow.synth.timeout = Duration::from_millis(1);
    let timed_out = run(SMALL, &slow);
    assert_eq!(timed_out.stats.synth_failed, 4);
    for r in &timed_out.rows {
        assert!(r.synth.is_none());
        assert!(r.errors.iter().any(|e| e.starts_with("synthesis:")), "{:?}", r.errors);
        assert!(r.model.is_some() && r.accuracy.is_some());
        // The stopped runs keep their files for the user; the test removes them.
        for e in &r.errors {
            if let Some((_, dir)) = e.split_once("its files are in ") {
                let _ = std::fs::remove_dir_all(dir.trim());
            }
        }
    }
    // Missing tools say which and how to install.
    let mut missing = options(true);
    missing.synth.yosys = "/nonexistent/yosys".into();
    let none = run(SMALL, &missing);
    assert!(
        none.rows[0].errors[0].contains("apt-get install yosys"),
        "{:?}",
        none.rows[0].errors
    );
    assert!(none.rows.iter().all(|r| r.accuracy.is_some()));
}

#[test]
fn a_point_that_fails_its_workload_is_recorded_and_the_rest_kept() {
    // Unsigned weights make a valid array but the classifier needs signed weights.
    let text = SMALL.replace("[int4, e2m1fn]", "[int4, uint4]");
    let results = run(&text, &options(false));
    let bad: Vec<&Row> = results.rows.iter().filter(|r| !r.errors.is_empty()).collect();
    assert_eq!(bad.len(), 2, "uint4 on both targets");
    assert!(bad.iter().all(|r| r.label == "weights=uint4" && r.model.is_some()));
    assert!(bad[0].errors[0].contains("signed"), "{:?}", bad[0].errors);
    assert!(
        results
            .rows
            .iter()
            .filter(|r| r.label == "weights=int4")
            .all(|r| r.accuracy.is_some())
    );
    // The CLI writes the report and exits 1, naming the failure.
    let dir = common::scratch("explore/cli_failing_point");
    std::fs::write(dir.join("s.yaml"), &text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .current_dir(&dir)
        .args(["explore", "s.yaml", "-o", "out"])
        .output()
        .expect("run accgen");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 of 4 (point, target) rows had errors"), "{stderr}");
    assert!(dir.join("out/report.md").exists() && dir.join("out/results.csv").exists());
}

fn error_of(text: &str) -> String {
    match sweep::parse(text, "s.yaml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn bad_sweeps_are_located_input_errors() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("no studies", "studies: []\n", &["s.yaml:1:", "a sweep with no points"]),
        (
            "axis the block does not have",
            "studies:\n  - name: a\n    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}\n    vary:\n      levels: [1, 2]\n",
            &[
                "s.yaml:5:",
                "`vary.levels` is not a parameter of mac_array",
                "weights, multiplier",
            ],
        ),
        (
            "axis with no values",
            "studies:\n  - name: a\n    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}\n    vary:\n      rows: []\n",
            &["s.yaml:5:", "`vary.rows` has no values"],
        ),
        (
            "a value bad on its own",
            "studies:\n  - name: a\n    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}\n    vary:\n      weights: [int8,\n                int17]\n",
            &[
                "s.yaml:6:17:",
                "`vary.weights` = int17: ",
                "is not allowed",
                "int2..int16",
            ],
        ),
        (
            "bad base design",
            "studies:\n  - name: a\n    mac_array: {rows: 0, cols: 1, dot_length: 1, activations: int8, weights: int8}\n",
            &["s.yaml:3:", "the base design is not valid", "mac_array.rows"],
        ),
        (
            "no block section",
            "studies:\n  - name: a\n    vary: {}\n",
            &["s.yaml:2:", "has no block section", "`mac_array:`, `hash_grid:`"],
        ),
        (
            "unknown target",
            "targets: [xc7, virtex2]\nstudies: []\n",
            &["s.yaml:1:16:", "virtex2", "xc7-nodsp"],
        ),
        (
            "unknown metric",
            "fronts:\n  - [luts, speed]\nstudies: []\n",
            &["s.yaml:2:12:", "`speed` is not a metric", "accuracy"],
        ),
        (
            "front of one metric",
            "fronts:\n  - [luts]\nstudies: []\n",
            &["s.yaml:2:", "a front has 2 or 3 metrics"],
        ),
        ("unknown key", "studies: []\nsweep: 1\n", &["s.yaml:2:", "sweep"]),
        (
            "too many points",
            "studies:\n  - name: a\n    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}\n    vary:\n      rows: [1,2,3,4,5,6,7,8,9,10,11]\n      cols: [1,2,3,4,5,6,7,8,9,10]\n      dot_length: [1,2,3,4,5,6,7,8,9,10]\n      accumulator.width: [20,21,22,23,24,25,26,27,28,29]\n      weights: [int2,int3,int4,int5,int6,int7,int8,int9,int10,int11]\n",
            &["s.yaml:2:", "more than 100000 points"],
        ),
        (
            "spiking workload steps out of range",
            "studies:\n  - name: a\n    spiking_core: {neurons: 4, inputs: 4, preset: if, threshold: 8}\n    vary:\n      steps: [16, 0]\n",
            &["s.yaml:5:", "`vary.steps` = 0 is not allowed", "1..=1024"],
        ),
        (
            "duplicate study names",
            "studies:\n  - name: a\n    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}\n  - name: a\n    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}\n",
            &["s.yaml:4:", "used twice"],
        ),
    ];
    for (case, text, wanted) in cases {
        let e = error_of(text);
        assert!(e.starts_with("error: s.yaml:"), "{case}: {e}");
        for w in *wanted {
            assert!(e.contains(w), "{case}: `{w}` not in:\n{e}");
        }
    }
}

#[test]
fn the_cli_rejects_a_bad_sweep_with_exit_2_and_writes_nothing() {
    let dir = common::scratch("explore/cli_bad");
    std::fs::write(dir.join("s.yaml"), "studies: []\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .current_dir(&dir)
        .args(["explore", "s.yaml", "-o", "out"])
        .output()
        .expect("run accgen");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: s.yaml:1:"));
    assert!(!dir.join("out").exists());
}

#[test]
fn points_follow_the_axes_in_file_order() {
    let text = "\
studies:
  - name: a
    mac_array: {rows: 1, cols: 1, dot_length: 1, activations: int8, weights: int8}
    vary:
      weights: [int4, int6]
      accumulator.width: [16, 30]
      reset: [sync, async]
";
    let s = sweep::parse(text, "s.yaml").expect("valid");
    let labels: Vec<String> = s.studies[0].points.iter().map(|p| p.label()).collect();
    assert_eq!(labels.len(), 8);
    assert_eq!(labels[0], "weights=int4 accumulator.width=16 reset=sync");
    assert_eq!(labels[1], "weights=int4 accumulator.width=16 reset=async");
    assert_eq!(labels[7], "weights=int6 accumulator.width=30 reset=async");
    let c = s.studies[0].points[7].config.as_ref().expect("valid point");
    let accgen::config::Block::MacArray(p) = &c.block else {
        panic!("a MAC array point")
    };
    assert_eq!((p.acc_width, p.wgt.to_string().as_str()), (30, "int6"));
    // The embedded default parses.
    assert!(sweep::parse(DEFAULT_SWEEP, DEFAULT_SWEEP_NAME).is_ok());
}

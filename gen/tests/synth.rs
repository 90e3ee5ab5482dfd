//! Synthesis in the loop: Yosys on tiny designs for every target, the
//! cache, the parallel runner, errors and the `accgen synth` command.
//! Designs are 1 x 1 arrays and a lone multiplier so the whole file runs in
//! seconds (every Xilinx run spends about 2 s reading Yosys' cell library).

mod common;

use accgen::synth::{Progress, SynthError, SynthOptions, SynthResult, Target, synth_all, synthesize};
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac;
use accgen_hdl::{Design, VerilogFile};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

fn options(cache: Option<PathBuf>) -> SynthOptions {
    SynthOptions {
        cache_dir: cache,
        ..SynthOptions::default()
    }
}

/// A 1 x 1 int8 x int8 array, K = 4, multiplier as a plain `*` (for DSPs).
fn int8_1x1(reset: ResetStyle) -> Design {
    let p = common::with(common::params(1, 1, 4, "int8", "int8"), |p| p.reset = reset);
    mac::design(&p, &common::prov())
}

/// A hand-written design of one module.
fn one_module(top: &str, text: &str) -> Design {
    Design {
        top: top.into(),
        files: vec![VerilogFile {
            module: top.into(),
            text: text.into(),
        }],
        ports: Vec::new(),
        clock: None,
    }
}

fn ok(r: &Result<SynthResult, SynthError>) -> &SynthResult {
    r.as_ref().unwrap_or_else(|e| panic!("synthesis failed: {e}"))
}

fn cell(r: &SynthResult, name: &str) -> u64 {
    r.cells.get(name).copied().unwrap_or(0)
}

/// Run `jobs`, recording every progress report.
fn run_all(jobs: &[(Design, Target)], options: &SynthOptions) -> (Vec<Result<SynthResult, SynthError>>, Vec<Progress>) {
    let seen = Mutex::new(Vec::new());
    let results = synth_all(jobs, options, &|p: &Progress| {
        seen.lock().unwrap_or_else(|e| e.into_inner()).push(*p)
    });
    (results, seen.into_inner().unwrap_or_else(|e| e.into_inner()))
}

#[test]
fn every_target_gives_sensible_counts_and_a_repeat_is_cached() {
    let design = int8_1x1(ResetStyle::SyncHigh);
    let jobs: Vec<(Design, Target)> = Target::ALL.iter().map(|&t| (design.clone(), t)).collect();
    let opts = options(Some(common::scratch("synth/every_target")));
    let (results, progress) = run_all(&jobs, &opts);

    assert_eq!(progress.first().map(|p| p.done), Some(0));
    assert_eq!(
        progress.last(),
        Some(&Progress {
            total: 7,
            done: 7,
            cached: 0,
            synthesized: 7,
            failed: 0
        })
    );
    let by = |t: &str| -> &SynthResult {
        let target: Target = t.parse().unwrap_or_else(|e| panic!("{e}"));
        let i = Target::ALL.iter().position(|&x| x == target).unwrap_or(usize::MAX);
        ok(&results[i])
    };
    for r in results.iter().map(ok) {
        eprintln!(
            "{:12} {:5.2} s  LUT {:4}  FF {:3}  carry {:3}  DSP {}  cells {:4}  area {:?}",
            r.target.name(),
            r.seconds,
            r.summary.luts,
            r.summary.ffs,
            r.summary.carry,
            r.summary.dsp,
            r.summary.cells,
            r.summary.area_um2
        );
        assert!(!r.cached, "{}: a fresh cache cannot hit", r.target);
        assert!(r.tool.starts_with("Yosys "), "{}", r.tool);
        assert!(r.summary.ffs > 0, "{}: no flip-flops", r.target);
        assert_eq!(r.summary.cells, r.cells.values().sum::<u64>(), "{}", r.target);
        assert_eq!(r.summary.other, 0, "{}: unclassified cells in {:?}", r.target, r.cells);
        assert!(r.seconds > 0.0);
        if r.target == Target::Asic {
            assert!(
                r.summary.area_um2.is_some_and(|a| a > 0.0),
                "asic area {:?}",
                r.summary.area_um2
            );
            assert!(r.summary.logic > 0 && r.summary.luts == 0);
        } else {
            assert!(r.summary.luts > 0 && r.summary.area_um2.is_none(), "{}", r.target);
        }
    }
    // One 8x8 multiply: one hard multiplier where allowed, none otherwise.
    assert_eq!((by("xc7").summary.dsp, cell(by("xc7"), "DSP48E1")), (1, 1));
    assert_eq!((by("ice40").summary.dsp, cell(by("ice40"), "SB_MAC16")), (1, 1));
    assert!(cell(by("ecp5"), "MULT18X18D") >= 1);
    for t in ["xc7-nodsp", "ice40-nodsp", "ecp5-nodsp", "asic"] {
        assert_eq!(by(t).summary.dsp, 0, "{t}");
    }
    for (dsp, nodsp) in [("xc7", "xc7-nodsp"), ("ice40", "ice40-nodsp"), ("ecp5", "ecp5-nodsp")] {
        assert!(by(nodsp).summary.luts > 2 * by(dsp).summary.luts, "{nodsp} vs {dsp}");
        assert!(by(nodsp).summary.carry > 0, "{nodsp}: no carry chain");
    }
    // 7-series LUTs come in every size; iCE40 and ECP5 have LUT4s only.
    assert!(by("xc7-nodsp").summary.luts_by_size.get(&6).is_some_and(|&n| n > 0));
    assert_eq!(by("ice40").summary.luts_by_size.keys().collect::<Vec<_>>(), [&4]);

    // The same request again: every result from the cache, unchanged.
    let (again, progress) = run_all(&jobs, &opts);
    assert_eq!(progress.last().map(|p| (p.cached, p.synthesized)), Some((7, 0)));
    for (first, second) in results.iter().map(ok).zip(again.iter().map(ok)) {
        assert!(second.cached, "{}: not cached", second.target);
        assert_eq!(first.cells, second.cells);
        // JSON keeps floats to within a rounding step.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
        assert!(close(first.seconds, second.seconds));
        let area = |r: &SynthResult| r.summary.area_um2.unwrap_or(0.0);
        assert!(close(area(first), area(second)));
        let without_area = |r: &SynthResult| accgen::synth::Summary {
            area_um2: None,
            ..r.summary.clone()
        };
        assert_eq!(without_area(first), without_area(second));
        assert_eq!(
            (&first.key, &first.tool, &first.script),
            (&second.key, &second.tool, &second.script)
        );
    }
    // The cache ignores comments (the file headers name the command).
    let mut renamed = design.clone();
    for f in &mut renamed.files {
        f.text = f.text.replace("cargo test", "another command");
    }
    assert_ne!(renamed, design);
    let r = synthesize(&renamed, Target::Ice40 { dsp: true }, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.cached);
}

const MUL8: &str = "module mul8(input wire [7:0] a, input wire [7:0] b, output wire [15:0] y);\n\
                    assign y = a * b;\nendmodule\n";

/// The "8x8 unsigned multiply" row of ../shared/reference/toolchain.md,
/// measured with Yosys 0.23; other versions get sanity checks only. The
/// row's 7-series and ECP5 figures (114 LUTs + 4 CARRY4 + 24 MUXF7/F8;
/// 254 LUT4 + 8 CCU2C) are `synth_xilinx`'s and `synth_ecp5`'s default
/// wide-LUT mappings; accgen synthesizes both with `-nowidelut`, which maps
/// the same multiplier to 110 LUTs + 4 CARRY4 and to 148 LUT4s + 8 CCU2C,
/// without MUXF7/MUXF8 or PFUMX/L6MUX21.
#[test]
fn plain_multiplier_matches_the_measured_baseline() {
    let design = one_module("mul8", MUL8);
    let targets = ["xc7-nodsp", "ice40-nodsp", "ecp5-nodsp"];
    let jobs: Vec<(Design, Target)> = targets
        .iter()
        .map(|t| (design.clone(), t.parse().unwrap_or_else(|e| panic!("{e}"))))
        .collect();
    let (results, _) = run_all(&jobs, &options(None));
    let [xc7, ice40, ecp5] = [0, 1, 2].map(|i| ok(&results[i]));
    for r in [xc7, ice40, ecp5] {
        assert_eq!((r.summary.ffs, r.summary.dsp), (0, 0), "{}", r.target);
    }
    if xc7.tool.starts_with("Yosys 0.23 ") {
        assert_eq!(
            (xc7.summary.luts, xc7.summary.carry, xc7.summary.wide_muxes),
            (110, 4, 0)
        );
        assert_eq!(cell(ice40, "SB_LUT4"), 159);
        assert_eq!((cell(ecp5, "LUT4"), cell(ecp5, "CCU2C")), (148, 8));
        assert_eq!(ecp5.summary.wide_muxes, 0);
    } else {
        assert!(xc7.summary.luts > 0 && ice40.summary.luts > 0 && ecp5.summary.luts > 0);
    }
}

#[test]
fn asic_counts_liberty_flip_flops_with_async_reset() {
    let design = int8_1x1(ResetStyle::AsyncLow);
    let r = synthesize(&design, Target::Asic, &options(None)).unwrap_or_else(|e| panic!("{e}"));
    // OSU 0.18's asynchronously reset flip-flop.
    assert!(cell(&r, "DFFSR") > 0, "{:?}", r.cells);
    let flops: u64 = r
        .cells
        .iter()
        .filter(|(c, _)| c.starts_with("DFF"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(r.summary.ffs, flops);
    assert_eq!(r.summary.cells, r.summary.ffs + r.summary.logic);
    assert!(r.script.contains("dfflibmap -liberty") && r.script.contains("abc -liberty"));
}

#[test]
fn identical_jobs_run_once() {
    let design = one_module("mul8", MUL8);
    let jobs = vec![(design.clone(), Target::Ice40 { dsp: false }); 3];
    let (results, progress) = run_all(&jobs, &options(None));
    let cached: Vec<bool> = results.iter().map(|r| ok(r).cached).collect();
    assert_eq!(cached, [false, true, true]);
    assert_eq!(
        progress.last().map(|p| (p.done, p.synthesized, p.cached)),
        Some((3, 1, 2))
    );
}

#[test]
fn bad_target_names_list_the_allowed_ones() {
    let e = "xc7-dsp"
        .parse::<Target>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "unknown synthesis target `xc7-dsp`: the targets are xc7, xc7-nodsp, ice40, ice40-nodsp, ecp5, ecp5-nodsp, asic"
    );
}

#[test]
fn failures_are_reported_and_the_other_jobs_finish() {
    let good = one_module("mul8", MUL8);
    let broken = one_module(
        "broken",
        "module broken(input wire a, output wire y);\nassign y = a +;\nendmodule\n",
    );
    let opts = SynthOptions {
        liberty: PathBuf::from("/nonexistent/osu018_stdcells.lib"),
        ..options(None)
    };
    let jobs = vec![
        (broken, Target::Ice40 { dsp: false }),
        (good.clone(), Target::Asic),
        (good.clone(), Target::Ice40 { dsp: false }),
    ];
    let (results, progress) = run_all(&jobs, &opts);
    match &results[0] {
        Err(e @ SynthError::Failed { log_tail, work_dir, .. }) => {
            assert!(log_tail.contains("ERROR"), "{log_tail}");
            assert!(e.to_string().contains("yosys failed on broken for ice40-nodsp"), "{e}");
            let _ = std::fs::remove_dir_all(work_dir);
        }
        other => panic!("expected a yosys failure, got {other:?}"),
    }
    let e = results[1].as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("apt-get install qflow-tech-osu018"), "{e}");
    assert!(ok(&results[2]).summary.luts > 0);
    assert_eq!(
        progress.last().map(|p| (p.done, p.failed, p.synthesized)),
        Some((3, 2, 1))
    );

    let missing = SynthOptions {
        yosys: PathBuf::from("/nonexistent/yosys"),
        ..options(None)
    };
    let e = synthesize(&good, Target::Xc7 { dsp: true }, &missing).err();
    let text = e.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        matches!(e, Some(SynthError::ToolMissing { .. })) && text.contains("apt-get install yosys"),
        "{text}"
    );
}

#[test]
fn a_run_over_the_time_limit_is_stopped_and_not_cached() {
    let cache = common::scratch("synth/timeout");
    let opts = SynthOptions {
        timeout: Duration::from_millis(1),
        ..options(Some(cache.clone()))
    };
    let e = synthesize(&one_module("mul8", MUL8), Target::Xc7 { dsp: false }, &opts).err();
    match &e {
        Some(SynthError::Timeout { work_dir, .. }) => {
            assert!(e.as_ref().is_some_and(|e| e.to_string().contains("time limit")));
            let _ = std::fs::remove_dir_all(work_dir);
        }
        other => panic!("expected a time-out, got {other:?}"),
    }
    let stored = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert_eq!(stored, 0, "a stopped run wrote to the cache");
}

const CONFIG_1X1: &str = "name: int8_1x1\nmac_array:\n  rows: 1\n  cols: 1\n  dot_length: 4\n  \
                          activations: int8\n  weights: int8\n  multiplier: dsp\n";

fn accgen_synth(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accgen"))
        .arg("synth")
        .args(args)
        .current_dir(dir)
        .env("ACCGEN_SYNTH_CACHE", dir.join("cache"))
        .output()
        .unwrap_or_else(|e| panic!("running accgen: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn synth_command_prints_a_table_and_writes_json() {
    let dir = common::scratch("synth/command");
    std::fs::write(dir.join("int8_1x1.yaml"), CONFIG_1X1).unwrap_or_else(|e| panic!("{e}"));
    let args = ["int8_1x1.yaml", "--target", "ice40", "-t", "asic", "--json", "out.json"];
    let (code, stdout, stderr) = accgen_synth(&dir, &args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for row in ["LUTs", "FFs", "DSP", "area um^2", "Yosys 0.", "cached"] {
        assert!(stdout.contains(row), "no `{row}` in:\n{stdout}");
    }
    let text = std::fs::read_to_string(dir.join("out.json")).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    assert_eq!(json["top"], "accgen_mac_array_1x1_k4_as8_ws8_acc18w_dsp");
    let results = json["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 2);
    for (r, target) in results.iter().zip(["ice40", "asic"]) {
        assert_eq!(r["target"], target);
        assert!(r["tool"].as_str().is_some_and(|t| t.starts_with("Yosys ")), "{r}");
        assert_eq!(r["cached"], false);
        assert!(r["summary"]["ffs"].as_u64().is_some_and(|n| n > 0), "{r}");
        assert!(r["cells"].as_object().is_some_and(|c| !c.is_empty()), "{r}");
    }
    assert_eq!(results[0]["cells"]["SB_MAC16"], 1);
    assert!(results[1]["summary"]["area_um2"].as_f64().is_some_and(|a| a > 0.0));

    // Again: both from the cache.
    let (code, stdout, _) = accgen_synth(&dir, &args);
    assert_eq!(code, 0);
    let cached_row = stdout.lines().find(|l| l.starts_with("cached")).unwrap_or_default();
    assert_eq!(
        cached_row.split_whitespace().collect::<Vec<_>>(),
        ["cached", "yes", "yes"]
    );

    // A bad target name is bad input (exit 2) and names the allowed ones.
    let (code, _, stderr) = accgen_synth(&dir, &["int8_1x1.yaml", "--target", "ice40,virtex7"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown synthesis target `virtex7`") && stderr.contains("ecp5-nodsp"),
        "{stderr}"
    );
}

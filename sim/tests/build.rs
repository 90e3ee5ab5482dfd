//! Building and caching models, concurrent builders, and the errors for
//! missing tools, Verilator rejecting a design, and unsimulatable designs.

mod common;

use std::path::PathBuf;
use std::sync::Barrier;
use std::time::Instant;

use accgen_hdl::{Design, Dir};
use accgen_sim::testbench::{self, IcarusOptions};
use accgen_sim::{BuildOptions, Frames, Layout, Model, SimError};
use common::{AccAddStim, acc_add, comb_xor};

#[test]
fn second_build_is_a_cache_hit() {
    let design = acc_add();
    let first = Model::build(&design, &BuildOptions::default()).unwrap();
    let start = Instant::now();
    let second = Model::build(&design, &BuildOptions::default()).unwrap();
    assert!(second.was_cached(), "the second build must not run Verilator");
    assert_eq!(first.binary(), second.binary());
    eprintln!("cached build: {:?} (first: {:?})", start.elapsed(), first.build_time());
    // Tracing is part of the key: the traced model lives elsewhere.
    let traced = first.traced().unwrap();
    assert_ne!(traced.dir(), first.dir());
}

#[test]
fn concurrent_cold_builds_of_one_design_agree() {
    // A fresh cache: every thread misses, builds privately, and all but one
    // lose the rename race and use the winner's model.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cold-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    seed_runtime(&cache);
    let options = BuildOptions {
        cache_dir: Some(cache.clone()),
        ..BuildOptions::default()
    };
    let design = acc_add();
    let barrier = Barrier::new(3);
    let models: Vec<Model> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    Model::build(&design, &options).unwrap_or_else(|e| panic!("{e}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(models.iter().all(|m| !m.was_cached()), "all three started cold");
    assert!(models.windows(2).all(|w| w[0].binary() == w[1].binary()));
    let again = Model::build(&design, &options).unwrap();
    assert!(again.was_cached());
    eprintln!(
        "cold build (3 concurrent builders): {:?}; cached: {:?}",
        models[0].build_time(),
        again.build_time()
    );
    // Exactly one model directory and no leftovers of the losers.
    let entries: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries.iter().filter(|n| n.starts_with("acc_add-")).count(),
        1,
        "{entries:?}"
    );
    assert!(!entries.iter().any(|n| n.starts_with(".build")), "{entries:?}");
    let stim = AccAddStim::new(again.layout());
    assert!(again.check(|| stim.source(100, 1, None)).is_ok());
    let _ = std::fs::remove_dir_all(&cache);
}

/// Verilator's run-time objects are built once per cache and the default
/// cache builds them for every other test; reuse them so this test pays
/// only for the design (the run-time path still runs on a fresh CI cache).
fn seed_runtime(cache: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(accgen_sim::cache_root()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if e.path().is_dir() && name.to_string_lossy().starts_with("runtime-") {
            let dst = cache.join(&name);
            let _ = std::fs::create_dir_all(&dst);
            for f in std::fs::read_dir(e.path()).into_iter().flatten().flatten() {
                let _ = std::fs::copy(f.path(), dst.join(f.file_name()));
            }
        }
    }
}

#[test]
fn missing_verilator_says_how_to_install_it() {
    let options = BuildOptions {
        verilator: PathBuf::from("/nonexistent/bin/verilator"),
        ..BuildOptions::default()
    };
    let e = Model::build(&comb_xor(), &options).unwrap_err();
    assert!(matches!(e, SimError::ToolMissing { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("apt-get install verilator") && msg.contains("5.006"),
        "{msg}"
    );
}

#[test]
fn missing_icarus_says_how_to_install_it() {
    let design = comb_xor();
    let layout = Layout::new(&design).unwrap();
    let y = layout.output("y_o").unwrap();
    let frames = Frames::record(&layout, |f: &mut accgen_sim::Frame<'_>| {
        f.expect_u64(y, 0);
        f.cycle() < 1
    })
    .unwrap();
    let tb = testbench::write(&design, &frames).unwrap();
    let options = IcarusOptions {
        iverilog: PathBuf::from("/nonexistent/bin/iverilog"),
        work_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("icarus-missing")),
        ..IcarusOptions::default()
    };
    let e = testbench::run_icarus(&design, &tb, &options).unwrap_err();
    assert!(e.to_string().contains("apt-get install iverilog"), "{e}");
}

#[test]
fn verilator_errors_are_reported_with_its_stderr() {
    let mut design = comb_xor();
    design.files[0].text = design.files[0].text.replace("a_i ^ b_i", "a_i ^ b_i ^ c_i");
    let e = Model::build(&design, &BuildOptions::default()).unwrap_err();
    let SimError::ToolFailed { tool, output, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!(tool, "Verilator");
    assert!(
        output.contains("c_i"),
        "Verilator's message names the problem:\n{output}"
    );
    assert!(e.to_string().contains("c_i"));
}

#[test]
fn unsimulatable_designs_are_refused_before_building() {
    type Breakage = fn(&mut Design);
    let cases: [(&str, Breakage); 5] = [
        ("width 0", |d| d.ports[0].width = 0),
        ("declared twice", |d| d.ports[1].name = d.ports[0].name.clone()),
        ("is not a port", |d| d.clock = Some("clk_i".into())),
        ("must be a 1-bit input", |d| d.clock = Some("y_o".into())),
        ("no output ports", |d| d.ports.retain(|p| p.dir == Dir::In)),
    ];
    for (needle, break_it) in cases {
        let mut d = comb_xor();
        break_it(&mut d);
        let e = Model::build(&d, &BuildOptions::default()).unwrap_err();
        assert!(
            matches!(e, SimError::BadDesign { .. }) && e.to_string().contains(needle),
            "{needle}: {e}"
        );
    }
}

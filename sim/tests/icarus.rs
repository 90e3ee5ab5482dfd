//! The generated Icarus test bench: passes on the vectors Verilator passes,
//! fails on a wrong expectation and on a broken design, refuses a run that
//! compares nothing, and is lint-clean.

mod common;

use std::path::PathBuf;
use std::process::Command;

use accgen_hdl::{Bits, Design};
use accgen_sim::testbench::{self, IcarusOptions};
use accgen_sim::{BuildOptions, Frame, Frames, Layout, Model, SimError};
use common::{AccAddStim, acc_add, acc_add_with, comb_xor, wide_mix};

fn work_dir(name: &str) -> IcarusOptions {
    IcarusOptions {
        work_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("icarus").join(name)),
        ..IcarusOptions::default()
    }
}

fn acc_add_frames(design: &Design, wrong_at: Option<u64>) -> Frames {
    let layout = Layout::new(design).unwrap();
    let stim = AccAddStim::new(&layout);
    Frames::record(&layout, stim.source(300, 9, wrong_at)).unwrap()
}

#[test]
fn same_vectors_pass_in_verilator_and_icarus() {
    let design = acc_add();
    let frames = acc_add_frames(&design, None);
    let model = Model::build(&design, &BuildOptions::default()).unwrap();
    let v = model.check_frames(&frames).unwrap();
    let tb = testbench::write(&design, &frames).unwrap();
    assert_eq!(tb.module, "tb_acc_add");
    assert_eq!(tb.file_name(), "tb_acc_add.v");
    assert_eq!(tb.vectors_file, "acc_add_vectors.hex");
    assert_eq!(tb.vectors.lines().count(), 300);
    // rst valid a b | valid sum | care
    assert_eq!(tb.vectors.lines().nth(1).unwrap().split(' ').count(), 7);
    let r = testbench::run_icarus(&design, &tb, &work_dir("pass")).unwrap();
    assert_eq!((r.cycles, r.compared), (v.cycles, v.compared));
    assert!(r.warnings.is_empty(), "iverilog -Wall warnings: {:?}", r.warnings);
    assert!(r.log.contains("PASS: 300 cycles, 598 values compared"), "{}", r.log);
}

#[test]
fn wrong_expectation_fails_at_its_cycle() {
    let design = acc_add();
    let tb = testbench::write(&design, &acc_add_frames(&design, Some(123))).unwrap();
    let e = testbench::run_icarus(&design, &tb, &work_dir("wrong")).unwrap_err();
    let SimError::TestbenchFailed { message, log, .. } = &e else {
        panic!("{e}");
    };
    assert!(
        message.contains("FAIL: cycle 123: output sum_o expected 9'h"),
        "{message}"
    );
    assert!(log.contains("input  a_i"), "the failure lists the inputs:\n{log}");
}

#[test]
fn broken_design_fails() {
    let good = acc_add();
    let frames = acc_add_frames(&good, None);
    let broken = acc_add_with("sum_d = {1'b0, a_i} ^ {1'b0, b_i};");
    let tb = testbench::write(&broken, &frames).unwrap();
    let e = testbench::run_icarus(&broken, &tb, &work_dir("broken")).unwrap_err();
    assert!(e.to_string().contains("output sum_o expected"), "{e}");
}

#[test]
fn nothing_compared_fails() {
    let design = comb_xor();
    let layout = Layout::new(&design).unwrap();
    let a = layout.input("a_i").unwrap();
    let frames = Frames::record(&layout, |f: &mut Frame<'_>| {
        f.set_i64(a, 1);
        f.cycle() < 10
    })
    .unwrap();
    let tb = testbench::write(&design, &frames).unwrap();
    let e = testbench::run_icarus(&design, &tb, &work_dir("nothing")).unwrap_err();
    assert!(e.to_string().contains("FAIL: 10 cycles, no values compared"), "{e}");
}

#[test]
fn wide_and_signed_ports_and_lint() {
    let design = wide_mix();
    let layout = Layout::new(&design).unwrap();
    let (w, q) = (layout.input("w_i").unwrap(), layout.input("q_i").unwrap());
    let (wsum, neg, wq) = (
        layout.output("wsum_o").unwrap(),
        layout.output("neg_o").unwrap(),
        layout.output("wq_o").unwrap(),
    );
    let frames = Frames::record(&layout, |f: &mut Frame<'_>| {
        let c = f.cycle();
        if c >= 3 {
            return false;
        }
        // ~0, 1 and 2^99, with q = -1, -2, -3.
        let wv = match c {
            0 => Bits::ones(100),
            1 => Bits::from_u64(100, 1),
            _ => {
                let mut b = Bits::zero(100);
                b.set_bit(99, true);
                b
            }
        };
        f.set_bits(w, &wv);
        let qv = -(c as i64) - 1;
        f.set_i64(q, qv);
        let sum = Bits::from_i128(100, (wv.to_u128() as i128).wrapping_add(qv as i128));
        f.expect_bits(wsum, &sum);
        if c > 0 {
            f.expect_i64(neg, c as i64);
            f.expect_bits(
                wq,
                &if c == 1 {
                    Bits::ones(100)
                } else {
                    Bits::from_u64(100, 1)
                },
            );
        }
        true
    })
    .unwrap();
    let tb = testbench::write(&design, &frames).unwrap();
    assert!(
        tb.vectors
            .lines()
            .next()
            .unwrap()
            .starts_with("fffffffffffffffffffffffff ffffffffff ")
    );
    let opts = work_dir("wide");
    let r = testbench::run_icarus(&design, &tb, &opts).unwrap();
    assert_eq!((r.cycles, r.compared), (3, 7));
    let model = Model::build(&design, &BuildOptions::default()).unwrap();
    assert_eq!(model.check_frames(&frames).unwrap().compared, 7);

    // The bench is also clean under Verilator's strictest lint.
    let dir = opts.work_dir.unwrap();
    let out = Command::new("verilator")
        .current_dir(&dir)
        .args(["--lint-only", "-Wall", "--timing", "--top-module", "tb_wide_mix"])
        .args(["tb_wide_mix.v", "wide_mix.v"])
        .output();
    match out {
        Ok(out) => assert!(
            out.status.success() && out.stderr.is_empty(),
            "verilator -Wall on the bench:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("verilator not runnable ({e}); lint skipped"),
    }
}

#[test]
fn frames_of_another_design_are_refused() {
    let frames = acc_add_frames(&acc_add(), None);
    let e = testbench::write(&comb_xor(), &frames).unwrap_err();
    assert!(matches!(e, SimError::LayoutMismatch { .. }), "{e}");
}

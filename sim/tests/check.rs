//! Check mode end to end: passing runs count what they compared, a wrong
//! expectation is reported at the right cycle with a waveform, a run that
//! compares nothing fails, and a broken design is caught.

mod common;

use accgen_hdl::Bits;
use accgen_sim::{BuildOptions, CheckOptions, Frame, Frames, Model, SimError};
use common::{AccAddStim, acc_add, acc_add_with, comb_xor, wide_mix};

fn build(design: &accgen_hdl::Design) -> Model {
    Model::build(design, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn registered_adder_passes_and_counts_compared_values() {
    let model = build(&acc_add());
    let stim = AccAddStim::new(model.layout());
    let report = model.check(|| stim.source(10_000, 7, None)).unwrap();
    assert_eq!(report.cycles, 10_000);
    // Two outputs compared in every cycle but the first.
    assert_eq!(report.compared, 2 * 9_999);
    assert!(report.vectors_per_second() > 0.0);
    assert!(
        report.to_string().contains("10000 cycles, 19998 values compared"),
        "{report}"
    );
}

#[test]
fn wrong_expectation_reports_cycle_ports_and_waveform() {
    let model = build(&acc_add());
    let stim = AccAddStim::new(model.layout());
    let vcd_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("check-failures");
    let options = CheckOptions {
        vcd_dir: Some(vcd_dir.clone()),
        ..CheckOptions::default()
    };
    let err = model
        .check_with(&options, || stim.source(5_000, 11, Some(1234)))
        .unwrap_err();
    let SimError::Mismatch(m) = &err else {
        panic!("expected a mismatch, got {err}");
    };
    assert_eq!(m.cycle, 1234);
    assert_eq!(m.port, "sum_o");
    assert_eq!(m.expected.width(), 9);
    assert_eq!(
        m.expected.to_u64() ^ 1,
        m.actual.to_u64(),
        "one bit flipped in the expectation"
    );
    assert_eq!(m.inputs.len(), 4, "every driven input is reported");
    assert!(m.outputs.iter().any(|o| o.name == "valid_o" && !o.mismatch));
    let vcd = m.vcd_path.as_ref().expect("a waveform");
    assert!(vcd.starts_with(&vcd_dir), "{}", vcd.display());
    let text = std::fs::read_to_string(vcd).unwrap();
    assert!(
        text.contains("$enddefinitions") && text.contains("sum_o"),
        "not a VCD of acc_add"
    );
    assert!(text.contains("#12340"), "the waveform reaches the failing cycle");
    assert!(m.vcd_note.is_none(), "{:?}", m.vcd_note);
    let msg = err.to_string();
    eprintln!("{msg}");
    for needle in ["cycle 1234", "sum_o", "MISMATCH", "a_i", "waveform", ".vcd"] {
        assert!(msg.contains(needle), "`{needle}` missing from:\n{msg}");
    }
}

#[test]
fn a_run_that_compares_nothing_is_an_error() {
    let model = build(&acc_add());
    let a = model.layout().input("a_i").unwrap();
    let err = model
        .check(|| {
            move |f: &mut Frame<'_>| {
                f.set_u64(a, f.cycle() % 200);
                f.cycle() < 100
            }
        })
        .unwrap_err();
    assert!(matches!(err, SimError::NothingCompared { cycles: 100, .. }), "{err}");
    let err = model.check(|| |_: &mut Frame<'_>| false).unwrap_err();
    assert!(matches!(err, SimError::NothingCompared { cycles: 0, .. }), "{err}");
}

#[test]
fn a_broken_design_fails_the_same_vectors() {
    // Mutation sanity: `+` flipped to `-` must be caught.
    let model = build(&acc_add_with("sum_d = {1'b0, a_i} - {1'b0, b_i};"));
    let stim = AccAddStim::new(model.layout());
    let options = CheckOptions {
        waveform_on_mismatch: false,
        ..CheckOptions::default()
    };
    let err = model.check_with(&options, || stim.source(1_000, 3, None)).unwrap_err();
    let m = err.mismatch().expect("mismatch");
    assert_eq!(m.port, "sum_o");
    assert!(m.vcd_path.is_none());
}

#[test]
fn bad_values_stop_the_run_with_a_clear_error() {
    let model = build(&acc_add());
    let a = model.layout().input("a_i").unwrap();
    let err = model
        .check(|| {
            move |f: &mut Frame<'_>| {
                f.set_u64(a, f.cycle() * 10);
                f.cycle() < 100
            }
        })
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("cycle 26: port `a_i`: value 260 does not fit 8"), "{msg}");
}

#[test]
fn wide_ports_and_combinational_paths() {
    let model = build(&wide_mix());
    let l = model.layout();
    let (w, q) = (l.input("w_i").unwrap(), l.input("q_i").unwrap());
    let (wsum, neg, wq) = (
        l.output("wsum_o").unwrap(),
        l.output("neg_o").unwrap(),
        l.output("wq_o").unwrap(),
    );
    let make = || {
        let mut prev: Option<(Bits, i64)> = None;
        let mut state = 0x1234_5678_9abc_def1u64;
        move |f: &mut Frame<'_>| {
            if f.cycle() >= 2_000 {
                return false;
            }
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            // Values that cross every word boundary, and the extremes.
            let wv = match f.cycle() {
                0 => Bits::ones(100),
                1 => Bits::zero(100),
                _ => {
                    let mut b = Bits::from_u64(100, next());
                    b.set_u64_field(64, 36, next());
                    b
                }
            };
            let qv = match f.cycle() {
                0 => -(1i64 << 39),
                1 => (1i64 << 39) - 1,
                _ => (next() as i64) >> 24,
            };
            f.set_bits(w, &wv);
            f.set_i64(q, qv);
            // Combinational: this cycle's inputs.
            let mut sum = Bits::zero(100);
            let (mut carry, qx) = (0u128, Bits::from_i64(100, qv));
            for lo in [0u32, 50] {
                let s = wv.u64_field(lo, 50) as u128 + qx.u64_field(lo, 50) as u128 + carry;
                sum.set_u64_field(lo, 50, s as u64);
                carry = s >> 50;
            }
            f.expect_bits(wsum, &sum);
            // Registered: last cycle's inputs.
            if let Some((pw, pq)) = prev.take() {
                f.expect_bits(wq, &pw);
                // -(-2^39) wraps to -2^39 in 40 bits.
                let n = if pq == -(1i64 << 39) { pq } else { -pq };
                f.expect_i64(neg, n);
            }
            prev = Some((wv, qv));
            true
        }
    };
    let report = model.check(make).unwrap();
    assert_eq!(report.cycles, 2_000);
    assert_eq!(report.compared, 2_000 + 2 * 1_999);
}

#[test]
fn unclocked_design_and_recorded_frames() {
    let model = build(&comb_xor());
    let l = model.layout();
    let (a, b) = (l.input("a_i").unwrap(), l.input("b_i").unwrap());
    let (y, gt) = (l.output("y_o").unwrap(), l.output("gt_o").unwrap());
    // Exhaustive: all 4096 pairs of 6-bit signed operands.
    let frames = Frames::record(l, |f: &mut Frame<'_>| {
        let c = f.cycle() as i64;
        if c >= 4096 {
            return false;
        }
        let (va, vb) = ((c >> 6) - 32, (c & 63) - 32);
        f.set_i64(a, va);
        f.set_i64(b, vb);
        f.expect_u64(y, ((va ^ vb) & 63) as u64);
        f.expect_u64(gt, (va > vb) as u64);
        true
    })
    .unwrap();
    assert_eq!(frames.len(), 4096);
    let report = model.check_frames(&frames).unwrap();
    assert_eq!((report.cycles, report.compared), (4096, 8192));
    // Frames of another design are refused.
    let other = build(&acc_add());
    let err = other.check_frames(&frames).unwrap_err();
    assert!(matches!(err, SimError::LayoutMismatch { .. }), "{err}");
}

#[test]
fn throughput_puts_checked_next_to_raw() {
    let model = build(&acc_add());
    let stim = AccAddStim::new(model.layout());
    let t = model.throughput(|| stim.source(200_000, 5, None)).unwrap();
    assert_eq!(t.check.cycles, 200_000);
    assert!(t.raw.cycles >= 200_000, "{t}");
    assert!(t.raw.cycles_per_second() > 0.0 && t.ratio() > 0.0, "{t}");
    eprintln!("{t}");
}

#[test]
fn no_driven_inputs_and_more_than_32_outputs() {
    let design = common::bit_counter();
    let model = build(&design);
    let l = model.layout();
    assert_eq!((l.in_words(), l.care_words()), (0, 2));
    let outs: Vec<_> = (0..40).map(|i| l.output(&format!("b{i}_o")).unwrap()).collect();
    // The counter starts at 0 in Verilator, so cycle c shows c.
    let make = || {
        let outs = outs.clone();
        move |f: &mut Frame<'_>| {
            let c = f.cycle();
            for (i, &o) in outs.iter().enumerate() {
                // Compare bits 0..3 and 32..39 (both care words).
                if !(4..32).contains(&i) {
                    f.expect_u64(o, (c >> i) & 1);
                }
            }
            c < 300
        }
    };
    let report = model.check(make).unwrap();
    assert_eq!((report.cycles, report.compared), (300, 300 * 12));
    // A wrong bit in the second care word is found.
    let no_waveform = CheckOptions {
        waveform_on_mismatch: false,
        ..CheckOptions::default()
    };
    let err = model
        .check_with(&no_waveform, || {
            let o = outs[35];
            move |f: &mut Frame<'_>| {
                f.expect_u64(o, (f.cycle() == 7) as u64);
                f.cycle() < 10
            }
        })
        .unwrap_err();
    let m = err.mismatch().expect("mismatch");
    assert_eq!((m.cycle, m.port.as_str()), (7, "b35_o"));
    assert!(m.inputs.is_empty());
    assert_eq!(m.outputs.iter().filter(|o| o.expected.is_some()).count(), 1);
}

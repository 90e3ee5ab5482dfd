//! Interactive sessions: poke/peek by name, clocking, wide ports, errors.

mod common;

use accgen_hdl::Bits;
use accgen_sim::{BuildOptions, Model, SimError};
use common::{acc_add, comb_xor, wide_mix};

fn build(design: &accgen_hdl::Design) -> Model {
    Model::build(design, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn poke_tick_peek_on_a_registered_adder() {
    let model = build(&acc_add());
    let mut s = model.session().unwrap();
    s.poke("rst_i", 1).unwrap();
    s.tick().unwrap();
    assert_eq!(s.peek_u64("valid_o").unwrap(), 0);
    s.poke("rst_i", false).unwrap();
    s.poke("valid_i", true).unwrap();
    s.poke("a_i", 200u8).unwrap();
    s.poke("b_i", 100u64).unwrap();
    s.eval().unwrap();
    assert_eq!(s.peek_u64("sum_o").unwrap(), 0, "registered: nothing before the edge");
    s.tick().unwrap();
    assert_eq!(s.peek("sum_o").unwrap(), Bits::from_u64(9, 300));
    assert_eq!(s.peek_u64("valid_o").unwrap(), 1);
    // Inputs persist across ticks.
    s.ticks(3).unwrap();
    assert_eq!(s.peek_u64("sum_o").unwrap(), 300);
    assert_eq!(s.cycles(), 5);
    s.close().unwrap();
}

#[test]
fn clear_errors_for_names_and_values() {
    let model = build(&acc_add());
    let mut s = model.session().unwrap();
    let e = s.poke("a", 1).unwrap_err();
    assert!(matches!(e, SimError::UnknownPort { .. }), "{e}");
    assert!(
        e.to_string().contains("no input port named `a`") && e.to_string().contains("a_i"),
        "{e}"
    );
    let e = s.poke("clk_i", 1).unwrap_err();
    assert!(e.to_string().contains("clock is toggled by the harness"), "{e}");
    let e = s.poke("a_i", 256).unwrap_err();
    assert_eq!(
        e.to_string(),
        "port `a_i`: value 256 does not fit 8 unsigned bits (the port is unsigned)"
    );
    let e = s.poke("a_i", -1).unwrap_err();
    assert!(e.to_string().contains("unsigned"), "{e}");
    let e = s.poke("a_i", &Bits::from_u64(9, 0x100)).unwrap_err();
    assert!(e.to_string().contains("does not fit 8 bits"), "{e}");
    let e = s.peek("sum_i").unwrap_err();
    assert!(e.to_string().contains("no output port named `sum_i`"), "{e}");
    // The session still works after refused requests.
    s.poke("a_i", &Bits::from_u64(12, 7)).unwrap();
    s.eval().unwrap();
}

#[test]
fn wide_ports_round_trip() {
    let model = build(&wide_mix());
    let mut s = model.session().unwrap();
    let mut w = Bits::zero(100);
    w.set_u64_field(0, 64, 0xffff_ffff_ffff_fff0);
    w.set_u64_field(64, 36, 0x8_0000_0001);
    s.poke("w_i", &w).unwrap();
    s.poke("q_i", 0x20i64).unwrap();
    // Combinational: carries out of the low 64 bits.
    let sum = s.peek("wsum_o").unwrap();
    assert_eq!(sum.u64_field(0, 64), 0x10);
    assert_eq!(sum.u64_field(64, 36), 0x8_0000_0002);
    s.poke("q_i", -(1i64 << 39)).unwrap();
    s.tick().unwrap();
    assert_eq!(s.peek("wq_o").unwrap(), w);
    assert_eq!(
        s.peek_i64("neg_o").unwrap(),
        -(1i64 << 39),
        "negating the minimum wraps"
    );
    s.poke("q_i", -5).unwrap();
    s.tick().unwrap();
    assert_eq!(s.peek_i64("neg_o").unwrap(), 5);
    assert!(s.peek_u64("wq_o").unwrap_err().to_string().contains("does not fit u64"));
    let e = s.poke("q_i", 1i64 << 39).unwrap_err();
    assert!(e.to_string().contains("outside the range of 40 signed bits"), "{e}");
}

#[test]
fn unclocked_designs_evaluate_but_do_not_tick() {
    let model = build(&comb_xor());
    let mut s = model.session().unwrap();
    s.poke("a_i", -32).unwrap();
    s.poke("b_i", 31).unwrap();
    assert_eq!(s.peek_u64("y_o").unwrap(), 0b111111);
    assert_eq!(s.peek_u64("gt_o").unwrap(), 0, "signed compare");
    let e = s.tick().unwrap_err();
    assert!(matches!(e, SimError::NoClock { .. }), "{e}");
}

#[test]
fn sessions_can_record_a_waveform() {
    let model = build(&acc_add());
    let vcd = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("session.vcd");
    let _ = std::fs::remove_file(&vcd);
    let mut s = model.session_with_vcd(&vcd).unwrap();
    s.poke("a_i", 3).unwrap();
    s.ticks(3).unwrap();
    s.close().unwrap();
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.contains("$enddefinitions") && text.contains("a_i"), "{text}");
}

//! Drive a hand-written design by port name: an interactive session for
//! poking around, then a checked run of 100,000 cycles against a software
//! model, then the same vectors as a self-checking Icarus test bench.
//!
//! `cargo run -p accgen-sim --example drive_by_name`

use accgen_hdl::{Bits, Design, Dir, PortInfo, VerilogFile};
use accgen_sim::{BuildOptions, Frame, Frames, Model, SimError, testbench};

const VERILOG: &str = r#"`default_nettype none
// Multiply-accumulate: acc_o <= clear_i ? 0 : acc_o + a_i * b_i (signed).
module demo_mac (
    input  wire               clk_i,
    input  wire               clear_i,
    input  wire signed  [7:0] a_i,
    input  wire signed  [7:0] b_i,
    output wire signed [23:0] prod_o,
    output reg  signed [23:0] acc_o
);
    wire signed [15:0] prod = a_i * b_i;
    assign prod_o = {{8{prod[15]}}, prod};
    always @(posedge clk_i) begin
        if (clear_i) acc_o <= 24'sd0;
        else         acc_o <= acc_o + prod_o;
    end
endmodule
`default_nettype wire
"#;

fn design() -> Design {
    let port = |name: &str, dir, width, signed| PortInfo {
        name: name.into(),
        dir,
        width,
        signed,
        doc: String::new(),
    };
    Design {
        top: "demo_mac".into(),
        files: vec![VerilogFile {
            module: "demo_mac".into(),
            text: VERILOG.into(),
        }],
        ports: vec![
            port("clk_i", Dir::In, 1, false),
            port("clear_i", Dir::In, 1, false),
            port("a_i", Dir::In, 8, true),
            port("b_i", Dir::In, 8, true),
            port("prod_o", Dir::Out, 24, true),
            port("acc_o", Dir::Out, 24, true),
        ],
        clock: Some("clk_i".into()),
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), SimError> {
    let design = design();
    let model = Model::build(&design, &BuildOptions::default())?;
    println!(
        "model {} in {:.2} s ({})",
        model.dir().display(),
        model.build_time().as_secs_f64(),
        if model.was_cached() { "cached" } else { "built" }
    );

    // 1. Interactive: poke inputs by name, look at outputs.
    let mut s = model.session()?;
    s.poke("clear_i", 1)?;
    s.tick()?;
    s.poke("clear_i", 0)?;
    s.poke("a_i", -3)?;
    s.poke("b_i", 7)?;
    println!("prod_o = {} (combinational, before the edge)", s.peek_i64("prod_o")?);
    s.ticks(4)?;
    println!("acc_o after 4 cycles = {}", s.peek_i64("acc_o")?);
    if let Err(e) = s.poke("a_i", 200) {
        println!("as expected: {e}");
    }
    s.close()?;

    // 2. Checked run: stimulus and golden model in Rust, compared in C++.
    let l = model.layout();
    let (clear, a, b) = (l.input("clear_i")?, l.input("a_i")?, l.input("b_i")?);
    let (prod, acc) = (l.output("prod_o")?, l.output("acc_o")?);
    let source = || {
        let mut state = 42u64;
        let mut acc_model: Option<i64> = None;
        move |f: &mut Frame<'_>| {
            if f.cycle() >= 100_000 {
                return false;
            }
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (va, vb) = ((state >> 40) as i8 as i64, (state >> 48) as i8 as i64);
            let clr = f.cycle() == 0 || state >> 60 == 0;
            f.set_u64(clear, clr as u64);
            f.set_i64(a, va);
            f.set_i64(b, vb);
            f.expect_i64(prod, va * vb);
            if let Some(v) = acc_model {
                f.expect_i64(acc, v);
            }
            // 24-bit wrap-around, as the hardware does.
            let next = if clr { 0 } else { acc_model.unwrap_or(0) + va * vb };
            acc_model = Some(Bits::from_i64(24, next).i64_field(0, 24));
            true
        }
    };
    let report = model.check(source)?;
    println!("Verilator: {report}");

    // 3. The same vectors (first 2,000) under Icarus Verilog.
    let frames = Frames::record_at_most(l, source(), 2_000)?;
    let tb = testbench::write(&design, &frames)?;
    match testbench::run_icarus(&design, &tb, &Default::default()) {
        Ok(r) => println!(
            "Icarus: PASS, {} cycles, {} values compared (files in {})",
            r.cycles,
            r.compared,
            r.dir.display()
        ),
        Err(e @ SimError::ToolMissing { .. }) => println!("skipping Icarus: {e}"),
        Err(e) => return Err(e),
    }
    Ok(())
}

//! Checked vectors/s through the Rust driver next to a plain C++ loop
//! driving the same Verilator model with the same vectors.
//!
//! `cargo bench -p accgen-sim --bench throughput` (a plain main, no harness
//! crate). Cycles: `ACCGEN_BENCH_CYCLES` (default 5,000,000).

use accgen_hdl::{Design, Dir, PortInfo, VerilogFile};
use accgen_sim::{BuildOptions, Frame, Model};

/// The tiny design of the measurement: an 8-bit registered adder with a
/// valid bit (4 driven inputs, 2 outputs: 7 words per frame).
fn acc_add() -> Design {
    let text = r#"`default_nettype none
module bench_add (
    input  wire       clk_i,
    input  wire       rst_i,
    input  wire       valid_i,
    input  wire [7:0] a_i,
    input  wire [7:0] b_i,
    output reg        valid_o,
    output reg  [8:0] sum_o
);
    always @(posedge clk_i) begin
        if (rst_i) begin
            valid_o <= 1'b0;
            sum_o   <= 9'd0;
        end else begin
            valid_o <= valid_i;
            sum_o   <= {1'b0, a_i} + {1'b0, b_i};
        end
    end
endmodule
`default_nettype wire
"#;
    let port = |name: &str, dir, width| PortInfo {
        name: name.into(),
        dir,
        width,
        signed: false,
        doc: String::new(),
    };
    Design {
        top: "bench_add".into(),
        files: vec![VerilogFile {
            module: "bench_add".into(),
            text: text.into(),
        }],
        ports: vec![
            port("clk_i", Dir::In, 1),
            port("rst_i", Dir::In, 1),
            port("valid_i", Dir::In, 1),
            port("a_i", Dir::In, 8),
            port("b_i", Dir::In, 8),
            port("valid_o", Dir::Out, 1),
            port("sum_o", Dir::Out, 9),
        ],
        clock: Some("clk_i".into()),
    }
}

fn main() -> Result<(), accgen_sim::SimError> {
    let cycles: u64 = std::env::var("ACCGEN_BENCH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let design = acc_add();
    let start = std::time::Instant::now();
    let model = Model::build(&design, &BuildOptions::default())?;
    println!(
        "model: {} ({}, {:.3} s)",
        model.dir().display(),
        if model.was_cached() { "cached" } else { "built" },
        model.build_time().as_secs_f64()
    );
    let l = model.layout();
    let (rst, vi, a, b) = (l.input("rst_i")?, l.input("valid_i")?, l.input("a_i")?, l.input("b_i")?);
    let (vo, sum) = (l.output("valid_o")?, l.output("sum_o")?);
    let source = || {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut pending = None;
        move |f: &mut Frame<'_>| {
            let c = f.cycle();
            if c >= cycles {
                return false;
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if let Some((v, s)) = pending {
                f.expect_u64(vo, v);
                f.expect_u64(sum, s);
            }
            let (va, vb, vv) = (state & 0xff, (state >> 8) & 0xff, (state >> 16) & 1);
            let reset = c < 2;
            f.set_u64(rst, reset as u64);
            f.set_u64(vi, vv);
            f.set_u64(a, va);
            f.set_u64(b, vb);
            pending = Some(if reset { (0, 0) } else { (vv, va + vb) });
            true
        }
    };
    // Start-up: from the build call (a cache hit after the first run) to
    // the first checked vectors back.
    let first = model.check(|| {
        let mut s = source();
        move |f: &mut Frame<'_>| f.cycle() < 10 && s(f)
    })?;
    println!(
        "build call to first 10 checked vectors: {:.3} s ({})",
        start.elapsed().as_secs_f64(),
        first
    );
    let t = model.throughput(source)?;
    println!("{t}");
    Ok(())
}

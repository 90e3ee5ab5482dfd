//! Small hand-written designs the tests build (few, so the suite stays fast:
//! each distinct design is one Verilator build, cached across runs).
#![allow(dead_code)] // each test binary uses a different subset

use accgen_hdl::{Design, Dir, PortInfo, VerilogFile};

fn port(name: &str, dir: Dir, width: u32, signed: bool, doc: &str) -> PortInfo {
    PortInfo {
        name: name.into(),
        dir,
        width,
        signed,
        doc: doc.into(),
    }
}

/// Registered 8-bit adder with a valid bit and synchronous reset: one cycle
/// of latency, `sum_o = a_i + b_i` (9 bits), `valid_o` follows `valid_i`.
pub fn acc_add() -> Design {
    acc_add_with("sum_d = {1'b0, a_i} + {1'b0, b_i};")
}

/// The same adder with a different sum expression (for mutation tests).
pub fn acc_add_with(sum_expr: &str) -> Design {
    let text = format!(
        r#"`default_nettype none
module acc_add (
    input  wire       clk_i,
    input  wire       rst_i,
    input  wire       valid_i,
    input  wire [7:0] a_i,
    input  wire [7:0] b_i,
    output wire       valid_o,
    output wire [8:0] sum_o
);
    reg       valid_q;
    reg [8:0] sum_q;
    reg [8:0] sum_d;
    always @(*) begin
        {sum_expr}
    end
    always @(posedge clk_i) begin
        if (rst_i) begin
            valid_q <= 1'b0;
            sum_q   <= 9'd0;
        end else begin
            valid_q <= valid_i;
            sum_q   <= sum_d;
        end
    end
    assign valid_o = valid_q;
    assign sum_o   = sum_q;
endmodule
`default_nettype wire
"#
    );
    Design {
        top: "acc_add".into(),
        files: vec![VerilogFile {
            module: "acc_add".into(),
            text,
        }],
        ports: vec![
            port("clk_i", Dir::In, 1, false, "clock"),
            port("rst_i", Dir::In, 1, false, "synchronous reset, active high"),
            port("valid_i", Dir::In, 1, false, "operands valid"),
            port("a_i", Dir::In, 8, false, "operand a"),
            port("b_i", Dir::In, 8, false, "operand b"),
            port("valid_o", Dir::Out, 1, false, "sum valid, 1 cycle after valid_i"),
            port("sum_o", Dir::Out, 9, false, "a + b, 1 cycle latency"),
        ],
        clock: Some("clk_i".into()),
    }
}

/// Wide ports in a clocked design, with a combinational path:
/// - `wsum_o = w_i + sign_extend(q_i)` (100 bits, combinational),
/// - `neg_o  = -q_i` registered (40-bit signed, 33..64-bit storage),
/// - `wq_o   = w_i` registered (100 bits).
pub fn wide_mix() -> Design {
    let text = r#"`default_nettype none
module wide_mix (
    input  wire               clk_i,
    input  wire        [99:0] w_i,
    input  wire signed [39:0] q_i,
    output wire        [99:0] wsum_o,
    output wire signed [39:0] neg_o,
    output wire        [99:0] wq_o
);
    reg signed [39:0] neg_q;
    reg        [99:0] wq_q;
    assign wsum_o = w_i + {{60{q_i[39]}}, q_i};
    always @(posedge clk_i) begin
        neg_q <= -q_i;
        wq_q  <= w_i;
    end
    assign neg_o = neg_q;
    assign wq_o  = wq_q;
endmodule
`default_nettype wire
"#;
    Design {
        top: "wide_mix".into(),
        files: vec![VerilogFile {
            module: "wide_mix".into(),
            text: text.into(),
        }],
        ports: vec![
            port("clk_i", Dir::In, 1, false, "clock"),
            port("w_i", Dir::In, 100, false, "wide operand"),
            port("q_i", Dir::In, 40, true, "signed operand"),
            port("wsum_o", Dir::Out, 100, false, "w_i + q_i, combinational"),
            port("neg_o", Dir::Out, 40, true, "-q_i, 1 cycle latency"),
            port("wq_o", Dir::Out, 100, false, "w_i, 1 cycle latency"),
        ],
        clock: Some("clk_i".into()),
    }
}

/// A purely combinational design (no clock): `y_o = a_i ^ b_i`,
/// `gt_o = a_i > b_i` (signed compare).
pub fn comb_xor() -> Design {
    let text = r#"`default_nettype none
module comb_xor (
    input  wire signed [5:0] a_i,
    input  wire signed [5:0] b_i,
    output wire        [5:0] y_o,
    output wire              gt_o
);
    assign y_o  = a_i ^ b_i;
    assign gt_o = a_i > b_i;
endmodule
`default_nettype wire
"#;
    Design {
        top: "comb_xor".into(),
        files: vec![VerilogFile {
            module: "comb_xor".into(),
            text: text.into(),
        }],
        ports: vec![
            port("a_i", Dir::In, 6, true, "operand a"),
            port("b_i", Dir::In, 6, true, "operand b"),
            port("y_o", Dir::Out, 6, false, "a ^ b"),
            port("gt_o", Dir::Out, 1, false, "a > b, signed"),
        ],
        clock: None,
    }
}

/// Golden model of `acc_add` driven by a seeded generator: reset for two
/// cycles, then random operands with random valid; expectations of the
/// registered outputs one cycle later. `wrong_at` corrupts the expected sum
/// of one cycle (for mismatch tests).
pub struct AccAddStim {
    pub rst: accgen_sim::InputId,
    pub valid_i: accgen_sim::InputId,
    pub a: accgen_sim::InputId,
    pub b: accgen_sim::InputId,
    pub valid_o: accgen_sim::OutputId,
    pub sum: accgen_sim::OutputId,
}

impl AccAddStim {
    pub fn new(layout: &accgen_sim::Layout) -> Self {
        AccAddStim {
            rst: layout.input("rst_i").unwrap(),
            valid_i: layout.input("valid_i").unwrap(),
            a: layout.input("a_i").unwrap(),
            b: layout.input("b_i").unwrap(),
            valid_o: layout.output("valid_o").unwrap(),
            sum: layout.output("sum_o").unwrap(),
        }
    }

    /// A deterministic source of `cycles` cycles.
    pub fn source(
        &self,
        cycles: u64,
        seed: u64,
        wrong_at: Option<u64>,
    ) -> impl FnMut(&mut accgen_sim::Frame<'_>) -> bool + use<> {
        let AccAddStim {
            rst,
            valid_i,
            a,
            b,
            valid_o,
            sum,
        } = *self;
        let mut state = seed | 1;
        // (valid, sum) registered from the previous cycle; None during reset
        let mut pending: Option<(bool, u64)> = None;
        move |f| {
            let c = f.cycle();
            if c >= cycles {
                return false;
            }
            // xorshift64: cheap and deterministic
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if let Some((v, s)) = pending {
                f.expect_u64(valid_o, v as u64);
                let s = if Some(c) == wrong_at { s ^ 1 } else { s };
                f.expect_u64(sum, s);
            }
            let in_reset = c < 2;
            let (va, vb, vv) = (state & 0xff, (state >> 8) & 0xff, (state >> 16) & 1 == 1);
            f.set_u64(rst, in_reset as u64);
            f.set_u64(a, va);
            f.set_u64(b, vb);
            f.set_u64(valid_i, vv as u64);
            pending = Some(if in_reset { (false, 0) } else { (vv, va + vb) });
            true
        }
    }
}

/// No driven inputs and more than 32 outputs (two care words): a 40-bit
/// free-running counter without reset, each bit on its own 1-bit output.
/// Verilator starts it at 0 (`--x-initial fast`); in Icarus it stays X.
pub fn bit_counter() -> Design {
    let mut text = String::from("`default_nettype none\nmodule bit_counter (\n    input  wire clk_i,\n");
    let outs: Vec<String> = (0..40).map(|i| format!("    output wire b{i}_o")).collect();
    text.push_str(&outs.join(",\n"));
    text.push_str("\n);\n    reg [39:0] count_q;\n");
    text.push_str("    always @(posedge clk_i) count_q <= count_q + 40'd1;\n");
    for i in 0..40 {
        text.push_str(&format!("    assign b{i}_o = count_q[{i}];\n"));
    }
    text.push_str("endmodule\n`default_nettype wire\n");
    let mut ports = vec![port("clk_i", Dir::In, 1, false, "clock")];
    ports.extend((0..40).map(|i| port(&format!("b{i}_o"), Dir::Out, 1, false, "counter bit")));
    Design {
        top: "bit_counter".into(),
        files: vec![VerilogFile {
            module: "bit_counter".into(),
            text,
        }],
        ports,
        clock: Some("clk_i".into()),
    }
}

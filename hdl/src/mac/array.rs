//! The R x C output-stationary systolic MAC array.
//!
//! Dataflow: each input beat carries one column of the activation tile
//! (A[r][k] for every row r) and one row of the weight tile (B[k][c] for every
//! column c). Row r's activations enter PE(r, 0) after r+1 cycles of skew and
//! move right one PE per cycle; column c's weights enter PE(0, c) after c+1
//! cycles and move down. Both reach PE(r, c) in the same cycle, so every PE
//! sees the beats of its dot product in order. A valid/first/last token
//! travels with the activations and tells each PE when to restart and when
//! to publish its sum. Row r of the result is complete when the token leaves
//! the row; the finished rows drain through one output register, row 0
//! first, one row per cycle.
//!
//! The whole array advances together: when the output is stalled (valid and
//! not ready) every register holds, so the timing between beats and results
//! is fixed and the golden model can predict it cycle by cycle.

use super::params::MacArrayParams;
use super::pe;
use crate::ir::{
    Expr, LValue, Module, ModuleBuilder, ModuleDoc, ResetStyle, Signal, Ty, Width, concat, drive, repeat, sink,
};
use crate::params::bits_for;

/// Module name, encoding every parameter that changes its contents.
pub fn name(p: &MacArrayParams) -> String {
    format!(
        "accgen_mac_array_{}x{}_k{}_{}{}{}",
        p.rows,
        p.cols,
        p.dot_length,
        p.arith_tag(),
        p.output_tag(),
        match p.reset {
            ResetStyle::SyncHigh => "",
            ResetStyle::AsyncLow => "_arst",
        }
    )
}

/// Bits of the control token carried with the activations.
const CTL_W: u32 = 3;
const CTL_VALID: u32 = 2;
const CTL_FIRST: u32 = 1;
const CTL_LAST: u32 = 0;

fn doc(p: &MacArrayParams) -> ModuleDoc {
    let (r, c, k) = (p.rows, p.cols, p.dot_length);
    let s = p.tile_spacing();
    ModuleDoc {
        title: format!("{r} x {c} output-stationary systolic MAC array, K = {k}, {} x {} -> {}-bit sums", p.act, p.wgt, p.acc_width),
        description: vec![
            format!("Computes result tiles Y = A x B with A of {r} x {k} activations and B of {k} x {c} weights. Each accepted input beat k carries A[0..{r}][k] on in_act_i (row r at bits [r*ACT_W +: ACT_W]) and B[k][0..{c}] on in_wgt_i (column c at [c*WGT_W +: WGT_W]); every {k} beats form one tile."),
            "Row r's activations are delayed r+1 cycles and move right one PE per cycle; column c's weights are delayed c+1 cycles and move down, so A[r][k] and B[k][c] meet in PE(r, c). A valid/first/last token travels with the activations. Each finished row leaves through the output register, row 0 first: out_data_o holds Y[r][0..C] with column c at [c*ACC_W +: ACC_W], and out_last_o marks row R-1.".into(),
            "Streams follow valid/ready: a transfer happens on a rising edge with valid and ready both high; out_valid_o never depends on out_ready_i, and a stalled output (valid and not ready) holds every register of the array.".into(),
        ],
        params: vec![
            ("ROWS".into(), r.to_string(), "PE rows (R)".into()),
            ("COLS".into(), c.to_string(), "PE columns (C)".into()),
            ("DOT_K".into(), k.to_string(), "beats per tile (dot-product length K)".into()),
            ("activations".into(), p.act.to_string(), "in_act_i element format".into()),
            ("weights".into(), p.wgt.to_string(), "in_wgt_i element format".into()),
            ("ACC_W".into(), p.acc_width.to_string(), format!("result width, {}", if p.signed() { "signed" } else { "unsigned" })),
            ("overflow".into(), format!("{:?}", p.overflow).to_lowercase(), if p.can_overflow() { "applied at every accumulation step".into() } else { "cannot happen at this width".into() }),
            ("multiplier".into(), p.multiplier.tag().into(), "PE multiplier structure".into()),
            ("reset".into(), p.reset.port_name().into(), p.reset.doc().into()),
        ]
        .into_iter()
        .chain((p.pipeline > 0).then(|| {
            (
                "PIPELINE".into(),
                p.pipeline.to_string(),
                "register stages between each PE's multiplier and accumulator".into(),
            )
        }))
        .collect(),
        timing: vec![
            match (p.pipeline, p.output_stages()) {
                (0, 0) => format!("Latency: row r of a tile is on out_data_o {} + r cycles after the tile's last beat is accepted (R + C + 1 cycles for the last row), not counting stalls.", c + 2),
                (pe, 0) => format!("Latency: row r of a tile is on out_data_o {} + r cycles after the tile's last beat is accepted (R + C + 1 + PIPELINE cycles for the last row, with PIPELINE = {pe} register stages in each PE), not counting stalls.", p.row_latency(0)),
                (pe, q) => format!("Latency: row r of a tile is on out_data_o {} + r cycles after the tile's last beat is accepted (R + C + 1 + {pe} + {q} cycles for the last row: {pe} register stages in each PE, {q} in each output rounder), not counting stalls.", p.row_latency(0)),
            },
            format!("Throughput: one beat per cycle, i.e. one MAC per PE per cycle, while K >= max(R, C) = {s}. A tile's last beat is accepted at least {s} cycles after the previous tile's last beat (in_ready_o drops otherwise), so tiles with K < {s} run at K/{s} of peak."),
        ],
    }
}

/// The array module with its PE and multiplier, dependencies first.
pub fn array(p: &MacArrayParams) -> Vec<Module> {
    let mut modules = pe::pe(p);
    let pe_mod = modules
        .last()
        .cloned()
        .unwrap_or_else(|| unreachable!("pe() returns the PE last"));
    let (rows, cols, k) = (p.rows, p.cols, p.dot_length);
    let (aw, ww, accw) = (p.act.width(), p.wgt.width(), p.acc_width);
    let specials = p.has_specials();
    // Each PE's result entry: the sum, and its special-value code when operands have specials.
    let entry = accw + if specials { 2 } else { 0 };
    let outw = p.result_width();

    let mut m = ModuleBuilder::new(name(p), doc(p));
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let rst = m.input(p.reset.port_name(), Ty::BIT, p.reset.doc());
    let in_valid = m.input("in_valid_i", Ty::BIT, "input beat valid");
    let in_ready = m.output("in_ready_o", Ty::BIT, "input beat accepted when valid");
    let in_act = m.input(
        "in_act_i",
        Ty::u(rows * aw),
        "A[r][k] for every row r, row r at [r*ACT_W +: ACT_W]",
    );
    let in_wgt = m.input(
        "in_wgt_i",
        Ty::u(cols * ww),
        "B[k][c] for every column c, column c at [c*WGT_W +: WGT_W]",
    );
    let out_valid = m.output("out_valid_o", Ty::BIT, "result row valid");
    let out_ready = m.input("out_ready_i", Ty::BIT, "result row taken when valid");
    let out_data = m.output(
        "out_data_o",
        Ty::u(cols * outw),
        "Y[r][c] for one row r, column c at [c*ACC_W +: ACC_W]",
    );
    let out_last = m.output("out_last_o", Ty::BIT, "this is row R-1, the last row of the tile");

    let rows_p = m.localparam("ROWS", rows as i64, "PE rows (R)");
    let cols_p = m.localparam("COLS", cols as i64, "PE columns (C)");
    let act_w = m.localparam("ACT_W", aw as i64, &format!("activation width ({})", p.act));
    let wgt_w = m.localparam("WGT_W", ww as i64, &format!("weight width ({})", p.wgt));
    let entry_w = if specials {
        m.localparam(
            "ENTRY_W",
            entry as i64,
            &format!("{accw}-bit sum + 2 bits of special-value code"),
        )
    } else {
        m.localparam("ACC_W", accw as i64, "sum width, see the PE")
    };
    let row_w = m.localparam(
        "ROW_W",
        (cols * entry) as i64,
        &format!("COLS * {}: one row of results", entry_w.name),
    );
    let tok_w = m.localparam("TOK_W", CTL_W as i64, "token bits: {valid, first, last}");
    let grid = |p: &crate::ir::Param| {
        Width::named(
            rows * cols * p.value as u32,
            format!("{}*{}*{}", rows_p.name, cols_p.name, p.name),
        )
    };

    let reset_style = p.reset;
    let pipeline = p.pipeline;
    let reset_values =
        |regs: &[&Signal]| -> Vec<(LValue, Expr)> { regs.iter().map(|r| (LValue::from(*r), r.ty().zero())).collect() };

    // ---- Flow control -------------------------------------------------
    m.section(
        "Flow control",
        &["The array advances when the output register is empty or being read; otherwise every register holds."],
    );
    let out_valid_q = m.reg("out_valid_q", 1, false, "output register holds a row");
    let out_last_q = m.reg("out_last_q", 1, false, "that row is the tile's last");
    let out_data_w = if outw == entry {
        Width::from(&row_w)
    } else {
        Width::from(cols * outw)
    };
    let out_data_q = m.reg("out_data_q", out_data_w, false, "the row, as it leaves on out_data_o");
    let out_special = (specials && p.output.is_none()).then(|| {
        m.output(
            "out_special_o",
            Ty::u(2 * cols),
            &format!("special value of each column, [2*c +: 2]: {}", pe::SPECIAL_DOC),
        )
    });
    let out_special_q = out_special
        .as_ref()
        .map(|_| m.reg("out_special_q", 2 * cols, false, "special codes of the row"));
    let advance = m.wire_of(
        "advance",
        !&out_valid_q | out_ready.e(),
        "every register of the array updates this cycle",
    );

    let beat_w = bits_for(k as u64 - 1);
    let (first, last, beat_q) = if k > 1 {
        let beat_q = m.reg("beat_q", beat_w, false, "beats of the current tile accepted so far");
        let first = m.wire_of(
            "beat_first",
            beat_q.e().eq(Ty::u(beat_w).zero()),
            "this beat starts a tile",
        );
        let last = m.wire_of(
            "beat_last",
            beat_q.e().eq(Ty::u(beat_w).lit(k as i128 - 1)),
            "this beat ends a tile",
        );
        (first.e(), last.e(), Some(beat_q))
    } else {
        (Ty::BIT.lit(1), Ty::BIT.lit(1), None)
    };

    // A tile's results sit in the PEs' result registers until their row is
    // read, so a new tile may finish only `spacing` cycles after the last one.
    let spacing = p.tile_spacing();
    let throttle = if k < spacing {
        let gap_w = bits_for(spacing as u64 - 1);
        let gap_q = m.reg("gap_q", gap_w, false, "cycles until another tile may finish");
        Some((gap_q, gap_w))
    } else {
        None
    };
    let in_ready_d = match &throttle {
        Some((gap_q, gap_w)) => {
            let may_finish = m.wire_of(
                "may_finish",
                gap_q.e().eq(Ty::u(*gap_w).zero()),
                "the previous tile's rows are safe",
            );
            if k > 1 {
                advance.e() & (!last.clone() | may_finish.e())
            } else {
                advance.e() & may_finish.e()
            }
        }
        // K >= max(R, C): tiles never finish too close together.
        None => advance.e(),
    };
    m.assign(&in_ready, in_ready_d);
    let accept = m.wire_of("accept", in_valid.e() & in_ready.e(), "an input beat is taken");
    let token = m.wire_of(
        "token",
        concat(vec![accept.e(), first.clone(), last.clone()]),
        "{valid, first, last} of this cycle's beat",
    );

    {
        let mut regs: Vec<&Signal> = Vec::new();
        if let Some(b) = &beat_q {
            regs.push(b);
        }
        if let Some((g, _)) = &throttle {
            regs.push(g);
        }
        if !regs.is_empty() {
            let values = reset_values(&regs);
            let (beat_q, throttle) = (beat_q.clone(), throttle.clone());
            let (accept, last) = (accept.clone(), last.clone());
            m.process(&clk, |pr| {
                pr.reset(&rst, reset_style, values);
                pr.enable(&advance);
                if let Some(b) = &beat_q {
                    let t = Ty::u(beat_w);
                    pr.when(&accept, |pr| {
                        pr.set(b, crate::ir::mux(last.clone(), t.zero(), b + t.lit(1)))
                    });
                }
                if let Some((g, gw)) = &throttle {
                    let t = Ty::u(*gw);
                    pr.when_else(
                        accept.e() & last.clone(),
                        |pr| pr.set(g, t.lit(spacing as i128 - 1)),
                        |pr| pr.when(g.e().ne(t.zero()), |pr| pr.set(g, g - t.lit(1))),
                    );
                }
            });
        }
    }

    // ---- Input skew ---------------------------------------------------
    m.section(
        "Input skew",
        &["Row r's activations and tokens are delayed r+1 cycles, column c's weights c+1 cycles, so operands meet in the right PE. Each delay line is a shift register; the oldest entry is on top."],
    );
    let mut act_skew = Vec::new();
    let mut ctl_skew = Vec::new();
    let mut wgt_skew = Vec::new();
    for r in 0..rows {
        act_skew.push(m.reg(
            &format!("act_skew_r{r}_q"),
            act_w.times(r + 1),
            false,
            &format!("row {r}: {} cycle(s)", r + 1),
        ));
    }
    for r in 0..rows {
        ctl_skew.push(m.reg(
            &format!("tok_skew_r{r}_q"),
            tok_w.times(r + 1),
            false,
            &format!("row {r} token: {} cycle(s)", r + 1),
        ));
    }
    for c in 0..cols {
        wgt_skew.push(m.reg(
            &format!("wgt_skew_c{c}_q"),
            wgt_w.times(c + 1),
            false,
            &format!("column {c}: {} cycle(s)", c + 1),
        ));
    }
    let shift_in = |reg: &Signal, new: Expr| -> Expr {
        let w = new.width();
        if reg.width() == w {
            new
        } else {
            concat(vec![reg.select(0u32, reg.width() - w), new])
        }
    };
    {
        let values = reset_values(&ctl_skew.iter().collect::<Vec<_>>());
        let (ctl_skew, token) = (ctl_skew.clone(), token.clone());
        m.process(&clk, |pr| {
            pr.reset(&rst, reset_style, values);
            pr.enable(&advance);
            for reg in &ctl_skew {
                pr.set(reg, shift_in(reg, token.e()));
            }
        });
    }
    {
        let (act_skew, wgt_skew) = (act_skew.clone(), wgt_skew.clone());
        let (in_act, in_wgt) = (in_act.clone(), in_wgt.clone());
        m.process(&clk, |pr| {
            pr.enable(&advance);
            for (r, reg) in act_skew.iter().enumerate() {
                pr.set(reg, shift_in(reg, in_act.select(r as u32 * aw, aw)));
            }
            for (c, reg) in wgt_skew.iter().enumerate() {
                pr.set(reg, shift_in(reg, in_wgt.select(c as u32 * ww, ww)));
            }
        });
    }

    // ---- PE operand buses ---------------------------------------------
    m.section(
        "PE operand buses",
        &["PE(r, c) reads act_bus and tok_bus at index r*COLS + c and wgt_bus at c*ROWS + r (a column is contiguous). Edge PEs read the skew lines; the others read their neighbour's forwarding register."],
    );
    let act_bus = m.wire("act_bus", grid(&act_w), false, "activation entering each PE");
    let tok_bus = m.wire("tok_bus", grid(&tok_w), false, "token entering each PE");
    let wgt_bus = m.wire("wgt_bus", grid(&wgt_w), false, "weight entering each PE");
    let res_bus = m.wire(
        "res_bus",
        grid(&entry_w),
        false,
        "each PE's result, row r at [r*ROW_W +: ROW_W]",
    );
    let row_done = m.wire("row_done", rows, false, "row r's results are complete this cycle");
    for r in 0..rows {
        let top = act_skew[r as usize].select(r * aw, aw);
        m.assign(act_bus.part(r * cols * aw, aw), top);
    }
    for r in 0..rows {
        let top = ctl_skew[r as usize].select(r * CTL_W, CTL_W);
        m.assign(tok_bus.part(r * cols * CTL_W, CTL_W), top);
    }
    for c in 0..cols {
        let top = wgt_skew[c as usize].select(c * ww, ww);
        m.assign(wgt_bus.part(c * rows * ww, ww), top);
    }

    // ---- Weights move down each column ---------------------------------
    if rows > 1 {
        m.section(
            "Weight forwarding",
            &["Each PE passes its weight to the PE below one cycle later."],
        );
        let span = Width::named((rows - 1) * ww, "(ROWS-1)*WGT_W");
        m.gen_for("gen_wgt_col", "c", &cols_p, |m, c| {
            let fwd = m.reg(
                "wgt_fwd_q",
                span.clone(),
                false,
                "weights of rows 0..ROWS-2, one cycle later",
            );
            let base = (c * (rows as i64 * ww as i64)).named("c*ROWS*WGT_W");
            m.process(&clk, |pr| {
                pr.enable(&advance);
                pr.set(&fwd, wgt_bus.select(base.clone(), span.clone()));
            });
            m.assign(
                wgt_bus.part((base + ww as i64).named("c*ROWS*WGT_W + WGT_W"), span.clone()),
                &fwd,
            );
        });
    }

    // ---- Rows: forwarding, PEs, completion ----------------------------
    m.section(
        "PE rows",
        &["Activations and tokens move right one PE per cycle. The token leaving PE(r, COLS-1) marks the cycle when row r's result registers are all loaded."],
    );
    let row_sel = m.wire(
        "row_sel",
        Width::named(rows * cols * entry, "ROWS*ROW_W"),
        false,
        "row r's results while it is done, else zero",
    );
    // Token bit positions, named so the bus indexing reads.
    let tok_bit = [
        m.localparam("TOK_LAST", CTL_LAST as i64, "token bit: last beat of the tile"),
        m.localparam("TOK_FIRST", CTL_FIRST as i64, "token bit: first beat of the tile"),
        m.localparam("TOK_VALID", CTL_VALID as i64, "token bit: a beat is present"),
    ];
    let entry_name = entry_w.name.clone();
    m.gen_for("gen_row", "r", &rows_p, |m, r| {
        let row_act = (r * (cols as i64 * aw as i64)).named("r*COLS*ACT_W");
        let row_tok = (r * (cols as i64 * CTL_W as i64)).named("r*COLS*TOK_W");
        if cols > 1 {
            let span_a = Width::named((cols - 1) * aw, "(COLS-1)*ACT_W");
            let span_t = Width::named((cols - 1) * CTL_W, "(COLS-1)*TOK_W");
            let act_fwd = m.reg(
                "act_fwd_q",
                span_a.clone(),
                false,
                "activations of columns 0..COLS-2, one cycle later",
            );
            let tok_fwd = m.reg(
                "tok_fwd_q",
                span_t.clone(),
                false,
                "tokens of columns 0..COLS-2, one cycle later",
            );
            m.process(&clk, |pr| {
                pr.reset(
                    &rst,
                    reset_style,
                    vec![(LValue::from(&tok_fwd), Ty::u(span_t.value).zero())],
                );
                pr.enable(&advance);
                pr.set(&tok_fwd, tok_bus.select(row_tok.clone(), span_t.clone()));
            });
            m.process(&clk, |pr| {
                pr.enable(&advance);
                pr.set(&act_fwd, act_bus.select(row_act.clone(), span_a.clone()));
            });
            m.assign(
                act_bus.part((row_act.clone() + aw as i64).named("r*COLS*ACT_W + ACT_W"), span_a),
                &act_fwd,
            );
            m.assign(
                tok_bus.part((row_tok.clone() + CTL_W as i64).named("r*COLS*TOK_W + TOK_W"), span_t),
                &tok_fwd,
            );
        }
        // Bit `bit` of the token entering PE(r, c).
        let tok = |c: crate::ir::Index, c_text: &str, bit: usize| {
            let at = r * (cols as i64 * CTL_W as i64) + c + tok_bit[bit].value;
            tok_bus.bit(at.named(format!("(r*COLS + {c_text})*TOK_W + {}", tok_bit[bit].name)))
        };
        let last_col = crate::ir::Index::lit((cols - 1) as i64 * CTL_W as i64);
        let done_q = m.reg("done_q", 1, false, "row's last PE published a sum");
        let row_last =
            tok(last_col.clone(), "COLS-1", CTL_VALID as usize) & tok(last_col.clone(), "COLS-1", CTL_LAST as usize);
        // The PEs publish their sums PIPELINE cycles after the last beat enters them.
        let done_d = if pipeline > 0 {
            let pipe_q = m.reg(
                "done_pipe_q",
                pipeline,
                false,
                "the last beat inside the row's last PE's pipeline, newest at bit 0",
            );
            let shifted = if pipeline == 1 {
                row_last
            } else {
                concat(vec![pipe_q.select(0u32, pipeline - 1), row_last])
            };
            m.process(&clk, |pr| {
                pr.reset(&rst, reset_style, vec![(LValue::from(&pipe_q), Ty::u(pipeline).zero())]);
                pr.enable(&advance);
                pr.set(&pipe_q, shifted);
            });
            pipe_q.bit(pipeline - 1)
        } else {
            row_last
        };
        m.process(&clk, |pr| {
            pr.reset(&rst, reset_style, vec![(LValue::from(&done_q), Ty::BIT.zero())]);
            pr.enable(&advance);
            pr.set(&done_q, done_d);
        });
        m.assign(row_done.part(r, 1), &done_q);
        let row_res = (r * (cols as i64 * entry as i64)).named("r*ROW_W");
        m.assign(
            row_sel.part(row_res.clone(), &row_w),
            repeat(cols * entry, done_q.e()) & res_bus.select(row_res, &row_w),
        );
        m.gen_for("gen_col", "c", &cols_p, |m, c| {
            let tok_c = crate::ir::Index::from(c) * CTL_W as i64;
            let pe_at = |w: i64, name: &str| (r * (cols as i64 * w) + c * w).named(format!("(r*COLS + c)*{name}"));
            let res_at = pe_at(entry as i64, &entry_name);
            let mut conns = vec![("clk_i", drive(&clk))];
            if pipeline > 0 {
                conns.push((reset_style.port_name(), drive(&rst)));
            }
            conns.extend([
                ("en_i", drive(&advance)),
                ("valid_i", drive(tok(tok_c.clone(), "c", CTL_VALID as usize))),
                ("first_i", drive(tok(tok_c.clone(), "c", CTL_FIRST as usize))),
                ("last_i", drive(tok(tok_c, "c", CTL_LAST as usize))),
                ("act_i", drive(act_bus.select(pe_at(aw as i64, "ACT_W"), &act_w))),
                (
                    "wgt_i",
                    drive(wgt_bus.select(
                        (c * (rows as i64 * ww as i64) + r * ww as i64).named("(c*ROWS + r)*WGT_W"),
                        &wgt_w,
                    )),
                ),
                (
                    "res_o",
                    sink(res_bus.part(
                        res_at.clone(),
                        if specials {
                            Width::from(accw)
                        } else {
                            Width::from(&entry_w)
                        },
                    )),
                ),
            ]);
            if specials {
                let at = (res_at + accw as i64).named(format!("(r*COLS + c)*{entry_name} + {accw}"));
                conns.push(("res_special_o", sink(res_bus.part(at, 2))));
            }
            m.instance(&pe_mod, "u_pe", conns);
        });
    });

    // ---- Output register ----------------------------------------------
    m.section(
        "Output register",
        &["At most one row completes per cycle, so OR-ing the masked rows selects it."],
    );
    let final_row = crate::common::or_tree(&mut m, "row_or", &row_sel, rows, &row_w);
    let mut extra_modules = Vec::new();
    let (data_d, special_d) = if let Some(out) = p.output {
        m.section(
            "Output rounding",
            &["Each column's exact sum is rounded to the output format (nearest even) on its way into the output register."],
        );
        let rounder = crate::minifloat::round::rounder(&p.round_input(), out.format, out.overflow, out.pipeline);
        let row = if rows == 1 {
            row_sel.clone()
        } else {
            m.wire_of("row_out", final_row, "the completed row")
        };
        let rounded = m.wire(
            "rounded",
            cols * outw,
            false,
            &format!("the row rounded to {}", out.format),
        );
        m.gen_for("gen_round", "c", cols, |m, c| {
            let at = c * entry as i64;
            let mut conns = Vec::new();
            if out.pipeline > 0 {
                conns.extend([("clk_i", drive(&clk)), ("en_i", drive(&advance))]);
            }
            conns.extend([
                ("acc_i", drive(row.select(at.clone(), accw))),
                ("code_o", sink(rounded.part(c * outw as i64, outw))),
            ]);
            if specials {
                conns.push(("special_i", drive(row.select(at + accw as i64, 2))));
            }
            m.instance(&rounder, "u_round", conns);
        });
        extra_modules.push(rounder);
        (rounded.e(), None)
    } else if specials {
        m.section(
            "Output split",
            &["Each column's entry is its sum and its special-value code."],
        );
        let row = if rows == 1 {
            row_sel.clone()
        } else {
            m.wire_of("row_out", final_row, "the completed row")
        };
        let sums = m.wire("row_sums", cols * accw, false, &format!("the row's {accw}-bit sums"));
        let codes = m.wire("row_specials", 2 * cols, false, "the row's special-value codes");
        m.gen_for("gen_split", "c", cols, |m, c| {
            m.assign(sums.part(c * accw as i64, accw), row.select(c * entry as i64, accw));
            m.assign(codes.part(c * 2, 2), row.select(c * entry as i64 + accw as i64, 2));
        });
        (sums.e(), Some(codes.e()))
    } else {
        (final_row, None)
    };
    m.section(
        "Output register",
        &["At most one row completes per cycle, so OR-ing the masked rows selects it."],
    );
    {
        let (out_valid_q, out_last_q, out_data_q, row_done) = (
            out_valid_q.clone(),
            out_last_q.clone(),
            out_data_q.clone(),
            row_done.clone(),
        );
        let out_special_q = out_special_q.clone();
        // A row is done, and it is the tile's last; delayed through the
        // rounders' stages when they have any.
        let (done_valid, done_last) = (row_done.e().reduce_or(), row_done.bit(rows - 1));
        let stages = p.output_stages();
        let (done_valid, done_last) = if stages > 0 {
            let pipe_q = m.reg(
                "round_pipe_q",
                2 * stages,
                false,
                "{last, valid} of the rows inside the rounders, newest at bits 1:0",
            );
            let newest = concat(vec![done_last, done_valid]);
            let shifted = if stages == 1 {
                newest
            } else {
                concat(vec![pipe_q.select(0u32, 2 * (stages - 1)), newest])
            };
            m.process(&clk, |pr| {
                pr.reset(
                    &rst,
                    reset_style,
                    vec![(LValue::from(&pipe_q), Ty::u(2 * stages).zero())],
                );
                pr.enable(&advance);
                pr.set(&pipe_q, shifted);
            });
            (pipe_q.bit(2 * stages - 2), pipe_q.bit(2 * stages - 1))
        } else {
            (done_valid, done_last)
        };
        m.process(&clk, |pr| {
            pr.reset(&rst, reset_style, vec![(LValue::from(&out_valid_q), Ty::BIT.zero())]);
            pr.enable(&advance);
            pr.set(&out_valid_q, done_valid);
        });
        m.process(&clk, |pr| {
            pr.enable(&advance);
            pr.set(&out_last_q, done_last);
            pr.set(&out_data_q, data_d);
            if let (Some(q), Some(d)) = (&out_special_q, special_d) {
                pr.set(q, d);
            }
        });
    }
    m.assign(&out_valid, &out_valid_q);
    m.assign(&out_last, &out_last_q);
    m.assign(&out_data, &out_data_q);
    if let (Some(o), Some(q)) = (&out_special, &out_special_q) {
        m.assign(o, q);
    }
    modules.extend(extra_modules);
    modules.push(m.finish());
    modules
}

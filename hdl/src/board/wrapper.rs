//! The board top level: UART in, MAC array, UART out (protocol in
//! [`crate::board`]).

use super::UartParams;
use super::protocol::Framing;
use super::uart;
use crate::ir::{LValue, Module, ModuleBuilder, ModuleDoc, ResetStyle, Ty, Width, concat, drive, sink};
use crate::mac::{MacArrayParams, array};
use crate::params::bits_for;

/// `accgen_uart_<array name without accgen_>_c<CLKS_PER_BIT>`.
pub fn name(p: &MacArrayParams, u: UartParams) -> String {
    let inner = array::name(p);
    format!(
        "accgen_uart_{}_c{}",
        inner.strip_prefix("accgen_").unwrap_or(&inner),
        u.clks_per_bit
    )
}

/// Bit periods of silence after which a partial beat is dropped.
pub const RESYNC_BITS: u32 = 1024;

/// The wrapper and everything below it, dependencies first.
pub fn wrapper(p: &MacArrayParams, u: UartParams) -> Vec<Module> {
    let mut modules = array::array(p);
    let arr = modules
        .last()
        .cloned()
        .unwrap_or_else(|| unreachable!("array() returns at least the array module"));
    let rx_mod = uart::rx(u.clks_per_bit);
    let tx_mod = uart::tx(u.clks_per_bit);
    let port_width = |name: &str| {
        arr.port(name)
            .map(|port| port.sig.width())
            .unwrap_or_else(|| unreachable!("the MAC array has a port {name}"))
    };
    let out_data_w = port_width("out_data_o");
    // Minifloat arrays without output rounding flag NaN and infinities beside the sums.
    let special_w = arr.port("out_special_o").map(|port| port.sig.width());
    let f = Framing::new(p, out_data_w);
    let (act_bits, wgt_bits) = (p.rows * f.act_w, p.cols * f.wgt_w);
    let (in_bytes, out_bytes) = (f.in_bytes(), f.out_bytes());
    let idle_limit = u64::from(RESYNC_BITS) * u64::from(u.clks_per_bit);

    let mut m = ModuleBuilder::new(
        name(p, u),
        ModuleDoc {
            title: format!(
                "{} x {} MAC array behind an 8N1 UART ({} clock cycles per bit)",
                p.rows, p.cols, u.clks_per_bit
            ),
            description: vec![
                format!(
                    "Operands: each input beat arrives as {in_bytes} bytes, least significant first: in_act_i in {} bytes, then in_wgt_i in {} bytes (unused top bits zero). {} beats form a tile.",
                    f.act_bytes(),
                    f.wgt_bytes(),
                    p.dot_length
                ),
                format!(
                    "Results: every result row of out_data_o{} leaves as {out_bytes} bytes, least significant first, row 0 first; {} rows per tile.",
                    if special_w.is_some() {
                        ", followed by its out_special_o codes,"
                    } else {
                        ""
                    },
                    p.rows
                ),
                format!(
                    "A partial beat is dropped after {RESYNC_BITS} bit periods without a byte, so a host that lost count pauses and starts again. A power-on counter holds the array and the UART in reset for {} cycles (FPGA flip-flops power up at zero).",
                    1u32 << (uart::POR_W - 1)
                ),
            ],
            params: vec![
                (
                    "CLKS_PER_BIT".into(),
                    u.clks_per_bit.to_string(),
                    "clock cycles per UART bit: f_clk / baud".into(),
                ),
                ("IN_BYTES".into(), in_bytes.to_string(), "bytes per input beat".into()),
                ("OUT_BYTES".into(), out_bytes.to_string(), "bytes per result row".into()),
                ("array".into(), arr.name.clone(), "the accelerator".into()),
            ],
            timing: vec![format!(
                "Bound by the UART: {} bit periods per tile in, {} per tile out.",
                10 * in_bytes * p.dot_length,
                10 * out_bytes * p.rows
            )],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "the board's oscillator");
    let rx_i = m.input("uart_rx_i", Ty::BIT, "serial data from the host, idle high");
    let tx_o = m.output("uart_tx_o", Ty::BIT, "serial data to the host, idle high");
    let led_o = m.output(
        "led_o",
        Ty::BIT,
        "toggles when a tile's last result row leaves the array",
    );

    m.localparam(
        "IN_BYTES",
        i64::from(in_bytes),
        &format!(
            "bytes per input beat: ceil({} x {} / 8) of activations + ceil({} x {} / 8) of weights",
            p.rows, f.act_w, p.cols, f.wgt_w
        ),
    );
    m.localparam(
        "OUT_BYTES",
        i64::from(out_bytes),
        &match special_w {
            Some(w) => format!("bytes per result row: ceil(({out_data_w} result + {w} special-code bits) / 8)"),
            None => format!("bytes per result row: ceil({out_data_w} / 8)"),
        },
    );
    let idle_p = m.localparam(
        "IDLE_W",
        i64::from(bits_for(idle_limit)),
        &format!("bits of the silence counter: bits_for({RESYNC_BITS} bit periods = {idle_limit} cycles)"),
    );

    let rst = uart::power_on_reset(&mut m, &clk);
    let array_rst = match p.reset {
        ResetStyle::SyncHigh => rst.e(),
        ResetStyle::AsyncLow => !rst.e(),
    };

    let uart::SerialPort {
        rx_data,
        rx_valid,
        tx_valid,
        tx_ready,
        row_q,
    } = uart::serial_port(
        &mut m,
        (&clk, &rst),
        (&rx_i, &tx_o),
        (&rx_mod, &tx_mod),
        out_bytes,
        "a result byte waits",
        "result row being sent, low byte on tx_data",
    );
    let row_w = out_bytes * 8;

    m.section(
        "Input beats",
        &["Bytes shift in from the top, so after IN_BYTES bytes the first is in bits [7:0]."],
    );
    let beat_w = in_bytes * 8;
    let count_w = bits_for(u64::from(in_bytes - 1));
    let idle_w = bits_for(idle_limit);
    let count_t = Ty::u(count_w);
    let idle_t = Ty::u(idle_w);
    let beat_q = m.reg(
        "beat_q",
        Width::named(beat_w, "8*IN_BYTES"),
        false,
        "the beat being assembled",
    );
    let count_q = m.reg("count_q", count_w, false, "bytes of the beat received so far");
    let full_q = m.reg("full_q", 1u32, false, "a whole beat waits for the array");
    let idle_q = m.reg("idle_q", &idle_p, false, "cycles since the last byte of a partial beat");
    let in_ready = m.wire("in_ready", 1u32, false, "the array takes the beat");
    let partial = m.wire_of("partial", count_q.e().ne(count_t.zero()), "a beat has begun");
    m.process(&clk, |pr| {
        pr.reset(
            &rst,
            ResetStyle::SyncHigh,
            vec![
                (LValue::from(&count_q), count_t.zero()),
                (LValue::from(&full_q), Ty::BIT.zero()),
                (LValue::from(&idle_q), idle_t.zero()),
            ],
        );
        pr.when(full_q.e() & in_ready.e(), |pr| pr.set(&full_q, Ty::BIT.zero()));
        pr.when_else(
            rx_valid.e() & !full_q.e(),
            |pr| {
                pr.set(&idle_q, idle_t.zero());
                pr.when_else(
                    count_q.e().eq(count_t.lit(i128::from(in_bytes - 1))),
                    |pr| {
                        pr.set(&count_q, count_t.zero());
                        pr.set(&full_q, Ty::BIT.lit(1));
                    },
                    |pr| pr.set(&count_q, &count_q + count_t.lit(1)),
                );
            },
            |pr| {
                pr.when(partial.e(), |pr| {
                    pr.when_else(
                        idle_q.e().eq(idle_t.lit(i128::from(idle_limit))),
                        |pr| {
                            pr.set(&count_q, count_t.zero());
                            pr.set(&idle_q, idle_t.zero());
                        },
                        |pr| pr.set(&idle_q, &idle_q + idle_t.lit(1)),
                    );
                });
            },
        );
    });
    m.process(&clk, |pr| {
        pr.when(rx_valid.e() & !full_q.e(), |pr| {
            pr.set(&beat_q, concat(vec![rx_data.e(), beat_q.select(8u32, beat_w - 8)]));
        });
    });

    m.section(
        "Result rows",
        &["A row is taken from the array when the previous one has left, then sent a byte at a time."],
    );
    let left_w = bits_for(u64::from(out_bytes));
    let left_t = Ty::u(left_w);
    let left_q = m.reg("left_q", left_w, false, "bytes of row_q still to send");
    let out_valid = m.wire("out_valid", 1u32, false, "the array offers a row");
    let out_data = m.wire("out_data", out_data_w, false, "the row");
    let out_special = special_w.map(|w| m.wire("out_special", w, false, "the row's special-value codes"));
    let row_bits = match &out_special {
        Some(sp) => concat(vec![sp.e(), out_data.e()]),
        None => out_data.e(),
    };
    let row_bits_w = out_data_w + special_w.unwrap_or(0);
    let out_last = m.wire(
        "out_last",
        1u32,
        false,
        "last row of a tile (not sent: the host counts rows)",
    );
    let led_q = m.reg("led_q", 1u32, false, "toggles at every finished tile");
    m.assign(&led_o, &led_q);
    let out_ready = m.wire_of(
        "out_ready",
        left_q.e().eq(left_t.zero()),
        "take a row when row_q is empty",
    );
    m.assign(&tx_valid, !out_ready.e());
    m.process(&clk, |pr| {
        pr.reset(
            &rst,
            ResetStyle::SyncHigh,
            vec![
                (LValue::from(&left_q), left_t.zero()),
                (LValue::from(&led_q), Ty::BIT.zero()),
            ],
        );
        pr.when_else(
            out_ready.e(),
            |pr| {
                pr.when(out_valid.e(), |pr| {
                    pr.set(&left_q, left_t.lit(i128::from(out_bytes)));
                    pr.when(out_last.e(), |pr| pr.set(&led_q, !led_q.e()));
                });
            },
            |pr| {
                pr.when(tx_ready.e(), |pr| pr.set(&left_q, &left_q - left_t.lit(1)));
            },
        );
    });
    m.process(&clk, |pr| {
        pr.when_else(
            out_ready.e(),
            |pr| {
                let row = if row_w == row_bits_w {
                    row_bits.clone()
                } else {
                    concat(vec![Ty::u(row_w - row_bits_w).zero(), row_bits.clone()])
                };
                pr.when(out_valid.e(), |pr| pr.set(&row_q, row));
            },
            |pr| {
                pr.when(tx_ready.e(), |pr| {
                    pr.set(&row_q, concat(vec![Ty::u(8).zero(), row_q.select(8u32, row_w - 8)]));
                });
            },
        );
    });

    m.section("The accelerator", &[]);
    let mut connections = vec![
        ("clk_i", drive(&clk)),
        (p.reset.port_name(), drive(array_rst)),
        ("in_valid_i", drive(&full_q)),
        ("in_ready_o", sink(&in_ready)),
        ("in_act_i", drive(beat_q.select(0u32, act_bits))),
        ("in_wgt_i", drive(beat_q.select(f.act_bytes() * 8, wgt_bits))),
        ("out_valid_o", sink(&out_valid)),
        ("out_ready_i", drive(&out_ready)),
        ("out_data_o", sink(&out_data)),
        ("out_last_o", sink(&out_last)),
    ];
    if let Some(sp) = &out_special {
        connections.push(("out_special_o", sink(sp)));
    }
    m.instance(&arr, "u_array", connections);
    modules.push(rx_mod);
    modules.push(tx_mod);
    modules.push(m.finish());
    modules
}

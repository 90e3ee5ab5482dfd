//! An 8N1 UART: a receiver and a transmitter, each a small module named by
//! its bit period in clock cycles (`accgen_uart_rx_c104`: 104 clocks per
//! bit, 115,200 baud from 12 MHz).

use crate::ir::{LValue, Module, ModuleBuilder, ModuleDoc, ResetStyle, Signal, Ty, Width, concat, drive, mux, sink};
use crate::params::bits_for;

/// The receiver: `accgen_uart_rx_c<CLKS_PER_BIT>`.
pub fn rx_name(clks_per_bit: u32) -> String {
    format!("accgen_uart_rx_c{clks_per_bit}")
}

/// The transmitter: `accgen_uart_tx_c<CLKS_PER_BIT>`.
pub fn tx_name(clks_per_bit: u32) -> String {
    format!("accgen_uart_tx_c{clks_per_bit}")
}

/// 8N1 receiver: a start bit (low), 8 data bits LSB first, a stop bit (high).
/// The line is synchronised through two flip-flops; each bit is sampled
/// once, in the middle of its period, counted from the start bit's falling
/// edge. A frame whose stop bit reads low (a framing error, or a break) is
/// dropped.
pub fn rx(clks_per_bit: u32) -> Module {
    let mut m = ModuleBuilder::new(
        rx_name(clks_per_bit),
        ModuleDoc {
            title: format!("UART receiver, 8N1, {clks_per_bit} clock cycles per bit"),
            description: vec![
                "rx_i is synchronised through two flip-flops. A falling edge on the idle line starts a frame; each data bit is sampled in the middle of its period, least significant bit first, and the stop bit must read high or the frame is dropped.".into(),
            ],
            params: vec![("CLKS_PER_BIT".into(), clks_per_bit.to_string(), "clock cycles per bit: f_clk / baud".into())],
            timing: vec!["valid_o pulses for one cycle with data_o, in the middle of the stop bit.".into()],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let rst = m.input("rst_i", Ty::BIT, "synchronous reset, active high");
    let rx_i = m.input("rx_i", Ty::BIT, "serial line, idle high");
    let data_o = m.output("data_o", Ty::u(8), "the received byte, valid with valid_o");
    let valid_o = m.output("valid_o", Ty::BIT, "one-cycle pulse: a byte arrived");

    let start_wait = u64::from(clks_per_bit) + u64::from(clks_per_bit / 2) - 1;
    let cnt_w = bits_for(start_wait);
    // The counter first waits 1.5 bit periods - 1 cycles, from the start
    // bit's edge to the middle of data bit 0.
    let cnt_p = m.localparam(
        "CNT_W",
        i64::from(cnt_w),
        &format!("bits of the bit-period counter: bits_for(1.5 x CLKS_PER_BIT - 1 = {start_wait})"),
    );
    let cnt_t = Ty::u(cnt_w);
    let meta_q = m.reg("rx_meta_q", 1u32, false, "first synchroniser stage");
    let sync_q = m.reg("rx_sync_q", 1u32, false, "the synchronised line");
    let busy_q = m.reg("busy_q", 1u32, false, "inside a frame");
    let cnt_q = m.reg("cnt_q", &cnt_p, false, "cycles to the next sample");
    let bit_q = m.reg(
        "bit_q",
        4u32,
        false,
        "data bits sampled so far (8: next is the stop bit)",
    );
    let shift_q = m.reg("shift_q", 8u32, false, "data bits, shifted in from the top");
    let valid_q = m.reg("valid_q", 1u32, false, "a byte arrived (one-cycle pulse)");
    m.assign(&data_o, &shift_q);
    m.assign(&valid_o, &valid_q);

    m.process(&clk, |pr| {
        pr.reset(
            &rst,
            ResetStyle::SyncHigh,
            vec![
                (LValue::from(&meta_q), Ty::BIT.lit(1)),
                (LValue::from(&sync_q), Ty::BIT.lit(1)),
                (LValue::from(&busy_q), Ty::BIT.zero()),
                (LValue::from(&cnt_q), cnt_t.zero()),
                (LValue::from(&bit_q), Ty::u(4).zero()),
                (LValue::from(&shift_q), Ty::u(8).zero()),
                (LValue::from(&valid_q), Ty::BIT.zero()),
            ],
        );
        pr.set(&meta_q, &rx_i);
        pr.set(&sync_q, &meta_q);
        pr.set(&valid_q, Ty::BIT.zero());
        pr.when_else(
            !&busy_q,
            |pr| {
                pr.when(!&sync_q, |pr| {
                    pr.set(&busy_q, Ty::BIT.lit(1));
                    pr.set(&cnt_q, cnt_t.lit(i128::from(start_wait)));
                    pr.set(&bit_q, Ty::u(4).zero());
                });
            },
            |pr| {
                pr.when_else(
                    cnt_q.e().eq(cnt_t.zero()),
                    |pr| {
                        pr.when_else(
                            bit_q.e().eq(Ty::u(4).lit(8)),
                            |pr| {
                                pr.set(&busy_q, Ty::BIT.zero());
                                pr.set(&valid_q, &sync_q);
                            },
                            |pr| {
                                pr.set(&shift_q, concat(vec![sync_q.e(), shift_q.select(1u32, 7u32)]));
                                pr.set(&bit_q, &bit_q + Ty::u(4).lit(1));
                                pr.set(&cnt_q, cnt_t.lit(i128::from(clks_per_bit - 1)));
                            },
                        );
                    },
                    |pr| pr.set(&cnt_q, &cnt_q - cnt_t.lit(1)),
                );
            },
        );
    });
    m.finish()
}

/// 8N1 transmitter: takes a byte when `valid_i && ready_o` and shifts out
/// the start bit, the 8 data bits LSB first and the stop bit.
pub fn tx(clks_per_bit: u32) -> Module {
    let mut m = ModuleBuilder::new(
        tx_name(clks_per_bit),
        ModuleDoc {
            title: format!("UART transmitter, 8N1, {clks_per_bit} clock cycles per bit"),
            description: vec![
                "A byte offered on data_i/valid_i is taken when ready_o is high and sent as a start bit, eight data bits (least significant first) and a stop bit; tx_o idles high.".into(),
            ],
            params: vec![("CLKS_PER_BIT".into(), clks_per_bit.to_string(), "clock cycles per bit: f_clk / baud".into())],
            timing: vec!["One byte per 10 bit periods; ready_o rises again at the end of the stop bit.".into()],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let rst = m.input("rst_i", Ty::BIT, "synchronous reset, active high");
    let data_i = m.input("data_i", Ty::u(8), "byte to send");
    let valid_i = m.input("valid_i", Ty::BIT, "data_i is valid");
    let ready_o = m.output("ready_o", Ty::BIT, "idle: a byte offered now is taken");
    let tx_o = m.output("tx_o", Ty::BIT, "serial line, idle high");

    let cnt_w = bits_for(u64::from(clks_per_bit - 1));
    let cnt_p = m.localparam(
        "CNT_W",
        i64::from(cnt_w),
        &format!(
            "bits of the bit-period counter: bits_for(CLKS_PER_BIT - 1 = {})",
            clks_per_bit - 1
        ),
    );
    let cnt_t = Ty::u(cnt_w);
    let busy_q = m.reg("busy_q", 1u32, false, "sending a frame");
    let cnt_q = m.reg("cnt_q", &cnt_p, false, "cycles left in this bit");
    let bit_q = m.reg("bit_q", 4u32, false, "bit being sent: 0 start, 1..8 data, 9 stop");
    let shift_q = m.reg("shift_q", 10u32, false, "the frame; bit 0 is on the line");
    m.assign(&ready_o, !&busy_q);
    m.assign(&tx_o, mux(&busy_q, shift_q.bit(0u32), Ty::BIT.lit(1)));

    m.process(&clk, |pr| {
        pr.reset(
            &rst,
            ResetStyle::SyncHigh,
            vec![
                (LValue::from(&busy_q), Ty::BIT.zero()),
                (LValue::from(&cnt_q), cnt_t.zero()),
                (LValue::from(&bit_q), Ty::u(4).zero()),
                (LValue::from(&shift_q), Ty::u(10).ones()),
            ],
        );
        pr.when_else(
            !&busy_q,
            |pr| {
                pr.when(&valid_i, |pr| {
                    pr.set(&busy_q, Ty::BIT.lit(1));
                    pr.set(&shift_q, concat(vec![Ty::BIT.lit(1), data_i.e(), Ty::BIT.zero()]));
                    pr.set(&cnt_q, cnt_t.lit(i128::from(clks_per_bit - 1)));
                    pr.set(&bit_q, Ty::u(4).zero());
                });
            },
            |pr| {
                pr.when_else(
                    cnt_q.e().eq(cnt_t.zero()),
                    |pr| {
                        pr.when_else(
                            bit_q.e().eq(Ty::u(4).lit(9)),
                            |pr| pr.set(&busy_q, Ty::BIT.zero()),
                            |pr| {
                                pr.set(&shift_q, concat(vec![Ty::BIT.lit(1), shift_q.select(1u32, 9u32)]));
                                pr.set(&bit_q, &bit_q + Ty::u(4).lit(1));
                                pr.set(&cnt_q, cnt_t.lit(i128::from(clks_per_bit - 1)));
                            },
                        );
                    },
                    |pr| pr.set(&cnt_q, &cnt_q - cnt_t.lit(1)),
                );
            },
        );
    });
    m.finish()
}

/// Bits of a wrapper's power-on counter: it holds reset for 2^(POR_W - 1)
/// cycles.
pub const POR_W: u32 = 4;

/// The power-on reset of a board top level (a "Power-on reset" section):
/// a counter from zero to its top bit; returns `rst`, active high until
/// then. FPGA flip-flops power up at zero, so no external reset is needed.
pub fn power_on_reset(m: &mut ModuleBuilder, clk: &Signal) -> Signal {
    m.section(
        "Power-on reset",
        &["Flip-flops power up at zero on iCE40, ECP5 and 7-series parts; the counter holds reset until its top bit sets."],
    );
    let por_t = Ty::u(POR_W);
    let por_q = m.reg("por_q", POR_W, false, "power-on counter, from zero to its top bit");
    let rst = m.wire_of("rst", !por_q.bit(POR_W - 1), "reset of everything else, active high");
    m.process(clk, |pr| {
        pr.when(rst.e(), |pr| pr.set(&por_q, &por_q + por_t.lit(1)));
    });
    rst
}

/// The signals a board top level shares with its UART.
pub struct SerialPort {
    /// Received byte, valid for one cycle with `rx_valid`.
    pub rx_data: Signal,
    pub rx_valid: Signal,
    /// Driven by the wrapper: a byte waits in `row_q[7:0]`.
    pub tx_valid: Signal,
    /// The transmitter takes `row_q[7:0]`.
    pub tx_ready: Signal,
    /// `8 * out_bytes` bits being sent, low byte first (`OUT_BYTES` must be
    /// a localparam of the module).
    pub row_q: Signal,
}

/// The "UART" section of a board top level: the receiver on `rx_i`, the
/// transmitter on `tx_o` sending `row_q`'s low byte. `tx_doc` and `row_doc`
/// describe what waits and what `row_q` holds.
pub fn serial_port(
    m: &mut ModuleBuilder,
    (clk, rst): (&Signal, &Signal),
    (rx_i, tx_o): (&Signal, &Signal),
    (rx_mod, tx_mod): (&Module, &Module),
    out_bytes: u32,
    tx_doc: &str,
    row_doc: &str,
) -> SerialPort {
    m.section("UART", &["8N1 receiver and transmitter."]);
    let rx_data = m.wire("rx_data", 8u32, false, "received byte");
    let rx_valid = m.wire("rx_valid", 1u32, false, "a byte arrived");
    let tx_valid = m.wire("tx_valid", 1u32, false, tx_doc);
    let tx_ready = m.wire("tx_ready", 1u32, false, "the transmitter takes it");
    let row_q = m.reg("row_q", Width::named(out_bytes * 8, "8*OUT_BYTES"), false, row_doc);
    m.instance(
        rx_mod,
        "u_rx",
        vec![
            ("clk_i", drive(clk)),
            ("rst_i", drive(rst)),
            ("rx_i", drive(rx_i)),
            ("data_o", sink(&rx_data)),
            ("valid_o", sink(&rx_valid)),
        ],
    );
    m.instance(
        tx_mod,
        "u_tx",
        vec![
            ("clk_i", drive(clk)),
            ("rst_i", drive(rst)),
            ("data_i", drive(row_q.select(0u32, 8u32))),
            ("valid_i", drive(&tx_valid)),
            ("ready_o", sink(&tx_ready)),
            ("tx_o", sink(tx_o)),
        ],
    );
    SerialPort {
        rx_data,
        rx_valid,
        tx_valid,
        tx_ready,
        row_q,
    }
}

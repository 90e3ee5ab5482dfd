//! The stream wrapper: any block with an input stream, an output stream and
//! a load port (hash-grid engines, spiking cores) behind a UART, built from
//! a [`StreamPorts`] description and the block's port widths. Protocol in
//! [`crate::board`].

use super::UartParams;
use super::uart;
use super::wrapper::RESYNC_BITS;
use crate::Design;
use crate::hashgrid::{HashGridParams, engine};
use crate::ir::verilog::Provenance;
use crate::ir::{
    Expr, LValue, Module, ModuleBuilder, ModuleDoc, ResetStyle, Signal, Ty, Width, concat, drive, leave_open, mux, sink,
};
use crate::params::{ParamError, bits_for};
use crate::spiking::{CoreParams, core};

/// Channel byte of an input beat.
pub const CHANNEL_INPUT: u8 = 0;
/// Channel byte of a load word.
pub const CHANNEL_LOAD: u8 = 1;
/// Channel byte without payload that restarts the block: one cycle of
/// reset, so state the block keeps between beats (a spiking core's
/// membranes) starts again from its power-up values. Memories written
/// through the load port keep their contents.
pub const CHANNEL_RESTART: u8 = 2;

/// A valid/ready stream port of the block: `<name>_valid`, `_ready`, `_data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub valid: &'static str,
    pub ready: &'static str,
    pub data: &'static str,
}

/// A load port of the block: a strobe (a one-cycle write enable, or a valid
/// with a ready) and the fields it writes, packed from bit 0 in this order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPort {
    /// What the port loads ("layer 1"), for the header of a block with
    /// several load ports.
    pub label: &'static str,
    pub strobe: &'static str,
    /// The ready output answering the strobe, if the port has one.
    pub ready: Option<&'static str>,
    pub fields: Vec<&'static str>,
}

/// What the wrapper needs to know about a block: its ports by role. Widths
/// come from the block's module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPorts {
    /// "hash-grid engine", "spiking core": for the header.
    pub family: &'static str,
    /// What an input beat is, what an output beat is, what a load word is.
    pub beat_names: [&'static str; 3],
    pub reset: ResetStyle,
    pub input: Stream,
    pub output: Stream,
    /// The load ports. With more than one, a load word carries the port's
    /// number above the widest port's fields (see [`StreamFraming`]).
    pub load: Vec<LoadPort>,
    /// Outputs of the block the wrapper leaves unconnected, each with the
    /// reason (written beside it in the Verilog).
    pub open_outputs: Vec<(&'static str, &'static str)>,
    /// The most cycles the block may keep `input.ready` low after taking
    /// an input beat while its output is free (a hash grid's slots, a
    /// spiking core's cycles per event). The wrapper holds at most one
    /// beat, so this must stay below one byte on the line.
    pub busy_cycles: u64,
}

const IN: Stream = Stream {
    valid: "in_valid_i",
    ready: "in_ready_o",
    data: "in_data_i",
};
const OUT: Stream = Stream {
    valid: "out_valid_o",
    ready: "out_ready_i",
    data: "out_data_o",
};

impl StreamPorts {
    /// A hash-grid engine: points in, L * F features out, table entries loaded.
    pub fn hash_grid(p: &HashGridParams) -> StreamPorts {
        StreamPorts {
            family: "hash-grid engine",
            beat_names: ["point", "feature vector", "table entry"],
            reset: p.reset,
            input: IN,
            output: OUT,
            load: vec![LoadPort {
                label: "table",
                strobe: "load_we_i",
                ready: None,
                fields: vec!["load_level_i", "load_addr_i", "load_data_i"],
            }],
            open_outputs: Vec::new(),
            busy_cycles: u64::from(p.slots()),
        }
    }

    /// A spiking core: events in, spikes and end-of-step markers out,
    /// synapse words loaded.
    pub fn spiking(p: &CoreParams) -> StreamPorts {
        StreamPorts {
            family: "spiking core",
            beat_names: ["input event", "output event", "synapse word"],
            reset: p.reset,
            input: IN,
            output: OUT,
            load: vec![LoadPort {
                label: "synapse memory",
                strobe: "wl_valid_i",
                ready: Some("wl_ready_o"),
                fields: vec!["wl_addr_i", "wl_data_i"],
            }],
            open_outputs: Vec::new(),
            busy_cycles: p.cycles_per_event(),
        }
    }

    /// Two chained spiking cores: events into layer 1, layer 2's spikes
    /// and end-of-step markers out, synapse words loaded into either layer.
    ///
    /// The tap between the layers (`mid_*`) is left open. It is a copy of
    /// layer 1's output stream with no ready of its own: sending it too
    /// would mean a second output on one line with no way to stall it
    /// (up to N1 + 1 beats per step arriving faster than the line drains
    /// them), so it would need a buffer of a whole step's spikes or would
    /// have to stall layer 2, changing what the chain computes when. The
    /// host knows layer 1's spikes anyway: the chain's golden model gives
    /// them, and the bare chain's co-simulation checks the tap cycle by
    /// cycle.
    pub fn spiking_chain(first: &CoreParams, _second: &CoreParams) -> StreamPorts {
        let tap = "the tap between the layers; layer 1's spikes reach the host only through layer 2";
        StreamPorts {
            family: "spiking chain",
            beat_names: ["input event", "output event", "synapse word"],
            reset: first.reset,
            input: IN,
            output: OUT,
            load: vec![
                LoadPort {
                    label: "layer 1",
                    strobe: "wl1_valid_i",
                    ready: Some("wl1_ready_o"),
                    fields: vec!["wl1_addr_i", "wl1_data_i"],
                },
                LoadPort {
                    label: "layer 2",
                    strobe: "wl2_valid_i",
                    ready: Some("wl2_ready_o"),
                    fields: vec!["wl2_addr_i", "wl2_data_i"],
                },
            ],
            open_outputs: vec![("mid_valid_o", tap), ("mid_ready_o", tap), ("mid_data_o", tap)],
            // Layer 1 takes input events; it answers only ticks, and layer 2
            // only sees events while a tick is in flight (the host then
            // waits for the answer).
            busy_cycles: first.cycles_per_event(),
        }
    }
}

/// Bit widths of the frames, read from the block's ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFraming {
    pub in_w: u32,
    pub out_w: u32,
    /// Per load port, the widths of its fields, packed from bit 0 in order.
    pub load_fields: Vec<Vec<u32>>,
}

impl StreamFraming {
    /// The framing of `block` (the block's top module) described by `ports`.
    pub fn of(block: &Module, ports: &StreamPorts) -> StreamFraming {
        let width = |name: &str| {
            block
                .port(name)
                .map(|p| p.sig.width())
                .unwrap_or_else(|| panic!("{} has no port {name}", block.name))
        };
        StreamFraming {
            in_w: width(ports.input.data),
            out_w: width(ports.output.data),
            load_fields: ports
                .load
                .iter()
                .map(|l| l.fields.iter().map(|f| width(f)).collect())
                .collect(),
        }
    }

    /// Bits of the widest load port's fields.
    pub fn fields_w(&self) -> u32 {
        self.load_fields.iter().map(|f| f.iter().sum()).max().unwrap_or(0)
    }
    /// Bits of the load-port number above the fields: none for one port.
    pub fn select_w(&self) -> u32 {
        if self.load_fields.len() > 1 {
            bits_for(self.load_fields.len() as u64 - 1)
        } else {
            0
        }
    }
    /// Bits of a load word: the widest port's fields, then the port number.
    pub fn load_w(&self) -> u32 {
        self.fields_w() + self.select_w()
    }
    /// Bytes of an input beat after its channel byte.
    pub fn in_bytes(&self) -> u32 {
        self.in_w.div_ceil(8)
    }
    /// Bytes of a load word after its channel byte.
    pub fn load_bytes(&self) -> u32 {
        self.load_w().div_ceil(8)
    }
    /// Bytes of an output beat.
    pub fn out_bytes(&self) -> u32 {
        self.out_w.div_ceil(8)
    }

    /// The frame that restarts the block.
    pub fn restart_frame(&self) -> Vec<u8> {
        vec![CHANNEL_RESTART]
    }

    /// The frame of one input beat: the channel byte, then `beat`'s
    /// `in_w` bits, least significant byte first.
    pub fn input_frame(&self, beat: &crate::Bits) -> Vec<u8> {
        frame(CHANNEL_INPUT, beat, self.in_bytes())
    }

    /// The frame of one load word for load port `port`: the channel byte,
    /// then the fields (`values[i]` of `load_fields[port][i]` bits) side by
    /// side from bit 0 and, with several ports, `port` at bit `fields_w`.
    pub fn load_frame(&self, port: usize, values: &[&crate::Bits]) -> Vec<u8> {
        let fields = &self.load_fields[port];
        assert_eq!(values.len(), fields.len(), "one value per load field");
        let mut word = crate::Bits::zero(self.load_bytes() * 8);
        let mut at = 0;
        for (v, &w) in values.iter().zip(fields) {
            word.set_field(at, &v.field(0, w));
            at += w;
        }
        if self.select_w() > 0 {
            word.set_u64_field(self.fields_w(), self.select_w(), port as u64);
        }
        frame(CHANNEL_LOAD, &word, self.load_bytes())
    }

    /// Output beats from the bytes the board sent (`out_bytes` each).
    pub fn decode_outputs(&self, bytes: &[u8]) -> Result<Vec<crate::Bits>, String> {
        let n = self.out_bytes() as usize;
        if !bytes.len().is_multiple_of(n) {
            return Err(format!("{} bytes are not whole output beats of {n} bytes", bytes.len()));
        }
        Ok(bytes
            .chunks(n)
            .map(|beat| {
                let mut all = crate::Bits::zero(self.out_bytes() * 8);
                for (i, &b) in beat.iter().enumerate() {
                    all.set_u64_field(i as u32 * 8, 8, u64::from(b));
                }
                all.field(0, self.out_w)
            })
            .collect())
    }
}

fn frame(channel: u8, bits: &crate::Bits, n: u32) -> Vec<u8> {
    let mut padded = crate::Bits::zero(n * 8);
    padded.set_field(0, &bits.field(0, bits.width().min(n * 8)));
    std::iter::once(channel)
        .chain((0..n).map(|i| padded.u64_field(i * 8, 8) as u8))
        .collect()
}

/// `accgen_uart_<block name without accgen_>_c<CLKS_PER_BIT>`.
pub fn name(block: &str, u: UartParams) -> String {
    format!(
        "accgen_uart_{}_c{}",
        block.strip_prefix("accgen_").unwrap_or(block),
        u.clks_per_bit
    )
}

/// Why `ports` cannot be served at `u`'s bit rate, if it cannot: the block
/// must take a beat before the next byte arrives.
pub fn check(ports: &StreamPorts, u: UartParams) -> Result<(), ParamError> {
    let byte_cycles = 10 * u64::from(u.clks_per_bit);
    if ports.busy_cycles >= byte_cycles {
        return Err(ParamError::new(
            "board.uart",
            format!(
                "a {} busy {} cycles per {}",
                ports.family, ports.busy_cycles, ports.beat_names[0]
            ),
            format!(
                "a block that takes a beat within one UART byte ({byte_cycles} cycles at {} cycles per bit): fewer neurons per unit, or a faster clock",
                u.clks_per_bit
            ),
        ));
    }
    Ok(())
}

/// The wrapper and everything below it, dependencies first: `modules` is
/// the block's module list (its top last).
pub fn wrapper(mut modules: Vec<Module>, ports: &StreamPorts, u: UartParams) -> Vec<Module> {
    let block = modules
        .last()
        .cloned()
        .unwrap_or_else(|| unreachable!("a block emits at least its top module"));
    let f = StreamFraming::of(&block, ports);
    let rx_mod = uart::rx(u.clks_per_bit);
    let tx_mod = uart::tx(u.clks_per_bit);
    let (in_bytes, load_bytes, out_bytes) = (f.in_bytes(), f.load_bytes(), f.out_bytes());
    let max_bytes = in_bytes.max(load_bytes);
    let idle_limit = u64::from(RESYNC_BITS) * u64::from(u.clks_per_bit);
    let [in_name, out_name, load_name] = ports.beat_names;
    let field_list = |port: &LoadPort, widths: &[u32]| {
        port.fields
            .iter()
            .zip(widths)
            .map(|(n, w)| format!("{n} ({w} bits)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let load_layout = if let [only] = ports.load.as_slice() {
        format!(
            "{}, packed from bit 0 in {load_bytes} bytes",
            field_list(only, &f.load_fields[0])
        )
    } else {
        let each = ports
            .load
            .iter()
            .zip(&f.load_fields)
            .enumerate()
            .map(|(k, (port, widths))| format!("{k} = {}: {}", port.label, field_list(port, widths)))
            .collect::<Vec<_>>()
            .join("; ");
        format!(
            "for one of {} load ports: the port's fields packed from bit 0, the port number in bits [{} +: {}] ({each}), in {load_bytes} bytes",
            ports.load.len(),
            f.fields_w(),
            f.select_w()
        )
    };
    let ports_word = if ports.load.len() > 1 { "ports" } else { "port" };
    let load_sum = |widths: &[u32]| widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(" + ");
    let load_w_text = if let [only] = f.load_fields.as_slice() {
        load_sum(only)
    } else {
        format!(
            "max({}) + {}",
            f.load_fields.iter().map(|w| load_sum(w)).collect::<Vec<_>>().join(", "),
            f.select_w()
        )
    };

    let mut doc = ModuleDoc {
        title: format!(
            "{} behind an 8N1 UART ({} clock cycles per bit)",
            ports.family, u.clks_per_bit
        ),
        description: vec![
            format!(
                "Host to board, frames of a channel byte and a payload, least significant byte first: channel {CHANNEL_INPUT} is one {in_name} ({} in {in_bytes} bytes), channel {CHANNEL_LOAD} one {load_name} ({load_layout}); unused top bits are zero. Channel {CHANNEL_RESTART} alone resets the block for one cycle (memories written through the load {ports_word} keep their contents). Other channel bytes are ignored.",
                ports.input.data
            ),
            format!(
                "Board to host: every {out_name} on {} leaves as {out_bytes} bytes, least significant first.",
                ports.output.data
            ),
            format!(
                "One frame is held at a time: bytes that arrive while the {} has not yet taken the last frame are dropped. A host that waits for the answers the golden model predicts before sending the next frame that has answers never loses a byte (the block takes a beat within {} cycles, under one byte on the line).",
                ports.family, ports.busy_cycles
            ),
            format!(
                "A partial frame is dropped after {RESYNC_BITS} bit periods without a byte, so a host that lost count pauses and starts again. A power-on counter holds the block and the UART in reset for {} cycles (FPGA flip-flops power up at zero).",
                1u32 << (uart::POR_W - 1)
            ),
        ],
        params: vec![
            (
                "CLKS_PER_BIT".into(),
                u.clks_per_bit.to_string(),
                "clock cycles per UART bit: f_clk / baud".into(),
            ),
            ("IN_BYTES".into(), in_bytes.to_string(), format!("bytes per {in_name}")),
            (
                "LOAD_BYTES".into(),
                load_bytes.to_string(),
                format!("bytes per {load_name}"),
            ),
            (
                "OUT_BYTES".into(),
                out_bytes.to_string(),
                format!("bytes per {out_name}"),
            ),
            ("block".into(), block.name.clone(), format!("the {}", ports.family)),
        ],
        timing: vec![format!(
            "Bound by the UART: {} bit periods per {in_name} in, {} per {out_name} out.",
            10 * (1 + in_bytes),
            10 * out_bytes
        )],
    };
    if !ports.open_outputs.is_empty() {
        let names = ports
            .open_outputs
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ");
        let mut reasons: Vec<&str> = ports.open_outputs.iter().map(|(_, why)| *why).collect();
        reasons.dedup();
        doc.description.insert(
            2,
            format!(
                "The {}'s outputs {names} are left open (on wires named unused_*): {}.",
                ports.family,
                reasons.join("; ")
            ),
        );
    }
    let mut m = ModuleBuilder::new(name(&block.name, u), doc);
    let clk = m.input("clk_i", Ty::BIT, "the board's oscillator");
    let rx_i = m.input("uart_rx_i", Ty::BIT, "serial data from the host, idle high");
    let tx_o = m.output("uart_tx_o", Ty::BIT, "serial data to the host, idle high");
    let led_o = m.output(
        "led_o",
        Ty::BIT,
        &format!("toggles when an {out_name} leaves the block"),
    );

    m.localparam(
        "OUT_BYTES",
        i64::from(out_bytes),
        &format!("bytes per {out_name}: ceil({} / 8)", f.out_w),
    );
    m.localparam(
        "MAX_BYTES",
        i64::from(max_bytes),
        &format!(
            "bytes of the payload register: max({in_bytes} per {in_name} = ceil({} / 8), {load_bytes} per {load_name} = ceil(({load_w_text}) / 8))",
            f.in_w,
        ),
    );
    let idle_p = m.localparam(
        "IDLE_W",
        i64::from(bits_for(idle_limit)),
        &format!("bits of the silence counter: bits_for({RESYNC_BITS} bit periods = {idle_limit} cycles)"),
    );

    let rst = uart::power_on_reset(&mut m, &clk);

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
        "an output byte waits",
        &format!("{out_name} being sent, low byte on tx_data"),
    );
    let row_w = out_bytes * 8;

    m.section(
        "Frames",
        &[
            "A channel byte opens a frame; payload bytes shift in from the top, so after a payload of N bytes its first byte is in bits [8*(MAX_BYTES-N) +: 8].",
        ],
    );
    let payload_w = max_bytes * 8;
    let count_w = bits_for(u64::from(max_bytes - 1));
    let idle_w = bits_for(idle_limit);
    let count_t = Ty::u(count_w);
    let idle_t = Ty::u(idle_w);
    let payload_q = m.reg(
        "payload_q",
        Width::named(payload_w, "8*MAX_BYTES"),
        false,
        "the payload being assembled",
    );
    let open_q = m.reg("open_q", 1u32, false, "a channel byte came: payload bytes follow");
    let load_q = m.reg(
        "load_q",
        1u32,
        false,
        &format!("the open or held frame is a {load_name}"),
    );
    let count_q = m.reg("count_q", count_w, false, "payload bytes received so far");
    let full_q = m.reg("full_q", 1u32, false, "a whole frame waits for the block");
    let idle_q = m.reg("idle_q", &idle_p, false, "cycles since the last byte of an open frame");
    let in_ready = m.wire("in_ready", 1u32, false, &format!("the block takes the {in_name}"));
    let load_lo = (max_bytes - load_bytes) * 8;
    // With several load ports the held word names its port above the
    // widest port's fields.
    let load_port = (f.select_w() > 0).then(|| {
        m.wire_of(
            "load_port",
            payload_q.select(load_lo + f.fields_w(), f.select_w()),
            &format!("the load port the held {load_name} is for"),
        )
    });
    let several = ports.load.len() > 1;
    let load_ready_wires: Vec<Option<Signal>> = ports
        .load
        .iter()
        .enumerate()
        .map(|(k, port)| {
            port.ready.map(|_| {
                if several {
                    m.wire(
                        &format!("load{k}_ready"),
                        1u32,
                        false,
                        &format!("the block takes a {load_name} for port {k}, {}", port.label),
                    )
                } else {
                    m.wire("load_ready", 1u32, false, &format!("the block takes the {load_name}"))
                }
            })
        })
        .collect();
    // A write-enable strobe takes its word in the cycle it is high.
    let port_ready = |k: usize| -> Expr { load_ready_wires[k].as_ref().map_or_else(|| Ty::BIT.lit(1), |w| w.e()) };
    let load_ready: Expr = match &load_port {
        None => port_ready(0),
        Some(sel) => {
            let n = ports.load.len();
            let sel_t = Ty::u(f.select_w());
            // A port number no port has is dropped (taken at once), so the
            // wrapper cannot wedge on a bad word; with a power of two of
            // ports every number is a port.
            let (mut ready, first) = if n.is_power_of_two() {
                (port_ready(0), 1)
            } else {
                (Ty::BIT.lit(1), 0)
            };
            for k in first..n {
                ready = mux(sel.e().eq(sel_t.lit(k as i128)), port_ready(k), ready);
            }
            m.wire_of("load_ready", ready, &format!("the block takes the {load_name}"))
                .e()
        }
    };
    let taken = m.wire_of(
        "taken",
        full_q.e() & mux(&load_q, load_ready.clone(), in_ready.e()),
        "the block takes the held frame",
    );
    let rx_take = m.wire_of(
        "rx_take",
        rx_valid.e() & !full_q.e(),
        "a byte arrived and there is room for it",
    );
    let last_byte = m.wire_of(
        "last_byte",
        count_q.e().eq(mux(
            &load_q,
            count_t.lit(i128::from(load_bytes - 1)),
            count_t.lit(i128::from(in_bytes - 1)),
        )),
        "the payload byte arriving completes the frame",
    );
    let channel_ok = m.wire_of(
        "channel_ok",
        rx_data.select(1u32, 7u32).eq(Ty::u(7).zero()),
        &format!("the byte is channel {CHANNEL_INPUT} or {CHANNEL_LOAD}"),
    );
    let restart = m.wire_of(
        "restart",
        rx_take.e() & !open_q.e() & rx_data.e().eq(Ty::u(8).lit(i128::from(CHANNEL_RESTART))),
        &format!("channel {CHANNEL_RESTART} arrived: restart the block"),
    );
    let restart_q = m.reg("restart_q", 1u32, false, "the block's one-cycle restart");
    m.process(&clk, |pr| {
        pr.reset(
            &rst,
            ResetStyle::SyncHigh,
            vec![(LValue::from(&restart_q), Ty::BIT.zero())],
        );
        pr.set(&restart_q, &restart);
    });
    m.process(&clk, |pr| {
        pr.reset(
            &rst,
            ResetStyle::SyncHigh,
            vec![
                (LValue::from(&open_q), Ty::BIT.zero()),
                (LValue::from(&load_q), Ty::BIT.zero()),
                (LValue::from(&count_q), count_t.zero()),
                (LValue::from(&full_q), Ty::BIT.zero()),
                (LValue::from(&idle_q), idle_t.zero()),
            ],
        );
        pr.when(taken.e(), |pr| pr.set(&full_q, Ty::BIT.zero()));
        pr.when_else(
            rx_take.e(),
            |pr| {
                pr.set(&idle_q, idle_t.zero());
                pr.when_else(
                    !open_q.e(),
                    |pr| {
                        pr.when(channel_ok.e(), |pr| {
                            pr.set(&open_q, Ty::BIT.lit(1));
                            pr.set(&load_q, rx_data.bit(0u32));
                            pr.set(&count_q, count_t.zero());
                        });
                    },
                    |pr| {
                        pr.when_else(
                            last_byte.e(),
                            |pr| {
                                pr.set(&open_q, Ty::BIT.zero());
                                pr.set(&full_q, Ty::BIT.lit(1));
                            },
                            |pr| pr.set(&count_q, &count_q + count_t.lit(1)),
                        );
                    },
                );
            },
            |pr| {
                pr.when(open_q.e(), |pr| {
                    pr.when_else(
                        idle_q.e().eq(idle_t.lit(i128::from(idle_limit))),
                        |pr| {
                            pr.set(&open_q, Ty::BIT.zero());
                            pr.set(&idle_q, idle_t.zero());
                        },
                        |pr| pr.set(&idle_q, &idle_q + idle_t.lit(1)),
                    );
                });
            },
        );
    });
    m.process(&clk, |pr| {
        pr.when(rx_take.e() & open_q.e(), |pr| {
            let shifted = if max_bytes == 1 {
                rx_data.e()
            } else {
                concat(vec![rx_data.e(), payload_q.select(8u32, payload_w - 8)])
            };
            pr.set(&payload_q, shifted);
        });
    });

    m.section(
        "Output beats",
        &["A beat is taken from the block when the previous one has left, then sent a byte at a time."],
    );
    let left_w = bits_for(u64::from(out_bytes));
    let left_t = Ty::u(left_w);
    let left_q = m.reg("left_q", left_w, false, "bytes of row_q still to send");
    let out_valid = m.wire("out_valid", 1u32, false, &format!("the block offers an {out_name}"));
    let out_data = m.wire("out_data", f.out_w, false, &format!("the {out_name}"));
    let led_q = m.reg("led_q", 1u32, false, &format!("toggles at every {out_name}"));
    m.assign(&led_o, &led_q);
    let out_ready = m.wire_of(
        "out_ready",
        left_q.e().eq(left_t.zero()),
        "take a beat when row_q is empty",
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
                    pr.set(&led_q, !led_q.e());
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
                let row = if row_w == f.out_w {
                    out_data.e()
                } else {
                    concat(vec![Ty::u(row_w - f.out_w).zero(), out_data.e()])
                };
                pr.when(out_valid.e(), |pr| pr.set(&row_q, row));
            },
            |pr| {
                if row_w > 8 {
                    pr.when(tx_ready.e(), |pr| {
                        pr.set(&row_q, concat(vec![Ty::u(8).zero(), row_q.select(8u32, row_w - 8)]));
                    });
                }
            },
        );
    });

    m.section(&format!("The {}", ports.family), &[]);
    let block_rst = m.wire_of(
        "block_rst",
        rst.e() | restart_q.e(),
        &format!("reset of the {}: power-on or restart", ports.family),
    );
    let block_rst = match ports.reset {
        ResetStyle::SyncHigh => block_rst.e(),
        ResetStyle::AsyncLow => !block_rst.e(),
    };
    let in_lo = (max_bytes - in_bytes) * 8;
    let mut connections = vec![
        ("clk_i", drive(&clk)),
        (ports.reset.port_name(), drive(block_rst)),
        (ports.input.valid, drive(full_q.e() & !load_q.e())),
        (ports.input.ready, sink(&in_ready)),
        (ports.input.data, drive(payload_q.select(in_lo, f.in_w))),
        (ports.output.valid, sink(&out_valid)),
        (ports.output.ready, drive(&out_ready)),
        (ports.output.data, sink(&out_data)),
    ];
    for (k, (port, widths)) in ports.load.iter().zip(&f.load_fields).enumerate() {
        let strobe = match &load_port {
            None => full_q.e() & load_q.e(),
            Some(sel) => full_q.e() & load_q.e() & sel.e().eq(Ty::u(f.select_w()).lit(k as i128)),
        };
        connections.push((port.strobe, drive(strobe)));
        if let (Some(name), Some(wire)) = (port.ready, &load_ready_wires[k]) {
            connections.push((name, sink(wire)));
        }
        let mut at = load_lo;
        for (name, &w) in port.fields.iter().zip(widths) {
            connections.push((name, drive(payload_q.select(at, w))));
            at += w;
        }
    }
    for &(name, why) in &ports.open_outputs {
        connections.push((name, leave_open(why)));
    }
    m.instance(&block, "u_block", connections);
    modules.push(rx_mod);
    modules.push(tx_mod);
    modules.push(m.finish());
    modules
}

/// A hash-grid engine behind the UART.
pub fn hash_grid_design(p: &HashGridParams, u: UartParams, prov: &Provenance) -> Result<Design, ParamError> {
    let ports = StreamPorts::hash_grid(p);
    check(&ports, u)?;
    Ok(Design::assemble(&wrapper(engine::engine(p), &ports, u), prov))
}

/// A spiking core behind the UART.
pub fn spiking_design(p: &CoreParams, u: UartParams, prov: &Provenance) -> Result<Design, ParamError> {
    let ports = StreamPorts::spiking(p);
    check(&ports, u)?;
    Ok(Design::assemble(&wrapper(core::core(p), &ports, u), prov))
}

/// Two chained spiking cores behind the UART.
pub fn spiking_chain_design(
    first: &CoreParams,
    second: &CoreParams,
    u: UartParams,
    prov: &Provenance,
) -> Result<Design, ParamError> {
    let ports = StreamPorts::spiking_chain(first, second);
    check(&ports, u)?;
    Ok(Design::assemble(&wrapper(core::chain(first, second), &ports, u), prov))
}

/// The framing of a hash-grid engine's wrapper.
pub fn hash_grid_framing(p: &HashGridParams) -> StreamFraming {
    let modules = engine::engine(p);
    StreamFraming::of(
        modules.last().unwrap_or_else(|| unreachable!("the engine has a top")),
        &StreamPorts::hash_grid(p),
    )
}

/// The framing of a spiking core's wrapper.
pub fn spiking_framing(p: &CoreParams) -> StreamFraming {
    let modules = core::core(p);
    StreamFraming::of(
        modules.last().unwrap_or_else(|| unreachable!("the core has a top")),
        &StreamPorts::spiking(p),
    )
}

/// The framing of a chain's wrapper.
pub fn spiking_chain_framing(first: &CoreParams, second: &CoreParams) -> StreamFraming {
    let modules = core::chain(first, second);
    StreamFraming::of(
        modules.last().unwrap_or_else(|| unreachable!("the chain has a top")),
        &StreamPorts::spiking_chain(first, second),
    )
}

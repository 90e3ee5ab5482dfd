//! Board wrappers: a top level that puts a block behind a UART, so a
//! bitstream is useful on a real board (a bare block has far more ports than
//! a small package has pins), and the byte protocols a host speaks to it.
//! MAC arrays have their own wrapper ([`wrapper`]); hash-grid engines,
//! spiking cores and chains of two spiking cores share one stream wrapper
//! ([`stream`]), built from a description of the block's ports
//! ([`stream::StreamPorts`]).
//!
//! # MAC-array protocol (8N1, least significant byte first)
//!
//! - **Operands**: the host sends each input beat as `IN_BYTES` bytes: the
//!   activation bus `in_act_i` (A[r][k], row r at bits `[r*ACT_W +: ACT_W]`)
//!   in `ACT_BYTES = ceil(R*ACT_W / 8)` bytes, then the weight bus `in_wgt_i`
//!   (B[k][c]) in `WGT_BYTES = ceil(C*WGT_W / 8)` bytes; unused top bits are
//!   zero. K beats form a tile.
//! - **Results**: the board answers each finished tile with R rows, row 0
//!   first, each `OUT_BYTES = ceil((C*OUT_W + S) / 8)` bytes: `out_data_o`
//!   (column c at `[c*OUT_W +: OUT_W]`) and above it, for minifloat arrays
//!   without output rounding, `out_special_o` (S = 2*C bits; 0 otherwise).
//! - **Stop-and-wait**: the host sends one tile and reads its R rows before
//!   sending the next. While a row is on the line the array holds, and a
//!   beat that completes while the previous one still waits is dropped.
//! - **Resynchronising**: a beat's bytes must follow each other within 1024
//!   bit periods (89 ms at 115,200 baud); after a longer pause a partial
//!   beat is dropped, so a host that lost count pauses and starts again.
//!   Power-up holds the array in reset for 8 cycles.
//!
//! # Stream protocol (hash grids, spiking cores, chains; 8N1, LSB first)
//!
//! The block has an input stream (`in_valid_i/in_ready_o/in_data_i`, IN_W
//! bits), an output stream (`out_valid_o/out_ready_i/out_data_o`, OUT_W
//! bits) and one or more load ports (a strobe, an optional ready, and
//! fields; a chain of two spiking cores has one per layer).
//!
//! - **Host to board**: frames of a channel byte and a payload. Channel 0:
//!   one input beat, `ceil(IN_W / 8)` bytes (a hash grid's point, coordinate
//!   d at `[d*X_W +: X_W]`; a spiking core's event `{tick, input}`, for a
//!   chain an event into layer 1).
//!   Channel 1: one load word, the load fields side by side from bit 0 in
//!   the order the family lists them (hash grid: `load_level_i`,
//!   `load_addr_i`, `load_data_i`; spiking core: `wl_addr_i`, `wl_data_i`),
//!   `ceil(sum of widths / 8)` bytes. A block with several load ports
//!   (a chain: port 0 is layer 1's `wl1_addr_i`, `wl1_data_i`, port 1
//!   layer 2's `wl2_*`) packs the chosen port's fields from bit 0 and the
//!   port number in `ceil(log2(ports))` bits above the widest port's
//!   fields (for `snn_two_layer_65_33_10`: 10 + 24 field bits, the layer
//!   bit at bit 34, 5 bytes). Unused top bits are zero. Channel 2,
//!   a byte alone, restarts the block: one cycle of reset, so a spiking
//!   core's membranes start from zero again (tables and weights written
//!   through the load port stay); `accgen run-uart` sends it first. Other
//!   channel bytes are ignored.
//! - **Board to host**: every output beat, `ceil(OUT_W / 8)` bytes (a hash
//!   grid's L * F features; a spiking core's `{end of step, neuron}`; a
//!   chain's layer-2 `{end of step, neuron}`). A chain's tap between the
//!   layers (`mid_*`) is not sent: it has no ready, so on a line slower
//!   than the chain it could only be buffered (a whole step of layer-1
//!   spikes) or stall layer 2, changing the chain's timing; the host's
//!   golden model knows layer 1's spikes, and the bare chain's
//!   co-simulation checks the tap cycle by cycle.
//! - **Pacing**: the wrapper holds one frame; bytes that arrive while the
//!   block has not taken it are dropped. The block takes a beat within one
//!   byte time (checked when the wrapper is built: a hash grid's slots, a
//!   spiking core's SLOTS + 1 cycles per event), so a host never loses a
//!   byte if, after a frame that has answers, it waits for them before
//!   sending more: a hash grid answers each point with one beat of
//!   features; a spiking core answers a tick with the step's spikes and the
//!   end-of-step marker, a chain with layer 2's spikes and marker of the
//!   step (layer 1 takes events within its SLOTS + 1 cycles and passes its
//!   spikes to layer 2 only while a tick is in flight). Loads and input
//!   events have no answer and may
//!   follow each other back to back; load tables and weights while no
//!   point or step is in flight.
//! - **Resynchronising and reset** as for MAC arrays: a partial frame is
//!   dropped after 1024 silent bit periods; power-up holds 8 cycles of reset.

pub mod protocol;
pub mod stream;
pub mod uart;
pub mod wrapper;

pub use protocol::Framing;

use crate::Design;
use crate::ir::verilog::Provenance;
use crate::mac::MacArrayParams;
use crate::params::ParamError;

/// How fast the UART runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UartParams {
    /// Clock cycles per bit: the clock frequency over the baud rate.
    pub clks_per_bit: u32,
}

/// The baud rate every board wrapper uses.
pub const DEFAULT_BAUD: u32 = 115_200;

impl UartParams {
    /// The bit period for `baud` from a `clock_hz` clock, rounded to the
    /// nearest cycle; the rate must come within 2% (an 8N1 receiver samples
    /// the stop bit 9.5 bit periods after the start edge and tolerates
    /// about 5% between both ends).
    pub fn for_baud(clock_hz: u64, baud: u32) -> Result<UartParams, ParamError> {
        let allowed = "a baud rate at most clock / 4, within 2% of a whole number of clock cycles per bit";
        if baud == 0 {
            return Err(ParamError::new("baud", baud, allowed));
        }
        let clks = (clock_hz + u64::from(baud) / 2) / u64::from(baud);
        let actual = clock_hz as f64 / clks.max(1) as f64;
        if clks < 4 || clks > u64::from(u16::MAX) || (actual / f64::from(baud) - 1.0).abs() > 0.02 {
            return Err(ParamError::new("baud", baud, allowed));
        }
        Ok(UartParams {
            clks_per_bit: clks as u32,
        })
    }
}

/// The byte counts of `p`'s frames.
pub fn framing(p: &MacArrayParams) -> Framing {
    let modules = crate::mac::array::array(p);
    let width = modules
        .last()
        .and_then(|m| m.port("out_data_o"))
        .map(|port| port.sig.width())
        .unwrap_or_else(|| unreachable!("the MAC array has out_data_o"));
    Framing::new(p, width)
}

/// The wrapped MAC array: the array, the UART and the top `accgen_uart_...`.
pub fn design(p: &MacArrayParams, uart: UartParams, prov: &Provenance) -> Design {
    Design::assemble(&wrapper::wrapper(p, uart), prov)
}

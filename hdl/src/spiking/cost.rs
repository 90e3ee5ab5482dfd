//! The spiking core's cost model: quantities derived from the configuration
//! alone, evaluated in nanoseconds.
//!
//! Register bits are counted from the structure [`super::core::core`]
//! emits: the controller (state, slot, source address, pending spikes), the
//! registered read ports of the two memories, and the memories themselves,
//! which synthesis without block RAM (or for memories too small for one)
//! builds from flip-flops. Which memories land in block RAM on which target
//! is the synthesis flow's business (`accgen::cost::spiking`); here every
//! part is reported separately. Logic features are the per-structure bit
//! counts a LUT estimate is a weighted sum of.

use super::params::{CoreParams, Decay, NeuronParams, Overflow};
use crate::params::{bits_for, clog2};

/// One memory of the core: `depth` words of `width` bits, one write port
/// and one registered read port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub depth: u32,
    pub width: u32,
}

impl Memory {
    pub fn bits(&self) -> u64 {
        self.depth as u64 * self.width as u64
    }
}

/// Whether a decay clears its state every step (`multiply 4096`): the
/// decayed value is 0, so the stored value is never read.
fn clears(d: Decay) -> bool {
    d == Decay::Multiply {
        d: 1 << super::params::DECAY_BITS,
    }
}

/// Whether a reset-from-previous neuron's update uses the previous
/// membrane's threshold crossing: a subtract reset subtracts the threshold
/// when it crossed; a zero reset selects 0 in place of the decayed
/// membrane, which changes nothing when the decay clears the membrane
/// anyway (the compare then drives nothing and synthesis drops it);
/// without a reset the compare is not built.
fn previous_crossing_used(n: &NeuronParams) -> bool {
    use super::params::{Order, ResetMode};
    n.order == Order::ResetFromPrevious
        && match n.reset {
            ResetMode::Subtract => true,
            ResetMode::Zero => !clears(n.decay),
            ResetMode::None => false,
        }
}

/// Whether the update never reads the stored membrane: its decay clears it,
/// and it is neither held (integrate-then-fire with a refractory period)
/// nor compared (a reset-from-previous crossing that is used).
fn membrane_dead(n: &NeuronParams) -> bool {
    let held = n.order == super::params::Order::IntegrateThenFire && n.refractory > 0;
    clears(n.decay) && !held && !previous_crossing_used(n)
}

/// Bits of one neuron's state that the update reads: a current whose decay
/// clears it, or a membrane that is cleared, never compared and never held
/// ([`membrane_dead`]), is written but never read, and synthesis drops
/// those memory columns.
pub fn live_state_width(n: &NeuronParams) -> u32 {
    let mut w = n.state_width();
    if let Some(s) = &n.synapse
        && clears(s.decay)
    {
        w -= s.current.width;
    }
    if membrane_dead(n) {
        w -= n.membrane.width;
    }
    w
}

/// The columns of one neuron's state word that are written but never read
/// (see [`live_state_width`]), as (lowest bit, width) in the word's layout
/// ([`super::core::StateLayout`]). Synthesis maps the memory before it
/// drops them, so a block RAM tile whose columns are all dead is what
/// disappears, not the dead bits.
pub fn dead_state_columns(n: &NeuronParams) -> Vec<(u32, u32)> {
    let layout = super::core::StateLayout::of(n);
    let mut out = Vec::new();
    if let (Some(s), Some(current)) = (&n.synapse, layout.i)
        && clears(s.decay)
    {
        out.push(current);
    }
    if membrane_dead(n) {
        out.push(layout.v);
    }
    out
}

/// The state memory (one word of P neuron states per slot), live columns only.
pub fn state_memory(p: &CoreParams) -> Memory {
    Memory {
        depth: p.slots(),
        width: p.units * live_state_width(&p.neuron),
    }
}

/// The synapse memory (one word of P weights per input and slot).
pub fn synapse_memory(p: &CoreParams) -> Memory {
    Memory {
        depth: p.synapse_words(),
        width: p.units * p.weight_width,
    }
}

/// Register bits of a core, part by part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Registers {
    /// Controller state, slot counter, source address, pending spikes, and
    /// the neuron units' pipeline registers.
    pub control: u64,
    /// The state memory's read register (`state_rd_q`).
    pub state_read: u64,
    /// The synapse memory's read register (`wgt_rd_q`).
    pub synapse_read: u64,
    /// The state memory's bits, where it is built from flip-flops.
    pub state_memory: u64,
    /// The synapse memory's bits, where it is built from flip-flops.
    pub synapse_memory: u64,
}

impl Registers {
    /// Every part as flip-flops: what synthesis without block RAM reports.
    pub fn total(&self) -> u64 {
        self.control + self.state_read + self.synapse_read + self.state_memory + self.synapse_memory
    }
}

/// Controller states (INIT, IDLE, ACCUM, UPDATE, EMIT, TICK): Yosys' `fsm`
/// pass re-encodes the 3-bit state register one-hot, one flip-flop each.
pub const CONTROLLER_STATES: u64 = 6;

/// Flip-flop bits of the neuron pipeline (`spiking_core.pipeline`), 0
/// without one: per unit, what `neuron::neuron_staged` registers at each
/// stage (the shifted input's constant low zeros are not flip-flops; a
/// decay that clears its state leaves a constant 0, a cleared
/// current's new value goes only to a dropped memory column, and a
/// reset-from-previous crossing is registered only where the update uses
/// it, [`previous_crossing_used`]), and the
/// core's tracking of the slots in flight.
pub fn pipeline_registers(p: &CoreParams) -> u64 {
    let n = &p.neuron;
    let live = |w: u32, cleared: bool| if cleared { 0 } else { w as u64 };
    let (vw, rw) = (n.membrane.width as u64, n.refractory_width() as u64);
    let cw = n.synapse.map_or(0, |s| live(s.current.width, clears(s.decay)));
    let dvw = live(n.membrane.width, clears(n.decay));
    let aw = n.accumulator.width as u64;
    let itf = n.order == super::params::Order::IntegrateThenFire;
    // The membrane's decay of `none` is the membrane itself: one register for both.
    let v_carried = itf && n.refractory > 0 && n.decay != super::params::Decay::None;
    let stage1 = dvw
        + if n.synapse.is_some() { cw + aw } else { aw }
        + if v_carried { vw } else { 0 }
        + if itf { rw } else { 0 }
        + u64::from(previous_crossing_used(n));
    let stage2 = vw + cw + if itf && n.refractory > 0 { vw + rw } else { 0 };
    // Inside the decays: a multiply's product without the constant's
    // trailing zero bits, or the state a shift decay (or none) reads.
    let in_decay = |d: Decay, w: u32| match d {
        _ if clears(d) => 0,
        Decay::Multiply { d } => (w + 12 - (4096 - d).trailing_zeros()) as u64,
        _ => w as u64,
    };
    let v_shared = !matches!(n.decay, Decay::Multiply { .. });
    let stage3 = in_decay(n.decay, n.membrane.width)
        + n.synapse.map_or(0, |s| in_decay(s.decay, s.current.width))
        + aw
        + if itf && n.refractory > 0 && !v_shared { vw } else { 0 }
        + if itf { rw } else { 0 }
        + u64::from(previous_crossing_used(n));
    let per_unit = match p.pipeline {
        0 => 0,
        1 => stage1,
        2 => stage1 + stage2,
        _ => stage1 + stage2 + stage3,
    };
    if p.pipeline == 0 {
        0
    } else {
        // The slot-valid bits of the read register and each stage, and
        // (several slots) the slot whose spikes are being sent.
        let eslot = if p.slots() > 1 { p.slot_width() as u64 } else { 0 };
        per_unit * p.units as u64 + p.pipeline as u64 + 1 + eslot
    }
}

/// Flip-flop bits of a core with both memories built from flip-flops.
/// The slot counter of a core with one slot never leaves 0 and synthesis
/// removes it.
pub fn registers(p: &CoreParams) -> Registers {
    // The neuron pipeline is counted with the controller.
    let pipeline = pipeline_registers(p);
    let slot = if p.slots() > 1 { p.slot_width() as u64 } else { 0 };
    let state = state_memory(p);
    let synapse = synapse_memory(p);
    Registers {
        control: CONTROLLER_STATES + slot + p.input_addr_width() as u64 + p.units as u64 + pipeline,
        state_read: state.width as u64,
        synapse_read: synapse.width as u64,
        state_memory: state.bits(),
        synapse_memory: synapse.bits(),
    }
}

/// A constant multiplication of the neuron datapath (a `multiply` decay):
/// a signed `width`-bit state times the signed constant `4096 - d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConstMultiply {
    /// Bits of the state operand.
    pub width: u32,
    /// Bits of the constant as a signed number.
    pub constant_bits: u32,
    /// Non-zero digits of the constant in canonical signed-digit form: the
    /// adders a shift-and-add implementation needs, plus one.
    pub digits: u32,
    /// Set bits of the constant's odd part: the shifted operand copies
    /// Yosys' array multiplier adds (it does not recode the constant).
    pub set_bits: u32,
    /// Bits of the product the pipeline's in-decay stage registers (the
    /// constant's trailing zero bits are constant zeros, not flip-flops).
    pub product_width: u32,
}

/// Non-zero digits of `c` in canonical signed-digit (non-adjacent) form.
pub fn csd_digits(mut c: i64) -> u32 {
    let mut n = 0;
    while c != 0 {
        if c & 1 == 1 {
            // Digit +1 or -1, whichever leaves a multiple of 4.
            c -= if c & 3 == 3 { -1 } else { 1 };
            n += 1;
        }
        c >>= 1;
    }
    n
}

/// The constant multiplications of one neuron unit: a `multiply` decay by
/// a constant that is neither 0 nor a power of two (those are shifts).
/// Synthesis multiplies by the constant's odd part and shifts the rest, so
/// `constant_bits` counts the odd part (signed).
pub fn const_multiplies(n: &NeuronParams) -> Vec<ConstMultiply> {
    let mut out = Vec::new();
    let mut add = |d: Decay, width: u32| {
        if let Decay::Multiply { d } = d {
            let c = (1i64 << super::params::DECAY_BITS) - d as i64;
            if c > 0 && (c & (c - 1)) != 0 {
                let odd = c >> c.trailing_zeros();
                out.push(ConstMultiply {
                    width,
                    constant_bits: bits_for(odd as u64) + 1,
                    digits: csd_digits(c),
                    set_bits: odd.count_ones(),
                    product_width: width + super::params::DECAY_BITS - c.trailing_zeros(),
                });
            }
        }
    };
    if let Some(s) = &n.synapse {
        add(s.decay, s.current.width);
    }
    add(n.decay, n.membrane.width);
    out
}

/// What drives a core's logic (LUT) cost, one number per structure. A
/// target's estimate is a weighted sum of these with fitted coefficients;
/// chained cores add up. Few features on purpose: the calibration set is
/// small, and each feature sums structures of like cost per bit. The set
/// was chosen by leave-one-out error on the calibration's training designs
/// (`reports/calibration/spiking.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LogicFeatures {
    /// Cores (controller and stream logic of each).
    pub cores: f64,
    /// Adder, comparator and select bits of the neuron datapaths over all
    /// units ([`datapath_bits`]): every sum, saturation compare and clip,
    /// threshold compare and reset select.
    pub datapath_bits: f64,
    /// Decay bits over all units: a shift decay's subtractor (and the
    /// minimum decrement's select), a multiply decay's rounding adder.
    pub decay_bits: f64,
    /// Bits of the constant multiplies that stay in logic (no DSP block),
    /// over all units: Yosys multiplies by the constant's binary digits,
    /// one shifted copy of the operand per set bit of its odd part, so the
    /// adders cost operand bits times (set bits - 1).
    pub multiply_bits: f64,
    /// State-word bits the write multiplexer selects (zeros, accumulated,
    /// updated) over all cores.
    pub state_bits: f64,
    /// Address arithmetic and spike selection: synapse word
    /// `src * SLOTS + slot`, spike address `slot * P + unit`, the priority
    /// encoder over P pending spikes.
    pub address_bits: f64,
    /// 2:1 multiplexer bits of LUT-RAM read ports: a memory deeper than one
    /// LUT-RAM primitive is built of `rows` address ranges, and its read
    /// data is a `rows`:1 multiplexer per bit (`width * (rows - 1)`).
    pub lut_ram_mux_bits: f64,
    /// 2:1 multiplexer bits of flip-flop memories' read ports: a
    /// `depth`:1 multiplexer per bit (`width * (depth - 1)`).
    pub flop_memory_mux_bits: f64,
    /// Flip-flops of the neuron pipeline ([`pipeline_registers`]). Their
    /// enable is free (every target's flip-flop has one), but each stage
    /// cuts the update's logic cone where synthesis would otherwise merge
    /// the functions on either side into shared LUTs, and the write-back
    /// slot and slot-valid tracking add a little logic: measured, a
    /// pipelined core spends more LUTs on 7-series and iCE40.
    pub pipeline_bits: f64,
    /// Bits of the saturating words over all units (membrane, accumulator
    /// and synaptic current, where they saturate): each is clipped to the
    /// symmetric range +-(2^(W-1) - 1) by two compares and a select. The
    /// generic `asic` flow builds all three from gates, and leave-one-out
    /// on its training designs picks this feature there only
    /// (`accgen::cost::spiking::uses_feature`); on the FPGA targets the
    /// datapath bits already cover it.
    pub clip_bits: f64,
    /// Membrane bits over all units where the membrane saturates: the
    /// clip's select of every membrane bit (over, under or the sum's bit)
    /// is LUT logic on ECP5, where the clip's compares, like every adder,
    /// sit in carry cells (CCU2C) that carry their own LUTs and are not
    /// counted as LUT4s; the clipped membrane feeds the threshold compare
    /// and the state write-back, where ABC merges it into wider
    /// functions. Chosen by leave-one-out on ECP5 only
    /// (`accgen::cost::spiking::uses_feature`).
    pub saturating_membrane_bits: f64,
    /// Membrane bits beyond the drive the membrane integrates (the
    /// synaptic current, or the shifted accumulator), over all units:
    /// `units * max(0, membrane - drive)`. The update's work width is the
    /// wider of the two; on ECP5 the bits the membrane adds are LUTs of
    /// the whole write-back cone (decay, clip select, threshold compare
    /// and state write select, merged by ABC), while the bits a wider
    /// drive adds only lengthen carry chains. Measured on one
    /// single-unit core (N 16, 8 inputs, reset-from-previous, shift
    /// decay), widening the membrane from 12 to 24 bits costs 60 to 74
    /// LUT4s whatever the accumulator width (8 to 20 bits), widening the
    /// accumulator from 8 to 20 bits 11 to 25 (the datapath bits, which
    /// count adder and compare bits at the work width, get almost no LUT
    /// weight on ECP5). Chosen by leave-one-out on ECP5 and on iCE40 with
    /// DSP blocks (`accgen::cost::spiking::uses_feature`).
    pub membrane_over_drive_bits: f64,
    /// Membrane bits over all units of a reset-from-previous neuron with a
    /// subtract reset whose decay does not clear the membrane: the
    /// threshold, subtracted when the previous membrane crossed it, is a
    /// third operand of the membrane's sum (decayed membrane + drive -
    /// threshold). Measured on 7-series on a single-unit core (N 24, 8
    /// inputs, 24-bit saturating membrane), the subtract reset takes 18 to
    /// 19 LUTs more than the zero reset with no decay, a shift by 2 and a
    /// shift by 6, where the datapath bits (one weight for every adder,
    /// compare and select bit) give it about 1; with a decay that clears
    /// the membrane the sum is the drive less the threshold, two operands.
    /// Chosen by leave-one-out on 7-series
    /// (`accgen::cost::spiking::uses_feature`).
    pub subtract_operand_bits: f64,
}

impl LogicFeatures {
    pub const NAMES: [&str; 13] = [
        "cores",
        "datapath_bits",
        "decay_bits",
        "multiply_bits",
        "state_bits",
        "address_bits",
        "lut_ram_mux_bits",
        "flop_memory_mux_bits",
        "pipeline_bits",
        "clip_bits",
        "saturating_membrane_bits",
        "membrane_over_drive_bits",
        "subtract_operand_bits",
    ];

    pub fn as_array(&self) -> [f64; 13] {
        [
            self.cores,
            self.datapath_bits,
            self.decay_bits,
            self.multiply_bits,
            self.state_bits,
            self.address_bits,
            self.lut_ram_mux_bits,
            self.flop_memory_mux_bits,
            self.pipeline_bits,
            self.clip_bits,
            self.saturating_membrane_bits,
            self.membrane_over_drive_bits,
            self.subtract_operand_bits,
        ]
    }

    /// Feature-wise sum (a chain's two cores).
    pub fn add(&self, o: &LogicFeatures) -> LogicFeatures {
        LogicFeatures {
            cores: self.cores + o.cores,
            datapath_bits: self.datapath_bits + o.datapath_bits,
            decay_bits: self.decay_bits + o.decay_bits,
            multiply_bits: self.multiply_bits + o.multiply_bits,
            state_bits: self.state_bits + o.state_bits,
            address_bits: self.address_bits + o.address_bits,
            lut_ram_mux_bits: self.lut_ram_mux_bits + o.lut_ram_mux_bits,
            flop_memory_mux_bits: self.flop_memory_mux_bits + o.flop_memory_mux_bits,
            pipeline_bits: self.pipeline_bits + o.pipeline_bits,
            clip_bits: self.clip_bits + o.clip_bits,
            saturating_membrane_bits: self.saturating_membrane_bits + o.saturating_membrane_bits,
            membrane_over_drive_bits: self.membrane_over_drive_bits + o.membrane_over_drive_bits,
            subtract_operand_bits: self.subtract_operand_bits + o.subtract_operand_bits,
        }
    }
}

/// How a memory is built on the target, for the logic features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    Block,
    /// LUT RAM in `rows` address ranges a read multiplexer selects from.
    Lut {
        rows: u32,
    },
    Flops,
}

/// Adder, comparator and select bits of one neuron unit and its
/// accumulator, as [`neuron::neuron_staged`](super::neuron::neuron_staged)
/// and the core's accumulate step build them:
///
/// - every sum at the width it is computed (exact width when saturating),
///   a sum of `k` operands (a constant bias and the reset-from-previous
///   threshold subtraction are operands) as `k - 1` adders;
/// - a saturating word's two compares against its limits (exact width)
///   and its clip select (word width);
/// - the threshold compares (the previous membrane's too, for a
///   reset-from-previous neuron with a reset) and the reset selects;
/// - the decays' subtractors and rounding adders (a minimum decrement adds
///   a compare and a select); a refractory counter's decrement and select.
///
/// A decay that clears its state (`multiply 4096`) leaves a constant 0 in
/// the sum, which is then one adder short (the current's sum is the input
/// alone); a reset-from-previous zero reset then selects between 0 and 0,
/// and neither its select nor the previous membrane's compare is built
/// ([`previous_crossing_used`]).
pub fn datapath_bits(n: &NeuronParams) -> u64 {
    use super::params::{Order, ResetMode};
    let sat = |o: Overflow| o == Overflow::Saturate;
    let (vw, aw) = (n.membrane.width as u64, n.accumulator.width as u64);
    let work = super::neuron::work_width(n) as u64;
    let mut bits = 0;
    // Accumulator + weight.
    if sat(n.accumulator.overflow) {
        bits += (aw + 1) + 2 * (aw + 1) + aw;
    } else {
        bits += aw;
    }
    let decay = |d: Decay, w: u64| match d {
        Decay::None => 0,
        Decay::Shift { min_decrement, .. } => w + if min_decrement { 2 * w } else { 0 },
        Decay::Multiply { .. } if clears(d) => 0,
        Decay::Multiply { .. } => w,
    };
    if let Some(s) = &n.synapse {
        let cw = s.current.width as u64;
        let cur_w = cw.max(aw + n.input_shift as u64) + 1;
        bits += decay(s.decay, cw) + if clears(s.decay) { 0 } else { cur_w };
        if sat(s.current.overflow) {
            bits += 2 * cur_w + cw;
        }
    }
    bits += decay(n.decay, vw);
    let itf = n.order == Order::IntegrateThenFire;
    // Operands of the membrane's sum: the decayed membrane (unless cleared),
    // the drive, a bias, the subtracted threshold of a reset-from-previous
    // subtract reset.
    let operands =
        u64::from(!clears(n.decay)) + 1 + u64::from(n.bias != 0) + u64::from(!itf && n.reset == ResetMode::Subtract);
    if sat(n.membrane.overflow) {
        bits += work * (operands - 1) + 2 * work + vw;
    } else {
        bits += vw * (operands - 1);
    }
    if itf {
        bits += vw;
        bits += match n.reset {
            ResetMode::Subtract => 2 * vw,
            ResetMode::Zero => vw,
            ResetMode::None => 0,
        };
        if n.refractory > 0 {
            let rw = n.refractory_width() as u64;
            bits += vw + 2 * rw;
        }
    } else {
        // The new membrane's compare, and the previous one's where used.
        bits += vw * if previous_crossing_used(n) { 2 } else { 1 };
        if n.reset == ResetMode::Zero && !clears(n.decay) {
            bits += vw;
        }
    }
    bits
}

/// Decay bits of one neuron unit (see [`LogicFeatures::decay_bits`]).
fn decay_bits(n: &NeuronParams) -> u64 {
    let decay = |d: Decay, w: u32| -> u64 {
        let w = w as u64;
        match d {
            Decay::None => 0,
            Decay::Shift { min_decrement, .. } => w * if min_decrement { 2 } else { 1 },
            Decay::Multiply { .. } if clears(d) => 0,
            Decay::Multiply { .. } => w,
        }
    };
    decay(n.decay, n.membrane.width) + n.synapse.map_or(0, |s| decay(s.decay, s.current.width))
}

/// Bits of one neuron unit's constant multiplies in logic (see
/// [`LogicFeatures::multiply_bits`]).
fn multiply_bits(n: &NeuronParams) -> u64 {
    const_multiplies(n)
        .iter()
        .map(|m| m.width as u64 * (m.set_bits as u64 - 1))
        .sum()
}

/// The logic features of one core, given where its state and synapse
/// memories go and whether constant multiplies go to DSP blocks.
pub fn logic_features(p: &CoreParams, state: MemoryKind, synapse: MemoryKind, dsp_multiplies: bool) -> LogicFeatures {
    let n = &p.neuron;
    let units = p.units as f64;
    let (sm, wm) = (state_memory(p), synapse_memory(p));
    let lut_mux = |m: Memory, kind: MemoryKind| match kind {
        MemoryKind::Lut { rows } => m.width as f64 * rows.saturating_sub(1) as f64,
        _ => 0.0,
    };
    let flop_mux = |m: Memory, kind: MemoryKind| match kind {
        MemoryKind::Flops => m.width as f64 * m.depth.saturating_sub(1) as f64,
        _ => 0.0,
    };
    LogicFeatures {
        cores: 1.0,
        datapath_bits: units * datapath_bits(n) as f64,
        decay_bits: units * decay_bits(n) as f64,
        multiply_bits: if dsp_multiplies {
            0.0
        } else {
            units * multiply_bits(n) as f64
        },
        state_bits: sm.width as f64,
        address_bits: (p.synapse_addr_width() * p.slot_width() + p.neuron_addr_width()) as f64
            + units * clog2(p.units as u64) as f64,
        lut_ram_mux_bits: lut_mux(sm, state) + lut_mux(wm, synapse),
        flop_memory_mux_bits: flop_mux(sm, state) + flop_mux(wm, synapse),
        pipeline_bits: pipeline_registers(p) as f64,
        clip_bits: units * clip_bits(n) as f64,
        saturating_membrane_bits: if n.membrane.overflow == Overflow::Saturate {
            units * n.membrane.width as f64
        } else {
            0.0
        },
        membrane_over_drive_bits: units * n.membrane.width.saturating_sub(drive_width(n)) as f64,
        subtract_operand_bits: if n.order == super::params::Order::ResetFromPrevious
            && n.reset == super::params::ResetMode::Subtract
            && !clears(n.decay)
        {
            units * n.membrane.width as f64
        } else {
            0.0
        },
    }
}

/// Bits of what the membrane integrates: the synaptic current, or the
/// accumulator shifted by `input_shift` (as [`super::neuron::work_width`]
/// widens the update to).
fn drive_width(n: &NeuronParams) -> u32 {
    match &n.synapse {
        Some(s) => s.current.width,
        None => n.accumulator.width + n.input_shift,
    }
}

/// Bits of one neuron unit's saturating words (see
/// [`LogicFeatures::clip_bits`]): each saturating word gets one clip.
fn clip_bits(n: &NeuronParams) -> u64 {
    let sat = |w: super::params::Word| {
        if w.overflow == Overflow::Saturate {
            w.width as u64
        } else {
            0
        }
    };
    sat(n.membrane) + sat(n.accumulator) + n.synapse.map_or(0, |s| sat(s.current))
}

/// The core's address multiplications by constants, as (operand bits,
/// constant bits of the odd part): the synapse word `src * SLOTS` and the
/// spike address `slot * P`, where the constant is not a power of two.
/// Some targets give even these small products a DSP block.
pub fn address_multiplies(p: &CoreParams) -> Vec<(u32, u32)> {
    let odd_bits = |c: u32| bits_for((c >> c.trailing_zeros()) as u64);
    let mut out = Vec::new();
    let slots = p.slots();
    if slots > 1 && !slots.is_power_of_two() {
        out.push((p.input_addr_width(), odd_bits(slots)));
    }
    // With one slot the slot counter is constant 0 and the product vanishes.
    if slots > 1 && !p.units.is_power_of_two() {
        out.push((p.slot_width(), odd_bits(p.units)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ResetStyle;
    use crate::spiking::params::{Compare, CoreSpec, Order, Preset, ResetMode, Synapse, Word};

    fn word(width: u32, wrap: bool) -> Word {
        Word {
            width,
            overflow: if wrap { Overflow::Wrap } else { Overflow::Saturate },
        }
    }

    fn core(neurons: u64, inputs: u64, units: u64, weights: u64, neuron: NeuronParams) -> CoreParams {
        CoreSpec {
            neurons,
            inputs,
            units,
            weight_width: weights,
            neuron,
            weight_init: None,
            max_synapse_bits: super::super::params::DEFAULT_MAX_SYNAPSE_BITS,
            reset: ResetStyle::SyncHigh,
        }
        .validate()
        .expect("valid core")
    }

    /// Flip-flop counts Yosys 0.23 reports for the `asic` target (generic
    /// `synth -flatten`, memories built from flip-flops) on designs of the
    /// calibration set (`reports/calibration/spiking_points.csv`).
    #[test]
    fn register_bits_match_yosys() {
        // Lava-style: CUBA current cleared every step (its column is dropped), wrapping accumulator.
        let lava = NeuronParams {
            membrane: word(8, false),
            decay: Decay::Multiply { d: 1024 },
            synapse: Some(Synapse {
                current: word(24, false),
                decay: Decay::Multiply { d: 4096 },
            }),
            accumulator: word(16, true),
            input_shift: 2,
            bias: 1,
            threshold: 63,
            ..Preset::LavaLoihi.neuron()
        };
        assert_eq!(registers(&core(12, 12, 1, 8, lava)).total(), 1487);
        // Integrate-then-fire with a refractory counter, 8 units.
        let refractory = NeuronParams {
            order: Order::IntegrateThenFire,
            membrane: word(10, false),
            decay: Decay::Shift {
                k: 2,
                min_decrement: false,
            },
            accumulator: word(10, false),
            threshold: 255,
            refractory: 20,
            ..Preset::If.neuron()
        };
        assert_eq!(registers(&core(32, 4, 8, 8, refractory)).total(), 2106);
        // snnTorch reset-to-zero, 3 units (4 slots), Xylo's minimum decrement.
        let zero = NeuronParams {
            membrane: word(10, false),
            decay: Decay::Shift {
                k: 3,
                min_decrement: true,
            },
            accumulator: word(12, true),
            threshold: 255,
            reset: ResetMode::Zero,
            ..Preset::SnntorchLeaky.neuron()
        };
        assert_eq!(registers(&core(12, 8, 3, 8, zero)).total(), 1136);
        // A membrane cleared every step is still read by reset-from-previous.
        let cleared = NeuronParams {
            membrane: word(20, false),
            decay: Decay::Multiply { d: 4096 },
            compare: Compare::Strict,
            ..Preset::SnntorchLeaky.neuron()
        };
        assert_eq!(registers(&core(32, 16, 4, 4, cleared)).total(), 3377);
        // With a zero reset the cleared membrane's crossing selects 0 for
        // 0: nothing reads the membrane, and its column and the pipeline's
        // crossing bit are dropped (`..._rfp_v12s_mul4096_a12s_thgt256_rz_pl2`).
        let zero_cleared = NeuronParams {
            membrane: word(12, false),
            decay: Decay::Multiply { d: 4096 },
            accumulator: word(12, false),
            threshold: 256,
            reset: ResetMode::Zero,
            ..Preset::SnntorchLeaky.neuron()
        };
        let p = core(32, 32, 2, 3, zero_cleared)
            .with_pipeline(2)
            .expect("a valid depth");
        assert_eq!(registers(&p).total(), 3558);
        assert_eq!(live_state_width(&p.neuron), 12);
    }

    /// The logic features count what their comments say: read multiplexers
    /// as `width * (rows - 1)` (one LUT-RAM row needs none) and
    /// `width * (depth - 1)`, constant multiplies only without a DSP block,
    /// the pipeline's flip-flops as the controller's count grows with it.
    #[test]
    fn logic_features_count_their_structures() {
        let neuron = NeuronParams {
            decay: Decay::Multiply { d: 410 },
            ..Preset::SnntorchLeaky.neuron()
        };
        let p = core(32, 8, 4, 6, neuron);
        let (sm, wm) = (state_memory(&p), synapse_memory(&p));
        let f = logic_features(&p, MemoryKind::Lut { rows: 1 }, MemoryKind::Lut { rows: 3 }, false);
        assert_eq!(f.lut_ram_mux_bits, (wm.width * 2) as f64);
        assert_eq!(f.flop_memory_mux_bits, 0.0);
        let f = logic_features(&p, MemoryKind::Flops, MemoryKind::Block, false);
        assert_eq!(f.flop_memory_mux_bits, (sm.width * (sm.depth - 1)) as f64);
        assert_eq!(f.lut_ram_mux_bits, 0.0);
        // 4096 - 410 = 3686 = 1843 << 1, 1843 = 0b111_0011_0011: 7 set bits,
        // 6 adders of the membrane's width, per unit.
        let membrane = p.neuron.membrane.width as f64;
        assert_eq!(f.multiply_bits, 4.0 * 6.0 * membrane);
        assert_eq!(
            logic_features(&p, MemoryKind::Flops, MemoryKind::Block, true).multiply_bits,
            0.0
        );
        assert_eq!(f.pipeline_bits, 0.0);
        // The preset's 16-bit membrane saturates and is as wide as the
        // 16-bit accumulator it integrates.
        assert_eq!(f.saturating_membrane_bits, 4.0 * membrane);
        assert_eq!(f.membrane_over_drive_bits, 0.0);
        // The preset saturates its 16-bit membrane and accumulator: two
        // clips of 16 bits per unit.
        assert_eq!(f.clip_bits, 4.0 * 32.0);
        // Lava's 24-bit current wraps (no clip); its 24-bit membrane and
        // 16-bit accumulator saturate.
        let lava = core(32, 8, 2, 6, Preset::LavaLoihi.neuron());
        assert_eq!(
            logic_features(&lava, MemoryKind::Flops, MemoryKind::Block, false).clip_bits,
            2.0 * 40.0
        );
        // A 20-bit wrapping membrane over a 12-bit accumulator shifted by
        // 2: no membrane clip, 6 bits beyond the 14-bit drive per unit; a
        // 24-bit current is the drive of a (saturating) 20-bit membrane
        // and is wider than it.
        let wide = NeuronParams {
            membrane: word(20, true),
            accumulator: word(12, false),
            input_shift: 2,
            ..Preset::SnntorchLeaky.neuron()
        };
        let f = logic_features(&core(32, 8, 4, 6, wide), MemoryKind::Flops, MemoryKind::Block, false);
        assert_eq!(f.saturating_membrane_bits, 0.0);
        assert_eq!(f.membrane_over_drive_bits, 4.0 * 6.0);
        let cuba = NeuronParams {
            membrane: word(20, false),
            synapse: Some(Synapse {
                current: word(24, false),
                decay: Decay::Multiply { d: 1024 },
            }),
            ..wide
        };
        let f = logic_features(&core(32, 8, 4, 6, cuba), MemoryKind::Flops, MemoryKind::Block, false);
        assert_eq!(f.saturating_membrane_bits, 4.0 * 20.0);
        assert_eq!(f.membrane_over_drive_bits, 0.0);
        // The reset-from-previous subtract reset's threshold is a third
        // operand of a membrane sum that keeps its decayed membrane.
        let f = logic_features(&p, MemoryKind::Flops, MemoryKind::Block, false);
        assert_eq!(f.subtract_operand_bits, 4.0 * 16.0);
        assert_eq!(
            logic_features(&core(32, 8, 4, 6, cuba), MemoryKind::Flops, MemoryKind::Block, false).subtract_operand_bits,
            4.0 * 20.0
        );
        let zero = NeuronParams {
            reset: ResetMode::Zero,
            ..p.neuron
        };
        let cleared = NeuronParams {
            decay: Decay::Multiply { d: 4096 },
            ..p.neuron
        };
        for n in [zero, cleared] {
            let f = logic_features(&core(32, 8, 4, 6, n), MemoryKind::Flops, MemoryKind::Block, false);
            assert_eq!(f.subtract_operand_bits, 0.0);
        }
        for depth in 1..=3 {
            let q = p.clone().with_pipeline(depth).expect("a valid depth");
            let grown = registers(&q).control - registers(&p).control;
            assert!(grown > 0);
            assert_eq!(pipeline_registers(&q), grown);
            assert_eq!(
                logic_features(&q, MemoryKind::Flops, MemoryKind::Block, false).pipeline_bits,
                grown as f64
            );
        }
    }

    /// A decay that clears the state takes an operand out of its sum, and
    /// with it a reset-from-previous zero reset's select and compare.
    #[test]
    fn cleared_states_drop_their_sums() {
        let leaky = NeuronParams {
            membrane: word(16, true),
            accumulator: word(12, true),
            decay: Decay::Shift {
                k: 3,
                min_decrement: false,
            },
            ..Preset::SnntorchLeaky.neuron()
        };
        let cleared = |n: NeuronParams| NeuronParams {
            decay: Decay::Multiply { d: 4096 },
            ..n
        };
        // Subtract reset: the shift decay's 16-bit subtractor and the sum's
        // decayed-membrane operand (16 wrapping bits) go; both compares stay.
        assert_eq!(datapath_bits(&leaky) - datapath_bits(&cleared(leaky)), 16 + 16);
        // Zero reset: also the select between 0 and the (zero) decayed
        // membrane and the previous membrane's compare.
        let zero = NeuronParams {
            reset: ResetMode::Zero,
            ..leaky
        };
        assert_eq!(datapath_bits(&zero) - datapath_bits(&cleared(zero)), 16 + 16 + 16 + 16);
        assert_eq!(live_state_width(&cleared(leaky)), leaky.state_width());
        assert_eq!(live_state_width(&cleared(zero)), zero.state_width() - 16);
        // A cleared current's sum is the input alone: its 13-bit adder
        // (accumulator + 1) goes with the decay's rounding adder.
        let cuba = NeuronParams {
            synapse: Some(Synapse {
                current: word(10, true),
                decay: Decay::Multiply { d: 1024 },
            }),
            ..leaky
        };
        let cuba_cleared = NeuronParams {
            synapse: Some(Synapse {
                current: word(10, true),
                decay: Decay::Multiply { d: 4096 },
            }),
            ..leaky
        };
        assert_eq!(datapath_bits(&cuba) - datapath_bits(&cuba_cleared), 10 + 13);
    }

    #[test]
    fn canonical_signed_digits() {
        assert_eq!(csd_digits(3072), 2); // 4096 - 1024
        assert_eq!(csd_digits(7), 2); // 8 - 1
        assert_eq!(csd_digits(4096), 1);
        assert_eq!(csd_digits(3686), 6); // 4096 - 410 = 4096 - 512 + 128 - 32 + 8 - 2
        let lava = NeuronParams {
            decay: Decay::Multiply { d: 1024 },
            ..Preset::LavaLoihi.neuron()
        };
        // The current clears (d = 4096, no multiply); the membrane multiplies by 3 << 10.
        assert_eq!(
            const_multiplies(&lava),
            vec![ConstMultiply {
                width: 24,
                constant_bits: 3,
                digits: 2,
                set_bits: 2,
                product_width: 26
            }]
        );
    }
}

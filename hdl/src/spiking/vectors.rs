//! Test vectors for spiking designs: every (membrane, input) pair through a
//! lone neuron unit, and random event streams through a core with a
//! cycle-exact model of its controller.

use super::model::{CoreModel, NeuronState, update};
use super::params::{CoreParams, NeuronParams};
use crate::stimulus::{CycleSink, Stimulus, input_index, output_index};
use crate::{Bits, Design};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::cell::Cell;
use std::rc::Rc;

fn mask(w: u32) -> u64 {
    if w >= 64 { u64::MAX } else { (1u64 << w) - 1 }
}

fn signed_of(raw: u64, w: u32) -> i64 {
    let sh = 64 - w;
    ((raw << sh) as i64) >> sh
}

/// Every (membrane, accumulated input) pair through a neuron unit; the
/// current and refractory counter, where present, are seeded random with
/// their extremes one time in four.
pub struct NeuronExhaustive {
    p: NeuronParams,
    rng: StdRng,
    next: u64,
    pairs: u64,
    ins: [Option<usize>; 4],
    outs: [Option<usize>; 4],
    triples: bool,
}

impl NeuronExhaustive {
    pub fn new(design: &Design, p: &NeuronParams, seed: u64) -> NeuronExhaustive {
        let has_in = |n: &str| {
            design
                .driven_inputs()
                .any(|q| q.name == n)
                .then(|| input_index(design, n))
        };
        let has_out = |n: &str| design.outputs().any(|q| q.name == n).then(|| output_index(design, n));
        NeuronExhaustive {
            p: *p,
            rng: StdRng::seed_from_u64(seed),
            next: 0,
            pairs: 1u64 << (p.membrane.width + p.accumulator.width),
            ins: [has_in("v_i"), has_in("i_i"), has_in("ref_i"), has_in("acc_i")],
            outs: [has_out("v_o"), has_out("i_o"), has_out("ref_o"), has_out("spike_o")],
            triples: false,
        }
    }

    /// Pairs the run goes through.
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// Go through every (membrane, current, input) triple instead: the
    /// current is no longer random (CUBA neurons only).
    pub fn all_currents(mut self) -> NeuronExhaustive {
        if let Some(s) = self.p.synapse {
            self.triples = true;
            self.pairs <<= s.current.width;
        }
        self
    }

    fn corner_or_random(&mut self, w: u32, corners: &[i64]) -> i64 {
        if self.rng.random_range(0..4) == 0 {
            corners[self.rng.random_range(0..corners.len())]
        } else {
            signed_of(self.rng.random_range(0..=mask(w)), w)
        }
    }
}

impl Stimulus for NeuronExhaustive {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.next == self.pairs {
            return false;
        }
        let (vw, aw) = (self.p.membrane.width, self.p.accumulator.width);
        let index = self.next;
        let v = signed_of(index >> aw, vw);
        let acc = signed_of(index & mask(aw), aw);
        self.next += 1;
        let i = match self.p.synapse {
            Some(s) if self.triples => signed_of(index >> (aw + vw), s.current.width),
            Some(s) => {
                let m = s.current.max();
                self.corner_or_random(s.current.width, &[0, 1, -1, m, -m, -m - 1])
            }
            None => 0,
        };
        let refractory = if self.p.refractory > 0 {
            self.rng.random_range(0..=self.p.refractory)
        } else {
            0
        };
        let s = NeuronState { v, i, refractory, acc };
        let (n, spike) = update(&self.p, s);
        let cw = self.p.current_width();
        let [vi, ii, ri, ai] = self.ins;
        let [vo, io, ro, so] = self.outs;
        let drive = |sink: &mut dyn CycleSink, port: Option<usize>, value: i64, w: u32| {
            if let Some(port) = port {
                sink.drive(port, value as u64 & mask(w));
            }
        };
        drive(sink, vi, v, vw);
        drive(sink, ii, i, cw);
        drive(sink, ri, refractory as i64, 32);
        drive(sink, ai, acc, aw);
        if let Some(port) = vo {
            sink.expect(port, n.v as u64 & mask(vw));
        }
        if let Some(port) = io {
            sink.expect(port, n.i as u64 & mask(cw));
        }
        if let Some(port) = ro {
            sink.expect(port, n.refractory as u64);
        }
        if let Some(port) = so {
            sink.expect(port, spike as u64);
        }
        true
    }
}

/// How busy the streams around a core are.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    /// Chance an input event is offered in a cycle when none is pending.
    pub offer: f64,
    /// Chance the output consumer is ready in a cycle.
    pub ready: f64,
}

impl Traffic {
    pub const FULL: Traffic = Traffic { offer: 1.0, ready: 1.0 };
    pub const BURSTY: Traffic = Traffic { offer: 0.7, ready: 0.6 };
    /// Heavy back-pressure on the output, sparse input.
    pub const STALLED: Traffic = Traffic {
        offer: 0.3,
        ready: 0.15,
    };
}

/// Controller states, as in `core.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fsm {
    Init,
    Idle,
    Accum,
    Update,
    Emit,
    Tick,
}

/// The synapse word `addr` of `model` as the weight-load port takes it
/// (P weights, unit u at bits `[u*W +: W]`; wider than 64 bits for large P).
pub fn weight_word(model: &CoreModel, addr: u32) -> Bits {
    let p = &model.p;
    let slots = p.slots();
    let (input, slot) = (addr / slots, addr % slots);
    let w = p.weight_width;
    let mut word = Bits::zero(p.units * w);
    for u in 0..p.units {
        let wt = model.weight(input, slot * p.units + u);
        word.set_u64_field(u * w, w, wt as u64 & mask(w));
    }
    word
}

/// `model`'s synapse memory as a `$readmemh` file: word `a*SLOTS + s` on
/// line `a*SLOTS + s`, P weights per word, unit 0 in the low bits.
pub fn weight_hex(model: &CoreModel) -> String {
    let p = &model.p;
    let digits = (p.units * p.weight_width).div_ceil(4) as usize;
    (0..p.synapse_words())
        .map(|a| {
            let hex = weight_word(model, a).to_hex();
            format!("{hex:0>digits$}\n")
        })
        .collect()
}

/// An event on either stream: an address, or the end of a time step.
pub type Event = Option<u32>;

/// The core's controller, cycle by cycle, around the functional model:
/// what the RTL shows on its handshake outputs and when.
#[derive(Clone, Debug)]
pub struct CoreMirror {
    pub model: CoreModel,
    fsm: Fsm,
    slot: u32,
    spk: u64,
    /// Pipelined: a slot in the read register (bit 0) or after neuron stage k (bit k).
    vld: u64,
    /// Pipelined: the slot last written back, whose spikes are in `spk`.
    eslot: u32,
    step_spikes: Vec<bool>,
}

impl CoreMirror {
    /// The state right after reset: clearing the state memory.
    pub fn new(model: CoreModel) -> CoreMirror {
        let n = model.p.neurons as usize;
        let last_slot = model.p.slots() - 1;
        CoreMirror {
            model,
            fsm: Fsm::Init,
            slot: 0,
            spk: 0,
            vld: 0,
            eslot: last_slot,
            step_spikes: vec![false; n],
        }
    }

    pub fn in_ready(&self) -> bool {
        self.fsm == Fsm::Idle
    }

    /// The reset input: the controller restarts by clearing every neuron's
    /// state; the weights (block RAM) are kept.
    pub fn reset(&mut self) {
        self.model.state.iter_mut().for_each(|s| *s = Default::default());
        self.fsm = Fsm::Init;
        self.slot = 0;
        self.spk = 0;
        self.vld = 0;
        self.eslot = self.model.p.slots() - 1;
    }

    /// The output event on offer this cycle, if any.
    pub fn out_event(&self) -> Option<Event> {
        match self.fsm {
            Fsm::Tick => Some(None),
            Fsm::Emit if self.spk != 0 => Some(Some(self.slot * self.model.p.units + self.spk.trailing_zeros())),
            Fsm::Update if self.model.p.pipeline > 0 && self.spk != 0 => {
                Some(Some(self.eslot * self.model.p.units + self.spk.trailing_zeros()))
            }
            _ => None,
        }
    }

    /// `out_data_o` of an output event.
    pub fn out_code(&self, e: Event) -> u64 {
        match e {
            Some(n) => n as u64,
            None => 1 << self.model.p.neuron_addr_width(),
        }
    }

    pub fn idle(&self) -> bool {
        self.fsm == Fsm::Idle
    }

    /// Pipelined: a slot is in the read register or a neuron stage.
    pub fn slots_in_flight(&self) -> bool {
        self.vld != 0
    }

    /// The clock edge: `accepted` is the input event taken this cycle (only
    /// when [`in_ready`](Self::in_ready)); returns the output event that
    /// left (offered and `out_ready`).
    pub fn clock(&mut self, accepted: Option<Event>, out_ready: bool) -> Option<Event> {
        let offered = self.out_event();
        let p = &self.model.p;
        let last = self.slot + 1 == p.slots();
        let next_slot = if last { 0 } else { self.slot + 1 };
        let units = p.units;
        match self.fsm {
            Fsm::Init | Fsm::Accum => {
                if last {
                    self.fsm = Fsm::Idle;
                }
                self.slot = next_slot;
            }
            Fsm::Idle => match accepted {
                Some(Some(a)) => {
                    self.model.event(a);
                    self.fsm = Fsm::Accum;
                }
                Some(None) => {
                    self.step_spikes.iter_mut().for_each(|s| *s = false);
                    for n in self.model.tick() {
                        self.step_spikes[n as usize] = true;
                    }
                    self.fsm = Fsm::Update;
                    // Pipelined: slot 0 is read as the tick is accepted.
                    self.vld = 1;
                }
                None => {}
            },
            Fsm::Update if p.pipeline > 0 => {
                let rest = self.spk & self.spk.wrapping_sub(1);
                let emit_done = self.spk == 0 || (rest == 0 && out_ready);
                if offered.is_some() && out_ready {
                    self.spk = rest;
                }
                if emit_done && self.vld == 0 {
                    self.fsm = Fsm::Tick;
                    self.slot = next_slot;
                } else if emit_done {
                    if self.vld >> p.pipeline & 1 == 1 {
                        self.eslot = if self.eslot + 1 == p.slots() { 0 } else { self.eslot + 1 };
                        let base = (self.eslot * units) as usize;
                        self.spk = (0..units as usize)
                            .filter(|u| self.step_spikes[base + u])
                            .fold(0u64, |acc, u| acc | 1 << u);
                    }
                    self.vld = (self.vld << 1 | u64::from(!last)) & ((1 << (p.pipeline + 1)) - 1);
                    if !last {
                        self.slot = next_slot;
                    }
                }
            }
            Fsm::Update => {
                let base = (self.slot * units) as usize;
                self.spk = (0..units as usize)
                    .filter(|u| self.step_spikes[base + u])
                    .fold(0u64, |acc, u| acc | 1 << u);
                self.fsm = Fsm::Emit;
            }
            Fsm::Emit => {
                if offered.is_some() && out_ready {
                    self.spk &= self.spk - 1;
                }
                if self.spk == 0 {
                    self.fsm = if last { Fsm::Tick } else { Fsm::Update };
                    self.slot = next_slot;
                }
            }
            Fsm::Tick => {
                if out_ready {
                    self.fsm = Fsm::Idle;
                }
            }
        }
        offered.filter(|_| out_ready)
    }
}

/// Counters of what a run compared, readable while the simulator owns the stimulus.
#[derive(Clone, Debug, Default)]
pub struct CoreCounts {
    pub events: Rc<Cell<u64>>,
    pub ticks: Rc<Cell<u64>>,
    pub spikes: Rc<Cell<u64>>,
    pub synaptic_ops: Rc<Cell<u64>>,
    /// Cycles a spike was refused by the output while a later slot was in
    /// the neuron pipeline (pipelined cores: the whole pipeline held).
    pub held_in_flight: Rc<Cell<u64>>,
}

/// What a core run sends: random weights, then `steps` time steps of
/// random input events (addresses may repeat) each ended by a tick.
pub struct CoreVectors {
    p: CoreParams,
    core: CoreMirror,
    rng: StdRng,
    traffic: Traffic,
    // Stimulus.
    reset_left: u32,
    load_next: u32,
    cycles_left: u64,
    script: std::vec::IntoIter<Option<u32>>,
    pending: Option<Option<u32>>,
    ticks_left: u64,
    tail: u32,
    counts: CoreCounts,
    ports: CorePorts,
}

struct CorePorts {
    rst: usize,
    in_valid: usize,
    in_data: usize,
    out_ready: usize,
    wl_valid: usize,
    wl_addr: usize,
    wl_data: usize,
    in_ready: usize,
    out_valid: usize,
    out_data: usize,
    wl_ready: usize,
}

impl CoreVectors {
    /// `events` input events in total, spread over time steps of 0 to
    /// 2 * mean_per_step events each.
    pub fn new(design: &Design, p: &CoreParams, seed: u64, events: u64, traffic: Traffic) -> CoreVectors {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model = CoreModel::new(p);
        // Weights lean positive so neurons fire; extremes one time in eight.
        let (lo, hi) = (p.weight_min(), p.weight_max());
        for a in 0..p.inputs {
            for n in 0..p.neurons {
                let w = match rng.random_range(0..16) {
                    0 => lo,
                    1 => hi,
                    _ => rng.random_range(lo / 2..=hi),
                };
                model.set_weight(a, n, w);
            }
        }
        let mean = (p.inputs as u64 / 2).clamp(1, 24);
        let mut script = Vec::new();
        let mut left = events;
        while left > 0 {
            let k = rng.random_range(0..=2 * mean).min(left);
            for _ in 0..k {
                script.push(Some(rng.random_range(0..p.inputs)));
            }
            script.push(None);
            left -= k;
        }
        let ticks = script.iter().filter(|e| e.is_none()).count() as u64;
        let port = |n: &str| input_index(design, n);
        let out = |n: &str| output_index(design, n);
        CoreVectors {
            p: p.clone(),
            core: CoreMirror::new(model),
            rng,
            traffic,
            reset_left: 2,
            load_next: 0,
            cycles_left: u64::MAX,
            script: script.into_iter(),
            pending: None,
            ticks_left: ticks,
            tail: 4,
            counts: CoreCounts::default(),
            ports: CorePorts {
                rst: port(p.reset.port_name()),
                in_valid: port("in_valid_i"),
                in_data: port("in_data_i"),
                out_ready: port("out_ready_i"),
                wl_valid: port("wl_valid_i"),
                wl_addr: port("wl_addr_i"),
                wl_data: port("wl_data_i"),
                in_ready: out("in_ready_o"),
                out_valid: out("out_valid_o"),
                out_data: out("out_data_o"),
                wl_ready: out("wl_ready_o"),
            },
        }
    }

    pub fn counts(&self) -> CoreCounts {
        self.counts.clone()
    }

    /// Stop after `cycles` cycles even if events are left (for a CLI run
    /// of a given length); every cycle until then is compared.
    pub fn cycle_limit(mut self, cycles: u64) -> CoreVectors {
        self.cycles_left = cycles;
        self
    }

    /// The synapse memory already holds the weights (`$readmemh`): no
    /// words are sent on the load port.
    pub fn preloaded(mut self) -> CoreVectors {
        self.load_next = self.p.synapse_words();
        self
    }

    /// The weights as a `$readmemh` file: one synapse word per line, in hex.
    pub fn weight_hex(&self) -> String {
        weight_hex(&self.core.model)
    }

    /// Enough events to fill about `cycles` cycles at full rate.
    pub fn events_for_cycles(p: &CoreParams, cycles: u64) -> u64 {
        let fixed = Self::fixed_cycles(p);
        let step = p.step_cycles();
        let mean = (p.inputs as u64 / 2).clamp(1, 24);
        let per_event = p.cycles_per_event() + step / mean.max(1);
        (cycles.saturating_sub(fixed) / per_event).max(1)
    }

    /// Reset, loading every weight word and clearing the state memory.
    fn fixed_cycles(p: &CoreParams) -> u64 {
        2 + p.synapse_words() as u64 + p.slots() as u64
    }

    /// The fewest cycles in which a run compares at least one whole time
    /// step under `traffic` (a bound: back-pressure is random).
    pub fn min_cycles(p: &CoreParams, traffic: Traffic) -> u64 {
        let step = p.cycles_per_event() + p.step_cycles() + p.neurons as u64;
        let slow = (1.0 / traffic.offer.min(traffic.ready)).ceil() as u64;
        Self::fixed_cycles(p) + 4 * step * slow + 64
    }

    fn weight_word(&self, addr: u32) -> Bits {
        weight_word(&self.core.model, addr)
    }

    fn bump(c: &Rc<Cell<u64>>, by: u64) {
        c.set(c.get() + by);
    }
}

impl Stimulus for CoreVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        let ports = &self.ports;
        let rst_on = self.p.reset.asserted();
        if self.cycles_left == 0 {
            return false;
        }
        self.cycles_left -= 1;
        if self.reset_left > 0 {
            self.reset_left -= 1;
            sink.drive(ports.rst, rst_on);
            for port in [
                ports.in_valid,
                ports.out_ready,
                ports.wl_valid,
                ports.in_data,
                ports.wl_addr,
                ports.wl_data,
            ] {
                sink.drive(port, 0);
            }
            for port in [ports.in_ready, ports.out_valid, ports.out_data, ports.wl_ready] {
                sink.ignore(port);
            }
            return true;
        }
        if self.ticks_left == 0 && self.core.idle() {
            // A few idle cycles after the last end-of-step marker, then stop.
            if self.tail == 0 {
                return false;
            }
            self.tail -= 1;
        }
        sink.drive(ports.rst, 1 - rst_on);
        // Weights first, one word per cycle (the port is always ready);
        // events only after the last word.
        let words = self.p.synapse_words();
        let loading = self.load_next < words;
        sink.drive(ports.wl_valid, loading as u64);
        if loading {
            sink.drive(ports.wl_addr, self.load_next as u64);
            let word = self.weight_word(self.load_next);
            sink.drive_bits(ports.wl_data, &word);
            self.load_next += 1;
        }
        if self.pending.is_none() && !loading && self.rng.random_bool(self.traffic.offer) {
            self.pending = self.script.next();
        }
        let ia = self.p.input_addr_width();
        match self.pending {
            Some(ev) => {
                sink.drive(ports.in_valid, 1);
                sink.drive(
                    ports.in_data,
                    match ev {
                        Some(a) => a as u64,
                        None => 1 << ia,
                    },
                );
            }
            None => {
                sink.drive(ports.in_valid, 0);
                // Idle data changes too: the core must ignore it.
                sink.drive(ports.in_data, self.rng.random_range(0..=mask(ia + 1)));
            }
        }
        let out_ready = self.rng.random_bool(self.traffic.ready);
        sink.drive(ports.out_ready, out_ready as u64);

        // Outputs before the clock edge, from the mirrored controller.
        sink.expect(ports.in_ready, self.core.in_ready() as u64);
        sink.expect(ports.wl_ready, 1);
        let offered = self.core.out_event();
        sink.expect(ports.out_valid, offered.is_some() as u64);
        if offered.is_some() && !out_ready && self.core.slots_in_flight() {
            Self::bump(&self.counts.held_in_flight, 1);
        }
        match offered {
            Some(e) => sink.expect(ports.out_data, self.core.out_code(e)),
            None => sink.ignore(ports.out_data),
        }
        // The clock edge.
        let accepted = if self.core.in_ready() {
            self.pending.take()
        } else {
            None
        };
        if let Some(e) = accepted {
            Self::bump(&self.counts.events, e.is_some() as u64);
            if e.is_some() {
                Self::bump(&self.counts.synaptic_ops, self.p.neurons as u64);
            }
        }
        match self.core.clock(accepted, out_ready) {
            Some(Some(_)) => Self::bump(&self.counts.spikes, 1),
            Some(None) => {
                self.ticks_left -= 1;
                Self::bump(&self.counts.ticks, 1);
            }
            None => {}
        }
        true
    }
}

/// Spikes of every time step a chain emitted, filled in while it runs.
pub type StepLog = Rc<std::cell::RefCell<Vec<Vec<u32>>>>;

/// A two-layer chain: both layers' weights, then a script of input events,
/// checked cycle by cycle on the input, the tap between the layers and the
/// output. Weights are given (a trained network) or random.
pub struct ChainVectors {
    l1: CoreMirror,
    l2: CoreMirror,
    rng: StdRng,
    traffic: Traffic,
    script: std::vec::IntoIter<Event>,
    /// Further scripts, each run from a reset state (weights kept).
    more: std::vec::IntoIter<Vec<Event>>,
    pending: Option<Event>,
    reset_left: u32,
    load: [u32; 2],
    steps_left: u64,
    tail: u32,
    current: Vec<u32>,
    layer1: StepLog,
    layer2: StepLog,
    steps_done: Rc<Cell<u64>>,
    cycles_left: u64,
    ins: [usize; 10],
    outs: [usize; 8],
}

impl ChainVectors {
    pub fn new(
        design: &Design,
        l1: CoreModel,
        l2: CoreModel,
        script: Vec<Event>,
        traffic: Traffic,
        seed: u64,
    ) -> ChainVectors {
        let steps = script.iter().filter(|e| e.is_none()).count() as u64;
        let reset = l1.p.reset.port_name();
        let ins = [
            reset,
            "in_valid_i",
            "in_data_i",
            "out_ready_i",
            "wl1_valid_i",
            "wl1_addr_i",
            "wl1_data_i",
            "wl2_valid_i",
            "wl2_addr_i",
            "wl2_data_i",
        ]
        .map(|n| input_index(design, n));
        let outs = [
            "in_ready_o",
            "out_valid_o",
            "out_data_o",
            "mid_valid_o",
            "mid_ready_o",
            "mid_data_o",
            "wl1_ready_o",
            "wl2_ready_o",
        ]
        .map(|n| output_index(design, n));
        ChainVectors {
            l1: CoreMirror::new(l1),
            l2: CoreMirror::new(l2),
            rng: StdRng::seed_from_u64(seed),
            traffic,
            script: script.into_iter(),
            more: Vec::new().into_iter(),
            pending: None,
            reset_left: 2,
            load: [0, 0],
            steps_left: steps,
            tail: 4,
            current: Vec::new(),
            layer1: Rc::default(),
            layer2: Rc::default(),
            steps_done: Rc::default(),
            cycles_left: u64::MAX,
            ins,
            outs,
        }
    }

    /// Run `scripts` one after another, each from a reset (one inference
    /// per script, weights loaded once).
    pub fn with_resets(
        design: &Design,
        l1: CoreModel,
        l2: CoreModel,
        scripts: Vec<Vec<Event>>,
        traffic: Traffic,
        seed: u64,
    ) -> ChainVectors {
        let mut scripts = scripts.into_iter();
        let first = scripts.next().unwrap_or_default();
        let mut v = ChainVectors::new(design, l1, l2, first, traffic, seed);
        v.more = scripts.collect::<Vec<_>>().into_iter();
        v
    }

    /// Random weights (leaning positive, extremes one time in eight) and
    /// rate-coded random input for about `cycles` cycles, stopping there.
    pub fn random(
        design: &Design,
        l1: &CoreParams,
        l2: &CoreParams,
        seed: u64,
        cycles: u64,
        traffic: Traffic,
    ) -> ChainVectors {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut models = [CoreModel::new(l1), CoreModel::new(l2)];
        for m in &mut models {
            let (lo, hi) = (m.p.weight_min(), m.p.weight_max());
            for a in 0..m.p.inputs {
                for n in 0..m.p.neurons {
                    let w = match rng.random_range(0..16) {
                        0 => lo,
                        1 => hi,
                        _ => rng.random_range(lo / 2..=hi),
                    };
                    m.set_weight(a, n, w);
                }
            }
        }
        // A step: about a third of the inputs, then layer 1's spikes through layer 2.
        let step = (l1.inputs as u64 / 3 + 1) * l1.cycles_per_event() + l1.neurons as u64 * l2.cycles_per_event();
        let steps = (cycles / step.max(1)).clamp(1, 1 << 20) as u32;
        let script = Self::random_script(l1.inputs, steps, 1.0 / 3.0, &mut rng);
        let [a, b] = models;
        let mut v = ChainVectors::new(design, a, b, script, traffic, seed);
        v.cycles_left = cycles;
        v
    }

    /// The fewest cycles in which a random run compares a whole time step
    /// through both layers (a bound: traffic is random).
    pub fn min_cycles(l1: &CoreParams, l2: &CoreParams, traffic: Traffic) -> u64 {
        let load = l1.synapse_words().max(l2.synapse_words()) as u64 + 2 + l1.slots().max(l2.slots()) as u64;
        let step = l1.inputs as u64 * l1.cycles_per_event()
            + l1.step_cycles()
            + l1.neurons as u64 * (l2.cycles_per_event() + 1)
            + l2.step_cycles()
            + l2.neurons as u64;
        let slow = (1.0 / traffic.offer.min(traffic.ready)).ceil() as u64;
        load + 2 * step * slow + 64
    }

    /// Whole time steps compared at the output so far.
    pub fn steps_checked(&self) -> Rc<Cell<u64>> {
        self.steps_done.clone()
    }

    /// Layer-1 and layer-2 spikes of every step, as compared.
    pub fn logs(&self) -> (StepLog, StepLog) {
        (self.layer1.clone(), self.layer2.clone())
    }

    /// Rate-coded random input: `steps` steps, each input address sent with
    /// probability `rate`.
    pub fn random_script(inputs: u32, steps: u32, rate: f64, rng: &mut StdRng) -> Vec<Event> {
        let mut s = Vec::new();
        for _ in 0..steps {
            for a in 0..inputs {
                if rng.random_bool(rate) {
                    s.push(Some(a));
                }
            }
            s.push(None);
        }
        s
    }
}

impl Stimulus for ChainVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        let [
            rst,
            in_valid,
            in_data,
            out_ready_i,
            wl1_valid,
            wl1_addr,
            wl1_data,
            wl2_valid,
            wl2_addr,
            wl2_data,
        ] = self.ins;
        let [
            in_ready,
            out_valid,
            out_data,
            mid_valid,
            mid_ready,
            mid_data,
            wl1_ready,
            wl2_ready,
        ] = self.outs;
        if self.cycles_left == 0 {
            return false;
        }
        self.cycles_left -= 1;
        let rst_on = self.l1.model.p.reset.asserted();
        if self.reset_left > 0 {
            self.reset_left -= 1;
            sink.drive(rst, rst_on);
            for port in [
                in_valid,
                in_data,
                out_ready_i,
                wl1_valid,
                wl1_addr,
                wl1_data,
                wl2_valid,
                wl2_addr,
                wl2_data,
            ] {
                sink.drive(port, 0);
            }
            for port in self.outs {
                sink.ignore(port);
            }
            return true;
        }
        if self.steps_left == 0 && self.l1.idle() && self.l2.idle() {
            if let Some(next) = self.more.next() {
                // The next inference starts from a reset; the weights stay.
                self.steps_left = next.iter().filter(|e| e.is_none()).count() as u64;
                self.script = next.into_iter();
                self.l1.reset();
                self.l2.reset();
                self.reset_left = 1;
                sink.drive(rst, rst_on);
                sink.drive(in_valid, 0);
                for port in [wl1_valid, wl2_valid] {
                    sink.drive(port, 0);
                }
                for port in self.outs {
                    sink.ignore(port);
                }
                return true;
            }
            if self.tail == 0 {
                return false;
            }
            self.tail -= 1;
        }
        sink.drive(rst, 1 - rst_on);
        let mut loading = false;
        for (k, (valid, addr, data)) in [(wl1_valid, wl1_addr, wl1_data), (wl2_valid, wl2_addr, wl2_data)]
            .into_iter()
            .enumerate()
        {
            let model = if k == 0 { &self.l1.model } else { &self.l2.model };
            let busy = self.load[k] < model.p.synapse_words();
            sink.drive(valid, busy as u64);
            if busy {
                sink.drive(addr, self.load[k] as u64);
                sink.drive_bits(data, &weight_word(model, self.load[k]));
                self.load[k] += 1;
                loading = true;
            }
        }
        if self.pending.is_none() && !loading && self.rng.random_bool(self.traffic.offer) {
            self.pending = self.script.next();
        }
        let ia = self.l1.model.p.input_addr_width();
        match self.pending {
            Some(e) => {
                sink.drive(in_valid, 1);
                sink.drive(in_data, e.map_or(1 << ia, |a| a as u64));
            }
            None => sink.drive(in_valid, 0),
        }
        let ready = self.rng.random_bool(self.traffic.ready);
        sink.drive(out_ready_i, ready as u64);

        sink.expect(in_ready, self.l1.in_ready() as u64);
        sink.expect(wl1_ready, 1);
        sink.expect(wl2_ready, 1);
        let mid = self.l1.out_event();
        sink.expect(mid_valid, mid.is_some() as u64);
        match mid {
            Some(e) => sink.expect(mid_data, self.l1.out_code(e)),
            None => sink.ignore(mid_data),
        }
        sink.expect(mid_ready, self.l2.in_ready() as u64);
        let out = self.l2.out_event();
        sink.expect(out_valid, out.is_some() as u64);
        match out {
            Some(e) => sink.expect(out_data, self.l2.out_code(e)),
            None => sink.ignore(out_data),
        }

        let accepted = if self.l1.in_ready() { self.pending.take() } else { None };
        let l2_ready = self.l2.in_ready();
        let passed = self.l1.clock(accepted, l2_ready);
        if passed == Some(None) {
            // Layer 1 finished a step: its spikes are the model's tick result.
            let spikes: Vec<u32> = (0..self.l1.model.p.neurons)
                .filter(|&n| self.l1.step_spikes[n as usize])
                .collect();
            self.layer1.borrow_mut().push(spikes);
        }
        match self.l2.clock(passed, ready) {
            Some(Some(n)) => self.current.push(n),
            Some(None) => {
                self.layer2.borrow_mut().push(std::mem::take(&mut self.current));
                self.steps_left -= 1;
                self.steps_done.set(self.steps_done.get() + 1);
            }
            None => {}
        }
        true
    }
}

//! Test vectors for spiking designs: every (membrane, input) pair through a
//! lone neuron unit, and random event streams through a core with a
//! cycle-exact model of its controller.

use super::model::{CoreModel, NeuronState, update};
use super::params::{CoreParams, NeuronParams};
use crate::Design;
use crate::stimulus::{CycleSink, Stimulus, input_index, output_index};
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
        }
    }

    /// Pairs the run goes through.
    pub fn pairs(&self) -> u64 {
        self.pairs
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
        let v = signed_of(self.next >> aw, vw);
        let acc = signed_of(self.next & mask(aw), aw);
        self.next += 1;
        let i = match self.p.synapse {
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

/// Counters of what a run compared, readable while the simulator owns the stimulus.
#[derive(Clone, Debug, Default)]
pub struct CoreCounts {
    pub events: Rc<Cell<u64>>,
    pub ticks: Rc<Cell<u64>>,
    pub spikes: Rc<Cell<u64>>,
    pub synaptic_ops: Rc<Cell<u64>>,
}

/// What a core run sends: random weights, then `steps` time steps of
/// random input events (addresses may repeat) each ended by a tick.
pub struct CoreVectors {
    p: CoreParams,
    model: CoreModel,
    rng: StdRng,
    traffic: Traffic,
    // Controller mirror.
    fsm: Fsm,
    slot: u32,
    spk: u64,
    step_spikes: Vec<bool>,
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
            model,
            rng,
            traffic,
            fsm: Fsm::Init,
            slot: 0,
            spk: 0,
            step_spikes: vec![false; p.neurons as usize],
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

    /// Enough events to fill about `cycles` cycles at full rate.
    pub fn events_for_cycles(p: &CoreParams, cycles: u64) -> u64 {
        let fixed = Self::fixed_cycles(p);
        let step = 2 * p.slots() as u64 + 2;
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
        let step = p.cycles_per_event() + 2 * p.slots() as u64 + p.neurons as u64 + 2;
        let slow = (1.0 / traffic.offer.min(traffic.ready)).ceil() as u64;
        Self::fixed_cycles(p) + 4 * step * slow + 64
    }

    /// The weight word `addr` as the load port takes it.
    fn weight_word(&self, addr: u32) -> u64 {
        let slots = self.p.slots();
        let (input, slot) = (addr / slots, addr % slots);
        let w = self.p.weight_width;
        (0..self.p.units).fold(0u64, |acc, u| {
            let wt = self.model.weight(input, slot * self.p.units + u);
            acc | ((wt as u64 & mask(w)) << (u * w))
        })
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
        if self.ticks_left == 0 && self.fsm == Fsm::Idle {
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
            sink.drive(ports.wl_data, word);
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
        let in_ready = self.fsm == Fsm::Idle;
        let spike_offered = self.fsm == Fsm::Emit && self.spk != 0;
        let out_valid = spike_offered || self.fsm == Fsm::Tick;
        sink.expect(ports.in_ready, in_ready as u64);
        sink.expect(ports.wl_ready, 1);
        sink.expect(ports.out_valid, out_valid as u64);
        let na = self.p.neuron_addr_width();
        if self.fsm == Fsm::Tick {
            sink.expect(ports.out_data, 1 << na);
        } else if spike_offered {
            let unit = self.spk.trailing_zeros();
            sink.expect(ports.out_data, (self.slot * self.p.units + unit) as u64);
        } else {
            sink.ignore(ports.out_data);
        }

        // The clock edge.
        let last = self.slot + 1 == self.p.slots();
        let next_slot = if last { 0 } else { self.slot + 1 };
        let units = self.p.units;
        match self.fsm {
            Fsm::Init => {
                if last {
                    self.fsm = Fsm::Idle;
                }
                self.slot = next_slot;
            }
            Fsm::Idle => {
                if let Some(ev) = self.pending.take() {
                    match ev {
                        Some(a) => {
                            self.model.event(a);
                            Self::bump(&self.counts.events, 1);
                            Self::bump(&self.counts.synaptic_ops, self.p.neurons as u64);
                            self.fsm = Fsm::Accum;
                        }
                        None => {
                            self.step_spikes.iter_mut().for_each(|s| *s = false);
                            for n in self.model.tick() {
                                self.step_spikes[n as usize] = true;
                            }
                            self.fsm = Fsm::Update;
                        }
                    }
                }
            }
            Fsm::Accum => {
                if last {
                    self.fsm = Fsm::Idle;
                }
                self.slot = next_slot;
            }
            Fsm::Update => {
                let base = (self.slot * units) as usize;
                self.spk = (0..units as usize)
                    .filter(|u| self.step_spikes[base + u])
                    .fold(0u64, |acc, u| acc | 1 << u);
                self.fsm = Fsm::Emit;
            }
            Fsm::Emit => {
                if spike_offered && out_ready {
                    self.spk &= self.spk - 1;
                    Self::bump(&self.counts.spikes, 1);
                }
                let done = self.spk == 0;
                if done {
                    self.fsm = if last { Fsm::Tick } else { Fsm::Update };
                    self.slot = next_slot;
                }
            }
            Fsm::Tick => {
                if out_ready {
                    self.fsm = Fsm::Idle;
                    self.ticks_left -= 1;
                    Self::bump(&self.counts.ticks, 1);
                }
            }
        }
        true
    }
}

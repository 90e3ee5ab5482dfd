//! The bit-exact golden model: one neuron update ([`update`]), the core's
//! function over time steps ([`CoreModel`]) and, in `vectors.rs`, its cycle
//! timing. See `params.rs` for the equations.

use super::params::{Compare, CoreParams, Decay, NeuronParams, Order, ResetMode};

/// The state of one neuron between time steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NeuronState {
    /// Membrane potential.
    pub v: i64,
    /// Synaptic current (CUBA only, else 0).
    pub i: i64,
    /// Steps of rest left.
    pub refractory: u32,
    /// Weights accumulated in the current step.
    pub acc: i64,
}

/// `v` after one step of decay (exact: the result always fits `v`'s width).
pub fn decay(d: Decay, v: i64) -> i64 {
    match d {
        Decay::None => v,
        Decay::Shift { k, min_decrement } => {
            let dec = v >> k;
            let dec = if min_decrement && v > 0 && dec == 0 { 1 } else { dec };
            v - dec
        }
        Decay::Multiply { d } => {
            let x = v * (4096 - d as i64);
            // Truncation toward zero, as sign(x) * (|x| >> 12).
            if x < 0 { -((-x) >> 12) } else { x >> 12 }
        }
    }
}

fn fires(p: &NeuronParams, v: i64) -> bool {
    match p.compare {
        Compare::Strict => v > p.threshold,
        Compare::NonStrict => v >= p.threshold,
    }
}

/// Add one event's weight to the accumulator.
pub fn accumulate(p: &NeuronParams, acc: i64, weight: i64) -> i64 {
    p.accumulator.fit(acc + weight)
}

/// One time step: the new state (accumulator cleared) and whether the neuron spiked.
pub fn update(p: &NeuronParams, s: NeuronState) -> (NeuronState, bool) {
    let input = s.acc << p.input_shift;
    let (i, drive) = match &p.synapse {
        Some(syn) => {
            let i = syn.current.fit(decay(syn.decay, s.i) + input);
            (i, i)
        }
        None => (0, input),
    };
    let mem = p.membrane;
    let (v, spike, refractory) = match p.order {
        Order::IntegrateThenFire => {
            if s.refractory > 0 {
                (s.v, false, s.refractory - 1)
            } else {
                let x = mem.fit(decay(p.decay, s.v) + drive + p.bias);
                if fires(p, x) {
                    let v = match p.reset {
                        ResetMode::Zero => 0,
                        ResetMode::Subtract => x - p.threshold,
                        ResetMode::None => x,
                    };
                    (v, true, p.refractory)
                } else {
                    (x, false, 0)
                }
            }
        }
        Order::ResetFromPrevious => {
            let r = fires(p, s.v);
            let base = decay(p.decay, s.v);
            let x = match (p.reset, r) {
                (ResetMode::Subtract, true) => base + drive + p.bias - p.threshold,
                (ResetMode::Zero, true) => drive + p.bias,
                _ => base + drive + p.bias,
            };
            let v = mem.fit(x);
            (v, fires(p, v), 0)
        }
    };
    (
        NeuronState {
            v,
            i,
            refractory,
            acc: 0,
        },
        spike,
    )
}

/// The core's function: state of every neuron, weights, events in, spikes out.
#[derive(Clone, Debug)]
pub struct CoreModel {
    pub p: CoreParams,
    /// `weights[input * N + neuron]`.
    pub weights: Vec<i64>,
    pub state: Vec<NeuronState>,
    /// Synaptic operations (weights added) so far.
    pub synaptic_ops: u64,
}

impl CoreModel {
    pub fn new(p: &CoreParams) -> CoreModel {
        CoreModel {
            p: p.clone(),
            weights: vec![0; p.inputs as usize * p.neurons as usize],
            state: vec![NeuronState::default(); p.neurons as usize],
            synaptic_ops: 0,
        }
    }

    pub fn set_weight(&mut self, input: u32, neuron: u32, w: i64) {
        self.weights[(input * self.p.neurons + neuron) as usize] = w;
    }

    pub fn weight(&self, input: u32, neuron: u32) -> i64 {
        self.weights[(input * self.p.neurons + neuron) as usize]
    }

    /// One input event: its weight row is added to every accumulator.
    pub fn event(&mut self, input: u32) {
        let n = self.p.neurons as usize;
        let row = &self.weights[input as usize * n..(input as usize + 1) * n];
        for (s, &w) in self.state.iter_mut().zip(row) {
            s.acc = accumulate(&self.p.neuron, s.acc, w);
        }
        self.synaptic_ops += n as u64;
    }

    /// The time-step tick: every neuron updates; returns the spiking
    /// neurons in address order (the order the core emits them).
    pub fn tick(&mut self) -> Vec<u32> {
        let mut spikes = Vec::new();
        for (n, s) in self.state.iter_mut().enumerate() {
            let (next, spike) = update(&self.p.neuron, *s);
            *s = next;
            if spike {
                spikes.push(n as u32);
            }
        }
        spikes
    }

    /// The order in which a slot's spikes leave the core: slot by slot, and
    /// within a slot by unit, which is plain address order.
    pub fn emit_order(&self) -> impl Iterator<Item = u32> {
        0..self.p.neurons
    }
}

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
}

/// Two chained cores' function: layer 1's spikes of a step are layer 2's
/// input events of the same step, in the order layer 1 emits them
/// (address order), and layer 1's end-of-step marker is layer 2's tick.
#[derive(Clone, Debug)]
pub struct ChainModel {
    pub layer1: CoreModel,
    pub layer2: CoreModel,
}

impl ChainModel {
    pub fn new(first: &CoreParams, second: &CoreParams) -> ChainModel {
        ChainModel {
            layer1: CoreModel::new(first),
            layer2: CoreModel::new(second),
        }
    }

    /// One input event into layer 1.
    pub fn event(&mut self, input: u32) {
        self.layer1.event(input);
    }

    /// The time-step tick: layer 1 updates and its spikes go to layer 2,
    /// which then updates. Returns both layers' spikes in address order.
    pub fn tick(&mut self) -> (Vec<u32>, Vec<u32>) {
        let mid = self.layer1.tick();
        for &n in &mid {
            self.layer2.event(n);
        }
        let out = self.layer2.tick();
        (mid, out)
    }
}

/// Each preset against its reference's equations (snnTorch `Leaky`, Lava's
/// bit-accurate LIF; see `docs/spiking.md`), written out here independently
/// of [`update`].
#[cfg(test)]
mod reference {
    use super::*;
    use crate::spiking::params::{Decay, Preset, Synapse};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// snnTorch `Leaky`, one step, on integers: beta * U with beta = 1 - 2^-k
    /// is `U - (U >> k)`.
    ///   R[t] = (U[t-1] > theta)
    ///   U[t] = beta * U[t-1] + I[t] - R[t] * theta        (subtract)
    ///   U[t] = beta * (1 - R[t]) * U[t-1] + I[t]          (zero)
    ///   S[t] = (U[t] > theta)
    fn snntorch_leaky(u_prev: i64, input: i64, theta: i64, k: u32, zero: bool) -> (i64, bool) {
        let r = if u_prev > theta { 1 } else { 0 };
        let beta_u = u_prev - (u_prev >> k);
        let u = if zero {
            (1 - r) * beta_u + input
        } else {
            beta_u + input - r * theta
        };
        (u, u > theta)
    }

    fn lava_decay(x: i64, factor: i64) -> i64 {
        let p = x * factor;
        p.signum() * (p.abs() >> 12)
    }

    fn wrap24(x: i64) -> i64 {
        (x << 40) >> 40
    }

    /// Lava's bit-accurate LIF, one step (24-bit state, du and dv 12-bit).
    fn lava_lif(u: i64, v: i64, a_in: i64, du: i64, dv: i64, vth: i64, bias: i64) -> (i64, i64, bool) {
        let u = lava_decay(u, 4096 - du - 1);
        let u = wrap24(u + (a_in << 6));
        let v = lava_decay(v, 4096 - dv);
        let v = (v + u + bias).clamp(-((1 << 23) - 1), (1 << 23) - 1);
        let s = v > (vth << 6);
        (u, if s { 0 } else { v }, s)
    }

    #[test]
    fn snntorch_leaky_presets_match_snntorch_equations() {
        let mut rng = StdRng::seed_from_u64(11);
        for (preset, zero) in [(Preset::SnntorchLeaky, false), (Preset::SnntorchLeakyZero, true)] {
            for k in [1u32, 2, 4, 7] {
                let mut p = preset.neuron();
                p.decay = Decay::Shift {
                    k,
                    min_decrement: false,
                };
                p.threshold = rng.random_range(1..400);
                let mut s = NeuronState::default();
                let mut u_ref = 0i64;
                let mut spikes = 0;
                for _ in 0..20_000 {
                    // Inputs small enough that the 16-bit membrane never clips.
                    let input = rng.random_range(-300..=600);
                    let (u, spike_ref) = snntorch_leaky(u_ref, input, p.threshold, k, zero);
                    u_ref = u;
                    s.acc = input;
                    let (next, spike) = update(&p, s);
                    s = next;
                    assert_eq!((s.v, spike), (u_ref, spike_ref), "{preset:?} k = {k}");
                    spikes += spike as u32;
                }
                assert!(spikes > 100, "{preset:?} k = {k}: only {spikes} spikes");
            }
        }
    }

    #[test]
    fn lava_loihi_preset_matches_lava_bit_accurate_lif() {
        let mut rng = StdRng::seed_from_u64(12);
        let mut spikes = 0;
        for _ in 0..200 {
            let du = rng.random_range(0..4096i64);
            let dv = rng.random_range(0..4096i64);
            let vth = rng.random_range(1..2000i64);
            let bias = rng.random_range(-3000..3000i64);
            let mut p = Preset::LavaLoihi.neuron();
            // The preset's translation of Lava's parameters.
            p.synapse = Some(Synapse {
                decay: Decay::Multiply { d: du as u32 + 1 },
                ..p.synapse.expect("lava-loihi is CUBA")
            });
            p.decay = Decay::Multiply { d: dv as u32 };
            p.threshold = vth << 6;
            p.bias = bias;
            let (mut u, mut v) = (0i64, 0i64);
            let mut s = NeuronState::default();
            for _ in 0..500 {
                let a_in = rng.random_range(-(1i64 << 15)..(1 << 15));
                let (nu, nv, spike_ref) = lava_lif(u, v, a_in, du, dv, vth, bias);
                (u, v) = (nu, nv);
                s.acc = a_in;
                let (next, spike) = update(&p, s);
                s = next;
                assert_eq!(
                    (s.i, s.v, spike),
                    (u, v, spike_ref),
                    "du {du} dv {dv} vth {vth} bias {bias}"
                );
                spikes += spike as u32;
            }
        }
        assert!(spikes > 1000, "only {spikes} spikes");
    }
}

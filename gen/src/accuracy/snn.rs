//! The digits MLP converted to a spiking network, evaluated through the
//! bit-exact model of the spiking core.
//!
//! Conversion (rate coding, Diehl et al. 2015 / Rueckauer et al. 2017):
//! - neurons are integrate-and-fire with reset by subtraction and a
//!   non-strict threshold (`if` preset, `>=`), so a neuron's spike rate
//!   follows its ReLU activation;
//! - each layer is normalised by the 99.9th percentile of its positive
//!   activations on the training set (`lambda`): `W' = W * lambda_prev /
//!   lambda`, `b' = b / lambda`, threshold 1;
//! - integers: `W' * S` rounded, with `S = w_max / max(|W'|, |b'|)`, and the
//!   threshold `round(S)`;
//! - biases arrive as input events: layer 1 has a 65th input, sent `r`
//!   times every step (`r = ceil(threshold / w_max)`), whose weights are the
//!   biases divided by `r`; it also drives a 33rd hidden neuron that fires
//!   every step and carries layer 2's biases;
//! - the 8x8 inputs are rate coded deterministically: pixel x in 0..=1 sends
//!   an event at step t when floor((t+1) x) > floor(t x);
//! - the class is the output neuron with the most spikes over T steps (ties
//!   go to the lower class). Every image starts from a zeroed state.

use super::digits::{CLASSES, Dataset, FEATURES};
use super::mlp::Mlp;
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::spiking::model::CoreModel;
use accgen_hdl::spiking::params::{
    Compare, CoreSpec, DEFAULT_MAX_SYNAPSE_BITS, NeuronParams, Overflow, Preset, ResetMode, Word,
};
use accgen_hdl::spiking::vectors::Event;

/// A bit budget: time steps, weight bits, membrane bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub steps: u32,
    pub weight_bits: u32,
    pub membrane_bits: u32,
}

/// The converted network: two cores with their weights.
#[derive(Clone, Debug)]
pub struct SpikingNet {
    pub budget: Budget,
    pub layer1: CoreModel,
    pub layer2: CoreModel,
    /// Times the bias input is sent per step.
    pub bias_repeats: u32,
}

/// Hidden neurons of the MLP, plus the always-on neuron.
pub fn hidden_neurons(net: &Mlp) -> usize {
    net.hidden.outputs + 1
}

fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
    v.retain(|x| *x > 0.0);
    if v.is_empty() {
        return 1.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Activation scales `lambda` of the hidden layer and the logits.
pub fn scales(net: &Mlp, train: &Dataset) -> (f64, f64) {
    let (mut h, mut o) = (Vec::new(), Vec::new());
    for i in 0..train.len() {
        let f = net.forward(train.image(i));
        h.extend(f.hidden);
        o.extend(f.logits);
    }
    (percentile(h, 0.999), percentile(o, 0.999))
}

fn neuron(b: Budget, threshold: i64) -> NeuronParams {
    let mem = Word {
        width: b.membrane_bits,
        overflow: Overflow::Saturate,
    };
    NeuronParams {
        membrane: mem,
        accumulator: mem,
        threshold,
        compare: Compare::NonStrict,
        reset: ResetMode::Subtract,
        ..Preset::If.neuron()
    }
}

/// Convert; `Err` when the budget cannot hold the network (the threshold
/// does not fit the membrane).
pub fn convert(net: &Mlp, lambdas: (f64, f64), b: Budget) -> Result<SpikingNet, String> {
    let w_max = ((1i64 << (b.weight_bits - 1)) - 1) as f64;
    let hid = net.hidden.outputs;
    let (l1, l2) = lambdas;
    let layer = |w: &[f64], bias: &[f64], k: f64, kb: f64| {
        let w: Vec<f64> = w.iter().map(|x| x * k).collect();
        let bias: Vec<f64> = bias.iter().map(|x| x * kb).collect();
        let m = w.iter().chain(&bias).fold(0f64, |a, x| a.max(x.abs()));
        let s = w_max / m;
        (w, bias, s)
    };
    let (w1, b1, s1) = layer(&net.hidden.weights, &net.hidden.bias, 1.0 / l1, 1.0 / l1);
    let (w2, b2, s2) = layer(&net.output.weights, &net.output.bias, l1 / l2, 1.0 / l2);
    let th1 = s1.round().max(1.0) as i64;
    let th2 = s2.round().max(1.0) as i64;
    let repeats = (th1 as f64 / w_max).ceil().max(1.0) as u32;
    let core = |n: usize, inputs: usize, th: i64| {
        CoreSpec {
            neurons: n as u64,
            inputs: inputs as u64,
            units: 1,
            weight_width: b.weight_bits as u64,
            neuron: neuron(b, th),
            weight_init: None,
            max_synapse_bits: DEFAULT_MAX_SYNAPSE_BITS,
            reset: ResetStyle::SyncHigh,
        }
        .validate()
        .map_err(|e| e.to_string())
    };
    let p1 = core(hid + 1, FEATURES + 1, th1)?;
    let p2 = core(CLASSES, hid + 1, th2)?;
    let q = |x: f64| (x.round() as i64).clamp(-(w_max as i64), w_max as i64);
    let mut m1 = CoreModel::new(&p1);
    for o in 0..hid {
        for i in 0..FEATURES {
            m1.set_weight(i as u32, o as u32, q(w1[o * FEATURES + i] * s1));
        }
        m1.set_weight(FEATURES as u32, o as u32, q(b1[o] * s1 / repeats as f64));
    }
    // The always-on neuron: the bias input alone reaches the threshold each step.
    m1.set_weight(FEATURES as u32, hid as u32, q((th1 as f64 / repeats as f64).ceil()));
    let mut m2 = CoreModel::new(&p2);
    for o in 0..CLASSES {
        for i in 0..hid {
            m2.set_weight(i as u32, o as u32, q(w2[o * hid + i] * s2));
        }
        m2.set_weight(hid as u32, o as u32, q(b2[o] * s2));
    }
    Ok(SpikingNet {
        budget: b,
        layer1: m1,
        layer2: m2,
        bias_repeats: repeats,
    })
}

/// The input events of one image: per step, the rate-coded pixels, the
/// bias input `repeats` times, then the tick.
pub fn encode(image: &[f64], steps: u32, repeats: u32) -> Vec<Event> {
    let mut s = Vec::new();
    for t in 0..steps {
        for (i, &x) in image.iter().enumerate() {
            if ((t + 1) as f64 * x).floor() > (t as f64 * x).floor() {
                s.push(Some(i as u32));
            }
        }
        for _ in 0..repeats {
            s.push(Some(FEATURES as u32));
        }
        s.push(None);
    }
    s
}

/// What one image did in the bit-exact model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inference {
    /// Spikes of each layer at each step.
    pub layer1: Vec<Vec<u32>>,
    pub layer2: Vec<Vec<u32>>,
    pub class: usize,
    /// Weights added (input events x neurons of the layer), both layers.
    pub synaptic_ops: u64,
    /// Input events, both layers.
    pub events: u64,
}

/// The class with the most output spikes (ties to the lower class).
pub fn decide(layer2: &[Vec<u32>]) -> usize {
    let mut counts = [0u32; CLASSES];
    for step in layer2 {
        for &n in step {
            counts[n as usize] += 1;
        }
    }
    let mut best = 0;
    for c in 1..CLASSES {
        if counts[c] > counts[best] {
            best = c;
        }
    }
    best
}

impl SpikingNet {
    /// Run one image from a zeroed state; layer 2 takes layer 1's spikes of
    /// a step in the same step, as the chained cores do.
    pub fn infer(&self, image: &[f64]) -> Inference {
        let (mut a, mut b) = (self.layer1.clone(), self.layer2.clone());
        let (mut l1, mut l2) = (Vec::new(), Vec::new());
        let mut events = 0;
        for e in encode(image, self.budget.steps, self.bias_repeats) {
            match e {
                Some(i) => {
                    a.event(i);
                    events += 1;
                }
                None => {
                    let s1 = a.tick();
                    for &n in &s1 {
                        b.event(n);
                    }
                    events += s1.len() as u64;
                    let s2 = b.tick();
                    l1.push(s1);
                    l2.push(s2);
                }
            }
        }
        Inference {
            class: decide(&l2),
            layer1: l1,
            layer2: l2,
            synaptic_ops: a.synaptic_ops + b.synaptic_ops,
            events,
        }
    }

    /// Correct predictions and mean synaptic operations over `set`.
    pub fn evaluate(&self, set: &Dataset) -> (usize, f64) {
        let (mut correct, mut ops) = (0, 0u64);
        for i in 0..set.len() {
            let r = self.infer(set.image(i));
            correct += (r.class == set.labels[i] as usize) as usize;
            ops += r.synaptic_ops;
        }
        (correct, ops as f64 / set.len() as f64)
    }
}

/// `accgen snn-digits`: accuracy over a grid of bit budgets.
#[derive(Clone, Debug, clap::Args)]
pub struct SnnArgs {
    /// Time steps T (comma-separated)
    #[arg(long, value_delimiter = ',', default_values_t = [4u32, 8, 16, 32, 64])]
    pub steps: Vec<u32>,
    /// Weight bits (comma-separated, 2..16)
    #[arg(long, value_delimiter = ',', default_values_t = [3u32, 4, 6, 8])]
    pub weights: Vec<u32>,
    /// Membrane bits (comma-separated, up to 32)
    #[arg(long, value_delimiter = ',', default_values_t = [6u32, 8, 10, 12, 16])]
    pub membrane: Vec<u32>,
    /// Seed of the MLP's training
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The trained MLP, its test set and the conversion scales.
pub struct Prepared {
    pub net: Mlp,
    pub split: super::digits::Split,
    pub lambdas: (f64, f64),
    pub float_accuracy: f64,
}

pub fn prepare(seed: u64) -> Result<Prepared, crate::Failure> {
    let all = super::digits::load().map_err(crate::Failure::Run)?;
    let split = super::digits::split(&all);
    let net = super::mlp::train(
        &split.train,
        &super::mlp::TrainOptions {
            seed,
            ..Default::default()
        },
    );
    let lambdas = scales(&net, &split.train);
    Ok(Prepared {
        float_accuracy: net.accuracy(&split.test),
        net,
        split,
        lambdas,
    })
}

pub fn run(args: &SnnArgs) -> Result<(), crate::Failure> {
    use crate::Failure;
    for &w in &args.weights {
        if !(2..=16).contains(&w) {
            return Err(Failure::Input(format!(
                "error: --weights {w} is not allowed: 2..=16 bits"
            )));
        }
    }
    for &m in &args.membrane {
        if !(2..=32).contains(&m) {
            return Err(Failure::Input(format!(
                "error: --membrane {m} is not allowed: 2..=32 bits"
            )));
        }
    }
    for &t in &args.steps {
        if !(1..=4096).contains(&t) {
            return Err(Failure::Input(format!("error: --steps {t} is not allowed: 1..=4096")));
        }
    }
    let p = prepare(args.seed)?;
    let test = &p.split.test;
    println!(
        "digits 64-{}-10 MLP (seed {}): float test accuracy {:.2}% on {} images; spiking: IF, subtract reset, rate-coded inputs",
        p.net.hidden.outputs,
        args.seed,
        100.0 * p.float_accuracy,
        test.len()
    );
    println!("\ntest accuracy (%) and synaptic operations per inference, through the bit-exact core model\n");
    let mut header = "| weight bits | membrane bits |".to_string();
    for t in &args.steps {
        header += &format!(" T = {t} |");
    }
    println!("{header}");
    println!("|---|---|{}", "---|".repeat(args.steps.len()));
    for &w in &args.weights {
        for &m in &args.membrane {
            let mut row = format!("| {w} | {m} |");
            for &t in &args.steps {
                let b = Budget {
                    steps: t,
                    weight_bits: w,
                    membrane_bits: m,
                };
                match convert(&p.net, p.lambdas, b) {
                    Ok(net) => {
                        let (correct, ops) = net.evaluate(test);
                        row += &format!(" {:.1} ({:.0} SOP) |", 100.0 * correct as f64 / test.len() as f64, ops);
                    }
                    Err(_) => row += " n/a |",
                }
            }
            println!("{row}");
        }
    }
    println!("\nn/a: the threshold does not fit the membrane (or weights do not fit the accumulator).");
    Ok(())
}

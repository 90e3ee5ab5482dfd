//! A small multi-layer perceptron (64-32-10, ReLU, softmax cross-entropy)
//! trained with Adam on minibatches, in plain f64 arithmetic.
//!
//! Training is deterministic: the seed fixes the initial weights and the
//! order of every epoch, and every sum runs in a fixed order on one thread,
//! so the same seed gives bit-identical weights on every run.

use super::digits::{CLASSES, Dataset, FEATURES};
use super::rng::SplitMix64;

/// A fully connected layer `y = W x + b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    /// Row-major `[output][input]`: row `o` is output channel `o`'s weights.
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
}

impl Dense {
    /// He initialisation (normal, variance 2 / fan-in) and zero bias.
    fn new(inputs: usize, outputs: usize, rng: &mut SplitMix64) -> Dense {
        let std = (2.0 / inputs as f64).sqrt();
        Dense {
            inputs,
            outputs,
            weights: (0..inputs * outputs).map(|_| rng.normal() * std).collect(),
            bias: vec![0.0; outputs],
        }
    }

    /// The weights of output channel `o`.
    pub fn channel(&self, o: usize) -> &[f64] {
        &self.weights[o * self.inputs..(o + 1) * self.inputs]
    }

    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        (0..self.outputs)
            .map(|o| self.bias[o] + self.channel(o).iter().zip(x).map(|(w, x)| w * x).sum::<f64>())
            .collect()
    }
}

/// The network: `logits = output(relu(hidden(x)))`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub hidden: Dense,
    pub output: Dense,
}

/// Every intermediate value of one forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Forward {
    /// Hidden layer output before ReLU.
    pub hidden_pre: Vec<f64>,
    /// After ReLU: the second layer's input.
    pub hidden: Vec<f64>,
    pub logits: Vec<f64>,
}

pub fn relu(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x.max(0.0)).collect()
}

/// Index of the largest value; the first one on ties, so a tie is decided
/// the same way on every run.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

impl Mlp {
    pub fn forward(&self, x: &[f64]) -> Forward {
        let hidden_pre = self.hidden.forward(x);
        let hidden = relu(&hidden_pre);
        let logits = self.output.forward(&hidden);
        Forward {
            hidden_pre,
            hidden,
            logits,
        }
    }

    pub fn predict(&self, x: &[f64]) -> usize {
        argmax(&self.forward(x).logits)
    }

    /// Fraction of `set` classified correctly.
    pub fn accuracy(&self, set: &Dataset) -> f64 {
        let correct = (0..set.len())
            .filter(|&i| self.predict(set.image(i)) == set.labels[i] as usize)
            .count();
        correct as f64 / set.len() as f64
    }
}

/// Training hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub seed: u64,
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            seed: 1,
            hidden: 32,
            epochs: 60,
            batch: 32,
            learning_rate: 3e-3,
        }
    }
}

/// Adam's moment estimates for one parameter vector (Kingma and Ba, 2015).
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

impl Adam {
    fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// One update of `params` with gradient `grad` at step `t` (1-based).
    fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64, t: i32) {
        let (c1, c2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
        for i in 0..params.len() {
            self.m[i] = BETA1 * self.m[i] + (1.0 - BETA1) * grad[i];
            self.v[i] = BETA2 * self.v[i] + (1.0 - BETA2) * grad[i] * grad[i];
            params[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + EPSILON);
        }
    }
}

/// Gradients of one minibatch, summed over its samples.
struct Grads {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: Vec<f64>,
}

impl Grads {
    fn zero(net: &Mlp) -> Grads {
        Grads {
            w1: vec![0.0; net.hidden.weights.len()],
            b1: vec![0.0; net.hidden.outputs],
            w2: vec![0.0; net.output.weights.len()],
            b2: vec![0.0; net.output.outputs],
        }
    }

    /// Back-propagate softmax cross-entropy for one sample.
    fn add(&mut self, net: &Mlp, x: &[f64], label: usize) {
        let f = net.forward(x);
        let top = f.logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = f.logits.iter().map(|&z| (z - top).exp()).collect();
        let total: f64 = exp.iter().sum();
        let d_logits: Vec<f64> = exp
            .iter()
            .enumerate()
            .map(|(o, e)| e / total - if o == label { 1.0 } else { 0.0 })
            .collect();
        let (h, n_h) = (&f.hidden, net.hidden.outputs);
        let mut d_hidden = vec![0.0; n_h];
        for (o, &d) in d_logits.iter().enumerate() {
            self.b2[o] += d;
            let grad_row = &mut self.w2[o * n_h..(o + 1) * n_h];
            for ((g, dh), (&hj, &wj)) in grad_row
                .iter_mut()
                .zip(&mut d_hidden)
                .zip(h.iter().zip(net.output.channel(o)))
            {
                *g += d * hj;
                *dh += wj * d;
            }
        }
        for (j, (&pre, &d)) in f.hidden_pre.iter().zip(&d_hidden).enumerate() {
            // ReLU passes the gradient only where it was active.
            if pre <= 0.0 {
                continue;
            }
            self.b1[j] += d;
            for (g, &xi) in self.w1[j * FEATURES..(j + 1) * FEATURES].iter_mut().zip(x) {
                *g += d * xi;
            }
        }
    }

    fn scale(&mut self, s: f64) {
        for v in [&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2] {
            v.iter_mut().for_each(|g| *g *= s);
        }
    }
}

/// Train a 64-H-10 network on `set`.
pub fn train(set: &Dataset, o: &TrainOptions) -> Mlp {
    let mut rng = SplitMix64::new(o.seed);
    let mut net = Mlp {
        hidden: Dense::new(FEATURES, o.hidden, &mut rng),
        output: Dense::new(o.hidden, CLASSES, &mut rng),
    };
    let mut adam = [
        Adam::new(net.hidden.weights.len()),
        Adam::new(net.hidden.outputs),
        Adam::new(net.output.weights.len()),
        Adam::new(net.output.outputs),
    ];
    let mut order: Vec<usize> = (0..set.len()).collect();
    let mut t = 0;
    for _ in 0..o.epochs {
        rng.shuffle(&mut order);
        for batch in order.chunks(o.batch.max(1)) {
            let mut g = Grads::zero(&net);
            for &i in batch {
                g.add(&net, set.image(i), set.labels[i] as usize);
            }
            g.scale(1.0 / batch.len() as f64);
            t += 1;
            let lr = o.learning_rate;
            adam[0].step(&mut net.hidden.weights, &g.w1, lr, t);
            adam[1].step(&mut net.hidden.bias, &g.b1, lr, t);
            adam[2].step(&mut net.output.weights, &g.w2, lr, t);
            adam[3].step(&mut net.output.bias, &g.b2, lr, t);
        }
    }
    net
}

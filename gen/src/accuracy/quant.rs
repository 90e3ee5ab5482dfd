//! Post-training quantization (PTQ) of the MLP, and its inference through
//! the bit-exact golden model of the MAC hardware.
//!
//! The scheme follows Krishnamoorthi, "Quantizing deep convolutional
//! networks for efficient inference: a whitepaper" (arXiv:1806.08342), and
//! Aggarwal et al., "Shedding the Bits: Pushing the Boundaries of
//! Quantization with Minifloats on FPGAs" (FPL 2024, arXiv:2311.12359),
//! reduced to what a MAC array computes:
//!
//! - **Weights: symmetric, per output channel.** Channel `c` gets the scale
//!   `s_w[c] = max_i |W[c][i]| / Q_max`, so its largest weight lands on the
//!   format's largest value `Q_max`: `2^(N-1) - 1` for `intN` (the symmetric
//!   range `[-(2^(N-1)-1), 2^(N-1)-1]`; the code `-2^(N-1)` is never used),
//!   the largest finite value for a minifloat. Unsigned formats cannot hold
//!   negative weights and are refused for weights.
//! - **Activations: symmetric, per tensor**, `s_a = range / Q_max`, the range
//!   calibrated on the float network's activations over the *training* set
//!   (the maximum, or a percentile of all values: [`Calibration`]). Inputs
//!   and hidden activations are non-negative (pixels, ReLU outputs), so a
//!   signed format spends its sign bit on nothing: `int4` activations use
//!   codes 0..7, `uint4` codes 0..15. The table reports both kinds when asked;
//!   the default lists use the signed names so W and A share one list.
//! - **Rounding**: round to nearest, ties to even, then saturate to the
//!   format's range (minifloats: `FloatFormat::encode(_, Saturate)`), so no
//!   code is ever NaN or infinite.
//! - **Dot products** run through [`mac_step`], the golden model of the PE:
//!   an exact fixed-point (Kulisch) sum of exact products, the very value
//!   the generated array computes. Only the accumulator's real value leaves
//!   it: `y[c] = acc[c] * s_a * s_w[c] + b[c]`, in f64.
//! - **Bias stays in float** (f64), added after the exact sum. Integer
//!   pipelines fold it into the accumulator as an int32 in units of
//!   `s_a * s_w[c]`; the MAC array has no bias input, and a float bias after
//!   the array is what a minifloat pipeline does, so both kinds of format
//!   are treated alike.

use super::digits::Dataset;
use super::mlp::{Dense, Mlp, argmax, relu};
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac::model::{Acc, mac_step};
use accgen_hdl::mac::operand::Operand;
use accgen_hdl::mac::params::FormatSpec;
use accgen_hdl::mac::{MacArrayParams, MacArraySpec, MulImpl};
use accgen_hdl::minifloat::OnOverflow;
use accgen_hdl::params::ParamError;
use std::fmt;

/// A number format of the workload: what the user wrote, and the MAC
/// operand it denotes.
#[derive(Clone, Debug, PartialEq)]
pub struct QFormat {
    pub spec: FormatSpec,
    pub operand: Operand,
}

impl QFormat {
    /// Validate `spec` as a MAC operand; `key` names it in errors.
    pub fn new(key: &str, spec: FormatSpec) -> Result<QFormat, ParamError> {
        let operand = spec.operand(key)?;
        Ok(QFormat { spec, operand })
    }

    /// A named format (`int8`, `uint4`, `e4m3fn`, ...).
    pub fn named(key: &str, name: &str) -> Result<QFormat, ParamError> {
        QFormat::new(key, FormatSpec::Name(name.to_string()))
    }

    /// The short name in tables: `int8`, `uint4`, a preset name, or
    /// `e3m3b3finite` for a minifloat spelled out.
    pub fn label(&self) -> String {
        match &self.operand {
            Operand::Int(i) => i.to_string(),
            Operand::Float(f) => f.tag(),
        }
    }

    /// Can the format hold negative values?
    pub fn signed(&self) -> bool {
        match &self.operand {
            Operand::Int(i) => i.signed,
            Operand::Float(_) => true,
        }
    }

    /// `Q_max`: the value the calibrated range maps to.
    pub fn max(&self) -> f64 {
        match &self.operand {
            Operand::Int(i) => i.max() as f64,
            Operand::Float(f) => f.max_value(),
        }
    }

    /// The code of `x` (in units of the scale): round to nearest even, then
    /// saturate to `[-Q_max, Q_max]` (`[0, Q_max]` when unsigned).
    pub fn encode(&self, x: f64) -> u64 {
        match &self.operand {
            Operand::Int(i) => {
                let max = i.max() as f64;
                let min = if i.signed { -max } else { 0.0 };
                i.encode(x.round_ties_even().clamp(min, max) as i64)
            }
            Operand::Float(f) => f.encode(x, OnOverflow::Saturate),
        }
    }

    /// The real value of a code (in units of the scale).
    pub fn value(&self, code: u64) -> f64 {
        match &self.operand {
            Operand::Int(i) => i.decode(code) as f64,
            Operand::Float(f) => f.to_f64(code),
        }
    }
}

impl fmt::Display for QFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// How activation ranges are calibrated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Calibration {
    /// The largest activation seen on the training set: nothing saturates
    /// on training data.
    Max,
    /// The p-th percentile (0 < p <= 100) of all activation values of the
    /// training set: clips rare outliers to spend resolution on the bulk.
    Percentile(f64),
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Calibration::Max => f.write_str("max"),
            Calibration::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

impl Calibration {
    /// `max`, or `pNN.NN` for a percentile (as `--calibration` takes it).
    pub fn parse(text: &str) -> Result<Calibration, String> {
        if text == "max" {
            return Ok(Calibration::Max);
        }
        match text.strip_prefix('p').map(str::parse::<f64>) {
            Some(Ok(p)) if p > 0.0 && p <= 100.0 => Ok(Calibration::Percentile(p)),
            _ => Err(format!(
                "`{text}` is not a calibration: use `max` or `pNN` with 0 < NN <= 100, e.g. `p99.99`"
            )),
        }
    }

    fn range(self, values: &mut [f64]) -> f64 {
        match self {
            Calibration::Max => values.iter().cloned().fold(0.0, f64::max),
            Calibration::Percentile(p) => {
                values.sort_by(f64::total_cmp);
                // The nearest-rank percentile.
                let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
                values[rank.clamp(1, values.len()) - 1].max(0.0)
            }
        }
    }
}

/// The calibrated range of each layer's input activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranges {
    pub input: f64,
    pub hidden: f64,
}

/// Calibrate activation ranges on the float network over `train`.
pub fn calibrate(net: &Mlp, train: &Dataset, how: Calibration) -> Ranges {
    let mut input = train.features.clone();
    let mut hidden: Vec<f64> = (0..train.len())
        .flat_map(|i| net.forward(train.image(i)).hidden)
        .collect();
    Ranges {
        input: how.range(&mut input),
        hidden: how.range(&mut hidden),
    }
}

/// The MAC parameters of a layer (one output row, all channels as
/// columns): the accumulator width is derived exactly as for the hardware.
pub fn layer_params(
    rows: u64,
    cols: u64,
    dot_length: u64,
    w: &QFormat,
    a: &QFormat,
) -> Result<MacArrayParams, ParamError> {
    MacArraySpec {
        rows,
        cols,
        dot_length,
        activations: a.spec.clone(),
        weights: w.spec.clone(),
        acc_width: None,
        overflow: None,
        multiplier: MulImpl::Dsp,
        reset: ResetStyle::SyncHigh,
        output: None,
        pipeline: 0,
        output_pipeline: 0,
    }
    .validate()
}

/// The exact dot product of activation and weight codes, one `mac_step` a
/// product: the only call of the golden model's arithmetic.
pub fn dot(p: &MacArrayParams, acts: &[u64], wgts: &[u64]) -> Acc {
    let mut acc = Acc::default();
    for (k, (&a, &w)) in acts.iter().zip(wgts).enumerate() {
        acc = mac_step(p, &acc, a, w, k == 0);
    }
    acc
}

/// A quantized dense layer.
#[derive(Clone, Debug)]
pub struct QuantLayer {
    pub params: MacArrayParams,
    pub inputs: usize,
    pub outputs: usize,
    pub weights: QFormat,
    pub activations: QFormat,
    /// Row-major `[output][input]` weight codes.
    pub weight_codes: Vec<u64>,
    /// `s_w[c]`, one a channel.
    pub weight_scales: Vec<f64>,
    /// `s_a`.
    pub act_scale: f64,
    pub bias: Vec<f64>,
}

/// `range / q_max`, or 1 for an all-zero range (every value is then 0).
fn scale(range: f64, q_max: f64) -> f64 {
    if range > 0.0 { range / q_max } else { 1.0 }
}

impl QuantLayer {
    pub fn new(dense: &Dense, w: &QFormat, a: &QFormat, act_range: f64) -> Result<QuantLayer, ParamError> {
        if !w.signed() {
            return Err(ParamError::new(
                "weights",
                format!("`{w}`"),
                "a signed format: weights are quantized symmetrically and take both signs (use intN or a minifloat)",
            ));
        }
        let params = layer_params(1, dense.outputs as u64, dense.inputs as u64, w, a)?;
        let mut weight_codes = Vec::with_capacity(dense.weights.len());
        let mut weight_scales = Vec::with_capacity(dense.outputs);
        for c in 0..dense.outputs {
            let row = dense.channel(c);
            let s = scale(row.iter().fold(0.0, |m, x| f64::max(m, x.abs())), w.max());
            weight_scales.push(s);
            weight_codes.extend(row.iter().map(|&x| w.encode(x / s)));
        }
        Ok(QuantLayer {
            params,
            inputs: dense.inputs,
            outputs: dense.outputs,
            weights: w.clone(),
            activations: a.clone(),
            weight_codes,
            weight_scales,
            act_scale: scale(act_range, a.max()),
            bias: dense.bias.clone(),
        })
    }

    /// The weight codes of output channel `c`.
    pub fn channel_codes(&self, c: usize) -> &[u64] {
        &self.weight_codes[c * self.inputs..(c + 1) * self.inputs]
    }

    /// Activation codes of a real input vector.
    pub fn quantize_input(&self, x: &[f64]) -> Vec<u64> {
        x.iter().map(|&v| self.activations.encode(v / self.act_scale)).collect()
    }

    /// The exact sums, one a channel, through the golden model.
    pub fn accumulate(&self, act_codes: &[u64]) -> Vec<Acc> {
        (0..self.outputs)
            .map(|c| dot(&self.params, act_codes, self.channel_codes(c)))
            .collect()
    }

    /// `y[c] = acc[c] * s_a * s_w[c] + b[c]`.
    pub fn dequantize(&self, sums: &[Acc]) -> Vec<f64> {
        sums.iter()
            .enumerate()
            .map(|(c, acc)| acc.to_f64(&self.params) * self.act_scale * self.weight_scales[c] + self.bias[c])
            .collect()
    }
}

/// The quantized network.
#[derive(Clone, Debug)]
pub struct QuantMlp {
    pub hidden: QuantLayer,
    pub output: QuantLayer,
}

/// Each layer's output (before ReLU) of one quantized forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantForward {
    pub hidden_pre: Vec<f64>,
    pub logits: Vec<f64>,
}

impl QuantMlp {
    /// Quantize `net`: weights in `w`, activations in `a`, activation
    /// ranges from `ranges`.
    pub fn new(net: &Mlp, w: &QFormat, a: &QFormat, ranges: Ranges) -> Result<QuantMlp, ParamError> {
        Ok(QuantMlp {
            hidden: QuantLayer::new(&net.hidden, w, a, ranges.input)?,
            output: QuantLayer::new(&net.output, w, a, ranges.hidden)?,
        })
    }

    pub fn forward(&self, x: &[f64]) -> QuantForward {
        let hidden_pre = self
            .hidden
            .dequantize(&self.hidden.accumulate(&self.hidden.quantize_input(x)));
        let hidden = relu(&hidden_pre);
        let logits = self
            .output
            .dequantize(&self.output.accumulate(&self.output.quantize_input(&hidden)));
        QuantForward { hidden_pre, logits }
    }

    pub fn predict(&self, x: &[f64]) -> usize {
        argmax(&self.forward(x).logits)
    }
}

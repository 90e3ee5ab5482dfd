//! Parameters of a spiking-neuron core: one parameter set drives the golden
//! model and the hardware, so the two cannot drift apart.
//!
//! A time step of one neuron, in the order the parameters select:
//!
//! - the input `I` is the sum of the weights of the input events that arrived
//!   during the step (the accumulator, `accumulator.width` bits), shifted left
//!   by `input_shift`;
//! - with a current-based synapse (CUBA), `i = ovf_c(decay_c(i) + I)` and the
//!   membrane integrates `i` instead of `I`;
//! - `integrate-then-fire` (Lava, SpikingJelly, Norse):
//!   `x = ovf_v(decay_v(v) + I + bias)`; spike if `x > theta` (strict) or `x >= theta`; a spiking
//!   neuron's membrane becomes `0` (zero), `x - theta` (subtract) or stays `x`
//!   (none); a refractory period of R steps then holds the membrane and
//!   ignores input (the current keeps integrating) for the next R steps;
//! - `reset-from-previous` (snnTorch `Leaky`): the reset is decided from the
//!   previous membrane, `r = v > theta` (or `>=`), and applied with the new
//!   input: subtract `v' = ovf_v(decay_v(v) + I + bias - r*theta)`, zero
//!   `v' = ovf_v((r ? 0 : decay_v(v)) + I + bias)`, none
//!   `v' = ovf_v(decay_v(v) + I + bias)`; the spike is `v' > theta` (or `>=`).
//!
//! Arithmetic inside a step is exact; `ovf` is applied once per state update:
//! `saturate` clips symmetrically to +-(2^(W-1) - 1) (Loihi's convention), `wrap`
//! keeps the low W bits as two's complement. Decays: `shift k` is
//! `v - (v >>> k)` (beta = 1 - 2^-k, `>>>` rounds toward minus infinity), with
//! `min_decrement` a positive `v` below 2^k still loses 1 (Rockpool's Xylo);
//! `multiply d` is `v * (4096 - d) / 4096` truncated toward zero (Lava's
//! bit-accurate model; d = 4096 clears the state).

use crate::ir::ResetStyle;
use crate::params::{ParamError, bits_for, check_range, clog2};
use serde::{Deserialize, Serialize};

/// How a state variable decays once per time step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// No leak: integrate-and-fire.
    None,
    /// `v -= v >>> k`; with `min_decrement`, `v -= 1` when `v > 0` and `v >>> k == 0`.
    Shift { k: u32, min_decrement: bool },
    /// `v = trunc0(v * (4096 - d) / 4096)`, d in 0..=4096.
    Multiply { d: u32 },
}

/// The precision of the multiplier decay: Lava's `decay_bits`.
pub const DECAY_BITS: u32 = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// `v > theta` (snnTorch, Lava, Norse).
    #[default]
    Strict,
    /// `v >= theta` (SpikingJelly, ODIN).
    NonStrict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetMode {
    Zero,
    Subtract,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// Decay, integrate, compare, reset in the same step (Lava, SpikingJelly).
    IntegrateThenFire,
    /// Reset decided from the previous step's membrane (snnTorch `Leaky`).
    ResetFromPrevious,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// Clip to +-(2^(W-1) - 1).
    #[default]
    Saturate,
    /// Keep the low W bits (two's complement).
    Wrap,
}

/// A signed state word: its width and what happens when a result leaves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Word {
    pub width: u32,
    pub overflow: Overflow,
}

impl Word {
    pub fn max(self) -> i64 {
        (1i64 << (self.width - 1)) - 1
    }
    /// Bring an exact result into the word.
    pub fn fit(self, x: i64) -> i64 {
        match self.overflow {
            Overflow::Saturate => x.clamp(-self.max(), self.max()),
            Overflow::Wrap => {
                let sh = 64 - self.width;
                (x << sh) >> sh
            }
        }
    }
}

/// A current-based synapse: a decaying current the membrane integrates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Synapse {
    pub current: Word,
    pub decay: Decay,
}

/// Everything one neuron update depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NeuronParams {
    pub order: Order,
    pub membrane: Word,
    pub decay: Decay,
    /// `Some` for a current-based (CUBA) synapse.
    pub synapse: Option<Synapse>,
    /// The per-step sum of event weights.
    pub accumulator: Word,
    /// Left shift of the accumulated input (Lava: `weight_exp` + 6).
    pub input_shift: u32,
    /// Added to the membrane every step (Lava: `bias_mant << bias_exp`).
    pub bias: i64,
    pub threshold: i64,
    pub compare: Compare,
    pub reset: ResetMode,
    /// Steps a neuron rests after a spike (0: none).
    pub refractory: u32,
}

/// Named semantics users can match to the tool they trained in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// snnTorch `Leaky` with `reset_mechanism="subtract"`, beta = 1 - 2^-k.
    SnntorchLeaky,
    /// snnTorch `Leaky` with `reset_mechanism="zero"`.
    SnntorchLeakyZero,
    /// Lava's bit-accurate Loihi CUBA LIF (24-bit state).
    LavaLoihi,
    /// Integrate-and-fire with subtract reset (rate-coded ANN conversion).
    If,
}

impl Preset {
    pub const NAMES: &str = "snntorch-leaky, snntorch-leaky-zero, lava-loihi, if";

    /// The preset's neuron. Widths and constants are defaults the
    /// configuration may override.
    pub fn neuron(self) -> NeuronParams {
        let sat16 = Word {
            width: 16,
            overflow: Overflow::Saturate,
        };
        let snntorch = NeuronParams {
            order: Order::ResetFromPrevious,
            membrane: sat16,
            decay: Decay::Shift {
                k: 4,
                min_decrement: false,
            },
            synapse: None,
            accumulator: sat16,
            input_shift: 0,
            bias: 0,
            threshold: 256,
            compare: Compare::Strict,
            reset: ResetMode::Subtract,
            refractory: 0,
        };
        match self {
            Preset::SnntorchLeaky => snntorch,
            Preset::SnntorchLeakyZero => NeuronParams {
                reset: ResetMode::Zero,
                ..snntorch
            },
            Preset::LavaLoihi => NeuronParams {
                order: Order::IntegrateThenFire,
                membrane: Word {
                    width: 24,
                    overflow: Overflow::Saturate,
                },
                // dv = 0 in Lava's default LIF; a typical leak is set by the user.
                decay: Decay::Multiply { d: 0 },
                synapse: Some(Synapse {
                    current: Word {
                        width: 24,
                        overflow: Overflow::Wrap,
                    },
                    // Lava adds 1 to du: `u * (4096 - du - 1)`; this is du = 4095.
                    decay: Decay::Multiply { d: 4096 },
                }),
                accumulator: sat16,
                input_shift: 6,
                bias: 0,
                threshold: 10 << 6,
                compare: Compare::Strict,
                reset: ResetMode::Zero,
                refractory: 0,
            },
            Preset::If => NeuronParams {
                order: Order::IntegrateThenFire,
                decay: Decay::None,
                ..snntorch
            },
        }
    }
}

/// Largest membrane, current and accumulator width: exact arithmetic of a
/// step stays within 64 bits in the model and readable in the RTL.
pub const MAX_STATE_WIDTH: u32 = 32;
pub const MAX_NEURONS: u64 = 4096;
pub const MAX_INPUTS: u64 = 4096;
pub const MAX_UNITS: u64 = 64;
/// Default limit on synapse memory: 4.5 Mbit, the block RAM of a mid-size
/// 7-series part (XC7A100T); larger memories are refused.
pub const DEFAULT_MAX_SYNAPSE_BITS: u64 = 4_860_000;

/// A validated core.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CoreParams {
    /// N: neurons.
    pub neurons: u32,
    /// N_in: input addresses.
    pub inputs: u32,
    /// P: physical neuron units; neuron n is unit n % P, slot n / P.
    pub units: u32,
    /// Signed weight width.
    pub weight_width: u32,
    pub neuron: NeuronParams,
    /// `$readmemh` file for the synapse memory, if any.
    pub weight_init: Option<String>,
    #[serde(skip)]
    pub reset: ResetStyle,
    /// Register stages inside each neuron unit (0..=[`MAX_PIPELINE`]); the
    /// slots of a tick overlap in them (see [`CoreParams::step_cycles`]). Left out of the
    /// canonical form at 0, so unpipelined cores keep their hash.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pipeline: u32,
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

/// Deepest neuron pipeline: a register after the decays, one after the
/// membrane sum (before the threshold compare and reset), one inside the
/// decays (after a multiply decay's product, before its rounding): the
/// points that split the update path (see `neuron::neuron_staged`).
pub const MAX_PIPELINE: u32 = 3;

impl NeuronParams {
    /// Check every field; `prefix` is the dotted key of the neuron's section.
    pub fn validate(&self, prefix: &str) -> Result<(), ParamError> {
        let key = |k: &str| format!("{prefix}{k}");
        let word = |k: &str, w: &Word| {
            check_range(
                &key(&format!("{k}.width")),
                w.width as u64,
                2,
                MAX_STATE_WIDTH as u64,
                &format!("the {k} width"),
            )
        };
        word("membrane", &self.membrane)?;
        word("accumulator", &self.accumulator)?;
        let vw = self.membrane.width;
        let decay = |k: &str, d: &Decay, w: u32| match *d {
            Decay::None => Ok(()),
            Decay::Shift { k: s, .. } => {
                if s == 0 || s >= w {
                    Err(ParamError::new(
                        key(&format!("{k}.shift")),
                        s,
                        format!(
                            "a decay shift must be 1..={} (below the {w}-bit width it decays)",
                            w - 1
                        ),
                    ))
                } else {
                    Ok(())
                }
            }
            Decay::Multiply { d } => check_range(
                &key(&format!("{k}.multiply")),
                d as u64,
                0,
                1 << DECAY_BITS,
                "the decay d of v * (4096 - d) / 4096",
            ),
        };
        decay("decay", &self.decay, vw)?;
        if let Some(s) = &self.synapse {
            word("current", &s.current)?;
            decay("current.decay", &s.decay, s.current.width)?;
        }
        check_range(&key("input_shift"), self.input_shift as u64, 0, 16, "the input shift")?;
        // A wrapping state keeps the low bits of its sum; an input wider than
        // the state would have bits that cannot matter, so it is refused.
        let input_w = self.accumulator.width + self.input_shift;
        if let Some(syn) = &self.synapse {
            if syn.current.overflow == Overflow::Wrap && syn.current.width < input_w {
                return Err(ParamError::new(
                    key("current.width"),
                    syn.current.width,
                    format!(
                        "a wrapping current must be at least as wide as the shifted input (accumulator.width + input_shift = {input_w})"
                    ),
                ));
            }
            if self.membrane.overflow == Overflow::Wrap && vw < syn.current.width {
                return Err(ParamError::new(
                    key("membrane.width"),
                    vw,
                    format!(
                        "a wrapping membrane must be at least as wide as the current ({} bits)",
                        syn.current.width
                    ),
                ));
            }
        } else if self.membrane.overflow == Overflow::Wrap && vw < input_w {
            return Err(ParamError::new(
                key("membrane.width"),
                vw,
                format!(
                    "a wrapping membrane must be at least as wide as the shifted input (accumulator.width + input_shift = {input_w})"
                ),
            ));
        }
        if self.threshold < 1 || self.threshold > self.membrane.max() {
            return Err(ParamError::new(
                key("threshold"),
                self.threshold,
                format!(
                    "the threshold must be 1..={} to fit the {vw}-bit signed membrane (widen `membrane.width`)",
                    self.membrane.max()
                ),
            ));
        }
        if self.bias.abs() > self.membrane.max() {
            return Err(ParamError::new(
                key("bias"),
                self.bias,
                format!(
                    "the bias must fit the {vw}-bit membrane: |bias| <= {}",
                    self.membrane.max()
                ),
            ));
        }
        check_range(
            &key("refractory"),
            self.refractory as u64,
            0,
            255,
            "the refractory period in steps",
        )?;
        if self.refractory > 0 && self.order == Order::ResetFromPrevious {
            return Err(ParamError::new(
                key("refractory"),
                self.refractory,
                "a refractory period needs `order: integrate-then-fire` (with reset-from-previous the reset happens a step after the spike)",
            ));
        }
        Ok(())
    }

    /// Width of the refractory counter (0: no counter).
    pub fn refractory_width(&self) -> u32 {
        if self.refractory == 0 {
            0
        } else {
            bits_for(self.refractory as u64)
        }
    }

    /// Width of the synaptic current (0 without a CUBA synapse).
    pub fn current_width(&self) -> u32 {
        self.synapse.map_or(0, |s| s.current.width)
    }

    /// Bits of one neuron's state: membrane, current, refractory counter, accumulator.
    pub fn state_width(&self) -> u32 {
        self.membrane.width + self.current_width() + self.refractory_width() + self.accumulator.width
    }

    /// A short tag for module names, unique per neuron parameter set.
    pub fn tag(&self) -> String {
        let decay = |d: &Decay| match d {
            Decay::None => "if".to_string(),
            Decay::Shift { k, min_decrement } => format!("sh{k}{}", if *min_decrement { "m" } else { "" }),
            Decay::Multiply { d } => format!("mul{d}"),
        };
        let ovf = |w: &Word| format!("{}{}", w.width, if w.overflow == Overflow::Wrap { "w" } else { "s" });
        let mut t = format!(
            "{}_v{}_{}",
            match self.order {
                Order::IntegrateThenFire => "itf",
                Order::ResetFromPrevious => "rfp",
            },
            ovf(&self.membrane),
            decay(&self.decay)
        );
        if let Some(s) = &self.synapse {
            t += &format!("_c{}_{}", ovf(&s.current), decay(&s.decay));
        }
        t += &format!("_a{}", ovf(&self.accumulator));
        if self.input_shift > 0 {
            t += &format!("_sh{}", self.input_shift);
        }
        if self.bias != 0 {
            t += &format!(
                "_b{}",
                if self.bias < 0 {
                    format!("m{}", -self.bias)
                } else {
                    self.bias.to_string()
                }
            );
        }
        t += &format!(
            "_th{}{}_{}",
            if self.compare == Compare::Strict { "gt" } else { "ge" },
            self.threshold,
            match self.reset {
                ResetMode::Zero => "rz",
                ResetMode::Subtract => "rs",
                ResetMode::None => "rn",
            }
        );
        if self.refractory > 0 {
            t += &format!("_ref{}", self.refractory);
        }
        t
    }
}

/// The sizes of a core as a configuration gives them, before validation.
#[derive(Clone, Debug)]
pub struct CoreSpec {
    pub neurons: u64,
    pub inputs: u64,
    pub units: u64,
    pub weight_width: u64,
    pub neuron: NeuronParams,
    pub weight_init: Option<String>,
    pub max_synapse_bits: u64,
    pub reset: ResetStyle,
}

impl CoreSpec {
    /// Validate; errors name keys relative to the `spiking_core` section.
    pub fn validate(&self) -> Result<CoreParams, ParamError> {
        check_range("neurons", self.neurons, 1, MAX_NEURONS, "the number of neurons N")?;
        check_range("inputs", self.inputs, 1, MAX_INPUTS, "the number of input addresses")?;
        check_range(
            "units",
            self.units,
            1,
            MAX_UNITS,
            "the number of physical neuron units P",
        )?;
        if !self.neurons.is_multiple_of(self.units) {
            let divisors: Vec<String> = (1..=self.neurons.min(MAX_UNITS))
                .filter(|d| self.neurons.is_multiple_of(*d))
                .map(|d| d.to_string())
                .collect();
            return Err(ParamError::new(
                "units",
                self.units,
                format!(
                    "P must divide N = {} (each unit serves N/P neurons); divisors up to {MAX_UNITS}: {}",
                    self.neurons,
                    divisors.join(", ")
                ),
            ));
        }
        check_range("weights.width", self.weight_width, 2, 16, "the weight width")?;
        self.neuron.validate("")?;
        let w = self.weight_width as u32;
        if w > self.neuron.accumulator.width {
            return Err(ParamError::new(
                "weights.width",
                w,
                format!(
                    "weights must not be wider than the {}-bit accumulator",
                    self.neuron.accumulator.width
                ),
            ));
        }
        let bits = self.neurons * self.inputs * self.weight_width;
        if bits > self.max_synapse_bits {
            return Err(ParamError::new(
                "inputs",
                self.inputs,
                format!(
                    "the synapse memory N_in x N x weight bits = {} x {} x {} = {bits} bits exceeds the target's {} bits of block RAM; use fewer inputs, neurons or weight bits",
                    self.inputs, self.neurons, self.weight_width, self.max_synapse_bits
                ),
            ));
        }
        if let Some(f) = &self.weight_init
            && (f.is_empty() || f.contains('"') || f.contains('\\') || f.chars().any(char::is_control))
        {
            return Err(ParamError::new(
                "weights.init",
                format!("{f:?}"),
                "a file name without quotes, backslashes or control characters",
            ));
        }
        Ok(CoreParams {
            neurons: self.neurons as u32,
            inputs: self.inputs as u32,
            units: self.units as u32,
            weight_width: w,
            neuron: self.neuron,
            weight_init: self.weight_init.clone(),
            reset: self.reset,
            pipeline: 0,
        })
    }
}

impl CoreParams {
    /// The core with `depth` register stages in its neuron units; errors
    /// name the key `pipeline`.
    pub fn with_pipeline(self, depth: u64) -> Result<CoreParams, ParamError> {
        check_range(
            "pipeline",
            depth,
            0,
            MAX_PIPELINE as u64,
            "register stages in the neuron update (1: after the decays, 2: also after the membrane sum, 3: also inside the decays)",
        )?;
        Ok(CoreParams {
            pipeline: depth as u32,
            ..self
        })
    }
    /// Cycles of a time step without spikes. Unpipelined: accept the tick,
    /// per slot one update and one emit cycle, then the end-of-step marker
    /// (2 + 2 SLOTS). Pipelined (depth L): accept the tick, L cycles filling
    /// the pipeline, then one cycle per slot (a slot's update leaves the
    /// pipeline as the next slot's spikes would), one for the last slot's
    /// emit and one for the marker (3 + L + SLOTS).
    pub fn step_cycles(&self) -> u64 {
        if self.pipeline == 0 {
            2 * self.slots() as u64 + 2
        } else {
            self.slots() as u64 + self.pipeline as u64 + 3
        }
    }
    /// N / P: neurons each unit serves, one per slot.
    pub fn slots(&self) -> u32 {
        self.neurons / self.units
    }
    /// Bits of a neuron address.
    pub fn neuron_addr_width(&self) -> u32 {
        clog2(self.neurons as u64).max(1)
    }
    /// Bits of an input address.
    pub fn input_addr_width(&self) -> u32 {
        clog2(self.inputs as u64).max(1)
    }
    pub fn slot_width(&self) -> u32 {
        clog2(self.slots() as u64).max(1)
    }
    /// Words of the synapse memory: one word of P weights per (input, slot).
    pub fn synapse_words(&self) -> u32 {
        self.inputs * self.slots()
    }
    pub fn synapse_addr_width(&self) -> u32 {
        clog2(self.synapse_words() as u64).max(1)
    }
    /// Width of an event on either stream: a tick flag above an address.
    pub fn in_event_width(&self) -> u32 {
        self.input_addr_width() + 1
    }
    pub fn out_event_width(&self) -> u32 {
        self.neuron_addr_width() + 1
    }
    pub fn weight_min(&self) -> i64 {
        -(1i64 << (self.weight_width - 1))
    }
    pub fn weight_max(&self) -> i64 {
        (1i64 << (self.weight_width - 1)) - 1
    }
    /// Top module name.
    pub fn top_name(&self) -> String {
        format!(
            "accgen_snn_core_n{}_i{}_p{}_w{}_{}{}{}{}",
            self.neurons,
            self.inputs,
            self.units,
            self.weight_width,
            self.neuron.tag(),
            if self.weight_init.is_some() { "_init" } else { "" },
            if self.reset == ResetStyle::AsyncLow {
                "_arst"
            } else {
                ""
            },
            if self.pipeline > 0 {
                format!("_pl{}", self.pipeline)
            } else {
                String::new()
            }
        )
    }
    /// Cycles an input event takes (accept + one weight word per slot).
    pub fn cycles_per_event(&self) -> u64 {
        self.slots() as u64 + 1
    }
}

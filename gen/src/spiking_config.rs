//! The `spiking_core:` section of a configuration: a preset's neuron with
//! any field overridden, the core's sizes, validation with located errors.

use crate::config::{ConfigError, Int, located};
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::params::ParamError;
use accgen_hdl::spiking::CoreParams;
use accgen_hdl::spiking::params::{
    Compare, CoreSpec, DEFAULT_MAX_SYNAPSE_BITS, Decay, NeuronParams, Order, Overflow, Preset, ResetMode, Synapse, Word,
};
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpikingCoreYaml {
    neurons: Spanned<Int>,
    /// Required for the first layer; a next layer's inputs are the first's neurons.
    inputs: Option<Spanned<Int>>,
    #[serde(default)]
    units: Option<Spanned<Int>>,
    preset: Option<Spanned<Preset>>,
    weights: Option<Spanned<WeightsYaml>>,
    max_synapse_bits: Option<Spanned<Int>>,
    order: Option<Order>,
    threshold: Option<Spanned<Int>>,
    compare: Option<Compare>,
    reset: Option<ResetMode>,
    decay: Option<Spanned<DecayYaml>>,
    membrane: Option<Spanned<WordYaml>>,
    accumulator: Option<Spanned<WordYaml>>,
    current: Option<Spanned<CurrentYaml>>,
    input_shift: Option<Spanned<Int>>,
    bias: Option<Spanned<Int>>,
    refractory: Option<Spanned<Int>>,
    /// Register stages in the neuron units (0..=2).
    pipeline: Option<Spanned<Int>>,
    /// A second core fed by this core's output events.
    next_layer: Option<Box<Spanned<SpikingCoreYaml>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsYaml {
    width: Option<Spanned<Int>>,
    init: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WordYaml {
    width: Option<Spanned<Int>>,
    overflow: Option<Overflow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CurrentYaml {
    width: Option<Spanned<Int>>,
    overflow: Option<Overflow>,
    decay: Option<Spanned<DecayYaml>>,
}

/// `none`, `{shift: K, min_decrement: B}` or `{multiply: D}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecayMap {
    shift: Option<Int>,
    #[serde(default)]
    min_decrement: bool,
    multiply: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DecayYaml {
    Name(String),
    Map(DecayMap),
}

const DECAY_ALLOWED: &str =
    "`none`, `{shift: K}` (v -= v >>> K), `{shift: K, min_decrement: true}` or `{multiply: D}` (v * (4096 - D) / 4096)";

fn decay_of(text: &str, origin: &str, key: &str, d: &Spanned<DecayYaml>) -> Result<Decay, ConfigError> {
    let bad = |what: String| {
        located(
            text,
            origin,
            d,
            format!("`{key}` = {what} is not allowed: {DECAY_ALLOWED}"),
        )
    };
    let nonneg = |i: Int, what: &str| {
        u32::try_from(i.0).map_err(|_| {
            located(
                text,
                origin,
                d,
                format!("`{key}.{what}` = {} is not allowed: it cannot be negative", i.0),
            )
        })
    };
    match &d.value {
        DecayYaml::Name(n) if n == "none" => Ok(Decay::None),
        DecayYaml::Name(n) => Err(bad(format!("{n:?}"))),
        DecayYaml::Map(m) => match (m.shift, m.multiply) {
            (Some(k), None) => Ok(Decay::Shift {
                k: nonneg(k, "shift")?,
                min_decrement: m.min_decrement,
            }),
            (None, Some(x)) if !m.min_decrement => Ok(Decay::Multiply {
                d: nonneg(x, "multiply")?,
            }),
            _ => Err(bad("a map with both or neither of shift and multiply".into())),
        },
    }
}

fn whole(text: &str, origin: &str, key: &str, v: &Spanned<Int>) -> Result<u64, ConfigError> {
    u64::try_from(v.value.0).map_err(|_| {
        located(
            text,
            origin,
            v,
            format!("`{key}` = {} is not allowed: it cannot be negative", v.value.0),
        )
    })
}

fn word_of(
    text: &str,
    origin: &str,
    key: &str,
    base: Word,
    w: &Option<Spanned<WordYaml>>,
) -> Result<Word, ConfigError> {
    let Some(w) = w else { return Ok(base) };
    Ok(Word {
        width: match &w.value.width {
            Some(x) => whole(text, origin, &format!("{key}.width"), x)?.min(1 << 20) as u32,
            None => base.width,
        },
        overflow: w.value.overflow.unwrap_or(base.overflow),
    })
}

/// Validate the section: one core, or two with `next_layer:`.
pub(crate) fn parse(
    text: &str,
    origin: &str,
    section: &Spanned<SpikingCoreYaml>,
    reset: ResetStyle,
) -> Result<Vec<CoreParams>, ConfigError> {
    let Some(inputs) = &section.value.inputs else {
        return Err(located(
            text,
            origin,
            section,
            "`spiking_core.inputs` is missing: the number of input addresses, 1..=4096".into(),
        ));
    };
    let first = layer(
        text,
        origin,
        section,
        "spiking_core",
        whole(text, origin, "spiking_core.inputs", inputs)?,
        reset,
    )?;
    let Some(next) = &section.value.next_layer else {
        return Ok(vec![first]);
    };
    let prefix = "spiking_core.next_layer";
    if next.value.next_layer.is_some() {
        return Err(located(
            text,
            origin,
            &**next,
            format!("`{prefix}.next_layer` is not allowed: accgen chains two layers at most"),
        ));
    }
    if let Some(i) = &next.value.inputs
        && i.value.0 != first.neurons as i64
    {
        return Err(located(
            text,
            origin,
            i,
            format!(
                "`{prefix}.inputs` = {} is not allowed: a next layer's inputs are the first layer's {} neurons (leave it out)",
                i.value.0, first.neurons
            ),
        ));
    }
    let second = layer(text, origin, next, prefix, first.neurons as u64, reset)?;
    Ok(vec![first, second])
}

/// One layer; `prefix` is its dotted key.
fn layer(
    text: &str,
    origin: &str,
    section: &Spanned<SpikingCoreYaml>,
    prefix: &str,
    inputs: u64,
    reset: ResetStyle,
) -> Result<CoreParams, ConfigError> {
    let s = &section.value;
    let key = |k: &str| format!("{prefix}.{k}");
    let preset = s.preset.as_ref().map_or(Preset::SnntorchLeaky, |p| p.value);
    let mut n: NeuronParams = preset.neuron();
    if let Some(o) = s.order {
        n.order = o;
    }
    if let Some(c) = s.compare {
        n.compare = c;
    }
    if let Some(r) = s.reset {
        n.reset = r;
    }
    if let Some(t) = &s.threshold {
        n.threshold = t.value.0;
    }
    if let Some(b) = &s.bias {
        n.bias = b.value.0;
    }
    if let Some(d) = &s.decay {
        n.decay = decay_of(text, origin, &key("decay"), d)?;
    }
    n.membrane = word_of(text, origin, &key("membrane"), n.membrane, &s.membrane)?;
    n.accumulator = word_of(text, origin, &key("accumulator"), n.accumulator, &s.accumulator)?;
    if let Some(c) = &s.current {
        let base = n.synapse.unwrap_or(Synapse {
            current: Word {
                width: n.membrane.width,
                overflow: Overflow::Saturate,
            },
            decay: Decay::None,
        });
        let width = match &c.value.width {
            Some(x) => whole(text, origin, &key("current.width"), x)?.min(1 << 20) as u32,
            None => base.current.width,
        };
        n.synapse = Some(Synapse {
            current: Word {
                width,
                overflow: c.value.overflow.unwrap_or(base.current.overflow),
            },
            decay: match &c.value.decay {
                Some(d) => decay_of(text, origin, &key("current.decay"), d)?,
                None => base.decay,
            },
        });
    }
    if let Some(x) = &s.input_shift {
        n.input_shift = whole(text, origin, &key("input_shift"), x)?.min(1 << 20) as u32;
    }
    if let Some(x) = &s.refractory {
        n.refractory = whole(text, origin, &key("refractory"), x)?.min(1 << 20) as u32;
    }
    let weights = s.weights.as_ref();
    let weight_width = match weights.and_then(|w| w.value.width.as_ref()) {
        Some(x) => whole(text, origin, &key("weights.width"), x)?,
        None => 8,
    };
    let spec = CoreSpec {
        neurons: whole(text, origin, &key("neurons"), &s.neurons)?,
        inputs,
        units: match &s.units {
            Some(u) => whole(text, origin, &key("units"), u)?,
            None => 1,
        },
        weight_width,
        neuron: n,
        weight_init: weights.and_then(|w| w.value.init.as_ref()).map(|f| f.value.clone()),
        max_synapse_bits: match &s.max_synapse_bits {
            Some(x) => whole(text, origin, &key("max_synapse_bits"), x)?,
            None => DEFAULT_MAX_SYNAPSE_BITS,
        },
        reset,
    };
    let core = spec.validate().map_err(|e: ParamError| {
        let message = format!("`{prefix}.{}` = {} is not allowed: {}", e.key, e.value, e.allowed);
        let first = e.key.split('.').next().unwrap_or("");
        let int = |x: &Option<Spanned<Int>>| x.as_ref().map(|x| located(text, origin, x, message.clone()));
        let at = match first {
            "neurons" => Some(located(text, origin, &s.neurons, message.clone())),
            "inputs" => int(&s.inputs),
            "units" => int(&s.units),
            "threshold" => int(&s.threshold),
            "bias" => int(&s.bias),
            "input_shift" => int(&s.input_shift),
            "refractory" => int(&s.refractory),
            "decay" => s.decay.as_ref().map(|x| located(text, origin, x, message.clone())),
            "membrane" => s.membrane.as_ref().map(|x| located(text, origin, x, message.clone())),
            "accumulator" => s
                .accumulator
                .as_ref()
                .map(|x| located(text, origin, x, message.clone())),
            "current" => s.current.as_ref().map(|x| located(text, origin, x, message.clone())),
            "weights" => weights.map(|x| located(text, origin, x, message.clone())),
            _ => None,
        };
        // A value the preset supplied has no line of its own: point at the preset, else the section.
        at.or_else(|| s.preset.as_ref().map(|p| located(text, origin, p, message.clone())))
            .unwrap_or_else(|| located(text, origin, section, message))
    })?;
    let Some(depth) = &s.pipeline else { return Ok(core) };
    let stages = whole(text, origin, &key("pipeline"), depth)?;
    core.with_pipeline(stages).map_err(|e| {
        located(
            text,
            origin,
            depth,
            format!("`{prefix}.{}` = {} is not allowed: {}", e.key, e.value, e.allowed),
        )
    })
}

//! Configuration files: YAML in, validated block parameters out.
//!
//! Every error names the file, the line and column, the key, the value and
//! what is allowed, with the offending line quoted. Parsing never panics and
//! never writes anything.

use accgen_hdl::Design;
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::mac::params::FormatSpec;
use accgen_hdl::mac::{MacArrayParams, MacArraySpec, MulImpl, Overflow};
use accgen_hdl::minifloat::{OnOverflow, Specials};
use accgen_hdl::params::ParamError;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// The configuration `accgen demo` and the README's quick start use.
pub const DEFAULT_CONFIG: &str = include_str!("../../examples/int8_4x4.yaml");
pub const DEFAULT_CONFIG_NAME: &str = "examples/int8_4x4.yaml (embedded)";

/// A whole number as written in YAML; range checks come later, with the key.
#[derive(Clone, Copy, Debug)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
                Err(E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Int, E> {
                Err(E::invalid_value(de::Unexpected::Bool(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number format: a name (`int8`, `e4m3fn`) or a minifloat spelled out.
#[derive(Clone, Debug)]
pub struct FormatYaml(pub FormatSpec);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FloatYaml {
    exponent: Int,
    mantissa: Int,
    bias: Option<Int>,
    specials: Specials,
    #[serde(default = "yes")]
    subnormals: bool,
}

fn yes() -> bool {
    true
}

impl<'de> Deserialize<'de> for FormatYaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FormatYaml, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FormatYaml;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a format name (int8, uint4, e4m3fn, ...) or {exponent, mantissa, bias, specials, subnormals}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FormatYaml, E> {
                Ok(FormatYaml(FormatSpec::Name(v.to_string())))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<FormatYaml, A::Error> {
                let f = FloatYaml::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let nonneg = |i: Int, what: &str| {
                    u64::try_from(i.0).map_err(|_| de::Error::custom(format!("{what} = {} cannot be negative", i.0)))
                };
                Ok(FormatYaml(FormatSpec::Float {
                    exponent: nonneg(f.exponent, "exponent")?,
                    mantissa: nonneg(f.mantissa, "mantissa")?,
                    bias: f.bias.map(|b| b.0),
                    specials: f.specials,
                    subnormals: f.subnormals,
                }))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputYaml {
    format: Spanned<FormatYaml>,
    #[serde(default)]
    overflow: OnOverflow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ResetYaml {
    /// `rst_i`, synchronous, active high (the FPGA default).
    #[default]
    Sync,
    /// `rst_ni`, asynchronous, active low (for ASIC flows).
    Async,
}

impl From<ResetYaml> for ResetStyle {
    fn from(r: ResetYaml) -> ResetStyle {
        match r {
            ResetYaml::Sync => ResetStyle::SyncHigh,
            ResetYaml::Async => ResetStyle::AsyncLow,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileYaml {
    name: Option<Spanned<String>>,
    reset: Option<ResetYaml>,
    mac_array: Option<Spanned<MacArrayYaml>>,
    spiking_core: Option<Spanned<crate::spiking_config::SpikingCoreYaml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MacArrayYaml {
    rows: Spanned<Int>,
    cols: Spanned<Int>,
    dot_length: Spanned<Int>,
    activations: Spanned<FormatYaml>,
    weights: Spanned<FormatYaml>,
    accumulator: Option<AccumulatorYaml>,
    #[serde(default)]
    multiplier: MulImpl,
    output: Option<OutputYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccumulatorYaml {
    width: Option<Spanned<Int>>,
    overflow: Option<Overflow>,
}

/// The block a configuration describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    MacArray(MacArrayParams),
    SpikingCore(accgen_hdl::spiking::CoreParams),
    /// Two cores, the first's output events feeding the second.
    SpikingChain(accgen_hdl::spiking::CoreParams, accgen_hdl::spiking::CoreParams),
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where it came from (a path, or the embedded default).
    pub origin: String,
    /// A short name for output folders and reports.
    pub name: String,
    pub block: Block,
    /// `sha256:` of the canonical, validated parameters.
    pub hash: String,
}

/// A configuration error, rendered with its location.
#[derive(Debug)]
pub struct ConfigError {
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The source line under a location, with a caret, as rustc prints it.
fn snippet(text: &str, origin: &str, line: u64, column: u64) -> String {
    let Some(src) = text.lines().nth(line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let num = line.to_string();
    let pad = " ".repeat(num.len());
    format!(
        " --> {origin}:{line}:{column}\n{pad} |\n{num} | {src}\n{pad} | {}^",
        " ".repeat(column.saturating_sub(1) as usize)
    )
}

pub(crate) fn located<T>(text: &str, origin: &str, at: &Spanned<T>, message: String) -> ConfigError {
    let (line, column) = (at.referenced.line(), at.referenced.column());
    ConfigError {
        message: format!(
            "error: {origin}:{line}:{column}: {message}\n{}",
            snippet(text, origin, line, column)
        ),
    }
}

fn in_range(text: &str, origin: &str, key: &str, v: &Spanned<Int>, what: &str) -> Result<u64, ConfigError> {
    u64::try_from(v.value.0).map_err(|_| {
        located(
            text,
            origin,
            v,
            format!("`{key}` = {} is not allowed: {what} cannot be negative", v.value.0),
        )
    })
}

/// A YAML or type error from the parser, in the same `file:line:column`
/// form as validation errors, naming the key and value when the parser
/// points at a `key: value` line.
pub(crate) fn syntax_error(text: &str, origin: &str, e: &serde_saphyr::Error) -> ConfigError {
    let rendered = e.to_string().replace("<input>", origin);
    let Some(loc) = e.location() else {
        return ConfigError {
            message: format!("error: {origin}: {}", rendered.trim_start_matches("error: ")),
        };
    };
    let (line, column) = (loc.line(), loc.column());
    let prefix = format!("error: line {line} column {column}: ");
    let body = rendered.strip_prefix(&prefix).unwrap_or(&rendered);
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let mut first = first.to_string();
    let names_a_value =
        first.starts_with("invalid") || first.starts_with("unknown variant") || first.starts_with("expected");
    if names_a_value
        && let Some((key, value)) = text
            .lines()
            .nth(line.saturating_sub(1) as usize)
            .and_then(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.split('#').next().unwrap_or("").trim()))
            .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        first = format!("`{key}` = {value} is not allowed: {first}");
    }
    ConfigError {
        message: format!("error: {origin}:{line}:{column}: {first}\n{rest}"),
    }
}

/// Read and validate a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        message: format!("error: cannot read configuration {origin}: {e}"),
    })?;
    parse(&text, &origin)
}

/// Parse and validate configuration text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let file: FileYaml = serde_saphyr::from_str(text).map_err(|e| syntax_error(text, origin, &e))?;
    let reset: ResetStyle = file.reset.unwrap_or_default().into();
    let block = match (file.mac_array, file.spiking_core) {
        (Some(mac), None) => mac_array(text, origin, mac, reset)?,
        (None, Some(core)) => {
            let mut layers = crate::spiking_config::parse(text, origin, &core, reset)?;
            match (layers.pop(), layers.pop()) {
                (Some(second), Some(first)) => Block::SpikingChain(first, second),
                (Some(only), None) => Block::SpikingCore(only),
                _ => unreachable!("one or two layers"),
            }
        }
        (Some(_), Some(core)) => {
            return Err(located(
                text,
                origin,
                &core,
                "`spiking_core` is not allowed beside `mac_array`: a configuration describes one block".into(),
            ));
        }
        (None, None) => {
            return Err(ConfigError {
                message: format!(
                    "error: {origin}: no block to generate: add a `mac_array:` section (see examples/int8_4x4.yaml) or a `spiking_core:` section (see examples/snn_snntorch_256.yaml)"
                ),
            });
        }
    };
    let name = match &file.name {
        Some(n) => {
            let ok = !n.value.is_empty()
                && n.value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(located(
                    text,
                    origin,
                    n,
                    format!(
                        "`name` = {:?} is not allowed: use letters, digits, `_` and `-` only",
                        n.value
                    ),
                ));
            }
            n.value.clone()
        }
        None => default_name(&block),
    };
    let hash = hash_of(&block);
    Ok(Config {
        origin: origin.to_string(),
        name,
        block,
        hash,
    })
}

fn mac_array(text: &str, origin: &str, mac: Spanned<MacArrayYaml>, reset: ResetStyle) -> Result<Block, ConfigError> {
    let m = &mac.value;
    let key = |k: &str| format!("mac_array.{k}");
    let rows = in_range(text, origin, &key("rows"), &m.rows, "the number of PE rows")?;
    let cols = in_range(text, origin, &key("cols"), &m.cols, "the number of PE columns")?;
    let dot_length = in_range(
        text,
        origin,
        &key("dot_length"),
        &m.dot_length,
        "the dot-product length",
    )?;
    let (acc_width, overflow) = match &m.accumulator {
        None => (None, None),
        Some(a) => {
            let w = match &a.width {
                Some(w) => Some(in_range(
                    text,
                    origin,
                    &key("accumulator.width"),
                    w,
                    "the accumulator width",
                )?),
                None => None,
            };
            (w, a.overflow)
        }
    };
    let spec = MacArraySpec {
        rows,
        cols,
        dot_length,
        activations: m.activations.value.0.clone(),
        weights: m.weights.value.0.clone(),
        output: m.output.as_ref().map(|o| (o.format.value.0.clone(), o.overflow)),
        acc_width,
        overflow,
        multiplier: m.multiplier,
        reset,
    };
    let params = spec.validate().map_err(|e: ParamError| {
        let at: Option<&Spanned<Int>> = match e.key.as_str() {
            "rows" => Some(&m.rows),
            "cols" => Some(&m.cols),
            "dot_length" => Some(&m.dot_length),
            "accumulator.width" => m.accumulator.as_ref().and_then(|a| a.width.as_ref()),
            _ => None,
        };
        let message = format!("`mac_array.{}` = {} is not allowed: {}", e.key, e.value, e.allowed);
        let first = e.key.split('.').next().unwrap_or("");
        match (at, first) {
            (Some(at), _) => located(text, origin, at, message),
            (None, "activations") => located(text, origin, &m.activations, message),
            (None, "weights") => located(text, origin, &m.weights, message),
            (None, "output") => match &m.output {
                Some(o) => located(text, origin, &o.format, message),
                None => located(text, origin, &mac, message),
            },
            _ => located(text, origin, &mac, message),
        }
    })?;
    Ok(Block::MacArray(params))
}

fn default_name(block: &Block) -> String {
    match block {
        Block::MacArray(p) => format!("mac_{}x{}_{}x{}", p.rows, p.cols, p.act, p.wgt),
        Block::SpikingCore(p) => format!("snn_n{}_i{}_p{}", p.neurons, p.inputs, p.units),
        Block::SpikingChain(a, b) => format!("snn_{}-{}-{}", a.inputs, a.neurons, b.neurons),
    }
}

/// A canonical, human-readable form of the validated parameters: the input
/// of the configuration hash and the manifest's `parameters`.
pub fn canonical(block: &Block) -> serde_json::Value {
    match block {
        Block::MacArray(p) => serde_json::json!({
            "block": "mac_array",
            "rows": p.rows,
            "cols": p.cols,
            "dot_length": p.dot_length,
            "activations": p.act.to_string(),
            "weights": p.wgt.to_string(),
            "output": p.output.map(|o| serde_json::json!({ "format": o.format.to_string(), "overflow": o.overflow })),
            "accumulator": { "width": p.acc_width, "overflow": p.overflow },
            "multiplier": p.multiplier,
            "reset": p.reset.port_name(),
        }),
        Block::SpikingCore(p) => serde_json::json!({
            "block": "spiking_core",
            "core": p,
            "reset": p.reset.port_name(),
        }),
        Block::SpikingChain(a, b) => serde_json::json!({
            "block": "spiking_core",
            "core": a,
            "next_layer": b,
            "reset": a.reset.port_name(),
        }),
    }
}

fn hash_of(block: &Block) -> String {
    let digest = Sha256::digest(canonical(block).to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{}", &hex[..16])
}

impl Config {
    /// What every generated file's header records.
    pub fn provenance(&self, command: &str) -> Provenance {
        Provenance {
            generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
            config_hash: self.hash.clone(),
            command: command.to_string(),
        }
    }

    /// The generated design.
    pub fn design(&self, command: &str) -> Design {
        let prov = self.provenance(command);
        match &self.block {
            Block::MacArray(p) => accgen_hdl::mac::design(p, &prov),
            Block::SpikingCore(p) => accgen_hdl::spiking::design(p, &prov),
            Block::SpikingChain(a, b) => accgen_hdl::spiking::chain_design(a, b, &prov)
                .unwrap_or_else(|e| unreachable!("validated layers chain: {e}")),
        }
    }

    /// Latency and throughput, one line each, for manifests and reports.
    pub fn timing(&self) -> Vec<String> {
        match &self.block {
            Block::MacArray(p) => vec![
                format!(
                    "row r of a tile appears {} + r cycles after the tile's last beat is accepted",
                    p.cols + 2
                ),
                format!(
                    "one beat (one MAC per PE) per cycle while K >= max(R, C) = {}",
                    p.tile_spacing()
                ),
            ],
            Block::SpikingChain(a, b) => vec![
                format!(
                    "layer 1: an input event takes {} cycles; layer 2: a layer-1 spike takes {} cycles",
                    a.cycles_per_event(),
                    b.cycles_per_event()
                ),
                "a time step: layer 1's step, then layer 2 finishes after layer 1's end-of-step marker".into(),
            ],
            Block::SpikingCore(p) => vec![
                format!(
                    "an input event takes {} cycles (N/P = {} weight words of P = {} synaptic operations, + 1 to accept)",
                    p.cycles_per_event(),
                    p.slots(),
                    p.units
                ),
                format!(
                    "a time step takes {} cycles with no spikes (accept tick, 2 per slot, end-of-step marker), + 1 per spike beyond the first of a slot, + output stalls",
                    2 * p.slots() as u64 + 2
                ),
            ],
        }
    }
}

//! Configuration files: YAML in, validated block parameters out.
//!
//! Every error names the file, the line and column, the key, the value and
//! what is allowed, with the offending line quoted. Parsing never panics and
//! never writes anything.

use accgen_hdl::Design;
use accgen_hdl::hashgrid::{HashGridParams, HashGridSpec};
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
    /// Register stages inside each column's rounder.
    pipeline: Option<Spanned<Int>>,
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
    hash_grid: Option<Spanned<HashGridYaml>>,
    spiking_core: Option<Spanned<crate::spiking_config::SpikingCoreYaml>>,
}

/// One whole number for every level, or a list with one per level.
#[derive(Debug)]
struct IntList(Vec<i64>);

impl<'de> Deserialize<'de> for IntList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IntList, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IntList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number or a list of whole numbers")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntList, E> {
                Ok(IntList(vec![v]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntList, E> {
                Int::deserialize(de::value::U64Deserializer::<E>::new(v)).map(|i| IntList(vec![i.0]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<IntList, A::Error> {
                let mut out = Vec::new();
                while let Some(Int(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(IntList(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashGridYaml {
    dims: Spanned<Int>,
    levels: Spanned<Int>,
    features: Spanned<Int>,
    /// log2 T; or `table_size: T`, which must be a power of two.
    log2_table_size: Option<Spanned<Int>>,
    table_size: Option<Spanned<Int>>,
    base_resolution: Spanned<Int>,
    per_level_scale: Spanned<f64>,
    table: Spanned<FormatYaml>,
    int_scale_log2: Option<Spanned<IntList>>,
    coord_frac_bits: Option<Spanned<Int>>,
    scale_frac_bits: Option<Spanned<Int>>,
    weight_frac_bits: Option<Spanned<Int>>,
    feature_int_bits: Option<Spanned<Int>>,
    feature_frac_bits: Option<Spanned<Int>>,
    init_files: Option<bool>,
    block_ram_bits: Option<Spanned<Int>>,
    level_units: Option<Spanned<Int>>,
    pipeline_depth: Option<Spanned<Int>>,
    /// Output feature format: fixed point when absent, else a float format.
    output: Option<Spanned<FormatYaml>>,
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
    /// Register stages between each PE's multiplier and accumulator.
    pipeline: Option<Spanned<Int>>,
    output: Option<OutputYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccumulatorYaml {
    width: Option<Spanned<Int>>,
    overflow: Option<Overflow>,
}

/// The block a configuration describes.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    MacArray(MacArrayParams),
    HashGrid(Box<HashGridParams>),
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
    let block = match (file.mac_array, file.hash_grid, file.spiking_core) {
        (Some(_), Some(hg), _) => {
            return Err(located(
                text,
                origin,
                &hg,
                "`hash_grid` is not allowed next to `mac_array`: a configuration describes one block".into(),
            ));
        }
        (_, Some(_), Some(core)) | (Some(_), _, Some(core)) => {
            return Err(located(
                text,
                origin,
                &core,
                "`spiking_core` is not allowed beside another block section: a configuration describes one block"
                    .into(),
            ));
        }
        (None, Some(hg), None) => hash_grid_block(text, origin, &hg, reset)?,
        (None, None, Some(core)) => {
            let mut layers = crate::spiking_config::parse(text, origin, &core, reset)?;
            match (layers.pop(), layers.pop()) {
                (Some(second), Some(first)) => Block::SpikingChain(first, second),
                (Some(only), None) => Block::SpikingCore(only),
                _ => unreachable!("one or two layers"),
            }
        }
        (mac, None, None) => mac_block(text, origin, mac, reset)?,
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

fn mac_block(
    text: &str,
    origin: &str,
    mac: Option<Spanned<MacArrayYaml>>,
    reset: ResetStyle,
) -> Result<Block, ConfigError> {
    let Some(mac) = mac else {
        return Err(ConfigError {
            message: format!(
                "error: {origin}: no block to generate: add a `mac_array:`, `hash_grid:` or `spiking_core:` section (see examples/int8_4x4.yaml, examples/hashgrid_image_2d.yaml, examples/snn_snntorch_256.yaml)"
            ),
        });
    };
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
    let pipeline = match &m.pipeline {
        Some(v) => in_range(text, origin, &key("pipeline"), v, "the PE pipeline depth")?,
        None => 0,
    };
    let output_pipeline = match m.output.as_ref().and_then(|o| o.pipeline.as_ref()) {
        Some(v) => in_range(
            text,
            origin,
            &key("output.pipeline"),
            v,
            "the output rounder's pipeline depth",
        )?,
        None => 0,
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
        pipeline,
        output_pipeline,
    };
    let params = spec.validate().map_err(|e: ParamError| {
        let at: Option<&Spanned<Int>> = match e.key.as_str() {
            "rows" => Some(&m.rows),
            "cols" => Some(&m.cols),
            "dot_length" => Some(&m.dot_length),
            "accumulator.width" => m.accumulator.as_ref().and_then(|a| a.width.as_ref()),
            "pipeline" => m.pipeline.as_ref(),
            "output.pipeline" => m.output.as_ref().and_then(|o| o.pipeline.as_ref()),
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

fn hash_grid_block(
    text: &str,
    origin: &str,
    hg: &Spanned<HashGridYaml>,
    reset: ResetStyle,
) -> Result<Block, ConfigError> {
    let h = &hg.value;
    let key = |k: &str| format!("hash_grid.{k}");
    let whole = |k: &str, v: &Spanned<Int>, what: &str| in_range(text, origin, &key(k), v, what);
    let opt = |k: &str, v: &Option<Spanned<Int>>, default: u64, what: &str| match v {
        Some(v) => whole(k, v, what),
        None => Ok(default),
    };
    let d = HashGridSpec::default();
    let spec = HashGridSpec {
        dims: whole("dims", &h.dims, "D")?,
        levels: whole("levels", &h.levels, "L")?,
        features: whole("features", &h.features, "F")?,
        log2_table_size: match (&h.log2_table_size, &h.table_size) {
            (Some(l), None) => whole("log2_table_size", l, "log2 T")?,
            (None, Some(t)) => {
                let v = whole("table_size", t, "T")?;
                if !v.is_power_of_two() {
                    return Err(located(
                        text,
                        origin,
                        t,
                        format!(
                            "`hash_grid.table_size` = {v} is not allowed: T must be a power of two, 256..=16777216 (e.g. {} or {})",
                            (v.max(2) / 2).next_power_of_two().max(256),
                            v.next_power_of_two().clamp(256, 1 << 24)
                        ),
                    ));
                }
                v.trailing_zeros() as u64
            }
            (Some(_), Some(t)) => {
                return Err(located(
                    text,
                    origin,
                    t,
                    "`hash_grid.table_size` is not allowed next to `log2_table_size`: give one of them".into(),
                ));
            }
            (None, None) => {
                return Err(located(
                    text,
                    origin,
                    hg,
                    "`hash_grid` needs `log2_table_size` (8..24) or `table_size` (a power of two)".into(),
                ));
            }
        },
        base_resolution: whole("base_resolution", &h.base_resolution, "N0")?,
        per_level_scale: h.per_level_scale.value,
        table: h.table.value.0.clone(),
        int_scale_log2: h
            .int_scale_log2
            .as_ref()
            .map(|l| l.value.0.clone())
            .unwrap_or(d.int_scale_log2.clone()),
        coord_frac_bits: opt("coord_frac_bits", &h.coord_frac_bits, d.coord_frac_bits, "a bit count")?,
        scale_frac_bits: opt("scale_frac_bits", &h.scale_frac_bits, d.scale_frac_bits, "a bit count")?,
        weight_frac_bits: opt(
            "weight_frac_bits",
            &h.weight_frac_bits,
            d.weight_frac_bits,
            "a bit count",
        )?,
        feature_int_bits: opt(
            "feature_int_bits",
            &h.feature_int_bits,
            d.feature_int_bits,
            "a bit count",
        )?,
        feature_frac_bits: opt(
            "feature_frac_bits",
            &h.feature_frac_bits,
            d.feature_frac_bits,
            "a bit count",
        )?,
        init_files: h.init_files.unwrap_or(false),
        block_ram_bits: match &h.block_ram_bits {
            Some(b) => Some(whole("block_ram_bits", b, "a memory budget")?),
            None => None,
        },
        level_units: match &h.level_units {
            Some(p) => Some(whole("level_units", p, "P")?),
            None => None,
        },
        pipeline_depth: opt("pipeline_depth", &h.pipeline_depth, d.pipeline_depth, "a stage count")?,
        output: h.output.as_ref().map(|o| o.value.0.clone()),
        reset,
    };
    let params = spec.validate().map_err(|e: ParamError| {
        let message = format!("`hash_grid.{}` = {} is not allowed: {}", e.key, e.value, e.allowed);
        let ints: [(&str, Option<&Spanned<Int>>); 13] = [
            ("dims", Some(&h.dims)),
            ("levels", Some(&h.levels)),
            ("features", Some(&h.features)),
            ("log2_table_size", h.log2_table_size.as_ref().or(h.table_size.as_ref())),
            ("base_resolution", Some(&h.base_resolution)),
            ("coord_frac_bits", h.coord_frac_bits.as_ref()),
            ("scale_frac_bits", h.scale_frac_bits.as_ref()),
            ("weight_frac_bits", h.weight_frac_bits.as_ref()),
            ("feature_int_bits", h.feature_int_bits.as_ref()),
            ("feature_frac_bits", h.feature_frac_bits.as_ref()),
            ("block_ram_bits", h.block_ram_bits.as_ref()),
            ("level_units", h.level_units.as_ref()),
            ("pipeline_depth", h.pipeline_depth.as_ref()),
        ];
        let first = e.key.split('.').next().unwrap_or("");
        if let Some((_, Some(at))) = ints.iter().find(|(k, _)| *k == first) {
            return located(text, origin, at, message);
        }
        if let ("output", Some(at)) = (first, &h.output) {
            return located(text, origin, at, message);
        }
        match (first, &h.int_scale_log2) {
            ("per_level_scale", _) => located(text, origin, &h.per_level_scale, message),
            ("table", _) => located(text, origin, &h.table, message),
            ("int_scale_log2", Some(at)) => located(text, origin, at, message),
            _ => located(text, origin, hg, message),
        }
    })?;
    Ok(Block::HashGrid(Box::new(params)))
}

fn default_name(block: &Block) -> String {
    match block {
        Block::MacArray(p) => format!("mac_{}x{}_{}x{}", p.rows, p.cols, p.act, p.wgt),
        Block::HashGrid(p) => format!(
            "hashgrid_d{}_l{}_f{}_t{}_{}",
            p.dims(),
            p.levels(),
            p.features(),
            p.geometry.log2_table_size,
            p.entry
        ),
        Block::SpikingCore(p) => format!("snn_n{}_i{}_p{}", p.neurons, p.inputs, p.units),
        Block::SpikingChain(a, b) => format!("snn_{}-{}-{}", a.inputs, a.neurons, b.neurons),
    }
}

/// A canonical, human-readable form of the validated parameters: the input
/// of the configuration hash and the manifest's `parameters`.
pub fn canonical(block: &Block) -> serde_json::Value {
    match block {
        Block::MacArray(p) => {
            let mut v = serde_json::json!({
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
            });
            // Only a pipelined array records its depth, so the hashes of
            // existing configurations stay as they were.
            if p.pipeline > 0 {
                v["pipeline"] = serde_json::json!(p.pipeline);
            }
            if let Some(o) = p.output.filter(|o| o.pipeline > 0) {
                v["output"]["pipeline"] = serde_json::json!(o.pipeline);
            }
            v
        }
        Block::HashGrid(p) => {
            let mut v = serde_json::json!({
            "block": "hash_grid",
            "dims": p.dims(),
            "levels": p.levels(),
            "features": p.features(),
            "log2_table_size": p.geometry.log2_table_size,
            "base_resolution": p.geometry.base_resolution,
            "per_level_scale": p.geometry.per_level_scale,
            "table": p.entry.to_string(),
            "int_scale_log2": p.int_scale_log2,
            "coord_frac_bits": p.coord_frac_bits,
            "scale_frac_bits": p.scale_frac_bits,
            "weight_frac_bits": p.weight_frac_bits,
            "feature_int_bits": p.feature_int_bits,
            "feature_frac_bits": p.feature_frac_bits,
            "init_files": p.init_files,
            "reset": p.reset.port_name(),
            "levels_geometry": p.geometry.levels.iter().map(|l| serde_json::json!({
                "scale": l.scale, "res": l.res, "size": l.size, "hashed": l.hashed
            })).collect::<Vec<_>>(),
            "memory_bits": p.memory_bits(),
            });
            // Only when not the default: existing configurations keep their hashes.
            if p.slots() > 1 {
                v["level_units"] = serde_json::json!(p.level_units);
            }
            if p.pipeline_depth != accgen_hdl::hashgrid::engine::LATENCY {
                v["pipeline_depth"] = serde_json::json!(p.pipeline_depth);
            }
            if let Some(f) = p.output {
                v["output"] = serde_json::json!(f.to_string());
            }
            v
        }
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
            Block::HashGrid(p) => accgen_hdl::hashgrid::design(p, &prov),
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
                    "row r of a tile appears {} + r cycles after the tile's last beat is accepted{}",
                    p.row_latency(0),
                    match (p.pipeline, p.output_stages()) {
                        (0, 0) => String::new(),
                        (pe, 0) => format!(" ({pe} of them in the PE pipeline)"),
                        (0, r) => format!(" ({r} of them in the output rounders)"),
                        (pe, r) => format!(" ({pe} of them in the PE pipeline, {r} in the output rounders)"),
                    }
                ),
                format!(
                    "one beat (one MAC per PE) per cycle while K >= max(R, C) = {}",
                    p.tile_spacing()
                ),
            ],
            Block::HashGrid(p) => accgen_hdl::hashgrid::engine::timing_lines(p),
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
                if p.pipeline == 0 {
                    format!(
                        "a time step takes {} cycles with no spikes (accept tick, 2 per slot, end-of-step marker), + 1 per spike beyond the first of a slot, + output stalls",
                        p.step_cycles()
                    )
                } else {
                    format!(
                        "a time step takes {} cycles with no spikes (accept tick, {} filling the neuron pipeline, 1 per slot with the slots overlapping in the pipeline, 1 for the last slot's spikes, end-of-step marker), + 1 per spike beyond the first of a slot, + output stalls",
                        p.step_cycles(),
                        p.pipeline
                    )
                },
            ],
        }
    }
}

//! What `accgen accuracy` runs: format lists from a YAML file and the
//! command line, validated once, with located errors.
//!
//! ```yaml
//! accuracy:
//!   weights: [int8, int4, e4m3fn, e3m3b3finite]   # any MAC operand format except uintN
//!   activations:                                   # any MAC operand format
//!     - uint8
//!     - e4m3fn
//!     - {exponent: 3, mantissa: 2, specials: finite, subnormals: false}
//!   seed: 1                  # training seed (default 1)
//!   calibration: max         # max (default) or pNN, a percentile: p99.99
//!   hardware:                # listing (weights, activations) pairs runs the Verilator check
//!     - [int8, int8]
//!     - [e4m3fn, e4m3fn]
//!   hardware_images: 355     # test images through the array (default: all)
//! ```
//!
//! A format is `intN` / `uintN` (N = 2..16), a minifloat preset, a
//! minifloat spelled as a name, `eXmY[bB]SPECIALS[ftz]` (the tag accgen
//! prints, e.g. `e3m3b3finite`, `e5m2ieeeftz`: bias B defaults as for the
//! hardware, `ftz` turns subnormals off), or in YAML the field-by-field map
//! that `mac_array` configurations take. Presets win over the spelled-out
//! reading of the same name: `e2m3fn` is the MX FP6 preset (no specials).

use super::quant::{Calibration, QFormat};
use crate::Failure;
use crate::config::{FormatYaml, Int};
use accgen_hdl::mac::params::FormatSpec;
use accgen_hdl::minifloat::format::MAX_OPERAND_MAN_BITS;
use accgen_hdl::minifloat::{FloatFormat, PRESETS, Specials};
use accgen_hdl::params::ParamError;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// The operand formats the default table sweeps, for weights and
/// activations alike: every signed integer width up to 8 and every 8-bit
/// or narrower minifloat preset.
pub const DEFAULT_FORMATS: [&str; 16] = [
    "int2", "int3", "int4", "int5", "int6", "int7", "int8", "e4m3fn", "e4m3fnuz", "e5m2", "e5m2fnuz", "e4m3", "e3m4",
    "e2m3fn", "e3m2fn", "e2m1fn",
];

/// The (weights, activations) pairs `--hardware` checks by default.
pub const DEFAULT_HARDWARE: [(&str, &str); 2] = [("int8", "int8"), ("e4m3fn", "e4m3fn")];

/// Which operand a format is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Weights,
    Activations,
}

fn allowed_formats() -> String {
    let presets: Vec<&str> = PRESETS
        .iter()
        .filter(|(_, f)| f.man_bits <= MAX_OPERAND_MAN_BITS)
        .map(|(n, _)| *n)
        .collect();
    format!(
        "an integer format int2..int16 or uint2..uint16 (unsigned: activations only), a minifloat preset ({}), \
         or a minifloat spelled out as eXmY[bB]SPECIALS[ftz] with SPECIALS one of ieee, fn, fnuz, finite \
         (e.g. e3m3b3finite, e5m2ieeeftz)",
        presets.join(", ")
    )
}

/// `eXmY[bB](ieee|fn|fnuz|finite)[ftz]`; `None` unless `text` has that shape.
fn spelled_out(text: &str) -> Option<FormatSpec> {
    fn number(s: &str) -> (Option<u64>, &str) {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        (s[..end].parse().ok(), &s[end..])
    }
    let (exponent, rest) = number(text.strip_prefix('e')?);
    let (mantissa, mut rest) = number(rest.strip_prefix('m')?);
    let mut bias = None;
    if let Some(b) = rest.strip_prefix('b') {
        let (neg, b) = match b.strip_prefix('n') {
            Some(b) => (true, b),
            None => (false, b),
        };
        let (magnitude, r) = number(b);
        let magnitude = i64::try_from(magnitude?).ok()?;
        bias = Some(if neg { -magnitude } else { magnitude });
        rest = r;
    }
    let (rest, subnormals) = match rest.strip_suffix("ftz") {
        Some(r) => (r, false),
        None => (rest, true),
    };
    let specials = [Specials::Ieee, Specials::Fnuz, Specials::Fn, Specials::Finite]
        .into_iter()
        .find(|s| s.name() == rest)?;
    Some(FormatSpec::Float {
        exponent: exponent?,
        mantissa: mantissa?,
        bias,
        specials,
        subnormals,
    })
}

/// Check a validated format against its role.
fn for_role(key: &str, role: Role, f: QFormat) -> Result<QFormat, ParamError> {
    if role == Role::Weights && !f.signed() {
        return Err(ParamError::new(
            key,
            format!("`{f}`"),
            "a signed format: weights are quantized symmetrically and take both signs (use intN or a minifloat)",
        ));
    }
    Ok(f)
}

/// A format as written on the command line or in a YAML list.
pub fn parse_format(key: &str, role: Role, text: &str) -> Result<QFormat, ParamError> {
    let text = text.trim();
    let spec = match FloatFormat::preset(text) {
        Some(_) => FormatSpec::Name(text.to_string()),
        None => spelled_out(text).unwrap_or_else(|| FormatSpec::Name(text.to_string())),
    };
    let named = matches!(spec, FormatSpec::Name(_));
    let f = QFormat::new(key, spec).map_err(|mut e| {
        if named {
            e.allowed = match ["ieee", "fn", "fnuz", "finite"].map(|s| format!("{text}{s}")) {
                // `e3m3`: a minifloat without its special values.
                spelled if spelled_out(&spelled[0]).is_some() => format!(
                    "a spelled-out minifloat names its special values: {}; or {}",
                    spelled.join(", "),
                    allowed_formats()
                ),
                _ => allowed_formats(),
            };
        }
        e
    })?;
    for_role(key, role, f)
}

/// A comma-separated list from the command line (`--weights int8,e4m3fn`).
pub fn parse_list(flag: &str, role: Role, items: &[String]) -> Result<Vec<QFormat>, Failure> {
    if items.is_empty() || items.iter().all(|s| s.trim().is_empty()) {
        return Err(Failure::Input(format!(
            "error: `{flag}` needs at least one format: {}",
            allowed_formats()
        )));
    }
    items
        .iter()
        .map(|s| parse_format(flag, role, s).map_err(|e| Failure::Input(format!("error: {e}"))))
        .collect()
}

/// `W:A` pairs for `--hardware` (`int8:int8,e4m3fn:e4m3fn`).
pub fn parse_pairs(flag: &str, items: &[String]) -> Result<Vec<(QFormat, QFormat)>, Failure> {
    items
        .iter()
        .map(|item| {
            let Some((w, a)) = item.split_once(':') else {
                return Err(Failure::Input(format!(
                    "error: `{flag}` = `{item}` is not allowed: write weights:activations pairs, e.g. int8:int8,e4m3fn:e4m3fn"
                )));
            };
            let w = parse_format(flag, Role::Weights, w).map_err(|e| Failure::Input(format!("error: {e}")))?;
            let a = parse_format(flag, Role::Activations, a).map_err(|e| Failure::Input(format!("error: {e}")))?;
            Ok((w, a))
        })
        .collect()
}

/// The `accuracy:` section of a configuration file, validated.
#[derive(Clone, Debug, Default)]
pub struct AccuracyFile {
    pub origin: String,
    pub weights: Option<Vec<QFormat>>,
    pub activations: Option<Vec<QFormat>>,
    pub seed: Option<u64>,
    pub calibration: Option<Calibration>,
    pub hardware: Option<Vec<(QFormat, QFormat)>>,
    pub hardware_images: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileYaml {
    accuracy: Option<Spanned<AccuracyYaml>>,
}

type FormatList = Spanned<Vec<Spanned<FormatYaml>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccuracyYaml {
    weights: Option<FormatList>,
    activations: Option<FormatList>,
    seed: Option<Spanned<Int>>,
    calibration: Option<Spanned<String>>,
    hardware: Option<Spanned<Vec<FormatList>>>,
    hardware_images: Option<Spanned<Int>>,
}

/// Located errors read exactly like `mac_array` configuration errors.
fn located<T>(text: &str, origin: &str, at: &Spanned<T>, message: String) -> Failure {
    crate::config::located(text, origin, at, message).into()
}

/// Read and validate a configuration file's `accuracy:` section.
pub fn load(path: &Path) -> Result<AccuracyFile, Failure> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("error: cannot read configuration {origin}: {e}")))?;
    parse(&text, &origin)
}

/// Parse and validate configuration text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<AccuracyFile, Failure> {
    let file: FileYaml =
        serde_saphyr::from_str(text).map_err(|e| Failure::from(crate::config::syntax_error(text, origin, &e)))?;
    let Some(section) = file.accuracy else {
        return Err(Failure::Input(format!(
            "error: {origin}: no `accuracy:` section: add one with `weights:` and `activations:` lists (see `accgen accuracy --help`)"
        )));
    };
    let s = &section.value;
    let list = |key: &str, role: Role, l: &FormatList| -> Result<Vec<QFormat>, Failure> {
        if l.value.is_empty() {
            return Err(located(
                text,
                origin,
                l,
                format!("`accuracy.{key}` is empty: list at least one format"),
            ));
        }
        l.value
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let key = format!("accuracy.{key}[{i}]");
                let parsed = match &item.value.0 {
                    FormatSpec::Name(n) => parse_format(&key, role, n),
                    spec => QFormat::new(&key, spec.clone()).and_then(|f| for_role(&key, role, f)),
                };
                parsed.map_err(|e| located(text, origin, item, e.to_string()))
            })
            .collect()
    };
    let count = |key: &str, v: &Spanned<Int>, lo: i64| -> Result<u64, Failure> {
        if v.value.0 < lo {
            return Err(located(
                text,
                origin,
                v,
                format!(
                    "`accuracy.{key}` = {} is not allowed: it must be at least {lo}",
                    v.value.0
                ),
            ));
        }
        Ok(v.value.0 as u64)
    };
    let mut out = AccuracyFile {
        origin: origin.to_string(),
        ..AccuracyFile::default()
    };
    if let Some(l) = &s.weights {
        out.weights = Some(list("weights", Role::Weights, l)?);
    }
    if let Some(l) = &s.activations {
        out.activations = Some(list("activations", Role::Activations, l)?);
    }
    if let Some(v) = &s.seed {
        out.seed = Some(count("seed", v, 0)?);
    }
    if let Some(c) = &s.calibration {
        out.calibration = Some(
            Calibration::parse(&c.value)
                .map_err(|m| located(text, origin, c, format!("`accuracy.calibration` = {m}")))?,
        );
    }
    if let Some(pairs) = &s.hardware {
        let mut v = Vec::new();
        for (i, pair) in pairs.value.iter().enumerate() {
            if pair.value.len() != 2 {
                return Err(located(
                    text,
                    origin,
                    pair,
                    format!(
                        "`accuracy.hardware[{i}]` has {} formats: write a [weights, activations] pair, e.g. [int8, int8]",
                        pair.value.len()
                    ),
                ));
            }
            let one = |j: usize, role: Role| {
                let key = format!("accuracy.hardware[{i}][{j}]");
                let item = &pair.value[j];
                match &item.value.0 {
                    FormatSpec::Name(n) => parse_format(&key, role, n),
                    spec => QFormat::new(&key, spec.clone()).and_then(|f| for_role(&key, role, f)),
                }
                .map_err(|e| located(text, origin, item, e.to_string()))
            };
            v.push((one(0, Role::Weights)?, one(1, Role::Activations)?));
        }
        out.hardware = Some(v);
    }
    if let Some(n) = &s.hardware_images {
        out.hardware_images = Some(count("hardware_images", n, 1)? as usize);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_out_minifloats_round_trip_through_their_tag() {
        for text in ["e3m3b3finite", "e5m2b15ieeeftz", "e2m2bn1fnuz", "e4m3fn", "e2m3fn"] {
            let f = parse_format("k", Role::Weights, text).unwrap();
            assert_eq!(f.label(), text);
        }
        assert_eq!(parse_format("k", Role::Activations, "uint4").unwrap().label(), "uint4");
    }

    #[test]
    fn bad_names_list_what_is_allowed() {
        let e = parse_format("--weights", Role::Weights, "int9x").unwrap_err();
        assert_eq!((e.key.as_str(), e.value.as_str()), ("--weights", "`int9x`"));
        assert!(e.allowed.contains("e4m3fn") && e.allowed.contains("int2..int16"), "{e}");
        let e = parse_format("--weights", Role::Weights, "uint8").unwrap_err();
        assert!(e.allowed.contains("signed"), "{e}");
        let e = parse_format("k", Role::Activations, "e9m2ieee").unwrap_err();
        assert_eq!(e.key, "k.exponent");
        let e = parse_format("k", Role::Activations, "e3m3").unwrap_err();
        assert!(
            e.allowed
                .starts_with("a spelled-out minifloat names its special values: e3m3ieee,"),
            "{e}"
        );
    }
}

//! Sweep files: a base design per study, axes to vary, targets and fronts.
//!
//! ```yaml
//! name: formats              # names the report folder
//! targets: [xc7, ice40, asic]  # every point is estimated on every target
//! synthesize: false          # true: also run Yosys on every point (cached)
//! flows: [ice40-hx8k]        # place and route every point: Fmax (not cached)
//! fronts:                    # Pareto fronts: 2 or 3 metrics each
//!   - [luts, accuracy]
//!   - [luts, dsp, accuracy]
//! studies:
//!   - name: digits_mac
//!     mac_array: { rows: 4, cols: 4, dot_length: 64, activations: uint8, weights: int8 }
//!     vary:                  # every combination of the values is a point
//!       weights: [int4, int8, e2m1fn, e4m3fn]
//!       multiplier: [dsp, lut]
//! ```
//!
//! Each point is the base with the axes' values put in, validated exactly
//! as a configuration file is ([`crate::config::parse`]). A value that is
//! bad on its own is an input error located in the sweep file; a
//! combination that is bad only with the others is recorded as a failed
//! point, and the sweep goes on.

use super::metric::Metric;
use crate::config::{self, Config, located, syntax_error};
use crate::synth::Target;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::Path;

/// The sweep `accgen explore` runs without an argument.
pub const DEFAULT_SWEEP: &str = include_str!("../../../examples/explore/default.yaml");
pub const DEFAULT_SWEEP_NAME: &str = "examples/explore/default.yaml (embedded)";

/// Parameters of a MAC array a sweep may vary, as paths in its section.
pub const MAC_ARRAY_AXES: &[&str] = &[
    "rows",
    "cols",
    "dot_length",
    "activations",
    "weights",
    "multiplier",
    "pipeline",
    "accumulator.width",
    "accumulator.overflow",
    "output.format",
    "output.overflow",
    "output.pipeline",
    "reset",
];

/// Parameters of a hash-grid encoder a sweep may vary.
pub const HASH_GRID_AXES: &[&str] = &[
    "dims",
    "levels",
    "features",
    "log2_table_size",
    "base_resolution",
    "per_level_scale",
    "table",
    "int_scale_log2",
    "coord_frac_bits",
    "scale_frac_bits",
    "weight_frac_bits",
    "feature_int_bits",
    "feature_frac_bits",
    "block_ram_bits",
    "level_units",
    "pipeline_depth",
    "reset",
];

/// Parameters of a spiking core a sweep may vary (dotted for nested ones).
pub const SPIKING_CORE_AXES: &[&str] = &[
    "neurons",
    "inputs",
    "units",
    "preset",
    "weights.width",
    "membrane.width",
    "membrane.overflow",
    "threshold",
    "decay",
    "compare",
    "reset",
    "refractory",
    "accumulator.width",
    "pipeline",
    WORKLOAD_STEPS,
];

/// The spiking workload's time steps: an axis of the workload, not of the
/// core (a core runs as many steps as it is sent).
pub const WORKLOAD_STEPS: &str = "steps";
/// Most time steps a spiking workload runs.
pub const MAX_STEPS: u64 = 1024;

/// Points in one sweep at most: far beyond what a report can show, small
/// enough that a typo in an axis cannot start a day-long run.
pub const MAX_POINTS: usize = 100_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepYaml {
    name: Option<Spanned<String>>,
    targets: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    synthesize: bool,
    flows: Option<Vec<Spanned<String>>>,
    fronts: Option<Vec<Spanned<Vec<Spanned<String>>>>>,
    studies: Spanned<Vec<Spanned<StudyYaml>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyYaml {
    name: Spanned<String>,
    reset: Option<Value>,
    mac_array: Option<Spanned<Value>>,
    hash_grid: Option<Spanned<Value>>,
    spiking_core: Option<Spanned<Value>>,
    #[serde(default)]
    vary: BTreeMap<String, Spanned<Vec<Spanned<Value>>>>,
}

/// One point of a study: the values of its axes and the validated
/// configuration, or why the combination is not a valid design.
#[derive(Clone, Debug)]
pub struct Point {
    /// `(axis, value)` in the order the axes are written.
    pub settings: Vec<(String, String)>,
    pub config: Result<Config, String>,
    /// Time steps of a spiking study's workload, when the study varies them.
    pub steps: Option<u32>,
}

impl Point {
    /// The axes' values, `weights=int8 multiplier=lut`; the base design's
    /// name when nothing varies.
    pub fn label(&self) -> String {
        if self.settings.is_empty() {
            return "base".into();
        }
        let parts: Vec<String> = self.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.join(" ")
    }
}

/// The block family a study sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    MacArray,
    HashGrid,
    SpikingCore,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::MacArray, Family::HashGrid, Family::SpikingCore];

    /// The section that holds a design of the family, in sweeps as in
    /// configuration files.
    pub fn key(self) -> &'static str {
        match self {
            Family::MacArray => "mac_array",
            Family::HashGrid => "hash_grid",
            Family::SpikingCore => "spiking_core",
        }
    }

    fn axes(self) -> &'static [&'static str] {
        match self {
            Family::MacArray => MAC_ARRAY_AXES,
            Family::HashGrid => HASH_GRID_AXES,
            Family::SpikingCore => SPIKING_CORE_AXES,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Study {
    pub name: String,
    pub family: Family,
    pub axes: Vec<String>,
    pub points: Vec<Point>,
}

/// A validated sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub origin: String,
    pub name: String,
    pub targets: Vec<Target>,
    pub synthesize: bool,
    /// Open-toolchain devices to place and route every point on, for Fmax.
    pub flows: Vec<crate::flow::device::Device>,
    /// The fronts the file names; `None`: each family's defaults.
    pub fronts: Option<Vec<Vec<Metric>>>,
    pub studies: Vec<Study>,
}

impl Sweep {
    pub fn points(&self) -> usize {
        self.studies.iter().map(|s| s.points.len()).sum()
    }
}

impl Sweep {
    /// The fronts of `study`: the file's, else its family's defaults.
    pub fn fronts_for(&self, study: &Study) -> Vec<Vec<Metric>> {
        self.fronts.clone().unwrap_or_else(|| default_fronts(study.family))
    }
}

/// The fronts a study gets when the sweep names none: cost against the
/// family's measure of quality.
pub fn default_fronts(family: Family) -> Vec<Vec<Metric>> {
    use Metric::*;
    match family {
        Family::MacArray => vec![vec![Luts, Accuracy], vec![Area, Accuracy], vec![Luts, Dsp, Accuracy]],
        Family::HashGrid => vec![vec![Luts, Sqnr], vec![Bram, Sqnr], vec![Area, Sqnr]],
        Family::SpikingCore => vec![vec![Luts, Accuracy], vec![Bram, Accuracy], vec![Area, Accuracy]],
    }
}

pub fn load(path: &Path) -> Result<Sweep, String> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("error: cannot read sweep {origin}: {e}"))?;
    parse(&text, &origin)
}

fn err<T>(text: &str, origin: &str, at: &Spanned<T>, message: String) -> String {
    located(text, origin, at, message).message
}

/// Parse and validate a sweep; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Sweep, String> {
    let file: SweepYaml = serde_saphyr::from_str(text).map_err(|e| syntax_error(text, origin, &e).message)?;
    let name = match &file.name {
        Some(n) if valid_name(&n.value) => n.value.clone(),
        Some(n) => {
            return Err(err(
                text,
                origin,
                n,
                format!(
                    "`name` = {:?} is not allowed: use letters, digits, `_` and `-` only",
                    n.value
                ),
            ));
        }
        None => Path::new(origin)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| valid_name(s))
            .unwrap_or_else(|| "sweep".into()),
    };
    let targets = match &file.targets {
        None => Target::ALL.to_vec(),
        Some(list) if list.value.is_empty() => {
            return Err(err(
                text,
                origin,
                list,
                format!("`targets` is empty: name at least one of {}", Target::names()),
            ));
        }
        Some(list) => {
            let mut targets = Vec::new();
            for t in &list.value {
                let target: Target = t
                    .value
                    .parse()
                    .map_err(|e| err(text, origin, t, format!("`targets`: {e}")))?;
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
            targets
        }
    };
    let mut flows = Vec::new();
    for f in file.flows.iter().flatten() {
        let Some(device) = crate::flow::device::Device::find(&f.value) else {
            return Err(err(
                text,
                origin,
                f,
                format!(
                    "`flows`: `{}` is not an open-toolchain flow target: the targets are {}",
                    f.value,
                    crate::flow::device::Device::names()
                ),
            ));
        };
        if !targets.contains(&device.synth) {
            return Err(err(
                text,
                origin,
                f,
                format!(
                    "`flows`: {} reports Fmax beside the {} figures: add `{}` to `targets`",
                    device.name,
                    device.synth.name(),
                    device.synth.name()
                ),
            ));
        }
        if !flows.contains(&device) {
            flows.push(device);
        }
    }
    let fronts = match &file.fronts {
        None => None,
        Some(fronts) => Some(
            fronts
                .iter()
                .map(|front| parse_front(text, origin, front))
                .collect::<Result<_, _>>()?,
        ),
    };
    if file.studies.value.is_empty() {
        return Err(err(
            text,
            origin,
            &file.studies,
            "`studies` is empty: a sweep with no points has nothing to explore; add a study with a block section \
             (e.g. `mac_array:`) and the axes to `vary`"
                .into(),
        ));
    }
    let mut studies = Vec::new();
    let mut total = 0usize;
    for study in &file.studies.value {
        let s = parse_study(text, origin, study)?;
        if studies.iter().any(|o: &Study| o.name == s.name) {
            return Err(err(
                text,
                origin,
                &study.value.name,
                format!("study name `{}` is used twice: reports are named after studies", s.name),
            ));
        }
        total = total.saturating_add(s.points.len());
        if total > MAX_POINTS {
            return Err(err(
                text,
                origin,
                &file.studies,
                format!("the sweep has more than {MAX_POINTS} points: split it, or vary fewer values"),
            ));
        }
        studies.push(s);
    }
    Ok(Sweep {
        origin: origin.to_string(),
        name,
        targets,
        synthesize: file.synthesize,
        flows,
        fronts,
        studies,
    })
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_front(text: &str, origin: &str, front: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<Metric>, String> {
    if !(2..=3).contains(&front.value.len()) {
        return Err(err(
            text,
            origin,
            front,
            format!(
                "a front has 2 or 3 metrics, this one has {}: e.g. [luts, accuracy] or [luts, dsp, accuracy]",
                front.value.len()
            ),
        ));
    }
    let mut metrics = Vec::new();
    for m in &front.value {
        let metric: Metric = m
            .value
            .parse()
            .map_err(|e| err(text, origin, m, format!("`fronts`: {e}")))?;
        if metrics.contains(&metric) {
            return Err(err(
                text,
                origin,
                m,
                format!("`{}` appears twice in one front", m.value),
            ));
        }
        metrics.push(metric);
    }
    Ok(metrics)
}

/// The base document of a point: `name`, `reset` and the block section.
fn base_document(study: &StudyYaml, family: Family, section: &Value) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert("name".into(), Value::String(study.name.value.clone()));
    if let Some(reset) = &study.reset {
        doc.insert("reset".into(), reset.clone());
    }
    doc.insert(family.key().into(), section.clone());
    Value::Object(doc)
}

/// Put `value` at `axis` (a dotted path in the block section; `reset` at
/// the top) of a point document.
fn set_axis(doc: &mut Value, family: Family, axis: &str, value: &Value) {
    let mut at = if axis == "reset" { doc } else { &mut doc[family.key()] };
    let parts: Vec<&str> = axis.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if !at.get(part).is_some_and(Value::is_object) {
            at[*part] = Value::Object(serde_json::Map::new());
        }
        at = &mut at[*part];
    }
    at[*parts.last().unwrap_or(&axis)] = value.clone();
}

/// A point document validated as a configuration file.
fn validate(doc: &Value, origin: &str) -> Result<Config, String> {
    let yaml = serde_saphyr::to_string(doc).map_err(|e| format!("error: {origin}: cannot write the point: {e}"))?;
    config::parse(&yaml, origin).map_err(|e| reason(&e.message, origin))
}

/// The first line of a configuration error without its location, which
/// points into a generated document rather than the sweep file.
fn reason(message: &str, origin: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let rest = first
        .strip_prefix("error: ")
        .and_then(|m| m.strip_prefix(origin))
        .unwrap_or(first);
    // `:line:column: ` when located.
    let mut parts = rest.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(l), Some(c), Some(m)) if l.parse::<u64>().is_ok() && c.parse::<u64>().is_ok() => {
            m.trim().to_string()
        }
        _ => rest.trim_start_matches(':').trim().to_string(),
    }
}

/// How a value reads in labels and tables: scalars bare, maps in flow style.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn parse_study(text: &str, origin: &str, study: &Spanned<StudyYaml>) -> Result<Study, String> {
    let s = &study.value;
    if !valid_name(&s.name.value) {
        return Err(err(
            text,
            origin,
            &s.name,
            format!(
                "study `name` = {:?} is not allowed: use letters, digits, `_` and `-` only",
                s.name.value
            ),
        ));
    }
    let sections = [
        (Family::MacArray, &s.mac_array),
        (Family::HashGrid, &s.hash_grid),
        (Family::SpikingCore, &s.spiking_core),
    ];
    let present: Vec<(Family, &Spanned<Value>)> = sections
        .iter()
        .filter_map(|(f, section)| section.as_ref().map(|v| (*f, v)))
        .collect();
    let keys: Vec<String> = Family::ALL.iter().map(|f| format!("`{}:`", f.key())).collect();
    let (family, section) = match present.as_slice() {
        [one] => *one,
        [] => {
            return Err(err(
                text,
                origin,
                study,
                format!(
                    "study `{}` has no block section: add one of {} with the base design",
                    s.name.value,
                    keys.join(", ")
                ),
            ));
        }
        [_, (_, second), ..] => {
            return Err(err(
                text,
                origin,
                second,
                format!(
                    "study `{}` has more than one block section: a study explores one block family; make a study for each",
                    s.name.value
                ),
            ));
        }
    };
    let base = base_document(s, family, &section.value);
    let point_origin = |what: &str| format!("{origin}: study `{}`{what}", s.name.value);
    // The base must be a valid design on its own (axes may replace any of
    // its values, but a reader expects the base to make sense).
    if let Err(e) = validate(&base, &point_origin(", base design")) {
        return Err(err(
            text,
            origin,
            section,
            format!("study `{}`: the base design is not valid: {e}", s.name.value),
        ));
    }
    // Each axis on its own: the name must be a parameter of the family and
    // each value valid with the base.
    let mut axes: Vec<(&String, &Spanned<Vec<Spanned<Value>>>)> = Vec::new();
    let mut order: Vec<(&String, &Spanned<Vec<Spanned<Value>>>)> = s.vary.iter().collect();
    // serde gives the map sorted; keep the file's order, which readers chose.
    order.sort_by_key(|(_, v)| (v.referenced.line(), v.referenced.column()));
    for (axis, values) in order {
        if !family.axes().contains(&axis.as_str()) {
            return Err(err(
                text,
                origin,
                values,
                format!(
                    "`vary.{axis}` is not a parameter of {}: the parameters are {}",
                    family.key(),
                    family.axes().join(", ")
                ),
            ));
        }
        if values.value.is_empty() {
            return Err(err(
                text,
                origin,
                values,
                format!("`vary.{axis}` has no values: a sweep with no points has nothing to explore"),
            ));
        }
        for v in &values.value {
            if family == Family::SpikingCore && axis == WORKLOAD_STEPS {
                if !v.value.as_u64().is_some_and(|n| (1..=MAX_STEPS).contains(&n)) {
                    return Err(err(
                        text,
                        origin,
                        v,
                        format!(
                            "`vary.steps` = {} is not allowed: the workload's time steps are a whole number, 1..={MAX_STEPS}",
                            show(&v.value)
                        ),
                    ));
                }
                continue;
            }
            let mut doc = base.clone();
            set_axis(&mut doc, family, axis, &v.value);
            if let Err(e) = validate(&doc, &point_origin("")) {
                return Err(err(text, origin, v, format!("`vary.{axis}` = {}: {e}", show(&v.value))));
            }
        }
        axes.push((axis, values));
    }
    let count = axes.iter().try_fold(1usize, |n, (_, v)| n.checked_mul(v.value.len()));
    if count.is_none_or(|n| n > MAX_POINTS) {
        return Err(err(
            text,
            origin,
            study,
            format!(
                "study `{}` has more than {MAX_POINTS} points: vary fewer values",
                s.name.value
            ),
        ));
    }
    let count = count.unwrap_or(0);
    let mut points = Vec::with_capacity(count);
    for i in 0..count {
        // Mixed radix, the last axis fastest.
        let mut rest = i;
        let mut picks = vec![0; axes.len()];
        for (a, (_, values)) in axes.iter().enumerate().rev() {
            picks[a] = rest % values.value.len();
            rest /= values.value.len();
        }
        let mut doc = base.clone();
        let mut settings = Vec::new();
        let mut steps = None;
        for ((axis, values), &pick) in axes.iter().zip(&picks) {
            let v = &values.value[pick].value;
            if family == Family::SpikingCore && axis.as_str() == WORKLOAD_STEPS {
                steps = v.as_u64().map(|n| n as u32);
            } else {
                set_axis(&mut doc, family, axis, v);
            }
            settings.push(((*axis).clone(), show(v)));
        }
        let config = validate(&doc, &point_origin(&format!(", point {}", i + 1)));
        points.push(Point {
            settings,
            config,
            steps,
        });
    }
    Ok(Study {
        name: s.name.value.clone(),
        family,
        axes: axes.iter().map(|(a, _)| (*a).clone()).collect(),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_drops_the_generated_location() {
        let origin = "s.yaml: study `a`";
        assert_eq!(
            reason(
                "error: s.yaml: study `a`:3:5: `mac_array.rows` = 0 is not allowed: x\n --> snippet",
                origin
            ),
            "`mac_array.rows` = 0 is not allowed: x"
        );
        assert_eq!(reason("error: s.yaml: study `a`: no block", origin), "no block");
    }

    #[test]
    fn set_axis_makes_nested_sections() {
        let mut doc = serde_json::json!({"mac_array": {"rows": 1}});
        set_axis(&mut doc, Family::MacArray, "accumulator.width", &serde_json::json!(12));
        set_axis(&mut doc, Family::MacArray, "reset", &serde_json::json!("async"));
        assert_eq!(
            doc,
            serde_json::json!({"mac_array": {"rows": 1, "accumulator": {"width": 12}}, "reset": "async"})
        );
    }

    #[test]
    fn pipeline_depth_is_a_mac_axis_with_fmax_from_flows() {
        let text = include_str!("../../../examples/explore/pipeline_fmax.yaml");
        let sweep = parse(text, "pipeline_fmax.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sweep.flows.len(), 1);
        for study in &sweep.studies {
            let depths: Vec<u32> = study
                .points
                .iter()
                .map(|p| match &p.config.as_ref().map(|c| &c.block) {
                    Ok(config::Block::MacArray(m)) => m.pipeline,
                    other => panic!("{}: {other:?}", p.label()),
                })
                .collect();
            assert_eq!(depths, [0, 1, 2, 3], "{}", study.name);
        }
        // The last study keeps its rounder stages at every PE depth.
        let last = sweep.studies.last().expect("studies");
        for p in &last.points {
            match &p.config.as_ref().map(|c| &c.block) {
                Ok(config::Block::MacArray(m)) => assert_eq!(m.output_stages(), 2, "{}", p.label()),
                other => panic!("{}: {other:?}", p.label()),
            }
        }
        // A depth beyond the range is an input error located at the value.
        let bad = text.replacen("pipeline: [0, 1, 2, 3]", "pipeline: [0, 4]", 1);
        let failed = parse(&bad, "bad.yaml").expect_err("depth 4 is invalid");
        assert!(
            failed.starts_with("error: bad.yaml:15:21: `vary.pipeline` = 4: `mac_array.pipeline` = 4")
                && failed.contains("0..=3"),
            "{failed}"
        );
    }

    #[test]
    fn pipeline_is_a_spiking_core_axis() {
        let text = "\
name: snn_pipeline
targets: [ice40]
studies:
  - name: lava
    spiking_core: { neurons: 64, inputs: 32, preset: lava-loihi }
    vary:
      pipeline: [0, 1, 2, 3]
";
        let sweep = parse(text, "snn.yaml").unwrap_or_else(|e| panic!("{e}"));
        let depths: Vec<u32> = sweep.studies[0]
            .points
            .iter()
            .map(|p| match &p.config.as_ref().map(|c| &c.block) {
                Ok(config::Block::SpikingCore(c)) => c.pipeline,
                other => panic!("{}: {other:?}", p.label()),
            })
            .collect();
        assert_eq!(depths, [0, 1, 2, 3]);
        let bad = text.replacen("[0, 1, 2, 3]", "[0, 5]", 1);
        let failed = parse(&bad, "bad.yaml").expect_err("depth 5 is invalid");
        assert!(
            failed.starts_with("error: bad.yaml:7:21: `vary.pipeline` = 5: `spiking_core.pipeline` = 5")
                && failed.contains("0..=3"),
            "{failed}"
        );
    }
}

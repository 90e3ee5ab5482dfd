//! `accgen explore`: sweep configurations of a block family, estimate each
//! point's cost on every target (the calibrated model, and Yosys when
//! asked), measure its accuracy on the family's workload through the
//! golden model, and find the Pareto fronts.
//!
//! 1. [`sweep`]: the sweep file, expanded into validated points;
//! 2. [`evaluate`]: cost, synthesis and accuracy of every point, one
//!    [`Row`] per point and target;
//! 3. [`pareto`]: the fronts on any two or three [`metric`]s;
//! 4. [`report`] and [`plot`]: CSV, JSON, Markdown, HTML with the plots
//!    inline, SVG and PNG plots.
//!
//! Workloads: MAC arrays use the digits classifier of [`crate::accuracy`]
//! with the point's weight and activation formats (exact accumulation over
//! each layer's dot product, as an array with the default accumulator
//! computes it).

pub mod family;
pub mod metric;
pub mod pareto;
pub mod plot;
pub mod report;
pub mod sweep;

use crate::Failure;
use crate::accuracy::Workload;
use crate::accuracy::quant::Calibration as ActCalibration;
use crate::cost::{Calibration, Estimate};
use crate::synth::{Progress, Summary, SynthOptions, Target};
use indicatif::{ProgressBar, ProgressStyle};
use metric::Metric;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use sweep::Sweep;

/// `accgen explore`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Sweep file (YAML); without one, the embedded default sweep
    pub sweep: Option<PathBuf>,
    /// Report folder [default: reports/explore/<sweep name>]
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Also synthesize every point with Yosys (cached), whatever the file says
    #[arg(long)]
    pub synth: bool,
    /// Parallel Yosys runs and accuracy threads [default: the available cores]
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Longest one Yosys run may take, in seconds
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Training seed of the accuracy workloads
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn as_map<S: serde::Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// A fitted figure below zero is zero; NaN (not modelled) stays NaN.
fn nonnegative(v: f64) -> f64 {
    if v < 0.0 { 0.0 } else { v }
}

/// Whether a MAC point's operands are integers, minifloats or one of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Integer,
    Minifloat,
    Mixed,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Integer => "integer",
            Kind::Minifloat => "minifloat",
            Kind::Mixed => "mixed",
        }
    }
}

/// Synthesized figures of one point on one target.
#[derive(Clone, Debug, Serialize)]
pub struct Synthesized {
    pub luts: u64,
    pub ffs: u64,
    pub carry: u64,
    pub dsp: u64,
    pub bram: u64,
    pub logic_cells: u64,
    pub area_um2: Option<f64>,
    pub cached: bool,
    pub tool: String,
}

impl Synthesized {
    fn of(s: &Summary, cached: bool, tool: &str) -> Synthesized {
        Synthesized {
            luts: s.luts,
            ffs: s.ffs,
            carry: s.carry,
            dsp: s.dsp,
            bram: s.bram,
            logic_cells: s.logic,
            area_um2: s.area_um2,
            cached,
            tool: tool.to_string(),
        }
    }
}

/// One point of a study on one target.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub study: String,
    /// 1-based, in the order of the sweep's combinations.
    pub point: usize,
    pub label: String,
    /// `(axis, value)` in the sweep file's order.
    #[serde(serialize_with = "as_map")]
    pub settings: Vec<(String, String)>,
    /// The design's top module, when the point is a valid design.
    pub design: Option<String>,
    pub kind: Option<Kind>,
    /// The operand formats, `weights x activations`.
    pub formats: Option<String>,
    pub target: Target,
    pub model: Option<Estimate>,
    pub synth: Option<Synthesized>,
    pub accuracy: Option<f64>,
    pub sqnr_db: Option<f64>,
    /// Fmax after place and route on the sweep's flow device for this
    /// row's target, with the device's name.
    pub fmax_mhz: Option<f64>,
    pub flow_device: Option<String>,
    /// What went wrong for this point (invalid combination, synthesis
    /// failure, workload failure); the other figures are kept.
    pub errors: Vec<String>,
    /// What the row lacks without being wrong (a family with no cost model
    /// yet, when Yosys gives the figures instead).
    pub notes: Vec<String>,
}

impl Row {
    /// The value of `m`: synthesized when there is a synthesis result, else
    /// the model's; `None` where the metric has no meaning (LUTs on `asic`,
    /// area on an FPGA) or the point has no figure.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        let asic = self.target == Target::Asic;
        if let Some(s) = &self.synth {
            return match m {
                Metric::Luts => (!asic).then_some(s.luts as f64),
                Metric::Ffs => Some(s.ffs as f64),
                Metric::Carry => (!asic).then_some(s.carry as f64),
                Metric::Dsp => (!asic).then_some(s.dsp as f64),
                Metric::Bram => (!asic).then_some(s.bram as f64),
                Metric::Area => s.area_um2,
                Metric::Accuracy => self.accuracy,
                Metric::Sqnr => self.sqnr_db,
                Metric::Fmax => self.fmax_mhz,
            };
        }
        // NaN: a figure the model does not give for this family.
        let e = self.model.as_ref();
        let known = |v: f64| (!v.is_nan()).then_some(v);
        let value = match m {
            Metric::Luts => e.filter(|_| !asic).map(|e| nonnegative(e.luts)),
            Metric::Ffs => e.map(|e| e.ffs),
            Metric::Carry => e.filter(|_| !asic).map(|e| nonnegative(e.carry)),
            Metric::Dsp => e.filter(|_| !asic).map(|e| e.dsp),
            Metric::Bram => e.filter(|_| !asic).map(|e| e.bram),
            Metric::Area => e.and_then(|e| e.area_um2),
            Metric::Accuracy => self.accuracy,
            Metric::Sqnr => self.sqnr_db,
            Metric::Fmax => self.fmax_mhz,
        };
        value.and_then(known)
    }
}

/// A computed front: which rows of one study on one target are on it.
#[derive(Clone, Debug, Serialize)]
pub struct Front {
    pub study: String,
    pub target: Target,
    pub metrics: Vec<Metric>,
    /// Indices into the results' rows, sorted by the first metric.
    pub rows: Vec<usize>,
    /// Rows that had every metric (the candidates).
    pub candidates: Vec<usize>,
}

/// Everything a sweep produced.
#[derive(Clone, Debug)]
pub struct Results {
    pub sweep: Sweep,
    pub rows: Vec<Row>,
    pub fronts: Vec<Front>,
    /// `cost model calibrated with ...`, and the synthesis tool when used.
    pub tools: Vec<String>,
    /// Float accuracy of each workload, by study.
    pub float_accuracy: BTreeMap<String, f64>,
    pub stats: Stats,
}

/// Counts for the progress line and the summary.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Stats {
    pub points: usize,
    pub invalid_points: usize,
    pub rows: usize,
    pub synth_jobs: usize,
    pub synth_cached: usize,
    pub synthesized: usize,
    pub synth_failed: usize,
    pub flows: usize,
    pub flows_failed: usize,
    pub accuracy_evaluations: usize,
    pub seconds: f64,
}

/// What a run is asked to do beyond the sweep file.
#[derive(Clone, Debug)]
pub struct Options {
    pub synthesize: bool,
    pub threads: usize,
    pub synth: SynthOptions,
    pub seed: u64,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Where place-and-route runs keep their files (one folder per point
    /// and device).
    pub flow_dir: PathBuf,
}

fn bar(show: bool, len: u64, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg} (eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Run every point of `sweep`.
pub fn evaluate(sweep: &Sweep, options: &Options) -> Result<Results, Failure> {
    let start = Instant::now();
    let calibration = Calibration::builtin().map_err(Failure::Run)?;
    let mut tools = vec![format!("cost model calibrated with {}", calibration.tool)];
    let mut rows = Vec::new();
    let mut stats = Stats {
        points: sweep.points(),
        ..Stats::default()
    };
    // Rows, with the model's estimate.
    for study in &sweep.studies {
        for (i, point) in study.points.iter().enumerate() {
            if point.config.is_err() {
                stats.invalid_points += 1;
            }
            for &target in &sweep.targets {
                let mut row = Row {
                    study: study.name.clone(),
                    point: i + 1,
                    label: point.label(),
                    settings: point.settings.clone(),
                    design: None,
                    kind: None,
                    formats: None,
                    target,
                    model: None,
                    synth: None,
                    accuracy: None,
                    sqnr_db: None,
                    fmax_mhz: None,
                    flow_device: None,
                    errors: Vec::new(),
                    notes: Vec::new(),
                };
                match &point.config {
                    Err(e) => row.errors.push(format!("not a valid design: {e}")),
                    Ok(config) => {
                        let d = family::describe(config);
                        row.design = Some(d.design);
                        row.kind = d.kind;
                        row.formats = d.formats;
                        row.notes.extend(family::model_note(config).map(str::to_string));
                        match family::estimate(config, target, &calibration) {
                            Ok(e) => row.model = Some(e),
                            // Without a model the point still has Yosys' figures when synthesized.
                            Err(e) if options.synthesize => row.notes.push(e),
                            Err(e) => row.errors.push(e),
                        }
                    }
                }
                rows.push(row);
            }
        }
    }
    stats.rows = rows.len();

    let float_accuracy = workloads(sweep, &mut rows, options, &mut stats)?;

    if options.synthesize {
        synthesize(sweep, &mut rows, options, &mut stats, &mut tools);
    }
    if !sweep.flows.is_empty() {
        place_and_route(sweep, &mut rows, options, &mut stats, &mut tools);
    }

    let fronts = fronts(sweep, &rows);
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(Results {
        sweep: sweep.clone(),
        rows,
        fronts,
        tools,
        float_accuracy,
        stats,
    })
}

/// Accuracy and SQNR of one workload job, or why it failed.
type Scored = Result<(Option<f64>, Option<f64>), String>;

/// Every distinct workload job of the sweep, evaluated once on `threads`
/// threads and shared by the rows that need it. The digits classifier is
/// trained only when some job needs it.
fn workloads(
    sweep: &Sweep,
    rows: &mut [Row],
    options: &Options,
    stats: &mut Stats,
) -> Result<BTreeMap<String, f64>, Failure> {
    let mut jobs: Vec<family::Job> = Vec::new();
    let mut job_of_key: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut job_of_point: BTreeMap<(String, usize), usize> = BTreeMap::new();
    for study in &sweep.studies {
        for (i, point) in study.points.iter().enumerate() {
            let Some(job) = point.config.as_ref().ok().and_then(|c| family::job(c, point.steps)) else {
                continue;
            };
            let at = *job_of_key.entry(job.key()).or_insert_with(|| {
                jobs.push(job);
                jobs.len() - 1
            });
            job_of_point.insert((study.name.clone(), i + 1), at);
        }
    }
    let mut float_accuracy = BTreeMap::new();
    if jobs.is_empty() {
        return Ok(float_accuracy);
    }
    let progress = bar(options.progress, jobs.len() as u64, "workloads");
    let digits = if jobs.iter().any(|j| matches!(j, family::Job::Digits(..))) {
        progress.set_message("training the digits classifier");
        Some(Workload::prepare(options.seed, ActCalibration::Max)?)
    } else {
        None
    };
    let spiking = if jobs.iter().any(|j| matches!(j, family::Job::SpikingDigits(..))) {
        progress.set_message("training the digits classifier for the spiking workload");
        Some(crate::accuracy::snn::prepare(options.seed)?)
    } else {
        None
    };
    progress.set_message("scoring");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Scored>>> = Mutex::new(vec![None; jobs.len()]);
    std::thread::scope(|s| {
        for _ in 0..options.threads.clamp(1, jobs.len()) {
            s.spawn(|| {
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(idx) else { break };
                    let r = match job {
                        family::Job::Digits(w, a) => match &digits {
                            Some(workload) => workload
                                .quantize(w, a)
                                .map(|q| {
                                    let r = workload.evaluate(&q);
                                    (Some(r.accuracy()), Some(r.sqnr_logits_db))
                                })
                                .map_err(|e| match e {
                                    Failure::Input(m) | Failure::Run(m) => {
                                        format!("digits workload: {}", m.trim_start_matches("error: "))
                                    }
                                }),
                            None => Err("digits workload: not prepared".into()),
                        },
                        family::Job::HashGridFidelity(p) => Ok(family::hash_grid_fidelity(p)),
                        family::Job::SpikingDigits(budget) => match &spiking {
                            Some(prepared) => crate::accuracy::snn::convert(&prepared.net, prepared.lambdas, *budget)
                                .map(|net| {
                                    let (correct, _) = net.evaluate(&prepared.split.test);
                                    (Some(correct as f64 / prepared.split.test.len() as f64), None)
                                })
                                .map_err(|e| format!("spiking digits workload: {e}")),
                            None => Err("spiking digits workload: not prepared".into()),
                        },
                    };
                    results.lock().unwrap_or_else(|e| e.into_inner())[idx] = Some(r);
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    stats.accuracy_evaluations = jobs.len();
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    for row in rows.iter_mut() {
        let Some(&at) = job_of_point.get(&(row.study.clone(), row.point)) else {
            continue;
        };
        match &results[at] {
            Some(Ok((acc, sqnr))) => {
                row.accuracy = *acc;
                row.sqnr_db = *sqnr;
            }
            Some(Err(e)) => row.errors.push(e.clone()),
            None => row.errors.push("workload: not evaluated".into()),
        }
    }
    for study in &sweep.studies {
        let float = match study.family {
            sweep::Family::MacArray => digits.as_ref().map(|w| w.float_accuracy),
            sweep::Family::SpikingCore => spiking.as_ref().map(|p| p.float_accuracy),
            sweep::Family::HashGrid => None,
        };
        if let Some(f) = float {
            float_accuracy.insert(study.name.clone(), f);
        }
    }
    Ok(float_accuracy)
}

/// Yosys on every valid (point, target), cached; failures are recorded on
/// their rows.
fn synthesize(sweep: &Sweep, rows: &mut [Row], options: &Options, stats: &mut Stats, tools: &mut Vec<String>) {
    match crate::synth::yosys_version(&options.synth.yosys) {
        Ok(v) => tools.push(format!("synthesized with {v}")),
        Err(e) => eprintln!("warning: synthesis is not possible, the sweep goes on with the model only: {e}"),
    }
    let mut jobs = Vec::new();
    let mut job_rows = Vec::new();
    let command = format!("accgen explore {}", sweep.origin);
    let mut designs: BTreeMap<(String, usize), accgen_hdl::Design> = BTreeMap::new();
    for study in &sweep.studies {
        for (i, point) in study.points.iter().enumerate() {
            if let Ok(config) = &point.config {
                designs.insert((study.name.clone(), i + 1), config.design(&command));
            }
        }
    }
    for (r, row) in rows.iter().enumerate() {
        if let Some(design) = designs.get(&(row.study.clone(), row.point)) {
            jobs.push((design.clone(), row.target));
            job_rows.push(r);
        }
    }
    let bar = bar(options.progress, jobs.len() as u64, "synthesis");
    let last = Mutex::new(Progress::default());
    let results = crate::synth::synth_all(&jobs, &options.synth, &|p: &Progress| {
        bar.set_position(p.done as u64);
        bar.set_message(format!(
            "{} cached, {} synthesized, {} failed",
            p.cached, p.synthesized, p.failed
        ));
        *last.lock().unwrap_or_else(|e| e.into_inner()) = *p;
    });
    bar.finish_and_clear();
    let p = last.into_inner().unwrap_or_else(|e| e.into_inner());
    stats.synth_jobs = p.total;
    stats.synth_cached = p.cached;
    stats.synthesized = p.synthesized;
    stats.synth_failed = p.failed;
    for (result, &r) in results.iter().zip(&job_rows) {
        match result {
            Ok(s) => rows[r].synth = Some(Synthesized::of(&s.summary, s.cached, &s.tool)),
            Err(e) => rows[r].errors.push(format!("synthesis: {e}")),
        }
    }
}

/// Place and route every valid point on each flow device (the board
/// wrapper for MAC arrays, as `accgen flow` builds it), `threads` at a time;
/// Fmax lands on the rows of the device's synthesis target. Failures are
/// recorded on those rows.
fn place_and_route(sweep: &Sweep, rows: &mut [Row], options: &Options, stats: &mut Stats, tools: &mut Vec<String>) {
    let mut jobs = Vec::new();
    for study in &sweep.studies {
        for (i, point) in study.points.iter().enumerate() {
            if let Ok(config) = &point.config {
                for &device in &sweep.flows {
                    jobs.push((study.name.clone(), i + 1, config, device));
                }
            }
        }
    }
    let progress = bar(options.progress, jobs.len() as u64, "flows");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<crate::flow::Summary, String>>>> = Mutex::new(vec![None; jobs.len()]);
    std::thread::scope(|s| {
        for _ in 0..options.threads.clamp(1, jobs.len().max(1)) {
            s.spawn(|| {
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some((study, point, config, device)) = jobs.get(idx) else {
                        break;
                    };
                    let folder = options.flow_dir.join(format!("{study}-{point}")).join(device.name);
                    let r =
                        crate::flow::place_and_route(config, *device, &folder, options.synth.timeout).map_err(|e| {
                            match e {
                                Failure::Input(m) | Failure::Run(m) => {
                                    format!("flow on {}: {}", device.name, m.trim_start_matches("error: "))
                                }
                            }
                        });
                    results.lock().unwrap_or_else(|e| e.into_inner())[idx] = Some(r);
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    stats.flows = jobs.len();
    for ((study, point, _, device), result) in jobs.iter().zip(results) {
        let result = result.unwrap_or_else(|| Err("flow: not run".into()));
        if let Ok(summary) = &result
            && let Some(nextpnr) = summary.tools.iter().find(|t| t.contains("nextpnr"))
            && !tools.iter().any(|t| t.ends_with(nextpnr.as_str()))
        {
            tools.push(format!("placed and routed with {nextpnr}"));
        }
        if result.is_err() {
            stats.flows_failed += 1;
        }
        for row in rows
            .iter_mut()
            .filter(|r| &r.study == study && r.point == *point && r.target == device.synth)
        {
            row.flow_device = Some(device.name.to_string());
            match &result {
                Ok(summary) => row.fmax_mhz = Some(summary.fmax_mhz),
                Err(e) => row.errors.push(e.clone()),
            }
        }
    }
}

/// Every requested front, for every study and target where its metrics
/// have values.
pub fn fronts(sweep: &Sweep, rows: &[Row]) -> Vec<Front> {
    let mut out = Vec::new();
    for study in &sweep.studies {
        for &target in &sweep.targets {
            for metrics in &sweep.fronts_for(study) {
                let candidates: Vec<usize> = (0..rows.len())
                    .filter(|&r| rows[r].study == study.name && rows[r].target == target)
                    .filter(|&r| metrics.iter().all(|&m| rows[r].metric(m).is_some()))
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let values: Vec<Vec<f64>> = candidates
                    .iter()
                    .map(|&r| metrics.iter().map(|&m| rows[r].metric(m).unwrap_or(f64::NAN)).collect())
                    .collect();
                let maximize: Vec<bool> = metrics.iter().map(|m| m.maximize()).collect();
                let mut on: Vec<usize> = pareto::front(&values, &maximize)
                    .into_iter()
                    .map(|i| candidates[i])
                    .collect();
                on.sort_by(|&a, &b| {
                    let key = |r: usize| rows[r].metric(metrics[0]).unwrap_or(f64::NAN);
                    key(a).total_cmp(&key(b)).then(a.cmp(&b))
                });
                out.push(Front {
                    study: study.name.clone(),
                    target,
                    metrics: metrics.clone(),
                    rows: on,
                    candidates,
                });
            }
        }
    }
    out
}

/// `accgen explore`.
pub fn run(args: &Args) -> Result<(), Failure> {
    let sweep = match &args.sweep {
        Some(path) => sweep::load(path),
        None => sweep::parse(sweep::DEFAULT_SWEEP, sweep::DEFAULT_SWEEP_NAME),
    }
    .map_err(Failure::Input)?;
    if args.jobs == Some(0) {
        return Err(Failure::Input("error: `--jobs` must be at least 1".into()));
    }
    if args.timeout == 0 {
        return Err(Failure::Input("error: `--timeout` must be at least 1 second".into()));
    }
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = Options {
        synthesize: args.synth || sweep.synthesize,
        threads,
        synth: SynthOptions {
            threads,
            timeout: Duration::from_secs(args.timeout),
            ..SynthOptions::default()
        },
        seed: args.seed,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        flow_dir: PathBuf::new(),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports/explore").join(&sweep.name));
    let options = Options {
        flow_dir: out.join("flows"),
        ..options
    };
    eprintln!(
        "exploring {}: {} points x {} targets{}",
        sweep.origin,
        sweep.points(),
        sweep.targets.len(),
        if options.synthesize {
            ", synthesized"
        } else {
            ", cost model"
        }
    );
    let results = evaluate(&sweep, &options)?;
    let written = report::write(&results, &out).map_err(|e| Failure::Run(format!("error: {e}")))?;
    print!("{}", report::summary(&results));
    println!("wrote {} files to {}", written.len(), out.display());
    let failed: Vec<&Row> = results.rows.iter().filter(|r| !r.errors.is_empty()).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Run(format!(
            "error: {} of {} (point, target) rows had errors; their other figures are in the report, and every \
             other row is complete. First: study `{}` point {} ({}) on {}: {}",
            failed.len(),
            results.rows.len(),
            failed[0].study,
            failed[0].point,
            failed[0].label,
            failed[0].target.name(),
            failed[0].errors.join("; ")
        )))
    }
}

//! Synthesis in the loop: Yosys maps a generated [`Design`] onto an FPGA
//! family or the OSU 0.18 um standard cells and reports cells by type, the
//! summary counts a cost model needs, the tool version and the run time.
//!
//! - [`synthesize`] runs one design on one [`Target`]; [`synth_all`] runs
//!   many on a pool of threads (one Yosys process each) with a time limit
//!   per run and a progress callback; one failure never stops the others.
//! - Results are cached as JSON files named by a hash of the Verilog
//!   (comments aside), the top module, the target, the Yosys version and
//!   script, and for `asic` the liberty file: a repeated request returns the
//!   stored result with `cached: true` and does not run Yosys.
//! - Which cell type counts as what (LUT, FF, carry, DSP, BRAM, LUTRAM, wide
//!   mux) is one table per target family, in `cells.rs`.
//!
//! ```no_run
//! use accgen::synth::{SynthOptions, Target, synthesize};
//! # fn demo(design: &accgen_hdl::Design) -> Result<(), accgen::synth::SynthError> {
//! let r = synthesize(design, "xc7-nodsp".parse()?, &SynthOptions::default())?;
//! println!("{}: {} LUTs, {} FFs, {} CARRY4 ({})", r.target, r.summary.luts, r.summary.ffs, r.summary.carry, r.tool);
//! # Ok(()) }
//! ```

mod cache;
mod cells;
mod command;
mod error;
mod liberty;
mod target;
pub(crate) mod yosys;

pub use cache::cache_root;
pub(crate) use cache::{key as cache_key, without_comments};
pub use cells::{CellClass, Summary, classify};
pub use command::{Args, run};
pub use error::SynthError;
pub use liberty::{DEFAULT_LIBERTY, Liberty, default_liberty};
pub use target::{Family, Target};
pub use yosys::version as yosys_version;

use accgen_hdl::Design;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How synthesis runs.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// The Yosys program (a name looked up on PATH, or a path).
    pub yosys: PathBuf,
    /// The liberty file of the `asic` target.
    pub liberty: PathBuf,
    /// Where results are cached; `None` synthesizes every time and stores nothing.
    pub cache_dir: Option<PathBuf>,
    /// Longest a single Yosys run may take before it is stopped.
    pub timeout: Duration,
    /// Yosys processes at once in [`synth_all`].
    pub threads: usize,
}

/// Ten minutes: far above the seconds a MAC array of a few hundred PEs takes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

impl Default for SynthOptions {
    /// `yosys` on PATH, [`default_liberty`], [`cache_root`], [`DEFAULT_TIMEOUT`],
    /// one thread per available core.
    fn default() -> SynthOptions {
        SynthOptions {
            yosys: PathBuf::from("yosys"),
            liberty: default_liberty(),
            cache_dir: Some(cache_root()),
            timeout: DEFAULT_TIMEOUT,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// One synthesized design on one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthResult {
    pub target: Target,
    /// The top module.
    pub top: String,
    /// `yosys -V`, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`.
    pub tool: String,
    pub summary: Summary,
    /// Every cell type of the flattened netlist and how many there are.
    pub cells: BTreeMap<String, u64>,
    /// Wall-clock seconds Yosys took (when the result was made, if cached).
    pub seconds: f64,
    /// True when the result came from the cache (or from an identical job
    /// of the same [`synth_all`] call) and Yosys did not run for it.
    pub cached: bool,
    /// The cache key (sha256, hex).
    pub key: String,
    /// The Yosys script that made the result; the Verilog files it reads
    /// are the design's, named `<module>.v`.
    pub script: String,
}

/// How far a [`synth_all`] call has come; every field counts jobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    /// Finished, any way.
    pub done: usize,
    /// Answered without running Yosys (the cache, or an identical job).
    pub cached: usize,
    /// Yosys ran and succeeded.
    pub synthesized: usize,
    /// Ended in an error (including time-outs).
    pub failed: usize,
}

/// A run with its script and key worked out.
struct Job<'a> {
    design: &'a Design,
    target: Target,
    tool: String,
    script: String,
    key: String,
    liberty: Option<Liberty>,
}

fn prepare<'a>(
    design: &'a Design,
    target: Target,
    tool: &str,
    liberty: Option<Liberty>,
) -> Result<Job<'a>, SynthError> {
    let script = yosys::script(design, target, liberty.as_ref().map(|l| l.path.as_path()))?;
    let texts: Vec<String> = design.files.iter().map(|f| cache::without_comments(&f.text)).collect();
    let lib_hash = liberty.as_ref().map_or("", |l| l.hash.as_str());
    let mut parts: Vec<&[u8]> = vec![
        target.name().as_bytes(),
        design.top.as_bytes(),
        tool.as_bytes(),
        script.as_bytes(),
        lib_hash.as_bytes(),
    ];
    for (f, text) in design.files.iter().zip(&texts) {
        parts.push(f.module.as_bytes());
        parts.push(text.as_bytes());
    }
    let key = cache::key(parts);
    Ok(Job {
        design,
        target,
        tool: tool.to_string(),
        script,
        key,
        liberty,
    })
}

fn execute(job: &Job<'_>, options: &SynthOptions) -> Result<SynthResult, SynthError> {
    if let Some(hit) = options.cache_dir.as_deref().and_then(|dir| cache::load(dir, &job.key)) {
        return Ok(hit);
    }
    let (target, top) = (job.target, &job.design.top);
    let out = yosys::run(&options.yosys, job.design, target, &job.script, options.timeout)?;
    let bad = |message: String| SynthError::BadOutput {
        target,
        top: top.clone(),
        message,
    };
    let cells = yosys::cells(&out.stat_json, top).map_err(bad)?;
    let area = out
        .stat_text
        .as_deref()
        .map(|t| yosys::area(t, top))
        .transpose()
        .map_err(bad)?;
    let result = SynthResult {
        target,
        top: top.clone(),
        tool: job.tool.clone(),
        summary: Summary::of(target, &cells, job.liberty.as_ref(), area),
        cells,
        // Milliseconds are plenty, and print short in JSON.
        seconds: (out.seconds * 1000.0).round() / 1000.0,
        cached: false,
        key: job.key.clone(),
        script: job.script.clone(),
    };
    if let Some(dir) = &options.cache_dir {
        cache::store(dir, &result)?;
    }
    Ok(result)
}

/// Synthesize `design` for `target`, or return the cached result.
pub fn synthesize(design: &Design, target: Target, options: &SynthOptions) -> Result<SynthResult, SynthError> {
    let tool = yosys::version(&options.yosys)?;
    let liberty = match target {
        Target::Asic => Some(Liberty::load(&options.liberty)?),
        _ => None,
    };
    execute(&prepare(design, target, &tool, liberty)?, options)
}

/// Synthesize every (design, target) job, up to `options.threads` Yosys
/// processes at once; results come back in the order of `jobs`. A job that
/// fails or times out gets its error and the others go on. Identical jobs
/// run once. `progress` is called once at the start and after every
/// finished job (from worker threads, one call at a time).
pub fn synth_all(
    jobs: &[(Design, Target)],
    options: &SynthOptions,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Vec<Result<SynthResult, SynthError>> {
    let mut results: Vec<Option<Result<SynthResult, SynthError>>> = vec![None; jobs.len()];
    let mut state = Progress {
        total: jobs.len(),
        ..Progress::default()
    };
    let tool = yosys::version(&options.yosys);
    let mut liberty: Option<Result<Liberty, SynthError>> = None;
    // Jobs to run, each with the indices of `jobs` it answers.
    let mut unique: Vec<(Job<'_>, Vec<usize>)> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (i, (design, target)) in jobs.iter().enumerate() {
        let prepared = tool.clone().and_then(|tool| {
            let lib = match target {
                Target::Asic => Some(liberty.get_or_insert_with(|| Liberty::load(&options.liberty)).clone()?),
                _ => None,
            };
            prepare(design, *target, &tool, lib)
        });
        match prepared {
            Ok(job) => match by_key.get(&job.key) {
                Some(&u) => unique[u].1.push(i),
                None => {
                    by_key.insert(job.key.clone(), unique.len());
                    unique.push((job, vec![i]));
                }
            },
            Err(e) => {
                results[i] = Some(Err(e));
                state.done += 1;
                state.failed += 1;
            }
        }
    }
    progress(&state);

    let shared = Mutex::new((results, state));
    let next = AtomicUsize::new(0);
    let threads = options.threads.clamp(1, unique.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((job, indices)) = unique.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = execute(job, options);
                    let mut guard = shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    let (results, state) = &mut *guard;
                    let n = indices.len();
                    state.done += n;
                    match &result {
                        Ok(r) if r.cached => state.cached += n,
                        Ok(_) => {
                            state.synthesized += 1;
                            state.cached += n - 1;
                        }
                        Err(_) => state.failed += n,
                    }
                    for &i in &indices[1..] {
                        results[i] = Some(result.clone().map(|r| SynthResult { cached: true, ..r }));
                    }
                    results[indices[0]] = Some(result);
                    progress(state);
                }
            });
        }
    });
    let (results, _) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(SynthError::Io {
                    context: "synthesis".into(),
                    message: "a job was not run: its worker thread stopped".into(),
                })
            })
        })
        .collect()
}

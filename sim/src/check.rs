//! Check mode: stream frames into the harness while it runs on another core,
//! then turn its summary or mismatch report into a `CheckReport` or a
//! `SimError::Mismatch` with a waveform of the replayed failure.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use accgen_hdl::Bits;

use crate::error::{Mismatch, OutputValue, PortValue, SimError};
use crate::frame::{CycleSource, Encoder, Frames};
use crate::harness::{EXIT_MISMATCH, EXIT_OK};
use crate::layout::Layout;
use crate::model::Model;
use crate::tools::{drain, join_drain};

/// Frames are handed to the pipe in batches of about this many bytes: big
/// enough that syscalls are rare, small enough to stay in cache.
const BATCH_BYTES: usize = 256 * 1024;

/// Stderr kept from the harness (design `$display` output lands there).
const STDERR_CAP: usize = 1 << 20;

/// The result of a passing check run.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    pub top: String,
    /// Cycles simulated.
    pub cycles: u64,
    /// Output values compared (one per cared output per cycle); never 0.
    pub compared: u64,
    /// Wall time from starting the harness to its exit, including the
    /// stimulus generation running concurrently on the Rust side.
    pub elapsed: Duration,
    /// Time the harness spent in its read-drive-compare loop.
    pub harness_seconds: f64,
}

impl CheckReport {
    /// Checked cycles per second of wall time (the end-to-end throughput).
    pub fn vectors_per_second(&self) -> f64 {
        per_second(self.cycles, self.elapsed.as_secs_f64())
    }
}

pub(crate) fn per_second(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.vectors_per_second();
        let (rate, unit) = if rate >= 1e6 {
            (rate / 1e6, "M")
        } else {
            (rate / 1e3, "k")
        };
        write!(
            f,
            "`{}`: {} cycles, {} values compared, {rate:.2} {unit} vectors/s",
            self.top, self.cycles, self.compared
        )
    }
}

/// Options of a check run.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// On a mismatch, rebuild with tracing and replay to record a VCD.
    pub waveform_on_mismatch: bool,
    /// Where failure waveforms go; `None` means `<cache root>/failures`.
    pub vcd_dir: Option<PathBuf>,
    /// How many cycles before the failing one the waveform shows (the
    /// replay still simulates from cycle 0, it only dumps the end).
    pub vcd_cycles: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            waveform_on_mismatch: true,
            vcd_dir: None,
            vcd_cycles: 100_000,
        }
    }
}

/// What one harness run in check mode ended with.
enum Outcome {
    Done { cycles: u64, compared: u64, seconds: f64 },
    Mismatch(Box<Mismatch>),
}

struct Run {
    outcome: Outcome,
    elapsed: Duration,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn harness_error(layout: &Layout, message: impl Into<String>, stderr: String) -> SimError {
    SimError::Harness {
        top: layout.top().to_string(),
        message: message.into(),
        stderr,
    }
}

/// Parse the `@accgen mismatch` block the harness prints.
fn parse_mismatch(layout: &Layout, stdout: &str, stderr: &str) -> Result<Mismatch, SimError> {
    let malformed = || {
        harness_error(
            layout,
            format!("malformed mismatch report:\n{stdout}"),
            stderr.to_string(),
        )
    };
    let mut lines = stdout.lines().filter_map(|l| l.strip_prefix("@accgen "));
    let head = lines.find(|l| l.starts_with("mismatch ")).ok_or_else(malformed)?;
    let cycle: u64 = field(head, "cycle")
        .and_then(|c| c.parse().ok())
        .ok_or_else(malformed)?;
    let port = field(head, "port").ok_or_else(malformed)?.to_string();
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["in", name, hex] => {
                let slot = layout.inputs().iter().find(|s| s.name == *name).ok_or_else(malformed)?;
                let value = Bits::from_hex(slot.width, hex).ok_or_else(malformed)?;
                inputs.push(PortValue {
                    name: slot.name.clone(),
                    value,
                    signed: slot.signed,
                });
            }
            ["out", name, status, exp, act] => {
                let slot = layout
                    .outputs()
                    .iter()
                    .find(|s| s.name == *name)
                    .ok_or_else(malformed)?;
                let parse = |w: &str, key: &str| w.strip_prefix(key).and_then(|h| Bits::from_hex(slot.width, h));
                let expected = parse(exp, "expected=").ok_or_else(malformed)?;
                let actual = parse(act, "actual=").ok_or_else(malformed)?;
                outputs.push(OutputValue {
                    name: slot.name.clone(),
                    signed: slot.signed,
                    expected: (*status != "dontcare").then_some(expected),
                    actual,
                    mismatch: *status == "BAD",
                });
            }
            ["end"] => break,
            _ => return Err(malformed()),
        }
    }
    let first = outputs.iter().find(|o| o.name == port).ok_or_else(malformed)?;
    let expected = first.expected.clone().ok_or_else(malformed)?;
    let actual = first.actual.clone();
    Ok(Mismatch {
        top: layout.top().to_string(),
        cycle,
        port,
        expected,
        actual,
        inputs,
        outputs,
        vcd_path: None,
        vcd_note: None,
    })
}

/// Run the harness in check mode on at most `max_cycles` cycles of `source`.
fn run(model: &Model, source: &mut impl CycleSource, args: &[OsString], max_cycles: u64) -> Result<Run, SimError> {
    let layout = model.layout();
    let start = Instant::now();
    let mut child = Command::new(model.binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SimError::io(format!("starting {}", model.binary().display()), e))?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(harness_error(layout, "its pipes could not be opened", String::new()));
    };
    let out_reader = drain(stdout, 1 << 20);
    let err_reader = drain(stderr, STDERR_CAP);

    let mut enc = Encoder::new(layout, BATCH_BYTES);
    let mut write_error = None;
    let mut stopped_early = false;
    loop {
        let more = enc.cycle < max_cycles && enc.step(source);
        if enc.batch.len() >= BATCH_BYTES || (!more && !enc.batch.is_empty()) {
            match stdin.write_all(&enc.batch) {
                Ok(()) => {}
                // The harness stopped reading: it found a mismatch and exited.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    stopped_early = true;
                    break;
                }
                Err(e) => {
                    write_error = Some(e);
                    break;
                }
            }
            enc.batch.clear();
        }
        if !more {
            break;
        }
    }
    drop(stdin); // EOF: the harness prints its summary and exits.
    if enc.error.is_some() || write_error.is_some() {
        let _ = child.kill();
    }
    let status = child.wait();
    let elapsed = start.elapsed();
    let stdout = join_drain(out_reader);
    let stderr = join_drain(err_reader);
    if let Some(e) = enc.error {
        return Err(e);
    }
    if let Some(e) = write_error {
        return Err(SimError::io(
            format!("writing stimulus to the `{}` harness", layout.top()),
            e,
        ));
    }
    let status = status.map_err(|e| SimError::io("waiting for the harness", e))?;
    match status.code() {
        Some(EXIT_OK) => {
            let line = stdout
                .lines()
                .find_map(|l| l.strip_prefix("@accgen done "))
                .ok_or_else(|| harness_error(layout, format!("no summary in its output:\n{stdout}"), stderr.clone()))?;
            let num = |k: &str| field(line, k).and_then(|v| v.parse::<f64>().ok());
            let (Some(cycles), Some(compared), Some(seconds)) = (num("cycles"), num("compared"), num("seconds")) else {
                return Err(harness_error(layout, format!("malformed summary `{line}`"), stderr));
            };
            let (cycles, compared) = (cycles as u64, compared as u64);
            if cycles != enc.cycle || stopped_early {
                return Err(harness_error(
                    layout,
                    format!("it simulated {cycles} cycles but {} were sent", enc.cycle),
                    stderr,
                ));
            }
            Ok(Run {
                outcome: Outcome::Done {
                    cycles,
                    compared,
                    seconds,
                },
                elapsed,
            })
        }
        Some(EXIT_MISMATCH) => Ok(Run {
            outcome: Outcome::Mismatch(Box::new(parse_mismatch(layout, &stdout, &stderr)?)),
            elapsed,
        }),
        code => Err(harness_error(
            layout,
            match code {
                Some(c) => format!("exited with status {c}\n{}", stdout.trim_end()),
                None => "was killed by a signal (crashed?)".to_string(),
            },
            stderr,
        )),
    }
}

impl Model {
    /// Check the design against the expectations of a stimulus source.
    ///
    /// `make_source` is called once for the run, and once more after a
    /// mismatch to replay the same cycles into a traced model: the source
    /// must be deterministic. A run that compares nothing is an error.
    pub fn check<S: CycleSource>(&self, make_source: impl FnMut() -> S) -> Result<CheckReport, SimError> {
        self.check_with(&CheckOptions::default(), make_source)
    }

    /// [`Model::check`] on recorded frames.
    pub fn check_frames(&self, frames: &Frames) -> Result<CheckReport, SimError> {
        self.ensure_layout(frames)?;
        self.check(|| frames.source())
    }

    pub(crate) fn ensure_layout(&self, frames: &Frames) -> Result<(), SimError> {
        if frames.layout() != self.layout() {
            return Err(SimError::LayoutMismatch {
                expected_top: self.layout().top().to_string(),
                found_top: frames.layout().top().to_string(),
            });
        }
        Ok(())
    }

    /// [`Model::check`] with options.
    pub fn check_with<S: CycleSource>(
        &self,
        options: &CheckOptions,
        mut make_source: impl FnMut() -> S,
    ) -> Result<CheckReport, SimError> {
        let mut source = make_source();
        let run = run(self, &mut source, &[], u64::MAX)?;
        drop(source);
        match run.outcome {
            Outcome::Done {
                cycles,
                compared,
                seconds,
            } => {
                if compared == 0 {
                    return Err(SimError::NothingCompared {
                        top: self.layout().top().to_string(),
                        cycles,
                    });
                }
                Ok(CheckReport {
                    top: self.layout().top().to_string(),
                    cycles,
                    compared,
                    elapsed: run.elapsed,
                    harness_seconds: seconds,
                })
            }
            Outcome::Mismatch(mut m) => {
                if options.waveform_on_mismatch {
                    match self.record_failure(options, &mut make_source, m.cycle) {
                        Ok((path, note)) => {
                            m.vcd_path = Some(path);
                            m.vcd_note = note;
                        }
                        Err(e) => m.vcd_note = Some(format!("recording the waveform failed: {e}")),
                    }
                }
                Err(SimError::Mismatch(m))
            }
        }
    }

    /// Replay cycles `0..=cycle` into the traced model and keep its VCD.
    fn record_failure<S: CycleSource>(
        &self,
        options: &CheckOptions,
        make_source: &mut impl FnMut() -> S,
        cycle: u64,
    ) -> Result<(PathBuf, Option<String>), SimError> {
        let traced = self.traced()?;
        let dir = options.vcd_dir.clone().unwrap_or_else(|| self.root.join("failures"));
        fs::create_dir_all(&dir).map_err(|e| SimError::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(format!("{}_cycle{cycle}.vcd", self.layout().top()));
        // Written under a private name and renamed, so two failing runs of
        // the same design never interleave one file.
        let tmp = private_path(&path);
        let from = cycle.saturating_sub(options.vcd_cycles);
        let args = [
            OsString::from("--vcd"),
            tmp.clone().into_os_string(),
            OsString::from("--vcd-from-cycle"),
            OsString::from(from.to_string()),
        ];
        let mut source = make_source();
        let replay = run(&traced, &mut source, &args, cycle + 1);
        let note = match replay {
            Ok(Run {
                outcome: Outcome::Mismatch(r),
                ..
            }) if r.cycle == cycle => None,
            Ok(Run {
                outcome: Outcome::Mismatch(r),
                ..
            }) => Some(format!(
                "the replay failed in cycle {} instead: is the CycleSource deterministic?",
                r.cycle
            )),
            Ok(_) => Some("the replay did not reproduce the mismatch: is the CycleSource deterministic?".into()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, &path).map_err(|e| SimError::io(format!("moving {} into place", tmp.display()), e))?;
        let note = match (note, from) {
            (n, 0) => n,
            (None, f) => Some(format!("the waveform starts at cycle {f}")),
            (Some(n), f) => Some(format!("{n}; the waveform starts at cycle {f}")),
        };
        Ok((path, note))
    }
}

pub(crate) fn private_path(path: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(format!(".{}-{n}.tmp", std::process::id()));
    path.with_file_name(name)
}

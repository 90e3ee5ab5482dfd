//! Throughput: checked vectors/s through the Rust driver next to what a
//! plain C++ loop reaches driving the same model with the same vectors.

use std::fmt;
use std::fs;
use std::process::Command;

use crate::check::{CheckReport, per_second, private_path};
use crate::error::SimError;
use crate::frame::{CycleSource, Frames};
use crate::model::Model;
use crate::tools::run_tool;

/// The raw baseline: the harness's own loop over frames in memory, applying
/// inputs and clocking exactly like check mode, with no comparison and no I/O.
#[derive(Clone, Debug, PartialEq)]
pub struct RawReport {
    pub cycles: u64,
    pub seconds: f64,
}

impl RawReport {
    pub fn cycles_per_second(&self) -> f64 {
        per_second(self.cycles, self.seconds)
    }
}

/// Checked and raw throughput of one model on the same stimulus.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    pub check: CheckReport,
    pub raw: RawReport,
}

impl Throughput {
    /// Checked throughput as a fraction of the raw C++ loop's.
    pub fn ratio(&self) -> f64 {
        let raw = self.raw.cycles_per_second();
        if raw > 0.0 {
            self.check.vectors_per_second() / raw
        } else {
            0.0
        }
    }
}

impl fmt::Display for Throughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: checked {:.2} M vectors/s ({} cycles, {} values compared; harness loop \
             {:.2} M/s), raw C++ loop {:.2} M cycles/s ({} cycles): checked = {:.0}% of raw",
            self.check.top,
            self.check.vectors_per_second() / 1e6,
            self.check.cycles,
            self.check.compared,
            per_second(self.check.cycles, self.check.harness_seconds) / 1e6,
            self.raw.cycles_per_second() / 1e6,
            self.raw.cycles,
            100.0 * self.ratio()
        )
    }
}

/// At most this much stimulus is held in memory for the raw baseline.
const RAW_MAX_BYTES: usize = 64 << 20;

impl Model {
    /// Run the harness's raw loop over `frames`, `repeat` times.
    pub fn raw_benchmark(&self, frames: &Frames, repeat: u32) -> Result<RawReport, SimError> {
        self.ensure_layout(frames)?;
        let dir = self.cache_root().join("bench");
        fs::create_dir_all(&dir).map_err(|e| SimError::io(format!("creating {}", dir.display()), e))?;
        let file = private_path(&dir.join(format!("{}.frames", self.layout().top())));
        fs::write(&file, frames.as_bytes()).map_err(|e| SimError::io(format!("writing {}", file.display()), e))?;
        let mut cmd = Command::new(self.binary());
        cmd.arg("--raw")
            .arg(&file)
            .arg("--repeat")
            .arg(repeat.max(1).to_string());
        let out = run_tool(&mut cmd, "the raw benchmark harness", "", None);
        let _ = fs::remove_file(&file);
        let out = out?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("@accgen raw "))
            .unwrap_or("");
        let num = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k)?.strip_prefix('=')?.parse::<f64>().ok())
        };
        match (num("cycles"), num("seconds")) {
            (Some(c), Some(s)) => Ok(RawReport {
                cycles: c as u64,
                seconds: s,
            }),
            _ => Err(SimError::Harness {
                top: self.layout().top().to_string(),
                message: format!("no raw benchmark summary in its output:\n{stdout}"),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
        }
    }

    /// Measure checked vectors/s on the live source (stimulus generation
    /// and golden model included, running on the Rust side concurrently
    /// with the harness), then the raw C++ loop on the same vectors
    /// (recorded from a fresh source, at most 64 MiB of frames, repeated to
    /// about as many cycles as the checked run).
    pub fn throughput<S: CycleSource>(&self, mut make_source: impl FnMut() -> S) -> Result<Throughput, SimError> {
        let check = self.check(&mut make_source)?;
        let max_frames = (RAW_MAX_BYTES / self.layout().frame_bytes()).max(1) as u64;
        let frames = Frames::record_at_most(self.layout(), make_source(), max_frames.min(check.cycles))?;
        let repeat = check
            .cycles
            .div_ceil(frames.len().max(1) as u64)
            .clamp(1, u32::MAX as u64) as u32;
        let raw = self.raw_benchmark(&frames, repeat)?;
        Ok(Throughput { check, raw })
    }
}

//! Everything that can go wrong in a synthesis run, each with a message that
//! says what happened and what to do about it.

use super::Target;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub enum SynthError {
    /// A target name that is not one of [`Target::ALL`].
    UnknownTarget { name: String },
    /// Yosys could not be started.
    ToolMissing { program: PathBuf, message: String },
    /// The cell library for `asic` is not there.
    LibertyMissing { path: PathBuf, message: String },
    /// The design cannot be handed to Yosys as it is (no files, a top that is
    /// not among them, a module name that is not a plain identifier).
    BadDesign { top: String, message: String },
    /// Yosys ran and failed.
    Failed {
        target: Target,
        top: String,
        status: String,
        /// The last lines of Yosys' log.
        log_tail: String,
        /// The folder with the Verilog, the script and the full log, kept for debugging.
        work_dir: PathBuf,
    },
    /// Yosys ran longer than allowed and was stopped.
    Timeout {
        target: Target,
        top: String,
        /// The time limit.
        seconds: f64,
        work_dir: PathBuf,
    },
    /// Yosys finished but its statistics could not be read.
    BadOutput {
        target: Target,
        top: String,
        message: String,
    },
    /// A file-system operation failed.
    Io { context: String, message: String },
}

impl SynthError {
    pub(crate) fn io(context: impl Into<String>, e: std::io::Error) -> SynthError {
        SynthError::Io {
            context: context.into(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SynthError::UnknownTarget { name } => write!(
                f,
                "unknown synthesis target `{name}`: the targets are {}",
                Target::names()
            ),
            SynthError::ToolMissing { program, message } => write!(
                f,
                "cannot run {}: {message}. Install Yosys with `apt-get install yosys` (Debian 12 has Yosys 0.23)",
                program.display()
            ),
            SynthError::LibertyMissing { path, message } => write!(
                f,
                "the asic target needs the OSU 0.18 um cell library {}: {message}. Install it with \
                 `apt-get install qflow-tech-osu018`, or set ACCGEN_LIBERTY to another liberty file",
                path.display()
            ),
            SynthError::BadDesign { top, message } => write!(f, "cannot synthesize {top}: {message}"),
            SynthError::Failed {
                target,
                top,
                status,
                log_tail,
                work_dir,
            } => write!(
                f,
                "yosys failed on {top} for {target} ({status}); the script, the Verilog and the full log are in {}. \
                 The log ends:\n{log_tail}",
                work_dir.display()
            ),
            SynthError::Timeout {
                target,
                top,
                seconds,
                work_dir,
            } => write!(
                f,
                "yosys on {top} for {target} was stopped at the time limit of {seconds} s; \
                 its files are in {}",
                work_dir.display()
            ),
            SynthError::BadOutput { target, top, message } => {
                write!(f, "cannot read yosys' statistics for {top} on {target}: {message}")
            }
            SynthError::Io { context, message } => write!(f, "{context}: {message}"),
        }
    }
}

impl std::error::Error for SynthError {}

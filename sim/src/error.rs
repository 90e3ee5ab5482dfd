//! Everything that can go wrong in a co-simulation, each with a message that
//! says what happened and what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

use accgen_hdl::Bits;

#[derive(Debug)]
pub enum SimError {
    /// An external program (Verilator, make, Icarus) could not be started.
    ToolMissing {
        tool: String,
        /// The command that was tried (a configured path or a name looked up on PATH).
        program: PathBuf,
        /// How to install it.
        install: &'static str,
    },
    /// The tool exists but is too old for the generated harness.
    ToolTooOld {
        tool: String,
        version: String,
        need: &'static str,
    },
    /// A tool ran and failed (Verilator rejecting the design, the C++ build
    /// failing, iverilog rejecting the test bench).
    ToolFailed {
        tool: String,
        command: String,
        status: Option<i32>,
        /// The tool's own diagnostics (stderr, and stdout where it prints them).
        output: String,
        /// Where the full log was kept, if anywhere.
        log: Option<PathBuf>,
    },
    /// A file-system or pipe operation failed.
    Io { context: String, source: io::Error },
    /// The design cannot be simulated as described (zero-width port, clock
    /// that is not a 1-bit input, duplicate or unsupported port names).
    BadDesign { top: String, message: String },
    /// A port name that the design does not have.
    UnknownPort {
        name: String,
        /// "input" or "output".
        kind: &'static str,
        available: Vec<String>,
    },
    /// A value that does not fit its port (or a port id from another layout).
    BadValue {
        port: String,
        cycle: Option<u64>,
        message: String,
    },
    /// Frames recorded for one design were given to another.
    LayoutMismatch { expected_top: String, found_top: String },
    /// The run finished but compared no output value: it proved nothing.
    NothingCompared { top: String, cycles: u64 },
    /// A cared output differed from its expectation.
    Mismatch(Box<Mismatch>),
    /// The simulation harness misbehaved (crashed, protocol error).
    Harness {
        top: String,
        message: String,
        stderr: String,
    },
    /// The operation needs a clocked design.
    NoClock { top: String },
    /// A test bench ran in another simulator and did not pass.
    TestbenchFailed {
        simulator: &'static str,
        top: String,
        message: String,
        log: String,
    },
}

/// The first failing cycle of a check run, with everything needed to debug it.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub top: String,
    /// Index of the failing cycle (0-based, counting every frame sent).
    pub cycle: u64,
    /// The first output that differed.
    pub port: String,
    /// Expected value of `port`.
    pub expected: Bits,
    /// Actual value of `port`.
    pub actual: Bits,
    /// Every driven input in that cycle.
    pub inputs: Vec<PortValue>,
    /// Every output in that cycle.
    pub outputs: Vec<OutputValue>,
    /// The waveform of the replayed run up to and including the failing cycle.
    pub vcd_path: Option<PathBuf>,
    /// Why there is no waveform, or what was odd about the replay.
    pub vcd_note: Option<String>,
}

/// One input in a mismatch report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortValue {
    pub name: String,
    pub value: Bits,
    pub signed: bool,
}

/// One output in a mismatch report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputValue {
    pub name: String,
    pub signed: bool,
    /// `None` when the output was not compared in that cycle.
    pub expected: Option<Bits>,
    pub actual: Bits,
    pub mismatch: bool,
}

impl SimError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> SimError {
        SimError::Io {
            context: context.into(),
            source,
        }
    }

    /// The mismatch report, when this error is one.
    pub fn mismatch(&self) -> Option<&Mismatch> {
        match self {
            SimError::Mismatch(m) => Some(m),
            _ => None,
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::ToolMissing { tool, program, install } => write!(
                f,
                "{tool} was not found (tried to run `{}`). {install}",
                program.display()
            ),
            SimError::ToolTooOld { tool, version, need } => {
                write!(f, "{tool} is too old: found `{version}`, need {need}")
            }
            SimError::ToolFailed {
                tool,
                command,
                status,
                output,
                log,
            } => {
                let status = status.map_or("a signal".to_string(), |s| format!("status {s}"));
                writeln!(f, "{tool} failed with {status}")?;
                writeln!(f, "command: {command}")?;
                if let Some(log) = log {
                    writeln!(f, "full log: {}", log.display())?;
                }
                write!(f, "{}", output.trim_end())
            }
            SimError::Io { context, source } => write!(f, "{context}: {source}"),
            SimError::BadDesign { top, message } => {
                write!(f, "design `{top}` cannot be simulated: {message}")
            }
            SimError::UnknownPort { name, kind, available } => write!(
                f,
                "no {kind} port named `{name}`; the {kind}s are: {}",
                if available.is_empty() {
                    "(none)".to_string()
                } else {
                    available.join(", ")
                }
            ),
            SimError::BadValue { port, cycle, message } => match cycle {
                Some(c) => write!(f, "cycle {c}: port `{port}`: {message}"),
                None => write!(f, "port `{port}`: {message}"),
            },
            SimError::LayoutMismatch {
                expected_top,
                found_top,
            } => write!(
                f,
                "frames were recorded for a different port layout (design `{found_top}`) than \
                 this model's (design `{expected_top}`); record them with this model's layout"
            ),
            SimError::NothingCompared { top, cycles } => write!(
                f,
                "`{top}`: the run of {cycles} cycles compared no output value, so it proves \
                 nothing; set expectations with Frame::expect_* in at least one cycle"
            ),
            SimError::Mismatch(m) => write!(f, "{m}"),
            SimError::Harness { top, message, stderr } => {
                write!(f, "simulation harness of `{top}`: {message}")?;
                if !stderr.trim().is_empty() {
                    write!(f, "\nits stderr:\n{}", stderr.trim_end())?;
                }
                Ok(())
            }
            SimError::NoClock { top } => write!(
                f,
                "`{top}` has no clock (Design::clock is None), so it cannot be ticked; use eval()"
            ),
            SimError::TestbenchFailed {
                simulator,
                top,
                message,
                log,
            } => write!(
                f,
                "{simulator} test bench of `{top}` failed: {message}\n{}",
                log.trim_end()
            ),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signed = self.outputs.iter().any(|o| o.name == self.port && o.signed);
        writeln!(
            f,
            "`{}`: output `{}` mismatched in cycle {}: expected {}, got {}",
            self.top,
            self.port,
            self.cycle,
            show(&self.expected, signed),
            show(&self.actual, signed)
        )?;
        let name_width = self
            .inputs
            .iter()
            .map(|i| i.name.len())
            .chain(self.outputs.iter().map(|o| o.name.len()))
            .max()
            .unwrap_or(0);
        writeln!(f, "  inputs in cycle {}:", self.cycle)?;
        if self.inputs.is_empty() {
            writeln!(f, "    (none)")?;
        }
        for i in &self.inputs {
            writeln!(f, "    {:<name_width$}  {}", i.name, show(&i.value, i.signed))?;
        }
        writeln!(f, "  outputs (before the clock edge of that cycle):")?;
        for o in &self.outputs {
            let actual = show(&o.actual, o.signed);
            match &o.expected {
                Some(e) => writeln!(
                    f,
                    "    {:<name_width$}  expected {}, actual {actual}{}",
                    o.name,
                    show(e, o.signed),
                    if o.mismatch { "   <-- MISMATCH" } else { "" }
                )?,
                None => writeln!(f, "    {:<name_width$}  (not compared), actual {actual}", o.name)?,
            }
        }
        match (&self.vcd_path, &self.vcd_note) {
            (Some(p), note) => {
                write!(f, "  waveform of cycles 0..={}: {}", self.cycle, p.display())?;
                if let Some(n) = note {
                    write!(f, "\n  note: {n}")?;
                }
            }
            (None, Some(n)) => write!(f, "  no waveform: {n}")?,
            (None, None) => write!(f, "  no waveform was requested")?,
        }
        Ok(())
    }
}

/// `9'h18c (396)`: hex as Verilog writes it, and the decimal value (signed
/// for signed ports) when it fits 128 bits.
fn show(v: &Bits, signed: bool) -> String {
    match (v.width() <= 128, signed) {
        (true, true) => format!("{v} ({})", v.to_i128()),
        (true, false) => format!("{v} ({})", v.to_u128()),
        (false, _) => v.to_string(),
    }
}

impl std::error::Error for SimError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SimError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

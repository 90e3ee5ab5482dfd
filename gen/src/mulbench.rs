//! `accgen bench --multipliers`: the LUT multipliers against a plain `*`,
//! synthesized with Yosys on every LUT target at 2..8 bits, signed and
//! unsigned, written as a Markdown table and a CSV.

use crate::Failure;
use crate::synth::{SynthOptions, Target, synth_all};
use accgen_hdl::Design;
use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::ir::{ModuleBuilder, ModuleDoc, Ty, drive, sink};
use accgen_hdl::mac::{MulImpl, mul};
use accgen_hdl::params::IntFormat;
use std::fmt::Write as _;
use std::path::Path;

/// The targets of the table: every FPGA family without DSP blocks, and the cell library.
pub const TARGETS: [Target; 4] = [
    Target::Xc7 { dsp: false },
    Target::Ice40 { dsp: false },
    Target::Ecp5 { dsp: false },
    Target::Asic,
];

/// The structures compared; the first is the baseline.
pub const STRUCTURES: [MulImpl; 5] = [
    MulImpl::Dsp,
    MulImpl::Lut,
    MulImpl::Lut4,
    MulImpl::Booth,
    MulImpl::BoothTree,
];

/// The command that writes the table, quoted in it.
pub const COMMAND: &str = "cargo run --release -- bench --multipliers";

/// A lone multiplier as a design of its own.
pub fn design(bits: u32, signed: bool, imp: MulImpl) -> Design {
    let f = IntFormat { bits, signed };
    let prov = Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "none".into(),
        command: format!("accgen bench --multipliers ({f} x {f}, {})", imp.tag()),
    };
    Design::assemble(&mul::multiplier(f, f, imp), &prov)
}

/// One measured cell of the table.
struct Row {
    target: Target,
    bits: u32,
    signed: bool,
    imp: MulImpl,
    luts: u64,
    carry: u64,
    wide_muxes: u64,
    area_um2: Option<f64>,
}

impl Row {
    /// LUTs on an FPGA, cell area on the ASIC target.
    fn size(&self) -> f64 {
        self.area_um2.unwrap_or(self.luts as f64)
    }
}

/// Synthesize every multiplier on every target (cached) and write
/// `README.md` and `multipliers.csv` to `out`.
pub fn run(out: &Path) -> Result<(), Failure> {
    let mut jobs = Vec::new();
    let mut keys = Vec::new();
    for target in TARGETS {
        for signed in [false, true] {
            for bits in 2..=8 {
                for imp in STRUCTURES {
                    jobs.push((design(bits, signed, imp), target));
                    keys.push((target, bits, signed, imp));
                }
            }
        }
    }
    let options = SynthOptions::default();
    eprintln!(
        "synthesizing {} multipliers (cached in {})",
        jobs.len(),
        crate::synth::cache_root().display()
    );
    let results = synth_all(&jobs, &options, &|p| {
        if p.done == p.total || p.done % 20 == 0 {
            eprintln!("  {}/{} ({} cached, {} failed)", p.done, p.total, p.cached, p.failed);
        }
    });
    let mut rows = Vec::new();
    let mut tool = String::new();
    for ((target, bits, signed, imp), r) in keys.into_iter().zip(results) {
        let r = r.map_err(|e| Failure::Run(format!("error: {e}")))?;
        tool = r.tool.clone();
        rows.push(Row {
            target,
            bits,
            signed,
            imp,
            luts: r.summary.luts,
            carry: r.summary.carry,
            wide_muxes: r.summary.wide_muxes,
            area_um2: r.summary.area_um2,
        });
    }
    std::fs::create_dir_all(out).map_err(|e| Failure::Run(format!("error: creating {}: {e}", out.display())))?;
    let write = |name: &str, text: &str| {
        crate::output::write_atomic(&out.join(name), text.as_bytes())
            .map_err(|e| Failure::Run(format!("error: writing {name}: {e}")))
    };
    eprintln!("placing and routing the 8-bit multipliers between registers (nextpnr) for Fmax");
    let fmax = fmax_all();
    write("multipliers.csv", &csv(&rows))?;
    write("fmax.csv", &fmax_csv(&fmax))?;
    write("README.md", &(markdown(&rows, &tool) + &fmax_markdown(&fmax, &rows)))?;
    println!("{}", summary_8bit(&rows));
    println!("wrote {}/README.md and multipliers.csv", out.display());
    Ok(())
}

fn baseline<'a>(rows: &'a [Row], r: &Row) -> Option<&'a Row> {
    rows.iter()
        .find(|b| b.target == r.target && b.bits == r.bits && b.signed == r.signed && b.imp == MulImpl::Dsp)
}

fn ratio(rows: &[Row], r: &Row) -> f64 {
    baseline(rows, r).map_or(f64::NAN, |b| r.size() / b.size())
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from("target,bits,signed,structure,luts,carry,wide_muxes,area_um2,ratio_to_plain\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{:.3}",
            r.target,
            r.bits,
            r.signed,
            r.imp.tag(),
            r.luts,
            r.carry,
            r.wide_muxes,
            r.area_um2.map_or(String::new(), |a| format!("{a:.0}")),
            ratio(rows, r)
        );
    }
    s
}

/// A cell `luts + carry + muxes (ratio)`, or the area on the ASIC target.
fn cell(rows: &[Row], r: &Row) -> String {
    let ratio = ratio(rows, r);
    let ratio = if r.imp == MulImpl::Dsp {
        String::new()
    } else {
        format!(" ({ratio:.2}x)")
    };
    match r.area_um2 {
        Some(a) => format!("{a:.0} um^2{ratio}"),
        None => {
            let mut c = format!("{}", r.luts);
            if r.carry > 0 {
                let _ = write!(c, " + {}c", r.carry);
            }
            if r.wide_muxes > 0 {
                let _ = write!(c, " + {}m", r.wide_muxes);
            }
            c + &ratio
        }
    }
}

fn markdown(rows: &[Row], tool: &str) -> String {
    let mut s = String::from("# LUT multipliers against a plain `*`\n\n");
    let _ = writeln!(
        s,
        "Written by `{COMMAND}` with {tool}. Each entry is one combinational `a x b` multiplier synthesized alone (`accgen::synth`, the same scripts as `accgen synth`): LUTs + carry cells (`c`: CARRY4, SB_CARRY, CCU2C) + wide muxes (`m`: MUXF7/F8, PFUMX, L6MUX21), and in brackets the ratio of LUTs to the plain `*` on the same target (cell area on `asic`, OSU 0.18 um). `dsp` is the plain `*` (what synthesis infers), `lut` the carry-chain rows gated before the adder (for LUT6 and ECP5), `lut4` the rows gated after the adder with each row adder kept as its own module (for iCE40; unsigned 8 x 8 covers three bits of each half of b with two rows of four-input bits in one adder and the fourth with a gated row, so three adder levels instead of five), `booth` radix-4 Booth rows, one LUT6 per row bit (for Xilinx), `booth_tree` radix-4 Booth rows generated in LUTs and summed in a balanced tree of two-input adders, the fewest carry chains on any path (for ECP5 and iCE40 speed; unsigned 8 x 8 splits off b's low bit, so four rows in two adder levels instead of five in three). Every other LUT structure sums its rows in short chains and the chains in a balanced adder tree. Signed means both operands signed. The CSV beside this file has every figure.\n"
    );
    for target in TARGETS {
        let _ = writeln!(s, "## {target}\n");
        s += &header(&["bits", "signed"], &[]);
        for signed in [false, true] {
            for bits in 2..=8 {
                let find = |imp| {
                    rows.iter()
                        .find(|r| r.target == target && r.bits == bits && r.signed == signed && r.imp == imp)
                };
                let cells: Vec<String> = STRUCTURES
                    .iter()
                    .map(|&imp| find(imp).map_or("-".into(), |r| cell(rows, r)))
                    .collect();
                let _ = writeln!(
                    s,
                    "| {bits} | {} | {} |",
                    if signed { "yes" } else { "no" },
                    cells.join(" | ")
                );
            }
        }
        s.push('\n');
    }
    s += "## 8 bits, best accgen structure per target\n\n";
    s += &summary_8bit(rows);
    s.push('\n');
    s
}

/// The 8-bit rows: plain `*`, the best LUT structure and the ratio.
fn summary_8bit(rows: &[Row]) -> String {
    let mut s = header(&["target", "8x8"], &["best ratio"]);
    for target in TARGETS {
        for signed in [false, true] {
            let find = |imp| {
                rows.iter()
                    .find(|r| r.target == target && r.bits == 8 && r.signed == signed && r.imp == imp)
            };
            let found: Vec<&Row> = STRUCTURES.iter().filter_map(|&imp| find(imp)).collect();
            if found.len() != STRUCTURES.len() {
                continue;
            }
            let best = found
                .iter()
                .filter(|r| r.imp != MulImpl::Dsp)
                .map(|r| ratio(rows, r))
                .fold(f64::INFINITY, f64::min);
            let cells: Vec<String> = found.iter().map(|r| cell(rows, r)).collect();
            let _ = writeln!(
                s,
                "| {target} | {} | {} | {best:.2}x |",
                if signed { "signed" } else { "unsigned" },
                cells.join(" | ")
            );
        }
    }
    s
}

/// A Markdown table header: the `lead` columns, one per structure, then `trail`.
fn header(lead: &[&str], trail: &[&str]) -> String {
    let mut cols: Vec<String> = lead.iter().map(|c| c.to_string()).collect();
    cols.extend(STRUCTURES.iter().map(|imp| match imp {
        MulImpl::Dsp => "dsp (plain `*`)".to_string(),
        _ => imp.tag().to_string(),
    }));
    cols.extend(trail.iter().map(|c| c.to_string()));
    format!("| {} |\n|{}\n", cols.join(" | "), "---|".repeat(cols.len()))
}

/// The 8 x 8 multiplier between input and output registers, so nextpnr
/// times the multiplier alone (register to register).
pub fn registered(signed: bool, imp: MulImpl) -> Design {
    let f = IntFormat { bits: 8, signed };
    let mut modules = mul::multiplier(f, f, imp);
    let mult = modules
        .last()
        .cloned()
        .unwrap_or_else(|| unreachable!("the multiplier is last"));
    let mut m = ModuleBuilder::new(
        format!("accgen_mulreg_{}_{}x{}", imp.tag(), f.tag(), f.tag()),
        ModuleDoc {
            title: format!("{f} x {f} {} multiplier between registers, for Fmax", imp.tag()),
            description: vec![],
            params: vec![],
            timing: vec!["p_o two cycles after a_i, b_i.".into()],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let a = m.input("a_i", Ty::new(8, signed), "first operand");
    let b = m.input("b_i", Ty::new(8, signed), "second operand");
    let p = m.output("p_o", Ty::new(16, signed), "registered product");
    let a_q = m.reg("a_q", 8, signed, "registered a_i");
    let b_q = m.reg("b_q", 8, signed, "registered b_i");
    let p_q = m.reg("p_q", 16, signed, "registered product");
    let prod = m.wire("prod", 16, signed, "the product");
    m.instance(
        &mult,
        "u_mul",
        vec![("a_i", drive(&a_q)), ("b_i", drive(&b_q)), ("p_o", sink(&prod))],
    );
    m.process(&clk, |pr| {
        pr.set(&a_q, &a);
        pr.set(&b_q, &b);
        pr.set(&p_q, &prod);
    });
    m.assign(&p, &p_q);
    modules.push(m.finish());
    let prov = Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "none".into(),
        command: "accgen bench --multipliers".into(),
    };
    Design::assemble(&modules, &prov)
}

/// Place-and-route devices and the LUT table's target each is synthesized
/// for (its `synth_commands`, so the Fmax netlist is the one the LUT table
/// counts): an iCE40 without DSPs and an ECP5 with `synth_ecp5 -nowidelut -nodsp`.
const FMAX_FLOWS: [(&str, Target, &str, &[&str]); 2] = [
    (
        "ice40-hx8k",
        Target::Ice40 { dsp: false },
        "nextpnr-ice40",
        &["--hx8k", "--package", "ct256"],
    ),
    (
        "ecp5-25k",
        Target::Ecp5 { dsp: false },
        "nextpnr-ecp5",
        &["--25k", "--package", "CABGA256"],
    ),
];

/// nextpnr seeds of every Fmax figure, the same for every structure: one
/// placement varies by about 5 %, more than some of the differences measured.
pub const FMAX_SEEDS: [u32; 5] = [1, 2, 3, 4, 5];

struct Fmax {
    device: &'static str,
    signed: bool,
    imp: MulImpl,
    /// MHz per seed of [`FMAX_SEEDS`], or why there is none.
    mhz: Result<Vec<f64>, String>,
}

/// The median of `values` (the mean of the middle two of an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let k = v.len() / 2;
    if v.len() % 2 == 1 {
        v[k]
    } else {
        (v[k - 1] + v[k]) / 2.0
    }
}

fn best(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The nextpnr program for `name`: on PATH, or its YoWASP build.
fn nextpnr(name: &str) -> Option<String> {
    [name.to_string(), format!("yowasp-{name}")].into_iter().find(|p| {
        std::process::Command::new(p)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok()
    })
}

/// The first line `program flag` prints (its version), or "".
fn version(program: &str, flag: &str) -> String {
    std::process::Command::new(program)
        .arg(flag)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}

/// [`fmax_place`] through a cache beside the synthesis cache: a figure is
/// kept per design text (comments aside), flow, tool versions and seed, so
/// re-running the bench only places what changed.
fn fmax_one(design: &Design, synth: &str, pnr: &str, args: &[&str], dir: &Path) -> Result<Vec<f64>, String> {
    let cache = crate::synth::cache_root().join("fmax");
    let tools = format!("{} / {}", version("yosys", "-V"), version(pnr, "--version"));
    let texts: Vec<String> = design
        .files
        .iter()
        .map(|f| crate::synth::without_comments(&f.text))
        .collect();
    let key = |seed: u32| {
        let seed = seed.to_string();
        let joined = args.join(" ");
        let mut parts: Vec<&[u8]> = vec![
            b"fmax",
            design.top.as_bytes(),
            synth.as_bytes(),
            pnr.as_bytes(),
            joined.as_bytes(),
            tools.as_bytes(),
            seed.as_bytes(),
        ];
        parts.extend(texts.iter().map(|t| t.as_bytes()));
        cache.join(crate::synth::cache_key(parts))
    };
    let cached: Option<Vec<f64>> = FMAX_SEEDS
        .iter()
        .map(|&s| std::fs::read_to_string(key(s)).ok()?.trim().parse().ok())
        .collect();
    if let Some(hit) = cached {
        return Ok(hit);
    }
    let mhz = fmax_place(design, synth, pnr, args, dir)?;
    // A cache that cannot be written only costs the next run its time.
    let _ = std::fs::create_dir_all(&cache);
    for (&s, f) in FMAX_SEEDS.iter().zip(&mhz) {
        let _ = std::fs::write(key(s), format!("{f}\n"));
    }
    Ok(mhz)
}

/// Synthesizes `design` once (`synth`: the Yosys commands after reading
/// it) and places and routes it with every seed of
/// [`FMAX_SEEDS`]; returns the achieved MHz per seed.
fn fmax_place(design: &Design, synth: &str, pnr: &str, args: &[&str], dir: &Path) -> Result<Vec<f64>, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut reads = String::new();
    for f in &design.files {
        std::fs::write(dir.join(f.file_name()), &f.text).map_err(|e| e.to_string())?;
        reads += &format!("read_verilog {}; ", f.file_name());
    }
    let run = |cmd: &mut std::process::Command, what: &str| -> Result<(), String> {
        let out = cmd.current_dir(dir).output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(format!("{what} failed: {}", err.lines().last().unwrap_or("")))
        }
    };
    run(
        std::process::Command::new("yosys").args(["-q", "-p", &format!("{reads}{synth}; write_json d.json")]),
        "yosys",
    )?;
    FMAX_SEEDS
        .iter()
        .map(|seed| {
            run(
                std::process::Command::new(pnr).args(args).args([
                    "--json",
                    "d.json",
                    "--report",
                    "r.json",
                    "--seed",
                    &seed.to_string(),
                    "-q",
                ]),
                pnr,
            )?;
            let report = std::fs::read_to_string(dir.join("r.json")).map_err(|e| e.to_string())?;
            let json: serde_json::Value = serde_json::from_str(&report).map_err(|e| e.to_string())?;
            json.get("fmax")
                .and_then(|f| f.as_object())
                .and_then(|clocks| {
                    clocks
                        .values()
                        .filter_map(|c| c.get("achieved")?.as_f64())
                        .reduce(f64::min)
                })
                .ok_or_else(|| "no Fmax in the nextpnr report".to_string())
        })
        .collect()
}

/// Fmax of every 8-bit structure on every place-and-route device; a missing
/// tool gives a row with the reason instead.
fn fmax_all() -> Vec<Fmax> {
    let scratch = std::env::temp_dir().join(format!("accgen-mulbench-fmax-{}", std::process::id()));
    let mut rows = Vec::new();
    for (device, target, pnr, args) in FMAX_FLOWS {
        let tool = nextpnr(pnr);
        for signed in [false, true] {
            for imp in STRUCTURES {
                let design = registered(signed, imp);
                let synth = target.synth_commands(&design.top, "").join("; ");
                let mhz = match &tool {
                    Some(t) => fmax_one(&design, &synth, t, args, &scratch.join(&design.top)),
                    None => Err(format!("{pnr} is not installed")),
                };
                eprintln!(
                    "  {device} {} {}: {}",
                    if signed { "signed" } else { "unsigned" },
                    imp.tag(),
                    match &mhz {
                        Ok(v) => format!("median {:.1} MHz, best {:.1} MHz ({v:.1?})", median(v), best(v)),
                        Err(e) => e.clone(),
                    }
                );
                rows.push(Fmax {
                    device,
                    signed,
                    imp,
                    mhz,
                });
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    rows
}

fn fmax_csv(rows: &[Fmax]) -> String {
    let mut s = String::from("device,bits,signed,structure,median_mhz,best_mhz,worst_mhz,seeds,mhz_per_seed,note\n");
    let seeds = FMAX_SEEDS.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    for r in rows {
        let figures = match &r.mhz {
            Ok(v) => format!(
                "{:.1},{:.1},{:.1},{seeds},{},",
                median(v),
                best(v),
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().map(|f| format!("{f:.1}")).collect::<Vec<_>>().join(" ")
            ),
            Err(e) => format!(",,,{seeds},,{}", e.replace(',', ";")),
        };
        let _ = writeln!(s, "{},8,{},{},{figures}", r.device, r.signed, r.imp.tag());
    }
    s
}

fn fmax_markdown(rows: &[Fmax], luts: &[Row]) -> String {
    let mut s = format!(
        "## Fmax at 8 bits (nextpnr, register to register)\n\nEach 8 x 8 multiplier between input and output registers, synthesized once with the same Yosys scripts as the tables above (`ice40-nodsp`, `ecp5-nodsp`) and placed and routed by nextpnr with seeds {} (the same seeds for every structure; one placement alone varies by about 5 %). Each cell is the median / best achieved Fmax over the seeds, and in brackets the LUT ratio to the plain `*` from the tables above, so speed and size read side by side. `ice40-hx8k` has no DSP blocks; `ecp5-25k` uses `synth_ecp5 -nowidelut -nodsp` like every ECP5 script here (ABC maps to LUT4s, so no PFUMX/L6MUX21 wide muxes appear in the ECP5 table). There is no open place-and-route for Xilinx 7-series here, so xc7 has no Fmax. `fmax.csv` has every seed's figure.\n\n",
        FMAX_SEEDS.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    );
    s += &header(&["device", "8x8"], &[]);
    for (device, target, ..) in FMAX_FLOWS {
        for signed in [false, true] {
            let cells: Vec<String> = STRUCTURES
                .iter()
                .map(|&imp| {
                    let size = luts
                        .iter()
                        .find(|r| r.target == target && r.bits == 8 && r.signed == signed && r.imp == imp)
                        .filter(|_| imp != MulImpl::Dsp)
                        .map_or(String::new(), |r| format!(" ({:.2}x)", ratio(luts, r)));
                    rows.iter()
                        .find(|r| r.device == device && r.signed == signed && r.imp == imp)
                        .map_or("-".into(), |r| match &r.mhz {
                            Ok(v) => format!("{:.1} / {:.1} MHz{size}", median(v), best(v)),
                            Err(e) => format!("({e})"),
                        })
                })
                .collect();
            let _ = writeln!(
                s,
                "| {device} | {} | {} |",
                if signed { "signed" } else { "unsigned" },
                cells.join(" | ")
            );
        }
    }
    s
}

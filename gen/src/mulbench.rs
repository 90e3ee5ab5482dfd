//! `accgen bench --multipliers`: the LUT multipliers against a plain `*`,
//! synthesized with Yosys on every LUT target at 2..8 bits, signed and
//! unsigned, written as a Markdown table and a CSV.

use crate::Failure;
use crate::synth::{SynthOptions, Target, synth_all};
use accgen_hdl::Design;
use accgen_hdl::ir::verilog::Provenance;
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
pub const STRUCTURES: [MulImpl; 3] = [MulImpl::Dsp, MulImpl::Lut, MulImpl::Lut4];

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
    write("multipliers.csv", &csv(&rows))?;
    write("README.md", &markdown(&rows, &tool))?;
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
        "Written by `{COMMAND}` with {tool}. Each entry is one combinational `a x b` multiplier synthesized alone (`accgen::synth`, the same scripts as `accgen synth`): LUTs + carry cells (`c`: CARRY4, SB_CARRY, CCU2C) + wide muxes (`m`: MUXF7/F8, PFUMX, L6MUX21), and in brackets the ratio of LUTs to the plain `*` on the same target (cell area on `asic`, OSU 0.18 um). `dsp` is the plain `*` (what synthesis infers), `lut` the carry-chain rows gated before the adder (for LUT6 and ECP5), `lut4` the rows gated after the adder with each row adder kept as its own module (for iCE40). Signed means both operands signed. The CSV beside this file has every figure.\n"
    );
    for target in TARGETS {
        let _ = writeln!(s, "## {target}\n");
        s += "| bits | signed | dsp (plain `*`) | lut | lut4 |\n|---|---|---|---|---|\n";
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
    let mut s = String::from("| target | 8x8 | plain `*` | lut | lut4 | best ratio |\n|---|---|---|---|---|---|\n");
    for target in TARGETS {
        for signed in [false, true] {
            let find = |imp| {
                rows.iter()
                    .find(|r| r.target == target && r.bits == 8 && r.signed == signed && r.imp == imp)
            };
            let (Some(plain), Some(lut), Some(lut4)) = (find(MulImpl::Dsp), find(MulImpl::Lut), find(MulImpl::Lut4))
            else {
                continue;
            };
            let best = ratio(rows, lut).min(ratio(rows, lut4));
            let _ = writeln!(
                s,
                "| {target} | {} | {} | {} | {} | {best:.2}x |",
                if signed { "signed" } else { "unsigned" },
                cell(rows, plain),
                cell(rows, lut),
                cell(rows, lut4)
            );
        }
    }
    s
}

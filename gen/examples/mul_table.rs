//! The multiplier table of issue 7: LUTs of accgen's `lut` multiplier
//! against Yosys' own mapping of a plain `*` (the `dsp` structure with DSP
//! blocks disabled), for n x n operands of 2..8 bits, unsigned and signed,
//! on every FPGA target's fabric. Writes `reports/multipliers/README.md` and
//! `multipliers.csv` (synthesis is cached, so a rerun is quick).
//!
//! `cargo run --release -p accgen --example mul_table [OUT_DIR]`

use accgen::synth::{SynthOptions, Target, synth_all};
use accgen_hdl::Design;
use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::mac::MulImpl;
use accgen_hdl::mac::mul::multiplier;
use accgen_hdl::params::IntFormat;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/multipliers"));
    let prov = Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: "none".into(),
        command: "cargo run --release -p accgen --example mul_table".into(),
    };
    let targets = [
        Target::Xc7 { dsp: false },
        Target::Ice40 { dsp: false },
        Target::Ecp5 { dsp: false },
    ];
    let mut rows = Vec::new();
    let mut jobs: Vec<(Design, Target)> = Vec::new();
    for bits in 2..=8u32 {
        for signed in [false, true] {
            let f = IntFormat { bits, signed };
            for &t in &targets {
                rows.push((bits, signed, t));
                for imp in [MulImpl::Dsp, MulImpl::Lut] {
                    jobs.push((Design::assemble(&[multiplier(f, f, imp)], &prov), t));
                }
            }
        }
    }
    eprintln!("synthesizing {} multipliers", jobs.len());
    let results = synth_all(&jobs, &SynthOptions::default(), &|p| {
        eprint!("\r{}/{} ", p.done, p.total);
    });
    eprintln!();
    let tool = results
        .iter()
        .find_map(|r| r.as_ref().ok().map(|r| r.tool.clone()))
        .unwrap_or_default();
    let mut md = String::from("# LUT multipliers against Yosys' `*`\n\n");
    let _ = writeln!(
        md,
        "n x n operands, LUTs (+ carry cells) of the lone combinational multiplier after `synth_xilinx -nodsp`, \
         `synth_ice40` and `synth_ecp5 -nodsp` ({tool}). `*`: the `dsp` structure (a plain `*`, mapped by Yosys \
         into the fabric); `lut`: accgen's partial-product rows and balanced adder tree. The issue's goal for \
         a better LUT multiplier is a ratio of at most 0.55 at 8 bits. Yosys merges the `lut` structure's plain additions back into one \
         multiply and re-maps it (see the toolchain notes), so both columns stay close; the goal needs \
         target-aware structure (instantiated carry primitives).\n\nRegenerate with \
         `cargo run --release -p accgen --example mul_table`.\n"
    );
    md += "| bits | signed | target | `*` LUTs | `*` carry | `lut` LUTs | `lut` carry | ratio (LUTs) |\n|---|---|---|---|---|---|---|---|\n";
    let mut csv = String::from("bits,signed,target,star_luts,star_carry,lut_luts,lut_carry\n");
    for (i, (bits, signed, target)) in rows.iter().enumerate() {
        let (star, lut) = (&results[2 * i], &results[2 * i + 1]);
        let (Ok(star), Ok(lut)) = (star, lut) else {
            let _ = writeln!(md, "| {bits} | {signed} | {target} | failed | | | | |");
            continue;
        };
        let (s, l) = (&star.summary, &lut.summary);
        let ratio = l.luts as f64 / s.luts.max(1) as f64;
        let _ = writeln!(
            md,
            "| {bits} | {} | {target} | {} | {} | {} | {} | {ratio:.2} |",
            if *signed { "s" } else { "u" },
            s.luts,
            s.carry,
            l.luts,
            l.carry
        );
        let _ = writeln!(
            csv,
            "{bits},{signed},{target},{},{},{},{}",
            s.luts, s.carry, l.luts, l.carry
        );
    }
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("README.md"), &md)?;
    std::fs::write(out.join("multipliers.csv"), &csv)?;
    print!("{md}");
    Ok(())
}

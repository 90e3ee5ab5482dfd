//! `accgen flow --target xc7a35t` (and other 7-series, UltraScale and
//! UltraScale+ parts): Vivado is not
//! open, so the flow writes what a Vivado user runs — a non-project Tcl
//! script (read the sources and constraints, `synth_design`, `opt_design`,
//! `place_design`, `route_design`, reports, `write_bitstream`) and an XDC
//! with the clock constraint and, for the Arty A7, the board's pins — and
//! estimates the resources with Yosys' `synth_xilinx` (`-family xc7`,
//! `xcu` or `xcup`).

use super::fusesoc;
use crate::synth::{Summary, SynthOptions, Target, synthesize, yosys};
use crate::{Failure, output};
use accgen_hdl::Design;
use std::path::Path;

/// A Xilinx device family, as Yosys' `synth_xilinx -family` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XilinxFamily {
    /// 7-series: DSP48E1, CARRY4, RAMB36E1.
    Series7,
    /// UltraScale (Kintex/Virtex): DSP48E2, CARRY8, RAMB36E2.
    UltraScale,
    /// UltraScale+ (Kintex/Virtex/Zynq MPSoC): the same primitives.
    UltraScalePlus,
}

impl XilinxFamily {
    /// `synth_xilinx -family` value (Yosys 0.23: xc7, xcu, xcup).
    pub fn yosys(self) -> &'static str {
        match self {
            XilinxFamily::Series7 => "xc7",
            XilinxFamily::UltraScale => "xcu",
            XilinxFamily::UltraScalePlus => "xcup",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            XilinxFamily::Series7 => "7-series",
            XilinxFamily::UltraScale => "UltraScale",
            XilinxFamily::UltraScalePlus => "UltraScale+",
        }
    }
}

/// A Xilinx part `accgen flow` knows, with the capacity the fit check uses
/// (Xilinx DS180 / DS190 for 7-series, DS890 / DS891 for UltraScale and
/// UltraScale+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// The name on the command line (`xc7a35t`).
    pub name: &'static str,
    pub family: XilinxFamily,
    /// The full part with package and speed grade, as Vivado takes it.
    pub part: &'static str,
    /// The board whose pins the XDC carries, if any.
    pub board: Option<&'static str>,
    pub luts: u64,
    pub ffs: u64,
    pub dsp: u64,
    /// 36 Kb block RAMs (UltraRAM not counted).
    pub bram36: u64,
}

impl Part {
    pub const ALL: [Part; 13] = [
        Part {
            family: XilinxFamily::Series7,
            name: "xc7a35t",
            part: "xc7a35ticsg324-1L",
            board: Some("Arty A7-35T"),
            luts: 20_800,
            ffs: 41_600,
            dsp: 90,
            bram36: 50,
        },
        Part {
            family: XilinxFamily::Series7,
            name: "xc7a100t",
            part: "xc7a100tcsg324-1",
            board: Some("Arty A7-100T"),
            luts: 63_400,
            ffs: 126_800,
            dsp: 240,
            bram36: 135,
        },
        Part {
            family: XilinxFamily::Series7,
            name: "xc7a50t",
            part: "xc7a50tcsg324-1",
            board: None,
            luts: 32_600,
            ffs: 65_200,
            dsp: 120,
            bram36: 75,
        },
        Part {
            family: XilinxFamily::Series7,
            name: "xc7a200t",
            part: "xc7a200tsbg484-1",
            board: None,
            luts: 134_600,
            ffs: 269_200,
            dsp: 740,
            bram36: 365,
        },
        Part {
            family: XilinxFamily::Series7,
            name: "xc7s50",
            part: "xc7s50csga324-1",
            board: None,
            luts: 32_600,
            ffs: 65_200,
            dsp: 120,
            bram36: 75,
        },
        Part {
            family: XilinxFamily::Series7,
            name: "xc7z020",
            part: "xc7z020clg400-1",
            board: None,
            luts: 53_200,
            ffs: 106_400,
            dsp: 220,
            bram36: 140,
        },
        Part {
            family: XilinxFamily::Series7,
            name: "xc7k325t",
            part: "xc7k325tffg900-2",
            board: None,
            luts: 203_800,
            ffs: 407_600,
            dsp: 840,
            bram36: 445,
        },
        // UltraScale and UltraScale+, each with the package and speed grade
        // of its Xilinx evaluation board (KCU105, KCU116, Ultra96, ZCU102,
        // ZCU104, VCU118); no board pins in the XDC. Capacities are the
        // device tables of DS890 (UltraScale Architecture and Product
        // Overview: Kintex UltraScale, Kintex and Virtex UltraScale+) and
        // DS891 (Zynq UltraScale+ MPSoC Overview). Where noted, a figure was
        // also checked against the "Available" column of published Vivado
        // utilization reports for the part (the device's own count).
        Part {
            family: XilinxFamily::UltraScale,
            name: "xcku040",
            part: "xcku040-ffva1156-2-e",
            board: None,
            // DS890, Kintex UltraScale table (KU040). The FFs follow from the
            // LUTs (UG574: a CLB holds 8 LUTs and 16 flip-flops; the test
            // `flip_flops_are_twice_the_luts` checks every part); the LUT, DSP and
            // block RAM figures are unverified: no copy of the table or a
            // utilization report of the part was found to check.
            luts: 242_400,
            ffs: 484_800,
            dsp: 1_920,
            bram36: 600,
        },
        Part {
            family: XilinxFamily::UltraScalePlus,
            name: "xcku5p",
            part: "xcku5p-ffvb676-2-e",
            board: None,
            // DS890, Kintex UltraScale+ table (KU5P): the LUT count matches
            // Vivado's part properties for xcku5p-ffvb676 as quoted publicly
            // (216,960 CLB LUTs, 27,120 CLBs), and the FFs follow from it
            // (UG574: 8 LUTs and 16 flip-flops per CLB). DSP and block RAM
            // agree with a third-party part catalogue only, so they count as
            // unverified: no copy of the table or a utilization report was found.
            luts: 216_960,
            ffs: 433_920,
            dsp: 1_824,
            bram36: 480,
        },
        Part {
            family: XilinxFamily::UltraScalePlus,
            name: "xczu3eg",
            part: "xczu3eg-sbva484-1-e",
            board: None,
            // DS891, Zynq UltraScale+ EG table (ZU3EG); LUTs, DSP and block
            // RAM match a published device listing.
            luts: 70_560,
            ffs: 141_120,
            dsp: 360,
            bram36: 216,
        },
        Part {
            family: XilinxFamily::UltraScalePlus,
            name: "xczu9eg",
            part: "xczu9eg-ffvb1156-2-e",
            board: None,
            // DS891, Zynq UltraScale+ EG table (ZU9EG); all four checked
            // against Vivado utilization reports (ZCU102).
            luts: 274_080,
            ffs: 548_160,
            dsp: 2_520,
            bram36: 912,
        },
        Part {
            family: XilinxFamily::UltraScalePlus,
            name: "xczu7ev",
            part: "xczu7ev-ffvc1156-2-e",
            board: None,
            // DS891, Zynq UltraScale+ EV table (ZU7EV); all four checked
            // against Vivado utilization reports (ZCU104, xczu7ev-ffvc1156-2-e).
            luts: 230_400,
            ffs: 460_800,
            dsp: 1_728,
            bram36: 312,
        },
        Part {
            family: XilinxFamily::UltraScalePlus,
            name: "xcvu9p",
            part: "xcvu9p-flga2104-2L-e",
            board: None,
            // DS890, Virtex UltraScale+ table (VU9P); all four checked
            // against Vivado utilization reports.
            luts: 1_182_240,
            ffs: 2_364_480,
            dsp: 6_840,
            bram36: 2_160,
        },
    ];

    /// The part named `name`: the short name or the full part number.
    pub fn find(name: &str) -> Option<Part> {
        let wanted = name.trim().to_ascii_lowercase();
        Part::ALL
            .into_iter()
            .find(|p| p.name == wanted || p.part.to_ascii_lowercase() == wanted)
    }

    pub fn names() -> String {
        Part::ALL.map(|p| p.name).join(", ")
    }
}

/// The Arty A7's pins for the UART wrapper (`constraints/arty-a7.xdc`).
pub const ARTY_XDC: (&str, &str) = ("arty-a7.xdc", include_str!("../../../constraints/arty-a7.xdc"));

/// The Arty A7's oscillator.
pub const ARTY_CLOCK_MHZ: f64 = 100.0;

/// The XDC: the board's pins (if any) and this run's clock constraint.
pub fn xdc(design: &Design, part: Part, constraint_mhz: f64) -> (String, String) {
    let mut out = format!(
        "# Generated by accgen {} for {} on {}{}.\n",
        env!("CARGO_PKG_VERSION"),
        design.top,
        part.part,
        part.board
            .map(|b| format!(" ({b}), from constraints/{}", ARTY_XDC.0))
            .unwrap_or_default()
    );
    let name = if part.board.is_some() {
        for line in ARTY_XDC.1.lines().filter(|l| !l.starts_with("create_clock")) {
            out += line;
            out.push('\n');
        }
        ARTY_XDC.0.to_string()
    } else {
        out += "# No board: assign package pins (PACKAGE_PIN, IOSTANDARD) to every port before using the bitstream.\n";
        format!("{}.xdc", design.top)
    };
    let clock = design.clock.as_deref().unwrap_or("clk_i");
    out += &format!(
        "create_clock -name {clock} -period {:.3} [get_ports {{ {clock} }}];  # {constraint_mhz} MHz\n",
        1000.0 / constraint_mhz
    );
    (name, out)
}

/// The Vivado non-project script: run `vivado -mode batch -source build.tcl`
/// in its folder (or from anywhere: it changes to its own folder first).
pub fn tcl(design: &Design, part: Part, xdc_name: &str, bare: bool, no_dsp: bool) -> String {
    let mut s = format!(
        "# Generated by accgen {}: {} for {}{}.\n",
        env!("CARGO_PKG_VERSION"),
        design.top,
        part.part,
        part.board.map(|b| format!(" on the {b}")).unwrap_or_default()
    );
    s += "# Run where Vivado is installed: vivado -mode batch -source build.tcl\n";
    s += "cd [file dirname [file normalize [info script]]]\n";
    s += &format!("set part {}\nset top {}\n", part.part, design.top);
    s += "file mkdir reports\n\n";
    s += "# Sources and constraints\n";
    for f in &design.files {
        s += &format!("read_verilog rtl/{}\n", f.file_name());
    }
    s += &format!("read_xdc {xdc_name}\n\n");
    // A bare array is a block of a larger design: no I/O buffers, no pins,
    // so no bitstream either.
    s += &format!(
        "synth_design -top $top -part $part{}{}\n",
        if bare { " -mode out_of_context" } else { "" },
        if no_dsp { " -max_dsp 0" } else { "" }
    );
    s += "report_utilization -file reports/post_synth_utilization.rpt\n";
    s += "opt_design\nplace_design\nroute_design\n\n";
    s += "# Reports\n";
    s += "report_utilization -file reports/utilization.rpt\n";
    s += "report_utilization -hierarchical -file reports/utilization_hierarchical.rpt\n";
    s += "report_timing_summary -max_paths 10 -file reports/timing_summary.rpt\n";
    s += "report_drc -file reports/drc.rpt\n";
    s += "write_checkpoint -force $top.dcp\n";
    if bare {
        s += "# Out of context: no bitstream for a block without pins.\n";
    } else {
        if part.board.is_none() {
            s += "# No board pins: let the bitstream through the unconstrained-I/O checks (assign pins first for hardware).\n";
            s += "set_property SEVERITY {Warning} [get_drc_checks NSTD-1]\n";
            s += "set_property SEVERITY {Warning} [get_drc_checks UCIO-1]\n";
        }
        s += "write_bitstream -force $top.bit\n";
    }
    s
}

/// Yosys' `synth_xilinx` mapping for the part's family: the 7-series
/// script of `accgen synth` (cached), or the same script with `-family xcu`
/// / `xcup` for UltraScale parts. Returns the Yosys version and the counts.
fn synthesize_for(design: &Design, part: Part, no_dsp: bool) -> Result<(String, Summary), Failure> {
    let target = Target::Xc7 { dsp: !no_dsp };
    let options = SynthOptions::default();
    let fail = |e: crate::synth::SynthError| Failure::Run(format!("error: {e}"));
    if part.family == XilinxFamily::Series7 {
        let r = synthesize(design, target, &options).map_err(fail)?;
        return Ok((r.tool, r.summary));
    }
    let tool = yosys::version(&options.yosys).map_err(fail)?;
    let script = yosys::script(design, target, None).map_err(fail)?;
    let script = ultrascale_script(&script, part.family);
    let out = yosys::run(&options.yosys, design, target, &script, options.timeout).map_err(fail)?;
    let cells = yosys::cells(&out.stat_json, &design.top).map_err(|e| Failure::Run(format!("error: {e}")))?;
    Ok((tool, Summary::of(target, &cells, None, None)))
}

/// The `synth_xilinx` command of the estimate as its script runs it,
/// without `-top`.
fn estimate_command(family: XilinxFamily, no_dsp: bool) -> String {
    let commands = Target::Xc7 { dsp: !no_dsp }.synth_commands("TOP", "").join("\n");
    ultrascale_script(&commands, family)
        .trim_end_matches(" -top TOP")
        .to_string()
}

/// The 7-series synthesis script retargeted to another family.
fn ultrascale_script(script: &str, family: XilinxFamily) -> String {
    script.replace(
        "synth_xilinx -family xc7 ",
        &format!("synth_xilinx -family {} ", family.yosys()),
    )
}

/// Yosys' `synth_xilinx` estimate, and an error naming what overflowed.
fn estimate(design: &Design, part: Part, no_dsp: bool) -> Result<(String, Summary), Failure> {
    let (tool, s) = synthesize_for(design, part, no_dsp)?;
    let over: Vec<String> = [
        ("LUTs", s.luts + s.lutram, part.luts),
        ("FFs", s.ffs, part.ffs),
        ("DSP", s.dsp, part.dsp),
        ("BRAM", s.bram, part.bram36),
    ]
    .iter()
    .filter(|(_, used, available)| used > available)
    .map(|(what, used, available)| format!("{what} ({used} used of {available})"))
    .collect();
    if !over.is_empty() {
        return Err(Failure::Run(format!(
            "error: {} does not fit {} ({}): {} overflowed in Yosys' synth_xilinx -family {} estimate; choose a larger part or a smaller array",
            design.top,
            part.name,
            part.part,
            over.join(", "),
            part.family.yosys()
        )));
    }
    Ok((tool, s))
}

/// Write the Vivado project of `design` into `folder` and print the summary.
pub fn flow(
    name: &str,
    design: &Design,
    part: Part,
    constraint_mhz: f64,
    bare: bool,
    no_dsp: bool,
    folder: &Path,
) -> Result<String, Failure> {
    let (tool, s) = estimate(design, part, no_dsp)?;
    let rtl = folder.join("rtl");
    std::fs::create_dir_all(&rtl).map_err(|e| Failure::Run(format!("error: creating {}: {e}", rtl.display())))?;
    for f in &design.files {
        output::write_atomic(&rtl.join(f.file_name()), f.text.as_bytes()).map_err(Failure::Run)?;
    }
    let (xdc_name, xdc_text) = xdc(design, part, constraint_mhz);
    output::write_atomic(&folder.join(&xdc_name), xdc_text.as_bytes()).map_err(Failure::Run)?;
    output::write_atomic(
        &folder.join("build.tcl"),
        tcl(design, part, &xdc_name, bare, no_dsp).as_bytes(),
    )
    .map_err(Failure::Run)?;
    let core = fusesoc::core(
        name,
        design,
        "rtl/",
        &fusesoc::CoreExtras {
            testbench: None,
            constraints: vec![(&xdc_name, "xdc")],
            fpga: Some(("vivado", vec![format!("part: {}", part.part)])),
        },
    );
    output::write_atomic(&folder.join(format!("{name}.core")), core.as_bytes()).map_err(Failure::Run)?;
    let summary = serde_json::json!({
        "generator": format!("accgen {}", env!("CARGO_PKG_VERSION")),
        "design": name,
        "top": design.top,
        "target": part.name,
        "part": part.part,
        "family": part.family.name(),
        "board": part.board,
        "constraint_mhz": constraint_mhz,
        "estimate": {
            "tool": tool,
            "command": estimate_command(part.family, no_dsp),
            "luts": { "used": s.luts, "available": part.luts },
            "lutram": s.lutram,
            "ffs": { "used": s.ffs, "available": part.ffs },
            // CARRY4 on 7-series, CARRY8 on UltraScale.
            if part.family == XilinxFamily::Series7 { "carry4" } else { "carry8" }: s.carry,
            "dsp": { "used": s.dsp, "available": part.dsp },
            "bram": { "used": s.bram, "available": part.bram36 },
        },
        "vivado": { "script": "build.tcl", "xdc": xdc_name, "bitstream": if bare { None } else { Some(format!("{}.bit", design.top)) } },
    });
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Failure::Run(format!("error: {e}")))? + "\n";
    output::write_atomic(&folder.join("summary.json"), json.as_bytes()).map_err(Failure::Run)?;
    let line = format!(
        "{name} on {} ({}): Yosys estimate LUTs {}/{}, FFs {}/{}, DSP {}/{}; Vivado script {} (run `vivado -mode batch -source build.tcl` where Vivado is installed{})",
        part.name,
        part.board.unwrap_or(part.part),
        s.luts,
        part.luts,
        s.ffs,
        part.ffs,
        s.dsp,
        part.dsp,
        folder.join("build.tcl").display(),
        if bare { "; out of context, no bitstream" } else { "" }
    );
    output::write_atomic(&folder.join("summary.txt"), (line.clone() + "\n").as_bytes()).map_err(Failure::Run)?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_found_by_short_and_full_name() {
        for p in Part::ALL {
            assert_eq!(Part::find(p.name), Some(p));
            assert_eq!(Part::find(&p.part.to_ascii_uppercase()), Some(p), "{}", p.part);
            // Vivado's part names: device, package, speed grade (and temperature for UltraScale).
            let fields = p.part.split('-').count();
            match p.family {
                XilinxFamily::Series7 => assert_eq!(fields, 2, "{}", p.part),
                _ => assert_eq!(fields, 4, "{}", p.part),
            }
            assert!(p.part.starts_with(p.name), "{}", p.part);
        }
        let mut names: Vec<&str> = Part::ALL.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Part::ALL.len());
        assert_eq!(Part::find("xcku040").map(|p| p.family), Some(XilinxFamily::UltraScale));
        assert_eq!(
            Part::find("xcvu9p").map(|p| p.family),
            Some(XilinxFamily::UltraScalePlus)
        );
    }

    /// A 7-series slice holds 4 LUTs and 8 flip-flops (UG474), an
    /// UltraScale CLB 8 LUTs and 16 (UG574): a device's flip-flop count is
    /// twice its LUT count, which checks every FF figure in the table.
    #[test]
    fn flip_flops_are_twice_the_luts() {
        for p in Part::ALL {
            assert_eq!(p.ffs, 2 * p.luts, "{}", p.name);
        }
    }

    #[test]
    fn ultrascale_scripts_change_only_the_family() {
        let script = "read_verilog a.v\nsynth_xilinx -family xc7 -flatten -noiopad -noclkbuf -top t\n";
        assert_eq!(
            ultrascale_script(script, XilinxFamily::UltraScalePlus),
            "read_verilog a.v\nsynth_xilinx -family xcup -flatten -noiopad -noclkbuf -top t\n"
        );
        assert_eq!(
            ultrascale_script(script, XilinxFamily::UltraScale)
                .matches("-family xcu ")
                .count(),
            1
        );
    }
}

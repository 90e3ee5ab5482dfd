//! What each cell type Yosys leaves in a mapped netlist is, per target
//! family: one table, and the summary counts derived from it.

use super::liberty::Liberty;
use super::target::{Family, Target};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of resource a mapped cell uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CellClass {
    /// A look-up table with this many inputs.
    Lut(u8),
    /// A flip-flop (any clock edge, enable, set or reset).
    Ff,
    Latch,
    /// A carry-chain cell (CARRY4 covers 4 bits, SB_CARRY 1, CCU2C 2).
    Carry,
    /// A hard multiplier or DSP block.
    Dsp,
    /// A block RAM (RAMB36E1 counts as one, like RAMB18E1).
    Bram,
    /// LUTs used as memory or shift registers.
    Lutram,
    /// The multiplexers that join LUTs into wider functions (MUXF7/MUXF8, PFUMX/L6MUX21).
    WideMux,
    /// I/O and clock buffers.
    Io,
    /// A combinational standard cell (the `asic` target).
    Logic,
    /// Anything else, including cells Yosys left unmapped (`$...`).
    Other,
}

use CellClass::*;

/// The classification table: per family, cell types in the order they are
/// tried; a pattern ending in `*` matches every type it is a prefix of.
/// Cell names are those Yosys 0.23's `synth_xilinx`, `synth_ice40` and
/// `synth_ecp5` emit (ECP5 LUTs stay LUT4 until nextpnr packs them into
/// TRELLIS_SLICEs). For `asic` the liberty file's `ff`/`latch` groups decide
/// first (see [`classify`]); the patterns are OSU-style fallbacks.
const TABLE: &[(Family, &str, CellClass)] = &[
    (Family::Xc7, "LUT1", Lut(1)),
    (Family::Xc7, "LUT2", Lut(2)),
    (Family::Xc7, "LUT3", Lut(3)),
    (Family::Xc7, "LUT4", Lut(4)),
    (Family::Xc7, "LUT5", Lut(5)),
    (Family::Xc7, "LUT6", Lut(6)),
    // synth_xilinx leaves INV cells (e.g. a low-active reset driving FDCE's
    // CLR); Vivado implements and reports each as a LUT1.
    (Family::Xc7, "INV", Lut(1)),
    (Family::Xc7, "FD*", Ff), // FDRE, FDSE, FDCE, FDPE and their _1 (falling edge) forms
    (Family::Xc7, "LD*", Latch),
    (Family::Xc7, "CARRY4", Carry),
    (Family::Xc7, "DSP48E1", Dsp),
    (Family::Xc7, "RAMB18E1", Bram),
    (Family::Xc7, "RAMB36E1", Bram),
    // `synth_xilinx -family xcu` / `xcup` (the UltraScale parts of `accgen flow`).
    (Family::Xc7, "CARRY8", Carry),
    (Family::Xc7, "DSP48E2", Dsp),
    (Family::Xc7, "RAMB18E2", Bram),
    (Family::Xc7, "RAMB36E2", Bram),
    (Family::Xc7, "RAM*", Lutram), // RAM32M, RAM64M, RAM64X1D, RAM128X1S, ...
    (Family::Xc7, "SRL*", Lutram), // SRL16E, SRLC32E
    (Family::Xc7, "MUXF7", WideMux),
    (Family::Xc7, "MUXF8", WideMux),
    (Family::Xc7, "IBUF*", Io),
    (Family::Xc7, "OBUF*", Io),
    (Family::Xc7, "IOBUF*", Io),
    (Family::Xc7, "BUFG*", Io),
    (Family::Ice40, "SB_LUT4", Lut(4)),
    (Family::Ice40, "SB_DFF*", Ff), // SB_DFF, SB_DFFE, SB_DFFESR, SB_DFFN..., 20 kinds
    (Family::Ice40, "SB_CARRY", Carry),
    (Family::Ice40, "SB_MAC16", Dsp),
    (Family::Ice40, "SB_RAM40_4K*", Bram), // and the NR/NW/NRNW clock-polarity forms
    (Family::Ice40, "SB_SPRAM256KA", Bram),
    (Family::Ice40, "SB_IO*", Io),
    (Family::Ice40, "SB_GB*", Io),
    (Family::Ecp5, "LUT4", Lut(4)),
    (Family::Ecp5, "TRELLIS_FF", Ff),
    (Family::Ecp5, "CCU2C", Carry),
    (Family::Ecp5, "MULT18X18D", Dsp),
    (Family::Ecp5, "ALU54B", Dsp),
    (Family::Ecp5, "DP16KD", Bram),
    (Family::Ecp5, "PDPW16KD", Bram),
    (Family::Ecp5, "TRELLIS_DPR16X4", Lutram),
    (Family::Ecp5, "PFUMX", WideMux),
    (Family::Ecp5, "L6MUX21", WideMux),
    (Family::Ecp5, "TRELLIS_IO", Io),
    (Family::Ecp5, "DCCA", Io),
    (Family::Asic, "$*", Other),
    (Family::Asic, "DFF*", Ff),
    (Family::Asic, "LATCH*", Latch),
    (Family::Asic, "*", Logic),
];

fn matches(pattern: &str, cell: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => cell.starts_with(prefix),
        None => cell == pattern,
    }
}

/// The class of `cell` on `target`; for `asic`, `liberty` (when given)
/// names the flip-flops and latches.
pub fn classify(target: Target, cell: &str, liberty: Option<&Liberty>) -> CellClass {
    if let Some(lib) = liberty.filter(|_| target.family() == Family::Asic) {
        if lib.flops.contains(cell) {
            return Ff;
        }
        if lib.latches.contains(cell) {
            return Latch;
        }
    }
    TABLE
        .iter()
        .find(|(family, pattern, _)| *family == target.family() && matches(pattern, cell))
        .map_or(Other, |&(_, _, class)| class)
}

/// The counts a cost model and a reader want, derived from cells by type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Every cell.
    pub cells: u64,
    pub luts: u64,
    /// LUTs by number of inputs (xc7: 1..6; iCE40 and ECP5: all 4).
    pub luts_by_size: BTreeMap<u8, u64>,
    pub ffs: u64,
    pub latches: u64,
    pub carry: u64,
    pub dsp: u64,
    pub bram: u64,
    pub lutram: u64,
    pub wide_muxes: u64,
    pub io: u64,
    /// Combinational standard cells (`asic`).
    pub logic: u64,
    /// Cells of no class above; on an FPGA, cells Yosys did not map.
    pub other: u64,
    /// Cell area in um^2 from the liberty file (`asic` only).
    pub area_um2: Option<f64>,
}

impl Summary {
    pub fn of(target: Target, cells: &BTreeMap<String, u64>, liberty: Option<&Liberty>, area_um2: Option<f64>) -> Self {
        let mut s = Summary {
            area_um2,
            ..Summary::default()
        };
        for (cell, &n) in cells {
            s.cells += n;
            let slot = match classify(target, cell, liberty) {
                Lut(size) => {
                    *s.luts_by_size.entry(size).or_default() += n;
                    &mut s.luts
                }
                Ff => &mut s.ffs,
                Latch => &mut s.latches,
                Carry => &mut s.carry,
                Dsp => &mut s.dsp,
                Bram => &mut s.bram,
                Lutram => &mut s.lutram,
                WideMux => &mut s.wide_muxes,
                Io => &mut s.io,
                Logic => &mut s.logic,
                Other => &mut s.other,
            };
            *slot += n;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_classifies_each_family() {
        let xc7 = Target::Xc7 { dsp: false };
        assert_eq!(classify(xc7, "LUT6", None), Lut(6));
        assert_eq!(classify(xc7, "FDCE", None), Ff);
        assert_eq!(classify(xc7, "INV", None), Lut(1));
        assert_eq!(classify(xc7, "RAMB36E1", None), Bram);
        assert_eq!(classify(xc7, "RAM64M", None), Lutram);
        assert_eq!(classify(xc7, "SB_LUT4", None), Other);
        let ice40 = Target::Ice40 { dsp: true };
        assert_eq!(classify(ice40, "SB_DFFESR", None), Ff);
        assert_eq!(classify(ice40, "SB_RAM40_4KNRNW", None), Bram);
        assert_eq!(classify(Target::Ecp5 { dsp: true }, "L6MUX21", None), WideMux);
        assert_eq!(classify(Target::Asic, "DFFSR", None), Ff);
        assert_eq!(classify(Target::Asic, "NAND2X1", None), Logic);
        assert_eq!(classify(Target::Asic, "$_AND_", None), Other);
    }

    #[test]
    fn summary_adds_up() {
        let cells: BTreeMap<String, u64> = [("LUT2", 3), ("LUT6", 4), ("FDRE", 5), ("CARRY4", 1), ("MUXF7", 2)]
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect();
        let s = Summary::of(Target::Xc7 { dsp: true }, &cells, None, None);
        assert_eq!(
            (s.cells, s.luts, s.ffs, s.carry, s.wide_muxes, s.other),
            (15, 7, 5, 1, 2, 0)
        );
        assert_eq!(s.luts_by_size.get(&6), Some(&4));
    }
}

//! Where synthesis puts a memory: block RAM, LUT RAM or flip-flops, and how
//! many primitives it takes, following the cost model of Yosys 0.23's
//! `memory_libmap` for a memory with one write port (one enable for the
//! whole word) and one synchronous read port, the only kind accgen emits.
//!
//! For every RAM definition of the target's library (transcribed from
//! Yosys' `brams.txt`/`lutrams.txt` files) and every base width, the pass
//! tiles the memory and scores it: `(cost - widthscale) * tiles +
//! widthscale * rows * width / unit + 0.5 * (read mux + write demux)`; the
//! cheapest mapping wins unless soft logic (one cost unit per bit) is
//! cheaper. Block RAMs that lack the read-first and transparent behaviour
//! of accgen's memories pay Yosys' emulation score (iCE40, ECP5).

use crate::synth::{Family, Target};

/// What a memory becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Block RAM primitives (the read register is absorbed into them).
    Block(u64),
    /// LUT RAM primitives (asynchronous read: the read register stays), in
    /// `rows` of addresses whose outputs a multiplexer selects.
    Distributed { tiles: u64, rows: u64 },
    /// Flip-flops and multiplexers.
    Logic,
}

/// One RAM definition of a Yosys memory library.
struct RamDef {
    block: bool,
    abits: u32,
    /// Data widths by base-width index.
    dbits: &'static [u32],
    /// Write-enable granularity (0: the whole word).
    byte: u32,
    cost: f64,
    widthscale: f64,
    /// The widest index a port may use.
    max_port: usize,
    /// The write port's fixed width index, if it has one (SDP modes).
    fixed_write: Option<usize>,
    /// Emulation score (times Yosys' factor 2) the mapping pays for
    /// behaviour the RAM lacks: ECP5 block RAMs emulate read-first and
    /// transparency between their two ports (measured: a 192 x 6 memory
    /// goes to LUT RAM at a LUT-RAM cost of 135 against 128 for one DP16KD).
    emulation: f64,
}

const fn ram(block: bool, abits: u32, dbits: &'static [u32], byte: u32, cost: f64, widthscale: f64) -> RamDef {
    RamDef {
        block,
        abits,
        dbits,
        byte,
        cost,
        widthscale,
        max_port: dbits.len() - 1,
        fixed_write: None,
        emulation: 0.0,
    }
}

/// Xilinx 7-series: `lutrams_xc5v.txt` (dual-, quad- and simple-dual-port
/// LUT RAM at each depth) and `brams_xc4v.txt` with 36 Kbit blocks
/// (RAMB18 "HALF" and RAMB36 "FULL", true and simple dual port).
const XC7: &[RamDef] = &[
    ram(false, 5, &[4], 0, 8.0, 8.0),
    ram(false, 6, &[2], 0, 8.0, 8.0),
    ram(false, 7, &[1], 0, 8.0, 8.0),
    ram(false, 5, &[2], 0, 7.0, 7.0),
    ram(false, 6, &[1], 0, 7.0, 7.0),
    ram(false, 5, &[6], 0, 8.0, 7.0),
    ram(false, 6, &[3], 0, 8.0, 7.0),
    ram(true, 14, &[1, 2, 4, 9, 18], 9, 129.0, 0.0),
    ram(true, 15, &[1, 2, 4, 9, 18, 36], 9, 257.0, 0.0),
    RamDef {
        fixed_write: Some(5),
        ..ram(true, 14, &[1, 2, 4, 9, 18, 36], 9, 129.0, 0.0)
    },
    RamDef {
        fixed_write: Some(6),
        ..ram(true, 15, &[1, 2, 4, 9, 18, 36, 72], 9, 257.0, 0.0)
    },
];

/// iCE40: `brams.txt`, SB_RAM40_4K without byte enables (write port up to
/// 8 bits) and with them (16 bits, bit-wise enables). SB_RAM40_4K is
/// neither read-first nor transparent, so the mapping pays an emulation
/// score of 7 (measured: `debug memory_libmap` on a 12 x 6 hash-grid bank
/// scores it 78 against 72 for flip-flops, and Yosys builds flip-flops).
const ICE40: &[RamDef] = &[
    RamDef {
        max_port: 2,
        emulation: 14.0,
        ..ram(true, 11, &[2, 4, 8, 16], 0, 64.0, 0.0)
    },
    RamDef {
        fixed_write: Some(3),
        emulation: 14.0,
        ..ram(true, 11, &[2, 4, 8, 16], 1, 64.0, 0.0)
    },
];

/// ECP5: `lutrams.txt` (TRELLIS_DPR16X4) and `brams.txt` (DP16KD true dual
/// port, PDPW16KD pseudo dual port with a 36-bit write port).
const ECP5: &[RamDef] = &[
    ram(false, 4, &[4], 0, 4.0, 0.0),
    RamDef {
        emulation: 12.0,
        ..ram(true, 14, &[1, 2, 4, 9, 18], 9, 128.0, 0.0)
    },
    RamDef {
        fixed_write: Some(5),
        emulation: 12.0,
        ..ram(true, 14, &[1, 2, 4, 9, 18, 36], 9, 128.0, 0.0)
    },
];

/// The cheapest tiling of a `depth` x `width` memory on `def`: (cost,
/// tiles, rows, data bits per tile).
fn tiling(def: &RamDef, depth: u64, width: u64) -> Option<(f64, u64, u64, u64)> {
    let byte_log2 = if def.byte == 0 {
        def.dbits.len() - 1
    } else {
        def.dbits.iter().rposition(|&d| def.byte >= d).unwrap_or(0)
    };
    let mut best: Option<(f64, u64, u64, u64)> = None;
    for base in 0..def.dbits.len() {
        if let Some(fixed) = def.fixed_write
            && base < fixed
            && base < byte_log2
        {
            continue;
        }
        let unit_log2 = base.min(def.max_port);
        if unit_log2 != base && best.is_some() {
            break;
        }
        let unit = def.dbits[unit_log2] as u64;
        let byte = if def.byte == 0 || def.byte as u64 > unit {
            unit
        } else {
            def.byte as u64
        };
        let swizzle = width.div_ceil(byte) * byte;
        let rows = depth.div_ceil(1u64 << (def.abits as usize - base));
        let tiles = (rows * swizzle).div_ceil(unit);
        let demux = if rows != 1 { rows } else { 0 };
        let mux = (rows - 1) * width;
        let cost = (def.cost - def.widthscale) * tiles as f64
            + (def.widthscale as u64 * rows * width / unit) as f64
            + 0.5 * (mux + demux) as f64
            + def.emulation;
        if best.is_none_or(|(c, ..)| cost < c.trunc()) {
            best = Some((cost, tiles, rows, unit));
        }
    }
    best
}

/// Where `target`'s synthesis puts a memory of `depth` words of `width` bits.
pub fn place(target: Target, depth: u64, width: u64) -> Placement {
    best(target, depth, width).0
}

/// [`place`] for a memory whose `dead` columns ((lowest bit, width) each)
/// are written but never read. Yosys 0.23 maps the memory at its full
/// width (`memory_libmap` runs before the unread bits are known to be
/// dead) and `opt_clean` then deletes the block RAM primitives none of
/// whose outputs is read: a tile of columns that are all dead. Measured on
/// iCE40 (16-bit tiles): a 12 x 64 state word with bits 24..47 dead keeps
/// 3 of its 4 SB_RAM40_4K; a 32 x 28 word with bits 8..19 dead keeps both.
pub fn place_with_dead_columns(target: Target, depth: u64, width: u64, dead: &[(u64, u64)]) -> Placement {
    match best(target, depth, width) {
        (Placement::Block(tiles), rows, unit) if !dead.is_empty() && unit > 0 => {
            let is_dead = |bit: u64| dead.iter().any(|&(lo, w)| bit >= lo && bit < lo + w);
            let dead_columns = (0..width.div_ceil(unit))
                .filter(|&c| (c * unit..((c + 1) * unit).min(width)).all(is_dead))
                .count() as u64;
            Placement::Block(tiles - rows * dead_columns)
        }
        (placement, ..) => placement,
    }
}

/// The cheapest placement, with the winning tiling's rows and data bits
/// per tile (zeros for flip-flops).
fn best(target: Target, depth: u64, width: u64) -> (Placement, u64, u64) {
    let lib = match target.family() {
        Family::Xc7 => XC7,
        Family::Ice40 => ICE40,
        Family::Ecp5 => ECP5,
        Family::Asic => return (Placement::Logic, 0, 0),
    };
    let logic = (depth * width) as f64;
    let mut best = (logic.trunc(), Placement::Logic, 0, 0);
    for def in lib {
        if let Some((cost, tiles, rows, unit)) = tiling(def, depth, width)
            && cost < best.0
        {
            let placement = if def.block {
                Placement::Block(tiles)
            } else {
                Placement::Distributed { tiles, rows }
            };
            best = (cost.trunc(), placement, rows, unit);
        }
    }
    (best.1, best.2, best.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State memories of the spiking calibration set whose cleared CUBA
    /// current is written but never read, with the SB_RAM40_4K counts
    /// Yosys 0.23 gave them (`reports/calibration/spiking_points.csv`, less
    /// the synapse memory's one block): a 16-bit tile holding only dead
    /// columns disappears, a tile with one live bit stays.
    #[test]
    fn ice40_drops_block_ram_tiles_of_dead_columns_only() {
        let ice40 = Target::Ice40 { dsp: false };
        // v24 | i24 (dead) | acc16: the tile of bits 32..47 is all current.
        assert_eq!(place(ice40, 12, 64), Placement::Block(4));
        assert_eq!(place_with_dead_columns(ice40, 12, 64, &[(24, 24)]), Placement::Block(3));
        // v8 | i24 (dead) | acc16: bits 16..31 are all current.
        assert_eq!(place_with_dead_columns(ice40, 12, 48, &[(8, 24)]), Placement::Block(2));
        // v8 | i12 (dead) | acc8: both tiles keep live bits.
        assert_eq!(place_with_dead_columns(ice40, 32, 28, &[(8, 12)]), Placement::Block(2));
        // Three units of v12 | i8 (dead) | acc16: no tile is all dead.
        let dead = [(12, 8), (48, 8), (84, 8)];
        assert_eq!(place_with_dead_columns(ice40, 16, 108, &dead), Placement::Block(7));
    }
}

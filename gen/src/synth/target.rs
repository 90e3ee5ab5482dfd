//! Synthesis targets: their names, and the Yosys command that maps a design
//! onto each.

use super::SynthError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A device family (or the ASIC cell library) a design is synthesized for.
///
/// Every FPGA target's bare name uses the family's hard multipliers and its
/// `-nodsp` form keeps multipliers in the fabric, so `ice40` means the
/// UltraPlus parts (UP5K, the part of the toolchain's nextpnr flow) with
/// their SB_MAC16 blocks, and `ice40-nodsp` the HX/LP parts without them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Target {
    /// Xilinx 7-series, `synth_xilinx -family xc7`, out of context (no I/O
    /// or clock buffers); `dsp: false` adds `-nodsp`.
    Xc7 { dsp: bool },
    /// Lattice iCE40, `synth_ice40`; `dsp: true` adds `-dsp` (UltraPlus SB_MAC16).
    Ice40 { dsp: bool },
    /// Lattice ECP5, `synth_ecp5`; `dsp: false` adds `-nodsp` (no MULT18X18D).
    Ecp5 { dsp: bool },
    /// OSU 0.18 um standard cells: `synth`, `dfflibmap`, `abc -liberty`;
    /// area from `stat -liberty`.
    Asic,
}

/// The families, for the cell classification table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Xc7,
    Ice40,
    Ecp5,
    Asic,
}

impl Target {
    /// Every target, in the order tables list them.
    pub const ALL: [Target; 7] = [
        Target::Xc7 { dsp: true },
        Target::Xc7 { dsp: false },
        Target::Ice40 { dsp: true },
        Target::Ice40 { dsp: false },
        Target::Ecp5 { dsp: true },
        Target::Ecp5 { dsp: false },
        Target::Asic,
    ];

    /// The name used on the command line, in results and in cache keys.
    pub fn name(self) -> &'static str {
        match self {
            Target::Xc7 { dsp: true } => "xc7",
            Target::Xc7 { dsp: false } => "xc7-nodsp",
            Target::Ice40 { dsp: true } => "ice40",
            Target::Ice40 { dsp: false } => "ice40-nodsp",
            Target::Ecp5 { dsp: true } => "ecp5",
            Target::Ecp5 { dsp: false } => "ecp5-nodsp",
            Target::Asic => "asic",
        }
    }

    /// The allowed names, comma-separated, for error messages and help.
    /// True for the targets that map multipliers to DSP blocks.
    pub fn has_dsp(self) -> bool {
        matches!(
            self,
            Target::Xc7 { dsp: true } | Target::Ice40 { dsp: true } | Target::Ecp5 { dsp: true }
        )
    }

    pub fn names() -> String {
        Target::ALL.map(Target::name).join(", ")
    }

    pub fn family(self) -> Family {
        match self {
            Target::Xc7 { .. } => Family::Xc7,
            Target::Ice40 { .. } => Family::Ice40,
            Target::Ecp5 { .. } => Family::Ecp5,
            Target::Asic => Family::Asic,
        }
    }

    /// The same family with every multiplier in logic.
    pub fn without_dsp(self) -> Target {
        match self {
            Target::Xc7 { .. } => Target::Xc7 { dsp: false },
            Target::Ice40 { .. } => Target::Ice40 { dsp: false },
            Target::Ecp5 { .. } => Target::Ecp5 { dsp: false },
            Target::Asic => Target::Asic,
        }
    }

    /// Whether multipliers may go to hard DSP blocks (never for `asic`).
    pub fn uses_dsp(self) -> bool {
        match self {
            Target::Xc7 { dsp } | Target::Ice40 { dsp } | Target::Ecp5 { dsp } => dsp,
            Target::Asic => false,
        }
    }

    /// The Yosys commands that map the design (already read, with `top`
    /// checked) onto the target, flattened so counts cover the whole design.
    /// `liberty` is the quoted cell library path, used by `asic` only.
    pub(crate) fn synth_commands(self, top: &str, liberty: &str) -> Vec<String> {
        let nodsp = if self.uses_dsp() { "" } else { " -nodsp" };
        match self {
            // synth_xilinx keeps the hierarchy unless asked; I/O and clock
            // buffers belong to a whole chip, not to a block inside it.
            // -nowidelut: ABC maps to LUT6s instead of 7- and 8-input
            // functions joined by MUXF7/MUXF8, whose inputs that are not
            // LUT outputs cost a LUT1 buffer each. Over the calibration
            // sets (with / without DSP blocks) MAC arrays take 7.9% / 7.6%
            // fewer LUTs, spiking cores 0.4% more / 5.7% fewer, hash grids
            // 12.9% / 18.0% fewer (some designs up to 18% more), and the
            // cost model's held-out LUT error falls on both targets for
            // every family (it followed how much of a design ABC made 7-
            // and 8-input, as on ECP5).
            Target::Xc7 { .. } => {
                vec![format!(
                    "synth_xilinx -family xc7 -flatten -noiopad -noclkbuf -nowidelut{nodsp} -top {top}"
                )]
            }
            // synth_ice40 and synth_ecp5 flatten by default.
            Target::Ice40 { dsp } => vec![format!("synth_ice40{} -top {top}", if dsp { " -dsp" } else { "" })],
            // synth_ecp5 -nowidelut: ABC maps to LUT4s (`-lut 4`) instead of
            // 5- to 7-input functions joined by PFUMX/L6MUX21 (`-lut 4:7`).
            // Measured on spiking cores, hash grids and an E4M3 array, the
            // wide functions cost 12-45% more LUT4s for no Fmax (nextpnr,
            // seeds 1 and 2), and how wide ABC makes them does not follow the
            // design, which kept the cost model's ECP5 error high.
            Target::Ecp5 { .. } => vec![format!("synth_ecp5 -nowidelut{nodsp} -top {top}")],
            Target::Asic => vec![
                format!("synth -flatten -top {top}"),
                format!("dfflibmap -liberty {liberty}"),
                format!("abc -liberty {liberty}"),
                "opt_clean".to_string(),
            ],
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Target, SynthError> {
        let wanted = s.trim().to_ascii_lowercase();
        Target::ALL
            .into_iter()
            .find(|t| t.name() == wanted)
            .ok_or_else(|| SynthError::UnknownTarget { name: s.to_string() })
    }
}

impl From<Target> for String {
    fn from(t: Target) -> String {
        t.name().to_string()
    }
}

impl TryFrom<String> for Target {
    type Error = SynthError;

    fn try_from(s: String) -> Result<Target, SynthError> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in Target::ALL {
            assert_eq!(t.name().parse::<Target>().ok(), Some(t));
        }
        assert_eq!(" XC7-NoDSP ".parse::<Target>().ok(), Some(Target::Xc7 { dsp: false }));
    }

    #[test]
    fn unknown_names_list_the_allowed_ones() {
        let e = "virtex"
            .parse::<Target>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("`virtex`") && e.contains(&Target::names()), "{e}");
    }
}

//! The quantities a front or plot can use, and which way is better.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// LUTs (FPGA targets): synthesized when the sweep synthesizes, else the model's.
    Luts,
    Ffs,
    Carry,
    Dsp,
    Bram,
    /// Cell area in um^2 (`asic` only).
    Area,
    /// Test accuracy of the block's workload, 0..1.
    Accuracy,
    /// Signal-to-quantization-noise ratio of the workload's outputs, dB.
    Sqnr,
    /// Maximum clock frequency nextpnr reports after place and route, MHz.
    Fmax,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::Luts,
        Metric::Ffs,
        Metric::Carry,
        Metric::Dsp,
        Metric::Bram,
        Metric::Area,
        Metric::Accuracy,
        Metric::Sqnr,
        Metric::Fmax,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Luts => "luts",
            Metric::Ffs => "ffs",
            Metric::Carry => "carry",
            Metric::Dsp => "dsp",
            Metric::Bram => "bram",
            Metric::Area => "area",
            Metric::Accuracy => "accuracy",
            Metric::Sqnr => "sqnr",
            Metric::Fmax => "fmax",
        }
    }

    /// Axis title in plots and tables.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Luts => "LUTs",
            Metric::Ffs => "flip-flops",
            Metric::Carry => "carry cells",
            Metric::Dsp => "DSP blocks",
            Metric::Bram => "block RAMs",
            Metric::Area => "area (um^2)",
            Metric::Accuracy => "test accuracy (%)",
            Metric::Sqnr => "SQNR (dB)",
            Metric::Fmax => "Fmax (MHz)",
        }
    }

    /// Higher is better (a quality); otherwise lower is (a cost).
    pub fn maximize(self) -> bool {
        matches!(self, Metric::Accuracy | Metric::Sqnr | Metric::Fmax)
    }

    /// A value as printed: accuracy in percent, counts whole.
    pub fn show(self, v: f64) -> String {
        match self {
            Metric::Accuracy => format!("{:.2}%", v * 100.0),
            Metric::Sqnr => format!("{v:.1} dB"),
            Metric::Fmax => format!("{v:.1} MHz"),
            _ => format!("{v:.0}"),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Metric, String> {
        Metric::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            format!("`{s}` is not a metric: the metrics are {}", names.join(", "))
        })
    }
}

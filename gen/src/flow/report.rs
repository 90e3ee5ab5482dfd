//! Reading nextpnr's results: the `--report` JSON (Fmax per clock and
//! utilisation per resource type), and on a failed run the log's device
//! utilisation table, which says what overflowed.

use super::device::{Device, Resource};
use serde::Serialize;
use std::collections::BTreeMap;

/// Used and available count of one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub used: u64,
    pub available: u64,
}

impl Usage {
    pub fn percent(self) -> f64 {
        if self.available == 0 {
            0.0
        } else {
            100.0 * self.used as f64 / self.available as f64
        }
    }
}

/// What nextpnr's `--report` says about a placed and routed design.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PnrReport {
    /// Achieved Fmax in MHz, per clock net.
    pub fmax_mhz: BTreeMap<String, f64>,
    /// The constraint per clock net, MHz.
    pub constraint_mhz: BTreeMap<String, f64>,
    /// Every resource type nextpnr lists (used, available).
    pub utilization: BTreeMap<String, Usage>,
}

impl PnrReport {
    /// Parse the `--report` JSON of nextpnr 0.4 (iCE40) or 0.11 (ECP5).
    pub fn parse(text: &str) -> Result<PnrReport, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("nextpnr's report is not JSON: {e}"))?;
        let mut fmax_mhz = BTreeMap::new();
        let mut constraint_mhz = BTreeMap::new();
        for (clock, v) in json.get("fmax").and_then(|f| f.as_object()).into_iter().flatten() {
            if let Some(a) = v.get("achieved").and_then(|a| a.as_f64()) {
                fmax_mhz.insert(clock.clone(), a);
            }
            if let Some(c) = v.get("constraint").and_then(|c| c.as_f64()) {
                constraint_mhz.insert(clock.clone(), c);
            }
        }
        let utilization: BTreeMap<String, Usage> = json
            .get("utilization")
            .and_then(|u| u.as_object())
            .ok_or("nextpnr's report has no `utilization`")?
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.clone(),
                    Usage {
                        used: v.get("used")?.as_u64()?,
                        available: v.get("available")?.as_u64()?,
                    },
                ))
            })
            .collect();
        Ok(PnrReport {
            fmax_mhz,
            constraint_mhz,
            utilization,
        })
    }

    /// The slowest clock's Fmax: the design's.
    pub fn fmax(&self) -> Option<f64> {
        self.fmax_mhz.values().copied().reduce(f64::min)
    }
}

/// The resources users read, in the target's terms, with the package's
/// pin count in place of the die's I/O sites.
pub fn headline(device: Device, utilization: &BTreeMap<String, Usage>) -> Vec<(Resource, Usage)> {
    device
        .resources()
        .iter()
        .filter_map(|&(r, name)| {
            let mut u = *utilization.get(name)?;
            if r == Resource::Io {
                u.available = u.available.min(device.package_pins);
            }
            Some((r, u))
        })
        .collect()
}

/// The device utilisation table nextpnr logs before placing
/// (`Info: \t ICESTORM_LC:  456/ 5280     8%`), which it prints even when the
/// design then fails to fit.
pub fn log_utilization(log: &str) -> BTreeMap<String, Usage> {
    let mut found = BTreeMap::new();
    let mut in_table = false;
    for line in log.lines() {
        let body = line.trim_start_matches("Info:").trim();
        if body.starts_with("Device utilisation") {
            in_table = true;
            found.clear();
            continue;
        }
        if !in_table {
            continue;
        }
        let parsed = body.split_once(':').and_then(|(name, rest)| {
            let (used, rest) = rest.split_once('/')?;
            let available = rest.split_whitespace().next()?;
            Some((
                name.trim().to_string(),
                used.trim().parse().ok()?,
                available.parse().ok()?,
            ))
        });
        match parsed {
            Some((name, used, available)) => {
                found.insert(name, Usage { used, available });
            }
            None => in_table = false,
        }
    }
    found
}

/// The resources of `device` a failed run needed more of than there are.
pub fn overflows(device: Device, utilization: &BTreeMap<String, Usage>) -> Vec<(Resource, Usage)> {
    headline(device, utilization)
        .into_iter()
        .filter(|(_, u)| u.used > u.available)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICE40_LOG: &str = "Info: Packing constants..\n\nInfo: Device utilisation:\n\
        Info: \t         ICESTORM_LC:  6123/ 5280   115%\n\
        Info: \t        ICESTORM_RAM:     0/   30     0%\n\
        Info: \t               SB_IO:    43/   96    44%\n\
        Info: \t        ICESTORM_DSP:     9/    8   112%\n\nInfo: Placed 0 cells\n";

    #[test]
    fn reads_the_log_table_and_names_what_overflowed() {
        let u = log_utilization(ICE40_LOG);
        assert_eq!(u.len(), 4);
        assert_eq!(
            u["ICESTORM_LC"],
            Usage {
                used: 6123,
                available: 5280
            }
        );
        let device = Device::find("ice40-up5k").unwrap_or(Device::ALL[0]);
        let over: Vec<&str> = overflows(device, &u).iter().map(|(r, _)| r.name()).collect();
        // 43 I/O fit the die's 96 sites but not the SG48 package's 39 pins.
        assert_eq!(over, ["LUTs", "DSP", "IO"]);
        assert!(log_utilization("no table here").is_empty());
    }

    #[test]
    fn reads_the_report() {
        let text = r#"{"fmax": {"clk": {"achieved": 46.07, "constraint": 12}},
            "utilization": {"ICESTORM_LC": {"available": 5280, "used": 181}}}"#;
        let r = PnrReport::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.fmax(), Some(46.07));
        assert_eq!(r.constraint_mhz["clk"], 12.0);
        assert_eq!(r.utilization["ICESTORM_LC"].used, 181);
        assert!(PnrReport::parse("{}").is_err());
        assert!(PnrReport::parse("not json").is_err());
    }
}

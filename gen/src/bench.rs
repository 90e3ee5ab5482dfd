//! `accgen bench`: co-simulation throughput next to a plain C++ loop, the
//! cached start-up time, and generation time of a large array.

use crate::Failure;
use crate::config;
use crate::cosim::{self, TrafficKind};
use std::time::Instant;

pub fn run(_vectors: u64) -> Result<(), Failure> {
    let _ = (config::DEFAULT_CONFIG, TrafficKind::Full, Instant::now(), cosim::TrafficKind::Bursty);
    Err(Failure::Run("not yet".into()))
}

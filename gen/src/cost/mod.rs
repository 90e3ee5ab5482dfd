//! The cost model: calibration against synthesis and estimates.

pub mod fit;

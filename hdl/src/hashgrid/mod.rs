//! Multiresolution hash-grid encoders (Instant-NGP / tiny-cuda-nn):
//! parameters, the tiny-cuda-nn reference model, the bit-exact hardware
//! model, the streaming engine and its test vectors.

pub mod cost;
pub mod engine;
pub mod model;
pub mod params;
pub mod reference;
pub mod vectors;

pub use params::{EntryFormat, GridGeometry, HashGridParams, HashGridSpec};

use crate::Design;
use crate::ir::verilog::Provenance;

/// The complete design of a hash-grid encoder.
pub fn design(p: &HashGridParams, prov: &Provenance) -> Design {
    Design::assemble(&engine::engine(p), prov)
}

/// The entry decoder of level `l` alone, for exhaustive tests.
pub fn decoder_design(p: &HashGridParams, l: usize, prov: &Provenance) -> Design {
    let shift = match p.entry {
        EntryFormat::Int(_) => p.feature_frac_bits - p.int_scale_log2[l],
        EntryFormat::Float(_) => 0,
    };
    Design::assemble(&[engine::decoder(p, shift)], prov)
}

//! Multiresolution hash-grid encoders (Instant-NGP / tiny-cuda-nn):
//! parameters, the tiny-cuda-nn reference model, the bit-exact hardware
//! model, the streaming engine and its test vectors.

pub mod model;
pub mod params;
pub mod reference;

pub use params::{EntryFormat, GridGeometry, HashGridParams, HashGridSpec};

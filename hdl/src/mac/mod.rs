//! Integer MAC arrays: parameters, hardware (multiplier, PE, systolic
//! array), golden model and test vectors.

pub mod array;
pub mod cost;
pub mod model;
pub mod mul;
pub mod mul_check;
pub mod mul_np;
pub mod mul_split;
pub mod mul_tree;
pub mod operand;
pub mod params;
pub mod pe;
pub mod vectors;
pub mod wide;

pub use params::{MacArrayParams, MacArraySpec, MulImpl, Overflow};

use crate::Design;
use crate::ir::verilog::Provenance;

/// The complete design of a MAC array.
pub fn design(p: &MacArrayParams, prov: &Provenance) -> Design {
    Design::assemble(&array::array(p), prov)
}

/// A lone PE (with its multiplier) as a design of its own, for exhaustive tests.
pub fn pe_design(p: &MacArrayParams, prov: &Provenance) -> Design {
    Design::assemble(&pe::pe(p), prov)
}

//! Spiking-neuron cores: parameters, the neuron unit, the time-multiplexed
//! core, golden model and test vectors.

pub mod core;
pub mod cost;
pub mod model;
pub mod neuron;
pub mod params;
pub mod vectors;

pub use params::{CoreParams, CoreSpec, NeuronParams, Preset};

use crate::Design;
use crate::ir::verilog::Provenance;

/// The complete design of a spiking core.
pub fn design(p: &CoreParams, prov: &Provenance) -> Design {
    Design::assemble(&core::core(p), prov)
}

/// A lone neuron unit (combinational), for exhaustive tests.
pub fn neuron_design(p: &NeuronParams, prov: &Provenance) -> Design {
    Design::assemble(&[neuron::neuron(p)], prov)
}

/// Two cores chained into a two-layer network (see [`core::chain`]).
pub fn chain_design(first: &CoreParams, second: &CoreParams, prov: &Provenance) -> Result<Design, String> {
    match core::chain_params_error(first, second) {
        Some(e) => Err(e),
        None => Ok(Design::assemble(&core::chain(first, second), prov)),
    }
}

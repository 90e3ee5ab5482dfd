//! Spiking cores: lint, exhaustive neuron co-simulation, random event
//! streams through cores, back-pressure and a mutation that must be caught.

mod common;

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::spiking::params::{CoreSpec, DEFAULT_MAX_SYNAPSE_BITS, NeuronParams, Preset};
use accgen_hdl::spiking::{self, CoreParams};
use common::*;

fn core(n: u64, inputs: u64, units: u64, neuron: NeuronParams) -> CoreParams {
    CoreSpec {
        neurons: n,
        inputs,
        units,
        weight_width: 8,
        neuron,
        weight_init: None,
        max_synapse_bits: DEFAULT_MAX_SYNAPSE_BITS,
        reset: ResetStyle::SyncHigh,
    }
    .validate()
    .expect("valid core")
}

#[test]
fn cores_lint_clean() {
    for preset in [Preset::SnntorchLeaky, Preset::LavaLoihi, Preset::If] {
        for (n, units) in [(16, 1), (16, 4), (1, 1)] {
            let p = core(n, 8, units, preset.neuron());
            lint(&spiking::design(&p, &prov()));
        }
    }
}

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

use accgen_hdl::spiking::params::{Decay, Overflow, Word};
use accgen_hdl::spiking::vectors::{CoreVectors, NeuronExhaustive, Traffic};

fn w8(overflow: Overflow) -> Word {
    Word { width: 8, overflow }
}

/// Every (membrane, input) pair through a lone neuron unit at 8-bit widths.
fn exhaustive(p: &NeuronParams) -> u64 {
    let design = spiking::neuron_design(p, &prov());
    lint(&design);
    let report = check(&design, || NeuronExhaustive::new(&design, p, 3));
    let pairs = 1u64 << (p.membrane.width + p.accumulator.width);
    assert_eq!(report.cycles, pairs, "{}: every (membrane, input) pair", design.top);
    report.compared
}

/// 8-bit variants of the presets and the modes they do not cover.
fn neurons_8bit() -> Vec<NeuronParams> {
    let mut out = Vec::new();
    for preset in [
        Preset::SnntorchLeaky,
        Preset::SnntorchLeakyZero,
        Preset::LavaLoihi,
        Preset::If,
    ] {
        let mut p = preset.neuron();
        p.membrane = w8(Overflow::Saturate);
        p.accumulator = w8(Overflow::Saturate);
        p.threshold = 40;
        if let Some(s) = &mut p.synapse {
            s.current = w8(Overflow::Wrap);
            s.decay = Decay::Multiply { d: 1000 };
            p.decay = Decay::Multiply { d: 300 };
            p.accumulator = Word {
                width: 7,
                overflow: Overflow::Saturate,
            };
            p.input_shift = 1;
        }
        out.push(p);
    }
    let base = Preset::If.neuron();
    out.push(NeuronParams {
        membrane: w8(Overflow::Wrap),
        accumulator: w8(Overflow::Wrap),
        decay: Decay::Shift {
            k: 2,
            min_decrement: true,
        },
        threshold: 100,
        compare: accgen_hdl::spiking::params::Compare::NonStrict,
        reset: accgen_hdl::spiking::params::ResetMode::Zero,
        refractory: 3,
        bias: -3,
        ..base
    });
    out.push(NeuronParams {
        membrane: w8(Overflow::Saturate),
        accumulator: w8(Overflow::Saturate),
        decay: Decay::Multiply { d: 4095 },
        threshold: 1,
        reset: accgen_hdl::spiking::params::ResetMode::None,
        bias: 5,
        ..base
    });
    out.push(NeuronParams {
        membrane: w8(Overflow::Saturate),
        accumulator: w8(Overflow::Saturate),
        order: accgen_hdl::spiking::params::Order::ResetFromPrevious,
        decay: Decay::Shift {
            k: 7,
            min_decrement: true,
        },
        threshold: 127,
        input_shift: 2,
        reset: accgen_hdl::spiking::params::ResetMode::Subtract,
        ..base
    });
    out
}

#[test]
fn neuron_units_exhaustive_at_8_bits() {
    let mut compared = 0;
    for p in neurons_8bit() {
        p.validate("").expect("valid neuron");
        compared += exhaustive(&p);
    }
    assert!(compared >= 6 * 2 * 65536, "{compared} values compared");
}

fn random_core(p: &CoreParams, events: u64, traffic: Traffic, seed: u64) -> (u64, u64, u64) {
    let design = spiking::design(p, &prov());
    let counts = std::cell::RefCell::new(None);
    let report = check(&design, || {
        let v = CoreVectors::new(&design, p, seed, events, traffic);
        *counts.borrow_mut() = Some(v.counts());
        v
    });
    let c = counts.take().expect("counts");
    assert_eq!(c.events.get(), events, "{}: events accepted", design.top);
    assert!(
        c.ticks.get() > 0 && c.spikes.get() > 0,
        "{}: no spikes compared",
        design.top
    );
    eprintln!(
        "{}: {} cycles, {} values compared, {} events, {} steps, {} spikes",
        design.top,
        report.cycles,
        report.compared,
        c.events.get(),
        c.ticks.get(),
        c.spikes.get()
    );
    (c.events.get(), c.spikes.get(), report.compared)
}

#[test]
fn small_core_random_events() {
    let p = core(16, 8, 4, Preset::SnntorchLeaky.neuron());
    random_core(&p, 2000, Traffic::BURSTY, 1);
}

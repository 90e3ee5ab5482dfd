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
        "{}: {} cycles, {} values compared, {} events, {} steps, {} spikes, {:.0} k events/s",
        design.top,
        report.cycles,
        report.compared,
        c.events.get(),
        c.ticks.get(),
        c.spikes.get(),
        c.events.get() as f64 / report.elapsed.as_secs_f64() / 1e3
    );
    (c.events.get(), c.spikes.get(), report.compared)
}

/// A leaky neuron with a refractory period and Xylo's minimum decrement,
/// non-strict threshold, reset to zero: modes the presets leave out.
fn refractory_neuron() -> NeuronParams {
    NeuronParams {
        decay: Decay::Shift {
            k: 3,
            min_decrement: true,
        },
        compare: accgen_hdl::spiking::params::Compare::NonStrict,
        reset: accgen_hdl::spiking::params::ResetMode::Zero,
        refractory: 2,
        bias: -2,
        ..Preset::If.neuron()
    }
}

/// Random event streams (102,000 events) through cores of 16, 256 and
/// 1024 neurons on 1 and 4 units (and 8 on 8), with random input gaps and output
/// back-pressure; every handshake, spike address and end-of-step marker is
/// compared with the golden model, cycle by cycle.
#[test]
fn random_event_streams_through_cores() {
    let cases = [
        (16, 1, Preset::SnntorchLeaky.neuron(), 30_000),
        (16, 4, Preset::LavaLoihi.neuron(), 30_000),
        (256, 1, refractory_neuron(), 10_000),
        (256, 4, Preset::SnntorchLeakyZero.neuron(), 20_000),
        (1024, 1, Preset::LavaLoihi.neuron(), 4_000),
        (1024, 4, Preset::SnntorchLeaky.neuron(), 8_000),
        // One slot with N a power of two: the spike address is the unit.
        (8, 8, Preset::SnntorchLeaky.neuron(), 5_000),
    ];
    let mut events = 0;
    for (seed, (n, units, neuron, count)) in cases.into_iter().enumerate() {
        let p = core(n, 32, units, neuron);
        let (e, _, _) = random_core(&p, count, Traffic::BURSTY, seed as u64);
        events += e;
    }
    assert!(events >= 100_000, "{events} events");
}

/// Back-pressure on both streams: a producer that offers an event every
/// cycle (so the core's in_ready_o throttles it), and a consumer that
/// takes an output event one cycle in twenty.
#[test]
fn back_pressure_on_both_streams() {
    let p = core(16, 8, 4, refractory_neuron());
    let (_, spikes, _) = random_core(
        &p,
        3000,
        Traffic {
            offer: 1.0,
            ready: 0.05,
        },
        21,
    );
    assert!(spikes > 500, "{spikes} spikes");
    random_core(&p, 3000, Traffic::STALLED, 22);
    random_core(&p, 3000, Traffic::FULL, 23);
    let p = core(64, 8, 1, Preset::SnntorchLeaky.neuron());
    random_core(
        &p,
        2000,
        Traffic {
            offer: 1.0,
            ready: 0.05,
        },
        24,
    );
}

/// Broken RTL must fail: an output handshake that ignores back-pressure
/// (drops spikes), and a decay shift off by one.
#[test]
fn mutants_are_caught() {
    let p = core(16, 8, 4, Preset::SnntorchLeaky.neuron());
    let good = spiking::design(&p, &prov());
    for (module, from, to) in [
        (
            "accgen_snn_core",
            "assign emit_done = (spk_q == 4'd0) || ((spk_rest == 4'd0) && out_ready_i);",
            "assign emit_done = (spk_q == 4'd0) || (spk_rest == 4'd0);",
        ),
        (
            "accgen_snn_neuron",
            "assign mem_dec = v_i >>> 4;",
            "assign mem_dec = v_i >>> 3;",
        ),
    ] {
        let (bad, _) = common::mutate(&good, module, from, to);
        let model = build(&bad);
        match try_check(&model, &bad, || CoreVectors::new(&bad, &p, 5, 3000, Traffic::BURSTY)) {
            Err(accgen_sim::SimError::Mismatch(_)) => {}
            other => panic!("mutant `{to}` was not caught: {other:?}"),
        }
    }
    random_core(&p, 3000, Traffic::BURSTY, 5);
}

/// The synapse memory is block RAM, not flip-flops: Yosys maps a 64-neuron
/// core's 2048 x 8-bit weights to iCE40 RAM blocks (4 kbit each).
#[test]
fn synapse_memory_is_block_ram() {
    let p = core(64, 32, 1, Preset::SnntorchLeaky.neuron());
    let design = spiking::design(&p, &prov());
    let r = accgen::synth::synthesize(
        &design,
        "ice40".parse().expect("target"),
        &accgen::synth::SynthOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let synapse_bits = 64 * 32 * 8;
    assert!(
        r.summary.bram * 4096 >= synapse_bits,
        "{}: {} RAM blocks for {synapse_bits} synapse bits; cells {:?}",
        design.top,
        r.summary.bram,
        r.cells
    );
    // The state is 64 x 32 bits; with the weights in RAM, flip-flops are the controller's only.
    assert!(
        r.summary.ffs < 200,
        "{} flip-flops: memories were not inferred",
        r.summary.ffs
    );
}

/// Two cores chained: random weights, rate-coded random inputs; layer-1
/// spikes (on the tap) and layer-2 spikes compared every cycle, with
/// back-pressure from the output stalling both layers.
#[test]
fn two_layers_chained() {
    use accgen_hdl::spiking::model::CoreModel;
    use accgen_hdl::spiking::vectors::ChainVectors;
    use rand::{RngExt, SeedableRng};
    let l1 = core(32, 16, 4, Preset::SnntorchLeaky.neuron());
    let l2 = core(8, 32, 2, refractory_neuron());
    let design = spiking::chain_design(&l1, &l2, &prov()).expect("chainable");
    lint(&design);
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut models = [CoreModel::new(&l1), CoreModel::new(&l2)];
    for m in &mut models {
        for a in 0..m.p.inputs {
            for n in 0..m.p.neurons {
                m.set_weight(a, n, rng.random_range(-40..=127));
            }
        }
    }
    let script = ChainVectors::random_script(16, 300, 0.4, &mut rng);
    for (traffic, seed) in [
        (Traffic::BURSTY, 1),
        (Traffic::FULL, 2),
        (Traffic { offer: 1.0, ready: 0.1 }, 3),
    ] {
        let logs = std::cell::RefCell::new(None);
        let report = check(&design, || {
            let v = ChainVectors::new(
                &design,
                models[0].clone(),
                models[1].clone(),
                script.clone(),
                traffic,
                seed,
            );
            *logs.borrow_mut() = Some(v.logs());
            v
        });
        let (a, b) = logs.take().expect("logs");
        let (a, b) = (a.borrow(), b.borrow());
        let s1: usize = a.iter().map(Vec::len).sum();
        let s2: usize = b.iter().map(Vec::len).sum();
        eprintln!(
            "{}: {} cycles, {} compared, {s1} layer-1 and {s2} layer-2 spikes",
            design.top, report.cycles, report.compared
        );
        assert_eq!((a.len(), b.len()), (300, 300), "every step reached both layers");
        assert!(s1 > 300 && s2 > 100, "{s1} / {s2} spikes");
    }
}

/// `weights.init`: the synapse memory starts from a `$readmemh` file, and
/// events work with no word sent on the load port.
#[test]
fn weights_from_readmemh() {
    let dir = scratch("spiking_readmemh");
    let hex = dir.join("weights.hex");
    let mut p = core(16, 8, 4, Preset::SnntorchLeaky.neuron());
    p.weight_init = Some(hex.display().to_string());
    let design = spiking::design(&p, &prov());
    let text = &design.files.last().expect("top").text;
    assert!(
        text.contains(&format!("$readmemh(\"{}\", wgt_mem);", hex.display())),
        "{text}"
    );
    let stim = CoreVectors::new(&design, &p, 31, 2000, Traffic::BURSTY);
    std::fs::write(&hex, stim.weight_hex()).expect("write hex");
    lint(&design);
    // With the memory left empty no neuron would fire, and every expected spike would mismatch.
    let counts = std::cell::RefCell::new(None);
    check(&design, || {
        let v = CoreVectors::new(&design, &p, 31, 2000, Traffic::BURSTY).preloaded();
        *counts.borrow_mut() = Some(v.counts());
        v
    });
    let c = counts.take().expect("counts");
    assert_eq!(c.events.get(), 2000);
    assert!(c.spikes.get() > 100, "{} spikes", c.spikes.get());
}

/// Seeded random valid configurations (widths 2..32, every decay, order,
/// reset, overflow and synapse kind, odd N and P): lint and a random event
/// stream each. Beyond the exhaustive 8-bit neurons, this is what covers
/// wide membranes and currents.
#[test]
fn random_valid_configurations() {
    use accgen_hdl::spiking::params::{Compare, Order, ResetMode, Synapse};
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut done = 0;
    while done < 6 {
        let word = |rng: &mut rand::rngs::StdRng, lo: u32| random_word(rng, lo, 32);
        let decay = |rng: &mut rand::rngs::StdRng, w: u32| random_decay(rng, w, 4096);
        let membrane = word(&mut rng, 4);
        let accumulator = word(&mut rng, 8);
        let synapse = rng.random_bool(0.4).then(|| {
            let current = word(&mut rng, 4);
            Synapse {
                current,
                decay: decay(&mut rng, current.width),
            }
        });
        let order = if rng.random_bool(0.5) {
            Order::IntegrateThenFire
        } else {
            Order::ResetFromPrevious
        };
        let max = membrane.max();
        let neuron = NeuronParams {
            order,
            membrane,
            decay: decay(&mut rng, membrane.width),
            synapse,
            accumulator,
            input_shift: rng.random_range(0..4),
            bias: rng.random_range(-(max / 64)..=max / 64),
            threshold: rng.random_range(1..=max.min(1 << 12)),
            compare: if rng.random_bool(0.5) {
                Compare::Strict
            } else {
                Compare::NonStrict
            },
            reset: [ResetMode::Zero, ResetMode::Subtract, ResetMode::None][rng.random_range(0..3)],
            refractory: if order == Order::IntegrateThenFire {
                rng.random_range(0..4)
            } else {
                0
            },
        };
        let n = [1u64, 3, 6, 12][rng.random_range(0..4)];
        let divisors: Vec<u64> = (1..=n).filter(|d| n.is_multiple_of(*d)).collect();
        let spec = CoreSpec {
            neurons: n,
            inputs: rng.random_range(1..=20),
            units: divisors[rng.random_range(0..divisors.len())],
            weight_width: rng.random_range(2..=8),
            neuron,
            weight_init: None,
            max_synapse_bits: DEFAULT_MAX_SYNAPSE_BITS,
            reset: if rng.random_bool(0.5) {
                ResetStyle::SyncHigh
            } else {
                ResetStyle::AsyncLow
            },
        };
        let Ok(p) = spec.validate() else { continue };
        let design = spiking::design(&p, &prov());
        lint(&design);
        let counts = std::cell::RefCell::new(None);
        check(&design, || {
            let v = CoreVectors::new(&design, &p, done, 1500, Traffic::BURSTY);
            *counts.borrow_mut() = Some(v.counts());
            v
        });
        let c = counts.take().expect("counts");
        assert_eq!(c.events.get(), 1500, "{}", design.top);
        eprintln!("{}: {} steps, {} spikes", design.top, c.ticks.get(), c.spikes.get());
        done += 1;
    }
}

/// Synapse words wider than 64 bits (16 units of 12-bit weights) and many
/// units in one slot: the load port and spike emission at large P.
#[test]
fn many_units_and_wide_weight_words() {
    let mut p = core(128, 24, 16, Preset::LavaLoihi.neuron());
    p.weight_width = 12;
    lint(&spiking::design(&p, &prov()));
    let (_, spikes, _) = random_core(&p, 3000, Traffic::BURSTY, 41);
    assert!(spikes > 1000, "{spikes} spikes");
}

/// CUBA neurons over every (membrane, current, input) triple at 6-bit
/// widths (2^17 or 2^18 triples), saturating and wrapping currents, both orders.
#[test]
fn cuba_neurons_exhaustive_over_current_too() {
    use accgen_hdl::spiking::params::{Order, Synapse};
    let w = |width, overflow| Word { width, overflow };
    for (order, cur_ovf, acc_w, shift) in [
        (Order::IntegrateThenFire, Overflow::Wrap, 5, 1),
        (Order::ResetFromPrevious, Overflow::Saturate, 6, 2),
    ] {
        let p = NeuronParams {
            order,
            membrane: w(6, Overflow::Saturate),
            accumulator: w(acc_w, Overflow::Saturate),
            synapse: Some(Synapse {
                current: w(6, cur_ovf),
                decay: Decay::Multiply { d: 1500 },
            }),
            decay: Decay::Shift {
                k: 2,
                min_decrement: true,
            },
            input_shift: shift,
            threshold: 20,
            bias: 1,
            ..Preset::LavaLoihi.neuron()
        };
        p.validate("").expect("valid neuron");
        let design = spiking::neuron_design(&p, &prov());
        lint(&design);
        let report = check(&design, || NeuronExhaustive::new(&design, &p, 3).all_currents());
        assert_eq!(report.cycles, 1u64 << (6 + 6 + acc_w), "{}: every triple", design.top);
    }
}

//! Pipelined spiking cores (`spiking_core.pipeline`): register stages in
//! the neuron units. Each depth co-simulated against the golden model,
//! whose controller overlaps the slots in the pipeline (a slot enters each
//! cycle the pipeline advances, the pipeline holds while a slot's spikes
//! wait on the output); every output is compared every cycle. A wrong
//! delay, a missing hold or an early end of step in the RTL, or a wrong
//! depth in the model, must fail.

mod common;

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::spiking::model::CoreModel;
use accgen_hdl::spiking::params::{
    Compare, CoreSpec, DEFAULT_MAX_SYNAPSE_BITS, Decay, MAX_PIPELINE, NeuronParams, Preset, ResetMode,
};
use accgen_hdl::spiking::vectors::{CoreCounts, CoreMirror, CoreVectors, Traffic};
use accgen_hdl::spiking::{self, CoreParams};
use common::*;

fn core(n: u64, inputs: u64, units: u64, neuron: NeuronParams, pipeline: u64) -> CoreParams {
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
    .and_then(|p| p.with_pipeline(pipeline))
    .expect("valid core")
}

/// Integrate-then-fire with a refractory period (the membrane and the
/// counter travel down the pipeline), minimum decrement, non-strict compare.
fn refractory_neuron() -> NeuronParams {
    NeuronParams {
        decay: Decay::Shift {
            k: 3,
            min_decrement: true,
        },
        compare: Compare::NonStrict,
        reset: ResetMode::Zero,
        refractory: 2,
        bias: -2,
        ..Preset::If.neuron()
    }
}

/// Lint, then `events` random events under `traffic`, compared every cycle;
/// returns (values compared, spikes).
fn run(p: &CoreParams, events: u64, traffic: Traffic, seed: u64) -> (u64, u64) {
    let (compared, c) = run_counts(p, events, traffic, seed);
    (compared, c.spikes.get())
}

/// [`run`], returning the run's counters.
fn run_counts(p: &CoreParams, events: u64, traffic: Traffic, seed: u64) -> (u64, CoreCounts) {
    let design = spiking::design(p, &prov());
    lint(&design);
    let counts = std::cell::RefCell::new(None);
    let report = check(&design, || {
        let v = CoreVectors::new(&design, p, seed, events, traffic);
        *counts.borrow_mut() = Some(v.counts());
        v
    });
    let c = counts.take().expect("counts");
    assert_eq!(c.events.get(), events, "{}: events accepted", design.top);
    assert!(c.ticks.get() > 0 && c.spikes.get() > 0, "{}: no spikes", design.top);
    eprintln!(
        "{}: {} cycles, {} values compared, {} steps, {} spikes, {} cycles a spike was refused with slots in flight",
        design.top,
        report.cycles,
        report.compared,
        c.ticks.get(),
        c.spikes.get(),
        c.held_in_flight.get()
    );
    (report.compared, c)
}

/// Each depth on a time-multiplexed core (4 slots): depths 1 and 3 with
/// Lava's CUBA neuron (two multiply decays, their products registered at
/// depth 3), depth 2 with a refractory period (membrane and counter carried
/// through the stages); bursty traffic and output back-pressure.
/// Reset-from-previous at depth 3 on 4 slots is [`a_wrong_delay_is_caught`]'s
/// good run; one slot at every depth is
/// [`same_neurons_back_to_back_read_their_written_state`].
#[test]
fn each_depth_matches_the_model_time_multiplexed() {
    assert_eq!(MAX_PIPELINE, 3, "every depth needs a case here");
    let mut compared = 0;
    for (depth, n, units, neuron) in [
        (1, 16, 4, Preset::LavaLoihi.neuron()),
        (2, 12, 3, refractory_neuron()),
        (3, 16, 4, Preset::LavaLoihi.neuron()),
    ] {
        let p = core(n, 16, units, neuron, depth);
        assert_eq!(p.step_cycles(), n / units + depth + 3);
        compared += run(&p, 3000, Traffic::BURSTY, 10 + depth).0;
    }
    assert!(compared > 100_000, "{compared} values compared");
}

/// Not multiplexed (N = P, one slot), which is also the read-modify-write
/// hazard: every pass reads and writes the same state word. Steps of 0..2
/// events (2 inputs), events offered every cycle and the output always
/// ready put each pass right after the update of the same neurons: an
/// update still in the pipeline would be read stale. The end-of-step
/// marker waiting for the pipeline to empty makes the write land first;
/// checked at every depth, for reset-from-previous and refractory neurons
/// whose state changes every step (at depth 3 without a decay: the
/// membrane register inside the decay is the one the refractory hold uses).
#[test]
fn same_neurons_back_to_back_read_their_written_state() {
    for (depth, neuron) in [
        (1, Preset::SnntorchLeakyZero.neuron()),
        (2, refractory_neuron()),
        (
            3,
            NeuronParams {
                decay: Decay::None,
                refractory: 1,
                ..refractory_neuron()
            },
        ),
    ] {
        let p = core(4, 2, 4, neuron, depth);
        let (_, spikes) = run(&p, 4000, Traffic::FULL, 70 + depth);
        assert!(spikes > 500, "{spikes} spikes");
    }
}

/// A wrong delay must fail: the RTL taking the update one cycle before it
/// leaves the pipeline, and the golden model assuming one stage fewer than
/// the RTL has.
#[test]
fn a_wrong_delay_is_caught() {
    let p = core(16, 8, 4, Preset::SnntorchLeaky.neuron(), 3);
    let good = spiking::design(&p, &prov());
    let (bad, _) = common::mutate(
        &good,
        "accgen_snn_core",
        "assign upd_done = pl_en && vld_q[3];",
        "assign upd_done = pl_en && vld_q[2];",
    );
    let model = build(&bad);
    match try_check(&model, &bad, || CoreVectors::new(&bad, &p, 5, 2000, Traffic::BURSTY)) {
        Err(accgen_sim::SimError::Mismatch(_)) => {}
        other => panic!("the RTL mutant with one cycle less was not caught: {other:?}"),
    }
    let short = core(16, 8, 4, Preset::SnntorchLeaky.neuron(), 2);
    let model = build(&good);
    match try_check(&model, &good, || {
        CoreVectors::new(&good, &short, 5, 2000, Traffic::BURSTY)
    }) {
        Err(accgen_sim::SimError::Mismatch(_)) => {}
        other => panic!("a model one stage short was not caught: {other:?}"),
    }
    run(&p, 2000, Traffic::BURSTY, 5);
}

/// The documented time step (`step_cycles`: 2 + 2 N/P unpipelined,
/// 3 + L + N/P pipelined) is the golden controller's, cycle for cycle, which
/// every co-simulation here holds the RTL to: a tick with no spikes and the
/// output always ready, from its acceptance to the end-of-step marker
/// leaving, at every depth on one slot, a few and many.
#[test]
fn a_time_step_takes_the_documented_cycles() {
    for depth in 0..=u64::from(MAX_PIPELINE) {
        for (n, units) in [(4, 4), (16, 4), (64, 1)] {
            let p = core(n, 4, units, Preset::SnntorchLeaky.neuron(), depth);
            let mut mirror = CoreMirror::new(CoreModel::new(&p));
            while !mirror.idle() {
                mirror.clock(None, true);
            }
            for step in 0..3 {
                let mut cycles = 1;
                assert_eq!(mirror.clock(Some(None), true), None);
                loop {
                    cycles += 1;
                    match mirror.clock(None, true) {
                        None => continue,
                        Some(None) => break,
                        Some(Some(s)) => panic!("spike {s} with zero weights"),
                    }
                }
                assert!(mirror.idle());
                let expected = if depth == 0 {
                    2 + 2 * n / units
                } else {
                    3 + depth + n / units
                };
                assert_eq!(
                    cycles, expected,
                    "depth {depth}, {n} neurons on {units} units, step {step}"
                );
                assert_eq!(p.step_cycles(), expected);
            }
        }
    }
}

/// Output back-pressure while later slots are in the pipeline: the whole
/// pipeline (read register, stages, write-back) must hold with the slot
/// whose spikes wait. Many spikes (low threshold, Lava's CUBA neuron at
/// depth 3 on 16 slots, the refractory neuron at depth 2 on 8) under a
/// consumer ready one cycle in five; then the RTL with the hold removed
/// (the pipeline advancing while a spike is refused) must fail.
#[test]
fn back_pressure_holds_the_slots_in_flight() {
    let traffic = Traffic { offer: 0.9, ready: 0.2 };
    let lava = NeuronParams {
        threshold: 64,
        ..Preset::LavaLoihi.neuron()
    };
    let refractory = NeuronParams {
        threshold: 8,
        ..refractory_neuron()
    };
    for (depth, n, units, neuron, seed) in [(3, 32, 2, lava, 31), (2, 16, 2, refractory, 32)] {
        let p = core(n, 8, units, neuron, depth);
        let (compared, c) = run_counts(&p, 1500, traffic, seed);
        assert!(compared > 50_000, "{compared} values compared");
        assert!(
            c.held_in_flight.get() > 1000,
            "depth {depth}: spikes refused with slots in flight in only {} cycles",
            c.held_in_flight.get()
        );
    }
    let p = core(32, 8, 2, lava, 3);
    let good = spiking::design(&p, &prov());
    let (bad, sites) = common::mutate(
        &good,
        "accgen_snn_core",
        "assign pl_en = st_update && emit_done;",
        "assign pl_en = st_update;",
    );
    assert_eq!(sites, 1);
    let model = build(&bad);
    match try_check(&model, &bad, || CoreVectors::new(&bad, &p, 31, 1500, traffic)) {
        Err(accgen_sim::SimError::Mismatch(_)) => {}
        other => panic!("the RTL without the back-pressure hold was not caught: {other:?}"),
    }
}

/// The read-after-write guard of the overlapped update: a slot is read once
/// per step, so the only slot read again is one of the next step, and the
/// end-of-step marker (hence every later read) waits until the pipeline is
/// empty, the last slot written back. With that wait cut short by the
/// last stage (the marker leaving as the last slot's update does) the N = P
/// core of [`same_neurons_back_to_back_read_their_written_state`], where
/// N/P = 1 is not larger than the depth, must fail.
#[test]
fn end_of_step_before_the_last_write_back_is_caught() {
    let neuron = NeuronParams {
        decay: Decay::None,
        refractory: 1,
        ..refractory_neuron()
    };
    let p = core(4, 2, 4, neuron, 3);
    let good = spiking::design(&p, &prov());
    let (bad, sites) = common::mutate(
        &good,
        "accgen_snn_core",
        "assign upd_end = pl_en && (vld_q == 4'd0);",
        "assign upd_end = pl_en && (vld_q[2:0] == 3'd0);",
    );
    assert_eq!(sites, 1);
    let model = build(&bad);
    match try_check(&model, &bad, || CoreVectors::new(&bad, &p, 73, 2000, Traffic::FULL)) {
        Err(accgen_sim::SimError::Mismatch(_)) => {}
        other => panic!("the RTL ending the step before the last write-back was not caught: {other:?}"),
    }
}

/// Depth 0 is today's core: same Verilog and hash with `pipeline: 0` as
/// without the key; a depth adds `_pl<d>` to the module names.
#[test]
fn depth_zero_is_the_unpipelined_core() {
    let dir = scratch("spiking_pipeline/zero");
    let base = "name: z\nspiking_core:\n  neurons: 16\n  inputs: 8\n  units: 4\n";
    let generate = |name: &str, yaml: &str| {
        std::fs::write(dir.join(name), yaml).expect("write");
        let out = dir.join(format!("out_{name}"));
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_accgen"))
            .current_dir(&dir)
            .args(["gen", name, "-o"])
            .arg(&out)
            .output()
            .expect("run accgen");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let mut files: Vec<(String, String)> = walk(&out)
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "v"))
            .map(|f| {
                let text = std::fs::read_to_string(&f).expect("read");
                (f.file_name().expect("name").to_string_lossy().into_owned(), text)
            })
            .collect();
        files.sort();
        files
    };
    let plain = generate("plain.yaml", base);
    let zero = generate("zero.yaml", &format!("{base}  pipeline: 0\n"));
    assert!(!plain.is_empty());
    // The command line in the header names the file; the rest is identical.
    let strip = |f: &[(String, String)]| -> Vec<(String, String)> {
        f.iter()
            .map(|(n, t)| (n.clone(), t.replace("zero.yaml", "plain.yaml")))
            .collect()
    };
    assert_eq!(strip(&zero), strip(&plain));
    let two = generate("two.yaml", &format!("{base}  pipeline: 2\n"));
    assert!(
        two.iter()
            .any(|(n, _)| n.starts_with("accgen_snn_core_") && n.ends_with("_pl2.v"))
    );
    assert!(
        two.iter()
            .any(|(n, _)| n.starts_with("accgen_snn_neuron_") && n.ends_with("_pl2.v"))
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The cost model's flip-flop count of the pipeline (`cost::registers`)
/// against Yosys: the flip-flops a depth adds to a depth-0 core on the
/// iCE40 (memories in block RAM), for reset-from-previous (shift decay),
/// CUBA (multiply decays) and a refractory neuron; each stage's count is
/// in one of the differences.
#[test]
fn pipeline_flip_flops_match_the_cost_model() {
    use accgen_hdl::spiking::cost::registers;
    for (n, units, neuron, depths) in [
        (8, 4, Preset::SnntorchLeaky.neuron(), &[3][..]),
        (8, 2, Preset::LavaLoihi.neuron(), &[1, 3][..]),
        (8, 4, refractory_neuron(), &[2, 3][..]),
    ] {
        let ffs = |depth: u64| {
            let p = core(n, 8, units, neuron, depth);
            let r = accgen::synth::synthesize(
                &spiking::design(&p, &prov()),
                "ice40".parse().expect("target"),
                &accgen::synth::SynthOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            (r.summary.ffs as i64, registers(&p).total() as i64)
        };
        let (base, base_model) = ffs(0);
        for &depth in depths {
            let (got, model) = ffs(depth);
            eprintln!(
                "depth {depth}: Yosys +{} flip-flops, model +{}",
                got - base,
                model - base_model
            );
            assert_eq!(got - base, model - base_model, "depth {depth}, {neuron:?}");
        }
    }
}

/// Seeded random valid neurons (every decay on membrane and current, both
/// orders, every reset, wrap and saturate, refractory periods, input
/// shifts) at random depths 1..3 on small cores, one slot or several, and
/// a shift-decayed CUBA current at depth 3: the cut placements the named
/// cases above leave out.
#[test]
fn random_neurons_at_random_depths() {
    use accgen_hdl::spiking::params::{Order, Overflow, Synapse, Word};
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(77);
    let mut done = 0;
    while done < 5 {
        let word = random_word;
        let decay = |rng: &mut rand::rngs::StdRng, w: u32| random_decay(rng, w, 4095);
        let membrane = word(&mut rng, 10, 20);
        let synapse = rng.random_bool(0.5).then(|| {
            let current = word(&mut rng, 12, 20);
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
        let neuron = NeuronParams {
            order,
            membrane,
            decay: decay(&mut rng, membrane.width),
            synapse,
            accumulator: word(&mut rng, 8, 12),
            input_shift: rng.random_range(0..3),
            bias: rng.random_range(-3..=3),
            threshold: rng.random_range(20..=200),
            compare: if rng.random_bool(0.5) {
                Compare::Strict
            } else {
                Compare::NonStrict
            },
            reset: [ResetMode::Zero, ResetMode::Subtract, ResetMode::None][rng.random_range(0..3)],
            refractory: if order == Order::IntegrateThenFire {
                rng.random_range(0..3)
            } else {
                0
            },
        };
        let (n, units) = [(4, 4), (6, 2), (8, 4)][rng.random_range(0..3)];
        let depth = rng.random_range(1..=MAX_PIPELINE as u64);
        let Ok(p) = CoreSpec {
            neurons: n,
            inputs: 6,
            units,
            weight_width: 6,
            neuron,
            weight_init: None,
            max_synapse_bits: DEFAULT_MAX_SYNAPSE_BITS,
            reset: ResetStyle::SyncHigh,
        }
        .validate()
        .and_then(|p| p.with_pipeline(depth)) else {
            continue;
        };
        run(&p, 1500, Traffic::BURSTY, 90 + done);
        done += 1;
    }
    // And a CUBA current with a shift decay at depth 3: the current's own
    // register inside its decay, beside the membrane's, with a refractory hold.
    let cuba = NeuronParams {
        synapse: Some(Synapse {
            current: Word {
                width: 20,
                overflow: Overflow::Saturate,
            },
            decay: Decay::Shift {
                k: 2,
                min_decrement: true,
            },
        }),
        decay: Decay::Shift {
            k: 3,
            min_decrement: false,
        },
        refractory: 1,
        ..Preset::LavaLoihi.neuron()
    };
    run(&core(8, 6, 4, cuba, 3), 1500, Traffic::BURSTY, 99);
}

/// Two pipelined cores chained (depth 2 feeding depth 3, the second
/// stalling the first through back-pressure): both layers' spikes compared
/// every cycle against the two mirrored models.
#[test]
fn pipelined_layers_chained() {
    use accgen_hdl::spiking::vectors::ChainVectors;
    let l1 = core(16, 8, 4, Preset::SnntorchLeaky.neuron(), 2);
    let l2 = core(4, 16, 2, refractory_neuron(), 3);
    let design = spiking::chain_design(&l1, &l2, &prov()).expect("chainable");
    lint(&design);
    let seen = std::cell::RefCell::new(None);
    let report = check(&design, || {
        let v = ChainVectors::random(&design, &l1, &l2, 5, 30_000, Traffic::BURSTY);
        *seen.borrow_mut() = Some((v.steps_checked(), v.logs()));
        v
    });
    let (steps, (a, b)) = seen.take().expect("logs");
    let spikes = |log: &accgen_hdl::spiking::vectors::StepLog| log.borrow().iter().map(Vec::len).sum::<usize>();
    let (s1, s2) = (spikes(&a), spikes(&b));
    eprintln!(
        "{}: {} cycles, {} compared, {} steps, {s1} layer-1 and {s2} layer-2 spikes",
        design.top,
        report.cycles,
        report.compared,
        steps.get()
    );
    assert!(
        steps.get() > 50 && s1 > 100 && s2 > 20,
        "{} steps, {s1} / {s2} spikes",
        steps.get()
    );
}

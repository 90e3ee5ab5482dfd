//! The host's side of the stream wrapper (hash-grid engines, spiking
//! cores and chains of two behind a UART, see `accgen_hdl::board`): the frames to send, each
//! with the output beats the block's transaction-level golden model
//! predicts for it, and the exchange that sends them and compares. It works
//! on any `Read + Write` transport, so the tests drive the same code as
//! `accgen run-uart`.

use accgen_hdl::Bits;
use accgen_hdl::board::stream::StreamFraming;
use accgen_hdl::hashgrid::HashGridParams;
use accgen_hdl::hashgrid::model::HardwareModel;
use accgen_hdl::spiking::CoreParams;
use accgen_hdl::spiking::model::{ChainModel, CoreModel};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::io::{Read, Write};

/// One frame and what the board answers to it.
#[derive(Clone, Debug)]
pub struct Step {
    /// What the frame is, for error messages ("point 3 (12, 250)").
    pub what: String,
    pub frame: Vec<u8>,
    /// The output beats the golden model predicts, in order.
    pub expect: Vec<Bits>,
    /// Values (features, events) one expected beat carries, for the count.
    pub values_per_beat: usize,
}

/// Send `steps` in order; after each frame that has answers, read them
/// (the protocol's pacing: the next frame waits for them) and compare them
/// with the golden model's. Returns the values compared, or the first
/// mismatch or short answer.
pub fn exchange<T: Read + Write>(port: &mut T, framing: &StreamFraming, steps: &[Step]) -> Result<usize, String> {
    let mut compared = 0;
    for step in steps {
        port.write_all(&step.frame)
            .and_then(|_| port.flush())
            .map_err(|e| format!("{}: writing to the port: {e}", step.what))?;
        if step.expect.is_empty() {
            continue;
        }
        let want = step.expect.len() * framing.out_bytes() as usize;
        let answer = read_answer(port, want).map_err(|e| format!("{}: {e}", step.what))?;
        let got = framing.decode_outputs(&answer)?;
        for (i, (g, w)) in got.iter().zip(&step.expect).enumerate() {
            if g != w {
                return Err(format!(
                    "{}: output beat {i} is 0x{} from the board, 0x{} from the golden model",
                    step.what,
                    g.to_hex(),
                    w.to_hex()
                ));
            }
            compared += step.values_per_beat;
        }
    }
    Ok(compared)
}

/// Read exactly `n` bytes, or explain why not.
pub fn read_answer<T: Read>(port: &mut T, n: usize) -> Result<Vec<u8>, String> {
    let mut answer = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match port.read(&mut answer[got..]) {
            Ok(0) => {
                return Err(format!(
                    "the board answered {got} of {n} bytes and then fell silent; is the bitstream built \
                     from this configuration, the baud rate right, and --timeout long enough?"
                ));
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading from the port: {e}")),
        }
    }
    Ok(answer)
}

/// Hash grid: every table entry of `tables` loaded over the UART (into a
/// zeroed model, as the board's tables are written), then `points` one at
/// a time, each answered by one beat of L * F features.
pub fn hash_grid_steps(framing: &StreamFraming, tables: &HardwareModel, points: &[Vec<u64>]) -> Vec<Step> {
    let p = &tables.p;
    let mut model = HardwareModel::zeros(p);
    let mut steps = Vec::new();
    let [lw, aw, dw] = [
        framing.load_fields[0][0],
        framing.load_fields[0][1],
        framing.load_fields[0][2],
    ];
    for (l, level) in p.geometry.levels.iter().enumerate() {
        for index in 0..level.size {
            let word = tables.word(l, index);
            model.load(l, index, word);
            steps.push(Step {
                what: format!("table entry {index} of level {l}"),
                frame: framing.load_frame(
                    0,
                    &[
                        &Bits::from_u64(lw, l as u64),
                        &Bits::from_u64(aw, u64::from(index)),
                        &Bits::from_i128(dw, word as i128),
                    ],
                ),
                expect: Vec::new(),
                values_per_beat: 0,
            });
        }
    }
    let (xw, fw) = (p.coord_width(), p.out_width());
    let features = (p.levels() * p.features()) as usize;
    for (i, point) in points.iter().enumerate() {
        let mut beat = Bits::zero(framing.in_w);
        for (d, &x) in point.iter().enumerate() {
            beat.set_u64_field(d as u32 * xw, xw, x);
        }
        let mut out = Bits::zero(framing.out_w);
        for (k, code) in model.encode_codes(point).into_iter().enumerate() {
            out.set_u64_field(k as u32 * fw, fw, code);
        }
        steps.push(Step {
            what: format!("point {i} {point:?}"),
            frame: framing.input_frame(&beat),
            expect: vec![out],
            values_per_beat: features,
        });
    }
    steps
}

/// Seeded random points: corners (0, 1.0, codes above 1.0 that clamp)
/// then uniform codes over the whole coordinate width.
pub fn random_points(p: &HashGridParams, n: usize, seed: u64) -> Vec<Vec<u64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = p.dims() as usize;
    let max = (1u64 << p.coord_width()) - 1;
    let mut points: Vec<Vec<u64>> = [0, p.coord_one(), max, p.coord_one() - 1]
        .into_iter()
        .map(|x| vec![x; d])
        .collect();
    points.truncate(n);
    while points.len() < n {
        points.push((0..d).map(|_| rng.random_range(0..=max)).collect());
    }
    points
}

/// Random tables for `accgen run-uart` and the tests: every code, half
/// of them values of trained-table size (see [`HardwareModel::random`]).
pub fn random_tables(p: &HashGridParams, seed: u64) -> HardwareModel {
    HardwareModel::random(p, seed)
}

/// Spiking core: the restart (membranes from zero, as in a fresh model),
/// every synapse word of `weights[input][neuron]` loaded,
/// then per time step its input events and the tick, answered by the
/// step's spikes in address order and the end-of-step marker.
pub fn spiking_steps(framing: &StreamFraming, p: &CoreParams, weights: &[Vec<i64>], steps: &[Vec<u32>]) -> Vec<Step> {
    let mut model = CoreModel::new(p);
    let mut out = vec![restart(framing)];
    out.extend(synapse_loads(framing, 0, "", &mut model, weights));
    let model = std::cell::RefCell::new(model);
    out.extend(time_steps(
        framing,
        p,
        p,
        steps,
        |a| model.borrow_mut().event(a),
        || model.borrow_mut().tick(),
    ));
    out
}

/// Two chained spiking cores: the restart, every synapse word of both
/// layers (`weights1[input][neuron]` into layer 1, `weights2` into layer
/// 2, each word naming its layer), then per time step its input events to
/// layer 1 and the tick, answered by layer 2's spikes in address order and
/// its end-of-step marker, as the chain's golden model computes them
/// (layer 1's spikes of the step are layer 2's input events). The tap
/// between the layers is not on the line; `what` names layer 1's spikes.
pub fn chain_steps(
    framing: &StreamFraming,
    first: &CoreParams,
    second: &CoreParams,
    weights: [&[Vec<i64>]; 2],
    steps: &[Vec<u32>],
) -> Vec<Step> {
    let mut model = ChainModel::new(first, second);
    let mut out = vec![restart(framing)];
    out.extend(synapse_loads(framing, 0, "layer 1 ", &mut model.layer1, weights[0]));
    out.extend(synapse_loads(framing, 1, "layer 2 ", &mut model.layer2, weights[1]));
    let model = std::cell::RefCell::new(model);
    let mut mid_spikes = Vec::new();
    let mut steps = time_steps(
        framing,
        first,
        second,
        steps,
        |a| model.borrow_mut().event(a),
        || {
            let (mid, spikes) = model.borrow_mut().tick();
            mid_spikes.push(mid);
            spikes
        },
    );
    for (step, mid) in steps.iter_mut().filter(|s| !s.expect.is_empty()).zip(&mid_spikes) {
        step.what = format!("{}; layer 1 spiked {mid:?}", step.what);
    }
    out.append(&mut steps);
    out
}

/// The restart frame: membranes left from an earlier run would not match
/// a fresh model.
fn restart(framing: &StreamFraming) -> Step {
    Step {
        what: "the restart".into(),
        frame: framing.restart_frame(),
        expect: Vec::new(),
        values_per_beat: 0,
    }
}

/// Every synapse word of `weights[input][neuron]` through load port
/// `port`, set in `model` too.
fn synapse_loads(
    framing: &StreamFraming,
    port: usize,
    label: &str,
    model: &mut CoreModel,
    weights: &[Vec<i64>],
) -> Vec<Step> {
    let p = model.p.clone();
    let [aw, dw] = [framing.load_fields[port][0], framing.load_fields[port][1]];
    let (slots, units, ww) = (p.slots(), p.units, p.weight_width);
    let mut out = Vec::new();
    for (a, row) in weights.iter().enumerate() {
        for s in 0..slots {
            let mut data = Bits::zero(dw);
            for u in 0..units {
                let n = s * units + u;
                let w = row[n as usize];
                model.set_weight(a as u32, n, w);
                data.set_field(u * ww, &Bits::from_i64(ww, w));
            }
            let addr = a as u64 * u64::from(slots) + u64::from(s);
            out.push(Step {
                what: format!(
                    "{label}synapse word {addr} (input {a}, neurons {}..{})",
                    s * units,
                    s * units + units - 1
                ),
                frame: framing.load_frame(port, &[&Bits::from_u64(aw, addr), &data]),
                expect: Vec::new(),
                values_per_beat: 0,
            });
        }
    }
    out
}

/// Per time step its input events (events of `first`, the core that takes
/// them) and the tick, answered by `tick`'s spikes of `last` (the core
/// that sends them) and the end-of-step marker.
fn time_steps(
    framing: &StreamFraming,
    first: &CoreParams,
    last: &CoreParams,
    steps: &[Vec<u32>],
    mut event: impl FnMut(u32),
    mut tick: impl FnMut() -> Vec<u32>,
) -> Vec<Step> {
    let ia = first.input_addr_width();
    let na = last.neuron_addr_width();
    let beat = |tick: bool, addr: u64| {
        let mut b = Bits::zero(framing.in_w);
        b.set_u64_field(0, ia, addr);
        b.set_bit(ia, tick);
        b
    };
    let spike = |end: bool, n: u64| {
        let mut b = Bits::zero(framing.out_w);
        b.set_u64_field(0, na, n);
        b.set_bit(na, end);
        b
    };
    let mut out = Vec::new();
    for (t, inputs) in steps.iter().enumerate() {
        for &a in inputs {
            event(a);
            out.push(Step {
                what: format!("step {t}: input event {a}"),
                frame: framing.input_frame(&beat(false, u64::from(a))),
                expect: Vec::new(),
                values_per_beat: 0,
            });
        }
        let mut expect: Vec<Bits> = tick().into_iter().map(|n| spike(false, u64::from(n))).collect();
        expect.push(spike(true, 0));
        out.push(Step {
            what: format!("step {t}: the tick ({} spikes expected)", expect.len() - 1),
            frame: framing.input_frame(&beat(true, 0)),
            expect,
            values_per_beat: 1,
        });
    }
    out
}

/// Seeded random weights `[input][neuron]` over the whole weight range.
pub fn random_weights(p: &CoreParams, seed: u64) -> Vec<Vec<i64>> {
    draw_weights(p, &mut StdRng::seed_from_u64(seed))
}

/// Seeded random weights of both layers of a chain (layer 2's drawn after
/// layer 1's from the same generator).
pub fn random_chain_weights(first: &CoreParams, second: &CoreParams, seed: u64) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let w1 = draw_weights(first, &mut rng);
    let w2 = draw_weights(second, &mut rng);
    (w1, w2)
}

/// One core's weights, input-major, each drawn uniformly from the core's
/// weight range.
fn draw_weights(p: &CoreParams, rng: &mut StdRng) -> Vec<Vec<i64>> {
    (0..p.inputs)
        .map(|_| {
            (0..p.neurons)
                .map(|_| rng.random_range(p.weight_min()..=p.weight_max()))
                .collect()
        })
        .collect()
}

/// Seeded random time steps: each a random number (up to all inputs) of
/// random input events, repeats allowed.
pub fn random_steps(p: &CoreParams, n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let k = rng.random_range(0..=p.inputs);
            (0..k).map(|_| rng.random_range(0..p.inputs)).collect()
        })
        .collect()
}

//! The stream wrapper: hash-grid engines, spiking cores and chains of two
//! spiking cores behind a UART, co-simulated in Verilator with a UART model
//! on the host side. Tables or weights (both layers' for a chain) are
//! loaded over the UART, points or events follow, and every feature and
//! output event the board sends is compared with the family's golden model,
//! through the same host code (`accgen::uart_stream`) as `accgen run-uart`.

mod common;

use accgen::uart_stream::{self, Step};
use accgen_hdl::board::stream::{self, StreamFraming};
use accgen_hdl::board::{UartParams, wrapper::RESYNC_BITS};
use accgen_hdl::hashgrid::{HashGridParams, HashGridSpec};
use accgen_hdl::ir::ResetStyle;
use accgen_hdl::spiking::CoreParams;
use accgen_hdl::spiking::model::ChainModel;
use accgen_hdl::spiking::params::{CoreSpec, DEFAULT_MAX_SYNAPSE_BITS, Preset};
use accgen_hdl::{Bits, Design};
use accgen_sim::{BuildOptions, Model};
use common::uart::{CLKS, SimPort, exchange, serial};

const UART: UartParams = UartParams { clks_per_bit: CLKS };

/// A 2D grid of 3 levels of int8 pairs, T = 2^6, one time-multiplexed
/// level unit (as examples/hashgrid_tiny_2d.yaml, smaller).
fn grid_2d() -> HashGridParams {
    HashGridSpec {
        levels: 3,
        log2_table_size: 8,
        base_resolution: 4,
        table: "int8".into(),
        int_scale_log2: vec![6],
        coord_frac_bits: 8,
        scale_frac_bits: 12,
        weight_frac_bits: 8,
        feature_int_bits: 1,
        feature_frac_bits: 6,
        level_units: Some(1),
        ..HashGridSpec::default()
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A 3D grid of 2 fp16 levels in parallel units, asynchronous reset: beats
/// of 7 bytes in, 11 out, table words of 5 bytes, none a whole number of bits.
fn grid_3d() -> HashGridParams {
    HashGridSpec {
        dims: 3,
        levels: 2,
        log2_table_size: 8,
        base_resolution: 2,
        reset: ResetStyle::AsyncLow,
        ..HashGridSpec::default()
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"))
}

fn core(neurons: u64, inputs: u64, units: u64, preset: Preset, reset: ResetStyle) -> CoreParams {
    CoreSpec {
        neurons,
        inputs,
        units,
        weight_width: 8,
        neuron: preset.neuron(),
        weight_init: None,
        max_synapse_bits: DEFAULT_MAX_SYNAPSE_BITS,
        reset,
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"))
}

fn small_cores() -> [CoreParams; 2] {
    [
        core(8, 6, 2, Preset::If, ResetStyle::SyncHigh),
        core(16, 12, 1, Preset::LavaLoihi, ResetStyle::AsyncLow),
    ]
}

/// Two chained cores, small enough to load and run quickly in Verilator:
/// 6 inputs -> 8 neurons (2 units) -> 4 neurons (1 unit). The thresholds
/// are low enough for random weights to make both layers spike.
const CHAIN_YAML: &str = "spiking_core:\n  neurons: 8\n  inputs: 6\n  units: 2\n  preset: if\n  threshold: 60\n  next_layer:\n    neurons: 4\n    units: 1\n    preset: if\n    threshold: 40\n";

fn parse_chain(yaml: &str) -> (CoreParams, CoreParams) {
    match accgen::config::parse(yaml, "chain").map(|c| c.block) {
        Ok(accgen::config::Block::SpikingChain(a, b)) => (a, b),
        _ => panic!("not a chain: {yaml}"),
    }
}

/// `examples/snn_two_layer_65_33_10.yaml`: the spiking digits network's shape.
fn example_chain() -> (CoreParams, CoreParams) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/snn_two_layer_65_33_10.yaml");
    match accgen::config::load(&path).map(|c| c.block) {
        Ok(accgen::config::Block::SpikingChain(a, b)) => (a, b),
        _ => panic!("{}: not a chain", path.display()),
    }
}

fn chain_design(a: &CoreParams, b: &CoreParams) -> Design {
    stream::spiking_chain_design(a, b, UART, &common::prov()).unwrap_or_else(|e| panic!("{e}"))
}

/// Both layers' weights and `steps` time steps for the chain, as `accgen
/// run-uart` draws them, and layer 1's spikes (the tap, not on the line).
fn chain_steps(a: &CoreParams, b: &CoreParams, steps: usize, seed: u64) -> (Vec<Step>, usize) {
    let framing = stream::spiking_chain_framing(a, b);
    let (w1, w2) = uart_stream::random_chain_weights(a, b, seed);
    let time_steps = uart_stream::random_steps(a, steps, seed);
    let mut model = ChainModel::new(a, b);
    for (layer, weights) in [(&mut model.layer1, &w1), (&mut model.layer2, &w2)] {
        for (i, row) in weights.iter().enumerate() {
            for (n, &w) in row.iter().enumerate() {
                layer.set_weight(i as u32, n as u32, w);
            }
        }
    }
    let mut mid = 0;
    for inputs in &time_steps {
        inputs.iter().for_each(|&i| model.event(i));
        mid += model.tick().0.len();
    }
    let steps = uart_stream::chain_steps(&framing, a, b, [&w1, &w2], &time_steps);
    (steps, mid)
}

fn grid_design(p: &HashGridParams) -> Design {
    stream::hash_grid_design(p, UART, &common::prov()).unwrap_or_else(|e| panic!("{e}"))
}

fn core_design(p: &CoreParams) -> Design {
    stream::spiking_design(p, UART, &common::prov()).unwrap_or_else(|e| panic!("{e}"))
}

/// The wrapper in Verilator, past its power-on reset, as a serial port.
fn board(design: &Design, framing: &StreamFraming) -> SimPort {
    let model = Model::build(design, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut session = model.session().unwrap_or_else(|e| panic!("{e}"));
    exchange(&mut session, &[], 16);
    // The longest wait between answer bytes: a tick's update of every
    // slot, or the bytes of one beat on the line.
    SimPort::new(session, (framing.out_bytes() * 10 * CLKS) as usize + 400)
}

/// Send `steps` through the wrapper `rounds` times (the board keeps its
/// state in between, as a real one does between two `run-uart`s); the
/// values compared, or the first mismatch.
fn run(design: &Design, framing: &StreamFraming, steps: &[Step], rounds: usize) -> Result<usize, String> {
    let mut port = board(design, framing);
    let mut compared = 0;
    for _ in 0..rounds {
        compared += uart_stream::exchange(&mut port, framing, steps)?;
    }
    Ok(compared)
}

fn grid_steps(p: &HashGridParams, points: usize, seed: u64) -> Vec<Step> {
    let framing = stream::hash_grid_framing(p);
    let tables = uart_stream::random_tables(p, seed);
    uart_stream::hash_grid_steps(&framing, &tables, &uart_stream::random_points(p, points, seed))
}

fn core_steps(p: &CoreParams, steps: usize, seed: u64) -> Vec<Step> {
    let framing = stream::spiking_framing(p);
    let weights = uart_stream::random_weights(p, seed);
    uart_stream::spiking_steps(&framing, p, &weights, &uart_stream::random_steps(p, steps, seed))
}

/// Output beats the steps expect: what a passing run compares.
fn expected_values(steps: &[Step]) -> usize {
    steps.iter().map(|s| s.expect.len() * s.values_per_beat).sum()
}

#[test]
fn stream_wrappers_are_lint_clean() {
    for p in [grid_2d(), grid_3d()] {
        common::lint(&grid_design(&p));
    }
    for p in small_cores() {
        common::lint(&core_design(&p));
    }
    // Two load ports and an open tap; the second chain has the asynchronous reset.
    let (a, b) = parse_chain(CHAIN_YAML);
    common::lint(&chain_design(&a, &b));
    let (a, b) = parse_chain(
        "reset: async\nspiking_core:\n  neurons: 5\n  inputs: 3\n  units: 1\n  preset: if\n  next_layer:\n    neurons: 6\n    units: 3\n    preset: if\n",
    );
    common::lint(&chain_design(&a, &b));
    // The example chain at the iCEBreaker's 104 cycles per bit: the
    // longest module name the flows emit for it.
    let (a, b) = &example_chain();
    let board = UartParams { clks_per_bit: 104 };
    common::lint(&stream::spiking_chain_design(a, b, board, &common::prov()).unwrap_or_else(|e| panic!("{e}")));
}

#[test]
fn hash_grid_features_over_the_uart_match_the_golden_model() {
    for (p, points, seed) in [(grid_2d(), 60, 1), (grid_3d(), 40, 2)] {
        let framing = stream::hash_grid_framing(&p);
        let steps = grid_steps(&p, points, seed);
        let loads = steps.iter().filter(|s| s.expect.is_empty()).count();
        let entries: u32 = p.geometry.levels.iter().map(|l| l.size).sum();
        assert_eq!(loads, entries as usize, "every table entry is loaded");
        let n = run(&grid_design(&p), &framing, &steps, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, points * (p.levels() * p.features()) as usize);
        assert_eq!(n, expected_values(&steps));
    }
}

#[test]
fn spiking_events_over_the_uart_match_the_golden_model() {
    for (p, time_steps, seed) in small_cores()
        .into_iter()
        .zip([(40, 3), (30, 4)])
        .map(|(p, (t, s))| (p, t, s))
    {
        let framing = stream::spiking_framing(&p);
        let steps = core_steps(&p, time_steps, seed);
        let spikes = expected_values(&steps) - time_steps;
        assert!(
            spikes >= 20,
            "{}: only {spikes} spikes: the check would be weak",
            p.top_name()
        );
        // Twice on one board: the restart that opens the steps clears the
        // membranes the first round left.
        let n = run(&core_design(&p), &framing, &steps, 2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 2 * (spikes + time_steps), "spikes and end-of-step markers");
        println!(
            "{}: {spikes} spikes and {time_steps} end-of-step markers compared",
            p.top_name()
        );
    }
}

#[test]
fn chain_events_over_the_uart_match_the_golden_model() {
    let (a, b) = parse_chain(CHAIN_YAML);
    let framing = stream::spiking_chain_framing(&a, &b);
    // A word names its layer above layer 1's 5 + 16 address and data bits
    // (6 inputs x 4 slots, 2 weights of 8 bits).
    assert_eq!(
        (framing.fields_w(), framing.select_w(), framing.load_bytes()),
        (21, 1, 3)
    );
    let time_steps = 40;
    let (steps, mid) = chain_steps(&a, &b, time_steps, 8);
    let loads = steps.iter().filter(|s| s.frame[0] == stream::CHANNEL_LOAD).count();
    assert_eq!(
        loads as u32,
        a.synapse_words() + b.synapse_words(),
        "both layers' words"
    );
    let spikes = expected_values(&steps) - time_steps;
    assert!(
        mid >= 40 && spikes >= 20,
        "layer 1 spiked {mid} times, layer 2 {spikes}: the check would be weak"
    );
    // Twice on one board: the restart clears both layers' membranes.
    let n = run(&chain_design(&a, &b), &framing, &steps, 2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 2 * (spikes + time_steps), "layer-2 spikes and end-of-step markers");
    println!("chain: {mid} layer-1 spikes fed {spikes} layer-2 spikes and {time_steps} end-of-step markers, twice");
}

/// The example chain (the spiking digits network's shape, 65 -> 33 -> 10):
/// its 880 synapse words over the line, then random steps, twice.
#[test]
fn the_example_chain_over_the_uart_matches_the_golden_model() {
    let (a, b) = &example_chain();
    let framing = stream::spiking_chain_framing(a, b);
    assert_eq!(framing.load_bytes(), 5, "10 + 24 field bits and the layer bit");
    let time_steps = 20;
    let (steps, mid) = chain_steps(a, b, time_steps, 10);
    let spikes = expected_values(&steps) - time_steps;
    assert!(
        mid >= 40 && spikes >= 20,
        "layer 1 spiked {mid} times, layer 2 {spikes}: the check would be weak"
    );
    let n = run(&chain_design(a, b), &framing, &steps, 2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 2 * (spikes + time_steps));
    println!("example chain: {mid} layer-1 spikes fed {spikes} layer-2 spikes and {time_steps} markers, twice");
}

#[test]
fn unknown_channels_and_abandoned_frames_are_dropped() {
    let p = &small_cores()[0];
    let framing = stream::spiking_framing(p);
    let steps = core_steps(p, 10, 5);
    let mut port = board(&core_design(p), &framing);
    // A stray channel byte (ignored), then a load frame cut short and
    // silence past the resynchronisation limit: the next frame starts clean.
    let limit = (RESYNC_BITS * CLKS) as usize;
    let partial = &steps[0].frame[..steps[0].frame.len() - 1];
    port.run(&serial(&[0x7f], 0), 0);
    port.run(&serial(partial, 0), limit + 100);
    let n = uart_stream::exchange(&mut port, &framing, &steps).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, expected_values(&steps));
}

/// Mutants of the wrapper's RTL, each caught by the exchange.
#[test]
fn broken_wrappers_fail_the_check() {
    let grid = grid_3d();
    let grid_framing = stream::hash_grid_framing(&grid);
    let grid_steps = grid_steps(&grid, 10, 6);
    let cell = &small_cores()[0];
    let core_framing = stream::spiking_framing(cell);
    let core_steps = core_steps(cell, 10, 7);
    let (a, b) = parse_chain(CHAIN_YAML);
    let chain = chain_design(&a, &b);
    let chain_framing = stream::spiking_chain_framing(&a, &b);
    let (chain_steps, _) = chain_steps(&a, &b, 12, 9);
    let chain_cases = [
        // Every load word goes to the other layer.
        (
            "assign load_port = payload_q[",
            "assign load_port = !payload_q[",
            "chain: words to the wrong layer",
        ),
        // Layer 2's words are written into layer 1 too.
        (
            "(load_port == 1'b0)",
            "(1'b1)",
            "chain: layer 2's words also into layer 1",
        ),
    ];
    for (from, to, what) in chain_cases {
        let (broken, sites) = common::mutate(&chain, "accgen_uart_", from, to);
        assert!(sites >= 1, "{what}: no site");
        let e = run(&broken, &chain_framing, &chain_steps, 1).err().unwrap_or_default();
        assert!(
            e.contains("golden model") || e.contains("answered"),
            "{what}: the mutant passed: {e}"
        );
    }
    let cases = [
        // The transmitter sends a beat's second byte first.
        (
            "(row_q[7:0])",
            "(row_q[15:8])",
            "hash grid: output bytes out of order",
            true,
        ),
        // Every frame is taken for a table entry: points get no answer.
        (
            "load_q <= rx_data[0]",
            "load_q <= 1'b1",
            "hash grid: channel byte ignored",
            true,
        ),
        // The restart never reaches the core: the second round starts from
        // the first round's membranes.
        (
            "restart_q <= restart;",
            "restart_q <= 1'b0;",
            "spiking: restart lost",
            false,
        ),
        // Payload bytes arrive with their lowest bit flipped.
        (
            "{rx_data, payload_q[",
            "{rx_data ^ 8'h01, payload_q[",
            "spiking: payload corrupted",
            false,
        ),
        // Every frame is taken for an input event: no weights are loaded.
        (
            "load_q <= rx_data[0]",
            "load_q <= 1'b0",
            "spiking: channel byte ignored",
            false,
        ),
    ];
    for (from, to, what, on_grid) in cases {
        let (design, framing, steps) = if on_grid {
            (grid_design(&grid), &grid_framing, &grid_steps)
        } else {
            (core_design(cell), &core_framing, &core_steps)
        };
        let (broken, sites) = common::mutate(&design, "accgen_uart_", from, to);
        assert!(sites >= 1, "{what}: no site");
        let e = run(&broken, framing, steps, 2).err().unwrap_or_default();
        assert!(
            e.contains("golden model") || e.contains("answered"),
            "{what}: the mutant passed: {e}"
        );
    }
}

#[test]
fn a_block_too_slow_for_the_uart_is_refused() {
    // 64 neurons on one unit take 65 cycles per event, more than one byte
    // (40 cycles) at 4 cycles per bit; at 104 (115,200 baud from 12 MHz) they fit.
    let p = core(64, 8, 1, Preset::If, ResetStyle::SyncHigh);
    let e = stream::spiking_design(&p, UART, &common::prov())
        .err()
        .map(|e| e.to_string());
    assert!(e.as_deref().unwrap_or("").contains("65 cycles"), "{e:?}");
    assert!(stream::spiking_design(&p, UartParams { clks_per_bit: 104 }, &common::prov()).is_ok());
    // A chain is as fast as its first layer, which takes the input events.
    let second = core(4, 64, 1, Preset::If, ResetStyle::SyncHigh);
    let e = stream::spiking_chain_design(&p, &second, UART, &common::prov())
        .err()
        .map(|e| e.to_string());
    assert!(
        e.as_deref().unwrap_or("").contains("spiking chain busy 65 cycles"),
        "{e:?}"
    );
}

#[test]
fn frames_pack_fields_from_bit_zero() {
    let f = StreamFraming {
        in_w: 18,
        out_w: 10,
        load_fields: vec![vec![3, 6, 16]],
    };
    assert_eq!((f.in_bytes(), f.load_bytes(), f.out_bytes()), (3, 4, 2));
    assert_eq!(f.input_frame(&Bits::from_u64(18, 0x2_f00d)), [0, 0x0d, 0xf0, 0x02]);
    let word = f.load_frame(
        0,
        &[
            &Bits::from_u64(3, 5),
            &Bits::from_u64(6, 0x2a),
            &Bits::from_u64(16, 0xbeef),
        ],
    );
    // 5 | 0x2a << 3 | 0xbeef << 9 = 0x17ddf55
    assert_eq!(word, [1, 0x55, 0xdf, 0x7d, 0x01]);
    let beats = f
        .decode_outputs(&[0xff, 0x03, 0x01, 0x02])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(beats, [Bits::from_u64(10, 0x3ff), Bits::from_u64(10, 0x201)]);
    assert!(f.decode_outputs(&[0]).is_err());
    // Three load ports: the port number (2 bits) sits above the widest
    // port's fields (3 + 6 + 16 = 25 bits), whatever port the word is for.
    let f = StreamFraming {
        load_fields: vec![vec![3, 6, 16], vec![4, 4], vec![9]],
        ..f
    };
    assert_eq!((f.fields_w(), f.select_w(), f.load_bytes()), (25, 2, 4));
    // 0xa | 0x5 << 4 | 1 << 25 = 0x200005a
    assert_eq!(
        f.load_frame(1, &[&Bits::from_u64(4, 0xa), &Bits::from_u64(4, 0x5)]),
        [1, 0x5a, 0, 0, 0x02]
    );
    assert_eq!(f.load_frame(2, &[&Bits::from_u64(9, 0x1ff)]), [1, 0xff, 0x01, 0, 0x04]);
}

/// A spiking core small enough for argument checks.
const SMALL_CORE_YAML: &str = "spiking_core:\n  neurons: 4\n  inputs: 3\n  units: 1\n  preset: if\n";

/// `accgen run-uart ARGS`: exit code and stderr.
fn run_uart(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accgen"))
        .arg("run-uart")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn run_uart_explains_what_it_cannot_use() {
    let dir = common::scratch("board_stream/run_uart");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path.to_string_lossy().into_owned()
    };
    let chain = write("chain.yaml", CHAIN_YAML);
    let (code, stderr) = run_uart(&[&chain, "--port", "/dev/null", "--steps", "0"]);
    assert_eq!((code, stderr.contains("--steps 0")), (Some(2), true), "{stderr}");
    let grid = write(
        "grid.yaml",
        "hash_grid:\n  dims: 2\n  levels: 2\n  features: 2\n  log2_table_size: 8\n  base_resolution: 2\n  per_level_scale: 1.5\n  table: int8\n",
    );
    let missing = dir.join("no-such-tty").to_string_lossy().into_owned();
    let (code, stderr) = run_uart(&[&grid, "--port", &missing]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no-such-tty"), "{stderr}");
    let (code, stderr) = run_uart(&[&grid, "--port", "/dev/null", "--points", "0"]);
    assert_eq!((code, stderr.contains("--points 0")), (Some(2), true), "{stderr}");
    for timeout in ["0", "-1", "nan", "1e9"] {
        let (code, stderr) = run_uart(&[&grid, "--port", "/dev/null", "--timeout", timeout]);
        assert_eq!((code, stderr.contains("--timeout")), (Some(2), true), "{stderr}");
    }
    let cell = write("core.yaml", SMALL_CORE_YAML);
    let (code, stderr) = run_uart(&[&cell, "--port", "/dev/null", "--steps", "0"]);
    assert_eq!((code, stderr.contains("--steps 0")), (Some(2), true), "{stderr}");
}

#[test]
fn run_uart_fails_when_the_board_stays_silent() {
    let dir = common::scratch("board_stream/silent");
    let cfg = dir.join("core.yaml");
    std::fs::write(&cfg, SMALL_CORE_YAML).unwrap_or_else(|e| panic!("{e}"));
    // A port that takes every byte and never answers: a board without the
    // bitstream. The far end is drained so the host's writes never block.
    let (mut master, _slave, slave_path) = common::uart::open_pty();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while matches!(std::io::Read::read(&mut master, &mut buf), Ok(n) if n > 0) {}
    });
    let start = std::time::Instant::now();
    let (code, stderr) = run_uart(&[
        cfg.to_str().unwrap_or_default(),
        "--port",
        &slave_path,
        "--steps",
        "1",
        "--timeout",
        "2.5",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("answered 0 of") && stderr.contains("fell silent"),
        "{stderr}"
    );
    // The host waited the whole --timeout, not the terminal's tenth of a second.
    assert!(start.elapsed() >= std::time::Duration::from_secs_f64(2.5), "{stderr}");
}

/// `accgen run-uart` on a pseudo-terminal whose far end is the wrapper of
/// `yaml`'s block in Verilator; returns the host's stdout.
fn run_uart_against_the_simulated_board(name: &str, yaml: &str, args: &[&str]) -> String {
    let dir = common::scratch(&format!("board_stream/pty_{name}"));
    let cfg = dir.join(format!("{name}.yaml"));
    std::fs::write(&cfg, yaml).unwrap_or_else(|e| panic!("{e}"));
    let config = accgen::config::parse(yaml, name).unwrap_or_else(|e| panic!("{e}"));
    let (design, framing, longest_answer) = match &config.block {
        accgen::config::Block::HashGrid(p) => (grid_design(p), stream::hash_grid_framing(p), 1),
        accgen::config::Block::SpikingCore(p) => (core_design(p), stream::spiking_framing(p), p.neurons + 1),
        accgen::config::Block::SpikingChain(a, b) => {
            (chain_design(a, b), stream::spiking_chain_framing(a, b), b.neurons + 1)
        }
        _ => panic!("{name}: not a stream block"),
    };
    let mut port = board(&design, &framing);
    port.patience = (longest_answer * framing.out_bytes() * 10 * CLKS) as usize + 400;
    let (out, _) = common::uart::run_uart_on_pty(&mut port, &cfg, args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "run-uart failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

#[test]
fn run_uart_checks_points_and_events_through_a_pseudo_terminal() {
    let stdout = run_uart_against_the_simulated_board(
        "grid",
        "hash_grid:\n  dims: 2\n  levels: 2\n  features: 2\n  log2_table_size: 8\n  base_resolution: 4\n  per_level_scale: 1.5\n  table: int8\n  int_scale_log2: 6\n  coord_frac_bits: 8\n  scale_frac_bits: 12\n  weight_frac_bits: 8\n  feature_int_bits: 1\n  feature_frac_bits: 6\n",
        &["--points", "15", "--seed", "3"],
    );
    assert!(
        stdout.contains("PASS: 15 points, 60 features equal to the golden model"),
        "{stdout}"
    );
    let yaml = "spiking_core:\n  neurons: 8\n  inputs: 6\n  units: 2\n  preset: if\n";
    let stdout = run_uart_against_the_simulated_board("core", yaml, &["--steps", "12", "--seed", "4"]);
    // The host's draws for seed 4, as run-uart makes them.
    let Ok(accgen::config::Block::SpikingCore(p)) = accgen::config::parse(yaml, "core").map(|c| c.block) else {
        panic!("not a spiking core")
    };
    let events = expected_values(&core_steps(&p, 12, 4));
    assert!(events > 12, "no spikes to compare");
    assert!(
        stdout.contains(&format!("PASS: 12 time steps, {events} output events")),
        "{stdout}"
    );
}

#[test]
fn run_uart_checks_a_chain_through_a_pseudo_terminal() {
    let stdout = run_uart_against_the_simulated_board("chain", CHAIN_YAML, &["--steps", "12", "--seed", "5"]);
    let (a, b) = parse_chain(CHAIN_YAML);
    let (steps, _) = chain_steps(&a, &b, 12, 5);
    let events = expected_values(&steps);
    assert!(events > 12, "no layer-2 spikes to compare");
    assert!(
        stdout.contains(&format!("PASS: 12 time steps, {events} layer-2 output events")),
        "{stdout}"
    );
}

#[test]
fn flow_wraps_a_chain_by_default() {
    let config = accgen::config::parse(CHAIN_YAML, "chain").unwrap_or_else(|e| panic!("{e}"));
    for board in [
        accgen::flow::Board::Icebreaker,
        accgen::flow::Board::Hx8kBreakout,
        accgen::flow::Board::Ulx3s,
    ] {
        let design = accgen::flow::board_design(&config, board, "accgen flow")
            .ok()
            .unwrap_or_else(|| panic!("{}: no board wrapper for the chain", board.name()));
        assert!(design.top.starts_with("accgen_uart_snn_chain_"), "{}", design.top);
        let pins: Vec<&str> = design.ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(pins, ["clk_i", "uart_rx_i", "uart_tx_o", "led_o"], "{}", board.name());
    }
}

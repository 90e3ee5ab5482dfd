//! `accgen run-uart`: the host side of the board wrapper's protocol (see
//! `accgen_hdl::board`). It sends seeded random tiles to a board over a
//! serial port, reads each tile's result rows and compares them with the
//! golden model (MAC arrays here; hash grids and spiking cores through
//! [`crate::uart_stream`]). The exchange works on any `Read + Write` transport, so the
//! tests drive the same code against the wrapper running in Verilator.

use crate::{Failure, config, uart_stream};
use accgen_hdl::board::protocol::{Framing, expected_tile};
use accgen_hdl::mac::MacArrayParams;
use rand::{RngExt, SeedableRng};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;

/// `accgen run-uart`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Configuration file (YAML) the bitstream was built from
    pub config: PathBuf,
    /// Serial port of the board (e.g. /dev/ttyUSB1 for the iCEBreaker's second FTDI channel)
    #[arg(long)]
    pub port: PathBuf,
    /// Baud rate (the wrappers run at 115200)
    #[arg(long, default_value_t = accgen_hdl::board::DEFAULT_BAUD)]
    pub baud: u32,
    /// Random tiles to send (MAC arrays)
    #[arg(long, default_value_t = 100)]
    pub tiles: u64,
    /// Random points to send after loading random tables (hash grids)
    #[arg(long, default_value_t = 100)]
    pub points: u64,
    /// Random time steps of random input events to send after loading random weights (spiking cores; a chain's
    /// input events go to layer 1)
    #[arg(long, default_value_t = 20)]
    pub steps: u64,
    /// Seed of the random tiles, points, tables, events and weights
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds the board may stay silent while an answer is due before the run fails (a board answers in
    /// milliseconds; raise it for a wrapper simulated on a busy machine)
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", allow_negative_numbers = true)]
    pub timeout: f64,
}

/// One tile's operand codes: `act[r][k]`, `wgt[k][c]`.
pub type Tile = (Vec<Vec<u64>>, Vec<Vec<u64>>);

/// Seeded random operand codes for one tile (every code of each format,
/// NaN and infinity codes of minifloats included).
pub fn random_tile(p: &MacArrayParams, rng: &mut rand::rngs::StdRng) -> Tile {
    let (aw, ww) = (p.act.width(), p.wgt.width());
    let act = (0..p.rows)
        .map(|_| (0..p.dot_length).map(|_| rng.random_range(0..1u64 << aw)).collect())
        .collect();
    let wgt = (0..p.dot_length)
        .map(|_| (0..p.cols).map(|_| rng.random_range(0..1u64 << ww)).collect())
        .collect();
    (act, wgt)
}

/// Send `tiles` one at a time (the protocol is stop-and-wait) and compare
/// every result with the golden model. Returns the results compared, or
/// the first mismatch or short answer.
pub fn exchange<T: Read + Write>(
    port: &mut T,
    p: &MacArrayParams,
    framing: &Framing,
    tiles: &[Tile],
) -> Result<usize, String> {
    let answer_len = (framing.rows * framing.out_bytes()) as usize;
    let mut compared = 0;
    for (i, (act, wgt)) in tiles.iter().enumerate() {
        port.write_all(&framing.encode_tile(act, wgt))
            .and_then(|_| port.flush())
            .map_err(|e| format!("tile {i}: writing to the port: {e}"))?;
        let answer = uart_stream::read_answer(port, answer_len).map_err(|e| format!("tile {i}: {e}"))?;
        let results = framing.decode_tile(&answer)?;
        let want = expected_tile(p, act, wgt);
        for (r, (got_row, want_row)) in results.iter().zip(&want).enumerate() {
            for (c, (g, w)) in got_row.iter().zip(want_row).enumerate() {
                if g != w {
                    return Err(format!(
                        "tile {i}: Y[{r}][{c}] = 0x{} from the board, 0x{} from the golden model\n  A = {act:?}\n  B = {wgt:?}",
                        g.to_hex(),
                        w.to_hex()
                    ));
                }
                compared += 1;
            }
        }
    }
    Ok(compared)
}

/// Put a serial port in raw 8N1 mode at `baud`, reads returning after a
/// tenth of a second without data (`stty`, so no terminal library is
/// needed); [`QuietPort`] waits out longer silences itself, because the
/// terminal's own limit stops at 25.5 s.
fn configure(port: &std::path::Path, baud: u32) -> Result<(), String> {
    let out = Command::new("stty")
        .arg("-F")
        .arg(port)
        .args([
            &baud.to_string(),
            "raw",
            "-echo",
            "cs8",
            "-cstopb",
            "-parenb",
            "-crtscts",
            "clocal",
            "min",
            "0",
            "time",
            "1",
        ])
        .output()
        .map_err(|e| format!("cannot run stty to set up {}: {e}", port.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot set {} to {baud} baud 8N1: {}",
            port.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Open `--port` as a raw 8N1 serial port at `--baud`, then stay silent
/// for the wrappers' resynchronisation pause, so a frame an earlier run
/// left unfinished is dropped before this run's first byte. A `--timeout`
/// that is not a positive number of seconds (an hour at most) is refused.
fn open_port(args: &Args) -> Result<QuietPort, Failure> {
    let (port, baud) = (args.port.as_path(), args.baud);
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(Failure::Input(format!(
            "error: --timeout {}: give the seconds to wait for an answer, above 0 and at most 3600",
            args.timeout
        )));
    }
    configure(port, baud).map_err(|e| Failure::Run(format!("error: {e}")))?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(port)
        .map_err(|e| Failure::Run(format!("error: cannot open {}: {e}", port.display())))?;
    let pause = 1.2 * f64::from(accgen_hdl::board::wrapper::RESYNC_BITS) / f64::from(baud.max(1));
    std::thread::sleep(std::time::Duration::from_secs_f64(pause));
    Ok(QuietPort {
        file,
        limit: std::time::Duration::from_secs_f64(args.timeout),
    })
}

/// A serial port whose reads return 0 (the board fell silent) only after
/// `limit` without data, rather than after the terminal's tenth of a second.
struct QuietPort {
    file: std::fs::File,
    limit: std::time::Duration,
}

impl Read for QuietPort {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = std::time::Instant::now();
        loop {
            let n = self.file.read(buf)?;
            if n > 0 || buf.is_empty() || start.elapsed() >= self.limit {
                return Ok(n);
            }
        }
    }
}

impl Write for QuietPort {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let config = config::load(&args.config)?;
    let p = match &config.block {
        config::Block::MacArray(p) => *p,
        config::Block::HashGrid(p) => return run_hash_grid(args, p),
        config::Block::SpikingCore(p) => return run_spiking(args, p),
        config::Block::SpikingChain(first, second) => return run_chain(args, first, second),
    };
    if args.tiles == 0 {
        return Err(Failure::Input("error: --tiles 0: send at least one tile".into()));
    }
    let framing = accgen_hdl::board::framing(&p);
    let mut port = open_port(args)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let tiles: Vec<Tile> = (0..args.tiles).map(|_| random_tile(&p, &mut rng)).collect();
    println!(
        "accgen run-uart: {} tiles of {} x {} (K = {}) to {} at {} baud: {} bytes per beat, {} per result row",
        args.tiles,
        p.rows,
        p.cols,
        p.dot_length,
        args.port.display(),
        args.baud,
        framing.in_bytes(),
        framing.out_bytes()
    );
    let compared = exchange(&mut port, &p, &framing, &tiles).map_err(|e| Failure::Run(format!("error: {e}")))?;
    println!(
        "PASS: {} tiles, {compared} results equal to the golden model",
        args.tiles
    );
    Ok(())
}

/// Open the port, say what goes to it (`plan`, then the port and baud
/// rate), send `steps` and compare every answer; `passed` words the
/// success line from the values compared.
fn send_steps(
    args: &Args,
    framing: &accgen_hdl::board::stream::StreamFraming,
    steps: &[uart_stream::Step],
    plan: &str,
    passed: impl Fn(usize) -> String,
) -> Result<(), Failure> {
    let mut port = open_port(args)?;
    println!(
        "accgen run-uart: {plan} to {} at {} baud",
        args.port.display(),
        args.baud
    );
    let compared = uart_stream::exchange(&mut port, framing, steps).map_err(|e| Failure::Run(format!("error: {e}")))?;
    println!("PASS: {}", passed(compared));
    Ok(())
}

/// `--steps`, refused when zero.
fn time_steps(args: &Args) -> Result<usize, Failure> {
    match args.steps {
        0 => Err(Failure::Input("error: --steps 0: send at least one time step".into())),
        n => Ok(n as usize),
    }
}

/// Random tables, then random points; every feature checked.
fn run_hash_grid(args: &Args, p: &accgen_hdl::hashgrid::HashGridParams) -> Result<(), Failure> {
    if args.points == 0 {
        return Err(Failure::Input("error: --points 0: send at least one point".into()));
    }
    let framing = accgen_hdl::board::stream::hash_grid_framing(p);
    let tables = uart_stream::random_tables(p, args.seed);
    let points = uart_stream::random_points(p, args.points as usize, args.seed);
    let steps = uart_stream::hash_grid_steps(&framing, &tables, &points);
    let plan = format!(
        "{} table entries, then {} points ({} bytes per entry, {} per point, {} per feature vector)",
        steps.len() - points.len(),
        points.len(),
        1 + framing.load_bytes(),
        1 + framing.in_bytes(),
        framing.out_bytes()
    );
    send_steps(args, &framing, &steps, &plan, |compared| {
        format!("{} points, {compared} features equal to the golden model", points.len())
    })
}

/// Random weights, then random time steps of random events; every output event checked.
fn run_spiking(args: &Args, p: &accgen_hdl::spiking::CoreParams) -> Result<(), Failure> {
    let n = time_steps(args)?;
    let framing = accgen_hdl::board::stream::spiking_framing(p);
    let weights = uart_stream::random_weights(p, args.seed);
    let events = uart_stream::random_steps(p, n, args.seed);
    let steps = uart_stream::spiking_steps(&framing, p, &weights, &events);
    let plan = format!(
        "{} synapse words, then {n} time steps ({} input events)",
        p.synapse_words(),
        events.iter().map(Vec::len).sum::<usize>()
    );
    send_steps(args, &framing, &steps, &plan, |compared| {
        format!("{n} time steps, {compared} output events (spikes and end-of-step markers) equal to the golden model")
    })
}

/// Random weights for both layers, then random time steps of random events
/// into layer 1; every output event of layer 2 checked against the chain's
/// golden model.
fn run_chain(
    args: &Args,
    first: &accgen_hdl::spiking::CoreParams,
    second: &accgen_hdl::spiking::CoreParams,
) -> Result<(), Failure> {
    let n = time_steps(args)?;
    let framing = accgen_hdl::board::stream::spiking_chain_framing(first, second);
    let (weights1, weights2) = uart_stream::random_chain_weights(first, second, args.seed);
    let events = uart_stream::random_steps(first, n, args.seed);
    let steps = uart_stream::chain_steps(&framing, first, second, [&weights1, &weights2], &events);
    let plan = format!(
        "{} + {} synapse words (layers 1 and 2), then {n} time steps ({} input events)",
        first.synapse_words(),
        second.synapse_words(),
        events.iter().map(Vec::len).sum::<usize>()
    );
    send_steps(args, &framing, &steps, &plan, |compared| {
        format!(
            "{n} time steps, {compared} layer-2 output events (spikes and end-of-step markers) equal to the golden model"
        )
    })
}

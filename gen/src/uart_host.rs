//! `accgen run-uart`: the host side of the board wrapper's protocol (see
//! `accgen_hdl::board`). It sends seeded random tiles to a board over a
//! serial port, reads each tile's result rows and compares them with the
//! golden model. The exchange works on any `Read + Write` transport, so the
//! tests drive the same code against the wrapper running in Verilator.

use crate::{Failure, config};
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
    /// Random tiles to send
    #[arg(long, default_value_t = 100)]
    pub tiles: u64,
    /// Seed of the random tiles
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
        let mut answer = vec![0u8; answer_len];
        let mut got = 0;
        while got < answer_len {
            match port.read(&mut answer[got..]) {
                Ok(0) => {
                    return Err(format!(
                        "tile {i}: the board answered {got} of {answer_len} bytes and then nothing; \
                         is the bitstream built from this configuration, and the baud rate right?"
                    ));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("tile {i}: reading from the port: {e}")),
            }
        }
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

/// Put a serial port in raw 8N1 mode at `baud`, reads returning after one
/// second without data (`stty`, so no terminal library is needed).
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
            "10",
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

pub fn run(args: &Args) -> Result<(), Failure> {
    if args.tiles == 0 {
        return Err(Failure::Input("error: --tiles 0: send at least one tile".into()));
    }
    let config = config::load(&args.config)?;
    let p = match &config.block {
        config::Block::MacArray(p) => *p,
        _ => {
            return Err(Failure::Input(format!(
                "error: {}: the UART board protocol serves MAC arrays only so far",
                config.origin
            )));
        }
    };
    let framing = accgen_hdl::board::framing(&p);
    configure(&args.port, args.baud).map_err(|e| Failure::Run(format!("error: {e}")))?;
    let mut port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&args.port)
        .map_err(|e| Failure::Run(format!("error: cannot open {}: {e}", args.port.display())))?;
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

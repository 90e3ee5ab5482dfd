//! The board wrapper: a MAC array behind a UART, co-simulated in Verilator
//! with a UART model on the host side. Operand bytes go in on uart_rx_i,
//! the serial line uart_tx_o is recorded cycle by cycle and decoded, and
//! every result is compared with the golden model.

mod common;

use common::uart::{CLKS, SimPort, exchange, run_uart_on_pty, serial};

use accgen::uart_host::{self, random_tile};
use accgen_hdl::board::protocol::{Framing, expected_tile};
use accgen_hdl::board::{self, UartParams};
use accgen_hdl::mac::MacArrayParams;
use accgen_hdl::{Bits, Design};
use accgen_sim::{BuildOptions, Model};
use rand::SeedableRng;

/// One tile's operand codes: act[r][k] and wgt[k][c].
type Tile = (Vec<Vec<u64>>, Vec<Vec<u64>>);

fn wrapped(p: &MacArrayParams) -> Design {
    board::design(p, UartParams { clks_per_bit: CLKS }, &common::prov())
}

/// Corner tiles: all zero, all codes at the most negative / largest value
/// (for minifloats: -0, NaN or -max, and mixes).
fn corner_tiles(p: &MacArrayParams) -> Vec<Tile> {
    let (aw, ww) = (p.act.width(), p.wgt.width());
    let fill = |a: u64, w: u64| {
        (
            vec![vec![a; p.dot_length as usize]; p.rows as usize],
            vec![vec![w; p.cols as usize]; p.dot_length as usize],
        )
    };
    let (amax, wmax) = ((1u64 << aw) - 1, (1u64 << ww) - 1);
    let (amin, wmin) = (1u64 << (aw - 1), 1u64 << (ww - 1));
    vec![
        fill(0, 0),
        fill(amin, wmin),
        fill(amax, wmax),
        fill(amin, wmax),
        fill(amax - 1, wmin),
    ]
}

/// Send `tiles` one at a time (the protocol is stop-and-wait: a tile, then
/// its R result rows) and compare every result with the golden model.
/// Returns the number of results compared, or the first mismatch.
fn run_tiles(design: &Design, p: &MacArrayParams, tiles: &[Tile]) -> Result<usize, String> {
    let model = Model::build(design, &BuildOptions::default()).map_err(|e| e.to_string())?;
    let mut s = model.session().map_err(|e| e.to_string())?;
    let arr = accgen_hdl::mac::design(p, &common::prov());
    let framing = Framing::new(p, arr.port("out_data_o").map_or(0, |o| o.width));
    // Let the power-on reset finish with the line idle.
    exchange(&mut s, &[], 16);
    let row_cycles = (framing.out_bytes() * 10 * CLKS) as usize;
    let mut compared = 0;
    for (i, (act, wgt)) in tiles.iter().enumerate() {
        let bytes = framing.encode_tile(act, wgt);
        let answer = exchange(&mut s, &serial(&bytes, 0), (p.rows as usize + 1) * row_cycles + 200);
        let got = framing.decode_tile(&answer).map_err(|e| format!("tile {i}: {e}"))?;
        let led = s.peek_u64("led_o").map_err(|e| e.to_string())?;
        if led != (i as u64 + 1) % 2 {
            return Err(format!("tile {i}: led_o = {led} did not toggle"));
        }
        let want = expected_tile(p, act, wgt);
        for r in 0..p.rows as usize {
            for c in 0..p.cols as usize {
                if got[r][c] != want[r][c] {
                    return Err(format!(
                        "tile {i}: Y[{r}][{c}] = {} from the board, {} from the golden model (A = {act:?}, B = {wgt:?})",
                        got[r][c].to_hex(),
                        want[r][c].to_hex()
                    ));
                }
                compared += 1;
            }
        }
    }
    s.close().map_err(|e| e.to_string())?;
    Ok(compared)
}

fn tiles(p: &MacArrayParams, random: usize, seed: u64) -> Vec<Tile> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut t = corner_tiles(p);
    t.extend((0..random).map(|_| random_tile(p, &mut rng)));
    t
}

#[test]
fn the_wrapper_is_lint_clean() {
    common::lint(&wrapped(&common::params(2, 2, 4, "int4", "int4")));
    common::lint(&wrapped(&common::params(3, 2, 5, "int8", "uint4")));
    common::lint(&wrapped(&common::params(2, 2, 3, "e4m3fn", "e5m2")));
}

#[test]
fn tiles_sent_over_the_uart_come_back_as_the_golden_models_results() {
    let p = common::params(2, 2, 4, "int4", "int4");
    let n = run_tiles(&wrapped(&p), &p, &tiles(&p, 40, 7)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 45 * 4);
    // Results wider than a byte, rows of several bytes, beats that span
    // bytes unevenly: 3 x 2 int8 x uint4, K = 5.
    let p = common::params(3, 2, 5, "int8", "uint4");
    let n = run_tiles(&wrapped(&p), &p, &tiles(&p, 20, 8)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 25 * 6);
    // Minifloats without output rounding: NaN and infinity codes travel
    // beside the sums (corner tiles hold 0xff and 0x80 codes: NaN, -0).
    let p = common::params(2, 2, 3, "e4m3fn", "e5m2");
    let n = run_tiles(&wrapped(&p), &p, &tiles(&p, 30, 9)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 35 * 4);
}

#[test]
fn a_partial_beat_is_dropped_after_a_long_pause() {
    let p = common::params(2, 2, 4, "int4", "int4");
    let design = wrapped(&p);
    let model = Model::build(&design, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut s = model.session().unwrap_or_else(|e| panic!("{e}"));
    let arr = accgen_hdl::mac::design(&p, &common::prov());
    let framing = Framing::new(&p, arr.port("out_data_o").map_or(0, |o| o.width));
    exchange(&mut s, &[], 16);
    // One stray byte, then silence past the resynchronisation limit.
    let limit = (board::wrapper::RESYNC_BITS * CLKS) as usize;
    assert!(exchange(&mut s, &serial(&[0x5a], 0), limit + 100).is_empty());
    let (act, wgt) = random_tile(&p, &mut rand::rngs::StdRng::seed_from_u64(3));
    let answer = exchange(&mut s, &serial(&framing.encode_tile(&act, &wgt), 0), 2000);
    let got = framing.decode_tile(&answer).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got, expected_tile(&p, &act, &wgt));
}

#[test]
fn a_broken_wrapper_fails_the_check() {
    // Mutation: the transmitter sends the row's high byte first.
    let p = common::params(2, 2, 4, "int4", "int4");
    let mut design = wrapped(&p);
    let top = design
        .files
        .iter_mut()
        .find(|f| f.module == design.top)
        .unwrap_or_else(|| panic!("no top"));
    let before = top.text.clone();
    top.text = top.text.replacen("(row_q[7:0])", "(row_q[15:8])", 1);
    assert_ne!(top.text, before, "the mutation did not apply:\n{before}");
    let e = run_tiles(&design, &p, &tiles(&p, 5, 9)).err().unwrap_or_default();
    assert!(
        e.contains("from the golden model") || e.contains("bytes"),
        "the mutant passed: {e}"
    );
}

#[test]
fn framing_round_trips_and_pads_to_whole_bytes() {
    let p = common::params(3, 2, 2, "int4", "int8");
    let f = Framing::new(&p, 2 * 13);
    assert_eq!(f.special_w, 0);
    assert_eq!(
        (f.act_bytes(), f.wgt_bytes(), f.in_bytes(), f.out_bytes()),
        (2, 2, 4, 4)
    );
    let act = vec![vec![0x1, 0xf], vec![0x2, 0xe], vec![0x3, 0xd]];
    let wgt = vec![vec![0x80, 0x7f], vec![0x01, 0xff]];
    assert_eq!(
        f.encode_tile(&act, &wgt),
        [0x21, 0x03, 0x80, 0x7f, 0xef, 0x0d, 0x01, 0xff]
    );
    let rows: Vec<u8> = [0xff, 0x1f, 0x00, 0x00, 0x01, 0x20, 0x00, 0x00, 0, 0, 0, 0x3].to_vec();
    let y = f.decode_tile(&rows).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(y[0][0], Bits::from_u64(13, 0x1fff));
    assert_eq!(y[0][1], Bits::from_u64(13, 0));
    assert_eq!(y[1][0], Bits::from_u64(13, 1));
    assert_eq!(y[1][1], Bits::from_u64(13, 1));
    assert_eq!(y[2][0], Bits::from_u64(13, 0));
    assert_eq!(y[2][1], Bits::from_u64(13, 0x1800));
    assert!(f.decode_tile(&rows[1..]).is_err());
}

#[test]
fn the_host_command_talks_to_the_wrapper_in_simulation() {
    let p = common::params(2, 3, 3, "int4", "uint4");
    let model = Model::build(&wrapped(&p), &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut session = model.session().unwrap_or_else(|e| panic!("{e}"));
    exchange(&mut session, &[], 16);
    let framing = board::framing(&p);
    // A row is at most 10 bit periods per byte away once the tile is in.
    let patience = (framing.out_bytes() * 10 * CLKS) as usize * 2 + 100;
    let mut port = SimPort::new(session, patience);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let tiles: Vec<Tile> = (0..30).map(|_| random_tile(&p, &mut rng)).collect();
    let n = uart_host::exchange(&mut port, &p, &framing, &tiles).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 30 * 6);

    // A configuration that does not match the bitstream: the host sends
    // beats of the wrong size and reports a short or wrong answer.
    let wrong = common::params(2, 3, 4, "int4", "uint4");
    let wrong_tiles: Vec<Tile> = (0..2).map(|_| random_tile(&wrong, &mut rng)).collect();
    let e = uart_host::exchange(&mut port, &wrong, &board::framing(&wrong), &wrong_tiles)
        .err()
        .unwrap_or_default();
    assert!(e.contains("tile"), "a mismatched configuration passed: {e}");
}

#[test]
fn run_uart_reports_a_port_it_cannot_use() {
    let dir = common::scratch("board/run_uart");
    let cfg = dir.join("c.yaml");
    std::fs::write(
        &cfg,
        "mac_array:\n  rows: 2\n  cols: 2\n  dot_length: 4\n  activations: int4\n  weights: int4\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_accgen"))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let cfg = cfg.to_string_lossy();
    let missing = dir.join("no-such-tty");
    let (code, stderr) = run(&["run-uart", &cfg, "--port", &missing.to_string_lossy()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no-such-tty"), "{stderr}");
    let (code, stderr) = run(&["run-uart", &cfg, "--port", "/dev/null", "--tiles", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn run_uart_checks_tiles_through_a_pseudo_terminal_against_the_simulated_board() {
    // accgen run-uart on the slave side of a pty (stty sets it up as for
    // a real port); on the master side, the wrapper in Verilator.
    let p = common::params(2, 2, 4, "int4", "int4");
    let model = Model::build(&wrapped(&p), &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut session = model.session().unwrap_or_else(|e| panic!("{e}"));
    exchange(&mut session, &[], 16);
    let framing = board::framing(&p);
    let mut board = SimPort::new(session, (p.rows * framing.out_bytes() * 10 * CLKS) as usize + 200);
    let dir = common::scratch("board/pty");
    let cfg = dir.join("int4_2x2.yaml");
    std::fs::write(
        &cfg,
        "mac_array:\n  rows: 2\n  cols: 2\n  dot_length: 4\n  activations: int4\n  weights: int4\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (out, bytes_in) = run_uart_on_pty(&mut board, &cfg, &["--tiles", "12", "--seed", "5"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "run-uart failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("PASS: 12 tiles, 48 results equal to the golden model"),
        "{stdout}"
    );
    assert_eq!(bytes_in, 12 * 4 * 2, "bytes the host sent");
}

//! A UART model for co-simulating board wrappers: serial waveforms in,
//! the transmit line decoded, and a serial port whose far end is the
//! wrapper in Verilator (shared by board.rs and board_stream.rs).

use std::io::{Read, Write};

/// Clock cycles per bit in the tests: short frames, same logic.
pub const CLKS: u32 = 4;

/// The serial waveform of `bytes`, one line level per clock cycle, with
/// `gap` idle bit periods after each byte.
pub fn serial(bytes: &[u8], gap: u32) -> Vec<bool> {
    let mut line = Vec::new();
    for &b in bytes {
        let bits = std::iter::once(false)
            .chain((0..8).map(|i| (b >> i) & 1 == 1))
            .chain(std::iter::repeat_n(true, 1 + gap as usize));
        for bit in bits {
            line.extend(std::iter::repeat_n(bit, CLKS as usize));
        }
    }
    line
}

/// Decode an 8N1 waveform sampled once per cycle: the middle of every bit
/// after each falling edge. Panics on a framing error.
pub fn deserial(line: &[bool]) -> Vec<u8> {
    deserial_from(line, 1).0
}

/// [`deserial`] from cycle `start` (at least 1) on; also returns where to
/// resume once more of the line is known (at an unfinished frame's start).
pub fn deserial_from(line: &[bool], start: usize) -> (Vec<u8>, usize) {
    let (mut bytes, mut t, clks) = (Vec::new(), start.max(1), CLKS as usize);
    while t < line.len() {
        if line[t - 1] && !line[t] {
            let mid = |bit: usize| t + bit * clks + clks / 2;
            if mid(9) >= line.len() {
                break;
            }
            assert!(!line[mid(0)], "a glitch, not a start bit, at cycle {t}");
            let byte = (0..8).fold(0u8, |acc, i| acc | (u8::from(line[mid(i + 1)]) << i));
            assert!(line[mid(9)], "framing error: stop bit low at cycle {}", mid(9));
            bytes.push(byte);
            t = mid(9);
        } else {
            t += 1;
        }
    }
    (bytes, t)
}

/// Drive `rx` into the wrapper, then keep clocking `tail` idle cycles;
/// returns the bytes the wrapper sent.
pub fn exchange(s: &mut accgen_sim::Session, rx: &[bool], tail: usize) -> Vec<u8> {
    deserial(&clock_line(s, rx, tail))
}

/// Drive `rx` into the wrapper, then `tail` idle cycles; returns tx_o's
/// level in every cycle.
pub fn clock_line(s: &mut accgen_sim::Session, rx: &[bool], tail: usize) -> Vec<bool> {
    let mut tx = Vec::with_capacity(rx.len() + tail);
    let mut level = None;
    for &bit in rx.iter().chain(std::iter::repeat_n(&true, tail)) {
        if level != Some(bit) {
            s.poke("uart_rx_i", bit).unwrap_or_else(|e| panic!("{e}"));
            level = Some(bit);
        }
        tx.push(s.peek_u64("uart_tx_o").unwrap_or_else(|e| panic!("{e}")) == 1);
        s.tick().unwrap_or_else(|e| panic!("{e}"));
    }
    tx
}

/// A serial port whose far end is the wrapper in Verilator: bytes written
/// become the rx line's waveform, bytes read are decoded from tx_o.
pub struct SimPort {
    pub session: accgen_sim::Session,
    /// tx_o since the start, one level per cycle (frames straddle calls).
    pub tx: Vec<bool>,
    /// Cycle of `tx` where decoding resumes.
    pub scan: usize,
    /// Decoded bytes not yet read.
    pub pending: std::collections::VecDeque<u8>,
    /// Cycles to wait for an answer before a read returns 0 (a time-out).
    pub patience: usize,
}

impl SimPort {
    /// A port on `session`, whose reads wait `patience` cycles for an answer.
    pub fn new(session: accgen_sim::Session, patience: usize) -> SimPort {
        SimPort {
            session,
            tx: Vec::new(),
            scan: 1,
            pending: Default::default(),
            patience,
        }
    }

    pub fn run(&mut self, rx: &[bool], tail: usize) {
        let line = clock_line(&mut self.session, rx, tail);
        self.tx.extend(line);
        let (bytes, next) = deserial_from(&self.tx, self.scan);
        self.pending.extend(bytes);
        self.scan = next;
    }
}

impl SimPort {
    /// Clock until the answer to what was written has left, and take it.
    pub fn read_to_end_pending(&mut self, out: &mut Vec<u8>) -> usize {
        self.run(&[], self.patience);
        let n = self.pending.len();
        out.extend(self.pending.drain(..));
        n
    }
}

impl Write for SimPort {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.run(&serial(buf, 0), 0);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Read for SimPort {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            self.run(&[], self.patience);
        }
        let n = buf.len().min(self.pending.len());
        for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

/// A pseudo-terminal: the master side (the "board" end), the slave side
/// held open (so the master never sees a hang-up while the host opens and
/// closes the slave: stty, then accgen) and the slave's path.
pub fn open_pty() -> (std::fs::File, std::fs::File, String) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain POSIX calls on a descriptor this function owns; the
    // name buffer outlives the call that fills it.
    unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(fd >= 0, "posix_openpt failed");
        assert_eq!(libc::grantpt(fd), 0, "grantpt failed");
        assert_eq!(libc::unlockpt(fd), 0, "unlockpt failed");
        let mut name = [0 as libc::c_char; 256];
        assert_eq!(
            libc::ptsname_r(fd, name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r failed"
        );
        let path = std::ffi::CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
        let master = std::fs::File::from_raw_fd(fd);
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        (master, slave, path)
    }
}

/// `accgen run-uart CONFIG --port PTY ARGS` with the wrapper in Verilator
/// (`board`) on the far side of a pseudo-terminal (stty sets the slave up
/// as a real port). Returns the host's output and the bytes it sent.
pub fn run_uart_on_pty(board: &mut SimPort, config: &std::path::Path, args: &[&str]) -> (std::process::Output, usize) {
    let (master, slave, slave_path) = open_pty();
    let mut to_host = master.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let (sender, from_host) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut reader = master;
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || sender.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut host = std::process::Command::new(env!("CARGO_BIN_EXE_accgen"))
        .arg("run-uart")
        .arg(config)
        .args(["--port", &slave_path])
        // The simulated board may take seconds to answer on a loaded machine.
        .args(["--timeout", "120"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let mut bytes_in = 0;
    while host.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
        if let Ok(chunk) = from_host.recv_timeout(std::time::Duration::from_millis(50)) {
            bytes_in += chunk.len();
            board.write_all(&chunk).unwrap_or_else(|e| panic!("{e}"));
            let mut answer = Vec::new();
            let _ = board.read_to_end_pending(&mut answer);
            to_host.write_all(&answer).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let _ = host.kill();
    let out = host.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    drop(slave);
    (out, bytes_in)
}

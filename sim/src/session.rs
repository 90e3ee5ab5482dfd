//! Interactive sessions: drive a model port by port from a user's own test.
//!
//! ```no_run
//! # fn demo(model: &accgen_sim::Model) -> Result<(), accgen_sim::SimError> {
//! let mut s = model.session()?;
//! s.poke("a_i", 5)?;
//! s.eval()?;
//! let y = s.peek("y_o")?; // accgen_hdl::Bits
//! s.tick()?;
//! # Ok(()) }
//! ```

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use accgen_hdl::Bits;

use crate::error::SimError;
use crate::frame::{Frame, get_word};
use crate::harness::{OP_EVAL, OP_QUIT, OP_TICK};
use crate::layout::{Layout, Slot};
use crate::model::Model;
use crate::tools::{drain, join_drain};

/// A value to drive into a port: any integer, or `Bits` of any width.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Unsigned(u64),
    Signed(i64),
    Bits(&'a Bits),
}

macro_rules! value_from {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::$variant(v as $wide)
            }
        }
    )*};
}
value_from!(Unsigned as u64: u8, u16, u32, u64, usize);
value_from!(Signed as i64: i8, i16, i32, i64, isize);

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Unsigned(v as u64)
    }
}

impl<'a> From<&'a Bits> for Value<'a> {
    fn from(v: &'a Bits) -> Self {
        Value::Bits(v)
    }
}

/// A running model under interactive control. Inputs keep their values
/// until poked again; `peek` sees the current inputs (it evaluates first if
/// anything was poked since the last evaluation).
pub struct Session {
    layout: Layout,
    child: Child,
    to_model: BufWriter<ChildStdin>,
    from_model: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    /// The current input frame, in the harness's word layout.
    frame: Vec<u8>,
    outputs: Vec<u8>,
    dirty: bool,
    cycles: u64,
    closed: bool,
}

impl Model {
    /// Start an interactive session on this model.
    pub fn session(&self) -> Result<Session, SimError> {
        Session::start(self, None)
    }

    /// Start an interactive session that records a VCD (builds or reuses
    /// the traced variant of the model).
    pub fn session_with_vcd(&self, vcd: impl AsRef<Path>) -> Result<Session, SimError> {
        let traced = self.traced()?;
        Session::start(&traced, Some(vcd.as_ref()))
    }
}

impl Session {
    fn start(model: &Model, vcd: Option<&Path>) -> Result<Session, SimError> {
        let layout = model.layout().clone();
        let mut cmd = Command::new(model.binary());
        cmd.arg("--interactive");
        if let Some(v) = vcd {
            cmd.arg("--vcd").arg(v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| SimError::io(format!("starting {}", model.binary().display()), e))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SimError::Harness {
                top: layout.top().to_string(),
                message: "its pipes could not be opened".into(),
                stderr: String::new(),
            });
        };
        let outputs = vec![0; 4 * layout.out_words()];
        Ok(Session {
            frame: vec![0; layout.frame_bytes()],
            outputs,
            layout,
            child,
            to_model: BufWriter::new(stdin),
            from_model: BufReader::new(stdout),
            stderr: Some(drain(stderr, 1 << 20)),
            dirty: true,
            cycles: 0,
            closed: false,
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Clock cycles ticked so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Set an input (takes effect at the next `eval`, `tick` or `peek`).
    /// Errors for an unknown port, the clock, or a value that does not fit.
    pub fn poke<'v>(&mut self, port: &str, value: impl Into<Value<'v>>) -> Result<(), SimError> {
        let id = self.layout.input(port)?;
        let mut error = None;
        {
            let mut f = Frame::new(&mut self.frame, &self.layout, self.cycles, &mut error);
            match value.into() {
                Value::Unsigned(v) => f.set_u64(id, v),
                Value::Signed(v) => f.set_i64(id, v),
                Value::Bits(v) => f.set_bits(id, v),
            }
        }
        if let Some(SimError::BadValue { port, message, .. }) = error {
            return Err(SimError::BadValue {
                port,
                cycle: None,
                message,
            });
        }
        self.dirty = true;
        Ok(())
    }

    /// Apply the inputs and evaluate the combinational logic (no clock edge).
    pub fn eval(&mut self) -> Result<(), SimError> {
        self.request(OP_EVAL)?;
        self.dirty = false;
        Ok(())
    }

    /// One clock cycle: apply the inputs and evaluate, rising edge, falling
    /// edge. Outputs afterwards show the state after the edge.
    pub fn tick(&mut self) -> Result<(), SimError> {
        if self.layout.clock().is_none() {
            return Err(SimError::NoClock {
                top: self.layout.top().to_string(),
            });
        }
        self.request(OP_TICK)?;
        self.dirty = false;
        self.cycles += 1;
        Ok(())
    }

    /// `n` clock cycles with the current inputs.
    pub fn ticks(&mut self, n: u64) -> Result<(), SimError> {
        for _ in 0..n {
            self.tick()?;
        }
        Ok(())
    }

    fn output_slot(&self, port: &str) -> Result<&Slot, SimError> {
        let id = self.layout.output(port)?;
        self.layout.output_slot(id).ok_or_else(|| SimError::UnknownPort {
            name: port.to_string(),
            kind: "output",
            available: Vec::new(),
        })
    }

    /// The current value of an output.
    pub fn peek(&mut self, port: &str) -> Result<Bits, SimError> {
        let slot = self.output_slot(port)?.clone();
        if self.dirty {
            self.eval()?;
        }
        let words: Vec<u32> = (0..slot.words)
            .map(|i| get_word(&self.outputs, 4 * (slot.offset + i)))
            .collect();
        Ok(Bits::from_words32(slot.width, &words))
    }

    /// The current value of an output of at most 64 bits, zero-extended.
    pub fn peek_u64(&mut self, port: &str) -> Result<u64, SimError> {
        let v = self.peek(port)?;
        if v.width() > 64 {
            return Err(SimError::BadValue {
                port: port.to_string(),
                cycle: None,
                message: format!("a {}-bit output does not fit u64; use peek()", v.width()),
            });
        }
        Ok(v.to_u64())
    }

    /// The current value of an output of at most 64 bits, read as two's
    /// complement of its width.
    pub fn peek_i64(&mut self, port: &str) -> Result<i64, SimError> {
        let v = self.peek(port)?;
        if v.width() > 64 {
            return Err(SimError::BadValue {
                port: port.to_string(),
                cycle: None,
                message: format!("a {}-bit output does not fit i64; use peek()", v.width()),
            });
        }
        Ok(v.i64_field(0, v.width()))
    }

    fn request(&mut self, op: u32) -> Result<(), SimError> {
        let in_bytes = 4 * self.layout.in_words();
        let sent = self
            .to_model
            .write_all(&op.to_le_bytes())
            .and_then(|_| self.to_model.write_all(&self.frame[..in_bytes]))
            .and_then(|_| self.to_model.flush());
        let received = sent.and_then(|_| self.from_model.read_exact(&mut self.outputs));
        if let Err(e) = received {
            return Err(self.died(e));
        }
        Ok(())
    }

    /// The harness went away: collect what it said.
    fn died(&mut self, e: std::io::Error) -> SimError {
        self.closed = true;
        let _ = self.child.kill();
        let status = self.child.wait();
        let stderr = self.stderr.take().map(join_drain).unwrap_or_default();
        SimError::Harness {
            top: self.layout.top().to_string(),
            message: format!("the session ended unexpectedly ({e}; exit: {status:?})"),
            stderr,
        }
    }

    /// End the session, waiting for the harness (and its VCD) to finish.
    pub fn close(mut self) -> Result<(), SimError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), SimError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let _ = self
            .to_model
            .write_all(&OP_QUIT.to_le_bytes())
            .and_then(|_| self.to_model.flush());
        let status = self
            .child
            .wait()
            .map_err(|e| SimError::io("waiting for the session harness", e))?;
        let stderr = self.stderr.take().map(join_drain).unwrap_or_default();
        if !status.success() {
            return Err(SimError::Harness {
                top: self.layout.top().to_string(),
                message: format!("the session exited with {status}"),
                stderr,
            });
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

//! Where each port's value sits in a frame, shared by the Rust encoder, the
//! generated C++ port table and the test bench generator.
//!
//! A frame is `[input words][expected output words][care words]`, every port
//! value `ceil(width/32)` little-endian 32-bit words (Verilator's layout),
//! and care bit `k` (word `k / 32`, bit `k % 32`) set when output `k` is
//! compared in that cycle. The clock is not in the frame: the harness
//! toggles it.

use accgen_hdl::{Design, Dir};

use crate::error::SimError;

/// Handle of a driven input, resolved once by name with [`Layout::input`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputId(pub(crate) usize);

/// Handle of an output, resolved once by name with [`Layout::output`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutputId(pub(crate) usize);

/// One port's place in the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub name: String,
    pub width: u32,
    pub signed: bool,
    /// Number of 32-bit words, `ceil(width / 32)`.
    pub words: usize,
    /// First word of the value, counted from the start of its section
    /// (inputs, or expected outputs).
    pub offset: usize,
    /// Byte offset of the value from the start of the frame.
    pub(crate) byte: usize,
}

/// The frame layout of one design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    top: String,
    clock: Option<String>,
    inputs: Vec<Slot>,
    outputs: Vec<Slot>,
    in_words: usize,
    out_words: usize,
    care_words: usize,
}

impl Layout {
    /// Check that the design can be simulated and lay out its frame.
    pub fn new(design: &Design) -> Result<Layout, SimError> {
        let bad = |message: String| SimError::BadDesign {
            top: design.top.clone(),
            message,
        };
        if !is_plain_identifier(&design.top) {
            return Err(bad(format!(
                "the top module name `{}` is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)",
                design.top
            )));
        }
        for (i, p) in design.ports.iter().enumerate() {
            // Verilator mangles `__` and escaped names in its C++ member
            // names; accgen never emits them, so refuse instead of guessing.
            if !is_plain_identifier(&p.name) || p.name.contains("__") {
                return Err(bad(format!(
                    "port name `{}` is not supported: use [A-Za-z_][A-Za-z0-9_]* without `__`",
                    p.name
                )));
            }
            if p.name.starts_with("tb_") {
                return Err(bad(format!(
                    "port name `{}` starts with `tb_`, which the generated test bench reserves \
                     for its own signals",
                    p.name
                )));
            }
            if p.width == 0 {
                return Err(bad(format!("port `{}` has width 0", p.name)));
            }
            if design.ports[..i].iter().any(|q| q.name == p.name) {
                return Err(bad(format!("port `{}` is declared twice", p.name)));
            }
        }
        if let Some(clk) = &design.clock {
            match design.port(clk) {
                None => return Err(bad(format!("the clock `{clk}` is not a port"))),
                Some(p) if p.dir != Dir::In || p.width != 1 => {
                    return Err(bad(format!("the clock `{clk}` must be a 1-bit input")));
                }
                Some(_) => {}
            }
        }
        let mut inputs = Vec::new();
        let mut offset = 0;
        for p in design.driven_inputs() {
            let words = p.width.div_ceil(32) as usize;
            inputs.push(Slot {
                name: p.name.clone(),
                width: p.width,
                signed: p.signed,
                words,
                offset,
                byte: 4 * offset,
            });
            offset += words;
        }
        let in_words = offset;
        let mut outputs = Vec::new();
        offset = 0;
        for p in design.outputs() {
            let words = p.width.div_ceil(32) as usize;
            outputs.push(Slot {
                name: p.name.clone(),
                width: p.width,
                signed: p.signed,
                words,
                offset,
                byte: 4 * (in_words + offset),
            });
            offset += words;
        }
        if outputs.is_empty() {
            return Err(bad("it has no output ports, so there is nothing to observe".into()));
        }
        let out_words = offset;
        let care_words = outputs.len().div_ceil(32);
        Ok(Layout {
            top: design.top.clone(),
            clock: design.clock.clone(),
            inputs,
            outputs,
            in_words,
            out_words,
            care_words,
        })
    }

    pub fn top(&self) -> &str {
        &self.top
    }

    pub fn clock(&self) -> Option<&str> {
        self.clock.as_deref()
    }

    /// The input driven by the frames with this name (the clock is not one).
    pub fn input(&self, name: &str) -> Result<InputId, SimError> {
        match self.inputs.iter().position(|s| s.name == name) {
            Some(i) => Ok(InputId(i)),
            None => Err(SimError::UnknownPort {
                name: name.to_string(),
                kind: if self.clock.as_deref() == Some(name) {
                    "driven input (the clock is toggled by the harness, not driven)"
                } else {
                    "input"
                },
                available: self.inputs.iter().map(|s| s.name.clone()).collect(),
            }),
        }
    }

    /// The output with this name.
    pub fn output(&self, name: &str) -> Result<OutputId, SimError> {
        match self.outputs.iter().position(|s| s.name == name) {
            Some(i) => Ok(OutputId(i)),
            None => Err(SimError::UnknownPort {
                name: name.to_string(),
                kind: "output",
                available: self.outputs.iter().map(|s| s.name.clone()).collect(),
            }),
        }
    }

    /// Driven inputs in frame order (declaration order, clock excluded).
    pub fn inputs(&self) -> &[Slot] {
        &self.inputs
    }

    /// Outputs in frame order (declaration order); output `k` has care bit `k`.
    pub fn outputs(&self) -> &[Slot] {
        &self.outputs
    }

    pub fn input_slot(&self, id: InputId) -> Option<&Slot> {
        self.inputs.get(id.0)
    }

    pub fn output_slot(&self, id: OutputId) -> Option<&Slot> {
        self.outputs.get(id.0)
    }

    pub fn in_words(&self) -> usize {
        self.in_words
    }

    pub fn out_words(&self) -> usize {
        self.out_words
    }

    pub fn care_words(&self) -> usize {
        self.care_words
    }

    pub fn frame_words(&self) -> usize {
        self.in_words + self.out_words + self.care_words
    }

    pub fn frame_bytes(&self) -> usize {
        4 * self.frame_words()
    }

    /// Byte offset of the care words within a frame.
    pub(crate) fn care_byte(&self) -> usize {
        4 * (self.in_words + self.out_words)
    }
}

fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

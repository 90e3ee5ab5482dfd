//! Encoding one cycle of stimulus and expectations, straight into the bytes
//! that go down the pipe (no per-cycle allocation, no intermediate values).

use accgen_hdl::Bits;

use crate::error::SimError;
use crate::layout::{InputId, Layout, OutputId, Slot};

/// One cycle being written by a [`CycleSource`].
///
/// Inputs keep the value of the previous cycle unless set again; expectations
/// start every cycle as don't-care. Values must fit their port: a value that
/// does not is recorded and ends the run with [`SimError::BadValue`] after
/// this cycle (so the setters stay cheap and never panic).
pub struct Frame<'a> {
    bytes: &'a mut [u8],
    layout: &'a Layout,
    cycle: u64,
    error: &'a mut Option<SimError>,
}

/// Produces the cycles of a run, one frame at a time.
///
/// A source must be deterministic: after a mismatch the same source is made
/// again and replayed up to the failing cycle to record a waveform.
pub trait CycleSource {
    /// Fill in the next cycle; return `false` (leaving the frame unused) when
    /// there are no more cycles.
    fn next_cycle(&mut self, frame: &mut Frame<'_>) -> bool;
}

impl<F: FnMut(&mut Frame<'_>) -> bool> CycleSource for F {
    fn next_cycle(&mut self, frame: &mut Frame<'_>) -> bool {
        self(frame)
    }
}

#[inline(always)]
fn put_word(bytes: &mut [u8], at: usize, w: u32) {
    if let Some(dst) = bytes.get_mut(at..at + 4) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
}

#[inline]
pub(crate) fn get_word(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Mask of the valid bits of the top word of a `width`-bit value.
#[inline]
fn top_mask(width: u32) -> u32 {
    match width % 32 {
        0 => u32::MAX,
        r => (1u32 << r) - 1,
    }
}

/// Does `v` fit an unsigned `width`-bit port?
#[inline]
fn u64_fits(width: u32, v: u64) -> bool {
    width >= 64 || v >> width == 0
}

/// Does `v` fit a port of `width` bits, read as signed if `signed`?
#[inline]
fn i64_fits(width: u32, signed: bool, v: i64) -> bool {
    match (signed, width >= 64) {
        (true, true) => true,
        (true, false) => {
            let half = 1i64 << (width - 1);
            (-half..half).contains(&v)
        }
        (false, true) => v >= 0,
        (false, false) => v >= 0 && (v as u64) >> width == 0,
    }
}

/// Write `v` sign- or zero-extended into the slot (the value already fits).
/// Negative values fill up to the word boundary; the top word is masked so
/// the bits above the width stay zero, as Verilator keeps them.
#[inline(always)]
fn write_u64(bytes: &mut [u8], slot: &Slot, v: u64, fill: u32) {
    let at = slot.byte;
    let mask = top_mask(slot.width);
    match slot.words {
        1 => put_word(bytes, at, v as u32 & mask),
        2 => {
            put_word(bytes, at, v as u32);
            put_word(bytes, at + 4, (v >> 32) as u32 & mask);
        }
        n => {
            put_word(bytes, at, v as u32);
            put_word(bytes, at + 4, (v >> 32) as u32);
            for i in 2..n - 1 {
                put_word(bytes, at + 4 * i, fill);
            }
            put_word(bytes, at + 4 * (n - 1), fill & mask);
        }
    }
}

/// Write a `Bits` whose bits above the slot width (if any) are zero.
fn write_bits(bytes: &mut [u8], slot: &Slot, v: &Bits) {
    let limbs = v.limbs();
    for i in 0..slot.words {
        let limb = limbs.get(i / 2).copied().unwrap_or(0);
        put_word(bytes, slot.byte + 4 * i, (limb >> (32 * (i % 2))) as u32);
    }
}

fn bits_fit(width: u32, v: &Bits) -> bool {
    v.width() <= width || v.field(width, v.width() - width).is_zero()
}

/// The value of a slot as `Bits`.
pub(crate) fn read_bits(bytes: &[u8], slot: &Slot) -> Bits {
    let mut words = [0u32; 8];
    if slot.words <= words.len() {
        for (i, w) in words.iter_mut().enumerate().take(slot.words) {
            *w = get_word(bytes, slot.byte + 4 * i);
        }
        Bits::from_words32(slot.width, &words[..slot.words])
    } else {
        let v: Vec<u32> = (0..slot.words).map(|i| get_word(bytes, slot.byte + 4 * i)).collect();
        Bits::from_words32(slot.width, &v)
    }
}

impl<'a> Frame<'a> {
    pub(crate) fn new(
        bytes: &'a mut [u8],
        layout: &'a Layout,
        cycle: u64,
        error: &'a mut Option<SimError>,
    ) -> Frame<'a> {
        Frame {
            bytes,
            layout,
            cycle,
            error,
        }
    }

    /// Index of this cycle in the run (0-based).
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    pub fn layout(&self) -> &Layout {
        self.layout
    }

    /// Record the first bad value of the run. Cold and out of line, with
    /// the message built inside, so the setters compile to a few
    /// instructions on the hot path.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, describe: impl FnOnce(&Layout) -> (String, String)) {
        if self.error.is_none() {
            let (port, message) = describe(self.layout);
            *self.error = Some(SimError::BadValue {
                port,
                cycle: Some(self.cycle),
                message,
            });
        }
    }

    #[cold]
    #[inline(never)]
    fn fail_id(&mut self, kind: &'static str, index: usize) {
        self.fail(|layout| {
            let message = format!(
                "{kind} id #{index} does not belong to the layout of `{}`; resolve ids with \
                 this model's layout",
                layout.top()
            );
            (format!("#{index}"), message)
        });
    }

    /// Drive an input with the low bits of `value`, which must fit the port
    /// as an unsigned number (for a signed port, pass the two's complement
    /// bit pattern, or use [`Frame::set_i64`]).
    #[inline(always)]
    pub fn set_u64(&mut self, port: InputId, value: u64) {
        let layout = self.layout;
        let Some(slot) = layout.inputs().get(port.0) else {
            return self.fail_id("input", port.0);
        };
        if !u64_fits(slot.width, value) {
            return self.fail(|l| {
                let s = &l.inputs()[port.0];
                (
                    s.name.clone(),
                    format!("value {value} does not fit {} unsigned bits", s.width),
                )
            });
        }
        write_u64(self.bytes, slot, value, 0);
    }

    /// Drive an input with a signed value: it must lie in the port's range
    /// (signed ports) or be non-negative and fit (unsigned ports).
    #[inline(always)]
    pub fn set_i64(&mut self, port: InputId, value: i64) {
        let layout = self.layout;
        let Some(slot) = layout.inputs().get(port.0) else {
            return self.fail_id("input", port.0);
        };
        if !i64_fits(slot.width, slot.signed, value) {
            return self.fail(|l| {
                let s = &l.inputs()[port.0];
                (s.name.clone(), range_message(s, value))
            });
        }
        write_u64(self.bytes, slot, value as u64, if value < 0 { u32::MAX } else { 0 });
    }

    /// Drive an input of any width. A narrower value is zero-extended; a
    /// wider one must be zero above the port width.
    pub fn set_bits(&mut self, port: InputId, value: &Bits) {
        let layout = self.layout;
        let Some(slot) = layout.inputs().get(port.0) else {
            return self.fail_id("input", port.0);
        };
        if !bits_fit(slot.width, value) {
            return self.fail(|l| {
                let s = &l.inputs()[port.0];
                (s.name.clone(), format!("value {value} does not fit {} bits", s.width))
            });
        }
        write_bits(self.bytes, slot, value);
    }

    #[inline(always)]
    fn care(&mut self, k: usize, on: bool) {
        let at = self.layout.care_byte() + 4 * (k / 32) + (k % 32) / 8;
        if let Some(b) = self.bytes.get_mut(at) {
            let bit = 1u8 << (k % 8);
            if on {
                *b |= bit;
            } else {
                *b &= !bit;
            }
        }
    }

    /// Expect an output value this cycle (unsigned, must fit the port).
    #[inline(always)]
    pub fn expect_u64(&mut self, port: OutputId, value: u64) {
        let layout = self.layout;
        let Some(slot) = layout.outputs().get(port.0) else {
            return self.fail_id("output", port.0);
        };
        if !u64_fits(slot.width, value) {
            return self.fail(|l| {
                let s = &l.outputs()[port.0];
                let m = format!("expected value {value} does not fit {} unsigned bits", s.width);
                (s.name.clone(), m)
            });
        }
        write_u64(self.bytes, slot, value, 0);
        self.care(port.0, true);
    }

    /// Expect a signed output value this cycle (must lie in the port's range).
    #[inline(always)]
    pub fn expect_i64(&mut self, port: OutputId, value: i64) {
        let layout = self.layout;
        let Some(slot) = layout.outputs().get(port.0) else {
            return self.fail_id("output", port.0);
        };
        if !i64_fits(slot.width, slot.signed, value) {
            return self.fail(|l| {
                let s = &l.outputs()[port.0];
                (s.name.clone(), format!("expected {}", range_message(s, value)))
            });
        }
        write_u64(self.bytes, slot, value as u64, if value < 0 { u32::MAX } else { 0 });
        self.care(port.0, true);
    }

    /// Expect an output value of any width this cycle.
    pub fn expect_bits(&mut self, port: OutputId, value: &Bits) {
        let layout = self.layout;
        let Some(slot) = layout.outputs().get(port.0) else {
            return self.fail_id("output", port.0);
        };
        if !bits_fit(slot.width, value) {
            return self.fail(|l| {
                let s = &l.outputs()[port.0];
                (
                    s.name.clone(),
                    format!("expected value {value} does not fit {} bits", s.width),
                )
            });
        }
        write_bits(self.bytes, slot, value);
        self.care(port.0, true);
    }

    /// Do not compare this output this cycle (the default every cycle).
    #[inline(always)]
    pub fn dont_care(&mut self, port: OutputId) {
        if port.0 < self.layout.outputs().len() {
            self.care(port.0, false);
        }
    }

    /// The value an input has this cycle (set now or carried over).
    pub fn input(&self, port: InputId) -> Option<Bits> {
        self.layout.inputs().get(port.0).map(|s| read_bits(self.bytes, s))
    }
}

fn range_message(slot: &Slot, value: i64) -> String {
    if slot.signed {
        format!("value {value} is outside the range of {} signed bits", slot.width)
    } else {
        format!(
            "value {value} does not fit {} unsigned bits (the port is unsigned)",
            slot.width
        )
    }
}

/// The running state of an encoder: the current frame (inputs persist from
/// cycle to cycle) and a batch of finished frames waiting to be written.
pub(crate) struct Encoder<'l> {
    layout: &'l Layout,
    current: Vec<u8>,
    pub(crate) batch: Vec<u8>,
    pub(crate) cycle: u64,
    pub(crate) error: Option<SimError>,
}

impl<'l> Encoder<'l> {
    pub(crate) fn new(layout: &'l Layout, batch_bytes: usize) -> Encoder<'l> {
        Encoder {
            layout,
            current: vec![0; layout.frame_bytes()],
            batch: Vec::with_capacity(batch_bytes + layout.frame_bytes()),
            cycle: 0,
            error: None,
        }
    }

    /// Ask the source for one more cycle and append it to the batch.
    /// Returns false at the end of the source or on a bad value (then
    /// `self.error` says which).
    #[inline]
    pub(crate) fn step(&mut self, source: &mut impl CycleSource) -> bool {
        let more = {
            let mut frame = Frame::new(&mut self.current, self.layout, self.cycle, &mut self.error);
            source.next_cycle(&mut frame)
        };
        if !more || self.error.is_some() {
            return false;
        }
        self.batch.extend_from_slice(&self.current);
        // Expectations and care bits are per cycle; inputs carry over.
        let in_bytes = 4 * self.layout.in_words();
        self.current[in_bytes..].fill(0);
        self.cycle += 1;
        true
    }
}

/// A recorded run: every frame of a source, kept in memory in the exact
/// form the harness reads. Feed it to [`crate::Model::check_frames`], to the
/// raw benchmark, or to the Icarus test bench generator, so the same vectors
/// are used everywhere.
#[derive(Clone, Debug)]
pub struct Frames {
    layout: Layout,
    data: Vec<u8>,
}

impl Frames {
    /// An empty recording for `layout`.
    pub fn new(layout: &Layout) -> Frames {
        Frames {
            layout: layout.clone(),
            data: Vec::new(),
        }
    }

    /// Run `source` to its end and keep every frame.
    pub fn record(layout: &Layout, source: impl CycleSource) -> Result<Frames, SimError> {
        Frames::record_at_most(layout, source, u64::MAX)
    }

    /// Like [`Frames::record`], stopping after `max_cycles` cycles.
    pub fn record_at_most(layout: &Layout, mut source: impl CycleSource, max_cycles: u64) -> Result<Frames, SimError> {
        let mut enc = Encoder::new(layout, 0);
        while enc.cycle < max_cycles && enc.step(&mut source) {}
        if let Some(e) = enc.error {
            return Err(e);
        }
        Ok(Frames {
            layout: layout.clone(),
            data: enc.batch,
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Number of cycles.
    pub fn len(&self) -> usize {
        self.data.len() / self.layout.frame_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The frames as the bytes the harness reads (check and raw modes).
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    fn frame(&self, cycle: usize) -> Option<&[u8]> {
        let n = self.layout.frame_bytes();
        self.data.get(cycle * n..(cycle + 1) * n)
    }

    /// The value of an input in a cycle.
    pub fn input(&self, cycle: usize, port: InputId) -> Option<Bits> {
        let slot = self.layout.input_slot(port)?;
        Some(read_bits(self.frame(cycle)?, slot))
    }

    /// The expected value of an output in a cycle, `None` if not compared
    /// (or out of range).
    pub fn expected(&self, cycle: usize, port: OutputId) -> Option<Bits> {
        let slot = self.layout.output_slot(port)?;
        let f = self.frame(cycle)?;
        if self.cares(cycle, port) {
            Some(read_bits(f, slot))
        } else {
            None
        }
    }

    /// Is the output compared in that cycle?
    pub fn cares(&self, cycle: usize, port: OutputId) -> bool {
        let k = port.0;
        let Some(f) = self.frame(cycle) else {
            return false;
        };
        get_word(f, self.layout.care_byte() + 4 * (k / 32)) >> (k % 32) & 1 == 1
    }

    /// A source that replays these frames.
    pub fn source(&self) -> FramesSource<'_> {
        FramesSource { frames: self, next: 0 }
    }
}

/// Replays recorded [`Frames`] (see [`Frames::source`]).
pub struct FramesSource<'f> {
    frames: &'f Frames,
    next: usize,
}

impl CycleSource for FramesSource<'_> {
    #[inline]
    fn next_cycle(&mut self, frame: &mut Frame<'_>) -> bool {
        match self.frames.frame(self.next) {
            Some(f) if frame.bytes.len() == f.len() => {
                frame.bytes.copy_from_slice(f);
                self.next += 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accgen_hdl::{Design, PortInfo};

    fn port(name: &str, dir: accgen_hdl::Dir, width: u32, signed: bool) -> PortInfo {
        PortInfo {
            name: name.into(),
            dir,
            width,
            signed,
            doc: String::new(),
        }
    }

    fn layout() -> Layout {
        use accgen_hdl::Dir::*;
        Layout::new(&Design {
            top: "t".into(),
            files: vec![],
            ports: vec![
                port("clk_i", In, 1, false),
                port("a_i", In, 8, true),
                port("w_i", In, 100, false),
                port("y_o", Out, 40, false),
                port("z_o", Out, 3, true),
            ],
            clock: Some("clk_i".into()),
        })
        .expect("valid layout")
    }

    #[test]
    fn words_and_sign_extension() {
        let l = layout();
        assert_eq!((l.in_words(), l.out_words(), l.care_words()), (5, 3, 1));
        let (a, w) = (l.input("a_i").unwrap(), l.input("w_i").unwrap());
        let (y, z) = (l.output("y_o").unwrap(), l.output("z_o").unwrap());
        let frames = Frames::record(&l, |f: &mut Frame<'_>| {
            if f.cycle() == 2 {
                return false;
            }
            if f.cycle() == 0 {
                f.set_i64(a, -2);
                f.set_bits(w, &Bits::ones(100));
                f.expect_u64(y, 0xff_ffff_ffff);
                f.expect_i64(z, -1);
            }
            true
        })
        .unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames.input(0, a), Some(Bits::from_i64(8, -2)));
        assert_eq!(frames.input(1, w), Some(Bits::ones(100)), "inputs persist");
        assert_eq!(frames.expected(0, z), Some(Bits::from_u64(3, 7)));
        assert_eq!(frames.expected(1, y), None, "expectations do not persist");
        let bytes = frames.as_bytes();
        assert_eq!(get_word(bytes, 0), 0xfe, "8-bit two's complement, no high bits");
        assert_eq!(get_word(bytes, 16), 0xf, "top word of a 100-bit value is masked");
    }

    #[test]
    fn out_of_range_values_are_errors_not_panics() {
        let l = layout();
        let a = l.input("a_i").unwrap();
        let z = l.output("z_o").unwrap();
        let err = Frames::record(&l, |f: &mut Frame<'_>| {
            f.set_i64(a, 128);
            true
        })
        .unwrap_err();
        assert!(err.to_string().contains("a_i"), "{err}");
        let err = Frames::record(&l, |f: &mut Frame<'_>| {
            f.expect_i64(z, -5);
            true
        })
        .unwrap_err();
        assert!(err.to_string().contains("cycle 0: port `z_o`"), "{err}");
        let err = Frames::record(&l, |f: &mut Frame<'_>| {
            f.set_u64(InputId(9), 1);
            true
        })
        .unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }
}

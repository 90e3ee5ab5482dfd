//! The contract between a block's test-vector generator and a simulator.
//!
//! A generator produces one clock cycle at a time: the value of every driven
//! input, and for every output either the expected value or "don't care".
//! Ports are addressed by position: inputs in the order of
//! [`Design::driven_inputs`](crate::Design::driven_inputs), outputs in the
//! order of [`Design::outputs`](crate::Design::outputs). Inputs not driven
//! in a cycle keep their previous value.

use crate::{Bits, Design};

/// Receives one cycle of stimulus and expected response.
pub trait CycleSink {
    /// Drive input `port` (up to 64 bits) with the low bits of `value`.
    fn drive(&mut self, port: usize, value: u64);
    fn drive_bits(&mut self, port: usize, value: &Bits);
    /// Expect output `port` (up to 64 bits) to equal the low bits of `value`.
    fn expect(&mut self, port: usize, value: u64);
    fn expect_bits(&mut self, port: usize, value: &Bits);
    /// Do not compare output `port` this cycle.
    fn ignore(&mut self, port: usize);
}

/// A deterministic source of cycles; recreate it to replay the same run.
pub trait Stimulus {
    /// Fill in the next cycle; false when the run is over.
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool;
}

/// Position of input `name` among the driven inputs.
pub fn input_index(design: &Design, name: &str) -> usize {
    design
        .driven_inputs()
        .position(|p| p.name == name)
        .unwrap_or_else(|| panic!("{} has no input {name}", design.top))
}

/// Position of output `name` among the outputs.
pub fn output_index(design: &Design, name: &str) -> usize {
    design
        .outputs()
        .position(|p| p.name == name)
        .unwrap_or_else(|| panic!("{} has no output {name}", design.top))
}

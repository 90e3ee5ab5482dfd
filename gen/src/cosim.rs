//! Bridges a block's test vectors (`accgen_hdl::stimulus`) to the Verilator
//! co-simulation (`accgen_sim`), and picks the vectors for each block.

use crate::config::{Block, Config};
use accgen_hdl::Bits;
use accgen_hdl::Design;
use accgen_hdl::mac::vectors::{ArrayVectors, Traffic};
use accgen_hdl::spiking::vectors::{ChainVectors, CoreVectors, Traffic as SpikeTraffic};
use accgen_hdl::stimulus::{CycleSink, Stimulus};
use accgen_sim::{CycleSource, Frame, InputId, Layout, OutputId};
use std::cell::Cell;
use std::rc::Rc;

/// A block's stimulus as a co-simulation cycle source.
pub struct Source<S> {
    stimulus: S,
    inputs: Vec<InputId>,
    outputs: Vec<OutputId>,
}

impl<S: Stimulus> Source<S> {
    pub fn new(design: &Design, layout: &Layout, stimulus: S) -> Source<S> {
        let inputs = design
            .driven_inputs()
            .map(|p| {
                layout
                    .input(&p.name)
                    .unwrap_or_else(|_| unreachable!("the layout was made from this design"))
            })
            .collect();
        let outputs = design
            .outputs()
            .map(|p| {
                layout
                    .output(&p.name)
                    .unwrap_or_else(|_| unreachable!("the layout was made from this design"))
            })
            .collect();
        Source {
            stimulus,
            inputs,
            outputs,
        }
    }
}

struct Sink<'f, 'a> {
    frame: &'f mut Frame<'a>,
    inputs: &'f [InputId],
    outputs: &'f [OutputId],
}

impl CycleSink for Sink<'_, '_> {
    fn drive(&mut self, port: usize, value: u64) {
        self.frame.set_u64(self.inputs[port], value);
    }
    fn drive_bits(&mut self, port: usize, value: &Bits) {
        self.frame.set_bits(self.inputs[port], value);
    }
    fn expect(&mut self, port: usize, value: u64) {
        self.frame.expect_u64(self.outputs[port], value);
    }
    fn expect_bits(&mut self, port: usize, value: &Bits) {
        self.frame.expect_bits(self.outputs[port], value);
    }
    fn ignore(&mut self, port: usize) {
        self.frame.dont_care(self.outputs[port]);
    }
}

impl<S: Stimulus> CycleSource for Source<S> {
    fn next_cycle(&mut self, frame: &mut Frame<'_>) -> bool {
        let mut sink = Sink {
            frame,
            inputs: &self.inputs,
            outputs: &self.outputs,
        };
        self.stimulus.next_cycle(&mut sink)
    }
}

/// Which traffic pattern a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TrafficKind {
    /// Input offered and output taken every cycle: the throughput case.
    Full,
    /// Random gaps on the input and random back-pressure on the output.
    Bursty,
}

impl TrafficKind {
    pub fn traffic(self) -> Traffic {
        match self {
            TrafficKind::Full => Traffic::FULL,
            TrafficKind::Bursty => Traffic::BURSTY,
        }
    }

    /// The spiking cores' traffic of the same kind.
    pub fn spiking(self) -> SpikeTraffic {
        match self {
            TrafficKind::Full => SpikeTraffic::FULL,
            TrafficKind::Bursty => SpikeTraffic::BURSTY,
        }
    }
}

/// A block's random-vector stimulus.
pub enum BlockVectors {
    // Boxed: the array driver is large, and a stimulus is made once per run.
    Mac(Box<ArrayVectors>),
    Spiking(Box<CoreVectors>),
    SpikingChain(Box<ChainVectors>),
}

impl BlockVectors {
    /// Results compared so far (MAC: result rows; spiking: whole time
    /// steps, every spike and the end-of-step marker), readable while the
    /// simulator runs the stimulus.
    pub fn results_checked(&self) -> Rc<Cell<u64>> {
        match self {
            BlockVectors::Mac(v) => v.rows_checked(),
            BlockVectors::Spiking(v) => v.counts().ticks,
            BlockVectors::SpikingChain(v) => v.steps_checked(),
        }
    }
}

impl Stimulus for BlockVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        match self {
            BlockVectors::Mac(v) => v.next_cycle(sink),
            BlockVectors::Spiking(v) => v.next_cycle(sink),
            BlockVectors::SpikingChain(v) => v.next_cycle(sink),
        }
    }
}

/// What one finished result is called in reports.
pub fn result_noun(config: &Config) -> &'static str {
    match &config.block {
        Block::MacArray(_) => "result rows",
        Block::SpikingCore(_) | Block::SpikingChain(..) => "time steps",
    }
}

/// The random-vector stimulus for a configuration.
pub fn vectors(config: &Config, design: &Design, seed: u64, cycles: u64, traffic: TrafficKind) -> BlockVectors {
    match &config.block {
        Block::MacArray(p) => {
            BlockVectors::Mac(Box::new(ArrayVectors::new(design, p, seed, cycles, traffic.traffic())))
        }
        Block::SpikingCore(p) => {
            let events = CoreVectors::events_for_cycles(p, cycles);
            BlockVectors::Spiking(Box::new(
                CoreVectors::new(design, p, seed, events, traffic.spiking()).cycle_limit(cycles),
            ))
        }
        Block::SpikingChain(a, b) => BlockVectors::SpikingChain(Box::new(ChainVectors::random(
            design,
            a,
            b,
            seed,
            cycles,
            traffic.spiking(),
        ))),
    }
}

/// The fewest cycles in which a run finishes at least one tile (or time
/// step), so result data (not only handshakes) is compared.
pub fn min_cycles(config: &Config, traffic: TrafficKind) -> u64 {
    match &config.block {
        Block::MacArray(p) => ArrayVectors::min_cycles(p, traffic.traffic()),
        Block::SpikingCore(p) => CoreVectors::min_cycles(p, traffic.spiking()),
        Block::SpikingChain(a, b) => ChainVectors::min_cycles(a, b, traffic.spiking()),
    }
}

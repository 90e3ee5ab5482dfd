//! Bridges a block's test vectors (`accgen_hdl::stimulus`) to the Verilator
//! co-simulation (`accgen_sim`), and picks the vectors for each block.

use crate::config::{Block, Config};
use accgen_hdl::Bits;
use accgen_hdl::Design;
use accgen_hdl::hashgrid::vectors::EngineVectors;
use accgen_hdl::mac::vectors::{ArrayVectors, Traffic};
use accgen_hdl::spiking::vectors::{ChainVectors, CoreVectors, Traffic as SpikeTraffic};
use accgen_hdl::stimulus::{CycleSink, Stimulus};
use accgen_sim::{CycleSource, Frame, InputId, Layout, OutputId};

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

/// The random-vector stimulus of a configuration's block.
pub enum Vectors {
    // Boxed: the drivers are large, and a stimulus is made once per run.
    MacArray(Box<ArrayVectors>),
    HashGrid(Box<EngineVectors>),
    SpikingCore(Box<CoreVectors>),
    SpikingChain(Box<ChainVectors>),
}

impl Vectors {
    /// Results compared so far (MAC result rows, encoded points, whole
    /// time steps of a spiking core: every spike and the end-of-step
    /// marker); shared so the count survives the stimulus being moved into
    /// a simulator.
    pub fn results_checked(&self) -> std::rc::Rc<std::cell::Cell<u64>> {
        match self {
            Vectors::MacArray(v) => v.rows_checked(),
            Vectors::HashGrid(v) => v.points_checked(),
            Vectors::SpikingCore(v) => v.counts().ticks,
            Vectors::SpikingChain(v) => v.steps_checked(),
        }
    }

    /// What a result is, for reports.
    pub fn result_name(&self) -> &'static str {
        match self {
            Vectors::MacArray(_) => "result rows",
            Vectors::HashGrid(_) => "encoded points",
            Vectors::SpikingCore(_) | Vectors::SpikingChain(_) => "time steps",
        }
    }
}

impl Stimulus for Vectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        match self {
            Vectors::MacArray(v) => v.next_cycle(sink),
            Vectors::HashGrid(v) => v.next_cycle(sink),
            Vectors::SpikingCore(v) => v.next_cycle(sink),
            Vectors::SpikingChain(v) => v.next_cycle(sink),
        }
    }
}

/// The random-vector stimulus for a configuration.
pub fn vectors(config: &Config, design: &Design, seed: u64, cycles: u64, traffic: TrafficKind) -> Vectors {
    match &config.block {
        Block::MacArray(p) => {
            Vectors::MacArray(Box::new(ArrayVectors::new(design, p, seed, cycles, traffic.traffic())))
        }
        Block::HashGrid(p) => {
            let t = traffic.traffic();
            Vectors::HashGrid(Box::new(EngineVectors::new(design, p, seed, cycles, t.offer, t.ready)))
        }
        Block::SpikingCore(p) => {
            let events = CoreVectors::events_for_cycles(p, cycles);
            Vectors::SpikingCore(Box::new(
                CoreVectors::new(design, p, seed, events, traffic.spiking()).cycle_limit(cycles),
            ))
        }
        Block::SpikingChain(a, b) => Vectors::SpikingChain(Box::new(ChainVectors::random(
            design,
            a,
            b,
            seed,
            cycles,
            traffic.spiking(),
        ))),
    }
}

/// The vectors of `accgen gen`'s test bench: as [`vectors`], except that a
/// hash grid with `$readmemh` tables skips loading them (its files, from
/// [`init_files`], hold the same tables), so the test bench checks the
/// initialisation. Verilator runs (`accgen sim`) keep the load phase: the
/// model runs where the files are not.
pub fn testbench_vectors(config: &Config, design: &Design, seed: u64, cycles: u64, traffic: TrafficKind) -> Vectors {
    match (vectors(config, design, seed, cycles, traffic), &config.block) {
        (Vectors::HashGrid(v), Block::HashGrid(p)) if p.init_files => Vectors::HashGrid(Box::new(v.preloaded())),
        (v, _) => v,
    }
}

/// Files a design reads when elaborated (`$readmemh` tables), with their
/// contents: the tables the vectors of `seed` expect.
pub fn init_files(config: &Config, design: &Design, seed: u64) -> Vec<(String, String)> {
    match &config.block {
        Block::HashGrid(p) if p.init_files => {
            let v = EngineVectors::new(design, p, seed, 1, 1.0, 1.0);
            let mut files = Vec::new();
            for u in 0..p.level_units as usize {
                for odd in [false, true] {
                    files.push((
                        accgen_hdl::hashgrid::engine::init_file(p, u, odd),
                        accgen_hdl::hashgrid::engine::init_file_text(v.model(), u, odd),
                    ));
                }
            }
            files
        }
        _ => Vec::new(),
    }
}

/// The fewest cycles in which a run finishes at least one result (a
/// tile, an encoded point, a time step), so result data (not only
/// handshakes) is compared.
pub fn min_cycles(config: &Config, traffic: TrafficKind) -> u64 {
    match &config.block {
        Block::MacArray(p) => ArrayVectors::min_cycles(p, traffic.traffic()),
        Block::HashGrid(p) => EngineVectors::min_cycles(p),
        Block::SpikingCore(p) => CoreVectors::min_cycles(p, traffic.spiking()),
        Block::SpikingChain(a, b) => ChainVectors::min_cycles(a, b, traffic.spiking()),
    }
}

//! Test vectors for the hash-grid engine: reset, load every table through
//! the load port, then stream points (edge cases first, then seeded random
//! ones) under valid/ready traffic, with a reload of random entries half way;
//! every output is predicted by the hardware model cycle by cycle.

use super::model::HardwareModel;
use super::params::HashGridParams;
use crate::stimulus::{CycleSink, Stimulus, input_index, output_index};
use crate::{Bits, Design};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Entries rewritten in the reload half way through the points.
const RELOAD_ENTRIES: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Reset(u32),
    /// Writing entry `addr` of level `level`.
    Load {
        level: u32,
        addr: u32,
    },
    /// Writes the engine must ignore: addresses beyond a level's size, levels beyond L.
    Junk(u32),
    Encode,
    /// Waiting for the pipeline to empty, then rewriting `left` random entries.
    Reload {
        left: u32,
    },
    Drain,
}

/// Per-dimension coordinate codes worth testing: 0, one step, 1/2, 1 - one
/// step, 1, and codes above 1 that the engine clamps.
pub fn edge_coords(p: &HashGridParams) -> Vec<u64> {
    let one = p.coord_one();
    let max = (1u64 << p.coord_width()) - 1;
    vec![0, 1, one / 2, one - 1, one, one + 1, max]
}

/// Stimulus and expected response of the engine, cycle by cycle.
pub struct EngineVectors {
    model: HardwareModel,
    rng: StdRng,
    offer: f64,
    ready: f64,
    cycles: u64,
    cycle: u64,
    phase: Phase,
    reloaded: bool,
    /// Tables come from `$readmemh` files: no load phase.
    preloaded: bool,
    /// Pipeline contents: stage 1 first; a slot of a point and, with it,
    /// the point's expected features.
    pipe: Vec<Option<InFlight>>,
    /// A point with slots left to issue (time-multiplexed units): its next
    /// slot and features.
    held: Option<InFlight>,
    /// The point on offer (valid stays high until it is taken).
    pending: Option<Vec<u64>>,
    edges: VecDeque<Vec<u64>>,
    points_checked: Rc<Cell<u64>>,
    in_bits: Bits,
    out_bits: Bits,
    load_bits: Bits,
    ins: Ins,
    outs: [usize; 3],
}

/// One slot of a point in the pipeline.
#[derive(Clone, Debug)]
struct InFlight {
    slot: u32,
    /// The point's output codes, `l * F + f`.
    features: Rc<Vec<u64>>,
}

struct Ins {
    rst: (usize, u64),
    in_valid: usize,
    in_data: usize,
    out_ready: usize,
    load_we: usize,
    load_level: usize,
    load_addr: usize,
    load_data: usize,
}

impl EngineVectors {
    /// `cycles` cycles with tables from `seed`; `offer` and `ready` are the
    /// chances a point is offered and the output taken in a cycle.
    pub fn new(design: &Design, p: &HashGridParams, seed: u64, cycles: u64, offer: f64, ready: f64) -> EngineVectors {
        let model = HardwareModel::random(p, seed ^ 0x5eed);
        let d = p.dims() as usize;
        let corners = edge_coords(p);
        let mut edges = VecDeque::new();
        let n = corners.len();
        for i in 0..n.pow(d as u32) {
            edges.push_back((0..d).map(|k| corners[(i / n.pow(k as u32)) % n]).collect());
        }
        EngineVectors {
            model,
            rng: StdRng::seed_from_u64(seed),
            offer,
            ready,
            cycles,
            cycle: 0,
            phase: Phase::Reset(2),
            reloaded: false,
            preloaded: false,
            pipe: vec![None; p.pipeline_depth as usize],
            held: None,
            pending: None,
            edges,
            points_checked: Rc::new(Cell::new(0)),
            in_bits: Bits::zero(d as u32 * p.coord_width()),
            out_bits: Bits::zero(p.geometry.n_outputs() * p.out_width()),
            load_bits: Bits::zero(p.word_width()),
            ins: Ins {
                rst: (input_index(design, p.reset.port_name()), p.reset.asserted()),
                in_valid: input_index(design, "in_valid_i"),
                in_data: input_index(design, "in_data_i"),
                out_ready: input_index(design, "out_ready_i"),
                load_we: input_index(design, "load_we_i"),
                load_level: input_index(design, "load_level_i"),
                load_addr: input_index(design, "load_addr_i"),
                load_data: input_index(design, "load_data_i"),
            },
            outs: ["in_ready_o", "out_valid_o", "out_data_o"].map(|n| output_index(design, n)),
        }
    }

    /// Skip the load phase: the design's tables were initialised from the
    /// `$readmemh` files of [`model`](Self::model) (see `engine::init_file_text`).
    pub fn preloaded(mut self) -> EngineVectors {
        self.preloaded = true;
        self
    }

    /// Points whose features left the engine and were compared; shared so
    /// the count survives the stimulus being moved into a simulator.
    pub fn points_checked(&self) -> Rc<Cell<u64>> {
        self.points_checked.clone()
    }

    /// The tables' contents, for `$readmemh` files.
    pub fn model(&self) -> &HardwareModel {
        &self.model
    }

    /// Junk writes after the real ones.
    fn junk_writes(p: &HashGridParams) -> u32 {
        8 + (1u32 << p.load_level_width()) - p.levels()
    }

    /// The fewest cycles that load every table and compare at least one point.
    pub fn min_cycles(p: &HashGridParams) -> u64 {
        let entries: u64 = p.geometry.levels.iter().map(|l| l.size as u64).sum();
        2 + entries + Self::junk_writes(p) as u64 + 4 * (p.pipeline_depth + p.slots()) as u64 + 16
    }

    fn random_point(&mut self) -> Vec<u64> {
        let p = &self.model.p;
        let d = p.dims() as usize;
        let one = p.coord_one();
        let corners = edge_coords(p);
        (0..d)
            .map(|_| {
                if self.rng.random_range(0..8) == 0 {
                    corners[self.rng.random_range(0..corners.len())]
                } else {
                    self.rng.random_range(0..=one)
                }
            })
            .collect()
    }

    fn drive_load(&mut self, sink: &mut dyn CycleSink, we: bool, level: u32, addr: u32, word: u128) {
        let i = &self.ins;
        sink.drive(i.load_we, we as u64);
        sink.drive(i.load_level, level as u64);
        sink.drive(i.load_addr, addr as u64);
        let w = self.load_bits.width();
        self.load_bits.set_u64_field(0, w.min(64), word as u64);
        if w > 64 {
            self.load_bits.set_u64_field(64, w - 64, (word >> 64) as u64);
        }
        sink.drive_bits(i.load_data, &self.load_bits);
    }

    fn pipe_empty(&self) -> bool {
        self.pipe.iter().all(|s| s.is_none()) && self.held.is_none()
    }
}

impl Stimulus for EngineVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.cycle >= self.cycles && self.pipe_empty() && self.pending.is_none() {
            return false;
        }
        self.cycle += 1;
        let p = self.model.p.clone();
        let (rst_port, rst_on) = self.ins.rst;
        let [in_ready_o, out_valid_o, out_data_o] = self.outs;
        if let Phase::Reset(n) = self.phase {
            sink.drive(rst_port, rst_on);
            sink.drive(self.ins.in_valid, 0);
            sink.drive(self.ins.out_ready, 0);
            self.drive_load(sink, false, 0, 0, 0);
            for o in self.outs {
                sink.ignore(o);
            }
            self.phase = if n > 1 {
                Phase::Reset(n - 1)
            } else if self.preloaded {
                Phase::Junk(Self::junk_writes(&p))
            } else {
                Phase::Load { level: 0, addr: 0 }
            };
            return true;
        }
        sink.drive(rst_port, 1 - rst_on);
        let slots = p.slots();
        let drain_from = self.cycles.saturating_sub(2 * (p.pipeline_depth + slots) as u64 + 4);
        if self.cycle > drain_from && matches!(self.phase, Phase::Encode) {
            self.phase = Phase::Drain;
        }
        // Loads.
        match self.phase {
            Phase::Load { level, addr } => {
                let word = self.model.word(level as usize, addr);
                self.drive_load(sink, true, level, addr, word);
                let size = p.geometry.levels[level as usize].size;
                self.phase = if addr + 1 < size {
                    Phase::Load { level, addr: addr + 1 }
                } else if level + 1 < p.levels() {
                    Phase::Load {
                        level: level + 1,
                        addr: 0,
                    }
                } else {
                    Phase::Junk(Self::junk_writes(&p))
                };
            }
            Phase::Junk(n) => {
                // Levels beyond L first, then addresses beyond a level's size.
                let (level, addr) = if n > 8 {
                    (p.levels() + (n - 9), self.rng.random_range(0..8))
                } else {
                    let l = self.rng.random_range(0..p.levels());
                    let size = p.geometry.levels[l as usize].size;
                    let max = (1u64 << p.load_addr_width()) as u32;
                    if size < max {
                        (l, self.rng.random_range(size..max))
                    } else {
                        (l, 0)
                    }
                };
                let real = level < p.levels() && addr < p.geometry.levels[level as usize].size;
                let word = self.rng.random::<u128>() & ((1u128 << p.word_width()) - 1);
                // A write the engine must ignore; an in-range one is skipped.
                self.drive_load(sink, !real, level, addr, word);
                self.phase = if n > 1 { Phase::Junk(n - 1) } else { Phase::Encode };
            }
            Phase::Reload { left } if self.pipe_empty() && self.pending.is_none() => {
                let l = self.rng.random_range(0..p.levels());
                let size = p.geometry.levels[l as usize].size;
                let addr = self.rng.random_range(0..size);
                let word = self.rng.random::<u128>() & ((1u128 << p.word_width()) - 1);
                self.model.load(l as usize, addr, word);
                let word = self.model.word(l as usize, addr);
                self.drive_load(sink, true, l, addr, word);
                self.phase = if left > 1 {
                    Phase::Reload { left: left - 1 }
                } else {
                    Phase::Encode
                };
            }
            _ => self.drive_load(sink, false, 0, 0, 0),
        }
        // Points.
        let encoding = matches!(self.phase, Phase::Encode);
        if encoding && !self.reloaded && self.cycle > drain_from / 2 {
            self.reloaded = true;
            self.phase = Phase::Reload { left: RELOAD_ENTRIES };
        }
        let may_offer = matches!(self.phase, Phase::Encode);
        if self.pending.is_none() && may_offer && self.rng.random_bool(self.offer) {
            let point = match self.edges.pop_front() {
                Some(e) => e,
                None => self.random_point(),
            };
            self.pending = Some(point);
        }
        let ready = match self.phase {
            Phase::Drain | Phase::Reload { .. } => true,
            _ => self.rng.random_bool(self.ready),
        };
        sink.drive(self.ins.out_ready, ready as u64);
        sink.drive(self.ins.in_valid, self.pending.is_some() as u64);
        if let Some(pt) = &self.pending {
            let xw = p.coord_width();
            for (k, &c) in pt.iter().enumerate() {
                self.in_bits.set_u64_field(k as u32 * xw, xw, c);
            }
        }
        sink.drive_bits(self.ins.in_data, &self.in_bits);
        // Expected outputs: the last stage's slot completes a point when it is its last.
        let last = &self.pipe[self.pipe.len() - 1];
        let done = last.as_ref().filter(|f| f.slot + 1 == slots);
        let advance = done.is_none() || ready;
        sink.expect(in_ready_o, (advance && self.held.is_none()) as u64);
        sink.expect(out_valid_o, done.is_some() as u64);
        match done {
            Some(point) => {
                let ow = p.out_width();
                for (i, &code) in point.features.iter().enumerate() {
                    self.out_bits.set_u64_field(i as u32 * ow, ow, code);
                }
                sink.expect_bits(out_data_o, &self.out_bits);
                if ready {
                    self.points_checked.set(self.points_checked.get() + 1);
                }
            }
            None => sink.ignore(out_data_o),
        }
        if advance {
            let issued = match self.held.take() {
                Some(h) => {
                    if h.slot + 1 < slots {
                        self.held = Some(InFlight {
                            slot: h.slot + 1,
                            features: h.features.clone(),
                        });
                    }
                    Some(h)
                }
                None => self.pending.take().map(|pt| {
                    let features = Rc::new(self.model.encode_codes(&pt));
                    if slots > 1 {
                        self.held = Some(InFlight {
                            slot: 1,
                            features: features.clone(),
                        });
                    }
                    InFlight { slot: 0, features }
                }),
            };
            self.pipe.rotate_right(1);
            self.pipe[0] = issued;
        }
        true
    }
}

//! Test vectors for MAC designs: stimulus plus the golden model's expected
//! response, cycle by cycle.

use super::model::{ArrayModel, PeModel, output_code, output_code_u64};
use super::operand::Operand;
use super::params::MacArrayParams;
use crate::stimulus::{CycleSink, Stimulus, input_index, output_index};
use crate::{Bits, Design};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::cell::Cell;
use std::rc::Rc;

/// A random operand code, one time in four a corner (zeros, extremes,
/// smallest subnormal, NaN and infinities where the format has them).
pub fn operand_code(rng: &mut StdRng, op: &Operand) -> u64 {
    if rng.random_range(0..4) == 0 {
        let corners = op.corner_codes();
        corners[rng.random_range(0..corners.len())]
    } else {
        rng.random_range(0..1u64 << op.width())
    }
}

/// Every (activation, weight) pair through one PE. A dot product restarts
/// every 97 beats, long enough for narrow accumulators to overflow; seeded
/// cycles drop the enable or the valid (and must then change nothing).
pub struct PeExhaustive {
    p: MacArrayParams,
    model: PeModel,
    rng: StdRng,
    next_pair: u64,
    pairs: u64,
    passes: u64,
    restart_every: u64,
    ports: [usize; 6],
    res_o: usize,
    res_special_o: Option<usize>,
    res_bits: Bits,
    /// A pipelined PE's reset (port, asserted value), held for the first cycle.
    rst: Option<(usize, u64)>,
    /// Cycles after the last pair until its result is on res_o.
    drain: u32,
    reset_done: bool,
    done: bool,
}

impl PeExhaustive {
    pub fn new(design: &Design, p: &MacArrayParams, seed: u64) -> PeExhaustive {
        let ports = ["en_i", "valid_i", "first_i", "last_i", "act_i", "wgt_i"].map(|n| input_index(design, n));
        PeExhaustive {
            p: *p,
            model: PeModel::new(p),
            rng: StdRng::seed_from_u64(seed),
            next_pair: 0,
            pairs: 1u64 << (p.act.width() + p.wgt.width()),
            passes: 1,
            restart_every: 97,
            ports,
            res_o: output_index(design, "res_o"),
            res_special_o: p.has_specials().then(|| output_index(design, "res_special_o")),
            res_bits: Bits::zero(p.acc_width),
            rst: (p.pipeline > 0).then(|| (input_index(design, p.reset.port_name()), p.reset.asserted())),
            drain: p.pipeline + 1,
            reset_done: false,
            done: false,
        }
    }
}

impl PeExhaustive {
    /// Restart the sum on every beat, so `res_o` shows each product alone:
    /// the exhaustive check of the multiplier (decode, significand product
    /// and alignment) rather than of accumulation.
    pub fn products_only(mut self) -> PeExhaustive {
        self.restart_every = 1;
        self
    }

    /// Go through every pair `n` times (for throughput measurements).
    pub fn passes(mut self, n: u64) -> PeExhaustive {
        self.passes = n.max(1);
        self
    }
}

impl Stimulus for PeExhaustive {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.done {
            return false;
        }
        match self.model.res() {
            Some(acc) => {
                match (self.p.acc_width <= 64, &acc.value) {
                    (true, super::wide::Wide::Small(v)) => {
                        let w = self.p.acc_width;
                        sink.expect(
                            self.res_o,
                            (*v as u64) & if w == 64 { u64::MAX } else { (1u64 << w) - 1 },
                        )
                    }
                    _ => {
                        self.res_bits = acc.value.to_bits(self.p.acc_width);
                        sink.expect_bits(self.res_o, &self.res_bits);
                    }
                }
                if let Some(port) = self.res_special_o {
                    sink.expect(port, acc.special());
                }
            }
            None => {
                sink.ignore(self.res_o);
                if let Some(port) = self.res_special_o {
                    sink.ignore(port);
                }
            }
        }
        if let Some((port, asserted)) = self.rst {
            // The first cycle resets the pipeline's control tokens; the
            // model starts with an empty pipeline.
            if !self.reset_done {
                self.reset_done = true;
                sink.drive(port, asserted);
                for &port in &self.ports[..2] {
                    sink.drive(port, 0);
                }
                return true;
            }
            sink.drive(port, asserted ^ 1);
        }
        if self.next_pair == self.pairs * self.passes {
            // More cycles (one per register on the way) so the last pair's
            // result is compared.
            self.drain -= 1;
            self.done = self.drain == 0;
            let [en_i, valid_i, ..] = self.ports;
            sink.drive(en_i, 1);
            sink.drive(valid_i, 0);
            self.model.clock(true, false, false, false, 0, 0);
            return true;
        }
        let en = self.rng.random_range(0..16) != 0;
        let valid = self.rng.random_range(0..16) != 0;
        let pair = self.next_pair % self.pairs;
        let act = pair >> self.p.wgt.width();
        let wgt = pair & ((1u64 << self.p.wgt.width()) - 1);
        let first = self.next_pair.is_multiple_of(self.restart_every);
        let last = true;
        let [en_i, valid_i, first_i, last_i, act_i, wgt_i] = self.ports;
        sink.drive(en_i, en as u64);
        sink.drive(valid_i, valid as u64);
        sink.drive(first_i, first as u64);
        sink.drive(last_i, last as u64);
        sink.drive(act_i, act);
        sink.drive(wgt_i, wgt);
        self.model.clock(en, valid, first, last, act, wgt);
        if en && valid {
            self.next_pair += 1;
        }
        true
    }
}

/// How busy the streams around the array are.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    /// Chance a new input beat is offered in a cycle when none is pending.
    pub offer: f64,
    /// Chance the consumer is ready in a cycle.
    pub ready: f64,
}

impl Traffic {
    /// Full rate both ways: the throughput case.
    pub const FULL: Traffic = Traffic { offer: 1.0, ready: 1.0 };
    /// Random gaps and back-pressure.
    pub const BURSTY: Traffic = Traffic { offer: 0.7, ready: 0.6 };
}

/// The MAC array's ports for one cycle at a time: drives the reset, an
/// input beat (or none) and the output's ready, and expects every output
/// the behavioural model predicts. Stimulus types decide only which beat
/// is on offer and when the consumer is ready.
pub struct ArrayDriver {
    p: MacArrayParams,
    model: ArrayModel,
    reset_cycles: u32,
    act_bits: Bits,
    wgt_bits: Bits,
    out_bits: Bits,
    special_bits: Bits,
    idle_act: Vec<u64>,
    idle_wgt: Vec<u64>,
    rst: (usize, u64),
    ins: [usize; 4],
    outs: [usize; 4],
    out_special: Option<usize>,
}

/// What one driven cycle did.
#[derive(Clone, Copy, Debug, Default)]
pub struct DrivenCycle {
    /// The offered beat was taken.
    pub accepted: bool,
    /// A result row was on the output (and compared).
    pub row_shown: bool,
    /// The consumer took that row.
    pub row_taken: bool,
    /// Output values compared this cycle.
    pub compared: u64,
}

impl ArrayDriver {
    /// The first two cycles hold the array in reset.
    pub fn new(design: &Design, p: &MacArrayParams) -> ArrayDriver {
        ArrayDriver {
            p: *p,
            model: ArrayModel::new(p),
            reset_cycles: 2,
            act_bits: Bits::zero(p.rows * p.act.width()),
            wgt_bits: Bits::zero(p.cols * p.wgt.width()),
            out_bits: Bits::zero(p.cols * p.result_width()),
            special_bits: Bits::zero(p.cols * 2),
            idle_act: vec![0; p.rows as usize],
            idle_wgt: vec![0; p.cols as usize],
            rst: (input_index(design, p.reset.port_name()), p.reset.asserted()),
            ins: ["in_valid_i", "in_act_i", "in_wgt_i", "out_ready_i"].map(|n| input_index(design, n)),
            outs: ["in_ready_o", "out_valid_o", "out_data_o", "out_last_o"].map(|n| output_index(design, n)),
            out_special: (p.has_specials() && p.output.is_none()).then(|| output_index(design, "out_special_o")),
        }
    }

    pub fn in_reset(&self) -> bool {
        self.reset_cycles > 0
    }

    /// The row the output shows this cycle, before [`ArrayDriver::cycle`] runs.
    pub fn shown_row(&self) -> Option<&[super::model::Acc]> {
        if self.in_reset() {
            None
        } else {
            self.model.out().map(|(row, _)| row)
        }
    }

    /// Drive one cycle: `offer` holds A[r][k] per row and B[k][c] per column
    /// (ignored during reset).
    pub fn cycle(&mut self, sink: &mut dyn CycleSink, offer: Option<(&[u64], &[u64])>, out_ready: bool) -> DrivenCycle {
        let [in_valid_i, in_act_i, in_wgt_i, out_ready_i] = self.ins;
        let [in_ready_o, out_valid_o, out_data_o, out_last_o] = self.outs;
        let (rst_port, asserted) = self.rst;
        if self.reset_cycles > 0 {
            self.reset_cycles -= 1;
            sink.drive(rst_port, asserted);
            sink.drive(in_valid_i, 0);
            sink.drive(out_ready_i, 0);
            sink.drive_bits(in_act_i, &self.act_bits);
            sink.drive_bits(in_wgt_i, &self.wgt_bits);
            for port in self.outs.into_iter().chain(self.out_special) {
                sink.ignore(port);
            }
            self.model.reset();
            return DrivenCycle::default();
        }
        sink.drive(rst_port, asserted ^ 1);
        let p = self.p;
        let (act, wgt) = offer.unwrap_or((&self.idle_act, &self.idle_wgt));
        let (aw, ww) = (p.act.width(), p.wgt.width());
        for (r, &v) in act.iter().enumerate() {
            self.act_bits.set_u64_field(r as u32 * aw, aw, v);
        }
        for (c, &v) in wgt.iter().enumerate() {
            self.wgt_bits.set_u64_field(c as u32 * ww, ww, v);
        }
        sink.drive(in_valid_i, offer.is_some() as u64);
        sink.drive_bits(in_act_i, &self.act_bits);
        sink.drive_bits(in_wgt_i, &self.wgt_bits);
        sink.drive(out_ready_i, out_ready as u64);

        let in_ready = self.model.in_ready(out_ready);
        sink.expect(in_ready_o, in_ready as u64);
        let mut done = DrivenCycle {
            accepted: offer.is_some() && in_ready,
            compared: 2,
            ..DrivenCycle::default()
        };
        match self.model.out() {
            Some((row, last)) => {
                sink.expect(out_valid_o, 1);
                let rw = p.result_width();
                for (c, acc) in row.iter().enumerate() {
                    match output_code_u64(&p, acc) {
                        Some(code) => self.out_bits.set_u64_field(c as u32 * rw, rw, code),
                        None => self.out_bits.set_field(c as u32 * rw, &output_code(&p, acc)),
                    }
                    self.special_bits.set_u64_field(2 * c as u32, 2, acc.special());
                }
                sink.expect_bits(out_data_o, &self.out_bits);
                sink.expect(out_last_o, last as u64);
                done.compared += 2;
                if let Some(port) = self.out_special {
                    sink.expect_bits(port, &self.special_bits);
                    done.compared += 1;
                }
                done.row_shown = true;
                done.row_taken = out_ready;
            }
            None => {
                sink.expect(out_valid_o, 0);
                sink.ignore(out_data_o);
                sink.ignore(out_last_o);
                if let Some(port) = self.out_special {
                    sink.ignore(port);
                }
            }
        }
        self.model.clock(offer.is_some(), act, wgt, out_ready);
        done
    }
}

/// Random tiles through a MAC array under the valid/ready protocol, checked
/// against the behavioural model on every cycle.
pub struct ArrayVectors {
    p: MacArrayParams,
    driver: ArrayDriver,
    rng: StdRng,
    traffic: Traffic,
    cycles_left: u64,
    /// The beat on offer: it stays until accepted (valid never waits on ready).
    offer: Option<(Vec<u64>, Vec<u64>)>,
    rows_checked: Rc<Cell<u64>>,
}

impl ArrayVectors {
    pub fn new(design: &Design, p: &MacArrayParams, seed: u64, cycles: u64, traffic: Traffic) -> ArrayVectors {
        ArrayVectors {
            p: *p,
            driver: ArrayDriver::new(design, p),
            rng: StdRng::seed_from_u64(seed),
            traffic,
            cycles_left: cycles,
            offer: None,
            rows_checked: Rc::new(Cell::new(0)),
        }
    }

    /// A handle on the number of result rows this stimulus has compared
    /// (valid cycles of the output): a run must compare at least one.
    pub fn rows_checked(&self) -> Rc<Cell<u64>> {
        self.rows_checked.clone()
    }

    /// Cycles a run needs to finish at least one tile at this traffic.
    pub fn min_cycles(p: &MacArrayParams, traffic: Traffic) -> u64 {
        let beats = (p.dot_length as f64 / traffic.offer.min(traffic.ready).max(0.05)).ceil() as u64;
        2 + beats + (p.rows + p.cols) as u64 * 4 + 16
    }
}

impl Stimulus for ArrayVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.cycles_left == 0 {
            return false;
        }
        self.cycles_left -= 1;
        if self.driver.in_reset() {
            self.driver.cycle(sink, None, false);
            return true;
        }
        let p = self.p;
        if self.offer.is_none() && self.rng.random_bool(self.traffic.offer) {
            let act = (0..p.rows).map(|_| operand_code(&mut self.rng, &p.act)).collect();
            let wgt = (0..p.cols).map(|_| operand_code(&mut self.rng, &p.wgt)).collect();
            self.offer = Some((act, wgt));
        }
        let out_ready = self.rng.random_bool(self.traffic.ready);
        let offer = self.offer.as_ref().map(|(a, w)| (a.as_slice(), w.as_slice()));
        let done = self.driver.cycle(sink, offer, out_ready);
        if done.row_shown {
            self.rows_checked.set(self.rows_checked.get() + 1);
        }
        if done.accepted {
            self.offer = None;
        }
        true
    }
}

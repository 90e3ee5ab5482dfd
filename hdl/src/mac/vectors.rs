//! Test vectors for MAC designs: stimulus plus the golden model's expected
//! response, cycle by cycle.

use super::model::{ArrayModel, PeModel};
use super::params::MacArrayParams;
use crate::params::IntFormat;
use crate::stimulus::{CycleSink, Stimulus, input_index, output_index};
use crate::{Bits, Design};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A random operand, one time in four a corner value (min, max, 0, +-1).
pub fn operand(rng: &mut StdRng, f: IntFormat) -> i64 {
    if rng.random_range(0..4) == 0 {
        let corners = [
            f.min(),
            f.max(),
            0,
            1,
            if f.signed { -1 } else { f.max() - 1 },
            f.min() + 1,
        ];
        corners[rng.random_range(0..corners.len())]
    } else {
        rng.random_range(f.min()..=f.max())
    }
}

fn encode(f: IntFormat, v: i64) -> u64 {
    f.encode(v)
}

fn result_code(p: &MacArrayParams, v: i128) -> u64 {
    (v as u64)
        & if p.acc_width == 64 {
            u64::MAX
        } else {
            (1u64 << p.acc_width) - 1
        }
}

/// Every (activation, weight) pair through one PE, with restarts every third
/// beat and, seeded, cycles with the enable or valid low.
pub struct PeExhaustive {
    p: MacArrayParams,
    model: PeModel,
    rng: StdRng,
    next_pair: u64,
    pairs: u64,
    passes: u64,
    ports: [usize; 6],
    res_o: usize,
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
            pairs: 1u64 << (p.act.bits + p.wgt.bits),
            passes: 1,
            ports,
            res_o: output_index(design, "res_o"),
            done: false,
        }
    }
}

impl PeExhaustive {
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
            Some(v) => sink.expect(self.res_o, result_code(&self.p, v)),
            None => sink.ignore(self.res_o),
        }
        if self.next_pair == self.pairs * self.passes {
            // One more cycle so the last pair's result is compared.
            self.done = true;
            for &port in &self.ports[..2] {
                sink.drive(port, 0);
            }
            return true;
        }
        let stall = self.rng.random_range(0..16) == 0;
        let (en, valid) = if stall {
            (self.rng.random_bool(0.5), false)
        } else {
            (true, true)
        };
        let en = en || self.rng.random_range(0..32) != 0 || !valid;
        let pair = self.next_pair % self.pairs;
        let act = self.p.act.decode(pair >> self.p.wgt.bits);
        let wgt = self.p.wgt.decode(pair);
        let first = pair.is_multiple_of(3);
        let last = true;
        let [en_i, valid_i, first_i, last_i, act_i, wgt_i] = self.ports;
        sink.drive(en_i, en as u64);
        sink.drive(valid_i, valid as u64);
        sink.drive(first_i, first as u64);
        sink.drive(last_i, last as u64);
        sink.drive(act_i, encode(self.p.act, act));
        sink.drive(wgt_i, encode(self.p.wgt, wgt));
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

/// Random tiles through a MAC array under the valid/ready protocol, checked
/// against the behavioural model on every cycle.
pub struct ArrayVectors {
    p: MacArrayParams,
    model: ArrayModel,
    rng: StdRng,
    traffic: Traffic,
    cycles_left: u64,
    reset_cycles: u32,
    /// The beat on offer: it stays until accepted (valid never waits on ready).
    offer: Option<(Vec<i64>, Vec<i64>)>,
    act_bits: Bits,
    wgt_bits: Bits,
    out_bits: Bits,
    idle_act: Vec<i64>,
    idle_wgt: Vec<i64>,
    rst: (usize, u64),
    ins: [usize; 4],
    outs: [usize; 4],
}

impl ArrayVectors {
    pub fn new(design: &Design, p: &MacArrayParams, seed: u64, cycles: u64, traffic: Traffic) -> ArrayVectors {
        ArrayVectors {
            p: *p,
            model: ArrayModel::new(p),
            rng: StdRng::seed_from_u64(seed),
            traffic,
            cycles_left: cycles,
            reset_cycles: 2,
            offer: None,
            act_bits: Bits::zero(p.rows * p.act.bits),
            wgt_bits: Bits::zero(p.cols * p.wgt.bits),
            out_bits: Bits::zero(p.cols * p.acc_width),
            idle_act: vec![0; p.rows as usize],
            idle_wgt: vec![0; p.cols as usize],
            rst: (input_index(design, p.reset.port_name()), p.reset.asserted()),
            ins: ["in_valid_i", "in_act_i", "in_wgt_i", "out_ready_i"].map(|n| input_index(design, n)),
            outs: ["in_ready_o", "out_valid_o", "out_data_o", "out_last_o"].map(|n| output_index(design, n)),
        }
    }
}

impl Stimulus for ArrayVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.cycles_left == 0 {
            return false;
        }
        self.cycles_left -= 1;
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
            for port in self.outs {
                sink.ignore(port);
            }
            self.model.reset();
            return true;
        }
        sink.drive(rst_port, asserted ^ 1);
        let p = self.p;
        if self.offer.is_none() && self.rng.random_bool(self.traffic.offer) {
            let act = (0..p.rows).map(|_| operand(&mut self.rng, p.act)).collect();
            let wgt = (0..p.cols).map(|_| operand(&mut self.rng, p.wgt)).collect();
            self.offer = Some((act, wgt));
        }
        let out_ready = self.rng.random_bool(self.traffic.ready);
        let (act, wgt) = match &self.offer {
            Some((a, w)) => (a.as_slice(), w.as_slice()),
            None => (self.idle_act.as_slice(), self.idle_wgt.as_slice()),
        };
        for (r, &v) in act.iter().enumerate() {
            self.act_bits
                .set_u64_field(r as u32 * p.act.bits, p.act.bits, encode(p.act, v));
        }
        for (c, &v) in wgt.iter().enumerate() {
            self.wgt_bits
                .set_u64_field(c as u32 * p.wgt.bits, p.wgt.bits, encode(p.wgt, v));
        }
        sink.drive(in_valid_i, self.offer.is_some() as u64);
        sink.drive_bits(in_act_i, &self.act_bits);
        sink.drive_bits(in_wgt_i, &self.wgt_bits);
        sink.drive(out_ready_i, out_ready as u64);

        let in_ready = self.model.in_ready(out_ready);
        sink.expect(in_ready_o, in_ready as u64);
        match self.model.out() {
            Some((row, last)) => {
                sink.expect(out_valid_o, 1);
                for (c, &v) in row.iter().enumerate() {
                    self.out_bits
                        .set_u64_field(c as u32 * p.acc_width, p.acc_width, result_code(&p, v));
                }
                sink.expect_bits(out_data_o, &self.out_bits);
                sink.expect(out_last_o, last as u64);
            }
            None => {
                sink.expect(out_valid_o, 0);
                sink.ignore(out_data_o);
                sink.ignore(out_last_o);
            }
        }
        let valid = self.offer.is_some();
        if let Some((a, w)) = &self.offer {
            self.model.clock(true, a, w, out_ready);
        } else {
            self.model.clock(false, &self.idle_act, &self.idle_wgt, out_ready);
        }
        if valid && in_ready {
            self.offer = None;
        }
        true
    }
}

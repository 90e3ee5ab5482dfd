//! Checking multipliers on their own: a harness that puts many multipliers
//! side by side on two shared operand buses (one Verilator build for all of
//! them), and the stimulus that drives it with every operand pair or with
//! seeded random pairs and corner cases, expecting the exact product.

use super::MulImpl;
use super::mul;
use crate::ir::{Module, ModuleBuilder, ModuleDoc, Ty, drive, sink};
use crate::params::IntFormat;
use crate::stimulus::{CycleSink, Stimulus, input_index, output_index};
use crate::{Design, ir::verilog::Provenance};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Output port of multiplier `k` in a harness.
fn product_port(a: IntFormat, b: IntFormat) -> String {
    format!("p_{}x{}_o", a.tag(), b.tag())
}

/// A harness design named `top`: inputs `a_i` and `b_i` as wide as the
/// widest operand of `pairs`, and one output `p_<a>x<b>_o` per pair, the
/// product of the low bits of the buses. Every module is written once.
pub fn harness(top: &str, pairs: &[(IntFormat, IntFormat)], imp: MulImpl, prov: &Provenance) -> Design {
    let aw = pairs.iter().map(|p| p.0.bits).max().unwrap_or(1);
    let bw = pairs.iter().map(|p| p.1.bits).max().unwrap_or(1);
    let mut modules: Vec<Module> = Vec::new();
    let mut m = ModuleBuilder::new(
        top,
        ModuleDoc {
            title: format!(
                "{} {} multipliers side by side, for co-simulation",
                pairs.len(),
                imp.tag()
            ),
            description: vec!["Each multiplier takes the low bits of a_i and b_i its formats need.".into()],
            params: vec![],
            timing: vec!["Combinational.".into()],
        },
    );
    let ai = m.input("a_i", Ty::u(aw), "first operands, low bits first");
    let bi = m.input("b_i", Ty::u(bw), "second operands, low bits first");
    for (k, &(a, b)) in pairs.iter().enumerate() {
        let mods = mul::multiplier(a, b, imp);
        let mult = mods
            .last()
            .cloned()
            .unwrap_or_else(|| unreachable!("the multiplier is last"));
        let out = m.output(
            &product_port(a, b),
            Ty::new(a.bits + b.bits, a.signed || b.signed),
            &format!("{a} x {b}"),
        );
        // Named operands: Yosys 0.23 asserts on `$signed(...)` in a port connection.
        let ak = m.wire(&format!("a_{k}"), a.bits, a.signed, &format!("a_i as {a}"));
        m.assign(&ak, ai.select(0u32, a.bits).cast(a.signed));
        let bk = m.wire(&format!("b_{k}"), b.bits, b.signed, &format!("b_i as {b}"));
        m.assign(&bk, bi.select(0u32, b.bits).cast(b.signed));
        m.instance(
            &mult,
            &format!("u_mul_{k}"),
            vec![("a_i", drive(&ak)), ("b_i", drive(&bk)), ("p_o", sink(&out))],
        );
        modules.extend(mods);
    }
    modules.push(m.finish());
    Design::assemble(&modules, prov)
}

/// The value of the low `f.bits` bits of `raw` in format `f`.
fn value(raw: u64, f: IntFormat) -> i128 {
    let v = (raw & ((1u64 << f.bits) - 1)) as i128;
    if f.signed && v >> (f.bits - 1) == 1 {
        v - (1i128 << f.bits)
    } else {
        v
    }
}

/// Drives a [`harness`] with operand pairs and expects every exact product.
pub struct MulVectors {
    pairs: Vec<(IntFormat, IntFormat, usize)>,
    a_port: usize,
    b_port: usize,
    a_bits: u32,
    b_bits: u32,
    /// Exhaustive: the next pair index; random: the pairs sent so far.
    next: u64,
    total: u64,
    random: Option<StdRng>,
    /// Random mode: the corner pairs sent first.
    corner_list: Vec<(u64, u64)>,
}

impl MulVectors {
    fn new(design: &Design, pairs: &[(IntFormat, IntFormat)], total: u64, random: Option<StdRng>) -> MulVectors {
        let width = |name: &str| design.port(name).map_or(1, |p| p.width);
        MulVectors {
            pairs: pairs
                .iter()
                .map(|&(a, b)| (a, b, output_index(design, &product_port(a, b))))
                .collect(),
            a_port: input_index(design, "a_i"),
            b_port: input_index(design, "b_i"),
            a_bits: width("a_i"),
            b_bits: width("b_i"),
            next: 0,
            total,
            random,
            corner_list: Vec::new(),
        }
    }

    /// Every value of `a_i` against every value of `b_i` (so every operand
    /// pair of every multiplier in the harness, the narrow ones many times).
    pub fn exhaustive(design: &Design, pairs: &[(IntFormat, IntFormat)]) -> MulVectors {
        let mut v = MulVectors::new(design, pairs, 0, None);
        v.total = 1u64 << (v.a_bits + v.b_bits);
        v
    }

    /// `count` seeded random pairs, preceded by the corner cases of both
    /// buses (zero, one, all ones, each bus's top bit alone, and the two
    /// largest magnitudes of every multiplier's formats).
    pub fn random(design: &Design, pairs: &[(IntFormat, IntFormat)], count: u64, seed: u64) -> MulVectors {
        let mut v = MulVectors::new(design, pairs, 0, Some(StdRng::seed_from_u64(seed)));
        v.corner_list = v.corners();
        v.total = v.corner_list.len() as u64 + count;
        v
    }

    fn corners(&self) -> Vec<(u64, u64)> {
        let edges = |bits: u32, formats: &mut dyn Iterator<Item = IntFormat>| {
            let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let mut c = vec![0, 1, 2, mask, mask - 1, 1u64 << (bits - 1)];
            for f in formats {
                // The largest and smallest values of the format, and one inside each.
                let top = 1u64 << (f.bits - 1);
                c.extend([top, top - 1, top + 1, (top << 1) - 1]);
            }
            c.sort_unstable();
            c.dedup();
            c
        };
        let a = edges(self.a_bits, &mut self.pairs.iter().map(|p| p.0));
        let b = edges(self.b_bits, &mut self.pairs.iter().map(|p| p.1));
        a.iter().flat_map(|&x| b.iter().map(move |&y| (x, y))).collect()
    }

    /// How many operand pairs the run drives.
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Stimulus for MulVectors {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.next == self.total {
            return false;
        }
        let (a, b) = match &mut self.random {
            None => (self.next & ((1u64 << self.a_bits) - 1), self.next >> self.a_bits),
            Some(rng) => {
                if let Some(&pair) = self.corner_list.get(self.next as usize) {
                    pair
                } else {
                    let mask = |bits: u32| if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
                    (
                        rng.random::<u64>() & mask(self.a_bits),
                        rng.random::<u64>() & mask(self.b_bits),
                    )
                }
            }
        };
        self.next += 1;
        sink.drive(self.a_port, a);
        sink.drive(self.b_port, b);
        for &(fa, fb, port) in &self.pairs {
            let p = value(a, fa) * value(b, fb);
            let w = fa.bits + fb.bits;
            sink.expect(port, (p as u64) & if w >= 64 { u64::MAX } else { (1u64 << w) - 1 });
        }
        true
    }
}

//! The `hardware` golden model: exactly what the generated RTL computes,
//! bit for bit, and its distance to the tiny-cuda-nn reference.
//!
//! Per level `l` and input coordinate code `x` (`coord_frac_bits` fraction
//! bits, codes above 1.0 clamp to 1.0):
//! 1. `pos = x * S_l + 1/2` exactly, `S_l` the f32 scale rounded to
//!    `scale_frac_bits` on the host; `g = floor(pos)`; the weight `w` is the
//!    top `weight_frac_bits` of the fraction (truncated).
//! 2. Corner weights: factors `w` (bit set) or `2^WB - w`, multiplied in
//!    dimension order, each product truncated back to WB fraction bits.
//! 3. Indices as tiny-cuda-nn: dense `sum c_d * res^d` minus the size when
//!    it reaches it (one conditional subtract suffices because x <= 1), or
//!    the XOR-prime hash masked to log2 T bits.
//! 4. Entries decode exactly to fixed point (`feature_frac_bits`), truncated
//!    toward zero and saturated to `+-(2^(int+frac) - 1)`; NaN reads as 0,
//!    infinities as the saturated value. Integer entries are `code << (frac - s_l)`.
//! 5. `out = floor(sum_c w_c * v_c / 2^WB)`, exact: it always fits the feature width.

use super::params::{EntryFormat, HashGridParams, PRIMES};
use super::reference::{Precision, ReferenceEncoder};
use crate::minifloat::{FloatFormat, OnOverflow, Value};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Decode a float entry code to fixed point with `frac` fraction bits,
/// truncating toward zero and saturating to `max`.
pub fn float_to_fixed(f: &FloatFormat, code: u64, frac: u32, max: i64) -> i64 {
    match f.decode(code) {
        Value::NaN => 0,
        Value::Inf { neg } => {
            if neg {
                -max
            } else {
                max
            }
        }
        Value::Finite { neg, sig, exp } => {
            let k = exp + frac as i32;
            let mag: u128 = if sig == 0 {
                0
            } else if k >= 0 {
                if k >= 64 { u128::MAX } else { (sig as u128) << k }
            } else if -k >= 64 {
                0
            } else {
                (sig >> (-k)) as u128
            };
            let mag = mag.min(max as u128) as i64;
            if neg { -mag } else { mag }
        }
    }
}

/// One level's intermediate values for one point, for tests and debugging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelTrace {
    /// Grid coordinate and weight per dimension.
    pub grid: Vec<u64>,
    pub weight: Vec<u64>,
    /// Per corner (index bit d = +1 along d): table index and weight.
    pub index: Vec<u32>,
    pub corner_weight: Vec<u64>,
}

/// A hash grid with its tables of entry codes, computing what the RTL does.
#[derive(Clone, Debug)]
pub struct HardwareModel {
    pub p: HashGridParams,
    /// Per level `size * F` entry codes, entry `i` feature `f` at `i * F + f`.
    pub tables: Vec<Vec<u64>>,
    /// Per level: `res^d` for the dense index.
    strides: Vec<[u64; 3]>,
}

impl HardwareModel {
    pub fn new(p: &HashGridParams, tables: Vec<Vec<u64>>) -> HardwareModel {
        assert_eq!(tables.len(), p.levels() as usize, "one table per level");
        for (t, l) in tables.iter().zip(&p.geometry.levels) {
            assert_eq!(t.len(), (l.size * p.features()) as usize, "table size");
        }
        let strides = p
            .geometry
            .levels
            .iter()
            .map(|l| {
                let r = l.res as u64;
                [1, r, r * r]
            })
            .collect();
        HardwareModel {
            p: p.clone(),
            tables,
            strides,
        }
    }

    /// Every entry zero.
    pub fn zeros(p: &HashGridParams) -> HardwareModel {
        let t = p
            .geometry
            .levels
            .iter()
            .map(|l| vec![0; (l.size * p.features()) as usize])
            .collect();
        HardwareModel::new(p, t)
    }

    /// Random entry codes: half uniform over all codes (specials, extremes,
    /// saturation), half the codes of values spread over +-2 (what trained
    /// tables look like), so both the decoder's corners and realistic sums are covered.
    pub fn random(p: &HashGridParams, seed: u64) -> HardwareModel {
        HardwareModel::random_mix(p, seed, true)
    }

    /// Only the codes of values spread over +-2: trained-table-like
    /// contents, without specials or saturation.
    pub fn realistic(p: &HashGridParams, seed: u64) -> HardwareModel {
        HardwareModel::random_mix(p, seed, false)
    }

    fn random_mix(p: &HashGridParams, seed: u64, any_code: bool) -> HardwareModel {
        let mut rng = StdRng::seed_from_u64(seed);
        let w = p.entry.width();
        let t = p
            .geometry
            .levels
            .iter()
            .enumerate()
            .map(|(l, lv)| {
                (0..lv.size * p.features())
                    .map(|_| {
                        if any_code && rng.random_range(0..2) == 0 {
                            rng.random_range(0..1u64 << w)
                        } else {
                            let v: f64 = rng.random_range(-2.0..2.0) * 2f64.powi(-rng.random_range(0..12));
                            p.quantize(l, v as f32)
                        }
                    })
                    .collect()
            })
            .collect();
        HardwareModel::new(p, t)
    }

    /// Decode entry `code` of level `l` to a fixed-point feature.
    pub fn decode(&self, l: usize, code: u64) -> i64 {
        self.p.decode(l, code)
    }

    /// Write entry `index` of level `l` (all F features, feature f in bits
    /// `[f * E +: E]` of `word`), as the load port does.
    pub fn load(&mut self, l: usize, index: u32, word: u128) {
        let nf = self.p.features() as usize;
        let e = self.p.entry.width();
        for f in 0..nf {
            self.tables[l][index as usize * nf + f] = ((word >> (f as u32 * e)) as u64) & ((1u64 << e) - 1);
        }
    }

    /// The table word at entry `index` of level `l`.
    pub fn word(&self, l: usize, index: u32) -> u128 {
        let nf = self.p.features() as usize;
        let e = self.p.entry.width();
        (0..nf).fold(0u128, |acc, f| {
            acc | (self.tables[l][index as usize * nf + f] as u128) << (f as u32 * e)
        })
    }

    /// Positions, weights and indices of level `l` for one point.
    pub fn trace(&self, l: usize, coords: &[u64]) -> LevelTrace {
        let p = &self.p;
        let lv = &p.geometry.levels[l];
        let d = p.dims() as usize;
        let wb = p.weight_frac_bits;
        let frac = p.coord_frac_bits + p.scale_frac_bits;
        let s = p.scale_code(l) as u128;
        let mut grid = vec![0u64; d];
        let mut weight = vec![0u64; d];
        for k in 0..d {
            let x = coords[k].min(p.coord_one()) as u128;
            let pos = x * s + (1u128 << (frac - 1));
            grid[k] = (pos >> frac) as u64;
            weight[k] = ((pos & ((1u128 << frac) - 1)) >> (frac - wb)) as u64;
            debug_assert!(grid[k] < lv.res as u64, "grid coordinate below res");
        }
        let one = 1u64 << wb;
        let mut index = Vec::with_capacity(1 << d);
        let mut corner_weight = Vec::with_capacity(1 << d);
        for c in 0..1usize << d {
            let mut cw = 0u64;
            let mut dense = 0u64;
            let mut hash = 0u32;
            for k in 0..d {
                let bit = (c >> k) & 1 == 1;
                let factor = if bit { weight[k] } else { one - weight[k] };
                cw = if k == 0 { factor } else { (cw * factor) >> wb };
                let g = grid[k] + bit as u64;
                dense += g * self.strides[l][k];
                hash ^= (g as u32).wrapping_mul(PRIMES[k]);
            }
            let i = if lv.hashed {
                hash & ((1u32 << p.geometry.log2_table_size) - 1)
            } else {
                debug_assert!(dense < 2 * lv.size as u64, "one subtract suffices");
                if dense >= lv.size as u64 {
                    (dense - lv.size as u64) as u32
                } else {
                    dense as u32
                }
            };
            index.push(i);
            corner_weight.push(cw);
        }
        LevelTrace {
            grid,
            weight,
            index,
            corner_weight,
        }
    }

    /// Encode one point (D coordinate codes) into L * F fixed-point features, `l * F + f`.
    pub fn encode(&self, coords: &[u64]) -> Vec<i64> {
        let wb = self.p.weight_frac_bits;
        self.encode_sums(coords).into_iter().map(|s| (s >> wb) as i64).collect()
    }

    /// The output codes of one point, as `out_data_o` carries them: the
    /// fixed-point feature (two's complement, `out_width` bits) or the
    /// exact sum rounded to the output float format.
    pub fn encode_codes(&self, coords: &[u64]) -> Vec<u64> {
        let p = &self.p;
        let mask = (1u64 << p.out_width()) - 1;
        self.encode_sums(coords)
            .into_iter()
            .map(|s| match p.output {
                None => ((s >> p.weight_frac_bits) as u64) & mask,
                Some(f) => f.encode_exact(
                    s < 0,
                    s.unsigned_abs(),
                    -((p.feature_frac_bits + p.weight_frac_bits) as i32),
                    OnOverflow::Saturate,
                ),
            })
            .collect()
    }

    /// The output features of one point as real numbers.
    pub fn encode_values(&self, coords: &[u64]) -> Vec<f64> {
        let p = &self.p;
        match p.output {
            None => self.encode(coords).into_iter().map(|v| p.feature_value(v)).collect(),
            Some(f) => self.encode_codes(coords).into_iter().map(|c| f.to_f64(c)).collect(),
        }
    }

    /// The exact weighted sums of one point: `sum_c w_c * v_c`, with
    /// `weight_frac_bits + feature_frac_bits` fraction bits.
    pub fn encode_sums(&self, coords: &[u64]) -> Vec<i128> {
        let p = &self.p;
        let nf = p.features() as usize;
        let mut out = Vec::with_capacity(p.geometry.n_outputs() as usize);
        for l in 0..p.levels() as usize {
            let t = self.trace(l, coords);
            for f in 0..nf {
                let mut acc: i128 = 0;
                for (i, w) in t.index.iter().zip(&t.corner_weight) {
                    let v = self.decode(l, self.tables[l][*i as usize * nf + f]);
                    acc += *w as i128 * v as i128;
                }
                out.push(acc);
            }
        }
        out
    }

    /// The entries as f32 values, for the reference encoder.
    pub fn tables_f32(&self) -> Vec<Vec<f32>> {
        self.tables
            .iter()
            .enumerate()
            .map(|(l, t)| t.iter().map(|&c| self.p.entry_value(l, c) as f32).collect())
            .collect()
    }
}

impl HashGridParams {
    /// Decode entry `code` of level `l` to a fixed-point feature.
    pub fn decode(&self, l: usize, code: u64) -> i64 {
        match &self.entry {
            EntryFormat::Float(f) => float_to_fixed(f, code, self.feature_frac_bits, self.feature_max()),
            EntryFormat::Int(i) => i.decode(code) << (self.feature_frac_bits - self.int_scale_log2[l]),
        }
    }

    /// The real value of entry `code` of level `l` (NaN and infinities as f64 has them).
    pub fn entry_value(&self, l: usize, code: u64) -> f64 {
        match &self.entry {
            EntryFormat::Float(f) => f.to_f64(code),
            EntryFormat::Int(i) => i.decode(code) as f64 * 2f64.powi(-(self.int_scale_log2[l] as i32)),
        }
    }

    /// The entry code nearest `v` in level `l` (saturating).
    pub fn quantize(&self, l: usize, v: f32) -> u64 {
        match &self.entry {
            EntryFormat::Float(f) => f.encode(v as f64, OnOverflow::Saturate),
            EntryFormat::Int(i) => {
                let q = (v as f64 * 2f64.powi(self.int_scale_log2[l] as i32)).round();
                i.encode((q as i64).clamp(i.min(), i.max()))
            }
        }
    }

    /// A fixed-point feature as a real number.
    pub fn feature_value(&self, v: i64) -> f64 {
        v as f64 * 2f64.powi(-(self.feature_frac_bits as i32))
    }
}

/// How far the hardware model's features are from tiny-cuda-nn's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distance {
    pub points: u64,
    pub max_abs: f64,
    pub rms: f64,
    /// The reference's features: RMS, for scale.
    pub reference_rms: f64,
}

/// Encode `points` random points (plus x = 0 and x = 1 corners) with the
/// hardware model and with the reference in f32 on the same tables
/// ([`HardwareModel::realistic`] contents, each entry's exact value), and
/// measure the distance: what fixed-point positions, weights and sums cost.
pub fn distance(p: &HashGridParams, tables_seed: u64, points: u64, seed: u64) -> Distance {
    distance_to(p, Precision::F32, tables_seed, points, seed)
}

/// As [`distance`], against the reference in `precision`: with
/// [`Precision::F16`], tiny-cuda-nn's fp16 parameters (each entry rounded to
/// fp16, weights rounded to fp16, one fp16 fused multiply-add per corner).
pub fn distance_to(p: &HashGridParams, precision: Precision, tables_seed: u64, points: u64, seed: u64) -> Distance {
    let hw = HardwareModel::realistic(p, tables_seed);
    let reference = ReferenceEncoder::new(&p.geometry, &hw.tables_f32(), precision);
    let mut rng = StdRng::seed_from_u64(seed);
    let d = p.dims() as usize;
    let one = p.coord_one();
    let (mut max_abs, mut sum_sq, mut ref_sq, mut n) = (0f64, 0f64, 0f64, 0u64);
    let mut coords = vec![0u64; d];
    for i in 0..points + 2 {
        for c in coords.iter_mut() {
            *c = match i {
                0 => 0,
                1 => one,
                _ => rng.random_range(0..=one),
            };
        }
        let x: Vec<f32> = coords.iter().map(|&c| (c as f64 / one as f64) as f32).collect();
        let a = hw.encode_values(&coords);
        let b = reference.encode(&x);
        for (u, v) in a.iter().zip(&b) {
            let e = (*u - *v as f64).abs();
            max_abs = max_abs.max(e);
            sum_sq += e * e;
            ref_sq += (*v as f64) * (*v as f64);
            n += 1;
        }
    }
    Distance {
        points: points + 2,
        max_abs,
        rms: (sum_sq / n as f64).sqrt(),
        reference_rms: (ref_sq / n as f64).sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::params::HashGridSpec;
    use super::*;
    use crate::minifloat::FloatFormat;

    fn params(f: impl FnOnce(&mut HashGridSpec)) -> HashGridParams {
        let mut s = HashGridSpec::default();
        f(&mut s);
        s.validate().expect("valid")
    }

    #[test]
    fn float_decode_truncates_saturates_and_handles_specials() {
        let fp16 = FloatFormat::preset("fp16").expect("fp16");
        let max = (1i64 << 20) - 1; // 4 int + 16 frac bits
        assert_eq!(float_to_fixed(&fp16, 0x3c00, 16, max), 1 << 16); // 1.0
        assert_eq!(float_to_fixed(&fp16, 0xbc00, 16, max), -(1 << 16));
        assert_eq!(float_to_fixed(&fp16, 0x0001, 16, max), 0); // 2^-24 truncates
        assert_eq!(float_to_fixed(&fp16, 0x0100, 16, max), 1); // 2^-16
        assert_eq!(float_to_fixed(&fp16, 0x8101, 16, max), -1); // -(2^-16 + 2^-24) toward zero
        assert_eq!(float_to_fixed(&fp16, 0x4c00, 16, max), max); // 16.0 saturates
        assert_eq!(float_to_fixed(&fp16, 0x7bff, 16, max), max);
        assert_eq!(float_to_fixed(&fp16, 0xfc00, 16, max), -max); // -inf
        assert_eq!(float_to_fixed(&fp16, 0x7e00, 16, max), 0); // NaN
    }

    #[test]
    fn weights_sum_to_one_and_vertices_pick_one_entry() {
        let p = params(|s| {
            s.per_level_scale = 2.0;
            s.levels = 2;
        });
        let hw = HardwareModel::random(&p, 3);
        // x = 0: pos = 1/2 on every axis: four corners of weight 1/4.
        let t = hw.trace(0, &[0, 0]);
        assert_eq!(t.grid, vec![0, 0]);
        assert_eq!(t.corner_weight, vec![1 << 10; 4]);
        assert_eq!(t.index, vec![0, 1, 16, 17]);
        // x = 1 at scale 15: corner x = 16 = res spills into the next row.
        let t = hw.trace(0, &[p.coord_one(), 0]);
        assert_eq!(t.grid, vec![15, 0]);
        assert_eq!(t.index, vec![15, 16, 31, 32]);
        // Corner weights sum to one, less at most one unit per truncation.
        for x in [0u64, 1, 12345, 65535, 65536, 70000] {
            for l in 0..2 {
                let t = hw.trace(l, &[x, 65536 - x.min(65536)]);
                let sum: u64 = t.corner_weight.iter().sum();
                assert!(sum <= 1 << 12 && sum + 4 > 1 << 12, "{sum}");
            }
        }
    }

    #[test]
    fn hashed_levels_use_the_reference_hash() {
        let p = params(|s| {
            s.dims = 3;
            s.log2_table_size = 10;
            s.base_resolution = 64;
            s.levels = 1;
        });
        assert!(p.geometry.levels[0].hashed);
        let hw = HardwareModel::zeros(&p);
        let t = hw.trace(0, &[1 << 15, 1 << 14, 0]);
        let lv = p.geometry.levels[0];
        for (c, &i) in t.index.iter().enumerate() {
            let corner: Vec<u32> = (0..3).map(|k| t.grid[k] as u32 + ((c >> k) & 1) as u32).collect();
            assert_eq!(i, super::super::reference::grid_index(&corner, lv.res, lv.size, true));
        }
    }

    #[test]
    fn dense_indices_match_the_reference_everywhere_on_an_axis() {
        // Including the wrap at x = 1: the hardware's one subtract equals tcnn's modulo.
        let p = params(|s| {
            s.dims = 3;
            s.base_resolution = 5;
            s.per_level_scale = 1.5;
            s.levels = 3;
            s.log2_table_size = 12;
        });
        let hw = HardwareModel::zeros(&p);
        for l in 0..3 {
            let lv = p.geometry.levels[l];
            assert!(!lv.hashed);
            for x in (0..=p.coord_one()).step_by(97).chain([p.coord_one()]) {
                let c = [x, p.coord_one() - x, x / 2];
                let t = hw.trace(l, &c);
                for (k, &i) in t.index.iter().enumerate() {
                    let corner: Vec<u32> = (0..3).map(|d| t.grid[d] as u32 + ((k >> d) & 1) as u32).collect();
                    assert_eq!(i, super::super::reference::grid_index(&corner, lv.res, lv.size, false));
                }
            }
        }
    }

    #[test]
    fn distance_to_the_reference_is_small_for_fine_formats() {
        let p = params(|s| {
            s.table = "fp16".into();
            s.weight_frac_bits = 16;
            s.feature_frac_bits = 24;
            s.scale_frac_bits = 20;
        });
        let d = distance(&p, 1, 2000, 2);
        assert!(d.max_abs < 1e-3 && d.rms < 1e-4, "{d:?}");
        assert!(d.reference_rms > 0.01, "{d:?}");
        // Coarse weights are measurably further away.
        let coarse = params(|s| s.weight_frac_bits = 4);
        let e = distance(&coarse, 1, 2000, 2);
        assert!(e.rms > 4.0 * d.rms, "{e:?} vs {d:?}");
        // tiny-cuda-nn with fp16 parameters rounds weights and every
        // multiply-add to fp16: further from the fine fixed-point datapath
        // than its f32 variant, but within fp16's precision of the features.
        let h = distance_to(&p, Precision::F16, 1, 2000, 2);
        assert!(h.rms > 4.0 * d.rms && h.max_abs < 1e-2, "{h:?} vs {d:?}");
    }

    #[test]
    fn int_entries_decode_with_their_level_scale() {
        let p = params(|s| {
            s.table = "int8".into();
            s.int_scale_log2 = vec![7];
        });
        assert_eq!(p.decode(0, 0x40), 1 << 15); // 64 / 128 = 0.5
        assert_eq!(p.decode(0, 0x80), -(1 << 16)); // -128 / 128 = -1
        assert_eq!(p.quantize(0, 0.5), 0x40);
        assert_eq!(p.quantize(0, 9.0), 0x7f);
    }
}

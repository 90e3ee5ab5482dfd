//! The `reference` golden model: tiny-cuda-nn's forward hash-grid encoding,
//! reproduced operation for operation in f32 (and, with fp16 tables, in fp16
//! as tiny-cuda-nn accumulates them). This is what users compare against;
//! the hardware model ([`super::model`]) measures its distance to it.

use super::params::{GridGeometry, PRIMES};
use crate::minifloat::{FloatFormat, OnOverflow, Value};

/// tiny-cuda-nn's `coherent_prime_hash`: XOR over dimensions of
/// `coordinate * prime`, wrapping u32.
pub fn hash(coords: &[u32]) -> u32 {
    coords.iter().zip(PRIMES).fold(0u32, |h, (&c, p)| h ^ c.wrapping_mul(p))
}

/// tiny-cuda-nn's `grid_index` for one corner of a level of `size` entries
/// and `res` vertices per axis: the dense index (x fastest) while the stride
/// stays within the table, else the hash; then modulo the size.
pub fn grid_index(corner: &[u32], res: u32, size: u32, hashed: bool) -> u32 {
    let mut stride = 1u32;
    let mut index = 0u32;
    for &c in corner {
        if stride > size {
            break;
        }
        index = index.wrapping_add(c.wrapping_mul(stride));
        stride = stride.wrapping_mul(res);
    }
    if hashed {
        index = hash(corner);
    }
    index % size
}

/// How the reference accumulates: tiny-cuda-nn's template type `T` of the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// fp32 tables: `result = fmaf(weight, value, result)`.
    F32,
    /// fp16 tables: the weight is rounded to fp16 and each corner is one
    /// fp16 fused multiply-add, in corner order.
    F16,
}

pub const FP16: FloatFormat = FloatFormat::new(5, 10, 15, crate::minifloat::Specials::Ieee);

/// Round an f32 to the nearest fp16 code (ties to even), as `(__half)x` does.
pub fn f16_code(x: f32) -> u16 {
    FP16.encode(x as f64, OnOverflow::Special) as u16
}

pub fn f16_value(code: u16) -> f32 {
    FP16.to_f64(code as u64) as f32
}

/// `a * b + c` in fp16 with a single rounding (`__hfma`): exact in integers
/// (every finite fp16 product is a multiple of 2^-48 below 2^32), then
/// rounded to nearest even.
pub fn f16_fma(a: u16, b: u16, c: u16) -> u16 {
    match (FP16.decode(a as u64), FP16.decode(b as u64), FP16.decode(c as u64)) {
        (
            Value::Finite {
                neg: na,
                sig: sa,
                exp: ea,
            },
            Value::Finite {
                neg: nb,
                sig: sb,
                exp: eb,
            },
            Value::Finite {
                neg: nc,
                sig: sc,
                exp: ec,
            },
        ) => {
            const BASE: i32 = -48;
            let prod = (sa as i128 * sb as i128) << (ea + eb - BASE);
            let prod = if na != nb { -prod } else { prod };
            let add = (sc as i128) << (ec - BASE);
            let add = if nc { -add } else { add };
            let sum = prod + add;
            if sum == 0 {
                // IEEE: an exact zero sum is +0 unless both terms are -0 (round to nearest).
                let neg = (na != nb) && nc;
                return if neg { 0x8000 } else { 0 };
            }
            FP16.encode_exact(sum < 0, sum.unsigned_abs(), BASE, OnOverflow::Special) as u16
        }
        _ => {
            let r = f16_value(a) as f64 * f16_value(b) as f64 + f16_value(c) as f64;
            FP16.encode(r, OnOverflow::Special) as u16
        }
    }
}

/// A grid with its tables, encoding like tiny-cuda-nn's forward kernel.
pub struct ReferenceEncoder {
    pub geometry: GridGeometry,
    pub precision: Precision,
    /// Per level, `size * F` values, entry `i` feature `f` at `i * F + f`.
    tables_f32: Vec<Vec<f32>>,
    tables_f16: Vec<Vec<u16>>,
}

impl ReferenceEncoder {
    /// `tables[l]` holds `size_l * F` values; with [`Precision::F16`] they
    /// are rounded to fp16 first (tiny-cuda-nn stores fp16 parameters).
    pub fn new(geometry: &GridGeometry, tables: &[Vec<f32>], precision: Precision) -> ReferenceEncoder {
        assert_eq!(tables.len(), geometry.levels.len(), "one table per level");
        for (t, l) in tables.iter().zip(&geometry.levels) {
            assert_eq!(t.len(), l.size as usize * geometry.features as usize, "table size");
        }
        let tables_f16 = match precision {
            Precision::F16 => tables
                .iter()
                .map(|t| t.iter().map(|&x| f16_code(x)).collect())
                .collect(),
            Precision::F32 => Vec::new(),
        };
        ReferenceEncoder {
            geometry: geometry.clone(),
            precision,
            tables_f32: tables.to_vec(),
            tables_f16,
        }
    }

    /// Encode one point (D coordinates) into L * F features, `l * F + f`.
    pub fn encode(&self, x: &[f32]) -> Vec<f32> {
        let g = &self.geometry;
        let d = g.dims as usize;
        let nf = g.features as usize;
        assert_eq!(x.len(), d, "one coordinate per dimension");
        let mut out = vec![0f32; g.n_outputs() as usize];
        let mut pos = [0f32; 4];
        let mut grid = [0u32; 4];
        let mut corner = [0u32; 4];
        for (l, lv) in g.levels.iter().enumerate() {
            for k in 0..d {
                // pos_fract: one fused multiply-add, then floor.
                let p = x[k].mul_add(lv.scale, 0.5);
                let fl = p.floor();
                grid[k] = fl as i32 as u32;
                pos[k] = p - fl;
            }
            let mut acc32 = [0f32; 8];
            let mut acc16 = [0u16; 8];
            for idx in 0..(1usize << d) {
                let mut weight = 1f32;
                for k in 0..d {
                    if idx & (1 << k) == 0 {
                        weight *= 1.0 - pos[k];
                        corner[k] = grid[k];
                    } else {
                        weight *= pos[k];
                        corner[k] = grid[k].wrapping_add(1);
                    }
                }
                let i = grid_index(&corner[..d], lv.res, lv.size, lv.hashed) as usize;
                match self.precision {
                    Precision::F32 => {
                        let t = &self.tables_f32[l][i * nf..(i + 1) * nf];
                        for f in 0..nf {
                            acc32[f] = weight.mul_add(t[f], acc32[f]);
                        }
                    }
                    Precision::F16 => {
                        let w = f16_code(weight);
                        let t = &self.tables_f16[l][i * nf..(i + 1) * nf];
                        for f in 0..nf {
                            acc16[f] = f16_fma(w, t[f], acc16[f]);
                        }
                    }
                }
            }
            for f in 0..nf {
                out[l * nf + f] = match self.precision {
                    Precision::F32 => acc32[f],
                    Precision::F16 => f16_value(acc16[f]),
                };
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_vectors_from_the_reference() {
        let mask = (1u32 << 19) - 1;
        for (c, full, masked) in [
            ([0, 1, 0], 0x9e3779b1u32, 489905u32),
            ([0, 0, 1], 0x30025795, 153493),
            ([1, 2, 3], 0xac69f5dc, 128476),
            ([127, 128, 129], 0x2a92faea, 195306),
            ([2047, 2047, 2047], 0xff2c59db, 285147),
        ] {
            assert_eq!(hash(&c), full, "{c:?}");
            assert_eq!(hash(&c) & mask, masked, "{c:?}");
            assert_eq!(grid_index(&c, 4096, 1 << 19, true), masked, "{c:?}");
        }
    }

    #[test]
    fn fp16_fma_rounds_once() {
        let one = f16_code(1.0);
        // 1 + 2^-11 ties to even (1); 2^-21 more rounds up.
        assert_eq!(f16_fma(one, one, f16_code(2f32.powi(-11))), one);
        let c = f16_code(2f32.powi(-11) + 2f32.powi(-21));
        assert_eq!(f16_value(f16_fma(one, one, c)), 1.0 + 2f32.powi(-10));
        // (1 + 2^-10)^2 - (1 + 2^-9) = 2^-20 exactly; rounding the product first would give 0.
        assert_eq!(f16_value(f16_fma(0x3c01, 0x3c01, 0xbc02)), 2f32.powi(-20));
        assert_eq!(f16_fma(f16_code(-2.0), f16_code(3.0), f16_code(6.0)), 0);
        assert_eq!(f16_value(f16_fma(f16_code(300.0), f16_code(300.0), 0)), f32::INFINITY);
    }

    fn ramp_tables(g: &GridGeometry) -> Vec<Vec<f32>> {
        g.levels
            .iter()
            .map(|l| {
                (0..l.size * g.features)
                    .map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn vertices_reproduce_their_entries() {
        // x on a vertex of a dense level: weight 1 on one corner.
        let g = GridGeometry::new(2, 1, 2, 12, 16, 2.0);
        let t = ramp_tables(&g);
        let enc = ReferenceEncoder::new(&g, &t, Precision::F32);
        let lv = g.levels[0];
        assert_eq!((lv.scale, lv.res), (15.0, 16));
        let x = 0.1f32;
        let out = enc.encode(&[x, 0.0]);
        let p = x.mul_add(15.0, 0.5);
        let (g0, w0) = (p.floor() as usize, p - p.floor());
        let e = |i: usize, f: usize| t[0][i * 2 + f];
        // y: pos 0.5 -> grid 0, weight 0.5.
        let want = (1.0 - w0) * 0.5 * e(g0, 0);
        let want = (w0 * 0.5).mul_add(e(g0 + 1, 0), want);
        let want = ((1.0 - w0) * 0.5).mul_add(e(g0 + 16, 0), want);
        let want = (w0 * 0.5).mul_add(e(g0 + 17, 0), want);
        assert_eq!(out[0], {
            let mut a = 0f32;
            a = ((1.0 - w0) * 0.5).mul_add(e(g0, 0), a);
            a = (w0 * 0.5).mul_add(e(g0 + 1, 0), a);
            a = ((1.0 - w0) * 0.5).mul_add(e(g0 + 16, 0), a);
            (w0 * 0.5).mul_add(e(g0 + 17, 0), a)
        });
        assert!((out[0] - want).abs() < 1e-6);
    }

    #[test]
    fn x_at_one_spills_into_the_next_row_on_integer_scales() {
        // b = 2, N0 = 16: scale 15, pos(1) = 15.5, grid 15, corner x = 16 = res:
        // the dense index 16 + 16*y wraps into row y + 1.
        let g = GridGeometry::new(2, 1, 1, 12, 16, 2.0);
        let mut t = vec![vec![0f32; 256]];
        t[0][16] = 1.0; // (x = 0, y = 1), reached from (x = 16, y = 0)
        let enc = ReferenceEncoder::new(&g, &t, Precision::F32);
        let out = enc.encode(&[1.0, 0.0]);
        // weights: x 0.5 (pos 15.5), y 0.5 (pos 0.5): corner (16, 0) has 0.25,
        // and corner (15, 1) = index 31 holds 0.
        assert_eq!(out[0], 0.25);
        // 1 - ulp lands in the same cell.
        let below = enc.encode(&[1.0 - f32::EPSILON / 2.0, 0.0]);
        assert!((below[0] - 0.25).abs() < 1e-5, "{}", below[0]);
        // x = 0: pos 0.5 in both axes, corners 0, 1, 16, 17.
        let zero = enc.encode(&[0.0, 0.0]);
        assert_eq!(zero[0], 0.25);
    }

    #[test]
    fn fp16_accumulation_differs_from_f32_as_tcnn_does() {
        let g = GridGeometry::new(3, 4, 2, 10, 4, 1.7);
        let t = ramp_tables(&g);
        let a = ReferenceEncoder::new(&g, &t, Precision::F32);
        let b = ReferenceEncoder::new(&g, &t, Precision::F16);
        let x = [0.3217f32, 0.7023, 0.1415];
        let (fa, fb) = (a.encode(&x), b.encode(&x));
        assert_eq!(fa.len(), 8);
        // Every fp16 result is an fp16 value, close to but not always equal to f32.
        for (u, v) in fa.iter().zip(&fb) {
            assert_eq!(f16_value(f16_code(*v)), *v);
            assert!((u - v).abs() < 4e-3, "{u} vs {v}");
        }
        assert!(fa.iter().zip(&fb).any(|(u, v)| u != v));
    }
}

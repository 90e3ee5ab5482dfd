//! Parameters of a multiresolution hash-grid encoder (Instant-NGP /
//! tiny-cuda-nn), their validation, and the per-level geometry both golden
//! models and the hardware share.
//!
//! The geometry follows tiny-cuda-nn's code, not the paper: see
//! [`GridGeometry::new`].

use crate::ir::ResetStyle;
use crate::mac::operand::Operand;
use crate::mac::params::FormatSpec;
use crate::minifloat::FloatFormat;
use crate::params::{IntFormat, ParamError, bits_for, check_range, clog2};

/// tiny-cuda-nn's hash primes, one per input dimension (`coherent_prime_hash`).
pub const PRIMES: [u32; 4] = [1, 2654435761, 805459861, 3674653429];

/// The largest vertex count per axis accepted: keeps grid coordinates within
/// 21 bits and the f32 positions of the reference mode meaningful.
pub const MAX_RESOLUTION: u32 = 1 << 20;

/// The format of a table entry (one feature of one vertex).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryFormat {
    /// A float code (fp16, bf16, any minifloat); decoded exactly, then
    /// truncated toward zero to the feature fixed-point format.
    Float(FloatFormat),
    /// A signed integer code worth `code * 2^-scale_log2[level]`.
    Int(IntFormat),
}

impl EntryFormat {
    pub fn width(&self) -> u32 {
        match self {
            EntryFormat::Float(f) => f.width(),
            EntryFormat::Int(i) => i.bits,
        }
    }

    /// Short tag for module names.
    pub fn tag(&self) -> String {
        match self {
            EntryFormat::Float(f) => f.tag(),
            EntryFormat::Int(i) => i.tag(),
        }
    }
}

impl std::fmt::Display for EntryFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryFormat::Float(x) => f.write_str(&x.tag()),
            EntryFormat::Int(i) => write!(f, "{i}"),
        }
    }
}

/// A hash-grid encoder as the user writes it; [`HashGridSpec::validate`]
/// turns it into [`HashGridParams`]. Keys are relative to `hash_grid.`.
#[derive(Clone, Debug)]
pub struct HashGridSpec {
    /// D, input dimensions: 2 or 3.
    pub dims: u64,
    /// L, levels: 1..=32.
    pub levels: u64,
    /// F, features per level: 1, 2, 4 or 8.
    pub features: u64,
    /// log2 T, entries of a hashed level: 8..=24.
    pub log2_table_size: u64,
    /// N0, the coarsest level's base resolution, >= 1.
    pub base_resolution: u64,
    /// b, the per-level scale, > 1.
    pub per_level_scale: f64,
    /// Table entry format: a signed integer (`int8`, `int4`, ...) or a float.
    pub table: FormatSpec,
    /// For integer entries: per-level power-of-two scale exponents `s` (value
    /// = code * 2^-s); one value for all levels, or one per level.
    pub int_scale_log2: Vec<i64>,
    /// Fraction bits of an input coordinate (x in [0, 1] is `x * 2^bits`).
    pub coord_frac_bits: u64,
    /// Fraction bits of the per-level scale constants.
    pub scale_frac_bits: u64,
    /// Fraction bits of interpolation weights.
    pub weight_frac_bits: u64,
    /// Integer and fraction bits of decoded features and outputs (plus a sign bit).
    pub feature_int_bits: u64,
    pub feature_frac_bits: u64,
    /// Emit `$readmemh` initialisation of every table from `<top>_l<l>_<bank>.hex`.
    pub init_files: bool,
    /// Optional budget of on-chip memory bits (with replication) the tables must fit.
    pub block_ram_bits: Option<u64>,
    /// P, level units: `None` is one per level (L, one point per cycle);
    /// fewer time-multiplex the levels (one point every ceil(L/P) cycles).
    pub level_units: Option<u64>,
    /// Registered stages from a slot's entry to its features: 4 (positions,
    /// indices, block RAM, interpolation); 5 registers the weighted products
    /// before the sum; 6 also registers the indices and corner weights
    /// before the bank addresses.
    pub pipeline_depth: u64,
    /// Output feature format: `None` is the fixed-point feature; a float
    /// format (fp16, bf16, a minifloat) rounds the exact weighted sum to it.
    pub output: Option<FormatSpec>,
    pub reset: ResetStyle,
}

impl Default for HashGridSpec {
    /// A small 2D image encoder: L = 8, F = 2, T = 2^12, N0 = 16, b = 1.5, fp16 tables.
    fn default() -> HashGridSpec {
        HashGridSpec {
            dims: 2,
            levels: 8,
            features: 2,
            log2_table_size: 12,
            base_resolution: 16,
            per_level_scale: 1.5,
            table: FormatSpec::Name("fp16".into()),
            int_scale_log2: vec![7],
            coord_frac_bits: 16,
            scale_frac_bits: 16,
            weight_frac_bits: 12,
            feature_int_bits: 4,
            feature_frac_bits: 16,
            init_files: false,
            block_ram_bits: None,
            level_units: None,
            pipeline_depth: 4,
            output: None,
            reset: ResetStyle::SyncHigh,
        }
    }
}

/// One level of the grid, as tiny-cuda-nn lays it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// `exp2(l * log2(b)) * N0 - 1`, in f32.
    pub scale: f32,
    /// Vertices per axis: `ceil(scale) + 1`.
    pub res: u32,
    /// Entries in the level's table: `min(next_multiple(res^D, 8), T)`.
    pub size: u32,
    /// Indices hash (res^D exceeds the table) rather than address densely.
    pub hashed: bool,
    /// First entry of the level in the concatenated parameter vector.
    pub offset: u64,
}

/// The geometry of every level: the part of tiny-cuda-nn's encoding that
/// does not depend on number formats.
#[derive(Clone, Debug, PartialEq)]
pub struct GridGeometry {
    pub dims: u32,
    pub features: u32,
    pub log2_table_size: u32,
    pub base_resolution: u32,
    pub per_level_scale: f32,
    pub levels: Vec<Level>,
}

impl GridGeometry {
    /// Per level, as tiny-cuda-nn's `GridEncodingTemplated` and its kernels do:
    /// `log2(b)` in f32 once, `scale_l = exp2f(l * log2b) * N0 - 1.0f`,
    /// `res_l = (u32)ceilf(scale_l) + 1`; `res^D` above `u32::MAX / 2` (as a
    /// float power) is capped there, then rounded up to a multiple of 8 and
    /// capped at T for hashed grids. A level hashes when the kernel's
    /// stride loop (`stride *= res` while `stride <= size`, wrapping u32)
    /// ends above the size.
    pub fn new(dims: u32, levels: u32, features: u32, log2_table_size: u32, n0: u32, b: f32) -> GridGeometry {
        let log2b = b.log2();
        let t = 1u32 << log2_table_size;
        let max_params = u32::MAX / 2;
        let mut offset = 0u64;
        let levels = (0..levels)
            .map(|l| {
                let scale = (l as f32 * log2b).exp2() * n0 as f32 - 1.0;
                let res = (scale.ceil() as u32).saturating_add(1);
                let dense_params = if (res as f32).powi(dims as i32) > max_params as f32 {
                    max_params
                } else {
                    res.wrapping_pow(dims)
                };
                let size = dense_params.next_multiple_of(8).min(t);
                let mut stride = 1u32;
                for _ in 0..dims {
                    if stride > size {
                        break;
                    }
                    stride = stride.wrapping_mul(res);
                }
                let level = Level {
                    scale,
                    res,
                    size,
                    hashed: size < stride,
                    offset,
                };
                offset += size as u64;
                level
            })
            .collect();
        GridGeometry {
            dims,
            features,
            log2_table_size,
            base_resolution: n0,
            per_level_scale: b,
            levels,
        }
    }

    /// Trainable parameters: entries of every level times F.
    pub fn n_params(&self) -> u64 {
        self.levels.iter().map(|l| l.size as u64).sum::<u64>() * self.features as u64
    }

    /// Output features: L * F, feature `f` of level `l` at `l * F + f`.
    pub fn n_outputs(&self) -> u32 {
        self.levels.len() as u32 * self.features
    }
}

/// Validated parameters: every field in range, every width derived.
#[derive(Clone, Debug, PartialEq)]
pub struct HashGridParams {
    pub geometry: GridGeometry,
    pub entry: EntryFormat,
    /// Per level: integer entries are worth `code * 2^-int_scale_log2[l]`
    /// (zero for float entries).
    pub int_scale_log2: Vec<u32>,
    pub coord_frac_bits: u32,
    pub scale_frac_bits: u32,
    pub weight_frac_bits: u32,
    pub feature_int_bits: u32,
    pub feature_frac_bits: u32,
    pub init_files: bool,
    /// P, level units: unit `u` serves levels u, u + P, u + 2P, ... in
    /// consecutive cycles (slots); P = L is fully parallel.
    pub level_units: u32,
    /// Registered stages of a level unit: 4, 5 (products registered) or 6
    /// (indices and corner weights registered too).
    pub pipeline_depth: u32,
    /// Output features rounded to this float format (nearest even,
    /// saturating) from the exact weighted sum; `None`: fixed point.
    pub output: Option<FloatFormat>,
    pub reset: ResetStyle,
}

/// Shortest description of `b` for names: `1.5`, `2`, `1.38191`.
pub fn scale_text(b: f32) -> String {
    format!("{b}")
}

impl HashGridSpec {
    pub fn validate(&self) -> Result<HashGridParams, ParamError> {
        check_range("dims", self.dims, 2, 3, "D, the input dimensions,")?;
        check_range("levels", self.levels, 1, 32, "L, the number of levels,")?;
        if ![1, 2, 4, 8].contains(&self.features) {
            return Err(ParamError::new(
                "features",
                self.features,
                "F, features per level, must be 1, 2, 4 or 8 (the widths tiny-cuda-nn compiles)",
            ));
        }
        check_range(
            "log2_table_size",
            self.log2_table_size,
            8,
            24,
            "log2 T, the hashed table size (T is a power of two),",
        )?;
        if self.base_resolution == 0 {
            return Err(ParamError::new(
                "base_resolution",
                0,
                "N0, the coarsest resolution, must be at least 1",
            ));
        }
        check_range("base_resolution", self.base_resolution, 1, MAX_RESOLUTION as u64, "N0")?;
        let b = self.per_level_scale;
        if !(b.is_finite() && b > 1.0 && b <= 64.0) || (b as f32) <= 1.0 {
            return Err(ParamError::new(
                "per_level_scale",
                b,
                "b, the growth factor between levels, must be above 1 (as an f32) and at most 64",
            ));
        }
        let geometry = GridGeometry::new(
            self.dims as u32,
            self.levels as u32,
            self.features as u32,
            self.log2_table_size as u32,
            self.base_resolution as u32,
            b as f32,
        );
        let finest = geometry.levels.iter().map(|l| l.res).max().unwrap_or(1);
        if finest > MAX_RESOLUTION || !geometry.levels.iter().all(|l| l.scale.is_finite()) {
            return Err(ParamError::new(
                "levels",
                self.levels,
                format!(
                    "the finest level would have {} vertices per axis (N0 * b^(L-1)); at most {MAX_RESOLUTION} are supported: lower L, b or N0",
                    if finest > MAX_RESOLUTION {
                        finest.to_string()
                    } else {
                        "too many".into()
                    }
                ),
            ));
        }
        let entry = match self.table.operand("table")? {
            Operand::Float(f) => EntryFormat::Float(f),
            Operand::Int(i) if i.signed => EntryFormat::Int(i),
            Operand::Int(i) => {
                return Err(ParamError::new(
                    "table",
                    format!("`{i}`"),
                    "table entries are signed: use int2..int16 (with `int_scale_log2`), fp16, bf16 or a minifloat",
                ));
            }
        };
        check_range(
            "coord_frac_bits",
            self.coord_frac_bits,
            4,
            24,
            "fraction bits of a coordinate",
        )?;
        check_range(
            "scale_frac_bits",
            self.scale_frac_bits,
            0,
            24,
            "fraction bits of a scale",
        )?;
        check_range(
            "weight_frac_bits",
            self.weight_frac_bits,
            2,
            16,
            "fraction bits of a weight",
        )?;
        let frac_in = self.coord_frac_bits + self.scale_frac_bits;
        if self.weight_frac_bits > frac_in {
            return Err(ParamError::new(
                "weight_frac_bits",
                self.weight_frac_bits,
                format!(
                    "weights come from the {frac_in} fraction bits of x * scale (coord_frac_bits + scale_frac_bits): at most {frac_in}"
                ),
            ));
        }
        check_range(
            "feature_int_bits",
            self.feature_int_bits,
            0,
            16,
            "integer bits of a feature",
        )?;
        check_range(
            "feature_frac_bits",
            self.feature_frac_bits,
            0,
            32,
            "fraction bits of a feature",
        )?;
        if self.feature_int_bits + self.feature_frac_bits == 0 {
            return Err(ParamError::new(
                "feature_frac_bits",
                0,
                "a feature needs at least one magnitude bit (feature_int_bits + feature_frac_bits >= 1)",
            ));
        }
        let levels = self.levels as usize;
        let level_units = self.level_units.unwrap_or(self.levels);
        check_range(
            "level_units",
            level_units,
            1,
            self.levels,
            &format!(
                "P, the level units (each serves every P-th level; a point every ceil(L/P) cycles), with L = {},",
                self.levels
            ),
        )?;
        check_range(
            "pipeline_depth",
            self.pipeline_depth,
            4,
            6,
            "the registered stages of a level unit (4: positions, indices, block RAM, interpolation; 5 also registers the weighted products; 6 also the indices and corner weights)",
        )?;
        let output = match &self.output {
            None => None,
            Some(spec) => match spec.operand("output")? {
                Operand::Float(f) => Some(f),
                Operand::Int(i) => {
                    return Err(ParamError::new(
                        "output",
                        format!("`{i}`"),
                        "output features are fixed point (feature_int_bits, feature_frac_bits) unless a float format is given: fp16, bf16 or a minifloat",
                    ));
                }
            },
        };
        let int_scale_log2 = match entry {
            EntryFormat::Float(_) => vec![0; levels],
            EntryFormat::Int(i) => {
                let list = match self.int_scale_log2.len() {
                    1 => vec![self.int_scale_log2[0]; levels],
                    n if n == levels => self.int_scale_log2.clone(),
                    n => {
                        return Err(ParamError::new(
                            "int_scale_log2",
                            format!("a list of {n}"),
                            format!("one exponent for every level, or a list of L = {levels}"),
                        ));
                    }
                };
                let mut out = Vec::with_capacity(levels);
                for s in list {
                    let max = self.feature_frac_bits as i64;
                    if !(0..=max).contains(&s) {
                        return Err(ParamError::new(
                            "int_scale_log2",
                            s,
                            format!(
                                "an entry is worth code * 2^-s; s must be 0..={max} (feature_frac_bits) so decoding is an exact shift"
                            ),
                        ));
                    }
                    // The largest magnitude, 2^(bits-1) codes shifted left by frac - s.
                    let mag_bits = i.bits - 1 + (self.feature_frac_bits as u32 - s as u32);
                    let feat_bits = (self.feature_int_bits + self.feature_frac_bits) as u32;
                    if mag_bits > feat_bits {
                        return Err(ParamError::new(
                            "int_scale_log2",
                            s,
                            format!(
                                "{i} codes times 2^-{s} reach 2^{}, beyond the features' {} integer bits: raise s to {} or feature_int_bits to {}",
                                i.bits as i64 - 1 - s,
                                self.feature_int_bits,
                                s + (mag_bits - feat_bits) as i64,
                                self.feature_int_bits + (mag_bits - feat_bits) as u64
                            ),
                        ));
                    }
                    out.push(s as u32);
                }
                out
            }
        };
        let p = HashGridParams {
            geometry,
            entry,
            int_scale_log2,
            coord_frac_bits: self.coord_frac_bits as u32,
            scale_frac_bits: self.scale_frac_bits as u32,
            weight_frac_bits: self.weight_frac_bits as u32,
            feature_int_bits: self.feature_int_bits as u32,
            feature_frac_bits: self.feature_frac_bits as u32,
            init_files: self.init_files,
            level_units: level_units as u32,
            pipeline_depth: self.pipeline_depth as u32,
            output,
            reset: self.reset,
        };
        if let Some(budget) = self.block_ram_bits {
            let need = p.memory_bits();
            if need > budget {
                return Err(ParamError::new(
                    "block_ram_bits",
                    budget,
                    format!(
                        "the tables need {need} bits ({} entries x {} bits x {} replicas for the 2^D corner reads): lower T, L, F or the entry width, or raise the budget",
                        p.geometry.n_params() / p.geometry.features as u64,
                        p.entry.width() * p.geometry.features,
                        p.replicas()
                    ),
                ));
            }
        }
        Ok(p)
    }
}

impl HashGridParams {
    pub fn dims(&self) -> u32 {
        self.geometry.dims
    }
    pub fn levels(&self) -> u32 {
        self.geometry.levels.len() as u32
    }
    pub fn features(&self) -> u32 {
        self.geometry.features
    }

    /// Bits of an input coordinate: `coord_frac_bits + 1` (x = 1 is representable).
    pub fn coord_width(&self) -> u32 {
        self.coord_frac_bits + 1
    }

    /// The code of x = 1; larger codes clamp to it.
    pub fn coord_one(&self) -> u64 {
        1 << self.coord_frac_bits
    }

    /// Bits of a decoded feature and of an output feature: sign + int + frac.
    pub fn feature_width(&self) -> u32 {
        1 + self.feature_int_bits + self.feature_frac_bits
    }

    /// Bits of one output feature: the float format's, or [`feature_width`](Self::feature_width).
    pub fn out_width(&self) -> u32 {
        match self.output {
            Some(f) => f.width(),
            None => self.feature_width(),
        }
    }

    /// Bits of the exact weighted sum of a feature: FEAT_W + WGT_W + 1.
    pub fn sum_width(&self) -> u32 {
        self.feature_width() + self.weight_frac_bits + 1
    }

    /// Largest feature magnitude; features saturate symmetrically to it.
    pub fn feature_max(&self) -> i64 {
        (1i64 << (self.feature_int_bits + self.feature_frac_bits)) - 1
    }

    /// Bits of one table word: F entries.
    pub fn word_width(&self) -> u32 {
        self.entry.width() * self.features()
    }

    /// Slots: cycles a point spends in the level units, ceil(L / P); the
    /// engine accepts one point every `slots()` cycles.
    pub fn slots(&self) -> u32 {
        self.levels().div_ceil(self.level_units)
    }

    /// The levels unit `u` serves, slot by slot: u, u + P, u + 2P, ... below L.
    pub fn unit_levels(&self, u: usize) -> Vec<usize> {
        (u..self.levels() as usize).step_by(self.level_units as usize).collect()
    }

    /// The unit and slot serving level `l`.
    pub fn unit_of(&self, l: usize) -> (usize, usize) {
        let p = self.level_units as usize;
        (l % p, l / p)
    }

    /// Where level `l`'s entries start in its unit's banks (words of one
    /// bank): the half-sizes of the unit's earlier levels.
    pub fn bank_offset(&self, l: usize) -> u32 {
        let (u, slot) = self.unit_of(l);
        self.unit_levels(u)[..slot]
            .iter()
            .map(|&k| self.geometry.levels[k].size / 2)
            .sum()
    }

    /// Words of one bank of unit `u`: its levels' half-sizes.
    pub fn unit_bank_depth(&self, u: usize) -> u32 {
        self.unit_levels(u)
            .iter()
            .map(|&k| self.geometry.levels[k].size / 2)
            .sum()
    }

    /// Copies of each table: corners that differ only along x read two
    /// banks split on index bit 0, so 2^(D-1) replicas serve all 2^D corners.
    pub fn replicas(&self) -> u32 {
        1 << (self.dims() - 1)
    }

    /// Total memory bits including replication.
    pub fn memory_bits(&self) -> u64 {
        self.geometry.levels.iter().map(|l| l.size as u64).sum::<u64>()
            * self.word_width() as u64
            * self.replicas() as u64
    }

    /// The fixed-point scale of level `l`: `scale_l` rounded to
    /// `scale_frac_bits` fraction bits (nearest, ties away from zero),
    /// computed on the host from the f32 scale tiny-cuda-nn uses.
    pub fn scale_code(&self, l: usize) -> u64 {
        let s = self.geometry.levels[l].scale as f64 * (1u64 << self.scale_frac_bits) as f64;
        s.round() as u64
    }

    /// Bits of the scale constant of level `l`.
    pub fn scale_width(&self, l: usize) -> u32 {
        bits_for(self.scale_code(l))
    }

    /// Bits of a grid coordinate of level `l`, corner included (at most `res`).
    pub fn grid_width(&self, l: usize) -> u32 {
        bits_for(self.geometry.levels[l].res as u64)
    }

    /// Bits of a table index of level `l` before the modulo (dense levels
    /// reach below twice the size; hashed levels keep log2 T bits).
    pub fn index_width(&self, l: usize) -> u32 {
        let lv = &self.geometry.levels[l];
        if lv.hashed {
            self.geometry.log2_table_size
        } else {
            bits_for(2 * lv.size as u64 - 1)
        }
    }

    /// Bits of a bank address of level `l`: a bank holds size/2 words.
    pub fn bank_addr_width(&self, l: usize) -> u32 {
        clog2(self.geometry.levels[l].size as u64 / 2).max(1)
    }

    /// Bits of the load port's entry address: the largest level.
    pub fn load_addr_width(&self) -> u32 {
        let max = self.geometry.levels.iter().map(|l| l.size).max().unwrap_or(8);
        clog2(max as u64).max(1)
    }

    /// Bits of the load port's level number.
    pub fn load_level_width(&self) -> u32 {
        clog2(self.levels() as u64).max(1)
    }

    /// The module-name tag that makes a configuration unique.
    pub fn tag(&self) -> String {
        let g = &self.geometry;
        let ints = match self.entry {
            EntryFormat::Int(_) => {
                let first = self.int_scale_log2[0];
                if self.int_scale_log2.iter().all(|&s| s == first) {
                    format!("_sc{first}")
                } else {
                    format!(
                        "_sc{}",
                        self.int_scale_log2
                            .iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                            .join("_")
                    )
                }
            }
            EntryFormat::Float(_) => String::new(),
        };
        format!(
            "d{}_l{}_f{}_t{}_n{}_b{}_{}{ints}_x{}_k{}_w{}_q{}p{}{}{}{}{}{}",
            g.dims,
            self.levels(),
            g.features,
            g.log2_table_size,
            g.base_resolution,
            scale_text(g.per_level_scale).replace('.', "p"),
            self.entry.tag(),
            self.coord_frac_bits,
            self.scale_frac_bits,
            self.weight_frac_bits,
            self.feature_int_bits,
            self.feature_frac_bits,
            if self.init_files { "_init" } else { "" },
            if self.level_units < self.levels() {
                format!("_u{}", self.level_units)
            } else {
                String::new()
            },
            if self.pipeline_depth != 4 {
                format!("_pd{}", self.pipeline_depth)
            } else {
                String::new()
            },
            match self.output {
                Some(f) => format!("_o{}", f.tag()),
                None => String::new(),
            },
            if self.reset == ResetStyle::AsyncLow {
                "_arst"
            } else {
                ""
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> HashGridSpec {
        HashGridSpec::default()
    }

    #[test]
    fn tcnn_parameter_count_vector() {
        // tiny-cuda-nn's own test: D = 3, L = 20, F = 2, T = 2^16, N0 = 32, b = 1.5.
        let g = GridGeometry::new(3, 20, 2, 16, 32, 1.5);
        assert_eq!(g.n_params(), 2_555_904);
        assert_eq!(
            (g.levels[0].res, g.levels[0].size, g.levels[0].hashed),
            (32, 32768, false)
        );
        assert!(g.levels[1..].iter().all(|l| l.hashed && l.size == 65536));
        assert_eq!(g.levels[1].res, 48);
    }

    #[test]
    fn integer_scales_and_rounding_up_to_eight() {
        let g = GridGeometry::new(2, 4, 2, 8, 16, 2.0);
        assert_eq!(
            g.levels.iter().map(|l| (l.scale, l.res)).collect::<Vec<_>>(),
            vec![(15.0, 16), (31.0, 32), (63.0, 64), (127.0, 128)]
        );
        // 16^2 = 256 = T: still dense; 32^2 > 256 hashes.
        assert_eq!((g.levels[0].size, g.levels[0].hashed), (256, false));
        assert_eq!((g.levels[1].size, g.levels[1].hashed), (256, true));
        // res 3: 3^2 = 9 entries round up to 16.
        let g = GridGeometry::new(2, 1, 1, 8, 3, 2.0);
        assert_eq!((g.levels[0].res, g.levels[0].size), (3, 16));
        // res 1 (N0 = 1): one vertex, eight entries.
        let g = GridGeometry::new(3, 1, 1, 8, 1, 2.0);
        assert_eq!((g.levels[0].scale, g.levels[0].res, g.levels[0].size), (0.0, 1, 8));
    }

    #[test]
    fn dense_hash_boundary_just_below_and_above() {
        // T = 2^12 = 4096 = 64^2: res 64 is dense, res 65 hashes.
        let below = GridGeometry::new(2, 1, 1, 12, 64, 2.0);
        assert_eq!((below.levels[0].res, below.levels[0].hashed), (64, false));
        let above = GridGeometry::new(2, 1, 1, 12, 65, 2.0);
        assert_eq!(
            (above.levels[0].res, above.levels[0].size, above.levels[0].hashed),
            (65, 4096, true)
        );
        // D = 3, res above 1625: res^3 > u32::MAX / 2 is capped, and hashes.
        let g = GridGeometry::new(3, 1, 1, 24, 1700, 2.0);
        assert!(g.levels[0].hashed);
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |f: &dyn Fn(&mut HashGridSpec)| {
            let mut s = spec();
            f(&mut s);
            s.validate().expect_err("invalid").key
        };
        assert_eq!(bad(&|s| s.dims = 4), "dims");
        assert_eq!(bad(&|s| s.dims = 1), "dims");
        assert_eq!(bad(&|s| s.features = 3), "features");
        assert_eq!(bad(&|s| s.levels = 0), "levels");
        assert_eq!(bad(&|s| s.levels = 33), "levels");
        assert_eq!(bad(&|s| s.log2_table_size = 7), "log2_table_size");
        assert_eq!(bad(&|s| s.log2_table_size = 25), "log2_table_size");
        assert_eq!(bad(&|s| s.base_resolution = 0), "base_resolution");
        assert_eq!(bad(&|s| s.per_level_scale = 1.0), "per_level_scale");
        assert_eq!(bad(&|s| s.per_level_scale = 1.0 + 1e-9), "per_level_scale");
        assert_eq!(bad(&|s| s.per_level_scale = f64::NAN), "per_level_scale");
        assert_eq!(
            bad(&|s| {
                s.levels = 32;
                s.per_level_scale = 2.0
            }),
            "levels"
        );
        assert_eq!(bad(&|s| s.table = "uint8".into()), "table");
        assert!(bad(&|s| s.table = "fp32".into()).starts_with("table"));
        assert_eq!(
            bad(&|s| {
                s.table = "int8".into();
                s.int_scale_log2 = vec![17]
            }),
            "int_scale_log2"
        );
        assert_eq!(
            bad(&|s| {
                s.table = "int8".into();
                s.int_scale_log2 = vec![1, 2]
            }),
            "int_scale_log2"
        );
        assert_eq!(
            bad(&|s| {
                s.table = "int16".into();
                s.int_scale_log2 = vec![0]
            }),
            "int_scale_log2"
        );
        assert_eq!(bad(&|s| s.weight_frac_bits = 17), "weight_frac_bits");
        assert_eq!(bad(&|s| s.block_ram_bits = Some(1000)), "block_ram_bits");
        assert_eq!(bad(&|s| s.level_units = Some(0)), "level_units");
        assert_eq!(bad(&|s| s.level_units = Some(9)), "level_units");
        assert_eq!(bad(&|s| s.pipeline_depth = 3), "pipeline_depth");
        assert_eq!(bad(&|s| s.pipeline_depth = 7), "pipeline_depth");
        assert_eq!(bad(&|s| s.output = Some("int8".into())), "output");
        let e = {
            let mut s = spec();
            s.features = 3;
            s.validate().expect_err("F = 3").to_string()
        };
        assert_eq!(
            e,
            "`features` = 3 is not allowed: F, features per level, must be 1, 2, 4 or 8 (the widths tiny-cuda-nn compiles)"
        );
    }

    #[test]
    fn defaults_validate() {
        let p = spec().validate().expect("defaults are valid");
        assert_eq!(p.geometry.levels.len(), 8);
        assert_eq!(p.replicas(), 2);
        assert_eq!(p.feature_width(), 21);
        assert!(p.tag().starts_with("d2_l8_f2_t12_n16_b1p5_fp16"));
    }
}

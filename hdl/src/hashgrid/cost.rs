//! What a hash-grid engine costs in memory: bits, and how its banks map to
//! the block RAMs of common FPGA families, from the configuration alone.
//!
//! Each bank (depth x width) maps to a grid of primitives in the aspect
//! ratio that needs the fewest; banks never share a primitive (each has its
//! own read address every cycle).

use super::params::{EntryFormat, HashGridParams, PRIMES};
use crate::params::{bits_for, clog2};

/// A block-RAM primitive: the depth x width shapes it can take.
#[derive(Clone, Copy, Debug)]
pub struct RamPrimitive {
    pub name: &'static str,
    pub shapes: &'static [(u32, u32)],
}

/// 7-series RAMB36E1 in simple dual-port mode (up to 72 bits wide).
pub const RAMB36: RamPrimitive = RamPrimitive {
    name: "xc7 RAMB36",
    shapes: &[
        (32768, 1),
        (16384, 2),
        (8192, 4),
        (4096, 9),
        (2048, 18),
        (1024, 36),
        (512, 72),
    ],
};

/// 7-series RAMB18E1 (half a RAMB36), simple dual-port up to 36 bits.
pub const RAMB18: RamPrimitive = RamPrimitive {
    name: "xc7 RAMB18",
    shapes: &[(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)],
};

/// iCE40 SB_RAM40_4K.
pub const ICE40_4K: RamPrimitive = RamPrimitive {
    name: "iCE40 SB_RAM40_4K",
    shapes: &[(256, 16), (512, 8), (1024, 4), (2048, 2)],
};

/// ECP5 DP16KD in pseudo dual-port mode (up to 36 bits).
pub const ECP5_DP16KD: RamPrimitive = RamPrimitive {
    name: "ECP5 DP16KD",
    shapes: &[(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)],
};

impl RamPrimitive {
    /// Primitives for one memory of `depth` words of `width` bits.
    pub fn count(&self, depth: u32, width: u32) -> u64 {
        self.shapes
            .iter()
            .map(|&(d, w)| depth.div_ceil(d) as u64 * width.div_ceil(w) as u64)
            .min()
            .unwrap_or(0)
    }
}

/// The engine's memory: bits and primitives per family.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryCost {
    /// Banks (memories) in the design.
    pub banks: u64,
    /// Bits of all banks (tables times replicas).
    pub bits: u64,
    /// Primitive name and count, per family.
    pub primitives: Vec<(&'static str, u64)>,
    /// Table entries read per cycle: P * 2^D (L * 2^D, one point, when P = L).
    pub entries_per_cycle: u64,
    /// Cycles between points: ceil(L / P) (1 when every level has its unit).
    pub cycles_per_point: u32,
}

impl MemoryCost {
    /// Points per cycle: 1 / ceil(L / P) (P / L when P divides L).
    pub fn points_per_cycle(&self) -> f64 {
        1.0 / self.cycles_per_point as f64
    }
}

/// Every bank of the engine as `(depth, width)`: per level unit, an even
/// and an odd bank holding half the entries of every level it serves (one
/// level when P = L), for each replica.
pub fn banks(p: &HashGridParams) -> Vec<(u32, u32)> {
    let w = p.word_width();
    (0..p.level_units as usize)
        .flat_map(|u| std::iter::repeat_n((p.unit_bank_depth(u), w), 2 * p.replicas() as usize))
        .collect()
}

/// Memory cost of `p` from its parameters.
pub fn memory(p: &HashGridParams) -> MemoryCost {
    let banks = banks(p);
    let prims = [RAMB36, RAMB18, ICE40_4K, ECP5_DP16KD];
    let primitives = prims
        .iter()
        .map(|prim| (prim.name, banks.iter().map(|&(d, w)| prim.count(d, w)).sum()))
        .collect();
    MemoryCost {
        banks: banks.len() as u64,
        bits: p.memory_bits(),
        primitives,
        entries_per_cycle: p.level_units as u64 * (1 << p.dims()),
        cycles_per_point: p.slots(),
    }
}

/// A multiplication of one level unit as Yosys 0.23 sees it after `opt`
/// and `wreduce`: operand widths (a constant's trailing zeros become a
/// shift, a power of two is no multiplication; a zero- or sign-extended
/// operand keeps its value bits), signedness and the product bits used.
/// Identical products of a unit (the same vertex times the same constant)
/// are one cell after `opt_merge` and listed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    pub a: u32,
    pub b: u32,
    /// Both operands signed (the weighted features); otherwise both unsigned.
    pub signed: bool,
    pub y: u32,
    /// The odd constant of a multiplication by a constant.
    pub constant: Option<u64>,
}

fn odd_part(c: u64) -> (u64, u32) {
    if c == 0 {
        (0, 0)
    } else {
        (c >> c.trailing_zeros(), c.trailing_zeros())
    }
}

/// Significant bits of a decoded feature value of a unit serving `levels`,
/// counted from bit 0 (the bits above copy its sign): an integer entry's
/// code bits shifted by the largest scale shift among the levels (at most
/// the feature width, checked by validation); a float entry fills the
/// feature. The engine sizes its registered products from this.
pub fn value_bits(p: &HashGridParams, levels: &[usize]) -> u32 {
    match p.entry {
        EntryFormat::Int(i) => {
            let hi = levels
                .iter()
                .map(|&l| p.feature_frac_bits - p.int_scale_log2[l])
                .max()
                .unwrap_or(0);
            (i.bits + hi).min(p.feature_width())
        }
        EntryFormat::Float(_) => p.feature_width(),
    }
}

/// Decoders per corner feature value of a unit serving `levels`: one per
/// distinct scale shift of integer entries, one for float entries (more
/// than one, and the engine selects the slot's decoded value).
pub fn decoders_per_value(p: &HashGridParams, levels: &[usize]) -> usize {
    match p.entry {
        EntryFormat::Int(_) => {
            let mut shifts: Vec<u32> = levels
                .iter()
                .map(|&l| p.feature_frac_bits - p.int_scale_log2[l])
                .collect();
            shifts.sort_unstable();
            shifts.dedup();
            shifts.len()
        }
        EntryFormat::Float(_) => 1,
    }
}

/// The trailing zero bits every level's scale code shares in a unit
/// serving `levels`: a time-multiplexed unit multiplies by the slot's
/// scale without them and shifts the product instead.
pub fn slot_scale_shift(p: &HashGridParams, levels: &[usize]) -> u32 {
    levels
        .iter()
        .map(|&l| p.scale_code(l).trailing_zeros())
        .min()
        .unwrap_or(0)
}

/// Bits of a decoded feature value as the weighted-feature multiplier sees
/// it, and its constant-zero low bits: an integer entry is its code shifted
/// by the level's scale (the code's bits, spread by the shifts a unit
/// selects among); a float entry fills the feature.
fn multiplier_value_bits(p: &HashGridParams, levels: &[usize]) -> (u32, u32) {
    match p.entry {
        EntryFormat::Int(i) => {
            let shifts: Vec<u32> = levels
                .iter()
                .map(|&l| p.feature_frac_bits - p.int_scale_log2[l])
                .collect();
            let lo = shifts.iter().copied().min().unwrap_or(0);
            let hi = shifts.iter().copied().max().unwrap_or(0);
            ((i.bits + hi - lo).min(p.feature_width()), lo)
        }
        EntryFormat::Float(_) => (p.feature_width(), 0),
    }
}

/// The constant level `l`'s index multiplies the vertex along axis `k`
/// (1..D) by, and the index width the product is kept to: the hash prime's
/// low log2 T bits (hashed), or the dense stride RES^k in the dense
/// index's width.
pub fn index_constant(p: &HashGridParams, l: usize, k: usize) -> (u64, u32) {
    let lv = p.geometry.levels[l];
    let c = if lv.hashed {
        PRIMES[k] as u64 & ((1u64 << p.geometry.log2_table_size) - 1)
    } else {
        (lv.res as u64).pow(k as u32)
    };
    (c, p.index_width(l))
}

/// The levels of a unit serving `levels` whose index products along axis
/// `k` the generator writes as one multiplication of the vertex by the
/// slot's constant (a multiplexer of constants): those whose constant has
/// an odd part above 1 within the index width (a power of two is a
/// shift), when they are at least two distinct products and not all the
/// same odd constant (strides that differ by a power of two share one
/// constant product, shifted). Empty otherwise: each level multiplies by
/// its own constant.
pub fn slot_product_levels(p: &HashGridParams, levels: &[usize], k: usize) -> Vec<usize> {
    if levels.len() < 2 {
        return Vec::new();
    }
    let mut group: Vec<usize> = Vec::new();
    let mut products: Vec<(u64, u32)> = Vec::new();
    for &l in levels {
        let (c, y) = index_constant(p, l, k);
        let (o, tz) = odd_part(c);
        if o <= 1 || tz >= y {
            continue;
        }
        group.push(l);
        if !products.contains(&(c, y)) {
            products.push((c, y));
        }
    }
    let odd = |&(c, _): &(u64, u32)| odd_part(c).0;
    let same_odd = products
        .iter()
        .all(|q| odd(q) == products.first().map(odd).unwrap_or(0));
    if products.len() < 2 || same_odd {
        return Vec::new();
    }
    group
}

/// The multiplications of unit `u`: positions (coordinate times the level
/// scale), indices (vertex times a hash prime or a dense stride), corner
/// weights (products of per-axis weights) and weighted features (2^D x F).
pub fn unit_products(p: &HashGridParams, u: usize) -> Vec<Product> {
    let levels = p.unit_levels(u);
    let d = p.dims() as usize;
    let xw = p.coord_width();
    let wb = p.weight_frac_bits;
    let fw = wb + 1;
    let gw = levels.iter().map(|&l| p.grid_width(l)).max().unwrap_or(1);
    let mut out = Vec::new();
    // Positions: one product per axis by the scale constant, or by the
    // slot's scale (a multiplexer of constants) in a unit of several levels,
    // without the trailing zero bits the levels' scales share (the
    // generator shifts the product instead).
    let codes: Vec<u64> = levels.iter().map(|&l| p.scale_code(l)).collect();
    let scale = if levels.len() > 1 {
        let w = codes.iter().map(|&c| bits_for(c)).max().unwrap_or(1) - slot_scale_shift(p, &levels);
        Some((w, None))
    } else {
        let (o, _) = odd_part(codes[0]);
        (o > 1).then(|| (bits_for(o), Some(o)))
    };
    if let Some((b, constant)) = scale {
        for _ in 0..d {
            out.push(Product {
                a: xw,
                b,
                signed: false,
                y: xw + b,
                constant,
            });
        }
    }
    // Indices: along axes 1.. the corner's vertex (the grid coordinate,
    // or one more) times a constant, per served level. In a unit serving
    // several levels whose constants differ in their odd parts, the
    // generator multiplies the vertex once by the slot's constant
    // ([`slot_product_levels`]): a variable product as wide as the widest.
    // (Yosys' `share` merges such mutually exclusive products itself in
    // most designs, but not in all: ECP5 then gave each a DSP block.)
    let mut seen: Vec<(Product, usize, u32)> = Vec::new();
    let mut variable: Vec<((usize, u32), Product)> = Vec::new();
    for &l in &levels {
        for k in 1..d {
            for bit in 0..2 {
                let (c, y) = index_constant(p, l, k);
                let (o, tz) = odd_part(c);
                if o <= 1 || tz >= y {
                    continue;
                }
                let prod = Product {
                    a: (gw + bit).min(y - tz),
                    b: bits_for(o).min(y - tz),
                    signed: false,
                    y: y - tz,
                    constant: Some(o),
                };
                if !seen.contains(&(prod, k, bit)) {
                    seen.push((prod, k, bit));
                    let merged = Product {
                        a: (gw + bit).min(y),
                        b: bits_for(c).min(y),
                        signed: false,
                        y,
                        constant: None,
                    };
                    variable.push(((k, bit), merged));
                }
            }
        }
    }
    for (k, bit) in variable
        .iter()
        .map(|&(key, _)| key)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let group: Vec<usize> = (0..seen.len())
            .filter(|&i| (seen[i].1, seen[i].2) == (k, bit))
            .collect();
        if !slot_product_levels(p, &levels, k).is_empty() {
            // The generator's one multiplication by the slot's constant.
            let merged = group.iter().map(|&i| variable[i].1).reduce(|m, n| Product {
                a: m.a.max(n.a),
                b: m.b.max(n.b),
                y: m.y.max(n.y),
                ..m
            });
            out.extend(merged);
        } else if group.len() == 1 || levels.len() == 1 {
            out.extend(group.iter().map(|&i| seen[i].0));
        } else {
            // The same odd constant (strides differing by a power of two):
            // the merged multiplication is by that constant.
            let merged = group.iter().map(|&i| seen[i].0).reduce(|m, n| Product {
                a: m.a.max(n.a),
                y: m.y.max(n.y),
                ..m
            });
            out.extend(merged);
        }
    }
    // Corner weights: axis 0 times axis 1 per (x, y) corner pair, then
    // times axis 2 per corner in 3D; a factor is the weight (WGT_W bits)
    // or one minus it (WGT_W + 1 bits); products keep 2 * WGT_W + 1 bits.
    let factor = |bit: usize| if bit == 1 { wb } else { fw };
    for c in 0..4 {
        let (a, b) = (factor(c & 1), factor(c >> 1 & 1));
        out.push(Product {
            a,
            b,
            signed: false,
            y: (a + b).min(2 * wb + 1),
            constant: None,
        });
    }
    if d == 3 {
        for c in 0..8 {
            let b = factor(c >> 2 & 1);
            out.push(Product {
                a: fw,
                b,
                signed: false,
                y: (fw + b).min(2 * wb + 1),
                constant: None,
            });
        }
    }
    // Weighted features: a decoded value (signed) times a corner weight
    // (unsigned, one bit more as a signed operand). Registered (depth 5 and
    // up), a product is PROD_W = a + WGT_W + 1 bits; otherwise `wreduce`
    // leaves it a + WGT_W + 2 bits of the ACC_W-bit sum.
    let (a, _) = multiplier_value_bits(p, &levels);
    let y = a + fw + u32::from(p.pipeline_depth < 5);
    for _ in 0..(1usize << d) * p.features() as usize {
        out.push(Product {
            a,
            b: fw + 1,
            signed: true,
            y,
            constant: None,
        });
    }
    out
}

/// Register bits of the engine as synthesis keeps them, apart from the
/// banks' read registers (a word per bank, absorbed by block RAM).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Registers {
    /// Pipeline valid flags, slot numbers, the held point and the
    /// collection registers of a time-multiplexed engine.
    pub control: u64,
    /// Per unit: grid vertices and weights (stage 1), registered indices and
    /// corner weights (depth 6), bank addresses, swap flags and aligned
    /// corner weights (stages 2-3), registered products (depth 5 and up)
    /// and features.
    pub units: u64,
    /// The banks' read registers: a word per bank.
    pub bank_reads: u64,
}

impl Registers {
    pub fn total(&self) -> u64 {
        self.control + self.units + self.bank_reads
    }
}

/// Bits of `[lo, hi)` inside `[from, to)`.
fn overlap(lo: u32, hi: u32, from: u32, to: u32) -> u64 {
    hi.min(to).saturating_sub(lo.max(from)) as u64
}

/// Register bits of unit `u` outside its banks' read registers. Bits Yosys
/// proves constant (pos bits below a scale's trailing zeros, the low bits
/// of a feature sum of shifted integer entries) or unused (index bit 0 of
/// an odd corner) and copies of one signal (sign extensions, the slot
/// number every unit and the top register alike) are not counted.
pub fn unit_registers(p: &HashGridParams, u: usize) -> u64 {
    let levels = p.unit_levels(u);
    let multi = p.slots() > 1;
    let d = p.dims() as u64;
    let corners = 1u64 << d;
    let pairs = corners / 2;
    let xw = p.coord_width();
    let wb = p.weight_frac_bits;
    let fw = (wb + 1) as u64;
    let gw = levels.iter().map(|&l| p.grid_width(l)).max().unwrap_or(1);
    let frac = p.coord_frac_bits + p.scale_frac_bits;
    // Stage 1: pos = x * SCALE + 1/2, its bits below the scale's trailing
    // zeros constant.
    let codes: Vec<u64> = levels.iter().map(|&l| p.scale_code(l)).collect();
    let tz = codes.iter().map(|c| c.trailing_zeros()).min().unwrap_or(0);
    let scale_bits = codes.iter().map(|&c| bits_for(c)).max().unwrap_or(1) - tz;
    let product_top = tz
        + xw
        + if levels.len() == 1 && codes[0] >> tz == 1 {
            0
        } else {
            scale_bits
        };
    let top = if frac - 1 < tz {
        product_top
    } else {
        product_top.max(frac) + 1
    };
    let stage1 = d * (overlap(tz, top, frac, frac + gw) + overlap(tz, top, frac - wb, frac));
    let (ixw, baw) = if multi {
        let baw = clog2(p.unit_bank_depth(u) as u64).max(1);
        (baw + 1, baw)
    } else {
        (
            clog2(p.geometry.levels[levels[0]].size as u64),
            p.bank_addr_width(levels[0]),
        )
    };
    let registered_indices = if p.pipeline_depth >= 6 {
        corners * (ixw as u64 + fw) - pairs
    } else {
        0
    };
    let stage2 = pairs * (2 * baw as u64 + 1) + corners * fw;
    let stage3 = pairs + corners * fw;
    let (a, shift) = multiplier_value_bits(p, &levels);
    let y = a + wb + 2;
    // The registered products: PROD_W = SIG_W + WGT_W + 1 bits, less the
    // constant-zero low bits of a shifted integer entry.
    let products = if p.pipeline_depth >= 5 {
        corners * p.features() as u64 * (a + wb + 1) as u64
    } else {
        0
    };
    let feature = match p.output {
        Some(f) => f.width() as u64,
        None => {
            let sum_top = shift + y + (corners as u32 - 1);
            overlap(shift, sum_top, wb, wb + p.feature_width())
        }
    };
    stage1 + registered_indices + stage2 + stage3 + products + p.features() as u64 * feature
}

/// Register bits of the whole engine; see [`Registers`].
pub fn registers(p: &HashGridParams) -> Registers {
    let slots = p.slots() as u64;
    let depth = p.pipeline_depth as u64;
    let mut control = depth;
    if slots > 1 {
        let slot_w = clog2(slots).max(1) as u64;
        control += depth * slot_w
            + 1
            + slot_w
            + p.dims() as u64 * p.coord_width() as u64
            + (slots - 1) * p.level_units as u64 * p.features() as u64 * p.out_width() as u64;
    }
    Registers {
        control,
        units: (0..p.level_units as usize).map(|u| unit_registers(p, u)).sum(),
        bank_reads: banks(p).iter().map(|&(_, w)| w as u64).sum(),
    }
}

/// Logic of the engine a cost model weighs, by kind (target-independent
/// counts; where multiplies and memories go is the target's).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LogicCounts {
    /// Level units.
    pub units: f64,
    /// Adder bits of the weighted-feature sums: F x (2^D - 1) adders per unit.
    pub sum_bits: f64,
    /// Index logic per corner and served level: XOR of log2 T bits per
    /// axis (hashed), or the stride sum, compare and subtract (dense).
    pub index_bits: f64,
    /// Float entry decoders: instances x feature bits x log2(shifts), the
    /// shifts between truncation to zero and saturation (a barrel shifter
    /// by the exponent); integer decoders are wiring.
    pub decode_bits: f64,
    /// Output rounders: instances x sum bits x log2(sum bits).
    pub round_bits: f64,
    /// Multiplexers: the corner words' swap, the bank addresses, the
    /// slot selections of a time-multiplexed unit (bank addresses, and
    /// feature values where its levels need different decoders) and the
    /// write address.
    pub mux_bits: f64,
    /// Per-axis arithmetic: 1 - weight, vertex + 1, pos + 1/2, clamp.
    pub axis_bits: f64,
    /// Float entry decoders as the generator writes them, summed over
    /// instances: the right shifter's stage bits (stage k of the shift by r
    /// keeps the significand's MB + 2^(k+1) top bits that can be nonzero,
    /// at most the MB + MAG_W bits of the shifted value) plus the
    /// saturating magnitude multiplexer's MAG_W bits.
    pub decoder_shift_bits: f64,
    /// Float entry decoders' exponent bits, summed over instances: the
    /// exponent logic (decrement, the two window compares, the all-ones
    /// and nonzero tests) is a few carry chains and LUTs per exponent bit.
    pub decoder_exp_bits: f64,
    /// Output rounders' input (sum) bits, summed over instances.
    pub rounder_sum_bits: f64,
    /// Float entry decoders' truth-table bound, summed over instances:
    /// each output bit of a decoder is a function of the code's bits alone
    /// (sign, exponent, mantissa), which a LUT6 computes for a code of six
    /// bits or fewer and 2^(bits - 6) LUT6s (a multiplexer tree) for a
    /// wider one; so FEAT_W x 2^(code bits - 6), at least FEAT_W. ABC,
    /// given the flattened netlist, maps the decoders of small codes (FP6,
    /// FP4) that way instead of as the shifter the generator writes.
    pub decoder_table_bits: f64,
}

/// Logic counts of the engine.
pub fn logic_counts(p: &HashGridParams) -> LogicCounts {
    let d = p.dims() as f64;
    let corners = (1u64 << p.dims()) as f64;
    let nf = p.features() as f64;
    let vb = p.feature_width() as f64;
    let log2 = |x: f64| x.max(2.0).log2();
    let mut c = LogicCounts::default();
    let multi = p.slots() > 1;
    for u in 0..p.level_units as usize {
        let levels = p.unit_levels(u);
        let (a, _) = multiplier_value_bits(p, &levels);
        let y = (a + p.weight_frac_bits + 2) as f64;
        c.units += 1.0;
        c.sum_bits += nf * (corners - 1.0) * (y + log2(corners));
        for &l in &levels {
            let lv = p.geometry.levels[l];
            c.index_bits += corners
                * if lv.hashed {
                    (d - 1.0) * p.geometry.log2_table_size as f64
                } else {
                    (d + 1.0) * p.index_width(l) as f64
                };
        }
        if let EntryFormat::Float(f) = p.entry {
            // The decoder shifts the significand by the exponent: a barrel
            // shifter of FEAT_W output bits whose stages cover the shifts
            // that matter (below them the value truncates to zero, above
            // them it saturates: FEAT_W + mantissa bits shifts, fewer when
            // the exponent field has fewer codes), then negates.
            let shifts = (((1u64 << f.exp_bits) - 1) as f64).min(vb + f.man_bits as f64);
            c.decode_bits += corners * nf * vb * log2(shifts);
            let mag_w = p.feature_int_bits + p.feature_frac_bits;
            let full_w = f.man_bits + mag_w;
            let rw = bits_for((mag_w - 1 + f.man_bits) as u64);
            let stages: u32 = (0..rw).map(|k| full_w.min(f.man_bits + (2 << k))).sum();
            c.decoder_shift_bits += corners * nf * (stages + mag_w) as f64;
            c.decoder_exp_bits += corners * nf * f.exp_bits as f64;
            c.decoder_table_bits += corners * nf * vb * 2f64.powi(f.width() as i32 - 6).max(1.0);
        }
        if p.output.is_some() {
            let s = p.sum_width() as f64;
            c.round_bits += nf * s * log2(s);
            c.rounder_sum_bits += nf * s;
        }
        let baw = if multi {
            clog2(p.unit_bank_depth(u) as u64).max(1)
        } else {
            p.bank_addr_width(levels[0])
        } as f64;
        let served = levels.len() as f64;
        // A unit serving S > 1 levels chooses among S bank addresses (and
        // bank bits) per corner, and among its decoders' values per corner
        // feature: one decoder per distinct scale shift of integer entries,
        // one shared by every level otherwise (no choice).
        c.mux_bits += corners * p.word_width() as f64
            + corners * baw
            + (served - 1.0) * corners * (baw + 1.0)
            + (decoders_per_value(p, &levels) - 1) as f64 * corners * nf * a as f64;
        let gw = levels.iter().map(|&l| p.grid_width(l)).max().unwrap_or(1) as f64;
        c.axis_bits += d * ((p.weight_frac_bits + 1) as f64 + gw + 1.0 + p.coord_width() as f64);
    }
    c
}

/// Further structural counts, candidates for the fitted logic features.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExtraCounts {
    /// XOR bits of the hashed indices: corners x (D - 1) x log2 T per hashed level.
    pub hashed_index_bits: f64,
    /// Dense index bits: corners x (D + 1) x index width per dense level.
    pub dense_index_bits: f64,
    /// Float entry decoders (instances).
    pub decoders: f64,
    /// Float decoders x feature bits x exponent bits (a barrel shifter).
    pub decoder_shift_bits: f64,
    /// Output rounders (instances).
    pub rounders: f64,
    /// Slots of a time-multiplexed engine less one, times units.
    pub slots: f64,
}

/// [`ExtraCounts`] of the engine.
pub fn extra_counts(p: &HashGridParams) -> ExtraCounts {
    let d = p.dims() as f64;
    let corners = (1u64 << p.dims()) as f64;
    let nf = p.features() as f64;
    let mut c = ExtraCounts::default();
    for u in 0..p.level_units as usize {
        let levels = p.unit_levels(u);
        for &l in &levels {
            let lv = p.geometry.levels[l];
            if lv.hashed {
                c.hashed_index_bits += corners * (d - 1.0) * p.geometry.log2_table_size as f64;
            } else {
                c.dense_index_bits += corners * (d + 1.0) * p.index_width(l) as f64;
            }
        }
        if let EntryFormat::Float(f) = p.entry {
            c.decoders += corners * nf;
            c.decoder_shift_bits += corners * nf * p.feature_width() as f64 * f.exp_bits as f64;
        }
        if p.output.is_some() {
            c.rounders += nf;
        }
        c.slots += levels.len() as f64 - 1.0;
    }
    c
}

/// The multiplications of the whole engine.
pub fn products(p: &HashGridParams) -> Vec<Product> {
    (0..p.level_units as usize).flat_map(|u| unit_products(p, u)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::params::HashGridSpec;
    use super::*;

    #[test]
    fn banks_map_to_primitives() {
        assert_eq!(ICE40_4K.count(256, 32), 2);
        assert_eq!(ICE40_4K.count(2048, 32), 16);
        assert_eq!(RAMB18.count(256, 32), 1);
        assert_eq!(RAMB36.count(2048, 32), 2);
        assert_eq!(RAMB36.count(2048, 16), 1);
        let p = HashGridSpec {
            levels: 1,
            base_resolution: 40,
            log2_table_size: 9,
            ..HashGridSpec::default()
        }
        .validate()
        .expect("valid");
        let m = memory(&p);
        assert_eq!((m.banks, m.bits, m.entries_per_cycle), (4, 4 * 256 * 32, 4));
        assert_eq!(m.primitives[2], ("iCE40 SB_RAM40_4K", 8));
        assert_eq!(m.primitives[1], ("xc7 RAMB18", 4));
        assert_eq!(m.points_per_cycle(), 1.0);
    }

    #[test]
    fn time_multiplexed_units_share_deeper_banks() {
        // L = 8 levels of 2^9 entries (hashed from level 1) over P = 2 units.
        let spec = HashGridSpec {
            levels: 8,
            base_resolution: 40,
            log2_table_size: 9,
            ..HashGridSpec::default()
        };
        let full = memory(&spec.validate().expect("valid"));
        let p = HashGridSpec {
            level_units: Some(2),
            ..spec.clone()
        }
        .validate()
        .expect("valid");
        let m = memory(&p);
        assert_eq!(banks(&p).len(), 2 * 2 * 2);
        assert_eq!(banks(&p)[0], (4 * 256, 32));
        assert_eq!(m.bits, full.bits);
        assert_eq!((m.entries_per_cycle, m.cycles_per_point), (8, 4));
        assert_eq!(m.points_per_cycle(), 0.25);
        // Deeper banks pack block RAM better: 1024 x 32 is 8 iCE40 blocks, 4 x (256 x 32) too,
        // but one RAMB36 instead of four RAMB18.
        assert!(m.primitives[0].1 <= full.primitives[0].1);
        // P = 3 does not divide 8: units 0 and 1 serve 3 levels, unit 2 two.
        let p = HashGridSpec {
            level_units: Some(3),
            ..spec
        }
        .validate()
        .expect("valid");
        assert_eq!(p.slots(), 3);
        assert_eq!(p.unit_levels(2), vec![2, 5]);
        assert_eq!(banks(&p)[8], (2 * 256, 32));
    }

    /// Register bits outside the banks for designs of the calibration set
    /// (`reports/calibration/hashgrid_points.csv`), against what Yosys 0.23
    /// keeps with the tables in iCE40 block RAM, which absorbs the read
    /// registers: the rest is what iCE40 adds around each block RAM
    /// (read-first emulation), a fitted term of the model.
    #[test]
    fn registers_match_yosys_with_tables_in_block_ram() {
        use crate::mac::params::FormatSpec;
        // Two levels time-multiplexed on one unit, depth 6, int4 entries, fp16 outputs.
        let multiplexed = HashGridSpec {
            levels: 2,
            features: 1,
            log2_table_size: 8,
            base_resolution: 4,
            per_level_scale: 1.5,
            table: FormatSpec::Name("int4".into()),
            coord_frac_bits: 8,
            scale_frac_bits: 12,
            weight_frac_bits: 10,
            feature_frac_bits: 16,
            level_units: Some(1),
            pipeline_depth: 6,
            output: Some(FormatSpec::Name("fp16".into())),
            ..HashGridSpec::default()
        }
        .validate()
        .expect("valid");
        let r = registers(&multiplexed);
        // Yosys: 338 on ice40-nodsp, with the tables in 4 block RAMs (each
        // registered product is PROD_W = 13 + 10 + 1 bits, the 9 low bits
        // constant zero: 15 kept).
        assert_eq!(r.control + r.units, 324);
        // One level of two bf16 features, depth 4, fixed-point outputs.
        let single = HashGridSpec {
            levels: 1,
            features: 2,
            log2_table_size: 8,
            base_resolution: 8,
            per_level_scale: 2.0,
            table: FormatSpec::Name("bf16".into()),
            coord_frac_bits: 16,
            scale_frac_bits: 12,
            weight_frac_bits: 8,
            feature_frac_bits: 12,
            ..HashGridSpec::default()
        }
        .validate()
        .expect("valid");
        let r = registers(&single);
        // Yosys: 224 on ice40 and ice40-nodsp, with the tables in 8 block RAMs.
        assert_eq!(r.control + r.units, 158);
        assert_eq!(r.bank_reads, 4 * 32);
    }

    /// The decoders' truth-table bound: one LUT6 per output bit for a code
    /// of at most six bits (FP4 and FP6 below the shifter count), 2^(bits -
    /// 6) for a wider one (bf16's 1024 per bit leaves the shifter count
    /// the smaller); integer entries have no decoder.
    #[test]
    fn decoder_table_bound_is_per_output_bit() {
        use crate::mac::params::FormatSpec;
        let counts = |table: &str| {
            let p = HashGridSpec {
                levels: 1,
                features: 2,
                log2_table_size: 8,
                table: FormatSpec::Name(table.into()),
                feature_int_bits: 2,
                feature_frac_bits: 12,
                ..HashGridSpec::default()
            }
            .validate()
            .expect("valid");
            logic_counts(&p)
        };
        // 2D: 4 corners x 2 features = 8 decoders of 15 output bits.
        for fp in ["e2m1fn", "e3m2fn"] {
            let c = counts(fp);
            assert_eq!(c.decoder_table_bits, 8.0 * 15.0, "{fp}");
            assert!(c.decoder_table_bits < c.decoder_shift_bits, "{fp}: {c:?}");
            assert!(c.decoder_table_bits < c.decode_bits, "{fp}: {c:?}");
        }
        assert_eq!(counts("e4m3fn").decoder_table_bits, 8.0 * 15.0 * 4.0);
        let bf16 = counts("bf16");
        assert_eq!(bf16.decoder_table_bits, 8.0 * 15.0 * 1024.0);
        assert!(bf16.decoder_table_bits > bf16.decoder_shift_bits && bf16.decoder_table_bits > bf16.decode_bits);
        assert_eq!(counts("int8").decoder_table_bits, 0.0);
    }
}

//! The streaming hash-grid encoding engine: one point per cycle, all L
//! levels in parallel, each level a unit with its own table memories.
//!
//! Pipeline of a level unit (every register advances on `en_i`):
//! 1. `pos = x * SCALE + 1/2` per dimension; the grid coordinate and the
//!    top `WGT_W` fraction bits (the weight) are registered.
//! 2. Per corner: the table index (dense with one conditional subtract, or
//!    the XOR-prime hash masked to log2 T bits) and the corner weight;
//!    per x-pair of corners the even and odd bank addresses are registered.
//! 3. Block-RAM reads: every bank has one registered read port.
//! 4. Entries are decoded to fixed point, multiplied by their weights and
//!    summed; the sum divided by 2^WGT_W is the registered feature.
//!
//! Banking: with prime 1 on x, the two corners of an x-pair differ in index
//! bit 0, on dense and hashed levels alike, so a table split into an even and
//! an odd bank on bit 0 serves a pair without conflict. The 2^(D-1) pairs
//! read replicas of that bank pair: 2^(D-1) copies of each table.

use super::cost::{decoders_per_value, index_constant, slot_product_levels, slot_scale_shift};
use super::params::{EntryFormat, HashGridParams, PRIMES};
use crate::ir::{Expr, Module, ModuleBuilder, ModuleDoc, ResetStyle, Signal, Ty, Width, concat, drive, mux, sink};
use crate::minifloat::round::{RoundInput, rounder};
use crate::minifloat::{FloatFormat, OnOverflow, Specials};
use crate::params::{bits_for, clog2};

const AXES: [&str; 3] = ["x", "y", "z"];

/// Cycles from a point's acceptance to its features on `out_data_o` at the
/// default pipeline depth with every level in its own unit.
pub const LATENCY: u32 = 4;

/// Name of the top module.
pub fn name(p: &HashGridParams) -> String {
    format!("accgen_hashgrid_{}", p.tag())
}

/// Name of level `l`'s unit (one level per unit, P = L).
pub fn level_name(p: &HashGridParams, l: usize) -> String {
    format!("{}_level{l}", name(p))
}

/// Name of unit `u`: `..._level<u>` when it serves one level, `..._unit<u>`
/// when it time-multiplexes several.
pub fn unit_name(p: &HashGridParams, u: usize) -> String {
    if p.slots() == 1 {
        level_name(p, u)
    } else {
        format!("{}_unit{u}", name(p))
    }
}

/// Cycles from a point's acceptance to its features on `out_data_o`:
/// the pipeline depth for the last slot, which enters the units
/// `slots - 1` cycles after the first.
pub fn latency(p: &HashGridParams) -> u32 {
    p.pipeline_depth + p.slots() - 1
}

/// Latency and throughput, one line each, for manifests and `accgen cost`.
pub fn timing_lines(p: &HashGridParams) -> Vec<String> {
    let slots = p.slots();
    vec![
        format!(
            "a point's L * F features appear {} cycles after it is accepted",
            latency(p)
        ),
        if slots == 1 {
            "one point per cycle; all levels in parallel".into()
        } else {
            format!(
                "one point every {slots} cycles (P/L = {}/{} points per cycle): {} level units time-multiplex the {} levels",
                p.level_units,
                p.levels(),
                p.level_units,
                p.levels()
            )
        },
    ]
}

/// The `$readmemh` file of a bank of unit `u` (`even` or `odd`): named
/// after the level when a unit serves one level.
pub fn init_file(p: &HashGridParams, u: usize, odd: bool) -> String {
    let bank = if odd { "odd" } else { "even" };
    if p.slots() == 1 {
        format!("{}_l{u}_{bank}.hex", name(p))
    } else {
        format!("{}_u{u}_{bank}.hex", name(p))
    }
}

/// The hex file contents of a bank of unit `u`: one word per line; level
/// `l`'s entry `2a + odd` at line `bank_offset(l) + a`.
pub fn init_file_text(model: &super::model::HardwareModel, u: usize, odd: bool) -> String {
    let p = &model.p;
    let digits = p.word_width().div_ceil(4) as usize;
    let mut s = String::new();
    for l in p.unit_levels(u) {
        for a in 0..p.geometry.levels[l].size / 2 {
            let w = model.word(l, 2 * a + odd as u32);
            s.push_str(&format!("{w:0digits$x}\n"));
        }
    }
    s
}

/// Name of the entry decoder for a left shift `shift` (integer entries) or a float format.
fn decoder_name(p: &HashGridParams, shift: u32) -> String {
    let q = format!("q{}p{}", p.feature_int_bits, p.feature_frac_bits);
    match p.entry {
        EntryFormat::Float(f) => format!(
            "accgen_hashgrid_decode_{}{}_{q}",
            f.tag(),
            if f.subnormals { "" } else { "_nosub" }
        ),
        EntryFormat::Int(i) => format!("accgen_hashgrid_decode_{}_sh{shift}_{q}", i.tag()),
    }
}

/// The combinational entry decoder: an entry code in, a signed fixed-point feature out.
pub fn decoder(p: &HashGridParams, shift: u32) -> Module {
    let vb = p.feature_width();
    let ew = p.entry.width();
    let (ib, fb) = (p.feature_int_bits, p.feature_frac_bits);
    let title = match p.entry {
        EntryFormat::Float(f) => format!(
            "{} table entry to a {vb}-bit fixed-point feature ({fb} fraction bits)",
            f.tag()
        ),
        EntryFormat::Int(i) => format!("{i} table entry times 2^{shift} / 2^{fb}: a {vb}-bit fixed-point feature"),
    };
    let mut m = ModuleBuilder::new(
        decoder_name(p, shift),
        ModuleDoc {
            title,
            description: vec![match p.entry {
                EntryFormat::Float(_) => format!(
                    "The code's exact value times 2^{fb}, truncated toward zero and saturated to +-(2^{} - 1); NaN reads as 0, infinities as the saturated value. Combinational.",
                    ib + fb
                ),
                EntryFormat::Int(_) => format!(
                    "Sign-extended and shifted left by {shift}: exact, no saturation needed (checked when the parameters were validated). Combinational."
                ),
            }],
            ..Default::default()
        },
    );
    let code = m.input("code_i", Ty::u(ew), "table entry code");
    let value = m.output("value_o", Ty::s(vb), "fixed-point feature");
    match p.entry {
        EntryFormat::Int(_) => {
            let signed = m.wire_of("code_s", code.e().cast(true), "the code as a signed integer");
            let ext = signed.e().sext(vb);
            let ext = m.wire_of("code_ext", ext, "sign-extended code");
            m.assign(&value, ext.e().shl(shift));
        }
        EntryFormat::Float(f) => float_decoder(&mut m, &f, p, &code, &value),
    }
    m.finish()
}

fn float_decoder(m: &mut ModuleBuilder, f: &FloatFormat, p: &HashGridParams, code: &Signal, value: &Signal) {
    let (eb, mb) = (f.exp_bits, f.man_bits);
    let (ib, fb) = (p.feature_int_bits as i64, p.feature_frac_bits as i64);
    let vb = p.feature_width();
    let mag_w = (ib + fb) as u32;
    // The shift k of the significand (value * 2^fb = sig * 2^k) is sh + KMIN,
    // sh = max(e, 1) - 1.
    let kmin = 1 - f.bias as i64 - mb as i64 + fb;
    let zero_below = -(mb as i64) - kmin; // sh below this: sig * 2^k < 1
    let sat_from = ib + fb - kmin; // sh from this: sig * 2^k >= 2^(ib+fb)
    let sh_max = (1i64 << eb) - 2;
    m.section(
        "Fields",
        &[&format!(
            "value * 2^{fb} = sig * 2^(sh + {kmin}), sh = max(e, 1) - 1: below sh = {zero_below} it truncates to 0, from sh = {sat_from} it saturates."
        )],
    );
    let sign = m.wire_of("sign", code.bit(eb + mb), "sign bit");
    let exp = m.wire_of("exp", code.select(mb, eb), "exponent field");
    let man = (mb > 0).then(|| m.wire_of("man", code.select(0u32, mb), "mantissa field"));
    let normal = m.wire_of("normal", exp.e().reduce_or(), "exponent field nonzero");
    let hidden = if f.subnormals { normal.e() } else { Ty::BIT.lit(1) };
    let sig_raw = match &man {
        Some(man) => concat(vec![hidden, man.e()]),
        None => hidden,
    };
    let sig_w = mb + 1;
    let sig = if f.subnormals {
        m.wire_of("sig", sig_raw, "significand: hidden bit and mantissa")
    } else {
        m.wire_of(
            "sig",
            mux(normal.e(), sig_raw, Ty::u(sig_w).zero()),
            "significand; subnormal codes read as zero",
        )
    };
    let sh = m.wire_of(
        "sh",
        mux(normal.e(), exp.e() - Ty::u(eb).lit(1), Ty::u(eb).zero()),
        "shift above the smallest exponent",
    );
    let const_bit = |b: bool| Ty::BIT.lit(b as i128);
    let tiny = if zero_below <= 0 {
        const_bit(false)
    } else if zero_below > sh_max {
        const_bit(true)
    } else {
        sh.e().lt(Ty::u(eb).lit(zero_below as i128))
    };
    let nonzero = sig.e().reduce_or();
    let huge = if sat_from <= 0 {
        nonzero.clone()
    } else if sat_from > sh_max {
        const_bit(false)
    } else {
        sh.e().ge(Ty::u(eb).lit(sat_from as i128)) & nonzero
    };
    let tiny = m.wire_of("tiny", tiny, "truncates to zero");
    let huge = m.wire_of("huge", huge, "saturates");
    // Inside the window k = sh + KMIN is -MB .. MAG_W - 1: the magnitude is
    // floor(sig * 2^k) = (sig << (MAG_W - 1)) >> r with r = MAG_W - 1 - k.
    let top = mag_w as i64 - 1;
    let r_max = (top + mb as i64).max(0) as u64;
    let rw = bits_for(r_max);
    let r_const = (sat_from - 1).rem_euclid(1i64 << rw);
    let sh_r = if eb <= rw { sh.e().zext(rw) } else { sh.select(0u32, rw) };
    let r = m.wire_of(
        "r",
        Ty::u(rw).lit(r_const as i128) - sh_r,
        &format!(
            "right shift {} - sh, modulo 2^{rw} (meaningful inside the window)",
            sat_from - 1
        ),
    );
    let full_w = sig_w + top.max(0) as u32;
    let placed = if top > 0 {
        concat(vec![sig.e(), Ty::u(top as u32).zero()])
    } else {
        sig.e()
    };
    let mag_full = m.wire_of(
        "mag_full",
        placed.shr_by(r.e()),
        "floor(sig * 2^k): the truncated magnitude",
    );
    let over = if full_w > mag_w {
        m.wire_of(
            "over",
            mag_full.select(mag_w, full_w - mag_w).reduce_or(),
            "magnitude beyond the feature range",
        )
        .e()
    } else {
        Ty::BIT.lit(0)
    };
    let (nan, inf) = match f.specials {
        Specials::Ieee => {
            let top = exp.e().reduce_and();
            match &man {
                Some(man) => (top.clone() & man.e().reduce_or(), top & !man.e().reduce_or()),
                None => (Ty::BIT.lit(0), top),
            }
        }
        Specials::Fn => {
            let all = match &man {
                Some(man) => exp.e().reduce_and() & man.e().reduce_and(),
                None => exp.e().reduce_and(),
            };
            (all, Ty::BIT.lit(0))
        }
        Specials::Fnuz => (code.e().eq(Ty::u(eb + mb + 1).pattern(f.sign_bit())), Ty::BIT.lit(0)),
        Specials::Finite => (Ty::BIT.lit(0), Ty::BIT.lit(0)),
    };
    let nan = m.wire_of("is_nan", nan, "NaN code: reads as zero");
    let inf = m.wire_of("is_inf", inf, "infinity: reads as the saturated value");
    let maxv = Ty::u(mag_w).ones();
    let mag = m.wire_of(
        "mag",
        mux(
            nan.e(),
            Ty::u(mag_w).zero(),
            mux(
                inf.e() | huge.e() | (over & !tiny.e()),
                maxv,
                mux(tiny.e(), Ty::u(mag_w).zero(), mag_full.select(0u32, mag_w)),
            ),
        ),
        "magnitude, truncated toward zero and saturated",
    );
    let pos = m.wire_of("pos_value", mag.e().zext(vb).cast(true), "magnitude as a signed value");
    m.assign(value, mux(sign.e(), -pos.e(), pos.e()));
}

/// Bits a datapath drops on purpose (truncated fractions, provably zero
/// high bits) go to `unused_<what>`: lowRISC's idiom, which Verilator's
/// default `--unused-regexp *unused*` recognises, so -Wall stays quiet
/// without waivers.
fn drop_bits(m: &mut ModuleBuilder, what: &str, bits: Vec<Expr>) {
    if bits.is_empty() {
        return;
    }
    m.wire_of(
        &format!("unused_{what}"),
        concat(bits).reduce_xor(),
        "bits dropped on purpose (truncation or provably zero)",
    );
}

/// The rounder of an exact weighted sum to the output float format (the
/// minifloat family's, nearest even, saturating).
pub fn output_rounder(p: &HashGridParams, f: FloatFormat) -> Module {
    let input = RoundInput {
        width: p.sum_width(),
        signed: true,
        lsb_exp: -((p.feature_frac_bits + p.weight_frac_bits) as i32),
        special: false,
    };
    rounder(&input, f, OnOverflow::Saturate, 0)
}

/// A multiplexer over slots: `values[s]` when `slot` is `s`; slots beyond
/// the list (a unit idle in the last slot) take the last value, so every
/// address stays inside the unit's memories.
fn slot_mux(slot: &Signal, values: Vec<Expr>) -> Expr {
    let mut it = values.into_iter().enumerate().rev();
    let (_, last) = it.next().unwrap_or_else(|| unreachable!("a unit serves a level"));
    it.fold(last, |acc, (s, v)| {
        mux(slot.e().eq(Ty::u(slot.width()).lit(s as i128)), v, acc)
    })
}

/// The table index of level `l` at one corner: dense (one conditional
/// subtract) or hashed (XOR-prime, low log2 T bits); `clog2(size)` bits.
/// `at` prefixes the wire names (`c<c>`, or `c<c>_l<l>` in a unit that
/// serves several levels); `vertex[k]` is the corner's vertex along axis k
/// (at least the level's grid width + 1 bits); `shared[k]`, where
/// present, is the vertex times the slot's constant and the levels that
/// take their product from it ([`slot_products`]).
fn level_index(
    m: &mut ModuleBuilder,
    p: &HashGridParams,
    l: usize,
    at: &str,
    vertex: &[Signal],
    idx_w: Width,
    shared: &[Option<(Signal, Vec<usize>)>],
) -> Signal {
    let lv = p.geometry.levels[l];
    let size = lv.size;
    let ixw = clog2(size as u64);
    let log2t = p.geometry.log2_table_size;
    let iw = p.index_width(l);
    let mut terms = Vec::new();
    for (k, v) in vertex.iter().enumerate() {
        let vw = v.width();
        if let Some((product, _)) = shared.get(k).and_then(|s| s.as_ref()).filter(|(_, ls)| ls.contains(&l)) {
            // The low bits of vertex * constant depend only on the low bits.
            terms.push(product.select(0u32, iw));
            continue;
        }
        let term = if lv.hashed {
            if vw >= log2t {
                if vw > log2t {
                    drop_bits(m, &format!("{at}_{}", AXES[k]), vec![v.select(log2t, vw - log2t)]);
                }
                v.select(0u32, log2t)
            } else {
                v.e().zext(log2t)
            }
        } else {
            // A shared vertex may be wider than this level needs; its value is below RES.
            if vw > iw { v.select(0u32, iw) } else { v.e().zext(iw) }
        };
        // The hash prime's low log2 T bits, or the dense stride RES^k.
        terms.push(if k == 0 {
            term
        } else {
            term * Ty::u(iw).lit(index_constant(p, l, k).0 as i128)
        });
    }
    let raw = terms
        .into_iter()
        .reduce(|a, b| if lv.hashed { a ^ b } else { a + b })
        .unwrap_or_else(|| unreachable!("D >= 2"));
    if lv.hashed {
        let w = m.wire(
            &format!("{at}_raw"),
            idx_w,
            false,
            "XOR of vertex * prime, low log2 T bits",
        );
        m.assign(&w, raw);
        w
    } else {
        let raw = m.wire_of(&format!("{at}_raw"), raw, "dense index, below 2 * SIZE");
        let wrapped = mux(
            raw.e().ge(Ty::u(iw).lit(size as i128)),
            raw.e() - Ty::u(iw).lit(size as i128),
            raw.e(),
        );
        let wrapped = m.wire_of(&format!("{at}_mod"), wrapped, "index modulo SIZE");
        if iw > ixw {
            drop_bits(m, &format!("{at}_mod"), vec![wrapped.select(ixw, iw - ixw)]);
        }
        let idx = m.wire(&format!("{at}_idx"), idx_w, false, "table index");
        m.assign(&idx, wrapped.select(0u32, ixw));
        idx
    }
}

/// A corner's index products shared by the levels of a time-multiplexed
/// unit ([`slot_product_levels`]): along each axis k whose levels multiply
/// by constants with different odd parts, the vertex times the slot's
/// constant, once, as wide as the widest index (the other levels' slots
/// select the first sharer's constant; their indices do not use it).
/// Written so rather than as one constant product per level, left to
/// Yosys' `share` to merge, because `share` does not always (one
/// multiplication per level then took a DSP block each on ECP5).
fn slot_products(
    m: &mut ModuleBuilder,
    p: &HashGridParams,
    levels: &[usize],
    at: &str,
    vertex: &[Signal],
    slot: &Signal,
) -> Vec<Option<(Signal, Vec<usize>)>> {
    let mut out = vec![None];
    for (k, v) in vertex.iter().enumerate().skip(1) {
        let sharers = slot_product_levels(p, levels, k);
        let Some(&first) = sharers.first() else {
            out.push(None);
            continue;
        };
        let yw = sharers.iter().map(|&l| index_constant(p, l, k).1).max().unwrap_or(1);
        let constants = levels
            .iter()
            .map(|&l| {
                let from = if sharers.contains(&l) { l } else { first };
                Ty::u(yw).lit(index_constant(p, from, k).0 as i128)
            })
            .collect();
        let v = if v.width() > yw {
            v.select(0u32, yw)
        } else {
            v.e().zext(yw)
        };
        let product = m.wire_of(
            &format!("{at}_{}_prod", AXES[k]),
            v * slot_mux(slot, constants),
            &format!(
                "vertex along {} times the slot's level constant (levels {})",
                AXES[k],
                sharers.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
            ),
        );
        out.push(Some((product, sharers)));
    }
    out
}

/// Unit `u`: the levels it serves, one per slot (one level when P = L);
/// `decoders` are the entry decoder modules by shift.
fn unit(p: &HashGridParams, u: usize, decoders: &[(u32, Module)]) -> Module {
    let levels = p.unit_levels(u);
    let multi = p.slots() > 1;
    let lv = p.geometry.levels[levels[0]];
    let d = p.dims() as usize;
    let nf = p.features();
    let xw = p.coord_width();
    let wb = p.weight_frac_bits;
    let vb = p.feature_width();
    let ew = p.entry.width();
    let word_w = p.word_width();
    let frac = p.coord_frac_bits + p.scale_frac_bits;
    let scale_w = levels.iter().map(|&l| p.scale_width(l)).max().unwrap_or(1);
    let gw = levels.iter().map(|&l| p.grid_width(l)).max().unwrap_or(1);
    let depth = p.unit_bank_depth(u);
    let (ixw, baw) = if multi {
        let baw = clog2(depth as u64).max(1);
        (baw + 1, baw)
    } else {
        (clog2(lv.size as u64), p.bank_addr_width(levels[0]))
    };
    let replicas = p.replicas() as usize;
    let acc_w = vb + wb + 1;
    let log2t = p.geometry.log2_table_size;
    let slot_w = clog2(p.slots() as u64).max(1);
    let shift_of = |l: usize| match p.entry {
        EntryFormat::Int(_) => p.feature_frac_bits - p.int_scale_log2[l],
        EntryFormat::Float(_) => 0,
    };
    let shifts: Vec<u32> = levels.iter().map(|&l| shift_of(l)).collect();
    let shared_decoder = decoders_per_value(p, &levels) == 1;
    let decoder_for = |shift: u32| {
        &decoders
            .iter()
            .find(|(s, _)| *s == shift)
            .unwrap_or_else(|| unreachable!("a decoder for every shift"))
            .1
    };
    let describe = |l: usize| {
        let lv = p.geometry.levels[l];
        let size = lv.size;
        if lv.hashed {
            format!(
                "Hashed: index = XOR over axes of (vertex * prime) mod 2^{log2t}, primes {:?}.",
                &PRIMES[..d]
            )
        } else {
            format!(
                "Dense: index = sum of vertex_d * {}^d, minus {size} when it reaches {size} (x <= 1 keeps it below twice the size).",
                lv.res
            )
        }
    };

    let mut doc = if multi {
        let mut description = vec![format!(
            "Serves {} level(s), one per cycle (slot): slot s is level {u} + s * {}; slot_i names the slot of x_i and travels with it.",
            levels.len(),
            p.level_units
        )];
        for (s, &l) in levels.iter().enumerate() {
            let lv = p.geometry.levels[l];
            description.push(format!(
                "Slot {s}: level {l}, scale {} (SCALE {} / 2^{}, res {}), {} entries at bank words {}.. : {}",
                lv.scale,
                p.scale_code(l),
                p.scale_frac_bits,
                lv.res,
                lv.size,
                p.bank_offset(l),
                describe(l)
            ));
        }
        description.push(format!(
            "pos = x * SCALE + 1/2 per axis; the integer part is the grid vertex, the top {wb} fraction bits the weight."
        ));
        description.push(format!(
            "Banks: one even and one odd memory of {depth} words hold all the unit's levels one after another (one deep memory maps to fewer block RAMs than one per level); {replicas} replica(s) of the pair serve the {} x-pairs of corners in one cycle. The load port writes every replica.",
            1 << (d - 1)
        ));
        ModuleDoc {
            title: format!(
                "hash-grid level unit {u}: levels {levels:?} time-multiplexed, tables of {} entries x {nf} {}",
                2 * depth,
                p.entry
            ),
            description,
            params: vec![
                (
                    "DEPTH".into(),
                    depth.to_string(),
                    "words of a bank: half of every served level's entries".into(),
                ),
                (
                    "X_W".into(),
                    xw.to_string(),
                    format!("coordinate bits: {} fraction + 1", p.coord_frac_bits),
                ),
                ("ENTRY_W".into(), ew.to_string(), format!("bits of a {} entry", p.entry)),
            ],
            timing: vec![],
        }
    } else {
        let l = levels[0];
        let size = lv.size;
        let scale = p.scale_code(l);
        ModuleDoc {
            title: format!(
                "hash-grid level {l}: scale {} (res {}), {} table of {size} entries x {nf} {}",
                lv.scale,
                lv.res,
                if lv.hashed { "hashed" } else { "dense" },
                p.entry
            ),
            description: vec![
                format!(
                    "pos = x * {scale}/2^{} + 1/2 per axis (the f32 scale {} of tiny-cuda-nn rounded on the host); the integer part is the grid vertex, the top {wb} fraction bits the weight.",
                    p.scale_frac_bits, lv.scale
                ),
                describe(l),
                format!(
                    "Banks: even and odd entries in separate memories of {} words; {replicas} replica(s) of the pair serve the {} x-pairs of corners in one cycle. The load port writes every replica.",
                    size / 2,
                    1 << (d - 1)
                ),
            ],
            params: vec![
                (
                    "SCALE".into(),
                    scale.to_string(),
                    format!("round(scale * 2^{}), scale = {} (f32)", p.scale_frac_bits, lv.scale),
                ),
                (
                    "RES".into(),
                    lv.res.to_string(),
                    "vertices per axis: ceil(scale) + 1".into(),
                ),
                (
                    "SIZE".into(),
                    size.to_string(),
                    format!("entries: min(next_multiple(RES^{d}, 8), T)"),
                ),
                (
                    "X_W".into(),
                    xw.to_string(),
                    format!("coordinate bits: {} fraction + 1", p.coord_frac_bits),
                ),
                ("ENTRY_W".into(), ew.to_string(), format!("bits of a {} entry", p.entry)),
            ],
            timing: vec![],
        }
    };
    doc.timing = vec![format!(
        "{} cycles from x_i to feat_o, advancing on en_i",
        p.pipeline_depth
    )];
    let mut m = ModuleBuilder::new(unit_name(p, u), doc);
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let en = m.input("en_i", Ty::BIT, "pipeline advances");
    let x = m.input(
        "x_i",
        Ty::u(d as u32 * xw),
        "coordinates, axis d at [d*X_W +: X_W], at most 1.0",
    );
    // A unit serving one level of a time-multiplexed engine needs no slot.
    let slot_in = (levels.len() > 1).then(|| m.input("slot_i", Ty::u(slot_w), "slot of x_i: level u + slot * P"));
    let we = m.input("we_i", Ty::BIT, "write table entry waddr_i");
    let waddr = m.input(
        "waddr_i",
        Ty::u(ixw),
        if multi {
            "entry to write: 2 * (the level's first bank word) + its index in the level"
        } else {
            "entry to write"
        },
    );
    let wdata = m.input("wdata_i", Ty::u(word_w), "entry: feature f at [f*ENTRY_W +: ENTRY_W]");
    let feat = match p.output {
        None => m.output(
            "feat_o",
            Ty::u(nf * vb),
            "features, f at [f*FEAT_W +: FEAT_W], signed fixed point",
        ),
        Some(f) => m.output(
            "feat_o",
            Ty::u(nf * p.out_width()),
            &format!("features, f at [f*OUT_W +: OUT_W], {f} codes"),
        ),
    };

    let grid_w = m.localparam(
        "GRID_W",
        gw as i64,
        &if multi {
            "bits of a vertex coordinate, corner included, on the finest level served".to_string()
        } else {
            format!("bits of a vertex coordinate, corner included (<= RES = {})", lv.res)
        },
    );
    let wgt_w = m.localparam("WGT_W", wb as i64, "weight fraction bits");
    let cwgt_w = m.localparam(
        "CWGT_W",
        (wb + 1) as i64,
        "WGT_W + 1: a weight factor or corner weight, up to 1.0",
    );
    let idx_w = m.localparam(
        "IDX_W",
        ixw as i64,
        &if multi {
            "BANK_AW + 1: bits of an entry address in the unit's tables".to_string()
        } else {
            format!("clog2(SIZE = {}): bits of a table index", lv.size)
        },
    );
    let bank_aw = m.localparam(
        "BANK_AW",
        baw as i64,
        if multi {
            "clog2(DEPTH): bits of a bank address"
        } else {
            "IDX_W - 1: bits of a bank address (SIZE/2 words)"
        },
    );
    let word_w_p = m.localparam(
        "WORD_W",
        word_w as i64,
        &format!("F * {ew}: one table word of F {} entries", p.entry),
    );
    let feat_w = m.localparam("FEAT_W", vb as i64, "1 sign + integer + fraction bits of a feature");
    let acc_w_p = m.localparam("ACC_W", acc_w as i64, "FEAT_W + WGT_W + 1: exact weighted sum");
    // Depth 5 and up registers the weighted features: each register holds
    // exactly the product's significant bits, so that Yosys' `wreduce` finds
    // nothing to narrow (a narrowed product under a wider register makes
    // one product bit drive two register bits, and Yosys 0.23's
    // `ice40_dsp`/`xilinx_dsp` then pack the register and leave its sign bit
    // undriven). The sum sign-extends the registered products.
    let prod_widths = (p.pipeline_depth >= 5).then(|| {
        let sig = super::cost::value_bits(p, &levels);
        if sig == vb {
            // A float entry fills the feature: the product fills ACC_W.
            return (sig, None, acc_w_p.clone());
        }
        let sig_p = m.localparam(
            "SIG_W",
            sig as i64,
            "significant bits of a decoded feature: entry bits + the largest shift",
        );
        let prod_p = m.localparam(
            "PROD_W",
            (sig + wb + 1) as i64,
            "SIG_W + WGT_W + 1: a signed feature times an unsigned WGT_W + 1-bit corner weight",
        );
        (sig, Some(sig_p), prod_p)
    });
    let rounder = p.output.map(|f| output_rounder(p, f));
    let out_w_p = p
        .output
        .map(|f| m.localparam("OUT_W", f.width() as i64, &format!("bits of an output feature: {f}")));
    let slot_w_p = slot_in
        .is_some()
        .then(|| m.localparam("SLOT_W", slot_w as i64, &format!("clog2({}) slots", p.slots())));

    // ---- Stage 1: positions.
    m.section(
        "Stage 1: positions",
        &["pos = x * SCALE + 1/2 exactly; vertex = floor(pos), weight = top WGT_W fraction bits."],
    );
    let pw = (xw + scale_w + 1).max(frac + gw);
    // A unit of several levels multiplies by the slot's scale without the
    // trailing zero bits all its levels' scales share, and shifts the
    // product instead: the multiplier is as wide as the scales differ
    // (Yosys does not always drop constant low bits behind a multiplexer,
    // and a wider operand can take a second DSP block).
    let (scale_e, scale_shift) = match &slot_in {
        Some(slot) => {
            let shift = slot_scale_shift(p, &levels);
            let values = levels
                .iter()
                .map(|&l| Ty::u(scale_w - shift).lit((p.scale_code(l) >> shift) as i128))
                .collect();
            let doc = if shift == 0 {
                format!("the slot's level scale, {} fraction bits", p.scale_frac_bits)
            } else {
                format!(
                    "the slot's level scale / 2^{shift} (every level's scale is a multiple), {} fraction bits",
                    p.scale_frac_bits - shift.min(p.scale_frac_bits)
                )
            };
            let sel = m.wire_of("scale", slot_mux(slot, values), &doc);
            (sel.e().zext(pw), shift)
        }
        None => (Ty::u(pw).lit(p.scale_code(levels[0]) as i128), 0),
    };
    let slot_q = slot_in.as_ref().map(|slot| {
        let r = m.reg(
            "slot_q",
            slot_w_p.as_ref().unwrap_or_else(|| unreachable!()),
            false,
            "slot of the stage-1 point",
        );
        m.process(&clk, |pr| {
            pr.enable(en.e());
            pr.set(&r, slot.e());
        });
        r
    });
    let mut g_q = Vec::new();
    let mut w_q = Vec::new();
    for (k, axis) in AXES.iter().enumerate().take(d) {
        let pos = m.wire_of(
            &format!("pos_{axis}"),
            if scale_shift == 0 {
                x.select(k as u32 * xw, xw).zext(pw) * scale_e.clone()
            } else {
                (x.select(k as u32 * xw, xw).zext(pw) * scale_e.clone()).shl(scale_shift)
            } + Ty::u(pw).lit(1i128 << (frac - 1)),
            &format!("{axis} * SCALE + 1/2, {frac} fraction bits"),
        );
        let mut dropped = Vec::new();
        if frac > wb {
            dropped.push(pos.select(0u32, frac - wb));
        }
        if pw > frac + gw {
            dropped.push(pos.select(frac + gw, pw - frac - gw));
        }
        drop_bits(&mut m, &format!("pos_{axis}"), dropped);
        let g = m.reg(
            &format!("grid_{axis}_q"),
            &grid_w,
            false,
            &format!("vertex below {axis}"),
        );
        let w = m.reg(
            &format!("wgt_{axis}_q"),
            &wgt_w,
            false,
            &format!("weight of the vertex above {axis}"),
        );
        m.process(&clk, |pr| {
            pr.enable(en.e());
            pr.set(&g, pos.select(frac, gw));
            pr.set(&w, pos.select(frac - wb, wb));
        });
        g_q.push(g);
        w_q.push(w);
    }

    // ---- Stage 2: indices and weights.
    m.section(
        "Stage 2: corner indices and weights",
        &[if multi {
            "Corner c has bit d set for +1 along axis d. Each served level computes its index; the slot's is offset to the level's place in the banks. Weights multiply in axis order, each product truncated to WGT_W fraction bits."
        } else {
            "Corner c has bit d set for +1 along axis d. Weights multiply in axis order, each product truncated to WGT_W fraction bits."
        }],
    );
    let fw = wb + 1;
    let mut one_minus = Vec::new();
    for (k, axis) in AXES.iter().enumerate().take(d) {
        let lo = m.wire(
            &format!("wgt_{axis}_lo"),
            &cwgt_w,
            false,
            &format!("1 - weight along {axis}"),
        );
        m.assign(&lo, Ty::u(fw).lit(1i128 << wb) - w_q[k].e().zext(fw));
        one_minus.push(lo);
    }
    let mut index = Vec::new();
    let mut cweight = Vec::new();
    for c in 0..(1usize << d) {
        let mut vertex = Vec::new();
        for k in 0..d {
            let bit = (c >> k) & 1;
            let v = if bit == 1 {
                g_q[k].e().zext(gw + 1) + Ty::u(gw + 1).lit(1)
            } else {
                g_q[k].e().zext(gw + 1)
            };
            vertex.push(m.wire_of(
                &format!("c{c}_{}", AXES[k]),
                v,
                &format!("corner {c}: vertex along {}", AXES[k]),
            ));
        }
        let idx = match &slot_q {
            None => level_index(&mut m, p, levels[0], &format!("c{c}"), &vertex, (&idx_w).into(), &[]),
            Some(slot) => {
                let shared = slot_products(&mut m, p, &levels, &format!("c{c}"), &vertex, slot);
                let mut at_slot = Vec::new();
                for &l in &levels {
                    let lw = clog2(p.geometry.levels[l].size as u64);
                    let li = level_index(&mut m, p, l, &format!("c{c}_l{l}"), &vertex, lw.into(), &shared);
                    let off = 2 * p.bank_offset(l) as i128;
                    at_slot.push(if off == 0 {
                        li.e().zext(ixw)
                    } else {
                        li.e().zext(ixw) + Ty::u(ixw).lit(off)
                    });
                }
                let w = m.wire(
                    &format!("c{c}_idx"),
                    &idx_w,
                    false,
                    "entry address of the slot's level in the unit's tables",
                );
                m.assign(&w, slot_mux(slot, at_slot));
                w
            }
        };
        index.push(idx);
        let mut w = if c & 1 == 1 {
            w_q[0].e().zext(fw)
        } else {
            one_minus[0].e()
        };
        for k in 1..d {
            let f = if (c >> k) & 1 == 1 {
                w_q[k].e().zext(fw)
            } else {
                one_minus[k].e()
            };
            let prod = m.wire_of(
                &format!("c{c}_wprod{k}"),
                w.zext(2 * fw) * f.zext(2 * fw),
                "weight product before truncation",
            );
            drop_bits(
                &mut m,
                &format!("c{c}_wprod{k}"),
                vec![prod.select(wb + fw, 2 * fw - wb - fw), prod.select(0u32, wb)],
            );
            w = prod.select(wb, fw);
        }
        cweight.push(m.wire_of(
            &format!("c{c}_wgt"),
            w,
            &format!("corner {c} weight, WGT_W fraction bits"),
        ));
    }

    // Depth 6: indices and corner weights get a register of their own, so
    // the hash or dense-index arithmetic and the weight products do not
    // share a cycle with the bank-address multiplexers.
    let registered_indices = p.pipeline_depth >= 6;
    let (index, cweight) = if registered_indices {
        m.section(
            "Stage 2b: registered indices and corner weights (pipeline_depth >= 6)",
            &[],
        );
        let mut idx_q = Vec::new();
        let mut wgt_q = Vec::new();
        for (c, (i, w)) in index.iter().zip(&cweight).enumerate() {
            let iq = m.reg(&format!("c{c}_idx_q"), &idx_w, false, &format!("corner {c} index"));
            let wq = m.reg(&format!("c{c}_cwgt_q"), &cwgt_w, false, &format!("corner {c} weight"));
            m.process(&clk, |pr| {
                pr.enable(en.e());
                pr.set(&iq, i.e());
                pr.set(&wq, w.e());
            });
            idx_q.push(iq);
            wgt_q.push(wq);
        }
        (idx_q, wgt_q)
    } else {
        (index, cweight)
    };
    let pairs = 1usize << (d - 1);
    let mut addr_q = Vec::new();
    let mut swap_q = Vec::new();
    for pr_i in 0..pairs {
        let (i0, i1) = (&index[2 * pr_i], &index[2 * pr_i + 1]);
        let odd0 = i0.bit(0u32);
        let ea = m.reg(
            &format!("p{pr_i}_even_addr_q"),
            &bank_aw,
            false,
            &format!("pair {pr_i}: even bank address"),
        );
        let oa = m.reg(
            &format!("p{pr_i}_odd_addr_q"),
            &bank_aw,
            false,
            &format!("pair {pr_i}: odd bank address"),
        );
        let sw = m.reg(
            &format!("p{pr_i}_swap_q"),
            1,
            false,
            &format!("pair {pr_i}: corner {} is odd", 2 * pr_i),
        );
        let (a0, a1) = (i0.select(1u32, baw), i1.select(1u32, baw));
        // Index bit 0 of the odd corner is the complement of the even one's.
        drop_bits(&mut m, &format!("c{}_idx0", 2 * pr_i + 1), vec![i1.bit(0u32)]);
        m.process(&clk, |pr| {
            pr.enable(en.e());
            pr.set(&ea, mux(odd0.clone(), a1.clone(), a0.clone()));
            pr.set(&oa, mux(odd0.clone(), a0, a1));
            pr.set(&sw, odd0);
        });
        addr_q.push((ea, oa));
        swap_q.push(sw);
    }
    let cw_q: Vec<Signal> = cweight
        .iter()
        .enumerate()
        .map(|(c, w)| {
            let r = m.reg(&format!("c{c}_wgt_q"), &cwgt_w, false, &format!("corner {c} weight"));
            m.process(&clk, |pr| {
                pr.enable(en.e());
                pr.set(&r, w.e());
            });
            r
        })
        .collect();

    // ---- Stage 3: tables.
    m.section(
        "Stage 3: table banks",
        &["Each bank: one write port (the load port) and one registered read port with enable: block RAM."],
    );
    let waddr_bank = m.wire_of(
        "waddr_bank",
        waddr.select(1u32, baw),
        "bank address of the entry to write",
    );
    let mut rd = Vec::new();
    for (pr_i, (ea, oa)) in addr_q.iter().enumerate() {
        let mut pair = Vec::new();
        for (odd, addr) in [(false, ea), (true, oa)] {
            let bank = if odd { "odd" } else { "even" };
            let mem = m.memory(
                &format!("tbl_p{pr_i}_{bank}"),
                word_w,
                depth,
                &format!("replica {pr_i}: entries with index bit 0 = {}", odd as u8),
            );
            if p.init_files {
                m.readmemh(&mem, &init_file(p, u, odd));
            }
            let sel = if odd { waddr.bit(0u32) } else { !waddr.bit(0u32) };
            m.process(&clk, |pr| {
                pr.when(we.e() & sel, |pr| pr.write_mem(&mem, waddr_bank.e(), wdata.e()));
            });
            let q = m.reg(
                &format!("p{pr_i}_{bank}_q"),
                &word_w_p,
                false,
                &format!("pair {pr_i}: {bank} bank word"),
            );
            m.process(&clk, |pr| {
                pr.enable(en.e());
                pr.set(&q, mem.read(addr.e()));
            });
            pair.push(q);
        }
        rd.push(pair);
    }
    let swap_q2: Vec<Signal> = swap_q
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let r = m.reg(&format!("p{i}_swap_q2"), 1, false, "swap, aligned with the bank words");
            m.process(&clk, |pr| {
                pr.enable(en.e());
                pr.set(&r, s.e());
            });
            r
        })
        .collect();
    let cw_q2: Vec<Signal> = cw_q
        .iter()
        .enumerate()
        .map(|(c, w)| {
            let r = m.reg(
                &format!("c{c}_wgt_q2"),
                &cwgt_w,
                false,
                "weight, aligned with the bank words",
            );
            m.process(&clk, |pr| {
                pr.enable(en.e());
                pr.set(&r, w.e());
            });
            r
        })
        .collect();

    // Integer entries with per-level scales decode with the slot's shift.
    let slot_q3 = match (&slot_q, shared_decoder) {
        (Some(slot), false) => {
            let width = slot_w_p.as_ref().unwrap_or_else(|| unreachable!());
            // From stage 1 to the bank words: the address stage, the read,
            // and the registered indices when there are.
            let delays = 2 + registered_indices as u32;
            let mut prev = slot.clone();
            for k in 2..=delays + 1 {
                let q = m.reg(
                    &format!("slot_q{k}"),
                    width,
                    false,
                    if k == delays + 1 {
                        "slot, aligned with the bank words"
                    } else {
                        "slot, delayed with the indices"
                    },
                );
                m.process(&clk, |pr| {
                    pr.enable(en.e());
                    pr.set(&q, prev.e());
                });
                prev = q;
            }
            Some(prev)
        }
        _ => None,
    };

    // ---- Stage 4: decode, weight, sum.
    m.section(
        "Stage 4: interpolation",
        &[if p.output.is_some() {
            "feature = round(sum over corners of weight * entry / 2^WGT_W) to OUT_W-bit float codes: the exact sum, rounded once (nearest even, saturating)."
        } else {
            "feature = floor(sum over corners of weight * entry / 2^WGT_W): exact, and always within FEAT_W bits."
        }],
    );
    let mut words = Vec::new();
    for c in 0..(1usize << d) {
        let p_i = c / 2;
        let (e, o) = (&rd[p_i][0], &rd[p_i][1]);
        let s = swap_q2[p_i].e();
        let w = if c & 1 == 0 {
            mux(s, o.e(), e.e())
        } else {
            mux(s, e.e(), o.e())
        };
        words.push(m.wire_of(&format!("c{c}_word"), w, &format!("table word of corner {c}")));
    }
    let mut feat_q = Vec::new();
    for f in 0..nf {
        let mut sum: Option<Expr> = None;
        for (c, word) in words.iter().enumerate() {
            let v = m.wire(
                &format!("c{c}_f{f}_val"),
                &feat_w,
                true,
                &format!("corner {c} feature {f}, decoded"),
            );
            match &slot_q3 {
                None => m.instance(
                    decoder_for(shifts[0]),
                    &format!("u_dec_c{c}_f{f}"),
                    vec![("code_i", drive(word.select(f * ew, ew))), ("value_o", sink(&v))],
                ),
                Some(slot) => {
                    let mut by_slot = Vec::new();
                    for &l in &levels {
                        let sh = shift_of(l);
                        let name = format!("c{c}_f{f}_val_sh{sh}");
                        if !by_slot.iter().any(|(s, _): &(u32, Signal)| *s == sh) {
                            let w = m.wire(&name, &feat_w, true, &format!("decoded with shift {sh}"));
                            m.instance(
                                decoder_for(sh),
                                &format!("u_dec_c{c}_f{f}_sh{sh}"),
                                vec![("code_i", drive(word.select(f * ew, ew))), ("value_o", sink(&w))],
                            );
                            by_slot.push((sh, w));
                        }
                    }
                    let values = levels
                        .iter()
                        .map(|&l| {
                            let sh = shift_of(l);
                            by_slot
                                .iter()
                                .find(|(s, _)| *s == sh)
                                .map(|(_, w)| w.e())
                                .unwrap_or_else(|| unreachable!())
                        })
                        .collect();
                    m.assign(&v, slot_mux(slot, values));
                }
            }
            let prod = match &prod_widths {
                None => {
                    let prod = m.wire(
                        &format!("c{c}_f{f}_prod"),
                        &acc_w_p,
                        true,
                        &format!("corner {c} feature {f} times its weight"),
                    );
                    m.assign(&prod, v.e().sext(acc_w) * cw_q2[c].e().zext(acc_w).cast(true));
                    prod.e()
                }
                // Depth 5 and up: the products are registered before the sum,
                // at their significant width.
                Some((sig, sig_p, prod_p)) => {
                    let sig = *sig;
                    let pw = sig + wb + 1;
                    let value = match sig_p {
                        Some(sig_p) => {
                            drop_bits(&mut m, &format!("c{c}_f{f}_val"), vec![v.select(sig, vb - sig)]);
                            let value = m.wire(
                                &format!("c{c}_f{f}_sig"),
                                sig_p,
                                true,
                                "the decoded feature's significant bits (the rest copy its sign)",
                            );
                            m.assign(&value, v.select(0u32, sig).cast(true));
                            value
                        }
                        None => v.clone(),
                    };
                    let prod = m.wire(
                        &format!("c{c}_f{f}_prod"),
                        prod_p,
                        true,
                        &format!("corner {c} feature {f} times its weight"),
                    );
                    m.assign(&prod, value.e().sext(pw) * cw_q2[c].e().zext(pw).cast(true));
                    let q = m.reg(
                        &format!("c{c}_f{f}_prod_q"),
                        prod_p,
                        true,
                        "registered product (pipeline_depth >= 5)",
                    );
                    m.process(&clk, |pr| {
                        pr.enable(en.e());
                        pr.set(&q, prod.e());
                    });
                    q.e().sext(acc_w)
                }
            };
            sum = Some(match sum {
                None => prod,
                Some(s) => s + prod,
            });
        }
        let sum = sum.unwrap_or_else(|| unreachable!("2^D corners"));
        let sum_doc = format!("feature {f}: weighted sum, WGT_W + FEAT_W fraction bits");
        let sum = if prod_widths.is_some() {
            let w = m.wire(&format!("f{f}_sum"), &acc_w_p, true, &sum_doc);
            m.assign(&w, sum);
            w
        } else {
            m.wire_of(&format!("f{f}_sum"), sum, &sum_doc)
        };
        let q = match (&rounder, &out_w_p) {
            (Some(rounder), Some(out_w_p)) => {
                // The exact sum, rounded once to the output format.
                let code = m.wire(
                    &format!("f{f}_code"),
                    out_w_p,
                    false,
                    &format!("feature {f} rounded to the output format"),
                );
                m.instance(
                    rounder,
                    &format!("u_round_f{f}"),
                    vec![("acc_i", drive(sum.e())), ("code_o", sink(&code))],
                );
                let q = m.reg(&format!("f{f}_q"), out_w_p, false, &format!("feature {f}"));
                m.process(&clk, |pr| {
                    pr.enable(en.e());
                    pr.set(&q, code.e());
                });
                q
            }
            _ => {
                drop_bits(
                    &mut m,
                    &format!("f{f}_sum"),
                    vec![sum.select(wb + vb, acc_w - wb - vb), sum.select(0u32, wb)],
                );
                let q = m.reg(&format!("f{f}_q"), &feat_w, false, &format!("feature {f}"));
                m.process(&clk, |pr| {
                    pr.enable(en.e());
                    pr.set(&q, sum.select(wb, vb));
                });
                q
            }
        };
        feat_q.push(q);
    }
    let all: Vec<Expr> = feat_q.iter().rev().map(|q| q.e()).collect();
    m.assign(&feat, concat(all));
    m.finish()
}

fn doc(p: &HashGridParams) -> ModuleDoc {
    let mut doc = parallel_doc(p);
    if p.slots() > 1 {
        doc.params.insert(
            doc.params.len() - 2,
            (
                "P".into(),
                p.level_units.to_string(),
                format!("level units; {} slots per point", p.slots()),
            ),
        );
    }
    doc
}

fn parallel_doc(p: &HashGridParams) -> ModuleDoc {
    let g = &p.geometry;
    let (d, nl, nf) = (g.dims, p.levels(), g.features);
    let dense = g.levels.iter().filter(|l| !l.hashed).count();
    ModuleDoc {
        title: format!(
            "multiresolution hash-grid encoder: D = {d}, L = {nl}, F = {nf}, T = 2^{}, N0 = {}, b = {}, {} tables",
            g.log2_table_size, g.base_resolution, g.per_level_scale, p.entry
        ),
        description: vec![
            format!("Encodes {} into L * F = {} features, following tiny-cuda-nn's grid encoding in fixed point: per-level scales and resolutions are computed on the host exactly as tiny-cuda-nn does (f32) and built in as constants. {dense} level(s) are dense, {} hashed.", if p.slots() == 1 { "one point per cycle".to_string() } else { format!("one point every {} cycles", p.slots()) }, nl * nf, nl as usize - dense),
            format!("in_data_i: coordinate d at [d*X_W +: X_W], unsigned with {} fraction bits (x = code / 2^{}); codes above 1.0 are clamped to 1.0.", p.coord_frac_bits, p.coord_frac_bits),
            match p.output {
                None => format!("out_data_o: feature f of level l at [(l*F + f)*FEAT_W +: FEAT_W], signed, {} integer and {} fraction bits.", p.feature_int_bits, p.feature_frac_bits),
                Some(f) => format!("out_data_o: feature f of level l at [(l*F + f)*{w} +: {w}], {f} codes: the exact weighted sum (entries decoded to {} integer and {} fraction bits) rounded once to {f}, nearest even, saturating.", p.feature_int_bits, p.feature_frac_bits, w = f.width()),
            },
            "Load port: on a rising edge with load_we_i high, table entry load_addr_i of level load_level_i is written (feature f at [f*ENTRY_W +: ENTRY_W] of load_data_i); addresses beyond the level's size and levels beyond L are ignored. Load tables while no point is in flight: a point that reads an entry written in the same cycle may see the old value.".into(),
            "Streams follow valid/ready: a transfer happens on a rising edge with valid and ready both high; out_valid_o never depends on out_ready_i, and a stalled output holds every pipeline register.".into(),
        ],
        params: vec![
            ("D".into(), d.to_string(), "input dimensions".into()),
            ("L".into(), nl.to_string(), "levels".into()),
            ("F".into(), nf.to_string(), "features per level".into()),
            ("T".into(), format!("2^{}", g.log2_table_size), "entries of a hashed level".into()),
            ("N0".into(), g.base_resolution.to_string(), "base resolution".into()),
            ("b".into(), g.per_level_scale.to_string(), "per-level scale".into()),
            ("table".into(), p.entry.to_string(), "table entry format".into()),
            ("FEAT_W".into(), p.feature_width().to_string(), "feature bits: 1 sign + integer + fraction".into()),
            ("memory".into(), format!("{} bits", p.memory_bits()), format!("all tables, {} replica(s) each", p.replicas())),
            ("reset".into(), p.reset.port_name().into(), p.reset.doc().into()),
        ],
        timing: if p.slots() == 1 {
            vec![
                format!("Latency: a point's features are on out_data_o {} cycles after it is accepted, not counting stalls.", p.pipeline_depth),
                "Throughput: one point per cycle; every level reads its 2^D corners in parallel.".into(),
            ]
        } else {
            vec![
                format!(
                    "Latency: a point's features are on out_data_o {} cycles after it is accepted ({} stages + {} slots - 1), not counting stalls.",
                    latency(p),
                    p.pipeline_depth,
                    p.slots()
                ),
                format!(
                    "Throughput: one point every {} cycles: {} level units serve the L = {nl} levels in {} slots (unit u: levels u, u + {}, ...), each reading its level's 2^D corners in one cycle; in_ready_o is low while a point's later slots issue.",
                    p.slots(),
                    p.level_units,
                    p.slots(),
                    p.level_units
                ),
            ]
        },
    }
}

/// The engine's modules, dependencies first, the top last.
pub fn engine(p: &HashGridParams) -> Vec<Module> {
    let g = &p.geometry;
    let d = g.dims;
    let nl = p.levels();
    let nf = g.features;
    let xw = p.coord_width();
    let vb = p.out_width();
    let np = p.level_units as usize;
    let slots = p.slots();
    let multi = slots > 1;
    let depth = p.pipeline_depth;
    let mut modules = Vec::new();
    let mut decoders: Vec<(u32, Module)> = Vec::new();
    let mut units = Vec::new();
    for u in 0..np {
        for l in p.unit_levels(u) {
            let shift = match p.entry {
                EntryFormat::Int(_) => p.feature_frac_bits - p.int_scale_log2[l],
                EntryFormat::Float(_) => 0,
            };
            if !decoders.iter().any(|(s, _)| *s == shift) {
                let dec = decoder(p, shift);
                modules.push(dec.clone());
                decoders.push((shift, dec));
            }
        }
        if u == 0
            && let Some(f) = p.output
        {
            modules.push(output_rounder(p, f));
        }
        let unit = unit(p, u, &decoders);
        modules.push(unit.clone());
        units.push(unit);
    }

    let mut m = ModuleBuilder::new(name(p), doc(p));
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let rst = m.input(p.reset.port_name(), Ty::BIT, p.reset.doc());
    let in_valid = m.input("in_valid_i", Ty::BIT, "input point valid");
    let in_ready = m.output("in_ready_o", Ty::BIT, "input point accepted when valid");
    let in_data = m.input("in_data_i", Ty::u(d * xw), "coordinates, axis d at [d*X_W +: X_W]");
    let out_valid = m.output("out_valid_o", Ty::BIT, "features valid");
    let out_ready = m.input("out_ready_i", Ty::BIT, "features taken when valid");
    let out_data = m.output(
        "out_data_o",
        Ty::u(nl * nf * vb),
        "feature f of level l at [(l*F + f)*FEAT_W +: FEAT_W]",
    );
    let law = p.load_addr_width();
    let llw = p.load_level_width();
    let load_we = m.input("load_we_i", Ty::BIT, "write one table entry");
    let load_level = m.input("load_level_i", Ty::u(llw), "level of the entry");
    let load_addr = m.input("load_addr_i", Ty::u(law), "index of the entry in its level");
    let load_data = m.input(
        "load_data_i",
        Ty::u(p.word_width()),
        "the entry: feature f at [f*ENTRY_W +: ENTRY_W]",
    );
    let x_w = m.localparam(
        "X_W",
        xw as i64,
        &format!("coordinate bits: {} fraction + 1", p.coord_frac_bits),
    );
    let slot_w = clog2(slots as u64).max(1);
    let slot_w_p = multi.then(|| {
        m.localparam(
            "SLOT_W",
            slot_w as i64,
            &format!("clog2(ceil(L / P) = {slots}): bits of a slot number"),
        )
    });
    let style: ResetStyle = p.reset;

    m.section(
        "Flow control",
        &[if multi {
            "The pipeline advances when its last stage holds no point's last slot or that slot's features are being read; otherwise every register holds. Earlier slots leave the last stage into the collection registers."
        } else {
            "The pipeline advances when its last stage is empty or being read; otherwise every register holds."
        }],
    );
    let valid_q: Vec<Signal> = (1..=depth)
        .map(|s| m.reg(&format!("valid_q{s}"), 1, false, &format!("stage {s} holds a point")))
        .collect();
    let last = valid_q[depth as usize - 1].clone();
    // Slot numbers along the pipeline (time-multiplexed units only).
    let slot_pipe: Vec<Signal> = match &slot_w_p {
        Some(w) => (1..=depth)
            .map(|s| m.reg(&format!("slot_q{s}"), w, false, &format!("slot of the stage-{s} point")))
            .collect(),
        None => Vec::new(),
    };
    let last_slot = Ty::u(slot_w).lit(slots as i128 - 1);
    let done = match slot_pipe.last() {
        Some(sq) => m.wire_of(
            "out_last",
            last.e() & sq.e().eq(last_slot.clone()),
            "the last stage holds a point's last slot: its features are complete",
        ),
        None => last.clone(),
    };
    let advance = m.wire_of("advance", !&done | out_ready.e(), "every pipeline register updates");
    let reset_values: Vec<_> = valid_q.iter().map(|r| (r.into(), Ty::BIT.zero())).collect();
    if !multi {
        m.assign(&in_ready, advance.e());
        m.assign(&out_valid, done.e());
        m.process(&clk, |pr| {
            pr.reset(&rst, style, reset_values.clone());
            pr.enable(advance.e());
            pr.set(&valid_q[0], in_valid.e());
            for s in 1..depth as usize {
                pr.set(&valid_q[s], valid_q[s - 1].e());
            }
        });
    } else {
        m.assign(&out_valid, done.e());
    }

    m.section(
        "Coordinates",
        &["Codes above 1.0 clamp to 1.0 (tiny-cuda-nn leaves them unclamped)."],
    );
    let one = p.coord_one();
    let mut clamped = Vec::new();
    for k in (0..d as usize).rev() {
        let xk = in_data.select(k as u32 * xw, xw);
        let c = m.wire(
            &format!("coord_{}", AXES[k]),
            &x_w,
            false,
            &format!("{} clamped to [0, 1]", AXES[k]),
        );
        m.assign(
            &c,
            mux(
                xk.clone().gt(Ty::u(xw).lit(one as i128)),
                Ty::u(xw).lit(one as i128),
                xk,
            ),
        );
        clamped.push(c.e());
    }
    let coords = m.wire_of("coords", concat(clamped), "clamped coordinates");

    // Time multiplexing: a point is held for its later slots while in_ready_o is low.
    let (x, issue_slot) = match &slot_w_p {
        None => (coords, None),
        Some(sw) => {
            m.section(
                "Slots",
                &[&format!(
                    "An accepted point issues slot 0 at once, then slots 1..{} from x_hold_q in the next cycles; in_ready_o is low until its last slot has issued.",
                    slots - 1
                )],
            );
            let busy = m.reg("busy_q", 1, false, "a held point has slots left to issue");
            let next_slot = m.reg("next_slot_q", sw, false, "the held point's next slot");
            let hold = m.reg("x_hold_q", d * xw, false, "the held point's coordinates");
            let issue = m.wire_of(
                "issue_valid",
                busy.e() | in_valid.e(),
                "a slot enters stage 1 on advance",
            );
            let slot = m.wire_of(
                "issue_slot",
                mux(busy.e(), next_slot.e(), Ty::u(slot_w).zero()),
                "slot entering stage 1",
            );
            let x = m.wire_of(
                "unit_x",
                mux(busy.e(), hold.e(), coords.e()),
                "coordinates of the slot entering stage 1",
            );
            m.assign(&in_ready, advance.e() & !busy.e());
            let mut resets: Vec<_> = reset_values;
            resets.push(((&busy).into(), Ty::BIT.zero()));
            let one_slot = Ty::u(slot_w).lit(1);
            m.process(&clk, |pr| {
                pr.reset(&rst, style, resets);
                pr.enable(advance.e());
                pr.set(&valid_q[0], issue.e());
                for s in 1..depth as usize {
                    pr.set(&valid_q[s], valid_q[s - 1].e());
                }
                pr.set(&busy, mux(busy.e(), next_slot.e().ne(last_slot.clone()), in_valid.e()));
            });
            m.process(&clk, |pr| {
                pr.enable(advance.e());
                pr.set(&next_slot, slot.e() + one_slot.clone());
                pr.when(!busy.e(), |pr| pr.set(&hold, coords.e()));
                pr.set(&slot_pipe[0], slot.e());
                for s in 1..depth as usize {
                    pr.set(&slot_pipe[s], slot_pipe[s - 1].e());
                }
            });
            (x, Some(slot))
        }
    };

    m.section(
        "Level units",
        &[if multi {
            "Unit u serves levels u, u + P, u + 2P, ... in slots 0, 1, 2, ...; the load port writes a level's entries after the unit's earlier levels."
        } else {
            "One unit per level, all in parallel."
        }],
    );
    let feat_w = nf * vb;
    let mut unit_out = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        let served = p.unit_levels(u);
        let mut hits = Vec::new();
        for &l in &served {
            let lv = g.levels[l];
            let level_hit = load_level.e().eq(Ty::u(llw).lit(l as i128));
            let in_range = if (lv.size as u64) < (1u64 << law) {
                load_addr.e().lt(Ty::u(law).lit(lv.size as i128))
            } else {
                Ty::BIT.lit(1)
            };
            hits.push((l, level_hit, in_range));
        }
        let mut conns = vec![
            ("clk_i", drive(clk.e())),
            ("en_i", drive(advance.e())),
            ("x_i", drive(x.e())),
        ];
        if let Some(slot) = issue_slot.as_ref().filter(|_| served.len() > 1) {
            conns.push(("slot_i", drive(slot.e())));
        }
        let feat_o = if multi {
            let o = m.wire(
                &format!("u{u}_feat"),
                feat_w,
                false,
                &format!("unit {u}'s features, of the level of the last stage's slot"),
            );
            conns.push(("feat_o", sink(&o)));
            Some(o)
        } else {
            conns.push(("feat_o", sink(out_data.part(u as u32 * feat_w, feat_w))));
            None
        };
        if multi {
            let uiw = clog2(p.unit_bank_depth(u) as u64).max(1) + 1;
            let hit_wires: Vec<(usize, Signal)> = hits
                .into_iter()
                .map(|(l, hit, in_range)| {
                    // Levels of the load port's full depth need no range check.
                    let full = g.levels[l].size as u64 >= 1u64 << law;
                    let h = m.wire_of(
                        &format!("l{l}_hit"),
                        if full { hit } else { hit & in_range },
                        &format!("the load port addresses level {l}"),
                    );
                    (l, h)
                })
                .collect();
            let any = hit_wires
                .iter()
                .map(|(_, h)| h.e())
                .reduce(|a, b| a | b)
                .unwrap_or_else(|| unreachable!("a unit serves a level"));
            let we = m.wire_of(&format!("u{u}_we"), load_we.e() & any, &format!("write unit {u}"));
            let addr = hit_wires.iter().rev().fold(Ty::u(uiw).zero(), |acc, (l, h)| {
                let ixw = clog2(g.levels[*l].size as u64);
                let local = load_addr.select(0u32, ixw.min(law)).zext(uiw);
                let off = 2 * p.bank_offset(*l) as i128;
                let a = if off == 0 { local } else { local + Ty::u(uiw).lit(off) };
                mux(h.e(), a, acc)
            });
            let waddr = m.wire_of(
                &format!("u{u}_waddr"),
                addr,
                &format!("entry address in unit {u}'s tables: the level's offset plus load_addr_i"),
            );
            conns.push(("we_i", drive(we.e())));
            conns.push(("waddr_i", drive(waddr.e())));
        } else {
            let l = served[0];
            let ixw = clog2(g.levels[l].size as u64);
            let (_, hit, in_range) = hits.pop().unwrap_or_else(|| unreachable!("one level"));
            let we = m.wire_of(
                &format!("l{l}_we"),
                load_we.e() & hit & in_range,
                &format!("write level {l}"),
            );
            conns.push(("we_i", drive(we.e())));
            conns.push(("waddr_i", drive(load_addr.select(0u32, ixw))));
        }
        conns.push(("wdata_i", drive(load_data.e())));
        // Keep today's port order: feat_o last.
        let feat_conn = conns.remove(conns.iter().position(|(n, _)| *n == "feat_o").unwrap_or(0));
        conns.push(feat_conn);
        m.instance(
            unit,
            &format!("u_{}", if multi { format!("unit{u}") } else { format!("level{u}") }),
            conns,
        );
        unit_out.push(feat_o);
    }

    if multi {
        m.section(
            "Collection",
            &["Features of a point's earlier slots wait in collect_s<s>_q; the last slot's come straight from the units, so out_data_o is in tiny-cuda-nn's layout (level l * F + f) when out_valid_o rises."],
        );
        let all_units = m.wire_of(
            "units_feat",
            concat(
                unit_out
                    .iter()
                    .rev()
                    .map(|o| o.as_ref().unwrap_or_else(|| unreachable!()).e())
                    .collect(),
            ),
            "every unit's features, unit u at [u*F*FEAT_W +: F*FEAT_W]",
        );
        let stage_last = slot_pipe.last().unwrap_or_else(|| unreachable!()).clone();
        let mut collect = Vec::new();
        for s in 0..slots - 1 {
            let r = m.reg(
                &format!("collect_s{s}_q"),
                np as u32 * feat_w,
                false,
                &format!("features of slot {s}: levels {s} * P .. {s} * P + P - 1"),
            );
            let take = last.e() & stage_last.e().eq(Ty::u(slot_w).lit(s as i128));
            m.process(&clk, |pr| {
                pr.when(advance.e() & take, |pr| pr.set(&r, all_units.e()));
            });
            collect.push(r);
        }
        for l in 0..nl as usize {
            let (u, s) = p.unit_of(l);
            let src = if s as u32 == slots - 1 {
                all_units.select(u as u32 * feat_w, feat_w)
            } else {
                collect[s].select(u as u32 * feat_w, feat_w)
            };
            m.assign(out_data.part(l as u32 * feat_w, feat_w), src);
        }
        // Units idle in the last slot: their features there are not used.
        let idle: Vec<Expr> = (0..np)
            .filter(|&u| p.unit_levels(u).len() < slots as usize)
            .map(|u| all_units.select(u as u32 * feat_w, feat_w))
            .collect();
        drop_bits(&mut m, "idle_units", idle);
    }
    modules.push(m.finish());
    modules
}

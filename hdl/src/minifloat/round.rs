//! Hardware that rounds an exact fixed-point sum to a float format:
//! round to nearest, ties to even, with saturation or the format's specials
//! on overflow. Its software twin is [`FloatFormat::encode_exact`].

use super::{FloatFormat, OnOverflow};
use crate::common::leading_zeros;
use crate::ir::{Expr, Module, ModuleBuilder, ModuleDoc, Signal, Ty, concat, mux};
use crate::params::bits_for;

/// What the rounder reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoundInput {
    /// Width of the fixed-point sum.
    pub width: u32,
    pub signed: bool,
    /// Exponent of its least significant bit.
    pub lsb_exp: i32,
    /// A two-bit special-value input (00 finite, 01 NaN, 10 +inf, 11 -inf).
    pub special: bool,
}

/// Deepest rounder pipeline: a register after the leading-zero count and one
/// after the normalising shift.
pub const MAX_STAGES: u32 = 2;

pub fn name(input: &RoundInput, out: FloatFormat, overflow: OnOverflow, stages: u32) -> String {
    format!(
        "accgen_round_{}{}l{}{}_to_{}{}{}",
        if input.signed { "s" } else { "u" },
        input.width,
        if input.lsb_exp < 0 {
            format!("n{}", -input.lsb_exp)
        } else {
            input.lsb_exp.to_string()
        },
        if input.special { "x" } else { "" },
        out.tag(),
        if overflow == OnOverflow::Special { "_ovs" } else { "" },
        if stages > 0 {
            format!("_p{stages}")
        } else {
            String::new()
        }
    )
}

/// The widths inside a rounder, shared by the hardware and its register count.
struct Geometry {
    /// Zero bits appended below the sum.
    pad: u32,
    /// Exponent field of the leading one at the top of the padded word.
    c0: u64,
    /// Width of the leading-zero count (see `common::leading_zeros`).
    lz_w: u32,
    /// Width of the normalising shift amount.
    shift_w: u32,
    /// Width of the exponent field before rounding (with room for a carry).
    exp_w: u32,
}

fn geometry(input: &RoundInput, out: FloatFormat) -> Geometry {
    let w = input.width;
    let c0 = |width: u32, lsb: i32| width as i64 - 2 + lsb as i64 + out.bias as i64;
    // Pad below so that the smallest normal's position is inside the word
    // and a guard bit always exists.
    let mut pad = 0u32;
    while c0(w + pad, input.lsb_exp - pad as i32) < 0 || w + pad < out.man_bits + 3 {
        pad += 1;
    }
    let c0 = c0(w + pad, input.lsb_exp - pad as i32) as u64;
    let lz_w = bits_for((w + pad).next_power_of_two().max(2) as u64);
    let shift_w = lz_w.max(bits_for(c0));
    let exp_w = (bits_for(c0 + 1).max(out.exp_bits) + 1).max(shift_w);
    Geometry {
        pad,
        c0,
        lz_w,
        shift_w,
        exp_w,
    }
}

/// Flip-flops in a rounder's pipeline registers (0 without stages), of
/// which `special_live` bits of the special-value code are not constant.
pub fn stage_register_bits(input: &RoundInput, out: FloatFormat, stages: u32, special_live: u32) -> u64 {
    let g = geometry(input, out);
    let special = if input.special { special_live } else { 0 };
    // An unsigned sum's sign is a constant, which synthesis does not keep.
    let sign = u32::from(input.signed);
    // Stage 1: sign, magnitude, leading-zero count; stage 2: sign, exponent
    // field, last kept bits with the guard bit, sticky bit.
    let first = sign + input.width + g.lz_w + special;
    // A sum narrower than the kept significand with its guard and sticky
    // bits is padded with zeros below, and a left shift keeps them zero:
    // the sticky bit is constant when every bit below the guard is padding
    // (w <= m + 2), the guard too when w <= m + 1, and so on up the kept
    // bits (measured: an 11-bit sum rounded to fp16 keeps 2 bits fewer
    // per column in stage 2).
    let constant_low = (out.man_bits.max(1) + 3)
        .saturating_sub(input.width)
        .min(out.man_bits.max(1) + 2);
    let second = sign + g.exp_w + out.man_bits.max(1) + 1 + 1 + special - constant_low;
    [first, second].iter().take(stages as usize).map(|&b| b as u64).sum()
}

/// A register stage inside the rounder: `d` one enabled clock later.
fn stage(m: &mut ModuleBuilder, clocking: &(Signal, Signal), name: &str, d: Expr, doc: &str) -> Signal {
    let ty = d.ty();
    let q = m.reg(name, ty.width, ty.signed, doc);
    m.process(&clocking.0, |pr| {
        pr.enable(&clocking.1);
        pr.set(&q, d);
    });
    q
}

/// The rounder: `code_o = round(acc_i * 2^lsb_exp)`, combinational, or
/// `stages` (at most [`MAX_STAGES`]) enabled clocks later.
pub fn rounder(input: &RoundInput, out: FloatFormat, overflow: OnOverflow, stages: u32) -> Module {
    assert!(stages <= MAX_STAGES, "rounder stages {stages} > {MAX_STAGES}");
    let mb = out.man_bits;
    let ow = out.width();
    let mut m = ModuleBuilder::new(
        name(input, out, overflow, stages),
        ModuleDoc {
            title: format!("Round a {}-bit fixed-point sum (LSB 2^{}) to {out}, nearest even", input.width, input.lsb_exp),
            description: vec![
                "The magnitude is normalised by its leading-zero count, but never past the smallest normal exponent, so values below it come out as subnormals. The kept significand is rounded up when the guard bit is set and either a lower bit or the significand's last bit is: ties go to even. Adding the round-up to the packed exponent and mantissa lets a carry move into the exponent.".into(),
                format!(
                    "Overflow {}. {}{}",
                    match overflow {
                        OnOverflow::Saturate => "saturates to +-max",
                        OnOverflow::Special => "gives the format's infinity, else its NaN",
                    },
                    if out.subnormals { "" } else { "Results below the smallest normal flush to zero. " },
                    if input.special { "Special inputs map to the format's NaN and infinities (an infinity the format lacks is treated as overflow)." } else { "" }
                ),
            ],
            params: vec![("format".into(), out.to_string(), "output format".into())],
            timing: vec![match stages {
                0 => "Combinational.".into(),
                1 => "One register stage (after the leading-zero count): code_o follows acc_i by one cycle with en_i high.".into(),
                _ => "Two register stages (after the leading-zero count and after the normalising shift): code_o follows acc_i by two cycles with en_i high.".into(),
            }],
        },
    );
    let clocking = (stages > 0).then(|| {
        (
            m.input("clk_i", Ty::BIT, "clock"),
            m.input("en_i", Ty::BIT, "pipeline enable: the stages hold while it is low"),
        )
    });
    let acc = m.input("acc_i", Ty::new(input.width, input.signed), "exact fixed-point sum");
    let special = input
        .special
        .then(|| m.input("special_i", Ty::u(2), "00 finite, 01 NaN, 10 +inf, 11 -inf"));
    let code_o = m.output("code_o", Ty::u(ow), &format!("rounded {out} code"));

    let Geometry {
        pad,
        c0,
        shift_w,
        exp_w,
        ..
    } = geometry(input, out);
    let wp = input.width + pad;

    m.section("Magnitude", &[]);
    let neg = if input.signed {
        m.wire_of("neg", acc.e().msb(), "sign of the sum")
    } else {
        m.wire_of("neg", Ty::BIT.zero(), "an unsigned sum is never negative")
    };
    let mag_expr = if input.signed {
        let u = acc.e().cast(false);
        mux(&neg, -u.clone(), u)
    } else {
        acc.e()
    };
    let mag = m.wire_of("mag", mag_expr, "absolute value (the most negative sum fits unsigned)");
    let pad_below = |m: &mut ModuleBuilder, name: &str, mag: &Signal| {
        if pad > 0 {
            m.wire_of(
                name,
                concat(vec![mag.e(), Ty::u(pad).zero()]),
                "padded below: room for the smallest normal and a guard bit",
            )
        } else {
            mag.clone()
        }
    };
    let magp = pad_below(&mut m, "mag_pad", &mag);
    let lzc = leading_zeros(&mut m, "lz", &magp);

    // Stage 1 cuts after the absolute value's carry chain and the count.
    let (neg, magp, lzc, special) = match (&clocking, stages >= 1) {
        (Some(c), true) => {
            m.section(
                "Pipeline stage 1",
                &["The magnitude (unpadded: the pad bits are constant) and its leading-zero count."],
            );
            let neg_q = stage(&mut m, c, "neg_q", neg.e(), "sign of the sum");
            let mag_q = stage(&mut m, c, "mag_q", mag.e(), "absolute value");
            let lz_q = stage(&mut m, c, "lz_q", lzc.e(), "its leading zeros");
            let special_q = special.map(|s| stage(&mut m, c, "special_q", s.e(), "special-value code"));
            let magp_q = pad_below(&mut m, "mag_pad_q", &mag_q);
            (neg_q, magp_q, lz_q, special_q)
        }
        _ => (neg, magp, lzc, special),
    };

    m.section(
        "Normalise",
        &["Shift the leading one to the top, or only as far as the smallest normal exponent allows (a subnormal result)."],
    );
    let limit = Ty::u(shift_w).lit(c0 as i128);
    let lz = lzc.e().zext(shift_w);
    let normal = m.wire_of("normal", lz.le(limit.clone()), "the result is a normal number");
    let shift = m.wire_of(
        "shift",
        mux(&normal, lz.clone(), limit.clone()),
        "normalising left shift",
    );
    let norm = m.wire_of("norm", magp.e().shl_by(&shift), "leading one (if normal) on top");
    // Exponent field before rounding: C0 + 1 - lzc for normals, 0 for
    // subnormals. The top bit of `norm` is the hidden one: set exactly for
    // normal nonzero values.
    let e_pre = m.wire_of(
        "exp_pre",
        mux(
            norm.e().msb(),
            Ty::u(exp_w).lit(c0 as i128 + 1) - lz.zext(exp_w),
            Ty::u(exp_w).zero(),
        ),
        "exponent field before rounding",
    );
    // What rounding reads: the last kept bit (without mantissa bits, the
    // hidden one), the guard bit below it, and the OR of every bit under
    // the guard (the padding leaves at least one). Stage 2 registers just
    // these with the exponent.
    let kept = mb.max(1);
    // (mantissa bits, last kept bit, guard bit)
    let (e_pre, (mantissa, lsb, guard), sticky, neg, special) = match (&clocking, stages >= 2) {
        (Some(c), true) => {
            m.section(
                "Pipeline stage 2",
                &["The normalised sum, reduced to what rounding reads."],
            );
            let neg_q = stage(&mut m, c, "norm_neg_q", neg.e(), "sign of the sum");
            let e_q = stage(&mut m, c, "exp_pre_q", e_pre.e(), "exponent field before rounding");
            let frac_q = stage(
                &mut m,
                c,
                "frac_q",
                norm.select(wp - 2 - mb, kept + 1),
                "the last kept bits, then the guard bit",
            );
            let sticky_q = stage(
                &mut m,
                c,
                "sticky_q",
                norm.select(0u32, wp - 2 - mb).reduce_or(),
                "a one below the guard bit",
            );
            let special_q = special.map(|s| stage(&mut m, c, "norm_special_q", s.e(), "special-value code"));
            let kept_bits = (frac_q.select(1u32, kept), frac_q.bit(1u32), frac_q.bit(0u32));
            (e_q, kept_bits, sticky_q.e(), neg_q, special_q)
        }
        _ => {
            let kept_bits = (
                norm.select(wp - 1 - mb, kept),
                norm.bit(wp - 1 - mb),
                norm.bit(wp - 2 - mb),
            );
            let sticky = norm.select(0u32, wp - 2 - mb).reduce_or();
            (e_pre, kept_bits, sticky, neg, special)
        }
    };

    m.section("Round to nearest, ties to even", &[]);
    let round_up = m.wire_of(
        "round_up",
        guard & (sticky | lsb),
        "above half, or a tie with an odd last bit",
    );
    let packed_w = exp_w + mb;
    let packed = if mb > 0 {
        concat(vec![e_pre.e(), mantissa])
    } else {
        e_pre.e()
    };
    let rounded = m.wire_of(
        "rounded",
        packed + round_up.e().zext(packed_w),
        "exponent and mantissa after rounding (a carry moves into the exponent)",
    );

    m.section("Range", &[]);
    let max_abs = out.max_code();
    let overflow_w = m.wire_of(
        "overflow",
        rounded.e().gt(Ty::u(packed_w).pattern(max_abs)),
        "beyond the largest finite value",
    );
    // Zero: the sum is zero, rounded to zero, or (without subnormals) fell
    // below the smallest normal.
    let zero_below = if out.subnormals { 1 } else { 1u64 << mb };
    let is_zero = m.wire_of(
        "is_zero",
        rounded.e().lt(Ty::u(packed_w).lit(zero_below as i128)),
        if out.subnormals {
            "rounds to zero"
        } else {
            "rounds to zero or below the smallest normal"
        },
    );
    let ot = Ty::u(ow);
    let zero_code = if out.specials == super::Specials::Fnuz {
        ot.zero()
    } else {
        concat(vec![neg.e(), Ty::u(ow - 1).zero()])
    };
    let over_code = mux(
        &neg,
        ot.pattern(out.overflow_code(true, overflow)),
        ot.pattern(out.overflow_code(false, overflow)),
    );
    let finite = mux(
        &overflow_w,
        over_code,
        mux(
            &is_zero,
            zero_code,
            concat(vec![neg.e(), rounded.e().select(0u32, ow - 1)]),
        ),
    );
    let finite = if special.is_some() {
        m.wire_of("finite_code", finite, "the code of a finite sum").e()
    } else {
        finite
    };
    let code = match &special {
        None => finite,
        Some(s) => {
            let nan = ot.pattern(out.nan_code().unwrap_or(0));
            let inf = |neg: bool| ot.pattern(out.inf_code(neg).unwrap_or_else(|| out.overflow_code(neg, overflow)));
            mux(
                s.e().eq(Ty::u(2).lit(1)),
                nan,
                mux(
                    s.e().eq(Ty::u(2).lit(2)),
                    inf(false),
                    mux(s.e().eq(Ty::u(2).lit(3)), inf(true), finite),
                ),
            )
        }
    };
    m.assign(&code_o, code);
    m.finish()
}

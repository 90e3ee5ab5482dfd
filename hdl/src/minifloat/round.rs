//! Hardware that rounds an exact fixed-point sum to a float format:
//! round to nearest, ties to even, with saturation or the format's specials
//! on overflow. Its software twin is [`FloatFormat::encode_exact`].

use super::{FloatFormat, OnOverflow};
use crate::common::leading_zeros;
use crate::ir::{Module, ModuleBuilder, ModuleDoc, Ty, concat, mux};
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

pub fn name(input: &RoundInput, out: FloatFormat, overflow: OnOverflow) -> String {
    format!(
        "accgen_round_{}{}l{}{}_to_{}{}",
        if input.signed { "s" } else { "u" },
        input.width,
        if input.lsb_exp < 0 {
            format!("n{}", -input.lsb_exp)
        } else {
            input.lsb_exp.to_string()
        },
        if input.special { "x" } else { "" },
        out.tag(),
        if overflow == OnOverflow::Special { "_ovs" } else { "" }
    )
}

/// The rounder: a combinational module `code_o = round(acc_i * 2^lsb_exp)`.
pub fn rounder(input: &RoundInput, out: FloatFormat, overflow: OnOverflow) -> Module {
    let (mb, eb) = (out.man_bits, out.exp_bits);
    let ow = out.width();
    let mut m = ModuleBuilder::new(
        name(input, out, overflow),
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
            timing: vec!["Combinational.".into()],
        },
    );
    let acc = m.input("acc_i", Ty::new(input.width, input.signed), "exact fixed-point sum");
    let special = input
        .special
        .then(|| m.input("special_i", Ty::u(2), "00 finite, 01 NaN, 10 +inf, 11 -inf"));
    let code_o = m.output("code_o", Ty::u(ow), &format!("rounded {out} code"));

    // Pad below so that the smallest normal's position is inside the word
    // and a guard bit always exists.
    let bias = out.bias;
    let w = input.width;
    let c0 = |width: u32, lsb: i32| width as i64 - 2 + lsb as i64 + bias as i64;
    let mut pad = 0u32;
    while c0(w + pad, input.lsb_exp - pad as i32) < 0 || w + pad < mb + 3 {
        pad += 1;
    }
    let wp = w + pad;
    let c0 = c0(wp, input.lsb_exp - pad as i32) as u64;

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
    let magp = if pad > 0 {
        m.wire_of(
            "mag_pad",
            concat(vec![mag.e(), Ty::u(pad).zero()]),
            "padded below: room for the smallest normal and a guard bit",
        )
    } else {
        mag.clone()
    };
    let lzc = leading_zeros(&mut m, "lz", &magp);

    m.section(
        "Normalise",
        &["Shift the leading one to the top, or only as far as the smallest normal exponent allows (a subnormal result)."],
    );
    let lw = lzc.width().max(bits_for(c0));
    let limit = Ty::u(lw).lit(c0 as i128);
    let lz = lzc.e().zext(lw);
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
    let ew = (bits_for(c0 + 1).max(eb) + 1).max(lw);
    let e_pre = m.wire_of(
        "exp_pre",
        mux(
            norm.e().msb(),
            Ty::u(ew).lit(c0 as i128 + 1) - lz.zext(ew),
            Ty::u(ew).zero(),
        ),
        "exponent field before rounding",
    );

    m.section("Round to nearest, ties to even", &[]);
    let guard = norm.bit(wp - 2 - mb);
    let sticky = if wp > mb + 2 {
        norm.select(0u32, wp - 2 - mb).reduce_or()
    } else {
        Ty::BIT.zero()
    };
    let lsb = norm.bit(wp - 1 - mb);
    let round_up = m.wire_of(
        "round_up",
        guard & (sticky | lsb),
        "above half, or a tie with an odd last bit",
    );
    let packed_w = ew + mb;
    let packed = if mb > 0 {
        concat(vec![e_pre.e(), norm.select(wp - 1 - mb, mb)])
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

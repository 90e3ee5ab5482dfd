//! The MAC processing element: decode both operands to significand and
//! shift, multiply the significands exactly, shift the product into one
//! fixed-point word, and accumulate. For two integers the decode and shift
//! vanish and this is a plain multiply-accumulate.

use super::mul;
use super::operand::{DecodedSignals, Operand, decode_hw};
use super::params::{MacArrayParams, Overflow};
use crate::ir::{Expr, LValue, Module, ModuleBuilder, ModuleDoc, Signal, Ty, any, concat, mux};
use crate::params::{IntFormat, bits_for};

/// Module name, e.g. `accgen_mac_pe_as8_ws8_acc20w_dsp`.
pub fn name(p: &MacArrayParams) -> String {
    format!("accgen_mac_pe_{}", p.arith_tag())
}

/// Port type of an operand code: integers keep their signedness, minifloat
/// codes are plain bit patterns.
pub fn code_ty(op: &Operand) -> Ty {
    match op {
        Operand::Int(f) => Ty::new(f.bits, f.signed),
        Operand::Float(f) => Ty::u(f.width()),
    }
}

/// Encoding of the two-bit special-value output.
pub const SPECIAL_DOC: &str = "00 finite, 01 NaN, 10 +inf, 11 -inf";

fn sig_format(op: &Operand) -> IntFormat {
    let t = op.sig_ty();
    IntFormat {
        bits: t.width,
        signed: t.signed,
    }
}

fn describe(p: &MacArrayParams) -> Vec<String> {
    let mut d = vec![
        "On every cycle with en_i and valid_i high the PE adds act_i * wgt_i to its accumulator; first_i restarts the sum from zero instead. On the beat with last_i high the finished sum is also copied to the result register, which holds it while the next sum accumulates.".to_string(),
    ];
    if p.product_width() != p.sig_product_width() {
        d.push(format!(
            "Operands are decoded to a signed significand and a shift (minifloat: exponent field - 1, subnormals at shift 0); the significand product is shifted into a {}-bit fixed-point word whose least significant bit weighs 2^{}, so every product and every sum is exact and independent of order (a Kulisch accumulator).",
            p.product_width(),
            p.lsb_exp()
        ));
    }
    if p.has_specials() {
        d.push(format!(
            "Special values follow IEEE 754: a NaN operand, or infinity times zero, makes the sum NaN; infinite products make it +-inf, and +inf plus -inf is NaN. Flags record this and stick until the next first_i; special operands add nothing to the fixed-point sum. res_special_o: {SPECIAL_DOC}."
        ));
    }
    let overflow = match p.overflow {
        Overflow::Wrap => "wraps modulo 2^ACC_W if a sum leaves its range",
        Overflow::Saturate => "saturates to its largest or smallest value at every step",
    };
    d.push(format!("The accumulator {overflow}."));
    d
}

/// The PE and the multiplier it instantiates, dependencies first.
pub fn pe(p: &MacArrayParams) -> Vec<Module> {
    let mut modules = mul::multiplier(sig_format(&p.act), sig_format(&p.wgt), p.multiplier);
    let mult = modules
        .last()
        .cloned()
        .unwrap_or_else(|| unreachable!("multiplier() returns the multiplier last"));
    let aw = p.acc_width;
    let signed = p.signed();
    let floats = p.product_width() != p.sig_product_width();
    let mut m = ModuleBuilder::new(
        name(p),
        ModuleDoc {
            title: format!(
                "MAC processing element: {} x {} products into a {aw}-bit accumulator",
                p.act, p.wgt
            ),
            description: describe(p),
            params: vec![
                ("act_i".into(), p.act.to_string(), "activation format".into()),
                ("wgt_i".into(), p.wgt.to_string(), "weight format".into()),
                (
                    "ACC_W".into(),
                    aw.to_string(),
                    format!("accumulator width, {}", if signed { "signed" } else { "unsigned" }),
                ),
                (
                    "ACC_LSB".into(),
                    format!("2^{}", p.lsb_exp()),
                    "weight of the accumulator's least significant bit".into(),
                ),
                (
                    "overflow".into(),
                    format!("{:?}", p.overflow).to_lowercase(),
                    "at the accumulator width".into(),
                ),
                ("multiplier".into(), p.multiplier.tag().into(), mult.name.clone()),
            ],
            timing: vec!["res_o changes one cycle after the beat with last_i (one register).".into()],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let en = m.input("en_i", Ty::BIT, "clock enable: the array advances");
    let valid = m.input("valid_i", Ty::BIT, "a beat is present");
    let first = m.input("first_i", Ty::BIT, "first beat of a dot product: restart from zero");
    let last = m.input("last_i", Ty::BIT, "last beat of a dot product: publish the sum");
    let act = m.input("act_i", code_ty(&p.act), &format!("activation ({})", p.act));
    let wgt = m.input("wgt_i", code_ty(&p.wgt), &format!("weight ({})", p.wgt));
    let res = m.output("res_o", Ty::new(aw, signed), "last finished dot product");
    let res_special = p.has_specials().then(|| {
        m.output(
            "res_special_o",
            Ty::u(2),
            &format!("special value of res_o: {SPECIAL_DOC}"),
        )
    });

    let sig_w = p.sig_product_width();
    let prod_w = m.localparam(
        "PROD_W",
        p.product_width() as i64,
        &if floats {
            format!(
                "{sig_w}-bit significand product + {} + {} bits of shift: exact product width",
                p.act.max_shift(),
                p.wgt.max_shift()
            )
        } else {
            format!("{} + {}: exact product width", p.act.width(), p.wgt.width())
        },
    );
    // The array's header says whether this width is exact for its K; the
    // PE's text must not depend on K, since its name does not.
    let acc_w = m.localparam("ACC_W", aw as i64, "accumulator width, at least PROD_W");

    let need_zero = |other: &Operand| other.has_inf();
    let (da, db) = if floats || p.has_specials() {
        m.section(
            "Decode",
            &["Each operand becomes a signed significand, a left shift and special-value flags."],
        );
        (
            decode_hw(&mut m, "act", &p.act, &act, need_zero(&p.wgt)),
            decode_hw(&mut m, "wgt", &p.wgt, &wgt, need_zero(&p.act)),
        )
    } else {
        (
            decode_hw(&mut m, "act", &p.act, &act, false),
            decode_hw(&mut m, "wgt", &p.wgt, &wgt, false),
        )
    };

    m.section("Multiplier", &[]);
    let prod_name = if floats { "sig_prod" } else { "prod" };
    let prod = if floats {
        m.wire(prod_name, sig_w, signed, "product of the significands, exact")
    } else {
        m.wire(prod_name, &prod_w, signed, "act_i * wgt_i, exact")
    };
    m.instance(
        &mult,
        "u_mul",
        vec![
            ("a_i", crate::ir::drive(da.sig.clone())),
            ("b_i", crate::ir::drive(db.sig.clone())),
            ("p_o", crate::ir::sink(&prod)),
        ],
    );
    let prod = if floats {
        align(&mut m, &prod, &prod_w, &da, &db, p)
    } else {
        prod
    };

    m.section("Accumulate", &[]);
    let acc_q = m.reg("acc_q", &acc_w, signed, "running sum");
    let res_q = m.reg("res_q", &acc_w, signed, "last finished sum");
    let base = m.wire_of(
        "acc_base",
        mux(&first, Ty::new(aw, signed).zero(), &acc_q),
        "first beat starts from zero",
    );
    let prod_ext = m.wire_of("prod_ext", prod.e().extend(aw), "product extended to ACC_W");
    let sum = match (p.can_overflow(), p.overflow) {
        (true, Overflow::Saturate) => {
            let wide = m.wire_of(
                "sum_wide",
                base.e().extend(aw + 1) + prod_ext.e().extend(aw + 1),
                "one guard bit catches overflow",
            );
            let t = Ty::new(aw, signed);
            let clamped = if signed {
                // The guard bit and the top bit differ exactly when the sum left the range.
                let over = m.wire_of(
                    "overflow",
                    wide.bit(aw).ne(wide.bit(aw - 1)),
                    "sum outside the ACC_W range",
                );
                mux(
                    &over,
                    mux(wide.bit(aw), t.min_value(), t.max_value()),
                    wide.e().trunc(aw),
                )
            } else {
                mux(wide.bit(aw), t.max_value(), wide.e().trunc(aw))
            };
            m.wire_of("sum", clamped, "saturated sum")
        }
        _ => m.wire_of("sum", &base + &prod_ext, "sum modulo 2^ACC_W"),
    };
    m.process(&clk, |pr| {
        pr.enable(&en & &valid);
        pr.set(&acc_q, &sum);
        pr.when(&last, |pr| pr.set(&res_q, &sum));
    });
    m.assign(&res, &res_q);
    if let Some(out) = res_special {
        specials(&mut m, &da, &db, &clk, &en, &valid, &first, &last, &out);
    }
    modules.push(m.finish());
    modules
}

/// Shift the significand product into the fixed-point word.
fn align(
    m: &mut ModuleBuilder,
    prod: &Signal,
    prod_w: &crate::ir::Param,
    da: &DecodedSignals,
    db: &DecodedSignals,
    p: &MacArrayParams,
) -> Signal {
    m.section(
        "Align",
        &["The product's exponent is the sum of the operands' shifts; shifting the significand product left by it gives the exact value in units of ACC_LSB."],
    );
    let total = p.act.max_shift() + p.wgt.max_shift();
    let sw = bits_for(total as u64);
    let shifts: Vec<Expr> = [&da.shift, &db.shift]
        .into_iter()
        .flatten()
        .map(|s| s.e().zext(sw))
        .collect();
    let amount = shifts
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| unreachable!("a minifloat operand has a shift"));
    let amount = m.wire_of("prod_shift", amount, "sum of the operands' shifts");
    let pw = prod_w.value as u32;
    let wide = m.wire(
        "prod_wide",
        prod_w,
        prod.ty().signed,
        "significand product extended to PROD_W",
    );
    m.assign(&wide, prod.e().extend(pw));
    let fixed = m.wire(
        "prod_fixed",
        prod_w,
        prod.ty().signed,
        "exact product in units of ACC_LSB",
    );
    m.assign(&fixed, wide.e().shl_by(&amount));
    fixed
}

/// NaN and infinity flags: computed per product, sticky over a dot product.
#[allow(clippy::too_many_arguments)]
fn specials(
    m: &mut ModuleBuilder,
    da: &DecodedSignals,
    db: &DecodedSignals,
    clk: &Signal,
    en: &Signal,
    valid: &Signal,
    first: &Signal,
    last: &Signal,
    out: &Signal,
) {
    m.section(
        "Special values",
        &["NaN x anything and inf x 0 are NaN; inf x nonzero is inf with the product's sign. The flags stick until first_i."],
    );
    let mut nan_terms: Vec<Expr> = [&da.nan, &db.nan].into_iter().flatten().map(Signal::e).collect();
    if let (Some(i), Some(z)) = (&da.inf, &db.zero) {
        nan_terms.push(i.e() & z.e());
    }
    if let (Some(i), Some(z)) = (&db.inf, &da.zero) {
        nan_terms.push(i.e() & z.e());
    }
    let prod_nan = m.wire_of("prod_nan", any(nan_terms), "this product is NaN");
    let inf_terms: Vec<Expr> = [&da.inf, &db.inf].into_iter().flatten().map(Signal::e).collect();
    let (pinf, ninf) = if inf_terms.is_empty() {
        (None, None)
    } else {
        let prod_inf = m.wire_of("prod_inf", any(inf_terms) & !prod_nan.e(), "this product is infinite");
        let neg = match (&da.neg, &db.neg) {
            (Some(a), Some(b)) => a.clone() ^ b.clone(),
            (Some(a), None) | (None, Some(a)) => a.clone(),
            (None, None) => Ty::BIT.zero(),
        };
        let prod_neg = m.wire_of("prod_neg", neg, "sign of the product");
        (Some(prod_inf.e() & !prod_neg.e()), Some(prod_inf.e() & prod_neg.e()))
    };
    let mut flags: Vec<(Signal, Signal, Signal)> = Vec::new();
    for (name, term) in [("nan", Some(prod_nan.e())), ("pinf", pinf), ("ninf", ninf)] {
        let Some(term) = term else { continue };
        let q = m.reg(
            &format!("{name}_q"),
            1,
            false,
            &format!("{name} seen in this dot product"),
        );
        let r = m.reg(
            &format!("res_{name}_q"),
            1,
            false,
            &format!("{name} flag of the last finished sum"),
        );
        let d = m.wire_of(
            &format!("{name}_d"),
            (!first.e() & q.e()) | term,
            &format!("{name} including this beat"),
        );
        flags.push((q, r, d));
    }
    let (clk, en, valid, last) = (clk.clone(), en.clone(), valid.clone(), last.clone());
    let regs = flags.clone();
    m.process(&clk, |pr| {
        pr.enable(&en & &valid);
        for (q, _, d) in &regs {
            pr.set(LValue::from(q), d);
        }
        pr.when(&last, |pr| {
            for (_, r, d) in &regs {
                pr.set(LValue::from(r), d);
            }
        });
    });
    let get = |n: usize| flags.get(n).map(|(_, r, _)| r.e());
    let (nan, pinf, ninf) = (get(0).unwrap_or_else(|| Ty::BIT.zero()), get(1), get(2));
    // +inf and -inf together are NaN.
    let is_nan = match (&pinf, &ninf) {
        (Some(p), Some(n)) => nan | (p.clone() & n.clone()),
        _ => nan,
    };
    let is_nan = m.wire_of("res_is_nan", is_nan, "the finished sum is NaN");
    let code = match (pinf, ninf) {
        (Some(p), Some(n)) => concat(vec![!is_nan.e() & (p | n.clone()), is_nan.e() | n]),
        _ => concat(vec![Ty::BIT.zero(), is_nan.e()]),
    };
    m.assign(out, code);
}

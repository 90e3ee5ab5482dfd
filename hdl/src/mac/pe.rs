//! The MAC processing element: decode both operands to significand and
//! shift, multiply the significands exactly, shift the product into one
//! fixed-point word, and accumulate. For two integers the decode and shift
//! vanish and this is a plain multiply-accumulate.

use super::mul;
use super::operand::{DecodedSignals, Operand, decode_hw};
use super::params::{MacArrayParams, Overflow};
use crate::ir::{Expr, LValue, Module, ModuleBuilder, ModuleDoc, Signal, Ty, Width, any, concat, mux};
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
            timing: vec![if p.pipeline == 0 {
                "res_o changes one cycle after the beat with last_i (one register).".into()
            } else {
                format!(
                    "res_o changes {} cycles after the beat with last_i: {} pipeline register(s) between the multiplier and the accumulator, then the result register. The pipeline advances with en_i.",
                    p.pipeline + 1,
                    p.pipeline
                )
            }],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    // Only the pipeline's control tokens need a reset; an unpipelined PE has none.
    let rst = (p.pipeline > 0).then(|| m.input(p.reset.port_name(), Ty::BIT, p.reset.doc()));
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
    let (prod, flags, tokens) = match &rst {
        None => {
            let prod = if floats {
                let amount = shift_amount(&mut m, &da, &db, p);
                align(&mut m, &prod, &prod_w, &amount)
            } else {
                prod
            };
            (prod, None, (valid.clone(), first.clone(), last.clone()))
        }
        Some(rst) => {
            let amount = floats.then(|| shift_amount(&mut m, &da, &db, p));
            let flags = p.has_specials().then(|| product_flags(&mut m, &da, &db, true));
            let pipe = Pipeline {
                clk: clk.clone(),
                en: en.clone(),
            };
            m.section(
                "Pipeline",
                &["Register stages between the multiplier and the accumulator; valid, first and last are delayed by the same number of stages, so each beat's control meets its product."],
            );
            let (after_mul, after_align) = p.pipeline_stages();
            let mut data: Vec<(Signal, Width)> = vec![(prod.clone(), prod_width(&prod, &prod_w, floats))];
            if let Some(a) = &amount {
                data.push((a.clone(), Width::from(a.width())));
            }
            let mut flags = flags;
            let wires = flags.as_ref().map(|f| f.to_wires(&mut m)).unwrap_or_default();
            data.extend(wires.iter().map(|s| (s.clone(), Width::from(1u32))));
            let mut copies = 0;
            for _ in 0..after_mul {
                copies += 1;
                data = pipe.stage(&mut m, &data, copies);
            }
            let (prod_d, amount_d) = (data[0].0.clone(), amount.as_ref().map(|_| data[1].0.clone()));
            let mut flags_d: Vec<Signal> = data[1 + usize::from(floats)..].iter().map(|(s, _)| s.clone()).collect();
            let mut prod = match &amount_d {
                Some(a) => align(&mut m, &prod_d, &prod_w, a),
                None => prod_d,
            };
            if after_align > 0 {
                // Integers have no alignment: this is a second product register.
                let copy = if floats { 1 } else { copies + 1 };
                prod = pipe.stage(&mut m, &[(prod.clone(), Width::from(&prod_w))], copy)[0]
                    .0
                    .clone();
                let d: Vec<(Signal, Width)> = flags_d.iter().map(|s| (s.clone(), Width::from(1u32))).collect();
                if !d.is_empty() {
                    flags_d = pipe.stage(&mut m, &d, copies + 1).into_iter().map(|(s, _)| s).collect();
                }
            }
            if let Some(f) = &mut flags {
                f.replace(&flags_d);
            }
            let tokens = pipe.tokens(&mut m, rst, p.reset, [&valid, &first, &last], p.pipeline);
            (prod, flags, tokens)
        }
    };
    let (valid, first, last) = tokens;

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
        let flags = flags.unwrap_or_else(|| product_flags(&mut m, &da, &db, false));
        specials(&mut m, &flags, &clk, &en, &valid, &first, &last, &out);
    }
    modules.push(m.finish());
    modules
}

/// The product's exponent: the sum of the operands' shifts.
fn shift_amount(m: &mut ModuleBuilder, da: &DecodedSignals, db: &DecodedSignals, p: &MacArrayParams) -> Signal {
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
    m.wire_of("prod_shift", amount, "sum of the operands' shifts")
}

/// Shift the significand product into the fixed-point word.
fn align(m: &mut ModuleBuilder, prod: &Signal, prod_w: &crate::ir::Param, amount: &Signal) -> Signal {
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
    m.assign(&fixed, wide.e().shl_by(amount));
    fixed
}

/// Width of the multiplier's output as declared: PROD_W for integers, the
/// significand product's width for minifloats.
fn prod_width(prod: &Signal, prod_w: &crate::ir::Param, floats: bool) -> Width {
    if floats {
        Width::from(prod.width())
    } else {
        Width::from(prod_w)
    }
}

/// The PE's pipeline registers, all advancing with the array's enable.
struct Pipeline {
    clk: Signal,
    en: Signal,
}

impl Pipeline {
    /// One stage: each signal `x` registered as `x_q` (`x_q2`, `x_q3` for
    /// later copies of the same signal).
    fn stage(&self, m: &mut ModuleBuilder, data: &[(Signal, Width)], copy: u32) -> Vec<(Signal, Width)> {
        let regs: Vec<(Signal, Width)> = data
            .iter()
            .map(|(s, w)| {
                let base = s.name().trim_end_matches(|c: char| c.is_ascii_digit());
                let base = base.strip_suffix("_q").unwrap_or(base);
                let name = if copy == 1 {
                    format!("{base}_q")
                } else {
                    format!("{base}_q{copy}")
                };
                (
                    m.reg(&name, w.clone(), s.ty().signed, &format!("{base}, stage {copy}")),
                    w.clone(),
                )
            })
            .collect();
        let pairs: Vec<(Signal, Signal)> = data
            .iter()
            .map(|(s, _)| s.clone())
            .zip(regs.iter().map(|(r, _)| r.clone()))
            .collect();
        m.process(&self.clk, |pr| {
            pr.enable(&self.en);
            for (d, q) in &pairs {
                pr.set(q, d);
            }
        });
        regs
    }

    /// valid, first and last delayed by `depth` stages; the delay line resets
    /// to "no beat" so a pipeline filled before reset adds nothing.
    fn tokens(
        &self,
        m: &mut ModuleBuilder,
        rst: &Signal,
        style: crate::ir::ResetStyle,
        inputs: [&Signal; 3],
        depth: u32,
    ) -> (Signal, Signal, Signal) {
        let mut cur: Vec<Signal> = inputs.iter().map(|s| (*s).clone()).collect();
        for copy in 1..=depth {
            let regs: Vec<Signal> = cur
                .iter()
                .map(|s| {
                    let base = s.name().trim_end_matches("_i");
                    let base = base.trim_end_matches(|c: char| c.is_ascii_digit());
                    let base = base.strip_suffix("_q").unwrap_or(base);
                    let name = if copy == 1 {
                        format!("{base}_q")
                    } else {
                        format!("{base}_q{copy}")
                    };
                    m.reg(&name, 1, false, &format!("{base}_i, {copy} cycle(s) later"))
                })
                .collect();
            let values = regs.iter().map(|r| (LValue::from(r), Ty::BIT.zero())).collect();
            let pairs: Vec<(Signal, Signal)> = cur.iter().cloned().zip(regs.iter().cloned()).collect();
            m.process(&self.clk, |pr| {
                pr.reset(rst, style, values);
                pr.enable(&self.en);
                for (d, q) in &pairs {
                    pr.set(q, d);
                }
            });
            cur = regs;
        }
        (cur[0].clone(), cur[1].clone(), cur[2].clone())
    }
}

/// One product's special-value flags: NaN, and +inf and -inf when an
/// operand can be infinite.
struct ProductFlags {
    nan: Expr,
    pinf: Option<Expr>,
    ninf: Option<Expr>,
}

impl ProductFlags {
    /// The flags as wires, for the pipeline registers to carry.
    fn to_wires(&self, m: &mut ModuleBuilder) -> Vec<Signal> {
        let mut wires = vec![m.wire_of("prod_is_nan", self.nan.clone(), "this product is NaN")];
        if let (Some(p), Some(n)) = (&self.pinf, &self.ninf) {
            wires.push(m.wire_of("prod_pinf", p.clone(), "this product is +inf"));
            wires.push(m.wire_of("prod_ninf", n.clone(), "this product is -inf"));
        }
        wires
    }

    /// The flags read from (delayed) wires made by [`ProductFlags::to_wires`].
    fn replace(&mut self, wires: &[Signal]) {
        self.nan = wires[0].e();
        if self.pinf.is_some() {
            self.pinf = Some(wires[1].e());
            self.ninf = Some(wires[2].e());
        }
    }
}

/// NaN x anything and inf x 0 are NaN; inf x nonzero is inf with the product's sign.
fn product_flags(m: &mut ModuleBuilder, da: &DecodedSignals, db: &DecodedSignals, pipelined: bool) -> ProductFlags {
    m.section(
        "Special values",
        &[if pipelined {
            "NaN x anything and inf x 0 are NaN; inf x nonzero is inf with the product's sign. The flags travel down the pipeline with the product and stick until first_i."
        } else {
            "NaN x anything and inf x 0 are NaN; inf x nonzero is inf with the product's sign. The flags stick until first_i."
        }],
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
    ProductFlags {
        nan: prod_nan.e(),
        pinf,
        ninf,
    }
}

/// Sticky NaN and infinity flags over a dot product, and the result's code.
#[allow(clippy::too_many_arguments)]
fn specials(
    m: &mut ModuleBuilder,
    product: &ProductFlags,
    clk: &Signal,
    en: &Signal,
    valid: &Signal,
    first: &Signal,
    last: &Signal,
    out: &Signal,
) {
    let mut flags: Vec<(Signal, Signal, Signal)> = Vec::new();
    for (name, term) in [
        ("nan", Some(product.nan.clone())),
        ("pinf", product.pinf.clone()),
        ("ninf", product.ninf.clone()),
    ] {
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

//! The MAC processing element: one multiplier and one accumulator.

use super::mul;
use super::params::{MacArrayParams, Overflow};
use crate::ir::{Module, ModuleBuilder, ModuleDoc, Ty, mux};

/// Module name, e.g. `accgen_mac_pe_as8_ws8_acc20w_dsp`.
pub fn name(p: &MacArrayParams) -> String {
    format!("accgen_mac_pe_{}", p.arith_tag())
}

/// The PE and the multiplier it instantiates, dependencies first.
pub fn pe(p: &MacArrayParams) -> Vec<Module> {
    let mult = mul::multiplier(p.act, p.wgt, p.multiplier);
    let pw = p.product_width();
    let aw = p.acc_width;
    let signed = p.signed();
    let overflow = match (p.can_overflow(), p.overflow) {
        (false, _) => "never overflows (exact width)".to_string(),
        (true, Overflow::Wrap) => "wraps modulo 2^ACC_W on overflow".to_string(),
        (true, Overflow::Saturate) => "saturates to its largest or smallest value at every step".to_string(),
    };
    let mut m = ModuleBuilder::new(
        name(p),
        ModuleDoc {
            title: format!("MAC processing element: {} x {} products into a {aw}-bit accumulator", p.act, p.wgt),
            description: vec![
                "On every cycle with en_i and valid_i high the PE adds act_i * wgt_i to its accumulator; first_i restarts the sum from zero instead. On the beat with last_i high the finished sum is also copied to the result register, which holds it while the next sum accumulates.".into(),
                format!("The accumulator {overflow}."),
            ],
            params: vec![
                ("act_i".into(), p.act.to_string(), "activation format".into()),
                ("wgt_i".into(), p.wgt.to_string(), "weight format".into()),
                ("ACC_W".into(), aw.to_string(), format!("accumulator width, {}", if signed { "signed" } else { "unsigned" })),
                ("overflow".into(), format!("{:?}", p.overflow).to_lowercase(), overflow.clone()),
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
    let act = m.input("act_i", Ty::new(p.act.bits, p.act.signed), "activation");
    let wgt = m.input("wgt_i", Ty::new(p.wgt.bits, p.wgt.signed), "weight");
    let res = m.output("res_o", Ty::new(aw, signed), "last finished dot product");

    let prod_w = m.localparam(
        "PROD_W",
        pw as i64,
        &format!("{} + {}: exact product width", p.act.bits, p.wgt.bits),
    );
    let acc_w = m.localparam(
        "ACC_W",
        aw as i64,
        &if p.can_overflow() {
            "accumulator width, set in the configuration".to_string()
        } else {
            format!(
                "PROD_W + ceil(log2 {}): the sum of K products never overflows",
                p.dot_length
            )
        },
    );

    m.section("Multiplier", &[]);
    let prod = m.wire("prod", &prod_w, signed, "act_i * wgt_i, exact");
    m.instance(
        &mult,
        "u_mul",
        vec![
            ("a_i", crate::ir::drive(&act)),
            ("b_i", crate::ir::drive(&wgt)),
            ("p_o", crate::ir::sink(&prod)),
        ],
    );

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
    vec![mult, m.finish()]
}

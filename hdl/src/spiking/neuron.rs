//! The neuron unit: one time step of one neuron as combinational logic,
//! the exact counterpart of [`super::model::update`].

use super::params::{Compare, Decay, NeuronParams, Order, Overflow, ResetMode, Word};
use crate::ir::{Expr, Module, ModuleBuilder, ModuleDoc, Signal, Ty, concat, mux};

pub fn name(p: &NeuronParams) -> String {
    format!("accgen_snn_neuron_{}", p.tag())
}

/// Width of the exact arithmetic of a step: the widest term plus two bits,
/// enough for decayed membrane + input + bias - threshold.
pub fn work_width(p: &NeuronParams) -> u32 {
    let drive = match &p.synapse {
        Some(s) => s.current.width,
        None => p.accumulator.width + p.input_shift,
    };
    p.membrane.width.max(drive) + 2
}

/// A term of a state update: a signed signal, a constant, or a constant
/// that counts only when a condition holds.
pub enum Term {
    Sig(Signal),
    Lit(i64),
    When(Expr, i64),
}

fn wrap_to(c: i64, w: u32) -> i128 {
    let sh = 128 - w;
    ((c as i128) << sh) >> sh
}

impl Term {
    /// The term at `w` bits: sign-extended, or its low bits when wider
    /// (exact modulo 2^w, which is all a wrapping sum needs).
    fn at(&self, w: u32) -> Expr {
        let t = Ty::s(w);
        match self {
            Term::Sig(s) if s.width() <= w => s.e().sext(w),
            Term::Sig(s) => s.select(0u32, w).cast(true),
            Term::Lit(c) => t.lit(wrap_to(*c, w)),
            Term::When(cond, c) => mux(cond.clone(), t.lit(wrap_to(*c, w)), t.zero()),
        }
    }
}

/// The sum of `terms` brought into `word`: computed exactly in `exact`
/// (a localparam) bits and clipped symmetrically to +-(2^(W-1) - 1), or
/// computed modulo 2^W when the word wraps (the same low bits).
pub fn sum_fit(
    m: &mut ModuleBuilder,
    prefix: &str,
    terms: &[Term],
    word: Word,
    exact: &crate::ir::Param,
    doc: &str,
) -> Signal {
    let w = word.width;
    let total = |w: u32| {
        terms
            .iter()
            .map(|t| t.at(w))
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| unreachable!("a state update has terms"))
    };
    match word.overflow {
        Overflow::Wrap => m.wire_of(
            &format!("{prefix}_next"),
            total(w),
            &format!("{doc}, modulo 2^{w} (wrap)"),
        ),
        Overflow::Saturate => {
            let xw = exact.value as u32;
            let x = m.wire(&format!("{prefix}_sum"), exact, true, &format!("{doc}, exact"));
            m.assign(&x, total(xw));
            let t = Ty::s(xw);
            let max = word.max() as i128;
            let hi = m.wire_of(
                &format!("{prefix}_over"),
                x.e().gt(t.lit(max)),
                "above the largest value",
            );
            let lo = m.wire_of(
                &format!("{prefix}_under"),
                x.e().lt(t.lit(-max)),
                "below minus the largest value",
            );
            let ty = Ty::s(w);
            m.wire_of(
                &format!("{prefix}_next"),
                mux(&hi, ty.lit(max), mux(&lo, ty.lit(-max), x.select(0u32, w).cast(true))),
                "clipped symmetrically to +-(2^(W-1) - 1)",
            )
        }
    }
}

/// One step of decay of the signed signal `v`; same width.
pub fn decay_hw(m: &mut ModuleBuilder, prefix: &str, d: Decay, v: &Signal) -> Signal {
    decay_staged(m, &mut Pipe::none(), prefix, d, v)
}

/// [`decay_hw`] with the [`IN_DECAY`] cut of `pipe`: after a multiply
/// decay's product, before a shift decay's subtraction (and on the state
/// itself without a decay, so every path crosses the cut once).
pub fn decay_staged(m: &mut ModuleBuilder, pipe: &mut Pipe, prefix: &str, d: Decay, v: &Signal) -> Signal {
    let w = v.width();
    match d {
        Decay::None => pipe.one(m, IN_DECAY, v),
        Decay::Shift { k, min_decrement } => {
            let v = &pipe.one(m, IN_DECAY, v);
            let dec = m.wire_of(&format!("{prefix}_dec"), v.e().shr(k), &format!("v >>> {k}"));
            let dec = if min_decrement {
                let zero = Ty::s(w).zero();
                let small = m.wire_of(
                    &format!("{prefix}_small"),
                    v.e().gt(zero.clone()) & dec.e().eq(zero),
                    "positive but v >>> k is 0: leak at least 1 (Xylo)",
                );
                m.wire_of(
                    &format!("{prefix}_step"),
                    mux(&small, Ty::s(w).lit(1), &dec),
                    "decrement, at least 1 for a positive v",
                )
            } else {
                dec
            };
            m.wire_of(
                &format!("{prefix}_decayed"),
                v - &dec,
                "v - decrement (beta = 1 - 2^-k)",
            )
        }
        Decay::Multiply { d } => {
            // |v * (4096 - d)| <= 2^(W-1) * 2^12: W + 12 bits hold the product.
            let pw = w + 12;
            let prod = m.wire_of(
                &format!("{prefix}_prod"),
                v.e().sext(pw) * Ty::s(pw).lit(4096 - d as i128),
                &format!("v * (4096 - {d}), exact"),
            );
            let prod = pipe.one(m, IN_DECAY, &prod);
            let floor = m.wire_of(
                &format!("{prefix}_floor"),
                prod.select(12u32, w).cast(true),
                "product >>> 12, rounded toward minus infinity",
            );
            let up = m.wire_of(
                &format!("{prefix}_up"),
                prod.e().msb() & prod.select(0u32, 12).reduce_or(),
                "a negative product with a fraction: round toward zero instead",
            );
            m.wire_of(
                &format!("{prefix}_decayed"),
                &floor + mux(&up, Ty::s(w).lit(1), Ty::s(w).zero()),
                "(v * (4096 - d)) / 4096 truncated toward zero",
            )
        }
    }
}

fn fires(p: &NeuronParams, x: &Signal) -> Expr {
    let th = Ty::s(x.width()).lit(p.threshold as i128);
    match p.compare {
        Compare::Strict => x.e().gt(th),
        Compare::NonStrict => x.e().ge(th),
    }
}

fn describe(p: &NeuronParams) -> Vec<String> {
    let mut d = vec![format!(
        "Combinational: one time step of one neuron. Order: {}. Threshold {} ({}), reset {}.",
        match p.order {
            Order::IntegrateThenFire =>
                "integrate-then-fire (decay, add input and bias, compare, reset in the same step)",
            Order::ResetFromPrevious =>
                "reset-from-previous (the reset is decided from the previous membrane and applied with the new input, snnTorch Leaky)",
        },
        p.threshold,
        if p.compare == Compare::Strict {
            "v > threshold"
        } else {
            "v >= threshold"
        },
        format!("{:?}", p.reset).to_lowercase()
    )];
    d.push("Arithmetic within the step is exact; each state is brought into its width once: saturate clips to +-(2^(W-1) - 1), wrap keeps the low W bits.".into());
    d
}

fn decay_text(d: Decay) -> String {
    match d {
        Decay::None => "none".into(),
        Decay::Shift { k, min_decrement } => format!(
            "v - (v >>> {k}){}",
            if min_decrement { ", at least 1 for v > 0" } else { "" }
        ),
        Decay::Multiply { d } => format!("v * ({} / 4096), truncated toward zero", 4096 - d),
    }
}

fn params_table(p: &NeuronParams) -> Vec<(String, String, String)> {
    let word = |w: &Word| format!("{} bits, {}", w.width, format!("{:?}", w.overflow).to_lowercase());
    let mut t = vec![
        (
            "order".into(),
            format!("{:?}", p.order),
            "order of operations within a step".into(),
        ),
        ("membrane".into(), word(&p.membrane), "signed".into()),
        ("decay".into(), decay_text(p.decay), "membrane decay per step".into()),
        (
            "accumulator".into(),
            word(&p.accumulator),
            "sum of a step's event weights".into(),
        ),
    ];
    if let Some(s) = &p.synapse {
        t.push(("current".into(), word(&s.current), "CUBA synaptic current".into()));
        t.push(("current decay".into(), decay_text(s.decay), "per step".into()));
    }
    t.push((
        "input_shift".into(),
        p.input_shift.to_string(),
        "input = accumulator << input_shift".into(),
    ));
    t.push((
        "bias".into(),
        p.bias.to_string(),
        "added to the membrane every step".into(),
    ));
    t.push((
        "threshold".into(),
        format!(
            "{} {}",
            if p.compare == Compare::Strict { ">" } else { ">=" },
            p.threshold
        ),
        "spike condition".into(),
    ));
    t.push((
        "reset".into(),
        format!("{:?}", p.reset).to_lowercase(),
        "membrane after a spike".into(),
    ));
    t.push((
        "refractory".into(),
        p.refractory.to_string(),
        "steps of rest after a spike".into(),
    ));
    t
}

/// Module name of a unit with `stages` register stages.
pub fn staged_name(p: &NeuronParams, stages: u32) -> String {
    if stages == 0 {
        name(p)
    } else {
        format!("{}_pl{stages}", name(p))
    }
}

/// The neuron unit, combinational.
pub fn neuron(p: &NeuronParams) -> Module {
    neuron_staged(p, 0)
}

/// Where the register stages of a pipelined unit sit, in the order a
/// unit with more stages adds them: a cut exists when the unit has at
/// least that many stages.
pub const AFTER_DECAY: u32 = 1;
pub const AFTER_SUM: u32 = 2;
/// Inside the decays: after a multiply decay's product (before its
/// rounding), before a shift decay's subtraction.
pub const IN_DECAY: u32 = 3;

/// The pipeline registers of a unit. No reset: the core uses the outputs
/// only `stages` enabled cycles after it holds the inputs.
pub struct Pipe {
    clk: Option<Signal>,
    /// Every stage advances together, only when this is high (the core
    /// holds its pipeline while a slot's spikes wait on the output stream).
    enable: Option<Signal>,
    stages: u32,
    /// (cut, signal registered, its register).
    made: Vec<(u32, String, Signal)>,
}

impl Pipe {
    /// A combinational unit's: every cut passes its signals through.
    pub fn none() -> Pipe {
        Pipe {
            clk: None,
            enable: None,
            stages: 0,
            made: Vec::new(),
        }
    }

    /// The signals after `cut`: each `x` (port `x_i`) registered as `x_q`,
    /// a register `x_q` as `x_q2` and so on, when the unit has the cut; the
    /// same signal cut twice at one cut shares its register.
    pub fn cut(&mut self, m: &mut ModuleBuilder, cut: u32, signals: &[&Signal]) -> Vec<Signal> {
        let Some(clk) = self.clk.clone().filter(|_| cut <= self.stages) else {
            return signals.iter().map(|s| (*s).clone()).collect();
        };
        let mut new: Vec<(Signal, Signal)> = Vec::new();
        let regs = signals
            .iter()
            .map(|s| {
                if let Some((_, _, q)) = self.made.iter().find(|(c, n, _)| *c == cut && n == s.name()) {
                    return q.clone();
                }
                let name = s.name();
                let name = name.strip_suffix("_i").unwrap_or(name);
                let (base, copy) = match name.rsplit_once("_q") {
                    Some((b, "")) => (b, 2),
                    Some((b, n)) if n.bytes().all(|c| c.is_ascii_digit()) => (b, n.parse::<u32>().unwrap_or(1) + 1),
                    _ => (name, 1),
                };
                let reg_name = if copy == 1 {
                    format!("{base}_q")
                } else {
                    format!("{base}_q{copy}")
                };
                let q = m.reg(
                    &reg_name,
                    s.width(),
                    s.ty().signed,
                    &format!("{base}, pipeline copy {copy}"),
                );
                self.made.push((cut, s.name().to_string(), q.clone()));
                new.push(((*s).clone(), q.clone()));
                q
            })
            .collect();
        if !new.is_empty() {
            let enable = self.enable.clone();
            m.process(&clk, |pr| {
                let set_all = |pr: &mut crate::ir::ProcessBuilder| {
                    for (d, q) in &new {
                        pr.set(q, d);
                    }
                };
                match &enable {
                    Some(en) => pr.when(en, set_all),
                    None => set_all(pr),
                }
            });
        }
        regs
    }

    fn one(&mut self, m: &mut ModuleBuilder, cut: u32, signal: &Signal) -> Signal {
        self.cut(m, cut, &[signal]).remove(0)
    }
}

/// The neuron unit with `stages` (0..=3) register stages: after the decays
/// (1 stage), also after the membrane sum, before the threshold compare
/// and reset (2), also inside the decays (3; see [`IN_DECAY`]). The
/// function is [`neuron`]'s; outputs follow the inputs `stages` cycles later.
pub fn neuron_staged(p: &NeuronParams, stages: u32) -> Module {
    let mut m = ModuleBuilder::new(
        staged_name(p, stages),
        ModuleDoc {
            title: "Spiking neuron update, one time step".into(),
            description: describe(p),
            params: params_table(p),
            timing: vec![match stages {
                0 => "combinational".into(),
                1 => "1 register stage (after the decays): the outputs show the update of the inputs of the last cycle with en_i high".into(),
                2 => "2 register stages (after the decays, after the membrane sum), advancing together while en_i is high: the outputs show the update of the inputs 2 enabled cycles before".into(),
                _ => format!(
                    "{stages} register stages (inside the decays, after the decays, after the membrane sum), advancing together while en_i is high: the outputs show the update of the inputs {stages} enabled cycles before"
                ),
            }],
        },
    );
    let clk = (stages > 0).then(|| m.input("clk_i", Ty::BIT, "clock of the pipeline registers"));
    let enable = (stages > 0).then(|| m.input("en_i", Ty::BIT, "every pipeline stage advances (else all hold)"));
    let mut pipe = Pipe {
        clk,
        enable,
        stages,
        made: Vec::new(),
    };
    let vw = p.membrane.width;
    let v = m.input("v_i", Ty::s(vw), "membrane potential before the step");
    let cur = p
        .synapse
        .map(|s| m.input("i_i", Ty::s(s.current.width), "synaptic current before the step"));
    let refr = (p.refractory > 0).then(|| m.input("ref_i", Ty::u(p.refractory_width()), "refractory steps left"));
    let acc = m.input("acc_i", Ty::s(p.accumulator.width), "sum of event weights in this step");
    let v_o = m.output("v_o", Ty::s(vw), "membrane potential after the step");
    let i_o = p
        .synapse
        .map(|s| m.output("i_o", Ty::s(s.current.width), "synaptic current after the step"));
    let ref_o = (p.refractory > 0).then(|| {
        m.output(
            "ref_o",
            Ty::u(p.refractory_width()),
            "refractory steps left after the step",
        )
    });
    let spike_o = m.output("spike_o", Ty::BIT, "the neuron spiked");

    let xw = work_width(p);
    let sat = |w: &Word| w.overflow == Overflow::Saturate;
    // Declared only where a saturating sum uses it (an unused localparam is a lint warning).
    let unused = |name: &str, value: u32| crate::ir::Param {
        name: name.into(),
        value: value as i64,
        doc: String::new(),
    };
    let work = if sat(&p.membrane) {
        m.localparam(
            "WORK_W",
            xw as i64,
            "widest of membrane and input, + 2: exact decay + input + bias - threshold",
        )
    } else {
        unused("WORK_W", xw)
    };
    m.section("Input", &["The accumulated weights, shifted by input_shift."]);
    let aw = p.accumulator.width + p.input_shift;
    let input = if p.input_shift == 0 {
        acc.clone()
    } else {
        m.wire_of(
            "drive_in",
            concat(vec![acc.e(), Ty::u(p.input_shift).zero()]).cast(true),
            &format!("acc_i << {}", p.input_shift),
        )
    };
    // `drive`: what the membrane integrates, after stage 1 (`staged` says
    // whether it still needs its stage-1 register).
    let (drive, staged) = match (&p.synapse, &cur, &i_o) {
        (Some(s), Some(cur), Some(i_o)) => {
            m.section(
                "Synaptic current (CUBA)",
                &["i = fit(decay(i) + input): the membrane integrates the new current."],
            );
            let cw = s.current.width;
            let cur_w = cw.max(aw) + 1;
            let cur_work = if sat(&s.current) {
                m.localparam(
                    "CUR_WORK_W",
                    cur_w as i64,
                    "widest of current and input, + 1: exact decay + input",
                )
            } else {
                unused("CUR_WORK_W", cur_w)
            };
            let di = decay_staged(&mut m, &mut pipe, "cur", s.decay, cur);
            let input = pipe.one(&mut m, IN_DECAY, &input);
            let [di, input] = <[Signal; 2]>::try_from(pipe.cut(&mut m, AFTER_DECAY, &[&di, &input]))
                .unwrap_or_else(|_| unreachable!("cut keeps its signals"));
            let ni = sum_fit(
                &mut m,
                "cur",
                &[Term::Sig(di), Term::Sig(input)],
                s.current,
                &cur_work,
                "decayed current + input",
            );
            let late = pipe.one(&mut m, AFTER_SUM, &ni);
            m.assign(i_o, &late);
            (ni, true)
        }
        _ => (input, false),
    };
    m.section("Membrane", &[]);
    let dv = decay_staged(&mut m, &mut pipe, "mem", p.decay, &v);
    let zero_v = Ty::s(vw).zero();
    let terms = |dv: &Signal, drive: &Signal| {
        let mut t = vec![Term::Sig(dv.clone()), Term::Sig(drive.clone())];
        if p.bias != 0 {
            t.push(Term::Lit(p.bias));
        }
        t
    };
    // Stage 1 takes the decayed membrane, the input when no current took it,
    // and whatever the later stages still need of the inputs.
    let stage1 = |m: &mut ModuleBuilder, pipe: &mut Pipe, extra: &[&Signal]| -> (Signal, Signal, Vec<Signal>) {
        let mut early = Vec::new();
        if !staged {
            early.push(&drive);
        }
        early.extend_from_slice(extra);
        let early = pipe.cut(m, IN_DECAY, &early);
        let mut sigs = vec![&dv];
        sigs.extend(early.iter());
        let mut out = pipe.cut(m, AFTER_DECAY, &sigs).into_iter();
        let dv1 = out.next().unwrap_or_else(|| unreachable!("cut keeps its signals"));
        let drive1 = if staged {
            drive.clone()
        } else {
            out.next().unwrap_or_else(|| unreachable!("cut keeps its signals"))
        };
        (dv1, drive1, out.collect())
    };
    match p.order {
        Order::IntegrateThenFire => {
            // A resting neuron keeps its membrane: the input membrane travels
            // down the pipeline only when there is a refractory period.
            let keep_v = p.refractory > 0 || stages == 0;
            let mut carried: Vec<&Signal> = Vec::new();
            if keep_v {
                carried.push(&v);
            }
            if let Some(r) = &refr {
                carried.push(r);
            }
            let (dv1, drive1, carried1) = stage1(&mut m, &mut pipe, &carried);
            let x = sum_fit(
                &mut m,
                "mem",
                &terms(&dv1, &drive1),
                p.membrane,
                &work,
                "decay(v) + input + bias",
            );
            let mut to2: Vec<&Signal> = vec![&x];
            to2.extend(carried1.iter());
            let mut late = pipe.cut(&mut m, AFTER_SUM, &to2).into_iter();
            let x = late.next().unwrap_or_else(|| unreachable!("cut keeps its signals"));
            let v_late = keep_v.then(|| late.next().unwrap_or_else(|| unreachable!("cut keeps its signals")));
            let refr = refr
                .as_ref()
                .map(|_| late.next().unwrap_or_else(|| unreachable!("cut keeps its signals")));
            let rest = match &refr {
                Some(r) => m.wire_of("resting", r.e().ne(Ty::u(r.width()).zero()), "in the refractory period"),
                None => m.wire_of("resting", Ty::BIT.zero(), "no refractory period"),
            };
            let fire = m.wire_of(
                "fire",
                !rest.e() & fires(p, &x),
                "crosses the threshold and is not resting",
            );
            let after = match p.reset {
                ResetMode::Zero => zero_v,
                ResetMode::Subtract => &x - Ty::s(vw).lit(p.threshold as i128),
                ResetMode::None => x.e(),
            };
            let reset_v = m.wire_of("mem_reset", after, "membrane of a spiking neuron");
            match &v_late {
                Some(v) => m.assign(&v_o, mux(&rest, v, mux(&fire, &reset_v, &x))),
                None => m.assign(&v_o, mux(&fire, &reset_v, &x)),
            }
            m.assign(&spike_o, &fire);
            if let (Some(r), Some(ro)) = (&refr, &ref_o) {
                let rt = Ty::u(r.width());
                m.assign(
                    ro,
                    mux(
                        &rest,
                        r - rt.lit(1),
                        mux(&fire, rt.lit(p.refractory as i128), rt.zero()),
                    ),
                );
            }
        }
        Order::ResetFromPrevious => {
            // Without a reset the previous membrane's crossing changes nothing.
            let r = (p.reset != ResetMode::None)
                .then(|| m.wire_of("reset_now", fires(p, &v), "the previous membrane crossed the threshold"));
            let carried: Vec<&Signal> = r.iter().collect();
            let (dv1, drive1, carried1) = stage1(&mut m, &mut pipe, &carried);
            let r = carried1.into_iter().next();
            let nv = match (p.reset, &r) {
                (ResetMode::Subtract, Some(r)) => {
                    let mut t = terms(&dv1, &drive1);
                    t.push(Term::When(r.e(), -p.threshold));
                    sum_fit(
                        &mut m,
                        "mem",
                        &t,
                        p.membrane,
                        &work,
                        "decay(v) + input + bias - r * threshold",
                    )
                }
                (ResetMode::Zero, Some(r)) => {
                    let kept = m.wire_of(
                        "mem_kept",
                        mux(r, Ty::s(vw).zero(), &dv1),
                        "decayed membrane, 0 when resetting",
                    );
                    sum_fit(
                        &mut m,
                        "mem",
                        &terms(&kept, &drive1),
                        p.membrane,
                        &work,
                        "(r ? 0 : decay(v)) + input + bias",
                    )
                }
                _ => sum_fit(
                    &mut m,
                    "mem",
                    &terms(&dv1, &drive1),
                    p.membrane,
                    &work,
                    "decay(v) + input + bias",
                ),
            };
            let nv = pipe.one(&mut m, AFTER_SUM, &nv);
            m.assign(&v_o, &nv);
            m.assign(&spike_o, fires(p, &nv));
        }
    }
    m.finish()
}

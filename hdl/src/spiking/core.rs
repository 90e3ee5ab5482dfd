//! The time-multiplexed core: N neurons on P neuron units, neuron n on unit
//! n % P at slot n / P. Two memories, both in the form synthesis maps to
//! block RAM (one write port, one registered read port):
//!
//! - the state memory, SLOTS = N/P words of P neuron states (membrane,
//!   current, refractory counter, accumulator), read and written by slot;
//! - the synapse memory, N_in x SLOTS words of P signed weights: the weight
//!   from input a to neuron n is word a*SLOTS + n/P, unit n % P.
//!
//! A small controller walks the slots: an input event adds one weight word
//! per cycle to P accumulators (SLOTS + 1 cycles per event); a tick updates
//! P neurons per slot and emits the slot's spikes one per cycle.

use super::neuron;
use super::params::{CoreParams, NeuronParams};
use crate::ir::{Expr, Module, ModuleBuilder, ModuleDoc, PortConn, Ty, concat, drive, mux, sink};

/// Controller states.
const INIT: i128 = 0;
const IDLE: i128 = 1;
const ACCUM: i128 = 2;
const UPDATE: i128 = 3;
const EMIT: i128 = 4;
const TICK: i128 = 5;

/// Bit offsets of a neuron's fields in its state word: v, i, ref, acc from the bottom.
pub struct StateLayout {
    pub v: (u32, u32),
    pub i: Option<(u32, u32)>,
    pub refr: Option<(u32, u32)>,
    pub acc: (u32, u32),
    pub width: u32,
}

impl StateLayout {
    pub fn of(p: &NeuronParams) -> StateLayout {
        let mut at = 0;
        let mut field = |w: u32| {
            let f = (at, w);
            at += w;
            f
        };
        let v = field(p.membrane.width);
        let i = p.synapse.map(|s| field(s.current.width));
        let refr = (p.refractory > 0).then(|| field(p.refractory_width()));
        let acc = field(p.accumulator.width);
        StateLayout {
            v,
            i,
            refr,
            acc,
            width: at,
        }
    }
}

fn describe(p: &CoreParams) -> Vec<String> {
    vec![
        format!(
            "{} neurons time-multiplexed over {} neuron units ({} slots each), {} input addresses, {}-bit signed weights.",
            p.neurons,
            p.units,
            p.slots(),
            p.inputs,
            p.weight_width
        ),
        "Input stream in_*: an event is {tick, address}; tick = 0 adds the weight row of input `address` to every neuron's accumulator (event-driven, one word of P weights per cycle), tick = 1 ends the time step: every neuron updates once, in slot order, and the spikes leave on the output stream.".into(),
        "Output stream out_*: {0, neuron address} for each spike of the step in address order, then {1, 0} marks the end of the step. The format matches the input stream, so a second core can take the output directly.".into(),
        "Weight-load port wl_*: word wl_addr_i = input*SLOTS + neuron/P holds the P weights of that input to neurons slot*P .. slot*P + P - 1, unit u at bits [u*W_W +: W_W]. Always ready; load while no event is being accumulated.".into(),
        "After reset the core clears the state memory (SLOTS cycles, in_ready_o low).".into(),
        "Both streams follow the valid/ready rule: valid never waits on ready and, once raised, stays until the handshake.".into(),
    ]
}

fn timing(p: &CoreParams) -> Vec<String> {
    vec![
        format!(
            "an input event: {} cycles (1 to accept, then one cycle per slot, P = {} synaptic operations per cycle)",
            p.cycles_per_event(),
            p.units
        ),
        if p.pipeline == 0 {
            format!(
                "a tick: 1 cycle to accept, then per slot 1 update cycle and max(1, spikes in the slot) emit cycles (more under back-pressure), then 1 cycle for the end-of-step marker: {} cycles with no spikes",
                p.step_cycles()
            )
        } else {
            format!(
                "a tick: 1 cycle to accept, {} cycles filling the neuron units' {}-stage pipeline, then per slot max(1, spikes in the slot) cycles (slots overlap in the pipeline: the next slot's update leaves it with the slot's last spike; the pipeline holds under back-pressure), 1 cycle for the last slot's spikes, then 1 cycle for the end-of-step marker: {} cycles with no spikes",
                p.pipeline,
                p.pipeline,
                p.step_cycles()
            )
        },
        format!("after reset: {} cycles clearing the state memory", p.slots()),
    ]
}

/// The core and the neuron unit it instantiates.
pub fn core(p: &CoreParams) -> Vec<Module> {
    let np = &p.neuron;
    let unit = neuron::neuron_staged(np, p.pipeline);
    let lay = StateLayout::of(np);
    let units = p.units;
    let mut m = ModuleBuilder::new(
        p.top_name(),
        ModuleDoc {
            title: format!("Spiking-neuron core: {} neurons on {} units", p.neurons, p.units),
            description: describe(p),
            params: vec![
                ("N".into(), p.neurons.to_string(), "neurons".into()),
                ("N_IN".into(), p.inputs.to_string(), "input addresses".into()),
                ("P".into(), p.units.to_string(), "physical neuron units".into()),
                ("W_W".into(), p.weight_width.to_string(), "weight width, signed".into()),
                ("neuron".into(), unit.name.clone(), "neuron unit".into()),
            ],
            timing: timing(p),
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let rst = m.input(p.reset.port_name(), Ty::BIT, p.reset.doc());
    let in_valid = m.input("in_valid_i", Ty::BIT, "input event offered");
    let in_ready = m.output("in_ready_o", Ty::BIT, "input event taken");
    let in_data = m.input("in_data_i", Ty::u(p.in_event_width()), "{tick, input address}");
    let out_valid = m.output("out_valid_o", Ty::BIT, "output event offered");
    let out_ready = m.input("out_ready_i", Ty::BIT, "output event taken");
    let out_data = m.output(
        "out_data_o",
        Ty::u(p.out_event_width()),
        "{end of step, neuron address}",
    );
    let wl_valid = m.input("wl_valid_i", Ty::BIT, "weight word offered");
    let wl_ready = m.output("wl_ready_o", Ty::BIT, "weight word taken (always)");
    let wl_addr = m.input(
        "wl_addr_i",
        Ty::u(p.synapse_addr_width()),
        "synapse word: input*SLOTS + neuron/P",
    );
    let wl_data = m.input(
        "wl_data_i",
        Ty::u(units * p.weight_width),
        "P weights, unit u at [u*W_W +: W_W]",
    );

    let slots = m.localparam("SLOTS", p.slots() as i64, "N / P: neurons per unit");
    let n_in = m.localparam("N_IN", p.inputs as i64, "input addresses");
    // With one unit a slot is the whole word and these widths would go unused.
    let state_w = if units > 1 {
        m.localparam(
            "STATE_W",
            lay.width as i64,
            "membrane + current + refractory + accumulator bits of one neuron",
        )
    } else {
        crate::ir::Param {
            name: "ROW_W".into(),
            value: lay.width as i64,
            doc: String::new(),
        }
    };
    let row_w = m.localparam(
        "ROW_W",
        (units * lay.width) as i64,
        "P * STATE_W: one slot of the state memory",
    );
    let w_w = if units > 1 {
        m.localparam("W_W", p.weight_width as i64, "weight width")
    } else {
        crate::ir::Param {
            name: "WROW_W".into(),
            value: p.weight_width as i64,
            doc: String::new(),
        }
    };
    let wrow_w = m.localparam(
        "WROW_W",
        (units * p.weight_width) as i64,
        "P * W_W: one word of the synapse memory",
    );
    let sw = p.slot_width();
    let ia = p.input_addr_width();
    let sa = p.synapse_addr_width();
    let na = p.neuron_addr_width();
    let _ = &n_in;

    m.section("Controller", &["INIT clears the state memory; IDLE takes events; ACCUM adds one weight word per slot; UPDATE and EMIT walk the slots on a tick; TICK sends the end-of-step marker."]);
    let ft = Ty::u(3);
    let fsm_q = m.reg("fsm_q", 3, false, "0 INIT, 1 IDLE, 2 ACCUM, 3 UPDATE, 4 EMIT, 5 TICK");
    let slot_q = m.reg("slot_q", sw, false, "slot being accumulated, updated or emitted");
    let src_q = m.reg("src_q", ia, false, "input address of the event being accumulated");
    let spk_q = m.reg(
        "spk_q",
        units,
        false,
        "spikes of the slot not yet emitted, one per unit",
    );
    // With pipelined neuron units the slots of a tick overlap: UPDATE reads
    // a new slot every cycle the pipeline advances, and a slot leaving the
    // pipeline is written back and its spikes taken while later slots are
    // still in flight. The whole pipeline (read register included) holds
    // while the taken slot still has spikes to send, so spikes leave in
    // address order with the unpipelined protocol. A slot is read once per
    // step and the end-of-step marker (so the next read of any slot) waits
    // for the last write-back: no slot is read while its update is in flight.
    let pipelined = p.pipeline > 0;
    let depth = p.pipeline;
    let vld_q = pipelined.then(|| {
        m.reg(
            "vld_q",
            depth + 1,
            false,
            "a slot of the step is in the read register (bit 0) or after neuron stage k (bit k)",
        )
    });
    let eslot_q = (pipelined && p.slots() > 1).then(|| {
        m.reg(
            "eslot_q",
            sw,
            false,
            "slot last written back: its spikes are in spk_q (SLOTS - 1 between steps)",
        )
    });
    let is = |m: &mut ModuleBuilder, name: &str, s: i128| m.wire_of(name, fsm_q.e().eq(ft.lit(s)), "");
    let st_init = is(&mut m, "st_init", INIT);
    let st_idle = is(&mut m, "st_idle", IDLE);
    let st_accum = is(&mut m, "st_accum", ACCUM);
    let st_update = is(&mut m, "st_update", UPDATE);
    let st_emit = is(&mut m, "st_emit", EMIT);
    let st_tick = is(&mut m, "st_tick", TICK);
    let st = Ty::u(sw);
    let in_tick = m.wire_of("in_tick", in_data.bit(ia), "the event ends the time step");
    let in_addr = m.wire_of("in_addr", in_data.select(0u32, ia), "input address of the event");
    let in_fire = m.wire_of("in_fire", &in_valid & &st_idle, "an event is accepted");
    let last_slot = m.wire_of("last_slot", slot_q.e().eq(st.lit(p.slots() as i128 - 1)), "");
    let spk_rest = m.wire_of(
        "spk_rest",
        &spk_q & (&spk_q - Ty::u(units).lit(1)),
        "spk_q without its lowest spike",
    );
    let spk_none = Ty::u(units).zero();
    let emit_done = m.wire_of(
        "emit_done",
        spk_q.e().eq(spk_none.clone()) | (spk_rest.e().eq(spk_none.clone()) & out_ready.e()),
        "the slot's last spike leaves (or it had none)",
    );
    // Pipelined: `pl_en` advances the read register and every neuron stage.
    let pl_en = pipelined.then(|| {
        m.wire_of(
            "pl_en",
            &st_update & &emit_done,
            "the pipeline advances: no spike of an earlier slot is left waiting",
        )
    });
    let upd_done = match (&pl_en, &vld_q) {
        (Some(en), Some(v)) => m.wire_of(
            "upd_done",
            en & v.bit(depth),
            "a slot's update leaves the neuron pipeline: written back, its spikes taken",
        ),
        _ => st_update.clone(),
    };
    let upd_end = match (&pl_en, &vld_q) {
        (Some(en), Some(v)) => Some(m.wire_of(
            "upd_end",
            en & v.e().eq(Ty::u(depth + 1).zero()),
            "the last slot's spikes have left and the pipeline is empty",
        )),
        _ => None,
    };
    let eslot_inc = eslot_q.as_ref().map(|q| {
        m.wire_of(
            "eslot_inc",
            mux(q.e().eq(st.lit(p.slots() as i128 - 1)), st.zero(), q + st.lit(1)),
            "slot leaving the neuron pipeline now (slots leave in order)",
        )
    });
    let fsm_d = m.wire_of(
        "fsm_d",
        mux(
            &st_init,
            mux(&last_slot, ft.lit(IDLE), ft.lit(INIT)),
            mux(
                &st_idle,
                mux(&in_fire, mux(&in_tick, ft.lit(UPDATE), ft.lit(ACCUM)), ft.lit(IDLE)),
                mux(
                    &st_accum,
                    mux(&last_slot, ft.lit(IDLE), ft.lit(ACCUM)),
                    mux(
                        &st_update,
                        match &upd_end {
                            Some(end) => mux(end, ft.lit(TICK), ft.lit(UPDATE)),
                            None => ft.lit(EMIT),
                        },
                        mux(
                            &st_emit,
                            mux(&emit_done, mux(&last_slot, ft.lit(TICK), ft.lit(UPDATE)), ft.lit(EMIT)),
                            mux(&out_ready, ft.lit(IDLE), ft.lit(TICK)),
                        ),
                    ),
                ),
            ),
        ),
        "next controller state",
    );
    let slot_inc = if p.slots() == 1 {
        m.wire_of("slot_inc", st.zero(), "one slot: always slot 0")
    } else {
        m.wire_of(
            "slot_inc",
            mux(&last_slot, st.zero(), &slot_q + st.lit(1)),
            "next slot, wrapping",
        )
    };
    let advance = match (&pl_en, &upd_end) {
        (Some(en), Some(end)) => m.wire_of(
            "advance",
            &st_init | &st_accum | (en & !&last_slot) | end,
            "move to the next slot (UPDATE: read the next slot; back to 0 at the end)",
        ),
        _ => m.wire_of(
            "advance",
            &st_init | &st_accum | (&st_emit & &emit_done),
            "move to the next slot",
        ),
    };
    let slot_d = m.wire_of(
        "slot_d",
        mux(&advance, &slot_inc, &slot_q),
        "next slot: the state memory reads it now",
    );
    let src_d = m.wire_of(
        "src_d",
        mux(&in_fire, &in_addr, &src_q),
        "input address of the next cycle",
    );
    let at = Ty::u(sa);
    let wgt_addr = m.wire_of(
        "wgt_addr",
        src_d.e().zext(sa) * at.lit(p.slots() as i128) + slot_d.e().zext(sa),
        "synapse word read now: src_d * SLOTS + slot_d",
    );

    m.section("Memories", &["Registered reads one cycle ahead: in a cycle at slot s the read data holds slot s (read at slot_d in the cycle before), so each slot is read, modified and written back in one cycle."]);
    let state_mem = m.memory("state_mem", &row_w, &slots, "neuron states, one slot per word");
    let wgt_mem = m.memory(
        "wgt_mem",
        &wrow_w,
        crate::ir::Width::named(p.synapse_words(), "N_IN*SLOTS"),
        "synapse weights",
    );
    if let Some(f) = &p.weight_init {
        m.readmemh(&wgt_mem, f);
    }
    let state_rd_q = m.reg("state_rd_q", &row_w, false, "state_mem[slot], read a cycle ago");
    let wgt_rd_q = m.reg(
        "wgt_rd_q",
        &wrow_w,
        false,
        "wgt_mem[src*SLOTS + slot], read a cycle ago",
    );

    m.section(
        "Accumulate and update",
        &["Per unit: the accumulator plus this slot's weight (ACCUM), and the neuron update (UPDATE)."],
    );
    let acc_row = m.wire("acc_row", &row_w, false, "state words with the event's weights added");
    let upd_row = m.wire("upd_row", &row_w, false, "state words after the time step");
    let spikes = m.wire("spikes", units, false, "spikes of the slot, one per unit");
    let aw = np.accumulator.width;
    let ww = p.weight_width;
    let acc_work = if np.accumulator.overflow == super::params::Overflow::Saturate {
        m.localparam(
            "ACC_WORK_W",
            aw as i64 + 1,
            "accumulator width + 1: exact accumulator + weight",
        )
    } else {
        crate::ir::Param {
            name: "ACC_WORK_W".into(),
            value: aw as i64 + 1,
            doc: String::new(),
        }
    };
    let sw_u = lay.width;
    m.gen_for("gen_unit", "u", units, |m, u| {
        let base = u * sw_u as i64;
        let field = |(lo, w): (u32, u32)| state_rd_q.select(base.clone() + lo as i64, w).cast(true);
        let acc = m.wire_of("acc", field(lay.acc), "accumulator of this unit's neuron");
        let wgt = m.wire_of(
            "wgt",
            wgt_rd_q.select(u * ww as i64, &w_w).cast(true),
            "its weight from the event's input",
        );
        let nacc = neuron::sum_fit(
            m,
            "acc",
            &[neuron::Term::Sig(acc.clone()), neuron::Term::Sig(wgt)],
            np.accumulator,
            &acc_work,
            "accumulator + weight",
        );
        let keep_w = sw_u - lay.acc.1;
        m.assign(
            acc_row.part(base.clone(), &state_w),
            concat(vec![nacc.e().cast(false), state_rd_q.select(base.clone(), keep_w)]),
        );
        let v = m.wire_of("v", field(lay.v), "membrane");
        let mut conns: Vec<(&str, PortConn)> = vec![("v_i", drive(&v)), ("acc_i", drive(&acc))];
        if let Some(en) = &pl_en {
            conns.insert(0, ("clk_i", drive(&clk)));
            conns.insert(1, ("en_i", drive(en)));
        }
        let i = lay.i.map(|f| m.wire_of("cur", field(f), "synaptic current"));
        let r = lay.refr.map(|f| {
            m.wire_of(
                "refr",
                state_rd_q.select(base.clone() + f.0 as i64, f.1),
                "refractory counter",
            )
        });
        let nv = m.wire("v_next", np.membrane.width, true, "membrane after the step");
        let ni = lay.i.map(|f| m.wire("cur_next", f.1, true, "current after the step"));
        let nr = lay
            .refr
            .map(|f| m.wire("refr_next", f.1, false, "refractory counter after the step"));
        if let (Some(i), Some(ni)) = (&i, &ni) {
            conns.push(("i_i", drive(i)));
            conns.push(("i_o", sink(ni)));
        }
        if let (Some(r), Some(nr)) = (&r, &nr) {
            conns.push(("ref_i", drive(r)));
            conns.push(("ref_o", sink(nr)));
        }
        conns.push(("v_o", sink(&nv)));
        conns.push(("spike_o", sink(spikes.part(u, 1))));
        m.instance(&unit, "u_neuron", conns);
        let mut parts: Vec<Expr> = vec![Ty::u(aw).zero()];
        if let Some(nr) = &nr {
            parts.push(nr.e());
        }
        if let Some(ni) = &ni {
            parts.push(ni.e().cast(false));
        }
        parts.push(nv.e().cast(false));
        m.assign(upd_row.part(base, &state_w), concat(parts));
    });

    m.section("Sequencing", &[]);
    let state_we = m.wire_of(
        "state_we",
        &st_init | &st_accum | &upd_done,
        "the state memory is written at slot_q",
    );
    let row_t = Ty::u(row_w.value as u32);
    let state_wdata = m.wire_of(
        "state_wdata",
        mux(&st_init, row_t.zero(), mux(&st_accum, &acc_row, &upd_row)),
        "zeros, accumulated or updated states",
    );
    let out_spike = m.wire_of(
        "out_spike",
        if pipelined { &st_update } else { &st_emit } & spk_q.e().ne(spk_none.clone()),
        "a spike is offered",
    );
    let spk_slot = eslot_q.as_ref().unwrap_or(&slot_q);
    let emit_hs = m.wire_of("emit_hs", &out_spike & &out_ready, "a spike leaves");
    let ub = crate::params::clog2(units as u64);
    let addr = if ub == 0 {
        spk_slot.e().zext(na)
    } else {
        let ut = Ty::u(ub);
        let mut idx = ut.lit(units as i128 - 1);
        for k in (0..units - 1).rev() {
            idx = mux(spk_q.bit(k), ut.lit(k as i128), idx);
        }
        let low = m.wire_of("spk_unit", idx, "unit of the lowest pending spike");
        if p.slots() == 1 {
            // One slot: the address is the unit (P = N need not fit NA bits).
            low.e().zext(na)
        } else {
            let nt = Ty::u(na);
            spk_slot.e().zext(na) * nt.lit(units as i128) + low.e().zext(na)
        }
    };
    let spike_addr = m.wire_of("spike_addr", addr, "neuron address: slot * P + unit");
    m.assign(&in_ready, &st_idle);
    m.assign(&out_valid, &out_spike | &st_tick);
    m.assign(
        &out_data,
        mux(
            &st_tick,
            concat(vec![Ty::BIT.lit(1), Ty::u(na).zero()]),
            concat(vec![Ty::BIT.zero(), spike_addr.e()]),
        ),
    );
    m.assign(&wl_ready, Ty::BIT.lit(1));

    let (fsm_q2, slot_q2, spk_q2, src_q2) = (fsm_q.clone(), slot_q.clone(), spk_q.clone(), src_q.clone());
    let (vld_q2, eslot_q2) = (vld_q.clone(), eslot_q.clone());
    let reset = p.reset;
    m.process(&clk, |pr| {
        let mut values = vec![
            ((&fsm_q2).into(), ft.lit(INIT)),
            ((&slot_q2).into(), st.zero()),
            ((&spk_q2).into(), Ty::u(units).zero()),
            ((&src_q2).into(), Ty::u(ia).zero()),
        ];
        if let Some(q) = &vld_q2 {
            values.push((q.into(), Ty::u(depth + 1).zero()));
        }
        if let Some(q) = &eslot_q2 {
            values.push((q.into(), st.lit(p.slots() as i128 - 1)));
        }
        pr.reset(&rst, reset, values);
        pr.set(&fsm_q2, &fsm_d);
        pr.set(&slot_q2, &slot_d);
        pr.set(&src_q2, &src_d);
        if let (Some(q), Some(en)) = (&vld_q2, &pl_en) {
            let t = Ty::u(depth + 1);
            let shifted = concat(vec![q.select(0u32, depth), !&last_slot]);
            pr.set(q, mux(&in_fire & &in_tick, t.lit(1), mux(en, shifted, q.e())));
        }
        if let (Some(q), Some(inc)) = (&eslot_q2, &eslot_inc) {
            pr.when(&upd_done, |pr| pr.set(q, inc));
        }
        pr.when_else(
            &upd_done,
            |pr| pr.set(&spk_q2, &spikes),
            |pr| pr.when(&emit_hs, |pr| pr.set(&spk_q2, &spk_rest)),
        );
    });
    let (sm, wm) = (state_mem.clone(), wgt_mem.clone());
    m.process(&clk, |pr| {
        let wr_slot = match &eslot_inc {
            Some(inc) => mux(&st_update, inc, &slot_q),
            None => slot_q.e(),
        };
        pr.when(&state_we, |pr| pr.write_mem(&sm, wr_slot, &state_wdata));
        pr.set(&state_rd_q, sm.read(slot_d.e()));
    });
    m.process(&clk, |pr| {
        pr.when(&wl_valid, |pr| pr.write_mem(&wm, wl_addr.e(), &wl_data));
        pr.set(&wgt_rd_q, wm.read(wgt_addr.e()));
    });
    vec![unit, m.finish()]
}

/// Top module name of two chained cores: both cores' names, shortened
/// as [`Design::assemble`](crate::design::Design::assemble) will print it
/// when that is too long for Verilator (two Loihi cores are).
pub fn chain_name(first: &CoreParams, second: &CoreParams) -> String {
    let strip = |n: String| n.trim_start_matches("accgen_snn_core_").to_string();
    crate::design::short_module_name(&format!(
        "accgen_snn_chain_{}__{}",
        strip(first.top_name()),
        strip(second.top_name())
    ))
}

/// Two cores in a row: the output events of the first are the input events
/// of the second (a two-layer feed-forward network; layer 2's inputs are
/// layer 1's neurons). The stream between them is also brought out as a
/// read-only tap (`mid_*`) so layer-1 spikes can be checked.
///
/// The caller guarantees `second.inputs == first.neurons` and one reset
/// style (see [`chain_params_error`]).
pub fn chain(first: &CoreParams, second: &CoreParams) -> Vec<Module> {
    let mut mods = core(first);
    let c1 = mods.pop().unwrap_or_else(|| unreachable!("core emits its top"));
    let mut rest = core(second);
    let c2 = rest.pop().unwrap_or_else(|| unreachable!("core emits its top"));
    mods.extend(rest);
    let mut m = ModuleBuilder::new(
        chain_name(first, second),
        ModuleDoc {
            title: "Two spiking cores in a row: layer 1's output events feed layer 2".into(),
            description: vec![
                "The input stream goes to layer 1; every spike of layer 1 (and its end-of-step marker) is an input event of layer 2, so layer 2 sees step t's layer-1 spikes in its step t. Back-pressure from layer 2 stalls layer 1's output.".into(),
                "wl1_* and wl2_* load each layer's weights (see the cores' headers for the word layout). mid_* shows the events between the layers.".into(),
            ],
            params: vec![
                ("layer 1".into(), c1.name.clone(), String::new()),
                ("layer 2".into(), c2.name.clone(), String::new()),
            ],
            timing: vec!["as the two cores; layer 2 starts a step's events as layer 1 emits them".into()],
        },
    );
    let clk = m.input("clk_i", Ty::BIT, "clock");
    let rst = m.input(first.reset.port_name(), Ty::BIT, first.reset.doc());
    let in_valid = m.input("in_valid_i", Ty::BIT, "input event offered");
    let in_ready = m.output("in_ready_o", Ty::BIT, "input event taken");
    let in_data = m.input("in_data_i", Ty::u(first.in_event_width()), "{tick, input address}");
    let out_valid = m.output("out_valid_o", Ty::BIT, "layer-2 event offered");
    let out_ready = m.input("out_ready_i", Ty::BIT, "layer-2 event taken");
    let out_data = m.output(
        "out_data_o",
        Ty::u(second.out_event_width()),
        "{end of step, layer-2 neuron}",
    );
    let mid_valid = m.output("mid_valid_o", Ty::BIT, "layer-1 event offered (tap)");
    let mid_ready = m.output("mid_ready_o", Ty::BIT, "layer-1 event taken by layer 2 (tap)");
    let mid_data = m.output(
        "mid_data_o",
        Ty::u(first.out_event_width()),
        "{end of step, layer-1 neuron} (tap)",
    );
    let mut wl = Vec::new();
    for (k, p) in [(1, first), (2, second)] {
        wl.push((
            m.input(
                &format!("wl{k}_valid_i"),
                Ty::BIT,
                &format!("layer-{k} weight word offered"),
            ),
            m.output(
                &format!("wl{k}_ready_o"),
                Ty::BIT,
                &format!("layer-{k} weight word taken"),
            ),
            m.input(&format!("wl{k}_addr_i"), Ty::u(p.synapse_addr_width()), "synapse word"),
            m.input(&format!("wl{k}_data_i"), Ty::u(p.units * p.weight_width), "P weights"),
        ));
    }
    m.section("Layers", &[]);
    let mv = m.wire("l1_valid", 1, false, "layer-1 event offered");
    let mr = m.wire("l1_ready", 1, false, "layer 2 takes it");
    let md = m.wire("l1_data", first.out_event_width(), false, "layer-1 event");
    let (w1, w2) = (&wl[0], &wl[1]);
    m.instance(
        &c1,
        "u_layer1",
        vec![
            ("clk_i", drive(&clk)),
            (first.reset.port_name(), drive(&rst)),
            ("in_valid_i", drive(&in_valid)),
            ("in_ready_o", sink(&in_ready)),
            ("in_data_i", drive(&in_data)),
            ("out_valid_o", sink(&mv)),
            ("out_ready_i", drive(&mr)),
            ("out_data_o", sink(&md)),
            ("wl_valid_i", drive(&w1.0)),
            ("wl_ready_o", sink(&w1.1)),
            ("wl_addr_i", drive(&w1.2)),
            ("wl_data_i", drive(&w1.3)),
        ],
    );
    m.instance(
        &c2,
        "u_layer2",
        vec![
            ("clk_i", drive(&clk)),
            (second.reset.port_name(), drive(&rst)),
            ("in_valid_i", drive(&mv)),
            ("in_ready_o", sink(&mr)),
            ("in_data_i", drive(&md)),
            ("out_valid_o", sink(&out_valid)),
            ("out_ready_i", drive(&out_ready)),
            ("out_data_o", sink(&out_data)),
            ("wl_valid_i", drive(&w2.0)),
            ("wl_ready_o", sink(&w2.1)),
            ("wl_addr_i", drive(&w2.2)),
            ("wl_data_i", drive(&w2.3)),
        ],
    );
    m.assign(&mid_valid, &mv);
    m.assign(&mid_ready, &mr);
    m.assign(&mid_data, &md);
    mods.push(c1);
    mods.push(c2);
    mods.push(m.finish());
    mods
}

/// Why two cores cannot be chained, if they cannot.
pub fn chain_params_error(first: &CoreParams, second: &CoreParams) -> Option<String> {
    if second.inputs != first.neurons {
        return Some(format!(
            "layer 2 has {} inputs but layer 1 has {} neurons; they must be equal",
            second.inputs, first.neurons
        ));
    }
    if second.reset != first.reset {
        return Some("both layers need the same reset style".into());
    }
    None
}

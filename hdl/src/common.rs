//! Structures that several blocks build: reduction trees over flat buses.

use crate::ir::{Expr, ModuleBuilder, Param, Signal};

/// OR together the `count` slices of `bus`, each `slice` bits wide, as a
/// balanced tree with one named bus per level (a chain through one signal
/// would read as a combinational loop to simulators). Returns the result.
pub fn or_tree(m: &mut ModuleBuilder, prefix: &str, bus: &Signal, count: u32, slice: &Param) -> Expr {
    let w = slice.value as u32;
    let mut level_bus = bus.clone();
    let mut n = count;
    let mut level = 0;
    while n > 1 {
        level += 1;
        let half = n / 2;
        let next_n = n.div_ceil(2);
        let next = m.wire(
            &format!("{prefix}_l{level}"),
            slice.times(next_n),
            false,
            &format!("level {level}: {next_n} partial ORs"),
        );
        let src = level_bus.clone();
        if half == 1 {
            m.assign(next.part(0u32, slice), src.select(0u32, slice) | src.select(w, slice));
        } else {
            let n = &slice.name;
            m.gen_for(&format!("gen_{prefix}_l{level}"), "i", half, |m, i| {
                let lo = (i * (2 * w as i64)).named(format!("2*i*{n}"));
                let hi = (i * (2 * w as i64) + w as i64).named(format!("(2*i + 1)*{n}"));
                m.assign(
                    next.part((i * w as i64).named(format!("i*{n}")), slice),
                    src.select(lo, slice) | src.select(hi, slice),
                );
            });
        }
        if n % 2 == 1 {
            m.assign(next.part(half * w, w), src.select((n - 1) * w, w));
        }
        level_bus = next;
        n = next_n;
    }
    level_bus.select(0u32, w)
}

/// Count the leading zeros of `x` with a balanced tree (depth log2 of the
/// width): pairs of bits give a valid flag and a one-bit count, and each
/// level merges two groups, taking the upper group's count when it holds a
/// one. `x` is padded with zeros below to a power of two, which changes
/// nothing unless `x` is zero (then the count is the padded width). Returns
/// the count, `bits_for(padded width)` bits wide.
pub fn leading_zeros(m: &mut ModuleBuilder, prefix: &str, x: &Signal) -> Signal {
    use crate::ir::{Ty, concat, mux};
    let w = x.width();
    let padded = w.next_power_of_two().max(2);
    let src = if padded == w {
        x.clone()
    } else {
        m.wire_of(
            &format!("{prefix}_in"),
            concat(vec![x.e(), Ty::u(padded - w).zero()]),
            "input padded below to a power of two",
        )
    };
    // Level 1: two-bit groups.
    let mut groups = padded / 2;
    let mut valid = m.wire(&format!("{prefix}_v1"), groups, false, "level 1: group holds a one");
    let mut count = m.wire(
        &format!("{prefix}_c1"),
        groups,
        false,
        "level 1: leading zeros of each group",
    );
    {
        let (v, c) = (valid.clone(), count.clone());
        m.gen_for(&format!("gen_{prefix}_l1"), "i", groups, |m, i| {
            let hi = src.bit(i * 2 + 1);
            let lo = src.bit(i * 2);
            m.assign(v.part(i, 1), hi.clone() | lo);
            m.assign(c.part(i, 1), !hi);
        });
    }
    let mut cw = 1;
    let mut level = 1;
    while groups > 1 {
        level += 1;
        let next = groups / 2;
        let v = m.wire(
            &format!("{prefix}_v{level}"),
            next,
            false,
            &format!("level {level}: group holds a one"),
        );
        let c = m.wire(
            &format!("{prefix}_c{level}"),
            next * (cw + 1),
            false,
            &format!("level {level}: leading zeros of each group"),
        );
        let (pv, pc) = (valid.clone(), count.clone());
        let merge = |m: &mut ModuleBuilder, i: crate::ir::Index| {
            let hi_v = pv.bit(i.clone() * 2 + 1);
            let lo_v = pv.bit(i.clone() * 2);
            let hi_c = pc.select(i.clone() * (2 * cw as i64) + cw as i64, cw);
            let lo_c = pc.select(i.clone() * (2 * cw as i64), cw);
            m.assign(v.part(i.clone(), 1), hi_v.clone() | lo_v);
            m.assign(
                c.part(i * (cw as i64 + 1), cw + 1),
                mux(
                    hi_v,
                    concat(vec![Ty::BIT.zero(), hi_c]),
                    concat(vec![Ty::BIT.lit(1), lo_c]),
                ),
            );
        };
        if next == 1 {
            merge(m, crate::ir::Index::lit(0));
        } else {
            m.gen_for(&format!("gen_{prefix}_l{level}"), "i", next, |m, i| {
                merge(m, crate::ir::Index::from(i))
            });
        }
        valid = v;
        count = c;
        cw += 1;
        groups = next;
    }
    let out_w = crate::params::bits_for(padded as u64);
    let all_zero = Ty::u(out_w).lit(padded as i128);
    m.wire_of(
        &format!("{prefix}_count"),
        mux(valid.e(), count.e().zext(out_w), all_zero),
        "leading zeros (the padded width when all bits are zero)",
    )
}

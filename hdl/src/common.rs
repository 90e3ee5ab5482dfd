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
        m.gen_for(&format!("gen_{prefix}_l{level}"), "i", half, |m, i| {
            m.assign(
                next.part(i * (w as i64), w),
                src.select(i * (2 * w as i64), w) | src.select(i * (2 * w as i64) + w as i64, w),
            );
        });
        if n % 2 == 1 {
            m.assign(next.part(half * w, w), src.select((n - 1) * w, w));
        }
        level_bus = next;
        n = next_n;
    }
    level_bus.select(0u32, w)
}

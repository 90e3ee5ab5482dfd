//! The C++ side: the fixed harness (`harness.cpp`) and the generated port
//! table that specialises it to one design.

use std::fmt::Write as _;

use crate::layout::Layout;

/// The design-independent harness source.
pub(crate) const HARNESS_CPP: &str = include_str!("harness.cpp");

/// Exit statuses of the harness (keep in sync with harness.cpp).
pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_MISMATCH: i32 = 10;

/// Interactive opcodes (keep in sync with harness.cpp).
pub(crate) const OP_QUIT: u32 = 0;
pub(crate) const OP_EVAL: u32 = 1;
pub(crate) const OP_TICK: u32 = 2;

/// `accgen_ports.h`: the port tables and the per-port drive, sample and
/// compare code. Each port becomes one overloaded call, so C++ picks the
/// accessor for whichever type Verilator chose for that width.
pub(crate) fn ports_header(layout: &Layout) -> String {
    let mut h = String::new();
    // Writing to a String cannot fail; ignore the fmt::Result.
    let _ = writeln!(
        h,
        "// Port table of `{}` for the accgen-sim harness. Generated; do not edit.\n",
        layout.top()
    );
    let _ = writeln!(h, "static const std::size_t IN_WORDS = {};", layout.in_words());
    let _ = writeln!(h, "static const std::size_t OUT_WORDS = {};", layout.out_words());
    let _ = writeln!(h, "static const std::size_t CARE_WORDS = {};", layout.care_words());
    let _ = writeln!(h, "static const bool HAS_CLOCK = {};\n", layout.clock().is_some());

    for (array, slots) in [("IN_PORTS", layout.inputs()), ("OUT_PORTS", layout.outputs())] {
        let _ = writeln!(h, "// name, width, word offset within the section");
        let _ = writeln!(h, "static const PortDesc {array}[] = {{");
        if slots.is_empty() {
            // C++ has no empty arrays; width 0 marks the placeholder.
            let _ = writeln!(h, "    {{\"\", 0, 0}},");
        }
        for s in slots {
            let _ = writeln!(h, "    {{\"{}\", {}, {}}},", s.name, s.width, s.offset);
        }
        let _ = writeln!(h, "}};\n");
    }

    match layout.clock() {
        Some(clk) => {
            let _ = writeln!(
                h,
                "static inline void set_clock(Vdut* top, CData v) {{ top->{clk} = v; }}\n"
            );
        }
        None => {
            let _ = writeln!(h, "static inline void set_clock(Vdut*, CData) {{}}\n");
        }
    }

    let _ = writeln!(h, "static inline void drive_inputs(Vdut* top, const uint32_t* in) {{");
    if layout.inputs().is_empty() {
        let _ = writeln!(h, "    (void)top; (void)in;");
    }
    for s in layout.inputs() {
        let _ = writeln!(h, "    put(top->{}, in + {});", s.name, s.offset);
    }
    let _ = writeln!(h, "}}\n");

    let _ = writeln!(h, "static inline void sample_outputs(Vdut* top, uint32_t* out) {{");
    for s in layout.outputs() {
        let _ = writeln!(h, "    get(top->{}, out + {});", s.name, s.offset);
    }
    let _ = writeln!(h, "}}\n");

    let _ = writeln!(
        h,
        "// Compare the cared outputs; count them; return the index of the first\n\
         // mismatching output, or -1."
    );
    let _ = writeln!(
        h,
        "static inline int compare_outputs(Vdut* top, const uint32_t* exp, const uint32_t* care,\n\
         \x20                                 uint64_t& compared) {{"
    );
    for (k, s) in layout.outputs().iter().enumerate() {
        let _ = writeln!(
            h,
            "    if (care[{}] & 0x{:x}u) {{ ++compared; if (!same(top->{}, exp + {})) return {k}; }}",
            k / 32,
            1u32 << (k % 32),
            s.name,
            s.offset
        );
    }
    let _ = writeln!(h, "    return -1;\n}}");
    h
}

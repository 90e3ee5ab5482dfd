//! The hash-grid encoder: lint, block-RAM mapping, and bit-exact
//! co-simulation against the hardware-mode golden model.

mod common;

use accgen_hdl::Design;
use accgen_hdl::hashgrid::vectors::EngineVectors;
use accgen_hdl::hashgrid::{self, HashGridParams, HashGridSpec};
use accgen_sim::SimError;
use common::*;

fn params(f: impl FnOnce(&mut HashGridSpec)) -> HashGridParams {
    let mut s = HashGridSpec::default();
    f(&mut s);
    s.validate().expect("valid spec")
}

#[test]
fn named_configs_lint_clean() {
    for p in [
        params(|_| {}),
        params(|s| {
            s.dims = 3;
            s.levels = 4;
            s.base_resolution = 8;
            s.log2_table_size = 10;
            s.table = "int8".into();
        }),
        params(|s| s.table = "e4m3fn".into()),
        params(|s| s.table = "bf16".into()),
    ] {
        let design = hashgrid::design(&p, &prov());
        lint(&design);
    }
}

/// The 2D image configuration (examples/hashgrid_image_2d.yaml): L = 8,
/// F = 2, T = 2^12, N0 = 16, b = 1.5, fp16 tables; dense and hashed levels.
fn image_2d() -> HashGridParams {
    params(|_| {})
}

/// The 3D configuration (examples/hashgrid_sdf_3d.yaml): L = 6, F = 2,
/// T = 2^11, N0 = 4, b = 1.6; levels 0..2 dense, 3..5 hashed; int8 tables.
fn sdf_3d() -> HashGridParams {
    sdf_3d_spec().validate().expect("valid")
}

fn sdf_3d_spec() -> HashGridSpec {
    HashGridSpec {
        dims: 3,
        levels: 6,
        log2_table_size: 11,
        base_resolution: 4,
        per_level_scale: 1.6,
        table: "int8".into(),
        int_scale_log2: vec![6],
        ..HashGridSpec::default()
    }
}

/// Co-simulate `points` points after loading every table; returns the points compared.
fn cosim(p: &HashGridParams, points: u64, seed: u64, offer: f64, ready: f64) -> u64 {
    let design = hashgrid::design(p, &prov());
    // A point takes `slots` cycles at best; gaps and stalls stretch that.
    let slots = p.slots() as f64;
    let cycles = EngineVectors::min_cycles(p) + (points as f64 * slots / (offer * ready).min(1.0) * 1.1) as u64;
    let counter = std::cell::Cell::new(None);
    let report = check(&design, || {
        let v = EngineVectors::new(&design, p, seed, cycles, offer, ready);
        counter.set(Some(v.points_checked()));
        v
    });
    let checked = counter.take().map(|c| c.get()).unwrap_or(0);
    assert!(
        checked >= points,
        "{}: only {checked} of {points} points compared in {} cycles",
        design.top,
        report.cycles
    );
    checked
}

#[test]
fn image_2d_100k_points_bit_exact() {
    let p = image_2d();
    assert!(p.geometry.levels.iter().any(|l| l.hashed) && p.geometry.levels.iter().any(|l| !l.hashed));
    cosim(&p, 100_000, 1, 1.0, 1.0);
    cosim(&p, 20_000, 2, 0.7, 0.6);
}

#[test]
fn sdf_3d_dense_and_hashed_100k_points_bit_exact() {
    let p = sdf_3d();
    let dense = p.geometry.levels.iter().filter(|l| !l.hashed).count();
    assert!(dense >= 2 && dense < p.geometry.levels.len(), "{:?}", p.geometry.levels);
    cosim(&p, 100_000, 3, 0.9, 0.8);
}

/// Time-multiplexed level units: P = 1 (one unit serves all 8 levels of
/// the image configuration, a point every 8 cycles), P = 3 dividing the 3D
/// configuration's 6 levels, and P = 4, which does not (units 2 and 3 idle
/// in the second slot). P = L is the fully parallel engine above.
#[test]
fn time_multiplexed_units_bit_exact() {
    let one_unit = params(|s| s.level_units = Some(1));
    lint(&hashgrid::design(&one_unit, &prov()));
    assert_eq!(one_unit.slots(), 8);
    cosim(&one_unit, 100_000, 11, 1.0, 1.0);
    cosim(&one_unit, 5_000, 12, 0.5, 0.6);
    let three = HashGridSpec {
        level_units: Some(3),
        ..sdf_3d_spec()
    }
    .validate()
    .expect("valid");
    assert_eq!(three.slots(), 2);
    lint(&hashgrid::design(&three, &prov()));
    cosim(&three, 100_000, 13, 0.9, 0.8);
    let four = HashGridSpec {
        level_units: Some(4),
        ..sdf_3d_spec()
    }
    .validate()
    .expect("valid");
    assert_eq!((four.slots(), four.unit_levels(3)), (2, vec![3]));
    lint(&hashgrid::design(&four, &prov()));
    cosim(&four, 20_000, 14, 0.8, 0.7);
}

#[test]
fn broken_rtl_is_caught() {
    let p = image_2d();
    let good = hashgrid::design(&p, &prov());
    // Each mutant breaks one hazard the vectors must reach: the dense wrap at
    // exactly SIZE = 576 (x = 0, y = 1), a hash prime, the decoder's saturation
    // threshold, the bank swap, and the valid pipeline.
    let mutants: [(&str, &str, &str); 5] = [
        ("_level1", "(c2_raw >= 11'd576)", "(c2_raw > 11'd576)"),
        ("_level4", "12'd2481", "12'd2483"),
        ("_decode_", "(sh >= 5'd28)", "(sh > 5'd28)"),
        (
            "_level4",
            "assign c3_word = p1_swap_q2 ? p1_even_q : p1_odd_q;",
            "assign c3_word = p1_swap_q2 ? p1_odd_q : p1_even_q;",
        ),
        ("", "valid_q3 <= valid_q2;", "valid_q3 <= valid_q1;"),
    ];
    assert_mutants_caught(&p, &good, &mutants);
}

/// Each mutant of `good` (module suffix, text, replacement), co-simulated
/// against the golden model of `p`, must mismatch.
fn assert_mutants_caught(p: &HashGridParams, good: &Design, mutants: &[(&str, &str, &str)]) {
    let cycles = EngineVectors::min_cycles(p) + 20_000;
    for &(module, from, to) in mutants {
        let (bad, _) = common::mutate(good, module, from, to);
        let model = build(&bad);
        match try_check(&model, &bad, || EngineVectors::new(&bad, p, 5, cycles, 0.8, 0.8)) {
            Err(SimError::Mismatch(_)) => {}
            other => panic!("mutant `{to}` was not caught: {other:?}"),
        }
    }
}

/// Deeper pipelines (registered products at depth 5, registered indices
/// and corner weights too at depth 6) and float output features (the exact
/// weighted sum rounded once by the minifloat family's rounder, nearest
/// even, saturating), fully parallel and time-multiplexed; paired up so
/// four Verilator builds cover both options: fp16 out at depth 6, e4m3fn
/// out (saturating often: features reach +-2) at depth 5 with P = 3, a
/// different integer scale per level at depth 6 with P = 3 (a unit switches
/// its entry decoder slot by slot), and bf16 out with P = 2.
#[test]
fn deeper_pipelines_and_float_outputs_bit_exact() {
    let deep_fp16 = params(|s| {
        s.pipeline_depth = 6;
        s.output = Some("fp16".into());
    });
    assert_eq!((hashgrid::engine::latency(&deep_fp16), deep_fp16.out_width()), (6, 16));
    lint(&hashgrid::design(&deep_fp16, &prov()));
    cosim(&deep_fp16, 20_000, 21, 0.9, 0.7);
    let tm_e4m3 = HashGridSpec {
        level_units: Some(3),
        pipeline_depth: 5,
        output: Some("e4m3fn".into()),
        ..sdf_3d_spec()
    }
    .validate()
    .expect("valid");
    assert_eq!(hashgrid::engine::latency(&tm_e4m3), 6);
    lint(&hashgrid::design(&tm_e4m3, &prov()));
    cosim(&tm_e4m3, 20_000, 22, 0.9, 0.8);
    let scales = HashGridSpec {
        level_units: Some(3),
        pipeline_depth: 6,
        int_scale_log2: vec![6, 6, 7, 7, 8, 8],
        ..sdf_3d_spec()
    }
    .validate()
    .expect("valid");
    lint(&hashgrid::design(&scales, &prov()));
    cosim(&scales, 20_000, 23, 0.8, 0.8);
    let bf16 = params(|s| {
        s.output = Some("bf16".into());
        s.level_units = Some(2);
    });
    lint(&hashgrid::design(&bf16, &prov()));
    cosim(&bf16, 10_000, 32, 0.9, 0.8);
}

/// Registered products (depth 5 and up) are as wide as their significant
/// bits (an int8 entry shifted by 16 - 7 = 9: 17 bits, times a 13-bit corner
/// weight: 30), so Yosys has nothing to narrow under the register, and the
/// weighted sum sign-extends them. Dropping that sign extension, or the
/// sign bit of the decoded feature, must fail: negative entries reach
/// every corner.
#[test]
fn registered_products_keep_their_sign() {
    let p = params(|s| {
        s.levels = 2;
        s.log2_table_size = 8;
        s.table = "int8".into();
        s.pipeline_depth = 5;
    });
    let good = hashgrid::design(&p, &prov());
    let unit = good
        .files
        .iter()
        .find(|f| f.module.contains("_level0"))
        .expect("unit 0");
    assert!(unit.text.contains("localparam SIG_W = 17;") && unit.text.contains("localparam PROD_W = 30;"));
    assert!(unit.text.contains("reg signed [PROD_W-1:0] c3_f1_prod_q;"));
    lint(&good);
    cosim(&p, 5_000, 41, 0.9, 0.8);
    let mutants: [(&str, &str); 2] = [
        ("{{4{c2_f1_prod_q[29]}}, c2_f1_prod_q}", "{4'd0, c2_f1_prod_q}"),
        ("$signed(c1_f0_val[16:0])", "$signed({1'b0, c1_f0_val[15:0]})"),
    ];
    let cycles = EngineVectors::min_cycles(&p) + 5_000;
    for (from, to) in mutants {
        let (bad, sites) = common::mutate(&good, "_level0", from, to);
        assert_eq!(sites, 1, "`{from}`");
        let model = build(&bad);
        match try_check(&model, &bad, || EngineVectors::new(&bad, &p, 42, cycles, 0.9, 0.8)) {
            Err(SimError::Mismatch(_)) => {}
            other => panic!("mutant `{to}` was not caught: {other:?}"),
        }
    }
}

/// The tiny example (examples/hashgrid_tiny_2d.yaml): one unit serves all 8
/// levels of int8 pairs, T = 2^8.
fn tiny_2d() -> HashGridParams {
    HashGridSpec {
        levels: 8,
        log2_table_size: 8,
        base_resolution: 8,
        table: "int8".into(),
        int_scale_log2: vec![6],
        coord_frac_bits: 8,
        scale_frac_bits: 12,
        weight_frac_bits: 8,
        feature_int_bits: 1,
        feature_frac_bits: 6,
        level_units: Some(1),
        ..HashGridSpec::default()
    }
    .validate()
    .expect("valid")
}

/// Each mutant breaks one piece of the time multiplexing: the last slot
/// never issues, slot 1's features land in slot 2's collection register, a
/// level's offset in the shared banks, and the held point follows the input.
#[test]
fn broken_time_multiplexing_is_caught() {
    let p = tiny_2d();
    let good = hashgrid::design(&p, &prov());
    let mutants: [(&str, &str, &str); 4] = [
        ("", "(next_slot_q != 3'd7)", "(next_slot_q != 3'd6)"),
        ("", "(slot_q4 == 3'd1))) begin", "(slot_q4 == 3'd2))) begin"),
        ("_unit0", "{3'd0, c1_l3_raw} + 11'd464", "{3'd0, c1_l3_raw} + 11'd462"),
        ("", "if (!busy_q) begin", "if (1'b1) begin"),
    ];
    assert_mutants_caught(&p, &good, &mutants);
}

/// Yosys maps every table bank to block RAM: a one-level hashed grid with
/// T = 2^9 fp16 pairs has 4 banks (2 replicas x even/odd) of 256 x 32 bits.
/// (By hand, `accgen cost examples/hashgrid_image_2d.yaml --synth` gives
/// 7-series block RAM too.)
#[test]
fn tables_map_to_block_ram() {
    use accgen::synth::{SynthOptions, Target, synthesize};
    let p = params(|s| {
        s.levels = 1;
        s.base_resolution = 40;
        s.log2_table_size = 9;
    });
    assert!(p.geometry.levels[0].hashed);
    let design = hashgrid::design(&p, &prov());
    // iCE40 only: a 7-series run spends most of its time reading Yosys' cell
    // library (the README records both families' counts).
    let r = synthesize(&design, Target::Ice40 { dsp: true }, &SynthOptions::default())
        .unwrap_or_else(|e| panic!("ice40: {e}"));
    // SB_RAM40_4K holds 256 x 16 bits: two per bank.
    assert_eq!(r.summary.bram, 8, "{:?}", r.cells);
    // The configuration-only estimate agrees.
    let estimate = hashgrid::cost::memory(&p).primitives;
    assert!(estimate.contains(&("iCE40 SB_RAM40_4K", 8)), "{estimate:?}");
    assert_eq!(r.summary.lutram, 0, "{:?}", r.cells);
    // The 32 kbit of tables are not in flip-flops.
    assert!(r.summary.ffs < 1000, "{} FFs", r.summary.ffs);
}

/// Every code of every entry format, through all the decoders at once: one
/// wrapper module (one Verilator build) with a port pair per decoder; cycle
/// c drives code c mod 2^width into each.
struct AllCodes {
    cases: Vec<HashGridParams>,
    next: u64,
    ports: Vec<(usize, usize)>,
}

impl accgen_hdl::stimulus::Stimulus for AllCodes {
    fn next_cycle(&mut self, sink: &mut dyn accgen_hdl::stimulus::CycleSink) -> bool {
        if self.next == 1 << 16 {
            return false;
        }
        for (p, &(code_i, value_o)) in self.cases.iter().zip(&self.ports) {
            let code = self.next & ((1u64 << p.entry.width()) - 1);
            sink.drive(code_i, code);
            let v = p.decode(0, code);
            sink.expect(value_o, (v as u64) & ((1u64 << p.feature_width()) - 1));
        }
        self.next += 1;
        true
    }
}

#[test]
fn entry_decoders_exhaustive() {
    use accgen_hdl::hashgrid::EntryFormat;
    use accgen_hdl::ir::{ModuleBuilder, ModuleDoc, Ty, drive, sink};
    use accgen_hdl::mac::params::FormatSpec;
    use accgen_hdl::minifloat::Specials;
    let custom = |e: u64, m: u64, specials: Specials, subnormals: bool| FormatSpec::Float {
        exponent: e,
        mantissa: m,
        bias: None,
        specials,
        subnormals,
    };
    // (format, int bits, frac bits, int scale): narrow feature formats force
    // truncation to zero and saturation inside every float format's range.
    let cases: Vec<(FormatSpec, u64, u64, i64)> = vec![
        ("fp16".into(), 0, 8, 0),
        ("bf16".into(), 4, 16, 0),
        ("e4m3fn".into(), 8, 12, 0),
        ("e5m2".into(), 2, 6, 0),
        ("e4m3fnuz".into(), 3, 5, 0),
        ("e2m1fn".into(), 1, 1, 0),
        (custom(3, 3, Specials::Ieee, false), 2, 4, 0),
        (custom(4, 0, Specials::Fnuz, true), 4, 4, 0),
        ("int8".into(), 4, 16, 7),
        ("int4".into(), 0, 8, 5),
        ("int16".into(), 8, 16, 9),
    ];
    let cases: Vec<HashGridParams> = cases
        .into_iter()
        .map(|(table, ib, fb, s)| {
            params(|spec| {
                spec.table = table;
                spec.feature_int_bits = ib;
                spec.feature_frac_bits = fb;
                spec.int_scale_log2 = vec![s];
            })
        })
        .collect();
    let mut modules = Vec::new();
    let mut top = ModuleBuilder::new(
        "accgen_test_hashgrid_decoders",
        ModuleDoc {
            title: "every entry decoder under test, side by side".into(),
            ..Default::default()
        },
    );
    for (i, p) in cases.iter().enumerate() {
        let shift = match p.entry {
            EntryFormat::Int(_) => p.feature_frac_bits - p.int_scale_log2[0],
            EntryFormat::Float(_) => 0,
        };
        let dec = hashgrid::engine::decoder(p, shift);
        let code = top.input(&format!("code{i}_i"), Ty::u(p.entry.width()), "entry code");
        let value = top.output(&format!("value{i}_o"), Ty::s(p.feature_width()), "decoded feature");
        top.instance(
            &dec,
            &format!("u_dec{i}"),
            vec![("code_i", drive(code.e())), ("value_o", sink(&value))],
        );
        modules.push(dec);
    }
    modules.push(top.finish());
    let design = Design::assemble(&modules, &prov());
    lint(&design);
    let ports: Vec<(usize, usize)> = (0..cases.len())
        .map(|i| {
            (
                accgen_hdl::stimulus::input_index(&design, &format!("code{i}_i")),
                accgen_hdl::stimulus::output_index(&design, &format!("value{i}_o")),
            )
        })
        .collect();
    let report = check(&design, || AllCodes {
        cases: cases.clone(),
        next: 0,
        ports: ports.clone(),
    });
    assert_eq!(report.compared, cases.len() as u64 * 65536);
}

/// A random valid hash grid: small tables, any dimension count, feature
/// count, entry format, fixed-point widths, level units, pipeline depth and reset.
fn random_params(rng: &mut rand::rngs::StdRng) -> HashGridParams {
    use accgen_hdl::ir::ResetStyle;
    use rand::RngExt;
    loop {
        let tables = [
            "fp16", "bf16", "e4m3fn", "e5m2", "e2m1fn", "e3m2fn", "e4m3fnuz", "int8", "int4", "int6",
        ];
        let table = tables[rng.random_range(0..tables.len())];
        let coord = rng.random_range(6..=16u64);
        let scale = rng.random_range(0..=16u64);
        let fb = rng.random_range(0..=20u64);
        let mut ib = rng.random_range(0..=6u64);
        let bits = table
            .strip_prefix("int")
            .and_then(|b| b.parse::<u64>().ok())
            .unwrap_or(0);
        if bits > 0 && ib + 1 < bits {
            ib = bits - 1; // room for the integer codes at the smallest scale
        }
        let s = if bits > 0 {
            rng.random_range((bits as i64 - 1 - ib as i64).max(0)..=fb as i64)
        } else {
            0
        };
        let mut spec = HashGridSpec {
            dims: rng.random_range(2..=3),
            levels: rng.random_range(1..=4),
            features: [1, 2, 4, 8][rng.random_range(0..4)],
            log2_table_size: rng.random_range(8..=9),
            base_resolution: rng.random_range(1..=24),
            per_level_scale: (rng.random_range(1.05f64..2.5) * 1000.0).round() / 1000.0,
            table: table.into(),
            int_scale_log2: vec![s],
            coord_frac_bits: coord,
            scale_frac_bits: scale,
            weight_frac_bits: rng.random_range(2..=16u64.min(coord + scale)),
            feature_int_bits: ib,
            feature_frac_bits: fb,
            init_files: false,
            block_ram_bits: None,
            level_units: None,
            pipeline_depth: rng.random_range(4..=6),
            output: [None, Some("fp16"), Some("bf16"), Some("e5m2")][rng.random_range(0..4)].map(|f| f.into()),
            reset: if rng.random_range(0..2) == 0 {
                ResetStyle::SyncHigh
            } else {
                ResetStyle::AsyncLow
            },
        };
        spec.level_units = Some(rng.random_range(1..=spec.levels));
        if let Ok(p) = spec.validate() {
            return p;
        }
    }
}

/// Seeded random configurations (2 per run; `ACCGEN_SWEEP=N` for more):
/// lint-clean under all three tools and bit-exact after loading every table.
#[test]
fn random_configs_lint_and_cosim() {
    use rand::SeedableRng;
    let n: u64 = std::env::var("ACCGEN_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x4a5e_u64.wrapping_add(n));
    for i in 0..n {
        let p = random_params(&mut rng);
        let design = hashgrid::design(&p, &prov());
        lint(&design);
        let cycles = EngineVectors::min_cycles(&p) + 3000 * p.slots() as u64;
        let counter = std::cell::Cell::new(None);
        check(&design, || {
            let v = EngineVectors::new(&design, &p, i, cycles, 0.8, 0.8);
            counter.set(Some(v.points_checked()));
            v
        });
        let points = counter.take().map(|c| c.get()).unwrap_or(0);
        assert!(points > 1000, "{}: {points} points", design.top);
    }
}

/// A unit time-multiplexing two dense levels whose strides have different
/// odd parts (N0 = 3, b = 1.5: 3 and 5) multiplies each vertex once by the
/// slot's stride (`c<c>_y_prod`, not left to Yosys' `share`), and each
/// coordinate by the slot's scale without the scales' common trailing zero
/// bits, then shifts: bit-exact, and a wrong stride in the multiplexer or
/// a wrong shift is caught.
#[test]
fn shared_stride_products_bit_exact() {
    let p = params(|s| {
        s.levels = 2;
        s.log2_table_size = 8;
        s.base_resolution = 3;
        s.per_level_scale = 1.5;
        s.level_units = Some(1);
    });
    let good = hashgrid::design(&p, &prov());
    lint(&good);
    let unit = good
        .files
        .iter()
        .find(|f| f.file_name().ends_with("_unit0.v"))
        .expect("a unit");
    let shared = "c0_y_prod = {2'd0, c0_y} * ((slot_q == 1'b0) ? 6'd3 : 6'd5);";
    assert!(unit.text.contains(shared), "{}", unit.text);
    assert!(!unit.text.contains("c0_y * "), "{}", unit.text);
    cosim(&p, 20_000, 21, 0.9, 0.8);
    let position = unit
        .text
        .lines()
        .find(|l| l.contains("assign pos_y = ") && l.contains(") << "))
        .expect("a shifted position product");
    let wrong_stride = shared.replace("6'd5", "6'd7");
    let wrong_shift = position.replace(") << ", ") << 1 + ");
    assert_mutants_caught(
        &p,
        &good,
        &[("_unit0", shared, &wrong_stride), ("_unit0", position, &wrong_shift)],
    );
}

//! Pipelined MAC PEs and arrays (`pipeline: 1..=3`) against the golden
//! model, bit for bit and cycle for cycle: the extra registers change the
//! latency the model predicts, never a value.

mod common;

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac::vectors::Traffic;
use accgen_hdl::mac::{self, MacArrayParams};
use common::*;

fn piped(p: MacArrayParams, depth: u32) -> MacArrayParams {
    with(p, |p| p.pipeline = depth)
}

#[test]
fn pipelined_pes_exhaustive() {
    let mut compared = 0;
    for depth in 1..=3 {
        compared += exhaustive_pe(11, &piped(params(1, 1, 256, "int8", "int8"), depth));
        compared += exhaustive_pe(11, &piped(params(1, 1, 32, "e4m3fn", "e4m3fn"), depth));
    }
    // A mixed pair with infinities (+inf, -inf flags through the pipeline)
    // and an asynchronous reset on the token registers.
    compared += exhaustive_pe(
        11,
        &with(piped(params(1, 1, 16, "int8", "e5m2"), 2), |p| {
            p.reset = ResetStyle::AsyncLow
        }),
    );
    assert!(compared >= 7 * 65_536);
}

fn random_array(p: &MacArrayParams, cycles: u64, traffic: Traffic, seed: u64) -> u64 {
    let design = mac::design(p, &prov());
    let (report, rows) = check_array(&design, p, seed, cycles, traffic);
    let period = p.dot_length.max(p.tile_spacing()) as u64;
    assert!(
        rows >= cycles * p.rows as u64 / period / 8,
        "{}: only {rows} rows compared",
        design.top
    );
    report.compared
}

#[test]
fn pipelined_arrays_random() {
    for depth in 1..=3 {
        random_array(
            &piped(params(4, 4, 16, "int8", "int8"), depth),
            30_000,
            Traffic::BURSTY,
            depth as u64,
        );
    }
    random_array(&piped(params(4, 4, 16, "int8", "int8"), 2), 30_000, Traffic::FULL, 4);
    // The benchmark's E4M3 array with fp16 rounding, at every depth.
    for depth in 1..=3 {
        let p = piped(
            accgen_hdl::mac::MacArraySpec {
                output: Some((
                    accgen_hdl::mac::params::FormatSpec::Name("fp16".into()),
                    accgen_hdl::minifloat::OnOverflow::Saturate,
                )),
                ..spec(4, 4, 32, "e4m3fn", "e4m3fn")
            }
            .validate()
            .expect("valid"),
            depth,
        );
        random_array(&p, 30_000, Traffic::BURSTY, 10 + depth as u64);
    }
    // Mixed formats with a raw special-value port, K < max(R, C) (tile
    // spacing) and an asynchronous reset.
    let p = with(piped(params(2, 3, 2, "e5m2", "int8"), 3), |p| {
        p.reset = ResetStyle::AsyncLow
    });
    random_array(&p, 30_000, Traffic::BURSTY, 20);
}

/// The pipeline's control must be delayed exactly as far as the data: one
/// stage too few in a PE, or in the array's row-done line, is caught.
#[test]
fn misaligned_pipeline_is_caught() {
    let p = piped(params(3, 3, 2, "int8", "int8"), 2);
    let good = mac::design(&p, &prov());
    let mutants: [(&str, &str, &str); 3] = [
        // The accumulator takes valid one cycle too early.
        (
            "accgen_mac_pe",
            "if (en_i && valid_q2) begin",
            "if (en_i && valid_q) begin",
        ),
        // first arrives one cycle early: sums restart on the wrong product.
        (
            "accgen_mac_pe",
            "assign acc_base = first_q2 ?",
            "assign acc_base = first_q ?",
        ),
        // Rows are read out one cycle before the PEs publish them.
        (
            "accgen_mac_array",
            "done_q <= done_pipe_q[1];",
            "done_q <= done_pipe_q[0];",
        ),
    ];
    for (sites, _) in common::array_mutants_are_caught(&good, &p, &mutants) {
        assert!(sites >= 1);
    }
}

fn rounded_in_stages(p: MacArrayParams, stages: u32) -> MacArrayParams {
    with(p, |p| {
        let o = p.output.as_mut().expect("an array with output rounding");
        o.pipeline = stages;
    })
}

fn rounding(p: MacArrayParams, format: &str, overflow: accgen_hdl::minifloat::OnOverflow) -> MacArrayParams {
    with(p, |p| {
        p.output = Some(accgen_hdl::mac::params::OutputRounding {
            format: accgen_hdl::minifloat::FloatFormat::preset(format).expect("preset"),
            overflow,
            pipeline: 0,
        })
    })
}

/// Output rounders with register stages (`output.pipeline: 1..=2`), under
/// back-pressure: the benchmark's E4M3 array into fp16 behind a two-stage
/// PE; infinities into bf16 with special overflow; an unsigned sum (a
/// constant sign) into the 4-bit e2m1fn.
#[test]
fn pipelined_rounders_random() {
    use accgen_hdl::minifloat::OnOverflow::{Saturate, Special};
    let e4m3 = rounding(piped(params(4, 4, 32, "e4m3fn", "e4m3fn"), 2), "fp16", Saturate);
    let compared = random_array(&rounded_in_stages(e4m3, 2), 30_000, Traffic::BURSTY, 30)
        + random_array(
            &rounded_in_stages(rounding(params(3, 2, 6, "e5m2", "int8"), "bf16", Special), 1),
            30_000,
            Traffic::BURSTY,
            31,
        )
        + random_array(
            &rounded_in_stages(rounding(params(2, 3, 8, "uint8", "uint4"), "e2m1fn", Saturate), 2),
            30_000,
            Traffic::BURSTY,
            32,
        );
    assert!(compared > 0);
}

/// A rounder stage that ignores the stall, or a valid line shorter than
/// the rounder, is caught.
#[test]
fn misaligned_rounder_pipeline_is_caught() {
    let p = rounded_in_stages(
        rounding(
            params(2, 2, 3, "e4m3fn", "int4"),
            "e5m2",
            accgen_hdl::minifloat::OnOverflow::Saturate,
        ),
        2,
    );
    let good = mac::design(&p, &prov());
    let mutants: [(&str, &str, &str); 2] = [
        (
            "accgen_round",
            "    if (en_i) begin\n      mag_q <= mag;",
            "    begin\n      mag_q <= mag;",
        ),
        (
            "accgen_mac_array",
            "out_valid_q <= round_pipe_q[2];",
            "out_valid_q <= round_pipe_q[0];",
        ),
    ];
    for (sites, _) in common::array_mutants_are_caught(&good, &p, &mutants) {
        assert_eq!(sites, 1);
    }
}

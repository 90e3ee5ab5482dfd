//! The minifloat golden model against reference vectors generated from
//! ml_dtypes (see `tests/data/minifloat/README.md` and
//! `scripts/minifloat_vectors.py`): every code decoded, tens of thousands of
//! encodes (ties, values just beyond max, subnormal boundaries, NaN,
//! infinities, random values) with and without saturation, and exact
//! products. No Python is needed to run this.

use accgen_hdl::ir::ResetStyle;
use accgen_hdl::mac::model::product;
use accgen_hdl::mac::operand::Operand;
use accgen_hdl::mac::params::{MacArrayParams, MulImpl, Overflow, exact_acc_width};
use accgen_hdl::minifloat::{FloatFormat, OnOverflow};
use std::path::PathBuf;

const FORMATS: [&str; 11] = [
    "e4m3fn", "e4m3fnuz", "e5m2", "e5m2fnuz", "e4m3", "e3m4", "e2m3fn", "e3m2fn", "e2m1fn", "fp16", "bf16",
];

fn lines(stem: &str, kind: &str) -> Vec<Vec<u64>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/minifloat/{stem}.{kind}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Vec<u64>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|h| u64::from_str_radix(h, 16).unwrap_or_else(|_| panic!("bad hex `{h}` in {}", path.display())))
                .collect()
        })
        .collect();
    assert!(!rows.is_empty(), "{} has no vectors", path.display());
    rows
}

fn format(stem: &str) -> FloatFormat {
    FloatFormat::preset(stem).unwrap_or_else(|| panic!("no preset {stem}"))
}

/// Same value, or both NaN (ml_dtypes keeps the sign of a NaN input).
fn same_code(f: &FloatFormat, ours: u64, theirs: u64) -> bool {
    ours == theirs || (f.to_f64(ours).is_nan() && f.to_f64(theirs).is_nan())
}

#[test]
fn every_code_decodes_like_ml_dtypes() {
    for stem in FORMATS {
        let f = format(stem);
        let rows = lines(stem, "decode");
        assert_eq!(rows.len() as u64, 1 << f.width(), "{stem}: every code");
        for row in rows {
            let (code, bits) = (row[0], row[1]);
            let ours = f.to_f64(code);
            let theirs = f64::from_bits(bits);
            assert!(
                ours.to_bits() == bits || (ours.is_nan() && theirs.is_nan()),
                "{stem}: code {code:#x} decodes to {ours}, ml_dtypes says {theirs}"
            );
        }
    }
}

#[test]
fn encoding_rounds_like_ml_dtypes() {
    let mut total = 0;
    for stem in FORMATS {
        let f = format(stem);
        for row in lines(stem, "encode") {
            let x = f64::from_bits(row[0]);
            let sat = f.encode(x, OnOverflow::Saturate);
            let raw = f.encode(x, OnOverflow::Special);
            assert!(
                same_code(&f, sat, row[1]),
                "{stem}: saturating encode of {x:e} gave {sat:#x}, expected {:#x}",
                row[1]
            );
            assert!(
                same_code(&f, raw, row[2]),
                "{stem}: encode of {x:e} gave {raw:#x}, expected {:#x}",
                row[2]
            );
            total += 1;
        }
    }
    assert!(total > 200_000, "only {total} encode vectors");
}

/// The golden model's exact product (fixed point plus special flags) agrees
/// with ml_dtypes' values multiplied in f64 (exact for these formats).
#[test]
fn products_match_ml_dtypes() {
    for stem in FORMATS.iter().filter(|s| format(s).width() <= 8) {
        let f = format(stem);
        let op = Operand::Float(f);
        let p = MacArrayParams {
            rows: 1,
            cols: 1,
            dot_length: 1,
            act: op,
            wgt: op,
            acc_width: exact_acc_width(op, op, 1),
            overflow: Overflow::Wrap,
            multiplier: MulImpl::Dsp,
            reset: ResetStyle::SyncHigh,
            output: None,
            pipeline: 0,
        };
        let rows = lines(stem, "products");
        for row in &rows {
            let (a, b, expected) = (row[0], row[1], f64::from_bits(row[2]));
            let (value, nan, inf, neg) = product(&p, a, b);
            let ours = if nan {
                f64::NAN
            } else if inf {
                if neg { f64::NEG_INFINITY } else { f64::INFINITY }
            } else {
                value.to_f64() * 2f64.powi(p.lsb_exp())
            };
            // Signed zeros: the fixed-point sum has one zero.
            let agree = ours == expected || (ours.is_nan() && expected.is_nan());
            assert!(agree, "{stem}: {a:#x} x {b:#x} = {ours}, ml_dtypes says {expected}");
        }
        assert!(rows.len() >= 256, "{stem}: {} products", rows.len());
    }
}

//! The hash grid's accuracy workload on small instances: fitting works, and
//! the table format's effect is visible through the hardware encoding.

use accgen::hashgrid_fit::{FitOptions, image_psnr, sdf_error};

fn value(r: &[accgen::hashgrid_fit::FormatResult], f: &str) -> f64 {
    r.iter()
        .find(|x| x.format == f)
        .map(|x| x.value)
        .expect("format evaluated")
}

#[test]
fn a_small_image_fits_and_narrow_tables_cost_psnr() {
    let o = FitOptions {
        levels: 6,
        log2_table_size: 10,
        image_size: 64,
        steps: 150,
        batch: 1024,
        ..FitOptions::image()
    };
    let r = image_psnr(&o, &["fp32", "fp16", "int8", "int4", "e2m1fn"]).expect("fit");
    let (fp32, fp16, int8, int4, fp4) = (
        value(&r, "fp32"),
        value(&r, "fp16"),
        value(&r, "int8"),
        value(&r, "int4"),
        value(&r, "e2m1fn"),
    );
    assert!(fp32 > 20.0, "{r:?}");
    // fp16 entries and the fixed-point datapath stay close to f32; 4-bit entries do not.
    assert!((fp32 - fp16).abs() < 0.5, "{r:?}");
    assert!(int8 > int4 + 1.0 && fp16 > fp4 + 3.0, "{r:?}");
}

#[test]
fn a_small_sdf_fits() {
    let o = FitOptions {
        levels: 4,
        log2_table_size: 10,
        steps: 150,
        batch: 1024,
        ..FitOptions::sdf()
    };
    let r = sdf_error(&o, &["fp32", "fp16", "int4"]).expect("fit");
    assert!(value(&r, "fp32") < 0.02, "{r:?}");
    assert!((value(&r, "fp16") - value(&r, "fp32")).abs() < 0.002, "{r:?}");
    assert!(value(&r, "int4") > value(&r, "fp16"), "{r:?}");
}

//! Drive a generated MAC array from your own Rust code, port by port.
//!
//! Loads `examples/int8_4x4.yaml`, builds (or reuses) its Verilator model,
//! streams one 4 x 16 by 16 x 4 tile through the input port, reads the four
//! result rows off the output port and checks them against a plain matrix
//! product.
//!
//! `cargo run --release -p accgen --example drive_mac_array`

use accgen::config::{self, Block};
use accgen_sim::{BuildOptions, Model};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/int8_4x4.yaml");
    let config = config::load(&path)?;
    let Block::MacArray(p) = config.block else {
        return Err("examples/int8_4x4.yaml is not a MAC array".into());
    };
    let design = config.design("cargo run --example drive_mac_array");
    let model = Model::build(&design, &BuildOptions::default())?;
    let (r, c, k) = (p.rows as usize, p.cols as usize, p.dot_length as usize);

    // A[r][k] and B[k][c], small signed values.
    let a: Vec<Vec<i64>> = (0..r)
        .map(|i| (0..k).map(|j| (i as i64 * 7 + j as i64 * 3) % 17 - 8).collect())
        .collect();
    let b: Vec<Vec<i64>> = (0..k)
        .map(|j| (0..c).map(|l| (j as i64 * 5 - l as i64 * 11) % 13).collect())
        .collect();

    let mut s = model.session()?;
    s.poke("rst_i", 1u64)?;
    s.poke("in_valid_i", 0u64)?;
    s.poke("out_ready_i", 1u64)?;
    s.tick()?;
    s.poke("rst_i", 0u64)?;

    // One beat per cycle: column k of A and row k of B, packed little-end first.
    let mut beat = 0;
    let mut rows = Vec::new();
    for _cycle in 0..200 {
        if beat < k {
            let act = (0..r).fold(0u64, |acc, i| acc | ((a[i][beat] as u64 & 0xff) << (8 * i)));
            let wgt = (0..c).fold(0u64, |acc, l| acc | ((b[beat][l] as u64 & 0xff) << (8 * l)));
            s.poke("in_act_i", act)?;
            s.poke("in_wgt_i", wgt)?;
            s.poke("in_valid_i", 1u64)?;
        } else {
            s.poke("in_valid_i", 0u64)?;
        }
        s.eval()?;
        let accepted = beat < k && s.peek_u64("in_ready_o")? == 1;
        if s.peek_u64("out_valid_o")? == 1 {
            let data = s.peek("out_data_o")?;
            let row: Vec<i64> = (0..c)
                .map(|l| data.i64_field(l as u32 * p.acc_width, p.acc_width))
                .collect();
            rows.push(row);
        }
        s.tick()?;
        if accepted {
            beat += 1;
        }
        if rows.len() == r {
            break;
        }
    }

    for (i, row) in rows.iter().enumerate() {
        let expected: Vec<i64> = (0..c).map(|l| (0..k).map(|j| a[i][j] * b[j][l]).sum()).collect();
        println!("row {i}: {row:?}");
        assert_eq!(row, &expected, "row {i} differs from A x B");
    }
    assert_eq!(rows.len(), r, "expected {r} result rows");
    println!("{}: all {r} rows match A x B", design.top);
    Ok(())
}

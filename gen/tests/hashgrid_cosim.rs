//! The hash-grid encoder: lint, block-RAM mapping, and bit-exact
//! co-simulation against the hardware-mode golden model.

mod common;

use accgen_hdl::hashgrid::{self, HashGridParams, HashGridSpec};
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

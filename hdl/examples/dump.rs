use accgen_hdl::ir::verilog::Provenance;
use accgen_hdl::mac::{MacArraySpec, MulImpl};
use accgen_hdl::ir::ResetStyle;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let spec = MacArraySpec { rows: a[1].parse().unwrap(), cols: a[2].parse().unwrap(), dot_length: a[3].parse().unwrap(),
        activations: a[4].clone(), weights: a[5].clone(), acc_width: None, overflow: None,
        multiplier: if a[6] == "lut" { MulImpl::Lut } else { MulImpl::Dsp }, reset: if a.len() > 8 { ResetStyle::AsyncLow } else { ResetStyle::SyncHigh } };
    let p = spec.validate().unwrap();
    let d = accgen_hdl::mac::design(&p, &Provenance { generator: "accgen".into(), config_hash: "x".into(), command: "dump".into() });
    let dir = std::path::Path::new(&a[7]);
    std::fs::create_dir_all(dir).unwrap();
    for f in &d.files { std::fs::write(dir.join(f.file_name()), &f.text).unwrap(); }
    println!("{}", d.top);
}

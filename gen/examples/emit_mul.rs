// Temporary: write one registered 8 x 8 multiplier design to a directory.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let signed = args[1] == "s";
    let imp = match args[2].as_str() {
        "booth_tree" => accgen_hdl::mac::MulImpl::BoothTree,
        "lut" => accgen_hdl::mac::MulImpl::Lut,
        "lut4" => accgen_hdl::mac::MulImpl::Lut4,
        "booth" => accgen_hdl::mac::MulImpl::Booth,
        _ => accgen_hdl::mac::MulImpl::Dsp,
    };
    let d = accgen::mulbench::registered(signed, imp);
    let mut all = String::new();
    for f in &d.files {
        all += &f.text;
    }
    std::fs::write(&args[3], all).unwrap();
    println!("{}", d.top);
}

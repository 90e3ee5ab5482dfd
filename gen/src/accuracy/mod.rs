//! The accuracy workload: post-training quantization of a real classifier,
//! evaluated through the bit-exact golden model of the MAC hardware.
//!
//! 1. **Data** ([`digits`]): 1,797 real 8x8 handwritten digits, features
//!    divided by 16; a stratified, seed-free 80/20 split (every 5th sample
//!    of each class is a test sample): 1,442 train, 355 test.
//! 2. **Float network** ([`mlp`]): 64-32-10, ReLU, softmax cross-entropy,
//!    Adam (lr 3e-3, minibatches of 32, 60 epochs), He initialisation;
//!    deterministic from the seed.
//! 3. **PTQ** ([`quant`]): per-channel symmetric weight scales, per-tensor
//!    activation scales calibrated on the training set, round to nearest
//!    even with saturation, in any MAC operand format; the module docs of
//!    [`quant`] give every choice and its reason.
//! 4. **Inference** through `mac_step`, the golden model of the PE: every
//!    dot product is the exact fixed-point sum the generated hardware
//!    computes; [`hardware`] shows it on the generated array in Verilator.
//! 5. **Report** ([`report`]): test accuracy and the SQNR of each layer's
//!    outputs against the float network, for every (W, A) pair, as W x A
//!    grids, CSV and JSON.
//!
//! ```sh
//! accgen accuracy                                   # the default 16 x 16 table
//! accgen accuracy --weights int8,e4m3fn --activations uint8,e4m3fn --seed 2
//! accgen accuracy ptq.yaml --out reports/accuracy   # lists from a file; digits_ptq.{csv,json}
//! accgen accuracy --hardware                        # + int8:int8 and e4m3fn:e4m3fn on the array
//! accgen accuracy --hardware=int4:uint4 --weights int4 --activations uint4
//! ```
//!
//! The hardware check compares the exact bits of every sum, for any pair.

pub mod config;
pub mod digits;
pub mod hardware;
pub mod mlp;
pub mod quant;
pub mod report;
mod rng;
pub mod snn;

use crate::Failure;
use config::{AccuracyFile, DEFAULT_FORMATS, DEFAULT_HARDWARE, Role};
use digits::Split;
use hardware::{HardwareOptions, HardwareReport};
use mlp::{Forward, Mlp, TrainOptions};
use quant::{Calibration, QFormat, QuantMlp, Ranges};
use report::{PairResult, sqnr_db};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The trained float network and everything that does not depend on the
/// number formats.
pub struct Workload {
    pub split: Split,
    pub net: Mlp,
    pub seed: u64,
    pub calibration: Calibration,
    pub ranges: Ranges,
    /// Float test accuracy (0..1).
    pub float_accuracy: f64,
    /// The float network's forward pass on each test image.
    pub float_test: Vec<Forward>,
    pub train_seconds: f64,
}

impl Workload {
    /// Load the data, train from `seed` and calibrate.
    pub fn prepare(seed: u64, calibration: Calibration) -> Result<Workload, Failure> {
        let all = digits::load().map_err(Failure::Run)?;
        let split = digits::split(&all);
        let start = Instant::now();
        let net = mlp::train(
            &split.train,
            &TrainOptions {
                seed,
                ..TrainOptions::default()
            },
        );
        let train_seconds = start.elapsed().as_secs_f64();
        let ranges = quant::calibrate(&net, &split.train, calibration);
        let float_test = (0..split.test.len())
            .map(|i| net.forward(split.test.image(i)))
            .collect();
        Ok(Workload {
            float_accuracy: net.accuracy(&split.test),
            split,
            net,
            seed,
            calibration,
            ranges,
            float_test,
            train_seconds,
        })
    }

    /// Quantize the network for one format pair.
    pub fn quantize(&self, w: &QFormat, a: &QFormat) -> Result<QuantMlp, Failure> {
        QuantMlp::new(&self.net, w, a, self.ranges)
            .map_err(|e| Failure::Input(format!("error: weights {w} x activations {a}: {e}")))
    }

    /// Accuracy and SQNR of a quantized network on the test set.
    pub fn evaluate(&self, q: &QuantMlp) -> PairResult {
        let test = &self.split.test;
        let (mut correct, mut signal, mut noise) = (0, [0.0; 2], [0.0; 2]);
        for i in 0..test.len() {
            let y = q.forward(test.image(i));
            let f = &self.float_test[i];
            for (layer, (fs, qs)) in [(&f.hidden_pre, &y.hidden_pre), (&f.logits, &y.logits)]
                .into_iter()
                .enumerate()
            {
                for (a, b) in fs.iter().zip(qs) {
                    signal[layer] += a * a;
                    noise[layer] += (a - b) * (a - b);
                }
            }
            correct += (mlp::argmax(&y.logits) == test.labels[i] as usize) as usize;
        }
        PairResult {
            weights: q.hidden.weights.label(),
            activations: q.hidden.activations.label(),
            correct,
            total: test.len(),
            sqnr_hidden_db: sqnr_db(signal[0], noise[0]),
            sqnr_logits_db: sqnr_db(signal[1], noise[1]),
        }
    }

    /// Every (W, A) pair, in the order weights-major, on `threads` threads.
    /// All pairs are quantized (and so validated) before any is evaluated.
    pub fn table(
        &self,
        weights: &[QFormat],
        activations: &[QFormat],
        threads: usize,
    ) -> Result<Vec<PairResult>, Failure> {
        let nets: Vec<QuantMlp> = weights
            .iter()
            .flat_map(|w| activations.iter().map(move |a| (w, a)))
            .map(|(w, a)| self.quantize(w, a))
            .collect::<Result<_, _>>()?;
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(usize, PairResult)>> = Mutex::new(Vec::with_capacity(nets.len()));
        std::thread::scope(|s| {
            for _ in 0..threads.clamp(1, nets.len().max(1)) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(q) = nets.get(i) else { break };
                        let r = self.evaluate(q);
                        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
                    }
                });
            }
        });
        let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
        done.sort_by_key(|(i, _)| *i);
        Ok(done.into_iter().map(|(_, r)| r).collect())
    }
}

/// `accgen accuracy`'s arguments; they override the configuration file.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// Configuration file (YAML) with an `accuracy:` section (format lists,
    /// seed, calibration, hardware pairs); without one, the default table
    pub config: Option<PathBuf>,
    /// Weight formats, comma-separated [default: int2..int8 and the 9
    /// minifloat presets e4m3fn, e4m3fnuz, e5m2, e5m2fnuz, e4m3, e3m4, e2m3fn,
    /// e3m2fn, e2m1fn]
    #[arg(long, value_delimiter = ',')]
    pub weights: Option<Vec<String>>,
    /// Activation formats, comma-separated (uintN allowed) [default: as weights]
    #[arg(long, value_delimiter = ',')]
    pub activations: Option<Vec<String>>,
    /// Training seed [default: 1]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Activation calibration on the training set: `max` or a percentile `pNN` (e.g. p99.99) [default: max]
    #[arg(long)]
    pub calibration: Option<String>,
    /// Write digits_ptq.csv and digits_ptq.json into this folder
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Also run the first layer for the test images through the generated MAC
    /// array in Verilator, for these weights:activations pairs
    /// [default: the configuration's, else int8:int8,e4m3fn:e4m3fn]
    #[arg(long, num_args = 0..=1, require_equals = true, value_delimiter = ',', default_missing_value = "")]
    pub hardware: Option<Vec<String>>,
    /// Test images for the hardware check [default: all 355]
    #[arg(long)]
    pub hardware_images: Option<usize>,
    /// Threads for the table [default: the available cores]
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Everything a run needs, resolved from defaults, file and arguments.
#[derive(Clone, Debug)]
pub struct Settings {
    pub weights: Vec<QFormat>,
    pub activations: Vec<QFormat>,
    pub seed: u64,
    pub calibration: Calibration,
    pub hardware: Vec<(QFormat, QFormat)>,
    pub hardware_images: usize,
    pub out: Option<PathBuf>,
    pub threads: usize,
}

fn defaults(role: Role) -> Vec<QFormat> {
    DEFAULT_FORMATS
        .iter()
        .map(|n| config::parse_format("default", role, n).unwrap_or_else(|e| unreachable!("default format: {e}")))
        .collect()
}

impl Settings {
    pub fn resolve(args: &Args) -> Result<Settings, Failure> {
        let file = match &args.config {
            Some(path) => config::load(path)?,
            None => AccuracyFile::default(),
        };
        let list = |flag: &str, role: Role, arg: &Option<Vec<String>>, file: &Option<Vec<QFormat>>| match arg {
            Some(items) => config::parse_list(flag, role, items),
            None => Ok(file.clone().unwrap_or_else(|| defaults(role))),
        };
        let calibration = match &args.calibration {
            Some(c) => Calibration::parse(c).map_err(|m| Failure::Input(format!("error: `--calibration` = {m}")))?,
            None => file.calibration.unwrap_or(Calibration::Max),
        };
        let hardware = match &args.hardware {
            Some(items) if !items.iter().all(|s| s.is_empty()) => config::parse_pairs("--hardware", items)?,
            Some(_) => match &file.hardware {
                Some(pairs) => pairs.clone(),
                None => DEFAULT_HARDWARE
                    .iter()
                    .map(|(w, a)| {
                        let f =
                            |role, n| config::parse_format("default", role, n).unwrap_or_else(|e| unreachable!("{e}"));
                        (f(Role::Weights, w), f(Role::Activations, a))
                    })
                    .collect(),
            },
            None => file.hardware.clone().unwrap_or_default(),
        };
        let hardware_images = match args.hardware_images.or(file.hardware_images) {
            Some(0) => return Err(Failure::Input("error: `--hardware-images` must be at least 1".into())),
            Some(n) => n,
            None => usize::MAX,
        };
        if args.threads == Some(0) {
            return Err(Failure::Input("error: `--threads` must be at least 1".into()));
        }
        Ok(Settings {
            weights: list("--weights", Role::Weights, &args.weights, &file.weights)?,
            activations: list("--activations", Role::Activations, &args.activations, &file.activations)?,
            seed: args.seed.or(file.seed).unwrap_or(1),
            calibration,
            hardware,
            hardware_images,
            out: args.out.clone(),
            threads: args
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        })
    }
}

/// `accgen accuracy`.
pub fn run(args: &Args) -> Result<(), Failure> {
    let s = Settings::resolve(args)?;
    let start = Instant::now();
    let work = Workload::prepare(s.seed, s.calibration)?;
    let (train, test) = (&work.split.train, &work.split.test);
    println!(
        "digits: {} train / {} test images (every {}th of each class to test); MLP 64-{}-10 trained from seed {} in {:.2} s",
        train.len(),
        test.len(),
        digits::TEST_EVERY,
        work.net.hidden.outputs,
        s.seed,
        work.train_seconds
    );
    println!("float test accuracy: {:.2} %", 100.0 * work.float_accuracy);
    println!(
        "activation ranges calibrated on the training set ({}): input {:.4}, hidden {:.4}",
        s.calibration, work.ranges.input, work.ranges.hidden
    );
    let table_start = Instant::now();
    let results = work.table(&s.weights, &s.activations, s.threads)?;
    let table_seconds = table_start.elapsed().as_secs_f64();
    println!();
    println!("{}", report::text(&s.weights, &s.activations, &results));
    println!(
        "{} format pairs evaluated through the golden model in {:.2} s on {} threads ({:.2} s in all)",
        results.len(),
        table_seconds,
        s.threads.min(results.len()),
        start.elapsed().as_secs_f64()
    );
    let mut checks: Vec<HardwareReport> = Vec::new();
    for (w, a) in &s.hardware {
        let q = work.quantize(w, a)?;
        let o = HardwareOptions {
            images: s.hardware_images,
            ..HardwareOptions::default()
        };
        let h = hardware::check_first_layer(&q, test, &o)?;
        println!("{}", report::hardware_line(&h));
        checks.push(h);
    }
    if let Some(dir) = &s.out {
        write(dir, &work, &results, &checks)?;
    }
    Ok(())
}

fn write(
    dir: &std::path::Path,
    work: &Workload,
    results: &[PairResult],
    checks: &[HardwareReport],
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::Run(format!("error: creating {}: {e}", dir.display())))?;
    let t = TrainOptions::default();
    let json = serde_json::json!({
        "generator": format!("accgen {}", env!("CARGO_PKG_VERSION")),
        "command": crate::command_line(),
        "dataset": {
            "name": "digits (UCI optical recognition of handwritten digits, CC BY 4.0; data/digits/README.md)",
            "split": format!("stratified: every {}th sample of each class (file order) to test", digits::TEST_EVERY),
            "train_images": work.split.train.len(),
            "test_images": work.split.test.len(),
        },
        "model": {
            "layers": [digits::FEATURES, work.net.hidden.outputs, digits::CLASSES],
            "activation": "relu",
            "optimizer": "adam",
            "learning_rate": t.learning_rate,
            "batch": t.batch,
            "epochs": t.epochs,
            "seed": work.seed,
        },
        "quantization": {
            "weights": "symmetric, per output channel, max|w| -> format max",
            "activations": "symmetric, per tensor, calibrated on the training set",
            "calibration": work.calibration.to_string(),
            "input_range": work.ranges.input,
            "hidden_range": work.ranges.hidden,
            "rounding": "round to nearest even, saturating",
            "bias": "f64, added after the exact sum",
            "dot_products": "accgen_hdl::mac::model::mac_step (bit-exact golden model)",
        },
        "float_accuracy": work.float_accuracy,
        "results": results.iter().map(report::result_json).collect::<Vec<_>>(),
        "hardware": checks.iter().map(report::hardware_json).collect::<Vec<_>>(),
    });
    let files = [
        ("digits_ptq.csv", report::csv(results)),
        (
            "digits_ptq.json",
            serde_json::to_string_pretty(&json).map_err(|e| Failure::Run(format!("error: json: {e}")))? + "\n",
        ),
    ];
    for (name, text) in &files {
        crate::output::write_atomic(&dir.join(name), text.as_bytes()).map_err(Failure::Run)?;
        println!("wrote {}", dir.join(name).display());
    }
    Ok(())
}

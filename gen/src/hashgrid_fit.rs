//! The hash grid's accuracy workload: fit a grid and a small decoder (one
//! hidden ReLU layer) on the CPU to a generated image and to the signed
//! distance field of an analytic shape, then measure how the table entry
//! format changes the result when the encoding is the hardware model's.
//!
//! Training runs in f32 with the tiny-cuda-nn reference encoding (Adam,
//! tiny-cuda-nn's initialisation of entries in +-1e-4). Evaluation encodes
//! with [`HardwareModel`] on tables quantized to each format (integer
//! formats get a power-of-two scale per level from the level's largest
//! entry) and decodes with the f32 decoder: PSNR for the image, mean
//! absolute SDF error for the shape. `fp32` is the reference encoding itself.

use accgen_hdl::hashgrid::model::HardwareModel;
use accgen_hdl::hashgrid::reference::grid_index;
use accgen_hdl::hashgrid::{GridGeometry, HashGridParams, HashGridSpec};
use accgen_hdl::mac::params::FormatSpec;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// What to fit and how long.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub dims: u32,
    pub levels: u32,
    pub features: u32,
    pub log2_table_size: u32,
    pub base_resolution: u32,
    pub per_level_scale: f32,
    pub hidden: usize,
    pub steps: u32,
    pub batch: usize,
    /// Image side (2D) in pixels.
    pub image_size: usize,
    pub seed: u64,
}

impl FitOptions {
    /// A 256 x 256 image, L = 8, F = 2, T = 2^12, N0 = 16, b = 1.5.
    pub fn image() -> FitOptions {
        FitOptions {
            dims: 2,
            levels: 8,
            features: 2,
            log2_table_size: 12,
            base_resolution: 16,
            per_level_scale: 1.5,
            hidden: 32,
            steps: 600,
            batch: 4096,
            image_size: 256,
            seed: 1,
        }
    }

    /// A torus SDF, L = 6, F = 2, T = 2^12, N0 = 4, b = 1.6.
    pub fn sdf() -> FitOptions {
        FitOptions {
            dims: 3,
            levels: 6,
            base_resolution: 4,
            per_level_scale: 1.6,
            ..FitOptions::image()
        }
    }
}

/// The generated test image: a zone plate (rings whose frequency rises
/// towards the corners), a sharp-edged disc and bars; values in [0, 1].
pub fn image_value(u: f32, v: f32) -> f32 {
    let (du, dv) = (u - 0.5, v - 0.5);
    let r2 = du * du + dv * dv;
    let zone = 0.5 + 0.5 * (std::f32::consts::PI * 60.0 * r2).cos();
    let disc = if (u - 0.3).powi(2) + (v - 0.7).powi(2) < 0.02 {
        1.0
    } else {
        0.0
    };
    let bars = if ((u * 24.0) as i32) % 2 == 0 && v < 0.2 {
        1.0
    } else {
        0.0
    };
    (0.6 * zone + 0.25 * disc + 0.15 * bars).clamp(0.0, 1.0)
}

/// Signed distance to a torus centred in the unit cube (major radius 0.3,
/// minor 0.1), in cube units.
pub fn torus_sdf(x: &[f32]) -> f32 {
    let (px, py, pz) = (x[0] - 0.5, x[1] - 0.5, x[2] - 0.5);
    let q = (px * px + pz * pz).sqrt() - 0.3;
    (q * q + py * py).sqrt() - 0.1
}

/// A trained grid and decoder.
pub struct Fitted {
    pub geometry: GridGeometry,
    pub tables: Vec<Vec<f32>>,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: f32,
    hidden: usize,
}

struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f32) {
        let (b1, b2, eps) = (0.9f32, 0.99f32, 1e-15f32);
        self.t += 1;
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        for i in 0..params.len() {
            let g = grads[i];
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g;
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g;
            params[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + eps);
        }
    }
}

/// The f32 encoding with the corners that produced it: `(level, entry, weight)`.
fn encode(g: &GridGeometry, tables: &[Vec<f32>], x: &[f32], feats: &mut [f32], corners: &mut Vec<(usize, usize, f32)>) {
    let d = g.dims as usize;
    let nf = g.features as usize;
    corners.clear();
    feats.iter_mut().for_each(|f| *f = 0.0);
    let mut pos = [0f32; 3];
    let mut grid = [0u32; 3];
    let mut corner = [0u32; 3];
    for (l, lv) in g.levels.iter().enumerate() {
        for k in 0..d {
            let p = x[k].mul_add(lv.scale, 0.5);
            let fl = p.floor();
            grid[k] = fl as i32 as u32;
            pos[k] = p - fl;
        }
        for c in 0..1usize << d {
            let mut w = 1f32;
            for k in 0..d {
                if c & (1 << k) == 0 {
                    w *= 1.0 - pos[k];
                    corner[k] = grid[k];
                } else {
                    w *= pos[k];
                    corner[k] = grid[k] + 1;
                }
            }
            let i = grid_index(&corner[..d], lv.res, lv.size, lv.hashed) as usize;
            for f in 0..nf {
                feats[l * nf + f] += w * tables[l][i * nf + f];
            }
            corners.push((l, i, w));
        }
    }
}

impl Fitted {
    fn decode(&self, feats: &[f32], hidden: &mut [f32]) -> f32 {
        let n = feats.len();
        let mut out = self.b2;
        for h in 0..self.hidden {
            let row = &self.w1[h * n..(h + 1) * n];
            let a = self.b1[h] + row.iter().zip(feats).map(|(w, f)| w * f).sum::<f32>();
            hidden[h] = a.max(0.0);
            out += self.w2[h] * hidden[h];
        }
        out
    }

    /// Fit to `target` at points drawn by `sample`.
    pub fn train(o: &FitOptions, sample: &mut dyn FnMut(&mut StdRng, &mut [f32]) -> f32) -> Fitted {
        let g = GridGeometry::new(
            o.dims,
            o.levels,
            o.features,
            o.log2_table_size,
            o.base_resolution,
            o.per_level_scale,
        );
        let mut rng = StdRng::seed_from_u64(o.seed);
        let nf = o.features as usize;
        let n_in = g.n_outputs() as usize;
        let tables: Vec<Vec<f32>> = g
            .levels
            .iter()
            .map(|l| {
                (0..l.size as usize * nf)
                    .map(|_| rng.random_range(-1e-4f32..1e-4))
                    .collect()
            })
            .collect();
        let scale1 = (2.0 / n_in as f32).sqrt();
        let scale2 = (2.0 / o.hidden as f32).sqrt();
        let mut fit = Fitted {
            geometry: g.clone(),
            tables,
            w1: (0..o.hidden * n_in)
                .map(|_| rng.random_range(-1.0f32..1.0) * scale1)
                .collect(),
            b1: vec![0.0; o.hidden],
            w2: (0..o.hidden).map(|_| rng.random_range(-1.0f32..1.0) * scale2).collect(),
            b2: 0.0,
            hidden: o.hidden,
        };
        let sizes: Vec<usize> = fit.tables.iter().map(|t| t.len()).collect();
        let mut adam_t: Vec<Adam> = sizes.iter().map(|&n| Adam::new(n)).collect();
        let mut adam_w1 = Adam::new(fit.w1.len());
        let mut adam_b1 = Adam::new(fit.b1.len());
        let mut adam_w2 = Adam::new(fit.w2.len());
        let mut adam_b2 = Adam::new(1);
        let mut feats = vec![0f32; n_in];
        let mut hidden = vec![0f32; o.hidden];
        let mut corners = Vec::new();
        let mut x = vec![0f32; o.dims as usize];
        for _ in 0..o.steps {
            let mut gt: Vec<Vec<f32>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
            let mut gw1 = vec![0f32; fit.w1.len()];
            let mut gb1 = vec![0f32; fit.b1.len()];
            let mut gw2 = vec![0f32; fit.w2.len()];
            let mut gb2 = 0f32;
            let mut dfeat = vec![0f32; n_in];
            for _ in 0..o.batch {
                let y = sample(&mut rng, &mut x);
                encode(&fit.geometry, &fit.tables, &x, &mut feats, &mut corners);
                let out = fit.decode(&feats, &mut hidden);
                let gout = 2.0 * (out - y) / o.batch as f32;
                gb2 += gout;
                dfeat.iter_mut().for_each(|v| *v = 0.0);
                for h in 0..o.hidden {
                    gw2[h] += gout * hidden[h];
                    if hidden[h] > 0.0 {
                        let dh = gout * fit.w2[h];
                        gb1[h] += dh;
                        let row = h * n_in;
                        for i in 0..n_in {
                            gw1[row + i] += dh * feats[i];
                            dfeat[i] += dh * fit.w1[row + i];
                        }
                    }
                }
                for &(l, i, w) in &corners {
                    for f in 0..nf {
                        gt[l][i * nf + f] += w * dfeat[l * nf + f];
                    }
                }
            }
            for (l, a) in adam_t.iter_mut().enumerate() {
                a.step(&mut fit.tables[l], &gt[l], 1e-2);
            }
            adam_w1.step(&mut fit.w1, &gw1, 1e-2);
            adam_b1.step(&mut fit.b1, &gb1, 1e-2);
            adam_w2.step(&mut fit.w2, &gw2, 1e-2);
            let mut b2 = [fit.b2];
            adam_b2.step(&mut b2, &[gb2], 1e-2);
            fit.b2 = b2[0];
        }
        fit
    }

    /// The decoder's output at `x` with the f32 reference encoding.
    pub fn predict(&self, x: &[f32]) -> f32 {
        let mut feats = vec![0f32; self.geometry.n_outputs() as usize];
        let mut hidden = vec![0f32; self.hidden];
        let mut corners = Vec::new();
        encode(&self.geometry, &self.tables, x, &mut feats, &mut corners);
        self.decode(&feats, &mut hidden)
    }

    /// Hardware parameters for entry format `table` (default fixed point:
    /// 16-bit coordinates, 12-bit weights, features with 4 integer and 16
    /// fraction bits) and the tables quantized to it.
    pub fn hardware(&self, table: &str) -> Result<HardwareModel, String> {
        let g = &self.geometry;
        let base = HashGridSpec {
            dims: g.dims as u64,
            levels: g.levels.len() as u64,
            features: g.features as u64,
            log2_table_size: g.log2_table_size as u64,
            base_resolution: g.base_resolution as u64,
            per_level_scale: g.per_level_scale as f64,
            table: FormatSpec::Name(table.into()),
            ..HashGridSpec::default()
        };
        // Integer entries: per level, the largest power-of-two scale that keeps the level's largest entry in range.
        let probe = base.validate().map_err(|e| e.to_string())?;
        let spec = match probe.entry {
            accgen_hdl::hashgrid::EntryFormat::Int(i) => {
                let lo = (i.bits as i64 - 1 - base.feature_int_bits as i64).max(0);
                let scales = self
                    .tables
                    .iter()
                    .map(|t| {
                        let max = t.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
                        let s = ((i.max() as f32) / max).log2().floor() as i64;
                        s.clamp(lo, base.feature_frac_bits as i64)
                    })
                    .collect();
                HashGridSpec {
                    int_scale_log2: scales,
                    ..base
                }
            }
            accgen_hdl::hashgrid::EntryFormat::Float(_) => base,
        };
        let p: HashGridParams = spec.validate().map_err(|e| e.to_string())?;
        let codes = self
            .tables
            .iter()
            .enumerate()
            .map(|(l, t)| t.iter().map(|&v| p.quantize(l, v)).collect())
            .collect();
        Ok(HardwareModel::new(&p, codes))
    }

    /// The decoder's output at `x` with the hardware encoding `hw`.
    pub fn predict_hw(&self, hw: &HardwareModel, x: &[f32]) -> f32 {
        let one = hw.p.coord_one() as f32;
        let codes: Vec<u64> = x.iter().map(|&v| (v * one).round() as u64).collect();
        let feats: Vec<f32> = hw
            .encode(&codes)
            .into_iter()
            .map(|v| hw.p.feature_value(v) as f32)
            .collect();
        let mut hidden = vec![0f32; self.hidden];
        self.decode(&feats, &mut hidden)
    }
}

/// One row of a report: a table format and the quality it reaches.
#[derive(Clone, Debug)]
pub struct FormatResult {
    pub format: String,
    /// PSNR in dB (image) or mean absolute SDF error (shape).
    pub value: f64,
}

/// Fit the image and report PSNR per table format (`fp32` = reference encoding).
pub fn image_psnr(o: &FitOptions, formats: &[&str]) -> Result<Vec<FormatResult>, String> {
    let n = o.image_size;
    let pixel = |i: usize| (i as f32 + 0.5) / n as f32;
    let fit = Fitted::train(o, &mut |rng, x| {
        let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
        x[0] = pixel(i);
        x[1] = pixel(j);
        image_value(x[0], x[1])
    });
    formats
        .iter()
        .map(|&f| {
            let hw = if f == "fp32" { None } else { Some(fit.hardware(f)?) };
            let mut se = 0f64;
            for i in 0..n {
                for j in 0..n {
                    let x = [pixel(i), pixel(j)];
                    let y = match &hw {
                        None => fit.predict(&x),
                        Some(hw) => fit.predict_hw(hw, &x),
                    };
                    let e = (y.clamp(0.0, 1.0) - image_value(x[0], x[1])) as f64;
                    se += e * e;
                }
            }
            let mse = se / (n * n) as f64;
            Ok(FormatResult {
                format: f.to_string(),
                value: 10.0 * (1.0 / mse.max(1e-20)).log10(),
            })
        })
        .collect()
}

/// Fit the torus SDF and report the mean absolute error on 20,000 held-out
/// points per table format.
pub fn sdf_error(o: &FitOptions, formats: &[&str]) -> Result<Vec<FormatResult>, String> {
    let fit = Fitted::train(o, &mut |rng, x| {
        for v in x.iter_mut() {
            *v = rng.random_range(0.0f32..1.0);
        }
        torus_sdf(x)
    });
    let mut rng = StdRng::seed_from_u64(o.seed ^ 0xabc);
    let test: Vec<[f32; 3]> = (0..20_000)
        .map(|_| [0; 3].map(|_: i32| rng.random_range(0.0f32..1.0)))
        .collect();
    formats
        .iter()
        .map(|&f| {
            let hw = if f == "fp32" { None } else { Some(fit.hardware(f)?) };
            let total: f64 = test
                .iter()
                .map(|x| {
                    let y = match &hw {
                        None => fit.predict(x),
                        Some(hw) => fit.predict_hw(hw, x),
                    };
                    (y - torus_sdf(x)).abs() as f64
                })
                .sum();
            Ok(FormatResult {
                format: f.to_string(),
                value: total / test.len() as f64,
            })
        })
        .collect()
}

/// `accgen hashgrid-fit`.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Table entry formats to evaluate (fp32 is tiny-cuda-nn's f32 encoding)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fp32,fp16,bf16,int8,int4,e4m3fn,e5m2,e2m1fn"
    )]
    pub formats: Vec<String>,
    /// log2 T values to sweep
    #[arg(long, value_delimiter = ',', default_value = "10,12,14")]
    pub log2_t: Vec<u32>,
    /// L values to sweep
    #[arg(long, value_delimiter = ',', default_value = "4,8")]
    pub levels: Vec<u32>,
    /// Training steps of 4,096 points each
    #[arg(long, default_value_t = 600)]
    pub steps: u32,
    /// Which signal: image, sdf or both
    #[arg(long, default_value = "both")]
    pub signal: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: &Args) -> Result<(), crate::Failure> {
    let formats: Vec<&str> = a.formats.iter().map(String::as_str).collect();
    let signals: Vec<&str> = match a.signal.as_str() {
        "both" => vec!["image", "sdf"],
        "image" | "sdf" => vec![a.signal.as_str()],
        other => {
            return Err(crate::Failure::Input(format!(
                "error: --signal {other} is not allowed: image, sdf or both"
            )));
        }
    };
    for signal in signals {
        println!(
            "== {signal}: {} per table format (hardware encoding; fp32 = tiny-cuda-nn f32)",
            if signal == "image" {
                "PSNR dB of a 256 x 256 image"
            } else {
                "mean |SDF error| of a torus"
            }
        );
        println!("{:<6} {:<4} format=value", "log2T", "L");
        for &t in &a.log2_t {
            for &l in &a.levels {
                let base = if signal == "image" {
                    FitOptions::image()
                } else {
                    FitOptions::sdf()
                };
                let o = FitOptions {
                    log2_table_size: t,
                    levels: l,
                    steps: a.steps,
                    seed: a.seed,
                    ..base
                };
                let start = std::time::Instant::now();
                let r = if signal == "image" {
                    image_psnr(&o, &formats)
                } else {
                    sdf_error(&o, &formats)
                }
                .map_err(|e| crate::Failure::Input(format!("error: {e}")))?;
                let cells: Vec<String> = r
                    .iter()
                    .map(|x| {
                        if signal == "image" {
                            format!("{}={:.2}", x.format, x.value)
                        } else {
                            format!("{}={:.5}", x.format, x.value)
                        }
                    })
                    .collect();
                println!(
                    "{t:<6} {l:<4} {}  ({:.1} s)",
                    cells.join("  "),
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(())
}

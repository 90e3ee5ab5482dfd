//! End to end: the first layer of the quantized network on the generated
//! MAC array in Verilator, bit for bit against the golden model.
//!
//! The array computes tiles `Y = A x B` with `A` the activations of `R`
//! images (`R x 64`) and `B` the layer's weights (`64 x 32`): beat `k` of a
//! tile carries feature `k` of each of the `R` images on `in_act_i` and the
//! `k`-th weight of each of the 32 neurons on `in_wgt_i`. Every result row
//! (one image, 32 exact sums) is compared twice: by the simulator against
//! the array's behavioural model (`ArrayModel`, cycle by cycle, with the
//! handshakes), and here against the sums the accuracy table used
//! ([`QuantLayer::accumulate`]), so the table's numbers are the hardware's.

use super::digits::Dataset;
use super::quant::{QuantLayer, QuantMlp, layer_params};
use super::rng::SplitMix64;
use crate::Failure;
use crate::config::{Block, canonical};
use accgen_hdl::mac::MacArrayParams;
use accgen_hdl::mac::model::{Acc, output_code};
use accgen_hdl::mac::vectors::ArrayDriver;
use accgen_hdl::mac::vectors::Traffic;
use accgen_hdl::stimulus::{CycleSink, Stimulus};
use accgen_hdl::{Bits, Design};
use accgen_sim::{BuildOptions, Model};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// The command recorded in the generated files' headers. Fixed, so the CLI
/// and the tests share one cached Verilator model per format pair.
pub const COMMAND: &str = "accgen accuracy --hardware";

/// How the check runs.
#[derive(Clone, Copy, Debug)]
pub struct HardwareOptions {
    /// R: images per tile (rows of the array).
    pub rows: u32,
    /// Test images to run (at most the test set; the last tile is padded
    /// with all-zero images, which are compared too).
    pub images: usize,
    pub traffic: Traffic,
    /// Seed of the traffic pattern (gaps and back-pressure).
    pub seed: u64,
}

impl Default for HardwareOptions {
    fn default() -> HardwareOptions {
        HardwareOptions {
            rows: 4,
            images: usize::MAX,
            traffic: Traffic::BURSTY,
            seed: 1,
        }
    }
}

/// What a passing check compared.
#[derive(Clone, Debug)]
pub struct HardwareReport {
    pub top: String,
    pub weights: String,
    pub activations: String,
    pub rows: u32,
    pub cols: u32,
    /// Real test images run (without padding).
    pub images: usize,
    pub tiles: usize,
    /// Result rows compared (`tiles * rows`).
    pub result_rows: u64,
    /// Results compared (`result_rows * cols`), each bit-exact.
    pub results: u64,
    /// Values the simulator compared: handshakes (`in_ready_o` and
    /// `out_valid_o` every cycle after reset) plus, per result row,
    /// `out_data_o`, `out_last_o` and `out_special_o` where present.
    pub compared: u64,
    pub handshakes: u64,
    /// Result-port values compared (`compared - handshakes`): a row held
    /// under back-pressure is compared on every cycle it is valid.
    pub data_values: u64,
    pub cycles: u64,
    pub build_seconds: f64,
    pub cached: bool,
    pub sim_seconds: f64,
}

/// The design of the array for the first layer of `q`.
pub fn array_params(q: &QuantMlp, rows: u32) -> Result<MacArrayParams, Failure> {
    let l = &q.hidden;
    layer_params(
        rows as u64,
        l.outputs as u64,
        l.inputs as u64,
        &l.weights,
        &l.activations,
    )
    .map_err(|e| Failure::Input(format!("error: the hardware check's array: {e}")))
}

pub fn design(p: &MacArrayParams) -> Design {
    let digest = Sha256::digest(canonical(&Block::MacArray(*p)).to_string().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let prov = accgen_hdl::ir::verilog::Provenance {
        generator: format!("accgen {}", env!("CARGO_PKG_VERSION")),
        config_hash: format!("sha256:{hex}"),
        command: COMMAND.to_string(),
    };
    accgen_hdl::mac::design(p, &prov)
}

/// The codes every beat carries, tile by tile.
#[derive(Clone, Debug)]
pub struct LayerTiles {
    /// Activation codes of each image (padded to whole tiles), image-major.
    pub images: Vec<Vec<u64>>,
    /// Weight codes, `[output][input]`.
    pub weights: Vec<Vec<u64>>,
    pub real_images: usize,
}

impl LayerTiles {
    /// The first `images` test images through layer `l`, in tiles of `rows`.
    pub fn new(l: &QuantLayer, test: &Dataset, images: usize, rows: u32) -> LayerTiles {
        let real = images.min(test.len());
        let padded = real.div_ceil(rows as usize) * rows as usize;
        let zero = l.quantize_input(&vec![0.0; l.inputs]);
        let images = (0..padded)
            .map(|i| {
                if i < real {
                    l.quantize_input(test.image(i))
                } else {
                    zero.clone()
                }
            })
            .collect();
        LayerTiles {
            images,
            weights: (0..l.outputs).map(|c| l.channel_codes(c).to_vec()).collect(),
            real_images: real,
        }
    }
}

/// A result row as the golden model produced it: per column, the bits on
/// the output port (the exact sum, or its rounded code) and the
/// special-value code.
type Row = Vec<(Bits, u64)>;

/// What a stimulus saw; shared with the caller through `Rc`, since the
/// simulator owns the stimulus while it runs.
#[derive(Default, Debug)]
struct Record {
    rows: Vec<Row>,
    handshakes: u64,
    data: u64,
}

/// Tiles of real codes through the array under the valid/ready protocol,
/// each cycle's outputs predicted by the behavioural `ArrayModel`.
struct TileStimulus {
    p: MacArrayParams,
    driver: ArrayDriver,
    tiles: LayerTiles,
    rng: SplitMix64,
    traffic: Traffic,
    /// Next beat to offer: tile * K + k.
    next_beat: usize,
    beats: usize,
    offering: bool,
    act: Vec<u64>,
    wgt: Vec<u64>,
    record: Rc<RefCell<Record>>,
    /// Idle cycles allowed after the last expected row (a safety stop).
    budget: u64,
}

impl TileStimulus {
    fn new(design: &Design, p: &MacArrayParams, tiles: LayerTiles, traffic: Traffic, seed: u64) -> TileStimulus {
        let beats = tiles.images.len() / p.rows as usize * p.dot_length as usize;
        let slowest = traffic.offer.min(traffic.ready).max(0.01);
        TileStimulus {
            p: *p,
            driver: ArrayDriver::new(design, p),
            rng: SplitMix64::new(seed),
            traffic,
            next_beat: 0,
            beats,
            offering: false,
            act: vec![0; p.rows as usize],
            wgt: vec![0; p.cols as usize],
            record: Rc::new(RefCell::new(Record::default())),
            budget: ((beats as f64 / slowest) as u64 + 64) * 4 + 1000,
            tiles,
        }
    }

    fn rows_expected(&self) -> usize {
        self.tiles.images.len()
    }

    /// Load the codes of beat `n` into `act` / `wgt`.
    fn load_beat(&mut self, n: usize) {
        let (k, tile) = (n % self.p.dot_length as usize, n / self.p.dot_length as usize);
        let r0 = tile * self.p.rows as usize;
        for (r, a) in self.act.iter_mut().enumerate() {
            *a = self.tiles.images[r0 + r][k];
        }
        for (c, w) in self.wgt.iter_mut().enumerate() {
            *w = self.tiles.weights[c][k];
        }
    }
}

/// A row of sums as the output port carries it, exactly as the golden
/// model produces it (any accumulator width).
fn row_bits(p: &MacArrayParams, row: &[Acc]) -> Row {
    row.iter().map(|acc| (output_code(p, acc), acc.special())).collect()
}

impl Stimulus for TileStimulus {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        if self.driver.in_reset() {
            self.driver.cycle(sink, None, false);
            return true;
        }
        let done = self.record.borrow().rows.len() == self.rows_expected();
        if done || self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        // A beat once offered stays until accepted: valid never waits on ready.
        if !self.offering && self.next_beat < self.beats && self.rng.chance(self.traffic.offer) {
            self.offering = true;
            self.load_beat(self.next_beat);
        }
        let out_ready = self.rng.chance(self.traffic.ready);
        let shown = self.driver.shown_row().map(|row| row_bits(&self.p, row));
        let offer = self.offering.then_some((self.act.as_slice(), self.wgt.as_slice()));
        let cycle = self.driver.cycle(sink, offer, out_ready);
        let mut record = self.record.borrow_mut();
        record.handshakes += 2;
        record.data += cycle.compared - 2;
        // A row stays on the output until taken; record it once.
        if cycle.row_taken {
            record.rows.extend(shown);
        }
        drop(record);
        if cycle.accepted {
            self.offering = false;
            self.next_beat += 1;
        }
        true
    }
}

/// Run the first layer of `q` for test images through the generated array
/// in Verilator. Fails unless every result row came out, every value was
/// compared, and each row equals the layer's golden-model sums.
pub fn check_first_layer(q: &QuantMlp, test: &Dataset, o: &HardwareOptions) -> Result<HardwareReport, Failure> {
    let p = array_params(q, o.rows)?;
    check_design(&design(&p), q, test, o)
}

/// [`check_first_layer`] on a given design of the array (the tests pass a
/// deliberately broken one, which must fail).
pub fn check_design(
    design: &Design,
    q: &QuantMlp,
    test: &Dataset,
    o: &HardwareOptions,
) -> Result<HardwareReport, Failure> {
    crate::tools::ensure(&[crate::tools::VERILATOR]).map_err(Failure::Run)?;
    if o.images == 0 || test.is_empty() {
        return Err(Failure::Input(
            "error: the hardware check needs at least one test image".into(),
        ));
    }
    let p = array_params(q, o.rows)?;
    let start = Instant::now();
    let model = Model::build(design, &BuildOptions::default())?;
    let build_seconds = start.elapsed().as_secs_f64();
    let tiles = LayerTiles::new(&q.hidden, test, o.images, o.rows);
    let latest: RefCell<Option<Rc<RefCell<Record>>>> = RefCell::new(None);
    let start = Instant::now();
    let report = model.check(|| {
        let s = TileStimulus::new(design, &p, tiles.clone(), o.traffic, o.seed);
        *latest.borrow_mut() = Some(s.record.clone());
        crate::cosim::Source::new(design, model.layout(), s)
    })?;
    let sim_seconds = start.elapsed().as_secs_f64();
    let record = latest.take().map(|r| r.take()).unwrap_or_default();

    let fail = |what: String| Err(Failure::Run(format!("error: {}: {what}", design.top)));
    let expected_rows = tiles.images.len();
    if record.rows.len() != expected_rows {
        return fail(format!("{} of {expected_rows} result rows came out", record.rows.len()));
    }
    if report.compared != record.handshakes + record.data {
        return fail(format!(
            "the simulator compared {} values, the stimulus expected {} ({} handshakes + {} result ports)",
            report.compared,
            record.handshakes + record.data,
            record.handshakes,
            record.data
        ));
    }
    for (i, (row, codes)) in record.rows.iter().zip(&tiles.images).enumerate() {
        let golden: Row = q
            .hidden
            .accumulate(codes)
            .iter()
            .map(|a| (output_code(&p, a), a.special()))
            .collect();
        if *row != golden {
            return fail(format!(
                "image {i}: the array's sums {row:?} differ from the accuracy table's {golden:?}"
            ));
        }
    }
    let result_rows = expected_rows as u64;
    Ok(HardwareReport {
        top: design.top.clone(),
        weights: q.hidden.weights.label(),
        activations: q.hidden.activations.label(),
        rows: p.rows,
        cols: p.cols,
        images: tiles.real_images,
        tiles: expected_rows / p.rows as usize,
        result_rows,
        results: result_rows * p.cols as u64,
        compared: report.compared,
        handshakes: record.handshakes,
        data_values: record.data,
        cycles: report.cycles,
        build_seconds,
        cached: model.was_cached(),
        sim_seconds,
    })
}

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
use accgen_hdl::mac::model::{Acc, ArrayModel, output_code};
use accgen_hdl::mac::vectors::Traffic;
use accgen_hdl::stimulus::{CycleSink, Stimulus, input_index, output_index};
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
    model: ArrayModel,
    tiles: LayerTiles,
    rng: SplitMix64,
    traffic: Traffic,
    reset_cycles: u32,
    /// Next beat to offer: tile * K + k.
    next_beat: usize,
    beats: usize,
    offering: bool,
    act_bits: Bits,
    wgt_bits: Bits,
    out_bits: Bits,
    special_bits: Bits,
    act: Vec<u64>,
    wgt: Vec<u64>,
    rst: (usize, u64),
    ins: [usize; 4],
    outs: [usize; 4],
    out_special: Option<usize>,
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
            model: ArrayModel::new(p),
            rng: SplitMix64::new(seed),
            traffic,
            reset_cycles: 2,
            next_beat: 0,
            beats,
            offering: false,
            act_bits: Bits::zero(p.rows * p.act.width()),
            wgt_bits: Bits::zero(p.cols * p.wgt.width()),
            out_bits: Bits::zero(p.cols * p.result_width()),
            special_bits: Bits::zero(p.cols * 2),
            act: vec![0; p.rows as usize],
            wgt: vec![0; p.cols as usize],
            rst: (input_index(design, p.reset.port_name()), p.reset.asserted()),
            ins: ["in_valid_i", "in_act_i", "in_wgt_i", "out_ready_i"].map(|n| input_index(design, n)),
            outs: ["in_ready_o", "out_valid_o", "out_data_o", "out_last_o"].map(|n| output_index(design, n)),
            out_special: (p.has_specials() && p.output.is_none()).then(|| output_index(design, "out_special_o")),
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

    /// The output port's bits for a row of sums, exactly as the golden
    /// model produces them (any accumulator width).
    fn row_bits(&mut self, row: &[Acc]) -> Row {
        let p = self.p;
        let rw = p.result_width();
        row.iter()
            .enumerate()
            .map(|(c, acc)| {
                let bits = output_code(&p, acc);
                self.out_bits.set_field(c as u32 * rw, &bits);
                self.special_bits.set_u64_field(2 * c as u32, 2, acc.special());
                (bits, acc.special())
            })
            .collect()
    }
}

impl Stimulus for TileStimulus {
    fn next_cycle(&mut self, sink: &mut dyn CycleSink) -> bool {
        let [in_valid_i, in_act_i, in_wgt_i, out_ready_i] = self.ins;
        let [in_ready_o, out_valid_o, out_data_o, out_last_o] = self.outs;
        let (rst_port, asserted) = self.rst;
        if self.reset_cycles > 0 {
            self.reset_cycles -= 1;
            sink.drive(rst_port, asserted);
            sink.drive(in_valid_i, 0);
            sink.drive(out_ready_i, 0);
            sink.drive_bits(in_act_i, &self.act_bits);
            sink.drive_bits(in_wgt_i, &self.wgt_bits);
            for port in self.outs.into_iter().chain(self.out_special) {
                sink.ignore(port);
            }
            self.model.reset();
            return true;
        }
        let done = self.record.borrow().rows.len() == self.rows_expected();
        if done || self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        sink.drive(rst_port, asserted ^ 1);
        // A beat once offered stays until accepted: valid never waits on ready.
        if !self.offering && self.next_beat < self.beats && self.rng.chance(self.traffic.offer) {
            self.offering = true;
            self.load_beat(self.next_beat);
        }
        let out_ready = self.rng.chance(self.traffic.ready);
        let p = self.p;
        let (aw, ww) = (p.act.width(), p.wgt.width());
        for (r, &v) in self.act.iter().enumerate() {
            self.act_bits.set_u64_field(r as u32 * aw, aw, v);
        }
        for (c, &v) in self.wgt.iter().enumerate() {
            self.wgt_bits.set_u64_field(c as u32 * ww, ww, v);
        }
        sink.drive(in_valid_i, self.offering as u64);
        sink.drive_bits(in_act_i, &self.act_bits);
        sink.drive_bits(in_wgt_i, &self.wgt_bits);
        sink.drive(out_ready_i, out_ready as u64);

        let in_ready = self.model.in_ready(out_ready);
        sink.expect(in_ready_o, in_ready as u64);
        let out = self.model.out().map(|(row, last)| (row.to_vec(), last));
        let (mut data, mut taken) = (0, None);
        match out {
            Some((row, last)) => {
                let values = self.row_bits(&row);
                sink.expect(out_valid_o, 1);
                sink.expect_bits(out_data_o, &self.out_bits);
                sink.expect(out_last_o, last as u64);
                data += 2;
                if let Some(port) = self.out_special {
                    sink.expect_bits(port, &self.special_bits);
                    data += 1;
                }
                // A row stays on the output until taken; record it once.
                taken = out_ready.then_some(values);
            }
            None => {
                sink.expect(out_valid_o, 0);
                sink.ignore(out_data_o);
                sink.ignore(out_last_o);
                if let Some(port) = self.out_special {
                    sink.ignore(port);
                }
            }
        }
        let mut record = self.record.borrow_mut();
        record.handshakes += 2;
        record.data += data;
        record.rows.extend(taken);
        drop(record);
        self.model.clock(self.offering, &self.act, &self.wgt, out_ready);
        if self.offering && in_ready {
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

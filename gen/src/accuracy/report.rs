//! The accuracy table as text (W x A grids), CSV and JSON.

use super::hardware::HardwareReport;
use super::quant::QFormat;
use std::fmt::Write;

/// The result of one (weights, activations) format pair on the test set.
#[derive(Clone, Debug, PartialEq)]
pub struct PairResult {
    pub weights: String,
    pub activations: String,
    pub correct: usize,
    pub total: usize,
    /// SQNR of the hidden layer's outputs (before ReLU) against the float
    /// network's, over every test image and channel: `10 log10(sum y^2 /
    /// sum (y - y_q)^2)`; +inf when the outputs are identical.
    pub sqnr_hidden_db: f64,
    /// The same for the logits.
    pub sqnr_logits_db: f64,
}

impl PairResult {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }
}

/// `signal / noise` in dB.
pub fn sqnr_db(signal: f64, noise: f64) -> f64 {
    if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (signal / noise).log10()
    }
}

fn db(x: f64) -> String {
    if x.is_finite() { format!("{x:.1}") } else { "inf".into() }
}

/// One W x A grid: weights down, activations across.
pub fn grid(
    title: &str,
    weights: &[QFormat],
    activations: &[QFormat],
    results: &[PairResult],
    cell: impl Fn(&PairResult) -> String,
) -> String {
    let find = |w: &str, a: &str| results.iter().find(|r| r.weights == w && r.activations == a);
    let wl: Vec<String> = weights.iter().map(QFormat::label).collect();
    let al: Vec<String> = activations.iter().map(QFormat::label).collect();
    let first = wl.iter().map(String::len).max().unwrap_or(0).max(5);
    let width = al.iter().map(String::len).max().unwrap_or(0).max(5);
    let mut s = format!("{title}\n{:<first$}", "W \\ A");
    for a in &al {
        let _ = write!(s, " {a:>width$}");
    }
    s.push('\n');
    for w in &wl {
        let _ = write!(s, "{w:<first$}");
        for a in &al {
            let v = find(w, a).map(&cell).unwrap_or_else(|| "-".into());
            let _ = write!(s, " {v:>width$}");
        }
        s.push('\n');
    }
    s
}

/// The three grids `accgen accuracy` prints.
pub fn text(weights: &[QFormat], activations: &[QFormat], results: &[PairResult]) -> String {
    let total = results.first().map(|r| r.total).unwrap_or(0);
    [
        grid(
            &format!("Test accuracy (%) of the quantized network, {total} test images"),
            weights,
            activations,
            results,
            |r| format!("{:.1}", 100.0 * r.accuracy()),
        ),
        grid(
            "SQNR (dB) of the hidden layer's outputs vs the float network",
            weights,
            activations,
            results,
            |r| db(r.sqnr_hidden_db),
        ),
        grid(
            "SQNR (dB) of the logits vs the float network",
            weights,
            activations,
            results,
            |r| db(r.sqnr_logits_db),
        ),
    ]
    .join("\n")
}

/// One line per pair.
pub fn csv(results: &[PairResult]) -> String {
    let mut s =
        String::from("weights,activations,test_images,correct,accuracy_percent,sqnr_hidden_db,sqnr_logits_db\n");
    for r in results {
        let _ = writeln!(
            s,
            "{},{},{},{},{:.2},{},{}",
            r.weights,
            r.activations,
            r.total,
            r.correct,
            100.0 * r.accuracy(),
            if r.sqnr_hidden_db.is_finite() {
                format!("{:.3}", r.sqnr_hidden_db)
            } else {
                "inf".into()
            },
            if r.sqnr_logits_db.is_finite() {
                format!("{:.3}", r.sqnr_logits_db)
            } else {
                "inf".into()
            },
        );
    }
    s
}

/// JSON numbers cannot be infinite: identical outputs are written as `null`.
fn finite(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!((x * 1000.0).round() / 1000.0)
    } else {
        serde_json::Value::Null
    }
}

pub fn result_json(r: &PairResult) -> serde_json::Value {
    serde_json::json!({
        "weights": r.weights,
        "activations": r.activations,
        "test_images": r.total,
        "correct": r.correct,
        "accuracy": r.accuracy(),
        "sqnr_hidden_db": finite(r.sqnr_hidden_db),
        "sqnr_logits_db": finite(r.sqnr_logits_db),
    })
}

pub fn hardware_json(h: &HardwareReport) -> serde_json::Value {
    serde_json::json!({
        "top": h.top,
        "weights": h.weights,
        "activations": h.activations,
        "rows": h.rows,
        "cols": h.cols,
        "images": h.images,
        "tiles": h.tiles,
        "result_rows": h.result_rows,
        "results_bit_exact": h.results,
        "values_compared": h.compared,
        "handshakes_compared": h.handshakes,
        "result_port_values_compared": h.data_values,
        "cycles": h.cycles,
    })
}

/// The hardware check's summary line.
pub fn hardware_line(h: &HardwareReport) -> String {
    format!(
        "PASS {}: first layer, weights {} x activations {}: {} test images in {} tiles of {} -> {} result rows x {} neurons \
         = {} sums, all bit-exact with the golden model ({} values compared: {} handshakes + {} result-port values, \
         {} cycles); model {} in {:.1} s, run {:.2} s",
        h.top,
        h.weights,
        h.activations,
        h.images,
        h.tiles,
        h.rows,
        h.result_rows,
        h.cols,
        h.results,
        h.compared,
        h.handshakes,
        h.data_values,
        h.cycles,
        if h.cached { "cached" } else { "built" },
        h.build_seconds,
        h.sim_seconds
    )
}

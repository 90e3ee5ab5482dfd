//! Resource-versus-accuracy plots with the Pareto front highlighted, as
//! SVG (text, no fonts needed) and PNG (rendered with the DejaVu Sans font
//! shipped in `gen/assets`, registered at run time).

use super::metric::Metric;
use super::{Front, Kind, Row};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 640);

fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
                .map_err(|_| "the shipped font gen/assets/DejaVuSans.ttf is unreadable".to_string())
        })
        .clone()
}

fn color(kind: Option<Kind>) -> RGBColor {
    match kind {
        Some(Kind::Integer) => RGBColor(31, 119, 180),
        Some(Kind::Minifloat) => RGBColor(255, 127, 14),
        _ => RGBColor(127, 127, 127),
    }
}

/// The short name of a point in plots: its axis values.
pub fn short_label(row: &Row) -> String {
    if row.settings.is_empty() {
        return row.formats.clone().unwrap_or_else(|| row.label.clone());
    }
    let values: Vec<&str> = row.settings.iter().map(|(_, v)| v.as_str()).collect();
    values.join("/")
}

/// (x, y) axes of a two-metric front: the quality on y.
pub fn axes(front: &Front) -> Option<(Metric, Metric)> {
    match front.metrics.as_slice() {
        [a, b] if a.maximize() && !b.maximize() => Some((*b, *a)),
        [a, b] => Some((*a, *b)),
        _ => None,
    }
}

fn scale(m: Metric, v: f64) -> f64 {
    if m == Metric::Accuracy { v * 100.0 } else { v }
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).abs().max(hi.abs() * 0.05).max(1e-9);
    (lo - span * 0.08, hi + span * 0.12)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    rows: &[Row],
    front: &Front,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let Some((xm, ym)) = axes(front) else {
        return Err("a plot needs a front of two metrics".into());
    };
    let point = |r: usize| {
        let row = &rows[r];
        Some((scale(xm, row.metric(xm)?), scale(ym, row.metric(ym)?)))
    };
    let all: Vec<(usize, (f64, f64))> = front.candidates.iter().filter_map(|&r| Some((r, point(r)?))).collect();
    let on: Vec<(usize, (f64, f64))> = front.rows.iter().filter_map(|&r| Some((r, point(r)?))).collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = all.iter().map(|(_, p)| *p).unzip();
    let (x0, x1) = padded(
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = padded(
        ys.iter().copied().fold(f64::INFINITY, f64::min),
        ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(format!(
            "{} ({} is better)",
            xm.title(),
            if xm.maximize() { "higher" } else { "lower" }
        ))
        .y_desc(format!(
            "{} ({} is better)",
            ym.title(),
            if ym.maximize() { "higher" } else { "lower" }
        ))
        .label_style(("sans-serif", 13))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    for kind in [Kind::Integer, Kind::Minifloat, Kind::Mixed] {
        let pts: Vec<(f64, f64)> = all
            .iter()
            .filter(|(r, _)| rows[*r].kind == Some(kind))
            .map(|(_, p)| *p)
            .collect();
        if pts.is_empty() {
            continue;
        }
        let c = color(Some(kind));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.mix(0.55).filled())))
            .map_err(e)?
            .label(kind.name())
            .legend(move |(x, y)| Circle::new((x, y), 5, c.filled()));
    }
    // The front as a staircase through its points, each circled and named.
    let mut stairs = Vec::new();
    for (i, (_, p)) in on.iter().enumerate() {
        if i > 0 {
            stairs.push((p.0, on[i - 1].1.1));
        }
        stairs.push(*p);
    }
    chart
        .draw_series(LineSeries::new(stairs, BLACK.stroke_width(2)))
        .map_err(e)?
        .label("Pareto front")
        .legend(|(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], BLACK.stroke_width(2)));
    chart
        .draw_series(
            on.iter()
                .map(|(r, p)| Circle::new(*p, 6, color(rows[*r].kind).stroke_width(2))),
        )
        .map_err(e)?;
    // Points at the same place share one label, beside them.
    let mut labels: Vec<((f64, f64), Vec<String>)> = Vec::new();
    for (r, p) in &on {
        match labels.iter_mut().find(|(q, _)| q == p) {
            Some((_, names)) => names.push(short_label(&rows[*r])),
            None => labels.push((*p, vec![short_label(&rows[*r])])),
        }
    }
    chart
        .draw_series(labels.iter().map(|(p, names)| {
            EmptyElement::at(*p) + Text::new(names.join(", "), (9, -14), ("sans-serif", 12).into_font().color(&BLACK))
        }))
        .map_err(e)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The plot of a two-metric front as SVG text.
pub fn svg(title: &str, rows: &[Row], front: &Front) -> Result<String, String> {
    register_font()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(root, title, rows, front)?;
    }
    Ok(text)
}

/// The plot of a two-metric front as a PNG file at `path`.
pub fn png(path: &Path, title: &str, rows: &[Row], front: &Front) -> Result<(), String> {
    register_font()?;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(root, title, rows, front).map_err(|e| format!("cannot draw {}: {e}", path.display()))
}

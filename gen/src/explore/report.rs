//! What `accgen explore` writes: `results.csv` and `results.json` (every
//! point on every target), `report.md` (the fronts and the answer to "integer
//! or minifloat?"), `report.html` (the same with the plots inline) and
//! `plots/*.svg|png`. No file holds a time or a path of this machine, so the
//! same sweep writes the same bytes.

use super::metric::Metric;
use super::plot;
use super::sweep::Family;
use super::{Front, Kind, Results, Row};
use crate::output::write_atomic;
use crate::synth::Target;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Accuracy levels the integer-versus-minifloat table asks about (those up
/// to the best accuracy any point reaches).
pub const LEVELS: [f64; 8] = [0.80, 0.90, 0.93, 0.95, 0.96, 0.97, 0.975, 0.98];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A figure, or nothing when there is none (NaN: not modelled).
fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| !v.is_nan())
        .map(|v| format!("{v:.digits$}"))
        .unwrap_or_default()
}

/// The results table, one line per point and target.
pub fn csv(results: &Results) -> String {
    let mut out = String::from(
        "study,point,label,target,design,kind,formats,model_luts,model_ffs,model_carry,model_dsp,model_bram,\
         model_area_um2,synth_luts,synth_ffs,synth_carry,synth_dsp,synth_bram,synth_area_um2,accuracy,sqnr_db,\
         flow_device,fmax_mhz,fronts,errors,notes\n",
    );
    for (i, r) in results.rows.iter().enumerate() {
        let m = r.model.as_ref();
        let s = r.synth.as_ref();
        let fronts: Vec<String> = results
            .fronts
            .iter()
            .filter(|f| f.rows.contains(&i))
            .map(|f| front_name(&f.metrics))
            .collect();
        let fields = [
            r.study.clone(),
            r.point.to_string(),
            r.label.clone(),
            r.target.name().to_string(),
            r.design.clone().unwrap_or_default(),
            r.kind.map(|k| k.name().to_string()).unwrap_or_default(),
            r.formats.clone().unwrap_or_default(),
            opt(m.map(|m| m.luts), 1),
            opt(m.map(|m| m.ffs), 0),
            opt(m.map(|m| m.carry), 1),
            opt(m.map(|m| m.dsp), 0),
            opt(m.map(|m| m.bram), 0),
            opt(m.and_then(|m| m.area_um2), 0),
            opt(s.map(|s| s.luts as f64), 0),
            opt(s.map(|s| s.ffs as f64), 0),
            opt(s.map(|s| s.carry as f64), 0),
            opt(s.map(|s| s.dsp as f64), 0),
            opt(s.map(|s| s.bram as f64), 0),
            opt(s.and_then(|s| s.area_um2), 0),
            opt(r.accuracy, 6),
            opt(r.sqnr_db, 3),
            r.flow_device.clone().unwrap_or_default(),
            opt(r.fmax_mhz, 2),
            fronts.join(" "),
            r.errors.join("; "),
            r.notes.join("; "),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn front_name(metrics: &[Metric]) -> String {
    let names: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
    names.join("-")
}

/// Everything, machine-readable.
pub fn json(results: &Results) -> serde_json::Value {
    let s = &results.stats;
    serde_json::json!({
        "sweep": results.sweep.name,
        "origin": results.sweep.origin,
        "targets": results.sweep.targets.iter().map(|t| t.name()).collect::<Vec<_>>(),
        "synthesized": s.synth_jobs > 0,
        "tools": results.tools,
        "points": s.points,
        "invalid_points": s.invalid_points,
        "float_accuracy": results.float_accuracy,
        "rows": results.rows,
        "fronts": results.fronts.iter().map(|f| serde_json::json!({
            "study": f.study,
            "target": f.target.name(),
            "metrics": f.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
            "rows": f.rows,
            "points": f.rows.iter().map(|&r| results.rows[r].label.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The cheapest row of `kind` reaching `level`, by `cost`.
fn cheapest<'a>(rows: &[&'a Row], kind: Kind, level: f64, cost: Metric) -> Option<&'a Row> {
    rows.iter()
        .copied()
        .filter(|r| r.kind == Some(kind) && r.accuracy.is_some_and(|a| a >= level))
        .filter(|r| r.metric(cost).is_some())
        .min_by(|a, b| {
            let c = |r: &Row| r.metric(cost).unwrap_or(f64::INFINITY);
            c(a).total_cmp(&c(b))
                .then(b.accuracy.unwrap_or(0.0).total_cmp(&a.accuracy.unwrap_or(0.0)))
        })
}

/// The cost a target is judged by: LUTs on an FPGA, area on `asic`.
pub fn primary_cost(target: Target) -> Metric {
    if target == Target::Asic {
        Metric::Area
    } else {
        Metric::Luts
    }
}

fn describe(r: &Row, cost: Metric) -> String {
    let mut s = format!(
        "{} ({}): {} {}",
        r.formats.clone().unwrap_or_default(),
        plot::short_label(r),
        cost.show(r.metric(cost).unwrap_or(f64::NAN)),
        cost.name()
    );
    if r.target.has_dsp()
        && let Some(d) = r.metric(Metric::Dsp).filter(|&d| d > 0.0)
    {
        let _ = write!(s, " + {d:.0} DSP");
    }
    let _ = write!(s, ", {}", Metric::Accuracy.show(r.accuracy.unwrap_or(0.0)));
    s
}

/// The motivating question, for each MAC study and target: the cheapest
/// integer and minifloat design at each accuracy level, and whether the
/// (cost, accuracy) front is made of integer designs.
pub fn integer_or_minifloat(results: &Results) -> String {
    let mut md = String::new();
    for study in &results.sweep.studies {
        let kinds: Vec<Kind> = results
            .rows
            .iter()
            .filter(|r| r.study == study.name)
            .filter_map(|r| r.kind)
            .collect();
        if !(kinds.contains(&Kind::Integer) && kinds.contains(&Kind::Minifloat)) {
            continue;
        }
        let _ = writeln!(
            md,
            "### Integer or minifloat? Study `{}` (digits classifier, float accuracy {})\n",
            study.name,
            Metric::Accuracy.show(results.float_accuracy.get(&study.name).copied().unwrap_or(f64::NAN))
        );
        for &target in &results.sweep.targets {
            let cost = primary_cost(target);
            let rows: Vec<&Row> = results
                .rows
                .iter()
                .filter(|r| r.study == study.name && r.target == target)
                .collect();
            let best = rows.iter().filter_map(|r| r.accuracy).fold(0.0, f64::max);
            let _ = writeln!(md, "**{}** (cost: {}):\n", target.name(), cost.title());
            md.push_str("| accuracy at least | cheapest integer | cheapest minifloat | cheaper |\n|---|---|---|---|\n");
            let mut previous = None;
            for &level in LEVELS.iter().filter(|&&l| l <= best) {
                let int = cheapest(&rows, Kind::Integer, level, cost);
                let mf = cheapest(&rows, Kind::Minifloat, level, cost);
                // A level whose answer is the one below's adds nothing.
                let answer = (int.map(|r| (r.point, r.accuracy)), mf.map(|r| (r.point, r.accuracy)));
                if previous == Some(answer) {
                    continue;
                }
                previous = Some(answer);
                let c = |r: Option<&Row>| r.and_then(|r| r.metric(cost));
                let verdict = match (c(int), c(mf)) {
                    (Some(a), Some(b)) if a < b => format!("integer ({:.2}x)", b / a.max(1e-9)),
                    (Some(a), Some(b)) if b < a => format!("minifloat ({:.2}x)", a / b.max(1e-9)),
                    (Some(_), Some(_)) => "tie".into(),
                    (Some(_), None) => "integer (no minifloat reaches it)".into(),
                    (None, Some(_)) => "minifloat (no integer reaches it)".into(),
                    (None, None) => "-".into(),
                };
                let show = |r: Option<&Row>| r.map(|r| describe(r, cost)).unwrap_or_else(|| "none".into());
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    Metric::Accuracy.show(level),
                    show(int),
                    show(mf),
                    verdict
                );
            }
            if let Some(front) = results
                .fronts
                .iter()
                .find(|f| f.study == study.name && f.target == target && f.metrics == [cost, Metric::Accuracy])
            {
                let on: Vec<&Row> = front.rows.iter().map(|&r| &results.rows[r]).collect();
                let count = |k: Kind| on.iter().filter(|r| r.kind == Some(k)).count();
                let (ints, mfs, mixed) = (count(Kind::Integer), count(Kind::Minifloat), count(Kind::Mixed));
                let verdict = if mfs == 0 && mixed == 0 {
                    "yes: every design on the front is an integer design, as Aggarwal et al. found".to_string()
                } else if ints == 0 {
                    "no: the front has no integer design".to_string()
                } else {
                    let others: Vec<String> = on
                        .iter()
                        .filter(|r| r.kind != Some(Kind::Integer))
                        .map(|r| {
                            format!(
                                "{} at {}",
                                r.formats.clone().unwrap_or_default(),
                                Metric::Accuracy.show(r.accuracy.unwrap_or(0.0))
                            )
                        })
                        .collect();
                    format!(
                        "partly: integers hold {ints} of the front's {} designs; the others are {}",
                        on.len(),
                        others.join(", ")
                    )
                };
                let _ = writeln!(md, "\nAre integers Pareto-optimal on {}? {verdict}.\n", target.name());
            } else {
                md.push('\n');
            }
        }
    }
    md
}

fn plot_name(f: &Front) -> String {
    format!("{}_{}_{}", f.study, f.target.name(), front_name(&f.metrics))
}

fn plot_title(results: &Results, f: &Front) -> String {
    let (x, y) = plot::axes(f).unwrap_or((f.metrics[0], f.metrics[1]));
    let how = if results.stats.synth_jobs > 0 {
        "synthesized"
    } else {
        "cost model"
    };
    format!(
        "{}: {} vs {} on {} ({how})",
        f.study,
        y.title(),
        x.title(),
        f.target.name()
    )
}

fn front_table(results: &Results, f: &Front) -> String {
    let mut md = String::new();
    let mut head = vec!["point".to_string(), "formats".to_string()];
    head.extend(f.metrics.iter().map(|m| m.name().to_string()));
    let _ = writeln!(md, "| {} |", head.join(" | "));
    let _ = writeln!(md, "|{}", "---|".repeat(head.len()));
    for &r in &f.rows {
        let row = &results.rows[r];
        let mut cells = vec![row.label.clone(), row.formats.clone().unwrap_or_default()];
        cells.extend(
            f.metrics
                .iter()
                .map(|&m| row.metric(m).map(|v| m.show(v)).unwrap_or_default()),
        );
        let _ = writeln!(md, "| {} |", cells.join(" | "));
    }
    md
}

fn errors_section(results: &Results) -> String {
    let failed: Vec<&Row> = results.rows.iter().filter(|r| !r.errors.is_empty()).collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "## Points with errors ({} of {} rows)\n\n",
        failed.len(),
        results.rows.len()
    );
    md.push_str("Every other figure of these rows, and every other row, is kept.\n\n");
    for r in failed.iter().take(200) {
        let _ = writeln!(
            md,
            "- `{}` point {} ({}) on {}: {}",
            r.study,
            r.point,
            r.label,
            r.target.name(),
            r.errors.join("; ")
        );
    }
    if failed.len() > 200 {
        let _ = writeln!(md, "- ... and {} more (see results.csv)", failed.len() - 200);
    }
    md.push('\n');
    md
}

/// How a family's points are scored.
pub fn workload_text(family: Family) -> &'static str {
    match family {
        Family::MacArray => {
            "accuracy is the digits classifier's (1,797 real 8x8 digits, 355 test images) with weights and \
             activations quantized to the point's formats, run through the bit-exact golden model of the PE; SQNR is \
             that of its logits against the float network."
        }
        Family::SpikingCore => {
            "accuracy is the digits classifier's converted to a two-layer spiking network (rate-coded inputs, \
             16 time steps unless the study varies `steps`) with the core's weight and membrane widths, run through \
             the cores' bit-exact golden model; the core's other parameters do not enter the workload."
        }
        Family::HashGrid => {
            "SQNR is that of the hardware model's features (fixed-point positions, weights and sums, the table \
             format) against tiny-cuda-nn's f32 reference encoding on the same tables, over 4,098 points."
        }
    }
}

/// The Markdown report; `plots` says whether plot images sit beside it.
pub fn markdown(results: &Results, plots: bool) -> String {
    let s = &results.stats;
    let mut md = format!("# accgen explore: `{}`\n\n", results.sweep.name);
    let _ = writeln!(
        md,
        "Sweep `{}`: {} points ({} not valid designs) on {} targets ({}); {}.\n",
        results.sweep.origin,
        s.points,
        s.invalid_points,
        results.sweep.targets.len(),
        results
            .sweep
            .targets
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", "),
        results.tools.join("; ")
    );
    for study in &results.sweep.studies {
        let _ = writeln!(
            md,
            "- Study `{}` ({}, {} points): {}",
            study.name,
            study.family.key(),
            study.points.len(),
            workload_text(study.family)
        );
    }
    md.push('\n');
    if s.synth_jobs == 0 {
        md.push_str(
            "Costs are the calibrated model's estimates (held-out errors in `reports/calibration/README.md`); run \
             with `--synth` for Yosys figures.\n\n",
        );
    }
    md.push_str(&integer_or_minifloat(results));
    md.push_str("## Pareto fronts\n\n");
    for f in &results.fronts {
        let names: Vec<&str> = f.metrics.iter().map(|m| m.name()).collect();
        let _ = writeln!(
            md,
            "### `{}` on {}: {} ({} of {} points)\n",
            f.study,
            f.target.name(),
            names.join(" / "),
            f.rows.len(),
            f.candidates.len()
        );
        if plots && f.metrics.len() == 2 {
            let _ = writeln!(md, "![{}](plots/{}.svg)\n", plot_title(results, f), plot_name(f));
        }
        md.push_str(&front_table(results, f));
        md.push('\n');
    }
    md.push_str(&errors_section(results));
    md
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Markdown tables and headings to HTML: the subset the report uses.
fn markdown_to_html(md: &str, svgs: &[(String, String)]) -> String {
    let mut html = String::new();
    let mut in_table = false;
    let mut in_list = false;
    let inline = |s: &str| {
        let mut out = String::new();
        let mut code = false;
        let mut bold = false;
        let mut rest = html_escape(s);
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('`') {
                out.push_str(if code { "</code>" } else { "<code>" });
                code = !code;
                rest = r.to_string();
            } else if let Some(r) = rest.strip_prefix("**") {
                out.push_str(if bold { "</b>" } else { "<b>" });
                bold = !bold;
                rest = r.to_string();
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                out.push(c);
                rest = rest[c.len_utf8()..].to_string();
            }
        }
        out
    };
    for line in md.lines() {
        if !line.starts_with('|') && in_table {
            html.push_str("</table>\n");
            in_table = false;
        }
        if !line.starts_with("- ") && in_list {
            html.push_str("</ul>\n");
            in_list = false;
        }
        if let Some(h) = line.strip_prefix("### ") {
            let _ = writeln!(html, "<h3>{}</h3>", inline(h));
        } else if let Some(h) = line.strip_prefix("## ") {
            let _ = writeln!(html, "<h2>{}</h2>", inline(h));
        } else if let Some(h) = line.strip_prefix("# ") {
            let _ = writeln!(html, "<h1>{}</h1>", inline(h));
        } else if let Some(img) = line.strip_prefix("![") {
            let name = img
                .split("](plots/")
                .nth(1)
                .and_then(|n| n.strip_suffix(".svg)"))
                .unwrap_or("");
            if let Some((_, svg)) = svgs.iter().find(|(n, _)| n == name) {
                let _ = writeln!(html, "<figure>{svg}</figure>");
            }
        } else if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
                continue;
            }
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                html.push_str("<table>\n");
                in_table = true;
            }
            html.push_str("<tr>");
            for c in cells {
                let _ = write!(html, "<{tag}>{}</{tag}>", inline(c));
            }
            html.push_str("</tr>\n");
        } else if let Some(item) = line.strip_prefix("- ") {
            if !in_list {
                html.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(html, "<li>{}</li>", inline(item));
        } else if !line.trim().is_empty() {
            let _ = writeln!(html, "<p>{}</p>", inline(line));
        }
    }
    if in_table {
        html.push_str("</table>\n");
    }
    if in_list {
        html.push_str("</ul>\n");
    }
    html
}

/// The HTML page: the Markdown report with the SVG plots inline.
pub fn html(results: &Results, svgs: &[(String, String)]) -> String {
    let body = markdown_to_html(&markdown(results, true), svgs);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>accgen explore: {}</title>\n\
         <style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;font-size:90%}}\
         th{{background:#f3f3f3}}figure{{margin:1em 0}}svg{{max-width:100%;height:auto}}</style>\n</head>\n<body>\n{}\
         </body>\n</html>\n",
        html_escape(&results.sweep.name),
        body
    )
}

/// Write every file of the report into `out`; returns the files written.
/// Each file is written whole or not at all; plots of earlier runs that
/// this run did not make are removed, so the folder matches the report.
pub fn write(results: &Results, out: &Path) -> Result<Vec<PathBuf>, String> {
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| format!("cannot create {}: {e}", plots_dir.display()))?;
    let mut written = Vec::new();
    let mut svgs = Vec::new();
    for f in results.fronts.iter().filter(|f| f.metrics.len() == 2) {
        let name = plot_name(f);
        let title = plot_title(results, f);
        let svg = plot::svg(&title, &results.rows, f)?;
        let path = plots_dir.join(format!("{name}.svg"));
        write_atomic(&path, svg.as_bytes())?;
        written.push(path);
        let png = plots_dir.join(format!("{name}.png"));
        let staging = plots_dir.join(format!(".{name}.partial.png"));
        if let Err(e) = plot::png(&staging, &title, &results.rows, f) {
            let _ = std::fs::remove_file(&staging);
            return Err(e);
        }
        std::fs::rename(&staging, &png).map_err(|e| format!("cannot write {}: {e}", png.display()))?;
        written.push(png);
        svgs.push((name, svg));
    }
    if let Ok(entries) = std::fs::read_dir(&plots_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = path.extension().is_some_and(|e| e == "svg" || e == "png");
            if ours && !written.contains(&path) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let files: [(&str, String); 4] = [
        ("results.csv", csv(results)),
        (
            "results.json",
            serde_json::to_string_pretty(&json(results)).map_err(|e| e.to_string())? + "\n",
        ),
        ("report.md", markdown(results, true)),
        ("report.html", html(results, &svgs)),
    ];
    for (name, text) in files {
        let path = out.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// A few lines for the terminal: the answer first, then where the rest is.
pub fn summary(results: &Results) -> String {
    let s = &results.stats;
    let mut text = format!(
        "{} points x {} targets in {:.1} s: {} accuracy evaluations",
        s.points,
        results.sweep.targets.len(),
        s.seconds,
        s.accuracy_evaluations
    );
    if s.synth_jobs > 0 {
        let _ = write!(
            text,
            ", {} synthesis jobs ({} cached, {} synthesized, {} failed)",
            s.synth_jobs, s.synth_cached, s.synthesized, s.synth_failed
        );
    }
    if s.flows > 0 {
        let _ = write!(text, ", {} place-and-route runs ({} failed)", s.flows, s.flows_failed);
    }
    text.push('\n');
    for f in &results.fronts {
        if f.metrics.len() != 2 {
            continue;
        }
        let names: Vec<String> = f.rows.iter().map(|&r| plot::short_label(&results.rows[r])).collect();
        let _ = writeln!(
            text,
            "  {:<12} {:<10} {:<20} front: {}",
            f.study,
            f.target.name(),
            front_name(&f.metrics),
            names.join(", ")
        );
    }
    text
}

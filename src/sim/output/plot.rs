//! An SVG picture of a run: one panel per variable (the first [`MAX_PANELS`]), stacked, each
//! with the mean across paths, the band between the lowest and highest summarised quantiles
//! (5–95 % by default) shaded, and a few sample paths as thin lines.
//!
//! Values that are not finite (or beyond ±1e300, which no axis can span) are left out: lines
//! and the band break there. A single time point or a constant variable gets a padded axis.

use super::{RunInfo, Summary, write_atomic};
use plotters::prelude::*;
use std::io;
use std::ops::Range;
use std::path::Path;

/// Variables drawn at most (one panel each).
pub const MAX_PANELS: usize = 6;
/// Sample paths drawn at most per panel (the ones passed beyond this are ignored).
pub const MAX_SAMPLES: usize = 5;

const WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 260;
const TITLE_HEIGHT: u32 = 40;
/// Beyond this a value is treated as a blow-up: axis arithmetic on it would overflow.
const LIMIT: f64 = 1e300;

pub(crate) const MEAN: RGBColor = RGBColor(31, 119, 180);
const SAMPLE: [RGBColor; MAX_SAMPLES] = [
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

/// Renders the plot as an SVG document. `samples` are whole recordings (`times × variables`,
/// row-major by time) with their path indices; at most [`MAX_SAMPLES`] are drawn.
pub fn render_svg(
    info: &RunInfo,
    summary: &Summary,
    samples: &[(usize, Vec<f64>)],
) -> io::Result<String> {
    let all: Vec<usize> = (0..info.variables.len()).collect();
    render_svg_of(info, summary, samples, &all)
}

/// As [`render_svg`], with a panel for each of the variables `vars` (indices into
/// `info.variables`) only.
pub fn render_svg_of(
    info: &RunInfo,
    summary: &Summary,
    samples: &[(usize, Vec<f64>)],
    vars: &[usize],
) -> io::Result<String> {
    let nvars = info.variables.len();
    if let Some(&v) = vars.iter().find(|&&v| v >= nvars) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("plot: no variable {v} in a run of {nvars}"),
        ));
    }
    if summary.ntimes() != info.times.len() || summary.nvars() != nvars {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "plot: run of {} times × {} variables, summary of {} × {}",
                info.times.len(),
                nvars,
                summary.ntimes(),
                summary.nvars()
            ),
        ));
    }
    let per_path = info.values_per_path();
    let samples: Vec<&(usize, Vec<f64>)> = samples
        .iter()
        .filter(|s| s.1.len() == per_path)
        .take(MAX_SAMPLES)
        .collect();
    let panels = vars.len().min(MAX_PANELS);
    let mut title = format!("{} ({})", info.model, info.method);
    if vars.len() > MAX_PANELS {
        title.push_str(&format!(
            " — first {MAX_PANELS} of {} variables",
            vars.len()
        ));
    }
    let band = band_quantiles(summary);
    let height = TITLE_HEIGHT + PANEL_HEIGHT * panels.max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let body = root
            .titled(&title, ("sans-serif", 20))
            .map_err(plot_error)?;
        if panels == 0 {
            body.draw_text(
                "no variables recorded",
                &("sans-serif", 16).into_text_style(&body),
                (20, 20),
            )
            .map_err(plot_error)?;
        }
        for (&v, area) in vars.iter().zip(body.split_evenly((panels, 1)).iter()) {
            panel(area, info, summary, &samples, v, band.as_ref())?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Renders the plot and writes it to `path` atomically.
pub fn write_svg(
    path: impl AsRef<Path>,
    info: &RunInfo,
    summary: &Summary,
    samples: &[(usize, Vec<f64>)],
) -> io::Result<()> {
    let svg = render_svg(info, summary, samples)?;
    write_atomic(path, svg.as_bytes())
}

/// As [`write_svg`], drawing the variables `vars` only.
pub fn write_svg_of(
    path: impl AsRef<Path>,
    info: &RunInfo,
    summary: &Summary,
    samples: &[(usize, Vec<f64>)],
    vars: &[usize],
) -> io::Result<()> {
    let svg = render_svg_of(info, summary, samples, vars)?;
    write_atomic(path, svg.as_bytes())
}

/// The band's quantile columns: 5 % and 95 % when summarised, else the lowest and highest
/// levels; none with fewer than two.
fn band_quantiles(summary: &Summary) -> Option<(usize, usize, String)> {
    let probs = summary.quantile_probs();
    let (lo, hi) = match (summary.quantile_index(0.05), summary.quantile_index(0.95)) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => {
            let by = |a: &(usize, &f64), b: &(usize, &f64)| a.1.total_cmp(b.1);
            let lo = probs.iter().enumerate().min_by(by)?.0;
            let hi = probs.iter().enumerate().max_by(by)?.0;
            (lo, hi)
        }
    };
    if probs[lo] >= probs[hi] {
        return None;
    }
    let pct = |p: f64| (p * 1e8).round() / 1e6;
    Some((lo, hi, format!("{}–{} %", pct(probs[lo]), pct(probs[hi]))))
}

pub(crate) fn plot_error<E: std::error::Error>(e: E) -> io::Error {
    io::Error::other(format!("plot: {e}"))
}

fn plottable(x: f64) -> bool {
    x.is_finite() && x.abs() <= LIMIT
}

/// Runs of consecutive points whose coordinates are all plottable.
fn runs<T>(points: impl Iterator<Item = Option<T>>) -> Vec<Vec<T>> {
    let mut out = vec![Vec::new()];
    for p in points {
        match p {
            Some(p) => {
                if let Some(r) = out.last_mut() {
                    r.push(p);
                }
            }
            None if out.last().is_some_and(|r| !r.is_empty()) => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// The range spanning `values` with a 5 % margin; widened around a single value (a constant
/// variable, one time point) so the axis has a length; `-1..1` with no values.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values
        .filter(|x| plottable(*x))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    if lo > hi {
        return -1.0..1.0;
    }
    let mag = lo.abs().max(hi.abs());
    // Spans tiny against the values' size leave the tick computation no room to step.
    if hi - lo <= mag * 1e-9 {
        let mid = lo + (hi - lo) / 2.0;
        let half = if mag > 0.0 { mag * 0.05 } else { 1.0 };
        return mid - half..mid + half;
    }
    let pad = (hi - lo) * 0.05;
    lo - pad..hi + pad
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    info: &RunInfo,
    summary: &Summary,
    samples: &[&(usize, Vec<f64>)],
    v: usize,
    band: Option<&(usize, usize, String)>,
) -> io::Result<()> {
    let nvars = info.variables.len();
    let times = &info.times;
    let mean: Vec<f64> = (0..times.len()).map(|k| summary.stats(k, v).mean).collect();
    let (lo, hi): (Vec<f64>, Vec<f64>) = match band {
        Some((jl, jh, _)) => (0..times.len())
            .map(|k| (summary.quantile(k, v, *jl), summary.quantile(k, v, *jh)))
            .unzip(),
        None => (Vec::new(), Vec::new()),
    };
    let sample_values = |s: &(usize, Vec<f64>)| -> Vec<f64> {
        s.1.iter().skip(v).step_by(nvars).copied().collect()
    };
    let sample_series: Vec<(usize, Vec<f64>)> =
        samples.iter().map(|s| (s.0, sample_values(s))).collect();

    let x_range = padded_range(times.iter().copied());
    let y_range = padded_range(
        mean.iter()
            .chain(&lo)
            .chain(&hi)
            .chain(sample_series.iter().flat_map(|s| &s.1))
            .copied(),
    );
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, y_range)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("time")
        .y_desc(info.variables[v].as_str())
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;

    let point = |t: f64, y: f64| (plottable(t) && plottable(y)).then_some((t, y));

    if let Some((_, _, label)) = band {
        let style = MEAN.mix(0.2).filled();
        let segments = runs(times.iter().zip(lo.iter().zip(&hi)).map(|(&t, (&l, &h))| {
            (plottable(t) && plottable(l) && plottable(h)).then_some((t, l, h))
        }));
        let mut first = true;
        for seg in segments {
            // A lone point has no area: a vertical stroke shows its extent.
            let shape: Vec<(f64, f64)> = if seg.len() == 1 {
                vec![(seg[0].0, seg[0].1), (seg[0].0, seg[0].2)]
            } else {
                seg.iter()
                    .map(|p| (p.0, p.2))
                    .chain(seg.iter().rev().map(|p| (p.0, p.1)))
                    .collect()
            };
            let drawn = if seg.len() == 1 {
                chart.draw_series(std::iter::once(PathElement::new(
                    shape,
                    MEAN.mix(0.4).stroke_width(6),
                )))
            } else {
                chart.draw_series(std::iter::once(Polygon::new(shape, style)))
            }
            .map_err(plot_error)?;
            if first && v == 0 {
                drawn
                    .label(label.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], style));
            }
            first = false;
        }
    }

    for (s, (index, ys)) in sample_series.iter().enumerate() {
        let color = SAMPLE[s % SAMPLE.len()].mix(0.7);
        let mut first = true;
        for seg in runs(times.iter().zip(ys).map(|(&t, &y)| point(t, y))) {
            let drawn = if seg.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(seg[0], 2, color.filled())))
            } else {
                chart.draw_series(LineSeries::new(seg, color.stroke_width(1)))
            }
            .map_err(plot_error)?;
            if first && v == 0 {
                drawn.label(format!("path {index}")).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(1))
                });
            }
            first = false;
        }
    }

    let mut first = true;
    for seg in runs(times.iter().zip(&mean).map(|(&t, &y)| point(t, y))) {
        let drawn = if seg.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(seg[0], 4, MEAN.filled())))
        } else {
            chart.draw_series(LineSeries::new(seg, MEAN.stroke_width(2)))
        }
        .map_err(plot_error)?;
        if first && v == 0 {
            drawn
                .label("mean")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MEAN.stroke_width(2)));
        }
        first = false;
    }

    if v == 0 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{info, splitmix};
    use super::*;

    fn run(
        info: &RunInfo,
        paths: usize,
        f: impl Fn(usize, usize) -> f64,
    ) -> (Summary, Vec<(usize, Vec<f64>)>) {
        let n = info.values_per_path();
        let mut sum = Summary::new(info.times.len(), info.variables.len());
        let mut samples = Vec::new();
        for i in 0..paths {
            let v: Vec<f64> = (0..n).map(|c| f(i, c)).collect();
            sum.push(&v);
            if samples.len() < MAX_SAMPLES {
                samples.push((i, v));
            }
        }
        (sum, samples)
    }

    /// Whether the SVG draws `text` as a text element (plotters puts it on its own line).
    fn has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!(">\n{text}\n</text>"))
    }

    fn check_svg(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "non-finite coordinates"
        );
    }

    #[test]
    fn draws_every_variable() {
        let info = info(3, 50, 40);
        let mut s = 3;
        let noise: Vec<f64> = (0..40 * 150)
            .map(|_| (splitmix(&mut s) >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
            .collect();
        let (sum, samples) = run(&info, 40, |i, c| (c / 3) as f64 * 0.1 + noise[i * 150 + c]);
        let svg = render_svg(&info, &sum, &samples).unwrap();
        check_svg(&svg);
        for name in [
            "Ornstein (euler)",
            "time",
            "x",
            "y[1, 2]",
            "v2",
            "mean",
            "5–95 %",
            "path 0",
        ] {
            assert!(has_text(&svg, name), "missing {name}");
        }
        assert!(svg.contains("<polygon"), "the band is drawn");
        assert!(svg.contains("<polyline"), "lines are drawn");
    }

    #[test]
    fn survives_nan_inf_and_constants() {
        let info = info(3, 20, 6);
        // x: NaN at some times, inf on one path; y: constant; v2: all NaN.
        let (sum, samples) = run(&info, 6, |i, c| match (c % 3, c / 3) {
            (0, k) if k % 7 == 3 => f64::NAN,
            (0, k) if i == 2 && k > 10 => f64::INFINITY,
            (0, k) => k as f64 * (1.0 + i as f64),
            (1, _) => 4.0,
            _ => f64::NAN,
        });
        let svg = render_svg(&info, &sum, &samples).unwrap();
        check_svg(&svg);
        assert!(has_text(&svg, "v2"));
    }

    #[test]
    fn survives_one_time_point_and_one_path() {
        let info = info(2, 1, 1);
        let (sum, samples) = run(&info, 1, |_, c| c as f64);
        let svg = render_svg(&info, &sum, &samples).unwrap();
        check_svg(&svg);
        assert!(svg.contains("<circle"), "lone points are marked");
        // Zero variables and zero times.
        let empty = super::super::tests::info(0, 0, 0);
        let svg = render_svg(&empty, &Summary::new(0, 0), &[]).unwrap();
        check_svg(&svg);
    }

    #[test]
    fn many_variables_are_capped() {
        let info = info(9, 4, 3);
        let (sum, samples) = run(&info, 3, |i, c| (i * c) as f64);
        let svg = render_svg(&info, &sum, &samples).unwrap();
        check_svg(&svg);
        assert!(has_text(&svg, "Ornstein (euler) — first 6 of 9 variables"));
        assert!(has_text(&svg, "v5") && !has_text(&svg, "v6"));
    }

    #[test]
    fn writes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        let info = info(1, 3, 2);
        let (sum, samples) = run(&info, 2, |i, c| (i + c) as f64);
        write_svg(&path, &info, &sum, &samples).unwrap();
        check_svg(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

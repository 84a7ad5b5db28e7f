//! An SVG picture of a filter run: one panel per variable (the first few) with the
//! filtering mean and its 5–95 % band at the observation times, and a last panel with the
//! observations themselves.

use super::bootstrap::FilterRun;
use crate::sim::observations::ObsSeries;
use crate::sim::output::plot::{MEAN, padded_range, plot_error};
use crate::sim::output::write_atomic;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::io;
use std::path::Path;

/// Variables drawn at most (one panel each).
const MAX_PANELS: usize = 5;
const WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 240;
const TITLE_HEIGHT: u32 = 40;
const OBSERVED: [RGBColor; 4] = [
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

/// Renders the plot (`levels`: the recorded quantile levels; the band is 5–95 % when both
/// were recorded).
pub fn render_svg(
    title: &str,
    run: &FilterRun,
    series: &ObsSeries,
    variables: &[String],
    levels: &[f64],
) -> io::Result<String> {
    let band = levels
        .iter()
        .position(|&q| q == 0.05)
        .zip(levels.iter().position(|&q| q == 0.95));
    let panels = variables.len().min(MAX_PANELS);
    let height = TITLE_HEIGHT + PANEL_HEIGHT * (panels + 1) as u32;
    let times: Vec<f64> = run.steps.iter().map(|s| s.t).collect();
    let x_range = padded_range(times.iter().copied().chain([0.0]));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let body = root.titled(title, ("sans-serif", 20)).map_err(plot_error)?;
        let areas = body.split_evenly((panels + 1, 1));
        for (v, area) in areas.iter().enumerate().take(panels) {
            let stat = |k: usize, f: &dyn Fn(&super::bootstrap::Filtered) -> f64| {
                run.steps[k].filtered.as_ref().map_or(f64::NAN, f)
            };
            let nl = levels.len();
            let mean: Vec<f64> = (0..times.len()).map(|k| stat(k, &|f| f.mean[v])).collect();
            let (lo, hi): (Vec<f64>, Vec<f64>) = match band {
                Some((a, b)) => (0..times.len())
                    .map(|k| {
                        (
                            stat(k, &|f| f.quantiles[v * nl + a]),
                            stat(k, &|f| f.quantiles[v * nl + b]),
                        )
                    })
                    .unzip(),
                None => (Vec::new(), Vec::new()),
            };
            let y_range = padded_range(mean.iter().chain(&lo).chain(&hi).copied());
            let mut chart = ChartBuilder::on(area)
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(70)
                .build_cartesian_2d(x_range.clone(), y_range)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc("time")
                .y_desc(variables[v].as_str())
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(plot_error)?;
            if band.is_some() {
                let shape: Vec<(f64, f64)> = times
                    .iter()
                    .zip(&hi)
                    .map(|(&t, &h)| (t, h))
                    .chain(times.iter().zip(&lo).rev().map(|(&t, &l)| (t, l)))
                    .filter(|p| p.1.is_finite())
                    .collect();
                let style = MEAN.mix(0.2).filled();
                let drawn = chart
                    .draw_series(std::iter::once(Polygon::new(shape, style)))
                    .map_err(plot_error)?;
                if v == 0 {
                    drawn
                        .label("5–95 %")
                        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], style));
                }
            }
            let line: Vec<(f64, f64)> = times
                .iter()
                .zip(&mean)
                .map(|(&t, &m)| (t, m))
                .filter(|p| p.1.is_finite())
                .collect();
            let drawn = chart
                .draw_series(LineSeries::new(line, MEAN.stroke_width(2)))
                .map_err(plot_error)?;
            if v == 0 {
                drawn.label("filtering mean").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], MEAN.stroke_width(2))
                });
                legend(&mut chart)?;
            }
        }
        // The observations.
        let area = &areas[panels];
        let values = (0..series.len()).flat_map(|k| series.row(k).iter().copied());
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range, padded_range(values))
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("time")
            .y_desc("observed")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_error)?;
        for (c, name) in series.names.iter().enumerate() {
            let color = OBSERVED[c % OBSERVED.len()];
            let points = (0..series.len())
                .map(|k| (series.times[k], series.row(k)[c]))
                .filter(|p| p.1.is_finite());
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, color.filled())))
                .map_err(plot_error)?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
        }
        legend(&mut chart)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Renders the plot and writes it to `path` atomically.
pub fn write_svg(
    path: impl AsRef<Path>,
    title: &str,
    run: &FilterRun,
    series: &ObsSeries,
    variables: &[String],
    levels: &[f64],
) -> io::Result<()> {
    let svg = render_svg(title, run, series, variables, levels)?;
    write_atomic(path, svg.as_bytes())
}

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
) -> io::Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(plot_error)
}

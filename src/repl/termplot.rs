//! Terminal line plots for the REPL's `:plot` command.
//!
//! [`render`] draws each series' mean across time as a connected line on a braille canvas:
//! every character cell holds a 2×4 grid of dots, so curves get twice the horizontal and four
//! times the vertical resolution of the text grid. When exactly one series is plotted, its band
//! (e.g. the 5–95 % quantiles) is shaded `░` behind the line; with several series bands are
//! neither drawn nor counted in the y range, since overlapping shaded cells cannot be told
//! apart. Several series are told apart by ANSI colour or, without colour, by marker characters
//! (`•`, `+`, `x`, …) at cell resolution. Around the canvas: right-aligned y labels and a
//! `┤`/`│` axis, an x axis labelled at the first, middle and last time, and a legend.
//! Non-finite values (NaN, ±inf) are gaps: nothing is drawn to or from them.

pub struct Series<'a> {
    pub name: &'a str,
    /// One value per time; NaN marks a missing value (a gap).
    pub mean: &'a [f64],
    /// Lower and upper edges of a band (e.g. the 5 % and 95 % quantiles), one per time.
    pub band: Option<(&'a [f64], &'a [f64])>,
}

pub struct Style {
    pub width: usize,
    pub height: usize,
    pub color: bool,
}

const MIN_CANVAS_COLS: usize = 10;
const MIN_HEIGHT: usize = 4;
const MAX_SIDE: usize = 1000;
const COLORS: [u8; 6] = [34, 31, 32, 33, 35, 36];
const MARKERS: [char; 6] = ['•', '+', 'x', 'o', '*', '#'];
/// Braille dot bits indexed by [x][y] within a cell's 2×4 grid.
const DOT_BITS: [[u8; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
const FULL_BRAILLE: char = '⣿';
const BAND_GLYPH: char = '░';
const RESET: &str = "\x1b[0m";

type Band<'a> = Option<(&'a [f64], &'a [f64])>;

/// Render the series against `times` (increasing). Returns the whole plot as lines ending in
/// '\n'. Err(String) with a clear message if: times is empty, any series' length differs from
/// times' length, width is too small to draw (the message says the minimum), height < 4, or
/// no finite value at all.
pub fn render(times: &[f64], series: &[Series], style: &Style) -> Result<String, String> {
    // No terminal is this big; the cap stops absurd sizes from exhausting memory.
    let (width, rows) = (style.width.min(MAX_SIDE), style.height.min(MAX_SIDE));
    validate(times, series, rows)?;
    let band = if let [only] = series { only.band } else { None };
    let band_values = band.into_iter().flat_map(|(lo, hi)| lo.iter().chain(hi));
    let values = series.iter().flat_map(|s| s.mean).chain(band_values);
    let y = finite_bounds(values.copied()).ok_or("nothing to plot: no finite value")?;
    let t = finite_bounds(times.iter().copied()).ok_or("nothing to plot: no finite time")?;
    let (t, y) = (if t.1 > t.0 { t } else { widen_flat(t.0) }, pad_y_range(y));
    let labels = y_labels(y, rows);
    let gutter = labels.iter().flatten().map(|l| l.chars().count()).max();
    let gutter = gutter.unwrap_or(0);
    let min_width = gutter + 1 + MIN_CANVAS_COLS;
    if width < min_width {
        return Err(format!(
            "plot width {width} is too small: need at least {min_width} columns"
        ));
    }
    let cols = width - gutter - 1;
    let geo = Geometry { t, y, cols, rows };
    let use_markers = series.len() > 1 && !style.color;
    let canvas = draw(&geo, times, series, band, use_markers);

    let mut lines = Vec::new();
    for (label, cells) in labels.iter().zip(canvas.cells.chunks(cols)) {
        let axis = if label.is_some() { '┤' } else { '│' };
        let label = label.as_deref().unwrap_or("");
        let row = paint(cells.iter().map(glyph), style.color);
        lines.push(format!("{label:>gutter$}{axis}{row}"));
    }
    lines.push(format!("{:gutter$}└{}", "", "─".repeat(cols)));
    lines.push(format!("{:gutter$} {}", "", x_labels(&geo)));
    lines.push(format!("{:w$}t", "", w = gutter + 1 + cols / 2));
    let legend = legend(series, band.is_some(), style.color, use_markers);
    lines.push(truncate_visible(&format!("{:gutter$} {legend}", ""), width));
    let trimmed = lines.iter().map(|l| l.trim_end_matches(' '));
    Ok(trimmed.map(|l| format!("{l}\n")).collect())
}

fn validate(times: &[f64], series: &[Series], height: usize) -> Result<(), String> {
    if times.is_empty() {
        return Err("nothing to plot: there are no times".into());
    }
    if series.is_empty() {
        return Err("nothing to plot: there are no series".into());
    }
    for s in series {
        let (lo, hi) = s.band.unwrap_or((times, times));
        let lengths = [("mean", s.mean), ("band low", lo), ("band high", hi)];
        if let Some((what, v)) = lengths.iter().find(|(_, v)| v.len() != times.len()) {
            let (name, len, n) = (s.name, v.len(), times.len());
            return Err(format!(
                "series `{name}`: {what} has {len} values but {n} times"
            ));
        }
    }
    if height < MIN_HEIGHT {
        return Err(format!(
            "plot height {height} is too small: need at least {MIN_HEIGHT} rows"
        ));
    }
    Ok(())
}

fn finite_bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let finite = values.filter(|v| v.is_finite());
    finite.fold(None, |acc, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (v.min(lo), v.max(hi))))
    })
}

/// Pads by 5 % of the span on each side; halving first keeps huge spans finite.
fn pad_y_range((lo, hi): (f64, f64)) -> (f64, f64) {
    let half_span = hi / 2.0 - lo / 2.0;
    if half_span <= 0.0 {
        return widen_flat(lo);
    }
    let pad = half_span * 0.1;
    ((lo - pad).max(f64::MIN), (hi + pad).min(f64::MAX))
}

/// A flat range gets room around it so its line sits in the middle.
fn widen_flat(v: f64) -> (f64, f64) {
    let pad = (v.abs() * 0.1).max(1.0);
    ((v - pad).max(f64::MIN), (v + pad).min(f64::MAX))
}

/// Position of `v` in `(lo, hi)` as a fraction; halving keeps huge spans finite.
fn unit(v: f64, (lo, hi): (f64, f64)) -> f64 {
    (v / 2.0 - lo / 2.0) / (hi / 2.0 - lo / 2.0)
}

fn lerp(a: f64, b: f64, f: f64) -> f64 {
    a * (1.0 - f) + b * f
}

/// Maps times and values to sub-pixels (x: 2 per column, y: 4 per row, downwards).
struct Geometry {
    t: (f64, f64),
    y: (f64, f64),
    cols: usize,
    rows: usize,
}

impl Geometry {
    fn max_px(&self) -> f64 {
        (2 * self.cols).saturating_sub(1) as f64
    }
    fn max_py(&self) -> f64 {
        (4 * self.rows).saturating_sub(1) as f64
    }
    fn px(&self, t: f64) -> i64 {
        (unit(t, self.t) * self.max_px())
            .round()
            .clamp(0.0, self.max_px()) as i64
    }
    fn py(&self, v: f64) -> i64 {
        let from_top = (1.0 - unit(v, self.y)) * self.max_py();
        from_top.round().clamp(0.0, self.max_py()) as i64
    }
    /// The time at the centre of column `col`, consistent with `px`.
    fn column_time(&self, col: usize) -> f64 {
        lerp(self.t.0, self.t.1, (2.0 * col as f64 + 0.5) / self.max_px())
    }
}

#[derive(Clone, Copy, Default)]
struct Cell {
    dots: u8,
    dot_series: usize,
    marker: Option<(char, usize)>,
    band: bool,
}

struct Canvas {
    cols: usize,
    cells: Vec<Cell>,
}

impl Canvas {
    /// The cell at (col, row), or None when outside the canvas.
    fn cell(&mut self, col: i64, row: i64) -> Option<&mut Cell> {
        let (col, row) = (usize::try_from(col).ok()?, usize::try_from(row).ok()?);
        let index = row.checked_mul(self.cols)?.checked_add(col)?;
        if col < self.cols {
            self.cells.get_mut(index)
        } else {
            None
        }
    }
    fn set_dot(&mut self, px: i64, py: i64, series: usize) {
        let bit = DOT_BITS[px.rem_euclid(2) as usize][py.rem_euclid(4) as usize];
        if let Some(cell) = self.cell(px.div_euclid(2), py.div_euclid(4)) {
            cell.dots |= bit;
            cell.dot_series = series;
        }
    }
}

fn draw(geo: &Geometry, times: &[f64], series: &[Series], band: Band, markers: bool) -> Canvas {
    let cells = vec![Cell::default(); geo.cols * geo.rows];
    let mut canvas = Canvas {
        cols: geo.cols,
        cells,
    };
    for (k, s) in series.iter().enumerate() {
        if markers {
            draw_markers(&mut canvas, geo, times, s.mean, k);
        } else {
            draw_braille_line(&mut canvas, geo, times, s.mean, k);
        }
    }
    if let Some((lo, hi)) = band {
        draw_band(&mut canvas, geo, times, lo, hi);
    }
    canvas
}

/// Bresenham's line between two sub-pixels (both already clamped to the canvas).
fn draw_segment(canvas: &mut Canvas, (x0, y0): (i64, i64), (x1, y1): (i64, i64), k: usize) {
    let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
    let (mut x, mut y, mut err) = (x0, y0, dx + dy);
    loop {
        canvas.set_dot(x, y, k);
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += (x1 - x0).signum();
        }
        if e2 <= dx {
            err += dx;
            y += (y1 - y0).signum();
        }
    }
}

/// Each time's point in sub-pixels, or None where the time or value is not finite.
fn points(geo: &Geometry, times: &[f64], values: &[f64]) -> Vec<Option<(i64, i64)>> {
    let point =
        |(&t, &v): (&f64, &f64)| (t.is_finite() && v.is_finite()).then(|| (geo.px(t), geo.py(v)));
    times.iter().zip(values).map(point).collect()
}

fn draw_braille_line(canvas: &mut Canvas, geo: &Geometry, times: &[f64], mean: &[f64], k: usize) {
    let mut prev = None;
    for point in points(geo, times, mean) {
        if let Some(p) = point {
            // An isolated point (gaps on both sides) is still drawn, as one dot.
            draw_segment(canvas, prev.unwrap_or(p), p, k);
        }
        prev = point;
    }
}

/// Marker mode: the mean's cell in every column, filled vertically towards the previous
/// column's cell so steep parts stay connected. Data points are marked too, so sparse or
/// isolated points still show.
fn draw_markers(canvas: &mut Canvas, geo: &Geometry, times: &[f64], mean: &[f64], k: usize) {
    let mut mark = |col: i64, row: i64| {
        if let Some(cell) = canvas.cell(col, row) {
            cell.marker = Some((MARKERS[k % MARKERS.len()], k));
        }
    };
    for (px, py) in points(geo, times, mean).into_iter().flatten() {
        mark(px / 2, py / 4);
    }
    let mut prev_row = None;
    for col in 0..geo.cols {
        let row = interpolate_at(times, mean, geo.column_time(col)).map(|v| geo.py(v) / 4);
        if let Some(row) = row {
            let from = prev_row.map_or(row, |p: i64| p + (row - p).signum());
            (from.min(row)..=from.max(row)).for_each(|r| mark(col as i64, r));
        }
        prev_row = row;
    }
}

/// Shades every cell whose rows overlap [lo, hi] interpolated at the column's centre time.
fn draw_band(canvas: &mut Canvas, geo: &Geometry, times: &[f64], lo: &[f64], hi: &[f64]) {
    for col in 0..geo.cols {
        let t = geo.column_time(col);
        let (Some(a), Some(b)) = (interpolate_at(times, lo, t), interpolate_at(times, hi, t))
        else {
            continue;
        };
        for row in geo.py(a.max(b)) / 4..=geo.py(a.min(b)) / 4 {
            if let Some(cell) = canvas.cell(col as i64, row) {
                cell.band = true;
            }
        }
    }
}

/// Linear interpolation of `values` at time `t`; None in gaps or outside the times.
fn interpolate_at(times: &[f64], values: &[f64], t: f64) -> Option<f64> {
    let next = times.partition_point(|&x| x <= t);
    let prev = next.checked_sub(1)?;
    let (t0, v0) = (*times.get(prev)?, *values.get(prev)?);
    if t0 == t {
        return v0.is_finite().then_some(v0);
    }
    let (t1, v1) = (*times.get(next)?, *values.get(next)?);
    let usable = [t0, v0, t1, v1].iter().all(|x| x.is_finite()) && t1 > t0;
    usable.then(|| lerp(v0, v1, (t - t0) / (t1 - t0)))
}

#[derive(Clone, Copy, PartialEq)]
enum Ink {
    Plain,
    Series(usize),
    /// Dim; bands are only drawn for a single series, so always in the first colour.
    Band,
}

/// Braille dots win over markers, markers over the band.
fn glyph(cell: &Cell) -> (char, Ink) {
    if cell.dots != 0 {
        let ch = char::from_u32(0x2800 + u32::from(cell.dots)).unwrap_or(FULL_BRAILLE);
        (ch, Ink::Series(cell.dot_series))
    } else if let Some((ch, k)) = cell.marker {
        (ch, Ink::Series(k))
    } else if cell.band {
        (BAND_GLYPH, Ink::Band)
    } else {
        (' ', Ink::Plain)
    }
}

/// Paints glyphs, wrapping each run of one ink in its escape and a reset.
fn paint(glyphs: impl Iterator<Item = (char, Ink)>, color: bool) -> String {
    let (mut out, mut current) = (String::new(), Ink::Plain);
    for (ch, ink) in glyphs.map(|(ch, ink)| (ch, if color { ink } else { Ink::Plain })) {
        if ink != current {
            out.push_str(if current == Ink::Plain { "" } else { RESET });
            match ink {
                Ink::Plain => {}
                Ink::Series(k) => out.push_str(&format!("\x1b[{}m", COLORS[k % COLORS.len()])),
                Ink::Band => out.push_str(&format!("\x1b[2;{}m", COLORS[0])),
            }
            current = ink;
        }
        out.push(ch);
    }
    out.push_str(if current == Ink::Plain { "" } else { RESET });
    out
}

/// Labels for the top and bottom rows and one or two rows between; None elsewhere.
fn y_labels(y: (f64, f64), rows: usize) -> Vec<Option<String>> {
    let last = rows.saturating_sub(1).max(1);
    let parts = if rows >= 10 { 3 } else { 2 };
    let mut labels = vec![None; rows];
    for i in 0..=parts {
        let row = (i * last + parts / 2) / parts; // rounded to the nearest row
        if let Some(slot) = labels.get_mut(row) {
            *slot = Some(format_number(lerp(y.1, y.0, row as f64 / last as f64), y));
        }
    }
    labels
}

/// The first, middle and last times, each under its column where it fits.
fn x_labels(geo: &Geometry) -> String {
    let mut line = vec![' '; geo.cols];
    let label = |t: f64| format_number(t, geo.t);
    let (first, last, mid_t) = (label(geo.t.0), label(geo.t.1), lerp(geo.t.0, geo.t.1, 0.5));
    place(&mut line, 0, &first);
    let last_start = geo.cols.saturating_sub(last.chars().count());
    place(&mut line, last_start, &last);
    let mid = label(mid_t);
    let mid_start = ((geo.px(mid_t) / 2) as usize).saturating_sub(mid.chars().count() / 2);
    place(&mut line, mid_start, &mid);
    line.into_iter().collect()
}

/// Writes `text` at `start` if it fits with a blank on either side.
fn place(line: &mut [char], start: usize, text: &str) {
    let end = start + text.chars().count();
    let free = |i: usize| line.get(i).is_none_or(|c| *c == ' ');
    if end <= line.len() && (start.saturating_sub(1)..=end).all(free) {
        line[start..end]
            .iter_mut()
            .zip(text.chars())
            .for_each(|(slot, ch)| *slot = ch);
    }
}

fn legend(series: &[Series], band: bool, color: bool, use_markers: bool) -> String {
    let entry =
        |glyph, ink, text: &str| format!("{} {text}", paint([(glyph, ink)].into_iter(), color));
    let entries: Vec<String> = match series {
        [only] => {
            let name = format!("{} (mean)", only.name);
            let mean = entry(FULL_BRAILLE, Ink::Series(0), &name);
            let band = band.then(|| entry(BAND_GLYPH, Ink::Band, "5–95 %"));
            std::iter::once(mean).chain(band).collect()
        }
        _ => {
            let glyphs = MARKERS
                .iter()
                .cycle()
                .map(|&m| if use_markers { m } else { FULL_BRAILLE });
            let named = series.iter().zip(glyphs).enumerate();
            named
                .map(|(k, (s, glyph))| entry(glyph, Ink::Series(k), s.name))
                .collect()
        }
    };
    entries.join("   ")
}

/// Cuts `s` to `max` visible chars; escape sequences are kept but not counted.
fn truncate_visible(s: &str, max: usize) -> String {
    let (mut out, mut visible, mut in_escape) = (String::new(), 0, false);
    for ch in s.chars() {
        if ch == '\x1b' || in_escape {
            in_escape = ch != 'm';
        } else if visible == max {
            out.push_str(if s.contains('\x1b') { RESET } else { "" });
            break;
        } else {
            visible += 1;
        }
        out.push(ch);
    }
    out
}

/// Formats `v` concisely with just enough digits to tell apart labels within `(lo, hi)`.
fn format_number(v: f64, (lo, hi): (f64, f64)) -> String {
    let half_span = hi / 2.0 - lo / 2.0;
    if v.abs() < half_span * 2e-9 {
        return "0".into(); // rounding noise next to zero
    }
    let span_mag = (half_span.log10() + std::f64::consts::LOG10_2).floor() as i32;
    if v.abs() >= 1e5 || v.abs() < 1e-3 {
        let decimals = (v.abs().log10().floor() as i32 - span_mag + 1).clamp(1, 4) as usize;
        let text = format!("{v:.decimals$e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        format!("{}e{exponent}", trim_zeros(mantissa))
    } else {
        trim_zeros(&format!("{v:.*}", (2 - span_mag).clamp(0, 6) as usize))
    }
}

/// Drops a fraction's trailing zeros ("12.50" → "12.5", "3.00" → "3") and the sign of "-0".
fn trim_zeros(text: &str) -> String {
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    match trimmed {
        "-0" => "0",
        t => t,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot(times: &[f64], series: &[Series], width: usize, height: usize, color: bool) -> String {
        let style = Style {
            width,
            height,
            color,
        };
        render(times, series, &style).expect("plot renders")
    }

    fn line<'a>(name: &'a str, mean: &'a [f64]) -> Series<'a> {
        Series {
            name,
            mean,
            band: None,
        }
    }

    fn banded<'a>(mean: &'a [f64], lo: &'a [f64], hi: &'a [f64]) -> Series<'a> {
        Series {
            name: "x",
            mean,
            band: Some((lo, hi)),
        }
    }

    fn ramp(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64).collect()
    }

    fn strip_escapes(s: &str) -> String {
        let (mut out, mut in_escape) = (String::new(), false);
        for ch in s.chars() {
            match ch {
                '\x1b' => in_escape = true,
                _ if in_escape => in_escape = ch != 'm',
                _ => out.push(ch),
            }
        }
        out
    }

    /// Canvas rows: the chars after the y axis, padded with spaces to the canvas width.
    fn canvas(out: &str) -> Vec<Vec<char>> {
        let cols = out
            .lines()
            .find_map(|l| l.split_once('└'))
            .map(|(_, a)| a.chars().count());
        let rows = out.lines().take_while(|l| !l.contains('└'));
        let after_axis = |l: &str| l.split(['┤', '│']).nth(1).unwrap_or("").chars().collect();
        let mut rows: Vec<Vec<char>> = rows.map(after_axis).collect();
        rows.iter_mut()
            .for_each(|r| r.resize(cols.unwrap_or(0), ' '));
        rows
    }

    /// (row, column) of every canvas cell holding braille dots.
    fn dots(out: &str) -> Vec<(usize, usize)> {
        let is_braille = |c: char| ('\u{2801}'..='\u{28FF}').contains(&c);
        let mut cells = Vec::new();
        for (r, row) in canvas(out).iter().enumerate() {
            let cols = row.iter().enumerate().filter(|(_, c)| is_braille(**c));
            cells.extend(cols.map(|(c, _)| (r, c)));
        }
        cells
    }

    /// The canvas column of time `t` for times spanning [0, t_max], as `render` maps it.
    fn column_of(t: f64, t_max: f64, cols: usize) -> usize {
        (t / t_max * (2 * cols - 1) as f64).round() as usize / 2
    }

    #[test]
    fn increasing_line_runs_from_bottom_left_to_top_right() {
        let t = ramp(50);
        let out = plot(&t, &[line("x", &t)], 60, 10, false);
        let (cells, last) = (dots(&out), canvas(&out)[0].len() - 1);
        assert!(
            cells.contains(&(9, 0)) && cells.contains(&(0, last)),
            "{out}"
        );
        assert!(
            !cells.contains(&(0, 0)) && !cells.contains(&(9, last)),
            "{out}"
        );
    }

    #[test]
    fn every_line_fits_the_width_and_is_trimmed() {
        let t = ramp(30);
        let (lo, hi): (Vec<f64>, Vec<f64>) = t.iter().map(|v| (v - 3.0, v * 1.5)).unzip();
        let long = "a_variable_name_long_enough_to_overflow_the_legend_of_a_narrow_plot";
        let three = [line("S", &lo), line(long, &hi), line("R", &t)];
        for (width, color) in [40, 80, 123]
            .into_iter()
            .flat_map(|w| [(w, false), (w, true)])
        {
            for series in [&[banded(&t, &lo, &hi)][..], &three] {
                for l in plot(&t, series, width, 12, color).lines() {
                    assert!(strip_escapes(l).chars().count() <= width, "{l}");
                    assert!(!l.ends_with(' '), "{l:?}");
                }
            }
        }
    }

    #[test]
    fn band_shades_only_rows_between_lo_and_hi() {
        let t = ramp(21);
        let mean: Vec<f64> = t.iter().map(|v| v / 2.0).collect();
        let out = plot(&t, &[banded(&mean, &[4.0; 21], &[6.0; 21])], 50, 11, false);
        // y spans -0.5..10.5 over 44 sub-rows: 6 falls in sub-row 18 (row 4), 4 in 25 (row 6).
        for (r, row) in canvas(&out).iter().enumerate() {
            let shaded = row.iter().filter(|&&c| c == '░').count();
            match r {
                4..=6 => assert!(row.iter().all(|&c| c == '░' || c > '\u{2800}'), "{out}"),
                _ => assert_eq!(shaded, 0, "row {r}\n{out}"),
            }
        }
    }

    #[test]
    fn nan_gap_leaves_its_columns_empty() {
        let t = ramp(30);
        let gap = |v: f64| {
            if (10.0..20.0).contains(&v) {
                f64::NAN
            } else {
                v
            }
        };
        let mean: Vec<f64> = t.iter().map(|&v| gap(v)).collect();
        let out = plot(&t, &[line("x", &mean)], 40, 8, false);
        let cols = canvas(&out)[0].len();
        let (before, after) = (column_of(9.0, 29.0, cols), column_of(20.0, 29.0, cols));
        let used: Vec<usize> = dots(&out).into_iter().map(|(_, c)| c).collect();
        assert!(used.contains(&before) && used.contains(&after), "{out}");
        assert!(
            used.iter().all(|c| !(before + 1..after).contains(c)),
            "{out}"
        );
    }

    #[test]
    fn constant_series_draws_in_the_middle_rows() {
        let out = plot(&ramp(10), &[line("x", &[5.0; 10])], 40, 8, false);
        let cells = dots(&out);
        assert!(
            !cells.is_empty() && cells.iter().all(|&(r, _)| r == 3 || r == 4),
            "{out}"
        );
        assert!(out.starts_with("   6┤") && out.contains("\n   4┤"), "{out}");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let t = ramp(4);
        let fail = |times: &[f64], s: Series, width, height| {
            let style = Style {
                width,
                height,
                color: false,
            };
            render(times, &[s], &style).expect_err("must fail")
        };
        assert!(fail(&[], line("x", &[]), 80, 8).contains("no times"));
        let short = fail(&t, line("x", &[1.0; 3]), 80, 8);
        assert!(
            short.contains("`x`: mean has 3 values but 4 times"),
            "{short}"
        );
        assert!(fail(&t, banded(&t, &t, &t[..2]), 80, 8).contains("band high has 2 values"));
        assert!(fail(&t, line("x", &t), 80, 3).contains("height 3 is too small"));
        let inf = [f64::INFINITY, f64::NAN, f64::NEG_INFINITY, f64::NAN];
        assert!(fail(&t, line("x", &inf), 80, 8).contains("no finite value"));
        let tiny = fail(&t, line("x", &t), 5, 8);
        let min = tiny
            .split(' ')
            .filter_map(|w| w.parse::<usize>().ok())
            .nth(1);
        let min = min.expect("the message names the minimum width");
        let style = |width| Style {
            width,
            height: 8,
            color: false,
        };
        assert!(render(&t, &[line("x", &t)], &style(min)).is_ok());
        assert!(render(&t, &[line("x", &t)], &style(min - 1)).is_err());
    }

    #[test]
    fn y_labels_show_the_padded_range() {
        let t = ramp(11);
        let out = plot(&t, &[line("x", &t)], 40, 8, false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("10.5┤") && lines[7].starts_with("-0.5┤"),
            "{out}"
        );
        assert!(lines[1].starts_with("    │"), "{out}");
    }

    #[test]
    fn legends_name_each_series() {
        let t = ramp(5);
        let legend = |out: String| out.lines().last().unwrap_or("").trim_start().to_string();
        let one = plot(&t, &[banded(&t, &t, &t)], 40, 8, false);
        assert_eq!(legend(one), "⣿ x (mean)   ░ 5–95 %");
        let three = plot(
            &t,
            &[line("S", &t), line("I", &t), line("R", &t)],
            40,
            8,
            false,
        );
        assert_eq!(legend(three), "• S   + I   x R");
    }

    #[test]
    fn uneven_times_place_a_point_at_its_time() {
        let t = [0.0, 1.0, 10.0];
        let out = plot(&t, &[line("x", &[f64::NAN, 5.0, f64::NAN])], 60, 8, false);
        let cols = canvas(&out)[0].len();
        let used: Vec<usize> = dots(&out).into_iter().map(|(_, c)| c).collect();
        assert_eq!(used, vec![column_of(1.0, 10.0, cols)], "{out}");
    }

    #[test]
    fn markers_keep_steep_curves_connected_without_colour() {
        let t = ramp(40);
        let step: Vec<f64> = t
            .iter()
            .map(|&v| if v < 20.0 { 0.0 } else { 100.0 })
            .collect();
        let out = plot(&t, &[line("a", &t), line("b", &step)], 50, 10, false);
        let rows = canvas(&out);
        let jump = (0..rows[0].len())
            .find(|&c| rows[0][c] == '+')
            .expect("b reaches the top");
        // Every row is crossed at the jump, within one column of where it reaches the top.
        let crossed = |r: &Vec<char>| r[jump.saturating_sub(1)..=jump].contains(&'+');
        assert!(rows.iter().all(crossed), "{out}");
        assert!(dots(&out).is_empty(), "{out}");
    }

    #[test]
    fn colour_wraps_runs_and_the_later_series_wins_a_shared_cell() {
        let t = ramp(20);
        let out = plot(&t, &[line("a", &t), line("b", &t)], 40, 8, true);
        let canvas_text: String = out.lines().take(8).collect();
        assert!(
            canvas_text.contains("\x1b[31m") && !canvas_text.contains("\x1b[34m"),
            "{out}"
        );
        assert_eq!(
            out.matches(RESET).count(),
            out.matches("\x1b[3").count(),
            "{out}"
        );
    }

    #[test]
    fn hostile_values_never_panic_and_still_fit() {
        let t = [0.0, 0.0, f64::NAN, 1.0, f64::INFINITY, 1e300];
        let wild = [1e308, -1e308, f64::INFINITY, f64::NAN, 5e-324, -0.0];
        let cases: [(&[f64], &[Series]); 4] = [
            (&t, &[banded(&wild, &wild, &t)]),
            (&t, &[line("a", &wild), line("b", &t)]),
            (&[3.0, 2.0, 1.0], &[line("d", &[1.0, 2.0, 3.0])]),
            (&[7.0], &[line("s", &[1.0]), line("z", &[2.0])]),
        ];
        for (width, height, color) in [(14, 4, false), (40, 7, true), (200, 5, false)] {
            for (times, series) in cases {
                let Ok(out) = render(
                    times,
                    series,
                    &Style {
                        width,
                        height,
                        color,
                    },
                ) else {
                    continue; // e.g. too narrow for the labels: an error, not a panic
                };
                assert!(
                    out.lines()
                        .all(|l| strip_escapes(l).chars().count() <= width)
                );
            }
        }
        let huge = Style {
            width: usize::MAX,
            height: usize::MAX,
            color: true,
        };
        assert!(render(&t, &[line("a", &t)], &huge).is_ok());
    }

    #[test]
    fn numbers_are_concise() {
        assert_eq!(format_number(1000.0, (0.0, 1000.0)), "1000");
        assert_eq!(format_number(12.5, (0.0, 20.0)), "12.5");
        assert_eq!(format_number(0.0031, (0.0, 0.004)), "0.0031");
        assert_eq!(format_number(1.2e6, (0.0, 2e6)), "1.2e6");
        assert_eq!(format_number(1.25e6, (1.2e6, 1.3e6)), "1.25e6");
        assert_eq!(format_number(1e-17, (-1.0, 1.0)), "0");
    }

    #[test]
    fn sine_with_band_looks_right() {
        let t: Vec<f64> = (0..=40).map(|i| i as f64 * 0.25).collect();
        let mean: Vec<f64> = t.iter().map(|v| v.sin()).collect();
        let (lo, hi): (Vec<f64>, Vec<f64>) = mean.iter().map(|m| (m - 0.3, m + 0.3)).unzip();
        let out = plot(&t, &[banded(&mean, &lo, &hi)], 40, 8, false);
        println!("{out}");
        let expected = [
            " 1.43┤   ░░░░░                ░░░░░",
            "     │  ░⡠⠒⠒⠢⣀░              ░⣀⠖⠒⠒⢄░",
            "     │░⢠⠊░░░░░⠑⡄░           ⢀⠎░░░░░⠑⡄░",
            "     │⡠⠃░     ░⠘⢄░        ░⢠⠊░     ░⠘⢄░",
            " -0.2┤░         ⠈⢢░      ░⡰⠁         ░⢣░",
            "     │           ░⠣⡀░░░░⢀⠔⠁           ░⠑",
            "     │            ░⠈⠢⠤⠤⠔⠁░             ░",
            "-1.43┤              ░░░░",
            "     └──────────────────────────────────",
            "      0                5              10",
            "                       t",
            "      ⣿ x (mean)   ░ 5–95 %",
        ];
        assert_eq!(out.lines().collect::<Vec<_>>(), expected);
        assert!(out.ends_with("%\n"));
    }
}

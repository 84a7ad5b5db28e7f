//! Statistics across paths, per (time, variable), in `O(times × variables)` memory.
//!
//! Each cell keeps a count, the mean and sum of squared deviations (summed per batch of
//! paths, shifted by one of the batch's values, and merged by Chan, Golub & LeVeque's
//! pairwise update: no division per value; the standard deviation divides by `n − 1`), the
//! minimum and maximum. Quantiles are exact (the
//! sample quantile, interpolated between order statistics: "type 7", numpy's default) while
//! the summary holds at most [`EXACT_LIMIT`] values in all (256 MB); a larger run switches
//! every cell to one P² estimator (Jain & Chlamtac, 1985) per quantile, fed the values held
//! so far in order and then the rest, so memory stays bounded whatever the number of paths.
//! Non-finite values (NaN, ±inf: a blown-up path) are skipped and counted in
//! `nonfinite`, so one bad path never turns a mean into NaN. The arithmetic is sequential:
//! the same values in the same order give the same bits.
//!
//! ## CSV
//!
//! After the metadata block (see the parent module), one row per (time, variable), by time
//! then variable:
//!
//! ```text
//! time,variable,n,mean,sd,q05,q50,q95,min,max,nonfinite
//! 0,x,1000,1,0,1,1,1,1,1,0
//! ```
//!
//! Statistics of an empty cell (and `sd` of a one-value cell) are `NaN`.
//!
//! ## JSON
//!
//! ```text
//! {"meta": {…}, "dropped": [3], "paths": 999,
//!  "variables": ["x", …], "times": [0, …], "quantiles": [0.05, 0.5, 0.95],
//!  "stats": {"x": {"n": [...], "mean": [...], "sd": [...], "q05": [...], "q50": [...],
//!                  "q95": [...], "min": [...], "max": [...], "nonfinite": [...]}, …}}
//! ```
//!
//! `"paths"` is the number of paths summarised; each statistic is an array over `times`;
//! undefined values are `null`.

use super::{
    AtomicFile, Num, RunInfo, csv_field, write_dropped_json, write_json_ints, write_json_nums,
    write_json_str, write_json_strs, write_meta_csv, write_meta_json,
};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// One quantile of a stream, estimated by the P² algorithm (Jain & Chlamtac, "The P²
/// algorithm for dynamic calculation of quantiles and histograms without storing
/// observations", CACM 28(10), 1985): five markers whose heights follow the minimum, the
/// `p/2`, `p`, `(1+p)/2` quantiles and the maximum, moved by piecewise-parabolic
/// interpolation.
#[derive(Clone, Debug)]
pub struct P2 {
    p: f64,
    count: u64,
    /// Marker heights; while `count < 5`, the observations so far, sorted.
    q: [f64; 5],
    /// Marker positions (1-based ranks).
    n: [f64; 5],
}

impl P2 {
    /// An estimator of the `p` quantile, `0 < p < 1`.
    pub fn new(p: f64) -> P2 {
        debug_assert!(p > 0.0 && p < 1.0);
        P2 {
            p,
            count: 0,
            q: [0.0; 5],
            n: [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    }

    /// Observations seen.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds an observation (finite: the caller filters).
    pub fn push(&mut self, x: f64) {
        let q = &mut self.q;
        if self.count < 5 {
            // Insertion into the sorted prefix; at five, the markers start at ranks 1..5.
            let mut i = self.count as usize;
            while i > 0 && q[i - 1] > x {
                q[i] = q[i - 1];
                i -= 1;
            }
            q[i] = x;
            self.count += 1;
            return;
        }
        self.count += 1;
        let n = &mut self.n;
        // The cell holding x; the extreme markers follow new extremes.
        let k = if x < q[0] {
            q[0] = x;
            0
        } else if x < q[1] {
            0
        } else if x < q[2] {
            1
        } else if x < q[3] {
            2
        } else if x <= q[4] {
            3
        } else {
            q[4] = x;
            3
        };
        for ni in &mut n[k + 1..] {
            *ni += 1.0;
        }
        let p = self.p;
        let dn = [0.0, p / 2.0, p, (1.0 + p) / 2.0, 1.0];
        // Desired positions from the count (the paper increments them; computing them
        // afresh is the same up to rounding and accumulates none).
        let last = (self.count - 1) as f64;
        for i in 1..4 {
            let d = 1.0 + last * dn[i] - n[i];
            if (d >= 1.0 && n[i + 1] - n[i] > 1.0) || (d <= -1.0 && n[i - 1] - n[i] < -1.0) {
                let s = d.signum();
                let parabolic = q[i]
                    + s / (n[i + 1] - n[i - 1])
                        * ((n[i] - n[i - 1] + s) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
                            + (n[i + 1] - n[i] - s) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]));
                q[i] = if q[i - 1] < parabolic && parabolic < q[i + 1] {
                    parabolic
                } else {
                    // The parabola overshot a neighbour: move linearly towards it.
                    let j = if s > 0.0 { i + 1 } else { i - 1 };
                    q[i] + s * (q[j] - q[i]) / (n[j] - n[i])
                };
                n[i] += s;
            }
        }
    }

    /// The estimate: the exact sample quantile (linear interpolation between order
    /// statistics, "type 7") up to 5 observations, the middle marker after; NaN if empty.
    pub fn estimate(&self) -> f64 {
        match self.count {
            0 => f64::NAN,
            c @ 1..=5 => {
                let h = (c - 1) as f64 * self.p;
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(c as usize - 1);
                self.q[lo] + (h - lo as f64) * (self.q[hi] - self.q[lo])
            }
            _ => self.q[2],
        }
    }
}

/// Running moments and extremes of one cell.
#[derive(Clone, Copy, Debug)]
struct Moments {
    n: u64,
    nonfinite: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Moments {
    const EMPTY: Moments = Moments {
        n: 0,
        nonfinite: 0,
        mean: 0.0,
        m2: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    /// Fold in a batch's sums (Chan, Golub & LeVeque's pairwise update).
    fn merge(&mut self, b: &BatchSums) {
        self.nonfinite += b.nonfinite;
        if b.n == 0 {
            return;
        }
        let nb = b.n as f64;
        let mean_b = b.shift + b.s1 / nb;
        let m2_b = (b.s2 - b.s1 * b.s1 / nb).max(0.0);
        let n = self.n + b.n;
        let delta = mean_b - self.mean;
        self.mean += delta * nb / n as f64;
        self.m2 += m2_b + delta * delta * self.n as f64 * nb / n as f64;
        self.n = n;
        self.min = self.min.min(b.min);
        self.max = self.max.max(b.max);
    }
}

/// One cell's sums over a batch of paths, shifted by a value of the batch (its first finite
/// value) so that the sum of squares does not cancel: no division per value.
#[derive(Clone, Copy, Debug)]
struct BatchSums {
    n: u64,
    nonfinite: u64,
    shift: f64,
    s1: f64,
    s2: f64,
    min: f64,
    max: f64,
}

impl BatchSums {
    const EMPTY: BatchSums = BatchSums {
        n: 0,
        nonfinite: 0,
        shift: f64::NAN,
        s1: 0.0,
        s2: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    /// Adds `x`; whether it was finite (non-finite values are only counted).
    #[inline]
    fn add(&mut self, x: f64) -> bool {
        if !x.is_finite() {
            self.nonfinite += 1;
            return false;
        }
        if self.n == 0 {
            self.shift = x;
        }
        let d = x - self.shift;
        self.n += 1;
        self.s1 += d;
        self.s2 += d * d;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        true
    }
}

/// The statistics of one (time, variable) cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellStats {
    /// Finite values summarised.
    pub n: u64,
    /// Values skipped: NaN or infinite.
    pub nonfinite: u64,
    /// NaN when `n == 0`.
    pub mean: f64,
    /// Sample standard deviation (divisor `n − 1`); NaN when `n < 2`.
    pub sd: f64,
    /// NaN when `n == 0`.
    pub min: f64,
    /// NaN when `n == 0`.
    pub max: f64,
}

/// Streaming statistics across paths for every (time, variable).
#[derive(Clone, Debug)]
pub struct Summary {
    ntimes: usize,
    nvars: usize,
    probs: Vec<f64>,
    paths: u64,
    /// Per cell `k * nvars + v`.
    moments: Vec<Moments>,
    quantiles: Quantiles,
    /// The current batch's sums per cell, merged into `moments` every [`BATCH_PATHS`] paths.
    sums: Vec<BatchSums>,
    batch_paths: usize,
    /// Exact quantiles of every cell (`cell * probs.len() + j`), computed on first use.
    exact_cache: std::sync::OnceLock<Vec<f64>>,
    /// [`EXACT_LIMIT`], lowered by tests.
    exact_limit: usize,
}

/// Paths whose sums are merged into the moments at once: batches are counted in paths, so
/// the same paths give the same bits however they are pushed.
const BATCH_PATHS: usize = 1024;

/// Finite values the summary may hold for exact quantiles, over all cells.
pub const EXACT_LIMIT: usize = 32 << 20;

/// How quantiles are kept.
#[derive(Clone, Debug)]
enum Quantiles {
    /// Every recording pushed, as it came (row-major: path, then cell; non-finite values
    /// included and skipped when the quantiles are computed): appending a row is one copy.
    Exact { rows: Vec<f64> },
    /// Per cell and quantile (`cell * probs.len() + j`) a P² estimator.
    Streamed(Vec<P2>),
}

impl Summary {
    /// The quantiles summarised unless asked otherwise.
    pub const DEFAULT_QUANTILES: [f64; 3] = [0.05, 0.5, 0.95];

    /// A summary of recordings of `ntimes × nvars` values with the default quantiles.
    pub fn new(ntimes: usize, nvars: usize) -> Summary {
        Self::build(ntimes, nvars, Self::DEFAULT_QUANTILES.to_vec())
    }

    /// With other quantiles: each `p` strictly between 0 and 1.
    pub fn with_quantiles(ntimes: usize, nvars: usize, probs: &[f64]) -> Result<Summary, String> {
        if let Some(p) = probs.iter().find(|p| !(**p > 0.0 && **p < 1.0)) {
            return Err(format!("quantile {p} is not strictly between 0 and 1"));
        }
        Ok(Self::build(ntimes, nvars, probs.to_vec()))
    }

    fn build(ntimes: usize, nvars: usize, probs: Vec<f64>) -> Summary {
        let cells = ntimes * nvars;
        Summary {
            ntimes,
            nvars,
            paths: 0,
            moments: vec![Moments::EMPTY; cells],
            quantiles: Quantiles::Exact { rows: Vec::new() },
            sums: vec![BatchSums::EMPTY; cells],
            batch_paths: 0,
            exact_cache: std::sync::OnceLock::new(),
            exact_limit: EXACT_LIMIT,
            probs,
        }
    }

    /// Room for `paths` recordings in the values kept for exact quantiles (a hint: it saves
    /// regrowing them; nothing is reserved past the exact limit).
    pub fn reserve_paths(&mut self, paths: usize) {
        if let Quantiles::Exact { rows } = &mut self.quantiles {
            let cells = self.moments.len();
            rows.reserve_exact(paths.saturating_mul(cells).min(self.exact_limit));
        }
    }

    /// Before adding `incoming` values: past the limit, hand every cell's values to P²
    /// estimators, in order (cells in parallel).
    fn make_room(&mut self, incoming: usize) {
        let Quantiles::Exact { rows } = &mut self.quantiles else {
            return;
        };
        if rows.len() + incoming <= self.exact_limit {
            return;
        }
        let (probs, cells) = (&self.probs, self.moments.len());
        let rows = std::mem::take(rows);
        let p2: Vec<Vec<P2>> = (0..cells)
            .into_par_iter()
            .map(|c| {
                let mut est: Vec<P2> = probs.iter().map(|&p| P2::new(p)).collect();
                for &x in cell_values(&rows, cells, c).iter() {
                    est.iter_mut().for_each(|e| e.push(x));
                }
                est
            })
            .collect();
        self.quantiles = Quantiles::Streamed(p2.into_iter().flatten().collect());
    }

    /// Adds one path's recording (`ntimes × nvars`, row-major by time).
    ///
    /// # Panics
    /// If `values` has another length: the engine's recording and the summary disagree.
    pub fn push(&mut self, values: &[f64]) {
        assert_eq!(
            values.len(),
            self.moments.len(),
            "a recording of {} values for a summary of {} times × {} variables",
            values.len(),
            self.ntimes,
            self.nvars
        );
        self.paths += 1;
        self.exact_cache = std::sync::OnceLock::new();
        self.make_room(values.len());
        let nq = self.probs.len();
        match &mut self.quantiles {
            Quantiles::Exact { rows } => {
                rows.extend_from_slice(values);
                for (s, &x) in self.sums.iter_mut().zip(values) {
                    s.add(x);
                }
            }
            Quantiles::Streamed(p2) => {
                for (c, (s, &x)) in self.sums.iter_mut().zip(values).enumerate() {
                    if s.add(x) {
                        p2[c * nq..(c + 1) * nq].iter_mut().for_each(|e| e.push(x));
                    }
                }
            }
        }
        self.batch_paths += 1;
        if self.batch_paths == BATCH_PATHS {
            for (m, s) in self.moments.iter_mut().zip(&mut self.sums) {
                m.merge(s);
                *s = BatchSums::EMPTY;
            }
            self.batch_paths = 0;
        }
    }

    /// Adds several paths' recordings, concatenated in path order: the same as pushing them
    /// one at a time, bit for bit.
    ///
    /// # Panics
    /// If `values` is not a whole number of recordings.
    pub fn push_batch(&mut self, values: &[f64]) {
        let cells = self.moments.len();
        if cells == 0 {
            assert!(values.is_empty(), "values for a summary of no cells");
            return;
        }
        assert_eq!(
            values.len() % cells,
            0,
            "{} values are not whole recordings of {} times × {} variables",
            values.len(),
            self.ntimes,
            self.nvars
        );
        values.chunks(cells).for_each(|row| self.push(row));
    }

    /// Paths pushed.
    pub fn paths(&self) -> u64 {
        self.paths
    }

    pub fn ntimes(&self) -> usize {
        self.ntimes
    }

    pub fn nvars(&self) -> usize {
        self.nvars
    }

    /// The quantile levels, in column order.
    pub fn quantile_probs(&self) -> &[f64] {
        &self.probs
    }

    /// The position of level `p` in [`Summary::quantile_probs`].
    pub fn quantile_index(&self, p: f64) -> Option<usize> {
        self.probs.iter().position(|&q| (q - p).abs() < 1e-12)
    }

    /// The statistics of variable `v` at time index `k`.
    pub fn stats(&self, k: usize, v: usize) -> CellStats {
        let c = k * self.nvars + v;
        let mut m = self.moments[c];
        m.merge(&self.sums[c]);
        let defined = |x: f64| if m.n == 0 { f64::NAN } else { x };
        CellStats {
            n: m.n,
            nonfinite: m.nonfinite,
            mean: defined(m.mean),
            sd: if m.n < 2 {
                f64::NAN
            } else {
                (m.m2 / (m.n - 1) as f64).sqrt()
            },
            min: defined(m.min),
            max: defined(m.max),
        }
    }

    /// The estimate of quantile `j` (of [`Summary::quantile_probs`]) of variable `v` at time
    /// index `k`; NaN when the cell is empty.
    pub fn quantile(&self, k: usize, v: usize, j: usize) -> f64 {
        let c = k * self.nvars + v;
        match &self.quantiles {
            Quantiles::Exact { rows } => {
                let (nq, cells) = (self.probs.len(), self.moments.len());
                // Every cell's quantiles at once, in parallel, the first time one is asked.
                let all = self.exact_cache.get_or_init(|| {
                    (0..cells)
                        .into_par_iter()
                        .flat_map_iter(|c| {
                            sample_quantiles(&cell_values(rows, cells, c), &self.probs)
                        })
                        .collect()
                });
                all[c * nq + j]
            }
            Quantiles::Streamed(p2) => p2[c * self.probs.len() + j].estimate(),
        }
    }

    /// Whether quantiles are exact (the run fitted in [`EXACT_LIMIT`]) rather than P²
    /// estimates.
    pub fn exact_quantiles(&self) -> bool {
        matches!(self.quantiles, Quantiles::Exact { .. })
    }

    /// Column names of the quantiles: `q05`, `q50`, `q95`, `q02.5`, `q99.9`.
    pub fn quantile_names(&self) -> Vec<String> {
        self.probs.iter().map(|&p| quantile_name(p)).collect()
    }

    fn check_info(&self, info: &RunInfo) -> io::Result<()> {
        if info.times.len() != self.ntimes || info.variables.len() != self.nvars {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "run of {} times × {} variables, summary of {} × {}",
                    info.times.len(),
                    info.variables.len(),
                    self.ntimes,
                    self.nvars
                ),
            ));
        }
        Ok(())
    }

    /// Writes the CSV form (see the module docs) to `w`.
    pub fn to_csv(&self, mut w: impl Write, info: &RunInfo) -> io::Result<()> {
        self.check_info(info)?;
        write_meta_csv(&mut w, info, Some(&info.dropped))?;
        write!(w, "time,variable,n,mean,sd")?;
        for name in self.quantile_names() {
            write!(w, ",{name}")?;
        }
        writeln!(w, ",min,max,nonfinite")?;
        let names: Vec<_> = info.variables.iter().map(|v| csv_field(v)).collect();
        for (k, &t) in info.times.iter().enumerate() {
            for (v, name) in names.iter().enumerate() {
                let s = self.stats(k, v);
                write!(w, "{},{name},{},{},{}", Num(t), s.n, Num(s.mean), Num(s.sd))?;
                for j in 0..self.probs.len() {
                    write!(w, ",{}", Num(self.quantile(k, v, j)))?;
                }
                writeln!(w, ",{},{},{}", Num(s.min), Num(s.max), s.nonfinite)?;
            }
        }
        w.flush()
    }

    /// Writes the CSV form to `path` atomically.
    pub fn write_csv(&self, path: impl AsRef<Path>, info: &RunInfo) -> io::Result<()> {
        let mut f = AtomicFile::create(path)?;
        self.to_csv(&mut f, info)?;
        f.commit()
    }

    /// Writes the JSON form (see the module docs) to `w`.
    pub fn to_json(&self, mut w: impl Write, info: &RunInfo) -> io::Result<()> {
        self.check_info(info)?;
        let w = &mut w;
        w.write_all(b"{\"meta\":")?;
        write_meta_json(w, info)?;
        w.write_all(b",\n")?;
        write_dropped_json(w, &info.dropped)?;
        write!(w, ",\n\"paths\":{},\n\"variables\":", self.paths)?;
        write_json_strs(w, &info.variables)?;
        w.write_all(b",\n\"times\":")?;
        write_json_nums(w, info.times.iter().copied())?;
        w.write_all(b",\n\"quantiles\":")?;
        write_json_nums(w, self.probs.iter().copied())?;
        w.write_all(b",\n\"stats\":{")?;
        let qnames = self.quantile_names();
        for (v, name) in info.variables.iter().enumerate() {
            if v > 0 {
                w.write_all(b",")?;
            }
            w.write_all(b"\n")?;
            write_json_str(w, name)?;
            let col = |f: fn(CellStats) -> f64| self.column(v, f);
            w.write_all(b":{\"n\":")?;
            write_json_ints(w, (0..self.ntimes).map(|k| self.stats(k, v).n))?;
            w.write_all(b",\"mean\":")?;
            write_json_nums(w, col(|s| s.mean))?;
            w.write_all(b",\"sd\":")?;
            write_json_nums(w, col(|s| s.sd))?;
            for (j, qn) in qnames.iter().enumerate() {
                write!(w, ",\"{qn}\":")?;
                write_json_nums(w, (0..self.ntimes).map(|k| self.quantile(k, v, j)))?;
            }
            w.write_all(b",\"min\":")?;
            write_json_nums(w, col(|s| s.min))?;
            w.write_all(b",\"max\":")?;
            write_json_nums(w, col(|s| s.max))?;
            w.write_all(b",\"nonfinite\":")?;
            write_json_ints(w, (0..self.ntimes).map(|k| self.stats(k, v).nonfinite))?;
            w.write_all(b"}")?;
        }
        w.write_all(b"}}\n")?;
        w.flush()
    }

    /// One statistic of variable `v` over the times.
    fn column(&self, v: usize, f: fn(CellStats) -> f64) -> impl Iterator<Item = f64> + '_ {
        (0..self.ntimes).map(move |k| f(self.stats(k, v)))
    }

    /// Writes the JSON form to `path` atomically.
    pub fn write_json(&self, path: impl AsRef<Path>, info: &RunInfo) -> io::Result<()> {
        let mut f = AtomicFile::create(path)?;
        self.to_json(&mut f, info)?;
        f.commit()
    }

    /// A plain-text table for the terminal: a heading line, then per variable up to
    /// `max_rows` evenly spaced times (always the first and the last), aligned columns, six
    /// significant digits. A `nonfinite` column appears only when some value was skipped.
    pub fn table(&self, info: &RunInfo, max_rows: usize) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "{}: {} path{}, method {}",
            info.model,
            self.paths,
            if self.paths == 1 { "" } else { "s" },
            info.method
        );
        if let Some(dt) = info.dt {
            let _ = write!(out, ", dt {}", Num(dt));
        }
        let _ = write!(out, ", seed {}", info.seed);
        if !info.dropped.is_empty() {
            let _ = write!(out, ", {} dropped", info.dropped.len());
        }
        out.push('\n');
        if self.check_info(info).is_err() {
            return out;
        }
        let rows = evenly_spaced(self.ntimes, max_rows);
        let any_nonfinite = self.moments.iter().any(|m| m.nonfinite > 0);
        let mut header: Vec<String> = ["variable", "time", "n", "mean", "sd"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        header.extend(self.quantile_names());
        header.extend(["min".to_string(), "max".to_string()]);
        if any_nonfinite {
            header.push("nonfinite".to_string());
        }
        let mut table = vec![header];
        // A terminal's worth: every variable when they fit; else the outputs (usually what a
        // model is run for), then the first state components, and a line saying how many
        // more there are.
        let nvars = info.variables.len();
        let order: Vec<usize> = if nvars <= TABLE_VARIABLES {
            (0..nvars).collect()
        } else {
            let outputs = info.outputs.min(nvars);
            let shown_outputs = outputs.min(TABLE_VARIABLES);
            let shown_states = (nvars - outputs).min(TABLE_VARIABLES - shown_outputs);
            (nvars - outputs..nvars - outputs + shown_outputs)
                .chain(0..shown_states)
                .collect()
        };
        let shown = order.len();
        for v in order {
            let name = &info.variables[v];
            for &k in &rows {
                let s = self.stats(k, v);
                let mut row = vec![
                    name.clone(),
                    fmt_g(info.times[k]),
                    s.n.to_string(),
                    fmt_g(s.mean),
                    fmt_g(s.sd),
                ];
                row.extend((0..self.probs.len()).map(|j| fmt_g(self.quantile(k, v, j))));
                row.extend([fmt_g(s.min), fmt_g(s.max)]);
                if any_nonfinite {
                    row.push(s.nonfinite.to_string());
                }
                table.push(row);
            }
        }
        let ncols = table[0].len();
        let widths: Vec<usize> = (0..ncols)
            .map(|c| {
                table
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &table {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                // The variable name reads left to right; numbers line up on the right.
                if c == 0 {
                    let _ = write!(line, "{cell:<w$}", w = widths[c]);
                } else {
                    let _ = write!(line, "{cell:>w$}", w = widths[c]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let hidden = info.variables.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "… and {hidden} more variable{} (all of them are in the files --out writes)",
                if hidden == 1 { "" } else { "s" }
            );
        }
        if rows.len() < self.ntimes {
            let _ = writeln!(
                out,
                "({} of {} recording times shown, evenly spaced; all of them are in the files --out writes)",
                rows.len(),
                self.ntimes
            );
        }
        out
    }
}

/// The finite values of cell `c` in row-major recordings of `cells` values each, in order.
fn cell_values(rows: &[f64], cells: usize, c: usize) -> Vec<f64> {
    rows.iter()
        .skip(c)
        .step_by(cells.max(1))
        .copied()
        .filter(|x| x.is_finite())
        .collect()
}

/// The `probs` quantiles of `values` (any order): linear interpolation between the order
/// statistics around rank (n − 1)·p ("type 7"); NaN when empty. Selection, not a sort: each
/// level is selected in the part of the array at or above the previous (lower) level's rank.
fn sample_quantiles(values: &[f64], probs: &[f64]) -> Vec<f64> {
    if values.is_empty() {
        return vec![f64::NAN; probs.len()];
    }
    let mut v = values.to_vec();
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[a].total_cmp(&probs[b]));
    let mut out = vec![f64::NAN; probs.len()];
    let mut from = 0;
    for j in order {
        let h = (v.len() - 1) as f64 * probs[j];
        let lo = (h.floor() as usize).max(from);
        let (_, &mut below, above) = v[from..].select_nth_unstable_by(lo - from, f64::total_cmp);
        // The next order statistic is the smallest of the values above rank `lo`.
        let next = above
            .iter()
            .copied()
            .min_by(f64::total_cmp)
            .unwrap_or(below);
        out[j] = below + (h - lo as f64) * (next - below);
        from = lo;
    }
    out
}

/// Variables the terminal table shows at most.
const TABLE_VARIABLES: usize = 12;

/// `q05` for 0.05, `q50`, `q95`, `q02.5` for 0.025, `q99.9` for 0.999.
pub fn quantile_name(p: f64) -> String {
    // Rounded so that 0.07 · 100 = 7.000000000000001 names itself q07.
    let pct = (p * 1e8).round() / 1e6;
    if pct < 10.0 {
        format!("q0{pct}")
    } else {
        format!("q{pct}")
    }
}

/// Up to `rows` indices of `0..n` spread evenly, first and last included.
fn evenly_spaced(n: usize, rows: usize) -> Vec<usize> {
    if n == 0 || rows == 0 {
        return Vec::new();
    }
    if rows >= n {
        return (0..n).collect();
    }
    if rows == 1 {
        return vec![n - 1];
    }
    let mut out: Vec<usize> = (0..rows)
        .map(|i| ((i as f64) * (n - 1) as f64 / (rows - 1) as f64).round() as usize)
        .collect();
    out.dedup();
    out
}

/// Six significant digits, trailing zeros trimmed, exponent form when very large or small.
fn fmt_g(x: f64) -> String {
    const SIG: i32 = 6;
    if !x.is_finite() || x == 0.0 {
        return Num(x).to_string();
    }
    let e = x.abs().log10().floor() as i32;
    if (-4..SIG).contains(&e) {
        let s = format!("{:.*}", (SIG - 1 - e).max(0) as usize, x);
        // Rounding may carry into a new digit (999999.7 → 1000000): then use the exponent.
        if s.trim_start_matches('-')
            .split('.')
            .next()
            .map_or(0, str::len)
            > SIG as usize
        {
            return format!("{:.*e}", (SIG - 1) as usize, x).replace(".00000e", "e");
        }
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{:.*e}", (SIG - 1) as usize, x);
        match s.split_once('e') {
            Some((m, exp)) if m.contains('.') => {
                format!("{}e{exp}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{info, splitmix};
    use super::*;
    use serde_json::Value;

    fn uniform(s: &mut u64) -> f64 {
        // 53 random bits in (0, 1).
        ((splitmix(s) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn exact_quantile(sorted: &[f64], p: f64) -> f64 {
        let h = (sorted.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(sorted.len() - 1);
        sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
    }

    #[test]
    fn p2_tracks_quantiles_of_10000_draws() {
        const N: usize = 10_000;
        // Exponential(1): skewed, so the tails differ. x_p = −ln(1−p), density 1 − p there.
        let mut s = 11;
        let xs: Vec<f64> = (0..N).map(|_| -uniform(&mut s).ln()).collect();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        for p in [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] {
            let mut e = P2::new(p);
            for &x in &xs {
                e.push(x);
            }
            assert_eq!(e.count(), N as u64);
            // The sample quantile's standard error: √(p(1−p)/N) / f(x_p).
            let se = (p * (1.0 - p) / N as f64).sqrt() / (1.0 - p);
            let est = e.estimate();
            let sample = exact_quantile(&sorted, p);
            let truth = -(1.0 - p).ln();
            assert!(
                (est - sample).abs() < 3.0 * se,
                "p {p}: P² {est}, sample {sample}, se {se}"
            );
            assert!(
                (est - truth).abs() < 4.0 * se,
                "p {p}: P² {est}, true {truth}, se {se}"
            );
        }
        // Normal (Box–Muller): symmetric, unbounded both ways. f(x_p) = φ(x_p).
        let ys: Vec<f64> = (0..N)
            .map(|_| {
                let (u, v) = (uniform(&mut s), uniform(&mut s));
                (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect();
        let mut sorted = ys.clone();
        sorted.sort_by(f64::total_cmp);
        for (p, z) in [
            (0.05, -1.6448536269514722),
            (0.5, 0.0),
            (0.95, 1.6448536269514722),
        ] {
            let mut e = P2::new(p);
            ys.iter().for_each(|&y| e.push(y));
            let density = (-z * z / 2.0f64).exp() / (std::f64::consts::TAU).sqrt();
            let se = (p * (1.0 - p) / N as f64).sqrt() / density;
            let (est, sample) = (e.estimate(), exact_quantile(&sorted, p));
            assert!((est - sample).abs() < 3.0 * se, "p {p}: {est} vs {sample}");
            assert!((est - z).abs() < 4.0 * se, "p {p}: {est} vs {z}");
        }
    }

    #[test]
    fn quantiles_are_exact_then_streamed_past_the_limit() {
        let mut s = 21;
        let data: Vec<f64> = (0..2000).map(|_| -uniform(&mut s).ln()).collect();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let probs = [0.05, 0.5, 0.95];
        let mut exact = Summary::with_quantiles(1, 1, &probs).unwrap();
        exact.push_batch(&data);
        assert!(exact.exact_quantiles());
        // Past the limit (here 1,000 values) the same stream goes through P², whether the
        // switch comes in the middle of one batch or of single pushes.
        let mut streamed = Summary::with_quantiles(1, 1, &probs).unwrap();
        streamed.exact_limit = 1000;
        streamed.push_batch(&data[..600]);
        streamed.push_batch(&data[600..]);
        let mut one_by_one = Summary::with_quantiles(1, 1, &probs).unwrap();
        one_by_one.exact_limit = 1000;
        data.iter().for_each(|&x| one_by_one.push(&[x]));
        assert!(!streamed.exact_quantiles() && !one_by_one.exact_quantiles());
        for (j, &p) in probs.iter().enumerate() {
            assert_eq!(exact.quantile(0, 0, j), exact_quantile(&sorted, p));
            let mut e = P2::new(p);
            data.iter().for_each(|&x| e.push(x));
            assert_eq!(streamed.quantile(0, 0, j), e.estimate());
            assert_eq!(one_by_one.quantile(0, 0, j), e.estimate());
        }
    }

    #[test]
    fn exact_quantiles_at_many_levels_match_a_sort() {
        let mut s = 33;
        let data: Vec<f64> = (0..1001).map(|_| uniform(&mut s).ln()).collect();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        // Levels out of order, repeated, and at the extremes of the ranks.
        let probs = [0.9, 0.1, 0.5, 0.5, 0.001, 0.999, 0.25];
        let got = sample_quantiles(&data, &probs);
        for (g, &p) in got.iter().zip(&probs) {
            assert_eq!(*g, exact_quantile(&sorted, p), "p {p}");
        }
        assert!(sample_quantiles(&[], &probs).iter().all(|q| q.is_nan()));
        assert_eq!(sample_quantiles(&[4.0], &[0.05, 0.95]), vec![4.0, 4.0]);
    }

    #[test]
    fn p2_is_exact_up_to_five() {
        let xs = [3.0, -1.0, 7.5, 2.0, 0.25];
        for p in [0.05, 0.3, 0.5, 0.95] {
            let mut e = P2::new(p);
            assert!(e.estimate().is_nan());
            for (i, &x) in xs.iter().enumerate() {
                e.push(x);
                let mut seen = xs[..=i].to_vec();
                seen.sort_by(f64::total_cmp);
                assert_eq!(
                    e.estimate(),
                    exact_quantile(&seen, p),
                    "p {p}, {} seen",
                    i + 1
                );
            }
        }
        // Constant data stays constant (no 0/0 in the interpolations).
        let mut e = P2::new(0.05);
        (0..100).for_each(|_| e.push(2.5));
        assert_eq!(e.estimate(), 2.5);
    }

    #[test]
    fn welford_matches_two_pass() {
        let (ntimes, nvars, npaths) = (3, 2, 500);
        let mut s = 5;
        let data: Vec<Vec<f64>> = (0..npaths)
            .map(|_| {
                (0..ntimes * nvars)
                    .map(|c| 1e6 * c as f64 + 10.0 * uniform(&mut s))
                    .collect()
            })
            .collect();
        let mut sum = Summary::new(ntimes, nvars);
        data.iter().for_each(|d| sum.push(d));
        assert_eq!(sum.paths(), npaths as u64);
        for k in 0..ntimes {
            for v in 0..nvars {
                let col: Vec<f64> = data.iter().map(|d| d[k * nvars + v]).collect();
                let n = col.len() as f64;
                let mean = col.iter().sum::<f64>() / n;
                let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
                let st = sum.stats(k, v);
                assert_eq!(st.n, npaths as u64);
                assert!(
                    (st.mean - mean).abs() <= 1e-12 * mean.abs().max(1.0),
                    "{st:?}"
                );
                assert!((st.sd - var.sqrt()).abs() <= 1e-9 * var.sqrt(), "{st:?}");
                let min = col.iter().copied().fold(f64::INFINITY, f64::min);
                let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                assert_eq!((st.min, st.max), (min, max));
            }
        }
    }

    #[test]
    fn nonfinite_values_are_skipped_and_counted() {
        let mut sum = Summary::new(1, 2);
        sum.push(&[1.0, f64::NAN]);
        sum.push(&[f64::NAN, f64::NAN]);
        sum.push(&[3.0, f64::INFINITY]);
        sum.push(&[f64::NEG_INFINITY, 4.0]);
        let x = sum.stats(0, 0);
        assert_eq!((x.n, x.nonfinite), (2, 2));
        assert_eq!((x.mean, x.min, x.max), (2.0, 1.0, 3.0));
        assert_eq!(x.sd, 2f64.sqrt());
        assert_eq!(sum.quantile(0, 0, 1), 2.0);
        let y = sum.stats(0, 1);
        assert_eq!((y.n, y.nonfinite, y.mean), (1, 3, 4.0));
        assert!(y.sd.is_nan());
        let mut empty = Summary::new(1, 1);
        empty.push(&[f64::NAN]);
        let e = empty.stats(0, 0);
        assert!(e.n == 0 && e.mean.is_nan() && e.min.is_nan() && e.max.is_nan());
        assert!(empty.quantile(0, 0, 0).is_nan());
    }

    #[test]
    fn same_input_same_bits() {
        let mut s = 9;
        let data: Vec<Vec<f64>> = (0..300)
            .map(|_| (0..4).map(|_| uniform(&mut s).ln()).collect())
            .collect();
        let run = || {
            let mut sum = Summary::new(2, 2);
            data.iter().for_each(|d| sum.push(d));
            let mut csv = Vec::new();
            sum.to_csv(&mut csv, &info(2, 2, 300)).unwrap();
            csv
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn batches_give_the_same_bits() {
        // More paths than one internal batch, so that merges happen mid-stream.
        let (ntimes, nvars, npaths) = (11, 3, BATCH_PATHS + 300);
        let mut s = 12;
        let data: Vec<f64> = (0..ntimes * nvars * npaths)
            .map(|i| {
                if i % 97 == 0 {
                    f64::NAN
                } else {
                    uniform(&mut s).ln()
                }
            })
            .collect();
        for probs in [&[0.05, 0.5, 0.95][..], &[0.3], &[]] {
            let mut one = Summary::with_quantiles(ntimes, nvars, probs).unwrap();
            data.chunks(ntimes * nvars).for_each(|d| one.push(d));
            let mut batched = Summary::with_quantiles(ntimes, nvars, probs).unwrap();
            // Uneven batches.
            let (a, b) = data.split_at(ntimes * nvars * 37);
            batched.push_batch(a);
            batched.push_batch(b);
            assert_eq!(batched.paths(), one.paths());
            let csv = |sum: &Summary| {
                let mut out = Vec::new();
                sum.to_csv(&mut out, &info(nvars, ntimes, npaths)).unwrap();
                out
            };
            assert_eq!(csv(&one), csv(&batched));
        }
    }

    #[test]
    fn moments_across_batch_merges_match_two_pass() {
        let n = 3 * BATCH_PATHS + 17;
        let mut s = 8;
        // Far from zero with a small spread: where a naive sum of squares would cancel.
        let xs: Vec<f64> = (0..n).map(|_| 1e8 + uniform(&mut s)).collect();
        let mut sum = Summary::new(1, 1);
        xs.iter().for_each(|&x| sum.push(&[x]));
        // The reference mean, shifted so that it is exact to rounding.
        let mean = 1e8 + xs.iter().map(|x| x - 1e8).sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let st = sum.stats(0, 0);
        assert_eq!(st.n, n as u64);
        assert!(
            (st.mean - mean).abs() <= 1e-15 * mean,
            "{} vs {mean}",
            st.mean
        );
        assert!(
            (st.sd - var.sqrt()).abs() <= 1e-7 * var.sqrt(),
            "{} vs {}",
            st.sd,
            var.sqrt()
        );
    }

    fn filled(paths: usize) -> (Summary, RunInfo) {
        let mut info = info(2, 3, paths + 1);
        info.dropped = vec![paths];
        let mut sum = Summary::new(3, 2);
        let mut s = 4;
        for i in 0..paths {
            let v: Vec<f64> = (0..6)
                .map(|c| {
                    if i == 0 && c == 5 {
                        f64::NAN
                    } else {
                        uniform(&mut s) * c as f64
                    }
                })
                .collect();
            sum.push(&v);
        }
        (sum, info)
    }

    #[test]
    fn csv_round_trips() {
        let (sum, info) = filled(40);
        let mut buf = Vec::new();
        sum.to_csv(&mut buf, &info).unwrap();
        let text = String::from_utf8(buf).unwrap();
        for line in [
            "# model: Ornstein",
            "# seed: 42",
            "# param: theta = 0.7",
            "# dropped: 40",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            rows[0],
            "time,variable,n,mean,sd,q05,q50,q95,min,max,nonfinite"
        );
        assert_eq!(rows.len(), 1 + 6);
        let bits = |s: &str| s.parse::<f64>().unwrap().to_bits();
        for (r, row) in rows[1..].iter().enumerate() {
            let (k, v) = (r / 2, r % 2);
            // The variable name "y[1, 2]" is quoted: split around it.
            let row = row.replace("\"y[1, 2]\"", "y12");
            let f: Vec<&str> = row.split(',').collect();
            assert_eq!(f.len(), 11);
            assert_eq!(bits(f[0]), info.times[k].to_bits());
            assert_eq!(f[1], ["x", "y12"][v]);
            let st = sum.stats(k, v);
            assert_eq!(f[2].parse::<u64>().unwrap(), st.n);
            assert_eq!(bits(f[3]), st.mean.to_bits());
            assert_eq!(bits(f[4]), st.sd.to_bits());
            for j in 0..3 {
                assert_eq!(bits(f[5 + j]), sum.quantile(k, v, j).to_bits());
            }
            assert_eq!(bits(f[8]), st.min.to_bits());
            assert_eq!(bits(f[9]), st.max.to_bits());
            assert_eq!(f[10].parse::<u64>().unwrap(), st.nonfinite);
        }
        assert!(rows[6].ends_with(",1"), "the NaN is counted: {}", rows[6]);
    }

    #[test]
    fn json_round_trips() {
        let (sum, info) = filled(3);
        let mut buf = Vec::new();
        sum.to_json(&mut buf, &info).unwrap();
        let j: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(j["meta"]["model"], "Ornstein");
        assert_eq!(j["dropped"], serde_json::json!([3]));
        assert_eq!(j["paths"], 3);
        assert_eq!(j["quantiles"], serde_json::json!([0.05, 0.5, 0.95]));
        // serde_json (without `float_roundtrip`) may read a 17-digit number one ulp off; the
        // text is exact (tested through Rust's parser), so compare what it reads of ours.
        let read = |x: f64| -> Value {
            serde_json::from_str(&super::super::JsonNum(x).to_string()).unwrap()
        };
        for (v, name) in info.variables.iter().enumerate() {
            let st = &j["stats"][name];
            for k in 0..3 {
                let c = sum.stats(k, v);
                assert_eq!(st["n"][k], c.n);
                assert_eq!(st["nonfinite"][k], c.nonfinite);
                assert_eq!(st["mean"][k], read(c.mean));
                assert_eq!(st["sd"][k], read(c.sd));
                assert_eq!(st["min"][k], read(c.min));
                assert_eq!(st["max"][k], read(c.max));
                for (jq, qn) in ["q05", "q50", "q95"].iter().enumerate() {
                    assert_eq!(st[qn][k], read(sum.quantile(k, v, jq)));
                }
            }
        }
        // One path: sd undefined → null.
        let (one, info1) = filled(1);
        let mut buf = Vec::new();
        one.to_json(&mut buf, &info1).unwrap();
        let j: Value = serde_json::from_slice(&buf).unwrap();
        assert!(j["stats"]["x"]["sd"][0].is_null());
    }

    #[test]
    fn writes_files_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let (sum, info) = filled(5);
        sum.write_csv(dir.path().join("s.csv"), &info).unwrap();
        sum.write_json(dir.path().join("s.json"), &info).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["s.csv", "s.json"]);
        // A mismatched description is refused, and nothing is left behind.
        let bad = super::super::tests::info(3, 3, 5);
        assert!(sum.write_csv(dir.path().join("t.csv"), &bad).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn quantile_names_and_bad_levels() {
        let names: Vec<String> = [0.05, 0.5, 0.95, 0.025, 0.999, 0.07, 0.1]
            .into_iter()
            .map(quantile_name)
            .collect();
        assert_eq!(names, ["q05", "q50", "q95", "q02.5", "q99.9", "q07", "q10"]);
        assert!(Summary::with_quantiles(1, 1, &[0.5, 1.0]).is_err());
        assert!(Summary::with_quantiles(1, 1, &[f64::NAN]).is_err());
        let s = Summary::with_quantiles(1, 1, &[0.1, 0.9]).unwrap();
        assert_eq!(s.quantile_index(0.9), Some(1));
    }

    #[test]
    fn table_shows_outputs_first_when_not_every_variable_fits() {
        let nvars = TABLE_VARIABLES + 8;
        let mut run = info(nvars, 2, 3);
        run.outputs = 2;
        let mut sum = Summary::new(2, nvars);
        (0..3).for_each(|_| sum.push(&vec![1.0; 2 * nvars]));
        let text = sum.table(&run, 2);
        let names: Vec<&str> = text
            .lines()
            .skip(2)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let last = format!("v{}", nvars - 1);
        // The two outputs, then the first state components, each at two times.
        assert_eq!(names[0], format!("v{}", nvars - 2));
        assert_eq!(names[2], last);
        assert_eq!(names[4], "x");
        assert!(text.contains("… and 8 more variables"), "{text}");
        // Everything fits: the natural order, no note.
        let mut small = info(3, 2, 3);
        small.outputs = 1;
        let mut sum = Summary::new(2, 3);
        (0..3).for_each(|_| sum.push(&[1.0; 6]));
        let text = sum.table(&small, 2);
        assert!(
            text.lines().nth(2).is_some_and(|l| l.starts_with('x')),
            "{text}"
        );
        assert!(!text.contains("more variable"));
    }

    #[test]
    fn table_is_aligned_and_sampled() {
        let mut info = info(2, 11, 10);
        info.times = (0..11).map(|k| k as f64 / 10.0).collect();
        let mut sum = Summary::new(11, 2);
        let mut s = 8;
        for _ in 0..10 {
            let v: Vec<f64> = (0..22).map(|_| uniform(&mut s) * 1234.5).collect();
            sum.push(&v);
        }
        let t = sum.table(&info, 3);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("Ornstein: 10 paths, method euler, dt 0.01"),
            "{t}"
        );
        assert!(
            lines[1].starts_with("variable") && lines[1].contains("q95"),
            "{t}"
        );
        assert!(!lines[1].contains("nonfinite"));
        assert_eq!(lines.len(), 2 + 2 * 3 + 1, "{t}");
        assert_eq!(
            lines[8],
            "(3 of 11 recording times shown, evenly spaced; all of them are in the files --out writes)"
        );
        let lines = &lines[..8];
        // Times 0, 0.5, 1 for each variable.
        let times: Vec<&str> = lines[2..]
            .iter()
            .map(|l| l.split_whitespace().rev().nth(8).unwrap())
            .collect();
        assert_eq!(times, ["0", "0.5", "1", "0", "0.5", "1"], "{t}");
        assert!(lines[5].starts_with("y[1, 2]"));
        // Right-aligned numbers end in the same column.
        let width = lines[1].len();
        assert!(lines[2..].iter().all(|l| l.len() == width), "{t}");
    }

    #[test]
    fn general_format() {
        assert_eq!(fmt_g(0.0), "0");
        assert_eq!(fmt_g(1.0), "1");
        assert_eq!(fmt_g(-0.123456789), "-0.123457");
        assert_eq!(fmt_g(123456.7), "123457");
        assert_eq!(fmt_g(999999.7), "1e6");
        assert_eq!(fmt_g(1.5e-7), "1.5e-7");
        assert_eq!(fmt_g(2.0e12), "2e12");
        assert_eq!(fmt_g(f64::NAN), "NaN");
        assert_eq!(evenly_spaced(5, 0), Vec::<usize>::new());
        assert_eq!(evenly_spaced(5, 1), [4]);
        assert_eq!(evenly_spaced(5, 9), [0, 1, 2, 3, 4]);
        assert_eq!(evenly_spaced(101, 5), [0, 25, 50, 75, 100]);
    }
}

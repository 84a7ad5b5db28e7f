//! The observed time series of a state-space model: the `obs` declarations bound to a
//! time-indexed table from the data file ([`bind_observations`]), or drawn from a simulated
//! path ([`draw_observations`]) and written as a data file ([`write_observations`]).

mod binding;
mod draw;
mod file;

pub use binding::bind_observations;
pub use draw::{draw_observations, observation_rng};
pub use file::{check_observations_path, write_observations};

use crate::sim::bind::SlotSpan;

/// Observations at increasing times, one row per time laid out as the `observe` kernel
/// reads its `aux` buffer (the layout's `obs` slots, scalars first). A missing value is NaN;
/// the `observe` kernel leaves it out of the log density.
#[derive(Clone, Debug, PartialEq)]
pub struct ObsSeries {
    /// Observation times: finite, ≥ 0, strictly increasing.
    pub times: Vec<f64>,
    /// `times.len() × width` values, row-major.
    pub rows: Vec<f64>,
    /// Values per row.
    pub width: usize,
    /// The name of each column (`y`, `counts[2]`, …).
    pub names: Vec<String>,
}

impl ObsSeries {
    /// The observation row at time index `k`.
    pub fn row(&self, k: usize) -> &[f64] {
        &self.rows[k * self.width..(k + 1) * self.width]
    }

    /// Number of observation times.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// A tenth of the shortest gap between consecutive observation times (from t = 0): the
    /// default SDE step of the particle filter.
    pub fn default_step(&self) -> f64 {
        let mut last = 0.0;
        let mut gap = f64::INFINITY;
        for &t in &self.times {
            if t > last {
                gap = gap.min(t - last);
            }
            last = t;
        }
        if gap.is_finite() { gap / 10.0 } else { 0.1 }
    }
}

/// The name of each value of an observation row: `y`, or `v[1]`, `v[2]`, … (`m[1,2]`) for an
/// array, 1-based like the language (and the columns of a CSV data file).
fn column_names(spans: &[SlotSpan]) -> Vec<String> {
    let mut names = Vec::new();
    for span in spans {
        if span.dims.is_empty() {
            names.push(span.name.clone());
            continue;
        }
        for flat in 0..span.len() {
            let mut idx = vec![0; span.dims.len()];
            let mut rest = flat;
            for (k, &n) in span.dims.iter().enumerate().rev() {
                idx[k] = rest % n + 1;
                rest /= n;
            }
            let idx: Vec<String> = idx.iter().map(usize::to_string).collect();
            names.push(format!("{}[{}]", span.name, idx.join(",")));
        }
    }
    names
}

//! The observed time series of a state-space model: the `obs` declarations bound to a
//! time-indexed table from the data file.

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
}

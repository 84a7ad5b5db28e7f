//! What the schemes share about a system: sizes, the diffusion's sparsity pattern sorted
//! by noise column, and the loops that apply it to a batch.

use super::Unfit;
use crate::sim::{NoiseKind, SdeSystem};

pub(super) struct Layout {
    pub nx: usize,
    pub nw: usize,
    pub kind: NoiseKind,
    /// `pattern()`: entry `e` is `g[i][k]` for `entries[e] = (i, k)`.
    pub entries: Vec<(usize, usize)>,
    /// Entry indices grouped by noise column: column `k`'s are
    /// `by_col[col_start[k]..col_start[k + 1]]`.
    by_col: Vec<usize>,
    col_start: Vec<usize>,
}

impl Layout {
    pub fn of(sys: &dyn SdeSystem) -> Result<Layout, Unfit> {
        let nx = sys.dim();
        let nw = sys.noise_dim();
        let mut entries = sys.pattern().to_vec();
        if nw == 0 {
            entries.clear(); // an ODE has no diffusion entries, whatever `pattern` says
        }
        if entries.iter().any(|&(i, k)| i >= nx || k >= nw) {
            return Err(Unfit(
                "internal error: the model's noise pattern names a component out of range".into(),
            ));
        }
        let mut col_start = vec![0; nw + 1];
        for &(_, k) in &entries {
            col_start[k + 1] += 1;
        }
        for k in 0..nw {
            col_start[k + 1] += col_start[k];
        }
        let mut fill = col_start.clone();
        let mut by_col = vec![0; entries.len()];
        for (e, &(_, k)) in entries.iter().enumerate() {
            by_col[fill[k]] = e;
            fill[k] += 1;
        }
        let kind = if nw == 0 {
            NoiseKind::None
        } else {
            sys.noise_kind()
        };
        Ok(Layout {
            nx,
            nw,
            kind,
            entries,
            by_col,
            col_start,
        })
    }

    pub fn np(&self) -> usize {
        self.entries.len()
    }

    /// The batch size of a state slice.
    pub fn nb(&self, x: &[f64]) -> usize {
        x.len().checked_div(self.nx).unwrap_or(0)
    }

    pub fn is_ode(&self) -> bool {
        self.kind == NoiseKind::None || self.entries.is_empty()
    }

    pub fn is_additive(&self) -> bool {
        matches!(self.kind, NoiseKind::None | NoiseKind::Additive) || self.entries.is_empty()
    }

    /// Every state component is driven by at most one noise component (scalar and diagonal
    /// noise): then the diffusion's row sums are its columns' entries, so one derivative
    /// along them gives every L^k g_ik when the noise commutes.
    pub fn one_entry_per_state(&self) -> bool {
        let mut seen = vec![false; self.nx];
        self.entries
            .iter()
            .all(|&(i, _)| !std::mem::replace(&mut seen[i], true))
    }

    /// The entries of noise column `k`.
    pub fn column(&self, k: usize) -> &[usize] {
        &self.by_col[self.col_start[k]..self.col_start[k + 1]]
    }

    /// `out_i += s · Σ_k g_ik w_k` for every path (`w` holds `nb * nw` values).
    pub fn add_gw(&self, g: &[f64], w: &[f64], s: f64, out: &mut [f64]) {
        let (nx, nw, np) = (self.nx, self.nw, self.np());
        if np == 0 {
            return;
        }
        let paths = out.chunks_exact_mut(nx).zip(g.chunks_exact(np));
        for ((out, g), w) in paths.zip(w.chunks_exact(nw)) {
            for (&(i, k), &ge) in self.entries.iter().zip(g) {
                out[i] += s * ge * w[k];
            }
        }
    }

    /// `out_i += s · Σ_k g_ik` for every path: the row sums, scaled.
    pub fn add_rows(&self, g: &[f64], s: f64, out: &mut [f64]) {
        let (nx, np) = (self.nx, self.np());
        if np == 0 {
            return;
        }
        for (out, g) in out.chunks_exact_mut(nx).zip(g.chunks_exact(np)) {
            for (&(i, _), &ge) in self.entries.iter().zip(g) {
                out[i] += s * ge;
            }
        }
    }

    /// `v` = column `k` of G, per path (zero elsewhere).
    pub fn column_vector(&self, k: usize, g: &[f64], v: &mut [f64]) {
        let (nx, np) = (self.nx, self.np());
        v.fill(0.0);
        if np == 0 {
            return;
        }
        for (v, g) in v.chunks_exact_mut(nx).zip(g.chunks_exact(np)) {
            for &e in self.column(k) {
                v[self.entries[e].0] += g[e];
            }
        }
    }
}

/// Resize a scratch buffer to `n` values (allocates only when the batch grows).
pub(super) fn fit(buf: &mut Vec<f64>, n: usize) {
    if buf.len() != n {
        buf.resize(n, 0.0);
    }
}

/// `y = x + s·v`, elementwise.
pub(super) fn axpy_into(y: &mut [f64], x: &[f64], s: f64, v: &[f64]) {
    for ((y, &x), &v) in y.iter_mut().zip(x).zip(v) {
        *y = x + s * v;
    }
}

/// Mark every path of the batch as failed (the runner reports non-finite states).
pub(super) fn poison(x: &mut [f64]) {
    x.fill(f64::NAN);
}

//! Weights and systematic resampling.

/// log Σ exp(v), −∞ for an empty or all −∞ vector.
pub fn log_sum_exp(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY || max.is_nan() {
        return max;
    }
    max + v.iter().map(|&x| (x - max).exp()).sum::<f64>().ln()
}

/// Normalise log weights into `w` (summing to 1); returns log Σ exp(logw). When every
/// weight is zero `w` is left all zero.
pub fn normalise(logw: &[f64], w: &mut [f64]) -> f64 {
    let total = log_sum_exp(logw);
    for (wi, &l) in w.iter_mut().zip(logw) {
        *wi = if total.is_finite() {
            (l - total).exp()
        } else {
            0.0
        };
    }
    total
}

/// Effective sample size 1 / Σ w² of normalised weights.
pub fn ess(w: &[f64]) -> f64 {
    let s: f64 = w.iter().map(|x| x * x).sum();
    if s > 0.0 { 1.0 / s } else { 0.0 }
}

/// Systematic resampling: `ancestors[i]` is the particle that particle `i` copies, for
/// normalised weights `w` and one uniform `u` in [0, 1). Ancestors come out in increasing
/// order, and particle j is copied ⌊N w_j⌋ or ⌈N w_j⌉ times.
pub fn systematic(w: &[f64], u: f64, ancestors: &mut [usize]) {
    let n = ancestors.len();
    let mut cumulative = 0.0;
    let mut j = 0;
    let last = w.len().saturating_sub(1);
    for (i, a) in ancestors.iter_mut().enumerate() {
        let target = (i as f64 + u) / n as f64;
        while j < last && cumulative + w[j] <= target {
            cumulative += w[j];
            j += 1;
        }
        // Rounding may leave the running sum short of 1: the last particle with weight
        // takes what is left rather than a weightless one.
        while j > 0 && w[j] == 0.0 {
            j -= 1;
        }
        *a = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systematic_copies_floor_or_ceil_of_n_w() {
        let w = [0.1, 0.0, 0.45, 0.3, 0.15];
        for k in 0..50 {
            // Off the grid of N w_j boundaries, where rounding decides ties.
            let u = (k as f64 + 0.37) / 50.0;
            let mut a = vec![0; 20];
            systematic(&w, u, &mut a);
            assert!(a.windows(2).all(|p| p[0] <= p[1]));
            for (j, &wj) in w.iter().enumerate() {
                let copies = a.iter().filter(|&&x| x == j).count() as f64;
                let expected = 20.0 * wj;
                assert!(
                    copies >= expected.floor() && copies <= expected.ceil(),
                    "u = {u}: particle {j} copied {copies} times for N w = {expected}"
                );
            }
        }
    }

    #[test]
    fn zero_weights_are_never_chosen() {
        let w = [0.0, 0.5, 0.0, 0.5, 0.0];
        let mut a = vec![0; 7];
        for k in 0..20 {
            systematic(&w, k as f64 / 20.0, &mut a);
            assert!(a.iter().all(|&j| j == 1 || j == 3), "{a:?}");
        }
    }

    #[test]
    fn log_sum_exp_and_ess() {
        let l = [1000.0, 1000.0 + 2f64.ln()];
        assert!((log_sum_exp(&l) - (1000.0 + 3f64.ln())).abs() < 1e-12);
        let mut w = [0.0; 2];
        normalise(&l, &mut w);
        assert!((w[0] - 1.0 / 3.0).abs() < 1e-12);
        assert!((ess(&w) - 1.0 / (1.0 / 9.0 + 4.0 / 9.0)).abs() < 1e-12);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
    }
}

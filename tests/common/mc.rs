//! Reading `ito run`'s CSV files and comparing Monte Carlo estimates with exact values,
//! with tolerances from the standard errors of the estimates.
// Each test crate uses a part of this module.
#![allow(dead_code)]

/// One row of a summary file (`--summary --out f.csv`).
#[derive(Clone, Debug)]
pub struct Stat {
    pub time: f64,
    pub variable: String,
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub q05: f64,
    pub q50: f64,
    pub q95: f64,
    pub min: f64,
    pub max: f64,
    pub nonfinite: usize,
}

/// The rows of a summary CSV, after its `#` header lines and column line.
pub fn parse_summary(text: &str) -> Vec<Stat> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("time,variable,n,mean,sd,q05,q50,q95,min,max,nonfinite"),
        "summary columns"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 11, "summary row {l:?}");
            let num = |i: usize| -> f64 {
                f[i].parse()
                    .unwrap_or_else(|_| panic!("field {i} of {l:?}"))
            };
            Stat {
                time: num(0),
                variable: f[1].to_string(),
                n: f[2].parse().unwrap(),
                mean: num(3),
                sd: num(4),
                q05: num(5),
                q50: num(6),
                q95: num(7),
                min: num(8),
                max: num(9),
                nonfinite: f[10].parse().unwrap(),
            }
        })
        .collect()
}

/// The row of `variable` at `time`.
pub fn stat<'a>(rows: &'a [Stat], variable: &str, time: f64) -> &'a Stat {
    rows.iter()
        .find(|s| s.variable == variable && (s.time - time).abs() <= 1e-9 * time.max(1.0))
        .unwrap_or_else(|| panic!("no summary row for {variable} at t = {time}"))
}

/// A long paths CSV (`path,time,variable,value`), by variable and time.
pub struct Paths {
    series: Vec<(String, f64, Vec<f64>)>,
}

impl Paths {
    pub fn parse(text: &str) -> Paths {
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        assert_eq!(
            lines.next(),
            Some("path,time,variable,value"),
            "paths columns"
        );
        let mut series: Vec<(String, f64, Vec<f64>)> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for l in lines {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "paths row {l:?}");
            let key = (f[2].to_string(), f[1].to_string());
            let i = *index.entry(key).or_insert_with(|| {
                series.push((f[2].to_string(), f[1].parse().unwrap(), Vec::new()));
                series.len() - 1
            });
            let path: usize = f[0].parse().unwrap();
            assert_eq!(path, series[i].2.len(), "paths in order: {l:?}");
            series[i].2.push(f[3].parse().unwrap());
        }
        Paths { series }
    }

    /// The values of `variable` at `time`, in path order.
    pub fn at(&self, variable: &str, time: f64) -> &[f64] {
        self.series
            .iter()
            .find(|(v, t, _)| v == variable && (t - time).abs() <= 1e-9 * time.max(1.0))
            .map(|(_, _, xs)| xs.as_slice())
            .unwrap_or_else(|| panic!("no values of {variable} at t = {time}"))
    }
}

/// Tolerance in standard errors. Each test file makes a few hundred comparisons at most;
/// P(|Z| > 4) = 6.3e-5 each, so a correct engine fails one by chance with probability
/// about 1 % over the whole suite (and with fixed seeds, never intermittently).
pub const Z: f64 = 4.0;

/// The sample mean in `s` against the exact mean and variance of the variable: within
/// Z standard errors sqrt(var / n). A variable with zero variance must match exactly.
pub fn check_mean(what: &str, s: &Stat, mean: f64, var: f64) {
    assert_eq!(s.nonfinite, 0, "{what}: non-finite values");
    if var <= 1e-12 * mean.abs().max(1.0) {
        assert!(
            (s.mean - mean).abs() <= 1e-9 * mean.abs().max(1.0) && s.sd == 0.0,
            "{what} at t = {}: exact value {mean}, got mean {} sd {}",
            s.time,
            s.mean,
            s.sd
        );
        return;
    }
    let se = (var / s.n as f64).sqrt();
    assert!(
        (s.mean - mean).abs() <= Z * se,
        "{what} at t = {}: mean {} vs exact {mean} (off by {:.2} standard errors of {se:.4})",
        s.time,
        s.mean,
        (s.mean - mean) / se
    );
}

/// The sample variance (sd², with the n − 1 divisor) against the exact variance, with the
/// exact fourth central moment mu4: Var(s²) = mu4 / n − σ⁴ (n − 3) / (n (n − 1)).
pub fn check_var(what: &str, s: &Stat, var: f64, mu4: f64) {
    let se = var_se(s.n, var, mu4);
    if se <= 1e-12 * var.max(1.0) {
        assert!(
            s.sd == 0.0 && var.abs() <= 1e-12,
            "{what} at t = {}: exact variance {var}, got sd {}",
            s.time,
            s.sd
        );
        return;
    }
    let got = s.sd * s.sd;
    assert!(
        (got - var).abs() <= Z * se,
        "{what} at t = {}: variance {got} vs exact {var} (off by {:.2} standard errors of {se:.4})",
        s.time,
        (got - var) / se
    );
}

/// Standard error of the sample variance of n draws from a law with variance `var` and
/// fourth central moment `mu4`.
pub fn var_se(n: usize, var: f64, mu4: f64) -> f64 {
    let n = n as f64;
    (mu4 / n - var * var * (n - 3.0) / (n * (n - 1.0)))
        .max(0.0)
        .sqrt()
}

/// Mean, variance and fourth central moment from the first four cumulants.
pub fn from_cumulants(k1: f64, k2: f64, k4: f64) -> (f64, f64, f64) {
    (k1, k2, k4 + 3.0 * k2 * k2)
}

/// The Kolmogorov–Smirnov critical value c(α) = sqrt(−ln(α/2) / 2): D·sqrt(n) (one sample)
/// or D·sqrt(nm/(n+m)) (two samples) exceeds it with probability at most about α. For
/// integer-valued data the test is conservative (the true level is below α).
pub fn ks_critical(alpha: f64) -> f64 {
    (-(alpha / 2.0).ln() / 2.0).sqrt()
}

/// The level used with `ks_critical`: about the two-sided level of `Z`.
pub const KS_ALPHA: f64 = 1e-4;

/// Two-sample KS statistic: the largest gap between the empirical distribution functions.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> f64 {
    let mut xs: Vec<f64> = a.iter().chain(b).cloned().collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let cdf = |v: &[f64], x: f64| v.iter().filter(|&&y| y <= x).count() as f64 / v.len() as f64;
    xs.iter()
        .map(|&x| (cdf(a, x) - cdf(b, x)).abs())
        .fold(0.0, f64::max)
}

/// One-sample KS statistic against an integer distribution given as (value, probability).
pub fn ks_against_pmf(sample: &[f64], pmf: &std::collections::BTreeMap<i64, f64>) -> f64 {
    let n = sample.len() as f64;
    let mut cum = 0.0;
    let mut d: f64 = 0.0;
    for (&x, &p) in pmf {
        cum += p;
        let emp = sample.iter().filter(|&&y| y <= x as f64).count() as f64 / n;
        d = d.max((emp - cum).abs());
    }
    // Values outside the support of the exact law count fully.
    let outside = sample
        .iter()
        .filter(|&&y| !pmf.contains_key(&(y as i64)) || y.fract() != 0.0)
        .count();
    d.max(outside as f64 / n)
}

/// The summary statistics that matter here (n, mean, sd with the n − 1 divisor, min, max)
/// of a sample, e.g. values read from a paths file.
pub fn stat_of(variable: &str, time: f64, values: &[f64]) -> Stat {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let ss = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    Stat {
        time,
        variable: variable.to_string(),
        n,
        mean,
        sd: (ss / (n as f64 - 1.0)).sqrt(),
        q05: f64::NAN,
        q50: f64::NAN,
        q95: f64::NAN,
        min,
        max,
        nonfinite: values.iter().filter(|v| !v.is_finite()).count(),
    }
}

//! What a filter run shows: the terminal table, the CSV of the filtering distribution per
//! observation time, and the spread of repeated log-likelihood estimates.

use super::bootstrap::FilterRun;
use crate::sim::observations::ObsSeries;
use crate::sim::output::summary::quantile_name;
use std::fmt::Write as _;

/// The CSV: one row per observation time with the observed values (empty when missing),
/// the effective sample size, whether the particles were resampled, the log-likelihood
/// increment, then mean, sd and quantiles of every variable.
pub fn csv(run: &FilterRun, series: &ObsSeries, variables: &[String], levels: &[f64]) -> String {
    let mut out = String::from("time");
    for name in &series.names {
        let _ = write!(out, ",{}", quoted(name));
    }
    out.push_str(",ess,resampled,log_likelihood");
    for v in variables {
        for stat in ["mean", "sd"]
            .into_iter()
            .map(String::from)
            .chain(levels.iter().map(|&q| quantile_name(q)))
        {
            let _ = write!(out, ",{}", quoted(&format!("{v}_{stat}")));
        }
    }
    out.push('\n');
    for (k, step) in run.steps.iter().enumerate() {
        let _ = write!(out, "{}", step.t);
        for &y in series.row(k) {
            if y.is_nan() {
                out.push(',');
            } else {
                let _ = write!(out, ",{y}");
            }
        }
        let _ = write!(
            out,
            ",{},{},{}",
            step.ess,
            u8::from(step.resampled),
            step.log_likelihood
        );
        if let Some(f) = &step.filtered {
            for v in 0..variables.len() {
                let _ = write!(out, ",{},{}", f.mean[v], f.sd[v]);
                for q in 0..levels.len() {
                    let _ = write!(out, ",{}", f.quantiles[v * levels.len() + q]);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma or a quote.
fn quoted(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The terminal table: time, observations, ESS and mean [5 %, 95 %] of the first few
/// variables; long series show their first and last rows.
pub fn table(run: &FilterRun, series: &ObsSeries, variables: &[String], levels: &[f64]) -> String {
    const MAX_VARS: usize = 4;
    const HEAD: usize = 10;
    const TAIL: usize = 5;
    let lo = levels.iter().position(|&q| q == 0.05);
    let hi = levels.iter().position(|&q| q == 0.95);
    let shown = variables.len().min(MAX_VARS);
    let mut header: Vec<String> = vec!["time".to_string()];
    header.extend(series.names.iter().cloned());
    header.push("ESS".to_string());
    header.extend(
        variables[..shown]
            .iter()
            .map(|v| format!("{v} mean [5%, 95%]")),
    );
    let mut rows = vec![header];
    let n = run.steps.len();
    for (k, step) in run.steps.iter().enumerate() {
        if n > HEAD + TAIL && k == HEAD {
            rows.push(vec!["…".to_string()]);
        }
        if n > HEAD + TAIL && (HEAD..n - TAIL).contains(&k) {
            continue;
        }
        let mut row = vec![format!("{}", step.t)];
        row.extend(series.row(k).iter().map(|&y| {
            if y.is_nan() {
                "–".to_string()
            } else {
                short(y)
            }
        }));
        row.push(format!("{:.0}", step.ess));
        if let Some(f) = &step.filtered {
            for v in 0..shown {
                let band = match (lo, hi) {
                    (Some(a), Some(b)) => format!(
                        " [{}, {}]",
                        short(f.quantiles[v * levels.len() + a]),
                        short(f.quantiles[v * levels.len() + b])
                    ),
                    _ => String::new(),
                };
                row.push(format!("{}{band}", short(f.mean[v])));
            }
        }
        rows.push(row);
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(s, &w)| format!("{s:>w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if variables.len() > MAX_VARS {
        let _ = writeln!(
            out,
            "(first {MAX_VARS} of {} variables; --out writes them all)",
            variables.len()
        );
    }
    out
}

/// Four significant digits (whole numbers as they are).
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (x.fract() == 0.0 && x.abs() < 1e9) {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    if x.abs() >= 1e6 || x.abs() < 1e-3 {
        format!("{x:.3e}")
    } else {
        format!("{x:.digits$}")
    }
}

/// The fewest particles the advice suggests (below, the 1/P scaling is not to be trusted).
const MIN_SUGGESTED: f64 = 100.0;

/// The spread of log-likelihood estimates from repeated runs, and the number of particles
/// that would bring their standard deviation to about 1.2, where PMMH is most efficient
/// for its cost (Doucet, Pitt, Deligiannidis & Kohn, Biometrika 102:295, 2015). The
/// variance falls like 1/particles.
pub fn repeat_summary(estimates: &[f64], particles: usize) -> String {
    let n = estimates.len() as f64;
    let mean = estimates.iter().sum::<f64>() / n;
    let sd = (estimates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let min = estimates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = estimates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut out = format!(
        "log-likelihood over {} runs: mean {mean:.3}, sd {sd:.3} (min {min:.3}, max {max:.3})\n",
        estimates.len()
    );
    if sd > 0.0 && sd.is_finite() {
        let suggested = (particles as f64 * (sd / 1.2).powi(2)).ceil().max(1.0);
        if suggested >= particles as f64 {
            let _ = writeln!(
                out,
                "  PMMH mixes best for its cost near sd 1.2: about {suggested} particles would give that"
            );
        } else {
            // The 1/P scaling is asymptotic: it does not hold down to a handful of particles.
            let floor = MIN_SUGGESTED.min(particles as f64);
            let _ = writeln!(
                out,
                "  PMMH mixes best for its cost near sd 1.2, reached here with fewer particles (1/P scaling suggests {}; check the sd again there)",
                suggested.max(floor)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_particles_scale_with_variance() {
        // sd 2.4 at 100 particles: variance 4× the target, so 400 particles.
        let e = [-10.0 - 2.4, -10.0 + 2.4, -10.0 - 2.4, -10.0 + 2.4];
        let sd = 2.4 * (4.0f64 / 3.0).sqrt();
        let text = repeat_summary(&e, 100);
        let want = (100.0 * (sd / 1.2f64).powi(2)).ceil();
        assert!(text.contains(&format!("about {want} particles")), "{text}");
        // A tiny sd: fewer particles, but not fewer than 100.
        let e = [-10.05, -9.95, -10.05, -9.95];
        let text = repeat_summary(&e, 2000);
        assert!(text.contains("1/P scaling suggests 100;"), "{text}");
    }
}

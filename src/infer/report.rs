//! What `ito infer` reports after sampling: the summary of every column across chains and
//! the warnings a Stan user expects (divergences, tree depth, R-hat, ESS).

use super::chain::{ChainResult, Config, Method};
use super::diagnostics::{self, ParamSummary};

/// `lp__`, then every parameter and output column, summarised over all chains.
pub fn summaries(columns: &[String], results: &[ChainResult]) -> Vec<(String, ParamSummary)> {
    let lp: Vec<Vec<f64>> = results
        .iter()
        .map(|r| r.stats.iter().map(|s| s.lp).collect())
        .collect();
    let mut rows = vec![("lp__".to_string(), summarize(&lp))];
    for (k, name) in columns.iter().enumerate() {
        let chains: Vec<Vec<f64>> = results
            .iter()
            .map(|r| r.rows.iter().map(|row| row[k]).collect())
            .collect();
        rows.push((name.clone(), summarize(&chains)));
    }
    rows
}

fn summarize(chains: &[Vec<f64>]) -> ParamSummary {
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    diagnostics::summarize(&refs)
}

/// Warnings about the run, each a sentence.
pub fn warnings(
    config: &Config,
    results: &[ChainResult],
    rows: &[(String, ParamSummary)],
) -> Vec<String> {
    let mut out = Vec::new();
    let draws: usize = results.iter().map(|r| r.stats.len()).sum();
    let divergent: usize = results
        .iter()
        .flat_map(|r| &r.stats)
        .filter(|s| s.divergent)
        .count();
    if divergent > 0 && config.method == Method::Pmmh {
        out.push(format!(
            "{divergent} of {draws} proposals after warm-up had a likelihood estimate of zero (every particle had weight zero at some observation) and were rejected: use more particles (--particles), or an observation model with heavier tails"
        ));
    } else if divergent > 0 && matches!(config.method, Method::Ula | Method::Baoab) {
        out.push(format!(
            "{divergent} of {draws} draws after warm-up were not finite: the step is beyond the scheme's stability limit (lower --step)"
        ));
    } else if divergent > 0 && config.method != Method::Mh {
        out.push(format!(
            "{divergent} of {draws} draws after warm-up were divergent: the posterior has regions the step size cannot resolve (reparameterise, e.g. non-centred, or raise --target-accept)"
        ));
    }
    if config.method == Method::Pmmh && draws > 0 {
        let acceptance = results
            .iter()
            .flat_map(|r| &r.stats)
            .map(|s| s.accept_stat)
            .sum::<f64>()
            / draws as f64;
        if acceptance < 0.05 {
            out.push(format!(
                "the acceptance rate after warm-up is {:.1} %: the likelihood estimate is probably too noisy and the chains stick; use more particles (`ito filter --repeat 20` shows the sd of the log-likelihood estimate: aim for 1–1.5)",
                100.0 * acceptance
            ));
        }
    }
    if config.method == Method::Nuts {
        let capped = results
            .iter()
            .flat_map(|r| &r.stats)
            .filter(|s| s.tree_depth >= config.max_depth)
            .count();
        if capped > 0 {
            out.push(format!(
                "{capped} of {draws} draws hit the maximum tree depth {}: trajectories were cut short (raise --max-depth)",
                config.max_depth
            ));
        }
    }
    let high: Vec<&str> = rows
        .iter()
        .filter(|(_, s)| s.rhat > 1.01)
        .map(|(n, _)| n.as_str())
        .collect();
    if !high.is_empty() {
        out.push(format!(
            "R-hat is above 1.01 for {}: the chains have not mixed; run longer or check the model",
            list(&high)
        ));
    }
    let low: Vec<&str> = rows
        .iter()
        .filter(|(_, s)| {
            s.ess_bulk < 100.0 * config.chains.min(4) as f64
                || s.ess_tail < 100.0 * config.chains.min(4) as f64
        })
        .map(|(n, _)| n.as_str())
        .collect();
    if !low.is_empty() && config.chains > 1 {
        out.push(format!(
            "the effective sample size is below 100 per chain for {}: estimates of means and quantiles are unreliable",
            list(&low)
        ));
    }
    out
}

fn list(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

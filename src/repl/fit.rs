//! `:infer`: sample the posterior of the current model's parameters, as `ito infer` does —
//! NUTS (or HMC, MALA, random-walk Metropolis) for a graphical model, PMMH with a bootstrap
//! particle filter for a state-space model — and report the summary table.

use crate::check::model::ModelKind;
use crate::filter::{Engine, FilterModel, Stepping};
use crate::infer::chain::{self, Config, Method};
use crate::infer::density::{self, Posterior};
use crate::infer::{diagnostics, pmmh, report, stan_csv, table};
use crate::sim::bind;
use crate::sim::observations::bind_observations;
use crate::sim::prepare;
use crate::sim::schemes::Tolerances;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const MAX_ITERATIONS: usize = 100_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct InferOptions {
    /// Default: nuts for graphical models, pmmh for state-space ones.
    pub method: Option<String>,
    pub chains: usize,
    pub warmup: usize,
    pub draws: usize,
    /// PMMH: particles per filter.
    pub particles: usize,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            method: None,
            chains: 4,
            warmup: 1000,
            draws: 1000,
            particles: 256,
            seed: None,
            threads: None,
        }
    }
}

/// The option names, for completion.
pub const OPTION_NAMES: [&str; 7] = [
    "method",
    "chains",
    "warmup",
    "draws",
    "particles",
    "seed",
    "threads",
];

impl InferOptions {
    /// These options with `key=value` words applied.
    pub fn with(&self, words: &str) -> Result<InferOptions, String> {
        let mut o = self.clone();
        for word in words.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                return Err(format!(
                    "`{word}`: :infer takes options as key=value ({})",
                    OPTION_NAMES.join(", ")
                ));
            };
            let default = value == "auto" || value == "default";
            match key {
                "method" => o.method = (!default).then(|| value.to_string()),
                "chains" => o.chains = count(key, value, 10_000)?,
                "warmup" => o.warmup = whole(key, value, MAX_ITERATIONS)?,
                "draws" => o.draws = count(key, value, MAX_ITERATIONS)?,
                "particles" => o.particles = count(key, value, MAX_ITERATIONS)?,
                "seed" => {
                    o.seed = if default {
                        None
                    } else {
                        Some(value.parse().map_err(|_| {
                            format!("seed must be a whole number ≥ 0, not `{value}`")
                        })?)
                    }
                }
                "threads" => {
                    o.threads = if default {
                        None
                    } else {
                        Some(count(key, value, 1024)?)
                    }
                }
                _ => {
                    let hint = crate::check::suggest::did_you_mean(key, OPTION_NAMES)
                        .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
                    return Err(format!(
                        "unknown :infer option `{key}`{hint} (the options are {})",
                        OPTION_NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(o)
    }
}

fn whole(key: &str, value: &str, max: usize) -> Result<usize, String> {
    match value.replace('_', "").parse::<f64>() {
        Ok(v) if v >= 0.0 && v <= max as f64 && v.fract() == 0.0 => Ok(v as usize),
        _ => Err(format!(
            "{key} must be a whole number from 0 to {max}, not `{value}`"
        )),
    }
}

fn count(key: &str, value: &str, max: usize) -> Result<usize, String> {
    match whole(key, value, max) {
        Ok(0) | Err(_) => Err(format!(
            "{key} must be a whole number from 1 to {max}, not `{value}`"
        )),
        Ok(n) => Ok(n),
    }
}

/// What a fit needs from the session.
pub struct Request<'a> {
    pub current: super::Current<'a>,
    pub options: &'a InferOptions,
    pub cancel: &'a AtomicBool,
}

/// Sample the posterior; the report (heading, table, timing and warnings).
pub fn infer(r: &Request) -> Result<String, String> {
    let c = r.current.compilation;
    let m = prepare::pick(c, Some(r.current.model))?;
    let o = r.options;
    let method = match (m.kind, o.method.as_deref()) {
        (ModelKind::Graphical, None) => Method::Nuts,
        (ModelKind::Graphical, Some(name)) => [Method::Nuts, Method::Hmc, Method::Mala, Method::Mh]
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                format!("a graphical model is sampled with nuts, hmc, mala or mh, not `{name}`")
            })?,
        (ModelKind::StateSpace(_), None | Some("pmmh")) => Method::Pmmh,
        (ModelKind::StateSpace(_), Some(name)) => {
            return Err(format!(
                "a state-space model's likelihood is estimated by a particle filter, so it is fitted with pmmh, not `{name}`"
            ));
        }
        (kind, _) => {
            return Err(format!(
                "model `{}` is a {kind} model; :infer fits graphical models (priors and likelihoods) and state-space models (dynamics observed through `obs`)",
                m.name
            ));
        }
    };
    let lm = prepare::lowered(c, m)?;
    let bound = bind::bind_partial(lm, m, r.current.settings, r.current.data)?;
    let spans = density::param_spans(m, &bound);
    let threads = o.threads.unwrap_or_else(crate::sim::all_cores);
    let config = Config {
        method,
        chains: o.chains,
        warmup: o.warmup,
        draws: o.draws,
        seed: o.seed.unwrap_or_else(crate::sim::clock_seed),
        threads: if method == Method::Pmmh {
            threads
        } else {
            threads.min(o.chains)
        },
        max_depth: 10,
        target_accept: 0.8,
        thin: 1,
        step: 0.0,
        friction: 1.0,
    };
    let started = Instant::now();
    let (density, results, mut heading) = if method == Method::Pmmh {
        let post = Posterior::state_space(m, lm, &bound, &spans, r.current.settings)?;
        let series = bind_observations(lm, m, &bound, r.current.data)?;
        if series.is_empty() {
            return Err(format!(
                "model `{}` has no observed series: attach one with :data FILE",
                m.name
            ));
        }
        let dt = series.default_step();
        let fm = FilterModel::new(m, lm, bound, Engine::default_for(m), series.width)?;
        let settings = pmmh::PmmhSettings {
            particles: o.particles,
            ess_threshold: 0.5,
            stepping: Stepping {
                dt,
                tolerances: Tolerances::default(),
                max_events: 1_000_000_000,
            },
        };
        let results = pmmh::run(
            &post.density,
            &fm.view(),
            &series,
            &settings,
            &config,
            r.cancel,
        )?;
        let heading = format!(
            "pmmh ({} particles, {}, {} observation times)",
            o.particles,
            fm.method,
            series.len()
        );
        (post.density, results, heading)
    } else {
        let post = Posterior::new(m, lm, &bound, &spans, r.current.settings)?;
        let results = chain::run(&post.density, &config, r.cancel)?;
        (post.density, results, method.name().to_string())
    };
    let mut rows = report::summaries(&density.columns, &results);
    if method == Method::Pmmh {
        let loglik: Vec<Vec<f64>> = results
            .iter()
            .map(|r| r.stats.iter().map(|s| s.log_likelihood).collect())
            .collect();
        let refs: Vec<&[f64]> = loglik.iter().map(Vec::as_slice).collect();
        rows.insert(
            1,
            (
                stan_csv::LOG_LIKELIHOOD_COLUMN.to_string(),
                diagnostics::summarize(&refs),
            ),
        );
    }
    heading = format!(
        "{}: {} chain{} of {} warm-up + {} draws with {heading}, seed {} in {:.2} s\n",
        m.name,
        config.chains,
        if config.chains == 1 { "" } else { "s" },
        config.warmup,
        config.draws,
        config.seed,
        started.elapsed().as_secs_f64()
    );
    let mut text = heading + &table::render(&rows);
    for w in report::warnings(&config, &results, &rows) {
        text.push_str(&format!("warning: {w}\n"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_apply_and_are_checked() {
        let o = InferOptions::default()
            .with("chains=2 draws=500 warmup=0 seed=3 method=mala")
            .unwrap_or_default();
        assert_eq!((o.chains, o.draws, o.warmup, o.seed), (2, 500, 0, Some(3)));
        assert_eq!(o.method.as_deref(), Some("mala"));
        for (words, says) in [
            ("chains=0", "chains must be a whole number from 1"),
            ("draws=1.5", "draws must be"),
            ("drwas=10", "did you mean `draws`?"),
            ("draws", "key=value"),
        ] {
            let e = InferOptions::default()
                .with(words)
                .err()
                .unwrap_or_default();
            assert!(e.contains(says), "{words}: {e}");
        }
    }
}

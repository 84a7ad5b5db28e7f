//! Draws in the CSV format CmdStan writes, so that ArviZ (`from_cmdstan`), `posterior`,
//! `bayesplot` and other Stan tooling read them unchanged: a comment header with the run's
//! configuration, the column names (sampler columns ending in `__`, then the parameters and
//! outputs as `name.i.j`), the adaptation result as comments, one row per draw, and the
//! timing as a comment footer. Each file is written to a temporary file and renamed, so it is
//! there completely or not at all.

use super::chain::{ChainResult, Config, Method};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The sampler columns, in CmdStan's order.
pub const SAMPLER_COLUMNS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

/// The column PMMH adds after the sampler columns: the kept log-likelihood estimate.
pub const LOG_LIKELIHOOD_COLUMN: &str = "loglik__";

/// What the header records beside the configuration.
pub struct RunDescription<'a> {
    pub model: &'a str,
    pub model_file: &'a Path,
    pub data_file: Option<&'a Path>,
    pub columns: &'a [String],
    /// Settings of the algorithm beyond the configuration, `name = value`, written under
    /// it (PMMH: the particle filter's).
    pub settings: &'a [(String, String)],
}

/// Where chain `chain` (0-based) of `chains` goes: `out` itself for one chain, else
/// `stem_1.csv`, `stem_2.csv`, … beside it (CmdStan's naming).
pub fn chain_path(out: &Path, chain: usize, chains: usize) -> PathBuf {
    if chains == 1 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "draws".to_string());
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".to_string());
    out.with_file_name(format!("{stem}_{}.{ext}", chain + 1))
}

/// The whole file of one chain.
pub fn render(run: &RunDescription, config: &Config, chain: usize, result: &ChainResult) -> String {
    let mut s = String::new();
    header(&mut s, run, config, chain);
    let mut names: Vec<&str> = SAMPLER_COLUMNS.to_vec();
    let pmmh = config.method == Method::Pmmh;
    if pmmh {
        names.push(LOG_LIKELIHOOD_COLUMN);
    }
    names.extend(run.columns.iter().map(String::as_str));
    s.push_str(&names.join(","));
    s.push('\n');
    if config.warmup > 0 && config.method.adapts() {
        s.push_str("# Adaptation terminated\n");
        let _ = writeln!(s, "# Step size = {}", number(result.step_size));
        if let Some(m) = &result.inv_metric {
            s.push_str("# Diagonal elements of inverse mass matrix:\n# ");
            let m: Vec<String> = m.iter().map(|v| number(*v)).collect();
            s.push_str(&m.join(", "));
            s.push('\n');
        }
    }
    for (row, st) in result.rows.iter().zip(&result.stats) {
        let mut cells = vec![
            number(st.lp),
            number(st.accept_stat),
            number(st.step_size),
            st.tree_depth.to_string(),
            st.n_leapfrog.to_string(),
            u8::from(st.divergent).to_string(),
            number(st.energy),
        ];
        if pmmh {
            cells.push(number(st.log_likelihood));
        }
        cells.extend(row.iter().map(|v| number(*v)));
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    let warm = result.warmup_time.as_secs_f64();
    let samp = result.sampling_time.as_secs_f64();
    let _ = write!(
        s,
        "# \n#  Elapsed Time: {warm:.6} seconds (Warm-up)\n#                {samp:.6} seconds (Sampling)\n#                {:.6} seconds (Total)\n# \n",
        warm + samp
    );
    s
}

/// Write `text` to `path` completely or not at all.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Shortest text that reads back as the same number (exponent form for very large or small
/// values, which Rust's `Debug` gives).
fn number(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{v:?}")
    }
}

fn header(s: &mut String, run: &RunDescription, config: &Config, chain: usize) {
    let (algorithm, engine) = match config.method {
        Method::Nuts => ("hmc", Some("nuts")),
        Method::Hmc => ("hmc", Some("static")),
        Method::Mala => ("mala", None),
        Method::Mh => ("mh", None),
        Method::Ula => ("ula", None),
        Method::Baoab => ("baoab", None),
        Method::Gibbs => ("gibbs", None),
        Method::Metropolis => ("metropolis", None),
        Method::Pmmh => ("pmmh", None),
    };
    let lines = [
        "stan_version_major = 2".to_string(),
        "stan_version_minor = 33".to_string(),
        "stan_version_patch = 0".to_string(),
        format!("ito_version = {}", env!("CARGO_PKG_VERSION")),
        format!("model = {}", run.model),
        format!("model_file = {}", run.model_file.display()),
        "method = sample (Default)".to_string(),
        "  sample".to_string(),
        format!("    num_samples = {}", config.draws),
        format!("    num_warmup = {}", config.warmup),
        "    save_warmup = 0".to_string(),
        format!("    thin = {}", config.thin.max(1)),
        "    adapt".to_string(),
        format!(
            "      engaged = {}",
            u8::from(config.warmup > 0 && config.method.adapts())
        ),
        format!("      delta = {}", config.target_accept),
        format!("    algorithm = {algorithm}"),
    ];
    for l in lines {
        let _ = writeln!(s, "# {l}");
    }
    match config.method {
        Method::Ula => {
            let _ = writeln!(s, "#       step = {}", number(config.step));
        }
        Method::Baoab => {
            let _ = writeln!(s, "#       step = {}", number(config.step));
            let _ = writeln!(s, "#       friction = {}", number(config.friction));
        }
        _ => {}
    }
    for (name, value) in run.settings {
        let _ = writeln!(s, "#       {name} = {value}");
    }
    if let Some(engine) = engine {
        let _ = writeln!(s, "#       hmc\n#         engine = {engine}");
        if engine == "nuts" {
            let _ = writeln!(
                s,
                "#           nuts\n#             max_depth = {}",
                config.max_depth
            );
        }
        let _ = writeln!(s, "#         metric = diag_e");
    }
    let _ = writeln!(s, "#     num_chains = {}", config.chains);
    let _ = writeln!(s, "# id = {}", chain + 1);
    let _ = writeln!(s, "# data");
    let _ = writeln!(
        s,
        "#   file = {}",
        run.data_file
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    let _ = writeln!(s, "# init = 2 (Default)");
    let _ = writeln!(s, "# random\n#   seed = {}", config.seed);
    let _ = writeln!(s, "# output\n#   file = (ito)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::chain::DrawStats;
    use std::time::Duration;

    fn config() -> Config {
        Config {
            method: Method::Nuts,
            chains: 2,
            warmup: 10,
            draws: 2,
            seed: 7,
            threads: 1,
            max_depth: 10,
            target_accept: 0.8,
            thin: 1,
            step: 0.0,
            friction: 1.0,
        }
    }

    #[test]
    fn file_has_stan_columns_rows_and_footer() {
        let result = ChainResult {
            rows: vec![vec![1.5, 1e-20], vec![-2.0, f64::NAN]],
            stats: vec![
                DrawStats {
                    lp: -3.25,
                    accept_stat: 0.9,
                    step_size: 0.5,
                    tree_depth: 2,
                    n_leapfrog: 3,
                    divergent: false,
                    energy: 4.0,
                    log_likelihood: 0.0,
                };
                2
            ],
            step_size: 0.5,
            inv_metric: Some(vec![1.0, 2.0]),
            warmup_time: Duration::from_millis(5),
            sampling_time: Duration::from_millis(7),
            warmup_divergences: 0,
        };
        let columns = vec!["mu".to_string(), "eta.1".to_string()];
        let run = RunDescription {
            model: "M",
            model_file: Path::new("m.sde"),
            data_file: None,
            columns: &columns,
            settings: &[],
        };
        let text = render(&run, &config(), 1, &result);
        let lines: Vec<&str> = text.lines().collect();
        let head = lines.iter().position(|l| l.starts_with("lp__")).unwrap();
        assert_eq!(
            lines[head],
            "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,eta.1"
        );
        assert!(lines[..head].iter().all(|l| l.starts_with('#')));
        assert!(lines[..head].contains(&"# id = 2"));
        assert!(lines[..head].contains(&"#             max_depth = 10"));
        assert_eq!(lines[head + 1], "# Adaptation terminated");
        assert_eq!(lines[head + 2], "# Step size = 0.5");
        assert_eq!(lines[head + 4], "# 1.0, 2.0");
        assert_eq!(lines[head + 5], "-3.25,0.9,0.5,2,3,0,4.0,1.5,1e-20");
        assert_eq!(lines[head + 6], "-3.25,0.9,0.5,2,3,0,4.0,-2.0,nan");
        assert!(text.contains("#  Elapsed Time: 0.005000 seconds (Warm-up)"));
        assert!(text.contains("#                0.012000 seconds (Total)"));
    }

    #[test]
    fn chains_get_numbered_files() {
        let out = Path::new("dir/draws.csv");
        assert_eq!(chain_path(out, 0, 1), PathBuf::from("dir/draws.csv"));
        assert_eq!(chain_path(out, 2, 4), PathBuf::from("dir/draws_3.csv"));
    }
}

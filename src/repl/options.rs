//! The options of `:run` (`paths=1000 t_end=20 method=tau …`), remembered between runs.

use std::fmt;

/// Paths at most in one `:run` (so a typo cannot ask for an absurd run).
const MAX_PATHS: usize = 100_000_000;
/// Recording times at most (each is summarised for every variable).
const MAX_TIMES: f64 = 1e6;

#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// Default: 1000 for stochastic models, 1 for deterministic ones.
    pub paths: Option<usize>,
    pub t_end: f64,
    /// Record every Δ (default: 100 intervals).
    pub every: Option<f64>,
    /// Step size (default: t_end / 1000).
    pub dt: Option<f64>,
    /// Method name (default: the model's).
    pub method: Option<String>,
    /// Default: drawn from the clock for each run.
    pub seed: Option<u64>,
    /// Default: all cores.
    pub threads: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            paths: None,
            t_end: 10.0,
            every: None,
            dt: None,
            method: None,
            seed: None,
            threads: None,
        }
    }
}

/// The option names, for `:help` and completion.
pub const OPTION_NAMES: [&str; 7] = ["paths", "t_end", "every", "dt", "method", "seed", "threads"];

impl RunOptions {
    /// These options with `key=value` words applied (`t-end` is `t_end`; `dt=auto` and
    /// friends go back to the default).
    pub fn with(&self, words: &str) -> Result<RunOptions, String> {
        let mut o = self.clone();
        for word in words.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                return Err(format!(
                    "`{word}`: :run takes options as key=value ({})",
                    OPTION_NAMES.join(", ")
                ));
            };
            let key = key.replace('-', "_");
            let default = value == "auto" || value == "default";
            match key.as_str() {
                "paths" => o.paths = optional(default, || count("paths", value, MAX_PATHS))?,
                "t_end" => o.t_end = positive("t_end", value)?,
                "every" => o.every = optional(default, || positive("every", value))?,
                "dt" => o.dt = optional(default, || positive("dt", value))?,
                "method" => o.method = (!default).then(|| value.to_string()),
                "seed" => {
                    o.seed = optional(default, || {
                        value
                            .parse()
                            .map_err(|_| format!("seed must be a whole number ≥ 0, not `{value}`"))
                    })?
                }
                "threads" => o.threads = optional(default, || count("threads", value, 1024))?,
                _ => {
                    let hint = crate::check::suggest::did_you_mean(&key, OPTION_NAMES)
                        .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
                    return Err(format!(
                        "unknown :run option `{key}`{hint} (the options are {})",
                        OPTION_NAMES.join(", ")
                    ));
                }
            }
        }
        o.times()?;
        Ok(o)
    }

    /// The recording times: every Δ from 0, then t_end.
    pub fn times(&self) -> Result<Vec<f64>, String> {
        let every = self.every.unwrap_or(self.t_end / 100.0);
        let intervals = (self.t_end / every - 1e-9).ceil();
        if intervals > MAX_TIMES {
            return Err(format!(
                "every={every} over t_end={} records {intervals} times; at most 10^6 are allowed",
                self.t_end
            ));
        }
        let mut times: Vec<f64> = (0..intervals as usize).map(|k| k as f64 * every).collect();
        times.push(self.t_end);
        Ok(times)
    }
}

impl fmt::Display for RunOptions {
    /// The options as `:run` would take them (those left at their defaults are left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = vec![format!("t_end={}", self.t_end)];
        let mut add = |key: &str, v: Option<String>| {
            if let Some(v) = v {
                words.push(format!("{key}={v}"));
            }
        };
        add("paths", self.paths.map(|v| v.to_string()));
        add("every", self.every.map(|v| v.to_string()));
        add("dt", self.dt.map(|v| v.to_string()));
        add("method", self.method.clone());
        add("seed", self.seed.map(|v| v.to_string()));
        add("threads", self.threads.map(|v| v.to_string()));
        f.write_str(&words.join(" "))
    }
}

fn optional<T>(
    default: bool,
    parse: impl FnOnce() -> Result<T, String>,
) -> Result<Option<T>, String> {
    if default { Ok(None) } else { parse().map(Some) }
}

fn positive(key: &str, value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{key} must be a positive number, not `{value}`")),
    }
}

fn count(key: &str, value: &str, max: usize) -> Result<usize, String> {
    match value.replace('_', "").parse::<f64>() {
        Ok(v) if v >= 1.0 && v <= max as f64 && v.fract() == 0.0 => Ok(v as usize),
        _ => Err(format!(
            "{key} must be a whole number from 1 to {max}, not `{value}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_apply_and_persist() {
        let o = RunOptions::default()
            .with("paths=1e3 t-end=20 method=tau seed=7")
            .unwrap_or_default();
        assert_eq!(o.paths, Some(1000));
        assert_eq!(o.t_end, 20.0);
        assert_eq!(o.method.as_deref(), Some("tau"));
        let o = o.with("method=auto").unwrap_or_default();
        assert_eq!(o.method, None);
        assert_eq!(o.seed, Some(7));
        assert_eq!(o.to_string(), "t_end=20 paths=1000 seed=7");
    }

    #[test]
    fn bad_options_are_refused() {
        let o = RunOptions::default();
        for (words, says) in [
            ("paths=0", "paths must be a whole number"),
            ("paths=2.5", "paths must be a whole number"),
            ("t_end=-1", "t_end must be a positive number"),
            ("dt=nan", "dt must be a positive number"),
            ("pahts=10", "did you mean `paths`?"),
            ("paths", "key=value"),
            ("every=1e-9", "at most 10^6"),
        ] {
            let e = o.with(words).err().unwrap_or_default();
            assert!(e.contains(says), "{words}: {e}");
        }
    }

    #[test]
    fn times_end_at_t_end() {
        let o = RunOptions::default()
            .with("t_end=1 every=0.25")
            .unwrap_or_default();
        assert_eq!(
            o.times().unwrap_or_default(),
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
        );
    }
}

//! What the last run's recordings become: the `:summary` table, the `:save`d statistics and
//! the `:plot` (in the terminal, or an SVG file).

use super::{Settings, termplot};
use crate::sim::output::{Recorded, RunInfo, plot};
use std::path::Path;

/// `:summary`: the statistics at eight evenly spaced recording times.
pub fn summary(r: &Recorded) -> String {
    r.summary
        .table(&r.info, 8)
        .replace("the files --out writes", "what :save writes")
}

/// `:save FILE`: every recording time's statistics, as CSV or JSON (written atomically).
pub fn save(r: &Recorded, file: &str) -> Result<String, String> {
    let path = Path::new(file);
    let (info, summary) = (&r.info, &r.summary);
    let written = match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => summary.write_csv(path, info),
        Some(e) if e.eq_ignore_ascii_case("json") => summary.write_json(path, info),
        _ => return Err(format!("`{file}`: the file name must end in .csv or .json")),
    };
    written.map_err(|e| format!("cannot write {file}: {e}"))?;
    let n = info.variables.len();
    Ok(format!(
        "wrote the per-time statistics of {n} variable{} at {} times to {file}",
        if n == 1 { "" } else { "s" },
        info.times.len()
    ))
}

/// `:plot [VAR …] [> FILE.svg]`: the terminal plot, or what was written.
pub fn plot(r: &Recorded, words: &str, terminal: &Settings) -> Result<String, String> {
    let (vars, file) = match words.split_once('>') {
        Some((vars, file)) => (vars, Some(file.trim())),
        None => (words, None),
    };
    let chosen = plot_variables(&r.info, vars)?;
    match file {
        Some("") => Err(":plot … > needs a file name ending in .svg".into()),
        Some(f) if !f.to_ascii_lowercase().ends_with(".svg") => {
            Err(format!("`{f}`: the plot file name must end in .svg"))
        }
        Some(f) => {
            plot::write_svg_of(f, &r.info, &r.summary, &r.samples, &chosen)
                .map_err(|e| format!("cannot write {f}: {e}"))?;
            Ok(format!("wrote {f}\n"))
        }
        None => terminal_plot(r, &chosen, terminal),
    }
}

/// The variables `:plot` draws: those named (`I`, `x[2]`, or all elements of `x`), or every
/// state when none is.
fn plot_variables(info: &RunInfo, words: &str) -> Result<Vec<usize>, String> {
    let vars = &info.variables;
    let states = vars.len() - info.outputs.min(vars.len());
    if words.trim().is_empty() {
        return Ok((0..states.max(1).min(vars.len())).collect());
    }
    let mut chosen = Vec::new();
    for word in words.split([' ', ',']).filter(|w| !w.is_empty()) {
        let matching: Vec<usize> = (0..vars.len())
            .filter(|&i| {
                vars[i] == word
                    || vars[i]
                        .strip_prefix(word)
                        .is_some_and(|r| r.starts_with('['))
            })
            .collect();
        if matching.is_empty() {
            let hint = crate::check::suggest::did_you_mean(word, vars.iter().map(String::as_str))
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            return Err(format!(
                "the last run recorded no variable `{word}`{hint} (it recorded {})",
                vars.join(", ")
            ));
        }
        chosen.extend(matching);
    }
    Ok(chosen)
}

/// The terminal plot of `vars` of a run: mean and 5–95 % band across paths.
fn terminal_plot(r: &Recorded, vars: &[usize], terminal: &Settings) -> Result<String, String> {
    let s = &r.summary;
    let times = &r.info.times;
    // A band for one variable only: several overlapping bands would hide the curves.
    let band = match (s.quantile_index(0.05), s.quantile_index(0.95)) {
        (Some(lo), Some(hi)) if r.info.paths > 1 && vars.len() == 1 => Some((lo, hi)),
        _ => None,
    };
    let column = |f: &dyn Fn(usize) -> f64| (0..times.len()).map(f).collect::<Vec<_>>();
    let means: Vec<Vec<f64>> = vars
        .iter()
        .map(|&v| column(&|k| s.stats(k, v).mean))
        .collect();
    let bands: Vec<Option<(Vec<f64>, Vec<f64>)>> = vars
        .iter()
        .map(|&v| {
            band.map(|(lo, hi)| {
                (
                    column(&|k| s.quantile(k, v, lo)),
                    column(&|k| s.quantile(k, v, hi)),
                )
            })
        })
        .collect();
    let series: Vec<termplot::Series> = vars
        .iter()
        .enumerate()
        .map(|(i, &v)| termplot::Series {
            name: &r.info.variables[v],
            mean: &means[i],
            band: bands[i]
                .as_ref()
                .map(|(lo, hi)| (lo.as_slice(), hi.as_slice())),
        })
        .collect();
    let style = termplot::Style {
        width: terminal.width,
        height: 16,
        color: terminal.color,
    };
    let heading = format!(
        "{} — {} paths, {}{}\n",
        r.info.model,
        r.info.paths,
        r.info.method,
        if band.is_some() {
            ": mean and 5–95 % band"
        } else {
            ": mean"
        }
    );
    Ok(heading + &termplot::render(times, &series, &style)?)
}

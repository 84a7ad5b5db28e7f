//! Writing an observed series as a data file that `--data` reads back: JSON (`"t"` and one
//! array per `obs`, nested `[T][K]` for an array `obs`, `null` where missing) or CSV (columns
//! `t` and one per element, `y[1]`, `y[2]`, …; an empty cell where missing).

use super::ObsSeries;
use crate::check::types::Scalar;
use crate::ir::lower::LoweredModel;
use crate::sim::bind::Bound;
use crate::sim::output::{JsonNum, Num, csv_field, write_atomic};
use std::fmt::Write as _;
use std::path::Path;

/// Write `series` (of model `lm`, bound as `bound`) to `path`, `.json` or `.csv`, atomically
/// (a temporary file renamed when complete). `int` and `bool` observations are written as
/// integers. `comments` go to the head of a CSV file as `# …` lines (JSON has none).
pub fn write_observations(
    path: &Path,
    series: &ObsSeries,
    lm: &LoweredModel,
    bound: &Bound,
    comments: &[String],
) -> Result<(), String> {
    let format = observations_format(path)?;
    if let Some(i) = series.rows.iter().position(|v| v.is_infinite()) {
        let (k, c) = (i / series.width.max(1), i % series.width.max(1));
        return Err(format!(
            "the draw of `{}` at t = {} is {}; it cannot be written as data",
            series.names[c], series.times[k], series.rows[i]
        ));
    }
    // Whether each column holds whole numbers, by the declared element type.
    let mut integer = Vec::with_capacity(series.width);
    for (slot, span) in lm.layout.obs.iter().zip(&bound.obs_slots) {
        let whole = matches!(slot.ty.scalar, Scalar::Int | Scalar::Bool | Scalar::Spin);
        integer.extend(std::iter::repeat_n(whole, span.len()));
    }
    let text = match format {
        Format::Json => json(series, lm, bound, &integer),
        Format::Csv => csv(series, &integer, comments),
    };
    write_atomic(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

enum Format {
    Json,
    Csv,
}

/// The format of an observations file, by its extension.
fn observations_format(path: &Path) -> Result<Format, String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => Ok(Format::Json),
        Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
        _ => Err(format!(
            "--observations {}: the file name must end in .json or .csv",
            path.display()
        )),
    }
}

/// Check an observations file name before a run.
pub fn check_observations_path(path: &Path) -> Result<(), String> {
    observations_format(path).map(|_| ())
}

/// One value: an integer, a number, or the missing marker.
fn value(v: f64, integer: bool, json: bool) -> String {
    if v.is_nan() {
        if json { "null" } else { "" }.to_string()
    } else if integer && v.abs() < 9.007_199_254_740_992e15 {
        format!("{}", v as i64)
    } else if json {
        JsonNum(v).to_string()
    } else {
        Num(v).to_string()
    }
}

fn json(series: &ObsSeries, lm: &LoweredModel, bound: &Bound, integer: &[bool]) -> String {
    let mut s = String::from("{\n  \"t\": [");
    let times: Vec<String> = series
        .times
        .iter()
        .map(|&t| JsonNum(t).to_string())
        .collect();
    s += &times.join(", ");
    s += "]";
    for (slot, span) in lm.layout.obs.iter().zip(&bound.obs_slots) {
        let _ = write!(s, ",\n  {}: [", serde_json::Value::from(slot.name.as_str()));
        for k in 0..series.len() {
            if k > 0 {
                s += ", ";
            }
            let row = &series.row(k)[span.offset..span.offset + span.len()];
            let whole = &integer[span.offset..span.offset + span.len()];
            nested(&mut s, &span.dims, row, whole);
        }
        s += "]";
    }
    s += "\n}\n";
    s
}

/// `values` (row-major, of shape `dims`) as nested JSON arrays.
fn nested(s: &mut String, dims: &[usize], values: &[f64], integer: &[bool]) {
    match dims.split_first() {
        None => *s += &value(values[0], integer[0], true),
        Some((&n, rest)) => {
            let stride: usize = rest.iter().product();
            *s += "[";
            for i in 0..n {
                if i > 0 {
                    *s += ", ";
                }
                let at = i * stride..(i + 1) * stride;
                nested(s, rest, &values[at.clone()], &integer[at]);
            }
            *s += "]";
        }
    }
}

fn csv(series: &ObsSeries, integer: &[bool], comments: &[String]) -> String {
    let mut s = String::new();
    for c in comments {
        let _ = writeln!(s, "# {c}");
    }
    s += "t";
    for name in &series.names {
        s += ",";
        s += &csv_field(name);
    }
    s += "\n";
    for k in 0..series.len() {
        s += &Num(series.times[k]).to_string();
        for (&v, &whole) in series.row(k).iter().zip(integer) {
            s += ",";
            s += &value(v, whole, false);
        }
        s += "\n";
    }
    s
}

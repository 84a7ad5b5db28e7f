//! Checks of given values against declarations: shapes, element types and bounds. Every
//! message names the variable, and the element (1-based) when it is one of an array's.

use super::sizes::Env;
use crate::check::model::Bounds;
use crate::check::types::{Dim, Scalar, Type};
use crate::sim::data::DataValue;

/// `value` has the shape `dims` that `decl`'s type `ty` works out to.
pub(crate) fn shape(
    name: &str,
    ty: &Type,
    dims: &[usize],
    value: &DataValue,
) -> Result<(), String> {
    let given = &value.shape;
    if given.as_slice() == dims {
        return Ok(());
    }
    if given.len() != dims.len() {
        let what = match given.len() {
            0 => "a single number".to_string(),
            1 if given[0] == 1 => "an array of 1 element".to_string(),
            1 => format!("an array of {} elements", given[0]),
            n => format!("a {n}-D array {}", list(given)),
        };
        return Err(format!("data `{name}` is {what}, but it is declared {ty}"));
    }
    if let ([n], [declared], [dim]) = (given.as_slice(), dims, ty.dims.as_slice()) {
        let size = match dim {
            Dim::Fixed(_) => String::new(),
            Dim::Data(d) => format!(" `{}`", d.text),
        };
        return Err(format!(
            "data `{name}` has {n} elements, but its declared size{size} is {declared}"
        ));
    }
    let written: Vec<String> = ty.dims.iter().map(|d| d.to_string()).collect();
    Err(format!(
        "data `{name}` has shape {}, but its declared shape [{}] is {}",
        list(given),
        written.join(", "),
        list(dims)
    ))
}

fn list(v: &[usize]) -> String {
    let s: Vec<String> = v.iter().map(|n| n.to_string()).collect();
    format!("[{}]", s.join(", "))
}

/// Every element is finite and of the declared element type. A missing value (NaN: `null`,
/// an empty cell or `NA` in the data file) is refused.
pub(crate) fn elements(what: &str, name: &str, ty: &Type, value: &DataValue) -> Result<(), String> {
    elements_with(what, name, ty, value, false)
}

/// As [`elements`]; with `missing_ok`, missing values (NaN) are let through unchecked (an
/// observed series may have gaps).
pub(crate) fn elements_with(
    what: &str,
    name: &str,
    ty: &Type,
    value: &DataValue,
    missing_ok: bool,
) -> Result<(), String> {
    let rule = match ty.scalar {
        // Beyond 2^53 a float no longer holds every integer.
        Scalar::Int => Some((
            "",
            (|v: f64| v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0) as fn(f64) -> bool,
        )),
        Scalar::Bool => Some((
            " (0 or 1)",
            (|v: f64| v == 0.0 || v == 1.0) as fn(f64) -> bool,
        )),
        Scalar::Spin => Some((
            " (1 or -1)",
            (|v: f64| v == 1.0 || v == -1.0) as fn(f64) -> bool,
        )),
        Scalar::Real | Scalar::Error => None,
    };
    for (k, &v) in value.values.iter().enumerate() {
        if v.is_nan() && missing_ok {
            continue;
        }
        let at = element(name, &value.shape, k);
        if v.is_nan() {
            return Err(format!(
                "{what} {at} is missing (null, an empty cell or NA); only `obs` values may be missing"
            ));
        }
        if !v.is_finite() {
            return Err(format!("{what} {at} is {v}; values must be finite"));
        }
        if let Some((hint, ok)) = rule
            && !ok(v)
        {
            let of = if at.contains('[') {
                format!(", but `{name}` is declared {ty}")
            } else {
                format!(", but it is declared {ty}")
            };
            return Err(format!("{what} {at} is {v}{of}{hint}"));
        }
    }
    Ok(())
}

/// Every element lies within the declared bounds that can be known before the run (those
/// written with parameters are the model's business).
pub(crate) fn bounds(
    what: &str,
    name: &str,
    bounds: &Bounds,
    env: &Env,
    value: &DataValue,
) -> Result<(), String> {
    let lower = bounds.lower.as_ref().and_then(|b| env.bound(b));
    let upper = bounds.upper.as_ref().and_then(|b| env.bound(b));
    // A bound is a scalar, or an array of the value's shape (element by element).
    let at = |b: &Option<Vec<f64>>, k: usize| match b.as_deref() {
        Some([x]) => Some(*x),
        Some(xs) if xs.len() == value.values.len() => Some(xs[k]),
        _ => None,
    };
    for (k, &v) in value.values.iter().enumerate() {
        if let Some(lo) = at(&lower, k).filter(|lo| v < *lo) {
            let at = element(name, &value.shape, k);
            return Err(format!(
                "{what} {at} is {v}, below the lower bound {lo} declared for `{name}`"
            ));
        }
        if let Some(hi) = at(&upper, k).filter(|hi| v > *hi) {
            let at = element(name, &value.shape, k);
            return Err(format!(
                "{what} {at} is {v}, above the upper bound {hi} declared for `{name}`"
            ));
        }
    }
    Ok(())
}

/// `` `y` `` or `` `y[2, 3]` ``: element `k` (row-major) of an array of `shape`, 1-based.
pub(crate) fn element(name: &str, shape: &[usize], k: usize) -> String {
    if shape.is_empty() {
        return format!("`{name}`");
    }
    let mut idx = vec![0; shape.len()];
    let mut rest = k;
    for (i, &n) in shape.iter().enumerate().rev() {
        idx[i] = rest % n.max(1) + 1;
        rest /= n.max(1);
    }
    let idx: Vec<String> = idx.iter().map(|i| i.to_string()).collect();
    format!("`{name}[{}]`", idx.join(", "))
}

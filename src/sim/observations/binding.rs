//! Binding the observed series of a state-space model: the times `t` and each `obs`, one
//! value (or row of values) per time, checked against the declarations and laid out as the
//! `observe` kernel reads its `aux` row.

use super::{ObsSeries, column_names};
use crate::check::model::{DataDecl, Model, Var};
use crate::check::types::{Scalar, Type};
use crate::ir::lower::{LoweredModel, size_index};
use crate::sim::bind::sizes::Env;
use crate::sim::bind::{Bound, SlotSpan, data_values};
use crate::sim::data::{DataSet, DataValue};

/// The observed series of model `m` (lowered as `lm`, its inputs bound as `bound`) from
/// `data`: the times `t` (or `time`), finite, ≥ 0 and strictly increasing, and for each `obs`
/// one value per time (`[T][K…]` for an array `obs`), whole numbers for `int`, within the
/// declared bounds; missing values (NaN) are allowed and kept. Errors name the variable, the
/// element and the time.
pub fn bind_observations(
    lm: &LoweredModel,
    m: &Model,
    bound: &Bound,
    data: &DataSet,
) -> Result<ObsSeries, String> {
    if m.obs.is_empty() {
        return Err(format!(
            "model `{}` has no `obs`: only a state-space model has an observed series",
            m.name
        ));
    }
    let times = times(m, data)?;
    let width = bound.sizes[size_index::OBS];
    if bound.obs_slots.len() != lm.layout.obs.len()
        || bound.obs_slots.iter().map(SlotSpan::len).sum::<usize>() != width
    {
        return Err(format!(
            "internal: the observation row of model `{}` disagrees with its `obs` sizes",
            m.name
        ));
    }
    let known = data_values(m, bound);
    let env = Env { m, data: &known };
    let mut rows = vec![f64::NAN; times.len() * width];
    for (slot, span) in lm.layout.obs.iter().zip(&bound.obs_slots) {
        let Var::Obs(i) = slot.var else {
            return Err(format!(
                "internal: `{}` is in the observation row but is not an `obs`",
                slot.name
            ));
        };
        let decl = &m.obs[i];
        let value = data.get(&decl.name).ok_or_else(|| missing(decl, data))?;
        shape(decl, span, value, &times)?;
        let per_row = span.len();
        let lower = decl.bounds.lower.as_ref().and_then(|b| env.bound(b));
        let upper = decl.bounds.upper.as_ref().and_then(|b| env.bound(b));
        for (k, &t) in times.iter().enumerate() {
            let given = &value.values[k * per_row..(k + 1) * per_row];
            for (e, &v) in given.iter().enumerate() {
                if v.is_nan() {
                    continue;
                }
                let at = || at(decl, &span.dims, e, t, k);
                if let Some(why) = element_type(&decl.ty, v) {
                    return Err(format!(
                        "obs {} is {v}, but `{}` is declared {}{why}",
                        at(),
                        decl.name,
                        decl.ty
                    ));
                }
                if let Some(lo) = bound_at(&lower, e, per_row).filter(|lo| v < *lo) {
                    return Err(format!(
                        "obs {} is {v}, below the lower bound {lo} declared for `{}`",
                        at(),
                        decl.name
                    ));
                }
                if let Some(hi) = bound_at(&upper, e, per_row).filter(|hi| v > *hi) {
                    return Err(format!(
                        "obs {} is {v}, above the upper bound {hi} declared for `{}`",
                        at(),
                        decl.name
                    ));
                }
            }
            let row = &mut rows[k * width..(k + 1) * width];
            row[span.offset..span.offset + per_row].copy_from_slice(given);
        }
    }
    Ok(ObsSeries {
        times,
        rows,
        width,
        names: column_names(&bound.obs_slots),
    })
}

/// The observation times: `t`, or `time` when the model has no data of that name.
fn times(m: &Model, data: &DataSet) -> Result<Vec<f64>, String> {
    let time_is_data = m.data.iter().any(|d| d.name == "time");
    let alias = data.get("time").filter(|_| !time_is_data);
    let (name, value) = match (data.get("t"), alias) {
        (Some(_), Some(_)) => {
            return Err(
                "the data give both `t` and `time`; the observation times are one of them"
                    .to_string(),
            );
        }
        (Some(v), None) => ("t", v),
        (None, Some(v)) => ("time", v),
        (None, None) => {
            let first = m.obs.first().map_or("y", |o| o.name.as_str());
            let holds = format!(
                "`t`, an array with one time per observation, and for each `obs` one value per time, null where missing, like {{\"t\": [1, 2, 3], \"{first}\": [4, null, 7]}} or the CSV columns `t,{first}`"
            );
            return Err(if data.files().is_empty() {
                format!(
                    "model `{}` has `obs` but no data file was given: give the observed series with --data FILE: {holds}",
                    m.name
                )
            } else {
                format!(
                    "the observation times `t` are missing: {} has no `t` (or `time`); the observed series is {holds}",
                    data.source()
                )
            });
        }
    };
    if value.shape.len() != 1 {
        let what = if value.shape.is_empty() {
            "a single number".to_string()
        } else {
            format!("a {}-D array", value.shape.len())
        };
        return Err(format!(
            "`{name}` is {what}; the observation times are an array with one time per observation, like [1, 2, 3]"
        ));
    }
    if value.values.is_empty() {
        return Err(format!("`{name}` is empty: there are no observations"));
    }
    for (k, &t) in value.values.iter().enumerate() {
        if t.is_nan() {
            return Err(format!(
                "`{name}[{}]` is missing; every observation needs its time",
                k + 1
            ));
        }
        if !(t.is_finite() && t >= 0.0) {
            return Err(format!(
                "`{name}[{}]` is {t}; observation times are finite and ≥ 0",
                k + 1
            ));
        }
        if k > 0 && t <= value.values[k - 1] {
            return Err(format!(
                "`{name}[{}]` is {t}, not after `{name}[{k}]` = {}; observation times must increase strictly",
                k + 1,
                value.values[k - 1]
            ));
        }
    }
    Ok(value.values.clone())
}

/// An `obs` the data do not give.
fn missing(decl: &DataDecl, data: &DataSet) -> String {
    let name = &decl.name;
    let lacks = match data.files().as_slice() {
        [one] => format!("the data file {} has no `{name}`", one.display()),
        _ => format!("none of {} has `{name}`", data.source()),
    };
    let give = if decl.ty.is_scalar() {
        "one value per time in `t` (null for a missing one)".to_string()
    } else {
        format!(
            "one {} per time in `t`: nested arrays [T][…] in JSON, or the CSV columns `{name}[1]`, `{name}[2]`, …",
            decl.ty
        )
    };
    let dotted = format!("{name}.");
    let hint = if data.values.keys().any(|k| k.starts_with(&dotted)) {
        format!(" (not `{name}.1`, …)")
    } else {
        String::new()
    };
    format!("obs `{name}` is missing: {lacks}; give {give}{hint}")
}

/// The value of an `obs` has one entry per time, each of the declared shape.
fn shape(decl: &DataDecl, span: &SlotSpan, value: &DataValue, times: &[f64]) -> Result<(), String> {
    let mut want = vec![times.len()];
    want.extend(&span.dims);
    if value.shape == want {
        return Ok(());
    }
    let name = &decl.name;
    let n = times.len();
    if span.dims.is_empty() {
        return Err(match value.shape.as_slice() {
            [len] => format!(
                "obs `{name}` has {len} values, but `t` has {n} times; an obs has one value per time (null for a missing one)"
            ),
            [] => format!(
                "obs `{name}` is a single number, but `t` has {n} times; an obs has one value per time (an array)"
            ),
            other => format!(
                "obs `{name}` has shape {}, but it is declared {} and `t` has {n} times: it should be an array of {n} values",
                list(other),
                decl.ty
            ),
        });
    }
    Err(format!(
        "obs `{name}` has shape {}, but it is declared {} and `t` has {n} times: it should have shape {}, a value of shape {} per time",
        list(&value.shape),
        decl.ty,
        list(&want),
        list(&span.dims),
    ))
}

fn list(v: &[usize]) -> String {
    let s: Vec<String> = v.iter().map(|n| n.to_string()).collect();
    format!("[{}]", s.join(", "))
}

/// Why `v` is not of the element type of `ty`, if it is not.
fn element_type(ty: &Type, v: f64) -> Option<&'static str> {
    let ok = match ty.scalar {
        Scalar::Int => v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0,
        Scalar::Bool => v == 0.0 || v == 1.0,
        Scalar::Spin => v == 1.0 || v == -1.0,
        Scalar::Real | Scalar::Error => v.is_finite(),
    };
    match (ok, ty.scalar) {
        (true, _) => None,
        (false, Scalar::Bool) => Some(" (0 or 1)"),
        (false, Scalar::Spin) => Some(" (1 or -1)"),
        (false, _) => Some(""),
    }
}

/// A declared bound at element `e` of a row: a scalar bound, or one of the obs's shape.
fn bound_at(b: &Option<Vec<f64>>, e: usize, per_row: usize) -> Option<f64> {
    match b.as_deref() {
        Some([x]) => Some(*x),
        Some(xs) if xs.len() == per_row => Some(xs[e]),
        _ => None,
    }
}

/// `` `y` at t = 2.5 (row 3) `` or `` `y[1, 2]` at … ``: element `e` of the row at time index
/// `k` (1-based in the message).
fn at(decl: &DataDecl, dims: &[usize], e: usize, t: f64, k: usize) -> String {
    let name = &decl.name;
    let what = if dims.is_empty() {
        format!("`{name}`")
    } else {
        let mut idx = vec![0; dims.len()];
        let mut rest = e;
        for (i, &n) in dims.iter().enumerate().rev() {
            idx[i] = rest % n.max(1) + 1;
            rest /= n.max(1);
        }
        let idx: Vec<String> = idx.iter().map(usize::to_string).collect();
        format!("`{name}[{}]`", idx.join(", "))
    };
    format!("{what} at t = {t} (row {})", k + 1)
}

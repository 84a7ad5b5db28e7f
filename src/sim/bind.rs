//! Binding a model's inputs for a run: data (from a data file, or `--set`) and parameter
//! values (defaults, overridden by `--set name=value`), checked against the model's
//! declarations. Sizes that depend on data are worked out here, so every buffer and every
//! variable's place in it are known once a model is bound.

pub(crate) mod checks;
mod inputs;
pub(crate) mod sizes;

use super::data::{DataSet, DataValue, json_value};
use crate::check::model::{Model, Var};
use crate::check::types::Scalar;
use crate::ir::eval::{self, Args};
use crate::ir::lower::{LoweredModel, Slot, size_index};
use sizes::Env;

/// The buffers a run needs beside the state, and the sizes they imply.
#[derive(Clone, Debug)]
pub struct Bound {
    pub p: Vec<f64>,
    pub d: Vec<f64>,
    /// The `sizes` kernel's output (indexed by `size_index`).
    pub sizes: [usize; size_index::COUNT],
    /// Scalar parameter values, by name, for run metadata.
    pub param_values: Vec<(String, f64)>,
    /// Where each state, parameter and data variable lies in `x`, `p` and `d`, in layout
    /// order, with its sizes worked out from the data.
    pub x_slots: Vec<SlotSpan>,
    pub p_slots: Vec<SlotSpan>,
    pub d_slots: Vec<SlotSpan>,
    /// Where each `obs` lies in an observation row (the `observe` kernel's `aux`), in layout
    /// order (scalars first), with its sizes worked out from the data.
    pub obs_slots: Vec<SlotSpan>,
    /// Names in the data file that are not data of the model (ignored, as Stan does). The
    /// observed series of a state-space model (`t` and its `obs`) are not among them.
    pub unused_data: Vec<String>,
}

/// One variable's place in a buffer: `dims` (empty for a scalar) from `offset`, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotSpan {
    pub name: String,
    pub offset: usize,
    pub dims: Vec<usize>,
}

impl SlotSpan {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One `--set name=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub name: String,
    pub value: String,
}

impl Setting {
    /// Parse `name=value`.
    pub fn parse(text: &str) -> Result<Setting, String> {
        match text.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => Ok(Setting {
                name: name.trim().to_string(),
                value: value.trim().to_string(),
            }),
            _ => Err(format!("`{text}` is not of the form name=value")),
        }
    }
}

/// Bind `data` (a data file's values; `--set` overrides them) and `settings` (parameters
/// and data) for model `m`, lowered as `lm`. Every parameter must end up with a value (a
/// default or `--set`): a simulation needs them all.
pub fn bind(
    lm: &LoweredModel,
    m: &Model,
    settings: &[Setting],
    data: &DataSet,
) -> Result<Bound, String> {
    bind_with(lm, m, settings, data, true)
}

/// As [`bind`], but parameters with neither a default nor a `--set` value are left NaN
/// (for inference, which starts its chains from values of its own).
pub fn bind_partial(
    lm: &LoweredModel,
    m: &Model,
    settings: &[Setting],
    data: &DataSet,
) -> Result<Bound, String> {
    bind_with(lm, m, settings, data, false)
}

fn bind_with(
    lm: &LoweredModel,
    m: &Model,
    settings: &[Setting],
    data: &DataSet,
    all_params: bool,
) -> Result<Bound, String> {
    for s in settings {
        let known =
            m.params.iter().any(|p| p.name == s.name) || m.data.iter().any(|d| d.name == s.name);
        if !known {
            return Err(unknown_name(m, &s.name));
        }
    }
    let value_of = |name: &str| settings.iter().rev().find(|s| s.name == name);

    let given = m
        .data
        .iter()
        .map(|decl| match value_of(&decl.name) {
            Some(s) => setting_value(&decl.name, &s.value).map(Some),
            None => Ok(data.get(&decl.name).cloned()),
        })
        .collect::<Result<Vec<_>, String>>()?;
    let known = inputs::data(m, given, data)?;
    let env = Env { m, data: &known };
    let (x_slots, x_len) = sizes::spans(&env, &lm.layout.x)?;
    let (p_slots, p_len) = sizes::spans(&env, &lm.layout.p)?;
    let (d_slots, d_len) = sizes::spans(&env, &lm.layout.d)?;
    let (obs_slots, obs_len) = sizes::spans(&env, &lm.layout.obs)?;
    let d = inputs::d_buffer(lm, &known, d_len)?;
    let sizes = sizes(lm, &d)?;
    // The kernels work the same sizes out for themselves; they must agree.
    if [
        sizes[size_index::X],
        sizes[size_index::P],
        sizes[size_index::D],
        sizes[size_index::OBS],
    ] != [x_len, p_len, d_len, obs_len]
    {
        return Err(format!(
            "internal: the buffer sizes of model `{}` disagree with its variables' sizes",
            m.name
        ));
    }

    let mut p = vec![f64::NAN; p_len];
    run_kernel(lm, "param_defaults", &mut [], &mut [], &d, &mut p)?;
    for (slot, span) in lm.layout.p.iter().zip(&p_slots) {
        let at = span.offset..span.offset + span.len();
        if let Some(s) = value_of(&slot.name) {
            let values = parse_values(slot, &s.value, &span.dims)?;
            if let Var::Param(i) = slot.var {
                let value = DataValue {
                    shape: span.dims.clone(),
                    values: values.clone(),
                };
                checks::bounds("parameter", &slot.name, &m.params[i].bounds, &env, &value)
                    .map_err(|e| format!("--set {}: {e}", slot.name))?;
            }
            p[at.clone()].copy_from_slice(&values);
        }
        if all_params && let Some(i) = p[at].iter().position(|v| v.is_nan()) {
            let at = if slot.ty.is_scalar() {
                String::new()
            } else {
                format!(" (element {})", i + 1)
            };
            return Err(format!(
                "parameter `{0}`{at} has no value: give it a default in the model or --set {0}=…",
                slot.name
            ));
        }
    }
    let param_values = lm
        .layout
        .p
        .iter()
        .zip(&p_slots)
        .filter(|(s, _)| s.ty.is_scalar() && matches!(s.var, Var::Param(_)))
        .map(|(s, span)| (s.name.clone(), p[span.offset]))
        .collect();
    let unused_data = data
        .values
        .keys()
        .filter(|name| !m.data.iter().any(|d| &d.name == *name) && !is_series(m, name))
        .cloned()
        .collect();
    Ok(Bound {
        p,
        d,
        sizes,
        param_values,
        x_slots,
        p_slots,
        d_slots,
        obs_slots,
        unused_data,
    })
}

/// The bound value of every data declaration (by data index), read back from `bound`'s `d`
/// buffer: what sizes and bounds written with data are folded over.
pub(crate) fn data_values(m: &Model, bound: &Bound) -> Vec<Option<DataValue>> {
    m.data
        .iter()
        .map(|decl| {
            let span = bound.d_slots.iter().find(|s| s.name == decl.name)?;
            let values = bound.d.get(span.offset..span.offset + span.len())?;
            Some(DataValue {
                shape: span.dims.clone(),
                values: values.to_vec(),
            })
        })
        .collect()
}

/// Whether `name` belongs to the observed series of a state-space model: one of its `obs`, or
/// the times (`t`, or `time` when that is not a data name of the model).
pub(crate) fn is_series(m: &Model, name: &str) -> bool {
    !m.obs.is_empty()
        && (m.obs.iter().any(|o| o.name == name)
            || name == "t"
            || (name == "time" && !m.data.iter().any(|d| d.name == "time")))
}

/// A `--set` value for data: a number, or a JSON array.
fn setting_value(name: &str, text: &str) -> Result<DataValue, String> {
    if let Ok(v) = text.parse::<f64>() {
        return Ok(DataValue::scalar(v));
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        format!("--set {name}={text}: `{text}` is not a number or a JSON array like [1, 2, 3]")
    })?;
    json_value(name, &json).map_err(|e| format!("--set {name}: {e}"))
}

fn unknown_name(m: &Model, name: &str) -> String {
    let mut names: Vec<&str> = m.params.iter().map(|p| p.name.as_str()).collect();
    names.extend(m.data.iter().map(|d| d.name.as_str()));
    if names.is_empty() {
        format!("--set {name}: model `{}` has no parameters or data", m.name)
    } else {
        format!(
            "--set {name}: model `{}` has no parameter or data of that name (it has: {})",
            m.name,
            names.join(", ")
        )
    }
}

/// The `sizes` kernel's output for data `d`, checked to be sensible lengths.
fn sizes(lm: &LoweredModel, d: &[f64]) -> Result<[usize; size_index::COUNT], String> {
    let mut out = [0.0; size_index::COUNT];
    run_kernel(lm, "sizes", &mut [], &mut [], d, &mut out)?;
    let mut sizes = [0; size_index::COUNT];
    for (s, v) in sizes.iter_mut().zip(out) {
        // Sizes come from data; a negative or absurd one is the user's data, not a bug.
        if !(0.0..=1e9).contains(&v) {
            return Err(format!(
                "the data give a buffer size of {v}, which cannot be allocated"
            ));
        }
        *s = v as usize;
    }
    Ok(sizes)
}

/// Run one of the model's small set-up kernels with the reference evaluator.
fn run_kernel(
    lm: &LoweredModel,
    name: &str,
    x: &mut [f64],
    p: &mut [f64],
    d: &[f64],
    out: &mut [f64],
) -> Result<(), String> {
    let k = lm
        .kernel(name)
        .ok_or_else(|| format!("internal: the model has no `{name}` kernel"))?;
    eval::run(
        k,
        &mut Args {
            t: 0.0,
            x,
            p,
            d,
            aux: &[],
            rng: None,
            out,
        },
    );
    Ok(())
}

fn parse_scalar(name: &str, scalar: Scalar, text: &str) -> Result<f64, String> {
    let v: f64 = text
        .parse()
        .map_err(|_| format!("--set {name}={text}: `{text}` is not a number"))?;
    check_scalar(name, scalar, v)
}

fn check_scalar(name: &str, scalar: Scalar, v: f64) -> Result<f64, String> {
    if !v.is_finite() {
        return Err(format!("--set {name}: the value must be finite"));
    }
    match scalar {
        Scalar::Int if v.fract() != 0.0 => {
            Err(format!("--set {name}: `{name}` is an integer, not {v}"))
        }
        Scalar::Bool if v != 0.0 && v != 1.0 => {
            Err(format!("--set {name}: `{name}` is a boolean (0 or 1)"))
        }
        Scalar::Spin if v != 1.0 && v != -1.0 => {
            Err(format!("--set {name}: `{name}` is a spin (1 or -1)"))
        }
        _ => Ok(v),
    }
}

/// A parameter's `--set` value: a scalar, or an array as JSON (`[1, 2, 3]`, nested for more
/// dimensions) of the parameter's shape `dims`, flattened row-major.
fn parse_values(slot: &Slot, text: &str, dims: &[usize]) -> Result<Vec<f64>, String> {
    let name = &slot.name;
    if slot.ty.is_scalar() {
        return Ok(vec![parse_scalar(name, slot.ty.scalar, text)?]);
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        format!("--set {name}: an array parameter takes a JSON array, like [1, 2, 3]")
    })?;
    let value = json_value(name, &json).map_err(|e| format!("--set {name}: {e}"))?;
    let len: usize = dims.iter().product();
    let fits = if dims.len() == 1 {
        value.values.len() == len
    } else {
        value.shape == dims
    };
    if !fits {
        let (want, got) = if dims.len() == 1 {
            (format!("{len} elements"), value.values.len().to_string())
        } else {
            (
                format!("shape {dims:?}"),
                format!("shape {:?}", value.shape),
            )
        };
        return Err(format!(
            "--set {name}: `{name}` ({}) has {want}, the value gives {got}",
            slot.ty
        ));
    }
    value
        .values
        .into_iter()
        .map(|v| check_scalar(name, slot.ty.scalar, v))
        .collect()
}

#[cfg(test)]
mod tests;

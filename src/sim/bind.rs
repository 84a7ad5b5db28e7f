//! Binding a model's inputs for a run: data scalars and parameter values (defaults,
//! overridden by `--set name=value`), checked against the model's layout.

use crate::check::model::{Bounds, Model, TExpr, TKind, Var};
use crate::check::types::Scalar;
use crate::ir::eval::{self, Args};
use crate::ir::lower::{LoweredModel, Slot, size_index};
use crate::syntax::ast::UnOp;

/// The buffers a run needs beside the state, and the sizes they imply.
#[derive(Clone, Debug)]
pub struct Bound {
    pub p: Vec<f64>,
    pub d: Vec<f64>,
    /// The `sizes` kernel's output (indexed by `size_index`).
    pub sizes: [usize; size_index::COUNT],
    /// Scalar parameter values, by name, for run metadata.
    pub param_values: Vec<(String, f64)>,
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

/// Bind `settings` (parameters and scalar data) for model `m`, lowered as `lm`.
pub fn bind(lm: &LoweredModel, m: &Model, settings: &[Setting]) -> Result<Bound, String> {
    bind_values(lm, m, settings, true)
}

/// [`bind`] for inference: parameters without a value are left NaN, for the sampler to set.
pub fn bind_for_inference(
    lm: &LoweredModel,
    m: &Model,
    settings: &[Setting],
) -> Result<Bound, String> {
    bind_values(lm, m, settings, false)
}

fn bind_values(
    lm: &LoweredModel,
    m: &Model,
    settings: &[Setting],
    require_values: bool,
) -> Result<Bound, String> {
    for s in settings {
        let known =
            m.params.iter().any(|p| p.name == s.name) || m.data.iter().any(|d| d.name == s.name);
        if !known {
            return Err(unknown_name(m, &s.name));
        }
    }
    let value_of = |name: &str| settings.iter().rev().find(|s| s.name == name);

    // Data: scalars only, each given with --set.
    let mut d = Vec::new();
    for slot in &lm.layout.d {
        if !slot.ty.is_scalar() {
            return Err(format!(
                "data `{}` is an array; `ito run` binds scalar data only (with --set)",
                slot.name
            ));
        }
        let Some(s) = value_of(&slot.name) else {
            return Err(format!(
                "data `{0}` has no value: give it with --set {0}=…",
                slot.name
            ));
        };
        d.push(parse_scalar(&slot.name, slot.ty.scalar, &s.value)?);
    }

    let sizes = sizes(lm, &d)?;
    let mut p = vec![f64::NAN; sizes[size_index::P]];
    run_kernel(lm, "param_defaults", &mut [], &mut [], &d, &mut p)?;

    // Overrides, slot by slot (scalars first at their positions, then arrays).
    let mut offset = 0;
    for slot in &lm.layout.p {
        let len = slot_len(slot)?;
        if let Some(s) = value_of(&slot.name) {
            let values = parse_values(slot, &s.value, len)?;
            if let Some(param) = m.params.iter().find(|q| q.name == slot.name) {
                check_bounds(&slot.name, &param.bounds, &values)?;
            }
            p[offset..offset + len].copy_from_slice(&values);
        }
        let missing = p[offset..offset + len].iter().position(|v| v.is_nan());
        if let Some(i) = missing.filter(|_| require_values) {
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
        offset += len;
    }
    let param_values = lm
        .layout
        .p
        .iter()
        .zip(&p)
        .filter(|(s, _)| s.ty.is_scalar() && matches!(s.var, Var::Param(_)))
        .map(|(s, v)| (s.name.clone(), *v))
        .collect();
    Ok(Bound {
        p,
        d,
        sizes,
        param_values,
    })
}

/// A `--set` value inside the parameter's declared bounds (those that are numbers; bounds
/// written with other parameters are the model's business).
fn check_bounds(name: &str, bounds: &Bounds, values: &[f64]) -> Result<(), String> {
    let lower = bounds.lower.as_ref().and_then(literal);
    let upper = bounds.upper.as_ref().and_then(literal);
    for &v in values {
        if let Some(lo) = lower.filter(|lo| v < *lo) {
            return Err(format!(
                "--set {name}: {v} is below the lower bound {lo} declared for `{name}`"
            ));
        }
        if let Some(hi) = upper.filter(|hi| v > *hi) {
            return Err(format!(
                "--set {name}: {v} is above the upper bound {hi} declared for `{name}`"
            ));
        }
    }
    Ok(())
}

/// The value of a number literal, possibly negated.
fn literal(e: &TExpr) -> Option<f64> {
    match &e.kind {
        TKind::Int(i) => Some(*i as f64),
        TKind::Real(x) => Some(*x),
        TKind::Unary(UnOp::Neg, a) => literal(a).map(|x| -x),
        TKind::Unary(UnOp::Plus, a) => literal(a),
        _ => None,
    }
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

fn slot_len(slot: &Slot) -> Result<usize, String> {
    slot.fixed_len()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "parameter `{}` has a size that depends on data, which `ito run` cannot bind",
                slot.name
            )
        })
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

/// A scalar, or an array as JSON (`[1, 2, 3]`, nested for more dimensions, row-major).
fn parse_values(slot: &Slot, text: &str, len: usize) -> Result<Vec<f64>, String> {
    if slot.ty.is_scalar() {
        return Ok(vec![parse_scalar(&slot.name, slot.ty.scalar, text)?]);
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        format!(
            "--set {}: an array parameter takes a JSON array, like [1, 2, 3]",
            slot.name
        )
    })?;
    let mut flat = Vec::new();
    flatten(&json, &mut flat)
        .ok_or_else(|| format!("--set {}: the value must be an array of numbers", slot.name))?;
    if flat.len() != len {
        return Err(format!(
            "--set {}: `{}` has {len} elements, the value gives {}",
            slot.name,
            slot.name,
            flat.len()
        ));
    }
    flat.into_iter()
        .map(|v| check_scalar(&slot.name, slot.ty.scalar, v))
        .collect()
}

fn flatten(v: &serde_json::Value, out: &mut Vec<f64>) -> Option<()> {
    match v {
        serde_json::Value::Number(n) => out.push(n.as_f64()?),
        serde_json::Value::Array(items) => {
            for i in items {
                flatten(i, out)?;
            }
        }
        _ => return None,
    }
    Some(())
}

//! The model's data: each declaration's value found (given, or a size inferred from an
//! array's length), checked against its declaration, and laid out in the `d` buffer.

use super::checks;
use super::sizes::Env;
use crate::check::model::{DataDecl, Model, TKind, Var};
use crate::check::types::{Dim, Scalar};
use crate::ir::lower::LoweredModel;
use crate::sim::data::{DataSet, DataValue};

/// Every data declaration's checked value, by data index. `given` holds the values given
/// (`--set` or the file); `file` is only named in messages.
pub(super) fn data(
    m: &Model,
    mut given: Vec<Option<DataValue>>,
    file: &DataSet,
) -> Result<Vec<Option<DataValue>>, String> {
    infer_sizes(m, &mut given);
    let mut known: Vec<Option<DataValue>> = vec![None; m.data.len()];
    // Scalars first: sizes and bounds are worked out from them.
    let scalars = || m.data.iter().enumerate().filter(|(_, d)| d.ty.is_scalar());
    for (i, decl) in scalars() {
        let v = given[i].take().ok_or_else(|| missing(decl, file))?;
        checks::shape(&decl.name, &decl.ty, &[], &v)?;
        checks::elements("data", &decl.name, &decl.ty, &v)?;
        known[i] = Some(v);
    }
    for (i, decl) in scalars() {
        let env = Env { m, data: &known };
        if let Some(v) = &known[i] {
            checks::bounds("data", &decl.name, &decl.bounds, &env, v)?;
        }
    }
    let arrays: Vec<usize> = (0..m.data.len())
        .filter(|&i| !m.data[i].ty.is_scalar())
        .collect();
    for &i in &arrays {
        let decl = &m.data[i];
        let v = given[i].take().ok_or_else(|| missing(decl, file))?;
        let dims = Env { m, data: &known }.dims(&decl.name, &decl.ty)?;
        checks::shape(&decl.name, &decl.ty, &dims, &v)?;
        checks::elements("data", &decl.name, &decl.ty, &v)?;
        known[i] = Some(v);
    }
    // Bounds last: an array's bound may be another data array.
    let env = Env { m, data: &known };
    for &i in &arrays {
        if let Some(v) = &known[i] {
            checks::bounds("data", &m.data[i].name, &m.data[i].bounds, &env, v)?;
        }
    }
    Ok(known)
}

/// A missing integer size `N` that is exactly a dimension of a given array (`y: real[N]`)
/// takes that array's length, so a CSV file of vectors needs no separate `N`.
fn infer_sizes(m: &Model, given: &mut [Option<DataValue>]) {
    for n in 0..m.data.len() {
        let decl = &m.data[n];
        if given[n].is_some() || !decl.ty.is_scalar() || decl.ty.scalar != Scalar::Int {
            continue;
        }
        let inferred = m.data.iter().zip(given.iter()).find_map(|(d, v)| {
            let v = v.as_ref().filter(|v| v.shape.len() == d.ty.rank())?;
            d.ty.dims
                .iter()
                .zip(&v.shape)
                .find_map(|(dim, &len)| match dim {
                    Dim::Data(s) if s.expr.kind == TKind::Var(Var::Data(n)) => Some(len),
                    _ => None,
                })
        });
        if let Some(len) = inferred {
            given[n] = Some(DataValue::scalar(len as f64));
        }
    }
}

fn missing(decl: &DataDecl, file: &DataSet) -> String {
    let name = &decl.name;
    match file.files().as_slice() {
        [path] => format!(
            "data `{name}` is missing: the data file {} has no `{name}`",
            path.display()
        ),
        [_, _, ..] => format!(
            "data `{name}` is missing: none of {} has `{name}`",
            file.source()
        ),
        [] if decl.ty.is_scalar() => {
            format!("data `{name}` has no value: give a data file with --data, or --set {name}=…")
        }
        [] => format!("data `{name}` is missing: give the model's data with --data FILE"),
    }
}

/// The `d` buffer: every data value, in layout order.
pub(super) fn d_buffer(
    lm: &LoweredModel,
    known: &[Option<DataValue>],
    len: usize,
) -> Result<Vec<f64>, String> {
    let mut d = Vec::with_capacity(len);
    for slot in &lm.layout.d {
        let value = match slot.var {
            Var::Data(i) => known.get(i).and_then(Option::as_ref),
            _ => None,
        };
        let value = value.ok_or_else(|| format!("internal: data `{}` is not bound", slot.name))?;
        d.extend_from_slice(&value.values);
    }
    if d.len() != len {
        return Err("internal: the data do not fill the data buffer".to_string());
    }
    Ok(d)
}

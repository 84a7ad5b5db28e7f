//! Values of expressions over constants and bound data: array sizes that depend on data,
//! and declared bounds. They are folded by the checker's constant folder, with data
//! values standing in for the variables it cannot know.

use super::SlotSpan;
use crate::check::consteval::{NotConst, fold};
use crate::check::model::{Model, TExpr, Var};
use crate::check::types::{Dim, Scalar, Type, Value};
use crate::ir::lower::Slot;
use crate::sim::data::DataValue;

/// More elements than this in one buffer is a mistake in the data, not a model to run.
const MAX_LEN: u64 = 1 << 32;

/// Lets nest at most this deep in a size (the checker has already refused cycles).
const MAX_DEPTH: usize = 256;

/// The model's data values bound so far (by data index), to fold expressions over.
pub(crate) struct Env<'a> {
    pub m: &'a Model,
    pub data: &'a [Option<DataValue>],
}

impl Env<'_> {
    /// The value of `e`, or why it has none.
    pub fn eval(&self, e: &TExpr) -> Result<Value, NotConst> {
        self.eval_at(e, 0)
    }

    fn eval_at(&self, e: &TExpr, depth: usize) -> Result<Value, NotConst> {
        if depth > MAX_DEPTH {
            return Err(NotConst::Other);
        }
        fold(e, &mut |v, span| match v {
            Var::Const(i) => Ok(self.m.consts[i].value.clone()),
            Var::Data(i) => match &self.data[i] {
                Some(d) => Ok(value(self.m.data[i].ty.scalar, d)),
                None => Err(NotConst::Depends(v, span)),
            },
            Var::Let(i) => {
                let l = &self.m.lets[i];
                match self.eval_at(&l.value, depth + 1)? {
                    Value::Int(n) if l.ty.scalar == Scalar::Real => Ok(Value::Real(n as f64)),
                    x => Ok(x),
                }
            }
            v => Err(NotConst::Depends(v, span)),
        })
    }

    /// A scalar (or element-wise) bound, when it can be known before the run.
    pub fn bound(&self, e: &TExpr) -> Option<Vec<f64>> {
        let mut out = Vec::new();
        flatten(&self.eval(e).ok()?, &mut out)?;
        Some(out)
    }

    /// The lengths of the dimensions of `name`, of type `ty`.
    pub fn dims(&self, name: &str, ty: &Type) -> Result<Vec<usize>, String> {
        ty.dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => usize::try_from(*n).map_err(|_| too_large(name, d, *n as f64)),
                Dim::Data(size) => self.size(name, d, &size.expr),
            })
            .collect()
    }

    fn size(&self, name: &str, d: &Dim, e: &TExpr) -> Result<usize, String> {
        let cannot = |why: String| format!("cannot work out the size `{d}` of `{name}`: {why}");
        let n = match self.eval(e) {
            Ok(Value::Int(n)) => n,
            Ok(v) => return Err(cannot(format!("it is {v}, not an integer"))),
            Err(NotConst::Failed(_, msg)) => return Err(cannot(msg)),
            Err(NotConst::Depends(Var::Data(i), _)) => {
                return Err(cannot(format!(
                    "it uses the data array `{}`; sizes can use scalar data only",
                    self.m.data[i].name
                )));
            }
            Err(NotConst::Depends(v, _)) => {
                return Err(cannot(format!("it uses `{}`", self.m.var_name(v))));
            }
            Err(NotConst::Other) => return Err(cannot("this form is not evaluated".into())),
        };
        if n < 0 {
            return Err(format!(
                "the size `{d}` of `{name}` is {n}; a size cannot be negative"
            ));
        }
        if n as u64 > MAX_LEN {
            return Err(too_large(name, d, n as f64));
        }
        Ok(n as usize)
    }
}

fn too_large(name: &str, d: &Dim, n: f64) -> String {
    format!("the size `{d}` of `{name}` is {n}, more elements than can be allocated")
}

/// Where each slot of a buffer lies, in layout order, and the buffer's length.
pub(crate) fn spans(env: &Env, slots: &[Slot]) -> Result<(Vec<SlotSpan>, usize), String> {
    let mut offset: u64 = 0;
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        let dims = env.dims(&slot.name, &slot.ty)?;
        let len = dims
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64))
            .filter(|&n| offset + n <= MAX_LEN)
            .ok_or_else(|| {
                format!(
                    "`{}` ({}) has more elements than can be allocated",
                    slot.name, slot.ty
                )
            })?;
        out.push(SlotSpan {
            name: slot.name.clone(),
            offset: offset as usize,
            dims,
        });
        offset += len;
    }
    Ok((out, offset as usize))
}

/// A bound data value as the folder sees it: a number of the declared type, or nested
/// arrays of them.
fn value(scalar: Scalar, d: &DataValue) -> Value {
    let one = |x: f64| match scalar {
        Scalar::Bool => Value::Bool(x != 0.0),
        Scalar::Real => Value::Real(x),
        _ => Value::Int(x as i64),
    };
    fn nest(shape: &[usize], values: &[f64], one: &dyn Fn(f64) -> Value) -> Value {
        match shape.split_first() {
            None => one(values[0]),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                Value::Array(
                    (0..n)
                        .map(|k| nest(rest, &values[k * stride..], one))
                        .collect(),
                )
            }
        }
    }
    nest(&d.shape, &d.values, &one)
}

fn flatten(v: &Value, out: &mut Vec<f64>) -> Option<()> {
    match v {
        Value::Array(items) => items.iter().try_for_each(|x| flatten(x, out)),
        x => {
            out.push(x.as_f64()?);
            Some(())
        }
    }
}

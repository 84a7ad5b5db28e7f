//! Expressions typed at the prompt: checked as the last output of the current model (so its
//! parameters, constants, `let`s, states and the file's functions are in scope), compiled,
//! and evaluated by the reference evaluator at t = 0 with the states at their initial values
//! and the parameters at their current values.

use crate::check::model::{Let, Model};
use crate::check::types::{Dim, Scalar, Type};
use crate::diag::Diagnostic;
use crate::frontend::{self, Compilation, Fragment, MainFile, PROBE_MODEL, PROBE_OUTPUT, Probe};
use crate::ir::eval::{self, Args};
use crate::ir::lower::size_index;
use crate::sim::bind::{self, Setting};
use crate::sim::data::DataSet;

/// Why an expression has no value: diagnostics (with the sources to show them), or a message.
pub enum Failure {
    Diagnostics(Box<Compilation>),
    Message(String),
}

/// An expression checked in its model: the compilation holding it, and its type.
pub struct Checked {
    compilation: Compilation,
    model: String,
    pub ty: Type,
}

/// Check `text` in the scope of `model` (or of the functions alone) of the session made of
/// `file` and `fragments`.
pub fn check(
    file: Option<&MainFile>,
    fragments: &[Fragment],
    model: Option<&str>,
    text: &str,
) -> Result<Checked, Failure> {
    let probe = Probe {
        model: model.map(str::to_string),
        name: "<input>".to_string(),
        text: text.to_string(),
    };
    let mut c = frontend::compile_session(file, fragments, Some(&probe));
    // Warnings were shown when the session's files were compiled; the probe's own (an unused
    // output) mean nothing here.
    c.diagnostics.retain(Diagnostic::is_error);
    if !c.diagnostics.is_empty() {
        return Err(Failure::Diagnostics(Box::new(c)));
    }
    let model = model.unwrap_or(PROBE_MODEL).to_string();
    let ty = probe_let(&c, &model)
        .map(|l| l.ty.clone())
        .ok_or_else(|| Failure::Message("internal: the expression was not compiled".into()))?;
    Ok(Checked {
        compilation: c,
        model,
        ty,
    })
}

fn probe_let<'c>(c: &'c Compilation, model: &str) -> Option<&'c Let> {
    let m: &Model = c.program.models.iter().find(|m| m.name == model)?;
    m.lets.iter().rev().find(|l| l.name == PROBE_OUTPUT)
}

impl Checked {
    /// The expression's value with `settings` and `data` bound (parameters without a value
    /// are NaN). `base_outputs`: the elements of the model's own outputs, which come before
    /// the expression's.
    pub fn value(
        &self,
        settings: &[Setting],
        data: &DataSet,
        base_outputs: usize,
    ) -> Result<String, String> {
        let c = &self.compilation;
        let m = crate::sim::prepare::pick(c, Some(&self.model))?;
        let lm = crate::sim::prepare::lowered(c, m)?;
        let b = bind::bind_partial(lm, m, settings, data)?;
        let nx = b.sizes[size_index::X];
        let n_out = b.sizes[size_index::OUTPUTS];
        let mut x = vec![0.0; nx];
        let mut p = b.p.clone();
        let mut rng = crate::rt::rng_from_seed(0);
        if let Some(init) = lm.kernel("init") {
            let mut scratch = vec![0.0; nx];
            eval::run(
                init,
                &mut Args {
                    t: 0.0,
                    x: &mut scratch,
                    p: &mut p,
                    d: &b.d,
                    aux: &[],
                    rng: Some(&mut rng),
                    out: &mut x,
                },
            );
        }
        let mut out = vec![0.0; n_out];
        let outputs = lm
            .kernel("outputs")
            .ok_or("internal: the expression was not compiled")?;
        eval::run(
            outputs,
            &mut Args {
                t: 0.0,
                x: &mut x,
                p: &mut p,
                d: &b.d,
                aux: &[],
                rng: Some(&mut rng),
                out: &mut out,
            },
        );
        let dims = self.dims(n_out.saturating_sub(base_outputs));
        let len: usize = dims.iter().product();
        if len > out.len() {
            return Err("internal: the expression's value is not where expected".into());
        }
        Ok(format_value(&out[out.len() - len..], &dims, self.ty.scalar))
    }

    /// The value's dimensions, given its number of elements (for sizes set by data).
    fn dims(&self, len: usize) -> Vec<usize> {
        let known: Option<Vec<usize>> = self
            .ty
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => Some(*n as usize),
                Dim::Data(_) => None,
            })
            .collect();
        // Sizes set by data: shown flat.
        known.unwrap_or_else(|| vec![len])
    }
}

/// `values` shaped by `dims`, as the language writes them: `1.5`, `3`, `true`, `[1, 2]`.
pub fn format_value(values: &[f64], dims: &[usize], scalar: Scalar) -> String {
    match dims.split_first() {
        None => values
            .first()
            .map_or(String::new(), |&v| format_scalar(v, scalar)),
        Some((&n, rest)) => {
            let inner: usize = rest.iter().product();
            let items: Vec<String> = (0..n)
                .map(|i| {
                    let from = (i * inner).min(values.len());
                    let to = ((i + 1) * inner).min(values.len());
                    format_value(&values[from..to], rest, scalar)
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn format_scalar(v: f64, scalar: Scalar) -> String {
    match scalar {
        Scalar::Bool => (v != 0.0).to_string(),
        s if s.is_integer() && v.is_finite() => format!("{}", v as i64),
        // `1.0`, not `1`: a real looks like one.
        _ => format!("{v:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_the_language_writes_them() {
        assert_eq!(format_value(&[1.5], &[], Scalar::Real), "1.5");
        assert_eq!(format_value(&[1.0], &[], Scalar::Real), "1.0");
        assert_eq!(format_value(&[3.0], &[], Scalar::Int), "3");
        assert_eq!(format_value(&[1.0], &[], Scalar::Bool), "true");
        assert_eq!(
            format_value(&[1.0, 2.0, 3.0, 4.0], &[2, 2], Scalar::Real),
            "[[1.0, 2.0], [3.0, 4.0]]"
        );
    }
}

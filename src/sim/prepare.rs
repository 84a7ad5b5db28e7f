//! From a compiled file to a model ready to run: pick the model, check that it is one the
//! continuous engines simulate, bind its inputs and compile its kernels.

use super::bind::{self, Setting};
use super::native::NativeModel;
use crate::check::model::{Dynamics, ModelKind};
use crate::frontend::Compilation;

/// The model of `c` named `name` (or its only model), compiled with `settings` bound.
pub fn prepare(
    c: &Compilation,
    name: Option<&str>,
    settings: &[Setting],
) -> Result<NativeModel, String> {
    let models = &c.program.models;
    let m = match name {
        Some(n) => models.iter().find(|m| m.name == n).ok_or_else(|| {
            format!(
                "the file has no model `{n}` (it has: {})",
                names(c).join(", ")
            )
        })?,
        None => match models.as_slice() {
            [m] => m,
            [] => return Err("the file defines no model".to_string()),
            _ => {
                return Err(format!(
                    "the file defines several models; pick one with --model ({})",
                    names(c).join(", ")
                ));
            }
        },
    };
    match m.kind {
        ModelKind::Dynamic(Dynamics::Sde | Dynamics::Ode)
        | ModelKind::StateSpace(Dynamics::Sde | Dynamics::Ode) => {}
        kind => {
            return Err(format!(
                "model `{}` is a {kind} model; `ito run` integrates SDE and ODE models",
                m.name
            ));
        }
    }
    let lm = c
        .lowered
        .iter()
        .find(|l| l.name == m.name)
        .ok_or_else(|| format!("model `{}` could not be compiled to kernels", m.name))?;
    let bound = bind::bind(lm, m, settings)?;
    NativeModel::new(m, lm, bound)
}

fn names(c: &Compilation) -> Vec<String> {
    c.program
        .models
        .iter()
        .map(|m| format!("`{}`", m.name))
        .collect()
}

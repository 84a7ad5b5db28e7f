//! From a compiled file to a model ready to run: pick the model, check that it is one the
//! continuous engines simulate, bind its inputs and compile its kernels.

use super::bind::{self, Setting};
use super::data::DataSet;
use super::mjp::MjpModel;
use super::native::NativeModel;
pub use super::native::ReactionView;
use crate::check::model::{Dynamics, Model, ModelKind};
use crate::frontend::Compilation;
use crate::ir::lower::LoweredModel;

/// The model of `c` named `name` (or its only model), compiled with `settings` and `data` bound.
pub fn prepare(
    c: &Compilation,
    name: Option<&str>,
    settings: &[Setting],
    data: &DataSet,
) -> Result<NativeModel, String> {
    let m = pick(c, name)?;
    match m.kind {
        ModelKind::Dynamic(Dynamics::Sde | Dynamics::Ode)
        | ModelKind::StateSpace(Dynamics::Sde | Dynamics::Ode) => {}
        kind => {
            let hint = if kind == ModelKind::Graphical {
                "; fit it with `ito infer`"
            } else {
                ""
            };
            return Err(format!(
                "model `{}` is a {kind} model; `ito run` simulates SDE, ODE and jump-process models{hint}",
                m.name
            ));
        }
    }
    let lm = lowered(c, m)?;
    let bound = bind::bind(lm, m, settings, data)?;
    NativeModel::new(m, lm, bound)
}

/// The jump process `name` of `c` (or its only model), compiled with `settings` and `data` bound.
pub fn prepare_jumps(
    c: &Compilation,
    name: Option<&str>,
    settings: &[Setting],
    data: &DataSet,
) -> Result<MjpModel, String> {
    let m = pick(c, name)?;
    if !matches!(
        m.kind,
        ModelKind::Dynamic(Dynamics::Mjp) | ModelKind::StateSpace(Dynamics::Mjp)
    ) {
        return Err(format!(
            "model `{}` is a {} model, not a jump process",
            m.name, m.kind
        ));
    }
    let lm = lowered(c, m)?;
    let bound = bind::bind(lm, m, settings, data)?;
    MjpModel::new(m, lm, bound)
}

/// A jump-diffusion `name` of `c` (or its only model): its continuous part and its jumps,
/// compiled with `settings` and `data` bound.
pub fn prepare_jump_diffusion(
    c: &Compilation,
    name: Option<&str>,
    settings: &[Setting],
    data: &DataSet,
) -> Result<(NativeModel, MjpModel), String> {
    let m = pick(c, name)?;
    if !matches!(
        m.kind,
        ModelKind::Dynamic(Dynamics::JumpDiffusion)
            | ModelKind::StateSpace(Dynamics::JumpDiffusion)
    ) {
        return Err(format!(
            "model `{}` is a {} model, not a jump-diffusion",
            m.name, m.kind
        ));
    }
    let lm = lowered(c, m)?;
    let bound = bind::bind(lm, m, settings, data)?;
    let continuous = NativeModel::new(m, lm, bound.clone())?;
    Ok((continuous, MjpModel::new(m, lm, bound)?))
}

/// The reaction network of `c` named `name` (or its only model) as a continuous system in
/// `view`, compiled with `settings` and `data` bound. Models with anything but reactions are refused.
pub fn prepare_view(
    c: &Compilation,
    name: Option<&str>,
    settings: &[Setting],
    data: &DataSet,
    view: ReactionView,
) -> Result<NativeModel, String> {
    let m = pick(c, name)?;
    if let Some(why) = not_a_network(m) {
        return Err(format!("`{}` needs a reaction network; {why}", view.name()));
    }
    let lm = lowered(c, m)?;
    let bound = bind::bind(lm, m, settings, data)?;
    NativeModel::reaction_view(m, lm, bound, view)
}

/// What keeps `m` from being a reaction network and nothing else, if anything.
fn not_a_network(m: &Model) -> Option<String> {
    if let Some(j) = m.jumps.first() {
        return Some(format!("`jump {}` is a general jump", j.name));
    }
    if !m.events.is_empty() {
        return Some(format!(
            "model `{}` has events, which change the state outside the reactions",
            m.name
        ));
    }
    if let Some(e) = m.equations.first() {
        return Some(format!(
            "`d{} = …` is a differential equation",
            m.states[e.state].name
        ));
    }
    if let Some(s) = m.states.first() {
        return Some(format!("state `{}: {}` is not a species", s.name, s.ty));
    }
    if m.reactions.is_empty() {
        return Some(format!("model `{}` has no reactions", m.name));
    }
    None
}

/// The model of `c` named `name`, or its only model.
pub fn pick<'c>(c: &'c Compilation, name: Option<&str>) -> Result<&'c Model, String> {
    let models = &c.program.models;
    match name {
        Some(n) => models.iter().find(|m| m.name == n).ok_or_else(|| {
            format!(
                "the file has no model `{n}` (it has: {})",
                names(c).join(", ")
            )
        }),
        None => match models.as_slice() {
            [m] => Ok(m),
            [] => Err("the file defines no model".to_string()),
            _ => Err(format!(
                "the file defines several models; pick one with --model ({})",
                names(c).join(", ")
            )),
        },
    }
}

/// The kernels of model `m`.
/// The lowered form of model `m` of `c`.
pub fn lowered<'c>(c: &'c Compilation, m: &Model) -> Result<&'c LoweredModel, String> {
    c.lowered
        .iter()
        .find(|l| l.name == m.name)
        .ok_or_else(|| format!("model `{}` could not be compiled to kernels", m.name))
}

fn names(c: &Compilation) -> Vec<String> {
    c.program
        .models
        .iter()
        .map(|m| format!("`{}`", m.name))
        .collect()
}

//! What kind of model this is, and how noise enters its equations.

use super::checker::Checker;
use super::model::*;
use super::types::Type;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, StmtKind};

impl Checker<'_, '_> {
    /// The model's kind from what it contains; `None` (with an error) if it contains nothing
    /// to simulate or sample.
    /// Presence is read from the statements as written, so that a statement that failed to
    /// check does not make the model look like another kind (or empty).
    pub fn classify(&mut self, m: &Model, model: &ast::Model) -> Option<ModelKind> {
        let written = |f: fn(&StmtKind) -> bool| model.stmts.iter().any(|s| f(&s.kind));
        let has_eq = written(|k| matches!(k, StmtKind::Equation { .. }));
        let has_noise = m.equations.iter().any(|e| !e.diffusion.is_empty());
        let has_jumps = written(|k| matches!(k, StmtKind::Reactions(_) | StmtKind::Jump(_)));
        let broken = written(|k| matches!(k, StmtKind::Error { .. }));
        let dynamics = match (has_eq, has_jumps) {
            (true, false) if has_noise => Some(Dynamics::Sde),
            (true, false) => Some(Dynamics::Ode),
            (false, true) => Some(Dynamics::Mjp),
            (true, true) => Some(Dynamics::JumpDiffusion),
            (false, false) => None,
        };
        if let Some(d) = dynamics {
            return Some(if m.obs.is_empty() {
                ModelKind::Dynamic(d)
            } else {
                ModelKind::StateSpace(d)
            });
        }
        for o in &m.obs {
            self.error(
                Diagnostic::new(
                    Code::ObsWithoutDynamics,
                    o.span,
                    format!("`obs {}` needs a model with dynamics", o.name),
                    "nothing evolves in time to be observed",
                )
                .with_help("use `data` for observations in a static model"),
            );
        }
        let has_target =
            written(|k| matches!(k, StmtKind::Potential { .. } | StmtKind::Energy { .. }));
        if has_target {
            return Some(ModelKind::Target);
        }
        let has_tilde = written(|k| {
            matches!(
                k,
                StmtKind::Tilde { .. } | StmtKind::Param { prior: Some(_), .. }
            )
        });
        if has_tilde {
            return Some(ModelKind::Graphical);
        }
        if broken {
            // The statement that did not parse may have been the model's content.
            return None;
        }
        let name_span = model.name.span;
        self.error(
            Diagnostic::new(
                Code::EmptyModel,
                name_span,
                format!("model `{}` has nothing to simulate or sample", m.name),
                "no equations, reactions, jumps, `~` statements, potential or energy",
            )
            .with_help("add dynamics (`dx = … dt`, `reactions { … }`), distributions (`~`) or a `potential`"),
        );
        None
    }

    /// How noise enters the equations, or `None` without noise.
    pub fn noise_structure(&mut self, m: &Model) -> Option<NoiseStructure> {
        let terms: Vec<(&Equation, &NoiseTerm)> = m
            .equations
            .iter()
            .flat_map(|e| e.diffusion.iter().map(move |t| (e, t)))
            .collect();
        if terms.is_empty() {
            return None;
        }
        let mut additive = true;
        for (_, t) in &terms {
            let depends = self
                .vars_in(&t.coeff)
                .into_iter()
                .any(|(v, _)| matches!(v, Var::State(_) | Var::Species(_)));
            if depends {
                additive = false;
                break;
            }
        }
        let shape = if is_diagonal(m, &terms) {
            NoiseShape::Diagonal
        } else {
            let mut noises: Vec<usize> = terms.iter().map(|(_, t)| t.noise).collect();
            noises.dedup();
            let single_scalar =
                noises.iter().all(|&n| n == noises[0]) && m.noises[noises[0]].ty.is_scalar();
            if single_scalar {
                NoiseShape::Scalar
            } else {
                NoiseShape::General
            }
        };
        Some(NoiseStructure { additive, shape })
    }
}

/// Each driven state element has its own noise component, and no component drives two.
fn is_diagonal(m: &Model, terms: &[(&Equation, &NoiseTerm)]) -> bool {
    if m.equations.iter().any(|e| e.diffusion.len() > 1) {
        return false;
    }
    // Components claimed so far: a whole noise, or one constant component of it.
    let mut claimed: Vec<(usize, Option<Vec<i64>>)> = Vec::new();
    for (eq, t) in terms {
        let noise_ty: &Type = &m.noises[t.noise].ty;
        let state_ty = &m.states[eq.state].ty;
        let lhs_rank = state_ty.rank() - eq.indices.len();
        let constant_index: Option<Vec<i64>> = t
            .index
            .iter()
            .map(|i| match i.kind {
                TKind::Int(v) => Some(v),
                _ => None,
            })
            .collect();
        let claim = if t.index.is_empty() {
            // A scalar noise on one element, or an array noise element-wise on the whole state.
            let elementwise =
                !noise_ty.is_scalar() && noise_ty.dims == state_ty.dims && eq.indices.is_empty();
            let single_element = lhs_rank == 0 && eq.binders.is_empty();
            if !(elementwise || noise_ty.is_scalar() && single_element) {
                return false;
            }
            (t.noise, None)
        } else if lhs_rank == 0 && eq.binders.is_empty() && constant_index.is_some() {
            // `dx = … dW[1]`, `dy = … dW[2]`: one constant component per scalar element.
            (t.noise, constant_index)
        } else if noise_ty.dims == state_ty.dims
            && t.index.len() == eq.indices.len()
            && t.index
                .iter()
                .zip(&eq.indices)
                .all(|(a, b)| same_index(a, b))
        {
            // `dW[i]` against `dx[i]`: the same loop variables in the same places.
            (t.noise, None)
        } else {
            return false;
        };
        let clash = claimed
            .iter()
            .any(|(n, c)| *n == claim.0 && (c.is_none() || claim.1.is_none() || *c == claim.1));
        if clash {
            return false;
        }
        claimed.push(claim);
    }
    true
}

fn same_index(a: &TExpr, b: &TExpr) -> bool {
    match (&a.kind, &b.kind) {
        (TKind::Var(x), TKind::Var(y)) => x == y,
        (TKind::Int(x), TKind::Int(y)) => x == y,
        _ => false,
    }
}

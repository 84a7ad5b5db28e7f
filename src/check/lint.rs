//! Warnings for likely mistakes: unused declarations, states that never change, species no
//! reaction touches, observations without an observation model.

use super::checker::Checker;
use super::model::*;
use crate::diag::{Code, Diagnostic};

impl Checker<'_, '_> {
    pub fn lint(&mut self, m: &Model, partial: &[bool]) {
        for (i, p) in m.params.iter().enumerate() {
            if !self.used.contains(&Var::Param(i)) {
                let span = self.decls.params[i].name.span;
                self.error(
                    Diagnostic::new(
                        Code::UnusedParam,
                        span,
                        format!("parameter `{}` is never used", p.name),
                        "declared here",
                    )
                    .with_help("remove it, or use it in the model"),
                );
            }
        }
        let unused = |c: &mut Self, v: Var, what: &str| {
            if !c.used.contains(&v)
                && let Some(d) = c.decl(v)
            {
                let (span, name) = (d.name.span, d.name.name.clone());
                c.error(
                    Diagnostic::new(
                        Code::Unused,
                        span,
                        format!("{what} `{name}` is never used"),
                        "declared here",
                    )
                    .with_help("remove it, or use it in the model"),
                );
            }
        };
        for i in 0..m.consts.len() {
            unused(self, Var::Const(i), "constant");
        }
        for (i, l) in m.lets.iter().enumerate() {
            if l.role == LetRole::Let {
                unused(self, Var::Let(i), "value");
            }
        }
        for i in 0..m.data.len() {
            unused(self, Var::Data(i), "data");
        }
        for (i, n) in m.noises.iter().enumerate() {
            if !self.used_noises.contains(&i) {
                self.error(
                    Diagnostic::new(
                        Code::Unused,
                        self.decls.noises[i].name.span,
                        format!("noise `{}` is never used", n.name),
                        "declared here",
                    )
                    .with_help(format!(
                        "use it in an equation as `d{}`, or remove it",
                        n.name
                    )),
                );
            }
        }

        let mut assigned = vec![false; m.states.len()];
        let mut by_action = vec![false; m.states.len()];
        let mut species_touched = vec![false; m.species.len()];
        for e in &m.equations {
            assigned[e.state] = true;
        }
        for r in &m.reactions {
            for &(s, _) in r.reactants.iter().chain(&r.products) {
                species_touched[s] = true;
            }
        }
        let actions = m
            .jumps
            .iter()
            .flat_map(|j| &j.actions)
            .chain(m.events.iter().flat_map(|e| &e.actions));
        for a in actions {
            if let Action::Assign { target, .. } = a {
                match target {
                    Var::State(s) => {
                        assigned[*s] = true;
                        by_action[*s] = true;
                    }
                    Var::Species(s) => species_touched[*s] = true,
                    _ => {}
                }
            }
        }
        let dynamic = matches!(m.kind, ModelKind::Dynamic(_) | ModelKind::StateSpace(_));
        for (i, s) in m.states.iter().enumerate() {
            let span = self.decls.states[i].name.span;
            if dynamic && !assigned[i] {
                self.error(
                    Diagnostic::new(
                        Code::StateWithoutDynamics,
                        span,
                        format!("state `{}` never changes", s.name),
                        "no equation, jump or event changes it",
                    )
                    .with_help(format!(
                        "add `d{} = … dt`, or make it a `param` or `let`",
                        s.name
                    )),
                );
            } else if partial.get(i).copied().unwrap_or(false) && !by_action[i] {
                self.error(
                    Diagnostic::new(
                        Code::StateWithoutDynamics,
                        span,
                        format!("some elements of `{}` have no equation", s.name),
                        "these elements stay at their initial values",
                    )
                    .with_help("cover every index with the equations' `for` ranges"),
                );
            }
        }
        for (i, s) in m.species.iter().enumerate() {
            if !species_touched[i] {
                let span = self.decls.species[i].name.span;
                self.error(
                    Diagnostic::new(
                        Code::UntouchedSpecies,
                        span,
                        format!("species `{}` is changed by no reaction", s.name),
                        "its count stays at its initial value",
                    )
                    .with_help("add a reaction that produces or consumes it, or make it a `const`"),
                );
            }
        }
        for (i, o) in m.obs.iter().enumerate() {
            if !m.tildes.iter().any(|t| t.target == Var::Obs(i)) {
                let span = self.decls.obs[i].name.span;
                self.error(
                    Diagnostic::new(
                        Code::UnobservedObs,
                        span,
                        format!("`obs {}` has no observation model", o.name),
                        "never on the left of `~`",
                    )
                    .with_help(if o.ty.scalar.is_integer() {
                        format!(
                            "say how it relates to the state, e.g. `{} ~ Poisson(…)`",
                            o.name
                        )
                    } else {
                        format!(
                            "say how it relates to the state, e.g. `{} ~ Normal(…, …)`",
                            o.name
                        )
                    }),
                );
            }
        }
    }
}

//! `~` statements: priors on parameters, likelihoods of data, and observation models of
//! `obs` values in state-space models.

use super::checker::{Checker, Sym};
use super::decls::DistTarget;
use super::expr::texpr;
use super::model::*;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

impl Checker<'_, '_> {
    pub fn tilde(
        &mut self,
        target: &ast::LValue,
        dist: &ast::Distribution,
        binders: &[ast::Binder],
        span: Span,
    ) -> Option<Tilde> {
        let name = &target.name.name;
        let (var, role, what) = match self.symbols.get(name).map(|&(s, _)| s) {
            Some(Sym::Var(v @ Var::Param(_))) => (v, TildeRole::Prior, DistTarget::Param),
            Some(Sym::Var(v @ Var::Data(_))) => (v, TildeRole::Likelihood, DistTarget::Data),
            Some(Sym::Var(v @ Var::Obs(_))) => (v, TildeRole::Observation, DistTarget::Obs),
            Some(Sym::Poisoned) => return None,
            Some(Sym::Var(v)) => {
                let help = match v {
                    Var::State(_) => format!(
                        "for a random initial value write `state {name} ~ …`; to observe a state, \
                         declare `obs y: …` and write `y ~ …({name}, …)`"
                    ),
                    Var::Let(_) => "a `let` is computed from other values, not drawn".to_string(),
                    Var::Species(_) => format!(
                        "to observe a species, declare `obs y: int` and write `y ~ …({name}, …)`"
                    ),
                    _ => "`~` relates a parameter, data or an observation to a distribution"
                        .to_string(),
                };
                self.error(
                    Diagnostic::new(
                        Code::BadTilde,
                        target.name.span,
                        format!("`~` cannot be applied to `{name}`"),
                        format!("`{name}` is {}", super::dynamics::kind_phrase(v)),
                    )
                    .with_help(help),
                );
                return None;
            }
            Some(Sym::Noise(_)) => {
                self.error(Diagnostic::new(
                    Code::BadTilde,
                    target.name.span,
                    format!("`~` cannot be applied to noise `{name}`"),
                    "a Wiener process has a fixed law",
                ));
                return None;
            }
            None if super::checker::reserved(name).is_some() => {
                let why = super::checker::reserved(name).unwrap_or_default();
                self.error(
                    Diagnostic::new(
                        Code::BadTilde,
                        target.name.span,
                        format!("`~` cannot be applied to `{name}`"),
                        why,
                    )
                    .with_help("`~` relates a parameter, data or an observation to a distribution"),
                );
                return None;
            }
            None => {
                let e = ast::Expr {
                    kind: ast::ExprKind::Name(target.name.clone()),
                    span: target.name.span,
                };
                self.expr(&e);
                return None;
            }
        };
        self.used.insert(var);
        self.scoped(|c| {
            let binders_t = c.binders(binders);
            let ty = c.var_type(var);
            let base = texpr(TKind::Var(var), ty, target.name.span);
            let lhs = if target.indices.is_empty() {
                base
            } else {
                c.index(base, &target.indices, target.span)
            };
            if lhs.ty.is_error() {
                return None;
            }
            let indices = match &lhs.kind {
                TKind::Index(_, idx) => idx.clone(),
                _ => Vec::new(),
            };
            for b in &binders_t {
                let used = indices
                    .iter()
                    .any(|i| c.reaches(i, Var::Local(b.local)).is_some());
                if !used {
                    let local = &c.locals[b.local];
                    let (lname, lspan) = (local.name.clone(), local.span);
                    c.error(
                        Diagnostic::new(
                            Code::BadEquationIndex,
                            lspan,
                            format!("loop variable `{lname}` does not index the left side"),
                            "this loop would repeat the same statement",
                        )
                        .with_help(format!("write `{name}[{lname}] ~ …`, or drop the `for`")),
                    );
                    return None;
                }
            }
            let call = c.dist_call(dist, what, Some(&lhs.ty), name)?;
            if role == TildeRole::Likelihood
                && let Some((v, at)) = c
                    .vars_in_args(&call)
                    .into_iter()
                    .find(|(v, _)| matches!(v, Var::State(_) | Var::Species(_)))
            {
                let latent = c.var_name(v);
                c.error(
                    Diagnostic::new(
                        Code::DataDependsOnState,
                        at,
                        format!("the likelihood of data `{name}` depends on `{latent}`, which changes over time"),
                        format!("`{latent}` is {}", super::dynamics::kind_phrase(v)),
                    )
                    .with_help(format!(
                        "observations of a latent process are declared `obs {name}: …`; they are \
                         matched to the path at the data's observation times"
                    )),
                );
                return None;
            }
            Some(Tilde {
                role,
                target: var,
                indices,
                binders: binders_t,
                dist: call,
                span,
            })
        })
    }

    fn vars_in_args(&mut self, call: &DistCall) -> Vec<(Var, Span)> {
        let args = call.args.clone();
        args.iter().flat_map(|a| self.vars_in(a)).collect()
    }
}

//! Distributions after `~` (priors, likelihoods, observations, random initial values and
//! draws): known names, arity, argument types and shapes, and the target's support.

use super::builtins::{ArgKind, DistKind};
use super::checker::Checker;
use super::decls::DistTarget;
use super::model::*;
use super::suggest::did_you_mean;
use super::types::{Scalar, Type};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast;

impl Checker<'_, '_> {
    /// Check a distribution used for `target` (a declared value of type `ty`, or a fresh draw).
    pub fn dist_call(
        &mut self,
        d: &ast::Distribution,
        target: DistTarget,
        ty: Option<&Type>,
        target_name: &str,
    ) -> Option<DistCall> {
        let args: Vec<TExpr> = d.args.iter().map(|a| self.expr(a)).collect();
        let name = &d.name.name.name;
        let kind = match (&d.name.module, DistKind::lookup(name)) {
            (None, Some(k)) => k,
            _ => {
                let help = did_you_mean(name, DistKind::ALL.iter().map(|k| k.name()))
                    .map(|s| format!("did you mean `{s}`?"));
                self.error(
                    Diagnostic::new(
                        Code::UnknownDistribution,
                        d.name.span,
                        format!("unknown distribution `{}`", name),
                        "not a built-in distribution",
                    )
                    .with_optional_help(help),
                );
                return None;
            }
        };
        let params = kind.params();
        if args.len() != params.len() {
            let names: Vec<&str> = params.iter().map(|p| p.0).collect();
            self.error(Diagnostic::new(
                Code::Arity,
                d.span,
                format!(
                    "`{}` takes {} argument{} ({}), but {} {} given",
                    kind.name(),
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    names.join(", "),
                    args.len(),
                    if args.len() == 1 { "is" } else { "are" }
                ),
                "wrong number of arguments",
            ));
            return None;
        }
        if args.iter().any(|a| a.ty.is_error()) || ty.is_some_and(Type::is_error) {
            return None;
        }
        // The variate's shape: the target's, or for a draw the arguments' broadcast shape.
        let support = kind.support();
        let k_len = args
            .iter()
            .zip(params)
            .find(|(_, (_, k))| *k == ArgKind::Vector)
            .and_then(|(a, _)| a.ty.dims.first().cloned());
        let mut ok = true;
        for (arg, &(pname, pkind)) in args.iter().zip(params) {
            let bad = |c: &mut Self, expected: String| {
                c.error(
                    Diagnostic::new(
                        Code::BadDistributionArg,
                        arg.span,
                        format!("argument `{pname}` of `{}` must be {expected}", kind.name()),
                        format!("this is `{}`", arg.ty),
                    )
                    .with_optional_help(
                        (!arg.ty.is_scalar() && !support.is_multivariate()).then(|| {
                            format!("an array argument must have the shape of `{target_name}`")
                        }),
                    ),
                );
            };
            let vectorised_ok = |dims: &Vec<super::types::Dim>| {
                dims.is_empty()
                    || ty.is_some_and(|t| &t.dims == dims && !support.is_multivariate())
                    || (target == DistTarget::Draw && ty.is_none())
            };
            match pkind {
                ArgKind::Real => {
                    if !arg.ty.scalar.is_numeric() || !vectorised_ok(&arg.ty.dims) {
                        bad(self, "a real number".to_string());
                        ok = false;
                    }
                }
                ArgKind::Int => {
                    if !arg.ty.scalar.is_integer() || !vectorised_ok(&arg.ty.dims) {
                        bad(self, "an integer".to_string());
                        ok = false;
                    }
                }
                ArgKind::Vector => {
                    if !arg.ty.scalar.is_numeric() || arg.ty.rank() != 1 {
                        bad(self, "a vector (`real[K]`)".to_string());
                        ok = false;
                    }
                }
                ArgKind::Matrix => {
                    let square = arg.ty.rank() == 2
                        && Some(&arg.ty.dims[0]) == k_len.as_ref()
                        && arg.ty.dims[1] == arg.ty.dims[0];
                    if !arg.ty.scalar.is_numeric() || !square {
                        let k = k_len.as_ref().map_or("K".to_string(), |k| k.to_string());
                        bad(self, format!("a {k}×{k} matrix"));
                        ok = false;
                    }
                }
            }
        }
        if ok && ty.is_none() && !support.is_multivariate() {
            // A fresh draw: its arguments must agree with each other.
            let mut shape: Vec<super::types::Dim> = Vec::new();
            for a in &args {
                match super::types::broadcast(&shape, &a.ty.dims) {
                    Some(s) => shape = s,
                    None => {
                        self.error(Diagnostic::new(
                            Code::BadDistributionArg,
                            a.span,
                            format!("the arguments of `{}` have different shapes", kind.name()),
                            format!("this is `{}`", a.ty),
                        ));
                        return None;
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        if let Some(ty) = ty {
            self.check_support(kind, ty, target, target_name, d, k_len.as_ref())?;
        }
        Some(DistCall {
            dist: kind,
            args,
            span: d.span,
        })
    }

    fn check_support(
        &mut self,
        kind: DistKind,
        ty: &Type,
        target: DistTarget,
        target_name: &str,
        d: &ast::Distribution,
        k_len: Option<&super::types::Dim>,
    ) -> Option<()> {
        let support = kind.support();
        let problem = if ty.scalar == Scalar::Spin {
            Some("spins are -1 or 1, and no distribution is over spins".to_string())
        } else if support.is_multivariate() {
            (ty.scalar != Scalar::Real || ty.dims.last() != k_len).then(|| {
                let k = k_len.map_or("K".to_string(), |k| k.to_string());
                format!("`{}` draws vectors of length {k}", kind.name())
            })
        } else if support.is_discrete() {
            (!ty.scalar.is_integer())
                .then(|| format!("`{}` puts mass on {}", kind.name(), support.describe()))
        } else {
            let int_data = target == DistTarget::Data && ty.scalar == Scalar::Int;
            (ty.scalar != Scalar::Real && !int_data).then(|| {
                format!(
                    "`{}` is a distribution over {}",
                    kind.name(),
                    support.describe()
                )
            })
        };
        let Some(problem) = problem else {
            return Some(());
        };
        self.error(
            Diagnostic::new(
                Code::Support,
                d.span,
                format!("`{target_name}` does not fit `{}`", kind.name()),
                problem,
            )
            .with_help(format!("`{target_name}` is `{ty}`")),
        );
        None
    }

    /// The type of a fresh draw `let J ~ D(args)`.
    pub fn variate_type(call: &DistCall) -> Type {
        let support = call.dist.support();
        if support.is_multivariate() {
            let k = call.args[0].ty.dims.first().cloned();
            return Type::array(Scalar::Real, k.into_iter().collect());
        }
        let dims = call
            .args
            .iter()
            .find(|a| {
                !a.ty.is_scalar() && call.dist.params().iter().all(|p| p.1 != ArgKind::Vector)
            })
            .map(|a| a.ty.dims.clone())
            .unwrap_or_default();
        Type::array(
            if support.is_discrete() {
                Scalar::Int
            } else {
                Scalar::Real
            },
            dims,
        )
    }
}

//! Calls: user functions (checked on first use), built-in math functions with their
//! signatures, and `grad(expr, x)`.

use super::builtins::{Builtin, DistKind, Signature};
use super::checker::Checker;
use super::expr::{error_expr, texpr};
use super::model::*;
use super::suggest::did_you_mean;
use super::types::{Scalar, Type, broadcast};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

impl Checker<'_, '_> {
    pub(crate) fn call(&mut self, func: &ast::QualName, args: &[ast::Expr], span: Span) -> TExpr {
        let name = func.name.name.as_str();
        if let Some(module) = &func.module {
            let Some(id) = self.fns.lookup_qualified(self.file, &module.name, name) else {
                if self.fns.is_failed_alias(self.file, &module.name) {
                    return error_expr(span);
                }
                let d = self.fns.unknown_qualified(self.file, module, &func.name);
                self.error(d);
                return error_expr(span);
            };
            return self.call_user(id, func, args, span);
        }
        if name == "grad" {
            return self.grad(args, span);
        }
        if let Some(id) = self.fns.lookup(self.file, name) {
            return self.call_user(id, func, args, span);
        }
        let typed: Vec<TExpr> = args.iter().map(|a| self.expr(a)).collect();
        let Some(builtin) = Builtin::lookup(name, typed.len()) else {
            if DistKind::lookup(name).is_some() {
                self.error(
                    Diagnostic::new(
                        Code::UnknownFunction,
                        func.span,
                        format!("`{name}` is a distribution, not a function"),
                        "cannot be called here",
                    )
                    .with_help(format!("use it after `~`: `x ~ {name}(…)`")),
                );
                return error_expr(span);
            }
            let candidates: Vec<String> = super::builtins::function_names()
                .map(str::to_string)
                .chain(self.fns.names(self.file))
                .collect();
            let help = did_you_mean(name, candidates.iter().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| self.fns.failed_import_hint(self.file));
            self.error(
                Diagnostic::new(
                    Code::UnknownFunction,
                    func.span,
                    format!("unknown function `{name}`"),
                    "not a built-in or declared function",
                )
                .with_optional_help(help),
            );
            return error_expr(span);
        };
        if typed.len() != builtin.arity() {
            let expected = match builtin {
                Builtin::MinOf | Builtin::MaxOf | Builtin::Min2 | Builtin::Max2 => {
                    "1 (an array) or 2".to_string()
                }
                b => b.arity().to_string(),
            };
            self.error(Diagnostic::new(
                Code::Arity,
                span,
                format!(
                    "`{name}` takes {expected} argument{}, but {} {} given",
                    if expected == "1" { "" } else { "s" },
                    typed.len(),
                    if typed.len() == 1 { "is" } else { "are" }
                ),
                "wrong number of arguments",
            ));
            return error_expr(span);
        }
        let ty = self.builtin_type(builtin, &typed, span);
        texpr(TKind::Call(builtin, typed), ty, span)
    }

    fn builtin_type(&mut self, b: Builtin, args: &[TExpr], span: Span) -> Type {
        if args.iter().any(|a| a.ty.is_error()) {
            return Type::ERROR;
        }
        for a in args {
            if !a.ty.scalar.is_numeric() {
                self.error(Diagnostic::new(
                    Code::TypeMismatch,
                    a.span,
                    format!("`{}` needs numbers", b.name()),
                    format!("this is `{}`", a.ty),
                ));
                return Type::ERROR;
            }
        }
        let int_args = args.iter().all(|a| a.ty.scalar.is_integer());
        match b.signature() {
            Signature::Unary => args[0].ty.with_scalar(Scalar::Real),
            Signature::UnaryKeepInt => {
                args[0]
                    .ty
                    .with_scalar(if int_args { Scalar::Int } else { Scalar::Real })
            }
            Signature::Binary | Signature::BinaryKeepInt | Signature::IntegerBinary => {
                if b.signature() == Signature::IntegerBinary && !int_args {
                    let bad = args
                        .iter()
                        .find(|a| !a.ty.scalar.is_integer())
                        .unwrap_or(&args[0]);
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            bad.span,
                            format!("`{}` divides integers", b.name()),
                            format!("this is `{}`", bad.ty),
                        )
                        .with_help("for real division use `/`"),
                    );
                    return Type::ERROR;
                }
                let Some(dims) = broadcast(&args[0].ty.dims, &args[1].ty.dims) else {
                    self.error(Diagnostic::new(
                        Code::ShapeMismatch,
                        span,
                        format!("`{}` needs arguments of the same shape", b.name()),
                        format!("`{}` and `{}`", args[0].ty, args[1].ty),
                    ));
                    return Type::ERROR;
                };
                let scalar = match b.signature() {
                    Signature::IntegerBinary => Scalar::Int,
                    Signature::BinaryKeepInt if int_args => Scalar::Int,
                    _ => Scalar::Real,
                };
                Type::array(scalar, dims)
            }
            Signature::ReduceKeepInt | Signature::ReduceReal => {
                if args[0].ty.is_scalar() {
                    self.error(
                        Diagnostic::new(
                            Code::BadReduction,
                            args[0].span,
                            format!("`{}` of a single number", b.name()),
                            format!("`{}` takes an array; this is {}", b.name(), args[0].ty),
                        )
                        .with_help(format!(
                            "to reduce over indices write `{}(i in 1..N) expr`",
                            b.name()
                        )),
                    );
                    return Type::ERROR;
                }
                if b.signature() == Signature::ReduceKeepInt && int_args {
                    Type::INT
                } else {
                    Type::REAL
                }
            }
            Signature::Dot => {
                let ok = args[0].ty.rank() == 1 && args[0].ty.dims == args[1].ty.dims;
                if !ok {
                    self.error(Diagnostic::new(
                        Code::ShapeMismatch,
                        span,
                        "`dot` needs two vectors of the same length",
                        format!("`{}` and `{}`", args[0].ty, args[1].ty),
                    ));
                    return Type::ERROR;
                }
                Type::REAL
            }
        }
    }

    fn grad(&mut self, args: &[ast::Expr], span: Span) -> TExpr {
        if args.len() != 2 {
            self.error(Diagnostic::new(
                Code::Arity,
                span,
                format!("`grad` takes 2 arguments, but {} are given", args.len()),
                "expected `grad(expression, variable)`",
            ));
            return error_expr(span);
        }
        let f = self.expr(&args[0]);
        let wrt = self.expr(&args[1]);
        if f.ty.is_error() || wrt.ty.is_error() {
            return error_expr(span);
        }
        let var = match wrt.kind {
            TKind::Var(v @ (Var::State(_) | Var::Param(_) | Var::Local(_))) => v,
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        wrt.span,
                        "`grad` differentiates with respect to a state or parameter",
                        "not a state or parameter name",
                    )
                    .with_help("write `grad(U, q)` with `q` a declared state or parameter"),
                );
                return error_expr(span);
            }
        };
        if wrt.ty.scalar != Scalar::Real {
            self.error(Diagnostic::new(
                Code::TypeMismatch,
                wrt.span,
                "`grad` needs a real-valued variable",
                format!("this is `{}`", wrt.ty),
            ));
            return error_expr(span);
        }
        if !self.expect_scalar_number(&f, "the expression differentiated by `grad`") {
            return error_expr(span);
        }
        let ty = wrt.ty.clone();
        texpr(TKind::Grad(Box::new(f), var), ty, span)
    }

    fn call_user(
        &mut self,
        id: usize,
        func: &ast::QualName,
        args: &[ast::Expr],
        span: Span,
    ) -> TExpr {
        let typed: Vec<TExpr> = args.iter().map(|a| self.expr(a)).collect();
        let sig = match self.fns.signature(id) {
            Ok(sig) => sig,
            Err(super::functions::SigError::Failed) => return error_expr(span),
            Err(super::functions::SigError::Recursive) => {
                self.error(
                    Diagnostic::new(
                        Code::RecursiveFunction,
                        span,
                        format!("`{}` calls itself", func.name.name),
                        "recursive call",
                    )
                    .with_help("functions are inlined into kernels, so they cannot recurse"),
                );
                return error_expr(span);
            }
        };
        if typed.len() != sig.params.len() {
            self.error(
                Diagnostic::new(
                    Code::Arity,
                    span,
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        func.name.name,
                        sig.params.len(),
                        if sig.params.len() == 1 { "" } else { "s" },
                        typed.len(),
                        if typed.len() == 1 { "is" } else { "are" }
                    ),
                    "wrong number of arguments",
                )
                .with_label(sig.span, "declared here"),
            );
            return error_expr(span);
        }
        for (arg, (pname, pty)) in typed.iter().zip(&sig.params) {
            if arg.ty.is_error() || pty.is_error() {
                continue;
            }
            if !arg.ty.scalar.fits(pty.scalar) || arg.ty.dims != pty.dims {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        arg.span,
                        format!("argument `{pname}` of `{}` must be {pty}", func.name.name),
                        format!("this is `{}`", arg.ty),
                    )
                    .with_label(sig.span, "declared here"),
                );
            }
        }
        texpr(TKind::CallFn(id, typed), sig.ret.clone(), span)
    }
}

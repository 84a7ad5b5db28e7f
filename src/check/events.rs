//! General jumps (`jump name @ rate { … }`) and events (`at t = …`, `when cond`): their
//! bodies may draw random values, name local values, and assign to states and species
//! (events also to parameters).

use super::checker::{Checker, Sym};
use super::decls::DistTarget;
use super::expr::texpr;
use super::model::*;
use super::types::Type;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, AssignOp, BinOp, BodyKind};

impl Checker<'_, '_> {
    pub fn jump(&mut self, j: &ast::Jump, span: Span) -> Option<Jump> {
        self.scoped(|c| {
            let binders = c.binders(&j.binders);
            let rate = c.expr(&j.rate);
            c.expect_scalar_number(&rate, "a jump rate");
            let actions = c.body(&j.body, false);
            Some(Jump {
                name: j.name.name.clone(),
                binders,
                rate,
                actions,
                span,
            })
        })
    }

    pub fn at_event(
        &mut self,
        var: &ast::Ident,
        time: &ast::Expr,
        body: &[ast::BodyStmt],
        span: Span,
    ) -> Option<Event> {
        if var.name != "t" {
            self.error(
                Diagnostic::new(
                    Code::BadTimeEvent,
                    var.span,
                    "an `at` event fires at a time",
                    "expected `t`",
                )
                .with_help(format!(
                    "write `at t = …`; for a condition on `{}` use `when`",
                    var.name
                )),
            );
        }
        let when = self.expr(time);
        if self.expect_scalar_number(&when, "the time of an `at` event")
            && let Some((v, at)) = self
                .vars_in(&when)
                .into_iter()
                .find(|(v, _)| matches!(v, Var::State(_) | Var::Species(_)))
        {
            let name = self.var_name(v);
            self.error(
                Diagnostic::new(
                    Code::BadTimeEvent,
                    at,
                    "the time of an `at` event cannot depend on the state",
                    format!("`{name}` changes while the model runs"),
                )
                .with_help("for a condition on the state use `when`"),
            );
        }
        let actions = self.scoped(|c| c.body(body, true));
        Some(Event {
            trigger: Trigger::At(when),
            actions,
            span,
        })
    }

    pub fn when_event(
        &mut self,
        cond: &ast::Expr,
        body: &[ast::BodyStmt],
        span: Span,
    ) -> Option<Event> {
        let c = self.expr(cond);
        self.expect_bool(&c, "the condition of `when`");
        let actions = self.scoped(|ch| ch.body(body, true));
        Some(Event {
            trigger: Trigger::When(c),
            actions,
            span,
        })
    }

    /// The statements of a jump or event body, in order; locals stay in scope to the end.
    fn body(&mut self, body: &[ast::BodyStmt], is_event: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        for stmt in body {
            match &stmt.kind {
                BodyKind::Draw { name, dist } => {
                    let call = self.dist_call(dist, DistTarget::Draw, None, &name.name);
                    let ty = call.as_ref().map_or(Type::ERROR, Checker::variate_type);
                    let local = self.push_local(name, ty);
                    if let Some(dist) = call {
                        actions.push(Action::Draw { local, dist });
                    }
                }
                BodyKind::Let(l) => {
                    let value = self.expr(&l.value);
                    let ty = match &l.ty {
                        Some(ann) => {
                            self.reject_bounds(ann, "a `let`");
                            let t = self.type_expr(ann);
                            self.check_fits(&value, &t, &format!("the value of `{}`", l.name.name));
                            t
                        }
                        None => value.ty.clone(),
                    };
                    let local = self.push_local(&l.name, ty);
                    actions.push(Action::Let { local, value });
                }
                BodyKind::Assign { target, op, value } => {
                    if let Some(a) = self.assignment(target, *op, value, stmt.span, is_event) {
                        actions.push(a);
                    }
                }
                BodyKind::Error => {}
            }
        }
        actions
    }

    /// `t = …`, `pi = …`: time and constants are not model values to change.
    fn cannot_assign_reserved(&mut self, id: &ast::Ident) {
        let why = super::checker::reserved(&id.name).unwrap_or_default();
        self.error(
            Diagnostic::new(
                Code::BadAssignment,
                id.span,
                format!("cannot assign to `{}`", id.name),
                why,
            )
            .with_help("jumps and events change states and species (events also parameters)"),
        );
    }

    fn assignment(
        &mut self,
        target: &ast::LValue,
        op: AssignOp,
        value: &ast::Expr,
        span: Span,
        is_event: bool,
    ) -> Option<Action> {
        let name = &target.name.name;
        let sym = self.symbols.get(name).map(|&(s, _)| s);
        let local = self.lookup_local(name);
        let var = match (local, sym) {
            (Some(_), _) => {
                self.error(
                    Diagnostic::new(
                        Code::BadAssignment,
                        target.name.span,
                        format!("`{name}` is a local value and cannot be changed"),
                        "local values are fixed once defined",
                    )
                    .with_help("give the new value its own name with `let`"),
                );
                None
            }
            (None, Some(Sym::Var(v @ (Var::State(_) | Var::Species(_))))) => Some(v),
            (None, Some(Sym::Var(v @ Var::Param(_)))) if is_event => Some(v),
            (None, Some(Sym::Poisoned)) => return None,
            (None, Some(Sym::Var(v))) => {
                let (label, help) = match v {
                    Var::Param(_) => (
                        "a jump cannot change a parameter".to_string(),
                        "parameters may change only in events (`at`, `when`)".to_string(),
                    ),
                    _ => (
                        format!("`{name}` is {}", super::dynamics::kind_phrase(v)),
                        if is_event {
                            "events change states, species and parameters".to_string()
                        } else {
                            "jumps change states and species".to_string()
                        },
                    ),
                };
                self.error(
                    Diagnostic::new(
                        Code::BadAssignment,
                        target.name.span,
                        format!("cannot assign to `{name}`"),
                        label,
                    )
                    .with_help(help),
                );
                None
            }
            (None, None) if super::checker::reserved(name).is_some() => {
                self.cannot_assign_reserved(&target.name);
                None
            }
            (None, _) => {
                let id = ast::Ident {
                    name: name.clone(),
                    span: target.name.span,
                };
                let e = ast::Expr {
                    kind: ast::ExprKind::Name(id),
                    span: target.name.span,
                };
                self.expr(&e);
                None
            }
        };
        let rhs = self.expr(value);
        let var = var?;
        self.used.insert(var);
        let var_ty = self.var_type(var);
        let target_expr = {
            let base = texpr(TKind::Var(var), var_ty.clone(), target.name.span);
            if target.indices.is_empty() {
                base
            } else {
                self.index(base, &target.indices, target.span)
            }
        };
        if target_expr.ty.is_error() || rhs.ty.is_error() {
            return None;
        }
        let indices = match &target_expr.kind {
            TKind::Index(_, idx) => idx.clone(),
            _ => Vec::new(),
        };
        // `x += e` is `x = x + e`, typed as that expression.
        let value = match op {
            AssignOp::Set => rhs,
            _ => {
                let bin = match op {
                    AssignOp::Add => BinOp::Add,
                    AssignOp::Sub => BinOp::Sub,
                    AssignOp::Mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let span = target_expr.span.to(rhs.span);
                let value = self.binary_op(bin, target_expr.clone(), rhs, span);
                if value.ty.is_error() {
                    return None;
                }
                value
            }
        };
        self.check_fits(
            &value,
            &target_expr.ty,
            &format!("the new value of `{name}`"),
        );
        Some(Action::Assign {
            target: var,
            indices,
            value,
            span,
        })
    }
}

//! Typing expressions: names → variables, operators → result types with shape checks,
//! calls → built-ins or user functions, and differentials inside equations.

use super::checker::{Checker, Sym};
use super::model::*;
use super::suggest::did_you_mean;
use super::types::{Dim, Scalar, Type, Value, arithmetic, broadcast};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, ExprKind, UnOp};

pub(crate) fn texpr(kind: TKind, ty: Type, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

pub(crate) fn error_expr(span: Span) -> TExpr {
    texpr(TKind::Error, Type::ERROR, span)
}

impl Checker<'_, '_> {
    pub fn expr(&mut self, e: &ast::Expr) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(v) => texpr(TKind::Int(*v), Type::INT, span),
            ExprKind::Real(v) => texpr(TKind::Real(*v), Type::REAL, span),
            ExprKind::Bool(v) => texpr(TKind::Bool(*v), Type::BOOL, span),
            ExprKind::Name(id) => self.name(id),
            ExprKind::Unary { op, operand } => self.unary(*op, operand, span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            ExprKind::Call { func, args } => self.call(func, args, span),
            ExprKind::Index { base, indices } => {
                let base = self.expr(base);
                self.index(base, indices, span)
            }
            ExprKind::Array(items) => self.array(items, span),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => self.conditional(cond, then, otherwise, span),
            ExprKind::Reduce { op, binders, body } => self.reduce(op, binders, body, span),
            ExprKind::Error => error_expr(span),
        }
    }

    /// A scalar of a numeric type, or report what it is instead.
    pub fn expect_scalar_number(&mut self, e: &TExpr, what: &str) -> bool {
        if e.ty.is_error() {
            return false;
        }
        if !e.ty.scalar.is_numeric() {
            self.error(Diagnostic::new(
                Code::TypeMismatch,
                e.span,
                format!("{what} must be a number"),
                format!("this is `{}`", e.ty),
            ));
            return false;
        }
        if !e.ty.is_scalar() {
            self.error(Diagnostic::new(
                Code::ShapeMismatch,
                e.span,
                format!("{what} must be a single number"),
                format!("this is an array: {}", e.ty),
            ));
            return false;
        }
        true
    }

    pub fn expect_bool(&mut self, e: &TExpr, what: &str) {
        if e.ty.is_error() {
            return;
        }
        if e.ty.scalar != Scalar::Bool || !e.ty.is_scalar() {
            let help = matches!(&e.kind, TKind::Var(_) | TKind::Int(_) | TKind::Real(_))
                .then(|| "compare it with something: `x > 0`".to_string());
            self.error(
                Diagnostic::new(
                    Code::NotBool,
                    e.span,
                    format!("{what} must be a `bool`"),
                    format!("this is `{}`", e.ty),
                )
                .with_optional_help(help),
            );
        }
    }

    fn name(&mut self, id: &ast::Ident) -> TExpr {
        let span = id.span;
        let name = id.name.as_str();
        if let Some(local) = self.lookup_local(name) {
            let ty = self.locals[local].ty.clone();
            self.used.insert(Var::Local(local));
            return texpr(TKind::Var(Var::Local(local)), ty, span);
        }
        if self.differentials
            && let Some(rest) = name.strip_prefix('d')
            && (matches!(self.symbols.get(rest), Some((Sym::Noise(_), _)))
                || (rest == "W" && !self.symbols.contains_key("W")))
            && let Some(d) = self.differential(id)
        {
            // A clashing declaration of `dW` is reported (E0108); here it means the increment.
            return d;
        }
        if !self.in_function {
            match self.symbols.get(name).map(|&(s, _)| s) {
                Some(Sym::Var(v)) => {
                    self.used.insert(v);
                    let ty = self.var_type(v);
                    return texpr(TKind::Var(v), ty, span);
                }
                Some(Sym::Poisoned) => return error_expr(span),
                Some(Sym::Noise(_)) => {
                    self.error(
                        Diagnostic::new(
                            Code::DifferentialOutsideEquation,
                            span,
                            format!("`{name}` is a noise, not a value"),
                            "a Wiener process has no value to use here",
                        )
                        .with_help(format!("use its differential `d{name}` in an equation")),
                    );
                    return error_expr(span);
                }
                None => {}
            }
        }
        match name {
            "t" if !self.in_function => return texpr(TKind::Time, Type::REAL, span),
            "pi" => return texpr(TKind::Real(std::f64::consts::PI), Type::REAL, span),
            _ => {}
        }
        if let Some(d) = self.differential(id) {
            return d;
        }
        self.unknown_name(id);
        error_expr(span)
    }

    fn unknown_name(&mut self, id: &ast::Ident) {
        let name = id.name.as_str();
        let mut candidates = self.visible_names();
        if self.differentials {
            candidates.push("dt".to_string());
            candidates.extend(
                self.symbols
                    .iter()
                    .filter(|(_, (s, _))| matches!(s, Sym::Noise(_)))
                    .map(|(n, _)| format!("d{n}")),
            );
        }
        let help = did_you_mean(name, candidates.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                (self.in_function && !self.symbols.contains_key(name)).then(|| {
                    "functions see only their own parameters; pass the value as an argument"
                        .to_string()
                })
            });
        let label = if self.in_function {
            "not a parameter of this function"
        } else {
            "not declared in this model"
        };
        self.error(
            Diagnostic::new(
                Code::UnknownName,
                id.span,
                format!("unknown name `{name}`"),
                label,
            )
            .with_optional_help(help),
        );
    }

    /// `dt`, `dW`: resolve a differential, or report it outside an equation.
    fn differential(&mut self, id: &ast::Ident) -> Option<TExpr> {
        let name = id.name.as_str();
        let rest = name.strip_prefix('d')?;
        let noise = if rest == "t" {
            None
        } else {
            match self.symbols.get(rest).map(|&(s, _)| s) {
                Some(Sym::Noise(i)) => Some(i),
                None if rest == "W" && !self.in_function => {
                    if !self.differentials {
                        // An implicit noise exists only through equations.
                        return self.outside_equation(id);
                    }
                    Some(self.implicit_noise(id.span))
                }
                Some(Sym::Var(v))
                    if self.differentials && rest.starts_with(|c: char| c.is_uppercase()) =>
                {
                    self.error(
                        Diagnostic::new(
                            Code::UnknownNoise,
                            id.span,
                            format!("`{rest}` is {}, not a noise", super::dynamics::kind_phrase(v)),
                            format!("`{name}` would be the differential of a noise `{rest}`"),
                        )
                        .with_help(format!(
                            "declare a noise under another name (`noise B`, then `dB`), or rename `{rest}`"
                        )),
                    );
                    return Some(error_expr(id.span));
                }
                _ => {
                    let looks_like_noise = rest.starts_with(|c: char| c.is_uppercase())
                        && self.differentials
                        && !self.symbols.contains_key(rest);
                    if looks_like_noise && !self.reported_noises.insert(rest.to_string()) {
                        return Some(error_expr(id.span));
                    }
                    if looks_like_noise {
                        self.error(
                            Diagnostic::new(
                                Code::UnknownNoise,
                                id.span,
                                format!("unknown noise `{rest}`"),
                                format!("`{name}` would be the differential of a noise `{rest}`"),
                            )
                            .with_help(format!(
                                "declare it with `noise {rest}`; only a lone `dW` is declared implicitly"
                            )),
                        );
                        return Some(error_expr(id.span));
                    }
                    return None;
                }
            }
        };
        if !self.differentials {
            return self.outside_equation(id);
        }
        let ty = match noise {
            None => Type::REAL,
            Some(i) => {
                self.used_noises.insert(i);
                self.noise_type(i)
            }
        };
        let diff = match noise {
            None => Differential::Time,
            Some(noise) => Differential::Noise {
                noise,
                index: Vec::new(),
            },
        };
        Some(texpr(TKind::Differential(diff), ty, id.span))
    }

    fn outside_equation(&mut self, id: &ast::Ident) -> Option<TExpr> {
        self.error(
            Diagnostic::new(
                Code::DifferentialOutsideEquation,
                id.span,
                format!("`{}` can only appear in an equation", id.name),
                "a differential is not a value",
            )
            .with_help("differentials belong on the right of `dx = … dt + … dW`"),
        );
        Some(error_expr(id.span))
    }

    pub fn noise_type(&mut self, i: usize) -> Type {
        let Some(d) = self.decls.noises.get(i) else {
            return Type::REAL;
        };
        match d.ty {
            None => Type::REAL,
            Some(_) => self.var_type_noise(i),
        }
    }

    fn var_type_noise(&mut self, i: usize) -> Type {
        if let super::checker::Lazy::Done(t) = &self.decls.noises[i].resolved {
            return t.clone();
        }
        let ann = self.decls.noises[i].ty.expect("annotated noise");
        self.reject_bounds(ann, "a noise");
        let t = self.in_decl_context(|c| c.type_expr(ann));
        if !t.is_error() && t.scalar != Scalar::Real {
            self.error(Diagnostic::new(
                Code::TypeMismatch,
                ann.span,
                "a noise is real-valued",
                format!("this is `{t}`"),
            ));
        }
        // Reported once; its uses go on with the declared shape.
        let t = if t.is_error() {
            t
        } else {
            t.with_scalar(Scalar::Real)
        };
        self.decls.noises[i].resolved = super::checker::Lazy::Done(t.clone());
        t
    }

    fn unary(&mut self, op: UnOp, operand: &ast::Expr, span: Span) -> TExpr {
        let a = self.expr(operand);
        if a.ty.is_error() {
            return texpr(TKind::Unary(op, Box::new(a)), Type::ERROR, span);
        }
        let ty = match op {
            UnOp::Neg | UnOp::Plus => {
                if !a.ty.scalar.is_numeric() {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            span,
                            format!(
                                "cannot apply `{}` to a `bool`",
                                if op == UnOp::Neg { "-" } else { "+" }
                            ),
                            format!("this is `{}`", a.ty),
                        )
                        .with_optional_help(
                            (op == UnOp::Neg).then(|| "for logical negation use `!`".to_string()),
                        ),
                    );
                    Type::ERROR
                } else {
                    a.ty.clone()
                }
            }
            UnOp::Not => {
                if a.ty.scalar != Scalar::Bool {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            span,
                            "`!` needs a `bool`",
                            format!("this is `{}`", a.ty),
                        )
                        .with_help("for a negative number use `-`"),
                    );
                    Type::ERROR
                } else {
                    a.ty.clone()
                }
            }
        };
        // `+x` is `x`; fold negative literals so `-1` is a literal.
        if op == UnOp::Plus && !ty.is_error() {
            return TExpr { span, ..a };
        }
        match (&a.kind, op) {
            (TKind::Int(v), UnOp::Neg) if *v != i64::MIN => texpr(TKind::Int(-v), ty, span),
            (TKind::Real(v), UnOp::Neg) => texpr(TKind::Real(-v), ty, span),
            _ => texpr(TKind::Unary(op, Box::new(a)), ty, span),
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> TExpr {
        let a = self.expr(lhs);
        let b = self.expr(rhs);
        if op == BinOp::Juxtapose && !matches!(b.kind, TKind::Differential(_) | TKind::Error) {
            self.error(
                Diagnostic::new(
                    Code::NotADifferential,
                    rhs.span,
                    format!("`{}` is not a differential", differential_text(rhs)),
                    "only `dt` and noise differentials like `dW` may follow a term without `*`",
                )
                .with_help("write the multiplication explicitly with `*`"),
            );
            return error_expr(span);
        }
        let op = if op == BinOp::Juxtapose {
            BinOp::Mul
        } else {
            op
        };
        self.binary_op(op, a, b, span)
    }

    /// `a op b` for typed operands: the result type, with operand types and shapes checked.
    pub fn binary_op(&mut self, op: BinOp, a: TExpr, b: TExpr, span: Span) -> TExpr {
        if a.ty.is_error() || b.ty.is_error() {
            return texpr(
                TKind::Binary(op, Box::new(a), Box::new(b)),
                Type::ERROR,
                span,
            );
        }
        let Some(dims) = broadcast(&a.ty.dims, &b.ty.dims) else {
            self.error(
                Diagnostic::new(
                    Code::ShapeMismatch,
                    span,
                    format!("`{}` needs operands of the same shape", op.as_str()),
                    format!("`{}` {} `{}`", a.ty, op.as_str(), b.ty),
                )
                .with_label(a.span, format!("this is `{}`", a.ty))
                .with_label(b.span, format!("this is `{}`", b.ty))
                .with_help(
                    "element-wise operations need equal shapes; a scalar combines with any array",
                ),
            );
            return texpr(
                TKind::Binary(op, Box::new(a), Box::new(b)),
                Type::ERROR,
                span,
            );
        };
        let (sa, sb) = (a.ty.scalar, b.ty.scalar);
        let is_bool = |s: Scalar| s == Scalar::Bool;
        let scalar = if op.is_logical() {
            if let Some(bad) = self.bad_operand(op, &a, &b, |s| !is_bool(s), "`bool` operands") {
                return bad;
            }
            Scalar::Bool
        } else if matches!(op, BinOp::Eq | BinOp::Ne) && is_bool(sa) && is_bool(sb) {
            Scalar::Bool
        } else if let Some(bad) = self.bad_operand(op, &a, &b, is_bool, "numbers") {
            return bad;
        } else {
            match op {
                _ if op.is_comparison() => Scalar::Bool,
                BinOp::Div | BinOp::Pow => Scalar::Real,
                BinOp::Mod => {
                    if let Some(bad) = self.bad_operand(op, &a, &b, |s| !s.is_integer(), "integers")
                    {
                        return bad;
                    }
                    Scalar::Int
                }
                // Spins times spins (or ±1) stay spins: `s[i] * s[j]`, `s *= -1`.
                BinOp::Mul
                    if is_spin_factor(&a)
                        && is_spin_factor(&b)
                        && (sa == Scalar::Spin || sb == Scalar::Spin) =>
                {
                    Scalar::Spin
                }
                _ => arithmetic(sa, sb).unwrap_or(Scalar::Error),
            }
        };
        texpr(
            TKind::Binary(op, Box::new(a), Box::new(b)),
            Type::array(scalar, dims),
            span,
        )
    }

    /// Report the first operand whose element type is `wrong` (`op` needs `wanted`), and
    /// return the error expression to use instead.
    fn bad_operand(
        &mut self,
        op: BinOp,
        a: &TExpr,
        b: &TExpr,
        wrong: impl Fn(Scalar) -> bool,
        wanted: &str,
    ) -> Option<TExpr> {
        let bad = [a, b].into_iter().find(|e| wrong(e.ty.scalar))?;
        self.error(Diagnostic::new(
            Code::TypeMismatch,
            bad.span,
            format!("`{}` needs {wanted}", op.as_str()),
            format!("this is `{}`", bad.ty),
        ));
        Some(error_expr(a.span.to(b.span)))
    }

    fn array(&mut self, items: &[ast::Expr], span: Span) -> TExpr {
        let typed: Vec<TExpr> = items.iter().map(|i| self.expr(i)).collect();
        let Some(first) = typed.first() else {
            self.error(
                Diagnostic::new(
                    Code::BadArrayLiteral,
                    span,
                    "an empty array has no type",
                    "empty array",
                )
                .with_help("declare the value with a type instead, e.g. `state x: real[3] = 0`"),
            );
            return error_expr(span);
        };
        if typed.iter().any(|t| t.ty.is_error()) {
            return texpr(TKind::Array(typed), Type::ERROR, span);
        }
        let dims = first.ty.dims.clone();
        let mut scalar = first.ty.scalar;
        for t in &typed[1..] {
            if t.ty.dims != dims {
                let (s, ty, fs, fty) = (t.span, t.ty.clone(), first.span, first.ty.clone());
                self.error(
                    Diagnostic::new(
                        Code::BadArrayLiteral,
                        s,
                        "array elements must all have the same shape",
                        format!("this is `{ty}`"),
                    )
                    .with_label(fs, format!("the first element is {fty}")),
                );
                return error_expr(span);
            }
            scalar = match (scalar, t.ty.scalar) {
                (a, b) if a == b => a,
                (Scalar::Bool, _) | (_, Scalar::Bool) => {
                    let s = t.span;
                    self.error(Diagnostic::new(
                        Code::BadArrayLiteral,
                        s,
                        "an array cannot mix `bool` and numbers",
                        "mixed element types",
                    ));
                    return error_expr(span);
                }
                (a, b) => arithmetic(a, b).unwrap_or(Scalar::Error),
            };
        }
        let mut all_dims = vec![Dim::Fixed(typed.len() as u64)];
        all_dims.extend(dims);
        texpr(TKind::Array(typed), Type::array(scalar, all_dims), span)
    }

    fn conditional(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Expr,
        otherwise: &ast::Expr,
        span: Span,
    ) -> TExpr {
        let c = self.expr(cond);
        self.expect_bool(&c, "the condition of `if`");
        let a = self.expr(then);
        let b = self.expr(otherwise);
        if a.ty.is_error() || b.ty.is_error() {
            return error_expr(span);
        }
        let scalar = if a.ty.scalar == b.ty.scalar {
            Some(a.ty.scalar)
        } else {
            arithmetic(a.ty.scalar, b.ty.scalar)
        };
        let dims = broadcast(&a.ty.dims, &b.ty.dims);
        let (Some(scalar), Some(dims)) = (scalar, dims) else {
            let (sa, ta, sb, tb) = (a.span, a.ty.clone(), b.span, b.ty.clone());
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    "the branches of `if` have different types",
                    "in this `if`",
                )
                .with_label(sa, format!("this is `{ta}`"))
                .with_label(sb, format!("this is `{tb}`")),
            );
            return error_expr(span);
        };
        texpr(
            TKind::If(Box::new(c), Box::new(a), Box::new(b)),
            Type::array(scalar, dims),
            span,
        )
    }

    /// Check loop-variable binders and bring them into scope (caller scopes them).
    pub fn binders(&mut self, binders: &[ast::Binder]) -> Vec<Binder> {
        let mut out = Vec::with_capacity(binders.len());
        for b in binders {
            let lo = self.expr(&b.lo);
            let hi = self.expr(&b.hi);
            for bound in [&lo, &hi] {
                if bound.ty.is_error() {
                    continue;
                }
                if !bound.ty.is_scalar() || !bound.ty.scalar.is_integer() {
                    self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        bound.span,
                        "range bounds must be integers",
                        format!("this is `{}`", bound.ty),
                    ));
                } else if let Some((blocker, span)) = self.static_blocker(bound) {
                    self.not_static(blocker, span, "a range bound");
                }
            }
            // An empty range (`5..4`) runs no iteration, so it proves nothing about indices.
            let range = match (self.const_eval(&lo), self.const_eval(&hi)) {
                (Ok(Value::Int(a)), Ok(Value::Int(z))) if a <= z => Some((a, z)),
                _ => None,
            };
            let local = self.push_local(&b.var, Type::INT);
            if let Some(r) = range {
                self.local_ranges.insert(local, r);
            }
            out.push(Binder { local, lo, hi });
        }
        out
    }

    fn reduce(
        &mut self,
        op: &ast::Ident,
        binders: &[ast::Binder],
        body: &ast::Expr,
        span: Span,
    ) -> TExpr {
        let reduction = Reduction::from_name(&op.name);
        if reduction.is_none() {
            let help = did_you_mean(&op.name, ["sum", "prod", "mean", "min", "max"])
                .map(|s| format!("did you mean `{s}`?"));
            self.error(
                Diagnostic::new(
                    Code::BadReduction,
                    op.span,
                    format!("unknown reduction `{}`", op.name),
                    "expected `sum`, `prod`, `mean`, `min` or `max`",
                )
                .with_optional_help(help),
            );
        }
        let (binders, body) = self.scoped(|c| {
            let b = c.binders(binders);
            let body = c.expr(body);
            (b, body)
        });
        let Some(op) = reduction else {
            return error_expr(span);
        };
        if !self.expect_scalar_number(&body, "the body of a reduction") {
            return error_expr(span);
        }
        let scalar = match op {
            Reduction::Mean => Scalar::Real,
            Reduction::Min | Reduction::Max => body.ty.scalar,
            Reduction::Sum | Reduction::Prod => {
                if body.ty.scalar.is_integer() {
                    Scalar::Int
                } else {
                    Scalar::Real
                }
            }
        };
        texpr(
            TKind::Reduce {
                op,
                binders,
                body: Box::new(body),
            },
            Type::scalar(scalar),
            span,
        )
    }

    /// Create the implicit scalar noise `W` on the first lone `dW`.
    fn implicit_noise(&mut self, span: Span) -> usize {
        if let Some(i) = self.decls.implicit_noise {
            return i;
        }
        let i = self.decls.noises.len();
        self.decls.implicit_noise = Some(i);
        self.symbols.insert("W".to_string(), (Sym::Noise(i), span));
        self.decls
            .noises
            .push(super::checker::DeclSrc::implicit(span));
        i
    }
}

/// A spin, or the literal 1 or -1.
fn is_spin_factor(e: &TExpr) -> bool {
    e.ty.scalar == Scalar::Spin || matches!(e.kind, TKind::Int(1) | TKind::Int(-1))
}

fn differential_text(e: &ast::Expr) -> String {
    match &e.kind {
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::Index { base, .. } => differential_text(base),
        _ => "this".to_string(),
    }
}

//! Declarations: collecting the model's names, then checking each declaration in full
//! (types, constraints, defaults, initial values, priors).

use super::checker::{Checker, DeclSrc, Sym};
use super::expr::error_expr;
use super::model::*;
use super::suggest::did_you_mean;
use super::types::{Scalar, Type, Value};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, StmtKind};

/// What the left side of a `~` (or a declaration with a distribution) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DistTarget {
    Param,
    Data,
    Obs,
    State,
    /// `let J ~ D` inside a jump or event.
    Draw,
}

impl<'a> Checker<'_, 'a> {
    /// First pass: every declared name goes into the symbol table.
    pub fn collect(&mut self, model: &'a ast::Model) {
        let mut target_span = None;
        for stmt in &model.stmts {
            let doc = &stmt.doc;
            let span = stmt.span;
            match &stmt.kind {
                StmtKind::Const { name, ty, value } => {
                    let i = self.decls.consts.len();
                    self.decls
                        .consts
                        .push(DeclSrc::new(name, doc, ty.as_ref(), Some(value), span));
                    self.decls.const_values.push(None);
                    self.declare(name, Sym::Var(Var::Const(i)));
                }
                StmtKind::Param {
                    name,
                    ty,
                    default,
                    prior,
                } => {
                    let i = self.decls.params.len();
                    self.decls.params.push(
                        DeclSrc::new(name, doc, ty.as_ref(), default.as_ref(), span)
                            .with_dist(prior.as_ref()),
                    );
                    self.declare(name, Sym::Var(Var::Param(i)));
                }
                StmtKind::Data { name, ty } => {
                    let i = self.decls.data.len();
                    self.decls
                        .data
                        .push(DeclSrc::new(name, doc, Some(ty), None, span));
                    self.declare(name, Sym::Var(Var::Data(i)));
                }
                StmtKind::Obs { name, ty } => {
                    let i = self.decls.obs.len();
                    self.decls
                        .obs
                        .push(DeclSrc::new(name, doc, Some(ty), None, span));
                    self.declare(name, Sym::Var(Var::Obs(i)));
                }
                StmtKind::State {
                    name,
                    ty,
                    boundary,
                    init,
                } => {
                    let i = self.decls.states.len();
                    let (value, random) = match init {
                        Some(ast::StateInit::Value(e)) => (Some(e), None),
                        Some(ast::StateInit::Random(d)) => (None, Some(d)),
                        None => (None, None),
                    };
                    let mut decl =
                        DeclSrc::new(name, doc, ty.as_ref(), value, span).with_dist(random);
                    decl.boundary = boundary.as_ref();
                    self.decls.states.push(decl);
                    self.declare(name, Sym::Var(Var::State(i)));
                }
                StmtKind::Species(items) => {
                    for item in items {
                        let i = self.decls.species.len();
                        self.decls.species.push(DeclSrc::new(
                            &item.name,
                            doc,
                            None,
                            item.init.as_ref(),
                            span,
                        ));
                        self.declare(&item.name, Sym::Var(Var::Species(i)));
                    }
                }
                StmtKind::Noise(items) => {
                    for item in items {
                        let i = self.decls.noises.len();
                        self.decls.noises.push(DeclSrc::new(
                            &item.name,
                            doc,
                            item.ty.as_ref(),
                            None,
                            span,
                        ));
                        self.declare(&item.name, Sym::Noise(i));
                    }
                }
                StmtKind::Let {
                    output,
                    name,
                    ty,
                    value,
                } => {
                    let role = if *output {
                        LetRole::Output
                    } else {
                        LetRole::Let
                    };
                    self.add_let(name, doc, ty.as_ref(), value, span, role);
                }
                StmtKind::Potential { name, value } | StmtKind::Energy { name, value } => {
                    let role = if matches!(stmt.kind, StmtKind::Potential { .. }) {
                        LetRole::Potential
                    } else {
                        LetRole::Energy
                    };
                    if let Some(prev) = target_span {
                        self.error(
                            Diagnostic::new(
                                Code::Duplicate,
                                stmt.span,
                                "a model has one `potential` or `energy`",
                                "second target",
                            )
                            .with_label(prev, "first target")
                            .with_help("add the terms into one expression"),
                        );
                    }
                    target_span = Some(stmt.span);
                    self.add_let(name, doc, None, value, span, role);
                }
                StmtKind::Error { names } => {
                    for n in names {
                        if !self.symbols.contains_key(&n.name) {
                            self.symbols.insert(n.name.clone(), (Sym::Poisoned, n.span));
                        }
                    }
                }
                _ => {}
            }
        }
        self.check_differential_clashes();
    }

    fn add_let(
        &mut self,
        name: &ast::Ident,
        doc: &'a Option<String>,
        ty: Option<&'a ast::TypeExpr>,
        value: &'a ast::Expr,
        span: crate::source::Span,
        role: LetRole,
    ) {
        let i = self.decls.lets.len();
        self.decls
            .lets
            .push(DeclSrc::new(name, doc, ty, Some(value), span));
        self.decls.let_roles.push(role);
        self.declare(name, Sym::Var(Var::Let(i)));
    }

    /// A value named `dW` next to a noise `W` would make `dW` ambiguous.
    fn check_differential_clashes(&mut self) {
        let mut clashes = Vec::new();
        for (name, &(sym, span)) in &self.symbols {
            let Sym::Noise(_) = sym else { continue };
            let d = format!("d{name}");
            if let Some(&(other, other_span)) = self.symbols.get(&d)
                && !matches!(other, Sym::Poisoned)
            {
                clashes.push((d, other_span, name.clone(), span));
            }
        }
        // `dW` is reserved for the implicit noise unless `W` is a declared noise (handled above).
        if !matches!(self.symbols.get("W"), Some((Sym::Noise(_), _)))
            && let Some(&(sym, span)) = self.symbols.get("dW")
            && !matches!(sym, Sym::Poisoned)
        {
            clashes.push(("dW".to_string(), span, "W".to_string(), span));
        }
        clashes.sort_by_key(|c| c.1.start);
        for (d, span, noise, noise_span) in clashes {
            self.error(
                Diagnostic::new(
                    Code::DifferentialClash,
                    span,
                    format!("`{d}` clashes with the differential of noise `{noise}`"),
                    "this name",
                )
                .with_label(noise_span, format!("noise `{noise}` declared here"))
                .with_help(format!(
                    "rename `{d}`; in equations `{d}` means the noise increment"
                )),
            );
        }
    }

    /// Type and evaluate a `const`.
    pub fn resolve_const(&mut self, i: usize) -> Type {
        let d = &self.decls.consts[i];
        let (ann, value) = (d.ty, d.value.expect("a const has a value"));
        let name = d.name.name.clone();
        let typed = self.expr(value);
        let ty = match ann {
            Some(a) => {
                self.reject_bounds(a, "a `const`");
                let t = self.type_expr(a);
                self.check_fits(&typed, &t, &format!("the value of `{name}`"));
                t
            }
            None => typed.ty.clone(),
        };
        let v = if typed.ty.is_error() {
            None
        } else {
            match self.const_eval(&typed) {
                Ok(v) => Some(match (&v, ty.scalar) {
                    (Value::Int(n), Scalar::Real) => Value::Real(*n as f64),
                    _ => v,
                }),
                Err(super::consteval::NotConst::Depends(Var::Data(d), span)) => {
                    let data = self.decls.data[d].name.name.clone();
                    self.error(
                        Diagnostic::new(
                            Code::NotConstant,
                            span,
                            format!("const `{name}` depends on data `{data}`"),
                            format!("`{data}` is known only once the data file is read"),
                        )
                        .with_help(format!(
                            "use `let {name} = …`; array sizes may use data directly, e.g. `real[{data} + 1]`"
                        )),
                    );
                    None
                }
                Err(super::consteval::NotConst::Depends(v, span)) => {
                    self.not_static(
                        super::consteval::Blocker::Var(v),
                        span,
                        &format!("the value of const `{name}`"),
                    );
                    None
                }
                Err(super::consteval::NotConst::Failed(span, msg)) => {
                    self.error(Diagnostic::new(
                        Code::ConstEval,
                        span,
                        format!("cannot evaluate const `{name}`"),
                        msg,
                    ));
                    None
                }
                Err(super::consteval::NotConst::Other) => {
                    self.error(
                        Diagnostic::new(
                            Code::NotConstant,
                            typed.span,
                            format!("const `{name}` cannot be evaluated at compile time"),
                            "not a constant expression",
                        )
                        .with_help("use `let` for values computed while the model runs"),
                    );
                    None
                }
            }
        };
        self.decls.const_values[i] = v;
        self.decls.consts[i].typed_value = Some(typed);
        if self.decls.const_values[i].is_none() {
            Type::ERROR
        } else {
            ty
        }
    }

    /// Bounds belong to parameters, data and states; elsewhere they would be ignored.
    pub fn reject_bounds(&mut self, ann: &ast::TypeExpr, what: &str) {
        if let Some(c) = ann.constraints.first() {
            let span = c.name.span.to(ann
                .constraints
                .last()
                .map_or(c.value.span, |l| l.value.span));
            self.error(
                Diagnostic::new(
                    Code::BadConstraint,
                    span,
                    format!("{what} cannot have bounds"),
                    "bounds here would not be enforced",
                )
                .with_help("bounds belong to `param`, `data`, `obs` and `state` declarations"),
            );
        }
    }

    /// `<lower=…, upper=…>` of a declaration of type `ty`.
    pub fn bounds(&mut self, ann: Option<&ast::TypeExpr>, ty: &Type) -> Bounds {
        let mut bounds = Bounds::default();
        let Some(ann) = ann else { return bounds };
        for c in &ann.constraints {
            let value = self.expr(&c.value);
            if !ty.is_error() && !matches!(ty.scalar, Scalar::Real | Scalar::Int) {
                self.error(Diagnostic::new(
                    Code::BadConstraint,
                    c.name.span,
                    format!("a `{}` cannot have bounds", ty.scalar.name()),
                    "only `real` and `int` values can be bounded",
                ));
                return Bounds::default();
            }
            self.expect_scalar_number(&value, "a bound");
            let slot = match c.name.name.as_str() {
                "lower" => &mut bounds.lower,
                "upper" => &mut bounds.upper,
                other => {
                    let help = did_you_mean(other, ["lower", "upper"])
                        .map(|s| format!("did you mean `{s}`?"));
                    self.error(
                        Diagnostic::new(
                            Code::BadConstraint,
                            c.name.span,
                            format!("unknown constraint `{other}`"),
                            "expected `lower` or `upper`",
                        )
                        .with_optional_help(help),
                    );
                    continue;
                }
            };
            if slot.is_some() {
                self.error(Diagnostic::new(
                    Code::BadConstraint,
                    c.name.span,
                    format!("`{}` is given twice", c.name.name),
                    "second bound of this kind",
                ));
                continue;
            }
            *slot = Some(value);
        }
        if let (Some(lo), Some(hi)) = (&bounds.lower, &bounds.upper) {
            let (lo, hi) = (lo.clone(), hi.clone());
            if let (Ok(a), Ok(b)) = (self.const_eval(&lo), self.const_eval(&hi))
                && let (Some(a), Some(b)) = (a.as_f64(), b.as_f64())
                && a >= b
            {
                self.error(Diagnostic::new(
                    Code::BadConstraint,
                    lo.span.to(hi.span),
                    "the lower bound is not below the upper bound",
                    format!("lower = {a}, upper = {b}"),
                ));
            }
        }
        bounds
    }

    /// Report a constant value (or the first element of a constant array) outside constant
    /// bounds.
    fn check_within(&mut self, value: &TExpr, bounds: &Bounds, what: &str) {
        let Ok(v) = self.const_eval(value) else {
            return;
        };
        let elements = numbered_elements(&v);
        for (bound, is_lower) in [(&bounds.lower, true), (&bounds.upper, false)] {
            let Some(b) = bound else { continue };
            let b = b.clone();
            let Some(bv) = self.const_eval(&b).ok().and_then(|v| v.as_f64()) else {
                continue;
            };
            let outside = |x: f64| (is_lower && x < bv) || (!is_lower && x > bv);
            let Some((at, x)) = elements.iter().find(|(_, x)| outside(*x)) else {
                continue;
            };
            let message = match at {
                None => format!("{what} {x} is outside its bounds"),
                Some(at) => format!("element [{at}] of {what} is {x}, outside its bounds"),
            };
            self.error(
                Diagnostic::new(
                    Code::BadConstraint,
                    value.span,
                    message,
                    format!(
                        "must be {} {bv}",
                        if is_lower { "at least" } else { "at most" }
                    ),
                )
                .with_label(b.span, "bound declared here"),
            );
        }
    }

    /// Second pass over declarations: everything typed and checked, in declaration order,
    /// into the model's tables.
    pub fn finish_decls(&mut self, out: &mut Model) {
        for i in 0..self.decls.consts.len() {
            let ty = self.var_type(Var::Const(i));
            let d = &self.decls.consts[i];
            out.consts.push(Const {
                name: d.name.name.clone(),
                ty,
                value: self.decls.const_values[i].clone().unwrap_or(Value::Int(0)),
                span: d.span,
            });
        }
        for i in 0..self.decls.params.len() {
            let ty = self.var_type(Var::Param(i));
            let ann = self.decls.params[i].ty;
            let bounds = self.bounds(ann, &ty);
            let name = self.decls.params[i].name.name.clone();
            let prior = match self.decls.params[i].dist {
                Some(d) => self.dist_call(d, DistTarget::Param, Some(&ty), &name),
                None => None,
            };
            let default = self.decl_value(Var::Param(i));
            if let Some(v) = &default {
                self.check_fits(v, &ty, &format!("the default of `{name}`"));
                self.check_within(v, &bounds, &format!("the default of `{name}`"));
            }
            if !ty.is_error() && !matches!(ty.scalar, Scalar::Real | Scalar::Int) {
                let span = self.decls.params[i].name.span;
                self.error(Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!("parameter `{name}` must be `real` or `int`"),
                    format!("this is `{ty}`"),
                ));
            }
            let d = &self.decls.params[i];
            out.params.push(Param {
                name,
                doc: d.doc.map(str::to_string),
                ty,
                bounds,
                default,
                prior,
                span: d.span,
            });
        }
        for i in 0..self.decls.states.len() {
            out.states.push(self.finish_state(i));
        }
        for (which, list) in [(0, self.decls.data.len()), (1, self.decls.obs.len())] {
            for i in 0..list {
                let v = if which == 0 {
                    Var::Data(i)
                } else {
                    Var::Obs(i)
                };
                let ty = self.var_type(v);
                let d = self.decl(v).expect("declared");
                let (ann, name, doc, span) =
                    (d.ty, d.name.name.clone(), d.doc.map(str::to_string), d.span);
                let bounds = self.bounds(ann, &ty);
                let decl = DataDecl {
                    name,
                    doc,
                    ty,
                    bounds,
                    span,
                };
                if which == 0 {
                    out.data.push(decl);
                } else {
                    out.obs.push(decl);
                }
            }
        }
        for i in 0..self.decls.species.len() {
            let init = match self.decl_value(Var::Species(i)) {
                Some(v) => {
                    self.check_species_init(&v, i);
                    v
                }
                None => {
                    super::expr::texpr(TKind::Int(0), Type::INT, self.decls.species[i].name.span)
                }
            };
            let d = &self.decls.species[i];
            out.species.push(Species {
                name: d.name.name.clone(),
                doc: d.doc.map(str::to_string),
                init,
                span: d.span,
            });
        }
        for i in 0..self.decls.noises.len() {
            let ty = self.noise_type(i);
            let d = &self.decls.noises[i];
            out.noises.push(Noise {
                name: d.name.name.clone(),
                ty,
                implicit: self.decls.implicit_noise == Some(i),
                span: d.span,
            });
        }
        for i in 0..self.decls.lets.len() {
            let ty = self.var_type(Var::Let(i));
            let value = self
                .decl_value(Var::Let(i))
                .unwrap_or_else(|| error_expr(self.decls.lets[i].span));
            let role = self.decls.let_roles[i];
            let name = self.decls.lets[i].name.name.clone();
            if let Some(ann) = self.decls.lets[i].ty {
                self.reject_bounds(ann, "a `let`");
                self.check_fits(&value, &ty, &format!("the value of `{name}`"));
            }
            if matches!(role, LetRole::Potential | LetRole::Energy) {
                let what = if role == LetRole::Potential {
                    "a potential"
                } else {
                    "an energy"
                };
                self.expect_scalar_number(&value, what);
            }
            let d = &self.decls.lets[i];
            out.lets.push(Let {
                name,
                doc: d.doc.map(str::to_string),
                role,
                ty,
                value,
                span: d.span,
            });
        }
    }

    fn finish_state(&mut self, i: usize) -> State {
        let ty = self.var_type(Var::State(i));
        let d = &self.decls.states[i];
        let (ann, dist, boundary) = (d.ty, d.dist, d.boundary);
        let (name, span) = (d.name.name.clone(), d.span);
        let bounds = self.bounds(ann, &ty);
        let boundary = boundary.and_then(|b| self.boundary(b, &bounds, &ty, &name));
        let value = self.decl_value(Var::State(i));
        let random = match dist {
            Some(d) => self.dist_call(d, DistTarget::State, Some(&ty), &name),
            None => None,
        };
        let init = match (value, random) {
            (Some(v), _) => {
                self.check_fits(&v, &ty, &format!("the initial value of `{name}`"));
                self.check_within(&v, &bounds, &format!("the initial value of `{name}`"));
                StateInit::Value(v)
            }
            (None, Some(d)) => StateInit::Random(d),
            (None, None) if ty.scalar == Scalar::Spin => StateInit::UniformSpin,
            (None, None) => {
                // A random initial value that failed to check is already reported.
                if dist.is_none() && !ty.is_error() {
                    let name_span = self.decls.states[i].name.span;
                    self.error(
                        Diagnostic::new(
                            Code::NoInitialValue,
                            name_span,
                            format!("state `{name}` has no initial value"),
                            "needs `= value` or `~ distribution`",
                        )
                        .with_help(format!("for example `state {name} = 0`")),
                    );
                }
                StateInit::Value(error_expr(span))
            }
        };
        State {
            name,
            doc: self.decls.states[i].doc.map(str::to_string),
            ty,
            bounds,
            boundary,
            init,
            span,
        }
    }

    fn boundary(
        &mut self,
        b: &ast::Ident,
        bounds: &Bounds,
        ty: &Type,
        name: &str,
    ) -> Option<Boundary> {
        if b.name != "reflect" {
            let help = did_you_mean(&b.name, ["reflect"]).map(|s| format!("did you mean `{s}`?"));
            self.error(
                Diagnostic::new(
                    Code::BadBoundary,
                    b.span,
                    format!("unknown boundary `{}`", b.name),
                    "expected `reflect`",
                )
                .with_optional_help(help),
            );
            return None;
        }
        if bounds.lower.is_none() && bounds.upper.is_none() {
            self.error(
                Diagnostic::new(
                    Code::BadBoundary,
                    b.span,
                    "`reflect` needs a bound to reflect at",
                    "no `lower` or `upper` on this state",
                )
                .with_help(format!(
                    "declare the bound in the type: `state {name}: real<lower=0> reflect = …`"
                )),
            );
            return None;
        }
        if ty.scalar != Scalar::Real && !ty.is_error() {
            self.error(Diagnostic::new(
                Code::BadBoundary,
                b.span,
                "only continuous (`real`) states can reflect",
                format!("this state is `{ty}`"),
            ));
            return None;
        }
        Some(Boundary::Reflect)
    }

    fn check_species_init(&mut self, v: &TExpr, i: usize) {
        let name = self.decls.species[i].name.name.clone();
        if v.ty.is_error() {
            return;
        }
        let bad = |c: &mut Self, label: String| {
            c.error(
                Diagnostic::new(
                    Code::BadSpeciesInit,
                    v.span,
                    format!("species `{name}` must start at a non-negative whole number"),
                    label,
                )
                .with_help("species are copy numbers: 0, 1, 2, …"),
            );
        };
        if !v.ty.is_scalar() || !v.ty.scalar.is_integer() {
            bad(self, format!("this is `{}`", v.ty));
            return;
        }
        if let Ok(Value::Int(n)) = self.const_eval(v)
            && n < 0
        {
            bad(self, format!("this is {n}"));
        }
    }
}

/// The numbers of a constant value, each with its index (`None` for a single number,
/// `Some("2, 1")` for an element of an array).
fn numbered_elements(v: &Value) -> Vec<(Option<String>, f64)> {
    fn go(v: &Value, path: &mut Vec<usize>, out: &mut Vec<(Option<String>, f64)>) {
        match v {
            Value::Array(items) => {
                for (k, item) in items.iter().enumerate() {
                    path.push(k + 1);
                    go(item, path, out);
                    path.pop();
                }
            }
            _ => {
                if let Some(x) = v.as_f64() {
                    let at = (!path.is_empty()).then(|| {
                        let parts: Vec<String> = path.iter().map(usize::to_string).collect();
                        parts.join(", ")
                    });
                    out.push((at, x));
                }
            }
        }
    }
    let mut out = Vec::new();
    go(v, &mut Vec::new(), &mut out);
    out
}

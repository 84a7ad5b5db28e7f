//! Equations `dx = f dt + g dW`: the left side must name a continuous state; the right side
//! is split into drift and diffusion terms and must be linear in the differentials.

use super::checker::{Checker, Sym};
use super::expr::texpr;
use super::model::*;
use super::regions::RegionSet;
use super::types::{Dim, Scalar, Type, broadcast};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, UnOp};

/// One term of a linear combination of differentials: `coeff · diff` (`diff = None`: no
/// differential, an error unless the term is zero).
struct Term {
    diff: Option<Differential>,
    /// `None` means 1.
    coeff: Option<TExpr>,
    /// The written term, for messages.
    span: Span,
    diff_ty: Type,
}

impl Checker<'_, '_> {
    pub fn equation(
        &mut self,
        target: &ast::LValue,
        rhs: &ast::Expr,
        binders: &[ast::Binder],
        span: Span,
    ) -> Option<Equation> {
        let state = self.equation_target(target)?;
        self.scoped(|c| {
            let binders_t = c.binders(binders);
            let state_ty = c.var_type(Var::State(state));
            let indices = c.equation_indices(target, &binders_t, &state_ty)?;
            let lhs_ty = Type::array(Scalar::Real, state_ty.dims[indices.len()..].to_vec());
            c.differentials = true;
            let typed = c.expr(rhs);
            c.differentials = false;
            if typed.ty.is_error() {
                return None;
            }
            let terms = c.linear(typed)?;
            let (drift, diffusion) = c.split_terms(terms, &lhs_ty, rhs.span, target)?;
            Some(Equation {
                state,
                binders: binders_t,
                indices,
                drift,
                diffusion,
                span,
            })
        })
    }

    /// `dx` → the state `x`, or report why it is not one.
    fn equation_target(&mut self, target: &ast::LValue) -> Option<usize> {
        let written = target.name.name.as_str();
        let stem = written.strip_prefix('d').unwrap_or("");
        let sym = self.symbols.get(stem).map(|&(s, _)| s);
        if !written.starts_with('d')
            && let Some(&(Sym::Var(Var::State(_)), _)) = self.symbols.get(written)
        {
            self.error(
                Diagnostic::new(
                    Code::NotAState,
                    target.name.span,
                    format!("`{written} = …` is not an equation"),
                    "an equation starts with the differential of a state",
                )
                .with_help(format!(
                    "write `d{written} = … dt`, or give the initial value in `state {written} = …`"
                )),
            );
            return None;
        }
        if let Some(Sym::Var(Var::State(i))) = sym {
            self.used.insert(Var::State(i));
            let ty = self.var_type(Var::State(i));
            if !ty.is_error() && ty.scalar != Scalar::Real {
                self.error(
                    Diagnostic::new(
                        Code::NotAState,
                        target.name.span,
                        format!(
                            "`{stem}` is a discrete state ({ty}) and cannot follow an equation"
                        ),
                        "equations drive continuous states",
                    )
                    .with_help(
                        "change discrete states in `jump` or event bodies, or declare it `real`",
                    ),
                );
                return None;
            }
            return Some(i);
        }
        if let Some(Sym::Poisoned) = sym {
            return None;
        }
        let (message, label, help) = match (sym, written.starts_with('d')) {
            (Some(Sym::Var(Var::Species(_))), true) => (
                format!("`{stem}` is a species; species change through reactions"),
                "not a continuous state".to_string(),
                "write a reaction, or declare a continuous `state` (ito can also run a \
                 reaction network as a chemical Langevin SDE without a rewrite)"
                    .to_string(),
            ),
            (Some(Sym::Var(v)), true) => (
                format!("`{stem}` is {}, not a state", kind_phrase(v)),
                format!("`{written}` would be the differential of `{stem}`"),
                "only states have equations".to_string(),
            ),
            (_, true) if stem.is_empty() => (
                "`d` alone does not name a state".to_string(),
                "expected `d` followed by a state name".to_string(),
                "write `dx = … dt` for a state `x`".to_string(),
            ),
            (_, true) => {
                let states: Vec<String> = self
                    .symbols
                    .iter()
                    .filter(|(_, (s, _))| matches!(s, Sym::Var(Var::State(_))))
                    .map(|(n, _)| n.clone())
                    .collect();
                let hint = super::suggest::did_you_mean(stem, states.iter().map(String::as_str))
                    .map(|s| format!("did you mean `d{s}`?"))
                    .unwrap_or_else(|| format!("declare the state: `state {stem} = …`"));
                (
                    format!("no state `{stem}` for the equation `{written} = …`"),
                    format!("`{written}` would be the differential of a state `{stem}`"),
                    hint,
                )
            }
            (Some(Sym::Var(Var::State(_))), false) => (
                format!("`{written} = …` is not an equation"),
                "an equation starts with the differential of a state".to_string(),
                format!(
                    "write `d{written} = … dt`, or set the initial value: `state {written} = …`"
                ),
            ),
            _ => (
                format!("`{written} = …` is not an equation"),
                "an equation starts with `d` and a state name".to_string(),
                format!("to name a value, write `let {written} = …`"),
            ),
        };
        self.error(
            Diagnostic::new(Code::NotAState, target.name.span, message, label).with_help(help),
        );
        None
    }

    /// Indices on the left: loop variables (each used once) or constants.
    fn equation_indices(
        &mut self,
        target: &ast::LValue,
        binders: &[Binder],
        state_ty: &Type,
    ) -> Option<Vec<TExpr>> {
        if state_ty.is_error() {
            return None;
        }
        if target.indices.len() > state_ty.rank() {
            let stem = &target.name.name[1..];
            let (message, help) = if state_ty.is_scalar() {
                (
                    format!("`{stem}` is a single number and cannot be indexed"),
                    format!(
                        "for one equation per element declare an array: `state {stem}: real[N] = …`"
                    ),
                )
            } else {
                (
                    format!(
                        "`{stem}` has {} dimension{}, but {} indices are given",
                        state_ty.rank(),
                        if state_ty.rank() == 1 { "" } else { "s" },
                        target.indices.len()
                    ),
                    "give one index per dimension".to_string(),
                )
            };
            self.error(
                Diagnostic::new(
                    Code::BadEquationIndex,
                    target.span,
                    message,
                    format!("`{stem}` is `{state_ty}`"),
                )
                .with_help(help),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for (k, e) in target.indices.iter().enumerate() {
            let t = self.expr(e);
            if t.ty.is_error() {
                return None;
            }
            let ok = match &t.kind {
                TKind::Var(Var::Local(l)) if binders.iter().any(|b| b.local == *l) => {
                    if seen.contains(l) {
                        self.error(Diagnostic::new(
                            Code::BadEquationIndex,
                            t.span,
                            "a loop variable is used twice on the left",
                            "each index needs its own loop variable",
                        ));
                        return None;
                    }
                    seen.push(*l);
                    true
                }
                _ => t.ty.is_scalar() && t.ty.scalar.is_integer() && self.const_eval(&t).is_ok(),
            };
            if !ok {
                self.error(
                    Diagnostic::new(
                        Code::BadEquationIndex,
                        t.span,
                        "an index on the left of an equation must be a loop variable or a constant",
                        "not a loop variable of this equation's `for`",
                    )
                    .with_help("write `dx[i] = … for i in 1..N`"),
                );
                return None;
            }
            if let Dim::Fixed(n) = state_ty.dims[k]
                && let Some((lo, hi)) = self.interval(&t)
                && (lo < 1 || hi > n as i64)
            {
                let name = &target.name.name[1..];
                self.error(
                    Diagnostic::new(
                        Code::IndexOutOfRange,
                        t.span,
                        format!("the equation reaches outside `{name}`"),
                        format!("runs over {lo}..{hi}, but valid indices are 1..{n}"),
                    )
                    .with_help("indexing is 1-based and ranges are inclusive"),
                );
                return None;
            }
            out.push(t);
        }
        for b in binders {
            if !seen.contains(&b.local) {
                let name = self.locals[b.local].name.clone();
                let span = self.locals[b.local].span;
                self.error(
                    Diagnostic::new(
                        Code::BadEquationIndex,
                        span,
                        format!("loop variable `{name}` does not appear on the left"),
                        "every loop variable must index the state",
                    )
                    .with_help(format!(
                        "write `dx[…, {name}] = …`, or drop `{name}` from `for`"
                    )),
                );
                return None;
            }
        }
        Some(out)
    }

    /// Expand the right side into a sum of `coefficient · differential` terms.
    fn linear(&mut self, e: TExpr) -> Option<Vec<Term>> {
        let span = e.span;
        if !contains_differential(&e) {
            return Some(vec![Term {
                diff: None,
                coeff: Some(e),
                span,
                diff_ty: Type::REAL,
            }]);
        }
        match e.kind {
            TKind::Differential(d) => Some(vec![Term {
                diff: Some(d),
                coeff: None,
                span,
                diff_ty: e.ty,
            }]),
            TKind::Binary(BinOp::Add, a, b) => {
                let mut terms = self.linear(*a)?;
                terms.extend(self.linear(*b)?);
                Some(terms)
            }
            TKind::Binary(BinOp::Sub, a, b) => {
                let mut terms = self.linear(*a)?;
                terms.extend(self.linear(*b)?.into_iter().map(negate));
                Some(terms)
            }
            TKind::Unary(UnOp::Neg, a) => Some(self.linear(*a)?.into_iter().map(negate).collect()),
            TKind::Binary(BinOp::Mul, a, b) => {
                match (contains_differential(&a), contains_differential(&b)) {
                    (true, true) => {
                        self.error(
                            Diagnostic::new(
                                Code::NonlinearDifferential,
                                span,
                                "a product of two differentials",
                                "this multiplies differentials together",
                            )
                            .with_note(
                                "products like `dt·dW` and `dW·dW` vanish or become `dt` \
                                        in stochastic calculus; the compiler does not expand them",
                            )
                            .with_help("each term needs exactly one `dt` or `dW`"),
                        );
                        None
                    }
                    (false, _) => Some(
                        self.linear(*b)?
                            .into_iter()
                            .map(|t| scale(t, &a, true))
                            .collect(),
                    ),
                    (true, false) => Some(
                        self.linear(*a)?
                            .into_iter()
                            .map(|t| scale(t, &b, false))
                            .collect(),
                    ),
                }
            }
            TKind::Binary(BinOp::Div, a, b) if !contains_differential(&b) => Some(
                self.linear(*a)?
                    .into_iter()
                    .map(|t| divide(t, &b))
                    .collect(),
            ),
            _ => {
                let what = match &e.kind {
                    TKind::Binary(BinOp::Div, ..) => "a differential in a denominator".to_string(),
                    TKind::Binary(BinOp::Pow, ..) => "a power of a differential".to_string(),
                    TKind::Call(b, _) => format!("a differential inside `{}(…)`", b.name()),
                    TKind::CallFn(..) => "a differential inside a function call".to_string(),
                    TKind::If(..) => "a differential inside `if`".to_string(),
                    _ => "a differential used non-linearly".to_string(),
                };
                self.error(
                    Diagnostic::new(
                        Code::NonlinearDifferential,
                        span,
                        format!("the right side is not linear in `dt` and `dW`: {what}"),
                        "not linear in the differentials",
                    )
                    .with_help("write the right side as a sum of `coefficient dt` and `coefficient dW` terms"),
                );
                None
            }
        }
    }

    /// Collect drift and diffusion terms, checking shapes against the left side.
    fn split_terms(
        &mut self,
        terms: Vec<Term>,
        lhs: &Type,
        rhs_span: Span,
        target: &ast::LValue,
    ) -> Option<(Option<TExpr>, Vec<NoiseTerm>)> {
        let mut drift: Option<TExpr> = None;
        let mut diffusion = Vec::new();
        let mut ok = true;
        for term in terms {
            let coeff_dims = term
                .coeff
                .as_ref()
                .map_or(Vec::new(), |c| c.ty.dims.clone());
            match term.diff {
                None => {
                    let coeff = term.coeff.expect("a term without differential has a value");
                    if is_zero(&coeff) {
                        continue;
                    }
                    self.error(
                        Diagnostic::new(
                            Code::NoDifferential,
                            term.span,
                            "this term has no `dt` or `dW`",
                            "every term of an equation needs a differential",
                        )
                        .with_help("a drift term needs `dt`: write `(…) dt`"),
                    );
                    ok = false;
                }
                Some(Differential::Time) => {
                    if broadcast(&coeff_dims, &lhs.dims).as_deref() != Some(&lhs.dims[..]) {
                        self.shape_error(term.span, &coeff_dims, lhs, target);
                        ok = false;
                        continue;
                    }
                    let coeff = term
                        .coeff
                        .unwrap_or_else(|| texpr(TKind::Real(1.0), Type::REAL, term.span));
                    drift = Some(match drift {
                        None => coeff,
                        Some(d) => add(d, coeff),
                    });
                }
                Some(Differential::Noise { noise, index }) => {
                    // The noise term's own shape is that of the (indexed) noise.
                    let mut dims = broadcast(&coeff_dims, &term.diff_ty.dims);
                    if dims.is_none() {
                        self.shape_error(term.span, &coeff_dims, &term.diff_ty, target);
                        ok = false;
                        continue;
                    }
                    let noise_dims = term.diff_ty.dims.clone();
                    if !noise_dims.is_empty() && noise_dims != lhs.dims {
                        let name = self.decls.noises[noise].name_text().to_string();
                        let noise_ty = Type::array(Scalar::Real, noise_dims);
                        let rank = noise_ty.rank();
                        self.error(
                            Diagnostic::new(
                                Code::NoiseIndex,
                                term.span,
                                format!("noise `{name}` has {} component{} here, but the left side is {}",
                                    noise_ty.fixed_len().map_or_else(|| noise_ty.to_string(), |n| n.to_string()),
                                    if noise_ty.fixed_len() == Some(1) { "" } else { "s" },
                                    if lhs.is_scalar() { "a single number".to_string() } else { lhs.to_string() }),
                                format!("`d{name}` is `{noise_ty}`"),
                            )
                            .with_help(if lhs.is_scalar() {
                                format!("pick one component: `d{name}[k]` with k in 1..{}", noise_ty.dims[rank - 1])
                            } else {
                                "an array noise used without an index must have the left side's shape".to_string()
                            }),
                        );
                        ok = false;
                        continue;
                    }
                    if let Some(d) = dims.take()
                        && broadcast(&d, &lhs.dims).as_deref() != Some(&lhs.dims[..])
                    {
                        self.shape_error(term.span, &d, lhs, target);
                        ok = false;
                        continue;
                    }
                    let coeff = term
                        .coeff
                        .unwrap_or_else(|| texpr(TKind::Real(1.0), Type::REAL, term.span));
                    diffusion.push(NoiseTerm {
                        noise,
                        index,
                        coeff,
                        span: term.span,
                    });
                }
            }
        }
        if !ok {
            return None;
        }
        if drift.is_none() && diffusion.is_empty() {
            self.error(
                Diagnostic::new(
                    Code::NoDifferential,
                    rhs_span,
                    "the right side has no `dt` or `dW` term",
                    "nothing drives this state",
                )
                .with_help("write `dx = 0 dt` for a constant state, or remove the equation"),
            );
            return None;
        }
        Some((drift, diffusion))
    }

    fn shape_error(&mut self, span: Span, dims: &[Dim], lhs: &Type, target: &ast::LValue) {
        let got = Type::array(Scalar::Real, dims.to_vec());
        self.error(Diagnostic::new(
            Code::ShapeMismatch,
            span,
            "this term does not have the shape of the left side",
            format!("this is `{got}`, but `{}` is `{lhs}`", lvalue_text(target)),
        ));
    }

    /// Which elements of each state the equations cover; reports overlaps and returns, per
    /// state, whether some element is left without an equation.
    pub fn check_coverage(&mut self, equations: &[Equation], state_types: &[Type]) -> Vec<bool> {
        let mut regions: Vec<RegionSet<usize>> = (0..state_types.len())
            .map(|_| RegionSet::default())
            .collect();
        for (k, eq) in equations.iter().enumerate() {
            let region = self.region(&state_types[eq.state], &eq.indices, &eq.binders);
            if let Some(prev) = regions[eq.state].insert(region, k) {
                self.duplicate_equation(eq, &equations[prev]);
            }
        }
        // Without overlaps, the equations cover as many elements as their sizes add up to.
        regions
            .iter()
            .zip(state_types)
            .map(|(rs, ty)| {
                let covered = rs.volume();
                match (covered, ty.fixed_len()) {
                    (Some(c), Some(total)) => c > 0 && c < u128::from(total),
                    _ => false,
                }
            })
            .collect()
    }

    fn duplicate_equation(&mut self, eq: &Equation, prev: &Equation) {
        let name = self.var_name(Var::State(eq.state));
        self.error(
            Diagnostic::new(
                Code::DuplicateEquation,
                eq.span,
                format!("`{name}` gets two equations"),
                "this equation",
            )
            .with_label(prev.span, "overlaps with this one")
            .with_help("each state element may have one equation; merge the terms"),
        );
    }
}

pub(crate) fn contains_differential(e: &TExpr) -> bool {
    matches!(e.kind, TKind::Differential(_)) || e.children().into_iter().any(contains_differential)
}

fn negate(t: Term) -> Term {
    let span = t.span;
    let coeff = match t.coeff {
        None => texpr(TKind::Real(-1.0), Type::REAL, span),
        Some(TExpr {
            kind: TKind::Real(v),
            ty,
            span,
        }) => texpr(TKind::Real(-v), ty, span),
        Some(TExpr {
            kind: TKind::Int(v),
            ty,
            span,
        }) if v != i64::MIN => texpr(TKind::Int(-v), ty, span),
        Some(c) => {
            let ty = c.ty.clone();
            texpr(TKind::Unary(UnOp::Neg, Box::new(c)), ty, span)
        }
    };
    Term {
        coeff: Some(coeff),
        ..t
    }
}

fn scale(t: Term, factor: &TExpr, factor_first: bool) -> Term {
    let span = t.span.to(factor.span);
    let coeff = match t.coeff {
        None => factor.clone(),
        Some(c) if factor_first => real_binary(BinOp::Mul, factor.clone(), c, span),
        Some(c) => real_binary(BinOp::Mul, c, factor.clone(), span),
    };
    Term {
        coeff: Some(coeff),
        span,
        ..t
    }
}

fn divide(t: Term, denom: &TExpr) -> Term {
    let span = t.span.to(denom.span);
    let num = t
        .coeff
        .unwrap_or_else(|| texpr(TKind::Real(1.0), Type::REAL, t.span));
    Term {
        coeff: Some(real_binary(BinOp::Div, num, denom.clone(), span)),
        span,
        ..t
    }
}

fn add(a: TExpr, b: TExpr) -> TExpr {
    let span = a.span.to(b.span);
    real_binary(BinOp::Add, a, b, span)
}

/// `a op b` as a real expression of the operands' broadcast shape (shapes already checked).
fn real_binary(op: BinOp, a: TExpr, b: TExpr, span: Span) -> TExpr {
    let dims = broadcast(&a.ty.dims, &b.ty.dims).unwrap_or_default();
    texpr(
        TKind::Binary(op, Box::new(a), Box::new(b)),
        Type::array(Scalar::Real, dims),
        span,
    )
}

fn is_zero(e: &TExpr) -> bool {
    matches!(e.kind, TKind::Int(0)) || matches!(e.kind, TKind::Real(v) if v == 0.0)
}

fn lvalue_text(l: &ast::LValue) -> String {
    if l.indices.is_empty() {
        l.name.name[1..].to_string()
    } else {
        format!("{}[…]", &l.name.name[1..])
    }
}

pub(crate) fn kind_phrase(v: Var) -> &'static str {
    match v {
        Var::Const(_) => "a constant",
        Var::Param(_) => "a parameter",
        Var::Data(_) => "data",
        Var::Obs(_) => "an observation",
        Var::State(_) => "a state",
        Var::Species(_) => "a species",
        Var::Let(_) => "a `let`",
        Var::Local(_) => "a local value",
    }
}

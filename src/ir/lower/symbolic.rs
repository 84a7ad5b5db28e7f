//! Symbolic derivatives of typed expressions with respect to one scalar variable, for the
//! language's `grad(expr, x)`. Function calls are inlined first; element-wise array
//! expressions differentiate element-wise; `sum`/`mean` (over arrays or indices) commute
//! with the derivative. The result is an ordinary typed expression, lowered as usual.

use crate::check::builtins::Builtin;
use crate::check::model::{Model, Program, Reduction, TExpr, TKind, Var};
use crate::check::types::{Scalar, Type};
use crate::source::Span;
use crate::syntax::ast::{BinOp, UnOp};
use rustc_hash::FxHashMap as HashMap;

type Fail = (Span, String);

/// d`e`/d`v` as a real expression of `e`'s shape.
pub fn derivative(e: &TExpr, v: Var, m: &Model, prog: &Program) -> Result<TExpr, Fail> {
    D { v, m, prog }.d(e)
}

struct D<'a> {
    v: Var,
    m: &'a Model,
    prog: &'a Program,
}

fn real(e: &TExpr) -> Type {
    e.ty.with_scalar(Scalar::Real)
}

fn mk(kind: TKind, ty: Type, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

fn num(x: f64, span: Span) -> TExpr {
    mk(TKind::Real(x), Type::REAL, span)
}

fn is_zero(e: &TExpr) -> bool {
    matches!(e.kind, TKind::Real(x) if x == 0.0) && e.ty.is_scalar()
}

fn is_one(e: &TExpr) -> bool {
    matches!(e.kind, TKind::Real(x) if x == 1.0)
}

fn shape_of(a: &TExpr, b: &TExpr) -> Type {
    if a.ty.is_scalar() { real(b) } else { real(a) }
}

fn bin(op: BinOp, a: TExpr, b: TExpr) -> TExpr {
    let span = a.span;
    let ty = match op {
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => Type::BOOL,
        _ => shape_of(&a, &b),
    };
    mk(TKind::Binary(op, Box::new(a), Box::new(b)), ty, span)
}

fn add(a: TExpr, b: TExpr) -> TExpr {
    if is_zero(&a) && b.ty.dims.len() >= a.ty.dims.len() {
        return b;
    }
    if is_zero(&b) && a.ty.dims.len() >= b.ty.dims.len() {
        return a;
    }
    bin(BinOp::Add, a, b)
}

fn sub(a: TExpr, b: TExpr) -> TExpr {
    if is_zero(&b) && a.ty.dims.len() >= b.ty.dims.len() {
        return a;
    }
    bin(BinOp::Sub, a, b)
}

fn mul(a: TExpr, b: TExpr) -> TExpr {
    if is_zero(&a) || is_zero(&b) {
        let span = a.span;
        return zero_like(&shape_of(&a, &b), span);
    }
    if is_one(&a) && a.ty.is_scalar() {
        return b;
    }
    if is_one(&b) && b.ty.is_scalar() {
        return a;
    }
    bin(BinOp::Mul, a, b)
}

fn div(a: TExpr, b: TExpr) -> TExpr {
    if is_zero(&a) {
        let span = a.span;
        return zero_like(&shape_of(&a, &b), span);
    }
    bin(BinOp::Div, a, b)
}

fn neg(a: TExpr) -> TExpr {
    if is_zero(&a) {
        return a;
    }
    let (ty, span) = (a.ty.clone(), a.span);
    mk(TKind::Unary(UnOp::Neg, Box::new(a)), ty, span)
}

fn call(f: Builtin, args: Vec<TExpr>) -> TExpr {
    let span = args[0].span;
    let ty = real(&args[0]);
    mk(TKind::Call(f, args), ty, span)
}

/// A zero: a scalar zero also stands for an array of zeros, since scalars broadcast.
fn zero_like(_shape: &Type, span: Span) -> TExpr {
    num(0.0, span)
}

impl D<'_> {
    fn d(&self, e: &TExpr) -> Result<TExpr, Fail> {
        let s = e.span;
        let zero = || Ok(num(0.0, s));
        if !matches!(e.ty.scalar, Scalar::Real | Scalar::Int | Scalar::Spin) {
            return zero();
        }
        match &e.kind {
            TKind::Int(_) | TKind::Real(_) | TKind::Bool(_) | TKind::Time => zero(),
            TKind::Var(x) if *x == self.v => Ok(num(1.0, s)),
            TKind::Var(Var::Let(i)) => self.d(&self.m.lets[*i].value),
            TKind::Var(_) => zero(),
            TKind::Unary(UnOp::Neg, a) => Ok(neg(self.d(a)?)),
            TKind::Unary(..) => zero(),
            TKind::Binary(op, a, b) => self.binary(*op, a, b, e),
            TKind::If(c, a, b) => {
                let (da, db) = (self.d(a)?, self.d(b)?);
                let ty = real(e);
                Ok(mk(TKind::If(c.clone(), Box::new(da), Box::new(db)), ty, s))
            }
            TKind::Call(f, args) => self.call(*f, args, e),
            TKind::CallFn(id, args) => self.d(&inline(&self.prog.functions[*id], args)),
            TKind::Index(base, idx) => {
                let db = self.d(base)?;
                if is_zero(&db) {
                    return zero();
                }
                let ty = real(e);
                Ok(mk(TKind::Index(Box::new(db), idx.clone()), ty, s))
            }
            TKind::Array(items) => {
                let ds = items
                    .iter()
                    .map(|i| self.d(i))
                    .collect::<Result<Vec<_>, _>>()?;
                if ds.iter().all(is_zero) {
                    return zero();
                }
                // Items of a literal must share a shape: scalar zeros stay scalar.
                let ty = real(e);
                Ok(mk(TKind::Array(ds), ty, s))
            }
            TKind::Reduce { op, binders, body } => match op {
                Reduction::Sum | Reduction::Mean => {
                    let db = self.d(body)?;
                    if is_zero(&db) {
                        return zero();
                    }
                    Ok(mk(
                        TKind::Reduce {
                            op: *op,
                            binders: binders.clone(),
                            body: Box::new(db),
                        },
                        Type::REAL,
                        s,
                    ))
                }
                _ => Err((s, format!("the derivative of `{}(…)`", op.name()))),
            },
            TKind::Grad(..) => Err((s, "a derivative of `grad`".to_string())),
            TKind::Differential(_) | TKind::Error => Err((s, "this expression".to_string())),
        }
    }

    fn binary(&self, op: BinOp, a: &TExpr, b: &TExpr, e: &TExpr) -> Result<TExpr, Fail> {
        let s = e.span;
        let (da, db) = (self.d(a)?, self.d(b)?);
        let (a, b) = (a.clone(), b.clone());
        Ok(match op {
            BinOp::Add => add(da, db),
            BinOp::Sub => sub(da, db),
            BinOp::Mul => add(mul(da, b.clone()), mul(a, db)),
            BinOp::Div => sub(div(da, b.clone()), div(mul(a, db), mul(b.clone(), b))),
            BinOp::Pow => {
                // d(a^b) = b a^(b-1) da + a^b ln(a) db
                let first = if is_zero(&da) {
                    num(0.0, s)
                } else {
                    let bm1 = sub(b.clone(), num(1.0, s));
                    mul(mul(b.clone(), bin(BinOp::Pow, a.clone(), bm1)), da)
                };
                let second = if is_zero(&db) {
                    num(0.0, s)
                } else {
                    mul(mul(e.clone(), call(Builtin::Log, vec![a])), db)
                };
                add(first, second)
            }
            _ => num(0.0, s),
        })
    }

    fn call(&self, f: Builtin, args: &[TExpr], e: &TExpr) -> Result<TExpr, Fail> {
        use Builtin::*;
        let s = e.span;
        let a = args[0].clone();
        let da = self.d(&args[0])?;
        let c = |f: Builtin, x: TExpr| call(f, vec![x]);
        let one = || num(1.0, s);
        let two = || num(2.0, s);
        // Derivatives of one-argument functions: f'(a) · da.
        let outer = match f {
            Exp => Some(e.clone()),
            Expm1 => Some(c(Exp, a.clone())),
            Log => Some(div(one(), a.clone())),
            Log1p => Some(div(one(), add(one(), a.clone()))),
            Log2 => Some(div(one(), mul(a.clone(), num(std::f64::consts::LN_2, s)))),
            Log10 => Some(div(one(), mul(a.clone(), num(std::f64::consts::LN_10, s)))),
            Sqrt => Some(div(one(), mul(two(), e.clone()))),
            Cbrt => Some(div(one(), mul(num(3.0, s), mul(e.clone(), e.clone())))),
            Sin => Some(c(Cos, a.clone())),
            Cos => Some(neg(c(Sin, a.clone()))),
            Tan => Some(add(one(), mul(e.clone(), e.clone()))),
            Asin => Some(div(one(), c(Sqrt, sub(one(), mul(a.clone(), a.clone()))))),
            Acos => Some(neg(div(
                one(),
                c(Sqrt, sub(one(), mul(a.clone(), a.clone()))),
            ))),
            Atan => Some(div(one(), add(one(), mul(a.clone(), a.clone())))),
            Sinh => Some(c(Cosh, a.clone())),
            Cosh => Some(c(Sinh, a.clone())),
            Tanh => Some(sub(one(), mul(e.clone(), e.clone()))),
            Erf | Erfc => {
                let g = mul(
                    num(2.0 / std::f64::consts::PI.sqrt(), s),
                    c(Exp, neg(mul(a.clone(), a.clone()))),
                );
                Some(if f == Erf { g } else { neg(g) })
            }
            Lgamma => Some(c(Digamma, a.clone())),
            Tgamma => Some(mul(e.clone(), c(Digamma, a.clone()))),
            Logistic => Some(mul(e.clone(), sub(one(), e.clone()))),
            Logit => Some(div(one(), mul(a.clone(), sub(one(), a.clone())))),
            Softplus => Some(c(Logistic, a.clone())),
            Abs => {
                let negative = bin(BinOp::Lt, a.clone(), num(0.0, s));
                let ty = real(e);
                return Ok(mk(
                    TKind::If(Box::new(negative), Box::new(neg(da.clone())), Box::new(da)),
                    ty,
                    s,
                ));
            }
            Floor | Ceil | Round | Div => return Ok(num(0.0, s)),
            _ => None,
        };
        if let Some(o) = outer {
            return Ok(mul(o, da));
        }
        match f {
            Pow => self.binary(BinOp::Pow, &args[0], &args[1], e),
            Atan2 => {
                // d atan2(y, x) = (x dy − y dx) / (x² + y²)
                let (y, x) = (args[0].clone(), args[1].clone());
                let (dy, dx) = (da, self.d(&args[1])?);
                let den = add(mul(x.clone(), x.clone()), mul(y.clone(), y.clone()));
                Ok(div(sub(mul(x, dy), mul(y, dx)), den))
            }
            Hypot => {
                let (x, y) = (args[0].clone(), args[1].clone());
                let (dx, dy) = (da, self.d(&args[1])?);
                Ok(div(add(mul(x, dx), mul(y, dy)), e.clone()))
            }
            Min2 | Max2 => {
                let db = self.d(&args[1])?;
                let cmp = if f == Min2 { BinOp::Lt } else { BinOp::Gt };
                let pick_a = bin(cmp, a, args[1].clone());
                let ty = real(e);
                Ok(mk(
                    TKind::If(Box::new(pick_a), Box::new(da), Box::new(db)),
                    ty,
                    s,
                ))
            }
            Sum | Mean => {
                if is_zero(&da) {
                    return Ok(num(0.0, s));
                }
                Ok(mk(TKind::Call(f, vec![da]), Type::REAL, s))
            }
            Dot => {
                let db = self.d(&args[1])?;
                let left = if is_zero(&da) {
                    num(0.0, s)
                } else {
                    mk(TKind::Call(Dot, vec![da, args[1].clone()]), Type::REAL, s)
                };
                let right = if is_zero(&db) {
                    num(0.0, s)
                } else {
                    mk(TKind::Call(Dot, vec![a, db]), Type::REAL, s)
                };
                Ok(add(left, right))
            }
            Norm => {
                if is_zero(&da) {
                    return Ok(num(0.0, s));
                }
                let dot = mk(TKind::Call(Dot, vec![a, da]), Type::REAL, s);
                Ok(div(dot, e.clone()))
            }
            _ => Err((s, format!("the derivative of `{}`", f.name()))),
        }
    }
}

/// A user function's body with its parameters (and `let`s) replaced by expressions.
/// The function's own loop variables are renumbered above every local of the arguments:
/// both are numbered from 0, and an argument placed inside the function's `sum(j in …)`
/// must not be captured by `j`.
fn inline(f: &crate::check::model::Function, args: &[TExpr]) -> TExpr {
    let shift = args.iter().filter_map(max_local).max().map_or(0, |m| m + 1);
    let mut sub = Substitution {
        map: HashMap::default(),
        shift,
    };
    for (&p, a) in f.params.iter().zip(args) {
        sub.map.insert(p, a.clone());
    }
    for (local, value) in &f.lets {
        let v = sub.apply(value);
        sub.map.insert(*local, v);
    }
    sub.apply(&f.body)
}

/// The largest local number an expression mentions (uses and loop variables).
fn max_local(e: &TExpr) -> Option<usize> {
    let own = match &e.kind {
        TKind::Var(Var::Local(l)) => Some(*l),
        TKind::Reduce { binders, .. } => binders.iter().map(|b| b.local).max(),
        _ => None,
    };
    e.children()
        .into_iter()
        .filter_map(max_local)
        .chain(own)
        .max()
}

/// Locals replaced by expressions; every other local (a loop variable of the function)
/// moved up by `shift`.
struct Substitution {
    map: HashMap<usize, TExpr>,
    shift: usize,
}

impl Substitution {
    fn apply(&self, e: &TExpr) -> TExpr {
        let s = |x: &TExpr| Box::new(self.apply(x));
        let all = |xs: &[TExpr]| xs.iter().map(|a| self.apply(a)).collect::<Vec<_>>();
        let kind = match &e.kind {
            TKind::Var(Var::Local(l)) => match self.map.get(l) {
                Some(r) => return r.clone(),
                None => TKind::Var(Var::Local(l + self.shift)),
            },
            TKind::Unary(op, a) => TKind::Unary(*op, s(a)),
            TKind::Binary(op, a, b) => TKind::Binary(*op, s(a), s(b)),
            TKind::Call(f, args) => TKind::Call(*f, all(args)),
            TKind::CallFn(f, args) => TKind::CallFn(*f, all(args)),
            TKind::Index(b, idx) => TKind::Index(s(b), all(idx)),
            TKind::Array(items) => TKind::Array(all(items)),
            TKind::If(c, a, b) => TKind::If(s(c), s(a), s(b)),
            TKind::Reduce { op, binders, body } => TKind::Reduce {
                op: *op,
                binders: binders
                    .iter()
                    .map(|b| crate::check::model::Binder {
                        local: b.local + self.shift,
                        lo: self.apply(&b.lo),
                        hi: self.apply(&b.hi),
                    })
                    .collect(),
                body: s(body),
            },
            TKind::Grad(f, v) => TKind::Grad(s(f), *v),
            other => other.clone(),
        };
        TExpr {
            kind,
            ty: e.ty.clone(),
            span: e.span,
        }
    }
}

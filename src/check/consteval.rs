//! Compile-time evaluation: constant values, array sizes, range bounds, and which variables
//! an expression depends on.

use super::checker::Checker;
use super::model::{TExpr, TKind, Var};
use super::print::expr_string;
use super::types::{Dim, Scalar, Type, Value};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, UnOp};
use std::collections::HashSet;
use std::rc::Rc;

/// Largest number of elements an array type may have (2^32: 32 GiB of reals).
pub const MAX_ELEMENTS: u64 = 1 << 32;

/// What keeps a size or range bound from being known before the model runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Blocker {
    /// A parameter, state, species or observation.
    Var(Var),
    /// The current time `t`.
    Time,
}

/// Why an expression has no compile-time value.
#[derive(Clone, Debug)]
pub(crate) enum NotConst {
    /// It depends on this variable (a parameter, state, …).
    Depends(Var, crate::source::Span),
    /// Evaluation failed (division by zero, overflow); the message says how.
    Failed(crate::source::Span, String),
    /// It has a form the evaluator does not fold (already reported or harmless).
    Other,
}

impl Checker<'_, '_> {
    /// Evaluate a typed expression that may only use constants.
    pub fn const_eval(&mut self, e: &TExpr) -> Result<Value, NotConst> {
        fold(e, &mut |v, span| match v {
            Var::Const(i) => {
                self.var_type(Var::Const(i));
                self.decls
                    .const_values
                    .get(i)
                    .cloned()
                    .flatten()
                    .ok_or(NotConst::Other)
            }
            Var::Let(i) => self.const_let(i, span),
            v => Err(NotConst::Depends(v, span)),
        })
    }

    /// The compile-time value of a `let` whose value is a constant expression (worked out
    /// once). What it depends on is reported at `span`, where the `let` is used.
    fn const_let(&mut self, i: usize, span: Span) -> Result<Value, NotConst> {
        let result = match self.let_values.get(&i) {
            Some(r) => r.clone(),
            None => {
                if !self.evaluating_lets.insert(i) {
                    // A cycle, reported elsewhere.
                    return Err(NotConst::Other);
                }
                let r = self.eval_let(i);
                self.evaluating_lets.remove(&i);
                self.let_values.insert(i, r.clone());
                r
            }
        };
        match result {
            Err(NotConst::Depends(v, _)) => Err(NotConst::Depends(v, span)),
            r => r,
        }
    }

    fn eval_let(&mut self, i: usize) -> Result<Value, NotConst> {
        let ty = self.var_type(Var::Let(i));
        if ty.is_error() {
            return Err(NotConst::Other);
        }
        let value = match self.decl_value(Var::Let(i)) {
            Some(value) => self.const_eval(&value)?,
            None => return Err(NotConst::Other),
        };
        match (value, ty.scalar) {
            (Value::Int(n), Scalar::Real) => Ok(Value::Real(n as f64)),
            // An annotation the value does not fit is reported with the `let`.
            (Value::Real(_), s) if s.is_integer() => Err(NotConst::Other),
            (v, _) => Ok(v),
        }
    }

    /// The length of one array dimension written in a type.
    pub fn size(&mut self, e: &ast::Expr) -> Option<Dim> {
        let typed = self.expr(e);
        if typed.ty.is_error() {
            return None;
        }
        if !typed.ty.is_scalar() || !typed.ty.scalar.is_integer() {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    e.span,
                    "an array size must be an integer",
                    format!("this is `{}`", typed.ty),
                )
                .with_optional_help(
                    matches!(&typed.kind, TKind::Binary(BinOp::Pow, ..))
                        .then(|| "`^` always gives a real; write `L * L`".to_string()),
                ),
            );
            return None;
        }
        match self.const_eval(&typed) {
            Ok(Value::Int(n)) if n >= 0 => Some(Dim::Fixed(n as u64)),
            Ok(v) => {
                self.error(Diagnostic::new(
                    Code::ConstEval,
                    e.span,
                    "an array size must not be negative",
                    format!("this is {v}"),
                ));
                None
            }
            Err(NotConst::Failed(span, msg)) => {
                self.error(Diagnostic::new(
                    Code::ConstEval,
                    span,
                    "cannot evaluate this size",
                    msg,
                ));
                None
            }
            Err(_) => match self.static_blocker(&typed) {
                None => Some(Dim::Data(super::types::DataSize {
                    text: expr_string(&typed, &|v| self.var_name(v)),
                    expr: Box::new(typed),
                })),
                Some((blocker, span)) => {
                    self.not_static(blocker, span, "an array size");
                    None
                }
            },
        }
    }

    /// A type annotation → type (sizes evaluated; constraints are checked elsewhere).
    pub fn type_expr(&mut self, t: &ast::TypeExpr) -> Type {
        let scalar = match t.base.name.as_str() {
            "real" => Scalar::Real,
            "int" => Scalar::Int,
            "bool" => Scalar::Bool,
            "spin" => Scalar::Spin,
            other => {
                let help = super::suggest::did_you_mean(other, ["real", "int", "bool", "spin"])
                    .map(|s| format!("did you mean `{s}`?"));
                self.error(
                    Diagnostic::new(
                        Code::UnknownType,
                        t.base.span,
                        format!("unknown type `{other}`"),
                        "expected `real`, `int`, `bool` or `spin`",
                    )
                    .with_optional_help(help),
                );
                return Type::ERROR;
            }
        };
        let mut dims = Vec::with_capacity(t.dims.len());
        for d in &t.dims {
            match self.size(d) {
                Some(dim) => dims.push(dim),
                None => return Type::ERROR,
            }
        }
        let ty = Type::array(scalar, dims);
        let fixed = ty.dims.iter().try_fold(1u64, |n, d| match d {
            Dim::Fixed(k) => n.checked_mul(*k),
            Dim::Data(_) => Some(n),
        });
        if fixed.is_none_or(|n| n > MAX_ELEMENTS) {
            self.error(
                Diagnostic::new(
                    Code::ConstEval,
                    t.span,
                    "this array is too large",
                    format!("more than {MAX_ELEMENTS} elements"),
                )
                .with_help("check the sizes; a model's arrays must fit in memory"),
            );
            return Type::ERROR;
        }
        ty
    }

    /// The first use that keeps `e` from being known before the model runs: time, or a
    /// variable other than constants, data and loop variables (parameters, states, …).
    pub fn static_blocker(&mut self, e: &TExpr) -> Option<(Blocker, Span)> {
        if let Some(at) = self.find_use(e, &|x| matches!(x.kind, TKind::Time)) {
            return Some((Blocker::Time, at));
        }
        self.vars_in(e)
            .into_iter()
            .find(|(v, _)| !matches!(v, Var::Const(_) | Var::Data(_) | Var::Local(_)))
            .map(|(v, at)| (Blocker::Var(v), at))
    }

    /// Report that `blocker` makes something unknown at compile time.
    pub fn not_static(&mut self, blocker: Blocker, span: Span, what: &str) {
        let v = match blocker {
            Blocker::Var(v) => v,
            Blocker::Time => {
                self.error(
                    Diagnostic::new(
                        Code::NotConstant,
                        span,
                        format!("{what} must be known before the model runs"),
                        "the time `t` changes while the model runs",
                    )
                    .with_help("only constants and data are known before the run"),
                );
                return;
            }
        };
        let kind = match v {
            Var::Param(_) => "a parameter",
            Var::State(_) => "a state",
            Var::Species(_) => "a species",
            Var::Obs(_) => "an observation",
            _ => "not a constant",
        };
        let name = self.var_name(v);
        self.error(
            Diagnostic::new(
                Code::NotConstant,
                span,
                format!("{what} must be known before the model runs"),
                format!("`{name}` is {kind}"),
            )
            .with_help(format!(
                "only constants and data are known before the run; if `{name}` is fixed, declare it `const`"
            )),
        );
    }

    /// Every declared variable `e` uses, directly or through `let`s. Each comes with the span
    /// of its use in `e` (for a variable reached through a `let`, the span of that `let`'s use).
    pub fn vars_in(&mut self, e: &TExpr) -> Vec<(Var, Span)> {
        let (mut out, lets) = direct_uses(e);
        for (i, at) in lets {
            let reached = self.let_vars(i);
            out.extend(reached.iter().map(|&v| (v, at)));
        }
        out
    }

    /// The variables other than `let`s that `let` `i` reaches, directly or through other
    /// `let`s. Worked out once per `let`, bottom-up and without recursion.
    fn let_vars(&mut self, i: usize) -> Rc<[Var]> {
        let mut stack = vec![(i, false)];
        let mut open = HashSet::new();
        while let Some((j, expanded)) = stack.pop() {
            if self.let_var_sets.contains_key(&j) {
                continue;
            }
            let (vars, lets) = self
                .typed_value(Var::Let(j))
                .map_or_else(Default::default, direct_uses);
            if !expanded {
                // Visit the `let`s it uses first (a cycle is cut where it closes).
                open.insert(j);
                stack.push((j, true));
                let pending = lets.iter().filter(|(l, _)| !open.contains(l));
                stack.extend(pending.map(|&(l, _)| (l, false)));
                continue;
            }
            let mut all: Vec<Var> = vars.into_iter().map(|(v, _)| v).collect();
            for (l, _) in lets {
                all.extend(self.let_var_sets.get(&l).iter().flat_map(|s| s.iter()));
            }
            all.sort_unstable();
            all.dedup();
            self.let_var_sets.insert(j, all.into());
            open.remove(&j);
        }
        self.let_var_sets
            .get(&i)
            .cloned()
            .unwrap_or_else(|| Rc::from([]))
    }
}

/// Uses of variables (or of `let`s, by index), each with the span of the use.
type Uses<T> = Vec<(T, Span)>;

/// The variables `e` names other than `let`s, with their spans, and the `let`s it names
/// (each once, with the span of its first use).
fn direct_uses(e: &TExpr) -> (Uses<Var>, Uses<usize>) {
    let (mut vars, mut lets) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match &x.kind {
            TKind::Var(Var::Let(i)) if seen.insert(*i) => lets.push((*i, x.span)),
            TKind::Var(Var::Let(_)) => {}
            TKind::Var(v) | TKind::Grad(_, v) => vars.push((*v, x.span)),
            _ => {}
        }
        stack.extend(x.children());
    }
    (vars, lets)
}

impl Checker<'_, '_> {
    /// Where `e` refers to `target`, directly or through `let`s.
    pub fn reaches(&mut self, e: &TExpr, target: Var) -> Option<Span> {
        self.find_use(e, &|x| matches!(x.kind, TKind::Var(v) if v == target))
    }

    /// Where `e` has a node that satisfies `wanted`, directly or through `let`s (for a node
    /// inside a `let`, the span of that `let`'s use in `e`). Each `let` is searched once.
    pub fn find_use(&mut self, e: &TExpr, wanted: &dyn Fn(&TExpr) -> bool) -> Option<Span> {
        let mut seen = HashSet::new();
        let mut lets = Vec::new();
        if let Some(at) = find_in(e, wanted, None, &mut seen, &mut lets) {
            return Some(at);
        }
        while let Some((i, via)) = lets.pop() {
            let Some(value) = self.typed_value(Var::Let(i)) else {
                continue;
            };
            if let Some(at) = find_in(value, wanted, Some(via), &mut seen, &mut lets) {
                return Some(at);
            }
        }
        None
    }
}

/// The span of the first node of `e` that satisfies `wanted` (`via` instead, inside a
/// `let`), queuing the `let`s it names that were not seen yet with the span to report.
fn find_in(
    e: &TExpr,
    wanted: &dyn Fn(&TExpr) -> bool,
    via: Option<Span>,
    seen: &mut HashSet<usize>,
    lets: &mut Vec<(usize, Span)>,
) -> Option<Span> {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        if wanted(x) {
            return Some(via.unwrap_or(x.span));
        }
        if let TKind::Var(Var::Let(i)) = x.kind
            && seen.insert(i)
        {
            lets.push((i, via.unwrap_or(x.span)));
        }
        stack.extend(x.children());
    }
    None
}

/// Fold `e` to a value, asking `var` for the value of each variable it names (with the span
/// of the use). The checker folds constants this way; binding folds sizes over data.
pub(crate) fn fold(
    e: &TExpr,
    var: &mut dyn FnMut(Var, Span) -> Result<Value, NotConst>,
) -> Result<Value, NotConst> {
    let fail = |msg: &str| Err(NotConst::Failed(e.span, msg.to_string()));
    Ok(match &e.kind {
        TKind::Int(v) => Value::Int(*v),
        TKind::Real(v) => Value::Real(*v),
        TKind::Bool(v) => Value::Bool(*v),
        TKind::Var(v) => var(*v, e.span)?,
        TKind::Unary(op, a) => {
            let a = fold(a, var)?;
            folded(map_elements(a, &|x| unary(*op, x)), e.span)?
        }
        TKind::Binary(op, a, b) => {
            let (a, b) = (fold(a, var)?, fold(b, var)?);
            let f = |x: Value, y: Value| binary(*op, &x, &y).map_err(Some);
            folded(zip_elements(a, b, &f), e.span)?
        }
        TKind::If(c, a, b) => match fold(c, var)? {
            Value::Bool(true) => fold(a, var)?,
            Value::Bool(false) => fold(b, var)?,
            _ => return Err(NotConst::Other),
        },
        TKind::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(fold(it, var)?);
            }
            Value::Array(out)
        }
        TKind::Index(base, idx) => {
            let mut v = fold(base, var)?;
            for i in idx {
                let k = match fold(i, var)? {
                    Value::Int(k) => k,
                    _ => return Err(NotConst::Other),
                };
                v = match v {
                    Value::Array(items) if k >= 1 && (k as usize) <= items.len() => {
                        items[k as usize - 1].clone()
                    }
                    _ => return fail("index out of range"),
                };
            }
            v
        }
        TKind::Call(super::builtins::Builtin::Div, args) => {
            let (a, b) = (fold(&args[0], var)?, fold(&args[1], var)?);
            folded(zip_elements(a, b, &int_div), e.span)?
        }
        TKind::Call(b, args) if args.len() == 1 => {
            let x = fold(&args[0], var)?;
            let int_result = e.ty.scalar == Scalar::Int;
            folded(map_elements(x, &|x| call1(b.name(), x, int_result)), e.span)?
        }
        _ => return Err(NotConst::Other),
    })
}

/// The result of folding values: `Err(None)` when the evaluator does not fold this form,
/// `Err(Some(why))` when evaluation fails.
type Folded = Result<Value, Option<&'static str>>;

fn folded(r: Folded, span: Span) -> Result<Value, NotConst> {
    r.map_err(|why| match why {
        Some(msg) => NotConst::Failed(span, msg.to_string()),
        None => NotConst::Other,
    })
}

/// `f` applied to every element of `v` (to `v` itself if it is not an array).
fn map_elements(v: Value, f: &dyn Fn(Value) -> Folded) -> Folded {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|x| map_elements(x, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        x => f(x),
    }
}

/// `f` applied element-wise to two values of the same shape, or a scalar and an array.
fn zip_elements(a: Value, b: Value, f: &dyn Fn(Value, Value) -> Folded) -> Folded {
    match (a, b) {
        (Value::Array(xs), Value::Array(ys)) if xs.len() == ys.len() => xs
            .into_iter()
            .zip(ys)
            .map(|(x, y)| zip_elements(x, y, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        (Value::Array(_), Value::Array(_)) => Err(None),
        (Value::Array(xs), y) => xs
            .into_iter()
            .map(|x| zip_elements(x, y.clone(), f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        (x, Value::Array(ys)) => ys
            .into_iter()
            .map(|y| zip_elements(x.clone(), y, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        (x, y) => f(x, y),
    }
}

fn unary(op: UnOp, x: Value) -> Folded {
    match (op, x) {
        (UnOp::Neg, Value::Int(v)) => v
            .checked_neg()
            .map(Value::Int)
            .ok_or(Some("integer overflow")),
        (UnOp::Neg, Value::Real(v)) => Ok(Value::Real(-v)),
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        _ => Err(None),
    }
}

/// `div(x, y)`: integer division rounding down.
fn int_div(x: Value, y: Value) -> Folded {
    match (x, y) {
        (Value::Int(_), Value::Int(0)) => Err(Some("division by zero")),
        (Value::Int(x), Value::Int(y)) => floor_div(x, y)
            .map(Value::Int)
            .ok_or(Some("integer overflow")),
        _ => Err(None),
    }
}

/// A one-argument built-in the evaluator folds; `int_result` when the call keeps `int`.
fn call1(name: &str, x: Value, int_result: bool) -> Folded {
    let x = x.as_f64().ok_or(None)?;
    let r = match name {
        "exp" => x.exp(),
        "log" => x.ln(),
        "sqrt" => x.sqrt(),
        "abs" => x.abs(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        "round" => x.round(),
        _ => return Err(None),
    };
    if !r.is_finite() {
        return Err(Some("the result is not a finite number"));
    }
    Ok(if int_result {
        Value::Int(r as i64)
    } else {
        Value::Real(r)
    })
}

/// ⌊x / y⌋ for y ≠ 0 (Euclidean division is the floor for a positive divisor).
pub(crate) fn floor_div(x: i64, y: i64) -> Option<i64> {
    if y > 0 {
        x.checked_div_euclid(y)
    } else {
        x.checked_neg()?.checked_div_euclid(y.checked_neg()?)
    }
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, &'static str> {
    use Value::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => match op {
            BinOp::Add => Int(x.checked_add(*y).ok_or("integer overflow")?),
            BinOp::Sub => Int(x.checked_sub(*y).ok_or("integer overflow")?),
            BinOp::Mul => Int(x.checked_mul(*y).ok_or("integer overflow")?),
            BinOp::Mod => {
                if *y == 0 {
                    return Err("division by zero");
                }
                Int(x.checked_rem_euclid(*y).ok_or("integer overflow")?)
            }
            BinOp::Div => {
                if *y == 0 {
                    return Err("division by zero");
                }
                Real(*x as f64 / *y as f64)
            }
            BinOp::Pow => {
                let r = (*x as f64).powf(*y as f64);
                if !r.is_finite() {
                    return Err("the result is not a finite number");
                }
                Real(r)
            }
            _ => return compare(op, *x as f64, *y as f64),
        },
        (Bool(x), Bool(y)) => match op {
            BinOp::And => Bool(*x && *y),
            BinOp::Or => Bool(*x || *y),
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
            _ => return Err("not a boolean operation"),
        },
        _ => {
            let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
                return Err("not a numeric operation");
            };
            let r = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => {
                    if y == 0.0 {
                        return Err("division by zero");
                    }
                    x / y
                }
                BinOp::Pow => x.powf(y),
                _ => return compare(op, x, y),
            };
            if !r.is_finite() {
                return Err("the result is not a finite number");
            }
            Real(r)
        }
    })
}

fn compare(op: BinOp, x: f64, y: f64) -> Result<Value, &'static str> {
    Ok(Value::Bool(match op {
        BinOp::Eq => x == y,
        BinOp::Ne => x != y,
        BinOp::Lt => x < y,
        BinOp::Le => x <= y,
        BinOp::Gt => x > y,
        BinOp::Ge => x >= y,
        _ => return Err("not a numeric operation"),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn floor_division() {
        for (x, y, q) in [
            (7, 2, 3),
            (-7, 2, -4),
            (7, -2, -4),
            (-7, -2, 3),
            (6, 3, 2),
            (-6, -3, 2),
        ] {
            assert_eq!(super::floor_div(x, y), Some(q), "{x} div {y}");
        }
        assert_eq!(super::floor_div(i64::MIN, -1), None);
    }
}

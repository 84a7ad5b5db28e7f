//! Derivatives of kernels, as new kernels.
//!
//! * Forward mode (`jvp`): the derivative kernel computes `out = J · v`, where `J` is the
//!   Jacobian of the primal `out` with respect to one input buffer (`x` or `p`) and the
//!   direction `v` is read from `aux` (laid out like that buffer). Every value gets a tangent;
//!   loops and reductions are transformed in place.
//! * Reverse mode (`vjp`): the derivative kernel accumulates `out += wᵀ J` (`out` laid out like
//!   the input buffer, `w` the adjoint of the primal `out`, read from `aux`). The primal's
//!   straight-line code runs first; then a backward sweep propagates adjoints. Loop bodies
//!   are re-run inside the backward sweep (recomputation instead of a tape) with every
//!   floating-point value they use from outside recomputed inside, so all adjoint flow inside
//!   a loop ends at loads of the input, which scatter-add into `out`. Kernels need no scratch
//!   memory and never allocate.
//!
//! Reductions: `sum` passes its adjoint to every term; `prod` passes `a · r / vᵢ` (NaN if a
//! factor is exactly 0); `min`/`max` pass it to the terms equal to the result. Random draws,
//! integer and boolean values have no derivative. Kernels with effects (`If`, stores to `x`
//! or `p`) are not differentiated.

use super::build::Builder;
use super::*;
use rustc_hash::FxHashMap as HashMap;

/// Why a kernel could not be differentiated.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffError(pub String);

type R<T> = Result<T, DiffError>;

fn err<T>(msg: &str) -> R<T> {
    Err(DiffError(msg.to_string()))
}

/// A primal value with no copy in scope: a bug in this module, reported rather than hidden.
fn unmapped(x: Val) -> DiffError {
    DiffError(format!(
        "internal: value v{} used before it was copied",
        x.0
    ))
}

/// Copies primal instructions into a builder, renaming values: its own copies first, then
/// those of the enclosing scopes (innermost first).
struct Copier<'k, 'm> {
    k: &'k Kernel,
    map: HashMap<Val, Val>,
    scopes: Vec<&'m HashMap<Val, Val>>,
}

impl<'k> Copier<'k, '_> {
    fn new(k: &'k Kernel) -> Self {
        Copier {
            k,
            map: HashMap::default(),
            scopes: Vec::new(),
        }
    }

    fn get(&self, x: Val) -> Option<Val> {
        self.map
            .get(&x)
            .or_else(|| self.scopes.iter().find_map(|m| m.get(&x)))
            .copied()
    }

    /// The copy of primal value `x`; every value is copied before it is used.
    fn v(&self, x: Val) -> R<Val> {
        self.get(x).ok_or_else(|| unmapped(x))
    }

    fn renamed(&self, op: &Op) -> R<Op> {
        let mut op = op.clone();
        let mut missing = None;
        operands_mut(&mut op, |x| match self.get(*x) {
            Some(n) => *x = n,
            None => missing = Some(*x),
        });
        match missing {
            Some(x) => Err(unmapped(x)),
            None => Ok(op),
        }
    }

    /// Copy one straight-line instruction (no nested blocks).
    fn copy_simple(&mut self, b: &mut Builder, inst: &Inst) -> R<()> {
        let op = self.renamed(&inst.op)?;
        let ty = inst.result.map(|r| self.k.ty(r));
        let new = b.push(op, ty);
        if let (Some(old), Some(new)) = (inst.result, new) {
            self.map.insert(old, new);
        }
        Ok(())
    }

    /// Copy a `Reduce` with its body.
    fn copy_reduce(&mut self, b: &mut Builder, inst: &Inst) -> R<()> {
        let Op::Reduce {
            op,
            index,
            lo,
            hi,
            body,
            value,
        } = &inst.op
        else {
            return err("not a reduction");
        };
        let (lo, hi) = (self.v(*lo)?, self.v(*hi)?);
        let i = b.open_loop();
        self.map.insert(*index, i);
        self.copy_block(b, body)?;
        let v = self.v(*value)?;
        let r = b.close_reduce(*op, i, lo, hi, v);
        if let Some(old) = inst.result {
            self.map.insert(old, r);
        }
        Ok(())
    }

    /// Copy a block of pure instructions (stores to `out` and `For` loops are skipped: the
    /// derivative kernels have their own outputs).
    fn copy_block(&mut self, b: &mut Builder, block: &Block) -> R<()> {
        for &id in &block.0 {
            let inst = self.k.inst(id);
            match &inst.op {
                Op::Store { buf: Buf::Out, .. } | Op::For { .. } => {}
                Op::Store { .. } | Op::If { .. } => return err("a kernel with effects"),
                Op::Reduce { .. } => self.copy_reduce(b, inst)?,
                _ => self.copy_simple(b, inst)?,
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ forward mode

/// Emit the forward-mode derivative of `k` with respect to `wrt` into `b`.
pub fn jvp_into(b: &mut Builder, k: &Kernel, wrt: Buf) -> R<()> {
    let mut f = Fwd {
        c: Copier::new(k),
        tan: HashMap::default(),
        wrt,
    };
    f.block(b, &k.body)
}

struct Fwd<'k> {
    c: Copier<'k, 'k>,
    /// Tangent of each primal value (absent: zero).
    tan: HashMap<Val, Val>,
    wrt: Buf,
}

impl Fwd<'_> {
    fn t(&self, x: Val) -> Option<Val> {
        self.tan.get(&x).copied()
    }

    fn block(&mut self, b: &mut Builder, block: &Block) -> R<()> {
        for &id in &block.0 {
            let inst = self.c.k.inst(id).clone();
            self.inst(b, &inst)?;
        }
        Ok(())
    }

    fn inst(&mut self, b: &mut Builder, inst: &Inst) -> R<()> {
        match &inst.op {
            Op::Store {
                buf: Buf::Out,
                index,
                len,
                value,
                checked,
            } => {
                let (index, len) = (self.c.v(*index)?, self.c.v(*len)?);
                let d = match self.t(*value) {
                    Some(d) => d,
                    None => b.f(0.0),
                };
                b.store(Buf::Out, index, len, d, *checked);
                Ok(())
            }
            Op::Store { .. } | Op::If { .. } => err("a kernel with effects"),
            Op::For {
                index,
                lo,
                hi,
                body,
            } => {
                let (lo, hi) = (self.c.v(*lo)?, self.c.v(*hi)?);
                let i = b.open_loop();
                self.c.map.insert(*index, i);
                self.block(b, body)?;
                b.close_for(i, lo, hi);
                Ok(())
            }
            Op::Reduce {
                op,
                index,
                lo,
                hi,
                body,
                value,
            } => {
                // The primal reduction, then a second loop for the tangent.
                self.c.copy_reduce(b, inst)?;
                let r = inst.result.expect("a reduction has a value");
                let rv = self.c.v(r)?;
                let (lo, hi) = (self.c.v(*lo)?, self.c.v(*hi)?);
                let i = b.open_loop();
                self.c.map.insert(*index, i);
                self.block(b, body)?;
                let v = self.c.v(*value)?;
                let dv = match self.t(*value) {
                    Some(dv) => dv,
                    None => b.f(0.0),
                };
                let term = match op {
                    RedOp::Sum => dv,
                    RedOp::Prod => b.div(dv, v),
                    RedOp::Min | RedOp::Max => {
                        let hit = b.fcmp(Cmp::Eq, v, rv);
                        let zero = b.f(0.0);
                        b.select(hit, dv, zero)
                    }
                };
                let sum = b.close_reduce(RedOp::Sum, i, lo, hi, term);
                let d = if *op == RedOp::Prod {
                    b.mul(rv, sum)
                } else {
                    sum
                };
                self.tan.insert(r, d);
                Ok(())
            }
            _ => {
                self.c.copy_simple(b, inst)?;
                if let Some(r) = inst.result
                    && self.c.k.ty(r) == Ty::F64
                    && let Some(d) = self.tangent(b, inst, r)?
                {
                    self.tan.insert(r, d);
                }
                Ok(())
            }
        }
    }

    /// The tangent of a straight-line instruction's result (None: zero).
    fn tangent(&mut self, b: &mut Builder, inst: &Inst, r: Val) -> R<Option<Val>> {
        let res = self.c.v(r)?;
        let p = |x: Val| self.c.v(x);
        Ok(match &inst.op {
            Op::Load {
                buf,
                index,
                len,
                checked,
            } if *buf == self.wrt => Some(b.load(Buf::Aux, p(*index)?, p(*len)?, *checked)),
            Op::FUn(op, a) => {
                let Some(da) = self.t(*a) else {
                    return Ok(None);
                };
                scale_by_derivative(b, *op, p(*a)?, res, da)
            }
            Op::FBin(op, x, y) => {
                let (dx, dy) = (self.t(*x), self.t(*y));
                if dx.is_none() && dy.is_none() {
                    return Ok(None);
                }
                let (x, y) = (p(*x)?, p(*y)?);
                // Missing tangents are zeros that are never materialised.
                let sum = |b: &mut Builder, a: Option<Val>, c: Option<Val>| match (a, c) {
                    (Some(a), Some(c)) => b.add(a, c),
                    (Some(a), None) | (None, Some(a)) => a,
                    (None, None) => b.f(0.0),
                };
                Some(match op {
                    FBin::Add => sum(b, dx, dy),
                    FBin::Sub => {
                        let ndy = dy.map(|d| b.neg(d));
                        sum(b, dx, ndy)
                    }
                    FBin::Mul => {
                        let t1 = dx.map(|d| b.mul(d, y));
                        let t2 = dy.map(|d| b.mul(x, d));
                        sum(b, t1, t2)
                    }
                    FBin::Div => {
                        // (dx − r·dy) / y
                        let num = match (dx, dy) {
                            (Some(dx), Some(dy)) => {
                                let rdy = b.mul(res, dy);
                                b.sub(dx, rdy)
                            }
                            (Some(dx), None) => dx,
                            (None, Some(dy)) => {
                                let rdy = b.mul(res, dy);
                                b.neg(rdy)
                            }
                            (None, None) => b.f(0.0),
                        };
                        b.div(num, y)
                    }
                    FBin::Min | FBin::Max => {
                        let zero = b.f(0.0);
                        let c = pick_first(b, *op, x, y);
                        b.select(c, dx.unwrap_or(zero), dy.unwrap_or(zero))
                    }
                })
            }
            Op::Select(c, x, y) => {
                let (dx, dy) = (self.t(*x), self.t(*y));
                if dx.is_none() && dy.is_none() {
                    return Ok(None);
                }
                let zero = b.f(0.0);
                Some(b.select(p(*c)?, dx.unwrap_or(zero), dy.unwrap_or(zero)))
            }
            Op::Call(f, args) => {
                let ds: Vec<Option<Val>> = args.iter().map(|a| self.t(*a)).collect();
                if ds.iter().all(Option::is_none) {
                    return Ok(None);
                }
                let xs = args.iter().map(|&a| p(a)).collect::<R<Vec<Val>>>()?;
                let partials = call_partials(b, *f, &xs, res)?;
                let mut acc: Option<Val> = None;
                for (d, pd) in ds.into_iter().zip(partials) {
                    if let Some(d) = d {
                        let term = b.mul(pd, d);
                        acc = Some(match acc {
                            Some(a) => b.add(a, term),
                            None => term,
                        });
                    }
                }
                acc
            }
            _ => None,
        })
    }
}

/// `u'(x)·d` for a unary operation with result `res`: the tangent of the result (`d` the
/// operand's tangent) or the operand's adjoint contribution (`d` the result's adjoint).
/// None where the derivative is zero almost everywhere.
fn scale_by_derivative(b: &mut Builder, u: FUn, x: Val, res: Val, d: Val) -> Option<Val> {
    match u {
        FUn::Neg => Some(b.neg(d)),
        FUn::Abs => {
            let zero = b.f(0.0);
            let neg = b.fcmp(Cmp::Lt, x, zero);
            let nd = b.neg(d);
            Some(b.select(neg, nd, d))
        }
        FUn::Sqrt => {
            let two = b.f(2.0);
            let den = b.mul(two, res);
            Some(b.div(d, den))
        }
        FUn::Floor | FUn::Ceil | FUn::Round => None,
    }
}

/// Whether `min`/`max` picked its first operand (as the evaluator decides).
fn pick_first(b: &mut Builder, op: FBin, x: Val, y: Val) -> Val {
    let c = if op == FBin::Min { Cmp::Lt } else { Cmp::Gt };
    let lt = b.fcmp(c, x, y);
    let ynan = b.fcmp(Cmp::Ne, y, y);
    b.or(lt, ynan)
}

/// ∂f/∂argᵢ for a math function at `xs`, given its result `r`.
fn call_partials(b: &mut Builder, f: MathFn, xs: &[Val], r: Val) -> R<Vec<Val>> {
    let a = xs[0];
    let one = b.f(1.0);
    let one_over = |b: &mut Builder, d: Val| b.div(one, d);
    Ok(match f {
        MathFn::Exp => vec![r],
        MathFn::Expm1 => vec![b.call(MathFn::Exp, vec![a])],
        MathFn::Log => vec![one_over(b, a)],
        MathFn::Log1p => {
            let d = b.add(one, a);
            vec![one_over(b, d)]
        }
        MathFn::Log2 | MathFn::Log10 => {
            let ln = if f == MathFn::Log2 {
                std::f64::consts::LN_2
            } else {
                std::f64::consts::LN_10
            };
            let c = b.f(ln);
            let d = b.mul(a, c);
            vec![one_over(b, d)]
        }
        MathFn::Cbrt => {
            let three = b.f(3.0);
            let r2 = b.mul(r, r);
            let d = b.mul(three, r2);
            vec![one_over(b, d)]
        }
        MathFn::Sin => vec![b.call(MathFn::Cos, vec![a])],
        MathFn::Cos => {
            let s = b.call(MathFn::Sin, vec![a]);
            vec![b.neg(s)]
        }
        MathFn::Tan => {
            let r2 = b.mul(r, r);
            vec![b.add(one, r2)]
        }
        MathFn::Asin | MathFn::Acos => {
            let a2 = b.mul(a, a);
            let d = b.sub(one, a2);
            let s = b.fun(FUn::Sqrt, d);
            let v = one_over(b, s);
            vec![if f == MathFn::Asin { v } else { b.neg(v) }]
        }
        MathFn::Atan => {
            let a2 = b.mul(a, a);
            let d = b.add(one, a2);
            vec![one_over(b, d)]
        }
        MathFn::Sinh => vec![b.call(MathFn::Cosh, vec![a])],
        MathFn::Cosh => vec![b.call(MathFn::Sinh, vec![a])],
        MathFn::Tanh => {
            let r2 = b.mul(r, r);
            vec![b.sub(one, r2)]
        }
        MathFn::Erf | MathFn::Erfc => {
            let a2 = b.mul(a, a);
            let na2 = b.neg(a2);
            let e = b.call(MathFn::Exp, vec![na2]);
            let c = b.f(2.0 / std::f64::consts::PI.sqrt());
            let v = b.mul(c, e);
            vec![if f == MathFn::Erf { v } else { b.neg(v) }]
        }
        MathFn::Lgamma => vec![b.call(MathFn::Digamma, vec![a])],
        MathFn::Tgamma => {
            let d = b.call(MathFn::Digamma, vec![a]);
            vec![b.mul(r, d)]
        }
        MathFn::Digamma => return err("the derivative of digamma"),
        MathFn::Pow => {
            // ∂/∂a = y·a^(y−1), ∂/∂y = r·ln a, which is 0 where r is (0^y for y > 0 stays
            // 0 as y moves; r·ln a would be 0·(−∞) = NaN there).
            let y = xs[1];
            let ym1 = b.sub(y, one);
            let pw = b.call(MathFn::Pow, vec![a, ym1]);
            let da = b.mul(y, pw);
            let la = b.call(MathFn::Log, vec![a]);
            let r_la = b.mul(r, la);
            let zero = b.f(0.0);
            let r_is_zero = b.fcmp(Cmp::Eq, r, zero);
            let dy = b.select(r_is_zero, zero, r_la);
            vec![da, dy]
        }
        MathFn::Atan2 => {
            // atan2(y, x): ∂/∂y = x/(x²+y²), ∂/∂x = −y/(x²+y²)
            let (y, x) = (xs[0], xs[1]);
            let x2 = b.mul(x, x);
            let y2 = b.mul(y, y);
            let den = b.add(x2, y2);
            let dy = b.div(x, den);
            let ny = b.neg(y);
            let dx = b.div(ny, den);
            vec![dy, dx]
        }
        MathFn::Hypot => {
            let (x, y) = (xs[0], xs[1]);
            vec![b.div(x, r), b.div(y, r)]
        }
    })
}

// ------------------------------------------------------------------ reverse mode

/// Emit the reverse-mode derivative of `k` with respect to `wrt` into `b`: it adds
/// `wᵀ J` to `out` (which the caller zeroes), with `w` read from `aux`. With `primal_at`,
/// the primal's own top-level outputs are also stored, shifted by that offset, so that one
/// call gives a value and its gradient (what gradient-based samplers need).
pub fn vjp_into(b: &mut Builder, k: &Kernel, wrt: Buf, primal_at: Option<Val>) -> R<()> {
    // Forward: the primal's straight-line values (loops of stores are not needed).
    let mut c = Copier::new(k);
    c.copy_block(b, &k.body)?;
    if let Some(at) = primal_at {
        for &id in &k.body.0 {
            if let Op::Store {
                buf: Buf::Out,
                index,
                len,
                value,
                checked,
            } = &k.inst(id).op
            {
                let index = b.iadd(at, c.v(*index)?);
                let len = b.iadd(at, c.v(*len)?);
                let value = c.v(*value)?;
                b.store(Buf::Out, index, len, value, *checked);
            }
        }
    }
    let defs = k
        .insts
        .iter()
        .enumerate()
        .filter_map(|(i, inst)| inst.result.map(|r| (r, i as u32)))
        .collect();
    let mut rev = Rev {
        k,
        wrt,
        defs,
        outer: std::rc::Rc::new(c.map),
    };
    let mut adj = HashMap::default();
    rev.sweep(b, &k.body.0, &mut adj, &HashMap::default())
}

struct Rev<'k> {
    k: &'k Kernel,
    wrt: Buf,
    /// Defining instruction of each value.
    defs: HashMap<Val, u32>,
    /// Forward values of the top level (primal → new).
    outer: std::rc::Rc<HashMap<Val, Val>>,
}

impl Rev<'_> {
    /// Backward sweep over `insts` (in reverse), given the current value map `vals`
    /// (primal → new, for this scope) merged over the outer one.
    fn sweep(
        &mut self,
        b: &mut Builder,
        insts: &[u32],
        adj: &mut HashMap<Val, Val>,
        local: &HashMap<Val, Val>,
    ) -> R<()> {
        let outer = self.outer.clone();
        let val = |x: Val| {
            local
                .get(&x)
                .or_else(|| outer.get(&x))
                .copied()
                .ok_or_else(|| unmapped(x))
        };
        for &id in insts.iter().rev() {
            let inst = self.k.inst(id).clone();
            match &inst.op {
                Op::Store {
                    buf: Buf::Out,
                    index,
                    len,
                    value,
                    checked,
                } => {
                    if self.k.ty(*value) == Ty::F64 {
                        let w = b.load(Buf::Aux, val(*index)?, val(*len)?, *checked);
                        add_adj(b, adj, *value, w);
                    }
                }
                Op::Store { .. } | Op::If { .. } => return err("a kernel with effects"),
                Op::For {
                    index,
                    lo,
                    hi,
                    body,
                    ..
                } => {
                    let (lo, hi) = (val(*lo)?, val(*hi)?);
                    self.loop_reverse(b, *index, lo, hi, body, local, None)?;
                }
                Op::Reduce {
                    op,
                    index,
                    lo,
                    hi,
                    body,
                    value,
                } => {
                    let r = inst.result.expect("a reduction has a value");
                    let Some(&a) = adj.get(&r) else { continue };
                    let (lo, hi) = (val(*lo)?, val(*hi)?);
                    let rv = val(r)?;
                    let seed = Seed {
                        op: *op,
                        value: *value,
                        adj: a,
                        result: rv,
                    };
                    self.loop_reverse(b, *index, lo, hi, body, local, Some(seed))?;
                }
                Op::Load {
                    buf,
                    index,
                    len,
                    checked,
                } if *buf == self.wrt => {
                    let r = inst.result.expect("a load has a value");
                    if let Some(&a) = adj.get(&r) {
                        scatter_add(b, val(*index)?, val(*len)?, *checked, a);
                    }
                }
                _ => {
                    let Some(r) = inst.result else { continue };
                    let Some(&a) = adj.get(&r) else { continue };
                    self.propagate(b, &inst.op, a, val(r)?, &val, adj)?;
                }
            }
        }
        Ok(())
    }

    /// Send the adjoint `a` of a straight-line instruction's result `res` to its operands.
    fn propagate(
        &self,
        b: &mut Builder,
        op: &Op,
        a: Val,
        res: Val,
        val: &dyn Fn(Val) -> R<Val>,
        adj: &mut HashMap<Val, Val>,
    ) -> R<()> {
        let f64_op = |x: &Val| self.k.ty(*x) == Ty::F64;
        match op {
            Op::FUn(u, x) => {
                if let Some(d) = scale_by_derivative(b, *u, val(*x)?, res, a) {
                    add_adj(b, adj, *x, d);
                }
            }
            Op::FBin(o, x, y) => {
                let (xv, yv) = (val(*x)?, val(*y)?);
                match o {
                    FBin::Add => {
                        add_adj(b, adj, *x, a);
                        add_adj(b, adj, *y, a);
                    }
                    FBin::Sub => {
                        add_adj(b, adj, *x, a);
                        let na = b.neg(a);
                        add_adj(b, adj, *y, na);
                    }
                    FBin::Mul => {
                        let ax = b.mul(a, yv);
                        add_adj(b, adj, *x, ax);
                        let ay = b.mul(a, xv);
                        add_adj(b, adj, *y, ay);
                    }
                    FBin::Div => {
                        let ax = b.div(a, yv);
                        add_adj(b, adj, *x, ax);
                        // ∂(x/y)/∂y = −r/y
                        let t = b.mul(ax, res);
                        let ay = b.neg(t);
                        add_adj(b, adj, *y, ay);
                    }
                    FBin::Min | FBin::Max => {
                        let c = pick_first(b, *o, xv, yv);
                        let zero = b.f(0.0);
                        let ax = b.select(c, a, zero);
                        let ay = b.select(c, zero, a);
                        add_adj(b, adj, *x, ax);
                        add_adj(b, adj, *y, ay);
                    }
                }
            }
            Op::Select(c, x, y) => {
                let cv = val(*c)?;
                let zero = b.f(0.0);
                if f64_op(x) {
                    let ax = b.select(cv, a, zero);
                    add_adj(b, adj, *x, ax);
                }
                if f64_op(y) {
                    let ay = b.select(cv, zero, a);
                    add_adj(b, adj, *y, ay);
                }
            }
            Op::Call(f, args) => {
                let xs = args.iter().map(|&x| val(x)).collect::<R<Vec<Val>>>()?;
                let partials = call_partials(b, *f, &xs, res)?;
                for (x, p) in args.iter().zip(partials) {
                    if f64_op(x) {
                        let d = b.mul(a, p);
                        add_adj(b, adj, *x, d);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The backward pass of a loop: re-run its body (recomputing every outer floating-point
    /// value it uses), seed adjoints (from its stores, or from a reduction's result), and
    /// sweep the body backwards.
    #[allow(clippy::too_many_arguments)]
    fn loop_reverse(
        &mut self,
        b: &mut Builder,
        index: Val,
        lo: Val,
        hi: Val,
        body: &Block,
        enclosing: &HashMap<Val, Val>,
        seed: Option<Seed>,
    ) -> R<()> {
        let i = b.open_loop();
        // Integer and boolean values from outside are used as they are; floating-point ones
        // are recomputed inside so that their adjoints can flow back to the inputs.
        let mut local: HashMap<Val, Val> = HashMap::default();
        local.insert(index, i);
        let mut order: Vec<u32> = Vec::new();
        let mut remat: HashMap<Val, Val> = HashMap::default();
        for &id in &body.0 {
            self.recompute_operands(b, id, enclosing, &mut local, &mut remat, &mut order)?;
            order.push(id);
            self.copy_into(b, id, enclosing, &mut local)?;
        }
        let mut adj: HashMap<Val, Val> = HashMap::default();
        if let Some(s) = seed {
            // The yielded value may be defined before the loop (`sum(i in 1..n) mu`): it is
            // recomputed inside like any outer operand, so its adjoint reaches the inputs.
            self.recompute(b, s.value, enclosing, &mut local, &mut remat, &mut order)?;
            let Some(&v) = local.get(&s.value) else {
                return err("a reduction's value outside the loop");
            };
            let term = match s.op {
                RedOp::Sum => s.adj,
                RedOp::Prod => {
                    let q = b.div(s.result, v);
                    b.mul(s.adj, q)
                }
                RedOp::Min | RedOp::Max => {
                    let hit = b.fcmp(Cmp::Eq, v, s.result);
                    let zero = b.f(0.0);
                    b.select(hit, s.adj, zero)
                }
            };
            if self.k.ty(s.value) == Ty::F64 {
                add_adj(b, &mut adj, s.value, term);
            }
        }
        let mut scope = enclosing.clone();
        scope.extend(local.iter().map(|(k, v)| (*k, *v)));
        self.sweep(b, &order, &mut adj, &scope)?;
        b.close_for(i, lo, hi);
        Ok(())
    }

    /// Copy one body instruction (reductions with their bodies) into the loop being built.
    fn copy_into(
        &mut self,
        b: &mut Builder,
        id: u32,
        enclosing: &HashMap<Val, Val>,
        local: &mut HashMap<Val, Val>,
    ) -> R<()> {
        let inst = self.k.inst(id);
        if matches!(inst.op, Op::For { .. } | Op::Store { buf: Buf::Out, .. }) {
            return Ok(());
        }
        let outer = self.outer.clone();
        let mut c = Copier::new(self.k);
        c.scopes = vec![&*local, enclosing, &outer];
        match &inst.op {
            Op::Reduce { .. } => c.copy_reduce(b, inst)?,
            Op::Store { .. } | Op::If { .. } => return err("a kernel with effects"),
            _ => c.copy_simple(b, inst)?,
        }
        let copied = inst.result.map(|r| c.v(r).map(|n| (r, n))).transpose()?;
        drop(c);
        if let Some((r, n)) = copied {
            local.insert(r, n);
        }
        // Values defined inside a copied reduction's body stay local to it.
        Ok(())
    }

    /// Before copying instruction `id` into a loop body, recompute (inside the body) every
    /// floating-point value it uses that is defined outside the loop.
    fn recompute_operands(
        &mut self,
        b: &mut Builder,
        id: u32,
        enclosing: &HashMap<Val, Val>,
        local: &mut HashMap<Val, Val>,
        remat: &mut HashMap<Val, Val>,
        order: &mut Vec<u32>,
    ) -> R<()> {
        let inst = self.k.inst(id);
        let mut needed: Vec<Val> = operands(&inst.op);
        // A reduction's body may use outer values too.
        if let Op::Reduce { body, .. } = &inst.op {
            block_uses(self.k, body, &mut needed);
        }
        for v in needed {
            self.recompute(b, v, enclosing, local, remat, order)?;
        }
        Ok(())
    }

    fn recompute(
        &mut self,
        b: &mut Builder,
        v: Val,
        enclosing: &HashMap<Val, Val>,
        local: &mut HashMap<Val, Val>,
        remat: &mut HashMap<Val, Val>,
        order: &mut Vec<u32>,
    ) -> R<()> {
        if local.contains_key(&v) || self.k.ty(v) != Ty::F64 {
            return Ok(());
        }
        // Only values defined outside (top level, or an enclosing loop's body) are recomputed.
        let Some(def) = self.definition(v) else {
            return Ok(());
        };
        if remat.contains_key(&v) {
            return Ok(());
        }
        self.recompute_operands(b, def, enclosing, local, remat, order)?;
        order.push(def);
        self.copy_into(b, def, enclosing, local)?;
        remat.insert(v, local[&v]);
        Ok(())
    }

    /// The instruction defining a value (loop indices have none).
    fn definition(&self, v: Val) -> Option<u32> {
        self.defs.get(&v).copied()
    }
}

struct Seed {
    op: RedOp,
    value: Val,
    adj: Val,
    result: Val,
}

fn add_adj(b: &mut Builder, adj: &mut HashMap<Val, Val>, x: Val, d: Val) {
    let v = match adj.get(&x) {
        Some(&old) => b.add(old, d),
        None => d,
    };
    adj.insert(x, v);
}

/// `out[index] += a`
fn scatter_add(b: &mut Builder, index: Val, len: Val, checked: bool, a: Val) {
    let old = b.load(Buf::Out, index, len, checked);
    let new = b.add(old, a);
    b.store(Buf::Out, index, len, new, checked);
}

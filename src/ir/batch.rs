//! Kernels over batches of paths, made from a model's own kernels.
//!
//! An engine advancing thousands of paths should not pay one indirect call per path and
//! kernel: the batch kernels here run a kernel's body in a loop over the paths of a batch,
//! each path's buffers at its own offset. They are built once the data (and so every size)
//! is known, so strides and the diffusion pattern are constants.
//!
//! The batch size is the kernel's `aux[0]`; what follows in `aux` depends on the kernel:
//!
//! | kernel | aux | x | out |
//! |---|---|---|---|
//! | `drift_batch` | `[nb]` | nb × nx | nb × nx |
//! | `diffusion_batch` | `[nb]` | nb × nx | nb × ndiff |
//! | `diffusion_jvp_batch` | `[nb, v (nb × nx)]` | nb × nx | nb × ndiff |
//! | `outputs_batch` | `[nb]` | nb × nx | nb × noutputs |
//! | `em_step` | `[nb, dt]` | nb × nx, advanced in place | dW (nb × nw), read only |
//!
//! `em_step` fuses one Euler–Maruyama step, `x += f dt + G dW`, with drift and diffusion
//! values kept in registers: it exists only when both kernels store their results at
//! constant positions (scalar states), which is where per-path overhead matters most.

use super::build::Builder;
use super::{Block, Buf, Cmp, Inst, Kernel, Op, Val, operands_mut};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;

/// Where an inlined kernel's buffer lives in the host kernel: `target[offset + i]` for its
/// element `i`, within a buffer of `len` values.
#[derive(Clone, Copy, Debug)]
pub struct Rebase {
    pub target: Buf,
    pub offset: Val,
    pub len: Val,
}

/// Why a batch kernel could not be made (the engine then composes the step itself).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchError(pub String);

type R<T> = Result<T, BatchError>;

/// Copies a kernel's body into a builder, renaming its values and moving its buffer
/// accesses. With `capture`, stores to `out` are not emitted but remembered by position
/// (they must be straight-line stores at constant positions), so the host uses the values
/// directly.
struct Inliner<'k> {
    k: &'k Kernel,
    map: HashMap<Val, Val>,
    rebase: [Option<Rebase>; 5],
    int_consts: HashMap<Val, i64>,
    capture: Option<BTreeMap<i64, Val>>,
}

fn slot(b: Buf) -> usize {
    crate::jit::buf_slot(b)
}

impl<'k> Inliner<'k> {
    fn new(k: &'k Kernel, rebase: [Option<Rebase>; 5], capture: bool) -> Self {
        let int_consts = k
            .insts
            .iter()
            .filter_map(|i| match (i.op.clone(), i.result) {
                (Op::ConstI(c), Some(r)) => Some((r, c)),
                _ => None,
            })
            .collect();
        Inliner {
            k,
            map: HashMap::default(),
            rebase,
            int_consts,
            capture: capture.then(BTreeMap::new),
        }
    }

    fn v(&self, x: Val) -> R<Val> {
        self.map.get(&x).copied().ok_or_else(|| {
            BatchError(format!(
                "kernel `{}`: value v{} used before its definition",
                self.k.name, x.0
            ))
        })
    }

    fn block(&mut self, b: &mut Builder, block: &Block, top: bool) -> R<()> {
        for &id in &block.0 {
            let inst = self.k.inst(id);
            self.inst(b, inst, top)?;
        }
        Ok(())
    }

    /// The index into the host's buffer for element `index` of the inlined kernel's buffer:
    /// moved by the offset, and, when the access was checked against the kernel's own length,
    /// still checked against it (an index outside it becomes −1, outside every buffer).
    fn moved_index(&self, b: &mut Builder, r: Rebase, index: Val, len: Val, checked: bool) -> Val {
        let moved = b.iadd(index, r.offset);
        if !checked {
            return moved;
        }
        let zero = b.i(0);
        let lo_ok = b.icmp(Cmp::Ge, index, zero);
        let hi_ok = b.icmp(Cmp::Lt, index, len);
        let inside = b.and(lo_ok, hi_ok);
        let outside = b.i(-1);
        b.select(inside, moved, outside)
    }

    fn inst(&mut self, b: &mut Builder, inst: &Inst, top: bool) -> R<()> {
        let ty = inst.result.map(|r| self.k.ty(r));
        match &inst.op {
            Op::Load {
                buf,
                index,
                len,
                checked,
            } => {
                let (index_old, index, len) = (*index, self.v(*index)?, self.v(*len)?);
                let value = if *buf == Buf::Out && self.capture.is_some() {
                    let at = self.int_consts.get(&index_old).copied();
                    let stored = at.and_then(|at| self.capture.as_ref()?.get(&at).copied());
                    match stored {
                        Some(v) => v,
                        None => return Err(self.uncapturable()),
                    }
                } else if let Some(r) = self.rebase[slot(*buf)] {
                    let at = self.moved_index(b, r, index, len, *checked);
                    b.load(r.target, at, r.len, *checked)
                } else {
                    b.load(*buf, index, len, *checked)
                };
                self.define(inst, value);
            }
            Op::Store {
                buf,
                index,
                len,
                value,
                checked,
            } => {
                let index_old = *index;
                let (index, len, value) = (self.v(*index)?, self.v(*len)?, self.v(*value)?);
                if *buf == Buf::Out && self.capture.is_some() {
                    let at = self.int_consts.get(&index_old).copied().filter(|_| top);
                    match (at, self.capture.as_mut()) {
                        (Some(at), Some(c)) => {
                            c.insert(at, value);
                        }
                        _ => return Err(self.uncapturable()),
                    }
                } else if let Some(r) = self.rebase[slot(*buf)] {
                    let at = self.moved_index(b, r, index, len, *checked);
                    b.store(r.target, at, r.len, value, *checked);
                } else {
                    b.store(*buf, index, len, value, *checked);
                }
            }
            Op::For {
                index,
                lo,
                hi,
                body,
            } => {
                let (lo, hi) = (self.v(*lo)?, self.v(*hi)?);
                let i = b.open_loop();
                self.map.insert(*index, i);
                self.block(b, body, false)?;
                b.close_for(i, lo, hi);
            }
            Op::Reduce {
                op,
                index,
                lo,
                hi,
                body,
                value,
            } => {
                let (lo, hi) = (self.v(*lo)?, self.v(*hi)?);
                let i = b.open_loop();
                self.map.insert(*index, i);
                self.block(b, body, false)?;
                let v = self.v(*value)?;
                let r = b.close_reduce(*op, i, lo, hi, v);
                self.define(inst, r);
            }
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                let cond = self.v(*cond)?;
                b.open_block();
                self.block(b, then, false)?;
                let then = b.close_block();
                b.open_block();
                self.block(b, otherwise, false)?;
                let otherwise = b.close_block();
                b.push(
                    Op::If {
                        cond,
                        then,
                        otherwise,
                    },
                    None,
                );
            }
            op => {
                let mut op = op.clone();
                let mut missing = None;
                operands_mut(&mut op, |x| match self.map.get(x) {
                    Some(n) => *x = *n,
                    None => missing = Some(*x),
                });
                if let Some(x) = missing {
                    return Err(BatchError(format!(
                        "kernel `{}`: value v{} used before its definition",
                        self.k.name, x.0
                    )));
                }
                if let Some(v) = b.push(op, ty) {
                    self.define(inst, v);
                }
            }
        }
        Ok(())
    }

    fn define(&mut self, inst: &Inst, v: Val) {
        if let Some(old) = inst.result {
            self.map.insert(old, v);
        }
    }

    fn uncapturable(&self) -> BatchError {
        BatchError(format!(
            "kernel `{}` does not store its results at constant positions",
            self.k.name
        ))
    }
}

/// Inline `k` into `b` with its buffers moved as `rebase` says (indexed like `Buf::ALL`).
fn inline(b: &mut Builder, k: &Kernel, rebase: [Option<Rebase>; 5]) -> R<()> {
    Inliner::new(k, rebase, false).block(b, &k.body, true)
}

/// Inline `k`, returning the values it stores to `out` by position instead of storing them.
fn inline_capturing(
    b: &mut Builder,
    k: &Kernel,
    rebase: [Option<Rebase>; 5],
) -> R<BTreeMap<i64, Val>> {
    let mut inl = Inliner::new(k, rebase, true);
    inl.block(b, &k.body, true)?;
    Ok(inl.capture.unwrap_or_default())
}

fn rebases(list: &[(Buf, Rebase)]) -> [Option<Rebase>; 5] {
    let mut out = [None; 5];
    for (buf, r) in list {
        out[slot(*buf)] = Some(*r);
    }
    out
}

/// The sizes a batch kernel is built for.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchShape {
    /// State components per path.
    pub nx: usize,
    /// Noise components per path.
    pub nw: usize,
    /// Diffusion entries: (state component, noise component).
    pub pattern: Vec<(usize, usize)>,
}

/// The batch size `aux[0]` and a loop over the paths; `body` gets the path index.
fn over_paths(b: &mut Builder, body: impl FnOnce(&mut Builder, Val, Val) -> R<()>) -> R<()> {
    let zero = b.i(0);
    let one = b.i(1);
    let nb_f = b.load(Buf::Aux, zero, one, false);
    let nb = b.ftoi(nb_f);
    let j = b.open_loop();
    body(b, nb, j)?;
    b.close_for(j, zero, nb);
    Ok(())
}

/// `k` (reading `x`, and `aux` when `aux_stride` is given, writing `out`) run for every path
/// of a batch: path `j` reads `x[j*nx..]` and `aux[1 + j*aux_stride..]`, writes
/// `out[j*out_stride..]`.
pub fn map_paths(
    k: &Kernel,
    name: &str,
    nx: usize,
    aux_stride: Option<usize>,
    out_stride: usize,
) -> R<Kernel> {
    let mut b = Builder::new(name);
    over_paths(&mut b, |b, nb, j| {
        let x = strided(b, Buf::X, nb, j, nx, 0);
        let out = strided(b, Buf::Out, nb, j, out_stride, 0);
        let mut list = vec![(Buf::X, x), (Buf::Out, out)];
        if let Some(s) = aux_stride {
            list.push((Buf::Aux, strided(b, Buf::Aux, nb, j, s, 1)));
        }
        inline(b, k, rebases(&list))
    })?;
    let mut k = b.finish();
    super::opt::optimize(&mut k);
    Ok(k)
}

/// Path `j`'s part of a buffer of `base + nb * stride` values.
fn strided(b: &mut Builder, target: Buf, nb: Val, j: Val, stride: usize, base: i64) -> Rebase {
    let s = b.i(stride as i64);
    let base = b.i(base);
    let at = b.imul(j, s);
    let offset = b.iadd(at, base);
    let total = b.imul(nb, s);
    let len = b.iadd(total, base);
    Rebase {
        target,
        offset,
        len,
    }
}

/// One fused Euler–Maruyama step over a batch (see the module docs), or why it cannot be
/// made for these kernels.
pub fn em_step(drift: &Kernel, diffusion: Option<&Kernel>, shape: &BatchShape) -> R<Kernel> {
    let mut b = Builder::new("em_step");
    over_paths(&mut b, |b, nb, j| {
        let one = b.i(1);
        let two = b.i(2);
        let dt = b.load(Buf::Aux, one, two, false);
        let x = strided(b, Buf::X, nb, j, shape.nx, 0);
        let f = inline_capturing(b, drift, rebases(&[(Buf::X, x)]))?;
        let g = match diffusion {
            Some(k) => inline_capturing(b, k, rebases(&[(Buf::X, x)]))?,
            None => BTreeMap::new(),
        };
        let dw = strided(b, Buf::Out, nb, j, shape.nw, 0);
        // Increments first, then the stores: every read sees the state before the step.
        let mut inc: Vec<Option<Val>> = vec![None; shape.nx];
        for (&at, &v) in &f {
            if let Some(slot) = usize::try_from(at).ok().and_then(|a| inc.get_mut(a)) {
                *slot = Some(b.mul(v, dt));
            }
        }
        for (e, &(xi, wi)) in shape.pattern.iter().enumerate() {
            let Some(&gv) = g.get(&(e as i64)) else {
                continue;
            };
            let w_at = b.i(wi as i64);
            let w_at = b.iadd(w_at, dw.offset);
            let w = b.load(Buf::Out, w_at, dw.len, false);
            let term = b.mul(gv, w);
            if let Some(slot) = inc.get_mut(xi) {
                *slot = Some(match *slot {
                    Some(acc) => b.add(acc, term),
                    None => term,
                });
            }
        }
        let mut updates = Vec::new();
        for (i, d) in inc.into_iter().enumerate() {
            if let Some(d) = d {
                let at = b.i(i as i64);
                let at = b.iadd(at, x.offset);
                let old = b.load(Buf::X, at, x.len, false);
                updates.push((at, b.add(old, d)));
            }
        }
        for (at, v) in updates {
            b.store(Buf::X, at, x.len, v, false);
        }
        Ok(())
    })?;
    let mut k = b.finish();
    super::opt::optimize(&mut k);
    Ok(k)
}

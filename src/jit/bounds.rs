//! What the safe call checks before running native code: that every buffer is at least as
//! long as the lengths the kernel's loads and stores are checked (or were proven) against.
//!
//! Unchecked accesses were proven in `0..len` by `ir::opt`; checked ones are tested against
//! `len` at run time: with every `len` within its buffer, neither leaves it.
//!
//! The lengths are IR values. Constant ones (the usual case) are folded when the kernel is
//! compiled into one required length per buffer. The others (sizes read from the data) are
//! computed at kernel entry: the top-level instructions they depend on are cut out into a
//! small kernel whose values are numbered from 0, which the check runs with the reference
//! evaluator (it never reads outside the slices it is given) in a per-thread scratch list,
//! so a call allocates nothing.

use super::buf_slot;
use crate::ir::eval::{self, Args, Scalar};
use crate::ir::{Block, Buf, Inst, Kernel, Op, Val, operands, operands_mut};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// The lengths one kernel's accesses rely on.
#[derive(Clone, Debug)]
pub(crate) struct LenCheck {
    /// The largest constant length each buffer is accessed with (`Buf::ALL` order; 0: none,
    /// or only lengths of 0 or less, which need nothing).
    fixed: [u64; Buf::ALL.len()],
    /// The lengths computed from the inputs, if any.
    computed: Option<Computed>,
}

/// Lengths computed at kernel entry, as a program of their own.
#[derive(Clone, Debug)]
struct Computed {
    /// The top-level instructions the lengths depend on, with values numbered from 0.
    kernel: Kernel,
    /// Each buffer with a value of `kernel` it must be at least as long as.
    lens: Vec<(Buf, Val)>,
}

/// A buffer shorter than a length the kernel relies on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Shortfall {
    pub buf: Buf,
    pub needed: i64,
    pub len: usize,
}

thread_local! {
    /// The evaluator's value slots for computed lengths, reused from call to call.
    static SCRATCH: RefCell<Vec<Scalar>> = const { RefCell::new(Vec::new()) };
}

impl LenCheck {
    /// The check for `k`, or why its lengths cannot be computed ahead of it (they depend on
    /// values it changes, draws, or computes inside loops).
    pub fn of(k: &Kernel) -> Result<LenCheck, String> {
        let def = definitions(k);
        let mut fixed = [0; Buf::ALL.len()];
        let mut lens = Vec::new();
        for (buf, len) in accesses(k) {
            let Some(&(i, _)) = def.get(&len) else {
                return Err(format!("a length (v{}) is a loop index", len.0));
            };
            match k.inst(i).op {
                Op::ConstI(c) => {
                    let slot = &mut fixed[buf_slot(buf)];
                    *slot = (*slot).max(u64::try_from(c).unwrap_or(0));
                }
                _ => lens.push((buf, len)),
            }
        }
        let computed = if lens.is_empty() {
            None
        } else {
            let needed = dependencies(k, &def, &lens)?;
            Some(Computed::slice(k, &needed, &lens)?)
        };
        Ok(LenCheck { fixed, computed })
    }

    /// The first buffer of `args` shorter than a length the kernel relies on.
    #[inline]
    pub fn shortfall(&self, args: &mut Args) -> Option<Shortfall> {
        let lens = lengths(args);
        let fixed_fit = self
            .fixed
            .iter()
            .zip(lens)
            .fold(true, |fit, (&n, len)| fit & (n <= len as u64));
        if fixed_fit && self.computed.is_none() {
            return None;
        }
        self.shortfall_slow(args)
    }

    /// `shortfall` when a fixed length does not fit or lengths must be computed.
    #[inline(never)]
    fn shortfall_slow(&self, args: &mut Args) -> Option<Shortfall> {
        let fixed = Buf::ALL.iter().zip(self.fixed);
        if let Some(s) = fixed.filter_map(|(&buf, n)| short(args, buf, n)).next() {
            return Some(s);
        }
        let c = self.computed.as_ref()?;
        SCRATCH
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut vals) => c.shortfall(args, &mut vals),
                // Not reached (the evaluator calls no kernel), but never a panic.
                Err(_) => c.shortfall(args, &mut Vec::new()),
            })
            // The thread is shutting down.
            .unwrap_or_else(|_| c.shortfall(args, &mut Vec::new()))
    }

    /// Whether the check runs the evaluator (some length depends on the inputs), and on how
    /// many values.
    #[cfg(test)]
    pub fn computed_values(&self) -> Option<usize> {
        self.computed.as_ref().map(|c| c.kernel.types.len())
    }

    /// The constant length each buffer needs (`Buf::ALL` order).
    #[cfg(test)]
    pub fn fixed(&self) -> [u64; Buf::ALL.len()] {
        self.fixed
    }
}

impl Computed {
    /// The instructions `needed` (top-level ones of `k`, in its order), renumbered.
    fn slice(k: &Kernel, needed: &HashSet<u32>, lens: &[(Buf, Val)]) -> Result<Computed, String> {
        let mut kernel = Kernel::new(format!("{}$lengths", k.name));
        let mut renamed: HashMap<Val, Val> = HashMap::new();
        let mut body = Vec::new();
        for &i in k.body.0.iter().filter(|i| needed.contains(i)) {
            let Inst { mut op, result } = k.inst(i).clone();
            let mut missing = None;
            operands_mut(&mut op, |v| match renamed.get(v) {
                Some(&r) => *v = r,
                None => missing = Some(*v),
            });
            if let Some(v) = missing {
                return Err(format!("v{} is used before it is defined", v.0));
            }
            let result = match result {
                Some(v) => {
                    let ty = k.types.get(v.0 as usize).copied();
                    let ty = ty.ok_or_else(|| format!("v{} has no type", v.0))?;
                    let r = Val(kernel.types.len() as u32);
                    kernel.types.push(ty);
                    renamed.insert(v, r);
                    Some(r)
                }
                None => None,
            };
            kernel.insts.push(Inst { op, result });
            body.push(kernel.insts.len() as u32 - 1);
        }
        kernel.body = Block(body);
        let lens = lens
            .iter()
            .map(|&(buf, v)| renamed.get(&v).map(|&r| (buf, r)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "a length is not computed at the top level".to_string())?;
        Ok(Computed { kernel, lens })
    }

    fn shortfall(&self, args: &mut Args, vals: &mut Vec<Scalar>) -> Option<Shortfall> {
        let mut inputs = Args {
            t: args.t,
            x: args.x,
            p: args.p,
            d: args.d,
            aux: args.aux,
            rng: None,
            out: &mut [],
        };
        eval::run_reusing(&self.kernel, &mut inputs, vals);
        self.lens.iter().find_map(|&(buf, v)| {
            // As the kernel reads a length (`Scalar::i`). Every value of the slice has a slot
            // after the run; should one not, refuse.
            let needed = vals.get(v.0 as usize).map_or(i64::MAX, |s| s.i());
            short(args, buf, u64::try_from(needed).unwrap_or(0))
        })
    }
}

/// Where each value is defined: (instruction, at top level?).
fn definitions(k: &Kernel) -> HashMap<Val, (u32, bool)> {
    fn walk(k: &Kernel, b: &Block, top: bool, def: &mut HashMap<Val, (u32, bool)>) {
        for &i in &b.0 {
            let inst = k.inst(i);
            if let Some(r) = inst.result {
                def.insert(r, (i, top));
            }
            match &inst.op {
                Op::For { body, .. } | Op::Reduce { body, .. } => walk(k, body, false, def),
                Op::If {
                    then, otherwise, ..
                } => {
                    walk(k, then, false, def);
                    walk(k, otherwise, false, def);
                }
                _ => {}
            }
        }
    }
    let mut def = HashMap::new();
    walk(k, &k.body, true, &mut def);
    def
}

/// Every (buffer, length) pair an access of `k` uses, without repeats.
fn accesses(k: &Kernel) -> Vec<(Buf, Val)> {
    let mut pairs: Vec<(Buf, Val)> = Vec::new();
    for inst in &k.insts {
        match inst.op {
            Op::Load { buf, len, .. } => pairs.push((buf, len)),
            // Stores to inputs are skipped by both back ends.
            Op::Store { buf, len, .. } if matches!(buf, Buf::X | Buf::P | Buf::Out) => {
                pairs.push((buf, len))
            }
            _ => {}
        }
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

/// The top-level instructions the lengths `lens` depend on, if they can be computed before
/// the kernel runs.
fn dependencies(
    k: &Kernel,
    def: &HashMap<Val, (u32, bool)>,
    lens: &[(Buf, Val)],
) -> Result<HashSet<u32>, String> {
    let written = k.writes();
    let mut needed: HashSet<u32> = HashSet::new();
    let mut stack: Vec<Val> = lens.iter().map(|p| p.1).collect();
    while let Some(v) = stack.pop() {
        let Some(&(i, top)) = def.get(&v) else {
            return Err(format!("a length (v{}) is a loop index", v.0));
        };
        if !needed.insert(i) {
            continue;
        }
        if !top {
            return Err(format!("a length (v{}) is computed in a loop", v.0));
        }
        let op = &k.inst(i).op;
        match op {
            Op::Store { .. } | Op::For { .. } | Op::Reduce { .. } | Op::If { .. } => {
                return Err(format!("a length (v{}) is not a plain value", v.0));
            }
            Op::Sample(..) => return Err(format!("a length (v{}) is random", v.0)),
            // The check runs with an empty `out`: a length must not come from it.
            Op::Load { buf: Buf::Out, .. } => {
                return Err(format!("a length (v{}) is read from `out`", v.0));
            }
            Op::Load { buf, .. } if written.contains(buf) => {
                return Err(format!(
                    "a length (v{}) is read from `{}`, which the kernel changes",
                    v.0,
                    buf.name()
                ));
            }
            _ => {}
        }
        stack.extend(operands(op));
    }
    Ok(needed)
}

/// The lengths of the buffers of `args` (`Buf::ALL` order).
#[inline]
fn lengths(args: &Args) -> [usize; Buf::ALL.len()] {
    [
        args.x.len(),
        args.p.len(),
        args.d.len(),
        args.aux.len(),
        args.out.len(),
    ]
}

/// `buf` of `args` if it is shorter than `needed`.
fn short(args: &Args, buf: Buf, needed: u64) -> Option<Shortfall> {
    let len = lengths(args)[buf_slot(buf)];
    (needed > len as u64).then_some(Shortfall {
        buf,
        needed: i64::try_from(needed).unwrap_or(i64::MAX),
        len,
    })
}

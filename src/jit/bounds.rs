//! What `Jit::call` checks before running native code: that every buffer is at least as long
//! as the lengths the kernel's loads and stores are checked (or were proven) against.
//!
//! Those lengths are IR values computed at kernel entry (constants, or sizes read from the
//! data). For each kernel we cut out the top-level instructions they depend on into a small
//! kernel that stores them to `out`; `call` runs it with the reference evaluator (which
//! never reads outside the slices it is given) and compares the results with the actual
//! buffer lengths. Unchecked accesses were proven in `0..len` by `ir::opt`; checked ones are
//! tested against `len` at run time: with `len` within the buffer, neither leaves it.

use crate::ir::{Block, Buf, Inst, Kernel, Op, Ty, Val, operands};
use std::collections::{HashMap, HashSet};

/// The lengths one kernel's accesses rely on, as a program of their own.
#[derive(Clone, Debug)]
pub(crate) enum LenCheck {
    /// Run `kernel` (its `out` has one slot per entry of `bufs`); `out[j]` must not exceed the
    /// length of `bufs[j]`.
    Eval { kernel: Kernel, bufs: Vec<Buf> },
    /// The lengths cannot be computed ahead of the kernel (they depend on values it changes
    /// or computes inside loops).
    Unknown(String),
}

impl LenCheck {
    pub fn of(k: &Kernel) -> LenCheck {
        // Where each value is defined: (instruction, at top level?).
        let mut def: HashMap<Val, (u32, bool)> = HashMap::new();
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
        walk(k, &k.body, true, &mut def);

        // Every (buffer, length) pair an access uses.
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

        // The instructions those lengths depend on.
        let written = k.writes();
        let mut needed: HashSet<u32> = HashSet::new();
        let mut stack: Vec<Val> = pairs.iter().map(|p| p.1).collect();
        while let Some(v) = stack.pop() {
            let Some(&(i, top)) = def.get(&v) else {
                return LenCheck::Unknown(format!("a length (v{}) is a loop index", v.0));
            };
            if !needed.insert(i) {
                continue;
            }
            let op = &k.inst(i).op;
            if !top {
                return LenCheck::Unknown(format!("a length (v{}) is computed in a loop", v.0));
            }
            match op {
                Op::Store { .. } | Op::For { .. } | Op::Reduce { .. } | Op::If { .. } => {
                    return LenCheck::Unknown(format!("a length (v{}) is not a plain value", v.0));
                }
                Op::Sample(..) => {
                    return LenCheck::Unknown(format!("a length (v{}) is random", v.0));
                }
                Op::Load { buf, .. } if written.contains(buf) => {
                    return LenCheck::Unknown(format!(
                        "a length (v{}) is read from `{}`, which the kernel changes",
                        v.0,
                        buf.name()
                    ));
                }
                _ => {}
            }
            stack.extend(operands(op));
        }

        // The slice, in the kernel's order, then one store per pair.
        let mut slice = Kernel::new(format!("{}$lengths", k.name));
        slice.types = k.types.clone();
        let mut body = Vec::new();
        for &i in &k.body.0 {
            if needed.contains(&i) {
                body.push(push(&mut slice, k.inst(i).clone()));
            }
        }
        let n = constant(&mut slice, &mut body, pairs.len() as i64);
        let mut bufs = Vec::new();
        for (j, &(buf, len)) in pairs.iter().enumerate() {
            let at = constant(&mut slice, &mut body, j as i64);
            let store = Op::Store {
                buf: Buf::Out,
                index: at,
                len: n,
                value: len,
                checked: true,
            };
            body.push(push(
                &mut slice,
                Inst {
                    op: store,
                    result: None,
                },
            ));
            bufs.push(buf);
        }
        slice.body = Block(body);
        LenCheck::Eval {
            kernel: slice,
            bufs,
        }
    }
}

fn push(k: &mut Kernel, inst: Inst) -> u32 {
    k.insts.push(inst);
    k.insts.len() as u32 - 1
}

fn constant(k: &mut Kernel, body: &mut Vec<u32>, c: i64) -> Val {
    k.types.push(Ty::I64);
    let v = Val(k.types.len() as u32 - 1);
    body.push(push(
        k,
        Inst {
            op: Op::ConstI(c),
            result: Some(v),
        },
    ));
    v
}

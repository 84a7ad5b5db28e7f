//! Clean-up passes over a kernel: constant folding and simple algebraic identities,
//! common-subexpression elimination, removal of unused pure instructions, proofs that
//! indices stay in range (dropping their run-time checks), and compaction (values numbered
//! densely in definition order).

use super::eval::{call, compare, fbin, fun, ibin};
use super::*;
use rustc_hash::FxHashMap as HashMap;

pub fn optimize(k: &mut Kernel) {
    hoist_invariants(k);
    fold_and_cse(k);
    remove_unused(k);
    prove_bounds(k);
    // Accesses proven in range now compare equal to their twins: merge them.
    fold_and_cse(k);
    remove_unused(k);
    compact(k);
}

/// Replace every use of a value by its representative.
fn rewrite(op: &mut Op, map: &HashMap<Val, Val>) {
    let r = |v: &mut Val| {
        if let Some(&n) = map.get(v) {
            *v = n;
        }
    };
    // A reduction's yielded value is renamed by the callers, after its body.
    operands_mut(op, r);
}

#[derive(Clone, Copy)]
enum C {
    F(f64),
    I(i64),
    B(bool),
}

/// Fold `op` if its operands are constants, with the evaluator's own operations.
fn fold(op: &Op, consts: &HashMap<Val, C>) -> Option<C> {
    let f = |v: &Val| match consts.get(v) {
        Some(C::F(x)) => Some(*x),
        _ => None,
    };
    let i = |v: &Val| match consts.get(v) {
        Some(C::I(x)) => Some(*x),
        _ => None,
    };
    let b = |v: &Val| match consts.get(v) {
        Some(C::B(x)) => Some(*x),
        _ => None,
    };
    Some(match op {
        Op::FUn(u, a) => C::F(fun(*u, f(a)?)),
        Op::FBin(o, a, bb) => C::F(fbin(*o, f(a)?, f(bb)?)),
        Op::Call(m, args) => {
            let xs: Option<Vec<f64>> = args.iter().map(f).collect();
            C::F(call(*m, &xs?))
        }
        Op::IBin(o, a, bb) => C::I(ibin(*o, i(a)?, i(bb)?)),
        Op::INeg(a) => C::I(i(a)?.wrapping_neg()),
        Op::FCmp(c, a, bb) => C::B(compare(*c, f(a)?, f(bb)?)),
        Op::ICmp(c, a, bb) => C::B(compare(*c, i(a)?, i(bb)?)),
        Op::And(a, bb) => C::B(b(a)? && b(bb)?),
        Op::Or(a, bb) => C::B(b(a)? || b(bb)?),
        Op::Not(a) => C::B(!b(a)?),
        Op::IToF(a) => C::F(i(a)? as f64),
        Op::FToI(a) => C::I(f(a)?.floor() as i64),
        Op::BToF(a) => C::F(f64::from(u8::from(b(a)?))),
        _ => return None,
    })
}

/// An operand that makes the operation the identity: `x + (−0)`, `x * 1`, `x − 0`, `x / 1`,
/// `pow(x, 1)`, and for integers `(x + c) − c`.
fn identity(op: &Op, consts: &HashMap<Val, C>, int_adds: &HashMap<Val, (Val, i64)>) -> Option<Val> {
    let is_f = |v: &Val, want: f64| matches!(consts.get(v), Some(C::F(x)) if *x == want);
    let is_bits = |v: &Val, want: f64| matches!(consts.get(v), Some(C::F(x)) if x.to_bits() == want.to_bits());
    let is_i = |v: &Val, want: i64| matches!(consts.get(v), Some(C::I(x)) if *x == want);
    let int = |v: &Val| match consts.get(v) {
        Some(C::I(x)) => Some(*x),
        _ => None,
    };
    match op {
        Op::Call(MathFn::Pow, args) if is_f(&args[1], 1.0) => Some(args[0]),
        Op::IBin(IBin::Sub, a, b) => match (int_adds.get(a), int(b)) {
            (Some(&(x, c)), Some(d)) if c == d => Some(x),
            _ if is_i(b, 0) => Some(*a),
            _ => None,
        },
        // Exact for every x, signed zeros included: x + (−0) and x − (+0) (but −0 + 0 = +0).
        Op::FBin(FBin::Add, a, b) if is_bits(b, -0.0) => Some(*a),
        Op::FBin(FBin::Add, a, b) if is_bits(a, -0.0) => Some(*b),
        Op::FBin(FBin::Sub, a, b) if is_bits(b, 0.0) => Some(*a),
        Op::FBin(FBin::Mul, a, b) if is_f(b, 1.0) => Some(*a),
        Op::FBin(FBin::Mul, a, b) if is_f(a, 1.0) => Some(*b),
        Op::FBin(FBin::Div, a, b) if is_f(b, 1.0) => Some(*a),
        Op::IBin(IBin::Add, a, b) if is_i(b, 0) => Some(*a),
        Op::IBin(IBin::Add, a, b) if is_i(a, 0) => Some(*b),
        Op::IBin(IBin::Mul, a, b) if is_i(b, 1) => Some(*a),
        Op::IBin(IBin::Mul, a, b) if is_i(a, 1) => Some(*b),
        Op::Select(c, a, b) => match consts.get(c) {
            Some(C::B(true)) => Some(*a),
            Some(C::B(false)) => Some(*b),
            _ if a == b => Some(*a),
            _ => None,
        },
        _ => None,
    }
}

/// What makes two pure instructions compute the same value (floats compared by bits).
#[derive(PartialEq, Eq, Hash)]
enum CseKey {
    F(u64),
    I(i64),
    B(bool),
    Time,
    Load(Buf, Val, Val, bool),
    /// A load of a buffer the kernel writes, valid until the next store to it (the count of
    /// stores to that buffer so far).
    LoadBetweenStores(Buf, Val, Val, bool, u32),
    FUn(FUn, Val),
    FBin(FBin, Val, Val),
    Call(MathFn, Vec<Val>),
    IBin(IBin, Val, Val),
    INeg(Val),
    FCmp(Cmp, Val, Val),
    ICmp(Cmp, Val, Val),
    And(Val, Val),
    Or(Val, Val),
    Not(Val),
    Select(Val, Val, Val),
    IToF(Val),
    FToI(Val),
    BToF(Val),
}

/// The key of an instruction that may be merged with an earlier identical one (none for
/// effects, loops and draws). Loads of buffers the kernel writes carry the buffer's store
/// count (`stores`), so they merge only with loads made since its last store.
fn cse_key(op: &Op, writes: &[Buf], stores: &HashMap<Buf, u32>) -> Option<CseKey> {
    Some(match op {
        Op::Store { .. } | Op::For { .. } | Op::Reduce { .. } | Op::If { .. } | Op::Sample(..) => {
            return None;
        }
        Op::Load {
            buf,
            index,
            len,
            checked,
        } if writes.contains(buf) => CseKey::LoadBetweenStores(
            *buf,
            *index,
            *len,
            *checked,
            stores.get(buf).copied().unwrap_or(0),
        ),
        Op::Load {
            buf,
            index,
            len,
            checked,
        } => CseKey::Load(*buf, *index, *len, *checked),
        Op::ConstF(x) => CseKey::F(x.to_bits()),
        Op::ConstI(x) => CseKey::I(*x),
        Op::ConstB(x) => CseKey::B(*x),
        Op::Time => CseKey::Time,
        Op::FUn(u, a) => CseKey::FUn(*u, *a),
        Op::FBin(o, a, b) => CseKey::FBin(*o, *a, *b),
        Op::Call(f, args) => CseKey::Call(*f, args.clone()),
        Op::IBin(o, a, b) => CseKey::IBin(*o, *a, *b),
        Op::INeg(a) => CseKey::INeg(*a),
        Op::FCmp(c, a, b) => CseKey::FCmp(*c, *a, *b),
        Op::ICmp(c, a, b) => CseKey::ICmp(*c, *a, *b),
        Op::And(a, b) => CseKey::And(*a, *b),
        Op::Or(a, b) => CseKey::Or(*a, *b),
        Op::Not(a) => CseKey::Not(*a),
        Op::Select(c, a, b) => CseKey::Select(*c, *a, *b),
        Op::IToF(a) => CseKey::IToF(*a),
        Op::FToI(a) => CseKey::FToI(*a),
        Op::BToF(a) => CseKey::BToF(*a),
    })
}

fn fold_and_cse(k: &mut Kernel) {
    let writes = k.writes();
    // Sized for the kernel up front: growing them was a fifth of the pass.
    let n = k.types.len();
    let mut map: HashMap<Val, Val> = HashMap::with_capacity_and_hasher(n / 2, Default::default());
    let mut consts: HashMap<Val, C> = HashMap::with_capacity_and_hasher(n / 4, Default::default());
    let body = std::mem::take(&mut k.body);
    let mut scopes: Vec<HashMap<CseKey, Val>> =
        vec![HashMap::with_capacity_and_hasher(n, Default::default())];
    let mut int_adds = HashMap::default();
    let mut st = State {
        writes: &writes,
        stores: HashMap::default(),
        map: &mut map,
        consts: &mut consts,
        scopes: &mut scopes,
        int_adds: &mut int_adds,
    };
    k.body = walk(k, body, &mut st);
}

/// What `fold_and_cse` knows while walking: replacements, constants, available expressions
/// (one scope per block), and `x + c` for integer constants `c`.
struct State<'a> {
    writes: &'a [Buf],
    /// Stores to each buffer so far (a nested block that stores counts before and after).
    stores: HashMap<Buf, u32>,
    map: &'a mut HashMap<Val, Val>,
    consts: &'a mut HashMap<Val, C>,
    scopes: &'a mut Vec<HashMap<CseKey, Val>>,
    int_adds: &'a mut HashMap<Val, (Val, i64)>,
}

fn walk(k: &mut Kernel, block: Block, st: &mut State) -> Block {
    let mut out = Vec::with_capacity(block.0.len());
    for id in block.0 {
        let mut inst = k.insts[id as usize].clone();
        rewrite(&mut inst.op, st.map);
        // A store, or a block that may store (a loop body runs again after its stores),
        // ends what loads of that buffer can share.
        let mut stored = Vec::new();
        match &inst.op {
            Op::Store { buf, .. } => stored.push(*buf),
            Op::For { body, .. } | Op::Reduce { body, .. } => stores_in(k, body, &mut stored),
            Op::If {
                then, otherwise, ..
            } => {
                stores_in(k, then, &mut stored);
                stores_in(k, otherwise, &mut stored);
            }
            _ => {}
        }
        for b in &stored {
            *st.stores.entry(*b).or_insert(0) += 1;
        }
        // Nested blocks are walked in a scope of their own.
        match &mut inst.op {
            Op::For { body, .. } | Op::Reduce { body, .. } => {
                st.scopes.push(HashMap::default());
                let b = std::mem::take(body);
                *body = walk(k, b, st);
                st.scopes.pop();
            }
            Op::If {
                then, otherwise, ..
            } => {
                st.scopes.push(HashMap::default());
                let t = std::mem::take(then);
                *then = walk(k, t, st);
                st.scopes.pop();
                st.scopes.push(HashMap::default());
                let o = std::mem::take(otherwise);
                *otherwise = walk(k, o, st);
                st.scopes.pop();
            }
            _ => {}
        }
        if !matches!(inst.op, Op::Store { .. }) {
            for b in &stored {
                *st.stores.entry(*b).or_insert(0) += 1;
            }
        }
        // A Reduce's value may live in its body: rewrite it after the body's replacements.
        if let Op::Reduce { value, .. } = &mut inst.op
            && let Some(&n) = st.map.get(value)
        {
            *value = n;
        }
        if let Some(r) = inst.result {
            let consts = &mut *st.consts;
            if let Some(c) = fold(&inst.op, consts) {
                inst.op = match c {
                    C::F(x) => Op::ConstF(x),
                    C::I(x) => Op::ConstI(x),
                    C::B(x) => Op::ConstB(x),
                };
            }
            match inst.op {
                Op::ConstF(x) => {
                    consts.insert(r, C::F(x));
                }
                Op::ConstI(x) => {
                    consts.insert(r, C::I(x));
                }
                Op::ConstB(x) => {
                    consts.insert(r, C::B(x));
                }
                _ => {}
            }
            if let Some(same) = identity(&inst.op, consts, st.int_adds) {
                st.map.insert(r, same);
                continue;
            }
            if let Op::IBin(IBin::Add, x, c) = &inst.op
                && let Some(C::I(c)) = consts.get(c)
            {
                st.int_adds.insert(r, (*x, *c));
            }
            if let Some(key) = cse_key(&inst.op, st.writes, &st.stores) {
                if let Some(&prev) = st.scopes.iter().rev().find_map(|s| s.get(&key)) {
                    st.map.insert(r, prev);
                    continue;
                }
                st.scopes.last_mut().expect("a scope").insert(key, r);
            }
        }
        k.insts[id as usize] = inst;
        out.push(id);
    }
    Block(out)
}

/// Loop-invariant code motion: a pure instruction in a loop body whose inputs are all
/// defined outside the loop moves in front of the loop (repeatedly, so whole invariant
/// computations — reductions included, like `mean(x)` inside `for i` — leave the loop).
fn hoist_invariants(k: &mut Kernel) {
    let body = std::mem::take(&mut k.body);
    k.body = hoist_block(k, body);
}

fn hoist_block(k: &mut Kernel, b: Block) -> Block {
    let mut out = Vec::with_capacity(b.0.len());
    for id in b.0 {
        let mut inst = k.insts[id as usize].clone();
        let (index, body) = match &mut inst.op {
            Op::For { index, body, .. } | Op::Reduce { index, body, .. } => {
                (*index, std::mem::take(body))
            }
            Op::If {
                then, otherwise, ..
            } => {
                let t = std::mem::take(then);
                *then = hoist_block(k, t);
                let o = std::mem::take(otherwise);
                *otherwise = hoist_block(k, o);
                k.insts[id as usize] = inst;
                out.push(id);
                continue;
            }
            _ => {
                out.push(id);
                continue;
            }
        };
        // Inner loops first, so their invariants are in this body's top level.
        let body = hoist_block(k, body);
        // What the loop writes may change between iterations: reads of it stay inside.
        let mut written = Vec::new();
        stores_in(k, &body, &mut written);
        let mut inside: rustc_hash::FxHashSet<Val> = defined_in(k, &body);
        inside.insert(index);
        let mut kept = Vec::with_capacity(body.0.len());
        for bid in body.0 {
            let candidate = &k.insts[bid as usize];
            let movable = !has_effect(k, &candidate.op)
                && !reads_any(k, &candidate.op, &written)
                && !matches!(candidate.op, Op::For { .. } | Op::If { .. })
                && uses_of(k, &candidate.op)
                    .iter()
                    .all(|v| !inside.contains(v));
            if movable {
                if let Some(r) = candidate.result {
                    inside.remove(&r);
                }
                if let Op::Reduce { body, .. } = &candidate.op {
                    for v in defined_in(k, body) {
                        inside.remove(&v);
                    }
                }
                out.push(bid);
            } else {
                kept.push(bid);
            }
        }
        match &mut inst.op {
            Op::For { body, .. } | Op::Reduce { body, .. } => *body = Block(kept),
            _ => unreachable!("a loop"),
        }
        k.insts[id as usize] = inst;
        out.push(id);
    }
    Block(out)
}

/// The buffers stored to anywhere in a block.
fn stores_in(k: &Kernel, b: &Block, out: &mut Vec<Buf>) {
    for &id in &b.0 {
        match &k.insts[id as usize].op {
            Op::Store { buf, .. } => out.push(*buf),
            Op::For { body, .. } | Op::Reduce { body, .. } => stores_in(k, body, out),
            Op::If {
                then, otherwise, ..
            } => {
                stores_in(k, then, out);
                stores_in(k, otherwise, out);
            }
            _ => {}
        }
    }
}

/// Whether an instruction (its nested blocks included) loads from one of `bufs`.
fn reads_any(k: &Kernel, op: &Op, bufs: &[Buf]) -> bool {
    let block = |b: &Block| {
        b.0.iter()
            .any(|&i| reads_any(k, &k.insts[i as usize].op, bufs))
    };
    match op {
        Op::Load { buf, .. } => bufs.contains(buf),
        Op::For { body, .. } | Op::Reduce { body, .. } => block(body),
        Op::If {
            then, otherwise, ..
        } => block(then) || block(otherwise),
        _ => false,
    }
}

/// Values defined anywhere in a block (nested blocks and loop indices included).
fn defined_in(k: &Kernel, b: &Block) -> rustc_hash::FxHashSet<Val> {
    let mut set = rustc_hash::FxHashSet::default();
    for &id in &b.0 {
        let inst = &k.insts[id as usize];
        set.extend(inst.result);
        match &inst.op {
            Op::For { index, body, .. } | Op::Reduce { index, body, .. } => {
                set.insert(*index);
                set.extend(defined_in(k, body));
            }
            Op::If {
                then, otherwise, ..
            } => {
                set.extend(defined_in(k, then));
                set.extend(defined_in(k, otherwise));
            }
            _ => {}
        }
    }
    set
}

/// Values an instruction uses, including those its nested blocks use from outside (and the
/// value a reduction yields, which may be defined outside its body).
fn uses_of(k: &Kernel, op: &Op) -> Vec<Val> {
    let mut uses = operands(op);
    if let Op::Reduce { body, index, .. } | Op::For { body, index, .. } = op {
        let mut local = defined_in(k, body);
        local.insert(*index);
        let mut inner = Vec::new();
        if let Op::Reduce { value, .. } = op {
            inner.push(*value);
        }
        block_uses(k, body, &mut inner);
        uses.extend(inner.into_iter().filter(|v| !local.contains(v)));
    }
    uses
}

/// Drop pure instructions whose values nothing uses, in one backward pass: an instruction
/// is live if it has an effect or a live instruction uses its value (SSA: uses come after
/// definitions, or inside a later instruction's body).
fn remove_unused(k: &mut Kernel) {
    let mut used = vec![false; k.types.len()];
    let body = std::mem::take(&mut k.body);
    k.body = keep_live(k, body, &mut used);
}

fn keep_live(k: &mut Kernel, b: Block, used: &mut [bool]) -> Block {
    let mut kept = Vec::with_capacity(b.0.len());
    for id in b.0.into_iter().rev() {
        let mut inst = std::mem::replace(&mut k.insts[id as usize].op, Op::Time);
        let result = k.insts[id as usize].result;
        let live = result.is_some_and(|r| used[r.0 as usize]) || has_effect(k, &inst);
        if live {
            match &mut inst {
                Op::For { body, .. } => *body = keep_live(k, std::mem::take(body), used),
                Op::Reduce { body, value, .. } => {
                    used[value.0 as usize] = true;
                    *body = keep_live(k, std::mem::take(body), used);
                }
                Op::If {
                    then, otherwise, ..
                } => {
                    *then = keep_live(k, std::mem::take(then), used);
                    *otherwise = keep_live(k, std::mem::take(otherwise), used);
                }
                _ => {}
            }
            for v in operands(&inst) {
                used[v.0 as usize] = true;
            }
            kept.push(id);
        }
        k.insts[id as usize].op = inst;
    }
    kept.reverse();
    Block(kept)
}

fn has_effect(k: &Kernel, op: &Op) -> bool {
    match op {
        Op::Store { .. } | Op::Sample(..) => true,
        Op::For { body, .. } => block_has_effect(k, body),
        Op::If {
            then, otherwise, ..
        } => block_has_effect(k, then) || block_has_effect(k, otherwise),
        Op::Reduce { body, .. } => block_has_effect(k, body),
        _ => false,
    }
}

fn block_has_effect(k: &Kernel, b: &Block) -> bool {
    b.0.iter().any(|&i| has_effect(k, &k.insts[i as usize].op))
}

/// Integer ranges of values, for proving indices in range.
fn prove_bounds(k: &mut Kernel) {
    let mut ranges: HashMap<Val, (i64, i64)> = HashMap::default();
    let body = k.body.clone();
    prove_block(k, &body, &mut ranges);
}

fn prove_block(k: &mut Kernel, b: &Block, ranges: &mut HashMap<Val, (i64, i64)>) {
    for &id in &b.0 {
        let op = k.insts[id as usize].op.clone();
        let result = k.insts[id as usize].result;
        let range = |v: &Val, ranges: &HashMap<Val, (i64, i64)>| ranges.get(v).copied();
        match &op {
            Op::ConstI(c) => {
                if let Some(r) = result {
                    ranges.insert(r, (*c, *c));
                }
            }
            Op::IBin(o, a, bb) => {
                if let (Some(r), Some((al, ah)), Some((bl, bh))) =
                    (result, range(a, ranges), range(bb, ranges))
                {
                    let iv = match o {
                        IBin::Add => al.checked_add(bl).zip(ah.checked_add(bh)),
                        IBin::Sub => al.checked_sub(bh).zip(ah.checked_sub(bl)),
                        IBin::Mul => {
                            let c = [
                                al.checked_mul(bl),
                                al.checked_mul(bh),
                                ah.checked_mul(bl),
                                ah.checked_mul(bh),
                            ];
                            if c.iter().all(Option::is_some) {
                                let c: Vec<i64> = c.iter().flatten().copied().collect();
                                Some((*c.iter().min().unwrap_or(&0), *c.iter().max().unwrap_or(&0)))
                            } else {
                                None
                            }
                        }
                        IBin::Rem if bl == bh && bl > 0 => Some((0, bl - 1)),
                        IBin::Div if bl == bh && bl > 0 && al >= 0 => Some((al / bl, ah / bl)),
                        IBin::Min => Some((al.min(bl), ah.min(bh))),
                        IBin::Max => Some((al.max(bl), ah.max(bh))),
                        _ => None,
                    };
                    if let Some(iv) = iv {
                        ranges.insert(r, iv);
                    }
                }
            }
            Op::For {
                index,
                lo,
                hi,
                body,
            }
            | Op::Reduce {
                index,
                lo,
                hi,
                body,
                ..
            } => {
                if let (Some((lol, _)), Some((_, hih))) = (range(lo, ranges), range(hi, ranges))
                    && lol < hih
                {
                    ranges.insert(*index, (lol, hih - 1));
                }
                prove_block(k, body, ranges);
            }
            Op::If {
                then, otherwise, ..
            } => {
                prove_block(k, then, ranges);
                prove_block(k, otherwise, ranges);
            }
            Op::Load { index, len, .. } | Op::Store { index, len, .. } => {
                if let (Some((il, ih)), Some((ll, _))) = (range(index, ranges), range(len, ranges))
                    && il >= 0
                    && ih < ll
                {
                    match &mut k.insts[id as usize].op {
                        Op::Load { checked, .. } | Op::Store { checked, .. } => *checked = false,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// Renumber values densely in definition order and drop unreachable instructions.
fn compact(k: &mut Kernel) {
    let mut new_insts = Vec::new();
    let mut new_types = Vec::new();
    let mut map: HashMap<Val, Val> = HashMap::default();
    let body = k.body.clone();
    k.body = compact_block(k, &body, &mut new_insts, &mut new_types, &mut map);
    k.insts = new_insts;
    k.types = new_types;
}

fn compact_block(
    k: &Kernel,
    b: &Block,
    insts: &mut Vec<Inst>,
    types: &mut Vec<Ty>,
    map: &mut HashMap<Val, Val>,
) -> Block {
    let mut out = Vec::with_capacity(b.0.len());
    for &id in &b.0 {
        let mut inst = k.insts[id as usize].clone();
        rewrite(&mut inst.op, map);
        let fresh = |v: Val, types: &mut Vec<Ty>, map: &mut HashMap<Val, Val>| {
            types.push(k.types[v.0 as usize]);
            let n = Val(types.len() as u32 - 1);
            map.insert(v, n);
            n
        };
        match &mut inst.op {
            Op::For { index, body, .. } => {
                *index = fresh(*index, types, map);
                *body = compact_block(k, body, insts, types, map);
            }
            Op::Reduce {
                index, body, value, ..
            } => {
                *index = fresh(*index, types, map);
                *body = compact_block(k, body, insts, types, map);
                // Defined in the body or before the reduction: renamed either way by now.
                if let Some(&n) = map.get(value) {
                    *value = n;
                }
            }
            Op::If {
                then, otherwise, ..
            } => {
                *then = compact_block(k, then, insts, types, map);
                *otherwise = compact_block(k, otherwise, insts, types, map);
            }
            _ => {}
        }
        if let Some(r) = inst.result {
            inst.result = Some(fresh(r, types, map));
        }
        insts.push(inst);
        out.push(insts.len() as u32 - 1);
    }
    Block(out)
}

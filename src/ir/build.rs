//! Building kernels: emit instructions into the current block, open nested loop bodies.

use super::*;

/// Appends instructions to a kernel; `blocks` is the stack of open blocks (innermost last).
pub struct Builder {
    pub k: Kernel,
    blocks: Vec<Vec<u32>>,
    /// Integer constants by value, to recognise constant indices.
    int_consts: rustc_hash::FxHashMap<Val, i64>,
}

impl Builder {
    pub fn new(name: impl Into<String>) -> Builder {
        Builder {
            k: Kernel::new(name),
            blocks: vec![Vec::new()],
            int_consts: rustc_hash::FxHashMap::default(),
        }
    }

    pub fn finish(mut self) -> Kernel {
        let body = self.blocks.pop().expect("the top block");
        debug_assert!(self.blocks.is_empty(), "unclosed block");
        self.k.body = Block(body);
        self.k
    }

    fn new_val(&mut self, ty: Ty) -> Val {
        self.k.types.push(ty);
        Val(self.k.types.len() as u32 - 1)
    }

    /// Append an instruction defining a value of type `ty` (or none).
    pub fn push(&mut self, op: Op, ty: Option<Ty>) -> Option<Val> {
        let result = ty.map(|t| self.new_val(t));
        self.k.insts.push(Inst { op, result });
        let id = self.k.insts.len() as u32 - 1;
        self.blocks.last_mut().expect("an open block").push(id);
        result
    }

    fn value(&mut self, op: Op, ty: Ty) -> Val {
        self.push(op, Some(ty)).expect("a value")
    }

    pub fn ty(&self, v: Val) -> Ty {
        self.k.ty(v)
    }

    /// Emit into the kernel's top block (just before the statement being built), so that the
    /// values `f` defines are visible everywhere after. For values that depend on nothing
    /// inside the current loop or branch.
    pub fn hoist<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let inner = self.blocks.split_off(1);
        let out = f(self);
        self.blocks.extend(inner);
        out
    }

    /// Close the nested blocks temporarily (emission goes to the top block) …
    pub fn take_nested(&mut self) -> Vec<Vec<u32>> {
        self.blocks.split_off(1)
    }

    /// … and reopen them.
    pub fn restore_nested(&mut self, nested: Vec<Vec<u32>>) {
        self.blocks.extend(nested);
    }

    /// Whether the builder is inside a loop or branch.
    pub fn nested(&self) -> bool {
        self.blocks.len() > 1
    }

    pub fn f(&mut self, x: f64) -> Val {
        self.value(Op::ConstF(x), Ty::F64)
    }
    pub fn i(&mut self, x: i64) -> Val {
        let v = self.value(Op::ConstI(x), Ty::I64);
        self.int_consts.insert(v, x);
        v
    }

    /// The value of an integer constant made by `i`.
    pub fn const_int(&self, v: Val) -> Option<i64> {
        self.int_consts.get(&v).copied()
    }

    /// Open a loop body: returns its index value; close with `close_for` or `close_reduce`.
    pub fn open_loop(&mut self) -> Val {
        let index = self.new_val(Ty::I64);
        self.blocks.push(Vec::new());
        index
    }

    /// Open a block for a branch of an `If`; close it with `close_block`.
    pub fn open_block(&mut self) {
        self.blocks.push(Vec::new());
    }

    pub fn close_block(&mut self) -> Block {
        Block(self.blocks.pop().expect("an open block"))
    }

    pub fn close_for(&mut self, index: Val, lo: Val, hi: Val) {
        let body = Block(self.blocks.pop().expect("loop body"));
        self.push(
            Op::For {
                index,
                lo,
                hi,
                body,
            },
            None,
        );
    }

    pub fn close_reduce(&mut self, op: RedOp, index: Val, lo: Val, hi: Val, value: Val) -> Val {
        let value = self.to_f64(value);
        let body = Block(self.blocks.pop().expect("reduction body"));
        self.push(
            Op::Reduce {
                op,
                index,
                lo,
                hi,
                body,
                value,
            },
            Some(Ty::F64),
        )
        .expect("a reduction value")
    }

    pub fn b(&mut self, x: bool) -> Val {
        self.value(Op::ConstB(x), Ty::Bool)
    }
    pub fn time(&mut self) -> Val {
        self.value(Op::Time, Ty::F64)
    }
    pub fn load(&mut self, buf: Buf, index: Val, len: Val, checked: bool) -> Val {
        self.value(
            Op::Load {
                buf,
                index,
                len,
                checked,
            },
            Ty::F64,
        )
    }
    pub fn store(&mut self, buf: Buf, index: Val, len: Val, value: Val, checked: bool) {
        self.push(
            Op::Store {
                buf,
                index,
                len,
                value,
                checked,
            },
            None,
        );
    }
    pub fn fun(&mut self, op: FUn, a: Val) -> Val {
        self.value(Op::FUn(op, a), Ty::F64)
    }
    pub fn fbin(&mut self, op: FBin, a: Val, b: Val) -> Val {
        self.value(Op::FBin(op, a, b), Ty::F64)
    }
    pub fn add(&mut self, a: Val, b: Val) -> Val {
        self.fbin(FBin::Add, a, b)
    }
    pub fn sub(&mut self, a: Val, b: Val) -> Val {
        self.fbin(FBin::Sub, a, b)
    }
    pub fn mul(&mut self, a: Val, b: Val) -> Val {
        self.fbin(FBin::Mul, a, b)
    }
    pub fn div(&mut self, a: Val, b: Val) -> Val {
        self.fbin(FBin::Div, a, b)
    }
    pub fn neg(&mut self, a: Val) -> Val {
        self.fun(FUn::Neg, a)
    }
    pub fn call(&mut self, f: MathFn, args: Vec<Val>) -> Val {
        self.value(Op::Call(f, args), Ty::F64)
    }
    pub fn ibin(&mut self, op: IBin, a: Val, b: Val) -> Val {
        self.value(Op::IBin(op, a, b), Ty::I64)
    }
    pub fn iadd(&mut self, a: Val, b: Val) -> Val {
        self.ibin(IBin::Add, a, b)
    }
    pub fn imul(&mut self, a: Val, b: Val) -> Val {
        self.ibin(IBin::Mul, a, b)
    }
    pub fn ineg(&mut self, a: Val) -> Val {
        self.value(Op::INeg(a), Ty::I64)
    }
    pub fn fcmp(&mut self, c: Cmp, a: Val, b: Val) -> Val {
        self.value(Op::FCmp(c, a, b), Ty::Bool)
    }
    pub fn icmp(&mut self, c: Cmp, a: Val, b: Val) -> Val {
        self.value(Op::ICmp(c, a, b), Ty::Bool)
    }
    pub fn and(&mut self, a: Val, b: Val) -> Val {
        self.value(Op::And(a, b), Ty::Bool)
    }
    pub fn or(&mut self, a: Val, b: Val) -> Val {
        self.value(Op::Or(a, b), Ty::Bool)
    }
    pub fn not(&mut self, a: Val) -> Val {
        self.value(Op::Not(a), Ty::Bool)
    }
    /// `if c then a else b`; operands of different types are widened to the wider one
    /// (f64 over i64 over bool), so the result's type does not depend on the branch taken.
    pub fn select(&mut self, c: Val, a: Val, b: Val) -> Val {
        let (ta, tb) = (self.ty(a), self.ty(b));
        let (a, b, ty) = if ta == tb {
            (a, b, ta)
        } else if ta == Ty::F64 || tb == Ty::F64 {
            (self.to_f64(a), self.to_f64(b), Ty::F64)
        } else {
            // One i64 and one bool.
            let widen = |s: &mut Self, v: Val| {
                if s.ty(v) == Ty::Bool {
                    let f = s.btof(v);
                    s.ftoi(f)
                } else {
                    v
                }
            };
            (widen(self, a), widen(self, b), Ty::I64)
        };
        self.value(Op::Select(c, a, b), ty)
    }
    pub fn itof(&mut self, a: Val) -> Val {
        self.value(Op::IToF(a), Ty::F64)
    }
    pub fn ftoi(&mut self, a: Val) -> Val {
        self.value(Op::FToI(a), Ty::I64)
    }
    pub fn btof(&mut self, a: Val) -> Val {
        self.value(Op::BToF(a), Ty::F64)
    }
    pub fn sample(&mut self, d: SampleDist, args: Vec<Val>) -> Val {
        self.value(Op::Sample(d, args), Ty::F64)
    }

    /// Any number value as f64.
    pub fn to_f64(&mut self, v: Val) -> Val {
        match self.ty(v) {
            Ty::F64 => v,
            Ty::I64 => self.itof(v),
            Ty::Bool => self.btof(v),
        }
    }

    /// `for index in lo..hi { body }`.
    pub fn for_loop<T>(&mut self, lo: Val, hi: Val, body: impl FnOnce(&mut Self, Val) -> T) -> T {
        let index = self.new_val(Ty::I64);
        self.blocks.push(Vec::new());
        let out = body(self, index);
        let block = Block(self.blocks.pop().expect("loop body"));
        self.push(
            Op::For {
                index,
                lo,
                hi,
                body: block,
            },
            None,
        );
        out
    }

    /// `op` over `index in lo..hi` of the value `body` returns.
    pub fn reduce(
        &mut self,
        op: RedOp,
        lo: Val,
        hi: Val,
        body: impl FnOnce(&mut Self, Val) -> Val,
    ) -> Val {
        let index = self.new_val(Ty::I64);
        self.blocks.push(Vec::new());
        let value = body(self, index);
        let value = self.to_f64(value);
        let block = Block(self.blocks.pop().expect("reduction body"));
        self.push(
            Op::Reduce {
                op,
                index,
                lo,
                hi,
                body: block,
                value,
            },
            Some(Ty::F64),
        )
        .expect("a reduction value")
    }

    /// `if cond { then } else { otherwise }` for statements.
    pub fn if_else(
        &mut self,
        cond: Val,
        then: impl FnOnce(&mut Self),
        otherwise: impl FnOnce(&mut Self),
    ) {
        self.blocks.push(Vec::new());
        then(self);
        let t = Block(self.blocks.pop().expect("then block"));
        self.blocks.push(Vec::new());
        otherwise(self);
        let e = Block(self.blocks.pop().expect("else block"));
        self.push(
            Op::If {
                cond,
                then: t,
                otherwise: e,
            },
            None,
        );
    }
}

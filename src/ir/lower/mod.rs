//! Lowering a typed model into kernels (see the calling convention in `ir`), plus the
//! tables engines need beside them: buffer layouts, reaction stoichiometry, the dependency
//! graph between transitions, and which kernels exist.

mod density;
mod expr;
mod flips;
mod kernels;
pub mod layout;
mod reaction_views;
mod symbolic;
mod transitions;

pub use flips::FlipTerm;
pub use kernels::{
    EventInfo, JumpInfo, LoweredModel, ReactionTable, has_target, lower_model, size_index,
};
pub use layout::{Layout, Slot};

use super::build::Builder;
use super::{Buf, Cmp, FBin, Ty, Val};
use crate::check::model::{Model, Program, TExpr, Var};
use crate::check::types::{Dim, Scalar};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
pub(crate) use kernels::LetReads;
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// What a local (loop variable, function parameter, body `let`) stands for.
#[derive(Clone, Debug)]
pub(crate) enum Binding {
    Scalar(Val),
    /// An array-valued argument or `let`: its elements are computed where used.
    Array(Rc<TExpr>, Rc<Env>),
    /// An array `let` of a jump or event, computed once into `out` (the effect's scratch
    /// space) from `offset`, row-major with these dimensions.
    Stored {
        offset: Val,
        dims: Vec<Val>,
    },
}

/// Locals in scope. Function bodies get an environment of their own (their locals are
/// numbered separately from the model's).
#[derive(Clone, Debug, Default)]
pub(crate) struct Env {
    pub locals: HashMap<usize, Binding>,
}

impl Env {
    pub fn with(&self, local: usize, b: Binding) -> Env {
        let mut e = self.clone();
        e.locals.insert(local, b);
        e
    }
}

/// The state of lowering one kernel.
pub(crate) struct Lower<'m> {
    pub m: &'m Model,
    pub prog: &'m Program,
    pub layout: &'m Layout,
    /// What each `let` depends on.
    pub reads: &'m LetReads,
    pub b: Builder,
    /// Slot offsets and lengths (i64), and each slot's dimensions, computed once per kernel.
    offsets: HashMap<(Buf, usize), Val>,
    lens: HashMap<(Buf, usize), Val>,
    dims: HashMap<(Buf, usize), Vec<Val>>,
    buf_lens: HashMap<Buf, Val>,
    /// Values of scalar `let`s already computed (pure kernels only).
    lets: HashMap<usize, Val>,
    /// Effect kernels change `x` and `p` as they go: values are then not reused.
    pub effects: bool,
    pub errors: Vec<Diagnostic>,
    /// Length of `out` (set by the kernel being built).
    pub out_len: Option<Val>,
    /// The `init` kernel builds the state in `out`: states it reads and writes live there.
    pub read_state_from_out: bool,
    /// Likewise for parameter defaults in `param_defaults`.
    pub read_params_from_out: bool,
    /// `int` values (species counts above all) are computed as reals, not truncated: the
    /// kernels of a reaction network's continuous views, whose counts are real numbers.
    pub real_counts: bool,
    /// Species are read as max(x, 0): rates are defined for counts ≥ 0, and a continuous
    /// view's state may dip below (`x^2.5` of a negative count would be NaN).
    pub nonnegative_counts: bool,
    /// While set, spin states are read with the spin at this position of `x` flipped (the
    /// `flip_delta` kernel evaluates terms of the energy before and after a flip).
    flip_at: Option<Val>,
}

impl<'m> Lower<'m> {
    pub fn new(
        m: &'m Model,
        prog: &'m Program,
        layout: &'m Layout,
        reads: &'m LetReads,
        name: &str,
    ) -> Lower<'m> {
        Lower {
            m,
            prog,
            reads,
            layout,
            b: Builder::new(name),
            offsets: HashMap::default(),
            lens: HashMap::default(),
            dims: HashMap::default(),
            buf_lens: HashMap::default(),
            lets: HashMap::default(),
            effects: false,
            errors: Vec::new(),
            out_len: None,
            read_state_from_out: false,
            read_params_from_out: false,
            real_counts: false,
            nonnegative_counts: false,
            flip_at: None,
        }
    }

    /// Report a construct the kernels cannot express yet.
    pub fn unsupported(&mut self, span: Span, what: &str) -> Val {
        if !self
            .errors
            .iter()
            .any(|d| d.primary.as_ref().map(|p| p.span) == Some(span))
        {
            self.errors.push(
                Diagnostic::new(
                    Code::Unsupported,
                    span,
                    format!("{what} cannot be compiled yet"),
                    "not supported by the kernels",
                )
                .with_help("the model checks, but no engine can run this construct for now"),
            );
        }
        self.b.hoist(|b| b.f(f64::NAN))
    }

    /// Size of one dimension (i64), computed at kernel entry.
    pub fn dim(&mut self, d: &Dim) -> Val {
        match d {
            Dim::Fixed(n) => {
                let n = *n as i64;
                self.b.hoist(|b| b.i(n))
            }
            Dim::Data(size) => {
                let expr = size.expr.clone();
                let v = self.hoisted_scalar(&expr);
                self.as_int(v)
            }
        }
    }

    /// A scalar expression that depends on no local (model-level values only), lowered
    /// into the top block so that its value is visible everywhere.
    pub fn hoisted_scalar(&mut self, e: &TExpr) -> Val {
        let saved = self.b.take_nested();
        let out = self.scalar(e, &Env::default());
        self.b.restore_nested(saved);
        out
    }

    /// Dimensions of a slot (i64 values).
    pub fn slot_dims(&mut self, buf: Buf, slot: usize) -> Vec<Val> {
        if let Some(d) = self.dims.get(&(buf, slot)) {
            return d.clone();
        }
        let dims = self.layout.slots(buf)[slot].ty.dims.clone();
        let vals: Vec<Val> = dims.iter().map(|d| self.dim(d)).collect();
        self.dims.insert((buf, slot), vals.clone());
        vals
    }

    /// Number of elements of a slot.
    pub fn slot_len(&mut self, buf: Buf, slot: usize) -> Val {
        if let Some(&v) = self.lens.get(&(buf, slot)) {
            return v;
        }
        let dims = self.slot_dims(buf, slot);
        let len = self.b.hoist(|b| {
            let mut acc = b.i(1);
            for d in dims {
                acc = b.imul(acc, d);
            }
            acc
        });
        self.lens.insert((buf, slot), len);
        len
    }

    /// Offset of a slot in its buffer.
    pub fn slot_offset(&mut self, buf: Buf, slot: usize) -> Val {
        if let Some(&v) = self.offsets.get(&(buf, slot)) {
            return v;
        }
        let off = if let Some(c) = self.layout.fixed_offset(buf, slot) {
            self.b.hoist(|b| b.i(c as i64))
        } else if slot == 0 {
            self.b.hoist(|b| b.i(0))
        } else {
            let prev = self.slot_offset(buf, slot - 1);
            let prev_len = self.slot_len(buf, slot - 1);
            self.b.hoist(|b| b.iadd(prev, prev_len))
        };
        self.offsets.insert((buf, slot), off);
        off
    }

    /// Length of a whole input buffer.
    pub fn buf_len(&mut self, buf: Buf) -> Val {
        if buf == Buf::Out {
            return match self.out_len {
                Some(v) => v,
                None => self.b.hoist(|b| b.i(0)),
            };
        }
        if let Some(&v) = self.buf_lens.get(&buf) {
            return v;
        }
        let n = self.layout.slots(buf).len();
        let len = if let Some(c) = self.layout.fixed_offset(buf, n) {
            self.b.hoist(|b| b.i(c as i64))
        } else if n == 0 {
            self.b.hoist(|b| b.i(0))
        } else {
            let off = self.slot_offset(buf, n - 1);
            let len = self.slot_len(buf, n - 1);
            self.b.hoist(|b| b.iadd(off, len))
        };
        self.buf_lens.insert(buf, len);
        len
    }

    /// Flat (row-major) position of an element given 0-based indices.
    pub fn flat_index(&mut self, dims: &[Val], idx: &[Val]) -> Val {
        let mut flat = match idx.first() {
            Some(&i) => i,
            None => return self.b.i(0),
        };
        for (k, &i) in idx.iter().enumerate().skip(1) {
            flat = self.b.imul(flat, dims[k]);
            flat = self.b.iadd(flat, i);
        }
        flat
    }

    /// Load element `idx` of variable `v`.
    pub fn load_var(&mut self, v: Var, idx: &[Val]) -> Option<Val> {
        let (buf, slot) = self.layout.find(v)?;
        // In kernels that change nothing, a scalar is the same everywhere: load it once.
        let scalar = self.layout.slots(buf)[slot].ty.is_scalar();
        let building_in_out = self.read_state_from_out || self.read_params_from_out;
        if scalar && !self.effects && !building_in_out && self.b.nested() {
            let saved = self.b.take_nested();
            let out = self.load_var(v, idx);
            self.b.restore_nested(saved);
            return out;
        }
        let off = self.slot_offset(buf, slot);
        let dims = self.slot_dims(buf, slot);
        let flat = self.flat_index(&dims, idx);
        let at = self.b.iadd(off, flat);
        let from = match v {
            Var::State(_) | Var::Species(_) if self.read_state_from_out => Buf::Out,
            Var::Param(_) if self.read_params_from_out => Buf::Out,
            _ => buf,
        };
        // Scalars occupy a prefix of constant length; checking against it (not the whole
        // buffer) keeps sizes read from data scalars from depending on themselves.
        let len = if from != Buf::Out && self.layout.slots(buf)[slot].ty.is_scalar() {
            let n = self.layout.scalar_slots(buf) as i64;
            self.b.hoist(|b| b.i(n))
        } else {
            self.buf_len(from)
        };
        let x = self.b.load(from, at, len, true);
        if let (Some(k), Var::State(j)) = (self.flip_at, v)
            && self.m.states[j].ty.scalar == Scalar::Spin
        {
            let hit = self.b.icmp(Cmp::Eq, at, k);
            let flipped = self.b.neg(x);
            return Some(self.b.select(hit, flipped, x));
        }
        if self.nonnegative_counts && matches!(v, Var::Species(_)) {
            let zero = self.b.f(0.0);
            return Some(self.b.fbin(FBin::Max, x, zero));
        }
        Some(x)
    }

    /// Store into element `idx` of variable `v` (states, species, parameters).
    pub fn store_var(&mut self, v: Var, idx: &[Val], value: Val) {
        let Some((buf, slot)) = self.layout.find(v) else {
            return;
        };
        let off = self.slot_offset(buf, slot);
        let dims = self.slot_dims(buf, slot);
        let flat = self.flat_index(&dims, idx);
        let at = self.b.iadd(off, flat);
        let to = match v {
            Var::State(_) | Var::Species(_) if self.read_state_from_out => Buf::Out,
            Var::Param(_) if self.read_params_from_out => Buf::Out,
            _ => buf,
        };
        let len = self.buf_len(to);
        let value = self.b.to_f64(value);
        self.b.store(to, at, len, value, true);
    }

    /// Store `value` at `out[index]`.
    pub fn store_out(&mut self, index: Val, value: Val) {
        let len = self.buf_len(Buf::Out);
        let value = self.b.to_f64(value);
        self.b.store(Buf::Out, index, len, value, true);
    }

    pub fn as_int(&mut self, v: Val) -> Val {
        match self.b.ty(v) {
            Ty::I64 => v,
            Ty::F64 => self.b.ftoi(v),
            Ty::Bool => {
                let f = self.b.btof(v);
                self.b.ftoi(f)
            }
        }
    }

    /// The IR type holding values of a checker type.
    pub fn ty_of(s: Scalar) -> Ty {
        match s {
            Scalar::Bool => Ty::Bool,
            Scalar::Int | Scalar::Spin => Ty::I64,
            Scalar::Real | Scalar::Error => Ty::F64,
        }
    }

    /// Read spin states with the spin at position `k` of `x` flipped (`None`: as they are).
    /// Values of `let`s computed so far no longer hold.
    pub fn set_flip(&mut self, k: Option<Val>) {
        self.flip_at = k;
        self.lets.clear();
    }

    /// Value of a scalar `let` in pure kernels: computed once.
    fn cached_let(&mut self, i: usize) -> Option<Val> {
        if self.effects {
            return None;
        }
        self.lets.get(&i).copied()
    }

    fn cache_let(&mut self, i: usize, v: Val) {
        if !self.effects {
            self.lets.insert(i, v);
        }
    }
}

//! Where each variable lives in the kernel buffers.
//!
//! `x` holds species, then scalar states, then array states; `p` scalar then array
//! parameters; `d` scalar then array data; `aux` (for observation kernels) the `obs` values.
//! Scalars come first so that their offsets are constants; arrays follow in declaration
//! order, and their offsets are sums of sizes (constants, or computed from data scalars).

use crate::check::model::{Model, Var};
use crate::check::types::{Dim, Type};
use crate::ir::Buf;
use rustc_hash::FxHashMap as HashMap;

/// One variable's place in a buffer.
#[derive(Clone, Debug)]
pub struct Slot {
    pub var: Var,
    pub name: String,
    pub ty: Type,
}

impl Slot {
    /// Number of elements when every dimension is fixed.
    pub fn fixed_len(&self) -> Option<u64> {
        self.ty.fixed_len()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub x: Vec<Slot>,
    pub p: Vec<Slot>,
    pub d: Vec<Slot>,
    pub obs: Vec<Slot>,
    /// Each variable's buffer and slot (lowering asks for every use).
    places: HashMap<Var, (Buf, usize)>,
    /// How many slots of each buffer are scalars.
    scalars: HashMap<Buf, usize>,
    /// Each slot's offset when it and the slots before it have fixed sizes, and the
    /// buffer's length when all do (an entry per slot, then one for the end).
    fixed_offsets: HashMap<Buf, Vec<Option<u64>>>,
}

impl Layout {
    pub fn of(m: &Model) -> Layout {
        let slot = |var: Var, name: &str, ty: &Type| Slot {
            var,
            name: name.to_string(),
            ty: ty.clone(),
        };
        let scalars_first = |mut v: Vec<Slot>| {
            // Stable: declaration order within scalars and within arrays.
            v.sort_by_key(|s| !s.ty.is_scalar());
            v
        };
        let mut x: Vec<Slot> = m
            .species
            .iter()
            .enumerate()
            .map(|(i, s)| slot(Var::Species(i), &s.name, &Type::INT))
            .collect();
        x.extend(scalars_first(
            m.states
                .iter()
                .enumerate()
                .map(|(i, s)| slot(Var::State(i), &s.name, &s.ty))
                .collect(),
        ));
        let p = scalars_first(
            m.params
                .iter()
                .enumerate()
                .map(|(i, s)| slot(Var::Param(i), &s.name, &s.ty))
                .collect(),
        );
        let d = scalars_first(
            m.data
                .iter()
                .enumerate()
                .map(|(i, s)| slot(Var::Data(i), &s.name, &s.ty))
                .collect(),
        );
        let obs = scalars_first(
            m.obs
                .iter()
                .enumerate()
                .map(|(i, s)| slot(Var::Obs(i), &s.name, &s.ty))
                .collect(),
        );
        let places = [(Buf::X, &x), (Buf::P, &p), (Buf::D, &d), (Buf::Aux, &obs)]
            .into_iter()
            .flat_map(|(buf, slots)| {
                slots
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| (s.var, (buf, i)))
            })
            .collect();
        let scalars = [(Buf::X, &x), (Buf::P, &p), (Buf::D, &d), (Buf::Aux, &obs)]
            .into_iter()
            .map(|(buf, slots)| (buf, slots.iter().filter(|s| s.ty.is_scalar()).count()))
            .collect();
        let fixed_offsets = [(Buf::X, &x), (Buf::P, &p), (Buf::D, &d), (Buf::Aux, &obs)]
            .into_iter()
            .map(|(buf, slots)| {
                let mut at = Some(0u64);
                let mut offsets: Vec<Option<u64>> = Vec::with_capacity(slots.len() + 1);
                for s in slots.iter() {
                    offsets.push(at);
                    at = at.zip(s.fixed_len()).map(|(a, n)| a + n);
                }
                offsets.push(at);
                (buf, offsets)
            })
            .collect();
        Layout {
            x,
            p,
            d,
            obs,
            places,
            scalars,
            fixed_offsets,
        }
    }

    /// The offset of `slot` (`slot == slots(buf).len()`: the buffer's length) when every
    /// slot before it has a fixed size; large models then get constants, not long chains
    /// of additions, in every kernel.
    pub fn fixed_offset(&self, buf: Buf, slot: usize) -> Option<u64> {
        self.fixed_offsets.get(&buf)?.get(slot).copied().flatten()
    }

    /// The buffer and position of a variable.
    pub fn find(&self, v: Var) -> Option<(Buf, usize)> {
        self.places.get(&v).copied()
    }

    /// How many slots of a buffer are scalars (they come first, at constant offsets).
    pub fn scalar_slots(&self, buf: Buf) -> usize {
        self.scalars.get(&buf).copied().unwrap_or(0)
    }

    pub fn slots(&self, buf: Buf) -> &[Slot] {
        match buf {
            Buf::X => &self.x,
            Buf::P => &self.p,
            Buf::D => &self.d,
            Buf::Aux => &self.obs,
            Buf::Out => &[],
        }
    }

    /// Whether every size in the layout is fixed (no data-dependent dimensions).
    pub fn all_fixed(&self) -> bool {
        [&self.x, &self.p, &self.d, &self.obs]
            .iter()
            .flat_map(|s| s.iter())
            .all(|s| s.ty.dims.iter().all(|d| matches!(d, Dim::Fixed(_))))
    }
}

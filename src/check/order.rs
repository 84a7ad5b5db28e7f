//! Resolving declarations in dependency order. Types and values are worked out on demand,
//! so a declaration used before a long chain of others it depends on (`state x = a99999`,
//! `let a99999 = a99998 + 1`, …) would resolve them all in nested calls and could exhaust
//! the stack. Resolving each declaration after the ones its value and type name keeps that
//! nesting shallow whatever the order of the source.

use super::checker::{Checker, Sym};
use super::model::Var;
use crate::syntax::ast::{Expr, ExprKind};
use std::collections::HashSet;

impl Checker<'_, '_> {
    /// Resolve every declaration, dependencies first (without recursion).
    pub fn resolve_in_dependency_order(&mut self) {
        let mut done: HashSet<Var> = HashSet::new();
        for root in self.declared_vars() {
            // Depth-first with an explicit stack: (declaration, its dependencies expanded?).
            let mut stack = vec![(root, false)];
            while let Some((v, expanded)) = stack.pop() {
                if expanded {
                    self.var_type(v);
                    continue;
                }
                if !done.insert(v) {
                    continue;
                }
                stack.push((v, true));
                for w in self.named_by(v) {
                    if !done.contains(&w) {
                        stack.push((w, false));
                    }
                }
            }
        }
    }

    fn declared_vars(&self) -> Vec<Var> {
        let d = &self.decls;
        let consts = (0..d.consts.len()).map(Var::Const);
        let params = (0..d.params.len()).map(Var::Param);
        let data = (0..d.data.len()).map(Var::Data);
        let obs = (0..d.obs.len()).map(Var::Obs);
        let states = (0..d.states.len()).map(Var::State);
        let species = (0..d.species.len()).map(Var::Species);
        let lets = (0..d.lets.len()).map(Var::Let);
        consts
            .chain(params)
            .chain(data)
            .chain(obs)
            .chain(states)
            .chain(species)
            .chain(lets)
            .collect()
    }

    /// The declarations that `v`'s type annotation and value name.
    fn named_by(&self, v: Var) -> Vec<Var> {
        let Some(d) = self.decl(v) else {
            return Vec::new();
        };
        let annotation = d.ty.into_iter().flat_map(|t| t.dims.iter());
        let mut stack: Vec<&Expr> = annotation.chain(d.value).collect();
        let mut out = Vec::new();
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Name(id) => {
                    if let Some((Sym::Var(w), _)) = self.symbols.get(&id.name) {
                        out.push(*w);
                    }
                }
                ExprKind::Unary { operand, .. } => stack.push(operand),
                ExprKind::Binary { lhs, rhs, .. } => stack.extend([&**lhs, &**rhs]),
                ExprKind::Call { args, .. } => stack.extend(args),
                ExprKind::Index { base, indices } => {
                    stack.push(base);
                    stack.extend(indices);
                }
                ExprKind::Array(items) => stack.extend(items),
                ExprKind::If {
                    cond,
                    then,
                    otherwise,
                } => stack.extend([&**cond, &**then, &**otherwise]),
                ExprKind::Reduce { binders, body, .. } => {
                    stack.push(body);
                    for b in binders {
                        stack.extend([&b.lo, &b.hi]);
                    }
                }
                ExprKind::Int(_) | ExprKind::Real(_) | ExprKind::Bool(_) | ExprKind::Error => {}
            }
        }
        out
    }
}

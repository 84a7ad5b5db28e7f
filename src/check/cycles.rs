//! Declarations whose values depend on each other in a cycle: parameter defaults, initial
//! values of states and species, and `let`s, whatever their annotations say. Cycles met
//! while resolving a type are reported by `Checker::var_type`; each cycle is reported once.

use super::checker::Checker;
use super::model::*;
use crate::diag::{Code, Diagnostic};
use std::collections::{HashMap, VecDeque};

impl Checker<'_, '_> {
    /// Report every cycle among the values of the model's declarations.
    pub fn check_value_cycles(&mut self, m: &Model) {
        let nodes = value_nodes(m);
        let position: HashMap<Var, usize> =
            nodes.iter().enumerate().map(|(k, &v)| (v, k)).collect();
        let edges: Vec<Vec<usize>> = nodes
            .iter()
            .map(|&v| {
                let mut out: Vec<usize> = direct_refs(m, v)
                    .into_iter()
                    .filter_map(|w| position.get(&w).copied())
                    .collect();
                out.sort_unstable();
                out.dedup();
                out
            })
            .collect();
        for component in components(&edges) {
            let cyclic = component.len() > 1 || edges[component[0]].contains(&component[0]);
            if !cyclic || component.iter().any(|&k| self.in_reported_cycle(nodes[k])) {
                continue;
            }
            let Some(&start) = component
                .iter()
                .min_by_key(|&&k| self.decl(nodes[k]).map_or(u32::MAX, |d| d.name.span.start))
            else {
                continue;
            };
            let cycle: Vec<Var> = shortest_cycle(&edges, &component, start)
                .into_iter()
                .map(|k| nodes[k])
                .collect();
            self.report_cycle(&cycle);
        }
    }

    fn in_reported_cycle(&self, v: Var) -> bool {
        self.cycle_members.contains(&v)
    }

    /// Report that the declarations of `cycle` (in order, each defined through the next and
    /// the last through the first) depend on each other.
    pub fn report_cycle(&mut self, cycle: &[Var]) {
        // Start from the declaration that comes first in the source, whichever was being
        // resolved when the cycle was found.
        let mut cycle = cycle.to_vec();
        let earliest = (0..cycle.len())
            .min_by_key(|&k| self.decl(cycle[k]).map_or(u32::MAX, |d| d.name.span.start));
        cycle.rotate_left(earliest.unwrap_or(0));
        let Some((&first, others)) = cycle.split_first() else {
            return;
        };
        let Some(d) = self.decl(first) else { return };
        let (name, span) = (d.name.name.clone(), d.name.span);
        let mut diag = if others.is_empty() {
            Diagnostic::new(
                Code::Cycle,
                span,
                format!("`{name}` is defined in terms of itself"),
                "its definition depends on its own value",
            )
        } else {
            let chain: Vec<String> = cycle
                .iter()
                .chain(std::iter::once(&first))
                .map(|&x| format!("`{}`", self.var_name(x)))
                .collect();
            Diagnostic::new(
                Code::Cycle,
                span,
                format!(
                    "these values are defined in terms of each other: {}",
                    chain.join(" → ")
                ),
                "defined through the others",
            )
        };
        for &o in others {
            if let Some(d) = self.decl(o) {
                diag = diag.with_label(d.name.span, "part of the cycle");
            }
        }
        self.error(diag.with_help("break the cycle by giving one of them a value of its own"));
        self.cycle_members.extend(cycle.iter().copied());
    }
}

/// The declarations that have values: parameters, states, species and `let`s.
fn value_nodes(m: &Model) -> Vec<Var> {
    let params = (0..m.params.len()).map(Var::Param);
    let states = (0..m.states.len()).map(Var::State);
    let species = (0..m.species.len()).map(Var::Species);
    let lets = (0..m.lets.len()).map(Var::Let);
    params.chain(states).chain(species).chain(lets).collect()
}

/// The variables the value of `v` names directly (a `let` it uses is one of them; what
/// that `let` uses is not).
fn direct_refs(m: &Model, v: Var) -> Vec<Var> {
    let roots: Vec<&TExpr> = match v {
        Var::Param(i) => m.params[i].default.iter().collect(),
        Var::State(i) => match &m.states[i].init {
            StateInit::Value(e) => vec![e],
            StateInit::Random(d) => d.args.iter().collect(),
            StateInit::UniformSpin => Vec::new(),
        },
        Var::Species(i) => vec![&m.species[i].init],
        Var::Let(i) => vec![&m.lets[i].value],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    let mut stack = roots;
    while let Some(e) = stack.pop() {
        if let TKind::Var(w) | TKind::Grad(_, w) = &e.kind {
            out.push(*w);
        }
        stack.extend(e.children());
    }
    out
}

/// Strongly connected components of a directed graph (Tarjan's algorithm, without
/// recursion so that long chains of declarations cannot overflow the stack).
fn components(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let (mut index, mut low, mut on_stack) = (vec![UNSEEN; n], vec![0; n], vec![false; n]);
    let (mut stack, mut out, mut next) = (Vec::new(), Vec::new(), 0);
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        let mut calls = vec![(root, 0)];
        (index[root], low[root], on_stack[root]) = (next, next, true);
        next += 1;
        stack.push(root);
        while let Some(&(v, k)) = calls.last() {
            if let Some(&w) = edges[v].get(k) {
                calls.last_mut().expect("a call is active").1 += 1;
                if index[w] == UNSEEN {
                    (index[w], low[w], on_stack[w]) = (next, next, true);
                    next += 1;
                    stack.push(w);
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

/// A shortest cycle through `start` inside one strongly connected component, from `start`
/// on (the edge back to `start` is implied).
fn shortest_cycle(edges: &[Vec<usize>], component: &[usize], start: usize) -> Vec<usize> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if component.contains(&w) && !parent.contains_key(&w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

#[cfg(test)]
mod tests {
    use super::{components, shortest_cycle};

    #[test]
    fn components_find_cycles_and_singletons() {
        // 0 → 1 → 2 → 0, 3 → 3, 4 → 0.
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        let mut comps: Vec<Vec<usize>> = components(&edges)
            .into_iter()
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        comps.sort();
        assert_eq!(comps, vec![vec![0, 1, 2], vec![3], vec![4]]);
        assert_eq!(shortest_cycle(&edges, &[0, 1, 2], 1), vec![1, 2, 0]);
        assert_eq!(shortest_cycle(&edges, &[3], 3), vec![3]);
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let n = 200_000;
        let edges: Vec<Vec<usize>> = (0..n).map(|k| vec![(k + 1) % n]).collect();
        assert_eq!(components(&edges).len(), 1);
    }
}

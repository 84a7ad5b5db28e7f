//! A small chemical-master-equation solver for the jump-process tests: the exact
//! distribution of a Markov jump process on a finite (truncated) state space.
//!
//! The states are found by exploring from the initial states through the model's
//! transitions, keeping those inside a bound (finite state projection, B. Munsky and
//! M. Khammash, J. Chem. Phys. 124:044104, 2006). Probability carried by a transition out
//! of the kept set is lost, so the total mass left is a certificate: the computed
//! probabilities are below the true ones by at most `1 - mass()` in total. The forward
//! equation dp/dt = pQ is integrated by uniformisation (A. Jensen, 1953): with q at least
//! every exit rate, P = I + Q/q is stochastic and p(t) = Σ_k Poisson(k; qt) p(0) P^k, a sum
//! of non-negative terms, cut when the Poisson tail is below 1e-15 (time is split into
//! pieces with qh ≤ 20 so the weights never underflow). The result is exact to rounding.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

pub type State = Vec<i64>;

/// A change applied to every state at once (an event such as a dose).
pub type Map<'a> = &'a dyn Fn(&[i64]) -> State;

pub struct Cme {
    pub states: Vec<State>,
    index: HashMap<State, usize>,
    /// Transitions between kept states: (from, to, rate).
    moves: Vec<(usize, usize, f64)>,
    /// Total rate out of each state, including transitions that leave the kept set.
    exit: Vec<f64>,
}

/// Mean, variance and fourth central moment of some function of the state.
#[derive(Clone, Copy, Debug)]
pub struct Moments {
    pub mean: f64,
    pub var: f64,
    pub mu4: f64,
}

impl Cme {
    /// Every state reachable from `start` through `transitions` (a state's outgoing
    /// `(rate, next state)` pairs), keeping only those for which `keep` holds.
    pub fn explore(
        start: &[State],
        transitions: impl Fn(&[i64]) -> Vec<(f64, State)>,
        keep: impl Fn(&[i64]) -> bool,
    ) -> Cme {
        let mut cme = Cme {
            states: Vec::new(),
            index: HashMap::new(),
            moves: Vec::new(),
            exit: Vec::new(),
        };
        let mut queue = Vec::new();
        for s in start {
            assert!(keep(s), "initial state {s:?} outside the kept set");
            if !cme.index.contains_key(s) {
                cme.index.insert(s.clone(), cme.states.len());
                cme.states.push(s.clone());
                queue.push(s.clone());
            }
        }
        let mut raw = Vec::new();
        while let Some(s) = queue.pop() {
            let from = cme.index[&s];
            for (rate, next) in transitions(&s) {
                assert!(rate >= 0.0 && rate.is_finite(), "rate {rate} at {s:?}");
                if rate == 0.0 || next == s {
                    continue;
                }
                raw.push((from, rate, next.clone()));
                if keep(&next) && !cme.index.contains_key(&next) {
                    cme.index.insert(next.clone(), cme.states.len());
                    cme.states.push(next.clone());
                    queue.push(next);
                }
            }
        }
        cme.exit = vec![0.0; cme.states.len()];
        for (from, rate, next) in raw {
            cme.exit[from] += rate;
            if let Some(&to) = cme.index.get(&next) {
                cme.moves.push((from, to, rate));
            }
        }
        cme
    }

    /// All probability on one state.
    pub fn point(&self, x: &[i64]) -> Vec<f64> {
        let mut p = vec![0.0; self.states.len()];
        p[*self
            .index
            .get(x)
            .unwrap_or_else(|| panic!("{x:?} is not in the state space"))] = 1.0;
        p
    }

    /// Advances the distribution `p` by time `dt`.
    pub fn evolve(&self, p: &mut [f64], dt: f64) {
        assert!(dt >= 0.0);
        let q = self.exit.iter().cloned().fold(0.0, f64::max) * 1.02;
        if q == 0.0 || dt == 0.0 {
            return;
        }
        let pieces = (q * dt / 20.0).ceil().max(1.0) as usize;
        let h = dt / pieces as f64;
        let qh = q * h;
        let mut term = vec![0.0; p.len()];
        let mut next = vec![0.0; p.len()];
        for _ in 0..pieces {
            // term = p P^k, weight = Poisson(k; qh).
            term.copy_from_slice(p);
            let mut weight = (-qh).exp();
            let mut total = weight;
            let mut acc: Vec<f64> = term.iter().map(|v| v * weight).collect();
            let mut k = 0usize;
            while 1.0 - total > 1e-15 && k < 1000 {
                // next = term P = term + (term Q) / q.
                for (n, (t, e)) in next.iter_mut().zip(term.iter().zip(&self.exit)) {
                    *n = t * (1.0 - e / q);
                }
                for &(from, to, rate) in &self.moves {
                    next[to] += term[from] * rate / q;
                }
                std::mem::swap(&mut term, &mut next);
                k += 1;
                weight *= qh / k as f64;
                total += weight;
                for (a, t) in acc.iter_mut().zip(&term) {
                    *a += weight * t;
                }
            }
            assert!(k < 1000, "uniformisation did not converge");
            p.copy_from_slice(&acc);
        }
    }

    /// The distribution after the map `f` is applied to every state (an event). Mass sent
    /// outside the state space is lost.
    pub fn map(&self, p: &[f64], f: impl Fn(&[i64]) -> State) -> Vec<f64> {
        let mut out = vec![0.0; p.len()];
        for (s, &w) in self.states.iter().zip(p) {
            if let Some(&j) = self.index.get(&f(s)) {
                out[j] += w;
            }
        }
        out
    }

    /// Total probability left in the state space (1 up to what truncation lost).
    pub fn mass(&self, p: &[f64]) -> f64 {
        p.iter().sum()
    }

    pub fn moments(&self, p: &[f64], f: impl Fn(&[i64]) -> f64) -> Moments {
        let mass = self.mass(p);
        let mean = self
            .states
            .iter()
            .zip(p)
            .map(|(s, w)| w * f(s))
            .sum::<f64>()
            / mass;
        let central = |r: i32| {
            self.states
                .iter()
                .zip(p)
                .map(|(s, w)| w * (f(s) - mean).powi(r))
                .sum::<f64>()
                / mass
        };
        Moments {
            mean,
            var: central(2),
            mu4: central(4),
        }
    }

    /// The distribution of an integer function of the state.
    pub fn pmf(&self, p: &[f64], f: impl Fn(&[i64]) -> i64) -> BTreeMap<i64, f64> {
        let mut out = BTreeMap::new();
        for (s, &w) in self.states.iter().zip(p) {
            *out.entry(f(s)).or_insert(0.0) += w;
        }
        out
    }
}

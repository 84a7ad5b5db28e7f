//! The models through rebop's run-time API, `rebop::gillespie::Gillespie` (the one behind
//! its Python package). `sparse` picks rebop's sparse representation of rates and jumps
//! (lists of (species, coefficient)); the dense one (a coefficient for every species) is
//! the Python package's default and costs O(species) per reaction.
//!
//! Mass action as in rebop's macro: c · n (n − 1) ⋯ (n − k + 1), no 1/k!.

use rebop::gillespie::{Gillespie, Rate};

use crate::Sim;
use crate::params::*;

/// A run-time model and its initial state.
pub struct Runtime {
    g: Gillespie,
    x0: Vec<isize>,
}

impl Sim for Runtime {
    fn reset(&mut self, seed: u64) {
        self.g.set_species(&self.x0);
        self.g.set_time(0.0);
        self.g.seed(seed);
    }
    fn advance_until(&mut self, t: f64) {
        self.g.advance_until(t)
    }
    fn record(&self, out: &mut Vec<i64>) {
        out.extend((0..self.x0.len()).map(|i| self.g.get_species(i) as i64));
    }
}

impl Runtime {
    /// Simulates one path from its initial state to `t_end` one reaction at a time and
    /// counts the reactions (the count `advance_until` does not expose). The law of the
    /// path is the same as in the timed runs (stopping at recording times and redrawing
    /// does not change it: the waiting times are memoryless), so the mean over a few paths
    /// estimates the events per trajectory of every API.
    pub fn count_events(&mut self, seed: u64, t_end: f64) -> u64 {
        self.reset(seed);
        let mut n = 0;
        loop {
            self.g.advance_one_reaction_or_until(t_end);
            if self.g.get_time() >= t_end {
                return n;
            }
            n += 1;
        }
    }
}

/// Reactions as (rate constant, reactants, products), species by index; a species listed
/// twice has multiplicity 2.
type Reaction = (f64, Vec<usize>, Vec<usize>);

fn build(x0: Vec<isize>, reactions: &[Reaction], sparse: bool) -> Runtime {
    let n = x0.len();
    let mut g = Gillespie::new_with_seed(&x0, sparse, 0);
    for (c, reactants, products) in reactions {
        let mut order = vec![0u32; n];
        let mut diff = vec![0isize; n];
        for &r in reactants {
            order[r] += 1;
            diff[r] -= 1;
        }
        for &p in products {
            diff[p] += 1;
        }
        g.add_reaction(Rate::lma(*c, order), diff);
    }
    Runtime { g, x0 }
}

pub fn vilar(sparse: bool) -> Runtime {
    let v = &VILAR;
    // DA, DR, DA_b, DR_b, MA, MR, A, R, C
    let (da, dr, da_b, dr_b, ma, mr, a, r, c) = (0, 1, 2, 3, 4, 5, 6, 7, 8);
    let reactions: Vec<Reaction> = vec![
        (v.gammaA, vec![da, a], vec![da_b]),
        (v.thetaA, vec![da_b], vec![da, a]),
        (v.gammaR, vec![dr, a], vec![dr_b]),
        (v.thetaR, vec![dr_b], vec![dr, a]),
        (v.alphaA_b, vec![da_b], vec![da_b, ma]),
        (v.alphaA, vec![da], vec![da, ma]),
        (v.alphaR_b, vec![dr_b], vec![dr_b, mr]),
        (v.alphaR, vec![dr], vec![dr, mr]),
        (v.betaA, vec![ma], vec![ma, a]),
        (v.betaR, vec![mr], vec![mr, r]),
        (v.gammaC, vec![a, r], vec![c]),
        (v.deltaA, vec![c], vec![r]),
        (v.deltaA, vec![a], vec![]),
        (v.deltaR, vec![r], vec![]),
        (v.deltaMA, vec![ma], vec![]),
        (v.deltaMR, vec![mr], vec![]),
    ];
    build(VILAR_X0.to_vec(), &reactions, sparse)
}

pub fn dimerisation(sparse: bool) -> Runtime {
    let reactions: Vec<Reaction> =
        vec![(DIM_C1 / 2.0, vec![0, 0], vec![1]), (DIM_C2, vec![1], vec![0, 0])];
    build(vec![DIM_P0, 0], &reactions, sparse)
}

pub fn birth_death(sparse: bool) -> Runtime {
    let reactions: Vec<Reaction> =
        vec![(BD_LAMBDA, vec![0], vec![0, 0]), (BD_MU, vec![0], vec![])];
    build(vec![BD_X0], &reactions, sparse)
}

pub fn sir(sparse: bool) -> Runtime {
    let reactions: Vec<Reaction> = vec![
        (SIR_BETA / SIR_N as f64, vec![0, 1], vec![1, 1]),
        (SIR_GAMMA, vec![1], vec![2]),
    ];
    build(vec![SIR_N - SIR_I0, SIR_I0, 0], &reactions, sparse)
}

/// The ring of size n (src/ring.rs). Built sparse or dense as asked, but the dense form
/// costs O(n) per reaction and so O(n²) per event: only the sparse one is timed.
pub fn ring(n: usize, sparse: bool) -> Runtime {
    let reactions: Vec<Reaction> = crate::ring::reactions(n)
        .into_iter()
        .map(|(from, to)| (crate::ring::RATE, vec![from], vec![to]))
        .collect();
    build(vec![crate::ring::PER_SPECIES as isize; n], &reactions, sparse)
}

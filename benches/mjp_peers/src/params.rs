//! Parameter values and initial states, copied from the ito model files (`examples/*.sde`
//! and `models/*.sde`); `mjp_peers check-params` is not automated, so keep them in step by
//! hand.
#![allow(non_snake_case)]

/// examples/vilar.sde.
pub struct VilarParams {
    pub alphaA: f64,
    pub alphaA_b: f64,
    pub alphaR: f64,
    pub alphaR_b: f64,
    pub betaA: f64,
    pub betaR: f64,
    pub deltaMA: f64,
    pub deltaMR: f64,
    pub deltaA: f64,
    pub deltaR: f64,
    pub gammaA: f64,
    pub gammaR: f64,
    pub gammaC: f64,
    pub thetaA: f64,
    pub thetaR: f64,
}

pub const VILAR: VilarParams = VilarParams {
    alphaA: 50.0,
    alphaA_b: 500.0,
    alphaR: 0.01,
    alphaR_b: 50.0,
    betaA: 50.0,
    betaR: 5.0,
    deltaMA: 10.0,
    deltaMR: 0.5,
    deltaA: 1.0,
    deltaR: 0.2,
    gammaA: 1.0,
    gammaR: 1.0,
    gammaC: 2.0,
    thetaA: 50.0,
    thetaR: 100.0,
};
/// Vilar species in declaration order: DA, DR, DA_b, DR_b, MA, MR, A, R, C.
pub const VILAR_X0: [isize; 9] = [1, 1, 0, 0, 0, 0, 0, 0, 0];

/// examples/dimerisation.sde: 2 P <-> P2, h1 = c1 C(P, 2), h2 = c2 P2.
pub const DIM_C1: f64 = 1.66e-3;
pub const DIM_C2: f64 = 0.2;
pub const DIM_P0: isize = 301;

/// models/birth_death.sde: X -> 2 X @ lambda, X -> 0 @ mu.
pub const BD_LAMBDA: f64 = 1.0;
pub const BD_MU: f64 = 1.01;
pub const BD_X0: isize = 1000;

/// models/sir_10k.sde: examples/sir.sde with N = 10^4.
pub const SIR_N: isize = 10_000;
pub const SIR_I0: isize = 10;
pub const SIR_BETA: f64 = 0.625;
pub const SIR_GAMMA: f64 = 0.25;

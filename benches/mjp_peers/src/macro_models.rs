//! The models through rebop's compile-time API, `define_system!`.
//!
//! rebop's mass action for a reactant of multiplicity k is c · n (n − 1) ⋯ (n − k + 1),
//! without ito's 1/k! (ito: h = c · C(n, k)); `2 P => P2` therefore gets c1 / 2.
#![allow(non_snake_case)]

use crate::Sim;
use crate::params::*;

/// `impl Sim` for a macro-generated struct: the initial state as `field = value` pairs,
/// and the species in recording order.
macro_rules! sim_impl {
    ($name:ident; init { $($s:ident = $v:expr),* $(,)? }; record { $($r:ident),* $(,)? }) => {
        impl Sim for $name {
            fn reset(&mut self, seed: u64) {
                self.t = 0.0;
                self.seed(seed);
                $(self.$s = $v;)*
            }
            fn advance_until(&mut self, t: f64) {
                $name::advance_until(self, t)
            }
            fn record(&self, out: &mut Vec<i64>) {
                $(out.push(self.$r as i64);)*
            }
        }
    };
}

rebop::define_system! {
    alphaA alphaA_b alphaR alphaR_b betaA betaR deltaMA deltaMR deltaA deltaR
    gammaA gammaR gammaC thetaA thetaR;
    Vilar { DA, DR, DA_b, DR_b, MA, MR, A, R, C }
    bind_A:    DA + A  => DA_b       @ gammaA
    unbind_A:  DA_b    => DA + A     @ thetaA
    bind_R:    DR + A  => DR_b       @ gammaR
    unbind_R:  DR_b    => DR + A     @ thetaR
    tx_A_act:  DA_b    => DA_b + MA  @ alphaA_b
    tx_A:      DA      => DA + MA    @ alphaA
    tx_R_act:  DR_b    => DR_b + MR  @ alphaR_b
    tx_R:      DR      => DR + MR    @ alphaR
    tl_A:      MA      => MA + A     @ betaA
    tl_R:      MR      => MR + R     @ betaR
    complex:   A + R   => C          @ gammaC
    release:   C       => R          @ deltaA
    deg_A:     A       =>            @ deltaA
    deg_R:     R       =>            @ deltaR
    deg_MA:    MA      =>            @ deltaMA
    deg_MR:    MR      =>            @ deltaMR
}
sim_impl!(Vilar;
    init { DA = 1, DR = 1, DA_b = 0, DR_b = 0, MA = 0, MR = 0, A = 0, R = 0, C = 0 };
    record { DA, DR, DA_b, DR_b, MA, MR, A, R, C });

pub fn vilar() -> Box<dyn Sim> {
    let v = &VILAR;
    Box::new(Vilar::with_parameters(
        v.alphaA, v.alphaA_b, v.alphaR, v.alphaR_b, v.betaA, v.betaR, v.deltaMA, v.deltaMR,
        v.deltaA, v.deltaR, v.gammaA, v.gammaR, v.gammaC, v.thetaA, v.thetaR,
    ))
}

rebop::define_system! {
    c1_half c2;
    Dimerisation { P, P2 }
    dimerise:   2 P => P2   @ c1_half
    dissociate: P2  => 2 P  @ c2
}
sim_impl!(Dimerisation; init { P = DIM_P0, P2 = 0 }; record { P, P2 });

pub fn dimerisation() -> Box<dyn Sim> {
    Box::new(Dimerisation::with_parameters(DIM_C1 / 2.0, DIM_C2))
}

rebop::define_system! {
    lambda mu;
    BirthDeath { X }
    birth: X => 2 X @ lambda
    death: X =>     @ mu
}
sim_impl!(BirthDeath; init { X = BD_X0 }; record { X });

pub fn birth_death() -> Box<dyn Sim> {
    Box::new(BirthDeath::with_parameters(BD_LAMBDA, BD_MU))
}

rebop::define_system! {
    beta_over_n gamma;
    Sir { S, I, R }
    infection: S + I => 2 I @ beta_over_n
    recovery:  I     => R   @ gamma
}
sim_impl!(Sir; init { S = SIR_N - SIR_I0, I = SIR_I0, R = 0 }; record { S, I, R });

pub fn sir() -> Box<dyn Sim> {
    Box::new(Sir::with_parameters(SIR_BETA / SIR_N as f64, SIR_GAMMA))
}

mod ring1000 {
    include!(concat!(env!("OUT_DIR"), "/ring_1000.rs"));
    pub fn new() -> Box<dyn crate::Sim> {
        Box::new(Ring1000::new())
    }
}
pub use ring1000::new as ring_1000;

#[cfg(feature = "macro5000")]
mod ring5000 {
    include!(concat!(env!("OUT_DIR"), "/ring_5000.rs"));
    pub fn new() -> Box<dyn crate::Sim> {
        Box::new(Ring5000::new())
    }
}
#[cfg(feature = "macro5000")]
pub use ring5000::new as ring_5000;

//! Tests of the schemes on closure-based systems with known solutions. Statistical
//! tolerances come from Monte Carlo standard errors; every seed is fixed.

mod adaptive;
mod ode;
mod rules;
mod strong;
mod support;
mod weak;

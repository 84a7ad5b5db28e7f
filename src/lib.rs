//! ito: a declarative language and toolchain for stochastic models.

pub mod check;
pub mod diag;
pub mod source;
pub mod syntax;

//! ito: a declarative language and toolchain for stochastic models.
//!
//! The pipeline: text → [`syntax`] (pest grammar, AST with spans) → [`check`] (names, types,
//! shapes, model kind) → typed [`check::model::Program`]. [`frontend`] runs it as one call.

pub mod check;
pub mod diag;
pub mod frontend;
pub mod ir;
pub mod jit;
pub mod rt;
pub mod source;
pub mod stdlib;
pub mod syntax;

//! ito: a declarative language and toolchain for stochastic models.
//!
//! The pipeline: text → [`syntax`] (pest grammar, AST with spans) → [`check`] (names, types,
//! shapes, model kind) → typed [`check::model::Program`] → [`ir`] (each model lowered to
//! kernels, optimised and differentiated; [`ir::eval`] is the reference evaluator) →
//! [`jit`] (the kernels compiled to native code with Cranelift, calling the runtime in
//! [`rt`]: math functions and random draws). [`frontend`] runs it up to the kernels as one
//! call; [`diag`] holds the diagnostics every stage reports.

pub mod check;
pub mod diag;
pub mod filter;
pub mod frontend;
pub mod infer;
pub mod ir;
pub mod jit;
pub mod repl;
pub mod rt;
pub mod sim;
pub mod source;
pub mod stdlib;
pub mod syntax;

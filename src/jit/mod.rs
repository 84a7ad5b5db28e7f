//! The native back end: kernels compiled to machine code with Cranelift.
//!
//! Every kernel becomes one function with the kernel calling convention (see `ir`), which
//! [`Jit::get`] hands out as a [`KernelFn`] and [`Jit::call`] runs on slices after checking
//! their lengths ([`Jit::kernel`] gives a [`KernelHandle`] for [`Jit::call_handle`], which
//! skips the name lookup). The code reproduces the reference evaluator
//! (`ir::eval`) bit for bit: the same operations in the same order, the same conversions,
//! and the same runtime functions (`rt::ito_*`, registered as symbols) for math, rounding
//! and random draws. `tests/jit_differential.rs` holds the two back ends to that.
//!
//! Nothing here panics on bad input: an unsupported host, IR the translator cannot place
//! (a value used outside the block that defines it) or a Cranelift verifier error is a
//! [`JitError`].

mod bounds;
mod codegen;
mod module;

#[cfg(test)]
mod tests;

pub use module::{Jit, KernelHandle};

use crate::ir::{Buf, Kernel};
use cranelift::codegen::ir::{ExtFuncData, ExternalName, FuncRef, Function, UserFuncName};
use cranelift::codegen::isa::OwnedTargetIsa;
use cranelift::prelude::*;
use std::fmt;

/// A compiled kernel: `(t, x, p, d, aux, rng, out)`.
///
/// # Safety
/// Every buffer must be at least as long as the lengths the kernel's accesses use (the
/// layout's sizes for the data given; [`Jit::call`] checks this), `rng` null or valid, and
/// the [`Jit`] that compiled it alive.
pub type KernelFn = unsafe extern "C" fn(
    f64,
    *mut f64,
    *mut f64,
    *const f64,
    *const f64,
    *mut crate::rt::Rng,
    *mut f64,
);

/// Why a kernel could not be compiled or called.
#[derive(Clone, Debug, PartialEq)]
pub enum JitError {
    /// The host cannot run Cranelift code (or rejected a setting).
    Host(String),
    /// The kernel IR is not well formed (e.g. a value used outside its block).
    Malformed { kernel: String, message: String },
    /// Cranelift rejected the generated code (the verifier's report).
    Codegen { kernel: String, message: String },
    /// Two kernels of one compilation have the same name.
    DuplicateKernel(String),
    /// No compiled kernel has this name.
    UnknownKernel(String),
    /// The handle was made by another [`Jit`].
    ForeignHandle,
    /// A buffer is shorter than the kernel may access.
    BufferTooShort {
        kernel: String,
        buf: Buf,
        needed: i64,
        len: usize,
    },
    /// The lengths a kernel relies on cannot be checked before it runs, so the safe entry
    /// point refuses it (call it through [`Jit::get`] instead).
    Unverifiable { kernel: String, reason: String },
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitError::Host(m) => write!(f, "the native back end is not available: {m}"),
            JitError::Malformed { kernel, message } => {
                write!(f, "kernel `{kernel}` is malformed: {message}")
            }
            JitError::Codegen { kernel, message } => {
                write!(f, "kernel `{kernel}` could not be compiled: {message}")
            }
            JitError::DuplicateKernel(k) => write!(f, "two kernels are named `{k}`"),
            JitError::UnknownKernel(k) => write!(f, "no kernel named `{k}` was compiled"),
            JitError::ForeignHandle => write!(f, "the kernel handle belongs to another `Jit`"),
            JitError::BufferTooShort {
                kernel,
                buf,
                needed,
                len,
            } => write!(
                f,
                "kernel `{kernel}` needs `{}` to hold {needed} values, but it has {len}",
                buf.name()
            ),
            JitError::Unverifiable { kernel, reason } => write!(
                f,
                "the buffer lengths kernel `{kernel}` needs cannot be checked: {reason}"
            ),
        }
    }
}

impl std::error::Error for JitError {}

/// Where a buffer's base pointer or required length sits in per-buffer arrays (the order of
/// `Buf::ALL`).
pub(crate) fn buf_slot(b: Buf) -> usize {
    match b {
        Buf::X => 0,
        Buf::P => 1,
        Buf::D => 2,
        Buf::Aux => 3,
        Buf::Out => 4,
    }
}

/// The host's ISA, optimising for speed.
fn host_isa() -> Result<OwnedTargetIsa, JitError> {
    let mut flags = settings::builder();
    for (name, value) in [
        ("opt_level", "speed"),
        // Code and runtime functions may be far apart in memory.
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
    ] {
        flags
            .set(name, value)
            .map_err(|e| JitError::Host(format!("setting `{name}`: {e}")))?;
    }
    let isa = cranelift_native::builder().map_err(|m| JitError::Host(m.to_string()))?;
    isa.finish(settings::Flags::new(flags))
        .map_err(|e| JitError::Host(e.to_string()))
}

/// Runtime functions named by symbol (for printing).
struct NamedCallees;

impl codegen::Callees for NamedCallees {
    fn func_ref(&mut self, func: &mut Function, f: codegen::Runtime) -> FuncRef {
        let sig = f.signature(func.signature.call_conv, pointer_of(func));
        let signature = func.import_signature(sig);
        func.import_function(ExtFuncData {
            name: ExternalName::testcase(f.symbol()),
            signature,
            colocated: false,
            patchable: false,
        })
    }
}

/// The pointer type of a kernel function (the type of its `x` parameter).
fn pointer_of(func: &Function) -> Type {
    func.signature
        .params
        .get(1)
        .map_or(types::I64, |p| p.value_type)
}

/// Prints kernels as Cranelift IR (for `ito check --emit clif`) for the host, whose ISA it
/// sets up once.
pub struct ClifPrinter {
    isa: OwnedTargetIsa,
}

impl ClifPrinter {
    pub fn host() -> Result<ClifPrinter, JitError> {
        Ok(ClifPrinter { isa: host_isa()? })
    }

    /// The Cranelift IR of one kernel as text, as the translator produces it (before
    /// Cranelift's own optimisation), checked by the verifier.
    pub fn print(&self, kernel: &Kernel) -> Result<String, JitError> {
        let ptr = self.isa.pointer_type();
        let sig = codegen::kernel_signature(self.isa.default_call_conv(), ptr);
        let mut func = Function::with_name_signature(UserFuncName::testcase(&kernel.name), sig);
        let mut fctx = FunctionBuilderContext::new();
        codegen::translate(
            kernel,
            &mut func,
            &mut fctx,
            &mut NamedCallees,
            ptr,
            self.isa.frontend_config(),
        )?;
        cranelift::codegen::verify_function(&func, self.isa.flags()).map_err(|e| {
            JitError::Codegen {
                kernel: kernel.name.clone(),
                message: cranelift::codegen::print_errors::pretty_verifier_error(&func, None, e),
            }
        })?;
        Ok(func.display().to_string())
    }
}

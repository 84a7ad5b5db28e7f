//! The JIT module: owns the machine code of a set of kernels.

use super::bounds::{LenCheck, Shortfall};
use super::codegen::{self, Callees, Runtime};
use super::{JitError, KernelFn, host_isa};
use crate::ir::Kernel;
use crate::ir::eval::Args;
use cranelift::codegen::ir::{FuncRef, Function, UserFuncName};
use cranelift::prelude::*;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, ModuleError, default_libcall_names};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};

/// Compiled kernels. Their code lives as long as this value.
pub struct Jit {
    /// Freed (taken) only in `drop`.
    module: ManuallyDrop<JITModule>,
    /// Distinguishes this `Jit`'s handles from another's.
    id: u64,
    /// In the order they were given to `compile`.
    kernels: Vec<Compiled>,
    by_name: HashMap<String, u32>,
}

/// A compiled kernel of one [`Jit`], found once by name ([`Jit::kernel`]) and then called
/// without looking it up ([`Jit::call_handle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KernelHandle {
    jit: u64,
    index: u32,
}

struct Compiled {
    name: String,
    code: KernelFn,
    /// What `call` checks, or why the lengths cannot be checked.
    lengths: Result<LenCheck, String>,
}

impl Compiled {
    /// Whether the buffers of `args` are long enough for the kernel.
    #[inline]
    fn check(&self, args: &mut Args) -> Result<(), JitError> {
        match &self.lengths {
            Ok(lengths) => match lengths.shortfall(args) {
                None => Ok(()),
                Some(s) => Err(self.too_short(s)),
            },
            Err(reason) => Err(JitError::Unverifiable {
                kernel: self.name.clone(),
                reason: reason.clone(),
            }),
        }
    }

    #[cold]
    fn too_short(&self, Shortfall { buf, needed, len }: Shortfall) -> JitError {
        JitError::BufferTooShort {
            kernel: self.name.clone(),
            buf,
            needed,
            len,
        }
    }
}

/// Each `Jit` gets its own number.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Drop for Jit {
    fn drop(&mut self) {
        // SAFETY: `module` is not used after this; the code is only reachable through
        // `self` (pointers from `get` are documented to live no longer than the `Jit`), and no
        // kernel runs during drop.
        unsafe { ManuallyDrop::take(&mut self.module).free_memory() };
    }
}

/// Runtime functions imported into the module.
struct ModuleCallees<'a> {
    module: &'a mut JITModule,
    imports: &'a HashMap<Runtime, FuncId>,
}

impl Callees for ModuleCallees<'_> {
    fn func_ref(&mut self, func: &mut Function, f: Runtime) -> FuncRef {
        let id = self.imports[&f];
        self.module.declare_func_in_func(id, func)
    }
}

fn codegen_error(kernel: &str, func: &Function, e: ModuleError) -> JitError {
    let message = match e {
        ModuleError::Compilation(e) => cranelift::codegen::print_errors::pretty_error(func, e),
        e => e.to_string(),
    };
    JitError::Codegen {
        kernel: kernel.to_string(),
        message,
    }
}

impl Jit {
    /// Compile kernels (one native function each). Their names must be distinct.
    pub fn compile(kernels: &[Kernel]) -> Result<Jit, JitError> {
        let isa = host_isa()?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        let runtime = Runtime::all();
        for f in &runtime {
            builder.symbol(f.symbol(), f.address());
        }
        let mut jit = Jit {
            module: ManuallyDrop::new(JITModule::new(builder)),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            kernels: Vec::with_capacity(kernels.len()),
            by_name: HashMap::with_capacity(kernels.len()),
        };
        let module = &mut *jit.module;
        let config = module.target_config();
        let (ptr, call_conv) = (config.pointer_type(), config.default_call_conv);
        let mut imports = HashMap::new();
        for f in runtime {
            let id = module
                .declare_function(&f.symbol(), Linkage::Import, &f.signature(call_conv, ptr))
                .map_err(|e| JitError::Host(e.to_string()))?;
            imports.insert(f, id);
        }

        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut ids = Vec::with_capacity(kernels.len());
        for (index, k) in (0..).zip(kernels) {
            match jit.by_name.entry(k.name.clone()) {
                Entry::Occupied(_) => return Err(JitError::DuplicateKernel(k.name.clone())),
                Entry::Vacant(v) => v.insert(index),
            };
            let sig = codegen::kernel_signature(call_conv, ptr);
            let id = module
                .declare_anonymous_function(&sig)
                .map_err(|e| codegen_error(&k.name, &ctx.func, e))?;
            ctx.func.signature = sig;
            ctx.func.name = UserFuncName::user(0, id.as_u32());
            let mut callees = ModuleCallees {
                module,
                imports: &imports,
            };
            codegen::translate(k, &mut ctx.func, &mut fctx, &mut callees, ptr, config)?;
            module
                .define_function(id, &mut ctx)
                .map_err(|e| codegen_error(&k.name, &ctx.func, e))?;
            module.clear_context(&mut ctx);
            ids.push(id);
        }
        module
            .finalize_definitions()
            .map_err(|e| JitError::Host(e.to_string()))?;
        for (id, k) in ids.into_iter().zip(kernels) {
            let ptr = module.get_finalized_function(id);
            // SAFETY: the function was built with the kernel signature under the host's
            // default calling convention, which is `extern "C"`.
            let code = unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) };
            jit.kernels.push(Compiled {
                name: k.name.clone(),
                code,
                lengths: LenCheck::of(k),
            });
        }
        Ok(jit)
    }

    /// The handle of a kernel, for [`Jit::call_handle`].
    pub fn kernel(&self, name: &str) -> Option<KernelHandle> {
        self.index(name).map(|index| KernelHandle {
            jit: self.id,
            index,
        })
    }

    /// The native code of a kernel. The pointer is valid while `self` is alive.
    pub fn get(&self, name: &str) -> Option<KernelFn> {
        let index = self.index(name)?;
        self.kernels.get(index as usize).map(|c| c.code)
    }

    fn index(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The names of the compiled kernels (in the order they were given).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kernels.iter().map(|c| c.name.as_str())
    }

    /// Run a kernel safely: first check that every buffer is at least as long as the
    /// lengths the kernel's accesses rely on, then call the native code. Looks the kernel up
    /// by name; [`Jit::call_handle`] skips that.
    pub fn call(&self, name: &str, args: &mut Args) -> Result<(), JitError> {
        let h = self
            .kernel(name)
            .ok_or_else(|| JitError::UnknownKernel(name.to_string()))?;
        self.call_handle(h, args)
    }

    /// [`Jit::call`] for a kernel found with [`Jit::kernel`]. Allocates nothing: constant
    /// lengths were worked out at compile time, and lengths read from the inputs are computed
    /// by the evaluator in a per-thread scratch list.
    #[inline]
    pub fn call_handle(&self, h: KernelHandle, args: &mut Args) -> Result<(), JitError> {
        let c = match self.kernels.get(h.index as usize) {
            Some(c) if h.jit == self.id => c,
            _ => return Err(JitError::ForeignHandle),
        };
        c.check(args)?;
        let rng = args
            .rng
            .as_deref_mut()
            .map_or(std::ptr::null_mut(), |r| r as *mut crate::rt::Rng);
        // SAFETY: every access of the kernel is within `0..len` for a length checked above
        // against the buffer (unchecked accesses were proven so by `ir::opt`, checked ones
        // test it); the slices are valid, `x`, `p` and `out` exclusively borrowed, and the
        // code lives as long as `self`.
        unsafe {
            (c.code)(
                args.t,
                args.x.as_mut_ptr(),
                args.p.as_mut_ptr(),
                args.d.as_ptr(),
                args.aux.as_ptr(),
                rng,
                args.out.as_mut_ptr(),
            );
        }
        Ok(())
    }

    /// The lengths check of a kernel (for tests).
    #[cfg(test)]
    pub(crate) fn lengths(&self, name: &str) -> Option<&Result<LenCheck, String>> {
        let index = self.index(name)?;
        self.kernels.get(index as usize).map(|c| &c.lengths)
    }
}

//! The JIT module: owns the machine code of a set of kernels.

use super::bounds::LenCheck;
use super::codegen::{self, Callees, Runtime};
use super::{JitError, KernelFn, host_isa};
use crate::ir::Kernel;
use crate::ir::eval::{self, Args};
use cranelift::codegen::ir::{FuncRef, Function, UserFuncName};
use cranelift::prelude::*;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, ModuleError, default_libcall_names};
use std::collections::HashMap;

/// Compiled kernels. Their code lives as long as this value.
pub struct Jit {
    /// Always `Some` until dropped (taken to free the code).
    module: Option<JITModule>,
    kernels: HashMap<String, Compiled>,
}

struct Compiled {
    code: KernelFn,
    lengths: LenCheck,
}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the code is only reachable through `self` (pointers from `get` are
            // documented to live no longer than the `Jit`), and no kernel runs during drop.
            unsafe { m.free_memory() };
        }
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
            module: Some(JITModule::new(builder)),
            kernels: HashMap::new(),
        };
        let Some(module) = jit.module.as_mut() else {
            return Err(JitError::Host("no module".to_string()));
        };
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
        for k in kernels {
            if ids.iter().any(|(name, _)| *name == k.name) {
                return Err(JitError::DuplicateKernel(k.name.clone()));
            }
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
            ids.push((k.name.clone(), id));
        }
        module
            .finalize_definitions()
            .map_err(|e| JitError::Host(e.to_string()))?;
        for ((name, id), k) in ids.into_iter().zip(kernels) {
            let ptr = module.get_finalized_function(id);
            // SAFETY: the function was built with the kernel signature under the host's
            // default calling convention, which is `extern "C"`.
            let code = unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) };
            let lengths = LenCheck::of(k);
            jit.kernels.insert(name, Compiled { code, lengths });
        }
        Ok(jit)
    }

    /// The native code of a kernel. The pointer is valid while `self` is alive.
    pub fn get(&self, name: &str) -> Option<KernelFn> {
        self.kernels.get(name).map(|c| c.code)
    }

    /// The names of the compiled kernels (in no particular order).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kernels.keys().map(String::as_str)
    }

    /// Run a kernel safely: first check that every buffer is at least as long as the
    /// lengths the kernel's accesses rely on (computed from `args` as the kernel computes
    /// them), then call the native code.
    pub fn call(&self, name: &str, args: &mut Args) -> Result<(), JitError> {
        let c = self
            .kernels
            .get(name)
            .ok_or_else(|| JitError::UnknownKernel(name.to_string()))?;
        match &c.lengths {
            LenCheck::Unknown(reason) => {
                return Err(JitError::Unverifiable {
                    kernel: name.to_string(),
                    reason: reason.clone(),
                });
            }
            LenCheck::Eval { kernel, bufs } => {
                let mut needed = vec![0.0; bufs.len()];
                eval::run(
                    kernel,
                    &mut Args {
                        t: args.t,
                        x: args.x,
                        p: args.p,
                        d: args.d,
                        aux: args.aux,
                        rng: None,
                        out: &mut needed,
                    },
                );
                for (&buf, &n) in bufs.iter().zip(&needed) {
                    // As the kernel reads the length (`as i64`).
                    let n = n as i64;
                    let len = match buf {
                        crate::ir::Buf::X => args.x.len(),
                        crate::ir::Buf::P => args.p.len(),
                        crate::ir::Buf::D => args.d.len(),
                        crate::ir::Buf::Aux => args.aux.len(),
                        crate::ir::Buf::Out => args.out.len(),
                    };
                    if n > 0 && n as u64 > len as u64 {
                        return Err(JitError::BufferTooShort {
                            kernel: name.to_string(),
                            buf,
                            needed: n,
                            len,
                        });
                    }
                }
            }
        }
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
}

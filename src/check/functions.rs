//! User functions: the table of functions visible to models (the file's own and imported
//! ones), checked on first use so that a function may call one declared after it.

use super::checker::{Checker, Lazy};
use super::model::Function;
use super::suggest::did_you_mean;
use super::types::{Scalar, Type};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;
use std::collections::HashMap;

/// What a call needs to know about a function.
#[derive(Clone, Debug)]
pub(crate) struct FnSig {
    pub params: Vec<(String, Type)>,
    pub ret: Type,
    pub span: Span,
}

pub(crate) enum SigError {
    /// The function is being checked: the call is recursive.
    Recursive,
    /// The function has errors (already reported).
    Failed,
}

struct Entry<'a> {
    ast: &'a ast::Function,
    state: Lazy<Option<(Function, FnSig)>>,
}

#[derive(Default)]
pub(crate) struct FnTable<'a> {
    entries: Vec<Entry<'a>>,
    /// Functions callable without a module prefix.
    by_name: HashMap<String, usize>,
    /// `alias.name` → function.
    by_module: HashMap<(String, String), usize>,
    aliases: HashMap<String, Span>,
    pub diags: Vec<Diagnostic>,
}

impl<'a> FnTable<'a> {
    /// Add a file's functions, unqualified or under `alias`.
    pub fn add_file(&mut self, file: &'a ast::File, alias: Option<&ast::Ident>) {
        if let Some(a) = alias {
            if let Some(&prev) = self.aliases.get(&a.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        a.span,
                        format!("module alias `{}` is used twice", a.name),
                        "second use",
                    )
                    .with_label(prev, "first used here"),
                );
                return;
            }
            self.aliases.insert(a.name.clone(), a.span);
        }
        for f in file.functions() {
            let id = self.entries.len();
            self.entries.push(Entry {
                ast: f,
                state: Lazy::Pending,
            });
            let previous = match alias {
                Some(a) => self
                    .by_module
                    .insert((a.name.clone(), f.name.name.clone()), id),
                None => self.by_name.insert(f.name.name.clone(), id),
            };
            if let Some(prev) = previous {
                let prev_span = self.entries[prev].ast.name.span;
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        f.name.span,
                        format!("function `{}` is declared twice", f.name.name),
                        "second declaration",
                    )
                    .with_label(prev_span, "first declared here"),
                );
                // Keep the first.
                match alias {
                    Some(a) => {
                        self.by_module
                            .insert((a.name.clone(), f.name.name.clone()), prev);
                    }
                    None => {
                        self.by_name.insert(f.name.name.clone(), prev);
                    }
                }
            }
        }
    }

    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn lookup_qualified(&self, module: &str, name: &str) -> Option<usize> {
        self.by_module
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn unknown_qualified(&self, module: &ast::Ident, name: &ast::Ident) -> Diagnostic {
        if !self.aliases.contains_key(&module.name) {
            let help = did_you_mean(&module.name, self.aliases.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    format!(
                        "import a file under this name: `import \"….sde\" as {}`",
                        module.name
                    )
                });
            return Diagnostic::new(
                Code::UnknownFunction,
                module.span,
                format!("unknown module `{}`", module.name),
                "no import has this alias",
            )
            .with_help(help);
        }
        let candidates: Vec<&str> = self
            .by_module
            .keys()
            .filter(|(m, _)| *m == module.name)
            .map(|(_, n)| n.as_str())
            .collect();
        let help = did_you_mean(&name.name, candidates).map(|s| format!("did you mean `{s}`?"));
        Diagnostic::new(
            Code::UnknownFunction,
            name.span,
            format!("module `{}` has no function `{}`", module.name, name.name),
            "not in that module",
        )
        .with_optional_help(help)
    }

    /// The signature of a function, checking it first if needed.
    pub fn signature(&mut self, id: usize) -> Result<FnSig, SigError> {
        match &self.entries[id].state {
            Lazy::Done(Some((_, sig))) => return Ok(sig.clone()),
            Lazy::Done(None) => return Err(SigError::Failed),
            Lazy::InProgress => return Err(SigError::Recursive),
            Lazy::Pending => {}
        }
        self.entries[id].state = Lazy::InProgress;
        let ast = self.entries[id].ast;
        let mut c = Checker::new(self, true);
        let checked = c.function(ast);
        let diags = std::mem::take(&mut c.diags);
        let failed = diags.iter().any(|d| d.is_error());
        self.diags.extend(diags);
        let result = (!failed).then_some(checked);
        self.entries[id].state = Lazy::Done(result.clone());
        result.map(|(_, sig)| sig).ok_or(SigError::Failed)
    }

    /// Check every function (also those no model calls) and return them in table order;
    /// a function with errors is `None`.
    pub fn finish(&mut self) -> Vec<Option<Function>> {
        for id in 0..self.entries.len() {
            let _ = self.signature(id);
        }
        self.entries
            .iter()
            .map(|e| match &e.state {
                Lazy::Done(Some((f, _))) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Checker<'_, '_> {
    /// Check a function definition in a fresh function scope.
    pub fn function(&mut self, f: &ast::Function) -> (Function, FnSig) {
        let mut params = Vec::new();
        let mut sig_params = Vec::new();
        for p in &f.params {
            let ty = self.type_expr(&p.ty, Scalar::Real);
            if let Some(prev) = self.scope.iter().find(|(n, _)| *n == p.name.name) {
                let prev_span = self.locals[prev.1].span;
                self.error(
                    Diagnostic::new(
                        Code::Duplicate,
                        p.name.span,
                        format!("parameter `{}` appears twice", p.name.name),
                        "second parameter with this name",
                    )
                    .with_label(prev_span, "first here"),
                );
            }
            sig_params.push((p.name.name.clone(), ty.clone()));
            params.push(self.push_local(&p.name, ty));
        }
        let mut lets = Vec::new();
        for l in &f.lets {
            let value = self.expr(&l.value);
            let ty = match &l.ty {
                Some(ann) => {
                    let t = self.type_expr(ann, Scalar::Real);
                    self.check_fits(&value, &t, "this `let`");
                    t
                }
                None => value.ty.clone(),
            };
            let local = self.push_local(&l.name, ty);
            lets.push((local, value));
        }
        let body = self.expr(&f.body);
        let ret = match &f.ret {
            Some(ann) => {
                let t = self.type_expr(ann, Scalar::Real);
                self.check_fits(&body, &t, &format!("the result of `{}`", f.name.name));
                t
            }
            None => body.ty.clone(),
        };
        let sig = FnSig {
            params: sig_params,
            ret: ret.clone(),
            span: f.name.span,
        };
        let function = Function {
            name: f.name.name.clone(),
            doc: f.doc.clone(),
            params,
            ret,
            locals: std::mem::take(&mut self.locals),
            lets,
            body,
            span: f.span,
        };
        (function, sig)
    }

    /// Report a value that does not fit a declared type.
    pub fn check_fits(&mut self, value: &super::model::TExpr, ty: &Type, what: &str) -> bool {
        if value.ty.is_error() || ty.is_error() {
            return true;
        }
        let shape_ok = value.ty.dims == ty.dims || value.ty.is_scalar();
        if value.ty.scalar.fits(ty.scalar) && shape_ok {
            return true;
        }
        let int_from_real = ty.scalar.is_integer() && value.ty.scalar == Scalar::Real;
        let help = if int_from_real {
            Some("a real value cannot become an integer implicitly".to_string())
        } else if !shape_ok {
            Some("the shapes must match (a single number fills a whole array)".to_string())
        } else {
            None
        };
        self.error(
            Diagnostic::new(
                if shape_ok {
                    Code::TypeMismatch
                } else {
                    Code::ShapeMismatch
                },
                value.span,
                format!("{what} must be {ty}"),
                format!("this is {}", value.ty),
            )
            .with_optional_help(help),
        );
        false
    }
}

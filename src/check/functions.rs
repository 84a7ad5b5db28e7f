//! User functions: the table of functions visible to models (the file's own and imported
//! ones), checked on first use so that a function may call one declared after it.

use super::checker::{Checker, Lazy};
use super::model::Function;
use super::suggest::did_you_mean;
use super::types::{Scalar, Type};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
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
    /// The file that defines the function (its calls resolve in that file's scope).
    file: FileId,
    state: Lazy<Option<(Function, FnSig)>>,
}

/// The functions one file can call: its own, those of files it imports without an alias,
/// and `alias.name` for aliased imports. Imports are not transitive.
#[derive(Default)]
struct Scope {
    by_name: HashMap<String, usize>,
    by_module: HashMap<(String, String), usize>,
    aliases: HashMap<String, Span>,
    /// Aliases of imports that failed to load, and paths of unaliased ones.
    failed_aliases: Vec<String>,
    failed_paths: Vec<String>,
}

/// An import of one file by another, after loading.
pub struct ImportEdge<'a> {
    pub from: FileId,
    pub to: FileId,
    pub import: &'a ast::Import,
}

#[derive(Default)]
pub(crate) struct FnTable<'a> {
    entries: Vec<Entry<'a>>,
    scopes: HashMap<FileId, Scope>,
    pub diags: Vec<Diagnostic>,
}

impl<'a> FnTable<'a> {
    /// Register every file's functions and the scopes its imports give.
    pub fn new(
        files: &[&'a ast::File],
        edges: &[ImportEdge<'a>],
        failed: &[(FileId, &'a ast::Import)],
    ) -> FnTable<'a> {
        let mut t = FnTable::default();
        let mut own: HashMap<FileId, Vec<usize>> = HashMap::new();
        for file in files {
            let scope = t.scopes.entry(file.file).or_default();
            for f in file.functions() {
                let id = t.entries.len();
                t.entries.push(Entry {
                    ast: f,
                    file: file.file,
                    state: Lazy::Pending,
                });
                if let Some(&prev) = scope.by_name.get(&f.name.name) {
                    let prev_span = t.entries[prev].ast.name.span;
                    t.diags.push(duplicate_fn(&f.name, prev_span));
                } else {
                    scope.by_name.insert(f.name.name.clone(), id);
                    own.entry(file.file).or_default().push(id);
                }
            }
        }
        let mut seen: Vec<(FileId, FileId, Option<String>)> = Vec::new();
        for e in edges {
            let alias = e.import.alias.as_ref();
            let key = (e.from, e.to, alias.map(|a| a.name.clone()));
            if seen.contains(&key) {
                continue; // the same import written twice
            }
            seen.push(key);
            let ids = own.get(&e.to).cloned().unwrap_or_default();
            let scope = t.scopes.entry(e.from).or_default();
            match alias {
                Some(a) => {
                    if let Some(&prev) = scope.aliases.get(&a.name) {
                        t.diags.push(
                            Diagnostic::new(
                                Code::Duplicate,
                                a.span,
                                format!("module alias `{}` is used twice", a.name),
                                "second use",
                            )
                            .with_label(prev, "first used here"),
                        );
                        continue;
                    }
                    scope.aliases.insert(a.name.clone(), a.span);
                    for id in ids {
                        let name = t.entries[id].ast.name.name.clone();
                        scope.by_module.insert((a.name.clone(), name), id);
                    }
                }
                None => {
                    for id in ids {
                        let f = t.entries[id].ast;
                        match scope.by_name.get(&f.name.name) {
                            Some(&prev) if prev != id => {
                                let prev_span = t.entries[prev].ast.name.span;
                                t.diags.push(
                                    Diagnostic::new(
                                        Code::Duplicate,
                                        e.import.span,
                                        format!(
                                            "this import brings a second function `{}`",
                                            f.name.name
                                        ),
                                        "imported here",
                                    )
                                    .with_label(prev_span, "the first one")
                                    .with_help("import the file under a name: `import \"…\" as m`, then call `m.f(…)`"),
                                );
                            }
                            _ => {
                                scope.by_name.insert(f.name.name.clone(), id);
                            }
                        }
                    }
                }
            }
        }
        for (from, import) in failed {
            let scope = t.scopes.entry(*from).or_default();
            match &import.alias {
                Some(a) => scope.failed_aliases.push(a.name.clone()),
                None => scope.failed_paths.push(import.path.clone()),
            }
        }
        t
    }

    fn scope(&self, file: FileId) -> Option<&Scope> {
        self.scopes.get(&file)
    }

    pub fn lookup(&self, file: FileId, name: &str) -> Option<usize> {
        self.scope(file)?.by_name.get(name).copied()
    }

    pub fn lookup_qualified(&self, file: FileId, module: &str, name: &str) -> Option<usize> {
        self.scope(file)?
            .by_module
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    /// Names callable without a prefix in `file`.
    pub fn names(&self, file: FileId) -> Vec<String> {
        self.scope(file)
            .map(|s| s.by_name.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `alias` belongs to an import that failed (its uses are not reported again).
    pub fn is_failed_alias(&self, file: FileId, alias: &str) -> bool {
        self.scope(file)
            .is_some_and(|s| s.failed_aliases.iter().any(|a| a == alias))
    }

    /// A hint for an unknown function when an unaliased import of `file` failed to load.
    pub fn failed_import_hint(&self, file: FileId) -> Option<String> {
        let p = self.scope(file)?.failed_paths.first()?;
        Some(format!(
            "the import of \"{p}\" failed; the function may be defined there"
        ))
    }

    pub fn unknown_qualified(
        &self,
        file: FileId,
        module: &ast::Ident,
        name: &ast::Ident,
    ) -> Diagnostic {
        let empty = Scope::default();
        let scope = self.scope(file).unwrap_or(&empty);
        if !scope.aliases.contains_key(&module.name) {
            let help = did_you_mean(&module.name, scope.aliases.keys().map(String::as_str))
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
        let candidates: Vec<&str> = scope
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
        let file = self.entries[id].file;
        let mut c = Checker::new(self, true, file);
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

fn all_plus_minus_one(v: &super::types::Value) -> bool {
    match v {
        super::types::Value::Int(n) => *n == 1 || *n == -1,
        super::types::Value::Array(items) => items.iter().all(all_plus_minus_one),
        _ => false,
    }
}

fn duplicate_fn(name: &ast::Ident, prev: Span) -> Diagnostic {
    Diagnostic::new(
        Code::Duplicate,
        name.span,
        format!("function `{}` is declared twice", name.name),
        "second declaration",
    )
    .with_label(prev, "first declared here")
}

impl Checker<'_, '_> {
    /// Check a function definition in a fresh function scope.
    pub fn function(&mut self, f: &ast::Function) -> (Function, FnSig) {
        let mut params = Vec::new();
        let mut sig_params = Vec::new();
        for p in &f.params {
            self.reject_bounds(&p.ty, "a function parameter");
            let ty = self.type_expr(&p.ty);
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
                    self.reject_bounds(ann, "a `let`");
                    let t = self.type_expr(ann);
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
                self.reject_bounds(ann, "a function's result");
                let t = self.type_expr(ann);
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
        if ty.scalar == Scalar::Spin && value.ty.scalar == Scalar::Int && shape_ok {
            // A constant made of ±1 is a spin value.
            if let Ok(v) = self.const_eval(value)
                && all_plus_minus_one(&v)
            {
                return true;
            }
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    value.span,
                    format!("{what} must be a spin: -1 or 1"),
                    format!("this is `{}`", value.ty),
                )
                .with_help("flip a spin with `s = -s`"),
            );
            return false;
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
                format!("{what} must be `{ty}`"),
                format!("this is `{}`", value.ty),
            )
            .with_optional_help(help),
        );
        false
    }
}

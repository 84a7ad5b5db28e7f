//! The model checker's state: the symbol table of one model (or one function), locals in
//! scope, lazily resolved declaration types, and the diagnostics found so far.
//!
//! Declarations are order-independent: a name may be used before the line that declares it.
//! Types and constant values are therefore resolved on demand, with cycle detection.

use super::functions::FnTable;
use super::model::*;
use super::types::{Type, Value};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;
use std::collections::{HashMap, HashSet};

/// What a model-level name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sym {
    Var(Var),
    Noise(usize),
    /// Declared by a statement that failed to parse: uses are not reported again.
    Poisoned,
}

/// Resolution state of something computed on demand.
#[derive(Clone, Debug)]
pub(crate) enum Lazy<T> {
    Pending,
    InProgress,
    Done(T),
}

/// A declaration as written, with the AST parts the later passes need.
pub(crate) struct DeclSrc<'a> {
    pub name: ast::Ident,
    pub doc: Option<&'a str>,
    pub ty: Option<&'a ast::TypeExpr>,
    /// `= e` (init, default, value).
    pub value: Option<&'a ast::Expr>,
    pub span: Span,
    pub resolved: Lazy<Type>,
    /// The value expression, once typed (typing it may have been needed to learn the type).
    pub typed_value: Option<TExpr>,
    /// A parameter's prior or a state's random initial value (`~ D(…)`).
    pub dist: Option<&'a ast::Distribution>,
    /// A state's boundary (`reflect`).
    pub boundary: Option<&'a ast::Ident>,
}

impl<'a> DeclSrc<'a> {
    pub fn new(
        name: &ast::Ident,
        doc: &'a Option<String>,
        ty: Option<&'a ast::TypeExpr>,
        value: Option<&'a ast::Expr>,
        span: Span,
    ) -> DeclSrc<'a> {
        DeclSrc {
            name: name.clone(),
            doc: doc.as_deref(),
            ty,
            value,
            span,
            resolved: Lazy::Pending,
            typed_value: None,
            dist: None,
            boundary: None,
        }
    }

    pub fn with_dist(mut self, dist: Option<&'a ast::Distribution>) -> DeclSrc<'a> {
        self.dist = dist;
        self
    }

    /// The noise `W` created by a lone `dW`.
    pub fn implicit(span: Span) -> DeclSrc<'a> {
        DeclSrc {
            name: ast::Ident {
                name: "W".to_string(),
                span,
            },
            doc: None,
            ty: None,
            value: None,
            span,
            resolved: Lazy::Done(Type::REAL),
            typed_value: None,
            dist: None,
            boundary: None,
        }
    }

    pub fn name_text(&self) -> &str {
        &self.name.name
    }
}

/// Every declaration of the model, by kind, in source order.
#[derive(Default)]
pub(crate) struct Decls<'a> {
    pub consts: Vec<DeclSrc<'a>>,
    pub const_values: Vec<Option<Value>>,
    pub params: Vec<DeclSrc<'a>>,
    pub data: Vec<DeclSrc<'a>>,
    pub obs: Vec<DeclSrc<'a>>,
    pub states: Vec<DeclSrc<'a>>,
    pub species: Vec<DeclSrc<'a>>,
    pub noises: Vec<DeclSrc<'a>>,
    /// The noise created by a lone `dW`.
    pub implicit_noise: Option<usize>,
    pub lets: Vec<DeclSrc<'a>>,
    pub let_roles: Vec<LetRole>,
}

pub(crate) struct Checker<'f, 'a> {
    pub fns: &'f mut FnTable<'a>,
    pub diags: Vec<Diagnostic>,
    pub locals: Vec<Local>,
    /// Locals in scope, innermost last.
    pub scope: Vec<(String, usize)>,
    /// Constant ranges of loop variables, for index range checks.
    pub local_ranges: HashMap<usize, (i64, i64)>,
    pub symbols: HashMap<String, (Sym, Span)>,
    pub decls: Decls<'a>,
    pub used: HashSet<Var>,
    pub used_noises: HashSet<usize>,
    /// Whether `dt` and `dW` may appear (the right side of an equation).
    pub differentials: bool,
    /// Checking a function body: model names are not visible.
    pub in_function: bool,
    /// The file whose function scope calls resolve in.
    pub file: crate::source::FileId,
    /// Unknown noises already reported (each once, however often used).
    pub reported_noises: HashSet<String>,
    /// Declarations whose types are being resolved, outermost first (to name a cycle).
    pub resolving: Vec<Var>,
    /// `let`s whose compile-time value is being worked out (a cycle has none).
    pub evaluating_lets: HashSet<usize>,
    /// Compile-time values of `let`s (or why they have none), once worked out.
    pub let_values: HashMap<usize, Result<Value, super::consteval::NotConst>>,
    /// Per `let`, the variables other than `let`s its value reaches (see `vars_in`).
    pub let_var_sets: HashMap<usize, std::rc::Rc<[Var]>>,
    /// Declarations in a cycle already reported.
    pub cycle_members: HashSet<Var>,
}

impl<'f, 'a> Checker<'f, 'a> {
    pub fn new(
        fns: &'f mut FnTable<'a>,
        in_function: bool,
        file: crate::source::FileId,
    ) -> Checker<'f, 'a> {
        Checker {
            fns,
            diags: Vec::new(),
            locals: Vec::new(),
            scope: Vec::new(),
            local_ranges: HashMap::new(),
            symbols: HashMap::new(),
            decls: Decls::default(),
            used: HashSet::new(),
            used_noises: HashSet::new(),
            differentials: false,
            in_function,
            file,
            reported_noises: HashSet::new(),
            resolving: Vec::new(),
            evaluating_lets: HashSet::new(),
            let_values: HashMap::new(),
            let_var_sets: HashMap::new(),
            cycle_members: HashSet::new(),
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Declare a model-level name; reports duplicates and reserved names.
    pub fn declare(&mut self, name: &ast::Ident, sym: Sym) -> bool {
        if let Some(why) = reserved(&name.name) {
            self.error(
                Diagnostic::new(
                    Code::Reserved,
                    name.span,
                    format!("`{}` is a reserved name", name.name),
                    why,
                )
                .with_help("choose another name"),
            );
            return false;
        }
        if let Some(&(_, prev)) = self.symbols.get(&name.name) {
            self.error(
                Diagnostic::new(
                    Code::Duplicate,
                    name.span,
                    format!("`{}` is declared twice", name.name),
                    "second declaration",
                )
                .with_label(prev, "first declared here")
                .with_help("rename one of them"),
            );
            return false;
        }
        self.symbols.insert(name.name.clone(), (sym, name.span));
        true
    }

    /// Add a local and bring it into scope.
    pub fn push_local(&mut self, name: &ast::Ident, ty: Type) -> usize {
        if let Some(why) = reserved(&name.name) {
            self.error(Diagnostic::new(
                Code::Reserved,
                name.span,
                format!("`{}` is a reserved name", name.name),
                why,
            ));
        }
        let id = self.locals.len();
        self.locals.push(Local {
            name: name.name.clone(),
            ty,
            span: name.span,
        });
        self.scope.push((name.name.clone(), id));
        id
    }

    pub fn lookup_local(&self, name: &str) -> Option<usize> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|&(_, id)| id)
    }

    /// Names visible here, for "did you mean" suggestions.
    pub fn visible_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.scope.iter().map(|(n, _)| n.clone()).collect();
        names.extend(self.symbols.keys().cloned());
        if !self.in_function {
            names.push("t".to_string());
        }
        names.push("pi".to_string());
        names
    }

    /// Source of a declaration (for its span, name, AST parts).
    pub fn decl(&self, v: Var) -> Option<&DeclSrc<'a>> {
        let d = &self.decls;
        match v {
            Var::Const(i) => d.consts.get(i),
            Var::Param(i) => d.params.get(i),
            Var::Data(i) => d.data.get(i),
            Var::Obs(i) => d.obs.get(i),
            Var::State(i) => d.states.get(i),
            Var::Species(i) => d.species.get(i),
            Var::Let(i) => d.lets.get(i),
            Var::Local(_) => None,
        }
    }

    fn decl_mut(&mut self, v: Var) -> Option<&mut DeclSrc<'a>> {
        let d = &mut self.decls;
        match v {
            Var::Const(i) => d.consts.get_mut(i),
            Var::Param(i) => d.params.get_mut(i),
            Var::Data(i) => d.data.get_mut(i),
            Var::Obs(i) => d.obs.get_mut(i),
            Var::State(i) => d.states.get_mut(i),
            Var::Species(i) => d.species.get_mut(i),
            Var::Let(i) => d.lets.get_mut(i),
            Var::Local(_) => None,
        }
    }

    pub fn var_name(&self, v: Var) -> String {
        match v {
            Var::Local(i) => self.locals[i].name.clone(),
            _ => self
                .decl(v)
                .map_or_else(String::new, |d| d.name.name.clone()),
        }
    }

    /// The type of a variable, resolving its declaration on demand.
    pub fn var_type(&mut self, v: Var) -> Type {
        if let Var::Local(i) = v {
            return self.locals[i].ty.clone();
        }
        let Some(d) = self.decl(v) else {
            return Type::ERROR;
        };
        match &d.resolved {
            Lazy::Done(t) => return t.clone(),
            Lazy::InProgress => {
                let start = self.resolving.iter().position(|&r| r == v).unwrap_or(0);
                let mut cycle = vec![v];
                cycle.extend_from_slice(&self.resolving[start + 1..]);
                self.report_cycle(&cycle);
                if let Some(d) = self.decl_mut(v) {
                    d.resolved = Lazy::Done(Type::ERROR);
                }
                return Type::ERROR;
            }
            Lazy::Pending => {}
        }
        if let Some(d) = self.decl_mut(v) {
            d.resolved = Lazy::InProgress;
        }
        self.resolving.push(v);
        let ty = self.in_decl_context(|c| c.resolve_decl_type(v));
        self.resolving.pop();
        if let Some(d) = self.decl_mut(v) {
            // A cycle found while resolving has already stored the error type.
            if matches!(d.resolved, Lazy::InProgress) {
                d.resolved = Lazy::Done(ty.clone());
            }
            if let Lazy::Done(t) = &d.resolved {
                return t.clone();
            }
        }
        ty
    }

    /// Work out a declaration's type: from its annotation, else from its value.
    fn resolve_decl_type(&mut self, v: Var) -> Type {
        let d = self.decl(v).expect("resolving a declared variable");
        let (ann, value) = (d.ty, d.value);
        match v {
            Var::Const(i) => self.resolve_const(i),
            Var::Species(_) => Type::INT,
            _ => {
                if let Some(ann) = ann {
                    return self.type_expr(ann);
                }
                match value {
                    // Untyped parameters and states are real, shaped like their value.
                    Some(e) => {
                        let typed = self.expr(e);
                        let ty = match v {
                            Var::Let(_) => typed.ty.clone(),
                            _ => typed.ty.with_scalar(if typed.ty.is_error() {
                                super::types::Scalar::Error
                            } else {
                                default_scalar(v)
                            }),
                        };
                        if let Some(d) = self.decl_mut(v) {
                            d.typed_value = Some(typed);
                        }
                        ty
                    }
                    None => Type::scalar(default_scalar(v)),
                }
            }
        }
    }

    /// The typed value expression of a declaration (typed once, cached).
    pub fn decl_value(&mut self, v: Var) -> Option<TExpr> {
        self.typed_value(v).cloned()
    }

    /// The typed value expression of a declaration, typing it on first use.
    pub fn typed_value(&mut self, v: Var) -> Option<&TExpr> {
        self.var_type(v);
        let d = self.decl(v)?;
        if d.typed_value.is_none()
            && let Some(e) = d.value
        {
            let typed = self.in_decl_context(|c| c.expr(e));
            if let Some(d) = self.decl_mut(v) {
                d.typed_value = Some(typed);
            }
        }
        self.decl(v)?.typed_value.as_ref()
    }

    /// Run `f` in a declaration's own context: no locals in scope and no differentials,
    /// whichever loop, body or equation first needed the declaration.
    pub fn in_decl_context<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let scope = std::mem::take(&mut self.scope);
        let differentials = std::mem::replace(&mut self.differentials, false);
        let out = f(self);
        self.scope = scope;
        self.differentials = differentials;
        out
    }

    /// Run `f` with extra locals in scope, removing them afterwards.
    pub fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let depth = self.scope.len();
        let out = f(self);
        self.scope.truncate(depth);
        out
    }
}

fn default_scalar(v: Var) -> super::types::Scalar {
    match v {
        Var::Species(_) => super::types::Scalar::Int,
        _ => super::types::Scalar::Real,
    }
}

/// Why a name may not be declared, if it may not.
pub(crate) fn reserved(name: &str) -> Option<&'static str> {
    match name {
        "t" => Some("`t` is the current time"),
        "dt" => Some("`dt` is the time differential"),
        "pi" => Some("`pi` is the constant π"),
        _ => None,
    }
}

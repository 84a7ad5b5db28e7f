//! The checker: AST → typed model. Name resolution with scopes, types and shapes, the
//! equations split into drift and diffusion, reactions with integer stoichiometry, jumps,
//! events and `~` statements checked, and the model's kind and noise structure recorded.

pub mod builtins;
mod calls;
mod checker;
mod classify;
pub(crate) mod consteval;
mod cycles;
mod decls;
mod distributions;
mod dynamics;
mod events;
mod expr;
mod functions;
mod index;
mod lint;
pub mod model;
mod order;
pub mod print;
mod probability;
mod reactions;
mod regions;
pub mod suggest;
pub mod types;

use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, StmtKind};
use checker::Checker;
use functions::FnTable;
pub use functions::ImportEdge;
use model::*;
use std::collections::HashMap;

/// Check the models of `main` (all of them, or only `select`) with the functions of `main`
/// and of the files it imports (`edges` say which file imports which, under which alias).
///
/// `failed_imports` are the imports that could not be loaded (already reported): their
/// functions are unknown, and the checker says so rather than reporting each use anew.
pub fn check_program<'a>(
    main: &'a ast::File,
    imported: &[&'a ast::File],
    edges: &[ImportEdge<'a>],
    failed_imports: &[(crate::source::FileId, &'a ast::Import)],
    select: Option<&str>,
) -> (Program, Vec<Diagnostic>) {
    let mut files = vec![main];
    files.extend_from_slice(imported);
    let mut fns = FnTable::new(&files, edges, failed_imports);
    let mut diags = Vec::new();
    let mut models = Vec::new();
    let mut seen: HashMap<&str, crate::source::Span> = HashMap::new();
    for m in main.models() {
        if let Some(&prev) = seen.get(m.name()) {
            diags.push(
                Diagnostic::new(
                    Code::Duplicate,
                    m.name.span,
                    format!("model `{}` is declared twice", m.name()),
                    "second model with this name",
                )
                .with_label(prev, "first declared here"),
            );
            continue;
        }
        seen.insert(m.name(), m.name.span);
        if select.is_some_and(|s| s != m.name()) {
            continue;
        }
        let (model, d) = check_model(&mut fns, m, main.file);
        diags.extend(d);
        models.extend(model);
    }
    let functions = fns.finish();
    diags.append(&mut fns.diags);
    let functions = if functions.iter().all(Option::is_some) {
        functions.into_iter().flatten().collect()
    } else {
        Vec::new()
    };
    (Program { functions, models }, diags)
}

/// Check one model of file `file` (whose function scope its calls resolve in: a model typed
/// into the REPL joins the main file). The typed model is returned only when it has no errors.
fn check_model<'a>(
    fns: &mut FnTable<'a>,
    model: &'a ast::Model,
    file: crate::source::FileId,
) -> (Option<Model>, Vec<Diagnostic>) {
    let mut c = Checker::new(fns, false, file);
    c.collect(model);
    c.resolve_in_dependency_order();
    let mut calculus: Option<(Calculus, crate::source::Span)> = None;
    let mut equations = Vec::new();
    let mut reactions = Vec::new();
    let mut reaction_count = 0;
    let mut transition_names = HashMap::new();
    let mut jumps = Vec::new();
    let mut events = Vec::new();
    let mut tildes: Vec<Tilde> = Vec::new();
    for stmt in &model.stmts {
        match &stmt.kind {
            StmtKind::Calculus(id) => {
                let which = match id.name.as_str() {
                    "ito" | "itô" | "Ito" | "Itô" => Some(Calculus::Ito),
                    "stratonovich" | "Stratonovich" => Some(Calculus::Stratonovich),
                    other => {
                        let help = suggest::did_you_mean(other, ["ito", "stratonovich"])
                            .map(|s| format!("did you mean `{s}`?"));
                        c.error(
                            Diagnostic::new(
                                Code::UnknownCalculus,
                                id.span,
                                format!("unknown calculus `{other}`"),
                                "expected `ito` or `stratonovich`",
                            )
                            .with_optional_help(help),
                        );
                        None
                    }
                };
                if let Some((_, prev)) = calculus {
                    c.error(
                        Diagnostic::new(
                            Code::Duplicate,
                            stmt.span,
                            "`calculus` is declared twice",
                            "second declaration",
                        )
                        .with_label(prev, "first declared here"),
                    );
                } else if let Some(w) = which {
                    calculus = Some((w, stmt.span));
                }
            }
            StmtKind::Equation {
                target,
                rhs,
                binders,
            } => equations.extend(c.equation(target, rhs, binders, stmt.span)),
            StmtKind::Reactions(rs) => c.reactions(
                rs,
                &mut reaction_count,
                &mut transition_names,
                &mut reactions,
            ),
            StmtKind::Jump(j) => {
                if let Some(&prev) = transition_names.get(&j.name.name) {
                    c.error(
                        Diagnostic::new(
                            Code::Duplicate,
                            j.name.span,
                            format!(
                                "`{}` is already the name of a reaction or jump",
                                j.name.name
                            ),
                            "second use of this name",
                        )
                        .with_label(prev, "first used here"),
                    );
                }
                transition_names.insert(j.name.name.clone(), j.name.span);
                jumps.extend(c.jump(j, stmt.span));
            }
            StmtKind::At { var, time, body } => {
                events.extend(c.at_event(var, time, body, stmt.span))
            }
            StmtKind::When { cond, body } => events.extend(c.when_event(cond, body, stmt.span)),
            StmtKind::Tilde {
                target,
                dist,
                binders,
            } => tildes.extend(c.tilde(target, dist, binders, stmt.span)),
            _ => {}
        }
    }
    let mut m = Model {
        name: model.name.name.clone(),
        doc: model.doc.clone(),
        kind: ModelKind::Graphical,
        calculus: calculus.map_or(Calculus::Ito, |c| c.0),
        noise: None,
        consts: Vec::new(),
        params: Vec::new(),
        data: Vec::new(),
        obs: Vec::new(),
        states: Vec::new(),
        species: Vec::new(),
        noises: Vec::new(),
        lets: Vec::new(),
        locals: Vec::new(),
        equations,
        reactions,
        jumps,
        events,
        tildes,
        span: model.span,
    };
    c.finish_decls(&mut m);
    c.check_value_cycles(&m);
    check_duplicate_priors(&mut c, &m.params, &m.tildes);
    let state_types: Vec<_> = m.states.iter().map(|s| s.ty.clone()).collect();
    let partial = c.check_coverage(&m.equations, &state_types);
    let kind = c.classify(&m, model);
    m.noise = c.noise_structure(&m);
    if let Some(k) = kind {
        m.kind = k;
    }
    // By convention `beta` is the inverse temperature of an `energy` target.
    if m.lets.iter().any(|l| l.role == LetRole::Energy)
        && let Some(i) = m.params.iter().position(|p| p.name == "beta")
    {
        c.used.insert(Var::Param(i));
    }
    // A statement that failed to check leaves its names unused and its states unchanged:
    // warnings about such a model would mostly echo the errors.
    if !crate::diag::has_errors(&c.diags) {
        c.lint(&m, &partial);
    }
    m.locals = std::mem::take(&mut c.locals);
    let diags = std::mem::take(&mut c.diags);
    let ok = kind.is_some() && !crate::diag::has_errors(&diags);
    (ok.then_some(m), diags)
}

/// A parameter may have one prior: in its declaration, in one `~` statement for the whole
/// parameter, or in `~` statements for its elements (each element once). Whole priors are
/// compared first, so that the order of the statements does not matter.
fn check_duplicate_priors(c: &mut Checker, params: &[Param], tildes: &[Tilde]) {
    let mut priors: HashMap<usize, regions::RegionSet<crate::source::Span>> = HashMap::new();
    for (i, p) in params.iter().enumerate() {
        if let Some(d) = &p.prior {
            let whole = c.region(&p.ty, &[], &[]);
            priors.entry(i).or_default().insert(whole, d.span);
        }
    }
    let whole = tildes.iter().filter(|t| t.indices.is_empty());
    let indexed = tildes.iter().filter(|t| !t.indices.is_empty());
    for t in whole.chain(indexed) {
        let Var::Param(i) = t.target else { continue };
        let region = c.region(&params[i].ty, &t.indices, &t.binders);
        if let Some(prev) = priors.entry(i).or_default().insert(region, t.span) {
            c.error(
                Diagnostic::new(
                    Code::DuplicatePrior,
                    t.span,
                    format!("parameter `{}` gets a second prior", params[i].name),
                    "second prior",
                )
                .with_label(prev, "first prior")
                .with_help("keep one prior per parameter (or per element)"),
            );
        }
    }
}

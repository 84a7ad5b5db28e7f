//! What `:info`, `:doc` and `:models` print.

use crate::check::model::{Model, Program};
use crate::sim::bind::Setting;

/// `:info`: the model as `ito check --emit typed` shows it, then the parameters' current
/// values (those changed with `:set` marked).
pub fn info(
    m: &Model,
    program: &Program,
    values: &[(String, f64)],
    settings: &[Setting],
) -> String {
    let mut s = crate::check::print::model_summary(m, program);
    if !values.is_empty() || !settings.is_empty() {
        s.push_str("  current values:\n");
        for (name, v) in values {
            let mark = if settings.iter().any(|s| &s.name == name) {
                "   (:set)"
            } else {
                ""
            };
            if v.is_nan() {
                s.push_str(&format!("    {name}: no value (:infer samples it)\n"));
            } else {
                s.push_str(&format!("    {name} = {v}{mark}\n"));
            }
        }
        // Array parameters and data set by name are not among the scalar values.
        for set in settings {
            if !values.iter().any(|(n, _)| n == &set.name) {
                s.push_str(&format!("    {} = {}   (:set)\n", set.name, set.value));
            }
        }
    }
    s
}

/// `:doc name`: the `///` documentation of a model, a function, or a declaration of the
/// current model; `None` when nothing has that name.
pub fn doc(name: &str, program: &Program, current: Option<&Model>) -> Option<String> {
    let text = |what: String, doc: &Option<String>| {
        let body = doc.as_deref().unwrap_or("(no /// documentation)");
        format!("{what}\n  {}\n", body.replace('\n', "\n  "))
    };
    if let Some(m) = program.models.iter().find(|m| m.name == name) {
        return Some(text(format!("model {name} ({})", m.kind), &m.doc));
    }
    if let Some(f) = program.functions.iter().find(|f| f.name == name) {
        let sig = crate::check::print::function_summary(f, program);
        let first = sig.lines().next().unwrap_or_default().to_string();
        return Some(text(first, &f.doc));
    }
    let m = current?;
    let found = m
        .params
        .iter()
        .map(|p| (&p.name, "param", p.ty.to_string(), &p.doc))
        .chain(
            m.data
                .iter()
                .map(|d| (&d.name, "data", d.ty.to_string(), &d.doc)),
        )
        .chain(
            m.obs
                .iter()
                .map(|d| (&d.name, "obs", d.ty.to_string(), &d.doc)),
        )
        .chain(
            m.states
                .iter()
                .map(|x| (&x.name, "state", x.ty.to_string(), &x.doc)),
        )
        .chain(
            m.species
                .iter()
                .map(|x| (&x.name, "species", "int".to_string(), &x.doc)),
        )
        .chain(
            m.lets
                .iter()
                .map(|l| (&l.name, "let", l.ty.to_string(), &l.doc)),
        )
        .find(|(n, ..)| n.as_str() == name)?;
    let (n, kind, ty, doc) = found;
    Some(text(format!("{kind} {n}: {ty} (model {})", m.name), doc))
}

/// `:models`: each model with its kind, the current one marked.
pub fn models(program: &Program, current: Option<&str>) -> String {
    if program.models.is_empty() {
        return "no models (:load a file, or define `model Name { … }`)\n".to_string();
    }
    program
        .models
        .iter()
        .map(|m| {
            let mark = if Some(m.name.as_str()) == current {
                "*"
            } else {
                " "
            };
            format!("{mark} {} ({})\n", m.name, m.kind)
        })
        .collect()
}

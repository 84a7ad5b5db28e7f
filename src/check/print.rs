//! Printing the typed model: expressions in ordinary infix notation with only the
//! parentheses precedence needs, and `ito check --emit typed` summaries.

use super::model::*;
use super::types::Type;
use crate::syntax::ast::{BinOp, UnOp};
use std::fmt::Write;

/// How to name variables and functions when printing.
pub struct Names<'a> {
    pub var: &'a dyn Fn(Var) -> String,
    pub function: &'a dyn Fn(usize) -> String,
}

/// An expression as text, naming variables with `var`.
pub fn expr_string(e: &TExpr, var: &dyn Fn(Var) -> String) -> String {
    let names = Names {
        var,
        function: &|i| format!("fn{i}"),
    };
    expr_with(e, &names)
}

pub fn expr_with(e: &TExpr, names: &Names) -> String {
    let mut out = String::new();
    write_expr(&mut out, e, 0, names);
    out
}

fn precedence(e: &TExpr) -> u8 {
    match &e.kind {
        TKind::If(..) => 0,
        TKind::Binary(op, ..) => match op {
            BinOp::Or => 1,
            BinOp::And => 2,
            o if o.is_comparison() => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Juxtapose => 5,
            _ => 7,
        },
        TKind::Reduce { .. } => 5,
        TKind::Unary(..) => 6,
        TKind::Int(v) if *v < 0 => 6,
        TKind::Real(v) if *v < 0.0 => 6,
        _ => 9,
    }
}

fn write_expr(out: &mut String, e: &TExpr, min: u8, n: &Names) {
    let prec = precedence(e);
    let paren = prec < min;
    if paren {
        out.push('(');
    }
    match &e.kind {
        TKind::Int(v) => {
            let _ = write!(out, "{v}");
        }
        TKind::Real(v) => {
            let _ = write!(out, "{v:?}");
        }
        TKind::Bool(v) => {
            let _ = write!(out, "{v}");
        }
        TKind::Var(v) => out.push_str(&(n.var)(*v)),
        TKind::Time => out.push('t'),
        TKind::Unary(op, a) => {
            out.push(match op {
                UnOp::Neg => '-',
                UnOp::Not => '!',
                UnOp::Plus => '+',
            });
            write_expr(out, a, 6, n);
        }
        TKind::Binary(op, a, b) => {
            let (left, right) = match op {
                BinOp::Pow => (prec + 1, prec - 1),
                o if o.is_comparison() => (prec + 1, prec + 1),
                // A reduction's body extends over a product: `(sum(i in …) x[i]) * c`.
                _ if prec == 5 && matches!(a.kind, TKind::Reduce { .. }) => (prec + 1, prec + 1),
                _ => (prec, prec + 1),
            };
            write_expr(out, a, left, n);
            if *op == BinOp::Pow {
                out.push('^');
            } else {
                let _ = write!(out, " {} ", op.as_str());
            }
            write_expr(out, b, right, n);
        }
        TKind::Call(b, args) => call(out, b.name(), args, n),
        TKind::CallFn(i, args) => call(out, &(n.function)(*i), args, n),
        TKind::Index(base, idx) => {
            write_expr(out, base, 8, n);
            list(out, "[", idx, "]", n);
        }
        TKind::Array(items) => list(out, "[", items, "]", n),
        TKind::If(c, a, b) => {
            out.push_str("if ");
            write_expr(out, c, 1, n);
            out.push_str(" then ");
            write_expr(out, a, 1, n);
            out.push_str(" else ");
            write_expr(out, b, 0, n);
        }
        TKind::Reduce { op, binders, body } => {
            let _ = write!(out, "{}(", op.name());
            binder_list(out, binders, n);
            out.push_str(") ");
            write_expr(out, body, 5, n);
        }
        TKind::Grad(f, v) => {
            out.push_str("grad(");
            write_expr(out, f, 0, n);
            let _ = write!(out, ", {})", (n.var)(*v));
        }
        TKind::Differential(Differential::Time) => out.push_str("dt"),
        TKind::Differential(Differential::Noise { noise, index }) => {
            let _ = write!(out, "dW#{noise}");
            if !index.is_empty() {
                list(out, "[", index, "]", n);
            }
        }
        TKind::Error => out.push_str("<error>"),
    }
    if paren {
        out.push(')');
    }
}

fn call(out: &mut String, name: &str, args: &[TExpr], n: &Names) {
    out.push_str(name);
    list(out, "(", args, ")", n);
}

fn list(out: &mut String, open: &str, items: &[TExpr], close: &str, n: &Names) {
    out.push_str(open);
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, it, 0, n);
    }
    out.push_str(close);
}

fn binder_list(out: &mut String, binders: &[Binder], n: &Names) {
    for (i, b) in binders.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{} in ", (n.var)(Var::Local(b.local)));
        write_expr(out, &b.lo, 4, n);
        out.push_str("..");
        write_expr(out, &b.hi, 4, n);
    }
}

/// The `--emit typed` line for a user function: signature and body.
pub fn function_summary(f: &Function, program: &Program) -> String {
    let var = |v: Var| match v {
        Var::Local(i) => f.locals[i].name.clone(),
        _ => "?".to_string(),
    };
    let function = |i: usize| {
        program
            .functions
            .get(i)
            .map_or_else(|| format!("fn{i}"), |g| g.name.clone())
    };
    let names = Names {
        var: &var,
        function: &function,
    };
    let params: Vec<String> = f
        .params
        .iter()
        .map(|&p| format!("{}: {}", f.locals[p].name, f.locals[p].ty))
        .collect();
    let mut o = format!("fn {}({}) -> {}\n", f.name, params.join(", "), f.ret);
    for (local, value) in &f.lets {
        let _ = writeln!(
            o,
            "  let {} = {}",
            f.locals[*local].name,
            expr_with(value, &names)
        );
    }
    let _ = writeln!(o, "  = {}", expr_with(&f.body, &names));
    o
}

/// The `--emit typed` summary of every function defined in `file` and every model.
pub fn program_summary(program: &Program, file: crate::source::FileId) -> String {
    let mut parts: Vec<String> = program
        .functions
        .iter()
        .filter(|f| f.span.file == file)
        .map(|f| function_summary(f, program))
        .collect();
    parts.extend(program.models.iter().map(|m| model_summary(m, program)));
    parts.join("\n")
}

/// The `--emit typed` summary of a checked model.
pub fn model_summary(m: &Model, program: &Program) -> String {
    let var = |v: Var| m.var_name(v).to_string();
    let function = |i: usize| {
        program
            .functions
            .get(i)
            .map_or_else(|| format!("fn{i}"), |f| f.name.clone())
    };
    let names = Names {
        var: &var,
        function: &function,
    };
    let ex = |e: &TExpr| expr_with(e, &names);
    let mut o = String::new();
    let calculus = match m.calculus {
        Calculus::Ito => "Itô",
        Calculus::Stratonovich => "Stratonovich",
    };
    let _ = writeln!(o, "model {}", m.name);
    let _ = writeln!(o, "  kind: {}", m.kind);
    if let Some(noise) = m.noise {
        let _ = writeln!(o, "  noise: {noise} ({calculus})");
    }
    if let Some(doc) = &m.doc {
        let _ = writeln!(o, "  doc: {doc:?}");
    }
    let bounds = |t: &Type, b: &Bounds| -> String {
        let mut parts = Vec::new();
        if let Some(l) = &b.lower {
            parts.push(format!("lower={}", ex(l)));
        }
        if let Some(u) = &b.upper {
            parts.push(format!("upper={}", ex(u)));
        }
        if parts.is_empty() {
            t.to_string()
        } else {
            let base = t.scalar.name();
            let dims = t.to_string()[base.len()..].to_string();
            format!("{base}<{}>{dims}", parts.join(", "))
        }
    };
    let dist = |d: &DistCall| -> String {
        let args: Vec<String> = d.args.iter().map(ex).collect();
        format!("{}({})", d.dist.name(), args.join(", "))
    };
    section(
        &mut o,
        "consts",
        m.consts
            .iter()
            .map(|c| format!("{}: {} = {}", c.name, c.ty, c.value)),
    );
    section(
        &mut o,
        "params",
        m.params.iter().map(|p| {
            let mut s = format!("{}: {}", p.name, bounds(&p.ty, &p.bounds));
            if let Some(d) = &p.default {
                s += &format!(" = {}", ex(d));
            }
            if let Some(d) = &p.prior {
                s += &format!(" ~ {}", dist(d));
            }
            s
        }),
    );
    section(
        &mut o,
        "data",
        m.data
            .iter()
            .map(|d| format!("{}: {}", d.name, bounds(&d.ty, &d.bounds))),
    );
    section(
        &mut o,
        "obs",
        m.obs
            .iter()
            .map(|d| format!("{}: {}", d.name, bounds(&d.ty, &d.bounds))),
    );
    section(
        &mut o,
        "states",
        m.states.iter().map(|s| {
            let mut out = format!("{}: {}", s.name, bounds(&s.ty, &s.bounds));
            if s.boundary == Some(Boundary::Reflect) {
                out += " reflect";
            }
            match &s.init {
                StateInit::Value(v) => out += &format!(" = {}", ex(v)),
                StateInit::Random(d) => out += &format!(" ~ {}", dist(d)),
                StateInit::UniformSpin => out += " (uniform random spins)",
            }
            out
        }),
    );
    section(
        &mut o,
        "species",
        m.species
            .iter()
            .map(|s| format!("{} = {}", s.name, ex(&s.init))),
    );
    section(
        &mut o,
        "noises",
        m.noises.iter().map(|n| {
            format!(
                "{}: {}{}",
                n.name,
                n.ty,
                if n.implicit { " (implicit)" } else { "" }
            )
        }),
    );
    section(
        &mut o,
        "lets",
        m.lets.iter().map(|l| {
            let role = match l.role {
                LetRole::Let => "",
                LetRole::Output => "output ",
                LetRole::Potential => "potential ",
                LetRole::Energy => "energy ",
            };
            format!("{role}{}: {} = {}", l.name, l.ty, ex(&l.value))
        }),
    );
    if !m.equations.is_empty() {
        let _ = writeln!(o, "  equations:");
        for e in &m.equations {
            let mut lhs = format!("d{}", m.states[e.state].name);
            if !e.indices.is_empty() {
                let idx: Vec<String> = e.indices.iter().map(ex).collect();
                lhs += &format!("[{}]", idx.join(", "));
            }
            let _ = writeln!(o, "    {lhs}{}", for_text(&e.binders, &names));
            if let Some(d) = &e.drift {
                let _ = writeln!(o, "      dt: {}", ex(d));
            }
            for t in &e.diffusion {
                let mut w = format!("d{}", m.noises[t.noise].name);
                if !t.index.is_empty() {
                    let idx: Vec<String> = t.index.iter().map(ex).collect();
                    w += &format!("[{}]", idx.join(", "));
                }
                let _ = writeln!(o, "      {w}: {}", ex(&t.coeff));
            }
        }
    }
    if !m.reactions.is_empty() {
        let _ = writeln!(o, "  reactions:");
        for r in &m.reactions {
            let side = |c: &[(usize, u32)]| -> String {
                if c.is_empty() {
                    return "∅".to_string();
                }
                c.iter()
                    .map(|&(s, k)| {
                        if k == 1 {
                            m.species[s].name.clone()
                        } else {
                            format!("{k} {}", m.species[s].name)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            let law = match r.law {
                RateLaw::MassAction => "mass action",
                RateLaw::Propensity => "propensity",
            };
            let net: Vec<String> = r
                .net_change()
                .iter()
                .map(|&(s, d)| format!("{}{:+}", m.species[s].name, d))
                .collect();
            let _ = writeln!(
                o,
                "    {}: {} -> {} ({law} {}) [{}]",
                r.name,
                side(&r.reactants),
                side(&r.products),
                ex(&r.rate),
                net.join(", ")
            );
        }
    }
    for j in &m.jumps {
        let _ = writeln!(
            o,
            "  jump {}{} @ {}",
            j.name,
            for_text(&j.binders, &names),
            ex(&j.rate)
        );
        actions(&mut o, &j.actions, m, &names, &dist);
    }
    for e in &m.events {
        match &e.trigger {
            Trigger::At(t) => {
                let _ = writeln!(o, "  at t = {}", ex(t));
            }
            Trigger::When(c) => {
                let _ = writeln!(o, "  when {}", ex(c));
            }
        }
        actions(&mut o, &e.actions, m, &names, &dist);
    }
    if !m.tildes.is_empty() {
        let _ = writeln!(o, "  distributions:");
        for t in &m.tildes {
            let mut lhs = m.var_name(t.target).to_string();
            if !t.indices.is_empty() {
                let idx: Vec<String> = t.indices.iter().map(ex).collect();
                lhs += &format!("[{}]", idx.join(", "));
            }
            let role = match t.role {
                TildeRole::Prior => "prior",
                TildeRole::Likelihood => "likelihood",
                TildeRole::Observation => "observation",
            };
            let _ = writeln!(
                o,
                "    {role}: {lhs} ~ {}{}",
                dist(&t.dist),
                for_text(&t.binders, &names)
            );
        }
    }
    o
}

fn section(o: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(o, "  {title}:");
    for l in lines {
        let _ = writeln!(o, "    {l}");
    }
}

fn for_text(binders: &[Binder], n: &Names) -> String {
    if binders.is_empty() {
        return String::new();
    }
    let mut s = String::from(" for ");
    binder_list(&mut s, binders, n);
    s
}

fn actions(
    o: &mut String,
    acts: &[Action],
    m: &Model,
    n: &Names,
    dist: &dyn Fn(&DistCall) -> String,
) {
    for a in acts {
        let line = match a {
            Action::Draw { local, dist: d } => {
                format!("let {} ~ {}", m.locals[*local].name, dist(d))
            }
            Action::Let { local, value } => {
                format!("let {} = {}", m.locals[*local].name, expr_with(value, n))
            }
            Action::Assign {
                target,
                indices,
                value,
                ..
            } => {
                let mut lhs = m.var_name(*target).to_string();
                if !indices.is_empty() {
                    let idx: Vec<String> = indices.iter().map(|i| expr_with(i, n)).collect();
                    lhs += &format!("[{}]", idx.join(", "));
                }
                format!("{lhs} = {}", expr_with(value, n))
            }
        };
        let _ = writeln!(o, "    {line}");
    }
}

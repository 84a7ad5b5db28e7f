//! `ito check --emit ast`: the tree as an indented outline, expressions as fully
//! parenthesised prefix forms so precedence is visible: `(+ (* a b) c)`.

use super::ast::*;
use crate::source::{SourceMap, Span};
use std::fmt::Write;

pub fn print_file(file: &File, sources: &SourceMap) -> String {
    let mut p = Printer {
        out: String::new(),
        sources,
    };
    for item in &file.items {
        match item {
            Item::Import(i) => {
                let alias = i.alias.as_ref().map(|a| format!(" as {}", a.name));
                p.line(
                    0,
                    i.span,
                    &format!("import \"{}\"{}", i.path, alias.unwrap_or_default()),
                );
            }
            Item::Function(f) => p.function(f),
            Item::Model(m) => p.model(m),
        }
    }
    p.out
}

struct Printer<'a> {
    out: String,
    sources: &'a SourceMap,
}

impl Printer<'_> {
    fn line(&mut self, indent: usize, span: Span, text: &str) {
        let f = self.sources.get(span.file);
        let (l1, c1) = f.line_col(span.start as usize);
        let (l2, c2) = f.line_col(span.end as usize);
        let _ = writeln!(
            self.out,
            "{:indent$}{text}  @{l1}:{c1}-{l2}:{c2}",
            "",
            indent = indent * 2
        );
    }

    fn text(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.out, "{:indent$}{text}", "", indent = indent * 2);
    }

    fn doc(&mut self, indent: usize, doc: &Option<String>) {
        if let Some(d) = doc {
            self.text(indent, &format!("doc {d:?}"));
        }
    }

    fn function(&mut self, f: &Function) {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name.name, ty(&p.ty)))
            .collect();
        let ret = f
            .ret
            .as_ref()
            .map(|t| format!(" -> {}", ty(t)))
            .unwrap_or_default();
        self.line(
            0,
            f.span,
            &format!("fn {}({}){}", f.name.name, params.join(", "), ret),
        );
        self.doc(1, &f.doc);
        for l in &f.lets {
            self.text(1, &format!("let {} = {}", l.name.name, expr(&l.value)));
        }
        self.text(1, &format!("= {}", expr(&f.body)));
    }

    fn model(&mut self, m: &Model) {
        self.line(0, m.span, &format!("model {}", m.name.name));
        self.doc(1, &m.doc);
        for s in &m.stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        let head = match &s.kind {
            StmtKind::Const { name, ty: t, value } => {
                format!("const {}{} = {}", name.name, opt_ty(t), expr(value))
            }
            StmtKind::Param {
                name,
                ty: t,
                default,
                prior,
            } => {
                let mut h = format!("param {}{}", name.name, opt_ty(t));
                if let Some(d) = default {
                    h += &format!(" = {}", expr(d));
                }
                if let Some(p) = prior {
                    h += &format!(" ~ {}", dist(p));
                }
                h
            }
            StmtKind::Data { name, ty: t } => format!("data {}: {}", name.name, ty(t)),
            StmtKind::Obs { name, ty: t } => format!("obs {}: {}", name.name, ty(t)),
            StmtKind::State {
                name,
                ty: t,
                boundary,
                init,
            } => {
                let mut h = format!("state {}{}", name.name, opt_ty(t));
                if let Some(b) = boundary {
                    h += &format!(" {}", b.name);
                }
                match init {
                    Some(StateInit::Value(e)) => h += &format!(" = {}", expr(e)),
                    Some(StateInit::Random(d)) => h += &format!(" ~ {}", dist(d)),
                    None => {}
                }
                h
            }
            StmtKind::Species(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| match &i.init {
                        Some(e) => format!("{} = {}", i.name.name, expr(e)),
                        None => i.name.name.clone(),
                    })
                    .collect();
                format!("species {}", parts.join(", "))
            }
            StmtKind::Noise(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| format!("{}{}", i.name.name, opt_ty(&i.ty)))
                    .collect();
                format!("noise {}", parts.join(", "))
            }
            StmtKind::Let {
                output,
                name,
                ty: t,
                value,
            } => format!(
                "{}let {}{} = {}",
                if *output { "output " } else { "" },
                name.name,
                opt_ty(t),
                expr(value)
            ),
            StmtKind::Calculus(c) => format!("calculus {}", c.name),
            StmtKind::Reactions(rs) => {
                self.line(1, s.span, "reactions");
                for r in rs {
                    let label = r
                        .label
                        .as_ref()
                        .map(|l| format!("{}: ", l.name))
                        .unwrap_or_default();
                    let rates: Vec<String> = r.rates.iter().map(expr).collect();
                    self.line(
                        2,
                        r.span,
                        &format!(
                            "{label}{} {} {} @ {}",
                            complex(&r.reactants),
                            r.arrow.as_str(),
                            complex(&r.products),
                            rates.join(", ")
                        ),
                    );
                }
                return;
            }
            StmtKind::Jump(j) => {
                let b = binders(&j.binders);
                self.line(
                    1,
                    s.span,
                    &format!("jump {}{} @ {}", j.name.name, b, expr(&j.rate)),
                );
                self.body(&j.body);
                return;
            }
            StmtKind::At { var, time, body } => {
                self.line(1, s.span, &format!("at {} = {}", var.name, expr(time)));
                self.body(body);
                return;
            }
            StmtKind::When { cond, body } => {
                self.line(1, s.span, &format!("when {}", expr(cond)));
                self.body(body);
                return;
            }
            StmtKind::Potential { name, value } => {
                format!("potential {} = {}", name.name, expr(value))
            }
            StmtKind::Energy { name, value } => format!("energy {} = {}", name.name, expr(value)),
            StmtKind::Equation {
                target,
                rhs,
                binders: b,
            } => format!(
                "equation {} = {}{}",
                lvalue(target),
                expr(rhs),
                for_clause(b)
            ),
            StmtKind::Tilde {
                target,
                dist: d,
                binders: b,
            } => format!("tilde {} ~ {}{}", lvalue(target), dist(d), for_clause(b)),
            StmtKind::Error { names } => {
                let n: Vec<&str> = names.iter().map(|i| i.name.as_str()).collect();
                format!("error (declares {})", n.join(", "))
            }
        };
        self.line(1, s.span, &head);
        self.doc(2, &s.doc);
    }

    fn body(&mut self, body: &[BodyStmt]) {
        for b in body {
            let text = match &b.kind {
                BodyKind::Draw { name, dist: d } => format!("let {} ~ {}", name.name, dist(d)),
                BodyKind::Let(l) => {
                    format!("let {}{} = {}", l.name.name, opt_ty(&l.ty), expr(&l.value))
                }
                BodyKind::Assign { target, op, value } => {
                    format!("{} {} {}", lvalue(target), op.as_str(), expr(value))
                }
                BodyKind::Error => "error".to_string(),
            };
            self.line(2, b.span, &text);
        }
    }
}

fn opt_ty(t: &Option<TypeExpr>) -> String {
    t.as_ref()
        .map(|t| format!(": {}", ty(t)))
        .unwrap_or_default()
}

fn ty(t: &TypeExpr) -> String {
    let mut s = t.base.name.clone();
    if !t.constraints.is_empty() {
        let c: Vec<String> = t
            .constraints
            .iter()
            .map(|c| format!("{}={}", c.name.name, expr(&c.value)))
            .collect();
        s += &format!("<{}>", c.join(", "));
    }
    if !t.dims.is_empty() {
        let d: Vec<String> = t.dims.iter().map(expr).collect();
        s += &format!("[{}]", d.join(", "));
    }
    s
}

fn lvalue(l: &LValue) -> String {
    if l.indices.is_empty() {
        l.name.name.clone()
    } else {
        let i: Vec<String> = l.indices.iter().map(expr).collect();
        format!("{}[{}]", l.name.name, i.join(", "))
    }
}

fn binders(b: &[Binder]) -> String {
    if b.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = b.iter().map(binder).collect();
    format!("[{}]", parts.join(", "))
}

fn binder(b: &Binder) -> String {
    format!("{} in {}..{}", b.var.name, expr(&b.lo), expr(&b.hi))
}

fn for_clause(b: &[Binder]) -> String {
    if b.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = b.iter().map(binder).collect();
    format!(" for {}", parts.join(", "))
}

fn complex(c: &Complex) -> String {
    if c.terms.is_empty() {
        return "∅".to_string();
    }
    let parts: Vec<String> = c
        .terms
        .iter()
        .map(|t| match &t.coeff {
            Some((k, _)) => format!("{k} {}", t.species.name),
            None => t.species.name.clone(),
        })
        .collect();
    parts.join(" + ")
}

fn qual(q: &QualName) -> String {
    match &q.module {
        Some(m) => format!("{}.{}", m.name, q.name.name),
        None => q.name.name.clone(),
    }
}

fn dist(d: &Distribution) -> String {
    let a: Vec<String> = d.args.iter().map(expr).collect();
    format!("{}({})", qual(&d.name), a.join(", "))
}

/// An expression as a fully parenthesised prefix form.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Real(v) => format!("{v:?}"),
        ExprKind::Bool(v) => v.to_string(),
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::Unary { op, operand } => {
            let o = match op {
                UnOp::Neg => "-",
                UnOp::Not => "!",
                UnOp::Plus => "+",
            };
            format!("({o} {})", expr(operand))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let o = if *op == BinOp::Juxtapose {
                "juxt"
            } else {
                op.as_str()
            };
            format!("({o} {} {})", expr(lhs), expr(rhs))
        }
        ExprKind::Call { func, args } => {
            let a: Vec<String> = args.iter().map(expr).collect();
            format!("{}({})", qual(func), a.join(", "))
        }
        ExprKind::Index { base, indices } => {
            let i: Vec<String> = indices.iter().map(expr).collect();
            format!("{}[{}]", expr(base), i.join(", "))
        }
        ExprKind::Array(items) => {
            let i: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", i.join(", "))
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => format!("(if {} {} {})", expr(cond), expr(then), expr(otherwise)),
        ExprKind::Reduce {
            op,
            binders: b,
            body,
        } => {
            let parts: Vec<String> = b.iter().map(binder).collect();
            format!("({} [{}] {})", op.name, parts.join(", "), expr(body))
        }
        ExprKind::Error => "<error>".to_string(),
    }
}

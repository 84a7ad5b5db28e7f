//! pest parse tree → AST. Statements that did not parse are re-parsed on their own to report a
//! precise error (see `errors.rs`), and the rest of the file is still built.

use super::ast::*;
use super::errors::{StrictRule, translate};
use super::expr::ExprBuilder;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;
use std::collections::HashSet;

#[derive(Parser)]
#[grammar = "../grammar/ito.pest"]
pub(crate) struct ItoParser;

pub(crate) type P<'i> = Pair<'i, Rule>;

/// Builds AST nodes from pest pairs, collecting diagnostics as it goes.
pub(crate) struct Builder<'s> {
    pub file: FileId,
    pub text: &'s str,
    pub diags: Vec<Diagnostic>,
    /// Tree depth of the expression built last (see `expr.rs`).
    pub last_depth: u32,
    /// Names declared by the statements of the model being built that parsed: a statement
    /// that failed and starts with one of them does not start with a misspelled keyword.
    pub declared: HashSet<String>,
}

/// Parse a whole file. Always returns a tree (possibly with `Error` nodes) and the syntax
/// diagnostics found.
pub fn parse_file(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let mut b = Builder {
        file,
        text,
        diags: Vec::new(),
        last_depth: 0,
        declared: HashSet::new(),
    };
    let items = match ItoParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let root = pairs.next().expect("the file rule produces one pair");
            b.items(root)
        }
        Err(e) => {
            // The recovery rules make this rare (a resource limit, for example).
            b.diags.push(translate(
                &e,
                file,
                0,
                text,
                StrictRule::File,
                &HashSet::new(),
            ));
            Vec::new()
        }
    };
    (File { file, items }, b.diags)
}

/// Parse an expression on its own (the REPL's input).
pub fn parse_expr(file: FileId, text: &str) -> Result<Expr, Vec<Diagnostic>> {
    let mut b = Builder {
        file,
        text,
        diags: Vec::new(),
        last_depth: 0,
        declared: HashSet::new(),
    };
    let root = ItoParser::parse(Rule::expr_only, text)
        .map_err(|e| {
            vec![translate(
                &e,
                file,
                0,
                text,
                StrictRule::Expr,
                &HashSet::new(),
            )]
        })?
        .next()
        .expect("the expr_only rule produces one pair");
    let pair = root
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .expect("expr_only holds an expression");
    let e = b.expr(pair);
    if crate::diag::has_errors(&b.diags) {
        Err(b.diags)
    } else {
        Ok(e)
    }
}

impl<'s> Builder<'s> {
    pub fn span(&self, pair: &P) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    pub fn ident(&self, pair: P) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    /// Re-parse a slice the recovery rules skipped and report why it did not parse.
    fn report_bad(&mut self, pair: &P, rule: StrictRule) {
        // Literal tokens (`=`, `)`) in "expected …" need pest's detailed error tracking. It
        // costs more than the whole parse, so it is switched on only once a statement has
        // failed; the flag is process-wide and never switched off again, so concurrent
        // parses always report alike.
        pest::set_error_detail(true);
        let start = pair.as_span().start();
        let slice = pair.as_str();
        let diag = match rule.parse(slice) {
            Err(e) => translate(&e, self.file, start, self.text, rule, &self.declared),
            // Parses alone but not in place: the context is wrong (e.g. two statements on one
            // line without `;`).
            Ok(()) => Diagnostic::new(
                Code::Syntax,
                self.span(pair),
                "this does not fit here",
                "unexpected here",
            )
            .with_help("put each statement on its own line or separate them with `;`"),
        };
        self.diags.push(diag);
    }

    fn items(&mut self, root: P) -> Vec<Item> {
        let mut items = Vec::new();
        let mut doc = None;
        for pair in root.into_inner() {
            match pair.as_rule() {
                Rule::doc_block => doc = Some(doc_text(pair)),
                Rule::bad_item => {
                    self.report_bad(&pair, StrictRule::Item);
                    doc = None;
                }
                Rule::import => {
                    items.push(Item::Import(self.import(pair)));
                    doc = None;
                }
                Rule::function => {
                    items.push(Item::Function(Box::new(self.function(pair, doc.take()))))
                }
                Rule::model => items.push(Item::Model(self.model(pair, doc.take()))),
                Rule::EOI => {}
                r => unreachable!("unexpected rule at top level: {r:?}"),
            }
        }
        items
    }

    fn import(&mut self, pair: P) -> Import {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // kw_import
        let string = inner.next().expect("import has a path");
        let path_span = self.span(&string);
        let path = string
            .into_inner()
            .next()
            .map_or("", |p| p.as_str())
            .to_string();
        let alias = inner.nth(1).map(|p| self.ident(p));
        Import {
            path,
            path_span,
            alias,
            span,
        }
    }

    fn function(&mut self, pair: P, doc: Option<String>) -> Function {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(inner.next().expect("fn name"));
        let mut params = Vec::new();
        let mut ret = None;
        let mut lets = Vec::new();
        let mut body = None;
        for p in inner {
            match p.as_rule() {
                Rule::fn_params => {
                    for fp in p.into_inner() {
                        let mut it = fp.into_inner();
                        let name = self.ident(it.next().expect("param name"));
                        let ty = self.type_expr(it.next().expect("param type"));
                        params.push(FnParam { name, ty });
                    }
                }
                Rule::type_expr => ret = Some(self.type_expr(p)),
                Rule::fn_expr_body => body = Some(self.expr(p.into_inner().next().expect("body"))),
                Rule::fn_block => {
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::local_let => lets.push(self.local_let(q)),
                            _ => body = Some(self.expr(q)),
                        }
                    }
                }
                r => unreachable!("unexpected rule in fn: {r:?}"),
            }
        }
        Function {
            doc,
            name,
            params,
            ret,
            lets,
            body: body.expect("a function has a body"),
            span,
        }
    }

    fn model(&mut self, pair: P, doc: Option<String>) -> Model {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(inner.next().expect("model name"));
        // Statements that parsed first, so that those that did not are explained knowing
        // which names the model declares.
        let mut stmts = Vec::new();
        let mut bad = Vec::new();
        let mut doc_next = None;
        for p in inner {
            match p.as_rule() {
                Rule::doc_block => doc_next = Some(doc_text(p)),
                Rule::bad_stmt => {
                    bad.push((stmts.len(), p.clone()));
                    stmts.push(Stmt {
                        doc: doc_next.take(),
                        kind: StmtKind::Error { names: Vec::new() },
                        span: self.span(&p),
                    });
                }
                _ => {
                    let stmt_span = self.span(&p);
                    let kind = self.stmt(p);
                    stmts.push(Stmt {
                        doc: doc_next.take(),
                        kind,
                        span: stmt_span,
                    });
                }
            }
        }
        self.declared = stmts
            .iter()
            .flat_map(|s| s.kind.declared_names())
            .map(|i| i.name.clone())
            .collect();
        for (k, p) in bad {
            self.report_bad(&p, StrictRule::Stmt);
            let names = recovered_names(p.as_str(), self.file, p.as_span().start(), &self.declared);
            stmts[k].kind = StmtKind::Error { names };
        }
        self.declared.clear();
        Model {
            doc,
            name,
            stmts,
            span,
        }
    }

    fn stmt(&mut self, pair: P) -> StmtKind {
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        match rule {
            Rule::const_decl => {
                inner.next();
                let name = self.ident(inner.next().expect("name"));
                let (ty, rest) = self.opt_type(&mut inner);
                let value = self.init(rest.expect("const has a value"));
                StmtKind::Const { name, ty, value }
            }
            Rule::param_decl => {
                inner.next();
                let name = self.ident(inner.next().expect("name"));
                let mut ty = None;
                let mut default = None;
                let mut prior = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::type_ann => ty = Some(self.type_ann(p)),
                        Rule::init => default = Some(self.init(p)),
                        Rule::prior => prior = Some(self.prior(p)),
                        r => unreachable!("param: {r:?}"),
                    }
                }
                StmtKind::Param {
                    name,
                    ty,
                    default,
                    prior,
                }
            }
            Rule::data_decl | Rule::obs_decl => {
                inner.next();
                let name = self.ident(inner.next().expect("name"));
                let ty = self.type_ann(inner.next().expect("type"));
                if rule == Rule::data_decl {
                    StmtKind::Data { name, ty }
                } else {
                    StmtKind::Obs { name, ty }
                }
            }
            Rule::state_decl => {
                inner.next();
                let name = self.ident(inner.next().expect("name"));
                let mut ty = None;
                let mut boundary = None;
                let mut init = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::type_ann => ty = Some(self.type_ann(p)),
                        Rule::boundary => {
                            boundary =
                                Some(self.ident(p.into_inner().next().expect("boundary name")))
                        }
                        Rule::init => init = Some(StateInit::Value(self.init(p))),
                        Rule::prior => init = Some(StateInit::Random(self.prior(p))),
                        r => unreachable!("state: {r:?}"),
                    }
                }
                StmtKind::State {
                    name,
                    ty,
                    boundary,
                    init,
                }
            }
            Rule::species_decl => StmtKind::Species(
                inner
                    .skip(1)
                    .map(|item| {
                        let mut it = item.into_inner();
                        let name = self.ident(it.next().expect("name"));
                        let init = it.next().map(|p| self.init(p));
                        SpeciesItem { name, init }
                    })
                    .collect(),
            ),
            Rule::noise_decl => StmtKind::Noise(
                inner
                    .skip(1)
                    .map(|item| {
                        let mut it = item.into_inner();
                        let name = self.ident(it.next().expect("name"));
                        let ty = it.next().map(|p| self.type_ann(p));
                        NoiseItem { name, ty }
                    })
                    .collect(),
            ),
            Rule::let_decl => {
                let mut output = false;
                let mut first = inner.next().expect("let keyword");
                if first.as_rule() == Rule::output_flag {
                    output = true;
                    first = inner.next().expect("let keyword");
                }
                debug_assert_eq!(first.as_rule(), Rule::kw_let);
                let name = self.ident(inner.next().expect("name"));
                let (ty, rest) = self.opt_type(&mut inner);
                let value = self.init(rest.expect("let has a value"));
                StmtKind::Let {
                    output,
                    name,
                    ty,
                    value,
                }
            }
            Rule::calculus_decl => StmtKind::Calculus(self.ident(inner.nth(1).expect("calculus"))),
            Rule::potential_decl | Rule::energy_decl => {
                inner.next();
                let name = self.ident(inner.next().expect("name"));
                let value = self.init(inner.next().expect("value"));
                if rule == Rule::potential_decl {
                    StmtKind::Potential { name, value }
                } else {
                    StmtKind::Energy { name, value }
                }
            }
            Rule::reactions_block => {
                let mut reactions = Vec::new();
                for p in inner.skip(1) {
                    match p.as_rule() {
                        // Reactions carry no documentation in the typed model yet.
                        Rule::doc_block => {}
                        Rule::reaction => reactions.push(self.reaction(p)),
                        Rule::bad_stmt => self.report_bad(&p, StrictRule::Reaction),
                        r => unreachable!("reactions: {r:?}"),
                    }
                }
                StmtKind::Reactions(reactions)
            }
            Rule::reaction_stmt => {
                StmtKind::Reactions(vec![self.reaction(inner.nth(1).expect("reaction"))])
            }
            Rule::jump_decl => {
                inner.next();
                let name = self.ident(inner.next().expect("name"));
                let mut binders = Vec::new();
                let mut rate = None;
                let mut body = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::jump_binders => {
                            binders = p.into_inner().map(|b| self.binder(b)).collect()
                        }
                        Rule::expr => rate = Some(self.expr(p)),
                        Rule::body => body = self.body(p),
                        r => unreachable!("jump: {r:?}"),
                    }
                }
                StmtKind::Jump(Jump {
                    name,
                    binders,
                    rate: rate.expect("a jump has a rate"),
                    body,
                })
            }
            Rule::at_event => {
                inner.next();
                let var = self.ident(inner.next().expect("t"));
                let time = self.expr(inner.next().expect("time"));
                let body = self.body(inner.next().expect("body"));
                StmtKind::At { var, time, body }
            }
            Rule::when_event => {
                inner.next();
                let cond = self.expr(inner.next().expect("condition"));
                let body = self.body(inner.next().expect("body"));
                StmtKind::When { cond, body }
            }
            Rule::equation => {
                let target = self.lvalue(inner.next().expect("lhs"));
                let rhs = self.expr(inner.next().expect("rhs"));
                let binders = inner.next().map(|p| self.for_clause(p)).unwrap_or_default();
                StmtKind::Equation {
                    target,
                    rhs,
                    binders,
                }
            }
            Rule::tilde_stmt => {
                let target = self.lvalue(inner.next().expect("lhs"));
                let dist = self.distribution(inner.next().expect("distribution"));
                let binders = inner.next().map(|p| self.for_clause(p)).unwrap_or_default();
                StmtKind::Tilde {
                    target,
                    dist,
                    binders,
                }
            }
            r => unreachable!("unexpected statement rule {r:?}"),
        }
    }

    /// An optional `: type` followed by the next pair.
    fn opt_type<'i>(
        &mut self,
        inner: &mut pest::iterators::Pairs<'i, Rule>,
    ) -> (Option<TypeExpr>, Option<P<'i>>) {
        match inner.next() {
            Some(p) if p.as_rule() == Rule::type_ann => (Some(self.type_ann(p)), inner.next()),
            other => (None, other),
        }
    }

    fn type_ann(&mut self, pair: P) -> TypeExpr {
        self.type_expr(pair.into_inner().next().expect("type"))
    }

    pub fn type_expr(&mut self, pair: P) -> TypeExpr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let base = self.ident(inner.next().expect("base type"));
        let mut constraints = Vec::new();
        let mut dims = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::constraints => {
                    for c in p.into_inner() {
                        let mut it = c.into_inner();
                        let name = self.ident(it.next().expect("constraint name"));
                        let value = self.expr(it.next().expect("constraint value"));
                        constraints.push(Constraint { name, value });
                    }
                }
                Rule::dims => dims = p.into_inner().map(|d| self.expr(d)).collect(),
                r => unreachable!("type: {r:?}"),
            }
        }
        TypeExpr {
            base,
            constraints,
            dims,
            span,
        }
    }

    fn init(&mut self, pair: P) -> Expr {
        self.expr(pair.into_inner().next().expect("init value"))
    }

    fn prior(&mut self, pair: P) -> Distribution {
        self.distribution(pair.into_inner().next().expect("prior"))
    }

    pub fn distribution(&mut self, pair: P) -> Distribution {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.qual_name(inner.next().expect("distribution name"));
        let args = inner.next().map(|a| self.args(a)).unwrap_or_default();
        Distribution { name, args, span }
    }

    pub fn qual_name(&mut self, pair: P) -> QualName {
        let span = self.span(&pair);
        let mut parts: Vec<Ident> = pair.into_inner().map(|p| self.ident(p)).collect();
        let name = parts.pop().expect("qualified name has a name");
        QualName {
            module: parts.pop(),
            name,
            span,
        }
    }

    pub fn args(&mut self, pair: P) -> Vec<Expr> {
        pair.into_inner().map(|a| self.expr(a)).collect()
    }

    fn lvalue(&mut self, pair: P) -> LValue {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("name"));
        let indices = inner.next().map(|p| self.index(p)).unwrap_or_default();
        LValue {
            name,
            indices,
            span,
        }
    }

    pub fn index(&mut self, pair: P) -> Vec<Expr> {
        pair.into_inner().map(|e| self.expr(e)).collect()
    }

    fn for_clause(&mut self, pair: P) -> Vec<Binder> {
        pair.into_inner().skip(1).map(|b| self.binder(b)).collect()
    }

    pub fn binder(&mut self, pair: P) -> Binder {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let var = self.ident(inner.next().expect("binder var"));
        let range = inner.nth(1).expect("range");
        let mut bounds = range.into_inner();
        let lo = self.expr(bounds.next().expect("lower bound"));
        let hi = self.expr(bounds.next().expect("upper bound"));
        Binder { var, lo, hi, span }
    }

    fn reaction(&mut self, pair: P) -> Reaction {
        let span = self.span(&pair);
        let mut label = None;
        let mut complexes = Vec::new();
        let mut arrow = None;
        let mut rates = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::reaction_label => {
                    label = Some(self.ident(p.into_inner().next().expect("label")))
                }
                Rule::complex => complexes.push(self.complex(p)),
                Rule::arrow => {
                    let a = match p.as_str() {
                        "->" => Arrow::MassAction,
                        "=>" => Arrow::Propensity,
                        "<->" => Arrow::ReversibleMassAction,
                        _ => Arrow::ReversiblePropensity,
                    };
                    arrow = Some((a, self.span(&p)));
                }
                Rule::expr => rates.push(self.expr(p)),
                r => unreachable!("reaction: {r:?}"),
            }
        }
        let (arrow, arrow_span) = arrow.expect("a reaction has an arrow");
        let products = complexes.pop().expect("products");
        let reactants = complexes.pop().expect("reactants");
        Reaction {
            label,
            reactants,
            arrow,
            arrow_span,
            products,
            rates,
            span,
        }
    }

    fn complex(&mut self, pair: P) -> Complex {
        let span = self.span(&pair);
        let mut terms = Vec::new();
        for p in pair.into_inner() {
            if p.as_rule() != Rule::complex_term {
                continue; // the empty complex
            }
            let term_span = self.span(&p);
            let mut coeff = None;
            let mut species = None;
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::stoich => coeff = Some((q.as_str().to_string(), self.span(&q))),
                    _ => species = Some(self.ident(q)),
                }
            }
            terms.push(ComplexTerm {
                coeff,
                species: species.expect("a complex term names a species"),
                span: term_span,
            });
        }
        Complex { terms, span }
    }

    fn body(&mut self, pair: P) -> Vec<BodyStmt> {
        let mut out = Vec::new();
        for p in pair.into_inner() {
            let span = self.span(&p);
            let kind = match p.as_rule() {
                Rule::draw_stmt => {
                    let mut it = p.into_inner().skip(1);
                    let name = self.ident(it.next().expect("name"));
                    let dist = self.distribution(it.next().expect("distribution"));
                    BodyKind::Draw { name, dist }
                }
                Rule::local_let => BodyKind::Let(self.local_let(p)),
                Rule::assignment => {
                    let mut it = p.into_inner();
                    let target = self.lvalue(it.next().expect("target"));
                    let op = match it.next().expect("operator").as_str() {
                        "+=" => AssignOp::Add,
                        "-=" => AssignOp::Sub,
                        "*=" => AssignOp::Mul,
                        "/=" => AssignOp::Div,
                        _ => AssignOp::Set,
                    };
                    let value = self.expr(it.next().expect("value"));
                    BodyKind::Assign { target, op, value }
                }
                Rule::bad_stmt => {
                    self.report_bad(&p, StrictRule::Body);
                    BodyKind::Error
                }
                r => unreachable!("body: {r:?}"),
            };
            out.push(BodyStmt { kind, span });
        }
        out
    }

    pub fn local_let(&mut self, pair: P) -> LocalLet {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // kw_let
        let name = self.ident(inner.next().expect("name"));
        let (ty, rest) = self.opt_type(&mut inner);
        let value = self.init(rest.expect("let has a value"));
        LocalLet {
            name,
            ty,
            value,
            span,
        }
    }

    pub fn expr(&mut self, pair: P) -> Expr {
        ExprBuilder::build(self, pair)
    }
}

fn doc_text(pair: P) -> String {
    pair.into_inner()
        .map(|d| {
            let text = d.into_inner().next().map_or("", |t| t.as_str());
            text.strip_prefix(' ')
                .unwrap_or(text)
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names a statement that failed to parse seems to declare (`state x …`, `species A = 1, B`,
/// also `parm k = 1` and two declarations run together on one line), so that later uses of
/// them are not reported as unknown.
fn recovered_names(
    text: &str,
    file: FileId,
    offset: usize,
    declared: &HashSet<String>,
) -> Vec<Ident> {
    use super::DECLARATION_KEYWORDS as DECL;
    let words = words(text);
    let misspelled = super::misspelled_keyword(text, &DECL, declared).is_some();
    let is_decl = |k: usize, w: &str| DECL.contains(&w) || (k == 0 && misspelled);
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut k = 0;
    while k < words.len() {
        let (_, w) = words[k];
        k += 1;
        if !is_decl(k - 1, w) {
            continue;
        }
        let list = w == "species" || w == "noise";
        // The name, then (for lists) every name after a comma at bracket depth 0.
        let mut expect_name = true;
        let mut depth = 0i32;
        while k < words.len() {
            let (pos, word) = words[k];
            if DECL.contains(&word) {
                break;
            }
            if expect_name && word.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                names.push(Ident {
                    name: word.to_string(),
                    span: Span::new(file, offset + pos, offset + pos + word.len()),
                });
                expect_name = false;
            }
            let next = words.get(k + 1).map_or(text.len(), |(p, _)| *p);
            for &b in &bytes[pos + word.len()..next] {
                match b {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth -= 1,
                    b',' if depth == 0 && list => expect_name = true,
                    _ => {}
                }
            }
            k += 1;
        }
    }
    names
}

/// Word-like tokens of a text with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let word_char = c.is_alphanumeric() || c == '_';
        match (start, word_char) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_declared_names() {
        let names = |t: &str| -> Vec<String> {
            recovered_names(t, FileId(0), 0, &HashSet::new())
                .into_iter()
                .map(|i| i.name)
                .collect()
        };
        assert_eq!(names("state x = (1 +"), ["x"]);
        assert_eq!(names("output let m = = 3"), ["m"]);
        assert_eq!(names("species A = 1, B = f(2, 3), C"), ["A", "B", "C"]);
        assert!(names("dx = = 3").is_empty());
        assert_eq!(names("parm k: real = 1"), ["k"]);
        // A name, not a misspelled keyword: `beta` is not `data`.
        assert!(names("beta ~ Gamma(2, 1) 3").is_empty());
        let declared: HashSet<String> = ["dat".to_string()].into();
        assert!(recovered_names("dat x = 1 +", FileId(0), 0, &declared).is_empty());
        assert_eq!(
            names("state prey = 10.0 state predator = 5.0"),
            ["prey", "predator"]
        );
    }
}

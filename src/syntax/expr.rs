//! Operator precedence for the flat `operand (infix operand)*` sequences of the grammar.
//!
//! Precedence, loosest first: `if … then … else`, `||`, `&&`, comparisons (not chainable),
//! `+ -`, `* / %` and implicit multiplication by a differential, unary `- ! +` and reductions
//! `sum(i in …)`, `^` (right-associative), then indexing. A reduction's body extends over a
//! product: `sum(i in 1..N) a[i] * b[i] + c` is `(Σ a[i]·b[i]) + c`.

use super::ast::*;
use super::parser::{Builder, P, Rule};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;

/// Deepest expression tree accepted (counting operator chains, not only brackets).
pub const MAX_EXPR_DEPTH: u32 = 1000;

enum Tok<'i> {
    Prefix(P<'i>),
    Atom(Expr, u32),
    Infix(BinOp, Span),
}

struct TooDeep(Span);

pub(crate) struct ExprBuilder<'b, 's, 'i> {
    b: &'b mut Builder<'s>,
    toks: Vec<Tok<'i>>,
    pos: usize,
}

fn too_deep(at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TooDeep,
        at,
        format!("expression is too deep: more than {MAX_EXPR_DEPTH} levels of operations"),
        "limit reached here",
    )
    .with_note("each operator in a chain counts as a level: `a + b + c` has two")
    .with_help("split it into named parts with `let`, or write long sums as `sum(i in 1..N) …`")
}

fn infix_power(op: BinOp) -> (u8, u8) {
    match op {
        BinOp::Or => (1, 2),
        BinOp::And => (3, 4),
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (5, 6),
        BinOp::Add | BinOp::Sub => (7, 8),
        BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Juxtapose => (9, 10),
        BinOp::Pow => (13, 12),
    }
}
const UNARY_POWER: u8 = 11;
const REDUCE_POWER: u8 = 9;
const IF_POWER: u8 = 0;

fn op_of(text: &str) -> BinOp {
    match text {
        "||" => BinOp::Or,
        "&&" => BinOp::And,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Mod,
        "^" => BinOp::Pow,
        other => unreachable!("the grammar admits no operator {other:?}"),
    }
}

impl<'b, 's, 'i> ExprBuilder<'b, 's, 'i> {
    /// Build an `expr` or `arith_expr` pair.
    pub fn build(b: &'b mut Builder<'s>, pair: P<'i>) -> Expr {
        let span = b.span(&pair);
        let mut eb = ExprBuilder {
            b,
            toks: Vec::new(),
            pos: 0,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::infix_op | Rule::arith_op => {
                    let s = eb.b.span(&p);
                    eb.toks.push(Tok::Infix(op_of(p.as_str()), s));
                }
                Rule::operand => {
                    for q in p.into_inner() {
                        if q.as_rule() == Rule::postfix {
                            let (e, d) = eb.postfix(q);
                            eb.toks.push(Tok::Atom(e, d));
                        } else {
                            eb.toks.push(Tok::Prefix(q));
                        }
                    }
                }
                Rule::juxt => {
                    let s = eb.b.span(&p);
                    let at = Span { end: s.start, ..s };
                    eb.toks.push(Tok::Infix(BinOp::Juxtapose, at));
                    let (e, d) = eb.differential(p);
                    eb.toks.push(Tok::Atom(e, d));
                }
                r => unreachable!("unexpected rule in expression: {r:?}"),
            }
        }
        match eb.parse(0, 0) {
            Ok((e, depth)) => {
                eb.b.last_depth = depth;
                e
            }
            Err(TooDeep(at)) => {
                eb.b.last_depth = 1;
                eb.b.diags.push(too_deep(at));
                Expr {
                    kind: ExprKind::Error,
                    span,
                }
            }
        }
    }

    fn parse(&mut self, min_power: u8, depth: u32) -> Result<(Expr, u32), TooDeep> {
        if depth > MAX_EXPR_DEPTH {
            let at = self.current_span();
            return Err(TooDeep(at));
        }
        let (mut lhs, mut lhs_depth) = self.operand(depth)?;
        let mut last_comparison: Option<Span> = None;
        let mut chained = false;
        while let Some(Tok::Infix(op, op_span)) = self.toks.get(self.pos) {
            let (op, op_span) = (*op, *op_span);
            let (left, right) = infix_power(op);
            if left < min_power {
                break;
            }
            self.pos += 1;
            if op.is_comparison() {
                if let Some(prev) = last_comparison {
                    self.b.diags.push(
                        Diagnostic::new(
                            Code::ChainedComparison,
                            op_span,
                            "comparisons cannot be chained",
                            "second comparison",
                        )
                        .with_label(prev, "first comparison")
                        .with_help("combine them with `&&`: `a < b && b < c`"),
                    );
                    chained = true;
                }
                last_comparison = Some(op_span);
            }
            let (rhs, rhs_depth) = self.parse(right, depth + 1)?;
            lhs_depth = lhs_depth.max(rhs_depth) + 1;
            let span = lhs.span.to(rhs.span);
            if lhs_depth > MAX_EXPR_DEPTH {
                return Err(TooDeep(span));
            }
            lhs = Expr {
                kind: if chained {
                    // Already reported; typing `bool < real` would only repeat it.
                    ExprKind::Error
                } else {
                    ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    }
                },
                span,
            };
        }
        Ok((lhs, lhs_depth))
    }

    /// The span of the next token, for reporting where a limit was reached.
    fn current_span(&self) -> Span {
        match self.toks.get(self.pos) {
            Some(Tok::Atom(e, _)) => e.span,
            Some(Tok::Infix(_, s)) => *s,
            Some(Tok::Prefix(p)) => self.b.span(p),
            None => Span::default(),
        }
    }

    fn operand(&mut self, depth: u32) -> Result<(Expr, u32), TooDeep> {
        let at = self.pos;
        self.pos += 1;
        let tok = std::mem::replace(&mut self.toks[at], Tok::Infix(BinOp::Add, Span::default()));
        let prefix = match tok {
            Tok::Atom(e, d) => return Ok((e, d)),
            Tok::Prefix(p) => p,
            Tok::Infix(..) => unreachable!("the grammar puts an operand after every operator"),
        };
        let pspan = self.b.span(&prefix);
        if depth > MAX_EXPR_DEPTH {
            return Err(TooDeep(pspan));
        }
        let (kind, operand_depth, end) = match prefix.as_rule() {
            Rule::prefix_op => {
                let (operand, d) = self.parse(UNARY_POWER, depth + 1)?;
                let end = operand.span;
                let op = match prefix.as_str() {
                    "-" => UnOp::Neg,
                    "!" => UnOp::Not,
                    _ => UnOp::Plus,
                };
                (
                    ExprKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                    d,
                    end,
                )
            }
            Rule::if_head => {
                let mut parts = prefix.into_inner().filter(|p| p.as_rule() == Rule::expr);
                let cond = self.b.expr(parts.next().expect("condition"));
                let cond_depth = self.b.last_depth;
                let then = self.b.expr(parts.next().expect("then branch"));
                let then_depth = self.b.last_depth;
                let (otherwise, d) = self.parse(IF_POWER, depth + 1)?;
                let d = d.max(cond_depth).max(then_depth);
                let end = otherwise.span;
                (
                    ExprKind::If {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        otherwise: Box::new(otherwise),
                    },
                    d,
                    end,
                )
            }
            Rule::reduce_head => {
                let mut inner = prefix.into_inner();
                let op = self.b.ident(inner.next().expect("reduction name"));
                let binders = inner.map(|b| self.b.binder(b)).collect();
                let (body, d) = self.parse(REDUCE_POWER, depth + 1)?;
                let end = body.span;
                (
                    ExprKind::Reduce {
                        op,
                        binders,
                        body: Box::new(body),
                    },
                    d,
                    end,
                )
            }
            r => unreachable!("unexpected prefix {r:?}"),
        };
        let total = operand_depth + 1;
        if total > MAX_EXPR_DEPTH {
            return Err(TooDeep(pspan));
        }
        Ok((
            Expr {
                kind,
                span: pspan.to(end),
            },
            total,
        ))
    }

    /// `primary index*`
    fn postfix(&mut self, pair: P<'i>) -> (Expr, u32) {
        let mut inner = pair.into_inner();
        let (mut expr, mut depth) = self.primary(inner.next().expect("primary"));
        for idx in inner {
            let span = expr.span.to(self.b.span(&idx));
            if depth >= MAX_EXPR_DEPTH {
                // `x[1][1][1]…`: report once and drop the rest of the chain.
                self.b.diags.push(too_deep(span));
                return (
                    Expr {
                        kind: ExprKind::Error,
                        span,
                    },
                    1,
                );
            }
            let (indices, d) = self.sub_exprs(idx);
            depth = depth.max(d) + 1;
            expr = Expr {
                kind: ExprKind::Index {
                    base: Box::new(expr),
                    indices,
                },
                span,
            };
        }
        (expr, depth)
    }

    /// Build each child expression of `pair`; also return the deepest one's depth.
    fn sub_exprs(&mut self, pair: P<'i>) -> (Vec<Expr>, u32) {
        let mut depth = 0;
        let exprs = pair
            .into_inner()
            .map(|p| {
                let e = self.b.expr(p);
                depth = depth.max(self.b.last_depth);
                e
            })
            .collect();
        (exprs, depth)
    }

    /// `dW` or `dW[k]` after implicit multiplication.
    fn differential(&mut self, pair: P<'i>) -> (Expr, u32) {
        let span = self.b.span(&pair);
        let mut inner = pair.into_inner();
        let name_pair = inner.next().expect("differential name");
        let name = self.b.ident(name_pair);
        let base = Expr {
            span: name.span,
            kind: ExprKind::Name(name),
        };
        match inner.next() {
            Some(idx) => {
                let (indices, d) = self.sub_exprs(idx);
                let kind = ExprKind::Index {
                    base: Box::new(base),
                    indices,
                };
                (Expr { kind, span }, d + 1)
            }
            None => (base, 1),
        }
    }

    fn primary(&mut self, pair: P<'i>) -> (Expr, u32) {
        let span = self.b.span(&pair);
        let mut depth = 1;
        let kind = match pair.as_rule() {
            Rule::int_lit => match pair.as_str().parse::<i64>() {
                Ok(v) => ExprKind::Int(v),
                Err(_) => {
                    self.b.diags.push(
                        Diagnostic::new(
                            Code::BadNumber,
                            span,
                            "integer literal is too large",
                            "does not fit in a 64-bit integer",
                        )
                        .with_help(
                            "integers lie within ±9.2e18; a real number (`1e20`) can be larger",
                        ),
                    );
                    ExprKind::Error
                }
            },
            Rule::real_lit => match pair.as_str().parse::<f64>() {
                Ok(v) if v.is_finite() => ExprKind::Real(v),
                _ => {
                    self.b.diags.push(Diagnostic::new(
                        Code::BadNumber,
                        span,
                        "real literal is too large",
                        "larger than the largest 64-bit float (about 1.8e308)",
                    ));
                    ExprKind::Error
                }
            },
            Rule::bool_lit => ExprKind::Bool(pair.as_str() == "true"),
            Rule::named => {
                let mut inner = pair.into_inner();
                let func = self.b.qual_name(inner.next().expect("name"));
                match inner.next() {
                    Some(call_args) => {
                        let args = match call_args.into_inner().next() {
                            Some(a) => {
                                let (args, d) = self.sub_exprs(a);
                                depth = d + 1;
                                args
                            }
                            None => Vec::new(),
                        };
                        ExprKind::Call { func, args }
                    }
                    None if func.module.is_some() => {
                        self.b.diags.push(
                            Diagnostic::new(
                                Code::Syntax,
                                span,
                                "only functions are reached through a module name",
                                "expected `(` and arguments",
                            )
                            .with_help("call it: `module.function(…)`"),
                        );
                        ExprKind::Error
                    }
                    None => ExprKind::Name(func.name),
                }
            }
            Rule::paren => {
                let inner = self.b.expr(pair.into_inner().next().expect("inner"));
                return (Expr { span, ..inner }, self.b.last_depth);
            }
            Rule::array_lit => match pair.into_inner().next() {
                Some(a) => {
                    let (items, d) = self.sub_exprs(a);
                    depth = d + 1;
                    ExprKind::Array(items)
                }
                None => ExprKind::Array(Vec::new()),
            },
            r => unreachable!("unexpected primary {r:?}"),
        };
        (Expr { kind, span }, depth)
    }
}

//! Indexing: ranks and integer indices, noise components, and proofs that constant indices
//! and loop variables stay in range.

use super::checker::Checker;
use super::expr::{error_expr, texpr};
use super::model::*;
use super::types::{Dim, Type, Value};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, UnOp};

impl Checker<'_, '_> {
    pub fn index(&mut self, base: TExpr, indices: &[ast::Expr], span: Span) -> TExpr {
        let idx: Vec<TExpr> = indices.iter().map(|i| self.expr(i)).collect();
        if base.ty.is_error() {
            return error_expr(span);
        }
        if idx.len() > base.ty.rank() && matches!(base.kind, TKind::Differential(_)) {
            let what = describe_indexed(&base, self);
            self.error(
                Diagnostic::new(
                    Code::NoiseIndex,
                    span,
                    if base.ty.is_scalar() {
                        format!("{what} is a single Wiener process and takes no index")
                    } else {
                        format!(
                            "{what} has {} dimension(s) but {} indices are given",
                            base.ty.rank(),
                            idx.len()
                        )
                    },
                    "superfluous index",
                )
                .with_help("for several independent noises declare an array: `noise W: real[3]`"),
            );
            return error_expr(span);
        }
        if idx.len() > base.ty.rank() {
            let what = describe_indexed(&base, self);
            let msg = if base.ty.is_scalar() {
                format!("{what} is not an array and cannot be indexed")
            } else {
                format!(
                    "{what} has {} dimension{} but {} indices are given",
                    base.ty.rank(),
                    if base.ty.rank() == 1 { "" } else { "s" },
                    idx.len()
                )
            };
            self.error(Diagnostic::new(
                Code::BadIndex,
                span,
                msg,
                format!("this is `{}`", base.ty),
            ));
            return error_expr(span);
        }
        for (k, i) in idx.iter().enumerate() {
            if i.ty.is_error() {
                continue;
            }
            if !i.ty.is_scalar() || !i.ty.scalar.is_integer() {
                let help = if matches!(i.kind, TKind::Binary(BinOp::Div, ..)) {
                    "`/` always gives a real; for integer division write `div(a, b)`"
                } else {
                    "indices are whole numbers counted from 1"
                };
                self.error(
                    Diagnostic::new(
                        Code::BadIndex,
                        i.span,
                        "an index must be an integer",
                        format!("this is `{}`", i.ty),
                    )
                    .with_help(help),
                );
                continue;
            }
            if let Dim::Fixed(n) = base.ty.dims[k] {
                self.check_index_range(&base, i, n, k);
            }
        }
        let dims = base.ty.dims[idx.len()..].to_vec();
        let ty = Type::array(base.ty.scalar, dims);
        // An indexed noise differential stays a differential (`dW[1][2]` is `dW[1, 2]`).
        if let TKind::Differential(Differential::Noise { noise, index }) = &base.kind {
            let (noise, mut index) = (*noise, index.clone());
            index.extend(idx);
            return texpr(
                TKind::Differential(Differential::Noise { noise, index }),
                ty,
                span,
            );
        }
        texpr(TKind::Index(Box::new(base), idx), ty, span)
    }

    /// Report an index that can be proven to fall outside `1..=n`.
    fn check_index_range(&mut self, base: &TExpr, index: &TExpr, n: u64, dim: usize) {
        let Some((lo, hi)) = self.interval(index) else {
            return;
        };
        let n = n as i64;
        if lo >= 1 && hi <= n {
            return;
        }
        let noise = match &base.kind {
            TKind::Differential(Differential::Noise { noise, .. }) => {
                Some(self.decls.noises[*noise].name_text().to_string())
            }
            _ => None,
        };
        let size = match &noise {
            Some(w) if base.ty.rank() == 1 => {
                format!("`{w}` has {n} component{}", if n == 1 { "" } else { "s" })
            }
            _ if base.ty.rank() == 1 => format!(
                "{} has {n} element{}",
                describe_indexed(base, self),
                if n == 1 { "" } else { "s" }
            ),
            _ => format!(
                "dimension {} of {} has length {n}",
                dim + 1,
                describe_indexed(base, self)
            ),
        };
        let code = if noise.is_some() {
            Code::NoiseIndex
        } else {
            Code::IndexOutOfRange
        };
        let msg = match (&noise, lo == hi) {
            (Some(w), true) => format!("{size}, so `d{w}[{lo}]` is out of range"),
            (None, true) => format!("index {lo} is out of range: {size}"),
            (_, false) => format!("this index runs over {lo}..{hi}, outside the range: {size}"),
        };
        self.error(
            Diagnostic::new(code, index.span, msg, format!("valid indices are 1..{n}"))
                .with_help("indexing is 1-based and ranges are inclusive"),
        );
    }

    /// The range of values an integer expression can take, when it can be worked out from
    /// constants and loop variables with constant ranges.
    pub fn interval(&mut self, e: &TExpr) -> Option<(i64, i64)> {
        match &e.kind {
            TKind::Int(v) => Some((*v, *v)),
            TKind::Var(Var::Local(i)) => self.local_ranges.get(i).copied(),
            TKind::Var(Var::Const(_)) => match self.const_eval(e) {
                Ok(Value::Int(v)) => Some((v, v)),
                _ => None,
            },
            TKind::Unary(UnOp::Neg, a) => {
                let (lo, hi) = self.interval(a)?;
                Some((hi.checked_neg()?, lo.checked_neg()?))
            }
            TKind::Binary(op, a, b) => {
                let (alo, ahi) = self.interval(a)?;
                let (blo, bhi) = self.interval(b)?;
                match op {
                    BinOp::Add => Some((alo.checked_add(blo)?, ahi.checked_add(bhi)?)),
                    BinOp::Sub => Some((alo.checked_sub(bhi)?, ahi.checked_sub(blo)?)),
                    BinOp::Mul => {
                        let c = [
                            alo.checked_mul(blo)?,
                            alo.checked_mul(bhi)?,
                            ahi.checked_mul(blo)?,
                            ahi.checked_mul(bhi)?,
                        ];
                        Some((*c.iter().min()?, *c.iter().max()?))
                    }
                    // Euclidean remainder by a positive constant.
                    BinOp::Mod if blo == bhi && blo > 0 => {
                        if alo >= 0 && ahi < blo {
                            Some((alo, ahi))
                        } else {
                            Some((0, blo - 1))
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// How to name an indexed thing in a message.
pub(crate) fn describe_indexed(base: &TExpr, c: &Checker) -> String {
    match &base.kind {
        TKind::Var(v) => format!("`{}`", c.var_name(*v)),
        TKind::Differential(Differential::Noise { noise, .. }) => {
            format!("`d{}`", c.decls.noises[*noise].name_text())
        }
        _ => "this value".to_string(),
    }
}

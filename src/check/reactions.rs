//! Reactions: complexes of species with non-negative integer coefficients, and a rate that is
//! a mass-action constant (`->`, `<->`) or the whole propensity (`=>`, `<=>`).

use super::checker::{Checker, Sym};
use super::model::*;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast;
use std::collections::HashMap;

/// Largest stoichiometric coefficient accepted; larger ones are surely mistakes, and the
/// limit keeps every product of counts in range.
const MAX_COEFFICIENT: u32 = 1_000_000;

impl Checker<'_, '_> {
    /// Check the reactions of one block; `counter` numbers unnamed reactions model-wide.
    pub fn reactions(
        &mut self,
        rs: &[ast::Reaction],
        counter: &mut usize,
        names: &mut HashMap<String, crate::source::Span>,
        out: &mut Vec<Reaction>,
    ) {
        for r in rs {
            *counter += 1;
            let reactants = self.complex(&r.reactants, r);
            let products = self.complex(&r.products, r);
            let want = if r.arrow.is_reversible() { 2 } else { 1 };
            if r.rates.len() != want {
                let help = if want == 2 {
                    format!(
                        "`{}` is reversible: give a forward and a reverse rate, `@ kf, kr`",
                        r.arrow.as_str()
                    )
                } else {
                    format!(
                        "`{}` takes one rate; for a reversible reaction use `<->`",
                        r.arrow.as_str()
                    )
                };
                self.error(
                    Diagnostic::new(
                        Code::RateCount,
                        r.arrow_span,
                        format!(
                            "this reaction has {} rate{} but `{}` needs {want}",
                            r.rates.len(),
                            if r.rates.len() == 1 { "" } else { "s" },
                            r.arrow.as_str()
                        ),
                        if want == 2 {
                            "reversible arrow"
                        } else {
                            "one-way arrow"
                        },
                    )
                    .with_help(help),
                );
                continue;
            }
            let rates: Vec<TExpr> = r
                .rates
                .iter()
                .map(|e| {
                    let t = self.expr(e);
                    self.expect_scalar_number(&t, "a reaction rate");
                    t
                })
                .collect();
            let (Some(reactants), Some(products)) = (reactants, products) else {
                continue;
            };
            let law = match r.arrow {
                ast::Arrow::MassAction | ast::Arrow::ReversibleMassAction => RateLaw::MassAction,
                _ => RateLaw::Propensity,
            };
            let base = match &r.label {
                Some(l) => l.name.clone(),
                None => format!("r{counter}"),
            };
            let label_span = r.label.as_ref().map_or(r.span, |l| l.span);
            let mut push = |c: &mut Self,
                            name: String,
                            re: Vec<(usize, u32)>,
                            pr: Vec<(usize, u32)>,
                            rate: TExpr| {
                if let Some(&prev) = names.get(&name) {
                    c.error(
                        Diagnostic::new(
                            Code::Duplicate,
                            label_span,
                            format!("reaction `{name}` is declared twice"),
                            "second reaction with this name",
                        )
                        .with_label(prev, "first declared here"),
                    );
                }
                names.insert(name.clone(), label_span);
                let reaction = Reaction {
                    name,
                    reactants: re,
                    products: pr,
                    law,
                    rate,
                    span: r.span,
                };
                if reaction.net_change().is_empty() {
                    c.error(
                        Diagnostic::new(
                            Code::NoNetEffect,
                            r.span,
                            format!("reaction `{}` changes nothing", reaction.name),
                            "reactants and products are the same",
                        )
                        .with_help("remove it, or correct the stoichiometry"),
                    );
                }
                out.push(reaction);
            };
            let mut rates = rates.into_iter();
            let forward = rates.next().expect("checked rate count");
            if r.arrow.is_reversible() {
                let reverse = rates.next().expect("checked rate count");
                push(
                    self,
                    format!("{base}_fwd"),
                    reactants.clone(),
                    products.clone(),
                    forward,
                );
                push(self, format!("{base}_rev"), products, reactants, reverse);
            } else {
                push(self, base, reactants, products, forward);
            }
        }
    }

    /// A written stoichiometric coefficient, or `None` (reported) if it is not a whole number
    /// up to `MAX_COEFFICIENT`. A zero is allowed but warned about.
    fn coefficient(&mut self, text: &str, span: crate::source::Span, species: &str) -> Option<u32> {
        let whole = !text.contains('.');
        match text.parse::<u32>() {
            Ok(0) => {
                self.error(
                    Diagnostic::new(
                        Code::ZeroCoefficient,
                        span,
                        format!("`{species}` appears with coefficient 0"),
                        "this term has no effect",
                    )
                    .with_help("remove the term"),
                );
                Some(0)
            }
            Ok(n) if n <= MAX_COEFFICIENT => Some(n),
            _ if whole => {
                self.error(
                    Diagnostic::new(
                        Code::BadStoichiometry,
                        span,
                        format!("stoichiometric coefficient `{text}` is too large"),
                        format!("at most {MAX_COEFFICIENT}"),
                    )
                    .with_help("a reaction consumes or produces a few molecules at a time"),
                );
                None
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::BadStoichiometry,
                        span,
                        format!("stoichiometric coefficient `{text}` is not a whole number"),
                        "expected 1, 2, 3, …",
                    )
                    .with_help("reactions consume and produce whole molecules"),
                );
                None
            }
        }
    }

    /// Species and coefficients of one side of a reaction.
    fn complex(&mut self, c: &ast::Complex, r: &ast::Reaction) -> Option<Vec<(usize, u32)>> {
        let mut out: Vec<(usize, u32)> = Vec::new();
        let mut ok = true;
        for term in &c.terms {
            let coeff = match &term.coeff {
                None => 1,
                Some((text, span)) => match self.coefficient(text, *span, &term.species.name) {
                    Some(n) => n,
                    None => {
                        ok = false;
                        continue;
                    }
                },
            };
            match self.symbols.get(&term.species.name).map(|&(s, _)| s) {
                Some(Sym::Var(Var::Species(i))) => {
                    self.used.insert(Var::Species(i));
                    if coeff > 0 {
                        // Both at most MAX_COEFFICIENT, and a complex has few terms: no overflow.
                        match out.iter_mut().find(|(s, _)| *s == i) {
                            Some(e) => e.1 = e.1.saturating_add(coeff),
                            None => out.push((i, coeff)),
                        }
                    }
                }
                Some(Sym::Poisoned) => ok = false,
                other => {
                    let name = &term.species.name;
                    let reaction = r.label.as_ref().map_or("this reaction".to_string(), |l| {
                        format!("reaction `{}`", l.name)
                    });
                    let (label, help) = match other {
                        Some(Sym::Var(v)) => (
                            format!("`{name}` is {}", super::dynamics::kind_phrase(v)),
                            format!(
                                "reactions change species (integer copy numbers); declare `species {name} = …` instead"
                            ),
                        ),
                        Some(Sym::Noise(_)) => (
                            format!("`{name}` is a noise"),
                            "reactions change species".to_string(),
                        ),
                        _ => {
                            let species: Vec<String> = self
                                .symbols
                                .iter()
                                .filter(|(_, (s, _))| matches!(s, Sym::Var(Var::Species(_))))
                                .map(|(n, _)| n.clone())
                                .collect();
                            let help = super::suggest::did_you_mean(
                                name,
                                species.iter().map(String::as_str),
                            )
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| format!("declare it: `species {name} = 0`"));
                            ("not declared".to_string(), help)
                        }
                    };
                    self.error(
                        Diagnostic::new(
                            Code::NotASpecies,
                            term.species.span,
                            format!("{reaction} changes `{name}`, which is not a species"),
                            label,
                        )
                        .with_help(help),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

//! Text → AST: a pre-scan for brackets and nesting, the pest grammar (`grammar/ito.pest`), and
//! a builder that turns the parse tree into the spanned AST of `ast.rs`.

pub mod ast;
mod errors;
mod expr;
mod parser;
mod prescan;
pub mod print;

pub use expr::MAX_EXPR_DEPTH;
pub use prescan::MAX_NESTING;

use crate::diag::Diagnostic;
use std::collections::HashSet;

/// The keyword the first word of a statement seems to misspell (`parm k = 1`): a word close
/// to one of `keywords` that is neither a keyword nor a name the model declares, followed by
/// what follows a keyword (a name, `{` or a string) rather than by `~`, `=` or an operator.
pub(crate) fn misspelled_keyword(
    text: &str,
    keywords: &[&'static str],
    declared: &HashSet<String>,
) -> Option<&'static str> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    let next = rest.trim_start_matches([' ', '\t']).chars().next()?;
    let keyword_like = next.is_alphabetic() || matches!(next, '_' | '{' | '"');
    if word.is_empty() || !keyword_like || keywords.contains(&word) || declared.contains(word) {
        return None;
    }
    crate::check::suggest::did_you_mean(word, keywords.iter().copied())
}

/// Keywords that start a declaration of a name (`state x …`).
pub(crate) const DECLARATION_KEYWORDS: [&str; 10] = [
    "const",
    "param",
    "data",
    "obs",
    "state",
    "species",
    "noise",
    "let",
    "potential",
    "energy",
];

/// Keywords that start an item or statement (for "did you mean `param`?").
pub(crate) const STATEMENT_KEYWORDS: [&str; 18] = [
    "const",
    "param",
    "data",
    "obs",
    "state",
    "species",
    "noise",
    "let",
    "potential",
    "energy",
    "import",
    "fn",
    "model",
    "output",
    "calculus",
    "reactions",
    "reaction",
    "jump",
];
use crate::source::FileId;

/// Parse one file. The tree is returned even when there are syntax errors: statements that did
/// not parse are `Error` nodes, so later stages can still report independent problems.
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    let diags = prescan::prescan(file, text);
    if !diags.is_empty() {
        return (
            ast::File {
                file,
                items: Vec::new(),
            },
            diags,
        );
    }
    parser::parse_file(file, text)
}

/// Parse an expression on its own (the REPL's input), with the file's limits on nesting.
pub fn parse_expr(file: FileId, text: &str) -> Result<ast::Expr, Vec<Diagnostic>> {
    let diags = prescan::prescan(file, text);
    if !diags.is_empty() {
        return Err(diags);
    }
    parser::parse_expr(file, text)
}

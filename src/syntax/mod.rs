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

//! pest errors → diagnostics in the user's terms. Rule names never reach the user: each rule
//! is described by what it looks like in a model file ("a type", "`=`", "end of line").

use super::parser::{ItoParser, Rule};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::Parser;
use pest::error::{Error, ErrorVariant, InputLocation};
use std::collections::{BTreeSet, HashSet};

/// Which grammar rule a skipped slice is re-parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrictRule {
    File,
    Item,
    Stmt,
    Reaction,
    Body,
    Expr,
}

impl StrictRule {
    pub fn parse(self, text: &str) -> Result<(), Error<Rule>> {
        let rule = match self {
            StrictRule::File => Rule::file,
            StrictRule::Item => Rule::item_only,
            StrictRule::Stmt => Rule::stmt_only,
            StrictRule::Reaction => Rule::reaction_only,
            StrictRule::Body => Rule::body_only,
            StrictRule::Expr => Rule::expr_only,
        };
        ItoParser::parse(rule, text).map(|_| ())
    }

    fn end_word(self) -> &'static str {
        match self {
            StrictRule::File => "end of file",
            _ => "end of line",
        }
    }
}

/// Translate a pest error from parsing the slice at `offset` of `text`.
pub(crate) fn translate(
    e: &Error<Rule>,
    file: FileId,
    offset: usize,
    text: &str,
    rule: StrictRule,
    declared: &HashSet<String>,
) -> Diagnostic {
    let mut pos = match e.location {
        InputLocation::Pos(p) => offset + p,
        InputLocation::Span((a, _)) => offset + a,
    };
    // pest places the error at the farthest *rule* it tried; a literal token (`@`, `)`) may
    // have been tried further on. That later spot is where the text went wrong.
    let mut tokens_only = false;
    if let Some(attempts) = e.parse_attempts()
        && offset + attempts.max_position > pos
        && !expected_descriptions(e, rule, true).is_empty()
    {
        pos = offset + attempts.max_position;
        tokens_only = true;
    }
    let pos = pos.min(text.len());
    if let ErrorVariant::CustomError { message } = &e.variant {
        // Resource limits (call or stack depth) end up here.
        return Diagnostic::new(
            Code::TooDeep,
            Span::new(file, pos, pos),
            "the parser gave up",
            message.clone(),
        )
        .with_help("split the model into smaller statements");
    }
    let (found, found_len) = found_at(text, pos, rule);
    let expected = expected_descriptions(e, rule, tokens_only);
    let message = format!("unexpected {found}");
    let label = if expected.is_empty() {
        "not expected here".to_string()
    } else {
        format!("expected {}", join_or(&expected))
    };
    let span = Span::new(file, pos, pos + found_len);
    let help = hint(text, offset, pos, &expected, rule, declared);
    Diagnostic::new(Code::Syntax, span, message, label).with_optional_help(help)
}

/// What stands at `pos`, in words, and how many bytes it covers.
fn found_at(text: &str, pos: usize, rule: StrictRule) -> (String, usize) {
    let rest = &text[pos..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c == '\n' || c == '\r' {
        return (rule.end_word().to_string(), 0);
    }
    if c.is_alphanumeric() || c == '_' {
        let len = rest
            .char_indices()
            .find(|&(_, ch)| !(ch.is_alphanumeric() || ch == '_' || ch == '.'))
            .map_or(rest.len(), |(n, _)| n);
        return (format!("`{}`", &rest[..len]), len);
    }
    for op in [
        "<->", "<=>", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "..", "///",
    ] {
        if rest.starts_with(op) {
            return (format!("`{op}`"), op.len());
        }
    }
    (format!("`{c}`"), c.len_utf8())
}

fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        expr | arith_expr | operand | postfix | named | call_args | paren | array_lit
        | real_lit | int_lit | bool_lit | if_head | reduce_head | prefix_op | args => {
            "an expression"
        }
        infix_op | arith_op => "an operator",
        ident | qual_name | species_item | noise_item => "a name",
        type_expr | type_ann => "a type (`real`, `int`, `bool`, `spin`)",
        constraints => "`<`",
        dims | index | jump_binders => "`[`",
        init | fn_expr_body | assign_op => "`=`",
        prior => "`~`",
        distribution => "a distribution",
        string => "a quoted path",
        const_decl | param_decl | data_decl | obs_decl | state_decl | species_decl | noise_decl
        | let_decl | calculus_decl | reactions_block | reaction_stmt | jump_decl | at_event
        | when_event | potential_decl | energy_decl | equation | tilde_stmt | lvalue => {
            "a declaration or equation"
        }
        import | function | model => "`model`, `fn` or `import`",
        reaction | reaction_label => "a reaction",
        complex | complex_term | empty_complex | stoich => "species",
        arrow => "a reaction arrow (`->`, `<->`, `=>`)",
        body | fn_block => "`{`",
        binder => "a loop variable (`i in 1..N`)",
        range => "a range (`1..N`)",
        for_clause => "`for`",
        draw_stmt | local_let | assignment => "an assignment or `let`",
        fn_params | fn_param => "a parameter",
        kw_import => "`import`",
        kw_as => "`as`",
        kw_fn => "`fn`",
        kw_model => "`model`",
        kw_in => "`in`",
        kw_then => "`then`",
        kw_else => "`else`",
        kw_for => "`for`",
        kw_let => "`let`",
        _ => return None,
    })
}

fn expected_descriptions(e: &Error<Rule>, rule: StrictRule, tokens_only: bool) -> Vec<String> {
    // Ranked so that specific punctuation comes first and "end of line" last.
    let mut set: BTreeSet<(u8, String)> = BTreeSet::new();
    let mut add = |rank: u8, s: &str| {
        set.insert((rank, s.to_string()));
    };
    let no_rules = Vec::new();
    let positives = match &e.variant {
        // Rules tried at an earlier position than the tokens say nothing about this spot.
        ErrorVariant::ParsingError { positives, .. } if !tokens_only => positives,
        _ => &no_rules,
    };
    {
        for &r in positives {
            if r == Rule::EOI {
                add(9, rule.end_word());
            } else if let Some(d) = describe(r) {
                add(rank_of(d), d);
            }
        }
    }
    // Literal tokens (pest does not export their type; their text is enough). Operator and
    // expression-start characters are summarised rather than listed one by one.
    if let Some(attempts) = e.parse_attempts() {
        for token in attempts.expected_tokens() {
            match token.to_string().as_str() {
                // Line breaks are tried wherever a line may be continued; whether the line may
                // end here is told by EOI among the rules instead.
                "\n" | ";" => {}
                "!" | "(" => add(3, "an expression"),
                // `<` and `>` also open and close type constraints.
                "<" if !positives.contains(&Rule::infix_op) => add(1, "`<`"),
                ">" if !positives.contains(&Rule::infix_op) => add(1, "`>`"),
                "*" | "/" | "%" | "^" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||" => {
                    add(8, "an operator")
                }
                "+" | "-" | "_" | "." | "\u{FEFF}" | "//" | "/*" | "///" | "" => {}
                t if t
                    .chars()
                    .all(|c| !c.is_alphanumeric() && !c.is_whitespace()) =>
                {
                    add(1, &format!("`{t}`"))
                }
                _ => {}
            }
        }
    }
    // After an operand, or where an expression may start, `[` (indexing, array literal) is
    // implied and listing it only confuses.
    // After an operand only an operator can continue (`(` there would be a call).
    let implied = set
        .iter()
        .any(|(_, s)| s == "an expression" || s == "an operator");
    let after_operand = set.iter().any(|(_, s)| s == "an operator");
    set.into_iter()
        .map(|(_, s)| s)
        .filter(|s| !(implied && s == "`[`" || after_operand && s == "an expression"))
        .collect()
}

fn rank_of(desc: &str) -> u8 {
    match desc {
        "an expression" => 3,
        "an operator" => 8,
        _ if desc.starts_with('`') => 1,
        _ => 4,
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// A help line for mistakes that are easy to name.
fn hint(
    text: &str,
    offset: usize,
    pos: usize,
    expected: &[String],
    rule: StrictRule,
    declared: &HashSet<String>,
) -> Option<String> {
    let rest = &text[pos..];
    let before = &text[offset..pos];
    let in_condition = before.trim_start().starts_with("when") || before.contains("if ");
    if rest.starts_with('=')
        && !rest.starts_with("==")
        && in_condition
        && expected.iter().any(|e| e == "an operator")
    {
        return Some("to compare two values, use `==`".to_string());
    }
    if matches!(rule, StrictRule::Stmt | StrictRule::Item)
        && let Some(kw) =
            super::misspelled_keyword(&text[offset..], &super::STATEMENT_KEYWORDS, declared)
    {
        return Some(format!("did you mean `{kw}`?"));
    }
    if rest.starts_with("**") || (rest.starts_with('*') && text[..pos].ends_with('*')) {
        return Some("powers are written with `^`: `x^2`".to_string());
    }
    None
}

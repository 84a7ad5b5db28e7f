//! A quick pass over the raw text before the grammar sees it. It finds problems that a PEG
//! parser reports badly or not at all: unbalanced brackets, unterminated comments and strings,
//! and nesting deep enough to exhaust the parser's stack. When it finds one, parsing is
//! skipped: such errors would only cascade.

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Deepest allowed nesting of brackets and `if … else` (each open `(`, `[`, `{` or `if` counts).
pub const MAX_NESTING: usize = 200;

struct Open {
    ch: char,
    at: usize,
    /// `if`s opened at this bracket level whose `else` has not been seen yet.
    open_ifs: usize,
}

pub fn prescan(file: FileId, text: &str) -> Vec<Diagnostic> {
    let span = |a: usize, b: usize| Span::new(file, a, b);
    let mut diags = Vec::new();
    let mut stack: Vec<Open> = vec![Open {
        ch: ' ',
        at: 0,
        open_ifs: 0,
    }];
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(n) => {
                    i += n + 4;
                    continue;
                }
                None => {
                    diags.push(
                        Diagnostic::new(
                            Code::Syntax,
                            span(i, i + 2),
                            "unterminated block comment",
                            "this comment is never closed",
                        )
                        .with_help("close it with `*/`"),
                    );
                    return diags;
                }
            },
            b'"' => match text[i + 1..].find(['"', '\n']) {
                Some(n) if bytes[i + 1 + n] == b'"' => {
                    i += n + 2;
                    continue;
                }
                _ => {
                    diags.push(
                        Diagnostic::new(
                            Code::Syntax,
                            span(i, i + 1),
                            "unterminated string",
                            "this string is never closed",
                        )
                        .with_help("close it with `\"` on the same line"),
                    );
                    return diags;
                }
            },
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    diags.push(too_deep(span(i, i + 1)));
                    return diags;
                }
                stack.push(Open {
                    ch: c as char,
                    at: i,
                    open_ifs: 0,
                });
            }
            b')' | b']' | b'}' => {
                let want = match c {
                    b')' => '(',
                    b']' => '[',
                    _ => '{',
                };
                if stack.len() == 1 {
                    diags.push(
                        Diagnostic::new(
                            Code::Syntax,
                            span(i, i + 1),
                            format!("unmatched `{}`", c as char),
                            "nothing was opened here to close",
                        )
                        .with_help("remove it, or add the opening bracket it belongs to"),
                    );
                    return diags;
                }
                let open = stack.pop().expect("stack has more than the sentinel");
                if open.ch != want {
                    diags.push(
                        Diagnostic::new(
                            Code::Syntax,
                            span(i, i + 1),
                            format!("`{}` does not close `{}`", c as char, open.ch),
                            format!("expected `{}` here", closer(open.ch)),
                        )
                        .with_label(span(open.at, open.at + 1), "opened here"),
                    );
                    return diags;
                }
                depth -= 1 + open.open_ifs;
            }
            _ if c >= 0x80 && !text[i..].starts_with(|ch: char| ch.is_alphanumeric()) => {
                // A non-letter beyond ASCII (`±`, `∅`): skip the whole character.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                let end = text[i..]
                    .char_indices()
                    .find(|&(_, ch)| !(ch.is_alphanumeric() || ch == '_'))
                    .map_or(text.len(), |(n, _)| i + n);
                let word = &text[start..end];
                let top = stack.last_mut().expect("sentinel is never popped");
                if word == "if" {
                    top.open_ifs += 1;
                    depth += 1;
                    if depth > MAX_NESTING {
                        diags.push(too_deep(span(start, end)));
                        return diags;
                    }
                } else if word == "else" && top.open_ifs > 0 {
                    top.open_ifs -= 1;
                    depth -= 1;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(open) = stack.get(1) {
        let innermost = stack.last().expect("non-empty");
        let mut d = Diagnostic::new(
            Code::Syntax,
            span(innermost.at, innermost.at + 1),
            format!("unclosed `{}`", innermost.ch),
            format!("this `{}` is never closed", innermost.ch),
        )
        .with_help(format!(
            "add `{}` where it should end",
            closer(innermost.ch)
        ));
        if open.at != innermost.at {
            d = d.with_note(format!(
                "{} brackets are still open at the end of the file",
                stack.len() - 1
            ));
        }
        diags.push(d);
    }
    diags
}

fn closer(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TooDeep,
        span,
        format!("nesting is too deep (more than {MAX_NESTING} levels of brackets and `if`s)"),
        "nesting limit reached here",
    )
    .with_help("split the expression into named parts with `let`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<String> {
        prescan(FileId(0), text)
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn balanced_text_passes() {
        assert!(codes("model M { let a = f((1), [2]) // ( \n /* [ */ }").is_empty());
        assert!(codes("let a = if x then 1 else if y then 2 else 3").is_empty());
    }

    #[test]
    fn reports_bracket_problems() {
        assert_eq!(codes("a = (1"), ["unclosed `(`"]);
        assert_eq!(codes("a = 1)"), ["unmatched `)`"]);
        assert_eq!(codes("a = (1]"), ["`]` does not close `(`"]);
        assert_eq!(codes("/* a"), ["unterminated block comment"]);
        assert_eq!(codes("import \"a"), ["unterminated string"]);
    }

    #[test]
    fn non_ascii_symbols_are_skipped_whole() {
        assert!(codes("// x = ±1 ∅ θ\nlet θ = (1) ± (2)").is_empty());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let d = prescan(FileId(0), &deep);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::TooDeep);
        let ifs = "if a then 1 else ".repeat(5).to_string() + "0";
        assert!(codes(&ifs).is_empty(), "an else-if chain is not nesting");
        let nested_then = "if a then ".repeat(300) + "1" + &" else 2".repeat(300);
        assert_eq!(prescan(FileId(0), &nested_then)[0].code, Code::TooDeep);
    }
}

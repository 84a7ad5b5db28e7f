//! Reading the REPL's input: when a line needs more lines (brackets still open), and what kind
//! of input a complete entry is.

/// Whether `text` ends with a bracket (`{`, `(`, `[`) still open, outside comments and
/// strings, or with a `///` line: the entry continues on the next line. Commands never do.
pub fn needs_more(text: &str) -> bool {
    // A command is one line, whatever it holds (`:plot x[` is a mistake, not a start).
    if text.trim_start().starts_with(':') {
        return false;
    }
    let mut depth: i64 = 0;
    let mut chars = text.chars().peekable();
    let mut in_block_comment = false;
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_block_comment {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                in_block_comment = false;
            }
            continue;
        }
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                // A line comment runs to the end of its line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                in_block_comment = true;
            }
            '"' => in_string = true,
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    // A `///` line documents what follows it: the definition is still to come.
    let doc_pending = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with("///"));
    depth > 0 || in_block_comment || doc_pending
}

/// What one complete entry is.
#[derive(Debug, PartialEq)]
pub enum Entry<'a> {
    Empty,
    /// `:name rest`
    Command {
        word: &'a str,
        rest: &'a str,
    },
    /// `fn …`, `model …`, `import …` (possibly after `///` doc lines): definitions.
    Definition,
    /// `name = value` (not `==`): a `:set`.
    Assignment {
        name: &'a str,
        value: &'a str,
    },
    Expression,
}

/// Classify an entry (its lines joined).
pub fn classify(text: &str) -> Entry<'_> {
    let t = text.trim();
    if t.is_empty() || t.starts_with("//") && !t.starts_with("///") && !t.contains('\n') {
        return Entry::Empty;
    }
    if let Some(cmd) = t.strip_prefix(':') {
        let end = cmd.find(char::is_whitespace).map_or(t.len(), |i| i + 1);
        return Entry::Command {
            word: &t[..end],
            rest: t[end..].trim(),
        };
    }
    let first_code_line = t
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("//"))
        .unwrap_or("");
    let first_word = first_code_line
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    if matches!(first_word, "fn" | "model" | "import") || first_code_line.is_empty() {
        return Entry::Definition;
    }
    if let Some((name, value)) = t.split_once('=') {
        let name = name.trim();
        let is_name = !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        let comparison = value.starts_with('=') || name.ends_with(['<', '>', '!']);
        if is_name && !comparison {
            return Entry::Assignment {
                name,
                value: value.trim(),
            };
        }
    }
    Entry::Expression
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_continue_the_entry() {
        assert!(needs_more("model M {"));
        assert!(needs_more("fn f(x: real) = (x +"));
        assert!(!needs_more("model M { state x = 1 }"));
        assert!(!needs_more("f(1) // a comment with {"));
        assert!(!needs_more("\"a string with {\""));
        assert!(needs_more("/* an unfinished comment"));
        assert!(!needs_more("}}"));
        assert!(!needs_more(":plot x["));
        assert!(needs_more("/// The decay rate."));
        assert!(!needs_more("/// The decay rate.\nfn f(x: real) = x"));
    }

    #[test]
    fn entries_are_classified() {
        assert_eq!(classify("   "), Entry::Empty);
        assert_eq!(classify("// note"), Entry::Empty);
        assert_eq!(
            classify(":set beta = 0.3"),
            Entry::Command {
                word: ":set",
                rest: "beta = 0.3"
            }
        );
        assert_eq!(
            classify(":help"),
            Entry::Command {
                word: ":help",
                rest: ""
            }
        );
        assert_eq!(classify("fn f(x: real) = x"), Entry::Definition);
        assert_eq!(classify("/// doc\nmodel M {\n}"), Entry::Definition);
        assert_eq!(
            classify("beta = 0.3"),
            Entry::Assignment {
                name: "beta",
                value: "0.3"
            }
        );
        assert_eq!(classify("beta == 0.3"), Entry::Expression);
        assert_eq!(classify("beta <= 0.3"), Entry::Expression);
        assert_eq!(classify("2 * beta"), Entry::Expression);
    }
}

//! Tab completion: command names at the start of a line; then model, parameter, variable,
//! option and method names where each command takes them; names in scope in expressions.

use super::commands::COMMANDS;
use super::options::OPTION_NAMES;

/// The names the session knows (refreshed after every entry).
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    pub models: Vec<String>,
    pub functions: Vec<String>,
    /// Parameters and data of the current model (what `:set` changes).
    pub params: Vec<String>,
    /// Constants, states, species and `let`s of the current model.
    pub names: Vec<String>,
    /// Variables the last run recorded.
    pub variables: Vec<String>,
}

/// Where the word being completed starts in `line[..pos]`, and the candidates for it. File
/// names (after `:load`) are left to the caller.
pub fn candidates(v: &Vocabulary, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = line.get(..pos).unwrap_or(line);
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '.'))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[start..];
    let command = before.split_whitespace().next().unwrap_or("");
    let first_word = before[..start].trim().is_empty();
    let pool: Vec<String> = if first_word && word.starts_with(':') {
        // A command that takes arguments comes with its space, ready for them.
        COMMANDS
            .iter()
            .map(|c| match c.args {
                "" => c.name.to_string(),
                _ => format!("{} ", c.name),
            })
            .collect()
    } else if command.starts_with(':') && !first_word {
        match command {
            ":use" => v.models.clone(),
            ":set" | ":reset" => v.params.clone(),
            ":plot" => v.variables.clone(),
            ":run" => run_words(before),
            ":infer" => super::fit::OPTION_NAMES
                .iter()
                .map(|o| format!("{o}="))
                .collect(),
            ":doc" => everything(v),
            ":type" => in_scope(v),
            _ => Vec::new(),
        }
    } else {
        in_scope(v)
    };
    let mut found: Vec<String> = pool.into_iter().filter(|c| c.starts_with(word)).collect();
    found.sort();
    found.dedup();
    (start, found)
}

/// `:run`'s options, or after `method=` the method names.
fn run_words(before: &str) -> Vec<String> {
    let last = before.rsplit(' ').next().unwrap_or("");
    if last.starts_with("method=") {
        return super::simulate::method_names()
            .into_iter()
            .map(str::to_string)
            .collect();
    }
    OPTION_NAMES.iter().map(|o| format!("{o}=")).collect()
}

fn in_scope(v: &Vocabulary) -> Vec<String> {
    let mut all = v.params.clone();
    all.extend(v.names.iter().cloned());
    all.extend(v.functions.iter().cloned());
    all.extend(crate::check::builtins::function_names().map(str::to_string));
    all
}

fn everything(v: &Vocabulary) -> Vec<String> {
    let mut all = in_scope(v);
    all.extend(v.models.iter().cloned());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            models: vec!["SIR".into(), "SEIR".into()],
            functions: vec!["hill".into()],
            params: vec!["beta".into(), "gamma".into()],
            names: vec!["S".into(), "I".into(), "R".into()],
            variables: vec!["S".into(), "I".into(), "R".into(), "R0".into()],
        }
    }

    #[test]
    fn commands_complete_at_the_start() {
        let (start, c) = candidates(&vocabulary(), ":re", 3);
        assert_eq!(start, 0);
        assert_eq!(c, vec![":reload", ":reset "]);
    }

    #[test]
    fn arguments_complete_by_command() {
        let v = vocabulary();
        assert_eq!(
            candidates(&v, ":use S", 6),
            (5, vec!["SEIR".into(), "SIR".into()])
        );
        assert_eq!(candidates(&v, ":set be", 7), (5, vec!["beta".into()]));
        assert_eq!(candidates(&v, ":plot R", 7).1, vec!["R", "R0"]);
        assert_eq!(candidates(&v, ":run pa", 7).1, vec!["paths="]);
        assert_eq!(candidates(&v, ":run method=ts", 14).1, Vec::<String>::new());
        assert_eq!(
            candidates(&v, ":run method=ta", 14),
            (12, vec!["tau".into()])
        );
    }

    #[test]
    fn expressions_complete_names_in_scope() {
        let (start, c) = candidates(&vocabulary(), "2 * hi", 6);
        assert_eq!(start, 4);
        assert_eq!(c, vec!["hill"]);
    }
}

//! The REPL's commands: what `:help` lists and what completion offers.

/// One command: its name, what it takes, and what it does in a line.
pub struct Command {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
}

/// Every command, in the order `:help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":help",
        args: "",
        help: "list the commands (this text)",
    },
    Command {
        name: ":load",
        args: "FILE",
        help: "load a model file (a path, or a stdlib module such as std/epidemics)",
    },
    Command {
        name: ":reload",
        args: "",
        help: "re-read the file, keeping the settings that still apply",
    },
    Command {
        name: ":models",
        args: "",
        help: "list the models, marking the current one",
    },
    Command {
        name: ":use",
        args: "MODEL",
        help: "make MODEL the current model",
    },
    Command {
        name: ":info",
        args: "",
        help: "the current model: kind, parameters (current values), states, noise, reactions",
    },
    Command {
        name: ":doc",
        args: "NAME",
        help: "the /// documentation of a model, function or declaration",
    },
    Command {
        name: ":type",
        args: "EXPR",
        help: "the type of an expression in the current model",
    },
    Command {
        name: ":ir",
        args: "",
        help: "the kernels the current model compiles to",
    },
    Command {
        name: ":set",
        args: "NAME = VALUE",
        help: "change a parameter (or data value) of the current model; no argument: list changes",
    },
    Command {
        name: ":reset",
        args: "[NAME]",
        help: "undo :set for one name, or for all",
    },
    Command {
        name: ":run",
        args: "[paths=N t_end=T every=Δ dt=h method=M seed=S threads=K]",
        help: "simulate the current model; options are remembered for the next :run",
    },
    Command {
        name: ":infer",
        args: "[method=M chains=4 warmup=1000 draws=1000 particles=256 seed=S threads=K]",
        help: "sample the posterior of the parameters (nuts; pmmh for state-space models)",
    },
    Command {
        name: ":data",
        args: "[FILE …]",
        help: "attach data files (JSON or CSV; an observed series too); none: show them",
    },
    Command {
        name: ":summary",
        args: "",
        help: "mean, sd and quantiles of the last run at a few times",
    },
    Command {
        name: ":save",
        args: "FILE.csv|FILE.json",
        help: "write the last run's per-time statistics of every variable",
    },
    Command {
        name: ":plot",
        args: "[VAR …] [> FILE.svg]",
        help: "draw the last run: mean and 5–95 % band in the terminal, or to an SVG file",
    },
    Command {
        name: ":quit",
        args: "",
        help: "leave (so does Ctrl-D)",
    },
];

/// The command `word` names: exactly, or as the only command it begins (`:re` is ambiguous,
/// `:rel` is `:reload`).
pub fn lookup(word: &str) -> Result<&'static Command, String> {
    if let Some(c) = COMMANDS.iter().find(|c| c.name == word) {
        return Ok(c);
    }
    if word == ":q" || word == ":exit" {
        return Ok(COMMANDS.iter().find(|c| c.name == ":quit").expect("listed"));
    }
    let matching: Vec<&Command> = COMMANDS
        .iter()
        .filter(|c| c.name.starts_with(word))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => {
            let names = COMMANDS.iter().map(|c| c.name);
            let hint = crate::check::suggest::did_you_mean(word, names)
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            Err(format!("unknown command `{word}`{hint} (:help lists them)"))
        }
        several => Err(format!(
            "`{word}` could be {}",
            several
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The `:help` text.
pub fn help() -> String {
    let usage = |c: &Command| {
        if c.args.is_empty() {
            c.name.to_string()
        } else {
            format!("{} {}", c.name, c.args)
        }
    };
    let width = COMMANDS
        .iter()
        .map(|c| usage(c).chars().count())
        .filter(|&w| w <= 28)
        .max()
        .unwrap_or(0);
    let mut s = String::from("Commands:\n");
    for c in COMMANDS {
        let u = usage(c);
        if u.chars().count() > width {
            s.push_str(&format!("  {u}\n  {:width$}  {}\n", "", c.help));
        } else {
            s.push_str(&format!("  {u:width$}  {}\n", c.help));
        }
    }
    s.push_str(
        "\nAnything else is evaluated, with the current model's parameters and functions in scope:\n\
         \x20 2 * beta / gamma           an expression (states take their initial values)\n\
         \x20 beta = 0.3                 the same as :set beta = 0.3\n\
         \x20 fn f(x: real) = x^2        a function; `model M { … }` a model (continued until the braces close)\n\
         \nCommands may be shortened to any unique prefix (:r is ambiguous, :ru is :run).\n\
         Ctrl-C stops a run (or clears the line); Ctrl-D leaves.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_resolve_when_unique() {
        assert_eq!(lookup(":ru").map(|c| c.name), Ok(":run"));
        assert_eq!(lookup(":rel").map(|c| c.name), Ok(":reload"));
        assert_eq!(lookup(":q").map(|c| c.name), Ok(":quit"));
        let ambiguous = lookup(":re").err().unwrap_or_default();
        assert!(ambiguous.contains(":reload") && ambiguous.contains(":reset"));
        let unknown = lookup(":rn").err().unwrap_or_default();
        assert!(unknown.contains("unknown command"), "{unknown}");
    }

    #[test]
    fn help_lists_every_command() {
        let h = help();
        for c in COMMANDS {
            assert!(h.contains(c.name), "{} missing", c.name);
        }
    }
}

//! `ito repl [FILE]`: the interactive session. At a terminal, rustyline reads the lines
//! (history, completion, Ctrl-C clears the line, Ctrl-D leaves); otherwise stdin is read
//! line by line, so sessions can be scripted. Either way an entry continues over lines while
//! brackets are open.

use clap::Args;
use ito::repl::complete::{self, Vocabulary};
use ito::repl::{Control, Interrupt, Session, Settings, input};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

#[derive(Args)]
pub struct ReplArgs {
    /// A model file to load first.
    file: Option<PathBuf>,
}

const PROMPT: &str = ">>> ";
const MORE: &str = "... ";

/// Ctrl-C stops a run. Outside a run, a scripted session ends; an interactive one goes on
/// (at the prompt the line editor reads the key itself and clears the line).
static INTERRUPT: Interrupt = Interrupt::new();

pub fn run(args: ReplArgs, color: bool) -> ExitCode {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let _ = ctrlc::set_handler(move || {
        if !INTERRUPT.request() && !interactive {
            std::process::exit(130);
        }
    });
    let mut session = Session::new(
        Settings {
            color,
            width: terminal_width(),
            progress: interactive,
        },
        &INTERRUPT,
    );
    let mut stdout = std::io::stdout();
    if interactive {
        let _ = writeln!(
            stdout,
            "ito {} — :help lists the commands, Ctrl-D leaves",
            env!("CARGO_PKG_VERSION")
        );
    }
    if let Some(file) = &args.file {
        session.load(file, &mut stdout);
    }
    let result = if interactive {
        interactive_loop(&mut session)
    } else {
        scripted_loop(&mut session)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Read stdin line by line, echoing each entry after the prompt so the transcript reads like
/// the terminal session.
fn scripted_loop(session: &mut Session) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut entry = String::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| format!("cannot read the input: {e}"))?;
        let prompt = if entry.is_empty() { PROMPT } else { MORE };
        let _ = writeln!(stdout, "{prompt}{line}");
        if !entry.is_empty() {
            entry.push('\n');
        }
        entry.push_str(&line);
        if input::needs_more(&entry) {
            continue;
        }
        let done = session.execute(&entry, &mut stdout) == Control::Quit;
        entry.clear();
        if done {
            return Ok(());
        }
    }
    if !entry.is_empty() {
        let _ = writeln!(stdout, "error: the input ended inside an unclosed bracket");
    }
    Ok(())
}

fn interactive_loop(session: &mut Session) -> Result<(), String> {
    let vocabulary = Rc::new(RefCell::new(session.vocabulary()));
    let mut editor: Editor<ReplHelper, DefaultHistory> =
        Editor::new().map_err(|e| format!("cannot start the line editor: {e}"))?;
    editor.set_helper(Some(ReplHelper {
        vocabulary: Rc::clone(&vocabulary),
        files: FilenameCompleter::new(),
    }));
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut stdout = std::io::stdout();
    let mut entry = String::new();
    loop {
        let prompt = if entry.is_empty() { PROMPT } else { MORE };
        match editor.readline(prompt) {
            Ok(line) => {
                if !entry.is_empty() {
                    entry.push('\n');
                }
                entry.push_str(&line);
                if input::needs_more(&entry) {
                    continue;
                }
                if !entry.trim().is_empty() {
                    let _ = editor.add_history_entry(entry.as_str());
                }
                // The terminal may have been resized since the last entry.
                session.set_width(terminal_width());
                let control = session.execute(&entry, &mut stdout);
                entry.clear();
                *vocabulary.borrow_mut() = session.vocabulary();
                if control == Control::Quit {
                    break;
                }
            }
            // Ctrl-C at the prompt abandons the entry being typed.
            Err(ReadlineError::Interrupted) => entry.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("cannot read the input: {e}")),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// Columns for the terminal plot: the terminal's width (80 when it is not a terminal).
fn terminal_width() -> usize {
    console::Term::stdout()
        .size_checked()
        .map_or(80, |(_, w)| usize::from(w))
        .clamp(40, 200)
}

/// Where history is kept between sessions: `$ITO_HISTORY`, else `~/.ito_history`.
fn history_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ITO_HISTORY") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ito_history"))
}

struct ReplHelper {
    vocabulary: Rc<RefCell<Vocabulary>>,
    files: FilenameCompleter,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.trim_start().starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, names) = complete::candidates(&self.vocabulary.borrow(), line, pos);
        let pairs = names
            .into_iter()
            .map(|n| Pair {
                display: n.clone(),
                replacement: n,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

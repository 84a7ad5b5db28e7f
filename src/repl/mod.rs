//! The interactive session behind `ito repl`: a model file and the definitions typed so far,
//! the current model with its parameter changes, the last run, and the commands that load,
//! inspect, change, run and draw them. Input comes one complete entry at a time (see
//! [`input::needs_more`]); everything the session says goes to one writer, so a scripted
//! session reads like the terminal one.

pub mod commands;
pub mod complete;
mod eval;
mod fit;
pub mod input;
mod options;
mod results;
mod show;
mod simulate;
pub mod termplot;

use crate::check::model::Model;
use crate::diag::{self, Diagnostic};
use crate::frontend::{self, Compilation, Fragment, MainFile};
use crate::ir::lower::{LoweredModel, size_index};
use crate::sim::bind::{self, Bound, Setting};
use crate::sim::data::DataSet;
use crate::sim::output::Recorded;
use input::Entry;
pub use options::RunOptions;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Ctrl-C: while a run is going it stops the run; otherwise the front end decides.
#[derive(Default)]
pub struct Interrupt {
    requested: AtomicBool,
    running: AtomicBool,
}

impl Interrupt {
    pub const fn new() -> Interrupt {
        Interrupt {
            requested: AtomicBool::new(false),
            running: AtomicBool::new(false),
        }
    }

    /// Ask the current run to stop. Returns whether a run was going.
    pub fn request(&self) -> bool {
        self.requested.store(true, Ordering::Relaxed);
        self.running.load(Ordering::Relaxed)
    }

    pub fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

/// How the session talks to its terminal.
pub struct Settings {
    /// Colour in diagnostics and plots.
    pub color: bool,
    /// Columns the terminal plot may use.
    pub width: usize,
    /// Progress bars for runs (on stderr).
    pub progress: bool,
}

/// The current model as the session has it: compiled, with its `:set` changes and data.
pub(crate) struct Current<'a> {
    pub compilation: &'a Compilation,
    pub model: &'a str,
    pub settings: &'a [Setting],
    pub data: &'a DataSet,
}

/// Whether the session goes on after an entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Quit,
}

pub struct Session {
    file: Option<MainFile>,
    fragments: Vec<Fragment>,
    /// Definitions entered so far (names their fragments `<input N>`).
    entered: usize,
    compilation: Compilation,
    model: Option<String>,
    settings: Vec<Setting>,
    data: DataSet,
    options: RunOptions,
    infer_options: fit::InferOptions,
    /// The last run's recordings.
    last: Option<Recorded>,
    terminal: Settings,
    interrupt: &'static Interrupt,
}

/// What the session says, written as it goes (a failed write to the terminal is not worth
/// stopping for).
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

impl Session {
    pub fn new(terminal: Settings, interrupt: &'static Interrupt) -> Session {
        Session {
            file: None,
            fragments: Vec::new(),
            entered: 0,
            compilation: Compilation::default(),
            model: None,
            settings: Vec::new(),
            data: DataSet::default(),
            options: RunOptions::default(),
            infer_options: fit::InferOptions::default(),
            last: None,
            terminal,
            interrupt,
        }
    }

    /// Columns the terminal plot may use from now on.
    pub fn set_width(&mut self, width: usize) {
        self.terminal.width = width;
    }

    /// Handle one complete entry (its lines joined with `\n`).
    pub fn execute(&mut self, entry: &str, out: &mut dyn Write) -> Control {
        match input::classify(entry) {
            Entry::Empty => {}
            Entry::Command { word, rest } => {
                let command = match commands::lookup(word) {
                    Ok(c) => c.name,
                    Err(e) => {
                        say!(out, "error: {}", in_repl_terms(&e));
                        return Control::Continue;
                    }
                };
                if command == ":quit" {
                    return Control::Quit;
                }
                if let Err(e) = self.command(command, rest, out) {
                    say!(out, "error: {}", in_repl_terms(&e));
                }
            }
            Entry::Definition => self.define(entry, out),
            Entry::Assignment { name, value } => {
                if let Err(e) = self.set(name, value, out) {
                    say!(out, "error: {}", in_repl_terms(&e));
                }
            }
            Entry::Expression => {
                if let Err(e) = self.evaluate(entry, out) {
                    say!(out, "error: {}", in_repl_terms(&e));
                }
            }
        }
        Control::Continue
    }

    fn command(&mut self, command: &str, rest: &str, out: &mut dyn Write) -> Result<(), String> {
        let no_args = |name: &str| {
            if rest.is_empty() {
                Ok(())
            } else {
                Err(format!("{name} takes no arguments"))
            }
        };
        match command {
            ":help" => {
                let _ = out.write_all(commands::help().as_bytes());
            }
            ":load" => {
                if rest.is_empty() {
                    return Err(":load needs a file: :load examples/sir.sde".into());
                }
                self.load(Path::new(rest), out);
            }
            ":reload" => {
                no_args(":reload")?;
                self.reload(out)?;
            }
            ":models" => {
                no_args(":models")?;
                let text = show::models(&self.compilation.program, self.model.as_deref());
                let _ = out.write_all(text.as_bytes());
            }
            ":use" => self.use_model(rest, out)?,
            ":info" => {
                no_args(":info")?;
                let (m, _) = self.current()?;
                // Without its data a model still has a description, if no current values.
                let (values, unbound) = match self.bound() {
                    Ok(b) => (b.param_values, None),
                    Err(e) => (Vec::new(), Some(e)),
                };
                let text = show::info(m, &self.compilation.program, &values, &self.settings);
                let _ = out.write_all(text.as_bytes());
                if let Some(e) = unbound {
                    say!(out, "  (no current values: {e})");
                }
            }
            ":doc" => {
                if rest.is_empty() {
                    return Err(":doc needs a name: :doc beta".into());
                }
                let current = self.current().ok().map(|(m, _)| m);
                let text = show::doc(rest, &self.compilation.program, current)
                    .ok_or_else(|| format!("nothing named `{rest}` has documentation here"))?;
                let _ = out.write_all(text.as_bytes());
            }
            ":type" => {
                let checked = self.check_expression(rest, out)?;
                if let Some(c) = checked {
                    say!(out, "{}", c.ty);
                }
            }
            ":ir" => {
                no_args(":ir")?;
                let (_, lm) = self.current()?;
                let _ = out.write_all(crate::ir::print::print_model(lm).as_bytes());
            }
            ":set" => match rest.split_once('=') {
                Some((name, _)) if name.trim().is_empty() => {
                    return Err(":set needs a name: :set beta = 0.3".into());
                }
                Some((name, value)) => self.set(name.trim(), value.trim(), out)?,
                None if rest.is_empty() => self.list_settings(out),
                None => return Err(format!("`:set {rest}`: write :set name = value")),
            },
            ":reset" => self.reset(rest, out)?,
            ":run" => self.run(rest, out)?,
            ":infer" => self.infer(rest, out)?,
            ":data" => self.attach_data(rest, out)?,
            ":summary" => {
                no_args(":summary")?;
                let text = results::summary(self.last_run()?);
                let _ = out.write_all(text.as_bytes());
            }
            ":save" if rest.is_empty() => {
                return Err(":save needs a file: :save out.csv (or .json)".into());
            }
            ":save" => say!(out, "{}", results::save(self.last_run()?, rest)?),
            ":plot" => {
                let text = results::plot(self.last_run()?, rest, &self.terminal)?;
                let _ = out.write_all(text.as_bytes());
            }
            other => return Err(format!("internal: `{other}` has no handler")),
        }
        Ok(())
    }

    /// Start over with `path` (a file, or a stdlib module): no definitions, no changes. A
    /// file that cannot be read leaves the session as it was.
    pub fn load(&mut self, path: &Path, out: &mut dyn Write) {
        let file = match MainFile::read(path) {
            Ok(f) => f,
            Err(d) => {
                let text = diag::render_all(&[*d], &Default::default(), self.terminal.color);
                let _ = out.write_all(text.as_bytes());
                return;
            }
        };
        self.file = Some(file);
        self.fragments.clear();
        self.settings.clear();
        self.data = DataSet::default();
        self.last = None;
        self.model = None;
        self.recompile(out);
        if self.compilation.has_errors() {
            say!(out, "{} has errors; fix them and :reload", path.display());
            return;
        }
        say!(out, "loaded {}", path.display());
        self.announce_models(out);
    }

    fn reload(&mut self, out: &mut dyn Write) -> Result<(), String> {
        let Some(name) = self.file.as_ref().map(|f| f.name.clone()) else {
            return Err("no file to reload (:load one first)".into());
        };
        let file = MainFile::read(Path::new(&name)).map_err(|d| d.message)?;
        self.file = Some(file);
        self.recompile(out);
        if self.compilation.has_errors() {
            say!(out, "{name} has errors; fix them and :reload");
            return Ok(());
        }
        self.keep_applicable_settings(out);
        say!(out, "reloaded {name}");
        self.announce_models(out);
        Ok(())
    }

    /// Compile the file and the definitions, show what the compiler said, and keep the
    /// current model if it is still there.
    fn recompile(&mut self, out: &mut dyn Write) {
        self.compilation = frontend::compile_session(self.file.as_ref(), &self.fragments, None);
        self.show_diagnostics(&self.compilation.diagnostics, &self.compilation, out);
        let names: Vec<&str> = self
            .compilation
            .program
            .models
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        if !self.model.as_deref().is_some_and(|m| names.contains(&m)) {
            self.model = names.first().map(|s| s.to_string());
            self.settings.clear();
        }
    }

    /// Keep the changes that still apply to the (possibly edited) current model.
    fn keep_applicable_settings(&mut self, out: &mut dyn Write) {
        let mut kept = Vec::new();
        for s in std::mem::take(&mut self.settings) {
            let mut trial = kept.clone();
            trial.push(s.clone());
            match self.bind_with(&trial) {
                Ok(_) => kept.push(s),
                Err(e) => say!(
                    out,
                    "note: dropped :set {} = {} ({})",
                    s.name,
                    s.value,
                    in_repl_terms(&e)
                ),
            }
        }
        self.settings = kept;
    }

    fn announce_models(&self, out: &mut dyn Write) {
        let models = &self.compilation.program.models;
        match (models.len(), &self.model) {
            (0, _) => say!(out, "no models yet; define one with `model Name {{ … }}`"),
            (1, Some(m)) => say!(out, "model {m} ({})", models[0].kind),
            (_, Some(m)) => say!(
                out,
                "models: {}; using {m} (:use another)",
                models
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (_, None) => {}
        }
    }

    fn show_diagnostics(&self, diags: &[Diagnostic], c: &Compilation, out: &mut dyn Write) {
        if !diags.is_empty() {
            let text = diag::render_all(diags, &c.sources, self.terminal.color);
            let _ = out.write_all(text.as_bytes());
        }
    }

    fn use_model(&mut self, name: &str, out: &mut dyn Write) -> Result<(), String> {
        if name.is_empty() {
            return Err(":use needs a model name (:models lists them)".into());
        }
        let models = &self.compilation.program.models;
        let Some(m) = models.iter().find(|m| m.name == name) else {
            let names = models.iter().map(|m| m.name.as_str());
            let hint = crate::check::suggest::did_you_mean(name, names)
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            return Err(format!(
                "no model named `{name}`{hint} (:models lists them)"
            ));
        };
        if self.model.as_deref() != Some(name) {
            self.settings.clear();
            self.last = None;
        }
        say!(out, "using {} ({})", m.name, m.kind);
        self.model = Some(name.to_string());
        Ok(())
    }

    /// The current model and its kernels.
    fn current(&self) -> Result<(&Model, &LoweredModel), String> {
        let Some(name) = &self.model else {
            return Err(if self.compilation.program.models.is_empty() {
                "no model: :load a file, or define `model Name { … }`".to_string()
            } else {
                "no current model: pick one with :use".to_string()
            });
        };
        let c = &self.compilation;
        let m = crate::sim::prepare::pick(c, Some(name))?;
        Ok((m, crate::sim::prepare::lowered(c, m)?))
    }

    fn bound(&self) -> Result<Bound, String> {
        self.bind_with(&self.settings)
    }

    fn bind_with(&self, settings: &[Setting]) -> Result<Bound, String> {
        let (m, lm) = self.current()?;
        bind::bind_partial(lm, m, settings, &self.data)
    }

    /// `fn …`, `model …` or `import …` typed at the prompt: kept if it compiles.
    fn define(&mut self, text: &str, out: &mut dyn Write) {
        self.entered += 1;
        let fragment = Fragment {
            name: format!("<input {}>", self.entered),
            text: text.to_string(),
        };
        let mut fragments = self.fragments.clone();
        fragments.push(fragment);
        let c = frontend::compile_session(self.file.as_ref(), &fragments, None);
        // The new fragment is the last source before the imports: main file, then fragments.
        let id = crate::source::FileId(fragments.len() as u32);
        let own: Vec<Diagnostic> = c
            .diagnostics
            .iter()
            .filter(|d| {
                d.primary.as_ref().is_some_and(|l| l.span.file == id) || d.primary.is_none()
            })
            .cloned()
            .collect();
        self.show_diagnostics(&own, &c, out);
        if diag::has_errors(&own) {
            say!(out, "(not defined)");
            return;
        }
        let models_before = self.model_names();
        let functions_before: Vec<String> = (self.compilation.program.functions.iter())
            .map(|f| f.name.clone())
            .collect();
        self.fragments = fragments;
        self.compilation = c;
        let defined = defined_names(text);
        if defined.is_empty() {
            say!(out, "ok");
        }
        for (is_model, name) in &defined {
            if *is_model {
                let kind = self
                    .compilation
                    .program
                    .models
                    .iter()
                    .find(|m| &m.name == name)
                    .map_or_else(String::new, |m| format!(" ({})", m.kind));
                let verb = if models_before.contains(name) {
                    "redefined"
                } else {
                    "defined"
                };
                say!(out, "{verb} model {name}{kind}; using it");
                if self.model.as_deref() == Some(name) {
                    self.keep_applicable_settings(out);
                } else {
                    self.settings.clear();
                }
                self.model = Some(name.clone());
                self.last = None;
            } else if functions_before.contains(name) {
                say!(out, "redefined fn {name}");
            } else {
                say!(out, "defined fn {name}");
            }
        }
    }

    fn model_names(&self) -> Vec<String> {
        let models = &self.compilation.program.models;
        models.iter().map(|m| m.name.clone()).collect()
    }

    fn set(&mut self, name: &str, value: &str, out: &mut dyn Write) -> Result<(), String> {
        let (m, _) = self.current()?;
        if !m.params.iter().any(|p| p.name == name) && !m.data.iter().any(|d| d.name == name) {
            let names = m
                .params
                .iter()
                .map(|p| p.name.as_str())
                .chain(m.data.iter().map(|d| d.name.as_str()));
            let hint = crate::check::suggest::did_you_mean(name, names)
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            let what = if m.states.iter().any(|s| s.name == name)
                || m.species.iter().any(|s| s.name == name)
            {
                " (it is a state: change its initial value in the file)".to_string()
            } else {
                hint
            };
            return Err(format!(
                "model {} has no parameter or data named `{name}`{what}",
                m.name
            ));
        }
        let mut trial: Vec<Setting> = self
            .settings
            .iter()
            .filter(|s| s.name != name)
            .cloned()
            .collect();
        trial.push(Setting {
            name: name.to_string(),
            value: value.to_string(),
        });
        let bound = self.bind_with(&trial)?;
        self.settings = trial;
        match bound.param_values.iter().find(|(n, _)| n == name) {
            Some((n, v)) => say!(out, "{n} = {v}"),
            None => say!(out, "{name} = {value}"),
        }
        Ok(())
    }

    fn list_settings(&self, out: &mut dyn Write) {
        if self.settings.is_empty() {
            say!(out, "no changes (the file's values apply)");
        }
        for s in &self.settings {
            say!(out, "{} = {}", s.name, s.value);
        }
    }

    fn reset(&mut self, name: &str, out: &mut dyn Write) -> Result<(), String> {
        if name.is_empty() {
            self.settings.clear();
            say!(out, "every parameter is back to the file's value");
            return Ok(());
        }
        let before = self.settings.len();
        self.settings.retain(|s| s.name != name);
        if self.settings.len() == before {
            return Err(format!("`{name}` was not changed with :set"));
        }
        let value = self
            .bound()?
            .param_values
            .into_iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| "the file's value".to_string(), |(_, v)| v.to_string());
        say!(out, "{name} = {value}");
        Ok(())
    }

    fn run(&mut self, words: &str, out: &mut dyn Write) -> Result<(), String> {
        let options = self.options.with(words)?;
        let (m, _) = self.current()?;
        let (result, cancelled) = self.interruptible(|cancel| {
            simulate::simulate(&simulate::Request {
                current: self.inputs(&m.name),
                options: &options,
                cancel,
                progress: self.terminal.progress,
            })
        });
        // Options are remembered once a run accepted them.
        if result.is_ok() || cancelled {
            self.options = options;
        }
        match result {
            Ok(run) => {
                say!(out, "{}", run.report);
                say!(out, "(:plot draws it, :summary tabulates it)");
                self.last = Some(run.recorded);
                Ok(())
            }
            Err(_) if cancelled => {
                let kept = if self.last.is_some() {
                    "; the previous run's results are kept"
                } else {
                    ""
                };
                say!(out, "interrupted{kept}");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// What a run or a fit of `model` takes from the session.
    fn inputs<'a>(&'a self, model: &'a str) -> Current<'a> {
        Current {
            compilation: &self.compilation,
            model,
            settings: &self.settings,
            data: &self.data,
        }
    }

    /// Do `work` with Ctrl-C raising its cancellation flag: its result, and whether it was
    /// interrupted.
    fn interruptible<T>(
        &self,
        work: impl FnOnce(&AtomicBool) -> Result<T, String>,
    ) -> (Result<T, String>, bool) {
        let i = self.interrupt;
        i.requested.store(false, Ordering::Relaxed);
        i.running.store(true, Ordering::Relaxed);
        let result = work(&i.requested);
        i.running.store(false, Ordering::Relaxed);
        (result, i.requested.swap(false, Ordering::Relaxed))
    }

    /// `:data FILE…`: the data (and observed series) the current model is bound with.
    fn attach_data(&mut self, words: &str, out: &mut dyn Write) -> Result<(), String> {
        if words.is_empty() {
            if self.data.values.is_empty() {
                say!(out, "no data attached (:data FILE.json|FILE.csv …)");
            } else {
                say!(out, "data: {}", self.data.source());
            }
            return Ok(());
        }
        let paths: Vec<std::path::PathBuf> = words
            .split_whitespace()
            .map(std::path::PathBuf::from)
            .collect();
        let data = DataSet::read_all(&paths)?;
        let previous = std::mem::replace(&mut self.data, data);
        if self.model.is_some() {
            match self.bound() {
                Ok(b) if !b.unused_data.is_empty() => say!(
                    out,
                    "note: model {} has no data named {}; ignored",
                    self.model.as_deref().unwrap_or_default(),
                    b.unused_data.join(", ")
                ),
                Ok(_) => {}
                Err(e) => {
                    self.data = previous;
                    return Err(e);
                }
            }
        }
        say!(out, "data: {}", self.data.source());
        Ok(())
    }

    fn infer(&mut self, words: &str, out: &mut dyn Write) -> Result<(), String> {
        let options = self.infer_options.with(words)?;
        let (m, _) = self.current()?;
        let (result, cancelled) = self.interruptible(|cancel| {
            fit::infer(&fit::Request {
                current: self.inputs(&m.name),
                options: &options,
                cancel,
            })
        });
        if result.is_ok() || cancelled {
            self.infer_options = options;
        }
        match result {
            Ok(text) => {
                let _ = out.write_all(text.as_bytes());
                Ok(())
            }
            Err(_) if cancelled => {
                say!(out, "interrupted");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn last_run(&self) -> Result<&Recorded, String> {
        self.last
            .as_ref()
            .ok_or_else(|| "nothing has run yet (:run first)".to_string())
    }

    /// `:type` and expressions: the expression checked in the current model (its errors
    /// shown; `None` then).
    fn check_expression(
        &self,
        text: &str,
        out: &mut dyn Write,
    ) -> Result<Option<eval::Checked>, String> {
        if text.trim().is_empty() {
            return Err(":type needs an expression".into());
        }
        if self.compilation.has_errors() {
            return Err("the session's files have errors (fix them and :reload)".into());
        }
        match eval::check(
            self.file.as_ref(),
            &self.fragments,
            self.model.as_deref(),
            text,
        ) {
            Ok(c) => Ok(Some(c)),
            Err(eval::Failure::Diagnostics(c)) => {
                self.show_diagnostics(&c.diagnostics, &c, out);
                Ok(None)
            }
            Err(eval::Failure::Message(m)) => Err(m),
        }
    }

    fn evaluate(&self, text: &str, out: &mut dyn Write) -> Result<(), String> {
        let Some(checked) = self.check_expression(text, out)? else {
            return Ok(());
        };
        let (settings, base_outputs) = match self.model {
            Some(_) => (
                self.settings.as_slice(),
                self.bound()?.sizes[size_index::OUTPUTS],
            ),
            None => (&[][..], 0),
        };
        let value = checked.value(settings, &self.data, base_outputs)?;
        say!(out, "{value}");
        Ok(())
    }

    /// The names completion offers.
    pub fn vocabulary(&self) -> complete::Vocabulary {
        let program = &self.compilation.program;
        let mut v = complete::Vocabulary {
            models: self.model_names(),
            functions: program.functions.iter().map(|f| f.name.clone()).collect(),
            ..Default::default()
        };
        if let Ok((m, _)) = self.current() {
            v.params = m.params.iter().map(|p| p.name.clone()).collect();
            v.params.extend(m.data.iter().map(|d| d.name.clone()));
            v.names = m.consts.iter().map(|c| c.name.clone()).collect();
            v.names.extend(m.states.iter().map(|s| s.name.clone()));
            v.names.extend(m.species.iter().map(|s| s.name.clone()));
            v.names.extend(m.lets.iter().map(|l| l.name.clone()));
        }
        if let Some(last) = &self.last {
            v.variables = last.info.variables.clone();
        }
        v
    }
}

/// An engine's message in the session's words: the values it speaks of come from `:set`
/// and `:data` here, not from the command line's flags.
fn in_repl_terms(message: &str) -> String {
    message
        .replace("--set ", ":set ")
        .replace("--data", ":data")
}

/// The names a fragment defines: (is a model, name) for each `fn` and `model` item.
fn defined_names(text: &str) -> Vec<(bool, String)> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        for (keyword, is_model) in [("model ", true), ("fn ", false)] {
            if let Some(rest) = line.strip_prefix(keyword) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push((is_model, name));
                }
            }
        }
    }
    names
}

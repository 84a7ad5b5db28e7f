//! The front end as one call: read a file and its imports, parse, check, lower the models to
//! kernels when nothing failed, and return the typed program and kernels with every
//! diagnostic. This is what the CLI and the REPL use.

use crate::check::{self, model::Program};
use crate::diag::{self, Code, Diagnostic};
use crate::source::{FileId, ReadError, SourceFile, SourceMap, read_source};
use crate::syntax::{self, ast};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Stack for the front end's thread: parsing and checking recurse over nesting that the
/// pre-scan and depth limits bound, and this keeps them far from overflow.
const FRONTEND_STACK: usize = 256 * 1024 * 1024;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Check only this model (`--model`).
    pub model: Option<String>,
}

/// Everything the front end produced.
#[derive(Debug, Default)]
pub struct Compilation {
    pub sources: SourceMap,
    /// The main file's syntax tree (absent if the file could not be read).
    pub ast: Option<ast::File>,
    /// Typed functions and models (models with errors are left out).
    pub program: Program,
    /// The models compiled to kernels (when the whole file checked without errors).
    pub lowered: Vec<crate::ir::lower::LoweredModel>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// Check a model file. A path like `std/epidemics` that is not a file names a stdlib module.
pub fn compile_file(path: &Path, options: &Options) -> Compilation {
    match MainFile::read(path) {
        Ok(f) => on_big_stack(|| compile(f.name, f.path, f.text, options)),
        Err(d) => Compilation {
            diagnostics: vec![*d],
            ..Compilation::default()
        },
    }
}

/// Check source text (imports are resolved relative to the current directory).
pub fn compile_source(name: &str, text: &str, options: &Options) -> Compilation {
    let text = text.to_string();
    on_big_stack(|| compile(name.to_string(), None, text, options))
}

/// Run `f` on a thread with a large stack; inline if no thread can be started.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut g| g.take());
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("ito-frontend".to_string())
            .stack_size(FRONTEND_STACK)
            .spawn_scoped(s, || take().map(|f| f()));
        let result = match spawned {
            Ok(h) => h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        result.unwrap_or_else(|| take().expect("the closure runs exactly once")())
    })
}

fn compile(name: String, path: Option<PathBuf>, text: String, options: &Options) -> Compilation {
    compile_parts(name, path, text, &[], None, options)
}

/// Source text typed into the REPL, compiled with the session's file: its items join the
/// file's, replacing the file's function or model of the same name.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// How diagnostics name it (`<input 3>`).
    pub name: String,
    pub text: String,
}

/// An expression checked and compiled in the scope of a model (or of the functions alone),
/// as the model's last output: `output let __value = <text>`.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The model whose names are in scope; `None`: only functions (and constants written in
    /// the expression) are.
    pub model: Option<String>,
    /// How diagnostics name the expression (`<input>`).
    pub name: String,
    pub text: String,
}

/// The name of the output a [`Probe`] adds.
pub const PROBE_OUTPUT: &str = "__value";
/// The model a [`Probe`] without a model is checked in.
pub const PROBE_MODEL: &str = "__repl__";

/// A REPL session's model file, read once (at `:load` or `:reload`): everything compiled
/// in the session until the next reload sees this text, whatever happens to the file.
#[derive(Clone, Debug)]
pub struct MainFile {
    /// What the user gave: a path, or a stdlib module (`std/epidemics`).
    pub name: String,
    /// The file's path (imports are found relative to it); `None` for a stdlib module.
    pub path: Option<PathBuf>,
    pub text: String,
}

impl MainFile {
    /// Read `path`, or the stdlib module it names; the diagnostic says why it could not be read.
    pub fn read(path: &Path) -> Result<MainFile, Box<Diagnostic>> {
        let name = path.display().to_string();
        if !path.exists()
            && let Some(text) = crate::stdlib::module(&name)
        {
            return Ok(MainFile {
                name,
                path: None,
                text: text.to_string(),
            });
        }
        match read_source(path) {
            Ok(text) => Ok(MainFile {
                name,
                path: Some(path.to_path_buf()),
                text,
            }),
            Err(e) => Err(Box::new(read_error(&name, &e))),
        }
    }
}

/// Compile a REPL session: its file (if any) with the `fragments` typed so far and, when
/// given, a probe expression. With a probe, only the probe's model is checked.
pub fn compile_session(
    main: Option<&MainFile>,
    fragments: &[Fragment],
    probe: Option<&Probe>,
) -> Compilation {
    let (name, path, text) = match main {
        Some(f) => (f.name.clone(), f.path.clone(), f.text.clone()),
        None => ("<repl>".to_string(), None, String::new()),
    };
    let options = Options {
        model: probe.map(|p| p.model.clone().unwrap_or_else(|| PROBE_MODEL.to_string())),
    };
    on_big_stack(|| compile_parts(name, path, text, fragments, probe, &options))
}

fn compile_parts(
    name: String,
    path: Option<PathBuf>,
    text: String,
    fragments: &[Fragment],
    probe: Option<&Probe>,
    options: &Options,
) -> Compilation {
    let mut sources = SourceMap::new();
    let main_id = sources.add(SourceFile::new(name, path.clone(), text));
    let mut diagnostics = Vec::new();
    let (mut main, parse_diags) = syntax::parse(main_id, &sources.get(main_id).text);
    let mut syntax_errors = diag::has_errors(&parse_diags);
    diagnostics.extend(parse_diags);
    for f in fragments {
        let id = sources.add(SourceFile::new(f.name.clone(), None, f.text.clone()));
        let (parsed, d) = syntax::parse(id, &sources.get(id).text);
        syntax_errors |= diag::has_errors(&d);
        diagnostics.extend(d);
        merge_items(&mut main.items, parsed.items);
    }
    if let Some(p) = probe
        && let Err(d) = add_probe(&mut main, p, &mut sources)
    {
        return Compilation {
            sources,
            ast: Some(main),
            diagnostics: d,
            ..Compilation::default()
        };
    }

    let mut loader = Loader::default();
    loader.load_imports(
        &main,
        path.as_deref(),
        &mut sources,
        &mut diagnostics,
        main_key(&path),
    );

    if main.items.is_empty() && !syntax_errors {
        diagnostics.push(
            Diagnostic::new(
                Code::EmptyFile,
                crate::source::Span::new(main_id, 0, 0),
                "the file contains no model or function",
                if sources.get(main_id).text.trim().is_empty() {
                    "the file is empty"
                } else {
                    "the file holds only comments"
                },
            )
            .with_help("a model file looks like `model Name { … }`"),
        );
    }

    let names: Vec<&str> = main.models().map(|m| m.name()).collect();
    if let Some(want) = &options.model
        && !names.contains(&want.as_str())
        && !syntax_errors
    {
        let help = match check::suggest::did_you_mean(want, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => "the file has no models".to_string(),
            None => format!("the file's models are: {}", names.join(", ")),
        };
        diagnostics.push(
            Diagnostic::global(Code::UnknownModel, format!("no model named `{want}`"))
                .with_help(help),
        );
        return finish(
            sources,
            Some(main),
            Program::default(),
            diagnostics,
            syntax_errors,
        );
    }

    let files: Vec<&ast::File> = loader.files.iter().collect();
    let all: Vec<&ast::File> = std::iter::once(&main)
        .chain(files.iter().copied())
        .collect();
    let import_of = |from: FileId, index: usize| {
        all.iter()
            .find(|f| f.file == from)
            .and_then(|f| f.imports().nth(index))
            .expect("an import edge refers to a loaded file's import")
    };
    let edges: Vec<check::ImportEdge> = loader
        .edges
        .iter()
        .map(|&(from, index, to)| check::ImportEdge {
            from,
            to,
            import: import_of(from, index),
        })
        .collect();
    let failed: Vec<(FileId, &ast::Import)> = loader
        .failed
        .iter()
        .map(|&(from, index)| (from, import_of(from, index)))
        .collect();
    let (program, check_diags) =
        check::check_program(&main, &files, &edges, &failed, options.model.as_deref());
    diagnostics.extend(check_diags);
    finish(sources, Some(main), program, diagnostics, syntax_errors)
}

/// Add `items` to `into`, each replacing an item of the same kind and name.
fn merge_items(into: &mut Vec<ast::Item>, items: Vec<ast::Item>) {
    fn key(item: &ast::Item) -> Option<(bool, &str)> {
        match item {
            ast::Item::Function(f) => Some((false, f.name.name.as_str())),
            ast::Item::Model(m) => Some((true, m.name())),
            ast::Item::Import(_) => None,
        }
    }
    for item in items {
        match key(&item).and_then(|k| into.iter().position(|old| key(old) == Some(k))) {
            Some(at) => into[at] = item,
            None => into.push(item),
        }
    }
}

/// Add the probe's expression to its model (or to a model of its own) as the last output.
fn add_probe(
    main: &mut ast::File,
    probe: &Probe,
    sources: &mut SourceMap,
) -> Result<(), Vec<Diagnostic>> {
    let id = sources.add(SourceFile::new(
        probe.name.clone(),
        None,
        probe.text.clone(),
    ));
    let expr = syntax::parse_expr(id, &sources.get(id).text)?;
    // A model of its own needs something to be a model at all: a parameter with a prior.
    let template = format!(
        "model {PROBE_MODEL} {{\n  param __repl_p: real ~ Normal(0, 1)\n  output let {PROBE_OUTPUT} = 0\n}}\n"
    );
    let template_id = sources.add(SourceFile::new("<repl>".to_string(), None, template));
    let (mut parsed, _) = syntax::parse(template_id, &sources.get(template_id).text);
    let Some(ast::Item::Model(mut own)) = parsed.items.pop() else {
        unreachable!("the probe template is one model")
    };
    let Some(mut stmt) = own.stmts.pop() else {
        unreachable!("the probe template ends with its output")
    };
    if let ast::StmtKind::Let { value, .. } = &mut stmt.kind {
        stmt.span = expr.span;
        *value = expr;
    }
    let Some(model_name) = &probe.model else {
        own.stmts.push(stmt);
        main.items.push(ast::Item::Model(own));
        return Ok(());
    };
    let target = main.items.iter_mut().find_map(|item| match item {
        ast::Item::Model(m) if m.name() == model_name => Some(m),
        _ => None,
    });
    match target {
        Some(m) => {
            m.stmts.push(stmt);
            Ok(())
        }
        None => Err(vec![Diagnostic::global(
            Code::UnknownModel,
            format!("no model named `{model_name}`"),
        )]),
    }
}

/// The compilation: the warnings worth keeping, the models lowered to kernels if nothing
/// failed, and the diagnostics in source order.
fn finish(
    sources: SourceMap,
    ast: Option<ast::File>,
    program: Program,
    mut diagnostics: Vec<Diagnostic>,
    syntax_errors: bool,
) -> Compilation {
    // Warnings about a file that did not parse are mostly echoes of the syntax errors; and
    // with any error, a name used only where checking failed looks unused.
    if syntax_errors {
        diagnostics.retain(Diagnostic::is_error);
    } else if diag::has_errors(&diagnostics) {
        diagnostics.retain(|d| d.is_error() || !d.code.is_usage_warning());
    }
    let mut c = Compilation {
        sources,
        ast,
        program,
        lowered: Vec::new(),
        diagnostics,
    };
    if !c.has_errors() {
        lower_all(&mut c);
    }
    diag::sort(&mut c.diagnostics);
    c.diagnostics.dedup();
    c
}

/// Compile every checked model to kernels; what cannot be compiled is a diagnostic.
fn lower_all(c: &mut Compilation) {
    for m in &c.program.models {
        match crate::ir::lower::lower_model(m, &c.program) {
            Ok(l) => c.lowered.push(l),
            Err(mut d) => c.diagnostics.append(&mut d),
        }
    }
}

/// Loads imported files, each once, and records who imports whom.
#[derive(Default)]
struct Loader {
    /// Imported files (not the main file), in load order.
    files: Vec<ast::File>,
    /// Loaded files by key (canonical path, or `std/<name>`).
    by_key: HashMap<String, FileId>,
    /// (importing file, index of the import in it, imported file)
    edges: Vec<(FileId, usize, FileId)>,
    /// (importing file, index of the import) for imports that could not be loaded.
    failed: Vec<(FileId, usize)>,
    /// Keys of the files being loaded, outermost first: an import of one of them is a cycle.
    stack: Vec<String>,
}

fn main_key(path: &Option<PathBuf>) -> String {
    path.as_ref().map_or_else(
        || "<main>".to_string(),
        |p| canonical(p).display().to_string(),
    )
}

impl Loader {
    fn load_imports(
        &mut self,
        file: &ast::File,
        file_path: Option<&Path>,
        sources: &mut SourceMap,
        diags: &mut Vec<Diagnostic>,
        key: String,
    ) {
        self.stack.push(key);
        for (index, import) in file.imports().enumerate() {
            match self.load(import, file_path, sources, diags) {
                Some(to) => self.edges.push((file.file, index, to)),
                None => self.failed.push((file.file, index)),
            }
        }
        self.stack.pop();
    }

    /// Load one import (or find it already loaded); `None` if it failed (reported).
    fn load(
        &mut self,
        import: &ast::Import,
        importer: Option<&Path>,
        sources: &mut SourceMap,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<FileId> {
        let origin = locate(import, importer, diags)?;
        let key = match &origin {
            Origin::Std(_) => import.path.clone(),
            Origin::File { canon, .. } => canon.display().to_string(),
        };
        if matches!(origin, Origin::File { .. }) && self.stack.contains(&key) {
            diags.push(
                Diagnostic::new(
                    Code::ImportCycle,
                    import.path_span,
                    format!("`{}` imports a file that imports it back", import.path),
                    "this import closes a cycle",
                )
                .with_help("move the shared functions into a third file both import"),
            );
            return None;
        }
        if let Some(&id) = self.by_key.get(&key) {
            return Some(id);
        }
        let (name, path, text) = match origin {
            Origin::Std(text) => (import.path.clone(), None, text.to_string()),
            Origin::File { path, canon } => match read_source(&path) {
                Ok(text) => (path.display().to_string(), Some(canon), text),
                Err(e) => {
                    let d = read_error(&path.display().to_string(), &e);
                    diags.push(Diagnostic {
                        code: Code::ImportNotFound,
                        primary: Some(diag::Label {
                            span: import.path_span,
                            message: "imported here".to_string(),
                        }),
                        ..d
                    });
                    return None;
                }
            },
        };
        let id: FileId = sources.add(SourceFile::new(name, path.clone(), text));
        self.by_key.insert(key.clone(), id);
        let (parsed, d) = syntax::parse(id, &sources.get(id).text);
        diags.extend(d);
        self.load_imports(&parsed, path.as_deref(), sources, diags, key);
        self.files.push(parsed);
        Some(id)
    }
}

/// Where an import's text comes from.
enum Origin {
    /// An embedded stdlib module.
    Std(&'static str),
    /// A file: its path relative to the importer's directory, and its canonical form.
    File { path: PathBuf, canon: PathBuf },
}

/// Where `import` (in the file at `importer`) points; `None` for an unknown stdlib module
/// (reported).
fn locate(
    import: &ast::Import,
    importer: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Origin> {
    if let Some(text) = crate::stdlib::module(&import.path) {
        return Some(Origin::Std(text));
    }
    if import.path.starts_with("std/") {
        let known: Vec<&str> = crate::stdlib::modules().map(|(p, _)| p).collect();
        let help = check::suggest::did_you_mean(&import.path, known.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| format!("the standard modules are: {}", known.join(", ")));
        diags.push(
            Diagnostic::new(
                Code::ImportNotFound,
                import.path_span,
                format!("no standard module `{}`", import.path),
                "not in the standard library",
            )
            .with_help(help),
        );
        return None;
    }
    let base = importer
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let path = base.join(&import.path);
    let canon = canonical(&path);
    Some(Origin::File { path, canon })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn read_error(name: &str, e: &ReadError) -> Diagnostic {
    let (code, message, help) = match e {
        ReadError::NotFound => (
            Code::CannotRead,
            format!("cannot read `{name}`: no such file"),
            None,
        ),
        ReadError::IsDirectory => (
            Code::CannotRead,
            format!("cannot read `{name}`: it is a directory"),
            Some("give the path of a `.sde` file".to_string()),
        ),
        ReadError::TooLarge(n) => (
            Code::FileTooLarge,
            format!(
                "`{name}` is {:.1} MiB; model files may be at most {} MiB",
                *n as f64 / (1024.0 * 1024.0),
                crate::source::MAX_SOURCE_BYTES / (1024 * 1024)
            ),
            Some("split the model into files joined with `import`".to_string()),
        ),
        ReadError::NotUtf8 { line, column } => (
            Code::NotUtf8,
            format!("`{name}` is not valid UTF-8 (line {line}, byte {column} of the line)"),
            Some("save the file as UTF-8".to_string()),
        ),
        ReadError::Io(msg) => (
            Code::CannotRead,
            format!("cannot read `{name}`: {msg}"),
            None,
        ),
    };
    Diagnostic::global(code, message).with_optional_help(help)
}

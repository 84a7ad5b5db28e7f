//! The front end as one call: read a file and its imports, parse, check, and return the typed
//! program with every diagnostic. This is what the CLI and the REPL use.

use crate::check::{self, model::Program};
use crate::diag::{self, Code, Diagnostic};
use crate::source::{FileId, ReadError, SourceFile, SourceMap, read_source};
use crate::syntax::{self, ast};
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
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// Check a model file.
pub fn compile_file(path: &Path, options: &Options) -> Compilation {
    let name = path.display().to_string();
    match read_source(path) {
        Ok(text) => on_big_stack(|| compile(name, Some(path.to_path_buf()), text, options)),
        Err(e) => Compilation {
            diagnostics: vec![read_error(&name, &e)],
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
    let mut sources = SourceMap::new();
    let main_id = sources.add(SourceFile::new(name, path.clone(), text));
    let mut diagnostics = Vec::new();
    let (main, parse_diags) = syntax::parse(main_id, &sources.get(main_id).text);
    let syntax_errors = diag::has_errors(&parse_diags);
    diagnostics.extend(parse_diags);

    let mut imported: Vec<(ast::File, Option<ast::Ident>)> = Vec::new();
    let mut stack = vec![path.clone().map(|p| canonical(&p))];
    load_imports(
        &main,
        path.as_deref(),
        &mut sources,
        &mut imported,
        &mut diagnostics,
        &mut stack,
    );

    if main.items.is_empty() && !syntax_errors {
        diagnostics.push(
            Diagnostic::new(
                Code::EmptyFile,
                crate::source::Span::new(main_id, 0, 0),
                "the file contains no model or function",
                "empty",
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

    let imports: Vec<(&ast::File, Option<&ast::Ident>)> =
        imported.iter().map(|(f, a)| (f, a.as_ref())).collect();
    let (program, check_diags) = check::check_program(&main, &imports, options.model.as_deref());
    diagnostics.extend(check_diags);
    finish(sources, Some(main), program, diagnostics, syntax_errors)
}

fn finish(
    sources: SourceMap,
    ast: Option<ast::File>,
    program: Program,
    mut diagnostics: Vec<Diagnostic>,
    syntax_errors: bool,
) -> Compilation {
    // Warnings about a file that did not parse are mostly echoes of the syntax errors.
    if syntax_errors {
        diagnostics.retain(Diagnostic::is_error);
    }
    diag::sort(&mut diagnostics);
    diagnostics.dedup();
    Compilation {
        sources,
        ast,
        program,
        diagnostics,
    }
}

/// Parse the files `file` imports (and theirs), appending them to `out`.
fn load_imports(
    file: &ast::File,
    dir_of: Option<&Path>,
    sources: &mut SourceMap,
    out: &mut Vec<(ast::File, Option<ast::Ident>)>,
    diags: &mut Vec<Diagnostic>,
    stack: &mut Vec<Option<PathBuf>>,
) {
    for import in file.imports() {
        let (name, path, text) = if let Some(src) = crate::stdlib::module(&import.path) {
            (import.path.clone(), None, src.to_string())
        } else if import.path.starts_with("std/") {
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
            continue;
        } else {
            let base = dir_of
                .and_then(Path::parent)
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let path = base.join(&import.path);
            let canon = canonical(&path);
            if stack.iter().flatten().any(|p| *p == canon) {
                diags.push(
                    Diagnostic::new(
                        Code::ImportCycle,
                        import.path_span,
                        format!("`{}` imports a file that imports it back", import.path),
                        "this import closes a cycle",
                    )
                    .with_help("move the shared functions into a third file both import"),
                );
                continue;
            }
            match read_source(&path) {
                Ok(text) => (path.display().to_string(), Some(canon), text),
                Err(e) => {
                    let mut d = read_error(&path.display().to_string(), &e);
                    d.code = Code::ImportNotFound;
                    diags.push(Diagnostic {
                        primary: Some(diag::Label {
                            span: import.path_span,
                            message: "imported here".to_string(),
                        }),
                        ..d
                    });
                    continue;
                }
            }
        };
        // The same file imported twice is loaded once.
        if let Some(p) = &path
            && let Some(id) = sources.find_path(p)
            && out.iter().any(|(f, _)| f.file == id)
        {
            continue;
        }
        let id: FileId = sources.add(SourceFile::new(name, path.clone(), text));
        let (parsed, d) = syntax::parse(id, &sources.get(id).text);
        diags.extend(d);
        stack.push(path.clone());
        let nested_dir = path.clone();
        load_imports(&parsed, nested_dir.as_deref(), sources, out, diags, stack);
        stack.pop();
        out.push((parsed, import.alias.clone()));
    }
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

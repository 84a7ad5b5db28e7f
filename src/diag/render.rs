//! Turning diagnostics into text: ariadne reports for people, JSON for editors.

use super::{Diagnostic, Severity};
use crate::source::SourceMap;
use ariadne::{Config, IndexType, Label as ALabel, Report, ReportKind};
use serde_json::json;

/// Render one diagnostic as an ariadne report.
pub fn render(diag: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    render_with(diag, sources, &mut source_cache(sources), color)
}

/// ariadne's line index of every file, built once per run (building it is linear in the
/// file's size, so once per diagnostic would be quadratic for big files).
fn source_cache(sources: &SourceMap) -> impl ariadne::Cache<String> + '_ {
    ariadne::sources(
        sources
            .files()
            .map(|(_, f)| (f.name.clone(), f.text.as_str())),
    )
}

fn render_with(
    diag: &Diagnostic,
    sources: &SourceMap,
    cache: &mut impl ariadne::Cache<String>,
    color: bool,
) -> String {
    let kind = match diag.severity() {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte);
    let quotable = diag
        .primary
        .as_ref()
        .is_some_and(|p| line_len_at(sources, p.span) <= MAX_QUOTED_LINE);
    if !quotable {
        // No place in a file, or a line too long to quote: a plain message with the location.
        let mut out = format!(
            "{}[{}]: {}\n",
            severity_word(diag.severity()),
            diag.code,
            diag.message
        );
        if let Some(p) = &diag.primary {
            let f = sources.get(p.span.file);
            let (line, col) = f.line_col(p.span.start as usize);
            out.push_str(&format!("  --> {}:{line}:{col}: {}\n", f.name, p.message));
        }
        if let Some(help) = &diag.help {
            out.push_str(&format!("  help: {help}\n"));
        }
        for note in &diag.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        return out;
    }
    let Some(primary) = &diag.primary else {
        unreachable!("quotable diagnostics have a primary label")
    };
    let name = |id| sources.get(id).name.clone();
    let mut report = Report::build(kind, (name(primary.span.file), primary.span.range()))
        .with_config(config)
        .with_code(diag.code)
        .with_message(&diag.message);
    // Labels in source order: ariadne starts a new box when a label comes before the last one.
    let mut labels: Vec<&super::Label> = std::iter::once(primary).chain(&diag.secondary).collect();
    labels.sort_by_key(|l| (l.span.file, l.span.start));
    for label in labels {
        report = report.with_label(
            ALabel::new((name(label.span.file), label.span.range())).with_message(&label.message),
        );
    }
    if let Some(help) = &diag.help {
        report = report.with_help(help);
    }
    for note in &diag.notes {
        report = report.with_note(note);
    }
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail for I/O reasons; fall back to the message if it does.
    if report.finish().write(cache, &mut buf).is_err() {
        return format!(
            "{}[{}]: {}\n",
            severity_word(diag.severity()),
            diag.code,
            diag.message
        );
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Render several diagnostics followed by a one-line tally.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut out = String::new();
    let mut cache = source_cache(sources);
    for d in diags {
        out.push_str(&render_with(d, sources, &mut cache, color));
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors + warnings > 0 {
        out.push_str(&format!(
            "{} error{}, {} warning{}\n",
            errors,
            plural(errors),
            warnings,
            plural(warnings)
        ));
    }
    out
}

/// Lines longer than this are not quoted (a generated one-line model would flood the terminal).
const MAX_QUOTED_LINE: usize = 400;

fn line_len_at(sources: &SourceMap, span: crate::source::Span) -> usize {
    let text = &sources.get(span.file).text;
    let at = (span.start as usize).min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    end - start
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
    }
}

/// Diagnostics as a JSON array (one object per diagnostic) for editors and tools.
pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let label_json = |l: &super::Label| {
        let file = sources.get(l.span.file);
        let (line, column) = file.line_col(l.span.start as usize);
        let (end_line, end_column) = file.line_col(l.span.end as usize);
        json!({
            "file": file.name,
            "start": l.span.start,
            "end": l.span.end,
            "line": line,
            "column": column,
            "end_line": end_line,
            "end_column": end_column,
            "message": l.message,
        })
    };
    let items: Vec<_> = diags
        .iter()
        .map(|d| {
            json!({
                "severity": match d.severity() { Severity::Error => "error", Severity::Warning => "warning" },
                "code": d.code.as_str(),
                "message": d.message,
                "primary": d.primary.as_ref().map(label_json),
                "labels": d.secondary.iter().map(label_json).collect::<Vec<_>>(),
                "help": d.help,
                "notes": d.notes,
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

//! Diagnostics: what went wrong, where, and what would fix it.
//!
//! Library code returns diagnostics as values; only the CLI prints them, either through
//! ariadne (`render`) or as JSON for editors (`to_json`).

mod code;
mod render;

pub use code::Code;
pub use render::{render, render_all, to_json};

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A message attached to a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One diagnostic: a code, a one-line message, a primary span, optional extra labels, a help
/// line when a fix is likely, and notes.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// `None` only for problems that have no place in a file (an unreadable file, a bad flag).
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic labelled at `span`; `label` says what is wrong at that spot.
    pub fn new(
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Some(Label {
                span,
                message: label.into(),
            }),
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A diagnostic about no particular place in a file.
    pub fn global(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_optional_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn severity(&self) -> Severity {
        if self.code.is_warning() {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    /// Where the diagnostic points, for sorting (file, offset).
    pub fn sort_key(&self) -> (u32, u32, u32) {
        match &self.primary {
            Some(l) => (l.span.file.0, l.span.start, l.span.end),
            None => (0, 0, 0),
        }
    }
}

/// Diagnostics in source order (stable, so snapshot output does not depend on check order).
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.sort_key());
}

/// Whether any of the diagnostics is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

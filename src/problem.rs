//! Problems: konform's own diagnostics about its inputs, configuration and packs.
//!
//! A [`Problem`] is not a policy violation (that is a [`crate::finding::Finding`]); it says
//! that konform could not read or understand something (severity error, exit code 2) or that
//! something looks wrong without stopping the run (a warning, e.g. a misspelt column name).
//! Problems are plain data with spans; [`Problem::diagnostic`] turns one into a
//! `miette::Diagnostic` for rendering.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::source::{FileId, SourceMap, Span};

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemLevel {
    /// Something to know; never changes the exit code.
    Note,
    /// Suspicious but the run is complete; never changes the exit code.
    Warning,
    /// konform could not do its job completely: exit code 2.
    Error,
}

impl ProblemLevel {
    /// The lowercase name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A label on a span of the problem's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is wrong there (may be empty).
    pub text: String,
    /// Whether this is the main place.
    pub primary: bool,
}

/// One diagnostic about konform's inputs, configuration or packs.
#[derive(Debug, Clone)]
pub struct Problem {
    /// A stable code such as `konform::input::bad-date`.
    pub code: String,
    /// Error, warning or note.
    pub level: ProblemLevel,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// The file it is about, if any.
    pub file: Option<FileId>,
    /// Labelled places in that file; the first primary one is the location.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Problem {
    /// Passes the message, help and label texts through `f`.
    pub fn map_texts(&mut self, f: &impl Fn(&str) -> String) {
        self.message = f(&self.message);
        self.help = self.help.as_deref().map(f);
        for l in &mut self.labels {
            l.text = f(&l.text);
        }
    }

    /// An error with a code and message and no location.
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: format!("konform::{code}"),
            level: ProblemLevel::Error,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// A warning with a code and message and no location.
    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self {
            level: ProblemLevel::Warning,
            ..Self::error(code, message)
        }
    }

    /// A note with a code and message and no location.
    pub fn note(code: &str, message: impl Into<String>) -> Self {
        Self {
            level: ProblemLevel::Note,
            ..Self::error(code, message)
        }
    }

    /// Places the problem in `file` (without a label).
    #[must_use]
    pub fn in_file(mut self, file: FileId) -> Self {
        self.file = Some(file);
        self
    }

    /// Places the problem in `file` with a primary label on `span`.
    #[must_use]
    pub fn at(mut self, file: FileId, span: Span, label: impl Into<String>) -> Self {
        self.file = Some(file);
        self.labels.push(Label {
            span,
            text: label.into(),
            primary: true,
        });
        self
    }

    /// Adds a secondary label in the same file.
    #[must_use]
    pub fn with_label(mut self, span: Span, label: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: label.into(),
            primary: false,
        });
        self
    }

    /// Adds help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this problem makes the run fail with exit code 2.
    pub fn is_error(&self) -> bool {
        self.level == ProblemLevel::Error
    }

    /// The primary span, or the first label's span.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or_else(|| self.labels.first())
            .map(|l| l.span)
    }

    /// Converts a diagnostic of another crate (Cedar) into problems, one per diagnostic and
    /// one more per related diagnostic. Its labels are taken as offsets into `file`, whose text
    /// must be the text the diagnostic was produced from.
    pub fn from_diagnostic(code: &str, diag: &dyn Diagnostic, file: Option<FileId>) -> Vec<Self> {
        let mut out = Vec::new();
        let mut help = diag.help().map(|h| h.to_string());
        if let Some(code) = diag.code() {
            let inner = format!("cedar: {code}");
            help = Some(match help {
                Some(h) => format!("{h} ({inner})"),
                None => inner,
            });
        }
        let labels = diag
            .labels()
            .map(|it| {
                it.map(|l| Label {
                    span: Span::new(l.offset(), l.len()),
                    text: l.label().unwrap_or_default().to_owned(),
                    primary: l.primary(),
                })
                .collect()
            })
            .unwrap_or_default();
        let mut message = diag.to_string();
        if let Some(first) = message.get(..1)
            && first.chars().all(|c| c.is_uppercase())
            && !message.starts_with("Cedar")
        {
            message = format!("{}{}", first.to_lowercase(), message.get(1..).unwrap_or(""));
        }
        let message = message.trim_end_matches('.').to_owned();
        out.push(Self {
            code: format!("konform::{code}"),
            level: ProblemLevel::Error,
            message,
            file,
            labels,
            help,
        });
        if let Some(related) = diag.related() {
            for r in related {
                out.extend(Self::from_diagnostic(code, r, file));
            }
        }
        out
    }

    /// A renderable view of this problem.
    pub fn diagnostic<'a>(&'a self, sources: &'a SourceMap) -> ProblemDiagnostic<'a> {
        let source = self.file.map(|f| {
            let file = sources.get(f);
            (file.named_source(), file)
        });
        // A snippet of an overlong line is not drawn; the place is named in the help instead.
        let unshown = source.as_ref().and_then(|(_, file)| {
            let first = self.labels.iter().find(|l| !file.snippet_fits(l.span))?;
            Some(file.unshown_location(first.span))
        });
        match unshown {
            Some(location) => ProblemDiagnostic {
                problem: self,
                source: None,
                clamp: None,
                unshown: Some(location),
            },
            None => ProblemDiagnostic {
                problem: self,
                source: source.as_ref().map(|(n, _)| Arc::clone(n)),
                clamp: source.map(|(_, f)| f),
                unshown: None,
            },
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A [`Problem`] with its source text attached, ready for miette.
#[derive(Debug)]
pub struct ProblemDiagnostic<'a> {
    problem: &'a Problem,
    source: Option<Arc<crate::source::FileSource>>,
    clamp: Option<&'a crate::source::SourceFile>,
    /// Where the problem is, when its snippet is too large to draw.
    unshown: Option<String>,
}

impl fmt::Display for ProblemDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for ProblemDiagnostic<'_> {}

impl Diagnostic for ProblemDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.problem.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.problem.level {
            ProblemLevel::Error => miette::Severity::Error,
            ProblemLevel::Warning => miette::Severity::Warning,
            ProblemLevel::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let lines: Vec<&str> = self
            .unshown
            .as_deref()
            .into_iter()
            .chain(self.problem.help.as_deref())
            .collect();
        (!lines.is_empty()).then(|| Box::new(lines.join("\n")) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_deref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let file = self.clamp?;
        if self.problem.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.problem.labels.iter().map(move |l| {
            let span = file.clamp(l.span);
            let text = (!l.text.is_empty()).then(|| l.text.clone());
            if l.primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn builder_sets_location_and_help() {
        let mut map = SourceMap::new();
        let f = map.add(SourceFile::new("a.csv", None, "id;name\n"));
        let p = Problem::error("input::x", "bad thing")
            .at(f, Span::new(3, 4), "here")
            .with_help("fix it");
        assert!(p.is_error());
        assert_eq!(p.code, "konform::input::x");
        assert_eq!(p.primary_span(), Some(Span::new(3, 4)));
        let d = p.diagnostic(&map);
        assert_eq!(d.labels().map(|l| l.count()), Some(1));
        assert!(d.source_code().is_some());
    }

    #[test]
    fn labels_are_clamped_to_the_text() {
        let mut map = SourceMap::new();
        let f = map.add(SourceFile::new("a", None, "abc"));
        let p = Problem::error("x", "m").at(f, Span::new(2, 50), "");
        let d = p.diagnostic(&map);
        let label = d.labels().and_then(|mut l| l.next());
        assert_eq!(label.map(|l| (l.offset(), l.len())), Some((2, 1)));
    }
}

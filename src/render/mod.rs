//! Renderers: turn a [`crate::finding::Report`] into text for people and machines.
//!
//! Renderers share nothing but the report and a [`RenderContext`]; each returns a `String` and
//! never prints. Redaction ([`crate::redact`]) happens before rendering: a renderer shows what
//! the report holds and says so when [`crate::finding::Report::redacted`] is set.

pub mod csv;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

pub use human::{HumanOptions, human};
pub use json::{json, write_json};

use serde::Serialize;

use crate::finding::Severity;
use crate::source::{FileId, SourceMap, Span};

/// Facts about the run that are not in the report: how it was called and when.
#[derive(Debug, Clone)]
pub struct RenderContext {
    /// The `--fail-on` threshold in force.
    pub fail_on: Severity,
    /// The command line that reproduces the run (arguments shell-quoted), if known.
    pub command: Option<String>,
    /// When the check ran (RFC 3339), if it should be shown; tests leave it out.
    pub run_at: Option<String>,
    /// The most findings drawn one by one in outputs read by people (human, plain, GitHub
    /// annotations); the rest are summarised, and all are counted. `None`: no limit.
    pub max_findings: Option<usize>,
}

impl Default for RenderContext {
    fn default() -> Self {
        Self {
            fail_on: Severity::Error,
            command: None,
            run_at: None,
            max_findings: None,
        }
    }
}

/// The line that stands for the findings not drawn one by one (`--max-findings`).
pub fn not_shown(n: usize) -> String {
    format!(
        "… and {} not shown here (all are counted below; --max-findings 0 shows every one, --format json or an --output report lists them)",
        plural(n, "more finding", "more findings")
    )
}

/// A place in a file: 1-based line and column (columns count characters) of start and end,
/// and the byte span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location<'a> {
    /// The file as shown to users (relative to the current folder).
    pub file: &'a str,
    /// The first line.
    pub line: usize,
    /// The first column.
    pub column: usize,
    /// The last line.
    pub end_line: usize,
    /// The column after the last character.
    pub end_column: usize,
    /// The byte offset into the decoded text.
    pub offset: usize,
    /// The length in bytes.
    pub length: usize,
}

/// The [`Location`] of `span` in `file`.
pub fn location(sources: &SourceMap, file: FileId, span: Span) -> Location<'_> {
    let f = sources.get(file);
    let span = f.clamp(span);
    let (line, column) = f.line_col(span.offset);
    let (end_line, end_column) = f.line_col(span.end());
    Location {
        file: &f.name,
        line,
        column,
        end_line,
        end_column,
        offset: span.offset,
        length: span.len,
    }
}

/// The tool name and version, as every machine format states it.
pub const TOOL_NAME: &str = "konform";
/// The version of konform.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `n` with the singular or plural noun: `1 error`, `2 errors`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

//! Findings (and problems) as CSV, for spreadsheets.
//!
//! One row per finding or problem, RFC 4180 quoting, UTF-8 with a byte-order mark so that
//! spreadsheet programs detect the encoding. Cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, TAB or CR) get a leading `'`, as OWASP recommends
//! against CSV injection: an account list is data from many hands.

use crate::finding::Report;
use crate::problem::ProblemLevel;
use crate::redact::escape_unsafe;

use super::{RenderContext, location};

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "type",
    "severity",
    "policy",
    "pack",
    "file",
    "line",
    "column",
    "subject",
    "message",
    "label",
    "help",
    "basis",
    "url",
    "fingerprint",
];

/// A cell made safe against formula injection.
pub fn neutralise(cell: &str) -> String {
    let cell = escape_unsafe(cell);
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Renders findings and problems as CSV rows.
pub fn csv(report: &Report, _ctx: &RenderContext) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for p in &report.problems {
        let (file, line, column) = match (p.file, p.primary_span()) {
            (Some(f), Some(span)) => {
                let l = location(&report.sources, f, span);
                (l.file.to_owned(), l.line.to_string(), l.column.to_string())
            }
            (Some(f), None) => (
                report.sources.get(f).name.clone(),
                String::new(),
                String::new(),
            ),
            _ => (String::new(), String::new(), String::new()),
        };
        let severity = match p.level {
            ProblemLevel::Error => "error",
            ProblemLevel::Warning => "warning",
            ProblemLevel::Note => "info",
        };
        rows.push(vec![
            "problem".into(),
            severity.into(),
            p.code.clone(),
            String::new(),
            file,
            line,
            column,
            String::new(),
            p.message.clone(),
            p.labels
                .iter()
                .find(|l| l.primary)
                .map(|l| l.text.clone())
                .unwrap_or_default(),
            p.help.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for f in &report.findings {
        let l = location(&report.sources, f.file, f.span);
        rows.push(vec![
            "finding".into(),
            f.severity.name().into(),
            f.policy.clone(),
            f.pack.clone(),
            l.file.to_owned(),
            l.line.to_string(),
            l.column.to_string(),
            f.subject.clone(),
            f.message.clone(),
            f.label.clone(),
            f.help.clone().unwrap_or_default(),
            f.basis.clone().unwrap_or_default(),
            f.url.clone().unwrap_or_default(),
            f.fingerprint.clone(),
        ]);
    }
    let header_ok = w.write_record(COLUMNS).is_ok();
    let rows_ok = rows
        .iter()
        .all(|row| w.write_record(row.iter().map(|c| neutralise(c))).is_ok());
    let bytes = w.into_inner().unwrap_or_default();
    let mut out = String::from("\u{feff}");
    out.push_str(&String::from_utf8_lossy(&bytes));
    if !(header_ok && rows_ok) {
        out.push_str("error,error,konform::render,,,,,,could not write every row,,,,,\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("anna"), "anna");
        assert_eq!(neutralise("a=b"), "a=b");
    }

    #[test]
    fn header_and_bom() {
        let out = csv(&Report::default(), &RenderContext::default());
        assert!(out.starts_with("\u{feff}type,severity,policy,"), "{out}");
        assert_eq!(out.lines().count(), 1);
    }
}

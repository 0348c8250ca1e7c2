//! Findings (and problems) as CSV, for spreadsheets.
//!
//! One row per finding or problem, RFC 4180 quoting, UTF-8 with a byte-order mark so that
//! spreadsheet programs detect the encoding. Cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, TAB or CR) get a leading `'`, as OWASP recommends
//! against CSV injection: an account list is data from many hands.
//!
//! Every finding is a row, also waived ones and those in the baseline: `status` says which
//! (`open`, `waived`, `baselined`), and the `waiver_*` columns give a waiver's reason, approver
//! and last day. Problems leave these columns empty.

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
    "status",
    "waiver_reason",
    "waiver_approved_by",
    "waiver_expires",
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
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for f in &report.findings {
        let l = location(&report.sources, f.file, f.span);
        let w = f.waiver.as_deref();
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
            f.status().into(),
            w.map(|w| w.reason.clone()).unwrap_or_default(),
            w.map(|w| w.approved_by.clone()).unwrap_or_default(),
            w.map(|w| w.expires.clone()).unwrap_or_default(),
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
        out.push_str("error,error,konform::render,,,,,,could not write every row,,,,,,,,,\r\n");
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
    fn set_aside_findings_have_status_and_waiver() {
        use crate::finding::{AppliedWaiver, Finding, Severity};

        use crate::source::{FileId, SourceFile, SourceMap, Span};
        let mut sources = SourceMap::new();
        let a = sources.add(SourceFile::new("a.csv", None, "id\nx\ny\nz\n"));
        let w = sources.add(SourceFile::new("waivers.yaml", None, "waivers: []\n"));
        let finding = |offset: usize, subject: &str| {
            Finding::new(
                "p.x",
                Severity::Warning,
                subject,
                a,
                Span::new(offset, 1),
                format!("`{subject}`"),
            )
        };
        let mut waived = finding(3, "x");
        waived.waiver = Some(Box::new(AppliedWaiver {
            reason: "=HYPERLINK(\"x\"), spare".into(),
            approved_by: "DPO".into(),
            expires: "2027-03-31".into(),
            file: w,
            span: Span::new(0, 8),
        }));
        let mut known = finding(5, "y");
        known.baselined = true;
        let report = Report {
            sources,
            findings: vec![waived, known, finding(7, "z")],
            problems: vec![crate::problem::Problem::warning("config::x", "w").in_file(FileId(1))],
            ..Report::default()
        };
        let out = csv(&report, &RenderContext::default());
        let mut r = ::csv::Reader::from_reader(out.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = r
            .headers()
            .map(|h| h.iter().map(str::to_owned).collect())
            .unwrap_or_default();
        assert_eq!(header, COLUMNS);
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|rec| {
                rec.map(|rec| rec.iter().map(str::to_owned).collect())
                    .unwrap_or_default()
            })
            .collect();
        assert!(rows.iter().all(|row| row.len() == COLUMNS.len()), "{out}");
        let tail = |row: &Vec<String>| row.get(COLUMNS.len() - 4..).map(<[String]>::to_vec);
        let tails: Vec<Option<Vec<String>>> = rows.iter().map(tail).collect();
        let v = |cells: [&str; 4]| Some(cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            tails,
            [
                v(["", "", "", ""]),
                v(["waived", "'=HYPERLINK(\"x\"), spare", "DPO", "2027-03-31"]),
                v(["baselined", "", "", ""]),
                v(["open", "", "", ""]),
            ]
        );
    }

    #[test]
    fn header_and_bom() {
        let out = csv(&Report::default(), &RenderContext::default());
        assert!(out.starts_with("\u{feff}type,severity,policy,"), "{out}");
        assert_eq!(out.lines().count(), 1);
    }
}

//! GitHub Actions workflow commands: one annotation per finding and per problem.
//!
//! Each line is `::error file=…,line=…,endLine=…,col=…,endColumn=…,title=…::message`
//! (`warning` and `notice` for the lower severities), as documented in "Workflow commands for
//! GitHub Actions". Data is escaped as the runner expects: `%`, CR and LF in the message;
//! additionally `:` and `,` in properties. A closing summary line is a plain `::notice`.
//! Waived findings and findings in the baseline are `::notice`s whatever their severity, their
//! message prefixed with `waived until YYYY-MM-DD (approved by …): reason — ` or `in the
//! baseline — `; the summary counts open findings and names the set-aside ones.
//! Input text never reaches the runner unescaped, so a username cannot issue commands of its
//! own (`::add-mask::`, `::stop-commands::`).

use std::fmt::Write as _;

use crate::finding::{Report, Severity};
use crate::problem::ProblemLevel;
use crate::redact::escape_unsafe;

use super::{RenderContext, location};

/// Escapes the message part of a workflow command.
fn data(s: &str) -> String {
    escape_unsafe(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// Renders the report as GitHub Actions annotations, one line each, and a summary notice.
pub fn github(report: &Report, ctx: &RenderContext) -> String {
    let mut out = String::new();
    let sources = &report.sources;
    for p in &report.problems {
        let cmd = match p.level {
            ProblemLevel::Error => "error",
            ProblemLevel::Warning => "warning",
            ProblemLevel::Note => "notice",
        };
        let mut props = vec![format!(
            "title={}",
            property(&format!("konform: {}", p.code))
        )];
        if let Some(file) = p.file {
            let name = &sources.get(file).name;
            props.insert(0, format!("file={}", property(name)));
            if let Some(span) = p.primary_span() {
                let loc = location(sources, file, span);
                props.insert(1, format!("line={},col={}", loc.line, loc.column));
            }
        }
        let mut message = p.message.clone();
        if let Some(help) = &p.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        let _ = writeln!(out, "::{cmd} {}::{}", props.join(","), data(&message));
    }
    let max = ctx.max_findings.unwrap_or(usize::MAX);
    for f in report.findings.iter().take(max) {
        let loc = location(sources, f.file, f.span);
        let prefix = match &f.waiver {
            Some(w) => format!(
                "waived until {} (approved by {}): {} — ",
                w.expires, w.approved_by, w.reason
            ),
            None if f.baselined => "in the baseline — ".to_owned(),
            None => String::new(),
        };
        let mut message = format!("{prefix}{} (record {})", f.message, f.subject);
        if let Some(help) = &f.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        if let Some(basis) = &f.basis {
            let _ = write!(message, "\nbasis: {basis}");
        }
        let _ = writeln!(
            out,
            "::{} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            if f.is_open() {
                command(f.severity)
            } else {
                "notice"
            },
            property(loc.file),
            loc.line,
            loc.end_line,
            loc.column,
            loc.end_column,
            property(&format!("konform: {}", f.policy)),
            data(&message),
        );
    }
    if report.findings.len() > max {
        let _ = writeln!(
            out,
            "::notice title=konform::{}",
            data(&super::not_shown(report.findings.len() - max))
        );
    }
    let (e, w, i) = report.counts();
    let (waived, baselined) = report.set_aside();
    let mut aside = Vec::new();
    if waived > 0 {
        aside.push(format!("{waived} waived"));
    }
    if baselined > 0 {
        aside.push(format!("{baselined} in the baseline"));
    }
    let verdict = if report.has_errors() {
        "the check is incomplete"
    } else {
        match report.exit_code(ctx.fail_on) {
            0 => "passed",
            _ => "failed",
        }
    };
    let _ = writeln!(
        out,
        "::notice title=konform::{}",
        data(&format!(
            "{verdict}: {}, {}, {} in {}{}{}",
            super::plural(e, "error", "errors"),
            super::plural(w, "warning", "warnings"),
            super::plural(i, "info", "infos"),
            super::plural(report.stats.records, "record", "records"),
            if aside.is_empty() {
                String::new()
            } else {
                format!("; not counted: {}", aside.join(", "))
            },
            if report.redacted {
                " (personal data redacted)"
            } else {
                ""
            }
        ))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_commands_on_one_line() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        // A username cannot inject a workflow command of its own on a new line.
        assert_eq!(
            data("x\n::add-mask::secret"),
            "x%0A::add-mask::secret",
            "stays inside the message"
        );
        assert_eq!(data("\u{1b}[31m"), "\\u{1b}[31m");
    }

    #[test]
    fn set_aside_findings_are_notices() {
        use crate::finding::{AppliedWaiver, Finding};

        use crate::source::{SourceFile, SourceMap, Span};
        let mut sources = SourceMap::new();
        let a = sources.add(SourceFile::new("a.csv", None, "id\nx\ny\nz\n"));
        let finding = |offset: usize, subject: &str| {
            Finding::new(
                "p.x",
                Severity::Error,
                subject,
                a,
                Span::new(offset, 1),
                format!("`{subject}` is bad"),
            )
        };
        let mut waived = finding(3, "x");
        waived.waiver = Some(Box::new(AppliedWaiver {
            reason: "100% spare\n::add-mask::x".into(),
            approved_by: "DPO".into(),
            expires: "2027-03-31".into(),
            file: a,
            span: Span::new(0, 2),
        }));
        let mut known = finding(5, "y");
        known.baselined = true;
        let report = Report {
            sources,
            findings: vec![waived, known, finding(7, "z")],
            ..Report::default()
        };
        let out = github(&report, &RenderContext::default());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(
            lines[0].starts_with("::notice file=a.csv,line=2,")
                && lines[0].ends_with(
                    "::waived until 2027-03-31 (approved by DPO): 100%25 spare%0A::add-mask::x — `x` is bad (record x)"
                ),
            "{out}"
        );
        assert!(
            lines[1].starts_with("::notice file=a.csv,line=3,")
                && lines[1].ends_with("::in the baseline — `y` is bad (record y)"),
            "{out}"
        );
        assert!(lines[2].starts_with("::error file=a.csv,line=4,"), "{out}");
        assert_eq!(
            lines[3],
            "::notice title=konform::failed: 1 error, 0 warnings, 0 infos in 0 records; not counted: 1 waived, 1 in the baseline"
        );
    }
}

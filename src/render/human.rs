//! Human output: miette's graphical diagnostics with source snippets, then a summary.

use std::fmt::Write as _;
use std::time::Duration;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NarratableReportHandler};

use crate::finding::{Report, Severity};
use crate::problem::ProblemLevel;

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct HumanOptions {
    /// ANSI colours.
    pub color: bool,
    /// Unicode box drawing; plain narratable text (for screen readers) when false.
    pub graphics: bool,
    /// Line width.
    pub width: usize,
    /// Time taken, shown in the summary.
    pub elapsed: Option<Duration>,
    /// The most findings drawn; the rest are summarised in one line (all are counted).
    pub max_findings: Option<usize>,
}

impl Default for HumanOptions {
    fn default() -> Self {
        Self {
            color: false,
            graphics: true,
            width: 100,
            elapsed: None,
            max_findings: None,
        }
    }
}

fn draw(out: &mut String, diag: &dyn Diagnostic, opts: &HumanOptions) {
    let result = if opts.graphics {
        let theme = if opts.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        GraphicalReportHandler::new_themed(theme)
            .with_width(opts.width)
            .with_links(false)
            .render_report(out, diag)
    } else {
        NarratableReportHandler::new().render_report(out, diag)
    };
    if result.is_err() {
        let _ = writeln!(out, "{diag}");
    }
    out.push('\n');
}

/// One diagnostic drawn as in [`human`], with its trailing blank line.
pub fn draw_one(diag: &dyn Diagnostic, opts: &HumanOptions) -> String {
    let mut out = String::new();
    draw(&mut out, diag, opts);
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the report for people.
pub fn human(report: &Report, opts: &HumanOptions) -> String {
    let mut out = String::new();
    for p in &report.problems {
        draw(&mut out, &p.diagnostic(&report.sources), opts);
    }
    // Findings in the baseline are the known backlog: counted in the summary, not drawn.
    let drawn: Vec<_> = report
        .findings
        .iter()
        .filter(|f| !f.baselined || f.waiver.is_some())
        .collect();
    let max = opts.max_findings.unwrap_or(usize::MAX);
    for f in drawn.iter().take(max) {
        draw(&mut out, &f.diagnostic(&report.sources), opts);
    }
    if drawn.len() > max {
        let _ = writeln!(out, "{}\n", super::not_shown(drawn.len() - max));
    }
    let _ = writeln!(out, "{}", summary(report, opts.elapsed));
    out
}

/// The closing summary lines.
pub fn summary(report: &Report, elapsed: Option<Duration>) -> String {
    let mut s = String::new();
    let packs: Vec<&str> = report.packs.iter().map(|(id, _)| id.as_str()).collect();
    let time = elapsed.map_or_else(String::new, |d| format!(" in {:.2}s", d.as_secs_f64()));
    let kinds: Vec<String> = report
        .stats
        .by_kind
        .iter()
        .map(|(kind, n)| match *kind {
            "accounts" => plural(*n, "account", "accounts"),
            "consents" => plural(*n, "consent", "consents"),
            "service" => plural(*n, "platform module", "platform modules"),
            other => format!("{n} {other}"),
        })
        .collect();
    let records = if kinds.is_empty() {
        "0 records".to_owned()
    } else {
        kinds.join(", ")
    };
    let _ = writeln!(
        s,
        "checked {records} from {} against {} of {} ({}) for {}{time}",
        plural(report.stats.files, "file", "files"),
        plural(report.stats.policies, "rule", "rules"),
        plural(packs.len(), "pack", "packs"),
        if packs.is_empty() {
            "none".to_owned()
        } else {
            packs.join(", ")
        },
        report.today,
    );
    let (e, w, i) = report.counts();
    let errors = report.problems.iter().filter(|p| p.is_error()).count();
    let _ = write!(
        s,
        "found {}{}: {}, {}, {}",
        plural(e + w + i, "finding", "findings"),
        if errors > 0 {
            " in what could be checked"
        } else {
            ""
        },
        plural(e, "error", "errors"),
        plural(w, "warning", "warnings"),
        plural(i, "info", "infos"),
    );
    let (waived, baselined) = report.set_aside();
    if waived + baselined > 0 {
        let mut parts = Vec::new();
        if waived > 0 {
            parts.push(format!("{waived} waived"));
        }
        if baselined > 0 {
            parts.push(format!("{baselined} in the baseline (not shown)"));
        }
        let _ = write!(s, "\nnot counted: {}", parts.join(", "));
    }
    let warnings = report
        .problems
        .iter()
        .filter(|p| p.level == ProblemLevel::Warning)
        .count();
    if warnings > 0 {
        let _ = write!(
            s,
            "\n{} about the inputs or configuration",
            plural(warnings, "warning", "warnings")
        );
    }
    if report.redacted {
        let _ = write!(
            s,
            "\npersonal data is masked (names, e-mail addresses, birth dates, national ids); --no-redact shows it"
        );
    }
    if !report.stats.disabled.is_empty() {
        let _ = write!(
            s,
            "\nswitched off in konform.yaml: {}",
            report.stats.disabled.join(", ")
        );
    }
    if !report.stats.incomplete_files.is_empty() {
        let _ = write!(
            s,
            "\nnot checked, could not be read completely: {}",
            report.stats.incomplete_files.join(", ")
        );
    }
    if errors > 0 {
        let _ = write!(
            s,
            "\nthe check is incomplete: {} (exit code 2)",
            plural(errors, "error stopped konform", "errors stopped konform")
        );
    }
    s
}

/// The worst finding severity, if any.
pub fn worst(report: &Report) -> Option<Severity> {
    report.findings.iter().map(|f| f.severity).max()
}

//! A Markdown summary for `$GITHUB_STEP_SUMMARY` or a merge-request comment.
//!
//! GitHub-flavoured Markdown: a verdict, a table of findings per policy, the findings (at most
//! [`MAX_LISTED`]) and the problems. Every value from the report is escaped: Markdown
//! punctuation with a backslash, and `<`, `>` and `&` as HTML entities (GitHub renders inline
//! HTML), so input data cannot add links, images or markup to the page.
//!
//! Waived findings and findings in the baseline do not count: the summary line and the table
//! count open findings, the table has a column "Set aside" when any is, and the list marks
//! them (`(waived until YYYY-MM-DD)`, `(baseline)`) after the open ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::finding::{Finding, Report, Severity};
use crate::redact::escape_unsafe;

use super::{RenderContext, TOOL_NAME, TOOL_VERSION, location};

/// Findings listed one by one; the rest are counted.
pub const MAX_LISTED: usize = 100;

/// Escapes text for Markdown inline context and table cells.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape_unsafe(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            // Values stand inside a line, never at its start, so only inline markup matters.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // Bare URLs would become links (GFM autolinks); input data gets no links.
    out.replace("://", "\\://").replace("www.", "www\\.")
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "🔴 error",
        Severity::Warning => "🟠 warning",
        Severity::Info => "🔵 info",
    }
}

/// How a set-aside finding is marked in the list: ` (waived until YYYY-MM-DD)`, ` (baseline)`.
fn mark(f: &Finding) -> String {
    match &f.waiver {
        Some(w) => format!(" *(waived until {})*", escape(&w.expires)),
        None if f.baselined => " *(baseline)*".to_owned(),
        None => String::new(),
    }
}

/// Renders the report as a Markdown summary.
pub fn markdown(report: &Report, ctx: &RenderContext) -> String {
    let mut out = String::new();
    let (e, w, i) = report.counts();
    let (waived, baselined) = report.set_aside();
    let verdict = if report.has_errors() {
        "❗ **incomplete**: konform could not check everything (exit code 2)".to_owned()
    } else if report.exit_code(ctx.fail_on) == 0 {
        format!("✅ **passed** (fail on {})", ctx.fail_on)
    } else {
        format!("❌ **failed** (fail on {})", ctx.fail_on)
    };
    let _ = writeln!(out, "## konform compliance check\n");
    let _ = writeln!(out, "{verdict}\n");
    let school = report
        .school
        .as_ref()
        .map(|s| match &s.name {
            Some(name) => format!("{} ({})", escape(name), escape(&s.id)),
            None => escape(&s.id),
        })
        .unwrap_or_default();
    let mut aside = Vec::new();
    if waived > 0 {
        aside.push(format!("{waived} waived"));
    }
    if baselined > 0 {
        aside.push(format!("{baselined} in the baseline"));
    }
    let _ = writeln!(
        out,
        "{}, {}, {}{} in {} from {}, checked against {} on {}{}{}.\n",
        super::plural(e, "error", "errors"),
        super::plural(w, "warning", "warnings"),
        super::plural(i, "info", "infos"),
        if aside.is_empty() {
            String::new()
        } else {
            format!(" (not counted: {})", aside.join(", "))
        },
        super::plural(report.stats.records, "record", "records"),
        super::plural(report.stats.files, "file", "files"),
        super::plural(report.stats.policies, "rule", "rules"),
        escape(&report.today),
        if school.is_empty() {
            String::new()
        } else {
            format!(" for {school}")
        },
        if report.redacted {
            "; personal data redacted"
        } else {
            ""
        },
    );
    if !report.stats.incomplete_files.is_empty() {
        let _ = writeln!(
            out,
            "> **Not checked**, could not be read completely: {}\n",
            report
                .stats
                .incomplete_files
                .iter()
                .map(|f| format!("`{}`", f.replace('`', "'")))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // Errors and warnings (expired or unused waivers, unknown columns …); notes are left out.
    let errors: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.level != crate::problem::ProblemLevel::Note)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "### Problems\n");
        for p in errors {
            let at = p
                .file
                .map(|file| match p.primary_span() {
                    Some(span) => {
                        let l = location(&report.sources, file, span);
                        format!(" at {}:{}", escape(l.file), l.line)
                    }
                    None => format!(" in {}", escape(&report.sources.get(file).name)),
                })
                .unwrap_or_default();
            let _ = writeln!(out, "- {}{at}: {}", escape(&p.code), escape(&p.message));
        }
        out.push('\n');
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    } else {
        // Per policy: severity, open findings, set-aside findings.
        let mut by_policy: BTreeMap<&str, (Severity, usize, usize)> = BTreeMap::new();
        for f in &report.findings {
            let entry = by_policy.entry(&f.policy).or_insert((f.severity, 0, 0));
            if f.is_open() {
                entry.1 += 1;
            } else {
                entry.2 += 1;
            }
        }
        let any_aside = waived + baselined > 0;
        let mut rows: Vec<_> = by_policy.into_iter().collect();
        rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        if any_aside {
            let _ = writeln!(out, "| Severity | Policy | Findings | Set aside | Basis |");
            let _ = writeln!(out, "|---|---|---:|---:|---|");
        } else {
            let _ = writeln!(out, "| Severity | Policy | Findings | Basis |");
            let _ = writeln!(out, "|---|---|---:|---|");
        }
        for (policy, (severity, n, set_aside)) in rows {
            let basis = report
                .rules
                .iter()
                .find(|r| r.id == policy)
                .and_then(|r| r.basis.as_deref())
                .map(escape)
                .unwrap_or_default();
            let aside_cell = if any_aside {
                format!(" {set_aside} |")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {n} |{aside_cell} {basis} |",
                icon(severity),
                policy.replace('`', "'")
            );
        }
        let _ = writeln!(out, "\n<details><summary>Findings</summary>\n");
        // Open findings first: they are what needs doing.
        let listed = report
            .findings
            .iter()
            .filter(|f| f.is_open())
            .chain(report.findings.iter().filter(|f| !f.is_open()));
        for f in listed.take(MAX_LISTED) {
            let l = location(&report.sources, f.file, f.span);
            let _ = writeln!(
                out,
                "- **{}** `{}` {}:{}:{}: {} ({}){}",
                f.severity,
                f.policy.replace('`', "'"),
                escape(l.file),
                l.line,
                l.column,
                escape(&f.message),
                escape(&f.subject),
                mark(f),
            );
        }
        if report.findings.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "- … and {} more (see the full report)",
                report.findings.len() - MAX_LISTED
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    let packs: Vec<String> = report
        .packs
        .iter()
        .map(|(id, v)| format!("{} {}", escape(id), escape(v)))
        .collect();
    let _ = writeln!(
        out,
        "<sub>{TOOL_NAME} {TOOL_VERSION}; packs: {}</sub>",
        if packs.is_empty() {
            "none".to_owned()
        } else {
            packs.join(", ")
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_cannot_add_markup() {
        assert_eq!(
            escape("[click](https://evil.example) <img src=x> a|b"),
            "\\[click\\](https\\://evil.example) &lt;img src=x&gt; a\\|b"
        );
        assert_eq!(escape("line\nbreak"), "line break");
    }

    #[test]
    fn set_aside_findings_are_marked_and_not_counted() {
        use crate::finding::AppliedWaiver;

        use crate::source::{SourceFile, SourceMap, Span};
        let mut sources = SourceMap::new();
        let a = sources.add(SourceFile::new("a.csv", None, "id\nx\ny\nz\n"));
        let finding = |offset: usize, policy: &str, subject: &str| Finding {
            pack: "p".into(),
            ..Finding::new(
                policy,
                Severity::Error,
                subject,
                a,
                Span::new(offset, 1),
                format!("`{subject}` is bad"),
            )
        };
        let mut waived = finding(3, "p.a", "x");
        waived.waiver = Some(Box::new(AppliedWaiver {
            reason: "spare".into(),
            approved_by: "DPO".into(),
            expires: "2027-03-31".into(),
            file: a,
            span: Span::new(0, 2),
        }));
        let mut known = finding(5, "p.b", "y");
        known.baselined = true;
        let mut report = Report {
            sources,
            findings: vec![waived, known, finding(7, "p.a", "z")],
            ..Report::default()
        };
        let md = markdown(&report, &RenderContext::default());
        assert!(md.contains("❌ **failed**"), "{md}");
        assert!(
            md.contains(
                "1 error, 0 warnings, 0 infos (not counted: 1 waived, 1 in the baseline) in"
            ),
            "{md}"
        );
        assert!(
            md.contains("| Severity | Policy | Findings | Set aside | Basis |"),
            "{md}"
        );
        assert!(md.contains("| 🔴 error | `p.a` | 1 | 1 |  |"), "{md}");
        assert!(md.contains("| 🔴 error | `p.b` | 0 | 1 |  |"), "{md}");
        // Open findings first, then the set-aside ones, marked.
        let list: Vec<&str> = md.lines().filter(|l| l.starts_with("- **")).collect();
        assert_eq!(
            list,
            [
                "- **error** `p.a` a.csv:4:1: \\`z\\` is bad (z)",
                "- **error** `p.a` a.csv:2:1: \\`x\\` is bad (x) *(waived until 2027-03-31)*",
                "- **error** `p.b` a.csv:3:1: \\`y\\` is bad (y) *(baseline)*",
            ]
        );
        // Everything set aside: the check passes.
        report.findings.truncate(2);
        let md = markdown(&report, &RenderContext::default());
        assert!(md.contains("✅ **passed**"), "{md}");
    }

    #[test]
    fn empty_report_says_no_findings() {
        let md = markdown(&Report::default(), &RenderContext::default());
        assert!(md.contains("✅ **passed**"), "{md}");
        assert!(md.contains("No findings."), "{md}");
    }
}

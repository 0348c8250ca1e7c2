//! A Markdown summary for `$GITHUB_STEP_SUMMARY` or a merge-request comment.
//!
//! GitHub-flavoured Markdown: a verdict, a table of findings per policy, the findings (at most
//! [`MAX_LISTED`]) and the problems. Every value from the report is escaped: Markdown
//! punctuation with a backslash, and `<`, `>` and `&` as HTML entities (GitHub renders inline
//! HTML), so input data cannot add links, images or markup to the page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::finding::{Report, Severity};
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

/// Renders the report as a Markdown summary.
pub fn markdown(report: &Report, ctx: &RenderContext) -> String {
    let mut out = String::new();
    let (e, w, i) = report.counts();
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
    let _ = writeln!(
        out,
        "{}, {}, {} in {} from {}, checked against {} on {}{}{}.\n",
        super::plural(e, "error", "errors"),
        super::plural(w, "warning", "warnings"),
        super::plural(i, "info", "infos"),
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
    let errors: Vec<_> = report.problems.iter().filter(|p| p.is_error()).collect();
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
        let mut by_policy: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
        for f in &report.findings {
            by_policy.entry(&f.policy).or_insert((f.severity, 0)).1 += 1;
        }
        let mut rows: Vec<_> = by_policy.into_iter().collect();
        rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let _ = writeln!(out, "| Severity | Policy | Findings | Basis |");
        let _ = writeln!(out, "|---|---|---:|---|");
        for (policy, (severity, n)) in rows {
            let basis = report
                .rules
                .iter()
                .find(|r| r.id == policy)
                .and_then(|r| r.basis.as_deref())
                .map(escape)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | `{}` | {n} | {basis} |",
                icon(severity),
                policy.replace('`', "'")
            );
        }
        let _ = writeln!(out, "\n<details><summary>Findings</summary>\n");
        for f in report.findings.iter().take(MAX_LISTED) {
            let l = location(&report.sources, f.file, f.span);
            let _ = writeln!(
                out,
                "- **{}** `{}` {}:{}:{}: {} ({})",
                f.severity,
                f.policy.replace('`', "'"),
                escape(l.file),
                l.line,
                l.column,
                escape(&f.message),
                escape(&f.subject),
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
    fn empty_report_says_no_findings() {
        let md = markdown(&Report::default(), &RenderContext::default());
        assert!(md.contains("✅ **passed**"), "{md}");
        assert!(md.contains("No findings."), "{md}");
    }
}

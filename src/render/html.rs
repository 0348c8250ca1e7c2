//! HTML audit report: one self-contained page for data-protection officers.
//!
//! The page loads nothing: CSS is inline, the charts are inline SVG, there is no JavaScript,
//! and a `Content-Security-Policy` meta tag (`default-src 'none'`) makes the browser refuse any
//! request should a value ever slip through. The only URLs in the output are the
//! documentation links of policies (`@url`), written as plain `<a href>` links; they are
//! followed only when the reader clicks them, and only `http:` and `https:` URLs become links
//! (anything else, such as `javascript:`, is shown as text).
//!
//! Every value from the report is HTML-escaped ([`escape`]), also inside attributes, and
//! control characters (other than tab and line breaks) and bidirectional overrides are
//! removed. The markup is well-formed XML as well as HTML5 (void elements are self-closed,
//! only the XML entities and numeric references are used), so the report can be checked with
//! an XML parser.
//!
//! The output is deterministic: no timestamp but [`RenderContext::run_at`], no absolute path
//! that the report does not hold. Large runs stay readable: at most
//! [`MAX_FINDINGS_PER_POLICY`] findings are listed per policy (the rest are counted), the
//! evidence of a finding is at most a few lines around the offending place, and long lines
//! are cut around it.
//!
//! Redaction happens before rendering ([`crate::redact::redact`]); the page shows at the top
//! whether personal data is masked, and warns when it is not.
//!
//! Waived findings and findings in the baseline are listed with the others (after the open
//! ones of their policy), each with a badge (`WAIVED`, `BASELINE`) and, for a waiver, its
//! reason, approver, last day and entry (`waivers.yaml:3`, no link). Counts, charts and the
//! verdict are of open findings; the set-aside ones are counted apart.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use super::{RenderContext, TOOL_NAME, TOOL_VERSION, location};
use crate::finding::{Finding, Report, RuleInfo, Severity};
use crate::problem::{Problem, ProblemLevel};
use crate::source::{FileId, FileRole, SourceFile, Span};

/// Findings listed per policy; further findings of the policy are only counted.
pub const MAX_FINDINGS_PER_POLICY: usize = 200;

/// Problems listed per section; further problems are only counted.
pub const MAX_PROBLEMS: usize = 200;

/// Related places (the counted records of a limit) listed per finding.
const MAX_RELATED: usize = 50;

/// Source lines shown as the evidence of one finding.
const MAX_EVIDENCE_LINES: usize = 5;

/// Bytes of one evidence line shown at most; longer lines are cut around the marked place.
const MAX_LINE_BYTES: usize = 320;

/// How far (in bytes) to look for the start or end of a line; beyond that the line is cut.
const LINE_SCAN: usize = 8192;

/// Characters of a policy id in a chart label; the tables show the whole id.
const CHART_LABEL_CHARS: usize = 46;

/// Whether a character is dropped from the output: control characters other than tab and
/// line breaks (not allowed in XML, dangerous in terminals), bidirectional overrides and
/// isolates ("Trojan Source"), and the non-characters U+FFFE and U+FFFF.
fn is_dropped(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(
            c,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Writes `s` HTML-escaped (`&`, `<`, `>`, `"`, `'`), without dropped characters.
fn write_escaped(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let rep = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            c if is_dropped(c) => "",
            _ => continue,
        };
        f.write_str(s.get(start..i).unwrap_or_default())?;
        f.write_str(rep)?;
        start = i + c.len_utf8();
    }
    f.write_str(s.get(start..).unwrap_or_default())
}

/// `s` HTML-escaped for text and attribute values (see the module documentation).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = write_escaped(&mut out, s);
    out
}

/// A value that is HTML-escaped when formatted.
struct E<'a>(&'a str);

impl fmt::Display for E<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

/// A message as HTML: escaped, with each pair of backticks (`` `L1021` ``) set as `<code>`.
struct Rich<'a>(&'a str);

impl fmt::Display for Rich<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self.0.split('`').collect();
        if parts.len() < 3 || parts.len().is_multiple_of(2) {
            // No pair, or an unpaired backtick: shown as it is.
            return write_escaped(f, self.0);
        }
        for (i, part) in parts.iter().enumerate() {
            if i % 2 == 1 {
                f.write_str("<code>")?;
                write_escaped(f, part)?;
                f.write_str("</code>")?;
            } else {
                write_escaped(f, part)?;
            }
        }
        Ok(())
    }
}

/// Whether `url` may become a link: an absolute `http:` or `https:` URL.
fn is_web_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || is_dropped(c))
}

/// `n` with `one` or `many`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How a record kind is called in the summary.
fn kind_label(kind: &str) -> &str {
    match kind {
        "accounts" => "accounts",
        "consents" => "consent records",
        "people" => "people (leading system)",
        "service" => "platform modules",
        "systems" => "IT systems",
        other => other,
    }
}

/// The English name of a country code, where konform knows it.
fn country_name(code: &str) -> Option<&'static str> {
    match code.to_ascii_uppercase().as_str() {
        "DE" => Some("Germany"),
        "DK" => Some("Denmark"),
        "SE" => Some("Sweden"),
        _ => None,
    }
}

/// The CSS class of a severity.
fn sev_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "sev-error",
        Severity::Warning => "sev-warning",
        Severity::Info => "sev-info",
    }
}

/// The fill colour of a severity in charts (each passes 4.5:1 against white).
fn sev_fill(s: Severity) -> &'static str {
    match s {
        Severity::Error => "#b42318",
        Severity::Warning => "#a15c07",
        Severity::Info => "#175cd3",
    }
}

/// The CSS class of a problem level.
fn level_class(l: ProblemLevel) -> &'static str {
    match l {
        ProblemLevel::Error => "sev-error",
        ProblemLevel::Warning => "sev-warning",
        ProblemLevel::Note => "sev-info",
    }
}

/// `N waived, M in the baseline` (the parts that are not zero).
fn set_aside_text(waived: usize, baselined: usize) -> String {
    let mut parts = Vec::new();
    if waived > 0 {
        parts.push(format!("{waived} waived"));
    }
    if baselined > 0 {
        parts.push(format!("{baselined} in the baseline"));
    }
    parts.join(", ")
}

/// The number of waived and of baselined findings among `findings` (as
/// [`Report::set_aside`] counts them).
fn aside_counts<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> (usize, usize) {
    findings
        .into_iter()
        .fold((0, 0), |(w, b), f| match (&f.waiver, f.baselined) {
            (Some(_), _) => (w + 1, b),
            (None, true) => (w, b + 1),
            (None, false) => (w, b),
        })
}

/// The findings of one policy, with what the report knows about the policy.
struct Group<'a> {
    id: &'a str,
    rule: Option<&'a RuleInfo>,
    severity: Severity,
    pack: &'a str,
    /// Open findings first, then the set-aside ones, each in report order.
    findings: Vec<&'a Finding>,
    /// The number of open findings.
    open: usize,
}

/// Findings grouped by policy, ordered by severity (worst first), then policy id; policies
/// whose findings are all set aside come last.
fn groups(report: &Report) -> Vec<Group<'_>> {
    let rules: BTreeMap<&str, &RuleInfo> =
        report.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut by_policy: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_policy.entry(f.policy.as_str()).or_default().push(f);
    }
    let mut out: Vec<Group<'_>> = by_policy
        .into_iter()
        .map(|(id, mut findings)| {
            findings.sort_by_key(|f| !f.is_open());
            let open = findings.iter().filter(|f| f.is_open()).count();
            let rule = rules.get(id).copied();
            let worst = findings
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            Group {
                id,
                rule,
                severity: rule.map_or(worst, |r| r.severity.max(worst)),
                pack: rule.map_or_else(
                    || findings.first().map_or("", |f| f.pack.as_str()),
                    |r| r.pack.as_str(),
                ),
                findings,
                open,
            }
        })
        .collect();
    // Policies with open findings first; those whose findings are all set aside after them.
    out.sort_by(|a, b| {
        (a.open == 0)
            .cmp(&(b.open == 0))
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.id.cmp(b.id))
    });
    out
}

/// Renders the report as one self-contained HTML page (see the module documentation).
pub fn html(report: &Report, ctx: &RenderContext) -> String {
    let groups = groups(report);
    let mut out = String::with_capacity(64 * 1024 + report.findings.len().min(5000) * 1500);
    head(&mut out, report);
    out.push_str("<body>\n");
    masthead(&mut out, report, ctx);
    let errors_first = report.has_errors();
    let has_problems = !report.problems.is_empty();
    toc(&mut out, has_problems, errors_first);
    out.push_str("<main>\n");
    summary(&mut out, report, &groups);
    if has_problems && errors_first {
        problems(&mut out, report);
    }
    findings(&mut out, report, &groups);
    if has_problems && !errors_first {
        problems(&mut out, report);
    }
    rules(&mut out, report);
    provenance(&mut out, report, ctx);
    out.push_str("</main>\n");
    let _ = writeln!(
        out,
        "<footer><p>Generated by {} {} on the evaluation date {}. This report is a \
         technical check of exported data against the policies listed above; it does not \
         replace the assessment of the data-protection officer.</p></footer>",
        E(TOOL_NAME),
        E(TOOL_VERSION),
        E(&report.today),
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// The document head with the inline style sheet.
fn head(out: &mut String, report: &Report) {
    let school = report
        .school
        .as_ref()
        .map(|s| s.name.clone().unwrap_or_else(|| s.id.clone()))
        .filter(|s| !s.is_empty());
    let title = match school {
        Some(s) => format!("konform audit report: {s}, {}", report.today),
        None => format!("konform audit report, {}", report.today),
    };
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\"/>\n\
         <meta name=\"referrer\" content=\"no-referrer\"/>\n",
    );
    let _ = writeln!(
        out,
        "<meta name=\"generator\" content=\"{} {}\"/>\n<title>{}</title>",
        E(TOOL_NAME),
        E(TOOL_VERSION),
        E(&title)
    );
    out.push_str("<style>\n");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n");
}

/// The inline style sheet: system fonts, sober colours, a print layout.
const STYLE: &str = r#":root {
  color-scheme: light;
  --ink: #1d2433; --muted: #4a5468; --line: #d5dae3; --soft: #f4f6f9;
  --error: #b42318; --error-bg: #fef3f2; --warning: #93510a; --warning-bg: #fffaeb;
  --info: #175cd3; --info-bg: #eff4ff; --ok: #067647; --ok-bg: #ecfdf3;
  --mono: ui-monospace, "SFMono-Regular", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
html { background: #fff; }
body {
  margin: 0 auto; max-width: 72rem; padding: 2rem 2.5rem 3rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.5; color: var(--ink); background: #fff;
}
h1, h2, h3, h4 { line-height: 1.25; margin: 0; }
h1 { font-size: 1.9rem; letter-spacing: -0.01em; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 1rem; padding-bottom: .35rem; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
h4, .finding h3 { font-size: 1rem; margin: 0 0 .4rem; }
p { margin: .4rem 0; }
a { color: #1849a9; }
code, pre, .mono { font-family: var(--mono); font-size: .85em; }
code { overflow-wrap: anywhere; }
code.id { overflow-wrap: normal; }
table.rules th[scope="row"] { min-width: 14em; }
.masthead { border-bottom: 1px solid var(--line); padding-bottom: 1.25rem; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: .78rem; color: var(--muted); margin: 0 0 .25rem; }
.school { font-size: 1.15rem; margin: .35rem 0 1rem; }
.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .5rem 1.5rem; margin: 0 0 1rem; }
.meta div { border-left: 3px solid var(--line); padding-left: .6rem; }
.meta dt { font-size: .78rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.meta dd { margin: 0; font-weight: 600; }
.banner { border: 1px solid; border-left-width: 6px; border-radius: 4px; padding: .7rem 1rem; margin: .75rem 0; }
.banner strong.big { font-size: 1.15rem; display: block; }
.banner p { margin: .2rem 0 0; }
.verdict-passed, .privacy-masked { border-color: var(--ok); background: var(--ok-bg); }
.verdict-findings { border-color: var(--error); background: var(--error-bg); }
.verdict-below { border-color: var(--warning); background: var(--warning-bg); }
.verdict-incomplete, .privacy-exposed, .incomplete { border-color: var(--error); background: var(--error-bg); }
.verdict-incomplete strong.big, .privacy-exposed strong.big, .incomplete strong.big { color: var(--error); }
nav.toc { margin: 1rem 0 0; font-size: .92rem; }
nav.toc ol { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; padding: 0; margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); gap: .75rem; margin: 0 0 1.25rem; }
.card { border: 1px solid var(--line); border-top: 4px solid var(--muted); border-radius: 4px; padding: .6rem .8rem; }
.card .n { font-size: 1.7rem; font-weight: 700; line-height: 1.1; display: block; }
.card .l { color: var(--muted); font-size: .85rem; line-height: 1.3; display: block; }
.card.sev-error { border-top-color: var(--error); } .card.sev-error .n { color: var(--error); }
.card.sev-warning { border-top-color: var(--warning); } .card.sev-warning .n { color: var(--warning); }
.card.sev-info { border-top-color: var(--info); } .card.sev-info .n { color: var(--info); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: 0 0 .35rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
thead th { border-bottom: 2px solid var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
tbody th { font-weight: normal; }
table.compact th, table.compact td { padding: .22rem .6rem; }
tr.total th, tr.total td { font-weight: 600; }
tr.alarm th, tr.alarm td { color: var(--error); font-weight: 700; }
.meta .sub { font-weight: normal; color: var(--muted); }
.column { color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.hash { font-family: var(--mono); font-size: .75rem; overflow-wrap: anywhere; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 0 2rem; }
figure { margin: .5rem 0 1rem; }
svg.chart { display: block; max-width: 100%; height: auto; }
.badge { display: inline-block; font-size: .72rem; font-weight: 700; text-transform: uppercase; letter-spacing: .05em; padding: .05rem .45rem; border-radius: 3px; border: 1px solid; vertical-align: .1em; white-space: nowrap; }
.badge.sev-error { color: var(--error); background: var(--error-bg); }
.badge.sev-warning { color: var(--warning); background: var(--warning-bg); }
.badge.sev-info { color: var(--info); background: var(--info-bg); }
.badge.set-aside { color: #344054; background: #eaecf0; }
.card.set-aside { border-top-style: dashed; }
.finding.set-aside { border-style: dashed; background: #fcfcfd; }
.aside-note { font-size: .9rem; margin: .2rem 0 .5rem; padding: .3rem .6rem; border-left: 3px solid #667085; background: var(--soft); }
.policy { margin: 2rem 0 0; }
.policy-head { border-left: 6px solid var(--muted); padding: .15rem 0 .15rem .85rem; margin-bottom: .75rem; }
.policy.sev-error .policy-head { border-left-color: var(--error); }
.policy.sev-warning .policy-head { border-left-color: var(--warning); }
.policy.sev-info .policy-head { border-left-color: var(--info); }
.policy-head h3 { margin: 0 0 .25rem; font-family: var(--mono); font-size: 1.02rem; overflow-wrap: anywhere; }
.policy dl.about { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .9rem; margin: .35rem 0 0; font-size: .92rem; }
.policy dl.about dt { color: var(--muted); }
.policy dl.about dd { margin: 0; }
.finding { border: 1px solid var(--line); border-radius: 4px; padding: .75rem 1rem; margin: .6rem 0; break-inside: avoid; page-break-inside: avoid; }
.finding dl.facts { display: flex; flex-wrap: wrap; gap: .1rem 1.5rem; margin: 0 0 .4rem; font-size: .88rem; }
.finding dl.facts div { display: flex; gap: .4rem; }
.finding dl.facts dt { color: var(--muted); }
.finding dl.facts dd { margin: 0; }
pre.evidence { margin: .35rem 0; padding: .4rem 0; background: var(--soft); border: 1px solid var(--line); border-radius: 3px; white-space: pre-wrap; line-height: 1.45; }
pre.evidence span.line { display: flex; padding: 0 .7rem 0 0; }
pre.evidence span.ln { flex: none; width: 4.2em; padding: 0 .6rem 0 .4rem; margin-right: .6rem; text-align: right; color: var(--muted); border-right: 1px solid var(--line); user-select: none; }
pre.evidence span.src { min-width: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.evidence span.header { color: var(--muted); }
pre.evidence span.gap { color: var(--muted); }
pre.evidence span.cut { color: var(--muted); }
mark { background: #fde68a; color: #000; outline: 1px solid #b45309; border-radius: 2px; padding: 0 1px; }
.label { font-size: .88rem; margin: .2rem 0; }
.label::before { content: "\25B2  "; color: #b45309; font-size: .7rem; }
.help { font-size: .9rem; }
.related { font-size: .85rem; margin: .4rem 0 .2rem; }
.related caption { font-weight: 600; font-size: .85rem; }
.fp { font-size: .72rem; color: var(--muted); margin: .35rem 0 0; }
.more { font-style: italic; color: var(--muted); border: 1px dashed var(--line); padding: .5rem .8rem; border-radius: 4px; }
.empty { color: var(--muted); }
pre.command { background: var(--soft); border: 1px solid var(--line); border-radius: 3px; padding: .6rem .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 3rem; padding-top: .75rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .82rem; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  html, body { background: #fff; }
  nav.toc { display: none; }
  h2 { break-before: auto; }
  h2, h3, h4, .policy-head, caption, figcaption { break-after: avoid; page-break-after: avoid; }
  .finding, .lead, .policy-head, figure, tr, .banner, .card, pre { break-inside: avoid; page-break-inside: avoid; }
  pre.evidence, .card, .banner, .badge, mark { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; }
  a[href^="http"]::after { content: " (" attr(href) ")"; font-size: .85em; overflow-wrap: anywhere; }
}
"#;

/// The title block: school, dates, tool, verdict and the privacy notice.
fn masthead(out: &mut String, report: &Report, ctx: &RenderContext) {
    out.push_str("<header class=\"masthead\">\n<p class=\"kicker\">Data-protection compliance check</p>\n<h1>konform audit report</h1>\n");
    match &report.school {
        Some(s) => {
            let mut parts = Vec::new();
            if !s.id.is_empty() {
                parts.push(format!(
                    "school number <span class=\"mono\">{}</span>",
                    E(&s.id)
                ));
            }
            let country = match country_name(&s.country) {
                Some(name) => format!("{name} ({})", E(&s.country)),
                None => escape(&s.country),
            };
            match (country.is_empty(), s.state.is_empty()) {
                (false, false) => parts.push(format!("{country}, state {}", E(&s.state))),
                (false, true) => parts.push(country),
                (true, false) => parts.push(format!("state {}", E(&s.state))),
                (true, true) => {}
            }
            let name = match s.name.as_deref().filter(|n| !n.is_empty()) {
                Some(name) => format!("<strong>{}</strong>", E(name)),
                None => {
                    "<strong>School without a name</strong> (none given in konform.yaml)".into()
                }
            };
            let _ = writeln!(
                out,
                "<p class=\"school\">{name}{}{}</p>",
                if parts.is_empty() { "" } else { " · " },
                parts.join(" · "),
            );
        }
        None => out.push_str(
            "<p class=\"school\">No school is named in the configuration (konform.yaml).</p>\n",
        ),
    }
    out.push_str("<dl class=\"meta\">\n");
    let mut meta = |dt: &str, dd: String| {
        let _ = writeln!(out, "<div><dt>{dt}</dt><dd>{dd}</dd></div>");
    };
    meta("Evaluation date", escape(&report.today));
    if let Some(at) = &ctx.run_at {
        meta("Run at", escape(&readable_time(at)));
    }
    meta("Tool", format!("{} {}", E(TOOL_NAME), E(TOOL_VERSION)));
    meta(
        "Exit code",
        format!(
            "{} <span class=\"sub\">(fails on {})</span>",
            report.exit_code(ctx.fail_on),
            E(ctx.fail_on.name())
        ),
    );
    out.push_str("</dl>\n");
    verdict(out, report, ctx);
    privacy(out, report);
    out.push_str("</header>\n");
}

/// An RFC 3339 time with a space for the `T` (`2026-11-22 13:55:38+00:00`).
fn readable_time(at: &str) -> String {
    match (at.get(..10), at.get(10..11), at.get(11..)) {
        (Some(date), Some("T"), Some(time)) => format!("{date} {time}"),
        _ => at.to_owned(),
    }
}

/// The verdict banner.
fn verdict(out: &mut String, report: &Report, ctx: &RenderContext) {
    let (e, w, i) = report.counts();
    let total = e + w + i;
    let (waived, baselined) = report.set_aside();
    let code = report.exit_code(ctx.fail_on);
    let (one, many) = if waived + baselined > 0 {
        ("open finding", "open findings")
    } else {
        ("finding", "findings")
    };
    let mut counts = format!(
        "{}: {}, {}, {}",
        plural(total, one, many),
        plural(e, "error", "errors"),
        plural(w, "warning", "warnings"),
        plural(i, "info", "infos"),
    );
    if waived + baselined > 0 {
        let _ = write!(
            counts,
            "; not counted: {}",
            set_aside_text(waived, baselined)
        );
    }
    let (class, head, text) = if report.has_errors() {
        let n = report.problems.iter().filter(|p| p.is_error()).count();
        (
            "verdict-incomplete",
            "INCOMPLETE: the check could not be completed".to_owned(),
            format!(
                "{} stopped konform from checking everything (see “Problems”). The findings \
                 below cover only what could be checked; a clean result here does not mean \
                 the data is compliant. {counts}. Exit code {code}.",
                plural(n, "error", "errors")
            ),
        )
    } else if code != 0 {
        (
            "verdict-findings",
            "Findings: action is needed".to_owned(),
            format!(
                "{counts}. Exit code {code} (fails on {} and above).",
                ctx.fail_on
            ),
        )
    } else if total > 0 {
        (
            "verdict-below",
            "Passed, with findings below the threshold".to_owned(),
            format!(
                "{counts}. None is at or above {}; exit code {code}.",
                ctx.fail_on
            ),
        )
    } else if waived + baselined > 0 {
        (
            "verdict-passed",
            "Passed: no open findings".to_owned(),
            format!(
                "Every record was checked against {}. {} set aside ({}) and not counted; \
                 they are listed below. Exit code {code}.",
                plural(report.stats.policies, "rule", "rules"),
                plural(waived + baselined, "finding is", "findings are"),
                set_aside_text(waived, baselined),
            ),
        )
    } else {
        (
            "verdict-passed",
            "Passed: no findings".to_owned(),
            format!(
                "Every record was checked against {} without a finding. Exit code {code}.",
                plural(report.stats.policies, "rule", "rules")
            ),
        )
    };
    let _ = writeln!(
        out,
        "<div class=\"banner {class}\" role=\"status\"><strong class=\"big\">{}</strong><p>{}</p></div>",
        E(&head),
        E(&text),
    );
}

/// The warning about inputs that could not be read completely.
fn incomplete_banner(out: &mut String, report: &Report) {
    let _ = write!(
        out,
        "<div class=\"banner incomplete\" role=\"alert\"><strong class=\"big\">{} not checked</strong>\
         <p>These inputs could not be read completely, so none of their records was checked:</p><ul>",
        E(&plural(
            report.stats.incomplete_files.len(),
            "input was",
            "inputs were"
        )),
    );
    for f in &report.stats.incomplete_files {
        let _ = write!(out, "<li><code>{}</code></li>", E(f));
    }
    out.push_str("</ul></div>\n");
}

/// Whether personal data is masked.
fn privacy(out: &mut String, report: &Report) {
    if report.redacted {
        out.push_str(
            "<div class=\"banner privacy-masked\"><strong class=\"big\">Personal data is masked</strong>\
             <p>Names, e-mail addresses, birth dates, identity numbers and other personal values are \
             replaced by <code>*</code> in the source excerpts and by placeholders such as \
             <code>[name]</code> in messages. Files, line and column numbers and fingerprints are \
             kept, so that those entitled to see the original exports can trace every finding.</p></div>\n",
        );
    } else {
        out.push_str(
            "<div class=\"banner privacy-exposed\" role=\"alert\"><strong class=\"big\">Personal data is NOT masked</strong>\
             <p>This report contains personal data of pupils, parents and staff (names, e-mail \
             addresses, birth dates and more) copied from the checked exports. Handle it under the \
             GDPR: share it only with those who need it, keep it secure, and delete it when it is no \
             longer needed. For wider circulation, create a redacted report \
             (<code>konform check --redact</code>).</p></div>\n",
        );
    }
}

/// The table of contents.
fn toc(out: &mut String, has_problems: bool, errors_first: bool) {
    out.push_str(
        "<nav class=\"toc\" aria-label=\"Contents\"><ol><li><a href=\"#summary\">Summary</a></li>",
    );
    if has_problems && errors_first {
        out.push_str("<li><a href=\"#problems\">Problems</a></li>");
    }
    out.push_str("<li><a href=\"#findings\">Findings</a></li>");
    if has_problems && !errors_first {
        out.push_str("<li><a href=\"#problems\">Problems</a></li>");
    }
    out.push_str(
        "<li><a href=\"#rules\">Rules evaluated</a></li><li><a href=\"#provenance\">Provenance</a></li></ol></nav>\n",
    );
}

/// Counts, charts and what was checked.
fn summary(out: &mut String, report: &Report, groups: &[Group<'_>]) {
    let (e, w, i) = report.counts();
    let stats = &report.stats;
    out.push_str(
        "<section id=\"summary\" aria-labelledby=\"summary-h\">\n<h2 id=\"summary-h\">Summary</h2>\n",
    );
    out.push_str("<div class=\"cards\">");
    let problems = report.problems.len();
    let perr = report.problems.iter().filter(|p| p.is_error()).count();
    let (waived, baselined) = report.set_aside();
    let any_aside = waived + baselined > 0;
    let card = |n: usize, one: &str, many: &str| (n, if n == 1 { one } else { many }.to_owned());
    let mut cards: Vec<(&str, (usize, String))> = vec![
        ("sev-error", card(e, "error", "errors")),
        ("sev-warning", card(w, "warning", "warnings")),
        ("sev-info", card(i, "info", "infos")),
    ];
    if any_aside {
        cards.push((
            "set-aside",
            (
                waived + baselined,
                format!("set aside: {}", set_aside_text(waived, baselined)),
            ),
        ));
    }
    cards.extend([
        (
            if perr > 0 { "sev-error" } else { "plain" },
            card(problems, "problem with inputs", "problems with inputs"),
        ),
        (
            "plain",
            card(stats.records, "record checked", "records checked"),
        ),
        (
            "plain",
            card(stats.policies, "rule evaluated", "rules evaluated"),
        ),
    ]);
    for (class, (n, label)) in cards {
        let _ = write!(
            out,
            "<div class=\"card {class}\"><span class=\"n\">{n}</span><span class=\"l\">{}</span></div>",
            E(&label)
        );
    }
    out.push_str("</div>\n");

    if !stats.incomplete_files.is_empty() {
        incomplete_banner(out, report);
    }

    out.push_str("<h3 id=\"per-policy-h\">Findings per policy</h3>\n");
    if groups.is_empty() {
        out.push_str("<p class=\"empty\">No findings.</p>\n");
    } else {
        let rows: Vec<(&str, usize, Severity)> =
            groups.iter().map(|g| (g.id, g.open, g.severity)).collect();
        chart(
            out,
            "chart-policies",
            if any_aside {
                "Number of open findings per policy (waived and baselined ones not counted), \
                 coloured by severity"
            } else {
                "Number of findings per policy, coloured by severity"
            },
            &rows,
            (760, 330),
        );
        let _ = writeln!(
            out,
            "<table class=\"per-policy compact\" aria-labelledby=\"per-policy-h\"><thead><tr>\
             <th scope=\"col\">Policy</th><th scope=\"col\">Pack</th><th scope=\"col\">Severity</th>\
             <th scope=\"col\" class=\"num\">{}</th>{}</tr></thead><tbody>",
            if any_aside {
                "Open findings"
            } else {
                "Findings"
            },
            aside_head(any_aside),
        );
        for (n, g) in groups.iter().enumerate() {
            let (gw, gb) = aside_counts(g.findings.iter().copied());
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\"><a href=\"#policy-{n}\"><code>{}</code></a></th><td>{}</td>\
                 <td><span class=\"badge {}\">{}</span></td><td class=\"num\">{}</td>{}</tr>",
                E(g.id),
                E(g.pack),
                sev_class(g.severity),
                g.severity,
                g.open,
                aside_cell(any_aside, gw, gb),
            );
        }
        out.push_str("</tbody></table>\n");
    }

    // Per pack: every loaded pack, also those without findings.
    // Open findings per pack (with the worst severity among them), and set-aside ones.
    let mut per_pack: BTreeMap<&str, (usize, Severity)> = report
        .packs
        .iter()
        .map(|(id, _)| (id.as_str(), (0, Severity::Info)))
        .collect();
    let mut pack_aside: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        let entry = per_pack
            .entry(f.pack.as_str())
            .or_insert((0, Severity::Info));
        if f.is_open() {
            entry.0 += 1;
            entry.1 = entry.1.max(f.severity);
        } else {
            pack_aside.entry(f.pack.as_str()).or_default().push(f);
        }
    }
    if !per_pack.is_empty() {
        out.push_str("<h3 id=\"per-pack-h\">Findings per pack</h3>\n<div class=\"two\">\n<div>\n");
        let _ = writeln!(
            out,
            "<table class=\"compact\" aria-labelledby=\"per-pack-h\"><thead><tr><th scope=\"col\">Pack</th>\
             <th scope=\"col\">Version</th><th scope=\"col\" class=\"num\">{}</th>{}</tr></thead><tbody>",
            if any_aside {
                "Open findings"
            } else {
                "Findings"
            },
            aside_head(any_aside),
        );
        let versions: BTreeMap<&str, &str> = report
            .packs
            .iter()
            .map(|(id, v)| (id.as_str(), v.as_str()))
            .collect();
        for (id, (n, _)) in &per_pack {
            let (pw, pb) = aside_counts(pack_aside.get(id).into_iter().flatten().copied());
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td class=\"num\">{n}</td>{}</tr>",
                E(id),
                E(versions.get(id).copied().unwrap_or("")),
                aside_cell(any_aside, pw, pb),
            );
        }
        out.push_str("</tbody></table>\n</div>\n<div>\n");
        if per_pack.values().any(|(n, _)| *n > 0) {
            let rows: Vec<(&str, usize, Severity)> =
                per_pack.iter().map(|(id, (n, s))| (*id, *n, *s)).collect();
            chart(
                out,
                "chart-packs",
                if any_aside {
                    "Number of open findings per pack, coloured by the worst severity"
                } else {
                    "Number of findings per pack, coloured by the worst severity"
                },
                &rows,
                (420, 120),
            );
        }
        out.push_str("</div>\n</div>\n");
    }

    // What was checked.
    out.push_str(
        "<h3 id=\"checked-h\">What was checked</h3>\n<div class=\"two\">\n<div>\n\
         <table class=\"compact\" aria-labelledby=\"checked-h\"><tbody>\n",
    );
    for (kind, n) in &stats.by_kind {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{n}</td></tr>",
            E(kind_label(kind))
        );
    }
    let _ = writeln!(
        out,
        "<tr class=\"total\"><th scope=\"row\">records in total</th><td class=\"num\">{}</td></tr>\
         <tr><th scope=\"row\">input files read completely</th><td class=\"num\">{}</td></tr>\
         <tr{}><th scope=\"row\">input files not read completely</th><td class=\"num\">{}</td></tr>\
         <tr><th scope=\"row\">rules evaluated</th><td class=\"num\">{}</td></tr>\
         <tr><th scope=\"row\">rules switched off in konform.yaml</th><td class=\"num\">{}</td></tr>",
        stats.records,
        stats.files,
        if stats.incomplete_files.is_empty() {
            ""
        } else {
            " class=\"alarm\""
        },
        stats.incomplete_files.len(),
        stats.policies,
        stats.disabled.len(),
    );
    out.push_str("</tbody></table>\n</div>\n<div>\n");
    if report.inputs.is_empty() {
        out.push_str("<p class=\"empty\">No records were read.</p>\n");
    } else {
        out.push_str(
            "<table class=\"inputs compact\" aria-labelledby=\"checked-h\"><thead><tr>\
             <th scope=\"col\">Input file</th><th scope=\"col\">Records</th></tr></thead><tbody>\n",
        );
        for input in &report.inputs {
            let kinds: Vec<String> = input
                .records
                .iter()
                .map(|(k, n)| format!("{n} {}", kind_label(k)))
                .collect();
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td></tr>",
                E(&report.sources.get(input.file).name),
                E(&kinds.join(", "))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</div>\n</div>\n");

    if !stats.disabled.is_empty() {
        out.push_str(
            "<p><strong>Switched off in konform.yaml</strong> (not evaluated; the reasons should be \
             documented in the configuration):</p><ul class=\"disabled\">",
        );
        for d in &stats.disabled {
            let _ = write!(out, "<li><code>{}</code></li>", E(d));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// The header cell of the "Set aside" column, when there is one.
fn aside_head(any: bool) -> &'static str {
    if any {
        "<th scope=\"col\" class=\"num\">Set aside</th>"
    } else {
        ""
    }
}

/// A cell of the "Set aside" column: the number, with what it is made of as a tooltip.
fn aside_cell(any: bool, waived: usize, baselined: usize) -> String {
    if !any {
        String::new()
    } else if waived + baselined == 0 {
        "<td class=\"num\">0</td>".to_owned()
    } else {
        format!(
            "<td class=\"num\" title=\"{}\">{}</td>",
            E(&set_aside_text(waived, baselined)),
            waived + baselined
        )
    }
}

/// A horizontal bar chart as inline SVG, `size` = (width, label column); the same numbers
/// are in a table next to it. A legend names the severity colours.
fn chart(
    out: &mut String,
    id: &str,
    title: &str,
    rows: &[(&str, usize, Severity)],
    (width, label): (usize, usize),
) {
    const ROW: usize = 22;
    const BAR: usize = 14;
    const LEGEND: usize = 26;
    let bar_area = width.saturating_sub(label + 50).max(10);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = LEGEND + ROW * rows.len() + 4;
    let label_chars = (label / 7).min(CHART_LABEL_CHARS);
    let _ = writeln!(
        out,
        "<figure class=\"chart\"><svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" font-size=\"12\">\
         <title id=\"{id}-title\">{}</title>",
        E(title)
    );
    // Legend: the severities present.
    let mut present: Vec<Severity> = rows.iter().map(|r| r.2).collect();
    present.sort_by(|a, b| b.cmp(a));
    present.dedup();
    let mut x = label + 1;
    for sev in present {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"13\" fill=\"#4a5468\">{}</text>",
            sev_fill(sev),
            x + 14,
            sev.name()
        );
        x += 24 + sev.name().len() * 7;
    }
    let _ = writeln!(
        out,
        "\n<line x1=\"{label}\" y1=\"{}\" x2=\"{label}\" y2=\"{height}\" stroke=\"#8a93a6\" stroke-width=\"1\"/>",
        LEGEND - 4
    );
    for (n, (name, count, severity)) in rows.iter().enumerate() {
        let y = LEGEND + n * ROW;
        let w = if *count == 0 {
            0
        } else {
            (count * bar_area / max).max(2)
        };
        let short: String = if name.chars().count() > label_chars {
            let mut s: String = name.chars().take(label_chars.saturating_sub(1)).collect();
            s.push('…');
            s
        } else {
            (*name).to_owned()
        };
        let text_y = y + ROW / 2 + 4;
        let _ = writeln!(
            out,
            "<g><title>{}: {count} ({})</title><text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\" fill=\"#1d2433\">{}</text>\
             <rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"{BAR}\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{text_y}\" fill=\"#1d2433\" font-weight=\"600\">{count}</text></g>",
            E(name),
            severity.name(),
            label - 8,
            E(&short),
            label + 1,
            y + (ROW - BAR) / 2,
            sev_fill(*severity),
            label + 1 + w + 6,
        );
    }
    out.push_str("</svg></figure>\n");
}

/// The findings, grouped by policy.
fn findings(out: &mut String, report: &Report, groups: &[Group<'_>]) {
    out.push_str("<section id=\"findings\" aria-labelledby=\"findings-h\">\n<h2 id=\"findings-h\">Findings</h2>\n");
    if groups.is_empty() {
        out.push_str("<p class=\"empty\">No policy found anything to report.</p>\n");
    }
    let mut number = 0usize;
    for (n, g) in groups.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section class=\"policy {}\" id=\"policy-{n}\" aria-labelledby=\"policy-{n}-h\">\n\
             <div class=\"lead\"><header class=\"policy-head\">\
             <h3 id=\"policy-{n}-h\">{}</h3>",
            sev_class(g.severity),
            E(g.id),
        );
        let first = g.findings.first().copied();
        let summary = g.rule.map(|r| r.summary.as_str());
        let (gw, gb) = aside_counts(g.findings.iter().copied());
        let count = if gw + gb == 0 {
            plural(g.findings.len(), "finding", "findings")
        } else {
            format!(
                "{}, {} set aside ({})",
                plural(g.open, "open finding", "open findings"),
                gw + gb,
                set_aside_text(gw, gb)
            )
        };
        let _ = write!(
            out,
            "<p><span class=\"badge {}\">{}</span> {} · pack <code>{}</code>{}</p>",
            sev_class(g.severity),
            g.severity,
            E(&count),
            E(g.pack),
            if g.rule.is_some_and(|r| r.limit) {
                " · limit (counts records)"
            } else {
                ""
            }
        );
        if let Some(s) = summary.filter(|s| !s.is_empty()) {
            let _ = write!(out, "<p>{}</p>", Rich(s));
        }
        let basis = g
            .rule
            .and_then(|r| r.basis.as_deref())
            .or_else(|| first.and_then(|f| f.basis.as_deref()));
        let help = g
            .rule
            .and_then(|r| r.help.as_deref())
            .or_else(|| first.and_then(|f| f.help.as_deref()));
        let url = g
            .rule
            .and_then(|r| r.url.as_deref())
            .or_else(|| first.and_then(|f| f.url.as_deref()));
        if basis.is_some() || help.is_some() || url.is_some() {
            out.push_str("<dl class=\"about\">");
            if let Some(b) = basis {
                let _ = write!(out, "<dt>Legal basis</dt><dd>{}</dd>", Rich(b));
            }
            if let Some(h) = help {
                let _ = write!(out, "<dt>How to fix</dt><dd>{}</dd>", Rich(h));
            }
            if let Some(u) = url {
                out.push_str("<dt>More</dt><dd>");
                link(out, u);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
        out.push_str("</header>\n");
        // The policy's header and its first finding are kept on one printed page.
        for (k, f) in g.findings.iter().take(MAX_FINDINGS_PER_POLICY).enumerate() {
            number += 1;
            finding(out, report, f, number, (g.severity, help));
            if k == 0 {
                out.push_str("</div>\n");
            }
        }
        if g.findings.is_empty() {
            out.push_str("</div>\n");
        }
        if g.findings.len() > MAX_FINDINGS_PER_POLICY {
            let _ = writeln!(
                out,
                "<p class=\"more\">… and {} more {} of this policy, not listed here to keep the \
                 report readable. The JSON output (<code>--format json</code>) lists every finding.</p>",
                g.findings.len() - MAX_FINDINGS_PER_POLICY,
                if g.findings.len() - MAX_FINDINGS_PER_POLICY == 1 {
                    "finding"
                } else {
                    "findings"
                },
            );
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
}

/// A documentation link: `<a>` for web URLs, text for anything else.
fn link(out: &mut String, url: &str) {
    if is_web_url(url) {
        let u = url.trim();
        let _ = write!(out, "<a href=\"{}\" rel=\"noreferrer\">{}</a>", E(u), E(u));
    } else {
        let _ = write!(out, "<code>{}</code>", E(url));
    }
}

/// One finding with its evidence.
fn finding(
    out: &mut String,
    report: &Report,
    f: &Finding,
    number: usize,
    (group_severity, group_help): (Severity, Option<&str>),
) {
    let sources = &report.sources;
    let file = sources.get(f.file);
    let loc = location(sources, f.file, f.span);
    let badge = match (&f.waiver, f.baselined) {
        (Some(_), _) => "<span class=\"badge set-aside\">waived</span> ",
        (None, true) => "<span class=\"badge set-aside\">baseline</span> ",
        (None, false) => "",
    };
    let _ = write!(
        out,
        "<article class=\"finding {}{}\" id=\"finding-{number}\" aria-labelledby=\"finding-{number}-h\">\
         <h4 id=\"finding-{number}-h\">{badge}{}</h4><dl class=\"facts\">\
         <div><dt>Subject</dt><dd><code>{}</code> ({})</dd></div>\
         <div><dt>Location</dt><dd><code>{}:{}:{}</code></dd></div>",
        sev_class(f.severity),
        if f.is_open() { "" } else { " set-aside" },
        Rich(&f.message),
        E(&f.subject),
        E(&f.kind.entity_type().to_ascii_lowercase()),
        E(loc.file),
        loc.line,
        loc.column,
    );
    if f.severity != group_severity {
        let _ = write!(
            out,
            "<div><dt>Severity</dt><dd><span class=\"badge {}\">{}</span></dd></div>",
            sev_class(f.severity),
            f.severity
        );
    }
    out.push_str("</dl>\n");
    if let Some(w) = &f.waiver {
        let entry = location(sources, w.file, w.span);
        let _ = writeln!(
            out,
            "<p class=\"aside-note\"><strong>Waived</strong> until <strong>{}</strong>, approved by {}: \
             {} <span class=\"column\">(waiver entry <code>{}:{}</code>)</span>. Not counted against \
             the threshold.</p>",
            E(&w.expires),
            E(&w.approved_by),
            Rich(&w.reason),
            E(entry.file),
            entry.line,
        );
    } else if f.baselined {
        out.push_str(
            "<p class=\"aside-note\"><strong>In the baseline</strong>: known before this run \
             (<code>--baseline</code>), not counted against the threshold.</p>\n",
        );
    }
    evidence(out, file, f.record_span, f.span);
    let column = if is_csv(&file.name) {
        csv_column(file, file.clamp(f.record_span), file.clamp(f.span))
    } else {
        None
    };
    if !f.label.is_empty() || column.is_some() {
        let column = column.map_or_else(String::new, |c| {
            format!(
                "{}<span class=\"column\">column <code>{}</code></span>",
                if f.label.is_empty() { "" } else { " · " },
                E(&c)
            )
        });
        let _ = writeln!(out, "<p class=\"label\">{}{column}</p>", Rich(&f.label));
    }
    if let Some(h) = f.help.as_deref().filter(|h| Some(*h) != group_help) {
        let _ = writeln!(
            out,
            "<p class=\"help\"><strong>How to fix:</strong> {}</p>",
            Rich(h)
        );
    }
    if let Some(b) = f.basis.as_deref() {
        // Shown only when it differs from the policy's (it never does for shipped packs).
        let rule_basis = report
            .rules
            .iter()
            .find(|r| r.id == f.policy)
            .and_then(|r| r.basis.as_deref());
        if rule_basis.is_some_and(|rb| rb != b) {
            let _ = writeln!(
                out,
                "<p class=\"help\"><strong>Legal basis:</strong> {}</p>",
                Rich(b)
            );
        }
    }
    let related: Vec<_> = f.related.iter().collect();
    if !related.is_empty() {
        let _ = writeln!(
            out,
            "<table class=\"related compact\"><caption>{} counted</caption><thead><tr><th scope=\"col\">Subject</th>\
             <th scope=\"col\">Location</th><th scope=\"col\">What</th></tr></thead><tbody>",
            E(&plural(related.len(), "place", "places"))
        );
        for r in related.iter().take(MAX_RELATED) {
            let l = location(sources, r.file, r.span);
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\"><code>{}</code></th><td><code>{}:{}:{}</code></td><td>{}</td></tr>",
                E(&r.subject),
                E(l.file),
                l.line,
                l.column,
                Rich(&r.label),
            );
        }
        out.push_str("</tbody></table>\n");
        if related.len() > MAX_RELATED {
            let _ = writeln!(
                out,
                "<p class=\"more\">… and {} more places.</p>",
                related.len() - MAX_RELATED
            );
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"fp\">Policy <code>{}</code> · fingerprint <code>{}</code></p></article>",
        E(&f.policy),
        E(&f.fingerprint)
    );
}

/// One line of evidence: its number and byte range (without the line break).
struct Line {
    number: usize,
    start: usize,
    end: usize,
}

/// The line around byte `at`: start and end (before the line break), each searched at most
/// [`LINE_SCAN`] bytes away.
fn line_at(text: &str, at: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let lo = at.saturating_sub(LINE_SCAN);
    let start = bytes
        .get(lo..at)
        .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
        .map_or(lo, |p| lo + p + 1);
    let hi = (at + LINE_SCAN).min(bytes.len());
    let end = bytes
        .get(at..hi)
        .and_then(|b| b.iter().position(|&c| c == b'\n'))
        .map_or(hi, |p| at + p);
    (floor_char(text, start), floor_char(text, end))
}

/// `at` moved back to a character boundary.
fn floor_char(text: &str, at: usize) -> usize {
    let mut o = at.min(text.len());
    while o > 0 && !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// `at` moved forward to a character boundary.
fn ceil_char(text: &str, at: usize) -> usize {
    let mut o = at.min(text.len());
    while o < text.len() && !text.is_char_boundary(o) {
        o += 1;
    }
    o
}

/// The source lines of `record` (a few of them, around `mark`) with `mark` highlighted.
/// For CSV files whose record is not on the first line, the header line is shown first.
fn evidence(out: &mut String, file: &SourceFile, record: Span, mark: Span) {
    if file.is_empty() {
        return;
    }
    let record = file.clamp(record);
    let mark = file.clamp(mark);
    // The text held around the record (all of it for a file held whole), in its own offsets.
    let Some((base, text)) =
        file.piece(record.offset.min(mark.offset), record.end().max(mark.end()))
    else {
        return;
    };
    let local = |s: Span| Span::new(s.offset.saturating_sub(base), s.len);
    let (record, mark) = (local(record), local(mark));
    let lo = record.offset.min(mark.offset);
    let hi = record.end().max(mark.end());
    // The last byte that belongs to the shown range (a trailing line break does not).
    let last = if hi > lo {
        let h = if text.as_bytes().get(hi - 1) == Some(&b'\n') && hi - 1 > lo {
            hi - 1
        } else {
            hi
        };
        h.saturating_sub(1).max(lo)
    } else {
        lo
    };
    // Lines from a little above the mark (within the range) downwards.
    let mut first_start = line_at(text, mark.offset.max(lo)).0;
    let range_start = line_at(text, lo).0;
    if first_start > range_start {
        first_start = line_at(text, first_start - 1).0.max(range_start);
    }
    let mut lines = Vec::new();
    let mut at = first_start;
    while lines.len() < MAX_EVIDENCE_LINES && at <= last && at < text.len() {
        let (start, end) = line_at(text, at);
        lines.push(Line {
            number: file.line_col(base + start).0,
            start: at.max(start),
            end,
        });
        // Past the line break (or past a cut line).
        at = if text.as_bytes().get(end) == Some(&b'\n') {
            end + 1
        } else {
            end.max(at + 1)
        };
        if at >= text.len() {
            break;
        }
    }
    let more_below = at <= last && at < text.len();
    out.push_str("<pre class=\"evidence\"><code>");
    let header_text = file.piece(0, 0).map_or("", |(_, t)| t);
    let header =
        is_csv(&file.name) && lines.first().is_some_and(|l| l.number > 1) && base + range_start > 0;
    if header {
        let text = header_text;
        let (hs, he) = line_at(text, 0);
        let he = if he - hs > MAX_LINE_BYTES * 2 {
            floor_char(text, hs + MAX_LINE_BYTES * 2)
        } else {
            he
        };
        let _ = write!(
            out,
            "<span class=\"line header\" title=\"column names\"><span class=\"ln\">1</span><span class=\"src\">{}{}</span></span>",
            E(text.get(hs..he).unwrap_or_default().trim_end_matches('\r')),
            if he < line_at(text, 0).1 {
                "<span class=\"cut\">…</span>"
            } else {
                ""
            }
        );
        if lines.first().is_some_and(|l| l.number > 2) {
            out.push_str("<span class=\"line gap\"><span class=\"ln\">⋮</span></span>");
        }
    } else if first_start > range_start {
        out.push_str("<span class=\"line gap\"><span class=\"ln\">⋮</span></span>");
    }
    for line in &lines {
        let _ = write!(
            out,
            "<span class=\"line\"><span class=\"ln\">{}</span><span class=\"src\">",
            line.number
        );
        evidence_line(out, text, line, mark);
        out.push_str("</span></span>");
    }
    if more_below {
        out.push_str("<span class=\"line gap\"><span class=\"ln\">⋮</span></span>");
    }
    out.push_str("</code></pre>\n");
}

/// The name of the CSV column that `mark` lies in, from the header line, when `record` is
/// exactly one line (a record with a quoted line break is left alone) and `mark` lies inside
/// one field of it.
fn csv_column(file: &SourceFile, record: Span, mark: Span) -> Option<String> {
    let (ls, le) = file.line_bounds(mark.offset);
    if ls == 0 || record.offset != ls || record.end() > le + 1 || mark.end() > le || mark.len == 0 {
        return None;
    }
    let (hs, he) = file.line_bounds(0);
    let header = file.get(hs, he)?.trim_end_matches('\r');
    let delimiter = [b';', b',', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .filter(|d| header.as_bytes().contains(d))?;
    let line = file.get(ls, le)?.as_bytes();
    let first = fields_before(line.get(..mark.offset - ls)?, delimiter);
    let last = fields_before(line.get(..mark.end() - ls)?, delimiter);
    if first != last {
        return None;
    }
    let mut names = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, &b) in header.as_bytes().iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            names.push(header.get(start..i)?);
            start = i + 1;
        }
    }
    names.push(header.get(start..)?);
    names
        .get(first)
        .map(|n| n.trim().trim_matches('"').trim().to_owned())
        .filter(|n| !n.is_empty())
}

/// The number of delimiters outside double quotes in `bytes`.
fn fields_before(bytes: &[u8], delimiter: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for &b in bytes {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            n += 1;
        }
    }
    n
}

/// Whether a file is shown with its header line.
fn is_csv(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".csv") || lower.ends_with(".tsv")
}

/// One line of evidence, cut around the mark when long, with the mark as `<mark>`.
fn evidence_line(out: &mut String, text: &str, line: &Line, mark: Span) {
    let (start, mut end) = (line.start, line.end);
    if text.as_bytes().get(end.wrapping_sub(1)) == Some(&b'\r') && end > start {
        end -= 1;
    }
    // The part of the mark on this line.
    let ms = mark.offset.max(start);
    let me = mark.end().min(end);
    let marked = ms < me;
    // The window shown.
    let (ws, we) = if end - start <= MAX_LINE_BYTES {
        (start, end)
    } else {
        let focus = if marked { ms } else { start };
        let ws = if focus - start > MAX_LINE_BYTES / 3 {
            ceil_char(text, focus - MAX_LINE_BYTES / 3)
        } else {
            start
        };
        let we = floor_char(text, (ws + MAX_LINE_BYTES).min(end));
        (ws, we.max(ws))
    };
    let cut_start = ws > start || line_at(text, start).0 < start;
    let cut_end = we < end;
    if cut_start {
        out.push_str("<span class=\"cut\">…</span>");
    }
    let piece = |a: usize, b: usize| text.get(a..b).unwrap_or_default();
    if marked && ms < we && me > ws {
        let (a, b) = (ms.max(ws), me.min(we));
        let _ = write!(
            out,
            "{}<mark>{}</mark>{}",
            E(piece(ws, a)),
            E(piece(a, b)),
            E(piece(b, we))
        );
    } else {
        let _ = write!(out, "{}", E(piece(ws, we)));
    }
    if cut_end {
        out.push_str("<span class=\"cut\">…</span>");
    }
}

/// Problems: konform's own errors, warnings and notes about inputs and configuration.
fn problems(out: &mut String, report: &Report) {
    let errors = report.problems.iter().filter(|p| p.is_error()).count();
    out.push_str("<section id=\"problems\" aria-labelledby=\"problems-h\">\n<h2 id=\"problems-h\">Problems with inputs and configuration</h2>\n");
    if errors > 0 {
        let _ = writeln!(
            out,
            "<p>{} konform from checking everything: the findings cover only what could be \
             read. Fix these first and run the check again.</p>",
            E(&plural(errors, "error stopped", "errors stopped"))
        );
    } else {
        out.push_str(
            "<p>These warnings and notes did not stop the check, but may mean that data was read \
             differently than intended.</p>\n",
        );
    }
    let mut sorted: Vec<&Problem> = report.problems.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.level));
    for (n, p) in sorted.iter().take(MAX_PROBLEMS).enumerate() {
        problem(out, report, p, n + 1);
    }
    if sorted.len() > MAX_PROBLEMS {
        let _ = writeln!(
            out,
            "<p class=\"more\">… and {} more problems, not listed here. The JSON output lists all.</p>",
            sorted.len() - MAX_PROBLEMS
        );
    }
    out.push_str("</section>\n");
}

/// One problem with its location, labels and help.
fn problem(out: &mut String, report: &Report, p: &Problem, number: usize) {
    let _ = write!(
        out,
        "<article class=\"finding problem {}\" id=\"problem-{number}\" aria-labelledby=\"problem-{number}-h\">\
         <h3 id=\"problem-{number}-h\"><span class=\"badge {}\">{}</span> {}</h3><dl class=\"facts\">\
         <div><dt>Code</dt><dd><code>{}</code></dd></div>",
        level_class(p.level),
        level_class(p.level),
        p.level.name(),
        Rich(&p.message),
        E(&p.code),
    );
    let file = p.file;
    if let Some(fid) = file {
        match p.primary_span() {
            Some(span) => {
                let l = location(&report.sources, fid, span);
                let _ = write!(
                    out,
                    "<div><dt>Location</dt><dd><code>{}:{}:{}</code></dd></div>",
                    E(l.file),
                    l.line,
                    l.column
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<div><dt>File</dt><dd><code>{}</code></dd></div>",
                    E(&report.sources.get(fid).name)
                );
            }
        }
    }
    out.push_str("</dl>\n");
    if let (Some(fid), Some(span)) = (file, p.primary_span()) {
        let f = report.sources.get(fid);
        evidence(out, f, span, span);
        for l in &p.labels {
            if l.text.is_empty() {
                continue;
            }
            let loc = location(&report.sources, fid, l.span);
            let _ = writeln!(
                out,
                "<p class=\"label\">{}{}</p>",
                Rich(&l.text),
                if l.primary {
                    String::new()
                } else {
                    format!(" (<code>{}:{}</code>)", loc.line, loc.column)
                }
            );
        }
    }
    if let Some(h) = &p.help {
        let _ = writeln!(
            out,
            "<p class=\"help\"><strong>Help:</strong> {}</p>",
            Rich(h)
        );
    }
    out.push_str("</article>\n");
}

/// Every rule evaluated, with its number of findings.
fn rules(out: &mut String, report: &Report) {
    out.push_str("<section id=\"rules\" aria-labelledby=\"rules-h\">\n<h2 id=\"rules-h\">Rules evaluated</h2>\n");
    if report.rules.is_empty() {
        out.push_str("<p class=\"empty\">No rules were evaluated.</p>\n</section>\n");
        return;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut aside: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        if f.is_open() {
            *counts.entry(f.policy.as_str()).or_default() += 1;
        } else {
            aside.entry(f.policy.as_str()).or_default().push(f);
        }
    }
    let any_aside = !aside.is_empty();
    let mut rules: Vec<&RuleInfo> = report.rules.iter().collect();
    rules.sort_by(|a, b| a.pack.cmp(&b.pack).then_with(|| a.id.cmp(&b.id)));
    let _ = writeln!(
        out,
        "<p>{} evaluated; a rule without findings found nothing to report in the records it applies to.</p>\
         <table class=\"rules\"><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Severity</th>\
         <th scope=\"col\">Applies to</th><th scope=\"col\">What it finds</th>\
         <th scope=\"col\" class=\"num\">{}</th>{}</tr></thead><tbody>",
        E(&plural(report.rules.len(), "rule was", "rules were")),
        if any_aside {
            "Open findings"
        } else {
            "Findings"
        },
        aside_head(any_aside),
    );
    for r in rules {
        let kinds: Vec<&str> = r.kinds.iter().map(|k| kind_label(k)).collect();
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><code class=\"id\">{}</code></th><td><span class=\"badge {}\">{}</span></td>\
             <td>{}{}</td><td>{}</td><td class=\"num\">{}</td>{}</tr>",
            E(&r.id),
            sev_class(r.severity),
            r.severity,
            E(&kinds.join(", ")),
            if r.limit { " (limit)" } else { "" },
            Rich(&r.summary),
            counts.get(r.id.as_str()).copied().unwrap_or(0),
            {
                let (rw, rb) =
                    aside_counts(aside.get(r.id.as_str()).into_iter().flatten().copied());
                aside_cell(any_aside, rw, rb)
            },
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// Files read with their digests, packs, and how to run the check again.
fn provenance(out: &mut String, report: &Report, ctx: &RenderContext) {
    out.push_str(
        "<section id=\"provenance\" aria-labelledby=\"provenance-h\">\n<h2 id=\"provenance-h\">Provenance</h2>\n\
         <p>Every file this check read, with the SHA-256 digest of its bytes. Running the command \
         below on files with the same digests gives the same findings.</p>\n",
    );
    out.push_str(
        "<table class=\"files\"><caption>Files read</caption><thead><tr><th scope=\"col\">Role</th>\
         <th scope=\"col\">File</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>\n",
    );
    let mut files: Vec<(FileId, &SourceFile)> = report
        .sources
        .iter()
        .filter(|(_, f)| f.role != FileRole::Generated)
        .collect();
    files.sort_by_key(|(id, f)| (f.role, *id));
    for (_, f) in &files {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><th scope=\"row\"><code>{}</code></th><td class=\"hash\">{}</td></tr>",
            f.role.name(),
            E(&f.name),
            E(f.sha256.as_deref().unwrap_or("(not recorded)")),
        );
    }
    out.push_str("</tbody></table>\n");
    if !report.packs.is_empty() {
        out.push_str(
            "<table class=\"packs\"><caption>Policy packs</caption><thead><tr><th scope=\"col\">Pack</th>\
             <th scope=\"col\">Version</th></tr></thead><tbody>\n",
        );
        for (id, version) in &report.packs {
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td></tr>",
                E(id),
                E(version)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let command = ctx.command.clone().unwrap_or_else(|| {
        let mut c = format!("konform check --today {}", report.today);
        if ctx.fail_on != Severity::Error {
            let _ = write!(c, " --fail-on {}", ctx.fail_on);
        }
        c
    });
    let _ = writeln!(
        out,
        "<h3>Reproduce this run</h3>\n<pre class=\"command\"><code>{}</code></pre>",
        E(&command)
    );
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{AppliedWaiver, Related, SchoolInfo};
    use crate::problem::Problem;

    use crate::source::{SourceFile, SourceMap};

    fn finding(file: FileId, span: Span, record: Span, message: &str, subject: &str) -> Finding {
        Finding {
            label: "bad <b>label</b>".into(),
            record_span: record,
            help: Some("fix & retry".into()),
            basis: Some("GDPR Art. 5".into()),
            ..Finding::new(
                "test.hostile",
                Severity::Error,
                subject,
                file,
                span,
                message,
            )
        }
    }

    fn rule(id: &str, url: Option<&str>) -> RuleInfo {
        RuleInfo {
            id: id.into(),
            pack: "test".into(),
            severity: Severity::Error,
            summary: "finds <things> & 'stuff'".into(),
            help: Some("fix & retry".into()),
            basis: Some("GDPR Art. 5".into()),
            url: url.map(str::to_owned),
            limit: false,
            kinds: vec!["accounts"],
        }
    }

    /// A report over one hostile file with one finding whose mark follows a `ü`.
    fn hostile() -> Report {
        let mut sources = SourceMap::new();
        let text = "id;name\nk1;Müller<script>;x\"onload=y\n";
        let file = sources.add(
            SourceFile::new("<script>alert(1)</script>\"onload=.csv", None, text)
                .with_origin(FileRole::Input, text.as_bytes()),
        );
        // The span of `<script>` after the two-byte ü.
        let start = text.find("<script>").unwrap_or(0);
        let record_start = text.find("k1").unwrap_or(0);
        let record = Span::from_range(record_start, text.len() - 1);
        let mut f = finding(
            file,
            Span::new(start, "<script>".len()),
            record,
            "<script>alert(1)</script> \"onload=alert(1) &amp; it's\u{1b}[31m\u{202e}",
            "<img src=x onerror=alert(1)>",
        );
        f.related.push(Related {
            file,
            span: Span::new(record_start, 2),
            label: "<i>counted</i>".into(),
            subject: "\"><script>".into(),
        });
        Report {
            sources,
            findings: vec![f],
            problems: vec![
                Problem::error("input::bad-date", "`<b>` is no date")
                    .at(file, Span::new(record_start, 2), "<label>")
                    .with_help("<help>"),
            ],
            today: "2026-11-22".into(),
            packs: vec![("test".into(), "1.0 <beta>".into())],
            school: Some(SchoolInfo {
                id: "1\"2".into(),
                name: Some("<Schule> & 'Co'".into()),
                country: "DE".into(),
                state: "HH".into(),
            }),
            rules: vec![rule("test.hostile", Some("javascript:alert(1)"))],
            ..Report::default()
        }
    }

    fn ctx() -> RenderContext {
        RenderContext {
            command: Some("konform check '<x>' --today 2026-11-22".into()),
            ..RenderContext::default()
        }
    }

    /// Parses the page as XML (the doctype aside) and returns the text of every element.
    fn parse(html: &str) -> roxmltree::Document<'_> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        match roxmltree::Document::parse_with_options(html, options) {
            Ok(doc) => doc,
            Err(e) => panic!("not well-formed: {e}\n{html}"),
        }
    }

    #[test]
    fn escape_covers_all_five_and_drops_controls() {
        assert_eq!(
            escape("<a href=\"x\">'&amp;'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            escape("a\u{0}b\u{1b}[1mc\u{7f}d\u{85}e\u{202e}f\tg\nh"),
            "ab[1mcdef\tg\nh"
        );
        assert_eq!(escape("Müller"), "Müller");
    }

    #[test]
    fn hostile_values_are_escaped_everywhere() {
        let html = html(&hostile(), &ctx());
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>") && !html.contains("<i>") && !html.contains("<label>"));
        assert!(!html.contains("\"onload="), "quote not escaped");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&quot;onload=alert(1) &amp;amp; it&#39;s"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onload=.csv:2:10"));
        assert!(html.contains("&lt;Schule&gt; &amp; &#39;Co&#39;"));
        assert!(html.contains("konform check &#39;&lt;x&gt;&#39; --today 2026-11-22"));
        assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}'));
        // The `javascript:` URL is shown, never linked.
        assert!(!html.contains("href=\"javascript"));
        assert!(html.contains("<code>javascript:alert(1)</code>"));
        // Well-formed, and every value is text, never markup.
        let doc = parse(&html);
        let names: std::collections::BTreeSet<&str> = doc
            .descendants()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        for bad in [
            "script", "img", "b", "i", "label", "iframe", "object", "embed", "link",
        ] {
            assert!(!names.contains(bad), "element <{bad}> in the output");
        }
        for n in doc.descendants().filter(|n| n.is_element()) {
            for a in n.attributes() {
                assert!(
                    !a.name().starts_with("on"),
                    "event handler attribute {}",
                    a.name()
                );
            }
        }
        let text: String = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(text.contains("<script>alert(1)</script> \"onload=alert(1) &amp; it's[31m"));
        assert!(text.contains("<img src=x onerror=alert(1)>"));
    }

    #[test]
    fn mark_covers_the_span_after_multibyte_characters() {
        let html = html(&hostile(), &ctx());
        // The finding's evidence: the header line, then line 2 with `<script>` marked after ü.
        assert!(
            html.contains(
                "<span class=\"ln\">2</span><span class=\"src\">k1;Müller<mark>&lt;script&gt;</mark>;x&quot;onload=y</span>"
            ),
            "{html}"
        );
        assert!(html.contains("<span class=\"ln\">1</span><span class=\"src\">id;name</span>"));
        let doc = parse(&html);
        let marks: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("mark"))
            .map(|n| {
                n.descendants()
                    .filter(|t| t.is_text())
                    .filter_map(|t| t.text())
                    .collect()
            })
            .collect();
        // The problem's mark (errors come before the findings), then the finding's.
        assert_eq!(marks, vec!["k1".to_owned(), "<script>".to_owned()]);
    }

    #[test]
    fn marks_on_multiline_and_long_lines() {
        let mut sources = SourceMap::new();
        let long = format!(
            "{}ä{}TARGET{}\n",
            "x".repeat(500),
            "y".repeat(300),
            "z".repeat(500)
        );
        let text = format!("- a: 1\n  b: Übel\n  c: 3\n{long}");
        let file = sources.add(SourceFile::new("a.yaml", None, text.clone()));
        let b = text.find("Übel").unwrap_or(0);
        let t = text.find("TARGET").unwrap_or(0);
        let mut out = String::new();
        evidence(
            &mut out,
            sources.get(file),
            Span::from_range(0, 22),
            Span::new(b, "Übel".len()),
        );
        assert!(
            out.contains(
                "<span class=\"ln\">2</span><span class=\"src\">  b: <mark>Übel</mark></span>"
            ),
            "{out}"
        );
        assert!(out.contains("<span class=\"ln\">1</span><span class=\"src\">- a: 1</span>"));
        assert!(out.contains("<span class=\"ln\">3</span><span class=\"src\">  c: 3</span>"));
        assert!(!out.contains("gap"));
        let mut out = String::new();
        evidence(
            &mut out,
            sources.get(file),
            Span::from_range(t - 600, t + 10),
            Span::new(t, 6),
        );
        assert!(out.contains("<mark>TARGET</mark>"), "{out}");
        assert!(out.contains("<span class=\"cut\">…</span>"));
        assert!(out.len() < 1200, "long line not cut: {}", out.len());
        // A span across a line break is marked on both lines.
        let mut out = String::new();
        let c = text.find("  c").unwrap_or(0);
        evidence(
            &mut out,
            sources.get(file),
            Span::from_range(0, c),
            Span::from_range(b, c + 3),
        );
        assert!(out.contains("<mark>Übel</mark></span>"), "{out}");
        assert!(out.contains("<mark>  c</mark>: 3"), "{out}");
    }

    #[test]
    fn ten_thousand_findings_stay_usable() {
        let mut text = String::from("id;name;role\n");
        for n in 0..10_000 {
            text.push_str(&format!("k{n};Name {n};teacher\n"));
        }
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("big.csv", None, text.clone()));
        let mut findings = Vec::new();
        let mut offset = text.find('\n').unwrap_or(0) + 1;
        for n in 0..10_000 {
            let end = offset + text.get(offset..).and_then(|t| t.find('\n')).unwrap_or(0);
            let mut f = finding(
                file,
                Span::new(offset, 2),
                Span::from_range(offset, end + 1),
                "m",
                &format!("k{n}"),
            );
            f.policy = if n % 2 == 0 { "test.a" } else { "test.b" }.into();
            findings.push(f);
            offset = end + 1;
        }
        let report = Report {
            sources,
            findings,
            today: "2026-11-22".into(),
            ..Report::default()
        };
        let out = html(&report, &RenderContext::default());
        assert_eq!(
            out.matches("<article class=\"finding ").count(),
            2 * MAX_FINDINGS_PER_POLICY
        );
        assert_eq!(out.matches("… and 4800 more findings").count(), 2);
        assert!(out.len() < 1_000_000, "{} bytes", out.len());
        let _ = parse(&out);
    }

    #[test]
    fn csv_columns_and_backticks() {
        let text = "a;b;\"c;d\";e\nx;y;\"1;2\";Z\n";
        let line = text.find('x').unwrap_or(0);
        let record = Span::from_range(line, text.len());
        let at = |s: &str| Span::new(text.find(s).unwrap_or(0), s.len());
        let whole = SourceFile::new("a.csv", None, text);
        // A sparse file that holds the record (and, always, the header) names the same columns.
        let sparse = whole.sparse(&[(line + 1, line + 2)]);
        for file in [&whole, &sparse] {
            assert_eq!(csv_column(file, record, at("Z")).as_deref(), Some("e"));
            assert_eq!(csv_column(file, record, at("2")).as_deref(), Some("c;d"));
            assert_eq!(csv_column(file, record, at("y")).as_deref(), Some("b"));
            assert_eq!(csv_column(file, record, at("y;")), None, "two fields");
            assert_eq!(csv_column(file, record, at("b")), None, "the header itself");
        }
        assert_eq!(
            Rich("`<x>` and `y`").to_string(),
            "<code>&lt;x&gt;</code> and <code>y</code>"
        );
        assert_eq!(Rich("a`<b>").to_string(), "a`&lt;b&gt;");
    }

    #[test]
    fn evidence_is_capped_to_a_few_lines() {
        let text: String = (1..=40).map(|n| format!("line {n}\n")).collect();
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("big.yaml", None, text.clone()));
        let at = text.find("line 20").unwrap_or(0);
        let mut out = String::new();
        evidence(
            &mut out,
            sources.get(file),
            Span::new(0, text.len()),
            Span::new(at, 7),
        );
        assert_eq!(out.matches("class=\"line\"").count(), MAX_EVIDENCE_LINES);
        assert_eq!(out.matches("class=\"line gap\"").count(), 2);
        assert!(out.contains("<mark>line 20</mark>"));
        assert!(out.contains("<span class=\"ln\">19</span><span class=\"src\">line 19"));
    }

    #[test]
    fn no_external_resources() {
        let mut report = hostile();
        report.rules = vec![rule(
            "test.hostile",
            Some("https://example.org/policy?a=1&b=\"2\""),
        )];
        report.findings.iter_mut().for_each(|f| {
            f.message
                .push_str(" url(https://evil.example/x.png) @import 'https://evil.example/a.css'");
        });
        let html = html(&report, &ctx());
        let doc = parse(&html);
        // Decision: documentation links of policies are `<a href>` links (followed only when
        // clicked, never loaded); nothing else may point outside the page.
        let link = "https://example.org/policy?a=1&b=\"2\"";
        for n in doc.descendants().filter(|n| n.is_element()) {
            let tag = n.tag_name().name();
            assert!(
                !matches!(
                    tag,
                    "script"
                        | "img"
                        | "link"
                        | "iframe"
                        | "object"
                        | "embed"
                        | "image"
                        | "use"
                        | "audio"
                        | "video"
                        | "source"
                        | "base"
                        | "form"
                ),
                "element <{tag}>"
            );
            for a in n.attributes() {
                let (name, value) = (a.name(), a.value());
                assert!(
                    !matches!(
                        name,
                        "src"
                            | "srcset"
                            | "data"
                            | "poster"
                            | "action"
                            | "background"
                            | "style"
                            | "xmlns"
                    ),
                    "attribute {name}={value:?} on <{tag}>"
                );
                if name == "href" {
                    assert!(
                        value.starts_with('#') || (tag == "a" && value == link),
                        "link to {value:?}"
                    );
                }
            }
            if tag == "style" {
                let css = n.text().unwrap_or_default().to_ascii_lowercase();
                assert!(!css.contains("@import") && !css.contains("url(") && !css.contains("://"));
            }
        }
        // At the text level: markup in values appears only escaped, as text (the message's
        // `url(…)` and `@import` stay harmless text in a heading).
        let lower = html.to_ascii_lowercase();
        for bad in [
            "src=\"", "<link", "<script", "<img", "<iframe", "<object", "<embed", "xmlns",
        ] {
            assert!(!lower.contains(bad), "{bad} in the output");
        }
        let escaped_link =
            "<a href=\"https://example.org/policy?a=1&amp;b=&quot;2&quot;\" rel=\"noreferrer\">";
        assert!(html.contains(escaped_link), "{html}");
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn verdict_redaction_and_provenance() {
        let mut report = hostile();
        let out = html(&report, &ctx());
        assert!(out.contains("INCOMPLETE"));
        assert!(out.contains("Personal data is NOT masked"));
        assert!(out.find("id=\"problems\"") < out.find("id=\"findings\""));
        let sha = crate::source::sha256_hex(report.sources.get(FileId(0)).text().as_bytes());
        assert!(out.contains(&sha));
        report.problems.clear();
        report.redacted = true;
        let out = html(&report, &RenderContext::default());
        assert!(out.contains("Findings: action is needed"));
        assert!(out.contains("Personal data is masked"));
        assert!(out.contains("<code>konform check --today 2026-11-22</code>"));
        assert!(!out.contains("id=\"problems\""));
        report.findings.clear();
        let out = html(&report, &RenderContext::default());
        assert!(out.contains("Passed: no findings"));
        let _ = parse(&out);
    }

    #[test]
    fn set_aside_findings_are_badged_and_counted_apart() {
        let mut report = hostile();
        report.problems.clear();
        let waivers = "waivers:\n  - policy: test.hostile\n    subject: x\n";
        let wf = report.sources.add(
            SourceFile::new("waivers.yaml", None, waivers)
                .with_origin(FileRole::Waiver, waivers.as_bytes()),
        );
        let Some(open) = report.findings.first().cloned() else {
            panic!("no finding")
        };
        let mut waived = open.clone();
        waived.subject = "w1".into();
        waived.message = "the waived one".into();
        waived.waiver = Some(Box::new(AppliedWaiver {
            reason: "<script>x</script> spare `pool` & more".into(),
            approved_by: "DPO \"<b>\"".into(),
            expires: "2027-03-31".into(),
            file: wf,
            span: Span::new(11, 20),
        }));
        let mut known = open.clone();
        known.subject = "b1".into();
        known.message = "the known one".into();
        known.baselined = true;
        // Report order puts the set-aside findings first; the page lists the open one first.
        report.findings = vec![waived, known, open];
        let out = html(&report, &RenderContext::default());
        let _ = parse(&out);
        assert!(!out.contains("<script>x") && !out.contains("<b>"), "{out}");
        assert!(out.contains(
            "<h4 id=\"finding-2-h\"><span class=\"badge set-aside\">waived</span> the waived one</h4>"
        ));
        assert!(out.contains(
            "<h4 id=\"finding-3-h\"><span class=\"badge set-aside\">baseline</span> the known one</h4>"
        ));
        assert!(out.contains("<article class=\"finding sev-error set-aside\" id=\"finding-2\""));
        assert!(
            out.contains(
                "<strong>Waived</strong> until <strong>2027-03-31</strong>, approved by DPO \
                 &quot;&lt;b&gt;&quot;: &lt;script&gt;x&lt;/script&gt; spare <code>pool</code> \
                 &amp; more <span class=\"column\">(waiver entry <code>waivers.yaml:2</code>)</span>"
            ),
            "{out}"
        );
        assert!(out.contains("<strong>In the baseline</strong>"));
        // Counts are of open findings; the set-aside ones are counted apart.
        assert!(out.contains(
            "<div class=\"card sev-error\"><span class=\"n\">1</span><span class=\"l\">error</span></div>"
        ));
        assert!(out.contains(
            "<div class=\"card set-aside\"><span class=\"n\">2</span><span class=\"l\">set aside: 1 waived, 1 in the baseline</span></div>"
        ));
        assert!(out.contains(
            "<td class=\"num\">1</td><td class=\"num\" title=\"1 waived, 1 in the baseline\">2</td></tr>"
        ));
        assert!(out.contains("1 open finding, 2 set aside (1 waived, 1 in the baseline)"));
        assert!(out.contains("Findings: action is needed"));
        assert!(out.contains("1 open finding: 1 error, 0 warnings, 0 infos; not counted: 1 waived, 1 in the baseline."));
        // The waiver file is listed with the files read.
        assert!(
            out.contains("<tr><td>waiver</td><th scope=\"row\"><code>waivers.yaml</code></th>")
        );
        // Everything set aside: the check passes, and says why.
        report.findings.truncate(2);
        let out = html(&report, &RenderContext::default());
        assert!(out.contains("Passed: no open findings"), "{out}");
        assert!(out.contains("2 findings are set aside (1 waived, 1 in the baseline)"));
        assert!(out.contains(
            "<div class=\"card sev-error\"><span class=\"n\">0</span><span class=\"l\">errors</span></div>"
        ));
    }

    #[test]
    fn many_findings_are_capped_per_policy() {
        let mut report = hostile();
        report.problems.clear();
        let f = report.findings.first().cloned();
        if let Some(f) = f {
            report.findings = (0..MAX_FINDINGS_PER_POLICY + 7)
                .map(|n| {
                    let mut f = f.clone();
                    f.subject = format!("k{n}");
                    f
                })
                .collect();
        }
        let out = html(&report, &ctx());
        assert_eq!(
            out.matches("<article class=\"finding ").count(),
            MAX_FINDINGS_PER_POLICY
        );
        assert!(out.contains("… and 7 more findings of this policy"));
        assert!(out.contains(&format!(
            "<td class=\"num\">{}</td>",
            MAX_FINDINGS_PER_POLICY + 7
        )));
    }
}

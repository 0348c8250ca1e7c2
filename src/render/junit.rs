//! JUnit XML output, for the test report views of GitLab (`artifacts:reports:junit`), Jenkins
//! and Azure Pipelines.
//!
//! There is no single JUnit XML standard; this follows the common Ant/Surefire shape that all
//! three read, and GitLab's "Unit test reports" documentation of what it parses:
//!
//! ```text
//! <testsuites name="konform" tests= failures= errors=>
//!   <testsuite name="<input file>" tests= failures= errors= skipped="0">
//!     <properties> konform.version, konform.pack.<id>, konform.today, konform.redacted … </properties>
//!     <testcase name="<rule id>" classname="<input file>" file="<input file>">
//!       <failure message="N findings" type="<severity>">file:line:col: severity: message (subject)
//!       …</failure>
//!       <system-out>file:line:col: severity: message (subject) — waived until …: reason
//!       …</system-out>
//!     </testcase>
//!   </testsuite>
//!   <testsuite name="konform"> <testcase …><error message= type="<problem code>">…</error> …
//! </testsuites>
//! ```
//!
//! - One test suite per checked input ([`Report::inputs`]), one test case per rule that applies
//!   to a kind of record in that input (and per rule with findings there). A rule without
//!   findings passes; a rule with findings fails with one line per finding. Findings in files
//!   that are not listed as inputs get a suite of their file, so none is lost.
//! - GitLab shows a test case's `classname` as its suite and keys test cases by class name and
//!   name, so the class name is the input file (the rule id already names the pack) and the same
//!   rule in two inputs stays two test cases.
//! - konform's own errors (problems that make the exit code 2) are test cases with an `<error>`
//!   in a suite named `konform`, so that an input konform could not read never passes.
//!   konform's warnings are listed in that suite's `<system-out>`.
//! - Every open finding fails its test case whatever `--fail-on` says; the exit code, not this
//!   report, decides whether the job fails.
//! - Waived findings and findings in the baseline are no failures: they are listed in the test
//!   case's `<system-out>` (`… — waived until YYYY-MM-DD (approved by …): reason`, `… — in the
//!   baseline`). A test case whose findings are all set aside passes; one with open findings
//!   fails, and its failure counts and lists the open ones only.
//! - Properties (tool version, packs, evaluation date, whether personal data was masked) stand
//!   in every suite: the `<testsuites>` element has no properties in the common schemas.
//!
//! Text is escaped for XML 1.0: `&`, `<`, `>`, quotes, and line breaks and tabs in attributes;
//! characters XML 1.0 does not allow (control characters other than tab and line breaks, U+FFFE,
//! U+FFFF) and other unsafe ones (C1 controls, bidirectional overrides) are written as visible
//! escapes such as `\u{1b}`. The output is deterministic: no timestamps, no durations.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{RenderContext, TOOL_NAME, TOOL_VERSION};
use crate::finding::{Finding, Report, RuleInfo};
use crate::problem::{Problem, ProblemLevel};
use crate::source::FileId;

/// The name of the suite of konform's own errors.
pub const TOOL_SUITE: &str = "konform";

/// `text` without characters XML 1.0 does not allow and without terminal control characters:
/// each is written as a visible escape (`\u{1b}`).
fn clean(text: &str) -> String {
    crate::redact::escape_unsafe(text)
        .chars()
        .map(|c| match c {
            '\u{fffe}' | '\u{ffff}' => format!("\\u{{{:x}}}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// `text` escaped for an attribute value in double quotes.
fn attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped for element content.
fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// One test case: a rule in a file, or one of konform's errors.
struct Case {
    name: String,
    classname: String,
    file: Option<String>,
    outcome: Outcome,
    /// The case's `<system-out>`: its set-aside findings.
    out: Option<String>,
}

enum Outcome {
    Pass,
    Failure {
        message: String,
        kind: String,
        body: String,
    },
    Error {
        message: String,
        kind: String,
        body: String,
    },
}

struct Suite {
    name: String,
    cases: Vec<Case>,
    out: Option<String>,
}

impl Suite {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }
    fn failures(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failure { .. }))
    }
    fn errors(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Error { .. }))
    }
}

/// One line per finding: `file:line:col: severity: message (subject)`.
fn finding_line(report: &Report, f: &Finding) -> String {
    let loc = super::location(&report.sources, f.file, f.span);
    let subject = if f.subject.is_empty() {
        String::new()
    } else {
        format!(" ({})", f.subject)
    };
    format!(
        "{}:{}:{}: {}: {}{subject}",
        loc.file, loc.line, loc.column, f.severity, f.message
    )
}

/// Why a finding does not count: `waived until YYYY-MM-DD (approved by …): reason` or `in the
/// baseline`; `None` for an open finding.
fn set_aside_note(f: &Finding) -> Option<String> {
    match &f.waiver {
        Some(w) => Some(format!(
            "waived until {} (approved by {}): {}",
            w.expires, w.approved_by, w.reason
        )),
        None if f.baselined => Some("in the baseline".to_owned()),
        None => None,
    }
}

/// The test case of `rule` in `file` with the findings of that rule there.
fn rule_case(
    report: &Report,
    file: &str,
    id: &str,
    rule: Option<&RuleInfo>,
    all: &[&Finding],
) -> Case {
    let (findings, aside): (Vec<&Finding>, Vec<&Finding>) = all.iter().partition(|f| f.is_open());
    let out: String = aside
        .iter()
        .filter_map(|f| {
            set_aside_note(f).map(|note| format!("{} — {note}\n", finding_line(report, f)))
        })
        .collect();
    let outcome = if findings.is_empty() {
        Outcome::Pass
    } else {
        let n = findings.len();
        let worst = findings
            .iter()
            .map(|f| f.severity)
            .max()
            .or(rule.map(|r| r.severity))
            .map_or("error", |s| s.name());
        let mut body: String = findings
            .iter()
            .map(|f| finding_line(report, f) + "\n")
            .collect();
        let help = rule
            .and_then(|r| r.help.as_deref())
            .or_else(|| findings.first().and_then(|f| f.help.as_deref()));
        if let Some(help) = help {
            let _ = writeln!(body, "help: {help}");
        }
        let basis = rule
            .and_then(|r| r.basis.as_deref())
            .or_else(|| findings.first().and_then(|f| f.basis.as_deref()));
        if let Some(basis) = basis {
            let _ = writeln!(body, "basis: {basis}");
        }
        Outcome::Failure {
            message: format!("{n} finding{}", if n == 1 { "" } else { "s" }),
            kind: worst.to_owned(),
            body,
        }
    };
    Case {
        name: id.to_owned(),
        classname: file.to_owned(),
        file: Some(file.to_owned()),
        outcome,
        out: (!out.is_empty()).then_some(out),
    }
}

/// The suites of the input files (and of other files with findings).
fn file_suites(report: &Report) -> Vec<Suite> {
    let mut by_file: BTreeMap<FileId, BTreeMap<&str, Vec<&Finding>>> = BTreeMap::new();
    for f in &report.findings {
        by_file
            .entry(f.file)
            .or_default()
            .entry(f.policy.as_str())
            .or_default()
            .push(f);
    }
    let rules: BTreeMap<&str, &RuleInfo> =
        report.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut files: Vec<FileId> = Vec::new();
    for input in &report.inputs {
        if !files.contains(&input.file) {
            files.push(input.file);
        }
    }
    let mut others: Vec<FileId> = by_file
        .keys()
        .filter(|f| !files.contains(f))
        .copied()
        .collect();
    others.sort_by(|a, b| {
        report
            .sources
            .get(*a)
            .name
            .cmp(&report.sources.get(*b).name)
    });
    files.extend(others);
    files
        .into_iter()
        .map(|file| {
            let name = report.sources.get(file).name.clone();
            let kinds: BTreeSet<&str> = report
                .inputs
                .iter()
                .filter(|i| i.file == file)
                .flat_map(|i| i.records.keys().copied())
                .collect();
            let found = by_file.remove(&file).unwrap_or_default();
            let mut ids: BTreeSet<&str> = report
                .rules
                .iter()
                .filter(|r| r.kinds.iter().any(|k| kinds.contains(k)))
                .map(|r| r.id.as_str())
                .collect();
            ids.extend(found.keys().copied());
            let cases = ids
                .into_iter()
                .map(|id| {
                    let findings = found.get(id).map(Vec::as_slice).unwrap_or_default();
                    rule_case(report, &name, id, rules.get(id).copied(), findings)
                })
                .collect();
            Suite {
                name,
                cases,
                out: None,
            }
        })
        .collect()
}

/// Where a problem is: `file:line:col`, `file`, or nothing.
fn problem_place(report: &Report, p: &Problem) -> Option<String> {
    let file = p.file?;
    Some(match p.primary_span() {
        Some(span) => {
            let loc = super::location(&report.sources, file, span);
            format!("{}:{}:{}", loc.file, loc.line, loc.column)
        }
        None => report.sources.get(file).name.clone(),
    })
}

/// The suite of konform's own errors (with its warnings as output), if there are any.
fn tool_suite(report: &Report) -> Option<Suite> {
    let mut cases: Vec<Case> = Vec::new();
    let mut out = String::new();
    for p in &report.problems {
        let place = problem_place(report, p);
        let at = place
            .as_deref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        match p.level {
            ProblemLevel::Error => {
                let base = match &place {
                    Some(place) => format!("{} at {place}", p.code),
                    None => p.code.clone(),
                };
                let mut name = base.clone();
                let mut n = 2;
                while cases.iter().any(|c| c.name == name) {
                    name = format!("{base} ({n})");
                    n += 1;
                }
                let mut body = format!("{at}error: {}\n", p.message);
                for l in p.labels.iter().filter(|l| !l.primary && !l.text.is_empty()) {
                    let _ = writeln!(body, "  note: {}", l.text);
                }
                if let Some(help) = &p.help {
                    let _ = writeln!(body, "help: {help}");
                }
                cases.push(Case {
                    name,
                    classname: TOOL_SUITE.to_owned(),
                    file: p.file.map(|f| report.sources.get(f).name.clone()),
                    outcome: Outcome::Error {
                        message: p.message.clone(),
                        kind: p.code.clone(),
                        body,
                    },
                    out: None,
                });
            }
            ProblemLevel::Warning | ProblemLevel::Note => {
                let _ = writeln!(out, "{at}{}: {} [{}]", p.level.name(), p.message, p.code);
            }
        }
    }
    (!cases.is_empty()).then(|| Suite {
        name: TOOL_SUITE.to_owned(),
        cases,
        out: (!out.is_empty()).then_some(out),
    })
}

fn properties(report: &Report, xml: &mut String) {
    let mut props: Vec<(String, String)> = vec![
        ("konform.version".into(), TOOL_VERSION.into()),
        ("konform.today".into(), report.today.clone()),
        ("konform.redacted".into(), report.redacted.to_string()),
    ];
    for (id, version) in &report.packs {
        props.push((format!("konform.pack.{id}"), version.clone()));
    }
    if let Some(school) = report.school.as_ref().filter(|s| !s.id.is_empty()) {
        props.push(("konform.school".into(), school.id.clone()));
    }
    xml.push_str("    <properties>\n");
    for (name, value) in props {
        let _ = writeln!(
            xml,
            "      <property name=\"{}\" value=\"{}\"/>",
            attr(&name),
            attr(&value)
        );
    }
    xml.push_str("    </properties>\n");
}

fn write_suite(report: &Report, suite: &Suite, xml: &mut String) {
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
        attr(&suite.name),
        suite.cases.len(),
        suite.failures(),
        suite.errors()
    );
    properties(report, xml);
    for case in &suite.cases {
        let _ = write!(
            xml,
            "    <testcase name=\"{}\" classname=\"{}\"",
            attr(&case.name),
            attr(&case.classname)
        );
        if let Some(file) = &case.file {
            let _ = write!(xml, " file=\"{}\"", attr(file));
        }
        let out = case
            .out
            .as_deref()
            .map(|o| format!("      <system-out>{}</system-out>\n", text(o)))
            .unwrap_or_default();
        match &case.outcome {
            Outcome::Pass if out.is_empty() => xml.push_str("/>\n"),
            Outcome::Pass => {
                let _ = write!(xml, ">\n{out}    </testcase>\n");
            }
            Outcome::Failure {
                message,
                kind,
                body,
            }
            | Outcome::Error {
                message,
                kind,
                body,
            } => {
                let element = if matches!(case.outcome, Outcome::Failure { .. }) {
                    "failure"
                } else {
                    "error"
                };
                let _ = write!(
                    xml,
                    ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n{out}    </testcase>\n",
                    attr(message),
                    attr(kind),
                    text(body)
                );
            }
        }
    }
    if let Some(out) = &suite.out {
        let _ = writeln!(xml, "    <system-out>{}</system-out>", text(out));
    }
    xml.push_str("  </testsuite>\n");
}

/// Renders the report as JUnit XML (see the module documentation).
pub fn junit(report: &Report, _ctx: &RenderContext) -> String {
    let mut suites = file_suites(report);
    suites.extend(tool_suite(report));
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let errors: usize = suites.iter().map(Suite::errors).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
        attr(TOOL_NAME)
    );
    for suite in &suites {
        write_suite(report, suite, &mut xml);
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{AppliedWaiver, InputInfo, Severity};

    use crate::source::{SourceFile, SourceMap, Span};

    fn finding(file: FileId, offset: usize, policy: &str, subject: &str, message: &str) -> Finding {
        Finding {
            pack: "p".into(),
            ..Finding::new(
                policy,
                Severity::Error,
                subject,
                file,
                Span::new(offset, 1),
                message,
            )
        }
    }

    fn rule(id: &str, kinds: Vec<&'static str>) -> RuleInfo {
        RuleInfo {
            id: id.into(),
            pack: "p".into(),
            severity: Severity::Error,
            summary: "something".into(),
            help: Some("fix it".into()),
            basis: None,
            url: None,
            limit: false,
            kinds,
        }
    }

    fn sample() -> Report {
        let mut sources = SourceMap::new();
        let a = sources.add(SourceFile::new("a.csv", None, "id\nx\ny\n"));
        let b = sources.add(SourceFile::new("b & c.csv", None, "id\nz\n"));
        let other = sources.add(SourceFile::new("svc.yaml", None, "video: on\n"));
        Report {
            sources,
            findings: vec![
                finding(a, 3, "p.one", "x", "`x` is bad"),
                finding(a, 5, "p.one", "y", "`y` is bad"),
                finding(b, 3, "p.two", "z", "`z` is bad"),
                finding(other, 0, "p.svc", "video", "video is on"),
            ],
            rules: vec![
                rule("p.one", vec!["accounts"]),
                rule("p.two", vec!["accounts"]),
                rule("p.three", vec!["accounts"]),
                rule("p.consent", vec!["consents"]),
            ],
            inputs: vec![
                InputInfo {
                    file: a,
                    records: [("accounts", 2)].into_iter().collect(),
                },
                InputInfo {
                    file: b,
                    records: [("accounts", 1)].into_iter().collect(),
                },
            ],
            packs: vec![("p".into(), "1.0.0".into())],
            today: "2026-11-22".into(),
            ..Report::default()
        }
    }

    fn parse(xml: &str) -> roxmltree::Document<'_> {
        match roxmltree::Document::parse(xml) {
            Ok(d) => d,
            Err(e) => panic!("not well-formed ({e}):\n{xml}"),
        }
    }

    fn attr_of<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
        node.attribute(name).unwrap_or_default()
    }

    #[test]
    fn well_formed_with_right_counts() {
        let report = sample();
        let xml = junit(&report, &RenderContext::default());
        let doc = parse(&xml);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        // a.csv: one, two, three (consent does not apply); b & c.csv: the same; svc.yaml: svc.
        assert_eq!(attr_of(root, "tests"), "7");
        assert_eq!(attr_of(root, "failures"), "3");
        assert_eq!(attr_of(root, "errors"), "0");
        let suites: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        let names: Vec<&str> = suites.iter().map(|s| attr_of(*s, "name")).collect();
        assert_eq!(names, ["a.csv", "b & c.csv", "svc.yaml"]);
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        assert_eq!(failures.len(), 3);
        assert_eq!(attr_of(failures[0], "message"), "2 findings");
        assert_eq!(attr_of(failures[0], "type"), "error");
        let lines: usize = failures
            .iter()
            .map(|f| {
                f.text()
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.contains(": error: "))
                    .count()
            })
            .sum();
        assert_eq!(lines, report.findings.len());
        assert!(
            failures[0]
                .text()
                .unwrap_or_default()
                .starts_with("a.csv:2:1: error: `x` is bad (x)\n")
        );
        let props: Vec<(&str, &str)> = suites[0]
            .descendants()
            .filter(|n| n.has_tag_name("property"))
            .map(|n| (attr_of(n, "name"), attr_of(n, "value")))
            .collect();
        assert!(props.contains(&("konform.redacted", "false")));
        assert!(props.contains(&("konform.pack.p", "1.0.0")));
        let case = suites[1]
            .children()
            .find(|n| n.has_tag_name("testcase"))
            .map(|n| attr_of(n, "classname"));
        assert_eq!(case, Some("b & c.csv"));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let mut report = sample();
        let hostile = "<script>&\"evil\" ]]> \u{1b}[31m\u{0}\u{7}\u{fffe}";
        report.findings[0].message = hostile.into();
        report.problems.push(Problem::error("input::x", hostile));
        let xml = junit(&report, &RenderContext::default());
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}') && !xml.contains('\u{fffe}'));
        let doc = parse(&xml);
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert!(failure.contains("<script>&\"evil\" ]]> \\u{1b}[31m\\u{0}\\u{7}\\u{fffe}"));
        let error = doc.descendants().find(|n| n.has_tag_name("error"));
        assert_eq!(
            error.map(|n| attr_of(n, "message")),
            Some("<script>&\"evil\" ]]> \\u{1b}[31m\\u{0}\\u{7}\\u{fffe}")
        );
    }

    #[test]
    fn attributes_keep_line_breaks() {
        let xml = format!("<a b=\"{}\"/>", attr("one\ntwo\tthree"));
        let doc = parse(&xml);
        assert_eq!(doc.root_element().attribute("b"), Some("one\ntwo\tthree"));
    }

    #[test]
    fn tool_errors_are_errors() {
        let mut report = sample();
        let file = report.inputs[0].file;
        report.problems = vec![
            Problem::error("input::bad-date", "`soon` is not a date")
                .at(file, Span::new(3, 1), "here")
                .with_help("write YYYY-MM-DD"),
            Problem::error("input::bad-date", "`soon` is not a date").at(
                file,
                Span::new(3, 1),
                "here",
            ),
            Problem::warning("input::misspelt-column", "`nmae` looks like `name`"),
        ];
        report.redacted = true;
        let xml = junit(&report, &RenderContext::default());
        let doc = parse(&xml);
        let root = doc.root_element();
        assert_eq!(attr_of(root, "errors"), "2");
        let suite = root
            .children()
            .find(|n| n.has_tag_name("testsuite") && attr_of(*n, "name") == TOOL_SUITE);
        let Some(suite) = suite else {
            panic!("no konform suite:\n{xml}")
        };
        let names: Vec<&str> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|n| attr_of(n, "name"))
            .collect();
        assert_eq!(
            names,
            [
                "konform::input::bad-date at a.csv:2:1",
                "konform::input::bad-date at a.csv:2:1 (2)"
            ]
        );
        let out = suite
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert!(out.contains("warning: `nmae` looks like `name`"));
        assert!(xml.contains("<property name=\"konform.redacted\" value=\"true\"/>"));
    }

    #[test]
    fn set_aside_findings_are_no_failures() {
        let mut report = sample();
        let waiver_file = report.sources.add(SourceFile::new(
            "waivers.yaml",
            None,
            "waivers:\n  - policy: p.one\n",
        ));
        // a.csv: `x` waived, `y` open (p.one fails with one finding); b & c.csv: `z` in the
        // baseline (p.two passes).
        report.findings[0].waiver = Some(Box::new(AppliedWaiver {
            reason: "shared <pool> & \"spare\"\u{1b}[31m".into(),
            approved_by: "DPO".into(),
            expires: "2027-03-31".into(),
            file: waiver_file,
            span: Span::new(12, 15),
        }));
        report.findings[2].baselined = true;
        let xml = junit(&report, &RenderContext::default());
        assert!(!xml.contains('\u{1b}'));
        let doc = parse(&xml);
        let root = doc.root_element();
        assert_eq!(attr_of(root, "tests"), "7");
        assert_eq!(attr_of(root, "failures"), "2");
        let case = |file: &str, name: &str| {
            doc.descendants().find(|n| {
                n.has_tag_name("testcase")
                    && attr_of(*n, "classname") == file
                    && attr_of(*n, "name") == name
            })
        };
        let text_of = |node: Option<roxmltree::Node<'_, '_>>, tag: &str| {
            node.and_then(|n| n.children().find(|c| c.has_tag_name(tag)))
                .and_then(|n| n.text())
                .map(str::to_owned)
        };
        let one = case("a.csv", "p.one");
        let failure = one.and_then(|n| n.children().find(|c| c.has_tag_name("failure")));
        assert_eq!(failure.map(|n| attr_of(n, "message")), Some("1 finding"));
        let body = text_of(one, "failure").unwrap_or_default();
        assert!(
            body.starts_with("a.csv:3:1: error: `y` is bad (y)\n"),
            "{body}"
        );
        assert!(!body.contains("(x)"), "{body}");
        assert_eq!(
            text_of(one, "system-out").as_deref(),
            Some(
                "a.csv:2:1: error: `x` is bad (x) — waived until 2027-03-31 (approved by DPO): \
                 shared <pool> & \"spare\"\\u{1b}[31m\n"
            )
        );
        let two = case("b & c.csv", "p.two");
        assert!(text_of(two, "failure").is_none(), "{xml}");
        assert_eq!(
            text_of(two, "system-out").as_deref(),
            Some("b & c.csv:2:1: error: `z` is bad (z) — in the baseline\n")
        );
        // Findings of other files stay failures; a passing case without set-aside findings
        // stays an empty element.
        assert!(text_of(case("svc.yaml", "p.svc"), "failure").is_some());
        assert!(xml.contains("<testcase name=\"p.three\" classname=\"a.csv\" file=\"a.csv\"/>"));
    }

    #[test]
    fn a_clean_run_passes() {
        let mut report = sample();
        report.findings.clear();
        let xml = junit(&report, &RenderContext::default());
        let doc = parse(&xml);
        assert_eq!(attr_of(doc.root_element(), "tests"), "6");
        assert_eq!(attr_of(doc.root_element(), "failures"), "0");
    }
}

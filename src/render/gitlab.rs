//! GitLab Code Quality report: a JSON array of issues for `artifacts:reports:codequality`.
//!
//! GitLab's "Code Quality report format" (docs.gitlab.com/ci/testing/code_quality) is a subset
//! of the Code Climate analyzer spec (github.com/codeclimate/platform, `spec/analyzers/SPEC.md`).
//! GitLab reads `description`, `check_name`, `fingerprint`, `severity`, `location.path` and
//! `location.lines.begin`, and ignores other fields; `type: "issue"`, `categories`,
//! `location.lines.end` and `content.body` (help and legal basis, Markdown) are written for
//! other Code Climate consumers.
//!
//! - Every finding is an issue; `check_name` is the policy id. Every konform error (a problem
//!   that makes the exit code 2) and warning is an issue too, with the problem code as
//!   `check_name`, so that an input konform could not read never looks clean.
//! - `fingerprint` must be unique within the report (GitLab shows only the first issue of a
//!   fingerprint). It is the finding's fingerprint (policy id and subject key, stable when rows
//!   move); when two issues would share one, the later gets a digest of the fingerprint, the
//!   file and a counter, which is just as deterministic.
//! - Severities (`info`, `minor`, `major`, `critical`, `blocker`) follow what the merge request
//!   widget shows: a policy error ("must be fixed", usually a legal requirement) is `critical`,
//!   a warning ("should be fixed") `major`, an info `info`. `blocker` is kept for konform's own
//!   errors: the check did not cover everything, so the result cannot be relied on; konform's
//!   warnings (e.g. a misspelt column) are `minor`; notes are left out.
//! - Waived findings and findings in the baseline are listed all the same, as `info`, their
//!   description prefixed with `[waived until YYYY-MM-DD] ` or `[baseline] `, so that a merge
//!   request does not show them as new major issues; `content.body` names the waiver's reason,
//!   approver and entry. Their fingerprints are those they have when open.
//!
//! Paths are the file names as konform shows them (relative to the folder it ran in, `/`
//! separated), which is what GitLab wants when konform runs at the repository root. The output
//! is deterministic: findings in report order, then problems.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Serialize;

use super::RenderContext;
use crate::finding::{Finding, Report, Severity};
use crate::problem::{Problem, ProblemLevel};
use crate::source::{FileRole, sha256_hex};

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: &'a str,
    description: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
    categories: [&'static str; 1],
    location: Location<'a>,
    severity: &'static str,
    fingerprint: String,
}

#[derive(Serialize)]
struct Content {
    body: String,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

/// The Code Quality severity of a finding: error → `critical`, warning → `major`, info →
/// `info`.
pub fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// The Code Quality severity of a problem (`None` for notes, which are not reported).
fn problem_severity(level: ProblemLevel) -> Option<&'static str> {
    match level {
        ProblemLevel::Error => Some("blocker"),
        ProblemLevel::Warning => Some("minor"),
        ProblemLevel::Note => None,
    }
}

/// The first 32 hex digits of the SHA-256 of `parts` joined by a unit separator.
fn digest(parts: &[&str]) -> String {
    let mut d = sha256_hex(parts.join("\u{1f}").as_bytes());
    d.truncate(32);
    d
}

/// `base` if no issue has it yet, else a digest of `base`, `salt` and a counter that none has.
fn unique(base: String, salt: &str, used: &mut HashSet<String>) -> String {
    if used.insert(base.clone()) {
        return base;
    }
    let mut n: u64 = 2;
    loop {
        let candidate = digest(&[&base, salt, &n.to_string()]);
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Why a finding is set aside, as Markdown (user text escaped), if it is.
fn set_aside_note(report: &Report, f: &Finding) -> Option<String> {
    use super::markdown::escape;
    match &f.waiver {
        Some(w) => {
            let entry = super::location(&report.sources, w.file, w.span);
            Some(format!(
                "**Waived** until {}, approved by {}: {} (waiver entry: {}:{})",
                escape(&w.expires),
                escape(&w.approved_by),
                escape(&w.reason),
                escape(entry.file),
                entry.line
            ))
        }
        None if f.baselined => {
            Some("**In the baseline:** known before, not counted against the threshold".to_owned())
        }
        None => None,
    }
}

/// Help, legal basis and link of a finding as Markdown (after why it is set aside, if it is),
/// if it has any.
fn body(report: &Report, f: &Finding) -> Option<Content> {
    let mut parts = Vec::new();
    parts.extend(set_aside_note(report, f));
    if let Some(help) = &f.help {
        parts.push(help.clone());
    }
    if let Some(basis) = &f.basis {
        parts.push(format!("**Legal basis:** {basis}"));
    }
    if let Some(url) = &f.url {
        parts.push(format!("More: <{url}>"));
    }
    (!parts.is_empty()).then(|| Content {
        body: parts.join("\n\n"),
    })
}

fn finding_issue<'a>(report: &'a Report, f: &'a Finding, used: &mut HashSet<String>) -> Issue<'a> {
    let file = report.sources.get(f.file);
    let span = file.clamp(f.span);
    let (begin, _) = file.line_col(span.offset);
    let last = span.end().saturating_sub(1).max(span.offset);
    let (end, _) = file.line_col(last);
    let description = match &f.waiver {
        Some(w) => Cow::Owned(format!("[waived until {}] {}", w.expires, f.message)),
        None if f.baselined => Cow::Owned(format!("[baseline] {}", f.message)),
        None => Cow::Borrowed(f.message.as_str()),
    };
    Issue {
        kind: "issue",
        check_name: &f.policy,
        description,
        content: body(report, f),
        categories: ["Security"],
        location: Location {
            path: &file.name,
            lines: Lines {
                begin,
                end: end.max(begin),
            },
        },
        severity: if f.is_open() {
            severity(f.severity)
        } else {
            "info"
        },
        fingerprint: unique(f.fingerprint.clone(), &file.name, used),
    }
}

/// Where a problem without a file is shown: konform.yaml if one was read, else its usual name.
fn fallback_path(report: &Report) -> &str {
    report
        .sources
        .iter()
        .find(|(_, f)| f.role == FileRole::Config)
        .map_or("konform.yaml", |(_, f)| f.name.as_str())
}

fn problem_issue<'a>(
    report: &'a Report,
    p: &'a Problem,
    used: &mut HashSet<String>,
) -> Option<Issue<'a>> {
    let severity = problem_severity(p.level)?;
    let (path, begin) = match p.file {
        Some(id) => {
            let file = report.sources.get(id);
            let line = p.primary_span().map_or(1, |s| file.line_col(s.offset).0);
            (file.name.as_str(), line)
        }
        None => (fallback_path(report), 1),
    };
    let base = digest(&["konform-problem", &p.code, path, &p.message]);
    Some(Issue {
        kind: "issue",
        check_name: &p.code,
        description: Cow::Borrowed(&p.message),
        content: p.help.as_ref().map(|h| Content { body: h.clone() }),
        categories: ["Bug Risk"],
        location: Location {
            path,
            lines: Lines { begin, end: begin },
        },
        severity,
        fingerprint: unique(base, path, used),
    })
}

/// Renders the report as a GitLab Code Quality report (see the module documentation).
pub fn gitlab(report: &Report, _ctx: &RenderContext) -> String {
    let mut used = HashSet::new();
    let mut issues: Vec<Issue<'_>> = report
        .findings
        .iter()
        .map(|f| finding_issue(report, f, &mut used))
        .collect();
    issues.extend(
        report
            .problems
            .iter()
            .filter_map(|p| problem_issue(report, p, &mut used)),
    );
    match serde_json::to_string_pretty(&issues) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // An empty report would read as "no issues"; a broken one must not.
        Err(e) => {
            let text = serde_json::to_string(&format!("konform could not write the report: {e}"))
                .unwrap_or_default();
            format!(
                "[{{\"type\": \"issue\", \"check_name\": \"konform::render\", \"description\": {text}, \"categories\": [\"Bug Risk\"], \"location\": {{\"path\": \"konform.yaml\", \"lines\": {{\"begin\": 1, \"end\": 1}}}}, \"severity\": \"blocker\", \"fingerprint\": \"{}\"}}]\n",
                digest(&["konform-render-error"])
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{AppliedWaiver, fingerprint};

    use crate::source::{FileId, SourceFile, SourceMap, Span};

    fn finding(file: FileId, offset: usize, policy: &str, subject: &str, s: Severity) -> Finding {
        Finding {
            pack: "common".into(),
            label: "here".into(),
            help: Some("fix it".into()),
            basis: Some("GDPR Art. 5".into()),
            ..Finding::new(
                policy,
                s,
                subject,
                file,
                Span::new(offset, 1),
                format!("`{subject}` is wrong"),
            )
        }
    }

    fn issues(report: &Report) -> Vec<serde_json::Value> {
        let out = gitlab(report, &RenderContext::default());
        assert!(out.ends_with('\n'));
        match serde_json::from_str::<Vec<serde_json::Value>>(&out) {
            Ok(v) => v,
            Err(e) => panic!("not a JSON array ({e}): {out}"),
        }
    }

    fn sources() -> (SourceMap, FileId, FileId) {
        let mut map = SourceMap::new();
        let a = map.add(SourceFile::new("a.csv", None, "id\nx\ny\nz\n"));
        let b = map.add(SourceFile::new("sub/b.csv", None, "id\nx\n"));
        (map, a, b)
    }

    #[test]
    fn findings_become_issues_with_the_required_keys() {
        let (sources, a, _) = sources();
        let report = Report {
            sources,
            findings: vec![
                finding(a, 3, "p.e", "x", Severity::Error),
                finding(a, 5, "p.w", "y", Severity::Warning),
                finding(a, 7, "p.i", "z", Severity::Info),
            ],
            ..Report::default()
        };
        let list = issues(&report);
        assert_eq!(list.len(), 3);
        for issue in &list {
            for key in ["description", "check_name", "fingerprint", "severity"] {
                assert!(issue[key].is_string(), "{key} missing in {issue}");
            }
            assert!(issue["location"]["path"].is_string());
            assert!(issue["location"]["lines"]["begin"].is_u64());
        }
        let sev: Vec<&str> = list
            .iter()
            .map(|i| i["severity"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(sev, ["critical", "major", "info"]);
        assert_eq!(list[1]["location"]["lines"]["begin"], 3);
        assert_eq!(list[0]["check_name"], "p.e");
        assert_eq!(list[0]["fingerprint"], fingerprint("p.e", "x"));
        assert_eq!(
            list[0]["content"]["body"],
            "fix it\n\n**Legal basis:** GDPR Art. 5"
        );
    }

    #[test]
    fn fingerprints_are_unique_and_deterministic() {
        let (sources, a, b) = sources();
        let report = Report {
            sources,
            findings: vec![
                finding(a, 3, "p.e", "x", Severity::Error),
                finding(a, 5, "p.e", "x", Severity::Error),
                finding(b, 3, "p.e", "x", Severity::Error),
            ],
            ..Report::default()
        };
        let list = issues(&report);
        let prints: HashSet<&str> = list
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(prints.len(), 3);
        assert_eq!(list[0]["fingerprint"], fingerprint("p.e", "x"));
        assert_eq!(issues(&report), list);
    }

    #[test]
    fn problems_are_never_clean() {
        let (mut sources, a, _) = sources();
        sources.add(
            SourceFile::new("konform.yaml", None, "packs: [x]\n")
                .with_origin(FileRole::Config, b"packs: [x]\n"),
        );
        let report = Report {
            sources,
            problems: vec![
                Problem::error("input::bad-date", "`soon` is not a date").at(
                    a,
                    Span::new(5, 1),
                    "here",
                ),
                Problem::error("pack::unknown", "no pack `x`"),
                Problem::warning("input::misspelt-column", "`nmae` looks like `name`"),
                Problem::note("input::note", "just so you know"),
            ],
            ..Report::default()
        };
        let list = issues(&report);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0]["severity"], "blocker");
        assert_eq!(list[0]["check_name"], "konform::input::bad-date");
        assert_eq!(list[0]["location"]["path"], "a.csv");
        assert_eq!(list[0]["location"]["lines"]["begin"], 3);
        assert_eq!(list[1]["location"]["path"], "konform.yaml");
        assert_eq!(list[2]["severity"], "minor");
    }

    #[test]
    fn set_aside_findings_are_info_with_a_prefix() {
        let (mut sources, a, _) = sources();
        let w = sources.add(SourceFile::new(
            "waivers.yaml",
            None,
            "waivers:\n  - policy: p.e\n    subject: x\n",
        ));
        let mut waived = finding(a, 3, "p.e", "x", Severity::Error);
        waived.waiver = Some(Box::new(AppliedWaiver {
            reason: "spare *pool* [link](https://evil.example)".into(),
            approved_by: "DPO <office>".into(),
            expires: "2027-03-31".into(),
            file: w,
            span: Span::new(11, 11),
        }));
        let mut known = finding(a, 5, "p.w", "y", Severity::Warning);
        known.baselined = true;
        let report = Report {
            sources,
            findings: vec![waived, known, finding(a, 7, "p.e", "z", Severity::Error)],
            ..Report::default()
        };
        let list = issues(&report);
        assert_eq!(list.len(), 3);
        let sev: Vec<&str> = list
            .iter()
            .map(|i| i["severity"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(sev, ["info", "info", "critical"]);
        assert_eq!(
            list[0]["description"],
            "[waived until 2027-03-31] `x` is wrong"
        );
        assert_eq!(list[1]["description"], "[baseline] `y` is wrong");
        assert_eq!(list[2]["description"], "`z` is wrong");
        // Fingerprints as for open findings.
        assert_eq!(list[0]["fingerprint"], fingerprint("p.e", "x"));
        assert_eq!(list[1]["fingerprint"], fingerprint("p.w", "y"));
        let body = list[0]["content"]["body"].as_str().unwrap_or_default();
        assert!(
            body.starts_with(
                "**Waived** until 2027-03-31, approved by DPO &lt;office&gt;: spare \\*pool\\* \
                 \\[link\\](https\\://evil.example) (waiver entry: waivers.yaml:2)\n\nfix it"
            ),
            "{body}"
        );
        assert!(
            list[1]["content"]["body"]
                .as_str()
                .unwrap_or_default()
                .starts_with("**In the baseline:**")
        );
    }

    #[test]
    fn nothing_found_is_an_empty_array() {
        assert_eq!(
            gitlab(&Report::default(), &RenderContext::default()),
            "[]\n"
        );
    }
}

//! The machine formats for CI systems, rendered with the library for every example (also with
//! findings waived and baselined) and for some broken fixtures: SARIF validates against the
//! official SARIF 2.1.0 schema (OASIS, draft-04, offline copy in `tests/fixtures/schemas/`), the
//! GitLab Code Quality report has the keys GitLab requires and unique fingerprints, and the JUnit
//! XML parses with one failure line per open finding and one `<system-out>` line per set-aside
//! one. The Danish example is snapshotted in all three formats.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use konform::finding::{AppliedWaiver, Report};
use konform::redact::redact;
use konform::render::RenderContext;
use konform::render::{gitlab::gitlab, junit::junit, sarif::sarif};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The examples: folders under `examples/` with a konform.yaml, by name.
fn examples() -> Vec<String> {
    let dir = root().join("examples");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("konform.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no examples found");
    names
}

/// The report of a check in `cwd` of `paths` (with extra `packs`) on 2026-11-22.
fn check(cwd: &Path, paths: &[&str], packs: &[&str]) -> Report {
    let today = match "2026-11-22".parse() {
        Ok(d) => d,
        Err(e) => panic!("bad date: {e}"),
    };
    let mut options = konform::CheckOptions::new(paths.iter().map(PathBuf::from).collect(), today);
    options.packs = packs.iter().map(PathBuf::from).collect();
    options.cwd = cwd.to_path_buf();
    konform::check_outcome(&options).report
}

fn example(name: &str) -> Report {
    check(&root().join("examples").join(name), &[], &[])
}

/// Broken or unusual inputs (relative to `tests/fixtures`): problems with and without a place,
/// zip members, control characters, extra packs.
const FIXTURES: &[(&str, &[&str])] = &[
    ("bad-date", &[]),
    ("broken-policy", &["broken-policy/pack"]),
    ("evaluation-error", &["evaluation-error/pack"]),
    ("misspelt-column", &[]),
    ("terminal-escapes", &[]),
    ("zip/sds-export.zip", &[]),
    ("side-input", &[]),
    ("does-not-exist", &[]),
];

/// `report` with every third finding waived (the waiver entry stands in for the record) and
/// every third, from the second on, in a baseline: as if waivers and `--baseline` were used.
fn with_set_aside(mut report: Report) -> Report {
    for (n, f) in report.findings.iter_mut().enumerate() {
        match n % 3 {
            0 => {
                f.waiver = Some(Box::new(AppliedWaiver {
                    reason: format!("spare <account> & \"{}\"", f.subject),
                    approved_by: "data-protection officer".into(),
                    expires: "2027-03-31".into(),
                    file: f.file,
                    span: f.record_span,
                }));
            }
            1 => f.baselined = true,
            _ => {}
        }
    }
    report
}

/// Every report to check: the examples (also with findings set aside) and the fixtures, each
/// also redacted.
fn reports() -> Vec<(String, Report)> {
    let mut out = Vec::new();
    for name in examples() {
        out.push((format!("example {name}"), example(&name)));
        out.push((
            format!("example {name} with waivers and a baseline"),
            with_set_aside(example(&name)),
        ));
    }
    let fixtures = root().join("tests/fixtures");
    for (path, packs) in FIXTURES {
        out.push((format!("fixture {path}"), check(&fixtures, &[path], packs)));
    }
    let redacted: Vec<(String, Report)> = out
        .iter()
        .map(|(label, r)| (format!("{label} (redacted)"), redact(r)))
        .collect();
    out.extend(redacted);
    out
}

/// What the CLI passes: a command line and a time.
fn cli_context() -> RenderContext {
    RenderContext {
        command: Some("konform check --format sarif --today 2026-11-22".into()),
        run_at: Some("2026-11-22T10:15:00+01:00".into()),
        ..RenderContext::default()
    }
}

fn json(label: &str, text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("{label}: not JSON ({e}):\n{text}"),
    }
}

/// The official SARIF 2.1.0 schema (draft-04), formats checked, no network.
fn sarif_validator() -> jsonschema::Validator {
    let path = root().join("tests/fixtures/schemas/sarif-schema-2.1.0.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    let schema = json("schema", &text);
    match jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
    {
        Ok(v) => v,
        Err(e) => panic!("the SARIF schema does not compile: {e}"),
    }
}

fn array<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    match v.as_array() {
        Some(a) => a,
        None => panic!("{what} is not an array: {v}"),
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let validator = sarif_validator();
    for (label, report) in reports() {
        for ctx in [RenderContext::default(), cli_context()] {
            let out = sarif(&report, &ctx);
            let doc = json(&label, &out);
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("  at {}: {e}", e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{label}: {} SARIF schema error(s):\n{}",
                errors.len(),
                errors.join("\n")
            );

            // Beyond the schema: what code-scanning UIs rely on.
            let run = &doc["runs"][0];
            let rules = array(&run["tool"]["driver"]["rules"], "rules");
            let results = array(&run["results"], "results");
            assert_eq!(results.len(), report.findings.len(), "{label}");
            assert!(rules.len() >= report.rules.len(), "{label}");
            for r in results {
                let index = r["ruleIndex"]
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok());
                let rule = index.and_then(|i| rules.get(i));
                assert_eq!(
                    rule.map(|rule| &rule["id"]),
                    Some(&r["ruleId"]),
                    "{label}: ruleIndex does not point at the rule"
                );
                assert!(
                    r["partialFingerprints"]["konform/v1"].is_string(),
                    "{label}: {r}"
                );
                let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    !uri.is_empty() && !uri.starts_with("file:") && !uri.contains('\\'),
                    "{label}: {uri}"
                );
                assert!(
                    r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64()
                        >= Some(1),
                    "{label}: {r}"
                );
            }
            let ids: HashSet<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
            assert_eq!(ids.len(), rules.len(), "{label}: duplicate rule ids");
            let inv = &run["invocations"][0];
            assert_eq!(inv["executionSuccessful"], !report.has_errors(), "{label}");
            let notes = inv["toolExecutionNotifications"]
                .as_array()
                .map_or(0, Vec::len);
            assert_eq!(notes, report.problems.len(), "{label}");
            assert_eq!(run["properties"]["redacted"], report.redacted, "{label}");
            // Set-aside findings: suppressed when waived, baseline states all or nothing.
            let (waived, baselined) = report.set_aside();
            assert_eq!(run["properties"]["waived"], waived, "{label}");
            assert_eq!(run["properties"]["baselined"], baselined, "{label}");
            for (r, f) in results.iter().zip(&report.findings) {
                let suppressions = r["suppressions"].as_array().map_or(0, Vec::len);
                assert_eq!(
                    suppressions,
                    usize::from(f.waiver.is_some()),
                    "{label}: {r}"
                );
                assert_eq!(
                    r.get("baselineState").is_some(),
                    report.findings.iter().any(|f| f.baselined),
                    "{label}: {r}"
                );
            }
        }
    }
}

#[test]
fn gitlab_reports_have_the_required_keys_and_unique_fingerprints() {
    const SEVERITIES: [&str; 5] = ["info", "minor", "major", "critical", "blocker"];
    for (label, report) in reports() {
        let out = gitlab(&report, &RenderContext::default());
        let doc = json(&label, &out);
        let issues = array(&doc, "the report");
        let mut prints = HashSet::new();
        for issue in issues {
            for key in ["description", "check_name", "fingerprint", "severity"] {
                assert!(
                    issue[key].as_str().is_some_and(|s| !s.is_empty()),
                    "{label}: `{key}` missing or empty in {issue}"
                );
            }
            let severity = issue["severity"].as_str().unwrap_or_default();
            assert!(SEVERITIES.contains(&severity), "{label}: {issue}");
            let path = issue["location"]["path"].as_str().unwrap_or_default();
            assert!(
                !path.is_empty() && !path.starts_with("./") && !path.starts_with('/'),
                "{label}: path `{path}`"
            );
            assert!(
                issue["location"]["lines"]["begin"].as_u64() >= Some(1),
                "{label}: {issue}"
            );
            let print = issue["fingerprint"].as_str().unwrap_or_default();
            assert!(
                prints.insert(print.to_owned()),
                "{label}: fingerprint {print} twice"
            );
        }
        let findings = issues
            .iter()
            .filter(|i| {
                !i["check_name"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("konform::")
            })
            .count();
        assert_eq!(findings, report.findings.len(), "{label}");
        if report.has_errors() {
            assert!(
                issues.iter().any(|i| i["severity"] == "blocker"),
                "{label}: konform's errors are not in the report"
            );
        }
    }
}

/// The number `N` of a JUnit failure message `N finding(s)`.
fn finding_count(message: &str) -> usize {
    message
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("failure message `{message}` does not count findings"))
}

#[test]
fn junit_parses_and_fails_once_per_finding() {
    for (label, report) in reports() {
        let xml = junit(&report, &RenderContext::default());
        let doc = match roxmltree::Document::parse(&xml) {
            Ok(d) => d,
            Err(e) => panic!("{label}: not well-formed XML ({e}):\n{xml}"),
        };
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites", "{label}");
        let count = |name: &str| doc.descendants().filter(|n| n.has_tag_name(name)).count();
        let attr = |name: &str| root.attribute(name).and_then(|v| v.parse::<usize>().ok());
        assert_eq!(attr("tests"), Some(count("testcase")), "{label}");
        assert_eq!(attr("failures"), Some(count("failure")), "{label}");
        assert_eq!(attr("errors"), Some(count("error")), "{label}");
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        // Failures count and list the open findings; the set-aside ones are in `<system-out>`.
        let open = report.findings.iter().filter(|f| f.is_open()).count();
        let counted: usize = failures
            .iter()
            .map(|f| finding_count(f.attribute("message").unwrap_or_default()))
            .sum();
        assert_eq!(counted, open, "{label}");
        let lines: usize = failures
            .iter()
            .map(|f| {
                let severity = f.attribute("type").unwrap_or_default();
                assert!(
                    ["error", "warning", "info"].contains(&severity),
                    "{label}: failure type `{severity}`"
                );
                f.text()
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| {
                        [": error: ", ": warning: ", ": info: "]
                            .iter()
                            .any(|s| l.contains(s))
                    })
                    .count()
            })
            .sum();
        assert_eq!(lines, open, "{label}");
        let set_aside: usize = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("system-out")
                    && n.parent().is_some_and(|p| p.has_tag_name("testcase"))
            })
            .map(|n| {
                n.text()
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.contains(" — waived until ") || l.ends_with(" — in the baseline"))
                    .count()
            })
            .sum();
        assert_eq!(set_aside, report.findings.len() - open, "{label}");
        let tool_errors = report.problems.iter().filter(|p| p.is_error()).count();
        assert_eq!(count("error"), tool_errors, "{label}");
        let redacted = doc
            .descendants()
            .find(|n| n.attribute("name") == Some("konform.redacted"))
            .and_then(|n| n.attribute("value"));
        if count("testsuite") > 0 {
            assert_eq!(
                redacted,
                Some(if report.redacted { "true" } else { "false" }),
                "{label}"
            );
        }
    }
}

/// Snapshots of the Danish example as CI gets it (redacted). File digests are filtered: those of
/// the embedded pack files change with every edit of a pack.
#[test]
fn aula_skole_snapshots() {
    let report = redact(&example("aula-skole"));
    let ctx = RenderContext::default();
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![(r#""sha-256": "[0-9a-f]{64}""#, r#""sha-256": "[sha256]""#)],
    }, {
        insta::assert_snapshot!("sarif_aula_skole", sarif(&report, &ctx));
        insta::assert_snapshot!("gitlab_aula_skole", gitlab(&report, &ctx));
        insta::assert_snapshot!("junit_aula_skole", junit(&report, &ctx));
    });
}

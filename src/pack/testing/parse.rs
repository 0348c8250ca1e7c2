//! Reading a test file into typed cases, reporting every problem at once with its span.

use std::path::{Component, Path};

use crate::config::CONFIG_NAMES;
use crate::problem::Problem;
use crate::source::fields::Fields;
use crate::source::yaml::{self, Node, YamlLimits};
use crate::source::{FileId, SourceMap, Span};

/// What a case expects of its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// At least one finding (exactly the listed subjects, when listed).
    Violation,
    /// No finding of the policy.
    Pass,
}

impl Expect {
    /// Parses `violation` or `pass`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "violation" => Some(Self::Violation),
            "pass" => Some(Self::Pass),
            _ => None,
        }
    }
}

/// One test case of a test file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestCase {
    /// What the case shows.
    pub name: String,
    /// Where its name stands.
    pub span: Span,
    /// Violation or pass.
    pub expect: Expect,
    /// The subjects that must violate the policy, exactly; any when `None`.
    pub subjects: Option<Vec<String>>,
    /// The school's country (`school: { country }`).
    pub country: Option<String>,
    /// More konform.yaml text (parameters, inputs).
    pub config: Option<String>,
    /// Input files: relative name and text.
    pub files: Vec<(String, String)>,
}

/// A parsed test file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestFile {
    /// The file in the [`SourceMap`].
    pub file: FileId,
    /// The full id of the policy under test.
    pub policy: String,
    /// Where the id stands.
    pub policy_span: Span,
    /// The cases.
    pub cases: Vec<TestCase>,
}

/// Parses the test file `file`. Returns the file when it has no error, and every problem.
pub fn parse_file(file: FileId, sources: &SourceMap) -> (Option<TestFile>, Vec<Problem>) {
    let text = sources.get(file).shared_text();
    let mut problems = Vec::new();
    let root = match yaml::parse(&text, YamlLimits::default()) {
        Ok(root) => root,
        Err(e) => {
            let p = Problem::error("test::syntax", format!("invalid YAML: {}", e.message))
                .with_help("a test file is YAML: `policy:` and a list of `cases:`");
            problems.push(match e.span {
                Some(span) => p.at(file, span, "here"),
                None => p.in_file(file),
            });
            return (None, problems);
        }
    };
    let mut f = Fields::new(file, &root, "the test file", "test", &mut problems);
    f.deny_unknown(&["policy", "cases"]);
    let policy = f.string("policy");
    if f.node("policy").is_none() {
        f.missing(
            "policy",
            "name the policy under test, e.g. `policy: common.generic-account`",
        );
    }
    let mut cases: Vec<TestCase> = Vec::new();
    match f.seq("cases") {
        None if f.node("cases").is_none() => f.missing(
            "cases",
            "list the cases: each with `name`, `expect` and `files`",
        ),
        None => {}
        Some([]) => {
            if let Some(node) = f.node("cases") {
                f.push(
                    Problem::error("test::no-cases", "the test file has no cases")
                        .at(file, node.span, "empty list")
                        .with_help("add a violating and a passing case"),
                );
            }
        }
        Some(items) => {
            for item in items {
                let Some(case) = parse_case(file, item, f.problems_ref()) else {
                    continue;
                };
                if let Some(first) = cases.iter().find(|c| c.name == case.name) {
                    f.push(
                        Problem::error(
                            "test::duplicate-case",
                            format!("two cases are named `{}`", case.name),
                        )
                        .at(file, case.span, "second case with this name")
                        .with_label(first.span, "first case with this name")
                        .with_help("give every case a name of its own"),
                    );
                    continue;
                }
                cases.push(case);
            }
        }
    }
    let usable = !problems.iter().any(Problem::is_error);
    let test = policy
        .filter(|_| usable)
        .map(|(policy, policy_span)| TestFile {
            file,
            policy,
            policy_span,
            cases,
        });
    (test, problems)
}

fn parse_case(file: FileId, node: &Node, problems: &mut Vec<Problem>) -> Option<TestCase> {
    let before = problems.iter().filter(|p| p.is_error()).count();
    let mut f = Fields::new(file, node, "a test case", "test", problems);
    f.deny_unknown(&["name", "expect", "subjects", "school", "config", "files"]);
    let name = f.string("name");
    if f.node("name").is_none() {
        f.missing(
            "name",
            "say what the case shows, e.g. `name: device accounts`",
        );
    }
    let expect = f.parsed(
        "expect",
        "unknown expectation",
        "write `expect: violation` or `expect: pass`",
        Expect::from_name,
    );
    if f.node("expect").is_none() {
        f.missing("expect", "write `expect: violation` or `expect: pass`");
    }
    let subjects = f.strings("subjects");
    if let (Some(Expect::Pass), Some(node)) = (expect, f.node("subjects")) {
        f.push(
            Problem::error(
                "test::subjects-on-pass",
                "`subjects` only applies to `expect: violation`",
            )
            .at(file, node.span, "subjects of a passing case")
            .with_help("remove `subjects`, or expect a violation"),
        );
    }
    let mut country = None;
    if let Some(school) = f.node("school") {
        let mut s = Fields::new(file, school, "`school`", "test", f.problems_ref());
        s.deny_unknown(&["country"]);
        country = s.string("country").map(|(c, _)| c);
    }
    let config = f.string("config").map(|(c, _)| c);
    let mut files = Vec::new();
    match f.map("files") {
        None if f.node("files").is_none() => f.missing(
            "files",
            "give the input files, e.g. `files: { accounts.csv: \"username\\nlehrer1\\n\" }`",
        ),
        None => {}
        Some(entries) => {
            if entries.is_empty()
                && let Some(node) = f.node("files")
            {
                f.push(
                    Problem::error("test::no-files", "the case has no input files")
                        .at(file, node.span, "no files")
                        .with_help("add at least one input file, e.g. accounts.csv"),
                );
            }
            for (k, v) in entries {
                if let Some(entry) = parse_input_file(file, k, v, f.problems_ref()) {
                    files.push(entry);
                }
            }
        }
    }
    let (name, span) = name?;
    let expect = expect?;
    let errors = f.problems_ref().iter().filter(|p| p.is_error()).count();
    (errors == before).then(|| TestCase {
        name,
        span,
        expect,
        subjects: subjects.map(|s| s.into_iter().map(|(s, _)| s).collect()),
        country,
        config,
        files,
    })
}

fn parse_input_file(
    file: FileId,
    key: &Node,
    value: &Node,
    problems: &mut Vec<Problem>,
) -> Option<(String, String)> {
    let name = key.scalar_text().unwrap_or_default();
    let plain = !name.is_empty()
        && Path::new(&name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        problems.push(
            Problem::error(
                "test::bad-file-name",
                format!("`{name}` is not a relative file name"),
            )
            .at(file, key.span, "not a plain relative name")
            .with_help(
                "name input files relative to the case's folder, e.g. `exports/accounts.csv`",
            ),
        );
        return None;
    }
    if CONFIG_NAMES.contains(&name.as_str()) {
        problems.push(
            Problem::error(
                "test::config-as-file",
                format!("`{name}` is written by the test runner"),
            )
            .at(file, key.span, "not an input file")
            .with_help("put konform.yaml settings under the case's `config:`"),
        );
        return None;
    }
    match value.as_str() {
        Some(text) => Some((name, text.to_owned())),
        None => {
            problems.push(
                Problem::error(
                    "test::wrong-type",
                    format!("the contents of `{name}` must be a string"),
                )
                .at(file, value.span, format!("found {}", value.type_name()))
                .with_help(
                    "write the file's text as a block: `accounts.csv: |` and the lines below",
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::testing::test_support::{GOOD, parsed};

    #[test]
    fn a_valid_file_parses_into_cases() {
        let (test, problems, _) = parsed(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        let Some(test) = test else {
            panic!("not parsed");
        };
        assert_eq!(test.policy, "common.generic-account");
        assert_eq!(test.cases.len(), 2);
        assert_eq!(test.cases[0].subjects, Some(vec!["lehrer1".to_owned()]));
        assert_eq!(test.cases[0].country.as_deref(), Some("DE"));
        assert_eq!(test.cases[1].expect, Expect::Pass);
        assert_eq!(test.cases[1].files[0].0, "exports/accounts.csv");
    }

    #[test]
    fn every_problem_of_a_malformed_file_is_reported_with_its_line() {
        let text = "policy: x.y\ncases:\n  - name: a\n    expected: violation\n    files: {}\n  - name: b\n    expect: passes\n    files:\n      ../evil.csv: x\n      konform.yaml: x\n      a.csv: [1]\n  - expect: pass\n    subjects: [s]\n    files: { a.csv: x }\n";
        let (test, problems, sources) = parsed(text);
        assert!(test.is_none());
        let lines: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| {
                let span = p.primary_span().unwrap_or_default();
                (
                    sources.get(FileId(0)).line_col(span.offset).0,
                    p.code.as_str(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![
                (4, "konform::test::unknown-key"),
                (3, "konform::test::missing-key"),
                (5, "konform::test::no-files"),
                (7, "konform::test::bad-value"),
                (9, "konform::test::bad-file-name"),
                (10, "konform::test::config-as-file"),
                (11, "konform::test::wrong-type"),
                (12, "konform::test::missing-key"),
                (13, "konform::test::subjects-on-pass"),
            ]
        );
        assert!(problems.iter().all(|p| p.help.is_some()));
    }

    #[test]
    fn syntax_errors_and_missing_keys_are_problems_not_panics() {
        for text in [
            "policy: [",
            "",
            "- 1\n- 2\n",
            "policy: a.b\ncases: []\n",
            "cases: 3\n",
        ] {
            let (test, problems, _) = parsed(text);
            assert!(test.is_none(), "{text}");
            assert!(problems.iter().any(Problem::is_error), "{text}");
        }
    }

    #[test]
    fn duplicate_case_names_are_reported() {
        let text = "policy: a.b\ncases:\n  - { name: x, expect: pass, files: { a.csv: y } }\n  - { name: x, expect: pass, files: { a.csv: y } }\n";
        let (test, problems, _) = parsed(text);
        assert!(test.is_none());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].labels.len(), 2);
    }
}

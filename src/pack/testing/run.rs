//! Running cases: each in a scratch folder, checked like any input, judged by its expectation.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use rayon::prelude::*;

use super::PackSource;
use super::collect::Suite;
use super::coverage::{Uncovered, uncovered};
use super::parse::{Expect, TestCase, TestFile};
use crate::problem::Problem;
use crate::source::{FileId, SourceMap, Span};
use crate::{CheckOptions, check_outcome};

/// How cases are run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// The evaluation date of every case.
    pub today: NaiveDate,
}

impl RunOptions {
    /// Runs cases on `today`.
    pub fn new(today: NaiveDate) -> Self {
        Self { today }
    }
}

impl Default for RunOptions {
    /// Cases run on 2026-11-22, so that ages and dates in them never drift.
    fn default() -> Self {
        Self::new(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default())
    }
}

/// Why a case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A violation was expected and none was found.
    NoViolation,
    /// The violating subjects differ from the listed ones.
    Subjects {
        /// Listed but not violating.
        missing: Vec<String>,
        /// Violating but not listed.
        unexpected: Vec<String>,
    },
    /// No violation was expected; these subjects violate the policy.
    Violated(Vec<String>),
    /// The check reported errors, one line each (`file:line: message`).
    Problems(Vec<String>),
    /// The case's files could not be written.
    Setup(String),
}

fn ticked(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoViolation => f.write_str("expected a violation, found none"),
            Self::Subjects {
                missing,
                unexpected,
            } => {
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!("missing violation by {}", ticked(missing)));
                }
                if !unexpected.is_empty() {
                    parts.push(format!("unexpected violation by {}", ticked(unexpected)));
                }
                f.write_str(&parts.join("; "))
            }
            Self::Violated(subjects) => {
                write!(
                    f,
                    "expected no violation, found one by {}",
                    ticked(subjects)
                )
            }
            Self::Problems(lines) => write!(f, "the check failed: {}", lines.join("; ")),
            Self::Setup(e) => write!(f, "cannot write the case's files: {e}"),
        }
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaseResult {
    /// The pack id.
    pub pack: String,
    /// The policy id.
    pub policy: String,
    /// The case's name.
    pub name: String,
    /// The test file.
    pub file: FileId,
    /// Where the case's name stands.
    pub span: Span,
    /// Why it failed; `None` when it passed.
    pub failure: Option<Failure>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs one case of `policy` against the pack from `source`.
pub fn run_case(
    source: &PackSource,
    policy: &str,
    case: &TestCase,
    options: &RunOptions,
) -> Result<(), Failure> {
    let setup = |e: std::io::Error| Failure::Setup(e.to_string());
    let dir = tempfile::tempdir().map_err(setup)?;
    std::fs::write(dir.path().join("konform.yaml"), case_config(source, case)).map_err(setup)?;
    for (name, text) in &case.files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(setup)?;
        }
        std::fs::write(&path, text).map_err(setup)?;
    }
    let mut check = CheckOptions::new(vec![dir.path().to_path_buf()], options.today);
    check.cwd = dir.path().to_path_buf();
    let report = check_outcome(&check).report;
    let errors: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| describe(p, &report.sources))
        .collect();
    if !errors.is_empty() {
        return Err(Failure::Problems(errors));
    }
    let found: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.policy == policy)
        .map(|f| f.subject.clone())
        .collect();
    judge(case, &found)
}

/// Compares the subjects that violated the policy with what the case expects.
fn judge(case: &TestCase, found: &BTreeSet<String>) -> Result<(), Failure> {
    match (case.expect, &case.subjects) {
        (Expect::Pass, _) if found.is_empty() => Ok(()),
        (Expect::Pass, _) => Err(Failure::Violated(found.iter().cloned().collect())),
        (Expect::Violation, _) if found.is_empty() => Err(Failure::NoViolation),
        (Expect::Violation, None) => Ok(()),
        (Expect::Violation, Some(listed)) => {
            let listed: BTreeSet<String> = listed.iter().cloned().collect();
            let missing: Vec<String> = listed.difference(found).cloned().collect();
            let unexpected: Vec<String> = found.difference(&listed).cloned().collect();
            if missing.is_empty() && unexpected.is_empty() {
                Ok(())
            } else {
                Err(Failure::Subjects {
                    missing,
                    unexpected,
                })
            }
        }
    }
}

/// The konform.yaml of a case: only the pack under test, the country, the case's own text.
fn case_config(source: &PackSource, case: &TestCase) -> String {
    let pack = match source {
        PackSource::Embedded(id) => quote(id),
        PackSource::Folder(dir) => quote(&dir.to_string_lossy()),
    };
    let mut text = format!("packs: [{pack}]\n");
    if let Some(country) = &case.country {
        text.push_str(&format!("school: {{ country: {} }}\n", quote(country)));
    }
    if let Some(extra) = &case.config {
        text.push_str(extra);
        if !extra.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// A YAML double-quoted string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A problem on one line: `file:line: message`.
fn describe(p: &Problem, sources: &SourceMap) -> String {
    let Some(file) = p.file.map(|f| sources.get(f)) else {
        return p.message.clone();
    };
    match p.primary_span() {
        Some(span) => format!(
            "{}:{}: {}",
            file.name,
            file.line_col(span.offset).0,
            p.message
        ),
        None => format!("{}: {}", file.name, p.message),
    }
}

/// The results of [`run`]: every case, and the policies lacking a kind of case.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Every case, in file order.
    pub cases: Vec<CaseResult>,
    /// Policies under test without both a violating and a passing case; each is a failure.
    pub uncovered: Vec<Uncovered>,
}

impl Summary {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    /// Cases that failed, plus policies lacking a kind of case.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed() + self.uncovered.len()
    }
}

/// Runs every case of every suite (in parallel; results in file order) and checks coverage.
pub fn run(suites: &[Suite], options: &RunOptions) -> Summary {
    let jobs: Vec<(&Suite, &TestFile, &TestCase)> = suites
        .iter()
        .flat_map(|s| {
            s.files
                .iter()
                .flat_map(move |t| t.cases.iter().map(move |c| (s, t, c)))
        })
        .collect();
    let cases = jobs
        .par_iter()
        .map(|(suite, test, case)| CaseResult {
            pack: suite.pack.clone(),
            policy: test.policy.clone(),
            name: case.name.clone(),
            file: test.file,
            span: case.span,
            failure: run_case(&suite.source, &test.policy, case, options).err(),
        })
        .collect();
    let mut uncovered_all = Vec::new();
    for suite in suites {
        let named: BTreeSet<&str> = suite.files.iter().map(|t| t.policy.as_str()).collect();
        uncovered_all.extend(
            uncovered(&suite.set, &suite.files)
                .into_iter()
                .filter(|u| suite.whole || named.contains(u.policy.as_str())),
        );
    }
    Summary {
        cases,
        uncovered: uncovered_all,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::pack::testing::test_support::{GOOD, case, parsed};

    fn set_of(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|&s| s.to_owned()).collect()
    }

    #[test]
    fn judging_compares_subjects_exactly_when_listed() {
        let found = set_of(&["a", "b"]);
        assert_eq!(judge(&case(Expect::Violation, None), &found), Ok(()));
        assert_eq!(
            judge(&case(Expect::Violation, Some(&["b", "a"])), &found),
            Ok(())
        );
        assert_eq!(
            judge(&case(Expect::Violation, Some(&["a", "c"])), &found),
            Err(Failure::Subjects {
                missing: vec!["c".into()],
                unexpected: vec!["b".into()]
            })
        );
        assert_eq!(
            judge(&case(Expect::Violation, None), &BTreeSet::new()),
            Err(Failure::NoViolation)
        );
        assert_eq!(judge(&case(Expect::Pass, None), &BTreeSet::new()), Ok(()));
        assert_eq!(
            judge(&case(Expect::Pass, None), &found),
            Err(Failure::Violated(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn failures_read_as_sentences() {
        let f = Failure::Subjects {
            missing: vec!["c".into()],
            unexpected: vec!["b".into(), "d".into()],
        };
        assert_eq!(
            f.to_string(),
            "missing violation by `c`; unexpected violation by `b`, `d`"
        );
        assert_eq!(
            Failure::Violated(vec!["t1".into()]).to_string(),
            "expected no violation, found one by `t1`"
        );
    }

    #[test]
    fn the_case_config_loads_only_the_pack_under_test() {
        let mut c = case(Expect::Pass, None);
        c.country = Some("DK".into());
        c.config = Some("fail_on: info".into());
        let folder = PackSource::Folder(PathBuf::from("/tmp/my \"pack\""));
        assert_eq!(
            case_config(&folder, &c),
            "packs: [\"/tmp/my \\\"pack\\\"\"]\nschool: { country: \"DK\" }\nfail_on: info\n"
        );
        assert_eq!(
            case_config(
                &PackSource::Embedded("common".into()),
                &case(Expect::Pass, None)
            ),
            "packs: [\"common\"]\n"
        );
    }

    #[test]
    fn embedded_cases_run_and_report_wrong_expectations() {
        let (test, problems, _) = parsed(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        let Some(test) = test else {
            panic!("not parsed");
        };
        let source = PackSource::Embedded("common".into());
        let options = RunOptions::default();
        for c in &test.cases {
            assert_eq!(
                run_case(&source, &test.policy, c, &options),
                Ok(()),
                "{}",
                c.name
            );
        }
        let mut wrong = test.cases[0].clone();
        wrong.expect = Expect::Pass;
        wrong.subjects = None;
        assert_eq!(
            run_case(&source, &test.policy, &wrong, &options),
            Err(Failure::Violated(vec!["lehrer1".into()]))
        );
        let mut broken = test.cases[1].clone();
        broken.config = Some("schol: {}\n".into());
        match run_case(&source, &test.policy, &broken, &options) {
            Err(Failure::Problems(lines)) => {
                assert!(
                    lines[0].starts_with("konform.yaml:2: unknown key `schol`"),
                    "{lines:?}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

//! Policy test cases: the `tests/*.yaml` files of a pack, run as real checks.
//!
//! A test file names one policy (or limit) and lists cases: small input files and whether the
//! policy must be violated (optionally by exactly the listed subjects) or not.
//!
//! ```yaml
//! policy: common.generic-account
//! cases:
//!   - name: function accounts are generic
//!     expect: violation
//!     subjects: [lehrer1]
//!     school: { country: DE }        # optional
//!     config: |                      # optional, appended to the case's konform.yaml
//!       parameters: { common: { generic_name_pattern: '^x$' } }
//!     files:
//!       accounts.csv: |
//!         username
//!         lehrer1
//! ```
//!
//! Each case is written to a scratch folder with a konform.yaml that loads only the pack under
//! test, and checked with [`crate::check_outcome`] on a fixed date. Test files are parsed and
//! validated like every other konform input: all problems at once, each with a span.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::CONFIG_NAMES;
use crate::pack::{self, PackRef, PackRequest, PackSet};
use crate::problem::Problem;
use crate::source::fields::Fields;
use crate::source::yaml::{self, Node, YamlLimits};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::{CheckOptions, check_outcome};

/// Where a pack under test comes from; each case loads it the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    /// An embedded pack, by id.
    Embedded(String),
    /// A pack folder, as an absolute path.
    Folder(PathBuf),
}

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
    let text = Arc::clone(&sources.get(file).text);
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

/// A policy or limit that lacks a violating or a passing case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Uncovered {
    /// The policy id.
    pub policy: String,
    /// It has no violating case.
    pub lacks_violation: bool,
    /// It has no passing case.
    pub lacks_pass: bool,
}

impl fmt::Display for Uncovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.lacks_violation, self.lacks_pass) {
            (true, true) => "no test case",
            (true, false) => "no violating case",
            _ => "no passing case",
        };
        write!(f, "{} ({what})", self.policy)
    }
}

/// The policies and limits of `set` lacking a violating or a passing case in `files`, by id.
pub fn uncovered(set: &PackSet, files: &[TestFile]) -> Vec<Uncovered> {
    let mut kinds: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for t in files {
        let entry = kinds.entry(t.policy.as_str()).or_default();
        for case in &t.cases {
            match case.expect {
                Expect::Violation => entry.0 = true,
                Expect::Pass => entry.1 = true,
            }
        }
    }
    let ids: BTreeSet<&str> = set.meta.keys().map(String::as_str).collect();
    ids.into_iter()
        .filter_map(|id| {
            let (violation, pass) = kinds.get(id).copied().unwrap_or_default();
            (!violation || !pass).then(|| Uncovered {
                policy: id.to_owned(),
                lacks_violation: !violation,
                lacks_pass: !pass,
            })
        })
        .collect()
}

/// The test files of one pack, with the pack loaded.
#[derive(Debug)]
#[non_exhaustive]
pub struct Suite {
    /// Where the pack comes from.
    pub source: PackSource,
    /// The loaded pack.
    pub set: PackSet,
    /// The pack id.
    pub pack: String,
    /// The valid test files (malformed ones are reported as problems).
    pub files: Vec<TestFile>,
    /// Whether the whole pack is under test (its folder, or the embedded packs); otherwise
    /// coverage is only checked for the policies the given files name.
    pub whole: bool,
}

/// Test files gathered for one pack before it is loaded.
struct Pending {
    source: Option<PackSource>,
    files: Vec<FileId>,
    whole: bool,
}

/// Gathers the suites to run: with no `paths`, every embedded pack's; else each path is a pack
/// folder (`pack.yaml` + `tests/*.yaml`) or a single test file. Paths are resolved against
/// `cwd`. Unreadable or malformed test files and packs are problems; their cases are left out.
pub fn collect(
    paths: &[PathBuf],
    cwd: &Path,
    sources: &mut SourceMap,
) -> (Vec<Suite>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    if paths.is_empty() {
        for id in pack::embedded_pack_ids() {
            let prefix = format!("policies/{id}/tests/");
            let files = pack::embedded_files()
                .iter()
                .filter(|(path, _)| {
                    path.strip_prefix(&prefix).is_some_and(|rest| {
                        !rest.contains('/') && (rest.ends_with(".yaml") || rest.ends_with(".yml"))
                    })
                })
                .map(|(path, text)| sources.add(SourceFile::new(*path, None, *text)))
                .collect();
            pending.push(Pending {
                source: Some(PackSource::Embedded(id)),
                files,
                whole: true,
            });
        }
    }
    for path in paths {
        let abs = cwd.join(path);
        match gather_path(&abs, sources) {
            Ok(p) => pending.push(p),
            Err(p) => problems.push(p),
        }
    }
    let mut parsed: Vec<(Pending, Vec<TestFile>)> = Vec::new();
    for p in pending {
        let mut files = Vec::new();
        for &file in &p.files {
            let (test, found) = parse_file(file, sources);
            problems.extend(found);
            files.extend(test);
        }
        parsed.push((p, files));
    }
    let groups = group_by_pack(parsed, sources, &mut problems);
    let mut suites: Vec<Suite> = Vec::new();
    for (source, files, whole) in groups {
        let (set, found) = load(&source, sources);
        problems.extend(found);
        let Some(set) = set else {
            continue;
        };
        let pack = set
            .packs
            .first()
            .map(|p| p.manifest.id.clone())
            .unwrap_or_default();
        let mut valid = Vec::new();
        for t in files {
            if set.meta.contains_key(&t.policy) {
                valid.push(t);
            } else {
                problems.push(unknown_policy(&t, &set, &pack));
            }
        }
        suites.push(Suite {
            source,
            set,
            pack,
            files: valid,
            whole,
        });
    }
    (suites, problems)
}

/// Groups parsed test files by the pack they test. A single test file outside a pack folder
/// tests the embedded pack its policy names; a file named twice is run once.
fn group_by_pack(
    parsed: Vec<(Pending, Vec<TestFile>)>,
    sources: &SourceMap,
    problems: &mut Vec<Problem>,
) -> Vec<(PackSource, Vec<TestFile>, bool)> {
    let mut groups: Vec<(PackSource, Vec<TestFile>, bool)> = Vec::new();
    for (p, files) in parsed {
        let source = match p.source {
            Some(s) => s,
            None => match files.first().and_then(|t| embedded_pack_of(&t.policy)) {
                Some(id) => PackSource::Embedded(id),
                None => {
                    for t in &files {
                        problems.push(
                            Problem::error(
                                "test::no-pack",
                                format!("cannot tell which pack tests `{}`", t.policy),
                            )
                            .at(t.file, t.policy_span, "no embedded pack has this policy")
                            .with_help("put the test file in the `tests` folder of its pack, next to pack.yaml"),
                        );
                    }
                    continue;
                }
            },
        };
        let name = |t: &TestFile| sources.get(t.file).name.clone();
        match groups.iter_mut().find(|(s, _, _)| *s == source) {
            Some((_, known, whole)) => {
                for t in files {
                    if !known.iter().any(|k| name(k) == name(&t)) {
                        known.push(t);
                    }
                }
                *whole |= p.whole;
            }
            None => groups.push((source, files, p.whole)),
        }
    }
    groups
}

/// A pack folder (its `tests/*.yaml`) or one test file.
fn gather_path(path: &Path, sources: &mut SourceMap) -> Result<Pending, Problem> {
    let shown = sources.display(path);
    let unreadable = |what: String, e: std::io::Error| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!("`{what}` does not exist")
        } else {
            format!("cannot read `{what}`: {e}")
        };
        Problem::error("test::unreadable", message)
            .with_help("give a pack folder (pack.yaml and tests/) or a test file")
    };
    if path.is_dir() {
        if !path.join("pack.yaml").is_file() {
            return Err(Problem::error(
                "test::not-a-pack",
                format!("`{shown}` is not a pack folder: it has no pack.yaml"),
            )
            .with_help("give a pack folder (pack.yaml and tests/) or a test file"));
        }
        let tests = path.join("tests");
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&tests) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect(),
            // A pack without tests is reported by coverage, as every policy lacks cases.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(unreadable(sources.display(&tests), e)),
        };
        names.sort();
        let mut files = Vec::new();
        for name in names {
            let text = std::fs::read_to_string(&name)
                .map_err(|e| unreadable(sources.display(&name), e))?;
            files.push(sources.add(SourceFile::new(sources.display(&name), Some(name), text)));
        }
        return Ok(Pending {
            source: Some(PackSource::Folder(path.to_path_buf())),
            files,
            whole: true,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(shown.clone(), e))?;
    let file = sources.add(SourceFile::new(shown, Some(path.to_path_buf()), text));
    // `<pack>/tests/<file>.yaml` tests the pack in `<pack>`.
    let pack_dir = path
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "tests"))
        .and_then(Path::parent)
        .filter(|p| p.join("pack.yaml").is_file());
    Ok(Pending {
        source: pack_dir.map(|d| PackSource::Folder(d.to_path_buf())),
        files: vec![file],
        whole: false,
    })
}

fn embedded_pack_of(policy: &str) -> Option<String> {
    let (pack, _) = policy.split_once('.')?;
    pack::embedded_pack_ids().into_iter().find(|id| id == pack)
}

/// Loads the pack of `source` alone, as a case does.
pub fn load(source: &PackSource, sources: &mut SourceMap) -> (Option<PackSet>, Vec<Problem>) {
    let reference = match source {
        PackSource::Embedded(id) => PackRef::new(id, Path::new("."), None),
        PackSource::Folder(dir) => PackRef {
            name: sources.display(dir),
            path: Some(dir.clone()),
            origin: None,
        },
    };
    let request = PackRequest {
        packs: Some(vec![reference]),
        ..PackRequest::default()
    };
    pack::load(&request, sources)
}

fn unknown_policy(t: &TestFile, set: &PackSet, pack: &str) -> Problem {
    let p = Problem::error(
        "test::unknown-policy",
        format!("`{}` is not a policy of pack `{pack}`", t.policy),
    )
    .at(t.file, t.policy_span, "no such policy or limit");
    let mut ids: Vec<&str> = set.meta.keys().map(String::as_str).collect();
    ids.sort_unstable();
    let best = ids
        .iter()
        .map(|id| (strsim::jaro_winkler(&t.policy, id), *id))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, id)) => p.with_help(format!(
            "did you mean `{id}`? policies of `{pack}`: {}",
            ids.join(", ")
        )),
        None => p.with_help(format!("policies of `{pack}`: {}", ids.join(", "))),
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
    use super::*;

    fn parsed(text: &str) -> (Option<TestFile>, Vec<Problem>, SourceMap) {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("t.yaml", None, text));
        let (test, problems) = parse_file(file, &sources);
        (test, problems, sources)
    }

    fn case(expect: Expect, subjects: Option<&[&str]>) -> TestCase {
        TestCase {
            name: "c".into(),
            span: Span::default(),
            expect,
            subjects: subjects.map(|s| s.iter().map(|&x| x.to_owned()).collect()),
            country: None,
            config: None,
            files: Vec::new(),
        }
    }

    fn set_of(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|&s| s.to_owned()).collect()
    }

    const GOOD: &str = "policy: common.generic-account\ncases:\n  - name: generic\n    expect: violation\n    subjects: [lehrer1]\n    school: { country: DE }\n    files:\n      accounts.csv: |\n        username\n        lehrer1\n  - name: personal\n    expect: pass\n    config: |\n      fail_on: warning\n    files:\n      exports/accounts.csv: \"username\\nanna\\n\"\n";

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

    #[test]
    fn coverage_lists_policies_without_both_kinds_of_case() {
        let mut sources = SourceMap::new();
        let (set, problems) = load(&PackSource::Embedded("eduport".into()), &mut sources);
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        let Some(set) = set else {
            panic!("eduport does not load");
        };
        let file = TestFile {
            file: FileId(0),
            policy: "eduport.manual-account-cap".into(),
            policy_span: Span::default(),
            cases: vec![case(Expect::Violation, None)],
        };
        let gaps = uncovered(&set, &[file]);
        let shown: Vec<String> = gaps.iter().map(ToString::to_string).collect();
        assert!(
            shown.contains(&"eduport.manual-account-cap (no passing case)".to_owned()),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"eduport.contract-worker-account (no test case)".to_owned()),
            "{shown:?}"
        );
    }
}

//! Runs the test cases of every embedded pack (`policies/<pack>/tests/*.yaml`) and checks that
//! every policy and limit has at least one violating and one passing case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use konform::source::yaml::{Node, YamlLimits, parse};
use konform::{CheckOptions, check_outcome};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn test_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for pack in std::fs::read_dir(root().join("policies"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let tests = pack.path().join("tests");
        for f in std::fs::read_dir(&tests).into_iter().flatten().flatten() {
            if f.path().extension().is_some_and(|e| e == "yaml") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::scalar_text)
}

struct Outcome {
    violations: BTreeSet<String>,
    passes: usize,
}

fn run_case(file: &Path, policy: &str, case: &Node) -> Result<bool, String> {
    let name = text(case.get("name")).unwrap_or_default();
    let expect = text(case.get("expect")).ok_or(format!("{name}: no `expect`"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let pack = policy.split('.').next().unwrap_or_default();
    let mut config = format!("packs: [{pack}]\n");
    if let Some(country) = text(case.get("school").and_then(|s| s.get("country"))) {
        config.push_str(&format!("school: {{ country: {country} }}\n"));
    }
    if let Some(extra) = text(case.get("config")) {
        config.push_str(&extra);
    }
    std::fs::write(dir.path().join("konform.yaml"), config).map_err(|e| e.to_string())?;
    let files = case
        .get("files")
        .and_then(Node::as_map)
        .ok_or(format!("{name}: no `files`"))?;
    for (k, v) in files {
        let (Some(fname), Some(body)) = (k.scalar_text(), v.scalar_text()) else {
            continue;
        };
        std::fs::write(dir.path().join(fname), body).map_err(|e| e.to_string())?;
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).ok_or("date")?;
    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()], today);
    options.cwd = dir.path().to_path_buf();
    let outcome = check_outcome(&options);
    let report = outcome.report;
    if report.has_errors() {
        return Err(format!(
            "{}: case `{name}` has errors: {:?}",
            file.display(),
            report.problems
        ));
    }
    let subjects: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.policy == policy)
        .map(|f| f.subject.clone())
        .collect();
    match expect.as_str() {
        "violation" => {
            if subjects.is_empty() {
                return Err(format!(
                    "{}: case `{name}` expects a violation of {policy}, found none",
                    file.display()
                ));
            }
            if let Some(expected) = case.get("subjects").and_then(Node::as_seq) {
                let expected: BTreeSet<String> =
                    expected.iter().filter_map(Node::scalar_text).collect();
                if expected != subjects {
                    return Err(format!(
                        "{}: case `{name}`: expected subjects {expected:?}, found {subjects:?}",
                        file.display()
                    ));
                }
            }
            Ok(true)
        }
        "pass" => {
            if !subjects.is_empty() {
                return Err(format!(
                    "{}: case `{name}` expects no violation of {policy}, found {subjects:?}",
                    file.display()
                ));
            }
            Ok(false)
        }
        other => Err(format!(
            "{}: case `{name}`: unknown expect `{other}`",
            file.display()
        )),
    }
}

#[test]
fn every_policy_case_holds_and_every_policy_has_both_kinds_of_case() {
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in test_files() {
        let body = std::fs::read_to_string(&file).unwrap_or_default();
        let doc = match parse(&body, YamlLimits::default()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: {}", file.display(), e.message));
                continue;
            }
        };
        let Some(policy) = text(doc.get("policy")) else {
            failures.push(format!("{}: no `policy`", file.display()));
            continue;
        };
        let entry = outcomes.entry(policy.clone()).or_insert(Outcome {
            violations: BTreeSet::new(),
            passes: 0,
        });
        for case in doc.get("cases").and_then(Node::as_seq).unwrap_or_default() {
            match run_case(&file, &policy, case) {
                Ok(true) => {
                    entry
                        .violations
                        .insert(text(case.get("name")).unwrap_or_default());
                }
                Ok(false) => entry.passes += 1,
                Err(e) => failures.push(e),
            }
        }
    }
    // Every policy and limit of every embedded pack must have both kinds of case.
    let mut sources = konform::source::SourceMap::new();
    let request = konform::pack::PackRequest {
        packs: Some(
            konform::pack::embedded_pack_ids()
                .iter()
                .map(|id| konform::pack::PackRef::new(id, Path::new("."), None))
                .collect(),
        ),
        ..konform::pack::PackRequest::default()
    };
    let (set, problems) = konform::pack::load(&request, &mut sources);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    let ids: BTreeSet<String> = set
        .map(|s| s.meta.keys().cloned().collect())
        .unwrap_or_default();
    assert!(ids.len() >= 5, "{ids:?}");
    for id in &ids {
        match outcomes.get(id) {
            None => failures.push(format!("policy {id} has no test cases")),
            Some(o) if o.violations.is_empty() => {
                failures.push(format!("policy {id} has no violating case"))
            }
            Some(o) if o.passes == 0 => failures.push(format!("policy {id} has no passing case")),
            Some(_) => {}
        }
    }
    for id in outcomes.keys() {
        if !ids.contains(id) {
            failures.push(format!("test cases for unknown policy {id}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

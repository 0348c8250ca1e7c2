//! Runs the test cases of every embedded pack (`policies/<pack>/tests/*.yaml`) with the
//! library's runner (the one behind `konform test`) and checks that every policy and limit has
//! at least one violating and one passing case.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use konform::pack::testing::{self, RunOptions, Summary};
use konform::source::SourceMap;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every failure of a run, one line each.
fn failures(summary: &Summary) -> Vec<String> {
    let cases = summary
        .cases
        .iter()
        .filter_map(|c| Some(format!("{}: {}: {}", c.policy, c.name, c.failure.as_ref()?)));
    let gaps = summary.uncovered.iter().map(|u| format!("{u}"));
    cases.chain(gaps).collect()
}

#[test]
fn every_policy_case_holds_and_every_policy_has_both_kinds_of_case() {
    let mut sources = SourceMap::with_base(root());
    let (suites, problems) = testing::collect(&[], &root(), &mut sources);
    let errors: Vec<&str> = problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.message.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let ids: BTreeSet<&str> = suites
        .iter()
        .flat_map(|s| s.set.meta.keys().map(String::as_str))
        .collect();
    assert!(ids.len() >= 5, "{ids:?}");
    assert_eq!(
        suites.len(),
        konform::pack::embedded_pack_ids().len(),
        "every embedded pack is tested"
    );
    let summary = testing::run(&suites, &RunOptions::default());
    assert!(summary.passed() >= ids.len() * 2, "{}", summary.passed());
    let failed = failures(&summary);
    assert!(failed.is_empty(), "\n{}", failed.join("\n"));
}

#[test]
fn the_runner_reports_a_wrong_expectation_and_a_missing_kind_of_case() {
    let pack = Path::new("tests/fixtures/test-failing");
    let mut sources = SourceMap::with_base(root());
    let (suites, problems) = testing::collect(&[pack.to_path_buf()], &root(), &mut sources);
    assert!(problems.is_empty(), "{problems:?}");
    let summary = testing::run(&suites, &RunOptions::default());
    assert_eq!((summary.passed(), summary.failed()), (1, 1));
    assert_eq!(
        failures(&summary),
        vec![
            "failing.admin-account: the teacher is flagged: missing violation by `anna.lehrer`; \
             unexpected violation by `root.admin`"
                .to_owned()
        ]
    );
    // Without its violating case the policy lacks a kind of case: a failure of its own.
    let mut suites = suites;
    for suite in &mut suites {
        for file in &mut suite.files {
            file.cases.retain(|c| c.expect == testing::Expect::Pass);
        }
    }
    let summary = testing::run(&suites, &RunOptions::default());
    assert_eq!(
        failures(&summary),
        vec!["failing.admin-account (no violating case)".to_owned()]
    );
}

/// `policies/README.md` (the index) and `policies/<pack>/README.md` are generated from the packs
/// and must not drift. `KONFORM_UPDATE_DOCS=1 cargo test --test integration policy_docs`
/// rewrites them.
#[test]
fn policy_docs_are_fresh() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut sources = konform::source::SourceMap::new();
    let (set, problems) = konform::pack::catalog::load_all(&[], &root, &mut sources);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    let Some(set) = set else {
        panic!("embedded packs do not load");
    };
    let mut docs = vec![(
        root.join("policies/README.md"),
        konform::pack::catalog::markdown_index(&set),
    )];
    for pack in &set.packs {
        // The pack's folder is where its pack.yaml came from (`policies/<folder>`).
        let dir = root.join(&pack.dir);
        docs.push((
            dir.join("README.md"),
            konform::pack::catalog::markdown_pack_readme(&set, pack),
        ));
    }
    let update = std::env::var_os("KONFORM_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for (path, generated) in docs {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            if update {
                if let Err(e) = std::fs::write(&path, generated) {
                    panic!("cannot write {}: {e}", path.display());
                }
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {stale:?}; run `KONFORM_UPDATE_DOCS=1 cargo test --test integration policy_docs` and commit them"
    );
}

//! Coverage: every policy and limit of a pack needs a violating and a passing case.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::parse::{Expect, TestFile};
use crate::pack::PackSet;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::testing::PackSource;
    use crate::pack::testing::collect::load;
    use crate::pack::testing::test_support::case;
    use crate::source::{FileId, SourceMap, Span};

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

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
//!
//! The work is split by step: `parse` reads a test file into typed cases, `collect` gathers the
//! test files of the packs under test and loads each pack, `run` runs the cases, and `coverage`
//! finds the policies that lack a violating or a passing case.

mod collect;
mod coverage;
mod parse;
mod run;

pub use collect::{Suite, collect, load};
pub use coverage::{Uncovered, uncovered};
pub use parse::{Expect, TestCase, TestFile, parse_file};
pub use run::{CaseResult, Failure, RunOptions, Summary, run, run_case};

use std::path::PathBuf;

/// Where a pack under test comes from; each case loads it the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    /// An embedded pack, by id.
    Embedded(String),
    /// A pack folder, as an absolute path.
    Folder(PathBuf),
}

/// Helpers shared by the unit tests of the submodules.
#[cfg(test)]
mod test_support {
    use super::{Expect, TestCase, TestFile, parse_file};
    use crate::problem::Problem;
    use crate::source::{SourceFile, SourceMap, Span};

    pub(super) fn parsed(text: &str) -> (Option<TestFile>, Vec<Problem>, SourceMap) {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("t.yaml", None, text));
        let (test, problems) = parse_file(file, &sources);
        (test, problems, sources)
    }

    pub(super) fn case(expect: Expect, subjects: Option<&[&str]>) -> TestCase {
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

    pub(super) const GOOD: &str = "policy: common.generic-account\ncases:\n  - name: generic\n    expect: violation\n    subjects: [lehrer1]\n    school: { country: DE }\n    files:\n      accounts.csv: |\n        username\n        lehrer1\n  - name: personal\n    expect: pass\n    config: |\n      fail_on: warning\n    files:\n      exports/accounts.csv: \"username\\nanna\\n\"\n";
}

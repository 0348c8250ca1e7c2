//! Baselines: the findings known at one point, so that CI fails only on new ones.
//!
//! `konform baseline -o baseline.json` records the open findings of a run;
//! `konform check --baseline baseline.json` marks findings found in it as baselined: listed, not
//! counted against `--fail-on`. An entry is the policy id and the finding's fingerprint (a
//! digest of policy id and record key): matching never depends on line numbers or names, so
//! reordered or edited rows keep their entries, a new violation of the same policy by another
//! account is never absorbed, and the file holds no personal data.
//!
//! ```json
//! { "version": 1, "tool": "konform 0.1.0", "today": "2026-11-22",
//!   "findings": [{ "policy": "common.generic-account",
//!                  "fingerprint": "cdb24d2572889acb7a1f8b45cd53743a" }] }
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Report;
use crate::problem::Problem;
use crate::source::{FileRole, SourceFile, SourceMap, Span};

/// The version of the baseline format.
pub const BASELINE_VERSION: u32 = 1;

/// One known finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The policy or limit id.
    pub policy: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
}

/// A baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`BASELINE_VERSION`].
    pub version: u32,
    /// The tool that wrote it.
    #[serde(default)]
    pub tool: String,
    /// The evaluation date of the run it records.
    #[serde(default)]
    pub today: String,
    /// The findings, sorted.
    pub findings: Vec<Entry>,
}

impl Baseline {
    /// The open findings of `report` (waived ones need no baseline).
    pub fn of(report: &Report) -> Self {
        let findings: BTreeSet<Entry> = report
            .findings
            .iter()
            .filter(|f| f.waiver.is_none())
            .map(|f| Entry {
                policy: f.policy.clone(),
                fingerprint: f.fingerprint.clone(),
            })
            .collect();
        Self {
            version: BASELINE_VERSION,
            tool: format!("konform {}", env!("CARGO_PKG_VERSION")),
            today: report.today.clone(),
            findings: findings.into_iter().collect(),
        }
    }

    /// The file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).map_or_else(|_| String::new(), |s| s + "\n")
    }
}

/// Reads a baseline file into the report's sources; problems (exit code 2) when it cannot be
/// read or understood.
pub fn load(path: &Path, sources: &mut SourceMap) -> Result<Baseline, Problem> {
    let name = sources.display(path);
    let bytes = std::fs::read(path).map_err(|e| {
        Problem::error(
            "config::unreadable-baseline",
            format!("cannot read baseline `{name}`: {e}"),
        )
        .with_help("create it with `konform baseline -o FILE`")
    })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let file = sources.add(
        SourceFile::new(name.clone(), Some(path.to_path_buf()), text.clone())
            .with_origin(FileRole::Config, &bytes),
    );
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
        let offset = offset_of(&text, e.line(), e.column());
        Problem::error(
            "config::bad-baseline",
            format!("`{name}` is not a konform baseline: {e}"),
        )
        .at(file, Span::new(offset, 1), "here")
        .with_help("write it with `konform baseline -o FILE`; do not edit it by hand")
    })?;
    if baseline.version != BASELINE_VERSION {
        return Err(Problem::error(
            "config::bad-baseline",
            format!(
                "`{name}` has baseline version {}, this konform reads version {BASELINE_VERSION}",
                baseline.version
            ),
        )
        .in_file(file)
        .with_help("record the baseline again with this konform: `konform baseline -o FILE`"));
    }
    Ok(baseline)
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len().saturating_sub(1))
}

/// Marks the findings in `baseline`; a note counts the entries no longer found (fixed).
pub fn apply(baseline: &Baseline, report: &mut Report) {
    let known: BTreeSet<(&str, &str)> = baseline
        .findings
        .iter()
        .map(|e| (e.policy.as_str(), e.fingerprint.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    for f in &mut report.findings {
        if known.contains(&(f.policy.as_str(), f.fingerprint.as_str())) {
            f.baselined = true;
            seen.insert((f.policy.clone(), f.fingerprint.clone()));
        }
    }
    let fixed = known.len() - seen.len();
    if fixed > 0 {
        report.problems.push(
            Problem::note(
                "baseline::resolved",
                format!("{fixed} finding(s) of the baseline no longer occur"),
            )
            .with_help("record the baseline again (`konform baseline -o FILE`) so that they cannot come back unnoticed"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Severity};

    use crate::source::FileId;

    fn finding(policy: &str, subject: &str, line_offset: usize) -> Finding {
        Finding {
            pack: "common".into(),
            ..Finding::new(
                policy,
                Severity::Error,
                subject,
                FileId(0),
                Span::new(line_offset, 1),
                "",
            )
        }
    }

    #[test]
    fn matches_by_policy_and_subject_never_by_place() {
        let mut old = Report::default();
        old.findings
            .push(finding("common.generic-account", "M9001", 10));
        let baseline = Baseline::of(&old);
        let text = baseline.to_json();
        assert!(!text.contains("M9001"), "no keys in clear: {text}");
        let mut new = Report::default();
        // The same finding on another line, and the same policy on another account.
        new.findings
            .push(finding("common.generic-account", "M9001", 900));
        new.findings
            .push(finding("common.generic-account", "M9002", 10));
        apply(&baseline, &mut new);
        let flags: Vec<bool> = new.findings.iter().map(|f| f.baselined).collect();
        assert_eq!(flags, vec![true, false]);
        assert_eq!(new.exit_code(Severity::Error), 1);
    }

    #[test]
    fn resolved_entries_are_noted() {
        let mut old = Report::default();
        old.findings
            .push(finding("common.generic-account", "M9001", 10));
        let baseline = Baseline::of(&old);
        let mut new = Report::default();
        apply(&baseline, &mut new);
        assert_eq!(new.problems.len(), 1);
        assert!(!new.has_errors());
    }

    #[test]
    fn bad_files_are_errors_with_a_place() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("b.json");
        std::fs::write(&path, "{\"version\": 1,\n \"findings\": [{\"policy\": 3}]}")?;
        let mut sources = SourceMap::new();
        let err = load(&path, &mut sources)
            .err()
            .ok_or("accepted a bad file")?;
        assert!(err.is_error() && err.primary_span().is_some(), "{err:?}");
        std::fs::write(&path, "{\"version\": 2, \"findings\": []}")?;
        assert!(load(&path, &mut sources).is_err());
        assert!(load(&dir.path().join("missing.json"), &mut sources).is_err());
        Ok(())
    }
}

//! `konform diff OLD NEW`: what changed between two exports of the same account list, and
//! which findings the change introduces or resolves.
//!
//! Both exports are checked with the same configuration (the old one with the settings of the
//! new one from konform.yaml); records are compared by kind and key ([`crate::since`]) and
//! findings by fingerprint (policy id and record key), so reordering rows changes nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::finding::{Report, Severity};
use crate::since::{Changes, compare};
use crate::{CheckOptions, check_outcome};

/// The comparison of two exports.
#[derive(Debug)]
pub struct Diff {
    /// The check of the old export.
    pub old: Report,
    /// The check of the new export.
    pub new: Report,
    /// Records added, removed, renamed, changed.
    pub changes: Changes,
    /// Findings of the new export that the old one did not have.
    pub introduced: Report,
    /// Findings of the old export that the new one no longer has.
    pub resolved: Report,
    /// `fail_on` from konform.yaml, if set.
    pub fail_on: Option<Severity>,
}

impl Diff {
    /// 2 when either export could not be checked completely; 1 when the change introduces an
    /// open finding at or above `fail_on`; else 0.
    pub fn exit_code(&self, fail_on: Severity) -> i32 {
        if self.old.has_errors() || self.new.has_errors() {
            2
        } else {
            self.introduced.exit_code(fail_on)
        }
    }
}

/// A report holding only `findings` of `base` (same sources, rules and context).
fn subset(base: &Report, keep: &BTreeSet<(String, String)>) -> Report {
    let findings = base
        .findings
        .iter()
        .filter(|f| keep.contains(&(f.policy.clone(), f.fingerprint.clone())))
        .cloned()
        .collect();
    base.with_parts(base.sources.clone(), findings, Vec::new())
}

/// Checks `old` and `new` with `options` (its `paths` are ignored) and compares them.
pub fn diff(options: &CheckOptions, old: PathBuf, new: PathBuf) -> Diff {
    let mut new_options = options.clone();
    new_options.paths = vec![new.clone()];
    new_options.keep_records = true;
    let mut old_options = options.clone();
    old_options.paths = vec![old];
    old_options.keep_records = true;
    old_options.settings_of = Some(new);
    // The old export is read as the same list: with the new one's konform.yaml settings.
    if old_options.config.is_none() {
        old_options.config = new_options
            .paths
            .first()
            .and_then(|p| crate::config::discover(&options.cwd.join(p)));
    }
    old_options.baseline = None;
    let new_outcome = check_outcome(&new_options);
    let old_outcome = check_outcome(&old_options);
    let changes = compare(&old_outcome.records, &new_outcome.records);
    let ids = |r: &Report| -> BTreeSet<(String, String)> {
        r.findings
            .iter()
            .map(|f| (f.policy.clone(), f.fingerprint.clone()))
            .collect()
    };
    let (old_ids, new_ids) = (ids(&old_outcome.report), ids(&new_outcome.report));
    let introduced = subset(
        &new_outcome.report,
        &new_ids.difference(&old_ids).cloned().collect(),
    );
    let resolved = subset(
        &old_outcome.report,
        &old_ids.difference(&new_ids).cloned().collect(),
    );
    Diff {
        old: old_outcome.report,
        new: new_outcome.report,
        changes,
        introduced,
        resolved,
        fail_on: new_outcome.fail_on,
    }
}

/// The changes with every key passed through `mask` (identity when not redacting).
fn masked_changes(changes: &Changes, mask: &dyn Fn(&str) -> String) -> Changes {
    Changes {
        added: changes.added.iter().map(|k| mask(k)).collect(),
        removed: changes.removed.iter().map(|k| mask(k)).collect(),
        renamed: changes
            .renamed
            .iter()
            .map(|(a, b)| (mask(a), mask(b)))
            .collect(),
        changed: changes
            .changed
            .iter()
            .map(|(k, attrs)| (mask(k), attrs.clone()))
            .collect(),
        unchanged: changes.unchanged,
    }
}

/// The diff with personal data masked (keys that are usernames, finding texts, snippets).
pub fn redact(d: &Diff) -> Diff {
    let mut personal = d.new.personal.clone();
    personal.extend(d.old.personal.clone());
    let masker = personal.masker();
    let with = |r: &Report| {
        let mut r = r.with_parts(r.sources.clone(), r.findings.clone(), r.problems.clone());
        r.personal = personal.clone();
        crate::redact::redact(&r)
    };
    Diff {
        old: with(&d.old),
        new: with(&d.new),
        changes: masked_changes(&d.changes, &|k| masker.mask(k)),
        introduced: with(&d.introduced),
        resolved: with(&d.resolved),
        fail_on: d.fail_on,
    }
}

/// The summary lines of a diff, for people.
pub fn summary(d: &Diff) -> String {
    let c = &d.changes;
    let mut s = String::new();
    let name = |r: &Report| {
        r.inputs
            .first()
            .map(|i| r.sources.get(i.file).name.clone())
            .unwrap_or_else(|| "(nothing read)".to_owned())
    };
    let _ = writeln!(
        s,
        "compared {} ({} records) with {} ({} records)",
        name(&d.old),
        d.old.stats.records,
        name(&d.new),
        d.new.stats.records
    );
    let list = |keys: &[String]| keys.join(", ");
    if !c.added.is_empty() {
        let _ = writeln!(s, "added ({}): {}", c.added.len(), list(&c.added));
    }
    if !c.removed.is_empty() {
        let _ = writeln!(s, "removed ({}): {}", c.removed.len(), list(&c.removed));
    }
    if !c.renamed.is_empty() {
        let renamed: Vec<String> = c
            .renamed
            .iter()
            .map(|(a, b)| format!("{a} → {b}"))
            .collect();
        let _ = writeln!(s, "renamed ({}): {}", c.renamed.len(), renamed.join(", "));
    }
    if !c.changed.is_empty() {
        let changed: Vec<String> = c
            .changed
            .iter()
            .map(|(k, attrs)| format!("{k} ({})", attrs.join(", ")))
            .collect();
        let _ = writeln!(s, "changed ({}): {}", c.changed.len(), changed.join("; "));
    }
    let _ = writeln!(s, "unchanged: {}", c.unchanged);
    let (e, w, i) = d.introduced.counts();
    let _ = write!(
        s,
        "findings: {} introduced ({}, {}, {}), {} resolved",
        d.introduced.findings.len(),
        crate::render::plural(e, "error", "errors"),
        crate::render::plural(w, "warning", "warnings"),
        crate::render::plural(i, "info", "infos"),
        d.resolved.findings.len()
    );
    s
}

#[derive(Serialize)]
struct RenamedJson<'a> {
    old: &'a str,
    new: &'a str,
}

#[derive(Serialize)]
struct ChangedJson<'a> {
    key: &'a str,
    attributes: &'a [String],
}

#[derive(Serialize)]
struct RecordsJson<'a> {
    added: &'a [String],
    removed: &'a [String],
    renamed: Vec<RenamedJson<'a>>,
    changed: Vec<ChangedJson<'a>>,
    unchanged: usize,
}

#[derive(Serialize)]
struct FindingsJson {
    introduced: serde_json::Value,
    resolved: serde_json::Value,
}

#[derive(Serialize)]
struct DiffJson<'a> {
    version: u32,
    redacted: bool,
    fail_on: &'static str,
    exit_code: i32,
    records: RecordsJson<'a>,
    findings: FindingsJson,
    problems: serde_json::Value,
}

/// The findings (or problems) array of a report's JSON rendering.
fn json_part(report: &Report, fail_on: Severity, part: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&crate::render::json(report, fail_on))
        .ok()
        .and_then(|mut v| v.get_mut(part).map(serde_json::Value::take))
        .unwrap_or(serde_json::Value::Array(Vec::new()))
}

/// The diff as JSON (version 1; findings in the form of `check --format json`).
pub fn json(d: &Diff, fail_on: Severity) -> String {
    let c = &d.changes;
    let mut problems = json_part(&d.old, fail_on, "problems");
    if let (Some(all), serde_json::Value::Array(more)) = (
        problems.as_array_mut(),
        json_part(&d.new, fail_on, "problems"),
    ) {
        all.extend(more);
    }
    let doc = DiffJson {
        version: 1,
        redacted: d.new.redacted,
        fail_on: fail_on.name(),
        exit_code: d.exit_code(fail_on),
        records: RecordsJson {
            added: &c.added,
            removed: &c.removed,
            renamed: c
                .renamed
                .iter()
                .map(|(old, new)| RenamedJson { old, new })
                .collect(),
            changed: c
                .changed
                .iter()
                .map(|(key, attributes)| ChangedJson { key, attributes })
                .collect(),
            unchanged: c.unchanged,
        },
        findings: FindingsJson {
            introduced: json_part(&d.introduced, fail_on, "findings"),
            resolved: json_part(&d.resolved, fail_on, "findings"),
        },
        problems,
    };
    serde_json::to_string_pretty(&doc).map_or_else(
        |e| format!("{{\"version\": 1, \"error\": {:?}}}\n", e.to_string()),
        |s| s + "\n",
    )
}

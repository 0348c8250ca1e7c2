//! Comparing two exports of the same list: which records were added, removed, renamed or
//! changed (`konform diff OLD NEW`), and keeping only the findings on those that are new or
//! changed (`konform check --since OLD`, the check of a school's manual additions before upload).
//!
//! Records are matched by kind and stable key, never by line: reordering rows changes nothing.
//! A record whose key changed but whose person did not (same given name, family name and birth
//! date, or the same e-mail address) is reported as renamed rather than removed and added.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::finding::Report;
use crate::problem::Problem;
use crate::record::{Record, RecordKind, Value};

/// Attributes konform derives itself; not part of what an export says.
const DERIVED: &[&str] = &["login_tracked"];

/// Attributes the platform updates by itself (logins): a change there is not an edit, so
/// `--since` does not count it.
pub const VOLATILE: &[&str] = &["last_login"];

/// How two exports differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Keys only in the new export.
    pub added: Vec<String>,
    /// Keys only in the old export.
    pub removed: Vec<String>,
    /// Records whose key changed (old key, new key), matched by the person's identity.
    pub renamed: Vec<(String, String)>,
    /// Records present in both with different attributes: key and the attributes that differ.
    pub changed: Vec<(String, Vec<String>)>,
    /// Records present in both, unchanged.
    pub unchanged: usize,
}

impl Changes {
    /// Keys of the new export that are added, renamed or changed.
    pub fn touched(&self) -> BTreeSet<&str> {
        self.added
            .iter()
            .map(String::as_str)
            .chain(self.renamed.iter().map(|(_, new)| new.as_str()))
            .chain(self.changed.iter().map(|(k, _)| k.as_str()))
            .collect()
    }
}

fn attributes(r: &Record) -> BTreeMap<String, &Value> {
    r.attrs
        .iter()
        .filter(|(k, _)| !DERIVED.contains(&k.as_ref()))
        .map(|(k, a)| (k.to_string(), &a.value))
        .chain(
            r.extra
                .iter()
                .map(|(k, a)| (format!("extra.{k}"), &a.value)),
        )
        .collect()
}

fn differing(old: &Record, new: &Record, ignore: &[&str]) -> Vec<String> {
    let (a, b) = (attributes(old), attributes(new));
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter(|n| !ignore.contains(&n.as_str()) && a.get(*n) != b.get(*n))
        .cloned()
        .collect()
}

/// The identity of the person behind a record, to recognise renamed keys.
fn identity(r: &Record) -> Option<String> {
    let text = |name: &str| r.get(name).map(|a| a.value.display().to_lowercase());
    match (text("given_name"), text("family_name"), text("birth_date")) {
        (Some(g), Some(f), Some(b)) => Some(format!("{g}\u{1f}{f}\u{1f}{b}")),
        _ => text("email").map(|e| format!("email\u{1f}{e}")),
    }
}

/// Compares the records of an old and a new export (of any kinds; matched per kind).
pub fn compare(old: &[Record], new: &[Record]) -> Changes {
    compare_ignoring(old, new, &[])
}

/// Like [`compare`], not counting differences in the attributes `ignore`.
pub fn compare_ignoring(old: &[Record], new: &[Record], ignore: &[&str]) -> Changes {
    let index = |records: &[Record]| -> BTreeMap<(RecordKind, String), usize> {
        records
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.key.is_empty())
            .map(|(i, r)| ((r.kind, r.key.to_string()), i))
            .collect()
    };
    let (old_index, new_index) = (index(old), index(new));
    let mut changes = Changes::default();
    let mut removed: Vec<usize> = Vec::new();
    for (key, &i) in &old_index {
        match new_index.get(key) {
            None => removed.push(i),
            Some(&j) => {
                if let (Some(o), Some(n)) = (old.get(i), new.get(j)) {
                    let diff = differing(o, n, ignore);
                    if diff.is_empty() {
                        changes.unchanged += 1;
                    } else {
                        changes.changed.push((key.1.clone(), diff));
                    }
                }
            }
        }
    }
    let mut added: Vec<usize> = new_index
        .iter()
        .filter(|(k, _)| !old_index.contains_key(*k))
        .map(|(_, &j)| j)
        .collect();
    // Renamed: a removed and an added record of the same kind and person.
    let mut by_identity: HashMap<(RecordKind, String), usize> = HashMap::new();
    for &j in &added {
        if let Some(n) = new.get(j)
            && let Some(id) = identity(n)
        {
            by_identity.entry((n.kind, id)).or_insert(j);
        }
    }
    let mut renamed_new = BTreeSet::new();
    removed.retain(|&i| {
        let Some(o) = old.get(i) else {
            return true;
        };
        let found = identity(o).and_then(|id| by_identity.remove(&(o.kind, id)));
        match found.and_then(|j| new.get(j).map(|n| (j, n))) {
            Some((j, n)) => {
                changes.renamed.push((o.key.to_string(), n.key.to_string()));
                renamed_new.insert(j);
                false
            }
            None => true,
        }
    });
    added.retain(|j| !renamed_new.contains(j));
    changes.added = added
        .iter()
        .filter_map(|&j| new.get(j).map(|r| r.key.to_string()))
        .collect();
    changes.removed = removed
        .iter()
        .filter_map(|&i| old.get(i).map(|r| r.key.to_string()))
        .collect();
    changes.added.sort();
    changes.removed.sort();
    changes.renamed.sort();
    changes
}

/// `--since`: drops findings on records that are unchanged since the old export, and notes
/// what was compared. A limit's finding stays when one of the records it counts is new or
/// changed (a manual addition that goes over a cap is the school's to fix).
pub fn keep_changed(report: &mut Report, new: &[Record], old: &[Record], old_name: &str) {
    let changes = compare_ignoring(old, new, VOLATILE);
    let touched = changes.touched();
    let before = report.findings.len();
    report.findings.retain(|f| {
        touched.contains(f.subject.as_str())
            || f.related
                .iter()
                .any(|r| touched.contains(r.subject.as_str()))
    });
    let hidden = before - report.findings.len();
    report.problems.push(
        Problem::note(
            "since::compared",
            format!(
                "since `{old_name}`: {} added, {} changed, {} renamed (logins not counted); {} on unchanged records not shown",
                changes.added.len(),
                changes.changed.len(),
                changes.renamed.len(),
                if hidden == 1 {
                    "1 finding".to_owned()
                } else {
                    format!("{hidden} findings")
                }
            ),
        )
        .with_help("run without --since to see every finding"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn account(key: &str, attrs: &[(&str, &str)]) -> Record {
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
        r.key = key.into();
        for (k, v) in attrs {
            r.set(k.to_string(), Value::Str((*v).into()), Span::default());
        }
        r
    }

    #[test]
    fn added_removed_changed_renamed_and_reordered() {
        let anna = [
            ("given_name", "Anna"),
            ("family_name", "Berg"),
            ("birth_date", "2010-01-01"),
        ];
        let old = vec![
            account("a1", &[("username", "x")]),
            account("a2", &[("username", "y")]),
            account("anna.berg", &anna),
            account("gone", &[("username", "z")]),
        ];
        let new = vec![
            // Reordered, one changed, one renamed, one added, one removed.
            account("a2", &[("username", "y2")]),
            account("a1", &[("username", "x")]),
            account("anna.berg2", &anna),
            account("new", &[("username", "n")]),
        ];
        let c = compare(&old, &new);
        assert_eq!(c.added, vec!["new".to_owned()]);
        assert_eq!(c.removed, vec!["gone".to_owned()]);
        assert_eq!(
            c.renamed,
            vec![("anna.berg".to_owned(), "anna.berg2".to_owned())]
        );
        assert_eq!(
            c.changed,
            vec![("a2".to_owned(), vec!["username".to_owned()])]
        );
        assert_eq!(c.unchanged, 1);
        let touched: Vec<&str> = c.touched().into_iter().collect();
        assert_eq!(touched, vec!["a2", "anna.berg2", "new"]);
    }

    #[test]
    fn derived_attributes_do_not_count_as_changes() {
        let old = vec![account("a", &[])];
        let mut n = account("a", &[]);
        n.set("login_tracked", Value::Bool(true), Span::default());
        assert_eq!(compare(&old, &[n]).unchanged, 1);
    }
}

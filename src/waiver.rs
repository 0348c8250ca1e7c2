//! Waivers: approved, expiring exceptions for single findings (`waivers.yaml`).
//!
//! ```yaml
//! waivers:
//!   - policy: common.generic-account   # a policy or limit id
//!     subject: M9001                   # the record key (for a limit: its group, e.g. the school)
//!     reason: shared substitute-pool account, replaced by personal accounts in spring
//!     approved_by: Datenschutzbeauftragte der Schule (Vorgang 2026-14)
//!     expires: 2027-03-31              # at most `max_days` (default 366) from today
//! ```
//!
//! konform.yaml names the file (`waivers: waivers.yaml`, or `waivers: { file: …, max_days: … }`);
//! a school authority's config can lower `max_days` for the configs that extend it, and forbid
//! waivers for chosen policies (`policies: { id: { waivable: false } }`).
//!
//! A waived finding is still reported (marked as waived, with reason and expiry) but does not
//! count against `--fail-on`. An expired waiver waives nothing and gets a warning; one expiring
//! within [`EXPIRY_WARNING_DAYS`] gets a warning; one that matches no finding is reported as
//! unused. A waiver with a missing field, an unknown policy, a lifetime beyond `max_days` or a
//! forbidden policy is a configuration error (exit code 2).

use std::collections::HashSet;
use std::path::Path;

use chrono::NaiveDate;

use crate::finding::{AppliedWaiver, Finding};
use crate::problem::Problem;
use crate::source::fields::Fields;
use crate::source::yaml::{self, NodeValue, YamlLimits};
use crate::source::{FileId, FileRole, SourceFile, SourceMap, Span};

/// The longest a waiver may run, in days from the evaluation date, unless configured lower.
pub const DEFAULT_MAX_DAYS: i64 = 366;

/// A waiver expiring within this many days gets a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

// The keys the parser accepts. `schemas/waivers.schema.json` describes the same keys; a test
// fails when the two differ.

/// The top-level keys of a waiver file written as a mapping (it may also be the bare list).
pub const FILE_KEYS: &[&str] = &["waivers"];
/// The keys of one waiver (`ticket` and `approved_on` are allowed as references for an
/// auditor; konform does not read them).
pub const WAIVER_KEYS: &[&str] = &[
    "policy",
    "subject",
    "reason",
    "approved_by",
    "expires",
    "ticket",
    "approved_on",
];

/// One waiver as read from its file.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// The policy or limit id.
    pub policy: String,
    /// The record key (or a limit's group).
    pub subject: String,
    /// Why the exception is needed.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// The last day it applies.
    pub expires: NaiveDate,
    /// The waiver file.
    pub file: FileId,
    /// The whole entry.
    pub span: Span,
    /// The `policy:` value.
    pub policy_span: Span,
    /// The `expires:` value.
    pub expires_span: Span,
    /// The `subject:` value.
    pub subject_span: Span,
    /// The `approved_by:` value.
    pub approved_by_span: Span,
}

/// Where waivers come from and what they may do, from konform.yaml (all layers).
#[derive(Debug, Clone, Default)]
pub struct WaiverSettings {
    /// The waiver files with the config that named them and where.
    pub files: Vec<WaiverFile>,
    /// The longest lifetime allowed, in days (the lowest of all layers).
    pub max_days: Option<(i64, FileId, Span)>,
    /// Policies that may not be waived, with the config that says so.
    pub forbidden: Vec<(String, FileId)>,
}

/// A waiver file named in konform.yaml.
#[derive(Debug, Clone)]
pub struct WaiverFile {
    /// The path on disk.
    pub path: std::path::PathBuf,
    /// The config that names it.
    pub config: FileId,
    /// Where it is named.
    pub span: Span,
}

/// Reads every waiver file: waivers, and problems for missing fields and bad dates.
pub fn load(settings: &WaiverSettings, sources: &mut SourceMap) -> (Vec<Waiver>, Vec<Problem>) {
    let mut waivers = Vec::new();
    let mut problems = Vec::new();
    for wf in &settings.files {
        match read_file(&wf.path, sources) {
            Ok((file, text)) => parse(file, &text, &mut waivers, &mut problems),
            Err(e) => problems.push(
                Problem::error(
                    "config::unreadable-waivers",
                    format!(
                        "cannot read waiver file `{}`: {e}",
                        sources.display(&wf.path)
                    ),
                )
                .at(wf.config, wf.span, "named here")
                .with_help("the path is relative to the folder of konform.yaml"),
            ),
        }
    }
    (waivers, problems)
}

fn read_file(path: &Path, sources: &mut SourceMap) -> Result<(FileId, String), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| "it is not UTF-8".to_owned())?;
    let file = sources.add(
        SourceFile::new(
            sources.display(path),
            Some(path.to_path_buf()),
            text.clone(),
        )
        .with_origin(FileRole::Waiver, &bytes),
    );
    Ok((file, text))
}

/// Parses the waivers of one file (already in the source map as `file`).
pub fn parse(file: FileId, text: &str, out: &mut Vec<Waiver>, problems: &mut Vec<Problem>) {
    let root = match yaml::parse(text, YamlLimits::default()) {
        Ok(r) => r,
        Err(e) => {
            let p = Problem::error(
                "config::syntax",
                format!("invalid YAML in the waiver file: {}", e.message),
            )
            .with_help("fix the YAML syntax at the marked place");
            problems.push(match e.span {
                Some(s) => p.at(file, s, "here"),
                None => p.in_file(file),
            });
            return;
        }
    };
    if matches!(root.value, NodeValue::Null) {
        return;
    }
    // `waivers: [...]`, or the list itself.
    let list = match (root.as_seq(), root.get("waivers")) {
        (Some(items), _) => items,
        (None, Some(node)) => {
            let mut f = Fields::new(file, &root, "the waiver file", "config", problems);
            f.deny_unknown(FILE_KEYS);
            match node.as_seq() {
                Some(items) => items,
                None if matches!(node.value, NodeValue::Null) => return,
                None => {
                    problems.push(
                        Problem::error("config::wrong-type", "`waivers` must be a list")
                            .at(file, node.span, format!("found {}", node.type_name()))
                            .with_help(
                                "write waivers: followed by entries starting with `- policy:`",
                            ),
                    );
                    return;
                }
            }
        }
        (None, None) => {
            problems.push(
                Problem::error(
                    "config::wrong-type",
                    "the waiver file holds no `waivers:` list",
                )
                .at(file, root.span, "expected `waivers:`")
                .with_help("write waivers: followed by entries starting with `- policy:`"),
            );
            return;
        }
    };
    for item in list {
        let mut f = Fields::new(file, item, "a waiver", "config", problems);
        f.deny_unknown(WAIVER_KEYS);
        let required = |f: &mut Fields<'_>, key: &str, help: &str| {
            let value = f.string(key).filter(|(v, _)| !v.trim().is_empty());
            if value.is_none() {
                f.missing(key, help);
            }
            value
        };
        let policy = required(
            &mut f,
            "policy",
            "name the policy or limit, e.g. policy: common.generic-account",
        );
        let subject = required(
            &mut f,
            "subject",
            "name the record key the waiver is for (for a limit: the school id)",
        );
        let reason = required(
            &mut f,
            "reason",
            "say why the exception is needed; an auditor reads it",
        );
        let approved_by = required(
            &mut f,
            "approved_by",
            "name who approved the exception (role, case number)",
        );
        let expires = required(
            &mut f,
            "expires",
            "give the last day of the exception as YYYY-MM-DD",
        );
        let expires = expires.and_then(|(text, span)| {
            match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(d) => Some((d, span)),
                Err(_) => {
                    f.push(
                        Problem::error("config::bad-date", format!("`{text}` is not a date"))
                            .at(file, span, "not YYYY-MM-DD")
                            .with_help("write expires: 2027-03-31"),
                    );
                    None
                }
            }
        });
        if let (
            Some((policy, policy_span)),
            Some((subject, subject_span)),
            Some((reason, reason_span)),
            Some((approved_by, approved_by_span)),
            Some((expires, expires_span)),
        ) = (policy, subject, reason, approved_by, expires)
        {
            // The entry from its first to its last field (a sequence item's own span may be
            // empty).
            let fields = [
                policy_span,
                subject_span,
                reason_span,
                approved_by_span,
                expires_span,
            ];
            let start = fields
                .iter()
                .map(|s| s.offset)
                .min()
                .unwrap_or(item.span.offset);
            let end = fields
                .iter()
                .map(Span::end)
                .max()
                .unwrap_or(item.span.end());
            out.push(Waiver {
                policy,
                subject,
                reason,
                approved_by,
                expires,
                file,
                span: Span::from_range(start, end.max(start)),
                policy_span,
                expires_span,
                subject_span,
                approved_by_span,
            });
        }
    }
}

/// Checks waivers against the rules and dates; returns the waivers still in force.
pub fn validate(
    waivers: Vec<Waiver>,
    settings: &WaiverSettings,
    sources: &SourceMap,
    rules: &[String],
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Vec<Waiver> {
    let max_days = settings.max_days.map_or(DEFAULT_MAX_DAYS, |(d, _, _)| d);
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut in_force = Vec::new();
    for w in waivers {
        if !rules.contains(&w.policy) {
            let best = rules
                .iter()
                .max_by(|a, b| {
                    strsim::jaro_winkler(a, &w.policy)
                        .total_cmp(&strsim::jaro_winkler(b, &w.policy))
                })
                .filter(|b| strsim::jaro_winkler(b, &w.policy) > 0.8);
            problems.push(
                Problem::error(
                    "config::unknown-policy",
                    format!("waiver for unknown policy `{}`", w.policy),
                )
                .at(
                    w.file,
                    w.policy_span,
                    "no policy or limit with this id is loaded",
                )
                .with_help(match best {
                    Some(b) => format!("did you mean `{b}`?"),
                    None => "use the full id as `konform policies` lists it".to_owned(),
                }),
            );
            continue;
        }
        if let Some((_, cfg)) = settings.forbidden.iter().find(|(p, _)| *p == w.policy) {
            problems.push(
                Problem::error("config::waiver-forbidden", format!("`{}` may not be waived", w.policy))
                    .at(w.file, w.policy_span, "no waivers for this policy")
                    .with_help(format!(
                        "`{}` forbids waivers for this policy (waivable: false); fix the finding instead",
                        sources.get(*cfg).name
                    )),
            );
            continue;
        }
        let days = (w.expires - today).num_days();
        if days > max_days {
            problems.push(
                Problem::error(
                    "config::waiver-too-long",
                    format!("the waiver for `{}` runs {days} days, longer than the maximum of {max_days}", w.policy),
                )
                .at(w.file, w.expires_span, format!("more than {max_days} days after {today}"))
                .with_help(format!(
                    "waivers are renewed, not granted open-ended: set expires to {} or earlier",
                    today + chrono::Duration::days(max_days)
                )),
            );
            continue;
        }
        if !seen.insert((w.policy.clone(), w.subject.clone())) {
            problems.push(
                Problem::warning(
                    "config::duplicate-waiver",
                    format!("`{}` is waived twice for `{}`", w.policy, w.subject),
                )
                .at(w.file, w.span, "second waiver for the same finding")
                .with_help("keep one waiver per policy and subject"),
            );
            continue;
        }
        if days < 0 {
            problems.push(
                Problem::warning(
                    "config::waiver-expired",
                    format!(
                        "the waiver for `{}` on `{}` expired on {}",
                        w.policy, w.subject, w.expires
                    ),
                )
                .at(w.file, w.expires_span, "expired: the finding counts again")
                .with_help(
                    "fix the finding, or renew the waiver with a new approval and expiry date",
                ),
            );
            continue;
        }
        if days <= EXPIRY_WARNING_DAYS {
            problems.push(
                Problem::warning(
                    "config::waiver-expiring",
                    format!(
                        "the waiver for `{}` on `{}` expires in {days} days ({})",
                        w.policy, w.subject, w.expires
                    ),
                )
                .at(w.file, w.expires_span, "expires soon")
                .with_help("fix the finding before then, or have the waiver renewed"),
            );
        }
        in_force.push(w);
    }
    in_force
}

/// Marks the findings that a waiver in force covers; reports waivers that cover none.
pub fn apply(waivers: &[Waiver], findings: &mut [Finding], problems: &mut Vec<Problem>) {
    for w in waivers {
        let mut used = false;
        for f in findings
            .iter_mut()
            .filter(|f| f.policy == w.policy && f.subject == w.subject)
        {
            used = true;
            f.waiver = Some(Box::new(AppliedWaiver {
                reason: w.reason.clone(),
                approved_by: w.approved_by.clone(),
                expires: w.expires.format("%Y-%m-%d").to_string(),
                file: w.file,
                span: w.span,
            }));
        }
        if !used {
            problems.push(
                Problem::warning(
                    "config::unused-waiver",
                    format!("the waiver for `{}` on `{}` matches no finding", w.policy, w.subject),
                )
                .at(w.file, w.span, "waives nothing")
                .with_help("remove it if the finding is fixed; check the subject (the record key, as `subject` in the JSON output)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn read(text: &str) -> (Vec<Waiver>, Vec<Problem>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        parse(FileId(0), text, &mut out, &mut problems);
        (out, problems)
    }

    const ONE: &str = "waivers:\n  - policy: common.generic-account\n    subject: M9001\n    reason: pool\n    approved_by: DSB\n    expires: 2027-01-31\n";

    #[test]
    fn reads_entries_and_reports_missing_fields() {
        let (w, p) = read(ONE);
        assert_eq!(w.len(), 1);
        assert!(p.is_empty(), "{p:?}");
        let (w, p) = read(
            "waivers:\n  - policy: common.generic-account\n    subject: M9001\n    expires: 2027-13-01\n",
        );
        assert!(w.is_empty());
        let codes: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(p.len(), 3, "{codes:?}");
        assert!(
            codes
                .iter()
                .any(|m| m.contains("`2027-13-01` is not a date"))
        );
        assert!(codes.iter().any(|m| m.contains("reason")));
        assert!(codes.iter().any(|m| m.contains("approved_by")));
    }

    #[test]
    fn validation_by_date_policy_and_settings() {
        let rules = vec!["common.generic-account".to_owned()];
        let today = date("2026-11-22");
        let check = |text: &str, settings: &WaiverSettings| {
            let (w, mut p) = read(text);
            let kept = validate(w, settings, &SourceMap::new(), &rules, today, &mut p);
            (
                kept.len(),
                p.iter().map(|p| p.code.clone()).collect::<Vec<_>>(),
            )
        };
        let none = WaiverSettings::default();
        assert_eq!(check(ONE, &none), (1, vec![]));
        let expiring = ONE.replace("2027-01-31", "2026-12-01");
        assert_eq!(
            check(&expiring, &none),
            (1, vec!["konform::config::waiver-expiring".into()])
        );
        let expired = ONE.replace("2027-01-31", "2026-11-21");
        assert_eq!(
            check(&expired, &none),
            (0, vec!["konform::config::waiver-expired".into()])
        );
        // Expiring today still applies today.
        assert_eq!(check(&ONE.replace("2027-01-31", "2026-11-22"), &none).0, 1);
        let long = ONE.replace("2027-01-31", "2027-11-24");
        assert_eq!(
            check(&long, &none),
            (0, vec!["konform::config::waiver-too-long".into()])
        );
        let short = WaiverSettings {
            max_days: Some((30, FileId(1), Span::default())),
            ..WaiverSettings::default()
        };
        assert_eq!(check(ONE, &short).0, 0);
        let unknown = ONE.replace("common.generic-account", "common.generic-acount");
        let (n, codes) = check(&unknown, &none);
        assert_eq!(
            (n, codes),
            (0, vec!["konform::config::unknown-policy".to_owned()])
        );
        let forbidden = WaiverSettings {
            forbidden: vec![("common.generic-account".into(), FileId(0))],
            ..WaiverSettings::default()
        };
        assert_eq!(
            check(ONE, &forbidden),
            (0, vec!["konform::config::waiver-forbidden".into()])
        );
        let twice = format!("{ONE}{}", ONE.trim_start_matches("waivers:\n"));
        assert_eq!(
            check(&twice, &none),
            (1, vec!["konform::config::duplicate-waiver".into()])
        );
    }
}

//! Findings: policy violations as data, and the report of a run.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::problem::Problem;
use crate::record::RecordKind;
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// How serious a finding is; set by the policy's `@severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Should be fixed.
    Warning,
    /// Must be fixed.
    Error,
}

impl Severity {
    /// Parses `error`, `warning` or `info`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "error" => Some(Self::Error),
            "warning" | "warn" => Some(Self::Warning),
            "info" | "note" => Some(Self::Info),
            _ => None,
        }
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Another place a finding refers to (for limits: every counted record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// The file.
    pub file: FileId,
    /// The place.
    pub span: Span,
    /// What is there.
    pub label: String,
    /// The record key there.
    pub subject: String,
}

/// One violation of one policy by one record (or, for limits, one group).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The policy id (`common.generic-account`).
    pub policy: String,
    /// The pack the policy belongs to.
    pub pack: String,
    /// How serious.
    pub severity: Severity,
    /// What is wrong, placeholders filled in.
    pub message: String,
    /// The key of the record (or the group of a limit).
    pub subject: String,
    /// The kind of the record.
    pub kind: RecordKind,
    /// The file of the record.
    pub file: FileId,
    /// The place to point at: the offending cell or key, else the row.
    pub span: Span,
    /// What is wrong at that place.
    pub label: String,
    /// The whole row or node of the record.
    pub record_span: Span,
    /// How to fix it.
    pub help: Option<String>,
    /// The rule or law it rests on.
    pub basis: Option<String>,
    /// A link to documentation.
    pub url: Option<String>,
    /// Other places (limits list the counted records here).
    pub related: Vec<Related>,
    /// A digest of policy id and subject key: stable across runs and line moves, and free of
    /// personal data (see [`fingerprint`]). Kept as computed when the output is redacted.
    pub fingerprint: String,
    /// The waiver that covers this finding, if one is in force.
    pub waiver: Option<Box<AppliedWaiver>>,
    /// Whether the finding is in the `--baseline` (known before, not counted).
    pub baselined: bool,
}

/// A waiver in force on a finding: reported with it, and the finding does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedWaiver {
    /// Why the exception is needed.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// The last day it applies (YYYY-MM-DD).
    pub expires: String,
    /// The waiver file.
    pub file: FileId,
    /// The waiver entry.
    pub span: Span,
}

/// The fingerprint of a finding: the first 32 hex digits of the SHA-256 of the policy id and
/// the subject key. It does not change when rows move, and it does not show the key.
pub fn fingerprint(policy: &str, subject: &str) -> String {
    let mut digest = crate::source::sha256_hex(format!("{policy}\u{1f}{subject}").as_bytes());
    digest.truncate(32);
    digest
}

impl Finding {
    /// A finding of `policy` (`pack.name`; the pack is the part before the first dot) on the
    /// record `subject`, marking `span` of `file`, which is also the record's span; no label,
    /// help, basis, link or related places. For tools and tests that build reports; the engine
    /// fills in every field.
    pub fn new(
        policy: &str,
        severity: Severity,
        subject: &str,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            policy: policy.to_owned(),
            pack: policy.split('.').next().unwrap_or_default().to_owned(),
            severity,
            message: message.into(),
            subject: subject.to_owned(),
            kind: RecordKind::Account,
            file,
            span,
            label: String::new(),
            record_span: span,
            help: None,
            basis: None,
            url: None,
            related: Vec::new(),
            fingerprint: fingerprint(policy, subject),
            waiver: None,
            baselined: false,
        }
    }

    /// Passes every text that can carry input data (message, label, subject, help, related
    /// labels and subjects, the waiver's reason and approver) through `f`.
    pub fn map_texts(&mut self, f: &impl Fn(&str) -> String) {
        self.message = f(&self.message);
        self.label = f(&self.label);
        self.subject = f(&self.subject);
        self.help = self.help.as_deref().map(f);
        for r in &mut self.related {
            r.label = f(&r.label);
            r.subject = f(&r.subject);
        }
        if let Some(w) = self.waiver.as_deref_mut() {
            w.reason = f(&w.reason);
            w.approved_by = f(&w.approved_by);
        }
    }

    /// Whether the finding counts against `--fail-on`: neither waived nor in the baseline.
    pub fn is_open(&self) -> bool {
        self.waiver.is_none() && !self.baselined
    }

    /// `open`, `waived` or `baselined`.
    pub fn status(&self) -> &'static str {
        if self.waiver.is_some() {
            "waived"
        } else if self.baselined {
            "baselined"
        } else {
            "open"
        }
    }

    /// A renderable view with the file's text attached.
    pub fn diagnostic<'a>(&'a self, sources: &'a SourceMap) -> FindingDiagnostic<'a> {
        let file = sources.get(self.file);
        let spans = std::iter::once(self.span).chain(
            self.related
                .iter()
                .filter(|r| r.file == self.file)
                .map(|r| r.span),
        );
        let unshown = spans
            .into_iter()
            .find(|s| !file.snippet_fits(*s))
            .map(|s| file.unshown_location(s));
        FindingDiagnostic {
            finding: self,
            file,
            source: file.named_source(),
            unshown,
        }
    }
}

/// A [`Finding`] ready for miette.
#[derive(Debug)]
pub struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    file: &'a SourceFile,
    source: Arc<crate::source::FileSource>,
    /// Where the finding is, when its snippet is too large to draw.
    unshown: Option<String>,
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let f = self.finding;
        Some(match f.status() {
            "open" => Box::new(&f.policy),
            status => Box::new(format!("{} ({status})", f.policy)),
        })
    }

    fn severity(&self) -> Option<miette::Severity> {
        if !self.finding.is_open() {
            // Set aside: shown as advice, whatever the policy's severity.
            return Some(miette::Severity::Advice);
        }
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let f = self.finding;
        let mut lines: Vec<String> = self.unshown.iter().cloned().collect();
        if let Some(w) = &f.waiver {
            lines.push(format!(
                "waived until {} (approved by {}): {}",
                w.expires, w.approved_by, w.reason
            ));
        } else if f.baselined {
            lines.push("in the baseline: known before, not counted".to_owned());
        }
        lines.extend(f.help.clone());
        lines.extend(f.basis.as_ref().map(|b| format!("basis: {b}")));
        (!lines.is_empty()).then(|| Box::new(lines.join("\n")) as Box<dyn fmt::Display>)
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .url
            .as_ref()
            .map(|u| Box::new(u) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.unshown
            .is_none()
            .then_some(self.source.as_ref() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.unshown.is_some() {
            return None;
        }
        let f = self.finding;
        let primary =
            LabeledSpan::new_primary_with_span(Some(f.label.clone()), self.file.clamp(f.span));
        let related = f
            .related
            .iter()
            .filter(|r| r.file == f.file && r.span != f.span)
            .map(|r| LabeledSpan::new_with_span(Some(r.label.clone()), self.file.clamp(r.span)));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// Statistics of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records checked.
    pub records: usize,
    /// Records checked by kind (`accounts`, `consents`, `service`).
    pub by_kind: std::collections::BTreeMap<&'static str, usize>,
    /// Input files read completely.
    pub files: usize,
    /// Input files that could not be read completely (their records were not checked).
    pub incomplete_files: Vec<String>,
    /// Policies and limits evaluated (not counting those switched off).
    pub policies: usize,
    /// Policies switched off in konform.yaml.
    pub disabled: Vec<String>,
}

/// The outcome of a run: findings, problems and statistics.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// Every file read (inputs, config, packs), for rendering.
    pub sources: SourceMap,
    /// Violations, sorted by file, position and policy.
    pub findings: Vec<Finding>,
    /// Errors, warnings and notes about inputs, configuration and packs.
    pub problems: Vec<Problem>,
    /// Statistics.
    pub stats: Stats,
    /// The evaluation date.
    pub today: String,
    /// Loaded packs: id and version.
    pub packs: Vec<(String, String)>,
    /// The school checked, as konform.yaml names it.
    pub school: Option<SchoolInfo>,
    /// Where personal data stands in the inputs, for [`crate::redact::redact`].
    pub personal: crate::redact::PersonalData,
    /// Whether personal data has been masked in this report.
    pub redacted: bool,
    /// Every policy and limit that was evaluated (not those switched off), by id.
    pub rules: Vec<RuleInfo>,
    /// The inputs whose records were checked, in file order, with what they held.
    pub inputs: Vec<InputInfo>,
}

/// One checked input: a file (or zip member, or bundle's users file) and its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// The file.
    pub file: FileId,
    /// Records read from it, by kind (`accounts`, `consents` …).
    pub records: std::collections::BTreeMap<&'static str, usize>,
}

/// A policy or limit as output formats describe it (SARIF rules, JUnit test cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The full id (`common.generic-account`).
    pub id: String,
    /// The pack.
    pub pack: String,
    /// The severity of its findings.
    pub severity: Severity,
    /// What it finds, in one line: the message with placeholders written as `…`.
    pub summary: String,
    /// How to fix a finding (placeholders as `…`).
    pub help: Option<String>,
    /// The rule or law it rests on.
    pub basis: Option<String>,
    /// A documentation link.
    pub url: Option<String>,
    /// Whether it is a limit (counts records) rather than a per-record policy.
    pub limit: bool,
    /// The record kinds it applies to (`accounts`, `consents` …).
    pub kinds: Vec<&'static str>,
}

/// `template` with every `{placeholder}` written as `…`.
pub fn without_placeholders(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest.get(open..).and_then(|r| r.find('}')) else {
            break;
        };
        out.push_str(rest.get(..open).unwrap_or_default());
        out.push('…');
        rest = rest.get(open + close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The school a run checked, from konform.yaml's `school:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolInfo {
    /// The school number or id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// ISO country code (`DE`), empty when unknown.
    pub country: String,
    /// State (`HH`), empty when unknown.
    pub state: String,
}

impl Report {
    /// A report with these sources, findings and problems and everything else of `self`.
    pub fn with_parts(
        &self,
        sources: SourceMap,
        findings: Vec<Finding>,
        problems: Vec<Problem>,
    ) -> Report {
        Report {
            sources,
            findings,
            problems,
            stats: self.stats.clone(),
            today: self.today.clone(),
            packs: self.packs.clone(),
            school: self.school.clone(),
            personal: self.personal.clone(),
            redacted: self.redacted,
            rules: self.rules.clone(),
            inputs: self.inputs.clone(),
        }
    }

    /// Whether konform could not do its job completely (exit code 2).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// The number of open findings (not waived, not in the baseline) at each severity:
    /// (error, warning, info).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| {
            self.findings
                .iter()
                .filter(|f| f.severity == s && f.is_open())
                .count()
        };
        (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
    }

    /// The number of waived and of baselined findings.
    pub fn set_aside(&self) -> (usize, usize) {
        let waived = self.findings.iter().filter(|f| f.waiver.is_some()).count();
        let baselined = self
            .findings
            .iter()
            .filter(|f| f.waiver.is_none() && f.baselined)
            .count();
        (waived, baselined)
    }

    /// The process exit code for a `--fail-on` threshold: 2 on errors, 1 on findings at or
    /// above the threshold, else 0.
    pub fn exit_code(&self, fail_on: Severity) -> i32 {
        if self.has_errors() {
            2
        } else if self
            .findings
            .iter()
            .any(|f| f.is_open() && f.severity >= fail_on)
        {
            1
        } else {
            0
        }
    }

    /// Sorts findings by file name, position, policy and subject.
    pub fn sort(&mut self) {
        let sources = &self.sources;
        self.findings.sort_by(|a, b| {
            (
                sources.get(a.file).name.as_str(),
                a.span.offset,
                &a.policy,
                &a.subject,
            )
                .cmp(&(
                    sources.get(b.file).name.as_str(),
                    b.span.offset,
                    &b.policy,
                    &b.subject,
                ))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_ellipses() {
        assert_eq!(
            without_placeholders("generic account `{username}` of {key}"),
            "generic account `…` of …"
        );
        assert_eq!(without_placeholders("no {braces"), "no {braces");
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!(Severity::from_name("Warning"), Some(Severity::Warning));
        assert_eq!(Severity::from_name("fatal"), None);
    }

    #[test]
    fn exit_codes_follow_fail_on() {
        let mut r = Report::default();
        assert_eq!(r.exit_code(Severity::Error), 0);
        r.findings.push(Finding::new(
            "p.x",
            Severity::Warning,
            "k",
            FileId(0),
            Span::default(),
            "m",
        ));
        assert_eq!(r.exit_code(Severity::Error), 0);
        assert_eq!(r.exit_code(Severity::Warning), 1);
        // A waived or baselined finding does not count.
        if let Some(f) = r.findings.first_mut() {
            f.baselined = true;
        }
        assert_eq!(r.exit_code(Severity::Warning), 0);
        assert_eq!(r.counts(), (0, 0, 0));
        assert_eq!(r.set_aside(), (0, 1));
        r.problems.push(Problem::error("x", "broken"));
        assert_eq!(r.exit_code(Severity::Warning), 2);
    }
}

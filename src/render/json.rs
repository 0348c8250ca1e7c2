//! JSON output, schema version 1 (documented in README.md, "JSON output").
//!
//! Deterministic: no timestamps, no absolute paths beyond what the user gave. Lines and
//! columns are 1-based (columns count characters); spans are byte offsets into the decoded
//! UTF-8 text of the file.

use std::io::Write as _;

use serde::Serialize;

use super::{Location, location};
use crate::finding::{Finding, Report, Severity};
use crate::problem::Problem;
use crate::source::SourceMap;

/// The version of the JSON schema; bumped on incompatible changes.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a, 'f> {
    version: u32,
    tool: Tool,
    today: &'a str,
    redacted: bool,
    fail_on: &'static str,
    exit_code: i32,
    packs: Vec<PackInfo<'a>>,
    summary: Summary<'a>,
    findings: Lazy<'a, 'f, Finding, FindingJson<'a>>,
    problems: Lazy<'a, 'f, Problem, ProblemJson<'a>>,
}

/// Items converted one by one as they are written (a report of a million findings is not
/// copied first).
struct Lazy<'a, 'f, T, J> {
    items: &'a [T],
    convert: &'f dyn Fn(&'a T) -> J,
}

impl<T, J: Serialize> Serialize for Lazy<'_, '_, T, J> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.items.iter().map(self.convert))
    }
}

fn finding_json<'a>(sources: &'a SourceMap, f: &'a Finding) -> FindingJson<'a> {
    FindingJson {
        policy: &f.policy,
        pack: &f.pack,
        severity: f.severity.name(),
        message: &f.message,
        subject: &f.subject,
        kind: f.kind.entity_type(),
        label: &f.label,
        location: location(sources, f.file, f.span),
        help: f.help.as_deref(),
        basis: f.basis.as_deref(),
        url: f.url.as_deref(),
        related: f
            .related
            .iter()
            .map(|r| RelatedJson {
                subject: &r.subject,
                label: &r.label,
                location: location(sources, r.file, r.span),
            })
            .collect(),
        fingerprint: &f.fingerprint,
        status: f.status(),
        waiver: f.waiver.as_deref().map(|w| WaiverJson {
            reason: &w.reason,
            approved_by: &w.approved_by,
            expires: &w.expires,
            location: location(sources, w.file, w.span),
        }),
    }
}

fn problem_json<'a>(sources: &'a SourceMap, p: &'a Problem) -> ProblemJson<'a> {
    ProblemJson {
        code: &p.code,
        level: p.level.name(),
        message: &p.message,
        file: p.file.map(|f| sources.get(f).name.as_str()),
        labels: p
            .file
            .map(|file| {
                p.labels
                    .iter()
                    .map(|l| LabelJson {
                        text: &l.text,
                        primary: l.primary,
                        location: location(sources, file, l.span),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        help: p.help.as_deref(),
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct PackInfo<'a> {
    id: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary<'a> {
    errors: usize,
    warnings: usize,
    infos: usize,
    records: usize,
    records_by_kind: &'a std::collections::BTreeMap<&'static str, usize>,
    files: usize,
    policies: usize,
    waived: usize,
    baselined: usize,
    incomplete_inputs: &'a [String],
    disabled_policies: &'a [String],
    problems: usize,
}

#[derive(Serialize)]
struct RelatedJson<'a> {
    subject: &'a str,
    label: &'a str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    policy: &'a str,
    pack: &'a str,
    severity: &'static str,
    message: &'a str,
    subject: &'a str,
    kind: &'static str,
    label: &'a str,
    location: Location<'a>,
    help: Option<&'a str>,
    basis: Option<&'a str>,
    url: Option<&'a str>,
    related: Vec<RelatedJson<'a>>,
    fingerprint: &'a str,
    status: &'static str,
    waiver: Option<WaiverJson<'a>>,
}

#[derive(Serialize)]
struct WaiverJson<'a> {
    reason: &'a str,
    approved_by: &'a str,
    expires: &'a str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct LabelJson<'a> {
    text: &'a str,
    primary: bool,
    location: Location<'a>,
}

#[derive(Serialize)]
struct ProblemJson<'a> {
    code: &'a str,
    level: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    labels: Vec<LabelJson<'a>>,
    help: Option<&'a str>,
}

/// Writes the report as pretty-printed JSON (schema version 1) to `out`, as it is converted:
/// the text of a large report is never held whole. Errors are those of `out`.
pub fn write_json(
    report: &Report,
    fail_on: Severity,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let (errors, warnings, infos) = report.counts();
    let (waived, baselined) = report.set_aside();
    let doc = Doc {
        version: JSON_VERSION,
        tool: Tool {
            name: "konform",
            version: env!("CARGO_PKG_VERSION"),
        },
        today: &report.today,
        redacted: report.redacted,
        fail_on: fail_on.name(),
        exit_code: report.exit_code(fail_on),
        packs: report
            .packs
            .iter()
            .map(|(id, version)| PackInfo { id, version })
            .collect(),
        summary: Summary {
            errors,
            warnings,
            infos,
            waived,
            baselined,
            records: report.stats.records,
            records_by_kind: &report.stats.by_kind,
            files: report.stats.files,
            policies: report.stats.policies,
            incomplete_inputs: &report.stats.incomplete_files,
            disabled_policies: &report.stats.disabled,
            problems: report.problems.iter().filter(|p| p.is_error()).count(),
        },
        findings: Lazy {
            items: &report.findings,
            convert: &|f| finding_json(&report.sources, f),
        },
        problems: Lazy {
            items: &report.problems,
            convert: &|p| problem_json(&report.sources, p),
        },
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, &doc)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Renders the report as pretty-printed JSON (schema version 1).
pub fn json(report: &Report, fail_on: Severity) -> String {
    let mut text = Vec::new();
    match write_json(report, fail_on, &mut text) {
        Ok(()) => String::from_utf8(text).unwrap_or_else(|e| {
            format!(
                "{{\"version\": {JSON_VERSION}, \"error\": {:?}}}\n",
                e.to_string()
            )
        }),
        Err(e) => format!(
            "{{\"version\": {JSON_VERSION}, \"error\": {:?}}}\n",
            e.to_string()
        ),
    }
}

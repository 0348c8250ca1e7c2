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

/// The document's fields before its findings and problems (see [`write_json`]).
#[derive(Serialize)]
struct Head<'a> {
    version: u32,
    tool: Tool,
    today: &'a str,
    redacted: bool,
    fail_on: &'static str,
    exit_code: i32,
    packs: Vec<PackInfo<'a>>,
    summary: Summary<'a>,
}

/// Items written together: converted and serialized on every core, written in order.
const ITEMS_AT_ONCE: usize = 1024;

/// Writes `items` as the pretty-printed array that is the value of a field of the document
/// (indented one level), each item serialized alone (on every core, [`ITEMS_AT_ONCE`] at a
/// time) and indented to its place: serde_json's pretty printer indents only after the
/// line breaks it writes between tokens (a string holds none: it writes `\n`), so an item
/// serialized alone is the item serialized in place with two more levels of indentation
/// after each line break.
fn write_items<'a, T: Sync, J: Serialize>(
    out: &mut dyn std::io::Write,
    items: &'a [T],
    convert: &(dyn Fn(&'a T) -> J + Sync),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (n, window) in items.chunks(ITEMS_AT_ONCE).enumerate() {
        let pieces = window
            .par_chunks(ITEMS_AT_ONCE.div_ceil(rayon::current_num_threads().max(1) * 4))
            .enumerate()
            .map(|(i, chunk)| -> std::io::Result<Vec<u8>> {
                let mut piece = Vec::new();
                let mut alone = Vec::new();
                for (j, item) in chunk.iter().enumerate() {
                    let first = n == 0 && i == 0 && j == 0;
                    piece.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    alone.clear();
                    serde_json::to_writer_pretty(&mut alone, &convert(item))?;
                    for (k, line) in alone.split(|b| *b == b'\n').enumerate() {
                        if k > 0 {
                            piece.extend_from_slice(b"\n    ");
                        }
                        piece.extend_from_slice(line);
                    }
                }
                Ok(piece)
            })
            .collect::<std::io::Result<Vec<Vec<u8>>>>()?;
        for piece in pieces {
            out.write_all(&piece)?;
        }
    }
    out.write_all(b"\n  ]")
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

/// The document's fields before its findings and problems.
fn head(report: &Report, fail_on: Severity) -> Head<'_> {
    let (errors, warnings, infos) = report.counts();
    let (waived, baselined) = report.set_aside();
    Head {
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
    }
}

/// Writes the report as pretty-printed JSON (schema version 1) to `out`, as it is converted:
/// the text of a large report is never held whole. Errors are those of `out`.
pub fn write_json(
    report: &Report,
    fail_on: Severity,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let head = head(report, fail_on);
    // The head is an object of its own: its closing line is replaced by the two arrays.
    let mut text = serde_json::to_vec_pretty(&head)?;
    if text.ends_with(b"\n}") {
        text.truncate(text.len() - 2);
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    out.write_all(&text)?;
    out.write_all(b",\n  \"findings\": ")?;
    write_items(&mut out, &report.findings, &|f| {
        finding_json(&report.sources, f)
    })?;
    out.write_all(b",\n  \"problems\": ")?;
    write_items(&mut out, &report.problems, &|p| {
        problem_json(&report.sources, p)
    })?;
    out.write_all(b"\n}\n")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::AppliedWaiver;
    use crate::source::{SourceFile, Span};

    /// The document as one value, serialized at once: what [`write_json`] writes piece by
    /// piece.
    #[derive(Serialize)]
    struct Whole<'a> {
        #[serde(flatten)]
        head: Head<'a>,
        findings: Vec<FindingJson<'a>>,
        problems: Vec<ProblemJson<'a>>,
    }

    fn whole(report: &Report, fail_on: Severity) -> String {
        let doc = Whole {
            head: head(report, fail_on),
            findings: report
                .findings
                .iter()
                .map(|f| finding_json(&report.sources, f))
                .collect(),
            problems: report
                .problems
                .iter()
                .map(|p| problem_json(&report.sources, p))
                .collect(),
        };
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| panic!("{e}")) + "\n"
    }

    #[test]
    fn findings_written_in_pieces_are_the_document_written_at_once() {
        let text = "Kennung;Name\nP1;Anna \"Ann\" Berg\nP2;Zoë\n";
        let mut report = Report::default();
        let file = report.sources.add(SourceFile::new("a.csv", None, text));
        let finding = |n: usize| {
            let mut f = Finding::new(
                if n.is_multiple_of(2) {
                    "common.generic-account"
                } else {
                    "iserv.videoconference-without-consent"
                },
                if n.is_multiple_of(3) {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                &format!("P{n}"),
                file,
                Span::new(13 + n % 3, 2),
                "",
            );
            f.message = format!("finding {n}: line\nbreak, \"quote\", tab\t and {{}} [] ");
            f.help = n.is_multiple_of(2).then(|| "help with\nlines".to_owned());
            if n.is_multiple_of(5) {
                f.related.push(crate::finding::Related {
                    subject: format!("P{n}"),
                    label: "the other row".into(),
                    file,
                    span: Span::new(25, 3),
                });
            }
            if n.is_multiple_of(7) {
                f.waiver = Some(Box::new(AppliedWaiver {
                    reason: "known".into(),
                    approved_by: "DPO".into(),
                    expires: "2027-01-01".into(),
                    file,
                    span: Span::new(0, 7),
                }));
            }
            f
        };
        for n in [
            0,
            1,
            2,
            ITEMS_AT_ONCE - 1,
            ITEMS_AT_ONCE,
            2 * ITEMS_AT_ONCE + 3,
        ] {
            report.findings = (0..n).map(finding).collect();
            report.problems = (0..n % 3)
                .map(|i| {
                    crate::problem::Problem::error("input::bad-date", format!("problem {i}\n"))
                        .in_file(file)
                        .at(file, Span::new(13, 2), "here")
                        .with_help("a hint")
                })
                .collect();
            let mut written = Vec::new();
            write_json(&report, Severity::Error, &mut written).unwrap_or_else(|e| panic!("{e}"));
            let written = String::from_utf8(written).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(written, whole(&report, Severity::Error), "{n} findings");
        }
    }
}

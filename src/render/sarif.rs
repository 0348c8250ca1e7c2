//! SARIF 2.1.0 output, for code-scanning user interfaces (GitHub code scanning first).
//!
//! The document follows the OASIS *Static Analysis Results Interchange Format (SARIF) Version
//! 2.1.0* standard and validates against its JSON schema (`sarif-schema-2.1.0.json`, tested in
//! `tests/integration/sarif_schema.rs`). Within the standard it uses the subset GitHub code
//! scanning documents in "SARIF support for code scanning":
//!
//! - One run. `tool.driver` is konform; its `rules` are every policy and limit that was evaluated
//!   (also those without findings), sorted by id. A rule's `name` is a PascalCase "friendly
//!   name" of the part after the pack (`common.generic-account` → `GenericAccount`), as the SARIF
//!   validator's rule SARIF2012 recommends; GitHub lists it in its rule filter. The loaded packs
//!   are `tool.extensions`.
//! - One result per finding. Its location points at the offending cell or key, with the text
//!   there as `snippet` and the whole record line(s) as `contextRegion`; limits list every
//!   counted record as `relatedLocations`.
//! - `partialFingerprints` hold konform's fingerprint (a digest of policy id and subject key,
//!   see [`crate::finding::fingerprint`]) under `konform/v1`, and the same digest as
//!   `primaryLocationLineHash`, the one key GitHub reads: an alert then follows its record when
//!   rows move or other cells of the row change, instead of the hash of the line's text that
//!   GitHub would compute.
//! - Files are relative URI references (percent-encoded, `/`-separated) against `%SRCROOT%`,
//!   the folder konform ran in. Files of konform's embedded packs are relative to
//!   `KONFORM_PACKS`. Columns count Unicode code points (`columnKind`).
//! - konform's own errors and warnings (problems) are `toolExecutionNotifications` of the
//!   invocation, whose `executionSuccessful` is false when konform could not check everything.
//! - A waived finding is a result with an accepted external `suppression` whose justification
//!   names the reason, the approver and the expiry date, and whose location is the waiver entry
//!   (no snippet: the entry holds the record key and the approver's name, which redaction does
//!   not mask in the waiver file). Once waivers were read (or any finding is waived), every
//!   other result has an empty `suppressions` array, as SARIF wants either all or none.
//! - With a baseline (any finding is in it), every result has a `baselineState`: `unchanged`
//!   for findings in the baseline, `new` for the others. Without one, none has.
//! - `run.properties` say whether personal data was masked (`redacted`), the evaluation date,
//!   the school, and how many findings were set aside (`waived`, `baselined`).
//!
//! The output is deterministic: no timestamp unless [`RenderContext::run_at`] is given, no
//! absolute paths unless the user named files by absolute path.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::{RenderContext, TOOL_NAME, TOOL_VERSION};
use crate::finding::{AppliedWaiver, Finding, Report, RuleInfo, Severity};
use crate::problem::{Problem, ProblemLevel};
use crate::source::{FileId, FileRole, SourceFile, Span};

/// The `$schema` of the document, as GitHub's documentation gives it.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// konform's home page, the driver's `informationUri`.
pub const PROJECT_URL: &str = "https://github.com/konform/konform";
/// The key of konform's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "konform/v1";
/// The URI base of files named relative to the folder konform ran in.
pub const SRCROOT: &str = "%SRCROOT%";
/// The URI base of the files of konform's embedded packs.
pub const PACKS_BASE: &str = "KONFORM_PACKS";

/// GitHub rejects a result with more than 1,000 locations.
const MAX_RELATED: usize = 1000;
/// GitHub's limit on rule descriptions.
const MAX_DESCRIPTION: usize = 1024;
/// GitHub's limit on rule names.
const MAX_NAME: usize = 255;
/// Records longer than this many lines get no context region.
const MAX_CONTEXT_LINES: usize = 20;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation<'a>>,
    original_uri_base_ids: BTreeMap<&'static str, BaseId>,
    artifacts: Vec<Artifact>,
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extensions: Vec<Extension<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Extension<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Level,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
    kinds: Vec<&'static str>,
    limit: bool,
}

#[derive(Serialize)]
struct BaseId {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
}

#[derive(Serialize)]
struct Artifact {
    location: ArtifactLocation,
    roles: [&'static str; 1],
    encoding: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    hashes: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct Snippet {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
    end_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Snippet>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<Vec<Suppression>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    properties: ResultProperties<'a>,
}

/// A waiver as SARIF states it: accepted, kept outside the checked files.
#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    location: Location,
}

/// What the run knows about set-aside findings: whether waivers were read (every result then
/// has `suppressions`) and whether a baseline was used (every result then has a
/// `baselineState`).
#[derive(Clone, Copy)]
struct SetAside {
    waivers: bool,
    baseline: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    subject: &'a str,
    pack: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    related_omitted: Option<usize>,
}

#[derive(Serialize)]
struct DescriptorRef<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct NotificationProperties<'a> {
    help: &'a str,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Text,
    descriptor: DescriptorRef<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<NotificationProperties<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    command_line: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time_utc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    redacted: bool,
    today: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    school: Option<&'a str>,
    fail_on: &'static str,
    waived: usize,
    baselined: usize,
}

/// The SARIF `level` of a finding's severity: error → `error`, warning → `warning`, info →
/// `note`.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The SARIF `level` of a problem: error, warning or note.
fn problem_level(level: ProblemLevel) -> &'static str {
    match level {
        ProblemLevel::Error => "error",
        ProblemLevel::Warning => "warning",
        ProblemLevel::Note => "note",
    }
}

/// GitHub's `problem.severity` of a rule: error, warning or recommendation.
fn problem_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "recommendation",
    }
}

/// `path` as a URI path: every byte but unreserved characters (RFC 3986) and `/` is
/// percent-encoded (UTF-8, uppercase hex), so `Schüler Liste.csv` becomes
/// `Sch%C3%BCler%20Liste.csv`.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Whether a file is one of konform's embedded pack files (not on disk).
fn is_embedded(file: &SourceFile) -> bool {
    file.role == FileRole::Policy && file.path.is_none()
}

/// The artifact location of a file: a relative reference against `%SRCROOT%` (or
/// `KONFORM_PACKS` for embedded packs), or a `file:` URI when the name is absolute.
fn artifact_location(file: &SourceFile, index: Option<usize>) -> ArtifactLocation {
    let name = file.name.replace('\\', "/");
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 3
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.get(1) == Some(&b':')
        && bytes.get(2) == Some(&b'/');
    let (uri, uri_base_id) = if is_embedded(file) {
        (uri_path(name.trim_start_matches('/')), Some(PACKS_BASE))
    } else if name.starts_with('/') {
        (format!("file://{}", uri_path(&name)), None)
    } else if drive {
        let (letter, rest) = name.split_at(2);
        (format!("file:///{letter}{}", uri_path(rest)), None)
    } else {
        (uri_path(&name), Some(SRCROOT))
    };
    ArtifactLocation {
        uri,
        uri_base_id,
        index,
    }
}

/// `span` clamped to the text and without trailing line breaks (unless nothing else is left),
/// so that a region ends on the line it starts on.
fn trimmed(file: &SourceFile, span: Span) -> Span {
    let span = file.clamp(span);
    let text = file.slice(span);
    let kept = text.trim_end_matches(['\n', '\r']).len();
    if kept == 0 {
        span
    } else {
        Span::new(span.offset, kept)
    }
}

/// The region of `span` with the text there as snippet.
fn region(file: &SourceFile, span: Span) -> Region {
    let span = trimmed(file, span);
    let (start_line, start_column) = file.line_col(span.offset);
    let (end_line, end_column) = file.line_col(span.end());
    let text = file.slice(span);
    Region {
        start_line,
        start_column: Some(start_column),
        end_line,
        end_column: Some(end_column),
        snippet: (!text.is_empty()).then(|| Snippet {
            text: text.to_owned(),
        }),
    }
}

/// The whole lines of `record` (and `span`), when they are more than `span` itself (SARIF
/// wants a proper superset) and not too many.
fn context_region(file: &SourceFile, span: Span, record: Span) -> Option<Region> {
    let span = trimmed(file, span);
    let record = trimmed(file, record);
    let start = span.offset.min(record.offset);
    let end = span.end().max(record.end());
    let (line_start, _) = file.line_bounds(start);
    let (_, line_end) = file.line_bounds(end);
    let lines = file.get(line_start, line_end)?.trim_end_matches('\r');
    let line_end = line_start + lines.len();
    if line_start == span.offset && line_end <= span.end() {
        return None;
    }
    let (start_line, _) = file.line_col(line_start);
    let (end_line, _) = file.line_col(line_end);
    if end_line.saturating_sub(start_line) >= MAX_CONTEXT_LINES {
        return None;
    }
    Some(Region {
        start_line,
        start_column: None,
        end_line,
        end_column: None,
        snippet: Some(Snippet {
            text: lines.to_owned(),
        }),
    })
}

/// `text` cut to at most `max` characters (an ellipsis marks the cut).
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` in PascalCase: `generic-account` → `GenericAccount`.
fn pascal_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// The id of a rule without its pack: `common.generic-account` → `generic-account`.
fn local_id<'a>(id: &'a str, pack: &str) -> &'a str {
    id.strip_prefix(pack)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|rest| !rest.is_empty())
        .or_else(|| id.rsplit('.').next())
        .unwrap_or(id)
}

/// A web link usable as `helpUri`: absolute http(s), no spaces or quotes.
fn web_uri(url: &str) -> Option<String> {
    let url = url.trim();
    let scheme = url.starts_with("https://") || url.starts_with("http://");
    let clean = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'));
    (scheme && clean).then(|| url.to_owned())
}

/// The rules of the report plus a stand-in for every policy that has findings but no
/// [`RuleInfo`], sorted by id.
fn rule_infos(report: &Report) -> Vec<RuleInfo> {
    let mut rules = report.rules.clone();
    for f in &report.findings {
        if !rules.iter().any(|r| r.id == f.policy) {
            rules.push(RuleInfo {
                id: f.policy.clone(),
                pack: f.pack.clone(),
                severity: f.severity,
                summary: f.policy.clone(),
                help: None,
                basis: f.basis.clone(),
                url: f.url.clone(),
                limit: false,
                kinds: vec![f.kind.name()],
            });
        }
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    rules.dedup_by(|a, b| a.id == b.id);
    rules
}

/// The friendly names of `rules`: PascalCase of the id without the pack, with the pack in front
/// where two rules would otherwise share a name.
fn rule_names(rules: &[RuleInfo]) -> Vec<String> {
    let local: Vec<String> = rules
        .iter()
        .map(|r| pascal_case(local_id(&r.id, &r.pack)))
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for n in &local {
        *count.entry(n.as_str()).or_default() += 1;
    }
    rules
        .iter()
        .zip(&local)
        .map(|(r, n)| {
            if count.get(n.as_str()).copied().unwrap_or(0) > 1 {
                format!("{}{n}", pascal_case(&r.pack))
            } else {
                n.clone()
            }
        })
        .collect()
}

fn rule(info: &RuleInfo, name: String) -> Rule {
    let summary = if info.summary.trim().is_empty() {
        info.id.as_str()
    } else {
        info.summary.trim()
    };
    let full = match &info.basis {
        Some(basis) => format!("{}. Legal basis: {basis}", summary.trim_end_matches('.')),
        None => summary.to_owned(),
    };
    let help_uri = info.url.as_deref().and_then(web_uri);
    let what = info.help.as_deref().unwrap_or(summary);
    let mut text = what.to_owned();
    let mut markdown = what.to_owned();
    if let Some(basis) = &info.basis {
        let _ = write!(text, "\n\nLegal basis: {basis}");
        let _ = write!(markdown, "\n\n**Legal basis:** {basis}");
    }
    if let Some(url) = &help_uri {
        let _ = write!(text, "\n\nMore: {url}");
        let _ = write!(markdown, "\n\n[More about this rule]({url})");
    }
    let mut tags: Vec<String> = vec![info.pack.clone()];
    for tag in ["compliance", "privacy"] {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    if info.limit && !tags.iter().any(|t| t == "limit") {
        tags.push("limit".to_owned());
    }
    Rule {
        id: info.id.clone(),
        name: (!name.is_empty()).then(|| truncate(&name, MAX_NAME)),
        short_description: Text {
            text: truncate(summary, MAX_DESCRIPTION),
        },
        full_description: Text {
            text: truncate(&full, MAX_DESCRIPTION),
        },
        help: Help { text, markdown },
        help_uri,
        default_configuration: Level {
            level: level(info.severity),
        },
        properties: RuleProperties {
            tags,
            precision: "high",
            problem_severity: problem_severity(info.severity),
            kinds: info.kinds.clone(),
            limit: info.limit,
        },
    }
}

/// Where files stand in `run.artifacts`: inputs, configuration and pack files, each name once,
/// in the order they were read.
fn artifacts(report: &Report) -> (Vec<Artifact>, HashMap<FileId, usize>) {
    let mut list = Vec::new();
    let mut index = HashMap::new();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (id, file) in report.sources.iter() {
        let role = match file.role {
            FileRole::Input => "analysisTarget",
            FileRole::Config | FileRole::Waiver => "userSpecifiedConfiguration",
            FileRole::Policy => "extension",
            FileRole::Generated => continue,
        };
        if let Some(&i) = by_name.get(file.name.as_str()) {
            index.insert(id, i);
            continue;
        }
        let i = list.len();
        by_name.insert(&file.name, i);
        index.insert(id, i);
        let mut hashes = BTreeMap::new();
        if let Some(sha) = &file.sha256 {
            hashes.insert("sha-256", sha.clone());
        }
        list.push(Artifact {
            location: artifact_location(file, None),
            roles: [role],
            encoding: file.encoding,
            hashes,
        });
    }
    (list, index)
}

/// A location in `file` at `span` (no region when `span` is `None`). Regions in waiver files
/// get no snippet: a waiver entry holds a record key and the approver's name, and redaction
/// masks neither in the waiver file's text.
fn location(
    report: &Report,
    index: &HashMap<FileId, usize>,
    file: FileId,
    span: Option<Span>,
) -> PhysicalLocation {
    let source = report.sources.get(file);
    let waiver_file = source.role == FileRole::Waiver;
    PhysicalLocation {
        artifact_location: artifact_location(source, index.get(&file).copied()),
        region: span.map(|s| {
            let mut r = region(source, s);
            if waiver_file {
                r.snippet = None;
            }
            r
        }),
        context_region: None,
    }
}

/// The justification of a waiver: `reason (approved by …, until YYYY-MM-DD)`.
fn justification(w: &AppliedWaiver) -> String {
    format!(
        "{} (approved by {}, until {})",
        w.reason, w.approved_by, w.expires
    )
}

/// The suppression of a waived finding.
fn suppression(report: &Report, index: &HashMap<FileId, usize>, w: &AppliedWaiver) -> Suppression {
    Suppression {
        kind: "external",
        status: "accepted",
        justification: justification(w),
        location: Location {
            id: None,
            physical_location: location(report, index, w.file, Some(w.span)),
            message: Some(Text {
                text: "the waiver".into(),
            }),
        },
    }
}

fn result<'a>(
    report: &'a Report,
    f: &'a Finding,
    rule_index: Option<usize>,
    index: &HashMap<FileId, usize>,
    occurrence: usize,
    set_aside: SetAside,
) -> SarifResult<'a> {
    let source = report.sources.get(f.file);
    let mut primary = location(report, index, f.file, Some(f.span));
    primary.context_region = context_region(source, f.span, f.record_span);
    let related_locations = f
        .related
        .iter()
        .take(MAX_RELATED)
        .enumerate()
        .map(|(i, r)| {
            let text = if r.subject.is_empty() || r.label.contains(&r.subject) {
                r.label.clone()
            } else if r.label.is_empty() {
                r.subject.clone()
            } else {
                format!("{} ({})", r.label, r.subject)
            };
            Location {
                id: Some(i + 1),
                physical_location: location(report, index, r.file, Some(r.span)),
                message: (!text.is_empty()).then_some(Text { text }),
            }
        })
        .collect();
    let mut partial_fingerprints = BTreeMap::new();
    partial_fingerprints.insert(FINGERPRINT_KEY, f.fingerprint.clone());
    partial_fingerprints.insert(
        "primaryLocationLineHash",
        format!("{}:{occurrence}", f.fingerprint),
    );
    SarifResult {
        rule_id: &f.policy,
        rule_index,
        level: level(f.severity),
        message: Text {
            text: f.message.clone(),
        },
        locations: vec![Location {
            id: None,
            physical_location: primary,
            message: (!f.label.is_empty()).then(|| Text {
                text: f.label.clone(),
            }),
        }],
        related_locations,
        partial_fingerprints,
        suppressions: set_aside.waivers.then(|| {
            f.waiver
                .as_deref()
                .map(|w| suppression(report, index, w))
                .into_iter()
                .collect()
        }),
        baseline_state: set_aside
            .baseline
            .then_some(if f.baselined { "unchanged" } else { "new" }),
        properties: ResultProperties {
            subject: &f.subject,
            pack: &f.pack,
            kind: f.kind.entity_type(),
            related_omitted: (f.related.len() > MAX_RELATED).then(|| f.related.len() - MAX_RELATED),
        },
    }
}

fn notification<'a>(
    report: &Report,
    p: &'a Problem,
    index: &HashMap<FileId, usize>,
) -> Notification<'a> {
    Notification {
        level: problem_level(p.level),
        message: Text {
            text: p.message.clone(),
        },
        descriptor: DescriptorRef { id: &p.code },
        locations: p
            .file
            .map(|file| Location {
                id: None,
                physical_location: location(report, index, file, p.primary_span()),
                message: None,
            })
            .into_iter()
            .collect(),
        properties: p
            .help
            .as_deref()
            .map(|help| NotificationProperties { help }),
    }
}

/// `run_at` (RFC 3339) as SARIF wants it: UTC with a `Z`.
fn utc(run_at: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(run_at.trim())
        .ok()
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        })
}

/// Renders the report as a SARIF 2.1.0 log with one run (see the module documentation).
pub fn sarif(report: &Report, ctx: &RenderContext) -> String {
    let infos = rule_infos(report);
    let names = rule_names(&infos);
    let rule_index: HashMap<&str, usize> = infos
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let rules = infos
        .iter()
        .zip(names)
        .map(|(info, name)| rule(info, name))
        .collect();
    let (artifacts, index) = artifacts(report);
    let set_aside = SetAside {
        waivers: report.findings.iter().any(|f| f.waiver.is_some())
            || report
                .sources
                .iter()
                .any(|(_, f)| f.role == FileRole::Waiver),
        baseline: report.findings.iter().any(|f| f.baselined),
    };
    let (waived, baselined) = report.set_aside();
    let mut seen: HashMap<(FileId, &str), usize> = HashMap::new();
    let results = report
        .findings
        .iter()
        .map(|f| {
            let n = seen.entry((f.file, f.fingerprint.as_str())).or_default();
            *n += 1;
            result(
                report,
                f,
                rule_index.get(f.policy.as_str()).copied(),
                &index,
                *n,
                set_aside,
            )
        })
        .collect();
    let mut bases = BTreeMap::new();
    bases.insert(
        SRCROOT,
        BaseId {
            description: Text {
                text: "The folder konform ran in; file names are relative to it.".into(),
            },
        },
    );
    if report.sources.iter().any(|(_, f)| is_embedded(f)) {
        bases.insert(
            PACKS_BASE,
            BaseId {
                description: Text {
                    text: "The policy packs embedded in konform.".into(),
                },
            },
        );
    }
    let log = Log {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: TOOL_NAME,
                    version: TOOL_VERSION,
                    semantic_version: TOOL_VERSION,
                    information_uri: PROJECT_URL,
                    rules,
                },
                extensions: report
                    .packs
                    .iter()
                    .map(|(name, version)| Extension { name, version })
                    .collect(),
            },
            invocations: vec![Invocation {
                execution_successful: !report.has_errors(),
                exit_code: report.exit_code(ctx.fail_on),
                command_line: ctx.command.as_deref(),
                start_time_utc: ctx.run_at.as_deref().and_then(utc),
                tool_execution_notifications: report
                    .problems
                    .iter()
                    .map(|p| notification(report, p, &index))
                    .collect(),
            }],
            original_uri_base_ids: bases,
            artifacts,
            results,
            column_kind: "unicodeCodePoints",
            properties: RunProperties {
                redacted: report.redacted,
                today: &report.today,
                school: report
                    .school
                    .as_ref()
                    .map(|s| s.id.as_str())
                    .filter(|id| !id.is_empty()),
                fail_on: ctx.fail_on.name(),
                waived,
                baselined,
            },
        }],
    };
    match serde_json::to_string_pretty(&log) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => {
            let message = serde_json::to_string(&e.to_string()).unwrap_or_default();
            format!(
                "{{\"$schema\": \"{SARIF_SCHEMA}\", \"version\": \"{SARIF_VERSION}\", \"runs\": [{{\"tool\": {{\"driver\": {{\"name\": \"{TOOL_NAME}\"}}}}, \"invocations\": [{{\"executionSuccessful\": false, \"toolExecutionNotifications\": [{{\"level\": \"error\", \"message\": {{\"text\": {message}}}}}]}}], \"results\": []}}]}}\n"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Related, fingerprint};

    use crate::source::{SourceFile, SourceMap};

    fn finding(file: FileId, span: Span, record: Span, subject: &str) -> Finding {
        Finding {
            label: "generic name".into(),
            record_span: record,
            help: Some("give every person an own account".into()),
            basis: Some("GDPR Art. 32".into()),
            ..Finding::new(
                "common.generic-account",
                Severity::Warning,
                subject,
                file,
                span,
                format!("generic account `{subject}`"),
            )
        }
    }

    fn rule_info(id: &str, severity: Severity) -> RuleInfo {
        RuleInfo {
            id: id.into(),
            pack: id.split('.').next().unwrap_or_default().into(),
            severity,
            summary: "generic account `…`".into(),
            help: Some("give every person an own account".into()),
            basis: Some("GDPR Art. 32".into()),
            url: Some("https://example.org/rules/x".into()),
            limit: false,
            kinds: vec!["accounts"],
        }
    }

    fn doc(report: &Report) -> serde_json::Value {
        let out = sarif(report, &RenderContext::default());
        assert!(out.ends_with('\n'));
        match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => panic!("not JSON ({e}): {out}"),
        }
    }

    fn report_with(text: &str, name: &str) -> (Report, FileId) {
        let mut sources = SourceMap::new();
        let file = sources.add(
            SourceFile::new(name, Some(name.into()), text)
                .with_origin(FileRole::Input, text.as_bytes()),
        );
        let report = Report {
            sources,
            today: "2026-11-22".into(),
            ..Report::default()
        };
        (report, file)
    }

    #[test]
    fn levels_map() {
        assert_eq!(level(Severity::Error), "error");
        assert_eq!(level(Severity::Warning), "warning");
        assert_eq!(level(Severity::Info), "note");
        let report = Report {
            rules: vec![
                rule_info("p.a", Severity::Error),
                rule_info("p.b", Severity::Warning),
                rule_info("p.c", Severity::Info),
            ],
            ..Report::default()
        };
        let d = doc(&report);
        let rules = &d["runs"][0]["tool"]["driver"]["rules"];
        let levels: Vec<&str> = (0..3)
            .map(|i| {
                rules[i]["defaultConfiguration"]["level"]
                    .as_str()
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(levels, ["error", "warning", "note"]);
        assert_eq!(rules[2]["properties"]["problem.severity"], "recommendation");
    }

    #[test]
    fn fingerprints_do_not_depend_on_the_line() {
        let text = "id;name\nadmin;x\n";
        let moved = "id;name\nkarl;y\nadmin;x\n";
        let (mut a, fa) = report_with(text, "a.csv");
        a.findings
            .push(finding(fa, Span::new(8, 5), Span::new(8, 7), "admin"));
        let (mut b, fb) = report_with(moved, "a.csv");
        b.findings
            .push(finding(fb, Span::new(15, 5), Span::new(15, 7), "admin"));
        let (da, db) = (doc(&a), doc(&b));
        let ra = &da["runs"][0]["results"][0];
        let rb = &db["runs"][0]["results"][0];
        assert_eq!(
            ra["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        assert_eq!(
            rb["locations"][0]["physicalLocation"]["region"]["startLine"],
            3
        );
        assert_eq!(ra["partialFingerprints"], rb["partialFingerprints"]);
        assert_eq!(
            ra["partialFingerprints"][FINGERPRINT_KEY],
            fingerprint("common.generic-account", "admin")
        );
    }

    #[test]
    fn regions_snippets_and_context() {
        let (mut r, f) = report_with("id;name\nadmin;Zoë\n", "a.csv");
        r.findings
            .push(finding(f, Span::new(14, 4), Span::new(8, 11), "admin"));
        let d = doc(&r);
        let loc = &d["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["region"]["startColumn"], 7);
        assert_eq!(loc["region"]["endColumn"], 10);
        assert_eq!(loc["region"]["snippet"]["text"], "Zoë");
        assert_eq!(loc["contextRegion"]["startLine"], 2);
        assert_eq!(loc["contextRegion"]["snippet"]["text"], "admin;Zoë");
        assert_eq!(loc["artifactLocation"]["index"], 0);
        assert_eq!(loc["artifactLocation"]["uriBaseId"], SRCROOT);
        // A span that is the whole line gets no context region (it must be a proper superset).
        let (mut r, f) = report_with("id;name\nadmin;x\n", "a.csv");
        r.findings
            .push(finding(f, Span::new(8, 8), Span::new(8, 8), "admin"));
        let d = doc(&r);
        let loc = &d["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["region"]["endLine"], 2);
        assert!(loc.get("contextRegion").is_none());
    }

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(
            uri_path("Schüler Liste/ä b.csv"),
            "Sch%C3%BCler%20Liste/%C3%A4%20b.csv"
        );
        assert_eq!(uri_path("export.zip!a/b.csv"), "export.zip%21a/b.csv");
        let (mut r, f) = report_with("id\nadmin\n", "exports/Schüler Liste.csv");
        r.findings
            .push(finding(f, Span::new(3, 5), Span::new(3, 5), "admin"));
        let d = doc(&r);
        let loc = &d["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"],
            "exports/Sch%C3%BCler%20Liste.csv"
        );
        assert_eq!(
            d["runs"][0]["artifacts"][0]["location"]["uri"],
            "exports/Sch%C3%BCler%20Liste.csv"
        );
        let abs = SourceFile::new("/srv/a b.csv", Some("/srv/a b.csv".into()), "");
        assert_eq!(artifact_location(&abs, None).uri, "file:///srv/a%20b.csv");
        let win = SourceFile::new("C:/x/a.csv", Some("C:/x/a.csv".into()), "");
        assert_eq!(artifact_location(&win, None).uri, "file:///C:/x/a.csv");
    }

    #[test]
    fn a_problem_makes_execution_unsuccessful() {
        let (mut r, f) = report_with("id;born\nx;soon\n", "a.csv");
        let d = doc(&r);
        assert_eq!(d["runs"][0]["invocations"][0]["executionSuccessful"], true);
        r.problems.push(
            Problem::error("input::bad-date", "`soon` is not a date")
                .at(f, Span::new(10, 4), "here")
                .with_help("write dates as YYYY-MM-DD"),
        );
        r.problems
            .push(Problem::warning("config::unused", "nothing uses this"));
        let d = doc(&r);
        let inv = &d["runs"][0]["invocations"][0];
        assert_eq!(inv["executionSuccessful"], false);
        assert_eq!(inv["exitCode"], 2);
        let n = &inv["toolExecutionNotifications"];
        assert_eq!(n[0]["level"], "error");
        assert_eq!(n[0]["descriptor"]["id"], "konform::input::bad-date");
        assert_eq!(
            n[0]["locations"][0]["physicalLocation"]["region"]["startColumn"],
            3
        );
        assert_eq!(n[0]["properties"]["help"], "write dates as YYYY-MM-DD");
        assert_eq!(n[1]["level"], "warning");
        assert!(n[1].get("locations").is_none());
    }

    #[test]
    fn rules_have_friendly_names_and_every_result_a_rule() {
        let (mut r, f) = report_with("id\nadmin\n", "a.csv");
        r.rules = vec![
            rule_info("common.generic-account", Severity::Warning),
            rule_info("aula.unknown-role", Severity::Error),
            rule_info("iserv.unknown-role", Severity::Error),
        ];
        let mut other = finding(f, Span::new(3, 5), Span::new(3, 5), "admin");
        other.policy = "zeta.not-listed".into();
        other.pack = "zeta".into();
        r.findings
            .push(finding(f, Span::new(3, 5), Span::new(3, 5), "admin"));
        r.findings.push(other);
        let d = doc(&r);
        let rules = &d["runs"][0]["tool"]["driver"]["rules"];
        let names: Vec<(&str, &str)> = rules
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or_default(),
                    r["name"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("aula.unknown-role", "AulaUnknownRole"),
                ("common.generic-account", "GenericAccount"),
                ("iserv.unknown-role", "IservUnknownRole"),
                ("zeta.not-listed", "NotListed"),
            ]
        );
        let results = &d["runs"][0]["results"];
        assert_eq!(results[0]["ruleIndex"], 1);
        assert_eq!(results[1]["ruleIndex"], 3);
        assert_eq!(
            rules[1]["fullDescription"]["text"],
            "generic account `…`. Legal basis: GDPR Art. 32"
        );
        assert_eq!(rules[1]["helpUri"], "https://example.org/rules/x");
        assert_eq!(
            rules[1]["properties"]["tags"],
            serde_json::json!(["common", "compliance", "privacy"])
        );
    }

    #[test]
    fn related_locations_are_numbered() {
        let (mut r, f) = report_with("id\na\nb\n", "a.csv");
        let mut limit = finding(f, Span::new(3, 1), Span::new(3, 1), "group");
        limit.related = ["a", "b"]
            .iter()
            .enumerate()
            .map(|(i, s)| Related {
                file: f,
                span: Span::new(3 + 2 * i, 1),
                label: "counted".into(),
                subject: (*s).into(),
            })
            .collect();
        r.findings.push(limit);
        let d = doc(&r);
        let related = &d["runs"][0]["results"][0]["relatedLocations"];
        assert_eq!(related[1]["id"], 2);
        assert_eq!(related[1]["message"]["text"], "counted (b)");
        assert_eq!(related[1]["physicalLocation"]["region"]["startLine"], 3);
    }

    /// A report over `a.csv` with three findings (open, waived, baselined) and a waiver file.
    fn set_aside_report() -> Report {
        let text = "id\nadmin\nlehrer\ngast\n";
        let (mut r, f) = report_with(text, "a.csv");
        let waivers =
            "waivers:\n  - policy: common.generic-account\n    subject: lehrer\n    reason: x\n";
        let wf = r.sources.add(
            SourceFile::new("waivers.yaml", Some("waivers.yaml".into()), waivers)
                .with_origin(FileRole::Waiver, waivers.as_bytes()),
        );
        r.findings
            .push(finding(f, Span::new(3, 5), Span::new(3, 5), "admin"));
        let mut waived = finding(f, Span::new(9, 6), Span::new(9, 6), "lehrer");
        waived.waiver = Some(Box::new(AppliedWaiver {
            reason: "shared pool account, \"replaced\" in spring".into(),
            approved_by: "data-protection officer".into(),
            expires: "2027-03-31".into(),
            file: wf,
            span: Span::new(12, waivers.len() - 12),
        }));
        r.findings.push(waived);
        let mut known = finding(f, Span::new(16, 4), Span::new(16, 4), "gast");
        known.baselined = true;
        r.findings.push(known);
        r
    }

    #[test]
    fn waived_findings_are_suppressed_with_the_waiver() {
        let r = set_aside_report();
        let d = doc(&r);
        let results = &d["runs"][0]["results"];
        // Suppression information is given for every result, or for none.
        assert_eq!(results[0]["suppressions"], serde_json::json!([]));
        assert_eq!(results[2]["suppressions"], serde_json::json!([]));
        let s = &results[1]["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(s["status"], "accepted");
        assert_eq!(
            s["justification"],
            "shared pool account, \"replaced\" in spring (approved by data-protection officer, until 2027-03-31)"
        );
        let loc = &s["location"]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "waivers.yaml");
        assert_eq!(loc["artifactLocation"]["index"], 1);
        assert_eq!(loc["region"]["startLine"], 2);
        assert!(
            loc["region"].get("snippet").is_none(),
            "the waiver entry is not quoted: {loc}"
        );
        assert_eq!(
            d["runs"][0]["artifacts"][1]["roles"],
            serde_json::json!(["userSpecifiedConfiguration"])
        );
        // The level stays the policy's; the run counts what was set aside.
        assert_eq!(results[1]["level"], "warning");
        let props = &d["runs"][0]["properties"];
        assert_eq!(props["waived"], 1);
        assert_eq!(props["baselined"], 1);
    }

    #[test]
    fn baseline_states_are_all_or_nothing() {
        let r = set_aside_report();
        let d = doc(&r);
        let states: Vec<&str> = (0..3)
            .map(|i| {
                d["runs"][0]["results"][i]["baselineState"]
                    .as_str()
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(states, ["new", "new", "unchanged"]);
        // Without a baseline and without waivers: neither property.
        let (mut r, f) = report_with("id\nadmin\n", "a.csv");
        r.findings
            .push(finding(f, Span::new(3, 5), Span::new(3, 5), "admin"));
        let d = doc(&r);
        let result = &d["runs"][0]["results"][0];
        assert!(result.get("baselineState").is_none(), "{result}");
        assert!(result.get("suppressions").is_none(), "{result}");
        assert_eq!(d["runs"][0]["properties"]["waived"], 0);
    }

    #[test]
    fn run_properties_and_time() {
        let (mut r, _) = report_with("", "a.csv");
        r.redacted = true;
        let ctx = RenderContext {
            command: Some("konform check .".into()),
            run_at: Some("2026-11-22T10:00:00+01:00".into()),
            ..RenderContext::default()
        };
        let d: serde_json::Value = serde_json::from_str(&sarif(&r, &ctx)).unwrap_or_default();
        assert_eq!(d["runs"][0]["properties"]["redacted"], true);
        assert_eq!(d["runs"][0]["properties"]["today"], "2026-11-22");
        let inv = &d["runs"][0]["invocations"][0];
        assert_eq!(inv["commandLine"], "konform check .");
        assert_eq!(inv["startTimeUtc"], "2026-11-22T09:00:00.000Z");
        let plain = sarif(&r, &RenderContext::default());
        assert!(!plain.contains("commandLine") && !plain.contains("startTimeUtc"));
    }
}

//! `konform.yaml`: the school, the packs, parameter overrides and input settings.
//!
//! ```yaml
//! school: { id: "5012", name: Gymnasium Altona, country: DE, state: HH, types: [gymnasium] }
//! packs: [common, eduport, iserv, ./packs/local]   # omit for the default packs
//! parameters:
//!   eduport: { manual_account_cap: 3 }
//! fail_on: error
//! inputs:
//!   - path: exports/divis.csv
//!     kind: accounts          # accounts | consents | service (detected when omitted)
//!     format: csv             # csv | yaml | json (by extension when omitted)
//!     encoding: windows-1252  # detected when omitted
//!     delimiter: ";"          # sniffed when omitted
//!     columns: { Kürzel: username, Raum: ignore }
//! ```
//!
//! The file is parsed into a spanned tree, then validated as a whole: every problem is
//! reported with its place, not just the first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::engine::School;
use crate::finding::Severity;
use crate::pack::{PackRef, ParamOverride, PolicySetting};
use crate::problem::Problem;
use crate::record::RecordKind;
use crate::source::columns;
use crate::source::detect::{self, Format};
use crate::source::fields::Fields;
use crate::source::load::InputSpec;
use crate::source::text::encoding_for_label;
use crate::source::yaml::{self, NodeValue, YamlLimits};
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// The names konform looks for when discovering its configuration.
pub const CONFIG_NAMES: &[&str] = &["konform.yaml", "konform.yml"];

/// Countries with built-in knowledge (ages of consent, packs).
pub const KNOWN_COUNTRIES: &[&str] = &["DE", "DK", "SE"];

// The keys the parser accepts in each mapping of konform.yaml. `schemas/konform.schema.json`
// describes the same keys; a test fails when the two differ.

/// The top-level keys of konform.yaml.
pub const KEYS: &[&str] = &[
    "extends",
    "school",
    "packs",
    "parameters",
    "policies",
    "inputs",
    "fail_on",
    "waivers",
];
/// The keys of `school:`.
pub const SCHOOL_KEYS: &[&str] = &["id", "name", "country", "state", "types"];
/// The keys of a parameter written as `{ value: …, locked: true }`.
pub const PARAMETER_KEYS: &[&str] = &["value", "locked"];
/// The keys of one policy's settings under `policies:`.
pub const POLICY_KEYS: &[&str] = &["enabled", "locked", "waivable"];
/// The keys of `waivers:` written as a mapping.
pub const WAIVERS_KEYS: &[&str] = &["file", "max_days"];
/// The keys of one entry of `inputs:`.
pub const INPUT_KEYS: &[&str] = &["path", "kind", "format", "encoding", "delimiter", "columns"];

/// A validated konform.yaml.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The config file, if there is one.
    pub file: Option<FileId>,
    /// The folder relative paths are resolved against.
    pub dir: PathBuf,
    /// The school.
    pub school: School,
    /// The school's display name.
    pub school_name: Option<String>,
    /// The packs named, or `None` for the defaults.
    pub packs: Option<Vec<PackRef>>,
    /// Parameter overrides.
    pub overrides: Vec<ParamOverride>,
    /// Inputs with settings.
    pub inputs: Vec<InputSpec>,
    /// The default `--fail-on`.
    pub fail_on: Option<Severity>,
    /// Policies switched off or locked, in the order the configs were read (extended first).
    pub policies: Vec<PolicySetting>,
    /// The configs this one extends, outermost (authority) first.
    pub extends: Vec<FileId>,
    /// Waiver files, the maximum waiver lifetime and policies that may not be waived.
    pub waivers: crate::waiver::WaiverSettings,
}

/// Finds konform.yaml in `start` (a folder, or a file's folder) or its ancestors, stopping
/// after the root of a git checkout.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let first = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start.to_path_buf()
    };
    for dir in first.ancestors() {
        for name in CONFIG_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// Reads and validates a config file. Returns the config (when it has no error) and problems.
pub fn load(path: &Path, sources: &mut SourceMap) -> (Option<Config>, Vec<Problem>) {
    load_layer(path, sources, &mut Vec::new(), None)
}

/// How many configs may extend each other.
const MAX_EXTENDS: usize = 8;

/// Loads one config and, first, the config it `extends:`.
fn load_layer(
    path: &Path,
    sources: &mut SourceMap,
    chain: &mut Vec<PathBuf>,
    origin: Option<(FileId, Span)>,
) -> (Option<Config>, Vec<Problem>) {
    let name = sources.display(path);
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if chain.contains(&key) || chain.len() >= MAX_EXTENDS {
        let mut p = Problem::error(
            "config::extends-cycle",
            format!("`extends` goes round in a circle (or deeper than {MAX_EXTENDS}) at `{name}`"),
        )
        .with_help("a school's konform.yaml extends its authority's, which extends none");
        if let Some((f, s)) = origin {
            p = p.at(f, s, "extended again here");
        }
        return (None, vec![p]);
    }
    chain.push(key);
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let file = sources.add(SourceFile::new(
                    name.clone(),
                    Some(path.to_path_buf()),
                    lossy,
                ));
                return (
                    None,
                    vec![
                        Problem::error("config::encoding", format!("`{name}` is not valid UTF-8"))
                            // The invalid byte is a U+FFFD in the text shown: mark it whole.
                            .at(
                                file,
                                Span::new(at, 1).snapped(sources.get(file).text()),
                                "invalid byte",
                            )
                            .with_help("save konform.yaml as UTF-8"),
                    ],
                );
            }
        },
        Err(e) => {
            let mut p = Problem::error(
                "config::unreadable",
                format!("cannot read config `{name}`: {e}"),
            )
            .with_help(
                "check the --config path, or the `extends:` path (relative to konform.yaml)",
            );
            if let Some((f, s)) = origin {
                p = p.at(f, s, "extends this file");
            }
            return (None, vec![p]);
        }
    };
    let file = sources.add(
        SourceFile::new(name, Some(path.to_path_buf()), text.clone())
            .with_origin(crate::source::FileRole::Config, text.as_bytes()),
    );
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    // The config this one extends is read first; this one then adds to and overrides it.
    let extends = yaml::parse(&text, YamlLimits::default())
        .ok()
        .and_then(|root| root.get("extends").map(|n| (n.scalar_text(), n.span)));
    let mut problems = Vec::new();
    let base = match extends {
        Some((Some(rel), span)) => {
            let (base, p) = load_layer(&dir.join(rel), sources, chain, Some((file, span)));
            problems.extend(p);
            match base {
                Some(b) => Some(b),
                None => return (None, problems),
            }
        }
        Some((None, span)) => {
            problems.push(
                Problem::error("config::wrong-type", "`extends` must be a path")
                    .at(file, span, "not a path")
                    .with_help("write extends: ../authority/konform.yaml"),
            );
            return (None, problems);
        }
        None => None,
    };
    let (config, p) = parse_on(file, &text, &dir, base);
    problems.extend(p);
    (config, problems)
}

/// Validates config `text` (already in the source map as `file`) on its own.
pub fn parse(file: FileId, text: &str, dir: &Path) -> (Option<Config>, Vec<Problem>) {
    parse_on(file, text, dir, None)
}

/// Validates config `text` on top of `base`, the config it extends: school fields, `fail_on`
/// and parameters override; packs and policy settings add up; inputs are not inherited.
fn parse_on(
    file: FileId,
    text: &str,
    dir: &Path,
    base: Option<Config>,
) -> (Option<Config>, Vec<Problem>) {
    let mut problems = Vec::new();
    let root = match yaml::parse(text, YamlLimits::default()) {
        Ok(r) => r,
        Err(e) => {
            let p = Problem::error(
                "config::syntax",
                format!("invalid YAML in konform.yaml: {}", e.message),
            )
            .with_help("fix the YAML syntax at the marked place");
            let p = match e.span {
                Some(s) => p.at(file, s, "here"),
                None => p.in_file(file),
            };
            return (None, vec![p]);
        }
    };
    let mut config = match base {
        Some(mut base) => {
            base.extends.extend(base.file);
            base.file = Some(file);
            base.dir = dir.to_path_buf();
            base.inputs.clear();
            base
        }
        None => Config {
            file: Some(file),
            dir: dir.to_path_buf(),
            school: School {
                id: "school".into(),
                ..School::default()
            },
            ..Config::default()
        },
    };
    if matches!(root.value, NodeValue::Null) {
        return (Some(config), problems);
    }
    let mut f = Fields::new(file, &root, "konform.yaml", "config", &mut problems);
    f.deny_unknown(KEYS);
    if let Some(school) = f.node("school") {
        let mut s = Fields::new(file, school, "`school`", "config", f.problems_ref());
        s.deny_unknown(SCHOOL_KEYS);
        if let Some((id, _)) = s.string("id") {
            config.school.id = id;
        }
        if let Some((n, _)) = s.string("name") {
            config.school_name = Some(n);
        }
        if let Some((c, span)) = s.string("country") {
            let c = c.to_uppercase();
            if !KNOWN_COUNTRIES.contains(&c.as_str()) {
                s.push(
                    Problem::warning("config::unknown-country", format!("country `{c}` has no built-in rules"))
                        .at(file, span, "not DE, DK or SE")
                        .with_help("use an ISO 3166-1 alpha-2 code; built-in ages of consent exist for DE, DK and SE (others use 16)"),
                );
            }
            config.school.country = c;
        }
        if let Some((st, _)) = s.string("state") {
            config.school.state = st.to_uppercase();
        }
        if let Some(types) = s.strings("types") {
            config.school.types = types.into_iter().map(|(t, _)| t.to_lowercase()).collect();
        }
    }
    if let Some(packs) = f.strings("packs") {
        // A school adds packs to its authority's; it cannot drop them.
        let mut list = config.packs.take().unwrap_or_default();
        for (p, span) in packs {
            if !list.iter().any(|r| r.name == p) {
                list.push(PackRef::new(&p, dir, Some((file, span))));
            }
        }
        config.packs = Some(list);
    }
    if let Some(sev) = f.parsed(
        "fail_on",
        "unknown severity",
        "use error, warning or info",
        Severity::from_name,
    ) {
        config.fail_on = Some(sev);
    }
    for (pk, pv) in f.map("parameters").unwrap_or_default() {
        let Some(pack) = pk.scalar_text() else {
            continue;
        };
        let Some(entries) = pv.as_map() else {
            f.push(
                Problem::error(
                    "config::wrong-type",
                    format!("parameters of `{pack}` must be a mapping"),
                )
                .at(file, pv.span, format!("found {}", pv.type_name()))
                .with_help(format!("write parameters: {{ {pack}: {{ name: value }} }}")),
            );
            continue;
        };
        for (nk, nv) in entries {
            let Some(name) = nk.scalar_text() else {
                continue;
            };
            // `name: value`, or `name: { value: …, locked: true }` in an authority's config.
            let (value, locked) = match nv.get("value") {
                Some(v) if nv.as_map().is_some() => {
                    let mut pf = Fields::new(
                        file,
                        nv,
                        format!("parameter `{name}`"),
                        "config",
                        f.problems_ref(),
                    );
                    pf.deny_unknown(PARAMETER_KEYS);
                    (v.clone(), pf.bool("locked").is_some_and(|(b, _)| b))
                }
                _ => (nv.clone(), false),
            };
            config.overrides.push(ParamOverride {
                pack: (pack.clone(), pk.span),
                name: (name, nk.span),
                value,
                file,
                locked,
            });
        }
    }
    for (pk, pv) in f.map("policies").unwrap_or_default() {
        let Some(id) = pk.scalar_text() else {
            continue;
        };
        let mut pf = Fields::new(
            file,
            pv,
            format!("policy `{id}`"),
            "config",
            f.problems_ref(),
        );
        pf.deny_unknown(POLICY_KEYS);
        if let Some((false, _)) = pf.bool("waivable") {
            config.waivers.forbidden.push((id.clone(), file));
        }
        config.policies.push(PolicySetting {
            id: (id, pk.span),
            enabled: pf.bool("enabled").map(|(b, _)| b),
            locked: pf.bool("locked").is_some_and(|(b, _)| b),
            file,
        });
    }
    if let Some((key, node)) = f.entry("waivers") {
        parse_waivers(file, key.span, node, dir, &mut config, f.problems_ref());
    }
    for item in f.seq("inputs").unwrap_or_default() {
        if let Some(spec) = parse_input(file, item, dir, f.problems_ref()) {
            config.inputs.push(spec);
        }
    }
    let ok = !problems.iter().any(Problem::is_error);
    (ok.then_some(config), problems)
}

/// `waivers: waivers.yaml` or `waivers: { file: waivers.yaml, max_days: 180 }`.
fn parse_waivers(
    file: FileId,
    key_span: Span,
    node: &yaml::Node,
    dir: &Path,
    config: &mut Config,
    problems: &mut Vec<Problem>,
) {
    let mut add_file = |path: String, span: Span, problems: &mut Vec<Problem>| {
        let full = dir.join(&path);
        if !full.is_file() {
            problems.push(
                Problem::error(
                    "config::missing-waivers",
                    format!("waiver file `{path}` does not exist"),
                )
                .at(file, span, "no such file")
                .with_help("paths in konform.yaml are relative to the folder of konform.yaml"),
            );
            return;
        }
        config.waivers.files.push(crate::waiver::WaiverFile {
            path: full,
            config: file,
            span,
        });
    };
    if let Some(path) = node.scalar_text().filter(|_| node.as_map().is_none()) {
        add_file(path, node.span, problems);
        return;
    }
    if node.as_map().is_none() {
        problems.push(
            Problem::error(
                "config::wrong-type",
                "`waivers` must be a path or a mapping",
            )
            .at(file, node.span, format!("found {}", node.type_name()))
            .with_help(
                "write waivers: waivers.yaml, or waivers: { file: waivers.yaml, max_days: 180 }",
            ),
        );
        return;
    }
    let mut f = Fields::new(file, node, "`waivers`", "config", problems);
    f.deny_unknown(WAIVERS_KEYS);
    let path = f.string("file");
    let max = f.parsed(
        "max_days",
        "not a whole number of days",
        "write max_days: 180",
        |t| t.trim().parse::<i64>().ok().filter(|d| *d >= 0),
    );
    if let Some(days) = max {
        let span = f.entry("max_days").map_or(key_span, |(_, v)| v.span);
        // A config can only shorten what the configs it extends allow.
        match config.waivers.max_days {
            Some((current, _, _)) if current < days => f.push(
                Problem::error(
                    "config::waiver-lifetime-locked",
                    format!("max_days {days} is longer than the {current} days the extended configuration allows"),
                )
                .at(file, span, "cannot be raised here")
                .with_help(format!("use {current} or fewer days")),
            ),
            _ => config.waivers.max_days = Some((days, file, span)),
        }
    }
    if let Some((path, span)) = path {
        add_file(path, span, f.problems_ref());
    }
}

fn parse_input(
    file: FileId,
    item: &yaml::Node,
    dir: &Path,
    problems: &mut Vec<Problem>,
) -> Option<InputSpec> {
    let before = problems.iter().filter(|p| p.is_error()).count();
    let mut f = Fields::new(file, item, "an input", "config", problems);
    f.deny_unknown(INPUT_KEYS);
    let Some((path, path_span)) = f.string("path") else {
        f.missing(
            "path",
            "every input needs a `path:` relative to konform.yaml",
        );
        return None;
    };
    let full = dir.join(&path);
    if !full.exists() {
        f.push(
            Problem::error(
                "config::missing-input",
                format!("input `{path}` does not exist"),
            )
            .at(file, path_span, "no such file")
            .with_help("paths in konform.yaml are relative to the folder of konform.yaml"),
        );
    }
    let mut spec = InputSpec {
        path: full,
        ..InputSpec::default()
    };
    // `kind: attributes` is a side input: account attributes joined onto accounts by key.
    let side = f
        .entry("kind")
        .and_then(|(_, v)| v.as_str())
        .is_some_and(|k| k.eq_ignore_ascii_case("attributes"));
    if side {
        spec.kind = Some(RecordKind::Account);
        spec.join = true;
    } else {
        spec.kind = f.parsed(
            "kind",
            "unknown input kind",
            &format!("use one of: {}, attributes", detect::KIND_NAMES.join(", ")),
            detect::kind_from_name,
        );
    }
    spec.format = f.parsed(
        "format",
        "unknown format",
        &format!("use one of: {}", Format::NAMES.join(", ")),
        Format::from_name,
    );
    spec.encoding = f.parsed(
        "encoding",
        "unknown encoding",
        "use e.g. utf-8, windows-1252, iso-8859-1, utf-16le",
        encoding_for_label,
    );
    if let Some((d, span)) = f.string("delimiter") {
        let byte = match d.as_str() {
            "tab" | "\\t" | "\t" => Some(b'\t'),
            s if s.len() == 1 && s.is_ascii() => s.bytes().next(),
            _ => None,
        };
        if byte.is_none() {
            f.push(
                Problem::error(
                    "config::bad-value",
                    format!("delimiter `{d}` is not a single character"),
                )
                .at(file, span, "not one character")
                .with_help("use \";\", \",\" or tab"),
            );
        }
        spec.delimiter = byte;
    }
    let kinds: Vec<RecordKind> = spec.kind.map_or_else(
        || {
            vec![
                RecordKind::Account,
                RecordKind::Consent,
                RecordKind::Service,
            ]
        },
        |k| vec![k],
    );
    let mut mapping = BTreeMap::new();
    for (ck, cv) in f.map("columns").unwrap_or_default() {
        let (Some(col), Some(target)) = (ck.scalar_text(), cv.scalar_text()) else {
            continue;
        };
        let valid = target == "ignore"
            || kinds
                .iter()
                .any(|k| columns::by_name(*k, &target).is_some());
        if !valid {
            let names: Vec<&str> = kinds
                .iter()
                .flat_map(|k| columns::canonical_for(*k).iter().map(|c| c.name))
                .collect();
            let best = names
                .iter()
                .copied()
                .find(|n| strsim::jaro_winkler(n, &target) > 0.85);
            let help = match best {
                Some(b) => format!("did you mean `{b}`? or `ignore`"),
                None => format!("canonical attributes: {}; or `ignore`", names.join(", ")),
            };
            f.push(
                Problem::error(
                    "config::unknown-attribute",
                    format!("column `{col}` is mapped to `{target}`, which is not an attribute"),
                )
                .at(file, cv.span, "not a canonical attribute")
                .with_help(help),
            );
            continue;
        }
        mapping.insert(col, target);
    }
    spec.columns = mapping;
    let after = problems.iter().filter(|p| p.is_error()).count();
    (after == before).then_some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Option<Config>, Vec<Problem>) {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("konform.yaml", None, text));
        parse(file, text, Path::new("."))
    }

    #[test]
    fn a_full_config_parses() {
        let (c, problems) = parse_text(
            "school: { id: '5012', country: de, state: hh }\npacks: [common, ./local]\nparameters:\n  eduport: { manual_account_cap: 3 }\nfail_on: warning\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let c = c.unwrap_or_default();
        assert_eq!(c.school.id, "5012");
        assert_eq!(c.school.country, "DE");
        assert_eq!(c.fail_on, Some(Severity::Warning));
        let packs: Vec<bool> = c
            .packs
            .unwrap_or_default()
            .iter()
            .map(|p| p.path.is_some())
            .collect();
        assert_eq!(packs, vec![false, true]);
        assert_eq!(c.overrides.len(), 1);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let (c, problems) = parse_text(
            "shcool: {}\nfail_on: fatal\ninputs:\n  - path: nope.csv\n    kind: pupils\n    columns: { X: usernam }\n",
        );
        assert!(c.is_none());
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            vec![
                "konform::config::unknown-key",
                "konform::config::bad-value",
                "konform::config::missing-input",
                "konform::config::bad-value",
                "konform::config::unknown-attribute",
            ]
        );
        assert!(
            problems[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("`school`"))
        );
        assert!(
            problems[4]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("`username`"))
        );
    }

    #[test]
    fn empty_config_is_fine() {
        let (c, problems) = parse_text("# nothing yet\n");
        assert!(problems.is_empty());
        assert!(c.is_some_and(|c| c.packs.is_none()));
    }
}

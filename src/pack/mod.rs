//! Policy packs: loading, the generated Cedar schema, strict validation, parameters.
//!
//! A pack is a folder with `pack.yaml` and `*.cedar` files. The packs under `policies/` are
//! embedded in the binary; more can be loaded from a path. Loading parses every manifest and
//! policy, generates the schema types for facts, extra attributes and parameters, validates
//! every policy strictly, and reports *all* problems with spans into the right file.

pub mod catalog;
pub mod facts;
pub mod manifest;
pub mod national_id;
pub mod reads;
pub mod testing;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{
    Effect, Policy, PolicyId, PolicySet, PrincipalConstraint, RestrictedExpression, Schema,
    ValidationMode, Validator,
};

use crate::finding::Severity;
use crate::problem::{Label, Problem};
use crate::record::RecordKind;
use crate::source::columns;
use crate::source::yaml::{self, Node, YamlLimits};
use crate::source::{FileId, FileRole, SourceFile, SourceMap, Span};
use facts::CompiledFact;
use manifest::{LimitDef, Manifest, ParamType, ParamValue};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The path of the base schema among the embedded files.
const SCHEMA_PATH: &str = "policies/konform.cedarschema";

/// Annotations konform reads from a policy; others are reported as likely typos.
const ANNOTATIONS: &[&str] = &[
    "id",
    "severity",
    "message",
    "help",
    "basis",
    "label",
    "span",
    "url",
    "title",
    "evidence",
    "message_de",
    "message_da",
    "message_sv",
    "help_de",
    "help_da",
    "help_sv",
    "label_de",
    "label_da",
    "label_sv",
];

/// The ids of the embedded packs, in name order.
pub fn embedded_pack_ids() -> Vec<String> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for (path, _) in embedded::EMBEDDED {
        let mut parts = path.split('/');
        if let (Some("policies"), Some(pack), Some("pack.yaml"), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            ids.insert(pack.to_owned());
        }
    }
    ids.into_iter().collect()
}

/// Every embedded file: (path relative to the crate, text).
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::EMBEDDED
}

/// A reference to a pack: an embedded id or a folder path, with where it was named.
#[derive(Debug, Clone)]
pub struct PackRef {
    /// The id or path as written.
    pub name: String,
    /// The folder for a path reference (resolved against the config's folder).
    pub path: Option<PathBuf>,
    /// Where it was named (konform.yaml), if anywhere.
    pub origin: Option<(FileId, Span)>,
}

impl PackRef {
    /// A reference by embedded id or path. A name containing `/` or starting with `.` is a
    /// path, resolved against `base`.
    pub fn new(name: &str, base: &Path, origin: Option<(FileId, Span)>) -> Self {
        let is_path = name.contains('/') || name.starts_with('.') || name.contains('\\');
        Self {
            name: name.to_owned(),
            path: is_path.then(|| base.join(name)),
            origin,
        }
    }
}

/// A parameter override from konform.yaml.
#[derive(Debug, Clone)]
pub struct ParamOverride {
    /// The pack id and where it was written.
    pub pack: (String, Span),
    /// The parameter name and where it was written.
    pub name: (String, Span),
    /// The value node.
    pub value: Node,
    /// The config file.
    pub file: FileId,
    /// Whether configs that extend this one may only tighten the value.
    pub locked: bool,
}

/// `policies: { <id>: { enabled: false, locked: true } }` in konform.yaml.
#[derive(Debug, Clone)]
pub struct PolicySetting {
    /// The policy or limit id and where it was written.
    pub id: (String, Span),
    /// `false` switches the policy off.
    pub enabled: Option<bool>,
    /// Configs that extend this one may not switch the policy off.
    pub locked: bool,
    /// The config file.
    pub file: FileId,
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct PackRequest {
    /// The packs named in konform.yaml; `None` for the defaults.
    pub packs: Option<Vec<PackRef>>,
    /// Extra pack folders (`--pack PATH`).
    pub extra: Vec<PackRef>,
    /// Parameter overrides.
    pub overrides: Vec<ParamOverride>,
    /// Policies switched off or locked in konform.yaml (extended configs first).
    pub policy_settings: Vec<PolicySetting>,
    /// The school's country (for default pack selection), e.g. `DE`; empty when unknown.
    pub country: String,
    /// The school's state, e.g. `HH`; empty when unknown.
    pub state: String,
}

/// Metadata of one policy (or limit), from its annotations.
#[derive(Debug, Clone)]
pub struct PolicyMeta {
    /// The full id (`common.generic-account`).
    pub id: String,
    /// The pack id.
    pub pack: String,
    /// The severity.
    pub severity: Severity,
    /// The message template.
    pub message: String,
    /// The label on the offending place.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The rule or law it rests on.
    pub basis: Option<String>,
    /// A documentation link.
    pub url: Option<String>,
    /// The attribute whose cell to point at.
    pub span_attr: Option<String>,
    /// The record kinds it applies to.
    pub kinds: Vec<RecordKind>,
    /// The file it is defined in.
    pub file: FileId,
    /// Where it is defined.
    pub span: Span,
    /// For limits: the index into [`PackSet::limits`].
    pub limit: Option<usize>,
    /// Translations by annotation name (`message_de`, `help_da`, `label_sv` …).
    pub translations: BTreeMap<String, String>,
    /// `@evidence("not-personal")`: the value the finding points at names a function, device
    /// or class, not a person (`lehrer1`), so redaction keeps it.
    pub evidence_not_personal: bool,
}

impl PolicyMeta {
    /// The template `field` (`message`, `help` or `label`) in `lang`, falling back to English.
    pub fn text(&self, field: &str, lang: Option<&str>) -> Option<&str> {
        let translated = lang.and_then(|l| self.translations.get(&format!("{field}_{l}")));
        translated.map(String::as_str).or(match field {
            "message" => Some(self.message.as_str()),
            "label" => Some(self.label.as_str()),
            "help" => self.help.as_deref(),
            _ => None,
        })
    }
}

/// The languages policies may be translated into (besides English).
pub const LANGUAGES: &[&str] = &["de", "da", "sv"];

/// A limit with its resolved maximum.
#[derive(Debug, Clone)]
pub struct Limit {
    /// The declaration.
    pub def: LimitDef,
    /// The pack id.
    pub pack: String,
    /// The maximum (parameter value).
    pub max: i64,
    /// The pack.yaml file.
    pub file: FileId,
}

/// One loaded pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The manifest.
    pub manifest: Manifest,
    /// The pack.yaml file.
    pub manifest_file: FileId,
    /// The policy files.
    pub policy_files: Vec<FileId>,
    /// Where the pack came from (`policies/common` or a path).
    pub dir: String,
}

/// All loaded packs, validated and ready to evaluate.
#[derive(Debug)]
pub struct PackSet {
    /// The packs in load order.
    pub packs: Vec<Pack>,
    /// Every policy and the selection policy of every limit, under their konform ids.
    pub policies: PolicySet,
    /// The schema (base plus generated types).
    pub schema: Schema,
    /// Metadata by policy id.
    pub meta: HashMap<String, PolicyMeta>,
    /// Limits.
    pub limits: Vec<Limit>,
    /// Compiled facts, in schema order.
    pub facts: Vec<CompiledFact>,
    /// Extra attributes declared by packs.
    pub extra_attributes: Vec<String>,
    /// Resolved parameter values: pack -> name -> value.
    pub params: BTreeMap<String, BTreeMap<String, ParamValue>>,
    /// Policies switched off by konform.yaml; their findings are dropped.
    pub disabled: BTreeSet<String>,
    /// What the policies of each record kind read of a record ([`reads`]).
    pub reads: BTreeMap<RecordKind, reads::Reads>,
    /// How the policies of each record kind use each attribute they read ([`reads::uses`]):
    /// what of its value the projection key keeps. An attribute not listed is kept whole.
    pub uses: BTreeMap<RecordKind, BTreeMap<String, reads::Use>>,
}

struct RawPack {
    dir: String,
    manifest_file: FileId,
    policy_files: Vec<FileId>,
    origin: Option<(FileId, Span)>,
}

/// Loads, checks and validates the requested packs. Returns the pack set (when there is no
/// error) and every problem found.
pub fn load(req: &PackRequest, sources: &mut SourceMap) -> (Option<PackSet>, Vec<Problem>) {
    let mut problems = Vec::new();
    let raws = gather(req, sources, &mut problems);
    let mut packs: Vec<Pack> = Vec::new();
    for raw in raws {
        let text = sources.get(raw.manifest_file).shared_text();
        let root = match yaml::parse(&text, YamlLimits::default()) {
            Ok(r) => r,
            Err(e) => {
                let p = Problem::error(
                    "pack::syntax",
                    format!("invalid YAML in pack.yaml: {}", e.message),
                );
                problems.push(match e.span {
                    Some(s) => p.at(raw.manifest_file, s, "here"),
                    None => p.in_file(raw.manifest_file),
                });
                continue;
            }
        };
        let Some(manifest) = manifest::parse(raw.manifest_file, &root, &mut problems) else {
            continue;
        };
        if let Some(other) = packs.iter().find(|p| p.manifest.id == manifest.id) {
            let mut p = Problem::error(
                "pack::duplicate-pack",
                format!("pack `{}` is loaded twice", manifest.id),
            )
            .at(
                raw.manifest_file,
                manifest.id_span,
                "second pack with this id",
            )
            .with_help(format!(
                "the first one comes from `{}`; remove one of them",
                other.dir
            ));
            if let Some((f, s)) = raw.origin {
                p = p.with_help(format!(
                    "named in `{}` at offset {}; the first one comes from `{}`",
                    sources.get(f).name,
                    s.offset,
                    other.dir
                ));
            }
            problems.push(p);
            continue;
        }
        packs.push(Pack {
            manifest,
            manifest_file: raw.manifest_file,
            policy_files: raw.policy_files,
            dir: raw.dir,
        });
    }
    if problems.iter().any(Problem::is_error) {
        return (None, problems);
    }
    let params = resolve_params(&packs, &req.overrides, sources, &mut problems);
    let facts = facts::compile(&packs, &params, req, &mut problems);
    let extra_attributes: Vec<String> = packs
        .iter()
        .flat_map(|p| p.manifest.extra_attributes.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let schema_text = schema_text(&packs, &facts, &extra_attributes);
    let schema_file = sources.add(SourceFile::new(SCHEMA_PATH, None, schema_text.clone()));
    let schema = match Schema::from_cedarschema_str(&schema_text) {
        Ok((schema, _warnings)) => schema,
        Err(e) => {
            problems.extend(Problem::from_diagnostic(
                "schema::invalid",
                &e,
                Some(schema_file),
            ));
            return (None, problems);
        }
    };
    let mut policies = PolicySet::new();
    let mut meta: HashMap<String, PolicyMeta> = HashMap::new();
    let fact_names: Vec<&str> = facts.iter().map(CompiledFact::name).collect();
    for pack in &packs {
        for &file in &pack.policy_files {
            load_policy_file(
                file,
                &pack.manifest.id,
                &fact_names,
                sources,
                &mut policies,
                &mut meta,
                &mut problems,
            );
        }
    }
    let mut limits = Vec::new();
    for pack in &packs {
        for def in &pack.manifest.limits {
            let max = match params
                .get(&pack.manifest.id)
                .and_then(|m| m.get(&def.max_param))
            {
                Some(ParamValue::Long(n)) => *n,
                _ => continue, // reported by manifest parsing
            };
            if let Some(attr) = &def.span_attr
                && !span_target_exists(attr, &[def.applies_to], &fact_names)
            {
                problems.push(
                    Problem::error(
                        "pack::bad-span",
                        format!("`span: {attr}` of limit `{}` names no attribute", def.id),
                    )
                    .at(pack.manifest_file, def.span, "this limit")
                    .with_help(
                        "name a canonical attribute of the counted records, e.g. span: origin",
                    ),
                );
            }
            let index = limits.len();
            add_limit_policy(
                def,
                pack,
                index,
                sources,
                &mut policies,
                &mut meta,
                &mut problems,
            );
            limits.push(Limit {
                def: def.clone(),
                pack: pack.manifest.id.clone(),
                max,
                file: pack.manifest_file,
            });
        }
    }
    let disabled = policy_settings(&req.policy_settings, &meta, sources, &mut problems);
    if problems.iter().any(Problem::is_error) {
        return (None, problems);
    }
    let validator = Validator::new(schema.clone());
    let result = validator.validate(&policies, ValidationMode::Strict);
    for e in result.validation_errors() {
        let id = e.policy_id().to_string();
        let m = meta.get(&id);
        let mut ps = Problem::from_diagnostic("policy::invalid", e, m.map(|m| m.file));
        for p in &mut ps {
            let msg = strip_policy_prefix(&p.message, &id);
            p.message = format!("policy `{id}` does not validate: {msg}");
            if let Some(m) = m.filter(|m| m.limit.is_some()) {
                remap_limit_labels(p, m, &limits, sources);
            }
        }
        problems.extend(ps);
    }
    for w in result.validation_warnings() {
        let id = w.policy_id().to_string();
        let m = meta.get(&id);
        for mut p in Problem::from_diagnostic("policy::warning", w, m.map(|m| m.file)) {
            p.level = crate::problem::ProblemLevel::Warning;
            p.message = format!("policy `{id}`: {}", p.message);
            problems.push(p);
        }
    }
    if problems.iter().any(Problem::is_error) {
        return (None, problems);
    }
    // What the policies of each record kind read of a record, for the projection cache.
    let mut reads_by_kind: BTreeMap<RecordKind, reads::Reads> = RecordKind::ALL
        .into_iter()
        .map(|k| (k, reads::Reads::Paths(BTreeSet::new())))
        .collect();
    let mut uses_by_kind: BTreeMap<RecordKind, BTreeMap<String, reads::Use>> = BTreeMap::new();
    for policy in policies.policies() {
        let id = policy.id().to_string();
        let read = reads::reads(&policy.to_string());
        // Without its JSON form, every attribute the policy reads counts as read whole.
        let used = match policy.to_json() {
            Ok(est) => reads::uses(&est, &params),
            Err(_) => match &read {
                reads::Reads::Paths(paths) => paths
                    .iter()
                    .map(|p| {
                        let top = p.split('.').next().unwrap_or(p);
                        (top.to_owned(), reads::Use::Value)
                    })
                    .collect(),
                reads::Reads::All => BTreeMap::new(),
            },
        };
        let kinds = meta
            .get(&id)
            .map_or_else(|| RecordKind::ALL.to_vec(), |m| m.kinds.clone());
        for k in kinds {
            if let Some(r) = reads_by_kind.get_mut(&k) {
                r.union(&read);
            }
            reads::merge_uses(uses_by_kind.entry(k).or_default(), used.clone());
        }
    }
    let set = PackSet {
        packs,
        policies,
        schema,
        meta,
        limits,
        facts,
        extra_attributes,
        params,
        disabled,
        reads: reads_by_kind,
        uses: uses_by_kind,
    };
    (Some(set), problems)
}

fn gather(req: &PackRequest, sources: &mut SourceMap, problems: &mut Vec<Problem>) -> Vec<RawPack> {
    let embedded = embedded_pack_ids();
    let mut out = Vec::new();
    let selected: Vec<PackRef> = match &req.packs {
        Some(list) => list.clone(),
        None => embedded
            .iter()
            .filter(|id| embedded_is_default(id, &req.country, &req.state))
            .map(|id| PackRef::new(id, Path::new("."), None))
            .collect(),
    };
    for r in selected.iter().chain(req.extra.iter()) {
        match &r.path {
            None => {
                if embedded.contains(&r.name) {
                    out.push(embedded_pack(&r.name, r.origin, sources));
                } else {
                    let best = embedded.iter().max_by(|a, b| {
                        strsim::jaro_winkler(&r.name, a)
                            .total_cmp(&strsim::jaro_winkler(&r.name, b))
                    });
                    let mut p = Problem::error(
                        "config::unknown-pack",
                        format!("unknown pack `{}`", r.name),
                    );
                    if let Some((f, s)) = r.origin {
                        p = p.at(f, s, "no embedded pack has this id");
                    }
                    let help = match best {
                        Some(b) if strsim::jaro_winkler(&r.name, b) > 0.8 => format!(
                            "did you mean `{b}`? embedded packs: {}; a folder path must contain `/`",
                            embedded.join(", ")
                        ),
                        _ => format!(
                            "embedded packs: {}; a folder path must contain `/` (e.g. ./my-pack)",
                            embedded.join(", ")
                        ),
                    };
                    problems.push(p.with_help(help));
                }
            }
            Some(path) => match disk_pack(path, r.origin, sources) {
                Ok(raw) => out.push(raw),
                Err(p) => problems.push(p),
            },
        }
    }
    out
}

fn embedded_is_default(id: &str, country: &str, state: &str) -> bool {
    let path = format!("policies/{id}/pack.yaml");
    // A broken embedded manifest is selected anyway, so that loading reports the problem.
    let Some((_, text)) = embedded::EMBEDDED.iter().find(|(p, _)| *p == path) else {
        return true;
    };
    let Ok(root) = yaml::parse(text, YamlLimits::default()) else {
        return true;
    };
    let mut scratch = Vec::new();
    let Some(m) = manifest::parse(FileId(u32::MAX), &root, &mut scratch) else {
        return true;
    };
    // A pack scoped to countries (states) applies by default only when the school's country
    // (state) is configured and among them: Swedish rules never run on a German export.
    m.default
        && (m.countries.is_empty() || m.countries.iter().any(|c| c.eq_ignore_ascii_case(country)))
        && (m.states.is_empty() || m.states.iter().any(|s| s.eq_ignore_ascii_case(state)))
}

fn embedded_pack(id: &str, origin: Option<(FileId, Span)>, sources: &mut SourceMap) -> RawPack {
    let prefix = format!("policies/{id}/");
    let mut manifest_file = None;
    let mut policy_files = Vec::new();
    for (path, text) in embedded::EMBEDDED {
        let Some(rest) = path.strip_prefix(&prefix) else {
            continue;
        };
        if rest == "pack.yaml" {
            manifest_file = Some(sources.add(
                SourceFile::new(*path, None, *text).with_origin(FileRole::Policy, text.as_bytes()),
            ));
        } else if !rest.contains('/') && rest.ends_with(".cedar") {
            policy_files.push(sources.add(
                SourceFile::new(*path, None, *text).with_origin(FileRole::Policy, text.as_bytes()),
            ));
        }
    }
    let manifest_file = manifest_file
        .unwrap_or_else(|| sources.add(SourceFile::new(format!("{prefix}pack.yaml"), None, "")));
    RawPack {
        dir: format!("policies/{id}"),
        manifest_file,
        policy_files,
        origin,
    }
}

fn disk_pack(
    dir: &Path,
    origin: Option<(FileId, Span)>,
    sources: &mut SourceMap,
) -> Result<RawPack, Problem> {
    let shown = sources.display(dir);
    let fail = |msg: String, help: &str| {
        let mut p = Problem::error("config::bad-pack-path", msg).with_help(help.to_owned());
        if let Some((f, s)) = origin {
            p = p.at(f, s, "named here");
        }
        p
    };
    let manifest_path = dir.join("pack.yaml");
    let manifest_text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        fail(
            format!("cannot read `{}`: {e}", sources.display(&manifest_path)),
            "a pack is a folder with a pack.yaml and *.cedar files",
        )
    })?;
    let manifest_file = sources.add(
        SourceFile::new(
            sources.display(&manifest_path),
            Some(manifest_path),
            manifest_text.clone(),
        )
        .with_origin(FileRole::Policy, manifest_text.as_bytes()),
    );
    let mut cedar: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            fail(
                format!("cannot list `{shown}`: {e}"),
                "check the pack folder",
            )
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cedar") && p.is_file())
        .collect();
    cedar.sort();
    let mut policy_files = Vec::new();
    for path in cedar {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            fail(
                format!("cannot read `{}`: {e}", sources.display(&path)),
                "policy files must be UTF-8 text",
            )
        })?;
        let digest_source = SourceFile::new(sources.display(&path), Some(path), text.clone())
            .with_origin(FileRole::Policy, text.as_bytes());
        policy_files.push(sources.add(digest_source));
    }
    Ok(RawPack {
        dir: shown,
        manifest_file,
        policy_files,
        origin,
    })
}

fn resolve_params(
    packs: &[Pack],
    overrides: &[ParamOverride],
    sources: &SourceMap,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, BTreeMap<String, ParamValue>> {
    // Locks set by a config that others extend: (pack, name) -> (the locking override, value).
    let mut locks: HashMap<(String, String), (&ParamOverride, ParamValue)> = HashMap::new();
    let mut out: BTreeMap<String, BTreeMap<String, ParamValue>> = packs
        .iter()
        .map(|p| {
            let values = p
                .manifest
                .parameters
                .iter()
                .map(|d| (d.name.clone(), d.default.clone()))
                .collect();
            (p.manifest.id.clone(), values)
        })
        .collect();
    for o in overrides {
        let Some(pack) = packs.iter().find(|p| p.manifest.id == o.pack.0) else {
            problems.push(
                Problem::error(
                    "config::unknown-pack",
                    format!("parameters for pack `{}`, which is not loaded", o.pack.0),
                )
                .at(o.file, o.pack.1, "not a loaded pack")
                .with_help(format!(
                    "loaded packs: {}",
                    packs
                        .iter()
                        .map(|p| p.manifest.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            continue;
        };
        let Some(def) = pack.manifest.parameters.iter().find(|d| d.name == o.name.0) else {
            let names: Vec<&str> = pack
                .manifest
                .parameters
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            let best = names.iter().copied().max_by(|a, b| {
                strsim::jaro_winkler(&o.name.0, a).total_cmp(&strsim::jaro_winkler(&o.name.0, b))
            });
            let help = match best {
                Some(b) if strsim::jaro_winkler(&o.name.0, b) > 0.8 => format!(
                    "did you mean `{b}`? parameters of `{}`: {}",
                    pack.manifest.id,
                    names.join(", ")
                ),
                _ => format!(
                    "parameters of `{}`: {}",
                    pack.manifest.id,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            };
            problems.push(
                Problem::error(
                    "config::unknown-parameter",
                    format!("pack `{}` has no parameter `{}`", o.pack.0, o.name.0),
                )
                .at(o.file, o.name.1, "unknown parameter")
                .with_help(help),
            );
            continue;
        };
        match def.ty.value_of(&o.value) {
            Ok(v) => {
                let key = (pack.manifest.id.clone(), def.name.clone());
                if let Some((lock, locked)) = locks.get(&key)
                    && !manifest::tightens(def.tighten, locked, &v)
                {
                    problems.push(
                        Problem::error(
                            "config::locked-parameter",
                            format!(
                                "parameter `{}.{}` is locked at {} by `{}`",
                                o.pack.0,
                                o.name.0,
                                locked.display(),
                                sources.get(lock.file).name
                            ),
                        )
                        .at(o.file, o.value.span, "loosens a locked parameter")
                        .with_help(match def.tighten {
                            Some(t) => format!(
                                "a school may only tighten this parameter: {}",
                                t.describe()
                            ),
                            None => {
                                "a locked parameter keeps the value its authority set".to_owned()
                            }
                        }),
                    );
                    continue;
                }
                if o.locked {
                    locks.insert(key, (o, v.clone()));
                }
                if let Some(m) = out.get_mut(&pack.manifest.id) {
                    m.insert(def.name.clone(), v);
                }
            }
            Err(e) => problems.push(
                Problem::error(
                    "config::bad-parameter",
                    format!(
                        "parameter `{}.{}` must be a {}",
                        o.pack.0,
                        o.name.0,
                        def.ty.name()
                    ),
                )
                .at(o.file, o.value.span, e)
                .with_help({
                    let default = def.default.display();
                    if default.chars().count() > 60 {
                        format!(
                            "{} (see its default in the pack's pack.yaml)",
                            def.description
                        )
                    } else {
                        format!("{} (default: {default})", def.description)
                    }
                }),
            ),
        }
    }
    out
}

/// Quotes a name for the Cedar schema.
fn quoted(name: &str) -> String {
    format!("{name:?}")
}

fn schema_text(packs: &[Pack], facts: &[CompiledFact], extra: &[String]) -> String {
    let base = embedded::EMBEDDED
        .iter()
        .find(|(p, _)| *p == SCHEMA_PATH)
        .map_or("", |(_, t)| *t);
    let mut s = String::from(base);
    s.push_str("\n// ---- generated from the loaded packs ----\n");
    let fact_fields: Vec<String> = facts
        .iter()
        .map(|f| format!("{}: Bool", quoted(f.name())))
        .collect();
    s.push_str(&format!("type Facts = {{ {} }};\n", fact_fields.join(", ")));
    let extra_fields: Vec<String> = extra
        .iter()
        .map(|e| format!("{}?: String", quoted(e)))
        .collect();
    s.push_str(&format!(
        "type Extra = {{ {} }};\n",
        extra_fields.join(", ")
    ));
    let pack_fields: Vec<String> = packs
        .iter()
        .map(|p| {
            let fields: Vec<String> = p
                .manifest
                .parameters
                .iter()
                .map(|d| format!("{}: {}", quoted(&d.name), d.ty.cedar_type()))
                .collect();
            format!("{}: {{ {} }}", quoted(&p.manifest.id), fields.join(", "))
        })
        .collect();
    s.push_str(&format!(
        "type Params = {{ {} }};\n",
        pack_fields.join(", ")
    ));
    s
}

/// The record kinds a policy's principal constraint admits.
fn kinds_of(policy: &Policy) -> Vec<RecordKind> {
    let all = RecordKind::ALL.to_vec();
    let of = |t: &cedar_policy::EntityTypeName| {
        let name = t.to_string();
        RecordKind::ALL
            .into_iter()
            .filter(|k| k.entity_type() == name)
            .collect::<Vec<_>>()
    };
    match policy.principal_constraint() {
        PrincipalConstraint::Is(t) | PrincipalConstraint::IsIn(t, _) => of(&t),
        PrincipalConstraint::Eq(uid) => of(uid.type_name()),
        PrincipalConstraint::Any | PrincipalConstraint::In(_) => all,
    }
}

/// Where in `text` a policy stands: at its `@id(...)` annotation if found, else the start of
/// its text.
fn locate(text: &str, policy: &Policy, raw_id: Option<&str>, from: usize) -> Span {
    if let Some(id) = raw_id {
        for quote in ["\"", "\""] {
            let needle = format!("@id({quote}{id}{quote})");
            if let Some(i) = text
                .get(from..)
                .and_then(|t| t.find(&needle))
                .map(|i| i + from)
            {
                return Span::new(i, needle.len());
            }
        }
    }
    let src = policy.to_string();
    let head = src.lines().next().unwrap_or("");
    text.get(from..)
        .and_then(|t| t.find(head))
        .map_or(Span::new(from.min(text.len()), 0), |i| {
            Span::new(i + from, head.len())
        })
}

/// Whether `@span`/`span:` names an attribute of one of `kinds` or a fact (`facts.name`).
fn span_target_exists(attr: &str, kinds: &[RecordKind], fact_names: &[&str]) -> bool {
    attr.split(',')
        .map(str::trim)
        .all(|attr| match attr.strip_prefix("facts.") {
            Some(f) => fact_names.contains(&f),
            None => kinds.iter().any(|k| columns::by_name(*k, attr).is_some()),
        })
}

fn load_policy_file(
    file: FileId,
    pack: &str,
    fact_names: &[&str],
    sources: &SourceMap,
    policies: &mut PolicySet,
    meta: &mut HashMap<String, PolicyMeta>,
    problems: &mut Vec<Problem>,
) {
    let text = sources.get(file).shared_text();
    let parsed = match PolicySet::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            for mut p in Problem::from_diagnostic("policy::syntax", &e, Some(file)) {
                p.message = format!("cannot parse policy: {}", p.message);
                problems.push(p);
            }
            return;
        }
    };
    if parsed.templates().next().is_some() {
        problems.push(
            Problem::error("policy::template", "policy templates are not supported")
                .in_file(file)
                .with_help("write plain `forbid` policies; use pack parameters for what varies"),
        );
    }
    let mut cursor = 0;
    for policy in parsed.policies() {
        let raw_id = policy.annotation("id").map(str::to_owned);
        let span = locate(&text, policy, raw_id.as_deref(), cursor);
        cursor = span.end();
        let fail = |code: &str, msg: String, help: &str| {
            Problem::error(code, msg)
                .at(file, span, "this policy")
                .with_help(help.to_owned())
        };
        let Some(raw_id) = raw_id else {
            problems.push(fail(
                "policy::missing-id",
                "policy has no `@id`".into(),
                "add a permanent id naming the problem, e.g. @id(\"generic-account\")",
            ));
            continue;
        };
        let id = if raw_id.starts_with(&format!("{pack}.")) {
            raw_id.clone()
        } else {
            format!("{pack}.{raw_id}")
        };
        if raw_id.is_empty()
            || !raw_id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            problems.push(fail(
                "policy::bad-id",
                format!("policy id `{raw_id}` is not lowercase kebab-case"),
                "use lowercase letters, digits and `-`, e.g. @id(\"recording-enabled\")",
            ));
            continue;
        }
        if policy.effect() != Effect::Forbid {
            problems.push(fail("policy::not-forbid", format!("policy `{id}` is a permit"), "konform policies describe violations: write `forbid (…) when { <the bad condition> };`"));
            continue;
        }
        for (key, _) in policy.annotations() {
            if !ANNOTATIONS.contains(&key) {
                let best = ANNOTATIONS
                    .iter()
                    .copied()
                    .find(|a| strsim::jaro_winkler(key, a) > 0.85);
                problems.push(
                    Problem::warning(
                        "policy::unknown-annotation",
                        format!("unknown annotation `@{key}` on policy `{id}`"),
                    )
                    .at(file, span, "this policy")
                    .with_help(match best {
                        Some(b) => format!("did you mean `@{b}`?"),
                        None => format!(
                            "known annotations: {}",
                            ANNOTATIONS
                                .iter()
                                .map(|a| format!("@{a}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }),
                );
            }
        }
        let severity = match policy.annotation("severity") {
            Some(s) => {
                match Severity::from_name(s) {
                    Some(sev) => sev,
                    None => {
                        problems.push(fail("policy::bad-severity", format!("unknown severity `{s}` on policy `{id}`"), "use @severity(\"error\"), @severity(\"warning\") or @severity(\"info\")"));
                        continue;
                    }
                }
            }
            None => {
                problems.push(fail(
                    "policy::missing-severity",
                    format!("policy `{id}` has no `@severity`"),
                    "add @severity(\"error\"), @severity(\"warning\") or @severity(\"info\")",
                ));
                continue;
            }
        };
        let Some(message) = policy.annotation("message").map(str::to_owned) else {
            problems.push(fail(
                "policy::missing-message",
                format!("policy `{id}` has no `@message`"),
                "add @message(\"…\") saying what is wrong, with {attribute} placeholders",
            ));
            continue;
        };
        let kinds = kinds_of(policy);
        let evidence_not_personal = match policy.annotation("evidence") {
            None => false,
            Some("not-personal") => true,
            Some(other) => {
                problems.push(fail(
                    "policy::bad-evidence",
                    format!("unknown `@evidence(\"{other}\")` on policy `{id}`"),
                    "the only value is @evidence(\"not-personal\"): the value the finding points at (a generic username such as lehrer1) names no person and is kept when output is redacted",
                ));
                continue;
            }
        };
        let span_attr = policy.annotation("span").map(str::to_owned);
        if let Some(attr) = &span_attr
            && !span_target_exists(attr, &kinds, fact_names)
        {
            problems.push(fail("policy::bad-span", format!("`@span(\"{attr}\")` on policy `{id}` names no attribute"), "name a canonical attribute of the record, e.g. @span(\"username\"), or a regex fact as @span(\"facts.generic_name\")"));
        }
        for ph in placeholders(&message) {
            let known = ph == "key"
                || ph == "age"
                || ph
                    .strip_suffix("_days")
                    .is_some_and(|d| kinds.iter().any(|k| columns::by_name(*k, d).is_some()))
                || kinds.iter().any(|k| columns::by_name(*k, &ph).is_some());
            if !known {
                problems.push(fail(
                    "policy::bad-placeholder",
                    format!("`{{{ph}}}` in the message of policy `{id}` is not an attribute"),
                    "use canonical attribute names such as {username}, {staff_category} or {key}",
                ));
            }
        }
        let new = policy.new_id(PolicyId::new(id.clone()));
        if let Err(e) = policies.add(new) {
            let first = meta.get(&id);
            let mut p = Problem::error(
                "policy::duplicate-id",
                format!("policy id `{id}` is used twice: {e}"),
            )
            .at(file, span, "second policy with this id")
            .with_help("policy ids are permanent and unique; give this policy its own id");
            if let Some(first) = first.filter(|m| m.file == file) {
                p = p.with_label(first.span, "first policy with this id");
            }
            problems.push(p);
            continue;
        }
        meta.insert(
            id.clone(),
            PolicyMeta {
                id,
                pack: pack.to_owned(),
                severity,
                message,
                label: policy.annotation("label").unwrap_or("").to_owned(),
                help: policy.annotation("help").map(str::to_owned),
                basis: policy.annotation("basis").map(str::to_owned),
                url: policy.annotation("url").map(str::to_owned),
                span_attr,
                kinds,
                file,
                span,
                limit: None,
                evidence_not_personal,
                translations: policy
                    .annotations()
                    .filter(|(k, _)| k.contains('_'))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
        );
    }
}

/// Removes Cedar's own "for policy `id`, " / "error while evaluating policy `id`: " prefix,
/// since konform's message names the policy already.
pub fn strip_policy_prefix(message: &str, id: &str) -> String {
    for prefix in [
        format!("for policy `{id}`, "),
        format!("error while evaluating policy `{id}`: "),
    ] {
        if let Some(rest) = message.strip_prefix(&prefix) {
            return rest.to_owned();
        }
    }
    message.to_owned()
}

/// The `{name}` placeholders of a message template.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = rest.get(start + 1..).unwrap_or("");
        match after.find('}') {
            Some(end) => {
                out.push(after.get(..end).unwrap_or("").trim().to_owned());
                rest = after.get(end + 1..).unwrap_or("");
            }
            None => break,
        }
    }
    out
}

const LIMIT_PREFIX: &str = "forbid (principal is ";

fn limit_policy_text(def: &LimitDef) -> (String, usize) {
    let head = format!(
        "{LIMIT_PREFIX}{}, action == Action::\"check\", resource) when {{ ",
        def.applies_to.entity_type()
    );
    let offset = head.len();
    (format!("{head}{} }};", def.select), offset)
}

fn add_limit_policy(
    def: &LimitDef,
    pack: &Pack,
    index: usize,
    sources: &SourceMap,
    policies: &mut PolicySet,
    meta: &mut HashMap<String, PolicyMeta>,
    problems: &mut Vec<Problem>,
) {
    let file = pack.manifest_file;
    let (text, _) = limit_policy_text(def);
    let policy = match Policy::parse(Some(PolicyId::new(def.id.clone())), &text) {
        Ok(p) => p,
        Err(e) => {
            for mut p in Problem::from_diagnostic("pack::bad-select", &e, Some(file)) {
                p.message = format!("cannot parse `select` of limit `{}`: {}", def.id, p.message);
                p.labels = vec![Label {
                    span: def.select_span,
                    text: "in this condition".into(),
                    primary: true,
                }];
                problems.push(p);
            }
            return;
        }
    };
    let _ = sources;
    if let Err(e) = policies.add(policy) {
        problems.push(
            Problem::error(
                "policy::duplicate-id",
                format!("limit id `{}` is used twice: {e}", def.id),
            )
            .at(file, def.span, "this limit")
            .with_help("give the limit an id of its own"),
        );
        return;
    }
    meta.insert(
        def.id.clone(),
        PolicyMeta {
            id: def.id.clone(),
            pack: pack.manifest.id.clone(),
            severity: def.severity,
            message: def.message.clone(),
            label: def.label.clone(),
            help: def.help.clone(),
            basis: def.basis.clone(),
            url: None,
            span_attr: def.span_attr.clone(),
            kinds: vec![def.applies_to],
            file,
            span: def.span,
            limit: Some(index),
            evidence_not_personal: false,
            translations: def.translations.clone(),
        },
    );
}

/// Maps labels of a validation error in a limit's generated policy back to pack.yaml.
fn remap_limit_labels(p: &mut Problem, m: &PolicyMeta, limits: &[Limit], sources: &SourceMap) {
    let Some(limit) = m.limit.and_then(|i| limits.get(i)) else {
        return;
    };
    let def = &limit.def;
    let (_, offset) = limit_policy_text(def);
    let yaml_text = sources.get(limit.file).slice(def.select_span);
    let exact = yaml_text == def.select;
    for l in &mut p.labels {
        l.span = if exact && l.span.offset >= offset && l.span.end() <= offset + def.select.len() {
            Span::new(
                def.select_span.offset + (l.span.offset - offset),
                l.span.len,
            )
        } else {
            def.select_span
        };
    }
    if p.labels.is_empty() {
        p.labels.push(Label {
            span: def.select_span,
            text: "in this condition".into(),
            primary: true,
        });
    }
}

/// Applies `policies:` settings from konform.yaml (and the configs it extends): the policies
/// switched off. Unknown ids, and switching off a policy an extended config locked, are errors.
fn policy_settings(
    settings: &[PolicySetting],
    meta: &HashMap<String, PolicyMeta>,
    sources: &SourceMap,
    problems: &mut Vec<Problem>,
) -> BTreeSet<String> {
    let mut disabled = BTreeSet::new();
    let mut locks: HashMap<&str, &PolicySetting> = HashMap::new();
    for s in settings {
        let id = s.id.0.as_str();
        if !meta.contains_key(id) {
            let best = meta
                .keys()
                .max_by(|a, b| strsim::jaro_winkler(id, a).total_cmp(&strsim::jaro_winkler(id, b)))
                .filter(|b| strsim::jaro_winkler(id, b) > 0.8);
            problems.push(
                Problem::error(
                    "config::unknown-policy",
                    format!("no loaded policy has the id `{id}`"),
                )
                .at(s.file, s.id.1, "unknown policy")
                .with_help(match best {
                    Some(b) => format!("did you mean `{b}`? `konform policies` lists every id"),
                    None => "write the full id (`pack.policy`); `konform policies` lists them"
                        .to_owned(),
                }),
            );
            continue;
        }
        if s.enabled == Some(false) {
            if let Some(lock) = locks.get(id).filter(|l| l.file != s.file) {
                problems.push(
                    Problem::error(
                        "config::locked-policy",
                        format!("policy `{id}` is locked by `{}` and cannot be switched off", sources.get(lock.file).name),
                    )
                    .at(s.file, s.id.1, "switches off a locked policy")
                    .with_help("a school may add rules but not switch off one its authority locked; ask the authority for an exception"),
                );
                continue;
            }
            disabled.insert(id.to_owned());
        } else if s.enabled == Some(true) {
            disabled.remove(id);
        }
        if s.locked {
            locks.insert(id, s);
        }
    }
    disabled
}

impl PackSet {
    /// The Cedar value of `context.params`.
    pub fn params_expr(&self) -> RestrictedExpression {
        let packs = self.params.iter().map(|(pack, values)| {
            let fields = values.iter().map(|(name, v)| {
                let e = match v {
                    ParamValue::Long(n) => RestrictedExpression::new_long(*n),
                    ParamValue::Str(s) => RestrictedExpression::new_string(s.clone()),
                    ParamValue::Bool(b) => RestrictedExpression::new_bool(*b),
                    ParamValue::Set(items) => RestrictedExpression::new_set(
                        items.iter().cloned().map(RestrictedExpression::new_string),
                    ),
                };
                (name.clone(), e)
            });
            let record = RestrictedExpression::new_record(fields)
                .unwrap_or_else(|_| RestrictedExpression::new_bool(false));
            (pack.clone(), record)
        });
        RestrictedExpression::new_record(packs)
            .unwrap_or_else(|_| RestrictedExpression::new_bool(false))
    }

    /// The number of policies and limits that are evaluated (not switched off).
    pub fn policy_count(&self) -> usize {
        self.meta.len() - self.disabled.len()
    }

    /// The parameter type of `pack.name`, if declared.
    pub fn param_type(&self, pack: &str, name: &str) -> Option<ParamType> {
        self.packs
            .iter()
            .find(|p| p.manifest.id == pack)?
            .manifest
            .parameters
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.ty)
    }
}

#[cfg(test)]
mod tests;

//! `pack.yaml`: a pack's identity, scope, parameters, facts and limits.
//!
//! ```yaml
//! id: eduport
//! title: eduPort (Hamburg) account rules
//! version: 0.1.0
//! default: true                 # applied when konform.yaml names no packs
//! scope: { countries: [DE], states: [HH] }
//! parameters:
//!   manual_account_cap: { type: long, default: 5, description: … }
//! facts:
//!   contract_worker:
//!     regex: { attributes: [staff_category, employment_type], pattern: '^honorar' }
//! limits:
//!   manual-account-cap:
//!     select: principal.origin == "manual"
//!     max: manual_account_cap
//!     severity: error
//!     message: …
//! ```

use std::collections::BTreeMap;

use crate::finding::Severity;
use crate::problem::Problem;
use crate::record::RecordKind;
use crate::source::fields::Fields;
use crate::source::yaml::{Node, NodeValue};
use crate::source::{FileId, Span};

/// The type of a pack parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A whole number (Cedar `Long`).
    Long,
    /// Text (Cedar `String`).
    String,
    /// A flag (Cedar `Bool`).
    Bool,
    /// A set of texts (Cedar `Set<String>`).
    Set,
    /// A regular expression (Cedar `String`; compiled for regex facts).
    Regex,
}

impl ParamType {
    /// Parses `type:`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "long" | "integer" | "int" => Some(Self::Long),
            "string" => Some(Self::String),
            "bool" | "boolean" => Some(Self::Bool),
            "set" => Some(Self::Set),
            "regex" => Some(Self::Regex),
            _ => None,
        }
    }

    /// The name used in pack.yaml.
    pub fn name(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Set => "set",
            Self::Regex => "regex",
        }
    }

    /// The Cedar schema type.
    pub fn cedar_type(self) -> &'static str {
        match self {
            Self::Long => "Long",
            Self::String | Self::Regex => "String",
            Self::Bool => "Bool",
            Self::Set => "Set<String>",
        }
    }

    /// Converts a YAML node to a value of this type.
    pub fn value_of(self, node: &Node) -> Result<ParamValue, String> {
        match (self, &node.value) {
            (Self::Long, NodeValue::Int(n)) => Ok(ParamValue::Long(*n)),
            (Self::Bool, NodeValue::Bool(b)) => Ok(ParamValue::Bool(*b)),
            (Self::String | Self::Regex, NodeValue::Str(s)) => Ok(ParamValue::Str(s.clone())),
            (Self::Set, NodeValue::Seq(items)) => items
                .iter()
                .map(|i| {
                    i.scalar_text()
                        .ok_or_else(|| format!("found {} in the list", i.type_name()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ParamValue::Set),
            _ => Err(format!(
                "expected {}, found {}",
                self.describe(),
                node.type_name()
            )),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Long => "a whole number",
            Self::String => "a string",
            Self::Regex => "a regular expression (string)",
            Self::Bool => "true or false",
            Self::Set => "a list of strings",
        }
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// A whole number.
    Long(i64),
    /// Text (also regexes).
    Str(String),
    /// A flag.
    Bool(bool),
    /// A set of texts.
    Set(Vec<String>),
}

impl ParamValue {
    /// The value as shown in messages.
    pub fn display(&self) -> String {
        match self {
            Self::Long(n) => n.to_string(),
            Self::Str(s) => s.clone(),
            Self::Bool(b) => b.to_string(),
            Self::Set(items) => items.join(", "),
        }
    }
}

/// Which direction of change makes a parameter stricter, so that a locked parameter may still
/// be tightened by a school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tighten {
    /// A smaller number is stricter (caps, day limits).
    Lower,
    /// A larger number is stricter.
    Higher,
    /// Fewer items are stricter (allow-lists).
    Subset,
    /// More items are stricter (deny-lists).
    Superset,
}

impl Tighten {
    /// Parses `tighten:`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "lower" => Some(Self::Lower),
            "higher" => Some(Self::Higher),
            "subset" => Some(Self::Subset),
            "superset" => Some(Self::Superset),
            _ => None,
        }
    }

    /// How to tighten, for help texts.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Lower => "lower it or keep it",
            Self::Higher => "raise it or keep it",
            Self::Subset => "remove items or keep it",
            Self::Superset => "add items or keep it",
        }
    }
}

/// Whether `new` is as strict as `locked` or stricter (equal when `tighten` is not declared).
pub fn tightens(tighten: Option<Tighten>, locked: &ParamValue, new: &ParamValue) -> bool {
    match (tighten, locked, new) {
        (Some(Tighten::Lower), ParamValue::Long(l), ParamValue::Long(n)) => n <= l,
        (Some(Tighten::Higher), ParamValue::Long(l), ParamValue::Long(n)) => n >= l,
        (Some(Tighten::Subset), ParamValue::Set(l), ParamValue::Set(n)) => {
            n.iter().all(|i| l.contains(i))
        }
        (Some(Tighten::Superset), ParamValue::Set(l), ParamValue::Set(n)) => {
            l.iter().all(|i| n.contains(i))
        }
        _ => locked == new,
    }
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct ParamDef {
    /// Its name, unique within the pack.
    pub name: String,
    /// Where the name stands in pack.yaml.
    pub span: Span,
    /// Its type.
    pub ty: ParamType,
    /// The default value and its span.
    pub default: ParamValue,
    /// Where the default stands.
    pub default_span: Span,
    /// What it means.
    pub description: String,
    /// Which change makes it stricter (for locked parameters).
    pub tighten: Option<Tighten>,
}

/// What a limit counts records per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Each school of the record (`schools`), or the configured school when it has none.
    School,
    /// All records together.
    All,
}

/// A declared limit: at most `max` records selected by a Cedar condition per group.
#[derive(Debug, Clone)]
pub struct LimitDef {
    /// The full id (`eduport.manual-account-cap`).
    pub id: String,
    /// Where the id stands.
    pub span: Span,
    /// The severity of a finding.
    pub severity: Severity,
    /// The record kind it counts.
    pub applies_to: RecordKind,
    /// The Cedar condition over `principal`.
    pub select: String,
    /// Where the condition stands.
    pub select_span: Span,
    /// How records are grouped.
    pub per: Per,
    /// The parameter holding the maximum.
    pub max_param: String,
    /// Where the parameter name stands.
    pub max_span: Span,
    /// Message with `{count}`, `{max}`, `{group}` placeholders.
    pub message: String,
    /// The label on each record over the limit.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The rule or law it rests on.
    pub basis: Option<String>,
    /// The attribute whose cell to point at for each counted record.
    pub span_attr: Option<String>,
    /// Translations: `message_de`, `help_da`, `label_sv` …
    pub translations: BTreeMap<String, String>,
}

/// A parsed pack.yaml.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The pack id, a lowercase identifier.
    pub id: String,
    /// Where the id stands.
    pub id_span: Span,
    /// A one-line title.
    pub title: String,
    /// The pack version.
    pub version: String,
    /// What the pack is about (a paragraph).
    pub description: String,
    /// Whether the pack applies when konform.yaml names no packs.
    pub default: bool,
    /// Countries it applies to (empty: all).
    pub countries: Vec<String>,
    /// States it applies to (empty: all).
    pub states: Vec<String>,
    /// Parameters.
    pub parameters: Vec<ParamDef>,
    /// Facts.
    pub facts: Vec<crate::pack::facts::FactDef>,
    /// Limits.
    pub limits: Vec<LimitDef>,
    /// Extra (non-canonical) attribute names the pack's policies may read.
    pub extra_attributes: Vec<String>,
}

/// Whether `s` is a valid pack id or parameter/fact name: lowercase identifier.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether `s` is a valid pack id: a lowercase identifier that may also contain `-`
/// (`it-inventory`; its parameters are then `context.params["it-inventory"]` in Cedar).
pub fn is_pack_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Parses a pack.yaml tree. Every problem is pushed; `None` when the manifest is unusable.
pub fn parse(file: FileId, root: &Node, problems: &mut Vec<Problem>) -> Option<Manifest> {
    let before = problems.iter().filter(|p| p.is_error()).count();
    let mut f = Fields::new(file, root, "pack.yaml", "pack", problems);
    f.deny_unknown(&[
        "id",
        "title",
        "version",
        "description",
        "default",
        "scope",
        "parameters",
        "facts",
        "limits",
        "extra_attributes",
    ]);
    let id = f.string("id");
    if id.is_none() {
        f.missing("id", "give the pack a lowercase id such as `id: myschool`");
    }
    if let Some((id, span)) = &id
        && !is_pack_id(id)
    {
        f.push(
            Problem::error(
                "pack::bad-id",
                format!("pack id `{id}` is not a lowercase identifier"),
            )
            .at(file, *span, "not a valid pack id")
            .with_help("use lowercase letters, digits, `_` and `-`, starting with a letter"),
        );
    }
    let title = f.string("title").map(|(t, _)| t).unwrap_or_default();
    let version = f
        .string("version")
        .map_or_else(|| "0.0.0".to_owned(), |(v, _)| v);
    let description = f.string("description").map(|(d, _)| d).unwrap_or_default();
    let default = f.bool("default").is_some_and(|(b, _)| b);
    let extra_attributes = f
        .strings("extra_attributes")
        .unwrap_or_default()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let (mut countries, mut states) = (Vec::new(), Vec::new());
    if let Some(scope) = f.node("scope") {
        let mut s = Fields::new(file, scope, "`scope`", "pack", f.problems_ref());
        s.deny_unknown(&["countries", "states"]);
        countries = s
            .strings("countries")
            .unwrap_or_default()
            .into_iter()
            .map(|(c, _)| c.to_uppercase())
            .collect();
        states = s
            .strings("states")
            .unwrap_or_default()
            .into_iter()
            .map(|(c, _)| c.to_uppercase())
            .collect();
    }
    let pack_id = id.as_ref().map_or("pack", |(i, _)| i.as_str()).to_owned();
    let parameters = f
        .map("parameters")
        .map(|entries| parse_parameters(file, entries, f.problems_ref()))
        .unwrap_or_default();
    let facts = f
        .map("facts")
        .map(|entries| {
            crate::pack::facts::parse_facts(file, entries, &parameters, f.problems_ref())
        })
        .unwrap_or_default();
    let limits = f
        .map("limits")
        .map(|entries| parse_limits(file, &pack_id, entries, &parameters, f.problems_ref()))
        .unwrap_or_default();
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let (id, id_span) = id?;
    (errors == before).then_some(Manifest {
        id,
        id_span,
        title,
        version,
        description,
        default,
        countries,
        states,
        parameters,
        facts,
        limits,
        extra_attributes,
    })
}

fn parse_parameters(
    file: FileId,
    entries: &[(Node, Node)],
    problems: &mut Vec<Problem>,
) -> Vec<ParamDef> {
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = k.scalar_text() else {
            continue;
        };
        if !is_identifier(&name) {
            problems.push(
                Problem::error(
                    "pack::bad-name",
                    format!("parameter name `{name}` is not a lowercase identifier"),
                )
                .at(file, k.span, "invalid name")
                .with_help("use lowercase letters, digits and `_`"),
            );
            continue;
        }
        let mut f = Fields::new(file, v, format!("parameter `{name}`"), "pack", problems);
        f.deny_unknown(&["type", "default", "description", "tighten"]);
        let ty = match f.string("type") {
            Some((t, span)) => match ParamType::from_name(&t) {
                Some(ty) => ty,
                None => {
                    f.push(
                        Problem::error("pack::bad-type", format!("unknown parameter type `{t}`"))
                            .at(file, span, "unknown type")
                            .with_help("use one of: long, string, bool, set, regex"),
                    );
                    continue;
                }
            },
            None => {
                f.missing("type", "give the type: long, string, bool, set or regex");
                continue;
            }
        };
        let Some((_, default_node)) = f.entry("default") else {
            f.missing("default", "every parameter needs a default value");
            continue;
        };
        let default = match ty.value_of(default_node) {
            Ok(d) => d,
            Err(e) => {
                f.push(
                    Problem::error(
                        "pack::bad-default",
                        format!("default of `{name}` is not a {}", ty.name()),
                    )
                    .at(file, default_node.span, e),
                );
                continue;
            }
        };
        let description = f.string("description").map(|(d, _)| d).unwrap_or_default();
        let tighten = f.parsed(
            "tighten",
            "unknown direction",
            "use lower, higher (numbers), subset or superset (sets)",
            Tighten::from_name,
        );
        out.push(ParamDef {
            name,
            span: k.span,
            ty,
            default,
            default_span: default_node.span,
            description,
            tighten,
        });
    }
    out
}

fn parse_limits(
    file: FileId,
    pack: &str,
    entries: &[(Node, Node)],
    params: &[ParamDef],
    problems: &mut Vec<Problem>,
) -> Vec<LimitDef> {
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = k.scalar_text() else {
            continue;
        };
        let mut f = Fields::new(file, v, format!("limit `{name}`"), "pack", problems);
        f.deny_unknown(&[
            "severity",
            "applies_to",
            "select",
            "per",
            "max",
            "message",
            "label",
            "help",
            "basis",
            "span",
            "message_de",
            "message_da",
            "message_sv",
            "help_de",
            "help_da",
            "help_sv",
            "label_de",
            "label_da",
            "label_sv",
        ]);
        let severity = f
            .parsed(
                "severity",
                "unknown severity",
                "use error, warning or info",
                Severity::from_name,
            )
            .unwrap_or(Severity::Error);
        let applies_to = f
            .parsed(
                "applies_to",
                "unknown record type",
                "use Account, Service or Consent",
                |s| match s {
                    "Account" => Some(RecordKind::Account),
                    "Service" => Some(RecordKind::Service),
                    "Consent" => Some(RecordKind::Consent),
                    _ => None,
                },
            )
            .unwrap_or(RecordKind::Account);
        let per = f
            .parsed(
                "per",
                "unknown grouping",
                "use `school` or `all`",
                |s| match s {
                    "school" => Some(Per::School),
                    "all" => Some(Per::All),
                    _ => None,
                },
            )
            .unwrap_or(Per::School);
        let select = f.string("select");
        if select.is_none() {
            f.missing("select", "give a Cedar condition over `principal`, e.g. select: principal.origin == \"manual\"");
        }
        let max = f.string("max");
        match &max {
            None => f.missing(
                "max",
                "name a `long` parameter of this pack holding the maximum",
            ),
            Some((m, span)) => match params.iter().find(|p| &p.name == m) {
                Some(p) if p.ty == ParamType::Long => {}
                Some(_) => f.push(
                    Problem::error(
                        "pack::bad-param",
                        format!("parameter `{m}` is not of type long"),
                    )
                    .at(file, *span, "not a long parameter"),
                ),
                None => f.push(
                    Problem::error(
                        "pack::unknown-param",
                        format!("no parameter `{m}` in this pack"),
                    )
                    .at(file, *span, "unknown parameter")
                    .with_help("declare it under `parameters:` with `type: long`"),
                ),
            },
        }
        let message = f.string("message").map(|(m, _)| m);
        if message.is_none() {
            f.missing("message", "write what is wrong, e.g. message: school `{group}` has {count} manual accounts, more than {max}");
        }
        let label = f
            .string("label")
            .map_or_else(|| "counted here".to_owned(), |(l, _)| l);
        let help = f.string("help").map(|(h, _)| h);
        let basis = f.string("basis").map(|(b, _)| b);
        let span_attr = f.string("span").map(|(s, _)| s);
        let mut translations = BTreeMap::new();
        for field in ["message", "help", "label"] {
            for lang in crate::pack::LANGUAGES {
                let key = format!("{field}_{lang}");
                if let Some((t, _)) = f.string(&key) {
                    translations.insert(key, t);
                }
            }
        }
        let (Some((select, select_span)), Some((max_param, max_span)), Some(message)) =
            (select, max, message)
        else {
            continue;
        };
        let id = if name.starts_with(&format!("{pack}.")) {
            name.clone()
        } else {
            format!("{pack}.{name}")
        };
        out.push(LimitDef {
            id,
            span: k.span,
            severity,
            applies_to,
            select,
            select_span,
            per,
            max_param,
            max_span,
            message,
            label,
            help,
            basis,
            span_attr,
            translations,
        });
    }
    out
}

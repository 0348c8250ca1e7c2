//! Facts: what Cedar cannot compute, computed in Rust and handed to policies as
//! `principal.facts.<name>` (Bool).
//!
//! | kind | true when |
//! |---|---|
//! | `regex` | an attribute (any item of a set) matches a pattern |
//! | `national_id` | an attribute contains a valid national id number (SE, DK, DE) |
//! | `column` | the record has a non-empty extra column of one of the given names |
//! | `duplicate` | another enabled account has the same values of all given attributes |
//! | `missing_in` | records of another input kind exist, but none matches this record |
//! | `differs_from` | the matching record of another kind has different values |
//! | `links_to` | a set attribute names an active account (of a role) |
//! | `consent` | a consent for a purpose is in force (or: was withdrawn) |
//! | `module_access` | an enabled platform module admits one of the account's roles |
//!
//! Definitions are parsed here from pack.yaml; evaluation lives in [`eval`].

mod eval;
mod hashed;

pub use eval::{
    CompiledFact, ConsentValues, FactInputs, Identities, RecordConsents, Streamed, age, compile,
    evaluate, evaluate_in, identities_per_record, identity_short, links_present, matched_attribute,
    streamable_kinds, streamed_attributes,
};

use std::collections::BTreeMap;

use crate::pack::manifest::{ParamDef, ParamType};
use crate::pack::national_id::IdKind;
use crate::problem::Problem;
use crate::record::{AttrName, RecordKind};
use crate::source::detect::kind_from_name;
use crate::source::fields::Fields;
use crate::source::yaml::{Node, NodeValue};
use crate::source::{FileId, Span};

/// Where a regex fact's pattern comes from.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Written in pack.yaml.
    Literal(String, Span),
    /// A parameter of type regex of the same pack.
    Param(String, Span),
}

/// Which consents a `consent` fact looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStatus {
    /// A consent in force (granted, not withdrawn, by a guardian below the age).
    Valid,
    /// A consent that was withdrawn, with no consent in force since.
    Withdrawn,
    /// A consent in force given by the person themself while below the age of consent.
    SelfBelowAge,
}

/// How a fact is computed.
#[derive(Debug, Clone)]
pub enum FactKind {
    /// Any attribute matches the pattern.
    Regex {
        /// Canonical or extra attribute names.
        attributes: Vec<(String, Span)>,
        /// The pattern.
        pattern: Pattern,
        /// Match without regard to case.
        case_insensitive: bool,
    },
    /// Any attribute contains a national id number.
    NationalId {
        /// Attribute names.
        attributes: Vec<AttrName>,
        /// The kinds of number.
        kinds: Vec<IdKind>,
    },
    /// A non-empty extra column of one of these (normalised) names.
    Column {
        /// Column names, normalised.
        names: Vec<String>,
    },
    /// Another enabled account with the same values.
    Duplicate {
        /// The attributes that identify a person.
        attributes: Vec<AttrName>,
    },
    /// Records of `kind` exist but none matches.
    MissingIn {
        /// The other input kind.
        kind: RecordKind,
        /// Attributes compared (any equal value matches; case-insensitive).
        match_on: Vec<String>,
    },
    /// The matching record of `kind` has other values.
    DiffersFrom {
        /// The other input kind.
        kind: RecordKind,
        /// Attributes used to find the matching record.
        match_on: Vec<String>,
        /// Attributes compared.
        attributes: Vec<String>,
    },
    /// A set attribute names an active account.
    LinksTo {
        /// The set attribute holding keys, ids or usernames.
        attribute: AttrName,
        /// The role the linked account must have, if any.
        role: Option<String>,
    },
    /// A consent for the purpose.
    Consent {
        /// The purpose (`videoconference`).
        purpose: String,
        /// Per country code (and `default`), the age below which a guardian must consent.
        guardian_below_age: BTreeMap<String, i64>,
        /// Which consents count.
        status: ConsentStatus,
    },
    /// An enabled platform module admits one of the account's roles.
    ModuleAccess {
        /// The module name (`videoconference`).
        module: String,
    },
}

/// A declared fact: a computed Bool attribute `principal.facts.<name>`.
#[derive(Debug, Clone)]
pub struct FactDef {
    /// Its name, unique across packs.
    pub name: String,
    /// Where the name stands.
    pub span: Span,
    /// What it means.
    pub description: String,
    /// How it is computed.
    pub kind: FactKind,
}

/// The keys a fact definition may have besides `description`.
const KINDS: &[&str] = &[
    "regex",
    "national_id",
    "column",
    "duplicate",
    "missing_in",
    "differs_from",
    "links_to",
    "consent",
    "module_access",
];

fn lowercase_list(items: Vec<(String, Span)>) -> Vec<String> {
    items.into_iter().map(|(s, _)| s).collect()
}

fn other_kind(f: &mut Fields<'_>, file: FileId) -> Option<RecordKind> {
    let (k, span) = f.string("kind")?;
    let kind = kind_from_name(&k).or(match k.as_str() {
        "people" | "persons" | "leading" | "leading_system" => Some(RecordKind::Person),
        _ => None,
    });
    if kind.is_none() {
        f.push(
            Problem::error("pack::bad-value", format!("unknown input kind `{k}`"))
                .at(file, span, "unknown kind")
                .with_help("use accounts, people, consents or service"),
        );
    }
    kind
}

/// Parses the `facts:` mapping of a pack.yaml.
pub fn parse_facts(
    file: FileId,
    entries: &[(Node, Node)],
    params: &[ParamDef],
    problems: &mut Vec<Problem>,
) -> Vec<FactDef> {
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = k.scalar_text() else {
            continue;
        };
        if !crate::pack::manifest::is_identifier(&name) {
            problems.push(
                Problem::error(
                    "pack::bad-name",
                    format!("fact name `{name}` is not a lowercase identifier"),
                )
                .at(file, k.span, "invalid name"),
            );
            continue;
        }
        let mut f = Fields::new(file, v, format!("fact `{name}`"), "pack", problems);
        let mut known = vec!["description"];
        known.extend_from_slice(KINDS);
        f.deny_unknown(&known);
        let description = f.string("description").map(|(d, _)| d).unwrap_or_default();
        let present: Vec<&str> = KINDS
            .iter()
            .copied()
            .filter(|k| f.node(k).is_some())
            .collect();
        let [which] = present.as_slice() else {
            f.missing(
                "regex",
                &format!(
                    "a fact has exactly one of: {}",
                    KINDS
                        .iter()
                        .map(|k| format!("`{k}:`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        let Some(body) = f.node(which) else { continue };
        let mut b = Fields::new(
            file,
            body,
            format!("`{which}` of fact `{name}`"),
            "pack",
            f.problems_ref(),
        );
        let kind = parse_kind(file, which, &mut b, params);
        if let Some(kind) = kind {
            out.push(FactDef {
                name,
                span: k.span,
                description,
                kind,
            });
        }
    }
    out
}

fn parse_kind(
    file: FileId,
    which: &str,
    b: &mut Fields<'_>,
    params: &[ParamDef],
) -> Option<FactKind> {
    match which {
        "regex" => {
            b.deny_unknown(&["attributes", "pattern", "pattern_param", "case_insensitive"]);
            let attributes = b.strings("attributes").unwrap_or_default();
            if attributes.is_empty() {
                b.missing(
                    "attributes",
                    "name the attributes to match, e.g. attributes: [username]",
                );
            }
            let case_insensitive = b.bool("case_insensitive").is_none_or(|(v, _)| v);
            let pattern = match (b.string("pattern"), b.string("pattern_param")) {
                (Some((p, s)), None) => Pattern::Literal(p, s),
                (None, Some((p, s))) => {
                    match params.iter().find(|d| d.name == p) {
                        Some(d) if d.ty == ParamType::Regex => {}
                        Some(_) => b.push(
                            Problem::error(
                                "pack::bad-param",
                                format!("parameter `{p}` is not of type regex"),
                            )
                            .at(file, s, "not a regex parameter"),
                        ),
                        None => b.push(
                            Problem::error(
                                "pack::unknown-param",
                                format!("no parameter `{p}` in this pack"),
                            )
                            .at(file, s, "unknown parameter")
                            .with_help("declare it under `parameters:` with `type: regex`"),
                        ),
                    }
                    Pattern::Param(p, s)
                }
                _ => {
                    b.missing(
                        "pattern",
                        "give either `pattern:` or `pattern_param:` (not both)",
                    );
                    return None;
                }
            };
            Some(FactKind::Regex {
                attributes,
                pattern,
                case_insensitive,
            })
        }
        "national_id" => {
            b.deny_unknown(&["attributes", "kinds"]);
            let attributes = lowercase_list(b.strings("attributes").unwrap_or_default());
            let mut kinds = Vec::new();
            for (k, span) in b.strings("kinds").unwrap_or_default() {
                match IdKind::from_name(&k) {
                    Some(kind) => kinds.push(kind),
                    None => b.push(
                        Problem::error(
                            "pack::bad-value",
                            format!("unknown national id kind `{k}`"),
                        )
                        .at(file, span, "unknown kind")
                        .with_help(format!("use one of: {}", IdKind::NAMES.join(", "))),
                    ),
                }
            }
            if attributes.is_empty() || kinds.is_empty() {
                b.missing(
                    "kinds",
                    "give `attributes:` and `kinds:` (se_personnummer, dk_cpr, de_steuer_id)",
                );
                return None;
            }
            Some(FactKind::NationalId {
                attributes: attributes.into_iter().map(AttrName::from).collect(),
                kinds,
            })
        }
        "column" => {
            b.deny_unknown(&["names"]);
            let names: Vec<String> = b
                .strings("names")
                .unwrap_or_default()
                .into_iter()
                .map(|(n, _)| crate::source::columns::normalize_name(&n))
                .collect();
            if names.is_empty() {
                b.missing(
                    "names",
                    "list the column names, e.g. names: [ethnicity, race]",
                );
                return None;
            }
            Some(FactKind::Column { names })
        }
        "duplicate" => {
            b.deny_unknown(&["attributes"]);
            let attributes = lowercase_list(b.strings("attributes").unwrap_or_default());
            if attributes.is_empty() {
                b.missing("attributes", "name the attributes that identify a person, e.g. [given_name, family_name, birth_date]");
                return None;
            }
            Some(FactKind::Duplicate {
                attributes: attributes.into_iter().map(AttrName::from).collect(),
            })
        }
        "missing_in" => {
            b.deny_unknown(&["kind", "match_on"]);
            let kind = other_kind(b, file);
            let match_on = lowercase_list(b.strings("match_on").unwrap_or_default());
            if match_on.is_empty() {
                b.missing(
                    "match_on",
                    "name the attributes that link the records, e.g. match_on: [id]",
                );
            }
            let kind = kind?;
            (!match_on.is_empty()).then_some(FactKind::MissingIn { kind, match_on })
        }
        "differs_from" => {
            b.deny_unknown(&["kind", "match_on", "attributes"]);
            let kind = other_kind(b, file);
            let match_on = lowercase_list(b.strings("match_on").unwrap_or_default());
            let attributes = lowercase_list(b.strings("attributes").unwrap_or_default());
            if match_on.is_empty() || attributes.is_empty() {
                b.missing("attributes", "give `match_on:` and `attributes:`");
                return None;
            }
            Some(FactKind::DiffersFrom {
                kind: kind?,
                match_on,
                attributes,
            })
        }
        "links_to" => {
            b.deny_unknown(&["attribute", "role"]);
            let Some((attribute, _)) = b.string("attribute") else {
                b.missing(
                    "attribute",
                    "name the set attribute holding the linked accounts, e.g. attribute: children",
                );
                return None;
            };
            let role = b.string("role").map(|(r, _)| r);
            Some(FactKind::LinksTo {
                attribute: attribute.into(),
                role,
            })
        }
        "consent" => {
            b.deny_unknown(&["purpose", "guardian_below_age", "status"]);
            let Some((purpose, _)) = b.string("purpose") else {
                b.missing("purpose", "name the purpose, e.g. purpose: videoconference");
                return None;
            };
            let status = b
                .parsed(
                    "status",
                    "unknown consent status",
                    "use `valid`, `withdrawn` or `self_below_age`",
                    |s| match s {
                        "valid" => Some(ConsentStatus::Valid),
                        "withdrawn" => Some(ConsentStatus::Withdrawn),
                        "self_below_age" => Some(ConsentStatus::SelfBelowAge),
                        _ => None,
                    },
                )
                .unwrap_or(ConsentStatus::Valid);
            let mut ages = BTreeMap::new();
            for (ck, cv) in b.map("guardian_below_age").unwrap_or_default() {
                let country = ck.scalar_text().unwrap_or_default();
                match cv.value {
                    NodeValue::Int(n) => {
                        let key = if country == "default" {
                            country
                        } else {
                            country.to_uppercase()
                        };
                        ages.insert(key, n);
                    }
                    _ => b.push(
                        Problem::error(
                            "pack::wrong-type",
                            format!("age for `{country}` must be a whole number"),
                        )
                        .at(
                            file,
                            cv.span,
                            format!("found {}", cv.type_name()),
                        ),
                    ),
                }
            }
            Some(FactKind::Consent {
                purpose: crate::source::columns::normalize_value(
                    crate::source::columns::Normalize::Purpose,
                    &purpose,
                )
                .to_string(),
                guardian_below_age: ages,
                status,
            })
        }
        "module_access" => {
            b.deny_unknown(&["module"]);
            let Some((module, _)) = b.string("module") else {
                b.missing("module", "name the module, e.g. module: videoconference");
                return None;
            };
            Some(FactKind::ModuleAccess {
                module: module.to_lowercase(),
            })
        }
        _ => None,
    }
}

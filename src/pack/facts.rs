//! Facts: what Cedar cannot compute, computed in Rust and handed to policies as
//! `principal.facts.<name>` (Bool).
//!
//! - `regex`: an attribute matches a pattern (generic account names, national ids …);
//! - `consent`: the person holds a valid consent for a purpose, given by a guardian when they
//!   are below the age of digital consent for the country (GDPR Art. 8: DE 16, DK 15, SE 13);
//! - `module_access`: an enabled platform module admits one of the account's roles.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use regex::{Regex, RegexBuilder};

use crate::pack::manifest::{FactKind, ParamValue, Pattern};
use crate::pack::{Pack, PackRequest};
use crate::problem::Problem;
use crate::record::{Record, RecordKind, Value};
use crate::source::FileId;

/// The largest compiled regex accepted (the `regex` crate is linear-time; this bounds memory).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The longest pattern accepted.
const MAX_PATTERN_LEN: usize = 4096;

/// A fact ready to evaluate.
#[derive(Debug, Clone)]
pub enum CompiledFact {
    /// Any listed attribute matches.
    Regex {
        /// The fact name.
        name: String,
        /// Attribute names (canonical or extra).
        attributes: Vec<String>,
        /// The compiled pattern.
        regex: Regex,
    },
    /// A valid consent for a purpose exists.
    Consent {
        /// The fact name.
        name: String,
        /// The purpose.
        purpose: String,
        /// Guardian-consent ages by country (and `default`).
        ages: BTreeMap<String, i64>,
    },
    /// An enabled module admits the account.
    ModuleAccess {
        /// The fact name.
        name: String,
        /// The module.
        module: String,
    },
}

impl CompiledFact {
    /// The fact name.
    pub fn name(&self) -> &str {
        match self {
            Self::Regex { name, .. }
            | Self::Consent { name, .. }
            | Self::ModuleAccess { name, .. } => name,
        }
    }
}

/// Compiles the facts of all packs, checking names are unique and patterns compile.
pub fn compile(
    packs: &[Pack],
    params: &BTreeMap<String, BTreeMap<String, ParamValue>>,
    req: &PackRequest,
    problems: &mut Vec<Problem>,
) -> Vec<CompiledFact> {
    let mut out: Vec<CompiledFact> = Vec::new();
    let mut seen: HashMap<String, (FileId, crate::source::Span)> = HashMap::new();
    for pack in packs {
        let file = pack.manifest_file;
        for def in &pack.manifest.facts {
            if let Some((other_file, other_span)) = seen.get(&def.name) {
                let mut p = Problem::error(
                    "pack::duplicate-fact",
                    format!("fact `{}` is defined twice", def.name),
                )
                .at(file, def.span, "second definition")
                .with_help("fact names are shared by all packs; rename one of them");
                if *other_file == file {
                    p = p.with_label(*other_span, "first definition");
                }
                problems.push(p);
                continue;
            }
            seen.insert(def.name.clone(), (file, def.span));
            let compiled = match &def.kind {
                FactKind::Regex {
                    attributes,
                    pattern,
                    case_insensitive,
                } => {
                    let (text, at_file, at_span) = match pattern {
                        Pattern::Literal(p, s) => (p.clone(), file, *s),
                        Pattern::Param(name, s) => {
                            let value = params
                                .get(&pack.manifest.id)
                                .and_then(|m| m.get(name))
                                .map(ParamValue::display)
                                .unwrap_or_default();
                            let origin = req
                                .overrides
                                .iter()
                                .find(|o| o.pack.0 == pack.manifest.id && &o.name.0 == name)
                                .map_or((file, *s), |o| (o.file, o.value.span));
                            (value, origin.0, origin.1)
                        }
                    };
                    if text.chars().count() > MAX_PATTERN_LEN {
                        problems.push(
                            Problem::error("pack::bad-regex", format!("the pattern of fact `{}` is longer than {MAX_PATTERN_LEN} characters", def.name))
                                .at(at_file, at_span, "too long")
                                .with_help("simplify the pattern"),
                        );
                        continue;
                    }
                    match RegexBuilder::new(&text)
                        .case_insensitive(*case_insensitive)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                    {
                        Ok(regex) => CompiledFact::Regex {
                            name: def.name.clone(),
                            attributes: attributes.iter().map(|(a, _)| a.clone()).collect(),
                            regex,
                        },
                        Err(e) => {
                            let msg = e.to_string();
                            let last = msg.lines().last().unwrap_or("").trim().to_owned();
                            problems.push(
                                Problem::error("pack::bad-regex", format!("the pattern of fact `{}` is not a valid regex", def.name))
                                    .at(at_file, at_span, if last.is_empty() { "invalid pattern".to_owned() } else { last })
                                    .with_help("see the syntax of the Rust `regex` crate; look-around and back-references are not supported"),
                            );
                            continue;
                        }
                    }
                }
                FactKind::Consent {
                    purpose,
                    guardian_below_age,
                } => CompiledFact::Consent {
                    name: def.name.clone(),
                    purpose: purpose.clone(),
                    ages: guardian_below_age.clone(),
                },
                FactKind::ModuleAccess { module } => CompiledFact::ModuleAccess {
                    name: def.name.clone(),
                    module: module.clone(),
                },
            };
            out.push(compiled);
        }
    }
    out
}

/// What facts may look up beyond the record itself.
#[derive(Debug, Default)]
pub struct FactInputs<'a> {
    /// Consent-register entries by person key.
    pub consents: HashMap<&'a str, Vec<&'a Record>>,
    /// Platform modules.
    pub services: Vec<&'a Record>,
    /// The evaluation date.
    pub today: NaiveDate,
    /// The school's country (upper case), e.g. `DE`.
    pub country: String,
}

impl<'a> FactInputs<'a> {
    /// Indexes the consent and service records among `records`.
    pub fn new(records: &'a [Record], today: NaiveDate, country: &str) -> Self {
        let mut consents: HashMap<&'a str, Vec<&'a Record>> = HashMap::new();
        let mut services = Vec::new();
        for r in records {
            match r.kind {
                RecordKind::Consent => {
                    if let Some(p) = r.str("person") {
                        consents.entry(p).or_default().push(r);
                    }
                }
                RecordKind::Service => services.push(r),
                RecordKind::Account => {}
            }
        }
        Self {
            consents,
            services,
            today,
            country: country.to_uppercase(),
        }
    }

    /// The consents of an account: entries whose person is its key or its username.
    pub fn consents_of(&self, record: &Record) -> Vec<&'a Record> {
        let mut out: Vec<&'a Record> = self
            .consents
            .get(record.key.as_str())
            .cloned()
            .unwrap_or_default();
        if let Some(u) = record.str("username").filter(|u| *u != record.key) {
            out.extend(self.consents.get(u).into_iter().flatten().copied());
        }
        out
    }

    /// Whether a consent entry is in force at the evaluation date.
    pub fn in_force(&self, consent: &Record) -> bool {
        let granted_ok = consent
            .get("granted")
            .and_then(|a| a.value.as_date())
            .is_none_or(|d| d <= self.today);
        let not_withdrawn = consent
            .get("withdrawn")
            .and_then(|a| a.value.as_date())
            .is_none_or(|d| d > self.today);
        granted_ok && not_withdrawn
    }

    /// The purposes for which an account holds a consent in force (by anyone).
    pub fn consent_purposes(&self, record: &Record) -> Vec<String> {
        let mut out: Vec<String> = self
            .consents_of(record)
            .into_iter()
            .filter(|c| self.in_force(c))
            .filter_map(|c| c.str("purpose").map(str::to_owned))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Whole years from `birth` to `today`.
pub fn age(birth: NaiveDate, today: NaiveDate) -> i64 {
    let mut years = i64::from(today.year() - birth.year());
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// For a regex fact, the first attribute of `record` that matches (to point a finding at it).
pub fn matched_attribute<'f>(fact: &'f CompiledFact, record: &Record) -> Option<&'f str> {
    let CompiledFact::Regex {
        attributes, regex, ..
    } = fact
    else {
        return None;
    };
    attributes.iter().map(String::as_str).find(|a| {
        let value = record.attrs.get(*a).or_else(|| record.extra.get(*a));
        match value.map(|v| &v.value) {
            Some(Value::Set(items)) => items.iter().any(|i| regex.is_match(i)),
            Some(v) => regex.is_match(&v.display()),
            None => false,
        }
    })
}

/// Evaluates one fact for one record. `age` is the record's age, if known.
pub fn evaluate(
    fact: &CompiledFact,
    record: &Record,
    inputs: &FactInputs<'_>,
    age: Option<i64>,
) -> bool {
    match fact {
        CompiledFact::Regex { .. } => matched_attribute(fact, record).is_some(),
        CompiledFact::Consent { purpose, ages, .. } => {
            if record.kind != RecordKind::Account {
                return false;
            }
            let threshold = ages
                .get(&inputs.country)
                .or_else(|| ages.get("default"))
                .copied()
                .unwrap_or(16);
            // Unknown age: students are treated as minors, everyone else as adults.
            let minor = match age {
                Some(a) => a < threshold,
                None => record.has_in_set("roles", "student"),
            };
            inputs.consents_of(record).into_iter().any(|c| {
                c.str("purpose") == Some(purpose.as_str())
                    && inputs.in_force(c)
                    && (!minor || c.str("granted_by") == Some("guardian"))
            })
        }
        CompiledFact::ModuleAccess { module, .. } => {
            if record.kind != RecordKind::Account {
                return false;
            }
            inputs.services.iter().any(|s| {
                s.str("module") == Some(module.as_str())
                    && s.get("enabled").and_then(|a| a.value.as_bool()) != Some(false)
                    && s.get("allowed_roles")
                        .and_then(|a| a.value.as_set())
                        .is_none_or(|allowed| allowed.iter().any(|r| record.has_in_set("roles", r)))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn date(s: &str) -> NaiveDate {
        crate::source::value::parse_date(s).unwrap_or_default()
    }

    fn account(key: &str, roles: &[&str], birth: Option<&str>) -> Record {
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
        r.key = key.into();
        r.set("username", Value::Str(key.into()), Span::default());
        r.set(
            "roles",
            Value::Set(roles.iter().map(|s| (*s).to_owned()).collect()),
            Span::default(),
        );
        if let Some(b) = birth {
            r.set("birth_date", Value::Date(date(b)), Span::default());
        }
        r
    }

    fn consent(person: &str, by: &str, granted: &str, withdrawn: Option<&str>) -> Record {
        let mut r = Record::new(RecordKind::Consent, FileId(1), Span::default());
        r.key = person.into();
        r.set("person", Value::Str(person.into()), Span::default());
        r.set(
            "purpose",
            Value::Str("videoconference".into()),
            Span::default(),
        );
        r.set("granted_by", Value::Str(by.into()), Span::default());
        r.set("granted", Value::Date(date(granted)), Span::default());
        if let Some(w) = withdrawn {
            r.set("withdrawn", Value::Date(date(w)), Span::default());
        }
        r
    }

    fn consent_fact() -> CompiledFact {
        CompiledFact::Consent {
            name: "vc".into(),
            purpose: "videoconference".into(),
            ages: BTreeMap::from([
                ("DE".into(), 16),
                ("DK".into(), 15),
                ("SE".into(), 13),
                ("default".into(), 16),
            ]),
        }
    }

    #[test]
    fn ages_in_whole_years() {
        assert_eq!(age(date("2010-11-23"), date("2026-11-22")), 15);
        assert_eq!(age(date("2010-11-22"), date("2026-11-22")), 16);
    }

    #[test]
    fn minors_need_guardian_consent_by_country() {
        let records = vec![
            consent("s1", "self", "2026-09-01", None),
            consent("s2", "guardian", "2026-09-01", None),
            consent("s3", "guardian", "2026-09-01", Some("2026-10-01")),
        ];
        let fact = consent_fact();
        let today = date("2026-11-22");
        let de = FactInputs::new(&records, today, "DE");
        let dk = FactInputs::new(&records, today, "dk");
        // 15 years old: a minor in Germany (16), not in Denmark (15).
        let s1 = account("s1", &["student"], Some("2011-01-01"));
        assert!(!evaluate(&fact, &s1, &de, Some(15)));
        assert!(evaluate(&fact, &s1, &dk, Some(15)));
        let s2 = account("s2", &["student"], None);
        assert!(evaluate(&fact, &s2, &de, None));
        let s3 = account("s3", &["student"], None);
        assert!(
            !evaluate(&fact, &s3, &de, None),
            "withdrawn consent no longer counts"
        );
        let s4 = account("s4", &["teacher"], None);
        assert!(!evaluate(&fact, &s4, &de, None), "no consent at all");
    }

    #[test]
    fn module_access_by_roles_and_enabled() {
        let mut svc = Record::new(RecordKind::Service, FileId(2), Span::default());
        svc.set(
            "module",
            Value::Str("videoconference".into()),
            Span::default(),
        );
        svc.set(
            "allowed_roles",
            Value::Set(vec!["student".into()]),
            Span::default(),
        );
        let records = vec![svc];
        let inputs = FactInputs::new(&records, date("2026-11-22"), "DE");
        let fact = CompiledFact::ModuleAccess {
            name: "m".into(),
            module: "videoconference".into(),
        };
        assert!(evaluate(
            &fact,
            &account("a", &["student"], None),
            &inputs,
            None
        ));
        assert!(!evaluate(
            &fact,
            &account("b", &["teacher"], None),
            &inputs,
            None
        ));
    }

    #[test]
    fn regex_matches_any_listed_attribute() -> Result<(), regex::Error> {
        let fact = CompiledFact::Regex {
            name: "g".into(),
            attributes: vec!["username".into(), "roles".into()],
            regex: RegexBuilder::new("^lehrer[0-9]*$")
                .case_insensitive(true)
                .build()?,
        };
        let inputs = FactInputs::default();
        assert!(evaluate(
            &fact,
            &account("Lehrer1", &[], None),
            &inputs,
            None
        ));
        assert!(!evaluate(
            &fact,
            &account("anna.lehrer", &[], None),
            &inputs,
            None
        ));
        Ok(())
    }
}

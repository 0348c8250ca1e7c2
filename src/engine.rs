//! Evaluation: records in, findings out. No I/O, no printing.
//!
//! Each record becomes a Cedar entity (its attributes, derived `age` and `consents`, and the
//! pack facts) in a small per-record entity store with the school; one authorization request
//! per record evaluates every policy, and the reasons of the Deny are exactly the violated
//! policies (all forbids are evaluated, see DEPENDENCY-NOTES §1e). Policy evaluation errors
//! are surfaced as problems, never dropped. Limits are counted per group afterwards.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request,
    RestrictedExpression,
};
use chrono::{Datelike as _, NaiveDate};
use rayon::prelude::*;

use crate::finding::{Finding, Related};
use crate::pack::facts::{self, FactInputs};
use crate::pack::manifest::Per;
use crate::pack::reads::{Cut, Reads, Use};
use crate::pack::{PackSet, PolicyMeta};
use crate::problem::{Label, Problem};
use crate::record::{AttrName, Fields, Record, RecordKind, Value};

/// The school (or authority) being checked: the resource of every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct School {
    /// Its id (school number); `school` when not configured.
    pub id: String,
    /// ISO country code, upper case (`DE`); empty when unknown.
    pub country: String,
    /// State (`HH`); empty when unknown.
    pub state: String,
    /// School types.
    pub types: Vec<String>,
}

/// Everything an evaluation depends on besides packs and records.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// The evaluation date (`--today`).
    pub today: NaiveDate,
    /// The school.
    pub school: School,
    /// The language of messages (`de`, `da`, `sv`); English when `None` or untranslated.
    pub lang: Option<String>,
    /// Reuse the decision for records with the same projection (see [`evaluate`]); `false`
    /// evaluates every record on its own, the test oracle.
    pub cache: bool,
    /// Counts checked records, for a progress bar.
    pub progress: Option<std::sync::Arc<crate::Progress>>,
}

/// Findings and problems of an evaluation.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Violations in record order.
    pub findings: Vec<Finding>,
    /// Evaluation errors (exit 2).
    pub problems: Vec<Problem>,
}

fn uid(type_name: &str, id: &str) -> Result<EntityUid, String> {
    let t = EntityTypeName::from_str(type_name).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

fn date_expr(d: NaiveDate) -> RestrictedExpression {
    RestrictedExpression::new_datetime(d.format("%Y-%m-%d").to_string())
}

fn value_expr(v: &Value) -> RestrictedExpression {
    match v {
        Value::Str(s) => RestrictedExpression::new_string(s.to_string()),
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::Long(n) => RestrictedExpression::new_long(*n),
        Value::Date(d) => date_expr(*d),
        Value::Set(items) => RestrictedExpression::new_set(
            items
                .iter()
                .map(|s| RestrictedExpression::new_string(s.to_string())),
        ),
    }
}

fn record_expr(
    fields: Vec<(String, RestrictedExpression)>,
) -> Result<RestrictedExpression, String> {
    RestrictedExpression::new_record(fields).map_err(|e| e.to_string())
}

/// The derived values of a record that policies and messages may use.
struct Derived<'p> {
    age: Option<i64>,
    /// Days from each date attribute to the evaluation date (positive when in the past).
    days: Vec<(&'p str, i64)>,
    consents: Vec<&'p str>,
    /// Every fact of the packs, in their order; those no policy of the record's kind reads
    /// are `false` unless all are wanted.
    facts: Vec<bool>,
}

/// Which derived values to compute: everything, or what the policies of a kind read.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    All,
    Some(&'a WantedPaths),
}

/// What the policies of one record kind read of the derived values.
struct WantedPaths {
    /// Per fact of the packs, in their order.
    facts: Vec<bool>,
    consents: bool,
    /// Whether they read anything looked up in the consent register: the consents or a fact
    /// about them (see [`Evaluator::warm`]).
    looks_up_consents: bool,
    days: bool,
    /// The paths they read, in ascending order (of `str`), as [`projection`] reads them.
    parts: Vec<Part>,
}

impl WantedPaths {
    fn new(
        packs: &PackSet,
        kind: RecordKind,
        paths: &std::collections::BTreeSet<String>,
        today: NaiveDate,
    ) -> Self {
        let uses = packs.uses.get(&kind);
        let all_facts = paths.contains("facts");
        let facts: Vec<bool> = packs
            .facts
            .iter()
            .map(|f| all_facts || paths.contains(&format!("facts.{}", f.name())))
            .collect();
        let consents = paths.contains("consents");
        let looks_up_consents = consents
            || packs
                .facts
                .iter()
                .zip(&facts)
                .any(|(f, read)| *read && f.reads_consents());
        Self {
            facts,
            consents,
            looks_up_consents,
            days: paths.iter().any(|p| p.ends_with("_days")),
            parts: paths
                .iter()
                .map(|p| Part::of(packs, p, uses, today))
                .collect(),
        }
    }
}

/// One path the policies read, resolved once per kind instead of once per record.
enum Part {
    /// `facts.<name>`: the fact at this index of the packs' facts (`None`: no such fact).
    Fact(Option<usize>),
    /// `extra.<name>`.
    Extra(String),
    /// `facts`: every fact.
    Facts,
    /// `extra`: every column the packs name.
    Extras,
    Age(Keep),
    Consents,
    Key,
    /// An attribute, and for `<base>_days` the base whose days since it are derived.
    Attr {
        name: AttrName,
        days_of: Option<AttrName>,
        keep: Keep,
    },
}

/// What a projection keeps of a number or attribute the policies read (see [`Use`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Keep {
    /// The value.
    Whole,
    /// Whether there is one.
    Presence,
    /// Whether there is one and, of a number or a date (as days since the common era),
    /// where it falls among these constants (ascending): below the first, on it, between it
    /// and the next, … (see [`cut_class`]).
    Cuts(Vec<i64>),
}

impl Keep {
    /// What a projection keeps of `name`, whose constants stand for their values on `today`.
    fn of(uses: Option<&BTreeMap<String, Use>>, name: &str, today: NaiveDate) -> Self {
        let day = |d: NaiveDate| i64::from(d.num_days_from_ce());
        match uses.and_then(|u| u.get(name)) {
            Some(Use::Presence) => Keep::Presence,
            Some(Use::Cuts(cuts)) => {
                let mut values: Vec<i64> = cuts
                    .iter()
                    .map(|c| match c {
                        Cut::Number(n) => *n,
                        Cut::Now => day(today),
                        Cut::SchoolYearStart => day(school_year_start(today)),
                    })
                    .collect();
                values.sort_unstable();
                values.dedup();
                Keep::Cuts(values)
            }
            Some(Use::Value) | None => Keep::Whole,
        }
    }
}

/// Where `n` falls among the ascending `cuts`: `2i` when it lies between the `i`-th cut and
/// the one before, `2i + 1` when it equals the `i`-th. Two numbers of one class compare alike
/// (`<`, `<=`, `>`, `>=`, `==`, `!=`) with every cut.
fn cut_class(cuts: &[i64], n: i64) -> u32 {
    let below = cuts.partition_point(|c| *c < n);
    let on = cuts.get(below) == Some(&n);
    u32::try_from(2 * below + usize::from(on)).unwrap_or(u32::MAX)
}

impl Part {
    fn of(
        packs: &PackSet,
        path: &str,
        uses: Option<&BTreeMap<String, Use>>,
        today: NaiveDate,
    ) -> Self {
        match path.split_once('.') {
            Some(("facts", name)) => Self::Fact(packs.facts.iter().position(|f| f.name() == name)),
            Some(("extra", name)) => Self::Extra(name.to_owned()),
            _ => match path {
                "facts" => Self::Facts,
                "extra" => Self::Extras,
                "age" => Self::Age(Keep::of(uses, "age", today)),
                "consents" => Self::Consents,
                "key" => Self::Key,
                name => Self::Attr {
                    name: AttrName::new(name),
                    days_of: name.strip_suffix("_days").map(AttrName::new),
                    keep: Keep::of(uses, name, today),
                },
            },
        }
    }
}

impl Wanted<'_> {
    fn fact(self, index: usize) -> bool {
        match self {
            Self::All => true,
            Self::Some(w) => w.facts.get(index).copied().unwrap_or(true),
        }
    }

    fn consents(self) -> bool {
        match self {
            Self::All => true,
            Self::Some(w) => w.consents,
        }
    }
}

/// The values derived for `record` that its policies may read (see [`Wanted`]): its age, its
/// consents, its facts, and when everything is wanted the days since each of its dates.
fn derive<'a>(
    packs: &'a PackSet,
    record: &'a Record,
    inputs: &'a FactInputs<'_>,
    wanted: Wanted<'_>,
) -> Derived<'a> {
    let derived = derive_into(
        packs,
        record,
        inputs,
        wanted,
        Vec::new(),
        facts::RecordConsents::default(),
    );
    match wanted {
        Wanted::All => with_days(derived, record, inputs.today),
        Wanted::Some(_) => derived,
    }
}

/// [`derive`] without the days since each date, for a record or a row read from its cells
/// (see [`Fields`]), with the facts written into `facts` (a buffer kept from record to record,
/// cleared first) and the record's consent entries kept in `known` (looked up on first use
/// unless they were looked up with its batch's). A projection computes the days it reads
/// itself, and [`with_days`] adds them before an authorization request.
fn derive_into<'a, 's: 'a, R: Fields + ?Sized>(
    packs: &'a PackSet,
    record: &'a R,
    inputs: &'s FactInputs<'_>,
    wanted: Wanted<'_>,
    mut facts: Vec<bool>,
    known: facts::RecordConsents<'s>,
) -> Derived<'a> {
    let age = record
        .value_of(&crate::record::attr::BIRTH_DATE)
        .and_then(Value::as_date)
        .map(|b| facts::age(b, inputs.today));
    // Looked up once for every fact about consents.
    let consents =
        if matches!(record.kind(), RecordKind::Account | RecordKind::Person) && wanted.consents() {
            inputs.consent_purposes_in(record, &known)
        } else {
            Vec::new()
        };
    facts.clear();
    facts.extend(
        packs
            .facts
            .iter()
            .enumerate()
            .map(|(i, f)| wanted.fact(i) && facts::evaluate_in(f, record, inputs, age, &known)),
    );
    Derived {
        age,
        days: Vec::new(),
        consents,
        facts,
    }
}

/// `derived` with the days from each date attribute of `record` to `today`.
fn with_days<'a>(mut derived: Derived<'a>, record: &'a Record, today: NaiveDate) -> Derived<'a> {
    derived.days = record
        .attrs
        .iter()
        .filter_map(|(name, a)| {
            a.value
                .as_date()
                .map(|d| (name.as_ref(), (today - d).num_days()))
        })
        .collect();
    derived
}

fn entity(packs: &PackSet, record: &Record, derived: &Derived) -> Result<Entity, String> {
    let mut attrs: HashMap<String, RestrictedExpression> = HashMap::new();
    attrs.insert(
        "key".into(),
        RestrictedExpression::new_string(record.key.to_string()),
    );
    for (name, attr) in &record.attrs {
        attrs.insert(name.to_string(), value_expr(&attr.value));
    }
    for (name, days) in &derived.days {
        attrs.insert(
            format!("{name}_days"),
            RestrictedExpression::new_long(*days),
        );
    }
    let empty_set = || RestrictedExpression::new_set(std::iter::empty());
    if matches!(record.kind, RecordKind::Account | RecordKind::Person) {
        for set in [
            "roles",
            "schools",
            "groups",
            "children",
            "subjects",
            "taught_subjects",
            "school_forms",
        ] {
            attrs.entry(set.into()).or_insert_with(empty_set);
        }
        attrs
            .entry("password_present".into())
            .or_insert_with(|| RestrictedExpression::new_bool(false));
        attrs
            .entry("login_tracked".into())
            .or_insert_with(|| RestrictedExpression::new_bool(false));
        if let Some(age) = derived.age {
            attrs.insert("age".into(), RestrictedExpression::new_long(age));
        }
        attrs.insert(
            "consents".into(),
            RestrictedExpression::new_set(
                derived
                    .consents
                    .iter()
                    .map(|c| RestrictedExpression::new_string((*c).to_owned())),
            ),
        );
    }
    let facts = packs
        .facts
        .iter()
        .zip(&derived.facts)
        .map(|(f, b)| (f.name().to_owned(), RestrictedExpression::new_bool(*b)))
        .collect();
    attrs.insert("facts".into(), record_expr(facts)?);
    let extra = packs
        .extra_attributes
        .iter()
        .filter_map(|name| {
            record.extra.get(name).map(|a| {
                (
                    name.clone(),
                    RestrictedExpression::new_string(a.value.display()),
                )
            })
        })
        .collect();
    attrs.insert("extra".into(), record_expr(extra)?);
    let id = uid(record.kind.entity_type(), &record.key)?;
    Entity::new(id, attrs, Default::default()).map_err(|e| e.to_string())
}

/// Records evaluated together with one projection cache (at most).
const CHUNK: usize = 4096;

/// Appends a text with its length to a projection key.
fn push_str(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&s.len().to_le_bytes());
    key.extend_from_slice(s.as_bytes());
}

/// Appends a list of texts with its length to a projection key.
fn push_strings<S: AsRef<str>>(key: &mut Vec<u8>, items: &[S]) {
    key.extend_from_slice(&items.len().to_le_bytes());
    for item in items {
        push_str(key, item.as_ref());
    }
}

/// Appends an unambiguous encoding of an optional value to a projection key.
fn push_value(key: &mut Vec<u8>, value: Option<&Value>) {
    key.push(value.map_or(0, type_tag));
    match value {
        None => {}
        Some(Value::Str(s)) => push_str(key, s),
        Some(Value::Bool(b)) => key.push(u8::from(*b)),
        Some(Value::Long(n)) => key.extend_from_slice(&n.to_le_bytes()),
        Some(Value::Date(d)) => key.extend_from_slice(&d.num_days_from_ce().to_le_bytes()),
        Some(Value::Set(items)) => push_strings(key, items),
    }
}

/// The tag [`push_value`] writes before a value of the type of `value` (0 for none).
fn type_tag(value: &Value) -> u8 {
    match value {
        Value::Str(_) => 1,
        Value::Bool(_) => 2,
        Value::Long(_) => 3,
        Value::Date(_) => 4,
        Value::Set(_) => 5,
    }
}

/// A number the policies read (an age, days since a date), as much of it as they use.
fn push_number(key: &mut Vec<u8>, value: Option<i64>, keep: &Keep) {
    match (keep, value) {
        (Keep::Whole, _) => push_opt(key, value, i64::to_le_bytes),
        (Keep::Presence, _) => key.push(u8::from(value.is_some())),
        (Keep::Cuts(_), None) => key.push(0),
        (Keep::Cuts(cuts), Some(n)) => {
            key.push(1);
            key.extend_from_slice(&cut_class(cuts, n).to_le_bytes());
        }
    }
}

fn push_opt<T: Copy>(key: &mut Vec<u8>, value: Option<T>, bytes: impl Fn(T) -> [u8; 8]) {
    match value {
        None => key.push(0),
        Some(v) => {
            key.push(1);
            key.extend_from_slice(&bytes(v));
        }
    }
}

/// The values of `record` at `parts` (what the policies for its kind read), as a cache key.
/// Two records with the same key build entities that agree on everything the policies read.
/// Parts come in the same order for every record of a kind, and every value is encoded with
/// its type and length, so equal keys mean equal values.
/// Writes the projection key of `record` into `key` (cleared first).
fn projection<R: Fields + ?Sized>(
    packs: &PackSet,
    record: &R,
    derived: &Derived,
    today: NaiveDate,
    parts: &[Part],
    key: &mut Vec<u8>,
) {
    key.clear();
    key.push(record.kind() as u8);
    // Attribute parts come in ascending order of their names (see `WantedPaths::parts`).
    let mut at = 0;
    for part in parts {
        match part {
            Part::Fact(index) => {
                key.push(match index.and_then(|i| derived.facts.get(i)).copied() {
                    None => 0,
                    Some(false) => 1,
                    Some(true) => 2,
                })
            }
            Part::Extra(name) => push_value(key, record.extra(name)),
            Part::Facts => {
                for b in &derived.facts {
                    key.push(u8::from(*b));
                }
            }
            Part::Extras => {
                for name in &packs.extra_attributes {
                    push_value(key, record.extra(name));
                }
            }
            Part::Age(keep) => push_number(key, derived.age, keep),
            Part::Consents => push_strings(key, &derived.consents),
            Part::Key => {
                key.push(1);
                push_str(key, record.key());
            }
            Part::Attr {
                name,
                days_of,
                keep,
            } => {
                let value = record.seek_of(name, &mut at);
                match (keep, value) {
                    // Its type too: a value of another type than the schema's fails the
                    // request (an error, never reused) where a value of its type does not.
                    (Keep::Presence, _) => key.push(value.map_or(0, type_tag)),
                    (Keep::Cuts(cuts), Some(Value::Long(n))) => {
                        key.push(6);
                        key.extend_from_slice(&cut_class(cuts, *n).to_le_bytes());
                    }
                    // A date is a Cedar datetime at midnight: days compare as the datetimes.
                    (Keep::Cuts(cuts), Some(Value::Date(d))) => {
                        key.push(7);
                        let day = i64::from(d.num_days_from_ce());
                        key.extend_from_slice(&cut_class(cuts, day).to_le_bytes());
                    }
                    _ => push_value(key, value),
                }
                // As [`with_days`] derives them (not derived beforehand for a projection).
                let days = days_of
                    .as_ref()
                    .and_then(|base| record.value_of(base)?.as_date())
                    .map(|d| (today - d).num_days());
                push_number(key, days, keep);
            }
        }
    }
}

fn school_entity(school: &School) -> Result<Entity, String> {
    let attrs = HashMap::from([
        (
            "id".to_owned(),
            RestrictedExpression::new_string(school.id.clone()),
        ),
        (
            "country".to_owned(),
            RestrictedExpression::new_string(school.country.clone()),
        ),
        (
            "state".to_owned(),
            RestrictedExpression::new_string(school.state.clone()),
        ),
        (
            "types".to_owned(),
            RestrictedExpression::new_set(
                school
                    .types
                    .iter()
                    .cloned()
                    .map(RestrictedExpression::new_string),
            ),
        ),
    ]);
    Entity::new(uid("School", &school.id)?, attrs, Default::default()).map_err(|e| e.to_string())
}

/// Fills `{name}` placeholders from the record (attributes, extras, `key`, `age`).
pub fn fill(template: &str, record: &Record, age: Option<i64>, today: NaiveDate) -> String {
    fill_with(template, |name| match name {
        "key" => Some(record.key.to_string()),
        "age" => age.map(|a| a.to_string()),
        _ => record
            .attrs
            .get(name)
            .or_else(|| record.extra.get(name))
            .map(|a| a.value.display())
            .or_else(|| {
                // `{last_login_days}`: the derived day count of a date attribute.
                let date = record.get(name.strip_suffix("_days")?)?.value.as_date()?;
                Some((today - date).num_days().to_string())
            }),
    })
}

/// Fills `{name}` placeholders with `lookup`; unknown or empty names read `(empty)`.
pub fn fill_with(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 1..).unwrap_or("");
        match after.find('}') {
            Some(end) => {
                let name = after.get(..end).unwrap_or("").trim();
                out.push_str(&lookup(name).unwrap_or_else(|| "(empty)".to_owned()));
                rest = after.get(end + 1..).unwrap_or("");
            }
            None => {
                out.push_str(rest.get(start..).unwrap_or(""));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The span a finding points at: `@span("attr")` names an attribute; `@span("facts.name")`
/// the attribute that made a fact about attributes true; else the whole record.
fn finding_span(
    packs: &PackSet,
    span_attr: Option<&str>,
    record: &Record,
    inputs: &FactInputs<'_>,
) -> crate::source::Span {
    // `@span` may list several places, separated by commas: the first one present wins.
    span_attr
        .into_iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .find_map(|a| {
            let attr = match a.strip_prefix("facts.") {
                Some(fact) => packs
                    .facts
                    .iter()
                    .find(|f| f.name() == fact)
                    .and_then(|f| facts::matched_attribute(f, record, inputs))?,
                None => a.to_owned(),
            };
            record.span_of(&attr)
        })
        .unwrap_or(record.span)
}

fn finding_for(
    packs: &PackSet,
    meta: &PolicyMeta,
    record: &Record,
    age: Option<i64>,
    lang: Option<&str>,
    inputs: &FactInputs<'_>,
) -> Finding {
    let span = finding_span(packs, meta.span_attr.as_deref(), record, inputs);
    let label = match meta.text("label", lang).filter(|l| !l.is_empty()) {
        Some(l) => fill(l, record, age, inputs.today),
        None => format!("violates {}", meta.id),
    };
    Finding {
        policy: meta.id.clone(),
        pack: meta.pack.clone(),
        severity: meta.severity,
        message: fill(
            meta.text("message", lang).unwrap_or_default(),
            record,
            age,
            inputs.today,
        ),
        subject: record.key.to_string(),
        kind: record.kind,
        file: record.file,
        span,
        label,
        record_span: record.span,
        help: meta
            .text("help", lang)
            .map(|h| fill(h, record, age, inputs.today)),
        basis: meta.basis.clone(),
        url: meta.url.clone(),
        related: Vec::new(),
        fingerprint: crate::finding::fingerprint(&meta.id, &record.key),
        waiver: None,
        baselined: false,
    }
}

#[derive(Clone)]
struct RecordOutcome {
    violated: Vec<String>,
    age: Option<i64>,
    errors: Vec<(String, Vec<Problem>)>,
}

/// Evaluates every record against every policy and limit.
pub fn evaluate(packs: &PackSet, records: &[Record], ctx: &EvalContext) -> Evaluation {
    let inputs = FactInputs::new(records, ctx.today, &ctx.school.country, &packs.facts);
    let evaluator = match Evaluator::new(packs, ctx) {
        Ok(e) => e,
        Err(p) => {
            return Evaluation {
                findings: Vec::new(),
                problems: vec![p],
            };
        }
    };
    let mut collector = Collector::new(&evaluator);
    collector.add(records, &inputs);
    collector.finish()
}

/// Everything the evaluation of a record needs besides the record and the fact inputs, set
/// up once per run: the school entity, the request parts, what each kind's policies read.
pub struct Evaluator<'p> {
    packs: &'p PackSet,
    ctx: &'p EvalContext,
    school: Entity,
    school_uid: EntityUid,
    action: EntityUid,
    context: Context,
    authorizer: Authorizer,
    /// What the policies of each kind read (none for kinds whose policies read everything);
    /// looked up for every record, so with a fast hasher.
    wanted_by_kind: foldhash::HashMap<RecordKind, WantedPaths>,
    /// Decisions by projection across chunks and batches (see [`Evaluator::outcomes`]).
    decided: std::sync::RwLock<foldhash::HashMap<Vec<u8>, Vec<String>>>,
}

/// The most projections whose decisions are kept across chunks (a few MB).
const DECIDED_LIMIT: usize = 1 << 16;

impl<'p> Evaluator<'p> {
    /// Sets up the evaluation of `packs` in `ctx`; a problem when the school or the context
    /// cannot be expressed in Cedar.
    pub fn new(packs: &'p PackSet, ctx: &'p EvalContext) -> Result<Self, Problem> {
        let setup = (|| -> Result<_, String> {
            let school = school_entity(&ctx.school)?;
            let school_uid = uid("School", &ctx.school.id)?;
            let action = uid("Action", "check")?;
            let context = Context::from_pairs([
                ("now".to_owned(), date_expr(ctx.today)),
                (
                    "school_year_start".to_owned(),
                    date_expr(school_year_start(ctx.today)),
                ),
                ("params".to_owned(), packs.params_expr()),
            ])
            .map_err(|e| e.to_string())?;
            Ok((school, school_uid, action, context))
        })();
        let (school, school_uid, action, context) = setup.map_err(|e| {
            Problem::error(
                "engine::setup",
                format!("cannot set up the evaluation: {e}"),
            )
        })?;
        let wanted_by_kind = packs
            .reads
            .iter()
            .filter_map(|(kind, reads)| match reads {
                Reads::Paths(p) => Some((*kind, WantedPaths::new(packs, *kind, p, ctx.today))),
                Reads::All => None,
            })
            .collect();
        Ok(Self {
            packs,
            ctx,
            school,
            school_uid,
            action,
            context,
            authorizer: Authorizer::new(),
            wanted_by_kind,
            decided: std::sync::RwLock::default(),
        })
    }

    /// One authorization request for `record`: the violated policies, or evaluation errors.
    fn decide(&self, record: &Record, derived: &Derived) -> RecordOutcome {
        let packs = self.packs;
        let age = derived.age;
        let fail = |msg: String| RecordOutcome {
            violated: Vec::new(),
            age,
            errors: vec![(
                "engine".to_owned(),
                vec![
                    Problem::error(
                        "engine::entity",
                        format!("cannot evaluate `{}`: {msg}", record.key),
                    )
                    .at(record.file, record.span, "this record"),
                ],
            )],
        };
        let e = match entity(packs, record, derived) {
            Ok(e) => e,
            Err(msg) => return fail(msg),
        };
        let principal = e.uid();
        let entities = match Entities::from_entities([e, self.school.clone()], Some(&packs.schema))
        {
            Ok(es) => es,
            Err(err) => return fail(err.to_string()),
        };
        let request = match Request::new(
            principal,
            self.action.clone(),
            self.school_uid.clone(),
            self.context.clone(),
            Some(&packs.schema),
        ) {
            Ok(r) => r,
            Err(err) => return fail(err.to_string()),
        };
        let response = self
            .authorizer
            .is_authorized(&request, &packs.policies, &entities);
        let mut violated: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        violated.sort();
        let errors = response
            .diagnostics()
            .errors()
            .map(|err| {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(inner) = err;
                let id = inner.policy_id().to_string();
                let file = packs.meta.get(&id).map(|m| m.file);
                (
                    id,
                    Problem::from_diagnostic("policy::evaluation-error", err, file),
                )
            })
            .collect();
        RecordOutcome {
            violated,
            age,
            errors,
        }
    }

    /// The outcome of every record, in order. Records with the same projection (the values
    /// the policies read) get the same decision: each projection is evaluated once, its
    /// decision kept for the chunk and, up to [`DECIDED_LIMIT`] projections, for the run (the
    /// windows of a streamed list share them). Outcomes with errors are never reused (their
    /// messages name the record).
    fn outcomes(&self, records: &[Record], inputs: &FactInputs<'_>) -> Vec<RecordOutcome> {
        // A window of a streamed list is smaller than a chunk: split so every core has work.
        let chunk = CHUNK
            .min(records.len().div_ceil(rayon::current_num_threads()))
            .max(1);
        records
            .par_chunks(chunk)
            .flat_map_iter(|chunk| self.chunk_outcomes(chunk, inputs))
            .collect()
    }

    /// The outcomes of one chunk of records, evaluated on one thread with one cache (see
    /// [`Evaluator::outcomes`]).
    fn chunk_outcomes(&self, chunk: &[Record], inputs: &FactInputs<'_>) -> Vec<RecordOutcome> {
        if let Some(p) = &self.ctx.progress {
            p.done
                .fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
        let mut cache = Cache::default();
        chunk
            .iter()
            .map(|record| self.outcome(record, inputs, None, &mut cache))
            .collect()
    }

    /// The outcome of one record: the decision for its projection when `cache` or the run
    /// has one, else one authorization request.
    fn outcome<'s>(
        &self,
        record: &Record,
        inputs: &'s FactInputs<'_>,
        known: Option<facts::RecordConsents<'s>>,
        cache: &mut Cache,
    ) -> RecordOutcome {
        let (packs, ctx) = (self.packs, self.ctx);
        // Only what the policies of the record's kind read is derived (the oracle, without
        // the cache, derives everything).
        let wanted = match self.wanted_by_kind.get(&record.kind) {
            Some(wanted) if ctx.cache => wanted,
            _ => {
                let derived = derive(packs, record, inputs, Wanted::All);
                return self.decide(record, &derived);
            }
        };
        let facts = std::mem::take(&mut cache.facts);
        let derived = derive_into(
            packs,
            record,
            inputs,
            Wanted::Some(wanted),
            facts,
            known.unwrap_or_default(),
        );
        // The key is built in the cache's buffer and copied only when it is new.
        let mut key = std::mem::take(&mut cache.key);
        projection(
            packs,
            record,
            &derived,
            inputs.today,
            &wanted.parts,
            &mut key,
        );
        let days = wanted.days.then_some(inputs.today);
        let (outcome, derived) =
            self.outcome_of(record, derived, days, key.as_slice(), &mut cache.decided);
        cache.key = key;
        cache.facts = derived.facts;
        outcome
    }

    /// The outcome of `record`, whose projection is `key`: the decision of the chunk's
    /// `cache` or of the run, else one authorization request (remembered in both). With
    /// `days` (the evaluation date), the days since each date are added to `derived` before
    /// an authorization request. Gives `derived` back, for its buffers to be reused.
    fn outcome_of<'a>(
        &self,
        record: &'a Record,
        derived: Derived<'a>,
        days: Option<NaiveDate>,
        key: &[u8],
        cache: &mut foldhash::HashMap<Vec<u8>, Vec<String>>,
    ) -> (RecordOutcome, Derived<'a>) {
        if let Some(violated) = cache.get(key) {
            let outcome = RecordOutcome {
                violated: violated.clone(),
                age: derived.age,
                errors: Vec::new(),
            };
            return (outcome, derived);
        }
        // A poisoned lock only means no reuse.
        let known = self.decided.read().ok().and_then(|d| d.get(key).cloned());
        if let Some(violated) = known {
            cache.insert(key.to_vec(), violated.clone());
            let outcome = RecordOutcome {
                violated,
                age: derived.age,
                errors: Vec::new(),
            };
            return (outcome, derived);
        }
        let derived = match days {
            Some(today) => with_days(derived, record, today),
            None => derived,
        };
        let outcome = self.decide(record, &derived);
        if outcome.errors.is_empty() {
            if let Ok(mut decided) = self.decided.write()
                && decided.len() < DECIDED_LIMIT
            {
                decided.insert(key.to_vec(), outcome.violated.clone());
            }
            cache.insert(key.to_vec(), outcome.violated.clone());
        }
        (outcome, derived)
    }

    /// Whether records of `kind` can be decided alone, in the first pass over their input,
    /// before every input is read: their policies read no login flag, no consents and no fact
    /// that looks at other records or inputs (see [`facts::CompiledFact::reads_record_only`]), so
    /// their outcome is the same whatever else is read. Evaluate them with
    /// [`FactInputs::new`] of no records.
    pub fn decides_alone(&self, kind: RecordKind) -> bool {
        if !self.ctx.cache || matches!(kind, RecordKind::Account | RecordKind::Person) {
            return false;
        }
        let Some(wanted) = self.wanted_by_kind.get(&kind) else {
            return false;
        };
        self.packs
            .facts
            .iter()
            .enumerate()
            .all(|(i, f)| !Wanted::Some(wanted).fact(i) || f.reads_record_only())
    }

    /// Whether records of `kind` can be decided in the first pass over their streamed input
    /// once every other input is read: their policies read no fact that looks records of
    /// their own kind up, but for the identities of duplicate facts (a record whose identity
    /// turns out to be shared is decided again) and the links of `links_to` facts (decided so
    /// only when no row of the input can link to another). Accounts only.
    pub fn decides_after_others(&self, kind: RecordKind) -> bool {
        if !self.ctx.cache || kind != RecordKind::Account {
            return false;
        }
        let wanted = self.wanted(kind);
        self.packs
            .facts
            .iter()
            .enumerate()
            .all(|(i, f)| !wanted.fact(i) || f.decidable_before(kind))
    }

    /// The attributes the policies of `kind` read, when they read nothing else and only
    /// whether each is there (`principal has purpose`): records of the kind with the same
    /// attributes of these present, each of its type, then get the same decision. `None` when
    /// they read anything else (a value, a number, a fact, the key, days since a date) or
    /// when records of the kind are not decided by their projection (the oracle).
    pub fn presence_reads(&self, kind: RecordKind) -> Option<Vec<&str>> {
        let wanted = match self.wanted(kind) {
            Wanted::Some(wanted) => wanted,
            Wanted::All => return None,
        };
        wanted
            .parts
            .iter()
            .map(|part| match part {
                Part::Attr {
                    name,
                    days_of: None,
                    keep: Keep::Presence,
                } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether `record` has no finding and no evaluation error, decided as every record of
    /// its kind is (by its projection). Counts no progress.
    pub fn decides_clean(&self, record: &Record, inputs: &FactInputs<'_>) -> bool {
        self.decides_clean_in(record, inputs, &mut Cache::default())
    }

    /// [`Evaluator::decides_clean`], with the decision kept in `cache` (and for the run)
    /// for the records and rows with its projection that follow.
    pub fn decides_clean_in(
        &self,
        record: &Record,
        inputs: &FactInputs<'_>,
        cache: &mut Cache,
    ) -> bool {
        let outcome = self.outcome(record, inputs, None, cache);
        outcome.violated.is_empty() && outcome.errors.is_empty()
    }

    /// Whether the record that `row` stands for (a row read from its cells, see
    /// `cells::AccountPlan`) has no finding, when a record with its projection was decided
    /// before, in `cache` or in the run: `Some(true)` when it has none, `Some(false)` when
    /// it has one; `None` when no record with its projection was decided yet, or when
    /// records of its kind are not decided by their projection. Facts and the projection are
    /// computed by the code that computes a record's (see [`Fields`]), so a row and its record
    /// have one projection. Counts no progress.
    /// `known` holds the row's consent entries when they were looked up with its batch's
    /// (see [`Evaluator::resolve_rows`]).
    pub fn known_clean<'s, R: Fields + ?Sized>(
        &self,
        row: &R,
        inputs: &'s FactInputs<'_>,
        known: facts::RecordConsents<'s>,
        cache: &mut Cache,
    ) -> Option<bool> {
        let wanted = self
            .wanted_by_kind
            .get(&row.kind())
            .filter(|_| self.ctx.cache)?;
        let derived = derive_into(
            self.packs,
            row,
            inputs,
            Wanted::Some(wanted),
            std::mem::take(&mut cache.facts),
            known,
        );
        let mut key = std::mem::take(&mut cache.key);
        projection(
            self.packs,
            row,
            &derived,
            inputs.today,
            &wanted.parts,
            &mut key,
        );
        cache.facts = derived.facts;
        let known = match cache.decided.get(key.as_slice()) {
            Some(violated) => Some(violated.is_empty()),
            None => {
                // A poisoned lock only means no reuse.
                let run = self.decided.read().ok().and_then(|d| d.get(&key).cloned());
                run.map(|violated| {
                    let clean = violated.is_empty();
                    cache.decided.insert(key.clone(), violated);
                    clean
                })
            }
        };
        cache.key = key;
        known
    }

    /// Counts `n` records as checked, for the progress bar (records noted without being
    /// decided one by one).
    pub fn count_checked(&self, n: usize) {
        if let Some(p) = &self.ctx.progress {
            p.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Whether the policies of `kind` read the fact at `index` of the packs' facts (always,
    /// for the oracle and for kinds whose policies read every fact).
    pub fn reads_fact(&self, kind: RecordKind, index: usize) -> bool {
        self.wanted(kind).fact(index)
    }

    /// What is derived for records of `kind`: what their policies read, or everything (for
    /// the oracle, and for kinds whose policies read every fact).
    fn wanted(&self, kind: RecordKind) -> Wanted<'_> {
        match self.wanted_by_kind.get(&kind) {
            Some(wanted) if self.ctx.cache => Wanted::Some(wanted),
            _ => Wanted::All,
        }
    }

    /// The consent entries of each row of `batch` (rows read from their cells, see
    /// [`Evaluator::known_clean`]), looked up for the batch at once as [`Evaluator::resolve`]
    /// looks up a batch of records'.
    pub fn resolve_rows<'s, R: Fields>(
        &self,
        batch: &[R],
        inputs: &'s FactInputs<'_>,
    ) -> Vec<facts::RecordConsents<'s>> {
        self.resolve(batch, inputs)
    }

    /// The consent entries of each record of `batch`, looked up for the batch at once (see
    /// [`FactInputs::resolve_consents`]) when the policies of their kind read consents; else
    /// none (each record then looks its entries up on first use, if ever).
    fn resolve<'s, R: Fields>(
        &self,
        batch: &[R],
        inputs: &'s FactInputs<'_>,
    ) -> Vec<facts::RecordConsents<'s>> {
        // A batch comes from one input, so of one kind; resolving or not changes no outcome.
        let Some(kind) = batch.first().map(Fields::kind) else {
            return Vec::new();
        };
        let looks_up = match self.wanted(kind) {
            Wanted::Some(wanted) => wanted.looks_up_consents,
            Wanted::All => true,
        };
        if looks_up {
            inputs.resolve_consents(batch)
        } else {
            Vec::new()
        }
    }

    /// `decided` with the findings of its outcomes made (where the records were decided, on
    /// every core): [`Collector::add_decided`] then only takes them, in order, instead of
    /// making them one by one on the thread that collects. The findings of limits are made
    /// there, once everything is counted.
    pub fn prepare(&self, decided: Decided, inputs: &FactInputs<'_>) -> Decided {
        let Decided(outcomes, _) = decided;
        let lang = self.ctx.lang.as_deref();
        let findings = outcomes
            .iter()
            .flat_map(|(record, outcome)| {
                outcome.violated.iter().filter_map(move |id| {
                    let meta = self.packs.meta.get(id)?;
                    meta.limit
                        .is_none()
                        .then(|| finding_for(self.packs, meta, record, outcome.age, lang, inputs))
                })
            })
            .collect();
        Decided(outcomes, Some(findings))
    }

    /// Evaluates records one by one as they come, on the calling thread with one cache, and
    /// keeps only those with a violation or an error, for [`Collector::add_decided`]: the
    /// others are dropped at once (a streamed chunk is evaluated row by row as its rows are
    /// converted, while each record is still in the core's cache).
    pub fn decide_each(
        &self,
        mut records: impl Iterator<Item = Record>,
        inputs: &FactInputs<'_>,
    ) -> Decided {
        let mut cache = Cache::default();
        let mut kept = Vec::new();
        let mut seen = 0usize;
        let mut batch: Vec<Record> = Vec::with_capacity(WARM_BATCH);
        loop {
            batch.extend(records.by_ref().take(WARM_BATCH));
            if batch.is_empty() {
                break;
            }
            let mut known = self.resolve(&batch, inputs).into_iter();
            for record in batch.drain(..) {
                seen += 1;
                let outcome = self.outcome(&record, inputs, known.next(), &mut cache);
                if !outcome.violated.is_empty() || !outcome.errors.is_empty() {
                    kept.push((record, outcome));
                }
            }
        }
        if let Some(p) = &self.ctx.progress {
            p.done.fetch_add(seen, std::sync::atomic::Ordering::Relaxed);
        }
        Decided(kept, None)
    }
}

/// Records whose consents are looked up together (see [`Evaluator::resolve`]): a few KB of records,
/// still in the core's cache when they are evaluated.
const WARM_BATCH: usize = 16;

/// Decisions by projection within a chunk (see [`Evaluator::outcomes`]), with the buffers a
/// projection is built in: kept by whoever decides the records of a chunk one by one.
#[derive(Default)]
pub struct Cache {
    decided: foldhash::HashMap<Vec<u8>, Vec<String>>,
    /// The buffer projection keys are built in.
    key: Vec<u8>,
    /// The buffer the facts of a record are derived into.
    facts: Vec<bool>,
}

/// The records of a chunk that violate a policy or could not be evaluated, with their
/// outcomes (see [`Evaluator::decide_each`]), and the findings of those outcomes once
/// [`Evaluator::prepare`] made them.
pub struct Decided(Vec<(Record, RecordOutcome)>, Option<Vec<Finding>>);

impl Decided {
    /// Whether no record violates a policy or failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The outcomes, by the offset of the record's row, without the records (a first pass
    /// that keeps every record it decided would keep the memory of all the rows they were
    /// converted among).
    pub fn into_rows(self) -> DecidedRows {
        DecidedRows(
            self.0
                .into_iter()
                .map(|(r, outcome)| (r.span.offset, outcome))
                .collect(),
        )
    }
}

/// The outcomes of records with findings or errors, by the offset of their row (see
/// [`Decided::into_rows`]).
#[derive(Default)]
pub struct DecidedRows(Vec<(usize, RecordOutcome)>);

impl DecidedRows {
    /// Adds `other`'s outcomes after these, copied: what a parallel task decided is then
    /// held in the memory of the thread that keeps it, and the task's own allocations are
    /// freed at once, instead of keeping the memory of every row they were made among.
    pub fn append_copy(&mut self, other: DecidedRows) {
        self.0.extend(other.0.iter().cloned());
    }

    /// The offsets of the rows, in order.
    pub fn offsets(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().map(|(offset, _)| *offset)
    }

    /// The records of `records` (converted again, in order) whose rows have an outcome
    /// here, with it, and the records of `decided` (those decided anew, none of them among
    /// `records`): in the order of their rows.
    pub fn join(&self, records: Vec<Record>, decided: Decided) -> Decided {
        let mut all: Vec<(Record, RecordOutcome)> = Vec::with_capacity(records.len());
        for record in records {
            let offset = record.span.offset;
            if let Ok(i) = self.0.binary_search_by_key(&offset, |(o, _)| *o)
                && let Some((_, outcome)) = self.0.get(i)
            {
                all.push((record, outcome.clone()));
            }
        }
        all.extend(decided.0);
        all.sort_by_key(|(r, _)| r.span.offset);
        Decided(all, None)
    }
}

/// A record counted by a limit: what its finding needs of it.
struct Member {
    file: crate::source::FileId,
    kind: RecordKind,
    /// Where the limit's `@span` points in the record.
    span: crate::source::Span,
    record_span: crate::source::Span,
    key: String,
    schools: Vec<String>,
}

/// Findings of batches of records evaluated in input order (all records at once, or the
/// windows of a streamed input); limits and error summaries come at the end. Nothing here
/// keeps a record: a batch can be dropped once it is added.
pub struct Collector<'e, 'p> {
    evaluator: &'e Evaluator<'p>,
    findings: Vec<Finding>,
    /// Members per limit, in record order.
    counted: BTreeMap<usize, Vec<Member>>,
    /// Evaluation errors by (policy, message): the first problem and how many records.
    errors: BTreeMap<(String, String), (Problem, usize)>,
}

impl<'e, 'p> Collector<'e, 'p> {
    /// An empty collection for `evaluator`.
    pub fn new(evaluator: &'e Evaluator<'p>) -> Self {
        Self {
            evaluator,
            findings: Vec::new(),
            counted: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }

    /// Evaluates `records` (the next ones in input order) and keeps their findings.
    pub fn add(&mut self, records: &[Record], inputs: &FactInputs<'_>) {
        let outcomes = self.evaluator.outcomes(records, inputs);
        self.keep(records.iter().zip(&outcomes), inputs, None);
    }

    /// Keeps the findings of records evaluated by [`Evaluator::decide_each`] (the next ones
    /// in input order).
    pub fn add_decided(&mut self, decided: Decided, inputs: &FactInputs<'_>) {
        let Decided(outcomes, prepared) = decided;
        let mut prepared = prepared.map(Vec::into_iter);
        self.keep(
            outcomes.iter().map(|(r, o)| (r, o)),
            inputs,
            prepared.as_mut(),
        );
        // Each prepared finding was taken for the policy it was made for.
        debug_assert!(prepared.is_none_or(|mut p| p.next().is_none()));
    }

    /// Keeps the findings and errors of `outcomes`; the findings of policies that are no
    /// limits come from `prepared` when given (see [`Evaluator::prepare`]: the same
    /// findings, in the same order).
    fn keep<'r>(
        &mut self,
        outcomes: impl Iterator<Item = (&'r Record, &'r RecordOutcome)>,
        inputs: &FactInputs<'_>,
        mut prepared: Option<&mut std::vec::IntoIter<Finding>>,
    ) {
        let packs = self.evaluator.packs;
        let lang = self.evaluator.ctx.lang.as_deref();
        for (record, outcome) in outcomes {
            for id in &outcome.violated {
                let Some(meta) = packs.meta.get(id) else {
                    continue;
                };
                match meta.limit {
                    Some(l) => {
                        let span_attr = packs
                            .limits
                            .get(l)
                            .and_then(|limit| limit.def.span_attr.as_deref());
                        self.counted.entry(l).or_default().push(Member {
                            file: record.file,
                            kind: record.kind,
                            span: finding_span(packs, span_attr, record, inputs),
                            record_span: record.span,
                            key: record.key.to_string(),
                            schools: record
                                .get("schools")
                                .and_then(|a| a.value.as_set())
                                .unwrap_or(&[])
                                .iter()
                                .map(ToString::to_string)
                                .collect(),
                        });
                    }
                    None => self
                        .findings
                        .push(match prepared.as_mut().and_then(|p| p.next()) {
                            Some(finding) => finding,
                            None => finding_for(packs, meta, record, outcome.age, lang, inputs),
                        }),
                }
            }
            for (id, problems) in &outcome.errors {
                for p in problems {
                    let key = (id.clone(), p.message.clone());
                    let entry = self.errors.entry(key).or_insert_with(|| {
                        let mut p = p.clone();
                        p.message = format!(
                            "policy `{id}` could not be evaluated for `{}`: {}",
                            record.key, p.message
                        );
                        if let Some(def) = packs
                            .meta
                            .get(id)
                            .and_then(|m| m.limit)
                            .and_then(|l| packs.limits.get(l))
                        {
                            p.labels = vec![Label {
                                span: def.def.select_span,
                                text: "in this condition".into(),
                                primary: true,
                            }];
                        }
                        (p, 0)
                    });
                    entry.1 += 1;
                }
            }
        }
    }

    /// The findings (limits counted over everything added) and the evaluation problems.
    pub fn finish(self) -> Evaluation {
        let packs = self.evaluator.packs;
        let ctx = self.evaluator.ctx;
        let lang = ctx.lang.as_deref();
        let mut out = Evaluation {
            findings: self.findings,
            problems: Vec::new(),
        };
        for (_, (mut p, n)) in self.errors {
            if n > 1 {
                p.message = format!("{} (and {} more records)", p.message, n - 1);
            }
            p.help = Some(format!(
                "{}; a policy that cannot be evaluated would pass silently, so konform stops (exit 2)",
                p.help.unwrap_or_else(|| {
                    "fix the policy, e.g. test optional attributes with `has`".to_owned()
                })
            ));
            out.problems.push(p);
        }
        for (l, members) in self.counted {
            let Some(limit) = packs.limits.get(l) else {
                continue;
            };
            let Some(meta) = packs.meta.get(&limit.def.id) else {
                continue;
            };
            let mut groups: BTreeMap<String, Vec<&Member>> = BTreeMap::new();
            for m in &members {
                match limit.def.per {
                    Per::All => groups.entry("all".into()).or_default().push(m),
                    Per::School => {
                        if m.schools.is_empty() {
                            groups.entry(ctx.school.id.clone()).or_default().push(m);
                        }
                        for s in &m.schools {
                            groups.entry(s.clone()).or_default().push(m);
                        }
                    }
                }
            }
            for (group, members) in groups {
                let count = members.len();
                let Ok(max) = usize::try_from(limit.max.max(0)) else {
                    continue;
                };
                if count <= max {
                    continue;
                }
                let Some(first_over) = members.get(max) else {
                    continue;
                };
                let lookup = |name: &str| match name {
                    "count" => Some(count.to_string()),
                    "max" => Some(limit.max.to_string()),
                    "group" => Some(group.clone()),
                    _ => None,
                };
                let related = members
                    .iter()
                    .map(|m| Related {
                        file: m.file,
                        span: m.span,
                        label: fill_with(meta.text("label", lang).unwrap_or_default(), lookup),
                        subject: m.key.clone(),
                    })
                    .collect();
                out.findings.push(Finding {
                    policy: meta.id.clone(),
                    pack: meta.pack.clone(),
                    severity: meta.severity,
                    message: fill_with(meta.text("message", lang).unwrap_or_default(), lookup),
                    subject: group.clone(),
                    kind: first_over.kind,
                    file: first_over.file,
                    span: first_over.span,
                    label: format!(
                        "{} {}, over the maximum of {}",
                        ordinal(max + 1),
                        fill_with(meta.text("label", lang).unwrap_or_default(), lookup),
                        limit.max
                    ),
                    record_span: first_over.record_span,
                    help: meta.text("help", lang).map(|h| fill_with(h, lookup)),
                    basis: meta.basis.clone(),
                    url: meta.url.clone(),
                    related,
                    fingerprint: crate::finding::fingerprint(&meta.id, &group),
                    waiver: None,
                    baselined: false,
                });
            }
        }
        out
    }
}

/// The start of the school year containing `today`: the last 1 August on or before it.
pub fn school_year_start(today: NaiveDate) -> NaiveDate {
    use chrono::Datelike as _;
    let year = if today.month() >= 8 {
        today.year()
    } else {
        today.year() - 1
    };
    NaiveDate::from_ymd_opt(year, 8, 1).unwrap_or(today)
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pack::{PackRef, PackRequest};

    proptest::proptest! {
        /// Numbers of one class compare alike with every cut; numbers of different classes
        /// do not (the class keeps no more than the comparisons tell apart), and classes
        /// ascend with the numbers.
        #[test]
        fn numbers_of_one_cut_class_compare_alike(
            cuts in proptest::collection::btree_set(-5i64..5, 0..4),
            a in -7i64..7,
            b in -7i64..7,
        ) {
            let cuts: Vec<i64> = cuts.into_iter().collect();
            let compare = |n: i64| cuts.iter().map(|c| n.cmp(c)).collect::<Vec<_>>();
            proptest::prop_assert_eq!(cut_class(&cuts, a) == cut_class(&cuts, b), compare(a) == compare(b));
            proptest::prop_assert_eq!(a <= b || cut_class(&cuts, a) >= cut_class(&cuts, b), true);
        }
    }

    /// The packs `request` asks for, loaded without problems.
    pub(crate) fn packs_of(request: &PackRequest) -> PackSet {
        let (packs, problems) = crate::pack::load(request, &mut crate::source::SourceMap::new());
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        packs.unwrap_or_else(|| panic!("no packs"))
    }

    /// The packs of `manifest` and `policy` (a pack of its own), loaded without problems.
    pub(crate) fn own_pack(dir: &std::path::Path, manifest: &str, policy: &str) -> PackSet {
        let written = std::fs::write(dir.join("pack.yaml"), manifest)
            .and_then(|()| std::fs::write(dir.join("a.cedar"), policy));
        assert!(written.is_ok(), "{written:?}");
        packs_of(&PackRequest {
            packs: Some(Vec::new()),
            extra: vec![PackRef::new(&dir.display().to_string(), dir, None)],
            ..PackRequest::default()
        })
    }

    pub(crate) fn context(cache: bool) -> EvalContext {
        EvalContext {
            today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default(),
            school: School::default(),
            lang: None,
            cache,
            progress: None,
        }
    }

    #[test]
    fn records_are_decided_alone_when_their_rules_read_only_themselves() {
        let defaults = packs_of(&PackRequest {
            country: "DE".into(),
            state: "HH".into(),
            ..PackRequest::default()
        });
        let ctx = context(true);
        let evaluator = Evaluator::new(&defaults, &ctx).unwrap_or_else(|p| panic!("{p:?}"));
        // The consent register's own rule reads only the entry; rules on accounts read
        // consents, logins and duplicates, and people are looked up in account lists.
        assert!(evaluator.decides_alone(RecordKind::Consent));
        assert!(!evaluator.decides_alone(RecordKind::Account));
        assert!(!evaluator.decides_alone(RecordKind::Person));
        // The oracle decides every record on its own, in the second pass.
        let oracle = context(false);
        let evaluator = Evaluator::new(&defaults, &oracle).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(!evaluator.decides_alone(RecordKind::Consent));

        // A rule on consents that reads a fact about other records, and one that reads a
        // pattern of the record itself.
        let manifest = "id: mine\ntitle: test\nfacts:\n  twice:\n    description: two entries\n    duplicate:\n      attributes: [person]\n  odd_form:\n    description: odd\n    regex:\n      attributes: [form]\n      pattern: '^x'\n";
        let rule = |fact: &str| {
            format!(
                "@id(\"r\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal is Consent, action, resource)\nwhen {{ principal.facts.{fact} }};\n"
            )
        };
        for (fact, alone) in [("twice", false), ("odd_form", true)] {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let packs = own_pack(dir.path(), manifest, &rule(fact));
            let evaluator = Evaluator::new(&packs, &ctx).unwrap_or_else(|p| panic!("{p:?}"));
            assert_eq!(
                evaluator.decides_alone(RecordKind::Consent),
                alone,
                "{fact}"
            );
        }
    }

    /// Dates compared with the day checked and the start of its school year, a day apart
    /// around each: the projection keeps where a date falls among them, and every record
    /// gets the decision of evaluating it on its own.
    #[test]
    fn dates_compared_with_the_context_dates_are_decided_as_alone() {
        use crate::source::{FileId, Span};
        let rules = "@id(\"early\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal is Account, action, resource)\nwhen { principal has valid_from && principal.valid_from < context.school_year_start };\n\
            @id(\"ended\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal is Account, action, resource)\nwhen { principal has valid_until && context.now >= principal.valid_until };\n";
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let packs = own_pack(dir.path(), "id: mine\ntitle: test\n", rules);
        assert!(matches!(
            packs
                .uses
                .get(&RecordKind::Account)
                .and_then(|u| u.get("valid_from")),
            Some(Use::Cuts(_))
        ));
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        // Ascending, then descending: whichever is decided first would lend its decision.
        let mut dates = vec![
            day(2026, 7, 31),
            day(2026, 8, 1),
            day(2026, 8, 2),
            day(2026, 11, 21),
            day(2026, 11, 22),
            day(2026, 11, 23),
        ];
        let descending: Vec<NaiveDate> = dates.iter().rev().copied().collect();
        dates.extend(descending);
        let mut records = Vec::new();
        for attr in ["valid_from", "valid_until"] {
            for d in &dates {
                let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
                r.key = format!("{attr}-{d}-{}", records.len()).into();
                r.set(attr, Value::Date(*d), Span::default());
                records.push(r);
            }
        }
        let found = |cache: bool| -> Vec<(String, String)> {
            evaluate(&packs, &records, &context(cache))
                .findings
                .into_iter()
                .map(|f| (f.policy, f.subject))
                .collect()
        };
        let oracle = found(false);
        // Before 1 August 2026 (one date, twice), on or before 22 November 2026 (five dates).
        let count = |id: &str| oracle.iter().filter(|f| f.0 == id).count();
        assert_eq!(count("mine.early"), 2, "{oracle:?}");
        assert_eq!(count("mine.ended"), 10, "{oracle:?}");
        assert_eq!(found(true), oracle);
    }

    /// An attribute the policies only test with `has`, of the schema's type in one record and
    /// of another in the next: the second fails its request (an error), and must not borrow
    /// the first one's decision.
    #[test]
    fn a_value_of_another_type_is_not_decided_by_presence() {
        use crate::source::{FileId, Span};
        let rules = "@id(\"on\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal is Account, action, resource)\nwhen { principal has enabled };\n";
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let packs = own_pack(dir.path(), "id: mine\ntitle: test\n", rules);
        assert_eq!(
            packs
                .uses
                .get(&RecordKind::Account)
                .and_then(|u| u.get("enabled")),
            Some(&Use::Presence)
        );
        // The flag first: records are decided in chunks, each in order with a cache of its own.
        let values = std::iter::once(Value::Bool(true))
            .chain(std::iter::repeat_n(Value::Str("ja".into()), 9));
        let records: Vec<Record> = values
            .enumerate()
            .map(|(i, v)| {
                let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
                r.key = format!("k{i}").into();
                r.set("enabled", v, Span::default());
                r
            })
            .collect();
        let run = |cache: bool| {
            let e = evaluate(&packs, &records, &context(cache));
            let findings: Vec<String> = e.findings.into_iter().map(|f| f.subject).collect();
            let problems: Vec<String> = e.problems.into_iter().map(|p| p.code).collect();
            (findings, problems)
        };
        let oracle = run(false);
        assert_eq!(oracle.0, vec!["k0".to_owned()]);
        assert!(!oracle.1.is_empty(), "the text fails its request");
        assert_eq!(run(true), oracle);
    }

    #[test]
    fn placeholders_are_filled() {
        let out = fill_with(
            "school `{group}` has {count} (max {max}) {nope}",
            |n| match n {
                "group" => Some("5012".into()),
                "count" => Some("7".into()),
                "max" => Some("5".into()),
                _ => None,
            },
        );
        assert_eq!(out, "school `5012` has 7 (max 5) (empty)");
        assert_eq!(fill_with("no {closing", |_| None), "no {closing");
    }

    #[test]
    fn school_years_start_on_1_august() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(school_year_start(d(2026, 11, 22)), d(2026, 8, 1));
        assert_eq!(school_year_start(d(2026, 8, 1)), d(2026, 8, 1));
        assert_eq!(school_year_start(d(2026, 7, 31)), d(2025, 8, 1));
    }

    #[test]
    fn day_counts_fill_placeholders() {
        use crate::source::{FileId, Span};
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
        r.key = "a".into();
        let login = NaiveDate::from_ymd_opt(2026, 11, 12).unwrap_or_default();
        r.set("last_login", Value::Date(login), Span::default());
        assert_eq!(
            fill(
                "`{key}`: {last_login_days} days, {created_days}",
                &r,
                None,
                today
            ),
            "`a`: 10 days, (empty)"
        );
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(6), "6th");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(23), "23rd");
    }
}

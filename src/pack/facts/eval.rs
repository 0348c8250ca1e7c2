//! Compiling facts and evaluating them for a record, with the look-ups across inputs they
//! need (consents by person, platform modules, records of other kinds by attribute).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use regex::{Regex, RegexBuilder};

use super::hashed::{Hashed, SortedHashes};
use super::{ConsentStatus, FactKind, Pattern};
use crate::pack::manifest::ParamValue;
use crate::pack::national_id;
use crate::pack::{Pack, PackRequest};
use crate::problem::Problem;
use crate::record::{AttrName, Fields, Record, RecordKind, Value, attr, hash128};
use crate::source::columns::normalize_name;
use crate::source::{FileId, Span};

/// The largest compiled regex accepted (the `regex` crate is linear-time; this bounds memory).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The longest pattern accepted.
const MAX_PATTERN_LEN: usize = 4096;

/// How a compiled fact is evaluated.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// Any attribute matches.
    Regex {
        /// Attribute names.
        attributes: Vec<AttrName>,
        /// The pattern.
        regex: Regex,
    },
    /// Any other kind: evaluated from its definition.
    Plain(FactKind),
}

/// A fact ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledFact {
    /// The fact name.
    pub name: String,
    /// How it is evaluated.
    pub how: Compiled,
}

impl CompiledFact {
    /// The fact name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the fact reads only the record itself (patterns, identity numbers, filled
    /// columns), never other records, other inputs or the inputs' login data: it can be
    /// evaluated before every input is read.
    pub fn reads_record_only(&self) -> bool {
        matches!(
            self.how,
            Compiled::Regex { .. }
                | Compiled::Plain(
                    FactKind::Regex { .. } | FactKind::NationalId { .. } | FactKind::Column { .. }
                )
        )
    }

    /// Whether the fact, for a record of `kind`, reads nothing of other records of that kind
    /// but whether its identity is shared (`duplicate`) and what records link to (`links_to`):
    /// it can be evaluated once every input but those of `kind` is read (see
    /// `Evaluator::decides_after_others`).
    pub fn decidable_before(&self, kind: RecordKind) -> bool {
        match &self.how {
            Compiled::Regex { .. } => true,
            Compiled::Plain(
                FactKind::MissingIn { kind: other, .. } | FactKind::DiffersFrom { kind: other, .. },
            ) => *other != kind,
            Compiled::Plain(
                FactKind::Regex { .. }
                | FactKind::NationalId { .. }
                | FactKind::Column { .. }
                | FactKind::Duplicate { .. }
                | FactKind::LinksTo { .. }
                | FactKind::Consent { .. }
                | FactKind::ModuleAccess { .. },
            ) => true,
        }
    }

    /// The attributes `links_to` facts look up.
    pub fn link_attribute(&self) -> Option<&str> {
        match &self.how {
            Compiled::Plain(FactKind::LinksTo { attribute, .. }) => Some(attribute),
            _ => None,
        }
    }

    /// The kind of the records a `missing_in` fact looks for.
    pub fn missing_in(&self) -> Option<RecordKind> {
        match &self.how {
            Compiled::Plain(FactKind::MissingIn { kind, .. }) => Some(*kind),
            _ => None,
        }
    }

    /// Whether the fact looks the record up in the consent register.
    pub fn reads_consents(&self) -> bool {
        matches!(self.how, Compiled::Plain(FactKind::Consent { .. }))
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
    let mut seen: HashMap<String, (FileId, Span)> = HashMap::new();
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
            let how = match &def.kind {
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
                        Ok(regex) => Compiled::Regex {
                            attributes: attributes
                                .iter()
                                .map(|(a, _)| AttrName::new(a.as_str()))
                                .collect(),
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
                other => Compiled::Plain(other.clone()),
            };
            out.push(CompiledFact {
                name: def.name.clone(),
                how,
            });
        }
    }
    out
}

/// Lower-cased, trimmed text of an attribute, for matching across inputs.
fn match_value<R: Fields + ?Sized>(record: &R, attr: &str) -> Vec<String> {
    let value = if attr == "key" {
        return vec![crate::source::value::trim(record.key()).to_lowercase()];
    } else {
        record.value_or_extra(attr)
    };
    match value {
        Some(Value::Set(items)) => items
            .iter()
            .map(|i| crate::source::value::trim(i).to_lowercase())
            .collect(),
        Some(v) => vec![v.display().trim().to_lowercase()],
        None => Vec::new(),
    }
    .into_iter()
    .filter(|v| !v.is_empty())
    .collect()
}

/// Calls `each` with [`hash128`] of every value of [`match_value`], in its order, without
/// building the lower-cased texts of ASCII values (the first pass hashes the key of every
/// account this way when a leading system's export may look it up).
fn match_hashes<R: Fields + ?Sized>(record: &R, attr: &str, mut each: impl FnMut(u128)) {
    let mut one = |text: &str| {
        let t = crate::source::value::trim(text);
        if t.is_empty() {
            return;
        }
        if t.is_ascii() {
            let mut h = crate::record::Hasher128::new();
            hash_ascii_lowercase(&mut h, t);
            each(h.finish128());
        } else {
            each(hash128(t.to_lowercase()));
        }
    };
    if attr == "key" {
        return one(record.key());
    }
    match record.value_or_extra(attr) {
        Some(Value::Set(items)) => items.iter().for_each(|i| one(i)),
        Some(Value::Str(s)) => one(s),
        Some(v) => one(&v.display()),
        None => {}
    }
}

/// Whether an account is active: not disabled, not pending deletion.
pub fn is_active<R: Fields + ?Sized>(record: &R) -> bool {
    record.value_of(&attr::ENABLED).and_then(Value::as_bool) != Some(false)
        && !matches!(
            record.text(&attr::STATE),
            Some("disabled" | "pending_deletion" | "deleted")
        )
}

/// What facts may look up beyond the record itself. The indexes over other records are built
/// on first use (most runs never need most of them: a look-up by id into a leading-system
/// export that is not among the inputs, the children of guardians when there are none).
#[derive(Debug, Default)]
pub struct FactInputs<'a> {
    /// Consent-register entries by person.
    consents: Consents,
    /// Platform modules.
    pub services: Vec<&'a Record>,
    /// The evaluation date.
    pub today: NaiveDate,
    /// The school's country (upper case), e.g. `DE`.
    pub country: String,
    /// All records.
    records: &'a [Record],
    /// Record kinds with at least one record.
    kinds: foldhash::HashSet<RecordKind>,
    /// Record kinds with at least one record held (in `records`, not streamed).
    held: foldhash::HashSet<RecordKind>,
    /// (kind, attribute) -> lower-cased value -> records.
    index: HashMap<(RecordKind, String), Index<'a>>,
    /// Active accounts per identity, per duplicate fact.
    duplicates: Identities,
    /// Hashed values of streamed records (see [`Streamed`]), sorted.
    streamed_values: HashedValues,
}

/// The identities (hashed, see [`identity_hash`]) of the active accounts, per duplicate fact:
/// noted over every input before any record is evaluated (a million identities take 16 MB, a
/// third of a hash map of counts), then reduced to those shared by more than one account.
#[derive(Debug, Default)]
pub struct Identities(foldhash::HashMap<String, SortedHashes<u128>>);

impl Identities {
    /// Notes the identities of the active accounts among `records` for the duplicate `facts`.
    pub fn count(&mut self, facts: &[CompiledFact], records: &[Record]) {
        self.count_noting(facts, records, None);
    }

    /// [`Identities::count`], also appending to `shorts`, for each record in order and for each
    /// duplicate fact in the facts' order, the [`identity_short`] of the identity it counted of
    /// the record (0 when it counted none).
    fn count_noting<R: Fields>(
        &mut self,
        facts: &[CompiledFact],
        records: &[R],
        mut shorts: Option<&mut Vec<u32>>,
    ) {
        let duplicates = facts.iter().filter_map(|f| match &f.how {
            Compiled::Plain(FactKind::Duplicate { attributes }) => Some((&f.name, attributes)),
            _ => None,
        });
        let per_record = identities_per_record(facts);
        let base = shorts.as_deref().map_or(0, Vec::len);
        if let Some(shorts) = shorts.as_deref_mut() {
            shorts.resize(base + per_record * records.len(), 0);
        }
        for (j, (name, attributes)) in duplicates.enumerate() {
            // Looked up before it is inserted: a row noted alone copies no name.
            let hashes = match self.0.get_mut(name.as_str()) {
                Some(hashes) => hashes,
                None => self.0.entry(name.clone()).or_default(),
            };
            for (i, r) in records.iter().enumerate() {
                if r.kind() != RecordKind::Account || !is_active(r) {
                    continue;
                }
                let Some(hash) = identity_hash(r, attributes) else {
                    continue;
                };
                hashes.push(hash);
                if let Some(slot) = shorts
                    .as_deref_mut()
                    .and_then(|s| s.get_mut(base + i * per_record + j))
                {
                    *slot = identity_short(hash);
                }
            }
        }
    }

    /// Adds the identities another collection noted: into the room reserved for them, or
    /// by taking the other's table over where this one has none and no room for it (a
    /// million identities are not copied; a table grown while it fills would at one point be
    /// held one and a half times over).
    fn append(&mut self, other: Self) {
        for (name, mut hashes) in other.0 {
            match self.0.entry(name) {
                std::collections::hash_map::Entry::Occupied(mut mine)
                    if !mine.get().is_empty() || mine.get().room() >= hashes.len() =>
                {
                    mine.get_mut().extend(hashes.take());
                }
                std::collections::hash_map::Entry::Occupied(mut mine) => {
                    *mine.get_mut() = hashes;
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(hashes);
                }
            }
        }
    }

    /// Keeps, per duplicate fact, the identities of more than one active account, for
    /// [`Identities::repeated`]; the others are dropped (the fact asks only whether an
    /// identity is shared, and shared ones are few).
    fn finish(&mut self) {
        for hashes in self.0.values_mut() {
            hashes.finish_repeated();
        }
    }

    /// Whether any identity may be shared by more than one active account for the duplicate
    /// fact `name` (none when its table is empty); `None` when the fact was not counted.
    fn any_repeated(&self, name: &str) -> Option<bool> {
        Some(!self.0.get(name)?.is_empty())
    }

    /// Whether more than one active account has the identity `hash` for the duplicate fact
    /// `name`; `None` when the fact was not counted.
    fn repeated(&self, name: &str, hash: u128) -> Option<bool> {
        Some(self.0.get(name)?.contains(hash))
    }
}

/// The top 32 bits of an identity hash: what a first pass keeps of each account's identity
/// (4 MB for a million) to find, once every identity is counted, the accounts whose identity
/// is shared. A superset: with a thousand shared identities, about one account in four
/// million shares the top bits of one without sharing the identity, and is decided again for
/// nothing.
pub fn identity_short(hash: u128) -> u32 {
    u32::try_from(hash >> 96).unwrap_or_default()
}

/// How many identities [`Identities::count`] hashes of each account: one per duplicate fact.
pub fn identities_per_record(facts: &[CompiledFact]) -> usize {
    facts
        .iter()
        .filter(|f| matches!(f.how, Compiled::Plain(FactKind::Duplicate { .. })))
        .count()
}

/// Sorted hashed values (see [`Streamed`]).
type HashedValues = foldhash::HashMap<RecordKind, foldhash::HashMap<String, SortedHashes<u128>>>;

/// A consent-register entry as facts read it (texts interned in [`Consents`]): 16 bytes.
#[derive(Debug, Clone, Copy)]
struct ConsentEntry {
    purpose: Option<TextId>,
    granted_by: Option<TextId>,
    granted: Option<NaiveDate>,
    withdrawn: Option<NaiveDate>,
}

impl Hashed for (u128, ConsentEntry) {
    fn hash(&self) -> u128 {
        self.0
    }
}

/// An interned text of [`Consents`] (its index plus one: `None` takes no room).
type TextId = std::num::NonZeroU32;

/// Consent-register entries by the hash of their person ([`hash128`]), sorted for look-up,
/// with their few distinct texts interned: a million entries take 32 MB, and the consent
/// records themselves need not be held.
#[derive(Debug, Default)]
pub struct Consents {
    entries: SortedHashes<(u128, ConsentEntry)>,
    texts: Vec<String>,
    ids: foldhash::HashMap<String, u32>,
    /// The first few short texts among `ids`, found without hashing (a register has a
    /// purpose and a granter per entry, and names a few of each).
    short: crate::record::ShortTexts<u32, { Consents::SHORT }>,
}

impl Consents {
    /// The most texts in [`Consents::short`].
    const SHORT: usize = 8;

    fn intern(&mut self, text: Option<&str>) -> Option<TextId> {
        let text = text?;
        if let Some(id) = self.short.get(text).or_else(|| self.ids.get(text)) {
            return TextId::new(id.checked_add(1)?);
        }
        let id = u32::try_from(self.texts.len()).ok()?;
        self.texts.push(text.to_owned());
        self.ids.insert(text.to_owned(), id);
        // Kept among the short texts too while there is room; always among `ids`.
        let _ = self.short.insert(text, id);
        TextId::new(id.checked_add(1)?)
    }

    /// Notes the consent records among `records` (those naming a person).
    pub fn add<R: Fields>(&mut self, records: &[R]) {
        for r in records.iter().filter(|r| r.kind() == RecordKind::Consent) {
            let value = |name: &str| r.value(name);
            self.push(&ConsentValues {
                person: value("person"),
                purpose: value("purpose"),
                granted_by: value("granted_by"),
                granted: value("granted"),
                withdrawn: value("withdrawn"),
            });
        }
    }

    /// Notes the entry of a consent record with these values (none without a person).
    fn push(&mut self, values: &ConsentValues<'_>) {
        let Some(person) = values.person.and_then(Value::as_str) else {
            return;
        };
        let entry = ConsentEntry {
            purpose: self.intern(values.purpose.and_then(Value::as_str)),
            granted_by: self.intern(values.granted_by.and_then(Value::as_str)),
            granted: values.granted.and_then(Value::as_date),
            withdrawn: values.withdrawn.and_then(Value::as_date),
        };
        self.entries.push((hash128(person), entry));
    }

    /// Adds the entries of another input's collection (taking it over when this one is empty).
    fn merge(&mut self, mut other: Self) {
        if self.entries.is_empty() {
            std::mem::swap(self, &mut other);
        }
        self.append(other);
    }

    /// Adds the entries of another collection, into the room reserved for them.
    fn append(&mut self, mut other: Self) {
        // Each of the other's few texts interned once.
        let ids: Vec<Option<TextId>> = other
            .texts
            .iter()
            .map(|text| self.intern(Some(text)))
            .collect();
        let id = |of: Option<TextId>| {
            let index = usize::try_from(of?.get()).ok()?.checked_sub(1)?;
            ids.get(index).copied().flatten()
        };
        self.entries
            .extend(other.entries.take().into_iter().map(|(hash, mut entry)| {
                entry.purpose = id(entry.purpose);
                entry.granted_by = id(entry.granted_by);
                (hash, entry)
            }));
    }

    /// Sorts the entries for look-up, in place (a stable sort would need half their size
    /// again). The entries of one person come in any order: every fact asks whether any of
    /// them holds, and purposes are sorted.
    fn finish(&mut self) {
        self.entries.finish();
    }

    /// The entries whose person is `person`.
    fn of(&self, person: &str) -> impl Iterator<Item = &ConsentEntry> {
        self.entries.equal(hash128(person)).iter().map(|(_, e)| e)
    }

    fn text(&self, id: Option<TextId>) -> Option<&str> {
        let index = usize::try_from(id?.get()).ok()?.checked_sub(1)?;
        self.texts.get(index).map(String::as_str)
    }
}

/// The values of a consent record that its entry in the register takes (see
/// [`Streamed::note_consent`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsentValues<'a> {
    /// `person`.
    pub person: Option<&'a Value>,
    /// `purpose`.
    pub purpose: Option<&'a Value>,
    /// `granted_by`.
    pub granted_by: Option<&'a Value>,
    /// `granted`.
    pub granted: Option<&'a Value>,
    /// `withdrawn`.
    pub withdrawn: Option<&'a Value>,
}

/// A consent-register entry with its texts: person hash, purpose, granted by, granted,
/// withdrawn.
#[cfg(test)]
pub(crate) type ConsentEntryText = (
    u128,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

/// The record kinds whose inputs may be streamed: evaluated window by window, never all held
/// at once. A `differs_from` fact compares a record with the matching record of another kind,
/// which must then be held: inputs of that kind are read whole. (`missing_in` needs only
/// whether a match exists, noted in the first pass; `links_to` reads streamed inputs whole
/// when any record links to another, see [`Streamed::links`].)
pub fn streamable_kinds(facts: &[CompiledFact]) -> Vec<RecordKind> {
    let compared: HashSet<RecordKind> = facts
        .iter()
        .filter_map(|f| match &f.how {
            Compiled::Plain(FactKind::DiffersFrom { kind, .. }) => Some(*kind),
            _ => None,
        })
        .collect();
    [RecordKind::Account, RecordKind::Person, RecordKind::Consent]
        .into_iter()
        .filter(|k| !compared.contains(k))
        .collect()
}

/// What the first pass over a streamed input found that facts about other records need.
#[derive(Debug, Default)]
pub struct Streamed {
    /// Identity counts of the streamed accounts.
    pub identities: Identities,
    /// The kinds of the streamed records.
    pub kinds: foldhash::HashSet<RecordKind>,
    /// Hashed lower-cased values of the attributes `missing_in` facts match on, by (kind,
    /// attribute): whether a record of that kind exists with a value (sorted once merged).
    values: HashedValues,
    /// Whether a record has a value that a `links_to` fact looks up (its accounts must then be
    /// indexed whole: the input is read whole after all).
    pub links: bool,
    /// Consent-register entries of streamed consent records.
    consents: Consents,
}

impl Streamed {
    /// Notes what facts need of a window of streamed records.
    pub fn add(&mut self, facts: &[CompiledFact], records: &[Record]) {
        self.add_noting(facts, records, None);
    }

    /// [`Streamed::add`], also appending the [`identity_short`]s of the records to `shorts`
    /// (see `Identities::count_noting`): for a first pass that decides the records before
    /// every identity is counted.
    pub fn add_noting<R: Fields>(
        &mut self,
        facts: &[CompiledFact],
        records: &[R],
        shorts: Option<&mut Vec<u32>>,
    ) {
        self.identities.count_noting(facts, records, shorts);
        // Records of one input share a kind: noted once per run of it.
        let mut last = None;
        for r in records {
            if last != Some(r.kind()) {
                if !self.kinds.contains(&r.kind()) {
                    self.kinds.insert(r.kind());
                }
                last = Some(r.kind());
            }
        }
        for f in facts {
            let Compiled::Plain(FactKind::MissingIn { kind, match_on }) = &f.how else {
                continue;
            };
            if !records.iter().any(|r| r.kind() == *kind) {
                continue;
            }
            for attr in match_on {
                let hashes = self
                    .values
                    .entry(*kind)
                    .or_default()
                    .entry(attr.clone())
                    .or_default();
                for r in records.iter().filter(|r| r.kind() == *kind) {
                    match_hashes(r, attr, |h| hashes.push(h));
                }
            }
        }
        self.links = self.links || links_present(facts, records);
        self.consents.add(records);
    }

    /// Notes a consent record from its values alone, as [`Streamed::add`] notes it: for a
    /// consent row noted without a record, when no fact needs anything else of consent records
    /// (see [`Streamed::notes_consents_only`]).
    pub fn note_consent(&mut self, values: &ConsentValues<'_>) {
        if !self.kinds.contains(&RecordKind::Consent) {
            self.kinds.insert(RecordKind::Consent);
        }
        self.consents.push(values);
    }

    /// Whether [`Streamed::add`] notes nothing of a consent record but its entry in the
    /// register (and its kind) when the record's attributes and other columns are among
    /// `columns`: no `missing_in` fact looks consents up, and no `links_to` fact reads one
    /// of the columns.
    pub fn notes_consents_only<'c>(
        facts: &[CompiledFact],
        mut columns: impl Iterator<Item = &'c str>,
    ) -> bool {
        let links: Vec<&str> = facts
            .iter()
            .filter_map(CompiledFact::link_attribute)
            .collect();
        let looked_up = facts.iter().any(|f| {
            matches!(
                &f.how,
                Compiled::Plain(FactKind::MissingIn {
                    kind: RecordKind::Consent,
                    ..
                })
            )
        });
        !looked_up && !columns.any(|c| links.contains(&c))
    }

    /// The consent-register entries noted, with their texts, sorted (to compare two ways of
    /// noting them).
    #[cfg(test)]
    pub(crate) fn consent_entries(&self) -> Vec<ConsentEntryText> {
        let c = &self.consents;
        let mut entries: Vec<ConsentEntryText> = c
            .entries
            .items()
            .iter()
            .map(|(hash, e)| {
                let text = |id| c.text(id).map(str::to_owned);
                (
                    *hash,
                    text(e.purpose),
                    text(e.granted_by),
                    e.granted,
                    e.withdrawn,
                )
            })
            .collect();
        entries.sort();
        entries
    }

    /// Sizes what [`Streamed::add`] keeps for a streamed input of at most `rows` records of
    /// `kind`, once: grown while it fills, a million entries would at one point be held twice
    /// over (the old and the new buffer).
    pub fn reserve(&mut self, facts: &[CompiledFact], kind: RecordKind, rows: usize) {
        for f in facts {
            match &f.how {
                Compiled::Plain(FactKind::Duplicate { .. }) if kind == RecordKind::Account => {
                    self.identities
                        .0
                        .entry(f.name.clone())
                        .or_default()
                        .reserve(rows);
                }
                Compiled::Plain(FactKind::MissingIn { kind: k, match_on }) if *k == kind => {
                    for attr in match_on {
                        self.values
                            .entry(kind)
                            .or_default()
                            .entry(attr.clone())
                            .or_default()
                            .reserve(rows);
                    }
                }
                _ => {}
            }
        }
        if kind == RecordKind::Consent {
            self.consents.entries.reserve(rows);
        }
    }

    /// Takes out the identities noted (to be counted with those of inputs read later, see
    /// [`FactInputs::complete`]).
    pub fn take_identities(&mut self) -> Identities {
        std::mem::take(&mut self.identities)
    }

    /// Drops the values noted of the records of the kinds for which `needed` is false: no
    /// record will look them up (a million keys take 16 MB).
    pub fn retain_values(&mut self, needed: impl Fn(RecordKind) -> bool) {
        self.values.retain(|kind, _| needed(*kind));
    }

    /// Adds what another streamed input's first pass found.
    pub fn merge(&mut self, mut other: Self) {
        // Into the bigger collection: the first input merged costs nothing.
        if self.kinds.is_empty() {
            std::mem::swap(self, &mut other);
        }
        let consents = std::mem::take(&mut other.consents);
        self.append(other);
        self.consents.merge(consents);
    }

    /// Adds what the first pass found in another chunk of the same input, into the room
    /// [`Streamed::reserve`] made.
    pub fn append(&mut self, other: Self) {
        self.identities.append(other.identities);
        self.kinds.extend(other.kinds);
        for (kind, by_attr) in other.values {
            let mine = self.values.entry(kind).or_default();
            for (attr, mut set) in by_attr {
                mine.entry(attr).or_default().extend(set.take());
            }
        }
        self.links = self.links || other.links;
        self.consents.append(other.consents);
    }
}

/// The attributes [`Streamed::add`] reads of a record (canonical names, or names of other
/// columns; `key` stands for the record's key): a first pass needs to convert only these.
pub fn streamed_attributes(facts: &[CompiledFact]) -> HashSet<String> {
    // `is_active` and the consent register.
    let mut out: HashSet<String> = [
        "enabled",
        "state",
        "person",
        "purpose",
        "granted_by",
        "granted",
        "withdrawn",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for f in facts {
        match &f.how {
            Compiled::Plain(FactKind::Duplicate { attributes }) => {
                out.extend(attributes.iter().map(AttrName::to_string));
            }
            Compiled::Plain(FactKind::MissingIn { match_on, .. }) => {
                out.extend(match_on.iter().cloned());
            }
            Compiled::Plain(FactKind::LinksTo { attribute, .. }) => {
                out.insert(attribute.to_string());
            }
            _ => {}
        }
    }
    out
}

/// Whether any of `records` has a value that a `links_to` fact looks up among the accounts.
pub fn links_present<R: Fields>(facts: &[CompiledFact], records: &[R]) -> bool {
    facts.iter().any(|f| match &f.how {
        Compiled::Plain(FactKind::LinksTo { attribute, .. }) => records
            .iter()
            .any(|r| any_text(r, attribute, |v| !v.trim().is_empty())),
        _ => false,
    })
}

type Index<'a> = OnceLock<HashMap<String, Vec<&'a Record>>>;

impl<'a> FactInputs<'a> {
    /// Indexes `records` for the look-ups that `facts` need.
    pub fn new(
        records: &'a [Record],
        today: NaiveDate,
        country: &str,
        facts: &[CompiledFact],
    ) -> Self {
        Self::with_streamed(records, today, country, facts, Streamed::default())
    }

    /// Like [`FactInputs::new`], with what the first pass found in streamed inputs (whose
    /// records are evaluated window by window against these inputs; no fact looks records of
    /// their kind up by attribute, see `streamable_kinds`).
    pub fn with_streamed(
        records: &'a [Record],
        today: NaiveDate,
        country: &str,
        facts: &[CompiledFact],
        streamed: Streamed,
    ) -> Self {
        let mut out = Self {
            today,
            country: country.to_uppercase(),
            records,
            kinds: streamed.kinds,
            duplicates: streamed.identities,
            streamed_values: streamed.values,
            consents: streamed.consents,
            ..Self::default()
        };
        for f in facts {
            match &f.how {
                Compiled::Plain(
                    FactKind::MissingIn { kind, match_on }
                    | FactKind::DiffersFrom { kind, match_on, .. },
                ) => {
                    for a in match_on {
                        out.index.entry((*kind, a.clone())).or_default();
                    }
                }
                Compiled::Plain(FactKind::LinksTo { .. }) => {
                    for a in ["key", "id", "username"] {
                        out.index
                            .entry((RecordKind::Account, a.to_owned()))
                            .or_default();
                    }
                }
                _ => {}
            }
        }
        // Counted up front (not lazily: a lazy cell initialised inside the parallel
        // evaluation could be re-entered by a stolen job).
        out.duplicates.count(facts, records);
        out.duplicates.finish();
        for hashes in out
            .streamed_values
            .values_mut()
            .flat_map(HashMap::values_mut)
        {
            hashes.finish_distinct();
        }
        out.consents.add(records);
        out.consents.finish();
        for r in records {
            out.kinds.insert(r.kind);
            out.held.insert(r.kind);
            if r.kind == RecordKind::Service {
                out.services.push(r);
            }
        }
        out
    }

    /// Completes inputs that were built without what the first passes of some streamed
    /// inputs note (their records decided against these inputs, see `check_outcome`): the
    /// identities `identities` of the other streamed inputs (taken out before these inputs
    /// were built) and those of `deferred` are counted with the held records' anew, the
    /// record kinds become `kinds` (of the other streamed inputs) with those of `deferred` and
    /// of the held records, and the values and consents of `deferred` are added. The inputs
    /// are then those [`FactInputs::with_streamed`] builds of every streamed input.
    pub fn complete(
        &mut self,
        facts: &[CompiledFact],
        mut identities: Identities,
        deferred: Streamed,
        kinds: foldhash::HashSet<RecordKind>,
    ) {
        identities.append(deferred.identities);
        identities.count(facts, self.records);
        identities.finish();
        self.duplicates = identities;
        self.kinds = kinds;
        self.kinds.extend(deferred.kinds);
        self.kinds.extend(self.records.iter().map(|r| r.kind));
        for (kind, by_attr) in deferred.values {
            let mine = self.streamed_values.entry(kind).or_default();
            for (attr, mut hashes) in by_attr {
                let values = mine.entry(attr).or_default();
                values.extend(hashes.take());
                values.finish_distinct();
            }
        }
        if !deferred.consents.entries.is_empty() {
            self.consents.merge(deferred.consents);
            self.consents.finish();
        }
    }

    /// The [`identity_short`]s of the identities shared by more than one active account, for
    /// every duplicate fact.
    pub fn repeated_shorts(&self) -> foldhash::HashSet<u32> {
        self.duplicates
            .0
            .values()
            .flat_map(|hashes| hashes.items())
            .map(|h| identity_short(*h))
            .collect()
    }

    /// The records of `kind` by the lower-cased values of `attr`, if facts look them up.
    fn index(&self, kind: RecordKind, attr: &str) -> Option<&HashMap<String, Vec<&'a Record>>> {
        let cell = self.index.get(&(kind, attr.to_owned()))?;
        Some(cell.get_or_init(|| {
            // Sequential: no parallel work inside the cell (see the duplicates).
            let mut index: HashMap<String, Vec<&'a Record>> = HashMap::new();
            for r in self.records.iter().filter(|r| r.kind == kind) {
                for v in match_value(r, attr) {
                    index.entry(v).or_default().push(r);
                }
            }
            index
        }))
    }

    /// The consent entries of each of `records` (in order), looked up for the batch at once:
    /// the memory the look-ups touch is first brought into the cache for every record (see
    /// [`SortedHashes::warm`]), so the cache misses of a batch overlap instead of stalling one
    /// after the other, and each person is hashed once. Records of other kinds than accounts
    /// and people get an empty [`RecordConsents`] that looks up on first use, as always.
    pub fn resolve_consents<'s, R: Fields>(&'s self, records: &[R]) -> Vec<RecordConsents<'s>> {
        let persons = |r: &R| matches!(r.kind(), RecordKind::Account | RecordKind::Person);
        // An empty register has nothing to find: no person is hashed.
        let register = !self.consents.entries.is_empty();
        // The persons `consents_of` looks up: the key, and the username when it differs.
        let mut hashes: Vec<u128> = Vec::with_capacity(2 * records.len());
        let mut spans: Vec<Option<(usize, usize)>> = Vec::with_capacity(records.len());
        for r in records {
            if !persons(r) {
                spans.push(None);
                continue;
            }
            let from = hashes.len();
            if register {
                hashes.push(hash128(r.key()));
                if let Some(u) = r.text(&attr::USERNAME).filter(|u| *u != r.key()) {
                    hashes.push(hash128(u));
                }
            }
            spans.push(Some((from, hashes.len())));
        }
        self.consents.entries.warm(&hashes);
        spans
            .into_iter()
            .map(|span| {
                let known = RecordConsents::default();
                if let Some((from, to)) = span {
                    let entries = hashes
                        .get(from..to)
                        .unwrap_or_default()
                        .iter()
                        .flat_map(|h| self.consents.entries.equal(*h).iter().map(|(_, e)| e))
                        .collect();
                    let _ = known.0.set(entries);
                }
                known
            })
            .collect()
    }

    /// The consents of an account: entries whose person is its key or its username.
    /// The consent entries of `record`, looked up on first use and kept in `known`.
    fn consents_in<'s, 'k, R: Fields + ?Sized>(
        &'s self,
        record: &R,
        known: &'k RecordConsents<'s>,
    ) -> &'k [&'s ConsentEntry] {
        known.0.get_or_init(|| self.consents_of(record))
    }

    fn consents_of<R: Fields + ?Sized>(&self, record: &R) -> Vec<&ConsentEntry> {
        let mut out: Vec<&ConsentEntry> = self.consents.of(record.key()).collect();
        if let Some(u) = record.text(&attr::USERNAME).filter(|u| *u != record.key()) {
            out.extend(self.consents.of(u));
        }
        out
    }

    /// Whether a consent entry is in force at the evaluation date.
    fn in_force(&self, consent: &ConsentEntry) -> bool {
        consent.granted.is_none_or(|d| d <= self.today) && !self.withdrawn(consent)
    }

    fn withdrawn(&self, consent: &ConsentEntry) -> bool {
        consent.withdrawn.is_some_and(|d| d <= self.today)
    }

    /// The purposes for which an account holds a consent in force (by anyone).
    pub fn consent_purposes(&self, record: &Record) -> Vec<String> {
        self.consent_purposes_in(record, &RecordConsents::default())
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// [`FactInputs::consent_purposes`], with the record's entries kept in `known`; the
    /// purposes are the register's own texts, not copies.
    pub fn consent_purposes_in<'s, R: Fields + ?Sized>(
        &'s self,
        record: &R,
        known: &RecordConsents<'s>,
    ) -> Vec<&'s str> {
        let mut out: Vec<&'s str> = self
            .consents_in(record, known)
            .iter()
            .filter(|c| self.in_force(c))
            .filter_map(|c| self.consents.text(c.purpose))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether a record of `kind` matches `record` on any of `match_on`, among the records
    /// held and the streamed ones.
    fn exists<R: Fields + ?Sized>(
        &self,
        kind: RecordKind,
        match_on: &[String],
        record: &R,
    ) -> bool {
        !self.matches(kind, match_on, record).is_empty()
            || match_on.iter().any(|attr| {
                self.streamed_values
                    .get(&kind)
                    .and_then(|by_attr| by_attr.get(attr))
                    .is_some_and(|sorted| {
                        let mut found = false;
                        match_hashes(record, attr, |h| found = found || sorted.contains(h));
                        found
                    })
            })
    }

    /// Records of `kind` matching `record` on any of `match_on`.
    fn matches<R: Fields + ?Sized>(
        &self,
        kind: RecordKind,
        match_on: &[String],
        record: &R,
    ) -> Vec<&'a Record> {
        let mut out: Vec<&'a Record> = Vec::new();
        // Only held records are indexed (streamed ones are looked up by hash, see `exists`).
        if !self.held.contains(&kind) {
            return out;
        }
        for attr in match_on {
            let Some(index) = self.index(kind, attr) else {
                continue;
            };
            for v in match_value(record, attr) {
                for r in index.get(&v).into_iter().flatten() {
                    if !out.iter().any(|o| std::ptr::eq(*o, *r)) {
                        out.push(r);
                    }
                }
            }
        }
        out
    }
}

/// The identity tuple of a record for a duplicate fact: all attributes present, lower-cased
/// (what [`identity_hash`] hashes, built; the reference of its test).
#[cfg(test)]
fn identity(record: &Record, attributes: &[AttrName]) -> Option<Vec<String>> {
    attributes
        .iter()
        .map(|a| match_value(record, a).into_iter().next())
        .collect()
}

/// A 128-bit hash of the identity tuple of a record, as [`hash128`] of [`identity`] but
/// without building the tuple: an ASCII text without capitals is hashed as it is. Counting hashes instead of tuples keeps the counts of a million
/// accounts in 30 MB instead of 150.
fn identity_hash<R: Fields + ?Sized>(record: &R, attributes: &[AttrName]) -> Option<u128> {
    use std::hash::Hasher as _;
    // The bytes are collected on the stack and hashed at once (the hash of a stream of bytes
    // does not depend on how it is split; SipHash's writes cost more than the copies): an
    // identity is seven writes. One longer than the buffer is written piece by piece.
    let mut buf = IdentityBytes::default();
    write_identity(record, attributes, &mut buf)?;
    let mut h = crate::record::Hasher128::new();
    match buf.bytes() {
        Some(bytes) => h.write(bytes),
        None => write_identity(record, attributes, &mut h)?,
    }
    Some(h.finish128())
}

/// Where [`write_identity`] writes: a hasher, or a buffer on the stack.
trait IdentitySink {
    fn put(&mut self, bytes: &[u8]);
    /// `text` (ASCII) lower-cased.
    fn put_ascii_lowercase(&mut self, text: &str);
}

impl IdentitySink for crate::record::Hasher128 {
    fn put(&mut self, bytes: &[u8]) {
        std::hash::Hasher::write(self, bytes);
    }

    /// A block of at most 64 bytes at a time lower-cased on the stack.
    fn put_ascii_lowercase(&mut self, text: &str) {
        let mut block = [0u8; 64];
        for part in text.as_bytes().chunks(block.len()) {
            let lowered = block.get_mut(..part.len()).unwrap_or_default();
            for (to, from) in lowered.iter_mut().zip(part) {
                *to = from.to_ascii_lowercase();
            }
            self.put(lowered);
        }
    }
}

/// Writes the identity tuple of `record` framed as the hash of the tuple (`Vec<String>`)
/// would be: its length (as SipHash writes a `usize`: little-endian), then each text and
/// `0xff`. `None` when a part is empty or missing.
fn write_identity<R: Fields + ?Sized>(
    record: &R,
    attributes: &[AttrName],
    out: &mut impl IdentitySink,
) -> Option<()> {
    out.put(&attributes.len().to_le_bytes());
    for a in attributes {
        let value = (a.as_str() != "key")
            .then(|| record.value_or_extra_of(a))
            .flatten();
        match value {
            Some(Value::Str(s)) => {
                let t = crate::source::value::trim(s);
                if t.is_empty() {
                    return None;
                }
                if t.is_ascii() {
                    out.put_ascii_lowercase(t);
                } else {
                    out.put(t.to_lowercase().as_bytes());
                }
            }
            Some(Value::Date(d)) if let Some(iso) = crate::record::iso_date_bytes(*d) => {
                out.put(&iso)
            }
            _ => out.put(match_value(record, a).into_iter().next()?.as_bytes()),
        }
        out.put(&[0xff]);
    }
    Some(())
}

/// The bytes [`identity_hash`] hashes, collected on the stack; `None` once they do not fit.
struct IdentityBytes {
    buf: [u8; 192],
    len: usize,
    overflow: bool,
}

impl Default for IdentityBytes {
    fn default() -> Self {
        Self {
            buf: [0; 192],
            len: 0,
            overflow: false,
        }
    }
}

impl IdentityBytes {
    fn bytes(&self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        self.buf.get(..self.len)
    }
}

impl IdentityBytes {
    /// The next `n` bytes of the buffer, taken; `None` (and the bytes overflowed) when they do
    /// not fit.
    fn take(&mut self, n: usize) -> Option<&mut [u8]> {
        let room = self
            .buf
            .get_mut(self.len..self.len + n)
            .filter(|_| !self.overflow);
        match room {
            Some(room) => {
                self.len += n;
                Some(room)
            }
            None => {
                self.overflow = true;
                None
            }
        }
    }
}

impl IdentitySink for IdentityBytes {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(to) = self.take(bytes.len()) {
            to.copy_from_slice(bytes);
        }
    }

    fn put_ascii_lowercase(&mut self, text: &str) {
        if let Some(to) = self.take(text.len()) {
            for (to, from) in to.iter_mut().zip(text.as_bytes()) {
                *to = from.to_ascii_lowercase();
            }
        }
    }
}

/// Hashes ASCII `text` lower-cased into `h`, as `text.to_lowercase().hash(h)` would (the
/// bytes, then `0xff`), without building the lower-cased copy: a block of at most 64 bytes at
/// a time on the stack (a hasher's result does not depend on how its input is split).
fn hash_ascii_lowercase(h: &mut crate::record::Hasher128, text: &str) {
    h.put_ascii_lowercase(text);
    h.put(&[0xff]);
}

/// Whole years from `birth` to `today`.
pub fn age(birth: NaiveDate, today: NaiveDate) -> i64 {
    let mut years = i64::from(today.year() - birth.year());
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

fn text_values<R: Fields + ?Sized>(record: &R, attr: &str) -> Vec<String> {
    match record.value_or_extra(attr) {
        Some(Value::Set(items)) => items.iter().map(ToString::to_string).collect(),
        Some(v) => vec![v.display()],
        None => Vec::new(),
    }
}

/// Whether any text value of `attr` (each item of a set) satisfies `test`, without copying
/// the texts as [`text_values`] does.
fn any_text<R: Fields + ?Sized>(record: &R, attr: &AttrName, test: impl Fn(&str) -> bool) -> bool {
    match record.value_or_extra_of(attr) {
        Some(Value::Str(s)) => test(s),
        Some(Value::Set(items)) => items.iter().any(|i| test(i)),
        Some(v) => test(&v.display()),
        None => false,
    }
}

/// The attribute of `record` that makes the fact true, to point a finding at it (for facts
/// about attributes: regex, national_id, column, duplicate, differs_from, links_to).
pub fn matched_attribute<R: Fields + ?Sized>(
    fact: &CompiledFact,
    record: &R,
    inputs: &FactInputs<'_>,
) -> Option<String> {
    match &fact.how {
        Compiled::Regex { attributes, regex } => attributes
            .iter()
            .find(|a| any_text(record, a, |v| regex.is_match(v)))
            .map(AttrName::to_string),
        Compiled::Plain(kind) => match kind {
            FactKind::NationalId { attributes, kinds } => attributes
                .iter()
                .find(|a| any_text(record, a, |v| national_id::contains(v, kinds)))
                .map(AttrName::to_string),
            FactKind::Column { names } => record
                .extras()
                .find(|(name, value)| {
                    names.contains(&normalize_name(name)) && !value.display().trim().is_empty()
                })
                .map(|(name, _)| name.to_owned()),
            FactKind::Duplicate { attributes } => {
                // The identity is hashed (about 900 instructions) only when it may be found
                // shared: of an active account, with shared identities counted (an account
                // list decided in its first pass counts none until every identity is known).
                if record.kind() != RecordKind::Account
                    || !inputs.duplicates.any_repeated(&fact.name)?
                    || !is_active(record)
                {
                    return None;
                }
                let tuple = identity_hash(record, attributes)?;
                inputs
                    .duplicates
                    .repeated(&fact.name, tuple)?
                    .then(|| attributes.first().map(AttrName::to_string))
                    .flatten()
            }
            FactKind::DiffersFrom {
                kind,
                match_on,
                attributes,
            } => {
                let other = inputs.matches(*kind, match_on, record).into_iter().next()?;
                attributes
                    .iter()
                    .find(|a| {
                        let (mine, theirs) = (text_values(record, a), text_values(other, a));
                        !mine.is_empty() && !theirs.is_empty() && mine != theirs
                    })
                    .cloned()
            }
            FactKind::LinksTo { attribute, role } => {
                // Most records link to no one: found absent by its place.
                record.value_or_extra_of(attribute)?;
                let linked = text_values(record, attribute);
                let hit = linked.iter().any(|k| {
                    let k = k.trim().to_lowercase();
                    ["key", "id", "username"].iter().any(|attr| {
                        inputs
                            .index(RecordKind::Account, attr)
                            .and_then(|m| m.get(&k))
                            .into_iter()
                            .flatten()
                            .any(|r| {
                                is_active(*r)
                                    && role.as_ref().is_none_or(|role| r.has_in_set("roles", role))
                            })
                    })
                });
                hit.then(|| attribute.to_string())
            }
            _ => None,
        },
    }
}

/// The consent entries of one record, looked up once for all the facts about consents.
#[derive(Debug, Default)]
pub struct RecordConsents<'a>(std::cell::OnceCell<Vec<&'a ConsentEntry>>);

/// Evaluates one fact for one record. `age` is the record's age, if known.
pub fn evaluate<R: Fields + ?Sized>(
    fact: &CompiledFact,
    record: &R,
    inputs: &FactInputs<'_>,
    age: Option<i64>,
) -> bool {
    evaluate_in(fact, record, inputs, age, &RecordConsents::default())
}

/// [`evaluate`], with the record's consent entries kept in `known` (shared by the facts of one
/// record).
pub fn evaluate_in<'s, R: Fields + ?Sized>(
    fact: &CompiledFact,
    record: &R,
    inputs: &'s FactInputs<'_>,
    age: Option<i64>,
    known: &RecordConsents<'s>,
) -> bool {
    let Compiled::Plain(kind) = &fact.how else {
        return matched_attribute(fact, record, inputs).is_some();
    };
    match kind {
        FactKind::Regex { .. }
        | FactKind::NationalId { .. }
        | FactKind::Column { .. }
        | FactKind::Duplicate { .. }
        | FactKind::DiffersFrom { .. }
        | FactKind::LinksTo { .. } => matched_attribute(fact, record, inputs).is_some(),
        FactKind::MissingIn { kind, match_on } => {
            inputs.kinds.contains(kind) && !inputs.exists(*kind, match_on, record)
        }
        FactKind::Consent {
            purpose,
            guardian_below_age,
            status,
        } => {
            if record.kind() != RecordKind::Account {
                return false;
            }
            let threshold = guardian_below_age
                .get(&inputs.country)
                .or_else(|| guardian_below_age.get("default"))
                .copied()
                .unwrap_or(16);
            // Unknown age: students are treated as minors, everyone else as adults.
            let minor = match age {
                Some(a) => a < threshold,
                None => record.in_set(&attr::ROLES, "student"),
            };
            let text = |id| inputs.consents.text(id);
            // The record's consents for the purpose (walked again, not collected: a fact of
            // every account).
            let all = inputs.consents_in(record, known);
            let consents = || {
                all.iter()
                    .copied()
                    .filter(|c| purpose == "*" || text(c.purpose) == Some(purpose.as_str()))
            };
            let valid = consents()
                .any(|c| inputs.in_force(c) && (!minor || text(c.granted_by) == Some("guardian")));
            match status {
                ConsentStatus::Valid => valid,
                ConsentStatus::Withdrawn => !valid && consents().any(|c| inputs.withdrawn(c)),
                ConsentStatus::SelfBelowAge => {
                    minor
                        && consents()
                            .any(|c| inputs.in_force(c) && text(c.granted_by) == Some("self"))
                }
            }
        }
        FactKind::ModuleAccess { module } => {
            if record.kind() != RecordKind::Account {
                return false;
            }
            inputs.services.iter().any(|s| {
                s.str("module") == Some(module.as_str())
                    && s.get("enabled").and_then(|a| a.value.as_bool()) != Some(false)
                    && s.get("allowed_roles")
                        .and_then(|a| a.value.as_set())
                        .is_none_or(|allowed| {
                            allowed.iter().any(|r| record.in_set(&attr::ROLES, r))
                        })
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
            Value::Set(roles.iter().map(|s| (*s).into()).collect()),
            Span::default(),
        );
        if let Some(b) = birth {
            r.set("birth_date", Value::Date(date(b)), Span::default());
        }
        r
    }

    #[test]
    fn consent_texts_are_interned_once_each() {
        let mut texts: Vec<String> = [
            "guardian",
            "self",
            "guardiam",
            "xuardian",
            "videoconference",
            "videoconferencE",
            "Videoconference",
            "erziehungsberechtigte",
        ]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
        texts.extend(crate::record::ALIKE_SHORT_TEXTS.map(str::to_owned));
        texts.extend((0..20).map(|n| format!("purpose {n}")));
        let mut c = Consents::default();
        let ids: Vec<Option<TextId>> = texts.iter().map(|t| c.intern(Some(t))).collect();
        assert!(c.short.len() <= Consents::SHORT);
        for (text, id) in texts.iter().zip(&ids) {
            // Each text has its own id, found again however it is looked up.
            assert_eq!(c.text(*id), Some(text.as_str()));
            assert_eq!(c.intern(Some(text)), *id, "{text}");
            assert_eq!(c.intern(Some(&text.clone())), *id, "{text}");
        }
        assert_eq!(c.texts.len(), texts.len());
        assert_eq!(c.intern(None), None);
    }

    #[test]
    fn identity_hashes_are_hashes_of_the_identity() {
        let attrs: Vec<AttrName> = ["given_name", "family_name", "birth_date", "key", "roles"]
            .into_iter()
            .map(AttrName::new)
            .collect();
        // Longer than the stack buffer of the hash, in ASCII and not.
        let long = "Anna-Maria ".repeat(20);
        let long_umlaut = "Jürgen-Ölaf ".repeat(20);
        let cases: [(&str, &str, Option<&str>, &[&str]); 9] = [
            (&long, "berg", Some("2010-01-01"), &["student"]),
            ("anna", &long_umlaut, Some("2010-01-01"), &["student"]),
            (&long[..170], "berg", Some("2010-01-01"), &["student"]),
            ("anna", "berg", Some("2010-01-01"), &["student"]),
            (" Anna ", "BERG", Some("2010-01-01"), &["student"]),
            ("Ärne", "Øster", Some("2011-02-03"), &["teacher", "admin"]),
            ("ǅemal", "x", Some("2011-02-03"), &["teacher"]),
            ("anna", "  ", Some("2010-01-01"), &["student"]),
            ("anna", "berg", None, &["student"]),
        ];
        for (given, family, birth, roles) in cases {
            let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
            r.key = "K1".into();
            r.set("given_name", Value::Str(given.into()), Span::default());
            r.set("family_name", Value::Str(family.into()), Span::default());
            if let Some(b) = birth {
                r.set("birth_date", Value::Date(date(b)), Span::default());
            }
            r.set(
                "roles",
                Value::Set(roles.iter().map(|s| (*s).into()).collect()),
                Span::default(),
            );
            assert_eq!(
                identity_hash(&r, &attrs),
                identity(&r, &attrs).map(hash128),
                "{given} {family} {birth:?}"
            );
        }
    }

    #[test]
    fn match_hashes_are_the_hashes_of_the_match_values() {
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
        r.key = " K-17 ".into();
        r.set(
            "username",
            Value::Str(" Anna.Berg ".into()),
            Span::default(),
        );
        r.set("given_name", Value::Str("Ärne".into()), Span::default());
        r.set("family_name", Value::Str("   ".into()), Span::default());
        r.set(
            "birth_date",
            Value::Date(date("2010-01-31")),
            Span::default(),
        );
        r.set("enabled", Value::Bool(true), Span::default());
        r.set(
            "roles",
            Value::Set(vec!["Teacher".into(), " ".into(), "ÉLÈVE".into()].into()),
            Span::default(),
        );
        r.extra.insert(
            "Schulnummer".to_owned(),
            crate::record::Attr {
                value: Value::Str("AB12".into()),
                span: Span::default(),
            },
        );
        for attr in [
            "key",
            "username",
            "given_name",
            "family_name",
            "birth_date",
            "enabled",
            "roles",
            "Schulnummer",
            "missing",
        ] {
            let mut hashes = Vec::new();
            match_hashes(&r, attr, |h| hashes.push(h));
            let expected: Vec<u128> = match_value(&r, attr).iter().map(hash128).collect();
            assert_eq!(hashes, expected, "{attr}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_lowercase_hashes_are_those_of_the_lowercased_text(text in "[ -~]{0,200}") {
            use std::hash::Hash as _;
            let mut streamed = crate::record::Hasher128::new();
            hash_ascii_lowercase(&mut streamed, &text);
            let mut whole = crate::record::Hasher128::new();
            text.to_lowercase().hash(&mut whole);
            proptest::prop_assert_eq!(streamed.finish128(), whole.finish128());
        }

        #[test]
        fn dates_are_written_as_they_display(days in -4_000_000i32..4_000_000) {
            let d = NaiveDate::from_num_days_from_ce_opt(days).unwrap_or_default();
            // chrono's own formatting is the oracle ([`Value::display`] uses the bytes).
            let shown = d.format("%Y-%m-%d").to_string();
            proptest::prop_assert_eq!(Value::Date(d).display(), shown.as_str());
            match crate::record::iso_date_bytes(d) {
                Some(iso) => proptest::prop_assert_eq!(std::str::from_utf8(&iso).ok(), Some(shown.as_str())),
                None => {
                    use chrono::Datelike as _;
                    proptest::prop_assert!(!(0..=9999).contains(&d.year()), "{shown}");
                }
            }
        }
    }

    /// Consents noted in two collections (each interning its own texts) and merged read as
    /// if noted in one: texts are mapped, entries of a person found whichever side they came from.
    #[test]
    fn merged_consents_keep_their_texts() {
        let mut first = Streamed::default();
        first.add(&[], &[consent("a", "self", "2026-09-01", None)]);
        let mut second = Streamed::default();
        let mut b = consent("b", "guardian", "2026-09-01", Some("2026-10-01"));
        b.set("purpose", Value::Str("photos".into()), Span::default());
        second.add(&[], &[b, consent("a", "guardian", "2026-09-01", None)]);
        first.merge(second);
        let inputs = FactInputs::with_streamed(&[], date("2026-11-22"), "DE", &[], first);
        let account = |key: &str| {
            let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
            r.key = key.into();
            r
        };
        let texts = |key: &str| -> Vec<(Option<&str>, Option<&str>)> {
            inputs
                .consents_of(&account(key))
                .into_iter()
                .map(|c| {
                    (
                        inputs.consents.text(c.purpose),
                        inputs.consents.text(c.granted_by),
                    )
                })
                .collect()
        };
        assert_eq!(
            texts("a"),
            vec![
                (Some("videoconference"), Some("self")),
                (Some("videoconference"), Some("guardian"))
            ]
        );
        assert_eq!(texts("b"), vec![(Some("photos"), Some("guardian"))]);
        assert!(texts("c").is_empty());
        // Withdrawn on 1 October: no purpose in force for `b`.
        assert!(inputs.consent_purposes(&account("b")).is_empty());
        assert_eq!(
            inputs.consent_purposes(&account("a")),
            vec!["videoconference"]
        );
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

    fn plain(kind: FactKind) -> CompiledFact {
        CompiledFact {
            name: "f".into(),
            how: Compiled::Plain(kind),
        }
    }

    fn consent_fact() -> CompiledFact {
        consent_fact_with(ConsentStatus::Valid)
    }

    fn consent_fact_with(status: ConsentStatus) -> CompiledFact {
        plain(FactKind::Consent {
            purpose: "videoconference".into(),
            status,
            guardian_below_age: BTreeMap::from([
                ("DE".into(), 16),
                ("DK".into(), 15),
                ("SE".into(), 13),
                ("default".into(), 16),
            ]),
        })
    }

    #[test]
    fn ages_in_whole_years() {
        assert_eq!(age(date("2010-11-23"), date("2026-11-22")), 15);
        assert_eq!(age(date("2010-11-22"), date("2026-11-22")), 16);
    }

    #[test]
    fn consents_resolved_for_a_batch_are_those_looked_up_one_by_one() {
        let register = vec![
            consent("k1", "guardian", "2026-09-01", None),
            consent("u2", "self", "2026-09-01", None),
            consent("k2", "guardian", "2025-09-01", Some("2026-01-01")),
            consent("k1", "self", "2024-09-01", None),
            consent("nobody", "guardian", "2026-09-01", None),
        ];
        let today = date("2026-11-22");
        let mut by_username = account("k2", &["student"], None);
        by_username.set("username", Value::Str("u2".into()), Span::default());
        let mut person = account("k1", &["student"], None);
        person.kind = RecordKind::Person;
        let batch = vec![
            account("k1", &["teacher"], None),
            by_username,
            account("none", &["student"], None),
            consent("k1", "guardian", "2026-09-01", None),
            person,
        ];
        for inputs in [
            FactInputs::new(&register, today, "DE", &[]),
            FactInputs::new(&[], today, "DE", &[]),
        ] {
            let resolved = inputs.resolve_consents(&batch);
            assert_eq!(resolved.len(), batch.len());
            for (r, known) in batch.iter().zip(&resolved) {
                let lazy = RecordConsents::default();
                assert_eq!(
                    format!("{:?}", inputs.consents_in(r, known)),
                    format!("{:?}", inputs.consents_in(r, &lazy)),
                    "{}",
                    r.key
                );
            }
        }
        // Both persons of an account whose username is not its key, in that order.
        let inputs = FactInputs::new(&register, today, "DE", &[]);
        let resolved = inputs.resolve_consents(&batch);
        let found = resolved
            .get(1)
            .map(|known| inputs.consents_in(&batch[1], known).len());
        assert_eq!(found, Some(2));
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
        let de = FactInputs::new(&records, today, "DE", &[]);
        let dk = FactInputs::new(&records, today, "dk", &[]);
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
            Value::Set(vec!["student".into()].into()),
            Span::default(),
        );
        let records = vec![svc];
        let inputs = FactInputs::new(&records, date("2026-11-22"), "DE", &[]);
        let fact = plain(FactKind::ModuleAccess {
            module: "videoconference".into(),
        });
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
        let fact = CompiledFact {
            name: "g".into(),
            how: Compiled::Regex {
                attributes: vec!["username".into(), "roles".into()],
                regex: RegexBuilder::new("^lehrer[0-9]*$")
                    .case_insensitive(true)
                    .build()?,
            },
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

    fn person(kind: RecordKind, key: &str, given: &str) -> Record {
        let mut r = account(key, &["teacher"], None);
        r.kind = kind;
        r.set("id", Value::Str(key.into()), Span::default());
        r.set("given_name", Value::Str(given.into()), Span::default());
        r
    }

    #[test]
    fn missing_in_needs_the_other_input_to_exist() {
        let fact = plain(FactKind::MissingIn {
            kind: RecordKind::Person,
            match_on: vec!["id".into()],
        });
        let only_accounts = vec![person(RecordKind::Account, "a1", "Anna")];
        let inputs = FactInputs::new(
            &only_accounts,
            date("2026-11-22"),
            "DE",
            std::slice::from_ref(&fact),
        );
        assert!(
            !evaluate(&fact, &only_accounts[0], &inputs, None),
            "no leading-system export: unknown, not missing"
        );
        let both = vec![
            person(RecordKind::Account, "a1", "Anna"),
            person(RecordKind::Account, "a2", "Ben"),
            person(RecordKind::Person, "A1", "Anna"),
        ];
        let inputs = FactInputs::new(&both, date("2026-11-22"), "DE", std::slice::from_ref(&fact));
        assert!(
            !evaluate(&fact, &both[0], &inputs, None),
            "matched case-insensitively"
        );
        assert!(evaluate(&fact, &both[1], &inputs, None));
    }

    #[test]
    fn differs_from_names_the_attribute() {
        let fact = plain(FactKind::DiffersFrom {
            kind: RecordKind::Person,
            match_on: vec!["id".into()],
            attributes: vec!["family_name".into(), "given_name".into()],
        });
        let records = vec![
            person(RecordKind::Account, "a1", "Anna"),
            person(RecordKind::Person, "a1", "Anne"),
        ];
        let inputs = FactInputs::new(
            &records,
            date("2026-11-22"),
            "DE",
            std::slice::from_ref(&fact),
        );
        assert_eq!(
            matched_attribute(&fact, &records[0], &inputs).as_deref(),
            Some("given_name")
        );
    }

    #[test]
    fn shorts_are_the_identities_counted_record_by_record() {
        let by_name = CompiledFact {
            name: "by_name".into(),
            how: Compiled::Plain(FactKind::Duplicate {
                attributes: vec!["given_name".into()],
            }),
        };
        let by_key = CompiledFact {
            name: "by_key".into(),
            how: Compiled::Plain(FactKind::Duplicate {
                attributes: vec!["key".into()],
            }),
        };
        let facts = [
            by_name.clone(),
            plain(FactKind::Column { names: Vec::new() }),
            by_key,
        ];
        assert_eq!(identities_per_record(&facts), 2);
        let mut disabled = person(RecordKind::Account, "a2", "Bo");
        disabled.set("enabled", Value::Bool(false), Span::default());
        let records = vec![
            person(RecordKind::Account, "a1", "Anna"),
            disabled,
            person(RecordKind::Person, "p1", "Anna"),
            person(RecordKind::Account, "a3", "Anna"),
        ];
        let mut streamed = Streamed::default();
        // Appended after what is there, record by record, fact by fact.
        let mut shorts = vec![7];
        streamed.add_noting(&facts, &records, Some(&mut shorts));
        let short = |r: &Record, attrs: &[&str]| {
            let attrs: Vec<AttrName> = attrs.iter().map(|a| AttrName::new(*a)).collect();
            identity_hash(r, &attrs).map_or(0, identity_short)
        };
        let expected: Vec<u32> = std::iter::once(7)
            .chain(records.iter().flat_map(|r| {
                let counted = r.kind == RecordKind::Account && is_active(r);
                [
                    if counted {
                        short(r, &["given_name"])
                    } else {
                        0
                    },
                    if counted { short(r, &["key"]) } else { 0 },
                ]
            }))
            .collect();
        assert_eq!(shorts, expected);
        assert_ne!(shorts.get(1), Some(&0));
        assert_eq!(shorts.get(1), shorts.get(7), "one given name, one short");
        // Completed inputs are those built with every input's identities at once.
        let mut identities = Streamed::default();
        identities.add(std::slice::from_ref(&by_name), &records[..1]);
        let mut deferred = Streamed::default();
        deferred.add(std::slice::from_ref(&by_name), &records[1..]);
        let mut inputs = FactInputs::with_streamed(
            &[],
            date("2026-11-22"),
            "DE",
            std::slice::from_ref(&by_name),
            Streamed::default(),
        );
        assert!(!evaluate(&by_name, &records[0], &inputs, None));
        inputs.complete(
            std::slice::from_ref(&by_name),
            identities.take_identities(),
            deferred,
            foldhash::HashSet::default(),
        );
        assert!(evaluate(&by_name, &records[0], &inputs, None));
        assert!(evaluate(&by_name, &records[3], &inputs, None));
        assert!(!evaluate(&by_name, &records[1], &inputs, None));
        let shared = inputs.repeated_shorts();
        assert_eq!(shared.len(), 1);
        assert!(shorts.get(1).is_some_and(|s| shared.contains(s)));
    }

    #[test]
    fn duplicates_count_active_accounts_only() {
        let fact = plain(FactKind::Duplicate {
            attributes: vec!["given_name".into()],
        });
        let mut disabled = person(RecordKind::Account, "a3", "Anna");
        disabled.set("enabled", Value::Bool(false), Span::default());
        let records = vec![
            person(RecordKind::Account, "a1", "Anna"),
            person(RecordKind::Account, "a2", "ANNA"),
            disabled,
        ];
        let inputs = FactInputs::new(
            &records,
            date("2026-11-22"),
            "DE",
            std::slice::from_ref(&fact),
        );
        assert!(evaluate(&fact, &records[0], &inputs, None));
        assert!(!evaluate(&fact, &records[2], &inputs, None));
        let single = vec![
            person(RecordKind::Account, "a1", "Anna"),
            records[2].clone(),
        ];
        let inputs = FactInputs::new(
            &single,
            date("2026-11-22"),
            "DE",
            std::slice::from_ref(&fact),
        );
        assert!(!evaluate(&fact, &single[0], &inputs, None));
    }

    #[test]
    fn links_to_active_students() {
        let fact = plain(FactKind::LinksTo {
            attribute: "children".into(),
            role: Some("student".into()),
        });
        let mut parent = account("p1", &["guardian"], None);
        parent.set(
            "children",
            Value::Set(vec!["s1".into()].into()),
            Span::default(),
        );
        let mut orphan = account("p2", &["guardian"], None);
        orphan.set(
            "children",
            Value::Set(vec!["s2".into()].into()),
            Span::default(),
        );
        let mut gone = account("s2", &["student"], None);
        gone.set(
            "state",
            Value::Str("pending_deletion".into()),
            Span::default(),
        );
        let records = vec![parent, orphan, account("s1", &["student"], None), gone];
        let inputs = FactInputs::new(
            &records,
            date("2026-11-22"),
            "DE",
            std::slice::from_ref(&fact),
        );
        assert!(evaluate(&fact, &records[0], &inputs, None));
        assert!(!evaluate(&fact, &records[1], &inputs, None));
    }

    #[test]
    fn withdrawn_consent_without_a_newer_one() {
        let records = vec![
            consent("s1", "guardian", "2025-09-01", Some("2026-10-01")),
            consent("s2", "guardian", "2025-09-01", Some("2026-10-01")),
            consent("s2", "guardian", "2026-10-05", None),
        ];
        let fact = consent_fact_with(ConsentStatus::Withdrawn);
        let inputs = FactInputs::new(&records, date("2026-11-22"), "DE", &[]);
        assert!(evaluate(
            &fact,
            &account("s1", &["student"], None),
            &inputs,
            None
        ));
        assert!(!evaluate(
            &fact,
            &account("s2", &["student"], None),
            &inputs,
            None
        ));
    }

    #[test]
    fn national_ids_and_columns() {
        let fact = plain(FactKind::NationalId {
            attributes: vec!["username".into(), "email".into()],
            kinds: vec![crate::pack::national_id::IdKind::SePersonnummer],
        });
        let inputs = FactInputs::default();
        assert!(evaluate(
            &fact,
            &account("elev8112189876", &["student"], None),
            &inputs,
            None
        ));
        assert!(!evaluate(
            &fact,
            &account("elev.berg", &["student"], None),
            &inputs,
            None
        ));
        let col = plain(FactKind::Column {
            names: vec!["ethnicity".into()],
        });
        let mut r = account("a", &[], None);
        assert!(!evaluate(&col, &r, &inputs, None));
        r.extra.insert(
            "Ethnicity".into(),
            crate::record::Attr {
                value: Value::Str("x".into()),
                span: Span::default(),
            },
        );
        assert_eq!(
            matched_attribute(&col, &r, &inputs).as_deref(),
            Some("Ethnicity")
        );
    }

    #[test]
    fn a_consent_entry_takes_32_bytes_with_its_person() {
        assert_eq!(size_of::<(u128, ConsentEntry)>(), 32);
    }
}

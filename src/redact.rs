//! Redaction: keeping personal data of children and staff out of logs and reports.
//!
//! While reading the inputs, [`PersonalData::collect`] notes which values are personal: given,
//! family and display names, e-mail addresses, birth dates, national id numbers, columns such
//! as phone or address, special-category columns (religion, health) and usernames that are
//! words rather than codes (`anna.schmidt`, `annber01`: usernames are mostly built from names).
//! A username that is itself the evidence of a policy marked `@evidence("not-personal")`
//! (`lehrer1` for the generic-account rule) names no person and is kept.
//!
//! [`redact`] then returns a copy of a report in which
//! - every personal cell or node in the source text is masked with `*` of the same byte length
//!   (so that spans, lines and the layout of snippets stay as they were), and
//! - every personal value in messages, labels, help texts and subject keys is replaced by a
//!   placeholder naming its kind (`[name]`, `[e-mail]`, `[username]` …).
//!
//! Findings stay traceable: the location (file, line, column), the fingerprint and subject keys
//! that are codes (an id from the leading system) are kept.
//!
//! [`sanitize`] removes what input data must never do to a terminal: control characters, ANSI
//! escapes and bidirectional overrides are replaced, in the source text (byte for byte, by `?`)
//! and in messages (by a visible `\u{..}` escape).

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use crate::finding::Report;
use crate::pack::national_id::{self, IdKind};
use crate::record::{Record, RecordKind, Value};
use crate::source::columns::normalize_name;
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// What kind of personal value something is; names the placeholder that replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PersonalKind {
    /// A given, family or display name.
    Name,
    /// An e-mail address.
    Email,
    /// A username built from a name.
    Username,
    /// A birth date.
    BirthDate,
    /// A national identity number (personnummer, CPR, Steuer-ID).
    NationalId,
    /// Other personal data: phone, address, special categories, free text about a person.
    Other,
}

impl PersonalKind {
    /// The placeholder that replaces a value of this kind in messages.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Name => "[name]",
            Self::Email => "[e-mail]",
            Self::Username => "[username]",
            Self::BirthDate => "[birth date]",
            Self::NationalId => "[national id]",
            Self::Other => "[personal data]",
        }
    }
}

/// Canonical attributes that always hold personal data.
const PERSONAL_ATTRS: &[(&str, PersonalKind)] = &[
    ("given_name", PersonalKind::Name),
    ("family_name", PersonalKind::Name),
    ("display_name", PersonalKind::Name),
    ("sponsor", PersonalKind::Name),
    ("email", PersonalKind::Email),
    ("birth_date", PersonalKind::BirthDate),
];

/// Extra columns (normalised names) that hold personal data. Besides names and contact data
/// this lists the special categories of GDPR Art. 9 and the flags the `common` pack reports.
const PERSONAL_COLUMNS: &[&str] = &[
    // names and identities
    "cn",
    "sn",
    "givenname",
    "middlename",
    "preferredfirstname",
    "preferredmiddlename",
    "preferredlastname",
    "preferredgivenname",
    "nickname",
    "rufname",
    "geburtsname",
    "displayname",
    "fullname",
    "name",
    "initials",
    "mail",
    "mailalternateaddress",
    "emails",
    "secondaryemail",
    "recoveryemail",
    "privateemail",
    "privatemail",
    // national ids
    "civicno",
    "personnummer",
    "cpr",
    "cprnummer",
    "cprnr",
    "steuerid",
    "ssn",
    "socialsecuritynumber",
    "nationalid",
    "passport",
    // contact and address
    "phone",
    "phones",
    "phonenumbers",
    "telephonenumber",
    "telefon",
    "telefonnummer",
    "tel",
    "mobile",
    "mobil",
    "handy",
    "homephone",
    "sms",
    "mobilephone",
    "recoveryphone",
    "address",
    "addresses",
    "adresse",
    "anschrift",
    "strasse",
    "street",
    "postaladdress",
    "homepostaladdress",
    "postalcode",
    "plz",
    "postnummer",
    "city",
    "ort",
    "wohnort",
    "by",
    "postort",
    // person details
    "birthplace",
    "geburtsort",
    "geburtsdatum",
    "birthdate",
    "dateofbirth",
    "gender",
    "sex",
    "geschlecht",
    "koen",
    "kon",
    "nationality",
    "staatsangehoerigkeit",
    "photo",
    "foto",
    "jpegphoto",
    "thumbnailphoto",
    // relatives
    "mother",
    "father",
    "mutter",
    "vater",
    "parent",
    "parents",
    "eltern",
    "guardian",
    "guardians",
    "erziehungsberechtigte",
    "sorgeberechtigte",
    "foraeldre",
    "vardnadshavare",
    // special categories (GDPR Art. 9) and needs
    "ethnicity",
    "ethnicitycodes",
    "race",
    "racecodes",
    "religion",
    "konfession",
    "religionszugehoerigkeit",
    "health",
    "gesundheit",
    "disability",
    "behinderung",
    "iep",
    "504",
    "section504",
    "specialneeds",
    "foerderbedarf",
    "sonderpaedagogischerfoerderbedarf",
    "freelunch",
    "lunchstatus",
    "mittagessenbefreiung",
    "americanindianoralaskanative",
    "asian",
    "blackorafricanamerican",
    "nativehawaiianorotherpacificislander",
    "white",
    "demographicraceltwoormoreraces",
    "hispanicorlatinoethnicity",
];

/// Personal data found in the inputs of a run: where it stands and what it says.
#[derive(Debug, Clone, Default)]
pub struct PersonalData {
    /// Spans of personal cells or nodes, per file.
    spans: BTreeMap<FileId, Vec<Span>>,
    /// Personal values with their kind, lower-cased, without duplicates.
    values: foldhash::HashMap<String, PersonalKind>,
}

/// Lines of context that any output shows around a span (miette shows one; SARIF's context
/// region is the record itself), with a margin.
const CONTEXT_LINES: usize = 2;

/// The parts of the input files that an output of a report can show: the lines of every span
/// of a finding (its cell, its record, the records of a limit) and of every problem label,
/// with [`CONTEXT_LINES`] lines around them.
#[derive(Debug, Default)]
pub struct Shown {
    /// Sorted, merged byte ranges per file.
    ranges: HashMap<FileId, Vec<(usize, usize)>>,
    /// Words in backquotes in problem messages: a record key named there (`policy … could not
    /// be evaluated for \`key\``) is shown even where no label points at its row.
    named: HashSet<String>,
}

impl Shown {
    /// What the outputs of `report` can show of its inputs. A snippet with several labels in
    /// one file may show everything between them (miette joins contexts that touch), so the
    /// range of a diagnostic runs from its first label to its last in each file.
    pub fn of(report: &Report) -> Self {
        let mut ranges: HashMap<FileId, Vec<(usize, usize)>> = HashMap::new();
        let mut add = |spans: &mut dyn Iterator<Item = (FileId, Span)>| {
            let mut covering: BTreeMap<FileId, Span> = BTreeMap::new();
            for (file, span) in spans {
                covering
                    .entry(file)
                    .and_modify(|c| {
                        *c = Span::from_range(c.offset.min(span.offset), c.end().max(span.end()));
                    })
                    .or_insert(span);
            }
            for (file, span) in covering {
                let range = report.sources.get(file).lines_around(span, CONTEXT_LINES);
                ranges.entry(file).or_default().push(range);
            }
        };
        for f in &report.findings {
            add(&mut [(f.file, f.span), (f.file, f.record_span)]
                .into_iter()
                .chain(f.related.iter().map(|r| (r.file, r.span))));
        }
        let mut named = HashSet::new();
        for p in &report.problems {
            if let Some(file) = p.file {
                add(&mut p.labels.iter().map(|l| (file, l.span)));
            }
            let texts = [Some(p.message.as_str()), p.help.as_deref()];
            for text in texts.into_iter().flatten() {
                named.extend(text.split('`').skip(1).step_by(2).map(str::to_owned));
            }
        }
        for list in ranges.values_mut() {
            *list = crate::source::merge_ranges(std::mem::take(list));
        }
        Self { ranges, named }
    }

    /// The sorted byte ranges of `file` that can be shown.
    pub fn ranges(&self, file: FileId) -> &[(usize, usize)] {
        self.ranges.get(&file).map_or(&[], Vec::as_slice)
    }

    /// Whether problems name words that may be record keys (see [`Shown::shows`]).
    pub fn names_any(&self) -> bool {
        !self.named.is_empty()
    }

    /// Whether `record` can be shown: its row, or its key named in a problem.
    pub fn shows(&self, record: &Record) -> bool {
        self.touches(record.file, record.span)
            || (!self.named.is_empty()
                && [
                    Some(record.key.as_str()),
                    record.str("username"),
                    record.str("email"),
                ]
                .into_iter()
                .flatten()
                .any(|k| self.named.contains(k)))
    }

    /// Whether any part of `span` in `file` can be shown.
    pub fn touches(&self, file: FileId, span: Span) -> bool {
        let Some(list) = self.ranges.get(&file) else {
            return false;
        };
        // The first range ending after the span starts; it is shown when it starts before the
        // span ends (an empty span counts at its offset).
        let i = list.partition_point(|&(_, end)| end <= span.offset);
        list.get(i)
            .is_some_and(|&(start, _)| start <= span.offset || start < span.end())
    }
}

impl PersonalData {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing personal was found.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.values.is_empty()
    }

    /// The number of personal values known.
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    /// Notes the personal data of `records`. `keep` lists places (file and span) whose value
    /// names no person (the evidence of a policy marked `@evidence("not-personal")`).
    pub fn collect(
        &mut self,
        records: &[Record],
        sources: &SourceMap,
        keep: &HashSet<(FileId, Span)>,
    ) {
        let kept = kept_texts(sources, keep);
        for r in records {
            self.collect_record(r, sources, keep, &kept);
        }
    }

    /// Like [`collect`](Self::collect), for the records that an output can show (see
    /// [`Shown`]): a record that no output shows cannot leak, and a state-wide list then does
    /// not need an index of a million names. Messages name only the record they are about.
    pub fn collect_shown(
        &mut self,
        records: &[Record],
        sources: &SourceMap,
        keep: &HashSet<(FileId, Span)>,
        shown: &Shown,
    ) {
        self.collect_shown_kept(records, sources, keep, &kept_texts(sources, keep), shown);
    }

    /// Adds everything `other` holds (collected from other records, on another core): the
    /// result is that of collecting both into one, in any order.
    pub fn merge(&mut self, other: PersonalData) {
        self.values.reserve(other.values.len());
        for (file, spans) in other.spans {
            self.spans.entry(file).or_default().extend(spans);
        }
        for (value, kind) in other.values {
            self.note_value(value, kind);
        }
    }

    /// Notes a lower-cased personal value: the most specific kind wins when one value is seen
    /// as two.
    fn note_value(&mut self, key: String, kind: PersonalKind) {
        let entry = self.values.entry(key).or_insert(kind);
        if kind < *entry {
            *entry = kind;
        }
    }

    /// [`PersonalData::collect_shown`] with the texts of `keep` found once
    /// ([`kept_texts`]), for records handed over batch by batch.
    pub fn collect_shown_kept(
        &mut self,
        records: &[Record],
        sources: &SourceMap,
        keep: &HashSet<(FileId, Span)>,
        kept: &HashSet<(FileId, &str)>,
        shown: &Shown,
    ) {
        for r in records.iter().filter(|r| shown.shows(r)) {
            self.collect_record(r, sources, keep, kept);
        }
    }

    fn collect_record(
        &mut self,
        r: &Record,
        sources: &SourceMap,
        keep: &HashSet<(FileId, Span)>,
        kept: &HashSet<(FileId, &str)>,
    ) {
        if matches!(r.kind, RecordKind::Service | RecordKind::System) {
            // Platform settings and IT systems describe no person; a national id in them is
            // still masked below.
            self.national_ids(r, sources);
            return;
        }
        let file = sources.get(r.file);
        for (name, kind) in PERSONAL_ATTRS {
            if let Some(attr) = r.attrs.get(name) {
                self.add(r, file, attr.span, &attr.value, *kind);
            }
        }
        // Usernames (and the consent's person, which is a username or id) that are words.
        for name in ["username", "person"] {
            let Some(attr) = r.attrs.get(name) else {
                continue;
            };
            if keep.contains(&(r.file, attr.span)) {
                continue;
            }
            if attr.value.as_str().is_some_and(is_wordlike) {
                self.add(r, file, attr.span, &attr.value, PersonalKind::Username);
            }
        }
        // Links to children (a guardian's account) name them by username or by id: the
        // usernames are personal, the ids are codes.
        if let Some(attr) = r.attrs.get("children")
            && !keep.contains(&(r.file, attr.span))
        {
            let items: Vec<String> = match &attr.value {
                Value::Set(items) => items.iter().map(ToString::to_string).collect(),
                other => vec![other.display()],
            };
            let words: Vec<&String> = items.iter().filter(|i| is_wordlike(i)).collect();
            if !words.is_empty() {
                if attr.span != r.span && attr.span.len > 0 {
                    self.spans.entry(r.file).or_default().push(attr.span);
                }
                for w in words {
                    self.add_value(w, PersonalKind::Username);
                }
            }
        }
        // The key, when it is a username or e-mail address rather than a code.
        if !r.key.is_empty() && is_wordlike(&r.key) && !kept.contains(&(r.file, r.key.as_str())) {
            let kind = if r.key.contains('@') {
                PersonalKind::Email
            } else {
                PersonalKind::Username
            };
            self.add_value(&r.key, kind);
        }
        for (name, attr) in &r.extra {
            if PERSONAL_COLUMNS.contains(&normalize_name(name).as_str()) {
                self.add(r, file, attr.span, &attr.value, PersonalKind::Other);
            }
        }
        self.national_ids(r, sources);
    }

    /// Masks every value of `r` that contains a national id number.
    fn national_ids(&mut self, r: &Record, sources: &SourceMap) {
        const KINDS: &[IdKind] = &[IdKind::SePersonnummer, IdKind::DkCpr, IdKind::DeSteuerId];
        let file = sources.get(r.file);
        for attr in r.attrs.values().chain(r.extra.values()) {
            let found = match &attr.value {
                Value::Str(s) => national_id::contains(s, KINDS),
                // A date of the years 0 to 9999 shows eight digits and a flag none; every
                // national id has ten.
                Value::Date(d) if crate::record::iso_date_bytes(*d).is_some() => false,
                Value::Bool(_) => false,
                other => national_id::contains(&other.display(), KINDS),
            };
            if found {
                self.add(r, file, attr.span, &attr.value, PersonalKind::NationalId);
            }
        }
        if national_id::contains(&r.key, KINDS) {
            self.add_value(&r.key, PersonalKind::NationalId);
        }
    }

    fn add(
        &mut self,
        r: &Record,
        file: &SourceFile,
        span: Span,
        value: &Value,
        kind: PersonalKind,
    ) {
        // Attributes joined from a side input point at the whole row; mask only their value.
        let mut raw = None;
        if span != r.span && span.len > 0 {
            self.spans.entry(r.file).or_default().push(span);
            let text = file.slice(span).trim().trim_matches(['"', '\'']).trim();
            self.add_value(text, kind);
            raw = Some(text);
        }
        match value {
            Value::Set(items) => {
                for item in items.iter() {
                    self.add_value(item, kind);
                }
            }
            // A text as it stands in its cell is noted already.
            Value::Str(text) if raw == Some(text.as_str()) => {}
            Value::Str(text) => self.add_value(text, kind),
            other => self.add_value(&other.display(), kind),
        }
    }

    fn add_value(&mut self, value: &str, kind: PersonalKind) {
        // Values are looked for as whole words: from a letter or digit to a letter or digit.
        let value = value.trim_matches(|c: char| !c.is_alphanumeric());
        // One letter says nothing; two letters are names too (`Li`, `Bo`), matched as words.
        if value.chars().nth(1).is_none() {
            return;
        }
        // ASCII text without capitals is its own lower case: copied only when new (most
        // values are seen many times: given names, dates, the local parts of addresses).
        if value
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            match self.values.get_mut(value) {
                Some(known) => *known = kind.min(*known),
                None => {
                    self.values.insert(value.to_owned(), kind);
                }
            }
        } else {
            self.note_value(value.to_lowercase(), kind);
        }
        // The local part of an e-mail address is usually the username.
        if kind == PersonalKind::Email
            && let Some((local, _)) = value.split_once('@')
            && is_wordlike(local)
        {
            self.add_value(local, PersonalKind::Username);
        }
    }

    /// Adds a place whose text is personal (a value that could not be read, say) and the text.
    pub fn add_span(&mut self, file: FileId, span: Span, text: &str, kind: PersonalKind) {
        if span.len > 0 {
            self.spans.entry(file).or_default().push(span);
        }
        self.add_value(text.trim().trim_matches(['"', '\'']), kind);
    }

    /// Merges another collection into this one.
    pub fn extend(&mut self, other: PersonalData) {
        for (file, spans) in other.spans {
            self.spans.entry(file).or_default().extend(spans);
        }
        for (value, kind) in other.values {
            self.add_value(&value, kind);
        }
    }

    /// The masker for message texts.
    pub fn masker(&self) -> Masker {
        Masker::new(self.values.clone())
    }

    /// The masker for message texts, and the spans of personal cells per file, without a
    /// copy of either (the values of a state-wide list are a few hundred thousand).
    fn into_parts(self) -> (Masker, BTreeMap<FileId, Vec<Span>>) {
        (Masker::new(self.values), self.spans)
    }
}

/// The texts at the kept places, per file (a key equal to one names no person either).
pub fn kept_texts<'a>(
    sources: &'a SourceMap,
    keep: &HashSet<(FileId, Span)>,
) -> HashSet<(FileId, &'a str)> {
    keep.iter()
        .map(|(f, s)| (*f, sources.get(*f).slice(*s)))
        .collect()
}

/// Values longer than this many words are not looked for in messages.
const MAX_WORDS: usize = 12;

/// The number of words in `text` (its [`word_ends`], counted without keeping them).
fn word_count(text: &str) -> usize {
    let mut count = 0;
    let mut prev_alnum = false;
    if text.is_ascii() {
        // Most values: ASCII letters and digits are the alphanumeric characters there.
        for b in text.bytes() {
            let alnum = b.is_ascii_alphanumeric();
            count += usize::from(prev_alnum && !alnum);
            prev_alnum = alnum;
        }
        return count + usize::from(prev_alnum);
    }
    for c in text.chars() {
        let alnum = c.is_alphanumeric();
        count += usize::from(prev_alnum && !alnum);
        prev_alnum = alnum;
    }
    count + usize::from(prev_alnum)
}

/// Byte offsets where a word ends (after a letter or digit not followed by one).
fn word_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut prev_alnum = false;
    for (i, c) in text.char_indices() {
        let alnum = c.is_alphanumeric();
        if prev_alnum && !alnum {
            ends.push(i);
        }
        prev_alnum = alnum;
    }
    if prev_alnum {
        ends.push(text.len());
    }
    ends
}

/// Whether a username is a word (made of a name, mostly) rather than a code: it has a run of
/// three or more letters. `anna.schmidt`, `annber01`, `jens1234` are words; `s12345`, `u-0042`
/// are codes.
fn is_wordlike(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_alphabetic() {
            run += 1;
            if run >= 3 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Replaces personal values in free text by placeholders: every run of whole words that is a
/// personal value (case-insensitive) is replaced, the longest first.
#[derive(Debug)]
pub struct Masker {
    /// Lower-cased personal values (looked up for every word of every text: a fast hasher).
    values: foldhash::HashMap<String, PersonalKind>,
    words: usize,
    /// A bit for the [`first_key`] of every value (see [`Firsts`]): a run of words whose
    /// first word's key has no bit is no value, without a look-up per run.
    firsts: Firsts,
}

/// A set of [`first_key`]s that may answer yes for a key not in it, never no for one in it:
/// a bit per key, about sixteen bits per value (a few per cent of other keys answer yes and
/// are looked up in full), instead of a table of the keys.
#[derive(Debug)]
struct Firsts {
    bits: Vec<u64>,
    /// log2 of the number of bits.
    log: u32,
}

impl Firsts {
    fn new(keys: impl ExactSizeIterator<Item = u64>) -> Self {
        let log = (keys.len().saturating_mul(16).max(1024))
            .next_power_of_two()
            .trailing_zeros();
        let mut firsts = Self {
            bits: vec![0; (1usize << log) / 64],
            log,
        };
        for key in keys {
            let (word, bit) = firsts.place(key);
            if let Some(w) = firsts.bits.get_mut(word) {
                *w |= bit;
            }
        }
        firsts
    }

    /// The word and bit of `key`: its top bits after a multiplicative hash.
    fn place(&self, key: u64) -> (usize, u64) {
        let at = key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.log);
        (
            usize::try_from(at / 64).unwrap_or(usize::MAX),
            1 << (at % 64),
        )
    }

    fn may_contain(&self, key: u64) -> bool {
        let (word, bit) = self.place(key);
        self.bits.get(word).is_some_and(|w| w & bit != 0)
    }
}

/// The first up to eight bytes of `chars` (lower-cased text) before its first character that
/// is not a letter or digit, whole characters only, as a number (zero bytes after them: no
/// letter or digit is a zero byte, so texts of different lengths differ).
fn first_key(chars: impl Iterator<Item = char>) -> u64 {
    let mut bytes = [0u8; 8];
    let mut n = 0;
    for c in chars {
        let len = c.len_utf8();
        let Some(to) = bytes.get_mut(n..n + len).filter(|_| c.is_alphanumeric()) else {
            break;
        };
        c.encode_utf8(to);
        n += len;
    }
    u64::from_le_bytes(bytes)
}

/// The [`first_key`] of every run of words that starts with the word `word` (a maximal run
/// of letters and digits of a text, as written) and goes on with `after` (the rest of the
/// text): the key of the lower-cased run, which stops inside the lower-cased word, since
/// what follows a word is no letter or digit and lower-cases to itself. `None` where
/// lower-casing depends on what follows: a capital sigma (final or not), or a character after
/// the word that lower-cases to something else (none does; checked all the same).
fn run_key(word: &str, after: &str) -> Option<u64> {
    if after
        .chars()
        .next()
        .is_some_and(|c| !c.is_ascii() && c.to_lowercase().ne([c]))
    {
        return None;
    }
    if word.is_ascii() {
        let mut bytes = [0u8; 8];
        for (to, from) in bytes.iter_mut().zip(word.bytes()) {
            *to = from.to_ascii_lowercase();
        }
        return Some(u64::from_le_bytes(bytes));
    }
    if word.contains('\u{3a3}') {
        return None;
    }
    Some(first_key(word.chars().flat_map(char::to_lowercase)))
}

impl Masker {
    /// The masker for these lower-cased personal values.
    fn new(values: foldhash::HashMap<String, PersonalKind>) -> Self {
        // On every core: the values of a state-wide list are a few hundred thousand.
        let (words, firsts) = rayon::join(
            || {
                values
                    .par_iter()
                    .map(|(v, _)| word_count(v))
                    .max()
                    .unwrap_or(0)
                    .min(MAX_WORDS)
            },
            || Firsts::new(values.keys().map(|v| first_key(v.chars()))),
        );
        Self {
            values,
            words,
            firsts,
        }
    }

    /// `text` with every personal value that stands as a whole word replaced.
    pub fn mask(&self, text: &str) -> String {
        if self.values.is_empty() {
            return text.to_owned();
        }
        let ends = word_ends(text);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut prev_alnum = false;
        for (i, c) in text.char_indices() {
            let alnum = c.is_alphanumeric();
            let word_start = alnum && !prev_alnum;
            prev_alnum = alnum;
            if !word_start || i < at {
                continue;
            }
            // The longest run of up to `words` words from here that is a personal value (the
            // ends of those words taken as a slice: each look-up costs the same however long
            // the text is), unless no value starts as its first word does.
            let first = ends.partition_point(|&e| e <= i);
            if let Some(&end) = ends.get(first)
                && let Some(key) = run_key(
                    text.get(i..end).unwrap_or_default(),
                    text.get(end..).unwrap_or_default(),
                )
                && !self.firsts.may_contain(key)
            {
                continue;
            }
            let last = first.saturating_add(self.words).min(ends.len());
            let hit = ends
                .get(first..last)
                .unwrap_or_default()
                .iter()
                .rev()
                .find_map(|&e| {
                    let candidate = text.get(i..e)?;
                    // ASCII text without capitals is its own lower case: no copy.
                    let plain = candidate
                        .bytes()
                        .all(|b| b.is_ascii() && !b.is_ascii_uppercase());
                    let known = if plain {
                        self.values.get(candidate)
                    } else {
                        self.values.get(&candidate.to_lowercase())
                    };
                    known.map(|k| (e, *k))
                });
            if let Some((e, kind)) = hit {
                out.push_str(text.get(at..i).unwrap_or_default());
                out.push_str(kind.placeholder());
                at = e;
            }
        }
        out.push_str(text.get(at..).unwrap_or_default());
        out
    }
}

/// Spans sorted by offset with the running maximum of their ends: the spans that may overlap
/// a piece of text are found by two binary searches, not by a scan per piece.
struct SpanIndex {
    spans: Vec<Span>,
    max_end: Vec<usize>,
}

impl SpanIndex {
    fn new(spans: &[Span]) -> Self {
        let mut spans = spans.to_vec();
        spans.sort_unstable();
        let max_end = spans
            .iter()
            .scan(0, |max, s| {
                *max = s.end().max(*max);
                Some(*max)
            })
            .collect();
        Self { spans, max_end }
    }

    /// The spans that can overlap `start..end` (a superset: clipping sorts them out).
    fn overlapping(&self, start: usize, end: usize) -> &[Span] {
        let from = self.max_end.partition_point(|&e| e <= start);
        let to = self.spans.partition_point(|s| s.offset < end).max(from);
        self.spans.get(from..to).unwrap_or_default()
    }
}

/// Masks `spans` in `text` (a piece of a file that starts at byte `at`) with `*`, byte for
/// byte, keeping line breaks and the quotes around a quoted value; `None` when no span
/// touches the piece.
fn mask_spans(at: usize, text: &str, spans: &SpanIndex) -> Option<String> {
    let spans = spans.overlapping(at, at + text.len());
    if spans.is_empty() {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    for span in spans {
        // A span that the piece holds whole; one that runs past its edge is cut to it.
        let whole = span.offset >= at && span.end() <= at + bytes.len();
        let start = span.offset.saturating_sub(at).min(bytes.len());
        let end = span.end().saturating_sub(at).min(bytes.len());
        let Some(region) = bytes.get_mut(start..end) else {
            continue;
        };
        let (mut lo, mut hi) = (0, region.len());
        if let (Some(&first), Some(&last)) = (region.first(), region.last())
            && whole
            && hi >= 2
            && first == last
            && matches!(first, b'"' | b'\'')
        {
            lo = 1;
            hi -= 1;
        }
        for b in region.iter_mut().take(hi).skip(lo) {
            if !matches!(*b, b'\n' | b'\r') {
                *b = b'*';
            }
        }
    }
    // Masking whole UTF-8 sequences (every byte of a value) keeps the text valid UTF-8; a span
    // that ends inside a character cannot come from a reader, but is repaired, not trusted.
    Some(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Masks the cells that hold passwords in the report's source text, in place: a secret is
/// never shown, redacted output or not. The finding still points at the (masked) cell.
pub fn mask_secrets(report: &mut Report, records: &[Record]) {
    let mut spans: BTreeMap<FileId, Vec<Span>> = BTreeMap::new();
    secret_spans(records, &mut spans);
    mask_secret_spans(report, &spans);
}

/// Adds the cells of `records` that hold a password to `spans` (see [`mask_secrets`]).
pub fn secret_spans(records: &[Record], spans: &mut BTreeMap<FileId, Vec<Span>>) {
    for r in records {
        if let Some(attr) = r.attrs.get("password_present")
            && attr.value.as_bool() == Some(true)
            && attr.span != r.span
        {
            spans.entry(r.file).or_default().push(attr.span);
        }
    }
}

/// Masks `spans` (password cells, see [`secret_spans`]) in the sources of `report`.
pub fn mask_secret_spans(report: &mut Report, spans: &BTreeMap<FileId, Vec<Span>>) {
    if spans.is_empty() {
        return;
    }
    let spans: BTreeMap<FileId, SpanIndex> =
        spans.iter().map(|(f, s)| (*f, SpanIndex::new(s))).collect();
    report.sources = report
        .sources
        .rewritten(|id, at, text| mask_spans(at, text, spans.get(&id)?));
}

/// A copy of `report` with personal data masked (see the module documentation).
pub fn redact(report: &Report) -> Report {
    let redactor = Redactor::of(report, report.personal.clone());
    let sources = redactor.sources(&report.sources);
    // On every core: a report can have a million findings.
    let findings = report
        .findings
        .par_iter()
        .map(|f| {
            let mut f = f.clone();
            redactor.finding(&mut f);
            f
        })
        .collect();
    let problems = report
        .problems
        .iter()
        .map(|p| {
            let mut p = p.clone();
            redactor.problem(&report.sources, &mut p);
            p
        })
        .collect();
    let mut redacted = report.with_parts(sources, findings, problems);
    redacted.personal = PersonalData::default();
    redacted.redacted = true;
    redacted
}

/// [`redact`], masking `report` itself instead of a copy (when nothing needs it unmasked: a
/// report of a million findings is then not held twice). The same result.
pub fn into_redacted(mut report: Report) -> Report {
    let personal = std::mem::take(&mut report.personal);
    let redactor = Redactor::of(&report, personal);
    let sources = redactor.sources(&report.sources);
    report
        .findings
        .par_iter_mut()
        .for_each(|f| redactor.finding(f));
    for p in &mut report.problems {
        redactor.problem(&report.sources, p);
    }
    drop(redactor);
    report.sources = sources;
    report.redacted = true;
    report
}

/// What masks one report: its personal values in free text, its personal spans in sources.
struct Redactor {
    masker: Masker,
    personal_spans: BTreeMap<FileId, SpanIndex>,
}

impl Redactor {
    /// The redactor of `report`, whose personal data is `personal` (its own, or taken out of
    /// it).
    fn of(report: &Report, personal: PersonalData) -> Self {
        let (masker, mut personal_spans) = personal.into_parts();
        // Values that could not be read stand in problems only; mask those in personal
        // columns (a birth date that is not a date is still a birth date).
        for p in &report.problems {
            if let (Some(file), true) = (p.file, is_value_problem(&p.code)) {
                for l in p.labels.iter().filter(|l| l.primary) {
                    if report.sources.get(file).role == crate::source::FileRole::Input {
                        personal_spans.entry(file).or_default().push(l.span);
                    }
                }
            }
        }
        Self {
            masker,
            personal_spans: personal_spans
                .iter()
                .map(|(f, s)| (*f, SpanIndex::new(s)))
                .collect(),
        }
    }

    /// The sources with every personal span masked.
    fn sources(&self, sources: &SourceMap) -> SourceMap {
        sources.rewritten(|id, at, text| mask_spans(at, text, self.personal_spans.get(&id)?))
    }

    fn finding(&self, f: &mut crate::finding::Finding) {
        f.map_texts(&|s: &str| self.masker.mask(s));
    }

    /// Masks a problem's texts; a value it quotes that could not be read (looked up in the
    /// unmasked `sources`) is replaced too.
    fn problem(&self, sources: &SourceMap, p: &mut crate::problem::Problem) {
        let bad_values: Vec<String> = match (p.file, is_value_problem(&p.code)) {
            (Some(file), true) => p
                .labels
                .iter()
                .filter(|l| l.primary)
                .map(|l| sources.get(file).slice(l.span).trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        p.map_texts(&|s: &str| {
            let mut s = self.masker.mask(s);
            for v in &bad_values {
                s = s.replace(&format!("`{v}`"), "`[value]`");
            }
            s
        });
    }
}

/// Whether a problem is about one value that could not be read (its text is shown).
fn is_value_problem(code: &str) -> bool {
    matches!(
        code.rsplit("::").next(),
        Some("bad-date" | "bad-flag" | "bad-number" | "bad-value" | "duplicate-key")
    )
}

/// Characters that input data must not send to a terminal: C0 and C1 controls other than tab
/// and line breaks, DEL, and the bidirectional overrides and isolates ("Trojan Source").
fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with unsafe characters written as visible escapes (`\u{1b}`).
pub fn escape_unsafe(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if is_unsafe_char(c) {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` with every unsafe character replaced by `?` for each of its bytes (lengths kept).
fn sanitize_text(text: &str) -> Option<String> {
    if !text.chars().any(is_unsafe_char) {
        return None;
    }
    Some(
        text.chars()
            .map(|c| {
                if is_unsafe_char(c) {
                    "?".repeat(c.len_utf8())
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A copy of `report` safe to print to a terminal: control characters, ANSI escapes and
/// bidirectional overrides from input data are neutralised in source text and messages.
pub fn sanitize(report: &Report) -> Report {
    let sources = report.sources.rewritten(|_, _, text| sanitize_text(text));
    let e = |s: &str| escape_unsafe(s);
    let findings = report
        .findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.map_texts(&e);
            f
        })
        .collect();
    let problems = report
        .problems
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.map_texts(&e);
            p
        })
        .collect();
    report.with_parts(sources, findings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(file: FileId, text: &str, cells: &[(&str, &str)]) -> Record {
        let mut r = Record::new(RecordKind::Account, file, Span::new(0, text.len()));
        for (name, value) in cells {
            let Some(at) = text.find(value) else {
                continue;
            };
            let v = if *name == "birth_date" {
                Value::Date(chrono::NaiveDate::from_ymd_opt(2012, 5, 3).unwrap_or_default())
            } else {
                Value::Str((*value).into())
            };
            r.set(name.to_string(), v, Span::new(at, value.len()));
        }
        r
    }

    #[test]
    fn words_are_counted_where_they_end() {
        for text in [
            "",
            "-",
            "anna",
            "anna schmidt",
            " anna-maria  schmidt. ",
            "ellu.fiel1@schule.example",
            "Zoë Ölaf İstanbul",
            "x1 li anna",
            "..a..b..",
        ] {
            assert_eq!(word_count(text), word_ends(text).len(), "{text:?}");
        }
        let mut data = PersonalData::new();
        data.add_value("anna maria schmidt-berg", PersonalKind::Name);
        data.add_value("li", PersonalKind::Name);
        assert_eq!(data.masker().words, 4);
        assert_eq!(data.into_parts().0.words, 4);
    }

    #[test]
    fn shown_ranges_cover_context_lines_and_nothing_else() {
        let ranges = |list: Vec<(usize, usize)>| Shown {
            ranges: HashMap::from([(FileId(0), list)]),
            named: HashSet::new(),
        };
        let shown = ranges(vec![(10, 20), (40, 50)]);
        assert!(
            shown.touches(FileId(0), Span::new(5, 6)),
            "overlaps the start"
        );
        assert!(
            shown.touches(FileId(0), Span::new(19, 5)),
            "overlaps the end"
        );
        assert!(
            shown.touches(FileId(0), Span::new(12, 0)),
            "empty span inside"
        );
        assert!(!shown.touches(FileId(0), Span::new(20, 20)), "between");
        assert!(!shown.touches(FileId(0), Span::new(0, 10)), "before");
        assert!(!shown.touches(FileId(0), Span::new(50, 3)), "after");
        assert!(!shown.touches(FileId(1), Span::new(12, 1)), "other file");
        let f = SourceFile::new("a.csv", None, "h\nr1\nr2\nr3\nr4\nr5\nr6\n");
        // r4 (offset 11) with two lines around: r2 to r6.
        assert_eq!(f.lines_around(Span::new(11, 2), 2), (5, 20));
        assert_eq!(f.lines_around(Span::new(0, 1), 2), (0, 8));
    }

    proptest::proptest! {
        /// Masking finds what a plain search finds: at each word, the longest run of up to
        /// `words` words that is a personal value, case-insensitively (also for capitals
        /// outside ASCII), in texts of any length.
        #[test]
        fn masking_replaces_the_longest_run_of_words_that_is_a_value(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Anna", "anna", "SCHMIDT", "Schmidt", "Ölaf", "ölaf", "li", "x1", "Zoë",
                    // Past the eight bytes of a first word's key, and sharing them.
                    "Annemarieke", "ANNEMARIE", "annemarie",
                    // Capitals whose lower case is longer, another word, or depends on what
                    // follows (a final sigma), and a combining accent (which ends a word).
                    "İstanbul", "İ", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", "ΣΟΦΙΑ", "ΑΣ", "ǅemal", "STRASSE",
                    "Zoe\u{301}", "Ⅻ",
                ]),
                0..60,
            ),
            gaps in proptest::collection::vec(
                proptest::sample::select(vec![" ", ". ", "-", "; ", "\n", ".", "'", "\u{301}", "·"]),
                60,
            ),
            values in proptest::collection::vec(
                proptest::sample::select(vec![
                    "anna", "anna schmidt", "ölaf", "li", "zoë", "schmidt-anna", "x1 li anna",
                    "annemarieke", "annemarie schmidt", "İstanbul", "i\u{307}stanbul anna",
                    "οδυσσευς", "ΟΔΥΣΣΕΥΣ ΣΟΦΙΑ", "σοφια", "ας", "ας anna", "ǆemal", "strasse", "zoe\u{301}",
                    "ⅻ anna",
                ]),
                1..5,
            ),
        ) {
            let mut data = PersonalData::new();
            for v in &values {
                data.add_value(v, PersonalKind::Name);
            }
            let masker = data.masker();
            let text: String = words
                .iter()
                .zip(gaps.iter().cycle())
                .map(|(w, g)| format!("{w}{g}"))
                .collect();
            // The search the masker stands for: every run of whole words, longest first.
            let ends = word_ends(&text);
            let mut expected = String::new();
            let (mut at, mut prev) = (0, false);
            for (i, c) in text.char_indices() {
                let start = c.is_alphanumeric() && !prev;
                prev = c.is_alphanumeric();
                if !start || i < at {
                    continue;
                }
                let hit = ends
                    .iter()
                    .filter(|&&e| e > i)
                    .take(masker.words)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .find(|&&e| masker.values.contains_key(&text[i..e].to_lowercase()));
                if let Some(&e) = hit {
                    expected.push_str(&text[at..i]);
                    expected.push_str(PersonalKind::Name.placeholder());
                    at = e;
                }
            }
            expected.push_str(&text[at..]);
            proptest::prop_assert_eq!(masker.mask(&text), expected);
        }
    }

    #[test]
    fn first_word_keys_in_the_set_are_always_found() {
        let keys: Vec<u64> = (0..20_000u64)
            .map(|i| first_key(format!("name{i}").chars()))
            .collect();
        let firsts = Firsts::new(keys.iter().copied());
        assert!(keys.iter().all(|k| firsts.may_contain(*k)));
        // Other keys answer yes rarely (about sixteen bits per key).
        let others = (0..20_000u64)
            .filter(|i| firsts.may_contain(first_key(format!("other{i}").chars())))
            .count();
        assert!(others < 2_000, "{others}");
        // An empty set answers no.
        assert!(!Firsts::new(std::iter::empty()).may_contain(first_key("anna".chars())));
    }

    #[test]
    fn words_and_codes() {
        assert!(is_wordlike("anna.schmidt"));
        assert!(is_wordlike("annber01"));
        assert!(is_wordlike("jürgen"));
        assert!(!is_wordlike("s12345"));
        assert!(!is_wordlike("ab-12"));
    }

    #[test]
    fn merged_personal_data_is_that_collected_at_once() {
        // One value seen as two kinds (a name that is also a username): the more specific
        // kind wins in whichever part it is seen.
        let text = "u1;anna;Anna;Schmidt\nu2;schmidt;Berta;Bauer\nu3;x.y@s.example;Anna;Yl\n";
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("a.csv", None, text));
        let rows: Vec<Record> = text
            .lines()
            .map(|line| {
                let cells: Vec<&str> = line.split(';').collect();
                let attrs = ["key", "username", "given_name", "family_name"];
                let named: Vec<(&str, &str)> = attrs.into_iter().zip(cells).skip(1).collect();
                let mut r = account(file, text, &named);
                r.key = line.split(';').next().unwrap_or_default().into();
                if r.str("username").is_some_and(|u| u.contains('@')) {
                    let span = r.span_of("username").unwrap_or_default();
                    r.set("email", Value::Str("x.y@s.example".into()), span);
                }
                r
            })
            .collect();
        let mut whole = PersonalData::new();
        whole.collect(&rows, &sources, &HashSet::new());
        for split in 0..=rows.len() {
            let (a, b) = rows.split_at(split);
            let (mut first, mut second) = (PersonalData::new(), PersonalData::new());
            first.collect(a, &sources, &HashSet::new());
            second.collect(b, &sources, &HashSet::new());
            // Merged in either order.
            for (mut into, from) in [(first.clone(), second.clone()), (second, first)] {
                into.merge(from);
                let sorted = |p: &PersonalData| {
                    let mut v: Vec<(FileId, Vec<Span>)> = p
                        .spans
                        .iter()
                        .map(|(f, s)| {
                            let mut s = s.clone();
                            s.sort_unstable();
                            (*f, s)
                        })
                        .collect();
                    v.sort();
                    v
                };
                assert_eq!(sorted(&into), sorted(&whole));
                let values = |p: &PersonalData| {
                    let mut v: Vec<(String, PersonalKind)> =
                        p.values.iter().map(|(k, v)| (k.clone(), *v)).collect();
                    v.sort();
                    v
                };
                assert_eq!(values(&into), values(&whole), "split at {split}");
            }
        }
        assert!(whole.values.len() > 4);
    }

    #[test]
    fn masks_cells_byte_for_byte_and_values_in_messages() {
        let text = "u1;anna.schmidt;Anna;Schmidt;Jürgen;03.05.2012\n";
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("a.csv", None, text));
        let mut r = account(
            file,
            text,
            &[
                ("username", "anna.schmidt"),
                ("given_name", "Anna"),
                ("family_name", "Schmidt"),
                ("display_name", "Jürgen"),
                ("birth_date", "03.05.2012"),
            ],
        );
        r.key = "u1".into();
        let mut personal = PersonalData::new();
        personal.collect(&[r], &sources, &HashSet::new());
        let spans = personal.spans.get(&file).cloned().unwrap_or_default();
        let masked = mask_all(text, &spans);
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked, "u1;************;****;*******;*******;**********\n");
        let m = personal.masker();
        assert_eq!(
            m.mask("account `anna.schmidt` of Anna Schmidt, born 2012-05-03 (03.05.2012)"),
            "account `[username]` of [name] [name], born [birth date] ([birth date])"
        );
        // Whole words only: "Anna" inside "Annabelle" or "Johanna" is not her name.
        assert_eq!(m.mask("Annabelle and Johanna"), "Annabelle and Johanna");
        // Case does not matter; the key `u1` is a code and stays.
        assert_eq!(m.mask("ANNA in u1"), "[name] in u1");
    }

    #[test]
    fn generic_usernames_kept_as_evidence() {
        let text = "lehrer1;Lehrer;Eins\n";
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("a.csv", None, text));
        let mut r = account(
            file,
            text,
            &[
                ("username", "lehrer1"),
                ("given_name", "Lehrer"),
                ("family_name", "Eins"),
            ],
        );
        r.key = "lehrer1".into();
        let keep: HashSet<(FileId, Span)> = [(file, Span::new(0, 7))].into_iter().collect();
        let mut personal = PersonalData::new();
        personal.collect(&[r], &sources, &keep);
        let m = personal.masker();
        assert_eq!(
            m.mask("generic account `lehrer1`"),
            "generic account `lehrer1`"
        );
        let spans = personal.spans.get(&file).cloned().unwrap_or_default();
        assert_eq!(mask_all(text, &spans), "lehrer1;******;****\n");
    }

    #[test]
    fn national_ids_anywhere_and_email_local_parts() {
        let text = "x;anna.19811218-9876@skola.example\n";
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("a.csv", None, text));
        let mut r = account(file, text, &[("id", "x")]);
        r.key = "x".into();
        r.extra.insert(
            "civicNo".into(),
            crate::record::Attr {
                value: Value::Str("19811218-9876".into()),
                span: Span::new(0, 1),
            },
        );
        let mut personal = PersonalData::new();
        personal.collect(&[r], &sources, &HashSet::new());
        assert_eq!(
            personal.masker().mask("id 19811218-9876"),
            "id [national id]"
        );
        let mut p = PersonalData::new();
        p.add_value("anna.berg@skola.example", PersonalKind::Email);
        assert_eq!(
            p.masker().mask("anna.berg@skola.example or anna.berg"),
            "[e-mail] or [username]"
        );
    }

    /// `text` (a whole file) with `spans` masked.
    fn mask_all(text: &str, spans: &[Span]) -> String {
        mask_spans(0, text, &SpanIndex::new(spans)).unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn quoted_values_keep_their_quotes_and_lines_their_breaks() {
        assert_eq!(
            mask_all("a: \"Anna\"\n", &[Span::new(3, 6)]),
            "a: \"****\"\n"
        );
        assert_eq!(mask_all("ab\ncd", &[Span::new(0, 5)]), "**\n**");
        assert_eq!(mask_all("abc", &[Span::new(2, 10)]), "ab*");
    }

    #[test]
    fn pieces_are_masked_where_spans_touch_them() {
        let spans = SpanIndex::new(&[
            Span::new(20, 3),
            Span::new(1, 2),
            Span::new(8, 6), // across the edge of the piece at 10
            Span::new(30, 2),
        ]);
        // The piece `10..16`: the span from 8 is cut to it, the others are outside.
        assert_eq!(mask_spans(10, "abcdef", &spans), Some("****ef".to_owned()));
        // A piece no span touches is left as it is (not copied).
        assert_eq!(mask_spans(24, "xyz\n", &spans), None);
        // A quoted value held whole keeps its quotes; one cut by the edge does not.
        let quoted = SpanIndex::new(&[Span::new(2, 4), Span::new(9, 4)]);
        assert_eq!(
            mask_spans(0, "a;\"Bo\"\n", &quoted),
            Some("a;\"**\"\n".to_owned())
        );
        assert_eq!(mask_spans(10, "Ed\"\n", &quoted), Some("***\n".to_owned()));
    }

    #[test]
    fn span_index_finds_long_spans_that_start_early() {
        let index = SpanIndex::new(&[Span::new(0, 100), Span::new(5, 1), Span::new(50, 1)]);
        assert_eq!(
            index.overlapping(60, 70),
            &[Span::new(0, 100), Span::new(5, 1), Span::new(50, 1)][..]
        );
        let short = SpanIndex::new(&[Span::new(0, 2), Span::new(5, 1), Span::new(50, 1)]);
        assert_eq!(short.overlapping(10, 40), &[][..]);
        assert_eq!(
            short.overlapping(4, 51),
            &[Span::new(5, 1), Span::new(50, 1)][..]
        );
    }

    #[test]
    fn terminal_escapes_are_neutralised() {
        assert_eq!(escape_unsafe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_unsafe("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_unsafe("tab\tok\n"), "tab\tok\n");
        assert_eq!(sanitize_text("a\u{1b}b\u{9b}c").as_deref(), Some("a?b??c"));
        assert_eq!(sanitize_text("plain"), None);
    }
}

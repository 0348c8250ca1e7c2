//! Records: the items konform reads from its inputs, with the byte span of every attribute.
//!
//! Every reader (CSV, YAML, JSON …) produces [`Record`]s of one [`RecordKind`]. A record keeps
//! a stable key (the account id, never a line number), typed [`Value`]s for the canonical
//! attributes and the raw text of unknown columns as extra attributes, each with the [`Span`]
//! of the cell or YAML node it came from, so that a finding can point at it.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use crate::source::{FileId, Span};

/// What an input describes; one Cedar entity type per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordKind {
    /// A user account of a portal (the common case).
    Account,
    /// A platform configuration, e.g. the video-conference module of IServ.
    Service,
    /// One entry of a consent register.
    Consent,
    /// One person of the leading system's export (e.g. DiViS), for reconciliation.
    Person,
    /// One entry of the school's IT inventory (a system that processes personal data).
    System,
}

impl RecordKind {
    /// The Cedar entity type name of this kind.
    pub fn entity_type(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::Service => "Service",
            Self::Consent => "Consent",
            Self::Person => "Person",
            Self::System => "System",
        }
    }

    /// Every kind.
    pub const ALL: [RecordKind; 5] = [
        Self::Account,
        Self::Service,
        Self::Consent,
        Self::Person,
        Self::System,
    ];

    /// The lowercase name used in konform.yaml (`kind: accounts`) and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Account => "accounts",
            Self::Service => "service",
            Self::Consent => "consents",
            Self::Person => "people",
            Self::System => "systems",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// Text (inline up to 23 bytes: most cells of a list take no allocation).
    Str(Text),
    /// A yes/no flag.
    Bool(bool),
    /// A whole number.
    Long(i64),
    /// A calendar date (times of day are not kept).
    Date(NaiveDate),
    /// A set of texts (roles, schools, groups); kept sorted and without duplicates. Shared:
    /// the cells of a column of a large list hold a few sets, each converted once and
    /// cloned for every row (see `source::csv::Memo`) without an allocation.
    Set(std::sync::Arc<[Text]>),
}

impl Value {
    /// The value as text, for messages and placeholders.
    pub fn display(&self) -> String {
        match self {
            Self::Str(s) => s.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Long(n) => n.to_string(),
            Self::Date(d) => iso_date(*d),
            Self::Set(items) => items.join(", "),
        }
    }

    /// The text, if this is a text value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The date, if this is a date value.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Self::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The flag, if this is a yes/no value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items, if this is a set.
    pub fn as_set(&self) -> Option<&[Text]> {
        match self {
            Self::Set(items) => Some(items),
            _ => None,
        }
    }
}

/// The text of a [`Value`]: immutable, kept inline up to 23 bytes and shared by reference
/// count above (`smol_str`, already built for cedar-policy): a list of a million accounts has
/// a dozen short texts per row, and most of them then need no allocation.
pub type Text = smol_str::SmolStr;

/// The name of a canonical attribute: a constant for the attributes readers know (no
/// allocation per cell of a large list), owned text otherwise.
pub type Name = std::borrow::Cow<'static, str>;

/// An attribute name as facts and projections ask for it, with its place among the canonical
/// account attributes found once, where the fact or projection is compiled: a row read from
/// its cells (`cells::AccountRow`) then finds the attribute by that place instead of by its
/// name (facts and projections ask each row of a large list for some thirty attributes).
/// Compared, ordered and hashed as its name.
#[derive(Clone)]
pub struct AttrName {
    name: Name,
    /// See [`account_place`].
    place: u8,
}

/// The place of `name` among the canonical account attributes (`source::columns::ACCOUNT`);
/// one past the last of them for `login_tracked` (which every account has, from no column);
/// [`NO_PLACE`] for every other name.
const fn account_place(name: &str) -> u8 {
    let accounts = crate::source::columns::ACCOUNT;
    let mut i = 0;
    while i < accounts.len() {
        if same_bytes(accounts[i].name.as_bytes(), name.as_bytes()) {
            return i as u8;
        }
        i += 1;
    }
    if same_bytes(name.as_bytes(), b"login_tracked") {
        return accounts.len() as u8;
    }
    NO_PLACE
}

/// The place of a name that is no account attribute (see [`account_place`]).
const NO_PLACE: u8 = u8::MAX;

/// The number of places [`account_place`] gives (every canonical account attribute and
/// `login_tracked`).
pub const ACCOUNT_PLACES: usize = crate::source::columns::ACCOUNT.len() + 1;

/// `a == b`, in a constant.
const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl AttrName {
    /// The attribute `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let name: String = name.into();
        let place = account_place(&name);
        Self {
            name: Name::Owned(name),
            place,
        }
    }

    /// The attribute `name` of static text, without an allocation (also in a constant).
    pub const fn of(name: &'static str) -> Self {
        Self {
            name: Name::Borrowed(name),
            place: account_place(name),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Its place among the account attributes (see [`ACCOUNT_PLACES`]), if it is one.
    pub fn place(&self) -> Option<usize> {
        (self.place != NO_PLACE).then_some(usize::from(self.place))
    }
}

/// Account attributes that facts, projections and notes read of every row.
pub mod attr {
    use super::AttrName;

    /// The account attribute `name`; a misspelt name (which would have no place, and be read
    /// as absent from every row read from its cells) fails the build.
    const fn placed(name: &'static str) -> AttrName {
        let name = AttrName::of(name);
        assert!(name.place != super::NO_PLACE, "not an account attribute");
        name
    }

    /// `birth_date`: a person's age.
    pub const BIRTH_DATE: AttrName = placed("birth_date");
    /// `enabled`: whether an account is active.
    pub const ENABLED: AttrName = placed("enabled");
    /// `password_present`: a row with a password is masked from its record.
    pub const PASSWORD_PRESENT: AttrName = placed("password_present");
    /// `roles`: who needs a guardian's consent, who a module admits.
    pub const ROLES: AttrName = placed("roles");
    /// `state`: whether an account is active.
    pub const STATE: AttrName = placed("state");
    /// `username`: what identifies an account besides its key.
    pub const USERNAME: AttrName = placed("username");
}

impl std::ops::Deref for AttrName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.name
    }
}

impl AsRef<str> for AttrName {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl std::borrow::Borrow<str> for AttrName {
    fn borrow(&self) -> &str {
        &self.name
    }
}

impl PartialEq for AttrName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for AttrName {}

impl PartialOrd for AttrName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AttrName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name.cmp(&other.name)
    }
}

impl std::hash::Hash for AttrName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl fmt::Debug for AttrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.name, f)
    }
}

impl fmt::Display for AttrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl From<String> for AttrName {
    fn from(name: String) -> Self {
        Self::new(name)
    }
}

impl From<&str> for AttrName {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl<'de> serde::Deserialize<'de> for AttrName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

impl serde::Serialize for AttrName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

/// Two words that, with its length, tell a text of up to 16 bytes from every other: its first
/// and its last eight bytes (four, of a text shorter than eight; three bytes of one shorter
/// than four), read without a call to `memcmp`. `None` for a longer text.
pub fn words(name: &[u8]) -> Option<(u64, u64)> {
    let n = name.len();
    if n >= 8 {
        let (first, last) = (name.first_chunk::<8>()?, name.last_chunk::<8>()?);
        (n <= 16).then(|| (u64::from_le_bytes(*first), u64::from_le_bytes(*last)))
    } else if n >= 4 {
        let (first, last) = (name.first_chunk::<4>()?, name.last_chunk::<4>()?);
        Some((
            u64::from(u32::from_le_bytes(*first)),
            u64::from(u32::from_le_bytes(*last)),
        ))
    } else {
        let byte = |i: usize| u64::from(name.get(i).copied().unwrap_or(0));
        Some((
            byte(0) | byte(n / 2) << 8 | byte(n.saturating_sub(1)) << 16,
            0,
        ))
    }
}

/// Up to `N` texts of at most 16 bytes, each with a value, found by their length and
/// [`words`] without hashing or `memcmp`: the few texts a column or a register repeats in
/// every row (roles, states, purposes).
#[derive(Debug, Clone)]
pub struct ShortTexts<V, const N: usize>(Vec<(usize, (u64, u64), V)>);

impl<V, const N: usize> Default for ShortTexts<V, N> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V, const N: usize> ShortTexts<V, N> {
    /// The value kept for `text`.
    pub fn get(&self, text: &str) -> Option<&V> {
        let (len, w) = (text.len(), words(text.as_bytes())?);
        self.0
            .iter()
            .find(|(l, x, _)| *l == len && *x == w)
            .map(|(_, _, v)| v)
    }

    /// Whether [`ShortTexts::insert`] would keep `text`: a short text while there is room.
    /// Until the texts are `N`, every short text inserted is kept, so such a text that
    /// [`ShortTexts::get`] does not find was never inserted.
    pub fn takes(&self, text: &str) -> bool {
        text.len() <= 16 && self.0.len() < N
    }

    /// Keeps `value` for `text` (which is not kept yet) if it [`takes`](Self::takes) it;
    /// else gives `value` back.
    pub fn insert(&mut self, text: &str, value: V) -> Result<(), V> {
        match words(text.as_bytes()) {
            Some(w) if self.0.len() < N => {
                self.0.push((text.len(), w, value));
                Ok(())
            }
            _ => Err(value),
        }
    }

    /// The number of texts kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no text is kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Short texts that share a length, a first or a last byte with each other: what texts
/// compared by [`words`] must be told apart by (for the tests of its callers).
#[cfg(test)]
pub(crate) const ALIKE_SHORT_TEXTS: [&str; 6] = ["a", "b", "ab", "ac", "abc", "abd"];

/// `YYYY-MM-DD`, as chrono's `%Y-%m-%d` writes it, without its format interpreter for the
/// years of any school list.
fn iso_date(d: NaiveDate) -> String {
    match iso_date_bytes(d) {
        // Digits and dashes: always UTF-8.
        Some(bytes) => bytes.iter().map(|&b| char::from(b)).collect(),
        None => d.format("%Y-%m-%d").to_string(),
    }
}

/// `YYYY-MM-DD` of a date of the years 0 to 9999 (as [`Value::display`] writes it), without
/// an allocation.
pub fn iso_date_bytes(d: NaiveDate) -> Option<[u8; 10]> {
    use chrono::Datelike as _;
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let digit = |n: u32| b'0' + u8::try_from(n % 10).unwrap_or(0);
    let (m, day) = (d.month(), d.day());
    Some([
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ])
}

/// A name's first eight bytes as a big-endian number (zero-padded): names in the order of
/// their prefixes are in the order of the names, except where the prefixes are equal.
#[inline]
fn prefix(name: &str) -> u64 {
    let bytes = name.as_bytes();
    match bytes.first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        None => bytes
            .iter()
            .enumerate()
            .fold(0, |p, (i, b)| p | (u64::from(*b) << (56 - 8 * i))),
    }
}

/// The prefix [`Attrs::set_in_order`] takes with a name.
#[inline]
pub fn name_prefix(name: &str) -> u64 {
    prefix(name)
}

/// The order of attribute names, that of `str`: decided by their prefixes (see [`prefix`])
/// where they differ, and for names of up to eight bytes by their lengths where not. Lookups by
/// name are a large share of a big run's time: most take no call to `memcmp`.
#[inline]
fn cmp_names((p, a): (u64, &str), (q, b): (u64, &str)) -> std::cmp::Ordering {
    p.cmp(&q).then_with(|| {
        if a.len() <= 8 && b.len() <= 8 {
            a.len().cmp(&b.len())
        } else {
            a.cmp(b)
        }
    })
}

/// An attribute value together with the span of the cell or node it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The typed value.
    pub value: Value,
    /// Where the value stands in its file.
    pub span: Span,
}

/// One attribute of [`Attrs`], with the prefix of its name (read through [`Attrs::iter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    prefix: u64,
    name: Name,
    attr: Attr,
}

impl Entry {
    fn pair(&self) -> (&Name, &Attr) {
        (&self.name, &self.attr)
    }
}

/// The canonical attributes of a record, sorted by name: one allocation per record instead of
/// the nodes of a map (a state-wide list has millions of records of a dozen attributes).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attrs(Vec<Entry>);

impl Attrs {
    /// Room for `n` attributes.
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        let key = (prefix(name), name);
        self.0
            .binary_search_by(|e| cmp_names((e.prefix, &e.name), key))
    }

    /// Where the attribute `name` is. A scan, not a binary search: a record has a dozen
    /// attributes or so, most names fit in the eight bytes of their prefix (equal prefixes and
    /// lengths then mean equal names), and the place of a name is about the same from record
    /// to record, so the branches of the scan are predicted where those of a binary search
    /// are not (lookups by name are a large share of a big run's time).
    fn position(&self, name: &str) -> Option<usize> {
        let key = prefix(name);
        let short = name.len() <= 8;
        self.0.iter().position(|e| {
            e.prefix == key && e.name.len() == name.len() && (short || e.name.as_ref() == name)
        })
    }

    /// The attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.position(name)
            .and_then(|i| self.0.get(i))
            .map(|e| &e.attr)
    }

    /// The attribute `name`, for names asked in ascending order (that of `str`): the search
    /// starts at `from`, where the previous one ended, and moves it on. Looking up a sorted
    /// list of names this way costs one pass over the attributes instead of a binary search
    /// each.
    pub fn seek(&self, name: &str, from: &mut usize) -> Option<&Attr> {
        let key = (prefix(name), name);
        while let Some(e) = self.0.get(*from) {
            match cmp_names((e.prefix, &e.name), key) {
                std::cmp::Ordering::Less => *from += 1,
                std::cmp::Ordering::Equal => return Some(&e.attr),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }

    /// The attribute `name`, to change it.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Attr> {
        let i = self.position(name)?;
        self.0.get_mut(i).map(|e| &mut e.attr)
    }

    /// Whether there is an attribute `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Sets `name`, returning the value it had. Names set in their order are appended.
    pub fn insert(&mut self, name: Name, attr: Attr) -> Option<Attr> {
        let entry = Entry {
            prefix: prefix(&name),
            name,
            attr,
        };
        let after_last = self.0.last().is_none_or(|last| {
            cmp_names((last.prefix, &last.name), (entry.prefix, &entry.name)).is_lt()
        });
        if after_last {
            self.0.push(entry);
            return None;
        }
        match self.find(&entry.name) {
            Ok(i) => self
                .0
                .get_mut(i)
                .map(|old| std::mem::replace(&mut old.attr, entry.attr)),
            Err(i) => {
                self.0.insert(i, entry);
                None
            }
        }
    }

    /// Sets `name`, for names set in ascending order (of `str`) with `prefix` their
    /// [`name_prefix`]: appended after the last attribute, or replacing it when it has the
    /// same name, without computing the prefix again (a row's cells are set this way, a
    /// dozen per row); a name out of order is inserted as by [`Attrs::insert`].
    pub fn set_in_order(&mut self, name: &'static str, prefix: u64, attr: Attr) {
        match self
            .0
            .last_mut()
            .map(|last| (cmp_names((last.prefix, &last.name), (prefix, name)), last))
        {
            None | Some((std::cmp::Ordering::Less, _)) => self.0.push(Entry {
                prefix,
                name: Name::Borrowed(name),
                attr,
            }),
            Some((std::cmp::Ordering::Equal, last)) => last.attr = attr,
            Some((std::cmp::Ordering::Greater, _)) => {
                self.insert(Name::Borrowed(name), attr);
            }
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Attr> {
        let i = self.find(name).ok()?;
        Some(self.0.remove(i).attr)
    }

    /// The attributes in the order of their names.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &Attr)> {
        self.0.iter().map(Entry::pair)
    }

    /// The values in the order of their names.
    pub fn values(&self) -> impl Iterator<Item = &Attr> {
        self.0.iter().map(|e| &e.attr)
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Attrs {
    type Item = (&'a Name, &'a Attr);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a Name, &'a Attr)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(Entry::pair)
    }
}

/// One item of an input: an account, a platform module or a consent.
#[derive(Debug, Clone)]
pub struct Record {
    /// What the record describes.
    pub kind: RecordKind,
    /// The stable key: account id (or username), `platform/module`, consent id.
    pub key: Text,
    /// The file the record was read from.
    pub file: FileId,
    /// The span of the whole row or node.
    pub span: Span,
    /// Canonical attributes by canonical name.
    pub attrs: Attrs,
    /// Unknown columns or keys, by their original name, as text.
    pub extra: BTreeMap<String, Attr>,
}

impl Record {
    /// A new record with no attributes yet.
    pub fn new(kind: RecordKind, file: FileId, span: Span) -> Self {
        Self {
            kind,
            key: Text::default(),
            file,
            span,
            attrs: Attrs::default(),
            extra: BTreeMap::new(),
        }
    }

    /// The canonical attribute `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attrs.get(name)
    }

    /// The text of the canonical attribute `name`, if present and textual.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(|a| a.value.as_str())
    }

    /// The span of attribute `name` (canonical or extra), if present.
    pub fn span_of(&self, name: &str) -> Option<Span> {
        self.attrs
            .get(name)
            .or_else(|| self.extra.get(name))
            .map(|a| a.span)
    }

    /// Sets a canonical attribute (`&'static str` names cost no allocation).
    pub fn set(&mut self, name: impl Into<Name>, value: Value, span: Span) {
        self.attrs.insert(name.into(), Attr { value, span });
    }

    /// Whether a set-valued attribute contains `item`.
    pub fn has_in_set(&self, name: &str, item: &str) -> bool {
        self.attrs
            .get(name)
            .and_then(|a| a.value.as_set())
            .is_some_and(|items| items.iter().any(|i| i == item))
    }
}

/// What rules and facts read of a record: its kind, key, attributes and other columns. A
/// [`Record`] has them, and so has a row read from its cells without a record (see
/// `cells::AccountPlan`): facts, projections and first-pass notes are computed by the same
/// code for both.
pub trait Fields {
    /// What the record describes.
    fn kind(&self) -> RecordKind;

    /// The record's key.
    fn key(&self) -> &str;

    /// The canonical attribute `name`, if present.
    fn value(&self, name: &str) -> Option<&Value>;

    /// The canonical attribute `name`, for names asked in ascending order (that of `str`),
    /// as [`Attrs::seek`] finds it.
    fn seek(&self, name: &str, from: &mut usize) -> Option<&Value>;

    /// The other column `name`, if present.
    fn extra(&self, name: &str) -> Option<&Value>;

    /// The other columns, in the order of their names.
    fn extras(&self) -> impl Iterator<Item = (&str, &Value)>;

    /// The canonical attribute `name`, else the other column of that name.
    fn value_or_extra(&self, name: &str) -> Option<&Value> {
        self.value(name).or_else(|| self.extra(name))
    }

    /// [`Fields::value`] of a name resolved once (a row read from its cells finds it by its
    /// place).
    fn value_of(&self, name: &AttrName) -> Option<&Value> {
        self.value(name)
    }

    /// [`Fields::seek`] of a name resolved once.
    fn seek_of(&self, name: &AttrName, from: &mut usize) -> Option<&Value> {
        self.seek(name, from)
    }

    /// [`Fields::value_or_extra`] of a name resolved once.
    fn value_or_extra_of(&self, name: &AttrName) -> Option<&Value> {
        self.value_of(name).or_else(|| self.extra(name))
    }

    /// The text of the canonical attribute `name`, if present and textual.
    fn text(&self, name: &AttrName) -> Option<&str> {
        self.value_of(name).and_then(Value::as_str)
    }

    /// Whether the set-valued attribute `name` contains `item`.
    fn in_set(&self, name: &AttrName, item: &str) -> bool {
        self.value_of(name)
            .and_then(Value::as_set)
            .is_some_and(|items| items.iter().any(|i| i == item))
    }
}

impl Fields for Record {
    fn kind(&self) -> RecordKind {
        self.kind
    }

    fn key(&self) -> &str {
        &self.key
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name).map(|a| &a.value)
    }

    fn seek(&self, name: &str, from: &mut usize) -> Option<&Value> {
        self.attrs.seek(name, from).map(|a| &a.value)
    }

    fn extra(&self, name: &str) -> Option<&Value> {
        self.extra.get(name).map(|a| &a.value)
    }

    fn extras(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.extra.iter().map(|(name, a)| (name.as_str(), &a.value))
    }
}

/// A 128-bit hash: SipHash-1-3 with 128 bits of output, keyed once per process with random
/// keys. Two different values share one with a probability of about 10^-26 among a million,
/// so sets and counts of hashes stand in for sets and counts of the values (keys, identities,
/// consent persons) without copying them; and since the keys are secret and new in every run,
/// no input can be crafted to share a hash with another (a username that borrowed someone
/// else's consent). Hashes are never written out: they mean nothing outside the run.
pub fn hash128(value: impl std::hash::Hash) -> u128 {
    let mut h = Hasher128::new();
    value.hash(&mut h);
    h.finish128()
}

/// The hasher of [`hash128`], for hashing a value piece by piece.
#[derive(Debug, Clone, Copy)]
pub struct Hasher128(siphasher::sip128::SipHasher13);

impl Hasher128 {
    /// A hasher with the run's keys.
    pub fn new() -> Self {
        static KEYS: std::sync::LazyLock<(u64, u64)> = std::sync::LazyLock::new(|| {
            // std's `RandomState` draws its keys from the operating system; two values hashed
            // with it are two random numbers.
            use std::hash::BuildHasher as _;
            let random = std::hash::RandomState::new();
            (random.hash_one(0x4b_u8), random.hash_one(0xa5_u8))
        });
        let (k0, k1) = *KEYS;
        Self(siphasher::sip128::SipHasher13::new_with_keys(k0, k1))
    }

    /// The 128-bit hash of what was written.
    pub fn finish128(&self) -> u128 {
        use siphasher::sip128::Hasher128 as _;
        self.0.finish128().as_u128()
    }
}

impl Default for Hasher128 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::hash::Hasher for Hasher128 {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }

    /// The low 64 bits of [`Hasher128::finish128`].
    fn finish(&self) -> u64 {
        // Truncation intended: the low half.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "the low 64 bits are wanted"
        )]
        let low = self.finish128() as u64;
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_told_apart_by_length_and_words() {
        let mut kept: ShortTexts<usize, 8> = ShortTexts::default();
        let texts = ALIKE_SHORT_TEXTS.iter().chain(&[
            "lehrkraft",
            "lehrkrafx",
            "sixteen_bytes_ab",
            "seventeen_bytes_a",
        ]);
        for (i, text) in texts.clone().enumerate() {
            let takes = kept.takes(text);
            assert_eq!(takes, kept.insert(text, i).is_ok(), "{text}");
            assert_eq!(takes, text.len() <= 16 && i < 8, "{text}");
        }
        assert_eq!(kept.len(), 8);
        for (i, text) in texts.enumerate() {
            let expected = (text.len() <= 16 && i < 8).then_some(&i);
            assert_eq!(kept.get(text), expected, "{text}");
        }
        assert_eq!(kept.get("abe"), None);
        assert!(ShortTexts::<u8, 2>::default().is_empty());
    }

    #[test]
    fn attribute_names_have_the_places_of_the_account_attributes() {
        let accounts = crate::source::columns::ACCOUNT;
        for (i, c) in accounts.iter().enumerate() {
            assert_eq!(AttrName::new(c.name).place(), Some(i), "{}", c.name);
            assert_eq!(AttrName::of(c.name).place(), Some(i), "{}", c.name);
        }
        let tracked = AttrName::new("login_tracked");
        assert_eq!(tracked.place(), Some(accounts.len()));
        assert_eq!(ACCOUNT_PLACES, accounts.len() + 1);
        for other in ["", "key", "person", "purpose", "Username", "username ", "x"] {
            assert_eq!(AttrName::new(other).place(), None, "{other:?}");
        }
        assert_eq!(attr::ROLES.place(), AttrName::new("roles").place());
        assert_eq!(&*attr::USERNAME, "username");
        // Compared, ordered and hashed as its name, however made.
        let (a, b) = (AttrName::of("email"), AttrName::new(String::from("email")));
        assert_eq!(a, b);
        assert_eq!(hash128(&a), hash128(&b));
        assert_eq!(hash128(&a), hash128("email"));
        assert!(AttrName::new("a") < AttrName::new("b"));
        let read: Vec<AttrName> =
            serde_json::from_str(r#"["id", "nickname"]"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read, [AttrName::new("id"), AttrName::new("nickname")]);
        assert_eq!((read[0].place(), read[1].place()), (Some(0), None));
        assert_eq!(format!("{} {:?}", read[0], read[1]), r#"id "nickname""#);
    }

    /// Names that share their first eight bytes, differ only in length, or are short.
    const NAMES: [&str; 9] = [
        "a",
        "ab",
        "birth_date",
        "created",
        "created_days",
        "createdx",
        "last_login",
        "last_login_days",
        "roles",
    ];

    proptest::proptest! {
        /// A prefix is the name's first eight bytes, zero-padded, at every length.
        #[test]
        fn prefixes_are_the_first_eight_bytes_padded(name in "[a-z_\x00ä]{0,12}") {
            let mut padded = [0u8; 8];
            for (to, from) in padded.iter_mut().zip(name.as_bytes()) {
                *to = *from;
            }
            proptest::prop_assert_eq!(prefix(&name), u64::from_be_bytes(padded), "{:?}", name);
        }

        /// Setting names in order (with repeats, and out of order too) gives the attributes
        /// that inserting them one by one gives.
        #[test]
        fn set_in_order_is_insert(
            picks in proptest::collection::vec((0usize..NAMES.len(), proptest::bool::ANY), 0..24),
        ) {
            let (mut set, mut inserted) = (Attrs::default(), Attrs::default());
            // Mostly ascending, as a row's cells come: sorted unless the flag says not.
            let mut sorted: Vec<usize> = picks.iter().map(|(i, _)| *i).collect();
            sorted.sort_unstable();
            for (n, (&i, &(j, shuffled))) in sorted.iter().zip(&picks).enumerate() {
                let name = NAMES.get(if shuffled { j } else { i }).copied().unwrap_or("");
                let attr = Attr {
                    value: Value::Long(i64::try_from(n).unwrap_or_default()),
                    span: Span::default(),
                };
                set.set_in_order(name, name_prefix(name), attr.clone());
                inserted.insert(Name::Borrowed(name), attr);
            }
            proptest::prop_assert_eq!(set, inserted);
        }

        /// A lookup by name finds the attribute of exactly that name: also among names that
        /// share their first eight bytes, differ only in length or end in NUL bytes.
        #[test]
        fn get_finds_the_attribute_of_that_name(
            names in proptest::collection::vec("(aaaaaaa)?[ab\\x00]{0,3}", 0..16),
            asked in proptest::collection::vec("(aaaaaaa)?[ab\\x00]{0,3}", 0..16),
        ) {
            let mut attrs = Attrs::default();
            for (i, n) in names.iter().enumerate() {
                let value = Value::Long(i64::try_from(i).unwrap_or_default());
                attrs.insert(Name::Owned(n.clone()), Attr { value, span: Span::default() });
            }
            for name in names.iter().chain(&asked) {
                let naive = attrs.iter().find(|(n, _)| n.as_ref() == name.as_str()).map(|(_, a)| a);
                proptest::prop_assert_eq!(attrs.get(name), naive);
                proptest::prop_assert_eq!(attrs.contains_key(name), naive.is_some());
            }
        }
    }

    #[test]
    fn seeking_sorted_names_finds_what_get_finds() {
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::default());
        let names = [
            "birth_date",
            "b",
            "roles",
            "role",
            "state",
            "staff_category",
            "staff",
            "created_at",
            "created",
            "zz",
        ];
        for (i, n) in names.iter().enumerate() {
            r.set(
                *n,
                Value::Long(i64::try_from(i).unwrap_or_default()),
                Span::default(),
            );
        }
        let mut asked: Vec<&str> = names.to_vec();
        asked.extend([
            "a",
            "birth",
            "c",
            "created_attribute",
            "roles_days",
            "staffing",
            "zzz",
        ]);
        asked.sort_unstable();
        let mut at = 0;
        for name in asked {
            assert_eq!(r.attrs.seek(name, &mut at), r.attrs.get(name), "{name}");
        }
    }

    #[test]
    fn value_display_is_stable() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 1).map(Value::Date);
        assert_eq!(d.map(|v| v.display()).as_deref(), Some("2026-08-01"));
        assert_eq!(
            Value::Set(vec!["a".into(), "b".into()].into()).display(),
            "a, b"
        );
        assert_eq!(Value::Bool(true).display(), "true");
        for (y, m, day) in [
            (2026, 1, 5),
            (999, 12, 31),
            (0, 1, 1),
            (10000, 1, 1),
            (-5, 3, 4),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
            assert_eq!(iso_date(date), date.format("%Y-%m-%d").to_string());
        }
    }

    proptest::proptest! {
        #[test]
        fn names_compare_as_text(a in "[a-c_\\x00]{0,11}|.{0,10}", b in "[a-c_\\x00]{0,11}|.{0,10}") {
            proptest::prop_assert_eq!(cmp_names((prefix(&a), &a), (prefix(&b), &b)), a.cmp(&b));
        }

        #[test]
        fn attrs_keep_the_order_of_names_and_the_last_value(names in proptest::collection::vec("[a-d]{0,3}", 0..12)) {
            let mut attrs = Attrs::default();
            let mut map = BTreeMap::new();
            for (i, name) in names.iter().enumerate() {
                let attr = Attr { value: Value::Long(i64::try_from(i).unwrap_or_default()), span: Span::default() };
                proptest::prop_assert_eq!(attrs.insert(name.clone().into(), attr.clone()), map.insert(name.clone(), attr));
            }
            let got: Vec<(String, Attr)> = attrs.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
            let want: Vec<(String, Attr)> = map.into_iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn attrs_stay_sorted_and_replace_by_name() {
        let attr = |n: i64| Attr {
            value: Value::Long(n),
            span: Span::default(),
        };
        let mut a = Attrs::default();
        for (name, n) in [("state", 1), ("email", 2), ("username", 3), ("email", 4)] {
            a.insert(name.into(), attr(n));
        }
        let names: Vec<&str> = a.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["email", "state", "username"]);
        assert_eq!(a.get("email"), Some(&attr(4)));
        assert!(a.contains_key("state") && !a.contains_key("roles"));
        assert_eq!(a.remove("state"), Some(attr(1)));
        assert_eq!(a.len(), 2);
        assert_eq!(format!("{a:?}").matches("Long").count(), 2);
    }

    #[test]
    fn record_lookups() {
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::new(0, 10));
        r.set("username", Value::Str("lehrer1".into()), Span::new(2, 7));
        r.set(
            "roles",
            Value::Set(vec!["teacher".into()].into()),
            Span::new(5, 3),
        );
        assert_eq!(r.str("username"), Some("lehrer1"));
        assert_eq!(r.span_of("username"), Some(Span::new(2, 7)));
        assert!(r.has_in_set("roles", "teacher"));
        assert!(!r.has_in_set("roles", "student"));
        assert_eq!(r.span_of("missing"), None);
    }
}

//! Rows noted and decided from the values of their cells, without records: a plan compiled
//! once per file from its header and what the policies read.
//!
//! A first pass over a streamed list converts each row into a record, notes what facts about
//! other records need of it and decides it. For a consent register that is most of the work
//! of reading it, though its policies read only whether a few cells are filled and the
//! register keeps five values of a row. A [`ConsentPlan`] notes such a row from the values of
//! its cells (converted as its record's attributes would be), and decides it by which of the
//! cells the policies read are filled: records with the same of those present get the same
//! decision (their projections are equal, see `engine::projection`), so the decision for
//! each combination is taken once, from the record of the first row that has it, and rows
//! with a finding or an error are converted to records as before. Every row the plan is not
//! sure of (a blank row, a missing key, a cell that does not convert, a wrong number of
//! fields) is converted as before too, so the problems, findings and register are exactly
//! those of converting every row.
//!
//! An [`AccountPlan`] does the same for an account list decided in its first pass: each row
//! is read as a record would be, through [`Fields`], by the code that computes a record's
//! facts, projection and first-pass notes; a row whose projection was decided clean before
//! is noted without ever becoming a record, and every other row is converted as before.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::engine::Evaluator;
use crate::pack::facts::{CompiledFact, ConsentValues, Streamed};
use crate::record::{ACCOUNT_PLACES, AttrName, Fields, RecordKind, Value, attr, words};
use crate::source::csv::{CellRow, ColumnName, filled_last};

/// The most cells whose presence a plan decides by (2^8 decisions at most).
const MAX_READ: usize = 8;

/// No row with this signature decided yet.
const UNKNOWN: u8 = 0;
/// Rows with this signature have no finding and no evaluation error.
const CLEAN: u8 = 1;
/// Rows with this signature have a finding or an error: converted to records.
const CONVERTED: u8 = 2;

/// How the rows of a consent register are noted and decided from their cells (see the
/// module documentation).
#[derive(Debug)]
pub struct ConsentPlan {
    /// The columns onto each of the attributes the register keeps of a row.
    person: Vec<usize>,
    purpose: Vec<usize>,
    granted_by: Vec<usize>,
    granted: Vec<usize>,
    withdrawn: Vec<usize>,
    /// The columns onto each attribute whose presence the policies read: whether any of
    /// `read[i]` is filled is bit `i` of a row's signature.
    read: Vec<Vec<usize>>,
    /// By signature: [`UNKNOWN`], [`CLEAN`] or [`CONVERTED`].
    decided: Vec<AtomicU8>,
}

impl ConsentPlan {
    /// The plan for a file of `kind` records with these `columns`, whose records are decided
    /// alone by `evaluator` (see `Evaluator::decides_alone`); `None` unless the file is a
    /// consent register whose records the policies read only for the presence of attributes
    /// and of which a first pass notes nothing but the register entry (no fact looks
    /// consents up or follows a link in one of its columns, no login and no password
    /// column).
    pub fn compile(
        evaluator: &Evaluator<'_>,
        facts: &[CompiledFact],
        kind: RecordKind,
        columns: &[ColumnName<'_>],
    ) -> Option<Self> {
        if kind != RecordKind::Consent {
            return None;
        }
        let reads = evaluator.presence_reads(kind)?;
        let names = columns.iter().filter_map(|c| match c {
            ColumnName::Canonical(name) => Some(*name),
            ColumnName::Extra(name) => Some(*name),
            ColumnName::Ignored => None,
        });
        if !Streamed::notes_consents_only(facts, names)
            || columns
                .iter()
                .any(|c| matches!(c, ColumnName::Canonical("last_login" | "password_present")))
        {
            return None;
        }
        let at = |name: &str| columns_onto(columns, name);
        // Attributes without a column are never present: no bit.
        let read: Vec<Vec<usize>> = reads
            .iter()
            .map(|name| at(name))
            .filter(|c| !c.is_empty())
            .collect();
        if read.len() > MAX_READ {
            return None;
        }
        Some(Self {
            person: at("person"),
            purpose: at("purpose"),
            granted_by: at("granted_by"),
            granted: at("granted"),
            withdrawn: at("withdrawn"),
            decided: (0..1usize << read.len())
                .map(|_| AtomicU8::new(UNKNOWN))
                .collect(),
            read,
        })
    }

    /// Notes the row whose cells have `values` (by column, see `csv::CellRow`; its record
    /// has a key) into `streamed`, as `Streamed::add` notes its record, when the records
    /// with its signature have no finding and no error; `decide` tells whether the row's
    /// record has none (`None` when it cannot be converted), asked for the first row of each
    /// signature. Returns whether the row was noted (else nothing is).
    pub fn note(
        &self,
        values: &[Option<Value>],
        streamed: &mut Streamed,
        decide: impl FnOnce() -> Option<bool>,
    ) -> bool {
        let value = |columns: &[usize]| filled_last(columns, values);
        let signature = self
            .read
            .iter()
            .enumerate()
            .fold(0usize, |signature, (bit, c)| {
                signature | usize::from(value(c).is_some()) << bit
            });
        let Some(decided) = self.decided.get(signature) else {
            return false;
        };
        match decided.load(Ordering::Relaxed) {
            CLEAN => {}
            CONVERTED => return false,
            _ => match decide() {
                Some(true) => decided.store(CLEAN, Ordering::Relaxed),
                Some(false) => {
                    decided.store(CONVERTED, Ordering::Relaxed);
                    return false;
                }
                None => return false,
            },
        }
        streamed.note_consent(&ConsentValues {
            person: value(&self.person),
            purpose: value(&self.purpose),
            granted_by: value(&self.granted_by),
            granted: value(&self.granted),
            withdrawn: value(&self.withdrawn),
        });
        true
    }
}

/// The columns onto the canonical attribute `name`, in their order.
fn columns_onto(columns: &[ColumnName<'_>], name: &str) -> Vec<usize> {
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, ColumnName::Canonical(n) if *n == name))
        .map(|(i, _)| i)
        .collect()
}

/// An attribute of the records of an account list, as an [`AccountPlan`] reads it of a row.
#[derive(Debug)]
struct Slot {
    name: &'static str,
    /// Its name's [`words`].
    words: Option<(u64, u64)>,
    /// The columns onto it, in their order (the record gets the last one filled).
    columns: Vec<usize>,
    /// Its value in every row, when it comes from no column (`login_tracked`).
    fixed: Option<Value>,
}

impl Slot {
    fn value<'v>(&'v self, values: &'v [Option<Value>]) -> Option<&'v Value> {
        match (&self.fixed, self.columns.as_slice()) {
            (Some(v), _) => Some(v),
            // Most attributes have one column.
            (None, [c]) => values.get(*c).and_then(Option::as_ref),
            (None, columns) => filled_last(columns, values),
        }
    }
}

/// The size of [`AccountPlan::index`]: a power of two, more than twice the canonical
/// attributes there are.
const INDEX: usize = 128;

/// Where the search for a name with these [`words`] and length starts in
/// [`AccountPlan::index`].
fn index_of(words: Option<(u64, u64)>, len: usize) -> usize {
    let (a, b) = words.unwrap_or((0, 0));
    let mixed = (a ^ b.rotate_left(29) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    usize::try_from(mixed >> 57).unwrap_or(0) % INDEX
}

/// How the rows of an account list decided in its first pass (see
/// `Evaluator::decides_after_others`) are decided and noted from their cells (see the module
/// documentation): each row is read through [`AccountRow`], as its record would be, and
/// noted without a record when a record with its projection was decided before without a
/// finding. The plan knows only the header: which row is noted so depends on the decisions
/// taken, never on what the plan assumes of the policies.
#[derive(Debug)]
pub struct AccountPlan {
    /// The attributes a record of the file can have (those of its columns and
    /// `login_tracked`), in ascending order of their names.
    attrs: Vec<Slot>,
    /// The other columns, by name (in ascending order), with the columns of that name.
    extras: Vec<(String, Vec<usize>)>,
    /// Open addressing over [`AccountPlan::attrs`] by [`index_of`] of their names, each
    /// entry the place of a slot plus one (0 for none): facts and projections ask for about
    /// thirty attributes by name in each row.
    index: [u8; INDEX],
    /// By place of an account attribute (see `record::AttrName`): where a row has it.
    by_place: [At; ACCOUNT_PLACES],
    /// Whether every attribute has a place (always, for the columns of an account list):
    /// a name without one is then no attribute of a row.
    all_placed: bool,
}

/// Where a row has an account attribute (see [`AccountPlan::by_place`]).
#[derive(Debug, Clone, Copy)]
enum At {
    /// Nowhere.
    Absent,
    /// In this column alone.
    Column(usize),
    /// As the slot at this place of [`AccountPlan::attrs`] reads it (several columns, or a
    /// value of every row).
    Slot(usize),
}

impl AccountPlan {
    /// The plan for a file of `kind` records with these `columns`, whose records are decided
    /// in the first pass and told `login_tracked` (see `lib::mark_login_tracked`); `None`
    /// unless the file is an account list.
    pub fn compile(
        kind: RecordKind,
        columns: &[ColumnName<'_>],
        login_tracked: bool,
    ) -> Option<Self> {
        if kind != RecordKind::Account {
            return None;
        }
        let mut names: Vec<&'static str> = columns
            .iter()
            .filter_map(|c| match c {
                ColumnName::Canonical(name) => Some(*name),
                _ => None,
            })
            .collect();
        names.push("login_tracked");
        names.sort_unstable();
        names.dedup();
        let attrs: Vec<Slot> = names
            .into_iter()
            .map(|name| Slot {
                name,
                words: words(name.as_bytes()),
                columns: columns_onto(columns, name),
                // Set on every record, over any column of that name.
                fixed: (name == "login_tracked").then_some(Value::Bool(login_tracked)),
            })
            .collect();
        let mut extras: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let ColumnName::Extra(name) = c else {
                continue;
            };
            match extras.iter_mut().find(|(n, _)| n == name) {
                Some((_, at)) => at.push(i),
                None => extras.push(((*name).to_owned(), vec![i])),
            }
        }
        extras.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut index = [0u8; INDEX];
        for (i, slot) in attrs.iter().enumerate() {
            let place = u8::try_from(i + 1).ok()?;
            let start = index_of(slot.words, slot.name.len());
            let free = (0..INDEX)
                .map(|probe| (start + probe) % INDEX)
                .find(|&at| index.get(at) == Some(&0))?;
            *index.get_mut(free)? = place;
        }
        let mut by_place = [At::Absent; ACCOUNT_PLACES];
        let mut all_placed = true;
        for (i, slot) in attrs.iter().enumerate() {
            // Every attribute of an account list is a canonical account attribute or
            // `login_tracked`, which have places; any other is found by its name.
            let Some(place) = AttrName::of(slot.name).place() else {
                all_placed = false;
                continue;
            };
            *by_place.get_mut(place)? = match (&slot.fixed, slot.columns.as_slice()) {
                (None, [column]) => At::Column(*column),
                _ => At::Slot(i),
            };
        }
        Some(Self {
            attrs,
            extras,
            index,
            by_place,
            all_placed,
        })
    }

    /// The slot of the attribute `name`.
    fn slot(&self, name: &str) -> Option<&Slot> {
        let looked_for = words(name.as_bytes());
        let start = index_of(looked_for, name.len());
        for probe in 0..INDEX {
            let place = usize::from(*self.index.get((start + probe) % INDEX)?);
            let slot = self.attrs.get(place.checked_sub(1)?)?;
            let same = slot.name.len() == name.len()
                && match (slot.words, looked_for) {
                    (Some(a), Some(b)) => a == b,
                    _ => slot.name == name,
                };
            if same {
                return Some(slot);
            }
        }
        None
    }

    /// The record `row` would become, read from its cells; `None` for a row that must become
    /// a record whatever its decision: one with a password (its cell is masked in every
    /// output, which needs the record's span of it).
    pub fn row<'r>(&'r self, row: CellRow<'r>) -> Option<AccountRow<'r>> {
        let read = AccountRow {
            plan: self,
            values: row.values,
            key: row.key,
        };
        (read.value_of(&attr::PASSWORD_PRESENT) != Some(&Value::Bool(true))).then_some(read)
    }
}

/// A row of an account list read as its record (see [`AccountPlan::row`]).
#[derive(Debug, Clone, Copy)]
pub struct AccountRow<'r> {
    plan: &'r AccountPlan,
    values: &'r [Option<Value>],
    key: &'r str,
}

impl Fields for AccountRow<'_> {
    fn kind(&self) -> RecordKind {
        RecordKind::Account
    }

    fn key(&self) -> &str {
        self.key
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.plan.slot(name)?.value(self.values)
    }

    /// By the index, as [`Fields::value`]: no cheaper for names in order.
    fn seek(&self, name: &str, _from: &mut usize) -> Option<&Value> {
        self.value(name)
    }

    /// By its place, when the name has one (else by its name).
    fn value_of(&self, name: &AttrName) -> Option<&Value> {
        let Some(place) = name.place() else {
            return if self.plan.all_placed {
                None
            } else {
                self.value(name)
            };
        };
        match *self.plan.by_place.get(place)? {
            At::Absent => None,
            At::Column(c) => self.values.get(c)?.as_ref(),
            At::Slot(i) => self.plan.attrs.get(i)?.value(self.values),
        }
    }

    fn seek_of(&self, name: &AttrName, _from: &mut usize) -> Option<&Value> {
        self.value_of(name)
    }

    fn extra(&self, name: &str) -> Option<&Value> {
        let (_, columns) = self.plan.extras.iter().find(|(n, _)| n == name)?;
        filled_last(columns, self.values)
    }

    fn extras(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.plan
            .extras
            .iter()
            .filter_map(|(name, columns)| Some((name.as_str(), filled_last(columns, self.values)?)))
    }
}

/// Whether `a` and `b` read alike through [`Fields`]: kind, key, the attributes of the
/// account lists' columns and a few more (by name and in order), and the other columns (the
/// reference of the tests that compare a row read from its cells with its record).
#[cfg(test)]
pub(crate) fn same_fields(a: &impl Fields, b: &impl Fields) -> Result<(), String> {
    const NAMES: [&str; 20] = [
        "birth_date",
        "created",
        "email",
        "enabled",
        "family_name",
        "given_name",
        "groups",
        "id",
        "last_login",
        "login_tracked",
        "manual_reason",
        "nothing",
        "origin",
        "password_present",
        "roles",
        "staff_category",
        "state",
        "username",
        "valid_until",
        "zz",
    ];
    if a.kind() != b.kind() || a.key() != b.key() {
        return Err(format!(
            "{:?} {} against {:?} {}",
            a.kind(),
            a.key(),
            b.kind(),
            b.key()
        ));
    }
    let (mut at_a, mut at_b) = (0, 0);
    for name in NAMES {
        let (x, y) = (a.value(name), b.value(name));
        if x != y {
            return Err(format!("{name}: {x:?} against {y:?}"));
        }
        let (x, y) = (a.seek(name, &mut at_a), b.seek(name, &mut at_b));
        if x != y {
            return Err(format!("{name} sought: {x:?} against {y:?}"));
        }
        let resolved = AttrName::new(name);
        let (x, y) = (a.value_of(&resolved), b.value_of(&resolved));
        if x != y {
            return Err(format!("{name} by its place: {x:?} against {y:?}"));
        }
    }
    let (x, y): (Vec<_>, Vec<_>) = (a.extras().collect(), b.extras().collect());
    if x != y {
        return Err(format!("other columns: {x:?} against {y:?}"));
    }
    for (name, _) in x {
        if a.extra(name) != b.extra(name) {
            return Err(format!(
                "{name}: {:?} against {:?}",
                a.extra(name),
                b.extra(name)
            ));
        }
    }
    if a.extra("nothing") != b.extra("nothing") {
        return Err("an other column that is not there".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tests::{context, own_pack, packs_of};
    use crate::pack::PackRequest;
    use crate::pack::facts::FactInputs;
    use crate::record::Record;
    use crate::source::{FileId, Span};

    /// The columns of a consent register: person, purpose, granted by, granted, form.
    const REGISTER: [ColumnName<'static>; 5] = [
        ColumnName::Canonical("person"),
        ColumnName::Canonical("purpose"),
        ColumnName::Canonical("granted_by"),
        ColumnName::Canonical("granted"),
        ColumnName::Canonical("form"),
    ];

    fn defaults() -> crate::pack::PackSet {
        packs_of(&PackRequest {
            country: "DE".into(),
            state: "HH".into(),
            ..PackRequest::default()
        })
    }

    fn text(s: &str) -> Option<Value> {
        Some(Value::Str(s.into()))
    }

    /// A row of [`REGISTER`]: its person, and whether its form is filled.
    fn row(person: &str, form: bool) -> Vec<Option<Value>> {
        vec![
            if person.is_empty() {
                None
            } else {
                text(person)
            },
            text("videoconference"),
            text("guardian"),
            Some(Value::Date(
                chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap_or_default(),
            )),
            if form { text("VK-1") } else { None },
        ]
    }

    #[test]
    fn plans_only_consent_registers_whose_rules_read_presence() {
        let packs = defaults();
        let ctx = context(true);
        let evaluator = Evaluator::new(&packs, &ctx).unwrap_or_else(|p| panic!("{p:?}"));
        let facts = &packs.facts;
        let plan = ConsentPlan::compile(&evaluator, facts, RecordKind::Consent, &REGISTER);
        let plan = plan.unwrap_or_else(|| panic!("no plan for a consent register"));
        // form, granted, granted_by and purpose (in the order of their names) are read;
        // withdrawn is not.
        assert_eq!(plan.read, vec![vec![4], vec![3], vec![2], vec![1]]);
        assert_eq!(plan.decided.len(), 16);
        assert!(
            ConsentPlan::compile(&evaluator, facts, RecordKind::Account, &REGISTER).is_none(),
            "accounts are not planned"
        );
        for other in [
            ColumnName::Canonical("last_login"),
            ColumnName::Canonical("password_present"),
        ] {
            let mut columns = REGISTER.to_vec();
            columns.push(other);
            assert!(
                ConsentPlan::compile(&evaluator, facts, RecordKind::Consent, &columns).is_none(),
                "{other:?}"
            );
        }
        // A column a `links_to` fact follows (`children`) would be read by the first pass.
        let mut columns = REGISTER.to_vec();
        columns.push(ColumnName::Extra("children"));
        assert!(ConsentPlan::compile(&evaluator, facts, RecordKind::Consent, &columns).is_none());
        // The oracle decides every record on its own.
        let oracle = context(false);
        let evaluator = Evaluator::new(&packs, &oracle).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(ConsentPlan::compile(&evaluator, facts, RecordKind::Consent, &REGISTER).is_none());
    }

    #[test]
    fn rules_that_read_a_value_are_not_planned() {
        let rule = "@id(\"purpose\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal is Consent, action, resource)\nwhen { principal has purpose && principal.purpose == \"marketing\" };\n";
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let packs = own_pack(dir.path(), "id: mine\ntitle: test\n", rule);
        let ctx = context(true);
        let evaluator = Evaluator::new(&packs, &ctx).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(
            ConsentPlan::compile(&evaluator, &packs.facts, RecordKind::Consent, &REGISTER)
                .is_none()
        );
    }

    /// The record of a row of [`REGISTER`], as the CSV reader makes it.
    fn record_of(values: &[Option<Value>]) -> Record {
        let mut r = Record::new(RecordKind::Consent, FileId(0), Span::default());
        for (column, value) in REGISTER.iter().zip(values) {
            if let (ColumnName::Canonical(name), Some(v)) = (column, value) {
                r.set(*name, v.clone(), Span::default());
            }
        }
        r.key = r.str("person").unwrap_or_default().into();
        r
    }

    /// Names of every length an index entry can have, and names that share a length, a
    /// first or a last part with them.
    const NAMES: [&str; 14] = [
        "a",
        "ab",
        "abc",
        "abcd",
        "email",
        "enabled",
        "username",
        "birth_date",
        "given_name",
        "family_name",
        "login_tracked",
        "staff_category",
        "password_present",
        "a_name_longer_than_sixteen",
    ];

    #[test]
    fn account_rows_find_each_attribute_by_its_name() {
        let columns: Vec<ColumnName<'static>> = NAMES
            .iter()
            .filter(|n| **n != "login_tracked")
            .map(|n| ColumnName::Canonical(n))
            .chain([ColumnName::Extra("Notiz"), ColumnName::Ignored])
            .collect();
        let plan = AccountPlan::compile(RecordKind::Account, &columns, false)
            .unwrap_or_else(|| panic!("no plan"));
        assert!(AccountPlan::compile(RecordKind::Consent, &columns, false).is_none());
        // Each column holds its own name; login_tracked is given.
        let values: Vec<Option<Value>> = columns
            .iter()
            .map(|c| match c {
                ColumnName::Canonical(n) => text(n),
                ColumnName::Extra(_) => text("frei"),
                ColumnName::Ignored => text("ignored"),
            })
            .collect();
        let row = plan
            .row(CellRow {
                values: &values,
                key: "K1",
                at: 0,
            })
            .unwrap_or_else(|| panic!("not read"));
        for name in NAMES {
            let expected = if name == "login_tracked" {
                Value::Bool(false)
            } else {
                Value::Str(name.into())
            };
            assert_eq!(row.value(name), Some(&expected), "{name}");
            assert_eq!(row.seek(name, &mut 0), Some(&expected), "{name}");
            // By its place for the names that are account attributes, by its name else.
            let resolved = AttrName::new(name);
            assert_eq!(row.value_of(&resolved), Some(&expected), "{name}");
            assert_eq!(row.seek_of(&resolved, &mut 0), Some(&expected), "{name}");
            // The same length and the same first or last bytes are not the same name.
            for other in [
                format!("{}x", &name[..name.len() - 1]),
                format!("x{}", &name[1..]),
                name.to_uppercase(),
                format!("{name}_"),
            ] {
                assert_eq!(row.value(&other), None, "{other}");
                assert_eq!(
                    row.value_of(&AttrName::new(other.as_str())),
                    None,
                    "{other}"
                );
            }
        }
        assert_eq!(row.extra("Notiz"), Some(&Value::Str("frei".into())));
        assert_eq!(row.value("Notiz"), None);
        assert_eq!(row.extras().count(), 1);
        assert_eq!((row.kind(), row.key()), (RecordKind::Account, "K1"));
        // A row with a password is read as its record only.
        let mut with_password = values.clone();
        if let Some(i) = columns
            .iter()
            .position(|c| *c == ColumnName::Canonical("password_present"))
        {
            with_password[i] = Some(Value::Bool(true));
        }
        let row = CellRow {
            values: &with_password,
            key: "K1",
            at: 0,
        };
        assert!(plan.row(row).is_none());
    }

    #[test]
    fn each_signature_is_decided_once_from_a_record() {
        let packs = defaults();
        let ctx = context(true);
        let evaluator = Evaluator::new(&packs, &ctx).unwrap_or_else(|p| panic!("{p:?}"));
        let inputs = FactInputs::new(&[], ctx.today, "DE", &packs.facts);
        let plan = ConsentPlan::compile(&evaluator, &packs.facts, RecordKind::Consent, &REGISTER)
            .unwrap_or_else(|| panic!("no plan"));
        let mut streamed = Streamed::default();
        let decided = std::cell::Cell::new(0);
        let mut note = |values: &[Option<Value>]| {
            plan.note(values, &mut streamed, || {
                decided.set(decided.get() + 1);
                Some(evaluator.decides_clean(&record_of(values), &inputs))
            })
        };
        // A complete entry is noted; the next with the same cells filled is not decided again.
        assert!(note(&row("P1", true)));
        assert!(note(&row("P2", true)));
        assert_eq!(decided.get(), 1);
        // Without its form the entry has a finding: converted, and decided once.
        assert!(!note(&row("P3", false)));
        assert!(!note(&row("P4", false)));
        assert_eq!(decided.get(), 2);
        // A row that cannot be converted leaves its signature undecided.
        let mut values = row("P5", true);
        values[1] = None;
        assert!(!plan.note(&values, &mut Streamed::default(), || None));
        // Bits: form, granted, granted_by, purpose.
        assert_eq!(plan.decided[0b0111].load(Ordering::Relaxed), UNKNOWN);
        assert_eq!(plan.decided[0b1111].load(Ordering::Relaxed), CLEAN);
        assert_eq!(plan.decided[0b1110].load(Ordering::Relaxed), CONVERTED);
        // The two complete entries are in the register, as `Streamed::add` notes them.
        let mut added = Streamed::default();
        added.add(
            &packs.facts,
            &[record_of(&row("P1", true)), record_of(&row("P2", true))],
        );
        assert_eq!(streamed.consent_entries(), added.consent_entries());
        assert!(streamed.kinds.contains(&RecordKind::Consent));
    }
}

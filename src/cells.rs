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

use std::sync::atomic::{AtomicU8, Ordering};

use crate::engine::Evaluator;
use crate::pack::facts::{CompiledFact, ConsentValues, Streamed};
use crate::record::{RecordKind, Value};
use crate::source::csv::{ColumnName, key_candidates};

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
    /// The columns of the values the register keeps of a row.
    person: Option<usize>,
    purpose: Option<usize>,
    granted_by: Option<usize>,
    granted: Option<usize>,
    withdrawn: Option<usize>,
    /// The columns a record's key comes from, in order (see `csv::record_key`).
    key: Vec<usize>,
    /// The columns whose presence the policies read: column `read[i]` is bit `i` of a row's
    /// signature.
    read: Vec<usize>,
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
        let at = |name: &str| {
            columns
                .iter()
                .position(|c| matches!(c, ColumnName::Canonical(n) if *n == name))
        };
        // Attributes without a column are never present: no bit.
        let read: Vec<usize> = reads.iter().filter_map(|name| at(name)).collect();
        if read.len() > MAX_READ {
            return None;
        }
        Some(Self {
            person: at("person"),
            purpose: at("purpose"),
            granted_by: at("granted_by"),
            granted: at("granted"),
            withdrawn: at("withdrawn"),
            key: key_candidates(kind)
                .iter()
                .filter_map(|name| at(name))
                .collect(),
            decided: (0..1usize << read.len())
                .map(|_| AtomicU8::new(UNKNOWN))
                .collect(),
            read,
        })
    }

    /// Notes the row whose cells have `values` (by column, see `csv::Note::note_cells`) into
    /// `streamed`, as `Streamed::add` notes its record, when its record has a key and the
    /// records with its signature have no finding and no error; `decide` tells whether the
    /// row's record has none (`None` when it cannot be converted), asked for the first row of
    /// each signature. Returns whether the row was noted (else nothing is).
    pub fn note(
        &self,
        values: &[Option<Value>],
        streamed: &mut Streamed,
        decide: impl FnOnce() -> Option<bool>,
    ) -> bool {
        let value = |column: Option<usize>| column.and_then(|c| values.get(c)?.as_ref());
        // The first of the key's attributes present, as `csv::record_key` takes it.
        let keyed = match self.key.iter().find_map(|&c| value(Some(c))) {
            Some(Value::Str(s)) => !s.trim().is_empty(),
            Some(other) => !other.display().trim().is_empty(),
            None => false,
        };
        if !keyed {
            return false;
        }
        let signature = self
            .read
            .iter()
            .enumerate()
            .fold(0usize, |signature, (bit, &c)| {
                signature | usize::from(value(Some(c)).is_some()) << bit
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
            person: value(self.person),
            purpose: value(self.purpose),
            granted_by: value(self.granted_by),
            granted: value(self.granted),
            withdrawn: value(self.withdrawn),
        });
        true
    }
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
        assert_eq!(plan.read, vec![4, 3, 2, 1]);
        assert_eq!(plan.key, vec![0]);
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
        // Without a person there is no key: converted, never decided.
        assert!(!note(&row("", true)));
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

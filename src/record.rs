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
    /// Text.
    Str(String),
    /// A yes/no flag.
    Bool(bool),
    /// A whole number.
    Long(i64),
    /// A calendar date (times of day are not kept).
    Date(NaiveDate),
    /// A set of texts (roles, schools, groups); kept sorted and without duplicates.
    Set(Vec<String>),
}

impl Value {
    /// The value as text, for messages and placeholders.
    pub fn display(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Bool(b) => b.to_string(),
            Self::Long(n) => n.to_string(),
            Self::Date(d) => d.format("%Y-%m-%d").to_string(),
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
    pub fn as_set(&self) -> Option<&[String]> {
        match self {
            Self::Set(items) => Some(items),
            _ => None,
        }
    }
}

/// The name of a canonical attribute: a constant for the attributes readers know (no
/// allocation per cell of a large list), owned text otherwise.
pub type Name = std::borrow::Cow<'static, str>;

/// An attribute value together with the span of the cell or node it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The typed value.
    pub value: Value,
    /// Where the value stands in its file.
    pub span: Span,
}

/// One item of an input: an account, a platform module or a consent.
#[derive(Debug, Clone)]
pub struct Record {
    /// What the record describes.
    pub kind: RecordKind,
    /// The stable key: account id (or username), `platform/module`, consent id.
    pub key: String,
    /// The file the record was read from.
    pub file: FileId,
    /// The span of the whole row or node.
    pub span: Span,
    /// Canonical attributes by canonical name.
    pub attrs: BTreeMap<Name, Attr>,
    /// Unknown columns or keys, by their original name, as text.
    pub extra: BTreeMap<String, Attr>,
}

impl Record {
    /// A new record with no attributes yet.
    pub fn new(kind: RecordKind, file: FileId, span: Span) -> Self {
        Self {
            kind,
            key: String::new(),
            file,
            span,
            attrs: BTreeMap::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_display_is_stable() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 1).map(Value::Date);
        assert_eq!(d.map(|v| v.display()).as_deref(), Some("2026-08-01"));
        assert_eq!(Value::Set(vec!["a".into(), "b".into()]).display(), "a, b");
        assert_eq!(Value::Bool(true).display(), "true");
    }

    #[test]
    fn record_lookups() {
        let mut r = Record::new(RecordKind::Account, FileId(0), Span::new(0, 10));
        r.set("username", Value::Str("lehrer1".into()), Span::new(2, 7));
        r.set("roles", Value::Set(vec!["teacher".into()]), Span::new(5, 3));
        assert_eq!(r.str("username"), Some("lehrer1"));
        assert_eq!(r.span_of("username"), Some(Span::new(2, 7)));
        assert!(r.has_in_set("roles", "teacher"));
        assert!(!r.has_in_set("roles", "student"));
        assert_eq!(r.span_of("missing"), None);
    }
}

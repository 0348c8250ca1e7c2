//! Telling which format a file is in and what kind of records it holds.

use std::path::Path;

use crate::record::RecordKind;
use crate::source::columns::{self, normalize_name};
use crate::source::csv::sniff_delimiter;
use crate::source::tree::list_keys;
use crate::source::yaml::{Node, NodeValue};

/// A file format konform reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Delimited text with a header row.
    Csv,
    /// YAML 1.2.
    Yaml,
    /// JSON.
    Json,
    /// SCIM 2.0 JSON (RFC 7643/7644).
    Scim,
    /// SS 12000 JSON (Sweden).
    Ss12000,
    /// LDIF (RFC 2849).
    Ldif,
}

impl Format {
    /// The name used in konform.yaml (`format: csv`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Yaml => "yaml",
            Self::Json => "json",
            Self::Scim => "scim",
            Self::Ss12000 => "ss12000",
            Self::Ldif => "ldif",
        }
    }

    /// Parses a `format:` value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Some(Self::Csv),
            "yaml" | "yml" => Some(Self::Yaml),
            "json" => Some(Self::Json),
            "scim" => Some(Self::Scim),
            "ss12000" | "ss-12000" => Some(Self::Ss12000),
            "ldif" => Some(Self::Ldif),
            _ => None,
        }
    }

    /// All format names, for help texts.
    pub const NAMES: &'static [&'static str] = &["csv", "yaml", "json", "scim", "ss12000", "ldif"];
}

/// The format suggested by a file's extension.
pub fn format_from_path(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "tsv" | "txt" => Some(Format::Csv),
        "yaml" | "yml" => Some(Format::Yaml),
        "json" => Some(Format::Json),
        "ldif" => Some(Format::Ldif),
        _ => None,
    }
}

/// Parses a `kind:` value from konform.yaml.
pub fn kind_from_name(name: &str) -> Option<RecordKind> {
    match name.to_ascii_lowercase().as_str() {
        "accounts" | "account" => Some(RecordKind::Account),
        "consents" | "consent" => Some(RecordKind::Consent),
        "service" | "services" | "platform" | "config" => Some(RecordKind::Service),
        "people" | "persons" | "person" | "leading" | "leading_system" => Some(RecordKind::Person),
        "systems" | "system" | "inventory" | "it_inventory" => Some(RecordKind::System),
        _ => None,
    }
}

/// All kind names, for help texts.
pub const KIND_NAMES: &[&str] = &["accounts", "consents", "service", "people", "systems"];

/// The kind of a CSV file from its header: a consent register has a purpose column.
pub fn kind_of_csv(text: &str) -> RecordKind {
    let delimiter = char::from(sniff_delimiter(text));
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let is_consent = header.split(delimiter).any(|h| {
        let n = normalize_name(h.trim().trim_matches('"'));
        columns::by_name(RecordKind::Consent, "purpose")
            .is_some_and(|c| c.aliases.contains(&n.as_str()))
    });
    if is_consent {
        RecordKind::Consent
    } else {
        RecordKind::Account
    }
}

/// The kind of a YAML/JSON document from its shape, if it can be told.
pub fn kind_of_tree(root: &Node) -> Option<RecordKind> {
    let first_item = |items: &[Node]| items.first().cloned();
    let item = match &root.value {
        NodeValue::Seq(items) => first_item(items),
        NodeValue::Map(_) => {
            if root.get("modules").is_some() || root.get("module").is_some() {
                return Some(RecordKind::Service);
            }
            for kind in [RecordKind::Account, RecordKind::Consent] {
                if list_keys(kind).iter().any(|k| root.get(k).is_some()) {
                    return Some(kind);
                }
            }
            return None;
        }
        _ => None,
    }?;
    let has_purpose = item.as_map().is_some_and(|entries| {
        entries.iter().any(|(k, _)| {
            k.scalar_text().is_some_and(|k| {
                columns::lookup(RecordKind::Consent, &k).is_some_and(|c| c.name == "purpose")
            })
        })
    });
    Some(if has_purpose {
        RecordKind::Consent
    } else {
        RecordKind::Account
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::yaml::{YamlLimits, parse};

    #[test]
    fn formats_by_extension() {
        assert_eq!(format_from_path(Path::new("a/b.CSV")), Some(Format::Csv));
        assert_eq!(format_from_path(Path::new("b.yml")), Some(Format::Yaml));
        assert_eq!(format_from_path(Path::new("b.json")), Some(Format::Json));
        assert_eq!(format_from_path(Path::new("b.xlsx")), None);
    }

    #[test]
    fn csv_kind_by_header() {
        assert_eq!(kind_of_csv("Person;Zweck;Datum\n"), RecordKind::Consent);
        assert_eq!(kind_of_csv("id;Benutzername\n"), RecordKind::Account);
    }

    #[test]
    fn tree_kind_by_shape() -> Result<(), String> {
        let kind = |t: &str| {
            parse(t, YamlLimits::default())
                .map(|n| kind_of_tree(&n))
                .map_err(|e| e.message)
        };
        assert_eq!(
            kind("platform: iserv\nmodules: {}\n")?,
            Some(RecordKind::Service)
        );
        assert_eq!(kind("accounts: []\n")?, Some(RecordKind::Account));
        assert_eq!(
            kind("- person: a\n  purpose: b\n")?,
            Some(RecordKind::Consent)
        );
        assert_eq!(kind("- username: a\n")?, Some(RecordKind::Account));
        assert_eq!(kind("foo: bar\n")?, None);
        Ok(())
    }
}

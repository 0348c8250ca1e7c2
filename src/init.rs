//! `konform init`: a commented konform.yaml proposed from the exports found in a folder.
//!
//! Every file konform would read is sniffed: its format, what it holds (accounts, consents, a
//! platform configuration, the leading system's people, an IT inventory) and, for CSV, how each
//! header maps onto konform's attributes. The proposal names each input with its kind and
//! delimiter, maps columns that only resemble a known name (as a suggestion to confirm), and
//! lists the columns that were recognised, so that the school sees what konform will read.

use std::fmt::Write as _;
use std::path::Path;

use crate::record::RecordKind;
use crate::source::columns;
use crate::source::csv::sniff_delimiter;
use crate::source::detect::{self, Format};
use crate::source::load::{self, InputLimits, InputSpec};
use crate::source::{SourceMap, discover};

/// A starting point for a school's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// A Hamburg school with eduPort accounts (DiViS as the leading system) and IServ.
    Eduport,
    /// A German school running IServ.
    Iserv,
    /// A Swedish school and Skolverket's assessment portal.
    Skolverket,
    /// A Danish school with Aula and UNI-login.
    Aula,
    /// A school in North Rhine-Westphalia documenting its IT systems.
    ItInventory,
}

impl Profile {
    /// Every profile with its name on the command line.
    pub const ALL: [(&'static str, Profile); 5] = [
        ("eduport", Profile::Eduport),
        ("iserv", Profile::Iserv),
        ("skolverket", Profile::Skolverket),
        ("aula", Profile::Aula),
        ("it-inventory", Profile::ItInventory),
    ];

    /// Country, state (may be empty) and packs.
    fn settings(self) -> (&'static str, &'static str, &'static [&'static str]) {
        match self {
            Self::Eduport => ("DE", "HH", &["common", "eduport", "iserv"]),
            Self::Iserv => ("DE", "", &["common", "iserv"]),
            Self::Skolverket => ("SE", "", &["common", "skolverket"]),
            Self::Aula => ("DK", "", &["common", "aula", "iserv"]),
            Self::ItInventory => ("DE", "NW", &["common", "it-inventory"]),
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(n, _)| n)
    }
}

/// An input found in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The path relative to the folder, with `/`.
    pub path: String,
    /// The format detected.
    pub format: Option<Format>,
    /// What it holds, as far as konform can tell.
    pub kind: Option<RecordKind>,
    /// Whether the kind was guessed from the file name (the leading system, an inventory).
    pub kind_from_name: bool,
    /// The CSV delimiter, when it is not `,`.
    pub delimiter: Option<char>,
    /// CSV headers recognised: (column, attribute).
    pub recognised: Vec<(String, &'static str)>,
    /// CSV headers that resemble a known name: (column, attribute).
    pub suggested: Vec<(String, &'static str)>,
    /// CSV headers kept as extra attributes.
    pub unknown: Vec<String>,
    /// Why the file could not be read, if it could not.
    pub problem: Option<String>,
}

impl Found {
    fn new(path: String, kind: Option<RecordKind>) -> Self {
        Self {
            path,
            format: None,
            kind,
            kind_from_name: false,
            delimiter: None,
            recognised: Vec::new(),
            suggested: Vec::new(),
            unknown: Vec::new(),
            problem: None,
        }
    }
}

/// What `konform init` writes.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The inputs found.
    pub found: Vec<Found>,
    /// The text of konform.yaml.
    pub config: String,
    /// The text of waivers.yaml.
    pub waivers: String,
}

/// The kind a file name suggests for files whose content cannot tell.
fn kind_by_name(path: &str) -> Option<RecordKind> {
    let lower = path.to_lowercase();
    if [
        "divis",
        "leading",
        "leitsystem",
        "personal",
        "staff",
        "schild",
        "sis-",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(RecordKind::Person)
    } else if [
        "inventory",
        "inventar",
        "verzeichnis",
        "verfahren",
        "systems",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(RecordKind::System)
    } else {
        None
    }
}

/// Sniffs one file.
fn sniff(dir: &Path, path: &Path, sources: &mut SourceMap) -> Found {
    let shown = path
        .strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let mut found = Found::new(shown.clone(), None);
    found.format = detect::format_from_path(path);
    let spec = InputSpec {
        path: path.to_path_buf(),
        ..InputSpec::default()
    };
    let loaded = load::load(&spec, sources, InputLimits::default());
    found.format = loaded.format.or(found.format);
    found.kind = loaded.kind;
    if let Some(kind) = kind_by_name(&shown)
        && matches!(found.kind, None | Some(RecordKind::Account))
    {
        found.kind = Some(kind);
        found.kind_from_name = true;
    }
    if let Some(p) = loaded.problems.iter().find(|p| p.is_error()) {
        found.problem = Some(p.message.clone());
    }
    if found.format == Some(Format::Csv)
        && let Some(file) = loaded.file
    {
        let text = sources.get(file).shared_text();
        let delimiter = sniff_delimiter(&text);
        if delimiter != b',' {
            found.delimiter = Some(char::from(delimiter));
        }
        let kind = found.kind.unwrap_or(RecordKind::Account);
        let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delimiter)
            .from_reader(header.as_bytes());
        let mut row = ::csv::StringRecord::new();
        if reader.read_record(&mut row).unwrap_or(false) {
            for column in row.iter().map(|c| c.trim().trim_start_matches('\u{feff}')) {
                if column.is_empty() {
                    continue;
                }
                if let Some(c) = columns::lookup(kind, column) {
                    found.recognised.push((column.to_owned(), c.name));
                } else if let Some((c, _)) = columns::suggest(kind, column) {
                    found.suggested.push((column.to_owned(), c.name));
                } else {
                    found.unknown.push(column.to_owned());
                }
            }
            // A suggestion for an attribute another column already supplies would make the
            // two ambiguous: that column stays an extra attribute.
            let (keep, taken): (Vec<_>, Vec<_>) = std::mem::take(&mut found.suggested)
                .into_iter()
                .partition(|(_, attr)| !found.recognised.iter().any(|(_, a)| a == attr));
            found.suggested = keep;
            found
                .unknown
                .extend(taken.into_iter().map(|(column, _)| column));
        }
    }
    found
}

/// A YAML scalar, quoted when needed.
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || "-_./ ".contains(c))
        && !s.starts_with([' ', '-'])
        && !s.ends_with(' ');
    if plain && s.parse::<f64>().is_err() && !matches!(s, "yes" | "no" | "true" | "false" | "null")
    {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Proposes a configuration for the school in `dir`.
pub fn propose(dir: &Path, profile: Option<Profile>) -> Proposal {
    let mut sources = SourceMap::with_base(dir.to_path_buf());
    let (files, bundles, _) = discover::discover_all(&[dir.to_path_buf()], &sources);
    let mut found: Vec<Found> = files.iter().map(|f| sniff(dir, f, &mut sources)).collect();
    for (bundle, _) in &bundles {
        let shown = bundle.strip_prefix(dir).unwrap_or(bundle).to_string_lossy();
        found.push(Found::new(
            shown.replace('\\', "/"),
            Some(RecordKind::Account),
        ));
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));

    let mut c = String::new();
    let _ = writeln!(
        c,
        "# konform configuration, proposed by `konform init{}` from the files in this folder.\n\
         # Check every line marked CHECK, then run `konform check`.\n\
         # Completion and validation in editors: `konform schema config > konform.schema.json`,\n\
         # then put `# yaml-language-server: $schema=konform.schema.json` on the first line.",
        profile.map_or(String::new(), |p| format!(" --profile {}", p.name()))
    );
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "school".to_owned());
    c.push_str("\nschool:\n");
    let _ = writeln!(
        c,
        "  id: {}            # CHECK: your school number",
        yaml_str(&folder)
    );
    c.push_str("  # name: Name of the school  # shown in reports\n");
    match profile.map(Profile::settings) {
        Some((country, state, packs)) => {
            let _ = writeln!(c, "  country: {country}");
            if !state.is_empty() {
                let _ = writeln!(c, "  state: {state}");
            }
            let _ = writeln!(
                c,
                "\n# The rules: `konform policies` lists every pack and policy.\npacks: [{}]",
                packs.join(", ")
            );
        }
        None => {
            c.push_str(
                "  # country: DE              # CHECK: DE, DK or SE choose the packs that apply\n  # state: HH                # and the state (HH: eduPort, NW: IT inventory)\n\n# Without `packs:`, the packs on by default for the country and state apply;\n# `konform init --profile eduport|iserv|skolverket|aula|it-inventory` names them.\n",
            );
        }
    }
    c.push_str("\n# fail_on: error              # the lowest severity that fails the run (CI)\n");
    c.push_str("\n# Approved exceptions: see waivers.yaml.\nwaivers: waivers.yaml\n");
    if found.is_empty() {
        c.push_str(
            "\n# No exports were found in this folder. List them here once they are:\n# inputs:\n#   - path: exports/accounts.csv\n#     kind: accounts\n",
        );
    } else {
        c.push_str("\n# The files konform found here, with what they seem to hold.\ninputs:\n");
    }
    for f in &found {
        let _ = writeln!(c, "  - path: {}", yaml_str(&f.path));
        if let Some(problem) = &f.problem {
            let _ = writeln!(
                c,
                "    # CHECK: konform cannot read this file yet: {}",
                problem.replace('\n', " ")
            );
        }
        match f.kind {
            Some(kind) => {
                let why = if f.kind_from_name {
                    "   # CHECK: told from the file name"
                } else {
                    ""
                };
                let _ = writeln!(c, "    kind: {}{why}", kind.name());
            }
            None => {
                let _ = writeln!(
                    c,
                    "    # kind: accounts          # CHECK: one of {}",
                    detect::KIND_NAMES.join(", ")
                );
            }
        }
        if let Some(d) = f.delimiter {
            let shown = if d == '\t' {
                "\"\\t\"".to_owned()
            } else {
                yaml_str(&d.to_string())
            };
            let _ = writeln!(c, "    delimiter: {shown}");
        }
        if !f.suggested.is_empty() {
            c.push_str(
                "    columns:                  # CHECK: columns that only resemble a known name\n",
            );
            for (column, attr) in &f.suggested {
                let _ = writeln!(c, "      {}: {attr}", yaml_str(column));
            }
        }
        if !f.recognised.is_empty() {
            let list: Vec<String> = f
                .recognised
                .iter()
                .map(|(col, attr)| {
                    if columns::normalize_name(col) == columns::normalize_name(attr) {
                        (*attr).to_owned()
                    } else {
                        format!("{col} → {attr}")
                    }
                })
                .collect();
            wrap_comment(&mut c, "recognised: ", &list.join(", "));
        }
        if !f.unknown.is_empty() {
            wrap_comment(
                &mut c,
                "kept as extra attributes (map them under `columns:`, or `ignore`): ",
                &f.unknown.join(", "),
            );
        }
    }
    let waivers = "# Approved exceptions to konform's findings (see `konform check --help` and the README).\n\
                   # Each waiver needs a reason, who approved it and an expiry date, e.g.:\n\
                   #\n\
                   # waivers:\n\
                   #   - policy: common.generic-account\n\
                   #     subject: beamer1\n\
                   #     reason: the projector account of room 104, replaced in the summer holidays\n\
                   #     approved_by: Data protection officer\n\
                   #     expires: 2027-07-31\n\
                   waivers: []\n"
        .to_owned();
    Proposal {
        found,
        config: c,
        waivers,
    }
}

/// Appends `# {prefix}{text}` wrapped at about 96 characters, indented for an input entry.
fn wrap_comment(out: &mut String, prefix: &str, text: &str) {
    let mut line = format!("    # {prefix}");
    for word in text.split(' ') {
        if line.len() + word.len() > 96 && !line.ends_with("# ") && !line.ends_with(": ") {
            out.push_str(line.trim_end());
            out.push('\n');
            line = "    #   ".to_owned();
        }
        line.push_str(word);
        line.push(' ');
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_are_quoted_when_needed() {
        assert_eq!(yaml_str("exports/konten.csv"), "exports/konten.csv");
        assert_eq!(yaml_str("5012"), "\"5012\"");
        assert_eq!(yaml_str("a: b"), "\"a: b\"");
        assert_eq!(yaml_str(";"), "\";\"");
        assert_eq!(yaml_str("yes"), "\"yes\"");
        assert_eq!(yaml_str("E-Mail"), "E-Mail");
        assert_eq!(yaml_str("Benutzer\"name"), "\"Benutzer\\\"name\"");
    }

    #[test]
    fn a_proposal_for_a_school_folder_is_a_valid_config() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("exports"))?;
        std::fs::write(
            dir.path().join("exports/konten.csv"),
            "Benutzername;Vorname;Nachname;Geburtsdatm;Benutzernme2;Raum\nk.ahrens;Kai;Ahrens;01.02.2010;x;104\n",
        )?;
        std::fs::write(
            dir.path().join("exports/divis-export.csv"),
            "Kennung,Vorname,Nachname\nL1,Kai,Ahrens\n",
        )?;
        std::fs::write(
            dir.path().join("einwilligungen.csv"),
            "Person;Zweck;Datum\nk.ahrens;Videokonferenz;01.09.2025\n",
        )?;
        let p = propose(dir.path(), Some(Profile::Eduport));
        std::fs::write(dir.path().join("waivers.yaml"), &p.waivers)?;
        let kinds: Vec<(&str, Option<RecordKind>)> =
            p.found.iter().map(|f| (f.path.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("einwilligungen.csv", Some(RecordKind::Consent)),
                ("exports/divis-export.csv", Some(RecordKind::Person)),
                ("exports/konten.csv", Some(RecordKind::Account)),
            ]
        );
        let konten = p.found.iter().find(|f| f.path.ends_with("konten.csv"));
        assert_eq!(konten.and_then(|f| f.delimiter), Some(';'));
        assert!(konten.is_some_and(|f| f.unknown == ["Raum", "Benutzernme2"]));
        assert!(konten.is_some_and(|f| f.suggested == [("Geburtsdatm".to_owned(), "birth_date")]));
        assert!(
            p.config.contains("packs: [common, eduport, iserv]"),
            "{}",
            p.config
        );
        let mut sources = SourceMap::new();
        let file = sources.add(crate::source::SourceFile::new(
            "konform.yaml",
            None,
            p.config.clone(),
        ));
        let (config, problems) = crate::config::parse(file, &p.config, dir.path());
        assert!(
            problems.iter().all(|x| !x.is_error()),
            "{problems:?}\n{}",
            p.config
        );
        let config = config.ok_or("no config")?;
        assert_eq!(config.inputs.len(), 3);
        assert_eq!(config.school.country, "DE");
        let waivers = sources.add(crate::source::SourceFile::new(
            "waivers.yaml",
            None,
            p.waivers.clone(),
        ));
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        crate::waiver::parse(waivers, &p.waivers, &mut out, &mut problems);
        assert!(problems.is_empty() && out.is_empty(), "{problems:?}");
        Ok(())
    }

    #[test]
    fn file_names_tell_the_leading_system() {
        assert_eq!(
            kind_by_name("exports/divis-export.csv"),
            Some(RecordKind::Person)
        );
        assert_eq!(kind_by_name("it-inventory.yaml"), Some(RecordKind::System));
        assert_eq!(kind_by_name("konten.csv"), None);
    }
}

//! Properties of any generated account list (CSV with any delimiter, YAML or JSON): the check
//! does not panic, every finding and problem points inside its file and each finding at the
//! record it names, and redacted output in every format holds none of the personal values.

use std::path::Path;

use konform::finding::{Report, Severity};
use konform::render::{self, HumanOptions, RenderContext};
use konform::{CheckOptions, check_outcome, redact};
use proptest::prelude::*;

/// Syllables of invented names: no real person, and no word that output text might contain.
const SYLLABLES: &[&str] = &[
    "zor", "qua", "vel", "xan", "myr", "thu", "brix", "ogg", "yss", "quo",
];
const ROLES: &[&str] = &[
    "Lehrkraft",
    "Schüler",
    "Eltern",
    "Extern",
    "Lehrkraft, Admin",
];
const CATEGORIES: &[&str] = &["", "Lehrkraft", "Honorarkraft", "Verwaltung"];
const ORIGINS: &[&str] = &["DiViS", "manuell"];
const STATES: &[&str] = &["aktiv", "deaktiviert", "zur Löschung freigegeben"];
const DATES: &[&str] = &["", "01.08.2019", "15.07.2026", "01.11.2026", "31.07.2027"];
const USERNAMES: &[&str] = &["lehrer1", "ipad-03", "test", "s12345"];

/// One generated account.
#[derive(Debug, Clone)]
struct Row {
    given: String,
    family: String,
    /// `None`: a username built from the names (personal); else a generic one.
    generic: Option<&'static str>,
    role: &'static str,
    category: &'static str,
    origin: &'static str,
    state: &'static str,
    created: &'static str,
    login: &'static str,
    /// Day, month and year of birth (2008–2013: no other date of the list is in those years).
    birth: Option<(u32, u32, i32)>,
    /// Free text in the remark column: quotes, delimiters, line breaks, escapes.
    remark: String,
}

impl Row {
    fn username(&self) -> String {
        self.generic.map_or_else(
            || format!("{}.{}", self.given, self.family).to_lowercase(),
            str::to_owned,
        )
    }

    fn email(&self) -> String {
        format!("{}@schule.example", self.username())
    }

    fn birth_date(&self) -> String {
        self.birth
            .map(|(d, m, y)| format!("{d:02}.{m:02}.{y}"))
            .unwrap_or_default()
    }

    /// The values redaction must hide: names, the name-built username and e-mail, the birth
    /// date (as written and in ISO form).
    fn personal(&self) -> Vec<String> {
        let mut out = vec![self.given.clone(), self.family.clone()];
        if self.generic.is_none() {
            out.push(self.username());
            out.push(self.email());
        }
        if let Some((d, m, y)) = self.birth {
            out.push(format!("{d:02}.{m:02}.{y}"));
            out.push(format!("{y}-{m:02}-{d:02}"));
        }
        out
    }
}

fn pick<T: Copy>(list: &[T], i: usize) -> T {
    match list.get(i % list.len()) {
        Some(v) => *v,
        None => panic!("empty list"),
    }
}

fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(0..SYLLABLES.len(), 2..4).prop_map(|parts| {
        let word: String = parts.into_iter().map(|i| pick(SYLLABLES, i)).collect();
        let mut chars = word.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    })
}

prop_compose! {
    fn row()(
        given in name(), family in name(), generic in proptest::option::weighted(0.2, 0..USERNAMES.len()),
        role in 0..ROLES.len(), category in 0..CATEGORIES.len(), origin in 0..ORIGINS.len(),
        state in 0..STATES.len(), created in 0..DATES.len(), login in 0..DATES.len(),
        birth in proptest::option::of((1u32..=28, 1u32..=12, 2008i32..=2013)),
        remark in "[a-z;,\"\t \n\u{1b}\\[=+@-]{0,12}",
    ) -> Row {
        Row {
            given, family, generic: generic.map(|i| pick(USERNAMES, i)),
            role: pick(ROLES, role), category: pick(CATEGORIES, category),
            origin: pick(ORIGINS, origin), state: pick(STATES, state),
            created: pick(DATES, created), login: pick(DATES, login), birth, remark,
        }
    }
}

/// A file format for the list.
#[derive(Debug, Clone, Copy)]
enum Format {
    Csv(u8),
    Yaml,
    Json,
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![
        Just(Format::Csv(b';')),
        Just(Format::Csv(b',')),
        Just(Format::Csv(b'\t')),
        Just(Format::Yaml),
        Just(Format::Json),
    ]
}

const COLUMNS: &[&str] = &[
    "Kennung",
    "Benutzername",
    "Vorname",
    "Nachname",
    "E-Mail",
    "Rolle",
    "Personalgruppe",
    "Herkunft",
    "Status",
    "Erstellt",
    "Letzte Anmeldung",
    "Geburtsdatum",
    "Bemerkung",
];

fn cells(i: usize, r: &Row) -> Vec<String> {
    vec![
        format!("K{i}"),
        r.username(),
        r.given.clone(),
        r.family.clone(),
        r.email(),
        r.role.to_owned(),
        r.category.to_owned(),
        r.origin.to_owned(),
        r.state.to_owned(),
        r.created.to_owned(),
        r.login.to_owned(),
        r.birth_date(),
        r.remark.clone(),
    ]
}

/// The list in `format`, with its file name.
fn write_list(rows: &[Row], format: Format) -> (String, Vec<u8>) {
    match format {
        Format::Csv(delimiter) => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(Vec::new());
            let _ = w.write_record(COLUMNS);
            for (i, r) in rows.iter().enumerate() {
                let _ = w.write_record(cells(i, r));
            }
            ("accounts.csv".into(), w.into_inner().unwrap_or_default())
        }
        Format::Yaml | Format::Json => {
            let accounts: Vec<serde_json::Value> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let map: serde_json::Map<String, serde_json::Value> = COLUMNS
                        .iter()
                        .zip(cells(i, r))
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v)))
                        .collect();
                    serde_json::Value::Object(map)
                })
                .collect();
            let doc = serde_json::json!({ "accounts": accounts });
            // JSON is YAML: the YAML file is the JSON text, one account per line.
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&doc).unwrap_or_default(),
                _ => {
                    let lines: Vec<String> = accounts.iter().map(|a| format!("  - {a}")).collect();
                    format!("accounts:\n{}\n", lines.join("\n"))
                }
            };
            let name = match format {
                Format::Json => "accounts.json",
                _ => "accounts.yaml",
            };
            (name.into(), text.into_bytes())
        }
    }
}

fn check_list(dir: &Path) -> Report {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    let mut options = CheckOptions::new(Vec::new(), today);
    options.cwd = dir.to_path_buf();
    check_outcome(&options).report
}

/// Every output format, rendered from `report`.
fn every_output(report: &Report) -> Vec<(&'static str, String)> {
    let ctx = RenderContext::default();
    let human = HumanOptions::default();
    let sanitized = redact::sanitize(report);
    vec![
        ("human", render::human(&sanitized, &human)),
        (
            "plain",
            render::human(
                &sanitized,
                &HumanOptions {
                    graphics: false,
                    ..human
                },
            ),
        ),
        ("json", render::json(report, Severity::Error)),
        ("sarif", render::sarif::sarif(report, &ctx)),
        ("junit", render::junit::junit(report, &ctx)),
        ("github", render::github::github(report, &ctx)),
        ("markdown", render::markdown::markdown(report, &ctx)),
        ("gitlab", render::gitlab::gitlab(report, &ctx)),
        ("csv", render::csv::csv(report, &ctx)),
        ("html", render::html::html(report, &ctx)),
    ]
}

/// A streamed list converted a few rows at a time: the rows around a lone finding are
/// converted again at the end to note their personal data, whichever chunks they fall in, and
/// no redacted output shows a name.
#[test]
fn streamed_rows_around_a_lone_finding_stay_masked_in_any_chunking()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let (csv, names) = crate::privacy::named_accounts(40, 20);
    std::fs::write(dir.path().join("accounts.csv"), csv)?;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    for chunk_rows in [1, 2, 3, 5, 19, 20, 21] {
        let mut options = CheckOptions::new(vec!["accounts.csv".into()], today);
        options.cwd = dir.path().to_path_buf();
        options.stream_chunk_rows = Some(chunk_rows);
        let report = redact::redact(&check_outcome(&options).report);
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        for (format, text) in every_output(&report) {
            let lower = text.to_lowercase();
            let leaked: Vec<&String> = names
                .iter()
                .filter(|n| lower.contains(&n.to_lowercase()))
                .collect();
            assert!(
                leaked.is_empty(),
                "{format} in chunks of {chunk_rows} rows leaks {leaked:?}:\n{text}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_list_is_checked_with_spans_on_the_right_record_and_redacted_completely(
        rows in proptest::collection::vec(row(), 1..40),
        format in format(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (name, bytes) = write_list(&rows, format);
        std::fs::write(dir.path().join(&name), bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        std::fs::write(
            dir.path().join("konform.yaml"),
            format!("school: {{ id: \"1\", country: DE, state: HH }}\npacks: [common, eduport, iserv]\ninputs:\n  - path: {name}\n    kind: accounts\n"),
        ).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let report = check_list(dir.path());
        prop_assert!(!report.has_errors(), "{:?}", report.problems);

        // Spans lie inside their files; a finding on one record points into that record,
        // whose key cell is the finding's subject.
        for p in &report.problems {
            for l in &p.labels {
                let Some(file) = p.file else { continue };
                // Held (a streamed list keeps the lines it shows) and on character boundaries.
                let file = report.sources.get(file);
                prop_assert!(l.span.end() <= file.len() && file.get(l.span.offset, l.span.end()).is_some());
            }
        }
        let mut generic_found = false;
        for f in &report.findings {
            let file = report.sources.get(f.file);
            for span in [f.span, f.record_span] {
                prop_assert!(span.end() <= file.len(), "{} out of the file", f.policy);
                prop_assert!(file.get(span.offset, span.end()).is_some(), "{}: span not held or inside a character", f.policy);
            }
            if f.related.is_empty() {
                prop_assert!(f.record_span.contains(f.span), "{}: span outside its record", f.policy);
                let record = file.slice(f.record_span);
                prop_assert!(
                    record.contains(f.subject.as_str()),
                    "{}: record {:?} is not `{}`", f.policy, record, f.subject
                );
                let key_index: usize = f.subject.trim_start_matches('K').parse().unwrap_or(usize::MAX);
                let row = rows.get(key_index);
                prop_assert!(row.is_some(), "{}: subject `{}` is no generated key", f.policy, f.subject);
                if f.policy == "common.generic-account" {
                    generic_found = true;
                    prop_assert!(row.is_some_and(|r| r.generic.is_some()), "generic finding on a personal username");
                }
            } else {
                for r in &f.related {
                    let file = report.sources.get(r.file);
                    prop_assert!(r.span.end() <= file.len() && file.get(r.span.offset, r.span.end()).is_some());
                }
            }
        }
        if rows.iter().any(|r| r.generic.is_some_and(|g| g != "s12345") && r.state == "aktiv") {
            prop_assert!(generic_found, "a generic username was not found");
        }

        // Redacted, no output holds a personal value; unredacted, the names are there (so
        // the check above is not vacuous).
        let personal: Vec<String> = rows.iter().flat_map(Row::personal).collect();
        let redacted = redact::redact(&report);
        for (format, text) in every_output(&redacted) {
            let lower = text.to_lowercase();
            for value in &personal {
                prop_assert!(
                    !lower.contains(&value.to_lowercase()),
                    "{} leaks `{}`:\n{}", format, value, text
                );
            }
        }
        // In CSV a finding's snippet shows its whole row, names included (a YAML or JSON
        // record spans several lines, and the snippet may show only some of them).
        if matches!(format, Format::Csv(_)) && !report.findings.is_empty() {
            let plain = render::human(&report, &HumanOptions::default());
            let shown = rows.iter().any(|r| plain.contains(&r.given) || plain.contains(&r.family) || plain.contains(&r.username()));
            prop_assert!(shown, "unredacted output shows no generated value");
        }
    }
}

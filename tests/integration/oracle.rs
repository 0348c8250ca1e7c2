//! The projection cache is exact: on every example and on generated account lists, the
//! findings are those of evaluating every record on its own (the oracle).

use std::path::{Path, PathBuf};

use konform::{CheckOptions, check_outcome};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Findings as comparable tuples (policy, subject, file, offset, message), in report order.
fn findings(
    cwd: &Path,
    paths: Vec<PathBuf>,
    no_cache: bool,
) -> Vec<(String, String, String, usize, String)> {
    findings_in_chunks(cwd, paths, no_cache, None)
}

/// Like [`findings`]; streamed CSV inputs converted `chunk_rows` rows at a time (crossing many
/// windows of a small file).
fn findings_in_chunks(
    cwd: &Path,
    paths: Vec<PathBuf>,
    no_cache: bool,
    chunk_rows: Option<usize>,
) -> Vec<(String, String, String, usize, String)> {
    let report = report_of(cwd, paths, no_cache, chunk_rows);
    assert!(!report.has_errors(), "{:?}", report.problems);
    finding_tuples(&report)
}

/// The report of checking `paths` (or what `cwd`'s konform.yaml names) on 22 November 2026.
fn report_of(
    cwd: &Path,
    paths: Vec<PathBuf>,
    no_cache: bool,
    chunk_rows: Option<usize>,
) -> konform::finding::Report {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    let mut options = CheckOptions::new(paths, today);
    options.cwd = cwd.to_path_buf();
    options.no_cache = no_cache;
    options.stream_chunk_rows = chunk_rows;
    check_outcome(&options).report
}

/// The findings of `report` as comparable tuples (policy, subject, file, offset, message).
fn finding_tuples(
    report: &konform::finding::Report,
) -> Vec<(String, String, String, usize, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.policy.clone(),
                f.subject.clone(),
                report.sources.get(f.file).name.clone(),
                f.span.offset,
                f.message.clone(),
            )
        })
        .collect()
}

#[test]
fn examples_agree_with_the_oracle() {
    for example in [
        "hamburg-gymnasium",
        "aula-skole",
        "skolverket-gymnasium",
        "nrw-it-inventory",
        "clean-school",
        "change-review",
    ] {
        let dir = root().join("examples").join(example);
        let fast = findings(&dir, Vec::new(), false);
        let oracle = findings(&dir, Vec::new(), true);
        assert_eq!(fast, oracle, "{example}");
    }
}

const USERNAMES: &[&str] = &[
    "lehrer1",
    "ipad-03",
    "anna.berg",
    "s12345",
    "test",
    "jonas.k",
    "86095742719",
];
const ROLES: &[&str] = &[
    "Lehrkraft",
    "Schüler",
    "Eltern",
    "Extern",
    "Mitarbeiter",
    "Lehrkraft, Admin",
];
const CATEGORIES: &[&str] = &[
    "",
    "Lehrkraft",
    "Honorarkraft",
    "Verwaltung",
    "PTF",
    "Sozialpädagoge",
];
const ORIGINS: &[&str] = &["DiViS", "manuell"];
const STATES: &[&str] = &["aktiv", "deaktiviert", "zur Löschung freigegeben"];
/// Dates on and around the days the default packs compare with, counted back from the day
/// checked (22 November 2026): 0 (an end date passed), 60 (deletion grace), 90 (never used),
/// 365 (inactive). Records a day apart must not share a decision when a comparison tells them
/// apart (the projection keeps where a number falls among the constants it is compared with).
const DATES: &[&str] = &[
    "",
    "01.08.2019",
    "15.07.2026",
    "01.11.2026",
    "21.11.2026",
    "31.07.2027",
    "22.11.2026",
    "23.11.2026",
    "24.09.2026",
    "23.09.2026",
    "22.09.2026",
    "25.08.2026",
    "24.08.2026",
    "23.08.2026",
    "23.11.2025",
    "22.11.2025",
    "21.11.2025",
];
const BIRTHS: &[&str] = &["", "01.01.2012", "03.05.2013", "17.09.1980"];
/// Accounts alike but for one date, a day apart around each number the default packs compare
/// days with (0, 60, 90, 365 days before the day checked), in ascending and then descending
/// order, so that whichever is decided first would lend its decision to its neighbour if the
/// projection kept too little of the days. Each state, because the rules on end dates apply
/// to accounts pending deletion.
#[test]
fn dates_a_day_apart_around_each_comparison_agree_with_the_oracle() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    let mut days: Vec<i64> = [0i64, 60, 90, 365]
        .iter()
        .flat_map(|c| [c - 1, *c, c + 1])
        .collect();
    let descending: Vec<i64> = days.iter().rev().copied().collect();
    days.extend(descending);
    let date = |d: i64| {
        (today - chrono::Duration::days(d))
            .format("%d.%m.%Y")
            .to_string()
    };
    let mut csv = String::from(
        "Kennung;Benutzername;Rolle;Herkunft;Status;Erstellt;Letzte Anmeldung;Gültig bis;Vorname;Nachname;Geburtsdatum\n",
    );
    let mut i = 0;
    for state in STATES {
        for column in 0..3 {
            for d in &days {
                // The other dates stay where no rule fires on them.
                let mut dates = [date(30), date(10), String::new()];
                if let Some(slot) = dates.get_mut(column) {
                    *slot = date(*d);
                }
                let [created, login, until] = dates;
                csv.push_str(&format!("K{i};konto{i};Schüler;DiViS;{state};{created};{login};{until};Ada;Nachname{i};01.01.2012\n"));
                i += 1;
            }
        }
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("accounts.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("konform.yaml"),
        "school: { id: \"1\", country: DE, state: HH }\npacks: [common, eduport]\ninputs:\n  - { path: accounts.csv, kind: accounts }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let oracle = findings(dir.path(), Vec::new(), true);
    // The comparisons tell neighbours apart: 366 days without a login is inactive, 365 not.
    let inactive: Vec<&str> = oracle
        .iter()
        .filter(|f| f.0 == "common.inactive-account")
        .map(|f| f.4.as_str())
        .collect();
    assert!(
        inactive.iter().any(|m| m.contains("366 days")),
        "{inactive:?}"
    );
    assert!(
        !inactive.iter().any(|m| m.contains("365 days")),
        "{inactive:?}"
    );
    for chunk_rows in [None, Some(1), Some(5)] {
        assert_eq!(
            findings_in_chunks(dir.path(), Vec::new(), false, chunk_rows),
            oracle
        );
    }
}

/// Account lists are decided in their first pass once every other input is read, their
/// identities counted as unshared until all are: the accounts of one person in two lists (and
/// twice in one), a list without a login column and one whose login column stays empty (its
/// records are decided anew: logins were guessed recorded), with a consent register and a
/// leading system's export read after them, find what the oracle finds.
#[test]
fn account_lists_decided_before_every_identity_is_counted_agree_with_the_oracle() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    write(
        "a.csv",
        "Kennung;Benutzername;Rolle;Herkunft;Status;Erstellt;Vorname;Nachname;Geburtsdatum\n\
         A1;mira.sandvik;Schüler;DiViS;aktiv;01.08.2020;Mira;Sandvik;03.05.2013\n\
         A2;lehrer1;Lehrkraft;manuell;aktiv;01.08.2020;Ole;Berg;01.01.1980\n\
         A3;ole.orsted;Schüler;DiViS;aktiv;01.08.2020;Ole;Ørsted;04.06.2012\n\
         A4;ole.orsted2;Schüler;DiViS;aktiv;01.08.2020;OLE;Ørsted;04.06.2012\n",
    );
    write(
        "b.csv",
        "Kennung;Benutzername;Rolle;Herkunft;Status;Erstellt;Letzte Anmeldung;Vorname;Nachname;Geburtsdatum\n\
         B1;mira.s;Schüler;DiViS;aktiv;01.08.2020;;Mira;Sandvik;03.05.2013\n\
         B2;ada.lind;Schüler;DiViS;aktiv;01.08.2020;;Ada;Lind;02.02.2014\n\
         B3;kim.berg;Lehrkraft;DiViS;aktiv;01.01.2019;;Kim;Berg;01.01.1985\n",
    );
    write(
        "consents.csv",
        "Person;Zweck;Erteilt von;Datum;Formular\nA1;videokonferenz;Erziehungsberechtigte;01.09.2025;VK-1\nB2;videokonferenz;selbst;01.09.2025;VK-2\n",
    );
    write(
        "divis.csv",
        "Kennung;Vorname;Nachname;Personalgruppe\nA1;Mira;Sandvik;Schüler\nX1;Erika;Muster;Lehrkraft\n",
    );
    write(
        "iserv.yaml",
        "platform: iserv\nmodules:\n  videoconference: { enabled: true, allowed_roles: [student, teacher], recording: false }\n",
    );
    write(
        "konform.yaml",
        "school: { id: \"1\", country: DE, state: HH }\npacks: [common, eduport, iserv]\ninputs:\n  - { path: a.csv, kind: accounts }\n  - { path: b.csv, kind: accounts }\n  - { path: consents.csv, kind: consents }\n  - { path: divis.csv, kind: people }\n  - path: iserv.yaml\n",
    );
    let oracle = findings(dir.path(), Vec::new(), true);
    let duplicates: Vec<&str> = oracle
        .iter()
        .filter(|f| f.0 == "common.duplicate-identity")
        .map(|f| f.1.as_str())
        .collect();
    assert_eq!(duplicates, ["A1", "A3", "A4", "B1"], "{oracle:?}");
    assert!(
        oracle
            .iter()
            .any(|f| f.0 == "common.generic-account" && f.1 == "A2"),
        "{oracle:?}"
    );
    assert!(
        oracle
            .iter()
            .any(|f| f.0 == "eduport.missing-account" && f.1 == "X1"),
        "{oracle:?}"
    );
    assert!(
        oracle
            .iter()
            .any(|f| f.0 == "iserv.videoconference-without-consent"),
        "{oracle:?}"
    );
    for chunk_rows in [None, Some(1), Some(2)] {
        assert_eq!(
            findings_in_chunks(dir.path(), Vec::new(), false, chunk_rows),
            oracle
        );
    }
}

/// A problem as a comparable tuple: code, message, file, offset and text of each label.
type ProblemTuple = (String, String, Option<String>, Vec<(usize, String)>);

/// Findings and problems of a check.
type Checked = (
    Vec<(String, String, String, usize, String)>,
    Vec<ProblemTuple>,
);

fn checked(cwd: &Path, no_cache: bool, chunk_rows: Option<usize>) -> Checked {
    let report = report_of(cwd, Vec::new(), no_cache, chunk_rows);
    let mut problems: Vec<ProblemTuple> = report
        .problems
        .iter()
        .map(|p| {
            let labels = p
                .labels
                .iter()
                .map(|l| (l.span.offset, l.text.clone()))
                .collect();
            let file = p.file.map(|f| report.sources.get(f).name.clone());
            (p.code.clone(), p.message.clone(), file, labels)
        })
        .collect();
    problems.sort();
    (finding_tuples(&report), problems)
}

/// Writes into `dir` the configuration of a Hamburg school checking `accounts.csv` and
/// `consents.csv` (not written) with a video-conference module open to students and teachers.
fn write_school(dir: &Path) {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    write(
        "iserv.yaml",
        "platform: iserv\nmodules:\n  videoconference: { enabled: true, allowed_roles: [student, teacher], recording: false }\n",
    );
    write(
        "konform.yaml",
        "school: { id: \"1\", country: DE, state: HH }\npacks: [common, eduport, iserv]\ninputs:\n  - { path: accounts.csv, kind: accounts }\n  - { path: consents.csv, kind: consents }\n  - path: iserv.yaml\n",
    );
}

/// The subjects of the findings of `policy` in `checked`, in report order.
fn subjects<'c>(checked: &'c Checked, policy: &str) -> Vec<&'c str> {
    checked
        .0
        .iter()
        .filter(|f| f.0 == policy)
        .map(|f| f.1.as_str())
        .collect()
}

/// A consent register's rows are noted and decided from their cells when nothing else is read
/// of them (see `konform::cells`); every row that could not be (blank, broken, keyless, with
/// a bad date, incomplete, quoted, padded) gives the findings and problems it gives the
/// oracle, and the register the accounts are checked against is the same.
#[test]
fn consent_registers_noted_from_their_cells_agree_with_the_oracle() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    let mut accounts = String::from(
        "Kennung;Benutzername;Rolle;Herkunft;Status;Erstellt;Vorname;Nachname;Geburtsdatum\n",
    );
    for i in 1..=12 {
        accounts.push_str(&format!(
            "P{i};kind.{i};Schüler;DiViS;aktiv;01.08.2020;Kim{i};Lind;03.05.2013\n"
        ));
    }
    write("accounts.csv", &accounts);
    let register = "Person;Zweck;Erteilt von;Datum;Widerrufen;Formular\n\
         P1;videokonferenz;Erziehungsberechtigte;01.09.2025;;VK-1\n\
         P2;videokonferenz;Erziehungsberechtigte;01.09.2025;;\n\
         P3;videokonferenz;;01.09.2025;;VK-3\n\
         ;;;;;\n\
         \n\
         \"P7\";\"videokonferenz\";\"Erziehungsberechtigte\";\"01.09.2025\";\"\";\"VK-7\"\n\
         \x20 P8 ; videokonferenz ; Erziehungsberechtigte ; 01.09.2025 ; nie ; VK-8 \n\
         P9;videokonferenz;Erziehungsberechtigte;2025-09-01;01.10.2026;VK-9\n\
         P10;videokonferenz;selbst;01.09.2025;;VK-10\n\
         P11;Videokonferenz;Erziehungsberechtigte;01.09.2025;;VK-11\r\n\
         P12;videokonferenz;Erziehungsberechtigte;01.09.2025;;VK-12\n";
    write("consents.csv", register);
    write_school(dir.path());
    let oracle = checked(dir.path(), true, None);
    assert!(oracle.1.is_empty(), "{:?}", oracle.1);
    let policies = |name: &str| subjects(&oracle, name);
    // The register's own rule, on the incomplete entries.
    assert_eq!(
        policies("iserv.consent-evidence-incomplete"),
        ["P2", "P3"],
        "{oracle:?}"
    );
    // Accounts without a guardian's consent in force: no entry (P4, P5, P6), none from a
    // guardian (P3, P10); the entries noted from their cells count (P1, P7, P8, P11, P12),
    // and so does a withdrawal (P9).
    assert_eq!(policies("iserv.consent-withdrawn-access"), ["P9"]);
    let missing = policies("iserv.videoconference-without-consent");
    assert_eq!(missing, ["P3", "P4", "P5", "P6", "P10"]);
    for key in ["P3", "P4", "P5", "P6", "P10"] {
        assert!(missing.contains(&key), "{key}: {oracle:?}");
    }
    for key in ["P1", "P7", "P8", "P11", "P12"] {
        assert!(!missing.contains(&key), "{key}: {oracle:?}");
    }
    for chunk_rows in [None, Some(1), Some(3)] {
        assert_eq!(
            checked(dir.path(), false, chunk_rows),
            oracle,
            "{chunk_rows:?}"
        );
    }

    // Rows that are no records: their problems are those of the oracle.
    write(
        "consents.csv",
        &format!(
            "{register}\
             ;videokonferenz;Erziehungsberechtigte;01.09.2025;;VK-4\n\
             P5;videokonferenz;Erziehungsberechtigte;31.02.2025;;VK-5\n\
             P6;videokonferenz;Erziehungsberechtigte\n"
        ),
    );
    let oracle = checked(dir.path(), true, None);
    let codes: Vec<&str> = oracle.1.iter().map(|p| p.0.as_str()).collect();
    for code in [
        "konform::input::missing-key",
        "konform::input::bad-date",
        "konform::input::field-count",
    ] {
        assert!(codes.contains(&code), "{code}: {:?}", oracle.1);
    }
    for chunk_rows in [None, Some(1), Some(3)] {
        assert_eq!(
            checked(dir.path(), false, chunk_rows),
            oracle,
            "{chunk_rows:?}"
        );
    }
}

/// An account list decided in its first pass is read from its cells (see `konform::cells`):
/// rows whose projection was decided clean are noted without a record. Whatever the rows
/// (clean ones that share a projection, the same person twice among them, a password, a
/// special-category column, a teacher without consent, generic and contract-worker accounts,
/// rows that are no records), the findings and problems are the oracle's, in every chunking;
/// and so they are when the login column stays empty (the list is then decided anew) and
/// when a key repeats.
#[test]
fn account_lists_read_from_their_cells_agree_with_the_oracle() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    let header = "Kennung;Benutzername;Vorname;Nachname;E-Mail;Rolle;Personalgruppe;Herkunft;Status;Geburtsdatum;Erstellt am;Letzte Anmeldung;Passwort;Religion\n";
    let mut consents = String::from("Person;Zweck;Erteilt von;Datum;Formular\n");
    let mut rows = String::new();
    for i in 0..40 {
        // Students of two birth years, most with a guardian's consent: a few projections.
        let year = 2012 + i % 2;
        rows.push_str(&format!(
            "S{i};kim.lind{i};Kim{i};Lind;kim.lind{i}@schule.example;Schüler;;DiViS;aktiv;03.05.{year};01.08.2020;20.11.2026;;\n"
        ));
        if i % 7 != 3 {
            consents.push_str(&format!(
                "S{i};videokonferenz;Erziehungsberechtigte;01.09.2025;VK-{i}\n"
            ));
        }
    }
    // The same person twice, in rows like the clean ones: both are found.
    for key in ["D1", "D2"] {
        rows.push_str(&format!(
            "{key};{key};Ole;Ørsted;{key}@schule.example;Schüler;;DiViS;aktiv;04.06.2012;01.08.2020;20.11.2026;;\n"
        ));
        consents.push_str(&format!(
            "{key};videokonferenz;Erziehungsberechtigte;01.09.2025;VK-{key}\n"
        ));
    }
    rows.push_str(
        "T1;tom.berg;Tom;Berg;tom.berg@schule.example;Lehrkraft;Lehrkraft;DiViS;aktiv;01.01.1980;01.08.2020;20.11.2026;;\n\
         T2;lehrer1;Lehrer;Eins;;Lehrkraft;Lehrkraft;manuell;aktiv;;01.08.2020;20.11.2026;;\n\
         T3;hana.fiel;Hana;Fiel;;Lehrkraft;Honorarkraft;DiViS;aktiv;02.02.1975;01.08.2020;20.11.2026;;\n\
         S90;pia.sand;Pia;Sand;;Schüler;;DiViS;aktiv;03.05.2012;01.08.2020;20.11.2026;Geheim1!;\n\
         S91;eva.holm;Eva;Holm;;Schüler;;DiViS;aktiv;03.05.2012;01.08.2020;20.11.2026;;ev.\n\
         S92;\"jan;dahl\";Jan; Dahl ;;\"Schüler\";;DiViS;aktiv;03.05.2012;01.08.2020;20.11.2026;;\r\n\
         S93;alt.konto;Alt;Konto;;Schüler;;DiViS;inaktiv;03.05.2013;01.08.2020;01.01.2024;;\n",
    );
    for i in [1, 2, 90, 91, 92, 93] {
        consents.push_str(&format!(
            "S{i};videokonferenz;Erziehungsberechtigte;01.09.2025;VK-x{i}\n"
        ));
    }
    write("consents.csv", &consents);
    write_school(dir.path());
    let agree = |accounts: &str| -> Checked {
        write("accounts.csv", accounts);
        let oracle = checked(dir.path(), true, None);
        for chunk_rows in [None, Some(1), Some(3), Some(7)] {
            assert_eq!(
                checked(dir.path(), false, chunk_rows),
                oracle,
                "{chunk_rows:?}"
            );
        }
        oracle
    };
    let oracle = agree(&format!("{header}{rows}"));
    assert!(oracle.1.is_empty(), "{:?}", oracle.1);
    let found = |policy: &str| subjects(&oracle, policy);
    assert_eq!(
        found("common.duplicate-identity"),
        ["D1", "D2"],
        "{oracle:?}"
    );
    assert_eq!(found("common.generic-account"), ["T2"]);
    assert_eq!(found("eduport.contract-worker-account"), ["T3"]);
    assert_eq!(found("common.plaintext-password"), ["S90"]);
    assert_eq!(found("common.special-category-data"), ["S91"]);
    assert_eq!(
        found("iserv.videoconference-without-consent"),
        ["S3", "S10", "S17", "S24", "S31", "S38", "T1", "T2", "T3"]
    );
    // Rows that are no records, then a key twice.
    agree(&format!(
        "{header}{rows}\
         ;;Ohne;Schlüssel;;Schüler;;DiViS;aktiv;;;;;\n\
         S94;bad.date;Bad;Date;;Schüler;;DiViS;aktiv;31.02.2012;01.08.2020;;;\n\
         S95;kurz;Kurz\n\
         \n"
    ));
    let problems = agree(&format!(
        "{header}{rows}S5;kim.again;Kim;Again;;Schüler;;DiViS;aktiv;03.05.2012;01.08.2020;20.11.2026;;\n"
    ))
    .1;
    assert!(
        problems
            .iter()
            .any(|p| p.0 == "konform::input::duplicate-key"),
        "{problems:?}"
    );
    // No login recorded in a login column: decided anew.
    // (The logins are the only cells with these dates.)
    let empty_logins = rows
        .replace(";20.11.2026;", ";;")
        .replace(";01.01.2024;", ";;");
    let oracle = agree(&format!("{header}{empty_logins}"));
    assert!(oracle.0.iter().all(|f| f.0 != "common.inactive-account"));
}

/// Few names: the same person (name and birth date) has several accounts.
const GIVEN: &[&str] = &["", "Mira", "Ole"];
const FAMILY: &[&str] = &["Sandvik", "Ørsted"];

prop_compose! {
    fn row()(
        user in 0..USERNAMES.len(), role in 0..ROLES.len(), category in 0..CATEGORIES.len(),
        origin in 0..ORIGINS.len(), state in 0..STATES.len(), created in 0..DATES.len(),
        login in 0..DATES.len(), until in 0..DATES.len(), birth in 0..BIRTHS.len(),
        password in any::<bool>(), reason in any::<bool>(),
        given in 0..GIVEN.len(), family in 0..FAMILY.len(),
    ) -> String {
        let pick = |list: &[&str], i: usize| list.get(i).copied().unwrap_or_default().to_owned();
        format!(
            "{};{};{};{};{};{};{};{};{};{};{};{};{}",
            pick(USERNAMES, user), pick(ROLES, role), pick(CATEGORIES, category),
            pick(ORIGINS, origin), pick(STATES, state), pick(DATES, created), pick(DATES, login),
            pick(DATES, until), pick(BIRTHS, birth),
            if password { "Geheim1!" } else { "" },
            if reason { "Vertretung" } else { "" },
            pick(GIVEN, given), pick(FAMILY, family),
        )
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The oracle reads every input whole and evaluates every record on its own; the fast path
    /// streams the account list (in chunks of a few rows, so that duplicates, consents and the
    /// DiViS look-ups cross windows) and reuses decisions. With a `Kinder` column, guardians
    /// link to accounts and the list is read whole after the first pass.
    #[test]
    fn generated_lists_agree_with_the_oracle(
        rows in proptest::collection::vec(row(), 1..120),
        chunk_rows in 1usize..8,
        children in any::<bool>(),
        in_divis in proptest::collection::vec(any::<bool>(), 120),
        // Without the DiViS export, no record looks the accounts' keys up (their hashes are
        // dropped before the second pass).
        with_divis in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut csv = String::from("Kennung;Benutzername;Rolle;Personalgruppe;Herkunft;Status;Erstellt;Letzte Anmeldung;Gültig bis;Geburtsdatum;Passwort;Anlagegrund;Vorname;Nachname");
        csv.push_str(if children { ";Kinder\n" } else { "\n" });
        let mut divis = String::from("Kennung;Vorname;Nachname;Personalgruppe\n");
        let mut consents = String::from("Person;Zweck;Erteilt von;Datum;Widerrufen;Formular\n");
        for (i, row) in rows.iter().enumerate() {
            // Usernames repeat across rows; keys stay unique.
            csv.push_str(&format!("K{i};{row}"));
            if children {
                csv.push_str(if i % 3 == 0 { ";K1\n" } else { ";\n" });
            } else {
                csv.push('\n');
            }
            if in_divis.get(i).copied().unwrap_or(false) {
                divis.push_str(&format!("K{i};Vorname{i};Nachname{i};Lehrkraft\n"));
            }
            if i % 2 == 0 {
                let by = if i % 4 == 0 { "Erziehungsberechtigte" } else { "selbst" };
                let withdrawn = if i % 6 == 0 { "01.10.2026" } else { "" };
                // Every other entry lacks its form: the consent records' own rule (decided in
                // the first pass over them) finds some and passes others.
                let form = if i % 4 == 2 { "" } else { "VK" };
                consents.push_str(&format!("K{i};videokonferenz;{by};01.09.2025;{withdrawn};{form}\n"));
            }
        }
        // Two active accounts of one person (a third of the generated rows may be more).
        for key in ["D1", "D2"] {
            csv.push_str(&format!("{key};{key};Schüler;;DiViS;aktiv;01.08.2019;01.11.2026;;03.05.2013;;;Ole;Ørsted{}\n", if children { ";" } else { "" }));
        }
        // People DiViS knows without an account.
        divis.push_str("X1;Erika;Muster;Lehrkraft\n");
        std::fs::write(dir.path().join("accounts.csv"), csv).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if with_divis {
            std::fs::write(dir.path().join("divis.csv"), divis).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        std::fs::write(dir.path().join("consents.csv"), consents).map_err(|e| TestCaseError::fail(e.to_string()))?;
        std::fs::write(
            dir.path().join("konform.yaml"),
            format!(
                "school: {{ id: \"1\", country: DE, state: HH }}\npacks: [common, eduport, iserv]\ninputs:\n  - {{ path: accounts.csv, kind: accounts }}\n{}  - {{ path: consents.csv, kind: consents }}\n",
                if with_divis { "  - { path: divis.csv, kind: people }\n" } else { "" }
            ),
        ).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let fast = findings_in_chunks(dir.path(), Vec::new(), false, Some(chunk_rows));
        let oracle = findings(dir.path(), Vec::new(), true);
        if rows.iter().any(|r| r.starts_with("lehrer1;")) {
            prop_assert!(oracle.iter().any(|f| f.0 == "common.generic-account"), "the oracle found nothing");
        }
        prop_assert_eq!(
            oracle.iter().any(|f| f.0 == "eduport.missing-account" && f.1 == "X1"),
            with_divis,
            "the DiViS look-up: {:?}",
            oracle
        );
        prop_assert!(oracle.iter().any(|f| f.0 == "common.duplicate-identity" && f.1 == "D1"), "no duplicate found: {:?}", oracle);
        if rows.len() > 2 {
            prop_assert!(oracle.iter().any(|f| f.0 == "iserv.consent-evidence-incomplete"), "no incomplete consent found: {:?}", oracle);
        }
        prop_assert_eq!(fast, oracle);
    }
}

//! Privacy: redacted output of every format holds none of the personal data of the fixtures,
//! keeps what makes findings traceable, and is the default where output lands in shared logs.
//! Input data cannot send control sequences to a terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;

/// Every output format of `konform check`.
const FORMATS: &[&str] = &[
    "human", "plain", "json", "github", "markdown", "csv", "sarif", "junit", "gitlab", "html",
];

/// Personal data in `tests/fixtures/privacy` (invented people): names, e-mail addresses,
/// usernames built from names, birth dates in the file's and in ISO form, a personnummer, phone
/// numbers and passwords.
const PERSONAL: &[&str] = &[
    "Zacharias",
    "Quendolin",
    "Mirabel",
    "Oxhoft",
    "Yrsa",
    "Lindqvarn",
    "Ottilie",
    "Brandvogt",
    "Friedhelm",
    "Saalbach",
    "Quirin",
    "Haselmaus",
    "m.oxhoft",
    "03.05.2012",
    "2012-05-03",
    "14.09.2011",
    "2011-09-14",
    "18.12.1981",
    "811218-9876",
    "1234567",
    "7654321",
    "5550199",
    "Geheim123!",
    "Sommer2026",
    "31.02.2012",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn konform(args: &[&str]) -> Command {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(root())
        .env("COLUMNS", "100")
        .env("SOURCE_DATE_EPOCH", "1795305600")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .args(["check", "tests/fixtures/privacy", "--today", "2026-11-22"])
        .args(["--color", "never"])
        .args(args);
    c
}

fn output(mut cmd: Command) -> (i32, String) {
    match cmd.output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

fn leaks(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    PERSONAL
        .iter()
        .copied()
        .filter(|p| lower.contains(&p.to_lowercase()))
        .collect()
}

#[test]
fn unredacted_output_does_show_the_fixture_data() {
    // Otherwise the test below could pass because the fixtures are not read at all.
    let (code, text) = output(konform(&["--format", "plain", "--no-redact"]));
    assert_eq!(code, 2, "the bad date makes the run incomplete");
    for name in ["zacharias.quendolin", "Haselmaus", "811218-9876"] {
        assert!(
            text.contains(name),
            "{name} missing from unredacted output:\n{text}"
        );
    }
}

#[test]
fn redacted_output_holds_no_personal_data_in_any_format() {
    for format in FORMATS {
        let (code, text) = output(konform(&["--format", format, "--redact"]));
        assert_eq!(code, 2, "{format}: exit code");
        assert_eq!(leaks(&text), Vec::<&str>::new(), "{format} leaks:\n{text}");
        // Traceable: record keys that are codes, rows and the generic username stay.
        for kept in ["P2", "P5", "lehrer1", "accounts.csv"] {
            assert!(text.contains(kept), "{format} lost `{kept}`:\n{text}");
        }
        // The bad date is reported, not hidden.
        assert!(text.contains("bad-dates.csv"), "{format} lost the problem");
    }
}

#[test]
fn ci_and_machine_formats_redact_by_default() {
    for format in ["json", "sarif", "junit", "github", "gitlab"] {
        let (_, text) = output(konform(&["--format", format]));
        assert_eq!(
            leaks(&text),
            Vec::<&str>::new(),
            "{format} leaks by default"
        );
    }
    for format in FORMATS {
        let mut cmd = konform(&["--format", format]);
        cmd.env("CI", "true");
        let (_, text) = output(cmd);
        assert_eq!(
            leaks(&text),
            Vec::<&str>::new(),
            "{format} leaks with CI=true"
        );
    }
    // People at a terminal see what they are fixing, unless they ask otherwise.
    let (_, text) = output(konform(&["--format", "human"]));
    assert!(text.contains("zacharias.quendolin"));
    let mut cmd = konform(&["--format", "plain", "--no-redact"]);
    cmd.env("CI", "true");
    assert!(output(cmd).1.contains("zacharias.quendolin"));
}

#[test]
fn report_files_are_redacted_per_format() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let csv = dir.path().join("report.csv");
    let (_, stdout) = output(konform(&[
        "--output",
        &format!("json={}", json.display()),
        "--output",
        &format!("csv={}", csv.display()),
    ]));
    // Human on the terminal: shown; JSON file: masked by default; CSV file: shown.
    assert!(stdout.contains("zacharias.quendolin"));
    assert_eq!(leaks(&std::fs::read_to_string(&json)?), Vec::<&str>::new());
    let csv = std::fs::read_to_string(&csv)?;
    assert!(
        csv.contains("P1") && csv.contains("common.plaintext-password"),
        "{csv}"
    );
    Ok(())
}

#[test]
fn passwords_are_never_shown() {
    for redact in ["--redact", "--no-redact"] {
        for format in FORMATS {
            let (_, text) = output(konform(&["--format", format, redact]));
            assert!(
                !text.contains("Geheim123!"),
                "{format} {redact} shows the password"
            );
        }
    }
}

#[test]
fn terminal_escapes_from_input_are_neutralised() {
    let fixture = Path::new("tests/fixtures/terminal-escapes");
    for format in ["human", "plain", "github", "markdown", "csv"] {
        let mut c = Command::new(get_cargo_bin("konform"));
        c.current_dir(root())
            .env_remove("CI")
            .arg("check")
            .arg(fixture)
            .args(["--today", "2026-11-22", "--color", "never", "--no-redact"])
            .args(["--fail-on", "warning"])
            .args(["--format", format]);
        let (code, text) = output(c);
        assert_eq!(code, 1, "{format}");
        assert!(text.contains("T1"), "{format} lost the finding");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{format} passes control characters through:\n{text:?}"
        );
    }
}

/// An account list of `n` invented people (no two share a name part) in which only row
/// `generic` has a finding (its username is `lehrer1`), and every given and family name.
pub fn named_accounts(n: usize, generic: usize) -> (String, Vec<String>) {
    let syllables = [
        "bar", "dol", "fen", "gar", "hul", "kir", "lom", "mes", "nor", "pim",
    ];
    let syllable = |i: usize| syllables.get(i % 10).copied().unwrap_or_default();
    let mut csv = String::from("Kennung;Benutzername;Vorname;Nachname;Rolle;Herkunft\n");
    let mut names = Vec::new();
    for i in 0..n {
        let given = format!("Ul{}{}a", syllable(i), syllable(i / 10));
        let family = format!("Tr{}{}er", syllable(i / 10), syllable(i));
        let username = if i == generic {
            "lehrer1".to_owned()
        } else {
            format!("{}.{}", given.to_lowercase(), family.to_lowercase())
        };
        csv.push_str(&format!(
            "K{i:03};{username};{given};{family};Lehrer;DiViS\n"
        ));
        names.extend([given, family]);
    }
    (csv, names)
}

/// Only the rows an output can show are indexed as personal data (a state-wide list would
/// otherwise need an index of every name): the rows around a lone finding are masked in its
/// snippet and no other row is printed at all, in any format.
#[test]
fn rows_around_a_lone_finding_are_masked_and_no_other_row_is_shown()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let (csv, names) = named_accounts(60, 30);
    std::fs::write(dir.path().join("accounts.csv"), csv)?;
    for format in FORMATS {
        let out = Command::new(get_cargo_bin("konform"))
            .current_dir(dir.path())
            .env("COLUMNS", "100")
            .env_remove("CI")
            .args([
                "check",
                "accounts.csv",
                "--today",
                "2026-11-22",
                "--color",
                "never",
            ])
            .args(["--format", format, "--redact"])
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}:\n{text}");
        assert!(
            text.contains("lehrer1"),
            "{format} lost the finding:\n{text}"
        );
        let lower = text.to_lowercase();
        let leaked: Vec<&String> = names
            .iter()
            .filter(|n| lower.contains(&n.to_lowercase()))
            .collect();
        assert!(leaked.is_empty(), "{format} leaks {leaked:?}:\n{text}");
    }
    Ok(())
}

/// Masking a report in place (when every output is redacted) gives exactly the masked copy of
/// the mixed case: every format renders the same text from both.
#[test]
fn a_report_masked_in_place_is_the_masked_copy() {
    let check = || {
        let mut options = konform::CheckOptions::new(
            vec![root().join("tests/fixtures/privacy")],
            chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default(),
        );
        options.cwd = root();
        konform::check(&options)
    };
    let copy = konform::redact::redact(&check());
    let in_place = konform::redact::into_redacted(check());
    assert!(in_place.redacted && copy.redacted);
    assert!(!copy.findings.is_empty() && !copy.problems.is_empty());
    let fail_on = konform::finding::Severity::Error;
    assert_eq!(
        konform::render::json(&in_place, fail_on),
        konform::render::json(&copy, fail_on)
    );
    assert_eq!(
        leaks(&konform::render::json(&in_place, fail_on)),
        Vec::<&str>::new()
    );
    let ctx = konform::render::RenderContext {
        fail_on,
        command: None,
        run_at: None,
        max_findings: None,
    };
    assert_eq!(
        konform::render::sarif::sarif(&in_place, &ctx),
        konform::render::sarif::sarif(&copy, &ctx)
    );
}

/// JSON written straight into a report file is the JSON printed on standard output, and the
/// one rendered whole.
#[test]
fn streamed_json_files_are_the_printed_json() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let (code, stdout) = output(konform(&[
        "--format",
        "json",
        "--output",
        &format!("json={}", json.display()),
    ]));
    // The fixture has a date that is no date: a problem, exit code 2.
    assert_eq!(code, 2);
    assert_eq!(std::fs::read_to_string(&json)?, stdout);
    assert!(stdout.ends_with("}\n") && stdout.contains("\"findings\": ["));
    Ok(())
}

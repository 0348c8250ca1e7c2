//! Hostile inputs: each gets a clear diagnostic and exit code 2, never a panic, a hang or a
//! partial check passed as clean. Inputs are generated into temporary folders.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `konform check` in `cwd` with a fixed date, no colour and no CI redaction.
fn check(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(cwd)
        .env("COLUMNS", "100")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .arg("check")
        .args(args)
        .args(["--today", "2026-11-22", "--color", "never"]);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Run {
    match cmd.output() {
        Ok(o) => Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

/// Runs with `--format json` and returns the exit code and the problem codes.
fn problem_codes(cwd: &Path, args: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let r = run(check(cwd, &all));
    assert!(
        !r.stderr.contains("panicked"),
        "konform panicked: {}",
        r.stderr
    );
    let doc: serde_json::Value = match serde_json::from_str(&r.stdout) {
        Ok(d) => d,
        Err(e) => panic!("not JSON ({e}): {}", r.stdout),
    };
    let codes = doc["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["code"].as_str().map(str::to_owned))
        .collect();
    (r.code, codes, doc)
}

/// Asserts exit code 2 with a problem `code` that carries a help text, in JSON and in human
/// output (which must stay small: no input is ever dumped whole).
fn assert_rejected(cwd: &Path, args: &[&str], code: &str) {
    let (exit, codes, doc) = problem_codes(cwd, args);
    assert_eq!(exit, 2, "{args:?}: {codes:?}");
    assert!(codes.iter().any(|c| c == code), "{args:?}: {codes:?}");
    for p in doc["problems"].as_array().into_iter().flatten() {
        assert!(p["help"].is_string(), "problem without help: {p}");
    }
    let human = run(check(cwd, args));
    assert_eq!(human.code, 2);
    assert!(human.stdout.contains(code), "{}", human.stdout);
    assert!(
        human.stdout.len() < 20_000,
        "{args:?}: {} bytes of output",
        human.stdout.len()
    );
    assert!(human.stdout.contains("exit code 2"), "{}", human.stdout);
}

fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

const ACCOUNTS: &str =
    "Benutzername;Vorname;Nachname;Rolle\nk.ahrens;Kai;Ahrens;Lehrer\nlehrer1;;;Lehrer\n";

#[test]
fn yaml_alias_bomb_is_refused() -> TestResult {
    let dir = tempdir();
    let mut yaml = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for name in 'b'..='j' {
        yaml.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
        prev = name;
    }
    yaml.push_str("accounts:\n  - username: k.ahrens\n");
    std::fs::write(dir.path().join("accounts.yaml"), yaml)?;
    assert_rejected(
        dir.path(),
        &["accounts.yaml"],
        "konform::input::too-complex",
    );
    Ok(())
}

#[test]
fn deep_nesting_is_refused_and_the_depth_is_a_flag() -> TestResult {
    let dir = tempdir();
    let n = 100_000;
    let deep_json = format!("{{\"accounts\":{}{}}}", "[".repeat(n), "]".repeat(n));
    std::fs::write(dir.path().join("accounts.json"), deep_json)?;
    let deep_yaml = format!("accounts: {}{}\n", "[".repeat(n), "]".repeat(n));
    std::fs::write(dir.path().join("people.yaml"), deep_yaml)?;
    assert_rejected(dir.path(), &["accounts.json"], "konform::input::too-deep");
    assert_rejected(dir.path(), &["people.yaml"], "konform::input::too-deep");
    // A genuine list two levels deep is refused with --max-depth 1 and read without.
    std::fs::write(
        dir.path().join("ok.yaml"),
        "accounts:\n  - username: k.ahrens\n    roles: [teacher]\n",
    )?;
    assert_rejected(
        dir.path(),
        &["ok.yaml", "--max-depth", "1"],
        "konform::input::too-deep",
    );
    let (code, codes, _) = problem_codes(dir.path(), &["ok.yaml"]);
    assert_eq!(code, 0, "{codes:?}");
    Ok(())
}

#[test]
fn a_200_mb_single_line_is_refused_without_printing_it() -> TestResult {
    let dir = tempdir();
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.path().join("accounts.csv"))?);
    f.write_all(b"Benutzername;Vorname\n")?;
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..200 {
        f.write_all(&chunk)?;
    }
    f.write_all(b";x\n")?;
    f.flush()?;
    drop(f);
    assert_rejected(
        dir.path(),
        &["accounts.csv"],
        "konform::input::line-too-long",
    );
    let human = run(check(dir.path(), &["accounts.csv"]));
    assert!(
        human.stdout.contains("accounts.csv:2:1"),
        "the place is named: {}",
        human.stdout
    );
    Ok(())
}

#[test]
fn a_million_columns_are_refused() -> TestResult {
    let dir = tempdir();
    let header: Vec<String> = (0..1_000_000).map(|i| format!("c{i}")).collect();
    let row = vec!["x"; 1_000_000];
    std::fs::write(
        dir.path().join("wide.csv"),
        format!("{}\n{}\n", header.join(";"), row.join(";")),
    )?;
    assert_rejected(dir.path(), &["wide.csv"], "konform::input::line-too-long");
    // Wide but within the line limit: the column limit speaks.
    let header: Vec<String> = std::iter::once("Benutzername".to_owned())
        .chain((0..5000).map(|i| format!("c{i}")))
        .collect();
    std::fs::write(
        dir.path().join("columns.csv"),
        format!("{}\nk.ahrens{}\n", header.join(";"), ";".repeat(5000)),
    )?;
    assert_rejected(
        dir.path(),
        &["columns.csv"],
        "konform::input::too-many-columns",
    );
    Ok(())
}

#[test]
fn nul_bytes_and_invalid_utf8_are_refused() -> TestResult {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("nul.csv"),
        b"Benutzername;Vorname\nk.ah\0rens;Kai\n",
    )?;
    assert_rejected(dir.path(), &["nul.csv"], "konform::input::encoding");
    // Broken UTF-8: `ü` once well-formed, once a lone Windows-1252 byte.
    std::fs::write(
        dir.path().join("bad.yaml"),
        b"accounts:\n  - username: k.m\xc3\xbcller\n  - username: j.m\xfcller\n",
    )?;
    assert_rejected(dir.path(), &["bad.yaml"], "konform::input::encoding");
    // A byte Windows-1252 does not define.
    std::fs::write(
        dir.path().join("c1.csv"),
        b"Benutzername;Vorname\nk.ahrens;K\x81i\n",
    )?;
    assert_rejected(dir.path(), &["c1.csv"], "konform::input::encoding");
    Ok(())
}

#[test]
fn formula_payloads_are_neutralised_in_csv_and_html() -> TestResult {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("accounts.csv"),
        "Benutzername;Vorname;Nachname;Rolle\nlehrer1;=HYPERLINK(\"http://evil.example\",\"x\");@SUM(A1);Lehrer\n",
    )?;
    let csv = run(check(
        dir.path(),
        &["accounts.csv", "--format", "csv", "--no-redact"],
    ));
    assert_eq!(csv.code, 1, "{}", csv.stdout);
    assert!(csv.stdout.contains("lehrer1"), "{}", csv.stdout);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    for row in reader.records() {
        for cell in row?.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula cell: {cell:?}"
            );
        }
    }
    let html = run(check(
        dir.path(),
        &["accounts.csv", "--format", "html", "--no-redact"],
    ));
    assert_eq!(html.code, 1);
    assert!(!html.stdout.contains("<script"), "script in the page");
    assert!(
        !html.stdout.contains("href=\"http://evil"),
        "live link in the page"
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_unreadable_files_in_walked_folders() -> TestResult {
    use std::os::unix::fs::{PermissionsExt as _, symlink};
    let dir = tempdir();
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports)?;
    std::fs::write(exports.join("accounts.csv"), ACCOUNTS)?;
    // A folder link back up (never followed) and a link to itself.
    symlink("..", exports.join("up"))?;
    symlink("loop.csv", exports.join("loop.csv"))?;
    let (code, codes, doc) = problem_codes(dir.path(), &["exports"]);
    assert_eq!(code, 2, "{codes:?}");
    assert!(
        codes.iter().any(|c| c == "konform::input::unreadable"),
        "{codes:?}"
    );
    // The readable file was still checked: its finding is reported, and the run is incomplete.
    assert!(doc["findings"].as_array().is_some_and(|f| !f.is_empty()));
    std::fs::remove_file(exports.join("loop.csv"))?;
    let (code, codes, _) = problem_codes(dir.path(), &["exports"]);
    assert_eq!(code, 1, "the folder link is not followed: {codes:?}");
    assert!(
        codes
            .iter()
            .any(|c| c == "konform::input::link-not-followed"),
        "{codes:?}"
    );

    let secret = exports.join("secret.csv");
    std::fs::write(&secret, ACCOUNTS)?;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000))?;
    // Root reads files without permission: then there is nothing to test.
    if std::fs::read(&secret).is_err() {
        assert_rejected(dir.path(), &["exports"], "konform::input::unreadable");
    }
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}

#[test]
fn zip_bombs_stop_at_the_size_limit() -> TestResult {
    let dir = tempdir();
    let path = dir.path().join("bundle.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path)?);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("orgs.csv", deflated)?;
    zip.write_all(b"sourcedId,name,type\no1,School,school\n")?;
    zip.start_file("users.csv", deflated)?;
    zip.write_all(b"sourcedId,username,role\n")?;
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..16 {
        zip.write_all(&zeros)?;
    }
    zip.finish()?;
    assert!(
        std::fs::metadata(&path)?.len() < 1 << 20,
        "the bundle is small"
    );
    let (code, codes, doc) = problem_codes(dir.path(), &["bundle.zip", "--max-file-size", "4M"]);
    assert_eq!(code, 2, "{codes:?}");
    assert!(
        codes.iter().any(|c| c == "konform::input::bad-zip"),
        "{codes:?}"
    );
    assert!(
        doc["problems"].to_string().contains("unpack to more than"),
        "{}",
        doc["problems"]
    );
    // Members with `..` in their path are refused (see also tests/fixtures/zip-bad).
    let (code, codes, _) = problem_codes(&root().join("tests/fixtures"), &["zip-bad/unsafe.zip"]);
    assert_eq!(code, 2);
    assert!(
        codes.iter().any(|c| c == "konform::input::bad-zip"),
        "{codes:?}"
    );
    Ok(())
}

#[test]
fn a_pathological_regex_is_refused() -> TestResult {
    let dir = tempdir();
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS)?;
    std::fs::write(
        dir.path().join("konform.yaml"),
        "school: { id: \"1\", country: DE }\npacks: [common]\nparameters:\n  common:\n    generic_name_pattern: '((a{100}){100}){100}'\n",
    )?;
    assert_rejected(dir.path(), &["accounts.csv"], "konform::pack::bad-regex");
    Ok(())
}

#[test]
fn thousands_of_files_in_one_folder() -> TestResult {
    let dir = tempdir();
    let n = 3000;
    for i in 0..n {
        std::fs::write(
            dir.path().join(format!("school-{i:04}.csv")),
            format!("Benutzername;Vorname;Nachname;Rolle\nk.ahrens{i};Kai;Ahrens;Lehrer\n"),
        )?;
    }
    std::fs::write(dir.path().join("school-9999.csv"), ACCOUNTS)?;
    let (code, codes, doc) = problem_codes(dir.path(), &["."]);
    assert_eq!(code, 1, "{codes:?}");
    assert_eq!(doc["summary"]["files"], n + 1, "{}", doc["summary"]);
    Ok(())
}

#[test]
fn record_limit() -> TestResult {
    let dir = tempdir();
    let mut text = String::from("Benutzername;Vorname;Nachname;Rolle\n");
    for i in 0..10 {
        text.push_str(&format!("k.ahrens{i};Kai;Ahrens;Lehrer\n"));
    }
    std::fs::write(dir.path().join("accounts.csv"), text)?;
    assert_rejected(
        dir.path(),
        &["accounts.csv", "--max-records", "5"],
        "konform::input::too-many-records",
    );
    std::fs::write(
        dir.path().join("accounts.yaml"),
        "accounts:\n  - username: a.b\n  - username: c.d\n",
    )?;
    assert_rejected(
        dir.path(),
        &["accounts.yaml", "--max-records", "1"],
        "konform::input::too-many-records",
    );
    let (code, codes, _) = problem_codes(dir.path(), &["accounts.csv", "--max-records", "10"]);
    assert_eq!(code, 0, "exactly at the limit is fine: {codes:?}");
    Ok(())
}

#[test]
fn printed_findings_are_capped_and_all_counted() {
    let example = root().join("examples");
    let all = run(check(
        &example,
        &["hamburg-gymnasium", "--max-findings", "0"],
    ));
    let capped = run(check(
        &example,
        &["hamburg-gymnasium", "--max-findings", "5"],
    ));
    assert_eq!(all.code, 1);
    assert_eq!(capped.code, 1);
    let summary = |s: &str| {
        s.lines()
            .rev()
            .take(3)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        capped
            .stdout
            .contains("… and 37 more findings not shown here"),
        "{}",
        capped.stdout
    );
    // The counts are the same; the drawn findings are five.
    let count = |s: &str| s.matches("\n  × ").count() + s.matches("\n  ⚠ ").count();
    assert_eq!(
        summary(&all.stdout).iter().find(|l| l.starts_with("found")),
        summary(&capped.stdout)
            .iter()
            .find(|l| l.starts_with("found"))
    );
    assert!(count(&capped.stdout) <= 5 + 1, "{}", capped.stdout);
    assert!(count(&all.stdout) > 30);
    let github = run(check(
        &example,
        &[
            "hamburg-gymnasium",
            "--format",
            "github",
            "--max-findings",
            "5",
        ],
    ));
    let annotations = github
        .stdout
        .lines()
        .filter(|l| l.contains("title=konform%3A "))
        .count();
    assert_eq!(annotations, 5, "{}", github.stdout);
    assert!(github.stdout.contains("37 more findings"));
}

#[test]
fn one_unreadable_input_fails_the_run_even_with_findings() -> TestResult {
    let dir = tempdir();
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS)?;
    std::fs::write(
        dir.path().join("broken.csv"),
        "Benutzername;Geburtsdatum\nx.y;31.02.2012\n",
    )?;
    let (code, _, doc) = problem_codes(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert!(doc["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert_eq!(doc["summary"]["incomplete_inputs"][0], "broken.csv");
    let human = run(check(dir.path(), &["."]));
    assert!(
        human
            .stdout
            .contains("not checked, could not be read completely: broken.csv"),
        "{}",
        human.stdout
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn read_only_inputs_are_never_written() -> TestResult {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempdir();
    let inputs = dir.path().join("school");
    std::fs::create_dir(&inputs)?;
    std::fs::copy(
        root().join("examples/hamburg-gymnasium/exports/iserv-konten.csv"),
        inputs.join("accounts.csv"),
    )?;
    std::fs::write(
        inputs.join("konform.yaml"),
        "school: { id: \"5012\", country: DE, state: HH }\npacks: [common, iserv]\n",
    )?;
    let snapshot = |dir: &Path| -> Vec<(PathBuf, Vec<u8>, Option<std::time::SystemTime>)> {
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let p = e.path();
                let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
                (p.clone(), std::fs::read(&p).unwrap_or_default(), modified)
            })
            .collect();
        out.sort();
        out
    };
    for entry in std::fs::read_dir(&inputs)? {
        std::fs::set_permissions(entry?.path(), std::fs::Permissions::from_mode(0o444))?;
    }
    std::fs::set_permissions(&inputs, std::fs::Permissions::from_mode(0o555))?;
    let before = snapshot(&inputs);
    let out = dir.path().join("reports");
    std::fs::create_dir(&out)?;
    let sarif = format!("sarif={}", out.join("k.sarif").display());
    let html = format!("html={}", out.join("k.html").display());
    let r = run(check(dir.path(), &["school", "-o", &sarif, "-o", &html]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(out.join("k.sarif").is_file() && out.join("k.html").is_file());
    // Writing over an input is refused before anything is written.
    let over = format!("json={}", inputs.join("accounts.csv").display());
    let r = run(check(dir.path(), &["school", "-o", &over]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("konform never writes over what it reads"),
        "{}",
        r.stderr
    );
    assert_eq!(before, snapshot(&inputs), "an input changed");
    // Only the two reports are in the output folder: no temporary files left behind.
    let written: Vec<_> = std::fs::read_dir(&out)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
    std::fs::set_permissions(&inputs, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

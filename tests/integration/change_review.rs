//! Waivers, baselines, `check --since` and `konform diff` on `examples/change-review` and the
//! waiver fixtures: what is counted, what is listed, and the exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example() -> PathBuf {
    root().join("examples/change-review")
}

fn konform(cwd: &Path, args: &[&str]) -> (i32, String) {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(cwd)
        .env("COLUMNS", "100")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("NO_GRAPHICS")
        .args(args)
        .args(["--today", "2026-11-22"]);
    match c.output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        ),
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

fn json(cwd: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json", "--no-redact"]);
    let (code, out) = konform(cwd, &all);
    match serde_json::from_str(&out) {
        Ok(v) => (code, v),
        Err(e) => panic!("not JSON ({e}):\n{out}"),
    }
}

fn findings(doc: &Value) -> Vec<(String, String, String)> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["policy"].as_str().unwrap_or_default().to_owned(),
                f["subject"].as_str().unwrap_or_default().to_owned(),
                f["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn problem_codes(doc: &Value) -> Vec<String> {
    doc["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["code"].as_str().map(str::to_owned))
        .collect()
}

fn snap(name: &str, text: &str) {
    let text = regex::Regex::new(r"in \d+\.\d+s")
        .map(|re| re.replace_all(text, "in [TIME]").into_owned())
        .unwrap_or_else(|_| text.to_owned());
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn waivers_in_force_expiring_expired_and_unused() {
    let (code, doc) = json(&example(), &["check"]);
    assert_eq!(code, 1, "the expired waiver's finding counts again");
    let f = findings(&doc);
    let status = |subject: &str| {
        f.iter()
            .find(|(p, s, _)| p == "common.generic-account" && s == subject)
            .map(|(_, _, st)| st.clone())
    };
    assert_eq!(status("M9001").as_deref(), Some("waived"));
    assert_eq!(
        status("M9002").as_deref(),
        Some("waived"),
        "expiring soon still waives"
    );
    assert_eq!(
        status("M9003").as_deref(),
        Some("open"),
        "expired waiver waives nothing"
    );
    let waived = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["subject"] == "M9001")
        .map(|f| f["waiver"].clone())
        .unwrap_or_default();
    assert_eq!(waived["expires"], "2027-03-31");
    assert_eq!(waived["location"]["file"], "waivers.yaml");
    assert!(
        waived["reason"]
            .as_str()
            .is_some_and(|r| r.contains("substitute pool"))
    );
    let codes = problem_codes(&doc);
    for code in [
        "konform::config::waiver-expiring",
        "konform::config::waiver-expired",
        "konform::config::unused-waiver",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} missing: {codes:?}");
    }
    assert_eq!(doc["summary"]["waived"], 2);
    assert_eq!(doc["summary"]["errors"], 1);
    let (_, human) = konform(&example(), &["check", "--color", "never"]);
    snap("change_review_waivers", &human);
}

#[test]
fn waivers_are_checked_on_every_path() {
    // The same waiver state in every format: the expired one is reported, the waived ones
    // are marked.
    for format in [
        "github", "markdown", "csv", "sarif", "junit", "gitlab", "html", "plain",
    ] {
        let (code, out) = konform(&example(), &["check", "--format", format, "--no-redact"]);
        assert_eq!(code, 1, "{format}");
        if matches!(format, "github" | "plain" | "csv" | "sarif" | "html") {
            assert!(
                out.contains("M9099"),
                "{format} does not report the unused waiver"
            );
        }
        assert!(
            out.to_lowercase().contains("waived"),
            "{format} does not mark waived findings:\n{out}"
        );
    }
    // And in every command that checks.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("b.json");
    let (code, text) = konform(
        &example(),
        &["baseline", "-o", out.to_str().unwrap_or_default()],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("2 waived, not recorded"), "{text}");
}

#[test]
fn bad_waivers_are_config_errors_with_places() {
    let school = root().join("tests/fixtures/waivers-bad/school");
    let (code, doc) = json(&school, &["check"]);
    assert_eq!(code, 2);
    let codes = problem_codes(&doc);
    for code in [
        "konform::config::missing-key",
        "konform::config::unknown-policy",
        "konform::config::waiver-too-long",
        "konform::config::waiver-forbidden",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} missing: {codes:?}");
    }
    // Every one points into waivers.yaml.
    for p in doc["problems"].as_array().into_iter().flatten() {
        assert_eq!(p["file"], "waivers.yaml", "{p}");
        assert!(
            p["labels"][0]["location"]["line"]
                .as_u64()
                .is_some_and(|l| l > 1)
        );
    }
    let (_, human) = konform(&school, &["check", "--color", "never"]);
    snap("waivers_bad", &human);
}

#[test]
fn a_school_cannot_raise_the_authoritys_waiver_lifetime() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let fixture = root().join("tests/fixtures/waivers-bad");
    std::fs::create_dir_all(dir.path().join("authority"))?;
    std::fs::create_dir_all(dir.path().join("school"))?;
    std::fs::copy(
        fixture.join("authority/konform.yaml"),
        dir.path().join("authority/konform.yaml"),
    )?;
    std::fs::copy(
        fixture.join("school/accounts.csv"),
        dir.path().join("school/accounts.csv"),
    )?;
    std::fs::write(
        dir.path().join("school/konform.yaml"),
        "extends: ../authority/konform.yaml\nwaivers: { max_days: 366 }\n",
    )?;
    let (code, doc) = json(&dir.path().join("school"), &["check"]);
    assert_eq!(code, 2);
    assert!(problem_codes(&doc).contains(&"konform::config::waiver-lifetime-locked".to_owned()));
    Ok(())
}

#[test]
fn baseline_absorbs_known_findings_only() -> Result<(), Box<dyn std::error::Error>> {
    let (code, doc) = json(&example(), &["check", "--baseline", "baseline.json"]);
    assert_eq!(code, 0, "only a new warning remains");
    let f = findings(&doc);
    assert!(f.contains(&(
        "common.generic-account".into(),
        "M9003".into(),
        "baselined".into()
    )));
    assert!(f.contains(&(
        "common.manual-account-undocumented".into(),
        "M9004".into(),
        "open".into()
    )));
    assert!(problem_codes(&doc).contains(&"konform::baseline::resolved".to_owned()));
    // A reordered export keeps its baseline; the same violation by another account is new.
    let dir = tempfile::tempdir()?;
    let text = std::fs::read_to_string(example().join("exports/iserv-konten.csv"))?;
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let extra = "M9010;test2;;;;Mitarbeiter;manuell;aktiv;;05.05.2026;12.11.2026;31.12.2026;Testzugang;ute.albrecht";
    let reordered = format!("{header}\n{extra}\n{}\n", lines.join("\n"));
    std::fs::write(dir.path().join("konten.csv"), reordered)?;
    let baseline = example().join("baseline.json");
    let (code, doc) = json(
        dir.path(),
        &[
            "check",
            "konten.csv",
            "--baseline",
            baseline.to_str().ok_or("path")?,
        ],
    );
    assert_eq!(code, 1, "test2 is a new generic account");
    let f = findings(&doc);
    assert!(f.contains(&(
        "common.generic-account".into(),
        "M9003".into(),
        "baselined".into()
    )));
    assert!(f.contains(&(
        "common.generic-account".into(),
        "M9010".into(),
        "open".into()
    )));
    // A broken baseline is an error, never an empty one.
    std::fs::write(
        dir.path().join("broken.json"),
        "{\"version\": 1, \"findings\": 7}",
    )?;
    let (code, out) = konform(
        dir.path(),
        &["check", "konten.csv", "--baseline", "broken.json"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is not a konform baseline"), "{out}");
    Ok(())
}

#[test]
fn baseline_of_an_incomplete_check_is_refused() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("b.json");
    let (code, text) = konform(
        &root().join("tests/fixtures"),
        &["baseline", "bad-date", "-o", out.to_str().ok_or("path")?],
    );
    assert_eq!(code, 2, "{text}");
    assert!(!out.exists());
    assert!(text.contains("no baseline written"), "{text}");
    Ok(())
}

#[test]
fn since_keeps_findings_on_new_and_changed_records() {
    let (code, doc) = json(
        &example(),
        &["check", "--since", "history/iserv-konten-2026-10-01.csv"],
    );
    assert_eq!(code, 0);
    let f = findings(&doc);
    assert_eq!(
        f,
        vec![(
            "common.manual-account-undocumented".into(),
            "M9004".into(),
            "open".into()
        )]
    );
    assert!(problem_codes(&doc).contains(&"konform::since::compared".to_owned()));
    let (code, out) = konform(&example(), &["check", "--since", "history/missing.csv"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn diff_reports_records_and_findings() {
    let args = [
        "diff",
        "history/iserv-konten-2026-10-01.csv",
        "exports/iserv-konten.csv",
    ];
    let (code, doc) = json(&example(), &args);
    assert_eq!(code, 0, "the introduced finding is a warning");
    let records = &doc["records"];
    assert_eq!(records["added"], serde_json::json!(["M9004", "X9005"]));
    assert_eq!(records["removed"], serde_json::json!(["S3010"]));
    assert_eq!(
        records["renamed"],
        serde_json::json!([{ "old": "S3005", "new": "S3105" }])
    );
    assert_eq!(
        records["changed"][0],
        serde_json::json!({ "key": "L2002", "attributes": ["email"] })
    );
    assert_eq!(records["unchanged"], 4);
    let introduced = &doc["findings"]["introduced"];
    assert_eq!(introduced.as_array().map(Vec::len), Some(1));
    assert_eq!(introduced[0]["subject"], "M9004");
    assert_eq!(
        doc["findings"]["resolved"].as_array().map(Vec::len),
        Some(2)
    );
    let mut warn = args.to_vec();
    warn.extend(["--fail-on", "warning"]);
    assert_eq!(
        json(&example(), &warn).0,
        1,
        "exit 1 when a warning is introduced"
    );
    let mut human = args.to_vec();
    human.extend(["--color", "never"]);
    let (_, out) = konform(&example(), &human);
    snap("change_review_diff", &out);
    // JSON is redacted by default: usernames built from names do not appear.
    let (_, redacted) = konform(&example(), &["diff", args[1], args[2], "--format", "json"]);
    assert!(!redacted.contains("kerstin.mahler") && redacted.contains("\"redacted\": true"));
}

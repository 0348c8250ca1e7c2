//! Setting up and maintaining: `konform init`, `konform fmt` and `konform policies validate`.

use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn konform(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(get_cargo_bin("konform"))
        .current_dir(cwd)
        .env("COLUMNS", "100")
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .args(args)
        .output();
    match out {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        ),
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[test]
fn init_proposes_a_config_that_checks_and_never_overwrites() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let school = tmp.path().join("gymnasium-elbblick");
    copy_dir(&root().join("examples/hamburg-gymnasium"), &school)?;
    std::fs::remove_file(school.join("konform.yaml"))?;
    std::fs::remove_file(school.join("README.md"))?;
    // A column that only resembles a known name.
    let manual = school.join("exports/manuelle-nachmeldungen.csv");
    let text = std::fs::read_to_string(&manual)?;
    std::fs::write(&manual, text.replacen("Nachname", "Nachnahme", 1))?;

    let (code, out) = konform(
        tmp.path(),
        &["init", "gymnasium-elbblick", "--profile", "eduport"],
    );
    assert_eq!(code, 0, "{out}");
    let config = std::fs::read_to_string(school.join("konform.yaml"))?;
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("init_eduport_config", config);
        insta::assert_snapshot!("init_eduport_output", out);
    });
    assert!(config.contains("Nachnahme: family_name"), "{config}");
    assert!(school.join("waivers.yaml").is_file());

    // The proposal checks the folder: findings, never a broken configuration.
    let (code, out) = konform(
        tmp.path(),
        &["check", "gymnasium-elbblick", "--today", "2026-11-22"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("common.generic-account"), "{out}");

    // A second init refuses and leaves the file alone.
    let (code, out) = konform(tmp.path(), &["init", "gymnasium-elbblick"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("never overwrites"), "{out}");
    assert_eq!(
        std::fs::read_to_string(school.join("konform.yaml"))?,
        config
    );

    // An empty folder gets a config that says where to list the exports.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty)?;
    let (code, out) = konform(&empty, &["init"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no exports found"), "{out}");
    let (code, out) = konform(tmp.path(), &["init", "does-not-exist"]);
    assert_eq!(code, 2, "{out}");
    Ok(())
}

const MESSY: &str = "// Admins are reviewed.\n@id(\"admin\")\n@severity(\"warning\")\n@message(\"`{username}` is an admin\")\nforbid(principal is Account,action==Action::\"check\",resource)\nwhen{principal.roles.contains(\"admin\")};\n";

#[test]
fn fmt_formats_cedar_files_and_check_reports_them() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let pack = tmp.path().join("pack");
    std::fs::create_dir(&pack)?;
    std::fs::write(pack.join("admin.cedar"), MESSY)?;
    std::fs::write(pack.join("notes.txt"), "not a policy")?;

    let (code, out) = konform(tmp.path(), &["fmt", "--check", "pack"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not formatted: pack/admin.cedar"), "{out}");
    assert_eq!(
        std::fs::read_to_string(pack.join("admin.cedar"))?,
        MESSY,
        "--check wrote"
    );

    let (code, out) = konform(tmp.path(), &["fmt", "pack"]);
    assert_eq!(code, 0, "{out}");
    let formatted = std::fs::read_to_string(pack.join("admin.cedar"))?;
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("fmt_formatted_policy", formatted);
    });
    assert!(
        formatted.contains("// Admins are reviewed."),
        "the comment is kept"
    );
    let (code, out) = konform(tmp.path(), &["fmt", "--check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 to format, 1 already formatted"), "{out}");

    // A policy that does not parse is an error, and is left as it is.
    std::fs::write(pack.join("broken.cedar"), "forbid (principal,")?;
    let (code, out) = konform(tmp.path(), &["fmt", "pack"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot format `pack/broken.cedar`"), "{out}");
    assert_eq!(
        std::fs::read_to_string(pack.join("broken.cedar"))?,
        "forbid (principal,"
    );
    Ok(())
}

#[test]
fn policies_validate_accepts_good_packs_and_points_at_broken_ones() {
    let fixtures = root().join("tests/fixtures");
    let (code, out) = konform(
        &fixtures,
        &["policies", "validate", "evaluation-error/pack"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("valid: "), "{out}");
    let (code, out) = konform(&fixtures, &["policies", "validate", "broken-policy/pack"]);
    assert_eq!(code, 2, "{out}");
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("policies_validate_broken", out);
    });
    let (code, out) = konform(&root(), &["policies", "validate"]);
    assert_eq!(code, 2, "a pack folder is required: {out}");
}

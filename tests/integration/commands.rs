//! The policy-authoring commands end to end: `konform test`, `konform policies` and
//! `konform explain`. Output is snapshotted (no colour, width 100, run from the repository
//! root). Snapshots of the shipped packs change whenever a policy is added: review them.

use std::path::PathBuf;
use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn konform(args: &[&str]) -> Command {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(root())
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("NO_GRAPHICS")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

macro_rules! snap {
    ($name:expr, $cmd:expr) => {
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            assert_cmd_snapshot!($name, $cmd);
        })
    };
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

#[test]
fn test_runs_the_cases_of_the_shipped_packs() {
    // The snapshot holds the exit code (0) and the final `N passed, 0 failed`.
    snap!("test_shipped", konform(&["test"]));
}

#[test]
fn test_reports_a_failing_case_with_exit_1() {
    snap!(
        "test_failing",
        konform(&["test", "tests/fixtures/test-failing"])
    );
    let (code, _) = output(konform(&["test", "tests/fixtures/test-failing"]));
    assert_eq!(code, 1);
    // A single test file of a pack folder runs against that pack.
    let (code, out) = output(konform(&[
        "test",
        "tests/fixtures/test-failing/tests/admin-account.yaml",
    ]));
    assert_eq!(code, 1);
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
    // A test file of an embedded pack, and a date option.
    let (code, out) = output(konform(&[
        "test",
        "policies/common/tests/generic-account.yaml",
        "--today",
        "2026-11-22",
    ]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn test_reports_malformed_test_files_with_exit_2() {
    snap!(
        "test_malformed",
        konform(&["test", "tests/fixtures/test-malformed"])
    );
    for args in [
        &["test", "tests/fixtures/does-not-exist"][..],
        &["test", "tests/fixtures/bad-date"],
        &["test", "tests/fixtures/broken-policy/pack"],
        &["test", "--today", "22.11.2026"],
    ] {
        assert_eq!(output(konform(args)).0, 2, "{args:?}");
    }
}

#[test]
fn policies_lists_packs_policies_and_limits() {
    snap!("policies_human", konform(&["policies"]));
    snap!("policies_json", konform(&["policies", "--format", "json"]));
    let (code, out) = output(konform(&[
        "policies",
        "--pack",
        "tests/fixtures/test-failing",
    ]));
    assert_eq!(code, 0);
    assert!(
        out.contains("failing 0.1.0: A pack with a wrongly expected test case (from tests/fixtures/test-failing)"),
        "{out}"
    );
    let (code, _) = output(konform(&[
        "policies",
        "--pack",
        "tests/fixtures/broken-policy/pack",
    ]));
    assert_eq!(code, 2);
}

#[test]
fn policies_json_is_versioned_and_lists_every_policy() {
    let (code, out) = output(konform(&["policies", "--format", "json"]));
    assert_eq!(code, 0);
    let doc: serde_json::Value = match serde_json::from_str(&out) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {out}"),
    };
    assert_eq!(doc["version"], 1);
    let ids: Vec<&str> = doc["packs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["policies"].as_array().into_iter().flatten())
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(ids.contains(&"common.generic-account"), "{ids:?}");
    assert!(ids.contains(&"eduport.manual-account-cap"), "{ids:?}");
}

#[test]
fn explain_shows_a_policy_and_a_limit() {
    snap!(
        "explain_generic_account",
        konform(&["explain", "common.generic-account"])
    );
    snap!(
        "explain_manual_account_cap",
        konform(&["explain", "eduport.manual-account-cap"])
    );
    // The id within its pack is enough when only one pack has it.
    let (code, out) = output(konform(&["explain", "generic-account"]));
    assert_eq!(code, 0);
    assert!(
        out.starts_with("common.generic-account (policy)\n"),
        "{out}"
    );
    let (code, out) = output(konform(&[
        "explain",
        "failing.admin-account",
        "--pack",
        "tests/fixtures/test-failing",
    ]));
    assert_eq!(code, 0);
    assert!(
        out.contains("source: tests/fixtures/test-failing/admin-account.cedar:1"),
        "{out}"
    );
}

#[test]
fn explain_suggests_an_id_for_a_misspelt_one() {
    snap!("explain_misspelt", konform(&["explain", "generic-acount"]));
    let (code, out) = output(konform(&["explain", "generic-acount"]));
    assert_eq!(code, 2);
    assert!(
        out.contains("did you mean `common.generic-account`?"),
        "{out}"
    );
}

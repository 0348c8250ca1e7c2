//! The documentation book in `docs/`: generated policy pages are fresh, every link and README
//! include resolves, and the tutorials run exactly as written.
//! `KONFORM_UPDATE_DOCS=1 cargo test --test integration docs::` rewrites the generated pages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn konform(args: &[&str]) -> String {
    let out = Command::new(get_cargo_bin("konform"))
        .current_dir(root())
        .env_remove("CI")
        .env("COLUMNS", "100")
        .args(args)
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!(
            "konform {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

/// The chapters before the generated policy pages, in reading order.
const CHAPTERS: &[(&str, &str)] = &[
    ("Getting started", "getting-started.md"),
    ("The command line", "command-line.md"),
    ("Input formats", "inputs.md"),
    ("Configuration", "configuration.md"),
    ("Output formats", "outputs.md"),
    ("Exit codes and limits", "exit-codes.md"),
    ("Writing a policy pack", "policy-authoring.md"),
];

/// Every generated file of the book (path relative to `docs/`) with its content: one page per
/// policy and limit (from `konform explain`), the policy index and SUMMARY.md.
fn generated() -> BTreeMap<String, String> {
    let listing: serde_json::Value =
        match serde_json::from_str(&konform(&["policies", "--format", "json"])) {
            Ok(v) => v,
            Err(e) => panic!("`konform policies --format json` is not JSON: {e}"),
        };
    let mut files = BTreeMap::new();
    let mut index = String::from(
        "# Policies\n\nEvery policy and limit of the packs built into konform, by pack. Each page is generated\nfrom `konform explain ID`, which prints the same for any pack, also your own (`--pack PATH`).\n",
    );
    let mut summary = String::from("# Summary\n\n[Introduction](introduction.md)\n\n");
    for (title, file) in CHAPTERS {
        summary.push_str(&format!("- [{title}]({file})\n"));
    }
    summary.push_str("- [Policies](policies/index.md)\n");
    for pack in listing["packs"].as_array().into_iter().flatten() {
        let pack_id = pack["id"].as_str().unwrap_or_default();
        index.push_str(&format!(
            "\n## {pack_id} {}\n\n{}\n\n| policy | kind | severity | message |\n|---|---|---|---|\n",
            pack["version"].as_str().unwrap_or_default(),
            pack["title"].as_str().unwrap_or_default(),
        ));
        for policy in pack["policies"].as_array().into_iter().flatten() {
            let id = policy["id"].as_str().unwrap_or_default();
            let kind = policy["kind"].as_str().unwrap_or_default();
            let severity = policy["severity"].as_str().unwrap_or_default();
            let message = policy["message"].as_str().unwrap_or_default();
            let explained = konform(&["explain", id]);
            files.insert(
                format!("policies/{id}.md"),
                format!(
                    "# {id}\n\nA {kind} of the pack `{pack_id}`, severity **{severity}**.\n\n> {}\n\nGenerated from `konform explain {id}`:\n\n```text\n{}\n```\n",
                    message.replace('\n', " "),
                    explained.trim_end()
                ),
            );
            index.push_str(&format!(
                "| [`{id}`]({id}.md) | {kind} | {severity} | {} |\n",
                message.replace('|', "\\|")
            ));
            summary.push_str(&format!("  - [{id}](policies/{id}.md)\n"));
        }
    }
    summary.push_str("- [Design notes](design-notes.md)\n");
    files.insert("policies/index.md".into(), index);
    files.insert("SUMMARY.md".into(), summary);
    files
}

#[test]
fn generated_pages_are_fresh() {
    let docs = root().join("docs");
    let update = std::env::var_os("KONFORM_UPDATE_DOCS").is_some();
    let files = generated();
    let mut stale = Vec::new();
    for (path, content) in &files {
        let full = docs.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(content.as_str()) {
            if update {
                if let Err(e) = std::fs::write(&full, content) {
                    panic!("cannot write {}: {e}", full.display());
                }
            } else {
                stale.push(path.clone());
            }
        }
    }
    // A page of a policy that no longer exists is stale too.
    for entry in std::fs::read_dir(docs.join("policies"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = format!("policies/{}", entry.file_name().to_string_lossy());
        if !files.contains_key(&name) {
            if update {
                let _ = std::fs::remove_file(entry.path());
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {stale:?}; run `KONFORM_UPDATE_DOCS=1 cargo test --test integration docs::` and commit them"
    );
}

/// `](target)` links of a Markdown text that point into the book.
fn local_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|t| t.split('#').next().unwrap_or_default().to_owned())
        .filter(|t| !t.is_empty() && !t.contains("://"))
        .collect()
}

#[test]
fn every_link_and_include_of_the_book_resolves() {
    let docs = root().join("docs");
    let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).unwrap_or_default();
    let chapters = local_links(&summary);
    assert!(chapters.len() > CHAPTERS.len(), "{summary}");
    for chapter in &chapters {
        let path = docs.join(chapter);
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("SUMMARY.md links to missing {chapter}");
        };
        for link in local_links(&text) {
            let target = path.parent().unwrap_or(&docs).join(&link);
            assert!(target.exists(), "{chapter} links to missing {link}");
        }
        // `{{#include ../README.md:anchor}}` needs the anchor pair in the file.
        for include in text.split("{{#include ").skip(1) {
            let spec = include.split("}}").next().unwrap_or_default();
            let (file, anchor) = spec.split_once(':').unwrap_or((spec, ""));
            let included = path.parent().unwrap_or(&docs).join(file);
            let Ok(body) = std::fs::read_to_string(&included) else {
                panic!("{chapter} includes missing {file}");
            };
            if !anchor.is_empty() {
                assert!(
                    body.contains(&format!("ANCHOR: {anchor} "))
                        && body.contains(&format!("ANCHOR_END: {anchor} ")),
                    "{chapter}: no anchor `{anchor}` in {file}"
                );
            }
        }
    }
}

/// The shell blocks of a tutorial as one script; installing konform is skipped (the test
/// binary stands in for the installed one).
fn script_of(tutorial: &Path) -> String {
    let text = std::fs::read_to_string(tutorial).unwrap_or_default();
    let mut script = String::new();
    for block in text.split("```sh\n").skip(1) {
        let body = block.split("\n```").next().unwrap_or_default();
        for line in body.lines() {
            if line == "cd konform" || line.starts_with("cargo install") {
                continue;
            }
            script.push_str(line);
            script.push('\n');
        }
    }
    script
}

/// Runs a tutorial in a fresh folder holding a copy of the examples; every `konform` command
/// must do its job (exit 0 or 1: findings are what the tutorials show).
fn run_tutorial(name: &str) -> PathBuf {
    let dir = match tempfile::tempdir() {
        Ok(d) => d.keep(),
        Err(e) => panic!("{e}"),
    };
    let copy = Command::new("cp")
        .args(["-r"])
        .arg(root().join("examples"))
        .args(Some(root().join("schemas")).filter(|s| s.is_dir()))
        .arg(&dir)
        .status();
    assert!(copy.is_ok_and(|s| s.success()), "cannot copy the examples");
    let script = script_of(&root().join("docs").join(name));
    let bin = get_cargo_bin("konform");
    let wrapped = format!(
        "set -e\nkonform() {{ set +e; \"{}\" \"$@\"; rc=$?; set -e; if [ $rc -gt 1 ]; then echo \"konform $* exited $rc\" >&2; exit 99; fi; }}\n{script}",
        bin.display()
    );
    let out = Command::new("bash")
        .current_dir(&dir)
        .env_remove("CI")
        .args(["-c", &wrapped])
        .output();
    match out {
        Ok(o) => assert!(
            o.status.success(),
            "{name} failed ({:?}):\n{}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run bash: {e}"),
    }
    dir
}

#[test]
fn getting_started_runs_as_written() {
    let script = script_of(&root().join("docs/getting-started.md"));
    assert!(script.contains("konform check my-school"), "{script}");
    let dir = run_tutorial("getting-started.md");
    let report = std::fs::read_to_string(dir.join("my-school-report.html")).unwrap_or_default();
    assert!(report.contains("Gymnasium Elbblick"), "no report");
    assert!(dir.join("my-school-baseline.json").is_file());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn policy_authoring_runs_as_written() {
    let dir = run_tutorial("policy-authoring.md");
    assert!(dir.join("my-rules/tests/shared-mailbox.yaml").is_file());
    let _ = std::fs::remove_dir_all(dir);
}

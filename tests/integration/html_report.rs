//! The HTML audit report of the examples, rendered with the library: well-formed, free of
//! personal data when redacted, and snapshotted for the Danish example.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use konform::finding::Report;
use konform::render::RenderContext;
use konform::render::html::html;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// The report of an example as `konform check` in its folder gives it on 2026-11-22.
fn report_of(name: &str) -> Report {
    let today = match "2026-11-22".parse() {
        Ok(d) => d,
        Err(e) => panic!("bad date: {e}"),
    };
    let mut options = konform::CheckOptions::new(vec![], today);
    options.cwd = example(name);
    let outcome = konform::check_outcome(&options);
    assert!(
        !outcome.report.has_errors(),
        "{name}: {:?}",
        outcome.report.problems
    );
    outcome.report
}

/// Given and family names from the name columns of every CSV file under `dir`.
fn names_in(dir: &Path) -> BTreeSet<String> {
    const NAME_COLUMNS: &[&str] = &[
        "vorname",
        "nachname",
        "fornavn",
        "efternavn",
        "förnamn",
        "efternamn",
    ];
    let mut names = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => panic!("cannot list {}: {e}", d.display()),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => panic!("cannot read {}: {e}", path.display()),
            };
            let text = text.trim_start_matches('\u{feff}');
            let mut lines = text.lines();
            let header = lines.next().unwrap_or_default();
            let delimiter = if header.contains(';') { ';' } else { ',' };
            let columns: Vec<usize> = header
                .split(delimiter)
                .enumerate()
                .filter(|(_, c)| NAME_COLUMNS.contains(&c.trim().to_lowercase().as_str()))
                .map(|(i, _)| i)
                .collect();
            for line in lines {
                let cells: Vec<&str> = line.split(delimiter).collect();
                for &i in &columns {
                    if let Some(v) = cells.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                        names.insert(v.to_owned());
                    }
                }
            }
        }
    }
    names
}

/// Whether `name` stands in `text` as a word (not inside another word).
fn contains_word(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text.get(..i).and_then(|s| s.chars().next_back());
        let after = text.get(i + name.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn well_formed(html: &str) {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    if let Err(e) = roxmltree::Document::parse_with_options(html, options) {
        panic!("the HTML report is not well-formed: {e}");
    }
}

#[test]
fn hamburg_html_report_redacted_has_no_names() {
    let report = report_of("hamburg-gymnasium");
    let names = names_in(&example("hamburg-gymnasium"));
    assert!(names.len() > 50, "too few names found: {names:?}");
    assert!(names.contains("Wilma") && names.contains("Voigt"));

    let ctx = RenderContext::default();
    let plain = html(&report, &ctx);
    well_formed(&plain);
    assert!(plain.contains("Personal data is NOT masked"));
    let shown: Vec<&String> = names.iter().filter(|n| contains_word(&plain, n)).collect();
    assert!(
        shown.len() > 10,
        "the plain report should show the names in its evidence: {shown:?}"
    );

    let redacted = konform::redact::redact(&report);
    let masked = html(&redacted, &ctx);
    well_formed(&masked);
    assert!(masked.contains("Personal data is masked"));
    let leaked: Vec<&String> = names.iter().filter(|n| contains_word(&masked, n)).collect();
    assert!(
        leaked.is_empty(),
        "names in the redacted report: {leaked:?}"
    );
    for username in ["anke.albers", "wilma.voigt", "hannes.hansen2"] {
        assert!(
            !masked.contains(username),
            "{username} in the redacted report"
        );
    }
    // Traceable all the same: every finding's fingerprint and location is there.
    for f in &redacted.findings {
        assert!(
            masked.contains(&f.fingerprint),
            "fingerprint of {}",
            f.policy
        );
    }
    assert!(masked.contains("exports/iserv-konten.csv:62:26"));
    assert!(masked.contains("<mark>"));
    // Counts as in the JSON output.
    let (e, w, _) = report.counts();
    assert!(masked.contains(&format!("<span class=\"n\">{e}</span>")));
    assert!(masked.contains(&format!("<span class=\"n\">{w}</span>")));
}

#[test]
fn aula_html_report_snapshot() {
    let report = report_of("aula-skole");
    let redacted = konform::redact::redact(&report);
    let ctx = RenderContext {
        command: Some("konform check examples/aula-skole --today 2026-11-22 --format html".into()),
        ..RenderContext::default()
    };
    let page = html(&redacted, &ctx);
    well_formed(&page);
    for name in names_in(&example("aula-skole")) {
        assert!(
            !contains_word(&page, &name),
            "{name} in the redacted report"
        );
    }
    // The digests of the shipped policy files change with every edit of a pack; those of the
    // example's inputs and configuration are kept.
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![(
            r#"(<tr><td>policy</td><th scope="row"><code>[^<]*</code></th><td class="hash">)[0-9a-f]{64}"#,
            "$1[sha256 of the policy file]",
        )],
    }, {
        insta::assert_snapshot!("html_aula_skole", page);
    });
}

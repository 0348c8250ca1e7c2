//! Every input the fuzzers once broke (`fuzz/regressions/<target>/*`) is read again with the
//! invariants of its fuzz target: no panic, every span of a record, attribute or problem label
//! inside the text of its file and on character boundaries.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use konform::source::detect::Format;
use konform::source::load::{self, InputLimits, InputSpec};
use konform::source::{FileId, SourceMap, Span};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_span(sources: &SourceMap, file: FileId, span: Span, what: &str) {
    let file = sources.get(file);
    assert!(
        span.end() <= file.len(),
        "{what}: {span:?} past the text of {} bytes",
        file.len()
    );
    assert!(
        file.get(span.offset, span.end()).is_some(),
        "{what}: {span:?} not held or inside a UTF-8 character"
    );
}

fn assert_problems(sources: &SourceMap, problems: &[konform::problem::Problem], case: &str) {
    for p in problems {
        let Some(file) = p.file else { continue };
        for l in &p.labels {
            assert_span(
                sources,
                file,
                l.span,
                &format!("{case}: label `{}` of {}", l.text, p.code),
            );
        }
    }
}

/// Reads `bytes` as an input file of the fuzz target's format, in memory.
fn load_input(target: &str, bytes: &[u8], case: &str) {
    let (ext, format) = match target {
        "csv" => ("csv", None),
        "yaml" => ("yaml", None),
        "json" => ("json", None),
        "ldif" => ("ldif", None),
        "scim" => ("json", Some(Format::Scim)),
        "ss12000" => ("json", Some(Format::Ss12000)),
        _ => return,
    };
    let name = format!("fuzz.{ext}");
    let spec = InputSpec {
        path: PathBuf::from(&name),
        format,
        member: Some((name, Arc::from(bytes))),
        ..InputSpec::default()
    };
    let mut sources = SourceMap::new();
    let loaded = load::load(&spec, &mut sources, InputLimits::default());
    assert_problems(&sources, &loaded.problems, case);
    for r in &loaded.records {
        assert_span(
            &sources,
            r.file,
            r.span,
            &format!("{case}: record {}", r.key),
        );
        for (name, a) in r
            .attrs
            .iter()
            .map(|(n, a)| (n.as_ref(), a))
            .chain(r.extra.iter().map(|(n, a)| (n.as_str(), a)))
        {
            assert_span(
                &sources,
                r.file,
                a.span,
                &format!("{case}: attribute {name} of {}", r.key),
            );
        }
    }
}

/// Runs a whole check on a folder with the bytes as one file named for the target.
fn check_folder(target: &str, bytes: &[u8], case: &str) {
    let name = match target {
        "csv" => "input.csv",
        "yaml" => "input.yaml",
        "json" | "scim" | "ss12000" => "input.json",
        "ldif" => "input.ldif",
        "roster" => "bundle.zip",
        "config" => "konform.yaml",
        "pipeline" => return check_pipeline(bytes, case),
        // Pack targets need a pack folder: their inputs are checked by the fuzz targets.
        _ => return,
    };
    let Ok(dir) = tempfile::tempdir() else {
        panic!("no temporary folder");
    };
    if std::fs::write(dir.path().join(name), bytes).is_err() {
        panic!("cannot write {name}");
    }
    check_dir(dir.path(), (2026, 11, 22), case);
}

/// `konform::check` on a folder, with the pipeline target's invariants.
fn check_dir(dir: &Path, (y, m, d): (i32, u32, u32), case: &str) {
    let today = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let mut options = konform::CheckOptions::new(vec![dir.to_path_buf()], today);
    options.cwd = dir.to_path_buf();
    let report = konform::check(&options);
    assert_problems(&report.sources, &report.problems, case);
    for f in &report.findings {
        assert_span(&report.sources, f.file, f.span, case);
    }
    if !report.stats.incomplete_files.is_empty() {
        assert!(report.has_errors(), "{case}: incomplete but no error");
    }
}

/// The `pipeline` target's layout: byte 0 picks, in bits 0–1, 2–3 and 4–5, the extension of
/// parts 1–3 from `[csv, yaml, json, ldif]`; bit 6 makes the last part `konform.yaml`; the rest
/// is split at `0xFF` into at most 3 parts (see fuzz/fuzz_targets/pipeline.rs).
fn check_pipeline(bytes: &[u8], case: &str) {
    let Some((&selector, rest)) = bytes.split_first() else {
        return;
    };
    let parts: Vec<&[u8]> = rest.splitn(3, |&b| b == 0xFF).collect();
    let Ok(dir) = tempfile::tempdir() else {
        panic!("no temporary folder");
    };
    // An empty .git folder stops the upward search for konform.yaml here.
    let _ = std::fs::create_dir(dir.path().join(".git"));
    for (i, part) in parts.iter().enumerate() {
        let ext = ["csv", "yaml", "json", "ldif"]
            .get(usize::from((selector >> (2 * i)) & 3))
            .copied()
            .unwrap_or("csv");
        let name = if selector & 0x40 != 0 && i + 1 == parts.len() {
            "konform.yaml".to_owned()
        } else {
            format!("input{}.{ext}", i + 1)
        };
        if std::fs::write(dir.path().join(name), part).is_err() {
            panic!("cannot write a part");
        }
    }
    check_dir(dir.path(), (2025, 6, 1), case);
}

fn cases(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for target in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = target.file_name().to_string_lossy().into_owned();
        for case in std::fs::read_dir(target.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push((name.clone(), case.path()));
        }
    }
    out.sort();
    out
}

#[test]
fn fuzz_regressions_hold_the_invariants() {
    let all = cases(&root().join("fuzz/regressions"));
    assert!(!all.is_empty(), "no regression inputs found");
    for (target, path) in all {
        let Ok(bytes) = std::fs::read(&path) else {
            panic!("cannot read {}", path.display());
        };
        let case = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        load_input(&target, &bytes, &case);
        check_folder(&target, &bytes, &case);
    }
}

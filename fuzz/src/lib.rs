//! Shared invariants of konform's fuzz targets.
//!
//! Every span konform hands out is a byte range in the *decoded* text of a file in the
//! [`SourceMap`]; renderers clamp spans, but a span outside its text or inside a UTF-8 character
//! is still a bug in the reader that produced it. The helpers below panic (which libFuzzer
//! reports as a crash) when such a span turns up.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use konform::problem::Problem;
use konform::record::Record;
use konform::render::HumanOptions;
use konform::source::detect::Format;
use konform::source::load::{InputLimits, InputSpec, LoadedInput};
use konform::source::{FileId, SourceMap, Span};

/// Whether the run was told to tolerate the known (already recorded) issue `issue`.
///
/// `KONFORM_FUZZ_KNOWN` is a comma-separated list of the issue names below; unset (the default,
/// and what `scripts/fuzz.sh` and the regression files use) every invariant is checked. It lets
/// a long run look past a crash that is recorded under `fuzz/regressions/` but not fixed yet.
///
/// - `encoding-label`: the label of a `konform::input::encoding` or `konform::config::encoding`
///   problem is placed at a byte offset of the raw (or otherwise decoded) input in the lossily
///   decoded text, so it may lie inside a U+FFFD or past the end; it is not checked.
/// - `yaml-syntax-label`: the label of a YAML syntax error (`input::syntax`, `config::syntax`,
///   `pack::syntax`, `test::syntax`; the span of `source::yaml::SyntaxError`) is one byte long,
///   so it may end inside a multi-byte character or one byte past the end; it is not checked.
pub fn known(issue: &str) -> bool {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("KONFORM_FUZZ_KNOWN")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|k| k == issue)
}

/// Asserts that `id` was handed out by `sources`.
pub fn assert_file(sources: &SourceMap, id: FileId, what: &str) {
    let count = sources.iter().count();
    assert!(
        (id.0 as usize) < count,
        "{what}: file id {} not in the source map ({count} files)",
        id.0
    );
}

/// Asserts that `span` lies inside `text` and starts and ends on character boundaries.
pub fn assert_span_in(text: &str, span: Span, what: &str) {
    let end = assert_range_in(text, span, what);
    assert!(
        text.is_char_boundary(span.offset),
        "{what}: span {span:?} starts inside a UTF-8 character"
    );
    assert!(
        text.is_char_boundary(end),
        "{what}: span {span:?} ends inside a UTF-8 character"
    );
}

/// Asserts that `span` lies inside `text` (character boundaries unchecked); returns its end.
pub fn assert_range_in(text: &str, span: Span, what: &str) -> usize {
    let end = span.offset.checked_add(span.len);
    let Some(end) = end else {
        panic!("{what}: span {span:?} overflows usize");
    };
    assert!(
        end <= text.len(),
        "{what}: span {span:?} ends at {end}, past the text of {} bytes",
        text.len()
    );
    end
}

/// Asserts that `span` lies inside the text of file `id`.
pub fn assert_span(sources: &SourceMap, id: FileId, span: Span, what: &str) {
    assert_file(sources, id, what);
    assert_span_in(sources.get(id).text(), span, what);
}

/// Asserts the spans of a record (the record and every attribute) lie inside its file.
pub fn assert_record(sources: &SourceMap, record: &Record) {
    let what = format!("record `{}`", record.key);
    assert_span(sources, record.file, record.span, &what);
    for (name, attr) in record
        .attrs
        .iter()
        .map(|(n, a)| (n.as_ref(), a))
        .chain(record.extra.iter().map(|(n, a)| (n.as_str(), a)))
    {
        assert_span(
            sources,
            record.file,
            attr.span,
            &format!("{what} attribute `{name}`"),
        );
    }
}

/// Asserts the label spans of problems placed in a file lie inside that file.
pub fn assert_problems(sources: &SourceMap, problems: &[Problem]) {
    for p in problems {
        if let Some(file) = p.file {
            for label in &p.labels {
                let what = format!("label `{}` of problem {}", label.text, p.code);
                assert_file(sources, file, &what);
                if tolerated(&p.code) {
                    continue;
                }
                assert_span(sources, file, label.span, &what);
            }
        }
    }
}

/// Whether the labels of problems with `code` are exempt by a known issue in force.
fn tolerated(code: &str) -> bool {
    const YAML_SYNTAX: [&str; 4] = [
        "konform::input::syntax",
        "konform::config::syntax",
        "konform::pack::syntax",
        "konform::test::syntax",
    ];
    ((code == "konform::input::encoding" || code == "konform::config::encoding")
        && known("encoding-label"))
        || (YAML_SYNTAX.contains(&code) && known("yaml-syntax-label"))
}

/// Draws every problem as the terminal output would (graphical and narratable).
pub fn draw_problems(sources: &SourceMap, problems: &[Problem]) {
    for p in problems {
        let diag = p.diagnostic(sources);
        let _ = konform::render::human::draw_one(&diag, &HumanOptions::default());
        let _ = konform::render::human::draw_one(
            &diag,
            &HumanOptions {
                graphics: false,
                ..HumanOptions::default()
            },
        );
    }
}

/// Asserts every invariant of one loaded input.
pub fn assert_loaded(sources: &SourceMap, loaded: &LoadedInput) {
    if let Some(file) = loaded.file {
        assert_file(sources, file, "loaded input");
    }
    for record in &loaded.records {
        assert_record(sources, record);
    }
    assert_problems(sources, &loaded.problems);
    if !loaded.is_complete() {
        assert!(loaded.problems.iter().any(Problem::is_error));
    }
}

/// Loads `data` in memory as the input `fuzz.<ext>` (with `format` forced when given), checks
/// the invariants and draws the problems.
pub fn load_member(ext: &str, format: Option<Format>, data: &[u8]) {
    let name = format!("fuzz.{ext}");
    let spec = InputSpec {
        path: PathBuf::from(&name),
        format,
        member: Some((name, Arc::from(data))),
        ..Default::default()
    };
    let mut sources = SourceMap::new();
    let loaded = konform::source::load::load(&spec, &mut sources, InputLimits::default());
    assert_loaded(&sources, &loaded);
    draw_problems(&sources, &loaded.problems);
}

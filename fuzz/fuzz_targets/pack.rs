//! The bytes (lossily decoded as UTF-8) as a pack manifest `pack.yaml`: `yaml::parse`, then
//! `pack::manifest::parse`. Never panics; the syntax error span and every problem label span lie
//! inside the text on character boundaries.
#![no_main]

use konform::source::yaml::{self, YamlLimits};
use konform::source::{FileRole, SourceFile, SourceMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = SourceMap::new();
    let file = sources
        .add(SourceFile::new("pack.yaml", None, text.clone()).with_origin(FileRole::Policy, data));
    let root = match yaml::parse(&text, YamlLimits::default()) {
        Ok(root) => root,
        Err(e) => {
            if let Some(span) = e.span
                && !konform_fuzz::known("yaml-syntax-label")
            {
                konform_fuzz::assert_span_in(&text, span, "YAML syntax error");
            }
            return;
        }
    };
    konform_fuzz::assert_span_in(&text, root.span, "YAML root node");
    let mut problems = Vec::new();
    let _manifest = konform::pack::manifest::parse(file, &root, &mut problems);
    konform_fuzz::assert_problems(&sources, &problems);
    konform_fuzz::draw_problems(&sources, &problems);
});

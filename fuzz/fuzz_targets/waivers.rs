//! The bytes (lossily decoded as UTF-8) as a waiver file, parsed by `konform::waiver::parse`:
//! never panics; every waiver span and problem label span lies inside the text on character
//! boundaries.
#![no_main]

use konform::source::{FileRole, SourceFile, SourceMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = SourceMap::new();
    let file = sources.add(
        SourceFile::new("waivers.yaml", None, text.clone()).with_origin(FileRole::Waiver, data),
    );
    let mut waivers = Vec::new();
    let mut problems = Vec::new();
    konform::waiver::parse(file, &text, &mut waivers, &mut problems);
    for w in &waivers {
        assert_eq!(w.file, file, "waiver placed in another file");
        for (span, what) in [
            (w.span, "waiver entry"),
            (w.policy_span, "waiver `policy:`"),
            (w.expires_span, "waiver `expires:`"),
            (w.subject_span, "waiver `subject:`"),
            (w.approved_by_span, "waiver `approved_by:`"),
        ] {
            konform_fuzz::assert_span_in(&text, span, what);
        }
    }
    konform_fuzz::assert_problems(&sources, &problems);
    konform_fuzz::draw_problems(&sources, &problems);
});

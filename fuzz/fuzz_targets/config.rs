//! The bytes (lossily decoded as UTF-8) as konform.yaml, validated by `konform::config::parse`:
//! never panics; problem label spans lie inside the text on character boundaries.
#![no_main]

use std::path::Path;

use konform::source::{FileRole, SourceFile, SourceMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = SourceMap::new();
    let file = sources.add(
        SourceFile::new("konform.yaml", None, text.clone()).with_origin(FileRole::Config, data),
    );
    // The folder relative paths resolve against; it is never read by `parse`.
    let dir = Path::new("/nonexistent/konform-fuzz");
    let (_config, problems) = konform::config::parse(file, &text, dir);
    konform_fuzz::assert_problems(&sources, &problems);
    konform_fuzz::draw_problems(&sources, &problems);
});

//! The bytes as a roster bundle `bundle.zip` (OneRoster / SDS): `detect_zip`, then `read` when
//! a bundle kind is found. Never panics; record, attribute and problem spans lie inside their
//! files (the zip members' decoded text).
#![no_main]

use std::sync::OnceLock;

use konform::source::SourceMap;
use konform::source::load::InputLimits;
use konform::source::roster;
use libfuzzer_sys::fuzz_target;

/// One scratch folder for the whole run; `bundle.zip` is overwritten by every input.
static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("scratch folder"));
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, data).expect("write bundle.zip");
    let Ok(kind) = roster::detect_zip(&path) else {
        return;
    };
    let mut sources = SourceMap::new();
    let loaded = roster::read(&path, kind, &mut sources, InputLimits::default());
    konform_fuzz::assert_loaded(&sources, &loaded);
    konform_fuzz::draw_problems(&sources, &loaded.problems);
});

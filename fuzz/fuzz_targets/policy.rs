//! The bytes as the Cedar policy file `fuzz.cedar` of an extra pack folder (next to a minimal
//! valid `pack.yaml`), loaded by `konform::pack::load` with no other pack. Never panics; every
//! problem label span lies inside its file on character boundaries.
#![no_main]

use std::sync::OnceLock;

use konform::pack::{PackRef, PackRequest};
use konform::source::SourceMap;
use libfuzzer_sys::fuzz_target;

/// One scratch pack folder for the whole run; `fuzz.cedar` is overwritten by every input.
static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

const MANIFEST: &str = "id: fuzz\ntitle: fuzzed policies\nversion: 0.1.0\n";

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("scratch folder");
        std::fs::create_dir(dir.path().join("pack")).expect("pack folder");
        std::fs::write(dir.path().join("pack/pack.yaml"), MANIFEST).expect("write pack.yaml");
        dir
    });
    let pack = dir.path().join("pack");
    std::fs::write(pack.join("fuzz.cedar"), data).expect("write fuzz.cedar");
    let request = PackRequest {
        packs: Some(Vec::new()),
        extra: vec![PackRef {
            name: "./pack".into(),
            path: Some(pack),
            origin: None,
        }],
        ..PackRequest::default()
    };
    let mut sources = SourceMap::with_base(dir.path().to_path_buf());
    let (_packs, problems) = konform::pack::load(&request, &mut sources);
    konform_fuzz::assert_problems(&sources, &problems);
    konform_fuzz::draw_problems(&sources, &problems);
});

//! `fuzz.ldif` loaded in memory through `konform::source::load::load` (format from the
//! extension, kind detected): never panics; record, attribute and problem spans lie inside the
//! decoded text on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    konform_fuzz::load_member("ldif", None, data);
});

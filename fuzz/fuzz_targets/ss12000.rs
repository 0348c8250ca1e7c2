//! An SS 12000 document (`format: ss12000`) loaded in memory through
//! `konform::source::load::load`: never panics; record, attribute and problem spans lie inside
//! the decoded text on character boundaries.
#![no_main]

use konform::source::detect::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    konform_fuzz::load_member("json", Some(Format::Ss12000), data);
});

//! The whole check on a folder of up to three fuzzed files, then every renderer.
//!
//! Input layout (self-describing, so seeds can be built by hand):
//!
//! ```text
//! byte 0      = selector: bits 0-1, 2-3, 4-5 pick the extension of parts 1, 2, 3 from
//!               [csv, yaml, json, ldif]; bit 6 set makes the last part `konform.yaml`
//! bytes 1..   = up to three parts separated by 0xFF (the third part keeps any later 0xFF)
//! ```
//!
//! Parts are written as `input1.<ext>`, `input2.<ext>`, `input3.<ext>` into a fresh scratch
//! folder (with an empty `.git` folder, so konform.yaml is never looked for above it), and
//! `konform::check` runs on that folder on a fixed date. Never panics; spans of problems and
//! findings lie inside their files; an input that could not be read completely makes the report
//! have errors.
#![no_main]

use chrono::NaiveDate;
use konform::CheckOptions;
use konform::finding::Severity;
use konform::render::{self, HumanOptions, RenderContext};
use libfuzzer_sys::fuzz_target;

const EXTENSIONS: [&str; 4] = ["csv", "yaml", "json", "ldif"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let parts: Vec<&[u8]> = rest.splitn(3, |&b| b == 0xFF).collect();
    let dir = tempfile::tempdir().expect("scratch folder");
    std::fs::create_dir(dir.path().join(".git")).expect(".git folder");
    for (i, part) in parts.iter().enumerate() {
        let name = if selector & 0x40 != 0 && i + 1 == parts.len() {
            "konform.yaml".to_owned()
        } else {
            let ext = EXTENSIONS[usize::from((selector >> (2 * i)) & 3)];
            format!("input{}.{ext}", i + 1)
        };
        std::fs::write(dir.path().join(name), part).expect("write part");
    }
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
    let root = dir.path().to_path_buf();
    // `CheckOptions` is non-exhaustive: built by `new`, then its public fields are set.
    let mut options = CheckOptions::new(vec![root.clone()], today);
    options.cwd = root;
    let report = konform::check(&options);

    let sources = &report.sources;
    konform_fuzz::assert_problems(sources, &report.problems);
    for f in &report.findings {
        let what = format!("finding {} on `{}`", f.policy, f.subject);
        konform_fuzz::assert_span(sources, f.file, f.span, &what);
        konform_fuzz::assert_span(sources, f.file, f.record_span, &what);
        for r in &f.related {
            konform_fuzz::assert_span(sources, r.file, r.span, &format!("{what}, related"));
        }
    }
    if !report.stats.incomplete_files.is_empty() {
        assert!(
            report.has_errors(),
            "incomplete inputs {:?} but no error in the report",
            report.stats.incomplete_files
        );
    }

    // Built from `Default` so that fields added later need no change here.
    let mut ctx = RenderContext::default();
    ctx.fail_on = Severity::Warning;
    ctx.command = Some("konform check .".into());
    ctx.run_at = Some("2025-06-01T08:00:00Z".into());
    ctx.max_findings = Some(5);
    let sanitized = konform::redact::sanitize(&report);
    let _ = render::human(&sanitized, &HumanOptions::default());
    let _ = render::human(
        &sanitized,
        &HumanOptions {
            color: true,
            graphics: false,
            ..HumanOptions::default()
        },
    );
    let _ = render::human::summary(&report, None);
    let _ = render::json(&report, ctx.fail_on);
    let _ = render::sarif::sarif(&report, &ctx);
    let _ = render::junit::junit(&report, &ctx);
    let _ = render::github::github(&report, &ctx);
    let _ = render::markdown::markdown(&report, &ctx);
    let _ = render::gitlab::gitlab(&report, &ctx);
    let _ = render::csv::csv(&report, &ctx);
    let _ = render::html::html(&report, &ctx);
    let redacted = konform::redact::redact(&report);
    let _ = render::json(&redacted, ctx.fail_on);
    let _ = render::sarif::sarif(&redacted, &ctx);
});

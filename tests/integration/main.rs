//! Integration tests: the `konform` binary end to end, and every pack's policy test cases.

mod change_review;
mod cli;
mod commands;
mod docs;
mod ecosystem;
mod fuzz_regressions;
mod hostile;
mod html_report;
mod oracle;
mod policies;
mod privacy;
mod properties;
mod reports;
mod sarif_schema;
mod setup;

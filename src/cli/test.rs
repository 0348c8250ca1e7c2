//! `konform test`: runs the policy test cases of packs.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use konform::pack::testing::{self, RunOptions};
use konform::problem::Problem;
use konform::source::SourceMap;
use miette::{GraphicalReportHandler, GraphicalTheme, NarratableReportHandler};

/// Arguments of `konform test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Pack folders (pack.yaml and tests/*.yaml) or single test files.
    /// Default: the packs built into konform.
    pub paths: Vec<PathBuf>,

    /// The evaluation date of every case (default: 2026-11-22, so that cases never age).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub today: Option<NaiveDate>,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2026-11-22"))
}

/// Runs the cases and returns the output and the exit code: 0 all passed, 1 a case failed or a
/// policy lacks a kind of case, 2 a test file or pack could not be read or understood.
pub fn run(args: &TestArgs) -> (String, i32) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut sources = SourceMap::with_base(cwd.clone());
    let (suites, problems) = testing::collect(&args.paths, &cwd, &mut sources);
    let options = args.today.map_or_else(RunOptions::default, RunOptions::new);
    let summary = testing::run(&suites, &options);
    let mut out = render_problems(&problems, &sources);
    for case in &summary.cases {
        let _ = match &case.failure {
            None => writeln!(out, "ok    {}: {}", case.policy, case.name),
            Some(why) => writeln!(out, "FAIL  {}: {} — {why}", case.policy, case.name),
        };
    }
    let gaps: Vec<String> = summary.uncovered.iter().map(ToString::to_string).collect();
    let _ = if !gaps.is_empty() {
        writeln!(
            out,
            "FAIL  without both a violating and a passing case: {}",
            gaps.join(", ")
        )
    } else if suites.is_empty() {
        Ok(())
    } else {
        writeln!(out, "ok    every policy has a violating and a passing case")
    };
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        summary.passed(),
        summary.failed()
    );
    let code = if problems.iter().any(Problem::is_error) {
        2
    } else if summary.failed() > 0 {
        1
    } else {
        0
    };
    (out, code)
}

/// Draws problems as miette diagnostics without colour: Unicode boxes (or plain narrated text
/// with `NO_GRAPHICS`), `COLUMNS` wide.
pub fn render_problems(problems: &[Problem], sources: &SourceMap) -> String {
    let graphics = super::graphics_wanted();
    let width = super::terminal_width();
    let mut out = String::new();
    for p in problems {
        let diagnostic = p.diagnostic(sources);
        let drawn = if graphics {
            GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
                .with_width(width)
                .with_links(false)
                .render_report(&mut out, &diagnostic)
        } else {
            NarratableReportHandler::new().render_report(&mut out, &diagnostic)
        };
        if drawn.is_err() {
            let _ = writeln!(out, "{p}");
        }
        out.push('\n');
    }
    out
}

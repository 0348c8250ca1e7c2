//! `konform check`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use clap::Args;
use konform::finding::Severity;
use konform::render::{self, HumanOptions};
use konform::{CheckOptions, check_outcome};

use super::{ColorChoice, FailOn, Lang, OutputFormat};

/// Arguments of `konform check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to check (folders are walked for .csv, .yaml, .yml and .json files).
    /// Default: the inputs listed in konform.yaml, else the current folder.
    pub paths: Vec<PathBuf>,

    /// The configuration file (default: konform.yaml in the checked folder or above).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The evaluation date, for reproducible runs (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_today)]
    pub today: Option<NaiveDate>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// Exit with 1 when a finding at or above this severity remains
    /// (default: `fail_on` in konform.yaml, else error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// An extra policy pack folder (pack.yaml + *.cedar); repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,

    /// The language of finding messages, where the policy is translated.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,

    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

fn parse_today(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2026-11-22"))
}

/// Runs the check and returns the process exit code.
pub fn run(args: &CheckArgs) -> (String, i32) {
    let started = Instant::now();
    let today = args
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut options = CheckOptions::new(args.paths.clone(), today);
    options.config.clone_from(&args.config);
    options.packs.clone_from(&args.packs);
    options.lang = args.lang.code().map(str::to_owned);
    options.cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let outcome = check_outcome(&options);
    let fail_on: Severity = args
        .fail_on
        .map(Severity::from)
        .or(outcome.fail_on)
        .unwrap_or(Severity::Error);
    let report = &outcome.report;
    let code = report.exit_code(fail_on);
    let text = match args.format {
        OutputFormat::Json => render::json(report, fail_on),
        OutputFormat::Human => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty() && v != "0");
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
            };
            let graphics = std::env::var_os("NO_GRAPHICS").is_none_or(|v| v.is_empty() || v == "0");
            let width = std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse::<usize>().ok())
                .filter(|w| (40..=400).contains(w))
                .unwrap_or(100);
            let elapsed = Some(started.elapsed());
            render::human(
                report,
                &HumanOptions {
                    color,
                    graphics,
                    width,
                    elapsed,
                },
            )
        }
    };
    (text, code)
}

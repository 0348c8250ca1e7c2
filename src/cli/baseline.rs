//! `konform baseline`: records the open findings of a run, for `check --baseline`.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use konform::baseline::Baseline;
use konform::{CheckOptions, check_outcome};

/// Arguments of `konform baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Files or folders to check, as for `konform check`.
    pub paths: Vec<PathBuf>,

    /// Where to write the baseline (written atomically; never over an input).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,

    /// The configuration file (default: konform.yaml in the checked folder or above).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The evaluation date (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::check::parse_today)]
    pub today: Option<NaiveDate>,

    /// An extra policy pack folder; repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,
}

/// Runs the check and writes the baseline. Exit codes: 0 written, 2 the check was incomplete
/// (a baseline of a partial check would hide findings) or the file could not be written.
pub fn run(args: &BaselineArgs) -> (String, i32) {
    let today = args
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut options = CheckOptions::new(args.paths.clone(), today);
    options.config.clone_from(&args.config);
    options.packs.clone_from(&args.packs);
    options.cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let report = check_outcome(&options).report;
    if report.has_errors() {
        let mut out = super::test::render_problems(&report.problems, &report.sources);
        out.push_str("no baseline written: the check is incomplete (exit code 2)\n");
        return (out, 2);
    }
    let baseline = Baseline::of(&report);
    let write = konform::output::check_targets(std::slice::from_ref(&args.output), &report.sources)
        .and_then(|()| konform::output::write_atomic(&args.output, baseline.to_json().as_bytes()));
    match write {
        Ok(()) => {
            let (waived, _) = report.set_aside();
            let mut out = format!(
                "recorded {} in {}",
                super::plural(baseline.findings.len(), "finding", "findings"),
                args.output.display()
            );
            if waived > 0 {
                out.push_str(&format!(" ({waived} waived, not recorded)"));
            }
            out.push('\n');
            (out, 0)
        }
        Err(e) => (format!("error: {e}\n"), 2),
    }
}

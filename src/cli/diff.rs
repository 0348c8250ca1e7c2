//! `konform diff OLD NEW`: records added, removed, renamed and changed between two exports of
//! the same list, and the findings the change introduces or resolves.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use konform::CheckOptions;
use konform::diff;
use konform::finding::Severity;
use konform::render::{self, HumanOptions};

use super::{ColorChoice, FailOn, ListFormat};

/// Arguments of `konform diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older export.
    pub old: PathBuf,
    /// The newer export of the same list.
    pub new: PathBuf,

    /// The configuration file (default: konform.yaml beside NEW or above).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The evaluation date of both checks (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::check::parse_today)]
    pub today: Option<NaiveDate>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,

    /// Exit with 1 when the change introduces a finding at or above this severity
    /// (default: `fail_on` in konform.yaml, else error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// An extra policy pack folder; repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,

    /// Mask personal data (default: on for JSON and when CI is set).
    #[arg(long, overrides_with = "no_redact")]
    pub redact: bool,

    /// Show personal data even where it is masked by default.
    #[arg(long, overrides_with = "redact")]
    pub no_redact: bool,

    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs the comparison; exit code 0, 1 (new findings at or above fail-on) or 2.
pub fn run(args: &DiffArgs) -> (String, i32) {
    let today = args
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut options = CheckOptions::new(Vec::new(), today);
    options.config.clone_from(&args.config);
    options.packs.clone_from(&args.packs);
    options.cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let d = diff::diff(&options, args.old.clone(), args.new.clone());
    let fail_on: Severity = args
        .fail_on
        .map(Severity::from)
        .or(d.fail_on)
        .unwrap_or(Severity::Error);
    let redact = if args.redact {
        true
    } else if args.no_redact {
        false
    } else {
        super::check::in_ci() || args.format == ListFormat::Json
    };
    let d = if redact { diff::redact(&d) } else { d };
    let code = d.exit_code(fail_on);
    let text = match args.format {
        ListFormat::Json => diff::json(&d, fail_on),
        ListFormat::Human => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty() && v != "0");
            let opts = HumanOptions {
                color: match args.color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
                },
                graphics: super::graphics_wanted(),
                width: super::terminal_width(),
                elapsed: None,
                max_findings: None,
            };
            let mut out = String::new();
            // Problems of the configuration (waivers, packs) show up in both checks: once.
            let mut seen = std::collections::HashSet::new();
            for report in [&d.old, &d.new] {
                for p in &report.problems {
                    if !seen.insert((p.code.clone(), p.message.clone())) {
                        continue;
                    }
                    out.push_str(&render::human::draw_one(
                        &p.diagnostic(&report.sources),
                        &opts,
                    ));
                }
            }
            if !d.introduced.findings.is_empty() {
                out.push_str("introduced by the change:\n\n");
                let introduced = konform::redact::sanitize(&d.introduced);
                for f in &introduced.findings {
                    out.push_str(&render::human::draw_one(
                        &f.diagnostic(&introduced.sources),
                        &opts,
                    ));
                }
            }
            if !d.resolved.findings.is_empty() {
                out.push_str("resolved by the change:\n");
                for f in &d.resolved.findings {
                    out.push_str(&format!(
                        "  - {} {}: {}\n",
                        f.policy,
                        konform::redact::escape_unsafe(&f.subject),
                        konform::redact::escape_unsafe(&f.message)
                    ));
                }
                out.push('\n');
            }
            out.push_str(&konform::redact::escape_unsafe(&diff::summary(&d)));
            out.push('\n');
            out
        }
    };
    (text, code)
}

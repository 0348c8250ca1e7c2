//! `konform check`.

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use clap::Args;
use konform::finding::{Report, Severity};
use konform::redact;
use konform::render::{self, HumanOptions, RenderContext};
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

    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// Also write a report in FORMAT to PATH (atomically; never over an input). Repeatable:
    /// `--output sarif=konform.sarif --output html=audit.html`.
    #[arg(long = "output", short = 'o', value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<(OutputFormat, PathBuf)>,

    /// Mask personal data (names, e-mail addresses, birth dates, national ids, usernames built
    /// from names) in every output. Default: on for json, sarif, junit, github and gitlab, and
    /// for every format when the CI environment variable is set.
    #[arg(long, overrides_with = "no_redact")]
    pub redact: bool,

    /// Show personal data even where it is masked by default.
    #[arg(long, overrides_with = "redact")]
    pub no_redact: bool,

    /// Exit with 1 when a finding at or above this severity remains
    /// (default: `fail_on` in konform.yaml, else error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// A baseline (from `konform baseline`): its findings are listed as known and do not count
    /// against --fail-on.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// An older export of the checked list: report only findings on records added or changed
    /// since (the check of manual additions before upload).
    #[arg(long, value_name = "OLD")]
    pub since: Option<PathBuf>,

    /// An extra policy pack folder (pack.yaml + *.cedar); repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,

    /// The language of finding messages, where the policy is translated.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,

    /// The largest input file read, in bytes, or with a unit: 500K, 200M, 2G (default: 1G).
    /// A larger file is an error (exit code 2), never read partly.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// The most records read from one input file (default: 2000000). A file with more is an
    /// error (exit code 2), never checked partly.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_records: Option<u64>,

    /// The deepest nesting of YAML and JSON inputs (default: 64). Deeper is an error (exit
    /// code 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub max_depth: Option<u16>,

    /// The most findings drawn one by one in human, plain and GitHub output; the rest are
    /// summarised in one line and still counted (0: all).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_findings: usize,

    /// Worker threads for the evaluation (default: all cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,

    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

fn parse_output(s: &str) -> Result<(OutputFormat, PathBuf), String> {
    use clap::ValueEnum as _;
    let Some((format, path)) = s.split_once('=') else {
        return Err(format!(
            "`{s}` is not FORMAT=PATH; write e.g. --output sarif=konform.sarif"
        ));
    };
    let format = OutputFormat::from_str(format.trim(), true).map_err(|_| {
        let names: Vec<&str> = OutputFormat::value_variants()
            .iter()
            .map(|f| f.name())
            .collect();
        format!("unknown format `{format}`; one of {}", names.join(", "))
    })?;
    if path.trim().is_empty() {
        return Err(format!("`{s}` names no file after `=`"));
    }
    Ok((format, PathBuf::from(path)))
}

/// `500K`, `200M`, `2G` or a number of bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (
            t.get(..i).unwrap_or_default(),
            t.get(i..).unwrap_or_default(),
        ),
        None => (t, ""),
    };
    let factor: u64 = match unit.to_ascii_uppercase().trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("`{s}` is not a size; write e.g. 200M or 1G")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{s}` is not a size; write e.g. 200M or 1G"))
}

/// Parses `--today` (YYYY-MM-DD).
pub fn parse_today(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2026-11-22"))
}

/// Whether the `CI` environment variable says the run is in a CI system.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The command that reproduces the run, shell-quoted, with the evaluation date pinned.
fn reproduce_command(today: NaiveDate) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut parts = vec!["konform".to_owned()];
    parts.extend(args.iter().map(|a| shell_quote(a)));
    if !args
        .iter()
        .any(|a| a == "--today" || a.starts_with("--today="))
    {
        parts.push(format!("--today {}", today.format("%Y-%m-%d")));
    }
    parts.join(" ")
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// When the run happened: `SOURCE_DATE_EPOCH` (reproducible builds) if set, else now.
fn run_at() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map(|t| t.with_timezone(&chrono::Local).fixed_offset())
        .unwrap_or_else(|| chrono::Local::now().fixed_offset());
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Runs the check, writes the report to `out` (standard output) and failures to write report
/// files to `err`, and returns the exit code.
pub fn run(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let started = Instant::now();
    let today = args
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut options = CheckOptions::new(args.paths.clone(), today);
    options.config.clone_from(&args.config);
    options.packs.clone_from(&args.packs);
    options.lang = args.lang.code().map(str::to_owned);
    options.baseline.clone_from(&args.baseline);
    options.since.clone_from(&args.since);
    if let Some(max) = args.max_file_size {
        options.limits.max_file_bytes = max;
    }
    if let Some(max) = args.max_records {
        options.limits.max_records = usize::try_from(max).unwrap_or(usize::MAX);
    }
    if let Some(max) = args.max_depth {
        options.limits.max_depth = usize::from(max);
    }
    // Only SARIF and HTML reports show the digests of inputs.
    options.limits.digests = std::iter::once(args.format)
        .chain(args.outputs.iter().map(|(format, _)| *format))
        .any(|format| matches!(format, OutputFormat::Sarif | OutputFormat::Html));
    let max_findings = (args.max_findings > 0).then_some(args.max_findings);
    options.cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(jobs) = args.jobs {
        // Only fails when the pool was already built; then the default stays.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(jobs))
            .build_global();
    }
    let progress = std::sync::Arc::new(konform::Progress::default());
    options.progress = Some(std::sync::Arc::clone(&progress));
    let bar = super::progress::Bar::start(&progress);
    let outcome = check_outcome(&options);
    if let Some(bar) = bar {
        bar.finish();
    }
    let fail_on: Severity = args
        .fail_on
        .map(Severity::from)
        .or(outcome.fail_on)
        .unwrap_or(Severity::Error);
    let mut code = outcome.report.exit_code(fail_on);
    let ctx = RenderContext {
        fail_on,
        command: Some(reproduce_command(today)),
        run_at: Some(run_at()),
        max_findings,
    };
    let ci = in_ci();
    let redact_for = |format: OutputFormat| {
        if args.redact {
            true
        } else if args.no_redact {
            false
        } else {
            ci || format.redacts_by_default()
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty() && v != "0");
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    let graphics = super::graphics_wanted();
    let width = super::terminal_width();
    let human = HumanOptions {
        color,
        graphics,
        width,
        elapsed: Some(started.elapsed()),
        max_findings,
    };
    let targets: Vec<PathBuf> = args.outputs.iter().map(|(_, p)| p.clone()).collect();
    // When every output is redacted, the report is masked in place: a report of a million
    // findings is then not held twice. Otherwise a masked copy is made when one is needed.
    let all_redacted =
        redact_for(args.format) && args.outputs.iter().all(|(format, _)| redact_for(*format));
    let report = if all_redacted {
        redact::into_redacted(outcome.report)
    } else {
        outcome.report
    };
    let mut redacted = None;
    match konform::output::check_targets(&targets, &report.sources) {
        Ok(()) => {
            for (format, path) in &args.outputs {
                let chosen = if redact_for(*format) && !all_redacted {
                    redacted.get_or_insert_with(|| redact::redact(&report))
                } else {
                    &report
                };
                // Files are never coloured.
                let opts = HumanOptions {
                    color: false,
                    ..human
                };
                // Each report is written as it is rendered (JSON straight into the file).
                let written = konform::output::write_atomic_with(path, |w| {
                    render_to(*format, chosen, &ctx, &opts, w)
                });
                if let Err(e) = written {
                    let _ = writeln!(err, "error: {e}");
                    code = 2;
                }
            }
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "error: {e}\n  help: choose another --output path; konform never writes over what it reads"
            );
            code = 2;
        }
    }
    let chosen = if redact_for(args.format) && !all_redacted {
        redacted.get_or_insert_with(|| redact::redact(&report))
    } else {
        &report
    };
    let code = match render_to(args.format, chosen, &ctx, &human, out) {
        // A closed pipe (`konform check | head`) is not an error worth reporting.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = writeln!(
                err,
                "error: cannot write the report to standard output: {e}"
            );
            2
        }
        _ => code,
    };
    // The process exits next: the memory of a report of many findings (tens of milliseconds
    // to free, piece by piece) is left to the operating system. Nothing in a report acts
    // when dropped.
    std::mem::forget((report, redacted));
    code
}

/// Writes `report` in `format` to `out`: JSON as it is converted, the other formats rendered
/// first (see [`render_as`]).
fn render_to(
    format: OutputFormat,
    report: &Report,
    ctx: &RenderContext,
    human: &HumanOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => render::write_json(report, ctx.fail_on, out),
        _ => {
            out.write_all(render_as(format, report, ctx, human).as_bytes())?;
            out.flush()
        }
    }
}

/// Renders `report` in `format`. Text for terminals is sanitised first: input data must not be
/// able to send control sequences to the terminal.
fn render_as(
    format: OutputFormat,
    report: &Report,
    ctx: &RenderContext,
    human: &HumanOptions,
) -> String {
    match format {
        OutputFormat::Human => render::human(&redact::sanitize(report), human),
        OutputFormat::Plain => render::human(
            &redact::sanitize(report),
            &HumanOptions {
                color: false,
                graphics: false,
                ..*human
            },
        ),
        OutputFormat::Json => render::json(report, ctx.fail_on),
        OutputFormat::Sarif => render::sarif::sarif(report, ctx),
        OutputFormat::Junit => render::junit::junit(report, ctx),
        OutputFormat::Github => render::github::github(report, ctx),
        OutputFormat::Markdown => render::markdown::markdown(report, ctx),
        OutputFormat::Gitlab => render::gitlab::gitlab(report, ctx),
        OutputFormat::Csv => render::csv::csv(report, ctx),
        OutputFormat::Html => render::html::html(report, ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("500"), Ok(500));
        assert_eq!(parse_size("2K"), Ok(2048));
        assert_eq!(parse_size("200M"), Ok(200 << 20));
        assert_eq!(parse_size("1GB"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}

//! Command-line definitions (clap). One file per subcommand.

pub mod baseline;
pub mod check;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod init;
pub mod man;
pub mod policies;
pub mod progress;
pub mod schema;
pub mod test;

use std::sync::LazyLock;

use clap::{Parser, Subcommand, ValueEnum};
use konform::pack::{self, manifest};
use konform::source::FileId;
use konform::source::yaml::{self, YamlLimits};

/// konform: check school IT account lists and platform configs against policy packs.
#[derive(Debug, Parser)]
#[command(
    name = "konform",
    version = VERSION.as_str(),
    about,
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check account lists, consent registers and platform configs against the policy packs.
    Check(check::CheckArgs),
    /// Record the current findings in a baseline file, for `check --baseline`.
    Baseline(baseline::BaselineArgs),
    /// Compare two exports of the same list: records added, removed, renamed, changed, and
    /// the findings the change introduces or resolves.
    Diff(diff::DiffArgs),
    /// Run the test cases of policy packs (tests/*.yaml beside the policies).
    Test(test::TestArgs),
    /// List the policy packs with their policies and limits.
    Policies(policies::PoliciesArgs),
    /// Show everything about one policy or limit: messages, basis, parameters, Cedar source.
    Explain(explain::ExplainArgs),
    /// Write a commented konform.yaml (and an empty waivers.yaml) proposed from the exports in
    /// a folder; never overwrites.
    Init(init::InitArgs),
    /// Format `.cedar` policy files with Cedar's formatter (`--check`: only report).
    Fmt(fmt::FmtArgs),
    /// Print the shell completion script for bash, zsh, fish, PowerShell or Elvish.
    #[command(after_long_help = completions::INSTALL)]
    Completions(completions::CompletionsArgs),
    /// Print konform's man page (roff), or write one page per subcommand with --out.
    Man(man::ManArgs),
    /// Print the JSON schema of konform.yaml or of a waiver file, for editor completion.
    #[command(after_long_help = schema::USE)]
    Schema(schema::SchemaArgs),
}

/// What `--version` prints after `konform `: konform's version, then on a second line the
/// version of every embedded policy pack, as its pack.yaml says, so that a report can be
/// traced to the exact rules that produced it.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let packs: Vec<String> = pack::embedded_pack_ids()
        .into_iter()
        .map(|id| {
            let version = embedded_pack_version(&id).unwrap_or_else(|| "unknown".to_owned());
            format!("{id} {version}")
        })
        .collect();
    format!("{}\npacks: {}", env!("CARGO_PKG_VERSION"), packs.join(", "))
});

/// The version in the embedded pack.yaml of pack `id`, read the way packs are loaded.
fn embedded_pack_version(id: &str) -> Option<String> {
    let path = format!("policies/{id}/pack.yaml");
    let (_, text) = pack::embedded_files().iter().find(|(p, _)| *p == path)?;
    let root = yaml::parse(text, YamlLimits::default()).ok()?;
    // Problems of the manifest are reported where the pack is loaded, not by --version.
    let mut problems = Vec::new();
    manifest::parse(FileId(0), &root, &mut problems).map(|m| m.version)
}

/// When to use ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always, also through pipes.
    Always,
    /// Never.
    Never,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Diagnostics with source snippets and a summary, for people.
    Human,
    /// Plain narratable text without drawing characters or colours, for screen readers.
    Plain,
    /// Versioned JSON (schema version 1), for machines.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for the test views of GitLab, Jenkins and Azure DevOps.
    Junit,
    /// GitHub Actions annotations (`::error file=…`).
    Github,
    /// A Markdown summary for `$GITHUB_STEP_SUMMARY` or a merge-request comment.
    Markdown,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// Findings and problems as CSV for spreadsheets (formula cells neutralised).
    Csv,
    /// A self-contained HTML audit report for data-protection officers.
    Html,
}

impl OutputFormat {
    /// Whether personal data is masked by default in this format (formats that usually end
    /// up in shared logs and code-scanning systems).
    pub fn redacts_by_default(self) -> bool {
        matches!(
            self,
            Self::Json | Self::Sarif | Self::Junit | Self::Github | Self::Gitlab
        )
    }

    /// The name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Human => "human",
            Self::Plain => "plain",
            Self::Json => "json",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
            Self::Github => "github",
            Self::Markdown => "markdown",
            Self::Gitlab => "gitlab",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }
}

/// Formats of listings (`konform policies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Human,
    /// JSON, for machines.
    Json,
}

/// Languages of finding messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// English (every policy has it).
    En,
    /// German.
    De,
    /// Danish.
    Da,
    /// Swedish.
    Sv,
}

impl Lang {
    /// The suffix of translated annotations (`message_de`); `None` for English.
    pub fn code(self) -> Option<&'static str> {
        match self {
            Self::En => None,
            Self::De => Some("de"),
            Self::Da => Some("da"),
            Self::Sv => Some("sv"),
        }
    }
}

/// The `--fail-on` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on errors only.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on any finding.
    Info,
}

impl From<FailOn> for konform::finding::Severity {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::Error => Self::Error,
            FailOn::Warning => Self::Warning,
            FailOn::Info => Self::Info,
        }
    }
}

/// Whether drawing characters are wanted: not when `NO_GRAPHICS` is set (screen readers).
pub fn graphics_wanted() -> bool {
    std::env::var_os("NO_GRAPHICS").is_none_or(|v| v.is_empty() || v == "0")
}

/// The line width: `COLUMNS` when it is between 40 and 400, else 100.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| (40..=400).contains(w))
        .unwrap_or(100)
}

/// `n` with the singular or plural noun.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

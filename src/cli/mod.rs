//! Command-line definitions (clap). One file per subcommand.

pub mod check;
pub mod explain;
pub mod policies;
pub mod test;

use clap::{Parser, Subcommand, ValueEnum};

/// konform: check school IT account lists and platform configs against policy packs.
#[derive(Debug, Parser)]
#[command(name = "konform", version, about, long_about = None, propagate_version = true)]
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
    /// Run the test cases of policy packs (tests/*.yaml beside the policies).
    Test(test::TestArgs),
    /// List the policy packs with their policies and limits.
    Policies(policies::PoliciesArgs),
    /// Show everything about one policy or limit: messages, basis, parameters, Cedar source.
    Explain(explain::ExplainArgs),
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
    /// Versioned JSON (schema version 1), for machines.
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

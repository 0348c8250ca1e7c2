//! `konform policies`: lists the packs with their policies and limits.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use konform::pack::catalog;
use konform::pack::manifest::Manifest;
use konform::pack::{Pack, PackSet};
use konform::source::SourceMap;
use serde::Serialize;

use super::ListFormat;

/// Arguments of `konform policies`.
#[derive(Debug, Args)]
pub struct PoliciesArgs {
    /// An extra policy pack folder (pack.yaml + *.cedar); repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,

    /// Print the policy index as Markdown (the content of policies/README.md).
    #[arg(long, conflicts_with = "format")]
    pub markdown: bool,

    /// What to do instead of listing.
    #[command(subcommand)]
    pub action: Option<PoliciesAction>,
}

/// Subcommands of `konform policies`.
#[derive(Debug, clap::Subcommand)]
pub enum PoliciesAction {
    /// Load pack folders and validate them strictly (manifest, facts, limits, every policy
    /// against konform's Cedar schema): diagnostics and exit 2 on any error, else a summary.
    /// Usable as a pre-commit step for policy authors; `konform test` runs their test cases.
    Validate(ValidateArgs),
}

/// Arguments of `konform policies validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Pack folders (pack.yaml and *.cedar).
    #[arg(required = true, value_name = "PACK")]
    pub packs: Vec<PathBuf>,
}

/// Validates each pack folder; exit 2 when any does not load cleanly.
fn validate(args: &ValidateArgs) -> (String, i32) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut sources = SourceMap::with_base(cwd.clone());
    let (set, problems) = catalog::load_all(&args.packs, &cwd, &mut sources);
    let mut out = super::test::render_problems(&problems, &sources);
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let Some(set) = set.filter(|_| errors == 0) else {
        let _ = writeln!(
            out,
            "invalid: {errors} error{} in {}",
            if errors == 1 { "" } else { "s" },
            args.packs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return (out, 2);
    };
    for path in &args.packs {
        let abs = std::fs::canonicalize(cwd.join(path)).unwrap_or_else(|_| cwd.join(path));
        let pack = set
            .packs
            .iter()
            .find(|p| std::fs::canonicalize(cwd.join(&p.dir)).is_ok_and(|d| d == abs));
        match pack {
            Some(pack) => {
                let all = catalog::policies_of(&set, &pack.manifest.id);
                let limits = all.iter().filter(|m| m.limit.is_some()).count();
                let _ = writeln!(
                    out,
                    "valid: {} {} ({}): {} policies, {limits} limits, {} facts, {} parameters",
                    pack.manifest.id,
                    pack.manifest.version,
                    path.display(),
                    all.len() - limits,
                    pack.manifest.facts.len(),
                    pack.manifest.parameters.len(),
                );
            }
            None => {
                let _ = writeln!(out, "valid: {}", path.display());
            }
        }
    }
    (out, 0)
}

/// The JSON document: schema version 1.
#[derive(Serialize)]
struct Listing {
    version: u32,
    packs: Vec<PackEntry>,
}

#[derive(Serialize)]
struct PackEntry {
    id: String,
    version: String,
    title: String,
    /// `embedded`, or the pack folder as given.
    source: String,
    default: bool,
    countries: Vec<String>,
    states: Vec<String>,
    policies: Vec<PolicyEntry>,
}

#[derive(Serialize)]
struct PolicyEntry {
    id: String,
    kind: &'static str,
    severity: &'static str,
    message: String,
}

/// Lists the packs; exit 2 when one does not load.
pub fn run(args: &PoliciesArgs) -> (String, i32) {
    if let Some(PoliciesAction::Validate(v)) = &args.action {
        return validate(v);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut sources = SourceMap::with_base(cwd.clone());
    let (set, problems) = catalog::load_all(&args.packs, &cwd, &mut sources);
    let Some(set) = set else {
        return (super::test::render_problems(&problems, &sources), 2);
    };
    if args.markdown {
        return (catalog::markdown_index(&set), 0);
    }
    let listing = listing(&set, &sources);
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&listing)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .unwrap_or_default(),
        ListFormat::Human => human(&listing),
    };
    (text, 0)
}

fn listing(set: &PackSet, sources: &SourceMap) -> Listing {
    let packs = set
        .packs
        .iter()
        .map(|pack| {
            let m = &pack.manifest;
            PackEntry {
                id: m.id.clone(),
                version: m.version.clone(),
                title: m.title.clone(),
                source: source_of(pack, sources),
                default: m.default,
                countries: m.countries.clone(),
                states: m.states.clone(),
                policies: catalog::policies_of(set, &m.id)
                    .into_iter()
                    .map(|p| PolicyEntry {
                        id: p.id.clone(),
                        kind: if p.limit.is_some() { "limit" } else { "policy" },
                        severity: p.severity.name(),
                        message: catalog::one_line(&p.message),
                    })
                    .collect(),
            }
        })
        .collect();
    Listing { version: 1, packs }
}

/// `embedded` for a pack built into konform, else its folder.
pub fn source_of(pack: &Pack, sources: &SourceMap) -> String {
    if sources.get(pack.manifest_file).path.is_none() {
        "embedded".to_owned()
    } else {
        pack.dir.clone()
    }
}

/// Where a pack applies, in words.
pub fn scope_of(m: &Manifest) -> String {
    scope_text(m.default, &m.countries, &m.states)
}

fn scope_text(default: bool, countries: &[String], states: &[String]) -> String {
    let place = match (countries.is_empty(), states.is_empty()) {
        (true, true) => "all schools".to_owned(),
        (false, true) => countries.join(", "),
        (true, false) => states.join(", "),
        (false, false) => format!("{} ({})", countries.join(", "), states.join(", ")),
    };
    let when = if default {
        "on by default"
    } else {
        "when named in konform.yaml"
    };
    format!("{place}, {when}")
}

fn human(listing: &Listing) -> String {
    let width = listing
        .packs
        .iter()
        .flat_map(|p| p.policies.iter().map(|e| e.id.chars().count()))
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let (mut policies, mut limits) = (0, 0);
    for pack in &listing.packs {
        let from = if pack.source == "embedded" {
            String::new()
        } else {
            format!(" (from {})", pack.source)
        };
        let _ = writeln!(out, "{} {}: {}{from}", pack.id, pack.version, pack.title);
        let scope = scope_text(pack.default, &pack.countries, &pack.states);
        let _ = writeln!(out, "  scope: {scope}");
        for p in &pack.policies {
            if p.kind == "limit" {
                limits += 1;
            } else {
                policies += 1;
            }
            let _ = writeln!(
                out,
                "  {:<width$}  {:<6}  {:<7}  {}",
                p.id, p.kind, p.severity, p.message
            );
        }
        out.push('\n');
    }
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        out,
        "{}, {}, {}",
        plural(listing.packs.len(), "pack", "packs"),
        plural(policies, "policy", "policies"),
        plural(limits, "limit", "limits")
    );
    out
}

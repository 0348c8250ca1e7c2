//! `konform explain ID`: everything about one policy or limit.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use konform::pack::catalog;
use konform::pack::{PackSet, PolicyMeta};
use konform::problem::Problem;
use konform::source::SourceMap;

use super::policies::{scope_of, source_of};
use super::test::render_problems;

/// Arguments of `konform explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The policy or limit id, e.g. `common.generic-account`.
    pub id: String,

    /// An extra policy pack folder (pack.yaml + *.cedar); repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,
}

/// Explains the policy; exit 2 when no pack has it or a pack does not load.
pub fn run(args: &ExplainArgs) -> (String, i32) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut sources = SourceMap::with_base(cwd.clone());
    let (set, problems) = catalog::load_all(&args.packs, &cwd, &mut sources);
    let Some(set) = set else {
        return (render_problems(&problems, &sources), 2);
    };
    match catalog::find(&set, &args.id) {
        Some(meta) => (explain(&set, meta, &sources), 0),
        None => {
            let hint = "`konform policies` lists every policy and limit";
            let help = match catalog::suggest(&set, &args.id) {
                Some(id) => format!("did you mean `{id}`? {hint}"),
                None => hint.to_owned(),
            };
            let problem = Problem::error(
                "cli::unknown-policy",
                format!("no pack has a policy or limit `{}`", args.id),
            )
            .with_help(help);
            (render_problems(&[problem], &sources), 2)
        }
    }
}

fn field(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "{:<14}{}",
        format!("{name}:"),
        catalog::one_line(value)
    );
}

fn explain(set: &PackSet, meta: &PolicyMeta, sources: &SourceMap) -> String {
    let mut out = String::new();
    let pack = set.packs.iter().find(|p| p.manifest.id == meta.pack);
    let kind = if meta.limit.is_some() {
        "limit"
    } else {
        "policy"
    };
    let _ = writeln!(out, "{} ({kind})", meta.id);
    if let Some(pack) = pack {
        let m = &pack.manifest;
        let from = match source_of(pack, sources).as_str() {
            "embedded" => String::new(),
            dir => format!(" (from {dir})"),
        };
        field(
            &mut out,
            "pack",
            &format!("{} {}, {}{from}", m.id, m.version, m.title),
        );
        field(&mut out, "scope", &scope_of(m));
    }
    out.push('\n');
    field(&mut out, "severity", meta.severity.name());
    field(&mut out, "message", &meta.message);
    field(&mut out, "label", &meta.label);
    for (name, value) in [
        ("help", &meta.help),
        ("basis", &meta.basis),
        ("url", &meta.url),
    ] {
        if let Some(value) = value {
            field(&mut out, name, value);
        }
    }
    let kinds: Vec<&str> = meta.kinds.iter().map(|k| k.entity_type()).collect();
    field(&mut out, "applies to", &kinds.join(", "));
    if let Some(attr) = &meta.span_attr {
        field(&mut out, "marks", attr);
    }
    let limit = meta.limit.and_then(|i| set.limits.get(i));
    if let Some(limit) = limit {
        let per = match limit.def.per {
            konform::pack::manifest::Per::School => "per school",
            konform::pack::manifest::Per::All => "over all records",
        };
        field(
            &mut out,
            "counts",
            &format!("records selected by `select`, {per}"),
        );
        field(&mut out, "select", &limit.def.select);
        field(
            &mut out,
            "max",
            &format!("{} (parameter {})", limit.max, limit.def.max_param),
        );
    }
    if !meta.translations.is_empty() {
        out.push_str("\ntranslations:\n");
        for (name, text) in &meta.translations {
            let _ = writeln!(
                out,
                "  {:<12}{}",
                format!("{name}:"),
                catalog::one_line(text)
            );
        }
    }
    if let Some(pack) = pack {
        let params = &pack.manifest.parameters;
        let _ = writeln!(out, "\nparameters of pack {}:", pack.manifest.id);
        if params.is_empty() {
            out.push_str("  none\n");
        }
        for p in params {
            let _ = writeln!(
                out,
                "  {} ({}, default: {})",
                p.name,
                p.ty.name(),
                p.default.display()
            );
            if !p.description.is_empty() {
                let _ = writeln!(out, "    {}", catalog::one_line(&p.description));
            }
        }
    }
    let file = sources.get(meta.file);
    match catalog::policy_source(meta, sources) {
        Some((line, text)) => {
            let _ = writeln!(out, "\nsource: {}:{line}", file.name);
            for l in text.lines() {
                let _ = writeln!(out, "  {l}");
            }
        }
        None => {
            let (line, _) = file.line_col(meta.span.offset);
            let _ = writeln!(out, "\ndefined in: {}:{line}", file.name);
        }
    }
    out
}

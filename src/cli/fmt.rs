//! `konform fmt [--check] [PATH…]`: formats `.cedar` policy files with Cedar's own formatter.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

/// Arguments of `konform fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// `.cedar` files or folders to format (folders are walked; hidden folders and `target`
    /// are skipped). Default: the current folder.
    pub paths: Vec<PathBuf>,

    /// Change nothing; list the files that are not formatted and exit with 1 if there are
    /// any (for CI and pre-commit).
    #[arg(long)]
    pub check: bool,

    /// The line width the formatter aims for.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub line_width: usize,
}

/// The `.cedar` files under `paths`, sorted.
fn cedar_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.exists() {
            errors.push(format!("`{}` does not exist", path.display()));
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !(e.file_type().is_dir()
                        && e.file_name()
                            .to_str()
                            .is_some_and(|n| n.starts_with('.') || n == "target"))
            });
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() && is_cedar(e.path()) => {
                    files.push(e.path().to_path_buf());
                }
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn is_cedar(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("cedar"))
}

/// Formats one policy file's text; an error names why it cannot be formatted.
pub fn format_policies(text: &str, line_width: usize) -> Result<String, String> {
    let config = cedar_policy_formatter::Config {
        line_width,
        indent_width: 2,
    };
    cedar_policy_formatter::policies_str_to_pretty(text, &config).map_err(|e| {
        let mut message = e.to_string();
        for cause in e.chain().skip(1) {
            let _ = write!(message, ": {cause}");
        }
        message
    })
}

/// Formats (or checks) the files; exit 1 when `--check` finds unformatted files, 2 when a file
/// cannot be read, parsed or written.
pub fn run(args: &FmtArgs) -> (String, i32) {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let (files, errors) = cedar_files(&paths);
    let mut out = String::new();
    let mut code = 0;
    for e in errors {
        let _ = writeln!(out, "error: {e}");
        code = 2;
    }
    let (mut changed, mut unchanged) = (0, 0);
    for file in &files {
        let shown = file.display();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(out, "error: cannot read `{shown}`: {e}");
                code = 2;
                continue;
            }
        };
        let formatted = match format_policies(&text, args.line_width) {
            Ok(f) => f,
            Err(e) => {
                let _ = writeln!(
                    out,
                    "error: cannot format `{shown}`: {e}\n  help: `konform policies validate` shows where the policy is broken"
                );
                code = 2;
                continue;
            }
        };
        if formatted == text {
            unchanged += 1;
            continue;
        }
        changed += 1;
        if args.check {
            let _ = writeln!(out, "not formatted: {shown}");
            code = code.max(1);
        } else if let Err(e) = konform::output::write_atomic(file, formatted.as_bytes()) {
            let _ = writeln!(out, "error: {e}");
            code = 2;
        } else {
            let _ = writeln!(out, "formatted: {shown}");
        }
    }
    let verb = if args.check { "to format" } else { "formatted" };
    let _ = writeln!(
        out,
        "{} .cedar files: {changed} {verb}, {unchanged} already formatted",
        files.len()
    );
    if files.is_empty() && code == 0 {
        out.push_str("  (no .cedar files found)\n");
    }
    (out, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_is_stable_and_keeps_comments() {
        let messy = "// keep me\n@id(\"x\")\n@severity(\"error\")\n@message(\"m\")\nforbid(principal is Account,action==Action::\"check\",resource)\nwhen{principal.roles.contains(\"admin\")};\n";
        let once = format_policies(messy, 100).unwrap_or_default();
        assert!(once.contains("// keep me"), "{once}");
        assert!(once.contains("principal is Account,"), "{once}");
        assert_ne!(once, messy);
        assert_eq!(format_policies(&once, 100).as_deref(), Ok(once.as_str()));
        assert!(format_policies("forbid (", 100).is_err());
    }
}

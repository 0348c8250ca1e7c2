//! Finding the input files under the paths given on the command line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::problem::Problem;
use crate::source::roster::{self, BundleKind};
use crate::source::{SourceMap, display_path};

/// Files to read one by one, roster bundle folders, and problems met while walking.
pub type Discovered = (Vec<PathBuf>, Vec<(PathBuf, BundleKind)>, Vec<Problem>);

/// File names that are konform's own files, never inputs.
const OWN_FILES: &[&str] = &[
    "konform.yaml",
    "konform.yml",
    "waivers.yaml",
    "waivers.yml",
    "pack.yaml",
    "baseline.json",
];
/// Folders never walked into: build output, packs, and archives of older exports (kept for
/// `konform diff` and `check --since`, never checked as current).
const SKIP_DIRS: &[&str] = &[
    "target",
    "node_modules",
    "policies",
    "packs",
    "archive",
    "history",
];
/// Extensions of input files found in folders.
const INPUT_EXTENSIONS: &[&str] = &["csv", "tsv", "yaml", "yml", "json", "ldif", "zip"];

/// The files to read for `paths`: files as given; folders walked (sorted, hidden entries and
/// konform's own files skipped, symbolic links not followed). Problems for paths that do not
/// exist or cannot be walked, and for folders with no input at all.
pub fn discover(paths: &[PathBuf], sources: &SourceMap) -> (Vec<PathBuf>, Vec<Problem>) {
    let (files, bundles, problems) = discover_all(paths, sources);
    let mut out = files;
    out.extend(bundles.into_iter().map(|(p, _)| p));
    (out, problems)
}

/// Like [`discover`], with roster bundles (OneRoster, SDS folders) found as folders of their
/// own: their files are read together, never one by one.
pub fn discover_all(paths: &[PathBuf], sources: &SourceMap) -> Discovered {
    let mut out = Vec::new();
    let mut bundles: Vec<(PathBuf, BundleKind)> = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in paths {
        let shown = sources.display(path);
        if !path.exists() {
            problems.push(
                Problem::error("input::not-found", format!("`{shown}` does not exist"))
                    .with_help("give an existing file or folder to check"),
            );
            continue;
        }
        if path.is_file() {
            if seen.insert(key(path)) {
                add_file(path, sources, &mut out, &mut bundles, &mut problems);
            }
            continue;
        }
        let before = out.len() + bundles.len();
        let mut walker = WalkDir::new(path)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !skipped(e.path(), e.file_type().is_dir()));
        while let Some(entry) = walker.next() {
            if let Ok(e) = &entry
                && e.file_type().is_dir()
                && let Some(kind) = roster::detect(e.path())
            {
                if seen.insert(key(e.path())) {
                    bundles.push((e.path().to_path_buf(), kind));
                }
                walker.skip_current_dir();
                continue;
            }
            match entry {
                Ok(e) if e.file_type().is_file() && is_input(e.path()) => {
                    if seen.insert(key(e.path())) {
                        add_file(e.path(), sources, &mut out, &mut bundles, &mut problems);
                    }
                }
                // A link is never walked into (folder links can loop); a link to a file is
                // read like the file, and one that cannot be resolved is an error, not a
                // silently skipped input.
                Ok(e) if e.path_is_symlink() && e.depth() > 0 => {
                    let at = sources.display(e.path());
                    match std::fs::metadata(e.path()) {
                        Ok(m) if m.is_file() && is_input(e.path()) => {
                            if seen.insert(key(e.path())) {
                                add_file(e.path(), sources, &mut out, &mut bundles, &mut problems);
                            }
                        }
                        Ok(m) if m.is_dir() => problems.push(
                            Problem::warning(
                                "input::link-not-followed",
                                format!("`{at}` is a link to a folder; it was not walked"),
                            )
                            .with_help("konform does not follow folder links (they can loop); give the folder itself to check it"),
                        ),
                        Ok(_) => {}
                        Err(err) if is_input(e.path()) => problems.push(
                            Problem::error(
                                "input::unreadable",
                                format!("cannot read `{at}`, a link: {err}"),
                            )
                            .with_help("the link points nowhere or in a loop; fix or remove it"),
                        ),
                        Err(_) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let at = e
                        .path()
                        .map_or_else(|| shown.clone(), |p| sources.display(p));
                    problems.push(
                        Problem::error("input::unreadable", format!("cannot read `{at}`: {e}"))
                            .with_help(
                                "konform needs read permission on every file and folder it checks",
                            ),
                    );
                }
            }
        }
        if out.len() + bundles.len() == before {
            problems.push(
                Problem::error("input::no-inputs", format!("no input files in `{shown}`"))
                    .with_help(format!(
                        "konform reads files ending in {}; name a file directly, or list inputs in konform.yaml",
                        INPUT_EXTENSIONS.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(", ")
                    )),
            );
        }
    }
    (out, bundles, problems)
}

/// A file found: a `.zip` is a roster bundle (or an error), anything else an input file.
fn add_file(
    path: &Path,
    sources: &SourceMap,
    files: &mut Vec<PathBuf>,
    bundles: &mut Vec<(PathBuf, BundleKind)>,
    problems: &mut Vec<Problem>,
) {
    let is_zip = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !is_zip {
        files.push(path.to_path_buf());
        return;
    }
    match roster::detect_zip(path) {
        Ok(kind) => bundles.push((path.to_path_buf(), kind)),
        Err(e) => problems.push(
            Problem::error("input::bad-zip", format!("cannot read `{}`: {e}", sources.display(path)))
                .with_help("konform reads OneRoster and SDS bundles as .zip; unpack other archives and check their files"),
        ),
    }
}

/// A key identifying a file regardless of how its path was written.
pub fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(display_path(path)))
}

fn skipped(path: &Path, is_dir: bool) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.') || (is_dir && SKIP_DIRS.contains(&name))
}

fn is_input(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if OWN_FILES.contains(&name) || name.starts_with('.') {
        return false;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| INPUT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        && !is_own_report(path)
}

/// Whether a file found in a folder is a report konform wrote (`-o json=…`, a GitLab Code
/// Quality report, a CSV of findings): checking it as an input on the next run would fail.
fn is_own_report(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = [0u8; 1024];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = String::from_utf8_lossy(head.get(..n).unwrap_or_default());
    let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("\"tool\":{\"name\":\"konform\"")
        || compact.contains("sarif-2.1.0")
        || (compact.starts_with('[') && compact.contains("\"check_name\":"))
        || compact
            .trim_start_matches('\u{feff}')
            .starts_with("type,severity,policy,pack,file")
        || compact.contains("\"tool\":\"konform")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_reports_and_archives_are_not_inputs() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        std::fs::write(
            d.join("report.json"),
            "{\n  \"version\": 1,\n  \"tool\": {\n    \"name\": \"konform\",",
        )?;
        std::fs::write(
            d.join("cq.json"),
            "[{\"description\": \"x\", \"check_name\": \"a\"}]",
        )?;
        std::fs::write(
            d.join("findings.csv"),
            "\u{feff}type,severity,policy,pack,file,line\n",
        )?;
        std::fs::write(d.join("accounts.csv"), "id;username\n1;a\n")?;
        std::fs::create_dir(d.join("archive"))?;
        std::fs::write(d.join("archive/accounts.csv"), "id;username\n1;a\n")?;
        let (files, problems) = discover(&[d.to_path_buf()], &SourceMap::new());
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<String> = files.iter().map(|f| display_path(f)).collect();
        assert_eq!(files.len(), 1, "{names:?}");
        Ok(())
    }

    #[test]
    fn walks_sorted_and_skips_own_and_hidden_files() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        std::fs::create_dir_all(d.join("exports"))?;
        std::fs::create_dir_all(d.join(".git"))?;
        for f in [
            "konform.yaml",
            "b.csv",
            "exports/a.yaml",
            "notes.md",
            ".hidden.csv",
            ".git/x.csv",
        ] {
            std::fs::write(d.join(f), "x")?;
        }
        let (files, problems) = discover(&[d.to_path_buf()], &SourceMap::new());
        assert!(problems.is_empty());
        let names: Vec<String> = files
            .iter()
            .filter_map(|f| f.strip_prefix(d).ok())
            .map(display_path)
            .collect();
        assert_eq!(names, vec!["b.csv", "exports/a.yaml"]);
        Ok(())
    }

    #[test]
    fn missing_paths_and_empty_folders_are_errors() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let (_, problems) = discover(
            &[dir.path().join("nope"), dir.path().to_path_buf()],
            &SourceMap::new(),
        );
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["konform::input::not-found", "konform::input::no-inputs"]
        );
        Ok(())
    }
}

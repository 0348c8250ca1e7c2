//! Gathering test files: from the embedded packs, pack folders or single files, grouped by the
//! pack they test, with that pack loaded.

use std::path::{Path, PathBuf};

use super::PackSource;
use super::parse::{TestFile, parse_file};
use crate::pack::{self, PackRef, PackRequest, PackSet};
use crate::problem::Problem;
use crate::source::{FileId, SourceFile, SourceMap};

/// The test files of one pack, with the pack loaded.
#[derive(Debug)]
#[non_exhaustive]
pub struct Suite {
    /// Where the pack comes from.
    pub source: PackSource,
    /// The loaded pack.
    pub set: PackSet,
    /// The pack id.
    pub pack: String,
    /// The valid test files (malformed ones are reported as problems).
    pub files: Vec<TestFile>,
    /// Whether the whole pack is under test (its folder, or the embedded packs); otherwise
    /// coverage is only checked for the policies the given files name.
    pub whole: bool,
}

/// Test files gathered for one pack before it is loaded.
struct Pending {
    source: Option<PackSource>,
    files: Vec<FileId>,
    whole: bool,
}

/// Gathers the suites to run: with no `paths`, every embedded pack's; else each path is a pack
/// folder (`pack.yaml` + `tests/*.yaml`) or a single test file. Paths are resolved against
/// `cwd`. Unreadable or malformed test files and packs are problems; their cases are left out.
pub fn collect(
    paths: &[PathBuf],
    cwd: &Path,
    sources: &mut SourceMap,
) -> (Vec<Suite>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    if paths.is_empty() {
        for id in pack::embedded_pack_ids() {
            let prefix = format!("policies/{id}/tests/");
            let files = pack::embedded_files()
                .iter()
                .filter(|(path, _)| {
                    path.strip_prefix(&prefix).is_some_and(|rest| {
                        !rest.contains('/') && (rest.ends_with(".yaml") || rest.ends_with(".yml"))
                    })
                })
                .map(|(path, text)| sources.add(SourceFile::new(*path, None, *text)))
                .collect();
            pending.push(Pending {
                source: Some(PackSource::Embedded(id)),
                files,
                whole: true,
            });
        }
    }
    for path in paths {
        let abs = cwd.join(path);
        match gather_path(&abs, sources) {
            Ok(p) => pending.push(p),
            Err(p) => problems.push(p),
        }
    }
    let mut parsed: Vec<(Pending, Vec<TestFile>)> = Vec::new();
    for p in pending {
        let mut files = Vec::new();
        for &file in &p.files {
            let (test, found) = parse_file(file, sources);
            problems.extend(found);
            files.extend(test);
        }
        parsed.push((p, files));
    }
    let groups = group_by_pack(parsed, sources, &mut problems);
    let mut suites: Vec<Suite> = Vec::new();
    for (source, files, whole) in groups {
        let (set, found) = load(&source, sources);
        problems.extend(found);
        let Some(set) = set else {
            continue;
        };
        let pack = set
            .packs
            .first()
            .map(|p| p.manifest.id.clone())
            .unwrap_or_default();
        let mut valid = Vec::new();
        for t in files {
            if set.meta.contains_key(&t.policy) {
                valid.push(t);
            } else {
                problems.push(unknown_policy(&t, &set, &pack));
            }
        }
        suites.push(Suite {
            source,
            set,
            pack,
            files: valid,
            whole,
        });
    }
    (suites, problems)
}

/// Groups parsed test files by the pack they test. A single test file outside a pack folder
/// tests the embedded pack its policy names; a file named twice is run once.
fn group_by_pack(
    parsed: Vec<(Pending, Vec<TestFile>)>,
    sources: &SourceMap,
    problems: &mut Vec<Problem>,
) -> Vec<(PackSource, Vec<TestFile>, bool)> {
    let mut groups: Vec<(PackSource, Vec<TestFile>, bool)> = Vec::new();
    for (p, files) in parsed {
        let source = match p.source {
            Some(s) => s,
            None => match files.first().and_then(|t| embedded_pack_of(&t.policy)) {
                Some(id) => PackSource::Embedded(id),
                None => {
                    for t in &files {
                        problems.push(
                            Problem::error(
                                "test::no-pack",
                                format!("cannot tell which pack tests `{}`", t.policy),
                            )
                            .at(t.file, t.policy_span, "no embedded pack has this policy")
                            .with_help("put the test file in the `tests` folder of its pack, next to pack.yaml"),
                        );
                    }
                    continue;
                }
            },
        };
        let name = |t: &TestFile| sources.get(t.file).name.clone();
        match groups.iter_mut().find(|(s, _, _)| *s == source) {
            Some((_, known, whole)) => {
                for t in files {
                    if !known.iter().any(|k| name(k) == name(&t)) {
                        known.push(t);
                    }
                }
                *whole |= p.whole;
            }
            None => groups.push((source, files, p.whole)),
        }
    }
    groups
}

/// A pack folder (its `tests/*.yaml`) or one test file.
fn gather_path(path: &Path, sources: &mut SourceMap) -> Result<Pending, Problem> {
    let shown = sources.display(path);
    let unreadable = |what: String, e: std::io::Error| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!("`{what}` does not exist")
        } else {
            format!("cannot read `{what}`: {e}")
        };
        Problem::error("test::unreadable", message)
            .with_help("give a pack folder (pack.yaml and tests/) or a test file")
    };
    if path.is_dir() {
        if !path.join("pack.yaml").is_file() {
            return Err(Problem::error(
                "test::not-a-pack",
                format!("`{shown}` is not a pack folder: it has no pack.yaml"),
            )
            .with_help("give a pack folder (pack.yaml and tests/) or a test file"));
        }
        let tests = path.join("tests");
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&tests) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect(),
            // A pack without tests is reported by coverage, as every policy lacks cases.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(unreadable(sources.display(&tests), e)),
        };
        names.sort();
        let mut files = Vec::new();
        for name in names {
            let text = std::fs::read_to_string(&name)
                .map_err(|e| unreadable(sources.display(&name), e))?;
            files.push(sources.add(SourceFile::new(sources.display(&name), Some(name), text)));
        }
        return Ok(Pending {
            source: Some(PackSource::Folder(path.to_path_buf())),
            files,
            whole: true,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(shown.clone(), e))?;
    let file = sources.add(SourceFile::new(shown, Some(path.to_path_buf()), text));
    // `<pack>/tests/<file>.yaml` tests the pack in `<pack>`.
    let pack_dir = path
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "tests"))
        .and_then(Path::parent)
        .filter(|p| p.join("pack.yaml").is_file());
    Ok(Pending {
        source: pack_dir.map(|d| PackSource::Folder(d.to_path_buf())),
        files: vec![file],
        whole: false,
    })
}

fn embedded_pack_of(policy: &str) -> Option<String> {
    let (pack, _) = policy.split_once('.')?;
    pack::embedded_pack_ids().into_iter().find(|id| id == pack)
}

/// Loads the pack of `source` alone, as a case does.
pub fn load(source: &PackSource, sources: &mut SourceMap) -> (Option<PackSet>, Vec<Problem>) {
    let reference = match source {
        PackSource::Embedded(id) => PackRef::new(id, Path::new("."), None),
        PackSource::Folder(dir) => PackRef {
            name: sources.display(dir),
            path: Some(dir.clone()),
            origin: None,
        },
    };
    let request = PackRequest {
        packs: Some(vec![reference]),
        ..PackRequest::default()
    };
    pack::load(&request, sources)
}

fn unknown_policy(t: &TestFile, set: &PackSet, pack: &str) -> Problem {
    let p = Problem::error(
        "test::unknown-policy",
        format!("`{}` is not a policy of pack `{pack}`", t.policy),
    )
    .at(t.file, t.policy_span, "no such policy or limit");
    let mut ids: Vec<&str> = set.meta.keys().map(String::as_str).collect();
    ids.sort_unstable();
    let best = ids
        .iter()
        .map(|id| (strsim::jaro_winkler(&t.policy, id), *id))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, id)) => p.with_help(format!(
            "did you mean `{id}`? policies of `{pack}`: {}",
            ids.join(", ")
        )),
        None => p.with_help(format!("policies of `{pack}`: {}", ids.join(", "))),
    }
}

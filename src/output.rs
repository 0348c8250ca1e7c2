//! Writing report files: atomically, and never over an input.
//!
//! A report is written to a temporary file in the target's folder and renamed over the target,
//! so that a reader (a CI step, a browser) sees the old file or the complete new one, never a
//! half-written one, and an interrupted run leaves no partial file behind. konform refuses to
//! write onto a file it read during the run: a typo in `--output` must not destroy an export.

use std::path::{Path, PathBuf};

use crate::source::SourceMap;

/// Why a report file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The target is a file konform read during this run.
    #[error("refusing to write `{0}`: it is an input of this run")]
    IsInput(String),
    /// The target is a folder.
    #[error("cannot write `{0}`: it is a folder")]
    IsDir(String),
    /// Two outputs name the same file.
    #[error("`{0}` is named by two --output options")]
    Twice(String),
    /// The file system said no.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The target as given.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The path with its folder resolved (the file itself need not exist).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => dir
            .canonicalize()
            .map_or_else(|_| path.to_path_buf(), |d| d.join(name)),
        (_, Some(name)) => {
            std::env::current_dir().map_or_else(|_| path.to_path_buf(), |d| d.join(name))
        }
        _ => path.to_path_buf(),
    }
}

/// Checks that none of `targets` is a file read during the run (by `sources`), a folder, or
/// named twice. Call it before writing anything, so that nothing is written when one is bad.
pub fn check_targets(targets: &[PathBuf], sources: &SourceMap) -> Result<(), WriteError> {
    let read: Vec<PathBuf> = sources
        .iter()
        .filter_map(|(_, f)| f.path.as_deref().map(resolved))
        .collect();
    let mut seen: Vec<PathBuf> = Vec::new();
    for t in targets {
        let shown = t.display().to_string();
        let r = resolved(t);
        if r.is_dir() {
            return Err(WriteError::IsDir(shown));
        }
        if read.contains(&r) {
            return Err(WriteError::IsInput(shown));
        }
        if seen.contains(&r) {
            return Err(WriteError::Twice(shown));
        }
        seen.push(r);
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], with the content written by `write` into the temporary file (a
/// large report streamed there instead of built in memory first). Nothing is renamed over
/// `path` when `write` fails.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".konform-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io)?;
    write(tmp.as_file_mut()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn writes_atomically_and_replaces() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("report.sarif");
        write_atomic(&target, b"one")?;
        write_atomic(&target, b"two")?;
        assert_eq!(std::fs::read_to_string(&target)?, "two");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn refuses_inputs_folders_and_duplicates() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("accounts.csv");
        std::fs::write(&input, "id\n1\n")?;
        let mut sources = SourceMap::new();
        sources.add(SourceFile::new(
            "accounts.csv",
            Some(input.clone()),
            "id\n1\n",
        ));
        // The same file reached through `sub/..` is still the input.
        std::fs::create_dir(dir.path().join("sub"))?;
        let sneaky = dir.path().join("sub/../accounts.csv");
        assert!(matches!(
            check_targets(&[sneaky], &sources),
            Err(WriteError::IsInput(_))
        ));
        assert!(matches!(
            check_targets(&[dir.path().to_path_buf()], &sources),
            Err(WriteError::IsDir(_))
        ));
        let out = dir.path().join("out.json");
        assert!(matches!(
            check_targets(&[out.clone(), out.clone()], &sources),
            Err(WriteError::Twice(_))
        ));
        assert!(check_targets(&[out], &sources).is_ok());
        Ok(())
    }

    #[test]
    fn missing_folder_is_an_error_not_a_panic() {
        let r = write_atomic(Path::new("/nonexistent-konform-dir/x.json"), b"x");
        assert!(matches!(r, Err(WriteError::Io { .. })));
    }
}

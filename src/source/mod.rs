//! Sources: the files konform reads, their decoded text, and byte spans into them.
//!
//! A [`SourceMap`] owns every file read during a run (inputs, konform.yaml, packs, the generated
//! Cedar schema). Everything else refers to a file by [`FileId`] and to a place in it by
//! [`Span`], a byte range in the *decoded UTF-8 text* of the file. Readers for the individual
//! formats live in the submodules.

pub mod columns;
pub mod csv;
pub mod detect;
pub mod discover;
pub mod fields;
pub mod ldif;
pub mod load;
pub mod roster;
pub mod scim;
pub mod ss12000;
pub mod text;
pub mod tree;
pub mod value;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

/// The index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in a file's decoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

impl Span {
    /// A span of `len` bytes starting at `offset`.
    pub const fn new(offset: usize, len: usize) -> Self {
        Self { offset, len }
    }

    /// The span from `start` to `end` (exclusive); empty when `end < start`.
    pub fn from_range(start: usize, end: usize) -> Self {
        Self::new(start, end.saturating_sub(start))
    }

    /// The offset one past the last byte.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }

    /// The span widened to whole characters of `text` and cut to its length, so that it can
    /// be sliced and shown: an offset inside a multi-byte character moves to its start, an end
    /// inside one to its end.
    pub fn snapped(self, text: &str) -> Span {
        let mut start = self.offset.min(text.len());
        while start > 0 && !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = self.end().clamp(start, text.len());
        while end < text.len() && !text.is_char_boundary(end) {
            end += 1;
        }
        Span::from_range(start, end)
    }

    /// Whether `other` lies entirely inside this span.
    pub fn contains(&self, other: Span) -> bool {
        other.offset >= self.offset && other.end() <= self.end()
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> Self {
        SourceSpan::new(s.offset.into(), s.len)
    }
}

/// What a file is to the run: shown in audit reports, which list every file with its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum FileRole {
    /// An account list, consent register, platform config or other checked input.
    Input,
    /// konform.yaml or a config it extends.
    Config,
    /// A pack manifest or Cedar policy file.
    Policy,
    /// A waiver file.
    Waiver,
    /// Text konform generated itself (the Cedar schema).
    #[default]
    Generated,
}

impl FileRole {
    /// The lowercase name (`input`, `config`, `policy`, `waiver`, `generated`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Config => "config",
            Self::Policy => "policy",
            Self::Waiver => "waiver",
            Self::Generated => "generated",
        }
    }
}

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A file read during a run: its name as shown to users and its decoded text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown in diagnostics (relative where the user gave a relative path).
    pub name: String,
    /// The path on disk; `None` for embedded or generated text.
    pub path: Option<PathBuf>,
    /// The decoded text (UTF-8, without a byte-order mark).
    pub text: Arc<str>,
    /// The encoding the file was decoded from (e.g. `UTF-8`, `windows-1252`).
    pub encoding: &'static str,
    /// What the file is to the run.
    pub role: FileRole,
    /// The SHA-256 of the bytes as read (before decoding), when the file came from disk or
    /// from konform's embedded packs.
    pub sha256: Option<String>,
    /// Byte offsets at which lines start, for line/column look-ups.
    line_starts: Vec<usize>,
    /// The same text as a miette source, shared by all diagnostics of this file.
    named: Arc<NamedSource<Arc<str>>>,
}

impl SourceFile {
    /// A file with the given display name and decoded text.
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        let language = match Path::new(&name).extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => "yaml",
            Some("json") => "json",
            Some("cedar") => "cedar",
            Some("csv" | "tsv") => "csv",
            _ => "text",
        };
        let named =
            Arc::new(NamedSource::new(name.clone(), Arc::clone(&text)).with_language(language));
        Self {
            name,
            path,
            text,
            encoding: "UTF-8",
            role: FileRole::default(),
            sha256: None,
            line_starts,
            named,
        }
    }

    /// The same file with its role and the SHA-256 of the bytes it was decoded from.
    #[must_use]
    pub fn with_origin(mut self, role: FileRole, bytes: &[u8]) -> Self {
        self.role = role;
        self.sha256 = Some(sha256_hex(bytes));
        self
    }

    /// A copy with other text of the same length (masked or sanitised), keeping name, path,
    /// role and digest. Byte offsets into the original stay valid in the copy.
    pub fn with_text(&self, text: String) -> Self {
        let mut copy = Self::new(self.name.clone(), self.path.clone(), text);
        copy.encoding = self.encoding;
        copy.role = self.role;
        copy.sha256.clone_from(&self.sha256);
        copy
    }

    /// The miette source for diagnostics into this file.
    pub fn named_source(&self) -> Arc<NamedSource<Arc<str>>> {
        Arc::clone(&self.named)
    }

    /// 1-based line and column (in characters) of a byte offset; offsets past the end clamp.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp_offset(offset);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The byte range of the lines of `span` and of `n` lines before and after it.
    pub fn lines_around(&self, span: Span, n: usize) -> (usize, usize) {
        let line_of = |offset: usize| match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let first = line_of(self.clamp_offset(span.offset)).saturating_sub(n);
        let last = line_of(self.clamp_offset(span.end())).saturating_add(n + 1);
        let start = self.line_starts.get(first).copied().unwrap_or(0);
        let end = self
            .line_starts
            .get(last)
            .copied()
            .unwrap_or(self.text.len());
        (start, end)
    }

    /// The span clamped to the text and to character boundaries, so it can always be rendered.
    pub fn clamp(&self, span: Span) -> Span {
        let start = self.clamp_offset(span.offset);
        let end = self.clamp_offset(span.end().max(start));
        Span::from_range(start, end)
    }

    fn clamp_offset(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while o > 0 && !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// The text of a span (empty when it does not fit the text).
    pub fn slice(&self, span: Span) -> &str {
        let s = self.clamp(span);
        self.text.get(s.offset..s.end()).unwrap_or("")
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Whether a snippet of `span` (its lines and one line of context either side) is small
    /// enough to show: no line longer than [`MAX_SNIPPET_LINE`] bytes, at most
    /// [`MAX_SNIPPET_LINES`] lines. A minified JSON file or a hostile 200 MB line must not be
    /// printed whole into a terminal or CI log.
    pub fn snippet_fits(&self, span: Span) -> bool {
        let span = self.clamp(span);
        let line_of = |offset: usize| match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let first = line_of(span.offset).saturating_sub(1);
        let last = (line_of(span.end()) + 1).min(self.line_starts.len().saturating_sub(1));
        if last.saturating_sub(first) >= MAX_SNIPPET_LINES {
            return false;
        }
        (first..=last).all(|i| {
            let start = self.line_starts.get(i).copied().unwrap_or(0);
            let end = self
                .line_starts
                .get(i + 1)
                .copied()
                .unwrap_or(self.text.len());
            end.saturating_sub(start) <= MAX_SNIPPET_LINE
        })
    }

    /// Where `span` starts, as `name:line:column`, with why its snippet is not shown.
    pub fn unshown_location(&self, span: Span) -> String {
        let (line, col) = self.line_col(span.offset);
        format!(
            "at {}:{line}:{col} (not shown: the lines are too long or too many)",
            self.name
        )
    }
}

/// The longest line shown in a source snippet, in bytes.
pub const MAX_SNIPPET_LINE: usize = 4096;
/// The most lines shown in one source snippet.
pub const MAX_SNIPPET_LINES: usize = 400;

/// All files of a run, addressed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The folder file names are shown relative to.
    base: Option<PathBuf>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map whose file names are shown relative to `base` (the current folder).
    pub fn with_base(base: PathBuf) -> Self {
        Self {
            files: Vec::new(),
            base: Some(base),
        }
    }

    /// How `path` is shown to users: relative to the base folder where possible.
    pub fn display(&self, path: &Path) -> String {
        match &self.base {
            Some(base) => relative_display(path, base),
            None => display_path(path),
        }
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    /// The file with id `id`.
    ///
    /// Ids are only handed out by [`SourceMap::add`], so a missing id is a programming error;
    /// it is answered with an empty placeholder file rather than a panic.
    pub fn get(&self, id: FileId) -> &SourceFile {
        static EMPTY: std::sync::OnceLock<SourceFile> = std::sync::OnceLock::new();
        self.files
            .get(id.0 as usize)
            .unwrap_or_else(|| EMPTY.get_or_init(|| SourceFile::new("<unknown>", None, "")))
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// A copy in which `rewrite` may replace the text of each file by text of the same length
    /// (masked or sanitised); ids and byte offsets stay valid.
    pub fn rewritten(
        &self,
        mut rewrite: impl FnMut(FileId, &SourceFile) -> Option<String>,
    ) -> Self {
        let files = self
            .iter()
            .map(|(id, f)| match rewrite(id, f) {
                Some(text) if text.len() == f.text.len() => f.with_text(text),
                _ => f.clone(),
            })
            .collect();
        Self {
            files,
            base: self.base.clone(),
        }
    }
}

/// The diagnostic for a record key that appears a second time in one file: `what` names the
/// record (`account`), `second` and `first` label the two places, `help` says what must be
/// unique. Shared by every reader.
pub fn duplicate_key(
    file: FileId,
    what: &str,
    key: &str,
    second: (Span, &str),
    first: (Span, &str),
    help: &str,
) -> crate::problem::Problem {
    crate::problem::Problem::error(
        "input::duplicate-key",
        format!("{what} `{key}` appears twice"),
    )
    .at(file, second.0, second.1)
    .with_label(first.0, first.1)
    .with_help(help)
}

/// A path as shown to users: `./` prefixes removed, separators normalised to `/`.
pub fn display_path(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if parts.last().is_some_and(|p| p != "..") {
                    parts.pop();
                } else {
                    parts.push("..".into());
                }
            }
            std::path::Component::RootDir => parts.push(String::new()),
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    if parts.is_empty() {
        return ".".into();
    }
    if parts.len() == 1 && parts.first().is_some_and(String::is_empty) {
        return "/".into();
    }
    parts.join("/")
}

/// `path` as shown relative to `base` (with `..` where needed) when both are absolute or both
/// relative; otherwise normalised as it is.
pub fn relative_display(path: &Path, base: &Path) -> String {
    let p = display_path(path);
    let b = display_path(base);
    if b == "." && !path.is_absolute() {
        return p;
    }
    if path.is_absolute() != base.is_absolute() {
        return p;
    }
    let pc: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
    let bc: Vec<&str> = b
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let common = pc.iter().zip(bc.iter()).take_while(|(a, b)| a == b).count();
    if bc.get(common..).is_some_and(|rest| rest.contains(&"..")) {
        return p;
    }
    let ups = bc.len().saturating_sub(common);
    let mut parts: Vec<&str> = std::iter::repeat_n("..", ups).collect();
    parts.extend(pc.get(common..).unwrap_or_default());
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_snap_to_characters() {
        let text = "aü€b";
        assert_eq!(Span::new(2, 1).snapped(text), Span::new(1, 2));
        assert_eq!(Span::new(4, 1).snapped(text), Span::new(3, 3));
        assert_eq!(Span::new(40, 1).snapped(text), Span::new(7, 0));
        assert_eq!(Span::new(0, 1).snapped(text), Span::new(0, 1));
    }

    #[test]
    fn relative_names() {
        assert_eq!(
            relative_display(Path::new("/w/main/examples/a.csv"), Path::new("/w/main")),
            "examples/a.csv"
        );
        assert_eq!(
            relative_display(
                Path::new("/w/main/examples/a.csv"),
                Path::new("/w/main/tests/fixtures")
            ),
            "../../examples/a.csv"
        );
        assert_eq!(
            relative_display(Path::new("/w/main/./x/../a.csv"), Path::new("/w/main/")),
            "a.csv"
        );
        assert_eq!(
            relative_display(Path::new("examples/a.csv"), Path::new(".")),
            "examples/a.csv"
        );
        assert_eq!(relative_display(Path::new("/w"), Path::new("/w")), ".");
    }

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("a.csv", None, "ä;b\nxy;ü\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(2), (1, 2)); // after the two-byte ä
        assert_eq!(f.line_col(5), (2, 1));
        assert_eq!(f.line_col(8), (2, 4));
        assert_eq!(f.line_col(1000), (3, 1));
    }

    #[test]
    fn clamp_keeps_char_boundaries_and_end() {
        let f = SourceFile::new("a", None, "ää");
        assert_eq!(f.clamp(Span::new(1, 2)), Span::new(0, 2));
        assert_eq!(f.clamp(Span::new(3, 100)), Span::new(2, 2));
        assert_eq!(f.slice(Span::new(0, 2)), "ä");
    }

    #[test]
    fn display_paths_are_normalised() {
        assert_eq!(
            display_path(Path::new("./examples/x/../y/a.csv")),
            "examples/y/a.csv"
        );
        assert_eq!(display_path(Path::new("../shared/a")), "../shared/a");
        assert_eq!(display_path(Path::new(".")), ".");
    }
}

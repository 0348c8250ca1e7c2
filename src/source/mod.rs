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
pub mod disk;
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

use miette::SourceSpan;

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

/// Sorted byte offsets into a file (record or line starts): four bytes each while they fit,
/// so a million of them take 4 MB instead of 8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offsets {
    /// Every offset below 4 GiB.
    Narrow(Vec<u32>),
    /// Offsets of a larger file.
    Wide(Vec<usize>),
}

impl Default for Offsets {
    fn default() -> Self {
        Self::Narrow(Vec::new())
    }
}

impl Offsets {
    /// Room for `n` offsets.
    pub fn with_capacity(n: usize) -> Self {
        Self::Narrow(Vec::with_capacity(n))
    }

    /// Adds `offset` (not below the last one).
    pub fn push(&mut self, offset: usize) {
        match self {
            Self::Narrow(v) => match u32::try_from(offset) {
                Ok(o) => v.push(o),
                Err(_) => {
                    let mut wide: Vec<usize> = v.iter().map(|&o| o as usize).collect();
                    wide.push(offset);
                    *self = Self::Wide(wide);
                }
            },
            Self::Wide(v) => v.push(offset),
        }
    }

    /// Frees the room grown beyond the offsets, by copying them when it is more than a
    /// tenth of them (an allocator may keep a block in place when it shrinks by less than
    /// half: a million line starts grown by doubling would take 8 MB instead of 4).
    pub fn shrink_to_fit(&mut self) {
        fn exact<T: Copy>(v: &mut Vec<T>) {
            if v.capacity() - v.len() > v.len() / 10 {
                let mut copy = Vec::with_capacity(v.len());
                copy.extend_from_slice(v);
                *v = copy;
            }
        }
        match self {
            Self::Narrow(v) => exact(v),
            Self::Wide(v) => exact(v),
        }
    }

    /// The offset number `i`.
    pub fn get(&self, i: usize) -> Option<usize> {
        match self {
            Self::Narrow(v) => v.get(i).map(|&o| o as usize),
            Self::Wide(v) => v.get(i).copied(),
        }
    }

    /// How many offsets there are.
    pub fn len(&self) -> usize {
        match self {
            Self::Narrow(v) => v.len(),
            Self::Wide(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of offsets, from the first, for which `pred` holds (it must hold for a
    /// prefix of them: see [`slice::partition_point`]).
    pub fn partition_point(&self, pred: impl Fn(usize) -> bool) -> usize {
        match self {
            Self::Narrow(v) => v.partition_point(|&o| pred(o as usize)),
            Self::Wide(v) => v.partition_point(|&o| pred(o)),
        }
    }
}

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(bytes))
}

/// `bytes` as lowercase hex digits, two a byte, from a table: a finding's fingerprint is one
/// digest, and formatting each byte with `{:02x}` cost more than the digest.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// A file read during a run: its name as shown to users and its decoded text.
///
/// The text is held whole, except for big streamed inputs once they are checked: of those
/// only the lines that an output can show are kept ([`SourceFile::sparse`]), so that memory
/// grows with the findings, not with the input. Every accessor works on both; [`text`]
/// is the whole text of a file held whole.
///
/// [`text`]: SourceFile::text
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown in diagnostics (relative where the user gave a relative path).
    pub name: String,
    /// The path on disk; `None` for embedded or generated text.
    pub path: Option<PathBuf>,
    /// The decoded text (UTF-8, without a byte-order mark), whole or in pieces.
    text: Text,
    /// The encoding the file was decoded from (e.g. `UTF-8`, `windows-1252`).
    pub encoding: &'static str,
    /// What the file is to the run.
    pub role: FileRole,
    /// The SHA-256 of the bytes as read (before decoding), when the file came from disk or
    /// from konform's embedded packs.
    pub sha256: Option<String>,
    /// Byte offsets at which lines start, for line/column look-ups (of every line, also of
    /// those a sparse file does not hold).
    line_starts: Arc<Offsets>,
    /// The same text as a miette source, shared by all diagnostics of this file.
    named: Arc<FileSource>,
}

/// The decoded text of a file: whole, or the pieces of it that outputs can show.
#[derive(Debug, Clone)]
enum Text {
    Whole(Arc<str>),
    Sparse(Arc<Pieces>),
}

/// Pieces of a text of `len` bytes: sorted, apart, each a run of whole lines, each with its
/// byte offset in the whole text.
#[derive(Debug)]
struct Pieces {
    len: usize,
    pieces: Vec<(usize, Box<str>)>,
}

impl Text {
    fn len(&self) -> usize {
        match self {
            Self::Whole(t) => t.len(),
            Self::Sparse(p) => p.len,
        }
    }

    /// The piece that holds the byte range `start..end`, with its offset.
    fn piece(&self, start: usize, end: usize) -> Option<(usize, &str)> {
        match self {
            Self::Whole(t) => (end <= t.len()).then_some((0, &**t)),
            Self::Sparse(p) => {
                let i = p
                    .pieces
                    .partition_point(|(at, _)| *at <= start)
                    .checked_sub(1)?;
                let (at, text) = p.pieces.get(i)?;
                (end <= at + text.len()).then_some((*at, &**text))
            }
        }
    }

    /// The text of `start..end`, when it is held and on character boundaries.
    fn get(&self, start: usize, end: usize) -> Option<&str> {
        let (at, text) = self.piece(start, end)?;
        text.get(start.checked_sub(at)?..end.checked_sub(at)?)
    }

    /// Every piece with its offset (one piece at 0 for a whole text).
    fn pieces(&self) -> Vec<(usize, &str)> {
        match self {
            Self::Whole(t) => vec![(0, &**t)],
            Self::Sparse(p) => p.pieces.iter().map(|(at, t)| (*at, &**t)).collect(),
        }
    }
}

/// A file's text as a miette source: named, with a language for highlighting, and for a
/// sparse file with its pieces placed at their lines.
#[derive(Debug)]
pub struct FileSource {
    name: String,
    language: &'static str,
    text: Text,
    line_starts: Arc<Offsets>,
}

impl miette::SourceCode for FileSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let (start, end) = (span.offset(), span.offset() + span.len());
        let (at, text) = self
            .text
            .piece(start, end)
            .ok_or(miette::MietteError::OutOfBounds)?;
        let local = SourceSpan::new((start - at).into(), span.len());
        let inner = text.read_span(&local, context_lines_before, context_lines_after)?;
        // A piece starts at a line start: its lines and columns are the file's, shifted.
        let first_line = line_index(&self.line_starts, at);
        let contents = miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + at).into(), inner.span().len()),
            inner.line() + first_line,
            inner.column(),
            inner.line_count(),
        )
        .with_language(self.language);
        Ok(Box::new(contents))
    }
}

/// Byte ranges sorted, with those that overlap or touch merged into one.
pub fn merge_ranges(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// The offsets at which the lines of `text` after the first start.
fn memchr_lines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// The index of the line that holds `offset`.
fn line_index(line_starts: &Offsets, offset: usize) -> usize {
    line_starts
        .partition_point(|s| s <= offset)
        .saturating_sub(1)
}

impl SourceFile {
    /// A file with the given display name and decoded text.
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let text: Arc<str> = text.into();
        let mut line_starts = Offsets::with_capacity(1);
        for start in std::iter::once(0).chain(memchr_lines(&text)) {
            line_starts.push(start);
        }
        Self::with_parts(name, path, Text::Whole(text), Arc::new(line_starts))
    }

    /// A file whose text is not held (yet), `len` bytes long with lines starting at
    /// `line_starts` (0 first). Its text is held later ([`SourceMap::hold`]) or the lines
    /// outputs show are read from disk ([`SourceMap::sparsify_with`]); until then it reads like
    /// a sparse file without pieces.
    pub fn unheld(
        name: impl Into<String>,
        path: Option<PathBuf>,
        len: usize,
        line_starts: Arc<Offsets>,
    ) -> Self {
        let pieces = Pieces {
            len,
            pieces: Vec::new(),
        };
        Self::with_parts(
            name.into(),
            path,
            Text::Sparse(Arc::new(pieces)),
            line_starts,
        )
    }

    fn with_parts(
        name: String,
        path: Option<PathBuf>,
        text: Text,
        line_starts: Arc<Offsets>,
    ) -> Self {
        let language = match Path::new(&name).extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => "yaml",
            Some("json") => "json",
            Some("cedar") => "cedar",
            Some("csv" | "tsv") => "csv",
            _ => "text",
        };
        let named = Arc::new(FileSource {
            name: name.clone(),
            language,
            text: text.clone(),
            line_starts: Arc::clone(&line_starts),
        });
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

    /// A copy in which `rewrite` may replace each held piece (its offset and text; one piece
    /// for a whole text) by text of the same length, keeping name, path, role and digest.
    #[must_use]
    pub fn with_pieces(&self, mut rewrite: impl FnMut(usize, &str) -> Option<String>) -> Self {
        let text = match &self.text {
            Text::Whole(t) => match rewrite(0, t) {
                Some(new) if new.len() == t.len() => Text::Whole(Arc::from(new)),
                _ => return self.clone(),
            },
            Text::Sparse(p) => {
                let mut changed = false;
                let pieces = p
                    .pieces
                    .iter()
                    .map(|(at, t)| match rewrite(*at, t) {
                        Some(new) if new.len() == t.len() => {
                            changed = true;
                            (*at, new.into_boxed_str())
                        }
                        _ => (*at, t.clone()),
                    })
                    .collect();
                if !changed {
                    return self.clone();
                }
                Text::Sparse(Arc::new(Pieces { len: p.len, pieces }))
            }
        };
        self.with_text_of(text)
    }

    fn with_text_of(&self, text: Text) -> Self {
        let mut copy = Self::with_parts(
            self.name.clone(),
            self.path.clone(),
            text,
            Arc::clone(&self.line_starts),
        );
        copy.encoding = self.encoding;
        copy.role = self.role;
        copy.sha256.clone_from(&self.sha256);
        copy
    }

    /// A copy that holds only the lines touched by `ranges` (byte ranges, sorted or not) and
    /// the first line (a CSV header), so that a big input checked once costs memory by what
    /// is shown of it. Offsets, lines and columns stay those of the whole file; text outside
    /// the pieces reads as absent ([`SourceFile::get`] is `None`, snippets are not drawn).
    #[must_use]
    pub fn sparse(&self, ranges: &[(usize, usize)]) -> Self {
        self.sparse_with(ranges, |_, _| None)
    }

    /// Like [`SourceFile::sparse`], with `read` giving the text of a range of whole lines that
    /// the file does not hold (read again from disk).
    #[must_use]
    pub fn sparse_with(
        &self,
        ranges: &[(usize, usize)],
        mut read: impl FnMut(usize, usize) -> Option<String>,
    ) -> Self {
        let len = self.len();
        let lines: Vec<(usize, usize)> = std::iter::once((0, 0))
            .chain(ranges.iter().copied())
            .map(|(a, b)| {
                let a = a.min(len);
                let b = b.clamp(a, len);
                let first = line_index(&self.line_starts, a);
                let last = line_index(&self.line_starts, b.saturating_sub(1).max(a));
                let start = self.line_starts.get(first).unwrap_or(0);
                let end = self.line_starts.get(last + 1).unwrap_or(len);
                (start, end.max(start))
            })
            .collect();
        let pieces = merge_ranges(lines)
            .into_iter()
            .filter_map(|(a, b)| match self.text.get(a, b) {
                Some(text) => Some((a, text.into())),
                None => Some((a, read(a, b).filter(|t| t.len() == b - a)?.into_boxed_str())),
            })
            .collect();
        self.with_text_of(Text::Sparse(Arc::new(Pieces { len, pieces })))
    }

    /// Whether only pieces of the text are held (see [`SourceFile::sparse`]).
    pub fn is_sparse(&self) -> bool {
        matches!(self.text, Text::Sparse(_))
    }

    /// The whole text; empty for a sparse file, whose text is read with [`SourceFile::get`].
    pub fn text(&self) -> &str {
        match &self.text {
            Text::Whole(t) => t,
            Text::Sparse(_) => "",
        }
    }

    /// The whole text, shared; empty for a sparse file (see [`SourceFile::text`]).
    pub fn shared_text(&self) -> Arc<str> {
        match &self.text {
            Text::Whole(t) => Arc::clone(t),
            Text::Sparse(_) => Arc::from(""),
        }
    }

    /// The length of the text in bytes (of the whole text, also when sparse).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text of the byte range `start..end`; `None` when it is not held or does not fall
    /// on character boundaries.
    pub fn get(&self, start: usize, end: usize) -> Option<&str> {
        self.text.get(start, end)
    }

    /// The held piece of the text that holds the byte range `start..end`, with its offset:
    /// a run of whole lines (the whole text at 0 for a file held whole).
    pub fn piece(&self, start: usize, end: usize) -> Option<(usize, &str)> {
        self.text.piece(start, end)
    }

    /// Every held piece of the text with its byte offset (one piece at 0 for a whole text).
    pub fn pieces(&self) -> Vec<(usize, &str)> {
        self.text.pieces()
    }

    /// The byte range of the line that holds `offset`, up to its `\n` (a `\r` before it
    /// belongs to the range).
    pub fn line_bounds(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len());
        let line = line_index(&self.line_starts, offset);
        let start = self.line_starts.get(line).unwrap_or(0);
        let end = match self.line_starts.get(line + 1) {
            // The next line starts after this one's `\n`.
            Some(next) => next.saturating_sub(1).max(start),
            None => self.len().max(start),
        };
        (start, end)
    }

    /// The miette source for diagnostics into this file.
    pub fn named_source(&self) -> Arc<FileSource> {
        Arc::clone(&self.named)
    }

    /// 1-based line and column (in characters) of a byte offset; offsets past the end clamp.
    /// Where a sparse file does not hold the line, the column counts bytes.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp_offset(offset);
        let line = line_index(&self.line_starts, offset);
        let start = self.line_starts.get(line).unwrap_or(0);
        let col = self
            .get(start, offset)
            .map_or(offset.saturating_sub(start), |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The byte range of the lines of `span` and of `n` lines before and after it.
    pub fn lines_around(&self, span: Span, n: usize) -> (usize, usize) {
        let line_of = |offset: usize| line_index(&self.line_starts, offset);
        let first = line_of(self.clamp_offset(span.offset)).saturating_sub(n);
        let last = line_of(self.clamp_offset(span.end())).saturating_add(n + 1);
        let start = self.line_starts.get(first).unwrap_or(0);
        let end = self.line_starts.get(last).unwrap_or(self.len());
        (start, end)
    }

    /// The span clamped to the text and to character boundaries, so it can always be rendered.
    pub fn clamp(&self, span: Span) -> Span {
        let start = self.clamp_offset(span.offset);
        let end = self.clamp_offset(span.end().max(start));
        Span::from_range(start, end)
    }

    fn clamp_offset(&self, offset: usize) -> usize {
        let mut o = offset.min(self.len());
        // Text a sparse file does not hold cannot be checked; offsets from readers are on
        // character boundaries.
        while o > 0
            && self
                .text
                .piece(o, o)
                .is_some_and(|(at, t)| !t.is_char_boundary(o - at))
        {
            o -= 1;
        }
        o
    }

    /// The text of a span (empty when it does not fit the text or is not held).
    pub fn slice(&self, span: Span) -> &str {
        // A span held in one piece, on character boundaries, is its own clamp: one look-up.
        if let Some(text) = self.get(span.offset, span.end()) {
            return text;
        }
        let s = self.clamp(span);
        self.get(s.offset, s.end()).unwrap_or("")
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Whether a snippet of `span` (its lines and one line of context either side) is small
    /// enough to show: no line longer than [`MAX_SNIPPET_LINE`] bytes, at most
    /// [`MAX_SNIPPET_LINES`] lines. A minified JSON file or a hostile 200 MB line must not be
    /// printed whole into a terminal or CI log. In a sparse file, the span's lines must be
    /// held.
    pub fn snippet_fits(&self, span: Span) -> bool {
        let span = self.clamp(span);
        let line_of = |offset: usize| line_index(&self.line_starts, offset);
        let first = line_of(span.offset).saturating_sub(1);
        let last = (line_of(span.end()) + 1).min(self.line_starts.len().saturating_sub(1));
        if last.saturating_sub(first) >= MAX_SNIPPET_LINES {
            return false;
        }
        if self.text.piece(span.offset, span.end()).is_none() {
            return false;
        }
        (first..=last).all(|i| {
            let start = self.line_starts.get(i).unwrap_or(0);
            let end = self.line_starts.get(i + 1).unwrap_or(self.len());
            end.saturating_sub(start) <= MAX_SNIPPET_LINE
        })
    }

    /// Where `span` starts, as `name:line:column`, with why its snippet is not shown.
    pub fn unshown_location(&self, span: Span) -> String {
        let (line, col) = self.line_col(span.offset);
        let why = if self.text.piece(span.offset, span.end()).is_none() {
            "the lines are not held"
        } else {
            "the lines are too long or too many"
        };
        format!("at {}:{line}:{col} (not shown: {why})", self.name)
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

    /// Keeps only the lines of file `id` that `ranges` touch (see [`SourceFile::sparse`]),
    /// reading those it does not hold with `read`.
    pub fn sparsify_with(
        &mut self,
        id: FileId,
        ranges: &[(usize, usize)],
        read: impl FnMut(usize, usize) -> Option<String>,
    ) {
        if let Some(file) = self.files.get_mut(id.0 as usize) {
            *file = file.sparse_with(ranges, read);
        }
    }

    /// Holds `text` as the whole text of file `id` (read unheld, see [`SourceFile::unheld`]).
    pub fn hold(&mut self, id: FileId, text: Arc<str>) {
        if let Some(file) = self.files.get_mut(id.0 as usize)
            && file.len() == text.len()
        {
            *file = file.with_text_of(Text::Whole(text));
        }
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// A copy in which `rewrite` may replace the text of each file by text of the same length
    /// (masked or sanitised); ids and byte offsets stay valid. `rewrite` is called with each
    /// held piece of a file: its offset and text (the whole text of a file held whole).
    pub fn rewritten(
        &self,
        mut rewrite: impl FnMut(FileId, usize, &str) -> Option<String>,
    ) -> Self {
        let files = self
            .iter()
            .map(|(id, f)| f.with_pieces(|at, text| rewrite(id, at, text)))
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
    fn digests_are_lower_case_hex() {
        // FIPS 180-2, appendix B.1 and the empty message.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn offsets_widen_past_4_gib_and_search_alike() {
        let big = u32::MAX as usize;
        let all = [0, 7, 7, 900, big, big + 1, big + 5000];
        let mut offsets = Offsets::with_capacity(2);
        for (i, &o) in all.iter().enumerate() {
            offsets.push(o);
            assert_eq!(matches!(offsets, Offsets::Narrow(_)), o <= big, "{o}");
            assert_eq!(offsets.len(), i + 1);
        }
        for (i, &o) in all.iter().enumerate() {
            assert_eq!(offsets.get(i), Some(o));
        }
        assert_eq!(offsets.get(all.len()), None);
        for probe in [0, 6, 7, 8, big, big + 2, usize::MAX] {
            assert_eq!(
                offsets.partition_point(|s| s <= probe),
                all.partition_point(|&s| s <= probe),
                "{probe}"
            );
        }
    }

    #[test]
    fn spans_snap_to_characters() {
        let text = "aü€b";
        assert_eq!(Span::new(2, 1).snapped(text), Span::new(1, 2));
        assert_eq!(Span::new(4, 1).snapped(text), Span::new(3, 3));
        assert_eq!(Span::new(40, 1).snapped(text), Span::new(7, 0));
        assert_eq!(Span::new(0, 1).snapped(text), Span::new(0, 1));
    }

    /// The snippet miette reads for `span` with `n` lines of context: text, span, line, column.
    fn snippet(file: &SourceFile, span: Span, n: usize) -> Option<(String, usize, usize, usize)> {
        use miette::SourceCode as _;
        let source = file.named_source();
        let c = source.read_span(&span.into(), n, n).ok()?;
        Some((
            String::from_utf8_lossy(c.data()).into_owned(),
            c.span().offset(),
            c.line(),
            c.column(),
        ))
    }

    #[test]
    fn a_sparse_file_reads_like_the_whole_where_it_holds_lines() {
        let text: String = (0..40).map(|i| format!("k{i};Näme{i};x\n")).collect();
        let whole = SourceFile::new("a.csv", None, text.as_str());
        let at = |s: &str| text.find(s).unwrap_or(usize::MAX);
        // Keep the lines of rows 10 and 30 (and, always, line 1).
        let sparse = whole.sparse(&[(at("k10;"), at("k10;") + 2), (at("k30;"), at("k30;") + 1)]);
        assert!(sparse.is_sparse() && !whole.is_sparse());
        assert_eq!(
            (sparse.len(), sparse.line_count()),
            (whole.len(), whole.line_count())
        );
        assert_eq!(sparse.text(), "");
        let pieces: Vec<usize> = sparse.pieces().iter().map(|(o, _)| *o).collect();
        assert_eq!(pieces, vec![0, at("k10;"), at("k30;")]);
        for row in ["k0;", "k10;", "k30;"] {
            let cell = Span::new(at(row) + row.len(), "Näme1".len());
            assert_eq!(sparse.slice(cell), whole.slice(cell));
            assert_eq!(sparse.line_col(cell.end()), whole.line_col(cell.end()));
            assert_eq!(
                sparse.line_bounds(cell.offset),
                whole.line_bounds(cell.offset)
            );
            assert!(sparse.snippet_fits(cell));
            // Context lines are cut to what is held; the span, its line and column are the
            // file's.
            let (data, offset, line, column) = snippet(&sparse, cell, 0).unwrap_or_default();
            assert_eq!(Some((data, offset, line, column)), snippet(&whole, cell, 0));
        }
        // Row 20 is not held: no text, no snippet, and the reason says so.
        let gone = Span::new(at("k20;"), 3);
        assert_eq!(sparse.slice(gone), "");
        assert_eq!(sparse.get(gone.offset, gone.end()), None);
        assert!(!sparse.snippet_fits(gone));
        assert!(snippet(&sparse, gone, 1).is_none());
        assert!(
            sparse
                .unshown_location(gone)
                .contains("a.csv:21:1 (not shown: the lines are not held)")
        );
        assert_eq!(sparse.line_col(gone.offset), whole.line_col(gone.offset));
        // A character boundary is still respected where the text is held.
        let inside = at("Näme10") + 2;
        assert_eq!(
            sparse.clamp(Span::new(inside, 0)),
            whole.clamp(Span::new(inside, 0))
        );
    }

    #[test]
    fn rewriting_a_sparse_file_rewrites_its_pieces() {
        let whole = SourceFile::new("a.csv", None, "h\na\nb\nc\n");
        let sparse = whole.sparse(&[(4, 5)]);
        let mut map = SourceMap::new();
        let id = map.add(sparse);
        let upper = map.rewritten(|_, at, text| (at > 0).then(|| text.to_uppercase()));
        let file = upper.get(id);
        assert_eq!(file.pieces(), vec![(0, "h\n"), (4, "B\n")]);
        assert_eq!(file.slice(Span::new(4, 1)), "B");
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
        // A slice is the text of the clamped span, in a file held whole and in a sparse one
        // (two pieces of whole lines, the third line not held).
        let text = "ä;b\nxy;ü\nzz\nöö;q\n";
        let whole = SourceFile::new("a", None, text);
        let sparse = whole.sparse(&[(5, 11), (14, 21)]);
        assert_eq!(sparse.pieces(), vec![(0, "ä;b\nxy;ü\n"), (14, "öö;q\n")]);
        for f in [&whole, &sparse] {
            for offset in 0..=text.len() + 1 {
                for len in 0..=text.len() + 1 - offset {
                    let span = Span::new(offset, len);
                    let clamped = f.clamp(span);
                    let expected = f.get(clamped.offset, clamped.end()).unwrap_or("");
                    assert_eq!(f.slice(span), expected, "{span:?}");
                }
            }
        }
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

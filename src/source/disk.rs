//! Large UTF-8 inputs read from disk block by block, never held whole.
//!
//! A state-wide account list is a hundred megabytes or more. [`DiskText::scan`] reads it once
//! in blocks of a megabyte and keeps what every later step needs: the SHA-256 of its bytes,
//! the offset of every line start, its length, and its first lines (for the delimiter, the
//! kind of records and the header). Later passes read byte ranges again ([`DiskText::read`],
//! [`DiskText::reader`]); each checks that the file still has the length and modification time
//! it had when it was scanned, so a file being rewritten is never checked half old, half new.
//!
//! Only files that decode to the same text as reading them whole would are scanned: UTF-8
//! (with or without a byte-order mark), no NUL byte, not blank, no line longer than the limit.
//! Everything else is read whole, where decoding reports what is wrong with it.

use std::fs::File;
use std::io::{Read as _, Seek as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use encoding_rs::{Encoding, UTF_8};
use sha2::Digest as _;

use crate::source::Offsets;

/// The size of the blocks a file is scanned in.
const BLOCK: usize = 1 << 20;

/// The most text kept from the start of a file while looking for its first non-blank line.
const HEAD_LIMIT: usize = 4 << 20;

/// Reads of at least this many bytes (chunks of rows, not the lines of a finding) reuse the
/// bytes of the last such read on their thread (see [`DiskText::recycle`]).
const REUSED_READ: usize = 16 << 10;

/// The most bytes a thread keeps for its next read: a chunk of very long lines is freed, not
/// kept for the rest of the run (a chunk of a thousand ordinary rows takes about 130 KB).
const REUSED_MOST: usize = 8 << 20;

thread_local! {
    /// The bytes of the last chunk read on this thread, handed back by [`DiskText::recycle`].
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A UTF-8 file whose text is read from disk by byte offset (offsets into the text, which
/// starts after a byte-order mark).
#[derive(Debug, Clone)]
pub struct DiskText {
    path: PathBuf,
    /// The name shown in diagnostics.
    name: String,
    /// Bytes before the text (a byte-order mark).
    skip: u64,
    file_len: u64,
    modified: SystemTime,
    /// The length of the text.
    len: usize,
    /// The text up to the end of its first non-blank line (at least).
    head: Arc<str>,
    /// The offset of every line start, 0 first.
    line_starts: Arc<Offsets>,
    /// Whether the text has a double quote anywhere (without, every line break of a CSV
    /// file ends a record).
    quoted: bool,
    /// The file as it was scanned, kept open: ranges are read from it by offset (no opening,
    /// seeking and closing per range: a report of many findings reads thousands of them).
    file: OpenFile,
}

/// A file kept open, shared by the clones of a [`DiskText`]; its debug form names no handle
/// (two scans of one file are alike).
#[derive(Clone)]
struct OpenFile(Arc<File>);

impl std::fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenFile")
    }
}

/// What scanning a file found.
#[derive(Debug)]
pub struct Scanned {
    /// The file, to read again.
    pub disk: DiskText,
    /// The SHA-256 of its bytes, as 64 lowercase hex digits (when asked for).
    pub sha256: Option<String>,
}

/// Why a read of the file failed; shown after "could not be read again: ".
pub type Changed = String;

impl DiskText {
    /// Scans the file at `path` (shown as `name`). `None` when it is not a file that reads the
    /// same in blocks as whole (see the module documentation), could not be read, or changed
    /// while it was read: the caller then reads it whole, which reports why. Also `None`, as
    /// soon as its first non-blank line has been read, when `wanted` rejects the text up to it.
    /// With `digest`, also computes the file's SHA-256.
    pub fn scan(
        path: &Path,
        name: &str,
        declared: Option<&'static Encoding>,
        max_line: usize,
        digest: bool,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Option<Scanned> {
        let mut f = File::open(path).ok()?;
        let meta = f.metadata().ok().filter(std::fs::Metadata::is_file)?;
        let modified = meta.modified().ok()?;
        let mut scan = Scan {
            max_line,
            ..Scan::default()
        };
        let mut hasher = sha2::Sha256::new();
        // Two buffers: the next block is read while the last one is checked.
        let (mut buf, mut next) = (vec![0u8; BLOCK], vec![0u8; BLOCK]);
        let mut n = fill(&mut f, &mut buf)?;
        let mut read = 0usize;
        let mut asked = false;
        while n > 0 {
            let block = buf.get(..n)?;
            let mut body = block;
            if read == 0 {
                match Encoding::for_bom(block) {
                    Some((enc, bom)) if enc == UTF_8 => {
                        scan.skip = bom;
                        body = block.get(bom..)?;
                    }
                    // UTF-16: decoded whole.
                    Some(_) => return None,
                    None if declared.is_some_and(|d| d != UTF_8) => return None,
                    None => {}
                }
            }
            // The next block read, the digest and the text checks of this one at the same
            // time.
            let (following, ok) = rayon::join(
                || fill(&mut f, &mut next),
                || {
                    if digest {
                        rayon::join(|| hasher.update(block), || scan.text(body)).1
                    } else {
                        scan.text(body)
                    }
                },
            );
            if !ok {
                return None;
            }
            read += n;
            if scan.head_done && !asked {
                asked = true;
                if !wanted(&scan.head) {
                    return None;
                }
            }
            n = following?;
            std::mem::swap(&mut buf, &mut next);
        }
        let text_len = read.checked_sub(scan.skip)?;
        scan.line_starts.shrink_to_fit();
        if !scan.finish(text_len) || (!asked && !wanted(&scan.head)) {
            return None;
        }
        // Unchanged while it was read.
        let after = f.metadata().ok()?;
        if after.len() != read as u64 || meta.len() != read as u64 {
            return None;
        }
        if after.modified().ok()? != modified {
            return None;
        }
        let sha256 = digest.then(|| crate::source::hex(&hasher.finalize()));
        Some(Scanned {
            disk: Self {
                path: path.to_owned(),
                name: name.to_owned(),
                skip: scan.skip as u64,
                file_len: read as u64,
                modified,
                len: text_len,
                head: Arc::from(scan.head),
                line_starts: Arc::new(scan.line_starts),
                quoted: scan.quoted,
                file: OpenFile(Arc::new(f)),
            },
            sha256,
        })
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The length of the text, in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the text is empty (never, for a scanned file).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The start of the text, up to the end of its first non-blank line at least.
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Whether the text has a double quote anywhere.
    pub fn quoted(&self) -> bool {
        self.quoted
    }

    /// The offset of every line start, 0 first.
    pub fn line_starts(&self) -> &Arc<Offsets> {
        &self.line_starts
    }

    /// The 1-based line that holds byte `offset` of the text.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|s| s <= offset)
    }

    /// Opens the file, checks that it is as scanned, and moves to byte `start` of the text.
    fn open_at(&self, start: usize) -> Result<File, Changed> {
        let mut f = File::open(&self.path).map_err(|e| e.to_string())?;
        let meta = f.metadata().map_err(|e| e.to_string())?;
        if meta.len() != self.file_len || meta.modified().ok() != Some(self.modified) {
            return Err("it was changed after it was first read".into());
        }
        f.seek(std::io::SeekFrom::Start(self.skip + start as u64))
            .map_err(|e| e.to_string())?;
        Ok(f)
    }

    /// The text of the byte range `start..end`, read from the file kept open since it was
    /// scanned (checked to be unchanged first: a file rewritten in place has another length or
    /// modification time; one replaced by another file is still read as it was scanned).
    pub fn read(&self, start: usize, end: usize) -> Result<String, Changed> {
        let end = end.min(self.len);
        let start = start.min(end);
        let meta = self.file.0.metadata().map_err(|e| e.to_string())?;
        if meta.len() != self.file_len || meta.modified().ok() != Some(self.modified) {
            return Err("it was changed after it was first read".into());
        }
        let n = end - start;
        // A chunk of rows is read into the bytes of the last chunk this thread read (see
        // [`DiskText::recycle`]): only bytes beyond what they held are zeroed first.
        let mut buf = if n >= REUSED_READ {
            SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()))
        } else {
            Vec::new()
        };
        if buf.len() < n {
            buf.resize(n, 0);
        } else {
            buf.truncate(n);
        }
        read_exact_at(&self.file.0, &mut buf, self.skip + start as u64)
            .map_err(|e| e.to_string())?;
        String::from_utf8(buf).map_err(|_| "it was changed after it was first read".into())
    }

    /// Hands back the text of a [`DiskText::read`] that is no longer needed: the next read of
    /// a chunk on this thread reuses its bytes (a chunk read into new memory is zeroed
    /// first, bytes about to be overwritten).
    pub fn recycle(text: String) {
        let bytes = text.into_bytes();
        if kept_for_reuse(bytes.len(), bytes.capacity()) {
            SPARE.with(|spare| {
                let mut spare = spare.borrow_mut();
                if bytes.capacity() > spare.capacity() {
                    *spare = bytes;
                }
            });
        }
    }

    /// The whole text, read sequentially from its start (a reader of bytes, checked to be the
    /// file that was scanned when it is opened).
    pub fn reader(&self) -> Result<File, Changed> {
        self.open_at(0)
    }
}

/// Whether bytes handed back by [`DiskText::recycle`] (`len` of them used, room for
/// `capacity`) are kept for the next read: those of a chunk, not of a few lines, and not more
/// than [`REUSED_MOST`].
fn kept_for_reuse(len: usize, capacity: usize) -> bool {
    len >= REUSED_READ && capacity <= REUSED_MOST
}

/// Fills `buf` from `file` at `offset`, without moving a position shared by other readers.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Fills `buf` from `file` at `offset` (see the Unix version).
#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                let rest = std::mem::take(&mut buf);
                buf = rest.get_mut(n..).unwrap_or_default();
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Fills `buf` from `file` at `offset`: elsewhere, by seeking, one read at a time (a cloned
/// handle shares its position with the original).
#[cfg(not(any(unix, windows)))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut shared = file;
    shared.seek(std::io::SeekFrom::Start(offset))?;
    shared.read_exact(buf)
}

/// Reads until `buf` is full or the file ends; the number of bytes read.
fn fill(f: &mut File, buf: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..)?) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(n)
}

/// The state of the text checks, block by block.
#[derive(Default)]
struct Scan {
    max_line: usize,
    /// The length of the byte-order mark.
    skip: usize,
    /// Text bytes seen.
    seen: usize,
    /// The start of an UTF-8 sequence cut at the end of the last block.
    carry: Vec<u8>,
    line_starts: Offsets,
    /// A double quote was seen.
    quoted: bool,
    /// A character other than whitespace was seen.
    nonblank: bool,
    /// The start of the text, until it holds a whole non-blank line.
    head: String,
    head_done: bool,
}

impl Scan {
    /// Checks the text bytes of one block; `false` when the file must be read whole.
    fn text(&mut self, body: &[u8]) -> bool {
        if self.line_starts.is_empty() {
            self.line_starts.push(0);
        }
        let mut rest = body;
        // Complete a sequence cut at the end of the last block.
        if let Some(&lead) = self.carry.first() {
            let need = match lead {
                0xC2..=0xDF => 2_usize,
                0xE0..=0xEF => 3,
                _ => 4,
            }
            .saturating_sub(self.carry.len());
            let Some(tail) = rest.get(..need) else {
                return false;
            };
            let mut seq = std::mem::take(&mut self.carry);
            seq.extend_from_slice(tail);
            let Ok(s) = std::str::from_utf8(&seq) else {
                return false;
            };
            if !self.note(s) {
                return false;
            }
            rest = rest.get(need..).unwrap_or_default();
        }
        let valid = match simdutf8::compat::from_utf8(rest) {
            Ok(s) => s,
            // Cut in the middle of a sequence: the rest comes with the next block.
            Err(e) if e.error_len().is_none() => {
                let (valid, cut) = rest.split_at(e.valid_up_to());
                self.carry = cut.to_vec();
                simdutf8::basic::from_utf8(valid).unwrap_or_default()
            }
            Err(_) => return false,
        };
        self.note(valid)
    }

    /// Notes valid text that follows the text seen so far; `false` when the file must be
    /// read whole.
    fn note(&mut self, s: &str) -> bool {
        let bytes = s.as_bytes();
        // One pass finds the line breaks, a NUL byte and the first double quote (after it,
        // quotes are no longer looked for).
        let mut from = 0;
        while let Some(rest) = bytes.get(from..) {
            let hit = if self.quoted {
                memchr::memchr2(b'\n', 0, rest)
            } else {
                memchr::memchr3(b'\n', 0, b'"', rest)
            };
            let Some(i) = hit.map(|i| from + i) else {
                break;
            };
            match bytes.get(i) {
                Some(b'\n') => {
                    let start = self.last_line_start();
                    let at = self.seen + i;
                    if at - start > self.max_line {
                        return false;
                    }
                    self.line_starts.push(at + 1);
                }
                Some(b'"') => self.quoted = true,
                _ => return false,
            }
            from = i + 1;
        }
        if !self.nonblank {
            self.nonblank = s.chars().any(|c| !c.is_whitespace());
        }
        if !self.head_done {
            self.head.push_str(s);
            // Done once the first line with a character other than whitespace has ended.
            self.head_done = self
                .head
                .find(|c: char| !c.is_whitespace())
                .is_some_and(|i| self.head.get(i..).is_some_and(|r| r.contains('\n')));
            if !self.head_done && self.head.len() > HEAD_LIMIT {
                return false;
            }
        }
        self.seen += bytes.len();
        true
    }

    fn last_line_start(&self) -> usize {
        self.line_starts
            .len()
            .checked_sub(1)
            .and_then(|i| self.line_starts.get(i))
            .unwrap_or(0)
    }

    /// The checks at the end of the text (`len` bytes).
    fn finish(&self, len: usize) -> bool {
        let last = self.last_line_start();
        self.carry.is_empty()
            && self.nonblank
            && len == self.seen
            && len.saturating_sub(last) <= self.max_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(bytes: &[u8], max_line: usize) -> (tempfile::TempDir, Option<Scanned>) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("a.csv");
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        let scan = DiskText::scan(&path, "a.csv", None, max_line, true, &|_| true);
        (dir, scan)
    }

    #[test]
    fn a_scan_finds_what_reading_whole_finds() {
        // Cut sequences at every block edge: ü is two bytes, € three, 🙂 four.
        let mut text = String::from("\n\nKennung;Name\r\n");
        while text.len() < 3 * BLOCK {
            text.push_str("1;Jürgen € 🙂\n");
        }
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let (dir, scan) = scanned(&bytes, 1 << 20);
        let Some(Scanned { disk, sha256 }) = scan else {
            panic!("not scanned");
        };
        assert_eq!(sha256, Some(crate::source::sha256_hex(&bytes)));
        // Without the digest, the same scan.
        let path = dir.path().join("a.csv");
        let plain = DiskText::scan(&path, "a.csv", None, 1 << 20, false, &|_| true);
        assert!(plain.as_ref().is_some_and(|p| p.sha256.is_none()));
        assert_eq!(
            plain.map(|p| format!("{:?}", p.disk)),
            Some(format!("{disk:?}"))
        );
        assert_eq!(disk.len(), text.len());
        assert!(!disk.quoted());
        let (_quoted_dir, quoted) = scanned(b"id;name\n1;\"a;b\"\n", 1 << 20);
        assert!(quoted.is_some_and(|q| q.disk.quoted()));
        assert_eq!(disk.skip, 3);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        assert_eq!(
            (0..disk.line_starts.len())
                .filter_map(|i| disk.line_starts.get(i))
                .collect::<Vec<_>>(),
            starts
        );
        assert!(disk.head().starts_with("\n\nKennung;Name\r\n"));
        assert_eq!(disk.line_of(0), 1);
        assert_eq!(disk.line_of(2), 3);
        assert_eq!(disk.line_of(text.len()), starts.len());
        assert_eq!(disk.read(2, 15).as_deref(), Ok("Kennung;Name\r"));
        let mut all = String::new();
        let read = disk.reader().map(|mut f| f.read_to_string(&mut all));
        assert!(matches!(read, Ok(Ok(_))), "{read:?}");
        assert_eq!(all, text);
    }

    #[test]
    fn files_that_decode_otherwise_are_left_to_reading_whole() {
        for bytes in [
            &b""[..],
            b" \n\t\n",
            b"a;b\n\xFF\n",
            b"a;b\n\xC3",
            b"a;b\n1;\x00\n",
            b"\xFF\xFEa\x00",
            b"a;b\n1;0123456789\n",
        ] {
            let (_dir, scan) = scanned(bytes, 8);
            assert!(scan.is_none(), "{bytes:?}");
        }
        let (_dir, scan) = scanned(b"a;b\n1;01234567", 8);
        assert!(scan.is_none(), "a last line over the limit");
        let (_dir, scan) = scanned(b"a;b\n1;0123\n", 8);
        assert!(scan.is_some());
    }

    #[test]
    fn reads_into_recycled_bytes_show_only_their_range() {
        let text: String = (0..20_000).map(|i| format!("{i};a\n")).collect();
        let (_dir, scan) = scanned(text.as_bytes(), 64);
        let Some(Scanned { disk, .. }) = scan else {
            panic!("not scanned");
        };
        // Longer, shorter, longer again, and a short read that takes no recycled bytes.
        for (start, end) in [(0, 40_000), (7, 30_007), (3, 90_003), (10, 20), (5, 60_005)] {
            let read = disk.read(start, end);
            assert_eq!(read.as_deref(), Ok(&text[start..end]), "{start}..{end}");
            if let Ok(read) = read {
                DiskText::recycle(read);
            }
        }
    }

    #[test]
    fn only_the_bytes_of_ordinary_chunks_are_kept_for_reuse() {
        assert!(kept_for_reuse(130 << 10, 130 << 10));
        assert!(kept_for_reuse(REUSED_READ, REUSED_MOST));
        assert!(!kept_for_reuse(REUSED_READ - 1, REUSED_MOST));
        assert!(!kept_for_reuse(REUSED_READ, REUSED_MOST + 1));
        assert!(!kept_for_reuse(300, 64 << 20));
    }

    #[test]
    fn reads_of_a_changed_file_fail() {
        let (dir, scan) = scanned(b"a;b\n1;2\n", 64);
        let Some(Scanned { disk, .. }) = scan else {
            panic!("not scanned");
        };
        assert_eq!(disk.read(4, 7).as_deref(), Ok("1;2"));
        std::fs::write(dir.path().join("a.csv"), b"a;b\n1;2\n3;4\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(disk.read(4, 7).is_err());
        assert!(disk.reader().is_err());
    }

    #[test]
    fn a_file_replaced_by_another_is_read_as_it_was_scanned() {
        let (dir, scan) = scanned(b"a;b\n1;2\n", 64);
        let Some(Scanned { disk, .. }) = scan else {
            panic!("not scanned");
        };
        // The next export, written beside it and renamed over it.
        let next = dir.path().join("next.csv");
        std::fs::write(&next, b"a;b\n9;9\n3;4\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&next, dir.path().join("a.csv")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(disk.read(4, 7).as_deref(), Ok("1;2"));
        assert_eq!(disk.read(0, 8).as_deref(), Ok("a;b\n1;2\n"));
    }

    /// What a scan must find, computed from the whole text at once: the line starts, whether
    /// there is a double quote, the length of the byte-order mark; `None` where reading
    /// whole must decide.
    fn whole(bytes: &[u8], max_line: usize) -> Option<(Vec<usize>, bool, usize)> {
        let skip = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let text = std::str::from_utf8(bytes.get(skip..)?).ok()?;
        if text.contains('\0') || text.trim().is_empty() {
            return None;
        }
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let longest = starts
            .windows(2)
            .map(|w| w[1] - 1 - w[0])
            .chain(starts.last().map(|&last| text.len() - last))
            .max()
            .unwrap_or(0);
        (longest <= max_line).then(|| (starts, text.contains('"'), skip))
    }

    #[test]
    fn a_scan_in_blocks_finds_what_the_whole_text_shows() {
        // Two blocks and a half of rows with two- and three-byte characters; then the same
        // with a NUL byte, a double quote, a byte that is no UTF-8, a line too long or a cut
        // sequence placed around the block edges (a scan checks one block while it reads the
        // next).
        let mut text = String::from("Kennung;Name\n");
        let mut i = 0;
        while text.len() < 2 * BLOCK + BLOCK / 2 {
            text.push_str(&format!("{i};Jörn Müller-€{}\n", "x".repeat(i % 37)));
            i += 1;
        }
        let base = text.into_bytes();
        let places = [
            3,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            2 * BLOCK - 2,
            2 * BLOCK + 7,
            base.len() - 1,
        ];
        let mut cases: Vec<(Vec<u8>, usize)> = vec![(base.clone(), 64)];
        for &at in &places {
            for inserted in [&b"\0"[..], b"\"", b"\xFF", b"\xC3", b"\"\0"] {
                let mut bytes = base.clone();
                bytes.splice(at..at, inserted.iter().copied());
                cases.push((bytes, 64));
            }
            // A line of 100 bytes ending here: too long for 64, not for 128.
            let mut bytes = base.clone();
            bytes.splice(at..at, std::iter::repeat_n(b'y', 100));
            cases.push((bytes.clone(), 64));
            cases.push((bytes, 128));
        }
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(&base);
        cases.push((bom, 64));
        // The longest line is allowed, one byte more is not.
        let longest = base
            .split(|&b| b == b'\n')
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0);
        cases.push((base.clone(), longest));
        cases.push((base.clone(), longest - 1));
        for (n, (bytes, max_line)) in cases.iter().enumerate() {
            let (_dir, scan) = scanned(bytes, *max_line);
            let found = scan.map(|s| {
                let disk = s.disk;
                let starts = (0..disk.line_starts.len())
                    .filter_map(|i| disk.line_starts.get(i))
                    .collect::<Vec<_>>();
                (starts, disk.quoted(), disk.skip as usize)
            });
            assert_eq!(
                found.as_ref().map(|(s, q, k)| (s.len(), *q, *k)),
                whole(bytes, *max_line)
                    .as_ref()
                    .map(|(s, q, k)| (s.len(), *q, *k)),
                "case {n}"
            );
            assert_eq!(found, whole(bytes, *max_line), "case {n}");
        }
    }
}

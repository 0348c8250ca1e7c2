//! CSV account lists and consent registers, with a span for every row and cell.
//!
//! The delimiter is sniffed from the header line (`,`, `;` or TAB: German Excel writes `;`)
//! unless configured. The `csv` crate gives byte positions per record but not per field, so
//! cell spans follow from the field lengths in a row without quotes, and come from re-scanning
//! the raw row with a small quote-aware scanner otherwise.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::problem::Problem;
use crate::record::{Attr, Record, RecordKind, ShortTexts, Value};
use crate::source::columns::{self, AttrType, Canonical};
use crate::source::value::{ValueError, parse_cell_with, trim};
use crate::source::{FileId, Offsets, Span};

/// How to read one CSV file.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// The delimiter; sniffed from the header when `None`.
    pub delimiter: Option<u8>,
    /// Explicit mapping from column name to canonical attribute name (from konform.yaml).
    pub columns: BTreeMap<String, String>,
    /// Dates are written month first (`4/2/2000`), as in Microsoft SDS v1 exports.
    pub us_dates: bool,
    /// The most records read; one more is an error and reading stops.
    pub max_records: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: None,
            columns: BTreeMap::new(),
            us_dates: false,
            max_records: usize::MAX,
        }
    }
}

/// The most columns of a CSV input; exports of school systems have a few dozen.
pub const MAX_COLUMNS: usize = 2000;

/// Records and problems read from one file.
#[derive(Debug, Default)]
pub struct ReadResult {
    /// The records that were read.
    pub records: Vec<Record>,
    /// Errors (the file is then incomplete) and warnings.
    pub problems: Vec<Problem>,
}

/// At most this many cell errors are reported per file; the rest are counted.
const MAX_CELL_ERRORS: usize = 50;

/// Sniffs the delimiter from the first non-empty line: the most frequent of `;`, `,` and TAB
/// outside quotes (`,` on a tie).
pub fn sniff_delimiter(text: &str) -> u8 {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b';', 0usize), (b'\t', 0), (b',', 0)];
    let mut quoted = false;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in &mut counts {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    // Highest count wins; `,` wins ties by coming last in a stable max_by_key.
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

/// The byte ranges of the fields of one raw row (relative to the row), quotes included.
pub fn field_spans(row: &str, delimiter: u8) -> Vec<Span> {
    let bytes = row.as_bytes();
    let mut spans = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for i in memchr::memchr2_iter(delimiter, b'"', bytes) {
        if bytes.get(i) == Some(&b'"') {
            quoted = !quoted; // a doubled quote toggles twice: no net change
        } else if !quoted {
            spans.push(Span::from_range(start, i));
            start = i + 1;
        }
    }
    let mut end = bytes.len();
    while end > start && matches!(bytes.get(end - 1), Some(b'\r' | b'\n')) {
        end -= 1;
    }
    spans.push(Span::from_range(start, end));
    spans
}

/// What a header column maps onto.
#[derive(Debug, Clone)]
enum Column {
    Canonical(&'static Canonical, String),
    Extra(String),
    Ignored,
}

/// Rows converted to records together: the unit of parallel work.
const CHUNK_ROWS: usize = 4096;
/// Chunks converted before their records are checked against the limits (so that a file far
/// over `max_records` is not converted whole first).
const WINDOW_CHUNKS: usize = 32;

/// What one data row becomes.
enum RowOutcome {
    /// A blank line or a row of empty cells (`;;;;`) written by spreadsheets.
    Blank,
    /// A row that cannot be a record (wrong field count, unclosed quote). Problems are boxed:
    /// a chunk's outcomes are moved several times, and most rows have none.
    Broken(Box<Problem>),
    /// A record, with the problems of its cells and whether its key is missing.
    Read {
        record: Record,
        cell_errors: Vec<Problem>,
        missing_key: Option<Box<Problem>>,
    },
}

/// The header as mapped onto attributes, shared by every row.
#[derive(Debug)]
struct Header {
    columns: Vec<Column>,
    /// How many columns map onto canonical attributes (plus one for `login_tracked`).
    canonical: usize,
    /// The columns that map onto canonical attributes, in the order of the attributes' names
    /// (of columns onto the same attribute, the last one last): a record's attributes are
    /// kept in that order, so each is appended.
    by_name: Vec<usize>,
    /// The columns kept as they are, under their own names ([`Column::Extra`]).
    extras: Vec<usize>,
    /// By column: whether its values are few and worth converting once per chunk (see
    /// [`Memo`]).
    memoized: Vec<bool>,
    /// By column: the [`crate::record::name_prefix`] of its attribute's name (0 for other
    /// columns), computed once instead of per cell.
    prefixes: Vec<u64>,
    cells: Vec<Span>,
    span: Span,
}

impl Header {
    /// The columns onto the canonical attribute `name`, in their order.
    fn columns_onto(&self, name: &str) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Column::Canonical(canon, _) if canon.name == name))
            .map(|(i, _)| i)
            .collect()
    }

    /// How many attributes a record can get when only the columns `keep` (all when `None`)
    /// become attributes, plus one for `login_tracked`: a record's attributes are allocated
    /// once, and a first pass, which keeps few columns, allocates only for those.
    fn capacity(&self, keep: Option<&[bool]>) -> usize {
        match keep {
            None => self.canonical,
            Some(keep) => {
                1 + self
                    .by_name
                    .iter()
                    .filter(|&&i| keep.get(i).copied().unwrap_or(true))
                    .count()
            }
        }
    }
}

/// Reads a CSV file of `kind` records from decoded `text`.
///
/// The header is read first; then one sequential pass of the `csv` crate finds record
/// boundaries (cheap), and the rows are converted to records in parallel, chunk by chunk, each
/// chunk read again by a fresh reader starting at a record boundary. Merging the chunks in
/// order applies everything that depends on earlier rows (duplicate keys, the cell-error cap,
/// the record limit), so the result is exactly that of reading row by row.
pub fn read(file: FileId, text: &str, kind: RecordKind, options: &CsvOptions) -> ReadResult {
    read_with(file, text, kind, options, CHUNK_ROWS)
}

fn reader_for(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    builder(delimiter).from_reader(text.as_bytes())
}

/// The csv-core parsers of a file (the parser behind [`reader_for`]), kept for the next chunk
/// once one is read: building one costs about as much as converting two dozen rows. (Reset,
/// not cloned: csv-core 0.1.13 clones only part of its tables.)
#[derive(Debug)]
struct Parsers {
    delimiter: u8,
    free: std::sync::Mutex<Vec<csv_core::Reader>>,
}

impl Parsers {
    fn new(delimiter: u8) -> Self {
        Self {
            delimiter,
            free: std::sync::Mutex::default(),
        }
    }

    /// A parser at the start of a text.
    fn take(&self) -> csv_core::Reader {
        // A poisoned lock only means a parser built anew.
        match self.free.lock().ok().and_then(|mut free| free.pop()) {
            Some(mut parser) => {
                parser.reset();
                parser
            }
            None => csv_core::ReaderBuilder::new()
                .delimiter(self.delimiter)
                .build(),
        }
    }

    fn give_back(&self, parser: csv_core::Reader) {
        if let Ok(mut free) = self.free.lock() {
            free.push(parser);
        }
    }
}

/// The fields of one row, as the conversion of a row reads them.
trait RowFields {
    /// How many fields there are.
    fn count(&self) -> usize;
    /// The field `i`.
    fn field(&self, i: usize) -> Option<&str>;
    /// The bytes of all fields together (delimiters, quotes and line breaks not counted).
    fn bytes(&self) -> usize;
    /// Whether the fields are known to be the raw row's own text, one delimiter apart (no
    /// quotes, every byte in a field or a delimiter): their cells follow from their lengths.
    fn sliced(&self) -> bool {
        false
    }
}

impl RowFields for csv::StringRecord {
    fn count(&self) -> usize {
        self.len()
    }

    fn field(&self, i: usize) -> Option<&str> {
        self.get(i)
    }

    fn bytes(&self) -> usize {
        self.as_byte_record().as_slice().len()
    }
}

/// Fields parsed by csv-core: field `i` ends at `ends[i]` in `text`, shifted by `gap` bytes
/// per field before it. `text` is either the raw row, whose fields are separated by one
/// delimiter byte (`gap` 1: a row without quotes), or the parser's unescaped output, whose
/// fields follow each other (`gap` 0).
struct Parsed<'t> {
    text: &'t str,
    ends: &'t [usize],
    gap: usize,
}

impl RowFields for Parsed<'_> {
    fn count(&self) -> usize {
        self.ends.len()
    }

    fn field(&self, i: usize) -> Option<&str> {
        let start = match i.checked_sub(1) {
            Some(before) => self.ends.get(before)? + self.gap * i,
            None => 0,
        };
        let end = self.ends.get(i)? + self.gap * i;
        self.text.get(start..end)
    }

    fn bytes(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    fn sliced(&self) -> bool {
        self.gap == 1
    }
}

fn builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 16);
    b
}

/// The problem of a row the `csv` crate could not read (`start`: where the row starts), or
/// of a file on disk that could not be read again.
fn malformed(file: FileId, input: &Input<'_>, e: &csv::Error, start: usize) -> Problem {
    if let (csv::ErrorKind::Io(io), Input::Disk(disk)) = (e.kind(), input) {
        return changed(file, disk.name(), &io.to_string());
    }
    let at = e
        .position()
        .map_or(start, |p| pos_usize(p.byte()))
        .min(input.len());
    Problem::error("input::malformed-csv", format!("malformed CSV: {e}"))
        .at(file, Span::new(at, 1), "the CSV parser stopped here")
        .with_help("check the quoting of this row: a field with the delimiter or a quote must be quoted, quotes inside doubled")
}

/// The error for a file on disk that could not be read again (`why`).
pub fn changed(file: FileId, name: &str, why: &str) -> Problem {
    Problem::error(
        "input::changed",
        format!("`{name}` could not be read again: {why}"),
    )
    .in_file(file)
    .with_help("a big list is read twice: check it again once the export is complete and the file stays as it is")
}

/// The text a first pass reads: held, or on disk (read sequentially, and by range where a
/// header or a problem needs the text).
#[derive(Clone, Copy)]
enum Input<'a> {
    Text(&'a str),
    Disk(&'a DiskText),
}

impl<'a> Input<'a> {
    fn of(source: &'a StreamSource) -> Self {
        match source {
            StreamSource::Held(text) => Self::Text(text),
            StreamSource::Disk(disk) => Self::Disk(disk),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Disk(disk) => disk.len(),
        }
    }

    /// The start of the text, up to the end of its first non-blank line at least.
    fn head(&self) -> &'a str {
        match self {
            Self::Text(text) => text,
            Self::Disk(disk) => disk.head(),
        }
    }

    /// The text of `start..end`.
    fn get(&self, file: FileId, start: usize, end: usize) -> Result<Cow<'a, str>, Problem> {
        let head = self.head();
        match self {
            Self::Disk(disk) if end > head.len() => disk
                .read(start, end)
                .map(Cow::Owned)
                .map_err(|why| changed(file, disk.name(), &why)),
            _ => Ok(Cow::Borrowed(head.get(start..end).unwrap_or(""))),
        }
    }

    /// `at`, moved past line breaks (see [`skip_newlines`]).
    fn skip_newlines(&self, at: usize) -> usize {
        match self {
            Self::Text(text) => skip_newlines(text, at),
            Self::Disk(disk) => {
                let to = at.saturating_add(1 << 16).min(disk.len());
                disk.read(at, to)
                    .map_or(at, |text| at + skip_newlines(&text, 0))
            }
        }
    }
}

fn read_with(
    file: FileId,
    text: &str,
    kind: RecordKind,
    options: &CsvOptions,
    chunk_rows: usize,
) -> ReadResult {
    read_hashing_keys(file, text, kind, options, chunk_rows, hash64)
}

/// [`read_with`], with the hash of record keys for the duplicate-key check (a test makes every
/// key share one).
fn read_hashing_keys(
    file: FileId,
    text: &str,
    kind: RecordKind,
    options: &CsvOptions,
    chunk_rows: usize,
    key_hash: fn(&str) -> u64,
) -> ReadResult {
    let mut out = ReadResult::default();
    let Some(plan) = plan(file, Input::Text(text), kind, options, chunk_rows, &mut out) else {
        return out;
    };
    let parsers = Parsers::new(plan.delimiter);
    let rows = Rows {
        file,
        text,
        base: 0,
        first_line: 1,
        kind,
        options,
        delimiter: plan.delimiter,
        header: &plan.header,
        keep: None,
        capacity: plan.header.canonical,
        parsers: &parsers,
    };
    let meta = Meta {
        file,
        kind,
        options,
        header_span: plan.header.span,
        header: &plan.header,
        key_hash,
        rows: plan.rows,
    };
    let mut records = Vec::new();
    let merged = merge(
        &meta,
        &rows,
        &plan.chunks,
        plan.failure,
        WINDOW_CHUNKS,
        &mut out.problems,
        &mut |window| records.extend(window),
    );
    // Over the record limit: none of the records are kept.
    if merged.is_some() {
        out.records = records;
    }
    out
}

/// The header, the record boundaries and where the rows end: everything needed to convert the
/// rows of a file chunk by chunk.
struct Plan {
    delimiter: u8,
    header: Header,
    /// Byte ranges of `chunk_rows` rows each, starting at record boundaries.
    chunks: Vec<(usize, usize)>,
    /// The malformed row the rows end before, if any.
    failure: Option<Problem>,
    /// How many rows the chunks hold (blank and broken ones too).
    rows: usize,
}

/// Reads the header and finds the record boundaries (one sequential pass of the `csv` crate,
/// cheap). `None` when the header already makes the file unreadable (problems in `out`).
fn plan(
    file: FileId,
    input: Input<'_>,
    kind: RecordKind,
    options: &CsvOptions,
    chunk_rows: usize,
    out: &mut ReadResult,
) -> Option<Plan> {
    let delimiter = options
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(input.head()));
    let todo = (kind, options, chunk_rows);
    match input {
        Input::Text(text) => plan_with(
            file,
            input,
            delimiter,
            reader_for(text, delimiter),
            todo,
            out,
        ),
        // Read sequentially from disk: the file's text is never held.
        Input::Disk(disk) => match disk.reader() {
            Ok(f) => plan_with(
                file,
                input,
                delimiter,
                builder(delimiter).from_reader(f),
                todo,
                out,
            ),
            Err(why) => {
                out.problems.push(changed(file, disk.name(), &why));
                None
            }
        },
    }
}

/// [`plan`], reading the text with `reader`.
fn plan_with<R: std::io::Read>(
    file: FileId,
    input: Input<'_>,
    delimiter: u8,
    mut reader: csv::Reader<R>,
    (kind, options, chunk_rows): (RecordKind, &CsvOptions, usize),
    out: &mut ReadResult,
) -> Option<Plan> {
    let mut row = csv::StringRecord::new();
    // The header: the first record.
    let start = input.skip_newlines(pos_usize(reader.position().byte()));
    match reader.read_record(&mut row) {
        Ok(false) => {
            out.problems.push(
                Problem::error("input::empty", "the file is empty")
                    .in_file(file)
                    .with_help(
                        "export the list again; an empty file is never treated as a clean result",
                    ),
            );
            return None;
        }
        Ok(true) => {}
        Err(e) => {
            out.problems.push(malformed(file, &input, &e, start));
            return None;
        }
    }
    let end = pos_usize(reader.position().byte()).min(input.len());
    let raw = match input.get(file, start, end) {
        Ok(raw) => raw,
        Err(p) => {
            out.problems.push(p);
            return None;
        }
    };
    let row_span = Span::new(start, raw.trim_end_matches(['\r', '\n']).len());
    if row.len() > MAX_COLUMNS {
        out.problems.push(
            Problem::error(
                "input::too-many-columns",
                format!(
                    "the header has {} columns, more than the limit of {MAX_COLUMNS}",
                    row.len()
                ),
            )
            .at(file, Span::new(row_span.offset, 1), "this header")
            .with_help("check that this is an exported list and that its delimiter is right (set `delimiter:` in konform.yaml)"),
        );
        return None;
    }
    let cells = row_cells(&raw, start, delimiter, &row, row_span);
    let (columns, header_cells, header_span) =
        read_header(file, &row, &cells, row_span, kind, options, out);
    if out.problems.iter().any(Problem::is_error) {
        return None;
    }
    let mut by_name: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| matches!(c, Column::Canonical(..)).then_some(i))
        .collect();
    by_name.sort_by_key(|&i| match columns.get(i) {
        Some(Column::Canonical(canon, _)) => canon.name,
        _ => "",
    });
    let memoized = columns
        .iter()
        .map(|c| matches!(c, Column::Canonical(canon, _) if worth_memoizing(canon)))
        .collect();
    let extras = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| matches!(c, Column::Extra(_)).then_some(i))
        .collect();
    let prefixes = columns
        .iter()
        .map(|c| match c {
            Column::Canonical(canon, _) => crate::record::name_prefix(canon.name),
            _ => 0,
        })
        .collect();
    let header = Header {
        prefixes,
        canonical: 1 + by_name.len(),
        by_name,
        extras,
        memoized,
        columns,
        cells: header_cells,
        span: header_span,
    };

    // A file on disk without quotes: every line break ends a record (blank lines are
    // skipped), and nothing can be malformed; the boundaries are line starts, found by the
    // scan. No sequential pass over the rows.
    if let Input::Disk(disk) = input
        && !disk.quoted()
    {
        let lines = disk.line_starts();
        let first = lines.partition_point(|s| s < end);
        let step = chunk_rows.max(1);
        let mut bounds = vec![end];
        let mut next = first.saturating_add(step);
        while let Some(at) = lines.get(next) {
            bounds.push(at);
            next = next.saturating_add(step);
        }
        bounds.push(input.len());
        bounds.dedup();
        let chunks = bounds
            .windows(2)
            .filter_map(|w| Some((*w.first()?, *w.get(1)?)))
            .collect();
        return Some(Plan {
            delimiter,
            header,
            chunks,
            failure: None,
            rows: lines.len().saturating_sub(first),
        });
    }

    // Record boundaries: the start of every `chunk_rows`-th data row, and where the rows end
    // (before a malformed one).
    let mut bounds = vec![end];
    let mut rows_in_chunk = 0usize;
    let mut stop = input.len();
    let mut failure: Option<Problem> = None;
    let mut brow = csv::ByteRecord::new();
    loop {
        let before = pos_usize(reader.position().byte()).min(input.len());
        match reader.read_byte_record(&mut brow) {
            Ok(false) => break,
            Ok(true) => {
                rows_in_chunk += 1;
                let after = pos_usize(reader.position().byte()).min(input.len());
                if rows_in_chunk >= chunk_rows.max(1) {
                    bounds.push(after);
                    rows_in_chunk = 0;
                }
            }
            Err(e) => {
                stop = before;
                failure = Some(malformed(file, &input, &e, input.skip_newlines(before)));
                break;
            }
        }
    }
    let rows = (bounds.len() - 1)
        .saturating_mul(chunk_rows.max(1))
        .saturating_add(rows_in_chunk);
    bounds.push(stop);
    bounds.dedup();
    let chunks = bounds
        .windows(2)
        .filter_map(|w| Some((*w.first()?, *w.get(1)?)))
        .collect();
    Some(Plan {
        delimiter,
        header,
        chunks,
        failure,
        rows,
    })
}

/// Notes what a [`Sink`] needs of the records of one chunk, in the parallel task that
/// converted them, while they are still in that core's cache: only the notes travel on to the
/// sink, and the records are dropped where they were made.
pub trait Note: Sync {
    /// What is noted of a chunk.
    type Notes: Send;

    /// What the rows of a chunk noted from their cells leave (see [`Note::note_cells`]).
    type Cells: Default;

    /// Whether rows may be noted from their cells: [`Note::note_cells`] is then offered every
    /// row that would become a record with a key and without a problem first.
    fn notes_cells(&self) -> bool {
        false
    }

    /// Notes consecutive rows from the values of their cells, without records (see
    /// [`CellRow`]), pushing to `noted` whether each was (in order; a row without an entry was
    /// not). A row not noted becomes a record, noted by [`Note::note`] with the others
    /// (nothing is noted of it here then). `record(i)` converts row `i` to its record (for a
    /// plan that learns what rows like it need from one of them).
    fn note_cells(
        &self,
        _rows: &[CellRow<'_>],
        _cells: &mut Self::Cells,
        _record: &mut dyn FnMut(usize) -> Option<Record>,
        _noted: &mut Vec<bool>,
    ) {
    }

    /// Notes the records of a chunk (its rows that became records, in order), with what its
    /// rows noted from their cells left.
    fn note(&self, records: Vec<Record>, cells: Self::Cells) -> Self::Notes;
}

/// A row offered to [`Note::note_cells`]: one that would become a record with a key and
/// without a problem.
#[derive(Debug, Clone, Copy)]
pub struct CellRow<'v> {
    /// The values of its cells by column, converted as its record's attributes and other
    /// columns would get them (`None` for an empty cell and an ignored column). Of columns
    /// onto the same attribute, the record gets the last one filled (see [`filled_last`]).
    pub values: &'v [Option<Value>],
    /// Its record's key (see [`record_key`]).
    pub key: &'v str,
    /// How many rows of its chunk were noted before it (from their cells or as records): its
    /// place among the records of the chunk handed to the sink.
    pub at: usize,
}

/// The value a record gets for an attribute from the cells `values` of the `columns` onto
/// it (in the order of the columns): the last one filled, as [`Rows::row`] sets them.
pub fn filled_last<'v>(columns: &[usize], values: &'v [Option<Value>]) -> Option<&'v Value> {
    columns
        .iter()
        .rev()
        .find_map(|&c| values.get(c).and_then(Option::as_ref))
}

/// A column of a file's header as a [`Sink`] is told of it (see [`Sink::expect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnName<'a> {
    /// Maps onto this canonical attribute.
    Canonical(&'static str),
    /// Kept under its own name.
    Extra(&'a str),
    /// Neither (an unnamed, repeated or ignored column).
    Ignored,
}

/// Where a streamed file's records go, chunk by chunk, in order.
pub trait Sink: Send {
    /// Notes each chunk's records for [`Sink::take`].
    type Noter: Note;

    /// Told once, before the first window, how many rows the file has at most (to size what
    /// the sink keeps once instead of growing it), and the columns of its header.
    fn expect(&mut self, _kind: RecordKind, _rows: usize, _columns: &[ColumnName<'_>]) {}

    /// What notes the chunks' records. It must not borrow the sink: [`Sink::take`] runs while
    /// the next window's chunks are noted.
    fn noter(&self) -> Self::Noter;

    /// Takes the notes of the next chunk, in order: of exactly the records handed on (a chunk
    /// with a row that was not, such as a duplicate key, is read and noted again without it).
    fn take(&mut self, notes: <Self::Noter as Note>::Notes);
}

/// Notes that are the records themselves: a closure as a [`Sink`] gets them whole.
pub struct Whole;

impl Note for Whole {
    type Notes = Vec<Record>;
    type Cells = ();

    fn note(&self, records: Vec<Record>, (): ()) -> Vec<Record> {
        records
    }
}

impl<F: FnMut(Vec<Record>) + Send> Sink for F {
    type Noter = Whole;

    fn noter(&self) -> Whole {
        Whole
    }

    fn take(&mut self, records: Vec<Record>) {
        self(records);
    }
}

/// A converted row as the merge of a first pass sees it: its record went to the sink's
/// [`Note`] in the converting task, and only what the merge checks came back.
enum MergeRow {
    Blank,
    Broken(Box<Problem>),
    Read {
        /// The record's key (for keyed kinds; inline up to 23 bytes, no allocation per row)
        /// and its hash (see [`Meta::key_hash`]).
        key: Option<(crate::record::Text, u64)>,
        span: Span,
        cell_errors: Vec<Problem>,
        missing_key: Option<Box<Problem>>,
    },
}

/// Converts the rows of chunk `a..b`, hands those that became records to `noter`, and keeps
/// what the merge checks of every row.
fn convert_noted<N: Note>(
    source: &dyn Convert,
    meta: &Meta<'_>,
    noter: &N,
    (a, b): (usize, usize),
) -> Result<(Vec<MergeRow>, N::Notes), Problem> {
    if noter.notes_cells() {
        let mut noted = None;
        source.with_rows(a, b, &mut |rows| {
            noted = Some(convert_noting_cells(rows, meta, noter, (a, b)));
        })?;
        // `with_rows` calls back whenever it returns `Ok`: never without rows in practice.
        return noted.ok_or_else(|| {
            Problem::error(
                "input::unread",
                format!("bytes {a} to {b} of the file were not converted"),
            )
            .in_file(meta.file)
        });
    }
    let outcomes = source.convert_rows(a, b)?;
    let mut records = Vec::with_capacity(outcomes.len());
    let rows = outcomes
        .into_iter()
        .map(|outcome| merge_row(outcome, meta, &mut records))
        .collect();
    Ok((rows, noter.note(records, N::Cells::default())))
}

/// What the merge checks of a converted row; its record (unless its key is missing) goes to
/// `records`.
fn merge_row(outcome: RowOutcome, meta: &Meta<'_>, records: &mut Vec<Record>) -> MergeRow {
    let keyed = matches!(meta.kind, RecordKind::Account | RecordKind::Person);
    match outcome {
        RowOutcome::Blank => MergeRow::Blank,
        RowOutcome::Broken(p) => MergeRow::Broken(p),
        RowOutcome::Read {
            record,
            cell_errors,
            missing_key,
        } => {
            let key = keyed.then(|| (record.key.clone(), (meta.key_hash)(&record.key)));
            let span = record.span;
            if missing_key.is_none() {
                records.push(record);
            }
            MergeRow::Read {
                key,
                span,
                cell_errors,
                missing_key,
            }
        }
    }
}

/// Rows offered to [`Note::note_cells`] at once: a noter looks up what they need in large
/// tables together (the consents of a batch of accounts), so that the cache misses overlap.
const CELL_BATCH: usize = 16;

/// A row waiting in a batch for [`Note::note_cells`]: where it is, its key and its cells'
/// values.
struct Offered {
    start: usize,
    end: usize,
    key: crate::record::Text,
    values: Vec<Option<Value>>,
}

/// What [`convert_noting_cells`] keeps of a chunk as it goes.
struct Noting<C> {
    merge_rows: Vec<MergeRow>,
    records: Vec<Record>,
    cells: C,
    memo: Memo,
    /// Rows noted from their cells so far.
    from_cells: usize,
    /// Buffers of values, kept from batch to batch.
    spare: Vec<Vec<Option<Value>>>,
}

/// [`convert_noted`] for a noter that notes rows from their cells: each row that would
/// become a record with a key and without a problem is offered to [`Note::note_cells`]
/// first (in batches of [`CELL_BATCH`] consecutive rows), and only the rows it declines are
/// converted to records. The merge sees a row noted from its cells as such a record, with
/// its key.
fn convert_noting_cells<N: Note>(
    rows: &Rows<'_>,
    meta: &Meta<'_>,
    noter: &N,
    (a, b): (usize, usize),
) -> (Vec<MergeRow>, N::Notes) {
    let mut noting = Noting {
        merge_rows: Vec::with_capacity(rows.lines_between(a, b) + 1),
        records: Vec::new(),
        cells: N::Cells::default(),
        memo: Memo::default(),
        from_cells: 0,
        spare: Vec::new(),
    };
    // The columns onto each attribute a key comes from, in the order of the candidates.
    let key_columns: Vec<(&str, Vec<usize>)> = key_candidates(meta.kind)
        .iter()
        .map(|name| (*name, meta.header.columns_onto(name)))
        .collect();
    let mut batch: Vec<Offered> = Vec::with_capacity(CELL_BATCH);
    rows.for_each_parsed(a, b, |start, end, fields| {
        let mut values = noting.spare.pop().unwrap_or_default();
        let key = if rows.cell_values(fields, &mut values, &mut noting.memo) {
            key_of(meta.kind, |name| {
                key_columns
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, columns)| filled_last(columns, &values))
            })
        } else {
            None
        };
        match key {
            Some(key) => {
                batch.push(Offered {
                    start,
                    end,
                    key,
                    values,
                });
                if batch.len() >= CELL_BATCH {
                    offer(rows, meta, noter, &mut batch, &mut noting);
                }
            }
            None => {
                noting.spare.push(values);
                // The rows before it first, in order.
                offer(rows, meta, noter, &mut batch, &mut noting);
                let outcome = rows.row(start, end, fields, &mut noting.memo);
                noting
                    .merge_rows
                    .push(merge_row(outcome, meta, &mut noting.records));
            }
        }
    });
    offer(rows, meta, noter, &mut batch, &mut noting);
    let notes = noter.note(noting.records, noting.cells);
    (noting.merge_rows, notes)
}

/// Offers the rows of `batch` to [`Note::note_cells`] and merges them in order: those it
/// noted as records without problems, the others converted to records (read again from the
/// text: a row's fields are not kept while it waits).
fn offer<N: Note>(
    rows: &Rows<'_>,
    meta: &Meta<'_>,
    noter: &N,
    batch: &mut Vec<Offered>,
    noting: &mut Noting<N::Cells>,
) {
    if batch.is_empty() {
        return;
    }
    // Every row of the batch becomes a record or is noted from its cells: one place each.
    let first = noting.records.len() + noting.from_cells;
    let offered: Vec<CellRow<'_>> = batch
        .iter()
        .enumerate()
        .map(|(i, o)| CellRow {
            values: &o.values,
            key: &o.key,
            at: first + i,
        })
        .collect();
    let mut record = |i: usize| {
        let o = batch.get(i)?;
        match rows.row_again(o.start, o.end, &mut Memo::default())? {
            RowOutcome::Read {
                record,
                cell_errors,
                missing_key: None,
            } if cell_errors.is_empty() => Some(record),
            _ => None,
        }
    };
    let mut noted = Vec::with_capacity(offered.len());
    noter.note_cells(&offered, &mut noting.cells, &mut record, &mut noted);
    drop(offered);
    let keyed = matches!(meta.kind, RecordKind::Account | RecordKind::Person);
    for (i, o) in batch.drain(..).enumerate() {
        if noted.get(i) == Some(&true) {
            noting.from_cells += 1;
            let span = rows.row_span(o.start, o.end);
            let hash = keyed.then(|| (meta.key_hash)(&o.key));
            noting.merge_rows.push(MergeRow::Read {
                key: hash.map(|hash| (o.key, hash)),
                span,
                cell_errors: Vec::new(),
                missing_key: None,
            });
        } else {
            let row = match rows.row_again(o.start, o.end, &mut noting.memo) {
                Some(outcome) => merge_row(outcome, meta, &mut noting.records),
                // Never in practice: the row was just read.
                None => MergeRow::Broken(Box::new(
                    Problem::error(
                        "input::unread",
                        format!(
                            "bytes {} to {} of the file were not converted",
                            rows.base + o.start,
                            rows.base + o.end
                        ),
                    )
                    .in_file(meta.file),
                )),
            };
            noting.merge_rows.push(row);
        }
        noting.spare.push(o.values);
    }
}

/// Converts the chunks in windows of `window_chunks` (in parallel within a window, each
/// chunk's records noted by the sink's [`Note`] where they were converted) and merges them in
/// order, applying everything that depends on earlier rows: duplicate keys, the cell-error
/// cap, the record limit. Hands the notes of each chunk to `sink`. Returns the start of every
/// record handed on, or `None` when the file is over the record limit (reading stops there).
fn merge<S: Sink + ?Sized>(
    meta: &Meta<'_>,
    source: &dyn Convert,
    chunks: &[(usize, usize)],
    failure: Option<Problem>,
    window_chunks: usize,
    problems: &mut Vec<Problem>,
    sink: &mut S,
) -> Option<Offsets> {
    use rayon::prelude::*;
    let (file, kind, options) = (meta.file, meta.kind, meta.options);
    // Keys by a 64-bit hash, with the index of their record in `starts`: a million keys need
    // no copies of their text (36 MB). A hit is checked against the earlier row, read again:
    // two keys that share a hash go to `other_keys` instead of being taken for a duplicate.
    // Sized once for every row: growing it would hold the old and the new table at once.
    let rows = meta.rows.min(options.max_records.saturating_add(1));
    let keyed = matches!(kind, RecordKind::Account | RecordKind::Person);
    let columns: Vec<ColumnName<'_>> = meta
        .header
        .columns
        .iter()
        .map(|c| match c {
            Column::Canonical(canon, _) => ColumnName::Canonical(canon.name),
            Column::Extra(name) => ColumnName::Extra(name),
            Column::Ignored => ColumnName::Ignored,
        })
        .collect();
    sink.expect(kind, rows, &columns);
    let noter = sink.noter();
    let mut seen_keys = SeenKeys::with_rows(if keyed { rows } else { 0 });
    let mut other_keys: HashMap<String, Span> = HashMap::new();
    let mut cell_errors = 0usize;
    let mut starts = Offsets::with_capacity(rows);
    let mut over_limit = false;
    type Noted<N> = ((usize, usize), (Vec<MergeRow>, <N as Note>::Notes));
    // Merges one converted window; `false` once the record limit is passed, an error when
    // the file could not be read again.
    let mut process = |converted: Vec<Noted<S::Noter>>| -> Result<bool, Problem> {
        for ((a, b), (merge_rows, notes)) in converted {
            // Among the rows noted (those with a key), the ones not handed on.
            let mut dropped: Vec<usize> = Vec::new();
            let mut noted = 0usize;
            seen_keys.warm(merge_rows.iter().filter_map(|row| match row {
                MergeRow::Read {
                    key: Some((_, hash)),
                    ..
                } => Some(*hash),
                _ => None,
            }));
            for row in merge_rows {
                let (key, span, errors, missing_key) = match row {
                    MergeRow::Blank => continue,
                    MergeRow::Broken(p) => {
                        problems.push(*p);
                        continue;
                    }
                    MergeRow::Read {
                        key,
                        span,
                        cell_errors,
                        missing_key,
                    } => (key, span, cell_errors, missing_key),
                };
                for p in errors {
                    cell_errors += 1;
                    if cell_errors <= MAX_CELL_ERRORS {
                        problems.push(p);
                    }
                }
                if let Some(p) = missing_key {
                    problems.push(*p);
                    continue;
                }
                let index = noted;
                noted += 1;
                if let Some((key, hash)) = key {
                    let seen = u32::try_from(starts.len())
                        .ok()
                        .map(|at| seen_keys.find_or_insert(hash, at));
                    let first = match seen {
                        Some(None) => None,
                        hit => {
                            let earlier = match hit {
                                Some(Some(i)) => earlier_record(source, &starts, i, span.offset)?,
                                _ => None,
                            }
                            .filter(|e| e.key.as_str() == key.as_str());
                            match earlier {
                                Some(e) => Some(e.span),
                                None => match other_keys.get(key.as_str()) {
                                    Some(first) => Some(*first),
                                    None => {
                                        other_keys.insert(key.to_string(), span);
                                        None
                                    }
                                },
                            }
                        }
                    };
                    if let Some(first) = first {
                        problems.push(crate::source::duplicate_key(
                            file,
                            "account",
                            &key,
                            (span, "second row with this key"),
                            (first, "first row with this key"),
                            "an account key (id or username) must be unique within an export; remove or merge the duplicate row",
                        ));
                        dropped.push(index);
                        continue;
                    }
                }
                if starts.len() >= options.max_records {
                    problems.push(
                        Problem::error(
                            "input::too-many-records",
                            format!(
                                "the file has more than {} records, the limit",
                                options.max_records
                            ),
                        )
                        .at(
                            file,
                            Span::new(span.offset, 1),
                            "the first record over the limit",
                        )
                        .with_help("split the export, or raise the limit with --max-records"),
                    );
                    over_limit = true;
                    return Ok(false);
                }
                starts.push(span.offset);
            }
            if dropped.is_empty() {
                sink.take(notes);
            } else {
                // Rare (and an error): the chunk is read again and noted without them.
                drop(notes);
                let mut index = 0usize;
                let kept = source
                    .convert_rows(a, b)?
                    .into_iter()
                    .filter_map(|outcome| match outcome {
                        RowOutcome::Read {
                            record,
                            missing_key: None,
                            ..
                        } => {
                            index += 1;
                            (!dropped.contains(&(index - 1))).then_some(record)
                        }
                        _ => None,
                    })
                    .collect();
                sink.take(noter.note(kept, <S::Noter as Note>::Cells::default()));
            }
        }
        Ok(true)
    };
    let convert = |window: &[(usize, usize)]| -> Result<Vec<Noted<S::Noter>>, Problem> {
        window
            .par_iter()
            .map(|&chunk| Ok((chunk, convert_noted(source, meta, &noter, chunk)?)))
            .collect()
    };
    // The next window is converted while the current one is merged and handed on.
    let mut windows = chunks.chunks(window_chunks.max(1));
    let mut pending = windows.next().map(convert);
    let mut unread = None;
    while let Some(current) = pending.take() {
        let next = windows.next();
        let current = match current {
            Ok(current) => current,
            Err(p) => {
                unread = Some(p);
                break;
            }
        };
        let (converted, go_on) = rayon::join(|| next.map(convert), || process(current));
        match go_on {
            Ok(true) => {}
            Ok(false) => break,
            Err(p) => {
                unread = Some(p);
                break;
            }
        }
        pending = converted;
    }
    if over_limit {
        return None;
    }
    // A file that changed while it was read: nothing after the change is read.
    if let Some(p) = unread {
        problems.push(p);
        return Some(starts);
    }
    if let Some(p) = failure {
        problems.push(p);
        return Some(starts);
    }
    if cell_errors > MAX_CELL_ERRORS {
        problems.push(
            Problem::error(
                "input::too-many-errors",
                format!(
                    "{} more invalid cells were not listed",
                    cell_errors - MAX_CELL_ERRORS
                ),
            )
            .in_file(file),
        );
    }
    if starts.is_empty() && !problems.iter().any(Problem::is_error) {
        problems.push(
            Problem::error(
                "input::empty",
                format!("the file has a header but no {}", kind.name()),
            )
            .at(file, meta.header_span, "only this header line")
            .with_help("export the list again; an empty list is never treated as a clean result"),
        );
    }
    Some(starts)
}

/// The keys a merge has seen, by their 64-bit hash ([`hash64`]): an open-addressing table
/// (linear probing) of 8-byte slots, each 32 bits of a key's hash and the index of its
/// record, three slots for every two rows. A million keys take 12 MB, where a
/// `HashMap<u64, u32>` takes 27 MB (16-byte entries on a power-of-two table at most 7/8
/// full, plus control bytes). A slot found says only that a key with the same bits was seen:
/// the caller reads that record again and compares the keys.
#[derive(Debug)]
struct SeenKeys {
    /// `(tag, index)`; tag 0 marks an empty slot (a hash's tag is never 0).
    slots: Vec<(u32, u32)>,
    used: usize,
    /// Keys over the table's load limit (only when a file has more rows than were counted).
    overflow: foldhash::HashMap<u64, u32>,
}

impl SeenKeys {
    fn with_rows(rows: usize) -> Self {
        let len = if rows == 0 {
            0
        } else {
            rows.saturating_add(rows / 2).saturating_add(1)
        };
        Self {
            slots: vec![(0, 0); len],
            used: 0,
            overflow: foldhash::HashMap::default(),
        }
    }

    /// The slot where the probe sequence of `hash` starts in a table of `len` slots: its
    /// value scaled to the length (no modulo).
    fn home(hash: u64, len: usize) -> usize {
        usize::try_from((u128::from(hash) * len as u128) >> 64).unwrap_or(0)
    }

    /// Brings the home slots of `hashes` into the cache before they are looked up one by one:
    /// the loads do not depend on each other, so their cache misses overlap (a million keys
    /// take 12 MB, and each [`SeenKeys::find_or_insert`] in the merge, which runs on one core,
    /// missed the cache once). Changes nothing.
    fn warm(&self, hashes: impl Iterator<Item = u64>) {
        let len = self.slots.len();
        if len == 0 {
            return;
        }
        let mut sum = 0u32;
        for hash in hashes {
            sum ^= self.slots.get(Self::home(hash, len)).map_or(0, |s| s.0);
        }
        std::hint::black_box(sum);
    }

    /// The index of the record of the first key seen on `hash`'s probe sequence that shares
    /// its tag (most likely, but not surely, the same key); otherwise notes `index` for `hash`
    /// and returns `None`. A key is found again as long as no key that shares its tag was
    /// noted in a slot before its own on the sequence, which is then found instead: the
    /// caller falls back to comparing texts.
    fn find_or_insert(&mut self, hash: u64, index: u32) -> Option<u32> {
        let tag = u32::try_from(hash & u64::from(u32::MAX))
            .unwrap_or(1)
            .max(1);
        let len = self.slots.len();
        let start = Self::home(hash, len);
        let (tail, head) = self.slots.split_at_mut(start.min(len));
        let mut empty = None;
        for slot in head.iter_mut().chain(tail.iter_mut()) {
            match *slot {
                (0, _) => {
                    empty = Some(slot);
                    break;
                }
                (t, i) if t == tag => return Some(i),
                _ => {}
            }
        }
        if let Some(&i) = self.overflow.get(&hash) {
            return Some(i);
        }
        // At most three quarters full, so probe sequences stay short (an empty table has no
        // slot at all).
        match empty {
            Some(slot) if self.used < len - len / 4 => {
                *slot = (tag, index);
                self.used += 1;
            }
            _ => {
                self.overflow.insert(hash, index);
            }
        }
        None
    }
}

/// A 64-bit hash of a record key, with a seed drawn once per run (`foldhash`: a few dozen
/// instructions for a key of a dozen bytes, where SipHash took about 160). A hash only
/// finds the record to compare a key with (see [`SeenKeys`]): keys that share one are told
/// apart by their texts, at worst more slowly.
fn hash64(key: &str) -> u64 {
    use std::hash::BuildHasher as _;
    static SEEDED: std::sync::LazyLock<foldhash::fast::RandomState> =
        std::sync::LazyLock::new(foldhash::fast::RandomState::default);
    SEEDED.hash_one(key)
}

/// The record handed on as number `index` (of the record `starts`), read again from its row;
/// `until` is the start of a later record (where reading may stop).
fn earlier_record(
    source: &dyn Convert,
    starts: &Offsets,
    index: u32,
    until: usize,
) -> Result<Option<Record>, Problem> {
    let Some((from, to)) = usize::try_from(index)
        .ok()
        .and_then(|i| Some((starts.get(i)?, starts.get(i + 1).unwrap_or(until))))
    else {
        return Ok(None);
    };
    Ok(source
        .convert_rows(from, to)?
        .into_iter()
        .find_map(|o| match o {
            RowOutcome::Read { record, .. } => Some(record),
            _ => None,
        }))
}

/// What the merge of a first pass needs besides the rows.
struct Meta<'a> {
    file: FileId,
    kind: RecordKind,
    options: &'a CsvOptions,
    header_span: Span,
    /// The file's header.
    header: &'a Header,
    /// The hash of record keys in the duplicate-key check.
    key_hash: fn(&str) -> u64,
    /// How many rows there are (see [`Plan::rows`]).
    rows: usize,
}

/// Converts rows of a file's text, held or read again from disk.
trait Convert: Sync {
    /// Converts the rows between the record boundaries `a` and `b`.
    fn convert_rows(&self, a: usize, b: usize) -> Result<Vec<RowOutcome>, Problem>;

    /// Calls `f` with the rows of the part of the text between `a` and `b`.
    fn with_rows(&self, a: usize, b: usize, f: &mut dyn FnMut(&Rows<'_>)) -> Result<(), Problem>;
}

impl Convert for Rows<'_> {
    fn convert_rows(&self, a: usize, b: usize) -> Result<Vec<RowOutcome>, Problem> {
        Ok(self.read(a, b))
    }

    fn with_rows(&self, _a: usize, _b: usize, f: &mut dyn FnMut(&Rows<'_>)) -> Result<(), Problem> {
        f(self);
        Ok(())
    }
}

impl CsvStream {
    fn convert_rows_keeping(
        &self,
        a: usize,
        b: usize,
        keep: Option<&[bool]>,
    ) -> Result<Vec<RowOutcome>, Problem> {
        let (base, text) = self.text(a, b)?;
        Ok(self.rows_keeping(&text, base, keep).read(a, b))
    }

    fn with_rows_keeping(
        &self,
        a: usize,
        b: usize,
        keep: Option<&[bool]>,
        f: &mut dyn FnMut(&Rows<'_>),
    ) -> Result<(), Problem> {
        let (base, text) = self.text(a, b)?;
        f(&self.rows_keeping(&text, base, keep));
        if let Cow::Owned(text) = text {
            crate::source::disk::DiskText::recycle(text);
        }
        Ok(())
    }
}

impl Convert for CsvStream {
    fn convert_rows(&self, a: usize, b: usize) -> Result<Vec<RowOutcome>, Problem> {
        self.convert_rows_keeping(a, b, None)
    }

    fn with_rows(&self, a: usize, b: usize, f: &mut dyn FnMut(&Rows<'_>)) -> Result<(), Problem> {
        self.with_rows_keeping(a, b, None, f)
    }
}

/// The first pass over a stream whose caller reads only some attributes (see [`open`]).
struct Keeping<'a> {
    stream: &'a CsvStream,
    /// By column: whether it becomes an attribute.
    keep: Vec<bool>,
}

impl Convert for Keeping<'_> {
    fn convert_rows(&self, a: usize, b: usize) -> Result<Vec<RowOutcome>, Problem> {
        self.stream.convert_rows_keeping(a, b, Some(&self.keep))
    }

    fn with_rows(&self, a: usize, b: usize, f: &mut dyn FnMut(&Rows<'_>)) -> Result<(), Problem> {
        self.stream.with_rows_keeping(a, b, Some(&self.keep), f)
    }
}

/// By column of `header`: whether it becomes an attribute when only `only` (canonical names
/// or names of other columns) are read; the columns a record's key comes from always do.
fn columns_kept(header: &Header, kind: RecordKind, only: &HashSet<String>) -> Vec<bool> {
    let keys = key_candidates(kind);
    header
        .columns
        .iter()
        .map(|c| match c {
            Column::Canonical(canon, _) => keys.contains(&canon.name) || only.contains(canon.name),
            Column::Extra(name) => only.contains(name),
            Column::Ignored => false,
        })
        .collect()
}

/// Chunks converted at a time when streaming: one per core (at least two), so every core
/// converts while the previous window is handed on; small windows keep memory flat (on the
/// 2-core machine, four chunks peaked higher at a million accounts, 144-166 MB against
/// 145-149 MB for two, at the same CPU time).
fn stream_window_chunks() -> usize {
    rayon::current_num_threads().max(2)
}
/// Rows converted together when streaming: a window of two chunks is about 2 MB of records.
const STREAM_CHUNK_ROWS: usize = 1024;

/// A CSV input read in a first pass for its problems (and whatever the caller's sink gathers),
/// whose records can be converted again window by window, or only the rows in given byte
/// ranges, without ever holding all of them (see [`open`]).
#[derive(Debug)]
pub struct CsvStream {
    file: FileId,
    source: StreamSource,
    kind: RecordKind,
    options: CsvOptions,
    delimiter: u8,
    header: Header,
    chunks: Vec<(usize, usize)>,
    /// The start of every record, in order.
    starts: Offsets,
    /// The parsers of its rows.
    parsers: Parsers,
}

/// Where a stream reads its text again after the first pass.
#[derive(Debug)]
pub enum StreamSource {
    /// The decoded text, held.
    Held(std::sync::Arc<str>),
    /// A UTF-8 file on disk, read again by byte offset: the text is not held between passes.
    Disk(DiskText),
}

pub use crate::source::disk::DiskText;

/// Reads a CSV file of `kind` records like [`read`], but hands them to `sink` chunk by chunk
/// (noted by its [`Note`] on the core that converted them) instead of returning them; the
/// returned stream converts them again on demand, from
/// `source` (the text held, or the file on disk, which is then read block by block and never
/// held whole). `None` when the header or the record limit made the file unreadable.
/// `chunk_rows` rows are converted together (1,024 when `None`). With `only`, the records
/// the sink gets have only those attributes (canonical names, or the names of other columns)
/// and their key: the first pass then skips converting the rest (the values of every column
/// are still checked, so its problems are the same).
pub fn open(
    file: FileId,
    source: StreamSource,
    kind: RecordKind,
    options: CsvOptions,
    chunk_rows: Option<usize>,
    only: Option<&HashSet<String>>,
    sink: &mut (impl Sink + ?Sized),
) -> (Vec<Problem>, Option<CsvStream>) {
    match plan_stream(file, source, kind, options, chunk_rows) {
        (mut problems, Some(planned)) => {
            let (more, stream) = planned.open(only, sink);
            problems.extend(more);
            (problems, stream)
        }
        (problems, None) => (problems, None),
    }
}

/// A streamed CSV input whose header has been read and whose record boundaries are found,
/// before its first pass (see [`plan_stream`]): the caller can look at its columns first.
#[derive(Debug)]
pub struct Planned {
    stream: CsvStream,
    /// How many rows the chunks hold.
    rows: usize,
    /// The malformed row the rows end before, if any.
    failure: Option<Problem>,
}

/// The first half of [`open`]: reads the header and finds the record boundaries (one
/// sequential pass, cheap). `None` when the header already makes the file unreadable.
pub fn plan_stream(
    file: FileId,
    source: StreamSource,
    kind: RecordKind,
    options: CsvOptions,
    chunk_rows: Option<usize>,
) -> (Vec<Problem>, Option<Planned>) {
    let mut out = ReadResult::default();
    let chunk_rows = chunk_rows.unwrap_or(STREAM_CHUNK_ROWS);
    let Some(plan) = plan(
        file,
        Input::of(&source),
        kind,
        &options,
        chunk_rows,
        &mut out,
    ) else {
        return (out.problems, None);
    };
    let stream = CsvStream {
        file,
        source,
        kind,
        options,
        delimiter: plan.delimiter,
        header: plan.header,
        chunks: plan.chunks,
        starts: Offsets::default(),
        parsers: Parsers::new(plan.delimiter),
    };
    let planned = Planned {
        stream,
        rows: plan.rows,
        failure: plan.failure,
    };
    (out.problems, Some(planned))
}

impl Planned {
    /// The kind of the records.
    pub fn kind(&self) -> RecordKind {
        self.stream.kind
    }

    /// The file the records come from.
    pub fn file(&self) -> FileId {
        self.stream.file
    }

    /// Whether a column becomes the attribute `name` (a canonical name, or the name of
    /// another column kept as it is).
    pub fn has_attribute(&self, name: &str) -> bool {
        self.stream.header.columns.iter().any(|c| match c {
            Column::Canonical(canon, _) => canon.name == name,
            Column::Extra(extra) => extra == name,
            Column::Ignored => false,
        })
    }

    /// The second half of [`open`]: the first pass, handing the records to `sink`.
    pub fn open(
        self,
        only: Option<&HashSet<String>>,
        sink: &mut (impl Sink + ?Sized),
    ) -> (Vec<Problem>, Option<CsvStream>) {
        let Planned {
            mut stream,
            rows,
            failure,
        } = self;
        let mut problems = Vec::new();
        let meta = Meta {
            file: stream.file,
            kind: stream.kind,
            options: &stream.options,
            header_span: stream.header.span,
            header: &stream.header,
            key_hash: hash64,
            rows,
        };
        let keeping = only.map(|only| Keeping {
            stream: &stream,
            keep: columns_kept(&stream.header, stream.kind, only),
        });
        let source: &dyn Convert = match &keeping {
            Some(k) => k,
            None => &stream,
        };
        let merged = merge(
            &meta,
            source,
            &stream.chunks,
            failure,
            // A first pass that keeps notes, not records (but for records with findings), and
            // converts only some columns: windows four times as long leave a core idle at the
            // end of a window a quarter as often. Whole records take more room.
            if only.is_some() { 4 } else { 1 } * stream_window_chunks(),
            &mut problems,
            sink,
        );
        drop(keeping);
        match merged {
            Some(starts) => {
                stream.starts = starts;
                (problems, Some(stream))
            }
            None => (problems, None),
        }
    }
}

impl CsvStream {
    /// The rows of `text`, which starts at byte `base` of the file's text.
    fn rows<'a>(&'a self, text: &'a str, base: usize) -> Rows<'a> {
        self.rows_keeping(text, base, None)
    }

    /// Like [`CsvStream::rows`], keeping only the attributes of the columns in `keep`.
    fn rows_keeping<'a>(
        &'a self,
        text: &'a str,
        base: usize,
        keep: Option<&'a [bool]>,
    ) -> Rows<'a> {
        let first_line = match &self.source {
            StreamSource::Held(held) => {
                1 + memchr::memchr_iter(b'\n', held.as_bytes().get(..base).unwrap_or_default())
                    .count()
            }
            StreamSource::Disk(disk) => disk.line_of(base),
        };
        Rows {
            file: self.file,
            text,
            base,
            first_line,
            kind: self.kind,
            options: &self.options,
            delimiter: self.delimiter,
            header: &self.header,
            keep,
            capacity: self.header.capacity(keep),
            parsers: &self.parsers,
        }
    }

    /// The file the records come from.
    pub fn file(&self) -> FileId {
        self.file
    }

    /// The kind of the records.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// How many records the first pass handed on.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the first pass handed on no record.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The text of the byte range `start..end` (record boundaries or whole lines) and the
    /// offset it starts at: the held text whole, or the range read again from disk.
    fn text(
        &self,
        start: usize,
        end: usize,
    ) -> Result<(usize, std::borrow::Cow<'_, str>), Problem> {
        match &self.source {
            StreamSource::Held(text) => Ok((0, std::borrow::Cow::Borrowed(&**text))),
            // From the line break before: rows are read as in the first pass (see
            // `Rows::read`), and a record boundary follows a line break (ASCII).
            StreamSource::Disk(disk) => match disk.read(start.saturating_sub(1), end) {
                Ok(text) => Ok((start.saturating_sub(1), std::borrow::Cow::Owned(text))),
                Err(why) => Err(changed(self.file, disk.name(), &why)),
            },
        }
    }

    /// The text of the byte range `start..end` of the file (whole lines), for diagnostics.
    pub fn read_text(&self, start: usize, end: usize) -> Result<String, Problem> {
        let (at, text) = self.text(start, end)?;
        Ok(text
            .get(start.saturating_sub(at)..end.saturating_sub(at))
            .unwrap_or_default()
            .to_owned())
    }

    /// Converts the records again, window by window, in order: the same records the first
    /// pass handed on (for a file read without errors; rows that were errors are skipped).
    /// Fails when the file cannot be read again as it was (see [`DiskText`]).
    pub fn for_each_window(
        &self,
        sink: &mut (dyn FnMut(Vec<Record>) + Send),
    ) -> Result<(), Problem> {
        self.for_each_window_map(&|records| records.collect::<Vec<_>>(), &mut |chunks| {
            sink(chunks.into_iter().flatten().collect());
        })
    }

    /// Like [`CsvStream::for_each_window`], with `map` applied to the records of each chunk
    /// in the parallel task that converts them, each record as soon as it is converted (while
    /// it is still in the core's cache), and `sink` given a window's results in order.
    pub fn for_each_window_map<T: Send>(
        &self,
        map: &(dyn Fn(&mut dyn Iterator<Item = Record>) -> T + Sync),
        sink: &mut (dyn FnMut(Vec<T>) + Send),
    ) -> Result<(), Problem> {
        use rayon::prelude::*;
        let convert = |window: &[(usize, usize)]| -> Result<Vec<T>, Problem> {
            let (Some(first), Some(last)) = (window.first(), window.last()) else {
                return Ok(Vec::new());
            };
            let (base, text) = self.text(first.0, last.1)?;
            let rows = self.rows(&text, base);
            Ok(window
                .par_iter()
                .map(|&(a, b)| {
                    map(&mut rows.each(a, b).filter_map(|o| match o {
                        RowOutcome::Read {
                            record,
                            missing_key: None,
                            ..
                        } => Some(record),
                        _ => None,
                    }))
                })
                .collect())
        };
        // The next window is converted while the current one is handed on.
        let mut windows = self.chunks.chunks(stream_window_chunks());
        let mut pending = windows.next().map(convert);
        while let Some(current) = pending.take() {
            let current = current?;
            let next = windows.next();
            let (converted, ()) = rayon::join(|| next.map(convert), || sink(current));
            pending = converted;
        }
        Ok(())
    }

    /// The records whose rows may touch any of the sorted byte `ranges`, converted again (a
    /// superset: the caller filters).
    pub fn records_near(&self, ranges: &[(usize, usize)]) -> Result<Vec<Record>, Problem> {
        let mut out = Vec::new();
        self.for_each_near(ranges, &mut |records| out.extend(records))?;
        Ok(out)
    }

    /// The offsets at which the rows at these indices (into the records the first pass handed
    /// on) start.
    pub fn row_offsets(&self, rows: &[usize]) -> Vec<usize> {
        rows.iter().filter_map(|i| self.starts.get(*i)).collect()
    }

    /// [`CsvStream::records_near`], handed to `each` in order a few thousand records at a
    /// time: when every row has a finding, the rows near them are the whole file, which is
    /// then never converted at once.
    pub fn for_each_near(
        &self,
        ranges: &[(usize, usize)],
        each: &mut dyn FnMut(Vec<Record>),
    ) -> Result<(), Problem> {
        self.for_each_near_map(ranges, &|records| records, each)
    }

    /// [`CsvStream::for_each_near`], with the records of each piece passed through `map`
    /// where they were converted (on every core); `each` gets the results in order.
    pub fn for_each_near_map<T: Send>(
        &self,
        ranges: &[(usize, usize)],
        map: &(dyn Fn(Vec<Record>) -> T + Sync),
        each: &mut dyn FnMut(T),
    ) -> Result<(), Problem> {
        let starts = &self.starts;
        let end_of_rows = self.chunks.last().map_or(0, |c| c.1);
        // Rows to read: from the row containing the start of a range to the last row
        // starting before its end, merged where they meet or nearly (each span read needs a
        // CSV parser built anew, which costs about as much as converting a dozen rows).
        const GAP_ROWS: usize = 8;
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for &(a, b) in ranges {
            let first = starts.partition_point(|s| s <= a).saturating_sub(1);
            let last = starts.partition_point(|s| s <= b);
            if first >= last {
                continue;
            }
            match spans.last_mut() {
                Some(prev) if first <= prev.1 + GAP_ROWS => prev.1 = prev.1.max(last),
                _ => spans.push((first, last)),
            }
        }
        // No span longer than `NEAR_ROWS` rows.
        let spans: Vec<(usize, usize)> = spans
            .into_iter()
            .flat_map(|(first, last)| {
                (first..last)
                    .step_by(NEAR_ROWS)
                    .map(move |a| (a, (a + NEAR_ROWS).min(last)))
            })
            .collect();
        // Spans of up to a few chunks' rows together are read and converted in parallel,
        // their records handed on in order.
        use rayon::prelude::*;
        let window_rows = 2 * stream_window_chunks() * NEAR_ROWS;
        let mut windows: Vec<&[(usize, usize)]> = Vec::new();
        let (mut at, mut rows) = (0, 0);
        for (i, (first, last)) in spans.iter().enumerate() {
            if rows > 0 && rows + (last - first) > window_rows {
                windows.extend(spans.get(at..i));
                (at, rows) = (i, 0);
            }
            rows += last - first;
        }
        windows.extend(spans.get(at..).filter(|w| !w.is_empty()));
        for window in windows {
            let read = window
                .par_iter()
                .map(|&(first, last)| -> Result<T, Problem> {
                    let (Some(from), to) =
                        (starts.get(first), starts.get(last).unwrap_or(end_of_rows))
                    else {
                        return Ok(map(Vec::new()));
                    };
                    let (base, text) = self.text(from, to)?;
                    let rows = self.rows(&text, base);
                    Ok(map(rows
                        .each(from, to)
                        .filter_map(|o| match o {
                            RowOutcome::Read { record, .. } => Some(record),
                            _ => None,
                        })
                        .collect()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            for mapped in read {
                each(mapped);
            }
        }
        Ok(())
    }
}

/// The most rows [`CsvStream::for_each_near`] converts in one piece.
const NEAR_ROWS: usize = 4096;

/// The spans of the cells of one raw row starting at `start`, whose fields are `row`; the
/// whole row for each cell when the scanner and the csv crate disagree (only on odd quoting).
fn row_cells(
    raw: &str,
    start: usize,
    delimiter: u8,
    row: &impl RowFields,
    row_span: Span,
) -> Vec<Span> {
    let mut cells = Vec::new();
    row_cells_into(raw, start, delimiter, row, row_span, &mut cells);
    cells
}

/// [`row_cells`], written into `cells` (a buffer kept from row to row).
fn row_cells_into(
    raw: &str,
    start: usize,
    delimiter: u8,
    row: &impl RowFields,
    row_span: Span,
    cells: &mut Vec<Span>,
) {
    cells.clear();
    let fields = row.count();
    // Checked already when the parser sliced the fields from the row.
    if row.sliced()
        || (memchr::memchr(b'"', raw.as_bytes()).is_none()
            && row.bytes() + fields.saturating_sub(1) == raw.trim_end_matches(['\r', '\n']).len())
    {
        // Without quotes (and with every byte in a field or a delimiter) every field is its
        // text: the cells follow from their lengths.
        let mut at = start;
        cells.extend((0..fields).map(|i| {
            let len = row.field(i).map_or(0, str::len);
            let cell = Span::new(at, len);
            at += len + 1;
            cell
        }));
        return;
    }
    cells.extend(field_spans(raw, delimiter));
    if cells.len() == fields {
        for cell in cells.iter_mut() {
            cell.offset += start;
        }
    } else {
        cells.clear();
        cells.resize(fields, row_span);
    }
}

/// Whether the values of `canon` are worth converting once per chunk: texts folded onto a few
/// words (roles, origins, states …) and sets (roles, classes), whose conversion never fails
/// and depends on the text alone.
fn worth_memoizing(canon: &Canonical) -> bool {
    use columns::Normalize;
    canon.name != "password_present"
        && match canon.ty {
            AttrType::Set => true,
            AttrType::Str => !matches!(canon.normalize, Normalize::None | Normalize::Lower),
            AttrType::Bool | AttrType::Long | AttrType::Date => false,
        }
}

/// Values of the memoized columns of a chunk (see [`Header::memoized`]) by their text: a
/// list of a million accounts names a dozen roles.
#[derive(Default)]
struct Memo {
    values: Vec<Known>,
    /// The cells of the row being converted (a buffer kept from row to row).
    cells: Vec<Span>,
}

/// The values of one memoized column by their text: the first few short texts without a
/// hash (most columns a memo is for hold a few, looked up in every row), the others by hash.
#[derive(Default)]
struct Known {
    short: ShortTexts<Value, { Memo::SHORT }>,
    other: foldhash::HashMap<Box<str>, Value>,
}

impl Known {
    fn len(&self) -> usize {
        self.short.len() + self.other.len()
    }

    fn get(&self, text: &str) -> Option<&Value> {
        match self.short.get(text) {
            Some(v) => Some(v),
            // Every short text kept is among them while there is room.
            None if self.short.takes(text) => None,
            None => self.other.get(text),
        }
    }

    fn insert(&mut self, text: &str, value: Value) {
        if let Err(value) = self.short.insert(text, value) {
            self.other.insert(text.into(), value);
        }
    }
}

impl Memo {
    /// The most values kept per column: a column of many distinct values (a class per
    /// student) does not grow the memo without bound.
    const MAX_VALUES: usize = 256;
    /// The most short texts compared one by one.
    const SHORT: usize = 12;

    /// The value of `text` in column `i`, converted by `convert` unless known.
    fn value(
        &mut self,
        i: usize,
        text: &str,
        convert: impl FnOnce() -> Result<Option<Value>, ValueError>,
    ) -> Result<Option<Value>, ValueError> {
        if self.values.len() <= i {
            self.values.resize_with(i + 1, Known::default);
        }
        let Some(known) = self.values.get_mut(i) else {
            return convert();
        };
        if let Some(v) = known.get(text) {
            return Ok(Some(v.clone()));
        }
        let converted = convert();
        if let Ok(Some(v)) = &converted
            && known.len() < Self::MAX_VALUES
        {
            known.insert(text, v.clone());
        }
        converted
    }
}

/// What every row of one file is read with: the file's text, or a part of it that starts at
/// byte `base` (a window read from disk), on line `first_line`. Spans are offsets into the
/// whole text, and line numbers in problems those of the whole text.
struct Rows<'a> {
    file: FileId,
    text: &'a str,
    base: usize,
    first_line: usize,
    kind: RecordKind,
    options: &'a CsvOptions,
    delimiter: u8,
    header: &'a Header,
    /// Which columns become attributes (by column; all when `None`). The values of the others
    /// are still checked where they can be invalid (dates, numbers, flags).
    keep: Option<&'a [bool]>,
    /// The attributes a record can get ([`Header::capacity`]).
    capacity: usize,
    /// The file's parsers, one taken for each part read.
    parsers: &'a Parsers,
}

/// csv-core over a text in memory, row by row: no copy into a buffer and no second UTF-8
/// check per record as in the csv crate's reader (the text is UTF-8 already).
struct Parser<'t> {
    /// Given back to the file's parsers by the owner.
    core: Option<csv_core::Reader>,
    input: &'t str,
    /// How much of `input` is read.
    pos: usize,
    /// The parser's output (unescaped fields) and the ends of the fields in it.
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The parser's delimiter.
    delimiter: u8,
    /// Whether csv-core has read (it strips a byte-order mark only at the start of what it
    /// reads first, so the first row is always its own).
    core_read: bool,
}

impl<'t> Parser<'t> {
    fn new(core: csv_core::Reader, delimiter: u8, input: &'t str) -> Self {
        Self {
            core: Some(core),
            input,
            pos: 0,
            out: vec![0; 1024],
            ends: vec![0; 32],
            delimiter,
            core_read: false,
        }
    }

    /// The next row: where it starts (after the line breaks before it) and ends in the input,
    /// and its fields; `None` at the end.
    fn next_row(&mut self) -> Option<(usize, usize, Parsed<'_>)> {
        use csv_core::ReadRecordResult as Read;
        let core = self.core.as_mut()?;
        let text = self.input.as_bytes();
        let start = skip_newlines(self.input, self.pos);
        if self.core_read
            && let Some((end, fields, content)) =
                plain_row(text, start, self.delimiter, &mut self.ends)
        {
            // The parser stays at the start of a record, where it would be after this row.
            self.pos = end;
            let raw = self.input.get(start..content).unwrap_or_default();
            let ends = self.ends.get(..fields).unwrap_or_default();
            return Some((
                start,
                end,
                Parsed {
                    text: raw,
                    ends,
                    gap: 1,
                },
            ));
        }
        let (mut nout, mut nend) = (0, 0);
        self.core_read = true;
        loop {
            let input = text.get(self.pos..).unwrap_or_default();
            let (result, nin, n_out, n_ends) = core.read_record(
                input,
                self.out.get_mut(nout..).unwrap_or_default(),
                self.ends.get_mut(nend..).unwrap_or_default(),
            );
            self.pos += nin;
            nout += n_out;
            nend += n_ends;
            match result {
                Read::Record => break,
                // An empty input is the end: the parser never asks for more after it.
                Read::InputEmpty if !input.is_empty() => {}
                Read::OutputFull => self.out.resize(self.out.len().max(256) * 2, 0),
                Read::OutputEndsFull => self.ends.resize(self.ends.len().max(16) * 2, 0),
                Read::InputEmpty | Read::End => return None,
            }
        }
        let end = self.pos;
        let raw = self.input.get(start..end).unwrap_or_default();
        let ends = self.ends.get(..nend).unwrap_or_default();
        let bytes = ends.last().copied().unwrap_or(0);
        // Without quotes (and with every byte of the row in a field or a delimiter), the
        // fields are the row's own text: no copy to check.
        let fields = if memchr::memchr(b'"', raw.as_bytes()).is_none()
            && bytes + nend.saturating_sub(1) == raw.trim_end_matches(['\r', '\n']).len()
        {
            Parsed {
                text: raw,
                ends,
                gap: 1,
            }
        } else {
            // Never an error: the text is UTF-8 and the parser removes only ASCII.
            let text = std::str::from_utf8(self.out.get(..nout).unwrap_or_default()).ok()?;
            Parsed { text, ends, gap: 0 }
        };
        Some((start, end, fields))
    }
}

/// A row that starts at `start` of `text` and has neither a quote nor a carriage return
/// before its line break: its fields are the text between the delimiters, exactly as csv-core
/// would read them (which treats a lone `\r` as a line break and quotes specially), found
/// eight bytes at a time instead of by csv-core's state machine, byte by byte (rows are short:
/// a search per field with `memchr` costs more in setting up than in searching). Writes the
/// field ends (as [`Parsed`] with `gap` 1 reads them) into `ends`; returns where the row ends
/// (where csv-core ends it), the number of fields, and where its text ends (before the line
/// break). `None` for every other row, and at the end of the text.
fn plain_row(
    text: &[u8],
    start: usize,
    delimiter: u8,
    ends: &mut Vec<usize>,
) -> Option<(usize, usize, usize)> {
    let rest = text.get(start..).filter(|r| !r.is_empty())?;
    let mut fields = 0;
    let mut push = |at: usize| {
        // The bytes of the fields before this end: `at` less one delimiter per field before.
        let value = at - fields;
        match ends.get_mut(fields) {
            Some(slot) => *slot = value,
            None => ends.push(value),
        }
        fields += 1;
    };
    // What the byte at `i` (one of the bytes searched for) means: a field's end (`Some(false)`),
    // the end of the line's text (`Some(true)`: a line break, or a carriage return before
    // one or at the end), or a row that is not plain (`None`: a quote, a lone carriage
    // return).
    let ends_line = |i: usize, byte: u8| -> Option<bool> {
        match byte {
            b'\n' => Some(true),
            b'"' => None,
            b'\r' => rest.get(i + 1).is_none_or(|b| *b == b'\n').then_some(true),
            _ => Some(false),
        }
    };
    let splat = |b: u8| u64::from(b) * 0x0101_0101_0101_0101;
    let (newline, quote, cr, delim) = (splat(b'\n'), splat(b'"'), splat(b'\r'), splat(delimiter));
    let mut at = 0;
    let mut line = None;
    'words: while let Some(word) = rest.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().ok()?);
        let mut hits = bytes_equal(word, newline)
            | bytes_equal(word, quote)
            | bytes_equal(word, cr)
            | bytes_equal(word, delim);
        while hits != 0 {
            let i = at + usize::try_from(hits.trailing_zeros() / 8).ok()?;
            hits &= hits - 1;
            if ends_line(i, *rest.get(i)?)? {
                line = Some(i);
                break 'words;
            }
            push(i);
        }
        at += 8;
    }
    if line.is_none() {
        for (i, &byte) in rest.iter().enumerate().skip(at) {
            if matches!(byte, b'\n' | b'"' | b'\r') || byte == delimiter {
                if ends_line(i, byte)? {
                    line = Some(i);
                    break;
                }
                push(i);
            }
        }
    }
    let line = line.unwrap_or(rest.len());
    push(line);
    // Like csv-core, the row ends after the first byte of its line break (the `\n` of a
    // CRLF is skipped as a blank line before the next row).
    let end = (start + line + 1).min(text.len());
    Some((end, fields, start + line))
}

/// `0x80` in each byte of `word` that equals the byte repeated in `splat`, `0` in the others
/// (exact: no borrow runs from one byte into the next).
#[inline]
fn bytes_equal(word: u64, splat: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ splat;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The rows of a part of a file, converted one by one (see [`Rows::each`]).
struct RowIter<'r, 'a> {
    rows: &'r Rows<'a>,
    parser: Parser<'a>,
    /// Set once every row is read.
    done: bool,
    memo: Memo,
    /// Where the parser's input starts (an offset into the rows' text).
    from: usize,
}

impl Iterator for RowIter<'_, '_> {
    type Item = RowOutcome;

    fn next(&mut self) -> Option<RowOutcome> {
        if self.done {
            return None;
        }
        let Some((start, end, fields)) = self.parser.next_row() else {
            self.done = true;
            return None;
        };
        let (start, end) = (self.from + start, self.from + end);
        Some(self.rows.row(start, end, &fields, &mut self.memo))
    }
}

impl Drop for RowIter<'_, '_> {
    fn drop(&mut self) {
        if let Some(core) = self.parser.core.take() {
            self.rows.parsers.give_back(core);
        }
    }
}

impl<'a> Rows<'a> {
    /// Converts the rows between the record boundaries `a` and `b` (byte offsets into the
    /// file's text, inside the part held).
    fn read(&self, a: usize, b: usize) -> Vec<RowOutcome> {
        // Room for every row at once (a row ends at a line break; one quoted line break
        // too many only leaves room unused): a chunk's outcomes are large, and growing the
        // vector by doubling would copy them about once more each.
        let mut rows = Vec::with_capacity(self.lines_between(a, b) + 1);
        rows.extend(self.each(a, b));
        rows
    }

    /// The line breaks between the record boundaries `a` and `b`.
    fn lines_between(&self, a: usize, b: usize) -> usize {
        self.text
            .as_bytes()
            .get(a.saturating_sub(self.base)..b.saturating_sub(self.base))
            .map_or(0, |t| memchr::memchr_iter(b'\n', t).count())
    }

    /// Calls `f` with where each row between the record boundaries `a` and `b` starts and
    /// ends (offsets into `text`, as [`Rows::row`] takes them) and its fields, unconverted.
    fn for_each_parsed(&self, a: usize, b: usize, mut f: impl FnMut(usize, usize, &Parsed<'_>)) {
        let mut rows = self.each(a, b);
        while !rows.done {
            let Some((start, end, fields)) = rows.parser.next_row() else {
                break;
            };
            f(rows.from + start, rows.from + end, &fields);
        }
    }

    /// The row between `start` and `end` (offsets into `text`, as [`Rows::for_each_parsed`]
    /// gives them) parsed and converted again; `None` when no row is found there.
    fn row_again(&self, start: usize, end: usize, memo: &mut Memo) -> Option<RowOutcome> {
        let mut outcome = None;
        self.for_each_parsed(self.base + start, self.base + end, |s, e, fields| {
            if outcome.is_none() && s == start {
                outcome = Some(self.row(s, e, fields, memo));
            }
        });
        outcome
    }

    /// The span of the row between `start` and `end` (offsets into `text`), without its line
    /// break.
    fn row_span(&self, start: usize, end: usize) -> Span {
        let raw = self.text.get(start..end).unwrap_or("");
        Span::new(self.base + start, raw.trim_end_matches(['\r', '\n']).len())
    }

    /// The values of the cells of `row` by column into `values`, converted exactly as
    /// [`Rows::row`] converts them into its record's attributes and other columns (`None` for
    /// an empty cell, an ignored column or one not kept); `false`, with `values` in any state, for a
    /// row that [`Rows::row`] would not make a record of without a problem: a blank row, a
    /// row with another number of fields than the header's, a cell that does not convert.
    fn cell_values(
        &self,
        row: &impl RowFields,
        values: &mut Vec<Option<Value>>,
        memo: &mut Memo,
    ) -> bool {
        let columns = &self.header.columns;
        if row.count() != columns.len()
            || (0..row.count()).all(|i| row.field(i).is_none_or(|f| trim(f).is_empty()))
        {
            return false;
        }
        values.clear();
        values.resize(columns.len(), None);
        for (i, (column, slot)) in columns.iter().zip(values.iter_mut()).enumerate() {
            let Some(text) = row.field(i) else {
                continue;
            };
            let kept = self.keep.is_none_or(|k| k.get(i).copied().unwrap_or(true));
            let canon = match column {
                Column::Canonical(canon, _) => canon,
                // As an other column of the record: its text, trimmed, unless blank.
                Column::Extra(_) => {
                    if kept && !trim(text).is_empty() {
                        *slot = Some(Value::Str(trim(text).into()));
                    }
                    continue;
                }
                Column::Ignored => continue,
            };
            if !kept && matches!(canon.ty, AttrType::Str | AttrType::Set) {
                continue;
            }
            let convert = || parse_cell_with(canon, text, self.options.us_dates);
            let parsed = if self.header.memoized.get(i).copied().unwrap_or(false) {
                memo.value(i, text, convert)
            } else {
                convert()
            };
            match parsed {
                Ok(value) if kept => *slot = value,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// The rows between the record boundaries `a` and `b`, converted one by one as they are
    /// taken (see [`Rows::read`]).
    fn each<'r>(&'r self, a: usize, b: usize) -> RowIter<'r, 'a> {
        let text = self.text;
        let mut rows = RowIter {
            rows: self,
            parser: Parser::new(self.parsers.take(), self.parsers.delimiter, ""),
            done: true,
            memo: Memo::default(),
            from: 0,
        };
        let (Some(a), Some(b)) = (a.checked_sub(self.base), b.checked_sub(self.base)) else {
            return rows;
        };
        // A boundary follows a line break: starting the fresh reader on that break (an empty
        // line, which it skips) keeps it from taking a byte-order mark opening the next row for
        // the start of a file and stripping it.
        let from = match a.checked_sub(1) {
            Some(before) if matches!(text.as_bytes().get(before), Some(b'\n' | b'\r')) => before,
            _ => a,
        };
        if let Some(slice) = text.get(from..b) {
            (rows.parser.input, rows.done, rows.from) = (slice, false, from);
        }
        rows
    }

    /// Converts the row between `start` and `end` (offsets into `text`), whose fields are `row`.
    fn row(&self, start: usize, end: usize, row: &impl RowFields, memo: &mut Memo) -> RowOutcome {
        let (file, text, kind, options, delimiter, header) = (
            self.file,
            self.text,
            self.kind,
            self.options,
            self.delimiter,
            self.header,
        );
        let raw = text.get(start..end).unwrap_or("");
        let base = self.base;
        let row_span = self.row_span(start, end);
        if (0..row.count()).all(|i| row.field(i).is_none_or(|f| trim(f).is_empty())) {
            return RowOutcome::Blank;
        }
        let columns = &header.columns;
        if row.count() != columns.len() {
            let line = self.line_at(start);
            if let Some(problem) = self.unclosed_quote(raw, start, line) {
                return RowOutcome::Broken(Box::new(problem));
            }
            return RowOutcome::Broken(Box::new(
            Problem::error(
                "input::field-count",
                format!(
                    "row {line} has {} fields but the header has {}",
                    row.count(),
                    columns.len()
                ),
            )
            .at(file, row_span, format!("{} fields", row.count()))
            .with_label(header.span, format!("{} columns", header.cells.len()))
            .with_help(format!(
                "every row needs one field per column, separated by `{}`; a field that contains the delimiter, a quote or a line break must be quoted with \"",
                char::from(delimiter).escape_default()
            )),
        ));
        }
        let mut cells = std::mem::take(&mut memo.cells);
        row_cells_into(raw, base + start, delimiter, row, row_span, &mut cells);
        let mut record = Record::new(kind, file, row_span);
        record.attrs = crate::record::Attrs::with_capacity(self.capacity);
        let keep = |i: usize| self.keep.is_none_or(|k| k.get(i).copied().unwrap_or(true));
        for &i in &header.extras {
            let (Some(Column::Extra(name)), Some(value), Some(span)) =
                (columns.get(i), row.field(i), cells.get(i))
            else {
                continue;
            };
            if keep(i) && !trim(value).is_empty() {
                record.extra.insert(
                    name.clone(),
                    Attr {
                        value: Value::Str(trim(value).into()),
                        span: *span,
                    },
                );
            }
        }
        // Canonical cells in the order of their attributes' names; their errors in the order
        // of the columns.
        let mut cell_errors: Vec<(usize, Problem)> = Vec::new();
        for &i in &header.by_name {
            let (Some(Column::Canonical(canon, header_name)), Some(value), Some(span)) =
                (columns.get(i), row.field(i), cells.get(i))
            else {
                continue;
            };
            let kept = keep(i);
            if !kept && matches!(canon.ty, AttrType::Str | AttrType::Set) {
                // Never invalid: nothing to check.
                continue;
            }
            let convert = || parse_cell_with(canon, value, options.us_dates);
            let parsed = if header.memoized.get(i).copied().unwrap_or(false) {
                memo.value(i, value, convert)
            } else {
                convert()
            };
            match parsed {
                Ok(Some(v)) if kept => record.attrs.set_in_order(
                    canon.name,
                    header.prefixes.get(i).copied().unwrap_or_default(),
                    Attr {
                        value: v,
                        span: *span,
                    },
                ),
                Ok(_) => {}
                Err(e) => cell_errors.push((
                    i,
                    Problem::error(
                        &format!("input::{}", e.code),
                        format!(
                            "invalid {} in column `{header_name}` ({})",
                            type_word(canon.ty),
                            canon.name
                        ),
                    )
                    .at(file, *span, e.label)
                    .with_help(e.help),
                )),
            }
        }
        cell_errors.sort_by_key(|(i, _)| *i);
        let cell_errors = cell_errors.into_iter().map(|(_, p)| p).collect();
        let missing_key = match record_key(&record) {
            Some(key) => {
                record.key = key;
                None
            }
            None => {
                let line = self.line_at(start);
                Some(Box::new(
                    Problem::error("input::missing-key", format!("row {line} has no key"))
                        .at(file, row_span, "this row has an empty key column")
                        .with_help(key_help(kind)),
                ))
            }
        };
        memo.cells = cells;
        RowOutcome::Read {
            record,
            cell_errors,
            missing_key,
        }
    }
}

impl Rows<'_> {
    /// The line of offset `at` of `text`.
    fn line_at(&self, at: usize) -> usize {
        let before = self.text.as_bytes().get(..at).unwrap_or_default();
        self.first_line + memchr::memchr_iter(b'\n', before).count()
    }

    /// A row whose fields disagree with the header because a quote was never closed: the csv
    /// parser then swallows the following lines into one field. Points at the opening quote.
    fn unclosed_quote(&self, raw: &str, start: usize, line: usize) -> Option<Problem> {
        let (file, base) = (self.file, self.base);
        let body = raw.trim_end_matches(['\r', '\n']);
        if !body.contains('\n') || body.matches('"').count().is_multiple_of(2) {
            return None;
        }
        let quote = body.find('"')?;
        let end_line = self.line_at(start + body.len());
        Some(
            Problem::error(
                "input::unclosed-quote",
                format!("row {line} has a quote that is never closed"),
            )
            .at(
                file,
                Span::new(base + start + quote, 1),
                format!("this quote runs on to line {end_line}"),
            )
            .with_help("close the quote, or double it (\"\") if it is part of the value"),
        )
    }
}

fn pos_usize(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

/// The csv crate reports the start of a record after a CRLF at the `\n` (rust-csv#395) and
/// counts skipped blank lines into the next record: move past line breaks.
fn skip_newlines(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while matches!(bytes.get(at), Some(b'\r' | b'\n')) {
        at += 1;
    }
    at.min(text.len())
}

/// A word for a value type, for messages.
pub fn type_word(ty: columns::AttrType) -> &'static str {
    match ty {
        columns::AttrType::Date => "date",
        columns::AttrType::Bool => "yes/no value",
        columns::AttrType::Long => "number",
        columns::AttrType::Str | columns::AttrType::Set => "value",
    }
}

/// The key of a record: `id`, else `username` for accounts; `id`, else `person` for consents.
pub fn record_key(record: &Record) -> Option<crate::record::Text> {
    key_of(record.kind, |name| record.get(name).map(|a| &a.value))
}

/// The key of a record of `kind` whose attribute `name` is `value(name)`: the first of its
/// key's attributes present, unless blank.
pub fn key_of<'v>(
    kind: RecordKind,
    value: impl Fn(&str) -> Option<&'v Value>,
) -> Option<crate::record::Text> {
    key_candidates(kind)
        .iter()
        .find_map(|c| {
            value(c).map(|v| match v {
                // Shared, not copied: inline up to 23 bytes, counted otherwise.
                Value::Str(s) => s.clone(),
                other => other.display().into(),
            })
        })
        .filter(|k| !k.trim().is_empty())
}

/// The attributes a record's key comes from, the first present.
pub fn key_candidates(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Account | RecordKind::Person => &["id", "username", "email"],
        RecordKind::Consent => &["id", "person"],
        RecordKind::Service => &["module"],
        RecordKind::System => &["platform"],
    }
}

/// Which canonical attributes a kind needs, as alternatives: one of each inner list.
pub fn required(kind: RecordKind) -> &'static [&'static [&'static str]] {
    match kind {
        RecordKind::Account | RecordKind::Person => &[&["id", "username", "email"]],
        RecordKind::Consent => &[&["person"], &["purpose"]],
        RecordKind::Service => &[&["module"]],
        RecordKind::System => &[&["platform"]],
    }
}

fn key_help(kind: RecordKind) -> String {
    match kind {
        RecordKind::Account => {
            "every account needs an id or a username; fill in the cell or remove the row".into()
        }
        RecordKind::Person => {
            "every person needs an id or a username; fill in the cell or remove the row".into()
        }
        RecordKind::Consent => {
            "every consent needs the person it belongs to; fill in the cell or remove the row"
                .into()
        }
        RecordKind::Service => "every module needs a name".into(),
        RecordKind::System => "every inventory entry needs the name of its system".into(),
    }
}

/// Lists the usual column names of a canonical attribute for a help text.
pub fn known_names(kind: RecordKind, name: &str) -> String {
    columns::by_name(kind, name).map_or_else(String::new, |c| {
        let mut names: Vec<String> = vec![c.name.to_owned()];
        for a in c.aliases.iter().take(6) {
            if !names.iter().any(|n| n == a) {
                names.push((*a).to_owned());
            }
        }
        names.join(", ")
    })
}

fn read_header(
    file: FileId,
    row: &csv::StringRecord,
    cells: &[Span],
    row_span: Span,
    kind: RecordKind,
    options: &CsvOptions,
    out: &mut ReadResult,
) -> (Vec<Column>, Vec<Span>, Span) {
    let mut columns = Vec::with_capacity(row.len());
    let mut by_name: HashMap<String, Span> = HashMap::new();
    let mut by_canonical: HashMap<&'static str, (String, Span)> = HashMap::new();
    for (name, span) in row.iter().zip(cells.iter().copied()) {
        let name = name.trim().trim_start_matches('\u{feff}');
        if name.is_empty() {
            columns.push(Column::Ignored);
            continue;
        }
        if let Some(first) = by_name.insert(name.to_owned(), span) {
            out.problems.push(
                Problem::error(
                    "input::duplicate-column",
                    format!("column `{name}` appears twice"),
                )
                .at(file, span, "second column with this name")
                .with_label(first, "first column with this name")
                .with_help("rename or remove one of the two columns"),
            );
            columns.push(Column::Ignored);
            continue;
        }
        let mapped = match options.columns.get(name) {
            Some(target) if target == "ignore" => {
                columns.push(Column::Ignored);
                continue;
            }
            Some(target) => columns::by_name(kind, target),
            None => columns::lookup(kind, name),
        };
        match mapped {
            Some(canon) => {
                if let Some((other, other_span)) = by_canonical.get(canon.name) {
                    out.problems.push(
                        Problem::error(
                            "input::ambiguous-column",
                            format!("columns `{other}` and `{name}` both map to `{}`", canon.name),
                        )
                        .at(file, span, format!("also `{}`", canon.name))
                        .with_label(*other_span, format!("maps to `{}`", canon.name))
                        .with_help(format!(
                            "map one of them to another attribute or to `ignore` in konform.yaml, e.g. columns: {{ \"{name}\": ignore }}"
                        )),
                    );
                    columns.push(Column::Ignored);
                    continue;
                }
                by_canonical.insert(canon.name, (name.to_owned(), span));
                columns.push(Column::Canonical(canon, name.to_owned()));
            }
            None => {
                if let Some((canon, alias)) = columns::suggest(kind, name) {
                    out.problems.push(
                        Problem::warning(
                            "input::unknown-column",
                            format!("unknown column `{name}`, did you mean `{alias}` ({})?", canon.name),
                        )
                        .at(file, span, "not a known column name")
                        .with_help(format!(
                            "rename the column, or map it in konform.yaml: columns: {{ \"{name}\": {} }}; its values are kept as the extra attribute `{name}`",
                            canon.name
                        )),
                    );
                }
                columns.push(Column::Extra(name.to_owned()));
            }
        }
    }
    for alternatives in required(kind) {
        if !alternatives.iter().any(|a| by_canonical.contains_key(a)) {
            let expected: Vec<String> = alternatives.iter().map(|a| format!("`{a}`")).collect();
            let known: Vec<String> = alternatives.iter().map(|a| known_names(kind, a)).collect();
            out.problems.push(
                Problem::error(
                    "input::missing-column",
                    format!("no column for {}", expected.join(" or ")),
                )
                .at(file, row_span, "header row")
                .with_help(format!(
                    "a list of {} needs a column {}; known names: {}; or map your column in konform.yaml with `columns:`",
                    kind.name(),
                    expected.join(" or "),
                    known.join("; ")
                )),
            );
        }
    }
    (columns, cells.to_vec(), row_span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_accounts(text: &str) -> ReadResult {
        read(FileId(0), text, RecordKind::Account, &CsvOptions::default())
    }

    /// Everything a read produces, as text, for comparing two reads.
    fn dump(r: &ReadResult) -> String {
        format!("{:#?}\n{:#?}", r.records, r.problems)
    }

    fn same_in_any_chunking(text: &str) {
        let options = CsvOptions {
            max_records: 7,
            ..CsvOptions::default()
        };
        let whole = dump(&read_with(
            FileId(0),
            text,
            RecordKind::Account,
            &options,
            usize::MAX,
        ));
        for rows in 1..4 {
            let chunked = dump(&read_with(
                FileId(0),
                text,
                RecordKind::Account,
                &options,
                rows,
            ));
            assert_eq!(chunked, whole, "chunks of {rows} rows differ on {text:?}");
            same_when_streamed(text, &options, rows);
        }
    }

    /// The file `text` is read from again, with a byte-order mark before it (its offsets are
    /// still those of the text).
    fn on_disk(text: &str) -> (tempfile::TempDir, StreamSource) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("a.csv");
        let bytes: Vec<u8> = b"\xEF\xBB\xBF"
            .iter()
            .chain(text.as_bytes())
            .copied()
            .collect();
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        let scanned = DiskText::scan(&path, "a.csv", None, 1 << 20, true, &|_| true)
            .unwrap_or_else(|| panic!("not scanned: {text:?}"));
        (dir, StreamSource::Disk(scanned.disk))
    }

    /// An account list opened for streaming with the default options, read without problems.
    fn stream_of(source: StreamSource) -> CsvStream {
        let (problems, stream) = open(
            FileId(0),
            source,
            RecordKind::Account,
            CsvOptions::default(),
            None,
            None,
            &mut |_| {},
        );
        assert!(problems.is_empty(), "{problems:?}");
        stream.unwrap_or_else(|| panic!("no stream"))
    }

    /// Streaming hands on the records and problems of reading whole; converting again gives
    /// the same records, all of them or those near a row, from the text held or from disk.
    fn same_when_streamed(text: &str, options: &CsvOptions, rows: usize) {
        same_when_streamed_from(
            text,
            options,
            rows,
            StreamSource::Held(std::sync::Arc::from(text)),
        );
        let (_dir, disk) = on_disk(text);
        same_when_streamed_from(text, options, rows, disk);
    }

    fn same_when_streamed_from(
        text: &str,
        options: &CsvOptions,
        rows: usize,
        source: StreamSource,
    ) {
        let whole = read_with(FileId(0), text, RecordKind::Account, options, rows);
        let mut handed = Vec::new();
        let (problems, stream) = open(
            FileId(0),
            source,
            RecordKind::Account,
            options.clone(),
            Some(rows),
            None,
            &mut |window| handed.extend(window),
        );
        let over_limit = whole
            .problems
            .iter()
            .any(|p| p.code == "konform::input::too-many-records");
        assert_eq!(
            format!("{problems:#?}"),
            format!("{:#?}", whole.problems),
            "{text:?}"
        );
        let Some(stream) = stream else {
            assert!(over_limit || whole.records.is_empty(), "{text:?}");
            return;
        };
        assert!(!over_limit, "{text:?}");
        assert_eq!(format!("{handed:#?}"), format!("{:#?}", whole.records));
        assert_eq!(stream.len(), whole.records.len());
        if !whole.problems.iter().any(Problem::is_error) {
            let mut again = Vec::new();
            let read = stream.for_each_window(&mut |window| again.extend(window));
            assert!(read.is_ok(), "{read:?}");
            assert_eq!(format!("{again:#?}"), format!("{:#?}", whole.records));
            // Mapped chunk by chunk, the results come in the order of the rows.
            let mut keys = Vec::new();
            let read = stream.for_each_window_map(
                &|chunk| chunk.map(|r| r.key).collect::<Vec<_>>(),
                &mut |window| keys.extend(window.into_iter().flatten()),
            );
            assert!(read.is_ok(), "{read:?}");
            let expected: Vec<&str> = whole.records.iter().map(|r| r.key.as_str()).collect();
            assert_eq!(keys, expected);
        }
        for r in &whole.records {
            let near = stream
                .records_near(&[(r.span.offset, r.span.end())])
                .unwrap_or_default();
            assert_eq!(
                stream
                    .read_text(r.span.offset, r.span.end())
                    .ok()
                    .as_deref(),
                text.get(r.span.offset..r.span.end())
            );
            assert!(
                near.iter().any(|n| format!("{n:?}") == format!("{r:?}")),
                "{r:?} not found near itself in {text:?}"
            );
        }
    }

    #[test]
    fn rows_near_what_is_shown_come_a_piece_at_a_time() {
        // Every row shown (a finding on each): the whole file, never converted at once.
        let mut text = String::from("Kennung;Benutzername\n");
        for i in 0..(2 * NEAR_ROWS + 100) {
            text.push_str(&format!("{i};user{i}\n"));
        }
        let stream = stream_of(StreamSource::Held(text.as_str().into()));
        let all = [(0, text.len())];
        let mut pieces = Vec::new();
        let read = stream.for_each_near(&all, &mut |records| pieces.push(records));
        assert!(read.is_ok());
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.len() <= NEAR_ROWS));
        let keys: Vec<String> = pieces
            .concat()
            .into_iter()
            .map(|r| r.key.to_string())
            .collect();
        let expected: Vec<String> = (0..(2 * NEAR_ROWS + 100)).map(|i| i.to_string()).collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn a_first_pass_reading_some_attributes_finds_every_problem() {
        // Invalid dates and a flag in columns the first pass does not keep; a
        // duplicate key; an extra column kept, another not; a row without a key.
        let text = "Kennung;E-Mail;Rolle;Geburtsdatum;Erstellt;Aktiv;Raum;Notiz\n\
            1;a@x.example;Lehrkraft;01.02.1980;gestern;ja;R1;n1\n\
            2;b@x.example;Schüler, Admin;31.02.2010;01.08.2025;vielleicht;R2;n2\n\
            1;c@x.example;Eltern;;;;R3;\n\
            ;;Extern;01.01.1990;01.01.2026;nein;;\n";
        let only: HashSet<String> = ["birth_date", "Raum"].map(str::to_owned).into();
        let open_with = |only: Option<&HashSet<String>>| {
            let mut handed = Vec::new();
            let (problems, stream) = open(
                FileId(0),
                StreamSource::Held(text.into()),
                RecordKind::Account,
                CsvOptions::default(),
                Some(1),
                only,
                &mut |window| handed.extend(window),
            );
            (problems, stream.map(|s| s.len()), handed)
        };
        let (all_problems, all_len, all) = open_with(None);
        let (problems, len, some) = open_with(Some(&only));
        assert_eq!(format!("{problems:#?}"), format!("{all_problems:#?}"));
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "konform::input::bad-date",
                "konform::input::bad-date",
                "konform::input::bad-flag",
                "konform::input::duplicate-key",
                "konform::input::missing-key",
            ],
            "{problems:#?}"
        );
        assert_eq!((len, all_len), (Some(2), Some(2)));
        for (mine, whole) in some.iter().zip(&all) {
            assert_eq!((&mine.key, mine.span), (&whole.key, whole.span));
            let names: Vec<&str> = mine.attrs.iter().map(|(n, _)| n.as_ref()).collect();
            let expected: Vec<&str> = ["birth_date", "email", "id"]
                .into_iter()
                .filter(|n| whole.attrs.contains_key(n))
                .collect();
            assert_eq!(names, expected, "{mine:?}");
            for name in &names {
                assert_eq!(mine.get(name), whole.get(name));
            }
            let extra: Vec<&String> = mine.extra.keys().collect();
            assert_eq!(
                extra,
                whole
                    .extra
                    .keys()
                    .filter(|k| *k == "Raum")
                    .collect::<Vec<_>>()
            );
        }
        assert!(
            all.iter()
                .all(|r| r.get("roles").is_some() && r.extra.contains_key("Notiz"))
        );
    }

    #[test]
    fn duplicate_keys_point_at_the_first_row_even_when_all_keys_share_a_hash() {
        let text = "Kennung;Benutzername\n1;anna\n;leer\n2;ben\n\n3;cem;zu viel\n1;anna2\n3;cem2\n4;dan\n2;ben2\n";
        let span_of = |row: &str| Span::new(text.find(row).unwrap_or(0), row.len());
        let expected = [("1;anna2", "1;anna"), ("2;ben2", "2;ben")];
        for key_hash in [hash64 as fn(&str) -> u64, |_: &str| 0] {
            for rows in [1, 2, 3, 100] {
                let read = read_hashing_keys(
                    FileId(0),
                    text,
                    RecordKind::Account,
                    &CsvOptions::default(),
                    rows,
                    key_hash,
                );
                let duplicates: Vec<(Span, Span)> = read
                    .problems
                    .iter()
                    .filter(|p| p.code == "konform::input::duplicate-key")
                    .filter_map(|p| Some((p.labels.first()?.span, p.labels.get(1)?.span)))
                    .collect();
                let want: Vec<(Span, Span)> = expected
                    .iter()
                    .map(|(second, first)| (span_of(second), span_of(first)))
                    .collect();
                assert_eq!(duplicates, want, "chunks of {rows}");
                // `3;cem2` is no duplicate: `3;cem;zu viel` is a broken row, not a record.
                let keys: Vec<&str> = read.records.iter().map(|r| r.key.as_str()).collect();
                assert_eq!(keys, ["1", "leer", "2", "3", "4"], "chunks of {rows}");
            }
        }
    }

    #[test]
    fn a_file_changed_between_passes_is_reported_not_read() {
        let text = "Kennung;Benutzername\n1;anna\n2;ben\n";
        let (dir, source) = on_disk(text);
        let stream = stream_of(source);
        // Rewritten by the next export (other length), then removed.
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "Kennung;Benutzername\n1;anna\n2;ben\n3;cem\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut seen = 0;
        let read = stream.for_each_window(&mut |w| seen += w.len());
        let problem = read.err().unwrap_or_else(|| panic!("read a changed file"));
        assert_eq!(problem.code, "konform::input::changed");
        assert!(
            problem.message.contains("changed after it was first read"),
            "{}",
            problem.message
        );
        assert_eq!(seen, 0, "no record of a changed file is checked");
        assert!(stream.records_near(&[(25, 27)]).is_err());
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(stream.read_text(0, 5).is_err());
    }

    /// The account list `text` opened for streaming into `sink`, `rows` rows a chunk.
    fn open_accounts(
        text: &str,
        rows: usize,
        sink: &mut impl Sink,
    ) -> (Vec<Problem>, Option<CsvStream>) {
        open(
            FileId(0),
            StreamSource::Held(text.into()),
            RecordKind::Account,
            CsvOptions::default(),
            Some(rows),
            None,
            sink,
        )
    }

    /// What [`ComparingNoter`] found of a chunk: how many rows were offered from their cells,
    /// where each stands among the chunk's records with its key, and every difference
    /// between a row read from its cells and its record.
    #[derive(Default)]
    struct Compared {
        offered: Vec<(usize, String)>,
        differences: Vec<String>,
    }

    /// Offers every row from its cells to an account plan and compares what it reads with
    /// the row's record; declines them all, so every row is converted as usual too.
    struct ComparingNoter(Option<std::sync::Arc<crate::cells::AccountPlan>>);

    impl Note for ComparingNoter {
        type Notes = (usize, Compared);
        type Cells = Compared;

        fn notes_cells(&self) -> bool {
            self.0.is_some()
        }

        fn note_cells(
            &self,
            rows: &[CellRow<'_>],
            cells: &mut Compared,
            record: &mut dyn FnMut(usize) -> Option<Record>,
            _noted: &mut Vec<bool>,
        ) {
            let Some(plan) = &self.0 else {
                return;
            };
            for (i, row) in rows.iter().enumerate() {
                cells.offered.push((row.at, row.key.to_owned()));
                match (plan.row(*row), record(i)) {
                    (_, None) => cells
                        .differences
                        .push(format!("{}: offered, but no record", row.key)),
                    (None, Some(r)) => {
                        if r.get("password_present").map(|a| &a.value) != Some(&Value::Bool(true)) {
                            cells
                                .differences
                                .push(format!("{}: not read without a password", row.key));
                        }
                    }
                    (Some(read), Some(mut r)) => {
                        let span = r.span;
                        r.set("login_tracked", Value::Bool(true), span);
                        if let Err(e) = crate::cells::same_fields(&read, &r) {
                            cells.differences.push(format!("{}: {e}", row.key));
                        }
                    }
                }
            }
        }

        fn note(&self, records: Vec<Record>, mut cells: Compared) -> (usize, Compared) {
            for (at, key) in &cells.offered {
                if records.get(*at).map(|r| r.key.as_str()) != Some(key.as_str()) {
                    cells
                        .differences
                        .push(format!("{key}: offered as record {at} of the chunk"));
                }
            }
            (records.len(), cells)
        }
    }

    /// A sink that compares the rows of an account list read from their cells with their
    /// records (see [`ComparingNoter`]).
    #[derive(Default)]
    struct ComparingSink {
        plan: Option<std::sync::Arc<crate::cells::AccountPlan>>,
        records: usize,
        offered: usize,
        differences: Vec<String>,
    }

    impl Sink for ComparingSink {
        type Noter = ComparingNoter;

        fn expect(&mut self, kind: RecordKind, _rows: usize, columns: &[ColumnName<'_>]) {
            self.plan = crate::cells::AccountPlan::compile(kind, columns, true).map(Into::into);
        }

        fn noter(&self) -> ComparingNoter {
            ComparingNoter(self.plan.clone())
        }

        fn take(&mut self, (records, compared): (usize, Compared)) {
            self.records += records;
            self.offered += compared.offered.len();
            self.differences.extend(compared.differences);
        }
    }

    /// Every row of an account list that becomes a record without a problem is offered from
    /// its cells, in its place among the records, and reads as its record does: kind, key,
    /// attributes, other columns.
    fn rows_read_from_cells_are_their_records(text: &str) {
        rows_read_from_cells_are_their_records_in(text, true);
    }

    /// [`rows_read_from_cells_are_their_records`]; `some` when some row must be offered.
    fn rows_read_from_cells_are_their_records_in(text: &str, some: bool) {
        for rows in [1, 2, 3, 100] {
            let mut sink = ComparingSink::default();
            let (problems, stream) = open_accounts(text, rows, &mut sink);
            if stream.is_none() && !some {
                // A file that is not read at all (every row broken): nothing is offered.
                assert_eq!(sink.offered, 0);
                continue;
            }
            assert!(stream.is_some(), "{problems:?}");
            assert!(sink.plan.is_some(), "no plan for {text:?}");
            assert!(
                sink.differences.is_empty(),
                "{:?} in {text:?}",
                sink.differences
            );
            // A row with a bad cell becomes a record but is not offered (nor is one without a
            // key, which becomes none); a chunk with a duplicate key is noted again without
            // offering its rows.
            assert!(sink.offered <= sink.records, "{text:?}");
            if !problems.iter().any(Problem::is_error) {
                assert_eq!(sink.offered, sink.records, "{text:?}");
            }
            let duplicate = problems
                .iter()
                .any(|p| p.code == "konform::input::duplicate-key");
            assert!(sink.offered > 0 || !some || duplicate, "{text:?}");
        }
    }

    #[test]
    fn account_rows_read_from_their_cells_are_their_records() {
        let header = "Kennung;Benutzername;E-Mail;Rolle;Status;Aktiv;Geburtsdatum;Erstellt;Letzte Anmeldung;Passwort;Religion;Bemerkung;;Notiz\n";
        for body in [
            "1;anna;anna@x.example;Schüler;aktiv;ja;03.05.2013;2020-08-01;;;;;;\n\
             2; ben ;;Lehrkraft, Schüler;inaktiv;nein;;01.08.2020;01.11.2026;Geheim1!;ev.;frei;x;y\n\
             3;cara;;Schüler;;;;;;;ev.;frei;;z\n",
            ";cem;cem@x.example;Eltern;;;;;;;;  ;;\n;;dora@x.example;;;;;;;;;;;\n\
             \"5\";\"e;f\";;\"Schüler\";;;;;;;;\"two\nlines\";;\n",
            "6;fay;;Schüler;;;31.02.2010;;;;;;;\n7;gus;;;;;;;;\n8;hal;;;;vielleicht;;;;;;;;\r\n\
             11;kai;;;;;;;;;;;;\n",
            "9;ida;;;;;;;;;;;;\n9;ida2;;;;;;;;;;;;\n\n;;;;;;;;;;;;;\n10;jon;;;;;;;;;;;;",
        ] {
            rows_read_from_cells_are_their_records(&format!("{header}{body}"));
        }
    }

    /// Records what a streamed file's sink was told and given.
    #[derive(Default)]
    struct Counting {
        expected: Vec<(RecordKind, usize)>,
        taken: usize,
    }

    impl Sink for Counting {
        type Noter = Whole;

        fn noter(&self) -> Whole {
            Whole
        }

        fn expect(&mut self, kind: RecordKind, rows: usize, _columns: &[ColumnName<'_>]) {
            self.expected.push((kind, rows));
        }

        fn take(&mut self, records: Vec<Record>) {
            assert!(
                !self.expected.is_empty(),
                "told the rows before the first window"
            );
            self.taken += records.len();
        }
    }

    #[test]
    fn a_sink_is_told_the_rows_before_the_first_window() {
        // Five rows, one blank and one a duplicate: at most five records, four handed on.
        let text = "Kennung;Benutzername\n1;anna\n2;ben\n\n3;cem\n3;cem\n4;dora\n";
        for rows in [1, 2, 100] {
            let mut sink = Counting::default();
            let (problems, stream) = open_accounts(text, rows, &mut sink);
            assert_eq!(problems.len(), 1, "the duplicate: {problems:?}");
            assert!(stream.is_some());
            assert_eq!(sink.expected.len(), 1, "told once");
            let (kind, told) = sink.expected[0];
            assert_eq!(kind, RecordKind::Account);
            assert!((4..=6).contains(&told), "{told} rows for 4 records");
            assert_eq!(sink.taken, 4);
        }
    }

    #[test]
    fn chunked_reading_is_row_by_row_reading() {
        let header = "Kennung;Benutzername;Geburtsdatum;Bemerkung\r\n";
        for body in [
            "1;anna;2010-01-01;x\r\n2;ben;01.02.2011;\r\n\r\n3;cem;;y\r\n",
            "1;anna;;\n\n\n2;ben;;\n;;;\n3;cem;;\n",
            "1;anna;;\"two\nlines\"\n2;ben;;\"a;b\"\n3;cem;;\"\"\"q\"\"\"\n",
            "1;anna;;\n\u{feff}2;ben;;\n3;cem;;\n",
            "1;anna;31.02.2010;\n2;ben;;;\n;cara;;\n1;anna2;;\n4;dan;never;\n",
            "1;a;;\n2;b;;\n3;c;;\n4;d;;\n5;e;;\n6;f;;\n7;g;;\n8;h;;\n",
            "1;anna;;\"open\n2;ben;;\n3;cem;;\n",
            "1;anna;;\n2;ben;;\n3;cem;;",
        ] {
            same_in_any_chunking(&format!("{header}{body}"));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn chunked_reading_agrees_on_generated_rows(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "1", "2", "anna", "b\u{e9}n", "2026-01-01", "31.02.2010", "", " ",
                        "\"q;x\"", "\"two\nlines\"", "\"", "\u{feff}",
                    ]),
                    0..6,
                ),
                0..12,
            ),
            ends in proptest::collection::vec(proptest::sample::select(vec!["\n", "\r\n", "\n\n", "\r\n\r\n"]), 12),
        ) {
            let mut text = String::from("Kennung;Benutzername;Geburtsdatum;Bemerkung\n");
            for (i, cells) in rows.iter().enumerate() {
                text.push_str(&cells.join(";"));
                text.push_str(ends.get(i).copied().unwrap_or("\n"));
            }
            same_in_any_chunking(&text);
        }

        /// Generated account rows read from their cells read as their records.
        #[test]
        fn generated_account_rows_read_from_their_cells_are_their_records(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "1", "2", "anna", "b\u{e9}n", " Ole ", "2026-01-01", "31.02.2010",
                        "01.08.2020", "", " ", "ja", "nein", "Sch\u{fc}ler", "Lehrkraft, Eltern",
                        "\"q;x\"", "\"two\nlines\"",
                    ]),
                    9,
                ),
                1..10,
            ),
        ) {
            let mut text = String::from("Kennung;Benutzername;Geburtsdatum;Aktiv;Rolle;Passwort;Bemerkung;Religion;Erstellt\n");
            for (i, cells) in rows.iter().enumerate() {
                // One row in three has a key of its own: the others may lack one or repeat one.
                if i % 3 == 0 {
                    text.push_str(&format!("K{i}"));
                    text.push_str(&cells.iter().skip(1).fold(String::new(), |t, c| t + ";" + c));
                } else {
                    text.push_str(&cells.join(";"));
                }
                text.push('\n');
            }
            rows_read_from_cells_are_their_records_in(&text, false);
        }
    }

    fn slice(text: &str, s: Span) -> &str {
        &text[s.offset..s.end()]
    }

    #[test]
    fn sniffs_semicolon_tab_and_comma() {
        assert_eq!(sniff_delimiter("id;Vorname;Nachname\n1;a;b"), b';');
        assert_eq!(sniff_delimiter("id\tname\n"), b'\t');
        assert_eq!(sniff_delimiter("id,name\n"), b',');
        assert_eq!(sniff_delimiter("\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter("username\n"), b',');
    }

    /// [`plain_row`] as it was written with a `memchr` search per line and per field: the
    /// reference the word-at-a-time scan is compared with.
    fn plain_row_by_memchr(
        text: &[u8],
        start: usize,
        delimiter: u8,
        ends: &mut Vec<usize>,
    ) -> Option<(usize, usize, usize)> {
        let rest = text.get(start..).filter(|r| !r.is_empty())?;
        let line = match memchr::memchr(b'\n', rest) {
            Some(n) => rest.get(..n)?,
            None => rest,
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if memchr::memchr2(b'"', b'\r', line).is_some() {
            return None;
        }
        // Like csv-core, the row ends after the first byte of its line break (the `\n` of a
        // CRLF is skipped as a blank line before the next row).
        let end = (start + line.len() + 1).min(text.len());
        let mut fields = 0;
        let mut push = |at: usize, fields: &mut usize| {
            // The bytes of the fields before this end: `at` less one delimiter per field before.
            let value = at - *fields;
            match ends.get_mut(*fields) {
                Some(slot) => *slot = value,
                None => ends.push(value),
            }
            *fields += 1;
        };
        for at in memchr::memchr_iter(delimiter, line) {
            push(at, &mut fields);
        }
        push(line.len(), &mut fields);
        Some((end, fields, start + line.len()))
    }

    proptest::proptest! {
        /// Rows read eight bytes at a time are those read with a search per field: at every
        /// start, with every delimiter, quotes, lone and paired carriage returns, line breaks
        /// and multi-byte characters at every offset of a word.
        #[test]
        fn plain_rows_are_those_found_by_searching(
            text in "[a;,\t\"\r\n ä]{0,40}",
            start in 0usize..42,
            delimiter in proptest::sample::select(vec![b';', b',', b'\t']),
        ) {
            let (mut ends, mut want_ends) = (vec![7; 3], vec![7; 3]);
            let got = plain_row(text.as_bytes(), start, delimiter, &mut ends);
            let want = plain_row_by_memchr(text.as_bytes(), start, delimiter, &mut want_ends);
            proptest::prop_assert_eq!(got, want);
            if let Some((_, fields, _)) = got {
                proptest::prop_assert_eq!(ends.get(..fields), want_ends.get(..fields));
            }
        }

        #[test]
        fn field_spans_are_those_of_a_scan_byte_by_byte(row in "[a;,\"\r\n ä]{0,24}", comma in proptest::bool::ANY) {
            let delimiter = if comma { b',' } else { b';' };
            let bytes = row.as_bytes();
            let (mut want, mut start, mut quoted) = (Vec::new(), 0, false);
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'"' {
                    quoted = !quoted;
                } else if b == delimiter && !quoted {
                    want.push(Span::from_range(start, i));
                    start = i + 1;
                }
            }
            let end = row.trim_end_matches(['\r', '\n']).len().max(start);
            want.push(Span::from_range(start, end));
            proptest::prop_assert_eq!(field_spans(&row, delimiter), want);
        }
    }

    proptest::proptest! {
        /// The csv-core parser reads the rows, fields and boundaries the csv crate's reader
        /// reads: quotes, doubled quotes, byte-order marks, blank lines, CR, LF and CRLF, a last
        /// row without a line break, multi-byte text.
        #[test]
        fn parsed_rows_are_those_of_the_csv_reader(
            text in "\u{feff}?([a;ä \"]{0,6}(\r\n|\n|\r)){0,6}[a;ä \"]{0,6}",
            comma in proptest::bool::ANY,
            reuse in proptest::bool::ANY,
        ) {
            let (text, delimiter) = if comma { (text.replace(';', ","), b',') } else { (text, b';') };
            let parsers = Parsers::new(delimiter);
            if reuse {
                // A parser given back after reading something is reset for the next text.
                let mut used = Parser::new(parsers.take(), delimiter, "x;\"y\n\"z");
                while used.next_row().is_some() {}
                if let Some(core) = used.core.take() {
                    parsers.give_back(core);
                }
            }
            let mut parser = Parser::new(parsers.take(), delimiter, &text);
            let mut reader = reader_for(&text, delimiter);
            let mut record = csv::StringRecord::new();
            loop {
                let start = skip_newlines(&text, pos_usize(reader.position().byte()));
                let expected = match reader.read_record(&mut record) {
                    Ok(true) => Some((
                        start,
                        pos_usize(reader.position().byte()),
                        record.iter().map(str::to_owned).collect::<Vec<_>>(),
                    )),
                    Ok(false) | Err(_) => None,
                };
                let got = parser.next_row().map(|(start, end, fields)| {
                    let texts: Vec<String> = (0..fields.count())
                        .map(|i| fields.field(i).unwrap_or("<none>").to_owned())
                        .collect();
                    proptest::prop_assert_eq!(fields.bytes(), record.as_byte_record().as_slice().len());
                    Ok((start, end, texts))
                }).transpose()?;
                proptest::prop_assert_eq!(&got, &expected, "{:?}", text);
                if expected.is_none() {
                    break;
                }
            }
        }

        #[test]
        fn cells_from_field_lengths_are_those_scanned(row in "\u{feff}?[a;ä\u{feff} \"]{0,16}(\r\n|\n|\r)?", start in 0usize..100) {
            let mut reader = reader_for(&row, b';');
            let mut record = csv::StringRecord::new();
            if matches!(reader.read_record(&mut record), Ok(true)) {
                let scanned = field_spans(&row, b';');
                let whole = Span::new(start, row.len());
                let cells = row_cells(&row, start, b';', &record, whole);
                if scanned.len() == record.len() {
                    let shifted: Vec<Span> = scanned.iter().map(|s| Span::new(start + s.offset, s.len)).collect();
                    proptest::prop_assert_eq!(cells, shifted);
                } else {
                    proptest::prop_assert_eq!(cells, vec![whole; record.len()]);
                }
            }
        }
    }

    #[test]
    fn memoized_values_are_those_converted() {
        let texts = [
            "Lehrkraft",
            // Of one length, with the same first or last bytes.
            "Lehrkrafx",
            "Xehrkraft",
            "aktiw",
            " Lehrkraft ",
            "Schüler, Admin",
            "Admin,Schüler",
            "",
            "  ",
            "DiViS",
            "manuell",
            "aktiv",
            "zur Löschung freigegeben",
            "5a|5b",
            "Sozialpädagoge",
            "selbst",
            "Videokonferenz",
            "Lehrkraft",
            "5a|5b",
            "Erziehungsberechtigte",
            "Erziehungsberechtigtx",
        ];
        let mut converted = 0;
        for canon in columns::ACCOUNT
            .iter()
            .chain(columns::CONSENT)
            .chain(columns::SERVICE)
            .chain(columns::SYSTEM)
        {
            let mut memo = Memo::default();
            // Past the cap on values kept, too.
            let many = (0..Memo::MAX_VALUES + 10).map(|n| format!("Rolle {n}"));
            // Texts alike first: each is compared with the others by its words.
            for text in crate::record::ALIKE_SHORT_TEXTS
                .iter()
                .chain(&texts)
                .map(|t| (*t).to_owned())
                .chain(many)
                .chain(
                    crate::record::ALIKE_SHORT_TEXTS
                        .iter()
                        .chain(&texts)
                        .map(|t| (*t).to_owned()),
                )
            {
                let direct = parse_cell_with(canon, &text, false);
                if worth_memoizing(canon) {
                    converted += 1;
                    let memoized = memo.value(3, &text, || parse_cell_with(canon, &text, false));
                    assert_eq!(
                        format!("{memoized:?}"),
                        format!("{direct:?}"),
                        "{} {text:?}",
                        canon.name
                    );
                }
            }
            assert!(memo.values.iter().all(|m| m.len() <= Memo::MAX_VALUES));
            assert!(memo.values.iter().all(|m| m.short.len() <= Memo::SHORT));
        }
        assert!(converted > 1000);
    }

    #[test]
    fn field_spans_respect_quotes() {
        let row = "1;\"Müller; Anna\";\"say \"\"hi\"\"\";x\r\n";
        let spans = field_spans(row, b';');
        let parts: Vec<&str> = spans.iter().map(|s| slice(row, *s)).collect();
        assert_eq!(
            parts,
            vec!["1", "\"Müller; Anna\"", "\"say \"\"hi\"\"\"", "x"]
        );
    }

    #[test]
    fn german_export_with_crlf_and_bom_free_text() {
        let text = "Benutzername;Vorname;Nachname;Rolle\r\nlehrer1;;;Lehrkraft\r\nanna.berg;Anna;Berg;Schüler\r\n";
        let r = read_accounts(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 2);
        let first = &r.records[0];
        assert_eq!(first.key, "lehrer1");
        assert_eq!(
            first.span_of("username").map(|s| slice(text, s)),
            Some("lehrer1")
        );
        assert_eq!(slice(text, first.span), "lehrer1;;;Lehrkraft");
        let second = &r.records[1];
        assert_eq!(
            second.span_of("roles").map(|s| slice(text, s)),
            Some("Schüler")
        );
        assert!(second.has_in_set("roles", "student"));
    }

    #[test]
    fn multiline_quoted_fields_keep_spans() {
        let text = "id,username,note\n1,\"a\nb\",x\n2,c,y\n";
        let r = read_accounts(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.records[1].span_of("username").map(|s| slice(text, s)),
            Some("c")
        );
        assert_eq!(
            r.records[0].extra.get("note").map(|a| a.value.display()),
            Some("x".into())
        );
    }

    #[test]
    fn missing_key_column_lists_expected_names() {
        let r = read_accounts("Vorname;Nachname\nAnna;Berg\n");
        let p = r
            .problems
            .iter()
            .find(|p| p.code == "konform::input::missing-column");
        assert!(p.is_some_and(|p| {
            p.message.contains("`id` or `username`")
                && p.help
                    .as_deref()
                    .is_some_and(|h| h.contains("benutzername"))
        }));
    }

    #[test]
    fn duplicate_columns_and_keys_are_errors() {
        let r = read_accounts("id;id\n1;2\n");
        assert!(
            r.problems
                .iter()
                .any(|p| p.code == "konform::input::duplicate-column")
        );
        let r = read_accounts("id;Vorname\n1;a\n1;b\n");
        assert!(
            r.problems
                .iter()
                .any(|p| p.code == "konform::input::duplicate-key")
        );
    }

    #[test]
    fn field_count_and_bad_dates_point_at_the_place() {
        let text = "id;Erstellt\n1;2026-01-01\n2;31.13.2026\n3\n";
        let r = read_accounts(text);
        let bad = r
            .problems
            .iter()
            .find(|p| p.code == "konform::input::bad-date");
        assert_eq!(
            bad.and_then(Problem::primary_span).map(|s| slice(text, s)),
            Some("31.13.2026")
        );
        let count = r
            .problems
            .iter()
            .find(|p| p.code == "konform::input::field-count");
        assert_eq!(
            count
                .and_then(Problem::primary_span)
                .map(|s| slice(text, s)),
            Some("3")
        );
    }

    #[test]
    fn misspelt_column_warns_and_is_kept_as_extra() {
        let r = read_accounts("id;Benutzernme\n1;x\n");
        let w = r
            .problems
            .iter()
            .find(|p| p.code == "konform::input::unknown-column");
        assert!(w.is_some_and(|w| !w.is_error() && w.message.contains("benutzername")));
        assert_eq!(r.records.len(), 1);
        assert!(r.records[0].extra.contains_key("Benutzernme"));
    }

    #[test]
    fn explicit_mapping_wins() {
        let mut options = CsvOptions::default();
        options.columns.insert("Kürzel".into(), "username".into());
        options.columns.insert("Name".into(), "ignore".into());
        let r = read(
            FileId(0),
            "Kürzel;Name\nBRG;x\n",
            RecordKind::Account,
            &options,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records[0].str("username"), Some("BRG"));
        assert!(r.records[0].get("display_name").is_none());
    }

    #[test]
    fn empty_files_and_header_only_files_are_errors() {
        assert!(
            read_accounts("")
                .problems
                .iter()
                .any(|p| p.code == "konform::input::empty")
        );
        assert!(
            read_accounts("id;username\n")
                .problems
                .iter()
                .any(|p| p.code == "konform::input::empty")
        );
    }

    #[test]
    fn blank_rows_are_skipped() {
        let r = read_accounts("id;username\n1;a\n;\n\n2;b\n");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 2);
    }

    #[test]
    fn seen_keys_find_each_key_noted_and_nothing_else() {
        let mut seen = SeenKeys::with_rows(1000);
        // Warming (as the merge does before each chunk) changes nothing that is found.
        seen.warm((0..2000u32).map(|i| hash64(&format!("key{i}"))));
        for i in 0..1000u32 {
            assert_eq!(seen.find_or_insert(hash64(&format!("key{i}")), i), None);
        }
        for i in 0..1000u32 {
            assert_eq!(
                seen.find_or_insert(hash64(&format!("key{i}")), 5000),
                Some(i)
            );
        }
        seen.warm((0..2000u32).map(|i| hash64(&format!("key{i}"))));
        for i in 1000..2000u32 {
            assert_eq!(seen.find_or_insert(hash64(&format!("key{i}")), i), None);
        }
        assert_eq!(seen.slots.len(), 1501);
        assert!(seen.used <= 1501 - 1501 / 4);
        // Keys over the load limit go to the overflow, and are found there.
        assert!(!seen.overflow.is_empty());
        for i in 0..2000u32 {
            assert_eq!(
                seen.find_or_insert(hash64(&format!("key{i}")), 9999),
                Some(i)
            );
        }
    }

    #[test]
    fn seen_keys_sharing_a_tag_are_found_as_the_first_one_noted() {
        // Same low 32 bits (the tag), same high bits (the position): the second key is
        // reported as the first one's (the caller compares the texts).
        let mut seen = SeenKeys::with_rows(4);
        let (a, b) = (0xdead_0000_1234_5678_u64, 0xdead_0001_1234_5678_u64);
        assert_eq!(seen.find_or_insert(a, 0), None);
        assert_eq!(seen.find_or_insert(b, 1), Some(0));
        // A tag of 0 (the empty mark) is taken as 1.
        assert_eq!(seen.find_or_insert(0x0100_0000_0000_0000, 2), None);
        assert_eq!(seen.find_or_insert(0x0100_0000_0000_0001, 3), Some(2));
    }

    #[test]
    fn seen_keys_without_rows_use_the_overflow() {
        let mut seen = SeenKeys::with_rows(0);
        seen.warm([7, 8].into_iter());
        assert_eq!(seen.find_or_insert(7, 0), None);
        assert_eq!(seen.find_or_insert(7, 1), Some(0));
        assert_eq!(seen.find_or_insert(8, 2), None);
    }
}

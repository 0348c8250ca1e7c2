//! Loading one input file: read, decode, detect, parse into records.

use std::collections::BTreeMap;
use std::path::PathBuf;

use encoding_rs::Encoding;

use crate::problem::Problem;
use crate::record::{Record, RecordKind};
use crate::source::csv::{self, CsvOptions, StreamSource};
use crate::source::detect::{self, Format};
use crate::source::disk::{DiskText, Scanned};
use crate::source::text::{DecodeError, decode};
use crate::source::yaml::{self, YamlLimits};
use crate::source::{FileId, SourceFile, SourceMap, Span, tree};

/// How to read one input; everything unset is detected.
#[derive(Debug, Clone, Default)]
pub struct InputSpec {
    /// The path on disk (as the user gave it, joined with folder walks).
    pub path: PathBuf,
    /// What the file holds.
    pub kind: Option<RecordKind>,
    /// The file format.
    pub format: Option<Format>,
    /// The declared encoding.
    pub encoding: Option<&'static Encoding>,
    /// The CSV delimiter.
    pub delimiter: Option<u8>,
    /// Column name -> canonical attribute (or `ignore`).
    pub columns: BTreeMap<String, String>,
    /// Dates are written month first (Microsoft SDS v1).
    pub us_dates: bool,
    /// A side input (`kind: attributes`): its records are joined onto the accounts of other
    /// inputs with the same key, username or e-mail instead of being checked themselves.
    pub join: bool,
    /// The content when it is not read from `path` (a member of a `.zip` bundle), with the
    /// name shown for it (`export.zip!users.csv`).
    pub member: Option<(String, std::sync::Arc<[u8]>)>,
}

/// Limits on inputs. Reaching one is an error (exit code 2): an input is never checked partly.
/// Also whether the digests of inputs are recorded.
#[derive(Debug, Clone, Copy)]
pub struct InputLimits {
    /// The largest file read, in bytes (also the most a `.zip` bundle may unpack to).
    pub max_file_bytes: u64,
    /// The most records read from one input file.
    pub max_records: usize,
    /// The deepest nesting of YAML and JSON inputs.
    pub max_depth: usize,
    /// Whether to record the SHA-256 of every input ([`SourceFile::sha256`], shown by SARIF
    /// and HTML reports as evidence of what was checked). A file of 100 MB takes about a
    /// second to hash: runs whose outputs show no digest can leave it out.
    pub digests: bool,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 1 << 30,
            max_records: 2_000_000,
            max_depth: 64,
            digests: true,
        }
    }
}

/// The longest line of a CSV or LDIF input, in bytes. A row of an account list is a few
/// hundred bytes; a longer line is not an export of a list (or lacks its line breaks).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The first line longer than `max` bytes: (1-based line number, byte offset, length).
fn overlong_line(text: &str, max: usize) -> Option<(usize, usize, usize)> {
    let mut offset = 0;
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > max {
            return Some((i + 1, offset, line.len()));
        }
        offset += line.len() + 1;
    }
    None
}

/// What was read from one input.
#[derive(Debug)]
pub struct LoadedInput {
    /// The file in the source map, if it could be read at all.
    pub file: Option<FileId>,
    /// The display name.
    pub name: String,
    /// The kind, if known.
    pub kind: Option<RecordKind>,
    /// The format, if known.
    pub format: Option<Format>,
    /// The records.
    pub records: Vec<Record>,
    /// Problems; any error means the input is incomplete and is not checked.
    pub problems: Vec<Problem>,
    /// A streamed CSV input (see [`load_streaming`]): its records were handed to the sink and
    /// are converted again from here; `records` is then empty.
    pub stream: Option<crate::source::csv::CsvStream>,
    /// A streamed CSV input whose first pass is left to the caller (see
    /// [`StreamRequest::defer`]); `stream` is then `None` until it runs.
    pub deferred: Option<DeferredStream>,
}

impl LoadedInput {
    /// Whether the input was read completely (no error).
    pub fn is_complete(&self) -> bool {
        !self.problems.iter().any(Problem::is_error)
    }
}

/// Reads, decodes and parses one input.
pub fn load(spec: &InputSpec, sources: &mut SourceMap, limits: InputLimits) -> LoadedInput {
    load_with::<fn(Vec<crate::record::Record>)>(spec, sources, limits, None)
}

/// Which inputs to stream and where their records go on the first pass.
pub struct StreamRequest<'s, S: csv::Sink + ?Sized> {
    /// CSV inputs of these kinds are streamed.
    pub kinds: &'s [RecordKind],
    /// Rows per chunk (the default when `None`).
    pub chunk_rows: Option<usize>,
    /// The attributes the sink reads (canonical names, or names of other columns), when it
    /// reads only some: the records it gets have only those and their key (see
    /// [`csv::open`]).
    pub only: Option<&'s std::collections::HashSet<String>>,
    /// Kinds whose records keep every attribute all the same (the sink decides them in the
    /// first pass).
    pub whole: &'s [RecordKind],
    /// Kinds whose CSV inputs streamed from disk are only planned (header and record
    /// boundaries): their first pass is left to the caller ([`LoadedInput::deferred`]).
    pub defer: &'s [RecordKind],
    /// Receives what is noted of the records of a streamed input, chunk by chunk, in order.
    pub sink: &'s mut S,
}

/// Like [`load`], but a CSV input of a kind in `request.kinds` is streamed: its records go to
/// `request.sink` chunk by chunk (see [`csv::Sink`]) and are not kept; [`LoadedInput::stream`] converts them
/// again. Memory then stays flat however long the file is.
pub fn load_streaming<S: csv::Sink + ?Sized>(
    spec: &InputSpec,
    sources: &mut SourceMap,
    limits: InputLimits,
    request: StreamRequest<'_, S>,
) -> LoadedInput {
    load_with(spec, sources, limits, Some(request))
}

fn load_with<S: csv::Sink + ?Sized>(
    spec: &InputSpec,
    sources: &mut SourceMap,
    limits: InputLimits,
    mut stream: Option<StreamRequest<'_, S>>,
) -> LoadedInput {
    let name = match &spec.member {
        Some((name, _)) => name.clone(),
        None => sources.display(&spec.path),
    };
    let mut out = LoadedInput {
        file: None,
        name: name.clone(),
        kind: spec.kind,
        format: spec.format.or_else(|| detect::format_from_path(&spec.path)),
        records: Vec::new(),
        problems: Vec::new(),
        stream: None,
        deferred: None,
    };
    // A CSV file of a kind that is streamed is scanned block by block and read again by range:
    // its text is never held whole (see `source::disk`). A file that cannot be read like that
    // is read whole below, which reports why.
    if spec.member.is_none()
        && out.format == Some(Format::Csv)
        && let Some(request) = stream.take()
    {
        let kind_of = |head: &str| out.kind.unwrap_or_else(|| detect::kind_of_csv(head));
        // Only regular files: a pipe (`<(…)`) can be read only once, whole.
        let scanned = (std::fs::metadata(&spec.path)
            .is_ok_and(|m| m.is_file() && m.len() <= limits.max_file_bytes))
        .then(|| {
            DiskText::scan(
                &spec.path,
                &name,
                spec.encoding,
                MAX_LINE_BYTES,
                limits.digests,
                &|head| request.kinds.contains(&kind_of(head)),
            )
        })
        .flatten();
        match scanned {
            Some(scanned) => {
                let kind = kind_of(scanned.disk.head());
                return stream_from_disk(spec, out, scanned, kind, request, sources, limits);
            }
            None => stream = Some(request),
        }
    }
    let (file, read) = match read_source(spec, &name, sources, limits) {
        Ok((file, read, problems)) => {
            out.file = Some(file);
            out.problems.extend(problems);
            (file, read)
        }
        Err((file, problems)) => {
            out.file = file;
            out.problems.extend(problems);
            return out;
        }
    };
    let text: &str = &read;
    if text.trim().is_empty() {
        out.problems.push(
            Problem::error("input::empty", format!("`{name}` is empty"))
                .in_file(file)
                .with_help(
                    "export the list again; an empty file is never treated as a clean result",
                ),
        );
        return out;
    }
    let Some(format) = out.format else {
        out.problems.push(
            Problem::error(
                "input::unknown-format",
                format!("cannot tell the format of `{name}`"),
            )
            .in_file(file)
            .with_help(format!(
                "set `format:` for this input in konform.yaml (one of {})",
                Format::NAMES.join(", ")
            )),
        );
        return out;
    };
    if matches!(format, Format::Csv | Format::Ldif)
        && let Some((line, offset, len)) = overlong_line(text, MAX_LINE_BYTES)
    {
        out.problems.push(
            Problem::error(
                "input::line-too-long",
                format!(
                    "line {line} of `{name}` is {len} bytes long, more than the limit of {MAX_LINE_BYTES}"
                ),
            )
            .at(file, Span::new(offset, 1), "this line")
            .with_help("a row of an account list is a few hundred bytes: check that this is the exported list and that its line breaks survived"),
        );
        return out;
    }
    let result = match format {
        Format::Csv => {
            let kind = *out.kind.get_or_insert_with(|| detect::kind_of_csv(text));
            let options = csv_options(spec, limits);
            if let Some(request) = stream.filter(|r| r.kinds.contains(&kind)) {
                let (problems, stream) = csv::open(
                    file,
                    StreamSource::Held(std::sync::Arc::clone(&read)),
                    kind,
                    options,
                    request.chunk_rows,
                    request.only.filter(|_| !request.whole.contains(&kind)),
                    request.sink,
                );
                out.problems.extend(problems);
                out.stream = stream;
                return out;
            }
            csv::read(file, text, kind, &options)
        }
        Format::Ldif => {
            out.kind = Some(RecordKind::Account);
            crate::source::ldif::read(file, text, &spec.columns)
        }
        Format::Yaml | Format::Json | Format::Scim | Format::Ss12000 => {
            let yaml_limits = YamlLimits {
                max_depth: limits.max_depth,
                ..YamlLimits::default()
            };
            let root = match yaml::parse(text, yaml_limits) {
                Ok(root) => root,
                Err(e) => {
                    let what = if format == Format::Json {
                        "JSON"
                    } else {
                        "YAML"
                    };
                    // Limits against hostile documents (alias bombs, deep nesting) are not
                    // syntax errors: say which limit and how to proceed.
                    let mut p = if e.message.contains("nested deeper")
                        || e.message.contains("Depth")
                    {
                        Problem::error("input::too-deep", format!("{what} nested too deeply: {}", e.message))
                            .with_help("account lists and configs need a few levels; raise the limit with --max-depth if this file is genuine")
                    } else if e.message.contains("limit") || e.message.contains("budget") {
                        Problem::error("input::too-complex", format!("{what} too complex to read safely: {}", e.message))
                            .with_help("konform limits alias expansion and document size to withstand hostile files (\"billion laughs\"); write the list without anchors and aliases")
                    } else {
                        Problem::error("input::syntax", format!("invalid {what}: {}", e.message))
                            .with_help(format!("fix the {what} syntax at the marked place"))
                    };
                    p = match e.span {
                        Some(s) => p.at(file, s, "here"),
                        None => p.in_file(file),
                    };
                    out.problems.push(p);
                    return out;
                }
            };
            // Standard school formats first: SCIM 2.0 and SS 12000 documents map onto accounts
            // by their own schemas, not by column aliases.
            let account_kind = matches!(out.kind, None | Some(RecordKind::Account));
            if format == Format::Scim
                || (account_kind
                    && format != Format::Ss12000
                    && crate::source::scim::is_scim(&root))
            {
                out.format = Some(Format::Scim);
                out.kind = Some(RecordKind::Account);
                // Schema, resource-type and service-provider documents describe a SCIM server,
                // not its users.
                let meta_schema = root
                    .get("schemas")
                    .and_then(yaml::Node::as_seq)
                    .into_iter()
                    .flatten()
                    .filter_map(yaml::Node::as_str)
                    .find(|s| {
                        s.ends_with(":Schema")
                            || s.ends_with(":ResourceType")
                            || s.ends_with(":ServiceProviderConfig")
                    })
                    .map(str::to_owned);
                if let Some(schema) = meta_schema {
                    let span = root.get("schemas").map_or(root.span, |n| n.span);
                    out.problems.push(
                        Problem::error(
                            "input::scim-metadata",
                            format!("`{name}` is a SCIM server description (`{schema}`), not users"),
                        )
                        .at(file, span, "describes the server's schema")
                        .with_help("export the users (GET /Users gives a ListResponse) and check that file"),
                    );
                    return out;
                }
                let result = crate::source::scim::read(file, &root);
                out.records = result.records;
                out.problems.extend(result.problems);
                return out;
            }
            if format == Format::Ss12000
                || (account_kind && crate::source::ss12000::is_ss12000(&root))
            {
                out.format = Some(Format::Ss12000);
                out.kind = Some(RecordKind::Account);
                let result = crate::source::ss12000::read(file, &root);
                out.records = result.records;
                out.problems.extend(result.problems);
                return out;
            }
            let kind = match out.kind.or_else(|| detect::kind_of_tree(&root)) {
                Some(k) => k,
                None => {
                    out.problems.push(
                        Problem::error("input::unknown-kind", format!("cannot tell what `{name}` holds"))
                            .at(file, root.span, "")
                            .with_help(format!(
                                "set `kind:` for this input in konform.yaml (one of {}), or use a list under `accounts:`, `consents:` or `modules:`",
                                detect::KIND_NAMES.join(", ")
                            )),
                    );
                    return out;
                }
            };
            out.kind = Some(kind);
            tree::read(file, &root, kind, &spec.columns)
        }
    };
    out.records = result.records;
    out.problems.extend(result.problems);
    limit_records(&mut out, file, limits.max_records);
    out
}

/// An input with more records than the limit is an error, and none of its records are checked.
fn limit_records(out: &mut LoadedInput, file: FileId, max: usize) {
    if out.records.len() <= max {
        return;
    }
    out.records = Vec::new();
    out.problems.push(
        Problem::error(
            "input::too-many-records",
            format!("`{}` has more than {max} records, the limit", out.name),
        )
        .in_file(file)
        .with_help("split the export, or raise the limit with --max-records"),
    );
}

/// How to read `spec` as CSV.
fn csv_options(spec: &InputSpec, limits: InputLimits) -> CsvOptions {
    CsvOptions {
        delimiter: spec.delimiter,
        columns: spec.columns.clone(),
        us_dates: spec.us_dates,
        max_records: limits.max_records,
    }
}

/// A CSV file streamed from disk (scanned by [`DiskText::scan`]): the first pass reads it
/// block by block, and the source map holds only its line starts until the lines outputs show
/// are read again.
fn stream_from_disk<S: csv::Sink + ?Sized>(
    spec: &InputSpec,
    mut out: LoadedInput,
    scanned: Scanned,
    kind: RecordKind,
    request: StreamRequest<'_, S>,
    sources: &mut SourceMap,
    limits: InputLimits,
) -> LoadedInput {
    let Scanned { disk, sha256 } = scanned;
    let mut source = SourceFile::unheld(
        out.name.clone(),
        Some(spec.path.clone()),
        disk.len(),
        std::sync::Arc::clone(disk.line_starts()),
    );
    source.role = crate::source::FileRole::Input;
    source.sha256 = sha256;
    source.encoding = "UTF-8";
    let file = sources.add(source);
    out.file = Some(file);
    out.kind = Some(kind);
    let options = csv_options(spec, limits);
    let source = StreamSource::Disk(disk.clone());
    let (problems, stream) = if request.defer.contains(&kind) {
        // Only the header and the record boundaries now; the first pass when the caller
        // opens the deferred stream.
        match csv::plan_stream(file, source, kind, options, request.chunk_rows) {
            (problems, Some(planned)) => {
                out.problems.extend(problems);
                out.deferred = Some(DeferredStream { planned, disk });
                return out;
            }
            (problems, None) => (problems, None),
        }
    } else {
        csv::open(
            file,
            source,
            kind,
            options,
            request.chunk_rows,
            request.only.filter(|_| !request.whole.contains(&kind)),
            request.sink,
        )
    };
    out.problems.extend(problems);
    out.stream = hold_unless_streamed(file, &disk, stream, sources, &mut out.problems);
    out
}

/// An unreadable header or a file over the record limit leaves no stream to read the lines
/// of its problems: its text is then held.
fn hold_unless_streamed(
    file: crate::source::FileId,
    disk: &DiskText,
    stream: Option<csv::CsvStream>,
    sources: &mut SourceMap,
    problems: &mut Vec<Problem>,
) -> Option<csv::CsvStream> {
    if stream.is_none() {
        match disk.read(0, disk.len()) {
            Ok(text) => sources.hold(file, std::sync::Arc::from(text)),
            Err(why) => problems.push(csv::changed(file, disk.name(), &why)),
        }
    }
    stream
}

/// A CSV input streamed from disk whose first pass the caller runs later (see
/// [`StreamRequest::defer`]): its file is in the source map, its header read.
#[derive(Debug)]
pub struct DeferredStream {
    planned: csv::Planned,
    disk: DiskText,
}

impl DeferredStream {
    /// The kind of the records.
    pub fn kind(&self) -> RecordKind {
        self.planned.kind()
    }

    /// Whether a column becomes the attribute `name` (see [`csv::Planned::has_attribute`]).
    pub fn has_attribute(&self, name: &str) -> bool {
        self.planned.has_attribute(name)
    }

    /// Runs the first pass, as [`load_streaming`] would have: its problems and the stream
    /// (`None` when the file turned out unreadable; its text is then held).
    pub fn open<S: csv::Sink + ?Sized>(
        self,
        only: Option<&std::collections::HashSet<String>>,
        sink: &mut S,
        sources: &mut SourceMap,
    ) -> (Vec<Problem>, Option<csv::CsvStream>) {
        let file = self.planned.file();
        let (mut problems, stream) = self.planned.open(only, sink);
        let stream = hold_unless_streamed(file, &self.disk, stream, sources, &mut problems);
        (problems, stream)
    }
}

/// Reads and decodes a file into the source map. Returns its id, text and notes, or the file
/// (when it could be added) and the problems that stop reading it.
#[expect(
    clippy::type_complexity,
    reason = "a private pair of outcomes, named by its doc"
)]
pub(crate) fn read_source(
    spec: &InputSpec,
    name: &str,
    sources: &mut SourceMap,
    limits: InputLimits,
) -> Result<(FileId, std::sync::Arc<str>, Vec<Problem>), (Option<FileId>, Vec<Problem>)> {
    let name = name.to_owned();
    let mut out = LoadedInput {
        file: None,
        name: name.clone(),
        kind: None,
        format: None,
        records: Vec::new(),
        problems: Vec::new(),
        stream: None,
        deferred: None,
    };
    let bytes: std::borrow::Cow<'_, [u8]> = if let Some((_, bytes)) = &spec.member {
        std::borrow::Cow::Borrowed(bytes)
    } else {
        match std::fs::metadata(&spec.path) {
            Ok(m) if m.len() > limits.max_file_bytes => {
                out.problems.push(
                    Problem::error(
                        "input::too-large",
                        format!(
                            "`{name}` is larger than the limit of {} bytes",
                            limits.max_file_bytes
                        ),
                    )
                    .with_help("split the export, or raise the limit with --max-file-size"),
                );
                return Err((out.file, out.problems));
            }
            Ok(_) => {}
            Err(e) => {
                out.problems.push(io_problem(&name, &e));
                return Err((out.file, out.problems));
            }
        }
        match std::fs::read(&spec.path) {
            Ok(b) => std::borrow::Cow::Owned(b),
            Err(e) => {
                out.problems.push(io_problem(&name, &e));
                return Err((out.file, out.problems));
            }
        }
    };
    // The digest of a big file takes as long as decoding it: both at once.
    let (decoded, digest) = rayon::join(
        || decode(&bytes, spec.encoding),
        || limits.digests.then(|| crate::source::sha256_hex(&bytes)),
    );
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            let mut source = SourceFile::new(name.clone(), Some(spec.path.clone()), lossy);
            source.role = crate::source::FileRole::Input;
            source.sha256 = digest;
            let file = sources.add(source);
            out.file = Some(file);
            // The offset counts bytes of the file; the text shown is its lossy UTF-8 reading,
            // where an invalid byte became U+FFFD: point at the same place in that text.
            let at = |offset: usize| {
                let before = String::from_utf8_lossy(bytes.get(..offset).unwrap_or(&bytes)).len();
                let lossy = sources.get(file).text();
                Span::new(before, 1).snapped(lossy)
            };
            let (span, label) = match &e {
                DecodeError::Invalid { offset, .. } => (at(*offset), "invalid byte"),
                DecodeError::Binary(offset) => (at(*offset), "NUL byte"),
                DecodeError::UnknownEncoding(_) => (Span::default(), ""),
            };
            out.problems.push(
                Problem::error("input::encoding", format!("cannot decode `{name}`: {e}"))
                    .at(file, span, label)
                    .with_help("save the file as UTF-8, or declare its encoding in konform.yaml (inputs: - path: …, encoding: windows-1252)"),
            );
            return Err((out.file, out.problems));
        }
    };
    let mut source = SourceFile::new(name.clone(), Some(spec.path.clone()), &*decoded.text);
    source.role = crate::source::FileRole::Input;
    source.sha256 = digest;
    source.encoding = decoded.encoding;
    let (guessed, encoding) = (decoded.guessed, decoded.encoding);
    drop(decoded);
    let file = sources.add(source);
    out.file = Some(file);
    let read = sources.get(file).shared_text();
    if guessed {
        out.problems.push(
            Problem::note("input::encoding-guessed", format!("`{name}` is not UTF-8; read it as {encoding}"))
                .in_file(file)
                .with_help("declare the encoding in konform.yaml (encoding: windows-1252) to make this explicit"),
        );
    }
    Ok((file, read, out.problems))
}

fn io_problem(name: &str, e: &std::io::Error) -> Problem {
    let help = match e.kind() {
        std::io::ErrorKind::NotFound => {
            "check the path; relative paths in konform.yaml are relative to the folder of konform.yaml"
        }
        std::io::ErrorKind::PermissionDenied => {
            "konform needs read permission on its inputs (it never writes them)"
        }
        _ => "check that the file exists and can be read",
    };
    Problem::error("input::unreadable", format!("cannot read `{name}`: {e}")).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, bytes: &[u8]) -> (LoadedInput, SourceMap) {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let path = dir.path().join(name);
        if let Err(e) = std::fs::write(&path, bytes) {
            panic!("{e}");
        }
        let mut sources = SourceMap::new();
        let spec = InputSpec {
            path,
            ..InputSpec::default()
        };
        let loaded = load(&spec, &mut sources, InputLimits::default());
        (loaded, sources)
    }

    /// Streams `spec` as a list of accounts, `chunk_rows` rows at a time, into `sink`.
    fn stream_accounts(
        spec: &InputSpec,
        sources: &mut SourceMap,
        limits: InputLimits,
        chunk_rows: Option<usize>,
        sink: &mut impl csv::Sink,
    ) -> LoadedInput {
        load_streaming(
            spec,
            sources,
            limits,
            StreamRequest {
                kinds: &[RecordKind::Account],
                chunk_rows,
                only: None,
                whole: &[],
                defer: &[],
                sink,
            },
        )
    }

    /// Streaming an input (scanned from disk where it can be) finds what loading it whole
    /// finds: the same records, problems, digest, encoding and length.
    #[test]
    fn streamed_loads_read_like_whole_loads() {
        let long = format!("id;Nachname\n1;{}\n", "x".repeat(MAX_LINE_BYTES + 1));
        let inputs: [&[u8]; 10] = [
            b"id;Nachname\n1;Meyer\n2;M\xc3\xbcller\n\n3;Ohr;zu viel\n",
            b"\xEF\xBB\xBFid;Nachname\r\n1;Meyer\r\n1;Meyer\r\n",
            b"id;Nachname\n1;M\xfcller\n",
            b"\xFF\xFEi\0d\0;\0x\0\n\x001\0;\0y\0\n\0",
            b" \n \n",
            b"id;Nachname\n",
            b"id;Nachname\n1;\"Meyer\n2;Ohr\n",
            b"id;Nachname\n1;Me\0yer\n",
            b"\n\nid;Vorname;Geburtsdatum\n1;Kai;gestern\n",
            long.as_bytes(),
        ];
        for (i, bytes) in inputs.into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = dir.path().join("a.csv");
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
            let spec = InputSpec {
                path,
                ..InputSpec::default()
            };
            let mut whole_sources = SourceMap::new();
            let whole = load(&spec, &mut whole_sources, InputLimits::default());
            let mut sources = SourceMap::new();
            let mut handed = Vec::new();
            let streamed = stream_accounts(
                &spec,
                &mut sources,
                InputLimits::default(),
                Some(1),
                &mut |window| handed.extend(window),
            );
            let what = String::from_utf8_lossy(bytes);
            assert_eq!(
                format!("{:#?}", streamed.problems),
                format!("{:#?}", whole.problems),
                "{what:?}"
            );
            if !whole.problems.iter().any(Problem::is_error) {
                assert_eq!(format!("{handed:#?}"), format!("{:#?}", whole.records));
            }
            let (Some(a), Some(b)) = (streamed.file, whole.file) else {
                assert_eq!(streamed.file, whole.file, "{what:?}");
                continue;
            };
            let (a, b) = (sources.get(a), whole_sources.get(b));
            // UTF-8 lists are read from disk, not held; the others are decoded whole.
            let from_disk = matches!(i, 0 | 1 | 5 | 6 | 8);
            assert_eq!(a.text().is_empty(), from_disk, "{what:?}");
            assert_eq!(
                streamed.stream.is_some(),
                from_disk || matches!(i, 2 | 3),
                "{what:?}"
            );
            assert_eq!(a.sha256, b.sha256, "{what:?}");
            assert_eq!(b.sha256, Some(crate::source::sha256_hex(bytes)), "{what:?}");
            // Without digests: none recorded, nothing else changed.
            let plain = InputLimits {
                digests: false,
                ..InputLimits::default()
            };
            let (mut whole_plain, mut streamed_plain) = (SourceMap::new(), SourceMap::new());
            let plain_whole = load(&spec, &mut whole_plain, plain);
            let plain_streamed =
                stream_accounts(&spec, &mut streamed_plain, plain, Some(1), &mut |_| {});
            for (loaded, plain_sources) in [
                (&plain_whole, &whole_plain),
                (&plain_streamed, &streamed_plain),
            ] {
                let file = loaded.file.map(|f| plain_sources.get(f));
                assert!(file.is_some_and(|f| f.sha256.is_none()), "{what:?}");
                assert_eq!(
                    format!("{:#?}", loaded.problems),
                    format!("{:#?}", whole.problems),
                    "{what:?}"
                );
            }
            assert_eq!(a.encoding, b.encoding, "{what:?}");
            assert_eq!(a.len(), b.len(), "{what:?}");
            for line in 1..=b.text().lines().count() {
                assert_eq!(
                    a.line_col(b.text().lines().take(line - 1).map(|l| l.len() + 1).sum()),
                    b.line_col(b.text().lines().take(line - 1).map(|l| l.len() + 1).sum()),
                    "{what:?}"
                );
            }
        }
    }

    /// A list given as a pipe (`konform check <(…)`) can be read once only: it is read whole,
    /// never scanned first.
    #[cfg(unix)]
    #[test]
    fn a_streamed_pipe_is_read_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("accounts.csv");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || std::fs::write(path, "id;Nachname\n1;Meyer\n2;Ohr\n"))
        };
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let spec = InputSpec {
                path,
                ..InputSpec::default()
            };
            let mut sources = SourceMap::new();
            let mut handed = 0;
            let loaded = stream_accounts(
                &spec,
                &mut sources,
                InputLimits::default(),
                None,
                &mut |window: Vec<Record>| handed += window.len(),
            );
            let _ = done.send((loaded.problems, handed));
        });
        let (problems, handed) = result
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("reading the pipe hangs"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(handed, 2);
        assert!(matches!(writer.join(), Ok(Ok(()))));
    }

    #[test]
    fn windows_1252_csv_is_read_with_a_note() {
        let (l, _) = load_text("a.csv", b"id;Nachname\n1;M\xfcller\n");
        assert!(l.is_complete(), "{:?}", l.problems);
        assert_eq!(l.records[0].str("family_name"), Some("Müller"));
        assert!(
            l.problems
                .iter()
                .any(|p| p.code == "konform::input::encoding-guessed")
        );
    }

    #[test]
    fn utf16_tab_separated() {
        let bytes: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "Benutzername\tVorname\r\nk.ahrens\tKai\r\n"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let (l, _) = load_text("u.csv", &bytes);
        assert!(l.is_complete(), "{:?}", l.problems);
        assert_eq!(l.records[0].key, "k.ahrens");
    }

    #[test]
    fn missing_and_empty_and_unknown_files_fail() {
        let mut sources = SourceMap::new();
        let spec = InputSpec {
            path: PathBuf::from("/nonexistent/konform/x.csv"),
            ..InputSpec::default()
        };
        let l = load(&spec, &mut sources, InputLimits::default());
        assert!(!l.is_complete());
        let (l, _) = load_text("e.csv", b"  \n");
        assert!(l.problems.iter().any(|p| p.code == "konform::input::empty"));
        let (l, _) = load_text("e.xlsx", b"PK..");
        assert!(
            l.problems
                .iter()
                .any(|p| p.code == "konform::input::unknown-format")
        );
        let (l, _) = load_text("e.yaml", b"foo: bar\n");
        assert!(
            l.problems
                .iter()
                .any(|p| p.code == "konform::input::unknown-kind")
        );
        let (l, _) = load_text("e.yaml", b"a: [1\n");
        assert!(
            l.problems
                .iter()
                .any(|p| p.code == "konform::input::syntax")
        );
    }
}

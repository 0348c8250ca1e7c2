//! konform: a policy-as-code compliance checker for school IT.
//!
//! konform reads exported account lists, consent registers and platform configurations into
//! [`record::Record`]s with source spans, computes facts, evaluates Cedar policies and limits
//! from policy packs ([`pack`]), and returns a [`finding::Report`] of findings and problems.
//! Rendering lives in [`render`]. The library never prints, exits or reads the environment:
//! the binary does.
//!
//! ```no_run
//! use konform::{CheckOptions, check};
//! let options = CheckOptions::new(vec!["examples/clean-school".into()], "2026-11-22".parse().unwrap_or_default());
//! let report = check(&options);
//! println!("{} findings", report.findings.len());
//! ```

pub mod baseline;
pub mod cells;
pub mod config;
pub mod diff;
pub mod engine;
pub mod finding;
pub mod init;
pub mod output;
pub mod pack;
pub mod problem;
pub mod record;
pub mod redact;
pub mod render;
pub mod since;
pub mod source;
pub mod waiver;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::Config;
use crate::engine::EvalContext;
use crate::finding::{Report, Severity};
use crate::pack::{PackRef, PackRequest};
use crate::problem::Problem;
use crate::source::discover;
use crate::source::load::{self, InputLimits, InputSpec};

/// What to check and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Files and folders to check; empty means the config's inputs, else the current folder.
    pub paths: Vec<PathBuf>,
    /// An explicit konform.yaml (otherwise discovered upward from the first path).
    pub config: Option<PathBuf>,
    /// The evaluation date.
    pub today: NaiveDate,
    /// Extra pack folders.
    pub packs: Vec<PathBuf>,
    /// The current directory, for config discovery and relative names.
    pub cwd: PathBuf,
    /// Limits on inputs.
    pub limits: InputLimits,
    /// The language of finding messages (`de`, `da`, `sv`); English when `None`.
    pub lang: Option<String>,
    /// A baseline file: its findings are marked and do not count (`--baseline`).
    pub baseline: Option<PathBuf>,
    /// Read every file given in `paths` with the konform.yaml settings of this input (an older
    /// export of the same list, which konform.yaml does not name).
    pub settings_of: Option<PathBuf>,
    /// An older export of the checked list: only findings on records added or changed since
    /// are kept (`--since`).
    pub since: Option<PathBuf>,
    /// Keep the records in [`Outcome::records`] (for `konform diff`).
    pub keep_records: bool,
    /// Evaluate every record on its own instead of once per distinct projection (the test
    /// oracle; same findings, slower).
    pub no_cache: bool,
    /// Counters a caller may watch to show progress (records read, records checked).
    pub progress: Option<std::sync::Arc<Progress>>,
    /// Rows per chunk of streamed CSV inputs (default 1,024): tests set a few rows to cross
    /// many windows with small files.
    #[doc(hidden)]
    pub stream_chunk_rows: Option<usize>,
}

/// How far a run is, updated while it runs (for a progress bar).
#[derive(Debug, Default)]
pub struct Progress {
    /// Records to check (known once the inputs are read; 0 before).
    pub total: std::sync::atomic::AtomicUsize,
    /// Records checked so far.
    pub done: std::sync::atomic::AtomicUsize,
}

impl CheckOptions {
    /// Options for checking `paths` on `today`, everything else default.
    pub fn new(paths: Vec<PathBuf>, today: NaiveDate) -> Self {
        Self {
            paths,
            config: None,
            today,
            packs: Vec::new(),
            cwd: PathBuf::from("."),
            limits: InputLimits::default(),
            lang: None,
            baseline: None,
            settings_of: None,
            since: None,
            keep_records: false,
            no_cache: false,
            progress: None,
            stream_chunk_rows: None,
        }
    }
}

/// The result of [`check`]: the report and the `fail_on` threshold from konform.yaml.
#[derive(Debug)]
pub struct Outcome {
    /// Findings, problems, sources.
    pub report: Report,
    /// `fail_on` from konform.yaml, if set.
    pub fail_on: Option<Severity>,
    /// The records checked, when [`CheckOptions::keep_records`] asked for them.
    pub records: Vec<record::Record>,
}

/// Runs a check: config, packs, inputs, evaluation. Never fails: everything that goes wrong is
/// a problem in the report (and makes [`Report::has_errors`] true).
pub fn check(options: &CheckOptions) -> Report {
    check_outcome(options).report
}

/// Byte ranges of a streamed file whose rows are converted again together to note the
/// personal data an output shows (each range a finding's lines and their context).
const SHOWN_RANGES_AT_ONCE: usize = 1024;

/// Like [`check`], also returning settings from konform.yaml that the caller applies.
pub fn check_outcome(options: &CheckOptions) -> Outcome {
    let mut report = Report {
        today: options.today.format("%Y-%m-%d").to_string(),
        sources: source::SourceMap::with_base(options.cwd.clone()),
        ..Report::default()
    };
    // Every path is resolved against `cwd` (the library never looks at the process's current
    // folder) and shown relative to it.
    let abs = |p: &PathBuf| options.cwd.join(p);
    let paths: Vec<PathBuf> = options.paths.iter().map(abs).collect();
    let config_path = options.config.as_ref().map(abs).or_else(|| {
        let start = paths
            .first()
            .cloned()
            .unwrap_or_else(|| options.cwd.clone());
        config::discover(&start)
    });
    let config = match &config_path {
        Some(path) => {
            let (config, problems) = config::load(path, &mut report.sources);
            report.problems.extend(problems);
            config
        }
        None => Some(Config {
            dir: options.cwd.clone(),
            school: engine::School {
                id: "school".into(),
                ..engine::School::default()
            },
            ..Config::default()
        }),
    };
    let Some(config) = config else {
        return Outcome {
            report,
            fail_on: None,
            records: Vec::new(),
        };
    };
    let request = PackRequest {
        packs: config.packs.clone(),
        extra: options
            .packs
            .iter()
            .map(|p| PackRef {
                name: source::display_path(p),
                path: Some(abs(p)),
                origin: None,
            })
            .collect(),
        overrides: config.overrides.clone(),
        policy_settings: config.policies.clone(),
        country: config.school.country.clone(),
        state: config.school.state.clone(),
    };
    let (packs, problems) = pack::load(&request, &mut report.sources);
    report.problems.extend(problems);
    let ctx = EvalContext {
        today: options.today,
        school: config.school.clone(),
        lang: options.lang.clone(),
        cache: !options.no_cache,
        progress: options.progress.clone(),
    };
    // Set up once: records whose outcome needs nothing of other inputs are decided while the
    // first pass reads them (see `Evaluator::decides_alone`).
    let evaluator = packs.as_ref().map(|p| engine::Evaluator::new(p, &ctx));

    // Inputs: the paths given (walked), else the inputs named in konform.yaml; settings from
    // konform.yaml apply to the file they name however it was reached.
    let mut specs: Vec<InputSpec> = Vec::new();
    let by_key: HashMap<PathBuf, &InputSpec> = config
        .inputs
        .iter()
        .map(|s| (discover::key(&s.path), s))
        .collect();
    let walk_paths = if paths.is_empty() && config.inputs.is_empty() {
        vec![options.cwd.clone()]
    } else {
        paths
    };
    let (files, bundles, problems) = discover::discover_all(&walk_paths, &report.sources);
    let no_inputs_only = problems
        .iter()
        .all(|p| p.code == "konform::input::no-inputs");
    for p in problems {
        // A folder with only konform.yaml is fine when the config names its inputs.
        if !(no_inputs_only && !config.inputs.is_empty() && p.code == "konform::input::no-inputs") {
            report.problems.push(p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let settings_of = options
        .settings_of
        .as_ref()
        .and_then(|p| by_key.get(&discover::key(&abs(p))).copied());
    for file in files {
        let k = discover::key(&file);
        seen.insert(k.clone());
        match by_key.get(&k).copied().or(settings_of) {
            Some(spec) => specs.push(InputSpec {
                path: file,
                ..(*spec).clone()
            }),
            None => specs.push(InputSpec {
                path: file,
                ..InputSpec::default()
            }),
        }
    }
    // With no paths given, the inputs are those konform.yaml lists; with paths, exactly the
    // files under them (konform.yaml then only supplies their settings).
    if options.paths.is_empty() {
        for spec in &config.inputs {
            if seen.insert(discover::key(&spec.path)) && spec.path.exists() {
                specs.push(spec.clone());
            }
        }
    }
    let mut records = Vec::new();
    let mut personal = redact::PersonalData::new();
    let mut complete_files = 0;
    // Big CSV lists are streamed: a first pass (while loading) notes what facts about other
    // records need (and decides records whose rules read only themselves), a second converts
    // and checks the others window by window. Runs that need every
    // record at once (diff, --since, side inputs, the oracle) read everything whole.
    let facts: &[pack::facts::CompiledFact] = packs.as_ref().map_or(&[], |p| p.facts.as_slice());
    let stream_kinds = if packs.is_some()
        && !options.keep_records
        && options.since.is_none()
        && !options.no_cache
        && !specs.iter().any(|s| s.join)
    {
        pack::facts::streamable_kinds(facts)
    } else {
        Vec::new()
    };
    // What the first pass reads of a streamed record: what facts need of other records, and
    // below whether logins are recorded and where passwords stand.
    let mut first_pass_attributes = pack::facts::streamed_attributes(facts);
    first_pass_attributes.extend(["last_login", "password_present"].map(str::to_owned));
    let mut secrets: std::collections::BTreeMap<source::FileId, Vec<source::Span>> =
        std::collections::BTreeMap::new();
    // Streamed kinds decided in the first pass, against inputs of no records (their outcome
    // does not depend on other inputs): their records keep every attribute there.
    let alone = match &evaluator {
        Some(Ok(evaluator)) => {
            let kinds: Vec<record::RecordKind> = stream_kinds
                .iter()
                .copied()
                .filter(|k| evaluator.decides_alone(*k))
                .collect();
            let inputs = pack::facts::FactInputs::new(&[], ctx.today, &ctx.school.country, facts);
            Some((evaluator, inputs, kinds))
        }
        _ => None,
    };
    let whole: &[record::RecordKind] = alone.as_ref().map_or(&[], |(_, _, k)| k.as_slice());
    // Account lists streamed from disk are decided in their first pass too, once every other
    // input is read (see `Evaluator::decides_after_others`): their first pass waits until
    // then, and no second pass converts their rows again.
    let defer: Vec<record::RecordKind> = match &evaluator {
        Some(Ok(evaluator)) => stream_kinds
            .iter()
            .copied()
            .filter(|k| evaluator.decides_after_others(*k))
            .collect(),
        _ => Vec::new(),
    };
    let bundle_inputs = bundles
        .iter()
        .map(|(dir, kind)| {
            (
                source::roster::read(dir, *kind, &mut report.sources, options.limits),
                FirstPass::default(),
            )
        })
        .collect::<Vec<_>>();
    let file_inputs = specs
        .iter()
        .map(|spec| {
            let mut first = FirstPass::default();
            let loaded = if stream_kinds.is_empty() || spec.join {
                load::load(spec, &mut report.sources, options.limits)
            } else {
                let mut sink = FirstPassSink::new(
                    &mut first,
                    facts,
                    alone.as_ref().map(|(e, i, k)| (*e, i, k.as_slice())),
                );
                load::load_streaming(
                    spec,
                    &mut report.sources,
                    options.limits,
                    load::StreamRequest {
                        kinds: &stream_kinds,
                        chunk_rows: options.stream_chunk_rows,
                        only: Some(&first_pass_attributes),
                        whole,
                        defer: &defer,
                        sink: &mut sink,
                    },
                )
            };
            (spec.join, loaded, first)
        })
        .collect::<Vec<_>>();
    // The first pass of a deferred input whose rows may link to other accounts (a column of
    // a `links_to` fact) runs now, as any other: when a record links, every streamed input is
    // read whole.
    let link_attributes: Vec<&str> = facts
        .iter()
        .filter_map(pack::facts::CompiledFact::link_attribute)
        .collect();
    let mut first_pass_now = |loaded: &mut load::LoadedInput, first: &mut FirstPass| {
        let Some(deferred) = loaded.deferred.take() else {
            return;
        };
        let mut sink = FirstPassSink::new(
            first,
            facts,
            alone.as_ref().map(|(e, i, k)| (*e, i, k.as_slice())),
        );
        let (problems, stream) =
            deferred.open(Some(&first_pass_attributes), &mut sink, &mut report.sources);
        loaded.problems.extend(problems);
        loaded.stream = stream;
    };
    let mut file_inputs = file_inputs;
    for (_, loaded, first) in &mut file_inputs {
        if loaded
            .deferred
            .as_ref()
            .is_some_and(|d| link_attributes.iter().any(|a| d.has_attribute(a)))
        {
            first_pass_now(loaded, first);
        }
    }
    let (side_inputs, mut file_inputs): (Vec<_>, Vec<_>) =
        file_inputs.into_iter().partition(|(join, _, _)| *join);
    // A `links_to` fact looks accounts up by key: when any record links to another, streamed
    // inputs are read whole after all.
    let links = file_inputs
        .iter()
        .map(|(_, l, first)| (l, first))
        .chain(bundle_inputs.iter().map(|(l, first)| (l, first)))
        .any(|(l, first)| first.streamed.links || pack::facts::links_present(facts, &l.records));
    if links {
        for (_, loaded, first) in &mut file_inputs {
            first_pass_now(loaded, first);
        }
    }
    let mut streamed = pack::facts::Streamed::default();
    // Inputs in order: records held (a range of `records`) or streamed.
    let mut segments: Vec<Segment> = Vec::new();
    let mut streams: Vec<source::csv::CsvStream> = Vec::new();
    // Streamed inputs read whole after all (see `links`).
    let mut read_whole: Vec<source::csv::CsvStream> = Vec::new();
    // Records of the streamed inputs that are checked (complete ones).
    let mut streamed_records = 0usize;
    // Deferred inputs, in order (see `defer`).
    let mut pending: Vec<Pending> = Vec::new();
    for (mut loaded, first) in file_inputs
        .into_iter()
        .map(|(_, l, f)| (l, f))
        .chain(bundle_inputs)
    {
        if let Some(deferred) = loaded.deferred.take() {
            // Decided below, once the inputs are complete; its place kept.
            pending.push(Pending {
                deferred,
                name: loaded.name,
                problems: loaded.problems,
                first,
                segment: segments.len(),
                problems_at: report.problems.len(),
                incomplete_at: report.stats.incomplete_files.len(),
            });
            segments.push(Segment::Pending);
            continue;
        }
        let mut tracked = first.tracked;
        if let Some(stream) = loaded.stream.take() {
            if loaded.is_complete() && !links {
                complete_files += 1;
                streamed.merge(first.streamed);
                for (file, spans) in first.secrets {
                    secrets.entry(file).or_default().extend(spans);
                }
                segments.push(match first.decided {
                    Some(decided) => Segment::Decided(streams.len(), decided),
                    None => Segment::Stream(streams.len(), tracked),
                });
                streamed_records += stream.len();
                streams.push(stream);
                report.problems.extend(loaded.problems);
                continue;
            }
            if !loaded.is_complete() {
                // Not checked, but its rows still show in diagnostics: noted at the end.
                report.stats.incomplete_files.push(loaded.name.clone());
                report.problems.extend(loaded.problems);
                streams.push(stream);
                continue;
            }
            if let Err(p) = stream.for_each_window(&mut |window| loaded.records.extend(window)) {
                loaded.problems.push(p);
            }
            // Its records are held now; its text is still read from the stream at the end.
            read_whole.push(stream);
        }
        // Rules about logins (never used, inactive) need an input that records them at all:
        // SCIM, SS 12000 and most LDIF exports carry no last login.
        tracked = tracked || loaded.records.iter().any(|r| r.get("last_login").is_some());
        mark_login_tracked(&mut loaded.records, tracked);
        if loaded.is_complete() {
            complete_files += 1;
            let start = records.len();
            records.extend(loaded.records);
            segments.push(Segment::Records(start..records.len()));
        } else {
            // Not checked, but its rows still show in diagnostics: note what is personal.
            personal.collect(&loaded.records, &report.sources, &HashSet::new());
            report.stats.incomplete_files.push(loaded.name.clone());
        }
        report.problems.extend(loaded.problems);
    }
    let side_inputs: Vec<_> = side_inputs.into_iter().map(|(_, l, _)| l).collect();
    // Personal data of side inputs is noted before their records are joined away.
    for side in &side_inputs {
        personal.collect(&side.records, &report.sources, &HashSet::new());
    }
    for side in side_inputs {
        if side.is_complete() {
            complete_files += 1;
            join_side_input(&mut records, side.records, &mut report.problems);
        } else {
            report.stats.incomplete_files.push(side.name.clone());
        }
        report.problems.extend(side.problems);
    }
    // Places whose value names no person (evidence of a generic account).
    let mut keep: HashSet<(source::FileId, source::Span)> = HashSet::new();
    if let Some(packs) = &packs {
        report.packs = packs
            .packs
            .iter()
            .map(|p| (p.manifest.id.clone(), p.manifest.version.clone()))
            .collect();
        report.stats.policies = packs.policy_count();
        if let Some(p) = &options.progress {
            p.total.store(
                records.len() + streamed_records,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        let disabled = &packs.disabled;
        // The values noted for `missing_in` facts about a kind are kept only when the policies
        // of a kind among the inputs (complete ones: held or streamed) read such a fact: the
        // keys of a million accounts, noted in case a leading system's export looks them up,
        // take 16 MB. Facts no policy of a record's kind reads are never evaluated for it.
        // (The deferred inputs are read below.)
        let present: HashSet<record::RecordKind> = streamed
            .kinds
            .iter()
            .copied()
            .chain(records.iter().map(|r| r.kind))
            .chain(pending.iter().map(|p| p.deferred.kind()))
            .collect();
        let values_needed = |looked_for: record::RecordKind| match &evaluator {
            Some(Ok(evaluator)) => facts.iter().enumerate().any(|(i, f)| {
                f.missing_in() == Some(looked_for)
                    && present.iter().any(|k| evaluator.reads_fact(*k, i))
            }),
            _ => true,
        };
        streamed.retain_values(values_needed);
        // The inputs the deferred inputs' records are decided against: every other input,
        // without the identities of the streamed ones (noted again with the deferred inputs'
        // below) and with the deferred inputs' kinds.
        let other_kinds = streamed.kinds.clone();
        let identities = if pending.is_empty() {
            pack::facts::Identities::default()
        } else {
            streamed.take_identities()
        };
        streamed
            .kinds
            .extend(pending.iter().map(|p| p.deferred.kind()));
        let mut inputs = pack::facts::FactInputs::with_streamed(
            &records,
            ctx.today,
            &ctx.school.country,
            &packs.facts,
            streamed,
        );
        let mut stream_problems = Vec::new();
        if let Some(Ok(evaluator)) = &evaluator
            && !pending.is_empty()
        {
            // First passes that decide: each record against every other input, its
            // identities counted as unshared (their records are decided again below when
            // they turn out to be shared), logins recorded when a column can hold them (a
            // file without one then decided anew in a second pass, as it would have been).
            let mut noted = pack::facts::Streamed::default();
            let (mut problems_shift, mut incomplete_shift) = (0, 0);
            let mut decided_inputs = Vec::new();
            // What no record looks up is not noted (every other input is read by now: the
            // keys of a million accounts take 16 MB).
            let noted_facts: Vec<pack::facts::CompiledFact> = facts
                .iter()
                .filter(|f| f.missing_in().is_none_or(values_needed))
                .cloned()
                .collect();
            for mut p in std::mem::take(&mut pending) {
                let kind = p.deferred.kind();
                let guess = p.deferred.has_attribute("last_login");
                let mut sink = FirstPassSink {
                    login: Some(guess),
                    shorts: true,
                    ..FirstPassSink::new(
                        &mut p.first,
                        &noted_facts,
                        Some((evaluator, &inputs, std::slice::from_ref(&kind))),
                    )
                };
                let (problems, stream) = p.deferred.open(None, &mut sink, &mut report.sources);
                p.problems.extend(problems);
                let complete = !p.problems.iter().any(Problem::is_error);
                if complete {
                    complete_files += 1;
                } else {
                    let at = (p.incomplete_at + incomplete_shift)
                        .min(report.stats.incomplete_files.len());
                    report.stats.incomplete_files.insert(at, p.name.clone());
                    incomplete_shift += 1;
                }
                let at = (p.problems_at + problems_shift).min(report.problems.len());
                problems_shift += p.problems.len();
                report.problems.splice(at..at, p.problems);
                let Some(stream) = stream else {
                    continue;
                };
                if complete {
                    let first = &mut p.first;
                    noted.merge(std::mem::take(&mut first.streamed));
                    for (file, spans) in std::mem::take(&mut first.secrets) {
                        secrets.entry(file).or_default().extend(spans);
                    }
                    streamed_records += stream.len();
                    let segment = match first.decided.take() {
                        Some(_) if first.tracked == guess => {
                            let shorts = std::mem::take(&mut first.shorts);
                            let rows = std::mem::take(&mut first.rows);
                            decided_inputs.push((p.segment, streams.len(), rows, shorts, guess));
                            Segment::Pending
                        }
                        // Logins recorded otherwise than guessed: decided anew.
                        _ => Segment::Stream(streams.len(), first.tracked),
                    };
                    if let Some(s) = segments.get_mut(p.segment) {
                        *s = segment;
                    }
                }
                streams.push(stream);
            }
            noted.retain_values(values_needed);
            inputs.complete(facts, identities, noted, other_kinds);
            // The records whose identity turned out to be shared are decided again when they
            // are collected.
            let shared = inputs.repeated_shorts();
            for (segment, at, rows, shorts, tracked) in decided_inputs {
                let Some(stream) = streams.get(at) else {
                    continue;
                };
                let per_record = shorts.len().checked_div(stream.len()).unwrap_or(0);
                let decided = if shorts.len() == per_record * stream.len() {
                    let again: Vec<usize> = if per_record == 0 || shared.is_empty() {
                        Vec::new()
                    } else {
                        let rows: Vec<usize> = shorts
                            .chunks_exact(per_record)
                            .enumerate()
                            .filter(|(_, s)| s.iter().any(|h| shared.contains(h)))
                            .map(|(i, _)| i)
                            .collect();
                        stream.row_offsets(&rows)
                    };
                    Segment::Rows {
                        stream: at,
                        rows,
                        again,
                        tracked,
                    }
                } else {
                    // Not one entry per record: every record decided anew.
                    Segment::Stream(at, tracked)
                };
                if let Some(s) = segments.get_mut(segment) {
                    *s = decided;
                }
            }
            segments.retain(|s| !matches!(s, Segment::Pending));
            if let Some(p) = &options.progress {
                p.total.store(
                    records.len() + streamed_records,
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
        }
        let inputs = inputs;
        let evaluation = match &evaluator {
            Some(Ok(evaluator)) => {
                let mut collector = engine::Collector::new(evaluator);
                for segment in &mut segments {
                    match segment {
                        Segment::Pending => {}
                        Segment::Rows {
                            stream,
                            rows,
                            again,
                            tracked,
                        } => {
                            let Some(stream) = streams.get(*stream) else {
                                continue;
                            };
                            // Only the rows with findings and those decided again are
                            // converted again, a few thousand at a time.
                            let mut offsets: Vec<usize> = rows.offsets().collect();
                            offsets.extend(again.iter().copied());
                            offsets.sort_unstable();
                            offsets.dedup();
                            let again: HashSet<usize> = again.iter().copied().collect();
                            let ranges: Vec<(usize, usize)> =
                                offsets.iter().map(|o| (*o, *o + 1)).collect();
                            let tracked = *tracked;
                            let decide = |records: Vec<record::Record>| {
                                let mut records: Vec<record::Record> = records
                                    .into_iter()
                                    .filter(|r| offsets.binary_search(&r.span.offset).is_ok())
                                    .collect();
                                mark_login_tracked(&mut records, tracked);
                                let found = records.len();
                                let (anew, kept): (Vec<_>, Vec<_>) = records
                                    .into_iter()
                                    .partition(|r| again.contains(&r.span.offset));
                                let anew = evaluator.decide_each(anew.into_iter(), &inputs);
                                (found, evaluator.prepare(rows.join(kept, anew), &inputs))
                            };
                            let mut found = 0;
                            let read =
                                stream.for_each_near_map(&ranges, &decide, &mut |(n, decided)| {
                                    found += n;
                                    collector.add_decided(decided, &inputs);
                                });
                            match read {
                                // Checked in part: the run fails (exit code 2).
                                Err(p) => stream_problems.push(p),
                                Ok(()) if found != offsets.len() => {
                                    stream_problems.push(source::csv::changed(
                                        stream.file(),
                                        &report.sources.get(stream.file()).name,
                                        "a row is no longer what it was",
                                    ));
                                }
                                Ok(()) => {}
                            }
                        }
                        Segment::Decided(_, decided) => {
                            for decided in std::mem::take(decided) {
                                collector.add_decided(decided, &inputs);
                            }
                        }
                        Segment::Records(range) => {
                            collector.add(records.get(range.clone()).unwrap_or(&[]), &inputs);
                        }
                        Segment::Stream(i, tracked) => {
                            let Some(stream) = streams.get(*i) else {
                                continue;
                            };
                            // Each chunk is evaluated where it was converted; only records
                            // with findings come back.
                            let decide = |chunk: &mut dyn Iterator<Item = record::Record>| {
                                let marked = chunk.map(|mut r| {
                                    mark_login_tracked(std::slice::from_mut(&mut r), *tracked);
                                    r
                                });
                                evaluator.prepare(evaluator.decide_each(marked, &inputs), &inputs)
                            };
                            let read = stream.for_each_window_map(&decide, &mut |window| {
                                for decided in window {
                                    collector.add_decided(decided, &inputs);
                                }
                            });
                            // Checked in part: the run fails (exit code 2).
                            stream_problems.extend(read.err());
                        }
                    }
                }
                collector.finish()
            }
            Some(Err(p)) => engine::Evaluation {
                findings: Vec::new(),
                problems: vec![p.clone()],
            },
            None => engine::Evaluation::default(),
        };
        // The decisions kept for the run (up to 65,536 projections) and what facts looked up
        // (a million consent-register entries take 32 MB) are not needed for the outputs:
        // freed before the shown rows are read again.
        drop(alone);
        drop(evaluator);
        drop(inputs);
        report.stats.files = complete_files;
        report.findings = evaluation
            .findings
            .into_iter()
            .filter(|f| !disabled.contains(&f.policy))
            .collect();
        report.stats.disabled = disabled.iter().cloned().collect();
        // Waivers: read, checked against the loaded rules and the date, then applied.
        let (waivers, problems) = waiver::load(&config.waivers, &mut report.sources);
        report.problems.extend(problems);
        // A waiver names a record (its key may be a username) and a person who approved it.
        for w in &waivers {
            if w.subject.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
                personal.add_span(
                    w.file,
                    w.subject_span,
                    &w.subject,
                    redact::PersonalKind::Username,
                );
            }
            personal.add_span(
                w.file,
                w.approved_by_span,
                &w.approved_by,
                redact::PersonalKind::Name,
            );
        }
        let mut rule_ids: Vec<String> = packs.meta.keys().cloned().collect();
        rule_ids.sort();
        let waivers = waiver::validate(
            waivers,
            &config.waivers,
            &report.sources,
            &rule_ids,
            options.today,
            &mut report.problems,
        );
        waiver::apply(&waivers, &mut report.findings, &mut report.problems);
        report.problems.extend(evaluation.problems);
        report.problems.extend(stream_problems);
        report.stats.records = records.len() + streamed_records;
        let mut inputs: std::collections::BTreeMap<source::FileId, finding::InputInfo> =
            std::collections::BTreeMap::new();
        let counts = records
            .iter()
            .map(|r| (r.file, r.kind, 1))
            .chain(segments.iter().filter_map(|s| match s {
                Segment::Stream(i, _)
                | Segment::Decided(i, _)
                | Segment::Rows { stream: i, .. } => {
                    streams.get(*i).map(|s| (s.file(), s.kind(), s.len()))
                }
                Segment::Records(_) | Segment::Pending => None,
            }));
        for (file, kind, n) in counts {
            *report.stats.by_kind.entry(kind.name()).or_default() += n;
            *inputs
                .entry(file)
                .or_insert_with(|| finding::InputInfo {
                    file,
                    records: std::collections::BTreeMap::new(),
                })
                .records
                .entry(kind.name())
                .or_default() += n;
        }
        report.inputs = inputs.into_values().collect();
        // The evidence of a policy marked `@evidence("not-personal")` (a generic username)
        // names no person; everything else personal is masked when the output is redacted.
        keep = report
            .findings
            .iter()
            .filter(|f| {
                packs
                    .meta
                    .get(&f.policy)
                    .is_some_and(|m| m.evidence_not_personal)
            })
            .map(|f| (f.file, f.span))
            .collect();
        let mut rules: Vec<finding::RuleInfo> = packs
            .meta
            .values()
            .filter(|m| !disabled.contains(&m.id))
            .map(|m| finding::RuleInfo {
                id: m.id.clone(),
                pack: m.pack.clone(),
                severity: m.severity,
                summary: finding::without_placeholders(&m.message),
                help: m.help.as_deref().map(finding::without_placeholders),
                basis: m.basis.clone(),
                url: m.url.clone(),
                limit: m.limit.is_some(),
                kinds: m.kinds.iter().map(|k| k.name()).collect(),
            })
            .collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        report.rules = rules;
    }
    report.school = Some(finding::SchoolInfo {
        id: config.school.id.clone(),
        name: config.school_name.clone(),
        country: config.school.country.clone(),
        state: config.school.state.clone(),
    });
    if specs.is_empty() && bundles.is_empty() && !report.has_errors() {
        report.problems.push(
            Problem::error("input::no-inputs", "nothing to check")
                .with_help("give a file or folder, or list inputs in konform.yaml"),
        );
    }
    if let Some(old) = &options.since {
        let spec = config
            .inputs
            .iter()
            .find(|s| s.path.file_name() == abs(old).file_name())
            .or(settings_of)
            .or_else(|| (specs.len() == 1).then(|| specs.first()).flatten())
            .cloned()
            .unwrap_or_default();
        let old_spec = InputSpec {
            path: abs(old),
            ..spec
        };
        let loaded = load::load(&old_spec, &mut report.sources, options.limits);
        if loaded.is_complete() {
            personal.collect(&loaded.records, &report.sources, &HashSet::new());
            redact::mask_secrets(&mut report, &loaded.records);
            since::keep_changed(&mut report, &records, &loaded.records, &loaded.name);
        } else {
            report.problems.extend(loaded.problems);
            report.problems.push(
                Problem::error(
                    "input::since-unreadable",
                    format!(
                        "cannot compare with `{}`: it could not be read completely",
                        loaded.name
                    ),
                )
                .with_help("--since needs a readable older export of the same list"),
            );
        }
    }
    if let Some(path) = &options.baseline {
        match baseline::load(&abs(path), &mut report.sources) {
            Ok(b) => baseline::apply(&b, &mut report),
            Err(p) => report.problems.push(p),
        }
    }
    // Personal data of the checked records: of those an output can show, once the findings and
    // problems are final (`konform diff` lists records without findings too: all of them).
    if options.keep_records {
        personal.collect(&records, &report.sources, &keep);
    } else {
        let shown = redact::Shown::of(&report);
        // Of a streamed input, only the lines outputs can show are kept (read again from disk
        // when the text was not held): memory then grows with the findings, and masking for
        // redacted output copies those lines only.
        let mut failed = Vec::new();
        for stream in streams.iter().chain(&read_whole) {
            let mut failure = None;
            report
                .sources
                .sparsify_with(
                    stream.file(),
                    shown.ranges(stream.file()),
                    |a, b| match stream.read_text(a, b) {
                        Ok(text) => Some(text),
                        Err(p) => {
                            failure.get_or_insert(p);
                            None
                        }
                    },
                );
            failed.extend(failure);
        }
        let kept = redact::kept_texts(&report.sources, &keep);
        personal.collect_shown_kept(&records, &report.sources, &keep, &kept, &shown);
        // Streamed rows are converted again: those near what is shown, or all of them when
        // problems name words that may be their keys.
        for stream in &streams {
            let read = if shown.names_any() {
                stream.for_each_window(&mut |window| {
                    personal.collect_shown_kept(&window, &report.sources, &keep, &kept, &shown);
                })
            } else {
                // A few thousand rows at a time: a list with many findings is not converted
                // again all at once.
                shown
                    .ranges(stream.file())
                    .chunks(SHOWN_RANGES_AT_ONCE)
                    .try_for_each(|ranges| {
                        // Collected on every core where the rows are converted, merged in
                        // order.
                        let collect = |near: Vec<record::Record>| {
                            let mut found = redact::PersonalData::default();
                            found.collect_shown_kept(&near, &report.sources, &keep, &kept, &shown);
                            found
                        };
                        stream.for_each_near_map(ranges, &collect, &mut |found| {
                            personal.merge(found);
                        })
                    })
            };
            failed.extend(read.err());
        }
        // One problem per file that could not be read again.
        for p in failed {
            if !report
                .problems
                .iter()
                .any(|q| q.code == p.code && q.file == p.file)
            {
                report.problems.push(p);
            }
        }
    }
    // Password cells are masked in every output.
    redact::secret_spans(&records, &mut secrets);
    redact::mask_secret_spans(&mut report, &secrets);
    report.personal = personal;
    report.sort();
    Outcome {
        report,
        fail_on: config.fail_on,
        records: if options.keep_records {
            records
        } else {
            Vec::new()
        },
    }
}

/// What the first pass over a streamed input noted.
#[derive(Default)]
struct FirstPass {
    /// Whether a record has a last login (see `login_tracked`).
    tracked: bool,
    /// What facts about other records need.
    streamed: pack::facts::Streamed,
    /// Password cells, masked in every output.
    secrets: std::collections::BTreeMap<source::FileId, Vec<source::Span>>,
    /// The records with findings or errors, for an input decided in the first pass (see
    /// `Evaluator::decides_alone`), in order.
    decided: Option<Vec<engine::Decided>>,
    /// For an input decided once every other input is read: what is kept of each record's
    /// identities, in order (see `Streamed::add_noting`).
    shorts: Vec<u32>,
    /// For such an input: the outcomes of its records with findings or errors, in order,
    /// without the records.
    rows: engine::DecidedRows,
}

/// The evaluator and (empty) fact inputs that decide the records of the kinds decided alone,
/// with those kinds (see `Evaluator::decides_alone`).
type Alone<'a, 'p, 'i> = Option<(
    &'a engine::Evaluator<'p>,
    &'a pack::facts::FactInputs<'i>,
    &'a [record::RecordKind],
)>;

/// Notes what the first pass needs of each chunk of a streamed input.
struct FirstPassSink<'s, 'a, 'p, 'i> {
    first: &'s mut FirstPass,
    facts: &'a [pack::facts::CompiledFact],
    /// What decides records of the kinds that are decided alone, with those kinds.
    alone: Alone<'a, 'p, 'i>,
    /// Whether this input's records are decided in the first pass.
    deciding: bool,
    /// Whether logins are recorded, as the records decided in the first pass are told (when
    /// they are accounts or people: see `Evaluator::decides_after_others`).
    login: Option<bool>,
    /// Whether to keep what identifies each record's identities (see [`FirstPass::shorts`]).
    shorts: bool,
    /// How the rows of the input being read are noted and decided from their cells, when
    /// they can be.
    plan: Option<std::sync::Arc<Plan>>,
}

/// How the rows of a streamed input are noted and decided from their cells.
enum Plan {
    /// A consent register's (see [`cells::ConsentPlan`]).
    Consents(cells::ConsentPlan),
    /// An account list's (see [`cells::AccountPlan`]; boxed: it holds a table by place).
    Accounts(Box<cells::AccountPlan>),
}

/// What the rows of a chunk noted from their cells leave.
#[derive(Default)]
struct CellNotes {
    first: FirstPass,
    /// Decisions by projection for the chunk.
    cache: engine::Cache,
    /// For an input whose records' identities are kept (see [`FirstPass::shorts`]): those of
    /// the rows noted from their cells, in order, and the place of each such row among the
    /// chunk's records (see `source::csv::CellRow::at`).
    shorts: Vec<u32>,
    at: Vec<usize>,
}

/// What the first pass notes of a chunk's records, in the task that converted them.
struct FirstPassNoter<'a, 'p, 'i> {
    facts: &'a [pack::facts::CompiledFact],
    /// Decides the records (of a kind decided alone).
    decide: Option<(&'a engine::Evaluator<'p>, &'a pack::facts::FactInputs<'i>)>,
    /// See [`FirstPassSink::login`].
    login: Option<bool>,
    /// See [`FirstPassSink::shorts`].
    shorts: bool,
    /// See [`FirstPassSink::plan`] (only with `decide`).
    plan: Option<std::sync::Arc<Plan>>,
}

impl source::csv::Note for FirstPassNoter<'_, '_, '_> {
    type Notes = FirstPass;
    type Cells = CellNotes;

    fn notes_cells(&self) -> bool {
        self.plan.is_some() && self.decide.is_some()
    }

    fn note_cells(
        &self,
        rows: &[source::csv::CellRow<'_>],
        cells: &mut CellNotes,
        record: &mut dyn FnMut(usize) -> Option<record::Record>,
        noted: &mut Vec<bool>,
    ) {
        let (Some(plan), Some((evaluator, inputs))) = (self.plan.as_deref(), self.decide) else {
            return;
        };
        match plan {
            Plan::Consents(plan) => {
                for (i, row) in rows.iter().enumerate() {
                    noted.push(plan.note(row.values, &mut cells.first.streamed, || {
                        record(i).map(|r| evaluator.decides_clean_in(&r, inputs, &mut cells.cache))
                    }));
                }
            }
            Plan::Accounts(plan) => {
                // Read as records, and their consents looked up together.
                let read: Vec<Option<cells::AccountRow<'_>>> =
                    rows.iter().map(|row| plan.row(*row)).collect();
                let readable: Vec<cells::AccountRow<'_>> = read.iter().flatten().copied().collect();
                let mut known = evaluator.resolve_rows(&readable, inputs).into_iter();
                for (i, (row, read)) in rows.iter().zip(&read).enumerate() {
                    let Some(read) = read else {
                        noted.push(false);
                        continue;
                    };
                    let known = known.next().unwrap_or_default();
                    noted.push(self.note_account(read, known, *row, cells, &mut || record(i)));
                }
            }
        }
        evaluator.count_checked(noted.iter().filter(|n| **n).count());
    }

    fn note(&self, mut records: Vec<record::Record>, cells: CellNotes) -> FirstPass {
        let CellNotes {
            first: mut notes,
            shorts: cell_shorts,
            at,
            ..
        } = cells;
        notes.tracked = notes.tracked || records.iter().any(|r| r.get("last_login").is_some());
        let FirstPass {
            streamed, shorts, ..
        } = &mut notes;
        if self.shorts && !at.is_empty() {
            // The identities of the records and of the rows noted from their cells, in the
            // order of the rows.
            let mut of_records = Vec::new();
            streamed.add_noting(self.facts, &records, Some(&mut of_records));
            let per_record = pack::facts::identities_per_record(self.facts);
            if per_record > 0 {
                let mut from_records = of_records.chunks_exact(per_record);
                let mut from_cells = cell_shorts.chunks_exact(per_record);
                let mut places = at.iter().peekable();
                for i in 0..records.len() + at.len() {
                    let next = if places.next_if(|&&place| place == i).is_some() {
                        from_cells.next()
                    } else {
                        from_records.next()
                    };
                    shorts.extend_from_slice(next.unwrap_or_default());
                }
            }
        } else {
            streamed.add_noting(self.facts, &records, self.shorts.then_some(shorts));
        }
        redact::secret_spans(&records, &mut notes.secrets);
        if let Some(tracked) = self.login {
            mark_login_tracked(&mut records, tracked);
        }
        if let Some((evaluator, inputs)) = self.decide {
            let decided = evaluator.decide_each(records.into_iter(), inputs);
            notes.decided = Some(if decided.is_empty() {
                Vec::new()
            } else if self.shorts {
                // Only the outcomes: the records are converted again at the end.
                notes.rows = decided.into_rows();
                Vec::new()
            } else {
                vec![decided]
            });
        }
        notes
    }
}

impl<'a> FirstPassNoter<'a, '_, '_> {
    /// Notes an account row from its cells (see [`cells::AccountPlan`]) when a record with
    /// its projection was decided before without a finding, deciding one from the row's
    /// record when none was; `false` (nothing noted) otherwise.
    fn note_account(
        &self,
        read: &cells::AccountRow<'_>,
        known: pack::facts::RecordConsents<'a>,
        row: source::csv::CellRow<'_>,
        cells: &mut CellNotes,
        record: &mut dyn FnMut() -> Option<record::Record>,
    ) -> bool {
        let Some((evaluator, inputs)) = self.decide else {
            return false;
        };
        match evaluator.known_clean(read, inputs, known, &mut cells.cache) {
            Some(true) => {}
            Some(false) => return false,
            None => {
                // Decided from its record, as `note` decides records; the decision is kept.
                let Some(mut r) = record() else {
                    return false;
                };
                if let Some(tracked) = self.login {
                    mark_login_tracked(std::slice::from_mut(&mut r), tracked);
                }
                if !evaluator.decides_clean_in(&r, inputs, &mut cells.cache) {
                    return false;
                }
            }
        }
        let one = std::slice::from_ref(read);
        if self.shorts {
            cells
                .first
                .streamed
                .add_noting(self.facts, one, Some(&mut cells.shorts));
            cells.at.push(row.at);
        } else {
            cells.first.streamed.add_noting(self.facts, one, None);
        }
        cells.first.tracked =
            cells.first.tracked || record::Fields::value(read, "last_login").is_some();
        true
    }
}

impl<'s, 'a, 'p, 'i> FirstPassSink<'s, 'a, 'p, 'i> {
    /// A first pass that notes into `first` what `facts` need, and decides the records of
    /// the kinds `alone` names there; logins and identities are not kept.
    fn new(
        first: &'s mut FirstPass,
        facts: &'a [pack::facts::CompiledFact],
        alone: Alone<'a, 'p, 'i>,
    ) -> Self {
        Self {
            first,
            facts,
            alone,
            deciding: false,
            login: None,
            shorts: false,
            plan: None,
        }
    }
}

impl<'a, 'p, 'i> source::csv::Sink for FirstPassSink<'_, 'a, 'p, 'i> {
    type Noter = FirstPassNoter<'a, 'p, 'i>;

    fn expect(
        &mut self,
        kind: record::RecordKind,
        rows: usize,
        columns: &[source::csv::ColumnName<'_>],
    ) {
        self.first.streamed.reserve(self.facts, kind, rows);
        if self.shorts {
            let per_record = pack::facts::identities_per_record(self.facts);
            self.first
                .shorts
                .reserve_exact(rows.saturating_mul(per_record));
        }
        self.deciding = self
            .alone
            .is_some_and(|(_, _, kinds)| kinds.contains(&kind));
        if self.deciding {
            self.first.decided = Some(Vec::new());
        }
        self.plan = match self.alone {
            Some((evaluator, _, _)) if self.deciding => {
                let accounts = self
                    .login
                    .filter(|_| evaluator.decides_after_others(kind))
                    .and_then(|tracked| cells::AccountPlan::compile(kind, columns, tracked));
                match accounts {
                    Some(plan) => Some(Plan::Accounts(Box::new(plan))),
                    None => cells::ConsentPlan::compile(evaluator, self.facts, kind, columns)
                        .map(Plan::Consents),
                }
                .map(std::sync::Arc::new)
            }
            _ => None,
        };
    }

    fn noter(&self) -> FirstPassNoter<'a, 'p, 'i> {
        FirstPassNoter {
            facts: self.facts,
            decide: self
                .alone
                .filter(|_| self.deciding)
                .map(|(evaluator, inputs, _)| (evaluator, inputs)),
            login: self.login,
            shorts: self.shorts,
            plan: self.plan.clone(),
        }
    }

    fn take(&mut self, notes: FirstPass) {
        let first = &mut *self.first;
        first.tracked = first.tracked || notes.tracked;
        first.streamed.append(notes.streamed);
        for (file, spans) in notes.secrets {
            first.secrets.entry(file).or_default().extend(spans);
        }
        if let (Some(mine), Some(decided)) = (&mut first.decided, notes.decided) {
            mine.extend(decided);
        }
        first.shorts.extend(notes.shorts);
        first.rows.append_copy(notes.rows);
    }
}

/// Tells accounts and people whether their input records logins (`login_tracked`): rules
/// about logins need an input that records them at all.
fn mark_login_tracked(records: &mut [record::Record], tracked: bool) {
    for r in records {
        if matches!(
            r.kind,
            record::RecordKind::Account | record::RecordKind::Person
        ) {
            let span = r.span;
            r.set("login_tracked", record::Value::Bool(tracked), span);
        }
    }
}

/// A streamed input whose first pass waits until every other input is read (see `defer` in
/// [`check_outcome`]).
struct Pending {
    deferred: load::DeferredStream,
    name: String,
    problems: Vec<Problem>,
    first: FirstPass,
    /// Its place among the segments.
    segment: usize,
    /// Where its problems go among the report's, and its name among the incomplete files'.
    problems_at: usize,
    incomplete_at: usize,
}

/// The inputs in order, as evaluated.
enum Segment {
    /// A deferred input, until it is decided (see [`Pending`]).
    Pending,
    /// A deferred input decided in its first pass (an index into the streams): the outcomes
    /// of its records with findings or errors, the offsets of the rows to decide again
    /// (their identity is shared), and whether it records logins. The rows of both are
    /// converted again as they are collected.
    Rows {
        stream: usize,
        rows: engine::DecidedRows,
        again: Vec<usize>,
        tracked: bool,
    },
    /// Records held in memory (a range of all held records).
    Records(std::ops::Range<usize>),
    /// A streamed input (an index into the streams) and whether it records logins.
    Stream(usize, bool),
    /// A streamed input decided in its first pass: its records with findings or errors.
    Decided(usize, Vec<engine::Decided>),
}

/// Joins the records of a side input (`kind: attributes`) onto the accounts with the same key,
/// username or e-mail: attributes the account lacks are filled in (the export's own values
/// win). A side record that matches no account is a warning.
fn join_side_input(
    records: &mut [record::Record],
    side: Vec<record::Record>,
    problems: &mut Vec<Problem>,
) {
    let norm = |s: &str| s.trim().to_lowercase();
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if !matches!(r.kind, record::RecordKind::Account) {
            continue;
        }
        let mut keys = vec![norm(&r.key)];
        keys.extend(
            ["id", "username", "email"]
                .iter()
                .filter_map(|a| r.str(a))
                .map(norm),
        );
        keys.sort();
        keys.dedup();
        for k in keys {
            index.entry(k).or_default().push(i);
        }
    }
    for s in side {
        let targets = index.get(&norm(&s.key)).cloned().unwrap_or_default();
        if targets.is_empty() {
            problems.push(
                Problem::warning("input::unmatched-side-record", format!("`{}` in a side input matches no account", s.key))
                    .at(s.file, s.span, "no account with this key, username or e-mail")
                    .with_help("side inputs (kind: attributes) add attributes to accounts of other inputs by key"),
            );
            continue;
        }
        for i in targets {
            let Some(target) = records.get_mut(i) else {
                continue;
            };
            for (name, attr) in &s.attrs {
                if matches!(name.as_ref(), "id" | "username" | "email") {
                    continue;
                }
                if !target.attrs.contains_key(name) {
                    let span = target.span;
                    target.set(name.clone(), attr.value.clone(), span);
                }
            }
            for (name, attr) in &s.extra {
                target
                    .extra
                    .entry(name.clone())
                    .or_insert_with(|| record::Attr {
                        value: attr.value.clone(),
                        span: target.span,
                    });
            }
        }
    }
}

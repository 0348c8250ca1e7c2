//! Roster bundles: OneRoster 1.1/1.2 CSV and Microsoft School Data Sync (SDS) v1, v2, v2.1.
//!
//! A bundle is a folder of CSV files that together describe the accounts: the user files are
//! read as account lists (their column names map onto the canonical attributes by the usual
//! aliases: `sourcedId`, `givenName`, `enabledUser`, `orgSourcedIds`, `SIS ID` …), then the
//! side files are joined onto them by user id:
//!
//! | file | adds |
//! |---|---|
//! | `roles.csv` (OneRoster 1.2, SDS v2.1) | roles, schools (`orgSourcedId`), `valid_from`/`valid_until` from role begin/end dates |
//! | `enrollments.csv` | roles, groups (class ids) |
//! | `demographics.csv` | `birth_date`; every other filled column as an extra attribute (`raceCodes` …) |
//! | `userFlags.csv` (SDS v2.1) | each flag (`iep`, `504`, `freeLunch`) as an extra attribute |
//! | `relationships.csv` (SDS v2.1) | the related user's role and `children` |
//! | `manifest.csv` (OneRoster) | the version: `status: inactive` is reported for 1.1 |
//!
//! Joined values point at the user's row (the record lives in the users file).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::problem::Problem;
use crate::record::{Record, RecordKind, Text, Value};
use crate::source::columns::{self, normalize_name};
use crate::source::load::{self, InputLimits, InputSpec, LoadedInput};
use crate::source::value::{parse_date, parse_set, parse_us_date};
use crate::source::{FileId, SourceMap, Span};

/// Which kind of bundle a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// OneRoster 1.1/1.2, or SDS v2/v2.1 (`users.csv` with `orgs.csv`, `roles.csv` …).
    OneRoster,
    /// SDS v1 "classic" (`Student.csv`, `Teacher.csv`, `School.csv` …).
    SdsV1,
}

fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
}

/// Where a bundle's files come from: a folder, or the members of a `.zip` archive (read into
/// memory, shown as `export.zip!users.csv`).
enum Bundle {
    Dir(PathBuf),
    Zip(Vec<(String, String, std::sync::Arc<[u8]>)>),
}

impl Bundle {
    /// An input spec for the member called `name` (case-insensitive), if present.
    fn find(&self, name: &str) -> Option<InputSpec> {
        match self {
            Bundle::Dir(dir) => find(dir, name).map(|path| InputSpec {
                path,
                ..InputSpec::default()
            }),
            Bundle::Zip(members) => members
                .iter()
                .find(|(file_name, _, _)| file_name.eq_ignore_ascii_case(name))
                .map(|(file_name, shown, bytes)| InputSpec {
                    path: PathBuf::from(file_name),
                    member: Some((shown.clone(), std::sync::Arc::clone(bytes))),
                    ..InputSpec::default()
                }),
        }
    }
}

/// The file names inside a zip archive (flat: folders inside the archive are ignored).
fn zip_names(path: &Path) -> Result<Vec<String>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let archive = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    Ok(archive
        .file_names()
        .filter_map(|n| n.ok())
        .filter_map(|n| n.rsplit('/').next().map(str::to_owned))
        .filter(|n| !n.is_empty())
        .collect())
}

/// The bundle kind of a `.zip` archive, or why it is none.
pub fn detect_zip(path: &Path) -> Result<BundleKind, String> {
    let names = zip_names(path)?;
    let has = |n: &str| names.iter().any(|m| m.eq_ignore_ascii_case(n));
    kind_of(&has).ok_or_else(|| "it holds no OneRoster or SDS bundle (users.csv with orgs.csv, roles.csv …; or Student.csv with School.csv)".to_owned())
}

fn kind_of(has: &dyn Fn(&str) -> bool) -> Option<BundleKind> {
    if has("users.csv")
        && ["manifest.csv", "orgs.csv", "enrollments.csv", "roles.csv"]
            .iter()
            .any(|n| has(n))
    {
        return Some(BundleKind::OneRoster);
    }
    if (has("Student.csv") || has("Teacher.csv")) && has("School.csv") {
        return Some(BundleKind::SdsV1);
    }
    None
}

/// Reads the CSV members of a zip archive, refusing unsafe names and oversized contents.
/// All members together may unpack to at most `max_bytes` (the input size limit): a zip bomb
/// stops at the limit, whatever sizes its headers declare.
fn open_zip(path: &Path, shown: &str, max_bytes: u64) -> Result<Bundle, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let mut members = Vec::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let raw = entry.name().map_err(|e| e.to_string())?.to_string();
        if entry.is_dir() || !raw.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        if entry.enclosed_name().is_none() {
            return Err(format!(
                "member `{raw}` has an unsafe path (`..` or absolute)"
            ));
        }
        let too_large = || {
            format!(
                "its CSV members unpack to more than {max_bytes} bytes (the --max-file-size limit)"
            )
        };
        if total.saturating_add(entry.size()) > max_bytes {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        // Read at most what is left of the limit plus one byte: a member lying about its size
        // stops there.
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut entry, max_bytes - total + 1),
            &mut bytes,
        )
        .map_err(|e| format!("cannot unpack `{raw}`: {e}"))?;
        total = total.saturating_add(bytes.len() as u64);
        if total > max_bytes {
            return Err(too_large());
        }
        let file_name = raw.rsplit('/').next().unwrap_or(&raw).to_owned();
        members.push((
            file_name,
            format!("{shown}!{raw}"),
            std::sync::Arc::from(bytes),
        ));
    }
    Ok(Bundle::Zip(members))
}

/// The bundle kind of a folder, if it is one.
pub fn detect(dir: &Path) -> Option<BundleKind> {
    kind_of(&|n: &str| find(dir, n).is_some())
}

/// One side file: rows as normalised column name -> value, with the row number.
struct Table {
    file: FileId,
    header: Span,
    rows: Vec<(HashMap<String, String>, Span)>,
}

fn read_table(
    spec: &InputSpec,
    sources: &mut SourceMap,
    limits: InputLimits,
    problems: &mut Vec<Problem>,
) -> Option<Table> {
    let name = match &spec.member {
        Some((shown, _)) => shown.clone(),
        None => sources.display(&spec.path),
    };
    let (file, read) = match load::read_source(spec, &name, sources, limits) {
        Ok((file, read, notes)) => {
            problems.extend(notes);
            (file, read)
        }
        Err((_, p)) => {
            problems.extend(p);
            return None;
        }
    };
    let text: &str = &read;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(normalize_name).collect(),
        Err(e) => {
            problems.push(
                Problem::error("input::malformed-csv", format!("malformed CSV: {e}")).in_file(file),
            );
            return None;
        }
    };
    let mut rows = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let at = r
                    .position()
                    .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
                let span = Span::new(at, text.get(at..).and_then(|t| t.find('\n')).unwrap_or(0));
                let row = header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(|v| v.trim().to_owned()))
                    .collect();
                rows.push((row, span));
            }
            Err(e) => {
                let at = e
                    .position()
                    .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
                problems.push(
                    Problem::error("input::malformed-csv", format!("malformed CSV: {e}"))
                        .at(file, Span::new(at, 1), "the CSV parser stopped here")
                        .with_help("check the quoting of this row"),
                );
                return None;
            }
        }
    }
    let header = Span::new(0, text.find(['\r', '\n']).unwrap_or(text.len()));
    Some(Table { file, header, rows })
}

/// Checks that a side file has `column` (as the specification spells it).
fn require(table: &Table, column: &str, name: &str, problems: &mut Vec<Problem>) -> bool {
    let key = normalize_name(column);
    let ok = table.rows.first().is_none_or(|(r, _)| r.contains_key(&key));
    if !ok {
        problems.push(
            Problem::error(
                "input::missing-column",
                format!("`{name}` has no column `{column}`"),
            )
            .at(table.file, table.header, "header row")
            .with_help(format!(
                "the 1EdTech OneRoster / SDS specification names this column `{column}`"
            )),
        );
    }
    ok
}

fn add_to_set(record: &mut Record, attr: &str, items: &[String]) {
    let Some(canon) = columns::by_name(RecordKind::Account, attr) else {
        return;
    };
    let mut all: Vec<Text> = record
        .get(attr)
        .and_then(|a| a.value.as_set())
        .map(<[Text]>::to_vec)
        .unwrap_or_default();
    all.extend(parse_set(items.iter().map(String::as_str), canon));
    all.sort();
    all.dedup();
    let span = record.span;
    record.set(canon.name, Value::Set(all.into()), span);
}

fn set_extra(record: &mut Record, name: &str, value: &str) {
    let span = record.span;
    record.extra.insert(
        name.to_owned(),
        crate::record::Attr {
            value: Value::Str(value.into()),
            span,
        },
    );
}

/// Reads a roster bundle folder into one input.
pub fn read(
    dir: &Path,
    kind: BundleKind,
    sources: &mut SourceMap,
    limits: InputLimits,
) -> LoadedInput {
    let mut out = LoadedInput {
        file: None,
        name: sources.display(dir),
        kind: Some(RecordKind::Account),
        format: Some(crate::source::detect::Format::Csv),
        records: Vec::new(),
        problems: Vec::new(),
        stream: None,
        deferred: None,
    };
    // A path that is a file is a `.zip` bundle; its members are read into memory.
    let bundle = if dir.is_file() {
        match open_zip(dir, &out.name, limits.max_file_bytes) {
            Ok(b) => b,
            Err(e) => {
                out.problems.push(
                    Problem::error(
                        "input::bad-zip",
                        format!("cannot read the zip bundle `{}`: {e}", out.name),
                    )
                    .with_help(
                        "export the bundle again, or unpack it into a folder and check the folder",
                    ),
                );
                return out;
            }
        }
    } else {
        Bundle::Dir(dir.to_path_buf())
    };
    let user_files: Vec<(InputSpec, Option<&str>)> = match kind {
        BundleKind::OneRoster => bundle
            .find("users.csv")
            .into_iter()
            .map(|p| (p, None))
            .collect(),
        BundleKind::SdsV1 => [("Student.csv", "student"), ("Teacher.csv", "teacher")]
            .into_iter()
            .filter_map(|(n, role)| bundle.find(n).map(|p| (p, Some(role))))
            .collect(),
    };
    for (base, role) in user_files {
        let spec = InputSpec {
            kind: Some(RecordKind::Account),
            format: Some(crate::source::detect::Format::Csv),
            us_dates: kind == BundleKind::SdsV1,
            ..base
        };
        let mut loaded = load::load(&spec, sources, limits);
        out.file = out.file.or(loaded.file);
        if kind == BundleKind::OneRoster
            && let Some(file) = loaded.file
        {
            check_user_columns(file, sources, &mut loaded.problems);
        }
        if let Some(role) = role {
            for r in &mut loaded.records {
                add_to_set(r, "roles", &[role.to_owned()]);
            }
        }
        out.records.append(&mut loaded.records);
        out.problems.append(&mut loaded.problems);
    }
    if kind == BundleKind::OneRoster {
        join_side_files(&bundle, sources, limits, &mut out);
    }
    out
}

/// The columns of `users.csv` in OneRoster 1.1/1.2 and Microsoft SDS v2/v2.1, normalised.
const USER_COLUMNS: &[&str] = &[
    "sourcedid",
    "status",
    "datelastmodified",
    "enableduser",
    "orgsourcedids",
    "role",
    "roles",
    "username",
    "userids",
    "givenname",
    "familyname",
    "middlename",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentsourcedids",
    "grades",
    "grade",
    "password",
    "preferredfirstname",
    "preferredmiddlename",
    "preferredlastname",
    "pronouns",
    "primaryorgsourcedid",
    "userprofiles",
    "usermasteridentifier",
    "activedirectorymatchid",
];

/// Reports columns of a bundle's `users.csv` that neither OneRoster nor SDS defines, with
/// suggestions; `metadata.*` extension columns are allowed. The values are still read.
fn check_user_columns(file: FileId, sources: &SourceMap, problems: &mut Vec<Problem>) {
    let text = sources.get(file).shared_text();
    let header = text.lines().next().unwrap_or("");
    let known: Vec<String> = USER_COLUMNS.iter().map(|c| normalize_name(c)).collect();
    let mut unknown = Vec::new();
    let mut offset = 0;
    for raw in header.split(',') {
        let name = raw.trim().trim_matches('"').trim_start_matches('\u{feff}');
        let span = Span::new(offset, raw.len());
        offset += raw.len() + 1;
        let n = normalize_name(name);
        if name.is_empty()
            || name.to_ascii_lowercase().starts_with("metadata.")
            || known.contains(&n)
        {
            continue;
        }
        let suggestion = USER_COLUMNS
            .iter()
            .map(|c| (strsim::jaro_winkler(&n, &normalize_name(c)), *c))
            .filter(|(score, _)| *score > 0.85)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, c)| c);
        unknown.push((name.to_owned(), span, suggestion));
    }
    let Some((_, first, _)) = unknown.first() else {
        return;
    };
    let list: Vec<String> = unknown
        .iter()
        .map(|(n, _, s)| match s {
            Some(s) => format!("`{n}` (did you mean `{s}`?)"),
            None => format!("`{n}`"),
        })
        .collect();
    let mut p = Problem::warning(
        "input::nonconforming-header",
        format!(
            "users.csv has columns that OneRoster and SDS do not define: {}",
            list.join(", ")
        ),
    )
    .at(file, *first, "not a OneRoster/SDS column");
    for (_, span, _) in unknown.iter().skip(1) {
        p = p.with_label(*span, "");
    }
    problems.push(p.with_help(
        "rename misspelt columns; extension columns belong under `metadata.` (their values are kept as extra attributes)",
    ));
}

fn join_side_files(
    bundle: &Bundle,
    sources: &mut SourceMap,
    limits: InputLimits,
    out: &mut LoadedInput,
) {
    let index: HashMap<String, usize> = out
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key.to_string(), i))
        .collect();
    let mut version_11 = false;
    if let Some(spec) = bundle.find("manifest.csv")
        && let Some(t) = read_table(&spec, sources, limits, &mut out.problems)
    {
        version_11 = t.rows.iter().any(|(r, _)| {
            r.get("propertyname")
                .or_else(|| r.get("property"))
                .is_some_and(|p| p == "oneroster.version")
                && r.get("value").is_some_and(|v| v.starts_with("1.1"))
        });
    }
    let mut unknown_users: Vec<(FileId, Span, String)> = Vec::new();
    let mut each = |file_name: &str,
                    out: &mut LoadedInput,
                    f: &mut dyn FnMut(&mut Record, &HashMap<String, String>)| {
        let Some(spec) = bundle.find(file_name) else {
            return;
        };
        let Some(table) = read_table(&spec, sources, limits, &mut out.problems) else {
            return;
        };
        if !require(&table, "userSourcedId", file_name, &mut out.problems) {
            return;
        }
        for (row, span) in &table.rows {
            let Some(user) = row.get("usersourcedid") else {
                continue;
            };
            match index.get(user).and_then(|&i| out.records.get_mut(i)) {
                Some(record) => f(record, row),
                None => unknown_users.push((table.file, *span, user.clone())),
            }
        }
    };
    each("roles.csv", out, &mut |r, row| {
        if let Some(role) = row.get("role").filter(|v| !v.is_empty()) {
            add_to_set(r, "roles", std::slice::from_ref(role));
        }
        if let Some(org) = row.get("orgsourcedid").filter(|v| !v.is_empty()) {
            add_to_set(r, "schools", std::slice::from_ref(org));
        }
        // An account's roles end with the latest role end date; a role without one is open.
        let end = row.get("roleenddate").or_else(|| row.get("enddate"));
        let span = r.span;
        match end.and_then(|e| parse_date(e)) {
            Some(d) if !r.extra.contains_key("konform:open-role") => {
                let later = r
                    .get("valid_until")
                    .and_then(|a| a.value.as_date())
                    .is_none_or(|v| d > v);
                if later {
                    r.set("valid_until", Value::Date(d), span);
                }
            }
            Some(_) => {}
            None => {
                r.attrs.remove("valid_until");
                set_extra(r, "konform:open-role", "true");
            }
        }
        if let Some(d) = row
            .get("rolestartdate")
            .or_else(|| row.get("begindate"))
            .and_then(|b| parse_date(b))
        {
            let earlier = r
                .get("valid_from")
                .and_then(|a| a.value.as_date())
                .is_none_or(|v| d < v);
            if earlier {
                r.set("valid_from", Value::Date(d), span);
            }
        }
    });
    each("enrollments.csv", out, &mut |r, row| {
        if let Some(role) = row.get("role").filter(|v| !v.is_empty()) {
            add_to_set(r, "roles", std::slice::from_ref(role));
        }
        if let Some(class) = row.get("classsourcedid").filter(|v| !v.is_empty()) {
            add_to_set(r, "groups", std::slice::from_ref(class));
        }
    });
    each("demographics.csv", out, &mut |r, row| {
        for (k, v) in row {
            if v.is_empty() || k == "usersourcedid" || k == "sex" {
                continue;
            }
            if k == "birthdate" {
                if let Some(d) = parse_date(v).or_else(|| parse_us_date(v)) {
                    let span = r.span;
                    r.set("birth_date", Value::Date(d), span);
                }
            } else {
                set_extra(r, k, v);
            }
        }
    });
    // OneRoster 1.2 userProfiles.csv: credentials for applications, with passwords.
    each("userProfiles.csv", out, &mut |r, row| {
        if row
            .get("password")
            .is_some_and(|p| !p.is_empty() && !p.chars().all(|c| c == '*'))
        {
            let span = r.span;
            r.set("password_present", Value::Bool(true), span);
        }
        if let Some(app) = row
            .get("applicationid")
            .or_else(|| row.get("vendorid"))
            .filter(|v| !v.is_empty())
        {
            add_to_set(r, "groups", &[format!("profile:{app}")]);
        }
    });
    each("userFlags.csv", out, &mut |r, row| {
        if let Some(flag) = row.get("flag").filter(|v| !v.is_empty()) {
            set_extra(r, flag, "true");
        }
    });
    // relationships.csv: `relationshipUserSourcedId` is the related user (a guardian) of
    // `userSourcedId`; the guardian gets the role and the child.
    let mut links: Vec<(String, String, String)> = Vec::new();
    each("relationships.csv", out, &mut |r, row| {
        if let (Some(other), Some(role)) = (
            row.get("relationshipusersourcedid"),
            row.get("relationshiprole"),
        ) {
            links.push((other.clone(), role.clone(), r.key.to_string()));
        }
    });
    for (guardian, role, child) in links {
        if let Some(r) = index.get(&guardian).and_then(|&i| out.records.get_mut(i)) {
            add_to_set(r, "roles", &[role]);
            add_to_set(r, "children", &[child]);
        }
    }
    for r in &mut out.records {
        r.extra.remove("konform:open-role");
        if version_11 && r.str("state") == Some("disabled") {
            out.problems.push(
                Problem::warning("input::oneroster-status", format!("user `{}` has status `inactive`, which OneRoster 1.1 does not allow", r.key))
                    .at(r.file, r.span_of("state").unwrap_or(r.span), "not a OneRoster 1.1 status")
                    .with_help("OneRoster 1.1 knows `active` and `tobedeleted`; use `enabledUser: false` for a disabled account"),
            );
        }
    }
    for (file, span, user) in unknown_users.into_iter().take(20) {
        out.problems.push(
            Problem::warning(
                "input::unknown-user",
                format!("row refers to user `{user}`, who is not in users.csv"),
            )
            .at(file, span, "unknown userSourcedId")
            .with_help(
                "the bundle is inconsistent: export it again, or check that users.csv is complete",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        for (name, text) in files {
            if let Err(e) = std::fs::write(dir.path().join(name), text) {
                panic!("{e}");
            }
        }
        dir
    }

    #[test]
    fn detects_bundles() {
        let d = bundle(&[
            ("users.csv", "sourcedId\n1\n"),
            ("orgs.csv", "sourcedId\n1\n"),
        ]);
        assert_eq!(detect(d.path()), Some(BundleKind::OneRoster));
        let d = bundle(&[
            ("Student.csv", "SIS ID\n1\n"),
            ("School.csv", "SIS ID\n1\n"),
        ]);
        assert_eq!(detect(d.path()), Some(BundleKind::SdsV1));
        let d = bundle(&[("users.csv", "sourcedId\n1\n")]);
        assert_eq!(detect(d.path()), None);
    }

    #[test]
    fn sds_v21_joins_roles_demographics_flags_and_relationships() {
        let d = bundle(&[
            (
                "users.csv",
                "sourcedId,username,givenName,familyName,password\n1,a@x.example,A,B,P@ss\n2,g@x.example,G,B,\n",
            ),
            (
                "roles.csv",
                "userSourcedId,orgSourcedId,role,sessionSourcedId,grade,isPrimary,roleStartDate,roleEndDate\n1,10,student,S,10,TRUE,2021-08-24,2022-06-11\n",
            ),
            (
                "demographics.csv",
                "userSourcedId,sex,birthDate,ethnicityCodes\n1,male,2010-07-02,hispanicOrLatinoEthnicity\n",
            ),
            ("userFlags.csv", "userSourcedId,flag\n1,iep\n"),
            (
                "relationships.csv",
                "userSourcedId,relationshipUserSourcedId,relationshipRole\n1,2,guardian\n",
            ),
            ("orgs.csv", "sourcedId,name,type\n10,School,school\n"),
        ]);
        let mut sources = SourceMap::new();
        let l = read(
            d.path(),
            BundleKind::OneRoster,
            &mut sources,
            InputLimits::default(),
        );
        assert!(l.is_complete(), "{:?}", l.problems);
        let s = &l.records[0];
        assert!(s.has_in_set("roles", "student") && s.has_in_set("schools", "10"));
        assert_eq!(
            s.get("valid_until").and_then(|a| a.value.as_date()),
            parse_date("2022-06-11")
        );
        assert_eq!(
            s.get("birth_date").and_then(|a| a.value.as_date()),
            parse_date("2010-07-02")
        );
        assert!(s.extra.contains_key("ethnicitycodes") && s.extra.contains_key("iep"));
        assert_eq!(
            s.get("password_present").and_then(|a| a.value.as_bool()),
            Some(true)
        );
        let g = &l.records[1];
        assert!(g.has_in_set("roles", "guardian") && g.has_in_set("children", "1"));
    }

    #[test]
    fn sds_v1_reads_us_dates_and_roles_from_the_file() {
        let d = bundle(&[
            ("School.csv", "SIS ID,Name\n10001,Contoso\n"),
            (
                "Student.csv",
                "SIS ID,School SIS ID,First Name,Last Name,Username,Password,Status,Birthdate\n13001,10001,Ora,Klein,OKlein,P@ssword,Active,4/2/2000\n",
            ),
            (
                "Teacher.csv",
                "SIS ID,School SIS ID,First Name,Last Name,Username,Password,Status\n14001,10001,Craig,Beane,CBeane,,Active\n",
            ),
        ]);
        let mut sources = SourceMap::new();
        let l = read(
            d.path(),
            BundleKind::SdsV1,
            &mut sources,
            InputLimits::default(),
        );
        assert!(l.is_complete(), "{:?}", l.problems);
        assert!(l.records[0].has_in_set("roles", "student"));
        assert_eq!(
            l.records[0]
                .get("birth_date")
                .and_then(|a| a.value.as_date()),
            chrono::NaiveDate::from_ymd_opt(2000, 4, 2)
        );
        assert!(l.records[1].has_in_set("roles", "teacher"));
    }

    #[test]
    fn oneroster_11_inactive_status_is_reported() {
        let d = bundle(&[
            (
                "manifest.csv",
                "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n",
            ),
            (
                "users.csv",
                "sourcedId,status,enabledUser,username\n1,inactive,true,a\n2,active,true,b\n",
            ),
        ]);
        let mut sources = SourceMap::new();
        let l = read(
            d.path(),
            BundleKind::OneRoster,
            &mut sources,
            InputLimits::default(),
        );
        assert!(
            l.problems
                .iter()
                .any(|p| p.code == "konform::input::oneroster-status"),
            "{:?}",
            l.problems
        );
    }

    #[test]
    fn nonconforming_user_columns_are_listed_with_suggestions() {
        let d = bundle(&[
            (
                "users.csv",
                "sourcedId,usrname,givenName,favouriteColour,metadata.house\n1,a,A,blue,x\n",
            ),
            ("orgs.csv", "sourcedId,name\n1,S\n"),
        ]);
        let mut sources = SourceMap::new();
        let l = read(
            d.path(),
            BundleKind::OneRoster,
            &mut sources,
            InputLimits::default(),
        );
        let p = l
            .problems
            .iter()
            .find(|p| p.code == "konform::input::nonconforming-header");
        assert!(
            p.is_some_and(
                |p| p.message.contains("`usrname` (did you mean `username`?)")
                    && p.message.contains("`favouriteColour`")
                    && !p.message.contains("metadata")
            ),
            "{:?}",
            l.problems
        );
        assert!(l.is_complete(), "a warning, not an error");
    }

    #[test]
    fn oneroster_12_user_profiles_reveal_passwords() {
        let d = bundle(&[
            ("users.csv", "sourcedId,username,password\n1,a,\n2,b,\n"),
            (
                "roles.csv",
                "userSourcedId,orgSourcedId,role\n1,9,teacher\n",
            ),
            (
                "userProfiles.csv",
                "sourcedId,userSourcedId,profileType,vendorId,applicationId,credentialType,username,password\nP1,1,lms,v,moodle,password,a,geheim\nP2,2,lms,v,moodle,password,b,****\n",
            ),
        ]);
        let mut sources = SourceMap::new();
        let l = read(
            d.path(),
            BundleKind::OneRoster,
            &mut sources,
            InputLimits::default(),
        );
        assert!(l.is_complete(), "{:?}", l.problems);
        let pw = |i: usize| {
            l.records
                .get(i)
                .and_then(|r| r.get("password_present"))
                .and_then(|a| a.value.as_bool())
        };
        assert_eq!((pw(0), pw(1)), (Some(true), Some(false)));
    }
}

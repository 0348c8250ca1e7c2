//! LDIF (RFC 2849) exports of school directories (UCS@school, IServ, municipal LDAP) as
//! account records.
//!
//! The text is cut into entries at blank lines, folded lines are joined (a value's span then
//! covers the whole folded range), comments are dropped and every `attr: value`, `attr:: base64`
//! and `attr:< url` line is kept with the byte span of its value. An entry becomes an account
//! when one of its object classes is a person or account class (or, in an export without
//! object classes, when it has a `uid`); group entries (`groupOfNames`, `posixGroup` …) only
//! lend their names to the groups of their members. LDAP attribute names map onto canonical
//! attributes by [`BUILTIN`], overridden by the `columns:` mapping of konform.yaml.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};

use crate::problem::Problem;
use crate::record::{Attr, Record, RecordKind, Text, Value};
use crate::source::columns::{self, AttrType, Canonical};
use crate::source::csv::{ReadResult, type_word};
use crate::source::value::{parse_cell, parse_date, parse_set};
use crate::source::{FileId, Span};

/// How the values of an LDAP attribute become a canonical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The text as it is, parsed like a CSV cell.
    Plain,
    /// `teacher:school:gym1` becomes `teacher` (UCS@school roles).
    RolePrefix,
    /// `cn=5a,cn=klassen,ou=gym1,…` becomes `5a`: the first `cn` of a DN.
    DnCommonName,
    /// Days since 1970-01-01 (`shadowExpire`); negative means no date.
    EpochDays,
    /// LDAP generalized time (`20240801120000Z`); the date as written, the time dropped.
    GeneralizedTime,
}

/// The built-in mapping: lowercase LDAP attribute name, canonical attribute, conversion.
/// Where two LDAP attributes map onto one single-valued attribute, the earlier line wins
/// (`displayName` before `cn`); set-valued attributes collect the values of all of them.
pub const BUILTIN: &[(&str, &str, Conversion)] = &[
    ("uid", "username", Conversion::Plain),
    ("givenname", "given_name", Conversion::Plain),
    ("sn", "family_name", Conversion::Plain),
    ("surname", "family_name", Conversion::Plain),
    ("displayname", "display_name", Conversion::Plain),
    ("cn", "display_name", Conversion::Plain),
    ("mail", "email", Conversion::Plain),
    ("ucsschoolrole", "roles", Conversion::RolePrefix),
    ("employeetype", "roles", Conversion::Plain),
    ("ucsschoolschool", "schools", Conversion::Plain),
    ("school", "schools", Conversion::Plain),
    ("memberof", "groups", Conversion::DnCommonName),
    ("shadowexpire", "valid_until", Conversion::EpochDays),
    ("krb5validend", "valid_until", Conversion::GeneralizedTime),
    ("createtimestamp", "created", Conversion::GeneralizedTime),
    ("userpassword", "password_present", Conversion::Plain),
    ("sambantpassword", "password_present", Conversion::Plain),
    ("unicodepwd", "password_present", Conversion::Plain),
    ("krb5key", "password_present", Conversion::Plain),
];

/// Secrets that are never kept, not even as extra attributes.
const SECRETS: &[&str] = &[
    "userpassword",
    "sambantpassword",
    "sambalmpassword",
    "sambapasswordhistory",
    "pwdhistory",
    "unicodepwd",
    "krb5key",
];

/// Object classes that make an entry an account.
const ACCOUNT_CLASSES: &[&str] = &[
    "person",
    "organizationalperson",
    "inetorgperson",
    "posixaccount",
    "shadowaccount",
    "account",
    "user",
    "ucsschooltype",
    "ucsschoolstudent",
    "ucsschoolteacher",
    "ucsschoolstaff",
    "ucsschooladministrator",
    "ucsschoolexam",
];

/// Object classes of groups; they win over account classes (a group may carry
/// `ucsschoolType`).
const GROUP_CLASSES: &[&str] = &[
    "groupofnames",
    "groupofuniquenames",
    "posixgroup",
    "univentiongroup",
    "ucsschoolgroup",
    "group",
];

/// Reads the account entries of an LDIF file.
///
/// `mapping` maps an LDAP attribute name (compared case-insensitively) onto a canonical
/// attribute name or `ignore`, overriding [`BUILTIN`].
pub fn read(file: FileId, text: &str, mapping: &BTreeMap<String, String>) -> ReadResult {
    let mut out = ReadResult::default();
    let mut entries = split_entries(text);
    take_version(file, &mut entries, &mut out);
    if entries.is_empty() {
        out.problems.push(
            Problem::error("input::empty", "the file has no LDIF entries")
                .in_file(file)
                .with_help(
                    "export the directory again; an empty export is never treated as a clean result",
                ),
        );
        return out;
    }
    let mut accounts: Vec<(Record, String)> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut seen: HashMap<String, Span> = HashMap::new();
    for entry in &entries {
        match read_entry(file, entry, mapping, &mut out) {
            Outcome::Account(record, dn) => {
                if let Some(first) = seen.get(record.key.as_str()) {
                    out.problems.push(crate::source::duplicate_key(
                        file,
                        "account",
                        &record.key,
                        (record.span, "second entry with this key"),
                        (*first, "first entry with this key"),
                        "an account key (uid, else the dn) must be unique within an export; remove or merge the duplicate entry",
                    ));
                    continue;
                }
                seen.insert(record.key.to_string(), record.span);
                accounts.push((*record, dn));
            }
            Outcome::Group(group) => groups.push(group),
            Outcome::Skipped => {}
        }
    }
    apply_groups(&mut accounts, &groups);
    out.records = accounts.into_iter().map(|(r, _)| r).collect();
    if out.records.is_empty() && !out.problems.iter().any(Problem::is_error) {
        out.problems.push(
            Problem::error(
                "input::empty",
                format!(
                    "the file has {} LDIF {} but no accounts",
                    entries.len(),
                    if entries.len() == 1 { "entry" } else { "entries" }
                ),
            )
            .in_file(file)
            .with_help(
                "konform reads entries with an object class such as `inetOrgPerson`, `posixAccount` or `person`; export the user entries (with their objectClass lines) again",
            ),
        );
    }
    out
}

/// How a value is written after the attribute name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// `attr: text`
    Text,
    /// `attr:: base64`
    Base64,
    /// `attr:< url`
    Url,
}

/// One logical (unfolded) `attr: value` line.
#[derive(Debug, Clone)]
struct Line {
    /// The attribute description as written, options included (`cn;lang-de`).
    desc: String,
    /// The attribute type in lowercase, options removed (`cn`).
    name: String,
    sep: Sep,
    /// The value text after the separator, unfolded, leading spaces removed.
    raw: String,
    /// The value's pieces in the file: (offset, length) per physical line.
    pieces: Vec<(usize, usize)>,
    /// The value's span, over the whole folded range; empty values point at the line.
    span: Span,
    /// The first physical line.
    line: Span,
}

impl Line {
    /// The file offset of byte `i` of `raw`.
    fn offset_at(&self, i: usize) -> usize {
        let mut rest = i;
        for &(offset, len) in &self.pieces {
            if rest < len {
                return offset + rest;
            }
            rest -= len;
        }
        self.span.end()
    }
}

#[derive(Debug, Clone)]
enum Item {
    Attr(Line),
    /// A line that is neither `attr: value` nor a continuation.
    Malformed(Span),
    /// A continuation line with nothing before it to continue.
    Orphan(Span),
}

#[derive(Debug, Default)]
struct Entry {
    items: Vec<Item>,
    span: Span,
}

impl Entry {
    fn attrs(&self) -> impl Iterator<Item = &Line> {
        self.items.iter().filter_map(|i| match i {
            Item::Attr(l) => Some(l),
            _ => None,
        })
    }

    fn first(&self, name: &str) -> Option<&Line> {
        self.attrs().find(|l| l.name == name)
    }
}

/// A logical line while it is being unfolded: its physical pieces.
struct Pending {
    pieces: Vec<(usize, usize)>,
}

fn split_entries(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut current = Entry::default();
    let mut pending: Option<Pending> = None;
    let mut in_comment = false;
    let mut offset = 0;
    for physical in text.split_inclusive('\n') {
        let start = offset;
        offset += physical.len();
        let line = physical.trim_end_matches('\n').trim_end_matches('\r');
        if line.trim().is_empty() {
            flush(text, &mut pending, &mut current);
            if !current.items.is_empty() {
                entries.push(std::mem::take(&mut current));
            }
            in_comment = false;
        } else if let Some(rest) = line.strip_prefix(' ') {
            if in_comment {
                continue;
            }
            match &mut pending {
                Some(p) => p.pieces.push((start + 1, rest.len())),
                None => push_item(
                    &mut current,
                    Item::Orphan(Span::new(start, line.len())),
                    Span::new(start, line.len()),
                ),
            }
        } else if line.starts_with('#') {
            flush(text, &mut pending, &mut current);
            in_comment = true;
        } else {
            flush(text, &mut pending, &mut current);
            in_comment = false;
            pending = Some(Pending {
                pieces: vec![(start, line.len())],
            });
        }
    }
    flush(text, &mut pending, &mut current);
    if !current.items.is_empty() {
        entries.push(current);
    }
    entries
}

fn push_item(entry: &mut Entry, item: Item, span: Span) {
    entry.span = if entry.items.is_empty() {
        span
    } else {
        Span::from_range(entry.span.offset, span.end())
    };
    entry.items.push(item);
}

fn flush(text: &str, pending: &mut Option<Pending>, entry: &mut Entry) {
    let Some(p) = pending.take() else {
        return;
    };
    let (Some(&(first, first_len)), Some(&(last, last_len))) = (p.pieces.first(), p.pieces.last())
    else {
        return;
    };
    let whole = Span::from_range(first, last + last_len);
    let item = match parse_line(text, &p.pieces) {
        Some(line) => Item::Attr(line),
        None => Item::Malformed(Span::new(first, first_len)),
    };
    push_item(entry, item, whole);
}

/// Parses an unfolded line made of `pieces`; `None` when it is not `attr: value`.
fn parse_line(text: &str, pieces: &[(usize, usize)]) -> Option<Line> {
    // Each piece with its position in the joined text.
    let mut joined = String::new();
    let mut starts = Vec::with_capacity(pieces.len());
    for &(offset, len) in pieces {
        starts.push(joined.len());
        joined.push_str(text.get(offset..offset + len)?);
    }
    let colon = joined.find(':')?;
    let desc = joined.get(..colon)?;
    let valid_name = desc
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && desc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ';' | '.'));
    if !valid_name {
        return None;
    }
    let after = joined.get(colon + 1..)?;
    let (sep, skip) = match after.as_bytes().first() {
        Some(b':') => (Sep::Base64, 1),
        Some(b'<') => (Sep::Url, 1),
        _ => (Sep::Text, 0),
    };
    let value = after.get(skip..)?;
    let value_start = colon + 1 + skip + (value.len() - value.trim_start_matches(' ').len());
    let raw = joined.get(value_start..)?.to_owned();
    // The value's pieces in the file.
    let mut value_pieces = Vec::new();
    for (&(offset, len), &joined_start) in pieces.iter().zip(&starts) {
        let joined_end = joined_start + len;
        if joined_end <= value_start {
            continue;
        }
        let skip = value_start.saturating_sub(joined_start);
        value_pieces.push((offset + skip, len - skip));
    }
    let span = match (value_pieces.first(), value_pieces.last()) {
        (Some(&(first, _)), Some(&(last, last_len))) if !raw.is_empty() => {
            Span::from_range(first, last + last_len)
        }
        _ => Span::from_range(
            pieces.first().map_or(0, |&(o, _)| o),
            pieces.last().map_or(0, |&(o, l)| o + l),
        ),
    };
    let name = desc.split(';').next().unwrap_or(desc).to_ascii_lowercase();
    let line = pieces
        .first()
        .map_or_else(Span::default, |&(o, l)| Span::new(o, l));
    Some(Line {
        desc: desc.to_owned(),
        name,
        sep,
        raw,
        pieces: value_pieces,
        span,
        line,
    })
}

/// Removes a leading `version: 1` line; any other version gets a warning.
fn take_version(file: FileId, entries: &mut Vec<Entry>, out: &mut ReadResult) {
    let Some(first) = entries.first_mut() else {
        return;
    };
    let Some(Item::Attr(line)) = first.items.first() else {
        return;
    };
    if line.name != "version" {
        return;
    }
    if line.raw.trim() != "1" {
        out.problems.push(
            Problem::warning(
                "input::ldif-version",
                format!("unknown LDIF version `{}`", line.raw.trim()),
            )
            .at(file, line.span, "expected `1`")
            .with_help("konform reads LDIF version 1 (RFC 2849); the file is read as version 1"),
        );
    }
    first.items.remove(0);
    match first.items.first().map(|i| match i {
        Item::Attr(l) => l.line.offset,
        Item::Malformed(s) | Item::Orphan(s) => s.offset,
    }) {
        Some(start) => first.span = Span::from_range(start, first.span.end()),
        None => {
            entries.remove(0);
        }
    }
}

/// A decoded value.
enum Decoded {
    Text(String),
    Binary(usize),
}

/// Decodes a line's value, reporting bad base64 and URL values.
fn decode(file: FileId, line: &Line, canonical: bool, out: &mut ReadResult) -> Option<Decoded> {
    match line.sep {
        Sep::Text => Some(Decoded::Text(line.raw.clone())),
        Sep::Url => {
            let problem = if canonical {
                Problem::error(
                    "input::ldif-url",
                    format!(
                        "`{}` is read from a URL, which konform does not support",
                        line.desc
                    ),
                )
            } else {
                Problem::warning(
                    "input::ldif-url",
                    format!("`{}` is read from a URL and is skipped", line.desc),
                )
            };
            out.problems.push(
                problem
                    .at(file, line.span, "value given as `:<` URL")
                    .with_help("export the directory with the values inline (`attr: text` or `attr:: base64`)"),
            );
            None
        }
        Sep::Base64 => match decode_base64(&line.raw) {
            Ok(bytes) => Some(match String::from_utf8(bytes) {
                Ok(s) => Decoded::Text(s),
                Err(e) => Decoded::Binary(e.into_bytes().len()),
            }),
            Err(at) => {
                let bad = line.raw.get(at..).and_then(|s| s.chars().next());
                let (span, label) = match bad {
                    Some(c) => (
                        Span::new(line.offset_at(at), c.len_utf8()),
                        format!("`{c}` is not a base64 character here"),
                    ),
                    None => (line.span, "the base64 text is cut short".to_owned()),
                };
                out.problems.push(
                    Problem::error(
                        "input::bad-base64",
                        format!("invalid base64 in `{}`", line.desc),
                    )
                    .at(file, span, label)
                    .with_help(
                        "a value after `::` must be base64 (RFC 2849); export the file again, or write plain text after a single `:`",
                    ),
                );
                None
            }
        },
    }
}

/// Decodes standard base64 (RFC 4648, padding optional); the error is the byte index of the
/// first bad character, or the length when the text ends early.
fn decode_base64(text: &str) -> Result<Vec<u8>, usize> {
    let bytes = text.trim_end().as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut pad = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' if pad < 2 => {
                pad += 1;
                continue;
            }
            _ => return Err(i),
        };
        if pad > 0 {
            return Err(i);
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let data = bytes.len() - pad;
    if data % 4 == 1 || (pad > 0 && !(data + pad).is_multiple_of(4)) {
        return Err(bytes.len());
    }
    Ok(out)
}

/// The components of a DN as (lowercase type, unescaped value), first RDN first.
/// Multi-valued RDNs (`+`) are split like separate components.
fn dn_parts(dn: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut push = |current: &mut Vec<u8>| {
        let text = String::from_utf8_lossy(current);
        if let Some((t, v)) = text.split_once('=') {
            parts.push((t.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        current.clear();
    };
    let bytes = dn.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            // `\2C` is a hex-escaped byte (UTF-8 bytes one by one), `\,` an escaped character.
            b'\\' => {
                let hex = bytes
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    current.push(byte);
                    i += 2;
                } else if let Some(&next) = bytes.get(i) {
                    current.push(next);
                    i += 1;
                }
            }
            b',' | b';' | b'+' => push(&mut current),
            b => current.push(b),
        }
    }
    push(&mut current);
    parts
}

/// A DN in a form for comparing: lowercase, spaces around separators removed.
fn normalize_dn(dn: &str) -> String {
    dn_parts(dn)
        .iter()
        .map(|(t, v)| format!("{t}={}", v.to_lowercase()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses an LDAP generalized time (`YYYYMMDDHH[MM[SS]][.f](Z|±hh[mm])`); the date as written.
fn parse_generalized_time(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let (date, rest) = (t.get(..8)?, t.get(8..)?);
    if !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !matches!(digits, 0 | 2 | 4 | 6) {
        return None;
    }
    let mut tail = rest.get(digits..)?;
    if let Some(frac) = tail.strip_prefix(['.', ',']) {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = frac.get(n..)?;
    }
    let zone_ok = tail.is_empty()
        || tail == "Z"
        || tail
            .strip_prefix(['+', '-'])
            .is_some_and(|z| matches!(z.len(), 2 | 4) && z.bytes().all(|b| b.is_ascii_digit()));
    if !zone_ok {
        return None;
    }
    let y = date.get(..4)?.parse().ok()?;
    let m = date.get(4..6)?.parse().ok()?;
    let d = date.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// What an entry turned out to be.
enum Outcome {
    Account(Box<Record>, String),
    Group(Group),
    Skipped,
}

/// A group entry's name and members, for accounts without `memberOf`.
struct Group {
    name: String,
    /// Member DNs (normalised) with the span of their line.
    member_dns: Vec<(String, Span)>,
    /// Member user names (`memberUid`) with the span of their line.
    member_uids: Vec<(String, Span)>,
}

fn read_entry(
    file: FileId,
    entry: &Entry,
    mapping: &BTreeMap<String, String>,
    out: &mut ReadResult,
) -> Outcome {
    let first_line = entry.items.first().map_or(entry.span, |i| match i {
        Item::Attr(l) => l.line,
        Item::Malformed(s) | Item::Orphan(s) => *s,
    });
    let Some(dn_line) = entry.first("dn") else {
        report_malformed(file, entry, out);
        out.problems.push(
            Problem::error("input::missing-dn", "LDIF entry has no `dn`")
                .at(file, first_line, "this entry has no `dn:` line")
                .with_help("every LDIF entry starts with a `dn:` line naming the directory entry; separate entries by one blank line"),
        );
        return Outcome::Skipped;
    };
    let Some(Decoded::Text(dn)) = decode(file, dn_line, true, out) else {
        return Outcome::Skipped;
    };
    let change = entry.first("changetype");
    let mut deleted = None;
    if let Some(c) = change {
        match c.raw.trim().to_ascii_lowercase().as_str() {
            "add" => {}
            "delete" => deleted = Some(c.span),
            "modify" | "moddn" | "modrdn" => {
                out.problems.push(
                    Problem::warning(
                        "input::ldif-change-record",
                        format!("change record `{}` of `{dn}` is skipped", c.raw.trim()),
                    )
                    .at(file, c.span, "a change, not the entry's content")
                    .with_help("konform reads content records; export the directory's current content (e.g. `ldapsearch -LLL`) instead of a change log"),
                );
                return Outcome::Skipped;
            }
            other => {
                out.problems.push(
                    Problem::error(
                        "input::ldif-changetype",
                        format!("unknown changetype `{other}` of `{dn}`"),
                    )
                    .at(file, c.span, "not a changetype of RFC 2849")
                    .with_help("use `add`, `delete`, `modify` or `moddn`, or export content records without `changetype`"),
                );
                return Outcome::Skipped;
            }
        }
    }
    report_malformed(file, entry, out);
    if let Some(change_span) = deleted {
        return read_deleted(file, entry, &dn, dn_line, change_span);
    }
    let mut classes = Vec::new();
    for line in entry.attrs().filter(|l| l.name == "objectclass") {
        if let Some(Decoded::Text(c)) = decode(file, line, true, out) {
            classes.push(c.trim().to_ascii_lowercase());
        }
    }
    let has = |list: &[&str]| classes.iter().any(|c| list.contains(&c.as_str()));
    if has(GROUP_CLASSES) {
        return read_group(file, entry, &dn, out);
    }
    let no_classes = classes.is_empty() && entry.first("uid").is_some();
    if !has(ACCOUNT_CLASSES) && !no_classes {
        return Outcome::Skipped;
    }
    let record = read_account(file, entry, &dn, dn_line, change.is_some(), mapping, out);
    Outcome::Account(Box::new(record), normalize_dn(&dn))
}

fn report_malformed(file: FileId, entry: &Entry, out: &mut ReadResult) {
    for item in &entry.items {
        match item {
            Item::Attr(_) => {}
            Item::Malformed(span) => out.problems.push(
                Problem::error("input::malformed-ldif", "line is not an LDIF `attr: value` line")
                    .at(file, *span, "expected `name: value`, `name:: base64` or a continuation starting with one space")
                    .with_help("an LDIF line is an attribute name, a colon and the value; a long value continues on lines that start with exactly one space"),
            ),
            Item::Orphan(span) => out.problems.push(
                Problem::error("input::malformed-ldif", "continuation line without a line to continue")
                    .at(file, *span, "starts with a space but follows a blank line or a comment")
                    .with_help("remove the leading space, or join the line to the value it belongs to"),
            ),
        }
    }
}

/// A `changetype: delete` record: an account when its DN starts with `uid=`.
fn read_deleted(file: FileId, entry: &Entry, dn: &str, dn_line: &Line, change: Span) -> Outcome {
    let Some((t, uid)) = dn_parts(dn).into_iter().next() else {
        return Outcome::Skipped;
    };
    if t != "uid" || uid.is_empty() {
        return Outcome::Skipped;
    }
    let mut record = Record::new(RecordKind::Account, file, entry.span);
    record.key = uid.as_str().into();
    record.set("username", Value::Str(uid.into()), dn_line.span);
    record.set("state", Value::Str("deleted".into()), change);
    record.extra.insert(
        "dn".into(),
        Attr {
            value: Value::Str(dn.into()),
            span: dn_line.span,
        },
    );
    Outcome::Account(Box::new(record), normalize_dn(dn))
}

fn read_group(file: FileId, entry: &Entry, dn: &str, out: &mut ReadResult) -> Outcome {
    let name = entry
        .first("cn")
        .and_then(|l| match decode(file, l, true, out) {
            Some(Decoded::Text(t)) => Some(t.trim().to_owned()),
            _ => None,
        })
        .or_else(|| dn_parts(dn).into_iter().next().map(|(_, v)| v))
        .unwrap_or_default();
    let mut group = Group {
        name,
        member_dns: Vec::new(),
        member_uids: Vec::new(),
    };
    for line in entry.attrs() {
        let list = match line.name.as_str() {
            "member" | "uniquemember" => &mut group.member_dns,
            "memberuid" => &mut group.member_uids,
            _ => continue,
        };
        if let Some(Decoded::Text(v)) = decode(file, line, true, out) {
            let v = v.trim();
            let key = if line.name == "memberuid" {
                v.to_owned()
            } else {
                normalize_dn(v)
            };
            list.push((key, line.span));
        }
    }
    Outcome::Group(group)
}

/// Where an attribute's values go.
enum Target {
    Canonical(&'static Canonical, Conversion, usize),
    Extra,
    Drop,
}

fn target(name: &str, desc: &str, mapping: &BTreeMap<String, String>) -> Target {
    let builtin = BUILTIN.iter().position(|(n, _, _)| *n == name);
    let configured = mapping
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(desc) || k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
    match configured {
        Some("ignore") => Target::Drop,
        Some(t) => match columns::by_name(RecordKind::Account, t) {
            Some(canon) => {
                let conversion = builtin
                    .and_then(|i| BUILTIN.get(i))
                    .filter(|(_, c, _)| *c == canon.name)
                    .map_or(Conversion::Plain, |(_, _, conv)| *conv);
                // A configured mapping wins over every built-in one.
                Target::Canonical(canon, conversion, 0)
            }
            None => Target::Extra,
        },
        None => match builtin.and_then(|i| Some((i, BUILTIN.get(i)?))) {
            Some((i, (_, canon, conv))) => match columns::by_name(RecordKind::Account, canon) {
                Some(canon) => Target::Canonical(canon, *conv, i + 1),
                None => Target::Extra,
            },
            None if SECRETS.contains(&name) => Target::Drop,
            None => Target::Extra,
        },
    }
}

fn read_account(
    file: FileId,
    entry: &Entry,
    dn: &str,
    dn_line: &Line,
    is_change: bool,
    mapping: &BTreeMap<String, String>,
    out: &mut ReadResult,
) -> Record {
    let mut record = Record::new(RecordKind::Account, file, entry.span);
    record.extra.insert(
        "dn".into(),
        Attr {
            value: Value::Str(dn.into()),
            span: dn_line.span,
        },
    );
    // The lines of each attribute description, in the order of their first line.
    let mut by_desc: Vec<(String, Vec<&Line>)> = Vec::new();
    for line in entry.attrs() {
        if line.name == "dn"
            || (is_change && matches!(line.name.as_str(), "changetype" | "control"))
        {
            continue;
        }
        let key = line.desc.to_ascii_lowercase();
        match by_desc.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lines)) => lines.push(line),
            None => by_desc.push((key, vec![line])),
        }
    }
    // Canonical values with the priority of the LDAP attribute they came from.
    let mut values: BTreeMap<&'static str, Vec<(usize, Value, Span)>> = BTreeMap::new();
    for (_, lines) in &by_desc {
        let Some(first) = lines.first() else {
            continue;
        };
        let span = Span::from_range(
            first.span.offset,
            lines.last().map_or(first.span.end(), |l| l.span.end()),
        );
        match target(&first.name, &first.desc, mapping) {
            Target::Drop => {}
            Target::Extra => {
                let texts: Vec<String> = lines
                    .iter()
                    .filter_map(|l| match decode(file, l, false, out)? {
                        Decoded::Text(t) => Some(t.trim().to_owned()),
                        Decoded::Binary(n) => Some(format!("({n} bytes of binary data)")),
                    })
                    .filter(|t| !t.is_empty())
                    .collect();
                if !texts.is_empty() {
                    record.extra.insert(
                        first.desc.clone(),
                        Attr {
                            value: Value::Str(texts.join(", ").into()),
                            span,
                        },
                    );
                }
            }
            Target::Canonical(canon, conversion, priority) => {
                if let Some(value) = convert(file, canon, conversion, lines, out) {
                    values
                        .entry(canon.name)
                        .or_default()
                        .push((priority, value, span));
                }
            }
        }
    }
    for (name, mut found) in values {
        found.sort_by_key(|(p, _, _)| *p);
        let Some((_, best, span)) = found.first().cloned() else {
            continue;
        };
        let value = match best {
            Value::Set(_) => {
                let mut items: Vec<Text> = found
                    .into_iter()
                    .filter_map(|(_, v, _)| match v {
                        Value::Set(items) => Some(items),
                        _ => None,
                    })
                    .flat_map(|items| items.to_vec())
                    .collect();
                items.sort();
                items.dedup();
                Value::Set(items.into())
            }
            other => other,
        };
        record.set(name, value, span);
    }
    record.key = record
        .str("username")
        .filter(|u| !u.trim().is_empty())
        .map_or_else(|| dn.into(), Into::into);
    record
}

/// Converts the lines of one attribute into a canonical value; bad values are reported.
fn convert(
    file: FileId,
    canon: &Canonical,
    conversion: Conversion,
    lines: &[&Line],
    out: &mut ReadResult,
) -> Option<Value> {
    let mut texts: Vec<(String, &Line)> = Vec::new();
    for line in lines {
        match decode(file, line, true, out)? {
            Decoded::Text(t) => texts.push((t, line)),
            Decoded::Binary(n) => {
                out.problems.push(
                    Problem::error(
                        "input::bad-value",
                        format!("`{}` holds binary data, not text", line.desc),
                    )
                    .at(file, line.span, format!("{n} bytes that are not UTF-8 text"))
                    .with_help(format!(
                        "`{}` is read as `{}`; map the attribute to `ignore` in konform.yaml `columns:` if it is not text",
                        line.desc, canon.name
                    )),
                );
                return None;
            }
        }
    }
    let bad = |line: &Line, label: String, help: String, code: &str, out: &mut ReadResult| {
        out.problems.push(
            Problem::error(
                &format!("input::{code}"),
                format!(
                    "invalid {} in `{}` ({})",
                    type_word(canon.ty),
                    line.desc,
                    canon.name
                ),
            )
            .at(file, line.span, label)
            .with_help(help),
        );
    };
    if canon.ty == AttrType::Set {
        let items: Vec<String> = texts
            .iter()
            .map(|(t, _)| {
                let t = t.trim();
                match conversion {
                    Conversion::RolePrefix => t.split(':').next().unwrap_or(t).to_owned(),
                    Conversion::DnCommonName => dn_parts(t)
                        .into_iter()
                        .find(|(k, _)| k == "cn")
                        .map_or_else(|| t.to_owned(), |(_, v)| v),
                    _ => t.to_owned(),
                }
            })
            .collect();
        // Split only values read as plain text: a DN's `cn` may contain a comma.
        let items = if conversion == Conversion::Plain {
            parse_set(items.iter().map(String::as_str), canon)
        } else {
            let mut v: Vec<Text> = items
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| columns::normalize_value(canon.normalize, s))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        return (!items.is_empty()).then_some(Value::Set(items.into()));
    }
    if canon.name == "password_present" {
        return Some(Value::Bool(texts.iter().any(|(t, _)| !t.trim().is_empty())));
    }
    let (text, line) = texts.into_iter().find(|(t, _)| !t.trim().is_empty())?;
    let text = text.trim();
    if canon.ty == AttrType::Date {
        let date = match conversion {
            Conversion::EpochDays => match text.parse::<i64>() {
                Ok(days) if days < 0 => return None,
                Ok(days) => u64::try_from(days).ok().and_then(|d| {
                    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_days(Days::new(d))
                }),
                Err(_) => None,
            },
            _ => parse_generalized_time(text).or_else(|| parse_date(text)),
        };
        if date.is_none() {
            let expected = if conversion == Conversion::EpochDays {
                "a number of days since 1970-01-01"
            } else {
                "an LDAP generalized time such as 20240801120000Z"
            };
            bad(
                line,
                format!("`{text}` is not a date"),
                format!("`{}` must be {expected}", line.desc),
                "bad-date",
                out,
            );
        }
        return date.map(Value::Date);
    }
    match parse_cell(canon, text) {
        Ok(v) => v,
        Err(e) => {
            bad(line, e.label, e.help, e.code, out);
            None
        }
    }
}

/// Adds the names of group entries to the groups of their member accounts.
fn apply_groups(accounts: &mut [(Record, String)], groups: &[Group]) {
    let Some(canon) = columns::by_name(RecordKind::Account, "groups") else {
        return;
    };
    // Indexes, so that large directories stay linear in their number of memberships.
    let by_dn: HashMap<String, usize> = accounts
        .iter()
        .enumerate()
        .map(|(i, (_, dn))| (dn.clone(), i))
        .collect();
    let by_uid: HashMap<String, usize> = accounts
        .iter()
        .enumerate()
        .filter_map(|(i, (r, _))| Some((r.str("username")?.to_owned(), i)))
        .collect();
    for group in groups {
        if group.name.is_empty() {
            continue;
        }
        let name = columns::normalize_value(canon.normalize, &group.name);
        let members = group
            .member_dns
            .iter()
            .filter_map(|(dn, span)| Some((*by_dn.get(dn)?, *span)))
            .chain(
                group
                    .member_uids
                    .iter()
                    .filter_map(|(uid, span)| Some((*by_uid.get(uid)?, *span))),
            );
        for (i, member_span) in members {
            let Some((record, _)) = accounts.get_mut(i) else {
                continue;
            };
            let (mut items, span) = match record.get("groups") {
                Some(Attr {
                    value: Value::Set(items),
                    span,
                }) => (items.to_vec(), *span),
                _ => (Vec::new(), member_span),
            };
            if !items.contains(&name) {
                items.push(name.clone());
                items.sort();
            }
            record.set("groups", Value::Set(items.into()), span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::ProblemLevel;

    fn read_text(text: &str) -> ReadResult {
        read(FileId(0), text, &BTreeMap::new())
    }

    fn slice(text: &str, s: Span) -> &str {
        &text[s.offset..s.end()]
    }

    fn codes(r: &ReadResult) -> Vec<&str> {
        r.problems.iter().map(|p| p.code.as_str()).collect()
    }

    fn problem<'a>(r: &'a ReadResult, code: &str) -> &'a Problem {
        let full = format!("konform::{code}");
        match r.problems.iter().find(|p| p.code == full) {
            Some(p) => p,
            None => panic!("no `{code}` in {:?}", r.problems),
        }
    }

    fn primary<'a>(text: &'a str, p: &Problem) -> &'a str {
        p.primary_span().map_or("", |s| slice(text, s))
    }

    fn set(r: &Record, name: &str) -> Vec<String> {
        r.get(name)
            .and_then(|a| a.value.as_set())
            .map(|items| items.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// RFC 2849 example 1 and 2: two content records, a folded value.
    #[test]
    fn rfc_2849_content_records_and_folded_lines() {
        let text = "version: 1\n\
dn: cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com\n\
objectclass: top\n\
objectclass: person\n\
objectclass: organizationalPerson\n\
cn: Barbara Jensen\n\
cn: Barbara J Jensen\n\
cn: Babs Jensen\n\
sn: Jensen\n\
uid: bjensen\n\
telephonenumber: +1 408 555 1212\n\
description: Babs is a big sailing fan, and travels extensively in sea\n \
rch of perfect sailing conditions.\n\
title: Product Manager, Rod and Reel Division\n\
\n\
dn: cn=Bjorn Jensen, ou=Accounting, dc=airius, dc=com\n\
objectclass: top\n\
objectclass: person\n\
objectclass: organizationalPerson\n\
cn: Bjorn Jensen\n\
sn: Jensen\n\
telephonenumber: +1 408 555 1212\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 2);
        let babs = &r.records[0];
        assert_eq!(babs.key, "bjensen");
        assert_eq!(babs.str("display_name"), Some("Barbara Jensen"));
        assert_eq!(babs.str("family_name"), Some("Jensen"));
        let desc = &babs.extra["description"];
        assert_eq!(
            desc.value.display(),
            "Babs is a big sailing fan, and travels extensively in search of perfect sailing conditions."
        );
        // The span of a folded value covers the whole folded range.
        let folded = slice(text, desc.span);
        assert!(folded.starts_with("Babs is") && folded.ends_with("conditions."));
        assert!(folded.contains("sea\n rch"));
        assert_eq!(
            babs.extra["telephonenumber"].value.display(),
            "+1 408 555 1212"
        );
        // Without a uid the key is the dn.
        assert_eq!(
            r.records[1].key,
            "cn=Bjorn Jensen, ou=Accounting, dc=airius, dc=com"
        );
        assert!(slice(text, r.records[0].span).starts_with("dn: cn=Barbara"));
        assert!(slice(text, r.records[0].span).ends_with("Reel Division"));
    }

    /// RFC 2849 example 3: a base64 value with a control character; a base64 dn.
    #[test]
    fn rfc_2849_base64_values() {
        let text = "version: 1\n\
dn:: dWlkPWrDtnJnLG91PVBlb3BsZSxkYz1leGFtcGxl\n\
objectclass: person\n\
uid:: asO2cmc=\n\
description:: V2hhdCBhIGNhcmVmdWwgcmVhZGVyIHlvdSBhcmUhICBUaGlzIHZhbHVlIGlzIGJhc2UtNjQtZW5\n \
jb2RlZCBiZWNhdXNlIGl0IGhhcyBhIGNvbnRyb2wgY2hhcmFjdGVyIGluIGl0IChhIENSKS4NICBCeSB0aGUgd2F5\n \
LCB5b3Ugc2hvdWxkIHJlYWxseSBnZXQgb3V0IG1vcmUu\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let rec = &r.records[0];
        assert_eq!(rec.key, "jörg");
        assert_eq!(
            rec.extra["dn"].value.display(),
            "uid=jörg,ou=People,dc=example"
        );
        let d = rec.extra["description"].value.display();
        assert!(d.starts_with("What a careful reader") && d.ends_with("get out more."));
        assert_eq!(
            slice(text, rec.span_of("username").unwrap_or_default()),
            "asO2cmc="
        );
    }

    #[test]
    fn comments_and_folded_comments_are_dropped() {
        let text = "# exported by a fictional directory\n# a folded comment\n continues here\nversion: 1\n\ndn: uid=a,dc=x\n# inside an entry\nobjectClass: inetOrgPerson\nuid: a\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.records[0].key, "a");
    }

    /// RFC 2849 examples 6 (change records): add is content, delete marks the account deleted,
    /// modify and moddn are skipped with a warning.
    #[test]
    fn change_records() {
        let text = "version: 1\n\
dn: uid=neu,ou=People,dc=example\n\
changetype: add\n\
objectclass: inetOrgPerson\n\
uid: neu\n\
sn: Neumann\n\
\n\
dn: uid=alt,ou=People,dc=example\n\
changetype: delete\n\
\n\
dn: cn=Gruppe,ou=Groups,dc=example\n\
changetype: delete\n\
\n\
dn: uid=mod,ou=People,dc=example\n\
changetype: modify\n\
add: postaladdress\n\
postaladdress: 123 Anystreet $ Sunnyvale, CA $ 94086\n\
-\n\
delete: description\n\
-\n\
\n\
dn: uid=mv,ou=People,dc=example\n\
changetype: moddn\n\
newrdn: uid=mv2\n\
deleteoldrdn: 1\n";
        let r = read_text(text);
        assert_eq!(
            codes(&r),
            vec![
                "konform::input::ldif-change-record",
                "konform::input::ldif-change-record"
            ]
        );
        assert!(r.problems.iter().all(|p| p.level == ProblemLevel::Warning));
        assert_eq!(primary(text, &r.problems[0]), "modify");
        let keys: Vec<&str> = r.records.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, vec!["neu", "alt"]);
        assert_eq!(r.records[0].str("family_name"), Some("Neumann"));
        assert!(r.records[0].get("state").is_none());
        assert_eq!(r.records[1].str("state"), Some("deleted"));
        assert_eq!(
            slice(text, r.records[1].span_of("state").unwrap_or_default()),
            "delete"
        );
    }

    #[test]
    fn unknown_changetype_is_an_error() {
        let text = "dn: uid=a,dc=x\nchangetype: rename\nuid: a\n";
        let r = read_text(text);
        assert_eq!(
            primary(text, problem(&r, "input::ldif-changetype")),
            "rename"
        );
    }

    #[test]
    fn ucsschool_export() {
        let text = include_str!("../../tests/fixtures/ldif/ucsschool-export.ldif");
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let keys: Vec<&str> = r.records.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, vec!["anna.berg", "jonas.koehler", "vertretung1"]);

        let anna = &r.records[0];
        assert_eq!(anna.str("username"), Some("anna.berg"));
        assert_eq!(anna.str("given_name"), Some("Anna"));
        assert_eq!(anna.str("family_name"), Some("Berg"));
        assert_eq!(anna.str("display_name"), Some("Anna Berg"));
        assert_eq!(anna.str("email"), Some("anna.berg@gym1.schule.example"));
        assert_eq!(set(anna, "roles"), vec!["teacher"]);
        assert_eq!(set(anna, "schools"), vec!["gym1"]);
        // memberOf and the posixGroup entry agree on gym1-5a; no duplicate.
        assert_eq!(set(anna, "groups"), vec!["gym1-5a", "lehrer-gym1"]);
        assert_eq!(
            anna.get("created").and_then(|a| a.value.as_date()),
            NaiveDate::from_ymd_opt(2023, 8, 1)
        );
        assert_eq!(
            anna.get("valid_until").and_then(|a| a.value.as_date()),
            NaiveDate::from_ymd_opt(2027, 1, 1)
        );
        assert_eq!(
            anna.get("password_present").and_then(|a| a.value.as_bool()),
            Some(true)
        );
        // No secret is kept anywhere.
        for attr in anna.attrs.values().chain(anna.extra.values()) {
            let v = attr.value.display();
            assert!(!v.contains("notarealhash") && !v.contains("0123456789ABCDEF"));
        }
        assert!(
            !anna
                .extra
                .keys()
                .any(|k| k.eq_ignore_ascii_case("sambaNTPassword"))
        );
        assert_eq!(
            anna.extra["entryUUID"].value.display(),
            "3f1c2a10-1111-4c7e-9a00-000000000001"
        );
        assert_eq!(
            anna.extra["description"].value.display(),
            "Klassenleitung 5a"
        );
        assert_eq!(
            slice(text, anna.span_of("username").unwrap_or_default()),
            "anna.berg"
        );
        assert_eq!(
            slice(text, anna.span_of("created").unwrap_or_default()),
            "20230801073000Z"
        );

        let jonas = &r.records[1];
        assert_eq!(jonas.str("family_name"), Some("Köhler"));
        assert_eq!(set(jonas, "roles"), vec!["student"]);
        // Groups only from the posixGroup entry: the span points at its memberUid line.
        assert_eq!(set(jonas, "groups"), vec!["gym1-5a"]);
        assert_eq!(
            slice(text, jonas.span_of("groups").unwrap_or_default()),
            "jonas.koehler"
        );
        assert_eq!(
            jonas.get("valid_until").and_then(|a| a.value.as_date()),
            NaiveDate::from_ymd_opt(2027, 7, 31)
        );
        assert!(jonas.get("password_present").is_none());

        let vertretung = &r.records[2];
        assert_eq!(set(vertretung, "roles"), vec!["teacher"]);
        assert_eq!(vertretung.str("display_name"), Some("Vertretung 1"));
        assert_eq!(
            vertretung.extra["sambaAcctFlags"].value.display(),
            "[UD         ]"
        );
    }

    #[test]
    fn multi_valued_attributes_span_all_their_lines() {
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\nemployeeType: Lehrkraft\nemployeeType: Admin\n";
        let r = read_text(text);
        let a = &r.records[0];
        assert_eq!(set(a, "roles"), vec!["admin", "teacher"]);
        assert_eq!(
            slice(text, a.span_of("roles").unwrap_or_default()),
            "Lehrkraft\nemployeeType: Admin"
        );
    }

    #[test]
    fn member_entries_give_groups_by_dn() {
        let text = "dn: uid=a,ou=People,dc=x\nobjectClass: inetOrgPerson\nuid: a\n\n\
dn: cn=Chor,ou=Groups,dc=x\nobjectClass: groupOfNames\ncn: Chor\nmember: UID=a, ou=people,dc=x\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(set(&r.records[0], "groups"), vec!["Chor"]);
    }

    #[test]
    fn attribute_names_are_case_insensitive_and_options_are_kept() {
        let text = "dn: uid=a,dc=x\nOBJECTCLASS: InetOrgPerson\nUID: a\nGIVENNAME;lang-de: Anna\ncn;lang-de: Anna B\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let a = &r.records[0];
        assert_eq!(a.str("given_name"), Some("Anna"));
        assert_eq!(a.str("display_name"), Some("Anna B"));
    }

    #[test]
    fn configured_mapping_wins() {
        let mut mapping = BTreeMap::new();
        mapping.insert("employeeNumber".to_owned(), "id".to_owned());
        mapping.insert("cn".to_owned(), "ignore".to_owned());
        mapping.insert("schoolEnd".to_owned(), "valid_until".to_owned());
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\nemployeenumber: 4711\ncn: Anna\nschoolEnd: 20260731000000Z\n";
        let r = read(FileId(0), text, &mapping);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let a = &r.records[0];
        assert_eq!(a.str("id"), Some("4711"));
        assert_eq!(a.key, "a");
        assert!(a.get("display_name").is_none() && !a.extra.contains_key("cn"));
        assert_eq!(
            a.get("valid_until").and_then(|v| v.value.as_date()),
            NaiveDate::from_ymd_opt(2026, 7, 31)
        );
    }

    #[test]
    fn crlf_line_ends() {
        let text = "dn: uid=a,dc=x\r\nobjectClass: person\r\nuid: a\r\nsn: Berg\r\n\r\ndn: uid=b,dc=x\r\nobjectClass: person\r\nuid: b\r\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 2);
        assert_eq!(
            slice(
                text,
                r.records[0].span_of("family_name").unwrap_or_default()
            ),
            "Berg"
        );
    }

    #[test]
    fn entries_without_object_classes_are_accounts_when_they_have_a_uid() {
        let r = read_text("dn: uid=a,dc=x\nuid: a\nmail: a@x.example\n\ndn: ou=x,dc=x\nou: x\n");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn malformed_line_is_an_error_at_the_line() {
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\nthis is no attribute\n";
        let r = read_text(text);
        let p = problem(&r, "input::malformed-ldif");
        assert!(p.is_error());
        assert_eq!(primary(text, p), "this is no attribute");
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn continuation_without_a_line_is_an_error() {
        let text = "# comment\n\n continued\ndn: uid=a,dc=x\nobjectClass: person\nuid: a\n";
        let r = read_text(text);
        assert_eq!(
            primary(text, problem(&r, "input::malformed-ldif")),
            " continued"
        );
    }

    #[test]
    fn entry_without_dn_is_an_error() {
        let text = "objectClass: person\nuid: a\n\ndn: uid=b,dc=x\nobjectClass: person\nuid: b\n";
        let r = read_text(text);
        let p = problem(&r, "input::missing-dn");
        assert_eq!(primary(text, p), "objectClass: person");
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn bad_base64_points_at_the_character() {
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\nsn:: S8O2a!xlcg==\n";
        let r = read_text(text);
        let p = problem(&r, "input::bad-base64");
        assert_eq!(primary(text, p), "!");
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\nsn:: S8O2a\n Gxlc\n";
        let r = read_text(text);
        assert_eq!(
            primary(text, problem(&r, "input::bad-base64")),
            "S8O2a\n Gxlc"
        );
    }

    #[test]
    fn binary_values_are_an_error_for_canonical_attributes_only() {
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\njpegPhoto:: /9j/4A==\n";
        let r = read_text(text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.records[0].extra["jpegPhoto"].value.display(),
            "(4 bytes of binary data)"
        );
        let r = read_text("dn: uid=a,dc=x\nobjectClass: person\nuid: a\nsn:: /9j/4A==\n");
        assert!(problem(&r, "input::bad-value").is_error());
    }

    #[test]
    fn url_values_are_not_supported() {
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\njpegPhoto:< file:///tmp/a.jpg\nsn:< file:///tmp/sn\n";
        let r = read_text(text);
        let levels: Vec<ProblemLevel> = r.problems.iter().map(|p| p.level).collect();
        assert_eq!(levels, vec![ProblemLevel::Warning, ProblemLevel::Error]);
        assert_eq!(primary(text, &r.problems[1]), "file:///tmp/sn");
        assert!(r.problems[1].message.contains("`sn`"));
    }

    #[test]
    fn empty_and_account_free_files_are_errors() {
        for text in ["", "\n\n", "# only a comment\n", "version: 1\n"] {
            let r = read_text(text);
            assert!(problem(&r, "input::empty").is_error(), "{text:?}");
        }
        let r = read_text("dn: ou=gym1,dc=x\nobjectClass: organizationalUnit\nou: gym1\n");
        let p = problem(&r, "input::empty");
        assert!(p.message.contains("1 LDIF entry but no accounts"));
        assert!(r.records.is_empty());
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_entries() {
        let text = "dn: uid=a,ou=one,dc=x\nobjectClass: person\nuid: a\n\ndn: uid=a,ou=two,dc=x\nobjectClass: person\nuid: a\n";
        let r = read_text(text);
        let p = problem(&r, "input::duplicate-key");
        assert!(primary(text, p).starts_with("dn: uid=a,ou=two"));
        assert_eq!(p.labels.len(), 2);
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn bad_dates_point_at_the_value() {
        let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\ncreateTimestamp: 2024-13-45\nshadowExpire: never\n";
        let r = read_text(text);
        let bad: Vec<&str> = r
            .problems
            .iter()
            .filter(|p| p.code == "konform::input::bad-date")
            .map(|p| primary(text, p))
            .collect();
        assert_eq!(bad, vec!["2024-13-45", "never"]);
        // Still read, without the bad values; the errors make the input incomplete.
        assert_eq!(r.records.len(), 1);
    }

    #[test]
    fn negative_shadow_expire_means_no_date() {
        let r = read_text("dn: uid=a,dc=x\nobjectClass: person\nuid: a\nshadowExpire: -1\n");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(r.records[0].get("valid_until").is_none());
    }

    #[test]
    fn other_versions_warn() {
        let text = "version: 2\ndn: uid=a,dc=x\nobjectClass: person\nuid: a\n";
        let r = read_text(text);
        assert_eq!(codes(&r), vec!["konform::input::ldif-version"]);
        assert_eq!(r.records.len(), 1);
        assert!(slice(text, r.records[0].span).starts_with("dn:"));
    }

    #[test]
    fn base64_decoder() {
        assert_eq!(decode_base64(""), Ok(Vec::new()));
        assert_eq!(decode_base64("TQ=="), Ok(b"M".to_vec()));
        assert_eq!(decode_base64("TWE="), Ok(b"Ma".to_vec()));
        assert_eq!(decode_base64("TWFu"), Ok(b"Man".to_vec()));
        assert_eq!(decode_base64("TWE"), Ok(b"Ma".to_vec()));
        assert_eq!(decode_base64("+/+/"), Ok(vec![0xfb, 0xff, 0xbf]));
        assert_eq!(decode_base64("TWFu "), Ok(b"Man".to_vec()));
        assert_eq!(decode_base64("TW!u"), Err(2));
        assert_eq!(decode_base64("T"), Err(1));
        assert_eq!(decode_base64("TQ=a"), Err(3));
        assert_eq!(decode_base64("TQ==="), Err(4));
        assert_eq!(decode_base64("TWFuTQ="), Err(7));
    }

    #[test]
    fn generalized_time() {
        let d = NaiveDate::from_ymd_opt(2024, 8, 1);
        assert_eq!(parse_generalized_time("20240801120000Z"), d);
        assert_eq!(parse_generalized_time("20240801120000.5Z"), d);
        assert_eq!(parse_generalized_time("2024080112+0200"), d);
        assert_eq!(parse_generalized_time("20240801"), d);
        assert_eq!(parse_generalized_time("20241301120000Z"), None);
        assert_eq!(parse_generalized_time("2024080112000Z"), None);
        assert_eq!(parse_generalized_time("20240801120000X"), None);
        assert_eq!(parse_generalized_time("2024"), None);
    }

    #[test]
    fn dn_parts_unescape() {
        let parts = dn_parts(r"cn=Berg\, Anna,OU=Lehrer + uid=x,dc=ex\3Dample,cn=K\C3\B6hler");
        assert_eq!(
            parts,
            vec![
                ("cn".into(), "Berg, Anna".into()),
                ("ou".into(), "Lehrer".into()),
                ("uid".into(), "x".into()),
                ("dc".into(), "ex=ample".into()),
                ("cn".into(), "Köhler".into()),
            ]
        );
        assert_eq!(
            normalize_dn("UID=a, OU=People,dc=X"),
            "uid=a,ou=people,dc=x"
        );
    }
}

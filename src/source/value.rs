//! Parsing cell text into typed values: dates, flags, numbers and sets.

use chrono::NaiveDate;

use crate::record::{Text, Value};
use crate::source::columns::{AttrType, Canonical, normalize_value};

/// Why a cell could not be parsed; the message is shown as the label on the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// What is wrong with the value (label text).
    pub label: String,
    /// How to write it instead.
    pub help: String,
    /// A short code suffix (`bad-date`, `bad-flag`, `bad-number`).
    pub code: &'static str,
}

/// Parses a date written as `YYYY-MM-DD`, `DD.MM.YYYY` or an ISO 8601 date-time (the time of
/// day is dropped). Ambiguous forms such as `4/2/2000` are rejected.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = trim(text);
    if let Some(d) = fixed_date(t) {
        return Some(d);
    }
    let date_part = t
        .split_once(['T', ' '])
        .map_or(t, |(d, rest)| if looks_like_time(rest) { d } else { t });
    if let Ok(d) = NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date_part, "%Y/%m/%d"))
    {
        return Some(d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(date_part, "%d.%m.%Y") {
        // chrono accepts two-digit years with %Y; require four digits.
        if date_part.rsplit('.').next().is_some_and(|y| y.len() == 4) {
            return Some(d);
        }
    }
    None
}

/// The common exact forms `YYYY-MM-DD` and `DD.MM.YYYY` without chrono's format parser (a
/// large export has millions of dates); anything else, or an invalid date, is left to it.
fn fixed_date(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    if b.len() != 10 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (y, m, d) = match (b.get(4), b.get(7), b.get(2), b.get(5)) {
        (Some(b'-'), Some(b'-'), _, _) => (num(0..4)?, num(5..7)?, num(8..10)?),
        (_, _, Some(b'.'), Some(b'.')) => (num(6..10)?, num(3..5)?, num(0..2)?),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

fn looks_like_time(rest: &str) -> bool {
    let r = rest.trim();
    r.len() >= 4 && r.as_bytes().first().is_some_and(u8::is_ascii_digit) && r.contains(':')
}

/// Parses a yes/no flag in English, German, Danish or Swedish.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "ja" | "j" | "x" | "wahr" | "on" | "aktiv" | "active" => {
            Some(true)
        }
        "false" | "no" | "n" | "0" | "nein" | "nej" | "falsch" | "off" | "inaktiv" | "inactive" => {
            Some(false)
        }
        _ => None,
    }
}

/// Splits a multi-valued cell on `,`, `|` and `;` (the CSV delimiter never reaches here
/// unquoted), normalises, sorts and deduplicates the items.
pub fn parse_set<'a>(items: impl IntoIterator<Item = &'a str>, canon: &Canonical) -> Vec<Text> {
    let mut out: Vec<Text> = items
        .into_iter()
        .flat_map(|s| s.split([',', '|', ';']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| normalize_value(canon.normalize, s))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `text.trim()`, answered from the first and the last byte when both are printable ASCII (no
/// whitespace there, so nothing to trim: most cells of a list): `str::trim` decodes
/// characters from both ends of every text.
#[inline]
pub fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Parses the text of a cell for a canonical attribute. Returns `Ok(None)` for an empty cell
/// (the attribute is then absent).
pub fn parse_cell(canon: &Canonical, text: &str) -> Result<Option<Value>, ValueError> {
    parse_cell_with(canon, text, false)
}

/// Parses a US date `M/D/YYYY` (Microsoft SDS v1 writes them).
pub fn parse_us_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let date = t.split_once(' ').map_or(t, |(d, _)| d);
    NaiveDate::parse_from_str(date, "%m/%d/%Y")
        .ok()
        .filter(|_| date.rsplit('/').next().is_some_and(|y| y.len() == 4))
}

/// Like [`parse_cell`]; with `us_dates`, dates are read month first (`4/2/2000`).
pub fn parse_cell_with(
    canon: &Canonical,
    text: &str,
    us_dates: bool,
) -> Result<Option<Value>, ValueError> {
    let t = trim(text);
    // Exports write "never" where a date is missing (Google Workspace: `Never logged in`).
    // (ASCII case folding: no other character lower-cases to these ASCII words.)
    // A date's first character is a digit; no word for "never" starts with one.
    if canon.ty == AttrType::Date
        && !t.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && [
            "never",
            "never logged in",
            "nie",
            "niemals",
            "aldrig",
            "-",
            "n/a",
        ]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(None);
    }
    if us_dates
        && canon.ty == AttrType::Date
        && let Some(d) = parse_us_date(t).or_else(|| parse_date(t))
    {
        return Ok(Some(Value::Date(d)));
    }
    if canon.name == "password_present" {
        // Never keep the password itself, only whether one is there.
        // Exports that mask passwords (`****`, Google Workspace) carry none.
        return Ok(Some(Value::Bool(
            !t.is_empty() && !t.chars().all(|c| c == '*'),
        )));
    }
    if t.is_empty() {
        return Ok(None);
    }
    match canon.ty {
        AttrType::Str => Ok(Some(Value::Str(normalize_value(canon.normalize, t)))),
        AttrType::Set => Ok(Some(Value::Set(parse_set([t], canon).into()))),
        AttrType::Bool => parse_bool(t)
            .map(|b| Some(Value::Bool(b)))
            .ok_or_else(|| ValueError {
                label: format!("`{t}` is not a yes/no value"),
                help: format!(
                    "write `{}` as true or false (also yes/no, ja/nein, 1/0)",
                    canon.name
                ),
                code: "bad-flag",
            }),
        AttrType::Long => t
            .parse::<i64>()
            .map(|n| Some(Value::Long(n)))
            .map_err(|_| ValueError {
                label: format!("`{t}` is not a whole number"),
                help: format!("write `{}` as a whole number such as 30", canon.name),
                code: "bad-number",
            }),
        AttrType::Date => parse_date(t)
            .map(|d| Some(Value::Date(d)))
            .ok_or_else(|| ValueError {
                label: format!("`{t}` is not a date"),
                help: format!(
                    "write `{}` as YYYY-MM-DD (ISO 8601) or DD.MM.YYYY, e.g. 2026-08-01",
                    canon.name
                ),
                code: "bad-date",
            }),
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The fast trim is `str::trim`: also for whitespace beyond ASCII and printable
        /// characters at one end only.
        #[test]
        fn trim_is_str_trim(text in "[ \t\u{a0}\u{3000}\r\na~ä]{0,6}") {
            proptest::prop_assert_eq!(super::trim(&text), text.trim());
        }
    }

    use super::*;
    use crate::record::RecordKind;
    use crate::source::columns::by_name;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn dates_in_iso_german_and_datetime_form() {
        assert_eq!(parse_date("2026-08-01"), d(2026, 8, 1));
        assert_eq!(parse_date("01.08.2026"), d(2026, 8, 1));
        assert_eq!(parse_date("1.8.2026"), d(2026, 8, 1));
        assert_eq!(parse_date("2026-08-01T07:30:00Z"), d(2026, 8, 1));
        assert_eq!(parse_date("2026-08-01 07:30"), d(2026, 8, 1));
        assert_eq!(parse_date("4/2/2000"), None);
        assert_eq!(parse_date("31.02.2026"), None);
        assert_eq!(parse_date("01.08.26"), None);
        assert_eq!(parse_date("gestern"), None);
    }

    #[test]
    fn fixed_form_dates_agree_with_chrono() {
        let chrono_only = |t: &str| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .or_else(|| NaiveDate::parse_from_str(t, "%d.%m.%Y").ok())
        };
        for t in [
            "2026-08-01",
            "2024-02-29",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "0000-01-01",
            "01.08.2026",
            "29.02.2024",
            "31.04.2026",
            "00.01.2026",
            "2026-8-01x",
            "2026/08/01",
            "1.8.2026xx",
            "12-34-5678",
            "ab.cd.efgh",
            "2026-08-1 ",
        ] {
            assert_eq!(fixed_date(t).is_some(), chrono_only(t).is_some(), "{t}");
            if let Some(d) = fixed_date(t) {
                assert_eq!(Some(d), chrono_only(t), "{t}");
            }
        }
    }

    #[test]
    fn flags_in_several_languages() {
        assert_eq!(parse_bool("Ja"), Some(true));
        assert_eq!(parse_bool("nej"), Some(false));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("vielleicht"), None);
    }

    #[test]
    fn cells_parse_by_type() -> Result<(), ValueError> {
        let roles = by_name(RecordKind::Account, "roles").ok_or_else(unreachable_err)?;
        assert_eq!(
            parse_cell(roles, "Lehrkraft, Admin")?,
            Some(Value::Set(vec!["admin".into(), "teacher".into()].into()))
        );
        let created = by_name(RecordKind::Account, "created").ok_or_else(unreachable_err)?;
        assert_eq!(parse_cell(created, "  ")?, None);
        let err = parse_cell(created, "13/13/2020");
        assert_eq!(err.map_err(|e| e.code), Err("bad-date"));
        let pw = by_name(RecordKind::Account, "password_present").ok_or_else(unreachable_err)?;
        assert_eq!(parse_cell(pw, "P@ssword123")?, Some(Value::Bool(true)));
        assert_eq!(parse_cell(pw, "")?, Some(Value::Bool(false)));
        Ok(())
    }

    fn unreachable_err() -> ValueError {
        ValueError {
            label: "missing canonical attribute".into(),
            help: String::new(),
            code: "test",
        }
    }
}

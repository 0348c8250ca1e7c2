//! National identity numbers: Swedish personnummer (Luhn check), Danish CPR (valid date) and
//! German Steuer-ID (ISO 7064 MOD 11,10 check digit and digit-frequency rule).
//!
//! Used by the `national_id` fact to find such numbers where they do not belong (usernames,
//! e-mail addresses, ids). Numbers are searched as runs of digits (with the usual separators)
//! not adjacent to other digits, then validated, so that ordinary ids rarely match.

use chrono::NaiveDate;

/// A kind of national identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Swedish personnummer or samordningsnummer: `YYMMDD-NNNN`, `YYYYMMDDNNNN`, Luhn-checked.
    SePersonnummer,
    /// Danish CPR number: `DDMMYY-NNNN` with a valid date.
    DkCpr,
    /// German tax identification number: 11 digits with a valid check digit.
    DeSteuerId,
}

impl IdKind {
    /// Parses a kind name from pack.yaml.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "se_personnummer" => Some(Self::SePersonnummer),
            "dk_cpr" => Some(Self::DkCpr),
            "de_steuer_id" => Some(Self::DeSteuerId),
            _ => None,
        }
    }

    /// All kind names, for help texts.
    pub const NAMES: &'static [&'static str] = &["se_personnummer", "dk_cpr", "de_steuer_id"];
}

/// Runs of digits in `text`, allowing one `-`, `+` or space between digit groups, as
/// (digits only, whether a separator was present). Runs touching other digits are whole runs.
fn digit_runs(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
            continue;
        }
        let mut digits = String::new();
        let mut sep = false;
        while let Some(&c) = chars.get(i) {
            if c.is_ascii_digit() {
                digits.push(c);
                i += 1;
            } else if matches!(c, '-' | '+' | ' ')
                && !sep
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                && (digits.len() == 6 || digits.len() == 8)
            {
                sep = true;
                i += 1;
            } else {
                break;
            }
        }
        out.push((digits, sep));
    }
    out
}

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(d) = c.to_digit(10) else {
            return false;
        };
        let v = if i % 2 == 1 { d * 2 } else { d };
        sum += if v > 9 { v - 9 } else { v };
    }
    sum % 10 == 0
}

fn date_ok(year: i32, month: u32, day: u32) -> bool {
    NaiveDate::from_ymd_opt(year, month, day).is_some()
}

fn two(digits: &str, at: usize) -> Option<u32> {
    digits.get(at..at + 2)?.parse().ok()
}

/// Whether `digits` (10 or 12 digits) is a valid Swedish personnummer or samordningsnummer.
pub fn is_se_personnummer(digits: &str) -> bool {
    let ten = match digits.len() {
        10 => digits,
        12 => digits.get(2..).unwrap_or(""),
        _ => return false,
    };
    let (Some(yy), Some(mm), Some(dd)) = (two(ten, 0), two(ten, 2), two(ten, 4)) else {
        return false;
    };
    let day = if dd > 60 { dd - 60 } else { dd }; // samordningsnummer
    let year = 2000 + i32::try_from(yy).unwrap_or(0);
    date_ok(year, mm, day) && luhn_ok(ten)
}

/// Whether `digits` (10 digits) is a Danish CPR number with a valid date.
pub fn is_dk_cpr(digits: &str) -> bool {
    if digits.len() != 10 {
        return false;
    }
    let (Some(dd), Some(mm), Some(yy)) = (two(digits, 0), two(digits, 2), two(digits, 4)) else {
        return false;
    };
    // The century follows from the 7th digit; any century makes the date check the same but
    // for 29 February, so check both candidate centuries.
    let y = i32::try_from(yy).unwrap_or(0);
    date_ok(1900 + y, mm, dd) || date_ok(2000 + y, mm, dd)
}

/// Whether `digits` (11 digits) is a valid German Steuer-ID.
pub fn is_de_steuer_id(digits: &str) -> bool {
    if digits.len() != 11 || digits.starts_with('0') {
        return false;
    }
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 11 {
        return false;
    }
    // In the first ten digits exactly one digit occurs two or three times, the others once.
    let mut counts = [0u8; 10];
    for &x in d.iter().take(10) {
        if let Some(c) = counts.get_mut(x as usize) {
            *c += 1;
        }
    }
    let repeated = counts.iter().filter(|&&c| c >= 2).count();
    if repeated != 1 || counts.iter().any(|&c| c > 3) {
        return false;
    }
    // ISO 7064 MOD 11,10.
    let mut product = 10;
    for &x in d.iter().take(10) {
        let mut sum = (x + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    d.get(10) == Some(&check)
}

/// The number of ASCII digits in `bytes`, counted eight bytes at a time (every text of the
/// attributes the fact reads is counted: a username, an address and an id per account).
fn ascii_digits(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let (words, rest) = bytes.as_chunks::<8>();
    let mut n = 0;
    for word in words {
        let w = u64::from_le_bytes(*word);
        // The low seven bits of each byte, plus 0x50 or 0x46: the high bit is then set where
        // they are at least 0x30 ('0') or at least 0x3a (past '9'); no sum carries into the
        // next byte (0x7f + 0x50 < 0x100). Bytes of 0x80 and above are no ASCII digits.
        let low = w & !HIGH;
        let from_zero = low + 0x50 * ONES;
        let past_nine = low + 0x46 * ONES;
        let digits = from_zero & !past_nine & !w & HIGH;
        n += digits.count_ones() as usize;
    }
    n + rest.iter().filter(|b| b.is_ascii_digit()).count()
}

/// Whether `text` contains a national id number of one of `kinds`.
pub fn contains(text: &str, kinds: &[IdKind]) -> bool {
    // Every kind has at least ten digits: most texts (names, usernames) have far fewer, and
    // many are shorter than that (ids, short usernames).
    if text.len() < 10 || ascii_digits(text.as_bytes()) < 10 {
        return false;
    }
    digit_runs(text).iter().any(|(digits, _)| {
        kinds.iter().any(|k| match k {
            IdKind::SePersonnummer => is_se_personnummer(digits),
            IdKind::DkCpr => is_dk_cpr(digits),
            IdKind::DeSteuerId => is_de_steuer_id(digits),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_counted_eight_bytes_at_a_time() {
        // Every byte value, at every place in a word and in the rest.
        for b in 0..=255u8 {
            for len in [1, 7, 8, 9, 16, 17] {
                for at in 0..len {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    assert_eq!(
                        ascii_digits(&bytes),
                        usize::from(b.is_ascii_digit()),
                        "{b:#x} at {at} of {len}"
                    );
                }
            }
        }
        let text = "0123456789/:ä٣ 98 anna.19811218-9876@skola.example";
        let naive = text.bytes().filter(u8::is_ascii_digit).count();
        assert_eq!(ascii_digits(text.as_bytes()), naive);
        assert_eq!(ascii_digits(b""), 0);
    }

    #[test]
    fn swedish_personnummer_with_luhn() {
        // Skatteverket's documented test number 811218-9876.
        assert!(contains("811218-9876", &[IdKind::SePersonnummer]));
        assert!(contains(
            "anna.19811218-9876@skola.example",
            &[IdKind::SePersonnummer]
        ));
        assert!(contains("198112189876", &[IdKind::SePersonnummer]));
        assert!(
            !contains("811218-9875", &[IdKind::SePersonnummer]),
            "wrong check digit"
        );
        assert!(
            !contains("811318-9876", &[IdKind::SePersonnummer]),
            "month 13"
        );
        assert!(!contains("anna.berg", &[IdKind::SePersonnummer]));
        assert!(
            !contains("1811218-98761", &[IdKind::SePersonnummer]),
            "longer digit run"
        );
    }

    #[test]
    fn danish_cpr_needs_a_valid_date() {
        assert!(contains("020304-1234", &[IdKind::DkCpr]));
        assert!(contains("elev0203041234", &[IdKind::DkCpr]));
        assert!(!contains("320304-1234", &[IdKind::DkCpr]), "day 32");
        assert!(!contains("12345", &[IdKind::DkCpr]));
    }

    #[test]
    fn german_steuer_id_check_digit() {
        // A valid example number from the BZSt test data description: 86095742719.
        assert!(is_de_steuer_id("86095742719"));
        assert!(!is_de_steuer_id("86095742718"), "wrong check digit");
        assert!(!is_de_steuer_id("01234567890"), "leading zero");
        assert!(!is_de_steuer_id("12345678901"), "no repeated digit");
        assert!(contains("id-86095742719", &[IdKind::DeSteuerId]));
    }
}

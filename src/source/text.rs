//! Decoding input bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, Windows-1252.
//!
//! Exports from office tools and school administration systems come in many encodings. Spans
//! everywhere else refer to the decoded UTF-8 text.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The result of decoding a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text, without a byte-order mark: the bytes themselves when they are UTF-8.
    pub text: std::borrow::Cow<'a, str>,
    /// The name of the encoding it was decoded from.
    pub encoding: &'static str,
    /// Whether the encoding was guessed (no BOM, no declaration, not valid UTF-8).
    pub guessed: bool,
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The declared encoding name is not known.
    #[error("unknown encoding `{0}`")]
    UnknownEncoding(String),
    /// The file is not valid in its (declared or detected) encoding.
    #[error("the file is not valid {encoding}: invalid byte at offset {offset}")]
    Invalid {
        /// The encoding.
        encoding: &'static str,
        /// The byte offset of the first invalid byte.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
    },
    /// The file contains NUL bytes and no UTF-16 byte-order mark: it is binary.
    #[error("the file contains NUL bytes (offset {0}); it looks like a binary file")]
    Binary(usize),
}

/// Looks up an encoding by a label such as `utf-8`, `windows-1252`, `latin1`, `utf-16le`.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let l = label.trim().to_ascii_lowercase();
    match l.as_str() {
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "cp1252" | "ansi" => Some(WINDOWS_1252),
        "utf8" => Some(UTF_8),
        "utf16le" | "utf-16" => Some(UTF_16LE),
        "utf16be" => Some(UTF_16BE),
        _ => Encoding::for_label(l.as_bytes()),
    }
}

/// Decodes `bytes`. With `declared`, the file must be valid in that encoding (a BOM still
/// wins, as browsers do). Without, a BOM decides; otherwise UTF-8 if valid, else Windows-1252
/// (what German, Danish and Swedish Excel writes), marked as guessed.
pub fn decode<'a>(
    bytes: &'a [u8],
    declared: Option<&'static Encoding>,
) -> Result<Decoded<'a>, DecodeError> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        return decode_strict(body, enc, bom_len, false);
    }
    if let Some(enc) = declared {
        return decode_strict(bytes, enc, 0, false);
    }
    if let Some(pos) = memchr_nul(bytes) {
        return Err(DecodeError::Binary(pos));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Decoded {
            text: s.into(),
            encoding: "UTF-8",
            guessed: false,
        }),
        Err(e) => {
            // Windows-1252 is guessed only for text that is plausibly Windows-1252: a file
            // with well-formed UTF-8 sequences beside invalid ones is broken (mixed or cut)
            // UTF-8, and bytes Windows-1252 leaves undefined decode to control characters.
            if has_utf8_sequence(bytes) || bytes.iter().any(|b| UNDEFINED_1252.contains(b)) {
                return Err(invalid_utf8(bytes, e.valid_up_to(), 0));
            }
            decode_strict(bytes, WINDOWS_1252, 0, true)
        }
    }
}

/// The error for invalid UTF-8 at `offset` of `bytes` (which start `base` bytes into the file).
fn invalid_utf8(bytes: &[u8], offset: usize, base: usize) -> DecodeError {
    let line = 1 + bytes
        .get(..offset)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    DecodeError::Invalid {
        encoding: "UTF-8",
        offset: base + offset,
        line,
    }
}

/// Bytes that Windows-1252 does not define.
const UNDEFINED_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Whether `bytes` hold a well-formed multi-byte UTF-8 sequence (`ü` as `C3 BC`, …).
fn has_utf8_sequence(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let len = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => {
                i += 1;
                continue;
            }
        };
        if bytes
            .get(i..i + len)
            .is_some_and(|seq| std::str::from_utf8(seq).is_ok())
        {
            return true;
        }
        i += 1;
    }
    false
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

fn decode_strict<'a>(
    bytes: &'a [u8],
    enc: &'static Encoding,
    base: usize,
    guessed: bool,
) -> Result<Decoded<'a>, DecodeError> {
    if enc == UTF_8 {
        return match std::str::from_utf8(bytes) {
            Ok(s) => {
                if let Some(pos) = memchr_nul(bytes) {
                    return Err(DecodeError::Binary(base + pos));
                }
                Ok(Decoded {
                    text: s.into(),
                    encoding: "UTF-8",
                    guessed,
                })
            }
            Err(e) => Err(invalid_utf8(bytes, e.valid_up_to(), base)),
        };
    }
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if had_errors {
        // Find the first replacement character to report a position in the decoded text.
        let line = text
            .find('\u{FFFD}')
            .map_or(1, |i| 1 + text.get(..i).unwrap_or("").matches('\n').count());
        return Err(DecodeError::Invalid {
            encoding: enc.name(),
            offset: base,
            line,
        });
    }
    if let Some(pos) = text.find('\0') {
        return Err(DecodeError::Binary(pos));
    }
    Ok(Decoded {
        text: text.into_owned().into(),
        encoding: enc.name(),
        guessed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        let d = decode(b"\xEF\xBB\xBFid;Vorname\n", None);
        assert_eq!(
            d.map(|d| d.text.into_owned()),
            Ok("id;Vorname\n".to_owned())
        );
        let d = decode("a;ä\n".as_bytes(), None);
        assert_eq!(
            d.map(|d| (d.text.into_owned(), d.guessed)),
            Ok(("a;ä\n".to_owned(), false))
        );
    }

    #[test]
    fn windows_1252_is_guessed_when_not_utf8() {
        let d = decode(b"Sch\xfcler;M\xfcller\n", None);
        assert_eq!(
            d.map(|d| (d.text.into_owned(), d.encoding, d.guessed)),
            Ok(("Schüler;Müller\n".to_owned(), "windows-1252", true))
        );
    }

    #[test]
    fn utf16_both_byte_orders() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a\tä\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            decode(&le, None).map(|d| d.text.into_owned()),
            Ok("a\tä\n".to_owned())
        );
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a;ü\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(
            decode(&be, None).map(|d| (d.text.into_owned(), d.encoding)),
            Ok(("a;ü\n".to_owned(), "UTF-16BE"))
        );
    }

    #[test]
    fn declared_utf8_rejects_invalid_bytes_with_line() {
        let e = decode(b"id\nok\nbad \xff\n", Some(UTF_8));
        assert_eq!(
            e,
            Err(DecodeError::Invalid {
                encoding: "UTF-8",
                offset: 10,
                line: 3
            })
        );
    }

    #[test]
    fn mixed_or_undefined_bytes_are_not_guessed_as_windows_1252() {
        // `Müller` once in UTF-8, once in Windows-1252: broken UTF-8, not Windows-1252.
        let mixed = b"a;M\xc3\xbcller\nb;M\xfcller\n";
        assert!(matches!(
            decode(mixed, None),
            Err(DecodeError::Invalid {
                offset: 13,
                line: 2,
                ..
            })
        ));
        assert!(matches!(
            decode(b"a;b\x81c\n", None),
            Err(DecodeError::Invalid { offset: 3, .. })
        ));
        assert!(decode(b"a;M\xfcller\n", None).is_ok_and(|d| d.guessed));
    }

    #[test]
    fn nul_bytes_are_binary() {
        assert_eq!(decode(b"ab\0cd", None), Err(DecodeError::Binary(2)));
    }

    #[test]
    fn labels() {
        assert_eq!(encoding_for_label("Latin1"), Some(WINDOWS_1252));
        assert_eq!(encoding_for_label("utf-8"), Some(UTF_8));
        assert_eq!(encoding_for_label("UTF-16LE"), Some(UTF_16LE));
        assert_eq!(encoding_for_label("klingon"), None);
    }
}

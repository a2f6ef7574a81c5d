//! Dictionary coding (`#DI|`): eight frequent chat-JSON fragments become one
//! code point each, U+0080..U+0087 (the spec's codes 0x80..0x87).
//!
//! Lossless for every string: an input code point in U+0080..U+0088 (the codes
//! and the escape itself) is written as the escape U+0088 followed by that code
//! point. These are C1 control characters, which real text almost never holds.

use crate::error::{Error, Result};

/// The fragments, by code (U+0080 + index).
pub const PATTERNS: [&str; 8] = [
    r#"{"role":"user","content":""#,
    r#"{"role":"assistant","content":""#,
    r#"{"role":"system","content":""#,
    r#""}"#,
    r#""},"#,
    r#""}]"#,
    r#"{"messages":["#,
    r#"{"model":""#,
];

const FIRST_CODE: u32 = 0x80;
const ESCAPE: char = '\u{88}';

/// Replaces every fragment with its code, escaping code points in the
/// reserved range. Longer fragments win where two could start at a position.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while let Some(c) = rest.chars().next() {
        if c == '{' || c == '"' {
            // `"},` and `"}]` before `"}`: try the candidates longest first.
            for (i, pattern) in longest_first() {
                if rest.starts_with(pattern) {
                    out.push(code_char(i));
                    rest = &rest[pattern.len()..];
                    continue 'outer;
                }
            }
        }
        if (FIRST_CODE..=ESCAPE as u32).contains(&(c as u32)) {
            out.push(ESCAPE);
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Expands codes back to their fragments, producing at most `max` bytes.
///
/// # Errors
/// [`Error::DecompressionFailed`] for an escape not followed by a reserved
/// code point; [`Error::ContentTooLarge`] when the output would exceed `max`.
pub fn decode(text: &str, max: usize) -> Result<String> {
    let mut out = String::with_capacity(text.len().saturating_mul(2).min(max));
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if out.len() > max {
            return Err(Error::ContentTooLarge {
                limit: "decompressed size",
                max,
                actual: out.len(),
            });
        }
        let cp = c as u32;
        if c == ESCAPE {
            match chars.next() {
                Some((_, e)) if (FIRST_CODE..=ESCAPE as u32).contains(&(e as u32)) => out.push(e),
                _ => {
                    return Err(Error::DecompressionFailed {
                        detail: format!("dictionary: dangling escape at byte {at}"),
                    })
                }
            }
        } else if (FIRST_CODE..FIRST_CODE + PATTERNS.len() as u32).contains(&cp) {
            out.push_str(PATTERNS[(cp - FIRST_CODE) as usize]);
        } else {
            out.push(c);
        }
    }
    if out.len() > max {
        return Err(Error::ContentTooLarge {
            limit: "decompressed size",
            max,
            actual: out.len(),
        });
    }
    Ok(out)
}

/// The code of each fragment, by index.
const CODES: [char; 8] = [
    '\u{80}', '\u{81}', '\u{82}', '\u{83}', '\u{84}', '\u{85}', '\u{86}', '\u{87}',
];

fn code_char(index: usize) -> char {
    CODES[index]
}

fn longest_first() -> impl Iterator<Item = (usize, &'static str)> {
    // By decreasing length, so `"},` and `"}]` are tried before `"}`.
    const ORDER: [usize; 8] = [1, 2, 0, 6, 7, 4, 5, 3];
    ORDER.iter().map(|&i| (i, PATTERNS[i]))
}

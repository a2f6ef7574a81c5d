//! UTF-16 text, as JavaScript strings hold it: its UTF-8 length, and its
//! conversion to UTF-8. The Node addon reads strings as UTF-16 (a copy in V8)
//! and converts them here, which is faster than V8's own UTF-8 writer, and
//! checks them for lone surrogates without a second pass in JavaScript.

/// Where a lone surrogate (half of a UTF-16 pair) stands in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoneSurrogate {
    /// Its index, in UTF-16 units.
    pub index: usize,
    /// The unit itself (0xD800 to 0xDFFF).
    pub unit: u16,
}

/// Units looked at together on the ASCII fast path.
const CHUNK: usize = 16;

/// The next `CHUNK` units at `i` as bytes, when they are all ASCII.
fn ascii_chunk(units: &[u16], i: usize) -> Option<[u8; CHUNK]> {
    let chunk = units.get(i..i + CHUNK)?;
    if chunk.iter().fold(0, |acc, &u| acc | u) >= 0x80 {
        return None;
    }
    let mut bytes = [0u8; CHUNK];
    for (b, &u) in bytes.iter_mut().zip(chunk) {
        *b = u as u8;
    }
    Some(bytes)
}

/// Whether `units[i]` is a high surrogate followed by a low one.
fn is_pair_at(units: &[u16], i: usize) -> bool {
    (0xd800..0xdc00).contains(&units[i])
        && units
            .get(i + 1)
            .map_or(false, |&u| (0xdc00..0xe000).contains(&u))
}

/// How many leading units are ASCII, looked at `CHUNK` at a time.
fn ascii_prefix(units: &[u16]) -> usize {
    let mut n = 0;
    for chunk in units.chunks_exact(CHUNK) {
        if chunk.iter().fold(0, |acc, &u| acc | u) >= 0x80 {
            break;
        }
        n += CHUNK;
    }
    n + units[n..].iter().take_while(|&&u| u < 0x80).count()
}

/// The UTF-8 length of UTF-16 text.
///
/// # Errors
/// The first [`LoneSurrogate`], which UTF-8 cannot carry.
pub fn utf8_len(units: &[u16]) -> Result<usize, LoneSurrogate> {
    let mut len = 0;
    let mut i = 0;
    while i < units.len() {
        let ascii = ascii_prefix(&units[i..]);
        len += ascii;
        i += ascii;
        while i < units.len() && units[i] >= 0x80 {
            let unit = units[i];
            len += match unit {
                0x80..=0x7ff => 2,
                0xd800..=0xdfff if is_pair_at(units, i) => {
                    i += 1;
                    4
                }
                0xd800..=0xdfff => return Err(LoneSurrogate { index: i, unit }),
                _ => 3,
            };
            i += 1;
        }
    }
    Ok(len)
}

/// UTF-16 text as UTF-8, with each lone surrogate replaced by U+FFFD (as a
/// JavaScript engine's UTF-8 encoder does). ASCII is narrowed sixteen units
/// at a time.
pub fn to_utf8_lossy(units: &[u16]) -> String {
    let mut out = Vec::with_capacity(units.len() + units.len() / 2);
    let mut i = 0;
    while i < units.len() {
        if let Some(bytes) = ascii_chunk(units, i) {
            out.extend_from_slice(&bytes);
            i += CHUNK;
            continue;
        }
        let u = units[i];
        match u {
            0..=0x7f => out.push(u as u8),
            0x80..=0x7ff => {
                out.extend_from_slice(&[0xc0 | (u >> 6) as u8, 0x80 | (u & 0x3f) as u8])
            }
            0xd800..=0xdfff if is_pair_at(units, i) => {
                i += 1;
                let c = 0x10000 + ((u32::from(u) - 0xd800) << 10) + (u32::from(units[i]) - 0xdc00);
                out.extend_from_slice(&[
                    0xf0 | (c >> 18) as u8,
                    0x80 | ((c >> 12) & 0x3f) as u8,
                    0x80 | ((c >> 6) & 0x3f) as u8,
                    0x80 | (c & 0x3f) as u8,
                ]);
            }
            0xd800..=0xdfff => out.extend_from_slice("\u{fffd}".as_bytes()),
            _ => out.extend_from_slice(&[
                0xe0 | (u >> 12) as u8,
                0x80 | ((u >> 6) & 0x3f) as u8,
                0x80 | (u & 0x3f) as u8,
            ]),
        }
        i += 1;
    }
    debug_assert!(std::str::from_utf8(&out).is_ok());
    // SAFETY: `out` holds ASCII units narrowed to bytes, the standard UTF-8
    // forms of the other units (pairs as one code point, a lone surrogate as
    // U+FFFD), so it is valid UTF-8.
    unsafe { String::from_utf8_unchecked(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn ascii_mixed_and_astral_text() {
        for s in [
            "",
            "a",
            "hello world, a longer ASCII line of text",
            "é",
            "日本語",
            "𝄞x",
            "a\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
        ] {
            assert_eq!(utf8_len(&units(s)), Ok(s.len()), "{s:?}");
            assert_eq!(to_utf8_lossy(&units(s)), s);
        }
    }

    #[test]
    fn lone_surrogates_are_found_and_replaced() {
        let cases: [(&[u16], usize, u16); 4] = [
            (&[0xd800], 0, 0xd800),
            (&[0x61, 0xdc00, 0x62], 1, 0xdc00),
            (&[0xd83d, 0xde00, 0xd83d], 2, 0xd83d),
            (&[0xd800, 0xd800, 0xdc00], 0, 0xd800),
        ];
        for (u, index, unit) in cases {
            assert_eq!(utf8_len(u), Err(LoneSurrogate { index, unit }));
            assert_eq!(to_utf8_lossy(u), String::from_utf16_lossy(u));
        }
    }

    proptest! {
        /// Both agree with the standard library on any units, valid or not.
        #[test]
        fn agrees_with_std(u in proptest::collection::vec(prop_oneof![0u16..0x80, 0x80u16..0x800, any::<u16>(), 0xd800u16..0xe000], 0..200)) {
            let std = String::from_utf16(&u);
            match utf8_len(&u) {
                Ok(n) => prop_assert_eq!(n, std.unwrap().len()),
                Err(LoneSurrogate { index, unit }) => {
                    prop_assert!(std.is_err());
                    prop_assert_eq!(u[index], unit);
                    prop_assert!(String::from_utf16(&u[..index]).is_ok());
                }
            }
            prop_assert_eq!(to_utf8_lossy(&u), String::from_utf16_lossy(&u));
        }
    }
}

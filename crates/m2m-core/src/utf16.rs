//! UTF-16 text, as JavaScript strings hold it: its UTF-8 length, and its
//! conversion to UTF-8. The Node addon reads strings as UTF-16 (a copy in V8)
//! and converts them here, which is faster than V8's own UTF-8 writer, and
//! checks them for lone surrogates without a second pass in JavaScript. The
//! other way, it makes UTF-16 for V8, which copies UTF-16 but decodes UTF-8
//! character by character.

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

/// Whether all `units` are ASCII (a branch-free test the compiler widens).
fn all_ascii(units: &[u16]) -> bool {
    units.iter().fold(0, |acc, &u| acc | u) < 0x80
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
        if !all_ascii(chunk) {
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
/// JavaScript engine's UTF-8 encoder does). ASCII runs are found sixteen
/// units at a time and narrowed in one go.
pub fn to_utf8_lossy(units: &[u16]) -> String {
    let mut out = Vec::with_capacity(units.len() + units.len() / 2);
    let mut i = 0;
    while i < units.len() {
        let ascii = ascii_prefix(&units[i..]);
        out.extend(units[i..i + ascii].iter().map(|&u| u as u8));
        i += ascii;
        if i == units.len() {
            break;
        }
        let u = units[i];
        match u {
            0..=0x7f => out.push(u as u8), // not reached: ascii_prefix took the ASCII run
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

/// `text` as UTF-16 units (see [`from_utf8_bytes`]).
pub fn from_utf8(text: &str) -> Vec<u16> {
    from_utf8_bytes(text.as_bytes()).unwrap_or_else(|_| unreachable!("a str is UTF-8"))
}

/// UTF-8 bytes as UTF-16 units, checked as they are converted (one pass,
/// where checking the bytes as a `str` first would be a second). ASCII is
/// widened sixteen bytes at a time.
///
/// # Errors
/// The length of the longest valid UTF-8 prefix when the bytes are not UTF-8.
pub fn from_utf8_bytes(bytes: &[u8]) -> Result<Vec<u16>, usize> {
    let mut out = Vec::with_capacity(bytes.len());
    extend_from_utf8_bytes(&mut out, bytes)?;
    Ok(out)
}

/// [`from_utf8_bytes`] appending to `out` (which holds part of the units
/// when the bytes are not UTF-8).
///
/// # Errors
/// The length of the longest valid UTF-8 prefix of `bytes`.
pub fn extend_from_utf8_bytes(out: &mut Vec<u16>, bytes: &[u8]) -> Result<(), usize> {
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + CHUNK).filter(|c| c.is_ascii()) {
            let mut units = [0u16; CHUNK];
            for (u, &b) in units.iter_mut().zip(chunk) {
                *u = u16::from(b);
            }
            out.extend_from_slice(&units);
            i += CHUNK;
            continue;
        }
        let b0 = bytes[i];
        if b0 < 0x80 {
            out.push(u16::from(b0));
            i += 1;
            continue;
        }
        // The ranges of RFC 3629 (no overlong forms, no surrogates, nothing
        // above U+10FFFF): the second byte's range depends on the first.
        let (width, second) = match b0 {
            0xc2..=0xdf => (2, 0x80..=0xbf),
            0xe0 => (3, 0xa0..=0xbf),
            0xe1..=0xec | 0xee..=0xef => (3, 0x80..=0xbf),
            0xed => (3, 0x80..=0x9f),
            0xf0 => (4, 0x90..=0xbf),
            0xf1..=0xf3 => (4, 0x80..=0xbf),
            0xf4 => (4, 0x80..=0x8f),
            _ => return Err(i),
        };
        let seq = bytes.get(i..i + width).ok_or(i)?;
        if !second.contains(&seq[1]) || seq[2..].iter().any(|&b| b & 0xc0 != 0x80) {
            return Err(i);
        }
        let tail = |b: u8| u32::from(b & 0x3f);
        match width {
            2 => out.push(((u32::from(b0 & 0x1f) << 6) | tail(seq[1])) as u16),
            3 => {
                out.push(((u32::from(b0 & 0x0f) << 12) | (tail(seq[1]) << 6) | tail(seq[2])) as u16)
            }
            _ => {
                let c = (u32::from(b0 & 0x07) << 18)
                    | (tail(seq[1]) << 12)
                    | (tail(seq[2]) << 6)
                    | tail(seq[3]);
                let c = c - 0x10000;
                out.extend_from_slice(&[0xd800 | (c >> 10) as u16, 0xdc00 | (c & 0x3ff) as u16]);
            }
        }
        i += width;
    }
    Ok(())
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
            assert_eq!(from_utf8(s), units(s));
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

        /// `from_utf8_bytes` agrees with the standard library on any bytes:
        /// the same units for UTF-8, the same valid prefix for the rest.
        #[test]
        fn from_utf8_bytes_agrees_with_std(
            b in proptest::collection::vec(prop_oneof![0u8..0x80, 0x80u8..0xc0, 0xc0u8..=0xff, any::<u8>()], 0..100),
            s in "\\PC{0,40}",
            cut in 0usize..200,
        ) {
            let mut bytes = s.as_bytes().to_vec();
            bytes.extend_from_slice(&b);
            bytes.truncate(cut.max(s.len()).min(bytes.len()));
            match std::str::from_utf8(&bytes) {
                Ok(text) => prop_assert_eq!(from_utf8_bytes(&bytes), Ok(text.encode_utf16().collect())),
                Err(e) => prop_assert_eq!(from_utf8_bytes(&bytes), Err(e.valid_up_to())),
            }
        }

        /// `from_utf8` agrees with the standard library on any text.
        #[test]
        fn from_utf8_agrees_with_std(s in "\\PC{0,300}|[a-z\u{80}-\u{7ff}\u{10000}-\u{10ffff} ]{0,300}") {
            prop_assert_eq!(from_utf8(&s), s.encode_utf16().collect::<Vec<_>>());
        }
    }
}

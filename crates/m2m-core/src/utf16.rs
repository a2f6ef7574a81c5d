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

/// How many leading units are ASCII; the loop compiles to wide compares.
fn ascii_prefix(units: &[u16]) -> usize {
    const CHUNK: usize = 16;
    let mut n = 0;
    for chunk in units.chunks_exact(CHUNK) {
        if chunk.iter().fold(0, |acc, &u| acc | u) >= 0x80 {
            break;
        }
        n += CHUNK;
    }
    n + units[n..].iter().take_while(|&&u| u < 0x80).count()
}

/// Whether `units[i]` is a high surrogate followed by a low one.
fn is_pair_at(units: &[u16], i: usize) -> bool {
    (0xd800..0xdc00).contains(&units[i])
        && units
            .get(i + 1)
            .map_or(false, |&u| (0xdc00..0xe000).contains(&u))
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
            let u = units[i];
            if u < 0x800 {
                len += 2;
            } else if !(0xd800..0xe000).contains(&u) {
                len += 3;
            } else if is_pair_at(units, i) {
                len += 4;
                i += 1;
            } else {
                return Err(LoneSurrogate { index: i, unit: u });
            }
            i += 1;
        }
    }
    Ok(len)
}

/// UTF-16 text as UTF-8, with each lone surrogate replaced by U+FFFD (as a
/// JavaScript engine's UTF-8 encoder does). Runs of ASCII are narrowed in a
/// loop the compiler vectorises.
pub fn to_utf8_lossy(units: &[u16]) -> String {
    let mut out = Vec::with_capacity(units.len() + units.len() / 2);
    let mut i = 0;
    while i < units.len() {
        let ascii = ascii_prefix(&units[i..]);
        out.extend(units[i..i + ascii].iter().map(|&u| u as u8));
        i += ascii;
        while i < units.len() && units[i] >= 0x80 {
            let u = units[i];
            let c = if is_pair_at(units, i) {
                i += 1;
                let high = u32::from(u - 0xd800);
                let low = u32::from(units[i] - 0xdc00);
                char::from_u32(0x10000 + (high << 10) + low)
            } else {
                char::from_u32(u32::from(u))
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(
                c.unwrap_or(char::REPLACEMENT_CHARACTER)
                    .encode_utf8(&mut buf)
                    .as_bytes(),
            );
            i += 1;
        }
    }
    String::from_utf8(out).expect("encoded from chars, so valid UTF-8")
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

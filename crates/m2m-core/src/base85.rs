//! The payload text of the forms against a preset dictionary (`#BD|`,
//! `#BH|`): base85, 5 characters per 4 bytes (base64 takes 5⅓). Its 85
//! characters are the printable ASCII ones (`!` to `~`) without `"`, `&`,
//! `'`, `:`, `<`, `>`, `\`, `` ` `` and `|`: nothing JSON or HTML escapes,
//! and neither of the marks that end a head (`preset::Codec::mark`).
//!
//! Each group of 4 bytes is a big-endian number written as 5 digits, most
//! significant first. A last group of 1–3 bytes is padded with zero bytes
//! and only its first 1 + its length digits are written (as Ascii85 does);
//! a decoder pads them with the highest digit. Decoding is strict: a
//! character outside the alphabet, a lone last digit, a group over 2^32 − 1
//! or a last group that is not the one its bytes give is refused, so each
//! byte string has one text.

use crate::error::{Error, Result};

/// The digits, in order of value.
const ALPHABET: &[u8; 85] =
    b"!#$%()*+,-./0123456789;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{}~";

/// Not a digit, in [`VALUES`].
const NONE: u8 = 0xff;

/// The value of each byte as a digit ([`NONE`] when it is not one).
const VALUES: [u8; 256] = {
    let mut table = [NONE; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The number of characters `len` bytes take.
pub const fn encoded_len(len: usize) -> usize {
    len / 4 * 5 + if len % 4 == 0 { 0 } else { len % 4 + 1 }
}

/// The 5 digits of `value`, most significant first.
fn digits(mut value: u32) -> [u8; 5] {
    let mut out = [0; 5];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 85) as usize];
        value /= 85;
    }
    out
}

/// `bytes` (at most 4) as a big-endian number, padded with zero bytes.
fn group(bytes: &[u8]) -> u32 {
    let mut padded = [0; 4];
    padded[..bytes.len()].copy_from_slice(bytes);
    u32::from_be_bytes(padded)
}

/// Appends the base85 of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(encoded_len(bytes.len()));
    for chunk in bytes.chunks(4) {
        let digits = digits(group(chunk));
        let used = if chunk.len() == 4 { 5 } else { chunk.len() + 1 };
        // The alphabet is ASCII.
        out.extend(digits[..used].iter().map(|&b| char::from(b)));
    }
}

/// The base85 of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    encode_into(bytes, &mut out);
    out
}

fn invalid(detail: String) -> Error {
    Error::InvalidBase85 { detail }
}

/// Decodes base85.
///
/// # Errors
/// [`Error::InvalidBase85`] for a character outside the alphabet, a lone
/// last digit, a group over 2^32 − 1 or a last group that is not the one
/// its bytes give.
pub fn decode(text: &str) -> Result<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 5 == 1 {
        return Err(invalid(format!(
            "{} characters: a last group has 2 to 5",
            text.len()
        )));
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4 + 3);
    for (index, chunk) in text.chunks(5).enumerate() {
        let mut value: u64 = 0;
        for k in 0..5 {
            let digit = match chunk.get(k) {
                None => 84,
                Some(&b) => match VALUES[b as usize] {
                    NONE => {
                        return Err(invalid(format!(
                            "{:?} at offset {} is not a base85 digit",
                            char::from(b),
                            index * 5 + k
                        )))
                    }
                    d => d,
                },
            };
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).map_err(|_| {
            invalid(format!(
                "the group at offset {} is over 2^32 - 1",
                index * 5
            ))
        })?;
        let bytes = value.to_be_bytes();
        let len = if chunk.len() == 5 { 4 } else { chunk.len() - 1 };
        if len < 4 && digits(group(&bytes[..len]))[..chunk.len()] != *chunk {
            return Err(invalid(format!(
                "the last group at offset {} is not canonical",
                index * 5
            )));
        }
        out.extend_from_slice(&bytes[..len]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode, encoded_len, ALPHABET};
    use crate::tests::xorshift;

    #[test]
    fn the_alphabet_is_85_distinct_printable_characters_without_escaped_ones_or_marks() {
        let mut seen = std::collections::BTreeSet::new();
        for &b in ALPHABET.iter() {
            assert!((b'!'..=b'~').contains(&b));
            assert!(!b"\"&':<>\\`|".contains(&b), "{}", char::from(b));
            assert!(seen.insert(b));
        }
        assert_eq!(seen.len(), 85);
    }

    #[test]
    fn known_values() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(&[0, 0, 0, 0]), "!!!!!");
        assert_eq!(encode(&[0xff; 4]), "{=^0!");
        assert_eq!(decode("{=^0!").unwrap(), [0xff; 4]);
        assert_eq!(encode(&[0]), "!!");
        assert_eq!(encode(&[0xff]), "zz");
        assert_eq!(decode("zz").unwrap(), [0xff]);
        assert_eq!(encode(b"hello world"), "HU~!zJer;HKjw;");
    }

    #[test]
    fn any_bytes_round_trip_at_the_stated_length() {
        let mut next = xorshift(0x85);
        for len in 0..300 {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                let text = encode(&bytes);
                assert_eq!(text.len(), encoded_len(len));
                assert_eq!(decode(&text).unwrap(), bytes);
            }
        }
    }

    #[test]
    fn every_text_it_accepts_is_the_one_its_bytes_give() {
        let mut next = xorshift(0x8585);
        let mut accepted = 0;
        for _ in 0..200_000 {
            let len = (next() % 12) as usize;
            let text: String = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 50 == 0 {
                        char::from(b"\"|: ~\x7f"[(r / 50 % 6) as usize])
                    } else {
                        char::from(ALPHABET[(r / 50 % 85) as usize])
                    }
                })
                .collect();
            if let Ok(bytes) = decode(&text) {
                accepted += 1;
                assert_eq!(encode(&bytes), text);
            }
        }
        assert!(accepted > 10_000, "{accepted}");
    }

    #[test]
    fn refusals_are_typed() {
        // Lone last digits, characters outside the alphabet, 2^32, and
        // `z{`, which decodes to the byte that `zz` is the text of.
        for bad in ["!", "!!!!!!", "!!\"!!", "|||||", "!!!!é", "{=^0#", "z{"] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_BASE85", "{bad}");
        }
    }
}

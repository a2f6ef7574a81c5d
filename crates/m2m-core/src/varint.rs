//! Unsigned LEB128 varints of `u32` token ids: 7 bits per byte, low bits first,
//! the high bit set on every byte but the last. A `u32` takes 1 to 5 bytes.

use crate::error::{Error, Result};

/// The longest encoding of a `u32`.
pub const MAX_VARINT_LEN: usize = 5;

/// Appends the varint encoding of each id to `out`.
pub fn encode_into(ids: &[u32], out: &mut Vec<u8>) {
    out.reserve(ids.len() * 2);
    for &id in ids {
        let mut v = id;
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
}

/// Encodes ids as a sequence of varints.
pub fn encode(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(ids, &mut out);
    out
}

/// Decodes a sequence of varints.
///
/// # Errors
/// [`Error::TruncatedVarint`] when the input ends inside a varint;
/// [`Error::VarintOverflow`] when a varint is longer than 5 bytes or its value
/// does not fit a `u32`; [`Error::NonCanonicalVarint`] for a padded encoding
/// such as `0x80 0x00`, so every id sequence has exactly one wire form.
pub fn decode(bytes: &[u8]) -> Result<Vec<u32>> {
    // Most ids of real vocabularies take 2 or 3 bytes.
    let mut ids = Vec::with_capacity(bytes.len() / 2 + 1);
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let mut value: u32 = 0;
        let mut shift = 0u32;
        loop {
            let byte = match bytes.get(pos) {
                Some(&byte) => byte,
                None => return Err(Error::TruncatedVarint { offset: start }),
            };
            pos += 1;
            let payload = u32::from(byte & 0x7f);
            if shift == 28 && (byte & 0x80 != 0 || payload > 0x0f) {
                return Err(Error::VarintOverflow { offset: start });
            }
            value |= payload << shift;
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 {
                    return Err(Error::NonCanonicalVarint { offset: start });
                }
                break;
            }
            shift += 7;
        }
        ids.push(value);
    }
    Ok(ids)
}

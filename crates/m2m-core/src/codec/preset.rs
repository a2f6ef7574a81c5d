//! Compression against a preset dictionary, shared by the forms that have
//! one (`#BD|`, `#BH|`): Brotli with the dictionary as its custom
//! dictionary, or, for short messages, raw deflate ([`deflate`]) against the
//! dictionary's last 32 KiB, whichever is shorter. The character that ends
//! the wire's head says which: `|` before Brotli, `:` before deflate.

use super::{brotli, deflate};
use crate::base85;
use crate::error::Result;

/// Deflate is tried for messages up to this size: on longer ones Brotli's
/// prefix codes pay for themselves.
pub const DEFLATE_MAX_BYTES: usize = 2048;

/// The codec of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// Brotli (RFC 7932) with a custom dictionary.
    Brotli,
    /// Raw deflate (RFC 1951) with a preset dictionary.
    Deflate,
}

impl Codec {
    /// The character that ends the head before a payload of this codec.
    pub const fn mark(self) -> char {
        match self {
            Codec::Brotli => '|',
            Codec::Deflate => ':',
        }
    }

    /// The codec whose mark `byte` is.
    pub fn of_mark(byte: u8) -> Option<Codec> {
        match byte {
            b'|' => Some(Codec::Brotli),
            b':' => Some(Codec::Deflate),
            _ => None,
        }
    }
}

/// The offset of the first mark within `max_len` bytes of `rest` (text, or
/// a binary body: [`super::binary`]), and the codec it names.
pub fn find_mark(rest: &[u8], max_len: usize) -> Option<(usize, Codec)> {
    rest.iter()
        .take(max_len + 1)
        .enumerate()
        .find_map(|(i, &b)| Codec::of_mark(b).map(|c| (i, c)))
}

/// The head before the first mark within `max_len` bytes of `rest`, the
/// codec that mark names, and the payload after it.
pub fn split_head(rest: &str, max_len: usize) -> Option<(&str, Codec, &str)> {
    let (end, codec) = find_mark(rest.as_bytes(), max_len)?;
    Some((&rest[..end], codec, &rest[end + 1..]))
}

/// Whether `payload` holds a mark (a payload is base85: it never does).
pub fn has_mark(payload: &str) -> bool {
    payload.contains([Codec::Brotli.mark(), Codec::Deflate.mark()])
}

/// Compresses `data` against `dictionary` and appends the codec's mark and
/// the payload, in [`base85`], to `wire` (which holds the head).
/// `prepared` is `dictionary` made ready for deflate, when the caller keeps
/// one (else it is made here).
///
/// # Errors
/// Brotli's: [`crate::error::Error::InvalidOption`] for a quality outside 2–11.
pub fn compress_into(
    wire: &mut String,
    data: &[u8],
    dictionary: &[u8],
    prepared: Option<&deflate::Prepared>,
    quality: u32,
) -> Result<()> {
    let (codec, packed) = compress(data, dictionary, prepared, quality)?;
    wire.push(codec.mark());
    base85::encode_into(&packed, wire);
    Ok(())
}

/// Brotli at `quality`, or deflate when the message is at most
/// [`DEFLATE_MAX_BYTES`] and that is shorter.
fn compress(
    data: &[u8],
    dictionary: &[u8],
    prepared: Option<&deflate::Prepared>,
    quality: u32,
) -> Result<(Codec, Vec<u8>)> {
    let packed = brotli::compress_with_dictionary(data, quality, dictionary)?;
    if data.len() <= DEFLATE_MAX_BYTES {
        let deflated = match prepared {
            Some(prepared) => deflate::compress_prepared(data, prepared),
            None => deflate::compress(data, dictionary),
        };
        if deflated.len() < packed.len() {
            return Ok((Codec::Deflate, deflated));
        }
    }
    Ok((Codec::Brotli, packed))
}

/// Decodes a `codec` payload (its [`base85`] text) made against
/// `dictionary`, bounded like every decoder of the core.
///
/// # Errors
/// [`crate::error::Error::InvalidBase85`]; the codec's:
/// [`crate::error::Error::DecompressionFailed`],
/// [`crate::error::Error::ContentTooLarge`].
pub fn decompress(codec: Codec, payload: &str, dictionary: &[u8]) -> Result<Vec<u8>> {
    let packed = &base85::decode(payload)?[..];
    match codec {
        Codec::Brotli => brotli::decompress_with_dictionary(packed, dictionary),
        Codec::Deflate => deflate::decompress(packed, dictionary),
    }
}

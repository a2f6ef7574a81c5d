//! Standard base64 (RFC 4648 alphabet, with padding), strict on decode.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;

use crate::error::{Error, Result};

/// The number of characters the padded base64 of `len` bytes takes.
pub const fn encoded_len(len: usize) -> usize {
    (len + 2) / 3 * 4
}

/// Encodes bytes as standard, padded base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Appends the base64 of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    STANDARD.encode_string(bytes, out);
}

/// Decodes standard, padded base64.
///
/// # Errors
/// [`Error::InvalidBase64`] for a character outside the alphabet, missing or
/// misplaced padding, or non-zero trailing bits (so each byte string has one
/// encoding).
pub fn decode(text: &str) -> Result<Vec<u8>> {
    STANDARD.decode(text).map_err(|e| Error::InvalidBase64 {
        detail: e.to_string(),
    })
}

/// Appends the base64 of `bytes` to `out` without padding (the `#BH|`
/// payload, whose length the message's end gives).
pub fn encode_unpadded_into(bytes: &[u8], out: &mut String) {
    STANDARD_NO_PAD.encode_string(bytes, out);
}

/// Decodes standard base64 without padding.
///
/// # Errors
/// [`Error::InvalidBase64`] for a character outside the alphabet, any
/// padding, an impossible length or non-zero trailing bits (so each byte
/// string has one encoding).
pub fn decode_unpadded(text: &str) -> Result<Vec<u8>> {
    STANDARD_NO_PAD
        .decode(text)
        .map_err(|e| Error::InvalidBase64 {
            detail: e.to_string(),
        })
}

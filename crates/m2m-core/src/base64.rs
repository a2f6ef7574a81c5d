//! Standard base64 (RFC 4648 alphabet, with padding), strict on decode.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::{Error, Result};

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

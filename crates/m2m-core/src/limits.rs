//! The protocol's size limits (spec §3.5 and §7.6).

use crate::error::{Error, Result};

/// Largest wire message accepted or produced, in bytes (16 MiB).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Largest content a message may decompress to, in bytes (16 MiB).
pub const MAX_DECOMPRESSED_BYTES: usize = 16 * 1024 * 1024;

/// Fails with [`Error::ContentTooLarge`] when a wire message exceeds
/// [`MAX_MESSAGE_BYTES`].
pub fn check_message_size(len: usize) -> Result<()> {
    if len > MAX_MESSAGE_BYTES {
        return Err(Error::ContentTooLarge {
            limit: "message size",
            max: MAX_MESSAGE_BYTES,
            actual: len,
        });
    }
    Ok(())
}

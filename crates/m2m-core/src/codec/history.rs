//! Session history (`#BH|<dictionary id>|<base64>`): Brotli with, as its
//! custom dictionary, the trained dictionary of the message's family (when
//! the sender names one) followed by the recent history of the session in
//! this direction, so that a message may copy from what the session already
//! carried.
//!
//! The session layer names the history state each message was compressed
//! against (`<seq>.<hash>`, the hash a chain made by [`advance`]) in the DATA
//! payload and refuses a message from another state before it gets here; the
//! wire carries only the dictionary id (negotiated with its version and hash
//! when the session started). Outside a session (plain `decompress`) a `#BH|`
//! message is refused with [`Error::HistoryMismatch`], never misread.
//!
//! The history is the receiver's own (at most [`MAX_HISTORY_BYTES`], as its
//! own settings bound it): a peer cannot make it keep more.

use sha2::{Digest, Sha256};

use super::{brotli, prefix, trained};
use crate::base64;
use crate::error::{Error, Result};
use crate::limits::check_message_size;

/// The largest history a session may keep per direction.
pub const MAX_HISTORY_BYTES: usize = 1024 * 1024;
/// The longest dictionary id a decoder reads.
const MAX_ID_LEN: usize = 32;
/// Hex digits of a history hash.
const HASH_HEX_LEN: usize = 8;

/// The hash of the history after `text` is appended to a history whose hash
/// is `previous` (the first 8 hex digits of SHA-256 over the previous hash,
/// the text's length as u64 LE and the text). A chain: equal hashes mean, but
/// for a collision, the same sequence of messages.
pub fn advance(previous: &str, text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
    hasher.finalize()[..HASH_HEX_LEN / 2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_history(history: &str) -> Result<()> {
    if history.len() > MAX_HISTORY_BYTES {
        return Err(Error::InvalidOption {
            option: "history",
            detail: format!(
                "a session history is at most {MAX_HISTORY_BYTES} bytes, got {}",
                history.len()
            ),
        });
    }
    Ok(())
}

fn custom_dictionary(history: &str, dictionary: Option<&trained::TrainedDictionary>) -> Vec<u8> {
    let base = dictionary.map_or(&[][..], |d| &d.content[..]);
    let mut out = Vec::with_capacity(base.len() + history.len());
    out.extend_from_slice(base);
    out.extend_from_slice(history.as_bytes());
    out
}

/// Compresses `text` against `history`, after the trained dictionary of its
/// family ([`trained::family_of`]) when that id is in `allowed`
/// (comma-separated ids) and loaded, as `#BH|<id or nothing>|<base64>`.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::InvalidOption`] for a quality outside
/// 2–11 or a history over [`MAX_HISTORY_BYTES`].
pub fn compress(text: &str, history: &str, allowed: &str, quality: u32) -> Result<String> {
    super::check_content_size(text)?;
    check_history(history)?;
    let trained = trained::family_of(text)
        .filter(|id| allowed.split(',').any(|a| a == *id))
        .and_then(trained::get);
    let custom = custom_dictionary(history, trained.as_deref());
    let packed = brotli::compress_with_dictionary(text.as_bytes(), quality, &custom)?;
    let id = trained.as_ref().map_or("", |d| d.id.as_str());
    let mut wire =
        String::with_capacity(prefix::HISTORY.len() + id.len() + 1 + (packed.len() + 2) / 3 * 4);
    wire.push_str(prefix::HISTORY);
    wire.push_str(id);
    wire.push('|');
    base64::encode_into(&packed, &mut wire);
    check_message_size(wire.len())?;
    Ok(wire)
}

/// Decodes a `#BH|` message against `history` (the session layer checked
/// first that the message names this history's state).
///
/// # Errors
/// [`Error::InvalidPrefix`] / [`Error::MissingSeparator`] for a malformed
/// head; [`Error::DictionaryUnavailable`] when the trained dictionary it
/// names is not loaded; Brotli's errors (bounded output:
/// [`Error::ContentTooLarge`]); [`Error::InvalidOption`] for a history over
/// [`MAX_HISTORY_BYTES`].
pub fn decompress(wire: &str, history: &str) -> Result<String> {
    check_message_size(wire.len())?;
    check_history(history)?;
    let rest = wire
        .strip_prefix(prefix::HISTORY)
        .ok_or(Error::InvalidPrefix {
            expected: prefix::HISTORY,
        })?;
    let bar = rest
        .bytes()
        .take(MAX_ID_LEN + 1)
        .position(|b| b == b'|')
        .ok_or(Error::MissingSeparator {
            after: "the dictionary id",
        })?;
    let id = &rest[..bar];
    let dictionary = if id.is_empty() {
        None
    } else {
        Some(trained::require(id)?)
    };
    let custom = custom_dictionary(history, dictionary.as_deref());
    super::utf8(brotli::decompress_with_dictionary(
        &base64::decode(&rest[bar + 1..])?,
        &custom,
    )?)
}

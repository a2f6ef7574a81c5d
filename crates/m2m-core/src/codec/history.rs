//! Session history (`#BH|<state>|<dictionary id>|<base64>`): Brotli with, as
//! its custom dictionary, the trained dictionary of the message's family
//! (when the sender names one) followed by the recent history of the session
//! in this direction, so that a message may copy from what the session
//! already carried.
//!
//! `<state>` names the history the message was compressed against: the hash
//! chain of [`advance`] over every message of the direction (`0` for the
//! empty history). A receiver whose history is in another state refuses the
//! message with [`Error::HistoryMismatch`], never decoding it with other
//! bytes. The dictionary id was agreed with its version and hash when the
//! session started. Outside a session (plain `decompress`) a `#BH|` message
//! is refused the same way, never misread.
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
/// The longest state a decoder reads.
const MAX_STATE_LEN: usize = 16;
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

fn check_state(state: &str) -> Result<()> {
    if state.is_empty()
        || state.len() > MAX_STATE_LEN
        || !state
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(Error::InvalidOption {
            option: "state",
            detail: format!("a history state is 1 to {MAX_STATE_LEN} lowercase hex digits"),
        });
    }
    Ok(())
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

/// Compresses `text` against `history` (in state `state`), after the trained
/// dictionary of its family ([`trained::family_of`]) when that id is in
/// `allowed` (comma-separated ids) and loaded, as
/// `#BH|<state>|<id or nothing>|<base64>`.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::InvalidOption`] for a quality outside
/// 2–11, a malformed state or a history over [`MAX_HISTORY_BYTES`].
pub fn compress(
    text: &str,
    history: &str,
    state: &str,
    allowed: &str,
    quality: u32,
) -> Result<String> {
    super::check_content_size(text)?;
    check_state(state)?;
    check_history(history)?;
    let trained = trained::family_of(text)
        .filter(|id| allowed.split(',').any(|a| a == *id))
        .and_then(trained::get);
    let custom = custom_dictionary(history, trained.as_deref());
    let packed = brotli::compress_with_dictionary(text.as_bytes(), quality, &custom)?;
    let id = trained.as_ref().map_or("", |d| d.id.as_str());
    let mut wire = String::with_capacity(
        prefix::HISTORY.len() + state.len() + id.len() + 2 + (packed.len() + 2) / 3 * 4,
    );
    wire.push_str(prefix::HISTORY);
    wire.push_str(state);
    wire.push('|');
    wire.push_str(id);
    wire.push('|');
    base64::encode_into(&packed, &mut wire);
    check_message_size(wire.len())?;
    Ok(wire)
}

/// The `<state>` a `#BH|` wire string names, if it has a well-formed one.
pub fn state_of(wire: &str) -> Option<&str> {
    let (state, _) = super::head_field(wire.strip_prefix(prefix::HISTORY)?, MAX_STATE_LEN)?;
    Some(state).filter(|s| check_state(s).is_ok())
}

/// Decodes a `#BH|` message against `history`, whose state is `state`.
///
/// # Errors
/// [`Error::HistoryMismatch`] when the message names another state;
/// [`Error::InvalidPrefix`] / [`Error::MissingSeparator`] for a malformed
/// head; [`Error::DictionaryUnavailable`] when the trained dictionary it
/// names is not loaded; Brotli's errors (bounded output:
/// [`Error::ContentTooLarge`]); [`Error::InvalidOption`] for a history over
/// [`MAX_HISTORY_BYTES`].
pub fn decompress(wire: &str, history: &str, state: &str) -> Result<String> {
    check_message_size(wire.len())?;
    check_history(history)?;
    let rest = wire
        .strip_prefix(prefix::HISTORY)
        .ok_or(Error::InvalidPrefix {
            expected: prefix::HISTORY,
        })?;
    let (found, rest) = super::head_field(rest, MAX_STATE_LEN).ok_or(Error::MissingSeparator {
        after: "the history state",
    })?;
    if found != state {
        return Err(Error::HistoryMismatch {
            found: found.to_owned(),
            expected: state.chars().take(MAX_STATE_LEN).collect(),
        });
    }
    let (id, payload) = super::head_field(rest, MAX_ID_LEN).ok_or(Error::MissingSeparator {
        after: "the dictionary id",
    })?;
    let dictionary = if id.is_empty() {
        None
    } else {
        Some(trained::require(id)?)
    };
    let custom = custom_dictionary(history, dictionary.as_deref());
    super::utf8(brotli::decompress_with_dictionary(
        &base64::decode(payload)?,
        &custom,
    )?)
}

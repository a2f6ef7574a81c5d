//! Session history (`#BH|<state>|<base85>`, or `#BH|<state>.<dictionary
//! id>|<base85>` when the sender names a trained dictionary): Brotli with, as
//! its custom dictionary, the trained dictionary of the message's family
//! (when the sender names one) followed by the recent history of the session
//! in this direction, so that a message may copy from what the session
//! already carried. With `:` in place of the `|` before the payload
//! (`#BH|<state>:<base85>`), the payload is raw deflate against the last
//! 32 KiB of that same dictionary ([`preset`]: the shorter is sent). The
//! payload is [`crate::base85`] (the message's end is the payload's end).
//!
//! `<state>` names the history the message was compressed against: the hash
//! chain of [`advance`] over every message of the direction, 6 base64url
//! characters (36 bits), or `0` for the empty history. A receiver whose
//! history is in another state refuses the message with
//! [`Error::HistoryMismatch`], never decoding it with other bytes. A head of
//! another shape (such as the earlier `#BH|<8 hex>|<id>|` form) is
//! [`Error::InvalidFrame`]. The dictionary id was agreed with its version and
//! hash when the session started. Outside a session (plain `decompress`) a
//! `#BH|` message is refused the same way, never misread.
//!
//! The history is the receiver's own (at most [`MAX_HISTORY_BYTES`], as its
//! own settings bound it): a peer cannot make it keep more.

use sha2::{Digest, Sha256};

use super::{prefix, preset, trained};
use crate::error::{Error, Result};
use crate::limits::check_message_size;

/// The largest history a session may keep per direction.
pub const MAX_HISTORY_BYTES: usize = 1024 * 1024;
/// The longest dictionary id a decoder reads.
const MAX_ID_LEN: usize = 32;
/// Characters of a history hash: 6 base64url characters, 36 bits.
const STATE_LEN: usize = 6;
/// The state of the empty history.
pub const EMPTY_STATE: &str = "0";
/// Separates the state from the dictionary id in a `#BH|` head.
const ID_SEPARATOR: char = '.';
/// After the state: the history also held the receiver's own sending
/// direction, before the sender's (`#BH|<state>+|…`).
const BOTH_DIRECTIONS: char = '+';
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The hash of the history after `text` is appended to a history whose hash
/// is `previous`: the first 36 bits of SHA-256 over the previous hash, the
/// text's length as u64 LE and the text, as 6 base64url characters. A chain:
/// equal hashes mean, but for a collision, the same sequence of messages.
pub fn advance(previous: &str, text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
    let digest = hasher.finalize();
    let bits = digest[..5]
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    (0..STATE_LEN)
        .map(|i| char::from(BASE64URL[((bits >> (34 - 6 * i)) & 63) as usize]))
        .collect()
}

/// Whether `state` is a state a `#BH|` head may name: `0` or a hash.
fn is_state(state: &str) -> bool {
    state == EMPTY_STATE
        || (state.len() == STATE_LEN && state.bytes().all(|b| BASE64URL.contains(&b)))
}

fn check_state(state: &str) -> Result<()> {
    if !is_state(state) {
        return Err(Error::InvalidOption {
            option: "state",
            detail: format!(
                "a history state is `{EMPTY_STATE}` or {STATE_LEN} base64url characters"
            ),
        });
    }
    Ok(())
}

fn bad_head(detail: &str) -> Error {
    Error::InvalidFrame {
        detail: format!("#BH|: {detail} (the head is #BH|<state>|<base85> or #BH|<state>.<dictionary id>|<base85>, with `:` for `|` before a deflate payload)"),
    }
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
/// `#BH|<state>|<base85>` (`#BH|<state>.<id>|<base85>` with a dictionary).
/// `both`: `history` is the other direction's history followed by this
/// one's, and the head says so (`#BH|<state>+…`); the caller composes it.
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
    both: bool,
) -> Result<String> {
    super::check_content_size(text)?;
    check_state(state)?;
    check_history(history)?;
    let trained = trained::family_of(text)
        .filter(|id| allowed.split(',').any(|a| a == *id))
        .and_then(trained::get);
    let custom = custom_dictionary(history, trained.as_deref());
    let id = trained.as_ref().map_or("", |d| d.id.as_str());
    let mut wire = String::new();
    wire.push_str(prefix::HISTORY);
    wire.push_str(state);
    if both {
        wire.push(BOTH_DIRECTIONS);
    }
    if !id.is_empty() {
        wire.push(ID_SEPARATOR);
        wire.push_str(id);
    }
    preset::compress_into(&mut wire, text.as_bytes(), &custom, None, quality)?;
    check_message_size(wire.len())?;
    Ok(wire)
}

/// The `<state>` a `#BH|` wire string names, if it has a well-formed one.
pub fn state_of(wire: &str) -> Option<&str> {
    let (head, _, _) = preset::split_head(wire.strip_prefix(prefix::HISTORY)?, MAX_HEAD_LEN)?;
    let state = head.split(ID_SEPARATOR).next()?;
    let state = state.strip_suffix(BOTH_DIRECTIONS).unwrap_or(state);
    Some(state).filter(|s| is_state(s))
}

/// The longest head (state, separator, id) a decoder reads.
pub(crate) const MAX_HEAD_LEN: usize = STATE_LEN + 2 + MAX_ID_LEN;

/// Decodes a `#BH|` message against `history`, whose state is `state`.
///
/// # Errors
/// [`Error::HistoryMismatch`] when the message names another state;
/// [`Error::InvalidPrefix`] / [`Error::MissingSeparator`] /
/// [`Error::InvalidFrame`] for a malformed head (also the earlier
/// `#BH|<8 hex>|<id>|` form); [`Error::DictionaryUnavailable`] when the trained dictionary it
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
    let (head, codec, payload) =
        preset::split_head(rest, MAX_HEAD_LEN).ok_or(Error::MissingSeparator {
            after: "the history state",
        })?;
    let (found, id) = match head.split_once(ID_SEPARATOR) {
        Some((found, id)) => (found, Some(id)),
        None => (head, None),
    };
    // The caller composed `history` for a message with `+` (both directions).
    let found = found.strip_suffix(BOTH_DIRECTIONS).unwrap_or(found);
    if !is_state(found) {
        return Err(bad_head("the state is `0` or 6 base64url characters"));
    }
    if preset::has_mark(payload) || id == Some("") {
        return Err(bad_head("one field before the payload"));
    }
    if found != state {
        return Err(Error::HistoryMismatch {
            found: found.to_owned(),
            expected: state.chars().take(STATE_LEN).collect(),
        });
    }
    let dictionary = match id {
        None => None,
        Some(id) => Some(trained::require(id)?),
    };
    let custom = custom_dictionary(history, dictionary.as_deref());
    super::utf8(preset::decompress(codec, payload, &custom)?)
}

//! The binary form of a message whose payload is bytes written as text, for
//! channels that carry bytes (WebSocket binary frames): the text's head as
//! it is, followed by the payload's bytes without their base64 or base85.
//!
//! | text form | binary form |
//! | --- | --- |
//! | `#M2M[v3.0]\|DATA:<base64>` | `#M2M[v3.0]\|DATA:` + Brotli bytes |
//! | `#BH\|<head><mark><base85>` | `#BH\|<head><mark>` + Brotli or deflate bytes |
//!
//! The two forms map one to one: [`to_text`] writes the canonical base64 or
//! base85 of the bytes, so the text a receiver rebuilds is the one the
//! sender had, and every check of the text form (the history state, the
//! dictionary id, the codec, the size limits) applies to it unchanged.

use super::{history, prefix, preset};
use crate::error::{Error, Result};
use crate::limits::check_message_size;
use crate::{base64, base85};

fn no_binary_form() -> Error {
    Error::InvalidFrame {
        detail: format!(
            "a binary body starts with {} or {} (the forms whose payload is bytes)",
            prefix::BROTLI_SESSION,
            prefix::HISTORY
        ),
    }
}

/// The binary form of `wire` (a session Brotli or `#BH|` message).
///
/// # Errors
/// [`Error::InvalidFrame`] for a wire of another form;
/// [`Error::MissingSeparator`] for a `#BH|` head without its mark;
/// [`Error::InvalidBase64`] / [`Error::InvalidBase85`] for a broken payload.
pub fn to_binary(wire: &str) -> Result<Vec<u8>> {
    check_message_size(wire.len())?;
    let (head, payload) = if let Some(text) = wire.strip_prefix(prefix::BROTLI_SESSION) {
        (prefix::BROTLI_SESSION, base64::decode(text)?)
    } else if let Some(rest) = wire.strip_prefix(prefix::HISTORY) {
        let (head, _, text) =
            preset::split_head(rest, history::MAX_HEAD_LEN).ok_or(Error::MissingSeparator {
                after: "the history state",
            })?;
        // The head, its mark, and nothing of the payload.
        let end = prefix::HISTORY.len() + head.len() + 1;
        (&wire[..end], base85::decode(text)?)
    } else {
        return Err(no_binary_form());
    };
    let mut body = Vec::with_capacity(head.len() + payload.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(&payload);
    Ok(body)
}

/// The text form of a binary `body` made by [`to_binary`].
///
/// # Errors
/// [`Error::InvalidFrame`] for a body of another form or a `#BH|` head that
/// is not printable ASCII; [`Error::MissingSeparator`] for a `#BH|` head
/// without its mark; [`Error::ContentTooLarge`] when the text would exceed
/// the message limit.
pub fn to_text(body: &[u8]) -> Result<String> {
    let (head_len, base85_payload) = if body.starts_with(prefix::BROTLI_SESSION.as_bytes()) {
        (prefix::BROTLI_SESSION.len(), false)
    } else if body.starts_with(prefix::HISTORY.as_bytes()) {
        let rest = &body[prefix::HISTORY.len()..];
        let (mark, _) =
            preset::find_mark(rest, history::MAX_HEAD_LEN).ok_or(Error::MissingSeparator {
                after: "the history state",
            })?;
        if !rest[..mark].iter().all(u8::is_ascii_graphic) {
            return Err(Error::InvalidFrame {
                detail: "#BH|: the head of a binary body is printable ASCII".to_owned(),
            });
        }
        (prefix::HISTORY.len() + mark + 1, true)
    } else {
        return Err(no_binary_form());
    };
    let (head, payload) = body.split_at(head_len);
    let text_len = if base85_payload {
        base85::encoded_len(payload.len())
    } else {
        base64::encoded_len(payload.len())
    };
    check_message_size(head_len + text_len)?;
    let mut wire = String::with_capacity(head_len + text_len);
    // ASCII: checked above (the session prefix is ASCII).
    wire.push_str(std::str::from_utf8(head).map_err(|_| no_binary_form())?);
    if base85_payload {
        base85::encode_into(payload, &mut wire);
    } else {
        base64::encode_into(payload, &mut wire);
    }
    Ok(wire)
}

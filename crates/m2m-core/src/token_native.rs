//! TokenNative packing of token ids.
//!
//! Text form: `#TK|<C|O|L>|<base64(varint ids)>`. Binary form (for binary
//! channels such as WebSocket binary frames): `<0|1|2><varint ids>`.

use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::{base64, limits, varint};

/// The prefix of the TokenNative text form.
pub const PREFIX: &str = "#TK|";

/// Token ids together with the vocabulary they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIds {
    /// The vocabulary.
    pub encoding: Encoding,
    /// The ids, in order.
    pub ids: Vec<u32>,
}

/// Packs ids into the text form `#TK|<id>|<base64>`.
///
/// # Errors
/// [`Error::ContentTooLarge`] if the wire string would exceed the message limit.
pub fn pack_text(encoding: Encoding, ids: &[u32]) -> Result<String> {
    let packed = varint::encode(ids);
    limits::check_message_size(PREFIX.len() + 2 + base64::encoded_len(packed.len()))?;
    let mut wire = String::with_capacity(PREFIX.len() + 2 + base64::encoded_len(packed.len()));
    wire.push_str(PREFIX);
    wire.push(encoding.wire_char());
    wire.push('|');
    base64::encode_into(&packed, &mut wire);
    Ok(wire)
}

/// Unpacks the text form back into ids.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::InvalidPrefix`], [`Error::MissingSeparator`],
/// [`Error::UnknownTokenizer`], [`Error::InvalidBase64`] and the varint errors.
pub fn unpack_text(wire: &str) -> Result<TokenIds> {
    limits::check_message_size(wire.len())?;
    let rest = wire
        .strip_prefix(PREFIX)
        .ok_or(Error::InvalidPrefix { expected: PREFIX })?;
    let (id, payload) = rest.split_once('|').ok_or(Error::MissingSeparator {
        after: "the tokenizer id",
    })?;
    let encoding = Encoding::from_wire_id(id)?;
    let ids = varint::decode(&base64::decode(payload)?)?;
    Ok(TokenIds { encoding, ids })
}

/// Packs ids into the binary form `<encoding byte><varint ids>`.
///
/// # Errors
/// [`Error::ContentTooLarge`] if the message would exceed the message limit.
pub fn pack_binary(encoding: Encoding, ids: &[u32]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1 + ids.len() * 2);
    out.push(encoding.wire_byte());
    varint::encode_into(ids, &mut out);
    limits::check_message_size(out.len())?;
    Ok(out)
}

/// Unpacks the binary form back into ids.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::UnknownTokenizer`] (also for an empty
/// message, which has no tokenizer byte) and the varint errors.
pub fn unpack_binary(bytes: &[u8]) -> Result<TokenIds> {
    limits::check_message_size(bytes.len())?;
    let (&first, packed) = bytes.split_first().ok_or(Error::UnknownTokenizer {
        id: "(empty message)".to_owned(),
    })?;
    let encoding = Encoding::from_wire_byte(first)?;
    let ids = varint::decode(packed)?;
    Ok(TokenIds { encoding, ids })
}

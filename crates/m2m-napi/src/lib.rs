//! Node-API binding of `m2m-core`. Each function converts its arguments, makes
//! one call into the core and converts the result or the error; no logic lives
//! here. Errors reach JavaScript with `err.code` set to the core's stable code.
#![deny(clippy::all)]

use m2m_core::{base64, token_native, varint, Encoding};
use napi::bindgen_prelude::{Buffer, Uint32Array};
use napi_derive::napi;

/// A JavaScript error whose `code` is the core error's stable code.
type Result<T> = std::result::Result<T, napi::Error<&'static str>>;

fn to_js(err: m2m_core::Error) -> napi::Error<&'static str> {
    napi::Error::new(err.code(), err.to_string())
}

/// Token ids with the name of their encoding.
#[napi(object)]
pub struct TokenIds {
    /// `cl100k_base`, `o200k_base` or `llama3`.
    pub encoding: String,
    /// The ids.
    pub ids: Uint32Array,
}

impl From<token_native::TokenIds> for TokenIds {
    fn from(t: token_native::TokenIds) -> Self {
        TokenIds {
            encoding: t.encoding.name().to_owned(),
            ids: t.ids.into(),
        }
    }
}

/// Encodes ids as unsigned LEB128 varints.
#[napi]
pub fn varint_encode(ids: Uint32Array) -> Buffer {
    varint::encode(&ids).into()
}

/// Decodes a sequence of unsigned LEB128 varints.
#[napi]
pub fn varint_decode(bytes: &[u8]) -> Result<Uint32Array> {
    Ok(varint::decode(bytes).map_err(to_js)?.into())
}

/// Encodes bytes as standard, padded base64.
#[napi]
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::encode(bytes)
}

/// Decodes standard, padded base64.
#[napi]
pub fn base64_decode(text: String) -> Result<Buffer> {
    Ok(base64::decode(&text).map_err(to_js)?.into())
}

/// Packs ids into `#TK|<C|O|L>|<base64>`.
#[napi]
pub fn pack_token_native(ids: Uint32Array, encoding: String) -> Result<String> {
    let encoding = Encoding::from_name(&encoding).map_err(to_js)?;
    token_native::pack_text(encoding, &ids).map_err(to_js)
}

/// Unpacks `#TK|<C|O|L>|<base64>` into ids.
#[napi]
pub fn unpack_token_native(wire: String) -> Result<TokenIds> {
    Ok(token_native::unpack_text(&wire).map_err(to_js)?.into())
}

/// Packs ids into the binary form `<0|1|2><varints>`.
#[napi]
pub fn pack_token_native_binary(ids: Uint32Array, encoding: String) -> Result<Buffer> {
    let encoding = Encoding::from_name(&encoding).map_err(to_js)?;
    Ok(token_native::pack_binary(encoding, &ids)
        .map_err(to_js)?
        .into())
}

/// Unpacks the binary form `<0|1|2><varints>` into ids.
#[napi]
pub fn unpack_token_native_binary(bytes: &[u8]) -> Result<TokenIds> {
    Ok(token_native::unpack_binary(bytes).map_err(to_js)?.into())
}

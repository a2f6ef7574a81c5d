//! Node-API binding of `m2m-core`. Each function converts its arguments, makes
//! one call into the core and converts the result or the error; no logic lives
//! here. Errors reach JavaScript with `err.code` set to the core's stable code.
#![deny(clippy::all)]

use std::cell::RefCell;

use m2m_core::bpe::{self, AllowedSpecial};
use m2m_core::classifier::Classifier;
use m2m_core::codec::{self, BrotliFraming};
use m2m_core::{base64, frame, keys, seal, token_native, varint, Encoding};
use napi::bindgen_prelude::{
    AsyncTask, Buffer, Either, Float64Array, Object, ToNapiValue, TypeName, Uint32Array,
    Uint32ArraySlice,
};
use napi::{Env, JsString, Task};
use napi_derive::napi;

/// A JavaScript error whose `code` is the core error's stable code.
type Result<T> = std::result::Result<T, napi::Error<&'static str>>;

fn to_js(err: m2m_core::Error) -> napi::Error<&'static str> {
    napi::Error::new(err.code(), err.to_string())
}

/// A failure of napi itself (creating a JS value), as `INTERNAL_ERROR`.
fn internal(err: napi::Error) -> napi::Error<&'static str> {
    napi::Error::new("INTERNAL_ERROR", err.reason)
}

/// A JS string read as UTF-16 and converted to UTF-8 by the core: one copy in
/// V8 and one fast pass in Rust, where napi's UTF-8 read makes V8 walk the
/// string twice (to measure it, then to encode it) character by character.
pub struct Text(String);

/// A JS string's UTF-16 units, copied out of V8. Not napi's `Utf16String`,
/// which zero-fills its buffer before V8 overwrites it (docs/performance.md).
pub struct Utf16(Vec<u16>);

/// Copies UTF-16 units of the JS string `value` into `buf`, at most
/// `capacity - 1` of them and a terminating zero, and returns how many units
/// it copied; with a null `buf`, only returns the string's length in units.
///
/// # Safety
/// `env` and `value` come from napi; `buf` is null or has room for
/// `capacity` units.
unsafe fn read_utf16(
    env: napi::sys::napi_env,
    value: napi::sys::napi_value,
    buf: *mut u16,
    capacity: usize,
) -> napi::Result<usize> {
    let mut units = 0;
    // SAFETY: as the caller promises.
    let status =
        unsafe { napi::sys::napi_get_value_string_utf16(env, value, buf, capacity, &mut units) };
    if status != napi::sys::Status::napi_ok {
        return Err(napi::Error::new(
            napi::Status::StringExpected,
            "expected a string".to_owned(),
        ));
    }
    Ok(units)
}

impl napi::bindgen_prelude::FromNapiValue for Utf16 {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> napi::Result<Self> {
        // SAFETY: a null buffer asks for the length only.
        let len = unsafe { read_utf16(env, value, std::ptr::null_mut(), 0) }?;
        // Room for one more unit: the terminating zero napi writes.
        let mut units: Vec<u16> = Vec::with_capacity(len + 1);
        // SAFETY: `units` has room for `len + 1` units, as the call is told.
        let written = unsafe { read_utf16(env, value, units.as_mut_ptr(), len + 1) }?;
        if written != len {
            return Err(napi::Error::new(
                napi::Status::StringExpected,
                "the string could not be read".to_owned(),
            ));
        }
        // SAFETY: napi wrote `written` units (and a zero after them).
        unsafe { units.set_len(written) };
        Ok(Utf16(units))
    }
}

/// Units [`Text`] reads in one napi call into this thread's buffer; a longer
/// string is measured first and read into a buffer of its own.
const TEXT_BUFFER_UNITS: usize = 16 * 1024;

thread_local! {
    /// Where [`Text`] reads strings of up to [`TEXT_BUFFER_UNITS`] - 1 units.
    static TEXT_UNITS: RefCell<Vec<u16>> = RefCell::new(Vec::with_capacity(TEXT_BUFFER_UNITS));
}

impl napi::bindgen_prelude::FromNapiValue for Text {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> napi::Result<Self> {
        let short = TEXT_UNITS.with(|units| {
            let mut units = units.borrow_mut();
            let capacity = units.capacity();
            // SAFETY: `units` has room for `capacity` units, as the call is told.
            let written = unsafe { read_utf16(env, value, units.as_mut_ptr(), capacity) }?;
            // A string that filled the buffer may have been cut: read it whole below.
            Ok::<_, napi::Error>((written + 1 < capacity).then(|| {
                // SAFETY: napi wrote `written` units; the length goes back to 0 below.
                unsafe { units.set_len(written) };
                let text = m2m_core::utf16::to_utf8_lossy(&units);
                units.clear();
                text
            }))
        })?;
        if let Some(text) = short {
            return Ok(Text(text));
        }
        // SAFETY: as the caller's.
        let Utf16(units) = unsafe { Utf16::from_napi_value(env, value) }?;
        Ok(Text(m2m_core::utf16::to_utf8_lossy(&units)))
    }
}

/// An encoding's name, read as UTF-16 in one napi call into a stack buffer
/// (the names are short), where napi's `String` measures the string, then
/// allocates and copies it (docs/performance.md).
pub struct Name(NameText);

enum NameText {
    /// An ASCII name of up to [`NAME_BUFFER_UNITS`] - 2 bytes.
    Ascii([u8; NAME_BUFFER_UNITS], usize),
    /// Anything else (never an encoding's name), read whole for the error.
    Other(String),
}

/// Units of [`Name`]'s stack buffer, with the terminating zero napi writes.
const NAME_BUFFER_UNITS: usize = 32;

impl napi::bindgen_prelude::FromNapiValue for Name {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> napi::Result<Self> {
        let mut units = [0u16; NAME_BUFFER_UNITS];
        // SAFETY: `units` holds `NAME_BUFFER_UNITS` units, as the call is told.
        let len = unsafe { read_utf16(env, value, units.as_mut_ptr(), units.len()) }?;
        let units = &units[..len];
        if len + 1 < NAME_BUFFER_UNITS && units.iter().all(|&u| u < 0x80) {
            let mut ascii = [0u8; NAME_BUFFER_UNITS];
            for (b, &u) in ascii.iter_mut().zip(units) {
                *b = u as u8;
            }
            return Ok(Name(NameText::Ascii(ascii, len)));
        }
        // SAFETY: as the caller's.
        let Utf16(units) = unsafe { Utf16::from_napi_value(env, value) }?;
        Ok(Name(NameText::Other(m2m_core::utf16::to_utf8_lossy(
            &units,
        ))))
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            NameText::Ascii(bytes, len) => std::str::from_utf8(&bytes[..*len]).unwrap_or_default(),
            NameText::Other(name) => name,
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The first few UTF-16 units of a JS string, as UTF-8: enough to recognise
/// a wire prefix without reading the whole string.
pub struct Head(String);

/// Units read by [`Head`]: the longest wire prefix.
const HEAD_UNITS: usize = codec::prefix::MAX_LEN;

impl napi::bindgen_prelude::FromNapiValue for Head {
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> napi::Result<Self> {
        let mut units = [0u16; HEAD_UNITS + 1];
        // SAFETY: `units` holds `HEAD_UNITS + 1` units, as the call is told.
        let written = unsafe { read_utf16(env, value, units.as_mut_ptr(), units.len()) }?;
        Ok(Head(m2m_core::utf16::to_utf8_lossy(&units[..written])))
    }
}

/// The argument types above are JS strings to napi's type checks.
macro_rules! string_type_name {
    ($($t:ty),*) => {$(
        impl TypeName for $t {
            fn type_name() -> &'static str {
                "String"
            }
            fn value_type() -> napi::ValueType {
                napi::ValueType::String
            }
        }
    )*};
}
string_type_name!(Text, Utf16, Head, Name);

/// The UTF-8 length of a string, or `-1 - i` when a lone surrogate (which
/// UTF-8 cannot carry) stands at UTF-16 index `i`.
#[napi(ts_args_type = "text: string")]
pub fn utf8_length_checked(text: Utf16) -> i64 {
    match m2m_core::utf16::utf8_len(&text.0) {
        Ok(len) => len as i64,
        Err(lone) => -1 - lone.index as i64,
    }
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
pub fn base64_decode(#[napi(ts_arg_type = "string")] text: Text) -> Result<Buffer> {
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
pub fn unpack_token_native(#[napi(ts_arg_type = "string")] wire: Text) -> Result<TokenIds> {
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

fn encoding(name: &str) -> Result<Encoding> {
    Encoding::from_name(name).map_err(to_js)
}

/// Loads an encoding's rank data (a `build/ranks/<name>.bpe` file) into the core.
#[napi]
pub fn load_encoding(
    #[napi(ts_arg_type = "string")] encoding_name: Name,
    rank_data: &[u8],
) -> Result<()> {
    bpe::load(encoding(&encoding_name)?, rank_data).map_err(to_js)
}

/// True when the encoding's rank data is loaded.
#[napi]
pub fn is_encoding_loaded(#[napi(ts_arg_type = "string")] encoding_name: Name) -> Result<bool> {
    Ok(bpe::is_loaded(encoding(&encoding_name)?))
}

/// Ids copied into a JS-owned typed array: for the small results of a
/// tokenizer call this is much cheaper than an external buffer and its finalizer.
fn ids_to_js<'env>(env: &'env Env, ids: &[u32]) -> Result<Uint32ArraySlice<'env>> {
    Uint32ArraySlice::copy_from(env, ids).map_err(internal)
}

/// Tokenizes text, special-token text as plain text.
#[napi(ts_return_type = "Uint32Array")]
pub fn encode_ordinary<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<Uint32ArraySlice<'env>> {
    let tokenizer = bpe::get(encoding(&encoding_name)?).map_err(to_js)?;
    ids_to_js(env, &tokenizer.encode_ordinary(&text))
}

/// Tokenizes text, special-token text as plain text, into `pool` from
/// `offset` when the ids fit there (returning how many), else into a new
/// typed array. Small results then share one buffer the caller made, since a
/// new ArrayBuffer is the largest part of a small call (docs/performance.md).
#[napi(ts_return_type = "number | Uint32Array")]
pub fn encode_ordinary_into<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
    #[napi(ts_arg_type = "Uint32Array")] mut pool: Uint32ArraySlice<'_>,
    offset: u32,
) -> Result<Either<u32, Uint32ArraySlice<'env>>> {
    let tokenizer = bpe::get(encoding(&encoding_name)?).map_err(to_js)?;
    // SAFETY: JavaScript waits for this call to return and `text` is a copy,
    // so nothing else reads or writes the pool's memory meanwhile.
    let pool = unsafe { pool.as_mut() };
    let room = pool.get_mut(offset as usize..).unwrap_or_default();
    match tokenizer.encode_ordinary_into(&text, room) {
        Ok(n) => Ok(Either::A(n as u32)),
        Err(ids) => ids_to_js(env, &ids).map(Either::B),
    }
}

/// Tokenizes text, recognising the named special tokens (all of them for `null`).
#[napi(ts_return_type = "Uint32Array")]
pub fn encode_with_special<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
    allowed_special: Option<Vec<String>>,
) -> Result<Uint32ArraySlice<'env>> {
    let tokenizer = bpe::get(encoding(&encoding_name)?).map_err(to_js)?;
    let allowed = allowed_special.map_or(AllowedSpecial::All, AllowedSpecial::from_names);
    ids_to_js(env, &tokenizer.encode(&text, &allowed))
}

/// Turns ids back into text.
#[napi(ts_return_type = "string")]
pub fn decode_tokens<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "Uint32Array")] ids: Uint32ArraySlice<'_>,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<JsString<'env>> {
    let tokenizer = bpe::get(encoding(&encoding_name)?).map_err(to_js)?;
    let created = match tokenizer.decode_js(&ids).map_err(to_js)? {
        bpe::JsText::Latin1(bytes) => env.create_string_latin1(&bytes),
        bpe::JsText::Utf16(units) => env.create_string_utf16(&units),
    };
    created.map_err(internal)
}

/// A JS string of `text`: from Latin-1 when it is ASCII, else from UTF-16
/// (V8 makes a string from UTF-16 or Latin-1 with a copy, but decodes UTF-8
/// character by character; docs/performance.md).
fn text_to_js<'env>(env: &'env Env, text: &str) -> Result<JsString<'env>> {
    let created = if text.is_ascii() {
        env.create_string_latin1(text.as_bytes())
    } else {
        env.create_string_utf16(m2m_core::utf16::from_utf8(text))
    };
    created.map_err(internal)
}

/// Counts the tokens of text.
#[napi]
pub fn count_tokens(
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<u32> {
    let tokenizer = bpe::get(encoding(&encoding_name)?).map_err(to_js)?;
    Ok(tokenizer.count(&text) as u32)
}

/// Tokenizes text into `#TK|<C|O|L>|<base64>`.
#[napi]
pub fn compress_token_native(
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<String> {
    codec::compress_token_native(&text, encoding(&encoding_name)?).map_err(to_js)
}

/// Tokenizes text into the binary form `<0|1|2><varints>`.
#[napi]
pub fn compress_token_native_binary(
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<Buffer> {
    Ok(
        codec::compress_token_native_binary(&text, encoding(&encoding_name)?)
            .map_err(to_js)?
            .into(),
    )
}

/// Decodes the binary TokenNative form to text.
#[napi]
pub fn decompress_token_native_binary(bytes: &[u8]) -> Result<String> {
    codec::decompress_token_native_binary(bytes).map_err(to_js)
}

/// The binary form of a session Brotli or `#BH|` message: its head, then its payload's bytes.
#[napi]
pub fn wire_to_binary(#[napi(ts_arg_type = "string")] wire: Text) -> Result<Buffer> {
    Ok(codec::binary::to_binary(&wire).map_err(to_js)?.into())
}

/// The text form of a binary body made by `wireToBinary`.
#[napi]
pub fn binary_to_wire(bytes: &[u8]) -> Result<String> {
    codec::binary::to_text(bytes).map_err(to_js)
}

/// Brotli-compresses text as `#BR|…` (or `#M2M[v3.0]|DATA:…` in a session).
#[napi]
pub fn compress_brotli(
    #[napi(ts_arg_type = "string")] text: Text,
    quality: u32,
    session: bool,
) -> Result<String> {
    let framing = if session {
        BrotliFraming::Session
    } else {
        BrotliFraming::Stateless
    };
    codec::compress_brotli(&text, quality, framing).map_err(to_js)
}

/// Loads a trained dictionary file (`build/dictionaries/<id>.m2md`) into the
/// core; returns its wire name `<id>.<version>.<hash>`.
#[napi]
pub fn load_dictionary(file: &[u8]) -> Result<String> {
    codec::trained::load(file).map_err(to_js)
}

/// The wire names of the loaded trained dictionaries.
#[napi]
pub fn loaded_dictionaries() -> Vec<String> {
    codec::trained::loaded_names()
}

/// Compresses text with the loaded trained dictionary `id` as `#BD|…`.
#[napi]
pub fn compress_trained(
    #[napi(ts_arg_type = "string")] text: Text,
    id: String,
    quality: u32,
) -> Result<String> {
    let dictionary = codec::trained::require(&id).map_err(to_js)?;
    codec::trained::compress(&text, &dictionary, quality).map_err(to_js)
}

/// Compresses text against a session history in state `state` (`#BH|<state>[.<dictionary id>]|…`, or `:` for `|` before a deflate payload; `both`: `history` holds the other direction's history before this one's, named by `+` after the state),
/// after the trained dictionary of its family if that id is in `dictionaries` (comma-separated).
#[napi]
pub fn compress_history(
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] history: Text,
    state: String,
    dictionaries: String,
    quality: u32,
    both: bool,
) -> Result<String> {
    codec::history::compress(&text, &history, &state, &dictionaries, quality, both).map_err(to_js)
}

/// Decodes a `#BH|` message against a session history in state `state`.
#[napi]
pub fn decompress_history(
    #[napi(ts_arg_type = "string")] wire: Text,
    #[napi(ts_arg_type = "string")] history: Text,
    state: String,
) -> Result<String> {
    codec::history::decompress(&wire, &history, &state).map_err(to_js)
}

/// The history hash after `text` is appended to a history of hash `previous`.
#[napi]
pub fn history_advance(previous: String, #[napi(ts_arg_type = "string")] text: Text) -> String {
    codec::history::advance(&previous, &text)
}

/// Dictionary-codes text as `#DI|…`.
#[napi]
pub fn compress_dictionary(#[napi(ts_arg_type = "string")] text: Text) -> Result<String> {
    codec::compress_dictionary(&text).map_err(to_js)
}

/// What `decompress` returns.
#[napi(object)]
pub struct Decompressed {
    /// The original content.
    pub text: String,
    /// `token-native`, `brotli`, `dictionary` or `none`.
    pub algorithm: String,
    /// The deprecated prefix the wire string used, if any.
    pub deprecated: Option<String>,
}

impl From<codec::Decompressed> for Decompressed {
    fn from(d: codec::Decompressed) -> Self {
        Decompressed {
            text: d.text,
            algorithm: d.algorithm.name().to_owned(),
            deprecated: d.deprecated.map(str::to_owned),
        }
    }
}

/// Decodes any wire string the core handles (all but `#T1|`), as a
/// `Decompressed` object whose text is made by [`text_to_js`].
#[napi(ts_return_type = "Decompressed")]
pub fn decompress<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] wire: Text,
) -> Result<Object<'env>> {
    decompressed_to_js(env, codec::decompress(&wire).map_err(to_js)?)
}

/// A `Decompressed` object whose text is made by [`text_to_js`].
fn decompressed_to_js(env: &Env, d: codec::Decompressed) -> Result<Object<'_>> {
    let mut out = Object::new(env).map_err(internal)?;
    out.set("text", text_to_js(env, &d.text)?)
        .map_err(internal)?;
    out.set("algorithm", d.algorithm.name()).map_err(internal)?;
    if let Some(prefix) = d.deprecated {
        out.set("deprecated", prefix).map_err(internal)?;
    }
    Ok(out)
}

/// True when text starts with a prefix a decoder would interpret.
#[napi]
pub fn has_wire_prefix(#[napi(ts_arg_type = "string")] text: Head) -> bool {
    codec::has_wire_prefix(&text.0)
}

/// Encodes JSON as an M2M v1 text frame `#M2M|1|<base64>`, protected as
/// `mode` (`none`, `hmac`, `aead`) says; AEAD needs a fresh 12-byte nonce.
#[napi]
pub fn compress_frame(
    #[napi(ts_arg_type = "string")] text: Text,
    mode: String,
    key: Option<&[u8]>,
    nonce: Option<&[u8]>,
) -> Result<String> {
    let seal = frame::Seal::from_parts(&mode, key, nonce).map_err(to_js)?;
    frame::encode_text(&text, seal).map_err(to_js)
}

/// As `compressFrame`, the binary frame (`#M2M|1|` and the frame bytes).
#[napi]
pub fn compress_frame_binary(
    #[napi(ts_arg_type = "string")] text: Text,
    mode: String,
    key: Option<&[u8]>,
    nonce: Option<&[u8]>,
) -> Result<Buffer> {
    let seal = frame::Seal::from_parts(&mode, key, nonce).map_err(to_js)?;
    Ok(frame::encode(&text, seal).map_err(to_js)?.into())
}

/// Decodes a binary frame, requiring the protection `mode` with `key`.
#[napi]
pub fn decompress_frame_binary(bytes: &[u8], mode: String, key: Option<&[u8]>) -> Result<String> {
    let require = frame::Require::from_parts(&mode, key).map_err(to_js)?;
    frame::decode(bytes, require).map_err(to_js)
}

/// `decompress` requiring the protection `mode` with `key`.
#[napi(ts_return_type = "Decompressed")]
pub fn decompress_with<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] wire: Text,
    mode: String,
    key: Option<&[u8]>,
) -> Result<Object<'env>> {
    let require = frame::Require::from_parts(&mode, key).map_err(to_js)?;
    decompressed_to_js(env, codec::decompress_with(&wire, require).map_err(to_js)?)
}

/// The header of a text frame as JSON, read without a key or decompressing.
#[napi]
pub fn inspect_frame(#[napi(ts_arg_type = "string")] wire: Text) -> Result<String> {
    frame::inspect_text(&wire)
        .map(|h| h.to_json())
        .map_err(to_js)
}

/// The header of a binary frame as JSON.
#[napi]
pub fn inspect_frame_binary(bytes: &[u8]) -> Result<String> {
    frame::inspect(bytes).map(|h| h.to_json()).map_err(to_js)
}

/// The core's prefix, encoding, algorithm and error-code tables as JSON.
#[napi]
pub fn core_tables() -> String {
    codec::tables_json()
}

/// HKDF-SHA256 with salt absent.
#[napi]
pub fn hkdf_sha256(ikm: &[u8], info: &[u8], length: u32) -> Result<Buffer> {
    Ok(keys::hkdf_sha256(ikm, info, length as usize)
        .map_err(to_js)?
        .into())
}

/// The key of one `m2m/v1/{org}/...` hierarchy path.
#[napi]
pub fn hierarchy_key(master: &[u8], org: String, kind: String, ids: Vec<String>) -> Result<Buffer> {
    Ok(keys::hierarchy_key(master, &org, &kind, &ids)
        .map_err(to_js)?
        .to_vec()
        .into())
}

/// The X25519 public key of a 32-byte secret.
#[napi]
pub fn x25519_public_key(secret: &[u8]) -> Result<Buffer> {
    Ok(keys::x25519_public(secret).map_err(to_js)?.to_vec().into())
}

/// The session key of our X25519 secret and the peer's public key.
#[napi]
pub fn x25519_session_key(secret: &[u8], peer_public: &[u8]) -> Result<Buffer> {
    Ok(keys::x25519_session_key(secret, peer_public)
        .map_err(to_js)?
        .to_vec()
        .into())
}

/// A session message number as the core takes it (JavaScript numbers carry integers up to 2^53 - 1).
fn seq_of(seq: f64) -> Result<u64> {
    seal::seq_from_f64(seq).map_err(to_js)
}

/// Seals a session message (`mode` hmac or aead) as number `seq`.
#[napi]
pub fn session_seal(
    mode: String,
    key: &[u8],
    seq: f64,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Buffer> {
    let mode = seal::SealMode::from_name(&mode).map_err(to_js)?;
    Ok(seal::seal(mode, key, seq_of(seq)?, aad, plaintext)
        .map_err(to_js)?
        .into())
}

/// Opens a sealed session message; the plaintext.
#[napi]
pub fn session_open(
    mode: String,
    key: &[u8],
    seq: f64,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Buffer> {
    let mode = seal::SealMode::from_name(&mode).map_err(to_js)?;
    Ok(seal::open(mode, key, seq_of(seq)?, aad, sealed)
        .map_err(to_js)?
        .into())
}

/// Options of `compressAuto` (see `m2m_core::codec::auto::AutoSettings`).
#[napi(object)]
pub struct AutoOptions {
    /// Encoding name.
    pub encoding: String,
    /// Minimise wire tokens instead of bytes.
    pub optimize_tokens: bool,
    /// Report token counts.
    pub count_tokens: bool,
    /// Brotli in the session framing.
    pub session: bool,
    /// Passthrough below this many bytes (the core's default when absent).
    pub min_size: Option<u32>,
    /// Brotli from this many bytes (the core's default when absent).
    pub brotli_threshold: Option<u32>,
    /// Allowed algorithm names (all when absent).
    pub allowed: Option<Vec<String>>,
    /// The content's lossless T1 form, when the caller has one.
    pub token: Option<String>,
    /// Ids of loaded trained dictionaries auto may use (none when absent).
    pub dictionaries: Option<Vec<String>>,
}

impl AutoOptions {
    fn settings(&self) -> codec::auto::AutoSettings {
        codec::auto::AutoSettings {
            encoding: self.encoding.clone(),
            optimize_tokens: self.optimize_tokens,
            count_tokens: self.count_tokens,
            session: self.session,
            min_size: self.min_size,
            brotli_threshold: self.brotli_threshold,
            allowed: self.allowed.clone(),
            dictionaries: self.dictionaries.clone(),
        }
    }
}

/// What `compressAuto` returns.
#[napi(object)]
pub struct AutoChoice {
    /// The algorithm's API name.
    pub algorithm: String,
    /// The wire string; absent for passthrough and T1 (the caller holds those).
    pub wire: Option<String>,
    /// UTF-8 bytes of the wire string.
    pub wire_bytes: u32,
    /// Tokens of the content, when asked for.
    pub original_tokens: Option<u32>,
    /// Tokens of the wire string, when asked for.
    pub wire_tokens: Option<u32>,
}

impl From<codec::auto::AutoChoice> for AutoChoice {
    fn from(c: codec::auto::AutoChoice) -> Self {
        AutoChoice {
            algorithm: c.algorithm.name().to_owned(),
            wire: c.wire,
            wire_bytes: c.wire_bytes as u32,
            original_tokens: c.original_tokens.map(|t| t as u32),
            wire_tokens: c.wire_tokens.map(|t| t as u32),
        }
    }
}

/// Auto: chooses and applies an algorithm in one core call.
#[napi]
pub fn compress_auto(
    #[napi(ts_arg_type = "string")] text: Text,
    options: AutoOptions,
) -> Result<AutoChoice> {
    codec::auto::select_with(&text, &options.settings(), options.token.as_deref())
        .map(AutoChoice::from)
        .map_err(to_js)
}

// --- Work on the libuv thread pool -------------------------------------------

/// A core error carried as data, so an async call keeps its stable code.
#[napi(object)]
pub struct CoreFailure {
    /// The core's stable error code.
    pub code: String,
    /// The core's message.
    pub message: String,
}

type Work<T> = Box<dyn FnOnce() -> m2m_core::Result<T> + Send>;

/// One core call run off the JavaScript thread; settles with the value or a
/// [`CoreFailure`].
pub struct CoreJob<T> {
    work: Option<Work<T>>,
}

fn job<T>(work: impl FnOnce() -> m2m_core::Result<T> + Send + 'static) -> AsyncTask<CoreJob<T>>
where
    CoreJob<T>: Task,
{
    AsyncTask::new(CoreJob {
        work: Some(Box::new(work)),
    })
}

impl<T: Send + ToNapiValue + TypeName + 'static> Task for CoreJob<T> {
    type Output = m2m_core::Result<T>;
    type JsValue = Either<T, CoreFailure>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let work = self
            .work
            .take()
            .ok_or_else(|| napi::Error::from_reason("an m2m task ran twice"))?;
        Ok(work())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(match output {
            Ok(value) => Either::A(value),
            Err(err) => Either::B(CoreFailure {
                code: err.code().to_owned(),
                message: err.to_string(),
            }),
        })
    }
}

/// `compressTokenNative` on the thread pool.
#[napi(ts_return_type = "Promise<string | CoreFailure>")]
pub fn compress_token_native_async(
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<AsyncTask<CoreJob<String>>> {
    let encoding = encoding(&encoding_name)?;
    Ok(job(move || codec::compress_token_native(&text, encoding)))
}

/// `compressAuto` on the thread pool.
#[napi(ts_return_type = "Promise<AutoChoice | CoreFailure>")]
pub fn compress_auto_async(
    #[napi(ts_arg_type = "string")] text: Text,
    options: AutoOptions,
) -> AsyncTask<CoreJob<AutoChoice>> {
    let settings = options.settings();
    job(move || {
        codec::auto::select_with(&text, &settings, options.token.as_deref()).map(AutoChoice::from)
    })
}

/// `compressBrotli` on the thread pool.
#[napi(ts_return_type = "Promise<string | CoreFailure>")]
pub fn compress_brotli_async(
    #[napi(ts_arg_type = "string")] text: Text,
    quality: u32,
    session: bool,
) -> AsyncTask<CoreJob<String>> {
    let framing = if session {
        BrotliFraming::Session
    } else {
        BrotliFraming::Stateless
    };
    job(move || codec::compress_brotli(&text, quality, framing))
}

/// `decompress` on the thread pool.
#[napi(ts_return_type = "Promise<Decompressed | CoreFailure>")]
pub fn decompress_async(
    #[napi(ts_arg_type = "string")] wire: Text,
) -> AsyncTask<CoreJob<Decompressed>> {
    job(move || codec::decompress(&wire).map(Decompressed::from))
}

/// `countTokens` on the thread pool.
#[napi(ts_return_type = "Promise<number | CoreFailure>")]
pub fn count_tokens_async(
    #[napi(ts_arg_type = "string")] text: Text,
    #[napi(ts_arg_type = "string")] encoding_name: Name,
) -> Result<AsyncTask<CoreJob<u32>>> {
    let encoding = encoding(&encoding_name)?;
    Ok(job(move || {
        bpe::get(encoding).map(|t| t.count(&text) as u32)
    }))
}

/// Scores text with the scanner's classifier: `[score, class, start, end]`
/// (class 1 injection, 2 jailbreak, 3 exfiltration; UTF-16 offsets of the
/// highest-scoring window).
#[napi(ts_args_type = "text: string")]
pub fn classify_text(text: Utf16) -> Result<Float64Array> {
    let c = Classifier::builtin().map_err(to_js)?;
    Ok(Float64Array::new(
        c.score_utf16(&text.0).to_array().to_vec(),
    ))
}

/// The classifier's calibrated default threshold (loads the model).
#[napi]
pub fn classifier_threshold() -> Result<f64> {
    Ok(Classifier::builtin().map_err(to_js)?.threshold())
}

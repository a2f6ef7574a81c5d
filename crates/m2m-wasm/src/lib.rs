//! WebAssembly binding of `m2m-core`, built by wasm-pack. Each function
//! converts its arguments, makes one call into the core and converts the
//! result or the error; no logic lives here. Errors are thrown as JavaScript
//! `Error`s whose `code` is the core's stable code.

use js_sys::{Error as JsError, Object, Reflect, Uint32Array};
use m2m_core::bpe::{self, AllowedSpecial};
use m2m_core::classifier::Classifier;
use m2m_core::codec::{self, BrotliFraming};
use m2m_core::{base64, frame, keys, seal, token_native, varint, Encoding};
use wasm_bindgen::prelude::*;

fn to_js(err: m2m_core::Error) -> JsValue {
    let js = JsError::new(&err.to_string());
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&js, &"code".into(), &err.code().into());
    js.into()
}

fn token_ids_to_js(t: token_native::TokenIds) -> JsValue {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"encoding".into(), &t.encoding.name().into());
    let _ = Reflect::set(&obj, &"ids".into(), &Uint32Array::from(&t.ids[..]).into());
    obj.into()
}

/// Encodes ids as unsigned LEB128 varints.
#[wasm_bindgen(js_name = varintEncode)]
pub fn varint_encode(ids: &[u32]) -> Vec<u8> {
    varint::encode(ids)
}

/// Decodes a sequence of unsigned LEB128 varints.
#[wasm_bindgen(js_name = varintDecode)]
pub fn varint_decode(bytes: &[u8]) -> Result<Vec<u32>, JsValue> {
    varint::decode(bytes).map_err(to_js)
}

/// Encodes bytes as standard, padded base64.
#[wasm_bindgen(js_name = base64Encode)]
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::encode(bytes)
}

/// Decodes standard, padded base64.
#[wasm_bindgen(js_name = base64Decode)]
pub fn base64_decode(text: &str) -> Result<Vec<u8>, JsValue> {
    base64::decode(text).map_err(to_js)
}

/// Packs ids into `#TK|<C|O|L>|<base64>`.
#[wasm_bindgen(js_name = packTokenNative)]
pub fn pack_token_native(ids: &[u32], encoding: &str) -> Result<String, JsValue> {
    let encoding = Encoding::from_name(encoding).map_err(to_js)?;
    token_native::pack_text(encoding, ids).map_err(to_js)
}

/// Unpacks `#TK|<C|O|L>|<base64>` into `{ encoding, ids }`.
#[wasm_bindgen(js_name = unpackTokenNative)]
pub fn unpack_token_native(wire: &str) -> Result<JsValue, JsValue> {
    token_native::unpack_text(wire)
        .map(token_ids_to_js)
        .map_err(to_js)
}

/// Packs ids into the binary form `<0|1|2><varints>`.
#[wasm_bindgen(js_name = packTokenNativeBinary)]
pub fn pack_token_native_binary(ids: &[u32], encoding: &str) -> Result<Vec<u8>, JsValue> {
    let encoding = Encoding::from_name(encoding).map_err(to_js)?;
    token_native::pack_binary(encoding, ids).map_err(to_js)
}

/// Unpacks the binary form `<0|1|2><varints>` into `{ encoding, ids }`.
#[wasm_bindgen(js_name = unpackTokenNativeBinary)]
pub fn unpack_token_native_binary(bytes: &[u8]) -> Result<JsValue, JsValue> {
    token_native::unpack_binary(bytes)
        .map(token_ids_to_js)
        .map_err(to_js)
}

fn encoding(name: &str) -> Result<Encoding, JsValue> {
    Encoding::from_name(name).map_err(to_js)
}

/// Loads an encoding's rank data (a `build/ranks/<name>.bpe` file) into the core.
#[wasm_bindgen(js_name = loadEncoding)]
pub fn load_encoding(encoding_name: &str, rank_data: &[u8]) -> Result<(), JsValue> {
    bpe::load(encoding(encoding_name)?, rank_data).map_err(to_js)
}

/// True when the encoding's rank data is loaded.
#[wasm_bindgen(js_name = isEncodingLoaded)]
pub fn is_encoding_loaded(encoding_name: &str) -> Result<bool, JsValue> {
    Ok(bpe::is_loaded(encoding(encoding_name)?))
}

/// Tokenizes text, special-token text as plain text.
#[wasm_bindgen(js_name = encodeOrdinary)]
pub fn encode_ordinary(text: &str, encoding_name: &str) -> Result<Vec<u32>, JsValue> {
    let tokenizer = bpe::get(encoding(encoding_name)?).map_err(to_js)?;
    Ok(tokenizer.encode_ordinary(text))
}

/// Tokenizes text, recognising the named special tokens (all of them for `null`).
#[wasm_bindgen(js_name = encodeWithSpecial)]
pub fn encode_with_special(
    text: &str,
    encoding_name: &str,
    allowed_special: Option<Vec<String>>,
) -> Result<Vec<u32>, JsValue> {
    let tokenizer = bpe::get(encoding(encoding_name)?).map_err(to_js)?;
    let allowed = allowed_special.map_or(AllowedSpecial::All, AllowedSpecial::from_names);
    Ok(tokenizer.encode(text, &allowed))
}

/// Turns ids back into text.
#[wasm_bindgen(js_name = decodeTokens)]
pub fn decode_tokens(ids: &[u32], encoding_name: &str) -> Result<String, JsValue> {
    let tokenizer = bpe::get(encoding(encoding_name)?).map_err(to_js)?;
    tokenizer.decode(ids).map_err(to_js)
}

/// Every token of an encoding for the JavaScript side's decoder (see
/// `m2m_core::bpe::TokenTexts`).
#[wasm_bindgen]
pub struct TokenTexts(bpe::TokenTexts);

#[wasm_bindgen]
impl TokenTexts {
    /// The whole-character tokens' texts, concatenated.
    #[wasm_bindgen(getter)]
    pub fn text(&self) -> String {
        self.0.text.clone()
    }

    /// Where each token's text ends, in UTF-16 units.
    #[wasm_bindgen(getter)]
    pub fn ends(&self) -> Vec<u32> {
        self.0.ends.clone()
    }

    /// The bytes of the tokens that cut a character, concatenated.
    #[wasm_bindgen(getter = cutBytes)]
    pub fn cut_bytes(&self) -> Vec<u8> {
        self.0.cut_bytes.clone()
    }

    /// Where each token's cut bytes end.
    #[wasm_bindgen(getter = cutEnds)]
    pub fn cut_ends(&self) -> Vec<u32> {
        self.0.cut_ends.clone()
    }
}

/// The token texts of an encoding.
#[wasm_bindgen(js_name = tokenTexts)]
pub fn token_texts(encoding_name: &str) -> Result<TokenTexts, JsValue> {
    let tokenizer = bpe::get(encoding(encoding_name)?).map_err(to_js)?;
    Ok(TokenTexts(tokenizer.token_texts()))
}

/// Counts the tokens of text.
#[wasm_bindgen(js_name = countTokens)]
pub fn count_tokens(text: &str, encoding_name: &str) -> Result<u32, JsValue> {
    let tokenizer = bpe::get(encoding(encoding_name)?).map_err(to_js)?;
    Ok(tokenizer.count(text) as u32)
}

/// Tokenizes text into `#TK|<C|O|L>|<base64>`.
#[wasm_bindgen(js_name = compressTokenNative)]
pub fn compress_token_native(text: &str, encoding_name: &str) -> Result<String, JsValue> {
    codec::compress_token_native(text, encoding(encoding_name)?).map_err(to_js)
}

/// Tokenizes text into the binary form `<0|1|2><varints>`.
#[wasm_bindgen(js_name = compressTokenNativeBinary)]
pub fn compress_token_native_binary(text: &str, encoding_name: &str) -> Result<Vec<u8>, JsValue> {
    codec::compress_token_native_binary(text, encoding(encoding_name)?).map_err(to_js)
}

/// Decodes the binary TokenNative form to text.
#[wasm_bindgen(js_name = decompressTokenNativeBinary)]
pub fn decompress_token_native_binary(bytes: &[u8]) -> Result<String, JsValue> {
    codec::decompress_token_native_binary(bytes).map_err(to_js)
}

/// The binary form of a session Brotli or `#BH|` message: its head, then its payload's bytes.
#[wasm_bindgen(js_name = wireToBinary)]
pub fn wire_to_binary(wire: &str) -> Result<Vec<u8>, JsValue> {
    codec::binary::to_binary(wire).map_err(to_js)
}

/// The text form of a binary body made by `wireToBinary`.
#[wasm_bindgen(js_name = binaryToWire)]
pub fn binary_to_wire(bytes: &[u8]) -> Result<String, JsValue> {
    codec::binary::to_text(bytes).map_err(to_js)
}

/// Loads a trained dictionary file into the core; returns its wire name.
#[wasm_bindgen(js_name = loadDictionary)]
pub fn load_dictionary(file: &[u8]) -> Result<String, JsValue> {
    codec::trained::load(file).map_err(to_js)
}

/// The wire names of the loaded trained dictionaries.
#[wasm_bindgen(js_name = loadedDictionaries)]
pub fn loaded_dictionaries() -> Vec<JsValue> {
    codec::trained::loaded_names()
        .into_iter()
        .map(JsValue::from)
        .collect()
}

/// Compresses text with the loaded trained dictionary `id` as `#BD|…`.
#[wasm_bindgen(js_name = compressTrained)]
pub fn compress_trained(text: &str, id: &str, quality: u32) -> Result<String, JsValue> {
    let dictionary = codec::trained::require(id).map_err(to_js)?;
    codec::trained::compress(text, &dictionary, quality).map_err(to_js)
}

/// Brotli-compresses text as `#BR|…` (or `#M2M[v3.0]|DATA:…` in a session).
#[wasm_bindgen(js_name = compressBrotli)]
pub fn compress_brotli(text: &str, quality: u32, session: bool) -> Result<String, JsValue> {
    let framing = if session {
        BrotliFraming::Session
    } else {
        BrotliFraming::Stateless
    };
    codec::compress_brotli(text, quality, framing).map_err(to_js)
}

/// Compresses text against a session history in state `state` (`#BH|<state>[.<dictionary id>]|…`, or `:` for `|` before a deflate payload; `both`: `history` holds the other direction's history before this one's, named by `+` after the state).
#[wasm_bindgen(js_name = compressHistory)]
pub fn compress_history(
    text: &str,
    history: &str,
    state: &str,
    dictionaries: &str,
    quality: u32,
    both: bool,
) -> Result<String, JsValue> {
    codec::history::compress(text, history, state, dictionaries, quality, both).map_err(to_js)
}

/// Decodes a `#BH|` message against a session history in state `state`.
#[wasm_bindgen(js_name = decompressHistory)]
pub fn decompress_history(wire: &str, history: &str, state: &str) -> Result<String, JsValue> {
    codec::history::decompress(wire, history, state).map_err(to_js)
}

/// The history hash after `text` is appended to a history of hash `previous`.
#[wasm_bindgen(js_name = historyAdvance)]
pub fn history_advance(previous: &str, text: &str) -> String {
    codec::history::advance(previous, text)
}

/// Dictionary-codes text as `#DI|…`.
#[wasm_bindgen(js_name = compressDictionary)]
pub fn compress_dictionary(text: &str) -> Result<String, JsValue> {
    codec::compress_dictionary(text).map_err(to_js)
}

/// Decodes any wire string the core handles (all but `#T1|`) into
/// `{ text, algorithm, deprecated }`.
#[wasm_bindgen]
pub fn decompress(wire: &str) -> Result<JsValue, JsValue> {
    codec::decompress(wire)
        .map(decompressed_to_js)
        .map_err(to_js)
}

fn decompressed_to_js(d: codec::Decompressed) -> JsValue {
    let obj = Object::new();
    let deprecated = d.deprecated.map_or(JsValue::NULL, JsValue::from);
    let _ = Reflect::set(&obj, &"text".into(), &d.text.into());
    let _ = Reflect::set(&obj, &"algorithm".into(), &d.algorithm.name().into());
    let _ = Reflect::set(&obj, &"deprecated".into(), &deprecated);
    obj.into()
}

/// True when text starts with a prefix a decoder would interpret.
#[wasm_bindgen(js_name = hasWirePrefix)]
pub fn has_wire_prefix(text: &str) -> bool {
    codec::has_wire_prefix(text)
}

/// Encodes JSON as an M2M v1 text frame `#M2M|1|<base64>`, protected as
/// `mode` (`none`, `hmac`, `aead`) says; AEAD needs a fresh 12-byte nonce.
#[wasm_bindgen(js_name = compressFrame)]
pub fn compress_frame(
    text: &str,
    mode: &str,
    key: Option<Vec<u8>>,
    nonce: Option<Vec<u8>>,
) -> Result<String, JsValue> {
    let seal = frame::Seal::from_parts(mode, key.as_deref(), nonce.as_deref()).map_err(to_js)?;
    frame::encode_text(text, seal).map_err(to_js)
}

/// As `compressFrame`, the binary frame (`#M2M|1|` and the frame bytes).
#[wasm_bindgen(js_name = compressFrameBinary)]
pub fn compress_frame_binary(
    text: &str,
    mode: &str,
    key: Option<Vec<u8>>,
    nonce: Option<Vec<u8>>,
) -> Result<Vec<u8>, JsValue> {
    let seal = frame::Seal::from_parts(mode, key.as_deref(), nonce.as_deref()).map_err(to_js)?;
    frame::encode(text, seal).map_err(to_js)
}

/// Decodes a binary frame, requiring the protection `mode` with `key`.
#[wasm_bindgen(js_name = decompressFrameBinary)]
pub fn decompress_frame_binary(
    bytes: &[u8],
    mode: &str,
    key: Option<Vec<u8>>,
) -> Result<String, JsValue> {
    let require = frame::Require::from_parts(mode, key.as_deref()).map_err(to_js)?;
    frame::decode(bytes, require).map_err(to_js)
}

/// `decompress` requiring the protection `mode` with `key`.
#[wasm_bindgen(js_name = decompressWith)]
pub fn decompress_with(wire: &str, mode: &str, key: Option<Vec<u8>>) -> Result<JsValue, JsValue> {
    let require = frame::Require::from_parts(mode, key.as_deref()).map_err(to_js)?;
    codec::decompress_with(wire, require)
        .map(decompressed_to_js)
        .map_err(to_js)
}

/// The header of a text frame as JSON, read without a key or decompressing.
#[wasm_bindgen(js_name = inspectFrame)]
pub fn inspect_frame(wire: &str) -> Result<String, JsValue> {
    frame::inspect_text(wire)
        .map(|h| h.to_json())
        .map_err(to_js)
}

/// The header of a binary frame as JSON.
#[wasm_bindgen(js_name = inspectFrameBinary)]
pub fn inspect_frame_binary(bytes: &[u8]) -> Result<String, JsValue> {
    frame::inspect(bytes).map(|h| h.to_json()).map_err(to_js)
}

/// The core's prefix, encoding, algorithm and error-code tables as JSON.
#[wasm_bindgen(js_name = coreTables)]
pub fn core_tables() -> String {
    codec::tables_json()
}

/// HKDF-SHA256 with salt absent.
#[wasm_bindgen(js_name = hkdfSha256)]
pub fn hkdf_sha256(ikm: &[u8], info: &[u8], length: u32) -> Result<Vec<u8>, JsValue> {
    keys::hkdf_sha256(ikm, info, length as usize).map_err(to_js)
}

/// The key of one `m2m/v1/{org}/...` hierarchy path.
#[wasm_bindgen(js_name = hierarchyKey)]
pub fn hierarchy_key(
    master: &[u8],
    org: &str,
    kind: &str,
    ids: Vec<String>,
) -> Result<Vec<u8>, JsValue> {
    keys::hierarchy_key(master, org, kind, &ids)
        .map(|k| k.to_vec())
        .map_err(to_js)
}

/// The X25519 public key of a 32-byte secret.
#[wasm_bindgen(js_name = x25519PublicKey)]
pub fn x25519_public_key(secret: &[u8]) -> Result<Vec<u8>, JsValue> {
    keys::x25519_public(secret)
        .map(|k| k.to_vec())
        .map_err(to_js)
}

/// The session key of our X25519 secret and the peer's public key.
#[wasm_bindgen(js_name = x25519SessionKey)]
pub fn x25519_session_key(secret: &[u8], peer_public: &[u8]) -> Result<Vec<u8>, JsValue> {
    keys::x25519_session_key(secret, peer_public)
        .map(|k| k.to_vec())
        .map_err(to_js)
}

/// A session message number as the core takes it (JavaScript numbers carry integers up to 2^53 - 1).
fn seq_of(seq: f64) -> Result<u64, JsValue> {
    seal::seq_from_f64(seq).map_err(to_js)
}

/// Seals a session message (`mode` hmac or aead) as number `seq`.
#[wasm_bindgen(js_name = sessionSeal)]
pub fn session_seal(
    mode: &str,
    key: &[u8],
    seq: f64,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, JsValue> {
    let mode = seal::SealMode::from_name(mode).map_err(to_js)?;
    seal::seal(mode, key, seq_of(seq)?, aad, plaintext).map_err(to_js)
}

/// Opens a sealed session message; the plaintext.
#[wasm_bindgen(js_name = sessionOpen)]
pub fn session_open(
    mode: &str,
    key: &[u8],
    seq: f64,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, JsValue> {
    let mode = seal::SealMode::from_name(mode).map_err(to_js)?;
    seal::open(mode, key, seq_of(seq)?, aad, sealed).map_err(to_js)
}

/// Auto: chooses and applies an algorithm in one core call (see
/// `m2m_core::codec::auto`); `{ algorithm, wire, wireBytes, originalTokens,
/// wireTokens }`, `wire` null for passthrough and T1.
#[wasm_bindgen(js_name = compressAuto)]
pub fn compress_auto(text: &str, options: JsValue) -> Result<JsValue, JsValue> {
    let get = |key: &str| Reflect::get(&options, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let size = |key: &str| get(key).as_f64().map(|v| v as u32);
    let allowed = get("allowed");
    let names = |v: JsValue| {
        if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(
                js_sys::Array::from(&v)
                    .iter()
                    .map(|v| v.as_string().unwrap_or_default())
                    .collect(),
            )
        }
    };
    let settings = codec::auto::AutoSettings {
        encoding: get("encoding").as_string().unwrap_or_default(),
        optimize_tokens: get("optimizeTokens").is_truthy(),
        count_tokens: get("countTokens").is_truthy(),
        session: get("session").is_truthy(),
        min_size: size("minSize"),
        brotli_threshold: size("brotliThreshold"),
        allowed: names(allowed),
        dictionaries: names(get("dictionaries")),
    };
    let token = get("token").as_string();
    let c = codec::auto::select_with(text, &settings, token.as_deref()).map_err(to_js)?;
    let obj = Object::new();
    let opt = |v: Option<usize>| v.map_or(JsValue::UNDEFINED, |t| JsValue::from(t as u32));
    let wire = c.wire.map_or(JsValue::NULL, JsValue::from);
    let _ = Reflect::set(&obj, &"algorithm".into(), &c.algorithm.name().into());
    let _ = Reflect::set(&obj, &"wire".into(), &wire);
    let _ = Reflect::set(
        &obj,
        &"wireBytes".into(),
        &JsValue::from(c.wire_bytes as u32),
    );
    let _ = Reflect::set(&obj, &"originalTokens".into(), &opt(c.original_tokens));
    let _ = Reflect::set(&obj, &"wireTokens".into(), &opt(c.wire_tokens));
    Ok(obj.into())
}

/// Scores text with the scanner's classifier: `[score, class, start, end]`
/// (class 1 injection, 2 jailbreak, 3 exfiltration; UTF-16 offsets of the
/// highest-scoring window).
#[wasm_bindgen(js_name = classifyText)]
pub fn classify_text(text: &str) -> Result<Vec<f64>, JsValue> {
    let c = Classifier::builtin().map_err(to_js)?;
    Ok(c.score_str(text).to_array().to_vec())
}

/// The classifier's calibrated default threshold (loads the model).
#[wasm_bindgen(js_name = classifierThreshold)]
pub fn classifier_threshold() -> Result<f64, JsValue> {
    Ok(Classifier::builtin().map_err(to_js)?.threshold())
}

//! WebAssembly binding of `m2m-core`, built by wasm-pack. Each function
//! converts its arguments, makes one call into the core and converts the
//! result or the error; no logic lives here. Errors are thrown as JavaScript
//! `Error`s whose `code` is the core's stable code.

use js_sys::{Error as JsError, Object, Reflect, Uint32Array};
use m2m_core::{base64, token_native, varint, Encoding};
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

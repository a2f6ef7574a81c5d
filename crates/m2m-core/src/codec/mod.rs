//! The wire formats of the protocol and one entry point to decode any of them.
//!
//! | prefix | algorithm | here |
//! | --- | --- | --- |
//! | `#TK\|<C\|O\|L>\|` | TokenNative: base64 varint BPE ids | encode + decode |
//! | `#BR\|` | Brotli + base64 (stateless) | encode + decode |
//! | `#M2M[v3.0]\|DATA:` | Brotli + base64 (inside sessions) | encode + decode |
//! | `#M2M[v2.0]\|DATA:` | zlib + base64, deprecated | decode only |
//! | `#DI\|`, `#M2M\|` | Dictionary | encode `#DI\|`, decode both |
//! | `#T1\|` | Token (abbreviated JSON) | in the TypeScript layer |
//! | anything else | None (passthrough) | decodes to itself |

pub mod brotli;
pub mod dictionary;
mod recycle;
#[cfg(test)]
mod tests;

pub use self::brotli::DEFAULT_QUALITY as DEFAULT_BROTLI_QUALITY;

use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::limits::{check_message_size, MAX_DECOMPRESSED_BYTES};
use crate::{base64, bpe, token_native};

/// Wire prefixes, in one place.
pub mod prefix {
    /// TokenNative.
    pub const TOKEN_NATIVE: &str = "#TK|";
    /// Token (T1), handled by the TypeScript layer.
    pub const TOKEN: &str = "#T1|";
    /// Brotli, stateless form.
    pub const BROTLI: &str = "#BR|";
    /// Brotli inside a session's DATA message.
    pub const BROTLI_SESSION: &str = "#M2M[v3.0]|DATA:";
    /// zlib, the deprecated v2 framing (decoded, never emitted).
    pub const ZLIB_LEGACY: &str = "#M2M[v2.0]|DATA:";
    /// Dictionary.
    pub const DICTIONARY: &str = "#DI|";
    /// Dictionary, the older prefix (decoded, never emitted).
    pub const DICTIONARY_LEGACY: &str = "#M2M|";
    /// Start of every versioned `#M2M[vX.Y]` framing.
    pub const VERSIONED: &str = "#M2M[";

    /// Every prefix a decoder recognises.
    pub const ALL: [&str; 8] = [
        TOKEN_NATIVE,
        TOKEN,
        BROTLI,
        BROTLI_SESSION,
        ZLIB_LEGACY,
        DICTIONARY,
        DICTIONARY_LEGACY,
        VERSIONED,
    ];

    /// The length of the longest prefix in [`ALL`] (all are ASCII, so this
    /// is both bytes and UTF-16 units): a reader of the start of a text needs
    /// no more to tell whether it has a wire prefix.
    pub const MAX_LEN: usize = {
        let mut max = 0;
        let mut i = 0;
        while i < ALL.len() {
            if ALL[i].len() > max {
                max = ALL[i].len();
            }
            i += 1;
        }
        max
    };
}

/// A compression algorithm of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `#TK|`.
    TokenNative,
    /// `#T1|` (TypeScript layer).
    Token,
    /// `#BR|` and `#M2M[v3.0]|DATA:` (and the deprecated zlib framing).
    Brotli,
    /// `#DI|`.
    Dictionary,
    /// Passthrough.
    None,
}

impl Algorithm {
    /// The API name: `token-native`, `token`, `brotli`, `dictionary`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::TokenNative => "token-native",
            Algorithm::Token => "token",
            Algorithm::Brotli => "brotli",
            Algorithm::Dictionary => "dictionary",
            Algorithm::None => "none",
        }
    }
}

/// Where a Brotli message goes: a stateless message or a session's DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrotliFraming {
    /// `#BR|<base64>`.
    Stateless,
    /// `#M2M[v3.0]|DATA:<base64>`.
    Session,
}

/// The result of decoding a wire string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decompressed {
    /// The original content.
    pub text: String,
    /// The algorithm the wire string used.
    pub algorithm: Algorithm,
    /// Set when the wire string used a deprecated framing (the prefix).
    pub deprecated: Option<&'static str>,
}

/// True when `text` starts with a prefix a decoder would interpret, so it
/// must never be sent as passthrough.
pub fn has_wire_prefix(text: &str) -> bool {
    prefix::ALL.iter().any(|p| text.starts_with(p))
}

fn check_content_size(text: &str) -> Result<()> {
    if text.len() > MAX_DECOMPRESSED_BYTES {
        return Err(Error::ContentTooLarge {
            limit: "content size",
            max: MAX_DECOMPRESSED_BYTES,
            actual: text.len(),
        });
    }
    Ok(())
}

/// Tokenizes `text` (specials as plain text, so any text round-trips) and
/// packs the ids as `#TK|<C|O|L>|<base64>`.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::EncodingNotLoaded`].
pub fn compress_token_native(text: &str, encoding: Encoding) -> Result<String> {
    check_content_size(text)?;
    let ids = bpe::get(encoding)?.encode_ordinary(text);
    token_native::pack_text(encoding, &ids)
}

/// As [`compress_token_native`], in the binary form `<0|1|2><varints>`.
///
/// # Errors
/// As [`compress_token_native`].
pub fn compress_token_native_binary(text: &str, encoding: Encoding) -> Result<Vec<u8>> {
    check_content_size(text)?;
    let ids = bpe::get(encoding)?.encode_ordinary(text);
    token_native::pack_binary(encoding, &ids)
}

/// Decodes ids to text, refusing before any allocation if the text would
/// exceed the decompressed-size limit (a few ids of long tokens can expand far).
fn detokenize(t: token_native::TokenIds) -> Result<String> {
    let tokenizer = bpe::get(t.encoding)?;
    let mut total = 0usize;
    for &id in &t.ids {
        total += tokenizer
            .token_bytes(id)
            .ok_or(Error::UnknownToken { id })?
            .len();
        if total > MAX_DECOMPRESSED_BYTES {
            return Err(Error::ContentTooLarge {
                limit: "decompressed size",
                max: MAX_DECOMPRESSED_BYTES,
                actual: total,
            });
        }
    }
    tokenizer.decode(&t.ids)
}

/// Decodes the binary TokenNative form back to text.
///
/// # Errors
/// The errors of [`token_native::unpack_binary`], [`Error::UnknownToken`],
/// [`Error::InvalidUtf8`], [`Error::ContentTooLarge`], [`Error::EncodingNotLoaded`].
pub fn decompress_token_native_binary(bytes: &[u8]) -> Result<String> {
    detokenize(token_native::unpack_binary(bytes)?)
}

/// Brotli-compresses `text` and frames it.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::InvalidOption`] for a quality above 11.
pub fn compress_brotli(text: &str, quality: u32, framing: BrotliFraming) -> Result<String> {
    check_content_size(text)?;
    let packed = brotli::compress(text.as_bytes(), quality)?;
    let head = match framing {
        BrotliFraming::Stateless => prefix::BROTLI,
        BrotliFraming::Session => prefix::BROTLI_SESSION,
    };
    let mut wire = String::with_capacity(head.len() + (packed.len() + 2) / 3 * 4);
    wire.push_str(head);
    base64::encode_into(&packed, &mut wire);
    check_message_size(wire.len())?;
    Ok(wire)
}

/// Dictionary-codes `text` as `#DI|...`.
///
/// # Errors
/// [`Error::ContentTooLarge`].
pub fn compress_dictionary(text: &str) -> Result<String> {
    check_content_size(text)?;
    let wire = format!("{}{}", prefix::DICTIONARY, dictionary::encode(text));
    check_message_size(wire.len())?;
    Ok(wire)
}

fn utf8(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

/// Decodes any wire string this core handles: TokenNative, Brotli (both
/// framings), the deprecated zlib framing, Dictionary (both prefixes), and
/// passthrough for text without a recognised prefix.
///
/// # Errors
/// [`Error::ContentTooLarge`] (message or output), [`Error::UnsupportedAlgorithm`]
/// for `#T1|` (decoded in TypeScript) and unknown `#M2M[vX.Y]` versions, and
/// each format's own errors ([`Error::DecompressionFailed`], base64, varint,
/// token and UTF-8 errors). Never partial output.
pub fn decompress(wire: &str) -> Result<Decompressed> {
    check_message_size(wire.len())?;
    let done = |text, algorithm| Decompressed {
        text,
        algorithm,
        deprecated: None,
    };
    if wire.starts_with(prefix::TOKEN_NATIVE) {
        return Ok(done(
            detokenize(token_native::unpack_text(wire)?)?,
            Algorithm::TokenNative,
        ));
    }
    if let Some(b64) = wire
        .strip_prefix(prefix::BROTLI)
        .or_else(|| wire.strip_prefix(prefix::BROTLI_SESSION))
    {
        return Ok(done(
            utf8(brotli::decompress(&base64::decode(b64)?)?)?,
            Algorithm::Brotli,
        ));
    }
    if let Some(b64) = wire.strip_prefix(prefix::ZLIB_LEGACY) {
        let text = utf8(brotli::inflate_zlib(&base64::decode(b64)?)?)?;
        return Ok(Decompressed {
            text,
            algorithm: Algorithm::Brotli,
            deprecated: Some(prefix::ZLIB_LEGACY),
        });
    }
    if let Some(body) = wire.strip_prefix(prefix::DICTIONARY) {
        return Ok(done(
            dictionary::decode(body, MAX_DECOMPRESSED_BYTES)?,
            Algorithm::Dictionary,
        ));
    }
    if let Some(body) = wire.strip_prefix(prefix::DICTIONARY_LEGACY) {
        return Ok(done(
            dictionary::decode(body, MAX_DECOMPRESSED_BYTES)?,
            Algorithm::Dictionary,
        ));
    }
    if wire.starts_with(prefix::TOKEN) {
        return Err(Error::UnsupportedAlgorithm {
            name: "#T1| is decoded by the TypeScript layer, not the core".to_owned(),
        });
    }
    if wire.starts_with(prefix::VERSIONED) {
        let name = wire.chars().take_while(|&c| c != '|').take(24).collect();
        return Err(Error::UnsupportedAlgorithm { name });
    }
    Ok(done(wire.to_owned(), Algorithm::None))
}

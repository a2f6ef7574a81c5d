//! The wire formats of the protocol and one entry point to decode any of them.
//!
//! | prefix | algorithm | here |
//! | --- | --- | --- |
//! | `#TK\|<C\|O\|L>\|` | TokenNative: base64 varint BPE ids | encode + decode |
//! | `#BR\|` | Brotli + base64 (stateless) | encode + decode |
//! | `#BD\|<id>.<version>.<hash>\|` | Brotli or deflate with a trained dictionary + base85 (see [`trained`]) | encode + decode |
//! | `#M2M[v3.0]\|DATA:` | Brotli + base64 (inside sessions) | encode + decode |
//! | `#M2M[v2.0]\|DATA:` | zlib + base64, deprecated | decode only |
//! | `#M2M\|1\|` | M2M v1 frame (see [`crate::frame`]) | encode + decode |
//! | `#M2M\|<digits>\|` | a frame of another version | an error, never Dictionary |
//! | `#DI\|`, `#M2M\|` | Dictionary | encode `#DI\|`, decode both |
//! | `#T1\|` | Token (abbreviated JSON) | in the TypeScript layer |
//! | anything else | None (passthrough) | decodes to itself |
//!
//! Over channels that carry bytes, session Brotli and `#BH|` messages also
//! have a binary form: their head, then the payload's bytes ([`binary`]).

pub mod auto;
#[cfg(test)]
mod auto_tests;
pub mod binary;
#[cfg(test)]
mod binary_tests;
pub mod brotli;
pub mod deflate;
pub mod dictionary;
pub mod history;
#[cfg(test)]
mod history_tests;
pub mod preset;
mod recycle;
#[cfg(test)]
mod tests;
pub mod trained;
#[cfg(test)]
mod trained_tests;

pub use self::brotli::DEFAULT_QUALITY as DEFAULT_BROTLI_QUALITY;

use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::limits::{check_message_size, MAX_DECOMPRESSED_BYTES};
use crate::{base64, bpe, frame, token_native};

/// Wire prefixes, in one place.
pub mod prefix {
    /// TokenNative.
    pub const TOKEN_NATIVE: &str = "#TK|";
    /// Token (T1), handled by the TypeScript layer.
    pub const TOKEN: &str = "#T1|";
    /// Brotli, stateless form.
    pub const BROTLI: &str = "#BR|";
    /// Brotli with a trained dictionary, followed by `<id>.<version>.<hash>|`.
    pub const BROTLI_DICTIONARY: &str = "#BD|";
    /// Brotli against a session's history, followed by `<state>|<dictionary id>|`.
    pub const HISTORY: &str = "#BH|";
    /// Brotli inside a session's DATA message.
    pub const BROTLI_SESSION: &str = "#M2M[v3.0]|DATA:";
    /// zlib, the deprecated v2 framing (decoded, never emitted).
    pub const ZLIB_LEGACY: &str = "#M2M[v2.0]|DATA:";
    /// Dictionary.
    pub const DICTIONARY: &str = "#DI|";
    /// Dictionary, the older prefix (decoded, never emitted). Followed by
    /// digits and `|` it starts a frame instead.
    pub const DICTIONARY_LEGACY: &str = "#M2M|";
    /// The M2M v1 frame (`#M2M|<version>|`, version 1).
    pub const FRAME_V1: &str = "#M2M|1|";
    /// Start of every versioned `#M2M[vX.Y]` framing.
    pub const VERSIONED: &str = "#M2M[";

    /// Every prefix a decoder recognises.
    pub const ALL: [&str; 11] = [
        TOKEN_NATIVE,
        TOKEN,
        BROTLI,
        BROTLI_DICTIONARY,
        HISTORY,
        BROTLI_SESSION,
        ZLIB_LEGACY,
        DICTIONARY,
        DICTIONARY_LEGACY,
        FRAME_V1,
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
    /// `#M2M|1|`, the M2M v1 frame.
    Frame,
    /// Passthrough.
    None,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::TokenNative,
        Algorithm::Token,
        Algorithm::Brotli,
        Algorithm::Dictionary,
        Algorithm::Frame,
        Algorithm::None,
    ];

    /// The algorithm of an API name ([`Algorithm::name`]).
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] for any other name.
    pub fn from_name(name: &str) -> Result<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| Error::UnsupportedAlgorithm {
                name: name.to_owned(),
            })
    }

    /// The API name: `token-native`, `token`, `brotli`, `dictionary`, `m2m`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::TokenNative => "token-native",
            Algorithm::Token => "token",
            Algorithm::Brotli => "brotli",
            Algorithm::Dictionary => "dictionary",
            Algorithm::Frame => "m2m",
            Algorithm::None => "none",
        }
    }
}

/// What the start of a wire string says it is: the one place that reads
/// prefixes, so no prefix can be mistaken for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind<'a> {
    /// `#TK|`.
    TokenNative,
    /// `#T1|`.
    Token,
    /// `#BR|`.
    Brotli,
    /// `#BD|`.
    BrotliDictionary,
    /// `#BH|`.
    History,
    /// `#M2M[v3.0]|DATA:`.
    BrotliSession,
    /// `#M2M[v2.0]|DATA:`.
    ZlibLegacy,
    /// Another `#M2M[...` framing.
    VersionedUnknown,
    /// `#DI|`.
    Dictionary,
    /// `#M2M|` not followed by a frame version.
    DictionaryLegacy,
    /// `#M2M|<digits>|`: a frame of this version (the digits), never Dictionary.
    Frame(&'a str),
    /// No known prefix.
    None,
}

impl<'a> WireKind<'a> {
    /// Classifies a wire string by its prefix.
    pub fn of(wire: &'a str) -> WireKind<'a> {
        if let Some(rest) = wire.strip_prefix(prefix::DICTIONARY_LEGACY) {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && rest.as_bytes().get(digits) == Some(&b'|') {
                return WireKind::Frame(&rest[..digits]);
            }
            return WireKind::DictionaryLegacy;
        }
        let table: [(&str, WireKind<'a>); 9] = [
            (prefix::TOKEN_NATIVE, WireKind::TokenNative),
            (prefix::TOKEN, WireKind::Token),
            (prefix::BROTLI, WireKind::Brotli),
            (prefix::BROTLI_DICTIONARY, WireKind::BrotliDictionary),
            (prefix::HISTORY, WireKind::History),
            (prefix::BROTLI_SESSION, WireKind::BrotliSession),
            (prefix::ZLIB_LEGACY, WireKind::ZlibLegacy),
            (prefix::VERSIONED, WireKind::VersionedUnknown),
            (prefix::DICTIONARY, WireKind::Dictionary),
        ];
        table
            .iter()
            .find(|(p, _)| wire.starts_with(p))
            .map_or(WireKind::None, |(_, kind)| *kind)
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
    WireKind::of(text) != WireKind::None
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
    compress_brotli_tuned(text, brotli::Tuning::plain(quality, text.len()), framing)
}

/// As [`compress_brotli`] with every encoder setting of `tuning` (what auto
/// uses: [`auto::brotli_tuning_for`]).
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::InvalidOption`] for a quality above
/// 11 or a window outside 10–24.
pub fn compress_brotli_tuned(
    text: &str,
    tuning: brotli::Tuning,
    framing: BrotliFraming,
) -> Result<String> {
    check_content_size(text)?;
    let packed = brotli::compress_tuned(text.as_bytes(), tuning)?;
    let head = match framing {
        BrotliFraming::Stateless => prefix::BROTLI,
        BrotliFraming::Session => prefix::BROTLI_SESSION,
    };
    let mut wire = String::with_capacity(head.len() + base64::encoded_len(packed.len()));
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
/// framings), the deprecated zlib framing, Dictionary (both prefixes), an
/// unprotected M2M v1 frame, and passthrough for text without a recognised
/// prefix.
///
/// # Errors
/// [`Error::ContentTooLarge`] (message or output), [`Error::UnsupportedAlgorithm`]
/// for `#T1|` (decoded in TypeScript) and unknown `#M2M[vX.Y]` versions,
/// [`Error::UnsupportedVersion`] for `#M2M|<n>|` frames other than version 1,
/// [`Error::SecurityViolation`] for a protected frame (it needs its key: see
/// [`decompress_with`]), and each format's own errors. Never partial output.
pub fn decompress(wire: &str) -> Result<Decompressed> {
    decompress_with(wire, frame::Require::None)
}

/// As [`decompress`], with the protection the receiver requires. With
/// [`frame::Require::Hmac`] or [`frame::Require::Aead`] only an M2M v1 frame
/// in that mode is accepted: any other message, a frame in another mode
/// included, is an [`Error::SecurityViolation`].
///
/// # Errors
/// As [`decompress`], and the errors of [`frame::decode_text`].
pub fn decompress_with(wire: &str, require: frame::Require<'_>) -> Result<Decompressed> {
    check_message_size(wire.len())?;
    let done = |text, algorithm| Decompressed {
        text,
        algorithm,
        deprecated: None,
    };
    let kind = WireKind::of(wire);
    if require.mode() != frame::SecurityMode::None && !matches!(kind, WireKind::Frame(_)) {
        return Err(Error::SecurityViolation {
            required: require.mode().name(),
            found: format!("not an M2M frame ({})", kind_algorithm(kind).name()),
        });
    }
    match kind {
        WireKind::TokenNative => Ok(done(
            detokenize(token_native::unpack_text(wire)?)?,
            Algorithm::TokenNative,
        )),
        WireKind::Brotli | WireKind::BrotliSession => {
            let b64 = wire
                .strip_prefix(prefix::BROTLI)
                .or_else(|| wire.strip_prefix(prefix::BROTLI_SESSION))
                .unwrap_or_default();
            Ok(done(
                utf8(brotli::decompress(&base64::decode(b64)?)?)?,
                Algorithm::Brotli,
            ))
        }
        WireKind::BrotliDictionary => {
            Ok(done(utf8(trained::decompress(wire)?)?, Algorithm::Brotli))
        }
        WireKind::History => Err(Error::HistoryMismatch {
            found: history::state_of(wire).unwrap_or("?").to_owned(),
            expected: "none here (a #BH| message is decoded within its session)".to_owned(),
        }),
        WireKind::ZlibLegacy => {
            let b64 = &wire[prefix::ZLIB_LEGACY.len()..];
            let text = utf8(brotli::inflate_zlib(&base64::decode(b64)?)?)?;
            Ok(Decompressed {
                text,
                algorithm: Algorithm::Brotli,
                deprecated: Some(prefix::ZLIB_LEGACY),
            })
        }
        WireKind::Dictionary => Ok(done(
            dictionary::decode(&wire[prefix::DICTIONARY.len()..], MAX_DECOMPRESSED_BYTES)?,
            Algorithm::Dictionary,
        )),
        WireKind::DictionaryLegacy => Ok(done(
            dictionary::decode(
                &wire[prefix::DICTIONARY_LEGACY.len()..],
                MAX_DECOMPRESSED_BYTES,
            )?,
            Algorithm::Dictionary,
        )),
        WireKind::Frame("1") => Ok(done(frame::decode_text(wire, require)?, Algorithm::Frame)),
        WireKind::Frame(version) => Err(Error::UnsupportedVersion {
            version: version.chars().take(24).collect(),
        }),
        WireKind::Token => Err(Error::UnsupportedAlgorithm {
            name: "#T1| is decoded by the TypeScript layer, not the core".to_owned(),
        }),
        WireKind::VersionedUnknown => {
            let name = wire.chars().take_while(|&c| c != '|').take(24).collect();
            Err(Error::UnsupportedAlgorithm { name })
        }
        WireKind::None => Ok(done(wire.to_owned(), Algorithm::None)),
    }
}

/// The algorithm of a wire kind.
pub fn kind_algorithm(kind: WireKind<'_>) -> Algorithm {
    match kind {
        WireKind::TokenNative => Algorithm::TokenNative,
        WireKind::Token => Algorithm::Token,
        WireKind::Brotli
        | WireKind::BrotliDictionary
        | WireKind::History
        | WireKind::BrotliSession
        | WireKind::ZlibLegacy
        | WireKind::VersionedUnknown => Algorithm::Brotli,
        WireKind::Dictionary | WireKind::DictionaryLegacy => Algorithm::Dictionary,
        WireKind::Frame(_) => Algorithm::Frame,
        WireKind::None => Algorithm::None,
    }
}

/// Encodes JSON `text` as an M2M v1 text frame (`#M2M|1|<base64>`).
///
/// # Errors
/// As [`frame::encode`].
pub fn compress_frame(text: &str, seal: frame::Seal<'_>) -> Result<String> {
    frame::encode_text(text, seal)
}

/// The core's tables as JSON, for the TypeScript layer to read instead of
/// repeating them: `{ prefixes: { NAME: prefix }, maxPrefixLen, encodings:
/// [{ name, wire, byte }], algorithms: [name], frame: { aeadNonceBytes,
/// aeadKeyBytes, hmacMinKeyBytes }, errorCodes: [code], dictionaries: [id] }`.
pub fn tables_json() -> String {
    let prefixes: serde_json::Map<String, serde_json::Value> = [
        ("TOKEN_NATIVE", prefix::TOKEN_NATIVE),
        ("TOKEN", prefix::TOKEN),
        ("BROTLI", prefix::BROTLI),
        ("BROTLI_DICTIONARY", prefix::BROTLI_DICTIONARY),
        ("HISTORY", prefix::HISTORY),
        ("BROTLI_SESSION", prefix::BROTLI_SESSION),
        ("ZLIB_LEGACY", prefix::ZLIB_LEGACY),
        ("DICTIONARY", prefix::DICTIONARY),
        ("DICTIONARY_LEGACY", prefix::DICTIONARY_LEGACY),
        ("FRAME_V1", prefix::FRAME_V1),
        ("VERSIONED", prefix::VERSIONED),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into()))
    .collect();
    let encodings: Vec<serde_json::Value> = Encoding::ALL
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "name": e.name(),
                "wire": e.wire_char().to_string(),
                "byte": e.wire_byte(),
            })
        })
        .collect();
    serde_json::json!({
        "prefixes": prefixes,
        "maxPrefixLen": prefix::MAX_LEN,
        "encodings": encodings,
        "algorithms": Algorithm::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "frame": {
            "aeadNonceBytes": frame::AEAD_NONCE_LEN,
            "aeadKeyBytes": frame::AEAD_KEY_LEN,
            "hmacMinKeyBytes": frame::HMAC_MIN_KEY_LEN,
        },
        "errorCodes": Error::CODES,
        "dictionaries": trained::SHIPPED,
        "maxHistoryBytes": history::MAX_HISTORY_BYTES,
    })
    .to_string()
}

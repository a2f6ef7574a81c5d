//! The one error type of the core, with stable codes shared by every backend.

use std::fmt;

/// Everything that can go wrong in the core.
///
/// Each variant maps to a stable [`Error::code`] string. The native and the
/// wasm bindings forward that code unchanged, so JavaScript callers match on
/// `err.code`, never on message text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended inside a varint (its last byte had the continuation bit set).
    TruncatedVarint {
        /// Byte offset at which the unfinished varint starts.
        offset: usize,
    },
    /// A varint was longer than 5 bytes or its value exceeded `u32::MAX`.
    VarintOverflow {
        /// Byte offset at which the offending varint starts.
        offset: usize,
    },
    /// A varint carried needless trailing zero groups (e.g. `0x80 0x00` for 0).
    NonCanonicalVarint {
        /// Byte offset at which the offending varint starts.
        offset: usize,
    },
    /// The text is not standard, padded base64.
    InvalidBase64 {
        /// What the base64 decoder objected to.
        detail: String,
    },
    /// The payload of a `#BD|` or `#BH|` message is not base85 (`crate::base85`).
    InvalidBase85 {
        /// What the decoder objected to.
        detail: String,
    },
    /// The tokenizer id is none of those the protocol defines.
    UnknownTokenizer {
        /// The id as received (a wire character, a byte, or a name).
        id: String,
    },
    /// A `|` separator the format requires is missing.
    MissingSeparator {
        /// What the separator should have followed.
        after: &'static str,
    },
    /// The content does not start with the prefix the operation expects.
    InvalidPrefix {
        /// The prefix that was expected.
        expected: &'static str,
    },
    /// The input exceeds one of the protocol's size limits.
    ContentTooLarge {
        /// Which limit was exceeded.
        limit: &'static str,
        /// The limit, in bytes or elements.
        max: usize,
        /// The size that was seen (at least this large).
        actual: usize,
    },
    /// A token id that the encoding does not define (a gap, or past its end).
    UnknownToken {
        /// The offending id.
        id: u32,
    },
    /// Decoded token bytes are not valid UTF-8 (e.g. ids that split a
    /// multi-byte character). Nothing is returned in that case.
    InvalidUtf8 {
        /// Length of the longest valid UTF-8 prefix, in bytes.
        valid_up_to: usize,
    },
    /// The encoding's rank data has not been loaded into this process yet.
    EncodingNotLoaded {
        /// Name of the encoding (`cl100k_base`, `o200k_base`, `llama3`).
        encoding: &'static str,
    },
    /// Rank data does not match the expected checksum or is malformed.
    RankDataCorrupt {
        /// Name of the encoding the data was given for.
        encoding: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A `#BD|` message names a trained dictionary (id, version, hash) that
    /// this process has not loaded: it is refused, never decoded with
    /// another dictionary.
    DictionaryUnavailable {
        /// The dictionary as the message names it (`<id>.<version>.<hash>`).
        name: String,
        /// Why (not loaded, or another version or hash is loaded).
        detail: String,
    },
    /// A `#BH|` message was compressed against a session history state that
    /// is not the receiver's (a lost or refused earlier message), or needs a
    /// history where there is none: it is refused, never decoded with other
    /// bytes.
    HistoryMismatch {
        /// The state the message names.
        found: String,
        /// The receiver's state, or why there is none.
        expected: String,
    },
    /// A trained dictionary file is malformed.
    DictionaryCorrupt {
        /// What is wrong with it.
        detail: String,
    },
    /// The scanner classifier's weights do not match their checksum or are malformed.
    ModelDataCorrupt {
        /// What is wrong with them.
        detail: String,
    },
    /// The compressor failed (should not happen for in-memory input).
    CompressionFailed {
        /// What the compressor reported.
        detail: String,
    },
    /// The payload of a recognised wire format could not be decompressed
    /// (corrupt, truncated, or followed by extra data).
    DecompressionFailed {
        /// What went wrong, naming the format.
        detail: String,
    },
    /// The wire string names an algorithm or version this implementation does
    /// not support.
    UnsupportedAlgorithm {
        /// The algorithm or prefix as seen.
        name: String,
    },
    /// An option value is out of its allowed range.
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// What is allowed and what was given.
        detail: String,
    },
    /// The text to put into an M2M frame is not JSON.
    InvalidJson {
        /// What the JSON parser objected to.
        detail: String,
    },
    /// An `#M2M|<n>|` frame of a version this implementation does not know.
    UnsupportedVersion {
        /// The version as it appears between the bars.
        version: String,
    },
    /// An M2M frame whose structure is broken (truncated, inconsistent
    /// lengths, an unknown security byte, bytes after its end).
    InvalidFrame {
        /// What is wrong with it.
        detail: String,
    },
    /// The CRC-32 inside an M2M frame does not match its decoded content.
    ChecksumMismatch {
        /// The CRC the frame carries.
        expected: u32,
        /// The CRC of the decoded content.
        actual: u32,
    },
    /// The message's protection is not the one the receiver requires: weaker
    /// (e.g. stripped to none), different, or protected while no key was given.
    SecurityViolation {
        /// The mode the receiver requires (`none`, `hmac`, `aead`).
        required: &'static str,
        /// The mode the message carries (`none`, `hmac`, `aead`, or the
        /// algorithm of a message that is not a frame).
        found: String,
    },
    /// An HMAC tag or an AEAD tag did not verify: the message was altered or
    /// the key is wrong.
    AuthenticationFailed {
        /// The mode whose check failed (`hmac`, `aead`, `session`).
        mode: &'static str,
    },
    /// A key of the wrong size or form.
    InvalidKey {
        /// What is required and what was given.
        detail: String,
    },
}

impl Error {
    /// Every code [`Error::code`] returns.
    pub const CODES: [&'static str; 28] = [
        "TRUNCATED_VARINT",
        "VARINT_OVERFLOW",
        "NON_CANONICAL_VARINT",
        "INVALID_BASE64",
        "INVALID_BASE85",
        "UNKNOWN_TOKENIZER",
        "MISSING_SEPARATOR",
        "INVALID_PREFIX",
        "CONTENT_TOO_LARGE",
        "UNKNOWN_TOKEN",
        "INVALID_UTF8",
        "ENCODING_NOT_LOADED",
        "RANK_DATA_CORRUPT",
        "MODEL_DATA_CORRUPT",
        "COMPRESSION_FAILED",
        "DECOMPRESSION_FAILED",
        "UNSUPPORTED_ALGORITHM",
        "INVALID_OPTION",
        "INVALID_JSON",
        "UNSUPPORTED_VERSION",
        "INVALID_FRAME",
        "CHECKSUM_MISMATCH",
        "SECURITY_VIOLATION",
        "AUTHENTICATION_FAILED",
        "INVALID_KEY",
        "DICTIONARY_UNAVAILABLE",
        "DICTIONARY_CORRUPT",
        "HISTORY_MISMATCH",
    ];

    /// The stable, machine-readable code of this error (`SCREAMING_SNAKE_CASE`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::TruncatedVarint { .. } => "TRUNCATED_VARINT",
            Error::VarintOverflow { .. } => "VARINT_OVERFLOW",
            Error::NonCanonicalVarint { .. } => "NON_CANONICAL_VARINT",
            Error::InvalidBase64 { .. } => "INVALID_BASE64",
            Error::InvalidBase85 { .. } => "INVALID_BASE85",
            Error::UnknownTokenizer { .. } => "UNKNOWN_TOKENIZER",
            Error::MissingSeparator { .. } => "MISSING_SEPARATOR",
            Error::InvalidPrefix { .. } => "INVALID_PREFIX",
            Error::ContentTooLarge { .. } => "CONTENT_TOO_LARGE",
            Error::UnknownToken { .. } => "UNKNOWN_TOKEN",
            Error::InvalidUtf8 { .. } => "INVALID_UTF8",
            Error::EncodingNotLoaded { .. } => "ENCODING_NOT_LOADED",
            Error::RankDataCorrupt { .. } => "RANK_DATA_CORRUPT",
            Error::ModelDataCorrupt { .. } => "MODEL_DATA_CORRUPT",
            Error::CompressionFailed { .. } => "COMPRESSION_FAILED",
            Error::DecompressionFailed { .. } => "DECOMPRESSION_FAILED",
            Error::UnsupportedAlgorithm { .. } => "UNSUPPORTED_ALGORITHM",
            Error::InvalidOption { .. } => "INVALID_OPTION",
            Error::InvalidJson { .. } => "INVALID_JSON",
            Error::UnsupportedVersion { .. } => "UNSUPPORTED_VERSION",
            Error::InvalidFrame { .. } => "INVALID_FRAME",
            Error::ChecksumMismatch { .. } => "CHECKSUM_MISMATCH",
            Error::SecurityViolation { .. } => "SECURITY_VIOLATION",
            Error::AuthenticationFailed { .. } => "AUTHENTICATION_FAILED",
            Error::InvalidKey { .. } => "INVALID_KEY",
            Error::DictionaryUnavailable { .. } => "DICTIONARY_UNAVAILABLE",
            Error::DictionaryCorrupt { .. } => "DICTIONARY_CORRUPT",
            Error::HistoryMismatch { .. } => "HISTORY_MISMATCH",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TruncatedVarint { offset } => {
                write!(f, "truncated varint: input ends inside the varint starting at byte {offset}")
            }
            Error::VarintOverflow { offset } => write!(
                f,
                "varint at byte {offset} is longer than 5 bytes or exceeds u32::MAX"
            ),
            Error::NonCanonicalVarint { offset } => write!(
                f,
                "varint at byte {offset} is not in its shortest form"
            ),
            Error::InvalidBase64 { detail } => write!(f, "invalid base64: {detail}"),
            Error::InvalidBase85 { detail } => write!(f, "invalid base85: {detail}"),
            Error::UnknownTokenizer { id } => write!(
                f,
                "unknown tokenizer id {id:?} (expected C/O/L, 0/1/2, or cl100k_base/o200k_base/llama3)"
            ),
            Error::MissingSeparator { after } => write!(f, "missing '|' separator after {after}"),
            Error::InvalidPrefix { expected } => write!(f, "content does not start with {expected:?}"),
            Error::ContentTooLarge { limit, max, actual } => write!(
                f,
                "content too large: {limit} is limited to {max}, got {actual}"
            ),
            Error::UnknownToken { id } => write!(f, "unknown token id {id}"),
            Error::InvalidUtf8 { valid_up_to } => write!(
                f,
                "decoded content is not valid UTF-8 (valid up to byte {valid_up_to})"
            ),
            Error::EncodingNotLoaded { encoding } => write!(
                f,
                "the rank data of encoding {encoding} has not been loaded"
            ),
            Error::RankDataCorrupt { encoding, detail } => {
                write!(f, "rank data for {encoding} is corrupt: {detail}")
            }
            Error::ModelDataCorrupt { detail } => {
                write!(f, "the scanner model's weights are corrupt: {detail}")
            }
            Error::CompressionFailed { detail } => write!(f, "compression failed: {detail}"),
            Error::DecompressionFailed { detail } => write!(f, "decompression failed: {detail}"),
            Error::UnsupportedAlgorithm { name } => write!(f, "unsupported algorithm {name:?}"),
            Error::InvalidOption { option, detail } => write!(f, "invalid option {option}: {detail}"),
            Error::InvalidJson { detail } => write!(f, "invalid JSON: {detail}"),
            Error::UnsupportedVersion { version } => {
                write!(f, "unsupported M2M frame version {version:?} (this implementation reads #M2M|1|)")
            }
            Error::InvalidFrame { detail } => write!(f, "invalid M2M frame: {detail}"),
            Error::ChecksumMismatch { expected, actual } => write!(
                f,
                "M2M frame checksum mismatch: the frame says {expected:#010x}, the content has {actual:#010x}"
            ),
            Error::SecurityViolation { required, found } => write!(
                f,
                "security violation: {required} is required, the message is {found}"
            ),
            Error::AuthenticationFailed { mode } => write!(
                f,
                "authentication failed ({mode}): the message was altered or the key is wrong"
            ),
            Error::InvalidKey { detail } => write!(f, "invalid key: {detail}"),
            Error::DictionaryUnavailable { name, detail } => write!(
                f,
                "the message needs the trained dictionary {name}, which this receiver does not have: {detail}"
            ),
            Error::DictionaryCorrupt { detail } => {
                write!(f, "the trained dictionary file is malformed: {detail}")
            }
            Error::HistoryMismatch { found, expected } => write!(
                f,
                "the message was compressed against session history state {found}, this receiver's is {expected}"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Result type of the core.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn codes_lists_each_variant_once() {
        let s = String::new;
        let all = [
            Error::TruncatedVarint { offset: 0 },
            Error::VarintOverflow { offset: 0 },
            Error::NonCanonicalVarint { offset: 0 },
            Error::InvalidBase64 { detail: s() },
            Error::InvalidBase85 { detail: s() },
            Error::UnknownTokenizer { id: s() },
            Error::MissingSeparator { after: "" },
            Error::InvalidPrefix { expected: "" },
            Error::ContentTooLarge {
                limit: "",
                max: 0,
                actual: 0,
            },
            Error::UnknownToken { id: 0 },
            Error::InvalidUtf8 { valid_up_to: 0 },
            Error::EncodingNotLoaded { encoding: "" },
            Error::RankDataCorrupt {
                encoding: "",
                detail: s(),
            },
            Error::ModelDataCorrupt { detail: s() },
            Error::CompressionFailed { detail: s() },
            Error::DecompressionFailed { detail: s() },
            Error::UnsupportedAlgorithm { name: s() },
            Error::InvalidOption {
                option: "",
                detail: s(),
            },
            Error::InvalidJson { detail: s() },
            Error::UnsupportedVersion { version: s() },
            Error::InvalidFrame { detail: s() },
            Error::ChecksumMismatch {
                expected: 0,
                actual: 0,
            },
            Error::SecurityViolation {
                required: "",
                found: s(),
            },
            Error::AuthenticationFailed { mode: "" },
            Error::InvalidKey { detail: s() },
            Error::DictionaryUnavailable {
                name: s(),
                detail: s(),
            },
            Error::DictionaryCorrupt { detail: s() },
            Error::HistoryMismatch {
                found: s(),
                expected: s(),
            },
        ];
        let codes: Vec<&str> = all.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
    }
}

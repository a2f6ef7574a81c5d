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
}

impl Error {
    /// The stable, machine-readable code of this error (`SCREAMING_SNAKE_CASE`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::TruncatedVarint { .. } => "TRUNCATED_VARINT",
            Error::VarintOverflow { .. } => "VARINT_OVERFLOW",
            Error::NonCanonicalVarint { .. } => "NON_CANONICAL_VARINT",
            Error::InvalidBase64 { .. } => "INVALID_BASE64",
            Error::UnknownTokenizer { .. } => "UNKNOWN_TOKENIZER",
            Error::MissingSeparator { .. } => "MISSING_SEPARATOR",
            Error::InvalidPrefix { .. } => "INVALID_PREFIX",
            Error::ContentTooLarge { .. } => "CONTENT_TOO_LARGE",
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
        }
    }
}

impl std::error::Error for Error {}

/// Result type of the core.
pub type Result<T> = std::result::Result<T, Error>;

//! Byte-pair-encoding tokenizers: `cl100k_base` and `o200k_base` (the ids of
//! OpenAI's tiktoken) and Meta's Llama 3 (128,000 ranks + 256 special
//! tokens).
//!
//! The vocabularies are not compiled in: `scripts/gen-ranks.mjs` writes one
//! rank file per encoding (`build/ranks/<name>.bpe`), and the host hands its
//! bytes to [`load`] (or [`Tokenizer::from_rank_data`]). Each file is
//! accepted only if its SHA-256 equals the constant below.
//!
//! ```no_run
//! use m2m_core::{bpe, Encoding};
//!
//! let data = std::fs::read("build/ranks/cl100k_base.bpe").unwrap();
//! bpe::load(Encoding::Cl100kBase, &data).unwrap();
//! let tok = bpe::get(Encoding::Cl100kBase).unwrap();
//! assert_eq!(tok.encode_ordinary("hello world"), vec![15339, 1917]);
//! ```
//!
//! # Pre-tokenization without look-ahead
//!
//! Both tiktoken patterns end in `\s*[\r\n]+|\s+(?!\S)|\s+`. The regex engine
//! used here (regex-automata, the `regex` crate's engine) has no look-around,
//! so the patterns are compiled with the tail `\s*[\r\n]+|\s+`, and the
//! tokenizer corrects the matches. Why that gives the same pieces:
//!
//! 1. Every character is matched by some branch (letters, numbers,
//!    whitespace, and `[^\s\p{L}\p{N}]` for everything else), so matches
//!    tile the text and each search starts where the previous match ended.
//!    Both patterns are searched at the same positions; at a given position
//!    both try the same branches in the same order (leftmost-first), so they
//!    agree unless the original reaches `\s+(?!\S)`.
//! 2. The original reaches `\s+(?!\S)` at position `p` only if all earlier
//!    branches fail. Then the character at `p` is whitespace, and, since
//!    `\s*[\r\n]+` failed, the maximal whitespace run `W = text[p..q]` holds
//!    no `\r`/`\n`. Greedy `\s+` takes `W`; if `q` is the end of the text,
//!    `(?!\S)` holds and the match is `W`. Otherwise `text[q]` is not
//!    whitespace, so the engine backtracks one character: if `W` has at least
//!    two characters, `(?!\S)` now holds (the next character is the last of
//!    `W`) and the match is `W` minus its last character; if `W` is a single
//!    character, the branch fails and the final `\s+` matches `W`.
//! 3. The modified pattern matches `W` in that situation (its `\s+` branch).
//!    A match ending in whitespace other than `\r`/`\n` can only come from
//!    that branch: the letter branches end in a letter or mark, the number
//!    branch in a number, the punctuation branch in a non-space, `\r`, `\n`
//!    (or `/` in o200k), and `\s*[\r\n]+` in `\r`/`\n`. So the tokenizer
//!    drops the last character of such a match exactly when the original
//!    does: it has at least two characters and text follows it.
//! 4. The next search then starts at the same position in both.
//!
//! The differential tests against tiktoken (`src/bpe/tests.rs`) check this
//! on a varied corpus.
//!
//! Special-token text between allowed special tokens is encoded as its own
//! text segment, as tiktoken does (so `\s+(?!\S)` sees the segment's end).

mod merge;
mod rank_file;
mod table;
mod tokenizer;

#[cfg(test)]
mod tests;

use once_cell::sync::OnceCell;

pub use tokenizer::{AllowedSpecial, Tokenizer};

use crate::error::{Error, Result};
use crate::Encoding;

/// The `cl100k_base` pattern as tiktoken defines it (`pat_str`).
pub const CL100K_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The `o200k_base` pattern as tiktoken defines it (`pat_str`).
pub const O200K_PATTERN: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// `CL100K_PATTERN` with `\s+(?!\S)|\s+` replaced by `\s+` (see module docs).
const CL100K_COMPILED: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+";

/// `O200K_PATTERN` with `\s+(?!\S)|\s+` replaced by `\s+` (see module docs).
const O200K_COMPILED: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+";

/// The pattern the tokenizer compiles for `encoding` (Llama 3 uses
/// cl100k's).
pub(crate) fn pattern(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Cl100kBase | Encoding::Llama3 => CL100K_COMPILED,
        Encoding::O200kBase => O200K_COMPILED,
    }
}

// SHA-256 of build/ranks/<name>.bpe. Regenerate the files and print these with
// `node scripts/gen-ranks.mjs --force --hashes`; change them only together
// with the generator.
const CL100K_SHA256: &str = "30e8aec9502c6722ba5d281cd309776e597da09b42cb8019c4401696fba25264";
const O200K_SHA256: &str = "eb2a241f6f9fde7c749ef780d9014ff9f3099ce10cb9b7b66ed3521300a2754e";
const LLAMA3_SHA256: &str = "1fe12147b1b6c0eea2c359d3d2f60463304c9e1ff5e19f878736691efea404ca";

/// The SHA-256 a rank file for `encoding` must have.
pub fn expected_sha256(encoding: Encoding) -> [u8; 32] {
    let hex = match encoding {
        Encoding::Cl100kBase => CL100K_SHA256,
        Encoding::O200kBase => O200K_SHA256,
        Encoding::Llama3 => LLAMA3_SHA256,
    };
    let nibble = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        _ => c - b'a' + 10,
    };
    let h = hex.as_bytes();
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = (nibble(h[2 * i]) << 4) | nibble(h[2 * i + 1]);
    }
    out
}

static TOKENIZERS: [OnceCell<Tokenizer>; 3] = [OnceCell::new(), OnceCell::new(), OnceCell::new()];

fn slot(encoding: Encoding) -> &'static OnceCell<Tokenizer> {
    &TOKENIZERS[encoding.wire_byte() as usize]
}

/// Loads the rank data of `encoding` into the process-wide registry.
///
/// Loading an encoding that is already loaded is a cheap no-op (`data` is
/// not looked at). Concurrent first loads are safe; one of them wins.
///
/// # Errors
/// [`Error::RankDataCorrupt`] as for [`Tokenizer::from_rank_data`].
pub fn load(encoding: Encoding, data: &[u8]) -> Result<()> {
    slot(encoding)
        .get_or_try_init(|| Tokenizer::from_rank_data(encoding, data))
        .map(|_| ())
}

/// The loaded tokenizer of `encoding`.
///
/// # Errors
/// [`Error::EncodingNotLoaded`] if [`load`] has not succeeded for it yet.
pub fn get(encoding: Encoding) -> Result<&'static Tokenizer> {
    slot(encoding).get().ok_or(Error::EncodingNotLoaded {
        encoding: encoding.name(),
    })
}

/// Whether [`load`] has succeeded for `encoding` in this process.
pub fn is_loaded(encoding: Encoding) -> bool {
    slot(encoding).get().is_some()
}

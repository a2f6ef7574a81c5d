//! Auto: one decision per message, made in one call.
//!
//! [`select`] looks at the content's size, tries the candidates that can win
//! at that size, and keeps the smallest result (in wire bytes, or in wire
//! tokens). It returns the wire string with the figures the caller asked
//! for, so a binding makes one crossing per message. Both stateless
//! `compress()` and a session's DATA messages (which pass their negotiated
//! algorithms in [`AutoRequest::allowed`]) use it.
//!
//! Measured on real recorded traffic (`bench/traffic.ts`, docs/performance.md):
//! Brotli is the best lossless form for most requests and responses from a few
//! hundred bytes, so it is tried at every size from `brotli_threshold`, with
//! the settings [`brotli_tuning_for`] gives the size; TokenNative (one
//! tokenization, which also gives the token count) competes at every size;
//! Dictionary only on small messages, the only ones it wins.

use std::sync::Arc;

use super::trained::{self, TrainedDictionary};
use super::{brotli, dictionary, prefix, Algorithm, BrotliFraming};
use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::{bpe, token_native};

/// What auto minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimize {
    /// UTF-8 bytes of the wire string.
    Bytes,
    /// Tokens of the wire string (with the request's encoding): only forms
    /// that keep the text readable compete, and Brotli on long content.
    Tokens,
}

/// Content below this many UTF-8 bytes is passed through (spec §5.2).
pub const DEFAULT_MIN_SIZE: usize = 100;
/// Brotli is tried from this many UTF-8 bytes: at every size auto considers.
pub const DEFAULT_BROTLI_THRESHOLD: usize = 0;
/// Optimising tokens, Brotli's base64 only pays on long content: it is tried
/// from this many bytes (or `brotli_threshold`, whichever is larger).
pub const TOKENS_BROTLI_MIN: usize = 4096;
/// Dictionary coding is tried up to this many bytes (beyond, TokenNative or
/// Brotli is always smaller on chat traffic) and for prefixed content.
const DICTIONARY_MAX: usize = 2048;
/// Content up to this many UTF-8 bytes gets Brotli quality 10 (see
/// [`brotli_tuning_for`]); larger content the default quality.
pub const HIGH_QUALITY_MAX: usize = 512;

/// The Brotli settings auto uses for content of `len` bytes. Up to
/// [`HIGH_QUALITY_MAX`]: quality 10 (Zopfli parsing) without literal context
/// modeling, in the smallest window that holds the content. Larger: the
/// default quality (5), whose cost per message quality 10 multiplies by 8–12
/// from 512 B on (measured in docs/performance.md).
pub fn brotli_tuning_for(len: usize) -> brotli::Tuning {
    if len <= HIGH_QUALITY_MAX {
        brotli::Tuning {
            quality: 10,
            lgwin: brotli::smallest_window(len),
            literal_context_modeling: false,
        }
    } else {
        brotli::Tuning::plain(brotli::DEFAULT_QUALITY, len)
    }
}

/// The Brotli quality auto uses with a trained dictionary for content of
/// `len` bytes: the default quality at every size.
pub fn brotli_quality_for(len: usize) -> u32 {
    let _ = len;
    brotli::DEFAULT_QUALITY
}

/// One auto decision's inputs.
#[derive(Debug, Clone)]
pub struct AutoRequest<'a> {
    /// Tokenizer for TokenNative and token counts.
    pub encoding: Encoding,
    /// What to minimise.
    pub optimize: Optimize,
    /// Also report the original's and the wire's token counts.
    pub count_tokens: bool,
    /// Framing of a Brotli result.
    pub framing: BrotliFraming,
    /// Passthrough below this many bytes ([`DEFAULT_MIN_SIZE`]).
    pub min_size: usize,
    /// Brotli only from this many bytes ([`DEFAULT_BROTLI_THRESHOLD`]).
    pub brotli_threshold: usize,
    /// Algorithms that may be used besides passthrough (a session's
    /// negotiated set); [`Algorithm::Token`] needs [`AutoRequest::token`].
    pub allowed: &'a [Algorithm],
    /// The lossless T1 form of the content, when the caller (the TypeScript
    /// layer owns T1) has one: it competes like the others.
    pub token: Option<&'a str>,
    /// Trained dictionaries auto may use (`#BD|`, stateless framing only, as
    /// a Brotli candidate): the one made for the content's family
    /// ([`trained::family_of`]) competes. Empty: none (the default; the
    /// receiver must have the same dictionary).
    pub dictionaries: &'a [Arc<TrainedDictionary>],
}

/// What auto chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoChoice {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The wire string; `None` for passthrough and T1, whose wire the caller already holds.
    pub wire: Option<String>,
    /// UTF-8 bytes of the wire string.
    pub wire_bytes: usize,
    /// Tokens of the content, when asked for (or optimising tokens).
    pub original_tokens: Option<usize>,
    /// Tokens of the wire string, when asked for (or optimising tokens).
    pub wire_tokens: Option<usize>,
}

/// [`AutoRequest`] in the plain values a binding receives from JavaScript.
#[derive(Debug, Clone, Default)]
pub struct AutoSettings {
    /// Encoding name (`cl100k_base`, `o200k_base`, `llama3`).
    pub encoding: String,
    /// Minimise wire tokens instead of bytes.
    pub optimize_tokens: bool,
    /// Report token counts.
    pub count_tokens: bool,
    /// Brotli in the session framing.
    pub session: bool,
    /// [`AutoRequest::min_size`]; `None` for [`DEFAULT_MIN_SIZE`].
    pub min_size: Option<u32>,
    /// [`AutoRequest::brotli_threshold`]; `None` for [`DEFAULT_BROTLI_THRESHOLD`].
    pub brotli_threshold: Option<u32>,
    /// Allowed algorithm names; `None` for all of them.
    pub allowed: Option<Vec<String>>,
    /// Ids of the loaded trained dictionaries auto may use; `None` for none.
    pub dictionaries: Option<Vec<String>>,
}

/// [`select`] with [`AutoSettings`] and the caller's T1 form, if any.
///
/// # Errors
/// [`Error::UnknownTokenizer`] and [`Error::UnsupportedAlgorithm`] for unknown
/// names, and those of [`select`].
pub fn select_with(text: &str, settings: &AutoSettings, token: Option<&str>) -> Result<AutoChoice> {
    let allowed = match &settings.allowed {
        None => Algorithm::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|n| Algorithm::from_name(n))
            .collect::<Result<Vec<_>>>()?,
    };
    let dictionaries = settings
        .dictionaries
        .iter()
        .flatten()
        .map(|id| trained::require(id))
        .collect::<Result<Vec<_>>>()?;
    let size = |v: Option<u32>, default: usize| v.map_or(default, |v| v as usize);
    select(
        text,
        &AutoRequest {
            encoding: Encoding::from_name(&settings.encoding)?,
            optimize: if settings.optimize_tokens {
                Optimize::Tokens
            } else {
                Optimize::Bytes
            },
            count_tokens: settings.count_tokens,
            framing: if settings.session {
                BrotliFraming::Session
            } else {
                BrotliFraming::Stateless
            },
            min_size: size(settings.min_size, DEFAULT_MIN_SIZE),
            brotli_threshold: size(settings.brotli_threshold, DEFAULT_BROTLI_THRESHOLD),
            allowed: &allowed,
            token,
            dictionaries: &dictionaries,
        },
    )
}

struct Candidate {
    algorithm: Algorithm,
    wire: Option<String>,
    bytes: usize,
    tokens: Option<usize>,
}

/// Chooses and applies an algorithm for `text` (see the module comment).
/// Never returns a wire string larger than the content (in bytes, or tokens
/// when optimising tokens), except that content starting with a wire prefix
/// is never passed through.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::EncodingNotLoaded`] (when TokenNative
/// or a token count needs the encoding), [`Error::UnsupportedAlgorithm`] when
/// the content starts with a wire prefix and no allowed algorithm can carry it.
pub fn select(text: &str, req: &AutoRequest<'_>) -> Result<AutoChoice> {
    super::check_content_size(text)?;
    let len = text.len();
    let prefixed = super::has_wire_prefix(text);
    let allows = |a: Algorithm| req.allowed.contains(&a);
    let by_tokens = req.optimize == Optimize::Tokens;
    let want_tokens = req.count_tokens || by_tokens;
    let tokenizer = || bpe::get(req.encoding);
    let count = |wire: &str| tokenizer().map(|t| t.count(wire));
    let mut original_tokens = None;
    let mut found: Vec<Candidate> = Vec::new();

    let small = len < req.min_size && !prefixed;
    let brotli_from = if by_tokens {
        req.brotli_threshold.max(TOKENS_BROTLI_MIN)
    } else {
        req.brotli_threshold
    };
    // A trained dictionary made for the content's family, when one is given:
    // on its family it beats every other candidate (bench/dictionaries.ts),
    // so optimising bytes the others are not tried.
    let mut trained_wire = None;
    if !small
        && allows(Algorithm::Brotli)
        && len >= brotli_from
        && req.framing == BrotliFraming::Stateless
        && !req.dictionaries.is_empty()
    {
        let family = trained::family_of(text);
        if let Some(d) = req
            .dictionaries
            .iter()
            .find(|d| Some(d.id.as_str()) == family)
        {
            let wire = trained::compress(text, d, brotli_quality_for(len))?;
            trained_wire = Some(wire);
        }
    }
    let others = trained_wire.is_none() || by_tokens;
    if let Some(wire) = trained_wire {
        found.push(Candidate {
            algorithm: Algorithm::Brotli,
            bytes: wire.len(),
            wire: Some(wire),
            tokens: None,
        });
    }
    if !small && others {
        if let (Some(t1), true) = (req.token, allows(Algorithm::Token)) {
            found.push(Candidate {
                algorithm: Algorithm::Token,
                wire: None,
                bytes: t1.len(),
                tokens: None,
            });
        }
        if !by_tokens && allows(Algorithm::TokenNative) {
            let ids = tokenizer()?.encode_ordinary(text);
            original_tokens = Some(ids.len());
            let wire = token_native::pack_text(req.encoding, &ids)?;
            found.push(Candidate {
                algorithm: Algorithm::TokenNative,
                bytes: wire.len(),
                wire: Some(wire),
                tokens: None,
            });
        }
        if allows(Algorithm::Dictionary) && (len <= DICTIONARY_MAX || prefixed || by_tokens) {
            let wire = format!("{}{}", prefix::DICTIONARY, dictionary::encode(text));
            found.push(Candidate {
                algorithm: Algorithm::Dictionary,
                bytes: wire.len(),
                wire: Some(wire),
                tokens: None,
            });
        }
        if allows(Algorithm::Brotli) && len >= brotli_from {
            let wire = super::compress_brotli_tuned(text, brotli_tuning_for(len), req.framing)?;
            found.push(Candidate {
                algorithm: Algorithm::Brotli,
                bytes: wire.len(),
                wire: Some(wire),
                tokens: None,
            });
        }
    }
    if want_tokens && original_tokens.is_none() {
        original_tokens = Some(count(text)?);
    }
    if by_tokens {
        for c in &mut found {
            let wire = c.wire.as_deref().or(req.token).unwrap_or(text);
            c.tokens = Some(count(wire)?);
        }
    }
    let size = |c: &Candidate| {
        if by_tokens {
            c.tokens.unwrap_or(0)
        } else {
            c.bytes
        }
    };
    let mut best: Option<Candidate> = None;
    for c in found {
        if best.as_ref().map_or(true, |b| size(&c) < size(b)) {
            best = Some(c);
        }
    }
    let passthrough = || Candidate {
        algorithm: Algorithm::None,
        wire: None,
        bytes: len,
        tokens: original_tokens,
    };
    let chosen = match best {
        Some(b) if prefixed => b,
        Some(b) => {
            let original = if by_tokens {
                original_tokens.unwrap_or(0)
            } else {
                len
            };
            if size(&b) < original {
                b
            } else {
                passthrough()
            }
        }
        None if prefixed => return Err(Error::UnsupportedAlgorithm {
            name: "none of the allowed algorithms can carry content that starts with a wire prefix"
                .to_owned(),
        }),
        None => passthrough(),
    };
    let wire_tokens = match (&chosen.tokens, want_tokens) {
        (_, false) => None,
        (Some(t), true) => Some(*t),
        (None, true) => Some(count(chosen.wire.as_deref().or(req.token).unwrap_or(text))?),
    };
    Ok(AutoChoice {
        algorithm: chosen.algorithm,
        wire: chosen.wire,
        wire_bytes: chosen.bytes,
        original_tokens: original_tokens.filter(|_| want_tokens),
        wire_tokens,
    })
}

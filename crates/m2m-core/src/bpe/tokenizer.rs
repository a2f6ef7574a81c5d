//! The tokenizer: pre-tokenization, BPE, special tokens, decoding.

use std::collections::{HashMap, HashSet};

use once_cell::sync::OnceCell;
use sha2::{Digest, Sha256};

use super::merge::{self, Scratch};
use super::pretok::{self, Pattern};
use super::rank_file;
use super::table::{self, RankTable};
use crate::error::{Error, Result};
use crate::Encoding;

/// Which special tokens [`Tokenizer::encode`] recognises in the text.
///
/// Special-token text that is not allowed is encoded as ordinary text, as
/// tiktoken's `encode(text, allowed_special)` does with an empty
/// `disallowed_special`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AllowedSpecial {
    /// No special tokens: the same as [`Tokenizer::encode_ordinary`].
    #[default]
    None,
    /// Every special token of the encoding.
    All,
    /// Only the special tokens with these names (e.g. `<|endoftext|>`);
    /// names the encoding does not have are ignored.
    Set(HashSet<String>),
}

impl AllowedSpecial {
    /// A [`AllowedSpecial::Set`] of the given names.
    pub fn from_names<I, S>(names: I) -> AllowedSpecial
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AllowedSpecial::Set(names.into_iter().map(Into::into).collect())
    }

    fn allows(&self, name: &str) -> bool {
        match self {
            AllowedSpecial::None => false,
            AllowedSpecial::All => true,
            AllowedSpecial::Set(set) => set.contains(name),
        }
    }
}

/// The rank vocabulary: token bytes by rank, and the reverse lookup.
pub(crate) struct Vocab {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
    table: RankTable,
    max_len: usize,
    byte_ranks: [u32; 256],
    /// Rank of every two-byte token, indexed by `(first << 8) | second`.
    pair_ranks: Vec<u32>,
}

impl Vocab {
    /// The rank of `key`, if it is a token.
    #[inline]
    pub(crate) fn rank(&self, key: &[u8]) -> Option<u32> {
        match key.len() {
            0 => None,
            1 => Some(self.byte_rank(key[0])),
            2 => {
                let r = self.pair_rank(key[0], key[1]);
                if r == u32::MAX {
                    None
                } else {
                    Some(r)
                }
            }
            n if n <= table::MAX_PACKED => self.table.get_packed(table::pack(key)),
            n if n > self.max_len => None,
            _ => self.table.get_long(&self.bytes, &self.offsets, key),
        }
    }

    /// The rank of the single byte `b` (every byte is a token).
    #[inline]
    pub(crate) fn byte_rank(&self, b: u8) -> u32 {
        self.byte_ranks[b as usize]
    }

    /// The rank of the two-byte token `a b`, or `u32::MAX`.
    #[inline]
    pub(crate) fn pair_rank(&self, a: u8, b: u8) -> u32 {
        self.pair_ranks[((a as usize) << 8) | b as usize]
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn token(&self, rank: usize) -> &[u8] {
        &self.bytes[self.offsets[rank] as usize..self.offsets[rank + 1] as usize]
    }

    /// Appends the bytes of token `rank` to `out` (see [`append_padded`]).
    #[inline]
    fn append_token(&self, rank: usize, out: &mut Vec<u8>) {
        append_padded::<TOKEN_PAD, u8>(&self.bytes, &self.offsets, rank, out);
    }
}

/// Token bytes with [`TOKEN_PAD`] zero bytes after them.
fn padded(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.resize(bytes.len() + TOKEN_PAD, 0);
    bytes
}

/// Zero bytes kept after the last token, so that any token can be read as a
/// block of this many bytes (see [`Vocab::append_token`]).
const TOKEN_PAD: usize = 16;

/// Every token of an encoding, for a decoder that joins strings
/// ([`Tokenizer::token_texts`]): token `id` is either whole characters,
/// `text[ends[id]..ends[id + 1]]` in UTF-16 units, or bytes that cut a
/// character, `cut_bytes[cut_ends[id]..cut_ends[id + 1]]`; the other range is
/// empty (no token is empty). Ids the encoding does not define have both
/// empty. `ends` and `cut_ends` have [`Tokenizer::vocab_size`] + 1 entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTexts {
    /// The whole-character tokens' texts, concatenated.
    pub text: String,
    /// Where each token's text ends in `text`, in UTF-16 units.
    pub ends: Vec<u32>,
    /// The bytes of the tokens that cut a character, concatenated.
    pub cut_bytes: Vec<u8>,
    /// Where each token's bytes end in `cut_bytes`.
    pub cut_ends: Vec<u32>,
}

/// A BPE tokenizer for one [`Encoding`], producing the same ids as
/// tiktoken (`cl100k_base`, `o200k_base`) and Meta's Llama 3 tokenizer.
///
/// Obtain one with [`Tokenizer::from_rank_data`] or, process-wide, through
/// [`crate::bpe::load`] and [`crate::bpe::get`].
pub struct Tokenizer {
    encoding: Encoding,
    pub(super) vocab: Vocab,
    /// Special tokens `(id, text)` in id order.
    specials: Vec<(u32, String)>,
    special_ids: HashMap<String, u32>,
    max_special_len: usize,
    pattern: Pattern,
    /// The tokens as UTF-16, built by the first [`Tokenizer::decode_js`].
    utf16: OnceCell<Utf16Tokens>,
}

/// Decoded text in the form a JavaScript engine copies fastest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsText {
    /// ASCII text, as bytes (one byte per character, as V8's one-byte strings).
    Latin1(Vec<u8>),
    /// Any other text, as UTF-16 units.
    Utf16(Vec<u16>),
}

/// `Utf16Tokens::flags` bit: the token is ASCII.
const TOKEN_ASCII: u8 = 1;
/// `Utf16Tokens::flags` bit: the token is UTF-8 on its own (no character cut).
const TOKEN_WHOLE: u8 = 2;
/// [`Tokenizer::decode_js`] converts all the bytes at once when more than
/// one id in this many cuts a character.
const CUT_SHARE_FOR_BYTES: usize = 8;
/// Zero units kept after the last token's units (see [`Utf16Tokens::append`]).
const UNIT_PAD: usize = 8;

/// Every id's UTF-16 units (ranks and special tokens; none for a token that
/// cuts a character or an id the encoding lacks), so that decoding is mostly
/// a copy per token, with no UTF-8 conversion.
struct Utf16Tokens {
    units: Vec<u16>,
    offsets: Vec<u32>,
    /// `TOKEN_ASCII | TOKEN_WHOLE` bits by id; 0 for a cut or unknown id.
    flags: Vec<u8>,
}

impl Utf16Tokens {
    fn build(vocab: &Vocab, specials: &[(u32, String)]) -> Utf16Tokens {
        let n = vocab.len();
        let ids = specials.last().map_or(n, |&(id, _)| n.max(id as usize + 1));
        let mut units = Vec::with_capacity(vocab.bytes.len() + UNIT_PAD);
        let mut offsets = Vec::with_capacity(ids + 1);
        let mut flags = Vec::with_capacity(ids);
        offsets.push(0);
        let mut special = specials.iter().peekable();
        for id in 0..ids {
            let bytes = if id < n {
                Some(vocab.token(id))
            } else if special
                .peek()
                .map_or(false, |&&(sid, _)| sid as usize == id)
            {
                special.next().map(|(_, text)| text.as_bytes())
            } else {
                None
            };
            let flag = match bytes.map(std::str::from_utf8) {
                Some(Ok(text)) => {
                    units.extend(text.encode_utf16());
                    TOKEN_WHOLE | if text.is_ascii() { TOKEN_ASCII } else { 0 }
                }
                _ => 0,
            };
            flags.push(flag);
            offsets.push(units.len() as u32);
        }
        units.resize(units.len() + UNIT_PAD, 0);
        Utf16Tokens {
            units,
            offsets,
            flags,
        }
    }

    /// Appends the units of token `rank` to `out` (see [`append_padded`]).
    #[inline(always)]
    fn append(&self, rank: usize, out: &mut Vec<u16>) {
        append_padded::<UNIT_PAD, u16>(&self.units, &self.offsets, rank, out);
    }
}

/// Appends item `rank` of `items` (delimited by `offsets`, followed by `PAD`
/// spare elements) to `out`: an item of at most `PAD` elements is copied as a
/// block of `PAD` and the excess cut off, a fixed-size copy where a copy of
/// the exact length is a call to `memcpy`.
#[inline(always)]
fn append_padded<const PAD: usize, T: Copy>(
    items: &[T],
    offsets: &[u32],
    rank: usize,
    out: &mut Vec<T>,
) {
    let (start, end) = (offsets[rank] as usize, offsets[rank + 1] as usize);
    if end - start <= PAD {
        let at = out.len();
        out.extend_from_slice(&items[start..start + PAD]);
        out.truncate(at + end - start);
    } else {
        out.extend_from_slice(&items[start..end]);
    }
}

/// Converts the bytes in `cut` to UTF-16 onto `out` and empties it; false
/// when they are not UTF-8 (a character still cut, or an invalid sequence).
fn flush_cut(cut: &mut Vec<u8>, out: &mut Vec<u16>) -> bool {
    let converted = crate::utf16::extend_from_utf8_bytes(out, cut).is_ok();
    cut.clear();
    converted
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("encoding", &self.encoding)
            .field("ranks", &self.vocab.len())
            .field("specials", &self.specials.len())
            .finish()
    }
}

impl Tokenizer {
    /// Builds a tokenizer from a rank file written by `scripts/gen-ranks.mjs`
    /// (format in the [`crate::bpe`] module docs).
    ///
    /// # Errors
    /// [`Error::RankDataCorrupt`] if the data's SHA-256 is not the one
    /// expected for `encoding` (checked first) or the data is malformed.
    pub fn from_rank_data(encoding: Encoding, data: &[u8]) -> Result<Tokenizer> {
        let corrupt = |detail: String| Error::RankDataCorrupt {
            encoding: encoding.name(),
            detail,
        };
        let digest = Sha256::digest(data);
        let expected = super::expected_sha256(encoding);
        if digest[..] != expected[..] {
            return Err(corrupt(format!(
                "SHA-256 is {}, expected {} (regenerate with `node scripts/gen-ranks.mjs`)",
                hex(&digest),
                hex(&expected)
            )));
        }
        let data = rank_file::parse(encoding, data)?;
        let table = RankTable::build(&data.bytes, &data.offsets)
            .map_err(|rank| corrupt(format!("rank {rank} duplicates an earlier token")))?;
        let mut vocab = Vocab {
            max_len: data
                .offsets
                .windows(2)
                .map(|w| (w[1] - w[0]) as usize)
                .max()
                .unwrap_or(0),
            bytes: padded(data.bytes),
            offsets: data.offsets,
            table,
            byte_ranks: [u32::MAX; 256],
            pair_ranks: vec![u32::MAX; 1 << 16],
        };
        for rank in 0..vocab.len() {
            let token = vocab.token(rank);
            match *token {
                [b] => vocab.byte_ranks[b as usize] = rank as u32,
                [a, b] => vocab.pair_ranks[((a as usize) << 8) | b as usize] = rank as u32,
                _ => {}
            }
        }
        if let Some(b) = vocab.byte_ranks.iter().position(|&r| r == u32::MAX) {
            return Err(corrupt(format!("byte {b:#04x} is not a token")));
        }
        let mut special_ids = HashMap::new();
        for (id, text) in &data.specials {
            // The special-token scan relies on this shape: `<|`, then text
            // without `|>`, then `|>`.
            let well_formed = text.len() >= 4
                && text.starts_with("<|")
                && text[2..].find("|>") == Some(text.len() - 4);
            if !well_formed {
                return Err(corrupt(format!(
                    "special token {text:?} is not of the form <|...|>"
                )));
            }
            special_ids.insert(text.clone(), *id);
        }
        Ok(Tokenizer {
            encoding,
            vocab,
            max_special_len: data
                .specials
                .iter()
                .map(|(_, t)| t.len())
                .max()
                .unwrap_or(0),
            specials: data.specials,
            special_ids,
            pattern: Pattern::of(encoding),
            utf16: OnceCell::new(),
        })
    }

    /// The encoding this tokenizer implements.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Number of ordinary (BPE) tokens; their ids are `0..n_ranks()`.
    pub fn n_ranks(&self) -> usize {
        self.vocab.len()
    }

    /// One past the largest token id, special tokens included (tiktoken's
    /// `n_vocab`). Some ids below it may be unused.
    pub fn vocab_size(&self) -> usize {
        self.specials
            .last()
            .map_or(self.vocab.len(), |(id, _)| *id as usize + 1)
    }

    /// The special tokens, `(id, text)`, in id order.
    pub fn special_tokens(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.specials.iter().map(|(id, text)| (*id, text.as_str()))
    }

    /// The id of the special token with this text, e.g. `<|endoftext|>`.
    pub fn special_token_id(&self, text: &str) -> Option<u32> {
        self.special_ids.get(text).copied()
    }

    /// The bytes of one token (ordinary or special), if the id exists.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let i = id as usize;
        if i < self.vocab.len() {
            return Some(self.vocab.token(i));
        }
        self.special_bytes(id)
    }

    /// Every token's content split for decoders that join strings in
    /// JavaScript (see [`TokenTexts`]).
    pub fn token_texts(&self) -> TokenTexts {
        let n = self.vocab_size();
        let mut out = TokenTexts {
            text: String::with_capacity(self.vocab.len() * 8),
            ends: Vec::with_capacity(n + 1),
            cut_bytes: Vec::new(),
            cut_ends: Vec::with_capacity(n + 1),
        };
        let mut units = 0u32;
        out.ends.push(0);
        out.cut_ends.push(0);
        for id in 0..n as u32 {
            match self.token_bytes(id).map(|b| (b, std::str::from_utf8(b))) {
                Some((_, Ok(piece))) => {
                    out.text.push_str(piece);
                    units += piece.encode_utf16().count() as u32;
                }
                Some((bytes, Err(_))) => out.cut_bytes.extend_from_slice(bytes),
                None => {}
            }
            out.ends.push(units);
            out.cut_ends.push(out.cut_bytes.len() as u32);
        }
        out
    }

    /// The text of special token `id`, if it is one.
    fn special_bytes(&self, id: u32) -> Option<&[u8]> {
        self.specials
            .binary_search_by_key(&id, |(sid, _)| *sid)
            .ok()
            .map(|at| self.specials[at].1.as_bytes())
    }

    /// Encodes `text`, treating special-token text as plain text.
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        let mut scratch = Scratch::for_encoding(self.encoding);
        self.for_each_ordinary(text, &mut scratch, &mut |id| out.push(id));
        out
    }

    /// [`Tokenizer::encode_ordinary`] into `room`: `Ok(count)` when the ids
    /// fit there, else `Err(ids)`, all of them in a new vector (and `room`
    /// holding the first of them).
    pub fn encode_ordinary_into(
        &self,
        text: &str,
        room: &mut [u32],
    ) -> std::result::Result<usize, Vec<u32>> {
        let mut n = 0;
        let mut rest = Vec::new();
        let mut scratch = Scratch::for_encoding(self.encoding);
        self.for_each_ordinary(text, &mut scratch, &mut |id| {
            match room.get_mut(n) {
                Some(slot) => *slot = id,
                None => rest.push(id),
            }
            n += 1;
        });
        if rest.is_empty() {
            return Ok(n);
        }
        let mut all = Vec::with_capacity(n);
        all.extend_from_slice(room);
        all.append(&mut rest);
        Err(all)
    }

    /// Encodes `text`; special tokens in `allowed` become their ids, any other
    /// special-token text is encoded as plain text.
    pub fn encode(&self, text: &str, allowed: &AllowedSpecial) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.for_each(text, allowed, &mut |id| out.push(id));
        out
    }

    /// Number of tokens [`Tokenizer::encode_ordinary`] would return, without
    /// building the vector.
    pub fn count(&self, text: &str) -> usize {
        let mut n = 0usize;
        let mut scratch = Scratch::for_encoding(self.encoding);
        self.for_each_ordinary(text, &mut scratch, &mut |_| n += 1);
        n
    }

    /// Number of tokens [`Tokenizer::encode`] would return.
    pub fn count_with_special(&self, text: &str, allowed: &AllowedSpecial) -> usize {
        let mut n = 0usize;
        self.for_each(text, allowed, &mut |_| n += 1);
        n
    }

    /// Concatenated bytes of the tokens (special ids give their text).
    ///
    /// # Errors
    /// [`Error::UnknownToken`] for an id the encoding does not define.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4 + TOKEN_PAD);
        for &id in ids {
            let rank = id as usize;
            if rank < self.vocab.len() {
                self.vocab.append_token(rank, &mut out);
            } else {
                out.extend_from_slice(self.special_bytes(id).ok_or(Error::UnknownToken { id })?);
            }
        }
        Ok(out)
    }

    /// Decodes the tokens to text.
    ///
    /// # Errors
    /// [`Error::UnknownToken`] for an unknown id, [`Error::InvalidUtf8`] when
    /// the bytes are not UTF-8 (e.g. a character split across a cut).
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        String::from_utf8(self.decode_bytes(ids)?).map_err(|e| Error::InvalidUtf8 {
            valid_up_to: e.utf8_error().valid_up_to(),
        })
    }

    /// [`Tokenizer::decode`] as UTF-16 units (what a JavaScript string holds).
    ///
    /// # Errors
    /// As [`Tokenizer::decode`].
    pub fn decode_utf16(&self, ids: &[u32]) -> Result<Vec<u16>> {
        crate::utf16::from_utf8_bytes(&self.decode_bytes(ids)?)
            .map_err(|valid_up_to| Error::InvalidUtf8 { valid_up_to })
    }

    /// [`Tokenizer::decode`] as a JavaScript engine takes strings fastest:
    /// bytes when the text is ASCII, else UTF-16 units. Tokens that hold whole
    /// characters are copied as UTF-16 from a table made on the first call
    /// (its size is in docs/performance.md); the bytes of tokens that cut a
    /// character are converted where the character ends.
    ///
    /// # Errors
    /// As [`Tokenizer::decode`].
    pub fn decode_js(&self, ids: &[u32]) -> Result<JsText> {
        let table = self
            .utf16
            .get_or_init(|| Utf16Tokens::build(&self.vocab, &self.specials));
        let flag = |id: u32| table.flags.get(id as usize).copied().unwrap_or(0);
        let (all, cut_ids) =
            ids.iter()
                .fold((TOKEN_ASCII | TOKEN_WHOLE, 0usize), |(acc, cuts), &id| {
                    let f = flag(id);
                    (acc & f, cuts + usize::from(f & TOKEN_WHOLE == 0))
                });
        if all & TOKEN_ASCII != 0 {
            return self.decode_bytes(ids).map(JsText::Latin1);
        }
        if cut_ids * CUT_SHARE_FOR_BYTES > ids.len() {
            // Many characters cut between tokens: one conversion of all the
            // bytes costs less than one per cut (docs/performance.md).
            return self.decode_utf16(ids).map(JsText::Utf16);
        }
        let mut out = Vec::with_capacity(ids.len() * 4 + UNIT_PAD);
        if all & TOKEN_WHOLE != 0 {
            for &id in ids {
                table.append(id as usize, &mut out);
            }
            return Ok(JsText::Utf16(out));
        }
        // Bytes of tokens that cut characters, converted once they end on a
        // character boundary (at the next whole token, or the end).
        let mut cut: Vec<u8> = Vec::new();
        for &id in ids {
            if flag(id) & TOKEN_WHOLE != 0 {
                if !cut.is_empty() && !flush_cut(&mut cut, &mut out) {
                    return self.decode_utf16(ids).map(JsText::Utf16);
                }
                table.append(id as usize, &mut out);
            } else if (id as usize) < self.vocab.len() {
                cut.extend_from_slice(self.vocab.token(id as usize));
            } else {
                return Err(Error::UnknownToken { id });
            }
        }
        if !cut.is_empty() && !flush_cut(&mut cut, &mut out) {
            // The error as `decode` reports it (an unknown id later on comes first).
            return self.decode_utf16(ids).map(JsText::Utf16);
        }
        Ok(JsText::Utf16(out))
    }

    /// The pre-tokenizer's pieces of `text`, as byte ranges (ordinary text;
    /// no special-token handling). Tokens never cross piece boundaries.
    pub fn pieces<'t>(
        &'t self,
        text: &'t str,
    ) -> impl Iterator<Item = std::ops::Range<usize>> + 't {
        Pieces {
            pattern: self.pattern,
            text,
            pos: 0,
        }
    }

    fn for_each<F: FnMut(u32)>(&self, text: &str, allowed: &AllowedSpecial, emit: &mut F) {
        let mut scratch = Scratch::for_encoding(self.encoding);
        if *allowed == AllowedSpecial::None {
            return self.for_each_ordinary(text, &mut scratch, emit);
        }
        let mut start = 0;
        let mut from = 0;
        // Position of the first `|>` at or after `from + 2`, once searched.
        let mut close: Option<usize> = None;
        while let Some(at) = text[from..].find("<|").map(|i| from + i) {
            let close_at = match close {
                Some(c) if c >= at + 2 => c,
                _ => match text[at + 2..].find("|>") {
                    Some(i) => at + 2 + i,
                    None => break, // no special token can follow
                },
            };
            close = Some(close_at);
            let end = close_at + 2;
            let name = &text[at..end];
            if end - at <= self.max_special_len && allowed.allows(name) {
                if let Some(&id) = self.special_ids.get(name) {
                    self.for_each_ordinary(&text[start..at], &mut scratch, emit);
                    emit(id);
                    start = end;
                    from = end;
                    continue;
                }
            }
            from = at + 1;
        }
        self.for_each_ordinary(&text[start..], &mut scratch, emit);
    }

    fn for_each_ordinary<F: FnMut(u32)>(&self, text: &str, scratch: &mut Scratch, emit: &mut F) {
        let bytes = text.as_bytes();
        for range in self.pieces(text) {
            let piece = &bytes[range];
            match self.vocab.rank(piece) {
                Some(id) => emit(id),
                None => merge::merge(&self.vocab, piece, scratch, emit),
            }
        }
    }
}

/// Iterator over pre-tokenizer pieces, found by the hand-written scanner
/// (`pretok`), which the tests hold equal to tiktoken's regex.
struct Pieces<'t> {
    pattern: Pattern,
    text: &'t str,
    pos: usize,
}

impl<'t> Iterator for Pieces<'t> {
    type Item = std::ops::Range<usize>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos;
        if start >= self.text.len() {
            return None;
        }
        let end = pretok::next_piece(self.pattern, self.text.as_bytes(), start);
        self.pos = end;
        Some(start..end)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

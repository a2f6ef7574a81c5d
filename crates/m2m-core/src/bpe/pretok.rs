//! Hand-written pre-tokenizer: the pieces of the tiktoken patterns without
//! the regex engine.
//!
//! [`next_piece`] finds the piece that starts at a given position exactly as
//! the tiktoken pattern would (the original one, with `\s+(?!\S)`): it
//! follows the pattern alternative by alternative, in the order a
//! backtracking engine tries them (leftmost-first, which is also what
//! regex-automata implements), on the characters' pattern classes. The
//! regex (with the look-ahead correction of the `crate::bpe` docs) is the
//! reference in the tests only: `tests.rs` compares both on the fixture
//! corpus and on many random strings.
//!
//! [`next_piece`] first tries `pretok_ascii`, the same logic specialised to
//! ASCII (one byte-table lookup per character, no UTF-8 decoding), which
//! gives up as soon as a decision depends on a non-ASCII character; the
//! general scanner [`scan`] then finds the piece. The tests check [`scan`]
//! alone and the combination against the regex.
//!
//! # Character classes
//!
//! Every character has exactly one class bit (`END`, past the text, has
//! none): `UPPER` (`Lu`, `Lt`), `LOWER` (`Ll`), `CASELESS` (`Lm`, `Lo`),
//! `MARK` (`M`), `NUMBER` (`N`), `SPACE` (`\s`, Unicode `White_Space` as
//! regex-syntax's `perl_space`; `\r` and `\n` also have `NEWLINE`) or
//! `OTHER` (everything else, unassigned code points included). The pattern
//! classes are unions of these:
//!
//! | pattern class                        | bits                                   |
//! |--------------------------------------|----------------------------------------|
//! | `\p{L}`                              | `UPPER`, `LOWER`, `CASELESS`           |
//! | `\p{N}`                              | `NUMBER`                               |
//! | `\s`, `[\r\n]`                       | `SPACE`, `NEWLINE`                     |
//! | `[^\s\p{L}\p{N}]` ("punctuation")    | `MARK`, `OTHER`                        |
//! | `[^\r\n\p{L}\p{N}]` (the prefix)     | `MARK`, `OTHER`, `SPACE` w/o `NEWLINE` |
//! | `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` (U) | `UPPER`, `CASELESS`, `MARK`           |
//! | `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (W)       | `LOWER`, `CASELESS`, `MARK`           |
//!
//! ASCII characters are looked up in a 128-entry table, others in the
//! three-level table of `char_table.rs`, generated from the regex engine's
//! own classes (Unicode 15.0 tables of regex-syntax 0.7.5 plus the Unicode
//! 16.0 delta, exactly as the compiled pattern sees them). The test
//! `char_table_tests::table_equals_regex_classes` re-derives every code
//! point's class from the regex engine and checks the table, and checks each
//! union above against the pattern's class text.
//!
//! The case-insensitive contractions `(?i:'s|'t|'re|'ve|'m|'ll|'d)` need the
//! simple case folds of `s t r e v m l d`: the ASCII upper and lower case
//! letters, and `ſ` (U+017F) for `s` (no `k`, so the Kelvin sign plays no
//! part); the apostrophe is U+0027 only. The same test checks these sets
//! against `(?i:x)` for every code point.
//!
//! # How each alternative resolves (`p` is the start, `c0` its character)
//!
//! Greedy quantifiers take as much as they can and give back one character
//! at a time; the first way the whole alternative matches wins, and an
//! alternative is only tried when all earlier ones fail at `p`.
//!
//! - cl100k's contractions come first: they match only at `'`.
//! - `[^\r\n\p{L}\p{N}]?` + letters (both patterns): the prefix excludes
//!   letters, so when `c0` is a letter the prefix is empty. When `c0` is in
//!   the prefix class, the prefix is tried first (greedy `?`), the letters
//!   then start at `p + 1`; without the prefix they would start at `c0`,
//!   which can only work in o200k when `c0` is a mark (marks are in the
//!   prefix class and in both of o200k's letter classes).
//! - cl100k `\p{L}+`: the maximal letter run (nothing follows in the
//!   alternative, so greedy never gives back).
//! - o200k `U*W+(contraction)?` from `s` ("first"): `U*` takes the maximal
//!   run `s..u` of U. If `text[u]` is in W, it is `Ll` (the only W not in
//!   U), and `W+` takes the maximal W run from `u`. Otherwise `U*` gives
//!   back characters until the next one is in W: at the last character `j`
//!   of `s..u` that is in W (`Lm`, `Lo` or a mark), and `W+` then matches
//!   just `text[j]` (after it come only `Lu`/`Lt` up to `u`, and `text[u]`
//!   is not in W); with no such `j` the alternative fails from `s`. The
//!   optional contraction then follows if it can (greedy `?`; without it
//!   the alternative still matches, so nothing is given back for it).
//!   Order: the prefix at `p` then letters from `p + 1`; then, if `c0` is a
//!   mark, letters from `p` (this always matches: `c0` is in U and W).
//! - o200k `U+W*(contraction)?` ("second"), tried only when "first" failed
//!   both ways: the maximal U run (must be non-empty), then the maximal W
//!   run (`W*` may be empty, so greedy `U+` never gives back), then the
//!   contraction if one follows. From `p + 1` after a prefix, or from `p`
//!   when `c0` is a letter (from `p` at a mark it is never reached, see
//!   above). At a letter `c0` one of the two always matches (`Ll` is in W,
//!   every other letter in U).
//! - `\p{N}{1,3}`: up to three numbers.
//! - ` ?[^\s\p{L}\p{N}]+[\r\n]*` (o200k: `[\r\n/]*`): the ASCII space is
//!   taken only if punctuation follows it (the alternative without it
//!   cannot start at a space); then the maximal punctuation run and the
//!   maximal run of the trailing class. Marks count as punctuation here.
//! - The whitespace alternatives, reached only when `c0` is whitespace (a
//!   letter, number or punctuation character is taken by an earlier one),
//!   see the maximal whitespace run `W = text[p..q]`: `\s*[\r\n]+` matches
//!   up to and including the last `\r`/`\n` in `W` (greedy `\s*` gives back
//!   characters until one is there; after it `[\r\n]+` takes no more, as it
//!   was the last); without one, `\s+(?!\S)` matches `W` at the end of the
//!   text, `W` minus its last character if that leaves at least one, and
//!   otherwise `\s+` matches `W`. Unicode whitespace other than `\r`, `\n`
//!   (U+0085, U+00A0, U+2028, U+3000, ...) behaves like a space here, and
//!   as a prefix before letters, but is never the optional ` `.

use super::{char_table, pretok_ascii};

/// `\p{Lu}`, `\p{Lt}`.
pub(super) const UPPER: u8 = 1;
/// `\p{Ll}`.
pub(super) const LOWER: u8 = 2;
/// `\p{Lm}`, `\p{Lo}`: letters in both of o200k's letter classes.
pub(super) const CASELESS: u8 = 4;
/// `\p{M}`.
pub(super) const MARK: u8 = 8;
/// `\p{N}`.
pub(super) const NUMBER: u8 = 16;
/// `\s`.
pub(super) const SPACE: u8 = 32;
/// `\r`, `\n` (always with `SPACE`).
pub(super) const NEWLINE: u8 = 64;
/// Not a letter, mark, number or whitespace.
pub(super) const OTHER: u8 = 128;
/// Past the end of the text: no class.
pub(super) const END: u8 = 0;

/// `\p{L}`.
pub(super) const LETTER: u8 = UPPER | LOWER | CASELESS;
/// `[^\s\p{L}\p{N}]`.
pub(super) const PUNCT: u8 = MARK | OTHER;
/// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
pub(super) const O200K_UPPER: u8 = UPPER | CASELESS | MARK;
/// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
pub(super) const O200K_LOWER: u8 = LOWER | CASELESS | MARK;

/// `[^\r\n\p{L}\p{N}]` (false at the end).
#[inline(always)]
pub(super) fn is_prefix(c: u8) -> bool {
    c & (MARK | OTHER | SPACE) != 0 && c & NEWLINE == 0
}

/// Class bits of the ASCII characters.
static ASCII: [u8; 128] = ascii_classes();

pub(super) const fn ascii_classes() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() {
            LOWER
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_digit() {
            NUMBER
        } else if c == b'\r' || c == b'\n' {
            SPACE | NEWLINE
        } else if c == b'\t' || c == 0x0B || c == 0x0C || c == b' ' {
            SPACE
        } else {
            OTHER
        };
        b += 1;
    }
    t
}

/// Which tiktoken pattern to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `cl100k_base` and Llama 3.
    Cl100k,
    /// `o200k_base`.
    O200k,
}

impl Pattern {
    /// The pattern `encoding` follows (Llama 3 uses cl100k's).
    pub(crate) fn of(encoding: crate::Encoding) -> Pattern {
        match encoding {
            crate::Encoding::Cl100kBase | crate::Encoding::Llama3 => Pattern::Cl100k,
            crate::Encoding::O200kBase => Pattern::O200k,
        }
    }
}

/// Class bits of the character at `i` (a character boundary of the UTF-8
/// text `b`) and the index after it; `(END, i)` at the end.
#[inline(always)]
pub(super) fn class_at(b: &[u8], i: usize) -> (u8, usize) {
    match b.get(i) {
        None => (END, i),
        Some(&c) if c < 0x80 => (ASCII[c as usize], i + 1),
        Some(&c) => decode_class(b, i, c),
    }
}

/// [`class_at`] for a character of 2 to 4 bytes starting with `c`.
#[inline]
fn decode_class(b: &[u8], i: usize, c: u8) -> (u8, usize) {
    // `b` comes from a `str`, so the continuation bytes are there.
    let cont = |k: usize| u32::from(b[i + k] & 0x3F);
    let (cp, len) = if c < 0xE0 {
        ((u32::from(c & 0x1F) << 6) | cont(1), 2)
    } else if c < 0xF0 {
        ((u32::from(c & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (
            (u32::from(c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        )
    };
    (char_table::lookup(cp), i + len)
}

/// First character boundary at or after `i` whose class is not in `set`.
#[inline(always)]
fn skip(b: &[u8], mut i: usize, set: u8) -> usize {
    loop {
        let (c, next) = class_at(b, i);
        if c & set == 0 {
            return i;
        }
        i = next;
    }
}

/// First index at or after `i` whose byte is not an ASCII byte `keep` accepts.
#[inline(always)]
fn skip_bytes(b: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && keep(b[i]) {
        i += 1;
    }
    i
}

/// The letter among `s t r e v m l d` (lower case) that the character at
/// `i` equals case-insensitively (simple case folding, as regex-syntax's
/// `(?i:x)`): its ASCII upper and lower case, and `ſ` (U+017F) for `s`.
/// Returns that letter (0 for none) and, for a letter, the index after the
/// character.
#[inline]
pub(super) fn fold(b: &[u8], i: usize) -> (u8, usize) {
    match b.get(i) {
        Some(&c) if c < 0x80 => {
            // `| 0x20` lower-cases ASCII letters and maps no other byte to one.
            let l = c | 0x20;
            if matches!(l, b's' | b't' | b'r' | b'e' | b'v' | b'm' | b'l' | b'd') {
                (l, i + 1)
            } else {
                (0, i)
            }
        }
        Some(&0xC5) if b.get(i + 1) == Some(&0xBF) => (b's', i + 2),
        _ => (0, i),
    }
}

/// End of `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`, if it matches there.
#[inline]
fn contraction(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'\'') {
        return None;
    }
    let (x, j) = fold(b, i + 1);
    let second = |want: u8| match fold(b, j) {
        (y, k) if y == want => Some(k),
        _ => None,
    };
    match x {
        b's' | b't' | b'm' | b'd' => Some(j),
        b'r' | b'v' => second(b'e'),
        b'l' => second(b'l'),
        _ => None,
    }
}

/// o200k's first letter alternative without its contraction,
/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` at `s`: the
/// end of the match a backtracking engine finds first, if any.
#[inline]
fn o200k_first(b: &[u8], s: usize) -> Option<usize> {
    let mut i = s;
    // End of the last character of the U run so far that is also in W.
    let mut last_w = None;
    loop {
        let (c, next) = class_at(b, i);
        if c & O200K_UPPER == 0 {
            return if c & O200K_LOWER != 0 {
                Some(skip(b, next, O200K_LOWER))
            } else {
                last_w
            };
        }
        if c & O200K_LOWER != 0 {
            last_w = Some(next);
        }
        i = next;
    }
}

/// o200k's second letter alternative without its contraction,
/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` at `s`.
#[inline]
fn o200k_second(b: &[u8], s: usize) -> Option<usize> {
    let (c, next) = class_at(b, s);
    if c & O200K_UPPER == 0 {
        return None;
    }
    Some(skip(b, skip(b, next, O200K_UPPER), O200K_LOWER))
}

/// o200k's two letter alternatives at `p` (`c0`, ending at `p1`, is the
/// character there), contraction included.
#[inline]
fn o200k_letters(b: &[u8], p: usize, c0: u8, p1: usize) -> Option<usize> {
    let end = if is_prefix(c0) {
        o200k_first(b, p1)
            .or_else(|| {
                if c0 & MARK != 0 {
                    o200k_first(b, p)
                } else {
                    None
                }
            })
            .or_else(|| o200k_second(b, p1))
    } else if c0 & LETTER != 0 {
        o200k_first(b, p).or_else(|| o200k_second(b, p))
    } else {
        None
    }?;
    Some(contraction(b, end).unwrap_or(end))
}

/// End of the piece that starts at `p` (`p < b.len()`, a character boundary
/// of the UTF-8 text `b`): by the ASCII fast path (`pretok_ascii.rs`) when
/// the piece only depends on ASCII characters, otherwise by [`scan`].
#[inline]
pub(crate) fn next_piece(pattern: Pattern, b: &[u8], p: usize) -> usize {
    match pretok_ascii::next_piece(pattern, b, p) {
        Some(end) => end,
        None => scan(pattern, b, p),
    }
}

/// The general scanner: [`next_piece`] for any text. Out of line and marked
/// cold so that the code around the ASCII fast path stays tight
/// (docs/performance.md, "Pre-tokenizer").
#[cold]
#[inline(never)]
pub(super) fn scan(pattern: Pattern, b: &[u8], p: usize) -> usize {
    let (c0, p1) = class_at(b, p);
    match pattern {
        Pattern::Cl100k => {
            if let Some(end) = contraction(b, p) {
                return end;
            }
            let letters = if c0 & LETTER != 0 {
                Some(p)
            } else if is_prefix(c0) && class_at(b, p1).0 & LETTER != 0 {
                Some(p1)
            } else {
                None
            };
            if let Some(s) = letters {
                return skip(b, s, LETTER);
            }
        }
        Pattern::O200k => {
            if let Some(end) = o200k_letters(b, p, c0, p1) {
                return end;
            }
        }
    }
    if c0 & NUMBER != 0 {
        let mut e = p1;
        for _ in 0..2 {
            let (c, next) = class_at(b, e);
            if c & NUMBER == 0 {
                break;
            }
            e = next;
        }
        return e;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*` (o200k: `[\r\n/]*`)
    let s = if b[p] == b' ' && class_at(b, p1).0 & PUNCT != 0 {
        p1
    } else {
        p
    };
    let (cs, s1) = class_at(b, s);
    if cs & PUNCT != 0 {
        let e = skip(b, s1, PUNCT);
        return match pattern {
            Pattern::Cl100k => skip_bytes(b, e, |x| x == b'\r' || x == b'\n'),
            Pattern::O200k => skip_bytes(b, e, |x| x == b'\r' || x == b'\n' || x == b'/'),
        };
    }
    // Whitespace: every other class is taken above.
    debug_assert!(c0 & SPACE != 0);
    let mut q = p;
    let mut last = p; // start of the run's last character
    let mut after_newline = None;
    loop {
        let (c, next) = class_at(b, q);
        if c & SPACE == 0 {
            break;
        }
        last = q;
        q = next;
        if c & NEWLINE != 0 {
            after_newline = Some(q);
        }
    }
    match after_newline {
        Some(e) => e,                           // \s*[\r\n]+
        None if q == b.len() || last == p => q, // \s+(?!\S) at the end, or \s+
        None => last,                           // \s+(?!\S)
    }
}

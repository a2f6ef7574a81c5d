//! The pre-tokenizer's ASCII fast path: [`next_piece`] finds the piece that
//! starts at a given position as long as every character its decision
//! depends on is ASCII, and returns `None` otherwise; then the general
//! scanner (`pretok.rs`) finds it. It is a copy of the general scanner's
//! logic specialised to ASCII, where the pattern classes are simple, and it
//! exists only for speed: a single 256-entry byte table (made from the
//! general scanner's ASCII classes) and no UTF-8 decoding make ASCII text
//! (JSON, code, English) faster (docs/performance.md, "Pre-tokenizer").
//!
//! On ASCII the pattern classes are simple: `\p{L}` is `[A-Za-z]` (`\p{Lu}`
//! is `[A-Z]`, `\p{Ll}` is `[a-z]`, no ASCII character is `Lt`, `Lm`, `Lo` or
//! `M`), `\p{N}` is `[0-9]`, `\s` (Unicode `White_Space`, regex-syntax's
//! `perl_space`) is `[\t\n\x0B\x0C\r ]`; everything else is "other"
//! (`[^\s\p{L}\p{N}]`). Case-insensitive contractions only need a look at
//! ASCII letters too, except that `(?i:s)` also matches `ſ` (U+017F), which
//! is not ASCII and so falls back.
//!
//! How each alternative resolves on ASCII (`p` is the start):
//!
//! - `[^\r\n\p{L}\p{N}]?` + letters: the optional prefix and the letters
//!   exclude each other, so exactly one choice can work: the prefix is
//!   `text[p]` when that is neither a letter nor `\r`, `\n` or a digit, and
//!   then the letters start at `p + 1` (the branch fails unless a letter is
//!   there); otherwise the letters start at `p`.
//! - cl100k `\p{L}+`: the maximal letter run (the character ending it must be
//!   known not to be a letter).
//! - o200k `[\p{Lu}…]*[\p{Ll}…]+` (case-sensitive, first): upper case run,
//!   then it needs a lower case letter; an upper case letter is never lower
//!   case on ASCII, so giving back upper case letters never helps: the
//!   branch matches the upper run plus the maximal lower run iff a lower
//!   case letter follows the upper run. Otherwise the second branch
//!   `[\p{Lu}…]+[\p{Ll}…]*` matches the (non-empty) upper run. Either one
//!   then takes a contraction if one follows (greedy `?`; without it the
//!   branch still succeeds, so there is no further backtracking).
//! - `\p{N}{1,3}`: up to three digits; the character after one or two digits
//!   must be known not to be a number.
//! - ` ?[^\s\p{L}\p{N}]+[\r\n]*` (o200k: `[\r\n/]*`): a space is taken only if
//!   "other" follows it (the branch without it cannot start at a space);
//!   then the maximal run of "other" (ended by a known character) and the
//!   maximal run of the trailing class.
//! - The whitespace branches see the maximal whitespace run `W = text[p..q]`
//!   (ended by a known character or the end): `\s*[\r\n]+` matches up to and
//!   including the last `\r`/`\n` in `W` (greedy `\s*` gives back characters
//!   until one is there); without one, `\s+(?!\S)` matches `W` at the end of
//!   the text, `W` minus its last character if that leaves at least one,
//!   and otherwise `\s+` matches `W`.

use super::pretok::{self, Pattern, END, LOWER, NEWLINE, NUMBER, OTHER, SPACE, UPPER};

/// A byte of a non-ASCII character: its class is unknown here. (Bits no ASCII
/// character has in the shared class table.)
const UNKNOWN: u8 = pretok::CASELESS | pretok::MARK;
/// An ASCII letter (`pretok::LETTER` also holds `CASELESS`, part of `UNKNOWN`).
const LETTER: u8 = LOWER | UPPER;

/// Class bits of every byte value: the ASCII classes of `pretok`, and
/// `UNKNOWN` for the bytes of other characters.
static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let ascii = pretok::ascii_classes();
    let mut t = [UNKNOWN; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = ascii[b];
        b += 1;
    }
    t
}

#[inline(always)]
fn class(b: &[u8], i: usize) -> u8 {
    match b.get(i) {
        Some(&c) => CLASS[c as usize],
        None => END,
    }
}

/// First index at or after `i` whose class is not in `set`.
#[inline(always)]
fn skip(b: &[u8], mut i: usize, set: u8) -> usize {
    while class(b, i) & set != 0 {
        i += 1;
    }
    i
}

/// Result of trying `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at a `'`.
enum Contraction {
    /// Matches, ending here.
    Match(usize),
    /// Does not match.
    No,
    /// Depends on a non-ASCII character.
    Unknown,
}

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`, where `b[i] == b'\''`.
#[inline]
fn contraction(b: &[u8], i: usize) -> Contraction {
    let second = |c: u8| -> Contraction {
        match b.get(i + 2) {
            Some(&x) if x | 0x20 == c => Contraction::Match(i + 3),
            Some(&x) if x >= 0x80 => Contraction::Unknown,
            _ => Contraction::No,
        }
    };
    match b.get(i + 1) {
        None => Contraction::No,
        Some(&x) if x >= 0x80 => Contraction::Unknown,
        // `| 0x20` lower-cases ASCII letters (and maps no other byte to one).
        Some(&x) => match x | 0x20 {
            b's' | b't' | b'm' | b'd' => Contraction::Match(i + 2),
            b'r' | b'v' => second(b'e'),
            b'l' => second(b'l'),
            _ => Contraction::No,
        },
    }
}

/// End of the piece that starts at `p` (`p < b.len()`, on a character
/// boundary), or `None` if that depends on a non-ASCII character.
#[inline]
pub(crate) fn next_piece(pattern: Pattern, b: &[u8], p: usize) -> Option<usize> {
    let c = class(b, p);
    if c & UNKNOWN != 0 {
        return None;
    }
    // Start of the letters of a letter branch: `p`, or `p + 1` after a
    // `[^\r\n\p{L}\p{N}]` prefix.
    let letters = if c & LETTER != 0 {
        Some(p)
    } else if c & (OTHER | SPACE) != 0 && c & NEWLINE == 0 {
        let c1 = class(b, p + 1);
        if c1 & UNKNOWN != 0 {
            return None;
        }
        if c1 & LETTER != 0 {
            Some(p + 1)
        } else {
            None
        }
    } else {
        None
    };
    match pattern {
        Pattern::Cl100k => {
            // The contractions come first.
            if b[p] == b'\'' {
                match contraction(b, p) {
                    Contraction::Match(end) => return Some(end),
                    Contraction::Unknown => return None,
                    Contraction::No => {}
                }
            }
            if let Some(s) = letters {
                let e = skip(b, s, LETTER);
                return if class(b, e) & UNKNOWN != 0 {
                    None
                } else {
                    Some(e)
                };
            }
        }
        Pattern::O200k => {
            if let Some(s) = letters {
                let u = skip(b, s, UPPER);
                let cu = class(b, u);
                let e = if cu & LOWER != 0 {
                    skip(b, u + 1, LOWER)
                } else {
                    u
                };
                if class(b, e) & UNKNOWN != 0 {
                    return None;
                }
                if e < b.len() && b[e] == b'\'' {
                    return match contraction(b, e) {
                        Contraction::Match(end) => Some(end),
                        Contraction::Unknown => None,
                        Contraction::No => Some(e),
                    };
                }
                return Some(e);
            }
        }
    }
    if c & NUMBER != 0 {
        let mut e = p + 1;
        while e < p + 3 && class(b, e) & NUMBER != 0 {
            e += 1;
        }
        return if e < p + 3 && class(b, e) & UNKNOWN != 0 {
            None
        } else {
            Some(e)
        };
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    let s = if b[p] == b' ' && class(b, p + 1) & OTHER != 0 {
        p + 1
    } else {
        p
    };
    if class(b, s) & OTHER != 0 {
        let e = skip(b, s + 1, OTHER);
        if class(b, e) & UNKNOWN != 0 {
            return None;
        }
        return Some(match pattern {
            Pattern::Cl100k => skip(b, e, NEWLINE),
            Pattern::O200k => {
                let mut e = e;
                while e < b.len() && matches!(b[e], b'\r' | b'\n' | b'/') {
                    e += 1;
                }
                e
            }
        });
    }
    // Whitespace (letters, digits, "other" and unknown are handled above).
    let mut q = p;
    let mut after_newline = None;
    loop {
        let cq = class(b, q);
        if cq & SPACE == 0 {
            if cq & UNKNOWN != 0 {
                return None;
            }
            break;
        }
        q += 1;
        if cq & NEWLINE != 0 {
            after_newline = Some(q);
        }
    }
    Some(match after_newline {
        Some(e) => e,                            // \s*[\r\n]+
        None if q == b.len() || q - p == 1 => q, // \s+(?!\S) at the end, or \s+
        None => q - 1,                           // \s+(?!\S)
    })
}

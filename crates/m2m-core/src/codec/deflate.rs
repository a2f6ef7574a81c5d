//! Raw deflate (RFC 1951) against a preset dictionary, for messages of a few
//! hundred bytes against a session history or a trained dictionary
//! ([`super::preset`]), where Brotli's prefix-code descriptions cost more than
//! the message's own matches.
//!
//! The encoder is m2m's own: no deflate crate that builds with Rust 1.63
//! compresses against a preset dictionary. It writes one final block with
//! deflate's fixed codes and chooses its literals and matches by a shortest
//! path over their exact bit costs under those codes. The decoder is
//! miniz_oxide's inflate, its output buffer primed with the dictionary, so
//! any raw deflate stream against the same dictionary decodes (zlib's
//! `inflateSetDictionary` gives the same bytes).

use std::cell::RefCell;

use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
use miniz_oxide::inflate::core::{decompress as inflate, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use crate::error::{Error, Result};
use crate::limits::MAX_DECOMPRESSED_BYTES;

/// Deflate's window: the farthest back a match reaches, and so the part of a
/// dictionary that counts (its last `WINDOW` bytes).
pub const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;
/// Earlier positions with the same 3-byte hash looked at per position.
const MAX_CHAIN: usize = 16;
/// A match this long ends the search at its position.
const NICE_MATCH: usize = 64;
/// Inside a match at least this long, the positions it covers are not
/// searched: each is offered only the rest of that match.
const SKIP_MATCH: usize = 16;
/// The shortest path weighs every length of a match up to this many past
/// the shorter matches at its position, then only the match's whole length.
const EXACT_LENGTHS: usize = 8;
const NONE: u32 = u32::MAX;

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

/// The length code (0–28, symbol 257 + code) of each match length.
const LENGTH_CODE: [u8; MAX_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut code = 0;
    let mut len = MIN_MATCH;
    while len <= MAX_MATCH {
        while code + 1 < LENGTH_BASE.len() && LENGTH_BASE[code + 1] as usize <= len {
            code += 1;
        }
        table[len] = code as u8;
        len += 1;
    }
    table
};

/// The fixed code of each literal/length symbol: (bits, reversed for
/// deflate's LSB-first bit order, and their count).
const FIXED_LITERAL_LENGTH: [(u16, u8); 288] = {
    let mut table = [(0u16, 0u8); 288];
    let mut symbol = 0;
    while symbol < 288 {
        let (code, len) = match symbol {
            0..=143 => (0x30 + symbol, 8),
            144..=255 => (0x190 + symbol - 144, 9),
            256..=279 => (symbol - 256, 7),
            _ => (0xc0 + symbol - 280, 8),
        };
        table[symbol] = (reverse(code as u16, len), len);
        symbol += 1;
    }
    table
};

const fn reverse(code: u16, len: u8) -> u16 {
    let mut out = 0;
    let mut i = 0;
    while i < len {
        out |= ((code >> i) & 1) << (len - 1 - i);
        i += 1;
    }
    out
}

fn distance_code(distance: usize) -> usize {
    let x = distance - 1;
    if x < 4 {
        x
    } else {
        let k = (usize::BITS - 1 - x.leading_zeros()) as usize;
        2 * k + ((x >> (k - 1)) & 1)
    }
}

fn distance_extra(code: usize) -> u32 {
    if code < 4 {
        0
    } else {
        (code / 2 - 1) as u32
    }
}

fn literal_bits(byte: u8) -> u32 {
    u32::from(FIXED_LITERAL_LENGTH[usize::from(byte)].1)
}

fn length_bits(len: usize) -> u32 {
    let code = usize::from(LENGTH_CODE[len]);
    u32::from(FIXED_LITERAL_LENGTH[257 + code].1) + u32::from(LENGTH_EXTRA[code])
}

fn distance_bits(distance: usize) -> u32 {
    5 + distance_extra(distance_code(distance))
}

/// A way to reach further back: every length from the previous entry's
/// (exclusive) up to `len` is found `distance` back.
#[derive(Clone, Copy)]
struct Match {
    len: u16,
    distance: u16,
}

/// A dictionary made ready for [`compress_prepared`]: its last [`WINDOW`]
/// bytes and their hash chains, made once for a dictionary used many times.
#[derive(Debug)]
pub struct Prepared {
    window: Vec<u8>,
    head: Vec<u32>,
    prev: Vec<u32>,
}

fn hash3(bytes: &[u8], i: usize) -> usize {
    let v = u32::from(bytes[i]) | u32::from(bytes[i + 1]) << 8 | u32::from(bytes[i + 2]) << 16;
    (v.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
}

impl Prepared {
    /// Hashes the last [`WINDOW`] bytes of `dictionary`.
    pub fn new(dictionary: &[u8]) -> Prepared {
        let mut prepared = Prepared {
            window: Vec::new(),
            head: Vec::new(),
            prev: Vec::new(),
        };
        prepared.refill(dictionary);
        prepared
    }

    /// Makes this the preparation of `dictionary`, in the same memory.
    fn refill(&mut self, dictionary: &[u8]) {
        self.window.clear();
        self.window
            .extend_from_slice(&dictionary[dictionary.len().saturating_sub(WINDOW)..]);
        self.head.clear();
        self.head.resize(1 << HASH_BITS, NONE);
        self.prev.clear();
        self.prev
            .resize(self.window.len().saturating_sub(MIN_MATCH - 1), NONE);
        for (i, p) in self.prev.iter_mut().enumerate() {
            let h = hash3(&self.window, i);
            *p = self.head[h];
            self.head[h] = i as u32;
        }
    }
}

thread_local! {
    /// The preparation [`compress`] makes of its dictionary, its memory kept
    /// from call to call (fresh tables of this size are mapped and faulted
    /// in by the allocator on every call).
    static PREPARED: RefCell<Prepared> = RefCell::new(Prepared::new(&[]));
    /// The hash heads of a message's own positions, all `NONE` between calls.
    static HEADS: RefCell<Vec<u32>> = RefCell::new(vec![NONE; 1 << HASH_BITS]);
}

/// Compresses `data` as one raw deflate block against the last [`WINDOW`]
/// bytes of `dictionary`. Meant for short messages: each byte may weigh up
/// to 258 match lengths.
pub fn compress(data: &[u8], dictionary: &[u8]) -> Vec<u8> {
    PREPARED.with(|prepared| {
        let mut prepared = prepared.borrow_mut();
        prepared.refill(dictionary);
        compress_prepared(data, &prepared)
    })
}

/// [`compress`] against a [`Prepared`] dictionary.
pub fn compress_prepared(data: &[u8], dictionary: &Prepared) -> Vec<u8> {
    let (starts, matches) = find_matches(dictionary, data);
    let path = shortest_path(data, &starts, &matches);
    write_block(data, &path)
}

/// For each position of `data` (after the dictionary's window), its matches:
/// `matches[starts[i]..starts[i + 1]]`, longer and farther in turn.
fn find_matches(dictionary: &Prepared, data: &[u8]) -> (Vec<u32>, Vec<Match>) {
    let start = dictionary.window.len();
    let mut window = Vec::with_capacity(start + data.len());
    window.extend_from_slice(&dictionary.window);
    window.extend_from_slice(data);
    let window = &window[..];
    let n = window.len();
    // Positions from `base` on (the dictionary's last two, whose 3 bytes
    // reach into the data, and the data's) are chained here, in front of
    // the dictionary's own chains.
    let base = dictionary.prev.len();
    HEADS.with(|head| {
        let mut head = head.borrow_mut();
        let found = chain_matches(dictionary, window, base, &mut head);
        // Back to all `NONE`, touching only what this message set.
        for i in base..n.saturating_sub(MIN_MATCH - 1) {
            head[hash3(window, i)] = NONE;
        }
        found
    })
}

fn chain_matches(
    dictionary: &Prepared,
    window: &[u8],
    base: usize,
    head: &mut [u32],
) -> (Vec<u32>, Vec<Match>) {
    let start = dictionary.window.len();
    let n = window.len();
    let mut prev = vec![NONE; n - base];
    let hashed = n.saturating_sub(MIN_MATCH - 1);
    let insert = |i: usize, head: &mut [u32], prev: &mut [u32]| {
        let h = hash3(window, i);
        prev[i - base] = head[h];
        head[h] = i as u32;
    };
    for i in base..start.min(hashed) {
        insert(i, head, &mut prev);
    }
    let mut starts = Vec::with_capacity(n - start + 1);
    let mut matches = Vec::new();
    // The match being skipped through: (its end, its distance).
    let mut skipping: Option<(usize, usize)> = None;
    for p in start..n {
        starts.push(matches.len() as u32);
        if p >= hashed {
            continue;
        }
        let max_len = (n - p).min(MAX_MATCH);
        if let Some((end, distance)) = skipping {
            if end - p >= SKIP_MATCH {
                matches.push(Match {
                    len: (end - p).min(max_len) as u16,
                    distance: distance as u16,
                });
                insert(p, head, &mut prev);
                continue;
            }
            skipping = None;
        }
        let mut best = MIN_MATCH - 1;
        let h = hash3(window, p);
        let mut candidate = head[h];
        if candidate == NONE {
            candidate = dictionary.head[h];
        }
        let mut chain = 0;
        while candidate != NONE && chain < MAX_CHAIN {
            let c = candidate as usize;
            let distance = p - c;
            if distance > WINDOW {
                break;
            }
            if window[c + best.min(max_len - 1)] == window[p + best.min(max_len - 1)] {
                let len = window[c..c + max_len]
                    .iter()
                    .zip(&window[p..p + max_len])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best {
                    best = len;
                    matches.push(Match {
                        len: len as u16,
                        distance: distance as u16,
                    });
                    if len >= NICE_MATCH.min(max_len) {
                        break;
                    }
                }
            }
            candidate = if c >= base {
                match prev[c - base] {
                    NONE => dictionary.head[h],
                    earlier => earlier,
                }
            } else {
                dictionary.prev[c]
            };
            chain += 1;
        }
        if best >= SKIP_MATCH {
            let distance = matches.last().map_or(0, |m| usize::from(m.distance));
            skipping = Some((p + best, distance));
        }
        insert(p, head, &mut prev);
    }
    starts.push(matches.len() as u32);
    (starts, matches)
}

/// The cheapest parse: for each position, a literal (`len` 0) or the match
/// of `len` bytes `distance` back, in bits under the fixed codes.
fn shortest_path(data: &[u8], starts: &[u32], matches: &[Match]) -> Vec<Match> {
    let n = data.len();
    let mut cost = vec![0u32; n + 1];
    let mut choice = vec![
        Match {
            len: 0,
            distance: 0
        };
        n
    ];
    for i in (0..n).rev() {
        let mut best = cost[i + 1] + literal_bits(data[i]);
        let mut pick = Match {
            len: 0,
            distance: 0,
        };
        let mut from = MIN_MATCH;
        for m in &matches[starts[i] as usize..starts[i + 1] as usize] {
            let len = usize::from(m.len);
            let distance = usize::from(m.distance);
            let distance_cost = distance_bits(distance);
            // Every length up to EXACT_LENGTHS past the previous entry's, then
            // only the longest: ending a long match early seldom pays.
            let exact = len.min(from + EXACT_LENGTHS);
            for l in (from..=exact).chain((exact < len).then_some(len)) {
                let c = cost[i + l] + length_bits(l) + distance_cost;
                if c < best {
                    best = c;
                    pick = Match {
                        len: l as u16,
                        distance: m.distance,
                    };
                }
            }
            from = from.max(len + 1);
        }
        cost[i] = best;
        choice[i] = pick;
    }
    let mut path = Vec::new();
    let mut i = 0;
    while i < n {
        let step = choice[i];
        path.push(step);
        i += usize::from(step.len).max(1);
    }
    path
}

struct BitWriter {
    out: Vec<u8>,
    bits: u64,
    count: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        self.bits |= u64::from(value) << self.count;
        self.count += count;
        while self.count >= 8 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.count -= 8;
        }
    }

    fn symbol(&mut self, symbol: usize) {
        let (code, len) = FIXED_LITERAL_LENGTH[symbol];
        self.put(u32::from(code), u32::from(len));
    }
}

fn write_block(data: &[u8], path: &[Match]) -> Vec<u8> {
    let mut w = BitWriter {
        out: Vec::with_capacity(data.len() / 2 + 8),
        bits: 0,
        count: 0,
    };
    // BFINAL = 1, BTYPE = 01 (fixed codes).
    w.put(0b011, 3);
    let mut i = 0;
    for step in path {
        if step.len == 0 {
            w.symbol(usize::from(data[i]));
            i += 1;
            continue;
        }
        let len = usize::from(step.len);
        let code = usize::from(LENGTH_CODE[len]);
        w.symbol(257 + code);
        w.put(
            (len - usize::from(LENGTH_BASE[code])) as u32,
            u32::from(LENGTH_EXTRA[code]),
        );
        let distance = usize::from(step.distance);
        let dcode = distance_code(distance);
        w.put(u32::from(reverse(dcode as u16, 5)), 5);
        w.put(
            (distance - usize::from(DISTANCE_BASE[dcode])) as u32,
            distance_extra(dcode),
        );
        i += len;
    }
    w.symbol(256);
    if w.count > 0 {
        w.put(0, 8 - w.count);
    }
    w.out
}

/// Decodes a raw deflate stream made against the last [`WINDOW`] bytes of
/// `dictionary`, bounded by [`MAX_DECOMPRESSED_BYTES`].
///
/// # Errors
/// [`Error::DecompressionFailed`] for a corrupt or truncated stream, a match
/// before the dictionary's start, or bytes after the stream's end;
/// [`Error::ContentTooLarge`] past the bound.
pub fn decompress(data: &[u8], dictionary: &[u8]) -> Result<Vec<u8>> {
    let dictionary = &dictionary[dictionary.len().saturating_sub(WINDOW)..];
    let start = dictionary.len();
    let limit = start + MAX_DECOMPRESSED_BYTES;
    let mut out = Vec::with_capacity(
        start
            + data
                .len()
                .saturating_mul(4)
                .clamp(1024, MAX_DECOMPRESSED_BYTES),
    );
    out.extend_from_slice(dictionary);
    out.resize(out.capacity(), 0);
    let mut state = Box::<DecompressorOxide>::default();
    let mut input = data;
    let mut pos = start;
    loop {
        let (status, read, written) = inflate(
            &mut state,
            input,
            &mut out,
            pos,
            TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        pos += written;
        input = &input[read.min(input.len())..];
        match status {
            TINFLStatus::Done if input.is_empty() => break,
            TINFLStatus::Done => return Err(failed("data follows the end of the stream")),
            TINFLStatus::HasMoreOutput if out.len() >= limit => {
                return Err(Error::ContentTooLarge {
                    limit: "decompressed size",
                    max: MAX_DECOMPRESSED_BYTES,
                    actual: out.len() - start + 1,
                })
            }
            TINFLStatus::HasMoreOutput => {
                let grown = out.len().saturating_mul(2).min(limit);
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(failed("the stream is truncated"))
            }
            _ => return Err(failed("the stream is corrupt")),
        }
    }
    out.truncate(pos);
    out.drain(..start);
    Ok(out)
}

fn failed(detail: &str) -> Error {
    Error::DecompressionFailed {
        detail: format!("deflate: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::xorshift;

    fn round_trip(data: &[u8], dictionary: &[u8]) -> Vec<u8> {
        let packed = compress(data, dictionary);
        assert_eq!(decompress(&packed, dictionary).unwrap(), data);
        packed
    }

    #[test]
    fn round_trips_against_a_dictionary() {
        let dictionary = br#"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"}}]}"#;
        let event = br#"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" world"}}]}"#;
        let packed = round_trip(event, dictionary);
        assert!(packed.len() < 30, "{} bytes", packed.len());
        round_trip(b"", b"");
        round_trip(b"", dictionary);
        round_trip(b"a", b"");
        round_trip(&[b'a'; 70_000], b"");
        round_trip(&[0xff; 1000], &[0xff; 40_000]);
    }

    #[test]
    fn round_trips_any_bytes() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        for case in 0..400 {
            // Small alphabets make long and overlapping matches; some cases
            // are longer than the window.
            let alphabet = 1 + (next() % 6) as u8 * (1 + case % 50) as u8;
            let len = (next() % if case % 20 == 0 { 80_000 } else { 2_000 }) as usize;
            let dict_len = (next() % 40_000) as usize;
            let mut bytes = |n: usize| -> Vec<u8> {
                (0..n)
                    .map(|_| (next() % u64::from(alphabet)) as u8)
                    .collect()
            };
            let dictionary = bytes(dict_len);
            let mut data = bytes(len);
            if len > 100 && dict_len > 100 {
                let at = (next() as usize) % (dict_len - 100);
                data[..100].copy_from_slice(&dictionary[at..at + 100]);
            }
            round_trip(&data, &dictionary);
        }
    }

    #[test]
    fn a_prepared_dictionary_gives_the_same_bytes_and_calls_leave_nothing_behind() {
        let dictionary = br#"{"role":"assistant","content":"Paris is the capital."}"#.repeat(800);
        let message = br#"{"role":"user","content":"And the capital of Spain?"}"#;
        let first = compress(message, &dictionary);
        // Another message against another dictionary in between.
        compress(
            b"other text, other dictionary, other text",
            b"another dictionary",
        );
        assert_eq!(compress(message, &dictionary), first);
        assert_eq!(
            compress_prepared(message, &Prepared::new(&dictionary)),
            first
        );
        assert_eq!(decompress(&first, &dictionary).unwrap(), message);
    }

    #[test]
    fn distances_and_lengths_are_coded_as_deflate_says() {
        for d in 1..=WINDOW {
            let code = distance_code(d);
            let base = usize::from(DISTANCE_BASE[code]);
            assert!(base <= d && d - base < 1 << distance_extra(code), "{d}");
        }
        for (len, &code) in LENGTH_CODE.iter().enumerate().skip(MIN_MATCH) {
            let code = usize::from(code);
            let base = usize::from(LENGTH_BASE[code]);
            assert!(base <= len && len - base < 1 << LENGTH_EXTRA[code], "{len}");
        }
        assert_eq!(LENGTH_CODE[258], 28);
        assert_eq!(LENGTH_CODE[257], 27);
    }

    #[test]
    fn refuses_broken_streams() {
        let dictionary = b"the quick brown fox jumps over the lazy dog";
        let packed = compress(b"the lazy dog jumps over the quick brown fox", dictionary);
        for cut in 0..packed.len() {
            assert!(matches!(
                decompress(&packed[..cut], dictionary),
                Err(Error::DecompressionFailed { .. })
            ));
        }
        let mut longer = packed.clone();
        longer.push(0);
        assert!(matches!(
            decompress(&longer, dictionary),
            Err(Error::DecompressionFailed { .. })
        ));
        // Without the dictionary its matches reach before the start.
        assert!(matches!(
            decompress(&packed, b""),
            Err(Error::DecompressionFailed { .. })
        ));
        // Reserved block type 11.
        assert!(decompress(&[0b111], b"").is_err());
    }

    #[test]
    fn any_bytes_decode_or_fail_typed() {
        let dictionary = br#"{"choices":[{"delta":{"content":"hi"}}]}"#.repeat(30);
        let good = compress(br#"{"choices":[{"delta":{"content":"ho"}}]}"#, &dictionary);
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        for case in 0..20_000 {
            let bytes: Vec<u8> = if case % 2 == 0 {
                (0..next() % 64).map(|_| next() as u8).collect()
            } else {
                let mut b = good.clone();
                let at = next() as usize % b.len();
                b[at] ^= 1 << (next() % 8);
                b
            };
            match decompress(&bytes, &dictionary) {
                Ok(_)
                | Err(Error::DecompressionFailed { .. })
                | Err(Error::ContentTooLarge { .. }) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bounds_what_it_decodes() {
        // One zero, then matches of 258 bytes one back: ~2 bytes of stream
        // for every 258 bytes out, past 16 MiB.
        let mut path = vec![Match {
            len: 0,
            distance: 0,
        }];
        path.resize(
            MAX_DECOMPRESSED_BYTES / MAX_MATCH + 10,
            Match {
                len: 258,
                distance: 1,
            },
        );
        let bomb = write_block(&[0], &path);
        assert!(bomb.len() < 200_000);
        assert!(matches!(
            decompress(&bomb, b""),
            Err(Error::ContentTooLarge { .. })
        ));
    }
}

//! Byte-pair merging of one pre-tokenized piece, with tiktoken's semantics:
//! start from single bytes, repeatedly merge the adjacent pair whose
//! concatenation has the lowest rank (the leftmost such pair on a tie) until
//! no adjacent pair is a token.
//
// Performance notes
// -----------------
// - Most pieces are whole tokens; the caller tries that single lookup first
//   (tiktoken does the same, and it changes results: a piece that is a token
//   is that token even when merging would split it differently).
// - Short pieces (< HEAP_THRESHOLD bytes, i.e. nearly all real text) use
//   tiktoken's own algorithm: a flat array of (start, rank of the pair that
//   starts here), a linear scan for the minimum and removal by shifting. On
//   tiny n this quadratic loop beats anything clever: it is branch-light and
//   stays in one or two cache lines. The array is on the stack for pieces
//   under 32 bytes and otherwise a scratch buffer reused across pieces, so
//   the steady state allocates nothing.
// - Long pieces (1 MB of one letter, a minified blob without spaces) would be
//   quadratic that way. They use a doubly linked list over byte positions
//   plus a binary min-heap of packed `(rank << 32) | position` keys with lazy
//   deletion: an entry is stale when the pair at that position no longer has
//   that rank (a pair only grows, and distinct byte strings have distinct
//   ranks, so a stale entry can never look current again). Ties on rank pop
//   the lowest position first, which is tiktoken's leftmost rule. The heap is
//   built in O(n) from all initial pairs and each merge pushes at most two
//   entries: O(n log n) overall, where tiktoken is quadratic on long single
//   pieces (figures in docs/performance.md, "BPE merge").
// - The rank of a merged token is the rank of the pair just merged, so the
//   heap path never looks a final token up again.
// - The tokens of each merged piece of 6 to 127 bytes are remembered
//   (`PieceCache`, one per thread and encoding, kept across calls, bounded):
//   code, prose and API traffic repeat identifiers, words and whole prompts
//   that are not single tokens, and merging a piece costs far more than a
//   hash of it and one comparison (docs/performance.md; gpt-tokenizer
//   keeps a similar cache). The cache maps the exact bytes to what
//   `merge_small` returned for them, and every tokenizer of an encoding has
//   the same ranks (the rank file's hash is fixed), so it cannot change a
//   result.
// - Rank lookups: 1- and 2-byte keys index arrays; keys of 3 to 7 bytes go
//   to a table whose slots hold the whole key packed into a word (one probe
//   sequence, no token bytes touched); longer keys to a table of 32-bit hash
//   tags over the token bytes (see `table.rs`). Keys longer than the longest
//   token are rejected before hashing.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::table::hash_bytes;
use super::tokenizer::Vocab;
use crate::Encoding;

/// Pieces at least this long use the heap-based merge.
pub(crate) const HEAP_THRESHOLD: usize = 128;

/// Pieces shorter than this keep their parts in a stack array (no heap
/// allocation at all for typical text); longer ones in [`Scratch`].
const STACK_PARTS: usize = 32;

const NONE: u32 = u32::MAX;

/// Merged pieces shorter than this are not cached (merging them is cheap).
const CACHE_MIN_LEN: usize = 6;

/// A cache holding this many pieces, or this many bytes of them, is emptied
/// before it takes another (bounds its memory to about 2 MiB per thread and
/// encoding).
const CACHE_MAX_ENTRIES: usize = 1 << 15;
const CACHE_MAX_BYTES: usize = 1 << 20;

thread_local! {
    /// This thread's caches of merged pieces, by encoding (`Encoding::index`).
    static CACHES: RefCell<[PieceCache; Encoding::ALL.len()]> = RefCell::new(Default::default());
}

/// Reusable buffers for [`merge`]; keeping one per encode call avoids
/// allocating per piece.
pub(crate) struct Scratch {
    parts: Vec<(u32, u32)>,
    next: Vec<u32>,
    prev: Vec<u32>,
    rank: Vec<u32>,
    token: Vec<u32>,
    heap: BinaryHeap<Reverse<u64>>,
    cache: PieceCache,
    /// Whose thread cache `cache` is (given back on drop).
    cache_owner: Encoding,
}

impl Scratch {
    /// Scratch for one call with `encoding`, holding this thread's cache of
    /// merged pieces for it until dropped. (A nested call on the same thread
    /// would find the cache empty and just not share it.)
    pub(crate) fn for_encoding(encoding: Encoding) -> Scratch {
        let cache = CACHES
            .try_with(|c| std::mem::take(&mut c.borrow_mut()[encoding.index()]))
            .unwrap_or_default();
        Scratch {
            parts: Vec::new(),
            next: Vec::new(),
            prev: Vec::new(),
            rank: Vec::new(),
            token: Vec::new(),
            heap: BinaryHeap::new(),
            cache,
            cache_owner: encoding,
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let cache = std::mem::take(&mut self.cache);
        let slot = self.cache_owner.index();
        // Fails only while the thread is exiting; the cache is dropped then.
        let _ = CACHES.try_with(|c| c.borrow_mut()[slot] = cache);
    }
}

/// The tokens of pieces merged earlier on this thread with one encoding.
/// Keys are the pieces' hashes; the entry keeps the piece's bytes, which are compared, so
/// a hash collision is a miss (the piece is then merged and not cached).
#[derive(Default)]
struct PieceCache {
    /// hash -> (offset and length in `bytes`, offset and length in `ids`)
    map: HashMap<u64, (u32, u32, u32, u32), BuildHasherDefault<PassThrough>>,
    bytes: Vec<u8>,
    ids: Vec<u32>,
}

/// The map's keys are already hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("PieceCache keys are u64 hashes")
    }
    fn write_u64(&mut self, h: u64) {
        self.0 = h;
    }
}

/// Emits the tokens of `piece` (which must be at least 2 bytes long and not
/// itself a token) in order.
pub(crate) fn merge<F: FnMut(u32)>(
    vocab: &Vocab,
    piece: &[u8],
    scratch: &mut Scratch,
    emit: &mut F,
) {
    if piece.len() >= HEAP_THRESHOLD {
        return merge_large(vocab, piece, scratch, emit);
    }
    if piece.len() < CACHE_MIN_LEN {
        let mut parts = [(0u32, 0u32); CACHE_MIN_LEN + 1];
        return merge_small(vocab, piece, &mut parts, emit);
    }
    let cache = &mut scratch.cache;
    let hash = hash_bytes(piece);
    let cached = cache.map.get(&hash).copied();
    if let Some((b, bn, i, n)) = cached {
        if &cache.bytes[b as usize..(b + bn) as usize] == piece {
            for &id in &cache.ids[i as usize..(i + n) as usize] {
                emit(id);
            }
            return;
        }
    }
    let first = cache.ids.len();
    let ids = &mut cache.ids;
    let mut push = |id: u32| ids.push(id);
    if piece.len() < STACK_PARTS {
        let mut parts = [(0u32, 0u32); STACK_PARTS + 1];
        merge_small(vocab, piece, &mut parts, &mut push);
    } else {
        scratch.parts.resize(piece.len() + 1, (0, 0));
        merge_small(vocab, piece, &mut scratch.parts, &mut push);
    }
    for &id in &cache.ids[first..] {
        emit(id);
    }
    if cached.is_some() {
        // Another piece with the same hash is cached: keep that one.
        cache.ids.truncate(first);
        return;
    }
    let mut first = first;
    if cache.map.len() >= CACHE_MAX_ENTRIES || cache.bytes.len() + piece.len() > CACHE_MAX_BYTES {
        // Full: start over, keeping this piece's tokens.
        cache.ids.drain(..first);
        cache.map.clear();
        cache.bytes.clear();
        first = 0;
    }
    let entry = (
        cache.bytes.len() as u32,
        piece.len() as u32,
        first as u32,
        (cache.ids.len() - first) as u32,
    );
    cache.bytes.extend_from_slice(piece);
    cache.map.insert(hash, entry);
}

/// `buf` must hold at least `piece.len() + 1` entries.
fn merge_small<F: FnMut(u32)>(vocab: &Vocab, piece: &[u8], buf: &mut [(u32, u32)], emit: &mut F) {
    let rank_of = |start: usize, end: usize| vocab.rank(&piece[start..end]).unwrap_or(NONE);
    let n = piece.len();
    let mut min = (NONE, usize::MAX);
    for i in 0..n - 1 {
        let r = vocab.pair_rank(piece[i], piece[i + 1]);
        if r < min.0 {
            min = (r, i);
        }
        buf[i] = (i as u32, r);
    }
    buf[n - 1] = ((n - 1) as u32, NONE);
    buf[n] = (n as u32, NONE);
    let mut len = n + 1;

    while min.0 != NONE {
        let parts = &mut buf[..len];
        let i = min.1;
        // parts[i] and parts[i + 1] merge: recompute the ranks of the pairs
        // that now start at parts[i - 1] and at parts[i].
        if i > 0 {
            parts[i - 1].1 = if i + 2 < parts.len() {
                rank_of(parts[i - 1].0 as usize, parts[i + 2].0 as usize)
            } else {
                NONE
            };
        }
        parts[i].1 = if i + 3 < parts.len() {
            rank_of(parts[i].0 as usize, parts[i + 3].0 as usize)
        } else {
            NONE
        };
        // Remove parts[i + 1] (a plain loop: on these few elements it beats
        // a `memmove` call).
        for j in i + 1..len - 1 {
            parts[j] = parts[j + 1];
        }
        len -= 1;
        min = (NONE, usize::MAX);
        for (j, &(_, r)) in parts[..len - 1].iter().enumerate() {
            if r < min.0 {
                min = (r, j);
            }
        }
    }
    for w in buf[..len].windows(2) {
        let token = &piece[w[0].0 as usize..w[1].0 as usize];
        // Every part is a single byte or the result of a merge, so a token.
        emit(vocab.rank(token).unwrap_or(NONE));
    }
}

fn merge_large<F: FnMut(u32)>(vocab: &Vocab, piece: &[u8], s: &mut Scratch, emit: &mut F) {
    let n = piece.len();
    s.next.clear();
    s.prev.clear();
    s.rank.clear();
    s.token.clear();
    // Node i starts at byte i while it is alive; next[i] is where it ends.
    s.next.extend((1..=n).map(|i| i as u32));
    s.prev
        .extend((0..n).map(|i| if i == 0 { NONE } else { i as u32 - 1 }));
    s.token.extend(piece.iter().map(|&b| vocab.byte_rank(b)));
    let mut initial = std::mem::take(&mut s.heap).into_vec();
    initial.clear();
    for i in 0..n {
        let r = if i + 1 < n {
            vocab.pair_rank(piece[i], piece[i + 1])
        } else {
            NONE
        };
        s.rank.push(r);
        if r != NONE {
            initial.push(Reverse(((r as u64) << 32) | i as u64));
        }
    }
    // Heapify in O(n) rather than n pushes.
    s.heap = BinaryHeap::from(initial);
    let (next, prev, rank, token) = (&mut s.next, &mut s.prev, &mut s.rank, &mut s.token);
    let rank_of = |start: usize, end: usize| vocab.rank(&piece[start..end]).unwrap_or(NONE);
    while let Some(Reverse(key)) = s.heap.pop() {
        let r = (key >> 32) as u32;
        let i = key as u32 as usize;
        if rank[i] != r {
            continue; // stale
        }
        // Merge node i with its successor j.
        let j = next[i] as usize;
        let k = next[j] as usize;
        next[i] = k as u32;
        if k < n {
            prev[k] = i as u32;
        }
        rank[j] = NONE;
        token[i] = r;
        // The pair starting at i now ends where node k ends.
        let ri = if k < n {
            rank_of(i, next[k] as usize)
        } else {
            NONE
        };
        rank[i] = ri;
        if ri != NONE {
            s.heap.push(Reverse(((ri as u64) << 32) | i as u64));
        }
        // The pair starting at the predecessor now ends at k.
        let p = prev[i];
        if p != NONE {
            let p = p as usize;
            let rp = rank_of(p, k);
            rank[p] = rp;
            if rp != NONE {
                s.heap.push(Reverse(((rp as u64) << 32) | p as u64));
            }
        }
    }
    let mut i = 0;
    while i < n {
        emit(token[i]);
        i = next[i] as usize;
    }
}

#[cfg(test)]
pub(crate) fn merge_small_for_test<F: FnMut(u32)>(
    vocab: &Vocab,
    piece: &[u8],
    scratch: &mut Scratch,
    emit: &mut F,
) {
    scratch.parts.resize(piece.len() + 1, (0, 0));
    merge_small(vocab, piece, &mut scratch.parts, emit)
}

#[cfg(test)]
pub(crate) fn merge_large_for_test<F: FnMut(u32)>(
    vocab: &Vocab,
    piece: &[u8],
    scratch: &mut Scratch,
    emit: &mut F,
) {
    merge_large(vocab, piece, scratch, emit)
}

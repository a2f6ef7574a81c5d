//! The token → rank lookup tables (open addressing, no per-token
//! allocation).
//!
//! - Tokens of 1 to 7 bytes (nearly all lookups: most pre-tokenizer pieces
//!   and every pair tried while merging) live in a table whose slots hold
//!   the whole key, packed into a word with its length ([`pack`]), next to
//!   the rank: a lookup is one hash and one probe sequence over adjacent
//!   slots, and never touches the token bytes.
//! - Longer tokens (and the empty one, if a rank file had it) live in a
//!   table over the token bytes that the tokenizer keeps anyway: each slot
//!   holds the upper 32 bits of the key's hash (a tag that rejects nearly all
//!   mismatches without touching the token bytes) and the rank.

/// Multiplier of the FxHash family (as in rustc's hasher).
const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
const EMPTY: u64 = u64::MAX;
/// Keys up to this long go to the packed table.
pub(crate) const MAX_PACKED: usize = 7;

/// The bytes of `b` (at most 8) as a little-endian word, zero-padded.
///
/// Two overlapping loads instead of a copy into a buffer: no `memcpy` call
/// for the short keys that make up nearly all lookups.
#[inline(always)]
fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!(n <= 8);
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        lo | (hi << ((n - 4) * 8))
    } else if n >= 2 {
        let lo = u16::from_le_bytes([b[0], b[1]]) as u64;
        let hi = u16::from_le_bytes([b[n - 2], b[n - 1]]) as u64;
        lo | (hi << ((n - 2) * 8))
    } else if n == 1 {
        b[0] as u64
    } else {
        0
    }
}

/// A key of 1 to [`MAX_PACKED`] bytes as one word: the bytes in the low 56
/// bits, the length in the top byte (so keys that differ only by trailing
/// zero bytes stay distinct, and no key packs to 0).
#[inline(always)]
pub(crate) fn pack(b: &[u8]) -> u64 {
    debug_assert!((1..=MAX_PACKED).contains(&b.len()));
    short_word(b) | ((b.len() as u64) << 56)
}

#[inline(always)]
fn word_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes([
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
    ])
}

#[inline(always)]
fn add(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(K)
}

/// Hashes a packed key.
#[inline(always)]
fn hash_packed(key: u64) -> u64 {
    add(add(0, key), 0x9e37_79b9_7f4a_7c15)
}

/// Hashes a byte string, 8 bytes per step (FxHash-like, plus the length).
#[inline]
pub(super) fn hash_bytes(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let mut h = add(0, n as u64);
    if n <= 8 {
        h = add(h, short_word(bytes));
    } else {
        let mut i = 0;
        while i + 8 < n {
            h = add(h, word_at(bytes, i));
            i += 8;
        }
        // The last 8 bytes (overlapping the previous word when `n` is not a
        // multiple of 8).
        h = add(h, word_at(bytes, n - 8));
    }
    // One more mixing round: the table index is taken from the high bits.
    add(h, 0x9e37_79b9_7f4a_7c15)
}

/// `(bits, shift)` of a table for `n` keys at load factor at most 1/2.
fn size_for(n: usize) -> (u32, u32) {
    let bits = (usize::BITS - (n.max(1) * 2 - 1).leading_zeros()).max(4);
    (bits, 64 - bits)
}

/// Maps token bytes to their rank.
pub(crate) struct RankTable {
    /// `(packed key, rank)`; key 0 is an empty slot.
    packed: Vec<(u64, u32)>,
    packed_shift: u32,
    /// `(tag << 32) | rank`, or `EMPTY`.
    slots: Vec<u64>,
    shift: u32,
}

impl RankTable {
    /// Builds the table over ranks `0..offsets.len() - 1`. Returns the first
    /// duplicate rank if two ranks have the same bytes.
    pub(crate) fn build(bytes: &[u8], offsets: &[u32]) -> Result<RankTable, u32> {
        let n = offsets.len() - 1;
        let token = |rank: usize| &bytes[offsets[rank] as usize..offsets[rank + 1] as usize];
        let is_packed = |len: usize| (1..=MAX_PACKED).contains(&len);
        let n_packed = (0..n).filter(|&r| is_packed(token(r).len())).count();
        let (bits, packed_shift) = size_for(n_packed);
        let (long_bits, shift) = size_for(n - n_packed);
        let mut table = RankTable {
            packed: vec![(0, 0); 1usize << bits],
            packed_shift,
            slots: vec![EMPTY; 1usize << long_bits],
            shift,
        };
        for rank in 0..n {
            let key = token(rank);
            if is_packed(key.len()) {
                let mask = table.packed.len() - 1;
                let k = pack(key);
                let mut i = (hash_packed(k) >> table.packed_shift) as usize;
                loop {
                    let (slot, _) = table.packed[i];
                    if slot == 0 {
                        table.packed[i] = (k, rank as u32);
                        break;
                    }
                    if slot == k {
                        return Err(rank as u32);
                    }
                    i = (i + 1) & mask;
                }
                continue;
            }
            let mask = table.slots.len() - 1;
            let h = hash_bytes(key);
            let tag = h >> 32;
            let mut i = (h >> table.shift) as usize;
            loop {
                let slot = table.slots[i];
                if slot == EMPTY {
                    table.slots[i] = (tag << 32) | rank as u64;
                    break;
                }
                if slot >> 32 == tag && token(slot as u32 as usize) == key {
                    return Err(rank as u32);
                }
                i = (i + 1) & mask;
            }
        }
        Ok(table)
    }

    /// The rank of `key` (1 to [`MAX_PACKED`] bytes, packed with [`pack`]),
    /// if it is a token.
    #[inline]
    pub(crate) fn get_packed(&self, key: u64) -> Option<u32> {
        let mask = self.packed.len() - 1;
        let mut i = (hash_packed(key) >> self.packed_shift) as usize;
        loop {
            let (slot, rank) = self.packed[i];
            if slot == key {
                return Some(rank);
            }
            if slot == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// The rank of `key` (empty or longer than [`MAX_PACKED`] bytes), if it
    /// is a token.
    #[inline]
    pub(crate) fn get_long(&self, bytes: &[u8], offsets: &[u32], key: &[u8]) -> Option<u32> {
        let h = hash_bytes(key);
        let tag = h >> 32;
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot >> 32 == tag {
                let rank = slot as u32;
                let r = rank as usize;
                if &bytes[offsets[r] as usize..offsets[r + 1] as usize] == key {
                    return Some(rank);
                }
            }
            i = (i + 1) & mask;
        }
    }
}
